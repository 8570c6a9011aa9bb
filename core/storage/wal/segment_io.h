// The Disk side of the WAL's segments: listing, creating (atomically, via a
// temporary name), reading, and the recovery policy of Open (torn tail or
// DataLoss; docs/wal-format.md). Used by wal.cc and repair.cc.
//
// Thread-safety: none; functions over a Disk the caller owns.
#ifndef RAFTSTORE_CORE_STORAGE_WAL_SEGMENT_IO_H_
#define RAFTSTORE_CORE_STORAGE_WAL_SEGMENT_IO_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/storage/disk.h"
#include "core/storage/wal/replay.h"
#include "core/storage/wal/wal_options.h"

namespace raftstore::storage {

// `status` with its code kept and the message prefixed with the segment and
// the operation that failed.
absl::Status DiskError(const std::string& segment, std::string_view operation,
                       const absl::Status& status);

// The sequences of the segment files in `disk`, ascending. Removes leftover
// temporary segments of an interrupted rotation (then syncs the directory).
// kDataLoss naming the first missing segment if the sequences are not
// consecutive: GC removes the oldest one at a time, so a gap is never left by
// the WAL itself.
absl::StatusOr<std::vector<uint64_t>> ListSegments(Disk* disk);

// Like ListSegments, but neither removes anything nor checks for gaps.
absl::StatusOr<std::vector<uint64_t>> ListSegmentsUnchecked(Disk* disk);

// Writes segment `sequence` with `contents` (its header and any first
// frames) under a temporary name, syncs it (and with `verify`, reads it back
// with VerifyWritten), renames it into place and syncs the directory: a segment
// file's header is durable from the moment the file has its name.
absl::Status CreateSegment(Disk* disk, uint64_t sequence,
                           std::string_view contents, bool verify);

// Reads `expected.size()` bytes of `name` at `offset` and compares them with
// `expected`, reading twice before calling a difference real (a read can be
// garbled in flight). kDataLoss naming the file and the first differing
// offset if both reads differ from what was written; the Disk's error if a
// read fails.
absl::Status VerifyWritten(Disk* disk, const std::string& name, uint64_t offset,
                           std::string_view expected);

// The whole content of a file.
absl::StatusOr<std::string> ReadFile(Disk* disk, const std::string& name);

// Replays every segment of `sequences` (consecutive) into `replay` with
// Open's recovery policy: damage in any segment but the newest, or damage in
// the newest that a later frame proves durable, is kDataLoss; a torn tail of
// the newest is cut off (Truncate + Sync), but only if a second read of the
// file agrees with the first (else kUnavailable: a garbled read must not cut
// durable data; retry the Open). Then syncs the newest segment, so
// that everything replayed is durable even if the crash was only of the
// process (the page cache still held unsynced writes). Returns the bytes cut
// off.
absl::StatusOr<uint64_t> ReplayForOpen(Disk* disk, const WalOptions& options,
                                       const std::vector<uint64_t>& sequences,
                                       WalReplay& replay);

}  // namespace raftstore::storage

#endif  // RAFTSTORE_CORE_STORAGE_WAL_SEGMENT_IO_H_
