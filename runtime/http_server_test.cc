#include "runtime/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "transport/test_util.h"

namespace raftstore::runtime {
namespace {

using transport::TestLoop;

int Connect(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval timeout{20, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) !=
      0) {
    close(fd);
    return -1;
  }
  return fd;
}

// Reads until EOF (or the receive timeout).
std::string ReadAll(int fd) {
  std::string out;
  char buffer[4096];
  while (true) {
    const ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n <= 0) break;
    out.append(buffer, static_cast<size_t>(n));
  }
  return out;
}

// Sends `request` from another thread (the test thread runs the loop) and
// returns everything the server sent back before closing.
std::string Exchange(TestLoop& loop, int port, const std::string& request,
                     bool half_close = false) {
  std::atomic<bool> done{false};
  std::string response;
  std::thread client([&] {
    const int fd = Connect(port);
    if (fd >= 0) {
      (void)!write(fd, request.data(), request.size());
      if (half_close) shutdown(fd, SHUT_WR);
      response = ReadAll(fd);
      close(fd);
    }
    done = true;
  });
  EXPECT_TRUE(loop.RunUntil([&] { return done.load(); }));
  client.join();
  return response;
}

class HttpServerTest : public ::testing::Test {
 protected:
  void Start(HttpServerOptions options = {}) {
    absl::StatusOr<std::unique_ptr<HttpServer>> server = HttpServer::Listen(
        loop_.get(), options,
        [this](absl::string_view path) {
          paths_.emplace_back(path);
          HttpResponse response;
          if (path == "/missing") {
            response.status = 404;
            response.body = "none\n";
          } else {
            response.body = absl::StrCat("page ", std::string(path), "\n");
          }
          return response;
        },
        log_.sink());
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  void TearDown() override {
    if (server_ != nullptr) {
      server_->Close(nullptr);
      EXPECT_TRUE(loop_.RunUntil([this] { return server_->closed(); }));
    }
  }

  TestLoop loop_;
  transport::LogLines log_;
  std::unique_ptr<HttpServer> server_;
  std::vector<std::string> paths_;
};

TEST_F(HttpServerTest, ServesAGet) {
  Start();
  const std::string response =
      Exchange(loop_, server_->port(),
               "GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\n");
  EXPECT_TRUE(absl::StartsWith(response, "HTTP/1.1 200 OK\r\n")) << response;
  EXPECT_TRUE(absl::StrContains(response, "Content-Length: 14\r\n"));
  EXPECT_TRUE(absl::StrContains(response, "Connection: close\r\n"));
  EXPECT_TRUE(absl::EndsWith(response, "\r\n\r\npage /metrics\n")) << response;
  EXPECT_EQ(paths_, std::vector<std::string>{"/metrics"});
  EXPECT_EQ(server_->metrics().requests, 1U);
}

TEST_F(HttpServerTest, AnswersAClientThatHalfClosesAfterItsRequest) {
  Start();
  const std::string response =
      Exchange(loop_, server_->port(), "GET /stats HTTP/1.0\n\n", true);
  EXPECT_TRUE(absl::EndsWith(response, "page /stats\n")) << response;
}

TEST_F(HttpServerTest, PassesTheHandlersStatus) {
  Start();
  const std::string response =
      Exchange(loop_, server_->port(), "GET /missing HTTP/1.1\r\n\r\n");
  EXPECT_TRUE(absl::StartsWith(response, "HTTP/1.1 404 Not Found\r\n"));
}

TEST_F(HttpServerTest, RefusesWhatIsNotAGetWithoutCallingTheHandler) {
  Start();
  const int port = server_->port();
  EXPECT_TRUE(
      absl::StartsWith(Exchange(loop_, port, "POST /metrics HTTP/1.1\r\n\r\n"),
                       "HTTP/1.1 405 "));
  EXPECT_TRUE(absl::StartsWith(Exchange(loop_, port, "\x01\x02garbage\r\n\r\n"),
                               "HTTP/1.1 400 "));
  EXPECT_TRUE(absl::StartsWith(Exchange(loop_, port, "GET / HTTP/2.0\r\n\r\n"),
                               "HTTP/1.1 505 "));
  EXPECT_TRUE(absl::StartsWith(
      Exchange(loop_, port, "GET nopath HTTP/1.1\r\n\r\n"), "HTTP/1.1 400 "));
  EXPECT_TRUE(paths_.empty());
  EXPECT_EQ(server_->metrics().bad_requests, 4U);
  // The server still serves.
  EXPECT_TRUE(absl::StartsWith(Exchange(loop_, port, "GET / HTTP/1.1\r\n\r\n"),
                               "HTTP/1.1 200 "));
}

TEST_F(HttpServerTest, RefusesAnOversizedHead) {
  HttpServerOptions options;
  options.request_bytes_max = 256;
  Start(options);
  const std::string response =
      Exchange(loop_, server_->port(),
               absl::StrCat("GET / HTTP/1.1\r\nX: ", std::string(100'000, 'a'),
                            "\r\n\r\n"));
  EXPECT_TRUE(absl::StartsWith(response, "HTTP/1.1 431 ")) << response;
  EXPECT_TRUE(paths_.empty());
}

TEST_F(HttpServerTest, ClosesAConnectionThatSendsNoRequestInTime) {
  HttpServerOptions options;
  options.request_timeout_ms = 50;
  Start(options);
  const std::string response =
      Exchange(loop_, server_->port(), "GET / HTTP/1.1\r\n");
  EXPECT_EQ(response, "");
  EXPECT_EQ(server_->metrics().timeouts, 1U);
}

TEST_F(HttpServerTest, BoundsItsConnections) {
  HttpServerOptions options;
  options.connections_max = 1;
  Start(options);
  const int idle = Connect(server_->port());
  ASSERT_GE(idle, 0);
  ASSERT_TRUE(loop_.RunUntil(
      [this] { return server_->metrics().connections_open == 1; }));
  // The second connection is accepted and closed at once.
  EXPECT_EQ(Exchange(loop_, server_->port(), "GET / HTTP/1.1\r\n\r\n"), "");
  EXPECT_EQ(server_->metrics().connections_rejected_full, 1U);
  close(idle);
  ASSERT_TRUE(loop_.RunUntil(
      [this] { return server_->metrics().connections_open == 0; }));
  EXPECT_TRUE(absl::StartsWith(
      Exchange(loop_, server_->port(), "GET / HTTP/1.1\r\n\r\n"),
      "HTTP/1.1 200 "));
}

TEST_F(HttpServerTest, APortInUseIsAClearError) {
  Start();
  HttpServerOptions options;
  options.listen_address = absl::StrCat("127.0.0.1:", server_->port());
  absl::StatusOr<std::unique_ptr<HttpServer>> second = HttpServer::Listen(
      loop_.get(), options, [](absl::string_view) { return HttpResponse{}; },
      log_.sink());
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(absl::IsUnavailable(second.status()));
  EXPECT_TRUE(absl::StrContains(second.status().message(), "EADDRINUSE"))
      << second.status();
}

}  // namespace
}  // namespace raftstore::runtime
