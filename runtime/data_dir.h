// A node's data directory: one flat directory holding the manifest
// (CURRENT, MANIFEST-*), the WAL segments (wal-*.log), the region snapshot
// files (snap-*.snap) and a LOCK file, all through one PosixDisk.
//
// OpenDataDir runs the node's start-up sequence, the same as the test
// harness's and the simulator's (tests/store/store_harness.cc,
// sim/store_node.cc):
//   1. create the directory if it is missing and the node may create a store
//      (--bootstrap or --join);
//   2. take the LOCK (flock): a second process on the same directory is
//      refused;
//   3. open the manifest; a manifest with no identity gets one (and, with
//      --bootstrap, the records of the cluster's first region) in one edit;
//      an identity of another store or cluster is refused (CheckIdent);
//   4. open the WAL (replay), read the snapshot files the WAL refers to, and
//      hand everything to the caller as a store::StoreRecovery.
//
// Errors carry the exit code the node should stop with: 2 when the operator
// asked for something this directory cannot be (missing, not a store yet,
// another store's, in use by another process), 1 when the directory's
// contents cannot be recovered (I/O failure, DataLoss naming the file).
//
// Thread-safety: OpenDataDir runs on one thread before the node's loop
// starts; what it returns is then owned by the node's storage worker.
#ifndef RAFTSTORE_RUNTIME_DATA_DIR_H_
#define RAFTSTORE_RUNTIME_DATA_DIR_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "core/storage/manifest/manifest.h"
#include "core/storage/wal/wal.h"
#include "core/store/store.h"
#include "proto/region.pb.h"
#include "runtime/node_options.h"
#include "runtime/posix_disk.h"

namespace raftstore::runtime {

// The region a bootstrapped cluster starts with.
inline constexpr uint64_t kBootstrapRegionId = 1;

// The first region of a cluster of `store_ids`: id kBootstrapRegionId, the
// whole key space, epoch {1, 1}, one voter per store whose peer id is the
// store id (so every node derives the same region from the same --peers).
meta::Region BootstrapRegion(const std::vector<uint64_t>& store_ids);

// An exclusive flock on DIR/LOCK, released when destroyed (or when the
// process dies, so a kill -9 never leaves a stale lock).
class DataDirLock {
 public:
  // kFailedPrecondition when another process holds it; kUnavailable when
  // the file cannot be opened.
  static absl::StatusOr<std::unique_ptr<DataDirLock>> Acquire(
      const std::string& directory);
  ~DataDirLock();
  DataDirLock(const DataDirLock&) = delete;
  DataDirLock& operator=(const DataDirLock&) = delete;

 private:
  explicit DataDirLock(int fd) : fd_(fd) {}
  int fd_;
};

struct OpenedDataDir {
  std::unique_ptr<DataDirLock> lock;
  std::unique_ptr<PosixDisk> disk;
  std::unique_ptr<storage::Manifest> manifest;
  std::unique_ptr<storage::Wal> wal;
  store::StoreRecovery recovery;
  // Whether this start created the store (first start with --bootstrap or
  // --join).
  bool created = false;
};

// What OpenDataDir needs of the node's options and store configuration.
struct DataDirOptions {
  std::string directory;
  uint64_t cluster_id = 0;
  uint64_t store_id = 0;
  NodeInit init = NodeInit::kNone;
  // Every store of the cluster (for the bootstrap region).
  std::vector<uint64_t> store_ids;
  storage::WalOptions wal;
  storage::SnapshotFileOptions snapshot_file;
};

// Runs the start-up sequence above. On error returns the status (naming the
// directory or the file) and sets *exit_code_on_error (see the top of this
// file); the lock, if taken, is released.
absl::StatusOr<OpenedDataDir> OpenDataDir(const DataDirOptions& options,
                                          int* exit_code_on_error);

}  // namespace raftstore::runtime

#endif  // RAFTSTORE_RUNTIME_DATA_DIR_H_
