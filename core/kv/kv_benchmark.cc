// Costs of the KV state machine's hot paths: applying writes through
// sessions, and exporting, importing and digesting a region's image.
//
//   bazel run //core/kv:kv_benchmark

#include <memory>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "core/kv/command_codec.h"
#include "core/kv/kv_state_machine.h"
#include "core/kv/kv_testing.h"

namespace raftstore::kv {
namespace {

constexpr int kClients = 64;

// Puts of 100-byte values over `keys` keys from 64 pipelining clients that
// acknowledge all but their last 4 responses, decoded from entry bytes as the
// store applies them. Each round applies a batch of fresh commands to a new
// machine (made outside the timing).
void BM_ApplyPut(benchmark::State& state) {
  constexpr uint64_t kBatch = 16384;
  const uint64_t keys = state.range(0);
  std::vector<uint64_t> sequence(kClients + 1, 0);
  std::vector<std::string> entries;
  for (uint64_t i = 0; i < kBatch; ++i) {
    const uint64_t client = 1 + i % kClients;
    const uint64_t next = ++sequence[client];
    entries.push_back(EncodeCommand(testing::Put(
        {.client_id = client,
         .sequence = next,
         .first_incomplete = next > 4 ? next - 4 : 1,
         .ticks = i},
        "key" + std::to_string((i * 7919) % keys), std::string(100, 'v'))));
  }
  for (auto _ : state) {
    state.PauseTiming();
    auto machine = std::make_unique<KvStateMachine>(KvConfig());
    state.ResumeTiming();
    for (uint64_t i = 0; i < kBatch; ++i) {
      auto result = machine->ApplyEntry(i + 1, entries[i]);
      benchmark::DoNotOptimize(result);
    }
    state.PauseTiming();
    machine.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}
BENCHMARK(BM_ApplyPut)->Arg(1000)->Arg(100000);

KvStateMachine Filled(int pairs) {
  KvStateMachine machine{KvConfig()};
  for (int i = 0; i < pairs; ++i) {
    const uint64_t client = 1 + i % kClients;
    const uint64_t sequence = 1 + i / kClients;
    machine.Apply(
        machine.applied_index() + 1,
        testing::Put({.client_id = client,
                      .sequence = sequence,
                      .first_incomplete = sequence,
                      .ticks = static_cast<uint64_t>(i)},
                     "key" + std::to_string(i), std::string(100, 'v')));
  }
  return machine;
}

void BM_ExportChunks(benchmark::State& state) {
  const KvStateMachine machine = Filled(state.range(0));
  for (auto _ : state) {
    benchmark::DoNotOptimize(machine.ExportChunks(4 << 20));
  }
  state.SetBytesProcessed(state.iterations() * machine.data_bytes());
}
BENCHMARK(BM_ExportChunks)->Arg(100000);

void BM_ImportChunks(benchmark::State& state) {
  const KvStateMachine machine = Filled(state.range(0));
  const std::vector<std::string> chunks = machine.ExportChunks(4 << 20);
  KvStateMachine target{KvConfig()};
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        target.ImportChunks(chunks, machine.applied_index()));
  }
  state.SetBytesProcessed(state.iterations() * machine.data_bytes());
}
BENCHMARK(BM_ImportChunks)->Arg(100000);

void BM_Digest(benchmark::State& state) {
  const KvStateMachine machine = Filled(state.range(0));
  for (auto _ : state) benchmark::DoNotOptimize(machine.Digest());
  state.SetBytesProcessed(state.iterations() * machine.data_bytes());
}
BENCHMARK(BM_Digest)->Arg(100000);

}  // namespace
}  // namespace raftstore::kv

BENCHMARK_MAIN();
