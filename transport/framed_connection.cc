#include "transport/framed_connection.h"

#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "transport/address.h"
#include "transport/frame.h"

namespace raftstore::transport {
namespace {

template <typename T>
uv_handle_t* AsHandle(T* handle) {
  return reinterpret_cast<uv_handle_t*>(handle);
}

template <typename T>
uv_stream_t* AsStream(T* handle) {
  return reinterpret_cast<uv_stream_t*>(handle);
}

// Keepalive probes find a peer that vanished without a FIN (power loss,
// partition) on an idle connection.
constexpr unsigned int kKeepaliveDelaySeconds = 30;

}  // namespace

absl::Status ConnectionOptions::Validate() const {
  if (absl::Status codec_ok = codec.Validate(); !codec_ok.ok()) {
    return codec_ok;
  }
  auto bad = [](absl::string_view field, uint64_t value) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " is ", value, ", out of range"));
  };
  if (write_buffer_bytes_max < 1 || write_buffer_bytes_max > 0xffffffffULL) {
    return bad("write_buffer_bytes_max", write_buffer_bytes_max);
  }
  if (write_stall_timeout_ms < 1) {
    return bad("write_stall_timeout_ms", write_stall_timeout_ms);
  }
  if (read_stall_timeout_ms < 1) {
    return bad("read_stall_timeout_ms", read_stall_timeout_ms);
  }
  if (read_chunk_bytes < 1 || read_chunk_bytes > (uint64_t{1} << 30)) {
    return bad("read_chunk_bytes", read_chunk_bytes);
  }
  return absl::OkStatus();
}

std::string_view CloseCauseName(CloseCause cause) {
  switch (cause) {
    case CloseCause::kLocal:
      return "closed locally";
    case CloseCause::kPeerClosed:
      return "peer closed";
    case CloseCause::kBadFrame:
      return "bad frame";
    case CloseCause::kRejected:
      return "frame rejected";
    case CloseCause::kIoError:
      return "I/O error";
    case CloseCause::kDialTimeout:
      return "dial timeout";
    case CloseCause::kDeadline:
      return "deadline";
    case CloseCause::kReadStall:
      return "read stall";
    case CloseCause::kWriteStall:
      return "write stall";
  }
  return "unknown";
}

FramedConnection::FramedConnection(uv_loop_t* loop,
                                   const ConnectionOptions& options,
                                   Callbacks callbacks)
    : loop_(loop),
      options_(options),
      callbacks_(std::move(callbacks)),
      decoder_(options.codec) {
  const absl::Status valid = options.Validate();
  RS_CHECK(valid.ok()) << valid;
  RS_CHECK(callbacks_.on_frame != nullptr);
  RS_CHECK(callbacks_.on_closed != nullptr);
  RS_CHECK_EQ(uv_tcp_init(loop_, &tcp_), 0);
  for (uv_timer_t* timer : {&deadline_timer_, &read_timer_, &write_timer_}) {
    RS_CHECK_EQ(uv_timer_init(loop_, timer), 0);
    timer->data = this;
  }
  tcp_.data = this;
  connect_request_.data = this;
  write_request_.data = this;
  open_handles_ = 4;
}

FramedConnection* FramedConnection::Dial(uv_loop_t* loop,
                                         const SocketAddress& address,
                                         const ConnectionOptions& options,
                                         uint64_t dial_timeout_ms,
                                         Callbacks callbacks) {
  RS_CHECK_GE(dial_timeout_ms, 1U);
  auto* connection = new FramedConnection(loop, options, std::move(callbacks));
  connection->peer_name_ = address.text;
  connection->dialing_ = true;
  RS_CHECK_EQ(
      uv_timer_start(&connection->deadline_timer_, TimerCb, dial_timeout_ms, 0),
      0);
  const int error = uv_tcp_connect(&connection->connect_request_,
                                   &connection->tcp_, address.get(), ConnectCb);
  if (error < 0) {
    connection->dialing_ = false;
    connection->CloseWith(CloseCause::kIoError,
                          connection->Error("connect to", error));
  }
  return connection;
}

FramedConnection* FramedConnection::Accept(uv_loop_t* loop,
                                           uv_stream_t* listener,
                                           const ConnectionOptions& options,
                                           Callbacks callbacks) {
  auto* connection = new FramedConnection(loop, options, std::move(callbacks));
  const int error = uv_accept(listener, AsStream(&connection->tcp_));
  if (error < 0) {
    connection->peer_name_ = "(not accepted)";
    connection->CloseWith(CloseCause::kIoError,
                          connection->Error("accept", error));
    return connection;
  }
  sockaddr_storage peer{};
  int length = sizeof(peer);
  if (uv_tcp_getpeername(&connection->tcp_, reinterpret_cast<sockaddr*>(&peer),
                         &length) == 0) {
    connection->peer_name_ = FormatAddress(reinterpret_cast<sockaddr*>(&peer));
  } else {
    connection->peer_name_ = "?";
  }
  connection->connected_ = true;
  connection->StartReading();
  return connection;
}

absl::Status FramedConnection::Error(absl::string_view what,
                                     int uv_error) const {
  return absl::UnavailableError(absl::StrCat(what, " ", peer_name_, ": ",
                                             uv_err_name(uv_error), " (",
                                             uv_strerror(uv_error), ")"));
}

absl::Status FramedConnection::CheckRoom(uint64_t bytes) const {
  if (closing_) {
    return absl::FailedPreconditionError(
        absl::StrCat("connection ", peer_name_, " is closing"));
  }
  if (buffered_bytes() + bytes > options_.write_buffer_bytes_max) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "connection ", peer_name_, ": ", bytes, " more bytes would pass ",
        "write_buffer_bytes_max ", options_.write_buffer_bytes_max, " (",
        buffered_bytes(), " buffered)"));
  }
  return absl::OkStatus();
}

void FramedConnection::Queued(uint64_t counted_frames) {
  pending_frames_ += counted_frames;
  MaybeWrite();
}

absl::Status FramedConnection::SendEncoded(std::string_view frames,
                                           uint64_t counted_frames) {
  if (absl::Status room = CheckRoom(frames.size()); !room.ok()) return room;
  pending_.append(frames);
  Queued(counted_frames);
  return absl::OkStatus();
}

void FramedConnection::SetDeadline(uint64_t timeout_ms, absl::Status reason) {
  RS_CHECK_GE(timeout_ms, 1U);
  RS_CHECK(!dialing_) << "the dial timeout uses the deadline timer";
  if (closing_) return;
  deadline_reason_ = std::move(reason);
  RS_CHECK_EQ(uv_timer_start(&deadline_timer_, TimerCb, timeout_ms, 0), 0);
}

void FramedConnection::ClearDeadline() {
  if (closing_) return;
  uv_timer_stop(&deadline_timer_);
}

void FramedConnection::StartReading() {
  const int error = uv_read_start(AsStream(&tcp_), AllocCb, ReadCb);
  if (error < 0) CloseWith(CloseCause::kIoError, Error("read from", error));
}

void FramedConnection::MaybeWrite() {
  if (!connected_ || closing_ || write_in_flight_ || pending_.empty()) return;
  inflight_.swap(pending_);
  pending_.clear();
  inflight_frames_ = pending_frames_;
  pending_frames_ = 0;
  RS_CHECK_LE(inflight_.size(), options_.write_buffer_bytes_max);
  const uv_buf_t buffer = uv_buf_init(
      inflight_.data(), static_cast<unsigned int>(inflight_.size()));
  const int error =
      uv_write(&write_request_, AsStream(&tcp_), &buffer, 1, WriteCb);
  if (error < 0) {
    CloseWith(CloseCause::kIoError, Error("write to", error));
    return;
  }
  write_in_flight_ = true;
  RS_CHECK_EQ(uv_timer_start(&write_timer_, TimerCb,
                             options_.write_stall_timeout_ms, 0),
              0);
}

void FramedConnection::OnConnect(int status) {
  dialing_ = false;
  if (closing_) return;  // closed while connecting (UV_ECANCELED)
  if (status < 0) {
    CloseWith(CloseCause::kIoError, Error("connect to", status));
    return;
  }
  uv_timer_stop(&deadline_timer_);
  connected_ = true;
  // Raft messages are latency-bound and already coalesced per write.
  uv_tcp_nodelay(&tcp_, 1);
  uv_tcp_keepalive(&tcp_, 1, kKeepaliveDelaySeconds);
  StartReading();
  if (!closing_ && callbacks_.on_connected) callbacks_.on_connected();
  MaybeWrite();
}

void FramedConnection::OnRead(ssize_t nread) {
  if (closing_ || nread == 0) return;  // 0: nothing to read (EAGAIN)
  if (nread == UV_EOF) {
    const absl::Status end = decoder_.Finish();
    if (!end.ok()) {
      CloseWith(CloseCause::kBadFrame,
                absl::Status(end.code(), absl::StrCat("from ", peer_name_, ": ",
                                                      end.message())));
    } else {
      CloseWith(CloseCause::kPeerClosed,
                absl::UnavailableError(
                    absl::StrCat(peer_name_, " closed the connection")));
    }
    return;
  }
  if (nread < 0) {
    CloseWith(CloseCause::kIoError,
              Error("read from", static_cast<int>(nread)));
    return;
  }
  frames_.clear();
  const absl::Status fed = decoder_.Feed(
      std::string_view(read_buffer_.get(), static_cast<size_t>(nread)),
      &frames_);
  for (Frame& frame : frames_) {
    if (closing_) break;
    absl::Status handled = callbacks_.on_frame(std::move(frame));
    if (!handled.ok()) CloseWith(CloseCause::kRejected, std::move(handled));
  }
  frames_.clear();
  if (closing_) return;
  if (!fed.ok()) {
    CloseWith(CloseCause::kBadFrame,
              absl::Status(fed.code(), absl::StrCat("from ", peer_name_, ": ",
                                                    fed.message())));
  } else if (decoder_.buffered_bytes() > 0) {
    RS_CHECK_EQ(uv_timer_start(&read_timer_, TimerCb,
                               options_.read_stall_timeout_ms, 0),
                0);
  } else {
    uv_timer_stop(&read_timer_);
  }
}

void FramedConnection::OnWrite(int status) {
  write_in_flight_ = false;
  if (status < 0) {
    // The frames stay counted unsent (UV_ECANCELED when we closed first).
    CloseWith(CloseCause::kIoError, Error("write to", status));
    return;
  }
  const uint64_t written = inflight_frames_;
  inflight_.clear();
  inflight_frames_ = 0;
  if (callbacks_.on_written && written > 0) callbacks_.on_written(written);
  if (closing_) return;
  uv_timer_stop(&write_timer_);
  MaybeWrite();
}

void FramedConnection::OnTimer(uv_timer_t* timer) {
  if (closing_) return;
  if (timer == &write_timer_) {
    CloseWith(CloseCause::kWriteStall,
              absl::DeadlineExceededError(absl::StrCat(
                  "write to ", peer_name_, " of ", inflight_.size(),
                  " bytes not done after write_stall_timeout_ms ",
                  options_.write_stall_timeout_ms)));
  } else if (timer == &read_timer_) {
    CloseWith(CloseCause::kReadStall,
              absl::DeadlineExceededError(absl::StrCat(
                  "from ", peer_name_, ": partial frame (",
                  decoder_.buffered_bytes(), " bytes at stream offset ",
                  decoder_.stream_offset(), ") got no byte within ",
                  "read_stall_timeout_ms ", options_.read_stall_timeout_ms)));
  } else if (dialing_) {
    CloseWith(CloseCause::kDialTimeout,
              absl::DeadlineExceededError(
                  absl::StrCat("dial to ", peer_name_, " timed out")));
  } else {
    CloseWith(CloseCause::kDeadline, deadline_reason_);
  }
}

void FramedConnection::CloseWith(CloseCause cause, absl::Status reason) {
  if (closing_) return;
  closing_ = true;
  close_cause_ = cause;
  close_reason_ = std::move(reason);
  uv_close(AsHandle(&tcp_), CloseCb);
  uv_close(AsHandle(&deadline_timer_), CloseCb);
  uv_close(AsHandle(&read_timer_), CloseCb);
  uv_close(AsHandle(&write_timer_), CloseCb);
}

void FramedConnection::OnHandleClosed() {
  RS_CHECK_GT(open_handles_, 0);
  if (--open_handles_ > 0) return;
  RS_CHECK(!write_in_flight_);
  CloseInfo info;
  info.cause = close_cause_;
  info.reason = close_reason_;
  info.was_connected = connected_;
  info.frames_unsent = pending_frames_ + inflight_frames_;
  info.peer_name = peer_name_;
  // Move the callback out: it may destroy what its captures point to.
  auto on_closed = std::move(callbacks_.on_closed);
  delete this;
  on_closed(info);
}

void FramedConnection::ConnectCb(uv_connect_t* request, int status) {
  static_cast<FramedConnection*>(request->data)->OnConnect(status);
}

void FramedConnection::AllocCb(uv_handle_t* handle, size_t /*suggested*/,
                               uv_buf_t* buf) {
  auto* self = static_cast<FramedConnection*>(handle->data);
  if (self->read_buffer_ == nullptr) {
    self->read_buffer_ =
        std::make_unique<char[]>(self->options_.read_chunk_bytes);
  }
  *buf =
      uv_buf_init(self->read_buffer_.get(),
                  static_cast<unsigned int>(self->options_.read_chunk_bytes));
}

void FramedConnection::ReadCb(uv_stream_t* stream, ssize_t nread,
                              const uv_buf_t* /*buf*/) {
  static_cast<FramedConnection*>(stream->data)->OnRead(nread);
}

void FramedConnection::WriteCb(uv_write_t* request, int status) {
  static_cast<FramedConnection*>(request->data)->OnWrite(status);
}

void FramedConnection::TimerCb(uv_timer_t* timer) {
  static_cast<FramedConnection*>(timer->data)->OnTimer(timer);
}

void FramedConnection::CloseCb(uv_handle_t* handle) {
  static_cast<FramedConnection*>(handle->data)->OnHandleClosed();
}

}  // namespace raftstore::transport
