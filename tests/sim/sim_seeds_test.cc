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

// Seeds that once failed, with the bug each found. Never remove one.
constexpr uint64_t kRegressionSeeds[] = {
    1,  // placeholder until the first failure: the smallest seed
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
