// `raftstore stats --addr` (RunStats handing over to RunStatsAddr) against a
// one-connection HTTP server on a thread that serves a crafted /stats page:
// a page of the right shape is printed; a page of another shape (another
// server, another version) is exit 1 naming the address, never a crash.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <iostream>
#include <string>
#include <thread>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tools/command.h"

ABSL_DECLARE_FLAG(std::string, addr);
ABSL_DECLARE_FLAG(uint64_t, timeout_ms);
ABSL_DECLARE_FLAG(bool, json);

namespace raftstore::tools {
namespace {

// Listens on a free loopback port and answers one connection with a 200
// carrying `body`, after reading the request head.
class PageServer {
 public:
  explicit PageServer(std::string body) {
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
    thread_ = std::thread([this, body = std::move(body)] {
      const int connection = accept(fd_, nullptr, nullptr);
      if (connection < 0) return;
      std::string request;
      char buffer[4096];
      while (request.find("\r\n\r\n") == std::string::npos) {
        const ssize_t n = read(connection, buffer, sizeof(buffer));
        if (n <= 0) break;
        request.append(buffer, static_cast<size_t>(n));
      }
      const std::string answer = absl::StrCat(
          "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n", body);
      (void)!write(connection, answer.data(), answer.size());
      close(connection);
    });
  }
  PageServer(const PageServer&) = delete;
  PageServer& operator=(const PageServer&) = delete;
  ~PageServer() {
    // Unblocks accept() if the command never connected.
    shutdown(fd_, SHUT_RDWR);
    thread_.join();
    close(fd_);
  }

  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
};

struct Outcome {
  int code = -1;
  std::string out;
  std::string err;
};

Outcome StatsOf(const std::string& page, bool json = false) {
  PageServer server(page);
  absl::SetFlag(&FLAGS_addr, server.address());
  absl::SetFlag(&FLAGS_timeout_ms, 10'000);
  absl::SetFlag(&FLAGS_json, json);
  Outcome run;
  testing::internal::CaptureStdout();
  testing::internal::CaptureStderr();
  run.code = RunStats({});
  run.out = testing::internal::GetCapturedStdout();
  run.err = testing::internal::GetCapturedStderr();
  absl::SetFlag(&FLAGS_addr, "");
  return run;
}

constexpr char kGroup[] =
    R"({"region_id": 1, "term": 2, "snapshot_index": 0,
        "truncated_index": 0, "commit_index": 7, "last_index": 7,
        "applied_index": 7, "role": "leader"})";

std::string Page(const std::string& ids, const std::string& damage) {
  return absl::StrCat("{", ids,
                      R"("wal": {"segments": 1, "bytes": 9, "records": 3,
                                 "damage": )",
                      damage, R"(}, "raft_groups": [)", kGroup, "]}");
}

TEST(StatsAddrCommandTest, PrintsAPageOfTheRightShape) {
  const Outcome run =
      StatsOf(Page(R"("store_id": 4, "cluster_id": 9, )", "\"torn tail\""));
  ASSERT_EQ(run.code, kExitOk) << run.err;
  EXPECT_NE(run.out.find("store 4 of cluster 9\n"), std::string::npos)
      << run.out;
  EXPECT_NE(run.out.find("wal: 1 segments, 9 bytes, 3 records, damage: torn "
                         "tail\n"),
            std::string::npos)
      << run.out;
  EXPECT_NE(run.out.find("  region 1  term 2  snapshot 0  truncated 0  commit "
                         "7  last 7  applied 7  leader\n"),
            std::string::npos)
      << run.out;
}

TEST(StatsAddrCommandTest, ADamageThatIsNotTextIsAnErrorNotACrash) {
  const Outcome run = StatsOf(Page("", "5"));
  EXPECT_EQ(run.code, kExitProblem) << run.out;
  EXPECT_NE(run.err.find("is not a raftstore /stats page"), std::string::npos)
      << run.err;
  EXPECT_NE(run.err.find("damage"), std::string::npos) << run.err;
}

TEST(StatsAddrCommandTest, AStoreIdWithoutAClusterIdIsAnErrorNotACrash) {
  const Outcome run = StatsOf(Page(R"("store_id": 4, )", "null"));
  EXPECT_EQ(run.code, kExitProblem) << run.out;
  EXPECT_NE(run.err.find("cluster_id"), std::string::npos) << run.err;
}

TEST(StatsAddrCommandTest, JsonPrintsThePageAsServed) {
  const Outcome run = StatsOf(Page("", "null"), /*json=*/true);
  ASSERT_EQ(run.code, kExitOk) << run.err;
  EXPECT_NE(run.out.find("\"records\": 3"), std::string::npos) << run.out;
}

}  // namespace
}  // namespace raftstore::tools
