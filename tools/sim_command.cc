// `raftstore sim`: runs the deterministic simulator (sim/, docs/simulator.md).
//
//   raftstore sim --seed S [--trace FILE] [--history FILE] [--shrink]
//   raftstore sim --seeds A..B
//   raftstore sim --store [--regions R] --seed S | --seeds A..B
//
// --store runs the store mode (sim/store_cluster.h): whole stores with
// several regions, splits, membership changes and leader transfers under
// the same faults and checkers; the other flags mean the same there
// (--nodes is the store count).
//
// One seed prints the seed, its drawn options, and a one-line summary; a
// failing seed also prints what failed and the exact command that replays
// it, and exits 1. A range runs every seed in one process and lists the
// failures by seed.

#include <cstdint>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "sim/cluster.h"
#include "sim/history/history_json.h"
#include "sim/runner.h"
#include "sim/store_runner.h"
#include "tools/command.h"

ABSL_FLAG(std::optional<uint64_t>, seed, std::nullopt,
          "sim: the one seed to run");
ABSL_FLAG(std::string, seeds, "", "sim: a range of seeds A..B (inclusive)");
ABSL_FLAG(std::string, trace, "", "sim: write the readable event trace here");
ABSL_FLAG(std::string, history, "",
          "sim: write the client history here as JSON lines "
          "(docs/history-format.md)");
ABSL_FLAG(bool, shrink, false,
          "sim: on failure, minimise the fault schedule and print the "
          "smaller reproducer");
ABSL_FLAG(std::optional<int>, nodes, std::nullopt, "sim: cluster size (1-7)");
ABSL_FLAG(std::optional<uint64_t>, ticks, std::nullopt,
          "sim: length of the faulty phase in ticks");
ABSL_FLAG(std::optional<int>, clients, std::nullopt,
          "sim: concurrent clients (0-8)");
ABSL_FLAG(std::optional<double>, crash_per_s, std::nullopt,
          "sim: node crashes per simulated second");
ABSL_FLAG(std::optional<double>, partition_per_s, std::nullopt,
          "sim: partitions per simulated second");
ABSL_FLAG(std::optional<double>, pause_per_s, std::nullopt,
          "sim: process pauses per simulated second");
ABSL_FLAG(std::optional<double>, clog_per_s, std::nullopt,
          "sim: network clogs per simulated second");
ABSL_FLAG(std::optional<uint32_t>, drop_per_million, std::nullopt,
          "sim: message drop probability, per million");
ABSL_FLAG(std::optional<uint32_t>, duplicate_per_million, std::nullopt,
          "sim: message duplication probability, per million");
ABSL_FLAG(std::optional<bool>, check_quorum, std::nullopt,
          "sim: CheckQuorum on or off (off also disables lease reads)");
ABSL_FLAG(bool, no_faults, false, "sim: no faults and no network noise");
ABSL_FLAG(bool, store, false,
          "sim: the store mode: whole stores with several regions, admin "
          "commands and every checker (docs/simulator.md)");
ABSL_FLAG(std::optional<int>, regions, std::nullopt,
          "sim --store: the initial region count (1-8)");
ABSL_FLAG(std::optional<std::string>, faults, std::nullopt,
          "sim: replace the seed's fault schedule "
          "(time_us:kind[:node[:arg]],...; see docs/simulator.md)");

namespace raftstore::tools {
namespace {

// Seeds one --seeds range may hold, so a typo cannot start a week-long run.
constexpr uint64_t kSeedRangeMax = 1'000'000;

bool ParseRange(const std::string& text, uint64_t* first, uint64_t* last) {
  const std::vector<std::string> parts = absl::StrSplit(text, "..");
  return parts.size() == 2 && absl::SimpleAtoi(parts[0], first) &&
         absl::SimpleAtoi(parts[1], last) && *first <= *last;
}

bool WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) {
    std::cerr << "error: cannot write " << path << "\n";
    return false;
  }
  return true;
}

void PrintFailure(const sim::RunResult& result) {
  // The first few: one bug tends to repeat at every step after it.
  constexpr size_t kPrintedMax = 5;
  for (size_t i = 0; i < result.violations.size() && i < kPrintedMax; ++i) {
    const sim::SafetyViolation& v = result.violations[i];
    std::cout << "  violation: " << v.property
              << " at t=" << static_cast<double>(v.time_us) / 1e6
              << "s: " << v.detail << "\n";
  }
  if (result.linearizability != sim::Verdict::kOk) {
    std::cout << "  " << result.linearizability_summary << "\n";
  }
}

int RunOne(uint64_t seed, sim::SimOverrides overrides) {
  absl::StatusOr<sim::SimOptions> options =
      sim::OptionsForSeed(seed, overrides);
  if (!options.ok()) {
    std::cerr << "error: " << options.status().message() << "\n";
    return kExitUsage;
  }
  std::cout << "seed " << seed << "\n";
  std::cout << "options: " << options->Describe() << "\n";
  const std::vector<sim::FaultEvent> faults =
      sim::ScheduleFor(*options, overrides);
  const std::string trace_path = absl::GetFlag(FLAGS_trace);
  const std::string history_path = absl::GetFlag(FLAGS_history);
  std::string trace;
  std::vector<sim::Operation> history;
  const sim::RunResult result =
      sim::RunSeed(*options, faults, !trace_path.empty(), &trace, &history);
  std::cout << result.Summary() << "\n";
  if (!trace_path.empty() && !WriteFile(trace_path, trace)) return kExitUsage;
  if (!history_path.empty() &&
      !WriteFile(history_path, sim::HistoryToJsonLines(history))) {
    return kExitUsage;
  }
  if (result.ok()) return kExitOk;
  PrintFailure(result);
  std::cout << "replay: " << sim::ReplayCommand(seed, overrides) << "\n";
  if (absl::GetFlag(FLAGS_shrink)) {
    const sim::ShrinkResult shrunk = sim::ShrinkFaults(*options, faults);
    overrides.faults = shrunk.faults;
    std::cout << "shrunk: " << faults.size() << " -> " << shrunk.faults.size()
              << " fault events in " << shrunk.runs << " runs\n";
    std::cout << "shrunk replay: " << sim::ReplayCommand(seed, overrides)
              << "\n";
  }
  return kExitProblem;
}

int RunRange(uint64_t first, uint64_t last,
             const sim::SimOverrides& overrides) {
  std::vector<uint64_t> failed;
  for (uint64_t seed = first; seed <= last; ++seed) {
    absl::StatusOr<sim::SimOptions> options =
        sim::OptionsForSeed(seed, overrides);
    if (!options.ok()) {
      std::cerr << "error: seed " << seed << ": " << options.status().message()
                << "\n";
      return kExitUsage;
    }
    const sim::RunResult result = sim::RunSeed(
        *options, sim::ScheduleFor(*options, overrides), /*keep_trace=*/false);
    std::cout << result.Summary() << "\n";
    if (!result.ok()) {
      PrintFailure(result);
      std::cout << "  replay: " << sim::ReplayCommand(seed, overrides) << "\n";
      failed.push_back(seed);
    }
    if (seed == last) break;  // last may be UINT64_MAX
  }
  std::cout << "seeds " << first << ".." << last << ": "
            << (last - first + 1 - failed.size()) << " passed, "
            << failed.size() << " failed";
  for (size_t i = 0; i < failed.size(); ++i) {
    std::cout << (i == 0 ? ": " : " ") << failed[i];
  }
  std::cout << "\n";
  return failed.empty() ? kExitOk : kExitProblem;
}

void PrintStoreFailure(const sim::StoreRunResult& result) {
  PrintFailure(result.base);
}

int RunStoreOne(uint64_t seed, sim::StoreSimOverrides overrides) {
  absl::StatusOr<sim::StoreSimOptions> options =
      sim::StoreOptionsForSeed(seed, overrides);
  if (!options.ok()) {
    std::cerr << "error: " << options.status().message() << "\n";
    return kExitUsage;
  }
  std::cout << "seed " << seed << "\n";
  std::cout << "options: " << options->Describe() << "\n";
  const std::vector<sim::FaultEvent> faults =
      sim::StoreScheduleFor(*options, overrides);
  const std::string trace_path = absl::GetFlag(FLAGS_trace);
  const std::string history_path = absl::GetFlag(FLAGS_history);
  std::string trace;
  std::vector<sim::Operation> history;
  const sim::StoreRunResult result = sim::RunStoreSeed(
      *options, faults, !trace_path.empty(), &trace, &history);
  std::cout << result.Summary() << "\n";
  if (!trace_path.empty() && !WriteFile(trace_path, trace)) return kExitUsage;
  if (!history_path.empty() &&
      !WriteFile(history_path, sim::HistoryToJsonLines(history))) {
    return kExitUsage;
  }
  if (result.ok()) return kExitOk;
  PrintStoreFailure(result);
  std::cout << "replay: " << sim::StoreReplayCommand(seed, overrides) << "\n";
  if (absl::GetFlag(FLAGS_shrink)) {
    const sim::ShrinkResult shrunk = sim::ShrinkStoreFaults(*options, faults);
    overrides.base.faults = shrunk.faults;
    std::cout << "shrunk: " << faults.size() << " -> " << shrunk.faults.size()
              << " fault events in " << shrunk.runs << " runs\n";
    std::cout << "shrunk replay: " << sim::StoreReplayCommand(seed, overrides)
              << "\n";
  }
  return kExitProblem;
}

int RunStoreRange(uint64_t first, uint64_t last,
                  const sim::StoreSimOverrides& overrides) {
  std::vector<uint64_t> failed;
  for (uint64_t seed = first; seed <= last; ++seed) {
    absl::StatusOr<sim::StoreSimOptions> options =
        sim::StoreOptionsForSeed(seed, overrides);
    if (!options.ok()) {
      std::cerr << "error: seed " << seed << ": " << options.status().message()
                << "\n";
      return kExitUsage;
    }
    const sim::StoreRunResult result =
        sim::RunStoreSeed(*options, sim::StoreScheduleFor(*options, overrides),
                          /*keep_trace=*/false);
    std::cout << result.Summary() << std::endl;
    if (!result.ok()) {
      PrintStoreFailure(result);
      std::cout << "  replay: " << sim::StoreReplayCommand(seed, overrides)
                << "\n";
      failed.push_back(seed);
    }
    if (seed == last) break;  // last may be UINT64_MAX
  }
  std::cout << "store seeds " << first << ".." << last << ": "
            << (last - first + 1 - failed.size()) << " passed, "
            << failed.size() << " failed";
  for (size_t i = 0; i < failed.size(); ++i) {
    std::cout << (i == 0 ? ": " : " ") << failed[i];
  }
  std::cout << "\n";
  return failed.empty() ? kExitOk : kExitProblem;
}

}  // namespace

int RunSim(const std::vector<std::string>& args) {
  if (!args.empty()) {
    std::cerr << "error: sim takes no positional arguments (got '" << args[0]
              << "')\n";
    return kExitUsage;
  }
  sim::SimOverrides overrides;
  overrides.nodes = absl::GetFlag(FLAGS_nodes);
  overrides.ticks = absl::GetFlag(FLAGS_ticks);
  overrides.clients = absl::GetFlag(FLAGS_clients);
  overrides.crash_per_s = absl::GetFlag(FLAGS_crash_per_s);
  overrides.partition_per_s = absl::GetFlag(FLAGS_partition_per_s);
  overrides.pause_per_s = absl::GetFlag(FLAGS_pause_per_s);
  overrides.clog_per_s = absl::GetFlag(FLAGS_clog_per_s);
  overrides.drop_per_million = absl::GetFlag(FLAGS_drop_per_million);
  overrides.duplicate_per_million = absl::GetFlag(FLAGS_duplicate_per_million);
  overrides.check_quorum = absl::GetFlag(FLAGS_check_quorum);
  overrides.no_faults = absl::GetFlag(FLAGS_no_faults);
  const std::optional<uint64_t> seed = absl::GetFlag(FLAGS_seed);
  const std::string seeds = absl::GetFlag(FLAGS_seeds);
  if (seed.has_value() == !seeds.empty()) {
    std::cerr << "error: sim needs exactly one of --seed S or --seeds A..B\n";
    return kExitUsage;
  }
  if (const auto faults = absl::GetFlag(FLAGS_faults); faults.has_value()) {
    const int nodes = overrides.nodes.value_or(sim::kNodeCountMax);
    absl::StatusOr<std::vector<sim::FaultEvent>> parsed =
        sim::ParseFaults(*faults, nodes);
    if (!parsed.ok()) {
      std::cerr << "error: " << parsed.status().message() << "\n";
      return kExitUsage;
    }
    overrides.faults = *std::move(parsed);
  }
  const bool store_mode = absl::GetFlag(FLAGS_store);
  sim::StoreSimOverrides store_overrides;
  store_overrides.base = overrides;
  store_overrides.regions = absl::GetFlag(FLAGS_regions);
  if (store_overrides.regions.has_value() && !store_mode) {
    std::cerr << "error: --regions needs --store\n";
    return kExitUsage;
  }
  if (seed.has_value()) {
    return store_mode ? RunStoreOne(*seed, store_overrides)
                      : RunOne(*seed, overrides);
  }
  uint64_t first = 0;
  uint64_t last = 0;
  if (!ParseRange(seeds, &first, &last)) {
    std::cerr << "error: --seeds must be A..B with A <= B (got '" << seeds
              << "')\n";
    return kExitUsage;
  }
  if (last - first >= kSeedRangeMax) {
    std::cerr << "error: --seeds covers more than " << kSeedRangeMax
              << " seeds; split the range\n";
    return kExitUsage;
  }
  return store_mode ? RunStoreRange(first, last, store_overrides)
                    : RunRange(first, last, overrides);
}

}  // namespace raftstore::tools
