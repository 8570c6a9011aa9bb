#include "transport/hello.h"

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "transport/frame_format.h"

namespace raftstore::transport {
namespace {

HelloPolicy Policy() {
  HelloPolicy policy;
  policy.cluster_id = 9;
  policy.auth_token = "secret";
  return policy;
}

TEST(HelloTest, MatchingHelloIsAccepted) {
  EXPECT_TRUE(VerifyHello(MakeHello(9, 3, "secret"), Policy()).ok());
}

TEST(HelloTest, WrongTokenIsUnauthenticatedAndNotEchoed) {
  const absl::Status status = VerifyHello(MakeHello(9, 3, "guess"), Policy());
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_FALSE(absl::StrContains(status.message(), "guess"));
  EXPECT_FALSE(absl::StrContains(status.message(), "secret"));
  EXPECT_EQ(VerifyHello(MakeHello(9, 3, "secre"), Policy()).code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(VerifyHello(MakeHello(9, 3, ""), Policy()).code(),
            absl::StatusCode::kUnauthenticated);
}

TEST(HelloTest, OtherClusterIsRefused) {
  const absl::Status status = VerifyHello(MakeHello(8, 3, "secret"), Policy());
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(status.message(), "cluster 8"));
}

TEST(HelloTest, StoreIdIsRequiredOnlyWhereConfigured) {
  EXPECT_EQ(VerifyHello(MakeHello(9, 0, "secret"), Policy()).code(),
            absl::StatusCode::kInvalidArgument);
  HelloPolicy client_port = Policy();
  client_port.require_store_id = false;
  EXPECT_TRUE(VerifyHello(MakeHello(9, 0, "secret"), client_port).ok());
}

TEST(HelloTest, ProtocolVersionIsChecked) {
  Hello hello = MakeHello(9, 3, "secret");
  hello.set_protocol_version(kProtocolVersion + 1);
  EXPECT_EQ(VerifyHello(hello, Policy()).code(),
            absl::StatusCode::kFailedPrecondition);
  hello.set_protocol_version(0);
  EXPECT_EQ(VerifyHello(hello, Policy()).code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace raftstore::transport
