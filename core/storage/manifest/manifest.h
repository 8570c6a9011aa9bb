// The manifest: the store's durable catalog of regions (meta, lifecycle
// state, raft log pointers) and its identity, kept as a checksummed edit log
// over a Disk. docs/manifest-format.md has the file formats and the recovery
// policy in full; in short:
//
//   CURRENT          "MANIFEST-000007 <crc>\n": which file is live
//   MANIFEST-000007  preamble, a full-state edit, then one frame per Apply
//
// Apply appends one frame, syncs it and reads it back (so a garbled write
// fails instead of being acknowledged) before returning OK. When the live
// file would grow past the rewrite threshold, Apply instead writes the new
// state as the full-state edit of a fresh MANIFEST-<n+1>, syncs it, syncs the
// directory, points CURRENT at it (CURRENT.tmp, sync, rename, sync the
// directory: the commit point) and removes the old file. A crash at any point
// recovers either the state before the Apply in flight or the state after
// it, never anything else, and never loses an Apply that returned OK.
//
// Open recovers: it reads CURRENT and the file it names, drops a torn last
// frame (an append a crash cut short, never acknowledged), refuses damage
// (kDataLoss naming the file and offset), and removes what an interrupted
// rewrite left behind. A directory without CURRENT is fresh, provided the
// only MANIFEST files in it are the remains of an interrupted first Open.
//
// Failure poisons: once Apply has failed at an I/O step, every later Apply
// returns that error until the Manifest is reopened. A failed fsync cannot be
// retried safely: Linux may drop the dirty pages and clear the error, so a
// second fsync can report success for data that never reached the disk
// (PostgreSQL's "fsyncgate", 2018), and the in-memory state no longer says
// what the file holds. Reopening re-reads what is actually durable.
//
// Thread-safety: none; one owner (the store's storage worker) calls it.
#ifndef RAFTSTORE_CORE_STORAGE_MANIFEST_MANIFEST_H_
#define RAFTSTORE_CORE_STORAGE_MANIFEST_MANIFEST_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/container/btree_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/storage/disk.h"
#include "core/storage/manifest/manifest_codec.h"
#include "proto/manifest.pb.h"

namespace raftstore::storage {

struct ManifestOptions {
  // Rewrite threshold. An Apply whose frame would take the live file past
  // max(edit_log_bytes_max, 2 * the size the file had right after its
  // full-state edit) rewrites instead of appending. The second term keeps
  // rewrites amortised when the state itself is large: each rewrite is paid
  // for by at least as many appended bytes. In [1, kManifestFileBytesMax / 2].
  uint64_t edit_log_bytes_max = uint64_t{4} << 20;
  // The largest serialised edit Apply accepts. In [1,
  // kManifestRecordBytesMax].
  uint64_t edit_bytes_max = uint64_t{1} << 20;
  // The most regions the catalog holds. At least 1.
  uint64_t regions_max = 100'000;
};

// OK, or kInvalidArgument naming the option out of range.
absl::Status ValidateManifestOptions(const ManifestOptions& options);

struct ManifestStats {
  // The live file is MANIFEST-<file_number>.
  uint64_t file_number = 0;
  // Its size, and its size right after the full-state edit.
  uint64_t file_bytes = 0;
  uint64_t base_bytes = 0;
  // Since Open.
  uint64_t edits_applied = 0;
  uint64_t rewrites = 0;  // including one by Open itself
  // At Open: bytes of a torn last frame dropped, and leftover files removed.
  uint64_t torn_tail_bytes_dropped = 0;
  uint64_t stale_files_removed = 0;
  uint64_t regions = 0;
};

// The manifest files found in a directory listing (manifest.cc).
struct ManifestListing;

class Manifest {
 public:
  // Opens the manifest in `disk` (not owned; must outlive the Manifest),
  // creating an empty one (and syncing it) when the directory has none.
  // Errors, each naming the file:
  //   kInvalidArgument: bad options;
  //   kDataLoss: damage in CURRENT or the live MANIFEST (garbage, wrong
  //     magic, a checksum mismatch followed by valid edits, an invalid edit,
  //     a file larger than any writer produces), CURRENT naming a missing
  //     file, or MANIFEST files with state but no CURRENT;
  //   kFailedPrecondition: a format version newer than this binary's;
  //   kResourceExhausted: more regions than options.regions_max, or a full
  //     disk;
  //   kUnavailable: I/O failure, or two reads of a file with a torn tail
  //     disagreeing (a torn tail is dropped only on a stable read).
  static absl::StatusOr<std::unique_ptr<Manifest>> Open(
      Disk* disk, const ManifestOptions& options);

  Manifest(const Manifest&) = delete;
  Manifest& operator=(const Manifest&) = delete;

  // The catalog as of the last Apply that returned OK (or, after a failed
  // rewrite that reached its commit point, the state it committed). The
  // reference is invalidated by the next Apply: callers copy what they keep.
  const absl::btree_map<uint64_t, manifest::RegionRecord>& regions() const {
    return state_.regions;
  }
  std::optional<manifest::StoreIdent> ident() const { return state_.ident; }

  // OK when the directory has no identity yet or has exactly `expected`;
  // kFailedPrecondition naming both identities when it belongs to another
  // store or cluster (a node must refuse to serve another store's data).
  absl::Status CheckIdent(const manifest::StoreIdent& expected) const;

  // Applies `edit` durably: OK means it is synced and survives any crash.
  // Refused without any write (the manifest stays usable):
  //   kInvalidArgument: edit.full_state set, or ValidateEdit fails;
  //   kFailedPrecondition: a record of a newer RegionLocalState version;
  //   kResourceExhausted: the edit is over edit_bytes_max, the catalog would
  //     exceed regions_max, or the full state would exceed
  //     kManifestRecordBytesMax.
  // Failed at an I/O step (kUnavailable, kResourceExhausted for a full disk,
  // kDataLoss): the manifest is poisoned (top comment); this and every later
  // Apply return the error. A crash or failure during Apply leaves the
  // directory holding the state before the edit or after it.
  absl::Status Apply(const manifest::ManifestEdit& edit);

  // OK, or the error that poisoned the manifest.
  const absl::Status& health() const { return poison_; }

  ManifestStats stats() const;

 private:
  Manifest(Disk* disk, const ManifestOptions& options);

  absl::Status StartFresh(const ManifestListing& listing);
  absl::Status Recover(const ManifestListing& listing);
  absl::Status RemoveStale(const ManifestListing& listing);
  absl::Status CheckBounds(const manifest::ManifestEdit& edit) const;
  // Writes `state` as a new MANIFEST file and commits it through CURRENT;
  // on success it becomes the live state.
  absl::Status Rewrite(ManifestState state);
  // CURRENT.tmp naming MANIFEST-<number>, synced.
  absl::Status WriteCurrentTemp(uint64_t number);
  absl::Status AppendAndSync(const std::string& frame);
  uint64_t RewriteThresholdBytes() const;

  Disk* disk_;
  ManifestOptions options_;
  ManifestState state_;
  // An upper bound on the serialised size of FullStateEdit(state_), kept
  // incrementally so Apply can refuse growth past kManifestRecordBytesMax
  // without serialising the whole catalog.
  uint64_t full_state_bytes_bound_ = 0;
  uint64_t live_number_ = 0;  // 0 before the first file is committed
  uint64_t next_number_ = 1;
  uint64_t file_bytes_ = 0;
  uint64_t base_bytes_ = 0;
  absl::Status poison_;
  ManifestStats stats_;
};

// Everything a read-only tool (`raftstore manifest dump`) shows about the
// manifest in `disk`, without changing the directory.
struct ManifestDump {
  std::string file_name;  // the live MANIFEST named by CURRENT
  uint64_t file_bytes = 0;
  DecodedManifestFile file;  // every edit with its offset; the torn tail
  ManifestState state;       // what Open would recover
};

// Reads CURRENT and the file it names. kNotFound when there is no CURRENT;
// otherwise the errors of Manifest::Open for the same damage.
absl::StatusOr<ManifestDump> ReadManifest(Disk* disk);

}  // namespace raftstore::storage

#endif  // RAFTSTORE_CORE_STORAGE_MANIFEST_MANIFEST_H_
