// The shared write-ahead log of one store: a single segmented log holding the
// raft records (entries, hard states, snapshot metadata, truncation marks,
// group removals) of every raft group (region) on the store, with group
// commit. The format, the recovery policy and the GC rule are written down in
// wal_format.h and docs/wal-format.md.
//
// Use (from one thread, but for the pipelined form below; the simulator's
// node driver or the runtime's storage worker):
//
//   ASSIGN_OR_RETURN(auto wal, Wal::Open(disk, options));
//   for (auto& [id, state] : wal->TakeRecovered()) ...  // rebuild each group
//   lsn = wal->AppendEntries(group, entries);  // buffered, not durable
//   wal->SaveHardState(group, hard_state);
//   wal->Sync();  // one Disk::Sync for everything appended (group commit)
//   // durable_lsn() >= lsn: messages may leave, acks go out
//   wal->Truncate(group, index);
//   wal->CollectGarbage();
//
// Every append returns the LSN (log sequence number) of its record; LSNs are
// consecutive over the whole WAL. After Sync() returns OK, durable_lsn()
// covers every record appended before the call.
//
// Pipelined group commit (the runtime's storage path). Sync() encodes nothing
// while the disk syncs, so on a real disk the caller's encoding of the next
// batch is serial with the fdatasync of this one. To overlap them:
//
//   batch = wal->BeginBatch();            // seals the buffered records
//   hand *batch to a worker thread, which runs
//     status = WriteAndSyncBatch(disk, *batch);   // Disk::Append + Sync
//   meanwhile keep appending (encoding only; no Disk access);
//   wal->FinishBatch(std::move(*batch), status);  // durable_lsn advances
//
// Sync() runs the same three steps (seal the buffer, WriteAndSyncBatch,
// finish) on one thread, so both paths share the code and the tests.
//
// Write-behind, the fastest form: the appending thread also writes, so the
// worker's critical path is the fdatasync alone:
//
//   append batch N+1; wal->Write();   // pwrite while batch N's sync runs
//   when N's sync returns: wal->FinishBatch(N); batch = wal->BeginBatch();
//   // batch->bytes is empty: WriteAndSyncBatch only syncs
//
// Write() may run while a batch is in flight only when that batch carries no
// bytes (it was sealed after a Write), so the file's bytes stay in LSN
// order. This needs a Disk whose Append may run while another thread syncs
// the same file (PosixDisk allows it); fdatasync makes durable at least what
// was appended before it began, and durable_lsn() claims only the batch's
// records.
//
// Failure policy. After any failed write, sync, create, truncate or remove on
// the Disk, the Wal is poisoned: every later call returns that error (naming
// the segment) and durable_lsn() never advances again. A failed fsync cannot
// be retried safely (the kernel may have dropped the dirty pages and cleared
// the error), so the owner must close the Wal, restart and recover with Open.
// Bounds (buffered_bytes_max, groups_max, record size) return
// kResourceExhausted or kInvalidArgument without poisoning: nothing was
// written.
//
// Thread-safety: none; one thread at a time. The exception is the batch of
// BeginBatch: while it is in flight, WriteAndSyncBatch may run on another
// thread. No Wal method touches the Disk until FinishBatch (those that would
// RS_CHECK that no batch is in flight) but Write() in write-behind, when the
// batch carries no bytes: then Write's Disk::Append runs alongside the
// worker's Disk::Sync of the same segment, which the Disk must allow
// (PosixDisk does; SimDisk is single-threaded, so its callers run the two
// in turn).
#ifndef RAFTSTORE_CORE_STORAGE_WAL_WAL_H_
#define RAFTSTORE_CORE_STORAGE_WAL_WAL_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/storage/disk.h"
#include "core/storage/wal/replay.h"
#include "core/storage/wal/wal_options.h"
#include "proto/raft.pb.h"

namespace raftstore::storage {

struct WalStats {
  uint64_t segments = 0;          // segment files now
  uint64_t segment_bytes = 0;     // their total size, including unsynced bytes
  uint64_t records_appended = 0;  // frames appended since Open
  uint64_t syncs = 0;             // Disk::Sync calls (segments, not dirs)
  uint64_t bytes_written = 0;     // bytes appended to the Disk since Open
  uint64_t segments_created = 0;  // by rotation, since Open
  uint64_t segments_removed = 0;  // by CollectGarbage, since Open
  // What Open found.
  uint64_t records_replayed = 0;
  uint64_t torn_bytes_dropped = 0;  // torn tail cut off by Open
};

// Encoded records sealed by Wal::BeginBatch, to be appended to `segment` and
// synced by WriteAndSyncBatch (on any thread), then handed back to
// Wal::FinishBatch. A value: it shares no memory with the Wal.
struct WalWriteBatch {
  // The segment file the bytes go to (its end; the Wal knows the offset).
  std::string segment;
  // Whole frames, back to back. Empty when Write() already appended every
  // pending record and only the sync is left.
  std::string bytes;
  // Every record up to this LSN is durable once the batch is synced.
  uint64_t last_lsn = 0;
};

// Disk::Append(batch.segment, batch.bytes) (skipped when empty), then
// Disk::Sync(batch.segment). Touches nothing but `disk`, so it may run on a
// worker thread while the Wal's owner keeps appending. Returns the Disk's
// error, its message naming the segment and the operation.
absl::Status WriteAndSyncBatch(Disk* disk, const WalWriteBatch& batch);

class Wal {
 public:
  // Opens (creating if the directory holds no segment) the WAL in `disk`,
  // which must outlive the Wal, and replays it; TakeRecovered() returns what
  // replay found. Leftover temporary segments of an interrupted rotation are
  // removed; a torn tail in the newest segment (a partial write a crash left,
  // never durable) is cut off with Disk::Truncate + Sync; the newest segment
  // is synced (what a process crash left in the page cache becomes durable
  // before anyone acts on it). Nothing else is changed on the disk. Returns:
  //   kInvalidArgument: options fail ValidateWalOptions;
  //   kDataLoss: damage to durable records (a bad frame followed by a record
  //     proving it was durable, any bad frame in an older segment, a missing
  //     segment, a record whose checksum matches but whose content is
  //     invalid), naming the segment file and offset. RepairWal() drops the
  //     damage when an operator asks for it;
  //   kFailedPrecondition: a segment written by a newer format version;
  //   any Disk error from reading or from fixing the tail.
  static absl::StatusOr<std::unique_ptr<Wal>> Open(Disk* disk,
                                                   const WalOptions& options);

  Wal(const Wal&) = delete;
  Wal& operator=(const Wal&) = delete;
  ~Wal();

  // What replay found, per live group: the state to rebuild a
  // raft::MemoryStorage from (see WalGroupState). Moves it out: a second call
  // returns an empty map.
  absl::btree_map<uint64_t, WalGroupState> TakeRecovered();

  // The appenders. Each encodes one record into the buffer (nothing touches
  // the Disk until Write or Sync) and returns its LSN. group_id must be
  // non-zero. They return, appending nothing:
  //   the poison status, if poisoned;
  //   kInvalidArgument for bad input (stated per method);
  //   kResourceExhausted if the record would take the unsynced bytes past
  //     buffered_bytes_max (Sync and retry), or start a group past
  //     groups_max.

  // Appends consecutive entries (indexes i, i+1, ...; i >= 1) of the group.
  // On replay they replace the group's entries >= i, as a raft follower
  // replaces a conflicting suffix (paper 5.3). i must not leave a gap:
  // i <= max(last index appended, truncated index) + 1. A batch whose payload
  // exceeds record_payload_bytes_max is split into several records (the LSN
  // returned is the last); a single entry that does not fit in one is
  // kInvalidArgument. An empty span is kInvalidArgument.
  absl::StatusOr<uint64_t> AppendEntries(uint64_t group_id,
                                         std::span<const raft::Entry> entries);

  // Replaces the group's hard state.
  absl::StatusOr<uint64_t> SaveHardState(uint64_t group_id,
                                         const raft::HardState& hard_state);

  // Records the group's latest snapshot metadata, and raises its truncated
  // index to metadata.index. kInstalled (a snapshot received from the leader,
  // raft's Ready::snapshot) replaces the whole log: every entry appended
  // before it is dropped on replay. kLocal (the store compacted its own log)
  // drops entries <= metadata.index only. Write it before the entries that
  // follow it (Ready order). kInvalidArgument if metadata.index is below the
  // group's current snapshot index.
  absl::StatusOr<uint64_t> SaveSnapshot(uint64_t group_id,
                                        const raft::SnapshotMetadata& metadata,
                                        WalSnapshotKind kind);

  // The group no longer needs entries <= index (a snapshot covers them);
  // they are dropped on replay and their segments become collectable. An
  // index at or below the current truncated index changes nothing but is
  // still recorded.
  absl::StatusOr<uint64_t> Truncate(uint64_t group_id, uint64_t index);

  // The group was destroyed on this store: on replay its state so far is
  // dropped (a later record for the same id starts a new group), and it no
  // longer holds back GC.
  absl::StatusOr<uint64_t> RemoveGroup(uint64_t group_id);

  // Appends the buffered records to the newest segment without syncing them
  // (so a driver can model write and fsync latency separately). Returns the
  // poison status or the Disk's error (which poisons). Allowed while a batch
  // is in flight only if that batch carries no bytes (write-behind, see the
  // top of this file): its bytes would otherwise land in the file after
  // these (RS_CHECK).
  absl::Status Write();

  // Group commit: Write(), then one Disk::Sync of the newest segment, after
  // which durable_lsn() == last_lsn(). If the segment has then reached
  // segment_bytes_max, rotates: creates the next segment, writes its header
  // and a checkpoint of every live group, syncs it and the directory. Returns
  // the poison status or the Disk's error (which poisons; durable_lsn() is
  // then unchanged). Requires no batch in flight (RS_CHECK).
  absl::Status Sync();

  // The first half of a pipelined Sync: seals every record appended but not
  // yet synced into a batch for WriteAndSyncBatch, and counts its bytes as
  // written to the newest segment. Until FinishBatch, the appenders and the
  // accessors may be called (they encode into a fresh buffer and never touch
  // the Disk); Sync, BeginBatch and CollectGarbage may not, nor Write unless
  // the batch carries no bytes (RS_CHECK).
  // Returns nullopt when nothing needs syncing, or when a rotation was due:
  // then it ran a whole Sync() on this thread (the buffered records go to the
  // full segment, synced, and the next segment is created), because the
  // next segment's checkpoints must follow every record already encoded. So
  // once per segment the caller's thread syncs; every other batch overlaps.
  // Returns the poison status, or that Sync's error.
  absl::StatusOr<std::optional<WalWriteBatch>> BeginBatch();

  // The second half: `synced` is WriteAndSyncBatch's result for `batch`, the
  // batch BeginBatch returned last (RS_CHECK). On OK, durable_lsn() becomes
  // batch.last_lsn; with verify_writes the batch is read back first; if the
  // segment is then full and nothing new is buffered, rotates (as Sync).
  // On an error, poisons (durable_lsn() unchanged) and returns it. The
  // batch's buffer is kept for reuse.
  absl::Status FinishBatch(WalWriteBatch batch, const absl::Status& synced);

  // True between BeginBatch returning a batch and FinishBatch.
  bool batch_in_flight() const { return in_flight_lsn_ != 0; }
  // True when Write() may be called now: no batch in flight, or one that
  // carries no bytes (write-behind).
  bool write_allowed() const {
    return !batch_in_flight() || !in_flight_has_bytes_;
  }

  // The LSN of the last record known durable (0 if none).
  uint64_t durable_lsn() const { return durable_lsn_; }
  // The LSN of the last record appended (0 if none).
  uint64_t last_lsn() const { return last_lsn_; }

  // Removes the oldest segments that no live group needs any more: every
  // group with entries in them has truncated past them or was removed (older
  // segments hold nothing else: a checkpoint in the next segment carries the
  // rest). Syncs first if records are pending, so that the truncation marks
  // relied on are durable; removes one segment at a time, oldest first, each
  // followed by SyncDir, so a crash leaves a suffix of the segments. Never
  // removes the newest segment. Returns the number removed, or the poison
  // status, or the Disk's error (which poisons).
  absl::StatusOr<int> CollectGarbage();

  // OK, or the error that poisoned the Wal.
  const absl::Status& health() const { return poisoned_; }

  WalStats stats() const;
  const WalOptions& options() const { return options_; }

 private:
  // The live bookkeeping of one group (its entries are not kept: the store
  // holds the live log in memory).
  struct Group {
    raft::HardState hard_state;
    raft::SnapshotMetadata snapshot;
    uint64_t truncated_index = 0;
    // max(last entry index appended, truncated index).
    uint64_t last_index = 0;
  };

  Wal(Disk* disk, const WalOptions& options);

  void AdoptReplay(WalReplay replay);
  // The checks every appender makes. `starts_group`: the record may start
  // a group (checked against groups_max); false when the caller knows the
  // group is live, or for a record that never starts one.
  absl::Status CheckAppend(uint64_t group_id, uint64_t frame_bytes,
                           bool starts_group = true);
  Group& GroupFor(uint64_t group_id);
  // Encodes one frame of `type` whose payload is `payload`; returns its LSN.
  uint64_t Buffer(WalRecordType type, std::string_view payload);
  // Requires each entry's cached size (ByteSizeLong called).
  absl::StatusOr<std::vector<size_t>> SplitEntries(
      std::span<const raft::Entry> entries) const;
  void EncodeEntriesFrame(uint64_t group_id,
                          std::span<const raft::Entry> entries);
  // Seals buffer_ (and bytes Write() left unsynced) into a batch; nullopt
  // if nothing is unsynced.
  std::optional<WalWriteBatch> SealBatch();
  absl::Status Rotate();
  // With verify_writes: reads back the first `bytes` of unsynced_written_
  // (now synced) and drops them from it.
  absl::Status VerifySynced(uint64_t bytes);
  void AppendCheckpoints(std::string* out);
  bool Collectable(const WalSegment& segment) const;
  absl::Status Poison(absl::Status status);
  const WalSegment& newest() const { return segments_.back(); }

  Disk* disk_;
  WalOptions options_;
  absl::Status poisoned_;
  // Oldest first; never empty after Open. The last is where records go.
  std::deque<WalSegment> segments_;
  absl::btree_map<uint64_t, Group> groups_;
  absl::btree_map<uint64_t, WalGroupState> recovered_;
  // Encoded frames not yet handed to the Disk.
  std::string buffer_;
  // With verify_writes: the bytes handed to the Disk and not yet read back
  // after a sync, and the offset in the newest segment where they start.
  std::string unsynced_written_;
  uint64_t unsynced_offset_ = 0;
  // A spare buffer (a finished batch's) so that sealing swaps buffers
  // instead of allocating a new one per batch.
  std::string spare_buffer_;
  // Bytes in buffer_ plus bytes written but not yet synced.
  uint64_t unsynced_bytes_ = 0;
  // While a batch is in flight: its last LSN and the unsynced bytes it
  // covers; 0 otherwise.
  uint64_t in_flight_lsn_ = 0;
  uint64_t in_flight_bytes_ = 0;
  // The batch in flight carries bytes for WriteAndSyncBatch to append (then
  // Write may not run until FinishBatch: its bytes would land first).
  bool in_flight_has_bytes_ = false;
  // With verify_writes: how much of unsynced_written_ the batch in flight
  // covers (Write may add more behind it while it syncs).
  uint64_t in_flight_verify_bytes_ = 0;
  uint64_t last_lsn_ = 0;
  uint64_t written_lsn_ = 0;
  uint64_t durable_lsn_ = 0;
  WalStats stats_;
};

// What RepairWal dropped.
struct WalRepairReport {
  // False when the WAL was clean and nothing was changed.
  bool repaired = false;
  // Where the first damage was, and what it was.
  std::string segment;
  uint64_t offset = 0;
  std::string reason;
  // The last LSN kept (0 if none).
  uint64_t last_lsn_kept = 0;
  // Bytes cut off the damaged segment, and the whole segments removed after
  // it (or including it, when its header was damaged).
  uint64_t bytes_dropped = 0;
  std::vector<std::string> segments_removed;
};

// Drops everything from the first damaged frame (or segment header, or
// missing segment) on: truncates that segment there, or removes it if its
// header is bad, removes every later segment, then syncs. Only for an
// explicit operator request: what it drops may have been durable and
// acknowledged. Returns kFailedPrecondition (changing nothing) if a segment
// has a newer format version, kInvalidArgument for bad options, or the Disk's
// error. Open() succeeds afterwards unless a group's entries were lost
// before its oldest kept entry (then Open still says kDataLoss for that
// group).
absl::StatusOr<WalRepairReport> RepairWal(Disk* disk,
                                          const WalOptions& options);

}  // namespace raftstore::storage

#endif  // RAFTSTORE_CORE_STORAGE_WAL_WAL_H_
