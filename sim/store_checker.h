// Raft safety for the store mode: one RaftChecker (sim/raft_checker.h) per
// region, fed from two sides.
//
//   - The stores themselves, through store::StoreObserver (handed to
//     Store::Open): leadership (OnLeader), every applied entry (OnApplied),
//     and state machines replaced by a leader's snapshot
//     (OnSnapshotInstalled).
//   - The driver (sim/store_node.h), for what only it sees: the records of
//     each write as it is staged (snapshots, entries, hard states), each
//     WAL sync, what each restart recovers, and disks lost for good.
//
// Replicas are named by peer id, which is unique in a cluster and never
// reused (a store that hosts a region again after a tombstone does so under
// a new peer id), so a (region, peer id) is one replica with one durable log
// for its whole life. Each region's checker numbers its replicas 1, 2, ...
// in order of first appearance (a violation's detail names the numbers; the
// report maps them back to peers and stores).
//
// Thread-safety: none; the simulator is single-threaded.
#ifndef RAFTSTORE_SIM_STORE_CHECKER_H_
#define RAFTSTORE_SIM_STORE_CHECKER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "core/raft/log/raft_log.h"
#include "core/store/store_observer.h"
#include "proto/raft.pb.h"
#include "sim/raft_checker.h"
#include "sim/trace.h"

namespace raftstore::sim {

class StoreChecker final : public store::StoreObserver {
 public:
  // Distinct peers one region may ever have (its checker's size). The
  // nemesis stops adding peers to a region well before (PeersSeen).
  static constexpr int kReplicasPerRegionMax = 64;
  // Violations kept over all regions; later ones are only counted.
  static constexpr size_t kViolationsMax = 32;

  void set_now_us(uint64_t now_us) { now_us_ = now_us; }
  // With a text trace, every leader and every applied admin entry (splits,
  // merges, membership changes) gets a line. Not owned; may be null.
  void set_trace(Trace* trace) { trace_ = trace; }

  // store::StoreObserver.
  void OnLeader(uint64_t region_id, uint64_t peer_id, uint64_t term,
                const raft::RaftLog& log) override;
  void OnApplied(uint64_t region_id, uint64_t peer_id, const raft::Entry& entry,
                 uint64_t term) override;
  void OnSnapshotInstalled(uint64_t region_id, uint64_t peer_id, uint64_t index,
                           uint64_t term) override;

  // The driver of store `store_id`, as it stages a write: a snapshot of the
  // region's peer (`installed`: from the leader, it replaces the log; else
  // the peer's own, a compaction or a bootstrap), its entries, its hard
  // state. Each marks the replica as written since the store's last sync.
  void OnSnapshotWritten(uint64_t store_id, uint64_t region_id,
                         uint64_t peer_id, uint64_t index, uint64_t term,
                         bool installed);
  void OnWritten(uint64_t store_id, uint64_t region_id, uint64_t peer_id,
                 std::span<const raft::Entry> entries);
  void OnHardStateWritten(uint64_t store_id, uint64_t region_id,
                          uint64_t peer_id, const raft::HardState& hard_state);
  // The store's WAL synced: every replica it wrote is durable.
  void OnSynced(uint64_t store_id);
  // The store restarted and its WAL gave this back for the region's peer;
  // its state machine starts after `applied_index`.
  void OnRecovered(uint64_t store_id, uint64_t region_id, uint64_t peer_id,
                   uint64_t snapshot_index, uint64_t snapshot_term,
                   std::span<const raft::Entry> entries,
                   const raft::HardState& hard_state, uint64_t applied_index);
  // The store crashed: what it wrote and did not sync is in doubt (nothing
  // to record until it recovers; kept for symmetry in traces).
  void OnCrashed(uint64_t store_id);
  // The store's disk is gone for good (detected corruption): every replica
  // it ever held loses its durability promises.
  void OnDiskLost(uint64_t store_id);

  // A violation the driver found itself (a clean disk that did not
  // recover, replicas that diverged).
  void Report(std::string property, std::string detail);

  // Every violation, each region's prefixed with the region and a legend of
  // its replica numbers.
  std::vector<SafetyViolation> violations() const;
  // Entries checked for state machine safety, over all regions (a progress
  // measure for the event budget).
  uint64_t applied_entries() const;
  // Distinct peers seen for the region so far.
  size_t PeersSeen(uint64_t region_id) const;
  size_t regions() const { return regions_.size(); }

 private:
  struct Region {
    std::unique_ptr<RaftChecker> checker;
    absl::btree_map<uint64_t, int> slots;  // peer id -> replica number
    // replica number - 1 -> (peer id, store id)
    std::vector<std::pair<uint64_t, uint64_t>> peers;
  };

  Region& region(uint64_t region_id);
  // The replica number of (region, peer), allocated on first sight;
  // store_id 0 when unknown (observer calls).
  int Slot(Region& r, uint64_t peer_id, uint64_t store_id);
  void MarkWritten(uint64_t store_id, uint64_t region_id, uint64_t peer_id);

  uint64_t now_us_ = 0;
  Trace* trace_ = nullptr;
  absl::btree_map<uint64_t, Region> regions_;
  // Per store: replicas written since its last sync, and every replica it
  // ever held.
  absl::btree_map<uint64_t, absl::btree_set<std::pair<uint64_t, uint64_t>>>
      unsynced_;
  absl::btree_map<uint64_t, absl::btree_set<std::pair<uint64_t, uint64_t>>>
      held_;
  std::vector<SafetyViolation> own_violations_;
  uint64_t violations_dropped_ = 0;
};

}  // namespace raftstore::sim

#endif  // RAFTSTORE_SIM_STORE_CHECKER_H_
