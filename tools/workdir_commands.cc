// `raftstore regions` and `raftstore stats --workdir`: a store's catalog and
// counters read from its data directory, read-only, so they work on a
// stopped node (and on a running one: they read what is on disk).
//
//   raftstore regions --workdir DIR [--json] [--state S] [--key K]
//   raftstore stats --workdir DIR [--json] [--no-region-metrics]
//   (stats --addr HOST:PORT reads a running node: stats_addr_command.cc)
//
// `regions` lists the manifest's region catalog: id, state, epoch, key range
// and peers; --state keeps one state, --key keeps the live (New or Running)
// region whose range holds the key. `stats` counts regions by state, the WAL's
// segments and bytes, and per raft group the snapshot, truncated, committed
// and last indexes the WAL holds. Nothing here writes to the directory: the
// WAL is replayed in memory, and damage is reported, not cut.

#include <cstdint>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "core/storage/manifest/manifest.h"
#include "core/storage/wal/replay.h"
#include "core/storage/wal/segment_io.h"
#include "core/storage/wal/wal_options.h"
#include "nlohmann/json.hpp"
#include "runtime/posix_disk.h"
#include "tools/command.h"
#include "tools/stats_text.h"

// Defined with the commands that use them first (storage_commands.cc,
// proto_commands.cc, kv_commands.cc).
ABSL_DECLARE_FLAG(std::string, workdir);
ABSL_DECLARE_FLAG(bool, json);
ABSL_DECLARE_FLAG(std::string, addr);
ABSL_FLAG(std::string, state, "",
          "regions: only regions in this state (new, running, removing, "
          "tombstone)");
ABSL_FLAG(std::optional<std::string>, key, std::nullopt,
          "regions: only the live region whose range holds this key");
ABSL_FLAG(bool, no_region_metrics, false,
          "stats: leave out the region counts by state");

namespace raftstore::tools {
namespace {

using nlohmann::json;

absl::StatusOr<std::unique_ptr<runtime::PosixDisk>> OpenDataDir(
    const char* command) {
  const std::string workdir = absl::GetFlag(FLAGS_workdir);
  if (workdir.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        command, " needs --workdir DIR (the store's data directory)"));
  }
  return runtime::PosixDisk::Open(workdir);
}

std::string StateName(meta::RegionState state) {
  std::string name = meta::RegionState_Name(state);
  const std::string prefix = "REGION_STATE_";
  if (name.rfind(prefix, 0) == 0) name = name.substr(prefix.size());
  return absl::AsciiStrToLower(name);
}

bool Live(meta::RegionState state) {
  return state == meta::REGION_STATE_NEW || state == meta::REGION_STATE_RUNNING;
}

bool HoldsKey(const meta::Region& region, const std::string& key) {
  return key >= region.start_key() &&
         (region.end_key().empty() || key < region.end_key());
}

json RegionJson(const manifest::RegionRecord& record) {
  const meta::Region& region = record.local_state().region();
  json peers = json::array();
  for (const meta::Peer& peer : region.peers()) {
    peers.push_back({{"id", peer.id()},
                     {"store_id", peer.store_id()},
                     {"learner", peer.role() == meta::PEER_ROLE_LEARNER}});
  }
  return {{"id", record.region_id()},
          {"state", StateName(record.local_state().state())},
          {"epoch",
           {{"version", region.epoch().version()},
            {"conf_version", region.epoch().conf_version()}}},
          // Keys are bytes: C-escaped so the output stays valid UTF-8.
          {"start_key", absl::CEscape(region.start_key())},
          {"end_key", absl::CEscape(region.end_key())},
          {"peers", peers}};
}

std::string RegionText(const manifest::RegionRecord& record) {
  const meta::Region& region = record.local_state().region();
  std::string peers;
  for (const meta::Peer& peer : region.peers()) {
    absl::StrAppend(&peers, peers.empty() ? "" : ",", peer.id(), "@s",
                    peer.store_id(),
                    peer.role() == meta::PEER_ROLE_LEARNER ? "(learner)" : "");
  }
  const std::string start =
      region.start_key().empty() ? "-inf" : absl::CEscape(region.start_key());
  const std::string end =
      region.end_key().empty() ? "+inf" : absl::CEscape(region.end_key());
  return absl::StrCat("region ", record.region_id(), "  ",
                      StateName(record.local_state().state()), "  epoch ",
                      region.epoch().version(), "/",
                      region.epoch().conf_version(), "  [", start, ", ", end,
                      ")  peers ", peers);
}

// The records `regions` prints, after its filters; an error for a bad
// --state.
absl::StatusOr<std::vector<manifest::RegionRecord>> SelectRegions(
    const storage::ManifestState& state) {
  const std::string wanted = absl::AsciiStrToLower(absl::GetFlag(FLAGS_state));
  if (!wanted.empty() && wanted != "new" && wanted != "running" &&
      wanted != "removing" && wanted != "tombstone") {
    return absl::InvalidArgumentError(absl::StrCat(
        "--state ", wanted, ": expected new, running, removing or tombstone"));
  }
  const std::optional<std::string> key = absl::GetFlag(FLAGS_key);
  std::vector<manifest::RegionRecord> out;
  for (const auto& [id, record] : state.regions) {
    const meta::RegionState s = record.local_state().state();
    if (!wanted.empty() && StateName(s) != wanted) continue;
    if (key.has_value() &&
        (!Live(s) || !HoldsKey(record.local_state().region(), *key))) {
      continue;
    }
    out.push_back(record);
  }
  return out;
}

absl::StatusOr<storage::ManifestDump> ReadDirManifest(const char* command) {
  absl::StatusOr<std::unique_ptr<runtime::PosixDisk>> disk =
      OpenDataDir(command);
  if (!disk.ok()) return disk.status();
  return storage::ReadManifest(disk->get());
}

int ReportError(const absl::Status& status) {
  std::cerr << "error: " << status << "\n";
  return absl::IsInvalidArgument(status) || absl::IsNotFound(status)
             ? kExitUsage
             : kExitProblem;
}

// What `stats` learns from the WAL, read-only.
struct WalFacts {
  uint64_t segments = 0;
  uint64_t bytes = 0;
  uint64_t records = 0;
  // Damage found (a torn tail a restart would cut, or corruption).
  std::optional<std::string> damage;
  absl::btree_map<uint64_t, storage::WalGroupState> groups;
};

absl::StatusOr<WalFacts> ReadWalFacts(storage::Disk* disk) {
  WalFacts facts;
  absl::StatusOr<std::vector<uint64_t>> sequences = storage::ListSegments(disk);
  if (!sequences.ok()) return sequences.status();
  storage::WalReplay replay{storage::WalOptions{}};
  for (uint64_t sequence : *sequences) {
    const std::string name = storage::SegmentFileName(sequence);
    absl::StatusOr<std::string> bytes = storage::ReadFile(disk, name);
    if (!bytes.ok()) return bytes.status();
    ++facts.segments;
    facts.bytes += bytes->size();
    const storage::SegmentScan scan = replay.ReplaySegment(sequence, *bytes);
    if (!scan.header_ok || !scan.clean) {
      facts.damage = std::string(scan.error.message());
      break;
    }
  }
  if (!facts.damage.has_value()) {
    if (absl::Status finished = replay.Finish(); !finished.ok()) {
      facts.damage = std::string(finished.message());
    }
  }
  facts.records = replay.records();
  facts.groups = replay.TakeGroups();
  return facts;
}

uint64_t LastIndex(const storage::WalGroupState& group) {
  if (!group.entries.empty()) return group.entries.back().index();
  return std::max(group.snapshot.index(), group.truncated_index);
}

json StatsJson(const storage::ManifestDump& manifest, const WalFacts& wal) {
  json out;
  if (manifest.state.ident.has_value()) {
    out["cluster_id"] = manifest.state.ident->cluster_id();
    out["store_id"] = manifest.state.ident->store_id();
  }
  if (!absl::GetFlag(FLAGS_no_region_metrics)) {
    std::map<std::string, uint64_t> counts = {
        {"new", 0}, {"running", 0}, {"removing", 0}, {"tombstone", 0}};
    uint64_t other = 0;
    for (const auto& [id, record] : manifest.state.regions) {
      auto it = counts.find(StateName(record.local_state().state()));
      if (it == counts.end()) {
        ++other;
      } else {
        ++it->second;
      }
    }
    json regions = counts;
    regions["total"] = manifest.state.regions.size();
    regions["other"] = other;
    out["regions"] = regions;
  }
  out["wal"] = {
      {"segments", wal.segments},
      {"bytes", wal.bytes},
      {"records", wal.records},
      {"damage", wal.damage.has_value() ? json(*wal.damage) : json(nullptr)}};
  json groups = json::array();
  for (const auto& [id, group] : wal.groups) {
    groups.push_back({{"region_id", id},
                      {"snapshot_index", group.snapshot.index()},
                      {"truncated_index", group.truncated_index},
                      {"commit_index", group.hard_state.commit()},
                      {"term", group.hard_state.term()},
                      {"last_index", LastIndex(group)},
                      {"entries", group.entries.size()}});
  }
  out["raft_groups"] = groups;
  return out;
}

}  // namespace

void PrintStatsText(const json& stats) {
  if (stats.contains("store_id")) {
    std::cout << "store " << stats["store_id"] << " of cluster "
              << stats["cluster_id"] << "\n";
  }
  if (stats.contains("regions")) {
    const json& r = stats["regions"];
    std::cout << "regions: total " << r["total"] << ", new " << r["new"]
              << ", running " << r["running"] << ", removing " << r["removing"]
              << ", tombstone " << r["tombstone"] << ", other " << r["other"]
              << "\n";
  }
  const json& w = stats["wal"];
  std::cout << "wal: " << w["segments"] << " segments, " << w["bytes"]
            << " bytes, " << w["records"] << " records";
  if (!w["damage"].is_null()) {
    std::cout << ", damage: " << w["damage"].get<std::string>();
  }
  std::cout << "\nraft groups: " << stats["raft_groups"].size() << "\n";
  for (const json& g : stats["raft_groups"]) {
    std::cout << "  region " << g["region_id"] << "  term " << g["term"]
              << "  snapshot " << g["snapshot_index"] << "  truncated "
              << g["truncated_index"] << "  commit " << g["commit_index"]
              << "  last " << g["last_index"];
    // A live node's page (stats --addr) also knows these; the WAL does not.
    if (g.contains("applied_index")) {
      std::cout << "  applied " << g["applied_index"];
    }
    if (g.contains("role") && g["role"].is_string()) {
      std::cout << "  " << g["role"].get<std::string>();
    }
    std::cout << "\n";
  }
}

int RunRegions(const std::vector<std::string>& args) {
  if (!args.empty()) {
    std::cerr << "error: regions takes no arguments, got \"" << args[0]
              << "\"\n";
    return kExitUsage;
  }
  absl::StatusOr<storage::ManifestDump> dump = ReadDirManifest("regions");
  if (!dump.ok()) return ReportError(dump.status());
  absl::StatusOr<std::vector<manifest::RegionRecord>> records =
      SelectRegions(dump->state);
  if (!records.ok()) return ReportError(records.status());
  if (absl::GetFlag(FLAGS_json)) {
    json out = json::array();
    for (const manifest::RegionRecord& record : *records) {
      out.push_back(RegionJson(record));
    }
    std::cout << out.dump(2) << "\n";
  } else {
    for (const manifest::RegionRecord& record : *records) {
      std::cout << RegionText(record) << "\n";
    }
  }
  // --key with no live region holding it is a finding, not a usage error.
  return absl::GetFlag(FLAGS_key).has_value() && records->empty() ? kExitProblem
                                                                  : kExitOk;
}

int RunStats(const std::vector<std::string>& args) {
  if (!args.empty()) {
    std::cerr << "error: stats takes no arguments, got \"" << args[0] << "\"\n";
    return kExitUsage;
  }
  const bool by_addr = !absl::GetFlag(FLAGS_addr).empty();
  const bool by_dir = !absl::GetFlag(FLAGS_workdir).empty();
  if (by_addr == by_dir) {
    std::cerr << "error: stats needs --workdir DIR (a data directory) or "
                 "--addr HOST:PORT (a running node's admin endpoint)"
              << (by_addr ? ", not both" : "") << "\n";
    return kExitUsage;
  }
  if (by_addr) return RunStatsAddr(args);
  absl::StatusOr<std::unique_ptr<runtime::PosixDisk>> disk =
      OpenDataDir("stats");
  if (!disk.ok()) return ReportError(disk.status());
  absl::StatusOr<storage::ManifestDump> manifest =
      storage::ReadManifest(disk->get());
  if (!manifest.ok()) return ReportError(manifest.status());
  absl::StatusOr<WalFacts> wal = ReadWalFacts(disk->get());
  if (!wal.ok()) return ReportError(wal.status());
  const json stats = StatsJson(*manifest, *wal);
  if (absl::GetFlag(FLAGS_json)) {
    std::cout << stats.dump(2) << "\n";
  } else {
    PrintStatsText(stats);
  }
  return wal->damage.has_value() ? kExitProblem : kExitOk;
}

}  // namespace raftstore::tools
