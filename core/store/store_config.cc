#include "core/store/store_config.h"

#include <algorithm>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/kv/kv_state_machine.h"

namespace raftstore::store {
namespace {

absl::Status Invalid(std::string_view field, std::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(
      "store config: ", std::string(field), " ", std::string(why)));
}

}  // namespace

uint64_t StoreConfig::CommandBytesMax() const {
  return std::max<uint64_t>(
      kv.CommandBytesMax(),
      merge_source_bytes_max + kMergeCommandOverheadBytes);
}

absl::Status StoreConfig::Validate() const {
  if (cluster_id == 0) return Invalid("cluster_id", "must be nonzero");
  if (store_id == 0) return Invalid("store_id", "must be nonzero");
  if (heartbeat_tick <= 0) return Invalid("heartbeat_tick", "must be >= 1");
  if (election_tick <= heartbeat_tick) {
    return Invalid("election_tick", "must exceed heartbeat_tick");
  }
  if (lease_reads && !check_quorum) {
    return Invalid("lease_reads", "needs check_quorum (thesis 6.4.1)");
  }
  if (max_size_per_msg_bytes == 0) {
    return Invalid("max_size_per_msg_bytes", "must be >= 1");
  }
  if (max_inflight_msgs == 0)
    return Invalid("max_inflight_msgs", "must be >= 1");
  if (max_uncommitted_entries_bytes == 0) {
    return Invalid("max_uncommitted_entries_bytes", "must be >= 1");
  }
  if (absl::Status kv_status = kv.Validate(); !kv_status.ok()) {
    return Invalid("kv", std::string(kv_status.message()));
  }
  if (raft_log_gc_entries_max == 0) {
    return Invalid("raft_log_gc_entries_max", "must be >= 1");
  }
  if (absl::Status s = storage::ValidateSnapshotFileOptions(snapshot_file);
      !s.ok()) {
    return Invalid("snapshot_file", std::string(s.message()));
  }
  if (snapshot_chunk_bytes < kv::KvStateMachine::ChunkBytesMin(kv) ||
      snapshot_chunk_bytes > snapshot_file.chunk_bytes_max) {
    return Invalid(
        "snapshot_chunk_bytes",
        absl::StrCat("must be in [KvStateMachine::ChunkBytesMin(kv) = ",
                     kv::KvStateMachine::ChunkBytesMin(kv),
                     ", snapshot_file.chunk_bytes_max = ",
                     snapshot_file.chunk_bytes_max, "]"));
  }
  if (split_check_ticks == 0) {
    return Invalid("split_check_ticks", "must be >= 1");
  }
  if (merge_source_bytes_max == 0) {
    return Invalid("merge_source_bytes_max", "must be >= 1");
  }
  if (merge_source_bytes_max + kMergeCommandOverheadBytes >
      max_uncommitted_entries_bytes) {
    return Invalid("merge_source_bytes_max",
                   absl::StrCat("plus ", kMergeCommandOverheadBytes,
                                " bytes of overhead must fit "
                                "max_uncommitted_entries_bytes ",
                                max_uncommitted_entries_bytes));
  }
  if (stale_peer_check_ticks == 0) {
    return Invalid("stale_peer_check_ticks", "must be >= 1");
  }
  if (merge_check_ticks == 0) {
    return Invalid("merge_check_ticks", "must be >= 1");
  }
  if (regions_max == 0) return Invalid("regions_max", "must be >= 1");
  if (region_proposals_max == 0) {
    return Invalid("region_proposals_max", "must be >= 1");
  }
  if (store_proposals_max < region_proposals_max) {
    return Invalid("store_proposals_max", "must be >= region_proposals_max");
  }
  if (region_reads_max == 0) return Invalid("region_reads_max", "must be >= 1");
  if (apply_lag_entries_max == 0) {
    return Invalid("apply_lag_entries_max", "must be >= 1");
  }
  if (applied_waiters_max == 0) {
    return Invalid("applied_waiters_max", "must be >= 1");
  }
  if (read_wait_ticks_max == 0) {
    return Invalid("read_wait_ticks_max", "must be >= 1");
  }
  if (messages_per_store_max == 0) {
    return Invalid("messages_per_store_max", "must be >= 1");
  }
  if (messages_per_batch_max == 0) {
    return Invalid("messages_per_batch_max", "must be >= 1");
  }
  return absl::OkStatus();
}

}  // namespace raftstore::store
