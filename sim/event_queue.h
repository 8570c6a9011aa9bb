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

#include <algorithm>
#include <cstddef>
#include <cstdint>
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
    uint32_t slot = 0;
    if (free_slots_.empty()) {
      slot = static_cast<uint32_t>(callbacks_.size());
      callbacks_.push_back(std::move(callback));
    } else {
      slot = free_slots_.back();
      free_slots_.pop_back();
      callbacks_[slot] = std::move(callback);
    }
    heap_.push_back(Key{at_us, next_sequence_++, slot});
    std::push_heap(heap_.begin(), heap_.end(), Later{});
  }

  void ScheduleAfter(uint64_t delay_us, Callback callback) {
    ScheduleAt(clock_->now_us() + delay_us, std::move(callback));
  }

  bool empty() const { return heap_.empty(); }
  size_t size() const { return heap_.size(); }

  // The time of the next event. Requires !empty().
  uint64_t next_time_us() const {
    RS_CHECK(!heap_.empty());
    return heap_.front().at_us;
  }

  // Pops the earliest event, advances the clock to it and runs it. Returns
  // false when the queue is empty.
  bool RunNext() {
    if (heap_.empty()) return false;
    std::pop_heap(heap_.begin(), heap_.end(), Later{});
    const Key key = heap_.back();
    heap_.pop_back();
    // Moved out before it runs: the callback may schedule events, which can
    // reuse its slot or grow callbacks_.
    Callback callback = std::move(callbacks_[key.slot]);
    free_slots_.push_back(key.slot);
    clock_->AdvanceTo(key.at_us);
    ++events_run_;
    callback();
    return true;
  }

  // Events run so far.
  uint64_t events_run() const { return events_run_; }

 private:
  // The heap holds small keys only; the callbacks stay put in their slots,
  // so sifting moves 24-byte values instead of callables.
  struct Key {
    uint64_t at_us;
    uint64_t sequence;
    uint32_t slot;
  };
  // Orders the heap so that front() is the earliest (time, sequence).
  struct Later {
    bool operator()(const Key& a, const Key& b) const {
      if (a.at_us != b.at_us) return a.at_us > b.at_us;
      return a.sequence > b.sequence;
    }
  };

  SimClock* clock_;
  size_t events_max_;
  uint64_t next_sequence_ = 0;
  uint64_t events_run_ = 0;
  std::vector<Key> heap_;
  // Slot i holds the callback of the pending event whose key names i; a
  // slot is reused once its event has run (at most events_max in use).
  std::vector<Callback> callbacks_;
  std::vector<uint32_t> free_slots_;
};

}  // namespace raftstore::sim

#endif  // RAFTSTORE_SIM_EVENT_QUEUE_H_
