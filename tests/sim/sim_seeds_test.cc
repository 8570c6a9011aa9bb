// The simulator on every test run: a fixed regression list of seeds (every
// seed that ever failed joins it, with a note of the bug it found) and a
// range of further seeds, each of which must pass every checker. A failure
// prints the seed's summary and the command that replays it.
//
// Longer runs (thousands of seeds) are the soak command in the README.

#include <cstdint>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "sim/cluster.h"
#include "sim/runner.h"

namespace raftstore::sim {
namespace {

// Seeds that once failed, with the bug each found. Never remove one. (The
// option draw has changed since some were found, so a seed may now explore
// a different corner; it stays on the list anyway.)
constexpr uint64_t kRegressionSeeds[] = {
    1,     // the first seed ever run
    4,     // election timeout shorter than the network round trip: timeouts
           // are now fitted to latency (FitTimeouts)
    10,    // leader completeness checker false positive: a lower-term leader
           // elected by stale votes need not hold later commits
    24,    // a node restarted by its own supervisor stayed marked crashed in
           // the network (now reported through the node's up callback)
    297,   // liveness: the session table was full of churned sessions; the
           // sim's KV eviction idle time now follows the client timeouts
    910,   // liveness judged while random message loss was still on
    1135,  // same, on 7 nodes
    2688,  // a heavy but healthy workload (37k operations) tripped a flat
           // event budget; the budget now asks for progress, not a count
};

// The further range run on every test run.
constexpr uint64_t kRangeFirst = 1000;
constexpr uint64_t kRangeCount = 40;

void ExpectSeedPasses(uint64_t seed) {
  absl::StatusOr<SimOptions> options = OptionsForSeed(seed, SimOverrides{});
  ASSERT_TRUE(options.ok()) << options.status();
  const RunResult result = RunSeed(*options, DrawFaults(*options), false);
  std::string details;
  for (const SafetyViolation& v : result.violations) {
    details += "\n  " + v.property + ": " + v.detail;
  }
  if (result.linearizability != Verdict::kOk) {
    details += "\n  " + result.linearizability_summary;
  }
  EXPECT_TRUE(result.ok()) << result.Summary() << details << "\n  replay: "
                           << ReplayCommand(seed, SimOverrides{});
  // Every seed must do real work, or the checkers check nothing.
  EXPECT_GT(result.commit_index_max, 0U) << result.Summary();
}

TEST(SimSeedsTest, RegressionSeedsPass) {
  for (const uint64_t seed : kRegressionSeeds) {
    SCOPED_TRACE(seed);
    ExpectSeedPasses(seed);
  }
}

TEST(SimSeedsTest, SeedRangePasses) {
  for (uint64_t seed = kRangeFirst; seed < kRangeFirst + kRangeCount; ++seed) {
    SCOPED_TRACE(seed);
    ExpectSeedPasses(seed);
  }
}

}  // namespace
}  // namespace raftstore::sim
