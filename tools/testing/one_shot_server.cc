#include "tools/testing/one_shot_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace raftstore::tools {

OneShotServer::OneShotServer() {
  fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  EXPECT_GE(fd_, 0);
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

OneShotServer::~OneShotServer() {
  shutdown(fd_, SHUT_RDWR);
  if (thread_.joinable()) thread_.join();
  close(fd_);
}

void OneShotServer::Serve(std::string answer) {
  ASSERT_FALSE(thread_.joinable()) << "Serve is one-shot";
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

std::string OneShotServer::address() const {
  return absl::StrCat("127.0.0.1:", port_);
}

std::string OneShotServer::TakeRequest() {
  if (thread_.joinable()) thread_.join();
  return request_;
}

}  // namespace raftstore::tools
