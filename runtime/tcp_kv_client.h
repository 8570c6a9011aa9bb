// The client library (core/client KvClient) driven over TCP on a libuv
// loop: the production client of the client port, for the `raftstore kv`
// and `bench` tools and the multi-process tests.
//
// One FramedConnection per store's client port, dialed when a request is
// first sent there and redialed the same way after it breaks; each starts
// with a client HELLO (store id 0). Time is the monotonic clock in
// microseconds (uv_hrtime); a timer fires at KvClient::NextWakeUs. A
// request written to a connection that then breaks gets no answer: the
// KvClient's attempt timeout retries it (at once on the next peer), so a
// dead store costs one attempt timeout, never a hang.
//
// Every operation completes exactly once, by its deadline, with the
// KvClient's outcome (ok, fail, unknown: kv_client.h), through the callback
// given to Submit. Callbacks run on the loop thread and may Submit again.
//
// Lifetime: Close() closes every connection and the timer; operations still
// in flight are dropped without a callback. `on_done` runs once every handle
// is closed; run the loop until then before destroying the client.
//
// Thread-safety: none. Every method and callback runs on the loop's thread.
#ifndef RAFTSTORE_RUNTIME_TCP_KV_CLIENT_H_
#define RAFTSTORE_RUNTIME_TCP_KV_CLIENT_H_

#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/container/btree_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/base/rng.h"
#include "core/client/kv_client.h"
#include "proto/kvrpc.pb.h"
#include "transport/address.h"
#include "transport/framed_connection.h"

namespace raftstore::runtime {

struct TcpKvClientOptions {
  uint64_t cluster_id = 0;  // nonzero
  // The cluster's shared secret (empty if it has none).
  std::string auth_token;
  // Every store to talk to: store id -> client port address. At least one.
  absl::btree_map<uint64_t, std::string> stores;
  // The KvClient's bounds and timeouts; store_ids is filled from `stores`.
  client::KvClientConfig client;
  uint64_t dial_timeout_ms = 2'000;
  // Seeds the backoff jitter; 0 draws one from the system. Client ids are
  // always drawn from the system's entropy (they must be unique across
  // runs: stores remember sessions).
  uint64_t rng_seed = 0;
};

struct TcpKvClientStats {
  uint64_t dials = 0;
  // Connections that closed (refused, reset, peer gone).
  uint64_t connections_closed = 0;
  uint64_t requests_sent = 0;
  uint64_t responses_received = 0;
  // Requests not queued on a connection (its write buffer was full).
  uint64_t requests_not_sent = 0;
};

class TcpKvClient {
 public:
  using DoneFn = std::function<void(const client::Completion& completion)>;

  // kInvalidArgument for bad options (naming the field or the address).
  static absl::StatusOr<std::unique_ptr<TcpKvClient>> Create(
      uv_loop_t* loop, const TcpKvClientOptions& options);

  TcpKvClient(const TcpKvClient&) = delete;
  TcpKvClient& operator=(const TcpKvClient&) = delete;
  // Requires closed().
  ~TcpKvClient();

  // Starts `op` (see KvClient::Submit) with a deadline `timeout_ms` from
  // now; `done` runs once when it completes. Returns the op id, or the
  // KvClient's refusal (kInvalidArgument, kResourceExhausted), or
  // kFailedPrecondition once closing.
  absl::StatusOr<uint64_t> Submit(const kv::KvRequest& op, uint64_t timeout_ms,
                                  DoneFn done);

  // Closes everything; `on_done` (optional) runs once all handles are
  // closed. Idempotent.
  void Close(std::function<void()> on_done);
  bool closed() const { return closed_; }

  const client::KvClient& kv_client() const { return *client_; }
  const TcpKvClientStats& stats() const { return stats_; }
  size_t ops_in_flight() const { return callbacks_.size(); }

 private:
  struct Store {
    uint64_t store_id = 0;
    transport::SocketAddress address;
    transport::FramedConnection* connection = nullptr;
  };

  TcpKvClient(uv_loop_t* loop, const TcpKvClientOptions& options,
              uint64_t seed);
  uint64_t NowUs() const;
  void Send(uint64_t store_id, const kv::KvRequest& request);
  void Dial(Store& store);
  // Sends the outbox, delivers completions, re-arms the timer.
  void Pump();
  void MaybeDone();

  static void TimerCb(uv_timer_t* timer);
  static void TimerClosedCb(uv_handle_t* handle);

  uv_loop_t* loop_;
  TcpKvClientOptions options_;
  Rng id_rng_;
  std::unique_ptr<client::KvClient> client_;
  absl::btree_map<uint64_t, Store> stores_;
  absl::btree_map<uint64_t, DoneFn> callbacks_;  // by op id
  std::string hello_frame_;
  uv_timer_t timer_{};
  bool pumping_ = false;
  bool closing_ = false;
  bool timer_closed_ = false;
  bool closed_ = false;
  int connections_open_ = 0;
  std::function<void()> on_done_;
  TcpKvClientStats stats_;
};

}  // namespace raftstore::runtime

#endif  // RAFTSTORE_RUNTIME_TCP_KV_CLIENT_H_
