// A storage failure stops the node: a raftstore-node whose files may not
// grow past a limit (ulimit -f, so its writes fail with EFBIG, as on a full
// disk) takes puts until its WAL reaches the limit, then exits with code 1
// and a log line naming the step and the segment file. Restarted without
// the limit, it has every write it acknowledged.

#include <cstdint>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tests/node/kv_workload.h"
#include "tests/node/node_process.h"
#include "transport/test_util.h"

namespace raftstore::node_testing {
namespace {

// 1 MiB: the manifest, the first WAL segment's header and a few hundred
// 1 KiB puts fit; a few thousand do not.
constexpr uint64_t kFileSizeBlocks = 2048;
constexpr int kPutsMax = 20'000;

TEST(NodeDiskFullTest, AFullDiskStopsTheNodeAndLosesNothingAcknowledged) {
  LocalCluster cluster("disk_full", 1);
  cluster.node(1).file_size_blocks = kFileSizeBlocks;
  ASSERT_TRUE(cluster.StartAll());
  ASSERT_EQ(cluster.WaitForLeader(), 1U) << cluster.Log(1);
  transport::TestLoop loop;
  const runtime::TcpKvClientOptions options =
      ClientOptions(cluster.cluster_id(), cluster.ClientAddresses(), 5);
  std::vector<std::string> acked;
  const std::string value(1024, 'v');
  {
    KvSession kv(&loop, options);
    for (int i = 0; i < kPutsMax && cluster.running(1); ++i) {
      const std::string key = absl::StrCat("key", i);
      const client::Completion put =
          kv.Run(PutOp(key, absl::StrCat(key, value)), 3'000);
      if (put.outcome != client::Outcome::kOk) break;
      acked.push_back(key);
    }
  }
  EXPECT_GT(acked.size(), 100U);
  ASSERT_EQ(cluster.node(1).process->Wait(60'000), 1) << cluster.Log(1);
  const std::string log = cluster.Log(1);
  EXPECT_TRUE(absl::StrContains(log, "fatal: storage failed")) << log;
  EXPECT_TRUE(absl::StrContains(log, "wal-0000")) << log;
  for (absl::string_view line : absl::StrSplit(log, '\n')) {
    if (absl::StrContains(line, "fatal")) std::cout << line << "\n";
  }
  std::cout << acked.size() << " puts acknowledged before the disk filled\n";

  cluster.node(1).file_size_blocks = 0;
  ASSERT_TRUE(cluster.Start(1));
  ASSERT_EQ(cluster.WaitForLeader(), 1U) << cluster.Log(1);
  KvSession kv(&loop, options);
  for (const std::string& key : acked) {
    const client::Completion get = kv.Get(key);
    ASSERT_EQ(get.outcome, client::Outcome::kOk) << key;
    ASSERT_TRUE(get.response.get().found()) << key << " was acknowledged";
    EXPECT_EQ(get.response.get().value(), absl::StrCat(key, value));
  }
  EXPECT_EQ(cluster.Terminate(1), 0) << cluster.Log(1);
}

}  // namespace
}  // namespace raftstore::node_testing
