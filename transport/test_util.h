// Test helpers for the libuv transport: a loop with event-driven waits, and a
// raw blocking socket for sending a port arbitrary bytes.
//
// Thread-safety: none; one test thread.
#ifndef RAFTSTORE_TRANSPORT_TEST_UTIL_H_
#define RAFTSTORE_TRANSPORT_TEST_UTIL_H_

#include <uv.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "transport/log_sink.h"

namespace raftstore::transport {

// Generous: the machine may be loaded; a passing test never waits this long.
inline constexpr uint64_t kWaitMsMax = 20'000;

class TestLoop {
 public:
  TestLoop();
  // Runs the loop until every handle is closed, then closes it; fails the
  // test (ADD_FAILURE) if a handle is still open after kWaitMsMax.
  ~TestLoop();

  uv_loop_t* get() { return &loop_; }

  // Runs the loop until `done()` holds, checking after every event and at
  // least every few milliseconds (for state outside the loop, like a raw
  // socket), or until `timeout_ms` passes. Returns done().
  bool RunUntil(const std::function<bool()>& done,
                uint64_t timeout_ms = kWaitMsMax);

 private:
  uv_loop_t loop_{};
};

// Collects log lines.
struct LogLines {
  std::vector<std::string> lines;
  LogSink sink() {
    return [this](absl::string_view line) { lines.emplace_back(line); };
  }
  // Whether some line contains `text`.
  bool Contains(absl::string_view text) const;
  std::string Joined() const;
};

// A blocking client socket to 127.0.0.1:port, for bytes no well-behaved
// peer would send.
class RawSocket {
 public:
  explicit RawSocket(int port);
  ~RawSocket();
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;

  bool connected() const { return fd_ >= 0; }
  // Writes all of `bytes`; false on error (e.g. the peer reset).
  bool Write(absl::string_view bytes);
  // Half-closes: the peer reads EOF.
  void ShutdownWrite();
  // True once the peer closed (EOF or reset). Never blocks.
  bool PeerClosed();

 private:
  int fd_ = -1;
};

}  // namespace raftstore::transport

#endif  // RAFTSTORE_TRANSPORT_TEST_UTIL_H_
