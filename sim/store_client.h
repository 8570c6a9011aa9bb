// The store mode's clients: the client library (core/client KvClient: region
// cache, leader hints, retries with backoff, timeouts, exactly-once write
// sessions, scans across regions) driven on virtual time, its requests
// carried to the stores over the SimNetwork and their answers back, every
// operation recorded in the History (sim/history) with its call and return
// times and an outcome of ok, fail or unknown.
//
// SimKvEndpoint is one network endpoint holding one or more KvClients (the
// liveness and drain phases run one per region, side by side). Each
// KvClient numbers its requests from 1, so the endpoint renumbers them on
// the wire (endpoint-wide unique ids) and maps answers back to the client
// and request id that sent them.
//
// SimStoreClient is one workload client: a closed loop of put, get, delete,
// compare-and-swap and scan on hot and uniform keys across every region,
// one operation at a time, with a think time between them.
//
// Thread-safety: none; the simulator is single-threaded.
#ifndef RAFTSTORE_SIM_STORE_CLIENT_H_
#define RAFTSTORE_SIM_STORE_CLIENT_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/functional/any_invocable.h"
#include "core/base/rng.h"
#include "core/client/kv_client.h"
#include "proto/kvrpc.pb.h"
#include "sim/event_queue.h"
#include "sim/history/history.h"
#include "sim/network/payload.h"
#include "sim/store_options.h"
#include "sim/trace.h"

namespace raftstore::sim {

struct EndpointStats {
  uint64_t ok = 0;
  uint64_t failed = 0;
  uint64_t unknown = 0;
  uint64_t requests = 0;
  uint64_t stale_responses = 0;  // for no request in flight any more
};

class SimKvEndpoint {
 public:
  // Sends `payload` (a kv::KvRequest object) to network endpoint `to`
  // (store k is endpoint k - 1).
  using SendFn = absl::AnyInvocable<void(int to, Payload&& payload)>;
  // Told the outcome of an operation when it completes.
  using DoneFn = absl::AnyInvocable<void(Outcome outcome)>;

  // `endpoint` is this endpoint's network number; `history_client` the
  // client number its operations carry in the history. Pointers must
  // outlive the endpoint.
  SimKvEndpoint(int endpoint, uint64_t history_client,
                const StoreSimOptions* options, EventQueue* events,
                History* history, Trace* trace, Rng rng, SendFn send);
  SimKvEndpoint(const SimKvEndpoint&) = delete;
  SimKvEndpoint& operator=(const SimKvEndpoint&) = delete;

  // Adds a KvClient with client ids of its own; returns its number.
  size_t AddClient();
  // Starts `op` on client `client`, recorded in the history as `call` at
  // now; `done` hears its outcome by `deadline_us`. Returns false (and
  // records nothing) when the client refuses it (a bound) or the history
  // is full.
  bool Issue(size_t client, const kv::KvRequest& op, Operation call,
             uint64_t deadline_us, DoneFn done);
  // An answer from network endpoint `from` (a store).
  void Receive(int from, const Payload& payload);

  // Operations issued and not completed, over every client.
  size_t pending() const { return pending_.size(); }
  const EndpointStats& stats() const { return stats_; }

 private:
  struct Pending {
    size_t history_id = 0;
    DoneFn done;
  };
  struct Wire {
    size_t client = 0;
    uint64_t request_id = 0;
    uint64_t sent_us = 0;
  };

  // Sends client c's outbox, records its completions, re-arms the timer.
  void Flush(size_t client);
  void Arm();
  void OnWake(uint64_t generation);
  void Complete(size_t client, const client::Completion& completion);
  void PruneWires();

  int endpoint_;
  uint64_t history_client_;
  const StoreSimOptions* options_;
  EventQueue* events_;
  History* history_;
  Trace* trace_;
  Rng rng_;
  SendFn send_;
  std::vector<std::unique_ptr<client::KvClient>> clients_;
  // (client, op id) -> its history record and listener.
  absl::btree_map<std::pair<size_t, uint64_t>, Pending> pending_;
  // Wire request id -> who sent it. Bounded by PruneWires.
  absl::btree_map<uint64_t, Wire> wires_;
  uint64_t next_wire_id_ = 0;
  uint64_t armed_at_us_ = 0;  // 0: no wake event pending
  uint64_t wake_generation_ = 0;
  EndpointStats stats_;
};

// One workload client (see the top of the file).
class SimStoreClient {
 public:
  // `index` is 0-based among the clients; its endpoint is `endpoint`.
  SimStoreClient(int index, int endpoint, const StoreSimOptions* options,
                 EventQueue* events, History* history, Trace* trace, Rng rng,
                 SimKvEndpoint::SendFn send);

  // Issues operations until Stop().
  void Start();
  // Issues no new operation after the current one.
  void Stop() { stopping_ = true; }
  bool idle() const { return !busy_; }
  void Receive(int from, const Payload& payload) {
    endpoint_.Receive(from, payload);
  }
  const EndpointStats& stats() const { return endpoint_.stats(); }

 private:
  void Think();
  void IssueRandom();
  std::string PickKey();
  std::string NewValue();

  int index_;
  const StoreSimOptions* options_;
  EventQueue* events_;
  History* history_;
  Rng rng_;
  SimKvEndpoint endpoint_;
  bool stopping_ = true;
  bool busy_ = false;
  uint64_t values_ = 0;
};

}  // namespace raftstore::sim

#endif  // RAFTSTORE_SIM_STORE_CLIENT_H_
