// `raftstore kv`: one operation against a running cluster, through its
// stores' client ports and the client library over TCP
// (runtime/sync_kv_client.h: routing, leader hints, retries, exactly-once
// writes).
//
//   raftstore kv put KEY VALUE --addr=ID=HOST:PORT,...
//   raftstore kv get KEY --addr=...
//   raftstore kv delete KEY --addr=...
//   raftstore kv scan [--start=K] [--end=K] [--limit=N] --addr=...
//   raftstore kv cas KEY EXPECTED NEW --addr=...
//   raftstore kv cas KEY NEW --expect-absent --addr=...
//
// Every form takes --timeout-ms (the operation's deadline over all its
// attempts), --cluster-id and --auth-token (the cluster's HELLO), and
// --json (one JSON object on stdout instead of text).
//
// What is printed, and the exit code (tools/command.h):
//   put      "ok"                                              0
//   get      the value, raw                                    0
//            "(not found)" on stderr                           1
//   delete   "deleted", or "not found (nothing deleted)"       0
//   scan     "KEY<TAB>VALUE" per pair, in key order            0
//   cas      "applied"                                         0
//            "not applied (current: V)" or "(current: absent)" 1
// An operation that did not complete ok prints why on stderr and exits 1:
// a write that certainly did not apply says so; a write whose outcome is
// unknown (its deadline passed while an attempt may have reached a leader)
// says it may or may not have applied; a read says it failed. Bad usage (a
// missing KEY, an unknown subcommand, a bad --addr entry, a flag out of
// range or meant for another subcommand) exits 2 naming what was wrong.
//
// Keys and values in scan lines, cas's current value, messages and JSON
// are escaped: bytes outside printable ASCII, tab, newline and backslash
// become \t \n \r \\ \xHH, so a line always splits at its tab. `get`
// prints the value's bytes as they are.

#include <algorithm>
#include <cstdint>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "core/client/kv_client.h"
#include "nlohmann/json.hpp"
#include "proto/kvrpc.pb.h"
#include "runtime/node_options.h"
#include "runtime/sync_kv_client.h"
#include "tools/command.h"

// Defined with the command that uses it first (proto_commands.cc).
ABSL_DECLARE_FLAG(bool, json);
ABSL_FLAG(std::string, addr, "",
          "kv: the stores' client ports, ID=HOST:PORT,...; stats: a node's "
          "admin HTTP endpoint, HOST:PORT");
ABSL_FLAG(uint64_t, timeout_ms, 5'000,
          "kv: the operation's deadline over all its attempts; stats --addr: "
          "the HTTP request's");
ABSL_FLAG(uint64_t, cluster_id, 1, "kv: the cluster's id (its HELLO)");
ABSL_FLAG(std::string, auth_token, "",
          "kv: the cluster's shared secret (empty if it has none)");
ABSL_FLAG(std::optional<std::string>, start, std::nullopt,
          "kv scan: the first key (default: the start of the key space)");
ABSL_FLAG(std::optional<std::string>, end, std::nullopt,
          "kv scan: the key to stop before (default: the end of the key "
          "space)");
ABSL_FLAG(std::optional<uint32_t>, limit, std::nullopt,
          "kv scan: at most this many pairs (default 100, at most 1024)");
ABSL_FLAG(bool, expect_absent, false,
          "kv cas: swap only if the key does not exist (then: cas KEY NEW)");

namespace raftstore::tools {
namespace {

using nlohmann::json;

constexpr uint32_t kScanLimitDefault = 100;
// The client library's scan_limit_max (core/client/kv_client.h): a larger
// limit is refused there, so it is refused here first, naming the flag.
constexpr uint32_t kScanLimitMax = 1024;

enum class Verb { kPut, kGet, kDelete, kScan, kCas };

// One parsed command line: the operation and what its report needs.
struct KvCall {
  Verb verb = Verb::kGet;
  std::string name;  // "put", for messages
  std::string key;   // the operand KEY (none for scan)
  kv::KvRequest op;
  uint32_t limit = 0;  // scan
};

bool IsWrite(Verb verb) { return verb != Verb::kGet && verb != Verb::kScan; }

std::string Escape(absl::string_view bytes) {
  std::string out;
  for (const char c : bytes) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c >= 0x20 && c < 0x7f) {
          out += c;
        } else {
          absl::StrAppendFormat(&out, "\\x%02x", static_cast<unsigned char>(c));
        }
    }
  }
  return out;
}

absl::Status Arity(const std::string& verb,
                   const std::vector<std::string>& operands, size_t want,
                   const char* shape) {
  if (operands.size() == want) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("kv ", verb, " needs ", shape, ", got ", operands.size(),
                   " argument", operands.size() == 1 ? "" : "s"));
}

// --start/--end/--limit belong to scan, --expect-absent to cas: given to
// another subcommand they would be silently ignored, so they are refused.
absl::Status CheckFlagsFit(Verb verb, const std::string& name) {
  std::string misplaced;  // "--flag" and the subcommand it belongs to
  if (verb != Verb::kScan) {
    if (absl::GetFlag(FLAGS_start).has_value()) {
      misplaced = "--start applies to kv scan";
    } else if (absl::GetFlag(FLAGS_end).has_value()) {
      misplaced = "--end applies to kv scan";
    } else if (absl::GetFlag(FLAGS_limit).has_value()) {
      misplaced = "--limit applies to kv scan";
    }
  }
  if (verb != Verb::kCas && absl::GetFlag(FLAGS_expect_absent)) {
    misplaced = "--expect-absent applies to kv cas";
  }
  if (misplaced.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(misplaced, " only, not kv ", name));
}

absl::Status BuildScan(KvCall& call) {
  const std::string start = absl::GetFlag(FLAGS_start).value_or("");
  const std::string end = absl::GetFlag(FLAGS_end).value_or("");
  if (!end.empty() && end <= start) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--end=", Escape(end), " must sort after --start=", Escape(start),
        " (an empty --end means the end)"));
  }
  call.limit = absl::GetFlag(FLAGS_limit).value_or(kScanLimitDefault);
  if (call.limit < 1 || call.limit > kScanLimitMax) {
    return absl::InvalidArgumentError(
        absl::StrCat("--limit=", call.limit, " is outside 1..", kScanLimitMax));
  }
  kv::ScanRequest* scan = call.op.mutable_scan();
  scan->set_start_key(start);
  scan->set_end_key(end);
  scan->set_limit(call.limit);
  return absl::OkStatus();
}

absl::Status BuildCas(const std::vector<std::string>& operands, KvCall& call) {
  const bool absent = absl::GetFlag(FLAGS_expect_absent);
  if (absl::Status s =
          absent ? Arity("cas", operands, 2, "KEY NEW with --expect-absent")
                 : Arity("cas", operands, 3,
                         "KEY EXPECTED NEW (or KEY NEW with --expect-absent)");
      !s.ok()) {
    return s;
  }
  kv::CompareAndSwapRequest* cas = call.op.mutable_compare_and_swap();
  cas->set_key(operands[0]);
  cas->set_expect_absent(absent);
  if (!absent) cas->set_expected_value(operands[1]);
  cas->set_new_value(operands.back());
  return absl::OkStatus();
}

// args: the subcommand, then its operands.
absl::StatusOr<KvCall> ParseCall(const std::vector<std::string>& args) {
  if (args.empty()) {
    return absl::InvalidArgumentError(
        "kv needs a subcommand: put, get, delete, scan or cas");
  }
  KvCall call;
  call.name = args[0];
  const std::vector<std::string> operands(args.begin() + 1, args.end());
  absl::Status status;
  if (call.name == "put") {
    call.verb = Verb::kPut;
    status = Arity("put", operands, 2, "KEY VALUE");
    if (status.ok()) {
      call.op.mutable_put()->set_key(operands[0]);
      call.op.mutable_put()->set_value(operands[1]);
    }
  } else if (call.name == "get") {
    call.verb = Verb::kGet;
    status = Arity("get", operands, 1, "KEY");
    if (status.ok()) call.op.mutable_get()->set_key(operands[0]);
  } else if (call.name == "delete") {
    call.verb = Verb::kDelete;
    status = Arity("delete", operands, 1, "KEY");
    if (status.ok()) call.op.mutable_delete_()->set_key(operands[0]);
  } else if (call.name == "scan") {
    call.verb = Verb::kScan;
    status = Arity("scan", operands, 0, "no arguments (use --start/--end)");
    if (status.ok()) status = BuildScan(call);
  } else if (call.name == "cas") {
    call.verb = Verb::kCas;
    status = BuildCas(operands, call);
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown kv subcommand '", call.name,
                     "'; expected put, get, delete, scan or cas"));
  }
  if (status.ok()) status = CheckFlagsFit(call.verb, call.name);
  if (status.ok() && call.verb != Verb::kScan) call.key = operands[0];
  if (!status.ok()) return status;
  return call;
}

absl::StatusOr<runtime::SyncKvClientOptions> OptionsFromFlags() {
  const std::string addr = absl::GetFlag(FLAGS_addr);
  if (addr.empty()) {
    return absl::InvalidArgumentError(
        "kv needs --addr=ID=HOST:PORT,... (the stores' client ports)");
  }
  absl::StatusOr<absl::btree_map<uint64_t, std::string>> stores =
      runtime::ParsePeerList(addr);
  if (!stores.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--addr: ", stores.status().message()));
  }
  const uint64_t timeout_ms = absl::GetFlag(FLAGS_timeout_ms);
  if (timeout_ms < 1 || timeout_ms > runtime::kSyncKvTimeoutMsMax) {
    return absl::InvalidArgumentError(
        absl::StrCat("--timeout-ms=", timeout_ms, " is outside 1..",
                     runtime::kSyncKvTimeoutMsMax));
  }
  runtime::SyncKvClientOptions options;
  options.cluster_id = absl::GetFlag(FLAGS_cluster_id);
  if (options.cluster_id == 0) {
    return absl::InvalidArgumentError("--cluster-id must be nonzero");
  }
  options.auth_token = absl::GetFlag(FLAGS_auth_token);
  options.stores = *std::move(stores);
  // An attempt gets a tenth of the deadline, between 50 ms and 1 s: several
  // attempts fit before it, even with a dead store first in line.
  options.attempt_timeout_ms = std::clamp<uint64_t>(timeout_ms / 10, 50, 1'000);
  return options;
}

// Why a completion is not ok, in one line for stderr.
std::string NotOkMessage(const KvCall& call, const client::Completion& c,
                         const runtime::SyncKvClientStats& stats) {
  std::string out = absl::StrCat("kv ", call.name);
  if (c.outcome == client::Outcome::kUnknown) {
    absl::StrAppend(&out, " timed out after ", absl::GetFlag(FLAGS_timeout_ms),
                    " ms: it may or may not have applied");
  } else if (IsWrite(call.verb)) {
    absl::StrAppend(&out, " failed: it was not applied");
  } else {
    absl::StrAppend(&out, " failed (no answer by the deadline, after ",
                    absl::GetFlag(FLAGS_timeout_ms), " ms)");
  }
  if (!c.error.message().empty()) {
    absl::StrAppend(&out, "; last error: ", c.error.message());
  }
  if (stats.responses_received == 0) {
    absl::StrAppend(&out, "; no store answered (", stats.dials, " dials, ",
                    stats.connections_closed,
                    " connections closed): check --addr, --cluster-id and "
                    "--auth-token, and that the nodes are running");
  }
  return out;
}

// What the op returned, as JSON fields and text; the exit code.
int ReportOk(const KvCall& call, const kv::KvResponse& r, json& j) {
  const bool as_json = absl::GetFlag(FLAGS_json);
  switch (call.verb) {
    case Verb::kPut:
      if (!as_json) std::cout << "ok\n";
      return kExitOk;
    case Verb::kGet:
      j["found"] = r.get().found();
      if (r.get().found()) j["value"] = Escape(r.get().value());
      if (as_json) return r.get().found() ? kExitOk : kExitProblem;
      if (!r.get().found()) {
        std::cerr << "(not found)\n";
        return kExitProblem;
      }
      std::cout << r.get().value() << "\n";
      return kExitOk;
    case Verb::kDelete:
      j["existed"] = r.delete_().existed();
      if (!as_json) {
        std::cout << (r.delete_().existed() ? "deleted"
                                            : "not found (nothing deleted)")
                  << "\n";
      }
      return kExitOk;
    case Verb::kScan: {
      json pairs = json::array();
      for (const kv::KvPair& pair : r.scan().pairs()) {
        if (as_json) {
          pairs.push_back(
              {{"key", Escape(pair.key())}, {"value", Escape(pair.value())}});
        } else {
          std::cout << Escape(pair.key()) << "\t" << Escape(pair.value())
                    << "\n";
        }
      }
      j["pairs"] = pairs;
      j["more"] = r.scan().more();
      if (!as_json && r.scan().more()) {
        std::cerr << "(stopped at --limit=" << call.limit
                  << "; more keys may follow)\n";
      }
      return kExitOk;
    }
    case Verb::kCas: {
      const kv::CompareAndSwapResponse& cas = r.compare_and_swap();
      j["applied"] = cas.succeeded();
      j["previous_found"] = cas.previous_found();
      if (cas.previous_found()) j["previous"] = Escape(cas.previous_value());
      if (!as_json) {
        if (cas.succeeded()) {
          std::cout << "applied\n";
        } else {
          std::cout << "not applied (current: "
                    << (cas.previous_found() ? Escape(cas.previous_value())
                                             : "absent")
                    << ")\n";
        }
      }
      return cas.succeeded() ? kExitOk : kExitProblem;
    }
  }
  return kExitProblem;
}

int Report(const KvCall& call, const client::Completion& completion,
           const runtime::SyncKvClientStats& stats) {
  json j = {{"op", call.name},
            {"outcome", std::string(client::OutcomeName(completion.outcome))}};
  if (call.verb != Verb::kScan) j["key"] = Escape(call.key);
  int code = kExitProblem;
  if (completion.outcome == client::Outcome::kOk) {
    code = ReportOk(call, completion.response, j);
  } else {
    const std::string message = NotOkMessage(call, completion, stats);
    j["error"] = Escape(message);
    std::cerr << "error: " << message << "\n";
  }
  if (absl::GetFlag(FLAGS_json)) std::cout << j.dump(2) << "\n";
  return code;
}

}  // namespace

int RunKv(const std::vector<std::string>& args) {
  absl::StatusOr<KvCall> call = ParseCall(args);
  if (!call.ok()) {
    std::cerr << "error: " << call.status().message()
              << "\nusage: raftstore kv put|get|delete|scan|cas ... "
                 "--addr=ID=HOST:PORT,... (see raftstore help)\n";
    return kExitUsage;
  }
  absl::StatusOr<runtime::SyncKvClientOptions> options = OptionsFromFlags();
  if (!options.ok()) {
    std::cerr << "error: " << options.status().message() << "\n";
    return kExitUsage;
  }
  absl::StatusOr<std::unique_ptr<runtime::SyncKvClient>> client =
      runtime::SyncKvClient::Create(*options);
  if (!client.ok()) {
    std::cerr << "error: --addr: " << client.status().message() << "\n";
    return kExitUsage;
  }
  absl::StatusOr<client::Completion> completion =
      (*client)->Run(call->op, absl::GetFlag(FLAGS_timeout_ms));
  if (!completion.ok()) {
    // Refused before it started: the op itself is malformed or too big.
    std::cerr << "error: kv " << call->name << ": "
              << completion.status().message() << "\n";
    return absl::IsInvalidArgument(completion.status()) ? kExitUsage
                                                        : kExitProblem;
  }
  return Report(*call, *completion, (*client)->stats());
}

}  // namespace raftstore::tools
