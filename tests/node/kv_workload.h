// Clients of a LocalCluster for the multi-process tests, on a libuv loop in
// the test process, over runtime::TcpKvClient (the client library over
// TCP):
//   - KvSession: one client, one operation at a time, run to completion
//     (put, get, scan, cas): for simple checks;
//   - Workload: N concurrent closed-loop clients on a few hot keys (puts of
//     unique values, gets, CAS) plus write-once keys, recording every
//     operation in a sim::History for the linearizability checker, and
//     the write-once keys acknowledged, to read back at the end.
//
// Times in the history are microseconds of the monotonic clock since the
// workload started.
//
// Thread-safety: none; the test thread runs the loop.
#ifndef RAFTSTORE_TESTS_NODE_KV_WORKLOAD_H_
#define RAFTSTORE_TESTS_NODE_KV_WORKLOAD_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "core/base/rng.h"
#include "core/client/kv_client.h"
#include "runtime/tcp_kv_client.h"
#include "sim/history/history.h"
#include "transport/test_util.h"

namespace raftstore::node_testing {

// The options every test client uses: the cluster's stores and token, and
// attempt timeouts suited to 25 ms ticks.
runtime::TcpKvClientOptions ClientOptions(
    uint64_t cluster_id, const absl::btree_map<uint64_t, std::string>& stores,
    uint64_t seed);

// One client, one operation at a time.
class KvSession {
 public:
  KvSession(transport::TestLoop* loop,
            const runtime::TcpKvClientOptions& options);
  ~KvSession();

  // Runs `op` to completion (deadline timeout_ms).
  client::Completion Run(const kv::KvRequest& op, uint64_t timeout_ms = 20'000);
  client::Completion Put(const std::string& key, const std::string& value);
  client::Completion Get(const std::string& key);

 private:
  transport::TestLoop* loop_;
  std::unique_ptr<runtime::TcpKvClient> client_;
};

kv::KvRequest PutOp(const std::string& key, const std::string& value);
kv::KvRequest GetOp(const std::string& key);

class Workload {
 public:
  // `clients` concurrent clients; `hot_keys` shared keys.
  Workload(transport::TestLoop* loop,
           const runtime::TcpKvClientOptions& options, int clients,
           int hot_keys, uint64_t seed);
  ~Workload();

  // Every client starts issuing operations, one at a time each.
  void Start();
  // No client starts a new operation; those in flight finish (by their
  // deadline).
  void StopIssuing();
  bool idle() const;
  // Runs the loop until `done` (or timeout_ms); returns done().
  bool RunUntil(const std::function<bool()>& done, uint64_t timeout_ms);
  // Runs the loop for about `ms` milliseconds.
  void RunFor(uint64_t ms);
  // Runs the loop until `more` operations beyond those seen so far have
  // completed ok (progress: the proof a cluster recovered), or timeout_ms.
  bool RunUntilMoreOk(uint64_t more, uint64_t timeout_ms);

  // Operations completed ok so far (all kinds).
  uint64_t ok() const { return ok_; }
  uint64_t unknown() const { return unknown_; }
  uint64_t failed() const { return failed_; }
  // Write-once keys whose put was acknowledged: key -> value.
  const absl::btree_map<std::string, std::string>& acked_once() const {
    return acked_once_;
  }
  const std::vector<std::string>& hot_keys() const { return hot_keys_; }

  // After StopIssuing and idle(): reads every hot key and every acked
  // write-once key through one client, recorded in the history too; the
  // write-once keys whose value differs (or is absent), named.
  std::vector<std::string> ReadBack();

  const sim::History& history() const { return history_; }

 private:
  struct Client {
    std::unique_ptr<runtime::TcpKvClient> client;
    uint64_t id = 0;
    uint64_t next_once = 0;
    bool busy = false;
  };

  void Issue(Client& c);
  // Submits `op` for client `c`, recording `call` in the history.
  void Submit(Client& c, const kv::KvRequest& op, sim::Operation call,
              const std::optional<std::pair<std::string, std::string>>& once);
  uint64_t NowUs() const;

  transport::TestLoop* loop_;
  runtime::TcpKvClientOptions options_;
  Rng rng_;
  std::vector<std::string> hot_keys_;
  std::vector<Client> clients_;
  bool issuing_ = false;
  std::chrono::steady_clock::time_point start_;
  uint64_t next_value_ = 0;
  uint64_t ok_ = 0;
  uint64_t unknown_ = 0;
  uint64_t failed_ = 0;
  sim::History history_;
  absl::btree_map<std::string, std::string> acked_once_;
};

}  // namespace raftstore::node_testing

#endif  // RAFTSTORE_TESTS_NODE_KV_WORKLOAD_H_
