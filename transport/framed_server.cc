#include "transport/framed_server.h"

#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <variant>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "transport/address.h"
#include "transport/framed_connection.h"
#include "transport/hello.h"

namespace raftstore::transport {

absl::Status FramedServerOptions::Validate() const {
  if (absl::Status valid = connection.Validate(); !valid.ok()) return valid;
  if (require_hello && hello_policy.cluster_id == 0) {
    return absl::InvalidArgumentError(
        "hello_policy.cluster_id must be nonzero when require_hello is set");
  }
  if (require_hello &&
      (hello_payload_bytes_max < 1 ||
       hello_payload_bytes_max > connection.codec.frame_payload_bytes_max)) {
    return absl::InvalidArgumentError(
        absl::StrCat("hello_payload_bytes_max ", hello_payload_bytes_max,
                     " must be in [1, frame_payload_bytes_max]"));
  }
  if (hello_timeout_ms < 1) {
    return absl::InvalidArgumentError("hello_timeout_ms must be >= 1");
  }
  if (connections_max < 1) {
    return absl::InvalidArgumentError("connections_max must be >= 1");
  }
  if (listen_backlog < 1) {
    return absl::InvalidArgumentError("listen_backlog must be >= 1");
  }
  return absl::OkStatus();
}

FramedServer::FramedServer(uv_loop_t* loop, const FramedServerOptions& options,
                           Callbacks callbacks, LogSink log)
    : loop_(loop),
      options_(options),
      callbacks_(std::move(callbacks)),
      log_(std::move(log)) {
  if (options_.require_hello) {
    options_.connection.codec.first_frame_payload_bytes_max =
        options_.hello_payload_bytes_max;
  }
  RS_CHECK(callbacks_.on_frame != nullptr);
  RS_CHECK(log_ != nullptr);
}

FramedServer::~FramedServer() {
  RS_CHECK(closed_) << "FramedServer destroyed before Close() finished";
}

absl::StatusOr<std::unique_ptr<FramedServer>> FramedServer::Listen(
    uv_loop_t* loop, const FramedServerOptions& options, Callbacks callbacks,
    LogSink log) {
  if (absl::Status valid = options.Validate(); !valid.ok()) return valid;
  std::unique_ptr<FramedServer> server(
      new FramedServer(loop, options, std::move(callbacks), std::move(log)));
  if (absl::Status started = server->Start(); !started.ok()) {
    return started;
  }
  return server;
}

absl::Status FramedServer::Start() {
  absl::StatusOr<SocketAddress> address =
      ResolveAddress(options_.listen_address);
  if (!address.ok()) return address.status();
  listener_ = new uv_tcp_t{};
  RS_CHECK_EQ(uv_tcp_init(loop_, listener_), 0);
  listener_->data = this;
  auto* stream = reinterpret_cast<uv_stream_t*>(listener_);
  int error = uv_tcp_bind(listener_, address->get(), 0);
  // libuv may report a bind error only when listening.
  if (error == 0) {
    error = uv_listen(stream, options_.listen_backlog, ConnectionCb);
  }
  sockaddr_storage bound{};
  int length = sizeof(bound);
  if (error == 0) {
    error = uv_tcp_getsockname(listener_, reinterpret_cast<sockaddr*>(&bound),
                               &length);
  }
  if (error < 0) {
    listener_->data = nullptr;  // the handle frees itself; we are gone
    uv_close(reinterpret_cast<uv_handle_t*>(listener_), ListenerClosedCb);
    listener_ = nullptr;
    closed_ = true;
    return absl::UnavailableError(
        absl::StrCat("listen on ", options_.listen_address, ": ",
                     uv_err_name(error), " (", uv_strerror(error), ")"));
  }
  const auto* in = reinterpret_cast<const sockaddr_in*>(&bound);
  port_ = ntohs(in->sin_port);  // sin6_port is at the same offset
  listen_name_ = FormatAddress(reinterpret_cast<const sockaddr*>(&bound));
  return absl::OkStatus();
}

void FramedServer::OnConnection(int status) {
  if (closing_) return;
  if (status < 0) {
    log_(absl::StrCat("accept on ", listen_name_, ": ", uv_strerror(status)));
    return;
  }
  const ConnectionId id = next_id_++;
  FramedConnection::Callbacks callbacks;
  callbacks.on_frame = [this, id](Frame&& frame) {
    return OnFrame(id, std::move(frame));
  };
  callbacks.on_closed = [this, id](const CloseInfo& info) {
    OnConnectionClosed(id, info);
  };
  const bool full = connections_.size() >= options_.connections_max;
  FramedConnection* connection =
      FramedConnection::Accept(loop_, reinterpret_cast<uv_stream_t*>(listener_),
                               options_.connection, std::move(callbacks));
  connections_[id].connection = connection;
  ++metrics_.connections_accepted;
  if (full) {
    ++metrics_.connections_rejected_full;
    connection->Close(absl::ResourceExhaustedError(
        absl::StrCat("connections_max ", options_.connections_max,
                     " connections already open")));
  } else if (options_.require_hello) {
    connection->SetDeadline(
        options_.hello_timeout_ms,
        absl::UnauthenticatedError(absl::StrCat(
            "no HELLO within hello_timeout_ms ", options_.hello_timeout_ms)));
  } else {
    connections_[id].opened = true;
    ++metrics_.connections_open;
    if (callbacks_.on_open) callbacks_.on_open(id, nullptr);
  }
}

absl::Status FramedServer::OnHello(ConnectionId id, Connection& entry,
                                   const Frame& frame) {
  if (frame.type() != FrameType::kHello) {
    ++metrics_.connections_closed_unauthenticated;
    return absl::UnauthenticatedError(
        absl::StrCat("first frame is ",
                     std::string(FrameTypeName(frame.type())), ", not HELLO"));
  }
  const Hello& hello = std::get<Hello>(frame.message);
  if (absl::Status verified = VerifyHello(hello, options_.hello_policy);
      !verified.ok()) {
    ++metrics_.connections_closed_unauthenticated;
    return verified;
  }
  entry.connection->ClearDeadline();
  entry.opened = true;
  entry.store_id = hello.store_id();
  ++metrics_.connections_open;
  if (callbacks_.on_open) callbacks_.on_open(id, &hello);
  return absl::OkStatus();
}

absl::Status FramedServer::OnFrame(ConnectionId id, Frame&& frame) {
  ++metrics_.frames_received;
  auto it = connections_.find(id);
  RS_CHECK(it != connections_.end());
  Connection& entry = it->second;
  if (!entry.opened) return OnHello(id, entry, frame);
  absl::Status handled = frame.type() == FrameType::kHello
                             ? absl::InvalidArgumentError("a second HELLO")
                             : callbacks_.on_frame(id, std::move(frame));
  if (!handled.ok()) ++metrics_.connections_closed_bad_frame;
  return handled;
}

void FramedServer::CountClose(const Connection& entry, const CloseInfo& info) {
  switch (info.cause) {
    case CloseCause::kBadFrame:
    case CloseCause::kReadStall:
      ++metrics_.connections_closed_bad_frame;
      break;
    case CloseCause::kDeadline:
      ++metrics_.connections_closed_unauthenticated;
      break;
    default:
      break;  // kRejected was counted when rejected
  }
  if (info.cause == CloseCause::kPeerClosed ||
      (info.cause == CloseCause::kLocal && closing_)) {
    return;  // ordinary ends, not worth a line
  }
  log_(absl::StrCat(
      "closed connection from ", info.peer_name,
      entry.store_id != 0 ? absl::StrCat(" (store ", entry.store_id, ")")
                          : std::string(),
      " on ", listen_name_, ": ", std::string(CloseCauseName(info.cause)), ": ",
      info.reason.ToString()));
}

void FramedServer::OnConnectionClosed(ConnectionId id, const CloseInfo& info) {
  auto it = connections_.find(id);
  RS_CHECK(it != connections_.end());
  const Connection entry = it->second;
  connections_.erase(it);
  CountClose(entry, info);
  if (entry.opened) {
    --metrics_.connections_open;
    if (callbacks_.on_closed) callbacks_.on_closed(id, info);
  }
  MaybeDone();
}

FramedConnection* FramedServer::Find(ConnectionId id) const {
  auto it = connections_.find(id);
  if (it == connections_.end() || !it->second.opened ||
      it->second.connection->closing()) {
    return nullptr;
  }
  return it->second.connection;
}

absl::Status FramedServer::Gone(ConnectionId id) const {
  return absl::NotFoundError(
      absl::StrCat("connection ", id, " on ", listen_name_, " is closed"));
}

absl::Status FramedServer::CloseFull(ConnectionId id,
                                     FramedConnection* connection,
                                     uint64_t bytes) {
  absl::Status full = absl::ResourceExhaustedError(absl::StrCat(
      "connection ", id, " from ", connection->peer_name(),
      " is not reading: ", connection->buffered_bytes(), " bytes buffered, ",
      bytes, " more would pass write_buffer_bytes_max ",
      options_.connection.write_buffer_bytes_max));
  connection->Close(full);
  return full;
}

void FramedServer::CloseConnection(ConnectionId id, absl::Status reason) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return;
  it->second.connection->Close(std::move(reason));
}

void FramedServer::Close(std::function<void()> on_done) {
  if (closing_) return;
  closing_ = true;
  on_done_ = std::move(on_done);
  for (auto& [id, entry] : connections_) {
    entry.connection->Close(absl::CancelledError("server closing"));
  }
  uv_close(reinterpret_cast<uv_handle_t*>(listener_), ListenerClosedCb);
}

void FramedServer::MaybeDone() {
  if (!closing_ || closed_ || !listener_closed_ || !connections_.empty()) {
    return;
  }
  closed_ = true;
  if (on_done_) {
    auto done = std::move(on_done_);
    done();
  }
}

void FramedServer::ConnectionCb(uv_stream_t* listener, int status) {
  static_cast<FramedServer*>(listener->data)->OnConnection(status);
}

void FramedServer::ListenerClosedCb(uv_handle_t* handle) {
  auto* server = static_cast<FramedServer*>(handle->data);
  delete reinterpret_cast<uv_tcp_t*>(handle);
  if (server == nullptr) return;
  server->listener_ = nullptr;
  server->listener_closed_ = true;
  server->MaybeDone();
}

}  // namespace raftstore::transport
