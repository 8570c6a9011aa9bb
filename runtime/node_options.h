// The configuration of one raftstore-node process, and its strict parser:
// command-line flags (`--store-id 1` or `--store-id=1`; dashes and
// underscores alike) and an optional config file of `key = value` lines with
// the same keys (`--config FILE`). docs/runtime.md lists every option.
//
// Strictness, because a node started with a typo must not start at all: an
// unknown flag or key, a missing value, a value that is not a number where
// one is needed, a flag given twice, a key given twice in the file, or a
// contradiction between options (a store not in --peers, --bootstrap with
// --join) is an error naming the flag or the file and line. Values on the
// command line override the config file's.
//
// Thread-safety: plain values and pure functions (ParseNodeArgs reads the
// config file).
#ifndef RAFTSTORE_RUNTIME_NODE_OPTIONS_H_
#define RAFTSTORE_RUNTIME_NODE_OPTIONS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace raftstore::runtime {

// What to do with a data directory that holds no store yet.
enum class NodeInit {
  // Refuse it: a node restarts from its data directory or not at all.
  kNone,
  // Create this store and the cluster's first region (one region over the
  // whole key space, a voter on every store of --peers).
  kBootstrap,
  // Create this store with no region: it serves regions once a membership
  // change adds it (a leader's messages create its peers).
  kJoin,
};

struct NodeOptions {
  uint64_t cluster_id = 0;  // nonzero
  uint64_t store_id = 0;    // nonzero
  std::string data_dir;
  // The raft port ("host:port"). Empty: this store's address in `peers`.
  std::string listen;
  // The client port (KV and admin frames). Required.
  std::string client_listen;
  // The admin HTTP endpoint; empty for none.
  std::string admin_listen;
  // Every store of the cluster, this one included: store id -> raft
  // address.
  absl::btree_map<uint64_t, std::string> peers;
  // The shared secret of the cluster's HELLOs (raft and client ports).
  std::string auth_token;
  NodeInit init = NodeInit::kNone;
  // Serve /chaos/block/<store> and /chaos/unblock/<store> on the admin
  // endpoint (TcpTransport::BlockPeer: drop every batch to and from that
  // store). For fault-injection tests only.
  bool chaos_endpoints = false;

  // Raft timing. A tick every tick_ms; a leader heartbeats every
  // heartbeat_ticks ticks; a follower that hears nothing for a random
  // [election_ticks, 2 * election_ticks) ticks campaigns. Every node of a
  // cluster must use the same values (the session clock counts ticks).
  uint64_t tick_ms = 100;
  uint64_t heartbeat_ticks = 1;
  uint64_t election_ticks = 10;

  // Client requests submitted to the store and not yet answered, in all and
  // per connection; past either, the answer is ServerBusy at once. An entry
  // the store never answers (a read dropped by a deposed leader) is
  // forgotten after client_request_ttl_ms.
  uint64_t client_requests_max = 65'536;
  uint64_t client_requests_per_connection_max = 4'096;
  uint64_t client_request_ttl_ms = 60'000;
  uint64_t client_connections_max = 1'024;

  // The WAL's segment size.
  uint64_t wal_segment_bytes = uint64_t{64} << 20;
  // A region snapshots its state and compacts its log every this many
  // applied entries.
  uint64_t raft_log_gc_entries = 10'000;

  // OK, or kInvalidArgument naming the first option out of range or in
  // contradiction with another.
  absl::Status Validate() const;
  // listen, or this store's address in peers.
  std::string RaftAddress() const;
};

// What the command line asked for.
struct ParsedArgs {
  NodeOptions options;
  // --help: print NodeUsage() and exit 0 (options are not validated).
  bool help = false;
};

// Parses the arguments after the program name. Errors (kInvalidArgument,
// naming the flag, key or file line): see the top of this file; a config
// file that cannot be read is kNotFound or kUnavailable naming it. The
// result is validated (NodeOptions::Validate) unless --help was given.
absl::StatusOr<ParsedArgs> ParseNodeArgs(const std::vector<std::string>& args);

// "1=127.0.0.1:7001,2=host:7002" -> {1: ..., 2: ...}. kInvalidArgument for
// a malformed entry, a zero or repeated store id, or an empty address.
absl::StatusOr<absl::btree_map<uint64_t, std::string>> ParsePeerList(
    const std::string& text);

// The usage text: every flag with its meaning and default.
std::string NodeUsage();

}  // namespace raftstore::runtime

#endif  // RAFTSTORE_RUNTIME_NODE_OPTIONS_H_
