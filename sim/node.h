// One simulated server process: a raft replica of the simulated group that
// applies KV commands (core/kv), persists through the storage engine's WAL
// (core/storage/wal) on its own SimDisk, and talks through the SimNetwork.
//
// The process can crash (kill -9: its memory is gone and its SimDisk decides
// what unsynced data survives), restart (recovering from the WAL alone),
// pause (SIGSTOP: nothing runs, messages wait) and fail-stop on a storage
// error (a failed fsync is never retried: the process exits and a
// supervisor restarts it). The disk outlives every incarnation.
//
// The Ready loop follows the ordering duties of core/raft/raw_node.h: the
// leader's appends and heartbeats leave before its write (thesis 10.2.1),
// every other message after; committed entries are applied while the write
// is in flight (duty 3); one write (WAL append + fdatasync, with the
// SimDisk's drawn latency) is in flight at a time, and the next Ready waits
// for it. Client writes are proposed as core/kv Commands under the client's
// session; a write is answered when its index is applied (with the state
// machine's result) or lost (the index was taken by another term's entry:
// NotLeader, the attempt certainly did not apply). Reads go through
// ReadIndex (or the lease) and are answered once applied reaches the read
// index; a leader that steps down fails its waiting reads.
//
// Thread-safety: none; the simulator is single-threaded.
#ifndef RAFTSTORE_SIM_NODE_H_
#define RAFTSTORE_SIM_NODE_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/functional/any_invocable.h"
#include "core/base/rng.h"
#include "core/kv/kv_state_machine.h"
#include "core/raft/log/memory_storage.h"
#include "core/raft/raw_node.h"
#include "core/storage/wal/wal.h"
#include "proto/kvrpc.pb.h"
#include "sim/disk.h"
#include "sim/event_queue.h"
#include "sim/network/payload.h"
#include "sim/options.h"
#include "sim/raft_checker.h"
#include "sim/trace.h"

namespace raftstore::sim {

// The single raft group the simulator drives (region 1).
inline constexpr uint64_t kGroupId = 1;

// Counters for the summary line.
struct NodeStats {
  uint64_t crashes = 0;
  uint64_t restarts = 0;
  uint64_t fail_stops = 0;
  uint64_t pauses = 0;
  uint64_t garbage_messages = 0;
  uint64_t proposals = 0;
  uint64_t reads_served = 0;
  uint64_t syncs = 0;
};

class SimNode {
 public:
  // Sends `payload` to network endpoint `to` (0-based: raft node k is
  // endpoint k-1, client i is endpoint node_count + i). Raft messages go as
  // raft::Message objects, client replies as kv::KvResponse objects
  // (sim/network/payload.h).
  using SendFn = absl::AnyInvocable<void(int to, Payload&& payload)>;
  // Told when the process comes up (true) or goes down (false), however
  // that happens (a fault, a fail-stop, its supervisor).
  using UpFn = absl::AnyInvocable<void(bool up)>;

  // `id` is 1-based. Every pointer must outlive the node. The node is down
  // until Start().
  SimNode(uint64_t id, const SimOptions* options, EventQueue* events,
          RaftChecker* checker, Trace* trace, Rng rng, SendFn send, UpFn on_up);

  // Starts (or restarts) the process from its disk. Returns false when the
  // disk cannot be recovered now: for good (kDataLoss: detected corruption,
  // the node stays down and disk_lost() turns true) or for a while (another
  // error: a later Start may succeed).
  bool Start();
  // kill -9: the process's memory is lost; the disk keeps what it keeps.
  void Crash();
  // SIGSTOP until `until_us`: ticks, deliveries and disk completions wait.
  void Pause(uint64_t until_us);
  // SIGCONT: ends a pause now.
  void Resume();
  // Disk writes take kSlowDiskFactor times longer until `until_us`.
  void SlowDisk(uint64_t until_us) { slow_disk_until_us_ = until_us; }
  static constexpr uint64_t kSlowDiskFactor = 10;

  // A message from endpoint `from`: from a node, a raft::Message; from a
  // client, a kv::KvRequest; either as an object or as its bytes.
  // Undecodable bytes and misaddressed messages are counted as garbage and
  // ignored.
  void Receive(int from, Payload&& payload);

  bool up() const { return raw_ != nullptr; }
  bool paused() const { return up() && paused_until_us_ > events_->now_us(); }
  bool disk_lost() const { return disk_lost_; }
  bool IsLeader() const;
  uint64_t term() const;
  uint64_t applied_index() const { return up() ? kv_->applied_index() : 0; }
  uint64_t commit_index() const;
  uint64_t kv_digest() const { return kv_->Digest(); }
  uint64_t id() const { return id_; }
  SimDisk& disk() { return disk_; }
  const NodeStats& stats() const { return stats_; }
  // Whether the node is up, not paused, and has nothing in flight.
  bool idle() const;

#ifdef RAFTSTORE_INJECTED_BUGS
  // Test builds only (tests/sim_bugs): behave wrongly on purpose. Takes
  // effect at the next Start().
  void set_injected_bug(raft::InjectedBug bug) { injected_bug_ = bug; }
#endif

 private:
  struct PendingWrite {
    uint64_t term = 0;
    int endpoint = 0;
    uint64_t request_id = 0;
    kv::KvRequest::RequestCase kind = kv::KvRequest::REQUEST_NOT_SET;
  };
  struct PendingRead {
    int endpoint = 0;
    kv::KvRequest request;
    uint64_t since_us = 0;
    // Set once a ReadState arrives.
    uint64_t read_index = 0;
    bool ready = false;
  };

  raft::Config MakeConfig(uint64_t applied) const;
  void ScheduleTick();
  void OnTick(uint64_t incarnation);
  void OnResume(uint64_t incarnation);
  // Runs `action` now, or when the pause ends (in order).
  void WhenRunning(uint64_t incarnation, absl::AnyInvocable<void()> action);
  void HandleReadies();
  // Completes the write in flight (write_ready_, write_batch_,
  // write_held_).
  void FinishWrite(uint64_t incarnation);
  void FailStop(const std::string& why);
  void OnSoftState(const raft::SoftState& soft);
  void Apply(std::vector<raft::Entry>& entries);
  void ApplyOne(const raft::Entry& entry);
  // A Ready's messages, shared by every payload that carries one of them:
  // one allocation per Ready and no copy or move per message.
  using MessageBatch = std::shared_ptr<std::vector<raft::Message>>;
  // Sends (*batch)[index].
  void SendRaft(const MessageBatch& batch, size_t index);
  // Handles a message now (the process is running).
  void Handle(int from, const Payload& payload);
  void OnRaftMessage(int from, const raft::Message& message);
  void OnClientRequest(int from, const kv::KvRequest& request);
  void ProposeWrite(int from, const kv::KvRequest& request);
  void StartRead(int from, const kv::KvRequest& request);
  void ServeReads();
  void PurgeStaleReads();
  void Reply(int endpoint, kv::KvResponse response);
  void ReplyError(int endpoint, const kv::KvRequest& request, kv::Error error);
  void ReplyResult(const PendingWrite& pending,
                   const command::CommandResult& result);

  uint64_t id_;
  const SimOptions* options_;
  EventQueue* events_;
  RaftChecker* checker_;
  Trace* trace_;
  Rng rng_;
  SendFn send_;
  UpFn on_up_;
  SimDisk disk_;
  uint64_t tick_interval_us_;
  uint64_t slow_disk_until_us_ = 0;

  // The process's memory: all of it is lost on a crash.
  uint64_t incarnation_ = 0;
  std::unique_ptr<storage::Wal> wal_;
  std::unique_ptr<raft::MemoryStorage> storage_;
  std::unique_ptr<kv::KvStateMachine> kv_;
  std::unique_ptr<Rng> raft_rng_;
  std::unique_ptr<raft::RawNode> raw_;
  uint64_t ticks_ = 0;
  uint64_t paused_until_us_ = 0;
  std::deque<absl::AnyInvocable<void()>> deferred_;
  bool write_in_flight_ = false;
  // The Ready whose write is in flight, its messages, and the indexes of
  // those that leave once it is durable (one write in flight at a time).
  raft::Ready write_ready_;
  MessageBatch write_batch_;
  std::vector<uint32_t> write_held_;
  bool was_leader_ = false;
  absl::btree_map<uint64_t, PendingWrite> pending_writes_;
  absl::btree_map<std::string, PendingRead> pending_reads_;
  uint64_t next_read_ = 0;

  bool disk_lost_ = false;
  NodeStats stats_;
#ifdef RAFTSTORE_INJECTED_BUGS
  raft::InjectedBug injected_bug_ = raft::InjectedBug::kNone;
#endif
};

}  // namespace raftstore::sim

#endif  // RAFTSTORE_SIM_NODE_H_
