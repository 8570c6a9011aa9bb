// Membership changes (thesis §4.1-4.3): learners, adding and removing
// voters, joint consensus with automatic and explicit leave, removing the
// leader, and commitment when the quorum shrinks.
#include <string>
#include <vector>

#include "core/raft/confchange/confchange.h"
#include "core/raft/raft.h"
#include "core/raft/raft_test_network.h"
#include "gtest/gtest.h"

namespace raftstore::raft {
namespace {

using testing::TestNetwork;

// A ConfChange from the compact text of confchange::ParseConfChanges
// ("v4 r3"), with the given transition.
ConfChange Change(const std::string& text, ConfChangeTransition transition =
                                               CONF_CHANGE_TRANSITION_AUTO) {
  absl::StatusOr<std::vector<ConfChangeSingle>> changes =
      confchange::ParseConfChanges(text);
  EXPECT_TRUE(changes.ok()) << changes.status();
  ConfChange cc;
  cc.set_transition(transition);
  for (const ConfChangeSingle& single : *changes) *cc.add_changes() = single;
  return cc;
}

std::vector<uint64_t> Voters(const ConfState& cs) {
  return {cs.voters().begin(), cs.voters().end()};
}
std::vector<uint64_t> Outgoing(const ConfState& cs) {
  return {cs.voters_outgoing().begin(), cs.voters_outgoing().end()};
}
std::vector<uint64_t> Learners(const ConfState& cs) {
  return {cs.learners().begin(), cs.learners().end()};
}

void Heartbeats(TestNetwork& net, uint64_t leader, int count) {
  for (int i = 0; i < count; ++i) {
    net.Tick(leader);
    net.Stabilize();
  }
}

// Adds node `id` (started empty) with `text`: while it is unreachable the
// change commits, the leader compacts its log, and the new node then
// learns the group from a snapshot that includes it.
void AddThroughSnapshot(TestNetwork& net, uint64_t leader, uint64_t id,
                        const std::string& text) {
  net.AddEmptyNode(id);
  net.Isolate(id);
  ASSERT_EQ(net.ProposeConfChange(leader, Change(text)), ProposeResult::kOk);
  net.SnapshotAndCompact(leader, net.applied_index(leader));
  net.Heal();
  Heartbeats(net, leader, 3);
}

TEST(ConfChangeTest, LearnerReplicatesButIsNotCountedForCommit) {
  TestNetwork net({1, 2}, {3});
  net.Campaign(1);
  net.Isolate(2);
  net.Propose(1, "a");
  // 3 acknowledged, but a learner's acknowledgement commits nothing.
  EXPECT_EQ(net.raft(3).log().LastIndex(), 2u);
  EXPECT_EQ(net.raft(1).log().committed(), 1u);
  net.Heal();
  Heartbeats(net, 1, 1);
  EXPECT_EQ(net.AppliedData(3), std::vector<std::string>{"a"});
}

TEST(ConfChangeTest, AddedVoterLearnsGroupFromSnapshotAndVotes) {
  TestNetwork net({1, 2, 3});
  net.Campaign(1);
  AddThroughSnapshot(net, 1, 4, "v4");
  EXPECT_EQ(Voters(net.conf_state(1)), (std::vector<uint64_t>{1, 2, 3, 4}));
  EXPECT_EQ(Voters(net.conf_state(4)), (std::vector<uint64_t>{1, 2, 3, 4}));
  EXPECT_TRUE(net.raft(4).Promotable());
  net.Propose(1, "a");
  EXPECT_EQ(net.AppliedData(4), std::vector<std::string>{"a"});
  // Four voters: 1 and 4 alone are no majority.
  net.Isolate(2);
  net.Isolate(3);
  net.Propose(1, "b");
  EXPECT_EQ(net.AppliedData(1), std::vector<std::string>{"a"});
}

TEST(ConfChangeTest, PromotedLearnerStartsCounting) {
  TestNetwork net({1, 2}, {3});
  net.Campaign(1);
  ASSERT_EQ(net.ProposeConfChange(1, Change("v3")), ProposeResult::kOk);
  EXPECT_EQ(Voters(net.conf_state(3)), (std::vector<uint64_t>{1, 2, 3}));
  net.Isolate(2);
  net.Propose(1, "a");
  EXPECT_EQ(net.AppliedData(1), std::vector<std::string>{"a"});
}

TEST(ConfChangeTest, OnlyOneConfChangeIsPendingAtATime) {
  TestNetwork net({1, 2, 3}, {4});
  net.Campaign(1);
  EXPECT_EQ(net.node(1).ProposeConfChange(Change("v4")), ProposeResult::kOk);
  EXPECT_EQ(net.node(1).ProposeConfChange(Change("r2")),
            ProposeResult::kConfChangePending);
  net.Stabilize();
  EXPECT_EQ(net.ProposeConfChange(1, Change("r2")), ProposeResult::kOk);
  EXPECT_EQ(Voters(net.conf_state(1)), (std::vector<uint64_t>{1, 3, 4}));
}

TEST(ConfChangeTest, NewLeaderWaitsForEarlierEntriesBeforeConfChange) {
  TestNetwork net({1, 2, 3});
  net.Campaign(1);
  // "b" reaches 2 but is never known committed.
  net.Isolate(3);
  net.SetDropFilter([](const Message& m) {
    return m.type() == MESSAGE_TYPE_APPEND_RESPONSE;
  });
  net.Propose(1, "b");
  // 2 becomes leader, but its entries do not get through yet: its log may
  // hold a conf change of an earlier term (here it holds "b"), so it must
  // apply everything before proposing one.
  net.Heal();
  net.Isolate(1);
  net.SetDropFilter(
      [](const Message& m) { return m.type() == MESSAGE_TYPE_APPEND; });
  net.Campaign(2);
  ASSERT_EQ(net.raft(2).role(), Role::kLeader);
  EXPECT_EQ(net.ProposeConfChange(2, Change("r1")),
            ProposeResult::kConfChangePending);
  net.Heal();
  net.Isolate(1);
  Heartbeats(net, 2, 1);
  EXPECT_EQ(net.AppliedData(2), std::vector<std::string>{"b"});
  EXPECT_EQ(net.ProposeConfChange(2, Change("r1")), ProposeResult::kOk);
}

TEST(ConfChangeTest, MalformedConfChangesAreRefused) {
  TestNetwork net({1, 2, 3});
  net.Campaign(1);
  // Two voters at once without joint consensus is refused by the changer.
  EXPECT_EQ(net.ProposeConfChange(
                1, Change("r2 r3", CONF_CHANGE_TRANSITION_UNSPECIFIED)),
            ProposeResult::kInvalid);
  // Leaving a joint configuration we are not in.
  EXPECT_EQ(net.ProposeConfChange(1, ConfChange()), ProposeResult::kInvalid);
  EXPECT_EQ(net.ProposeConfChange(1, Change("r1 r2 r3")),
            ProposeResult::kInvalid);
}

TEST(ConfChangeTest, RemovingVoterShrinksQuorumAndCommitsWaitingEntries) {
  TestNetwork net({1, 2});
  net.Campaign(1);
  net.Isolate(2);
  net.Propose(1, "a");
  ASSERT_EQ(net.raft(1).log().committed(), 1u);
  // As if a removal of 2 had committed and were applied now: the leader
  // alone is the quorum, and "a" commits at once.
  ConfChange remove = Change("r2");
  ASSERT_TRUE(net.node(1).ApplyConfChange(remove).ok());
  EXPECT_EQ(net.raft(1).log().committed(), 2u);
  net.Stabilize();
  EXPECT_EQ(net.AppliedData(1), std::vector<std::string>{"a"});
}

TEST(ConfChangeTest, JointConsensusIsLeftAutomatically) {
  TestNetwork net({1, 2, 3}, {4});
  net.Campaign(1);
  // Swap 3 for 4: two voter changes, so through joint consensus.
  ASSERT_EQ(net.ProposeConfChange(1, Change("v4 r3")), ProposeResult::kOk);
  for (uint64_t id : {1, 2, 4}) {
    EXPECT_EQ(Voters(net.conf_state(id)), (std::vector<uint64_t>{1, 2, 4}));
    EXPECT_TRUE(Outgoing(net.conf_state(id)).empty()) << id;
    EXPECT_FALSE(net.conf_state(id).auto_leave());
  }
  int conf_changes = 0;
  for (const Entry& entry : net.applied(1)) {
    if (entry.type() == ENTRY_TYPE_CONF_CHANGE) ++conf_changes;
  }
  EXPECT_EQ(conf_changes, 2);  // enter joint, then the automatic leave
}

TEST(ConfChangeTest, ExplicitJointConsensusWaitsForLeaveRequest) {
  TestNetwork net({1, 2, 3}, {4});
  net.Campaign(1);
  ASSERT_EQ(net.ProposeConfChange(
                1, Change("v4 r3", CONF_CHANGE_TRANSITION_JOINT_EXPLICIT)),
            ProposeResult::kOk);
  EXPECT_EQ(Voters(net.conf_state(1)), (std::vector<uint64_t>{1, 2, 4}));
  EXPECT_EQ(Outgoing(net.conf_state(1)), (std::vector<uint64_t>{1, 2, 3}));
  // Joint: decisions need both majorities; only a leave is accepted.
  EXPECT_EQ(net.ProposeConfChange(1, Change("r2")), ProposeResult::kInvalid);
  ConfChange leave;
  leave.set_transition(CONF_CHANGE_TRANSITION_AUTO);
  ASSERT_EQ(net.ProposeConfChange(1, leave), ProposeResult::kOk);
  EXPECT_TRUE(Outgoing(net.conf_state(1)).empty());
  EXPECT_EQ(Voters(net.conf_state(2)), (std::vector<uint64_t>{1, 2, 4}));
}

TEST(ConfChangeTest, JointConfigurationNeedsBothMajorities) {
  TestNetwork net({1, 2, 3}, {4, 5});
  net.Campaign(1);
  ASSERT_EQ(
      net.ProposeConfChange(
          1, Change("v4 v5 r2 r3", CONF_CHANGE_TRANSITION_JOINT_EXPLICIT)),
      ProposeResult::kOk);
  ASSERT_EQ(Outgoing(net.conf_state(1)), (std::vector<uint64_t>{1, 2, 3}));
  // The new majority (1, 4, 5) alone cannot commit: the old one is needed.
  net.Isolate(2);
  net.Isolate(3);
  net.Propose(1, "a");
  EXPECT_TRUE(net.AppliedData(1).empty());
  net.Heal();
  Heartbeats(net, 1, 1);
  EXPECT_EQ(net.AppliedData(1), std::vector<std::string>{"a"});
}

TEST(ConfChangeTest, DemotionToLearnerWaitsInLearnersNext) {
  TestNetwork net({1, 2, 3});
  net.Campaign(1);
  ASSERT_EQ(net.ProposeConfChange(
                1, Change("l3", CONF_CHANGE_TRANSITION_JOINT_IMPLICIT)),
            ProposeResult::kOk);
  EXPECT_EQ(Voters(net.conf_state(1)), (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(Learners(net.conf_state(1)), (std::vector<uint64_t>{3}));
  EXPECT_FALSE(net.raft(3).Promotable());
}

TEST(ConfChangeTest, RemovedLeaderStepsDownAndOthersElectNewLeader) {
  TestNetwork net({1, 2, 3});
  net.Campaign(1);
  ASSERT_EQ(net.ProposeConfChange(1, Change("r1")), ProposeResult::kOk);
  EXPECT_EQ(net.raft(1).role(), Role::kFollower);
  EXPECT_FALSE(net.raft(1).Promotable());
  for (uint64_t id : {2, 3}) {
    EXPECT_EQ(Voters(net.conf_state(id)), (std::vector<uint64_t>{2, 3}));
  }
  for (int i = 0; i < 40 && net.Leader() == 0; ++i) {
    net.TickAll();
    net.Stabilize();
  }
  const uint64_t leader = net.Leader();
  ASSERT_TRUE(leader == 2 || leader == 3) << leader;
  net.Propose(leader, "a");
  EXPECT_EQ(net.AppliedData(2), std::vector<std::string>{"a"});
  EXPECT_EQ(net.AppliedData(3), std::vector<std::string>{"a"});
}

TEST(ConfChangeTest, RemovedFollowerIsNoLongerReplicatedTo) {
  TestNetwork net({1, 2, 3});
  net.Campaign(1);
  ASSERT_EQ(net.ProposeConfChange(1, Change("r3")), ProposeResult::kOk);
  net.sent().clear();
  net.Propose(1, "a");
  for (const Message& m : net.sent()) EXPECT_NE(m.to(), 3u);
  EXPECT_EQ(net.AppliedData(2), std::vector<std::string>{"a"});
}

}  // namespace
}  // namespace raftstore::raft
