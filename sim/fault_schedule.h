// The nemesis: the process and partition faults of one simulation run,
// drawn up front from the seed as an explicit, ordered list of events.
//
// Drawing the schedule before the run (from its own fork of the seed's Rng)
// rather than deciding faults on the fly is what makes shrinking possible:
// any subset of the events can be replayed with everything else about the
// seed unchanged, so delta debugging (Zeller's ddmin) can cut a failing
// schedule down to the few faults that matter, and the result prints as a
// short `--faults` argument. Background noise (message drops, duplicates,
// latency, disk latency) is drawn by the network and disks themselves and is
// not part of the schedule.
//
// Text form, as printed and parsed: events separated by ',', each
// `<time_us>:<kind>[:<node>[:<arg>]]`, for example
// `1200000:crash:2,1700000:restart:2,2500000:partition:0:5`.
//
// Thread-safety: plain values.
#ifndef RAFTSTORE_SIM_FAULT_SCHEDULE_H_
#define RAFTSTORE_SIM_FAULT_SCHEDULE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/base/rng.h"

namespace raftstore::sim {

enum class FaultKind {
  kCrash,        // kill -9 `node`: only what its disk synced survives
  kRestart,      // restart `node` from its disk (no-op if it is up)
  kPause,        // stop `node` (SIGSTOP) for `arg` microseconds
  kPartition,    // split the nodes; `arg` picks the shape (see cluster.cc)
  kHeal,         // remove every partition and clog
  kClog,         // hold every message to and from `node` for `arg` us
  kSlowDisk,     // `node`'s disk is 10x slower for `arg` us
  kDiskFull,     // `node`'s disk refuses writes for `arg` us
  kLeaderCrash,  // crash whichever node leads at that moment
};

std::string_view FaultKindName(FaultKind kind);

struct FaultEvent {
  uint64_t at_us = 0;
  FaultKind kind = FaultKind::kCrash;
  // 1-based node id; 0 where the kind names no node.
  int node = 0;
  uint64_t arg = 0;

  friend bool operator==(const FaultEvent&, const FaultEvent&) = default;
};

// How often each fault is drawn: expected events per simulated second of
// the whole cluster. Zero disables a kind.
struct FaultRates {
  double crash_per_s = 0;
  double pause_per_s = 0;
  double partition_per_s = 0;
  double clog_per_s = 0;
  double slow_disk_per_s = 0;
  double disk_full_per_s = 0;
  // A crashed node restarts after a uniform delay in [min, max].
  uint64_t restart_delay_us_min = 0;
  uint64_t restart_delay_us_max = 0;
  // Pauses, partitions, clogs, slow and full disks last a uniform time in
  // [min, max] (a partition ends with a kHeal event).
  uint64_t fault_duration_us_min = 0;
  uint64_t fault_duration_us_max = 0;
};

// The longest schedule Generate() produces or Parse() accepts.
inline constexpr size_t kFaultEventsMax = 4096;

// Draws the events in [0, duration_us) for nodes 1..node_count, sorted by
// time (ties keep draw order).
std::vector<FaultEvent> GenerateFaults(const FaultRates& rates, int node_count,
                                       uint64_t duration_us, Rng& rng);

std::string FormatFaults(const std::vector<FaultEvent>& events);
// Errors (kInvalidArgument) name the event and what is wrong with it.
absl::StatusOr<std::vector<FaultEvent>> ParseFaults(std::string_view text,
                                                    int node_count);

// One event, readable, for traces: "t=1.200000s crash n2".
std::string DescribeFault(const FaultEvent& event);

}  // namespace raftstore::sim

#endif  // RAFTSTORE_SIM_FAULT_SCHEDULE_H_
