#include "tools/http_get.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdint>
#include <cstring>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "transport/address.h"

namespace raftstore::tools {
namespace {

using Clock = std::chrono::steady_clock;

// Closes the descriptor on every path out.
class Socket {
 public:
  explicit Socket(int fd) : fd_(fd) {}
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  ~Socket() {
    if (fd_ >= 0) close(fd_);
  }
  int fd() const { return fd_; }

 private:
  int fd_;
};

std::string ErrnoText(int error) {
  // The CLI is single-threaded, so strerror's static buffer is safe here.
  return absl::StrCat(std::strerror(error), " (errno ", error, ")");
}

// Waits until `fd` is ready for `events` or the deadline passes.
absl::Status WaitFor(int fd, int16_t events, Clock::time_point deadline,
                     const char* step) {
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - Clock::now())
                          .count();
    if (left <= 0)
      return absl::UnavailableError(absl::StrCat(step, ": timed out"));
    pollfd ready{fd, events, 0};
    const int n =
        poll(&ready, 1, static_cast<int>(std::min<int64_t>(left, INT_MAX)));
    if (n > 0) return absl::OkStatus();
    if (n < 0 && errno != EINTR) {
      return absl::UnavailableError(
          absl::StrCat(step, ": poll: ", ErrnoText(errno)));
    }
  }
}

absl::Status Connect(const Socket& socket,
                     const transport::SocketAddress& address,
                     Clock::time_point deadline) {
  const socklen_t length = address.storage.ss_family == AF_INET6
                               ? sizeof(sockaddr_in6)
                               : sizeof(sockaddr_in);
  if (connect(socket.fd(), address.get(), length) == 0) return absl::OkStatus();
  if (errno != EINPROGRESS) {
    return absl::UnavailableError(absl::StrCat("connect: ", ErrnoText(errno)));
  }
  if (absl::Status ready = WaitFor(socket.fd(), POLLOUT, deadline, "connect");
      !ready.ok()) {
    return ready;
  }
  int error = 0;
  socklen_t size = sizeof(error);
  if (getsockopt(socket.fd(), SOL_SOCKET, SO_ERROR, &error, &size) != 0) {
    error = errno;
  }
  if (error != 0) {
    return absl::UnavailableError(absl::StrCat("connect: ", ErrnoText(error)));
  }
  return absl::OkStatus();
}

absl::Status WriteAll(const Socket& socket, const std::string& bytes,
                      Clock::time_point deadline) {
  size_t written = 0;
  while (written < bytes.size()) {
    if (absl::Status ready = WaitFor(socket.fd(), POLLOUT, deadline, "write");
        !ready.ok()) {
      return ready;
    }
    const ssize_t n = send(socket.fd(), bytes.data() + written,
                           bytes.size() - written, MSG_NOSIGNAL);
    if (n < 0 && errno != EINTR && errno != EAGAIN) {
      return absl::UnavailableError(absl::StrCat("write: ", ErrnoText(errno)));
    }
    if (n > 0) written += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

// Everything until the server closes, within the deadline and the bound.
absl::StatusOr<std::string> ReadAll(const Socket& socket,
                                    Clock::time_point deadline) {
  std::string out;
  char buffer[16384];
  while (true) {
    if (absl::Status ready = WaitFor(socket.fd(), POLLIN, deadline, "read");
        !ready.ok()) {
      return ready;
    }
    const ssize_t n = recv(socket.fd(), buffer, sizeof(buffer), 0);
    if (n == 0) return out;
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return absl::UnavailableError(absl::StrCat("read: ", ErrnoText(errno)));
    }
    out.append(buffer, static_cast<size_t>(n));
    if (out.size() > kHttpResponseBytesMax) {
      return absl::UnavailableError(absl::StrCat(
          "the answer is longer than ", kHttpResponseBytesMax, " bytes"));
    }
  }
}

// The body of a 200 answer; otherwise the status line (or a sample of
// what came back, if it is not HTTP).
absl::StatusOr<std::string> BodyOf200(const std::string& response) {
  const size_t line_end = response.find("\r\n");
  const size_t head_end = response.find("\r\n\r\n");
  if (!absl::StartsWith(response, "HTTP/1.") || line_end == std::string::npos ||
      head_end == std::string::npos) {
    return absl::UnavailableError(absl::StrCat(
        "not an HTTP answer: \"", absl::CEscape(response.substr(0, 64)), "\""));
  }
  const std::string status_line = response.substr(0, line_end);
  // "HTTP/1.x 200 OK": the code is the second word.
  if (status_line.size() < 12 || status_line.compare(8, 5, " 200 ") != 0) {
    return absl::UnavailableError(
        absl::StrCat("answered \"", status_line, "\""));
  }
  return response.substr(head_end + 4);
}

absl::StatusOr<std::string> Get(const transport::SocketAddress& address,
                                const std::string& path,
                                Clock::time_point deadline) {
  const Socket socket(::socket(address.storage.ss_family,
                               SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (socket.fd() < 0) {
    return absl::UnavailableError(absl::StrCat("socket: ", ErrnoText(errno)));
  }
  if (absl::Status s = Connect(socket, address, deadline); !s.ok()) return s;
  const std::string request =
      absl::StrCat("GET ", path, " HTTP/1.0\r\nHost: ", address.text,
                   "\r\nConnection: close\r\n\r\n");
  if (absl::Status s = WriteAll(socket, request, deadline); !s.ok()) return s;
  absl::StatusOr<std::string> response = ReadAll(socket, deadline);
  if (!response.ok()) return response.status();
  return BodyOf200(*response);
}

}  // namespace

absl::StatusOr<std::string> HttpGet(const std::string& host_port,
                                    const std::string& path,
                                    uint64_t timeout_ms) {
  const std::string url = absl::StrCat("http://", host_port, path);
  absl::StatusOr<transport::SocketAddress> address =
      transport::ResolveAddress(host_port);
  if (!address.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(url, ": ", address.status().message()));
  }
  // Callers bound their timeouts; the clamp only keeps the clock arithmetic
  // from overflowing.
  const Clock::time_point deadline =
      Clock::now() +
      std::chrono::milliseconds(std::min<uint64_t>(timeout_ms, 86'400'000));
  absl::StatusOr<std::string> body = Get(*address, path, deadline);
  if (!body.ok()) {
    return absl::Status(
        body.status().code(),
        absl::StrCat("GET ", url, ": ", body.status().message()));
  }
  return body;
}

}  // namespace raftstore::tools
