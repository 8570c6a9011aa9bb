// The leader's view of one follower's log: how far it is known to match, what
// to send it next, and how sending is throttled.
//
// The Raft paper (§5.3) gives the leader two numbers per follower: matchIndex,
// the highest entry known to be replicated there, and nextIndex, the next
// entry to send. A rejected AppendEntries lowers nextIndex and is retried
// until the logs meet. Progress adds the flow control a real leader needs,
// as a small state machine (Raft thesis §3.5, §10.2.2):
//
//   kProbe      The leader does not know where the follower's log ends. It
//               sends one append at a time and waits for the answer before
//               sending another, so that a follower far behind is not flooded
//               with appends it will reject.
//   kReplicate  The follower's log is known to match up to `match`. The
//               leader pipelines appends, advancing `next` optimistically as
//               it sends, bounded by an Inflights window.
//   kSnapshot   The entries the follower needs have been compacted away, so
//               the leader sends a snapshot (thesis §5.1) and sends no appends
//               until the follower reports on it.
//
// Index conventions. Log indexes start at 1; index 0 means "no entry". So
// match = 0 means nothing is known to be replicated (an empty follower log
// matches any leader at index 0), and next >= 1 always. An append to this
// follower carries the entries from `next` onwards and names `next - 1` as
// its previous index; next - 1 = 0 is the empty prefix, which always matches.
// For a follower whose log is empty, the leader ends up at next = 1 and sends
// from the first entry. Invariant, checked after every mutation:
// match < next.
//
// The caller (the leader's step function) owns the transitions between states:
// this class does the bookkeeping of each event and checks its invariants, but
// does not decide, say, when a probe success should start replication.
//
// Thread-safety: none; a Progress belongs to one raft group's leader.
#ifndef RAFTSTORE_CORE_RAFT_TRACKER_PROGRESS_H_
#define RAFTSTORE_CORE_RAFT_TRACKER_PROGRESS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/raft/tracker/inflights.h"

namespace raftstore::raft {

enum class ProgressState { kProbe, kReplicate, kSnapshot };

// "StateProbe", "StateReplicate" or "StateSnapshot", as printed by
// Progress::ToString().
std::string_view ProgressStateName(ProgressState state);

class Progress {
 public:
  // A follower in kProbe with the given match and next, not recently active,
  // not a learner. Requires match < next and an empty inflights window, which
  // fixes the follower's flow-control limits. A new leader typically passes
  // match = 0 and next = its last index + 1 (thesis §3.5: nextIndex starts
  // just after the leader's log).
  Progress(uint64_t match, uint64_t next, Inflights inflights);

  // Highest index known to be replicated on the follower; 0 if none.
  uint64_t match() const { return match_; }
  // Index of the next entry to send; always > match().
  uint64_t next() const { return next_; }
  ProgressState state() const { return state_; }
  // In kSnapshot, the index of the snapshot being sent; 0 in other states.
  uint64_t pending_snapshot() const { return pending_snapshot_; }
  // In kProbe, true after a probe is sent until its answer (or a heartbeat
  // response) arrives. In kReplicate, equal to inflights().Full(). In
  // kSnapshot, always false (IsPaused() is true there regardless).
  bool msg_app_flow_paused() const { return msg_app_flow_paused_; }
  const Inflights& inflights() const { return inflights_; }

  // Whether the follower has been heard from since the leader last cleared
  // the flag; the leader's CheckQuorum (thesis §6.2) counts active followers
  // once per election timeout and then clears every flag.
  bool recent_active() const { return recent_active_; }
  void set_recent_active(bool recent_active) { recent_active_ = recent_active; }

  // Learners receive the log but do not vote or count towards commitment
  // (thesis §4.2.1).
  bool is_learner() const { return is_learner_; }
  void set_is_learner(bool is_learner) { is_learner_ = is_learner; }

  // Enters kProbe. Coming from kSnapshot, the snapshot is assumed delivered,
  // so probing resumes after it: next = max(match + 1, pending_snapshot + 1).
  // Otherwise probing restarts at next = match + 1, the first entry not known
  // to be on the follower. Clears the window, the pause and pending_snapshot.
  void BecomeProbe();

  // Enters kReplicate with next = match + 1. Clears the window, the pause and
  // pending_snapshot. The caller should do this only once the follower's log
  // is known to match at `match` (a probe succeeded).
  void BecomeReplicate();

  // Enters kSnapshot to send the snapshot at snapshot_index. Requires
  // snapshot_index > 0: a snapshot covers at least the first entry. next is
  // left as is; BecomeProbe() moves it past the snapshot. Clears the window
  // and the pause.
  void BecomeSnapshot(uint64_t snapshot_index);

  // Handles an accepting append response: the follower's log matches the
  // leader's up to index. Raises match to index (and next to at least
  // index + 1) if that is an advance, and then clears a kProbe pause. In
  // kReplicate it also frees the acknowledged appends from the window.
  // Returns whether match advanced; false means the response is stale or a
  // duplicate. Requires index < UINT64_MAX.
  bool MaybeUpdate(uint64_t index);

  // Handles a rejecting append response. `rejected` is the previous index of
  // the rejected append (the probe), and match_hint is the follower's guess
  // at the last index where the logs may match (its last index, or lower).
  // Returns false, changing nothing, if the rejection is stale:
  //   kReplicate: rejected <= match; the follower already acknowledged it.
  //   kProbe, kSnapshot: rejected != next - 1; only one probe is outstanding
  //     at a time, so an answer to any other is an old one.
  // Otherwise returns true after moving next back:
  //   kReplicate: to match + 1, the first entry not known to be there, and
  //     clears the window, since everything in flight will be resent. The
  //     caller is expected to BecomeProbe() (thesis §3.5: decrement and retry).
  //   kProbe, kSnapshot: to max(min(rejected, match_hint + 1), match + 1),
  //     using the hint to skip many entries at once (thesis §3.5's
  //     optimisation), never below match + 1; and clears the pause.
  bool MaybeDecrTo(uint64_t rejected, uint64_t match_hint);

  // Records that an append carrying `entries` entries totalling `bytes` bytes
  // was sent, starting at next. In kReplicate, entries > 0 advances next past
  // them and adds the append to the window (an empty append, which only
  // carries the commit index, is not tracked, and may be sent even when the
  // window is full). In kProbe, next stays put (the answer decides where the
  // logs meet) and sending pauses until the answer arrives. Requires, in
  // kReplicate with entries > 0, a window that is not full; in kProbe, no
  // probe outstanding (!IsPaused()); and not kSnapshot, where no appends are
  // sent.
  void SentEntries(size_t entries, uint64_t bytes);

  // Handles a heartbeat response. Messages can be lost, and the leader must
  // retry indefinitely (thesis §3.5), so the heartbeat interval doubles as the
  // retry timer: in kProbe it clears the pause so the lost probe is resent,
  // and in kReplicate with a full window it frees the oldest append so that
  // a window full of lost appends cannot stall the follower forever.
  void OnHeartbeatResponse();

  // Whether the leader must not send appends now: kProbe while a probe is
  // outstanding, kReplicate while the window is full, and always in kSnapshot.
  bool IsPaused() const;

  // A one-line, deterministic description, for logs and golden transcripts:
  //   "<state> match=<m> next=<n>[ learner][ paused]
  //    [ pending_snapshot=<s>][ inactive][ inflight=<count>[full]]"
  // on one line, for example "StateReplicate match=5 next=6 inflight=2".
  // pending_snapshot appears in kSnapshot only, and inflight only when the
  // window is not empty.
  std::string ToString() const;

 private:
  // Enters `state` with an empty window, no pause and no pending snapshot.
  void ResetState(ProgressState state);

  // Checks the invariants that hold between events: match < next; only
  // kReplicate has appends in flight; in kReplicate the pause mirrors the
  // window; only kSnapshot has a pending snapshot.
  void CheckInvariants() const;

  uint64_t match_;
  uint64_t next_;
  ProgressState state_ = ProgressState::kProbe;
  uint64_t pending_snapshot_ = 0;
  bool recent_active_ = false;
  bool msg_app_flow_paused_ = false;
  bool is_learner_ = false;
  Inflights inflights_;
};

}  // namespace raftstore::raft

#endif  // RAFTSTORE_CORE_RAFT_TRACKER_PROGRESS_H_
