// kill -9 under load: three raftstore-node processes serve concurrent
// clients; the leader is killed, writes continue under a new leader, the old
// leader restarts and catches up; then a follower the same; then all three
// at once. No write
// acknowledged to a client is lost (every acknowledged write-once key reads
// back its value), the recorded history of every client passes the
// project's linearizability checker (sim/history), and every replica ends
// with the same applied index and state digest.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "sim/history/linearizability.h"
#include "tests/node/kv_workload.h"
#include "tests/node/node_process.h"
#include "transport/test_util.h"

namespace raftstore::node_testing {
namespace {

constexpr int kClients = 6;
constexpr int kHotKeys = 4;
// Acknowledged operations to see after each fault before the next step:
// progress is the proof that the cluster recovered, so no step waits a
// fixed time.
constexpr uint64_t kProgressOps = 100;
constexpr uint64_t kProgressMsMax = 90'000;

bool Progress(Workload& workload, uint64_t more) {
  return workload.RunUntilMoreOk(more, kProgressMsMax);
}

TEST(NodeCrashTest, KillNineTheLeaderThenAFollowerLosesNothingAcknowledged) {
  LocalCluster cluster("crash", 3);
  ASSERT_TRUE(cluster.StartAll());
  ASSERT_NE(cluster.WaitForLeader(), 0U) << cluster.AllLogs();
  transport::TestLoop loop;
  Workload workload(
      &loop, ClientOptions(cluster.cluster_id(), cluster.ClientAddresses(), 7),
      kClients, kHotKeys, /*seed=*/11);
  workload.Start();
  ASSERT_TRUE(Progress(workload, kProgressOps)) << cluster.AllLogs();

  // The leader dies mid-write; the others elect and go on.
  const uint64_t leader = cluster.LeaderStore();
  ASSERT_NE(leader, 0U);
  cluster.Kill(leader);
  ASSERT_TRUE(Progress(workload, kProgressOps))
      << "no progress after killing leader " << leader << "\n"
      << cluster.AllLogs();
  const uint64_t new_leader = cluster.WaitForLeader();
  ASSERT_NE(new_leader, 0U);
  EXPECT_NE(new_leader, leader);

  // It restarts from its data directory and catches up.
  ASSERT_TRUE(cluster.Start(leader));
  ASSERT_TRUE(Progress(workload, kProgressOps)) << cluster.AllLogs();
  const uint64_t applied = cluster.AppliedIndex(new_leader);
  ASSERT_TRUE(workload.RunUntil(
      [&] { return cluster.AppliedIndex(leader) >= applied; }, kProgressMsMax))
      << "restarted store " << leader << " never caught up\n"
      << cluster.Log(leader);

  // Now a follower.
  const uint64_t current = cluster.WaitForLeader();
  ASSERT_NE(current, 0U);
  const uint64_t follower = current == 1 ? 2 : 1;
  cluster.Kill(follower);
  ASSERT_TRUE(Progress(workload, kProgressOps)) << cluster.AllLogs();
  ASSERT_TRUE(cluster.Start(follower));
  ASSERT_TRUE(Progress(workload, kProgressOps)) << cluster.AllLogs();

  // The whole cluster at once, clients still writing: everything comes
  // back from the data directories.
  for (uint64_t store = 1; store <= 3; ++store) cluster.Kill(store);
  ASSERT_TRUE(cluster.StartAll());
  ASSERT_TRUE(Progress(workload, kProgressOps)) << cluster.AllLogs();

  workload.StopIssuing();
  ASSERT_TRUE(workload.RunUntil([&] { return workload.idle(); }, 60'000));
  const std::vector<std::string> lost = workload.ReadBack();
  EXPECT_TRUE(lost.empty()) << absl::StrJoin(lost, "\n");
  EXPECT_GT(workload.acked_once().size(), 10U);

  const sim::LinearizabilityResult result =
      sim::CheckLinearizability(workload.history().operations());
  EXPECT_EQ(result.verdict, sim::Verdict::kOk) << result.Summary();
  std::cout << "operations " << workload.history().operations().size()
            << ", ok " << workload.ok() << ", unknown " << workload.unknown()
            << ", failed " << workload.failed() << ", write-once acked "
            << workload.acked_once().size() << ", verdict "
            << sim::VerdictName(result.verdict) << "\n";

  // Every replica converges on the same state.
  const uint64_t final_leader = cluster.WaitForLeader();
  ASSERT_NE(final_leader, 0U);
  EXPECT_TRUE(cluster.WaitConverged(1, cluster.AppliedIndex(final_leader),
                                    kProgressMsMax))
      << cluster.AllLogs();
  for (uint64_t store = 1; store <= 3; ++store) {
    EXPECT_EQ(cluster.Terminate(store), 0) << cluster.Log(store);
  }
}

}  // namespace
}  // namespace raftstore::node_testing
