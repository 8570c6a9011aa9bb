#include "sim/raft_checker.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "proto/raft.pb.h"

namespace raftstore::sim {
namespace {

raft::Entry MakeEntry(uint64_t index, uint64_t term, std::string data = "") {
  raft::Entry entry;
  entry.set_index(index);
  entry.set_term(term);
  entry.set_type(raft::ENTRY_TYPE_NORMAL);
  entry.set_data(data.empty() ? "v" + std::to_string(index) : data);
  return entry;
}

std::vector<raft::Entry> Log(std::vector<std::pair<uint64_t, uint64_t>> ids) {
  std::vector<raft::Entry> entries;
  for (auto [index, term] : ids) entries.push_back(MakeEntry(index, term));
  return entries;
}

raft::HardState Hard(uint64_t term, uint64_t vote, uint64_t commit) {
  raft::HardState hs;
  hs.set_term(term);
  hs.set_vote(vote);
  hs.set_commit(commit);
  return hs;
}

TEST(RaftCheckerTest, CleanRunHasNoViolations) {
  RaftChecker checker(3);
  const auto log = Log({{1, 1}, {2, 1}, {3, 1}});
  for (uint64_t node = 1; node <= 3; ++node) {
    checker.OnWritten(node, log);
    checker.OnSynced(node);
    for (const auto& e : log) checker.OnApplied(node, e, 1);
  }
  checker.OnLeader(1, 2, 1, 3, [&](uint64_t i) { return log[i - 1].term(); });
  EXPECT_TRUE(checker.violations().empty());
  EXPECT_EQ(checker.applied_max(), 3U);
}

TEST(RaftCheckerTest, TwoLeadersInOneTermIsAnElectionSafetyViolation) {
  RaftChecker checker(3);
  auto no_log = [](uint64_t) { return uint64_t{0}; };
  checker.OnLeader(1, 5, 1, 0, no_log);
  checker.OnLeader(1, 5, 1, 0, no_log);  // same node again: fine
  EXPECT_TRUE(checker.violations().empty());
  checker.OnLeader(2, 5, 1, 0, no_log);
  ASSERT_EQ(checker.violations().size(), 1U);
  EXPECT_EQ(checker.violations()[0].property, "election safety");
}

TEST(RaftCheckerTest, SameIndexAndTermWithDifferentPrefixIsCaught) {
  RaftChecker checker(2);
  checker.OnWritten(
      1, std::vector<raft::Entry>{MakeEntry(1, 1, "a"), MakeEntry(2, 2, "x")});
  checker.OnWritten(
      2, std::vector<raft::Entry>{MakeEntry(1, 1, "b"), MakeEntry(2, 2, "x")});
  ASSERT_FALSE(checker.violations().empty());
  EXPECT_EQ(checker.violations()[0].property, "log matching");
}

TEST(RaftCheckerTest, DifferentEntriesAppliedAtOneIndexAreCaught) {
  RaftChecker checker(2);
  checker.OnApplied(1, MakeEntry(1, 1, "a"), 1);
  checker.OnApplied(2, MakeEntry(1, 1, "b"), 1);
  ASSERT_EQ(checker.violations().size(), 1U);
  EXPECT_EQ(checker.violations()[0].property, "state machine safety");
}

TEST(RaftCheckerTest, ApplyingOutOfOrderIsCaught) {
  RaftChecker checker(1);
  checker.OnApplied(1, MakeEntry(2, 1), 1);
  ASSERT_EQ(checker.violations().size(), 1U);
  EXPECT_EQ(checker.violations()[0].property, "state machine safety");
}

TEST(RaftCheckerTest, ALowerTermLeaderNeedNotHoldEntriesCommittedLater) {
  RaftChecker checker(3);
  // Committed in term 14; a (legitimate) leader of term 13 elected by stale
  // votes need not hold it.
  checker.OnApplied(1, MakeEntry(1, 14), 14);
  checker.OnLeader(2, 13, 1, 0, [](uint64_t) { return uint64_t{0}; });
  EXPECT_TRUE(checker.violations().empty());
  checker.OnLeader(3, 15, 1, 0, [](uint64_t) { return uint64_t{0}; });
  ASSERT_EQ(checker.violations().size(), 1U);
  EXPECT_EQ(checker.violations()[0].property, "leader completeness");
}

TEST(RaftCheckerTest, LeaderMissingAnAppliedEntryIsCaught) {
  RaftChecker checker(3);
  checker.OnApplied(1, MakeEntry(1, 1), 1);
  checker.OnApplied(1, MakeEntry(2, 1), 1);
  // Node 3 leads term 2 holding only index 1.
  checker.OnLeader(3, 2, 1, 1, [](uint64_t) { return uint64_t{1}; });
  ASSERT_EQ(checker.violations().size(), 1U);
  EXPECT_EQ(checker.violations()[0].property, "leader completeness");
}

TEST(RaftCheckerTest, RecoveringLessThanWasSyncedIsADurabilityViolation) {
  RaftChecker checker(1);
  const auto log = Log({{1, 1}, {2, 1}, {3, 1}});
  checker.OnWritten(1, log);
  checker.OnHardStateWritten(1, Hard(1, 1, 0));
  checker.OnSynced(1);
  checker.OnRecovered(1, 0, 0, std::span(log).first(2), Hard(1, 1, 0), 0);
  ASSERT_EQ(checker.violations().size(), 1U);
  EXPECT_EQ(checker.violations()[0].property, "durability");
}

TEST(RaftCheckerTest, LosingUnsyncedEntriesIsAllowed) {
  RaftChecker checker(1);
  const auto log = Log({{1, 1}, {2, 1}, {3, 1}});
  checker.OnWritten(1, std::span(log).first(2));
  checker.OnSynced(1);
  checker.OnWritten(1, std::span(log).subspan(2));
  checker.OnRecovered(1, 0, 0, std::span(log).first(2), Hard(0, 0, 0), 0);
  EXPECT_TRUE(checker.violations().empty());
}

TEST(RaftCheckerTest, AnUnsyncedOverwriteMayOrMayNotSurvive) {
  for (const bool overwrite_survives : {false, true}) {
    RaftChecker checker(1);
    const auto old_log = Log({{1, 1}, {2, 1}, {3, 1}});
    checker.OnWritten(1, old_log);
    checker.OnSynced(1);
    // A new leader's entries replace index 2 and 3, unsynced at the crash.
    const auto new_tail = Log({{2, 2}});
    checker.OnWritten(1, new_tail);
    std::vector<raft::Entry> recovered = {old_log[0]};
    if (overwrite_survives) {
      recovered.push_back(new_tail[0]);
    } else {
      recovered.push_back(old_log[1]);
      recovered.push_back(old_log[2]);
    }
    checker.OnRecovered(1, 0, 0, recovered, Hard(0, 0, 0), 0);
    EXPECT_TRUE(checker.violations().empty()) << overwrite_survives;
  }
}

TEST(RaftCheckerTest, RecoveringAnOlderVoteIsADurabilityViolation) {
  RaftChecker checker(1);
  checker.OnHardStateWritten(1, Hard(3, 2, 0));
  checker.OnSynced(1);
  checker.OnRecovered(1, 0, 0, {}, Hard(3, 0, 0), 0);
  ASSERT_EQ(checker.violations().size(), 1U);
  EXPECT_EQ(checker.violations()[0].property, "durability");
}

TEST(RaftCheckerTest, LocalSnapshotKeepsLaterEntriesAndChecksItsTerm) {
  RaftChecker checker(1);
  checker.OnWritten(1, Log({{1, 1}, {2, 1}, {3, 2}}));
  checker.OnLocalSnapshotWritten(1, 2, 1);
  // Entries after the snapshot stay: the next write follows index 3.
  checker.OnWritten(1, Log({{4, 2}}));
  EXPECT_TRUE(checker.violations().empty());
  checker.OnLocalSnapshotWritten(1, 3, 7);  // the log holds term 2 there
  ASSERT_EQ(checker.violations().size(), 1U);
  EXPECT_EQ(checker.violations()[0].property, "log matching");
}

TEST(RaftCheckerTest, LocalSnapshotPastTheLogBecomesItsBase) {
  RaftChecker checker(1);
  checker.OnLocalSnapshotWritten(1, 5, 5);  // a bootstrap snapshot
  checker.OnWritten(1, Log({{6, 6}}));
  EXPECT_TRUE(checker.violations().empty());
}

TEST(RaftCheckerTest, RestoredStateMachineMustAgreeWithAppliedEntries) {
  RaftChecker checker(2);
  const auto log = Log({{1, 1}, {2, 1}});
  for (const auto& e : log) checker.OnApplied(1, e, 1);
  checker.OnStateMachineRestored(2, 2, 1);
  EXPECT_EQ(checker.applied_index(2), 2U);
  checker.OnApplied(2, MakeEntry(3, 1), 1);  // follows the snapshot
  EXPECT_TRUE(checker.violations().empty());
  checker.OnStateMachineRestored(2, 1, 4);  // term 1 was applied at 1
  ASSERT_EQ(checker.violations().size(), 1U);
  EXPECT_EQ(checker.violations()[0].property, "state machine safety");
}

}  // namespace
}  // namespace raftstore::sim
