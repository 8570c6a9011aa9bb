// Closed-loop put load against a running cluster's client ports, through
// the client library over TCP (runtime/tcp_kv_client.h): N clients, each
// with one put of a random key and a fixed value in flight at a time, for a
// fixed duration. Used by `node_load` (this folder) and `raftstore bench`
// (tools/bench_command.cc), which starts its own cluster around it.
//
// The header does not expose libuv: each call runs its own private loop to
// the end, so tools (which may not use libuv) can call it.
//
// Thread-safety: none. Each call is self-contained and blocks its thread.
#ifndef RAFTSTORE_RUNTIME_BENCH_PUT_LOAD_H_
#define RAFTSTORE_RUNTIME_BENCH_PUT_LOAD_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/container/btree_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace raftstore::runtime::bench {

// One TcpKvClient per concurrent client: a client opens up to one
// connection per store, so this many clients stay within a node's default
// 1024 client connections and a process's usual descriptor limits.
inline constexpr uint64_t kPutLoadClientsMax = 1000;
// Bound on a key or value: far below a client frame's limit.
inline constexpr uint64_t kPutLoadBytesMax = 1 << 20;

struct PutLoadOptions {
  uint64_t cluster_id = 1;  // nonzero
  std::string auth_token;
  // store id -> client port address ("127.0.0.1:7101"). At least one.
  absl::btree_map<uint64_t, std::string> stores;
  uint64_t clients = 16;  // 1..kPutLoadClientsMax
  // New puts start until this much time has passed; those in flight then
  // still finish (each within op_timeout_ms).
  uint64_t duration_ms = 5'000;
  uint64_t key_bytes = 8;      // 1..kPutLoadBytesMax
  uint64_t value_bytes = 256;  // 0..kPutLoadBytesMax
  // A put's deadline, over all its attempts.
  uint64_t op_timeout_ms = 10'000;
  // One attempt unanswered this long is retried (on the next store).
  uint64_t attempt_timeout_ms = 1'000;
  // Seeds the keys (and each client's backoff jitter).
  uint64_t seed = 1;
  // Asked before each new put (and before each try of PutUntilAcknowledged):
  // once it returns true, no new put starts and the call returns as soon as
  // the puts in flight finish (each within op_timeout_ms). How a caller's
  // Ctrl-C cuts a long run short. Unset: the run goes its full duration.
  std::function<bool()> should_stop;
};

struct PutLoadResult {
  uint64_t ok = 0;       // acknowledged puts
  uint64_t failed = 0;   // definitely not applied (client::Outcome::kFail)
  uint64_t unknown = 0;  // outcome unknown (timeout, connection lost)
  // Wall time from the first put to the last completion.
  double elapsed_s = 0;
  // Latency of acknowledged puts, microseconds (0 when ok == 0).
  uint64_t p50_us = 0;
  uint64_t p99_us = 0;
  uint64_t p999_us = 0;
  uint64_t max_us = 0;
  // The first not-ok outcome and its error, for a log line; empty if none.
  std::string first_error;

  double ok_per_s() const {
    return elapsed_s > 0 ? static_cast<double>(ok) / elapsed_s : 0;
  }
};

// Runs the load (until duration_ms passes or should_stop says so; the
// result covers the puts that ran). kInvalidArgument for options out of range
// (naming the field) or an address that does not resolve; the puts' own
// failures are counted in the result, never an error.
absl::StatusOr<PutLoadResult> RunPutLoad(const PutLoadOptions& options);

// Puts `key` = `value` once, through one client that retries (attempts of
// options.attempt_timeout_ms, across the stores) until the put is
// acknowledged or `timeout_ms` passes: a round trip that proves the cluster
// has a leader that commits. OK when acknowledged; kUnavailable naming the
// outcome and the last error otherwise; kCancelled once should_stop says so
// (checked between tries); kInvalidArgument for bad options.
absl::Status PutUntilAcknowledged(const PutLoadOptions& options,
                                  const std::string& key,
                                  const std::string& value,
                                  uint64_t timeout_ms);

}  // namespace raftstore::runtime::bench

#endif  // RAFTSTORE_RUNTIME_BENCH_PUT_LOAD_H_
