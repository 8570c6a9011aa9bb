// A simulated client: issues put/get/delete/cas against the cluster with
// timeouts and retries, and records every operation in the History with an
// outcome of ok, fail or unknown.
//
// One operation at a time per client (as a synchronous client library
// would), each write under a client session (thesis 6.3): every attempt of
// one write carries the same (client_id, sequence), so a retry that reaches
// a new leader after the first attempt already committed applies once and
// returns the first result. An operation's outcome combines its attempts:
//   ok       some attempt returned a result;
//   fail     every attempt was refused before it could have been proposed
//            (NotLeader, ServerBusy, ...), so it certainly did not happen;
//   unknown  otherwise (an attempt timed out, its node crashed, or the
//            session expired): it may or may not have taken effect.
// Reads carry no session; a read that gets no answer is unknown, and the
// checker ignores it.
//
// The client talks to nodes through the SimNetwork (it is an endpoint like
// a node), so partitions, drops and delays hit client traffic too. It
// follows leader hints and otherwise picks nodes at random.
//
// Thread-safety: none; the simulator is single-threaded.
#ifndef RAFTSTORE_SIM_CLIENT_H_
#define RAFTSTORE_SIM_CLIENT_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "core/base/rng.h"
#include "proto/kvrpc.pb.h"
#include "sim/event_queue.h"
#include "sim/history/history.h"
#include "sim/network/payload.h"
#include "sim/options.h"
#include "sim/trace.h"

namespace raftstore::sim {

class SimClient {
 public:
  // Sends a request to raft node `node` (1-based): a kv::KvRequest object
  // (sim/network/payload.h).
  using SendFn = absl::AnyInvocable<void(int node, Payload&& payload)>;

  // `index` is 0-based among the clients; the client id space is disjoint
  // per client and per session. Pointers must outlive the client.
  SimClient(int index, const SimOptions* options, EventQueue* events,
            History* history, Trace* trace, Rng rng, SendFn send);

  // Starts issuing operations until Stop().
  void Start();
  // Issues no new operation after the current one.
  void Stop() { stopping_ = true; }
  // Issues exactly one operation now (used by the liveness phase): a put of
  // `key` with a fresh value. Requires idle().
  void IssuePut(const std::string& key);
  // Issues one get of `key` now. Requires idle().
  void IssueGet(const std::string& key);
  bool idle() const { return !current_.has_value(); }

  // A response arrived from node `from` (1-based): a kv::KvResponse object
  // or its bytes (undecodable bytes are ignored).
  void Receive(int from, const Payload& payload);

  uint64_t operations_ok() const { return ops_ok_; }
  uint64_t operations_failed() const { return ops_failed_; }
  uint64_t operations_unknown() const { return ops_unknown_; }
  // Whether the last completed put (IssuePut) returned ok.
  bool last_put_ok() const { return last_put_ok_; }

 private:
  struct Current {
    size_t history_id = 0;
    // request_id rewritten per attempt; copied first if an earlier attempt
    // still holds it in flight (a sent object is never changed).
    std::shared_ptr<kv::KvRequest> request;
    bool is_write = false;
    bool maybe_executed = false;
    uint64_t deadline_us = 0;
    uint64_t attempt = 0;  // generation: stale timers and replies are ignored
  };

  void Think();
  void IssueRandom();
  void Begin(Operation call, kv::KvRequest request, bool is_write);
  void Attempt();
  void OnAttemptTimeout(uint64_t attempt);
  void Retry(bool definitely_not_executed, uint64_t backoff_us);
  void Finish(Outcome outcome, Output output);
  void OnReply(const kv::KvResponse& response);
  void OnResponse(const kv::KvResponse& response);
  std::string PickKey();
  std::string NewValue();
  void NewSession();

  int index_;
  const SimOptions* options_;
  EventQueue* events_;
  History* history_;
  Trace* trace_;
  Rng rng_;
  SendFn send_;
  bool stopping_ = true;
  std::optional<Current> current_;
  uint64_t client_id_ = 0;
  uint64_t sessions_ = 0;
  uint64_t sequence_ = 0;
  uint64_t next_request_id_ = 0;
  uint64_t values_ = 0;
  int leader_hint_ = 0;
  uint64_t ops_ok_ = 0;
  uint64_t ops_failed_ = 0;
  uint64_t ops_unknown_ = 0;
  bool last_put_ok_ = false;
};

}  // namespace raftstore::sim

#endif  // RAFTSTORE_SIM_CLIENT_H_
