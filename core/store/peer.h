// One region's replica on a store: a raft group member (RawNode over a
// MemoryStorage holding the live log) applying the region's KV commands
// (core/kv), with the client writes it proposed and the reads it is
// confirming. The Store (store.h) owns its peers, routes requests and
// messages to them, and batches what their Readies ask for; a Peer never
// writes, sends or replies itself: it fills a PeerOutput.
//
// A Ready is handled in two phases so that the store can put many peers'
// writes into one WAL write:
//   BeginReady: messages that may leave before the write (a leader's appends
//     and heartbeats, thesis 10.2.1) go to the outbox, the others are held;
//     committed entries are applied (they are durable on a quorum: duty 3 of
//     core/raft/raw_node.h); read states are recorded.
//   FinishReady, once the Ready's entries and hard state are durable (or at
//     once when it has none): the entries join the MemoryStorage, the held
//     messages leave, reads whose index is applied are served, Advance.
//
// Client writes are answered when their index applies (the command's result)
// or when that index is taken by another term's entry (NotLeader: the
// attempt certainly did not apply). Reads are served by the leader only,
// after a ReadIndex round (or under its lease, StoreConfig::lease_reads) and
// once applied reaches the read index; a leader that steps down fails the
// reads it had not confirmed, and a deposed leader never serves one.
//
// Thread-safety: none; used by its store's thread.
#ifndef RAFTSTORE_CORE_STORE_PEER_H_
#define RAFTSTORE_CORE_STORE_PEER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/base/rng.h"
#include "core/kv/kv_state_machine.h"
#include "core/raft/log/memory_storage.h"
#include "core/raft/raw_node.h"
#include "core/storage/wal/wal_options.h"
#include "core/store/snapshot_io.h"
#include "core/store/store_config.h"
#include "core/store/store_effects.h"
#include "core/store/store_observer.h"
#include "proto/kvrpc.pb.h"
#include "proto/manifest.pb.h"
#include "proto/region.pb.h"
#include "proto/store.pb.h"

namespace raftstore::store {

// Counters a store keeps over all its peers.
struct StoreCounters {
  // Client writes proposed and not yet answered, over every peer.
  size_t proposals_in_flight = 0;
  uint64_t proposals = 0;
  uint64_t writes_applied = 0;
  uint64_t reads_served = 0;
  uint64_t busy_refusals = 0;
  uint64_t not_leader_refusals = 0;
  // Raft messages the outbox or a missing peer meta made us drop.
  uint64_t messages_dropped = 0;
  // Merge entries that took effect here (a source frozen, a target grown,
  // a source unfrozen), and commits that applied without effect.
  uint64_t merges_prepared = 0;
  uint64_t merges_committed = 0;
  uint64_t merges_rolled_back = 0;
  uint64_t merge_commits_refused = 0;
};

// A split applied by a peer: the new region and its share of the data,
// for the store to start the new region's peer with (unless it has it).
struct SplitResult {
  uint64_t parent_id = 0;
  meta::Region region;
  std::unique_ptr<kv::KvStateMachine> kv;
};

// A merge that a target replica applied: the store destroys its replica of
// the source (the target holds its data now).
struct MergeResult {
  uint64_t target_id = 0;
  uint64_t source_id = 0;
};

// A source region frozen by its merge's prepare (PrepareMergeOp).
struct MergeState {
  // The target as the prepare named it (its epoch is the one the commit
  // needs).
  meta::Region target;
  // The index of the prepare entry: the source's state there is final.
  uint64_t prepare_index = 0;
};

// What a store's replica of a frozen source's target says to do next.
enum class MergeDecision {
  kWait,      // the target replica is behind, or the source is merged away
  kCommit,    // the target is at the epoch the prepare named
  kRollBack,  // the target moved past it without taking the source in
};
MergeDecision DecideMerge(const MergeState& merge, uint64_t source_id,
                          const meta::Region& target_seen);
// Whether `target`'s meta records region `source_id` as merged into it.
bool MergedAway(const meta::Region& target, uint64_t source_id);

// Where a peer puts what it wants done. Not owned.
struct PeerOutput {
  Outbox* outbox = nullptr;
  std::vector<ClientReply>* replies = nullptr;
  StoreCounters* counters = nullptr;
  std::vector<AdminReply>* admin_replies = nullptr;
  // Regions whose meta changed (a membership change applied, a snapshot
  // with newer meta installed): the store updates its catalog and manifest.
  std::vector<uint64_t>* meta_changed = nullptr;
  // Regions whose local peer a membership change removed: the store
  // destroys the peer once its Ready is done.
  std::vector<uint64_t>* removed = nullptr;
  std::vector<SplitResult>* splits = nullptr;
  std::vector<MergeResult>* merges = nullptr;
};

// Where a bootstrapped region's raft log starts: its first snapshot, holding
// the initial membership and an empty state machine, is at this index and
// term (so the membership always comes from a durable snapshot, and a peer
// added later, which starts empty, is caught up by a snapshot).
inline constexpr uint64_t kRaftInitLogIndex = 5;
// The merged-away regions a region's meta remembers
// (meta::Region::merged_region_ids). A source frozen for a target whose list
// is full and lacks it is never rolled back (undecidable; docs/store.md).
inline constexpr int kMergedRegionIdsMax = 64;
inline constexpr uint64_t kRaftInitLogTerm = 5;

// How a peer starts.
struct PeerSetup {
  const StoreConfig* config = nullptr;  // not owned; outlives the peer
  meta::Region region;
  // The raft state the WAL recovered for this region (empty for a region
  // that has never written).
  storage::WalGroupState recovered;
  // With nothing recovered: true for a region of the cluster's bootstrap
  // (its log starts at kRaftInitLogIndex from a snapshot of the region's
  // peers, which the first write makes durable); false for a peer created
  // to join an existing region (empty until its leader sends a snapshot).
  bool bootstrap = false;
  // A region born of a split: its data (applied index kRaftInitLogIndex),
  // which its bootstrap snapshot holds instead of an empty state.
  std::unique_ptr<kv::KvStateMachine> split_kv;
  // The image of the snapshot `recovered` records (required when its index
  // is > 0; ReadRegionSnapshots reads it).
  std::optional<RegionSnapshotImage> snapshot;
  Rng rng{0};
  // Not owned; outlives the peer; may be null.
  StoreObserver* observer = nullptr;
};

// What tools and tests see of a peer.
struct PeerStatus {
  uint64_t region_id = 0;
  uint64_t peer_id = 0;
  raft::Role role = raft::Role::kFollower;
  uint64_t term = 0;
  uint64_t leader_peer_id = 0;
  uint64_t commit_index = 0;
  uint64_t applied_index = 0;
  uint64_t last_index = 0;
  uint64_t kv_digest = 0;
  // The log's compaction point: the latest snapshot taken or installed.
  uint64_t snapshot_index = 0;
  uint64_t first_index = 0;
  size_t pending_writes = 0;
  size_t pending_reads = 0;
  // The target of the merge this (source) replica is frozen for; 0 if none.
  uint64_t merging_into = 0;
};

class Peer {
 public:
  // Errors: kInvalidArgument when the region has no peer on
  // config->store_id; kDataLoss when the recovered state cannot rebuild a
  // log (for example entries not following the snapshot); the raft
  // configuration's errors.
  static absl::StatusOr<std::unique_ptr<Peer>> Create(PeerSetup setup);

  Peer(const Peer&) = delete;
  Peer& operator=(const Peer&) = delete;

  uint64_t region_id() const { return region_.id(); }
  uint64_t peer_id() const { return self_.id(); }
  const meta::Region& region() const { return region_; }
  bool IsLeader() const;
  // The leader's peer meta, when known and listed in the region.
  const meta::Peer* LeaderPeer() const;
  // Status() computes a digest of the whole state: use it sparingly.
  PeerStatus Status() const;
  // Status() without the digest (kv_digest 0): constant time, for pages
  // an operator or a tool may poll.
  PeerStatus Summary() const;
  uint64_t applied_index() const { return kv_->applied_index(); }

  void Tick();
  // Whether this peer has heard from no leader for stale_peer_check_ticks
  // (then it should ask its members; see RaftMessage.check_stale). Restarts
  // the count when it says so.
  bool TakeStaleCheck();
  // Learns a sender its meta does not list: an uninitialized peer adds it to
  // its placeholder meta; an initialized one remembers its store, so its
  // answers reach members added by changes it has not applied yet.
  void LearnSender(const meta::Peer& sender);
  // A raft message addressed to this peer. kInvalidArgument when its peer
  // ids do not match this peer and the region's sender, or raft refuses it.
  absl::Status Step(const RaftMessage& message);

  // A client write routed here (the store checked region, epoch and key).
  // Answers at once with NotLeader or ServerBusy, or proposes it.
  void ProposeWrite(uint64_t reply_to, const kv::KvRequest& request,
                    PeerOutput& out);
  // A client read (get or scan) routed here.
  void Read(uint64_t reply_to, const kv::KvRequest& request, PeerOutput& out);

  // Admin commands (the store checked region and epoch). A membership change
  // is answered when it applies; a transfer when it starts.
  void ProposeChangePeer(uint64_t reply_to, const AdminRequest& request,
                         PeerOutput& out);
  void TransferLeader(uint64_t reply_to, const AdminRequest& request,
                      PeerOutput& out);
  void ProposeSplit(uint64_t reply_to, const AdminRequest& request,
                    PeerOutput& out);
  // Merge (docs/store.md, "Merge"). Phase one, on the source's leader: the
  // store checked the target's adjacency and placement; proposes the
  // prepare, answered when it applies (the source is then frozen).
  void ProposePrepareMerge(uint64_t reply_to, const AdminRequest& request,
                           PeerOutput& out);
  // The merge this (source) peer is frozen for, if any. A frozen peer
  // refuses reads, writes and admin commands (ServerBusy; transfers still
  // go), applies no write after the prepare and takes no snapshot.
  const std::optional<MergeState>& merge_state() const { return merging_; }
  // Phase two, on the target's leader, with the local replica of a source
  // frozen for this region at this region's current epoch: proposes the
  // commit carrying the source's frozen state. Returns whether raft took
  // the proposal.
  bool ProposeCommitMerge(const Peer& source);
  // On a frozen source's leader, once the target has moved past the epoch
  // the prepare named without taking this region in: proposes the
  // rollback. Returns whether raft took the proposal.
  bool ProposeRollbackMerge();

  // On a leader whose data grew past region_split_bytes, at most once per
  // split_check_ticks: where to split.
  std::optional<SplitSuggestion> MaybeSuggestSplit();
  // Answers everything waiting here: the peer is being destroyed (writes and
  // admin commands get Timeout, their outcome unknown; reads
  // RegionNotFound).
  void AbandonPending(PeerOutput& out);
  // The term, vote and commit raft holds now (handed to a replacement of an
  // uninitialized peer, so a vote is never forgotten).
  raft::HardState CurrentHardState() const;
  // Whether the peer has a state (a snapshot: bootstrapped, recovered or
  // installed); an uninitialized peer waits for its leader's snapshot.
  bool initialized() const { return snapshot_.index() > 0; }
  // The conf_version this replica knows its membership at: its meta's, or
  // for an uninitialized peer the one of the leader's message that created
  // it (its placeholder meta's epoch is {0, 0}); 0 when unknown (an
  // uninitialized peer restarted from the manifest).
  uint64_t known_conf_version() const {
    return initialized() ? region_.epoch().conf_version()
                         : placeholder_conf_version_;
  }
  void set_placeholder_conf_version(uint64_t conf_version) {
    placeholder_conf_version_ = conf_version;
  }

  bool HasReady() const { return raw_->HasReady(); }
  raft::Ready GetReady() { return raw_->GetReady(); }
  // Phase one (see the file comment). Returns whether `ready` has records to
  // write (a snapshot, entries or a hard state); its held-back messages go
  // to `held`; a snapshot from the leader is installed in the state machine
  // and returned in `installed` to be made durable.
  bool BeginReady(raft::Ready& ready, std::vector<raft::Message>* held,
                  std::optional<SnapshotWrite>* installed, PeerOutput& out);
  // Phase two, once the records are durable (or when there were none).
  void FinishReady(raft::Ready& ready, std::vector<raft::Message>& held,
                   PeerOutput& out);

  // The bootstrap snapshot to make durable, once (see PeerSetup::bootstrap);
  // it goes before any other record of the region.
  std::optional<SnapshotWrite> TakeBootstrapSnapshot();

  // Log GC: when the region has applied raft_log_gc_entries_max entries past
  // its last snapshot (or a membership change since it), and no snapshot of
  // its own is being written, takes one at the applied index and returns it
  // to be made durable (file, then WAL record). The log is compacted only
  // once that is done.
  std::optional<SnapshotWrite> MaybeSnapshot();
  // The snapshot MaybeSnapshot returned is durable: record it in the raft
  // storage (leaders send it to followers too far behind) and compact.
  void OnSnapshotPersisted();
  // A snapshot of this region in a write that became durable (bootstrap,
  // log GC or installed): the log pointers move to it if it is newer.
  void NoteDurableSnapshot(const raft::SnapshotMetadata& metadata);
  // Where the region's log stands on this store, for the manifest: the
  // applied index now, and the latest durable snapshot (the compaction
  // point, so also the truncated index and term).
  manifest::RaftLogPointers LogPointers() const;
  // The file name of the latest durable snapshot, if any.
  std::optional<std::string> SnapshotFile() const;

  // Checks a raft snapshot message's data before raft sees it: it must
  // decode and its KV image must import. kInvalidArgument otherwise.
  static absl::Status ValidateSnapshotMessage(const StoreConfig& config,
                                              const raft::Message& message,
                                              uint64_t region_id);

 private:
  struct PendingWrite {
    uint64_t term = 0;
    uint64_t reply_to = 0;
    uint64_t request_id = 0;
    kv::KvRequest::RequestCase kind = kv::KvRequest::REQUEST_NOT_SET;
  };
  struct PendingAdmin {
    uint64_t term = 0;
    uint64_t reply_to = 0;
    uint64_t request_id = 0;
  };
  struct PendingRead {
    uint64_t reply_to = 0;
    kv::KvRequest request;
    uint64_t since_tick = 0;
    uint64_t read_index = 0;
    bool confirmed = false;
  };

  Peer(PeerSetup setup, meta::Peer self);
  absl::Status Init(const storage::WalGroupState& recovered,
                    const std::optional<RegionSnapshotImage>& image,
                    bool bootstrap,
                    std::unique_ptr<kv::KvStateMachine> split_kv);
  // The base snapshot of a bootstrapped region.
  raft::Snapshot Bootstrap();
  // Replaces the state machine with the leader's snapshot.
  SnapshotWrite Install(const raft::Snapshot& snapshot, PeerOutput& out);
  void Reply(PeerOutput& out, uint64_t reply_to, kv::KvResponse response);
  void Refuse(PeerOutput& out, uint64_t reply_to, const kv::KvRequest& request,
              kv::Error error);
  void Send(const raft::Message& message, PeerOutput& out);
  void OnSoftState(const raft::SoftState& soft, PeerOutput& out);
  void ApplyCommitted(std::vector<raft::Entry>& entries, PeerOutput& out);
  // Answers the writes pending at or below entry's index: the one at it
  // with `result` (or with `refused`, when set), the others as lost.
  void Answer(const raft::Entry& entry, const command::CommandResult& result,
              PeerOutput& out, const kv::Error* refused = nullptr);
  void ServeReads(PeerOutput& out);
  // Answers the writes and admin commands pending at indexes <= index as
  // of unknown outcome.
  void AbandonPendingUpTo(uint64_t index, PeerOutput& out);
  void ApplyConfChange(const raft::Entry& entry, PeerOutput& out);
  void ApplyNormal(const raft::Entry& entry, PeerOutput& out);
  void ApplySplit(const raft::Entry& entry, const command::SplitOp& split,
                  PeerOutput& out);
  std::optional<kv::Error> CheckSplit(const SplitRequest& request) const;
  std::optional<kv::Error> CheckPrepareMerge(const MergeRequest& request) const;
  void ApplyPrepareMerge(const raft::Entry& entry,
                         const command::PrepareMergeOp& op, PeerOutput& out);
  void ApplyCommitMerge(const raft::Entry& entry,
                        const command::CommitMergeOp& op, PeerOutput& out);
  void ApplyRollbackMerge(const raft::Entry& entry,
                          const command::RollbackMergeOp& op, PeerOutput& out);
  // The error a frozen source answers with.
  kv::Error MergingError() const;
  kv::Error EpochError() const;
  // Updates region_ for a committed change described by `context`.
  void ChangeMeta(raft::ConfChangeType type, const meta::Peer& peer);
  void AnswerAdmin(const raft::Entry& entry, const kv::Error* error,
                   PeerOutput& out);
  void RefuseAdmin(PeerOutput& out, uint64_t reply_to,
                   const AdminRequest& request, kv::Error error);
  // Refuses (and returns false) when this peer may not propose an admin
  // command now: not the leader, `invalid` (the command's own check), or
  // too many pending.
  bool MayProposeAdmin(uint64_t reply_to, const AdminRequest& request,
                       std::optional<kv::Error> invalid, PeerOutput& out);
  // Records a proposed admin command to answer when it applies, or refuses
  // it as raft's `result` says.
  void TrackAdminProposal(raft::ProposeResult result, uint64_t reply_to,
                          const AdminRequest& request, PeerOutput& out);
  // Why `request` cannot be proposed now, if it cannot.
  std::optional<kv::Error> CheckChangePeer(const ChangePeerRequest& request);
  // A removal of this peer while it leads: starts a transfer to the most
  // caught-up voter and answers NotLeader naming it (or ServerBusy).
  // Returns whether it answered.
  bool MoveLeadershipBeforeRemoval(uint64_t reply_to,
                                   const AdminRequest& request,
                                   PeerOutput& out);
  kv::KvResponse ServeRead(const kv::KvRequest& request) const;
  void DropStaleReads();

  const StoreConfig* config_;
  StoreObserver* observer_;  // may be null
  meta::Region region_;
  meta::Peer self_;
  Rng rng_;
  std::unique_ptr<raft::MemoryStorage> storage_;
  std::unique_ptr<kv::KvStateMachine> kv_;
  std::unique_ptr<raft::RawNode> raw_;
  uint64_t ticks_ = 0;
  bool was_leader_ = false;
  absl::btree_map<uint64_t, PendingWrite> pending_writes_;
  absl::btree_map<uint64_t, PendingRead> pending_reads_;
  absl::btree_map<uint64_t, PendingAdmin> pending_admin_;
  uint64_t next_read_ = 0;
  // The compaction point (index and term of the latest durable snapshot).
  raft::SnapshotMetadata snapshot_;
  // A snapshot of our own being made durable: its metadata and raft data.
  std::optional<SnapshotWrite> bootstrap_write_;
  // A membership change applied since the last snapshot: take one even
  // before raft_log_gc_entries_max.
  bool snapshot_due_ = false;
  uint64_t last_split_check_tick_ = 0;
  // Ticks since a leader's message (or since leading).
  uint64_t ticks_without_leader_ = 0;
  // Set by an applied prepare, cleared by an applied rollback.
  std::optional<MergeState> merging_;
  // Senders this replica's meta does not list (newer members), so replies
  // reach them; at most kSenderCacheMax, the lowest ids dropped first.
  static constexpr size_t kSenderCacheMax = 16;
  absl::btree_map<uint64_t, meta::Peer> sender_cache_;
  uint64_t placeholder_conf_version_ = 0;
  // The latest snapshot known durable (LogPointers).
  raft::SnapshotMetadata durable_snapshot_;
  std::optional<raft::SnapshotMetadata> local_snapshot_;
  std::string local_snapshot_data_;
};

}  // namespace raftstore::store

#endif  // RAFTSTORE_CORE_STORE_PEER_H_
