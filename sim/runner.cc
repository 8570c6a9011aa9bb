#include "sim/runner.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace raftstore::sim {

std::string SimOverrides::ToFlags() const {
  std::string flags;
  if (nodes) absl::StrAppend(&flags, " --nodes=", *nodes);
  if (ticks) absl::StrAppend(&flags, " --ticks=", *ticks);
  if (clients) absl::StrAppend(&flags, " --clients=", *clients);
  if (crash_per_s) absl::StrAppend(&flags, " --crash_per_s=", *crash_per_s);
  if (partition_per_s) {
    absl::StrAppend(&flags, " --partition_per_s=", *partition_per_s);
  }
  if (pause_per_s) absl::StrAppend(&flags, " --pause_per_s=", *pause_per_s);
  if (clog_per_s) absl::StrAppend(&flags, " --clog_per_s=", *clog_per_s);
  if (drop_per_million) {
    absl::StrAppend(&flags, " --drop_per_million=", *drop_per_million);
  }
  if (duplicate_per_million) {
    absl::StrAppend(&flags,
                    " --duplicate_per_million=", *duplicate_per_million);
  }
  if (check_quorum) {
    absl::StrAppend(&flags,
                    " --check_quorum=", *check_quorum ? "true" : "false");
  }
  if (no_faults) absl::StrAppend(&flags, " --no_faults");
  if (faults)
    absl::StrAppend(&flags, " --faults='", FormatFaults(*faults), "'");
  return flags;
}

absl::StatusOr<SimOptions> OptionsForSeed(uint64_t seed,
                                          const SimOverrides& overrides) {
  SimOptions o = DrawOptions(seed);
  if (overrides.nodes) {
    o.node_count = *overrides.nodes;
    o.corrupt_nodes = std::min(o.corrupt_nodes, (o.node_count - 1) / 2);
  }
  if (overrides.ticks) o.ticks = *overrides.ticks;
  if (overrides.clients) o.workload.client_count = *overrides.clients;
  if (overrides.no_faults) {
    o.faults = FaultRates{};
    o.network.drop_per_million = 0;
    o.network.duplicate_per_million = 0;
    o.corrupt_nodes = 0;
    o.disk.slow_io_ppm = 0;
  }
  if (overrides.crash_per_s) o.faults.crash_per_s = *overrides.crash_per_s;
  if (overrides.partition_per_s) {
    o.faults.partition_per_s = *overrides.partition_per_s;
  }
  if (overrides.pause_per_s) o.faults.pause_per_s = *overrides.pause_per_s;
  if (overrides.clog_per_s) o.faults.clog_per_s = *overrides.clog_per_s;
  if (overrides.drop_per_million) {
    o.network.drop_per_million = *overrides.drop_per_million;
  }
  if (overrides.duplicate_per_million) {
    o.network.duplicate_per_million = *overrides.duplicate_per_million;
  }
  if (overrides.check_quorum) {
    o.check_quorum = *overrides.check_quorum;
    if (!o.check_quorum) o.lease_reads = false;
  }
  if (absl::Status status = o.Validate(); !status.ok()) return status;
  return o;
}

std::vector<FaultEvent> ScheduleFor(const SimOptions& options,
                                    const SimOverrides& overrides) {
  if (overrides.faults) return *overrides.faults;
  return DrawFaults(options);
}

std::string ReplayCommand(uint64_t seed, const SimOverrides& overrides) {
  return absl::StrCat("bazel run //tools:raftstore -- sim --seed=", seed,
                      overrides.ToFlags(), " --trace=/tmp/raftstore-sim-", seed,
                      ".trace");
}

ShrinkResult ShrinkFaults(const SimOptions& options,
                          std::vector<FaultEvent> faults, int runs_max) {
  return ShrinkFaultsWith(
      std::move(faults),
      [&options](const std::vector<FaultEvent>& candidate) {
        return RunSeed(options, candidate, /*keep_trace=*/false);
      },
      runs_max);
}

ShrinkResult ShrinkFaultsWith(
    std::vector<FaultEvent> faults,
    absl::FunctionRef<RunResult(const std::vector<FaultEvent>&)> run,
    int runs_max) {
  ShrinkResult out;
  auto fails = [&](const std::vector<FaultEvent>& candidate) {
    ++out.runs;
    RunResult result = run(candidate);
    if (result.ok()) return false;
    out.last_failure = std::move(result);
    return true;
  };
  // Without any scheduled fault, maybe the noise alone fails it.
  if (!faults.empty() && fails({})) {
    out.faults.clear();
    return out;
  }
  size_t chunks = 2;
  while (faults.size() >= 2 && out.runs < runs_max) {
    const size_t size = (faults.size() + chunks - 1) / chunks;
    bool reduced = false;
    for (size_t start = 0; start < faults.size() && out.runs < runs_max;
         start += size) {
      // Every event outside the chunk [start, start + size).
      const size_t end = std::min(start + size, faults.size());
      std::vector<FaultEvent> complement;
      complement.reserve(faults.size() - (end - start));
      for (size_t i = 0; i < faults.size(); ++i) {
        if (i < start || i >= end) complement.push_back(faults[i]);
      }
      if (fails(complement)) {
        faults = std::move(complement);
        chunks = std::max<size_t>(chunks - 1, 2);
        reduced = true;
        break;
      }
    }
    if (!reduced) {
      if (chunks >= faults.size()) break;
      chunks = std::min(chunks * 2, faults.size());
    }
  }
  if (faults.size() == 1 && out.runs < runs_max && fails({})) faults.clear();
  out.faults = std::move(faults);
  return out;
}

}  // namespace raftstore::sim
