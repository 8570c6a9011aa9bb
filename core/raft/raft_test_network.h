// An in-memory network of RawNodes for tests: each node has a
// MemoryStorage that its Readys are persisted to, a state machine that
// records the entries it applies (and applies conf changes), and the
// network routes messages between nodes in FIFO order, with faults (drop
// by filter, isolate a node, cut a link).
//
// The driver loop here follows the ordering duties of Ready exactly:
// persist, then queue messages, then apply, then Advance. Everything is
// deterministic: nodes are visited in id order, messages delivered in the
// order sent, and every node's Rng is forked from the network's seed.
//
// Cluster-level invariants are checked as the network runs: at most one
// leader per term (paper §5.2, Election Safety) and every node applying a
// prefix of the same sequence of entries (State Machine Safety).
//
// Thread-safety: none. Test only.
#ifndef RAFTSTORE_CORE_RAFT_RAFT_TEST_NETWORK_H_
#define RAFTSTORE_CORE_RAFT_RAFT_TEST_NETWORK_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "core/base/rng.h"
#include "core/raft/log/memory_storage.h"
#include "core/raft/raft.h"
#include "core/raft/raw_node.h"
#include "proto/raft.pb.h"

namespace raftstore::raft::testing {

// A Config with the test defaults: small bounds, election_tick 10,
// heartbeat_tick 1. id and storage are filled in by the network.
Config DefaultTestConfig();

class TestNetwork {
 public:
  // Changes a node's Config before the node is created (after id and
  // storage are set).
  using Configure = std::function<void(Config&)>;
  // Returns true to drop a message.
  using DropFilter = std::function<bool(const Message&)>;

  // A group whose members are bootstrapped with a ConfState of `voters` and
  // `learners` (an index-0 snapshot, as a new group starts).
  TestNetwork(std::vector<uint64_t> voters, std::vector<uint64_t> learners = {},
              Configure configure = nullptr, uint64_t seed = 1);

  // Adds a node with an empty storage and configuration: it learns the
  // group from the leader (a snapshot) after a conf change adds it.
  void AddEmptyNode(uint64_t id);

  // Crashes and restarts `id`: whatever its last Readys did not persist is
  // lost, and it restarts from its storage with the applied index it had.
  void Restart(uint64_t id);

  RawNode& node(uint64_t id);
  const Raft& raft(uint64_t id) { return node(id).raft(); }
  MemoryStorage& storage(uint64_t id);
  std::vector<uint64_t> ids() const;

  // --- Faults ---------------------------------------------------------
  // Drops every message to and from `id`.
  void Isolate(uint64_t id);
  // Drops messages between a and b, both ways.
  void Cut(uint64_t a, uint64_t b);
  // Drops the messages the filter selects (replacing any previous filter).
  void SetDropFilter(DropFilter filter) { drop_filter_ = std::move(filter); }
  // Whether the network reports each snapshot message to its sender with
  // ReportSnapshot: success once delivered, failure if dropped (default
  // true, as a driver would). Off, the test reports by hand.
  void set_report_snapshots(bool report) { report_snapshots_ = report; }
  // Removes every isolation, cut and filter.
  void Heal();

  // --- Running --------------------------------------------------------
  // Handles every node's Readys (persist, queue messages, apply, Advance).
  void ProcessReadies();
  // Delivers the messages queued now (not those their delivery produces).
  // Returns how many were delivered.
  size_t DeliverQueued();
  // Alternates the two until no node has a Ready and no message is queued.
  void Stabilize();
  void Tick(uint64_t id, int ticks = 1);
  void TickAll(int ticks = 1);
  // Campaign on `id`, then Stabilize().
  void Campaign(uint64_t id);
  // Proposes `data` at `id`, then Stabilize().
  ProposeResult Propose(uint64_t id, std::string data);
  // Proposes `change` at `id`, then Stabilize().
  ProposeResult ProposeConfChange(uint64_t id, const ConfChange& change);

  // --- Observations ---------------------------------------------------
  // The entries each node applied, in order (from snapshots: see
  // applied_index()).
  const std::vector<Entry>& applied(uint64_t id);
  // The non-empty NORMAL payloads applied by `id`, in order.
  std::vector<std::string> AppliedData(uint64_t id);
  uint64_t applied_index(uint64_t id);
  const ConfState& conf_state(uint64_t id);
  std::vector<ReadState>& read_states(uint64_t id);
  // Every message queued so far (before faults), in order, to inspect.
  std::vector<Message>& sent() { return sent_; }
  // The leaders observed in each term.
  const absl::btree_map<uint64_t, absl::btree_set<uint64_t>>& leaders_by_term()
      const {
    return leaders_by_term_;
  }
  // The id of the leader with the highest term among the nodes, 0 if none.
  uint64_t Leader();
  size_t step_errors() const { return step_errors_; }

  // Snapshots `id`'s state at its applied index and compacts its log up to
  // `compact_index` (<= applied).
  void SnapshotAndCompact(uint64_t id, uint64_t compact_index);

 private:
  struct Peer {
    std::unique_ptr<MemoryStorage> storage;
    std::unique_ptr<Rng> rng;
    std::unique_ptr<RawNode> node;
    std::vector<Entry> applied;
    uint64_t applied_index = 0;
    ConfState conf_state;
    std::vector<ReadState> read_states;
  };

  Peer& peer(uint64_t id);
  void StartNode(uint64_t id, Peer& p);
  void HandleReady(uint64_t id, Peer& p);
  void ApplyEntry(uint64_t id, Peer& p, const Entry& entry);
  bool Dropped(const Message& m) const;

  Configure configure_;
  Rng rng_;
  std::map<uint64_t, Peer> peers_;
  std::deque<Message> queue_;
  std::vector<Message> sent_;
  absl::btree_set<uint64_t> isolated_;
  std::set<std::pair<uint64_t, uint64_t>> cuts_;
  DropFilter drop_filter_;
  bool report_snapshots_ = true;
  absl::btree_map<uint64_t, absl::btree_set<uint64_t>> leaders_by_term_;
  // The longest applied sequence seen, by index, to check every node
  // applies the same entries (State Machine Safety).
  absl::btree_map<uint64_t, Entry> applied_by_index_;
  size_t step_errors_ = 0;
};

}  // namespace raftstore::raft::testing

#endif  // RAFTSTORE_CORE_RAFT_RAFT_TEST_NETWORK_H_
