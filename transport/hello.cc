#include "transport/hello.h"

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "transport/frame_format.h"

namespace raftstore::transport {
namespace {

// Compares without an early exit, so the time taken does not tell a prober
// how many leading bytes of its guess were right. (The length still shows;
// the token is not a strong secret, see proto/transport.proto.)
bool TokensEqual(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  unsigned char difference = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    difference |= static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return difference == 0;
}

}  // namespace

Hello MakeHello(uint64_t cluster_id, uint64_t store_id,
                const std::string& auth_token) {
  Hello hello;
  hello.set_protocol_version(kProtocolVersion);
  hello.set_cluster_id(cluster_id);
  hello.set_store_id(store_id);
  hello.set_auth_token(auth_token);
  return hello;
}

absl::Status VerifyHello(const Hello& hello, const HelloPolicy& policy) {
  if (hello.protocol_version() > kProtocolVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat("HELLO speaks protocol version ", hello.protocol_version(),
                     ", newer than this build's ", kProtocolVersion));
  }
  if (hello.protocol_version() == 0) {
    return absl::InvalidArgumentError("HELLO has protocol version 0");
  }
  if (hello.cluster_id() != policy.cluster_id) {
    return absl::InvalidArgumentError(
        absl::StrCat("HELLO from cluster ", hello.cluster_id(),
                     ", this is cluster ", policy.cluster_id));
  }
  if (policy.require_store_id && hello.store_id() == 0) {
    return absl::InvalidArgumentError("HELLO has no store id");
  }
  if (!TokensEqual(hello.auth_token(), policy.auth_token)) {
    return absl::UnauthenticatedError(absl::StrCat(
        "HELLO from store ", hello.store_id(), " has a wrong auth token"));
  }
  return absl::OkStatus();
}

}  // namespace raftstore::transport
