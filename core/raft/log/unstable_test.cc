#include "core/raft/log/unstable.h"

#include <cstdint>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "core/raft/log/log_testing.h"
#include "gtest/gtest.h"
#include "proto/raft.pb.h"

namespace raftstore::raft {
namespace {

using log_testing::Ids;
using log_testing::IdsOf;
using log_testing::MakeEntries;
using log_testing::MakeEntry;
using log_testing::MakeSnapshot;

// An Unstable at `offset` holding `ids` (which must start at offset), with
// nothing in progress.
Unstable MakeUnstable(uint64_t offset, const Ids& ids) {
  Unstable unstable(offset);
  if (!ids.empty()) unstable.TruncateAndAppend(MakeEntries(ids));
  return unstable;
}

// An Unstable holding the snapshot (index, term) followed by `ids`.
Unstable MakeUnstableWithSnapshot(uint64_t index, uint64_t term,
                                  const Ids& ids) {
  Unstable unstable(1);
  unstable.Restore(MakeSnapshot(index, term));
  if (!ids.empty()) unstable.TruncateAndAppend(MakeEntries(ids));
  return unstable;
}

TEST(UnstableTest, NewUnstableIsEmpty) {
  const Unstable unstable(5);
  EXPECT_EQ(unstable.offset(), 5u);
  EXPECT_EQ(unstable.offset_in_progress(), 5u);
  EXPECT_TRUE(unstable.entries().empty());
  EXPECT_FALSE(unstable.snapshot().has_value());
  EXPECT_EQ(unstable.MaybeFirstIndex(), std::nullopt);
  EXPECT_EQ(unstable.MaybeLastIndex(), std::nullopt);
  EXPECT_EQ(unstable.MaybeTerm(4), std::nullopt);
  EXPECT_EQ(unstable.MaybeTerm(5), std::nullopt);
}

TEST(UnstableTest, FirstIndexIsKnownOnlyWithASnapshot) {
  EXPECT_EQ(MakeUnstable(5, {{5, 1}}).MaybeFirstIndex(), std::nullopt);
  EXPECT_EQ(MakeUnstableWithSnapshot(4, 1, {{5, 1}}).MaybeFirstIndex(), 5u);
  EXPECT_EQ(MakeUnstableWithSnapshot(4, 1, {}).MaybeFirstIndex(), 5u);
}

TEST(UnstableTest, LastIndexIsTheLastEntryOrTheSnapshot) {
  EXPECT_EQ(MakeUnstable(5, {{5, 1}}).MaybeLastIndex(), 5u);
  EXPECT_EQ(MakeUnstableWithSnapshot(4, 1, {{5, 1}}).MaybeLastIndex(), 5u);
  EXPECT_EQ(MakeUnstableWithSnapshot(4, 1, {}).MaybeLastIndex(), 4u);
}

TEST(UnstableTest, LastIndexWithSnapshotCoversEntriesAlreadyStable) {
  // The driver wrote the snapshot and the entry after it, but acknowledged
  // the entry first: the log still ends at that entry.
  Unstable unstable = MakeUnstableWithSnapshot(4, 1, {{5, 1}});
  unstable.StableTo(5, 1);
  ASSERT_TRUE(unstable.snapshot().has_value());
  EXPECT_EQ(unstable.MaybeLastIndex(), 5u);
}

TEST(UnstableTest, TermOfHeldEntries) {
  const Unstable unstable = MakeUnstable(5, {{5, 1}, {6, 2}});
  EXPECT_EQ(unstable.MaybeTerm(5), 1u);
  EXPECT_EQ(unstable.MaybeTerm(6), 2u);
  EXPECT_EQ(unstable.MaybeTerm(7), std::nullopt);
  EXPECT_EQ(unstable.MaybeTerm(4), std::nullopt);
}

TEST(UnstableTest, TermOfTheSnapshotIndex) {
  const Unstable unstable = MakeUnstableWithSnapshot(4, 3, {{5, 3}});
  EXPECT_EQ(unstable.MaybeTerm(4), 3u);
  EXPECT_EQ(unstable.MaybeTerm(5), 3u);
  EXPECT_EQ(unstable.MaybeTerm(3), std::nullopt);
  EXPECT_EQ(unstable.MaybeTerm(6), std::nullopt);
}

TEST(UnstableTest, RestoreReplacesEverythingBySnapshot) {
  Unstable unstable = MakeUnstableWithSnapshot(4, 1, {{5, 1}});
  unstable.AcceptInProgress();
  unstable.Restore(MakeSnapshot(6, 2));
  EXPECT_EQ(unstable.offset(), 7u);
  EXPECT_EQ(unstable.offset_in_progress(), 7u);
  EXPECT_TRUE(unstable.entries().empty());
  ASSERT_TRUE(unstable.snapshot().has_value());
  EXPECT_EQ(unstable.snapshot()->metadata().index(), 6u);
  EXPECT_FALSE(unstable.snapshot_in_progress());
  EXPECT_TRUE(unstable.NextSnapshot().has_value());
}

TEST(UnstableTest, AcceptInProgressHidesEntriesAndSnapshotFromNext) {
  Unstable unstable = MakeUnstableWithSnapshot(4, 1, {{5, 1}, {6, 1}});
  EXPECT_EQ(IdsOf(unstable.NextEntries()), (Ids{{5, 1}, {6, 1}}));
  EXPECT_TRUE(unstable.NextSnapshot().has_value());
  unstable.AcceptInProgress();
  EXPECT_EQ(unstable.offset_in_progress(), 7u);
  EXPECT_TRUE(unstable.NextEntries().empty());
  EXPECT_FALSE(unstable.NextSnapshot().has_value());
  EXPECT_TRUE(unstable.snapshot_in_progress());
  // What arrives later is handed out, once.
  unstable.TruncateAndAppend(MakeEntries({{7, 1}}));
  EXPECT_EQ(IdsOf(unstable.NextEntries()), (Ids{{7, 1}}));
}

TEST(UnstableTest, StableToOnEmptyIsIgnored) {
  Unstable unstable(5);
  unstable.StableTo(5, 1);
  EXPECT_EQ(unstable.offset(), 5u);
}

TEST(UnstableTest, StableToDropsEntriesUpToIndex) {
  Unstable unstable = MakeUnstable(5, {{5, 1}, {6, 1}});
  unstable.StableTo(5, 1);
  EXPECT_EQ(unstable.offset(), 6u);
  EXPECT_EQ(IdsOf(unstable.entries()), (Ids{{6, 1}}));
  unstable.StableTo(6, 1);
  EXPECT_EQ(unstable.offset(), 7u);
  EXPECT_TRUE(unstable.entries().empty());
}

TEST(UnstableTest, StableToWithMismatchedTermIsIgnored) {
  // Entry 6 was rewritten at term 2 while the write of its term-1 version was
  // in flight: that write's acknowledgement says nothing about the new one.
  Unstable unstable = MakeUnstable(6, {{6, 2}});
  unstable.StableTo(6, 1);
  EXPECT_EQ(unstable.offset(), 6u);
  EXPECT_EQ(IdsOf(unstable.entries()), (Ids{{6, 2}}));
}

TEST(UnstableTest, StableToBeforeOffsetIsIgnored) {
  Unstable unstable = MakeUnstable(5, {{5, 1}});
  unstable.StableTo(4, 1);
  EXPECT_EQ(unstable.offset(), 5u);
  EXPECT_EQ(unstable.entries().size(), 1u);
}

TEST(UnstableTest, StableToOfTheSnapshotIndexIsIgnored) {
  Unstable unstable = MakeUnstableWithSnapshot(4, 1, {{5, 1}});
  unstable.StableTo(4, 1);
  EXPECT_EQ(unstable.offset(), 5u);
  EXPECT_TRUE(unstable.snapshot().has_value());
}

TEST(UnstableTest, StableToPastTheEndIsIgnored) {
  Unstable unstable = MakeUnstable(5, {{5, 1}});
  unstable.StableTo(6, 1);
  EXPECT_EQ(unstable.offset(), 5u);
}

TEST(UnstableTest, StableToKeepsLaterWritesInProgress) {
  Unstable unstable = MakeUnstable(5, {{5, 1}, {6, 1}, {7, 1}});
  unstable.AcceptInProgress();
  unstable.StableTo(5, 1);
  EXPECT_EQ(unstable.offset(), 6u);
  EXPECT_EQ(unstable.offset_in_progress(), 8u);
}

TEST(UnstableTest, StableToRaisesInProgressToOffset) {
  // Not handed out through AcceptInProgress, but acknowledged anyway (a
  // synchronous driver): the in-progress mark must not fall behind.
  Unstable unstable = MakeUnstable(5, {{5, 1}, {6, 1}});
  unstable.StableTo(5, 1);
  EXPECT_EQ(unstable.offset_in_progress(), 6u);
}

TEST(UnstableTest, StableSnapToDropsTheMatchingSnapshotOnly) {
  Unstable unstable = MakeUnstableWithSnapshot(4, 1, {});
  unstable.AcceptInProgress();
  unstable.StableSnapTo(3);
  EXPECT_TRUE(unstable.snapshot().has_value());
  unstable.StableSnapTo(4);
  EXPECT_FALSE(unstable.snapshot().has_value());
  EXPECT_FALSE(unstable.snapshot_in_progress());
  EXPECT_EQ(unstable.offset(), 5u);
}

TEST(UnstableTest, TruncateAndAppendRightAfterTheLastEntryAppends) {
  Unstable unstable = MakeUnstable(5, {{5, 1}});
  unstable.AcceptInProgress();
  unstable.TruncateAndAppend(MakeEntries({{6, 1}, {7, 1}}));
  EXPECT_EQ(unstable.offset(), 5u);
  EXPECT_EQ(IdsOf(unstable.entries()), (Ids{{5, 1}, {6, 1}, {7, 1}}));
  EXPECT_EQ(unstable.offset_in_progress(), 6u);
}

TEST(UnstableTest, TruncateAndAppendAtOffsetReplacesAll) {
  Unstable unstable = MakeUnstable(5, {{5, 1}});
  unstable.AcceptInProgress();
  unstable.TruncateAndAppend(MakeEntries({{5, 2}, {6, 2}}));
  EXPECT_EQ(unstable.offset(), 5u);
  EXPECT_EQ(IdsOf(unstable.entries()), (Ids{{5, 2}, {6, 2}}));
  EXPECT_EQ(unstable.offset_in_progress(), 5u);
}

TEST(UnstableTest, TruncateAndAppendBeforeOffsetReplacesAllAndMovesOffset) {
  Unstable unstable = MakeUnstable(5, {{5, 1}});
  unstable.AcceptInProgress();
  unstable.TruncateAndAppend(MakeEntries({{4, 2}, {5, 2}, {6, 2}}));
  EXPECT_EQ(unstable.offset(), 4u);
  EXPECT_EQ(IdsOf(unstable.entries()), (Ids{{4, 2}, {5, 2}, {6, 2}}));
  EXPECT_EQ(unstable.offset_in_progress(), 4u);
}

TEST(UnstableTest, TruncateAndAppendInTheMiddleTruncatesThenAppends) {
  Unstable unstable = MakeUnstable(5, {{5, 1}, {6, 1}, {7, 1}});
  unstable.AcceptInProgress();
  unstable.TruncateAndAppend(MakeEntries({{6, 2}}));
  EXPECT_EQ(unstable.offset(), 5u);
  EXPECT_EQ(IdsOf(unstable.entries()), (Ids{{5, 1}, {6, 2}}));
  // Entry 5 is still being written; the old 6 and 7 no longer count.
  EXPECT_EQ(unstable.offset_in_progress(), 6u);
  EXPECT_EQ(IdsOf(unstable.NextEntries()), (Ids{{6, 2}}));
}

TEST(UnstableTest, TruncateAndAppendAfterInProgressKeepsInProgress) {
  Unstable unstable = MakeUnstable(5, {{5, 1}});
  unstable.AcceptInProgress();
  unstable.TruncateAndAppend(MakeEntries({{6, 1}, {7, 1}}));
  unstable.TruncateAndAppend(MakeEntries({{7, 2}}));
  EXPECT_EQ(IdsOf(unstable.entries()), (Ids{{5, 1}, {6, 1}, {7, 2}}));
  EXPECT_EQ(unstable.offset_in_progress(), 6u);
}

TEST(UnstableTest, TruncateAndAppendWithAGapDies) {
  Unstable unstable = MakeUnstable(5, {{5, 1}});
  EXPECT_DEATH(unstable.TruncateAndAppend(MakeEntries({{7, 1}})),
               "leaves a gap");
}

TEST(UnstableTest, TruncateAndAppendOverThePendingSnapshotDies) {
  Unstable unstable = MakeUnstableWithSnapshot(4, 1, {{5, 1}});
  EXPECT_DEATH(unstable.TruncateAndAppend(MakeEntries({{4, 2}})),
               "overwrite the pending snapshot");
}

TEST(UnstableTest, SliceReturnsTheRange) {
  const Unstable unstable = MakeUnstable(5, {{5, 1}, {6, 1}, {7, 2}});
  EXPECT_EQ(IdsOf(unstable.Slice(5, 8)), (Ids{{5, 1}, {6, 1}, {7, 2}}));
  EXPECT_EQ(IdsOf(unstable.Slice(6, 7)), (Ids{{6, 1}}));
  EXPECT_TRUE(unstable.Slice(8, 8).empty());
}

TEST(UnstableTest, SliceOutOfBoundsDies) {
  const Unstable unstable = MakeUnstable(5, {{5, 1}, {6, 1}});
  EXPECT_DEATH(unstable.Slice(4, 6), "out of bounds");
  EXPECT_DEATH(unstable.Slice(5, 8), "out of bounds");
}

TEST(UnstableTest, ToStringDescribesTheState) {
  Unstable unstable = MakeUnstableWithSnapshot(4, 1, {{5, 1}, {6, 1}});
  EXPECT_EQ(unstable.ToString(),
            "offset=5 offset_in_progress=5 entries=2 snapshot=4");
  unstable.AcceptInProgress();
  EXPECT_EQ(unstable.ToString(),
            "offset=5 offset_in_progress=7 entries=2 snapshot=4 (in progress)");
  EXPECT_EQ(Unstable(3).ToString(), "offset=3 offset_in_progress=3 entries=0");
}

}  // namespace
}  // namespace raftstore::raft
