#include "core/storage/wal/replay.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "proto/wal.pb.h"

namespace raftstore::storage {
namespace {

absl::Status Invalid(std::string_view what) {
  return absl::DataLossError(std::string(what));
}

template <typename Record>
absl::Status Parse(std::string_view payload, Record* record) {
  if (!record->ParseFromArray(payload.data(),
                              static_cast<int>(payload.size()))) {
    return Invalid(absl::StrCat("cannot parse ", record->GetTypeName()));
  }
  if (record->group_id() == 0) {
    return Invalid(absl::StrCat(record->GetTypeName(), " has group id 0"));
  }
  return absl::OkStatus();
}

absl::Status At(const std::string& name, uint64_t offset,
                std::string_view what) {
  return absl::DataLossError(absl::StrCat("wal segment ", name, " offset ",
                                          offset, ": ", std::string(what)));
}

}  // namespace

void ForgetGroupEntries(std::deque<WalSegment>& segments, uint64_t group_id) {
  for (WalSegment& segment : segments) segment.entry_index_max.erase(group_id);
}

SegmentScan WalReplay::ReplaySegment(uint64_t sequence,
                                     std::string_view bytes) {
  SegmentScan scan;
  const std::string name = SegmentFileName(sequence);
  if (!segments_.empty()) RS_CHECK_EQ(segments_.back().sequence + 1, sequence);
  auto header = DecodeSegmentHeader(name, bytes);
  if (!header.ok()) {
    scan.error = header.status();
    return scan;
  }
  scan.header_ok = true;
  if (header->sequence != sequence ||
      (!segments_.empty() && header->first_lsn != last_lsn_ + 1)) {
    scan.content_error = true;
    scan.error = At(
        name, 0,
        absl::StrCat("segment header says sequence ", header->sequence,
                     " first LSN ", header->first_lsn, "; expected sequence ",
                     sequence, " first LSN ", last_lsn_ + 1));
    scan.header_ok = false;
    return scan;
  }
  last_lsn_ = header->first_lsn - 1;
  segments_.push_back(
      WalSegment{sequence, name, header->first_lsn, bytes.size(), {}});
  uint64_t offset = kSegmentHeaderBytes;
  while (offset < bytes.size()) {
    const DecodedFrame frame =
        DecodeFrame(bytes, offset, options_.record_payload_bytes_max);
    std::string problem;
    if (frame.error != FrameError::kNone) {
      problem = std::string(FrameErrorName(frame.error));
      if (frame.error == FrameError::kLengthAboveMax ||
          frame.error == FrameError::kLengthPastEnd) {
        absl::StrAppend(&problem, " (length ", frame.length, ")");
      }
    } else if (frame.lsn != last_lsn_ + 1) {
      problem = absl::StrCat("LSN ", frame.lsn, " where ", last_lsn_ + 1,
                             " was expected");
    }
    if (!problem.empty()) {
      scan.good_bytes = offset;
      scan.error = At(name, offset, problem);
      return scan;
    }
    if (absl::Status applied = ApplyRecord(frame.type, frame.payload);
        !applied.ok()) {
      scan.good_bytes = offset;
      scan.content_error = true;
      scan.error = At(name, offset,
                      absl::StrCat(std::string(WalRecordTypeName(frame.type)),
                                   " record: ", applied.message()));
      return scan;
    }
    last_lsn_ = frame.lsn;
    ++records_;
    offset += frame.frame_bytes;
  }
  scan.clean = true;
  scan.good_bytes = bytes.size();
  return scan;
}

absl::Status WalReplay::ApplyRecord(WalRecordType type,
                                    std::string_view payload) {
  switch (type) {
    case WalRecordType::kEntries:
      return ApplyEntries(payload);
    case WalRecordType::kHardState:
      return ApplyHardState(payload);
    case WalRecordType::kSnapshot:
      return ApplySnapshot(payload);
    case WalRecordType::kTruncate:
      return ApplyTruncate(payload);
    case WalRecordType::kGroupRemoved:
      return ApplyGroupRemoved(payload);
    case WalRecordType::kCheckpoint:
      return ApplyCheckpoint(payload);
    case WalRecordType::kUnspecified:
      break;
  }
  return Invalid("unknown record type");
}

WalReplay::GroupReplay& WalReplay::Group(uint64_t group_id) {
  return groups_[group_id];
}

void WalReplay::RaiseTruncated(GroupReplay& group, uint64_t index) {
  group.state.truncated_index = std::max(group.state.truncated_index, index);
  while (!group.entries.empty() &&
         group.entries.front().index() <= group.state.truncated_index) {
    group.entries.pop_front();
  }
}

absl::Status WalReplay::ApplyEntries(std::string_view payload) {
  wal::EntriesRecord record;
  if (absl::Status parsed = Parse(payload, &record); !parsed.ok()) {
    return parsed;
  }
  if (record.entries().empty()) return Invalid("empty entries record");
  const uint64_t first = record.entries(0).index();
  for (int i = 0; i < record.entries_size(); ++i) {
    if (record.entries(i).index() != first + i || first == 0) {
      return Invalid(absl::StrCat("group ", record.group_id(),
                                  ": entry indexes not consecutive from ",
                                  first));
    }
  }
  GroupReplay& group = Group(record.group_id());
  const uint64_t last = first + record.entries_size() - 1;
  // A batch from `first` replaces every entry from `first` on, even when its
  // own entries are all truncated already.
  while (!group.entries.empty() && group.entries.back().index() >= first) {
    group.entries.pop_back();
  }
  const uint64_t truncated = group.state.truncated_index;
  if (last <= truncated) return absl::OkStatus();
  const uint64_t first_new = std::max(first, truncated + 1);
  const uint64_t expected =
      group.entries.empty() ? truncated + 1 : group.entries.back().index() + 1;
  if (first_new > expected) {
    if (!group.entries.empty()) {
      return Invalid(absl::StrCat("group ", record.group_id(),
                                  ": entries jump from index ", expected - 1,
                                  " to ", first_new));
    }
    // The entries before first_new were in a segment GC removed; a later
    // truncation record must cover them (checked in Finish).
    group.gap_floor = std::max(group.gap_floor, first_new - 1);
  }
  for (raft::Entry& entry : *record.mutable_entries()) {
    if (entry.index() >= first_new) group.entries.push_back(std::move(entry));
  }
  auto& max_index = segments_.back().entry_index_max[record.group_id()];
  max_index = std::max(max_index, last);
  return absl::OkStatus();
}

absl::Status WalReplay::ApplyHardState(std::string_view payload) {
  wal::HardStateRecord record;
  if (absl::Status parsed = Parse(payload, &record); !parsed.ok()) {
    return parsed;
  }
  Group(record.group_id()).state.hard_state = record.hard_state();
  return absl::OkStatus();
}

absl::Status WalReplay::ApplySnapshot(std::string_view payload) {
  wal::SnapshotRecord record;
  if (absl::Status parsed = Parse(payload, &record); !parsed.ok()) {
    return parsed;
  }
  if (record.kind() != wal::SNAPSHOT_KIND_INSTALLED &&
      record.kind() != wal::SNAPSHOT_KIND_LOCAL) {
    return Invalid(absl::StrCat("group ", record.group_id(),
                                ": unknown snapshot kind ", record.kind()));
  }
  GroupReplay& group = Group(record.group_id());
  if (record.kind() == wal::SNAPSHOT_KIND_INSTALLED) {
    group.entries.clear();
    group.gap_floor = 0;
    ForgetGroupEntries(segments_, record.group_id());
  }
  group.state.snapshot = record.metadata();
  RaiseTruncated(group, record.metadata().index());
  return absl::OkStatus();
}

absl::Status WalReplay::ApplyTruncate(std::string_view payload) {
  wal::TruncateRecord record;
  if (absl::Status parsed = Parse(payload, &record); !parsed.ok()) {
    return parsed;
  }
  RaiseTruncated(Group(record.group_id()), record.index());
  return absl::OkStatus();
}

absl::Status WalReplay::ApplyGroupRemoved(std::string_view payload) {
  wal::GroupRemovedRecord record;
  if (absl::Status parsed = Parse(payload, &record); !parsed.ok()) {
    return parsed;
  }
  groups_.erase(record.group_id());
  ForgetGroupEntries(segments_, record.group_id());
  return absl::OkStatus();
}

absl::Status WalReplay::ApplyCheckpoint(std::string_view payload) {
  wal::GroupCheckpoint record;
  if (absl::Status parsed = Parse(payload, &record); !parsed.ok()) {
    return parsed;
  }
  GroupReplay& group = Group(record.group_id());
  group.state.hard_state = record.hard_state();
  group.state.snapshot = record.snapshot();
  RaiseTruncated(group, record.truncated_index());
  return absl::OkStatus();
}

absl::Status WalReplay::Finish() {
  for (const auto& [group_id, group] : groups_) {
    if (group.gap_floor > group.state.truncated_index) {
      return absl::DataLossError(absl::StrCat(
          "wal: group ", group_id, " is missing entries up to index ",
          group.gap_floor, " (truncated only to ", group.state.truncated_index,
          "): a segment it needed is gone"));
    }
  }
  return absl::OkStatus();
}

absl::btree_map<uint64_t, WalGroupState> WalReplay::TakeGroups() {
  absl::btree_map<uint64_t, WalGroupState> out;
  for (auto& [group_id, group] : groups_) {
    WalGroupState& state = out[group_id];
    state = std::move(group.state);
    state.entries.assign(std::make_move_iterator(group.entries.begin()),
                         std::make_move_iterator(group.entries.end()));
  }
  groups_.clear();
  return out;
}

std::optional<uint64_t> FindDurabilityProof(std::string_view bytes,
                                            uint64_t from, uint64_t good_lsn,
                                            uint64_t payload_bytes_max) {
  if (bytes.size() < kFrameHeaderBytes) return std::nullopt;
  // A frame takes at least kFrameHeaderBytes, so no frame of this file can
  // have an LSN beyond this.
  const uint64_t lsn_max = good_lsn + bytes.size() / kFrameHeaderBytes + 1;
  for (uint64_t offset = from; offset + kFrameHeaderBytes <= bytes.size();
       ++offset) {
    if (!FrameHeaderPlausible(bytes, offset, payload_bytes_max, good_lsn + 1,
                              lsn_max, good_lsn + 1)) {
      continue;
    }
    const DecodedFrame frame = DecodeFrame(bytes, offset, payload_bytes_max);
    if (frame.error == FrameError::kNone && frame.synced_lsn > good_lsn) {
      return offset;
    }
  }
  return std::nullopt;
}

}  // namespace raftstore::storage
