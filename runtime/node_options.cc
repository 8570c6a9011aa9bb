#include "runtime/node_options.h"

#include <cstdint>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"

namespace raftstore::runtime {
namespace {

// A config file larger than this is not a config file.
constexpr uint64_t kConfigFileBytesMax = uint64_t{1} << 20;
// Stores in --peers, at most (the transport's peers_max is larger).
constexpr size_t kPeersMax = 1'000;

enum class Kind { kUint, kString, kPeers, kBool };

// One option: its flag name (without "--"), how its value is read, where it
// goes, and its line in the usage text.
struct Spec {
  const char* name;
  Kind kind;
  const char* help;
  std::function<absl::Status(const std::string& value, NodeOptions*)> set;
};

absl::StatusOr<uint64_t> ParseUint(absl::string_view value) {
  uint64_t out = 0;
  if (value.empty() || !std::all_of(value.begin(), value.end(), [](char c) {
        return absl::ascii_isdigit(static_cast<unsigned char>(c));
      })) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", value, "' is not a non-negative integer"));
  }
  if (!absl::SimpleAtoi(value, &out)) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", value, "' is out of range"));
  }
  return out;
}

absl::StatusOr<bool> ParseBool(absl::string_view value) {
  if (value == "true" || value == "1" || value == "yes") return true;
  if (value == "false" || value == "0" || value == "no") return false;
  return absl::InvalidArgumentError(
      absl::StrCat("'", value, "' is not true or false"));
}

Spec UintSpec(const char* name, const char* help,
              uint64_t NodeOptions::*field) {
  return Spec{name, Kind::kUint, help,
              [field](const std::string& value, NodeOptions* options) {
                absl::StatusOr<uint64_t> parsed = ParseUint(value);
                if (!parsed.ok()) return parsed.status();
                options->*field = *parsed;
                return absl::OkStatus();
              }};
}

Spec StringSpec(const char* name, const char* help,
                std::string NodeOptions::*field) {
  return Spec{name, Kind::kString, help,
              [field](const std::string& value, NodeOptions* options) {
                options->*field = value;
                return absl::OkStatus();
              }};
}

Spec InitSpec(const char* name, const char* help, NodeInit init) {
  return Spec{
      name, Kind::kBool, help,
      [init](const std::string& value, NodeOptions* options) {
        absl::StatusOr<bool> on = ParseBool(value);
        if (!on.ok()) return on.status();
        if (*on) {
          if (options->init != NodeInit::kNone && options->init != init) {
            return absl::InvalidArgumentError(
                "--bootstrap and --join exclude each other");
          }
          options->init = init;
        } else if (options->init == init) {
          options->init = NodeInit::kNone;
        }
        return absl::OkStatus();
      }};
}

const std::vector<Spec>& Specs() {
  static const std::vector<Spec>* const specs = new std::vector<Spec>{
      UintSpec("cluster-id", "the cluster's id (nonzero; every node the same)",
               &NodeOptions::cluster_id),
      UintSpec("store-id", "this store's id (nonzero, unique in the cluster)",
               &NodeOptions::store_id),
      StringSpec("data-dir",
                 "the store's data directory (manifest, WAL, "
                 "snapshots)",
                 &NodeOptions::data_dir),
      StringSpec("listen",
                 "raft port host:port (default: this store's --peers entry)",
                 &NodeOptions::listen),
      StringSpec("client-listen", "client port host:port (required)",
                 &NodeOptions::client_listen),
      StringSpec("admin-listen",
                 "admin HTTP host:port (/metrics, /stats, /regions); empty "
                 "for none",
                 &NodeOptions::admin_listen),
      Spec{"peers", Kind::kPeers,
           "every store of the cluster, this one included: "
           "id=host:port,id=host:port,...",
           [](const std::string& value, NodeOptions* options) {
             absl::StatusOr<absl::btree_map<uint64_t, std::string>> peers =
                 ParsePeerList(value);
             if (!peers.ok()) return peers.status();
             options->peers = *std::move(peers);
             return absl::OkStatus();
           }},
      StringSpec("auth-token",
                 "the cluster's shared secret for HELLOs (default empty)",
                 &NodeOptions::auth_token),
      InitSpec("bootstrap",
               "create this store and the cluster's first region if the data "
               "directory holds no store",
               NodeInit::kBootstrap),
      InitSpec("join",
               "create this store with no region if the data directory holds "
               "no store (a membership change adds it later)",
               NodeInit::kJoin),
      Spec{"chaos-endpoints", Kind::kBool,
           "serve /chaos/block/<store> and /chaos/unblock/<store> on the "
           "admin endpoint (fault-injection tests only)",
           [](const std::string& value, NodeOptions* options) {
             absl::StatusOr<bool> on = ParseBool(value);
             if (!on.ok()) return on.status();
             options->chaos_endpoints = *on;
             return absl::OkStatus();
           }},
      UintSpec("tick-ms", "raft tick interval in ms (default 100)",
               &NodeOptions::tick_ms),
      UintSpec("heartbeat-ticks", "ticks between heartbeats (default 1)",
               &NodeOptions::heartbeat_ticks),
      UintSpec("election-ticks",
               "election timeout in ticks, randomised up to twice this "
               "(default 10)",
               &NodeOptions::election_ticks),
      UintSpec("client-requests-max",
               "client requests in flight in all (default 65536)",
               &NodeOptions::client_requests_max),
      UintSpec("client-requests-per-connection-max",
               "client requests in flight per connection (default 4096)",
               &NodeOptions::client_requests_per_connection_max),
      UintSpec("client-request-ttl-ms",
               "an unanswered client request is forgotten after this long "
               "(default 60000)",
               &NodeOptions::client_request_ttl_ms),
      UintSpec("client-connections-max",
               "open client connections at most (default 1024)",
               &NodeOptions::client_connections_max),
      UintSpec("wal-segment-bytes", "WAL segment size (default 64 MiB)",
               &NodeOptions::wal_segment_bytes),
      UintSpec("raft-log-gc-entries",
               "entries applied between a region's snapshots (default 10000)",
               &NodeOptions::raft_log_gc_entries),
  };
  return *specs;
}

const Spec* FindSpec(absl::string_view name) {
  for (const Spec& spec : Specs()) {
    if (name == spec.name) return &spec;
  }
  return nullptr;
}

// "store_id" -> "store-id".
std::string NormalizeName(absl::string_view name) {
  std::string out(name);
  for (char& c : out) {
    if (c == '_') c = '-';
  }
  return out;
}

// One name=value pair and where it came from (for messages).
struct Setting {
  std::string name;
  std::string value;
  std::string origin;
};

absl::Status Apply(const Setting& setting, NodeOptions* options) {
  const Spec* spec = FindSpec(setting.name);
  if (spec == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(setting.origin, ": unknown option '", setting.name, "'"));
  }
  if (absl::Status s = spec->set(setting.value, options); !s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(setting.origin, ": --", setting.name, ": ", s.message()));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadConfigFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat("config file ", path, ": cannot be opened"));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    return absl::UnavailableError(
        absl::StrCat("config file ", path, ": read failed"));
  }
  std::string bytes = text.str();
  if (bytes.size() > kConfigFileBytesMax) {
    return absl::InvalidArgumentError(absl::StrCat(
        "config file ", path, ": larger than ", kConfigFileBytesMax, " bytes"));
  }
  return bytes;
}

// `key = value` lines; blank lines and lines starting with '#' are skipped.
absl::StatusOr<std::vector<Setting>> ParseConfigFile(const std::string& path) {
  absl::StatusOr<std::string> text = ReadConfigFile(path);
  if (!text.ok()) return text.status();
  std::vector<Setting> settings;
  absl::btree_map<std::string, int> seen;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(*text, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line.front() == '#') continue;
    const std::string origin = absl::StrCat(path, ":", line_number);
    const size_t equals = line.find('=');
    if (equals == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat(origin, ": expected 'key = value', got '", line, "'"));
    }
    std::string name =
        NormalizeName(absl::StripAsciiWhitespace(line.substr(0, equals)));
    std::string value(absl::StripAsciiWhitespace(line.substr(equals + 1)));
    if (name == "config") {
      return absl::InvalidArgumentError(
          absl::StrCat(origin, ": a config file cannot name another"));
    }
    if (FindSpec(name) == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat(origin, ": unknown key '", name, "'"));
    }
    if (auto [it, fresh] = seen.emplace(name, line_number); !fresh) {
      return absl::InvalidArgumentError(absl::StrCat(
          origin, ": '", name, "' already set on line ", it->second));
    }
    settings.push_back(Setting{std::move(name), std::move(value), origin});
  }
  return settings;
}

// Splits the command line into settings; sets *config_path and *help.
absl::StatusOr<std::vector<Setting>> ParseFlags(
    const std::vector<std::string>& args, std::optional<std::string>* config,
    bool* help) {
  std::vector<Setting> settings;
  absl::btree_map<std::string, bool> seen;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--help" || arg == "-h") {
      *help = true;
      continue;
    }
    if (!absl::StartsWith(arg, "--") || arg.size() == 2) {
      return absl::InvalidArgumentError(absl::StrCat(
          "unexpected argument '", arg, "' (options are --name=value)"));
    }
    absl::string_view body = absl::string_view(arg).substr(2);
    const size_t equals = body.find('=');
    std::string name = NormalizeName(body.substr(0, equals));
    const Spec* spec = FindSpec(name);
    if (spec == nullptr && name != "config") {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown flag --", name, " (see --help)"));
    }
    std::string value;
    if (equals != absl::string_view::npos) {
      value = std::string(body.substr(equals + 1));
    } else if (spec != nullptr && spec->kind == Kind::kBool) {
      value = "true";
    } else if (i + 1 < args.size() && !absl::StartsWith(args[i + 1], "--")) {
      value = args[++i];
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("flag --", name, " needs a value"));
    }
    if (!seen.emplace(name, true).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("flag --", name, " given twice"));
    }
    if (name == "config") {
      *config = value;
      continue;
    }
    settings.push_back(
        Setting{std::move(name), std::move(value), "command line"});
  }
  return settings;
}

}  // namespace

absl::StatusOr<absl::btree_map<uint64_t, std::string>> ParsePeerList(
    const std::string& text) {
  absl::btree_map<uint64_t, std::string> peers;
  for (absl::string_view entry : absl::StrSplit(text, ',')) {
    entry = absl::StripAsciiWhitespace(entry);
    if (entry.empty()) continue;
    const size_t equals = entry.find('=');
    if (equals == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("peer entry '", entry, "' is not store_id=host:port"));
    }
    absl::StatusOr<uint64_t> id = ParseUint(entry.substr(0, equals));
    if (!id.ok() || *id == 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "peer entry '", entry, "': the store id must be a positive integer"));
    }
    absl::string_view address = entry.substr(equals + 1);
    if (address.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("peer entry '", entry, "': empty address"));
    }
    if (!peers.emplace(*id, std::string(address)).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("store ", *id, " is listed twice"));
    }
    if (peers.size() > kPeersMax) {
      return absl::InvalidArgumentError(
          absl::StrCat("more than ", kPeersMax, " peers"));
    }
  }
  if (peers.empty()) {
    return absl::InvalidArgumentError("the peer list is empty");
  }
  return peers;
}

std::string NodeOptions::RaftAddress() const {
  if (!listen.empty()) return listen;
  auto it = peers.find(store_id);
  return it == peers.end() ? std::string() : it->second;
}

absl::Status NodeOptions::Validate() const {
  auto bad = [](absl::string_view what) {
    return absl::InvalidArgumentError(std::string(what));
  };
  if (cluster_id == 0) return bad("--cluster-id is required (nonzero)");
  if (store_id == 0) return bad("--store-id is required (nonzero)");
  if (data_dir.empty()) return bad("--data-dir is required");
  if (client_listen.empty()) return bad("--client-listen is required");
  if (peers.empty()) return bad("--peers is required");
  if (RaftAddress().empty()) {
    return bad(absl::StrCat("store ", store_id,
                            " has no raft address: give --listen or list it "
                            "in --peers"));
  }
  if (init == NodeInit::kBootstrap && !peers.contains(store_id)) {
    return bad(absl::StrCat("--bootstrap: store ", store_id,
                            " must be in --peers (it is a voter of the first "
                            "region)"));
  }
  if (tick_ms < 1 || tick_ms > 60'000) {
    return bad("--tick-ms must be in [1, 60000]");
  }
  if (heartbeat_ticks < 1) return bad("--heartbeat-ticks must be at least 1");
  if (election_ticks <= heartbeat_ticks || election_ticks > 1'000'000) {
    return bad(
        "--election-ticks must be above --heartbeat-ticks (and at most "
        "1000000)");
  }
  if (client_requests_max < 1 || client_requests_per_connection_max < 1 ||
      client_request_ttl_ms < 1 || client_connections_max < 1) {
    return bad("the client bounds must be at least 1");
  }
  if (raft_log_gc_entries < 1) {
    return bad("--raft-log-gc-entries must be at least 1");
  }
  return absl::OkStatus();
}

absl::StatusOr<ParsedArgs> ParseNodeArgs(const std::vector<std::string>& args) {
  ParsedArgs parsed;
  std::optional<std::string> config;
  absl::StatusOr<std::vector<Setting>> flags =
      ParseFlags(args, &config, &parsed.help);
  if (!flags.ok()) return flags.status();
  if (parsed.help) return parsed;
  if (config.has_value()) {
    absl::StatusOr<std::vector<Setting>> file = ParseConfigFile(*config);
    if (!file.ok()) return file.status();
    for (const Setting& setting : *file) {
      if (absl::Status s = Apply(setting, &parsed.options); !s.ok()) return s;
    }
  }
  for (const Setting& setting : *flags) {
    if (absl::Status s = Apply(setting, &parsed.options); !s.ok()) return s;
  }
  if (absl::Status s = parsed.options.Validate(); !s.ok()) return s;
  return parsed;
}

std::string NodeUsage() {
  std::string out =
      "usage: raftstore-node --cluster-id N --store-id N --data-dir DIR\n"
      "         --peers ID=HOST:PORT,... --client-listen HOST:PORT\n"
      "         [--listen HOST:PORT] [--admin-listen HOST:PORT]\n"
      "         [--bootstrap | --join] [--config FILE] [options]\n\n"
      "A config file holds the same options as `key = value` lines (keys "
      "without\nthe dashes, '#' comments); command-line flags override it.\n\n"
      "options:\n";
  for (const Spec& spec : Specs()) {
    absl::StrAppend(&out, "  --", spec.name,
                    spec.kind == Kind::kBool ? "" : " VALUE", "\n      ",
                    spec.help, "\n");
  }
  absl::StrAppend(&out,
                  "  --config FILE\n      read options from FILE first\n"
                  "  --help\n      this text\n\n"
                  "exit codes: 0 after SIGTERM/SIGINT, 1 for a storage or "
                  "runtime failure,\n2 for bad options or a data directory "
                  "or port that cannot be used.\n");
  return out;
}

}  // namespace raftstore::runtime
