#include "sim/options.h"

#include <algorithm>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/base/check.h"

namespace raftstore::sim {
namespace {

uint32_t Ppm(Rng& rng, uint32_t max_ppm) {
  return static_cast<uint32_t>(rng.Range(0, max_ppm));
}

// With probability 1/2 a fault kind is off for the whole seed; otherwise
// its rate is uniform in (0, max_per_s]. Seeds without a fault explore the
// other faults' corners more deeply.
double MaybeRate(Rng& rng, uint64_t max_per_100s) {
  if (rng.Chance(1, 2)) return 0;
  return static_cast<double>(rng.Range(1, max_per_100s)) / 100.0;
}

void DrawWorkload(Rng& rng, WorkloadOptions& w) {
  w.client_count = static_cast<int>(rng.Range(1, kClientCountMax));
  w.key_count = static_cast<int>(rng.Range(1, 64));
  w.hot_key_count =
      static_cast<int>(rng.Range(1, static_cast<uint64_t>(w.key_count)));
  w.hot_op_ppm = Ppm(rng, kPpm);
  w.put_weight = static_cast<uint32_t>(rng.Range(0, 8));
  w.get_weight = static_cast<uint32_t>(rng.Range(1, 8));
  w.delete_weight = static_cast<uint32_t>(rng.Range(0, 3));
  w.cas_weight = static_cast<uint32_t>(rng.Range(0, 6));
  w.value_bytes_max = rng.Range(1, 64);
  w.think_us_max = rng.Range(0, 50'000);
}

void DrawFaults(Rng& rng, SimOptions& o) {
  FaultRates& f = o.faults;
  f.crash_per_s = MaybeRate(rng, 100);
  f.pause_per_s = MaybeRate(rng, 50);
  f.partition_per_s = MaybeRate(rng, 50);
  f.clog_per_s = MaybeRate(rng, 50);
  f.slow_disk_per_s = MaybeRate(rng, 50);
  f.disk_full_per_s = MaybeRate(rng, 20);
  const uint64_t election_us = o.tick_us * o.election_tick;
  f.restart_delay_us_min = rng.Range(0, election_us);
  f.restart_delay_us_max =
      f.restart_delay_us_min + rng.Range(0, 5 * election_us);
  f.fault_duration_us_min = rng.Range(o.tick_us, election_us);
  f.fault_duration_us_max =
      f.fault_duration_us_min + rng.Range(0, 10 * election_us);
}

void DrawDisk(Rng& rng, SimOptions& o) {
  SimDiskCrashModel& crash = o.disk.crash;
  crash.sector_keep_ppm = Ppm(rng, kPpm);
  crash.sector_torn_ppm = Ppm(rng, kPpm - crash.sector_keep_ppm);
  crash.dir_op_keep_ppm = Ppm(rng, kPpm);
  o.disk.sync_latency_us_min = rng.Range(10, 2'000);
  o.disk.sync_latency_us_max =
      o.disk.sync_latency_us_min + rng.Range(0, 20'000);
  o.disk.write_latency_us_min = rng.Range(1, 50);
  o.disk.write_latency_us_max = o.disk.write_latency_us_min + rng.Range(0, 500);
  o.disk.slow_io_ppm = rng.Chance(1, 3) ? Ppm(rng, 50'000) : 0;
  // Media faults on at most a minority of nodes, for a third of the seeds.
  const int minority = (o.node_count - 1) / 2;
  if (minority > 0 && rng.Chance(1, 3)) {
    o.corrupt_nodes = static_cast<int>(rng.Range(1, minority));
    // Misdirected writes stay off: one that lands on the last synced frame
    // of a WAL is indistinguishable from a torn unsynced write, so recovery
    // truncates it and silently drops an acknowledged record, which can
    // break raft safety however many clean copies exist (a tuned seed of
    // tests/sim_bugs found this). Surviving that needs protocol-aware
    // recovery (Alagappan et al., FAST 2018): future work, see
    // docs/simulator.md. Write corruption is drawn at the end (below).
    o.corruption.read_corruption_ppm = Ppm(rng, 2'000);
    o.corruption.latent_sector_error_ppm = Ppm(rng, 1'000);
  }
}

// Raft can only make progress when an election timeout spans several
// round trips and disk writes (the paper's broadcastTime << electionTimeout,
// §5.6); a seed that drew faster ticks than its network and disks allow
// would fail liveness by construction, which tests nothing. So the drawn
// tick is stretched until an election timeout covers kRoundTrips worst-case
// message-plus-sync rounds, and the clients' timeouts follow the election
// timeout.
void FitTimeouts(SimOptions& o) {
  constexpr uint64_t kRoundTrips = 4;
  uint64_t latency_us = o.network.latency.max_us;
  for (const LinkLatency& link : o.network.link_latency) {
    latency_us = std::max(latency_us, link.latency.max_us);
  }
  const uint64_t round_us = 2 * latency_us + o.network.reorder_jitter_us_max +
                            o.disk.write_latency_us_max +
                            o.disk.sync_latency_us_max;
  const uint64_t election_tick = static_cast<uint64_t>(o.election_tick);
  const uint64_t needed_us = kRoundTrips * round_us;
  if (o.tick_us * election_tick < needed_us) {
    o.tick_us = (needed_us + election_tick - 1) / election_tick;
  }
  const uint64_t election_us = o.tick_us * election_tick;
  o.workload.attempt_timeout_us = 3 * election_us;
  o.workload.op_timeout_us = 10 * election_us;
}

}  // namespace

std::string WorkloadKey(uint64_t k) { return absl::StrFormat("k%03d", k); }

SimOptions DrawOptions(uint64_t seed) {
  Rng rng(seed);
  // Options come from their own stream, so that adding an option later
  // changes only what is drawn after it, not the network or the schedule.
  Rng draw = rng.Fork();
  SimOptions o;
  o.seed = seed;
  constexpr int kSizes[] = {3, 5, 7};
  o.node_count = kSizes[draw.Uniform(3)];
  // Production-like ticks (etcd's default heartbeat is 100 ms) down to
  // 10 ms, and a faulty phase of a few hundred to a few thousand of them.
  o.tick_us = draw.Range(10'000, 100'000);
  o.ticks = draw.Range(300, 1'500);
  o.tick_drift_ppm_max = draw.Chance(1, 2) ? Ppm(draw, 50'000) : 0;
  o.election_tick = static_cast<int>(draw.Range(5, 20));
  o.heartbeat_tick = static_cast<int>(draw.Range(1, 2));
  o.pre_vote = draw.Chance(1, 2);
  o.check_quorum = draw.Chance(2, 3);
  o.lease_reads = o.check_quorum && draw.Chance(1, 3);
  o.max_size_per_msg_bytes = uint64_t{1} << draw.Range(6, 20);
  o.max_inflight_msgs = uint64_t{1} << draw.Range(0, 8);
  o.pending_proposals_max = draw.Range(4, 1024);
  DrawWorkload(draw, o.workload);
  o.network = NetworkOptions::Draw(draw, NetworkEndpoints(kNodeCountMax));
  DrawDisk(draw, o);
  FitTimeouts(o);
  DrawFaults(draw, o);
  // Garbled writes, on the nodes with media faults: the sim's WAL reads
  // every synced batch back (WalOptions::verify_writes), so a garbled write
  // fail-stops the node before anything it holds is acknowledged. Drawn
  // last so that it shifts no earlier draw.
  if (o.corrupt_nodes > 0) {
    o.corruption.write_corruption_ppm = Ppm(draw, 2'000);
  }
  RS_CHECK(o.Validate().ok()) << o.Validate();
  return o;
}

absl::Status SimOptions::Validate() const {
  auto bad = [](const std::string& what) {
    return absl::InvalidArgumentError(absl::StrCat("sim option ", what));
  };
  if (node_count < kNodeCountMin || node_count > kNodeCountMax) {
    return bad(absl::StrCat("--nodes=", node_count, " is outside ",
                            kNodeCountMin, "..", kNodeCountMax));
  }
  if (workload.client_count < 0 || workload.client_count > kClientCountMax) {
    return bad(absl::StrCat("--clients=", workload.client_count,
                            " is outside 0..", kClientCountMax));
  }
  if (workload.key_count < 1 || workload.hot_key_count < 1 ||
      workload.hot_key_count > workload.key_count) {
    return bad("key counts: need 1 <= hot keys <= keys");
  }
  if (ticks == 0 || tick_us == 0) return bad("--ticks and tick_us must be > 0");
  if (election_tick <= heartbeat_tick || heartbeat_tick < 1) {
    return bad("election_tick must exceed heartbeat_tick >= 1");
  }
  if (lease_reads && !check_quorum) return bad("lease reads need check_quorum");
  if (corrupt_nodes < 0 ||
      (corrupt_nodes > 0 && 2 * corrupt_nodes >= node_count)) {
    return bad(absl::StrCat("corrupt_nodes=", corrupt_nodes,
                            " is not a minority of ", node_count));
  }
  if (tick_drift_ppm_max >= kPpm / 2) return bad("tick drift must be < 50%");
  if (workload.get_weight + workload.put_weight + workload.delete_weight +
          workload.cas_weight ==
      0) {
    return bad("operation weights are all zero");
  }
  return network.Validate(NetworkEndpoints(kNodeCountMax));
}

std::string SimOptions::Describe() const {
  const WorkloadOptions& w = workload;
  return absl::StrCat(
      "nodes=", node_count, " clients=", w.client_count, " ticks=", ticks,
      " tick_us=", tick_us, " drift_ppm=", tick_drift_ppm_max,
      " election_tick=", election_tick, " heartbeat_tick=", heartbeat_tick,
      " pre_vote=", pre_vote, " check_quorum=", check_quorum,
      " lease_reads=", lease_reads, " msg_bytes_max=", max_size_per_msg_bytes,
      " inflight_max=", max_inflight_msgs,
      " proposals_max=", pending_proposals_max, " keys=", w.key_count, "/",
      w.hot_key_count, "hot@", w.hot_op_ppm, "ppm ops=put", w.put_weight,
      ",get", w.get_weight, ",del", w.delete_weight, ",cas", w.cas_weight,
      " faults/s=crash", faults.crash_per_s, ",pause", faults.pause_per_s,
      ",partition", faults.partition_per_s, ",clog", faults.clog_per_s,
      ",slowdisk", faults.slow_disk_per_s, ",diskfull", faults.disk_full_per_s,
      " corrupt_nodes=", corrupt_nodes,
      " disk_sync_us=", disk.sync_latency_us_min, "..",
      disk.sync_latency_us_max, " crash_keep_ppm=", disk.crash.sector_keep_ppm,
      " torn_ppm=", disk.crash.sector_torn_ppm, " | net: ", network.Describe());
}

}  // namespace raftstore::sim
