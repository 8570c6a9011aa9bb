// Snapshot files: a region's applied state at a raft index, with its
// metadata, checksummed and published atomically (docs/manifest-format.md).
//
// Layout: preamble (magic, format version), a frame holding the
// SnapshotFileHeader (region id, raft SnapshotMetadata, region meta, chunk
// count and total bytes), one frame per chunk, and a footer with a checksum
// over every byte before it. The chunks are opaque: core/kv serialises a
// region's state into them, so this format never changes with the state
// machine's.
//
// Publishing writes <name>.tmp, syncs it, renames it to <name> and syncs the
// directory: after a crash the name holds the old file (or none) or the
// whole new one, never part of it. Reading validates the entire file before
// returning anything, so a damaged snapshot is never partly applied.
//
// Thread-safety: free functions over a Disk (see disk.h); SnapshotFile is an
// immutable value once returned.
#ifndef RAFTSTORE_CORE_STORAGE_MANIFEST_SNAPSHOT_FILE_H_
#define RAFTSTORE_CORE_STORAGE_MANIFEST_SNAPSHOT_FILE_H_

#include <compare>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/btree_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/storage/disk.h"
#include "proto/manifest.pb.h"

namespace raftstore::storage {

// The raft.SnapshotMetadata version a header must carry. Equal to
// raft::kSnapshotFormatVersion (core/raft/log/storage.h); repeated here
// because core/storage does not depend on core/raft.
inline constexpr uint32_t kSnapshotMetadataFormatVersion = 1;

struct SnapshotFileOptions {
  // The longest chunk written or accepted. In [1,
  // kSnapshotFileChunkBytesLimit].
  uint64_t chunk_bytes_max = uint64_t{4} << 20;
  // The most chunks in one file. At least 1.
  uint64_t chunk_count_max = uint64_t{1} << 20;
  // The largest file read: ReadSnapshotFile holds the whole file in memory.
  // At least 1.
  uint64_t file_bytes_max = uint64_t{1} << 30;
};

// OK, or kInvalidArgument naming the option out of range.
absl::Status ValidateSnapshotFileOptions(const SnapshotFileOptions& options);

// Which snapshot a file holds; ordered by region, then term, then index.
struct SnapshotFileId {
  uint64_t region_id = 0;
  uint64_t term = 0;
  uint64_t index = 0;

  auto operator<=>(const SnapshotFileId&) const = default;
};

// "snap-<region id>-<term>-<index>.snap", decimal without padding.
std::string SnapshotFileName(const SnapshotFileId& id);

// The id of a name SnapshotFileName produces exactly; nullopt for any other
// name (including <name>.tmp).
std::optional<SnapshotFileId> ParseSnapshotFileName(std::string_view name);

// Writes a snapshot file and publishes it under `name`, replacing any file of
// that name. `header` supplies region_id, metadata and region; this function
// sets format_version, chunk_count and total_bytes from `chunks` in the copy
// it writes. Requires (kInvalidArgument otherwise, nothing written): a valid
// file name; region_id != 0 and region.id == region_id; metadata with
// format_version == kSnapshotMetadataFormatVersion and index > 0; a header
// under kSnapshotFileHeaderBytesMax; every chunk at most
// options.chunk_bytes_max and at most options.chunk_count_max chunks.
// On an I/O error (kUnavailable, kResourceExhausted for a full disk) it
// removes <name>.tmp if it can and returns the error; `name` then still holds
// what it held before.
absl::Status WriteSnapshotFile(Disk* disk, const std::string& name,
                               const manifest::SnapshotFileHeader& header,
                               std::span<const std::string> chunks,
                               const SnapshotFileOptions& options);

// A snapshot file read and validated in full.
class SnapshotFile {
 public:
  const manifest::SnapshotFileHeader& header() const { return header_; }
  size_t chunk_count() const { return chunks_.size(); }
  // The i-th chunk (i < chunk_count()); valid while this object lives.
  std::string_view chunk(size_t i) const;

 private:
  friend absl::StatusOr<SnapshotFile> DecodeSnapshotFile(
      const std::string& name, std::string bytes,
      const SnapshotFileOptions& options);

  manifest::SnapshotFileHeader header_;
  std::string bytes_;                                  // the whole file
  std::vector<std::pair<uint64_t, uint64_t>> chunks_;  // offset, length
};

// Validates the image `bytes` of the snapshot file `name` and returns it.
// kDataLoss naming the file and the offset for any damage: wrong magic, a
// checksum mismatch in the preamble, header, a chunk or the footer, a file
// shorter or longer than its header says, chunks or lengths over the
// options' bounds, a header inconsistent with itself or that
// WriteSnapshotFile would refuse; kFailedPrecondition for a newer file or
// metadata format version.
absl::StatusOr<SnapshotFile> DecodeSnapshotFile(
    const std::string& name, std::string bytes,
    const SnapshotFileOptions& options);

// Reads and validates the snapshot file `name`: the errors of
// DecodeSnapshotFile, kNotFound when there is no such file, kDataLoss when
// it is over options.file_bytes_max, kUnavailable for I/O.
absl::StatusOr<SnapshotFile> ReadSnapshotFile(
    Disk* disk, const std::string& name, const SnapshotFileOptions& options);

// Removes every snapshot file (a SnapshotFileName, or one with the
// temporary suffix a crashed write leaves) whose final name is not in
// `keep`, then syncs the directory if it removed any. Returns the names
// removed, sorted. Other files are never touched. kUnavailable on I/O error
// (files removed before it stay removed).
absl::StatusOr<std::vector<std::string>> RemoveStaleSnapshotFiles(
    Disk* disk, const absl::btree_set<std::string>& keep);

}  // namespace raftstore::storage

#endif  // RAFTSTORE_CORE_STORAGE_MANIFEST_SNAPSHOT_FILE_H_
