// Throughput of the shared WAL (core/storage/wal) on real files through
// PosixDisk: 256-byte raft entries spread over 1 to 64 regions, group-committed
// in batches of 1 to 256 records per Sync, next to this disk's raw rate of
// "append 256 bytes + fdatasync" measured in the same run. Prints a table; a
// measurement, not a test.
//
//   bazel run //runtime/bench:wal_benchmark [-- seconds_per_case]
//
// The bound a WAL can reach at batch B is raw_syncs_per_s * B records/s (one
// fdatasync per batch); `ratio` is the WAL's records/s over that bound.
// Files go to a fresh directory under $TEST_TMPDIR or /tmp, removed at exit.

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/storage/wal/wal.h"
#include "proto/raft.pb.h"
#include "runtime/posix_disk.h"

namespace {

namespace storage = raftstore::storage;
using Clock = std::chrono::steady_clock;

constexpr size_t kRecordBytes = 256;

double Seconds(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "wal_benchmark: %s\n", what.c_str());
  std::exit(1);
}

// Appends `bytes` and fdatasyncs, in a loop, on a raw file for `seconds`:
// the disk's own rate of durable appends of that size. Returns the syncs done
// and adds the time taken to `*elapsed`.
uint64_t RawSyncs(const std::filesystem::path& dir, size_t bytes,
                  double seconds, double* elapsed) {
  const std::string path = (dir / "raw").string();
  const int fd = ::open(path.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0644);
  if (fd < 0) Die("cannot create " + path);
  const std::string record(bytes, 'r');
  uint64_t syncs = 0;
  uint64_t offset = 0;
  const Clock::time_point start = Clock::now();
  while (Seconds(start) < seconds) {
    if (::pwrite(fd, record.data(), record.size(),
                 static_cast<off_t>(offset)) !=
        static_cast<ssize_t>(record.size())) {
      Die("raw pwrite failed");
    }
    offset += record.size();
    if (::fdatasync(fd) != 0) Die("raw fdatasync failed");
    ++syncs;
  }
  *elapsed += Seconds(start);
  ::close(fd);
  std::filesystem::remove(path);
  return syncs;
}

struct CaseResult {
  double records_per_s = 0;
  double megabytes_per_s = 0;        // entry data bytes
  double append_us_per_record = 0;   // time in AppendEntries calls only
  double raw_syncs_per_s = 0;        // 256 B appends, interleaved with the case
  double raw_batch_syncs_per_s = 0;  // appends of one batch's WAL bytes
};

// Interleaves slices of the WAL run with slices of the raw loops, so that the
// bound and the measurement see the same disk (the machine is shared, and a
// disk's sync rate drifts).
CaseResult RunCase(const std::filesystem::path& dir, uint64_t regions,
                   uint64_t batch, double seconds) {
  constexpr int kRounds = 10;
  const std::filesystem::path wal_dir = dir / "wal";
  std::filesystem::create_directory(wal_dir);
  auto disk = raftstore::runtime::PosixDisk::Open(wal_dir.string());
  if (!disk.ok()) Die(std::string(disk.status().message()));
  auto wal = storage::Wal::Open(disk->get(), storage::WalOptions{});
  if (!wal.ok()) Die(std::string(wal.status().message()));
  std::vector<uint64_t> next_index(regions + 1, 1);
  raftstore::raft::Entry entry;
  entry.set_term(1);
  entry.set_type(raftstore::raft::ENTRY_TYPE_NORMAL);
  entry.set_data(std::string(kRecordBytes, 'd'));
  uint64_t records = 0;
  uint64_t raw_syncs = 0;
  uint64_t raw_batch_syncs = 0;
  double wal_seconds = 0;
  double append_seconds = 0;
  double raw_seconds = 0;
  double raw_batch_seconds = 0;
  uint64_t batch_bytes = 0;
  for (int round = 0; round < kRounds; ++round) {
    raw_syncs += RawSyncs(dir, kRecordBytes, seconds / kRounds, &raw_seconds);
    const uint64_t written_before = (*wal)->stats().bytes_written;
    const uint64_t records_before = records;
    const Clock::time_point start = Clock::now();
    while (Seconds(start) < seconds / kRounds) {
      const Clock::time_point append_start = Clock::now();
      for (uint64_t i = 0; i < batch; ++i) {
        const uint64_t region = 1 + (records + i) % regions;
        entry.set_index(next_index[region]++);
        auto lsn = (*wal)->AppendEntries(region, {&entry, 1});
        if (!lsn.ok()) Die(std::string(lsn.status().message()));
      }
      append_seconds += Seconds(append_start);
      if (absl::Status synced = (*wal)->Sync(); !synced.ok()) {
        Die(std::string(synced.message()));
      }
      records += batch;
    }
    wal_seconds += Seconds(start);
    batch_bytes = ((*wal)->stats().bytes_written - written_before) * batch /
                  std::max<uint64_t>(1, records - records_before);
    raw_batch_syncs +=
        RawSyncs(dir, batch_bytes, seconds / kRounds, &raw_batch_seconds);
  }
  wal->reset();
  disk->reset();
  std::filesystem::remove_all(wal_dir);
  CaseResult result;
  result.records_per_s = static_cast<double>(records) / wal_seconds;
  result.megabytes_per_s =
      result.records_per_s * kRecordBytes / (1024.0 * 1024.0);
  result.append_us_per_record =
      append_seconds * 1e6 / static_cast<double>(records);
  result.raw_syncs_per_s = static_cast<double>(raw_syncs) / raw_seconds;
  result.raw_batch_syncs_per_s =
      static_cast<double>(raw_batch_syncs) / raw_batch_seconds;
  return result;
}

std::filesystem::path MakeTempDir() {
  const char* base = std::getenv("TEST_TMPDIR");
  std::string pattern =
      std::string(base != nullptr ? base : "/tmp") + "/wal_benchmark.XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) Die("mkdtemp failed");
  return pattern;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 2.0;
  if (argc > 1) {
    char* end = nullptr;
    seconds = std::strtod(argv[1], &end);
    if (end == argv[1] || *end != '\0' || seconds <= 0) {
      Die("usage: wal_benchmark [seconds_per_case > 0]");
    }
  }
  const std::filesystem::path dir = MakeTempDir();
  std::printf("directory %s; %zu-byte entries, one per AppendEntries\n",
              dir.c_str(), kRecordBytes);
  std::printf(
      "raw/s: append %zu B + fdatasync, interleaved with each case; "
      "bound = raw/s * batch; ratio = records/s / bound\n"
      "raw_batch/s: the same loop appending one batch's WAL bytes; "
      "ratio_b = records/s / (raw_batch/s * batch)\n",
      kRecordBytes);
  std::printf("%7s %5s %10s %7s %8s %8s %10s %6s %11s %7s\n", "regions",
              "batch", "records/s", "MB/s", "us/rec", "raw/s", "bound/s",
              "ratio", "raw_batch/s", "ratio_b");
  double worst_ratio = 1e9;
  double batch64_records_min = 1e18;
  for (const uint64_t regions : {1, 4, 16, 64}) {
    for (const uint64_t batch : {1, 4, 16, 64, 256}) {
      const CaseResult r = RunCase(dir, regions, batch, seconds);
      const double bound = r.raw_syncs_per_s * static_cast<double>(batch);
      const double ratio = r.records_per_s / bound;
      const double ratio_batch = r.records_per_s / (r.raw_batch_syncs_per_s *
                                                    static_cast<double>(batch));
      worst_ratio = std::min(worst_ratio, ratio);
      if (batch >= 64) {
        batch64_records_min = std::min(batch64_records_min, r.records_per_s);
      }
      std::printf(
          "%7lu %5lu %10.0f %7.2f %8.3f %8.0f %10.0f %6.2f %11.0f "
          "%7.2f\n",
          static_cast<unsigned long>(regions),
          static_cast<unsigned long>(batch), r.records_per_s, r.megabytes_per_s,
          r.append_us_per_record, r.raw_syncs_per_s, bound, ratio,
          r.raw_batch_syncs_per_s, ratio_batch);
      std::fflush(stdout);
    }
  }
  std::printf(
      "worst ratio %.2f (target >= 0.90); lowest records/s at batch "
      ">= 64: %.0f (target >= 100000)\n",
      worst_ratio, batch64_records_min);
  std::filesystem::remove_all(dir);
  return 0;
}
