// Rebuilds a group's configuration from a ConfState, as found in a snapshot
// or recovered at restart.
//
// Rather than trusting the ConfState's sets as they are, Restore() replays
// them through the Changer as the sequence of changes that could have
// produced them, so that the result passes every check a live change does
// and carries freshly made progress for every member:
//   - not joint: each voter is added by a simple change, then each learner;
//   - joint (thesis §4.3): each outgoing voter is added by a simple change,
//     giving the old configuration; then one EnterJoint removes them all and
//     adds the incoming voters, the learners and the learners_next (which,
//     still voting in the outgoing half, are staged rather than made
//     learners), with the ConfState's auto_leave.
// For example, voters=(1 2 3) learners=(5) voters_outgoing=(1 2 4 6)
// learners_next=(4) replays as v1, v2, v4, v6 (simple), then
// EnterJoint(r1 r2 r4 r6 v1 v2 v3 l5 l4), giving
// "voters=(1 2 3)&&(1 2 4 6) learners=(5) learners_next=(4)".
//
// Thread-safety: a pure function; safe to call concurrently.
#ifndef RAFTSTORE_CORE_RAFT_CONFCHANGE_RESTORE_H_
#define RAFTSTORE_CORE_RAFT_CONFCHANGE_RESTORE_H_

#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/raft/confchange/confchange.h"
#include "proto/raft.pb.h"

namespace raftstore::raft::confchange {

// Returns OK if `conf_state` describes a configuration that satisfies the
// invariants of TrackerConfig: no id 0; no id twice in one list; learners
// disjoint from both voter lists; learners_next within voters_outgoing and
// disjoint from voters and learners; auto_leave only when joint; and at
// least one (incoming) voter unless the ConfState is entirely empty.
// Otherwise returns kInvalidArgument naming the first problem.
absl::Status ValidateConfState(const ConfState& conf_state);

// Returns the configuration `conf_state` describes, with a new Progress
// (match = 0, next = last_index + 1, recently active, with the given inflight
// limits; see Changer) for each member. An entirely empty ConfState gives the
// empty configuration. ToConfState() of the result lists the same ids as
// conf_state (in ascending order) with the same auto_leave.
// Requires last_index < UINT64_MAX and inflight_messages_max > 0.
// Errors: kInvalidArgument if ValidateConfState() rejects conf_state;
// kInternal if the replay fails or does not reproduce conf_state, which
// would be a bug in this package.
absl::StatusOr<ConfigAndProgress> Restore(const ConfState& conf_state,
                                          uint64_t last_index,
                                          size_t inflight_messages_max,
                                          uint64_t inflight_bytes_max);

}  // namespace raftstore::raft::confchange

#endif  // RAFTSTORE_CORE_RAFT_CONFCHANGE_RESTORE_H_
