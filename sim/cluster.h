// One simulation run: a raft group of SimNodes, workload clients, the
// SimNetwork, the nemesis schedule, and every checker, over one EventQueue.
//
// Phases of Run():
//   1. Faulty phase, `ticks` ticks long: clients issue operations while the
//      fault schedule crashes, restarts, pauses, partitions and clogs nodes
//      and slows or fills their disks, on top of the network's own noise.
//   2. Liveness: every fault is lifted (heal the network, restart crashed
//      nodes, resume paused ones, free the disks, stop media faults); a
//      leader must emerge and a fresh write must commit within
//      LivenessTicks() ticks.
//   3. Drain: clients finish their operations (each ends ok, fail or
//      unknown), then every replica that is up catches up.
//   4. Verdicts: raft safety (checked on every step, sim/raft_checker.h),
//      linearizability of the client history (sim/history), replica
//      agreement (equal KV digests at equal applied indexes), liveness.
//
// Determinism: everything is drawn from the seed's Rng, forked in a fixed
// order (network, nodes, clients); the trace hash covers every event.
//
// Thread-safety: none; one run, one thread.
#ifndef RAFTSTORE_SIM_CLUSTER_H_
#define RAFTSTORE_SIM_CLUSTER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/base/rng.h"
#include "sim/client.h"
#include "sim/clock.h"
#include "sim/event_queue.h"
#include "sim/fault_schedule.h"
#include "sim/history/history.h"
#include "sim/history/linearizability.h"
#include "sim/network/sim_network.h"
#include "sim/node.h"
#include "sim/options.h"
#include "sim/raft_checker.h"
#include "sim/trace.h"

namespace raftstore::sim {

struct RunResult {
  uint64_t seed = 0;
  uint64_t simulated_us = 0;
  uint64_t events = 0;
  uint64_t trace_hash = 0;
  uint64_t ops_ok = 0;
  uint64_t ops_failed = 0;
  uint64_t ops_unknown = 0;
  // Scheduled faults applied, plus network drops/duplicates and disk media
  // faults injected.
  uint64_t faults_injected = 0;
  uint64_t scheduled_faults = 0;
  uint64_t commit_index_max = 0;
  // Every property that failed, with what and when.
  std::vector<SafetyViolation> violations;
  Verdict linearizability = Verdict::kOk;
  std::string linearizability_summary;
  bool liveness_ok = true;

  bool ok() const {
    return violations.empty() && linearizability != Verdict::kViolation &&
           liveness_ok;
  }
  // One line: seed, simulated time, ops, faults, verdicts.
  std::string Summary() const;
};

class Cluster {
 public:
  // A run stuck in a message storm or livelock stops and fails with an
  // "event budget" violation rather than run for hours: past
  // kEventsWithoutProgressMax events, it must average at least one unit of
  // progress (an operation invoked or an entry applied) per
  // kEventsPerProgressMax events, and it never takes more than
  // kEventsPerRunMax. Passing seeds average about 20 events per unit.
  static constexpr uint64_t kEventsWithoutProgressMax = 2'000'000;
  static constexpr uint64_t kEventsPerProgressMax = 200;
  static constexpr uint64_t kEventsPerRunMax = 30'000'000;

  // `faults` is the nemesis schedule (GenerateFaults of the seed, or a
  // subset while shrinking). With keep_trace the readable trace is kept.
  Cluster(const SimOptions& options, std::vector<FaultEvent> faults,
          bool keep_trace);
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;
  ~Cluster();

  RunResult Run();

#ifdef RAFTSTORE_INJECTED_BUGS
  // Test builds only: every node runs with `bug` (set before Run()).
  void set_injected_bug(raft::InjectedBug bug) {
    for (auto& node : nodes_) node->set_injected_bug(bug);
  }
#endif

  const Trace& trace() const { return trace_; }
  const History& history() const { return history_; }

 private:
  int endpoint_count() const { return NetworkEndpoints(kNodeCountMax); }
  void Deliver(int from, int to, Payload&& payload);
  void ApplyFault(const FaultEvent& fault);
  void ApplyPartition(uint64_t shape);
  void RestartLater(int node, uint64_t delay_us);
  uint64_t Leader() const;
  // Runs events until `until_us` or until `done` holds (checked after each
  // event). Returns whether `done` held.
  template <typename Done>
  bool RunUntil(uint64_t until_us, Done done);
  void LiftAllFaults();
  // Whether the run has spent its event budget (see kEventsPerRunMax).
  bool OverBudget() const;
  bool CheckLiveness();
  void Drain();
  void CheckReplicas(RunResult& result);

  SimOptions options_;
  std::vector<FaultEvent> faults_;
  Rng rng_;
  SimClock clock_;
  EventQueue events_;
  Trace trace_;
  RaftChecker checker_;
  History history_;
  std::unique_ptr<SimNetwork> network_;
  std::vector<std::unique_ptr<SimNode>> nodes_;
  std::vector<std::unique_ptr<SimClient>> clients_;
  // The liveness phase's own client (endpoint node_count + kClientCountMax).
  std::unique_ptr<SimClient> liveness_client_;
  uint64_t faults_applied_ = 0;
  bool budget_exhausted_ = false;
  uint64_t liveness_commit_ticks_ = 0;
};

// Runs one seed with its drawn options and schedule (or the given ones).
RunResult RunSeed(const SimOptions& options,
                  const std::vector<FaultEvent>& faults, bool keep_trace,
                  std::string* trace_text = nullptr,
                  std::vector<Operation>* history = nullptr);

// The schedule a seed draws for `options` (from the seed's own stream).
std::vector<FaultEvent> DrawFaults(const SimOptions& options);

}  // namespace raftstore::sim

#endif  // RAFTSTORE_SIM_CLUSTER_H_
