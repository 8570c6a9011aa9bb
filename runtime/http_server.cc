#include "runtime/http_server.h"

#include <netinet/in.h>
#include <uv.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "core/base/check.h"
#include "transport/address.h"

namespace raftstore::runtime {

struct HttpServer::Connection {
  HttpServer* server = nullptr;
  uint64_t id = 0;
  uv_tcp_t tcp{};
  uv_timer_t timer{};
  uv_write_t write_request{};
  uv_shutdown_t shutdown_request{};
  int open_handles = 0;
  // The request head received so far (bounded by request_bytes_max).
  std::string head;
  // Bytes read after the response was written are discarded into this.
  char read_buffer[4096];
  std::string response;
  bool counted = false;        // in metrics_.connections_open
  bool responded = false;      // the response write was issued
  bool shutdown_done = false;  // written and half-closed
  bool peer_eof = false;
  bool closing = false;
};

namespace {

constexpr int kListenBacklog = 64;

// The end of the head: "\r\n\r\n" (or a bare "\n\n", which some clients
// send); npos while incomplete.
size_t HeadEnd(absl::string_view head) {
  const size_t crlf = head.find("\r\n\r\n");
  const size_t lf = head.find("\n\n");
  return std::min(crlf, lf);
}

HttpResponse ErrorResponse(int status, absl::string_view detail) {
  HttpResponse response;
  response.status = status;
  response.body =
      absl::StrCat(status, " ", HttpReason(status), ": ", detail, "\n");
  return response;
}

}  // namespace

absl::string_view HttpReason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

absl::Status HttpServerOptions::Validate() const {
  if (request_bytes_max < 16 || request_bytes_max > (uint64_t{1} << 20)) {
    return absl::InvalidArgumentError(
        "http: request_bytes_max must be in [16, 1 MiB]");
  }
  if (connections_max < 1) {
    return absl::InvalidArgumentError("http: connections_max must be >= 1");
  }
  if (request_timeout_ms < 1) {
    return absl::InvalidArgumentError("http: request_timeout_ms must be >= 1");
  }
  return absl::OkStatus();
}

HttpServer::HttpServer(uv_loop_t* loop, const HttpServerOptions& options,
                       Handler handler, transport::LogSink log)
    : loop_(loop),
      options_(options),
      handler_(std::move(handler)),
      log_(std::move(log)) {}

HttpServer::~HttpServer() {
  RS_CHECK(closed_) << "HttpServer destroyed before Close() completed";
}

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Listen(
    uv_loop_t* loop, const HttpServerOptions& options, Handler handler,
    transport::LogSink log) {
  if (absl::Status s = options.Validate(); !s.ok()) return s;
  RS_CHECK(handler != nullptr);
  std::unique_ptr<HttpServer> server(
      new HttpServer(loop, options, std::move(handler), std::move(log)));
  if (absl::Status s = server->Start(); !s.ok()) return s;
  return server;
}

absl::Status HttpServer::Start() {
  absl::StatusOr<transport::SocketAddress> address =
      transport::ResolveAddress(options_.listen_address);
  if (!address.ok()) {
    closed_ = true;
    return address.status();
  }
  listener_ = new uv_tcp_t{};
  RS_CHECK_EQ(uv_tcp_init(loop_, listener_), 0);
  listener_->data = this;
  int error = uv_tcp_bind(listener_, address->get(), 0);
  if (error == 0) {
    error = uv_listen(reinterpret_cast<uv_stream_t*>(listener_), kListenBacklog,
                      ConnectionCb);
  }
  sockaddr_storage bound{};
  int length = sizeof(bound);
  if (error == 0) {
    error = uv_tcp_getsockname(listener_, reinterpret_cast<sockaddr*>(&bound),
                               &length);
  }
  if (error < 0) {
    listener_->data = nullptr;  // frees itself in the close callback
    uv_close(reinterpret_cast<uv_handle_t*>(listener_), ListenerClosedCb);
    listener_ = nullptr;
    closed_ = true;
    return absl::UnavailableError(
        absl::StrCat("listen on ", options_.listen_address, ": ",
                     uv_err_name(error), " (", uv_strerror(error), ")"));
  }
  const auto* in = reinterpret_cast<const sockaddr_in*>(&bound);
  port_ = ntohs(in->sin_port);  // sin6_port is at the same offset
  return absl::OkStatus();
}

void HttpServer::OnConnection(int status) {
  if (closing_) return;
  if (status < 0) {
    log_(absl::StrCat("accept: ", uv_strerror(status)));
    return;
  }
  auto connection = std::make_unique<Connection>();
  Connection* c = connection.get();
  c->server = this;
  c->id = next_id_++;
  RS_CHECK_EQ(uv_tcp_init(loop_, &c->tcp), 0);
  c->tcp.data = c;
  ++c->open_handles;
  RS_CHECK_EQ(uv_timer_init(loop_, &c->timer), 0);
  c->timer.data = c;
  ++c->open_handles;
  connections_[c->id] = std::move(connection);
  const int accepted = uv_accept(reinterpret_cast<uv_stream_t*>(listener_),
                                 reinterpret_cast<uv_stream_t*>(&c->tcp));
  if (accepted != 0) {
    log_(absl::StrCat("accept: ", uv_strerror(accepted)));
    CloseConnection(c);
    return;
  }
  ++metrics_.connections_accepted;
  if (connections_.size() > options_.connections_max) {
    ++metrics_.connections_rejected_full;
    CloseConnection(c);
    return;
  }
  ++metrics_.connections_open;
  c->counted = true;
  uv_timer_start(&c->timer, TimerCb, options_.request_timeout_ms, 0);
  const int reading =
      uv_read_start(reinterpret_cast<uv_stream_t*>(&c->tcp), AllocCb, ReadCb);
  if (reading != 0) CloseConnection(c);
}

void HttpServer::OnRead(Connection* c, ssize_t nread, const uv_buf_t* buf) {
  if (c->closing) return;
  if (nread < 0) {
    // An error, or EOF before a whole head: nothing to answer. EOF after
    // the head: the response still goes out, then the connection closes.
    if (nread == UV_EOF && c->responded && !c->shutdown_done) {
      c->peer_eof = true;
      return;
    }
    CloseConnection(c);
    return;
  }
  if (c->responded || nread == 0) return;  // discarded / EAGAIN
  const uint64_t room = options_.request_bytes_max - c->head.size();
  const auto received = static_cast<uint64_t>(nread);
  c->head.append(buf->base, static_cast<size_t>(std::min(received, room)));
  if (HeadEnd(c->head) != absl::string_view::npos) {
    Respond(c);
  } else if (received > room || c->head.size() >= options_.request_bytes_max) {
    ++metrics_.bad_requests;
    Write(c, ErrorResponse(431,
                           absl::StrCat("the request head is over ",
                                        options_.request_bytes_max, " bytes")));
  }
}

void HttpServer::Respond(Connection* c) {
  const absl::string_view head(c->head);
  const absl::string_view line = head.substr(0, head.find_first_of("\r\n"));
  std::vector<absl::string_view> parts =
      absl::StrSplit(line, ' ', absl::SkipEmpty());
  if (parts.size() != 3 || parts[1].empty() || parts[1][0] != '/') {
    ++metrics_.bad_requests;
    Write(c, ErrorResponse(400, "expected 'GET /path HTTP/1.1'"));
    return;
  }
  if (!absl::StartsWith(parts[2], "HTTP/1.")) {
    ++metrics_.bad_requests;
    Write(c, ErrorResponse(505, "only HTTP/1.x is served"));
    return;
  }
  if (parts[0] != "GET") {
    ++metrics_.bad_requests;
    Write(c, ErrorResponse(405, "only GET is served"));
    return;
  }
  absl::string_view path = parts[1];
  path = path.substr(0, path.find('?'));
  ++metrics_.requests;
  Write(c, handler_(path));
}

void HttpServer::Write(Connection* c, const HttpResponse& response) {
  c->responded = true;
  c->head.clear();
  c->response = absl::StrCat("HTTP/1.1 ", response.status, " ",
                             HttpReason(response.status),
                             "\r\nContent-Type: ", response.content_type,
                             "\r\nContent-Length: ", response.body.size(),
                             "\r\nConnection: close\r\n\r\n", response.body);
  uv_buf_t buf = uv_buf_init(c->response.data(),
                             static_cast<unsigned int>(c->response.size()));
  c->write_request.data = c;
  const int written =
      uv_write(&c->write_request, reinterpret_cast<uv_stream_t*>(&c->tcp), &buf,
               1, WriteCb);
  if (written != 0) CloseConnection(c);
}

void HttpServer::CloseConnection(Connection* c) {
  if (c->closing) return;
  c->closing = true;
  uv_close(reinterpret_cast<uv_handle_t*>(&c->timer), HandleClosedCb);
  uv_close(reinterpret_cast<uv_handle_t*>(&c->tcp), HandleClosedCb);
}

void HttpServer::OnConnectionClosed(Connection* c) {
  auto it = connections_.find(c->id);
  RS_CHECK(it != connections_.end());
  if (c->counted) --metrics_.connections_open;
  connections_.erase(it);
  MaybeDone();
}

void HttpServer::Close(std::function<void()> on_done) {
  if (closing_ || closed_) {
    if (closed_ && on_done) on_done();
    return;
  }
  closing_ = true;
  on_done_ = std::move(on_done);
  for (auto& entry : connections_) CloseConnection(entry.second.get());
  uv_close(reinterpret_cast<uv_handle_t*>(listener_), ListenerClosedCb);
}

void HttpServer::MaybeDone() {
  if (!closing_ || closed_ || !listener_closed_ || !connections_.empty()) {
    return;
  }
  closed_ = true;
  if (on_done_) {
    auto done = std::move(on_done_);
    done();
  }
}

void HttpServer::ConnectionCb(uv_stream_t* listener, int status) {
  static_cast<HttpServer*>(listener->data)->OnConnection(status);
}

void HttpServer::AllocCb(uv_handle_t* handle, size_t /*suggested*/,
                         uv_buf_t* buf) {
  auto* c = static_cast<Connection*>(handle->data);
  *buf = uv_buf_init(c->read_buffer, sizeof(c->read_buffer));
}

void HttpServer::ReadCb(uv_stream_t* stream, ssize_t nread,
                        const uv_buf_t* buf) {
  auto* c = static_cast<Connection*>(stream->data);
  c->server->OnRead(c, nread, buf);
}

void HttpServer::WriteCb(uv_write_t* request, int status) {
  auto* c = static_cast<Connection*>(request->data);
  if (c->closing) return;
  if (status < 0) {
    c->server->CloseConnection(c);
    return;
  }
  // Half-close, then wait for the peer's EOF (read keeps discarding), so
  // unread request bytes never turn our close into a reset that would cut
  // the response off.
  c->shutdown_request.data = c;
  if (uv_shutdown(&c->shutdown_request, reinterpret_cast<uv_stream_t*>(&c->tcp),
                  ShutdownCb) != 0) {
    c->server->CloseConnection(c);
  }
}

void HttpServer::ShutdownCb(uv_shutdown_t* request, int status) {
  auto* c = static_cast<Connection*>(request->data);
  if (c->closing) return;
  c->shutdown_done = true;
  if (status < 0 || c->peer_eof) c->server->CloseConnection(c);
}

void HttpServer::TimerCb(uv_timer_t* timer) {
  auto* c = static_cast<Connection*>(timer->data);
  if (!c->responded) ++c->server->metrics_.timeouts;
  c->server->CloseConnection(c);
}

void HttpServer::HandleClosedCb(uv_handle_t* handle) {
  auto* c = static_cast<Connection*>(handle->data);
  if (--c->open_handles == 0) c->server->OnConnectionClosed(c);
}

void HttpServer::ListenerClosedCb(uv_handle_t* handle) {
  auto* server = static_cast<HttpServer*>(handle->data);
  delete reinterpret_cast<uv_tcp_t*>(handle);
  if (server == nullptr) return;
  server->listener_closed_ = true;
  server->MaybeDone();
}

}  // namespace raftstore::runtime
