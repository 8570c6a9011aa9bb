// raftstore-node processes on loopback serving clients: a 3-node cluster
// bootstraps and serves puts, gets, scans and CAS through the client
// library over TCP, every replica converging; SIGTERM stops a node with exit
// code 0 and a restart from its data directory keeps everything.

#include <signal.h>

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/node/kv_workload.h"
#include "tests/node/node_process.h"
#include "transport/test_util.h"

namespace raftstore::node_testing {
namespace {

using client::Outcome;

TEST(NodeClusterTest, ThreeNodesServePutsGetsScansAndCas) {
  LocalCluster cluster("serve", 3);
  ASSERT_TRUE(cluster.StartAll());
  ASSERT_NE(cluster.WaitForLeader(), 0U) << cluster.AllLogs();
  transport::TestLoop loop;
  {
    KvSession kv(&loop, ClientOptions(cluster.cluster_id(),
                                      cluster.ClientAddresses(), 1));
    for (int i = 0; i < 20; ++i) {
      const client::Completion put =
          kv.Put(absl::StrFormat("k%02d", i), absl::StrCat("value ", i));
      ASSERT_EQ(put.outcome, Outcome::kOk) << put.error.DebugString();
    }
    for (int i = 0; i < 20; ++i) {
      const client::Completion get = kv.Get(absl::StrFormat("k%02d", i));
      ASSERT_EQ(get.outcome, Outcome::kOk);
      ASSERT_TRUE(get.response.get().found());
      EXPECT_EQ(get.response.get().value(), absl::StrCat("value ", i));
    }
    EXPECT_FALSE(kv.Get("absent").response.get().found());

    kv::KvRequest scan;
    scan.mutable_scan()->set_start_key("k05");
    scan.mutable_scan()->set_end_key("k10");
    const client::Completion scanned = kv.Run(scan);
    ASSERT_EQ(scanned.outcome, Outcome::kOk);
    ASSERT_EQ(scanned.response.scan().pairs_size(), 5);
    EXPECT_EQ(scanned.response.scan().pairs(0).key(), "k05");
    EXPECT_EQ(scanned.response.scan().pairs(4).value(), "value 9");

    kv::KvRequest cas;
    cas.mutable_compare_and_swap()->set_key("k00");
    cas.mutable_compare_and_swap()->set_expected_value("value 0");
    cas.mutable_compare_and_swap()->set_new_value("swapped");
    const client::Completion swapped = kv.Run(cas);
    ASSERT_EQ(swapped.outcome, Outcome::kOk);
    EXPECT_TRUE(swapped.response.compare_and_swap().succeeded());
    const client::Completion again = kv.Run(cas);  // a new sequence: fails
    ASSERT_EQ(again.outcome, Outcome::kOk);
    EXPECT_FALSE(again.response.compare_and_swap().succeeded());
    EXPECT_EQ(again.response.compare_and_swap().previous_value(), "swapped");
  }
  const uint64_t leader = cluster.LeaderStore();
  ASSERT_NE(leader, 0U);
  std::optional<nlohmann::json> stats = cluster.Stats(leader);
  ASSERT_TRUE(stats.has_value());
  EXPECT_GE((*stats)["store"]["writes_applied"].get<uint64_t>(), 21U);
  EXPECT_GE((*stats)["node"]["storage_syncs"].get<uint64_t>(), 1U);
  EXPECT_EQ((*stats)["regions"]["running"], 1);
  const uint64_t applied =
      (*stats)["raft_groups"][0]["applied_index"].get<uint64_t>();
  EXPECT_TRUE(cluster.WaitConverged(1, applied, kLeaderMsMax))
      << cluster.AllLogs();
  // The metrics page of a follower is served too.
  const uint64_t follower = leader == 1 ? 2 : 1;
  absl::StatusOr<std::string> metrics =
      HttpGet(cluster.node(follower).admin_port, "/metrics");
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  EXPECT_TRUE(absl::StrContains(*metrics, "raftstore_region_leaders 0\n"));
  EXPECT_TRUE(
      absl::StrContains(*metrics, "raftstore_regions{state=\"running\"} 1"));
  for (uint64_t store = 1; store <= 3; ++store) {
    EXPECT_EQ(cluster.Terminate(store), 0) << cluster.Log(store);
  }
}

TEST(NodeClusterTest, SigtermExitsZeroAndARestartKeepsEverything) {
  LocalCluster cluster("sigterm", 1);
  ASSERT_TRUE(cluster.StartAll());
  ASSERT_EQ(cluster.WaitForLeader(), 1U) << cluster.AllLogs();
  transport::TestLoop loop;
  const runtime::TcpKvClientOptions options =
      ClientOptions(cluster.cluster_id(), cluster.ClientAddresses(), 2);
  {
    KvSession kv(&loop, options);
    for (int i = 0; i < 10; ++i) {
      ASSERT_EQ(kv.Put(absl::StrCat("key", i), absl::StrCat("v", i)).outcome,
                Outcome::kOk);
    }
  }
  EXPECT_EQ(cluster.Terminate(1), 0) << cluster.Log(1);
  EXPECT_TRUE(absl::StrContains(cluster.Log(1), "SIGTERM: stopping"));
  EXPECT_TRUE(absl::StrContains(cluster.Log(1), "store 1 stopped"));
  ASSERT_TRUE(cluster.Start(1));
  ASSERT_EQ(cluster.WaitForLeader(), 1U) << cluster.Log(1);
  {
    KvSession kv(&loop, options);
    for (int i = 0; i < 10; ++i) {
      const client::Completion get = kv.Get(absl::StrCat("key", i));
      ASSERT_EQ(get.outcome, Outcome::kOk);
      ASSERT_TRUE(get.response.get().found()) << "key" << i;
      EXPECT_EQ(get.response.get().value(), absl::StrCat("v", i));
    }
  }
  // SIGINT stops it the same way.
  cluster.node(1).process->Signal(SIGINT);
  EXPECT_EQ(cluster.node(1).process->Wait(60'000), 0) << cluster.Log(1);
}

}  // namespace
}  // namespace raftstore::node_testing
