// A minimal HTTP/1.1 server on a libuv loop for the node's admin endpoint
// (/metrics, /stats, /regions): GET only, one request per connection
// (every response says Connection: close), bounded in every dimension.
//
// A connection is read until the end of the request head (an empty line);
// its request line must be `GET <path> HTTP/1.x`. The handler maps the path
// (query string removed) to a response. Anything else gets an error
// response without calling the handler: 400 for a malformed request line,
// 405 for another method, 431 for a head longer than request_bytes_max,
// 505 for another HTTP version. A connection that has not sent a whole head
// within request_timeout_ms is closed (408 is not sent: the peer is not
// talking HTTP, or not at all). After the response is written the server
// half-closes and discards whatever the peer still sends until it closes
// too (or the timeout passes), so the response is never cut off by a reset.
//
// Nothing a client sends can make the server buffer more than
// request_bytes_max per connection, hold more than connections_max
// connections, or crash.
//
// Lifetime: Close() stops listening and closes every connection; `on_done`
// runs once every handle is closed. Run the loop until then before
// destroying the server (the destructor checks).
//
// Thread-safety: none. Every method and callback runs on the loop's thread.
#ifndef RAFTSTORE_RUNTIME_HTTP_SERVER_H_
#define RAFTSTORE_RUNTIME_HTTP_SERVER_H_

#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/container/btree_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "transport/log_sink.h"

namespace raftstore::runtime {

struct HttpServerOptions {
  // "host:port"; port 0 picks a free port (see HttpServer::port()).
  std::string listen_address = "127.0.0.1:0";
  // The request head (request line and headers), at most.
  uint64_t request_bytes_max = 8 * 1024;
  // Open connections, at most; one accepted beyond is closed at once.
  uint64_t connections_max = 64;
  // A request head must arrive, and the response be written and the
  // connection closed, within this long of the accept.
  uint64_t request_timeout_ms = 5'000;

  // kInvalidArgument naming the field for a value out of range.
  absl::Status Validate() const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

struct HttpServerMetrics {
  uint64_t connections_accepted = 0;
  uint64_t connections_rejected_full = 0;
  uint64_t connections_open = 0;
  // Requests handed to the handler.
  uint64_t requests = 0;
  // Requests answered with 400, 405, 431 or 505.
  uint64_t bad_requests = 0;
  // Connections closed by request_timeout_ms.
  uint64_t timeouts = 0;
};

// "OK", "Not Found", ... for the status codes this server sends.
absl::string_view HttpReason(int status);

class HttpServer {
 public:
  // Maps a request path ("/metrics") to the response.
  using Handler = std::function<HttpResponse(absl::string_view path)>;

  // Binds and listens. kInvalidArgument for bad options or address,
  // kUnavailable naming the address if it cannot be bound (in use,
  // permission).
  static absl::StatusOr<std::unique_ptr<HttpServer>> Listen(
      uv_loop_t* loop, const HttpServerOptions& options, Handler handler,
      transport::LogSink log = transport::StderrLogSink("http"));

  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;
  // Requires closed().
  ~HttpServer();

  int port() const { return port_; }
  // Stops listening and closes every connection; `on_done` (optional) runs
  // once all handles are closed. Idempotent.
  void Close(std::function<void()> on_done);
  bool closed() const { return closed_; }
  const HttpServerMetrics& metrics() const { return metrics_; }

 private:
  struct Connection;

  HttpServer(uv_loop_t* loop, const HttpServerOptions& options, Handler handler,
             transport::LogSink log);
  absl::Status Start();
  void OnConnection(int status);
  void OnRead(Connection* connection, ssize_t nread, const uv_buf_t* buf);
  // Parses the head once complete and writes the response.
  void Respond(Connection* connection);
  void Write(Connection* connection, const HttpResponse& response);
  void CloseConnection(Connection* connection);
  void OnConnectionClosed(Connection* connection);
  void MaybeDone();

  static void ConnectionCb(uv_stream_t* listener, int status);
  static void AllocCb(uv_handle_t* handle, size_t suggested, uv_buf_t* buf);
  static void ReadCb(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void WriteCb(uv_write_t* request, int status);
  static void ShutdownCb(uv_shutdown_t* request, int status);
  static void TimerCb(uv_timer_t* timer);
  static void HandleClosedCb(uv_handle_t* handle);
  static void ListenerClosedCb(uv_handle_t* handle);

  uv_loop_t* loop_;
  HttpServerOptions options_;
  Handler handler_;
  transport::LogSink log_;
  uv_tcp_t* listener_ = nullptr;  // heap: freed in its close callback
  int port_ = 0;
  uint64_t next_id_ = 1;
  absl::btree_map<uint64_t, std::unique_ptr<Connection>> connections_;
  bool closing_ = false;
  bool listener_closed_ = false;
  bool closed_ = false;
  std::function<void()> on_done_;
  HttpServerMetrics metrics_;
};

}  // namespace raftstore::runtime

#endif  // RAFTSTORE_RUNTIME_HTTP_SERVER_H_
