// Smoke test of `raftstore bench` (RunBench): a real 3-node cluster of
// raftstore-node processes, 2 clients for 1 s. It checks that the command
// runs end to end and prints a table row, never a speed.

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>

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
  // "      2      1234     0.70 ..." with zero failed and zero unknown, and
  // puts/sync read from the nodes' /metrics (a number, not a dash).
  EXPECT_TRUE(std::regex_search(
      out,
      std::regex(
          R"(\n +2 +[0-9]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ +0/0 +[0-9]+\.[0-9] )")))
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

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Ctrl-C during a long row ends the run within seconds: no new put starts,
// the row so far is printed and the nodes are stopped. (The row alone would
// take two minutes.)
TEST(BenchCommandTest, AnInterruptEndsALongRowEarly) {
  const fs::path data = fs::path(std::getenv("TEST_TMPDIR")) / "interrupted";
  absl::SetFlag(&FLAGS_clients, 2);
  absl::SetFlag(&FLAGS_seconds, 120.0);
  absl::SetFlag(&FLAGS_node_binary, NodeBinary());
  absl::SetFlag(&FLAGS_data_dir, data.string());
  using Clock = std::chrono::steady_clock;
  // RunBench's handler is installed before the data directory exists; the
  // nodes' logs appear once the 4 s fdatasync probes are done. A leader
  // takes 1-2 s more: by 10 s after that the row is running (on a machine
  // so slow it is not, the interrupt ends the leader wait instead).
  std::thread interrupter([&data] {
    const Clock::time_point give_up = Clock::now() + std::chrono::minutes(2);
    while (!fs::exists(data / "node1.log") && Clock::now() < give_up) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    std::this_thread::sleep_for(std::chrono::seconds(10));
    ::kill(::getpid(), SIGINT);
  });
  const Clock::time_point start = Clock::now();
  testing::internal::CaptureStdout();
  const int code = RunBench({});
  const std::string out = testing::internal::GetCapturedStdout();
  const auto elapsed = Clock::now() - start;
  interrupter.join();
  std::cerr << out;
  EXPECT_EQ(code, kExitProblem) << out;
  // Probes 4 s, start and leader, 10 s of load, the puts in flight: far
  // below the 120 s row.
  EXPECT_LT(elapsed, std::chrono::seconds(60));
  // The row so far is printed.
  EXPECT_TRUE(std::regex_search(out, std::regex(R"(\n +2 +[0-9]+ )"))) << out;
  // The nodes were stopped (a stopped node logs it).
  EXPECT_NE(ReadFile(data / "node1.log").find("stopped"), std::string::npos);
}

}  // namespace
}  // namespace raftstore::tools
