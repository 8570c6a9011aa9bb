// raftstore-node refuses to start on bad input, with a message naming what
// is wrong and a nonzero exit code: bad flags and config files (exit 2), a
// data directory that holds no store, belongs to another store or is in
// use (exit 2), a port already in use (exit 2).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/node/node_process.h"

namespace raftstore::node_testing {
namespace {

// A one-store configuration on fresh ports.
std::vector<std::string> OneStore(const std::string& data_dir,
                                  uint64_t store_id = 1) {
  return {"--cluster-id=5",
          absl::StrCat("--store-id=", store_id),
          absl::StrCat("--data-dir=", data_dir),
          absl::StrCat("--peers=", store_id, "=127.0.0.1:", PickFreePort()),
          absl::StrCat("--client-listen=127.0.0.1:", PickFreePort()),
          absl::StrCat("--admin-listen=127.0.0.1:", PickFreePort())};
}

void ExpectRefused(const std::vector<std::string>& args, int exit_code,
                   const std::string& message) {
  const RunResult result = RunToEnd(args);
  EXPECT_EQ(result.exit_code, exit_code) << result.output;
  EXPECT_TRUE(absl::StrContains(result.output, message))
      << "want '" << message << "' in:\n"
      << result.output;
}

// Starts a store in `data_dir` (bootstrapping it) and stops it cleanly, so
// the directory holds that store.
void MakeStore(const std::string& data_dir, uint64_t store_id) {
  std::vector<std::string> args = OneStore(data_dir, store_id);
  args.push_back("--bootstrap");
  Process process;
  ASSERT_TRUE(process.Start(NodeBinary(), args, data_dir + ".log"));
  const int admin = std::stoi(args[5].substr(args[5].rfind(':') + 1));
  ASSERT_TRUE(
      PollUntil([&] { return HttpGet(admin, "/stats").ok(); }, kStartMsMax))
      << ReadFile(data_dir + ".log");
  process.Signal(SIGTERM);
  ASSERT_EQ(process.Wait(60'000), 0) << ReadFile(data_dir + ".log");
}

TEST(NodeFlagsTest, HelpExitsZero) {
  const RunResult result = RunToEnd({"--help"});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_TRUE(absl::StrContains(result.output, "usage: raftstore-node"));
}

TEST(NodeFlagsTest, BadFlagsExitTwoNamingTheFlag) {
  const std::string dir = FreshDir("flags") + "/store";
  std::vector<std::string> args = OneStore(dir);
  args.push_back("--bogus=1");
  ExpectRefused(args, 2, "unknown flag --bogus");
  args.back() = "--tick-ms";
  ExpectRefused(args, 2, "flag --tick-ms needs a value");
  args.back() = "--tick-ms=soon";
  ExpectRefused(args, 2, "--tick-ms: 'soon' is not a non-negative integer");
  args.back() = "--store-id=2";
  ExpectRefused(args, 2, "flag --store-id given twice");
  ExpectRefused({"--store-id=1"}, 2, "--cluster-id is required");
  std::vector<std::string> bad_peers = OneStore(dir);
  bad_peers[3] = "--peers=1:127.0.0.1:1";
  ExpectRefused(bad_peers, 2, "is not store_id=host:port");
}

TEST(NodeFlagsTest, ABadConfigFileExitsTwoNamingTheLine) {
  const std::string dir = FreshDir("config");
  const std::string path = dir + "/node.conf";
  std::ofstream(path) << "cluster-id = 5\nstore-id = 1\nspeed = fast\n";
  ExpectRefused({"--config", path}, 2, "node.conf:3: unknown key 'speed'");
  ExpectRefused({"--config", dir + "/missing.conf"}, 2, "cannot be opened");
}

TEST(NodeFlagsTest, AConfigFileStartsANode) {
  const std::string dir = FreshDir("config_start");
  const int admin = PickFreePort();
  const std::string path = dir + "/node.conf";
  std::ofstream(path) << "# one store\ncluster-id = 5\nstore-id = 1\n"
                      << "data-dir = " << dir << "/store\n"
                      << "peers = 1=127.0.0.1:" << PickFreePort() << "\n"
                      << "client-listen = 127.0.0.1:" << PickFreePort() << "\n"
                      << "admin-listen = 127.0.0.1:" << admin << "\n"
                      << "bootstrap = true\n";
  Process process;
  ASSERT_TRUE(process.Start(NodeBinary(), {"--config", path}, dir + "/log"));
  EXPECT_TRUE(
      PollUntil([&] { return HttpGet(admin, "/stats").ok(); }, kStartMsMax))
      << ReadFile(dir + "/log");
  process.Signal(SIGTERM);
  EXPECT_EQ(process.Wait(60'000), 0) << ReadFile(dir + "/log");
}

TEST(NodeFlagsTest, ADataDirWithoutAStoreNeedsBootstrap) {
  const std::string dir = FreshDir("no_store");
  ExpectRefused(OneStore(dir + "/missing"), 2, "does not exist");
  ExpectRefused(OneStore(dir), 2, "holds no store; start with --bootstrap");
}

TEST(NodeFlagsTest, AnotherStoresDataDirIsRefused) {
  const std::string dir = FreshDir("other_store") + "/store";
  MakeStore(dir, 1);
  ExpectRefused(OneStore(dir, 2), 2,
                "this data directory belongs to store 1 of cluster 5, not "
                "store 2 of cluster 5");
  // The rightful store still starts from it.
  MakeStore(dir, 1);
}

TEST(NodeFlagsTest, ADataDirInUseIsRefused) {
  const std::string dir = FreshDir("in_use") + "/store";
  std::vector<std::string> args = OneStore(dir);
  args.push_back("--bootstrap");
  Process first;
  ASSERT_TRUE(first.Start(NodeBinary(), args, dir + ".log"));
  const int admin = std::stoi(args[5].substr(args[5].rfind(':') + 1));
  ASSERT_TRUE(
      PollUntil([&] { return HttpGet(admin, "/stats").ok(); }, kStartMsMax));
  ExpectRefused(OneStore(dir), 2, "is in use by another process");
  first.Signal(SIGTERM);
  EXPECT_EQ(first.Wait(60'000), 0);
}

TEST(NodeFlagsTest, APortInUseIsRefused) {
  // Hold a listening socket on a port and ask the node to use it.
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)),
            0);
  ASSERT_EQ(listen(fd, 1), 0);
  socklen_t length = sizeof(address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  const int taken = ntohs(address.sin_port);
  const std::string dir = FreshDir("port_in_use") + "/store";
  for (int flag : {3, 4, 5}) {  // --peers (raft), --client-listen, --admin
    std::vector<std::string> args = OneStore(dir);
    args.push_back("--bootstrap");
    const std::string name = args[flag].substr(0, args[flag].find('=') + 1);
    args[flag] = flag == 3 ? absl::StrCat(name, "1=127.0.0.1:", taken)
                           : absl::StrCat(name, "127.0.0.1:", taken);
    ExpectRefused(args, 2, "EADDRINUSE");
  }
  close(fd);
}

}  // namespace
}  // namespace raftstore::node_testing
