// Helpers of the multi-process tests: raftstore-node processes on loopback
// with ephemeral ports and temporary data directories, a blocking HTTP GET
// for their admin endpoints, and a local cluster of them that can kill -9,
// SIGTERM and restart any node.
//
// Every wait polls with a growing interval up to a generous deadline (the
// machine may be loaded); nothing sleeps a fixed time and then asserts.
//
// Thread-safety: none; one test thread.
#ifndef RAFTSTORE_TESTS_NODE_NODE_PROCESS_H_
#define RAFTSTORE_TESTS_NODE_NODE_PROCESS_H_

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace raftstore::node_testing {

// Generous bounds for a loaded 2-core machine; a passing run waits far less.
inline constexpr uint64_t kStartMsMax = 60'000;
inline constexpr uint64_t kLeaderMsMax = 60'000;

// The raftstore-node binary in the test's runfiles.
std::string NodeBinary();
// A fresh directory under TEST_TMPDIR named after `name` (removed first).
std::string FreshDir(const std::string& name);
// A port that was free a moment ago (bound to 0, then closed).
int PickFreePort();
// Polls `done` every few milliseconds (growing to 100 ms) until it holds or
// `timeout_ms` passes; returns done().
bool PollUntil(const std::function<bool()>& done, uint64_t timeout_ms);
std::string ReadFile(const std::string& path);

// GET http://127.0.0.1:port/path; the body of a 200 answer, else an error
// naming the status line or the socket failure.
absl::StatusOr<std::string> HttpGet(int port, const std::string& path,
                                    uint64_t timeout_ms = 10'000);

// Connects to 127.0.0.1:port, writes `bytes`, and returns everything read
// until the peer closes (or timeout_ms passes without a byte).
std::string RawExchange(int port, const std::string& bytes,
                        uint64_t timeout_ms = 10'000);

// One child process, stdout and stderr appended to a log file.
class Process {
 public:
  Process() = default;
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  // kill -9 and reap, if still running.
  ~Process();

  // Starts `binary args...`. Returns false (with a test failure) if the
  // spawn failed.
  bool Start(const std::string& binary, const std::vector<std::string>& args,
             const std::string& log_path);
  void Signal(int signal);
  // The exit status once the process ended: its exit code, or 128 + the
  // signal that killed it. nullopt while it runs.
  std::optional<int> Poll();
  // Waits up to timeout_ms for the end; nullopt if it still runs.
  std::optional<int> Wait(uint64_t timeout_ms);
  bool running() { return pid_ > 0 && !Poll().has_value(); }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
};

// Runs `binary args...` to its end (bounded by timeout_ms); the exit status
// as Process::Poll gives it and everything it printed.
struct RunResult {
  int exit_code = -1;
  std::string output;
};
RunResult RunToEnd(const std::vector<std::string>& args,
                   uint64_t timeout_ms = 60'000);

// A cluster of raftstore-node processes on loopback.
class LocalCluster {
 public:
  struct Node {
    uint64_t store_id = 0;
    int raft_port = 0;
    int client_port = 0;
    int admin_port = 0;
    std::string data_dir;
    std::string log_path;
    // Nonzero: the node starts under `ulimit -f` of this many 512-byte
    // blocks (writes past it fail with EFBIG: a full disk for one process).
    uint64_t file_size_blocks = 0;
    std::unique_ptr<Process> process;
  };

  // `nodes` stores 1..nodes, ports picked now, data under FreshDir(name).
  LocalCluster(const std::string& name, int nodes, uint64_t tick_ms = 25);
  ~LocalCluster();

  // The flags node i starts with (bootstrap on first start).
  std::vector<std::string> Args(uint64_t store_id) const;
  // Starts node `store_id` (which must be down) and waits until its admin
  // endpoint answers; false (with the node's log in the failure) if it
  // exits or does not answer in kStartMsMax.
  bool Start(uint64_t store_id);
  bool StartAll();
  // kill -9, reaped.
  void Kill(uint64_t store_id);
  // SIGTERM; the exit status (nullopt if it did not end in time).
  std::optional<int> Terminate(uint64_t store_id);
  bool running(uint64_t store_id);

  Node& node(uint64_t store_id) { return nodes_.at(store_id); }
  int size() const { return static_cast<int>(nodes_.size()); }
  uint64_t cluster_id() const { return cluster_id_; }
  // store id -> "127.0.0.1:client_port".
  absl::btree_map<uint64_t, std::string> ClientAddresses() const;
  // The node's log so far.
  std::string Log(uint64_t store_id) const;
  std::string AllLogs() const;

  // GET /regions of a running node, parsed (nullopt on any failure).
  std::optional<nlohmann::json> Regions(uint64_t store_id);
  std::optional<nlohmann::json> Stats(uint64_t store_id);
  // The applied index of the node's first raft group, from /stats; 0 if
  // the node does not answer or has no group.
  uint64_t AppliedIndex(uint64_t store_id);
  // The store whose peer leads `region_id`, by asking every running node;
  // 0 if none says so.
  uint64_t LeaderStore(uint64_t region_id = 1);
  // Waits until some running node leads region_id; its store, or 0.
  uint64_t WaitForLeader(uint64_t region_id = 1,
                         uint64_t timeout_ms = kLeaderMsMax);
  // Cuts store_id off from every other store (both sides drop every raft
  // batch between them: --chaos-endpoints), or heals it. False if a node
  // did not answer.
  bool Isolate(uint64_t store_id, bool isolated);
  // Waits until every running node reports the same applied index and
  // state digest for region_id, at or above min_applied; false on timeout.
  bool WaitConverged(uint64_t region_id, uint64_t min_applied,
                     uint64_t timeout_ms);

 private:
  // GET `path` of a running node's admin endpoint, parsed as JSON.
  std::optional<nlohmann::json> GetJson(uint64_t store_id,
                                        const std::string& path);

  std::string name_;
  uint64_t cluster_id_ = 0;
  uint64_t tick_ms_ = 25;
  std::string root_;
  absl::btree_map<uint64_t, Node> nodes_;
};

}  // namespace raftstore::node_testing

#endif  // RAFTSTORE_TESTS_NODE_NODE_PROCESS_H_
