#include "runtime/storage_worker.h"

#include <uv.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/base/check.h"

namespace raftstore::runtime {
namespace {

using Clock = std::chrono::steady_clock;

uint64_t MicrosSince(Clock::time_point start) {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() -
                                                            start)
          .count());
}

// The step's name in front of the storage's own message (which names the
// file).
absl::Status AtStep(const absl::Status& status, const char* step) {
  return absl::Status(status.code(),
                      absl::StrCat(step, ": ", status.message()));
}

}  // namespace

StorageWorker::StorageWorker(uv_loop_t* loop, std::unique_ptr<PosixDisk> disk,
                             std::unique_ptr<storage::Manifest> manifest,
                             std::unique_ptr<storage::Wal> wal,
                             const storage::SnapshotFileOptions& snapshot_file)
    : loop_(loop),
      disk_(std::move(disk)),
      manifest_(std::move(manifest)),
      wal_(std::move(wal)),
      snapshot_file_(snapshot_file) {
  RS_CHECK(disk_ != nullptr && manifest_ != nullptr && wal_ != nullptr);
  request_.data = this;
}

StorageWorker::~StorageWorker() {
  RS_CHECK(!busy_) << "storage worker destroyed with a job in flight";
  // The Wal and the Manifest use the disk: they go first.
  wal_.reset();
  manifest_.reset();
  disk_.reset();
}

PosixDisk* StorageWorker::disk() {
  RS_CHECK(!busy_);
  return disk_.get();
}

storage::Manifest* StorageWorker::manifest() {
  RS_CHECK(!busy_);
  return manifest_.get();
}

storage::Wal* StorageWorker::wal() {
  RS_CHECK(!busy_);
  return wal_.get();
}

void StorageWorker::Submit(StorageJob job, DoneFn done) {
  RS_CHECK(!busy_) << "a second storage job while one is in flight";
  RS_CHECK(!job.empty());
  busy_ = true;
  job_ = std::move(job);
  result_ = StorageJobResult{};
  done_ = std::move(done);
  const int queued = uv_queue_work(loop_, &request_, WorkCb, AfterWorkCb);
  RS_CHECK_EQ(queued, 0) << "uv_queue_work: " << uv_strerror(queued);
}

void StorageWorker::WorkCb(uv_work_t* request) {
  auto* self = static_cast<StorageWorker*>(request->data);
  self->result_ = Run(self->job_, self->disk_.get(), self->manifest_.get(),
                      self->wal_.get(), self->snapshot_file_);
}

void StorageWorker::AfterWorkCb(uv_work_t* request, int status) {
  auto* self = static_cast<StorageWorker*>(request->data);
  // Jobs are never cancelled (uv_cancel is not used), so the work ran.
  RS_CHECK_EQ(status, 0) << "storage job: " << uv_strerror(status);
  self->busy_ = false;
  DoneFn done = std::move(self->done_);
  self->done_ = nullptr;
  StorageJob job = std::move(self->job_);
  self->job_ = StorageJob{};
  done(std::move(job), std::move(self->result_));
}

StorageJobResult StorageWorker::Run(
    StorageJob& job, PosixDisk* disk, storage::Manifest* manifest,
    storage::Wal* wal, const storage::SnapshotFileOptions& options) {
  const Clock::time_point start = Clock::now();
  StorageJobResult result;
  auto finish = [&](absl::Status status) {
    result.status = std::move(status);
    result.wal = wal->stats();
    result.manifest = manifest->stats();
    result.job_us = MicrosSince(start);
    return result;
  };
  for (const manifest::ManifestEdit& edit : job.manifest_edits) {
    if (absl::Status s = manifest->Apply(edit); !s.ok()) {
      return finish(AtStep(s, "manifest edit"));
    }
  }
  if (job.collect_keep.has_value()) {
    absl::StatusOr<std::vector<std::string>> removed =
        storage::RemoveStaleSnapshotFiles(disk, *job.collect_keep);
    if (!removed.ok()) {
      return finish(AtStep(removed.status(), "removing stale snapshot files"));
    }
    result.snapshot_files_removed = removed->size();
    absl::StatusOr<int> segments = wal->CollectGarbage();
    if (!segments.ok()) {
      return finish(AtStep(segments.status(), "WAL segment collection"));
    }
    result.segments_removed = static_cast<uint64_t>(*segments);
  }
  if (job.write.has_value()) {
    if (absl::Status s = store::StageWriteBatch(*job.write, disk, wal, options);
        !s.ok()) {
      return finish(AtStep(s, "staging the write"));
    }
    const Clock::time_point sync_start = Clock::now();
    absl::Status written = job.write->must_sync ? wal->Sync() : wal->Write();
    result.sync_us = MicrosSince(sync_start);
    if (!written.ok()) {
      return finish(
          AtStep(written, job.write->must_sync ? "WAL sync" : "WAL write"));
    }
  }
  return finish(absl::OkStatus());
}

}  // namespace raftstore::runtime
