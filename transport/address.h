// Socket addresses of the transport: "host:port" text to a sockaddr, and the
// text form of a connected socket's peer for log lines.
//
// Thread-safety: pure functions, except ResolveAddress, which may block on
// the system resolver (call it at configuration time, not on a busy loop).
#ifndef RAFTSTORE_TRANSPORT_ADDRESS_H_
#define RAFTSTORE_TRANSPORT_ADDRESS_H_

#include <sys/socket.h>

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace raftstore::transport {

struct SocketAddress {
  sockaddr_storage storage{};
  // As given ("127.0.0.1:7001", "localhost:7001", "[::1]:7001").
  std::string text;

  const sockaddr* get() const {
    return reinterpret_cast<const sockaddr*>(&storage);
  }
};

// Parses "host:port" (an IPv6 host in brackets). A numeric host is taken as
// is; a name is resolved with getaddrinfo, first IPv4 or IPv6 result. Port 0
// means "any free port" when listening. Returns kInvalidArgument naming the
// text for a malformed address, a port outside [0, 65535] or a name that does
// not resolve.
absl::StatusOr<SocketAddress> ResolveAddress(absl::string_view host_port);

// "a.b.c.d:port" or "[v6]:port" for a socket address; "?" if the family is
// neither.
std::string FormatAddress(const sockaddr* address);

}  // namespace raftstore::transport

#endif  // RAFTSTORE_TRANSPORT_ADDRESS_H_
