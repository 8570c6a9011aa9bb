// Proves the simulator's checkers can fail: each deliberately wrong variant
// of the core (raft::InjectedBug, compiled only into this testonly build)
// must be caught within a documented number of seeds. A checker that passes
// a broken core checks nothing.
//
// Each bug runs against the plain seed sequence 1, 2, ... with the fault
// mix that exposes it turned up (the options of the seed otherwise as
// drawn), and the test records the first seed that fails and which checker
// caught it. kSeedsMax is the documented bound (docs/simulator.md).

#include <cstdint>
#include <string>

#include "gtest/gtest.h"
#include "sim/cluster.h"
#include "sim/runner.h"

namespace raftstore::sim {
namespace {

struct Caught {
  uint64_t seed = 0;
  std::string checker;
};

Caught FirstFailingSeed(raft::InjectedBug bug, const SimOverrides& overrides,
                        uint64_t seeds_max) {
  for (uint64_t seed = 1; seed <= seeds_max; ++seed) {
    absl::StatusOr<SimOptions> options = OptionsForSeed(seed, overrides);
    if (!options.ok()) continue;
    Cluster cluster(*options, DrawFaults(*options), /*keep_trace=*/false);
    cluster.set_injected_bug(bug);
    const RunResult result = cluster.Run();
    if (result.ok()) continue;
    Caught caught;
    caught.seed = seed;
    caught.checker = !result.violations.empty()
                         ? result.violations.front().property
                         : "linearizability";
    std::cout << "caught at seed " << seed << " by " << caught.checker << ": "
              << result.Summary() << "\n";
    return caught;
  }
  return Caught{};
}

constexpr uint64_t kSeedsMax = 40;

TEST(InjectedBugsTest, AckBeforePersistIsCaught) {
  SimOverrides overrides;
  overrides.crash_per_s = 3;
  const Caught caught = FirstFailingSeed(raft::InjectedBug::kAckBeforePersist,
                                         overrides, kSeedsMax);
  EXPECT_NE(caught.seed, 0U) << "no seed in 1.." << kSeedsMax
                             << " caught a follower acking before persisting";
}

TEST(InjectedBugsTest, CommitOldTermByCountingIsCaught) {
  SimOverrides overrides;
  overrides.crash_per_s = 2;
  overrides.partition_per_s = 2;
  const Caught caught = FirstFailingSeed(
      raft::InjectedBug::kCommitOldTermByCounting, overrides, kSeedsMax);
  EXPECT_NE(caught.seed, 0U)
      << "no seed in 1.." << kSeedsMax
      << " caught a leader committing an old-term entry by counting";
}

TEST(InjectedBugsTest, StaleLeaderReadIsCaught) {
  SimOverrides overrides;
  overrides.partition_per_s = 2;
  const Caught caught = FirstFailingSeed(raft::InjectedBug::kStaleLeaderRead,
                                         overrides, kSeedsMax);
  EXPECT_NE(caught.seed, 0U) << "no seed in 1.." << kSeedsMax
                             << " caught a deposed leader serving a read";
}

}  // namespace
}  // namespace raftstore::sim
