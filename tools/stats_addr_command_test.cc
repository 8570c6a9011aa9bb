// `raftstore stats --addr` (RunStats handing over to RunStatsAddr) against a
// one-connection HTTP server on a thread that serves a crafted /stats page:
// a page of the right shape is printed; a page of another shape (another
// server, another version) is exit 1 naming the address, never a crash.

#include <cstdint>
#include <iostream>
#include <string>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tools/command.h"
#include "tools/testing/one_shot_server.h"

ABSL_DECLARE_FLAG(std::string, addr);
ABSL_DECLARE_FLAG(uint64_t, timeout_ms);
ABSL_DECLARE_FLAG(bool, json);

namespace raftstore::tools {
namespace {

struct Outcome {
  int code = -1;
  std::string out;
  std::string err;
};

Outcome StatsOf(const std::string& page, bool json = false) {
  OneShotServer server;
  server.Serve(absl::StrCat(
      "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n", page));
  absl::SetFlag(&FLAGS_addr, server.address());
  absl::SetFlag(&FLAGS_timeout_ms, 10'000);
  absl::SetFlag(&FLAGS_json, json);
  Outcome run;
  testing::internal::CaptureStdout();
  testing::internal::CaptureStderr();
  run.code = RunStats({});
  run.out = testing::internal::GetCapturedStdout();
  run.err = testing::internal::GetCapturedStderr();
  absl::SetFlag(&FLAGS_addr, "");
  return run;
}

constexpr char kGroup[] =
    R"({"region_id": 1, "term": 2, "snapshot_index": 0,
        "truncated_index": 0, "commit_index": 7, "last_index": 7,
        "applied_index": 7, "role": "leader"})";

std::string Page(const std::string& ids, const std::string& damage) {
  return absl::StrCat("{", ids,
                      R"("wal": {"segments": 1, "bytes": 9, "records": 3,
                                 "damage": )",
                      damage, R"(}, "raft_groups": [)", kGroup, "]}");
}

TEST(StatsAddrCommandTest, PrintsAPageOfTheRightShape) {
  const Outcome run =
      StatsOf(Page(R"("store_id": 4, "cluster_id": 9, )", "\"torn tail\""));
  ASSERT_EQ(run.code, kExitOk) << run.err;
  EXPECT_NE(run.out.find("store 4 of cluster 9\n"), std::string::npos)
      << run.out;
  EXPECT_NE(run.out.find("wal: 1 segments, 9 bytes, 3 records, damage: torn "
                         "tail\n"),
            std::string::npos)
      << run.out;
  EXPECT_NE(run.out.find("  region 1  term 2  snapshot 0  truncated 0  commit "
                         "7  last 7  applied 7  leader\n"),
            std::string::npos)
      << run.out;
}

TEST(StatsAddrCommandTest, ADamageThatIsNotTextIsAnErrorNotACrash) {
  const Outcome run = StatsOf(Page("", "5"));
  EXPECT_EQ(run.code, kExitProblem) << run.out;
  EXPECT_NE(run.err.find("is not a raftstore /stats page"), std::string::npos)
      << run.err;
  EXPECT_NE(run.err.find("damage"), std::string::npos) << run.err;
}

TEST(StatsAddrCommandTest, AStoreIdWithoutAClusterIdIsAnErrorNotACrash) {
  const Outcome run = StatsOf(Page(R"("store_id": 4, )", "null"));
  EXPECT_EQ(run.code, kExitProblem) << run.out;
  EXPECT_NE(run.err.find("cluster_id"), std::string::npos) << run.err;
}

TEST(StatsAddrCommandTest, JsonPrintsThePageAsServed) {
  const Outcome run = StatsOf(Page("", "null"), /*json=*/true);
  ASSERT_EQ(run.code, kExitOk) << run.err;
  EXPECT_NE(run.out.find("\"records\": 3"), std::string::npos) << run.out;
}

}  // namespace
}  // namespace raftstore::tools
