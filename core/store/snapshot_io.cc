#include "core/store/snapshot_io.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace raftstore::store {

std::string SnapshotFileNameOf(uint64_t region_id,
                               const raft::SnapshotMetadata& metadata) {
  return storage::SnapshotFileName(
      storage::SnapshotFileId{region_id, metadata.term(), metadata.index()});
}

std::string EncodeSnapshotData(const meta::Region& region,
                               const std::vector<std::string>& kv_chunks) {
  RegionSnapshotData data;
  data.set_format_version(kRegionSnapshotDataFormatVersion);
  *data.mutable_region() = region;
  for (const std::string& chunk : kv_chunks) data.add_kv_chunks(chunk);
  return data.SerializeAsString();
}

absl::StatusOr<RegionSnapshotData> DecodeSnapshotData(std::string_view data,
                                                      uint64_t region_id) {
  RegionSnapshotData decoded;
  if (!decoded.ParseFromArray(data.data(), static_cast<int>(data.size()))) {
    return absl::InvalidArgumentError(
        absl::StrCat("snapshot data of region ", region_id, " does not parse (",
                     data.size(), " bytes)"));
  }
  if (decoded.format_version() > kRegionSnapshotDataFormatVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        "snapshot data of region ", region_id, " has format version ",
        decoded.format_version(), ", newer than this binary's ",
        kRegionSnapshotDataFormatVersion));
  }
  if (decoded.format_version() == 0 || !decoded.has_region() ||
      decoded.region().id() != region_id) {
    return absl::InvalidArgumentError(absl::StrCat(
        "snapshot data of region ", region_id,
        " lacks a format version or names region ", decoded.region().id()));
  }
  return decoded;
}

absl::Status WriteSnapshotImage(storage::Disk* disk,
                                const RegionSnapshotImage& image,
                                const storage::SnapshotFileOptions& options) {
  manifest::SnapshotFileHeader header;
  header.set_region_id(image.region.id());
  *header.mutable_metadata() = image.metadata;
  *header.mutable_region() = image.region;
  return storage::WriteSnapshotFile(
      disk, SnapshotFileNameOf(image.region.id(), image.metadata), header,
      image.kv_chunks, options);
}

absl::StatusOr<absl::btree_map<uint64_t, RegionSnapshotImage>>
ReadRegionSnapshots(
    storage::Disk* disk,
    const absl::btree_map<uint64_t, storage::WalGroupState>& groups,
    const storage::SnapshotFileOptions& options) {
  absl::btree_map<uint64_t, RegionSnapshotImage> images;
  for (const auto& [region_id, group] : groups) {
    if (group.snapshot.index() == 0) continue;
    const std::string name = SnapshotFileNameOf(region_id, group.snapshot);
    absl::StatusOr<storage::SnapshotFile> file =
        storage::ReadSnapshotFile(disk, name, options);
    if (absl::IsNotFound(file.status())) {
      return absl::DataLossError(absl::StrCat("the WAL records snapshot ", name,
                                              " of region ", region_id,
                                              " but the file is missing"));
    }
    if (!file.ok()) return file.status();
    const manifest::SnapshotFileHeader& header = file->header();
    if (header.region_id() != region_id ||
        header.metadata().index() != group.snapshot.index() ||
        header.metadata().term() != group.snapshot.term()) {
      return absl::DataLossError(absl::StrCat(
          "snapshot file ", name, " holds region ", header.region_id(),
          " at index ", header.metadata().index(), " term ",
          header.metadata().term(), ", not what the WAL records"));
    }
    RegionSnapshotImage& image = images[region_id];
    image.metadata = header.metadata();
    image.region = header.region();
    image.kv_chunks.reserve(file->chunk_count());
    for (size_t i = 0; i < file->chunk_count(); ++i) {
      image.kv_chunks.emplace_back(file->chunk(i));
    }
  }
  return images;
}

}  // namespace raftstore::store
