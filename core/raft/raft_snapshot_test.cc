// Snapshots (thesis §5.1): sending one when the follower's next entry is
// compacted, installing it, ignoring stale ones, and the leader's handling
// of the driver's success and failure reports.
#include <string>
#include <vector>

#include "core/raft/raft.h"
#include "core/raft/raft_test_network.h"
#include "gtest/gtest.h"

namespace raftstore::raft {
namespace {

using testing::TestNetwork;

// A three-node group where 3 missed "a".."e" and the leader (1) compacted
// them away.
class SnapshotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    net_.Campaign(1);
    net_.Isolate(3);
    for (const char* data : {"a", "b", "c", "d", "e"}) net_.Propose(1, data);
    ASSERT_EQ(net_.applied_index(1), 6u);
    net_.SnapshotAndCompact(1, 6);
    ASSERT_EQ(net_.storage(1).FirstIndex(), 7u);
    net_.Heal();
  }

  // 3's answers are lost once it has installed the snapshot, and nobody
  // reports on the snapshot: the leader keeps it pending.
  void LoseAnswersAfterSnapshot() {
    net_.set_report_snapshots(false);
    net_.SetDropFilter([this](const Message& m) {
      return m.from() == 3 && net_.raft(3).log().committed() >= 6;
    });
  }

  // Ticks the leader once and lets the network settle.
  void Heartbeat() {
    net_.Tick(1);
    net_.Stabilize();
  }

  TestNetwork net_{{1, 2, 3}};
};

TEST_F(SnapshotTest, LaggingFollowerReceivesAndInstallsSnapshot) {
  Heartbeat();
  EXPECT_EQ(net_.applied_index(3), 6u);
  EXPECT_EQ(net_.raft(3).log().committed(), 6u);
  EXPECT_EQ(net_.storage(3).FirstIndex(), 7u);
  // Replication resumes after the snapshot.
  net_.Propose(1, "f");
  EXPECT_EQ(net_.AppliedData(3), std::vector<std::string>{"f"});
  EXPECT_EQ(net_.raft(1).tracker().GetProgress(3)->state(),
            ProgressState::kReplicate);
}

TEST_F(SnapshotTest, ReplicationToFollowerPausesWhileSnapshotPending) {
  LoseAnswersAfterSnapshot();
  Heartbeat();
  const Progress* pr = net_.raft(1).tracker().GetProgress(3);
  ASSERT_EQ(pr->state(), ProgressState::kSnapshot);
  EXPECT_EQ(pr->pending_snapshot(), 6u);
  net_.sent().clear();
  net_.Propose(1, "f");
  for (const Message& m : net_.sent()) {
    EXPECT_FALSE(m.to() == 3 && m.type() == MESSAGE_TYPE_APPEND);
  }
}

TEST_F(SnapshotTest, DriverReportsSuccessAndFollowerResumesProbing) {
  LoseAnswersAfterSnapshot();
  Heartbeat();
  ASSERT_EQ(net_.raft(1).tracker().GetProgress(3)->state(),
            ProgressState::kSnapshot);
  net_.node(1).ReportSnapshot(3, true);
  const Progress* pr = net_.raft(1).tracker().GetProgress(3);
  EXPECT_EQ(pr->state(), ProgressState::kProbe);
  EXPECT_EQ(pr->next(), 7u);
  net_.Heal();
  Heartbeat();
  net_.Propose(1, "f");
  EXPECT_EQ(net_.AppliedData(3), std::vector<std::string>{"f"});
}

TEST_F(SnapshotTest, FailedSnapshotIsRetried) {
  // The network drops the snapshot and reports the failure to the leader.
  net_.SetDropFilter(
      [](const Message& m) { return m.type() == MESSAGE_TYPE_SNAPSHOT; });
  Heartbeat();
  const Progress* pr = net_.raft(1).tracker().GetProgress(3);
  EXPECT_EQ(pr->state(), ProgressState::kProbe);
  EXPECT_EQ(pr->next(), pr->match() + 1);
  EXPECT_EQ(net_.applied_index(3), 1u);
  net_.Heal();
  Heartbeat();
  Heartbeat();
  EXPECT_EQ(net_.applied_index(3), 6u);
}

TEST_F(SnapshotTest, StaleSnapshotIsIgnoredAndCounted) {
  Heartbeat();
  ASSERT_EQ(net_.raft(3).log().committed(), 6u);
  Message m;
  m.set_type(MESSAGE_TYPE_SNAPSHOT);
  m.set_to(3);
  m.set_from(1);
  m.set_term(1);
  m.mutable_snapshot()->mutable_metadata()->set_index(4);
  m.mutable_snapshot()->mutable_metadata()->set_term(1);
  m.mutable_snapshot()->mutable_metadata()->mutable_conf_state()->add_voters(3);
  ASSERT_TRUE(net_.node(3).Step(m).ok());
  EXPECT_EQ(net_.raft(3).counters().stale_snapshot, 1u);
  EXPECT_EQ(net_.raft(3).log().committed(), 6u);
  const Ready rd = net_.node(3).GetReady();
  EXPECT_FALSE(rd.snapshot.has_value());
  ASSERT_EQ(rd.messages.size(), 1u);
  EXPECT_EQ(rd.messages[0].index(), 6u);  // tells the leader where it is
}

TEST_F(SnapshotTest, SnapshotExcludingReceiverIsIgnored) {
  Message m;
  m.set_type(MESSAGE_TYPE_SNAPSHOT);
  m.set_to(3);
  m.set_from(1);
  m.set_term(1);
  m.mutable_snapshot()->mutable_metadata()->set_index(10);
  m.mutable_snapshot()->mutable_metadata()->set_term(1);
  m.mutable_snapshot()->mutable_metadata()->mutable_conf_state()->add_voters(1);
  ASSERT_TRUE(net_.node(3).Step(m).ok());
  EXPECT_EQ(net_.raft(3).counters().stale_snapshot, 1u);
  EXPECT_EQ(net_.raft(3).log().committed(), 1u);
}

TEST(SnapshotRestoreTest, SnapshotMatchingTheLogOnlyAdvancesCommit) {
  // 2 holds entries 1..3 of term 1, none known committed; a snapshot at 2
  // (term 1) must commit up to 2 and keep the log, entry 3 included.
  TestNetwork net({1, 2});
  std::vector<Entry> entries(3);
  for (uint64_t i = 0; i < 3; ++i) {
    entries[i].set_index(i + 1);
    entries[i].set_term(1);
    entries[i].set_type(ENTRY_TYPE_NORMAL);
  }
  ASSERT_TRUE(net.storage(2).Append(entries).ok());
  HardState hs;
  hs.set_term(1);
  net.storage(2).SetHardState(hs);
  net.Restart(2);
  Message m;
  m.set_type(MESSAGE_TYPE_SNAPSHOT);
  m.set_to(2);
  m.set_from(1);
  m.set_term(1);
  SnapshotMetadata* meta = m.mutable_snapshot()->mutable_metadata();
  meta->set_index(2);
  meta->set_term(1);
  meta->mutable_conf_state()->add_voters(1);
  meta->mutable_conf_state()->add_voters(2);
  ASSERT_TRUE(net.node(2).Step(m).ok());
  EXPECT_EQ(net.raft(2).log().committed(), 2u);
  EXPECT_EQ(net.raft(2).log().LastIndex(), 3u);
  const Ready rd = net.node(2).GetReady();
  EXPECT_FALSE(rd.snapshot.has_value());
  ASSERT_EQ(rd.committed_entries.size(), 2u);
}

TEST_F(SnapshotTest, FollowerRestartsFromInstalledSnapshot) {
  Heartbeat();
  net_.Restart(3);
  EXPECT_EQ(net_.raft(3).log().FirstIndex(), 7u);
  EXPECT_EQ(net_.raft(3).log().committed(), 6u);
  net_.Propose(1, "f");
  EXPECT_EQ(net_.AppliedData(3), std::vector<std::string>{"f"});
}

TEST(SnapshotRestoreTest, SnapshotNewerThanLogReplacesIt) {
  TestNetwork net({1, 2});
  Message m;
  m.set_type(MESSAGE_TYPE_SNAPSHOT);
  m.set_to(2);
  m.set_from(1);
  m.set_term(3);
  SnapshotMetadata* meta = m.mutable_snapshot()->mutable_metadata();
  meta->set_index(11);
  meta->set_term(2);
  meta->mutable_conf_state()->add_voters(1);
  meta->mutable_conf_state()->add_voters(2);
  ASSERT_TRUE(net.node(2).Step(m).ok());
  EXPECT_EQ(net.raft(2).log().LastIndex(), 11u);
  EXPECT_EQ(net.raft(2).log().committed(), 11u);
  EXPECT_EQ(net.raft(2).term(), 3u);
  EXPECT_EQ(net.raft(2).leader(), 1u);
  const Ready rd = net.node(2).GetReady();
  ASSERT_TRUE(rd.snapshot.has_value());
  EXPECT_TRUE(rd.must_sync);
  EXPECT_TRUE(rd.committed_entries.empty());
  ASSERT_EQ(rd.messages.size(), 1u);
  EXPECT_EQ(rd.messages[0].index(), 11u);
}

}  // namespace
}  // namespace raftstore::raft
