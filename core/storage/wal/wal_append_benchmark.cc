// The CPU cost of the WAL's group commit apart from the disk: encoding
// 256-byte raft entries (one AppendEntries each, round-robin over regions)
// and sealing them into a batch. On a real disk this is the time the serial
// Sync() path adds to each fdatasync (runtime/bench:wal_benchmark measures
// the whole); here the batch is handed back as synced without being written,
// so only the Wal's own work is timed.
//
//   bazel run -c opt //core/storage/wal:wal_append_benchmark

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "core/base/rng.h"
#include "core/storage/wal/wal.h"
#include "core/storage/wal/wal_options.h"
#include "proto/raft.pb.h"
#include "sim/disk.h"

namespace raftstore::storage {
namespace {

// Appends `batch` (range 1) entries over `regions` (range 0) regions per
// iteration, then BeginBatch + FinishBatch(OK). Rotations happen as on a
// real disk (every 64 MiB counted), on SimDisk.
void BM_AppendAndSeal(benchmark::State& state) {
  const uint64_t regions = static_cast<uint64_t>(state.range(0));
  const uint64_t batch = static_cast<uint64_t>(state.range(1));
  sim::SimDisk disk(sim::SimDiskOptions{}, Rng(1));
  auto opened = Wal::Open(&disk, WalOptions{});
  if (!opened.ok()) {
    state.SkipWithError(std::string(opened.status().message()).c_str());
    return;
  }
  std::unique_ptr<Wal> wal = *std::move(opened);
  std::vector<uint64_t> next_index(regions + 1, 1);
  raft::Entry entry;
  entry.set_term(1);
  entry.set_type(raft::ENTRY_TYPE_NORMAL);
  entry.set_data(std::string(256, 'd'));
  uint64_t appended = 0;
  for (auto _ : state) {
    for (uint64_t i = 0; i < batch; ++i) {
      const uint64_t region = 1 + (appended + i) % regions;
      entry.set_index(next_index[region]++);
      auto lsn = wal->AppendEntries(region, {&entry, 1});
      if (!lsn.ok()) {
        state.SkipWithError(std::string(lsn.status().message()).c_str());
        return;
      }
    }
    appended += batch;
    auto sealed = wal->BeginBatch();
    if (!sealed.ok()) {
      state.SkipWithError(std::string(sealed.status().message()).c_str());
      return;
    }
    if (sealed->has_value()) {
      if (absl::Status ok =
              wal->FinishBatch(**std::move(sealed), absl::OkStatus());
          !ok.ok()) {
        state.SkipWithError(std::string(ok.message()).c_str());
        return;
      }
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(appended));
}
BENCHMARK(BM_AppendAndSeal)
    ->ArgsProduct({{1, 16, 64}, {1, 64, 256}})
    ->ArgNames({"regions", "batch"});

}  // namespace
}  // namespace raftstore::storage

BENCHMARK_MAIN();
