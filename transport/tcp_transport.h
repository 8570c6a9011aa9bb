// The store-to-store transport over TCP on a libuv loop: carries
// store.RaftMessageBatch frames from this store to its peers and delivers
// the batches peers send it.
//
// Outgoing: one connection per peer store (address book: store id ->
// host:port), dialed on the first Send and redialed after a failure with
// exponential backoff and jitter. Every connection starts with this store's
// HELLO. Send never blocks: it encodes the batch into the peer's send queue,
// bounded in bytes (send_queue_bytes_max); a batch that does not fit is
// dropped and counted (raft retransmits what matters). While connected, the
// queue is the connection's write buffer and everything queued within one
// loop iteration leaves in one write; while dialing or backing off, the
// queue waits and is written once the connection is up. Frames buffered on
// a connection that breaks are lost (counted as send failures).
//
// Incoming: a FramedServer (framed_server.h) that requires a HELLO from
// this cluster, with a store id and the shared token, then accepts only
// RAFT_BATCH frames whose batch names the HELLO's store as sender, this
// cluster and this store as receiver. Anything else closes that connection,
// logged and counted.
//
// Chaos tests: BlockPeer(id) drops every batch to and from store `id`
// (counted in drops_blocked) until UnblockPeer(id). Connections stay up.
//
// Lifetime: Close() closes everything; `on_done` runs once every libuv
// handle is closed. Run the loop until then before destroying the transport
// (the destructor checks).
//
// Thread-safety: none. Every method and callback runs on the loop's thread.
#ifndef RAFTSTORE_TRANSPORT_TCP_TRANSPORT_H_
#define RAFTSTORE_TRANSPORT_TCP_TRANSPORT_H_

#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/base/rng.h"
#include "proto/store.pb.h"
#include "transport/address.h"
#include "transport/framed_connection.h"
#include "transport/framed_server.h"
#include "transport/log_sink.h"

namespace raftstore::transport {

struct TcpTransportOptions {
  uint64_t cluster_id = 0;  // nonzero
  uint64_t store_id = 0;    // nonzero: this store
  // The cluster's shared secret, sent in HELLO and required of peers.
  std::string auth_token;
  // Where peers connect; port 0 picks a free port (listen_port()).
  std::string listen_address = "127.0.0.1:0";

  uint64_t frame_payload_bytes_max = uint64_t{64} << 20;
  // Encoded batches queued for one peer (waiting or being written), at most.
  uint64_t send_queue_bytes_max = uint64_t{64} << 20;
  // A dial not connected this long fails (and is retried with backoff).
  uint64_t dial_timeout_ms = 3'000;
  // A write not completed this long closes the connection (send failure).
  uint64_t send_timeout_ms = 10'000;
  // Redial delays: the n-th consecutive failure waits a uniformly random time
  // in [d/2, d] with d = min(reconnect_backoff_ms_max,
  // reconnect_backoff_ms_min * 2^(n-1)).
  uint64_t reconnect_backoff_ms_min = 100;
  uint64_t reconnect_backoff_ms_max = 5'000;
  // Incoming: HELLO deadline, stall bound mid-frame, connections at most.
  uint64_t hello_timeout_ms = 5'000;
  uint64_t read_stall_timeout_ms = 30'000;
  uint64_t incoming_connections_max = 1'024;
  // Peers in the address book, at most.
  uint64_t peers_max = 4'096;
  // Seeds the backoff jitter; 0 draws a seed from std::random_device.
  uint64_t rng_seed = 0;

  // InvalidArgument naming the field for a value out of range.
  absl::Status Validate() const;
};

struct TransportMetrics {
  uint64_t dials = 0;
  uint64_t dial_failures = 0;
  // Batches fully written to a peer's socket.
  uint64_t sends = 0;
  // Batches lost in a connection that broke or stalled after queueing.
  uint64_t send_failures = 0;
  // Dials after a failure (each follows a backoff delay).
  uint64_t retries = 0;
  // Batches dropped because the peer's send queue was full.
  uint64_t drops = 0;
  // Batches dropped to or from a blocked peer.
  uint64_t drops_blocked = 0;
  // Batches for a store not in the address book.
  uint64_t drops_unknown_peer = 0;
  // Batches above frame_payload_bytes_max (a store bug: never sent).
  uint64_t drops_oversized = 0;
  // Frames decoded on incoming connections (HELLOs included).
  uint64_t frames_received = 0;
  // Batches handed to on_batch.
  uint64_t batches_received = 0;
  uint64_t connections_accepted = 0;
  // Incoming or outgoing connections closed for a malformed, oversized,
  // unexpected or stalled frame.
  uint64_t connections_closed_bad_frame = 0;
  // Incoming connections closed for a missing or failed HELLO.
  uint64_t connections_closed_unauthenticated = 0;
  // Peers blocked now.
  uint64_t blocked_peers = 0;
};

// What became of one Send.
enum class SendResult {
  kQueued,
  kDroppedQueueFull,
  kDroppedBlocked,
  kDroppedUnknownPeer,
  kDroppedOversized,
  kClosed,  // Close() was called
};

class TcpTransport {
 public:
  // Receives each batch from store `from_store_id` (already checked to come
  // from that store, for this store, in this cluster).
  using BatchHandler =
      std::function<void(uint64_t from_store_id, store::RaftMessageBatch&&)>;

  // Starts listening. Returns kInvalidArgument for bad options,
  // kUnavailable if the listen address cannot be bound.
  static absl::StatusOr<std::unique_ptr<TcpTransport>> Start(
      uv_loop_t* loop, const TcpTransportOptions& options,
      BatchHandler on_batch, LogSink log = StderrLogSink());

  TcpTransport(const TcpTransport&) = delete;
  TcpTransport& operator=(const TcpTransport&) = delete;
  // Requires closed().
  ~TcpTransport();

  // Adds store `store_id` (not this store) at `host_port`, or changes its
  // address (the current connection, if any, is kept until it breaks).
  // Resolves names synchronously (see address.h). Returns kInvalidArgument
  // for a bad address or store id, kResourceExhausted past peers_max,
  // kFailedPrecondition once closing.
  absl::Status SetPeerAddress(uint64_t store_id, absl::string_view host_port);

  // Queues `batch` for store `store_id`; never blocks. See SendResult.
  SendResult Send(uint64_t store_id, const store::RaftMessageBatch& batch);

  void BlockPeer(uint64_t store_id);
  void UnblockPeer(uint64_t store_id);

  // Closes every connection and the port; `on_done` (optional) runs once
  // all handles are closed. Idempotent.
  void Close(std::function<void()> on_done);
  bool closed() const { return closed_; }

  int listen_port() const { return server_->port(); }
  TransportMetrics metrics() const;
  // Bytes queued for `store_id` (0 for an unknown store).
  uint64_t queued_bytes(uint64_t store_id) const;

 private:
  struct Peer {
    uint64_t store_id = 0;
    SocketAddress address;
    // Encoded batches waiting for a connection (while none is writable).
    std::string queue;
    uint64_t queue_frames = 0;
    FramedConnection* connection = nullptr;  // dialing or connected
    bool connected = false;
    uint64_t failures = 0;  // consecutive; 0 after a successful connect
    uv_timer_t backoff_timer{};
    bool backoff_pending = false;
    TcpTransport* owner = nullptr;
  };

  TcpTransport(uv_loop_t* loop, const TcpTransportOptions& options,
               BatchHandler on_batch, LogSink log);

  absl::Status StartServer();
  absl::Status OnIncomingFrame(FramedServer::ConnectionId id, Frame&& frame);
  absl::Status CheckBatch(uint64_t from_store_id,
                          const store::RaftMessageBatch& batch) const;
  void Dial(Peer& peer);
  void OnPeerConnected(Peer& peer);
  void OnPeerClosed(Peer& peer, const CloseInfo& info);
  // Starts the backoff timer; returns its delay.
  uint64_t ScheduleRedial(Peer& peer);
  static bool Writable(const Peer& peer);
  uint64_t QueuedBytes(const Peer& peer) const;
  void HandleClosed();

  static void BackoffTimerCb(uv_timer_t* timer);
  static void TimerClosedCb(uv_handle_t* handle);

  uv_loop_t* loop_;
  TcpTransportOptions options_;
  ConnectionOptions connection_options_;
  BatchHandler on_batch_;
  LogSink log_;
  Rng rng_;
  std::string hello_frame_;
  std::unique_ptr<FramedServer> server_;
  // Incoming connections that passed HELLO -> the store they belong to.
  absl::btree_map<FramedServer::ConnectionId, uint64_t> incoming_;
  absl::btree_map<uint64_t, std::unique_ptr<Peer>> peers_;
  absl::btree_set<uint64_t> blocked_;
  TransportMetrics metrics_;

  bool closing_ = false;
  bool closed_ = false;
  int handles_open_ = 0;  // while closing: handles and connections to go
  std::function<void()> on_done_;
};

}  // namespace raftstore::transport

#endif  // RAFTSTORE_TRANSPORT_TCP_TRANSPORT_H_
