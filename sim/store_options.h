// The options of one store-mode simulation run (sim/store_cluster.h), drawn
// from its seed: everything the single-group mode draws (sim/options.h:
// raft timing, workload, network, disk, fault rates), plus what only whole
// stores have: how many stores and initial regions, the admin nemesis's
// rates (splits, membership changes, leader transfers), scans in the
// workload, automatic splits and log GC.
//
// The base options are DrawOptions(seed) (the seed's first fork), so a
// store-mode seed explores the same network, disk and fault corner as the
// single-group seed of the same number; the store options come from the
// seed's second fork, and the store count is then forced to 3 or 5.
//
// Thread-safety: plain values.
#ifndef RAFTSTORE_SIM_STORE_OPTIONS_H_
#define RAFTSTORE_SIM_STORE_OPTIONS_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "sim/options.h"

namespace raftstore::sim {

// Initial regions a run may start with, and the most it lets splits make.
inline constexpr int kStoreRegionCountMax = 8;
inline constexpr int kStoreRegionsMax = 48;
// Stores of a store-mode run (the network is built for kNodeCountMax).
inline constexpr int kStoreCountMin = 3;
// Every region starts with this many voters (on distinct stores), and the
// nemesis never takes a region below it.
inline constexpr int kStoreReplicasMin = 3;

struct StoreSimOptions {
  // base.node_count is the store count. base.corrupt_nodes is at most 1, so
  // media faults hit a minority of every region's (>= 3) replicas.
  SimOptions base;
  // Regions at the start, splitting the workload's keys evenly; each has
  // kStoreReplicasMin voters, on stores chosen round-robin.
  int region_count = 4;
  // The admin nemesis (sim/store_nemesis.h): expected commands per
  // simulated second, each kind off (0) for some seeds. Merges need the two
  // regions' voters on the same stores and no learners (core/store).
  double split_per_s = 0.5;
  double conf_change_per_s = 0.5;
  double transfer_per_s = 0.5;
  double merge_per_s = 0.5;
  // A region's replicas (voters and learners) never exceed this.
  int replicas_max = 5;
  // The relative weight of scans in the workload (next to base.workload's
  // put/get/delete/cas weights).
  uint32_t scan_weight = 1;
  // StoreConfig knobs: automatic split past this many bytes of a region's
  // data (0: off), log GC every this many applied entries.
  uint64_t region_split_bytes = 0;
  uint64_t raft_log_gc_entries_max = 64;
  uint64_t learner_catch_up_entries_max = 64;

  // kInvalidArgument naming the first bad option.
  absl::Status Validate() const;
  // One line: the base's Describe() and the store options.
  std::string Describe() const;
};

// Draws the store-mode options of `seed` (swarm testing). Always valid.
StoreSimOptions DrawStoreOptions(uint64_t seed);

}  // namespace raftstore::sim

#endif  // RAFTSTORE_SIM_STORE_OPTIONS_H_
