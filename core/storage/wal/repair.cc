// RepairWal (declared in wal.h): the operator's explicit "drop the damage".

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "core/storage/wal/replay.h"
#include "core/storage/wal/segment_io.h"
#include "core/storage/wal/wal.h"

namespace raftstore::storage {
namespace {

// Finds the first damage; fills `report` with where it is and returns the
// index in `sequences` of the first segment to remove whole (size() if none).
absl::StatusOr<size_t> FindDamage(Disk* disk, const WalOptions& options,
                                  const std::vector<uint64_t>& sequences,
                                  WalRepairReport& report) {
  WalReplay replay(options);
  for (size_t i = 0; i < sequences.size(); ++i) {
    const std::string name = SegmentFileName(sequences[i]);
    if (i > 0 && sequences[i] != sequences[i - 1] + 1) {
      report.repaired = true;
      report.segment = SegmentFileName(sequences[i - 1] + 1);
      report.reason = "segment missing";
      report.last_lsn_kept = replay.last_lsn();
      return i;
    }
    absl::StatusOr<std::string> bytes = ReadFile(disk, name);
    if (!bytes.ok()) return bytes.status();
    const SegmentScan scan = replay.ReplaySegment(sequences[i], *bytes);
    if (scan.clean) continue;
    if (absl::IsFailedPrecondition(scan.error)) return scan.error;
    report.repaired = true;
    report.segment = name;
    report.offset = scan.header_ok ? scan.good_bytes : 0;
    report.reason = std::string(scan.error.message());
    report.last_lsn_kept = replay.last_lsn();
    if (!scan.header_ok) return i;
    report.bytes_dropped = bytes->size() - scan.good_bytes;
    return i + 1;
  }
  report.last_lsn_kept = replay.last_lsn();
  return sequences.size();
}

}  // namespace

absl::StatusOr<WalRepairReport> RepairWal(Disk* disk,
                                          const WalOptions& options) {
  if (absl::Status valid = ValidateWalOptions(options); !valid.ok()) {
    return valid;
  }
  absl::StatusOr<std::vector<uint64_t>> sequences = ListSegmentsUnchecked(disk);
  if (!sequences.ok()) return sequences.status();
  WalRepairReport report;
  absl::StatusOr<size_t> remove_from =
      FindDamage(disk, options, *sequences, report);
  if (!remove_from.ok()) return remove_from.status();
  if (!report.repaired) return report;
  if (report.bytes_dropped > 0) {
    if (absl::Status cut = disk->Truncate(report.segment, report.offset);
        !cut.ok()) {
      return DiskError(report.segment, "repair truncate", cut);
    }
    if (absl::Status synced = disk->Sync(report.segment); !synced.ok()) {
      return DiskError(report.segment, "repair sync", synced);
    }
  }
  // Newest first, so an interrupted repair still leaves a prefix.
  for (size_t i = sequences->size(); i > *remove_from; --i) {
    const std::string name = SegmentFileName((*sequences)[i - 1]);
    if (absl::Status gone = disk->Remove(name); !gone.ok()) {
      return DiskError(name, "repair remove", gone);
    }
    if (absl::Status synced = disk->SyncDir(); !synced.ok()) {
      return DiskError(name, "repair directory sync", synced);
    }
    report.segments_removed.insert(report.segments_removed.begin(), name);
  }
  return report;
}

}  // namespace raftstore::storage
