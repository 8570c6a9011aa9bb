// Log replication (paper §5.3), commitment (§5.4.2) and flow control
// (thesis §10.2.2).
#include <memory>
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

std::vector<Entry> EntriesWithTerms(const std::vector<uint64_t>& terms) {
  std::vector<Entry> entries;
  for (size_t i = 0; i < terms.size(); ++i) {
    Entry entry;
    entry.set_index(i + 1);
    entry.set_term(terms[i]);
    entry.set_type(ENTRY_TYPE_NORMAL);
    entries.push_back(entry);
  }
  return entries;
}

std::vector<uint64_t> StoredTerms(MemoryStorage& storage) {
  std::vector<uint64_t> terms;
  for (uint64_t i = storage.FirstIndex(); i <= storage.LastIndex(); ++i) {
    terms.push_back(*storage.Term(i));
  }
  return terms;
}

void SetLog(TestNetwork& net, uint64_t id, const std::vector<uint64_t>& terms,
            uint64_t term) {
  ASSERT_TRUE(net.storage(id).Append(EntriesWithTerms(terms)).ok());
  HardState hs;
  hs.set_term(term);
  net.storage(id).SetHardState(hs);
  net.Restart(id);
}

TEST(ReplicationTest, ProposalIsAppliedOnEveryNodeInOrder) {
  TestNetwork net({1, 2, 3});
  net.Campaign(1);
  EXPECT_EQ(net.Propose(1, "a"), ProposeResult::kOk);
  EXPECT_EQ(net.Propose(1, "b"), ProposeResult::kOk);
  for (uint64_t id : {1, 2, 3}) {
    EXPECT_EQ(net.AppliedData(id), (std::vector<std::string>{"a", "b"}));
  }
}

TEST(ReplicationTest, FollowerRefusesProposals) {
  TestNetwork net({1, 2, 3});
  net.Campaign(1);
  EXPECT_EQ(net.Propose(2, "a"), ProposeResult::kNotLeader);
  EXPECT_EQ(net.raft(2).leader(), 1u);
}

TEST(ReplicationTest, MinorityCannotCommit) {
  TestNetwork net({1, 2, 3, 4, 5});
  net.Campaign(1);
  net.Isolate(3);
  net.Isolate(4);
  net.Isolate(5);
  net.Propose(1, "a");
  EXPECT_EQ(net.raft(1).log().committed(), 1u);
  EXPECT_TRUE(net.AppliedData(1).empty());
  net.Heal();
  net.Tick(1);
  net.Stabilize();
  EXPECT_EQ(net.AppliedData(5), std::vector<std::string>{"a"});
}

// Paper Figure 7: whatever a follower's log looks like, the leader of term
// 8 brings it to match its own.
class Figure7Test : public ::testing::TestWithParam<std::vector<uint64_t>> {};

TEST_P(Figure7Test, LeaderMakesFollowerLogMatchItsOwn) {
  const std::vector<uint64_t> leader_log = {1, 1, 1, 4, 4, 5, 5, 6, 6, 6};
  TestNetwork net({1, 2, 3});
  SetLog(net, 1, leader_log, 7);
  SetLog(net, 3, leader_log, 7);  // votes for 1, like the leader's log
  SetLog(net, 2, GetParam(), 7);
  net.Campaign(1);
  ASSERT_EQ(net.raft(1).role(), Role::kLeader);
  ASSERT_EQ(net.raft(1).term(), 8u);
  std::vector<uint64_t> expected = leader_log;
  expected.push_back(8);
  EXPECT_EQ(StoredTerms(net.storage(1)), expected);
  EXPECT_EQ(StoredTerms(net.storage(2)), expected);
  EXPECT_EQ(net.raft(2).log().committed(), 11u);
}

INSTANTIATE_TEST_SUITE_P(
    FollowerLogs, Figure7Test,
    ::testing::Values(
        std::vector<uint64_t>{1, 1, 1, 4, 4, 5, 5, 6, 6},           // a
        std::vector<uint64_t>{1, 1, 1, 4},                          // b
        std::vector<uint64_t>{1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6},     // c
        std::vector<uint64_t>{1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7},  // d
        std::vector<uint64_t>{1, 1, 1, 4, 4, 4, 4},                 // e
        std::vector<uint64_t>{1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3}));   // f

TEST(ReplicationTest, RejectionHintsSkipAWholeTerm) {
  // Follower (f) of Figure 7 rejects a probe at index 10 (term 6): it hints
  // its last entry of term <= 6 (index 10, term 3), and the leader then
  // skips straight to where its own log has terms <= 3 (index 3).
  TestNetwork net({1, 2, 3});
  SetLog(net, 2, {1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3}, 7);
  Message append;
  append.set_type(MESSAGE_TYPE_APPEND);
  append.set_to(2);
  append.set_from(1);
  append.set_term(8);
  append.set_index(10);
  append.set_log_term(6);
  ASSERT_TRUE(net.node(2).Step(append).ok());
  const std::vector<Message> out = net.node(2).GetReady().messages;
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].reject());
  EXPECT_EQ(out[0].index(), 10u);
  EXPECT_EQ(out[0].reject_hint(), 10u);
  EXPECT_EQ(out[0].hint_term(), 3u);
}

TEST(ReplicationTest, FollowerTruncatesConflictingSuffix) {
  TestNetwork net({1, 2, 3});
  SetLog(net, 2, {1, 1, 2, 2}, 2);
  Message append;
  append.set_type(MESSAGE_TYPE_APPEND);
  append.set_to(2);
  append.set_from(1);
  append.set_term(3);
  append.set_index(2);
  append.set_log_term(1);
  Entry* entry = append.add_entries();
  entry->set_index(3);
  entry->set_term(3);
  entry->set_type(ENTRY_TYPE_NORMAL);
  ASSERT_TRUE(net.node(2).Step(append).ok());
  EXPECT_EQ(net.raft(2).log().LastIndex(), 3u);
  EXPECT_EQ(*net.raft(2).log().Term(3), 3u);
  const Ready rd = net.node(2).GetReady();
  ASSERT_EQ(rd.messages.size(), 1u);
  EXPECT_FALSE(rd.messages[0].reject());
  EXPECT_EQ(rd.messages[0].index(), 3u);
}

// Paper Figure 8 / §5.4.2: a leader never commits an entry of an earlier
// term by counting replicas, even once a majority stores it.
TEST(ReplicationTest, OldTermEntryOnMajorityIsNotCommittedByCounting) {
  TestNetwork net({1, 2, 3, 4, 5}, {}, [](Config& config) {
    config.max_size_per_msg_bytes = 1;  // one entry per append
  });
  net.Campaign(1);  // term 1, index 1
  // (a) Term 1: "x" at index 2 reaches only 1 and 2.
  net.Isolate(3);
  net.Isolate(4);
  net.Isolate(5);
  net.Propose(1, "x");
  EXPECT_EQ(net.raft(1).log().committed(), 1u);
  // (b) 1 crashes; 5 wins term 2 with votes of 3 and 4 and appends its
  // empty entry at index 2, which nobody else receives.
  net.Heal();
  net.Isolate(1);
  net.SetDropFilter([](const Message& m) {
    return m.from() == 5 && m.type() == MESSAGE_TYPE_APPEND;
  });
  net.Cut(5, 2);
  net.Campaign(5);
  ASSERT_EQ(net.raft(5).role(), Role::kLeader);
  ASSERT_EQ(net.raft(5).term(), 2u);
  // (c) 5 crashes; 1 restarts, wins term 3 and replicates "x" (term 1) to 3,
  // a majority (1, 2, 3). Its own entry of term 3 reaches only 2 (1 and 2:
  // no majority): 3 sees it once, in the probe it rejects for lack of "x",
  // and never again.
  net.Heal();
  net.Isolate(5);
  net.Cut(1, 4);
  auto probes_to_3 = std::make_shared<int>(0);
  net.SetDropFilter([probes_to_3](const Message& m) {
    if (m.type() != MESSAGE_TYPE_APPEND || m.to() != 3) return false;
    for (const Entry& entry : m.entries()) {
      if (entry.term() == 3) return (*probes_to_3)++ > 0;
    }
    return false;
  });
  net.Restart(1);
  net.Campaign(1);  // term 2: 3 already voted for 5 in term 2
  net.Campaign(1);  // term 3
  ASSERT_EQ(net.raft(1).role(), Role::kLeader);
  ASSERT_EQ(net.raft(1).term(), 3u);
  ASSERT_EQ(*net.raft(3).log().Term(2), 1u);
  EXPECT_EQ(net.raft(1).log().committed(), 1u)
      << "committed an entry of term 1 by counting replicas";
  // (e) Once the term-3 entry reaches a majority, both commit.
  net.Heal();
  net.Isolate(5);
  net.Tick(1);
  net.Stabilize();
  EXPECT_EQ(net.raft(1).log().committed(), 3u);
  EXPECT_EQ(net.AppliedData(3), std::vector<std::string>{"x"});
}

TEST(ReplicationTest, HeartbeatCommitNeverExceedsFollowerMatch) {
  TestNetwork net({1, 2, 3});
  net.Campaign(1);
  net.Isolate(3);
  net.Propose(1, "a");
  net.Propose(1, "b");
  net.Heal();
  net.sent().clear();
  net.SetDropFilter(
      [](const Message& m) { return m.type() != MESSAGE_TYPE_HEARTBEAT; });
  net.Tick(1);
  net.Stabilize();
  for (const Message& m : net.sent()) {
    if (m.type() == MESSAGE_TYPE_HEARTBEAT && m.to() == 3) {
      EXPECT_EQ(m.commit(), 1u);  // 3 matches only the empty entry
    }
    if (m.type() == MESSAGE_TYPE_HEARTBEAT && m.to() == 2) {
      EXPECT_EQ(m.commit(), 3u);
    }
  }
}

TEST(ReplicationTest, LostAppendsAreResentAfterHeartbeat) {
  TestNetwork net({1, 2, 3});
  net.Campaign(1);
  net.SetDropFilter([](const Message& m) {
    return m.type() == MESSAGE_TYPE_APPEND && m.to() == 3;
  });
  net.Propose(1, "a");
  net.Heal();
  for (int i = 0; i < 5; ++i) {
    net.Tick(1);
    net.Stabilize();
  }
  EXPECT_EQ(net.AppliedData(3), std::vector<std::string>{"a"});
}

TEST(ReplicationTest, LargeLogIsSentInBoundedMessages) {
  TestNetwork net({1, 2}, {},
                  [](Config& config) { config.max_size_per_msg_bytes = 100; });
  net.Campaign(1);
  net.Isolate(2);
  for (int i = 0; i < 20; ++i) net.Propose(1, std::string(40, 'x'));
  net.Heal();
  net.sent().clear();
  net.Tick(1);
  net.Stabilize();
  for (const Message& m : net.sent()) {
    if (m.type() != MESSAGE_TYPE_APPEND) continue;
    uint64_t bytes = 0;
    for (const Entry& entry : m.entries()) bytes += EntryBytes(entry);
    EXPECT_TRUE(m.entries_size() <= 1 || bytes <= 100) << bytes;
  }
  EXPECT_EQ(net.AppliedData(2).size(), 20u);
}

TEST(FlowControlTest, ReplicatingFollowerHasAtMostMaxInflightAppends) {
  TestNetwork net({1, 2}, {},
                  [](Config& config) { config.max_inflight_msgs = 3; });
  net.Campaign(1);
  // Hold 2's answers so the window fills.
  net.SetDropFilter([](const Message& m) { return m.from() == 2; });
  for (int i = 0; i < 10; ++i) {
    net.node(1).Propose("p" + std::to_string(i));
    net.ProcessReadies();
  }
  const Progress* pr = net.raft(1).tracker().GetProgress(2);
  ASSERT_EQ(pr->state(), ProgressState::kReplicate);
  EXPECT_EQ(pr->inflights().Count(), 3u);
  EXPECT_TRUE(pr->IsPaused());
  net.Heal();
  for (int i = 0; i < 10; ++i) {
    net.Tick(1);
    net.Stabilize();
  }
  EXPECT_EQ(net.AppliedData(2).size(), 10u);
}

TEST(FlowControlTest, UncommittedBytesBoundRefusesProposals) {
  TestNetwork net({1, 2, 3}, {}, [](Config& config) {
    config.max_uncommitted_entries_bytes = 100;
  });
  net.Campaign(1);
  net.Isolate(2);
  net.Isolate(3);
  EXPECT_EQ(net.Propose(1, std::string(60, 'a')), ProposeResult::kOk);
  EXPECT_EQ(net.Propose(1, std::string(60, 'b')), ProposeResult::kTooLarge);
  EXPECT_EQ(net.raft(1).uncommitted_bytes(), 60u);
  net.Heal();
  net.Tick(1);
  net.Stabilize();
  // Applied entries free the budget.
  EXPECT_EQ(net.raft(1).uncommitted_bytes(), 0u);
  EXPECT_EQ(net.Propose(1, std::string(60, 'b')), ProposeResult::kOk);
}

TEST(FlowControlTest, OneOversizedProposalIsAcceptedWhenNothingIsPending) {
  TestNetwork net({1, 2, 3}, {}, [](Config& config) {
    config.max_uncommitted_entries_bytes = 10;
  });
  net.Campaign(1);
  EXPECT_EQ(net.Propose(1, std::string(50, 'a')), ProposeResult::kOk);
  EXPECT_EQ(net.AppliedData(3).size(), 1u);
}

TEST(ReplicationTest, RestartedFollowerCatchesUp) {
  TestNetwork net({1, 2, 3});
  net.Campaign(1);
  net.Propose(1, "a");
  net.Restart(2);
  net.Propose(1, "b");
  EXPECT_EQ(net.AppliedData(2), (std::vector<std::string>{"a", "b"}));
}

}  // namespace
}  // namespace raftstore::raft
