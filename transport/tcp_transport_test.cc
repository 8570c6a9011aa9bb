#include "transport/tcp_transport.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "proto/store.pb.h"
#include "transport/frame.h"
#include "transport/hello.h"
#include "transport/test_util.h"

namespace raftstore::transport {
namespace {

constexpr uint64_t kCluster = 5;
constexpr char kToken[] = "raft-secret";

struct Node {
  uint64_t store_id = 0;
  std::unique_ptr<TcpTransport> transport;
  std::vector<std::pair<uint64_t, store::RaftMessageBatch>> received;
  LogLines log;

  std::string address() const {
    return absl::StrCat("127.0.0.1:", transport->listen_port());
  }
  TransportMetrics metrics() const { return transport->metrics(); }
};

store::RaftMessageBatch Batch(uint64_t from, uint64_t to, uint64_t region,
                              size_t key_bytes = 8) {
  store::RaftMessageBatch batch;
  batch.set_cluster_id(kCluster);
  batch.set_from_store_id(from);
  batch.set_to_store_id(to);
  store::RaftMessage* message = batch.add_messages();
  message->set_region_id(region);
  message->set_start_key(std::string(key_bytes, 'k'));
  return batch;
}

std::string Encoded(const FrameMessage& message) {
  std::string out;
  EXPECT_TRUE(AppendFrameMessage(message, 1 << 20, &out).ok());
  return out;
}

// A listening socket that never accepts: connections complete in the
// kernel's backlog, and then nothing reads from them.
class SilentListener {
 public:
  explicit SilentListener(int backlog, int receive_buffer_bytes = 0) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    if (receive_buffer_bytes > 0) {
      setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer_bytes,
                 sizeof(receive_buffer_bytes));
    }
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    bind(fd_, reinterpret_cast<sockaddr*>(&address), length);
    listen(fd_, backlog);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
  }
  ~SilentListener() { close(fd_); }
  SilentListener(const SilentListener&) = delete;
  SilentListener& operator=(const SilentListener&) = delete;

  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

class TcpTransportTest : public ::testing::Test {
 protected:
  TcpTransportOptions Options(uint64_t store_id) {
    TcpTransportOptions options;
    options.cluster_id = kCluster;
    options.store_id = store_id;
    options.auth_token = kToken;
    options.reconnect_backoff_ms_min = 10;
    options.reconnect_backoff_ms_max = 100;
    options.rng_seed = store_id;
    return options;
  }

  Node& StartNode(const TcpTransportOptions& options) {
    Node& node = nodes_.emplace_back();
    node.store_id = options.store_id;
    Restart(node, options);
    return node;
  }

  void Restart(Node& node, const TcpTransportOptions& options) {
    auto started = TcpTransport::Start(
        loop_.get(), options,
        [&node](uint64_t from, store::RaftMessageBatch&& batch) {
          node.received.emplace_back(from, std::move(batch));
        },
        node.log.sink());
    ASSERT_TRUE(started.ok()) << started.status();
    node.transport = std::move(*started);
  }

  void Stop(Node& node) {
    node.transport->Close(nullptr);
    ASSERT_TRUE(loop_.RunUntil([&] { return node.transport->closed(); }));
    node.transport.reset();
    node.received.clear();
  }

  static void Introduce(Node& from, const Node& to) {
    ASSERT_TRUE(from.transport->SetPeerAddress(to.store_id, to.address()).ok());
  }

  // Sends a batch for `region` from `from` to `to` and waits for it.
  void ExpectDelivered(Node& from, Node& to, uint64_t region) {
    ASSERT_EQ(from.transport->Send(to.store_id,
                                   Batch(from.store_id, to.store_id, region)),
              SendResult::kQueued);
    ASSERT_TRUE(loop_.RunUntil([&] {
      for (const auto& [sender, batch] : to.received) {
        if (batch.messages(0).region_id() == region) return true;
      }
      return false;
    })) << from.log.Joined()
        << to.log.Joined();
    EXPECT_EQ(to.received.back().first, from.store_id);
  }

  void TearDown() override {
    for (Node& node : nodes_) {
      if (node.transport != nullptr) node.transport->Close(nullptr);
    }
    EXPECT_TRUE(loop_.RunUntil([this] {
      for (const Node& node : nodes_) {
        if (node.transport != nullptr && !node.transport->closed()) {
          return false;
        }
      }
      return true;
    }));
    for (Node& node : nodes_) node.transport.reset();
  }

  TestLoop loop_;
  std::deque<Node> nodes_;
};

TEST_F(TcpTransportTest, TwoStoresExchangeBatchesBothWays) {
  Node& a = StartNode(Options(1));
  Node& b = StartNode(Options(2));
  Introduce(a, b);
  Introduce(b, a);
  ExpectDelivered(a, b, 10);
  ExpectDelivered(b, a, 20);
  ExpectDelivered(a, b, 11);
  EXPECT_EQ(a.metrics().dials, 1u);
  EXPECT_EQ(a.metrics().sends, 2u);
  EXPECT_EQ(b.metrics().batches_received, 2u);
  EXPECT_EQ(b.metrics().frames_received, 3u);  // HELLO and two batches
  EXPECT_EQ(b.metrics().connections_accepted, 1u);
  EXPECT_EQ(a.metrics().dial_failures, 0u);
}

TEST_F(TcpTransportTest, BatchesSentWhileDialingArriveInOrder) {
  Node& a = StartNode(Options(1));
  Node& b = StartNode(Options(2));
  Introduce(a, b);
  for (uint64_t region = 1; region <= 50; ++region) {
    ASSERT_EQ(a.transport->Send(2, Batch(1, 2, region)), SendResult::kQueued);
  }
  ASSERT_TRUE(loop_.RunUntil([&] { return b.received.size() == 50; }));
  for (uint64_t i = 0; i < 50; ++i) {
    EXPECT_EQ(b.received[i].second.messages(0).region_id(), i + 1);
  }
  EXPECT_TRUE(loop_.RunUntil([&] { return a.metrics().sends == 50; }));
}

TEST_F(TcpTransportTest, ReconnectsAfterThePeerRestarts) {
  Node& a = StartNode(Options(1));
  Node& b = StartNode(Options(2));
  Introduce(a, b);
  ExpectDelivered(a, b, 1);
  const std::string b_address = b.address();
  Stop(b);
  // While b is down the batch waits in a's queue and dials fail.
  ASSERT_EQ(a.transport->Send(2, Batch(1, 2, 2)), SendResult::kQueued);
  ASSERT_TRUE(loop_.RunUntil([&] { return a.metrics().dial_failures >= 2; }))
      << a.log.Joined();
  TcpTransportOptions again = Options(2);
  again.listen_address = b_address;
  Restart(b, again);
  ASSERT_TRUE(loop_.RunUntil([&] { return !b.received.empty(); }))
      << a.log.Joined();
  EXPECT_EQ(b.received.back().second.messages(0).region_id(), 2u);
  EXPECT_GE(a.metrics().retries, 2u);
  EXPECT_GE(a.metrics().dials, 3u);
  EXPECT_TRUE(a.log.Contains("dial to store 2 at " + b_address + " failed"))
      << a.log.Joined();
  ExpectDelivered(a, b, 3);
}

TEST_F(TcpTransportTest, FullQueueDropsAndCounts) {
  TcpTransportOptions options = Options(1);
  options.send_queue_bytes_max = 1000;
  Node& a = StartNode(options);
  Node& b = StartNode(Options(2));
  Introduce(a, b);
  const uint64_t frame_bytes = FrameBytesOf(Batch(1, 2, 1, 300));
  const uint64_t fit = 1000 / frame_bytes;
  ASSERT_GE(fit, 2u);
  // Nothing leaves before the loop runs, so exactly `fit` batches fit.
  int dropped = 0;
  for (uint64_t region = 1; region <= 10; ++region) {
    if (a.transport->Send(2, Batch(1, 2, region, 300)) ==
        SendResult::kDroppedQueueFull) {
      ++dropped;
    }
  }
  EXPECT_EQ(dropped, static_cast<int>(10 - fit));
  EXPECT_EQ(a.metrics().drops, 10 - fit);
  EXPECT_EQ(a.transport->queued_bytes(2), fit * frame_bytes);
  ASSERT_TRUE(loop_.RunUntil([&] { return b.received.size() == fit; }));
  EXPECT_TRUE(
      loop_.RunUntil([&] { return a.transport->queued_bytes(2) == 0; }));
  // Connected now: the same bound holds for the connection's buffer.
  dropped = 0;
  for (uint64_t region = 11; region <= 20; ++region) {
    if (a.transport->Send(2, Batch(1, 2, region, 300)) ==
        SendResult::kDroppedQueueFull) {
      ++dropped;
    }
  }
  EXPECT_EQ(dropped, static_cast<int>(10 - fit));
  ASSERT_TRUE(loop_.RunUntil([&] { return b.received.size() == 2 * fit; }));
}

TEST_F(TcpTransportTest, QueueSurvivesFailedDials) {
  TcpTransportOptions options = Options(1);
  Node& a = StartNode(options);
  ASSERT_TRUE(a.transport->SetPeerAddress(9, "127.0.0.1:1").ok());
  ASSERT_EQ(a.transport->Send(9, Batch(1, 9, 1)), SendResult::kQueued);
  ASSERT_TRUE(loop_.RunUntil([&] { return a.metrics().dial_failures >= 3; }));
  EXPECT_EQ(a.transport->queued_bytes(9), FrameBytesOf(Batch(1, 9, 1)));
  EXPECT_EQ(a.metrics().send_failures, 0u);
}

TEST_F(TcpTransportTest, BlockedPeerDropsBothWaysUntilUnblocked) {
  Node& a = StartNode(Options(1));
  Node& b = StartNode(Options(2));
  Introduce(a, b);
  Introduce(b, a);
  ExpectDelivered(b, a, 1);  // b's connection to a is up
  a.transport->BlockPeer(2);
  EXPECT_EQ(a.metrics().blocked_peers, 1u);
  EXPECT_EQ(a.transport->Send(2, Batch(1, 2, 2)), SendResult::kDroppedBlocked);
  ASSERT_EQ(b.transport->Send(1, Batch(2, 1, 3)), SendResult::kQueued);
  ASSERT_TRUE(loop_.RunUntil([&] { return a.metrics().drops_blocked == 2; }));
  EXPECT_EQ(a.received.size(), 1u);
  EXPECT_TRUE(b.received.empty());
  a.transport->UnblockPeer(2);
  EXPECT_EQ(a.metrics().blocked_peers, 0u);
  ExpectDelivered(a, b, 4);
  ExpectDelivered(b, a, 5);
}

TEST_F(TcpTransportTest, UnknownPeerAndOversizedBatchAreDropped) {
  TcpTransportOptions options = Options(1);
  options.frame_payload_bytes_max = 1000;
  Node& a = StartNode(options);
  Node& b = StartNode(Options(2));
  Introduce(a, b);
  EXPECT_EQ(a.transport->Send(3, Batch(1, 3, 1)),
            SendResult::kDroppedUnknownPeer);
  EXPECT_EQ(a.transport->Send(2, Batch(1, 2, 1, 2000)),
            SendResult::kDroppedOversized);
  EXPECT_EQ(a.metrics().drops_unknown_peer, 1u);
  EXPECT_EQ(a.metrics().drops_oversized, 1u);
  EXPECT_EQ(a.metrics().dials, 0u);
  ExpectDelivered(a, b, 2);
}

TEST_F(TcpTransportTest, WrongTokenIsRefusedByThePeer) {
  TcpTransportOptions options = Options(1);
  options.auth_token = "wrong";
  Node& a = StartNode(options);
  Node& b = StartNode(Options(2));
  Introduce(a, b);
  ASSERT_EQ(a.transport->Send(2, Batch(1, 2, 1)), SendResult::kQueued);
  ASSERT_TRUE(loop_.RunUntil([&] {
    return b.metrics().connections_closed_unauthenticated >= 1 &&
           b.log.Contains("wrong auth token");
  })) << b.log.Joined();
  EXPECT_TRUE(b.received.empty());
}

struct RawCase {
  const char* name;
  std::string bytes;
  bool shutdown_write;
  const char* logged;
  bool unauthenticated;
};

std::vector<RawCase> RawCases() {
  const std::string hello = Encoded(MakeHello(kCluster, 3, kToken));
  const std::string batch = Encoded(Batch(3, 2, 1));
  std::string oversized = batch.substr(0, kFrameHeaderBytes);
  oversized[kFrameLengthOffset + 3] = '\x7f';
  std::string unknown = batch;
  unknown[kFrameTypeOffset] = 42;
  return {
      {"garbage", "\x16\x03\x01 TLS hello?", false, "bad magic", false},
      {"truncated", hello + batch.substr(0, batch.size() - 4), true,
       "stream ended after", false},
      {"oversized length", hello + oversized, false, "frame_payload_bytes_max",
       false},
      {"unknown type", hello + unknown, false, "unknown frame type 42", false},
      {"no hello", batch, false, "not HELLO", true},
      {"wrong token", Encoded(MakeHello(kCluster, 3, "nope")) + batch, false,
       "wrong auth token", true},
      {"other cluster", Encoded(MakeHello(kCluster + 1, 3, kToken)) + batch,
       false, "from cluster 6", true},
      {"client frame", hello + Encoded(kv::KvRequest()), false,
       "unexpected KV_REQUEST frame on the raft port", false},
      {"spoofed sender", hello + Encoded(Batch(4, 2, 1)), false,
       "from store 4, to store 2 on a connection of store 3", false},
      {"wrong receiver", hello + Encoded(Batch(3, 7, 1)), false, "to store 7",
       false},
  };
}

TEST_F(TcpTransportTest, BadInputClosesOnlyThatConnection) {
  Node& a = StartNode(Options(1));
  Node& b = StartNode(Options(2));
  Introduce(a, b);
  ExpectDelivered(a, b, 1);
  uint64_t bad_frames = 0;
  uint64_t unauthenticated = 0;
  uint64_t region = 100;
  for (const RawCase& input : RawCases()) {
    SCOPED_TRACE(input.name);
    const size_t lines = b.log.lines.size();
    RawSocket raw(b.transport->listen_port());
    ASSERT_TRUE(raw.connected());
    raw.Write(input.bytes);
    if (input.shutdown_write) raw.ShutdownWrite();
    ASSERT_TRUE(loop_.RunUntil([&] {
      return raw.PeerClosed() && b.log.lines.size() > lines;
    })) << b.log.Joined();
    EXPECT_TRUE(b.log.Contains(input.logged)) << b.log.Joined();
    (input.unauthenticated ? unauthenticated : bad_frames) += 1;
    EXPECT_EQ(b.metrics().connections_closed_bad_frame, bad_frames);
    EXPECT_EQ(b.metrics().connections_closed_unauthenticated, unauthenticated);
    ExpectDelivered(a, b, ++region);
  }
  EXPECT_EQ(a.metrics().dials, 1u);  // a's connection was never disturbed
  EXPECT_EQ(b.received.size(), 1 + RawCases().size());
}

TEST_F(TcpTransportTest, StalledWriteClosesTheConnectionAndCountsFailures) {
  TcpTransportOptions options = Options(1);
  options.send_timeout_ms = 200;
  Node& a = StartNode(options);
  SilentListener silent(/*backlog=*/4, /*receive_buffer_bytes=*/4096);
  ASSERT_TRUE(
      a.transport->SetPeerAddress(9, absl::StrCat("127.0.0.1:", silent.port()))
          .ok());
  // 16 MiB cannot fit in the socket buffers of a peer that never reads.
  for (uint64_t region = 1; region <= 16; ++region) {
    ASSERT_EQ(a.transport->Send(9, Batch(1, 9, region, 1 << 20)),
              SendResult::kQueued);
  }
  ASSERT_TRUE(loop_.RunUntil([&] { return a.metrics().send_failures > 0; }))
      << a.log.Joined();
  EXPECT_EQ(a.metrics().send_failures + a.metrics().sends, 16u);
  EXPECT_TRUE(a.log.Contains("write stall")) << a.log.Joined();
}

TEST_F(TcpTransportTest, DialTimeoutIsAFailedDial) {
  TcpTransportOptions options = Options(1);
  options.dial_timeout_ms = 100;
  Node& a = StartNode(options);
  // A full accept queue makes the kernel drop new SYNs: the dial hangs.
  SilentListener silent(/*backlog=*/0);
  std::vector<int> fillers;
  for (int i = 0; i < 4; ++i) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<uint16_t>(silent.port()));
    connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    fillers.push_back(fd);
  }
  ASSERT_TRUE(
      a.transport->SetPeerAddress(9, absl::StrCat("127.0.0.1:", silent.port()))
          .ok());
  ASSERT_EQ(a.transport->Send(9, Batch(1, 9, 1)), SendResult::kQueued);
  ASSERT_TRUE(loop_.RunUntil([&] { return a.metrics().dial_failures >= 1; }))
      << a.log.Joined();
  EXPECT_TRUE(a.log.Contains("dial timeout")) << a.log.Joined();
  for (int fd : fillers) close(fd);
}

TEST_F(TcpTransportTest, OptionsAreValidated) {
  TcpTransportOptions options = Options(1);
  options.cluster_id = 0;
  EXPECT_EQ(TcpTransport::Start(loop_.get(), options,
                                [](uint64_t, store::RaftMessageBatch&&) {})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  options = Options(1);
  options.reconnect_backoff_ms_max = 1;
  EXPECT_FALSE(TcpTransport::Start(loop_.get(), options,
                                   [](uint64_t, store::RaftMessageBatch&&) {})
                   .ok());
  options = Options(1);
  options.auth_token = std::string(1000, 't');
  options.frame_payload_bytes_max = 500;  // the HELLO would not fit
  EXPECT_FALSE(TcpTransport::Start(loop_.get(), options,
                                   [](uint64_t, store::RaftMessageBatch&&) {})
                   .ok());
  Node& a = StartNode(Options(1));
  EXPECT_EQ(a.transport->SetPeerAddress(1, "127.0.0.1:9").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(a.transport->SetPeerAddress(2, "nowhere").code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace raftstore::transport
