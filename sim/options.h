// Everything one simulation run is parameterised by, drawn from its seed.
//
// Swarm testing (Groce et al., ISSTA 2012): rather than run every seed with
// one average mix of faults, each seed first draws its own options (cluster
// size, clients, every fault rate, latencies, timeouts, batch and message
// caps) and prints them, so different seeds explore different corners: one
// runs 7 nodes on a lossy network with no crashes, the next 3 nodes that
// crash constantly on a perfect network. Flags of `raftstore sim` override
// single options after the draw, for hand-made runs.
//
// Thread-safety: plain values.
#ifndef RAFTSTORE_SIM_OPTIONS_H_
#define RAFTSTORE_SIM_OPTIONS_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "core/base/rng.h"
#include "sim/disk.h"
#include "sim/fault_schedule.h"
#include "sim/network/network_options.h"

namespace raftstore::sim {

inline constexpr int kNodeCountMin = 1;
inline constexpr int kNodeCountMax = 7;
inline constexpr int kClientCountMax = 8;

// Network endpoints of a run: the raft nodes (0..node_count-1), then up to
// kClientCountMax workload clients, then the liveness checker's client. The
// network is always built for kNodeCountMax nodes, so that overriding
// --nodes after the draw keeps the drawn network options valid.
inline int NetworkEndpoints(int node_count) {
  return node_count + kClientCountMax + 1;
}

// The workload's key number k: "k000", "k001", ...
std::string WorkloadKey(uint64_t k);

struct WorkloadOptions {
  int client_count = 3;
  // Keys are "k000".."k<key_count-1>"; a fraction of operations go to the
  // first hot_key_count keys (contention), the rest uniformly to all.
  int key_count = 32;
  int hot_key_count = 2;
  uint32_t hot_op_ppm = 500'000;
  // Relative weights of the operations.
  uint32_t put_weight = 4;
  uint32_t get_weight = 4;
  uint32_t delete_weight = 1;
  uint32_t cas_weight = 2;
  uint64_t value_bytes_max = 16;
  // A client waits this long for one attempt before retrying elsewhere, and
  // gives up on an operation (outcome unknown unless every attempt was
  // refused) after op_timeout_us.
  uint64_t attempt_timeout_us = 300'000;
  uint64_t op_timeout_us = 2'000'000;
  // Pause between a client's operations, uniform in [0, think_us_max].
  uint64_t think_us_max = 20'000;
};

struct SimOptions {
  uint64_t seed = 0;
  int node_count = 3;
  // Simulated length of the faulty phase, in ticks of tick_us.
  uint64_t ticks = 2'000;
  uint64_t tick_us = 10'000;
  // Each node's tick interval is tick_us scaled by its own factor in
  // [1 - drift, 1 + drift] (parts per million): clocks run at different
  // rates within a bound, as real oscillators do.
  uint32_t tick_drift_ppm_max = 0;

  // Raft.
  int election_tick = 10;
  int heartbeat_tick = 1;
  bool pre_vote = true;
  bool check_quorum = true;
  bool lease_reads = false;  // requires check_quorum
  uint64_t max_size_per_msg_bytes = 1 << 20;
  uint64_t max_inflight_msgs = 256;
  // Proposals a node keeps in flight before answering ServerBusy.
  uint64_t pending_proposals_max = 1024;

  WorkloadOptions workload;
  NetworkOptions network;
  SimDiskOptions disk;
  // Media faults (corruption, latent errors, misdirected writes) are
  // switched on only for the first `corrupt_nodes` nodes, at most a minority
  // (a quorum always keeps a clean copy, so any loss the checkers see is a
  // bug, not bad luck).
  int corrupt_nodes = 0;
  SimDiskFaults corruption;
  FaultRates faults;

  // After the faulty phase: everything heals and restarts, and a leader must
  // commit a fresh write within this many ticks.
  uint64_t liveness_ticks_max = 0;  // 0: derived, 30 election timeouts

  // kInvalidArgument naming the first bad option.
  absl::Status Validate() const;
  // One line, e.g. "nodes=5 clients=3 ticks=2000 ...".
  std::string Describe() const;
  uint64_t LivenessTicks() const {
    return liveness_ticks_max != 0 ? liveness_ticks_max
                                   : 30 * static_cast<uint64_t>(election_tick);
  }
};

// Draws the options of `seed` (swarm testing). Always valid.
SimOptions DrawOptions(uint64_t seed);

}  // namespace raftstore::sim

#endif  // RAFTSTORE_SIM_OPTIONS_H_
