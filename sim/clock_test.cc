#include "sim/clock.h"

#include "gtest/gtest.h"

namespace raftstore::sim {
namespace {

TEST(SimClockTest, StartsAtZeroAndAdvances) {
  SimClock clock;
  EXPECT_EQ(clock.now_us(), 0u);
  clock.AdvanceTo(1500);
  EXPECT_EQ(clock.now_us(), 1500u);
  clock.AdvanceTo(1500);  // several events may share one instant
  EXPECT_EQ(clock.now_us(), 1500u);
}

TEST(SimClockDeathTest, GoingBackwardsIsABug) {
  SimClock clock;
  clock.AdvanceTo(10);
  EXPECT_DEATH(clock.AdvanceTo(9), "must not go backwards");
}

}  // namespace
}  // namespace raftstore::sim
