// Writes the seed corpora of the WAL fuzzers, so that the seeds are made by
// reviewable code from the real writer instead of checked-in binaries:
//   argv[1]: a segment file (frame fuzzer): a few groups' records;
//   argv[2]: a clean multi-segment WAL (recovery fuzzer input format);
//   argv[3]: the same WAL after a crash tore its unsynced tail;
//   argv[4]: the same WAL with a flipped bit in a durable frame (DataLoss).

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/base/rng.h"
#include "core/storage/wal/wal.h"
#include "fuzz/wal/wal_fuzz_input.h"
#include "proto/raft.pb.h"
#include "sim/disk.h"

namespace {

namespace storage = raftstore::storage;
using raftstore::sim::SimDisk;

bool Check(bool ok, const char* what) {
  if (!ok) std::fprintf(stderr, "make_wal_seeds: %s failed\n", what);
  return ok;
}

bool WriteRecords(storage::Wal& wal, uint64_t round, bool sync = true) {
  for (uint64_t group = 1; group <= 3; ++group) {
    std::vector<raftstore::raft::Entry> entries(2);
    for (uint64_t i = 0; i < entries.size(); ++i) {
      entries[i].set_index(round * 2 + i + 1);
      entries[i].set_term(1 + round / 4);
      entries[i].set_type(raftstore::raft::ENTRY_TYPE_NORMAL);
      entries[i].set_data(std::string(100, static_cast<char>('a' + group)));
    }
    if (!wal.AppendEntries(group, entries).ok()) return false;
    raftstore::raft::HardState hard_state;
    hard_state.set_format_version(1);
    hard_state.set_term(1 + round / 4);
    hard_state.set_vote(group);
    hard_state.set_commit(round * 2);
    if (!wal.SaveHardState(group, hard_state).ok()) return false;
  }
  if (round == 6 && !wal.Truncate(1, 8).ok()) return false;
  if (round == 7) {
    raftstore::raft::SnapshotMetadata snapshot;
    snapshot.set_format_version(1);
    snapshot.set_index(10);
    snapshot.set_term(3);
    snapshot.mutable_conf_state()->add_voters(1);
    if (!wal.SaveSnapshot(2, snapshot, storage::WalSnapshotKind::kLocal).ok()) {
      return false;
    }
  }
  return sync ? wal.Sync().ok() : wal.Write().ok();
}

// The fuzz input for every segment of `disk`.
std::string AsInput(SimDisk& disk) {
  std::string input;
  for (const std::string& name : disk.DurableList()) {
    const auto sequence = storage::ParseSegmentFileName(name);
    if (!sequence) continue;
    raftstore::fuzz::AppendChunks(
        raftstore::fuzz::SelectorForSegment(*sequence),
        disk.DurableContent(name), &input);
  }
  return input;
}

std::string AsInputOf(const char* path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in),
                     std::istreambuf_iterator<char>());
}

bool WriteFile(const char* path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
  return Check(static_cast<bool>(out), path);
}

storage::WalOptions SeedOptions();

// What Open says of a fuzz input: the seeds must cover a clean open, a torn
// tail cut off, and DataLoss, or they miss the paths they exist for.
absl::StatusOr<uint64_t> OpenInput(const std::string& input) {
  SimDisk disk(raftstore::sim::SimDiskOptions{}, raftstore::Rng(1));
  for (const auto& [name, bytes] : raftstore::fuzz::ParseChunks(input)) {
    if (!disk.Size(name).ok() && !disk.Create(name).ok()) {
      return absl::InternalError("create");
    }
    if (!disk.Append(name, bytes).ok()) return absl::InternalError("append");
  }
  auto wal = storage::Wal::Open(&disk, SeedOptions());
  if (!wal.ok()) return wal.status();
  return (*wal)->stats().torn_bytes_dropped;
}

storage::WalOptions SeedOptions() {
  storage::WalOptions options;
  options.segment_bytes_max = 4096;  // as in wal_recovery_fuzzer.cc
  options.record_payload_bytes_max = 1 << 16;
  options.buffered_bytes_max = 1 << 20;
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: make_wal_seeds FRAME CLEAN TORN DAMAGED\n");
    return 2;
  }
  SimDisk disk(raftstore::sim::SimDiskOptions{}, raftstore::Rng(5));
  auto wal = storage::Wal::Open(&disk, SeedOptions());
  if (!Check(wal.ok(), "open")) return 1;
  for (uint64_t round = 0; round < 10; ++round) {
    if (!Check(WriteRecords(**wal, round), "write")) return 1;
  }
  if (!WriteFile(argv[1], disk.DurableContent(storage::SegmentFileName(1))) ||
      !WriteFile(argv[2], AsInput(disk))) {
    return 1;
  }
  // Unsynced records, then a crash that keeps some sectors and tears others.
  if (!Check(WriteRecords(**wal, 10, /*sync=*/false), "write")) return 1;
  raftstore::sim::SimDiskCrashModel crash;
  crash.sector_keep_ppm = 0;
  crash.sector_torn_ppm = raftstore::sim::kPpm;
  disk.SetCrashModel(crash);
  wal->reset();
  std::string damaged = AsInput(disk);
  disk.Crash();
  const std::string torn = AsInput(disk);
  damaged[200] ^= 0x04;  // inside the first segment's first frames
  const auto clean_open = OpenInput(AsInputOf(argv[2]));
  const auto torn_open = OpenInput(torn);
  const auto damaged_open = OpenInput(damaged);
  if (!Check(clean_open.ok() && *clean_open == 0, "clean seed opens") ||
      !Check(torn_open.ok() && *torn_open > 0, "torn seed cuts a tail") ||
      !Check(absl::IsDataLoss(damaged_open.status()), "damaged seed fails")) {
    return 1;
  }
  return WriteFile(argv[3], torn) && WriteFile(argv[4], damaged) ? 0 : 1;
}
