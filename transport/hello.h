// The HELLO handshake's rules as pure functions: what a connection's first
// frame must say before the accepting side delivers anything else from it.
//
// Thread-safety: pure functions.
#ifndef RAFTSTORE_TRANSPORT_HELLO_H_
#define RAFTSTORE_TRANSPORT_HELLO_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "proto/transport.pb.h"

namespace raftstore::transport {

// What an accepting port requires of a HELLO.
struct HelloPolicy {
  // Must equal Hello.cluster_id; nonzero.
  uint64_t cluster_id = 0;
  // The shared secret Hello.auth_token must equal (may be empty, in which
  // case the token must be empty too).
  std::string auth_token;
  // Whether Hello.store_id must be nonzero (the raft port: only stores talk
  // there; the client port lets clients say 0).
  bool require_store_id = true;
};

// The HELLO a sender of `store_id` (0 for a client) in `cluster_id` sends.
Hello MakeHello(uint64_t cluster_id, uint64_t store_id,
                const std::string& auth_token);

// OK if `hello` satisfies `policy`. Otherwise, naming the field:
//   kFailedPrecondition for a protocol version newer than kProtocolVersion;
//   kInvalidArgument for protocol version 0, another cluster, or a missing
//     store id;
//   kUnauthenticated for a wrong token (the message never shows either
//     token).
absl::Status VerifyHello(const Hello& hello, const HelloPolicy& policy);

}  // namespace raftstore::transport

#endif  // RAFTSTORE_TRANSPORT_HELLO_H_
