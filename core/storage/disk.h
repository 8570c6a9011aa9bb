// The one seam through which the storage engine touches durable media.
//
// Everything in core/storage (WAL, manifest, snapshot files) is pure code
// over this interface, so the simulator (SimDisk, sim/disk.h) and the
// production node (PosixDisk, runtime/posix_disk.h) run exactly the same
// engine. The interface is deliberately narrow, in the spirit of LevelDB's
// Env: a single flat directory of named files, appended to and read by offset.
//
// Durability contract (what a crash keeps), which both implementations honour
// and SimDisk enforces when it simulates `kill -9` or power loss:
//   - Data appended to a file is durable only after Sync(name) returns OK.
//     Before that a crash may keep it, drop it, or keep a torn prefix of it,
//     independently per sector.
//   - A file created, renamed or removed is durable in the directory only
//     after SyncDir() returns OK. Until then a crash may undo the operation
//     (a new file may vanish, a rename may revert, a removed file may return).
//   - Rename replaces `to` atomically if it exists: after a crash the name
//     refers to the old file or the new one, never to a mix.
// Callers must therefore: create, append, Sync, then (for a new or renamed
// file) SyncDir, before relying on a file's existence after a crash.
//
// Names are plain file names (no '/'; see ValidateFileName). Errors:
//   - kNotFound: the file does not exist.
//   - kAlreadyExists: Create of a name that exists.
//   - kOutOfRange: a read past the end of the file.
//   - kResourceExhausted: the disk is full; nothing of the failed append was
//     written (implementations truncate back to the previous size).
//   - kDataLoss: the medium returned data known to be bad (a latent sector
//     error, or a checksum failure inside the device).
//   - kUnavailable: any other I/O failure.
//   - kInvalidArgument: a malformed name or argument.
// Every message names the file.
//
// Thread-safety: none promised. PosixDisk may be used from several threads at
// once within the limits its header states (the WAL's write-behind appends to
// a segment on one thread while another syncs it); SimDisk is
// single-threaded.
#ifndef RAFTSTORE_CORE_STORAGE_DISK_H_
#define RAFTSTORE_CORE_STORAGE_DISK_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace raftstore::storage {

// The longest file name a Disk accepts.
inline constexpr size_t kFileNameBytesMax = 255;

// OK when `name` is a valid file name: 1 to kFileNameBytesMax bytes, no '/',
// no NUL, and not "." or "..". kInvalidArgument naming the problem otherwise.
absl::Status ValidateFileName(std::string_view name);

class Disk {
 public:
  virtual ~Disk() = default;

  // Creates an empty file. kAlreadyExists if `name` exists. The new file is
  // durable in the directory only after SyncDir().
  virtual absl::Status Create(const std::string& name) = 0;

  // Appends `data` at the end of the file. Not durable until Sync(name).
  // On kResourceExhausted (disk full) the file is unchanged.
  virtual absl::Status Append(const std::string& name,
                              std::string_view data) = 0;

  // Reads up to `length` bytes at `offset`. Returns fewer bytes only when the
  // file ends first; kOutOfRange when offset > Size(name). Reads see every
  // append made so far, synced or not (as a page cache would).
  virtual absl::StatusOr<std::string> Read(const std::string& name,
                                           uint64_t offset,
                                           uint64_t length) = 0;

  // Makes every byte appended to `name` so far durable (fdatasync).
  virtual absl::Status Sync(const std::string& name) = 0;

  // Cuts the file to `size` bytes (size <= Size(name), else
  // kInvalidArgument). Durable after Sync(name). Used to drop a torn tail.
  virtual absl::Status Truncate(const std::string& name, uint64_t size) = 0;

  // Renames `from` to `to`, atomically replacing `to` if it exists. Durable
  // after SyncDir().
  virtual absl::Status Rename(const std::string& from,
                              const std::string& to) = 0;

  // Removes the file. Durable after SyncDir().
  virtual absl::Status Remove(const std::string& name) = 0;

  // Every file name in the directory, sorted bytewise (so callers never
  // depend on directory order).
  virtual absl::StatusOr<std::vector<std::string>> List() = 0;

  // The file's current size in bytes, synced or not.
  virtual absl::StatusOr<uint64_t> Size(const std::string& name) = 0;

  // Makes creates, renames and removes so far durable (fsync of the
  // directory).
  virtual absl::Status SyncDir() = 0;
};

}  // namespace raftstore::storage

#endif  // RAFTSTORE_CORE_STORAGE_DISK_H_
