#include "transport/address.h"

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace raftstore::transport {
namespace {

TEST(AddressTest, NumericAddressesRoundTrip) {
  for (const char* text : {"127.0.0.1:7001", "[::1]:7002", "0.0.0.0:0"}) {
    auto address = ResolveAddress(text);
    ASSERT_TRUE(address.ok()) << text << ": " << address.status();
    EXPECT_EQ(FormatAddress(address->get()), text);
    EXPECT_EQ(address->text, text);
  }
}

TEST(AddressTest, LocalhostResolves) {
  auto address = ResolveAddress("localhost:7003");
  ASSERT_TRUE(address.ok()) << address.status();
  EXPECT_TRUE(absl::EndsWith(FormatAddress(address->get()), ":7003"));
}

TEST(AddressTest, MalformedAddressesAreInvalid) {
  for (const char* text : {"", "127.0.0.1", ":80", "127.0.0.1:", "host:-1",
                           "host:65536", "[::1:80", "127.0.0.1:http"}) {
    auto address = ResolveAddress(text);
    ASSERT_FALSE(address.ok()) << text;
    EXPECT_EQ(address.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StrContains(address.status().message(), text)) << text;
  }
}

}  // namespace
}  // namespace raftstore::transport
