// The node's storage and the one worker thread that touches it.
//
// StorageWorker owns the data directory's PosixDisk, Manifest and Wal once
// the node has opened them (data_dir.h), and carries out the store's
// durable steps (core/store/store_effects.h) off the loop thread, one job at
// a time. A job runs, in this order:
//   1. manifest edits (Manifest::Apply, each synced): the edits the store
//      produced since the last job, in order, so a region's WAL records
//      are never durable before the manifest lists it;
//   2. garbage collection, when the node asks for it after a write with
//      snapshots or removed groups: storage::RemoveStaleSnapshotFiles(keep)
//      with the store's LiveSnapshotFiles() taken right after OnPersisted,
//      then Wal::CollectGarbage;
//   3. the write: store::StageWriteBatch (snapshot files, published, then
//      the WAL records), then one Wal::Sync when write.must_sync (group
//      commit: one fdatasync for every region and every client request in
//      the batch), else Wal::Write.
// The completion callback runs on the loop thread; only then may the node
// call Store::OnPersisted for the write.
//
// Why the edits come before the collection: the store made them before the
// write whose OnPersisted led to the collection (the simulator's driver
// applies each edit at once), so a crash must never find a snapshot file
// removed while the manifest still lists its region as live.
//
// Any failure stops the job at that step and is reported with the step and
// the file it names. The Wal and the Manifest are then poisoned (a failed
// fsync cannot be retried): the node must stop (docs/runtime.md).
//
// Threading: jobs run on libuv's thread pool (uv_queue_work), at most one at
// a time (RS_CHECKed), so exactly one thread touches the disk while a job
// is in flight and the loop thread touches none of the three; between jobs
// the loop thread may read them (disk(), wal(), manifest()). uv_queue_work
// orders the job's memory before its completion callback. A job's
// WriteBatch points into the store's memory (RegionWrite::entries): the
// store keeps it unchanged until OnPersisted, and the worker only reads it.
//
// Thread-safety: every method on the loop thread.
#ifndef RAFTSTORE_RUNTIME_STORAGE_WORKER_H_
#define RAFTSTORE_RUNTIME_STORAGE_WORKER_H_

#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/btree_set.h"
#include "absl/status/status.h"
#include "core/storage/manifest/manifest.h"
#include "core/storage/manifest/snapshot_file.h"
#include "core/storage/wal/wal.h"
#include "core/store/store_effects.h"
#include "proto/manifest.pb.h"
#include "runtime/posix_disk.h"

namespace raftstore::runtime {

struct StorageJob {
  std::vector<manifest::ManifestEdit> manifest_edits;
  // Set: collect garbage, keeping these snapshot files.
  std::optional<absl::btree_set<std::string>> collect_keep;
  std::optional<store::WriteBatch> write;

  bool empty() const {
    return manifest_edits.empty() && !collect_keep.has_value() &&
           !write.has_value();
  }
};

struct StorageJobResult {
  // OK, or the first failure, naming the step and the file.
  absl::Status status;
  // The storage's state after the job (read on the worker, so the loop
  // thread need not touch the Wal or Manifest while serving /metrics).
  storage::WalStats wal;
  storage::ManifestStats manifest;
  uint64_t snapshot_files_removed = 0;
  uint64_t segments_removed = 0;
  // Wall time of the WAL write + sync step, and of the whole job.
  uint64_t sync_us = 0;
  uint64_t job_us = 0;
};

class StorageWorker {
 public:
  // Receives the job back (its write still referring to the store's memory:
  // call OnPersisted before dropping it, or drop it first) and its result.
  using DoneFn = std::function<void(StorageJob job, StorageJobResult result)>;

  // Takes the opened storage; `snapshot_file` are the store's options.
  StorageWorker(uv_loop_t* loop, std::unique_ptr<PosixDisk> disk,
                std::unique_ptr<storage::Manifest> manifest,
                std::unique_ptr<storage::Wal> wal,
                const storage::SnapshotFileOptions& snapshot_file);
  // Requires !busy(): a job in flight uses the storage.
  ~StorageWorker();

  StorageWorker(const StorageWorker&) = delete;
  StorageWorker& operator=(const StorageWorker&) = delete;

  // Starts `job` (not empty) on the thread pool; `done` runs on the loop
  // thread when it is over. Requires !busy() (RS_CHECK).
  void Submit(StorageJob job, DoneFn done);
  bool busy() const { return busy_; }

  // The storage, for the loop thread while !busy() (RS_CHECK).
  PosixDisk* disk();
  storage::Manifest* manifest();
  storage::Wal* wal();

  // Runs one job on the calling thread (the worker's body; tests call it
  // directly). Public so that its order is testable without a loop.
  static StorageJobResult Run(StorageJob& job, PosixDisk* disk,
                              storage::Manifest* manifest, storage::Wal* wal,
                              const storage::SnapshotFileOptions& options);

 private:
  static void WorkCb(uv_work_t* request);
  static void AfterWorkCb(uv_work_t* request, int status);

  uv_loop_t* loop_;
  std::unique_ptr<PosixDisk> disk_;
  std::unique_ptr<storage::Manifest> manifest_;
  std::unique_ptr<storage::Wal> wal_;
  storage::SnapshotFileOptions snapshot_file_;

  uv_work_t request_{};
  bool busy_ = false;
  StorageJob job_;
  StorageJobResult result_;
  DoneFn done_;
};

}  // namespace raftstore::runtime

#endif  // RAFTSTORE_RUNTIME_STORAGE_WORKER_H_
