// The simulator's event loop: a queue of callbacks ordered by virtual time.
//
// Events run strictly in (time, schedule order): two events due at the same
// microsecond run in the order they were scheduled, so a run never depends on
// heap layout or pointer values. Running an event first jumps the SimClock to
// its time; nothing else moves the clock. The queue is bounded
// (events_max): a simulation that schedules without limit is a bug in the
// harness, and it stops with a message rather than eating the machine.
//
// Thread-safety: none; the simulator is single-threaded by design.
#ifndef RAFTSTORE_SIM_EVENT_QUEUE_H_
#define RAFTSTORE_SIM_EVENT_QUEUE_H_

#include <cstddef>
#include <cstdint>
#include <queue>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "core/base/check.h"
#include "sim/clock.h"

namespace raftstore::sim {

class EventQueue {
 public:
  using Callback = absl::AnyInvocable<void()>;

  // Default bound on pending events; a 7-node cluster under heavy load keeps
  // a few thousand.
  static constexpr size_t kEventsMaxDefault = 1 << 20;

  // `clock` must outlive the queue.
  explicit EventQueue(SimClock* clock, size_t events_max = kEventsMaxDefault)
      : clock_(clock), events_max_(events_max) {
    RS_CHECK(clock_ != nullptr);
    RS_CHECK_GT(events_max_, 0U);
  }

  const SimClock& clock() const { return *clock_; }
  uint64_t now_us() const { return clock_->now_us(); }

  // Runs `callback` at `at_us` (>= now). Crashes past events_max.
  void ScheduleAt(uint64_t at_us, Callback callback) {
    RS_CHECK_GE(at_us, clock_->now_us()) << "event scheduled in the past";
    RS_CHECK_LT(heap_.size(), events_max_)
        << "simulator event queue is full; something schedules without bound";
    heap_.push(Event{at_us, next_sequence_++, std::move(callback)});
  }

  void ScheduleAfter(uint64_t delay_us, Callback callback) {
    ScheduleAt(clock_->now_us() + delay_us, std::move(callback));
  }

  bool empty() const { return heap_.empty(); }
  size_t size() const { return heap_.size(); }

  // The time of the next event. Requires !empty().
  uint64_t next_time_us() const {
    RS_CHECK(!heap_.empty());
    return heap_.top().at_us;
  }

  // Pops the earliest event, advances the clock to it and runs it. Returns
  // false when the queue is empty.
  bool RunNext() {
    if (heap_.empty()) return false;
    // priority_queue::top is const; the callback is moved out through a
    // const_cast of an element that is popped immediately after, which is
    // safe because the heap order depends only on (at_us, sequence).
    Event& top = const_cast<Event&>(heap_.top());
    Callback callback = std::move(top.callback);
    const uint64_t at_us = top.at_us;
    heap_.pop();
    clock_->AdvanceTo(at_us);
    ++events_run_;
    callback();
    return true;
  }

  // Events run so far.
  uint64_t events_run() const { return events_run_; }

 private:
  struct Event {
    uint64_t at_us;
    uint64_t sequence;
    Callback callback;
  };
  // Orders the heap so that top() is the earliest (time, sequence).
  struct Later {
    bool operator()(const Event& a, const Event& b) const {
      if (a.at_us != b.at_us) return a.at_us > b.at_us;
      return a.sequence > b.sequence;
    }
  };

  SimClock* clock_;
  size_t events_max_;
  uint64_t next_sequence_ = 0;
  uint64_t events_run_ = 0;
  std::priority_queue<Event, std::vector<Event>, Later> heap_;
};

}  // namespace raftstore::sim

#endif  // RAFTSTORE_SIM_EVENT_QUEUE_H_
