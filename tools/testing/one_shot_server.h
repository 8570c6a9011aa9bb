// A test HTTP server for the tools that read a node's admin endpoint: it
// listens on a free loopback port and answers one connection on a thread,
// after reading the request head, with a given answer (or holds the
// connection open without answering while the answer is empty, until the
// client closes).
//
// Thread-safety: construct, Serve and destroy on one thread; the serving
// thread is joined by TakeRequest and the destructor.
#ifndef RAFTSTORE_TOOLS_TESTING_ONE_SHOT_SERVER_H_
#define RAFTSTORE_TOOLS_TESTING_ONE_SHOT_SERVER_H_

#include <string>
#include <thread>

namespace raftstore::tools {

class OneShotServer {
 public:
  // Binds and listens; a failure fails the calling test (EXPECT).
  OneShotServer();
  OneShotServer(const OneShotServer&) = delete;
  OneShotServer& operator=(const OneShotServer&) = delete;
  // Unblocks an accept that never got a connection, then joins.
  ~OneShotServer();

  // Starts the thread that accepts one connection and answers `answer`
  // (raw bytes: status line, headers and body); at most once.
  void Serve(std::string answer);

  std::string address() const;
  // What the client sent: joins the serving thread first.
  std::string TakeRequest();

 private:
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::string request_;
};

}  // namespace raftstore::tools

#endif  // RAFTSTORE_TOOLS_TESTING_ONE_SHOT_SERVER_H_
