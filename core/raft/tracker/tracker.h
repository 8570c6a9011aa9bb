// The leader's (and candidate's) view of the whole group: the membership
// configuration, the replication progress of every member, and the votes of
// an election in progress.
//
// The configuration is possibly joint (Raft thesis §4.3): while a membership
// change is in flight, the voters are two sets, incoming and outgoing, and
// every decision (commitment, elections, CheckQuorum) needs a majority of
// each. Learners (thesis §4.2.1) receive the log but never vote. A voter that
// is being demoted to a learner during a joint change cannot yet be a learner,
// since it still votes in the outgoing half; it waits in learners_next and
// becomes a learner when the joint configuration is left.
//
// The tracker never changes its configuration on its own: conf changes are
// computed, validated and checked by core/raft/confchange on copies, and the
// result is installed with ApplyConfig() in one step, so that a failed change
// leaves the tracker as it was.
//
// Thread-safety: none; a ProgressTracker belongs to one raft group.
#ifndef RAFTSTORE_CORE_RAFT_TRACKER_TRACKER_H_
#define RAFTSTORE_CORE_RAFT_TRACKER_TRACKER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "core/raft/quorum/quorum.h"
#include "core/raft/tracker/progress.h"
#include "proto/raft.pb.h"

namespace raftstore::raft {

// A group's membership. Invariants (checked by CheckTrackerConsistency):
//   - No id is 0; 0 means "no peer" throughout RaftStore.
//   - learners is disjoint from both halves of voters: a node either votes or
//     learns, never both.
//   - learners_next is a subset of voters.outgoing and disjoint from
//     voters.incoming and from learners: it holds exactly the outgoing voters
//     that turn into learners when the joint configuration is left.
//   - Outside joint consensus (voters.outgoing empty), learners_next is empty
//     and auto_leave is false.
// The empty configuration (no voters, no learners) is valid: it is where a
// node starts before it learns its group's membership, and where Restore()
// begins replaying one.
struct TrackerConfig {
  quorum::JointConfig voters;
  absl::btree_set<uint64_t> learners;
  absl::btree_set<uint64_t> learners_next;
  // Leave the joint configuration automatically once it commits, rather than
  // waiting for an explicit empty ConfChange
  // (CONF_CHANGE_TRANSITION_JOINT_IMPLICIT or _AUTO; see raft.proto).
  bool auto_leave = false;

  // A one-line description for logs and golden transcripts, listing only the
  // non-empty parts: "voters=(1 2 3)&&(1 2 4) learners=(5) learners_next=(4)
  // autoleave"; an empty config is "voters=()".
  std::string ToString() const;

  friend bool operator==(const TrackerConfig&, const TrackerConfig&) = default;
};

// The progress of every member, keyed and iterated in ascending id order.
using ProgressMap = absl::btree_map<uint64_t, Progress>;

// Returns the configuration as the ConfState persisted in snapshots, each id
// list in ascending order.
ConfState ToConfState(const TrackerConfig& config);

// Returns OK if `config` satisfies the invariants documented on TrackerConfig
// and `progress` agrees with it: there is a Progress for exactly the nodes of
// voters ∪ learners ∪ learners_next (no more, no less), is_learner() is true
// for learners and false for every voter and learners_next node. Otherwise
// returns kFailedPrecondition naming the first broken invariant. The caller
// decides whether that is bad input or a bug.
absl::Status CheckTrackerConsistency(const TrackerConfig& config,
                                     const ProgressMap& progress);

// Describes every Progress, one line per node in id order, "<id>: " followed
// by Progress::ToString(), each line ending in '\n'; "" when empty.
std::string ToString(const ProgressMap& progress);

// Result of ProgressTracker::TallyVotes().
struct VoteTally {
  // Voters of either half that granted, respectively rejected, their vote;
  // a voter in both halves counts once. Informational (for logs): the
  // decision is `result`, which counts the halves separately.
  size_t granted = 0;
  size_t rejected = 0;
  quorum::VoteResult result = quorum::VoteResult::kPending;

  friend bool operator==(const VoteTally&, const VoteTally&) = default;
};

class ProgressTracker {
 public:
  // An empty configuration with no progress and no votes. Every Progress the
  // conf change code creates for this tracker gets a window of at most
  // inflight_messages_max appends and, unless inflight_bytes_max is 0 (no
  // limit), fewer than inflight_bytes_max bytes (see Inflights). Requires
  // inflight_messages_max > 0.
  ProgressTracker(size_t inflight_messages_max, uint64_t inflight_bytes_max);

  const TrackerConfig& config() const { return config_; }
  const ProgressMap& progress() const { return progress_; }
  // The votes recorded since the last ResetVotes(): granted (true) or
  // rejected (false), by voter id.
  const absl::btree_map<uint64_t, bool>& votes() const { return votes_; }
  size_t inflight_messages_max() const { return inflight_messages_max_; }
  uint64_t inflight_bytes_max() const { return inflight_bytes_max_; }

  // Installs a configuration and its progress, as computed by
  // core/raft/confchange (Changer or Restore), replacing both at once.
  // Recorded votes are kept: a candidate that applies a committed conf change
  // mid-election keeps the answers it has, and TallyVotes() counts them
  // against the new voters. Requires CheckTrackerConsistency(config,
  // progress) to be OK; anything else is a bug in the caller and fails an
  // RS_CHECK.
  void ApplyConfig(TrackerConfig config, ProgressMap progress);

  // Returns the progress of node `id`, or nullptr if it is not a member. The
  // caller may drive the Progress state machine through the pointer but must
  // not change is_learner(), which the configuration owns. Pointers are
  // invalidated by ApplyConfig().
  Progress* GetProgress(uint64_t id);
  const Progress* GetProgress(uint64_t id) const;

  // Calls fn for every member, in ascending id order. fn must not call
  // ApplyConfig().
  void Visit(absl::FunctionRef<void(uint64_t id, Progress& progress)> fn);
  void Visit(
      absl::FunctionRef<void(uint64_t id, const Progress& progress)> fn) const;

  // Returns the configuration as a ConfState, for snapshots.
  ConfState ToConfState() const;

  // True if the group has exactly one voter and is not in a joint
  // configuration: that voter alone commits and wins elections, so it may
  // skip the round trips.
  bool IsSingleton() const;

  // Returns the largest log index that a quorum of the voters (of both
  // halves, when joint) has persisted, according to their match indexes
  // (thesis §3.5, §4.3). Returns quorum::kNoLimit when there are no voters.
  // The caller must still check that the entry is from its current term
  // (thesis §3.6.2) before committing it.
  uint64_t Committed() const;

  // True if the voters whose progress is recent_active() form a quorum of
  // each half. The leader calls this once per election timeout for
  // CheckQuorum (thesis §6.2), stepping down if it is false; the leader's
  // own progress is expected to be marked active by the caller. True when
  // there are no voters, as quorum::TallyVotes() wins an empty config.
  bool QuorumActive() const;

  // The ids of the voters of either half, ascending, each once.
  std::vector<uint64_t> VoterNodes() const;
  // The ids of the learners, ascending. Nodes of learners_next still vote
  // and are not included.
  std::vector<uint64_t> LearnerNodes() const;

  // Forgets every recorded vote, to start a new election.
  void ResetVotes();

  // Records voter id's answer in the current election. Only the first answer
  // of each id counts: a later, contradicting answer (a duplicated or
  // reordered message) is ignored. Answers from non-voters are recorded but
  // never counted.
  void RecordVote(uint64_t id, bool granted);

  // Tallies the recorded votes against the voters of both halves
  // (thesis §3.4, §4.3).
  VoteTally TallyVotes() const;

 private:
  // Fixed at construction, copied into every new Progress by confchange.
  size_t inflight_messages_max_;
  uint64_t inflight_bytes_max_;

  TrackerConfig config_;
  ProgressMap progress_;
  absl::btree_map<uint64_t, bool> votes_;
};

}  // namespace raftstore::raft

#endif  // RAFTSTORE_CORE_RAFT_TRACKER_TRACKER_H_
