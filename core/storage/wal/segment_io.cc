#include "core/storage/wal/segment_io.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "core/storage/wal/wal_format.h"

namespace raftstore::storage {
namespace {

std::string TempName(uint64_t sequence) {
  return SegmentFileName(sequence) + std::string(kSegmentTempSuffix);
}

bool IsTempName(std::string_view name) {
  if (name.size() <= kSegmentTempSuffix.size() ||
      name.substr(name.size() - kSegmentTempSuffix.size()) !=
          kSegmentTempSuffix) {
    return false;
  }
  return ParseSegmentFileName(
             name.substr(0, name.size() - kSegmentTempSuffix.size()))
      .has_value();
}

// Cuts the torn tail of the newest segment at `good_bytes` and syncs it.
absl::Status CutTornTail(Disk* disk, const std::string& name,
                         uint64_t good_bytes) {
  if (absl::Status cut = disk->Truncate(name, good_bytes); !cut.ok()) {
    return DiskError(name, "truncate of the torn tail", cut);
  }
  if (absl::Status synced = disk->Sync(name); !synced.ok()) {
    return DiskError(name, "sync after truncating the torn tail", synced);
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status DiskError(const std::string& segment, std::string_view operation,
                       const absl::Status& status) {
  return absl::Status(
      status.code(),
      absl::StrCat("wal segment ", segment, ": ", std::string(operation),
                   " failed: ", status.message()));
}

absl::StatusOr<std::vector<uint64_t>> ListSegmentsUnchecked(Disk* disk) {
  absl::StatusOr<std::vector<std::string>> names = disk->List();
  if (!names.ok()) return names.status();
  std::vector<uint64_t> sequences;
  for (const std::string& name : *names) {
    if (std::optional<uint64_t> sequence = ParseSegmentFileName(name)) {
      sequences.push_back(*sequence);
    }
  }
  return sequences;  // List() is sorted and the names are zero-padded
}

absl::StatusOr<std::vector<uint64_t>> ListSegments(Disk* disk) {
  absl::StatusOr<std::vector<std::string>> names = disk->List();
  if (!names.ok()) return names.status();
  bool removed = false;
  for (const std::string& name : *names) {
    if (!IsTempName(name)) continue;
    if (absl::Status gone = disk->Remove(name); !gone.ok()) {
      return DiskError(name, "removing a leftover temporary segment", gone);
    }
    removed = true;
  }
  if (removed) {
    if (absl::Status synced = disk->SyncDir(); !synced.ok()) {
      return DiskError("(directory)", "sync", synced);
    }
  }
  absl::StatusOr<std::vector<uint64_t>> sequences = ListSegmentsUnchecked(disk);
  if (!sequences.ok()) return sequences.status();
  for (size_t i = 1; i < sequences->size(); ++i) {
    if ((*sequences)[i] != (*sequences)[i - 1] + 1) {
      return absl::DataLossError(
          absl::StrCat("wal segment ", SegmentFileName((*sequences)[i - 1] + 1),
                       " is missing (", SegmentFileName((*sequences)[i - 1]),
                       " and ", SegmentFileName((*sequences)[i]), " exist)"));
    }
  }
  return sequences;
}

absl::Status CreateSegment(Disk* disk, uint64_t sequence,
                           std::string_view contents, bool verify) {
  const std::string temp = TempName(sequence);
  if (absl::Status created = disk->Create(temp); !created.ok()) {
    return DiskError(temp, "create", created);
  }
  if (absl::Status appended = disk->Append(temp, contents); !appended.ok()) {
    return DiskError(temp, "append", appended);
  }
  if (absl::Status synced = disk->Sync(temp); !synced.ok()) {
    return DiskError(temp, "sync", synced);
  }
  if (verify) {
    if (absl::Status same = VerifyWritten(disk, temp, 0, contents);
        !same.ok()) {
      return same;
    }
  }
  const std::string name = SegmentFileName(sequence);
  if (absl::Status renamed = disk->Rename(temp, name); !renamed.ok()) {
    return DiskError(name, "rename into place", renamed);
  }
  if (absl::Status synced = disk->SyncDir(); !synced.ok()) {
    return DiskError(name, "directory sync after creating", synced);
  }
  return absl::OkStatus();
}

absl::Status VerifyWritten(Disk* disk, const std::string& name, uint64_t offset,
                           std::string_view expected) {
  constexpr int kReads = 2;
  uint64_t differs_at = 0;
  for (int read = 0; read < kReads; ++read) {
    absl::StatusOr<std::string> bytes =
        disk->Read(name, offset, expected.size());
    if (!bytes.ok()) return DiskError(name, "read-back", bytes.status());
    if (*bytes == expected) return absl::OkStatus();
    differs_at = offset;
    while (differs_at - offset < bytes->size() &&
           (*bytes)[differs_at - offset] == expected[differs_at - offset]) {
      ++differs_at;
    }
  }
  return absl::DataLossError(absl::StrCat(
      "wal segment ", name, " offset ", differs_at,
      ": synced bytes read back differently from what was written"));
}

absl::StatusOr<std::string> ReadFile(Disk* disk, const std::string& name) {
  absl::StatusOr<uint64_t> size = disk->Size(name);
  if (!size.ok()) return DiskError(name, "size", size.status());
  absl::StatusOr<std::string> bytes = disk->Read(name, 0, *size);
  if (!bytes.ok()) return DiskError(name, "read", bytes.status());
  return bytes;
}

absl::StatusOr<uint64_t> ReplayForOpen(Disk* disk, const WalOptions& options,
                                       const std::vector<uint64_t>& sequences,
                                       WalReplay& replay) {
  uint64_t torn_bytes = 0;
  for (const uint64_t sequence : sequences) {
    const std::string name = SegmentFileName(sequence);
    absl::StatusOr<std::string> bytes = ReadFile(disk, name);
    if (!bytes.ok()) return bytes.status();
    const SegmentScan scan = replay.ReplaySegment(sequence, *bytes);
    if (scan.clean) continue;
    if (!scan.header_ok || scan.content_error) return scan.error;
    if (sequence != sequences.back()) {
      return absl::DataLossError(absl::StrCat(
          scan.error.message(),
          "; not the newest segment, so every frame of it had been synced"));
    }
    const uint64_t good_lsn = replay.last_lsn();
    if (std::optional<uint64_t> proof =
            FindDurabilityProof(*bytes, scan.good_bytes, good_lsn,
                                options.record_payload_bytes_max)) {
      return absl::DataLossError(
          absl::StrCat(scan.error.message(), "; the valid frame at offset ",
                       *proof, " was written when LSN ", good_lsn + 1,
                       " was already durable, so durable data is damaged"));
    }
    // A torn tail: nothing from here on was ever known durable. Cut it only
    // on a stable read: a read garbled in flight must not cut durable data.
    absl::StatusOr<std::string> again = ReadFile(disk, name);
    if (!again.ok()) return again.status();
    if (*again != *bytes) {
      return absl::UnavailableError(
          absl::StrCat("wal segment ", name,
                       ": two reads disagree; not cutting the tail "
                       "at offset ",
                       scan.good_bytes, " (retry the Open)"));
    }
    if (absl::Status cut = CutTornTail(disk, name, scan.good_bytes);
        !cut.ok()) {
      return cut;
    }
    torn_bytes = bytes->size() - scan.good_bytes;
    replay.CutNewestSegment(scan.good_bytes);
    return torn_bytes;
  }
  const std::string newest = SegmentFileName(sequences.back());
  if (absl::Status synced = disk->Sync(newest); !synced.ok()) {
    return DiskError(newest, "sync of the replayed tail", synced);
  }
  return torn_bytes;
}

}  // namespace raftstore::storage
