// Replay of WAL segments into per-group state, shared by Wal::Open, RepairWal
// and the recovery fuzzer. It decodes and applies records in LSN order and
// stops each segment at the first bad frame, describing it; the recovery
// policy (torn tail or DataLoss, docs/wal-format.md) is the caller's, helped by
// FindDurabilityProof.
//
// Thread-safety: none; one owner.
#ifndef RAFTSTORE_CORE_STORAGE_WAL_REPLAY_H_
#define RAFTSTORE_CORE_STORAGE_WAL_REPLAY_H_

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

#include "absl/container/btree_map.h"
#include "absl/status/status.h"
#include "core/storage/wal/frame.h"
#include "core/storage/wal/wal_options.h"
#include "proto/raft.pb.h"

namespace raftstore::storage {

// One segment file, with what GC needs to know about it.
struct WalSegment {
  uint64_t sequence = 0;
  std::string name;
  uint64_t first_lsn = 0;
  // The file's size (including bytes written but not yet synced).
  uint64_t bytes = 0;
  // For each group with entries here that may still be needed: the highest
  // entry index. A group's key is erased when all its entries so far become
  // dead at once (group removed, snapshot installed). Only entries pin a
  // segment: everything else is repeated by the next segment's checkpoint.
  absl::btree_map<uint64_t, uint64_t> entry_index_max;
};

// Erases `group_id` from every segment's entry_index_max.
void ForgetGroupEntries(std::deque<WalSegment>& segments, uint64_t group_id);

// What replaying one segment found.
struct SegmentScan {
  // False when the header is unusable; `error` says why (kDataLoss, or
  // kFailedPrecondition for a newer format version) and nothing was replayed.
  bool header_ok = false;
  // True when every byte after the header decoded and applied.
  bool clean = false;
  // Where the first bad frame starts (the file size when clean): the bytes
  // before it were replayed.
  uint64_t good_bytes = 0;
  // A checksum-valid record whose content is invalid (a bad payload, a
  // sequence or LSN mismatch in a valid header, entries that leave a gap):
  // never a torn write, always DataLoss.
  bool content_error = false;
  // When !clean or !header_ok: the problem, naming the file and offset
  // (kDataLoss or kFailedPrecondition).
  absl::Status error;
};

class WalReplay {
 public:
  explicit WalReplay(const WalOptions& options) : options_(options) {}

  // Replays segment `sequence` (file content `bytes`), which must follow the
  // previous one given (sequence + 1), applying its records until the first
  // bad frame. Adds the segment to segments() when its header is usable.
  SegmentScan ReplaySegment(uint64_t sequence, std::string_view bytes);

  // Forgets the newest segment, which the caller removes (a torn header) or
  // cuts at `bytes` (a torn tail; records past it were never applied).
  void DropNewestSegment() { segments_.pop_back(); }
  void CutNewestSegment(uint64_t bytes) { segments_.back().bytes = bytes; }

  // After the last segment: kDataLoss if a group's entries start after a gap
  // that no truncation covers (a segment it needed is gone).
  absl::Status Finish();

  // The LSN of the last record replayed (0 if none).
  uint64_t last_lsn() const { return last_lsn_; }
  uint64_t records() const { return records_; }
  std::deque<WalSegment>& segments() { return segments_; }

  // Each live group's state. Call after Finish(); moves it out.
  absl::btree_map<uint64_t, WalGroupState> TakeGroups();

 private:
  struct GroupReplay {
    WalGroupState state;  // entries are kept in `entries` until TakeGroups
    std::deque<raft::Entry> entries;
    // Entries up to here were missing when later ones arrived; some later
    // truncation must cover them (they were in a collected segment).
    uint64_t gap_floor = 0;
  };

  absl::Status ApplyRecord(WalRecordType type, std::string_view payload);
  absl::Status ApplyEntries(std::string_view payload);
  absl::Status ApplyHardState(std::string_view payload);
  absl::Status ApplySnapshot(std::string_view payload);
  absl::Status ApplyTruncate(std::string_view payload);
  absl::Status ApplyGroupRemoved(std::string_view payload);
  absl::Status ApplyCheckpoint(std::string_view payload);
  GroupReplay& Group(uint64_t group_id);
  static void RaiseTruncated(GroupReplay& group, uint64_t index);

  WalOptions options_;
  absl::btree_map<uint64_t, GroupReplay> groups_;
  std::deque<WalSegment> segments_;
  uint64_t last_lsn_ = 0;
  uint64_t records_ = 0;
};

// Looks in bytes[from, end) for a checksum-valid frame with LSN > good_lsn and
// synced LSN > good_lsn, that is, a frame written after the frame following
// good_lsn had been made durable: proof that damage right after good_lsn hit
// durable data. Returns the offset of the first such frame. Linear in the
// bytes scanned (cheap header checks filter every offset before a CRC).
std::optional<uint64_t> FindDurabilityProof(std::string_view bytes,
                                            uint64_t from, uint64_t good_lsn,
                                            uint64_t payload_bytes_max);

}  // namespace raftstore::storage

#endif  // RAFTSTORE_CORE_STORAGE_WAL_REPLAY_H_
