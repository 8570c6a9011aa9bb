// The raft interaction harness: runs plain-text scripts (script.h) against a
// cluster of RawNodes on an in-memory network and prints a transcript.
//
// Every node has a MemoryStorage standing for its disk. The harness is the
// driver: `process-ready` persists what a Ready asks for (synchronously, so
// a crash keeps exactly what was processed), queues its messages on the
// network, applies committed entries and advances. Messages wait in flight
// until a command delivers or drops them, so a script controls every
// interleaving. Nothing here reads a clock or real randomness: the only Rng
// is seeded from the harness's seed, so a script's transcript is fixed.
//
// The commands are documented in docs/raft-scripts.md; each is one method
// below. Golden transcripts live beside the scripts in
// core/raft/interaction/testdata/.
//
// Thread-safety: none.
#ifndef RAFTSTORE_CORE_RAFT_INTERACTION_INTERACTION_H_
#define RAFTSTORE_CORE_RAFT_INTERACTION_INTERACTION_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/base/rng.h"
#include "core/raft/interaction/script.h"
#include "core/raft/log/memory_storage.h"
#include "core/raft/raw_node.h"
#include "proto/raft.pb.h"

namespace raftstore::raft::interaction {

// Bounds a `stabilize`: a cluster that keeps producing work for this many
// rounds is livelocked, which the transcript reports instead of spinning.
inline constexpr int kStabilizeRoundsMax = 1000;
// Bounds the nodes of one script.
inline constexpr size_t kNodesMax = 64;
// Bounds the messages in flight; past it new messages are dropped (and the
// drop printed), like a full link queue.
inline constexpr size_t kInFlightMessagesMax = 100000;

// One-line descriptions used in transcripts (stable formats: golden files
// depend on them).
std::string DescribeEntry(const Entry& entry);
std::string DescribeMessage(const Message& message);
std::string MessageTypeName(MessageType type);

// The disk of a harness node: a MemoryStorage whose Snapshot() is made on
// demand from the node's state machine at its applied index, as a real
// store builds a snapshot when a leader needs one for a lagging follower.
// Without it a leader could only send the (possibly ancient) bootstrap
// snapshot, whose membership may not even include the follower.
class OnDemandSnapshotStorage : public Storage {
 public:
  // Returns the state to snapshot: applied index, membership as of it, and
  // the encoded state machine.
  struct AppliedState {
    uint64_t index = 0;
    ConfState conf_state;
    std::string data;
  };
  using AppliedStateFn = std::function<AppliedState()>;

  OnDemandSnapshotStorage() = default;
  void set_applied_state(AppliedStateFn fn) { applied_state_ = std::move(fn); }
  MemoryStorage& base() { return base_; }
  const MemoryStorage& base() const { return base_; }

  absl::StatusOr<InitialState> GetInitialState() const override {
    return base_.GetInitialState();
  }
  absl::StatusOr<std::vector<Entry>> Entries(
      uint64_t lo, uint64_t hi, uint64_t bytes_max) const override {
    return base_.Entries(lo, hi, bytes_max);
  }
  absl::StatusOr<uint64_t> Term(uint64_t index) const override {
    return base_.Term(index);
  }
  uint64_t FirstIndex() const override { return base_.FirstIndex(); }
  uint64_t LastIndex() const override { return base_.LastIndex(); }
  absl::StatusOr<raft::Snapshot> Snapshot() const override;

 private:
  // Snapshot() records the snapshot it makes, as MemoryStorage's own
  // CreateSnapshot would; the log is not compacted by it.
  mutable MemoryStorage base_;
  AppliedStateFn applied_state_;
};

class InteractionEnv {
 public:
  explicit InteractionEnv(uint64_t seed);

  // Runs one line and returns its output (without the echoed command). A
  // bad command or argument gives "error: ..." as output; it never aborts
  // the script, so a transcript can show the refusal.
  std::string Handle(const ScriptLine& line);

 private:
  struct Node {
    uint64_t id = 0;
    Config config;
    std::unique_ptr<OnDemandSnapshotStorage> storage;
    std::unique_ptr<Rng> rng;
    std::unique_ptr<RawNode> raw;  // null while crashed
    // The state machine: the data of every applied normal entry, in order.
    // Volatile: a restart rebuilds it from the snapshot and the log.
    std::vector<std::string> applied_data;
    uint64_t applied_index = 0;
    // Membership as of applied_index.
    ConfState conf_state;
  };

  absl::StatusOr<std::string> Dispatch(const ScriptLine& line);

  absl::StatusOr<std::string> AddNodes(const Args& args);
  absl::StatusOr<std::string> Campaign(const Args& args);
  absl::StatusOr<std::string> Propose(const Args& args);
  absl::StatusOr<std::string> ProposeConfChange(const Args& args);
  absl::StatusOr<std::string> Tick(const Args& args, int per_node_ticks);
  absl::StatusOr<std::string> ProcessReady(const Args& args);
  absl::StatusOr<std::string> DeliverMessages(const Args& args);
  absl::StatusOr<std::string> Stabilize(const Args& args);
  absl::StatusOr<std::string> Partition(const Args& args);
  absl::StatusOr<std::string> Isolate(const Args& args);
  absl::StatusOr<std::string> Heal(const Args& args);
  absl::StatusOr<std::string> Crash(const Args& args);
  absl::StatusOr<std::string> Restart(const Args& args);
  absl::StatusOr<std::string> Compact(const Args& args);
  absl::StatusOr<std::string> TransferLeadership(const Args& args);
  absl::StatusOr<std::string> ReadIndex(const Args& args);
  absl::StatusOr<std::string> Status(const Args& args);
  absl::StatusOr<std::string> RaftState(const Args& args);
  absl::StatusOr<std::string> RaftLog(const Args& args);
  absl::StatusOr<std::string> Messages(const Args& args);
  absl::StatusOr<std::string> Applied(const Args& args);
  absl::StatusOr<std::string> Counters(const Args& args);
  absl::StatusOr<std::string> ReportUnreachable(const Args& args);
  absl::StatusOr<std::string> StepRaw(const Args& args);

  absl::StatusOr<Node*> Find(uint64_t id);
  absl::StatusOr<Node*> FindRunning(uint64_t id);
  // The ids named by positional arguments from `first` on, or every node.
  absl::StatusOr<std::vector<uint64_t>> Ids(const Args& args,
                                            size_t first) const;
  absl::Status StartNode(Node* node);
  // Handles one Ready of `node`, appending its description to `out`.
  // Returns false (printing nothing) when the node had no Ready.
  bool HandleReady(Node* node, std::string* out);
  void ApplyEntry(Node* node, const Entry& entry, std::string* out);
  // Queues `messages` on the network; drops (and prints) those to a crashed
  // node, whose connections refuse them, and those past the queue bound.
  void Send(std::vector<Message> messages, std::string* out);
  // Delivers (or drops) the in-flight messages matching the filter.
  // `from` == 0 matches every sender.
  std::string Deliver(const absl::btree_set<uint64_t>& to, uint64_t from,
                      const std::string& type_filter, bool drop);
  bool Blocked(uint64_t from, uint64_t to) const;

  Rng seed_rng_;
  // std::map, not absl::btree_map: nodes are referred to by pointer (the
  // snapshot callback of their storage), which a btree insert invalidates.
  std::map<uint64_t, Node> nodes_;
  std::vector<Message> in_flight_;
  // Directed links that drop every message (from, to).
  absl::btree_set<std::pair<uint64_t, uint64_t>> blocked_;
  uint64_t next_id_ = 1;
};

// Runs a whole script and returns its transcript: each line of the script
// as written (commands prefixed by "> "), each command followed by its
// output. Errors only for a script that does not parse.
absl::StatusOr<std::string> RunScript(absl::string_view script,
                                      uint64_t seed = 1);

}  // namespace raftstore::raft::interaction

#endif  // RAFTSTORE_CORE_RAFT_INTERACTION_INTERACTION_H_
