// The raft log of one group as the consensus core sees it: the durable part,
// read through a Storage, followed by the Unstable tail the driver has yet to
// write; plus the commit and apply indexes.
//
// Indexes, all of which only grow:
//   applied   <= applying <= committed <= LastIndex()
//   applied:   the state machine has applied every entry up to here.
//   applying:  entries up to here have been handed to the state machine
//              (AcceptApplying), maybe not yet applied; with synchronous
//              application it simply equals applied.
//   committed: known to be stored on a quorum (paper §5.3, §5.4.2), so never
//              lost, never truncated, and safe to apply.
// Every mutation checks these with RS_CHECK; a violation is a bug in the
// caller or a driver breaking the Storage contract.
//
// Durability. An entry is durable locally once it is below the unstable
// tail's offset. NextCommittedEntries() never returns an entry that is not:
// a node must not apply, and so expose to clients, an entry that a crash
// could still make it forget (paper §5.3 requires entries to be stored before
// they are acted on; thesis §10.2.1 allows a leader to commit before its own
// write completes, but not to apply).
//
// What the driver must do, in this order, for each batch it gets from
// NextUnstableEntries()/NextUnstableSnapshot() (after AcceptUnstable()):
// write the snapshot and entries so that Storage reflects them, then call
// StableSnapTo()/StableTo(). A Storage that lags behind what it acknowledged
// makes the next invariant check fail.
//
// Besides, the driver may compact its Storage up to applied() at any time
// (thesis §5.1); reads below the new first index then return CompactedError().
//
// Thread-safety: none; a RaftLog belongs to one raft group, and its Storage
// must not change underneath it except as described above.
#ifndef RAFTSTORE_CORE_RAFT_LOG_RAFT_LOG_H_
#define RAFTSTORE_CORE_RAFT_LOG_RAFT_LOG_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/raft/log/storage.h"
#include "core/raft/log/unstable.h"
#include "proto/raft.pb.h"

namespace raftstore::raft {

// The position of one entry: its index and its term. By the Log Matching
// property (paper §5.3), two logs holding the same EntryId agree on every
// entry up to it.
struct EntryId {
  uint64_t index = 0;
  uint64_t term = 0;

  friend bool operator==(const EntryId&, const EntryId&) = default;
};

class RaftLog {
 public:
  // A log over `storage`, which is not owned and must outlive it. Starts
  // with nothing unstable, and with committed, applying and applied at the
  // storage's compaction point (FirstIndex() - 1): a snapshot holds only
  // applied, hence committed, entries. The caller then raises committed to
  // the persisted HardState's commit with CommitTo(). Requires storage !=
  // nullptr.
  explicit RaftLog(const Storage* storage);

  RaftLog(const RaftLog&) = delete;
  RaftLog& operator=(const RaftLog&) = delete;

  uint64_t committed() const { return committed_; }
  uint64_t applying() const { return applying_; }
  uint64_t applied() const { return applied_; }
  const Unstable& unstable() const { return unstable_; }

  // The index of the first entry still held (not compacted into a snapshot).
  uint64_t FirstIndex() const;
  // The index of the last entry, or of the latest snapshot if no entry
  // follows it; 0 for an empty log.
  uint64_t LastIndex() const;
  // The term of the last entry (of the snapshot if none follows it; 0 for an
  // empty log). Never fails: the term of LastIndex() is always known.
  uint64_t LastTerm() const;
  EntryId LastEntryId() const { return {LastIndex(), LastTerm()}; }

  // The term of the entry at `index`, known for index in [FirstIndex() - 1,
  // LastIndex()]. Returns CompactedError() below that range,
  // LogUnavailableError() above it, and any other Storage error unchanged.
  absl::StatusOr<uint64_t> Term(uint64_t index) const;

  // Whether the entry at `index` is known and has `term`. False when the
  // index is compacted or past the end: the caller cannot confirm a match.
  bool MatchTerm(uint64_t index, uint64_t term) const;

  // Whether a log ending in (last_index, term) is at least as up-to-date as
  // this one (paper §5.4.1): its last term is higher, or equal with a last
  // index at least ours. A voter grants its vote only to such a candidate.
  bool IsUpToDate(uint64_t last_index, uint64_t term) const;

  // The index of the first of `entries` (consecutive indexes) that this log
  // does not hold with the same term: either a conflict (same index,
  // different term) or the first entry past LastIndex(). Returns 0 if the log
  // already holds all of them, and for an empty list.
  uint64_t FindConflict(std::span<const Entry> entries) const;

  // Where this log may last match another log, knowing only that the other
  // has an entry (index, term). Returns the largest i <= min(index,
  // LastIndex()) whose term is <= `term`, with that term; or (i, 0) at the
  // first i whose term is unknown (compacted), since it may match; (0, 0) if
  // there is none. Entries of a higher term cannot match any entry of the
  // other log at or before `index`, since terms only grow along a log; so a
  // follower rejecting an append hints this position, and the leader, after
  // a rejection, uses it to skip a whole term of entries per round trip (the
  // optimisation of paper §5.3 / thesis §3.5).
  EntryId FindConflictByTerm(uint64_t index, uint64_t term) const;

  // The follower's side of AppendEntries (paper §5.3, Figure 2): if this log
  // holds the entry (prev_index, prev_term), adds `entries` (which must have
  // consecutive indexes starting at prev_index + 1), discarding any
  // conflicting suffix of this log, then raises committed to
  // min(leader_committed, prev_index + entries.size()), the last index the
  // leader vouched for. Returns that last index, or nullopt, changing nothing,
  // if the log does not hold (prev_index, prev_term). A conflict at or before
  // committed is a safety violation and fails an RS_CHECK.
  std::optional<uint64_t> MaybeAppend(uint64_t prev_index, uint64_t prev_term,
                                      uint64_t leader_committed,
                                      std::span<const Entry> entries);

  // Adds `entries` to the unstable tail, truncating any suffix from their
  // first index on, and returns the new LastIndex(). Requires consecutive
  // indexes, non-decreasing terms not below that of the entry before the
  // first, no gap after LastIndex(), and a first index > committed():
  // committed entries are never overwritten. An empty list changes nothing.
  uint64_t Append(std::span<const Entry> entries);
  // As MaybeAppend() and Append(), but the entries are moved into the log
  // instead of copied; `entries` is left holding moved-from values.
  std::optional<uint64_t> MaybeAppendMoved(uint64_t prev_index,
                                           uint64_t prev_term,
                                           uint64_t leader_committed,
                                           std::span<Entry> entries);
  uint64_t AppendMoved(std::span<Entry> entries);

  // Raises committed to `index` if that is higher; never lowers it. Requires
  // index <= LastIndex() when it raises: a log cannot commit what it does not
  // hold (if it fails, the log was corrupted, truncated or lost).
  void CommitTo(uint64_t index);

  // The leader's commit rule (paper §5.4.2): commits up to `index` only if the
  // entry there is of `term`, the leader's current term; an entry of an
  // earlier term is committed only indirectly, through a later one. Returns
  // whether committed advanced. A term of 0 never matches.
  bool MaybeCommit(uint64_t index, uint64_t term);

  // The state machine has applied every entry up to `index`. Requires
  // applied() <= index <= committed(). Raises applying() to at least index.
  void AppliedTo(uint64_t index);

  // Entries up to `index` have been handed to the state machine (from
  // NextCommittedEntries()). Requires applying() <= index <= committed().
  void AcceptApplying(uint64_t index);

  // The committed entries ready to apply: those after applying(), up to
  // min(committed(), last durable index), limited by bytes_max (at least one
  // entry if any is ready). Empty while a snapshot is pending in the unstable
  // tail: it must be applied first. Requires that after a snapshot is
  // restored and made durable, the caller applies it (AppliedTo(its index))
  // before asking for entries; a compacted range fails an RS_CHECK.
  std::vector<Entry> NextCommittedEntries(uint64_t bytes_max) const;

  // Whether NextCommittedEntries() would return anything; cheaper.
  bool HasNextCommittedEntries() const;

  // All entries not yet durable, including those being written.
  std::vector<Entry> UnstableEntries() const;

  // The unstable entries not yet handed to the driver.
  std::vector<Entry> NextUnstableEntries() const;
  bool HasNextUnstableEntries() const;
  // The pending snapshot if it has not been handed to the driver yet.
  std::optional<raft::Snapshot> NextUnstableSnapshot() const;

  // Marks the entries and snapshot returned by NextUnstableEntries() and
  // NextUnstableSnapshot() as handed to the driver.
  void AcceptUnstable();

  // The entries in [lo, hi), limited by bytes_max (at least one if lo < hi),
  // from storage and the unstable tail as needed. Returns CompactedError() if
  // lo < FirstIndex(), LogUnavailableError() if hi > LastIndex() + 1,
  // kInvalidArgument if lo > hi, and any other Storage error unchanged.
  absl::StatusOr<std::vector<Entry>> Slice(uint64_t lo, uint64_t hi,
                                           uint64_t bytes_max) const;

  // The entries from lo to the end, as Slice(lo, LastIndex() + 1, ...); empty
  // if lo > LastIndex(). This is what a leader sends a follower whose next
  // index is lo.
  absl::StatusOr<std::vector<Entry>> EntriesFrom(uint64_t lo,
                                                 uint64_t bytes_max) const;

  // Accepts a snapshot from the leader (thesis §5.1): the log becomes the
  // snapshot alone, pending durability, and committed moves to its index.
  // Requires a snapshot index >= committed() (the caller ignores older
  // snapshots; committed never decreases).
  void Restore(raft::Snapshot snapshot);

  // The driver has made entries up to (index, term) durable; see
  // Unstable::StableTo for when this is ignored.
  void StableTo(uint64_t index, uint64_t term);
  // The driver has made the snapshot at `index` durable.
  void StableSnapTo(uint64_t index);

  // The latest snapshot: the pending one if any, else the storage's (which
  // may return SnapshotTemporarilyUnavailableError()).
  absl::StatusOr<raft::Snapshot> Snapshot() const;

  // A one-line, deterministic description for logs and test failures:
  //   "committed=<c> applying=<a> applied=<p> first=<f> last=<l>
  //    unstable{<Unstable::ToString()>}"
  std::string ToString() const;

 private:
  // MaybeAppend() over `entries`, moving from `owned` (the same entries)
  // when it is not empty.
  std::optional<uint64_t> MaybeAppendImpl(uint64_t prev_index,
                                          uint64_t prev_term,
                                          uint64_t leader_committed,
                                          std::span<const Entry> entries,
                                          std::span<Entry> owned);
  // The checks of Append(); false when there is nothing to append.
  bool CheckAppend(std::span<const Entry> entries) const;
  // The highest index that may be applied: committed and durable.
  uint64_t MaxAppliableIndex() const;

  // Checks applied <= applying <= committed <= LastIndex().
  void CheckInvariants() const;

  const Storage* storage_;
  Unstable unstable_;
  uint64_t committed_;
  uint64_t applying_;
  uint64_t applied_;
};

}  // namespace raftstore::raft

#endif  // RAFTSTORE_CORE_RAFT_LOG_RAFT_LOG_H_
