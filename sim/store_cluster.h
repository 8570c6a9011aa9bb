// One store-mode simulation run: N whole stores (sim/store_node.h) holding
// several regions, workload clients on the client library
// (sim/store_client.h), the admin nemesis (sim/store_nemesis.h), the
// SimNetwork carrying RaftMessageBatches between stores and requests and
// replies between clients and stores, the seed's fault schedule, and every
// checker, over one EventQueue. The single-group mode (sim/cluster.h) is
// untouched: this is a second mode beside it.
//
// Phases of Run():
//   1. Faulty phase, `ticks` ticks long: clients issue operations, the
//      nemesis splits regions, changes their membership and moves their
//      leaders, while the fault schedule crashes, restarts, pauses,
//      partitions and clogs stores and slows or fills their disks.
//   2. Liveness: every fault is lifted (heal, restart, resume, free disks,
//      stop media faults); every region must elect a leader and commit a
//      fresh write within LivenessTicks() ticks.
//   3. Drain: clients finish their operations; every workload key is read
//      once more (a lost acknowledged write shows up as a read the
//      linearizability checker cannot explain); every replica catches up.
//   4. Verdicts: raft safety per region (checked on every step,
//      sim/store_checker.h), a clean disk that failed to recover,
//      linearizability of the history (per key, scans projected to per-key
//      reads), liveness, replica convergence (every member replica of
//      every region on a running store reaches its leader's applied index
//      with the same KV digest), and the key space (the regions' ranges
//      tile it, with no gap or overlap).
//
// Determinism: everything is drawn from the seed's Rng, forked in a fixed
// order (options, store options, faults, network, nemesis, stores, clients,
// the tools client); the trace hash covers every event.
//
// Thread-safety: none; one run, one thread.
#ifndef RAFTSTORE_SIM_STORE_CLUSTER_H_
#define RAFTSTORE_SIM_STORE_CLUSTER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/base/rng.h"
#include "proto/region.pb.h"
#include "sim/clock.h"
#include "sim/cluster.h"
#include "sim/event_queue.h"
#include "sim/fault_schedule.h"
#include "sim/history/history.h"
#include "sim/network/sim_network.h"
#include "sim/store_checker.h"
#include "sim/store_client.h"
#include "sim/store_nemesis.h"
#include "sim/store_node.h"
#include "sim/store_options.h"
#include "sim/trace.h"

namespace raftstore::sim {

struct StoreRunResult {
  // Seed, time, events, trace hash, operations, faults, violations (raft
  // safety, recovery, liveness, convergence, event budget), the
  // linearizability verdict. base.commit_index_max holds the entries the
  // checkers saw applied (over all regions).
  RunResult base;
  int stores = 0;
  size_t regions_start = 0;
  size_t regions_end = 0;
  NemesisStats admin;
  uint64_t restarts = 0;
  uint64_t disks_lost = 0;
  bool convergence_ok = true;

  bool ok() const { return base.ok() && convergence_ok; }
  // One line: seed, simulated time, ops, faults, regions, admin commands,
  // verdicts, trace hash.
  std::string Summary() const;
};

class StoreCluster {
 public:
  // As Cluster's (sim/cluster.h): a run that stops making progress (an
  // operation invoked or an entry applied) fails with "event budget".
  static constexpr uint64_t kEventsWithoutProgressMax = 2'000'000;
  static constexpr uint64_t kEventsPerProgressMax = 400;
  static constexpr uint64_t kEventsPerRunMax = 40'000'000;

  StoreCluster(const StoreSimOptions& options, std::vector<FaultEvent> faults,
               bool keep_trace);
  StoreCluster(const StoreCluster&) = delete;
  StoreCluster& operator=(const StoreCluster&) = delete;
  ~StoreCluster();

  StoreRunResult Run();

#ifdef RAFTSTORE_STORE_DRIVER_BUGS
  // Test builds only: every store's driver runs with `bug`.
  void set_driver_bug(StoreDriverBug bug) {
    for (auto& node : nodes_) node->set_driver_bug(bug);
  }
#endif

  const Trace& trace() const { return trace_; }
  const History& history() const { return history_; }

 private:
  int endpoint_count() const { return NetworkEndpoints(kNodeCountMax); }
  int tools_endpoint() const {
    return options_.base.node_count + kClientCountMax;
  }
  void Deliver(int from, int to, Payload&& payload);
  // With a text trace: one line per raft message of a delivered batch.
  void TraceBatch(int from, int to, const Payload& payload);
  void ApplyFault(const FaultEvent& fault);
  void ApplyPartition(uint64_t shape);
  void RestartLater(int store, uint64_t delay_us);
  // The store leading the most regions now (0 if none leads any).
  uint64_t BusiestLeader() const;
  // Runs events until `until_us` or until `done` holds, checked every
  // `check_us` of virtual time. Returns whether `done` held.
  template <typename Done>
  bool RunUntil(uint64_t until_us, uint64_t check_us, Done done);
  bool OverBudget() const;
  void LiftAllFaults();
  bool CheckLiveness();
  // Issues a put into every region (one client each, side by side) and
  // waits; true when all committed by `deadline_us`.
  bool WriteEveryRegion(uint64_t deadline_us);
  bool EveryRegionLed() const;
  void Drain();
  // Whether every region's member replicas caught up with its leader;
  // `detail` says which did not.
  bool Converged(std::string* detail) const;
  // Whether the live regions' ranges (their leaders' metas) tile the whole
  // key space; `detail` says where they do not.
  bool CoversKeySpace(std::string* detail) const;
  void CheckConvergence(StoreRunResult& result);
  // With a text trace: every region on every store, for a failure report.
  void TraceRegions();
  uint64_t ElectionUs() const;

  StoreSimOptions options_;
  std::vector<FaultEvent> faults_;
  SimClock clock_;
  EventQueue events_;
  Trace trace_;
  StoreChecker checker_;
  History history_;
  std::vector<meta::Region> bootstrap_regions_;
  std::unique_ptr<SimNetwork> network_;
  std::vector<std::unique_ptr<SimStoreNode>> nodes_;
  std::unique_ptr<StoreNemesis> nemesis_;
  std::vector<std::unique_ptr<SimStoreClient>> clients_;
  // The liveness writes and the drain's reads.
  std::unique_ptr<SimKvEndpoint> tools_;
  uint64_t faults_applied_ = 0;
  bool budget_exhausted_ = false;
  std::string liveness_detail_;
};

// Runs one seed's store mode with the given options and schedule.
StoreRunResult RunStoreSeed(const StoreSimOptions& options,
                            const std::vector<FaultEvent>& faults,
                            bool keep_trace, std::string* trace_text = nullptr,
                            std::vector<Operation>* history = nullptr);

// The fault schedule the seed draws for `options` (its own stream).
std::vector<FaultEvent> DrawStoreFaults(const StoreSimOptions& options);

// The bootstrap regions: `count` regions splitting the workload's key space
// evenly, each with kStoreReplicasMin voters on stores chosen round-robin
// among `stores`; peer id region * 100 + store; epoch {1, 1}.
std::vector<meta::Region> BootstrapRegions(int count, int stores,
                                           int key_count);

}  // namespace raftstore::sim

#endif  // RAFTSTORE_SIM_STORE_CLUSTER_H_
