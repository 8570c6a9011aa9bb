#include "core/raft/log/raft_log.h"

#include <algorithm>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "core/raft/log/log_testing.h"
#include "core/raft/log/memory_storage.h"
#include "core/raft/log/storage.h"
#include "gtest/gtest.h"
#include "proto/raft.pb.h"
#include "rapidcheck/gtest.h"

namespace raftstore::raft {
namespace {

using log_testing::Ids;
using log_testing::IdsOf;
using log_testing::MakeEntries;
using log_testing::MakeEntry;
using log_testing::MakeSnapshot;

// Entries first, first + 1, ... with the given terms.
std::vector<Entry> EntriesWithTerms(uint64_t first,
                                    const std::vector<uint64_t>& terms) {
  std::vector<Entry> entries;
  for (size_t i = 0; i < terms.size(); ++i) {
    entries.push_back(MakeEntry(first + i, terms[i]));
  }
  return entries;
}

// entries[from, to) of a vector, as a copy.
std::vector<Entry> Sub(const std::vector<Entry>& entries, uint64_t from,
                       uint64_t to) {
  const std::span<const Entry> sub =
      std::span<const Entry>(entries).subspan(from, to - from);
  return std::vector<Entry>(sub.begin(), sub.end());
}

// Every entry of `log` from its first index on.
Ids AllIds(const RaftLog& log) {
  const absl::StatusOr<std::vector<Entry>> entries =
      log.EntriesFrom(log.FirstIndex(), kNoBytesLimit);
  EXPECT_TRUE(entries.ok()) << entries.status();
  return entries.ok() ? IdsOf(*entries) : Ids{};
}

// Writes what the log hands out to `storage` and acknowledges it, as a
// synchronous driver does.
void Persist(RaftLog& log, MemoryStorage& storage) {
  std::optional<raft::Snapshot> snapshot = log.NextUnstableSnapshot();
  const std::vector<Entry> entries = log.NextUnstableEntries();
  log.AcceptUnstable();
  // The snapshot first: the entries follow it.
  if (snapshot.has_value()) {
    const uint64_t index = snapshot->metadata().index();
    ASSERT_TRUE(storage.ApplySnapshot(*std::move(snapshot)).ok());
    log.StableSnapTo(index);
  }
  if (entries.empty()) return;
  ASSERT_TRUE(storage.Append(entries).ok());
  log.StableTo(entries.back().index(), entries.back().term());
}

// A log whose storage already holds `ids` (persisted before it was created).
struct StoredLog {
  explicit StoredLog(const Ids& ids) {
    EXPECT_TRUE(storage.Append(MakeEntries(ids)).ok());
    log = std::make_unique<RaftLog>(&storage);
  }
  MemoryStorage storage;
  std::unique_ptr<RaftLog> log;
};

TEST(RaftLogTest, MovedAppendsMatchCopyingAppends) {
  // The moving variants are the hot path; they must behave exactly like the
  // copying ones, conflict truncation and commit included.
  for (const bool conflict : {false, true}) {
    StoredLog copying({{1, 1}, {2, 1}, {3, 2}, {4, 2}});
    StoredLog moving({{1, 1}, {2, 1}, {3, 2}, {4, 2}});
    // With a conflict, the new entries replace 3 and 4 (term 3).
    const std::vector<Entry> incoming =
        conflict ? EntriesWithTerms(3, {3, 3, 3}) : EntriesWithTerms(5, {2, 2});
    const uint64_t prev = conflict ? 2 : 4;
    const uint64_t prev_term = conflict ? 1 : 2;
    const auto copied = copying.log->MaybeAppend(prev, prev_term, 4, incoming);
    std::vector<Entry> owned = incoming;
    const auto moved = moving.log->MaybeAppendMoved(prev, prev_term, 4,
                                                    std::span<Entry>(owned));
    ASSERT_TRUE(copied.has_value());
    EXPECT_EQ(copied, moved);
    EXPECT_EQ(AllIds(*copying.log), AllIds(*moving.log));
    EXPECT_EQ(copying.log->committed(), moving.log->committed());
    EXPECT_EQ(copying.log->ToString(), moving.log->ToString());
  }
  StoredLog leader({{1, 1}});
  std::vector<Entry> proposals = EntriesWithTerms(2, {1, 1});
  EXPECT_EQ(leader.log->AppendMoved(std::span<Entry>(proposals)), 3u);
  EXPECT_EQ(AllIds(*leader.log), (Ids{{1, 1}, {2, 1}, {3, 1}}));
}

TEST(RaftLogTest, NewLogOverEmptyStorageIsEmpty) {
  const MemoryStorage storage;
  const RaftLog log(&storage);
  EXPECT_EQ(log.FirstIndex(), 1u);
  EXPECT_EQ(log.LastIndex(), 0u);
  EXPECT_EQ(log.LastTerm(), 0u);
  EXPECT_EQ(log.committed(), 0u);
  EXPECT_EQ(log.applied(), 0u);
  EXPECT_EQ(log.unstable().offset(), 1u);
  EXPECT_FALSE(log.HasNextCommittedEntries());
}

TEST(RaftLogTest, NewLogStartsCommittedAndAppliedAtTheSnapshot) {
  MemoryStorage storage;
  ASSERT_TRUE(storage.ApplySnapshot(MakeSnapshot(100, 7)).ok());
  ASSERT_TRUE(storage.Append({MakeEntry(101, 7), MakeEntry(102, 8)}).ok());
  const RaftLog log(&storage);
  EXPECT_EQ(log.FirstIndex(), 101u);
  EXPECT_EQ(log.LastIndex(), 102u);
  EXPECT_EQ(log.LastTerm(), 8u);
  EXPECT_EQ(log.committed(), 100u);
  EXPECT_EQ(log.applying(), 100u);
  EXPECT_EQ(log.applied(), 100u);
  EXPECT_EQ(log.unstable().offset(), 103u);
}

TEST(RaftLogTest, FindConflictOfHeldEntriesIsZero) {
  const StoredLog stored({{1, 1}, {2, 2}, {3, 3}});
  const RaftLog& log = *stored.log;
  EXPECT_EQ(log.FindConflict({}), 0u);
  EXPECT_EQ(log.FindConflict(MakeEntries({{1, 1}, {2, 2}, {3, 3}})), 0u);
  EXPECT_EQ(log.FindConflict(MakeEntries({{2, 2}, {3, 3}})), 0u);
  EXPECT_EQ(log.FindConflict(MakeEntries({{3, 3}})), 0u);
}

TEST(RaftLogTest, FindConflictOfNewEntriesIsTheFirstNewIndex) {
  const StoredLog stored({{1, 1}, {2, 2}, {3, 3}});
  const RaftLog& log = *stored.log;
  EXPECT_EQ(
      log.FindConflict(MakeEntries({{1, 1}, {2, 2}, {3, 3}, {4, 4}, {5, 4}})),
      4u);
  EXPECT_EQ(log.FindConflict(MakeEntries({{2, 2}, {3, 3}, {4, 4}, {5, 4}})),
            4u);
  EXPECT_EQ(log.FindConflict(MakeEntries({{3, 3}, {4, 4}, {5, 4}})), 4u);
  EXPECT_EQ(log.FindConflict(MakeEntries({{4, 4}, {5, 4}})), 4u);
}

TEST(RaftLogTest, FindConflictOfDifferentTermIsItsIndex) {
  const StoredLog stored({{1, 1}, {2, 2}, {3, 3}});
  const RaftLog& log = *stored.log;
  EXPECT_EQ(log.FindConflict(MakeEntries({{1, 4}, {2, 4}})), 1u);
  EXPECT_EQ(log.FindConflict(MakeEntries({{2, 1}, {3, 4}, {4, 4}})), 2u);
  EXPECT_EQ(log.FindConflict(MakeEntries({{3, 1}, {4, 2}, {5, 4}, {6, 4}})),
            3u);
}

// A log compacted at (10, 3) holding terms 3 4 4 5 5 at indexes 11 to 15.
struct CompactedLog {
  CompactedLog() {
    EXPECT_TRUE(storage.ApplySnapshot(MakeSnapshot(10, 3)).ok());
    EXPECT_TRUE(storage.Append(EntriesWithTerms(11, {3, 4, 4, 5, 5})).ok());
    log = std::make_unique<RaftLog>(&storage);
  }
  MemoryStorage storage;
  std::unique_ptr<RaftLog> log;
};

TEST(RaftLogTest, FindConflictByTermReturnsTheIndexWhenItsTermFits) {
  const CompactedLog compacted;
  EXPECT_EQ(compacted.log->FindConflictByTerm(15, 5), (EntryId{15, 5}));
  EXPECT_EQ(compacted.log->FindConflictByTerm(15, 9), (EntryId{15, 5}));
  EXPECT_EQ(compacted.log->FindConflictByTerm(12, 4), (EntryId{12, 4}));
}

TEST(RaftLogTest, FindConflictByTermSkipsEntriesOfHigherTerms) {
  const CompactedLog compacted;
  EXPECT_EQ(compacted.log->FindConflictByTerm(15, 4), (EntryId{13, 4}));
  EXPECT_EQ(compacted.log->FindConflictByTerm(14, 3), (EntryId{11, 3}));
}

TEST(RaftLogTest, FindConflictByTermStopsAtTheCompactionPoint) {
  const CompactedLog compacted;
  // The compaction point's term (3) is known and fits.
  EXPECT_EQ(compacted.log->FindConflictByTerm(13, 3), (EntryId{11, 3}));
  // Term 2 fits nowhere we know; below the compaction point the terms are
  // unknown, so the first compacted index may match.
  EXPECT_EQ(compacted.log->FindConflictByTerm(13, 2), (EntryId{9, 0}));
}

TEST(RaftLogTest, FindConflictByTermStartsAtTheLastIndex) {
  const CompactedLog compacted;
  EXPECT_EQ(compacted.log->FindConflictByTerm(100, 4), (EntryId{13, 4}));
  EXPECT_EQ(compacted.log->FindConflictByTerm(100, 9), (EntryId{15, 5}));
}

TEST(RaftLogTest, FindConflictByTermOnEmptyLogIsZero) {
  const MemoryStorage storage;
  const RaftLog log(&storage);
  EXPECT_EQ(log.FindConflictByTerm(5, 3), (EntryId{0, 0}));
  EXPECT_EQ(log.FindConflictByTerm(0, 0), (EntryId{0, 0}));
}

TEST(RaftLogTest, IsUpToDateComparesLastTermThenLastIndex) {
  const StoredLog stored({{1, 1}, {2, 2}, {3, 3}});
  const RaftLog& log = *stored.log;
  // A higher last term wins whatever the length.
  EXPECT_TRUE(log.IsUpToDate(2, 4));
  EXPECT_TRUE(log.IsUpToDate(3, 4));
  EXPECT_TRUE(log.IsUpToDate(4, 4));
  // A lower last term loses whatever the length.
  EXPECT_FALSE(log.IsUpToDate(2, 2));
  EXPECT_FALSE(log.IsUpToDate(3, 2));
  EXPECT_FALSE(log.IsUpToDate(4, 2));
  // The same last term: the longer (or equal) log is up to date.
  EXPECT_FALSE(log.IsUpToDate(2, 3));
  EXPECT_TRUE(log.IsUpToDate(3, 3));
  EXPECT_TRUE(log.IsUpToDate(4, 3));
}

TEST(RaftLogTest, AppendNothingReturnsLastIndex) {
  StoredLog stored({{1, 1}, {2, 2}});
  EXPECT_EQ(stored.log->Append({}), 2u);
  EXPECT_EQ(AllIds(*stored.log), (Ids{{1, 1}, {2, 2}}));
  EXPECT_EQ(stored.log->unstable().offset(), 3u);
}

TEST(RaftLogTest, AppendAfterLastIndexExtends) {
  StoredLog stored({{1, 1}, {2, 2}});
  EXPECT_EQ(stored.log->Append(MakeEntries({{3, 2}})), 3u);
  EXPECT_EQ(AllIds(*stored.log), (Ids{{1, 1}, {2, 2}, {3, 2}}));
  EXPECT_EQ(stored.log->unstable().offset(), 3u);
}

TEST(RaftLogTest, AppendConflictingAtStartReplacesWholeLog) {
  StoredLog stored({{1, 1}, {2, 2}});
  EXPECT_EQ(stored.log->Append(MakeEntries({{1, 2}})), 1u);
  EXPECT_EQ(AllIds(*stored.log), (Ids{{1, 2}}));
  EXPECT_EQ(stored.log->unstable().offset(), 1u);
}

TEST(RaftLogTest, AppendConflictingInTheMiddleTruncatesStoredSuffix) {
  StoredLog stored({{1, 1}, {2, 2}});
  EXPECT_EQ(stored.log->Append(MakeEntries({{2, 3}, {3, 3}})), 3u);
  EXPECT_EQ(AllIds(*stored.log), (Ids{{1, 1}, {2, 3}, {3, 3}}));
  EXPECT_EQ(stored.log->unstable().offset(), 2u);
}

TEST(RaftLogTest, AppendOverCommittedEntriesDies) {
  StoredLog stored({{1, 1}, {2, 2}});
  stored.log->CommitTo(2);
  EXPECT_DEATH(stored.log->Append(MakeEntries({{2, 3}})),
               "would overwrite committed entries");
}

TEST(RaftLogTest, AppendWithAGapDies) {
  StoredLog stored({{1, 1}});
  EXPECT_DEATH(stored.log->Append(MakeEntries({{3, 1}})), "leaves a gap");
}

TEST(RaftLogTest, AppendWithDecreasingTermDies) {
  StoredLog stored({{1, 2}});
  EXPECT_DEATH(stored.log->Append(MakeEntries({{2, 1}})),
               "terms must not decrease");
}

// The log of etcd's maybeAppend tests: (1, 1) (2, 2) (3, 3), committed 1.
StoredLog MakeMaybeAppendLog() {
  StoredLog stored({{1, 1}, {2, 2}, {3, 3}});
  stored.log->CommitTo(1);
  return stored;
}

TEST(RaftLogTest, MaybeAppendRejectsWhenPreviousTermDiffers) {
  StoredLog stored = MakeMaybeAppendLog();
  EXPECT_EQ(stored.log->MaybeAppend(3, 2, 3, MakeEntries({{4, 4}})),
            std::nullopt);
  EXPECT_EQ(stored.log->committed(), 1u);
  EXPECT_EQ(stored.log->LastIndex(), 3u);
}

TEST(RaftLogTest, MaybeAppendRejectsWhenPreviousIndexIsMissing) {
  StoredLog stored = MakeMaybeAppendLog();
  EXPECT_EQ(stored.log->MaybeAppend(4, 3, 3, MakeEntries({{5, 4}})),
            std::nullopt);
  EXPECT_EQ(stored.log->committed(), 1u);
}

TEST(RaftLogTest, MaybeAppendNothingCommitsUpToThePreviousIndex) {
  StoredLog stored = MakeMaybeAppendLog();
  EXPECT_EQ(stored.log->MaybeAppend(3, 3, 4, {}), 3u);
  EXPECT_EQ(stored.log->committed(), 3u);  // min(leader's 4, last new 3)
}

TEST(RaftLogTest, MaybeAppendCommitsTheLeadersCommitIndex) {
  StoredLog stored = MakeMaybeAppendLog();
  EXPECT_EQ(stored.log->MaybeAppend(3, 3, 2, {}), 3u);
  EXPECT_EQ(stored.log->committed(), 2u);
}

TEST(RaftLogTest, MaybeAppendNeverLowersCommitted) {
  StoredLog stored = MakeMaybeAppendLog();
  EXPECT_EQ(stored.log->MaybeAppend(3, 3, 0, {}), 3u);
  EXPECT_EQ(stored.log->committed(), 1u);
}

TEST(RaftLogTest, MaybeAppendNewEntriesCommitsAtMostTheLastNewIndex) {
  StoredLog stored = MakeMaybeAppendLog();
  EXPECT_EQ(stored.log->MaybeAppend(3, 3, 5, MakeEntries({{4, 4}})), 4u);
  EXPECT_EQ(stored.log->committed(), 4u);
  EXPECT_EQ(AllIds(*stored.log), (Ids{{1, 1}, {2, 2}, {3, 3}, {4, 4}}));
}

TEST(RaftLogTest, MaybeAppendNewEntriesCommitsTheLeadersCommitIndex) {
  StoredLog stored = MakeMaybeAppendLog();
  EXPECT_EQ(stored.log->MaybeAppend(3, 3, 3, MakeEntries({{4, 4}, {5, 4}})),
            5u);
  EXPECT_EQ(stored.log->committed(), 3u);
  EXPECT_EQ(stored.log->LastIndex(), 5u);
}

TEST(RaftLogTest, MaybeAppendReplacesAConflictingSuffix) {
  StoredLog stored = MakeMaybeAppendLog();
  EXPECT_EQ(stored.log->MaybeAppend(1, 1, 3, MakeEntries({{2, 4}})), 2u);
  EXPECT_EQ(stored.log->committed(), 2u);
  EXPECT_EQ(AllIds(*stored.log), (Ids{{1, 1}, {2, 4}}));
}

TEST(RaftLogTest, MaybeAppendReplacesTheLastEntryAndExtends) {
  StoredLog stored = MakeMaybeAppendLog();
  EXPECT_EQ(stored.log->MaybeAppend(2, 2, 3, MakeEntries({{3, 4}, {4, 4}})),
            4u);
  EXPECT_EQ(stored.log->committed(), 3u);
  EXPECT_EQ(AllIds(*stored.log), (Ids{{1, 1}, {2, 2}, {3, 4}, {4, 4}}));
}

TEST(RaftLogTest, MaybeAppendOfAStaleShorterAppendKeepsLaterEntries) {
  // A delayed append carrying a prefix of what the log holds must not
  // truncate the entries after it.
  StoredLog stored = MakeMaybeAppendLog();
  EXPECT_EQ(stored.log->MaybeAppend(1, 1, 1, MakeEntries({{2, 2}})), 2u);
  EXPECT_EQ(AllIds(*stored.log), (Ids{{1, 1}, {2, 2}, {3, 3}}));
  EXPECT_EQ(stored.log->committed(), 1u);
}

TEST(RaftLogTest, MaybeAppendConflictingWithCommittedEntryDies) {
  StoredLog stored = MakeMaybeAppendLog();
  EXPECT_DEATH(stored.log->MaybeAppend(0, 0, 3, MakeEntries({{1, 4}})),
               "conflicts with a committed entry");
}

// The leader's side of the probing of paper §5.3 for a follower whose log is
// `follower_terms`: starting after the leader's last entry, sends appends,
// backs off with the follower's FindConflictByTerm hint mapped through its
// own FindConflictByTerm, and stops at the first accepted append. Returns
// the number of appends sent.
int ReplicateTo(const RaftLog& leader, RaftLog& follower) {
  uint64_t prev = leader.LastIndex();
  for (int sent = 1;; ++sent) {
    const absl::StatusOr<std::vector<Entry>> entries =
        leader.EntriesFrom(prev + 1, kNoBytesLimit);
    EXPECT_TRUE(entries.ok());
    if (follower.MaybeAppend(prev, *leader.Term(prev), leader.committed(),
                             *entries)) {
      return sent;
    }
    const EntryId hint = follower.FindConflictByTerm(prev, *leader.Term(prev));
    const uint64_t next_prev =
        leader.FindConflictByTerm(hint.index, hint.term).index;
    EXPECT_LT(next_prev, prev) << "probing must make progress";
    if (next_prev >= prev || sent > 20) return -1;
    prev = next_prev;
  }
}

// Figure 7 of the Raft paper: the leader of term 8 (log of terms
// 1 1 1 4 4 5 5 6 6 6, plus an entry 11 of its own term) and followers (a) to
// (f), which all share the first three entries, committed everywhere.
class Figure7Test : public testing::TestWithParam<std::vector<uint64_t>> {};

TEST_P(Figure7Test, FollowerConvergesToTheLeadersLog) {
  MemoryStorage leader_storage;
  ASSERT_TRUE(
      leader_storage
          .Append(EntriesWithTerms(1, {1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 8}))
          .ok());
  RaftLog leader(&leader_storage);
  leader.CommitTo(10);

  MemoryStorage follower_storage;
  ASSERT_TRUE(follower_storage.Append(EntriesWithTerms(1, GetParam())).ok());
  RaftLog follower(&follower_storage);
  follower.CommitTo(3);

  const int sent = ReplicateTo(leader, follower);
  // Backtracking by term needs at most one round trip per conflicting term.
  EXPECT_GE(sent, 1);
  EXPECT_LE(sent, 4);
  EXPECT_EQ(AllIds(follower), AllIds(leader));
  EXPECT_EQ(follower.committed(), 10u);
  Persist(follower, follower_storage);
  EXPECT_TRUE(follower.unstable().entries().empty());
  EXPECT_EQ(follower.NextCommittedEntries(kNoBytesLimit).size(), 10u);
}

INSTANTIATE_TEST_SUITE_P(
    PaperFigure7, Figure7Test,
    testing::Values(
        std::vector<uint64_t>{1, 1, 1, 4, 4, 5, 5, 6, 6},           // (a)
        std::vector<uint64_t>{1, 1, 1, 4},                          // (b)
        std::vector<uint64_t>{1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6},     // (c)
        std::vector<uint64_t>{1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7},  // (d)
        std::vector<uint64_t>{1, 1, 1, 4, 4, 4, 4},                 // (e)
        std::vector<uint64_t>{1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3}));   // (f)

TEST(RaftLogTest, CommitToRaises) {
  StoredLog stored = MakeMaybeAppendLog();
  stored.log->CommitTo(3);
  EXPECT_EQ(stored.log->committed(), 3u);
}

TEST(RaftLogTest, CommitToNeverLowers) {
  StoredLog stored = MakeMaybeAppendLog();
  stored.log->CommitTo(3);
  stored.log->CommitTo(1);
  EXPECT_EQ(stored.log->committed(), 3u);
}

TEST(RaftLogTest, CommitToPastLastIndexDies) {
  StoredLog stored = MakeMaybeAppendLog();
  EXPECT_DEATH(stored.log->CommitTo(4), "committing past the last entry");
}

TEST(RaftLogTest, MaybeCommitOnlyAnEntryOfTheGivenTerm) {
  StoredLog stored({{1, 1}, {2, 2}, {3, 2}, {4, 3}});
  RaftLog& log = *stored.log;
  // Entry 3 is from term 2: a leader of term 3 must not commit it by
  // counting replicas (paper §5.4.2, Figure 8).
  EXPECT_FALSE(log.MaybeCommit(3, 3));
  EXPECT_EQ(log.committed(), 0u);
  // Committing entry 4 of term 3 commits entry 3 indirectly.
  EXPECT_TRUE(log.MaybeCommit(4, 3));
  EXPECT_EQ(log.committed(), 4u);
}

TEST(RaftLogTest, MaybeCommitAtOrBelowCommittedIsFalse) {
  StoredLog stored({{1, 1}, {2, 2}});
  stored.log->CommitTo(2);
  EXPECT_FALSE(stored.log->MaybeCommit(2, 2));
  EXPECT_FALSE(stored.log->MaybeCommit(1, 1));
  EXPECT_EQ(stored.log->committed(), 2u);
}

TEST(RaftLogTest, MaybeCommitWithTermZeroOrPastTheEndIsFalse) {
  StoredLog stored({{1, 1}, {2, 2}});
  EXPECT_FALSE(stored.log->MaybeCommit(1, 0));
  EXPECT_FALSE(stored.log->MaybeCommit(3, 2));
  EXPECT_EQ(stored.log->committed(), 0u);
}

TEST(RaftLogTest, TermIsKnownFromCompactionPointToLastIndex) {
  MemoryStorage storage;
  ASSERT_TRUE(storage.ApplySnapshot(MakeSnapshot(100, 1)).ok());
  std::vector<uint64_t> terms;
  for (uint64_t term = 1; term < 100; ++term) terms.push_back(term);
  ASSERT_TRUE(storage.Append(EntriesWithTerms(101, terms)).ok());
  const RaftLog log(&storage);
  EXPECT_TRUE(IsCompacted(log.Term(99).status()));
  EXPECT_EQ(*log.Term(100), 1u);
  EXPECT_EQ(*log.Term(150), 50u);
  EXPECT_EQ(*log.Term(199), 99u);
  EXPECT_TRUE(IsLogUnavailable(log.Term(200).status()));
}

TEST(RaftLogTest, TermWithUnstableSnapshotIsKnownOnlyAtTheSnapshot) {
  MemoryStorage storage;
  ASSERT_TRUE(storage.ApplySnapshot(MakeSnapshot(100, 1)).ok());
  RaftLog log(&storage);
  log.Restore(MakeSnapshot(105, 2));
  EXPECT_TRUE(IsCompacted(log.Term(100).status()));
  EXPECT_TRUE(IsCompacted(log.Term(101).status()));
  EXPECT_TRUE(IsCompacted(log.Term(103).status()));
  // 104 is FirstIndex() - 2: still compacted; 105 is the snapshot itself.
  EXPECT_TRUE(IsCompacted(log.Term(104).status()));
  EXPECT_EQ(*log.Term(105), 2u);
  EXPECT_TRUE(IsLogUnavailable(log.Term(106).status()));
}

TEST(RaftLogTest, TermOfUnstableEntriesComesFromTheTail) {
  StoredLog stored({{1, 1}});
  stored.log->Append(MakeEntries({{2, 2}, {3, 3}}));
  EXPECT_EQ(*stored.log->Term(1), 1u);
  EXPECT_EQ(*stored.log->Term(2), 2u);
  EXPECT_EQ(*stored.log->Term(3), 3u);
  EXPECT_EQ(stored.log->LastTerm(), 3u);
}

TEST(RaftLogTest, NextCommittedEntriesAreCommittedDurableAndUnapplied) {
  MemoryStorage storage;
  ASSERT_TRUE(storage.ApplySnapshot(MakeSnapshot(3, 1)).ok());
  RaftLog log(&storage);
  log.Append(MakeEntries({{4, 1}, {5, 1}, {6, 1}}));
  Persist(log, storage);
  log.CommitTo(5);
  EXPECT_TRUE(log.HasNextCommittedEntries());
  EXPECT_EQ(IdsOf(log.NextCommittedEntries(kNoBytesLimit)),
            (Ids{{4, 1}, {5, 1}}));
  log.AppliedTo(4);
  EXPECT_EQ(IdsOf(log.NextCommittedEntries(kNoBytesLimit)), (Ids{{5, 1}}));
  log.AppliedTo(5);
  EXPECT_FALSE(log.HasNextCommittedEntries());
  EXPECT_TRUE(log.NextCommittedEntries(kNoBytesLimit).empty());
}

TEST(RaftLogTest, NextCommittedEntriesStopAtTheLastDurableEntry) {
  // Committed (the leader counted a quorum without us) but not yet written
  // here: it must not be applied until it is durable locally.
  MemoryStorage storage;
  ASSERT_TRUE(storage.ApplySnapshot(MakeSnapshot(3, 1)).ok());
  RaftLog log(&storage);
  log.Append(MakeEntries({{4, 1}, {5, 1}, {6, 1}}));
  log.CommitTo(5);
  EXPECT_FALSE(log.HasNextCommittedEntries());
  ASSERT_TRUE(storage.Append(MakeEntries({{4, 1}})).ok());
  log.StableTo(4, 1);
  EXPECT_EQ(IdsOf(log.NextCommittedEntries(kNoBytesLimit)), (Ids{{4, 1}}));
}

TEST(RaftLogTest, NextCommittedEntriesSkipThoseBeingApplied) {
  MemoryStorage storage;
  RaftLog log(&storage);
  log.Append(MakeEntries({{1, 1}, {2, 1}, {3, 1}}));
  Persist(log, storage);
  log.CommitTo(3);
  log.AcceptApplying(2);
  EXPECT_EQ(log.applying(), 2u);
  EXPECT_EQ(IdsOf(log.NextCommittedEntries(kNoBytesLimit)), (Ids{{3, 1}}));
  log.AppliedTo(1);
  EXPECT_EQ(log.applying(), 2u);
  EXPECT_EQ(IdsOf(log.NextCommittedEntries(kNoBytesLimit)), (Ids{{3, 1}}));
}

TEST(RaftLogTest, NextCommittedEntriesAreLimitedByBytesButAtLeastOne) {
  MemoryStorage storage;
  RaftLog log(&storage);
  log.Append(MakeEntries({{1, 1}, {2, 1}, {3, 1}}));
  Persist(log, storage);
  log.CommitTo(3);
  EXPECT_EQ(IdsOf(log.NextCommittedEntries(0)), (Ids{{1, 1}}));
  const uint64_t one = EntryBytes(MakeEntry(1, 1));
  EXPECT_EQ(IdsOf(log.NextCommittedEntries(2 * one)), (Ids{{1, 1}, {2, 1}}));
}

TEST(RaftLogTest, NextCommittedEntriesWaitForAPendingSnapshot) {
  MemoryStorage storage;
  RaftLog log(&storage);
  log.Append(MakeEntries({{1, 1}}));
  Persist(log, storage);
  log.CommitTo(1);
  log.Restore(MakeSnapshot(10, 2));
  log.Append(MakeEntries({{11, 2}}));
  EXPECT_FALSE(log.HasNextCommittedEntries());
  Persist(log, storage);
  log.CommitTo(11);
  // The snapshot is durable; once applied, the entries after it follow.
  log.AppliedTo(10);
  EXPECT_EQ(IdsOf(log.NextCommittedEntries(kNoBytesLimit)), (Ids{{11, 2}}));
}

TEST(RaftLogTest, AppliedToOutOfRangeDies) {
  StoredLog stored({{1, 1}, {2, 1}});
  stored.log->CommitTo(1);
  EXPECT_DEATH(stored.log->AppliedTo(2), "out of range");
  stored.log->AppliedTo(1);
  EXPECT_DEATH(stored.log->AppliedTo(0), "out of range");
}

TEST(RaftLogTest, AcceptApplyingBeyondCommittedDies) {
  StoredLog stored({{1, 1}, {2, 1}});
  stored.log->CommitTo(1);
  EXPECT_DEATH(stored.log->AcceptApplying(2), "out of range");
}

TEST(RaftLogTest, UnstableEntriesAreHandedOutOnceAndDroppedWhenStable) {
  StoredLog stored({{1, 1}, {2, 2}});
  RaftLog& log = *stored.log;
  log.Append(MakeEntries({{3, 3}}));
  EXPECT_EQ(IdsOf(log.UnstableEntries()), (Ids{{3, 3}}));
  EXPECT_TRUE(log.HasNextUnstableEntries());
  const std::vector<Entry> batch = log.NextUnstableEntries();
  EXPECT_EQ(IdsOf(batch), (Ids{{3, 3}}));
  log.AcceptUnstable();
  EXPECT_FALSE(log.HasNextUnstableEntries());
  // Still unstable while the write is in flight.
  EXPECT_EQ(IdsOf(log.UnstableEntries()), (Ids{{3, 3}}));
  ASSERT_TRUE(stored.storage.Append(batch).ok());
  log.StableTo(3, 3);
  EXPECT_TRUE(log.UnstableEntries().empty());
  EXPECT_EQ(log.unstable().offset(), 4u);
  EXPECT_EQ(AllIds(log), (Ids{{1, 1}, {2, 2}, {3, 3}}));
}

TEST(RaftLogTest, StableToOfARewrittenEntryIsIgnored) {
  StoredLog stored({{1, 1}});
  RaftLog& log = *stored.log;
  log.Append(MakeEntries({{2, 1}, {3, 1}}));
  const std::vector<Entry> old_batch = log.NextUnstableEntries();
  log.AcceptUnstable();
  log.Append(MakeEntries({{3, 2}}));  // a new leader rewrites entry 3
  ASSERT_TRUE(stored.storage.Append(old_batch).ok());
  log.StableTo(3, 1);
  EXPECT_EQ(log.unstable().offset(), 2u);
  EXPECT_EQ(IdsOf(log.UnstableEntries()), (Ids{{2, 1}, {3, 2}}));
  EXPECT_EQ(IdsOf(log.NextUnstableEntries()), (Ids{{3, 2}}));
  // Entry 2 was in the old write, so acknowledging it works.
  log.StableTo(2, 1);
  EXPECT_EQ(log.unstable().offset(), 3u);
}

TEST(RaftLogTest, StableToAfterSnapshotMovesPastIt) {
  MemoryStorage storage;
  ASSERT_TRUE(storage.ApplySnapshot(MakeSnapshot(100, 1)).ok());
  RaftLog log(&storage);
  log.Append(MakeEntries({{101, 1}, {102, 1}}));
  ASSERT_TRUE(storage.Append(MakeEntries({{101, 1}})).ok());
  log.StableTo(101, 1);
  EXPECT_EQ(log.unstable().offset(), 102u);
  EXPECT_EQ(IdsOf(log.UnstableEntries()), (Ids{{102, 1}}));
}

TEST(RaftLogTest, StableToWithoutWritingStorageBreaksAnInvariant) {
  // The driver acknowledges entries it never wrote: the log would lose
  // committed entries, which the invariant check catches.
  MemoryStorage storage;
  RaftLog log(&storage);
  log.Append(MakeEntries({{1, 1}, {2, 1}}));
  log.CommitTo(2);
  EXPECT_DEATH(log.StableTo(2, 1), "committed_ <= LastIndex");
}

// A log of 100 entries after a snapshot at (100, 100): 101 to 149 durable,
// 150 to 199 unstable.
struct SplitLog {
  SplitLog() {
    EXPECT_TRUE(storage.ApplySnapshot(MakeSnapshot(100, 100)).ok());
    std::vector<Entry> stored;
    for (uint64_t index = 101; index < 150; ++index) {
      stored.push_back(MakeEntry(index, index));
    }
    EXPECT_TRUE(storage.Append(stored).ok());
    log = std::make_unique<RaftLog>(&storage);
    std::vector<Entry> unstable;
    for (uint64_t index = 150; index < 200; ++index) {
      unstable.push_back(MakeEntry(index, index));
    }
    log->Append(unstable);
  }
  MemoryStorage storage;
  std::unique_ptr<RaftLog> log;
};

TEST(RaftLogTest, SliceBeforeFirstIndexIsCompacted) {
  const SplitLog split;
  EXPECT_TRUE(IsCompacted(split.log->Slice(99, 101, kNoBytesLimit).status()));
  EXPECT_TRUE(IsCompacted(split.log->Slice(100, 101, kNoBytesLimit).status()));
}

TEST(RaftLogTest, SlicePastLastIndexIsUnavailable) {
  const SplitLog split;
  EXPECT_TRUE(
      IsLogUnavailable(split.log->Slice(199, 201, kNoBytesLimit).status()));
  EXPECT_TRUE(
      IsLogUnavailable(split.log->Slice(201, 202, kNoBytesLimit).status()));
}

TEST(RaftLogTest, SliceWithLoAboveHiIsInvalid) {
  const SplitLog split;
  EXPECT_EQ(split.log->Slice(150, 149, kNoBytesLimit).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(RaftLogTest, SliceOfEmptyRangeIsEmpty) {
  const SplitLog split;
  EXPECT_TRUE(split.log->Slice(101, 101, kNoBytesLimit)->empty());
  EXPECT_TRUE(split.log->Slice(200, 200, kNoBytesLimit)->empty());
}

TEST(RaftLogTest, SliceWithinStorageOrWithinUnstable) {
  const SplitLog split;
  EXPECT_EQ(IdsOf(*split.log->Slice(101, 103, kNoBytesLimit)),
            (Ids{{101, 101}, {102, 102}}));
  EXPECT_EQ(IdsOf(*split.log->Slice(150, 151, kNoBytesLimit)),
            (Ids{{150, 150}}));
  EXPECT_EQ(IdsOf(*split.log->Slice(199, 200, kNoBytesLimit)),
            (Ids{{199, 199}}));
}

TEST(RaftLogTest, SliceAcrossTheStorageUnstableBoundaryMerges) {
  const SplitLog split;
  EXPECT_EQ(IdsOf(*split.log->Slice(148, 152, kNoBytesLimit)),
            (Ids{{148, 148}, {149, 149}, {150, 150}, {151, 151}}));
  EXPECT_EQ(split.log->Slice(101, 200, kNoBytesLimit)->size(), 99u);
}

TEST(RaftLogTest, SliceLimitedByBytesReturnsAtLeastOneEntry) {
  const SplitLog split;
  EXPECT_EQ(IdsOf(*split.log->Slice(149, 151, 0)), (Ids{{149, 149}}));
  EXPECT_EQ(IdsOf(*split.log->Slice(150, 152, 0)), (Ids{{150, 150}}));
}

TEST(RaftLogTest, SliceLimitedByBytesAcrossTheBoundary) {
  const SplitLog split;
  const uint64_t one = EntryBytes(MakeEntry(149, 149));
  ASSERT_EQ(one, EntryBytes(MakeEntry(150, 150)));
  EXPECT_EQ(IdsOf(*split.log->Slice(149, 152, one)), (Ids{{149, 149}}));
  EXPECT_EQ(IdsOf(*split.log->Slice(149, 152, 2 * one)),
            (Ids{{149, 149}, {150, 150}}));
  EXPECT_EQ(IdsOf(*split.log->Slice(149, 152, 2 * one + one / 2)),
            (Ids{{149, 149}, {150, 150}}));
  // The limit is reached inside the storage part: the unstable part is not
  // consulted.
  EXPECT_EQ(IdsOf(*split.log->Slice(147, 152, 2 * one)),
            (Ids{{147, 147}, {148, 148}}));
}

TEST(RaftLogTest, SliceAfterStorageCompactionIsCompacted) {
  SplitLog split;
  split.log->CommitTo(130);
  split.log->AppliedTo(120);
  ASSERT_TRUE(split.storage.Compact(120).ok());
  EXPECT_TRUE(IsCompacted(split.log->Slice(110, 130, kNoBytesLimit).status()));
  EXPECT_EQ(split.log->FirstIndex(), 121u);
  EXPECT_EQ(*split.log->Term(120), 120u);
}

TEST(RaftLogTest, EntriesFromReadsToTheEnd) {
  const SplitLog split;
  EXPECT_EQ(IdsOf(*split.log->EntriesFrom(198, kNoBytesLimit)),
            (Ids{{198, 198}, {199, 199}}));
  EXPECT_TRUE(split.log->EntriesFrom(200, kNoBytesLimit)->empty());
  EXPECT_TRUE(IsCompacted(split.log->EntriesFrom(100, kNoBytesLimit).status()));
}

// A Storage whose entry reads fail, as a disk would.
class FailingStorage : public MemoryStorage {
 public:
  absl::StatusOr<std::vector<Entry>> Entries(uint64_t, uint64_t,
                                             uint64_t) const override {
    return absl::DataLossError("checksum mismatch");
  }
  absl::StatusOr<raft::Snapshot> Snapshot() const override {
    return SnapshotTemporarilyUnavailableError("being generated");
  }
};

TEST(RaftLogTest, SliceForwardsStorageFailures) {
  FailingStorage storage;
  ASSERT_TRUE(storage.Append(MakeEntries({{1, 1}})).ok());
  const RaftLog log(&storage);
  EXPECT_EQ(log.Slice(1, 2, kNoBytesLimit).status().code(),
            absl::StatusCode::kDataLoss);
}

TEST(RaftLogTest, SnapshotComesFromStorageUnlessOneIsPending) {
  FailingStorage storage;
  RaftLog log(&storage);
  EXPECT_TRUE(IsSnapshotTemporarilyUnavailable(log.Snapshot().status()));
  log.Restore(MakeSnapshot(5, 2));
  EXPECT_EQ(log.Snapshot()->metadata().index(), 5u);
}

TEST(RaftLogTest, RestoreMakesTheSnapshotTheWholeLog) {
  MemoryStorage storage;
  RaftLog log(&storage);
  log.Append(MakeEntries({{1, 1}, {2, 1}}));
  log.Restore(MakeSnapshot(100, 1000));
  EXPECT_EQ(log.committed(), 100u);
  EXPECT_EQ(log.applied(), 0u);
  EXPECT_EQ(log.FirstIndex(), 101u);
  EXPECT_EQ(log.LastIndex(), 100u);
  EXPECT_EQ(log.LastTerm(), 1000u);
  EXPECT_EQ(*log.Term(100), 1000u);
  EXPECT_TRUE(log.UnstableEntries().empty());
  ASSERT_TRUE(log.NextUnstableSnapshot().has_value());
  EXPECT_EQ(log.NextUnstableSnapshot()->metadata().index(), 100u);
  Persist(log, storage);
  EXPECT_FALSE(log.unstable().snapshot().has_value());
  EXPECT_EQ(log.FirstIndex(), 101u);
  EXPECT_EQ(log.LastTerm(), 1000u);
}

TEST(RaftLogTest, RestoreBelowCommittedDies) {
  StoredLog stored({{1, 1}, {2, 1}});
  stored.log->CommitTo(2);
  EXPECT_DEATH(stored.log->Restore(MakeSnapshot(1, 1)), "lower committed");
}

TEST(RaftLogTest, ToStringDescribesTheLog) {
  StoredLog stored({{1, 1}, {2, 1}});
  stored.log->Append(MakeEntries({{3, 2}}));
  stored.log->CommitTo(2);
  stored.log->AppliedTo(1);
  EXPECT_EQ(stored.log->ToString(),
            "committed=2 applying=1 applied=1 first=1 last=3 "
            "unstable{offset=3 offset_in_progress=3 entries=1}");
}

// The property's driver for one follower: its storage, its log, and the
// writes handed out but not yet completed, oldest first.
struct Follower {
  MemoryStorage storage;
  std::unique_ptr<RaftLog> log;
  std::deque<std::vector<Entry>> writes;

  void AcceptWrite() {
    std::vector<Entry> batch = log->NextUnstableEntries();
    log->AcceptUnstable();
    if (!batch.empty()) writes.push_back(std::move(batch));
  }

  void CompleteWrite() {
    if (writes.empty()) return;
    const std::vector<Entry> batch = std::move(writes.front());
    writes.pop_front();
    RC_ASSERT(storage.Append(batch).ok());
    log->StableTo(batch.back().index(), batch.back().term());
  }
};

// A leader as the follower sees it: its log and the highest commit index it
// may send.
struct Sender {
  std::vector<Entry> entries;
  uint64_t committed = 0;

  uint64_t TermAt(uint64_t index) const {
    return index == 0 ? 0 : entries[index - 1].term();
  }
};

// Logs of different origins never share a term, so that two entries with the
// same index and term are always the same entry (the Log Matching property,
// paper §5.3): the current leader's terms are multiples of 3, a deposed
// leader's are 1 modulo 3, and the follower's own stale entries 2 modulo 3.
constexpr uint64_t kLeaderResidue = 0;
constexpr uint64_t kDeposedResidue = 1;
constexpr uint64_t kFollowerResidue = 2;

// The first `shared` entries of `base`, followed by `count` entries whose
// terms are `residue` modulo 3, non-decreasing, and above the last shared
// term; data `fill` of varied length.
std::vector<Entry> GenLogFrom(const std::vector<Entry>& base, uint64_t shared,
                              uint64_t count, uint64_t residue, char fill) {
  std::vector<Entry> entries = Sub(base, 0, shared);
  uint64_t term = shared == 0 ? 1 : base[shared - 1].term() + 1;
  while (term % 3 != residue) ++term;
  for (uint64_t index = shared + 1; index <= shared + count; ++index) {
    term += 3 * *rc::gen::inRange<uint64_t>(0, 2);
    entries.push_back(MakeEntry(
        index, term, std::string(*rc::gen::inRange<size_t>(0, 16), fill)));
  }
  return entries;
}

// Checks the safety of the follower against the current leader's log: no
// commit beyond the leader's, every committed entry still held is the
// leader's, and the compaction point is committed too.
void CheckCommittedPrefix(const RaftLog& log, const Sender& leader) {
  RC_ASSERT(log.committed() <= leader.committed);
  RC_ASSERT(log.FirstIndex() - 1 <= log.applied());
  RC_ASSERT(*log.Term(log.FirstIndex() - 1) ==
            leader.TermAt(log.FirstIndex() - 1));
  if (log.FirstIndex() > log.committed()) return;
  const absl::StatusOr<std::vector<Entry>> held =
      log.Slice(log.FirstIndex(), log.committed() + 1, kNoBytesLimit);
  RC_ASSERT(held.ok());
  for (const Entry& entry : *held) {
    RC_ASSERT(entry.SerializeAsString() ==
              leader.entries[entry.index() - 1].SerializeAsString());
  }
}

// One random step of the follower's life: an append from `sender` (possibly
// stale: any previous index, any run of entries after it, any commit up to
// the sender's), starting or completing a write, applying, or compacting
// what was applied. Checks safety against `leader` afterwards.
void RandomStep(Follower& follower, const Sender& sender,
                const Sender& leader) {
  RaftLog& log = *follower.log;
  const uint64_t committed_before = log.committed();
  const int op = *rc::gen::inRange(0, 10);
  if (op < 4) {
    const uint64_t n = sender.entries.size();
    const uint64_t prev = *rc::gen::inRange<uint64_t>(0, n + 1);
    const uint64_t count = *rc::gen::inRange<uint64_t>(0, n - prev + 1);
    const std::vector<Entry> entries = Sub(sender.entries, prev, prev + count);
    const uint64_t commit =
        *rc::gen::inRange<uint64_t>(0, sender.committed + 1);
    log.MaybeAppend(prev, sender.TermAt(prev), commit, entries);
  } else if (op < 6) {
    follower.AcceptWrite();
  } else if (op < 8) {
    follower.CompleteWrite();
  } else if (op < 9) {
    const std::vector<Entry> applying =
        log.NextCommittedEntries(*rc::gen::inRange<uint64_t>(0, 100));
    for (const Entry& entry : applying) {
      RC_ASSERT(entry.SerializeAsString() ==
                leader.entries[entry.index() - 1].SerializeAsString());
    }
    if (!applying.empty()) log.AppliedTo(applying.back().index());
  } else {
    const uint64_t hi = std::min(log.applied(), follower.storage.LastIndex());
    if (hi >= follower.storage.FirstIndex()) {
      RC_ASSERT(follower.storage
                    .Compact(*rc::gen::inRange<uint64_t>(
                        follower.storage.FirstIndex(), hi + 1))
                    .ok());
    }
  }
  RC_ASSERT(log.committed() >= committed_before);
  CheckCommittedPrefix(log, leader);
}

// The leader probes back from its last entry until an append is accepted
// (a follower that has committed past the probe answers with its commit
// index, since what it committed matches), then everything is written.
void CatchUp(Follower& follower, const Sender& leader_sender,
             const RaftLog& leader) {
  RaftLog& log = *follower.log;
  uint64_t prev = leader.LastIndex();
  for (uint64_t round = 0;; ++round) {
    RC_ASSERT(round <= 2 * leader.LastIndex() + 2);
    prev = std::max(prev, log.committed());
    const std::vector<Entry> entries =
        Sub(leader_sender.entries, prev, leader_sender.entries.size());
    if (log.MaybeAppend(prev, *leader.Term(prev), leader.committed(),
                        entries)) {
      break;
    }
    const EntryId hint = log.FindConflictByTerm(prev, *leader.Term(prev));
    const uint64_t next =
        leader.FindConflictByTerm(hint.index, hint.term).index;
    RC_ASSERT(next < prev);
    prev = next;
  }
  follower.AcceptWrite();
  while (!follower.writes.empty()) follower.CompleteWrite();
}

// A follower starts with a stale log of its own, first hears appends from a
// deposed leader, then only from the current one (by then the deposed
// leader's messages carry a stale term, which the layer above rejects).
// Whatever the order of appends (stale, duplicated, out of order) and of
// asynchronous writes (some of which write entries truncated meanwhile),
// applies and compactions: the follower never loses or changes a committed
// entry, never applies anything but the leader's entries, and once caught up
// holds the leader's log and commit index.
RC_GTEST_PROP(RaftLogProperty, FollowerNeverLosesCommittedEntries, ()) {
  const uint64_t n = *rc::gen::inRange<uint64_t>(1, 30);
  Sender leader_sender;
  leader_sender.entries = GenLogFrom({}, 0, n, kLeaderResidue, 'v');
  leader_sender.committed = *rc::gen::inRange<uint64_t>(0, n + 1);
  MemoryStorage leader_storage;
  RC_ASSERT(leader_storage.Append(leader_sender.entries).ok());
  RaftLog leader(&leader_storage);
  leader.CommitTo(leader_sender.committed);

  // The deposed leader shares a prefix with the leader, and committed no
  // further than both it and the leader hold.
  Sender deposed;
  const uint64_t deposed_shared = *rc::gen::inRange<uint64_t>(0, n + 1);
  deposed.entries =
      GenLogFrom(leader_sender.entries, deposed_shared,
                 *rc::gen::inRange<uint64_t>(0, 10), kDeposedResidue, 's');
  deposed.committed = *rc::gen::inRange<uint64_t>(
      0, std::min(deposed_shared, leader_sender.committed) + 1);

  Follower follower;
  const uint64_t shared = *rc::gen::inRange<uint64_t>(0, n + 1);
  RC_ASSERT(follower.storage
                .Append(GenLogFrom(leader_sender.entries, shared,
                                   *rc::gen::inRange<uint64_t>(0, 8),
                                   kFollowerResidue, 'f'))
                .ok());
  follower.log = std::make_unique<RaftLog>(&follower.storage);
  follower.log->CommitTo(*rc::gen::inRange<uint64_t>(
      0, std::min({shared, deposed_shared, deposed.committed}) + 1));

  const int deposed_steps = *rc::gen::inRange(0, 40);
  for (int step = 0; step < deposed_steps; ++step) {
    RandomStep(follower, deposed, leader_sender);
  }
  const int leader_steps = *rc::gen::inRange(0, 80);
  for (int step = 0; step < leader_steps; ++step) {
    RandomStep(follower, leader_sender, leader_sender);
  }

  CatchUp(follower, leader_sender, leader);
  RaftLog& log = *follower.log;
  RC_ASSERT(log.committed() == leader_sender.committed);
  RC_ASSERT(log.LastIndex() >= n);
  CheckCommittedPrefix(log, leader_sender);
  const absl::StatusOr<std::vector<Entry>> held =
      log.Slice(log.FirstIndex(), n + 1, kNoBytesLimit);
  RC_ASSERT(held.ok());
  for (const Entry& entry : *held) {
    RC_ASSERT(entry.SerializeAsString() ==
              leader_sender.entries[entry.index() - 1].SerializeAsString());
  }
  while (log.HasNextCommittedEntries()) {
    log.AppliedTo(log.NextCommittedEntries(kNoBytesLimit).back().index());
  }
  RC_ASSERT(log.applied() == leader_sender.committed);
}

}  // namespace
}  // namespace raftstore::raft
