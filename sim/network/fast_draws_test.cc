#include "sim/network/fast_draws.h"

#include <cstdint>
#include <vector>

#include "core/base/rng.h"
#include "gtest/gtest.h"

namespace raftstore::sim {
namespace {

// Bounds at the edges of the mapping: 1 (one value), powers of two and
// their neighbours, and bounds just above 2^63, where most engine values are
// rejected and Uniform draws again (the case that must take the same count
// of engine values).
std::vector<uint64_t> EdgeBounds() {
  std::vector<uint64_t> bounds = {1, 2, 3, 7, 1'000'000, 1'000'001};
  for (int shift = 8; shift < 64; shift += 8) {
    bounds.push_back(uint64_t{1} << shift);
    bounds.push_back((uint64_t{1} << shift) + 1);
    bounds.push_back((uint64_t{1} << shift) - 1);
  }
  bounds.push_back((uint64_t{1} << 63) + 1);
  bounds.push_back((uint64_t{1} << 63) + 12345);
  bounds.push_back(UINT64_MAX - 1);
  bounds.push_back(UINT64_MAX);
  return bounds;
}

TEST(FastDrawsTest, UniformMatchesRngAndKeepsTheStreamInStep) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    Rng reference(seed);
    Rng fast(seed);
    for (int round = 0; round < 50; ++round) {
      for (const uint64_t bound : EdgeBounds()) {
        ASSERT_EQ(FastUniform(fast, bound), reference.Uniform(bound))
            << "seed " << seed << " bound " << bound;
      }
    }
    // Same count of engine values taken: the next raw values agree.
    EXPECT_EQ(fast.Next(), reference.Next());
  }
}

TEST(FastDrawsTest, RangeAndChanceMatchRngOnRandomArguments) {
  Rng arguments(99);
  Rng reference(7);
  Rng fast(7);
  for (int i = 0; i < 100'000; ++i) {
    const uint64_t a = arguments.Next() >> arguments.Uniform(64);
    const uint64_t b = arguments.Next() >> arguments.Uniform(64);
    const uint64_t low = a < b ? a : b;
    const uint64_t high = a < b ? b : a;
    ASSERT_EQ(FastRange(fast, low, high), reference.Range(low, high)) << i;
    const uint64_t denominator = 1 + (b >> 1);
    const uint64_t numerator = (a >> 1) % (denominator + 1);
    ASSERT_EQ(FastChance(fast, numerator, denominator),
              reference.Chance(numerator, denominator))
        << i;
  }
  EXPECT_EQ(FastRange(fast, 0, UINT64_MAX), reference.Range(0, UINT64_MAX));
  EXPECT_EQ(FastRange(fast, 5, 5), reference.Range(5, 5));
  EXPECT_EQ(FastChance(fast, 0, 1'000'000), reference.Chance(0, 1'000'000));
  EXPECT_EQ(fast.Next(), reference.Next());
}

TEST(FastDrawsDeathTest, BadArgumentsCrashAsRngDoes) {
  Rng rng(1);
  EXPECT_DEATH(FastUniform(rng, 0), "bound");
  EXPECT_DEATH(FastRange(rng, 2, 1), "low");
  EXPECT_DEATH(FastChance(rng, 2, 1), "numerator");
}

}  // namespace
}  // namespace raftstore::sim
