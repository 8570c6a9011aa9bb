#include "transport/test_util.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <functional>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"

namespace raftstore::transport {
namespace {

// How often RunUntil re-checks its condition when no event arrives.
constexpr uint64_t kPollMs = 5;

void CloseHandleCb(uv_handle_t* handle) {
  delete reinterpret_cast<uv_timer_t*>(handle);
}

}  // namespace

TestLoop::TestLoop() { EXPECT_EQ(uv_loop_init(&loop_), 0); }

TestLoop::~TestLoop() {
  uint64_t start = uv_now(&loop_);
  // Each pass either closes something or waits for the next event; the
  // clock bound ends a test that leaked an open handle.
  while (uv_run(&loop_, UV_RUN_NOWAIT) != 0) {
    uv_update_time(&loop_);
    if (uv_now(&loop_) - start > kWaitMsMax) {
      ADD_FAILURE() << "libuv handles still open at the end of the test";
      return;
    }
    uv_run(&loop_, UV_RUN_ONCE);
  }
  EXPECT_EQ(uv_loop_close(&loop_), 0) << "a handle was never closed";
}

bool TestLoop::RunUntil(const std::function<bool()>& done,
                        uint64_t timeout_ms) {
  uv_update_time(&loop_);
  const uint64_t deadline = uv_now(&loop_) + timeout_ms;
  auto* poll = new uv_timer_t{};
  uv_timer_init(&loop_, poll);
  // The poll timer wakes the loop so that `done` is checked even when
  // nothing happens on the loop (and so UV_RUN_ONCE never blocks forever).
  uv_timer_start(
      poll, [](uv_timer_t*) {}, kPollMs, kPollMs);
  while (!done() && uv_now(&loop_) < deadline) {
    uv_run(&loop_, UV_RUN_ONCE);
  }
  uv_close(reinterpret_cast<uv_handle_t*>(poll), CloseHandleCb);
  return done();
}

bool LogLines::Contains(absl::string_view text) const {
  for (const std::string& line : lines) {
    if (absl::StrContains(line, text)) return true;
  }
  return false;
}

std::string LogLines::Joined() const { return absl::StrJoin(lines, "\n"); }

RawSocket::RawSocket(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) !=
      0) {
    close(fd);
    return;
  }
  fd_ = fd;
}

RawSocket::~RawSocket() {
  if (fd_ >= 0) close(fd_);
}

bool RawSocket::Write(absl::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t written = send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(written));
  }
  return true;
}

void RawSocket::ShutdownWrite() { shutdown(fd_, SHUT_WR); }

bool RawSocket::PeerClosed() {
  char byte = 0;
  const ssize_t got = recv(fd_, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (got == 0) return true;
  return got < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
}

}  // namespace raftstore::transport
