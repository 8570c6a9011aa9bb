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

  // The receiver of a handler event: an object that runs many events of
  // one kind, told apart by a number (the network's message deliveries).
  // Such an event stores no callable, so it costs less than a Callback.
  class Handler {
   public:
    virtual void RunEvent(uint64_t arg) = 0;

   protected:
    ~Handler() = default;
  };

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
    Push(Key{Order(at_us), nullptr, slot});
  }

  // Runs handler->RunEvent(arg) at `at_us` (>= now), in the same (time,
  // schedule order) as every other event. `handler` must outlive the
  // event. Crashes past events_max.
  void ScheduleAt(uint64_t at_us, Handler* handler, uint64_t arg) {
    RS_CHECK_GE(at_us, clock_->now_us()) << "event scheduled in the past";
    RS_CHECK_LT(heap_.size(), events_max_)
        << "simulator event queue is full; something schedules without bound";
    RS_CHECK(handler != nullptr);
    Push(Key{Order(at_us), handler, arg});
  }

  void ScheduleAfter(uint64_t delay_us, Callback callback) {
    ScheduleAt(clock_->now_us() + delay_us, std::move(callback));
  }

  bool empty() const { return heap_.empty(); }
  size_t size() const { return heap_.size(); }

  // The time of the next event. Requires !empty().
  uint64_t next_time_us() const {
    RS_CHECK(!heap_.empty());
    return AtUs(heap_.front());
  }

  // Pops the earliest event, advances the clock to it and runs it. Returns
  // false when the queue is empty.
  bool RunNext() {
    if (heap_.empty()) return false;
    std::pop_heap(heap_.begin(), heap_.end(), Later{});
    const Key key = heap_.back();
    heap_.pop_back();
    clock_->AdvanceTo(AtUs(key));
    ++events_run_;
    if (key.handler != nullptr) {
      key.handler->RunEvent(key.arg);
      return true;
    }
    // Moved out before it runs: the callback may schedule events, which can
    // reuse its slot or grow callbacks_.
    const auto slot = static_cast<uint32_t>(key.arg);
    Callback callback = std::move(callbacks_[slot]);
    free_slots_.push_back(slot);
    callback();
    return true;
  }

  // Events run so far.
  uint64_t events_run() const { return events_run_; }

 private:
  // The heap holds small keys only; the callbacks stay put in their slots,
  // so sifting moves 32-byte values instead of callables.
  struct Key {
    // at_us in the high 64 bits, the schedule sequence in the low 64: one
    // comparison orders by (time, schedule order), without a branch.
    unsigned __int128 order;
    Handler* handler;  // nullptr for a Callback event
    uint64_t arg;      // the handler's argument, or the callback's slot
  };

  unsigned __int128 Order(uint64_t at_us) {
    return (static_cast<unsigned __int128>(at_us) << 64) | next_sequence_++;
  }
  static uint64_t AtUs(const Key& key) {
    return static_cast<uint64_t>(key.order >> 64);
  }

  void Push(const Key& key) {
    heap_.push_back(key);
    std::push_heap(heap_.begin(), heap_.end(), Later{});
  }
  // Orders the heap so that front() is the earliest (time, sequence).
  struct Later {
    bool operator()(const Key& a, const Key& b) const {
      return a.order > b.order;
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
