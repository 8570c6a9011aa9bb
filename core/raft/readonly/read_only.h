// Linearizable reads without writing to the log: the ReadIndex protocol
// (thesis 6.4), leader side.
//
// A read is safe to serve at index R once (1) the leader has committed an
// entry of its own term, so its commit index is at least as new as any
// leader's before it, (2) R is its commit index when the read arrived, and
// (3) a quorum has acknowledged a heartbeat sent after the read arrived,
// proving the leader was still the leader then. The node checks (1) before
// calling AddRequest; this class does (2) and (3).
//
// Batching: every pending read waits for the heartbeat round of the newest
// request. A quorum that acknowledges the round of request k also confirms
// leadership for every request queued before k (their rounds began earlier),
// so Advance(k) releases all of them at once: many reads, one round.
//
// Bounds: at most `pending_reads_max` requests wait at a time; beyond that
// AddRequest refuses, and the caller answers the client with ServerBusy.
//
// Thread-safety: none; owned by one raft node.
#ifndef RAFTSTORE_CORE_RAFT_READONLY_READ_ONLY_H_
#define RAFTSTORE_CORE_RAFT_READONLY_READ_ONLY_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "core/raft/quorum/quorum.h"

namespace raftstore::raft {

// One read request waiting for leadership to be confirmed.
struct ReadIndexStatus {
  // Identifies the request; unique among pending requests.
  std::string context;
  // The commit index when the request arrived: the read may be served once
  // the state machine has applied it.
  uint64_t index = 0;
  // The peer that asked (a follower forwarding a read), or 0 for the leader's
  // own clients.
  uint64_t from = 0;
  // Peers that acknowledged a heartbeat carrying exactly this context,
  // including the leader itself. (Acks of a later context confirm this
  // request too; Advance() accounts for that by releasing the whole prefix.)
  absl::btree_set<uint64_t> acks;
};

enum class AddReadResult {
  kAdded,
  // The same context is already pending; the request is a duplicate.
  kDuplicate,
  // pending_reads_max requests are already waiting.
  kFull,
};

class ReadOnly {
 public:
  // Requires pending_reads_max > 0.
  explicit ReadOnly(size_t pending_reads_max);

  // Queues a read at `index` (the leader's commit index now) for `context`,
  // which the leader sends in its next heartbeat round. `self` is the
  // leader's id, which acknowledges its own round at once.
  AddReadResult AddRequest(uint64_t index, const std::string& context,
                           uint64_t from, uint64_t self);

  // Records that `from` acknowledged the heartbeat round of `context`.
  // Returns the acknowledgers of that request so far, or nullptr when
  // `context` is not pending (a late or stray response; not an error).
  const absl::btree_set<uint64_t>* RecvAck(uint64_t from,
                                           const std::string& context);

  // Whether the acknowledgers of `context` form a quorum of `voters`.
  // False when `context` is not pending.
  bool HasQuorum(const quorum::JointConfig& voters,
                 const std::string& context) const;

  // Releases `context` and every request queued before it, in arrival
  // order. Returns nothing when `context` is not pending.
  std::vector<ReadIndexStatus> Advance(const std::string& context);

  // The context of the newest pending request, which the next heartbeat
  // round should carry; empty when nothing is pending.
  std::string LastPendingContext() const;

  // Drops every pending request (on stepping down: a deposed leader must
  // never answer them). Returns them so the caller can fail each one.
  std::vector<ReadIndexStatus> Reset();

  size_t pending() const { return queue_.size(); }
  size_t pending_reads_max() const { return pending_reads_max_; }

 private:
  void CheckInvariants() const;

  size_t pending_reads_max_;
  // Arrival order; each element's context is a key of `statuses_`.
  std::deque<std::string> queue_;
  absl::btree_map<std::string, ReadIndexStatus> statuses_;
};

}  // namespace raftstore::raft

#endif  // RAFTSTORE_CORE_RAFT_READONLY_READ_ONLY_H_
