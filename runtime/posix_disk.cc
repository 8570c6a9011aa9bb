#include "runtime/posix_disk.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace raftstore::runtime {
namespace {

// strerror is not thread-safe; glibc's strerror_r (the GNU variant, since
// g++ defines _GNU_SOURCE) returns a pointer to the text.
std::string ErrnoText(int error) {
  char buffer[256];
  const char* text = strerror_r(error, buffer, sizeof(buffer));
  return absl::StrCat(text, " (errno ", error, ")");
}

std::string Quote(const std::string& name) {
  return absl::StrCat("\"", name, "\"");
}

absl::Status CheckName(std::string_view op, const std::string& name) {
  absl::Status valid = storage::ValidateFileName(name);
  if (valid.ok()) return valid;
  return absl::InvalidArgumentError(absl::StrCat(
      std::string(op), " ", Quote(name), ": ", std::string(valid.message())));
}

// close(2) errors are not reported: durability is Sync's to report, and a
// descriptor is invalid after close whatever it returns (no retry on EINTR).
void CloseFd(int fd) { static_cast<void>(::close(fd)); }

}  // namespace

absl::StatusOr<std::unique_ptr<PosixDisk>> PosixDisk::Open(
    const std::string& directory, const PosixDiskOptions& options) {
  if (directory.empty()) {
    return absl::InvalidArgumentError(
        "posix disk: the directory path is empty");
  }
  if (options.open_files_max == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "posix disk ", directory, ": open_files_max must be at least 1"));
  }
  struct stat st {};
  if (::stat(directory.c_str(), &st) != 0) {
    const int error = errno;
    const std::string message =
        absl::StrCat("posix disk: cannot open directory ", directory, ": ",
                     ErrnoText(error));
    if (error == ENOENT) return absl::NotFoundError(message);
    return absl::UnavailableError(message);
  }
  if (!S_ISDIR(st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "posix disk: ", directory, " exists but is not a directory"));
  }
  return std::unique_ptr<PosixDisk>(new PosixDisk(directory, options));
}

PosixDisk::PosixDisk(std::string directory, const PosixDiskOptions& options)
    : directory_(std::move(directory)), options_(options) {}

PosixDisk::~PosixDisk() = default;  // each cached OpenFd closes itself

PosixDisk::OpenFd::~OpenFd() { CloseFd(fd_); }

size_t PosixDisk::open_files() const {
  std::lock_guard<std::mutex> lock(mu_);
  return open_.size();
}

std::string PosixDisk::PathOf(const std::string& name) const {
  return absl::StrCat(directory_, "/", name);
}

absl::Status PosixDisk::Error(int error, std::string_view op,
                              const std::string& name,
                              std::string_view detail) const {
  std::string message = absl::StrCat(
      "posix disk ", directory_, ": ", std::string(op), " ", Quote(name),
      detail.empty() ? "" : " ", std::string(detail), ": ", ErrnoText(error));
  switch (error) {
    case ENOENT:
      return absl::NotFoundError(message);
    case EEXIST:
      return absl::AlreadyExistsError(message);
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
      return absl::ResourceExhaustedError(message);
    default:
      return absl::UnavailableError(message);
  }
}

PosixDisk::FdRef PosixDisk::CacheLocked(const std::string& name, FdRef fd) {
  FdRef dropped;
  if (const auto it = open_.find(name); it != open_.end()) {
    dropped = std::move(it->second.fd);
    open_.erase(it);
  } else if (open_.size() >= options_.open_files_max) {
    auto oldest = open_.begin();
    for (auto it = open_.begin(); it != open_.end(); ++it) {
      if (it->second.last_use < oldest->second.last_use) oldest = it;
    }
    dropped = std::move(oldest->second.fd);
    open_.erase(oldest);
  }
  open_[name] = OpenFile{std::move(fd), ++use_clock_};
  return dropped;
}

void PosixDisk::Close(const std::string& name) {
  FdRef dropped;  // closed outside the lock, if this was the last holder
  std::lock_guard<std::mutex> lock(mu_);
  const auto it = open_.find(name);
  if (it == open_.end()) return;
  dropped = std::move(it->second.fd);
  open_.erase(it);
}

absl::StatusOr<PosixDisk::FdRef> PosixDisk::Fd(std::string_view op,
                                               const std::string& name) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (const auto it = open_.find(name); it != open_.end()) {
      it->second.last_use = ++use_clock_;
      return it->second.fd;
    }
  }
  int raw;
  do {
    raw = ::open(PathOf(name).c_str(), O_RDWR | O_CLOEXEC);
  } while (raw < 0 && errno == EINTR);
  if (raw < 0) return Error(errno, op, name);
  auto fd = std::make_shared<const OpenFd>(raw);
  FdRef dropped;  // declared before the lock: closed after it is released
  std::lock_guard<std::mutex> lock(mu_);
  if (const auto it = open_.find(name); it != open_.end()) {
    // Another thread opened it meanwhile: use theirs; ours is closed on
    // return, after the lock.
    it->second.last_use = ++use_clock_;
    return it->second.fd;
  }
  dropped = CacheLocked(name, fd);
  return fd;
}

absl::StatusOr<uint64_t> PosixDisk::FdSize(std::string_view op,
                                           const std::string& name,
                                           int fd) const {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return Error(errno, op, name, "(fstat)");
  return static_cast<uint64_t>(st.st_size);
}

absl::Status PosixDisk::Create(const std::string& name) {
  if (absl::Status valid = CheckName("create", name); !valid.ok()) {
    return valid;
  }
  int fd;
  do {
    fd = ::open(PathOf(name).c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
                0644);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return Error(errno, "create", name);
  auto ref = std::make_shared<const OpenFd>(fd);
  FdRef dropped;  // declared before the lock: closed after it is released
  std::lock_guard<std::mutex> lock(mu_);
  dropped = CacheLocked(name, std::move(ref));
  return absl::OkStatus();
}

absl::Status PosixDisk::WriteAll(const std::string& name, int fd,
                                 uint64_t offset, std::string_view data) {
  size_t written = 0;
  while (written < data.size()) {
    const ssize_t n = ::pwrite(fd, data.data() + written, data.size() - written,
                               static_cast<off_t>(offset + written));
    if (n > 0) {
      written += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    // ENOSPC, EIO, ... (or a write of nothing, which would loop forever):
    // cut any partial tail back so the file is as it was before the append.
    const int error = n < 0 ? errno : EIO;
    if (written > 0) {
      int rc;
      do {
        rc = ::ftruncate(fd, static_cast<off_t>(offset));
      } while (rc != 0 && errno == EINTR);
      if (rc != 0) {
        return absl::UnavailableError(
            absl::StrCat("posix disk ", directory_, ": append to ", Quote(name),
                         " at offset ", offset, " failed after ", written,
                         " of ", data.size(), " bytes (", ErrnoText(error),
                         ") and cutting the partial tail back failed too: ",
                         ErrnoText(errno)));
      }
    }
    return Error(error, "append to", name,
                 absl::StrCat("at offset ", offset, " (", data.size(),
                              " bytes; the file is unchanged)"));
  }
  return absl::OkStatus();
}

absl::Status PosixDisk::Append(const std::string& name, std::string_view data) {
  if (absl::Status valid = CheckName("append to", name); !valid.ok()) {
    return valid;
  }
  absl::StatusOr<FdRef> fd = Fd("append to", name);
  if (!fd.ok()) return fd.status();
  if (data.empty()) return absl::OkStatus();
  absl::StatusOr<uint64_t> size = FdSize("append to", name, (*fd)->get());
  if (!size.ok()) return size.status();
  return WriteAll(name, (*fd)->get(), *size, data);
}

absl::StatusOr<std::string> PosixDisk::Read(const std::string& name,
                                            uint64_t offset, uint64_t length) {
  if (absl::Status valid = CheckName("read", name); !valid.ok()) return valid;
  absl::StatusOr<FdRef> fd = Fd("read", name);
  if (!fd.ok()) return fd.status();
  absl::StatusOr<uint64_t> size = FdSize("read", name, (*fd)->get());
  if (!size.ok()) return size.status();
  if (offset > *size) {
    return absl::OutOfRangeError(absl::StrCat(
        "posix disk ", directory_, ": read ", Quote(name), " at offset ",
        offset, ": past the end (size ", *size, ")"));
  }
  std::string out(std::min(length, *size - offset), '\0');
  size_t got = 0;
  while (got < out.size()) {
    const ssize_t n = ::pread((*fd)->get(), out.data() + got, out.size() - got,
                              static_cast<off_t>(offset + got));
    if (n > 0) {
      got += static_cast<size_t>(n);
    } else if (n == 0) {
      break;  // the file ended early: only another writer could do that
    } else if (errno != EINTR) {
      const int error = errno;
      const std::string where = absl::StrCat("at offset ", offset + got);
      if (error == EIO) {
        return absl::DataLossError(absl::StrCat(
            "posix disk ", directory_, ": read ", Quote(name), " ", where,
            ": the medium returned an error: ", ErrnoText(error)));
      }
      return Error(error, "read", name, where);
    }
  }
  out.resize(got);
  return out;
}

absl::Status PosixDisk::Sync(const std::string& name) {
  if (absl::Status valid = CheckName("sync", name); !valid.ok()) return valid;
  absl::StatusOr<FdRef> fd = Fd("sync", name);
  if (!fd.ok()) return fd.status();
  int rc;
  do {
    rc = ::fdatasync((*fd)->get());
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    const int error = errno;
    Close(name);  // see the top of the header: no false success later
    return Error(error, "sync", name, "(fdatasync; unsynced data may be lost)");
  }
  return absl::OkStatus();
}

absl::Status PosixDisk::Truncate(const std::string& name, uint64_t size) {
  if (absl::Status valid = CheckName("truncate", name); !valid.ok()) {
    return valid;
  }
  absl::StatusOr<FdRef> fd = Fd("truncate", name);
  if (!fd.ok()) return fd.status();
  absl::StatusOr<uint64_t> current = FdSize("truncate", name, (*fd)->get());
  if (!current.ok()) return current.status();
  if (size > *current) {
    return absl::InvalidArgumentError(
        absl::StrCat("posix disk ", directory_, ": truncate ", Quote(name),
                     " to ", size, " bytes: larger than its size ", *current));
  }
  int rc;
  do {
    rc = ::ftruncate((*fd)->get(), static_cast<off_t>(size));
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) return Error(errno, "truncate", name);
  return absl::OkStatus();
}

absl::Status PosixDisk::Rename(const std::string& from, const std::string& to) {
  if (absl::Status valid = CheckName("rename", from); !valid.ok()) {
    return valid;
  }
  if (absl::Status valid = CheckName("rename to", to); !valid.ok()) {
    return valid;
  }
  // A cached descriptor of `to` would point at the replaced file afterwards.
  Close(from);
  Close(to);
  if (::rename(PathOf(from).c_str(), PathOf(to).c_str()) != 0) {
    return Error(errno, "rename", from, absl::StrCat("to ", Quote(to)));
  }
  return absl::OkStatus();
}

absl::Status PosixDisk::Remove(const std::string& name) {
  if (absl::Status valid = CheckName("remove", name); !valid.ok()) {
    return valid;
  }
  Close(name);
  if (::unlink(PathOf(name).c_str()) != 0) {
    return Error(errno, "remove", name);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> PosixDisk::List() {
  // open + fdopendir rather than opendir: ThreadSanitizer sees the
  // descriptor created here. The runtime lists from its storage worker
  // while the loop thread's sockets come and go, and libuv closes sockets
  // with a raw close syscall that the sanitizer does not see, so a
  // descriptor number reused by opendir looked like a race with the
  // socket that had it before.
  const int fd = ::open(directory_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR* dir = fd < 0 ? nullptr : ::fdopendir(fd);
  if (dir == nullptr) {
    const int error = errno;
    if (fd >= 0) ::close(fd);
    return absl::UnavailableError(
        absl::StrCat("posix disk ", directory_, ": list: ", ErrnoText(error)));
  }
  std::vector<std::string> names;
  int error = 0;
  while (true) {
    errno = 0;
    const dirent* entry = ::readdir(dir);
    if (entry == nullptr) {
      error = errno;
      break;
    }
    const std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    bool regular = entry->d_type == DT_REG;
    if (entry->d_type == DT_UNKNOWN || entry->d_type == DT_LNK) {
      struct stat st {};
      regular = ::fstatat(::dirfd(dir), entry->d_name, &st, 0) == 0 &&
                S_ISREG(st.st_mode);
    }
    if (regular) names.push_back(name);
  }
  ::closedir(dir);
  if (error != 0) {
    return absl::UnavailableError(
        absl::StrCat("posix disk ", directory_, ": list: ", ErrnoText(error)));
  }
  std::sort(names.begin(), names.end());  // bytewise: char_traits<char>
  return names;
}

absl::StatusOr<uint64_t> PosixDisk::Size(const std::string& name) {
  if (absl::Status valid = CheckName("size of", name); !valid.ok()) {
    return valid;
  }
  absl::StatusOr<FdRef> fd = Fd("size of", name);
  if (!fd.ok()) return fd.status();
  return FdSize("size of", name, (*fd)->get());
}

absl::Status PosixDisk::SyncDir() {
  int fd;
  do {
    fd = ::open(directory_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    return absl::UnavailableError(
        absl::StrCat("posix disk ", directory_,
                     ": sync directory: open: ", ErrnoText(errno)));
  }
  int rc;
  do {
    rc = ::fsync(fd);
  } while (rc != 0 && errno == EINTR);
  const int error = errno;
  CloseFd(fd);
  if (rc != 0) {
    return absl::UnavailableError(
        absl::StrCat("posix disk ", directory_,
                     ": sync directory: fsync: ", ErrnoText(error)));
  }
  return absl::OkStatus();
}

}  // namespace raftstore::runtime
