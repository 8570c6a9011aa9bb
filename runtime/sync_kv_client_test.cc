// SyncKvClient without a cluster: option checks, and the honest outcome of
// operations no store answers (a write is unknown, a read fails) by their
// deadline. The served paths run against real nodes in
// //tools:kv_cli_test.
#include "runtime/sync_kv_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace raftstore::runtime {
namespace {

// A loopback port nothing listens on (bound to 0, then closed).
int ClosedPort() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&address), length), 0);
  EXPECT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length), 0);
  close(fd);
  return ntohs(address.sin_port);
}

SyncKvClientOptions Options(int port) {
  SyncKvClientOptions options;
  options.cluster_id = 7;
  options.stores[1] = absl::StrCat("127.0.0.1:", port);
  options.attempt_timeout_ms = 50;
  return options;
}

kv::KvRequest Put(const std::string& key, const std::string& value) {
  kv::KvRequest op;
  op.mutable_put()->set_key(key);
  op.mutable_put()->set_value(value);
  return op;
}

TEST(SyncKvClientTest, RefusesBadOptions) {
  SyncKvClientOptions options = Options(1);
  options.cluster_id = 0;
  EXPECT_TRUE(absl::IsInvalidArgument(SyncKvClient::Create(options).status()));

  options = Options(1);
  options.stores.clear();
  EXPECT_TRUE(absl::IsInvalidArgument(SyncKvClient::Create(options).status()));

  options = Options(1);
  options.attempt_timeout_ms = 0;
  EXPECT_TRUE(absl::IsInvalidArgument(SyncKvClient::Create(options).status()));

  options = Options(1);
  options.stores[2] = "127.0.0.1:99999";
  absl::Status status = SyncKvClient::Create(options).status();
  EXPECT_TRUE(absl::IsInvalidArgument(status));
  EXPECT_NE(status.message().find("store 2"), absl::string_view::npos)
      << status;
}

TEST(SyncKvClientTest, RefusesATimeoutOutOfRange) {
  absl::StatusOr<std::unique_ptr<SyncKvClient>> client =
      SyncKvClient::Create(Options(ClosedPort()));
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_TRUE(
      absl::IsInvalidArgument((*client)->Run(Put("k", "v"), 0).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      (*client)->Run(Put("k", "v"), kSyncKvTimeoutMsMax + 1).status()));
}

TEST(SyncKvClientTest, UnansweredWriteIsUnknownAndReadFailsByTheDeadline) {
  absl::StatusOr<std::unique_ptr<SyncKvClient>> client =
      SyncKvClient::Create(Options(ClosedPort()));
  ASSERT_TRUE(client.ok()) << client.status();
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<client::Completion> put = (*client)->Run(Put("k", "v"), 300);
  ASSERT_TRUE(put.ok()) << put.status();
  // Nothing proves the put never reached a store, so it may have applied.
  EXPECT_EQ(put->outcome, client::Outcome::kUnknown);

  kv::KvRequest get;
  get.mutable_get()->set_key("k");
  absl::StatusOr<client::Completion> read = (*client)->Run(get, 300);
  ASSERT_TRUE(read.ok()) << read.status();
  // A read changes nothing: unanswered, it certainly failed.
  EXPECT_EQ(read->outcome, client::Outcome::kFail);
  const auto elapsed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::steady_clock::now() - start)
                              .count();
  EXPECT_GE(elapsed_ms, 600);
  EXPECT_LT(elapsed_ms, 5'000);

  const SyncKvClientStats stats = (*client)->stats();
  EXPECT_GE(stats.dials, 1u);
  EXPECT_EQ(stats.responses_received, 0u);
}

}  // namespace
}  // namespace raftstore::runtime
