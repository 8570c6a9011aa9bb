// Throughput of the shared WAL (core/storage/wal) on real files through
// PosixDisk: 256-byte raft entries spread over 1 to 64 regions, group-committed
// in batches of 1 to 256 records per sync, next to this disk's raw rate of
// write + fdatasync measured in the same run. Prints a table; a measurement,
// not a test.
//
//   bazel run -c opt //runtime/bench:wal_benchmark [-- seconds_per_phase
//       [regions batch]]
//
// Each case (regions, batch) runs four phases for `seconds_per_phase` each
// (default 2), cut into kRounds slices and interleaved:
//   serial:    append the batch, Wal::Sync() (encode, then write + sync);
//   pipelined: group commit with write-behind: a committer thread syncs
//              batch N (Wal::BeginBatch, WriteAndSyncBatch, FinishBatch; the
//              Wal under a mutex) while this thread encodes batch N+1 and
//              writes it (Wal::Write);
//   raw256:    pwrite 256 bytes + fdatasync, in a loop (one bare record);
//   rawB:      pwrite B bytes + fdatasync, B = as many bytes as the WAL wrote
//              per sync so far (frames included: header, CRC, LSNs, protobuf
//              tags, and the rotations' headers and checkpoints), and the
//              same bytes: a copy of the WAL's latest B bytes. This is the
//              bound: the WAL cannot make B bytes durable faster than the bare
//              disk, so records/s is at most rawB/s * batch.
// The raw loops append to the WAL's own newest segment (see RawLog), so
// both sides write the same file. The phases' order varies per round (kOrder),
// and the printed ratios are medians over the rounds of each round's own ratio,
// so a burst of load from other jobs on a shared machine skews one round, not
// the result. Regions and batch on the command line run one case (for perf).
//
// Files go to a fresh directory under $TEST_TMPDIR or /tmp, removed at exit.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "core/storage/wal/wal.h"
#include "core/storage/wal/wal_options.h"
#include "proto/raft.pb.h"
#include "runtime/posix_disk.h"

namespace {

namespace storage = raftstore::storage;
using Clock = std::chrono::steady_clock;

constexpr size_t kRecordBytes = 256;
constexpr size_t kWalSampleBytes = 256 * 1024;
// Short slices (20 ms at the default 2 s per phase), so that a change of the
// disk's state (a shared or rate-limited disk flips between fast and
// throttled within a second) rarely falls inside a round.
constexpr int kRounds = 100;  // a multiple of 4: see kOrder

double Seconds(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "wal_benchmark: %s\n", what.c_str());
  std::exit(1);
}

void DieUnlessOk(const absl::Status& status) {
  if (!status.ok()) Die(std::string(status.message()));
}

// A rate: events over the seconds they took.
struct Rate {
  double events = 0;
  double seconds = 0;
  double PerSecond() const { return seconds > 0 ? events / seconds : 0; }
};

// A raw log: pwrite + fdatasync of a fixed size, appended to the end of a
// file it is given, in a loop. The benchmark gives it the WAL's own newest
// segment, so the bound is measured on the very file (and disk blocks) the
// WAL writes: measured on a file of its own, the bound came out up to 20%
// faster or slower than the WAL for a whole case, by where the file landed
// on this virtual disk. The segment is no longer a readable WAL afterwards
// (raw bytes between its frames), which the benchmark never needs: the Wal
// appends at the file's end (PosixDisk::Append) and is never reopened.
class RawLog {
 public:
  explicit RawLog(size_t bytes) : record_(bytes, 'r') {}
  ~RawLog() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawLog(const RawLog&) = delete;
  RawLog& operator=(const RawLog&) = delete;

  // The bytes of each append from now on.
  void SetRecord(std::string record) { record_ = std::move(record); }

  // Appends to the end of `path` and syncs, in a loop for `seconds`: the
  // disk's own rate of durable appends of this size.
  void Run(const std::string& path, double seconds, Rate* rate) {
    if (path != path_) {
      if (fd_ >= 0) ::close(fd_);
      path_ = path;
      fd_ = ::open(path_.c_str(), O_WRONLY | O_CLOEXEC);
      if (fd_ < 0) Die("cannot open " + path_);
    }
    struct stat st {};
    if (::fstat(fd_, &st) != 0) Die("cannot stat " + path_);
    uint64_t offset = static_cast<uint64_t>(st.st_size);
    const Clock::time_point start = Clock::now();
    while (Seconds(start) < seconds) {
      if (::pwrite(fd_, record_.data(), record_.size(),
                   static_cast<off_t>(offset)) !=
          static_cast<ssize_t>(record_.size())) {
        Die("raw pwrite failed");
      }
      offset += record_.size();
      if (::fdatasync(fd_) != 0) Die("raw fdatasync failed");
      rate->events += 1;
    }
    rate->seconds += Seconds(start);
  }

 private:
  std::string record_;
  std::string path_;
  int fd_ = -1;
};

// One WAL on PosixDisk being fed `regions` round-robin.
class WalDriver {
 public:
  WalDriver(const std::filesystem::path& dir, uint64_t regions)
      : dir_(dir), regions_(regions), next_index_(regions + 1, 1) {
    auto disk = raftstore::runtime::PosixDisk::Open(dir.string());
    DieUnlessOk(disk.status());
    disk_ = *std::move(disk);
    auto wal = storage::Wal::Open(disk_.get(), storage::WalOptions{});
    DieUnlessOk(wal.status());
    wal_ = *std::move(wal);
    entry_.set_term(1);
    entry_.set_type(raftstore::raft::ENTRY_TYPE_NORMAL);
    entry_.set_data(std::string(kRecordBytes, 'd'));
  }

  storage::Wal& wal() { return *wal_; }

  // The file name of the WAL's newest segment, the file records go to.
  std::string NewestSegment() {
    auto names = disk_->List();
    DieUnlessOk(names.status());
    std::string newest;
    for (const std::string& name : *names) {
      if (storage::ParseSegmentFileName(name).has_value()) newest = name;
    }
    if (newest.empty()) Die("no WAL segment in " + dir_.string());
    return newest;
  }
  std::string NewestSegmentPath() { return (dir_ / NewestSegment()).string(); }

  // `bytes` bytes of what the WAL wrote last (the tail of its newest
  // segment, repeated if the segment is shorter), so that the raw loop
  // writes the same kind of bytes: a disk or a host that compresses or
  // deduplicates would favour a raw loop of one repeated letter. Call it
  // before a raw loop has appended to the segment.
  std::string LastBytes(size_t bytes) {
    const std::string newest = NewestSegment();
    auto size = disk_->Size(newest);
    DieUnlessOk(size.status());
    const uint64_t take = std::min<uint64_t>(bytes, *size);
    auto tail = disk_->Read(newest, *size - take, take);
    DieUnlessOk(tail.status());
    if (tail->empty()) Die("empty segment " + newest);
    std::string out;
    while (out.size() < bytes) out += *tail;
    out.resize(bytes);
    return out;
  }

  // Encodes `batch` records, one AppendEntries each.
  void Append(uint64_t batch, Rate* append) {
    const Clock::time_point start = Clock::now();
    for (uint64_t i = 0; i < batch; ++i) {
      const uint64_t region = 1 + (appended_ + i) % regions_;
      entry_.set_index(next_index_[region]++);
      DieUnlessOk(wal_->AppendEntries(region, {&entry_, 1}).status());
    }
    appended_ += batch;
    append->events += static_cast<double>(batch);
    append->seconds += Seconds(start);
  }

  // Serial group commit for `seconds`.
  void RunSerial(uint64_t batch, double seconds, Rate* records, Rate* append) {
    const Clock::time_point start = Clock::now();
    while (Seconds(start) < seconds) {
      Append(batch, append);
      DieUnlessOk(wal_->Sync());
      records->events += static_cast<double>(batch);
    }
    records->seconds += Seconds(start);
  }

  // Pipelined group commit with write-behind for `seconds`: the Wal is
  // shared under a mutex; this thread appends a batch and writes it
  // (Wal::Write, a pwrite into the page cache), staying at most one batch
  // ahead; a committer thread, as soon as a sync returns, finishes that
  // batch and seals the next under the lock (FinishBatch, BeginBatch: the
  // batch carries no bytes, they are written), then runs WriteAndSyncBatch
  // (the fdatasync alone) outside it. So encoding and writing batch N+1
  // overlap the sync of batch N, and no thread wake-up sits between two
  // syncs while this thread keeps ahead. Ends with everything durable.
  void RunPipelined(uint64_t batch, double seconds, Rate* records) {
    std::mutex mu;
    std::condition_variable cv;
    uint64_t appended = 0;  // batches appended (guarded by mu)
    uint64_t sealed = 0;    // batches sealed by the committer (guarded by mu)
    bool stop = false;      // no more batches will be appended
    Rate unused;
    std::thread committer([&] {
      std::optional<storage::WalWriteBatch> in_flight;
      absl::Status synced;
      std::unique_lock<std::mutex> lock(mu);
      while (true) {
        if (in_flight.has_value()) {
          std::optional<storage::WalWriteBatch> done =
              std::exchange(in_flight, std::nullopt);
          DieUnlessOk(wal_->FinishBatch(*std::move(done), synced));
        }
        cv.wait(lock, [&] { return sealed < appended || stop; });
        if (sealed == appended) return;  // stopped and drained
        auto next = wal_->BeginBatch();  // a rotation syncs here, in full
        DieUnlessOk(next.status());
        in_flight = *std::move(next);
        sealed = appended;
        cv.notify_all();
        if (!in_flight.has_value()) continue;
        lock.unlock();
        synced = storage::WriteAndSyncBatch(disk_.get(), *in_flight);
        lock.lock();
      }
    });
    // Timed from here: the thread's start is not the WAL's cost.
    const Clock::time_point start = Clock::now();
    {
      std::unique_lock<std::mutex> lock(mu);
      while (Seconds(start) < seconds) {
        cv.wait(lock, [&] { return appended == sealed; });
        Append(batch, &unused);
        // Write-behind: this thread also hands the bytes to the page cache
        // while the committer's fdatasync of the previous batch runs, so the
        // batch it seals next only needs the sync.
        DieUnlessOk(wal_->Write());
        ++appended;
        records->events += static_cast<double>(batch);
        cv.notify_all();
      }
      stop = true;
      cv.notify_all();
    }
    committer.join();
    records->seconds += Seconds(start);
    if (wal_->durable_lsn() != wal_->last_lsn()) Die("pipelined: not durable");
  }

 private:
  const std::filesystem::path dir_;
  const uint64_t regions_;
  std::vector<uint64_t> next_index_;
  std::unique_ptr<raftstore::runtime::PosixDisk> disk_;
  std::unique_ptr<storage::Wal> wal_;
  raftstore::raft::Entry entry_;
  uint64_t appended_ = 0;
};

struct CaseResult {
  double bytes_per_sync = 0;  // what the WAL wrote per sync, frames included
  // Totals over the case.
  Rate serial;
  Rate pipelined;
  Rate append;  // time in AppendEntries calls, serial mode
  Rate raw256;
  Rate raw_batch;
  // Per round: records/s over the bound measured in the same round (rawB/s
  // or raw256/s times the batch). Their medians are the printed ratios:
  // each compares runs a fraction of a second apart, so a burst of load from
  // other jobs on the machine skews one round, not the result.
  std::vector<double> serial_ratio;
  std::vector<double> pipelined_ratio;
  std::vector<double> serial_ratio256;
  std::vector<double> pipelined_ratio256;
};

double Median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t mid = values.size() / 2;
  return values.size() % 2 == 1 ? values[mid]
                                : (values[mid - 1] + values[mid]) / 2;
}

void AddTo(const Rate& round, Rate* total) {
  total->events += round.events;
  total->seconds += round.seconds;
}

// The order of the four phases in each round: a balanced Latin square
// (every phase runs once in each position and right after every other phase
// once per four rounds), so whatever one phase leaves behind (dirty pages,
// disk cache state) falls on all of them alike.
constexpr int kOrder[4][4] = {
    {0, 1, 3, 2}, {1, 2, 0, 3}, {2, 3, 1, 0}, {3, 0, 2, 1}};

double BytesPerSync(const storage::WalStats& stats) {
  return static_cast<double>(stats.bytes_written) /
         static_cast<double>(std::max<uint64_t>(1, stats.syncs));
}

CaseResult RunCase(const std::filesystem::path& dir, uint64_t regions,
                   uint64_t batch, double seconds) {
  const std::filesystem::path wal_dir = dir / "wal";
  std::filesystem::create_directory(wal_dir);
  CaseResult result;
  {
    WalDriver driver(wal_dir, regions);
    // Warm up and learn the WAL's bytes per sync for the raw loop.
    Rate unused;
    Rate unused_append;
    driver.RunSerial(batch, 0.05, &unused, &unused_append);
    // The WAL's own bytes for the rawB loop, taken before any raw loop has
    // written to the segment (B per sync is far below this).
    const std::string wal_bytes = driver.LastBytes(kWalSampleBytes);
    RawLog raw256(kRecordBytes);
    RawLog raw_batch(1);
    const double slice = seconds / kRounds;
    const double b = static_cast<double>(batch);
    for (int round = 0; round < kRounds; ++round) {
      Rate serial;
      Rate pipelined;
      Rate append;
      Rate r256;
      Rate r_batch;
      for (const int phase : kOrder[round % 4]) {
        switch (phase) {
          case 0:
            driver.RunSerial(batch, slice, &serial, &append);
            break;
          case 1:
            driver.RunPipelined(batch, slice, &pipelined);
            break;
          case 2:
            raw256.Run(driver.NewestSegmentPath(), slice, &r256);
            break;
          default:
            raw_batch.SetRecord(wal_bytes.substr(
                0, static_cast<size_t>(
                       std::max(1.0, BytesPerSync(driver.wal().stats())))));
            raw_batch.Run(driver.NewestSegmentPath(), slice, &r_batch);
            break;
        }
      }
      AddTo(serial, &result.serial);
      AddTo(pipelined, &result.pipelined);
      AddTo(append, &result.append);
      AddTo(r256, &result.raw256);
      AddTo(r_batch, &result.raw_batch);
      result.serial_ratio.push_back(serial.PerSecond() /
                                    (r_batch.PerSecond() * b));
      result.pipelined_ratio.push_back(pipelined.PerSecond() /
                                       (r_batch.PerSecond() * b));
      result.serial_ratio256.push_back(serial.PerSecond() /
                                       (r256.PerSecond() * b));
      result.pipelined_ratio256.push_back(pipelined.PerSecond() /
                                          (r256.PerSecond() * b));
    }
    result.bytes_per_sync = BytesPerSync(driver.wal().stats());
  }
  std::filesystem::remove_all(wal_dir);
  return result;
}

std::filesystem::path MakeTempDir() {
  const char* base = std::getenv("TEST_TMPDIR");
  std::string pattern =
      std::string(base != nullptr ? base : "/tmp") + "/wal_benchmark.XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) Die("mkdtemp failed");
  return pattern;
}

uint64_t ParseCount(const char* text) {
  char* end = nullptr;
  const uint64_t value = std::strtoull(text, &end, 10);
  if (end == text || *end != '\0' || value == 0 || value > 4096) {
    Die(std::string("not a count in 1..4096: ") + text);
  }
  return value;
}

// The machine's load average: a shared machine's other jobs take the CPUs
// the pipelined run needs and the disk's syncs, so a table is only worth as
// much as the quiet it was measured in.
void PrintLoad(const char* when) {
  double load[3] = {0, 0, 0};
  if (::getloadavg(load, 3) == 3) {
    std::printf("load average at %s: %.2f %.2f %.2f (%u CPUs)\n", when, load[0],
                load[1], load[2], std::thread::hardware_concurrency());
  }
}

struct Worst {
  double serial = 1e9;
  double pipelined = 1e9;
  double records_min = 1e18;
};

}  // namespace

int main(int argc, char** argv) {
  double seconds = 2.0;
  if (argc > 1) {
    char* end = nullptr;
    seconds = std::strtod(argv[1], &end);
    if (end == argv[1] || *end != '\0' || seconds <= 0) {
      Die("usage: wal_benchmark [seconds_per_phase > 0 [regions batch]]");
    }
  }
  std::vector<uint64_t> region_counts = {1, 4, 16, 64};
  std::vector<uint64_t> batches = {1, 4, 16, 64, 256};
  if (argc == 4) {
    region_counts = {ParseCount(argv[2])};
    batches = {ParseCount(argv[3])};
  } else if (argc != 1 && argc != 2) {
    Die("usage: wal_benchmark [seconds_per_phase > 0 [regions batch]]");
  }
  const std::filesystem::path dir = MakeTempDir();
  PrintLoad("start");
  std::printf(
      "directory %s; %zu-byte entries, one per AppendEntries; %.1f s per "
      "phase per case\n"
      "B/sync: bytes the WAL writes per sync (frames included); rawB/s: "
      "pwrite B + fdatasync; raw256/s: pwrite 256 B + fdatasync\n"
      "ser = Sync() per batch, pipe = Write() + BeginBatch/worker "
      "fdatasync/FinishBatch (write-behind); "
      "x/rawB = median over %d rounds of records/s / (rawB/s * batch) "
      "in the round; x/r256 likewise\n",
      dir.c_str(), kRecordBytes, seconds, kRounds);
  std::printf("%7s %5s %7s %9s %8s %6s %10s %8s %8s %6s %6s %6s %6s\n",
              "regions", "batch", "B/sync", "ser_rec/s", "ser_MB/s", "us/rec",
              "pipe_rec/s", "rawB/s", "raw256/s", "s/rawB", "p/rawB", "s/r256",
              "p/r256");
  std::map<uint64_t, Worst> worst;  // by batch
  for (const uint64_t regions : region_counts) {
    for (const uint64_t batch : batches) {
      const CaseResult r = RunCase(dir, regions, batch, seconds);
      const double serial = r.serial.PerSecond();
      const double pipelined = r.pipelined.PerSecond();
      const double ratio = Median(r.serial_ratio);
      const double pipelined_ratio = Median(r.pipelined_ratio);
      Worst& w = worst[batch];
      w.serial = std::min(w.serial, ratio);
      w.pipelined = std::min(w.pipelined, pipelined_ratio);
      w.records_min = std::min(w.records_min, std::min(serial, pipelined));
      std::printf(
          "%7lu %5lu %7.0f %9.0f %8.2f %6.3f %10.0f %8.0f %8.0f %6.2f %6.2f "
          "%6.2f %6.2f\n",
          static_cast<unsigned long>(regions),
          static_cast<unsigned long>(batch), r.bytes_per_sync, serial,
          serial * kRecordBytes / (1024.0 * 1024.0),
          r.append.seconds * 1e6 / std::max(1.0, r.append.events), pipelined,
          r.raw_batch.PerSecond(), r.raw256.PerSecond(), ratio, pipelined_ratio,
          Median(r.serial_ratio256), Median(r.pipelined_ratio256));
      std::fflush(stdout);
    }
  }
  std::printf(
      "per batch, worst over regions, of records/s / (rawB/s * batch) "
      "(target >= 0.90):\n");
  for (const auto& [batch, w] : worst) {
    std::printf(
        "  batch %3lu: serial %.3f %s, pipelined %.3f %s; lowest records/s "
        "%.0f%s\n",
        static_cast<unsigned long>(batch), w.serial,
        w.serial >= 0.9 ? "met" : "NOT met", w.pipelined,
        w.pipelined >= 0.9 ? "met" : "NOT met", w.records_min,
        batch >= 64 ? (w.records_min >= 100000 ? " (>= 100000: met)"
                                               : " (>= 100000: NOT met)")
                    : "");
  }
  PrintLoad("end");
  std::filesystem::remove_all(dir);
  return 0;
}
