#include "transport/framed_server.h"

#include <uv.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "transport/address.h"
#include "transport/frame.h"
#include "transport/framed_connection.h"
#include "transport/hello.h"
#include "transport/test_util.h"

namespace raftstore::transport {
namespace {

constexpr uint64_t kClusterId = 77;
constexpr char kToken[] = "shared-secret";

std::string Encoded(const FrameMessage& message) {
  std::string out;
  EXPECT_TRUE(AppendFrameMessage(message, 1 << 20, &out).ok());
  return out;
}

kv::KvRequest Request(uint64_t id) {
  kv::KvRequest request;
  request.set_request_id(id);
  request.mutable_get()->set_key("k");
  return request;
}

// A client connection made with FramedConnection: a well-behaved peer.
struct Client {
  FramedConnection* connection = nullptr;
  std::vector<kv::KvResponse> responses;
  std::optional<CloseInfo> closed;

  void Dial(uv_loop_t* loop, int port) {
    absl::StatusOr<SocketAddress> address =
        ResolveAddress(absl::StrCat("127.0.0.1:", port));
    ASSERT_TRUE(address.ok());
    FramedConnection::Callbacks callbacks;
    callbacks.on_frame = [this](Frame&& frame) {
      if (frame.type() != FrameType::kKvResponse) {
        return absl::InvalidArgumentError("not a response");
      }
      responses.push_back(std::get<kv::KvResponse>(std::move(frame.message)));
      return absl::OkStatus();
    };
    callbacks.on_closed = [this](const CloseInfo& info) {
      closed = info;
      connection = nullptr;
    };
    connection = FramedConnection::Dial(loop, *address, ConnectionOptions{},
                                        5'000, std::move(callbacks));
  }
};

// An echo service on a FramedServer: answers each KvRequest with a
// KvResponse of the same request id.
class FramedServerTest : public ::testing::Test {
 protected:
  void StartServer(bool require_hello) {
    options_.require_hello = require_hello;
    options_.hello_policy.cluster_id = kClusterId;
    options_.hello_policy.auth_token = kToken;
    options_.hello_policy.require_store_id = false;
    FramedServer::Callbacks callbacks;
    callbacks.on_open = [this](FramedServer::ConnectionId id, const Hello*) {
      opened_.push_back(id);
    };
    callbacks.on_frame = [this](FramedServer::ConnectionId id, Frame&& frame) {
      if (frame.type() != FrameType::kKvRequest) {
        return absl::InvalidArgumentError(absl::StrCat(
            "unexpected ", std::string(FrameTypeName(frame.type()))));
      }
      kv::KvResponse response;
      response.set_request_id(
          std::get<kv::KvRequest>(frame.message).request_id());
      return server_->Send(id, response);
    };
    auto server = FramedServer::Listen(loop_.get(), options_,
                                       std::move(callbacks), log_.sink());
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }

  // Clients live in the fixture: their callbacks may run until TearDown.
  Client& NewClient() { return clients_.emplace_back(); }

  void TearDown() override {
    if (server_ != nullptr) server_->Close(nullptr);
    EXPECT_TRUE(loop_.RunUntil([this] {
      for (const Client& client : clients_) {
        if (client.connection != nullptr) return false;
      }
      return server_ == nullptr || server_->closed();
    }));
  }

  // A good client: HELLO (when required), one request, its response.
  void ExpectServes(Client& client, uint64_t request_id) {
    if (client.connection == nullptr) {
      client.Dial(loop_.get(), server_->port());
      if (options_.require_hello) {
        ASSERT_TRUE(
            client.connection->Send(MakeHello(kClusterId, 0, kToken)).ok());
      }
    }
    ASSERT_TRUE(client.connection->Send(Request(request_id)).ok());
    const size_t before = client.responses.size();
    ASSERT_TRUE(loop_.RunUntil(
        [&] { return client.responses.size() > before || client.closed; }));
    ASSERT_EQ(client.responses.size(), before + 1) << log_.Joined();
    EXPECT_EQ(client.responses.back().request_id(), request_id);
  }

  // Sends `bytes` from a raw socket (then half-closes it if asked) and
  // waits until the server has closed that connection and logged why.
  void ExpectRawClosed(const std::string& bytes, bool shutdown_write = false) {
    const size_t lines = log_.lines.size();
    RawSocket raw(server_->port());
    ASSERT_TRUE(raw.connected());
    raw.Write(bytes);
    if (shutdown_write) raw.ShutdownWrite();
    // The socket closes before the server's close callbacks run; its log
    // line comes from those, after the counters.
    EXPECT_TRUE(loop_.RunUntil([&] {
      return raw.PeerClosed() && log_.lines.size() > lines;
    })) << log_.Joined();
  }

  TestLoop loop_;
  LogLines log_;
  FramedServerOptions options_;
  std::unique_ptr<FramedServer> server_;
  std::vector<FramedServer::ConnectionId> opened_;
  std::deque<Client> clients_;
};

TEST_F(FramedServerTest, AnswersRequestsOnTheSameConnection) {
  StartServer(/*require_hello=*/false);
  Client& client = NewClient();
  ExpectServes(client, 1);
  ExpectServes(client, 2);
  EXPECT_EQ(server_->metrics().frames_received, 2u);
  EXPECT_EQ(server_->metrics().frames_sent, 2u);
  EXPECT_EQ(server_->metrics().connections_open, 1u);
  client.connection->Close(absl::OkStatus());
  ASSERT_TRUE(
      loop_.RunUntil([&] { return server_->metrics().connections_open == 0; }));
}

TEST_F(FramedServerTest, HelloFirstThenRequests) {
  StartServer(/*require_hello=*/true);
  Client& client = NewClient();
  ExpectServes(client, 5);
  EXPECT_EQ(opened_.size(), 1u);
}

TEST_F(FramedServerTest, RequestBeforeHelloClosesAsUnauthenticated) {
  StartServer(/*require_hello=*/true);
  ExpectRawClosed(Encoded(Request(1)));
  EXPECT_EQ(server_->metrics().connections_closed_unauthenticated, 1u);
  EXPECT_TRUE(log_.Contains("first frame is KV_REQUEST, not HELLO"))
      << log_.Joined();
  EXPECT_TRUE(opened_.empty());
}

TEST_F(FramedServerTest, WrongTokenClosesOnlyThatConnection) {
  StartServer(/*require_hello=*/true);
  Client& good = NewClient();
  ExpectServes(good, 1);
  ExpectRawClosed(Encoded(MakeHello(kClusterId, 0, "guess")) +
                  Encoded(Request(2)));
  EXPECT_EQ(server_->metrics().connections_closed_unauthenticated, 1u);
  EXPECT_TRUE(log_.Contains("wrong auth token")) << log_.Joined();
  ExpectServes(good, 3);
  EXPECT_EQ(good.responses.size(), 2u);  // never an answer to request 2
}

TEST_F(FramedServerTest, SilentConnectionIsClosedAfterTheHelloTimeout) {
  options_.hello_timeout_ms = 50;
  StartServer(/*require_hello=*/true);
  ExpectRawClosed("");
  EXPECT_EQ(server_->metrics().connections_closed_unauthenticated, 1u);
  EXPECT_TRUE(log_.Contains("no HELLO within hello_timeout_ms 50"))
      << log_.Joined();
}

struct BadInput {
  const char* name;
  std::string bytes;
  bool shutdown_write;
  const char* logged;
};

std::vector<BadInput> BadInputs() {
  const std::string hello = Encoded(MakeHello(kClusterId, 0, kToken));
  const std::string request = Encoded(Request(9));
  std::string oversized = request.substr(0, kFrameHeaderBytes);
  oversized[kFrameLengthOffset + 3] = '\x7f';  // ~2 GiB
  std::string unknown = request;
  unknown[kFrameTypeOffset] = 99;
  std::string big_hello = hello.substr(0, kFrameHeaderBytes);
  big_hello[kFrameLengthOffset + 2] = 1;  // 64 KiB and some
  return {
      {"garbage", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", false, "bad magic"},
      {"big hello", big_hello, false, "above first_frame_payload_bytes_max"},
      {"truncated", hello + request.substr(0, request.size() - 2), true,
       "stream ended after"},
      {"oversized", hello + oversized, false, "frame_payload_bytes_max"},
      {"unknown type", hello + unknown, false, "unknown frame type 99"},
      {"corrupt", hello + request.substr(0, request.size() - 1) + "\x01", false,
       "checksum mismatch"},
      {"second hello", hello + hello, false, "a second HELLO"},
      {"unexpected type", hello + Encoded(kv::KvResponse()), false,
       "unexpected KV_RESPONSE"},
  };
}

TEST_F(FramedServerTest, BadInputClosesOnlyThatConnection) {
  StartServer(/*require_hello=*/true);
  Client& good = NewClient();
  ExpectServes(good, 1);
  uint64_t expected_closes = 0;
  for (const BadInput& input : BadInputs()) {
    SCOPED_TRACE(input.name);
    ExpectRawClosed(input.bytes, input.shutdown_write);
    EXPECT_TRUE(log_.Contains(input.logged)) << log_.Joined();
    EXPECT_EQ(server_->metrics().connections_closed_bad_frame,
              ++expected_closes);
    ExpectServes(good, 100 + expected_closes);
  }
  EXPECT_EQ(server_->metrics().connections_closed_unauthenticated, 0u);
}

TEST_F(FramedServerTest, StalledPartialFrameIsClosed) {
  options_.connection.read_stall_timeout_ms = 50;
  StartServer(/*require_hello=*/false);
  ExpectRawClosed(Encoded(Request(1)).substr(0, 10));
  EXPECT_EQ(server_->metrics().connections_closed_bad_frame, 1u);
  EXPECT_TRUE(log_.Contains("partial frame (10 bytes at stream offset 0)"))
      << log_.Joined();
}

TEST_F(FramedServerTest, ConnectionsBeyondTheMaximumAreClosed) {
  options_.connections_max = 1;
  StartServer(/*require_hello=*/false);
  Client& first = NewClient();
  ExpectServes(first, 1);
  ExpectRawClosed("");
  EXPECT_EQ(server_->metrics().connections_rejected_full, 1u);
  ExpectServes(first, 2);
}

TEST_F(FramedServerTest, ClientThatDoesNotReadIsClosedAtTheBufferBound) {
  options_.connection.write_buffer_bytes_max = 4096;
  StartServer(/*require_hello=*/false);
  Client& client = NewClient();
  ExpectServes(client, 1);
  const FramedServer::ConnectionId id = opened_.at(0);
  kv::KvResponse big;
  big.mutable_get()->set_value(std::string(1000, 'v'));
  // Without running the loop nothing is written: the fifth response passes
  // the bound.
  absl::Status status;
  int sent = 0;
  while ((status = server_->Send(id, big)).ok()) ++sent;
  EXPECT_EQ(sent, 4);
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(server_->Send(id, big).code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(loop_.RunUntil([&] { return client.closed.has_value(); }));
}

TEST_F(FramedServerTest, PortInUseIsUnavailable) {
  StartServer(/*require_hello=*/false);
  FramedServerOptions again = options_;
  again.listen_address = absl::StrCat("127.0.0.1:", server_->port());
  FramedServer::Callbacks callbacks;
  callbacks.on_frame = [](FramedServer::ConnectionId, Frame&&) {
    return absl::OkStatus();
  };
  auto second = FramedServer::Listen(loop_.get(), again, std::move(callbacks),
                                     log_.sink());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(
      absl::StrContains(second.status().message(), again.listen_address))
      << second.status();
}

TEST_F(FramedServerTest, BadListenAddressIsInvalid) {
  options_.listen_address = "127.0.0.1:http";
  FramedServer::Callbacks callbacks;
  callbacks.on_frame = [](FramedServer::ConnectionId, Frame&&) {
    return absl::OkStatus();
  };
  auto server = FramedServer::Listen(loop_.get(), options_,
                                     std::move(callbacks), log_.sink());
  EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace raftstore::transport
