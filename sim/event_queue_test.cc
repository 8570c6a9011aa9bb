#include "sim/event_queue.h"

#include <vector>

#include "gtest/gtest.h"
#include "sim/clock.h"

namespace raftstore::sim {
namespace {

TEST(EventQueueTest, RunsEventsInTimeOrderAndAdvancesTheClock) {
  SimClock clock;
  EventQueue queue(&clock);
  std::vector<int> order;
  std::vector<uint64_t> times;
  queue.ScheduleAt(30, [&] {
    order.push_back(3);
    times.push_back(clock.now_us());
  });
  queue.ScheduleAt(10, [&] {
    order.push_back(1);
    times.push_back(clock.now_us());
  });
  queue.ScheduleAt(20, [&] {
    order.push_back(2);
    times.push_back(clock.now_us());
  });
  while (queue.RunNext()) {
  }
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(times, (std::vector<uint64_t>{10, 20, 30}));
  EXPECT_EQ(queue.events_run(), 3U);
}

TEST(EventQueueTest, SameTimeEventsRunInScheduleOrder) {
  SimClock clock;
  EventQueue queue(&clock);
  std::vector<int> order;
  for (int i = 0; i < 100; ++i) {
    queue.ScheduleAt(5, [&order, i] { order.push_back(i); });
  }
  while (queue.RunNext()) {
  }
  ASSERT_EQ(order.size(), 100U);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(order[i], i);
}

TEST(EventQueueTest, EventsMayScheduleMoreEvents) {
  SimClock clock;
  EventQueue queue(&clock);
  int fired = 0;
  queue.ScheduleAt(1, [&] {
    ++fired;
    queue.ScheduleAfter(4, [&] { ++fired; });
  });
  EXPECT_TRUE(queue.RunNext());
  EXPECT_EQ(queue.next_time_us(), 5U);
  EXPECT_TRUE(queue.RunNext());
  EXPECT_FALSE(queue.RunNext());
  EXPECT_EQ(fired, 2);
  EXPECT_EQ(clock.now_us(), 5U);
}

// Handler events and callbacks share one order: (time, schedule order).
TEST(EventQueueTest, HandlerEventsInterleaveWithCallbacksInOrder) {
  struct Recorder : EventQueue::Handler {
    explicit Recorder(std::vector<int>* order) : order(order) {}
    void RunEvent(uint64_t arg) override {
      order->push_back(static_cast<int>(arg));
    }
    std::vector<int>* order;
  };
  SimClock clock;
  EventQueue queue(&clock);
  std::vector<int> order;
  Recorder recorder(&order);
  queue.ScheduleAt(20, &recorder, 4);
  queue.ScheduleAt(10, [&order] { order.push_back(1); });
  queue.ScheduleAt(10, &recorder, 2);
  queue.ScheduleAt(10, [&order] { order.push_back(3); });
  queue.ScheduleAt(20, [&order, &queue, &recorder] {
    order.push_back(5);
    queue.ScheduleAt(20, &recorder, 6);  // same time, scheduled last
  });
  while (queue.RunNext()) {
  }
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(queue.events_run(), 6U);
  EXPECT_EQ(clock.now_us(), 20U);
}

TEST(EventQueueDeathTest, SchedulingInThePastCrashes) {
  SimClock clock;
  clock.AdvanceTo(10);
  EventQueue queue(&clock);
  EXPECT_DEATH(queue.ScheduleAt(9, [] {}), "in the past");
}

TEST(EventQueueDeathTest, BoundIsEnforced) {
  SimClock clock;
  EventQueue queue(&clock, 2);
  queue.ScheduleAt(1, [] {});
  queue.ScheduleAt(1, [] {});
  EXPECT_DEATH(queue.ScheduleAt(1, [] {}), "queue is full");
}

}  // namespace
}  // namespace raftstore::sim
