#include "transport/address.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <cstring>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace raftstore::transport {
namespace {

absl::Status Invalid(absl::string_view host_port, absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("address \"", host_port, "\": ", why));
}

// Splits "host:port" / "[v6]:port".
absl::Status Split(absl::string_view host_port, std::string* host,
                   uint16_t* port) {
  const size_t colon = host_port.rfind(':');
  if (colon == absl::string_view::npos || colon == 0) {
    return Invalid(host_port, "expected host:port");
  }
  absl::string_view host_part = host_port.substr(0, colon);
  if (host_part.front() == '[') {
    if (host_part.size() < 3 || host_part.back() != ']') {
      return Invalid(host_port, "unbalanced [ ] around an IPv6 host");
    }
    host_part = host_part.substr(1, host_part.size() - 2);
  }
  uint32_t value = 0;
  const absl::string_view port_part = host_port.substr(colon + 1);
  if (port_part.empty() || !absl::SimpleAtoi(port_part, &value) ||
      value > 65535) {
    return Invalid(host_port, "port must be a number in [0, 65535]");
  }
  *host = std::string(host_part);
  *port = static_cast<uint16_t>(value);
  return absl::OkStatus();
}

bool Numeric(const std::string& host, uint16_t port, SocketAddress* out) {
  auto* v4 = reinterpret_cast<sockaddr_in*>(&out->storage);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    return true;
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&out->storage);
  if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    return true;
  }
  return false;
}

}  // namespace

absl::StatusOr<SocketAddress> ResolveAddress(absl::string_view host_port) {
  std::string host;
  uint16_t port = 0;
  if (absl::Status split = Split(host_port, &host, &port); !split.ok()) {
    return split;
  }
  SocketAddress address;
  address.text = std::string(host_port);
  if (Numeric(host, port, &address)) return address;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* results = nullptr;
  const int error = getaddrinfo(host.c_str(), nullptr, &hints, &results);
  if (error != 0) {
    return Invalid(host_port, absl::StrCat("cannot resolve host \"", host,
                                           "\": ", gai_strerror(error)));
  }
  bool found = false;
  for (const addrinfo* at = results; at != nullptr && !found;
       at = at->ai_next) {
    if (at->ai_family != AF_INET && at->ai_family != AF_INET6) continue;
    std::memcpy(&address.storage, at->ai_addr, at->ai_addrlen);
    if (at->ai_family == AF_INET) {
      reinterpret_cast<sockaddr_in*>(&address.storage)->sin_port = htons(port);
    } else {
      reinterpret_cast<sockaddr_in6*>(&address.storage)->sin6_port =
          htons(port);
    }
    found = true;
  }
  freeaddrinfo(results);
  if (!found) return Invalid(host_port, "no IPv4 or IPv6 address");
  return address;
}

std::string FormatAddress(const sockaddr* address) {
  char text[INET6_ADDRSTRLEN] = {};
  if (address->sa_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(address);
    inet_ntop(AF_INET, &v4->sin_addr, text, sizeof(text));
    return absl::StrCat(text, ":", ntohs(v4->sin_port));
  }
  if (address->sa_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(address);
    inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof(text));
    return absl::StrCat("[", text, "]:", ntohs(v6->sin6_port));
  }
  return "?";
}

}  // namespace raftstore::transport
