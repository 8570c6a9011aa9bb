#include "core/base/rng.h"

#include <array>
#include <cstdint>
#include <vector>

#include "gtest/gtest.h"

namespace raftstore {
namespace {

TEST(RngTest, SameSeedGivesSameSequence) {
  Rng a(42);
  Rng b(42);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(a.Next(), b.Next());
}

TEST(RngTest, SequenceIsPinnedAcrossMachines) {
  // std::mt19937_64 is specified by the standard: its 10000th output from the
  // default seed is 9981545732273789042. A replayed seed must mean the same
  // run everywhere, so pin the engine's output too.
  Rng rng(5489);
  uint64_t value = 0;
  for (int i = 0; i < 10000; ++i) value = rng.Next();
  EXPECT_EQ(value, 9981545732273789042ULL);
}

TEST(RngTest, RangeMappingsArePinned) {
  // Uniform, Range and Chance are our own arithmetic over the engine; every
  // simulator seed depends on them, so their outputs are pinned too. If this
  // test must change, every recorded seed changes meaning: say so loudly.
  Rng rng(20261124);
  std::vector<uint64_t> uniform;
  for (int i = 0; i < 5; ++i) uniform.push_back(rng.Uniform(1000));
  std::vector<uint64_t> range;
  for (int i = 0; i < 5; ++i) range.push_back(rng.Range(10, 20));
  std::vector<bool> chance;
  for (int i = 0; i < 8; ++i) chance.push_back(rng.Chance(1, 2));
  EXPECT_EQ(uniform, (std::vector<uint64_t>{643, 880, 1, 686, 394}));
  EXPECT_EQ(range, (std::vector<uint64_t>{18, 11, 10, 15, 20}));
  EXPECT_EQ(chance, (std::vector<bool>{false, false, false, false, true, false,
                                       false, true}));
}

TEST(RngTest, DifferentSeedsDiffer) {
  Rng a(1);
  Rng b(2);
  EXPECT_NE(a.Next(), b.Next());
}

TEST(RngTest, UniformStaysInBoundsAndCoversThem) {
  Rng rng(7);
  std::array<int, 10> counts{};
  for (int i = 0; i < 100000; ++i) {
    const uint64_t v = rng.Uniform(10);
    ASSERT_LT(v, 10u);
    ++counts[v];
  }
  // Each bucket expects 10000; 9000..11000 is far beyond 10 sigma of noise.
  for (int c : counts) {
    EXPECT_GT(c, 9000);
    EXPECT_LT(c, 11000);
  }
}

TEST(RngTest, RangeIsInclusive) {
  Rng rng(11);
  bool saw_low = false;
  bool saw_high = false;
  for (int i = 0; i < 10000; ++i) {
    const uint64_t v = rng.Range(150, 153);
    ASSERT_GE(v, 150u);
    ASSERT_LE(v, 153u);
    saw_low |= v == 150;
    saw_high |= v == 153;
  }
  EXPECT_TRUE(saw_low);
  EXPECT_TRUE(saw_high);
  EXPECT_EQ(rng.Range(5, 5), 5u);
  (void)rng.Range(0, UINT64_MAX);  // the full range must not overflow
}

TEST(RngTest, ChanceExtremesAreExact) {
  Rng rng(3);
  for (int i = 0; i < 1000; ++i) {
    EXPECT_FALSE(rng.Chance(0, 100));
    EXPECT_TRUE(rng.Chance(100, 100));
  }
}

TEST(RngTest, ForkIsDeterministicAndIndependent) {
  Rng a(99);
  Rng b(99);
  Rng fork_a = a.Fork();
  Rng fork_b = b.Fork();
  std::vector<uint64_t> xs;
  for (int i = 0; i < 100; ++i) {
    xs.push_back(fork_a.Next());
    ASSERT_EQ(xs.back(), fork_b.Next());
  }
  // The parent continues on its own sequence, distinct from the fork's.
  EXPECT_NE(a.Next(), xs[0]);
}

TEST(RngDeathTest, ZeroBoundIsABug) {
  Rng rng(1);
  EXPECT_DEATH(rng.Uniform(0), "bound > 0");
}

}  // namespace
}  // namespace raftstore
