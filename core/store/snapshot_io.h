// A region's snapshot in its three forms, and the moves between them:
//   - RegionSnapshotImage: in memory, what a peer produces (log GC) or
//     installs (from its leader), and what a driver hands back at start;
//   - raft.Snapshot.data: a serialised RegionSnapshotData (proto/store.proto)
//     travelling in a raft snapshot message;
//   - a snapshot file (core/storage/manifest/snapshot_file.h) named after the
//     region, term and index, whose chunks are the KV image.
// The WAL records only a snapshot's metadata (SaveSnapshot); the file holds
// its data and is written (and synced, and renamed into place) before the WAL
// record that points at it, so a recovered metadata always has its file.
//
// Thread-safety: pure functions, or functions over a Disk (one caller).
#ifndef RAFTSTORE_CORE_STORE_SNAPSHOT_IO_H_
#define RAFTSTORE_CORE_STORE_SNAPSHOT_IO_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/storage/disk.h"
#include "core/storage/manifest/snapshot_file.h"
#include "core/storage/wal/wal_options.h"
#include "proto/raft.pb.h"
#include "proto/region.pb.h"
#include "proto/store.pb.h"

namespace raftstore::store {

inline constexpr uint32_t kRegionSnapshotDataFormatVersion = 1;

struct RegionSnapshotImage {
  raft::SnapshotMetadata metadata;
  // The region's meta as of the snapshot.
  meta::Region region;
  // core/kv KvStateMachine::ExportChunks at metadata.index.
  std::vector<std::string> kv_chunks;
};

// The file name of the region's snapshot with this metadata.
std::string SnapshotFileNameOf(uint64_t region_id,
                               const raft::SnapshotMetadata& metadata);

// raft.Snapshot.data for an image (its metadata travels beside it).
std::string EncodeSnapshotData(const meta::Region& region,
                               const std::vector<std::string>& kv_chunks);

// Parses raft.Snapshot.data. kInvalidArgument when it does not parse, lacks
// a region, or names region `region_id` wrongly; kFailedPrecondition for a
// newer format_version.
absl::StatusOr<RegionSnapshotData> DecodeSnapshotData(std::string_view data,
                                                      uint64_t region_id);

// Writes the image as the region's snapshot file, published atomically.
// Errors: WriteSnapshotFile's.
absl::Status WriteSnapshotImage(storage::Disk* disk,
                                const RegionSnapshotImage& image,
                                const storage::SnapshotFileOptions& options);

// Reads the snapshot file of every group whose recovered state records a
// snapshot (index > 0), checking that the file's header says the same
// region and metadata. Errors: kDataLoss naming the file when it is missing
// or does not match (the WAL points at a snapshot that is not there), and
// ReadSnapshotFile's errors.
absl::StatusOr<absl::btree_map<uint64_t, RegionSnapshotImage>>
ReadRegionSnapshots(
    storage::Disk* disk,
    const absl::btree_map<uint64_t, storage::WalGroupState>& groups,
    const storage::SnapshotFileOptions& options);

}  // namespace raftstore::store

#endif  // RAFTSTORE_CORE_STORE_SNAPSHOT_IO_H_
