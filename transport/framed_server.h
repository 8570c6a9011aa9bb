// A TCP port that speaks frames (frame.h): listens, accepts up to a bound of
// connections, optionally requires each connection's first frame to be a
// HELLO that passes VerifyHello (hello.h) before anything else from it is
// delivered, hands every later frame to a callback, and writes frames back
// on the same connection. The raft transport's accepting side
// (tcp_transport.h) and the node's client port are built on it.
//
// Misbehaving connections: a frame the decoder refuses, a missing or wrong
// HELLO, a frame the owner's callback rejects, or a stall closes that one
// connection, logs why through the LogSink and counts it; the port keeps
// serving every other connection. Nothing a client sends can crash it.
//
// Lifetime: Close() stops listening and closes every connection; `on_done`
// runs (from the loop) once every libuv handle is closed. The owner must run
// the loop until then before destroying the server (the destructor checks).
//
// Thread-safety: none. Every method and callback runs on the loop's thread.
#ifndef RAFTSTORE_TRANSPORT_FRAMED_SERVER_H_
#define RAFTSTORE_TRANSPORT_FRAMED_SERVER_H_

#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/container/btree_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "transport/framed_connection.h"
#include "transport/hello.h"
#include "transport/log_sink.h"

namespace raftstore::transport {

struct FramedServerOptions {
  // "host:port"; port 0 picks a free port (see FramedServer::port()).
  std::string listen_address = "127.0.0.1:0";
  ConnectionOptions connection;
  // Whether a connection's first frame must be a HELLO passing
  // hello_policy.
  bool require_hello = true;
  HelloPolicy hello_policy;
  // A connection that has not sent a good HELLO this long after it was
  // accepted is closed (counted unauthenticated).
  uint64_t hello_timeout_ms = 5'000;
  // With require_hello: the first frame's payload bound (sets
  // connection.codec.first_frame_payload_bytes_max), so an unauthenticated
  // connection never makes the port buffer more than this.
  uint64_t hello_payload_bytes_max = 4'096;
  // Open connections at most; one accepted beyond is closed at once.
  uint64_t connections_max = 1'024;
  int listen_backlog = 128;

  absl::Status Validate() const;
};

struct FramedServerMetrics {
  uint64_t connections_accepted = 0;
  uint64_t connections_open = 0;
  uint64_t connections_rejected_full = 0;
  // Refused by the decoder, stalled mid-frame, or rejected by the owner.
  uint64_t connections_closed_bad_frame = 0;
  // No HELLO in time, a frame before HELLO, or a HELLO that failed.
  uint64_t connections_closed_unauthenticated = 0;
  // Every frame decoded, HELLOs included.
  uint64_t frames_received = 0;
  uint64_t frames_sent = 0;
};

class FramedServer {
 public:
  using ConnectionId = uint64_t;

  struct Callbacks {
    // A connection is open for frames: after its HELLO passed (`hello`
    // points to it), or at accept when no HELLO is required (null).
    // Optional.
    std::function<void(ConnectionId id, const Hello* hello)> on_open;
    // Each frame after the HELLO, in order. A non-OK return closes the
    // connection, logged and counted as a bad frame. Required.
    std::function<absl::Status(ConnectionId id, Frame&& frame)> on_frame;
    // A connection that was opened (on_open) is gone. Optional.
    std::function<void(ConnectionId id, const CloseInfo& info)> on_closed;
  };

  // Binds and listens. Returns kInvalidArgument for bad options or address,
  // kUnavailable naming the address if it cannot be bound (in use,
  // permission).
  static absl::StatusOr<std::unique_ptr<FramedServer>> Listen(
      uv_loop_t* loop, const FramedServerOptions& options, Callbacks callbacks,
      LogSink log = StderrLogSink());

  FramedServer(const FramedServer&) = delete;
  FramedServer& operator=(const FramedServer&) = delete;
  // Requires closed().
  ~FramedServer();

  // The port actually bound.
  int port() const { return port_; }

  // Writes one frame to connection `id`. Returns kNotFound if it is gone or
  // closing, kResourceExhausted if the payload is above the frame bound.
  // If the connection's write buffer is full (the peer is not reading) the
  // connection is closed and kResourceExhausted returned.
  template <typename M>
  absl::Status Send(ConnectionId id, const M& message) {
    FramedConnection* connection = Find(id);
    if (connection == nullptr) return Gone(id);
    const uint64_t bytes = FrameBytesOf(message);
    if (connection->buffered_bytes() + bytes >
        options_.connection.write_buffer_bytes_max) {
      return CloseFull(id, connection, bytes);
    }
    absl::Status sent = connection->Send(message);
    if (sent.ok()) ++metrics_.frames_sent;
    return sent;
  }

  // Closes connection `id` (if still open) with `reason`, which is logged.
  void CloseConnection(ConnectionId id, absl::Status reason);

  // Stops listening and closes every connection; `on_done` (optional) runs
  // once all are closed. Idempotent.
  void Close(std::function<void()> on_done);
  bool closed() const { return closed_; }

  const FramedServerMetrics& metrics() const { return metrics_; }

 private:
  struct Connection {
    FramedConnection* connection = nullptr;
    bool opened = false;  // HELLO passed (or none required)
    uint64_t store_id = 0;
  };

  FramedServer(uv_loop_t* loop, const FramedServerOptions& options,
               Callbacks callbacks, LogSink log);

  absl::Status Start();
  void OnConnection(int status);
  absl::Status OnFrame(ConnectionId id, Frame&& frame);
  absl::Status OnHello(ConnectionId id, Connection& entry, const Frame& frame);
  void OnConnectionClosed(ConnectionId id, const CloseInfo& info);
  void CountClose(const Connection& entry, const CloseInfo& info);
  void MaybeDone();
  FramedConnection* Find(ConnectionId id) const;
  absl::Status Gone(ConnectionId id) const;
  absl::Status CloseFull(ConnectionId id, FramedConnection* connection,
                         uint64_t bytes);

  static void ConnectionCb(uv_stream_t* listener, int status);
  static void ListenerClosedCb(uv_handle_t* handle);

  uv_loop_t* loop_;
  FramedServerOptions options_;
  Callbacks callbacks_;
  LogSink log_;
  // Heap-allocated so that a failed Listen can hand it to uv_close and
  // return: it frees itself in its close callback.
  uv_tcp_t* listener_ = nullptr;
  int port_ = 0;
  std::string listen_name_;  // the bound address, for log lines
  ConnectionId next_id_ = 1;
  absl::btree_map<ConnectionId, Connection> connections_;
  bool closing_ = false;
  bool listener_closed_ = false;
  bool closed_ = false;
  std::function<void()> on_done_;
  FramedServerMetrics metrics_;
};

}  // namespace raftstore::transport

#endif  // RAFTSTORE_TRANSPORT_FRAMED_SERVER_H_
