// The store: one per node, holding one peer (raft replica) per region it
// serves. Pure and deterministic: it owns no WAL, disk, socket or clock. A
// driver (the simulator's node, the runtime's libuv loop) feeds it inputs and
// carries out the StoreEffects it returns (store_effects.h has the order
// rules):
//
//   auto store = Store::Open(config, recovery, rng, hooks);
//   loop:
//     store->Tick();                       // every tick interval
//     store->Receive(batch);               // from another store
//     store->Submit(reply_to, request);    // from a client
//     store->OnPersisted(token);           // the write is durable
//     StoreEffects fx = store->TakeEffects();
//     if (!fx.write.empty()) { AppendToWal(fx.write, wal); wal->Sync();
//                              ... later: store->OnPersisted(fx.write.token); }
//     send fx.messages; answer fx.replies;
//
// Start. Open rebuilds the region catalog from the manifest's records and
// one peer per live region from what the WAL recovered for it; the driver
// opened both (core/storage) and passes their contents in StoreRecovery.
//
// The Ready pipeline. TakeEffects collects the Readies of every peer that
// has one, in region-id order: messages that may leave early and replies go
// out at once; the records of all of them form one WriteBatch (one WAL write
// and at most one fdatasync for all regions: group commit). One write is in
// flight at a time; Readies arising meanwhile wait and join the next batch.
// OnPersisted completes every peer in the batch (its held messages leave).
// Raft messages to one destination store leave as one RaftMessageBatch per
// TakeEffects.
//
// Requests. A client request is routed by its header's region id (or, when
// 0, by its key) and answered with a typed error when it cannot be served
// here: RegionNotFound (no live region of that id here, or no region holding
// the key), EpochNotMatch (the request's epoch version is not the region's;
// the error carries the current meta), KeyNotInRegion, NotLeader (with the
// leader's peer when known), ServerBusy (a bound; see StoreConfig). Writes
// are answered when applied, reads once confirmed by ReadIndex (or the lease)
// and applied.
//
// Thread-safety: none; one thread drives a store.
#ifndef RAFTSTORE_CORE_STORE_STORE_H_
#define RAFTSTORE_CORE_STORE_STORE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/base/rng.h"
#include "core/storage/wal/wal_options.h"
#include "core/store/peer.h"
#include "core/store/region_catalog.h"
#include "core/store/store_config.h"
#include "core/store/store_effects.h"
#include "core/store/store_observer.h"
#include "proto/kvrpc.pb.h"
#include "proto/manifest.pb.h"
#include "proto/store.pb.h"

namespace raftstore::store {

// What the driver recovered from the store's durable state.
struct StoreRecovery {
  // Manifest::regions(), in any order.
  std::vector<manifest::RegionRecord> regions;
  // Wal::TakeRecovered().
  absl::btree_map<uint64_t, storage::WalGroupState> groups;
  // ReadRegionSnapshots(disk, groups): the image of every snapshot the WAL
  // records.
  absl::btree_map<uint64_t, RegionSnapshotImage> snapshots;
};

// The manifest records of a brand-new store: each region Running, with no
// log yet. A driver bootstrapping a cluster writes them (with the store's
// identity) as the manifest's first edit, then Opens the store.
std::vector<manifest::RegionRecord> BootstrapRecords(
    const std::vector<meta::Region>& regions);

struct StoreStats {
  uint64_t ticks = 0;
  uint64_t batches_received = 0;
  uint64_t messages_received = 0;
  // Batches refused whole (wrong cluster or store, too many messages) and
  // messages refused one by one (unknown or removed region, a mismatched
  // envelope, raft's refusal).
  uint64_t batches_refused = 0;
  uint64_t messages_refused = 0;
  uint64_t batches_sent = 0;
  uint64_t messages_sent = 0;
  uint64_t writes = 0;               // WriteBatches handed out
  uint64_t snapshots_taken = 0;      // log GC snapshots of our own
  uint64_t snapshots_installed = 0;  // received from leaders
  uint64_t snapshot_messages_refused = 0;
  uint64_t synced_writes = 0;  // of which must_sync
  uint64_t entries_written = 0;
  uint64_t requests = 0;
  // RegionNotFound, EpochNotMatch, KeyNotInRegion.
  uint64_t routing_refusals = 0;
  uint64_t admin_requests = 0;
  uint64_t peers_created = 0;         // uninitialized, by a leader's message
  uint64_t peers_destroyed = 0;       // removed by a membership change
  uint64_t peers_readded = 0;         // created again over a tombstone
  uint64_t tombstones_sent = 0;       // told a removed peer it was removed
  uint64_t tombstones_received = 0;   // learned our peer was removed
  uint64_t meta_updates_refused = 0;  // refusals of a peer's meta (retried)
  uint64_t regions_split = 0;         // new regions started by a split
  uint64_t split_suggestions = 0;
  uint64_t merges_requested = 0;
  uint64_t merge_commits_proposed = 0;
  uint64_t merge_rollbacks_proposed = 0;
  uint64_t merged_away_destroyed = 0;  // replicas of merged-away regions
  uint64_t merged_away_told = 0;       // stale replicas told so
  uint64_t stale_checks_sent = 0;      // RaftMessage.check_stale
  uint64_t stale_checks_received = 0;  // that drew no tombstone
  StoreCounters peers;
};

class Store {
 public:
  // Errors: kInvalidArgument for a bad config; kDataLoss when the recovered
  // state contradicts itself (a region record that is invalid or overlaps
  // another, WAL state for a region the manifest does not list, a log that
  // cannot be rebuilt), naming the region; a hook refused by the chain.
  // `hooks` (not owned; they must outlive the store) are chained after the
  // built-in RegionMetrics before the catalog is loaded, so they see every
  // region's first update and every peer start. `observer` (not owned,
  // may be null; it must outlive the store) sees every peer's leadership
  // and applied entries from the first peer started on.
  static absl::StatusOr<std::unique_ptr<Store>> Open(
      const StoreConfig& config, StoreRecovery recovery, Rng rng,
      const std::vector<RegionHooks*>& hooks = {},
      StoreObserver* observer = nullptr);

  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;
  ~Store();

  // One logical clock tick for every peer.
  void Tick();
  // Raft traffic from another store. Returns kInvalidArgument (and steps
  // nothing) for a batch of another cluster, for another store, or larger
  // than messages_per_batch_max; otherwise OK, with each message that
  // cannot be delivered counted in stats().messages_refused.
  absl::Status Receive(const RaftMessageBatch& batch);
  // A client request; its answer comes in some later StoreEffects' replies
  // with this reply_to.
  void Submit(uint64_t reply_to, const kv::KvRequest& request);
  // An admin command for a region led here; its answer comes in a later
  // StoreEffects' admin_replies. Refused at once (RegionNotFound,
  // EpochNotMatch when either epoch number differs, NotLeader, ServerBusy,
  // or an error naming what is wrong with the command).
  void SubmitAdmin(uint64_t reply_to, const AdminRequest& request);
  // Notifies (StoreEffects::applied_notices, with reply_to) once the local
  // peer of region_id has applied `index`: at once if it has, else when it
  // does, or when the peer goes away. Bounded by applied_waiters_max.
  void WaitApplied(uint64_t reply_to, uint64_t region_id, uint64_t index);
  // The write handed out with `token` is durable (written, and synced if it
  // had to be). RS_CHECKs that `token` is the write in flight.
  void OnPersisted(uint64_t token);
  // Runs the Ready pipeline and returns everything to do now.
  StoreEffects TakeEffects();

  uint64_t store_id() const { return config_.store_id; }
  const StoreConfig& config() const { return config_; }
  const RegionCatalog& catalog() const { return catalog_; }
  // Status of the local peer of region_id, if it has one.
  std::optional<PeerStatus> GetPeerStatus(uint64_t region_id) const;
  // Whether the local peer of region_id leads its group (cheap, unlike
  // GetPeerStatus, which digests the region's state).
  bool IsLeader(uint64_t region_id) const;
  // Every local peer's status, ascending region id.
  std::vector<PeerStatus> PeerStatuses() const;
  // The same without digests (kv_digest 0): O(regions), not O(data).
  std::vector<PeerStatus> PeerSummaries() const;
  StoreStats stats() const;
  bool write_in_flight() const { return in_flight_token_ != 0; }
  // Whether TakeEffects would have anything to do (a Ready, queued messages
  // or replies) apart from the write in flight.
  bool HasWork() const;
  // The snapshot files the store's durable state refers to (one per region
  // with a snapshot): after OnPersisted, a driver may remove every other
  // snapshot file (storage::RemoveStaleSnapshotFiles). Only between
  // OnPersisted and the next TakeEffects (RS_CHECKed: no write in flight).
  absl::btree_set<std::string> LiveSnapshotFiles() const;

 private:
  struct Parked {
    Peer* peer = nullptr;
    raft::Ready ready;
    std::vector<raft::Message> held;
    std::optional<SnapshotWrite> installed;
  };

  explicit Store(const StoreConfig& config, Rng rng);
  absl::Status Load(StoreRecovery recovery);
  absl::Status LoadRegion(const manifest::RegionRecord& record,
                          StoreRecovery& recovery);
  absl::Status StartPeer(const meta::Region& region,
                         storage::WalGroupState recovered,
                         std::optional<RegionSnapshotImage> snapshot,
                         bool bootstrap);
  Peer* FindPeer(uint64_t region_id) const;
  // A leader's message for a region this store has no peer of, addressed to
  // a peer on this store: creates that peer, uninitialized (it joins by
  // snapshot). Returns it, or null when the message may not create one.
  Peer* MaybeCreatePeer(const RaftMessage& message);
  // A message from a peer that a newer membership of the region removed:
  // it is told so (an is_tombstone reply), and destroys itself on hearing
  // it from a member of its region with a newer conf_version.
  static bool IsRemovedSender(const Peer& peer, const RaftMessage& message);
  void TellTombstone(const Peer& peer, const RaftMessage& message);
  void HandleTombstone(const Peer* peer, const RaftMessage& message);
  // A message for a region this store knows was merged away: the sender's
  // replica is dead too, and is told so.
  void TellMergedAway(const RaftMessage& message);
  // Asks every other member of peer's region whether peer is still one.
  void SendStaleChecks(const Peer& peer);
  // Whether `message`'s sender is a member of the region as `peer` knows it
  // (any sender, for an uninitialized peer whose meta is a placeholder).
  static bool SenderKnown(const Peer& peer, const RaftMessage& message);
  // Brings the catalog and the manifest edit up to date with the peers'
  // meta changes, and queues removed peers for destruction.
  void ProcessMetaChanges();
  // Destroys the peers queued for it (Tombstone, data dropped, WAL group
  // removed). Only while no write is in flight.
  void DestroyPeers();
  // Puts the region's record in the pending manifest edit (one per region
  // per edit, the last put wins). A live state with a meta that lists no
  // peer on this store is recorded as Tombstone: the peer applied its own
  // removal.
  void PutManifestRecord(const meta::Region& region, meta::RegionState state);
  // Merges: the frozen sources here whose target's replica here leads (the
  // commit) or moved on (the source's rollback, from its leader). Every
  // merge_check_ticks.
  void ScheduleMerges();
  // Queues for destruction every replica here of a region that `region`'s
  // meta records as merged into it. Returns whether it queued any.
  bool DestroyMergedAway(const meta::Region& region);
  // Whether a live region here records `region` as merged into it.
  bool MergedAwayHere(const meta::Region& region) const;
  // Store-level checks of a merge request (placement, the target here).
  std::optional<kv::Error> CheckMerge(const Peer& source,
                                      const AdminRequest& request) const;
  // Starts the new regions of the splits the peers applied.
  void StartSplitRegions();
  // New regions whose snapshot became durable: Running now.
  void MarkRunning();
  // Routing: the live peer that must serve `request`, or the error to answer.
  Peer* Route(const kv::KvRequest& request, kv::Error* error) const;
  void CollectReadies();
  // Forms the write of this round from the parked Readies and the peers
  // due for a log-GC snapshot; false when there is nothing to write.
  bool FormWrite(WriteBatch* write);
  PeerOutput Output();

  const StoreConfig config_;
  Rng rng_;
  StoreObserver* observer_ = nullptr;  // not owned; may be null
  RegionCatalog catalog_;
  absl::btree_map<uint64_t, std::unique_ptr<Peer>> peers_;
  Outbox outbox_;
  std::vector<ClientReply> replies_;
  // The write in flight: its token (0 if none) and the Readies it holds.
  uint64_t in_flight_token_ = 0;
  uint64_t next_token_ = 0;
  std::vector<Parked> parked_;
  // Peers whose own snapshot is in the write in flight.
  std::vector<Peer*> snapshotting_;
  // The snapshots in the write in flight (region, metadata), and the regions
  // whose durable snapshot moved (their manifest log pointers follow).
  std::vector<std::pair<uint64_t, raft::SnapshotMetadata>> snapshots_in_flight_;
  absl::btree_set<uint64_t> pointers_changed_;
  // Regions whose WAL group must be removed in the next write.
  std::vector<uint64_t> groups_to_remove_;
  std::vector<AdminReply> admin_replies_;
  std::vector<uint64_t> meta_changed_;
  std::vector<uint64_t> removed_;
  std::vector<SplitResult> splits_;
  std::vector<MergeResult> merges_;
  // Regions whose new meta waits for the replicas it merged away to be
  // destroyed (the catalog refuses overlapping ranges).
  absl::btree_set<uint64_t> meta_deferred_;
  // Regions some region here (live or tombstone) records as merged into it.
  absl::btree_set<uint64_t> merged_away_ids_;
  absl::btree_set<uint64_t> destroy_pending_;
  // Regions that applied a split in the current round (no log-GC snapshot
  // in the same write as their new region's bootstrap snapshot).
  absl::btree_set<uint64_t> split_parents_;
  // New regions whose first snapshot is in the write in flight, and those
  // whose snapshot became durable (to be marked Running).
  std::vector<uint64_t> becoming_running_;
  std::vector<uint64_t> now_running_;
  std::optional<manifest::ManifestEdit> manifest_edit_;
  struct Waiter {
    uint64_t reply_to = 0;
    uint64_t region_id = 0;
    uint64_t index = 0;
  };
  std::vector<Waiter> waiters_;
  std::vector<AppliedNotice> applied_notices_;
  // At most one per region per split_check_ticks (Peer::MaybeSuggestSplit).
  std::vector<SplitSuggestion> split_suggestions_;
  // Answers the waiters whose index is applied or whose peer is gone.
  void NotifyWaiters();
  StoreStats stats_;
};

}  // namespace raftstore::store

#endif  // RAFTSTORE_CORE_STORE_STORE_H_
