// RawNode: the driver's interface to one raft group, in the style of
// etcd-io/raft's rawnode.go. The driver feeds inputs (Tick, Step, Propose,
// ...), then loops:
//
//   while (node.HasReady()) {
//     Ready rd = node.GetReady();
//     persist rd.snapshot, rd.entries, rd.hard_state (fsync if must_sync);
//     send rd.messages;            // see the ordering duties on Ready
//     apply rd.snapshot, then rd.committed_entries, to the state machine;
//     serve rd.read_states once applied >= their index;
//     node.Advance(rd);
//   }
//
// Thread-safety: none; one RawNode belongs to one thread.
#ifndef RAFTSTORE_CORE_RAFT_RAW_NODE_H_
#define RAFTSTORE_CORE_RAFT_RAW_NODE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/base/rng.h"
#include "core/raft/raft.h"
#include "proto/raft.pb.h"

namespace raftstore::raft {

// Everything the driver must do after some inputs. The ordering duties:
//
// 1. Durability before messages. `snapshot`, `entries` and `hard_state`
//    of this Ready and of every earlier one must be durable (synced, if
//    must_sync) before any of `messages` is sent: a vote or an append
//    acknowledgement promises that its sender will remember (paper Figure
//    2, "before responding to RPCs"), and an acknowledgement in a later
//    Ready may cover entries an earlier Ready is still writing.
//    The one exception (thesis §10.2.1): a leader's MESSAGE_TYPE_APPEND and
//    MESSAGE_TYPE_SNAPSHOT and MESSAGE_TYPE_HEARTBEAT messages may be sent
//    before or while its own `entries` are written. That is safe because
//    the leader counts its own entries towards commitment only when the
//    driver acknowledges them with Advance(): Raft sets the leader's own
//    match to the last index the driver has reported durable, never to
//    the last index it appended. (Every other message, of any role, waits
//    for the write.)
// 2. `entries` must be written after `snapshot` (the snapshot replaces the
//    log they follow), and an entry at an index already stored replaces
//    that stored entry and every later one (a conflict, paper §5.3).
// 3. `committed_entries` are committed and already durable locally, so they
//    may be applied as soon as the Ready is handed out, even in parallel
//    with writing `entries`; but in order, after `snapshot` is installed in
//    the state machine, and each CONF_CHANGE entry must be passed to
//    ApplyConfChange() when it is applied.
// 4. A ReadState may be served only once the state machine has applied at
//    least its index.
// 5. Advance(ready) once all of the above is done, with Readys in the order
//    they were handed out. The driver may move `entries` and
//    `committed_entries` out of the Ready before that (Advance reads what it
//    acknowledges from `acknowledged`).
struct Ready {
  // The term, vote and commit index to persist; absent if unchanged.
  std::optional<HardState> hard_state;
  // Entries to append to stable storage.
  std::vector<Entry> entries;
  // A snapshot from the leader to persist and install.
  std::optional<Snapshot> snapshot;
  // Messages to send, in order, once the duties above allow.
  std::vector<Message> messages;
  // Entries to apply, in order.
  std::vector<Entry> committed_entries;
  // Linearizable reads now servable (see duty 4).
  std::vector<ReadState> read_states;
  // Leader and role, if they changed.
  std::optional<SoftState> soft_state;
  // Whether the writes must be synced before messages go out: new entries,
  // a snapshot, or a changed term or vote. A commit index change alone need
  // not be synced (it can be recomputed).
  bool must_sync = false;

  // What Advance() acknowledges, recorded by GetReady() so that a driver may
  // move `entries` into its storage and `committed_entries` into its state
  // machine instead of copying them. Drivers never set these.
  struct Acknowledged {
    // The last of `entries` (0 when there are none).
    uint64_t persisted_index = 0;
    uint64_t persisted_term = 0;
    // The last of `committed_entries` (0 when there are none) and their
    // payload bytes.
    uint64_t applied_index = 0;
    uint64_t applied_bytes = 0;
  };
  Acknowledged acknowledged;
};

class RawNode {
 public:
  // Errors: those of Raft::Create().
  static absl::StatusOr<std::unique_ptr<RawNode>> Create(const Config& config,
                                                         Rng* rng);
  // Fails an RS_CHECK where Create() returns an error.
  RawNode(const Config& config, Rng* rng);

  // Pass-throughs to Raft; see there.
  void Tick() { raft_.Tick(); }
  bool Campaign() { return raft_.Campaign(); }
  absl::Status Step(const Message& message) { return raft_.Step(message); }
  ProposeResult Propose(std::vector<Entry> entries) {
    return raft_.Propose(std::move(entries));
  }
  // Proposes one NORMAL entry carrying `data`.
  ProposeResult Propose(std::string data);
  ProposeResult ProposeConfChange(const ConfChange& change) {
    return raft_.ProposeConfChange(change);
  }
  absl::StatusOr<ConfState> ApplyConfChange(const ConfChange& change) {
    return raft_.ApplyConfChange(change);
  }
  TransferResult TransferLeader(uint64_t target) {
    return raft_.TransferLeader(target);
  }
  ReadIndexResult ReadIndex(std::string context) {
    return raft_.ReadIndex(std::move(context));
  }
  void ReportSnapshot(uint64_t id, bool success) {
    raft_.ReportSnapshot(id, success);
  }
  void ReportUnreachable(uint64_t id) { raft_.ReportUnreachable(id); }

  // Whether GetReady() would return anything to do.
  bool HasReady() const;
  // Collects what the driver must do and marks it as handed out: the next
  // Ready holds only what is new.
  Ready GetReady();
  // Acknowledges that `ready` has been fully handled (see the duties on
  // Ready): its entries and snapshot are durable and its committed entries
  // applied.
  void Advance(const Ready& ready);

  const Raft& raft() const { return raft_; }
  Raft& mutable_raft() { return raft_; }

 private:
  Raft raft_;
  SoftState prev_soft_state_;
  HardState prev_hard_state_;
};

}  // namespace raftstore::raft

#endif  // RAFTSTORE_CORE_RAFT_RAW_NODE_H_
