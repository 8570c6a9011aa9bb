// A Disk wrapper for crash tests: it forwards to another Disk until a budget
// of mutating operations (Create, Append, Sync, Truncate, Rename, Remove,
// SyncDir) is spent, then fails every call with kUnavailable, as if the
// process had died at that point. The test then calls SimDisk::Crash() on
// the disk underneath to decide what the medium kept, and recovers.
//
// Thread-safety: none; tests are single-threaded.
#ifndef RAFTSTORE_CORE_STORAGE_MANIFEST_CRASH_POINT_DISK_H_
#define RAFTSTORE_CORE_STORAGE_MANIFEST_CRASH_POINT_DISK_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/storage/disk.h"

namespace raftstore::storage {

class CrashPointDisk final : public Disk {
 public:
  // `base` is not owned. After `mutations_max` mutating operations have been
  // forwarded, every call fails.
  CrashPointDisk(Disk* base, uint64_t mutations_max)
      : base_(base), budget_(mutations_max) {}

  bool crashed() const { return crashed_; }
  uint64_t mutations() const { return mutations_; }

  absl::Status Create(const std::string& name) override {
    if (!Spend()) return Dead();
    return base_->Create(name);
  }
  absl::Status Append(const std::string& name, std::string_view data) override {
    if (!Spend()) return Dead();
    return base_->Append(name, data);
  }
  absl::StatusOr<std::string> Read(const std::string& name, uint64_t offset,
                                   uint64_t length) override {
    if (crashed_) return Dead();
    return base_->Read(name, offset, length);
  }
  absl::Status Sync(const std::string& name) override {
    if (!Spend()) return Dead();
    return base_->Sync(name);
  }
  absl::Status Truncate(const std::string& name, uint64_t size) override {
    if (!Spend()) return Dead();
    return base_->Truncate(name, size);
  }
  absl::Status Rename(const std::string& from, const std::string& to) override {
    if (!Spend()) return Dead();
    return base_->Rename(from, to);
  }
  absl::Status Remove(const std::string& name) override {
    if (!Spend()) return Dead();
    return base_->Remove(name);
  }
  absl::StatusOr<std::vector<std::string>> List() override {
    if (crashed_) return Dead();
    return base_->List();
  }
  absl::StatusOr<uint64_t> Size(const std::string& name) override {
    if (crashed_) return Dead();
    return base_->Size(name);
  }
  absl::Status SyncDir() override {
    if (!Spend()) return Dead();
    return base_->SyncDir();
  }

 private:
  bool Spend() {
    if (crashed_ || mutations_ == budget_) {
      crashed_ = true;
      return false;
    }
    ++mutations_;
    return true;
  }
  static absl::Status Dead() {
    return absl::UnavailableError("crash point: the process is dead");
  }

  Disk* base_;
  uint64_t budget_;
  uint64_t mutations_ = 0;
  bool crashed_ = false;
};

}  // namespace raftstore::storage

#endif  // RAFTSTORE_CORE_STORAGE_MANIFEST_CRASH_POINT_DISK_H_
