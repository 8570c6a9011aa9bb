#include "transport/backoff.h"

#include <cstdint>

#include "core/base/rng.h"
#include "gtest/gtest.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"

namespace raftstore::transport {
namespace {

uint64_t Nominal(uint64_t failures, uint64_t min_ms, uint64_t max_ms) {
  uint64_t nominal = min_ms;
  for (uint64_t i = 1; i < failures && nominal < max_ms; ++i) {
    nominal = std::min(max_ms, nominal * 2);
  }
  return nominal;
}

RC_GTEST_PROP(BackoffProperty, DelayIsBetweenHalfAndAllOfTheNominalDelay, ()) {
  const uint64_t min_ms = *rc::gen::inRange<uint64_t>(1, 10'000);
  const uint64_t max_ms = min_ms + *rc::gen::inRange<uint64_t>(0, 1'000'000);
  const uint64_t failures = *rc::gen::inRange<uint64_t>(1, 200);
  Rng rng(*rc::gen::arbitrary<uint64_t>());
  const uint64_t nominal = Nominal(failures, min_ms, max_ms);
  const uint64_t delay = BackoffDelayMs(failures, min_ms, max_ms, rng);
  RC_ASSERT(delay >= nominal / 2);
  RC_ASSERT(delay <= nominal);
  RC_ASSERT(delay <= max_ms);
}

TEST(BackoffTest, DoublesUpToTheMaximum) {
  Rng rng(1);
  uint64_t highest = 0;
  for (uint64_t failures = 1; failures <= 12; ++failures) {
    const uint64_t delay = BackoffDelayMs(failures, 100, 5'000, rng);
    EXPECT_GE(delay, Nominal(failures, 100, 5'000) / 2) << failures;
    highest = std::max(highest, delay);
  }
  EXPECT_GT(highest, 2'500u);
  EXPECT_LE(highest, 5'000u);
}

TEST(BackoffTest, HugeFailureCountsAndBoundsDoNotOverflow) {
  Rng rng(2);
  const uint64_t max = ~uint64_t{0};
  const uint64_t delay = BackoffDelayMs(~uint64_t{0}, 1, max, rng);
  EXPECT_GE(delay, max / 2);
}

TEST(BackoffTest, JitterSpreadsPeersThatFailedTogether) {
  Rng rng(3);
  uint64_t low = ~uint64_t{0};
  uint64_t high = 0;
  for (int i = 0; i < 100; ++i) {
    const uint64_t delay = BackoffDelayMs(3, 100, 5'000, rng);
    low = std::min(low, delay);
    high = std::max(high, delay);
  }
  EXPECT_LT(low, 250u);
  EXPECT_GT(high, 350u);
}

}  // namespace
}  // namespace raftstore::transport
