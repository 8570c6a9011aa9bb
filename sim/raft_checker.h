// Raft safety, checked on every step of a simulation.
//
// The node driver reports what each replica does (becomes leader, makes
// entries durable, applies an entry, recovers from its disk); the checker
// keeps a global view and records a violation the moment one of these
// properties (Raft paper, Figure 3) breaks:
//
//   election safety      at most one leader per term, over the whole run;
//   log matching         two durable logs that hold an entry with the same
//                        index and term hold the same entry there and agree
//                        on every entry before it (a prefix digest per
//                        (index, term) is compared across replicas);
//   leader completeness  a new leader of term T holds every entry known
//                        committed in a term below T (paper §5.4): an
//                        applied entry was committed by a leader of a term no
//                        higher than the applier's term at that moment, so
//                        entries first applied by a node of a term below T
//                        must be in the log of every leader of T;
//   state machine safety every replica applies the same entry at each index,
//                        in order, without gaps;
//   durability           a replica that restarts recovers at least what its
//                        disk had acknowledged as synced: at every synced
//                        index the synced entry, or the one a later
//                        (unsynced) write put over it; and a hard state no
//                        older than the synced one.
//
// Memory: one digest per (node, log index) and one record per applied
// index; a simulation run is bounded in length, so this is too. Both
// global tables are vectors indexed by log index (written and applied
// indexes grow one at a time from the bottom of the log), checked against
// kIndexMax.
//
// Thread-safety: none; the simulator is single-threaded.
#ifndef RAFTSTORE_SIM_RAFT_CHECKER_H_
#define RAFTSTORE_SIM_RAFT_CHECKER_H_

#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/inlined_vector.h"
#include "proto/raft.pb.h"

namespace raftstore::sim {

struct SafetyViolation {
  std::string property;
  uint64_t time_us = 0;
  std::string detail;
};

class RaftChecker {
 public:
  // Violations kept; later ones are only counted (one bug tends to repeat
  // at every step after it).
  static constexpr size_t kViolationsMax = 32;

  // Nodes are 1..node_count.
  explicit RaftChecker(int node_count);

  // Every report carries the current virtual time, for the violation.
  void set_now_us(uint64_t now_us) { now_us_ = now_us; }

  // `node` became leader of `term`; `term_at` returns the term of the
  // entry at an index in its log (0 if absent or compacted), `last_index` is
  // its last index, and `first_index` its first uncompacted index.
  template <typename TermAt>
  void OnLeader(uint64_t node, uint64_t term, uint64_t first_index,
                uint64_t last_index, TermAt term_at);

  // `node` wrote `entries` to its disk (not yet synced): they replace its
  // log from entries.front().index() on (a conflicting suffix is cut first).
  void OnWritten(uint64_t node, std::span<const raft::Entry> entries);
  // `node` wrote a snapshot: its log now starts after (index, term).
  void OnSnapshotWritten(uint64_t node, uint64_t index, uint64_t term);
  // `node` wrote a hard state (not yet synced).
  void OnHardStateWritten(uint64_t node, const raft::HardState& hard_state);
  // `node` synced everything written so far.
  void OnSynced(uint64_t node);
  // `node`, at `node_term`, applied `entry` (its next index).
  void OnApplied(uint64_t node, const raft::Entry& entry, uint64_t node_term);
  // `node` restarted from its disk with this log and hard state, and its
  // state machine restarts after `applied_index`.
  void OnRecovered(uint64_t node, uint64_t snapshot_index,
                   uint64_t snapshot_term, std::span<const raft::Entry> entries,
                   const raft::HardState& hard_state, uint64_t applied_index);
  // `node` lost its disk for good (detected corruption): its durability
  // promises are void, and it never comes back.
  void OnDiskLost(uint64_t node);

  // For drivers whose replicas snapshot their state machines (the store
  // mode, sim/store_checker.h); the single-group mode never calls these.
  //
  // `node` compacted its own log at (index, term), a snapshot of its state
  // machine: the entries after index stay. If its durable log holds index,
  // the term must match (else "log matching"); if the log does not reach
  // index (a bootstrap snapshot), the snapshot becomes its log's base, as
  // OnSnapshotWritten.
  void OnLocalSnapshotWritten(uint64_t node, uint64_t index, uint64_t term);
  // `node`'s state machine was replaced by a snapshot at (index, term) (one
  // installed from the leader, or a bootstrap): it applies from index + 1
  // on. The term must agree with the entry applied there, if any replica
  // applied one ("state machine safety").
  void OnStateMachineRestored(uint64_t node, uint64_t index, uint64_t term);
  // The last index `node` applied (or restored) since it last started.
  uint64_t applied_index(uint64_t node) { return replica(node).applied_index; }
  int node_count() const { return static_cast<int>(replicas_.size()); }

  // Records a violation found by the driver itself (for example a
  // committed entry that does not decode).
  void Report(std::string property, std::string detail) {
    Add(std::move(property), std::move(detail));
  }

  const std::vector<SafetyViolation>& violations() const { return violations_; }
  // The highest index applied by any replica.
  uint64_t applied_max() const { return applied_max_; }
  // Entries checked for state machine safety (one per index).
  size_t applied_entries() const { return applied_count_; }

  // The largest log index the checker tracks (its tables are indexed by
  // log index); a run that goes past it stops with a message.
  static constexpr uint64_t kIndexMax = uint64_t{1} << 26;

 private:
  struct Replica {
    // The log as made durable: the compaction point, then one prefix digest
    // per entry (prefix_digests[i] covers the entry at base_index + 1 + i
    // and every entry before it).
    uint64_t base_index = 0;
    uint64_t base_term = 0;
    uint64_t base_digest = 0;
    std::vector<std::pair<uint64_t, uint64_t>> terms_and_digests;
    // The last index known synced, and the synced (term, digest) of the
    // indexes from overwritten_from on that an unsynced write replaced: a
    // crash may bring back either version.
    uint64_t synced_last_index = 0;
    uint64_t overwritten_from = 0;
    std::vector<std::pair<uint64_t, uint64_t>> overwritten;
    raft::HardState written_hard_state;
    raft::HardState synced_hard_state;
    uint64_t applied_index = 0;
  };
  struct Applied {
    bool present = false;  // whether any node applied this index yet
    uint64_t term = 0;
    uint64_t data_digest = 0;
    uint64_t first_node = 0;
    // The lowest term of a node that applied it: the entry was committed
    // in this term or an earlier one.
    uint64_t observer_term = 0;
  };

  Replica& replica(uint64_t node);
  void Add(std::string property, std::string detail);
  uint64_t LastIndex(const Replica& r) const {
    return r.base_index + r.terms_and_digests.size();
  }
  // The (term, digest) at `index` of r's log, if present.
  bool Lookup(const Replica& r, uint64_t index, uint64_t* term,
              uint64_t* digest) const;
  void CheckPrefix(uint64_t node, uint64_t index, uint64_t term,
                   uint64_t digest);
  // Saves the synced versions of r's indexes from `first` on before an
  // unsynced write replaces them.
  void SaveOverwritten(Replica& r, uint64_t first);
  void CheckRecoveredLog(uint64_t node, const Replica& before);

  std::vector<Replica> replicas_;
  uint64_t now_us_ = 0;
  absl::btree_map<uint64_t, uint64_t> leader_by_term_;
  // The prefix digest of a durable entry and the node that first reported
  // it.
  struct Prefix {
    uint64_t term = 0;
    uint64_t digest = 0;
    uint64_t node = 0;
  };
  // The record of (index, term), or nullptr.
  const Prefix* FindPrefix(uint64_t index, uint64_t term) const;
  // By index: every term seen durable there (almost always one).
  std::vector<absl::InlinedVector<Prefix, 1>> prefix_by_index_;
  // By index.
  std::vector<Applied> applied_;
  size_t applied_count_ = 0;
  uint64_t applied_max_ = 0;
  std::vector<SafetyViolation> violations_;
  uint64_t violations_dropped_ = 0;
};

template <typename TermAt>
void RaftChecker::OnLeader(uint64_t node, uint64_t term, uint64_t first_index,
                           uint64_t last_index, TermAt term_at) {
  auto [it, inserted] = leader_by_term_.try_emplace(term, node);
  if (!inserted && it->second != node) {
    Add("election safety", "nodes " + std::to_string(it->second) + " and " +
                               std::to_string(node) + " both lead term " +
                               std::to_string(term));
  }
  // Leader completeness: every entry committed in an earlier term must be
  // in this leader's log. Entries before first_index are covered by the
  // leader's snapshot.
  for (uint64_t index = first_index; index < applied_.size(); ++index) {
    const Applied& a = applied_[index];
    if (!a.present || a.observer_term >= term) continue;
    const uint64_t held = index <= last_index ? term_at(index) : 0;
    if (held != a.term) {
      Add("leader completeness",
          "node " + std::to_string(node) + " leads term " +
              std::to_string(term) + " but holds term " + std::to_string(held) +
              " at index " + std::to_string(index) + ", where term " +
              std::to_string(a.term) + " was applied");
      return;
    }
  }
}

}  // namespace raftstore::sim

#endif  // RAFTSTORE_SIM_RAFT_CHECKER_H_
