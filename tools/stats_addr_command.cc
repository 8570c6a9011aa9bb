// `raftstore stats --addr HOST:PORT`: a running node's counters, read from
// its admin endpoint's /stats page (runtime/admin_pages.h) with one HTTP GET.
//
// The page is a superset of `stats --workdir --json`, so the text shares
// its lines (tools/stats_text.h); the live node adds each raft group's
// applied index and role, and lines for the node, the store, the
// transport, the client port and the storage worker. --json prints the
// page as the node served it. --no-region-metrics leaves out the region
// counts, as with --workdir.
//
// Exit codes: 0 printed; 1 the node could not be read (refused, timed out,
// not 200, not a /stats page), the message naming the address; 2 bad usage
// (an --addr that is not one HOST:PORT, a --timeout-ms out of range).

#include <cstdint>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "tools/command.h"
#include "tools/http_get.h"
#include "tools/stats_text.h"

// Defined with the commands that use them first (proto_commands.cc,
// kv_commands.cc, workdir_commands.cc).
ABSL_DECLARE_FLAG(bool, json);
ABSL_DECLARE_FLAG(std::string, addr);
ABSL_DECLARE_FLAG(uint64_t, timeout_ms);
ABSL_DECLARE_FLAG(bool, no_region_metrics);

namespace raftstore::tools {
namespace {

using nlohmann::json;

// The same bound as a kv operation's: longer is a stuck node.
constexpr uint64_t kStatsTimeoutMsMax = 600'000;

bool HasNumbers(const json& object, const std::vector<const char*>& names) {
  if (!object.is_object()) return false;
  for (const char* name : names) {
    if (!object.contains(name) || !object[name].is_number()) return false;
  }
  return true;
}

// The fields PrintStatsText reads, so that a page of another shape (another
// server on that port, another version) is an error, not a crash.
absl::Status CheckShape(const json& stats) {
  if (!stats.is_object()) return absl::UnavailableError("not a JSON object");
  if (!stats.contains("wal") ||
      !HasNumbers(stats["wal"], {"segments", "bytes", "records"}) ||
      !stats["wal"].contains("damage")) {
    return absl::UnavailableError("no \"wal\" with segments, bytes, records");
  }
  // PrintStatsText reads damage as a string, and cluster_id beside store_id
  // (a const json's operator[] on a missing key is undefined behaviour).
  if (const json& damage = stats["wal"]["damage"];
      !damage.is_null() && !damage.is_string()) {
    return absl::UnavailableError(
        "\"wal\".\"damage\" is neither null nor text");
  }
  if (stats.contains("store_id") && !stats.contains("cluster_id")) {
    return absl::UnavailableError("a \"store_id\" without a \"cluster_id\"");
  }
  if (!stats.contains("raft_groups") || !stats["raft_groups"].is_array()) {
    return absl::UnavailableError("no \"raft_groups\" array");
  }
  for (const json& group : stats["raft_groups"]) {
    if (!HasNumbers(group, {"region_id", "term", "snapshot_index",
                            "truncated_index", "commit_index", "last_index"})) {
      return absl::UnavailableError("a raft group lacks its indexes");
    }
  }
  if (stats.contains("regions") &&
      !HasNumbers(stats["regions"], {"total", "new", "running", "removing",
                                     "tombstone", "other"})) {
    return absl::UnavailableError("\"regions\" lacks its counts by state");
  }
  return absl::OkStatus();
}

// section.name as text, or "?" when the page lacks it.
std::string Number(const json& stats, const char* section, const char* name) {
  if (!stats.contains(section)) return "?";
  const json& object = stats[section];
  if (!object.is_object() || !object.contains(name) ||
      !object[name].is_number()) {
    return "?";
  }
  return object[name].dump();
}

void PrintLiveText(const json& s) {
  const std::string serving =
      s.contains("serving") && s["serving"].is_boolean()
          ? (s["serving"].get<bool>() ? "serving" : "stopping")
          : "?";
  std::cout << "node: " << serving << ", uptime "
            << (s.contains("uptime_ms") ? s["uptime_ms"].dump() : "?")
            << " ms, tick "
            << (s.contains("tick_ms") ? s["tick_ms"].dump() : "?")
            << " ms, leading "
            << (s.contains("leaders") ? s["leaders"].dump() : "?")
            << " regions\n";
  std::cout << "store: requests " << Number(s, "store", "requests")
            << ", proposals " << Number(s, "store", "proposals")
            << ", writes applied " << Number(s, "store", "writes_applied")
            << ", reads served " << Number(s, "store", "reads_served")
            << ", busy refusals " << Number(s, "store", "busy_refusals")
            << ", not-leader refusals "
            << Number(s, "store", "not_leader_refusals") << "\n";
  std::cout << "transport: dials " << Number(s, "transport", "dials")
            << ", dial failures " << Number(s, "transport", "dial_failures")
            << ", sends " << Number(s, "transport", "sends")
            << ", send failures " << Number(s, "transport", "send_failures")
            << ", retries " << Number(s, "transport", "retries") << ", drops "
            << Number(s, "transport", "drops") << ", blocked peers "
            << Number(s, "transport", "blocked_peers") << "\n";
  std::cout << "client port: connections open "
            << Number(s, "client_port", "connections_open") << ", accepted "
            << Number(s, "client_port", "connections_accepted")
            << ", frames received "
            << Number(s, "client_port", "frames_received") << ", frames sent "
            << Number(s, "client_port", "frames_sent") << "\n";
  std::cout << "storage: jobs " << Number(s, "node", "storage_jobs")
            << ", syncs " << Number(s, "node", "storage_syncs")
            << ", longest write+sync "
            << Number(s, "node", "storage_sync_us_max") << " us\n";
}

}  // namespace

int RunStatsAddr(const std::vector<std::string>& args) {
  (void)args;  // RunStats refused any
  const std::string addr = absl::GetFlag(FLAGS_addr);
  if (addr.find_first_of("=,") != std::string::npos) {
    std::cerr << "error: stats --addr takes one node's admin endpoint "
                 "HOST:PORT, not a store list: \""
              << addr << "\"\n";
    return kExitUsage;
  }
  const uint64_t timeout_ms = absl::GetFlag(FLAGS_timeout_ms);
  if (timeout_ms < 1 || timeout_ms > kStatsTimeoutMsMax) {
    std::cerr << "error: --timeout-ms=" << timeout_ms << " is outside 1.."
              << kStatsTimeoutMsMax << "\n";
    return kExitUsage;
  }
  absl::StatusOr<std::string> body = HttpGet(addr, "/stats", timeout_ms);
  if (!body.ok()) {
    std::cerr << "error: " << body.status().message() << "\n";
    return absl::IsInvalidArgument(body.status()) ? kExitUsage : kExitProblem;
  }
  json stats = json::parse(*body, nullptr, /*allow_exceptions=*/false);
  if (absl::Status shape = stats.is_discarded()
                               ? absl::UnavailableError("not JSON")
                               : CheckShape(stats);
      !shape.ok()) {
    std::cerr << "error: http://" << addr
              << "/stats is not a raftstore /stats page: " << shape.message()
              << "\n";
    return kExitProblem;
  }
  if (absl::GetFlag(FLAGS_no_region_metrics)) stats.erase("regions");
  if (absl::GetFlag(FLAGS_json)) {
    std::cout << stats.dump(2) << "\n";
    return kExitOk;
  }
  PrintStatsText(stats);
  PrintLiveText(stats);
  return kExitOk;
}

}  // namespace raftstore::tools
