// Cost of the quorum math on the leader's hot path: CommittedIndex runs on
// every append response, TallyVotes on every vote response. Prints
// nanoseconds per call for 3, 5 and 7 voters and for a joint configuration.
//
//   bazel run -c opt //core/raft/quorum:quorum_benchmark

#include <cstdint>
#include <optional>

#include "benchmark/benchmark.h"
#include "core/raft/quorum/quorum.h"

namespace raftstore::raft::quorum {
namespace {

MajorityConfig Voters(uint64_t first, uint64_t count) {
  MajorityConfig config;
  for (uint64_t id = first; id < first + count; ++id) config.insert(id);
  return config;
}

void BM_CommittedIndex(benchmark::State& state) {
  const MajorityConfig config = Voters(1, state.range(0));
  uint64_t base = 1000;
  for (auto _ : state) {
    // Acks differ per voter and move every round, as they do in a cluster.
    auto acked = [&base](uint64_t id) -> std::optional<uint64_t> {
      return base + id * 7 % 5;
    };
    benchmark::DoNotOptimize(CommittedIndex(config, acked));
    ++base;
  }
}
BENCHMARK(BM_CommittedIndex)->Arg(3)->Arg(5)->Arg(7);

void BM_JointCommittedIndex(benchmark::State& state) {
  const JointConfig config{.incoming = Voters(1, 3), .outgoing = Voters(3, 3)};
  uint64_t base = 1000;
  for (auto _ : state) {
    auto acked = [&base](uint64_t id) -> std::optional<uint64_t> {
      return base + id % 3;
    };
    benchmark::DoNotOptimize(CommittedIndex(config, acked));
    ++base;
  }
}
BENCHMARK(BM_JointCommittedIndex);

void BM_TallyVotes(benchmark::State& state) {
  const MajorityConfig config = Voters(1, state.range(0));
  for (auto _ : state) {
    auto vote = [](uint64_t id) -> std::optional<bool> {
      if (id % 3 == 0) return std::nullopt;
      return id % 2 == 1;
    };
    benchmark::DoNotOptimize(TallyVotes(config, vote));
  }
}
BENCHMARK(BM_TallyVotes)->Arg(3)->Arg(5)->Arg(7);

}  // namespace
}  // namespace raftstore::raft::quorum

BENCHMARK_MAIN();
