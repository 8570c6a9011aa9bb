// HttpGet against a one-connection server on a thread: a 200 answer's body,
// and each failure named with the URL (another status, a refused port, a
// server that never answers, an answer that is not HTTP, a bad address).
#include "tools/http_get.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace raftstore::tools {
namespace {

// Listens on a free loopback port; Serve answers one connection on a
// thread with `answer` (after reading the request head), or holds it open
// without answering while `answer` is empty, until the test ends.
class OneShotServer {
 public:
  OneShotServer() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&address), length), 0);
    EXPECT_EQ(listen(fd_, 1), 0);
    EXPECT_EQ(getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length),
              0);
    port_ = ntohs(address.sin_port);
  }
  OneShotServer(const OneShotServer&) = delete;
  OneShotServer& operator=(const OneShotServer&) = delete;
  ~OneShotServer() {
    if (thread_.joinable()) thread_.join();
    close(fd_);
  }

  void Serve(std::string answer) {
    thread_ = std::thread([this, answer = std::move(answer)] {
      const int connection = accept(fd_, nullptr, nullptr);
      if (connection < 0) return;
      char buffer[4096];
      while (request_.find("\r\n\r\n") == std::string::npos) {
        const ssize_t n = read(connection, buffer, sizeof(buffer));
        if (n <= 0) break;
        request_.append(buffer, static_cast<size_t>(n));
      }
      if (answer.empty()) {
        // Never answer: wait until the client gives up and closes.
        while (read(connection, buffer, sizeof(buffer)) > 0) {
        }
      } else {
        (void)!write(connection, answer.data(), answer.size());
      }
      close(connection);
    });
  }

  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }
  // What the client sent (read after the thread ended: the destructor or
  // a finished HttpGet of a server that answered).
  std::string TakeRequest() {
    if (thread_.joinable()) thread_.join();
    return request_;
  }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::string request_;
};

TEST(HttpGetTest, ReturnsTheBodyOfA200) {
  OneShotServer server;
  server.Serve("HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\n{\"a\": 1}");
  absl::StatusOr<std::string> body = HttpGet(server.address(), "/stats", 5'000);
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_EQ(*body, "{\"a\": 1}");
  EXPECT_EQ(server.TakeRequest().rfind("GET /stats HTTP/1.0\r\n", 0), 0u);
}

TEST(HttpGetTest, AnotherStatusIsAnErrorQuotingTheStatusLine) {
  OneShotServer server;
  server.Serve("HTTP/1.1 404 Not Found\r\n\r\nno such page\n");
  absl::StatusOr<std::string> body = HttpGet(server.address(), "/stats", 5'000);
  ASSERT_FALSE(body.ok());
  EXPECT_TRUE(absl::IsUnavailable(body.status()));
  EXPECT_EQ(body.status().message(),
            absl::StrCat("GET http://", server.address(),
                         "/stats: answered \"HTTP/1.1 404 Not Found\""));
}

TEST(HttpGetTest, AnAnswerThatIsNotHttpIsAnError) {
  OneShotServer server;
  server.Serve("RSF\x01garbage");
  absl::StatusOr<std::string> body = HttpGet(server.address(), "/stats", 5'000);
  ASSERT_FALSE(body.ok());
  EXPECT_NE(body.status().message().find("not an HTTP answer"),
            absl::string_view::npos)
      << body.status();
}

TEST(HttpGetTest, ARefusedConnectionNamesTheAddress) {
  std::string address;
  {
    OneShotServer closed;  // bound, then closed: nothing listens there
    address = closed.address();
  }
  absl::StatusOr<std::string> body = HttpGet(address, "/stats", 5'000);
  ASSERT_FALSE(body.ok());
  EXPECT_TRUE(absl::IsUnavailable(body.status()));
  EXPECT_NE(body.status().message().find(
                absl::StrCat("GET http://", address, "/stats: connect: ")),
            absl::string_view::npos)
      << body.status();
  EXPECT_NE(body.status().message().find("refused"), absl::string_view::npos)
      << body.status();
}

TEST(HttpGetTest, AServerThatNeverAnswersTimesOut) {
  OneShotServer server;
  server.Serve("");
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<std::string> body = HttpGet(server.address(), "/stats", 300);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(body.ok());
  EXPECT_NE(body.status().message().find("read: timed out"),
            absl::string_view::npos)
      << body.status();
  EXPECT_GE(elapsed, std::chrono::milliseconds(290));
  EXPECT_LT(elapsed, std::chrono::seconds(5));
}

TEST(HttpGetTest, ABadAddressIsInvalidArgument) {
  absl::StatusOr<std::string> body = HttpGet("127.0.0.1:99999", "/stats", 300);
  ASSERT_FALSE(body.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(body.status())) << body.status();
  EXPECT_NE(body.status().message().find("127.0.0.1:99999"),
            absl::string_view::npos);
  EXPECT_TRUE(absl::IsInvalidArgument(HttpGet("nonsense", "/", 300).status()));
}

}  // namespace
}  // namespace raftstore::tools
