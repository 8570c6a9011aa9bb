#include "sim/store_runner.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace raftstore::sim {

std::string StoreSimOverrides::ToFlags() const {
  std::string flags = " --store";
  if (regions) absl::StrAppend(&flags, " --regions=", *regions);
  absl::StrAppend(&flags, base.ToFlags());
  return flags;
}

absl::StatusOr<StoreSimOptions> StoreOptionsForSeed(
    uint64_t seed, const StoreSimOverrides& overrides) {
  StoreSimOptions o = DrawStoreOptions(seed);
  const SimOverrides& b = overrides.base;
  if (b.nodes) {
    o.base.node_count = *b.nodes;
    o.base.corrupt_nodes =
        std::min(o.base.corrupt_nodes, (o.base.node_count - 1) / 2);
    o.replicas_max = std::max(kStoreReplicasMin, o.base.node_count);
  }
  if (b.ticks) o.base.ticks = *b.ticks;
  if (b.clients) o.base.workload.client_count = *b.clients;
  if (b.no_faults) {
    o.base.faults = FaultRates{};
    o.base.network.drop_per_million = 0;
    o.base.network.duplicate_per_million = 0;
    o.base.corrupt_nodes = 0;
    o.base.disk.slow_io_ppm = 0;
  }
  if (b.crash_per_s) o.base.faults.crash_per_s = *b.crash_per_s;
  if (b.partition_per_s) o.base.faults.partition_per_s = *b.partition_per_s;
  if (b.pause_per_s) o.base.faults.pause_per_s = *b.pause_per_s;
  if (b.clog_per_s) o.base.faults.clog_per_s = *b.clog_per_s;
  if (b.drop_per_million) {
    o.base.network.drop_per_million = *b.drop_per_million;
  }
  if (b.duplicate_per_million) {
    o.base.network.duplicate_per_million = *b.duplicate_per_million;
  }
  if (b.check_quorum) {
    o.base.check_quorum = *b.check_quorum;
    if (!o.base.check_quorum) o.base.lease_reads = false;
  }
  if (overrides.regions) o.region_count = *overrides.regions;
  if (absl::Status status = o.Validate(); !status.ok()) return status;
  return o;
}

std::vector<FaultEvent> StoreScheduleFor(const StoreSimOptions& options,
                                         const StoreSimOverrides& overrides) {
  if (overrides.base.faults) return *overrides.base.faults;
  return DrawStoreFaults(options);
}

std::string StoreReplayCommand(uint64_t seed,
                               const StoreSimOverrides& overrides) {
  return absl::StrCat("bazel run //tools:raftstore -- sim --seed=", seed,
                      overrides.ToFlags(), " --trace=/tmp/raftstore-sim-store-",
                      seed, ".trace");
}

ShrinkResult ShrinkStoreFaults(const StoreSimOptions& options,
                               std::vector<FaultEvent> faults, int runs_max) {
  return ShrinkFaultsWith(
      std::move(faults),
      [&options](const std::vector<FaultEvent>& candidate) {
        return RunStoreSeed(options, candidate, /*keep_trace=*/false).base;
      },
      runs_max);
}

}  // namespace raftstore::sim
