// `raftstore wal dump|repair` and `raftstore manifest dump`: read a store's
// data directory with the storage engine itself (core/storage over
// PosixDisk), so what they print is exactly what a node would recover.
//
//   raftstore wal dump --workdir DIR        recover the WAL, print each group
//   raftstore wal repair --workdir DIR --drop_damaged
//                                           cut the WAL at its first damage
//   raftstore manifest dump --workdir DIR   every edit, then the catalog
//
// `wal dump` runs the normal recovery, which cuts a torn tail (never
// acknowledged) as a node's start would; damage followed by durable data is
// reported (exit 1) with the segment and offset and never changed. Only
// `wal repair --drop_damaged` drops it: what it drops may have been
// acknowledged, so the flag is required.

#include <cstdint>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/status/statusor.h"
#include "core/storage/manifest/manifest.h"
#include "core/storage/wal/wal.h"
#include "core/storage/wal/wal_format.h"
#include "runtime/posix_disk.h"
#include "tools/command.h"

ABSL_FLAG(std::string, workdir, "",
          "wal, manifest: the store's data directory");
ABSL_FLAG(bool, drop_damaged, false,
          "wal repair: really drop everything from the first damage on");

namespace raftstore::tools {
namespace {

absl::StatusOr<std::unique_ptr<runtime::PosixDisk>> OpenWorkdir(
    const char* command) {
  const std::string workdir = absl::GetFlag(FLAGS_workdir);
  if (workdir.empty()) {
    return absl::InvalidArgumentError(
        std::string(command) + " needs --workdir DIR (the data directory)");
  }
  return runtime::PosixDisk::Open(workdir);
}

// Whether the directory holds WAL segments: a dump of a directory without
// any must not create a fresh WAL there.
absl::StatusOr<bool> HasWal(storage::Disk* disk) {
  absl::StatusOr<std::vector<std::string>> names = disk->List();
  if (!names.ok()) return names.status();
  for (const std::string& name : *names) {
    if (name.rfind(storage::kSegmentFilePrefix, 0) == 0) return true;
  }
  return false;
}

int WalDump(storage::Disk* disk) {
  absl::StatusOr<bool> has_wal = HasWal(disk);
  if (!has_wal.ok() || !*has_wal) {
    std::cerr << "error: no WAL segments in " << absl::GetFlag(FLAGS_workdir)
              << (has_wal.ok() ? "" : ": " + has_wal.status().ToString())
              << "\n";
    return kExitUsage;
  }
  absl::StatusOr<std::unique_ptr<storage::Wal>> wal =
      storage::Wal::Open(disk, storage::WalOptions{});
  if (!wal.ok()) {
    std::cerr << "error: " << wal.status() << "\n";
    if (absl::IsDataLoss(wal.status())) {
      std::cerr << "the WAL is damaged; to drop the damage and everything "
                   "after it (which may have been acknowledged):\n  raftstore "
                   "wal repair --workdir="
                << absl::GetFlag(FLAGS_workdir) << " --drop_damaged\n";
      return kExitProblem;
    }
    return kExitUsage;
  }
  const storage::WalStats stats = (*wal)->stats();
  std::cout << "wal: " << stats.segments << " segments, " << stats.segment_bytes
            << " bytes, " << stats.records_replayed << " records, last lsn "
            << (*wal)->last_lsn() << ", " << stats.torn_bytes_dropped
            << " torn bytes cut\n";
  for (const auto& [group, state] : (*wal)->TakeRecovered()) {
    std::cout << "group " << group << ": term " << state.hard_state.term()
              << " vote " << state.hard_state.vote() << " commit "
              << state.hard_state.commit() << "; snapshot "
              << state.snapshot.index() << "/" << state.snapshot.term()
              << "; truncated " << state.truncated_index << "; entries ";
    if (state.entries.empty()) {
      std::cout << "none\n";
    } else {
      std::cout << state.entries.front().index() << ".."
                << state.entries.back().index() << " (last term "
                << state.entries.back().term() << ")\n";
    }
  }
  return kExitOk;
}

int WalRepair(storage::Disk* disk) {
  if (!absl::GetFlag(FLAGS_drop_damaged)) {
    std::cerr << "error: wal repair drops every record from the first damage "
                 "on, which may include acknowledged writes; run `raftstore "
                 "wal dump` to see the damage, then pass --drop_damaged\n";
    return kExitUsage;
  }
  absl::StatusOr<storage::WalRepairReport> report =
      storage::RepairWal(disk, storage::WalOptions{});
  if (!report.ok()) {
    std::cerr << "error: " << report.status() << "\n";
    return kExitProblem;
  }
  if (!report->repaired) {
    std::cout << "wal: no damage; nothing changed\n";
    return kExitOk;
  }
  std::cout << "wal: damage in " << report->segment << " at offset "
            << report->offset << " (" << report->reason << "); dropped "
            << report->bytes_dropped << " bytes and "
            << report->segments_removed.size()
            << " later segments; last lsn kept " << report->last_lsn_kept
            << "\n";
  return kExitOk;
}

}  // namespace

int RunWal(const std::vector<std::string>& args) {
  if (args.size() != 1 || (args[0] != "dump" && args[0] != "repair")) {
    std::cerr << "error: usage: raftstore wal dump|repair --workdir DIR\n";
    return kExitUsage;
  }
  absl::StatusOr<std::unique_ptr<runtime::PosixDisk>> disk = OpenWorkdir("wal");
  if (!disk.ok()) {
    std::cerr << "error: " << disk.status().message() << "\n";
    return kExitUsage;
  }
  return args[0] == "dump" ? WalDump(disk->get()) : WalRepair(disk->get());
}

int RunManifest(const std::vector<std::string>& args) {
  if (args.size() != 1 || args[0] != "dump") {
    std::cerr << "error: usage: raftstore manifest dump --workdir DIR\n";
    return kExitUsage;
  }
  absl::StatusOr<std::unique_ptr<runtime::PosixDisk>> disk =
      OpenWorkdir("manifest");
  if (!disk.ok()) {
    std::cerr << "error: " << disk.status().message() << "\n";
    return kExitUsage;
  }
  absl::StatusOr<storage::ManifestDump> dump =
      storage::ReadManifest(disk->get());
  if (!dump.ok()) {
    std::cerr << "error: " << dump.status() << "\n";
    return absl::IsNotFound(dump.status()) ? kExitUsage : kExitProblem;
  }
  std::cout << "manifest: " << dump->file_name << ", " << dump->file_bytes
            << " bytes, format " << dump->file.format_version << ", "
            << dump->file.edits.size() << " edits, "
            << dump->file.torn_tail_bytes << " torn bytes\n";
  for (const storage::DecodedEdit& edit : dump->file.edits) {
    std::cout << "edit @" << edit.offset << ": " << edit.edit.ShortDebugString()
              << "\n";
  }
  if (dump->state.ident.has_value()) {
    std::cout << "store: " << dump->state.ident->ShortDebugString() << "\n";
  }
  for (const auto& [id, record] : dump->state.regions) {
    std::cout << "region " << id << ": " << record.ShortDebugString() << "\n";
  }
  return kExitOk;
}

}  // namespace raftstore::tools
