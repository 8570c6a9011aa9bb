// Membership changes: computes the configuration and progress map that result
// from a ConfChange, without touching the tracker they came from.
//
// Raft changes membership one entry at a time (Raft thesis §4.1, §4.3). A
// change that adds or removes a single voter is safe to apply directly,
// because any majority of the old voters overlaps any majority of the new.
// Anything larger goes through joint consensus (§4.3): first the group enters
// a joint configuration C(old,new), in which every decision needs a majority
// of both the old (outgoing) and the new (incoming) voters; later it leaves it
// for C(new). Changer implements the three steps: Simple(), EnterJoint() and
// LeaveJoint(). Apply() picks one from a ConfChange's transition
// (raft.proto).
//
// Roles and what each ConfChangeSingle does to node n:
//   ADD_VOTER     n votes in the incoming half. A learner is promoted; a node
//                 waiting in learners_next stops waiting.
//   ADD_LEARNER   n learns. A voter of the outgoing half cannot stop voting
//                 before the joint configuration is left, so it is staged in
//                 learners_next and becomes a learner in LeaveJoint(); any
//                 other node becomes a learner at once.
//   REMOVE_NODE   n leaves the incoming half, the learners and learners_next.
//                 If it still votes in the outgoing half, it stays a member
//                 (with its progress) until LeaveJoint().
// Changes apply in order, so within one call the last change of a node
// decides its role. Changes that change nothing (adding a voter twice,
// removing a non-member) are accepted and do nothing.
//
// New members get a Progress in kProbe with match = 0 and next = last_index
// + 1, the leader's nextIndex rule for a follower it knows nothing about
// (thesis §3.5); the first probe's rejection moves next back to where the
// logs meet. They are marked recent_active, so that CheckQuorum (thesis §6.2)
// does not count a node that was just added, and has had no chance to answer,
// as lost. Members that stay keep their Progress unchanged, except for
// is_learner(), which follows their role. A node that one call removes (while
// it does not vote in the outgoing half) and adds back loses its Progress in
// between, so it starts afresh like any new member.
//
// Copy semantics: a Changer copies the configuration and progress it is given
// when it is constructed. Each operation starts from a fresh copy of those
// and returns the result, so neither the caller's objects nor the Changer are
// ever modified, a failed change has no effect at all, and one Changer may
// evaluate several alternative changes. The caller installs a result with
// ProgressTracker::ApplyConfig().
//
// Errors: bad requests (node id 0, an UNSPECIFIED or unknown type or
// transition, removing every voter, several voter changes without joint
// consensus) are kInvalidArgument; a request that does not fit the current
// configuration (entering joint consensus twice, leaving it when not in it)
// is kFailedPrecondition, as is a current configuration that breaks the
// tracker's invariants. A result that breaks them is a bug here and is
// returned as kInternal rather than installed.
//
// Thread-safety: a Changer is immutable after construction; its const
// methods may run concurrently.
#ifndef RAFTSTORE_CORE_RAFT_CONFCHANGE_CONFCHANGE_H_
#define RAFTSTORE_CORE_RAFT_CONFCHANGE_CONFCHANGE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "core/raft/tracker/progress.h"
#include "core/raft/tracker/tracker.h"
#include "proto/raft.pb.h"

namespace raftstore::raft::confchange {

// A configuration with the progress of exactly its members, as
// ProgressTracker::ApplyConfig() takes them.
using ConfigAndProgress = std::pair<TrackerConfig, ProgressMap>;

class Changer {
 public:
  // A Changer starting from copies of `config` and `progress`. New members
  // start at next = last_index + 1 with an inflight window of
  // inflight_messages_max appends and inflight_bytes_max bytes (0: no byte
  // limit). Requires last_index < UINT64_MAX and inflight_messages_max > 0.
  // The inputs are not checked here: every operation checks them first.
  Changer(const TrackerConfig& config, const ProgressMap& progress,
          uint64_t last_index, size_t inflight_messages_max,
          uint64_t inflight_bytes_max);

  // A Changer starting from copies of the tracker's configuration and
  // progress, with its inflight limits.
  Changer(const ProgressTracker& tracker, uint64_t last_index);

  // Enters joint consensus (thesis §4.3): the current voters become the
  // outgoing half, and `changes` are applied to the incoming half (and the
  // learners). auto_leave is recorded in the result for the caller, which
  // proposes the leaving entry once this one commits. An empty `changes`
  // gives a joint configuration with equal halves, which is legal if
  // pointless.
  // Errors: kFailedPrecondition if the configuration is already joint or
  // has no voters (there would be no outgoing majority); kInvalidArgument if
  // a change is malformed or the incoming half would have no voters.
  absl::StatusOr<ConfigAndProgress> EnterJoint(
      bool auto_leave, absl::Span<const ConfChangeSingle> changes) const;

  // Leaves joint consensus: the outgoing half is dropped, learners_next
  // become learners, nodes that belonged only to the outgoing half lose
  // their progress, and auto_leave is cleared.
  // Errors: kFailedPrecondition if the configuration is not joint.
  absl::StatusOr<ConfigAndProgress> LeaveJoint() const;

  // Applies `changes` directly, without joint consensus. Safe only if the
  // incoming voters change by at most one node (one added or one removed;
  // thesis §4.1), which is checked; learners may change freely.
  // Errors: kFailedPrecondition if the configuration is joint;
  // kInvalidArgument if a change is malformed, more than one voter would
  // change ("use joint consensus"), or no voter would remain.
  absl::StatusOr<ConfigAndProgress> Simple(
      absl::Span<const ConfChangeSingle> changes) const;

  // Carries out `cc` as its transition asks: LeaveJoint() if it has no
  // changes, EnterJoint() if EnterJointNeeded(cc), Simple() otherwise.
  // Errors: those of the chosen step, and kInvalidArgument for an
  // UNSPECIFIED or unknown transition.
  absl::StatusOr<ConfigAndProgress> Apply(const ConfChange& cc) const;

 private:
  // The Progress of a node that was not a member.
  Progress NewProgress(bool is_learner) const;

  // Applies changes in order to `out`, then requires a non-empty incoming
  // half. Returns kInvalidArgument on a malformed change.
  absl::Status ApplyChanges(absl::Span<const ConfChangeSingle> changes,
                            ConfigAndProgress& out) const;

  // Returns a copy of the starting point, or kFailedPrecondition if it breaks
  // the tracker's invariants.
  absl::StatusOr<ConfigAndProgress> CheckAndCopy() const;

  TrackerConfig config_;
  ProgressMap progress_;
  uint64_t last_index_;
  size_t inflight_messages_max_;
  uint64_t inflight_bytes_max_;
};

// Whether `cc` must go through joint consensus: it has changes and is not an
// AUTO transition with a single change (a single change touches at most one
// voter, so it may be applied directly). False for an empty `cc`, which asks
// to leave joint consensus.
// Errors: kInvalidArgument for an UNSPECIFIED or unknown transition.
absl::StatusOr<bool> EnterJointNeeded(const ConfChange& cc);

// Whether the joint configuration that `cc` enters is left automatically:
// true for AUTO and JOINT_IMPLICIT, false for JOINT_EXPLICIT, which waits for
// an explicit empty ConfChange. False if `cc` enters no joint configuration.
// Errors: kInvalidArgument for an UNSPECIFIED or unknown transition.
absl::StatusOr<bool> AutoLeave(const ConfChange& cc);

// Whether `cc` asks to leave the current joint configuration: it has no
// changes (raft.proto). Its transition is not looked at.
bool LeaveJointRequested(const ConfChange& cc);

// Describes changes compactly, in order, space separated: "v<id>" adds a
// voter, "l<id>" a learner, "r<id>" removes a node, as in "v1 v2 l3 r4"; ""
// when empty. A change of an UNSPECIFIED or unknown type prints as "?<id>",
// which ParseConfChanges() rejects.
std::string ConfChangesToString(absl::Span<const ConfChangeSingle> changes);

// ConfChangesToString() of cc.changes(); the transition and context are not
// shown.
std::string ConfChangeToString(const ConfChange& cc);

// Parses the format of ConfChangesToString(): tokens separated by spaces,
// tabs or newlines, each a letter v, l or r followed by a decimal node id.
// Ids are taken as written, including 0, so that test scripts can exercise
// the Changer's rejection of it. An empty or all-blank text is no changes.
// Errors: kInvalidArgument naming the first bad token (unknown letter,
// missing or non-decimal id, id beyond 64 bits).
absl::StatusOr<std::vector<ConfChangeSingle>> ParseConfChanges(
    std::string_view text);

}  // namespace raftstore::raft::confchange

#endif  // RAFTSTORE_CORE_RAFT_CONFCHANGE_CONFCHANGE_H_
