#include "core/raft/tracker/inflights.h"

#include <cstddef>
#include <cstdint>
#include <deque>
#include <utility>

#include "gtest/gtest.h"
#include "rapidcheck/gtest.h"

namespace raftstore::raft {
namespace {

TEST(InflightsTest, NewWindowIsEmptyAndAllocatesNothing) {
  Inflights inflights(/*messages_max=*/1000, /*bytes_max=*/0);
  EXPECT_EQ(inflights.Count(), 0u);
  EXPECT_EQ(inflights.Bytes(), 0u);
  EXPECT_FALSE(inflights.Full());
  EXPECT_EQ(inflights.Capacity(), 0u);
}

TEST(InflightsTest, AddCountsMessagesAndBytes) {
  Inflights inflights(/*messages_max=*/10, /*bytes_max=*/0);
  inflights.Add(3, 100);
  inflights.Add(7, 50);
  EXPECT_EQ(inflights.Count(), 2u);
  EXPECT_EQ(inflights.Bytes(), 150u);
  EXPECT_FALSE(inflights.Full());
}

TEST(InflightsTest, FullWhenCountReachesMessagesMax) {
  Inflights inflights(/*messages_max=*/3, /*bytes_max=*/0);
  inflights.Add(1, 1);
  inflights.Add(2, 1);
  EXPECT_FALSE(inflights.Full());
  inflights.Add(3, 1);
  EXPECT_TRUE(inflights.Full());
}

TEST(InflightsTest, FullWhenBytesReachBytesMax) {
  Inflights inflights(/*messages_max=*/100, /*bytes_max=*/1000);
  inflights.Add(1, 600);
  EXPECT_FALSE(inflights.Full());
  inflights.Add(2, 400);  // exactly bytes_max
  EXPECT_TRUE(inflights.Full());
  EXPECT_EQ(inflights.Count(), 2u);
}

TEST(InflightsTest, OneAppendMayOvershootBytesMax) {
  Inflights inflights(/*messages_max=*/100, /*bytes_max=*/1000);
  inflights.Add(1, 999);
  EXPECT_FALSE(inflights.Full());
  inflights.Add(2, 5000);
  EXPECT_TRUE(inflights.Full());
  EXPECT_EQ(inflights.Bytes(), 5999u);
  // Freeing the big append brings the window back under the limit.
  inflights.FreeLE(2);
  EXPECT_FALSE(inflights.Full());
  EXPECT_EQ(inflights.Bytes(), 0u);
}

TEST(InflightsTest, ZeroBytesMaxMeansNoByteLimit) {
  Inflights inflights(/*messages_max=*/2, /*bytes_max=*/0);
  inflights.Add(1, UINT64_MAX / 2);
  EXPECT_FALSE(inflights.Full());
}

TEST(InflightsTest, FreeLEFreesThePrefixUpToIndex) {
  Inflights inflights(/*messages_max=*/10, /*bytes_max=*/0);
  inflights.Add(2, 10);
  inflights.Add(4, 20);
  inflights.Add(6, 30);
  inflights.FreeLE(4);
  EXPECT_EQ(inflights.Count(), 1u);
  EXPECT_EQ(inflights.Bytes(), 30u);
  // An index between two appends frees only those at or below it.
  inflights.Add(9, 40);
  inflights.FreeLE(8);
  EXPECT_EQ(inflights.Count(), 1u);
  EXPECT_EQ(inflights.Bytes(), 40u);
}

TEST(InflightsTest, FreeLEBelowOldestFreesNothing) {
  Inflights inflights(/*messages_max=*/10, /*bytes_max=*/0);
  inflights.Add(5, 10);
  inflights.FreeLE(4);
  inflights.FreeLE(0);
  EXPECT_EQ(inflights.Count(), 1u);
  EXPECT_EQ(inflights.Bytes(), 10u);
}

TEST(InflightsTest, FreeLEBeyondAllEmptiesTheWindow) {
  Inflights inflights(/*messages_max=*/4, /*bytes_max=*/0);
  for (uint64_t i = 1; i <= 4; ++i) inflights.Add(i, 10);
  ASSERT_TRUE(inflights.Full());
  inflights.FreeLE(UINT64_MAX);
  EXPECT_EQ(inflights.Count(), 0u);
  EXPECT_EQ(inflights.Bytes(), 0u);
  EXPECT_FALSE(inflights.Full());
  // The window keeps working afterwards, in order from where it left off.
  inflights.Add(5, 1);
  EXPECT_EQ(inflights.Count(), 1u);
}

TEST(InflightsTest, FreeFirstOneFreesOnlyTheOldest) {
  Inflights inflights(/*messages_max=*/3, /*bytes_max=*/0);
  inflights.Add(1, 10);
  inflights.Add(2, 20);
  inflights.Add(3, 30);
  inflights.FreeFirstOne();
  EXPECT_EQ(inflights.Count(), 2u);
  EXPECT_EQ(inflights.Bytes(), 50u);
  EXPECT_FALSE(inflights.Full());
}

TEST(InflightsTest, RingWrapsAroundAndKeepsOrder) {
  Inflights inflights(/*messages_max=*/4, /*bytes_max=*/0);
  for (uint64_t i = 1; i <= 4; ++i) inflights.Add(i, i);
  ASSERT_EQ(inflights.Capacity(), 4u);
  // Free two at the front and add two more: they land at the start of the
  // buffer, behind the two survivors at its end.
  inflights.FreeLE(2);
  inflights.Add(5, 5);
  inflights.Add(6, 6);
  EXPECT_TRUE(inflights.Full());
  EXPECT_EQ(inflights.Bytes(), 3u + 4u + 5u + 6u);
  EXPECT_EQ(inflights.Capacity(), 4u);
  // Freeing across the wrap point removes exactly the right appends.
  inflights.FreeLE(5);
  EXPECT_EQ(inflights.Count(), 1u);
  EXPECT_EQ(inflights.Bytes(), 6u);
  // Wrap around many more times, always at most four in flight.
  for (uint64_t i = 7; i <= 100; ++i) {
    inflights.Add(i, 1);
    inflights.FreeLE(i - 2);
    ASSERT_LE(inflights.Count(), 3u);
  }
  EXPECT_EQ(inflights.Count(), 2u);
  EXPECT_EQ(inflights.Capacity(), 4u);
}

TEST(InflightsTest, GrowsLazilyAndNeverBeyondMessagesMax) {
  Inflights inflights(/*messages_max=*/10, /*bytes_max=*/0);
  inflights.Add(1, 1);
  EXPECT_GT(inflights.Capacity(), 0u);
  EXPECT_LT(inflights.Capacity(), 10u);
  for (uint64_t i = 2; i <= 10; ++i) {
    inflights.Add(i, 1);
    ASSERT_GE(inflights.Capacity(), inflights.Count());
    ASSERT_LE(inflights.Capacity(), 10u);
  }
  EXPECT_TRUE(inflights.Full());
  EXPECT_EQ(inflights.Capacity(), 10u);
}

TEST(InflightsTest, GrowingAWrappedRingKeepsOrder) {
  Inflights inflights(/*messages_max=*/16, /*bytes_max=*/0);
  // Fill the first four slots, free two and add two so the ring wraps, then
  // add a fifth to force growth while wrapped.
  for (uint64_t i = 1; i <= 4; ++i) inflights.Add(i, 10 * i);
  ASSERT_EQ(inflights.Capacity(), 4u);
  inflights.FreeLE(2);
  inflights.Add(5, 50);
  inflights.Add(6, 60);
  inflights.Add(7, 70);
  EXPECT_GT(inflights.Capacity(), 4u);
  EXPECT_EQ(inflights.Count(), 5u);
  // Each FreeLE must free exactly the appends at or below it, oldest first.
  inflights.FreeLE(4);
  EXPECT_EQ(inflights.Count(), 3u);
  EXPECT_EQ(inflights.Bytes(), 50u + 60u + 70u);
  inflights.FreeLE(6);
  EXPECT_EQ(inflights.Count(), 1u);
  EXPECT_EQ(inflights.Bytes(), 70u);
}

TEST(InflightsTest, MessagesMaxOfOneAllocatesOneSlot) {
  Inflights inflights(/*messages_max=*/1, /*bytes_max=*/0);
  inflights.Add(1, 1);
  EXPECT_TRUE(inflights.Full());
  EXPECT_EQ(inflights.Capacity(), 1u);
}

TEST(InflightsTest, ResetEmptiesAndAllowsAnyIndexAgain) {
  Inflights inflights(/*messages_max=*/4, /*bytes_max=*/100);
  inflights.Add(10, 60);
  inflights.Add(11, 60);
  ASSERT_TRUE(inflights.Full());
  const size_t capacity = inflights.Capacity();
  inflights.Reset();
  EXPECT_EQ(inflights.Count(), 0u);
  EXPECT_EQ(inflights.Bytes(), 0u);
  EXPECT_FALSE(inflights.Full());
  EXPECT_EQ(inflights.Capacity(), capacity);  // slots are kept for reuse
  inflights.Add(3, 1);  // lower than before the reset: allowed
  EXPECT_EQ(inflights.Count(), 1u);
}

TEST(InflightsDeathTest, ZeroMessagesMaxIsABug) {
  EXPECT_DEATH(Inflights(0, 0), "messages_max_ > 0");
}

TEST(InflightsDeathTest, AddWhenFullByCountDies) {
  Inflights inflights(/*messages_max=*/2, /*bytes_max=*/0);
  inflights.Add(1, 1);
  inflights.Add(2, 1);
  EXPECT_DEATH(inflights.Add(3, 1), "Add to a full window");
}

TEST(InflightsDeathTest, AddWhenFullByBytesDies) {
  Inflights inflights(/*messages_max=*/10, /*bytes_max=*/10);
  inflights.Add(1, 10);
  EXPECT_DEATH(inflights.Add(2, 1), "Add to a full window");
}

TEST(InflightsDeathTest, OutOfOrderAddDies) {
  Inflights inflights(/*messages_max=*/10, /*bytes_max=*/0);
  inflights.Add(5, 1);
  EXPECT_DEATH(inflights.Add(5, 1), "appends must be added in order");
  EXPECT_DEATH(inflights.Add(4, 1), "appends must be added in order");
}

TEST(InflightsDeathTest, OutOfOrderAddDiesEvenAfterWindowDrains) {
  Inflights inflights(/*messages_max=*/10, /*bytes_max=*/0);
  inflights.Add(5, 1);
  inflights.FreeLE(5);
  EXPECT_DEATH(inflights.Add(3, 1), "appends must be added in order");
}

TEST(InflightsDeathTest, IndexZeroIsNotAnAppend) {
  Inflights inflights(/*messages_max=*/10, /*bytes_max=*/0);
  EXPECT_DEATH(inflights.Add(0, 1), "appends must be added in order");
}

TEST(InflightsDeathTest, FreeFirstOneOnEmptyDies) {
  Inflights inflights(/*messages_max=*/10, /*bytes_max=*/0);
  EXPECT_DEATH(inflights.FreeFirstOne(), "nothing in flight");
}

// A reference model: the appends in flight, oldest first, in a deque.
struct Model {
  std::deque<std::pair<uint64_t, uint64_t>> appends;  // (last_index, bytes)
  uint64_t bytes = 0;

  bool Full(size_t messages_max, uint64_t bytes_max) const {
    return appends.size() >= messages_max ||
           (bytes_max > 0 && bytes >= bytes_max);
  }
  void FreeFront() {
    bytes -= appends.front().second;
    appends.pop_front();
  }
};

RC_GTEST_PROP(InflightsProperty, MatchesADequeModel, ()) {
  const size_t messages_max = *rc::gen::inRange<size_t>(1, 17);
  const uint64_t bytes_max = *rc::gen::inRange<uint64_t>(0, 200);
  const int steps = *rc::gen::inRange(0, 300);
  Inflights inflights(messages_max, bytes_max);
  Model model;
  uint64_t last_index = 0;
  for (int step = 0; step < steps; ++step) {
    const int op = *rc::gen::inRange(0, 10);
    if (op < 6) {  // Add, the common case, when the window has room.
      if (model.Full(messages_max, bytes_max)) continue;
      last_index += *rc::gen::inRange<uint64_t>(1, 4);
      const uint64_t bytes = *rc::gen::inRange<uint64_t>(0, 60);
      inflights.Add(last_index, bytes);
      model.appends.emplace_back(last_index, bytes);
      model.bytes += bytes;
    } else if (op < 9) {  // FreeLE, anywhere from 0 to just past the newest.
      const uint64_t index = *rc::gen::inRange<uint64_t>(0, last_index + 3);
      inflights.FreeLE(index);
      while (!model.appends.empty() && model.appends.front().first <= index) {
        model.FreeFront();
      }
    } else if (!model.appends.empty()) {
      inflights.FreeFirstOne();
      model.FreeFront();
    }
    RC_ASSERT(inflights.Count() == model.appends.size());
    RC_ASSERT(inflights.Bytes() == model.bytes);
    RC_ASSERT(inflights.Full() == model.Full(messages_max, bytes_max));
    RC_ASSERT(inflights.Capacity() <= messages_max);
    RC_ASSERT(inflights.Capacity() >= inflights.Count());
  }
}

}  // namespace
}  // namespace raftstore::raft
