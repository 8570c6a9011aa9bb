#include "sim/fault_schedule.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/base/check.h"

namespace raftstore::sim {
namespace {

constexpr FaultKind kAllKinds[] = {
    FaultKind::kCrash,     FaultKind::kRestart,  FaultKind::kPause,
    FaultKind::kPartition, FaultKind::kHeal,     FaultKind::kClog,
    FaultKind::kSlowDisk,  FaultKind::kDiskFull, FaultKind::kLeaderCrash,
};

bool NeedsNode(FaultKind kind) {
  return kind != FaultKind::kPartition && kind != FaultKind::kHeal &&
         kind != FaultKind::kLeaderCrash;
}

uint64_t DrawBetween(Rng& rng, uint64_t lo, uint64_t hi) {
  return hi <= lo ? lo : rng.Range(lo, hi);
}

// Draws the start times of `per_s` events per second over [0, duration_us):
// gaps uniform in [0, 2 * mean]. Integer draws only, after one division:
// transcendental functions (an exponential gap needs log) may round
// differently in another libm, and a seed must replay the same everywhere.
std::vector<uint64_t> EventTimes(double per_s, uint64_t duration_us, Rng& rng) {
  std::vector<uint64_t> times;
  if (per_s <= 0) return times;
  const auto mean_gap_us = static_cast<uint64_t>(1e6 / per_s);
  uint64_t t = 0;
  while (times.size() < kFaultEventsMax) {
    t += rng.Range(0, 2 * std::max<uint64_t>(mean_gap_us, 1));
    if (t >= duration_us) break;
    times.push_back(t);
  }
  return times;
}

}  // namespace

std::string_view FaultKindName(FaultKind kind) {
  switch (kind) {
    case FaultKind::kCrash:
      return "crash";
    case FaultKind::kRestart:
      return "restart";
    case FaultKind::kPause:
      return "pause";
    case FaultKind::kPartition:
      return "partition";
    case FaultKind::kHeal:
      return "heal";
    case FaultKind::kClog:
      return "clog";
    case FaultKind::kSlowDisk:
      return "slow-disk";
    case FaultKind::kDiskFull:
      return "disk-full";
    case FaultKind::kLeaderCrash:
      return "leader-crash";
  }
  return "?";
}

std::vector<FaultEvent> GenerateFaults(const FaultRates& rates, int node_count,
                                       uint64_t duration_us, Rng& rng) {
  RS_CHECK_GT(node_count, 0);
  std::vector<FaultEvent> events;
  auto node = [&] { return 1 + static_cast<int>(rng.Uniform(node_count)); };
  auto duration = [&] {
    return DrawBetween(rng, rates.fault_duration_us_min,
                       rates.fault_duration_us_max);
  };
  for (uint64_t at : EventTimes(rates.crash_per_s, duration_us, rng)) {
    // Half the crashes hit the leader of the moment, where a crash hurts
    // most (a new election, proposals in flight lost).
    const bool leader = rng.Chance(1, 2);
    const int n = leader ? 0 : node();
    events.push_back(
        {at, leader ? FaultKind::kLeaderCrash : FaultKind::kCrash, n, 0});
    // A leader crash restarts whichever nodes are down (node 0).
    events.push_back({at + DrawBetween(rng, rates.restart_delay_us_min,
                                       rates.restart_delay_us_max),
                      FaultKind::kRestart, n, 0});
  }
  for (uint64_t at : EventTimes(rates.pause_per_s, duration_us, rng)) {
    events.push_back({at, FaultKind::kPause, node(), duration()});
  }
  for (uint64_t at : EventTimes(rates.partition_per_s, duration_us, rng)) {
    events.push_back({at, FaultKind::kPartition, 0, rng.Uniform(1 << 16)});
    events.push_back({at + duration(), FaultKind::kHeal, 0, 0});
  }
  for (uint64_t at : EventTimes(rates.clog_per_s, duration_us, rng)) {
    events.push_back({at, FaultKind::kClog, node(), duration()});
  }
  for (uint64_t at : EventTimes(rates.slow_disk_per_s, duration_us, rng)) {
    events.push_back({at, FaultKind::kSlowDisk, node(), duration()});
  }
  for (uint64_t at : EventTimes(rates.disk_full_per_s, duration_us, rng)) {
    events.push_back({at, FaultKind::kDiskFull, node(), duration()});
  }
  std::stable_sort(events.begin(), events.end(),
                   [](const FaultEvent& a, const FaultEvent& b) {
                     return a.at_us < b.at_us;
                   });
  if (events.size() > kFaultEventsMax) events.resize(kFaultEventsMax);
  return events;
}

std::string FormatFaults(const std::vector<FaultEvent>& events) {
  std::vector<std::string> parts;
  parts.reserve(events.size());
  for (const FaultEvent& e : events) {
    std::string part =
        absl::StrCat(e.at_us, ":", std::string(FaultKindName(e.kind)));
    if (e.node != 0 || e.arg != 0) absl::StrAppend(&part, ":", e.node);
    if (e.arg != 0) absl::StrAppend(&part, ":", e.arg);
    parts.push_back(std::move(part));
  }
  return absl::StrJoin(parts, ",");
}

absl::StatusOr<std::vector<FaultEvent>> ParseFaults(std::string_view text,
                                                    int node_count) {
  std::vector<FaultEvent> events;
  if (text.empty()) return events;
  const std::vector<std::string> parts =
      absl::StrSplit(absl::string_view(text.data(), text.size()), ',');
  if (parts.size() > kFaultEventsMax) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--faults has ", parts.size(), " events; at most ", kFaultEventsMax));
  }
  for (const std::string& part : parts) {
    const std::vector<std::string> fields = absl::StrSplit(part, ':');
    auto bad = [&](std::string_view why) {
      return absl::InvalidArgumentError(
          absl::StrCat("--faults event \"", part, "\": ", std::string(why),
                       " (expected <time_us>:<kind>[:<node>[:<arg>]])"));
    };
    if (fields.size() < 2 || fields.size() > 4) return bad("wrong field count");
    FaultEvent e;
    if (!absl::SimpleAtoi(fields[0], &e.at_us)) return bad("bad time");
    const auto kind = std::find_if(
        std::begin(kAllKinds), std::end(kAllKinds),
        [&](FaultKind k) { return FaultKindName(k) == fields[1]; });
    if (kind == std::end(kAllKinds)) return bad("unknown kind");
    e.kind = *kind;
    if (fields.size() >= 3 && !absl::SimpleAtoi(fields[2], &e.node)) {
      return bad("bad node");
    }
    if (fields.size() == 4 && !absl::SimpleAtoi(fields[3], &e.arg)) {
      return bad("bad argument");
    }
    if (e.node < 0 || e.node > node_count) {
      return bad(absl::StrCat("node must be in 1..", node_count));
    }
    if (NeedsNode(e.kind) && e.node == 0 && e.kind != FaultKind::kRestart) {
      return bad("this kind needs a node");
    }
    if (!events.empty() && e.at_us < events.back().at_us) {
      return bad("events must be in time order");
    }
    events.push_back(e);
  }
  return events;
}

std::string DescribeFault(const FaultEvent& event) {
  std::string text =
      absl::StrFormat("t=%.6fs %s", static_cast<double>(event.at_us) / 1e6,
                      std::string(FaultKindName(event.kind)));
  if (event.node != 0) absl::StrAppend(&text, " n", event.node);
  if (event.arg != 0) absl::StrAppend(&text, " arg=", event.arg);
  return text;
}

}  // namespace raftstore::sim
