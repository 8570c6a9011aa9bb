// What a store asks its driver to do (core/store/store.h): the one write in
// flight, the message batches to send, the client replies. And the outbox
// that gathers raft messages per destination store between two flushes.
//
// The order rules, which the store already honours when it fills a
// StoreEffects (so a driver just follows the fields):
//   - `write` must be appended to the WAL (AppendToWal), written, synced when
//     write.must_sync, and only then acknowledged with
//     Store::OnPersisted(write.token). Messages and replies that had to wait
//     for it are not in this StoreEffects: they come out after OnPersisted.
//   - Everything in `messages` and `replies` may be sent at once, even while
//     `write` is in flight (a leader's appends and heartbeats go out before
//     its own write: thesis 10.2.1).
//
// Thread-safety: plain values; the Outbox belongs to one store.
#ifndef RAFTSTORE_CORE_STORE_STORE_EFFECTS_H_
#define RAFTSTORE_CORE_STORE_STORE_EFFECTS_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/status/status.h"
#include "core/storage/disk.h"
#include "core/storage/manifest/snapshot_file.h"
#include "core/storage/wal/wal.h"
#include "core/store/snapshot_io.h"
#include "proto/kvrpc.pb.h"
#include "proto/manifest.pb.h"
#include "proto/raft.pb.h"
#include "proto/region.pb.h"
#include "proto/store.pb.h"

namespace raftstore::store {

// A response for the client request the driver submitted with `reply_to`
// (an opaque number of the driver's: a connection, a simulated endpoint).
struct ClientReply {
  uint64_t reply_to = 0;
  kv::KvResponse response;
};

// A region snapshot to make durable: its file first, then its WAL record.
// kLocal: the store compacted its own log (the WAL keeps later entries);
// kInstalled: received from the leader (it replaces the region's whole log).
struct SnapshotWrite {
  RegionSnapshotImage image;
  storage::WalSnapshotKind kind = storage::WalSnapshotKind::kLocal;
};

// The answer to an admin command submitted with `reply_to`.
struct AdminReply {
  uint64_t reply_to = 0;
  AdminResponse response;
};

// A region the store suggests splitting (it grew past region_split_bytes):
// the driver allocates the new ids and submits the SplitRequest.
struct SplitSuggestion {
  uint64_t region_id = 0;
  meta::RegionEpoch epoch;
  std::string split_key;
  size_t new_peer_count = 0;
};

// The answer to Store::WaitApplied.
struct AppliedNotice {
  uint64_t reply_to = 0;
  uint64_t region_id = 0;
  // OK once the region's local peer applied the index (applied_index says
  // how far it got); kNotFound when the region has no peer here (or lost
  // it); kResourceExhausted beyond applied_waiters_max.
  absl::Status status;
  uint64_t applied_index = 0;
};

// The raft records of one region in a write: its new entries and/or its hard
// state, in that order (Ready order), after any snapshot of the region.
struct RegionWrite {
  uint64_t region_id = 0;
  // Points into the store's own copy of the Ready: valid until
  // Store::OnPersisted(token) or the store's destruction.
  std::span<const raft::Entry> entries;
  std::optional<raft::HardState> hard_state;
};

// Every region's records of one store-wide write: one WAL write and (when
// must_sync) one fdatasync for all of them (group commit).
struct WriteBatch {
  // 0 when there is nothing to write.
  uint64_t token = 0;
  bool must_sync = false;
  // Snapshots, ascending region id, each before that region's records.
  std::vector<SnapshotWrite> snapshots;
  // Ascending region id.
  std::vector<RegionWrite> regions;
  // Regions destroyed on this store: their WAL groups are removed (after
  // everything above), so they no longer hold back segment GC.
  std::vector<uint64_t> removed_groups;

  bool empty() const { return token == 0; }
  size_t entry_count() const;
};

// Stages the batch: writes and publishes each snapshot file on `disk`
// (durable when this returns), then appends the batch's records to `wal`:
// each snapshot's SaveSnapshot, then entries and hard states. The WAL
// records are buffered; the caller then calls Wal::Sync when
// batch.must_sync (always so when there are snapshots), else Wal::Write, and
// then Store::OnPersisted. Errors: the snapshot file's or the Wal's (a
// poisoned WAL, a bound); the caller must then fail the store (a failed
// write cannot be retried: docs/wal-format.md).
absl::Status StageWriteBatch(const WriteBatch& batch, storage::Disk* disk,
                             storage::Wal* wal,
                             const storage::SnapshotFileOptions& options);

struct StoreEffects {
  // Region catalog changes (regions created, their meta changed, destroyed)
  // to apply to the manifest (Manifest::Apply, which syncs) BEFORE staging
  // `write`: a region's WAL records are never durable before the manifest
  // lists the region, and a destroyed region's WAL group is removed only
  // after the manifest calls it a tombstone.
  std::optional<manifest::ManifestEdit> manifest_edit;
  WriteBatch write;
  // At most one batch per destination store, ascending store id.
  std::vector<RaftMessageBatch> messages;
  std::vector<ClientReply> replies;
  std::vector<AdminReply> admin_replies;
  // Regions this store leads that grew past region_split_bytes: the driver
  // allocates ids and submits a SplitRequest (or ignores the suggestion).
  std::vector<SplitSuggestion> split_suggestions;
  std::vector<AppliedNotice> applied_notices;

  bool empty() const {
    return !manifest_edit.has_value() && write.empty() && messages.empty() &&
           replies.empty() && admin_replies.empty() &&
           split_suggestions.empty() && applied_notices.empty();
  }
};

// Raft messages waiting to leave, grouped by destination store.
class Outbox {
 public:
  // Precondition: both ids nonzero and messages_per_store_max >= 1.
  Outbox(uint64_t cluster_id, uint64_t from_store_id,
         size_t messages_per_store_max);

  // Queues `message` for `to_store_id`. Returns false (and counts a drop)
  // when that store already has messages_per_store_max queued.
  bool Add(uint64_t to_store_id, RaftMessage message);
  // Moves every queued batch out, ascending store id.
  void Flush(std::vector<RaftMessageBatch>* out);

  size_t queued() const { return queued_; }
  uint64_t dropped() const { return dropped_; }

 private:
  const uint64_t cluster_id_;
  const uint64_t from_store_id_;
  const size_t messages_per_store_max_;
  absl::btree_map<uint64_t, RaftMessageBatch> batches_;
  size_t queued_ = 0;
  uint64_t dropped_ = 0;
};

}  // namespace raftstore::store

#endif  // RAFTSTORE_CORE_STORE_STORE_EFFECTS_H_
