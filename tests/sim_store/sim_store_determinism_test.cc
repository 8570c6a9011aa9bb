// The store mode's determinism self-check: one seed, run twice in one
// process (once with the text trace kept, once without), must give the same
// trace hash and summary. A difference means something outside the seed (a
// wall clock, pointer order, hash-map order, uninitialised memory) reached
// the run of whole stores.

#include <cstdint>

#include "gtest/gtest.h"
#include "sim/store_cluster.h"
#include "sim/store_runner.h"

namespace raftstore::sim {
namespace {

TEST(SimStoreDeterminismTest, SameSeedSameTraceHash) {
  for (const uint64_t seed : {2, 3, 5, 8, 13, 21}) {
    SCOPED_TRACE(seed);
    absl::StatusOr<StoreSimOptions> options =
        StoreOptionsForSeed(seed, StoreSimOverrides{});
    ASSERT_TRUE(options.ok()) << options.status();
    const auto faults = DrawStoreFaults(*options);
    const StoreRunResult first = RunStoreSeed(*options, faults, false);
    const StoreRunResult second = RunStoreSeed(*options, faults, true);
    EXPECT_EQ(first.base.trace_hash, second.base.trace_hash);
    EXPECT_EQ(first.Summary(), second.Summary());
    EXPECT_GT(first.base.events, 1000U);
  }
}

TEST(SimStoreDeterminismTest, DifferentSeedsDiffer) {
  absl::StatusOr<StoreSimOptions> a = StoreOptionsForSeed(2, {});
  absl::StatusOr<StoreSimOptions> b = StoreOptionsForSeed(3, {});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(RunStoreSeed(*a, DrawStoreFaults(*a), false).base.trace_hash,
            RunStoreSeed(*b, DrawStoreFaults(*b), false).base.trace_hash);
}

TEST(SimStoreDeterminismTest, SwarmOptionsVaryAcrossSeeds) {
  // Different seeds explore different corners: store and region counts,
  // admin mixes, automatic splits.
  bool stores[8] = {};
  bool regions[kStoreRegionCountMax + 1] = {};
  int without_splits = 0;
  int with_auto_splits = 0;
  for (uint64_t seed = 0; seed < 60; ++seed) {
    const StoreSimOptions o = DrawStoreOptions(seed);
    stores[o.base.node_count] = true;
    regions[o.region_count] = true;
    if (o.split_per_s == 0) ++without_splits;
    if (o.region_split_bytes > 0) ++with_auto_splits;
  }
  EXPECT_TRUE(stores[3] && stores[5]);
  EXPECT_TRUE(regions[1] && regions[kStoreRegionCountMax]);
  EXPECT_GT(without_splits, 0);
  EXPECT_GT(with_auto_splits, 0);
}

}  // namespace
}  // namespace raftstore::sim
