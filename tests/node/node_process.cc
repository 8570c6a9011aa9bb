#include "tests/node/node_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"

namespace raftstore::node_testing {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

uint64_t ElapsedMs(Clock::time_point start) {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() -
                                                            start)
          .count());
}

int ConnectLoopback(int port, uint64_t timeout_ms) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  timeval timeout{static_cast<time_t>(timeout_ms / 1000),
                  static_cast<suseconds_t>((timeout_ms % 1000) * 1000)};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) !=
      0) {
    close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

std::string NodeBinary() {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  return absl::StrCat(srcdir != nullptr ? srcdir : ".", "/",
                      workspace != nullptr ? workspace : "raftstore",
                      "/runtime/raftstore-node");
}

std::string FreshDir(const std::string& name) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  std::string dir = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/", name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

int PickFreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = 0;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0) {
    socklen_t length = sizeof(address);
    getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    port = ntohs(address.sin_port);
  }
  close(fd);
  EXPECT_NE(port, 0);
  return port;
}

bool PollUntil(const std::function<bool()>& done, uint64_t timeout_ms) {
  const Clock::time_point start = Clock::now();
  uint64_t interval_ms = 2;
  while (!done()) {
    if (ElapsedMs(start) >= timeout_ms) return done();
    std::this_thread::sleep_for(std::chrono::milliseconds(interval_ms));
    interval_ms = std::min<uint64_t>(interval_ms * 2, 100);
  }
  return true;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

absl::StatusOr<std::string> HttpGet(int port, const std::string& path,
                                    uint64_t timeout_ms) {
  const int fd = ConnectLoopback(port, timeout_ms);
  if (fd < 0) {
    return absl::UnavailableError(absl::StrCat("connect to port ", port));
  }
  const std::string request =
      absl::StrCat("GET ", path, " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  if (write(fd, request.data(), request.size()) !=
      static_cast<ssize_t>(request.size())) {
    close(fd);
    return absl::UnavailableError("write failed");
  }
  std::string response;
  char buffer[16384];
  while (true) {
    const ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n <= 0) break;
    response.append(buffer, static_cast<size_t>(n));
  }
  close(fd);
  const size_t body = response.find("\r\n\r\n");
  if (body == std::string::npos) {
    return absl::UnavailableError(absl::StrCat("no HTTP response from port ",
                                               port, ": '", response, "'"));
  }
  if (!absl::StartsWith(response, "HTTP/1.1 200 ")) {
    return absl::InternalError(response.substr(0, response.find("\r\n")));
  }
  return response.substr(body + 4);
}

std::string RawExchange(int port, const std::string& bytes,
                        uint64_t timeout_ms) {
  const int fd = ConnectLoopback(port, timeout_ms);
  if (fd < 0) return "";
  (void)!write(fd, bytes.data(), bytes.size());
  std::string response;
  char buffer[16384];
  while (true) {
    const ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n <= 0) break;
    response.append(buffer, static_cast<size_t>(n));
  }
  close(fd);
  return response;
}

Process::~Process() {
  if (pid_ > 0 && !Poll().has_value()) {
    kill(pid_, SIGKILL);
    Wait(60'000);
  }
}

bool Process::Start(const std::string& binary,
                    const std::vector<std::string>& args,
                    const std::string& log_path) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log_path.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(binary.c_str()));
  for (const std::string& arg : args) {
    argv.push_back(const_cast<char*>(arg.c_str()));
  }
  argv.push_back(nullptr);
  pid_t pid = -1;
  const int error = posix_spawn(&pid, binary.c_str(), &actions, nullptr,
                                argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (error != 0) {
    ADD_FAILURE() << "posix_spawn " << binary << ": " << strerror(error);
    return false;
  }
  pid_ = pid;
  status_.reset();
  return true;
}

void Process::Signal(int signal) {
  if (pid_ > 0 && !Poll().has_value()) kill(pid_, signal);
}

std::optional<int> Process::Poll() {
  if (status_.has_value() || pid_ <= 0) return status_;
  int status = 0;
  const pid_t done = waitpid(pid_, &status, WNOHANG);
  if (done != pid_) return std::nullopt;
  status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return status_;
}

std::optional<int> Process::Wait(uint64_t timeout_ms) {
  PollUntil([this] { return Poll().has_value(); }, timeout_ms);
  return Poll();
}

RunResult RunToEnd(const std::vector<std::string>& args, uint64_t timeout_ms) {
  static int runs = 0;
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string log = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/run_",
                                       getpid(), "_", ++runs, ".log");
  std::filesystem::remove(log);
  Process process;
  RunResult result;
  if (!process.Start(NodeBinary(), args, log)) return result;
  std::optional<int> code = process.Wait(timeout_ms);
  result.exit_code = code.value_or(-1);
  result.output = ReadFile(log);
  return result;
}

LocalCluster::LocalCluster(const std::string& name, int nodes, uint64_t tick_ms)
    : name_(name), tick_ms_(tick_ms), root_(FreshDir(name)) {
  cluster_id_ = 1000 + static_cast<uint64_t>(getpid() % 1000);
  for (int i = 1; i <= nodes; ++i) {
    Node& node = nodes_[static_cast<uint64_t>(i)];
    node.store_id = static_cast<uint64_t>(i);
    node.raft_port = PickFreePort();
    node.client_port = PickFreePort();
    node.admin_port = PickFreePort();
    node.data_dir = absl::StrCat(root_, "/store", i);
    node.log_path = absl::StrCat(root_, "/store", i, ".log");
  }
}

LocalCluster::~LocalCluster() {
  for (auto& entry : nodes_) {
    if (entry.second.process != nullptr) {
      entry.second.process->Signal(SIGKILL);
      entry.second.process->Wait(60'000);
    }
  }
}

std::vector<std::string> LocalCluster::Args(uint64_t store_id) const {
  const Node& node = nodes_.at(store_id);
  std::vector<std::string> peers;
  for (const auto& entry : nodes_) {
    peers.push_back(
        absl::StrCat(entry.first, "=127.0.0.1:", entry.second.raft_port));
  }
  return {absl::StrCat("--cluster-id=", cluster_id_),
          absl::StrCat("--store-id=", store_id),
          absl::StrCat("--data-dir=", node.data_dir),
          absl::StrCat("--peers=", absl::StrJoin(peers, ",")),
          absl::StrCat("--client-listen=127.0.0.1:", node.client_port),
          absl::StrCat("--admin-listen=127.0.0.1:", node.admin_port),
          absl::StrCat("--tick-ms=", tick_ms_),
          "--auth-token=node-test-token",
          "--chaos-endpoints",
          "--bootstrap"};
}

bool LocalCluster::Start(uint64_t store_id) {
  Node& node = nodes_.at(store_id);
  if (node.process != nullptr && node.process->running()) {
    ADD_FAILURE() << "store " << store_id << " is already running";
    return false;
  }
  node.process = std::make_unique<Process>();
  bool spawned = false;
  if (node.file_size_blocks == 0) {
    spawned = node.process->Start(NodeBinary(), Args(store_id), node.log_path);
  } else {
    // POSIX sh counts ulimit -f in 512-byte blocks.
    std::vector<std::string> args = {
        "-c",
        absl::StrCat("ulimit -f ", node.file_size_blocks,
                     " && exec \"$0\" \"$@\""),
        NodeBinary()};
    for (std::string& arg : Args(store_id)) args.push_back(std::move(arg));
    spawned = node.process->Start("/bin/sh", args, node.log_path);
  }
  if (!spawned) return false;
  Process* process = node.process.get();
  const int port = node.admin_port;
  const bool up = PollUntil(
      [&] { return !process->running() || HttpGet(port, "/stats").ok(); },
      kStartMsMax);
  if (!up || !process->running()) {
    ADD_FAILURE() << "store " << store_id << " did not start (exit "
                  << process->Poll().value_or(-1) << "):\n"
                  << Log(store_id);
    return false;
  }
  return true;
}

bool LocalCluster::StartAll() {
  for (auto& entry : nodes_) {
    if (!Start(entry.first)) return false;
  }
  return true;
}

void LocalCluster::Kill(uint64_t store_id) {
  Node& node = nodes_.at(store_id);
  if (node.process == nullptr) return;
  node.process->Signal(SIGKILL);
  EXPECT_TRUE(node.process->Wait(60'000).has_value());
}

std::optional<int> LocalCluster::Terminate(uint64_t store_id) {
  Node& node = nodes_.at(store_id);
  if (node.process == nullptr) return std::nullopt;
  node.process->Signal(SIGTERM);
  return node.process->Wait(60'000);
}

bool LocalCluster::running(uint64_t store_id) {
  Node& node = nodes_.at(store_id);
  return node.process != nullptr && node.process->running();
}

absl::btree_map<uint64_t, std::string> LocalCluster::ClientAddresses() const {
  absl::btree_map<uint64_t, std::string> out;
  for (const auto& entry : nodes_) {
    out[entry.first] = absl::StrCat("127.0.0.1:", entry.second.client_port);
  }
  return out;
}

std::string LocalCluster::Log(uint64_t store_id) const {
  return ReadFile(nodes_.at(store_id).log_path);
}

std::string LocalCluster::AllLogs() const {
  std::string out;
  for (const auto& entry : nodes_) {
    absl::StrAppend(&out, "---- store ", entry.first, " ----\n",
                    Log(entry.first));
  }
  return out;
}

std::optional<json> LocalCluster::GetJson(uint64_t store_id,
                                          const std::string& path) {
  if (!running(store_id)) return std::nullopt;
  absl::StatusOr<std::string> body =
      HttpGet(nodes_.at(store_id).admin_port, path, 5'000);
  if (!body.ok()) return std::nullopt;
  json parsed = json::parse(*body, nullptr, false);
  if (parsed.is_discarded()) return std::nullopt;
  return parsed;
}

std::optional<json> LocalCluster::Regions(uint64_t store_id) {
  return GetJson(store_id, "/regions");
}

std::optional<json> LocalCluster::Stats(uint64_t store_id) {
  return GetJson(store_id, "/stats");
}

uint64_t LocalCluster::AppliedIndex(uint64_t store_id) {
  std::optional<json> stats = Stats(store_id);
  if (!stats.has_value() || (*stats)["raft_groups"].empty()) return 0;
  return (*stats)["raft_groups"][0]["applied_index"].get<uint64_t>();
}

uint64_t LocalCluster::LeaderStore(uint64_t region_id) {
  uint64_t leader = 0;
  uint64_t leader_term = 0;
  for (auto& entry : nodes_) {
    std::optional<json> regions = Regions(entry.first);
    if (!regions.has_value()) continue;
    for (const json& region : *regions) {
      if (region["id"] != region_id || region["raft"].is_null()) continue;
      const json& raft = region["raft"];
      if (raft["role"] == "leader" && raft["term"] >= leader_term) {
        leader = entry.first;
        leader_term = raft["term"];
      }
    }
  }
  return leader;
}

uint64_t LocalCluster::WaitForLeader(uint64_t region_id, uint64_t timeout_ms) {
  uint64_t leader = 0;
  PollUntil(
      [&] {
        leader = LeaderStore(region_id);
        return leader != 0;
      },
      timeout_ms);
  return leader;
}

bool LocalCluster::Isolate(uint64_t store_id, bool isolated) {
  const char* verb = isolated ? "/chaos/block/" : "/chaos/unblock/";
  bool ok = true;
  for (auto& entry : nodes_) {
    const uint64_t other = entry.first;
    if (other == store_id) continue;
    if (running(store_id)) {
      ok = HttpGet(nodes_.at(store_id).admin_port, absl::StrCat(verb, other))
               .ok() &&
           ok;
    }
    if (running(other)) {
      ok =
          HttpGet(entry.second.admin_port, absl::StrCat(verb, store_id)).ok() &&
          ok;
    }
  }
  return ok;
}

bool LocalCluster::WaitConverged(uint64_t region_id, uint64_t min_applied,
                                 uint64_t timeout_ms) {
  return PollUntil(
      [&] {
        std::optional<std::pair<uint64_t, uint64_t>> seen;
        for (auto& entry : nodes_) {
          if (!running(entry.first)) continue;
          std::optional<json> regions = Regions(entry.first);
          if (!regions.has_value()) return false;
          bool found = false;
          for (const json& region : *regions) {
            if (region["id"] != region_id || region["raft"].is_null()) continue;
            found = true;
            const std::pair<uint64_t, uint64_t> state{
                region["raft"]["applied_index"], region["raft"]["kv_digest"]};
            if (state.first < min_applied) return false;
            if (seen.has_value() && *seen != state) return false;
            seen = state;
          }
          if (!found) return false;
        }
        return seen.has_value();
      },
      timeout_ms);
}

}  // namespace raftstore::node_testing
