#include "core/store/store_effects.h"

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/base/check.h"

namespace raftstore::store {

size_t WriteBatch::entry_count() const {
  size_t count = 0;
  for (const RegionWrite& region : regions) count += region.entries.size();
  return count;
}

absl::Status StageWriteBatch(const WriteBatch& batch, storage::Disk* disk,
                             storage::Wal* wal,
                             const storage::SnapshotFileOptions& options) {
  for (const SnapshotWrite& snapshot : batch.snapshots) {
    if (absl::Status s = WriteSnapshotImage(disk, snapshot.image, options);
        !s.ok()) {
      return s;
    }
  }
  for (const SnapshotWrite& snapshot : batch.snapshots) {
    absl::StatusOr<uint64_t> lsn = wal->SaveSnapshot(
        snapshot.image.region.id(), snapshot.image.metadata, snapshot.kind);
    if (!lsn.ok()) return lsn.status();
  }
  for (const RegionWrite& region : batch.regions) {
    if (!region.entries.empty()) {
      absl::StatusOr<uint64_t> lsn =
          wal->AppendEntries(region.region_id, region.entries);
      if (!lsn.ok()) return lsn.status();
    }
    if (region.hard_state.has_value()) {
      absl::StatusOr<uint64_t> lsn =
          wal->SaveHardState(region.region_id, *region.hard_state);
      if (!lsn.ok()) return lsn.status();
    }
  }
  for (uint64_t region_id : batch.removed_groups) {
    absl::StatusOr<uint64_t> lsn = wal->RemoveGroup(region_id);
    if (!lsn.ok()) return lsn.status();
  }
  return absl::OkStatus();
}

Outbox::Outbox(uint64_t cluster_id, uint64_t from_store_id,
               size_t messages_per_store_max)
    : cluster_id_(cluster_id),
      from_store_id_(from_store_id),
      messages_per_store_max_(messages_per_store_max) {
  RS_CHECK_NE(cluster_id_, 0U);
  RS_CHECK_NE(from_store_id_, 0U);
  RS_CHECK_GE(messages_per_store_max_, 1U);
}

bool Outbox::Add(uint64_t to_store_id, RaftMessage message) {
  RaftMessageBatch& batch = batches_[to_store_id];
  if (static_cast<size_t>(batch.messages_size()) >= messages_per_store_max_) {
    ++dropped_;
    return false;
  }
  if (batch.messages_size() == 0) {
    batch.set_cluster_id(cluster_id_);
    batch.set_from_store_id(from_store_id_);
    batch.set_to_store_id(to_store_id);
  }
  *batch.add_messages() = std::move(message);
  ++queued_;
  return true;
}

void Outbox::Flush(std::vector<RaftMessageBatch>* out) {
  for (auto& [store_id, batch] : batches_) {
    if (batch.messages_size() > 0) out->push_back(std::move(batch));
  }
  batches_.clear();
  queued_ = 0;
}

}  // namespace raftstore::store
