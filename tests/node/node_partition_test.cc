// Partitions under load: three raftstore-node processes serve concurrent
// clients while one store at a time is cut off from the others (its raft
// traffic dropped both ways, TcpTransport::BlockPeer through the admin
// endpoint's chaos paths; its client port stays reachable). A cut-off
// follower falls behind and catches up once healed; a cut-off leader loses
// its leadership to the majority side and serves no stale read meanwhile.
// The recorded history passes the linearizability checker and every
// acknowledged write-once key reads back.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "sim/history/linearizability.h"
#include "tests/node/kv_workload.h"
#include "tests/node/node_process.h"
#include "transport/test_util.h"

namespace raftstore::node_testing {
namespace {

constexpr uint64_t kProgressOps = 100;
constexpr uint64_t kProgressMsMax = 90'000;

bool Progress(Workload& workload, uint64_t more) {
  return workload.RunUntilMoreOk(more, kProgressMsMax);
}

TEST(NodePartitionTest,
     CutOffFollowerAndLeaderRecoverWithALinearizableHistory) {
  LocalCluster cluster("partition", 3);
  ASSERT_TRUE(cluster.StartAll());
  ASSERT_NE(cluster.WaitForLeader(), 0U) << cluster.AllLogs();
  transport::TestLoop loop;
  Workload workload(
      &loop, ClientOptions(cluster.cluster_id(), cluster.ClientAddresses(), 9),
      /*clients=*/6, /*hot_keys=*/4, /*seed=*/21);
  workload.Start();
  ASSERT_TRUE(Progress(workload, kProgressOps)) << cluster.AllLogs();

  // A follower cut off: the majority goes on without it.
  const uint64_t leader = cluster.WaitForLeader();
  ASSERT_NE(leader, 0U);
  const uint64_t follower = leader == 1 ? 2 : 1;
  ASSERT_TRUE(cluster.Isolate(follower, true));
  ASSERT_TRUE(Progress(workload, kProgressOps)) << cluster.AllLogs();
  ASSERT_TRUE(cluster.Isolate(follower, false));
  const uint64_t applied = cluster.AppliedIndex(leader);
  ASSERT_TRUE(workload.RunUntil(
      [&] { return cluster.AppliedIndex(follower) >= applied; },
      kProgressMsMax))
      << "store " << follower << " never caught up\n"
      << cluster.Log(follower);

  // The leader cut off: the other two elect, writes go on there.
  const uint64_t old_leader = cluster.WaitForLeader();
  ASSERT_NE(old_leader, 0U);
  ASSERT_TRUE(cluster.Isolate(old_leader, true));
  ASSERT_TRUE(Progress(workload, kProgressOps)) << cluster.AllLogs();
  ASSERT_TRUE(cluster.Isolate(old_leader, false));
  ASSERT_TRUE(Progress(workload, kProgressOps)) << cluster.AllLogs();

  workload.StopIssuing();
  ASSERT_TRUE(workload.RunUntil([&] { return workload.idle(); }, 60'000));
  const std::vector<std::string> lost = workload.ReadBack();
  EXPECT_TRUE(lost.empty()) << absl::StrJoin(lost, "\n");
  const sim::LinearizabilityResult result =
      sim::CheckLinearizability(workload.history().operations());
  EXPECT_EQ(result.verdict, sim::Verdict::kOk) << result.Summary();
  std::cout << "operations " << workload.history().operations().size()
            << ", ok " << workload.ok() << ", unknown " << workload.unknown()
            << ", failed " << workload.failed() << ", verdict "
            << sim::VerdictName(result.verdict) << "\n";

  const uint64_t final_leader = cluster.WaitForLeader();
  ASSERT_NE(final_leader, 0U);
  EXPECT_TRUE(cluster.WaitConverged(1, cluster.AppliedIndex(final_leader),
                                    kProgressMsMax))
      << cluster.AllLogs();
  std::optional<nlohmann::json> stats = cluster.Stats(old_leader);
  ASSERT_TRUE(stats.has_value());
  EXPECT_GT((*stats)["transport"]["drops_blocked"].get<uint64_t>(), 0U);
  for (uint64_t store = 1; store <= 3; ++store) {
    EXPECT_EQ(cluster.Terminate(store), 0) << cluster.Log(store);
  }
}

}  // namespace
}  // namespace raftstore::node_testing
