#include "sim/store_options.h"

#include <algorithm>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "core/base/rng.h"

namespace raftstore::sim {
namespace {

// With probability 1/4 an admin kind is off for the whole seed; otherwise
// its rate is uniform in [0.05, max_per_100s / 100] per simulated second.
double MaybeAdminRate(Rng& rng, uint64_t max_per_100s) {
  if (rng.Chance(1, 4)) return 0;
  return static_cast<double>(rng.Range(5, max_per_100s)) / 100.0;
}

// The single-group mode stretches the tick until an election timeout spans
// four worst-case message-plus-sync round trips (sim/options.cc,
// FitTimeouts). A store has more to wait for: a vote or an append
// acknowledgement is persisted behind the store's write in flight (one for
// all its regions) and its own, and a disk with slow-I/O moments takes
// slow_io_multiplier times longer for a sync. An election timeout shorter
// than that makes regions flap between candidates after healing, which
// fails liveness by construction and tests nothing.
void FitStoreTimeouts(SimOptions& o) {
  constexpr uint64_t kRoundTrips = 4;
  // Worst-case message latency, latency spikes included: a link carries
  // every region's traffic, so a per-message spike comes often, and with
  // reordering off everything behind it waits too (seed 8761: 1% spikes of
  // up to 874 ms on a slow link kept regions flapping past liveness).
  auto worst = [](const LatencyOptions& l) {
    return l.max_us + (l.spike_per_million > 0 ? l.spike_us_max : 0);
  };
  uint64_t latency_us = worst(o.network.latency);
  for (const LinkLatency& link : o.network.link_latency) {
    latency_us = std::max(latency_us, worst(link.latency));
  }
  const uint64_t slow = o.disk.slow_io_ppm > 0 ? o.disk.slow_io_multiplier : 1;
  const uint64_t persist_us =
      2 * slow * (o.disk.write_latency_us_max + o.disk.sync_latency_us_max);
  const uint64_t round_us =
      2 * latency_us + o.network.reorder_jitter_us_max + persist_us;
  const auto election_tick = static_cast<uint64_t>(o.election_tick);
  const uint64_t needed_us = kRoundTrips * round_us;
  if (o.tick_us * election_tick < needed_us) {
    o.tick_us = (needed_us + election_tick - 1) / election_tick;
  }
  const uint64_t election_us = o.tick_us * election_tick;
  o.workload.attempt_timeout_us = 3 * election_us;
  o.workload.op_timeout_us = 10 * election_us;
}

}  // namespace

StoreSimOptions DrawStoreOptions(uint64_t seed) {
  StoreSimOptions o;
  o.base = DrawOptions(seed);
  Rng root(seed);
  root.Fork();  // the base options' stream (DrawOptions)
  Rng draw = root.Fork();
  o.base.node_count = draw.Chance(1, 2) ? 3 : 5;
  // One store with media faults at most: every region has at least
  // kStoreReplicasMin replicas on distinct stores, so a quorum of each
  // always keeps a clean copy.
  o.base.corrupt_nodes = std::min(o.base.corrupt_nodes, 1);
  o.region_count = static_cast<int>(draw.Range(1, kStoreRegionCountMax));
  o.split_per_s = MaybeAdminRate(draw, 100);
  o.conf_change_per_s = MaybeAdminRate(draw, 100);
  o.transfer_per_s = MaybeAdminRate(draw, 100);
  o.replicas_max = o.base.node_count;
  o.scan_weight = static_cast<uint32_t>(draw.Range(0, 3));
  o.region_split_bytes = draw.Chance(1, 3) ? draw.Range(64, 1024) : 0;
  o.raft_log_gc_entries_max = uint64_t{1} << draw.Range(3, 10);
  o.learner_catch_up_entries_max = draw.Range(8, 256);
  // Drawn last, so that adding it shifted no earlier draw.
  o.merge_per_s = MaybeAdminRate(draw, 100);
  FitStoreTimeouts(o.base);
  RS_CHECK(o.Validate().ok()) << o.Validate();
  return o;
}

absl::Status StoreSimOptions::Validate() const {
  auto bad = [](const std::string& what) {
    return absl::InvalidArgumentError(absl::StrCat("store sim option ", what));
  };
  if (absl::Status status = base.Validate(); !status.ok()) return status;
  if (base.node_count < kStoreCountMin) {
    return bad(absl::StrCat("--nodes=", base.node_count,
                            ": store mode needs at least ", kStoreCountMin,
                            " stores"));
  }
  if (base.corrupt_nodes > 1) {
    return bad("corrupt_nodes: at most one store may have media faults");
  }
  if (region_count < 1 || region_count > kStoreRegionCountMax) {
    return bad(absl::StrCat("--regions=", region_count, " is outside 1..",
                            kStoreRegionCountMax));
  }
  if (replicas_max < kStoreReplicasMin || replicas_max > base.node_count) {
    return bad(absl::StrCat("replicas_max=", replicas_max, " is outside ",
                            kStoreReplicasMin, "..", base.node_count));
  }
  if (split_per_s < 0 || conf_change_per_s < 0 || transfer_per_s < 0 ||
      merge_per_s < 0) {
    return bad("admin rates must be >= 0");
  }
  if (raft_log_gc_entries_max == 0 || learner_catch_up_entries_max == 0) {
    return bad(
        "raft_log_gc_entries_max and learner_catch_up_entries_max "
        "must be > 0");
  }
  return absl::OkStatus();
}

std::string StoreSimOptions::Describe() const {
  return absl::StrCat(
      "store mode: stores=", base.node_count, " regions=", region_count,
      " admin/s=split", split_per_s, ",conf", conf_change_per_s, ",transfer",
      transfer_per_s, ",merge", merge_per_s, " replicas_max=", replicas_max,
      " scan_weight=", scan_weight, " auto_split_bytes=", region_split_bytes,
      " log_gc_entries=", raft_log_gc_entries_max,
      " learner_catch_up=", learner_catch_up_entries_max, " | ",
      base.Describe());
}

}  // namespace raftstore::sim
