// One simulated store process of the store mode: a whole store::Store
// (core/store) over its own SimDisk, with the real manifest, WAL and
// snapshot files (core/storage), driven as a production driver drives it
// (docs/store.md, "Driving a store"), on the simulator's virtual time.
//
// After every input (a tick, a message batch from another store, a client
// request, an admin command, a write completing) the node takes the store's
// effects and carries them out in the order rules of store_effects.h:
//
//   1. manifest_edit: Manifest::Apply (synced) at once, before anything of
//      the write is staged; an edit that comes while a write is in flight
//      is applied at once too (it precedes every later write);
//   2. write: after a drawn write latency, StageWriteBatch (snapshot files,
//      published, then the WAL records) and Wal::Write (the bytes reach the
//      disk unsynced); if must_sync, after a drawn fsync latency, Wal::Sync;
//      then Store::OnPersisted; then, when the write had snapshots,
//      RemoveStaleSnapshotFiles(LiveSnapshotFiles()) and
//      Wal::CollectGarbage. One write is in flight at a time (the store's
//      rule); meanwhile messages and replies keep flowing;
//   3. messages: one RaftMessageBatch per destination store, into the
//      SimNetwork as an object (no fault touches its bytes);
//   4. replies to clients over the network; admin replies and split
//      suggestions to the cluster's nemesis (a placement driver beside the
//      cluster, not behind the network).
//
// A crash (kill -9) can land between any two of the timed steps: after the
// manifest edit and before the staging, between the staging and the sync,
// with the SimDisk keeping, tearing or dropping each unsynced sector. A
// restart reopens the manifest, the WAL and the snapshot files and calls
// Store::Open. Storage errors fail-stop the process (a failed fsync is never
// retried) and a supervisor restarts it an election timeout later. A
// recovery that reports DataLoss leaves the store down for good (its disk
// is lost, as an operator would rebuild it, RaftChecker::OnDiskLost): on a
// store with media faults that is expected; on a store without any, a clean
// disk failed to recover, which is reported as a "recovery" violation.
//
// The node reports what it writes, syncs and recovers to the StoreChecker
// (sim/store_checker.h), and hands it to Store::Open as the observer.
//
// Thread-safety: none; the simulator is single-threaded.
#ifndef RAFTSTORE_SIM_STORE_NODE_H_
#define RAFTSTORE_SIM_STORE_NODE_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/functional/any_invocable.h"
#include "core/base/rng.h"
#include "core/storage/manifest/manifest.h"
#include "core/storage/wal/wal.h"
#include "core/store/region_hooks.h"
#include "core/store/store.h"
#include "proto/region.pb.h"
#include "proto/store.pb.h"
#include "sim/disk.h"
#include "sim/event_queue.h"
#include "sim/network/payload.h"
#include "sim/store_checker.h"
#include "sim/store_options.h"
#include "sim/trace.h"

namespace raftstore::sim {

// The cluster id every simulated store belongs to.
inline constexpr uint64_t kSimClusterId = 7;

// StoreConfig::stale_peer_check_ticks of the simulated stores: a replica
// that hears no leader for 10 election timeouts asks its members whether it
// was removed. The convergence check waits for a few of these periods.
inline uint64_t StaleCheckTicks(const SimOptions& o) {
  return 10 * static_cast<uint64_t>(o.election_tick);
}

struct StoreNodeStats {
  uint64_t crashes = 0;
  uint64_t restarts = 0;
  uint64_t fail_stops = 0;
  uint64_t pauses = 0;
  uint64_t garbage = 0;  // undecodable or refused payloads
  uint64_t writes = 0;
  uint64_t syncs = 0;
  uint64_t manifest_edits = 0;
  uint64_t snapshots_written = 0;
  uint64_t segments_removed = 0;
};

// Test builds only (tests/sim_store): deliberately wrong drivers, to prove
// the checkers catch them.
enum class StoreDriverBug {
  kNone,
  // OnPersisted right after staging, before the fsync: held votes and
  // append acknowledgements leave for data a crash may still lose.
  kAckBeforeSync,
  // Collects snapshot files when a write that has snapshots is staged,
  // keeping only that write's own: every other region's live snapshot file
  // goes, and the next restart cannot read what its WAL points at.
  kCollectSnapshotsEarly,
};

class SimStoreNode {
 public:
  // Sends `payload` to network endpoint `to` (store k is endpoint k - 1).
  using SendFn = absl::AnyInvocable<void(int to, Payload&& payload)>;
  // Told when the process comes up (true) or goes down (false).
  using UpFn = absl::AnyInvocable<void(bool up)>;
  using AdminReplyFn = absl::AnyInvocable<void(uint64_t store_id,
                                               const store::AdminReply& reply)>;
  using SplitSuggestionFn = absl::AnyInvocable<void(
      uint64_t store_id, const store::SplitSuggestion& suggestion)>;

  struct Callbacks {
    SendFn send;
    UpFn on_up;
    AdminReplyFn on_admin_reply;
    SplitSuggestionFn on_split_suggestion;
  };

  // `store_id` is 1-based; `regions` are the cluster's bootstrap regions
  // (the node bootstraps those with a peer on it). Every pointer must
  // outlive the node. The node is down until Start().
  SimStoreNode(uint64_t store_id, const StoreSimOptions* options,
               std::vector<meta::Region> regions, EventQueue* events,
               StoreChecker* checker, Trace* trace, Rng rng,
               Callbacks callbacks);
  ~SimStoreNode();

  // Starts (or restarts) the process from its disk. Returns false when it
  // cannot start now: for good (DataLoss; disk_lost() turns true) or for a
  // while (another error: a later Start may succeed).
  bool Start();
  // kill -9: the process's memory is lost; the disk keeps what it keeps.
  void Crash();
  // SIGSTOP until `until_us`: ticks, deliveries and disk completions wait.
  void Pause(uint64_t until_us);
  // SIGCONT: ends a pause now.
  void Resume();
  // Disk writes take kSlowDiskFactor times longer until `until_us`.
  void SlowDisk(uint64_t until_us) { slow_disk_until_us_ = until_us; }
  static constexpr uint64_t kSlowDiskFactor = 10;

  // A payload from endpoint `from`: a RaftMessageBatch from a store, or a
  // kv::KvRequest from a client (objects, or their bytes).
  void Receive(int from, Payload&& payload);
  // An admin command from the nemesis; its answer comes through
  // on_admin_reply with reply_to = token. Dropped if the process is down.
  void SubmitAdmin(uint64_t token, const store::AdminRequest& request);

  bool up() const { return store_ != nullptr; }
  bool paused() const;
  bool disk_lost() const { return disk_lost_; }
  // Whether the process is up, not paused, and can be asked things.
  bool running() const { return up() && !paused(); }
  uint64_t id() const { return id_; }
  // The store while up (null when down). For the cluster's queries only.
  const store::Store* store() const { return store_.get(); }
  SimDisk& disk() { return disk_; }
  const StoreNodeStats& stats() const { return stats_; }
  // Whether the node has media faults (its DataLoss is expected).
  bool has_media_faults() const { return media_faults_; }

#ifdef RAFTSTORE_STORE_DRIVER_BUGS
  void set_driver_bug(StoreDriverBug bug) { bug_ = bug; }
#endif

 private:
  // Forgets cached local peer ids when a peer starts or stops; with a text
  // trace, records every catalog change (a region's state and meta).
  class PeerIdCache final : public store::RegionHooks {
   public:
    void OnRegionUpdate(const meta::Region& region,
                        meta::RegionState state) override;
    void OnPeerStart(uint64_t region_id) override { ids.erase(region_id); }
    void OnPeerStop(uint64_t region_id) override { ids.erase(region_id); }
    absl::btree_map<uint64_t, uint64_t> ids;
    SimStoreNode* node = nullptr;
  };

  // The write in flight and the peer ids of its regions (resolved when it
  // was handed out).
  struct InFlightWrite {
    store::WriteBatch batch;
    std::vector<uint64_t> snapshot_peers;  // per batch.snapshots
    std::vector<uint64_t> region_peers;    // per batch.regions
  };

  store::StoreConfig MakeConfig() const;
  // Opens manifest, WAL, snapshots and the store; on failure returns the
  // status (the caller decides what it means).
  absl::Status Open();
  void OnOpenFailed(const absl::Status& status);
  void ScheduleTick();
  void OnTick(uint64_t incarnation);
  void OnResume(uint64_t incarnation);
  // Runs `action` now, or when the pause ends (in order).
  void WhenRunning(uint64_t incarnation, absl::AnyInvocable<void()> action);
  // Takes and carries out the store's effects until it has none (bounded:
  // past kEffectRoundsMax rounds it continues in a later event).
  void Process();
  void HandleEffects(store::StoreEffects& effects);
  void StartWrite(store::WriteBatch batch);
  void StageWrite(uint64_t incarnation);
  void SyncWrite(uint64_t incarnation);
  void FinishWrite();
  void FailStop(const std::string& why);
  void Handle(int from, const Payload& payload);
  void OnBatch(const store::RaftMessageBatch& batch);
  void OnClientRequest(int from, const kv::KvRequest& request);
  // The local peer id of a region (0 if the store has no peer of it).
  uint64_t LocalPeerId(uint64_t region_id);
  void ReportRecovered(
      const std::vector<manifest::RegionRecord>& records,
      const absl::btree_map<uint64_t, storage::WalGroupState>& groups);

  uint64_t id_;
  const StoreSimOptions* options_;
  std::vector<meta::Region> bootstrap_regions_;
  EventQueue* events_;
  StoreChecker* checker_;
  Trace* trace_;
  Rng rng_;
  Callbacks callbacks_;
  SimDisk disk_;
  uint64_t tick_interval_us_;
  bool media_faults_ = false;
  uint64_t slow_disk_until_us_ = 0;

  // The process's memory: all of it is lost on a crash.
  uint64_t incarnation_ = 0;
  std::unique_ptr<storage::Manifest> manifest_;
  std::unique_ptr<storage::Wal> wal_;
  PeerIdCache peer_ids_;
  std::unique_ptr<store::Store> store_;
  uint64_t paused_until_us_ = 0;
  std::deque<absl::AnyInvocable<void()>> deferred_;
  std::optional<InFlightWrite> write_;
  bool process_scheduled_ = false;

  bool disk_lost_ = false;
  StoreNodeStats stats_;
  StoreDriverBug bug_ = StoreDriverBug::kNone;
};

}  // namespace raftstore::sim

#endif  // RAFTSTORE_SIM_STORE_NODE_H_
