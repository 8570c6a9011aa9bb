// The determinism self-check: one seed, run twice in one process, must give
// the same trace hash (every event hashed: deliveries, Readys, faults,
// replies) and the same summary. A difference means something outside the
// seed (a wall clock, pointer order, hash-map order, uninitialised memory)
// reached the run.

#include <cstdint>

#include "gtest/gtest.h"
#include "sim/cluster.h"
#include "sim/runner.h"

namespace raftstore::sim {
namespace {

TEST(SimDeterminismTest, SameSeedSameTraceHash) {
  for (const uint64_t seed : {2, 3, 5, 8, 13, 21}) {
    SCOPED_TRACE(seed);
    absl::StatusOr<SimOptions> options = OptionsForSeed(seed, SimOverrides{});
    ASSERT_TRUE(options.ok()) << options.status();
    const auto faults = DrawFaults(*options);
    const RunResult first = RunSeed(*options, faults, false);
    const RunResult second = RunSeed(*options, faults, true);
    EXPECT_EQ(first.trace_hash, second.trace_hash);
    EXPECT_EQ(first.Summary(), second.Summary());
    EXPECT_GT(first.events, 1000U);
  }
}

TEST(SimDeterminismTest, DifferentSeedsDiffer) {
  absl::StatusOr<SimOptions> a = OptionsForSeed(2, SimOverrides{});
  absl::StatusOr<SimOptions> b = OptionsForSeed(3, SimOverrides{});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(RunSeed(*a, DrawFaults(*a), false).trace_hash,
            RunSeed(*b, DrawFaults(*b), false).trace_hash);
}

TEST(SimDeterminismTest, SwarmOptionsVaryAcrossSeeds) {
  // Different seeds explore different corners: cluster sizes, fault mixes.
  bool sizes[8] = {};
  int with_crashes = 0;
  int without_crashes = 0;
  for (uint64_t seed = 0; seed < 60; ++seed) {
    const SimOptions o = DrawOptions(seed);
    sizes[o.node_count] = true;
    (o.faults.crash_per_s > 0 ? with_crashes : without_crashes)++;
  }
  EXPECT_TRUE(sizes[3] && sizes[5] && sizes[7]);
  EXPECT_GT(with_crashes, 0);
  EXPECT_GT(without_crashes, 0);
}

}  // namespace
}  // namespace raftstore::sim
