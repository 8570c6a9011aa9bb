#include "runtime/data_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/store/snapshot_io.h"

namespace raftstore::runtime {
namespace {

constexpr int kExitUsage = 2;
constexpr int kExitFailure = 1;
constexpr char kLockFileName[] = "LOCK";

std::string Errno(int error) {
  return absl::StrCat(std::strerror(error), " (errno ", error, ")");
}

// Creates `directory` (one level) when it is missing and the node may
// create a store; a missing directory is otherwise a configuration error.
absl::Status EnsureDirectory(const DataDirOptions& options) {
  struct stat info {};
  if (stat(options.directory.c_str(), &info) == 0) {
    if (!S_ISDIR(info.st_mode)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "data dir ", options.directory, " exists and is not a directory"));
    }
    return absl::OkStatus();
  }
  const int error = errno;
  if (error != ENOENT) {
    return absl::UnavailableError(
        absl::StrCat("data dir ", options.directory, ": stat: ", Errno(error)));
  }
  if (options.init == NodeInit::kNone) {
    return absl::NotFoundError(absl::StrCat(
        "data dir ", options.directory,
        " does not exist; start with --bootstrap (a new cluster) or --join "
        "(a new store of a running cluster) to create it"));
  }
  if (mkdir(options.directory.c_str(), 0755) != 0) {
    return absl::UnavailableError(absl::StrCat("data dir ", options.directory,
                                               ": mkdir: ", Errno(errno)));
  }
  return absl::OkStatus();
}

// The manifest's identity: written on first start (with the bootstrap
// region's records for --bootstrap), checked on every start.
absl::Status EnsureIdent(const DataDirOptions& options,
                         storage::Manifest* manifest, bool* created,
                         int* exit_code) {
  manifest::StoreIdent ident;
  ident.set_cluster_id(options.cluster_id);
  ident.set_store_id(options.store_id);
  if (manifest->ident().has_value()) {
    if (absl::Status s = manifest->CheckIdent(ident); !s.ok()) {
      *exit_code = kExitUsage;
      return absl::FailedPreconditionError(
          absl::StrCat("data dir ", options.directory, ": ", s.message()));
    }
    return absl::OkStatus();
  }
  if (options.init == NodeInit::kNone) {
    *exit_code = kExitUsage;
    return absl::FailedPreconditionError(absl::StrCat(
        "data dir ", options.directory,
        " holds no store; start with --bootstrap (a new cluster) or --join "
        "(a new store of a running cluster)"));
  }
  manifest::ManifestEdit edit;
  *edit.mutable_ident() = ident;
  if (options.init == NodeInit::kBootstrap) {
    for (manifest::RegionRecord& record :
         store::BootstrapRecords({BootstrapRegion(options.store_ids)})) {
      *edit.add_put_regions() = std::move(record);
    }
  }
  if (absl::Status s = manifest->Apply(edit); !s.ok()) return s;
  *created = true;
  return absl::OkStatus();
}

absl::Status OpenStorage(const DataDirOptions& options, OpenedDataDir* out,
                         int* exit_code) {
  absl::StatusOr<std::unique_ptr<PosixDisk>> disk =
      PosixDisk::Open(options.directory);
  if (!disk.ok()) return disk.status();
  out->disk = *std::move(disk);
  absl::StatusOr<std::unique_ptr<storage::Manifest>> manifest =
      storage::Manifest::Open(out->disk.get(), storage::ManifestOptions{});
  if (!manifest.ok()) return manifest.status();
  out->manifest = *std::move(manifest);
  if (absl::Status s =
          EnsureIdent(options, out->manifest.get(), &out->created, exit_code);
      !s.ok()) {
    return s;
  }
  absl::StatusOr<std::unique_ptr<storage::Wal>> wal =
      storage::Wal::Open(out->disk.get(), options.wal);
  if (!wal.ok()) return wal.status();
  out->wal = *std::move(wal);
  for (const auto& entry : out->manifest->regions()) {
    out->recovery.regions.push_back(entry.second);
  }
  out->recovery.groups = out->wal->TakeRecovered();
  absl::StatusOr<absl::btree_map<uint64_t, store::RegionSnapshotImage>>
      snapshots = store::ReadRegionSnapshots(
          out->disk.get(), out->recovery.groups, options.snapshot_file);
  if (!snapshots.ok()) return snapshots.status();
  out->recovery.snapshots = *std::move(snapshots);
  return absl::OkStatus();
}

}  // namespace

meta::Region BootstrapRegion(const std::vector<uint64_t>& store_ids) {
  meta::Region region;
  region.set_id(kBootstrapRegionId);
  region.mutable_epoch()->set_version(1);
  region.mutable_epoch()->set_conf_version(1);
  for (uint64_t store_id : store_ids) {
    meta::Peer* peer = region.add_peers();
    peer->set_id(store_id);
    peer->set_store_id(store_id);
    peer->set_role(meta::PEER_ROLE_VOTER);
  }
  return region;
}

absl::StatusOr<std::unique_ptr<DataDirLock>> DataDirLock::Acquire(
    const std::string& directory) {
  const std::string path = absl::StrCat(directory, "/", kLockFileName);
  const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return absl::UnavailableError(
        absl::StrCat("data dir lock ", path, ": open: ", Errno(errno)));
  }
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    close(fd);
    if (error == EWOULDBLOCK) {
      return absl::FailedPreconditionError(
          absl::StrCat("data dir ", directory,
                       " is in use by another process (", path, " is locked)"));
    }
    return absl::UnavailableError(
        absl::StrCat("data dir lock ", path, ": flock: ", Errno(error)));
  }
  return std::unique_ptr<DataDirLock>(new DataDirLock(fd));
}

DataDirLock::~DataDirLock() { close(fd_); }

absl::StatusOr<OpenedDataDir> OpenDataDir(const DataDirOptions& options,
                                          int* exit_code_on_error) {
  *exit_code_on_error = kExitUsage;
  if (absl::Status s = EnsureDirectory(options); !s.ok()) return s;
  absl::StatusOr<std::unique_ptr<DataDirLock>> lock =
      DataDirLock::Acquire(options.directory);
  if (!lock.ok()) return lock.status();
  OpenedDataDir out;
  out.lock = *std::move(lock);
  // From here on a failure is the directory's contents (or the disk), unless
  // EnsureIdent says otherwise.
  *exit_code_on_error = kExitFailure;
  if (absl::Status s = OpenStorage(options, &out, exit_code_on_error);
      !s.ok()) {
    return s;
  }
  return out;
}

}  // namespace raftstore::runtime
