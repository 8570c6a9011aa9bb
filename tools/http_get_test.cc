// HttpGet against a one-connection server on a thread: a 200 answer's body,
// and each failure named with the URL (another status, a refused port, a
// server that never answers, an answer that is not HTTP, a bad address).
#include "tools/http_get.h"

#include <chrono>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tools/testing/one_shot_server.h"

namespace raftstore::tools {
namespace {

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
