// Simulator speed: simulated seconds per wall-clock second, and events per
// second, for 5-node clusters under faults (printed, not a timed test).
//
//   bazel run //tools:sim_benchmark [-- --seeds=1..20]
//
// Each seed runs with its drawn (swarm) options and fault schedule, with
// the cluster size forced to 5. The table prints each seed's simulated time,
// wall time, ratio and event rate, then the totals. The design target is at
// least 1000x real time (TigerBeetle's VOPR reports about 700x).

#include <chrono>
#include <cstdint>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "sim/cluster.h"
#include "sim/runner.h"

ABSL_FLAG(std::string, seeds, "1..20", "seeds to run, A..B");
ABSL_FLAG(int, nodes, 5, "cluster size");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const std::vector<std::string> range =
      absl::StrSplit(absl::GetFlag(FLAGS_seeds), "..");
  uint64_t first = 0;
  uint64_t last = 0;
  if (range.size() != 2 || !absl::SimpleAtoi(range[0], &first) ||
      !absl::SimpleAtoi(range[1], &last) || first > last) {
    std::cerr << "error: --seeds must be A..B\n";
    return 2;
  }
  raftstore::sim::SimOverrides overrides;
  overrides.nodes = absl::GetFlag(FLAGS_nodes);
  std::cout << absl::StrFormat("%-6s %12s %10s %10s %12s %8s\n", "seed",
                               "simulated_s", "wall_s", "ratio", "events/s",
                               "verdict");
  double simulated_total = 0;
  double wall_total = 0;
  uint64_t events_total = 0;
  for (uint64_t seed = first; seed <= last; ++seed) {
    auto options = raftstore::sim::OptionsForSeed(seed, overrides);
    if (!options.ok()) {
      std::cerr << "error: " << options.status() << "\n";
      return 2;
    }
    const auto faults = raftstore::sim::DrawFaults(*options);
    const auto start = std::chrono::steady_clock::now();
    const raftstore::sim::RunResult result =
        raftstore::sim::RunSeed(*options, faults, /*keep_trace=*/false);
    const double wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    const double simulated = static_cast<double>(result.simulated_us) / 1e6;
    simulated_total += simulated;
    wall_total += wall;
    events_total += result.events;
    std::cout << absl::StrFormat("%-6d %12.3f %10.3f %9.0fx %12.0f %8s\n", seed,
                                 simulated, wall, simulated / wall,
                                 static_cast<double>(result.events) / wall,
                                 result.ok() ? "pass" : "FAIL");
  }
  std::cout << absl::StrFormat(
      "total: %.1f simulated s in %.2f wall s = %.0fx real time, %.0f "
      "events/s\n",
      simulated_total, wall_total, simulated_total / wall_total,
      static_cast<double>(events_total) / wall_total);
  return 0;
}
