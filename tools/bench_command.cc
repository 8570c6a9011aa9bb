// `raftstore bench`: starts a local 3-node cluster of raftstore-node
// processes on free loopback ports, waits for a leader, runs closed-loop
// puts (8-byte keys, 256-byte values) through the client library over TCP
// for each client count, and prints a table: puts/s and p50/p99/p99.9
// latency, with the raw fdatasync rate of the same filesystem measured in
// the same run beside it. It prints numbers and asserts nothing about speed.
//
//   raftstore bench [--client_counts=1,16,64,256 | --clients=N]
//                   [--seconds=5] [--node_binary=PATH] [--data_dir=DIR]
//
// The nodes get SIGTERM at the end and on any error, and a temporary data
// directory is removed; a --data_dir is kept. SIGINT or SIGTERM (Ctrl-C)
// ends the run early: no new put starts, the puts in flight finish (each
// within its 10 s deadline), the row so far is printed, the nodes are
// stopped and the exit code is 1.

#include <fcntl.h>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "runtime/bench/put_load.h"
#include "tools/command.h"
#include "tools/http_get.h"

// Defined by the simulator's command (sim_command.cc); here one row.
ABSL_DECLARE_FLAG(std::optional<int>, clients);
ABSL_FLAG(std::string, client_counts, "1,16,64,256",
          "bench: concurrent clients of each row, comma-separated");
ABSL_FLAG(double, seconds, 5, "bench: seconds of load per row");
ABSL_FLAG(std::string, node_binary, "",
          "bench: the raftstore-node binary (default: beside this binary in "
          "bazel-out, or bazel-out/k8-opt/bin/runtime/raftstore-node)");
ABSL_FLAG(std::string, data_dir, "",
          "bench: an empty or missing directory for the nodes' data, kept "
          "afterwards (default: a temporary directory, removed)");

namespace raftstore::tools {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr int kNodes = 3;
constexpr uint64_t kClusterId = 1;
constexpr size_t kRowsMax = 16;
constexpr double kSecondsMax = 3600;
// Generous for a loaded machine: a node starts in well under a second and
// an election takes 1-2 s (docs/runtime.md).
constexpr uint64_t kLeaderWaitMs = 60'000;
// A graceful stop waits for the storage job in flight only.
constexpr uint64_t kStopWaitMs = 15'000;
constexpr double kSyncProbeSeconds = 2;
constexpr uint64_t kSyncProbeBytes = 256;
constexpr size_t kLogTailBytes = 2'000;
// A node answers /metrics at once; the deadline covers a loaded machine.
constexpr uint64_t kMetricsTimeoutMs = 5'000;

volatile std::sig_atomic_t g_interrupted = 0;

void OnSignal(int /*signal*/) { g_interrupted = 1; }

bool Interrupted() { return g_interrupted != 0; }

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

absl::StatusOr<std::vector<uint64_t>> ClientCounts() {
  if (std::optional<int> one = absl::GetFlag(FLAGS_clients); one.has_value()) {
    if (*one < 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("--clients=", *one, ": must be at least 1"));
    }
    return std::vector<uint64_t>{static_cast<uint64_t>(*one)};
  }
  const std::string flag = absl::GetFlag(FLAGS_client_counts);
  std::vector<uint64_t> counts;
  for (absl::string_view part : absl::StrSplit(flag, ',')) {
    uint64_t n = 0;
    if (!absl::SimpleAtoi(part, &n) || n < 1 ||
        n > runtime::bench::kPutLoadClientsMax) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--client_counts=", flag, ": '", std::string(part),
          "' is not a number from 1 to ", runtime::bench::kPutLoadClientsMax));
    }
    counts.push_back(n);
  }
  if (counts.size() > kRowsMax) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--client_counts=", flag, ": more than ", kRowsMax, " rows"));
  }
  return counts;
}

bool IsExecutable(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
         ::access(path.c_str(), X_OK) == 0;
}

// The flag, else raftstore-node beside this binary in bazel-out
// (bin/tools/raftstore -> bin/runtime/raftstore-node), else the cwd's
// bazel-out/k8-opt/bin/runtime/raftstore-node.
absl::StatusOr<std::string> FindNodeBinary() {
  const std::string flag = absl::GetFlag(FLAGS_node_binary);
  if (!flag.empty()) {
    if (IsExecutable(flag)) return flag;
    return absl::InvalidArgumentError(
        absl::StrCat("--node_binary=", flag, ": not an executable file"));
  }
  std::vector<std::string> tried;
  std::error_code error;
  const fs::path self = fs::read_symlink("/proc/self/exe", error);
  if (!error) {
    tried.push_back(
        (self.parent_path().parent_path() / "runtime" / "raftstore-node")
            .string());
    tried.push_back((self.parent_path() / "raftstore-node").string());
  }
  tried.emplace_back("bazel-out/k8-opt/bin/runtime/raftstore-node");
  for (const std::string& path : tried) {
    if (IsExecutable(path)) return path;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "cannot find the raftstore-node binary (tried ",
      absl::StrJoin(tried, ", "),
      "); build it with `bazel build //runtime:raftstore-node` or pass "
      "--node_binary=PATH"));
}

// `n` distinct loopback ports that were free a moment ago: each is bound
// to port 0 and kept open until all are picked, then closed.
absl::StatusOr<std::vector<int>> PickFreePorts(int n) {
  std::vector<int> fds;
  std::vector<int> ports;
  absl::Status status;
  for (int i = 0; i < n && status.ok(); ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (fd < 0 ||
        ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      status = absl::UnavailableError(
          absl::StrCat("picking a free loopback port: ", std::strerror(errno)));
    } else {
      ports.push_back(ntohs(addr.sin_port));
    }
    if (fd >= 0) fds.push_back(fd);
  }
  for (int fd : fds) ::close(fd);
  if (!status.ok()) return status;
  return ports;
}

struct SyncRate {
  int writers = 1;
  uint64_t syncs = 0;  // over all writers
  double seconds = 0;
  // Per writer.
  double per_s() const {
    return seconds > 0 ? static_cast<double>(syncs) / seconds / writers : 0;
  }
};

// One writer: appends 256 bytes and fdatasyncs, in a loop, for `seconds`.
// The probe file is removed afterwards.
absl::Status SyncLoop(const std::string& path, double seconds,
                      uint64_t* syncs) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) {
    return absl::UnavailableError(
        absl::StrCat(path, ": open: ", std::strerror(errno)));
  }
  const std::string block(kSyncProbeBytes, 'x');
  absl::Status status;
  const Clock::time_point start = Clock::now();
  while (SecondsSince(start) < seconds && !Interrupted()) {
    if (::write(fd, block.data(), block.size()) !=
            static_cast<ssize_t>(block.size()) ||
        ::fdatasync(fd) != 0) {
      status = absl::UnavailableError(
          absl::StrCat(path, ": write + fdatasync at offset ",
                       *syncs * block.size(), ": ", std::strerror(errno)));
      break;
    }
    ++*syncs;
  }
  ::close(fd);
  ::unlink(path.c_str());
  return status;
}

// `writers` threads, each with its own file in `dir`, run SyncLoop at
// once: the raw rate a WAL on this filesystem could sync at, alone (1) or
// beside the other nodes' WALs (kNodes).
absl::StatusOr<SyncRate> MeasureFdatasync(const fs::path& dir, int writers,
                                          double seconds) {
  std::vector<uint64_t> syncs(static_cast<size_t>(writers), 0);
  std::vector<absl::Status> statuses(static_cast<size_t>(writers));
  std::vector<std::thread> threads;
  const Clock::time_point start = Clock::now();
  for (size_t i = 0; i < syncs.size(); ++i) {
    threads.emplace_back([&, i] {
      statuses[i] =
          SyncLoop((dir / absl::StrCat("fdatasync-probe-", i)).string(),
                   seconds, &syncs[i]);
    });
  }
  for (std::thread& thread : threads) thread.join();
  SyncRate rate;
  rate.writers = writers;
  rate.seconds = SecondsSince(start);
  for (size_t i = 0; i < syncs.size(); ++i) {
    if (!statuses[i].ok()) return statuses[i];
    rate.syncs += syncs[i];
  }
  return rate;
}

// The value of Prometheus series `name` in `text` (nullopt if absent).
std::optional<uint64_t> MetricValue(const std::string& text,
                                    const std::string& name) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    std::vector<absl::string_view> parts = absl::StrSplit(line, ' ');
    uint64_t value = 0;
    if (parts.size() == 2 && parts[0] == name &&
        absl::SimpleAtoi(parts[1], &value)) {
      return value;
    }
  }
  return std::nullopt;
}

std::string LogTail(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string text = buffer.str();
  if (text.size() > kLogTailBytes) {
    text = "..." + text.substr(text.size() - kLogTailBytes);
  }
  return text;
}

// Three raftstore-node processes on loopback; the destructor stops them
// (SIGTERM, then SIGKILL past kStopWaitMs) and removes a temporary root.
class BenchCluster {
 public:
  struct Node {
    int raft_port = 0;
    int client_port = 0;
    int admin_port = 0;
    std::string data_dir;
    std::string log_path;
    pid_t pid = -1;
    std::optional<int> exit_status;  // once reaped
  };

  BenchCluster(std::string binary, fs::path root, bool remove_root)
      : binary_(std::move(binary)),
        root_(std::move(root)),
        remove_root_(remove_root) {}
  BenchCluster(const BenchCluster&) = delete;
  BenchCluster& operator=(const BenchCluster&) = delete;
  ~BenchCluster() {
    Stop();
    if (remove_root_) {
      std::error_code error;
      fs::remove_all(root_, error);
      if (error) {
        std::cerr << "bench: cannot remove " << root_.string() << ": "
                  << error.message() << "\n";
      }
    }
  }

  const fs::path& root() const { return root_; }

  absl::Status Start();
  // A put round trip: a leader is elected and commits.
  absl::Status WaitForLeader();
  // Stops every node still running; false if one had to be killed or did
  // not exit 0.
  bool Stop();
  // A node that exited while it should serve, described with its log.
  absl::Status CheckRunning();

  // WAL syncs since start, summed over the nodes (nullopt if a node did
  // not answer).
  std::optional<uint64_t> SyncsTotal() const {
    uint64_t total = 0;
    for (const auto& entry : nodes_) {
      absl::StatusOr<std::string> metrics =
          HttpGet(absl::StrCat("127.0.0.1:", entry.second.admin_port),
                  "/metrics", kMetricsTimeoutMs);
      if (!metrics.ok()) return std::nullopt;
      std::optional<uint64_t> syncs =
          MetricValue(*metrics, "raftstore_wal_syncs_total");
      if (!syncs.has_value()) return std::nullopt;
      total += *syncs;
    }
    return total;
  }

  absl::btree_map<uint64_t, std::string> ClientAddresses() const {
    absl::btree_map<uint64_t, std::string> out;
    for (const auto& entry : nodes_) {
      out[entry.first] = absl::StrCat("127.0.0.1:", entry.second.client_port);
    }
    return out;
  }

 private:
  absl::Status Spawn(uint64_t store_id, Node& node, const std::string& peers);
  // Reaps the node if it ended; true if it still runs.
  static bool Alive(Node& node);

  std::string binary_;
  fs::path root_;
  bool remove_root_;
  absl::btree_map<uint64_t, Node> nodes_;
};

absl::Status BenchCluster::Start() {
  absl::StatusOr<std::vector<int>> ports = PickFreePorts(3 * kNodes);
  if (!ports.ok()) return ports.status();
  std::vector<std::string> peers;
  for (uint64_t id = 1; id <= kNodes; ++id) {
    Node& node = nodes_[id];
    const size_t base = 3 * (id - 1);
    node.raft_port = (*ports)[base];
    node.client_port = (*ports)[base + 1];
    node.admin_port = (*ports)[base + 2];
    node.data_dir = (root_ / absl::StrCat("node", id)).string();
    node.log_path = (root_ / absl::StrCat("node", id, ".log")).string();
    peers.push_back(absl::StrCat(id, "=127.0.0.1:", node.raft_port));
  }
  const std::string peer_list = absl::StrJoin(peers, ",");
  for (auto& [id, node] : nodes_) {
    if (absl::Status s = Spawn(id, node, peer_list); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status BenchCluster::Spawn(uint64_t store_id, Node& node,
                                 const std::string& peers) {
  const std::vector<std::string> args = {
      binary_,
      "--cluster-id",
      absl::StrCat(kClusterId),
      "--store-id",
      absl::StrCat(store_id),
      "--data-dir",
      node.data_dir,
      "--peers",
      peers,
      "--client-listen",
      absl::StrCat("127.0.0.1:", node.client_port),
      "--admin-listen",
      absl::StrCat("127.0.0.1:", node.admin_port),
      "--bootstrap"};
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (const std::string& arg : args)
    argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, node.log_path.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  const int error = ::posix_spawn(&node.pid, binary_.c_str(), &actions, nullptr,
                                  argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (error != 0) {
    node.pid = -1;
    return absl::UnavailableError(absl::StrCat("starting ", binary_, " (store ",
                                               store_id,
                                               "): ", std::strerror(error)));
  }
  return absl::OkStatus();
}

bool BenchCluster::Alive(Node& node) {
  if (node.pid <= 0 || node.exit_status.has_value()) return false;
  int status = 0;
  if (::waitpid(node.pid, &status, WNOHANG) != node.pid) return true;
  node.exit_status =
      WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return false;
}

absl::Status BenchCluster::CheckRunning() {
  for (auto& [id, node] : nodes_) {
    if (!Alive(node)) {
      return absl::UnavailableError(
          absl::StrCat("raftstore-node store ", id, " exited with status ",
                       node.exit_status.value_or(-1), "; its log (",
                       node.log_path, "):\n", LogTail(node.log_path)));
    }
  }
  return absl::OkStatus();
}

absl::Status BenchCluster::WaitForLeader() {
  runtime::bench::PutLoadOptions options;
  options.cluster_id = kClusterId;
  options.stores = ClientAddresses();
  options.attempt_timeout_ms = 500;
  options.should_stop = Interrupted;
  const Clock::time_point start = Clock::now();
  absl::Status last;
  // Short rounds, so a node that exits (a port taken, say) is noticed.
  while (SecondsSince(start) * 1'000 < kLeaderWaitMs) {
    if (absl::Status s = CheckRunning(); !s.ok()) return s;
    if (Interrupted()) return absl::CancelledError("interrupted");
    last = runtime::bench::PutUntilAcknowledged(options, "bench-ready", "1",
                                                2'000);
    if (last.ok()) return last;
  }
  return absl::DeadlineExceededError(
      absl::StrCat("no leader answered a put within ", kLeaderWaitMs, " ms (",
                   last.message(), "); logs under ", root_.string()));
}

bool BenchCluster::Stop() {
  bool clean = true;
  for (auto& entry : nodes_) {
    if (Alive(entry.second)) ::kill(entry.second.pid, SIGTERM);
  }
  const Clock::time_point start = Clock::now();
  for (auto& [id, node] : nodes_) {
    if (node.pid <= 0) continue;
    while (Alive(node) && SecondsSince(start) * 1'000 < kStopWaitMs) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (Alive(node)) {
      std::cerr << "bench: store " << id << " ignored SIGTERM; killing it\n";
      ::kill(node.pid, SIGKILL);
      int status = 0;
      ::waitpid(node.pid, &status, 0);
      node.exit_status = 128 + SIGKILL;
    }
    if (node.exit_status != 0) {
      std::cerr << "bench: store " << id << " exited with status "
                << node.exit_status.value_or(-1) << " (log " << node.log_path
                << ")\n";
      clean = false;
    }
    node.pid = -1;
  }
  return clean;
}

// The data root: --data_dir (created if missing, refused if not empty) or
// a fresh temporary directory. Sets `temporary`.
absl::StatusOr<fs::path> MakeRoot(bool& temporary) {
  const std::string flag = absl::GetFlag(FLAGS_data_dir);
  std::error_code error;
  if (!flag.empty()) {
    temporary = false;
    fs::create_directories(flag, error);
    if (error || !fs::is_directory(flag)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--data_dir=", flag, ": cannot create the directory: ",
                       error ? error.message() : "not a directory"));
    }
    if (!fs::is_empty(flag, error)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--data_dir=", flag,
                       ": holds files; give an empty or missing "
                       "directory (the bench bootstraps a fresh cluster)"));
    }
    return fs::path(flag);
  }
  temporary = true;
  std::string pattern =
      (fs::temp_directory_path(error) / "raftstore-bench-XXXXXX").string();
  if (error || ::mkdtemp(pattern.data()) == nullptr) {
    return absl::UnavailableError(
        absl::StrCat("creating a temporary directory ", pattern, ": ",
                     error ? error.message() : std::strerror(errno)));
  }
  return fs::path(pattern);
}

// Each client may hold a connection to every node.
void RaiseDescriptorLimit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 &&
      limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
}

// The raw fdatasync rates: one writer alone, and kNodes writers at once
// (as the nodes' WALs sync beside each other).
struct Probes {
  SyncRate alone;
  SyncRate together;
};

absl::StatusOr<Probes> MeasureProbes(const fs::path& dir) {
  Probes probes;
  absl::StatusOr<SyncRate> alone = MeasureFdatasync(dir, 1, kSyncProbeSeconds);
  if (!alone.ok()) return alone.status();
  probes.alone = *alone;
  absl::StatusOr<SyncRate> together =
      MeasureFdatasync(dir, kNodes, kSyncProbeSeconds);
  if (!together.ok()) return together.status();
  probes.together = *together;
  return probes;
}

void PrintHeader(const fs::path& root, const Probes& probes, double seconds) {
  std::cout << absl::StrFormat(
      "raftstore bench: %d raftstore-node processes on loopback, data in %s\n"
      "closed-loop puts of 8-byte keys and 256-byte values, %.1f s per row\n"
      "raw fdatasync on the same filesystem (%d-byte append + fdatasync, "
      "before the nodes start): %.0f/s with one writer; %.0f/s each with "
      "%d writers at once\n\n",
      kNodes, root.string(), seconds, kSyncProbeBytes, probes.alone.per_s(),
      probes.together.per_s(), kNodes);
  std::cout << absl::StrFormat(
      "%7s %9s %8s %8s %9s %15s %10s %10s\n", "clients", "puts/s", "p50 ms",
      "p99 ms", "p99.9 ms", "failed/unknown", "puts/sync", "puts/raw");
}

// `syncs`: WAL syncs of all nodes during the row, if known.
void PrintRow(uint64_t clients, const runtime::bench::PutLoadResult& r,
              std::optional<uint64_t> syncs, const Probes& probes) {
  const double per_raw =
      probes.alone.per_s() > 0 ? r.ok_per_s() / probes.alone.per_s() : 0;
  const std::string per_sync =
      syncs.has_value() && *syncs > 0
          ? absl::StrFormat("%.1f", static_cast<double>(r.ok) * kNodes /
                                        static_cast<double>(*syncs))
          : "-";
  std::cout << absl::StrFormat(
      "%7d %9.0f %8.2f %8.2f %9.2f %15s %10s %10.1f\n", clients, r.ok_per_s(),
      static_cast<double>(r.p50_us) / 1e3, static_cast<double>(r.p99_us) / 1e3,
      static_cast<double>(r.p999_us) / 1e3,
      absl::StrCat(r.failed, "/", r.unknown), per_sync, per_raw);
  std::cout.flush();
  if (!r.first_error.empty()) {
    std::cerr << "bench: " << clients
              << " clients: first not-ok put: " << r.first_error << "\n";
  }
}

// The rows, on a running cluster. kExitProblem if a node died.
int RunRows(BenchCluster& cluster, const std::vector<uint64_t>& counts,
            double seconds, const Probes& probes) {
  PrintHeader(cluster.root(), probes, seconds);
  uint64_t seed = 1;
  for (uint64_t clients : counts) {
    runtime::bench::PutLoadOptions options;
    options.cluster_id = kClusterId;
    options.stores = cluster.ClientAddresses();
    options.clients = clients;
    options.duration_ms = static_cast<uint64_t>(seconds * 1'000);
    options.seed = seed++;
    options.should_stop = Interrupted;
    const std::optional<uint64_t> syncs_before = cluster.SyncsTotal();
    absl::StatusOr<runtime::bench::PutLoadResult> result =
        runtime::bench::RunPutLoad(options);
    if (!result.ok()) {
      std::cerr << "bench: " << result.status().message() << "\n";
      return kExitUsage;
    }
    const std::optional<uint64_t> syncs_after = cluster.SyncsTotal();
    std::optional<uint64_t> syncs;
    if (syncs_before.has_value() && syncs_after.has_value()) {
      syncs = *syncs_after - *syncs_before;
    }
    PrintRow(clients, *result, syncs, probes);
    // First: a Ctrl-C at a terminal reaches the nodes too (one process
    // group), and their exit is then no failure of theirs.
    if (Interrupted()) {
      std::cerr << "bench: interrupted; stopping the cluster\n";
      return kExitProblem;
    }
    if (absl::Status s = cluster.CheckRunning(); !s.ok()) {
      std::cerr << "bench: " << s.message() << "\n";
      return kExitProblem;
    }
  }
  std::cout << "\nputs/sync: acknowledged puts per WAL fdatasync, per node "
               "(group commit; from the nodes' raftstore_wal_syncs_total)\n"
               "puts/raw: puts/s divided by the one-writer raw fdatasync "
               "rate\n";
  return kExitOk;
}

}  // namespace

int RunBench(const std::vector<std::string>& args) {
  if (!args.empty()) {
    std::cerr << "bench: unexpected argument '" << args[0] << "'\n";
    return kExitUsage;
  }
  const double seconds = absl::GetFlag(FLAGS_seconds);
  absl::StatusOr<std::vector<uint64_t>> counts = ClientCounts();
  absl::StatusOr<std::string> binary = FindNodeBinary();
  for (const absl::Status& s : {counts.status(), binary.status()}) {
    if (!s.ok()) {
      std::cerr << "bench: " << s.message() << "\n";
      return kExitUsage;
    }
  }
  if (!(seconds > 0 && seconds <= kSecondsMax)) {
    std::cerr << "bench: --seconds=" << seconds << ": must be in (0, "
              << kSecondsMax << "]\n";
    return kExitUsage;
  }
  // Before anything is created, so that a Ctrl-C from here on cleans up;
  // a previous run in this process (a test) must not leave it set.
  g_interrupted = 0;
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  bool temporary = false;
  absl::StatusOr<fs::path> root = MakeRoot(temporary);
  if (!root.ok()) {
    std::cerr << "bench: " << root.status().message() << "\n";
    return root.status().code() == absl::StatusCode::kInvalidArgument
               ? kExitUsage
               : kExitProblem;
  }
  RaiseDescriptorLimit();
  // Before the nodes start, so nothing else syncs on this filesystem.
  absl::StatusOr<Probes> probes = MeasureProbes(*root);
  BenchCluster cluster(*binary, *root, temporary);
  absl::Status started = probes.status();
  if (started.ok() && Interrupted()) {
    started = absl::CancelledError("interrupted before the nodes started");
  }
  if (started.ok()) started = cluster.Start();
  if (started.ok()) started = cluster.WaitForLeader();
  int code = kExitOk;
  if (!started.ok()) {
    std::cerr << "bench: " << started.message() << "\n";
    code = kExitProblem;
  } else {
    code = RunRows(cluster, *counts, seconds, *probes);
  }
  if (!cluster.Stop() && code == kExitOk) code = kExitProblem;
  return code;
}

}  // namespace raftstore::tools
