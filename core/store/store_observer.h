// StoreObserver: a read-only view into the decisions of a store's peers, for
// checkers (the simulator's raft safety checker) and tracing. Everything a
// driver cannot see in StoreEffects: leadership as raft decides it, and each
// entry as it is applied. What is written (entries, hard states, snapshots)
// the driver sees in StoreEffects::write itself.
//
// Calls come synchronously from inside Store's methods, in a deterministic
// order; an observer must not call back into the store. The default methods
// do nothing, so an observer overrides only what it needs.
//
// Thread-safety: called on the thread that drives the store.
#ifndef RAFTSTORE_CORE_STORE_STORE_OBSERVER_H_
#define RAFTSTORE_CORE_STORE_STORE_OBSERVER_H_

#include <cstdint>

#include "core/raft/log/raft_log.h"
#include "proto/raft.pb.h"

namespace raftstore::store {

class StoreObserver {
 public:
  virtual ~StoreObserver() = default;

  // The local peer `peer_id` of `region_id` became leader of `term`; `log`
  // is its raft log at that moment (valid only during the call).
  virtual void OnLeader(uint64_t region_id, uint64_t peer_id, uint64_t term,
                        const raft::RaftLog& log) {}
  // The local peer applied `entry` (the entry after its last applied one)
  // while raft was at `term`.
  virtual void OnApplied(uint64_t region_id, uint64_t peer_id,
                         const raft::Entry& entry, uint64_t term) {}
  // The local peer replaced its state machine with a leader's snapshot at
  // (index, term); it applies from index + 1 on.
  virtual void OnSnapshotInstalled(uint64_t region_id, uint64_t peer_id,
                                   uint64_t index, uint64_t term) {}
};

}  // namespace raftstore::store

#endif  // RAFTSTORE_CORE_STORE_STORE_OBSERVER_H_
