// Bad input at every port of a running raftstore-node: garbage bytes, a
// truncated frame, an oversized length, an unknown frame type, frames of
// the wrong kind after a good HELLO, a spoofed sender, nonsense raft
// messages in a well-formed batch, and garbage at the admin HTTP port. Each
// costs at most the connection it came on: the node keeps serving clients
// and its admin pages, and counts what it refused.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "proto/kvrpc.pb.h"
#include "proto/store.pb.h"
#include "tests/node/kv_workload.h"
#include "tests/node/node_process.h"
#include "transport/frame.h"
#include "transport/frame_format.h"
#include "transport/hello.h"
#include "transport/test_util.h"

namespace raftstore::node_testing {
namespace {

constexpr char kToken[] = "node-test-token";

template <typename M>
std::string FrameOf(const M& message) {
  std::string out;
  EXPECT_TRUE(transport::AppendFrame(message, 1 << 20, &out).ok());
  return out;
}

void PutU32(std::string* frame, size_t offset, uint32_t value) {
  for (int i = 0; i < 4; ++i) {
    (*frame)[offset + i] = static_cast<char>((value >> (8 * i)) & 0xff);
  }
}

void PutU16(std::string* frame, size_t offset, uint16_t value) {
  (*frame)[offset] = static_cast<char>(value & 0xff);
  (*frame)[offset + 1] = static_cast<char>(value >> 8);
}

kv::KvRequest SomeRequest() {
  kv::KvRequest request;
  request.set_request_id(1);
  request.mutable_get()->set_key("k");
  return request;
}

// The byte strings that must close a connection wherever they arrive first,
// each with a name for messages.
std::vector<std::pair<std::string, std::string>> BadStreams() {
  std::vector<std::pair<std::string, std::string>> out;
  out.emplace_back("garbage", "GET / HTTP/1.1\r\n\r\n\x01\x02\x03");
  std::string oversized = FrameOf(SomeRequest());
  PutU32(&oversized, transport::kFrameLengthOffset, 0xfffffff0U);
  out.emplace_back("oversized length", oversized.substr(0, 16));
  std::string unknown = FrameOf(SomeRequest());
  PutU16(&unknown, transport::kFrameTypeOffset, 99);
  out.emplace_back("unknown type", unknown);
  std::string corrupt = FrameOf(SomeRequest());
  corrupt.back() = static_cast<char>(corrupt.back() ^ 0x55);
  out.emplace_back("corrupt payload", corrupt);
  return out;
}

// Sends `bytes` on a fresh connection to `port` (then half-closes when
// `half_close`) and expects the node to close it.
void ExpectClosed(int port, const std::string& bytes, bool half_close,
                  const std::string& what) {
  transport::RawSocket socket(port);
  ASSERT_TRUE(socket.connected()) << what;
  socket.Write(bytes);  // may fail once the node closed: that is fine
  if (half_close) socket.ShutdownWrite();
  EXPECT_TRUE(PollUntil([&] { return socket.PeerClosed(); }, 30'000))
      << what << ": the connection stayed open";
}

// The node answers a put and a get, and its admin page.
void ExpectServing(LocalCluster& cluster, transport::TestLoop& loop,
                   const std::string& key) {
  ASSERT_TRUE(cluster.running(1)) << cluster.Log(1);
  KvSession kv(
      &loop, ClientOptions(cluster.cluster_id(), cluster.ClientAddresses(), 3));
  ASSERT_EQ(kv.Put(key, "still here").outcome, client::Outcome::kOk);
  const client::Completion get = kv.Get(key);
  ASSERT_EQ(get.outcome, client::Outcome::kOk);
  EXPECT_EQ(get.response.get().value(), "still here");
  EXPECT_TRUE(HttpGet(cluster.node(1).admin_port, "/stats").ok());
}

class NodeBadInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(cluster_.StartAll());
    ASSERT_EQ(cluster_.WaitForLeader(), 1U) << cluster_.AllLogs();
  }
  void TearDown() override {
    EXPECT_EQ(cluster_.Terminate(1), 0) << cluster_.Log(1);
  }

  LocalCluster cluster_{"bad_input", 1};
  transport::TestLoop loop_;
};

TEST_F(NodeBadInputTest, TheRaftPortClosesOnlyTheBadConnections) {
  const int port = cluster_.node(1).raft_port;
  const uint64_t cluster = cluster_.cluster_id();
  for (const auto& [name, bytes] : BadStreams()) {
    ExpectClosed(port, bytes, false, absl::StrCat("raft port, ", name));
  }
  const std::string hello = FrameOf(transport::MakeHello(cluster, 2, kToken));
  ExpectClosed(port, hello.substr(0, hello.size() - 3), true,
               "raft port, truncated HELLO");
  ExpectClosed(port, FrameOf(transport::MakeHello(cluster + 1, 2, kToken)),
               false, "raft port, another cluster");
  ExpectClosed(port, FrameOf(transport::MakeHello(cluster, 2, "wrong")), false,
               "raft port, wrong token");
  ExpectClosed(port, hello + FrameOf(SomeRequest()), false,
               "raft port, a client frame after HELLO");
  store::RaftMessageBatch spoofed;
  spoofed.set_cluster_id(cluster);
  spoofed.set_from_store_id(3);
  spoofed.set_to_store_id(1);
  ExpectClosed(port, hello + FrameOf(spoofed), false,
               "raft port, a batch from another store than the HELLO's");
  // A well-formed batch of nonsense messages reaches the store, which
  // refuses them one by one; the connection stays.
  store::RaftMessageBatch nonsense;
  nonsense.set_cluster_id(cluster);
  nonsense.set_from_store_id(2);
  nonsense.set_to_store_id(1);
  store::RaftMessage* message = nonsense.add_messages();
  message->set_region_id(1);
  message->mutable_from_peer()->set_id(2);
  message->mutable_from_peer()->set_store_id(2);
  message->mutable_to_peer()->set_id(1);
  message->mutable_to_peer()->set_store_id(1);
  message->mutable_message()->set_from(77);
  message->mutable_message()->set_term(1'000'000);
  nonsense.add_messages()->set_region_id(12345);
  transport::RawSocket good(port);
  ASSERT_TRUE(good.Write(hello + FrameOf(nonsense)));
  ExpectServing(cluster_, loop_, "after-raft-garbage");
  EXPECT_FALSE(good.PeerClosed());
  std::optional<nlohmann::json> stats = cluster_.Stats(1);
  ASSERT_TRUE(stats.has_value());
  const nlohmann::json& transport = (*stats)["transport"];
  EXPECT_GE(transport["connections_closed_bad_frame"].get<uint64_t>() +
                transport["connections_closed_unauthenticated"].get<uint64_t>(),
            9U)
      << transport.dump();
  EXPECT_GE((*stats)["store"]["messages_refused"].get<uint64_t>(), 2U);
  // The leader was not deposed by the huge term of a stranger.
  EXPECT_EQ(cluster_.LeaderStore(), 1U);
}

TEST_F(NodeBadInputTest, TheClientPortClosesOnlyTheBadConnections) {
  const int port = cluster_.node(1).client_port;
  const uint64_t cluster = cluster_.cluster_id();
  for (const auto& [name, bytes] : BadStreams()) {
    ExpectClosed(port, bytes, false, absl::StrCat("client port, ", name));
  }
  const std::string hello = FrameOf(transport::MakeHello(cluster, 0, kToken));
  ExpectClosed(port, FrameOf(SomeRequest()), false,
               "client port, a request before HELLO");
  ExpectClosed(port, hello + FrameOf(SomeRequest()).substr(0, 20), true,
               "client port, truncated request");
  std::string unknown = FrameOf(SomeRequest());
  PutU16(&unknown, transport::kFrameTypeOffset, 7);
  ExpectClosed(port, hello + unknown, false,
               "client port, unknown type after HELLO");
  store::RaftMessageBatch batch;
  batch.set_cluster_id(cluster);
  ExpectClosed(port, hello + FrameOf(batch), false,
               "client port, a raft batch after HELLO");
  ExpectClosed(port, FrameOf(transport::MakeHello(cluster, 0, "wrong")), false,
               "client port, wrong token");
  ExpectServing(cluster_, loop_, "after-client-garbage");
  std::optional<nlohmann::json> stats = cluster_.Stats(1);
  ASSERT_TRUE(stats.has_value());
  const nlohmann::json& client = (*stats)["client_port"];
  EXPECT_GE(client["connections_closed_bad_frame"].get<uint64_t>() +
                client["connections_closed_unauthenticated"].get<uint64_t>(),
            9U)
      << client.dump();
}

TEST_F(NodeBadInputTest, TheAdminPortAnswersGarbageAndKeepsServing) {
  const int port = cluster_.node(1).admin_port;
  EXPECT_TRUE(absl::StartsWith(RawExchange(port, "\x01\x02\x03\r\n\r\n"),
                               "HTTP/1.1 400 "));
  EXPECT_TRUE(absl::StartsWith(
      RawExchange(port, "DELETE /regions HTTP/1.1\r\n\r\n"), "HTTP/1.1 405 "));
  EXPECT_TRUE(absl::StartsWith(
      RawExchange(port, absl::StrCat("GET / HTTP/1.1\r\nX: ",
                                     std::string(64 * 1024, 'x'), "\r\n\r\n")),
      "HTTP/1.1 431 "));
  EXPECT_TRUE(absl::StartsWith(RawExchange(port, "GET /nope HTTP/1.1\r\n\r\n"),
                               "HTTP/1.1 404 "));
  // A truncated request: the node waits for the rest, then gives up.
  transport::RawSocket partial(port);
  ASSERT_TRUE(partial.Write("GET /met"));
  partial.ShutdownWrite();
  EXPECT_TRUE(PollUntil([&] { return partial.PeerClosed(); }, 30'000));
  ExpectServing(cluster_, loop_, "after-http-garbage");
  absl::StatusOr<std::string> metrics = HttpGet(port, "/metrics");
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  EXPECT_TRUE(
      absl::StrContains(*metrics, "raftstore_admin_http_bad_requests_total 3"))
      << *metrics;
}

}  // namespace
}  // namespace raftstore::node_testing
