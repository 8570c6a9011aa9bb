// The WAL's public value types: options with their bounds, the per-group
// state replay recovers, and segment file naming. See wal.h for the Wal
// itself.
//
// Thread-safety: values and pure functions.
#ifndef RAFTSTORE_CORE_STORAGE_WAL_WAL_OPTIONS_H_
#define RAFTSTORE_CORE_STORAGE_WAL_WAL_OPTIONS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "proto/raft.pb.h"

namespace raftstore::storage {

struct WalOptions {
  // A segment is rotated at the first Sync after it reaches this size, so it
  // may exceed it by one batch (at most buffered_bytes_max).
  uint64_t segment_bytes_max = uint64_t{64} << 20;
  // The largest record payload written or accepted on replay. A batch of
  // entries larger than this is split into several records; one entry must
  // fit (with ~20 bytes of framing).
  uint64_t record_payload_bytes_max = uint64_t{4} << 20;
  // Records appended (buffered or written) but not yet synced; past it an
  // append returns kResourceExhausted until the next Sync.
  uint64_t buffered_bytes_max = uint64_t{32} << 20;
  // Live groups; past it an append for a new group returns
  // kResourceExhausted.
  uint64_t groups_max = uint64_t{1} << 20;
  // After each successful Disk::Sync, read the synced bytes back and compare
  // them with what was written (a second read settles a disagreement); a
  // mismatch poisons the Wal with kDataLoss. A write garbled on its way to
  // the medium and followed by no later write would otherwise be cut as a
  // torn tail at the next Open, losing an acknowledged record. Turn it on
  // where writes can be garbled and reads see the medium (SimDisk's
  // write-corruption fault); PosixDisk reads come from the page cache, so
  // there it costs a read and checks nothing.
  bool verify_writes = false;
};

// OK when every bound is positive, record_payload_bytes_max fits a frame's
// length field, and a record fits both buffered_bytes_max and
// segment_bytes_max; kInvalidArgument naming the option otherwise.
absl::Status ValidateWalOptions(const WalOptions& options);

enum class WalSnapshotKind {
  // Received from the leader and installed: replaces the group's whole log.
  kInstalled,
  // Taken by this node of its own state machine (log compaction): entries
  // after its index are kept.
  kLocal,
};

// What replay recovers for one group, to rebuild a raft::MemoryStorage from
// (ApplySnapshot(snapshot) when snapshot.index() > 0, SetHardState,
// Append(entries)).
struct WalGroupState {
  raft::HardState hard_state;
  // The latest snapshot metadata recorded (index 0 if none).
  raft::SnapshotMetadata snapshot;
  // Entries <= truncated_index are not needed (>= snapshot.index()).
  uint64_t truncated_index = 0;
  // Consecutive; the first (if any) is truncated_index + 1. When
  // truncated_index > snapshot.index() (Truncate without a snapshot record),
  // the compaction point's term and membership come from the store's own
  // snapshot, not from the WAL.
  std::vector<raft::Entry> entries;
};

// "wal-00000000000000000007.log" for sequence 7.
std::string SegmentFileName(uint64_t sequence);
// The sequence of a segment file name, or nullopt for any other name.
std::optional<uint64_t> ParseSegmentFileName(std::string_view name);

}  // namespace raftstore::storage

#endif  // RAFTSTORE_CORE_STORAGE_WAL_WAL_OPTIONS_H_
