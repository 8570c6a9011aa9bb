// Running seeds: options drawn per seed with command-line overrides on top,
// the replay command of a failure, and shrinking of a failing schedule.
//
// Shrinking is delta debugging (Zeller and Hildebrandt, "Simplifying and
// Isolating Failure-Inducing Input", 2002) over the seed's recorded fault
// events: everything else about the seed (options, network noise, node and
// client randomness) stays fixed, so removing events keeps the rest of the
// run as similar as the changed faults allow. A candidate schedule counts as
// still failing if the run fails at all (any checker); the search is bounded
// by `runs_max` runs.
//
// Thread-safety: none.
#ifndef RAFTSTORE_SIM_RUNNER_H_
#define RAFTSTORE_SIM_RUNNER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "sim/cluster.h"
#include "sim/fault_schedule.h"
#include "sim/options.h"

namespace raftstore::sim {

// Options set by hand on the command line, applied after the seed's draw.
struct SimOverrides {
  std::optional<int> nodes;
  std::optional<uint64_t> ticks;
  std::optional<int> clients;
  std::optional<double> crash_per_s;
  std::optional<double> partition_per_s;
  std::optional<double> pause_per_s;
  std::optional<double> clog_per_s;
  std::optional<uint32_t> drop_per_million;
  std::optional<uint32_t> duplicate_per_million;
  // CheckQuorum on or off (off also turns lease reads off).
  std::optional<bool> check_quorum;
  // Every fault and all network noise off (a clean run).
  bool no_faults = false;
  // Replaces the drawn schedule (from --faults, or a shrunk one).
  std::optional<std::vector<FaultEvent>> faults;

  // The flags that reproduce these overrides, e.g. " --nodes=5 --ticks=500".
  std::string ToFlags() const;
};

// The options of `seed` with `overrides` applied. kInvalidArgument naming
// the option when the result is not valid.
absl::StatusOr<SimOptions> OptionsForSeed(uint64_t seed,
                                          const SimOverrides& overrides);

// The schedule a run of `options` uses: the overrides' if given, else the
// seed's draw.
std::vector<FaultEvent> ScheduleFor(const SimOptions& options,
                                    const SimOverrides& overrides);

// `raftstore sim --seed S ...` reproducing this run exactly.
std::string ReplayCommand(uint64_t seed, const SimOverrides& overrides);

struct ShrinkResult {
  std::vector<FaultEvent> faults;
  int runs = 0;
  RunResult last_failure;
};

// Minimises `faults` (which make `options` fail) while the run keeps
// failing, within runs_max runs.
ShrinkResult ShrinkFaults(const SimOptions& options,
                          std::vector<FaultEvent> faults, int runs_max = 200);

// The same search with the run supplied by the caller (for a cluster set up
// differently, as the injected-bug tests do).
ShrinkResult ShrinkFaultsWith(
    std::vector<FaultEvent> faults,
    absl::FunctionRef<RunResult(const std::vector<FaultEvent>&)> run,
    int runs_max = 200);

}  // namespace raftstore::sim

#endif  // RAFTSTORE_SIM_RUNNER_H_
