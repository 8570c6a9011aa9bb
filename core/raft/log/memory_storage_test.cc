#include "core/raft/log/memory_storage.h"

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "core/raft/log/log_testing.h"
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

// Every entry the storage holds, with the compaction point first: the
// storage's whole state as (index, term) pairs.
Ids Contents(const MemoryStorage& storage) {
  Ids ids = {
      {storage.FirstIndex() - 1, *storage.Term(storage.FirstIndex() - 1)}};
  const absl::StatusOr<std::vector<Entry>> entries = storage.Entries(
      storage.FirstIndex(), storage.LastIndex() + 1, kNoBytesLimit);
  EXPECT_TRUE(entries.ok()) << entries.status();
  for (const auto& id : IdsOf(*entries)) ids.push_back(id);
  return ids;
}

// A storage compacted at (3, 3) holding entries (4, 4) and (5, 5), the log
// etcd's storage tests start from.
MemoryStorage MakeStorage345() {
  MemoryStorage storage;
  EXPECT_TRUE(storage.ApplySnapshot(MakeSnapshot(3, 3)).ok());
  EXPECT_TRUE(storage.Append({MakeEntry(4, 4), MakeEntry(5, 5)}).ok());
  return storage;
}

TEST(MemoryStorageTest, NewStorageIsAnEmptyLog) {
  const MemoryStorage storage;
  EXPECT_EQ(storage.FirstIndex(), 1u);
  EXPECT_EQ(storage.LastIndex(), 0u);
  EXPECT_EQ(*storage.Term(0), 0u);
  EXPECT_TRUE(IsLogUnavailable(storage.Term(1).status()));
  EXPECT_TRUE(storage.Entries(1, 1, kNoBytesLimit)->empty());
  EXPECT_TRUE(IsCompacted(storage.Entries(0, 1, kNoBytesLimit).status()));
  EXPECT_EQ(storage.Snapshot()->metadata().index(), 0u);
  const Storage::InitialState state = *storage.GetInitialState();
  EXPECT_EQ(state.hard_state.term(), 0u);
  EXPECT_EQ(state.conf_state.voters_size(), 0);
}

TEST(MemoryStorageTest, TermIsKnownFromCompactionPointToLastIndex) {
  const MemoryStorage storage = MakeStorage345();
  EXPECT_TRUE(IsCompacted(storage.Term(2).status()));
  EXPECT_EQ(*storage.Term(3), 3u);  // the compaction point itself
  EXPECT_EQ(*storage.Term(4), 4u);
  EXPECT_EQ(*storage.Term(5), 5u);
  EXPECT_TRUE(IsLogUnavailable(storage.Term(6).status()));
}

TEST(MemoryStorageTest, FirstAndLastIndexFollowCompaction) {
  MemoryStorage storage = MakeStorage345();
  EXPECT_EQ(storage.FirstIndex(), 4u);
  EXPECT_EQ(storage.LastIndex(), 5u);
  ASSERT_TRUE(storage.Compact(4).ok());
  EXPECT_EQ(storage.FirstIndex(), 5u);
  EXPECT_EQ(storage.LastIndex(), 5u);
  ASSERT_TRUE(storage.Append({MakeEntry(6, 5)}).ok());
  EXPECT_EQ(storage.LastIndex(), 6u);
}

TEST(MemoryStorageTest, EntriesAtOrBeforeCompactionPointAreCompacted) {
  MemoryStorage storage = MakeStorage345();
  ASSERT_TRUE(storage.Append({MakeEntry(6, 6)}).ok());
  EXPECT_TRUE(IsCompacted(storage.Entries(2, 6, kNoBytesLimit).status()));
  EXPECT_TRUE(IsCompacted(storage.Entries(3, 4, kNoBytesLimit).status()));
}

TEST(MemoryStorageTest, EntriesReturnsTheRange) {
  MemoryStorage storage = MakeStorage345();
  ASSERT_TRUE(storage.Append({MakeEntry(6, 6)}).ok());
  EXPECT_EQ(IdsOf(*storage.Entries(4, 5, kNoBytesLimit)), (Ids{{4, 4}}));
  EXPECT_EQ(IdsOf(*storage.Entries(4, 6, kNoBytesLimit)),
            (Ids{{4, 4}, {5, 5}}));
  EXPECT_EQ(IdsOf(*storage.Entries(4, 7, kNoBytesLimit)),
            (Ids{{4, 4}, {5, 5}, {6, 6}}));
  EXPECT_TRUE(storage.Entries(7, 7, kNoBytesLimit)->empty());
}

TEST(MemoryStorageTest, EntriesPastLastIndexAreUnavailable) {
  const MemoryStorage storage = MakeStorage345();
  EXPECT_TRUE(IsLogUnavailable(storage.Entries(4, 7, kNoBytesLimit).status()));
  EXPECT_TRUE(IsLogUnavailable(storage.Entries(7, 8, kNoBytesLimit).status()));
}

TEST(MemoryStorageTest, EntriesWithLoAboveHiIsInvalid) {
  const MemoryStorage storage = MakeStorage345();
  EXPECT_EQ(storage.Entries(5, 4, kNoBytesLimit).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(MemoryStorageTest, EntriesAreLimitedByBytesButReturnAtLeastOne) {
  MemoryStorage storage = MakeStorage345();
  ASSERT_TRUE(storage.Append({MakeEntry(6, 6)}).ok());
  const uint64_t one = EntryBytes(MakeEntry(4, 4));
  EXPECT_EQ(IdsOf(*storage.Entries(4, 7, 0)), (Ids{{4, 4}}));
  EXPECT_EQ(IdsOf(*storage.Entries(4, 7, one)), (Ids{{4, 4}}));
  EXPECT_EQ(IdsOf(*storage.Entries(4, 7, 2 * one)), (Ids{{4, 4}, {5, 5}}));
  EXPECT_EQ(IdsOf(*storage.Entries(4, 7, 2 * one + one / 2)),
            (Ids{{4, 4}, {5, 5}}));
  EXPECT_EQ(IdsOf(*storage.Entries(4, 7, 3 * one)),
            (Ids{{4, 4}, {5, 5}, {6, 6}}));
}

TEST(MemoryStorageTest, CompactMovesTheCompactionPointAndKeepsItsTerm) {
  MemoryStorage storage = MakeStorage345();
  ASSERT_TRUE(storage.Compact(4).ok());
  EXPECT_EQ(Contents(storage), (Ids{{4, 4}, {5, 5}}));
  EXPECT_TRUE(IsCompacted(storage.Term(3).status()));
  ASSERT_TRUE(storage.Compact(5).ok());
  EXPECT_EQ(Contents(storage), (Ids{{5, 5}}));
  EXPECT_EQ(storage.FirstIndex(), 6u);
  EXPECT_EQ(storage.LastIndex(), 5u);
}

TEST(MemoryStorageTest, CompactAtOrBeforeCompactionPointIsCompacted) {
  MemoryStorage storage = MakeStorage345();
  EXPECT_TRUE(IsCompacted(storage.Compact(2)));
  EXPECT_TRUE(IsCompacted(storage.Compact(3)));
  EXPECT_EQ(Contents(storage), (Ids{{3, 3}, {4, 4}, {5, 5}}));
}

TEST(MemoryStorageTest, CompactPastLastIndexIsUnavailable) {
  MemoryStorage storage = MakeStorage345();
  EXPECT_TRUE(IsLogUnavailable(storage.Compact(6)));
  EXPECT_EQ(Contents(storage), (Ids{{3, 3}, {4, 4}, {5, 5}}));
}

TEST(MemoryStorageTest, CreateSnapshotRecordsIndexTermConfStateAndData) {
  MemoryStorage storage = MakeStorage345();
  ConfState conf_state;
  conf_state.add_voters(1);
  conf_state.add_voters(2);
  const absl::StatusOr<raft::Snapshot> snapshot =
      storage.CreateSnapshot(4, conf_state, "image");
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  EXPECT_EQ(snapshot->metadata().index(), 4u);
  EXPECT_EQ(snapshot->metadata().term(), 4u);
  EXPECT_EQ(snapshot->metadata().format_version(), kSnapshotFormatVersion);
  EXPECT_EQ(snapshot->metadata().conf_state().voters_size(), 2);
  EXPECT_EQ(snapshot->data(), "image");
  EXPECT_EQ(storage.Snapshot()->SerializeAsString(),
            snapshot->SerializeAsString());
  // The log is left alone; compaction is separate.
  EXPECT_EQ(Contents(storage), (Ids{{3, 3}, {4, 4}, {5, 5}}));
  EXPECT_EQ(storage.GetInitialState()->conf_state.voters_size(), 2);
}

TEST(MemoryStorageTest, CreateSnapshotAtOrBeforeLatestIsOutOfDate) {
  MemoryStorage storage = MakeStorage345();
  ASSERT_TRUE(storage.CreateSnapshot(5, ConfState(), "").ok());
  EXPECT_TRUE(
      IsSnapshotOutOfDate(storage.CreateSnapshot(4, ConfState(), "").status()));
  EXPECT_TRUE(
      IsSnapshotOutOfDate(storage.CreateSnapshot(5, ConfState(), "").status()));
}

TEST(MemoryStorageTest, CreateSnapshotOfCompactedEntryIsCompacted) {
  MemoryStorage storage = MakeStorage345();
  ASSERT_TRUE(storage.Compact(5).ok());
  EXPECT_TRUE(IsCompacted(storage.CreateSnapshot(4, ConfState(), "").status()));
  // The compaction point's term is still known, so it can be snapshotted.
  EXPECT_TRUE(storage.CreateSnapshot(5, ConfState(), "").ok());
}

TEST(MemoryStorageTest, CreateSnapshotPastLastIndexIsUnavailable) {
  MemoryStorage storage = MakeStorage345();
  EXPECT_TRUE(
      IsLogUnavailable(storage.CreateSnapshot(6, ConfState(), "").status()));
}

TEST(MemoryStorageTest, AppendOfHeldEntriesChangesNothing) {
  MemoryStorage storage = MakeStorage345();
  ASSERT_TRUE(
      storage.Append({MakeEntry(3, 3), MakeEntry(4, 4), MakeEntry(5, 5)}).ok());
  EXPECT_EQ(Contents(storage), (Ids{{3, 3}, {4, 4}, {5, 5}}));
}

TEST(MemoryStorageTest, AppendReplacesConflictingSuffix) {
  MemoryStorage storage = MakeStorage345();
  ASSERT_TRUE(
      storage.Append({MakeEntry(3, 3), MakeEntry(4, 6), MakeEntry(5, 6)}).ok());
  EXPECT_EQ(Contents(storage), (Ids{{3, 3}, {4, 6}, {5, 6}}));
}

TEST(MemoryStorageTest, AppendExtendsPastLastIndex) {
  MemoryStorage storage = MakeStorage345();
  ASSERT_TRUE(storage
                  .Append({MakeEntry(3, 3), MakeEntry(4, 4), MakeEntry(5, 5),
                           MakeEntry(6, 5)})
                  .ok());
  EXPECT_EQ(Contents(storage), (Ids{{3, 3}, {4, 4}, {5, 5}, {6, 5}}));
}

TEST(MemoryStorageTest, AppendSkipsCompactedEntries) {
  MemoryStorage storage = MakeStorage345();
  ASSERT_TRUE(
      storage.Append({MakeEntry(2, 3), MakeEntry(3, 3), MakeEntry(4, 5)}).ok());
  EXPECT_EQ(Contents(storage), (Ids{{3, 3}, {4, 5}}));
}

TEST(MemoryStorageTest, AppendWhollyCompactedChangesNothing) {
  MemoryStorage storage = MakeStorage345();
  ASSERT_TRUE(storage.Append({MakeEntry(2, 2), MakeEntry(3, 3)}).ok());
  EXPECT_EQ(Contents(storage), (Ids{{3, 3}, {4, 4}, {5, 5}}));
}

TEST(MemoryStorageTest, AppendTruncatesAtItsFirstIndex) {
  MemoryStorage storage = MakeStorage345();
  ASSERT_TRUE(storage.Append({MakeEntry(4, 5)}).ok());
  EXPECT_EQ(Contents(storage), (Ids{{3, 3}, {4, 5}}));
}

TEST(MemoryStorageTest, AppendDirectlyAfterLastIndex) {
  MemoryStorage storage = MakeStorage345();
  ASSERT_TRUE(storage.Append({MakeEntry(6, 5)}).ok());
  EXPECT_EQ(Contents(storage), (Ids{{3, 3}, {4, 4}, {5, 5}, {6, 5}}));
}

TEST(MemoryStorageTest, AppendEmptyChangesNothing) {
  MemoryStorage storage = MakeStorage345();
  ASSERT_TRUE(storage.Append({}).ok());
  EXPECT_EQ(Contents(storage), (Ids{{3, 3}, {4, 4}, {5, 5}}));
}

TEST(MemoryStorageTest, AppendLeavingAGapIsRefused) {
  MemoryStorage storage = MakeStorage345();
  EXPECT_EQ(storage.Append({MakeEntry(7, 5)}).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Contents(storage), (Ids{{3, 3}, {4, 4}, {5, 5}}));
}

TEST(MemoryStorageTest, AppendOfNonConsecutiveEntriesIsRefused) {
  MemoryStorage storage = MakeStorage345();
  EXPECT_EQ(storage.Append({MakeEntry(6, 5), MakeEntry(8, 5)}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(storage.Append({MakeEntry(6, 5), MakeEntry(6, 5)}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Contents(storage), (Ids{{3, 3}, {4, 4}, {5, 5}}));
}

TEST(MemoryStorageTest, AppendWithDecreasingTermIsRefused) {
  MemoryStorage storage = MakeStorage345();
  // Within the list.
  EXPECT_EQ(storage.Append({MakeEntry(6, 6), MakeEntry(7, 5)}).code(),
            absl::StatusCode::kInvalidArgument);
  // Against the stored entry before the first one.
  EXPECT_EQ(storage.Append({MakeEntry(6, 4)}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Contents(storage), (Ids{{3, 3}, {4, 4}, {5, 5}}));
}

TEST(MemoryStorageTest, AppendAtIndexZeroIsRefused) {
  MemoryStorage storage;
  EXPECT_EQ(storage.Append({MakeEntry(0, 0), MakeEntry(1, 1)}).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(MemoryStorageTest, ApplySnapshotReplacesTheLog) {
  MemoryStorage storage = MakeStorage345();
  raft::Snapshot snapshot = MakeSnapshot(10, 7);
  snapshot.mutable_metadata()->mutable_conf_state()->add_voters(3);
  snapshot.set_data("state");
  ASSERT_TRUE(storage.ApplySnapshot(snapshot).ok());
  EXPECT_EQ(Contents(storage), (Ids{{10, 7}}));
  EXPECT_EQ(storage.FirstIndex(), 11u);
  EXPECT_EQ(storage.LastIndex(), 10u);
  EXPECT_EQ(storage.Snapshot()->data(), "state");
  EXPECT_EQ(storage.GetInitialState()->conf_state.voters(0), 3u);
}

TEST(MemoryStorageTest, ApplySnapshotNoNewerThanCurrentIsOutOfDate) {
  MemoryStorage storage;
  ASSERT_TRUE(storage.ApplySnapshot(MakeSnapshot(4, 4)).ok());
  EXPECT_TRUE(IsSnapshotOutOfDate(storage.ApplySnapshot(MakeSnapshot(3, 3))));
  EXPECT_TRUE(IsSnapshotOutOfDate(storage.ApplySnapshot(MakeSnapshot(4, 4))));
  EXPECT_TRUE(storage.ApplySnapshot(MakeSnapshot(5, 5)).ok());
}

TEST(MemoryStorageTest, ApplySnapshotAtOrBeforeCompactionPointIsOutOfDate) {
  MemoryStorage storage = MakeStorage345();
  ASSERT_TRUE(storage.Compact(5).ok());
  EXPECT_TRUE(IsSnapshotOutOfDate(storage.ApplySnapshot(MakeSnapshot(4, 4))));
  EXPECT_TRUE(IsSnapshotOutOfDate(storage.ApplySnapshot(MakeSnapshot(5, 5))));
  EXPECT_EQ(Contents(storage), (Ids{{5, 5}}));
}

TEST(MemoryStorageTest, ApplySnapshotAtIndexZeroBootstrapsAFreshStorage) {
  MemoryStorage storage;
  raft::Snapshot snapshot = MakeSnapshot(0, 0);
  snapshot.mutable_metadata()->mutable_conf_state()->add_voters(1);
  ASSERT_TRUE(storage.ApplySnapshot(snapshot).ok());
  EXPECT_EQ(storage.FirstIndex(), 1u);
  EXPECT_EQ(storage.GetInitialState()->conf_state.voters(0), 1u);
}

TEST(MemoryStorageTest, ApplySnapshotWithTermZeroOnlyAtIndexZero) {
  MemoryStorage storage;
  EXPECT_EQ(storage.ApplySnapshot(MakeSnapshot(5, 0)).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(storage.ApplySnapshot(MakeSnapshot(0, 5)).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(MemoryStorageTest, SetHardStateIsReturnedByInitialState) {
  MemoryStorage storage;
  HardState hard_state;
  hard_state.set_term(5);
  hard_state.set_vote(2);
  hard_state.set_commit(3);
  storage.SetHardState(hard_state);
  const Storage::InitialState state = *storage.GetInitialState();
  EXPECT_EQ(state.hard_state.term(), 5u);
  EXPECT_EQ(state.hard_state.vote(), 2u);
  EXPECT_EQ(state.hard_state.commit(), 3u);
}

// The model for the property below: the whole log ever written (so that the
// term of the compaction point stays known), and the compaction point.
struct LogModel {
  // log[i] has index i + 1.
  std::vector<Entry> log;
  uint64_t compacted = 0;

  uint64_t LastIndex() const { return log.size(); }
  uint64_t TermAt(uint64_t index) const {
    return index == 0 ? 0 : log[index - 1].term();
  }

  // The status Append must return, applying the entries when it is OK.
  absl::StatusCode Append(const std::vector<Entry>& entries) {
    std::vector<Entry> kept;
    for (const Entry& entry : entries) {
      if (entry.index() > compacted) kept.push_back(entry);
    }
    if (kept.empty()) return absl::StatusCode::kOk;
    const uint64_t first = kept.front().index();
    if (first > LastIndex() + 1) return absl::StatusCode::kFailedPrecondition;
    if (kept.front().term() < TermAt(first - 1)) {
      return absl::StatusCode::kInvalidArgument;
    }
    log.resize(first - 1);
    log.insert(log.end(), kept.begin(), kept.end());
    return absl::StatusCode::kOk;
  }
};

// A batch of 0 to 5 consecutive entries starting at `first`, with
// non-decreasing terms from at least `min_term` (sometimes one less, to be
// refused), and data of varied size so that byte limits bite.
std::vector<Entry> GenBatch(uint64_t first, uint64_t min_term) {
  const size_t count = *rc::gen::inRange<size_t>(0, 6);
  uint64_t term = min_term;
  if (term > 0 && *rc::gen::inRange(0, 10) == 0) --term;
  std::vector<Entry> batch;
  for (size_t i = 0; i < count; ++i) {
    term += *rc::gen::inRange<uint64_t>(0, 2);
    batch.push_back(MakeEntry(
        first + i, term, std::string(*rc::gen::inRange<size_t>(0, 20), 'd')));
  }
  return batch;
}

// Checks every read of `storage` against the model.
void CheckAgainstModel(const MemoryStorage& storage, const LogModel& model) {
  RC_ASSERT(storage.FirstIndex() == model.compacted + 1);
  RC_ASSERT(storage.LastIndex() == model.LastIndex());
  for (uint64_t index = 0; index <= model.LastIndex() + 1; ++index) {
    const absl::StatusOr<uint64_t> term = storage.Term(index);
    if (index < model.compacted) {
      RC_ASSERT(IsCompacted(term.status()));
    } else if (index > model.LastIndex()) {
      RC_ASSERT(IsLogUnavailable(term.status()));
    } else {
      RC_ASSERT(term.ok());
      RC_ASSERT(*term == model.TermAt(index));
    }
  }
  const uint64_t lo = *rc::gen::inRange<uint64_t>(0, model.LastIndex() + 3);
  const uint64_t hi = *rc::gen::inRange<uint64_t>(lo, model.LastIndex() + 3);
  const uint64_t bytes_max = *rc::gen::inRange<uint64_t>(0, 120);
  const absl::StatusOr<std::vector<Entry>> entries =
      storage.Entries(lo, hi, bytes_max);
  if (lo <= model.compacted) {
    RC_ASSERT(IsCompacted(entries.status()));
  } else if (hi > model.LastIndex() + 1) {
    RC_ASSERT(IsLogUnavailable(entries.status()));
  } else {
    RC_ASSERT(entries.ok());
    uint64_t bytes = 0;
    std::vector<Entry> expected;
    for (uint64_t index = lo; index < hi; ++index) {
      const Entry& entry = model.log[index - 1];
      bytes += entry.ByteSizeLong();
      if (!expected.empty() && bytes > bytes_max) break;
      expected.push_back(entry);
    }
    RC_ASSERT(entries->size() == expected.size());
    for (size_t i = 0; i < expected.size(); ++i) {
      RC_ASSERT((*entries)[i].SerializeAsString() ==
                expected[i].SerializeAsString());
    }
  }
}

RC_GTEST_PROP(MemoryStorageProperty, AppendAndCompactMatchAVectorModel, ()) {
  MemoryStorage storage;
  LogModel model;
  const int steps = *rc::gen::inRange(0, 60);
  for (int step = 0; step < steps; ++step) {
    if (*rc::gen::inRange(0, 4) != 0) {
      // Start anywhere from just before the compaction point to one past the
      // end (a gap).
      const uint64_t low = model.compacted > 1 ? model.compacted - 1 : 1;
      const uint64_t first =
          *rc::gen::inRange<uint64_t>(low, model.LastIndex() + 3);
      const uint64_t min_term =
          model.TermAt(std::min<uint64_t>(first - 1, model.LastIndex()));
      const std::vector<Entry> batch = GenBatch(first, min_term);
      const absl::StatusCode expected = model.Append(batch);
      RC_ASSERT(storage.Append(batch).code() == expected);
    } else {
      const uint64_t index =
          *rc::gen::inRange<uint64_t>(0, model.LastIndex() + 3);
      const absl::Status status = storage.Compact(index);
      if (index <= model.compacted) {
        RC_ASSERT(IsCompacted(status));
      } else if (index > model.LastIndex()) {
        RC_ASSERT(IsLogUnavailable(status));
      } else {
        RC_ASSERT(status.ok());
        model.compacted = index;
      }
    }
    CheckAgainstModel(storage, model);
  }
}

TEST(MemoryStorageTest, IndexZeroSnapshotIsRefusedOnANonEmptyLog) {
  MemoryStorage storage;
  ASSERT_TRUE(
      storage.Append({MakeEntry(1, 1), MakeEntry(2, 1), MakeEntry(3, 2)}).ok());
  Snapshot empty;  // index 0, term 0: only a bootstrap may use it
  EXPECT_TRUE(IsSnapshotOutOfDate(storage.ApplySnapshot(empty)));
  EXPECT_EQ(storage.LastIndex(), 3u);
}

}  // namespace
}  // namespace raftstore::raft
