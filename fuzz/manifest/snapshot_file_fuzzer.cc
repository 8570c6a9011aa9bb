// Fuzzes the snapshot-file reader: arbitrary bytes as a snapshot file must
// never crash, hang or leak, and a file it accepts must be one the writer
// would produce: writing its header and chunks again succeeds, and reading
// that back gives the same header and chunks.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "core/base/check.h"
#include "core/base/rng.h"
#include "core/storage/manifest/snapshot_file.h"
#include "proto/manifest.pb.h"
#include "sim/disk.h"

namespace raftstore::storage {
namespace {

SnapshotFileOptions FuzzOptions() {
  SnapshotFileOptions options;
  options.chunk_bytes_max = 1 << 16;
  options.chunk_count_max = 1 << 12;
  options.file_bytes_max = 1 << 20;
  return options;
}

void Check(std::string bytes) {
  const SnapshotFileOptions options = FuzzOptions();
  absl::StatusOr<SnapshotFile> file =
      DecodeSnapshotFile("fuzz.snap", std::move(bytes), options);
  if (!file.ok()) {
    const absl::StatusCode code = file.status().code();
    RS_CHECK(code == absl::StatusCode::kDataLoss ||
             code == absl::StatusCode::kFailedPrecondition)
        << file.status();
    return;
  }
  std::vector<std::string> chunks;
  uint64_t total_bytes = 0;
  for (size_t i = 0; i < file->chunk_count(); ++i) {
    chunks.emplace_back(file->chunk(i));
    total_bytes += chunks.back().size();
  }
  RS_CHECK_EQ(chunks.size(), file->header().chunk_count());
  RS_CHECK_EQ(total_bytes, file->header().total_bytes());
  sim::SimDisk disk(sim::SimDiskOptions{}, Rng(1));
  const absl::Status written =
      WriteSnapshotFile(&disk, "again.snap", file->header(), chunks, options);
  RS_CHECK(written.ok()) << written;
  absl::StatusOr<SnapshotFile> again =
      ReadSnapshotFile(&disk, "again.snap", options);
  RS_CHECK(again.ok()) << again.status();
  RS_CHECK_EQ(again->header().SerializeAsString(),
              file->header().SerializeAsString());
  RS_CHECK_EQ(again->chunk_count(), file->chunk_count());
  for (size_t i = 0; i < chunks.size(); ++i) {
    RS_CHECK(again->chunk(i) == chunks[i]);
  }
}

}  // namespace
}  // namespace raftstore::storage

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  raftstore::storage::Check(
      std::string(reinterpret_cast<const char*>(data), size));
  return 0;
}
