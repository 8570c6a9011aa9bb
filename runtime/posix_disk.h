// PosixDisk: the production storage::Disk, one real directory of files.
//
// Each Disk operation maps onto one or two system calls:
//   Create   open(O_CREAT | O_EXCL)           Append   pwrite at the end
//   Read     pread                            Sync     fdatasync
//   Truncate ftruncate                        Rename   rename(2)
//   Remove   unlink                           List     readdir, sorted
//   Size     fstat                            SyncDir  open the directory +
//   fsync
// so the durability contract of core/storage/disk.h is the kernel's: data is
// durable after fdatasync, directory entries after the directory's fsync.
//
// File descriptors are kept in a bounded cache (`open_files_max`, least
// recently used evicted), because the WAL appends to the same segment many
// times a second and an open per call would double the system calls. Rename
// and Remove close the cached descriptors of the names they touch.
//
// Errors (every message names the directory, the file and, where there is
// one, the offset, with strerror and errno):
//   - ENOSPC, EDQUOT and EFBIG -> kResourceExhausted. A partial append is cut
//     back (ftruncate) to the previous size first, so the file is unchanged;
//     if the cut itself fails the result is kUnavailable (the file may hold
//     a partial tail, which the WAL's torn-tail recovery will meet).
//   - EIO from pread -> kDataLoss: the medium could not return the bytes (a
//     latent sector error, in the contract's terms).
//   - ENOENT -> kNotFound, EEXIST on Create -> kAlreadyExists.
//   - Everything else -> kUnavailable.
// EINTR is retried, and short writes and reads are continued.
//
// A failed Sync leaves the file's unsynced bytes in an unknown state (Linux
// may have dropped the dirty pages and cleared the error: "fsyncgate"), so the
// caller must treat it as fatal for that file (the runtime restarts the node
// and recovers from what is durable). PosixDisk closes the file's descriptor
// so no later Sync can report a false success through it.
//
// Thread-safety: any method may be called from any thread, several at once:
// the descriptor cache is under a mutex, and an operation keeps the
// descriptor it uses open until it returns, even if another thread evicts or
// closes the name meanwhile (so a descriptor number is never reused under a
// running pwrite or fdatasync). The WAL's write-behind relies on this: one
// thread appends to the newest segment while another syncs it; the kernel
// orders the two, and a Sync makes durable at least what was appended
// before it began. The caller must not run two Appends to one file at once
// (each appends at the size it reads), nor Rename (either name), Remove or
// Truncate a file while another thread uses it, nor destroy the PosixDisk
// while any call is running. Another process or PosixDisk on the same
// directory is not supported.
#ifndef RAFTSTORE_RUNTIME_POSIX_DISK_H_
#define RAFTSTORE_RUNTIME_POSIX_DISK_H_

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/storage/disk.h"

namespace raftstore::runtime {

struct PosixDiskOptions {
  // Descriptors kept open at most; at least 1.
  size_t open_files_max = 64;
};

class PosixDisk final : public storage::Disk {
 public:
  // Opens the existing directory `directory`. kNotFound if it does not exist,
  // kInvalidArgument if it is not a directory (or options are invalid),
  // kUnavailable for any other failure to stat it. Does not create it: a
  // missing data directory is a configuration error to report, not to paper
  // over.
  static absl::StatusOr<std::unique_ptr<PosixDisk>> Open(
      const std::string& directory, const PosixDiskOptions& options = {});

  // Closes every cached descriptor. Unsynced data stays in the page cache
  // (close does not sync).
  ~PosixDisk() override;

  PosixDisk(const PosixDisk&) = delete;
  PosixDisk& operator=(const PosixDisk&) = delete;

  // storage::Disk; see core/storage/disk.h and the top of this file.
  absl::Status Create(const std::string& name) override;
  absl::Status Append(const std::string& name, std::string_view data) override;
  absl::StatusOr<std::string> Read(const std::string& name, uint64_t offset,
                                   uint64_t length) override;
  absl::Status Sync(const std::string& name) override;
  absl::Status Truncate(const std::string& name, uint64_t size) override;
  absl::Status Rename(const std::string& from, const std::string& to) override;
  absl::Status Remove(const std::string& name) override;
  absl::StatusOr<std::vector<std::string>> List() override;
  absl::StatusOr<uint64_t> Size(const std::string& name) override;
  absl::Status SyncDir() override;

  const std::string& directory() const { return directory_; }
  // Descriptors currently cached (<= open_files_max), for tests.
  size_t open_files() const;

 private:
  // A descriptor, closed when the last holder lets go: the cache holds one
  // reference, and each operation holds one while it runs.
  class OpenFd {
   public:
    explicit OpenFd(int fd) : fd_(fd) {}
    ~OpenFd();
    OpenFd(const OpenFd&) = delete;
    OpenFd& operator=(const OpenFd&) = delete;
    int get() const { return fd_; }

   private:
    const int fd_;
  };
  using FdRef = std::shared_ptr<const OpenFd>;
  struct OpenFile {
    FdRef fd;
    uint64_t last_use;
  };

  PosixDisk(std::string directory, const PosixDiskOptions& options);

  std::string PathOf(const std::string& name) const;
  absl::Status Error(int error, std::string_view op, const std::string& name,
                     std::string_view detail = "") const;
  // The cached descriptor of `name`, opening it if needed (kNotFound if the
  // file does not exist). `op` is for the error message.
  absl::StatusOr<FdRef> Fd(std::string_view op, const std::string& name);
  // Caches `fd` for `name`, replacing a cached one of the same name or else
  // evicting the least recently used if full. Requires mu_ held. Returns the
  // descriptor it dropped, for the caller to release after the lock (a
  // close(2) need not run under it).
  FdRef CacheLocked(const std::string& name, FdRef fd);
  // Drops `name` from the cache (closed once no operation holds it).
  void Close(const std::string& name);
  absl::StatusOr<uint64_t> FdSize(std::string_view op, const std::string& name,
                                  int fd) const;
  absl::Status WriteAll(const std::string& name, int fd, uint64_t offset,
                        std::string_view data);

  const std::string directory_;
  const PosixDiskOptions options_;
  mutable std::mutex mu_;  // guards open_ and use_clock_
  std::map<std::string, OpenFile> open_;
  uint64_t use_clock_ = 0;
};

}  // namespace raftstore::runtime

#endif  // RAFTSTORE_RUNTIME_POSIX_DISK_H_
