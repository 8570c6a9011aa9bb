// Running store-mode seeds (sim/store_cluster.h): the options of a seed with
// command-line overrides on top, the command that replays a run, and
// shrinking of a failing fault schedule (the delta debugging of
// sim/runner.h, over store-mode runs).
//
// Thread-safety: none.
#ifndef RAFTSTORE_SIM_STORE_RUNNER_H_
#define RAFTSTORE_SIM_STORE_RUNNER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "sim/fault_schedule.h"
#include "sim/runner.h"
#include "sim/store_cluster.h"
#include "sim/store_options.h"

namespace raftstore::sim {

// The single-group mode's overrides (--nodes is the store count) plus the
// store mode's own.
struct StoreSimOverrides {
  SimOverrides base;
  std::optional<int> regions;

  // The flags that reproduce these overrides, starting with " --store".
  std::string ToFlags() const;
};

// The store-mode options of `seed` with `overrides` applied.
// kInvalidArgument naming the option when the result is not valid.
absl::StatusOr<StoreSimOptions> StoreOptionsForSeed(
    uint64_t seed, const StoreSimOverrides& overrides);

// The schedule a run uses: the overrides' if given, else the seed's draw.
std::vector<FaultEvent> StoreScheduleFor(const StoreSimOptions& options,
                                         const StoreSimOverrides& overrides);

// `raftstore sim --store --seed S ...` reproducing this run exactly.
std::string StoreReplayCommand(uint64_t seed,
                               const StoreSimOverrides& overrides);

// Minimises a failing store-mode schedule (ShrinkFaultsWith).
ShrinkResult ShrinkStoreFaults(const StoreSimOptions& options,
                               std::vector<FaultEvent> faults,
                               int runs_max = 100);

}  // namespace raftstore::sim

#endif  // RAFTSTORE_SIM_STORE_RUNNER_H_
