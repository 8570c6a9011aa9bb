// An in-memory Storage, for tests and the deterministic simulator, where
// "persisting" an entry means copying it into this object.
//
// Besides the read-only Storage interface the core uses, it offers the writer
// methods a driver calls once it has "made durable" what the core handed it:
// SetHardState, Append, ApplySnapshot, plus the log-compaction pair
// CreateSnapshot and Compact (thesis §5.1).
//
// Representation. entries_[0] is a dummy entry standing for the compaction
// point: its index and term are those of the last entry folded into a
// snapshot (index 0, term 0 for a log never compacted), and its data is
// empty. The real entries follow it, so entries_[i] has index
// entries_[0].index() + i. Keeping the dummy makes Term(FirstIndex() - 1)
// answerable without special cases.
//
// Every writer checks its input and returns a status instead of changing
// anything when the input does not fit the log: the writers are the boundary
// where a faulty driver (or simulator fault) meets the log.
//
// Thread-safety: none. The simulator and the tests use it from one thread; it
// must not be shared between threads without external locking.
#ifndef RAFTSTORE_CORE_RAFT_LOG_MEMORY_STORAGE_H_
#define RAFTSTORE_CORE_RAFT_LOG_MEMORY_STORAGE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/raft/log/storage.h"
#include "proto/raft.pb.h"

namespace raftstore::raft {

class MemoryStorage : public Storage {
 public:
  // An empty log (FirstIndex() = 1, LastIndex() = 0), an empty hard state
  // and an empty snapshot.
  MemoryStorage();

  // Storage. These never fail with anything but the errors Storage documents.
  absl::StatusOr<InitialState> GetInitialState() const override;
  absl::StatusOr<std::vector<Entry>> Entries(uint64_t lo, uint64_t hi,
                                             uint64_t bytes_max) const override;
  absl::StatusOr<uint64_t> Term(uint64_t index) const override;
  uint64_t FirstIndex() const override;
  uint64_t LastIndex() const override;
  absl::StatusOr<raft::Snapshot> Snapshot() const override;

  // Replaces the stored hard state. Never fails: a hard state is always
  // written whole.
  void SetHardState(const HardState& hard_state);

  // Appends `entries`, which must have consecutive indexes and non-decreasing
  // terms. If they overlap the stored log, the stored suffix from the first
  // new index on is discarded first: a follower's conflicting entries are
  // replaced by the leader's (paper §5.3). Entries at or before the
  // compaction point are already in the snapshot and are skipped. An empty
  // list, or one wholly compacted, changes nothing.
  // Returns, changing nothing:
  //   kInvalidArgument if the indexes are not consecutive, or the terms
  //     decrease (within the list, or from the stored entry just before the
  //     first one kept): a raft log's terms never decrease (paper §5.3).
  //   kFailedPrecondition if the first entry kept would leave a gap after
  //     LastIndex().
  absl::Status Append(std::vector<Entry> entries);

  // Replaces the whole log by `snapshot`: afterwards the log is empty with its
  // compaction point at the snapshot's (index, term). Used when a leader sends
  // a snapshot to a follower too far behind (thesis §5.1). Returns
  // SnapshotOutOfDateError(), changing nothing, if the snapshot's index is not
  // past both the current snapshot and the compaction point (unless both are
  // still 0, which lets a new node be bootstrapped with an index-0 snapshot
  // that only carries a ConfState); and kInvalidArgument if its term is 0
  // while its index is not, or the other way round, since only the imaginary
  // entry 0 has term 0.
  absl::Status ApplySnapshot(raft::Snapshot snapshot);

  // Records a snapshot of the state machine as of entry `index`, which the
  // caller has applied; conf_state must be the membership as of that entry.
  // The log itself is left alone: Compact() discards entries separately, so
  // that a few entries before the snapshot can be kept for slow followers.
  // Returns the new snapshot, or, changing nothing:
  //   SnapshotOutOfDateError() if index <= the current snapshot's index;
  //   CompactedError() if index < FirstIndex() - 1 (its term is gone);
  //   LogUnavailableError() if index > LastIndex().
  absl::StatusOr<raft::Snapshot> CreateSnapshot(uint64_t index,
                                                const ConfState& conf_state,
                                                std::string data);

  // Discards the entries up to and including compact_index, which becomes the
  // new compaction point; its term is kept. The caller must only compact
  // entries it has applied. Returns, changing nothing, CompactedError() if
  // compact_index <= FirstIndex() - 1 (already compacted), or
  // LogUnavailableError() if compact_index > LastIndex().
  // Compacting past the latest snapshot is allowed (tests rely on it) but a
  // storage that serves a leader must not do it: Snapshot() would then be
  // older than FirstIndex() - 1, and a follower sent it would be probed at
  // an index that is gone and sent the same snapshot again, forever.
  absl::Status Compact(uint64_t compact_index);

 private:
  // The index of the compaction point, entries_[0].index().
  uint64_t CompactionIndex() const { return entries_.front().index(); }

  // Checks that entries_ is non-empty, consecutive and its terms
  // non-decreasing, and that the dummy carries no data.
  void CheckInvariants() const;

  HardState hard_state_;
  raft::Snapshot snapshot_;
  // entries_[0] is the dummy entry at the compaction point; never empty.
  std::vector<Entry> entries_;
};

}  // namespace raftstore::raft

#endif  // RAFTSTORE_CORE_RAFT_LOG_MEMORY_STORAGE_H_
