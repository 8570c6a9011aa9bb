// Fuzzes WAL recovery over an arbitrary set of files (wal_fuzz_input.h),
// written durably to a SimDisk. Open must either succeed, with every
// recovered group well formed, and then keep working (an append and a sync
// survive a reopen); or fail with kDataLoss or kFailedPrecondition. After a
// DataLoss, RepairWal must succeed, and a second Open must then succeed
// unless a group lost entries that GC had relied on a later record for.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "core/base/rng.h"
#include "core/storage/wal/wal.h"
#include "fuzz/wal/wal_fuzz_input.h"
#include "proto/raft.pb.h"
#include "sim/disk.h"

namespace {

namespace storage = raftstore::storage;

// Aborts (a fuzz finding) when `condition` is false.
void Require(bool condition) {
  if (!condition) std::abort();
}

storage::WalOptions FuzzOptions() {
  storage::WalOptions options;
  options.segment_bytes_max = 4096;
  options.record_payload_bytes_max = 1 << 16;
  options.buffered_bytes_max = 1 << 20;
  options.groups_max = 1 << 10;
  return options;
}

void CheckWellFormed(
    const absl::btree_map<uint64_t, storage::WalGroupState>& groups) {
  for (const auto& [id, state] : groups) {
    Require(id != 0);
    uint64_t expected = state.truncated_index + 1;
    for (const raftstore::raft::Entry& entry : state.entries) {
      Require(entry.index() == expected);
      ++expected;
    }
  }
}

// The recovered WAL must keep working: one more record survives a reopen.
void AppendAndReopen(raftstore::sim::SimDisk& disk, storage::Wal& wal,
                     uint64_t group_id, uint64_t next_index) {
  raftstore::raft::Entry entry;
  entry.set_index(next_index);
  entry.set_term(1);
  auto lsn = wal.AppendEntries(group_id, {&entry, 1});
  if (!lsn.ok()) return;  // a bound or an exhausted LSN space: refused
  Require(wal.Sync().ok());
  auto reopened = storage::Wal::Open(&disk, FuzzOptions());
  Require(reopened.ok());
  Require((*reopened)->last_lsn() >= *lsn);
  auto groups = (*reopened)->TakeRecovered();
  CheckWellFormed(groups);
  Require(groups.contains(group_id));
  const auto& entries = groups[group_id].entries;
  Require(!entries.empty() && entries.back().index() == next_index);
}

void CheckOpened(raftstore::sim::SimDisk& disk, storage::Wal& wal) {
  auto groups = wal.TakeRecovered();
  CheckWellFormed(groups);
  uint64_t group_id = 1;
  uint64_t next_index = 1;
  if (!groups.empty()) {
    const auto& [id, state] = *groups.begin();
    group_id = id;
    next_index = state.entries.empty() ? state.truncated_index + 1
                                       : state.entries.back().index() + 1;
  }
  if (next_index == 0 || next_index > storage::kLsnMax) return;
  AppendAndReopen(disk, wal, group_id, next_index);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  raftstore::sim::SimDisk disk(raftstore::sim::SimDiskOptions{},
                               raftstore::Rng(1));
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  for (const auto& [name, bytes] : raftstore::fuzz::ParseChunks(input)) {
    if (!disk.Size(name).ok()) Require(disk.Create(name).ok());
    Require(disk.Append(name, bytes).ok());
    Require(disk.Sync(name).ok());
  }
  Require(disk.SyncDir().ok());
  auto wal = storage::Wal::Open(&disk, FuzzOptions());
  if (wal.ok()) {
    CheckOpened(disk, **wal);
    return 0;
  }
  const absl::StatusCode code = wal.status().code();
  Require(code == absl::StatusCode::kDataLoss ||
          code == absl::StatusCode::kFailedPrecondition);
  auto report = storage::RepairWal(&disk, FuzzOptions());
  if (!report.ok()) {
    Require(report.status().code() == absl::StatusCode::kFailedPrecondition);
    return 0;
  }
  auto again = storage::Wal::Open(&disk, FuzzOptions());
  if (again.ok()) {
    CheckOpened(disk, **again);
  } else {
    Require(again.status().code() == absl::StatusCode::kDataLoss &&
            again.status().message().find("missing entries") !=
                std::string_view::npos);
  }
  return 0;
}
