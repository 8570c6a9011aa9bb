// Cost per message of SimNetwork beyond the EventQueue push it needs.
//
// Both benchmarks keep kInFlight messages pending (a busy cluster) and do
// one send and one delivery per iteration, building a 64-byte payload each
// time. BM_EventQueueOnly is the floor: a payload built and an event pushed
// and run. BM_SimNetwork* add the network's decisions and bookkeeping.
//
//   bazel run //sim/network:sim_network_benchmark
#include <cstdint>
#include <string>
#include <utility>

#include "benchmark/benchmark.h"
#include "core/base/rng.h"
#include "sim/clock.h"
#include "sim/event_queue.h"
#include "sim/network/network_options.h"
#include "sim/network/sim_network.h"

namespace raftstore::sim {
namespace {

constexpr int kInFlight = 1'000;
constexpr size_t kPayloadBytes = 64;

void BM_EventQueueOnly(benchmark::State& state) {
  SimClock clock;
  EventQueue events(&clock);
  Rng rng(1);
  uint64_t delivered = 0;
  std::string last;
  auto push = [&] {
    std::string payload(kPayloadBytes, 'x');
    last = std::move(payload);
    uint64_t* sink = &delivered;
    events.ScheduleAfter(rng.Range(100, 1'000), [sink] { ++*sink; });
  };
  for (int i = 0; i < kInFlight; ++i) push();
  for (auto _ : state) {
    push();
    events.RunNext();
  }
  benchmark::DoNotOptimize(delivered);
}
BENCHMARK(BM_EventQueueOnly);

void RunNetwork(benchmark::State& state, const NetworkOptions& options) {
  SimClock clock;
  EventQueue events(&clock);
  SimNetwork network(&events, Rng(1), options, 5);
  uint64_t delivered = 0;
  network.set_deliver([&delivered](int, int, Payload payload) {
    benchmark::DoNotOptimize(payload);
    ++delivered;
  });
  int from = 0;
  auto send = [&] {
    network.Send(from, (from + 1) % 5, std::string(kPayloadBytes, 'x'));
    from = (from + 1) % 5;
  };
  for (int i = 0; i < kInFlight; ++i) send();
  for (auto _ : state) {
    send();
    events.RunNext();
  }
  benchmark::DoNotOptimize(delivered);
  state.counters["delivered"] = static_cast<double>(delivered);
}

void BM_SimNetworkPlain(benchmark::State& state) {
  NetworkOptions options;
  options.latency.min_us = 100;
  options.latency.max_us = 1'000;
  RunNetwork(state, options);
}
BENCHMARK(BM_SimNetworkPlain);

void BM_SimNetworkAllFeatures(benchmark::State& state) {
  NetworkOptions options;
  options.latency.shape = LatencyShape::kExponentialTail;
  options.latency.min_us = 100;
  options.latency.mean_us = 300;
  options.latency.max_us = 10'000;
  options.latency.spike_per_million = 1'000;
  options.latency.spike_us_min = 10'000;
  options.latency.spike_us_max = 50'000;
  options.drop_per_million = 10'000;
  options.duplicate_per_million = 10'000;
  options.reorder = true;
  options.reorder_jitter_us_max = 500;
  options.link_bytes_per_second = 1'000'000'000;
  RunNetwork(state, options);
}
BENCHMARK(BM_SimNetworkAllFeatures);

}  // namespace
}  // namespace raftstore::sim
