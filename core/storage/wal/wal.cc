#include "core/storage/wal/wal.h"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "core/storage/wal/frame.h"
#include "core/storage/wal/segment_io.h"
#include "core/storage/wal/wal_format.h"
#include "google/protobuf/io/coded_stream.h"
#include "proto/wal.pb.h"

namespace raftstore::storage {
namespace {

// EntriesRecord is encoded by hand (field 1 group_id varint, field 2 entries
// length-delimited), so entries are serialised straight into the buffer
// without being copied into a message first. The result parses as
// wal.EntriesRecord; the codec test checks that.
constexpr uint8_t kGroupIdTag = 0x08;
constexpr uint8_t kEntryTag = 0x12;

uint64_t VarintBytes(uint64_t value) {
  return google::protobuf::io::CodedOutputStream::VarintSize64(value);
}

template <typename Record>
std::string Serialize(const Record& record) {
  std::string out;
  RS_CHECK(record.SerializeToString(&out));
  return out;
}

}  // namespace

Wal::Wal(Disk* disk, const WalOptions& options)
    : disk_(disk), options_(options) {}

Wal::~Wal() = default;

absl::StatusOr<std::unique_ptr<Wal>> Wal::Open(Disk* disk,
                                               const WalOptions& options) {
  RS_CHECK(disk != nullptr);
  if (absl::Status valid = ValidateWalOptions(options); !valid.ok()) {
    return valid;
  }
  absl::StatusOr<std::vector<uint64_t>> sequences = ListSegments(disk);
  if (!sequences.ok()) return sequences.status();
  std::unique_ptr<Wal> wal(new Wal(disk, options));
  if (sequences->empty()) {
    const std::string header = EncodeSegmentHeader(1, 1);
    if (absl::Status created =
            CreateSegment(disk, 1, header, options.verify_writes);
        !created.ok()) {
      return created;
    }
    wal->segments_.push_back(
        WalSegment{1, SegmentFileName(1), 1, header.size(), {}});
    return wal;
  }
  WalReplay replay(options);
  absl::StatusOr<uint64_t> torn =
      ReplayForOpen(disk, options, *sequences, replay);
  if (!torn.ok()) return torn.status();
  if (absl::Status finished = replay.Finish(); !finished.ok()) {
    return finished;
  }
  wal->stats_.torn_bytes_dropped = *torn;
  wal->AdoptReplay(std::move(replay));
  return wal;
}

void Wal::AdoptReplay(WalReplay replay) {
  stats_.records_replayed = replay.records();
  last_lsn_ = written_lsn_ = durable_lsn_ = replay.last_lsn();
  segments_ = std::move(replay.segments());
  RS_CHECK(!segments_.empty());
  recovered_ = replay.TakeGroups();
  for (const auto& [group_id, state] : recovered_) {
    Group& group = groups_[group_id];
    group.hard_state = state.hard_state;
    group.snapshot = state.snapshot;
    group.truncated_index = state.truncated_index;
    group.last_index = state.entries.empty() ? state.truncated_index
                                             : state.entries.back().index();
  }
}

absl::btree_map<uint64_t, WalGroupState> Wal::TakeRecovered() {
  return std::exchange(recovered_, {});
}

absl::Status Wal::Poison(absl::Status status) {
  RS_CHECK(!status.ok());
  if (poisoned_.ok()) poisoned_ = status;
  return status;
}

absl::Status Wal::CheckAppend(uint64_t group_id, uint64_t frame_bytes,
                              bool starts_group) {
  if (!poisoned_.ok()) return poisoned_;
  if (group_id == 0) {
    return absl::InvalidArgumentError("wal: group id 0 is not a group");
  }
  if (starts_group && !groups_.contains(group_id) &&
      groups_.size() >= options_.groups_max) {
    return absl::ResourceExhaustedError(
        absl::StrCat("wal: ", groups_.size(), " groups live, groups_max is ",
                     options_.groups_max, "; cannot start group ", group_id));
  }
  // Room for this record and a rotation's checkpoints, with +1 never
  // overflowing (reachable only from a crafted WAL).
  if (last_lsn_ + groups_.size() + 4 > kLsnMax ||
      segments_.back().sequence + 1 > kSegmentSequenceMax) {
    return absl::ResourceExhaustedError(
        "wal: LSN or segment sequence space exhausted");
  }
  if (unsynced_bytes_ + frame_bytes > options_.buffered_bytes_max) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "wal: ", unsynced_bytes_, " bytes not yet synced and a record of ",
        frame_bytes, " would pass buffered_bytes_max ",
        options_.buffered_bytes_max, "; Sync first"));
  }
  return absl::OkStatus();
}

Wal::Group& Wal::GroupFor(uint64_t group_id) { return groups_[group_id]; }

uint64_t Wal::Buffer(WalRecordType type, std::string_view payload) {
  const uint64_t lsn = ++last_lsn_;
  AppendFrame(type, lsn, durable_lsn_, payload, &buffer_);
  unsynced_bytes_ += kFrameHeaderBytes + payload.size();
  ++stats_.records_appended;
  return lsn;
}

absl::StatusOr<std::vector<size_t>> Wal::SplitEntries(
    std::span<const raft::Entry> entries) const {
  // Counts of entries per record, each record's payload within the bound.
  std::vector<size_t> counts;
  const uint64_t base = 1 + VarintBytes(0);  // group id tag, upper bound below
  uint64_t payload = 0;
  size_t count = 0;
  for (const raft::Entry& entry : entries) {
    const uint64_t size = entry.GetCachedSize();
    const uint64_t bytes = 1 + VarintBytes(size) + size;
    if (base + 10 + bytes > options_.record_payload_bytes_max) {
      return absl::InvalidArgumentError(absl::StrCat(
          "wal: entry ", entry.index(), " is ", size,
          " bytes; one record holds at most record_payload_bytes_max ",
          options_.record_payload_bytes_max));
    }
    if (count > 0 &&
        base + 10 + payload + bytes > options_.record_payload_bytes_max) {
      counts.push_back(count);
      payload = 0;
      count = 0;
    }
    payload += bytes;
    ++count;
  }
  counts.push_back(count);
  return counts;
}

absl::StatusOr<uint64_t> Wal::AppendEntries(
    uint64_t group_id, std::span<const raft::Entry> entries) {
  if (entries.empty()) {
    return absl::InvalidArgumentError("wal: AppendEntries with no entries");
  }
  const uint64_t first = entries.front().index();
  // One pass checks the indexes and caches every entry's size (ByteSizeLong
  // stores it in the entry, so encoding does not compute it again).
  uint64_t payload_bytes = 1 + VarintBytes(group_id);
  for (size_t i = 0; i < entries.size(); ++i) {
    if (first == 0 || entries[i].index() != first + i) {
      return absl::InvalidArgumentError(absl::StrCat(
          "wal: group ", group_id, ": entry indexes not consecutive from ",
          first, " (or 0)"));
    }
    const uint64_t size = entries[i].ByteSizeLong();
    payload_bytes += 1 + VarintBytes(size) + size;
  }
  const auto existing = groups_.find(group_id);
  const uint64_t last_index =
      existing == groups_.end() ? 0 : existing->second.last_index;
  if (first > last_index + 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("wal: group ", group_id, ": entries from ", first,
                     " would leave a gap after index ", last_index));
  }
  // Records per entry count when the batch must be split; empty (no
  // allocation) in the common case of one record.
  std::vector<size_t> split;
  if (payload_bytes > options_.record_payload_bytes_max) {
    absl::StatusOr<std::vector<size_t>> counts = SplitEntries(entries);
    if (!counts.ok()) return counts.status();
    split = *std::move(counts);
  }
  const uint64_t records = split.empty() ? 1 : split.size();
  const uint64_t frame_bytes =
      payload_bytes + records * (kFrameHeaderBytes + 11);
  // A group found above cannot start: CheckAppend need not look it up again.
  if (absl::Status ok = CheckAppend(group_id, frame_bytes,
                                    /*starts_group=*/existing == groups_.end());
      !ok.ok()) {
    return ok;
  }
  if (split.empty()) {
    EncodeEntriesFrame(group_id, entries);
  } else {
    size_t next = 0;
    for (const size_t count : split) {
      EncodeEntriesFrame(group_id, entries.subspan(next, count));
      next += count;
    }
  }
  const uint64_t last = entries.back().index();
  Group& group =
      existing == groups_.end() ? groups_[group_id] : existing->second;
  group.last_index = std::max(last, group.truncated_index);
  auto& max_index = segments_.back().entry_index_max[group_id];
  max_index = std::max(max_index, last);
  return last_lsn_;
}

void Wal::EncodeEntriesFrame(uint64_t group_id,
                             std::span<const raft::Entry> entries) {
  using google::protobuf::io::CodedOutputStream;
  // The frame's size is known before a byte is written (every entry's size
  // is cached), so the buffer grows once and the frame is written in place.
  size_t payload_bytes = 1 + CodedOutputStream::VarintSize64(group_id);
  for (const raft::Entry& entry : entries) {
    const size_t size = static_cast<size_t>(entry.GetCachedSize());
    payload_bytes += 1 + CodedOutputStream::VarintSize64(size) + size;
  }
  const size_t start = buffer_.size();
  buffer_.resize(start + kFrameHeaderBytes + payload_bytes);
  uint8_t* out = reinterpret_cast<uint8_t*>(&buffer_[start]);
  uint8_t* const end = out + kFrameHeaderBytes + payload_bytes;
  out += kFrameHeaderBytes;  // FinishFrame writes every header byte
  *out++ = kGroupIdTag;
  out = CodedOutputStream::WriteVarint64ToArray(group_id, out);
  for (const raft::Entry& entry : entries) {
    *out++ = kEntryTag;
    out = CodedOutputStream::WriteVarint64ToArray(
        static_cast<uint64_t>(entry.GetCachedSize()), out);
    out = entry.SerializeWithCachedSizesToArray(out);
  }
  RS_CHECK(out == end);
  FinishFrame(start, WalRecordType::kEntries, ++last_lsn_, durable_lsn_,
              &buffer_);
  unsynced_bytes_ += buffer_.size() - start;
  ++stats_.records_appended;
}

absl::StatusOr<uint64_t> Wal::SaveHardState(uint64_t group_id,
                                            const raft::HardState& hard_state) {
  wal::HardStateRecord record;
  record.set_group_id(group_id);
  *record.mutable_hard_state() = hard_state;
  const std::string payload = Serialize(record);
  if (absl::Status ok =
          CheckAppend(group_id, kFrameHeaderBytes + payload.size());
      !ok.ok()) {
    return ok;
  }
  GroupFor(group_id).hard_state = hard_state;
  return Buffer(WalRecordType::kHardState, payload);
}

absl::StatusOr<uint64_t> Wal::SaveSnapshot(
    uint64_t group_id, const raft::SnapshotMetadata& metadata,
    WalSnapshotKind kind) {
  wal::SnapshotRecord record;
  record.set_group_id(group_id);
  *record.mutable_metadata() = metadata;
  record.set_kind(kind == WalSnapshotKind::kInstalled
                      ? wal::SNAPSHOT_KIND_INSTALLED
                      : wal::SNAPSHOT_KIND_LOCAL);
  const std::string payload = Serialize(record);
  if (absl::Status ok =
          CheckAppend(group_id, kFrameHeaderBytes + payload.size());
      !ok.ok()) {
    return ok;
  }
  const auto existing = groups_.find(group_id);
  if (existing != groups_.end() &&
      metadata.index() < existing->second.snapshot.index()) {
    return absl::InvalidArgumentError(
        absl::StrCat("wal: group ", group_id, ": snapshot at index ",
                     metadata.index(), " is older than the recorded one at ",
                     existing->second.snapshot.index()));
  }
  Group& group = GroupFor(group_id);
  group.snapshot = metadata;
  group.truncated_index = std::max(group.truncated_index, metadata.index());
  if (kind == WalSnapshotKind::kInstalled) {
    group.last_index = group.truncated_index;
    ForgetGroupEntries(segments_, group_id);
  } else {
    group.last_index = std::max(group.last_index, group.truncated_index);
  }
  return Buffer(WalRecordType::kSnapshot, payload);
}

absl::StatusOr<uint64_t> Wal::Truncate(uint64_t group_id, uint64_t index) {
  wal::TruncateRecord record;
  record.set_group_id(group_id);
  record.set_index(index);
  const std::string payload = Serialize(record);
  if (absl::Status ok =
          CheckAppend(group_id, kFrameHeaderBytes + payload.size());
      !ok.ok()) {
    return ok;
  }
  Group& group = GroupFor(group_id);
  group.truncated_index = std::max(group.truncated_index, index);
  group.last_index = std::max(group.last_index, group.truncated_index);
  return Buffer(WalRecordType::kTruncate, payload);
}

absl::StatusOr<uint64_t> Wal::RemoveGroup(uint64_t group_id) {
  wal::GroupRemovedRecord record;
  record.set_group_id(group_id);
  const std::string payload = Serialize(record);
  if (absl::Status ok =
          CheckAppend(group_id, kFrameHeaderBytes + payload.size(),
                      /*starts_group=*/false);
      !ok.ok()) {
    return ok;
  }
  groups_.erase(group_id);
  ForgetGroupEntries(segments_, group_id);
  return Buffer(WalRecordType::kGroupRemoved, payload);
}

absl::Status WriteAndSyncBatch(Disk* disk, const WalWriteBatch& batch) {
  RS_CHECK(disk != nullptr);
  if (!batch.bytes.empty()) {
    if (absl::Status appended = disk->Append(batch.segment, batch.bytes);
        !appended.ok()) {
      return DiskError(batch.segment, "append", appended);
    }
  }
  if (absl::Status synced = disk->Sync(batch.segment); !synced.ok()) {
    return DiskError(batch.segment, "sync", synced);
  }
  return absl::OkStatus();
}

absl::Status Wal::Write() {
  RS_CHECK(write_allowed())
      << "wal: Write while a batch in flight still carries bytes to append";
  if (!poisoned_.ok()) return poisoned_;
  if (buffer_.empty()) return absl::OkStatus();
  WalSegment& segment = segments_.back();
  if (absl::Status appended = disk_->Append(segment.name, buffer_);
      !appended.ok()) {
    return Poison(DiskError(segment.name, "append", appended));
  }
  if (options_.verify_writes) {
    if (unsynced_written_.empty()) unsynced_offset_ = segment.bytes;
    unsynced_written_ += buffer_;
  }
  segment.bytes += buffer_.size();
  stats_.bytes_written += buffer_.size();
  written_lsn_ = last_lsn_;
  buffer_.clear();
  return absl::OkStatus();
}

std::optional<WalWriteBatch> Wal::SealBatch() {
  if (buffer_.empty() && written_lsn_ == durable_lsn_) return std::nullopt;
  WalSegment& segment = segments_.back();
  WalWriteBatch batch;
  batch.segment = segment.name;
  batch.last_lsn = last_lsn_;
  if (options_.verify_writes && !buffer_.empty()) {
    if (unsynced_written_.empty()) unsynced_offset_ = segment.bytes;
    unsynced_written_ += buffer_;
  }
  segment.bytes += buffer_.size();
  stats_.bytes_written += buffer_.size();
  // The batch takes the encoded bytes; appends go on into the spare buffer.
  batch.bytes.swap(buffer_);
  buffer_.swap(spare_buffer_);
  buffer_.clear();
  written_lsn_ = last_lsn_;
  in_flight_lsn_ = last_lsn_;
  in_flight_bytes_ = unsynced_bytes_;
  in_flight_has_bytes_ = !batch.bytes.empty();
  in_flight_verify_bytes_ = unsynced_written_.size();
  return batch;
}

absl::StatusOr<std::optional<WalWriteBatch>> Wal::BeginBatch() {
  RS_CHECK(!batch_in_flight()) << "wal: BeginBatch while a batch is in flight";
  if (!poisoned_.ok()) return poisoned_;
  if (segments_.back().bytes >= options_.segment_bytes_max) {
    // A rotation is due: the records encoded so far must go to the full
    // segment before the next one's checkpoints, so do it all here.
    if (absl::Status synced = Sync(); !synced.ok()) return synced;
    return std::optional<WalWriteBatch>();
  }
  return SealBatch();
}

absl::Status Wal::FinishBatch(WalWriteBatch batch, const absl::Status& synced) {
  RS_CHECK(batch_in_flight()) << "wal: FinishBatch without a batch in flight";
  RS_CHECK_EQ(batch.last_lsn, in_flight_lsn_)
      << "wal: FinishBatch of a batch other than the one in flight";
  in_flight_lsn_ = 0;
  in_flight_has_bytes_ = false;
  const uint64_t verify_bytes = std::exchange(in_flight_verify_bytes_, 0);
  if (batch.bytes.capacity() > spare_buffer_.capacity()) {
    spare_buffer_.swap(batch.bytes);
    spare_buffer_.clear();
  }
  if (!synced.ok()) return Poison(synced);
  if (!poisoned_.ok()) return poisoned_;
  ++stats_.syncs;
  if (absl::Status same = VerifySynced(verify_bytes); !same.ok()) return same;
  durable_lsn_ = batch.last_lsn;
  unsynced_bytes_ -= in_flight_bytes_;
  in_flight_bytes_ = 0;
  if (last_lsn_ == durable_lsn_ &&
      segments_.back().bytes >= options_.segment_bytes_max) {
    return Rotate();
  }
  return absl::OkStatus();
}

absl::Status Wal::Sync() {
  RS_CHECK(!batch_in_flight()) << "wal: Sync while a batch is in flight";
  if (!poisoned_.ok()) return poisoned_;
  std::optional<WalWriteBatch> batch = SealBatch();
  if (batch.has_value()) {
    const absl::Status synced = WriteAndSyncBatch(disk_, *batch);
    return FinishBatch(*std::move(batch), synced);
  }
  if (segments_.back().bytes >= options_.segment_bytes_max) return Rotate();
  return absl::OkStatus();
}

absl::Status Wal::VerifySynced(uint64_t bytes) {
  if (!options_.verify_writes) return absl::OkStatus();
  RS_CHECK_LE(bytes, unsynced_written_.size());
  const absl::Status same =
      VerifyWritten(disk_, segments_.back().name, unsynced_offset_,
                    std::string_view(unsynced_written_).substr(0, bytes));
  unsynced_written_.erase(0, bytes);
  unsynced_offset_ += bytes;
  if (!same.ok()) return Poison(same);
  return absl::OkStatus();
}

void Wal::AppendCheckpoints(std::string* out) {
  for (const auto& [group_id, group] : groups_) {
    wal::GroupCheckpoint checkpoint;
    checkpoint.set_group_id(group_id);
    *checkpoint.mutable_hard_state() = group.hard_state;
    *checkpoint.mutable_snapshot() = group.snapshot;
    checkpoint.set_truncated_index(group.truncated_index);
    AppendFrame(WalRecordType::kCheckpoint, ++last_lsn_, durable_lsn_,
                Serialize(checkpoint), out);
    ++stats_.records_appended;
  }
}

absl::Status Wal::Rotate() {
  RS_CHECK(buffer_.empty());
  RS_CHECK_EQ(durable_lsn_, last_lsn_);
  if (segments_.back().sequence >= kSegmentSequenceMax ||
      last_lsn_ + groups_.size() + 1 > kLsnMax) {
    return Poison(absl::ResourceExhaustedError(
        "wal: LSN or segment sequence space exhausted; cannot rotate"));
  }
  const uint64_t sequence = segments_.back().sequence + 1;
  std::string contents = EncodeSegmentHeader(sequence, last_lsn_ + 1);
  AppendCheckpoints(&contents);
  if (absl::Status created =
          CreateSegment(disk_, sequence, contents, options_.verify_writes);
      !created.ok()) {
    return Poison(created);
  }
  segments_.push_back(WalSegment{sequence,
                                 SegmentFileName(sequence),
                                 durable_lsn_ + 1,
                                 contents.size(),
                                 {}});
  written_lsn_ = durable_lsn_ = last_lsn_;
  ++stats_.syncs;
  ++stats_.segments_created;
  stats_.bytes_written += contents.size();
  return absl::OkStatus();
}

bool Wal::Collectable(const WalSegment& segment) const {
  for (const auto& [group_id, index_max] : segment.entry_index_max) {
    const auto group = groups_.find(group_id);
    if (group != groups_.end() && index_max > group->second.truncated_index) {
      return false;
    }
  }
  return true;
}

absl::StatusOr<int> Wal::CollectGarbage() {
  RS_CHECK(!batch_in_flight())
      << "wal: CollectGarbage while a batch is in flight";
  if (!poisoned_.ok()) return poisoned_;
  // The truncation marks and removals relied on below must be durable first.
  if (last_lsn_ > durable_lsn_) {
    if (absl::Status synced = Sync(); !synced.ok()) return synced;
  }
  int removed = 0;
  while (segments_.size() > 1 && Collectable(segments_.front())) {
    const std::string name = segments_.front().name;
    if (absl::Status gone = disk_->Remove(name); !gone.ok()) {
      return Poison(DiskError(name, "remove", gone));
    }
    // One removal at a time, so a crash leaves the newest segments: a gap in
    // the sequence is then always damage, never an interrupted GC.
    if (absl::Status synced = disk_->SyncDir(); !synced.ok()) {
      return Poison(DiskError(name, "directory sync after removing", synced));
    }
    segments_.pop_front();
    ++stats_.segments_removed;
    ++removed;
  }
  return removed;
}

WalStats Wal::stats() const {
  WalStats stats = stats_;
  stats.segments = segments_.size();
  stats.segment_bytes = 0;
  for (const WalSegment& segment : segments_) {
    stats.segment_bytes += segment.bytes;
  }
  return stats;
}

}  // namespace raftstore::storage
