// Proves the store mode's checkers can fail: a deliberately wrong driver
// (StoreDriverBug, compiled only into the testonly
// //sim:store_cluster_with_driver_bugs) must be caught within a documented
// number of seeds, and the same seed must pass with the correct driver (so
// the failure is the bug's).
//
// kAckBeforeSync calls Store::OnPersisted right after staging a write,
// before its fsync: the votes and append acknowledgements the store held
// for that write leave while a crash can still lose it (raft's duty 1,
// thesis 10.2.1, broken by the driver rather than the core). With crashes
// that lose every unsynced sector and slow fsyncs, a committed entry held
// by a minority that then crashes is lost; the per-region raft checkers
// (fed by the observer) or the linearizability checker notice.

#include <cstdint>
#include <iostream>
#include <string>

#include "gtest/gtest.h"
#include "sim/store_cluster.h"
#include "sim/store_options.h"

namespace raftstore::sim {
namespace {

struct Caught {
  uint64_t seed = 0;
  std::string checker;
};

// The fault mix that exposes an early acknowledgement: three stores that
// crash often and lose everything unsynced, slow fsyncs, restarts within an
// election timeout, no other faults.
void Tune(StoreSimOptions& o) {
  o.base.node_count = 3;
  o.base.corrupt_nodes = 0;
  o.replicas_max = 3;
  o.base.faults = FaultRates{};
  o.base.faults.crash_per_s = 4;
  const uint64_t election_us =
      o.base.tick_us * static_cast<uint64_t>(o.base.election_tick);
  o.base.faults.restart_delay_us_min = 0;
  o.base.faults.restart_delay_us_max = election_us / 2;
  o.base.disk.crash.sector_keep_ppm = 0;
  o.base.disk.crash.sector_torn_ppm = 0;
  o.base.disk.sync_latency_us_min = 20'000;
  o.base.disk.sync_latency_us_max = 60'000;
  o.base.workload.think_us_max = 0;
  o.base.network.drop_per_million = 0;
  o.base.network.duplicate_per_million = 0;
  o.raft_log_gc_entries_max = 8;
}

Caught FirstFailingSeed(StoreDriverBug bug, uint64_t seeds_max) {
  for (uint64_t seed = 1; seed <= seeds_max; ++seed) {
    StoreSimOptions options = DrawStoreOptions(seed);
    Tune(options);
    EXPECT_TRUE(options.Validate().ok()) << options.Validate();
    StoreCluster cluster(options, DrawStoreFaults(options),
                         /*keep_trace=*/false);
    cluster.set_driver_bug(bug);
    const StoreRunResult result = cluster.Run();
    if (result.ok()) continue;
    StoreCluster control(options, DrawStoreFaults(options),
                         /*keep_trace=*/false);
    const StoreRunResult control_result = control.Run();
    EXPECT_TRUE(control_result.ok())
        << "seed " << seed
        << " fails without the driver bug too: " << control_result.Summary();
    Caught caught;
    caught.seed = seed;
    caught.checker = !result.base.violations.empty()
                         ? result.base.violations.front().property
                         : "linearizability";
    std::cout << "caught at seed " << seed << " by " << caught.checker << ": "
              << result.Summary() << "\n";
    for (size_t i = 0; i < result.base.violations.size() && i < 3; ++i) {
      std::cout << "  " << result.base.violations[i].property << ": "
                << result.base.violations[i].detail << "\n";
    }
    if (result.base.linearizability == Verdict::kViolation) {
      std::cout << "  " << result.base.linearizability_summary << "\n";
    }
    return caught;
  }
  return Caught{};
}

// docs/simulator.md ("Store mode") records where it is caught.
constexpr uint64_t kAckBeforeSyncSeedsMax = 20;

TEST(StoreDriverBugsTest, AcknowledgingBeforeTheSyncIsCaught) {
  const Caught caught =
      FirstFailingSeed(StoreDriverBug::kAckBeforeSync, kAckBeforeSyncSeedsMax);
  EXPECT_NE(caught.seed, 0U) << "an early acknowledgement went unnoticed for "
                             << kAckBeforeSyncSeedsMax << " seeds";
}

// kCollectSnapshotsEarly removes other regions' live snapshot files: the
// next restart of that store cannot read a snapshot its WAL records, which
// on a disk without media faults is a "recovery" violation. The same crash
// mix, with log GC every 8 entries so that snapshots are frequent.
constexpr uint64_t kCollectSnapshotsEarlySeedsMax = 20;

TEST(StoreDriverBugsTest, CollectingLiveSnapshotFilesIsCaught) {
  const Caught caught = FirstFailingSeed(StoreDriverBug::kCollectSnapshotsEarly,
                                         kCollectSnapshotsEarlySeedsMax);
  EXPECT_NE(caught.seed, 0U)
      << "snapshot files removed while live went unnoticed for "
      << kCollectSnapshotsEarlySeedsMax << " seeds";
}

TEST(StoreDriverBugsTest, TheTunedSeedsPassWithTheRightDriver) {
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    StoreSimOptions options = DrawStoreOptions(seed);
    Tune(options);
    const StoreRunResult result =
        RunStoreSeed(options, DrawStoreFaults(options), false);
    EXPECT_TRUE(result.ok()) << result.Summary();
  }
}

}  // namespace
}  // namespace raftstore::sim
