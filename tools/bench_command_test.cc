// Smoke test of `raftstore bench` (RunBench): a real 3-node cluster of
// raftstore-node processes, 2 clients for 1 s. It checks that the command
// runs end to end and prints a table row, never a speed.

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <optional>
#include <regex>
#include <string>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "gtest/gtest.h"
#include "tools/command.h"

ABSL_DECLARE_FLAG(std::optional<int>, clients);
ABSL_DECLARE_FLAG(std::string, client_counts);
ABSL_DECLARE_FLAG(double, seconds);
ABSL_DECLARE_FLAG(std::string, node_binary);
ABSL_DECLARE_FLAG(std::string, data_dir);

namespace raftstore::tools {

namespace {

namespace fs = std::filesystem;

std::string NodeBinary() {
  return std::string(std::getenv("TEST_SRCDIR")) +
         "/raftstore/runtime/raftstore-node";
}

TEST(BenchCommandTest, PrintsARowAndCleansUp) {
  const fs::path data = fs::path(std::getenv("TEST_TMPDIR")) / "bench-data";
  absl::SetFlag(&FLAGS_clients, 2);
  absl::SetFlag(&FLAGS_seconds, 1.0);
  absl::SetFlag(&FLAGS_node_binary, NodeBinary());
  absl::SetFlag(&FLAGS_data_dir, data.string());
  testing::internal::CaptureStdout();
  const int code = RunBench({});
  const std::string out = testing::internal::GetCapturedStdout();
  std::cerr << out;  // the table, in the test log
  ASSERT_EQ(code, kExitOk) << out;
  EXPECT_NE(out.find("raw fdatasync"), std::string::npos) << out;
  // "      2      1234     0.70 ..." with zero failed and zero unknown.
  EXPECT_TRUE(std::regex_search(
      out, std::regex(R"(\n +2 +[0-9]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ +0/0 )")))
      << out;
  // The given data directory is kept, with each node's log; the nodes ran.
  EXPECT_TRUE(fs::exists(data / "node1.log"));
  EXPECT_TRUE(fs::exists(data / "node3" / "CURRENT"));
}

TEST(BenchCommandTest, RefusesANonEmptyDataDir) {
  const fs::path data = fs::path(std::getenv("TEST_TMPDIR")) / "not-empty";
  fs::create_directories(data / "something");
  absl::SetFlag(&FLAGS_data_dir, data.string());
  absl::SetFlag(&FLAGS_node_binary, NodeBinary());
  EXPECT_EQ(RunBench({}), kExitUsage);
}

TEST(BenchCommandTest, RefusesBadFlags) {
  absl::SetFlag(&FLAGS_node_binary, NodeBinary());
  absl::SetFlag(&FLAGS_data_dir, "");
  absl::SetFlag(&FLAGS_clients, std::nullopt);
  absl::SetFlag(&FLAGS_client_counts, "1,x");
  EXPECT_EQ(RunBench({}), kExitUsage);
  absl::SetFlag(&FLAGS_client_counts, "1");
  absl::SetFlag(&FLAGS_node_binary, "/nonexistent/raftstore-node");
  EXPECT_EQ(RunBench({}), kExitUsage);
  absl::SetFlag(&FLAGS_node_binary, NodeBinary());
  absl::SetFlag(&FLAGS_seconds, 0.0);
  EXPECT_EQ(RunBench({}), kExitUsage);
  absl::SetFlag(&FLAGS_seconds, 1.0);
  EXPECT_EQ(RunBench({"extra"}), kExitUsage);
}

}  // namespace
}  // namespace raftstore::tools
