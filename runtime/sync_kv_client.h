// A blocking client of the KV API for command-line tools: one TcpKvClient
// (tcp_kv_client.h) on a private libuv loop, one operation at a time, each
// run to its completion before Run returns. `raftstore kv` uses it.
//
// The header does not expose libuv (tools may not use it): the loop lives
// behind a pointer to an implementation, and runs only inside Run and the
// destructor.
//
// Every Run completes by its deadline with the client library's outcome
// (ok, fail, unknown: core/client/kv_client.h); the loop never waits for
// anything else, so Run returns within timeout_ms plus a loop turn.
//
// Thread-safety: none. Use one SyncKvClient from one thread.
#ifndef RAFTSTORE_RUNTIME_SYNC_KV_CLIENT_H_
#define RAFTSTORE_RUNTIME_SYNC_KV_CLIENT_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/container/btree_map.h"
#include "absl/status/statusor.h"
#include "core/client/kv_client.h"
#include "proto/kvrpc.pb.h"

namespace raftstore::runtime {

// A deadline past this is refused: a tool that waits longer than ten
// minutes for one operation is stuck, not patient.
inline constexpr uint64_t kSyncKvTimeoutMsMax = 600'000;

struct SyncKvClientOptions {
  uint64_t cluster_id = 0;  // nonzero
  // The cluster's shared secret (empty if it has none).
  std::string auth_token;
  // Every store to talk to: store id -> client port ("127.0.0.1:7101"). At
  // least one; names are resolved by Create.
  absl::btree_map<uint64_t, std::string> stores;
  // One attempt unanswered this long is retried (on the next store). A
  // write waits for a quorum's fsync, so this is well above the client
  // library's 200 ms default; a retry is deduplicated anyway.
  uint64_t attempt_timeout_ms = 500;
};

// What the connections did: enough to tell "no store ever answered" (a
// wrong address, cluster id or token) from a slow cluster.
struct SyncKvClientStats {
  uint64_t dials = 0;
  uint64_t connections_closed = 0;
  uint64_t requests_sent = 0;
  uint64_t responses_received = 0;
};

class SyncKvClient {
 public:
  // kInvalidArgument for bad options, naming the field or the store whose
  // address does not parse or resolve.
  static absl::StatusOr<std::unique_ptr<SyncKvClient>> Create(
      const SyncKvClientOptions& options);

  SyncKvClient(const SyncKvClient&) = delete;
  SyncKvClient& operator=(const SyncKvClient&) = delete;
  // Closes the connections and the loop (runs the loop until they are).
  ~SyncKvClient();

  // Runs `op` (a KvRequest with one of get, put, delete, scan or
  // compare_and_swap set; the client fills headers) to completion with a
  // deadline `timeout_ms` from now. The completion says ok, fail or
  // unknown; an error only when the op is refused before it starts
  // (kInvalidArgument: timeout_ms outside 1..kSyncKvTimeoutMsMax or a
  // malformed op; kResourceExhausted: a client bound).
  absl::StatusOr<client::Completion> Run(const kv::KvRequest& op,
                                         uint64_t timeout_ms);

  SyncKvClientStats stats() const;

 private:
  struct Impl;
  explicit SyncKvClient(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
};

}  // namespace raftstore::runtime

#endif  // RAFTSTORE_RUNTIME_SYNC_KV_CLIENT_H_
