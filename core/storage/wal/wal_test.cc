#include "core/storage/wal/wal.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/base/rng.h"
#include "core/storage/wal/frame.h"
#include "core/storage/wal/wal_format.h"
#include "gtest/gtest.h"
#include "proto/wal.pb.h"
#include "sim/disk.h"

namespace raftstore::storage {
namespace {

using ::absl::StatusCode;

raft::Entry MakeEntry(uint64_t index, uint64_t term, std::string data = "") {
  raft::Entry entry;
  entry.set_index(index);
  entry.set_term(term);
  entry.set_type(raft::ENTRY_TYPE_NORMAL);
  entry.set_data(data.empty() ? absl::StrCat("e", index, "t", term) : data);
  return entry;
}

std::vector<raft::Entry> Entries(uint64_t first, uint64_t last, uint64_t term,
                                 size_t data_bytes = 0) {
  std::vector<raft::Entry> out;
  for (uint64_t i = first; i <= last; ++i) {
    out.push_back(MakeEntry(i, term, std::string(data_bytes, 'd')));
  }
  return out;
}

std::vector<uint64_t> Indexes(const WalGroupState& state) {
  std::vector<uint64_t> out;
  for (const raft::Entry& entry : state.entries) out.push_back(entry.index());
  return out;
}

std::vector<uint64_t> Range(uint64_t first, uint64_t last) {
  std::vector<uint64_t> out;
  for (uint64_t i = first; i <= last; ++i) out.push_back(i);
  return out;
}

raft::HardState MakeHardState(uint64_t term, uint64_t vote, uint64_t commit) {
  raft::HardState hard_state;
  hard_state.set_format_version(1);
  hard_state.set_term(term);
  hard_state.set_vote(vote);
  hard_state.set_commit(commit);
  return hard_state;
}

raft::SnapshotMetadata MakeSnapshot(uint64_t index, uint64_t term) {
  raft::SnapshotMetadata metadata;
  metadata.set_format_version(1);
  metadata.set_index(index);
  metadata.set_term(term);
  metadata.mutable_conf_state()->add_voters(1);
  return metadata;
}

sim::SimDiskOptions QuietDisk() {
  sim::SimDiskOptions options;
  return options;
}

class WalTest : public ::testing::Test {
 protected:
  std::unique_ptr<Wal> OpenOk() {
    auto wal = Wal::Open(&disk_, options_);
    EXPECT_TRUE(wal.ok()) << wal.status();
    return wal.ok() ? std::move(*wal) : nullptr;
  }
  absl::btree_map<uint64_t, WalGroupState> Reopen() {
    wal_.reset();
    wal_ = OpenOk();
    if (wal_ == nullptr) return {};
    return wal_->TakeRecovered();
  }
  void Append(uint64_t group, std::vector<raft::Entry> entries) {
    ASSERT_TRUE(wal_->AppendEntries(group, entries).ok());
  }
  void SyncOk() { ASSERT_TRUE(wal_->Sync().ok()) << wal_->health(); }
  std::string Content(const std::string& name) {
    return *disk_.Read(name, 0, *disk_.Size(name));
  }
  std::vector<std::string> Segments() {
    std::vector<std::string> out;
    const std::vector<std::string> names = *disk_.List();
    for (const std::string& name : names) {
      if (ParseSegmentFileName(name)) out.push_back(name);
    }
    return out;
  }

  sim::SimDisk disk_{QuietDisk(), Rng(7)};
  WalOptions options_;
  std::unique_ptr<Wal> wal_;
};

TEST_F(WalTest, OpenOnEmptyDiskCreatesOneDurableSegment) {
  wal_ = OpenOk();
  ASSERT_NE(wal_, nullptr);
  EXPECT_TRUE(wal_->TakeRecovered().empty());
  EXPECT_EQ(wal_->last_lsn(), 0u);
  EXPECT_EQ(disk_.DurableList(), std::vector<std::string>{SegmentFileName(1)});
  EXPECT_TRUE(Reopen().empty());
}

TEST_F(WalTest, EveryRecordTypeSurvivesReopen) {
  wal_ = OpenOk();
  Append(1, Entries(1, 5, 1));
  ASSERT_TRUE(wal_->SaveHardState(1, MakeHardState(2, 3, 4)).ok());
  Append(2, Entries(1, 3, 1));
  ASSERT_TRUE(
      wal_->SaveSnapshot(2, MakeSnapshot(2, 1), WalSnapshotKind::kLocal).ok());
  Append(3, Entries(1, 1, 1));
  ASSERT_TRUE(wal_->RemoveGroup(3).ok());
  Append(4, Entries(1, 4, 1));
  ASSERT_TRUE(wal_->Truncate(4, 2).ok());
  SyncOk();
  auto recovered = Reopen();
  ASSERT_EQ(recovered.size(), 3u);
  EXPECT_EQ(Indexes(recovered[1]), Range(1, 5));
  EXPECT_EQ(recovered[1].entries[2].data(), "e3t1");
  EXPECT_EQ(recovered[1].hard_state.commit(), 4u);
  EXPECT_EQ(recovered[1].hard_state.vote(), 3u);
  EXPECT_EQ(recovered[2].snapshot.index(), 2u);
  EXPECT_EQ(recovered[2].truncated_index, 2u);
  EXPECT_EQ(Indexes(recovered[2]), Range(3, 3));
  EXPECT_FALSE(recovered.contains(3));
  EXPECT_EQ(recovered[4].truncated_index, 2u);
  EXPECT_EQ(Indexes(recovered[4]), Range(3, 4));
}

TEST_F(WalTest, LsnsAreConsecutiveAndDurableAfterSync) {
  wal_ = OpenOk();
  auto a = wal_->AppendEntries(1, Entries(1, 1, 1));
  auto b = wal_->SaveHardState(1, MakeHardState(1, 0, 0));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, 1u);
  EXPECT_EQ(*b, 2u);
  EXPECT_EQ(wal_->durable_lsn(), 0u);
  ASSERT_TRUE(wal_->Write().ok());
  EXPECT_EQ(wal_->durable_lsn(), 0u);
  EXPECT_TRUE(disk_.HasUnsyncedData(SegmentFileName(1)));
  SyncOk();
  EXPECT_EQ(wal_->durable_lsn(), 2u);
  EXPECT_FALSE(disk_.HasUnsyncedData());
  EXPECT_EQ(Reopen().size(), 1u);
  EXPECT_EQ(wal_->last_lsn(), 2u);
  auto c = wal_->Truncate(1, 1);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(*c, 3u);
}

TEST_F(WalTest, GroupCommitIsOneDiskSyncForManyRegions) {
  wal_ = OpenOk();
  const uint64_t syncs_before = disk_.stats().syncs;
  for (uint64_t group = 1; group <= 16; ++group) {
    Append(group, Entries(1, 3, 1));
    ASSERT_TRUE(wal_->SaveHardState(group, MakeHardState(1, group, 0)).ok());
  }
  SyncOk();
  EXPECT_EQ(disk_.stats().syncs, syncs_before + 1);
  EXPECT_EQ(wal_->durable_lsn(), 32u);
  EXPECT_EQ(Reopen().size(), 16u);
}

TEST_F(WalTest, PipelinedBatchSyncsWhileLaterRecordsAreAppended) {
  wal_ = OpenOk();
  Append(1, Entries(1, 3, 1));
  Append(2, Entries(1, 2, 1));
  const uint64_t syncs_before = disk_.stats().syncs;
  auto batch = wal_->BeginBatch();
  ASSERT_TRUE(batch.ok()) << batch.status();
  ASSERT_TRUE(batch->has_value());
  EXPECT_TRUE(wal_->batch_in_flight());
  EXPECT_EQ((*batch)->segment, SegmentFileName(1));
  EXPECT_EQ((*batch)->last_lsn, 2u);
  EXPECT_FALSE((*batch)->bytes.empty());
  // Sealing touched no Disk: nothing written yet.
  EXPECT_FALSE(disk_.HasUnsyncedData());
  // While the batch is in flight, appends encode into a fresh buffer.
  Append(1, Entries(4, 5, 1));
  ASSERT_TRUE(wal_->SaveHardState(2, MakeHardState(3, 2, 1)).ok());
  EXPECT_EQ(wal_->last_lsn(), 4u);
  EXPECT_EQ(wal_->durable_lsn(), 0u);
  const absl::Status synced = WriteAndSyncBatch(&disk_, **batch);
  ASSERT_TRUE(synced.ok()) << synced;
  EXPECT_EQ(disk_.stats().syncs, syncs_before + 1);
  EXPECT_EQ(wal_->durable_lsn(), 0u);  // not until FinishBatch
  ASSERT_TRUE(wal_->FinishBatch(*std::move(*batch), synced).ok());
  EXPECT_FALSE(wal_->batch_in_flight());
  EXPECT_EQ(wal_->durable_lsn(), 2u);
  EXPECT_EQ(wal_->stats().syncs, 1u);
  // Only the first batch is on the disk, and durable.
  EXPECT_FALSE(disk_.HasUnsyncedData());
  disk_.Crash();
  auto recovered = Reopen();
  EXPECT_EQ(Indexes(recovered[1]), Range(1, 3));
  EXPECT_EQ(Indexes(recovered[2]), Range(1, 2));
  EXPECT_EQ(recovered[2].hard_state.term(), 0u);
}

TEST_F(WalTest, PipelinedBatchesRecoverEverythingInOrder) {
  wal_ = OpenOk();
  std::optional<WalWriteBatch> in_flight;
  for (uint64_t round = 0; round < 10; ++round) {
    Append(1 + round % 3, Entries(1 + round / 3 * 2, 2 + round / 3 * 2, 1));
    if (in_flight.has_value()) {
      const absl::Status synced = WriteAndSyncBatch(&disk_, *in_flight);
      ASSERT_TRUE(wal_->FinishBatch(*std::move(in_flight), synced).ok());
      EXPECT_EQ(wal_->durable_lsn(), round);
    }
    auto batch = wal_->BeginBatch();
    ASSERT_TRUE(batch.ok());
    ASSERT_TRUE(batch->has_value());
    EXPECT_EQ((*batch)->last_lsn, round + 1);
    in_flight = *std::move(batch);
  }
  const absl::Status synced = WriteAndSyncBatch(&disk_, *in_flight);
  ASSERT_TRUE(wal_->FinishBatch(*std::move(in_flight), synced).ok());
  EXPECT_EQ(wal_->durable_lsn(), 10u);
  // Nothing left: no batch.
  auto none = wal_->BeginBatch();
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  EXPECT_FALSE(wal_->batch_in_flight());
  disk_.Crash();
  auto recovered = Reopen();
  EXPECT_EQ(Indexes(recovered[1]), Range(1, 8));
  EXPECT_EQ(Indexes(recovered[2]), Range(1, 6));
  EXPECT_EQ(Indexes(recovered[3]), Range(1, 6));
}

TEST_F(WalTest, BatchAfterWriteOnlySyncs) {
  wal_ = OpenOk();
  Append(1, Entries(1, 2, 1));
  ASSERT_TRUE(wal_->Write().ok());
  auto batch = wal_->BeginBatch();
  ASSERT_TRUE(batch.ok() && batch->has_value());
  EXPECT_TRUE((*batch)->bytes.empty());
  EXPECT_EQ((*batch)->last_lsn, 1u);
  const absl::Status synced = WriteAndSyncBatch(&disk_, **batch);
  ASSERT_TRUE(wal_->FinishBatch(*std::move(*batch), synced).ok());
  EXPECT_EQ(wal_->durable_lsn(), 1u);
  EXPECT_FALSE(disk_.HasUnsyncedData());
}

TEST_F(WalTest, WriteBehindWritesWhileABatchOnlySyncs) {
  wal_ = OpenOk();
  Append(1, Entries(1, 2, 1));
  ASSERT_TRUE(wal_->Write().ok());
  auto first = wal_->BeginBatch();
  ASSERT_TRUE(first.ok() && first->has_value());
  EXPECT_TRUE((*first)->bytes.empty());  // only the sync is left
  // While it is in flight this thread encodes and writes the next records.
  Append(1, Entries(3, 4, 1));
  Append(2, Entries(1, 1, 1));
  ASSERT_TRUE(wal_->Write().ok());
  EXPECT_EQ(wal_->last_lsn(), 3u);
  const absl::Status synced = WriteAndSyncBatch(&disk_, **first);
  ASSERT_TRUE(wal_->FinishBatch(*std::move(*first), synced).ok());
  // The sync may have covered the later write too, but only the batch's
  // records are claimed.
  EXPECT_EQ(wal_->durable_lsn(), 1u);
  auto second = wal_->BeginBatch();
  ASSERT_TRUE(second.ok() && second->has_value());
  EXPECT_TRUE((*second)->bytes.empty());
  EXPECT_EQ((*second)->last_lsn, 3u);
  // Nothing new was written, so Write is a no-op even now.
  ASSERT_TRUE(wal_->Write().ok());
  ASSERT_TRUE(wal_->FinishBatch(*std::move(*second),
                                WriteAndSyncBatch(&disk_, **second))
                  .ok());
  EXPECT_EQ(wal_->durable_lsn(), 3u);
  EXPECT_FALSE(disk_.HasUnsyncedData());
  disk_.Crash();
  auto recovered = Reopen();
  EXPECT_EQ(Indexes(recovered[1]), Range(1, 4));
  EXPECT_EQ(Indexes(recovered[2]), Range(1, 1));
}

TEST_F(WalTest, WriteBehindBytesAreNotDurableUntilTheirOwnBatch) {
  wal_ = OpenOk();
  Append(1, Entries(1, 1, 1));
  ASSERT_TRUE(wal_->Write().ok());
  auto batch = wal_->BeginBatch();
  ASSERT_TRUE(batch.ok() && batch->has_value());
  // The batch's sync runs before the write-behind bytes reach the disk.
  const absl::Status synced = WriteAndSyncBatch(&disk_, **batch);
  Append(1, Entries(2, 3, 1));
  ASSERT_TRUE(wal_->Write().ok());
  ASSERT_TRUE(wal_->FinishBatch(*std::move(*batch), synced).ok());
  EXPECT_EQ(wal_->durable_lsn(), 1u);
  EXPECT_TRUE(disk_.HasUnsyncedData());
  // A crash that drops every unsynced sector leaves exactly the batch.
  sim::SimDiskCrashModel drop_all;
  drop_all.sector_keep_ppm = 0;
  drop_all.sector_torn_ppm = 0;
  disk_.SetCrashModel(drop_all);
  disk_.Crash();
  EXPECT_EQ(Indexes(Reopen()[1]), Range(1, 1));
}

TEST_F(WalTest, WriteBehindWithReadBackVerifiesEachBatchAtItsOffset) {
  options_.verify_writes = true;
  wal_ = OpenOk();
  Append(1, Entries(1, 2, 1));
  ASSERT_TRUE(wal_->Write().ok());
  std::optional<WalWriteBatch> in_flight;
  uint64_t next[3] = {0, 3, 1};  // next entry index per group
  for (uint64_t round = 1; round <= 4; ++round) {
    if (in_flight.has_value()) {
      // Records of this round were written behind the batch in flight; its
      // read-back covers only its own bytes, at their offset.
      ASSERT_TRUE(wal_->write_allowed());
      const uint64_t group = 1 + round % 2;
      Append(group, Entries(next[group], next[group] + 1, 1));
      next[group] += 2;
      ASSERT_TRUE(wal_->Write().ok());
      const absl::Status finished = wal_->FinishBatch(
          *std::move(in_flight), WriteAndSyncBatch(&disk_, *in_flight));
      ASSERT_TRUE(finished.ok()) << finished;
      in_flight.reset();
    }
    auto batch = wal_->BeginBatch();
    ASSERT_TRUE(batch.ok() && batch->has_value());
    EXPECT_TRUE((*batch)->bytes.empty());
    in_flight = *std::move(*batch);
  }
  ASSERT_TRUE(wal_->FinishBatch(*std::move(in_flight),
                                WriteAndSyncBatch(&disk_, *in_flight))
                  .ok());
  EXPECT_EQ(wal_->durable_lsn(), wal_->last_lsn());
  EXPECT_TRUE(wal_->health().ok());
  disk_.Crash();
  auto recovered = Reopen();
  EXPECT_EQ(Indexes(recovered[1]), Range(1, 6));
  EXPECT_EQ(Indexes(recovered[2]), Range(1, 2));
}

TEST_F(WalTest, WriteBehindIsReadBackByItsOwnBatchNotTheOneInFlight) {
  options_.verify_writes = true;
  wal_ = OpenOk();
  Append(1, Entries(1, 1, 1));
  ASSERT_TRUE(wal_->Write().ok());
  auto first = wal_->BeginBatch();
  ASSERT_TRUE(first.ok() && first->has_value());
  // The write-behind bytes are garbled on their way to the disk.
  sim::SimDiskFaults faults;
  faults.write_corruption_ppm = sim::kPpm;
  disk_.SetFaults(faults);
  Append(1, Entries(2, 2, 1));
  ASSERT_TRUE(wal_->Write().ok());
  disk_.SetFaults(sim::SimDiskFaults{});
  // The batch in flight covers only record 1, which is intact.
  ASSERT_TRUE(
      wal_->FinishBatch(*std::move(*first), WriteAndSyncBatch(&disk_, **first))
          .ok());
  EXPECT_EQ(wal_->durable_lsn(), 1u);
  // Record 2's own batch reads it back and refuses it.
  auto second = wal_->BeginBatch();
  ASSERT_TRUE(second.ok() && second->has_value());
  const absl::Status failed = wal_->FinishBatch(
      *std::move(*second), WriteAndSyncBatch(&disk_, **second));
  EXPECT_EQ(failed.code(), StatusCode::kDataLoss);
  EXPECT_NE(failed.message().find("read back"), std::string::npos);
  EXPECT_EQ(wal_->durable_lsn(), 1u);
}

TEST_F(WalTest, FailedBatchPoisonsAndDurableLsnStays) {
  wal_ = OpenOk();
  Append(1, Entries(1, 2, 1));
  SyncOk();
  Append(1, Entries(3, 4, 1));
  auto batch = wal_->BeginBatch();
  ASSERT_TRUE(batch.ok() && batch->has_value());
  Append(1, Entries(5, 5, 1));
  const absl::Status failed = absl::UnavailableError(
      "wal segment wal-1.log: sync: injected for the test");
  const absl::Status finished = wal_->FinishBatch(*std::move(*batch), failed);
  EXPECT_EQ(finished, failed);
  EXPECT_EQ(wal_->durable_lsn(), 1u);
  EXPECT_EQ(wal_->health(), failed);
  EXPECT_EQ(wal_->AppendEntries(1, Entries(6, 6, 1)).status(), failed);
  EXPECT_EQ(wal_->Sync(), failed);
  EXPECT_EQ(wal_->BeginBatch().status(), failed);
}

TEST_F(WalTest, InFlightBytesCountAgainstBufferedBytesMax) {
  options_.buffered_bytes_max = 4096;
  options_.record_payload_bytes_max = 1024;
  wal_ = OpenOk();
  for (uint64_t i = 1; i <= 10; ++i) {
    Append(1, Entries(i, i, 1, 300));
  }
  auto batch = wal_->BeginBatch();
  ASSERT_TRUE(batch.ok() && batch->has_value());
  // The batch's ~3.4 KB are unsynced until FinishBatch: two more records
  // would pass the bound.
  Append(1, Entries(11, 11, 1, 300));
  EXPECT_EQ(wal_->AppendEntries(1, Entries(12, 12, 1, 300)).status().code(),
            StatusCode::kResourceExhausted);
  const absl::Status synced = WriteAndSyncBatch(&disk_, **batch);
  ASSERT_TRUE(wal_->FinishBatch(*std::move(*batch), synced).ok());
  Append(1, Entries(12, 12, 1, 300));
  SyncOk();
  EXPECT_EQ(Indexes(Reopen()[1]), Range(1, 12));
}

TEST_F(WalTest, PipelinedBatchesRotateOnTheCallersThread) {
  options_.segment_bytes_max = 4096;
  wal_ = OpenOk();
  std::optional<WalWriteBatch> in_flight;
  uint64_t done_here = 0;
  for (uint64_t i = 1; i <= 60; ++i) {
    Append(1 + i % 4, Entries(1 + (i - 1) / 4, 1 + (i - 1) / 4, 1, 200));
    if (in_flight.has_value()) {
      const absl::Status synced = WriteAndSyncBatch(&disk_, *in_flight);
      ASSERT_TRUE(wal_->FinishBatch(*std::move(in_flight), synced).ok());
      in_flight.reset();
    }
    auto batch = wal_->BeginBatch();
    ASSERT_TRUE(batch.ok()) << batch.status();
    if (!batch->has_value()) {
      // A rotation was due: BeginBatch synced everything itself.
      ++done_here;
      EXPECT_EQ(wal_->durable_lsn(), wal_->last_lsn());
      continue;
    }
    in_flight = *std::move(batch);
  }
  if (in_flight.has_value()) {
    const absl::Status synced = WriteAndSyncBatch(&disk_, *in_flight);
    ASSERT_TRUE(wal_->FinishBatch(*std::move(in_flight), synced).ok());
  }
  EXPECT_GT(done_here, 0u);
  EXPECT_GE(wal_->stats().segments_created, done_here);
  EXPECT_GT(Segments().size(), 2u);
  disk_.Crash();
  auto recovered = Reopen();
  for (uint64_t group = 1; group <= 4; ++group) {
    EXPECT_EQ(Indexes(recovered[group]), Range(1, 15)) << group;
  }
}

TEST_F(WalTest, DiskCallsWhileABatchIsInFlightAreABug) {
  wal_ = OpenOk();
  Append(1, Entries(1, 1, 1));
  auto batch = wal_->BeginBatch();
  ASSERT_TRUE(batch.ok() && batch->has_value());
  EXPECT_DEATH((void)wal_->Sync(), "in flight");
  // Its bytes are not on the disk yet: a Write now would land before them.
  EXPECT_FALSE(wal_->write_allowed());
  EXPECT_DEATH((void)wal_->Write(), "still carries bytes");
  EXPECT_DEATH((void)wal_->BeginBatch(), "in flight");
  EXPECT_DEATH((void)wal_->CollectGarbage(), "in flight");
  WalWriteBatch other = **batch;
  other.last_lsn += 1;
  EXPECT_DEATH((void)wal_->FinishBatch(other, absl::OkStatus()),
               "other than the one in flight");
}

TEST_F(WalTest, LaterAppendReplacesTheSuffixOnReplay) {
  wal_ = OpenOk();
  Append(1, Entries(1, 10, 1));
  Append(1, Entries(5, 7, 2));
  SyncOk();
  auto recovered = Reopen();
  EXPECT_EQ(Indexes(recovered[1]), Range(1, 7));
  EXPECT_EQ(recovered[1].entries[4].term(), 2u);
  EXPECT_EQ(recovered[1].entries[3].term(), 1u);
  Append(1, Entries(8, 9, 2));
  SyncOk();
  recovered = Reopen();
  EXPECT_EQ(Indexes(recovered[1]), Range(1, 9));
}

TEST_F(WalTest, InstalledSnapshotReplacesTheLogLocalKeepsTheTail) {
  wal_ = OpenOk();
  Append(1, Entries(1, 20, 1));
  ASSERT_TRUE(
      wal_->SaveSnapshot(1, MakeSnapshot(10, 3), WalSnapshotKind::kInstalled)
          .ok());
  Append(2, Entries(1, 20, 1));
  ASSERT_TRUE(
      wal_->SaveSnapshot(2, MakeSnapshot(10, 1), WalSnapshotKind::kLocal).ok());
  SyncOk();
  auto recovered = Reopen();
  EXPECT_TRUE(recovered[1].entries.empty());
  EXPECT_EQ(recovered[1].snapshot.term(), 3u);
  EXPECT_EQ(recovered[1].truncated_index, 10u);
  EXPECT_EQ(Indexes(recovered[2]), Range(11, 20));
  // After an install the next append continues from the snapshot.
  Append(1, Entries(11, 12, 3));
  SyncOk();
  EXPECT_EQ(Indexes(Reopen()[1]), Range(11, 12));
}

TEST_F(WalTest, BadAppendsAreRefusedWithoutPoisoning) {
  wal_ = OpenOk();
  EXPECT_EQ(wal_->AppendEntries(1, {}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(wal_->AppendEntries(1, Entries(2, 3, 1)).status().code(),
            StatusCode::kInvalidArgument);  // gap after index 0
  std::vector<raft::Entry> holes = {MakeEntry(1, 1), MakeEntry(3, 1)};
  EXPECT_EQ(wal_->AppendEntries(1, holes).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(wal_->SaveHardState(0, MakeHardState(1, 1, 1)).status().code(),
            StatusCode::kInvalidArgument);
  ASSERT_TRUE(
      wal_->SaveSnapshot(1, MakeSnapshot(5, 1), WalSnapshotKind::kLocal).ok());
  EXPECT_EQ(wal_->SaveSnapshot(1, MakeSnapshot(4, 1), WalSnapshotKind::kLocal)
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  Append(1, Entries(6, 6, 1));
  EXPECT_TRUE(wal_->health().ok());
  SyncOk();
}

TEST_F(WalTest, LargeBatchIsSplitIntoRecordsWithinTheBound) {
  options_.record_payload_bytes_max = 4096;
  wal_ = OpenOk();
  Append(1, Entries(1, 100, 1, 500));
  EXPECT_GT(wal_->stats().records_appended, 10u);
  std::vector<raft::Entry> huge = {MakeEntry(101, 1, std::string(5000, 'h'))};
  EXPECT_EQ(wal_->AppendEntries(1, huge).status().code(),
            StatusCode::kInvalidArgument);
  SyncOk();
  EXPECT_EQ(Indexes(Reopen()[1]), Range(1, 100));
}

TEST_F(WalTest, EntriesPayloadParsesAsEntriesRecord) {
  wal_ = OpenOk();
  Append(300, Entries(1, 2, 7));
  SyncOk();
  const std::string bytes = Content(SegmentFileName(1));
  const DecodedFrame frame = DecodeFrame(bytes, kSegmentHeaderBytes,
                                         options_.record_payload_bytes_max);
  ASSERT_EQ(frame.error, FrameError::kNone);
  wal::EntriesRecord record;
  ASSERT_TRUE(record.ParseFromArray(frame.payload.data(),
                                    static_cast<int>(frame.payload.size())));
  EXPECT_EQ(record.group_id(), 300u);
  ASSERT_EQ(record.entries_size(), 2);
  EXPECT_EQ(record.entries(1).term(), 7u);
  EXPECT_EQ(record.entries(1).data(), "e2t7");
}

TEST_F(WalTest, RotatesAtSegmentBytesMaxAndCheckpointsState) {
  options_.segment_bytes_max = 4096;
  wal_ = OpenOk();
  ASSERT_TRUE(wal_->SaveHardState(1, MakeHardState(5, 1, 3)).ok());
  for (uint64_t i = 1; i <= 60; ++i) {
    Append(1, Entries(i, i, 5, 200));
    SyncOk();
  }
  EXPECT_GE(Segments().size(), 3u);
  EXPECT_EQ(wal_->stats().segments, Segments().size());
  ASSERT_TRUE(wal_->Truncate(1, 59).ok());
  auto removed = wal_->CollectGarbage();
  ASSERT_TRUE(removed.ok());
  EXPECT_GE(*removed, 2);
  // The hard state lived only in the first segment; the checkpoints at the
  // head of later segments carry it.
  auto recovered = Reopen();
  EXPECT_EQ(recovered[1].hard_state.term(), 5u);
  EXPECT_EQ(recovered[1].truncated_index, 59u);
  EXPECT_EQ(Indexes(recovered[1]), Range(60, 60));
}

TEST_F(WalTest, UnsyncedRecordsAfterAProcessCrashAreReplayedAndMadeDurable) {
  wal_ = OpenOk();
  Append(1, Entries(1, 3, 1));
  ASSERT_TRUE(wal_->Write().ok());
  // Process crash: the page cache keeps what was written.
  auto recovered = Reopen();
  EXPECT_EQ(Indexes(recovered[1]), Range(1, 3));
  EXPECT_FALSE(disk_.HasUnsyncedData());
  EXPECT_EQ(wal_->durable_lsn(), 1u);
}

TEST_F(WalTest, TornTailIsCutAndRecoveryContinues) {
  wal_ = OpenOk();
  Append(1, Entries(1, 3, 1));
  SyncOk();
  const uint64_t synced_size = *disk_.Size(SegmentFileName(1));
  Append(1, Entries(4, 6, 1));
  ASSERT_TRUE(wal_->Write().ok());
  wal_.reset();
  // The last write lands garbled (as a torn sector would).
  disk_.CorruptByte(SegmentFileName(1), synced_size + 40, 0x55);
  wal_ = OpenOk();
  ASSERT_NE(wal_, nullptr);
  EXPECT_EQ(Indexes(wal_->TakeRecovered()[1]), Range(1, 3));
  EXPECT_EQ(*disk_.Size(SegmentFileName(1)), synced_size);
  EXPECT_GT(wal_->stats().torn_bytes_dropped, 0u);
  // The log goes on from the cut.
  Append(1, Entries(4, 4, 2));
  SyncOk();
  EXPECT_EQ(Indexes(Reopen()[1]), Range(1, 4));
}

TEST_F(WalTest, HoleFollowedByUnsyncedFramesIsATornTail) {
  wal_ = OpenOk();
  Append(1, Entries(1, 1, 1));
  SyncOk();
  const std::string name = SegmentFileName(1);
  const uint64_t synced_size = *disk_.Size(name);
  // Three unsynced batches; the first is zero-filled (a dropped sector)
  // while the later ones survive: none of it was ever durable.
  Append(1, Entries(2, 2, 1));
  ASSERT_TRUE(wal_->Write().ok());
  const uint64_t hole_end = *disk_.Size(name);
  Append(1, Entries(3, 3, 1));
  Append(1, Entries(4, 4, 1));
  ASSERT_TRUE(wal_->Write().ok());
  wal_.reset();
  const std::string bytes = Content(name);
  for (uint64_t i = synced_size; i < hole_end; ++i) {
    if (bytes[i] != 0) disk_.CorruptByte(name, i, bytes[i]);
  }
  auto recovered = Reopen();
  EXPECT_EQ(Indexes(recovered[1]), Range(1, 1));
}

TEST_F(WalTest, DamageToDurableFramesIsDataLossNamingSegmentAndOffset) {
  wal_ = OpenOk();
  Append(1, Entries(1, 1, 1));
  SyncOk();
  const uint64_t second_offset = *disk_.Size(SegmentFileName(1));
  Append(1, Entries(2, 2, 1));
  SyncOk();
  Append(1, Entries(3, 3, 1));  // written after 2 was durable
  SyncOk();
  wal_.reset();
  disk_.CorruptByte(SegmentFileName(1), second_offset + 35, 0x01);
  auto wal = Wal::Open(&disk_, options_);
  ASSERT_EQ(wal.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(wal.status().message().find(
                absl::StrCat(SegmentFileName(1), " offset ", second_offset)),
            std::string::npos)
      << wal.status();
  EXPECT_NE(wal.status().message().find("checksum"), std::string::npos);
  // Nothing was cut.
  EXPECT_GT(*disk_.Size(SegmentFileName(1)), second_offset + 40);
}

TEST_F(WalTest, RepairDropsTheDamageOnlyWhenAsked) {
  options_.segment_bytes_max = 1024;
  wal_ = OpenOk();
  for (uint64_t i = 1; i <= 30; ++i) {
    Append(1, Entries(i, i, 1, 100));
    SyncOk();
  }
  ASSERT_GE(Segments().size(), 4u);
  wal_.reset();
  const std::string damaged = Segments()[1];
  disk_.CorruptByte(damaged, kSegmentHeaderBytes + 50, 0x80);
  ASSERT_EQ(Wal::Open(&disk_, options_).status().code(), StatusCode::kDataLoss);
  const size_t segments_before = Segments().size();
  auto report = RepairWal(&disk_, options_);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->repaired);
  EXPECT_EQ(report->segment, damaged);
  // The frame holding the flipped byte (after the segment's checkpoint).
  EXPECT_GT(report->offset, kSegmentHeaderBytes);
  EXPECT_LE(report->offset, kSegmentHeaderBytes + 50);
  EXPECT_EQ(report->segments_removed.size(), segments_before - 2);
  auto recovered = Reopen();
  ASSERT_NE(wal_, nullptr);
  EXPECT_EQ(wal_->last_lsn(), report->last_lsn_kept);
  EXPECT_FALSE(recovered[1].entries.empty());
  auto again = RepairWal(&disk_, options_);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->repaired);
}

TEST_F(WalTest, DamageInAnOlderSegmentIsDataLossEvenAtItsEnd) {
  options_.segment_bytes_max = 512;
  wal_ = OpenOk();
  for (uint64_t i = 1; i <= 10; ++i) {
    Append(1, Entries(i, i, 1, 100));
    SyncOk();
  }
  wal_.reset();
  const std::string first = SegmentFileName(1);
  const uint64_t size = *disk_.Size(first);
  ASSERT_TRUE(disk_.Truncate(first, size - 3).ok());
  auto wal = Wal::Open(&disk_, options_);
  ASSERT_EQ(wal.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(wal.status().message().find(first), std::string::npos);
  EXPECT_NE(wal.status().message().find("past the end"), std::string::npos)
      << wal.status();
}

TEST_F(WalTest, BadSegmentHeadersAreClearErrors) {
  const std::string name = SegmentFileName(1);
  ASSERT_TRUE(disk_.Create(name).ok());
  ASSERT_TRUE(disk_.Append(name, "RSWAL").ok());
  auto short_header = Wal::Open(&disk_, options_);
  EXPECT_EQ(short_header.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(short_header.status().message().find("truncated segment header"),
            std::string::npos);
  ASSERT_TRUE(disk_.Truncate(name, 0).ok());
  ASSERT_TRUE(disk_.Append(name, std::string(64, 'x')).ok());
  auto magic = Wal::Open(&disk_, options_);
  EXPECT_EQ(magic.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(magic.status().message().find(name + " offset 0: bad magic"),
            std::string::npos)
      << magic.status();
  std::string newer = EncodeSegmentHeader(1, 1);
  PutFixed32(kWalFormatVersion + 1, &newer[8]);
  ASSERT_TRUE(disk_.Truncate(name, 0).ok());
  ASSERT_TRUE(disk_.Append(name, newer).ok());
  auto version = Wal::Open(&disk_, options_);
  EXPECT_EQ(version.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(RepairWal(&disk_, options_).status().code(),
            StatusCode::kFailedPrecondition);
}

TEST_F(WalTest, LengthAboveTheMaximumIsDataLossInDurableData) {
  wal_ = OpenOk();
  Append(1, Entries(1, 1, 1));
  SyncOk();
  Append(1, Entries(2, 2, 1));
  SyncOk();
  wal_.reset();
  // Frame 1's length field says 0x40000000 bytes.
  disk_.CorruptByte(SegmentFileName(1), kSegmentHeaderBytes + 7, 0x40);
  auto wal = Wal::Open(&disk_, options_);
  EXPECT_EQ(wal.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(wal.status().message().find("above the payload maximum"),
            std::string::npos)
      << wal.status();
}

TEST_F(WalTest, MissingSegmentIsDataLoss) {
  options_.segment_bytes_max = 256;
  wal_ = OpenOk();
  for (uint64_t i = 1; i <= 5; ++i) {
    Append(1, Entries(i, i, 1, 300));
    SyncOk();
  }
  wal_.reset();
  ASSERT_TRUE(disk_.Remove(SegmentFileName(3)).ok());
  auto wal = Wal::Open(&disk_, options_);
  EXPECT_EQ(wal.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(wal.status().message().find(SegmentFileName(3) + " is missing"),
            std::string::npos);
}

TEST_F(WalTest, LeftoverTemporarySegmentIsRemoved) {
  wal_ = OpenOk();
  wal_.reset();
  const std::string temp = SegmentFileName(2) + std::string(kSegmentTempSuffix);
  ASSERT_TRUE(disk_.Create(temp).ok());
  ASSERT_TRUE(disk_.Append(temp, "half a rotation").ok());
  wal_ = OpenOk();
  ASSERT_NE(wal_, nullptr);
  EXPECT_FALSE(disk_.Size(temp).ok());
}

TEST_F(WalTest, FullDiskPoisonsTheWal) {
  wal_ = OpenOk();
  Append(1, Entries(1, 1, 1));
  SyncOk();
  disk_.SetCapacityBytes(disk_.UsedBytes() + 10);
  Append(1, Entries(2, 2, 1, 100));
  const absl::Status failed = wal_->Sync();
  EXPECT_EQ(failed.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(failed.message().find(SegmentFileName(1)), std::string::npos);
  EXPECT_EQ(wal_->durable_lsn(), 1u);
  disk_.SetCapacityBytes(uint64_t{1} << 30);
  // Poisoned: every later call fails the same way, nothing becomes durable.
  EXPECT_EQ(wal_->AppendEntries(1, Entries(3, 3, 1)).status(), failed);
  EXPECT_EQ(wal_->Sync(), failed);
  EXPECT_EQ(wal_->CollectGarbage().status(), failed);
  EXPECT_EQ(wal_->durable_lsn(), 1u);
  EXPECT_EQ(Indexes(Reopen()[1]), Range(1, 1));
}

TEST_F(WalTest, FailedSyncPoisonsTheWal) {
  wal_ = OpenOk();
  Append(1, Entries(1, 1, 1));
  sim::SimDiskFaults faults;
  faults.io_error_ppm = sim::kPpm;
  disk_.SetFaults(faults);
  EXPECT_EQ(wal_->Sync().code(), StatusCode::kUnavailable);
  disk_.SetFaults(sim::SimDiskFaults{});
  EXPECT_EQ(wal_->Sync().code(), StatusCode::kUnavailable);
  EXPECT_EQ(wal_->durable_lsn(), 0u);
  EXPECT_EQ(wal_->health().code(), StatusCode::kUnavailable);
}

TEST_F(WalTest, GarbledWriteIsCaughtByReadBackBeforeItCountsAsDurable) {
  options_.verify_writes = true;
  wal_ = OpenOk();
  Append(1, Entries(1, 1, 1));
  SyncOk();
  sim::SimDiskFaults faults;
  faults.write_corruption_ppm = sim::kPpm;
  disk_.SetFaults(faults);
  Append(1, Entries(2, 2, 1));
  const absl::Status failed = wal_->Sync();
  EXPECT_EQ(failed.code(), StatusCode::kDataLoss);
  EXPECT_NE(failed.message().find(SegmentFileName(1)), std::string::npos);
  EXPECT_NE(failed.message().find("read back"), std::string::npos);
  EXPECT_EQ(wal_->durable_lsn(), 1u);
  disk_.SetFaults(sim::SimDiskFaults{});
  // The garbled record was never acknowledged; Open cuts it as a torn tail.
  EXPECT_EQ(Indexes(Reopen()[1]), Range(1, 1));
}

TEST_F(WalTest, BoundsAreResourceExhaustedNotPoison) {
  options_.buffered_bytes_max = 8192;
  options_.record_payload_bytes_max = 1024;
  options_.groups_max = 2;
  wal_ = OpenOk();
  Append(1, Entries(1, 1, 1));
  Append(2, Entries(1, 1, 1));
  EXPECT_EQ(wal_->AppendEntries(3, Entries(1, 1, 1)).status().code(),
            StatusCode::kResourceExhausted);
  // Removing a group never starts one, so it is not refused by groups_max.
  EXPECT_TRUE(wal_->RemoveGroup(3).ok());
  absl::Status status;
  uint64_t next = 2;
  for (; status.ok(); ++next) {
    status = wal_->AppendEntries(1, Entries(next, next, 1, 500)).status();
  }
  EXPECT_EQ(status.code(), StatusCode::kResourceExhausted);
  EXPECT_LT(next, 20u);
  // A Sync makes room again: the refusal did not poison anything.
  SyncOk();
  EXPECT_TRUE(wal_->health().ok());
  Append(1, Entries(next - 1, next - 1, 1, 500));
  SyncOk();
  EXPECT_EQ(Indexes(Reopen()[1]), Range(1, next - 1));
}

TEST_F(WalTest, OptionsAreValidated) {
  options_.buffered_bytes_max = 100;
  EXPECT_EQ(Wal::Open(&disk_, options_).status().code(),
            StatusCode::kInvalidArgument);
}

// A slow follower: group 2 appends once and never truncates, so every
// segment from its entries on stays, while group 1 truncates everything.
TEST_F(WalTest, GcKeepsEverySegmentASlowGroupStillNeeds) {
  options_.segment_bytes_max = 2048;
  wal_ = OpenOk();
  Append(1, Entries(1, 1, 1, 200));
  SyncOk();
  Append(2, Entries(1, 5, 1, 10));
  SyncOk();
  for (uint64_t i = 2; i <= 80; ++i) {
    Append(1, Entries(i, i, 1, 200));
    SyncOk();
  }
  const size_t segments = Segments().size();
  ASSERT_GE(segments, 6u);
  ASSERT_TRUE(wal_->Truncate(1, 80).ok());
  auto removed = wal_->CollectGarbage();
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, 0);  // group 2's entries are in the first segment
  auto recovered = Reopen();
  EXPECT_EQ(Indexes(recovered[2]), Range(1, 5));
  EXPECT_TRUE(recovered[1].entries.empty());
  ASSERT_TRUE(wal_->Truncate(2, 4).ok());
  removed = wal_->CollectGarbage();
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, 0);  // entry 5 still needed
  ASSERT_TRUE(wal_->Truncate(2, 5).ok());
  removed = wal_->CollectGarbage();
  ASSERT_TRUE(removed.ok());
  EXPECT_GE(static_cast<size_t>(*removed), segments - 1);
  EXPECT_EQ(Segments().size(), 1u);
  recovered = Reopen();
  EXPECT_EQ(recovered[2].truncated_index, 5u);
  EXPECT_EQ(recovered[1].truncated_index, 80u);
}

TEST_F(WalTest, RemovedGroupDoesNotBlockGc) {
  options_.segment_bytes_max = 1024;
  wal_ = OpenOk();
  Append(2, Entries(1, 5, 1, 10));
  for (uint64_t i = 1; i <= 30; ++i) {
    Append(1, Entries(i, i, 1, 200));
    SyncOk();
  }
  ASSERT_TRUE(wal_->Truncate(1, 30).ok());
  ASSERT_EQ(*wal_->CollectGarbage(), 0);
  ASSERT_TRUE(wal_->RemoveGroup(2).ok());
  EXPECT_GT(*wal_->CollectGarbage(), 0);
  EXPECT_EQ(Segments().size(), 1u);
  auto recovered = Reopen();
  EXPECT_FALSE(recovered.contains(2));
  EXPECT_TRUE(recovered.contains(1));
}

// 64 groups truncating at different speeds: after every GC the WAL replays
// to exactly what each group still needs.
TEST_F(WalTest, GcWithManyGroupsNeverRemovesANeededSegment) {
  options_.segment_bytes_max = 8192;
  wal_ = OpenOk();
  constexpr uint64_t kGroups = 64;
  std::vector<uint64_t> last(kGroups + 1, 0);
  std::vector<uint64_t> truncated(kGroups + 1, 0);
  Rng rng(42);
  uint64_t total_removed = 0;
  for (int round = 0; round < 40; ++round) {
    for (uint64_t group = 1; group <= kGroups; ++group) {
      const uint64_t count = 1 + rng.Uniform(3);
      Append(group, Entries(last[group] + 1, last[group] + count, 1, 20));
      last[group] += count;
      // Group g truncates every g-th round, up to a random recent index.
      if (round % (1 + group % 8) == 0 && last[group] > 2) {
        truncated[group] = std::max(truncated[group], last[group] - 2);
        ASSERT_TRUE(wal_->Truncate(group, truncated[group]).ok());
      }
    }
    SyncOk();
    auto removed = wal_->CollectGarbage();
    ASSERT_TRUE(removed.ok());
    total_removed += *removed;
    if (round % 10 != 9) continue;
    auto recovered = Reopen();
    ASSERT_EQ(recovered.size(), kGroups);
    for (uint64_t group = 1; group <= kGroups; ++group) {
      EXPECT_EQ(recovered[group].truncated_index, truncated[group]);
      EXPECT_EQ(Indexes(recovered[group]),
                Range(truncated[group] + 1, last[group]))
          << "group " << group << " round " << round;
    }
  }
  EXPECT_GT(total_removed, 0u);
}

}  // namespace
}  // namespace raftstore::storage
