// One TCP connection carrying frames (frame.h) in both directions, on a libuv
// loop: the building block of the raft transport (tcp_transport.h) and of the
// client port (framed_server.h).
//
// Reading: every byte received goes through a FrameDecoder; each whole frame
// is handed to on_frame. A decoder error, an error returned by on_frame, an
// I/O error, EOF, or a timeout closes the connection; nothing a peer sends
// can do more than that.
//
// Writing: Send encodes a frame into a pending buffer; while no write is in
// flight the whole buffer goes out in one uv_write, so frames sent in the
// same loop iteration are coalesced. Pending plus in-flight bytes are
// bounded (write_buffer_bytes_max); a write that does not complete within
// write_stall_timeout_ms closes the connection (the peer stopped reading).
//
// Lifetime: a FramedConnection owns itself. Dial and Accept return a pointer
// that stays valid until on_closed has returned: on_closed is called exactly
// once, from a libuv close callback after every handle of the connection is
// closed, and the object deletes itself right after. The owner must drop its
// pointer in on_closed and must keep the callbacks' captures alive until
// then (owners close their connections and wait for on_closed before they
// go away).
//
// Thread-safety: none. Every method and callback runs on the loop's thread.
#ifndef RAFTSTORE_TRANSPORT_FRAMED_CONNECTION_H_
#define RAFTSTORE_TRANSPORT_FRAMED_CONNECTION_H_

#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "transport/address.h"
#include "transport/frame.h"

namespace raftstore::transport {

struct ConnectionOptions {
  FrameCodecOptions codec;
  // Encoded bytes waiting to be written or in flight, at most. Also bounds
  // one write. Must be in [1, 2^32 - 1] (one uv_buf_t).
  uint64_t write_buffer_bytes_max = uint64_t{64} << 20;
  // A write still not completed after this long closes the connection.
  uint64_t write_stall_timeout_ms = 10'000;
  // A partly received frame that gets no new byte for this long closes the
  // connection (a peer that stalls mid-frame would otherwise hold its buffer
  // forever).
  uint64_t read_stall_timeout_ms = 30'000;
  // The read buffer handed to libuv, per connection.
  uint64_t read_chunk_bytes = 64 << 10;

  // InvalidArgument naming the field for a value out of range.
  absl::Status Validate() const;
};

// Why a connection closed.
enum class CloseCause {
  kLocal,        // Close() was called
  kPeerClosed,   // EOF on a frame boundary
  kBadFrame,     // the decoder refused the stream (incl. EOF mid-frame)
  kRejected,     // on_frame returned an error
  kIoError,      // connect, read or write failed
  kDialTimeout,  // not connected within the dial timeout
  kDeadline,     // the owner's deadline (SetDeadline) passed
  kReadStall,    // read_stall_timeout_ms passed mid-frame
  kWriteStall,   // write_stall_timeout_ms passed with a write in flight
};

std::string_view CloseCauseName(CloseCause cause);

struct CloseInfo {
  CloseCause cause = CloseCause::kLocal;
  // What went wrong, naming the peer; OK only for kLocal with an OK reason.
  absl::Status reason;
  // Whether the TCP connection was ever established.
  bool was_connected = false;
  // Counted frames (see Send) never fully written.
  uint64_t frames_unsent = 0;
  // FramedConnection::peer_name(), kept because the connection is gone.
  std::string peer_name;
};

class FramedConnection {
 public:
  struct Callbacks {
    // Dial only: the TCP connection is up (writes start now). Optional.
    std::function<void()> on_connected;
    // Each decoded frame, in stream order. A non-OK return closes the
    // connection with cause kRejected and that reason. Required.
    std::function<absl::Status(Frame&& frame)> on_frame;
    // Every completed write: how many counted frames it carried. Optional.
    std::function<void(uint64_t frames)> on_written;
    // Exactly once, last; the connection is deleted when it returns.
    // Required.
    std::function<void(const CloseInfo& info)> on_closed;
  };

  // Starts connecting to `address`; not connected after `dial_timeout_ms`
  // (>= 1) means kDialTimeout. Requires options.Validate().ok(). Errors,
  // even immediate ones, arrive through on_closed.
  static FramedConnection* Dial(uv_loop_t* loop, const SocketAddress& address,
                                const ConnectionOptions& options,
                                uint64_t dial_timeout_ms, Callbacks callbacks);

  // Accepts the pending connection of `listener` (call from its connection
  // callback). Errors arrive through on_closed.
  static FramedConnection* Accept(uv_loop_t* loop, uv_stream_t* listener,
                                  const ConnectionOptions& options,
                                  Callbacks callbacks);

  FramedConnection(const FramedConnection&) = delete;
  FramedConnection& operator=(const FramedConnection&) = delete;

  // Queues one frame carrying `message`, written once connected. Counted
  // (frames_unsent, on_written) as one frame. Returns kFailedPrecondition
  // once closing, kResourceExhausted if the payload is above the frame bound
  // or the write buffer would pass write_buffer_bytes_max; nothing is queued
  // then.
  template <typename M>
  absl::Status Send(const M& message) {
    if (absl::Status room = CheckRoom(FrameBytesOf(message)); !room.ok()) {
      return room;
    }
    absl::Status encoded =
        AppendFrame(message, options_.codec.frame_payload_bytes_max, &pending_);
    if (encoded.ok()) Queued(1);
    return encoded;
  }

  // Queues already encoded whole frames, `counted_frames` of which count as
  // frames (a HELLO, say, counts 0). Same errors as Send.
  absl::Status SendEncoded(std::string_view frames, uint64_t counted_frames);

  // Closes the connection (idempotent: only the first reason is kept).
  // `reason` is reported in CloseInfo with cause kLocal.
  void Close(absl::Status reason) {
    CloseWith(CloseCause::kLocal, std::move(reason));
  }

  // After `timeout_ms` (>= 1) the connection closes with cause kDeadline and
  // `reason`, unless ClearDeadline is called first. Replaces an earlier
  // deadline. Used for "HELLO within N ms".
  void SetDeadline(uint64_t timeout_ms, absl::Status reason);
  void ClearDeadline();

  bool connected() const { return connected_; }
  bool closing() const { return closing_; }
  // Pending plus in-flight bytes.
  uint64_t buffered_bytes() const { return pending_.size() + inflight_.size(); }
  // The remote address ("127.0.0.1:40112"), or the dialed address text.
  const std::string& peer_name() const { return peer_name_; }

 private:
  FramedConnection(uv_loop_t* loop, const ConnectionOptions& options,
                   Callbacks callbacks);
  ~FramedConnection() = default;

  absl::Status CheckRoom(uint64_t bytes) const;
  void Queued(uint64_t counted_frames);
  void CloseWith(CloseCause cause, absl::Status reason);
  void StartReading();
  void MaybeWrite();
  void OnConnect(int status);
  void OnRead(ssize_t nread);
  void OnWrite(int status);
  void OnTimer(uv_timer_t* timer);
  void OnHandleClosed();
  absl::Status Error(absl::string_view what, int uv_error) const;

  static void ConnectCb(uv_connect_t* request, int status);
  static void AllocCb(uv_handle_t* handle, size_t suggested, uv_buf_t* buf);
  static void ReadCb(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void WriteCb(uv_write_t* request, int status);
  static void TimerCb(uv_timer_t* timer);
  static void CloseCb(uv_handle_t* handle);

  uv_loop_t* loop_;
  ConnectionOptions options_;
  Callbacks callbacks_;
  FrameDecoder decoder_;
  std::vector<Frame> frames_;  // reused per read
  std::unique_ptr<char[]> read_buffer_;

  uv_tcp_t tcp_{};
  uv_connect_t connect_request_{};
  uv_write_t write_request_{};
  uv_timer_t deadline_timer_{};  // dial timeout, then the owner's deadline
  uv_timer_t read_timer_{};
  uv_timer_t write_timer_{};
  int open_handles_ = 0;

  std::string peer_name_;
  absl::Status deadline_reason_;
  bool dialing_ = false;
  bool connected_ = false;
  bool closing_ = false;
  CloseCause close_cause_ = CloseCause::kLocal;
  absl::Status close_reason_;

  std::string pending_;
  uint64_t pending_frames_ = 0;
  std::string inflight_;
  uint64_t inflight_frames_ = 0;
  bool write_in_flight_ = false;
};

}  // namespace raftstore::transport

#endif  // RAFTSTORE_TRANSPORT_FRAMED_CONNECTION_H_
