// The simulator's virtual clock.
//
// Simulated time is a count of microseconds that only moves when the
// simulator's event loop jumps it to the next event: no wall clock is ever
// read, so a run is a pure function of its seed. Nodes never see this clock
// directly; the simulator turns its passage into Tick() calls on each node.
//
// Thread-safety: none; the simulator is single-threaded by design.
#ifndef RAFTSTORE_SIM_CLOCK_H_
#define RAFTSTORE_SIM_CLOCK_H_

#include <cstdint>

#include "core/base/check.h"

namespace raftstore::sim {

class SimClock {
 public:
  // Starts at time zero.
  SimClock() = default;

  uint64_t now_us() const { return now_us_; }

  // Moves time forward to `time_us`. Requires time_us >= now_us(): simulated
  // time never runs backwards, or event order (and so replay) would break.
  void AdvanceTo(uint64_t time_us) {
    RS_CHECK_GE(time_us, now_us_) << "simulated time must not go backwards";
    now_us_ = time_us;
  }

 private:
  uint64_t now_us_ = 0;
};

}  // namespace raftstore::sim

#endif  // RAFTSTORE_SIM_CLOCK_H_
