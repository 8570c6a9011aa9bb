// The tail of the raft log that the core has accepted but the driver has not
// yet acknowledged as durable: new entries (appended by a leader, or received
// by a follower) and at most one incoming snapshot.
//
// Raft requires an entry to be on stable storage before a node counts it
// towards commitment or answers for it (paper §5.3, Figure 2: "persistent
// state ... updated on stable storage before responding"). The core cannot
// write, so it keeps what is pending here, hands it to the driver, and drops
// it once the driver reports it durable (StableTo, StableSnapTo); from then on
// the same entries are read back through Storage. Until then, this is the
// authoritative copy of the log from `offset` on.
//
// Indexes. entries()[i] has index offset() + i. offset() may be at or below
// the storage's last index + 1: a follower whose unstable tail replaced part of
// its stored log (a conflict, paper §5.3) holds the new entries here, and the
// driver truncates the stored log when it persists them. Every entry before
// offset() is on stable storage, which is what lets the log tell which
// committed entries may be applied.
//
// In-progress tracking (thesis §10.2.1: writing to disk in parallel with
// replication). With asynchronous persistence several writes may be in
// flight at once, so the entries handed to the driver are remembered: those
// before offset_in_progress() are being written, NextEntries() returns only
// the ones after, and AcceptInProgress() marks everything current as handed
// out. The same holds for the snapshot with snapshot_in_progress().
//
// Invariants, checked after every mutation:
//   offset <= offset_in_progress <= offset + entries.size();
//   entries have consecutive indexes starting at offset;
//   a snapshot, if present, is at an index below offset;
//   snapshot_in_progress implies a snapshot is present.
//
// Thread-safety: none; an Unstable belongs to one raft group's log.
#ifndef RAFTSTORE_CORE_RAFT_LOG_UNSTABLE_H_
#define RAFTSTORE_CORE_RAFT_LOG_UNSTABLE_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "proto/raft.pb.h"

namespace raftstore::raft {

class Unstable {
 public:
  // No entries and no snapshot; the next entry expected is at `offset`, which
  // the log sets to its storage's last index + 1. Requires offset >= 1.
  explicit Unstable(uint64_t offset);

  // The index of the first entry, entries()[0], even when entries() is empty.
  uint64_t offset() const { return offset_; }
  // Entries before this index have been handed to the driver for writing;
  // offset() <= offset_in_progress() <= offset() + entries().size().
  uint64_t offset_in_progress() const { return offset_in_progress_; }
  const std::vector<Entry>& entries() const { return entries_; }
  // The incoming snapshot not yet acknowledged by the driver, if any.
  const std::optional<raft::Snapshot>& snapshot() const { return snapshot_; }
  // Whether snapshot() has been handed to the driver.
  bool snapshot_in_progress() const { return snapshot_in_progress_; }

  // The first index of the log if a snapshot is pending: the one after the
  // snapshot. Otherwise nullopt, since the first index is the storage's.
  std::optional<uint64_t> MaybeFirstIndex() const {
    if (snapshot_.has_value()) return snapshot_->metadata().index() + 1;
    return std::nullopt;
  }

  // The last index of the log if this tail determines it: that of the last
  // entry, or without entries and with a snapshot pending, offset() - 1 (the
  // snapshot's index, unless entries after it were already made durable).
  // Otherwise nullopt, since the last index is the storage's.
  // (Defined here: raft asks for it on every step, and its invariant checks
  // more than once.)
  std::optional<uint64_t> MaybeLastIndex() const {
    if (!entries_.empty()) return offset_ + entries_.size() - 1;
    // Without entries, the log ends where the snapshot does; or, if entries
    // after the snapshot have already been acknowledged (the driver writes
    // a snapshot before the entries that follow it), just before offset_,
    // since everything below offset_ is durable.
    if (snapshot_.has_value()) return offset_ - 1;
    return std::nullopt;
  }

  // The term of the entry at `index` if this tail knows it: an entry held
  // here, or the pending snapshot's own index. Otherwise nullopt.
  std::optional<uint64_t> MaybeTerm(uint64_t index) const {
    if (index < offset_) {
      if (snapshot_.has_value() && snapshot_->metadata().index() == index) {
        return snapshot_->metadata().term();
      }
      return std::nullopt;
    }
    if (index - offset_ >= entries_.size()) return std::nullopt;
    return entries_[index - offset_].term();
  }

  // The entries not yet handed to the driver, those from
  // offset_in_progress() on. The span is valid until the next mutation.
  std::span<const Entry> NextEntries() const;

  // The pending snapshot if it has not been handed to the driver yet.
  std::optional<raft::Snapshot> NextSnapshot() const;

  // Marks every current entry, and the snapshot if any, as handed to the
  // driver: NextEntries() and NextSnapshot() return nothing until more
  // arrives.
  void AcceptInProgress();

  // The driver has made entries up to `index` durable, and the entry at
  // `index` it wrote had `term`. Drops the entries up to `index` and moves
  // offset() past them. Does nothing if `index` is not an entry held here, or
  // if the entry held there now has a different term: the log was truncated
  // and rewritten while the write was in flight, so what was written is not
  // what the log holds now (the later write of the replacement will be
  // acknowledged in turn).
  void StableTo(uint64_t index, uint64_t term);

  // The driver has made the snapshot at `index` durable: drops it if it is
  // the pending one, and does nothing otherwise.
  void StableSnapTo(uint64_t index);

  // Replaces everything by `snapshot`, which the log has accepted (thesis
  // §5.1): no entries, offset just after the snapshot, nothing in progress.
  // Requires a snapshot index >= 1 (the imaginary entry 0 is never sent).
  void Restore(raft::Snapshot snapshot);

  // Adds `entries`, which must be non-empty with consecutive indexes, and
  // must start no later than offset() + entries().size() (no gap). Three
  // cases, by the first new index:
  //   - right after the last entry: appended;
  //   - at or before offset(): they replace everything held here, and offset()
  //     moves to their first index (the driver will truncate the stored log
  //     when it writes them); nothing is in progress any more;
  //   - in between: the entries from the first new index on are discarded
  //     (a conflict, paper §5.3) and the new ones appended; writes in
  //     progress beyond the cut no longer count.
  // With a snapshot pending, the first new index must be after it. `entries`
  // must not point into entries(), which this may reallocate.
  void TruncateAndAppend(std::span<const Entry> entries);
  // As TruncateAndAppend(), but moves the entries in instead of copying them
  // (the hot path: a leader's proposals, a follower's received appends);
  // `entries` is left holding moved-from values.
  void TruncateAndAppendMoved(std::span<Entry> entries);

  // The entries with indexes in [lo, hi). Requires offset() <= lo <= hi <=
  // offset() + entries().size(). The span is valid until the next mutation.
  std::span<const Entry> Slice(uint64_t lo, uint64_t hi) const;

  // A one-line, deterministic description for logs and test failures:
  //   "offset=<o> offset_in_progress=<p> entries=<n>[ snapshot=<i>
  //    [ (in progress)]]"
  // with the snapshot part only when one is pending.
  std::string ToString() const;

 private:
  // The checks and truncation of TruncateAndAppend(), before the entries
  // are added.
  void PrepareAppend(std::span<const Entry> entries);
  void CheckInvariants() const;

  std::optional<raft::Snapshot> snapshot_;
  std::vector<Entry> entries_;
  uint64_t offset_;
  uint64_t offset_in_progress_;
  bool snapshot_in_progress_ = false;
};

}  // namespace raftstore::raft

#endif  // RAFTSTORE_CORE_RAFT_LOG_UNSTABLE_H_
