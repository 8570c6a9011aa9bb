#include "sim/disk.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/base/check.h"

namespace raftstore::sim {
namespace {

std::string Quote(const std::string& name) {
  return absl::StrCat("\"", name, "\"");
}

void CheckPpm(uint32_t ppm, const char* what) {
  RS_CHECK_LE(ppm, kPpm) << what << " is a rate in parts per million";
}

void CheckCrashModel(const SimDiskCrashModel& crash) {
  CheckPpm(crash.sector_keep_ppm, "crash.sector_keep_ppm");
  CheckPpm(crash.sector_torn_ppm, "crash.sector_torn_ppm");
  CheckPpm(crash.torn_garbage_ppm, "crash.torn_garbage_ppm");
  CheckPpm(crash.size_without_data_ppm, "crash.size_without_data_ppm");
  CheckPpm(crash.dir_op_keep_ppm, "crash.dir_op_keep_ppm");
  CheckPpm(crash.truncate_keep_ppm, "crash.truncate_keep_ppm");
  RS_CHECK_LE(uint64_t{crash.sector_keep_ppm} + crash.sector_torn_ppm,
              uint64_t{kPpm})
      << "a sector is kept, torn or dropped";
}

void CheckFaults(const SimDiskFaults& faults) {
  CheckPpm(faults.read_corruption_ppm, "faults.read_corruption_ppm");
  CheckPpm(faults.write_corruption_ppm, "faults.write_corruption_ppm");
  CheckPpm(faults.latent_sector_error_ppm, "faults.latent_sector_error_ppm");
  CheckPpm(faults.misdirected_write_ppm, "faults.misdirected_write_ppm");
  CheckPpm(faults.io_error_ppm, "faults.io_error_ppm");
}

}  // namespace

std::string_view SimDiskFaultKindName(SimDiskFaultKind kind) {
  switch (kind) {
    case SimDiskFaultKind::kReadCorruption:
      return "read_corruption";
    case SimDiskFaultKind::kWriteCorruption:
      return "write_corruption";
    case SimDiskFaultKind::kLatentSectorError:
      return "latent_sector_error";
    case SimDiskFaultKind::kMisdirectedWrite:
      return "misdirected_write";
    case SimDiskFaultKind::kIoError:
      return "io_error";
    case SimDiskFaultKind::kDiskFull:
      return "disk_full";
  }
  return "unknown";
}

std::string SimDiskStats::ToString() const {
  return absl::StrCat(
      "appends=", appends, " bytes_appended=", bytes_appended, " syncs=", syncs,
      " dir_syncs=", dir_syncs, " crashes=", crashes,
      " sectors_kept=", sectors_kept, " sectors_torn=", sectors_torn,
      " sectors_dropped=", sectors_dropped, " dir_ops_kept=", dir_ops_kept,
      " dir_ops_undone=", dir_ops_undone,
      " truncates_undone=", truncates_undone,
      " read_corruptions=", read_corruptions,
      " write_corruptions=", write_corruptions,
      " latent_sector_errors=", latent_sector_errors,
      " misdirected_writes=", misdirected_writes, " io_errors=", io_errors,
      " disk_full_errors=", disk_full_errors);
}

SimDisk::SimDisk(const SimDiskOptions& options, Rng rng)
    : options_(options),
      fault_rng_(rng.Fork()),
      crash_rng_(rng.Fork()),
      latency_rng_(rng.Fork()) {
  RS_CHECK_GT(options_.sector_bytes, 0u);
  RS_CHECK_GT(options_.files_max, 0u);
  RS_CHECK_LE(options_.write_latency_us_min, options_.write_latency_us_max);
  RS_CHECK_LE(options_.sync_latency_us_min, options_.sync_latency_us_max);
  CheckPpm(options_.slow_io_ppm, "slow_io_ppm");
  RS_CHECK_GE(options_.slow_io_multiplier, 1u);
  CheckCrashModel(options_.crash);
  CheckFaults(options_.faults);
}

void SimDisk::SetFaults(const SimDiskFaults& faults) {
  CheckFaults(faults);
  options_.faults = faults;
}

void SimDisk::SetCapacityBytes(uint64_t capacity_bytes) {
  options_.capacity_bytes = capacity_bytes;
}

void SimDisk::SetCrashModel(const SimDiskCrashModel& crash) {
  CheckCrashModel(crash);
  options_.crash = crash;
}

void SimDisk::SetFaultObserver(
    std::function<void(const SimDiskFault&)> observer) {
  observer_ = std::move(observer);
}

absl::StatusOr<uint64_t> SimDisk::Lookup(std::string_view op,
                                         const std::string& name) const {
  // Every name in the directory was validated when it got there (Create,
  // Rename), so only a miss needs ValidateFileName, which costs an
  // allocation per call: lookups run on every append, read and sync.
  const auto it = current_dir_.find(name);
  if (it != current_dir_.end()) return it->second;
  if (absl::Status valid = storage::ValidateFileName(name); !valid.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("sim disk: ", std::string(op), " ", Quote(name), ": ",
                     std::string(valid.message())));
  }
  return absl::NotFoundError(absl::StrCat("sim disk: ", std::string(op), " ",
                                          Quote(name), ": no such file"));
}

bool SimDisk::InjectIoError(std::string_view op, const std::string& name) {
  if (options_.faults.io_error_ppm == 0 ||
      !fault_rng_.Chance(options_.faults.io_error_ppm, kPpm)) {
    return false;
  }
  ++stats_.io_errors;
  Report(SimDiskFaultKind::kIoError, name, 0,
         absl::StrCat("injected I/O error on ", std::string(op)));
  return true;
}

void SimDisk::Report(SimDiskFaultKind kind, const std::string& file,
                     uint64_t offset, std::string detail) {
  if (observer_) {
    observer_(SimDiskFault{kind, file, offset, std::move(detail)});
  }
}

void SimDisk::MarkDirty(Inode& inode, uint64_t offset) {
  inode.dirty_from = std::min(inode.dirty_from, offset);
}

absl::Status SimDisk::Create(const std::string& name) {
  if (absl::Status valid = storage::ValidateFileName(name); !valid.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "sim disk: create ", Quote(name), ": ", std::string(valid.message())));
  }
  if (current_dir_.contains(name)) {
    return absl::AlreadyExistsError(
        absl::StrCat("sim disk: create ", Quote(name), ": file exists"));
  }
  if (current_dir_.size() >= options_.files_max) {
    ++stats_.disk_full_errors;
    Report(SimDiskFaultKind::kDiskFull, name, 0, "files_max reached");
    return absl::ResourceExhaustedError(absl::StrCat(
        "sim disk: create ", Quote(name), ": the directory holds ",
        current_dir_.size(), " files, files_max=", options_.files_max));
  }
  if (InjectIoError("create", name)) {
    return absl::UnavailableError(
        absl::StrCat("sim disk: create ", Quote(name), ": injected I/O error"));
  }
  const uint64_t id = next_inode_++;
  inodes_.emplace(id, Inode{"", "", kClean, kClean, {}});
  current_dir_.emplace(name, id);
  RecordDirOp(DirOp{DirOpKind::kCreate, name, "", id});
  return absl::OkStatus();
}

absl::Status SimDisk::Append(const std::string& name, std::string_view data) {
  absl::StatusOr<uint64_t> id = Lookup("append to", name);
  if (!id.ok()) return id.status();
  if (data.empty()) return absl::OkStatus();
  Inode& inode = inodes_.at(*id);
  const uint64_t used = UsedBytes();
  if (data.size() > options_.capacity_bytes ||
      used > options_.capacity_bytes - data.size()) {
    ++stats_.disk_full_errors;
    Report(SimDiskFaultKind::kDiskFull, name, inode.current.size(),
           absl::StrCat("append of ", data.size(), " bytes"));
    return absl::ResourceExhaustedError(absl::StrCat(
        "sim disk: append to ", Quote(name), ": disk full (", used,
        " bytes used, ", data.size(),
        " more would pass capacity_bytes=", options_.capacity_bytes, ")"));
  }
  if (InjectIoError("append", name)) {
    return absl::UnavailableError(absl::StrCat(
        "sim disk: append to ", Quote(name), ": injected I/O error"));
  }
  const uint64_t offset = inode.current.size();
  MarkDirty(inode, offset);
  inode.current.append(data.data(), data.size());
  // Writing into a sector rewrites it: a latent error there is gone.
  const uint64_t sector_bytes = options_.sector_bytes;
  for (uint64_t s = offset / sector_bytes;
       s <= (inode.current.size() - 1) / sector_bytes; ++s) {
    inode.bad_sectors.erase(s);
  }
  ++stats_.appends;
  stats_.bytes_appended += data.size();
  ApplyAppendFaults(name, inode, offset, data);
  return absl::OkStatus();
}

void SimDisk::ApplyAppendFaults(const std::string& name, Inode& inode,
                                uint64_t offset, std::string_view data) {
  const SimDiskFaults& faults = options_.faults;
  if (faults.write_corruption_ppm > 0 &&
      fault_rng_.Chance(faults.write_corruption_ppm, kPpm)) {
    const uint64_t at = offset + fault_rng_.Uniform(data.size());
    const int bit = static_cast<int>(fault_rng_.Uniform(8));
    inode.current[at] = static_cast<char>(inode.current[at] ^ (1 << bit));
    ++stats_.write_corruptions;
    Report(SimDiskFaultKind::kWriteCorruption, name, at,
           absl::StrCat("bit ", bit, " flipped"));
  }
  if (faults.misdirected_write_ppm > 0 &&
      fault_rng_.Chance(faults.misdirected_write_ppm, kPpm)) {
    ++stats_.misdirected_writes;
    // The intended range keeps what the medium had there: nothing (zeros).
    const std::string landed = inode.current.substr(offset);
    std::fill(inode.current.begin() + static_cast<std::ptrdiff_t>(offset),
              inode.current.end(), '\0');
    Misdirect(current_dir_.at(name), offset, landed);
  }
}

void SimDisk::Misdirect(uint64_t inode_id, uint64_t intended_offset,
                        std::string_view data) {
  // Pick a victim among the files with bytes outside the intended range.
  std::vector<std::pair<std::string, uint64_t>> victims;
  for (const auto& entry : current_dir_) {
    const Inode& inode = inodes_.at(entry.second);
    const uint64_t limit =
        entry.second == inode_id ? intended_offset : inode.current.size();
    if (limit > 0) victims.emplace_back(entry.first, limit);
  }
  if (victims.empty()) {
    Report(SimDiskFaultKind::kMisdirectedWrite, "", 0,
           "write lost (no other place to land)");
    return;
  }
  const auto& victim = victims[fault_rng_.Uniform(victims.size())];
  Inode& target = inodes_.at(current_dir_.at(victim.first));
  const uint64_t at = fault_rng_.Uniform(victim.second);
  const uint64_t length = std::min<uint64_t>(data.size(), victim.second - at);
  for (uint64_t i = 0; i < length; ++i) {
    target.current[at + i] = data[i];
    if (at + i < target.durable.size()) target.durable[at + i] = data[i];
  }
  Report(SimDiskFaultKind::kMisdirectedWrite, victim.first, at,
         absl::StrCat(length, " bytes meant for offset ", intended_offset,
                      " landed here"));
}

absl::Status SimDisk::CheckLatentErrors(const std::string& name,
                                        const Inode& inode, uint64_t offset,
                                        uint64_t length) {
  if (length == 0) return absl::OkStatus();
  const uint64_t first = offset / options_.sector_bytes;
  const uint64_t last = (offset + length - 1) / options_.sector_bytes;
  auto it = inode.bad_sectors.lower_bound(first);
  if (it == inode.bad_sectors.end() || *it > last) return absl::OkStatus();
  return absl::DataLossError(
      absl::StrCat("sim disk: read ", Quote(name), " at offset ",
                   *it * options_.sector_bytes,
                   ": latent sector error (sector ", *it, " unreadable)"));
}

absl::StatusOr<std::string> SimDisk::Read(const std::string& name,
                                          uint64_t offset, uint64_t length) {
  absl::StatusOr<uint64_t> id = Lookup("read", name);
  if (!id.ok()) return id.status();
  Inode& inode = inodes_.at(*id);
  const uint64_t size = inode.current.size();
  if (offset > size) {
    return absl::OutOfRangeError(
        absl::StrCat("sim disk: read ", Quote(name), " at offset ", offset,
                     ": past the end (size ", size, ")"));
  }
  if (InjectIoError("read", name)) {
    return absl::UnavailableError(absl::StrCat("sim disk: read ", Quote(name),
                                               " at offset ", offset,
                                               ": injected I/O error"));
  }
  const uint64_t n = std::min(length, size - offset);
  const SimDiskFaults& faults = options_.faults;
  if (n > 0 && faults.latent_sector_error_ppm > 0 &&
      fault_rng_.Chance(faults.latent_sector_error_ppm, kPpm)) {
    const uint64_t at = offset + fault_rng_.Uniform(n);
    inode.bad_sectors.insert(at / options_.sector_bytes);
    ++stats_.latent_sector_errors;
    Report(SimDiskFaultKind::kLatentSectorError, name, at,
           absl::StrCat("sector ", at / options_.sector_bytes,
                        " became unreadable"));
  }
  if (absl::Status lse = CheckLatentErrors(name, inode, offset, n); !lse.ok()) {
    return lse;
  }
  std::string out = inode.current.substr(offset, n);
  if (n > 0 && faults.read_corruption_ppm > 0 &&
      fault_rng_.Chance(faults.read_corruption_ppm, kPpm)) {
    const uint64_t at = fault_rng_.Uniform(n);
    const int bit = static_cast<int>(fault_rng_.Uniform(8));
    out[at] = static_cast<char>(out[at] ^ (1 << bit));
    ++stats_.read_corruptions;
    Report(SimDiskFaultKind::kReadCorruption, name, offset + at,
           absl::StrCat("bit ", bit, " flipped in the returned bytes"));
  }
  return out;
}

absl::Status SimDisk::Sync(const std::string& name) {
  absl::StatusOr<uint64_t> id = Lookup("sync", name);
  if (!id.ok()) return id.status();
  if (InjectIoError("sync", name)) {
    return absl::UnavailableError(
        absl::StrCat("sim disk: sync ", Quote(name), ": injected I/O error"));
  }
  Inode& inode = inodes_.at(*id);
  if (inode.dirty_from != kClean) {
    // Bytes below dirty_from are the same in both images, so only the
    // dirty tail is copied: a sync costs what was written since the last
    // one, not the file's size (a WAL segment is synced thousands of times).
    const uint64_t keep = std::min<uint64_t>(
        inode.dirty_from, std::min(inode.durable.size(), inode.current.size()));
    inode.durable.resize(keep);
    inode.durable.append(inode.current, keep, std::string::npos);
    inode.dirty_from = kClean;
    inode.truncated_to = kClean;
  }
  ++stats_.syncs;
  return absl::OkStatus();
}

absl::Status SimDisk::Truncate(const std::string& name, uint64_t size) {
  absl::StatusOr<uint64_t> id = Lookup("truncate", name);
  if (!id.ok()) return id.status();
  Inode& inode = inodes_.at(*id);
  if (size > inode.current.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("sim disk: truncate ", Quote(name), " to ", size,
                     " bytes: larger than its size ", inode.current.size()));
  }
  if (InjectIoError("truncate", name)) {
    return absl::UnavailableError(absl::StrCat(
        "sim disk: truncate ", Quote(name), ": injected I/O error"));
  }
  if (size == inode.current.size()) return absl::OkStatus();
  MarkDirty(inode, size);
  inode.current.resize(size);
  if (size < inode.durable.size()) {
    inode.truncated_to = std::min(inode.truncated_to, size);
  }
  const uint64_t sectors =
      (size + options_.sector_bytes - 1) / options_.sector_bytes;
  inode.bad_sectors.erase(inode.bad_sectors.lower_bound(sectors),
                          inode.bad_sectors.end());
  return absl::OkStatus();
}

absl::Status SimDisk::Rename(const std::string& from, const std::string& to) {
  absl::StatusOr<uint64_t> id = Lookup("rename", from);
  if (!id.ok()) return id.status();
  if (absl::Status valid = storage::ValidateFileName(to); !valid.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("sim disk: rename ", Quote(from), " to ", Quote(to), ": ",
                     std::string(valid.message())));
  }
  if (InjectIoError("rename", from)) {
    return absl::UnavailableError(absl::StrCat("sim disk: rename ", Quote(from),
                                               " to ", Quote(to),
                                               ": injected I/O error"));
  }
  if (from == to) return absl::OkStatus();
  current_dir_.erase(from);
  current_dir_[to] = *id;
  RecordDirOp(DirOp{DirOpKind::kRename, from, to, *id});
  return absl::OkStatus();
}

absl::Status SimDisk::Remove(const std::string& name) {
  absl::StatusOr<uint64_t> id = Lookup("remove", name);
  if (!id.ok()) return id.status();
  if (InjectIoError("remove", name)) {
    return absl::UnavailableError(
        absl::StrCat("sim disk: remove ", Quote(name), ": injected I/O error"));
  }
  current_dir_.erase(name);
  RecordDirOp(DirOp{DirOpKind::kRemove, name, "", *id});
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> SimDisk::List() {
  std::vector<std::string> names;
  names.reserve(current_dir_.size());
  for (const auto& entry : current_dir_) names.push_back(entry.first);
  return names;  // std::map iterates in bytewise order
}

absl::StatusOr<uint64_t> SimDisk::Size(const std::string& name) {
  absl::StatusOr<uint64_t> id = Lookup("size of", name);
  if (!id.ok()) return id.status();
  return inodes_.at(*id).current.size();
}

absl::Status SimDisk::SyncDir() {
  if (InjectIoError("sync directory", "")) {
    return absl::UnavailableError(
        "sim disk: sync of the directory: injected I/O error");
  }
  durable_dir_ = current_dir_;
  pending_dir_ops_.clear();
  CollectUnreferencedInodes();
  ++stats_.dir_syncs;
  return absl::OkStatus();
}

void SimDisk::RecordDirOp(DirOp op) {
  RS_CHECK_LT(pending_dir_ops_.size(), kPendingDirOpsMax)
      << "sim disk: too many directory operations without SyncDir";
  pending_dir_ops_.push_back(std::move(op));
}

std::map<std::string, uint64_t> SimDisk::ReplayDirOpsForCrash() {
  const SimDiskCrashModel& crash = options_.crash;
  const size_t prefix = crash.dir_ops_as_prefix
                            ? crash_rng_.Uniform(pending_dir_ops_.size() + 1)
                            : pending_dir_ops_.size();
  std::map<std::string, uint64_t> dir = durable_dir_;
  for (size_t i = 0; i < pending_dir_ops_.size(); ++i) {
    const DirOp& op = pending_dir_ops_[i];
    const bool keep = crash.dir_ops_as_prefix
                          ? i < prefix
                          : crash_rng_.Chance(crash.dir_op_keep_ppm, kPpm);
    if (!keep) {
      ++stats_.dir_ops_undone;
      continue;
    }
    ++stats_.dir_ops_kept;
    const auto it = dir.find(op.name);
    switch (op.kind) {
      case DirOpKind::kCreate:
        if (it == dir.end()) dir.emplace(op.name, op.inode);
        break;
      case DirOpKind::kRename:
        if (it != dir.end() && it->second == op.inode) {
          dir.erase(it);
          dir[op.to] = op.inode;
        }
        break;
      case DirOpKind::kRemove:
        if (it != dir.end() && it->second == op.inode) dir.erase(it);
        break;
    }
  }
  return dir;
}

void SimDisk::Crash() {
  ++stats_.crashes;
  durable_dir_ = ReplayDirOpsForCrash();
  current_dir_ = durable_dir_;
  pending_dir_ops_.clear();
  CollectUnreferencedInodes();
  for (auto& entry : inodes_) CrashFile(entry.second);
}

void SimDisk::CrashFile(Inode& inode) {
  if (inode.dirty_from == kClean) {
    RS_CHECK(inode.current == inode.durable);
    return;
  }
  const SimDiskCrashModel& crash = options_.crash;
  const std::string& now = inode.current;
  std::string old = inode.durable;
  if (inode.truncated_to < old.size()) {
    if (crash_rng_.Chance(crash.truncate_keep_ppm, kPpm)) {
      old.resize(inode.truncated_to);
    } else {
      ++stats_.truncates_undone;
    }
  }
  // `out` starts as the old image, zero-filled past its end; every sector
  // holding unsynced bytes then gets its fate.
  std::string out = old;
  out.resize(std::max(old.size(), now.size()), '\0');
  uint64_t size = old.size();
  const uint64_t sector_bytes = options_.sector_bytes;
  for (uint64_t begin = inode.dirty_from / sector_bytes * sector_bytes;
       begin < now.size(); begin += sector_bytes) {
    const uint64_t end = std::min(begin + sector_bytes, now.size());
    if (end <= old.size() &&
        now.compare(begin, end - begin, old, begin, end - begin) == 0) {
      continue;  // nothing unsynced here
    }
    const uint64_t roll = crash_rng_.Uniform(kPpm);
    if (roll < crash.sector_keep_ppm) {
      ++stats_.sectors_kept;
      out.replace(begin, end - begin, now, begin, end - begin);
    } else if (roll < uint64_t{crash.sector_keep_ppm} + crash.sector_torn_ppm) {
      ++stats_.sectors_torn;
      const uint64_t kept = crash_rng_.Uniform(end - begin);
      out.replace(begin, kept, now, begin, kept);
      if (crash_rng_.Chance(crash.torn_garbage_ppm, kPpm)) {
        // Garbage only where the write was changing bytes: synced bytes
        // that the write left as they were are never lost.
        for (uint64_t i = begin + kept; i < end; ++i) {
          if (i >= old.size() || now[i] != old[i]) {
            out[i] = static_cast<char>(crash_rng_.Uniform(256));
          }
        }
      }
    } else {
      ++stats_.sectors_dropped;
      continue;
    }
    size = std::max(size, end);
  }
  if (now.size() > size && crash.size_without_data_ppm > 0 &&
      crash_rng_.Chance(crash.size_without_data_ppm, kPpm)) {
    size = now.size();
  }
  out.resize(size);
  inode.durable = out;
  inode.current = std::move(out);
  inode.dirty_from = kClean;
  inode.truncated_to = kClean;
  const uint64_t sectors = (size + sector_bytes - 1) / sector_bytes;
  inode.bad_sectors.erase(inode.bad_sectors.lower_bound(sectors),
                          inode.bad_sectors.end());
}

void SimDisk::CollectUnreferencedInodes() {
  std::set<uint64_t> live;
  for (const auto& entry : current_dir_) live.insert(entry.second);
  for (const auto& entry : durable_dir_) live.insert(entry.second);
  for (const DirOp& op : pending_dir_ops_) live.insert(op.inode);
  for (auto it = inodes_.begin(); it != inodes_.end();) {
    it = live.contains(it->first) ? std::next(it) : inodes_.erase(it);
  }
}

uint64_t SimDisk::SampleLatency(uint64_t min_us, uint64_t max_us) {
  uint64_t latency = latency_rng_.Range(min_us, max_us);
  if (options_.slow_io_ppm > 0 &&
      latency_rng_.Chance(options_.slow_io_ppm, kPpm)) {
    latency *= options_.slow_io_multiplier;
  }
  return latency;
}

uint64_t SimDisk::SampleWriteLatencyUs() {
  return SampleLatency(options_.write_latency_us_min,
                       options_.write_latency_us_max);
}

uint64_t SimDisk::SampleSyncLatencyUs() {
  return SampleLatency(options_.sync_latency_us_min,
                       options_.sync_latency_us_max);
}

std::string SimDisk::DurableContent(const std::string& name) const {
  const auto it = current_dir_.find(name);
  RS_CHECK(it != current_dir_.end()) << "no file " << name;
  return inodes_.at(it->second).durable;
}

std::vector<std::string> SimDisk::DurableList() const {
  std::vector<std::string> names;
  names.reserve(durable_dir_.size());
  for (const auto& entry : durable_dir_) names.push_back(entry.first);
  return names;
}

bool SimDisk::HasUnsyncedData() const {
  if (!pending_dir_ops_.empty()) return true;
  for (const auto& entry : inodes_) {
    if (entry.second.dirty_from != kClean) return true;
  }
  return false;
}

bool SimDisk::HasUnsyncedData(const std::string& name) const {
  const auto it = current_dir_.find(name);
  RS_CHECK(it != current_dir_.end()) << "no file " << name;
  return inodes_.at(it->second).dirty_from != kClean;
}

uint64_t SimDisk::UsedBytes() const {
  uint64_t used = 0;
  for (const auto& entry : current_dir_) {
    used += inodes_.at(entry.second).current.size();
  }
  return used;
}

void SimDisk::CorruptByte(const std::string& name, uint64_t offset,
                          uint8_t mask) {
  const auto it = current_dir_.find(name);
  RS_CHECK(it != current_dir_.end()) << "no file " << name;
  RS_CHECK_NE(mask, 0);
  Inode& inode = inodes_.at(it->second);
  RS_CHECK_LT(offset, inode.current.size()) << name;
  inode.current[offset] = static_cast<char>(inode.current[offset] ^ mask);
  if (offset < inode.durable.size()) {
    inode.durable[offset] = static_cast<char>(inode.durable[offset] ^ mask);
  }
}

void SimDisk::InjectLatentSectorError(const std::string& name,
                                      uint64_t offset) {
  const auto it = current_dir_.find(name);
  RS_CHECK(it != current_dir_.end()) << "no file " << name;
  Inode& inode = inodes_.at(it->second);
  RS_CHECK_LT(offset, inode.current.size()) << name;
  inode.bad_sectors.insert(offset / options_.sector_bytes);
}

}  // namespace raftstore::sim
