// Leader election (paper §5.2, §5.4.1), PreVote (thesis §9.6), CheckQuorum
// (thesis §6.2) and leader stickiness (thesis §4.2.3).
#include <set>
#include <string>
#include <vector>

#include "core/raft/log/memory_storage.h"
#include "core/raft/raft.h"
#include "core/raft/raft_test_network.h"
#include "gtest/gtest.h"

namespace raftstore::raft {
namespace {

using testing::DefaultTestConfig;
using testing::TestNetwork;

TestNetwork::Configure WithPreVote() {
  return [](Config& config) { config.pre_vote = true; };
}

TestNetwork::Configure WithCheckQuorum() {
  return [](Config& config) { config.check_quorum = true; };
}

// Ticks every node until some node leads; returns it (0 if none after
// `ticks_max`).
uint64_t TickUntilLeader(TestNetwork& net, int ticks_max = 200) {
  for (int i = 0; i < ticks_max; ++i) {
    net.TickAll();
    net.Stabilize();
    if (uint64_t leader = net.Leader()) return leader;
  }
  return 0;
}

TEST(ElectionTest, CampaignerWinsMajorityAndOthersFollow) {
  TestNetwork net({1, 2, 3});
  net.Campaign(1);
  EXPECT_EQ(net.raft(1).role(), Role::kLeader);
  EXPECT_EQ(net.raft(1).term(), 1u);
  for (uint64_t id : {2, 3}) {
    EXPECT_EQ(net.raft(id).role(), Role::kFollower);
    EXPECT_EQ(net.raft(id).leader(), 1u);
    EXPECT_EQ(net.raft(id).term(), 1u);
    EXPECT_EQ(net.raft(id).vote(), 1u);
  }
}

TEST(ElectionTest, NewLeaderCommitsAnEmptyEntryOfItsTerm) {
  TestNetwork net({1, 2, 3});
  net.Campaign(1);
  for (uint64_t id : {1, 2, 3}) {
    ASSERT_EQ(net.applied(id).size(), 1u)
        << "node " << id << " " << net.raft(id).log().ToString();
    EXPECT_EQ(net.applied(id)[0].term(), 1u);
    EXPECT_TRUE(net.applied(id)[0].data().empty());
  }
}

TEST(ElectionTest, SingleVoterElectsItselfOnTimeout) {
  TestNetwork net({1});
  EXPECT_EQ(TickUntilLeader(net, 25), 1u);
  EXPECT_EQ(net.raft(1).log().committed(), 1u);
}

TEST(ElectionTest, CandidateWithoutQuorumStaysCandidateAndRetriesLater) {
  TestNetwork net({1, 2, 3});
  net.Isolate(2);
  net.Isolate(3);
  net.Campaign(1);
  EXPECT_EQ(net.raft(1).role(), Role::kCandidate);
  EXPECT_EQ(net.raft(1).term(), 1u);
  // A new election starts within 2 * election_tick ticks, at a new term.
  net.Tick(1, 20);
  net.Stabilize();
  EXPECT_EQ(net.raft(1).role(), Role::kCandidate);
  EXPECT_EQ(net.raft(1).term(), 2u);
}

TEST(ElectionTest, CandidateLosesWhenMajorityRejects) {
  TestNetwork net({1, 2, 3});
  net.Campaign(1);
  net.Propose(1, "x");
  // Node 3 misses "x", so its log is behind those of 1 and 2.
  net.Isolate(3);
  net.Propose(1, "y");
  net.Heal();
  net.Campaign(3);
  // 1 and 2 both reject: the election is lost, not merely pending.
  EXPECT_EQ(net.raft(3).role(), Role::kFollower);
  EXPECT_EQ(net.raft(3).term(), 2u);
  EXPECT_EQ(net.raft(2).vote(), 0u);
  EXPECT_EQ(net.raft(1).vote(), 0u);
}

TEST(ElectionTest, SplitVoteIsResolvedByRandomizedTimeouts) {
  TestNetwork net({1, 2, 3, 4});
  // 3 hears only 1, 4 hears only 2: two votes each, no majority of four.
  net.Cut(1, 4);
  net.Cut(2, 3);
  net.node(1).Campaign();
  net.node(2).Campaign();
  net.Stabilize();
  EXPECT_EQ(net.raft(1).role(), Role::kCandidate);
  EXPECT_EQ(net.raft(2).role(), Role::kCandidate);
  EXPECT_EQ(net.Leader(), 0u);
  net.Heal();
  const uint64_t leader = TickUntilLeader(net);
  EXPECT_NE(leader, 0u);
  EXPECT_GE(net.raft(leader).term(), 2u);
}

TEST(ElectionTest, RandomizedTimeoutStaysWithinOneToTwoElectionTimeouts) {
  std::set<int> seen;
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    MemoryStorage storage;
    Config config = DefaultTestConfig();
    config.id = 1;
    config.storage = &storage;
    Rng rng(seed);
    Raft raft(config, &rng);
    const int timeout = raft.randomized_election_timeout();
    EXPECT_GE(timeout, config.election_tick);
    EXPECT_LT(timeout, 2 * config.election_tick);
    seen.insert(timeout);
  }
  // Randomisation is what breaks split votes; it must actually vary.
  EXPECT_GT(seen.size(), 5u);
}

TEST(ElectionTest, SameSeedGivesSameElection) {
  auto run = [](uint64_t seed) {
    TestNetwork net({1, 2, 3, 4, 5}, {}, nullptr, seed);
    const uint64_t leader = TickUntilLeader(net);
    return std::make_pair(leader, net.sent().size());
  };
  EXPECT_EQ(run(7), run(7));
}

TEST(ElectionTest, VoterRejectsCandidateWithStaleLog) {
  // Paper §5.4.1: the voting restriction.
  TestNetwork net({1, 2, 3});
  net.Campaign(1);
  net.Isolate(3);
  net.Propose(1, "x");
  net.Heal();
  net.Isolate(1);
  net.Campaign(3);
  EXPECT_NE(net.raft(3).role(), Role::kLeader);
  // 2, whose log is as up-to-date as any, wins.
  net.Campaign(2);
  EXPECT_EQ(net.raft(2).role(), Role::kLeader);
  EXPECT_EQ(net.AppliedData(2), std::vector<std::string>{"x"});
}

TEST(ElectionTest, NodeVotesAtMostOncePerTerm) {
  TestNetwork net({1, 2, 3});
  Message vote;
  vote.set_type(MESSAGE_TYPE_VOTE);
  vote.set_term(5);
  vote.set_to(1);
  vote.set_from(2);
  ASSERT_TRUE(net.node(1).Step(vote).ok());
  EXPECT_EQ(net.raft(1).vote(), 2u);
  vote.set_from(3);
  ASSERT_TRUE(net.node(1).Step(vote).ok());
  EXPECT_EQ(net.raft(1).vote(), 2u);
  const Ready rd = net.node(1).GetReady();
  ASSERT_EQ(rd.messages.size(), 2u);
  EXPECT_FALSE(rd.messages[0].reject());
  EXPECT_TRUE(rd.messages[1].reject());
  // The vote must be durable before the response leaves.
  ASSERT_TRUE(rd.hard_state.has_value());
  EXPECT_EQ(rd.hard_state->vote(), 2u);
  EXPECT_TRUE(rd.must_sync);
}

TEST(ElectionTest, RestartKeepsTermAndVote) {
  TestNetwork net({1, 2, 3});
  net.Campaign(1);
  net.Restart(2);
  EXPECT_EQ(net.raft(2).term(), 1u);
  EXPECT_EQ(net.raft(2).vote(), 1u);
  EXPECT_EQ(net.raft(2).role(), Role::kFollower);
}

TEST(ElectionTest, HigherTermMessageTurnsLeaderIntoFollower) {
  TestNetwork net({1, 2, 3});
  net.Campaign(1);
  net.Isolate(1);
  net.Campaign(2);
  ASSERT_EQ(net.raft(2).role(), Role::kLeader);
  net.Heal();
  net.Tick(2);  // a heartbeat of term 2 reaches the old leader
  net.Stabilize();
  EXPECT_EQ(net.raft(1).role(), Role::kFollower);
  EXPECT_EQ(net.raft(1).term(), 2u);
  EXPECT_EQ(net.raft(1).leader(), 2u);
}

TEST(ElectionTest, LearnerNeverCampaigns) {
  TestNetwork net({1, 2}, {3});
  EXPECT_FALSE(net.node(3).Campaign());
  net.Tick(3, 100);
  net.Stabilize();
  EXPECT_EQ(net.raft(3).role(), Role::kFollower);
  EXPECT_EQ(net.raft(3).term(), 0u);
}

TEST(PreVoteTest, PartitionedNodeDoesNotRaiseItsTerm) {
  TestNetwork net({1, 2, 3}, {}, WithPreVote());
  net.Campaign(1);
  net.Isolate(3);
  net.Tick(3, 100);
  net.Stabilize();
  EXPECT_EQ(net.raft(3).role(), Role::kPreCandidate);
  EXPECT_EQ(net.raft(3).term(), 1u);
  // Rejoining does not disrupt the leader.
  net.Heal();
  net.Tick(1);
  net.Stabilize();
  EXPECT_EQ(net.raft(1).role(), Role::kLeader);
  EXPECT_EQ(net.raft(1).term(), 1u);
  EXPECT_EQ(net.raft(3).leader(), 1u);
}

TEST(PreVoteTest, PreVoteWinnerProceedsToRealElection) {
  TestNetwork net({1, 2, 3}, {}, WithPreVote());
  net.Campaign(1);
  EXPECT_EQ(net.raft(1).role(), Role::kLeader);
  EXPECT_EQ(net.raft(1).term(), 1u);
  bool saw_pre_vote = false;
  for (const Message& m : net.sent()) {
    if (m.type() == MESSAGE_TYPE_PRE_VOTE) {
      saw_pre_vote = true;
      EXPECT_EQ(m.term(), 1u);  // asks about term + 1 while still at 0
    }
  }
  EXPECT_TRUE(saw_pre_vote);
}

TEST(PreVoteTest, PreVoteWithStaleLogIsRejected) {
  TestNetwork net({1, 2, 3}, {}, WithPreVote());
  net.Campaign(1);
  net.Isolate(3);
  net.Propose(1, "x");
  net.Heal();
  net.Campaign(3);
  // Both others reject the PreVote; nobody's term moves, the leader stays.
  EXPECT_EQ(net.raft(3).role(), Role::kFollower);
  EXPECT_EQ(net.raft(3).term(), 1u);
  EXPECT_EQ(net.raft(2).term(), 1u);
  EXPECT_EQ(net.raft(1).role(), Role::kLeader);
  EXPECT_EQ(net.raft(1).term(), 1u);
}

TEST(CheckQuorumTest, LeaderStepsDownWithoutActiveQuorum) {
  TestNetwork net({1, 2, 3}, {}, WithCheckQuorum());
  net.Campaign(1);
  net.Isolate(1);
  net.Tick(1, 2 * DefaultTestConfig().election_tick);
  net.Stabilize();
  EXPECT_EQ(net.raft(1).role(), Role::kFollower);
  EXPECT_EQ(net.raft(1).term(), 1u);
}

TEST(CheckQuorumTest, LeaderWithActiveQuorumStays) {
  TestNetwork net({1, 2, 3}, {}, WithCheckQuorum());
  net.Campaign(1);
  net.Isolate(3);
  for (int i = 0; i < 3 * DefaultTestConfig().election_tick; ++i) {
    net.Tick(1);
    net.Stabilize();
  }
  EXPECT_EQ(net.raft(1).role(), Role::kLeader);
}

TEST(StickinessTest, FollowerInLeaseIgnoresVoteRequests) {
  TestNetwork net({1, 2, 3}, {}, WithCheckQuorum());
  net.Campaign(1);
  // 3 campaigns although the leader is alive (say it missed heartbeats).
  net.Campaign(3);
  EXPECT_EQ(net.raft(1).role(), Role::kLeader);
  EXPECT_EQ(net.raft(2).term(), 1u);
  EXPECT_GE(net.raft(2).counters().vote_ignored_in_lease, 1u);
}

TEST(StickinessTest, FollowerVotesOnceTheLeaseExpired) {
  TestNetwork net({1, 2, 3}, {}, WithCheckQuorum());
  net.Campaign(1);
  net.Isolate(1);
  // 2's lease expires after an election timeout without the leader.
  net.Tick(2, DefaultTestConfig().election_tick);
  net.Tick(3, DefaultTestConfig().election_tick);
  net.Campaign(3);
  EXPECT_EQ(net.raft(3).role(), Role::kLeader);
  EXPECT_EQ(net.raft(3).term(), 2u);
}

TEST(StickinessTest, StaleLeaderLearnsNewTermFromAppendResponse) {
  // With CheckQuorum, a node that ignores a deposed leader still answers
  // it, so that it steps down rather than stay stuck.
  TestNetwork net({1, 2, 3}, {}, WithCheckQuorum());
  net.Campaign(1);
  net.Isolate(1);
  net.Tick(2, DefaultTestConfig().election_tick);
  net.Tick(3, DefaultTestConfig().election_tick);
  net.Campaign(2);
  ASSERT_EQ(net.raft(2).role(), Role::kLeader);
  net.Heal();
  net.Tick(1);  // the old leader's heartbeat of term 1
  net.Stabilize();
  EXPECT_EQ(net.raft(1).role(), Role::kFollower);
  EXPECT_EQ(net.raft(1).term(), 2u);
}

}  // namespace
}  // namespace raftstore::raft
