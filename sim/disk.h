// SimDisk: the simulator's disk, an in-memory storage::Disk that decides what
// a crash keeps and injects media faults, all drawn from one seeded Rng.
//
// The storage engine (core/storage) runs on this exactly as it runs on
// PosixDisk, so every durability rule of core/storage/disk.h is exercised
// here by a model that is as hostile as that contract allows, and no more
// (a correct caller never loses synced data).
//
// What is modelled:
//
// Files. Every file is an inode with two images: the *durable* content
// (what the medium holds; what a crash falls back to) and the *current*
// content (what reads see: the page cache). Append and Truncate change the
// current image; Sync(name) copies it to the durable one. Bytes below the
// lowest offset touched since the last Sync are identical in both images.
//
// Directory. There is a current directory (name -> inode) and a durable one.
// Create, Rename and Remove change the current directory and are recorded as
// pending operations; SyncDir() makes the current directory durable and
// clears them. An inode keeps its data while any directory (current,
// durable, or a pending operation) can still refer to it, so a removed file
// that comes back after a crash comes back with its durable content.
//
// Crash() (kill -9 or power loss; there is no difference for a disk whose
// writes are all buffered until synced):
//   1. Directory: starting from the durable directory, the pending operations
//      are replayed in order, each kept independently with probability
//      `crash.dir_op_keep_ppm` (or, with `crash.dir_ops_as_prefix`, a random
//      prefix of them is kept, as a journaling file system would). An
//      operation whose source no longer names the same inode in the replayed
//      directory is skipped (a rename of a file whose create was undone), and
//      a create of a name that exists is skipped. So each name refers to
//      exactly one whole inode: a rename reverts or not, never a mix.
//   2. Data, for each file that survived step 1: if the file was truncated
//      below its durable size since its last Sync, the truncation is kept
//      with probability `crash.truncate_keep_ppm` (else the old durable bytes
//      return). Then every sector (`sector_bytes`) holding unsynced bytes is
//      independently
//        - kept (`crash.sector_keep_ppm`): the new bytes,
//        - torn (`crash.sector_torn_ppm`): a prefix of the sector (possibly
//          empty) is new, the rest is the old durable bytes or zeros past the
//          old end, or, with `crash.torn_garbage_ppm`, random garbage in
//          the bytes the write was changing (bytes it left equal to their
//          synced value are never lost),
//        - dropped (the rest): the old durable bytes, or zeros past the old
//          durable end (a hole, when a later sector survives).
//      The size after the crash is the old size, extended to the end of the
//      last kept or torn sector (so dropped tail sectors shrink the file).
//      With `crash.size_without_data_ppm` the size reaches the full current
//      size even though the data did not (the file system's size update
//      survived, the data blocks did not): the lost sectors read as zeros.
//   3. Everything is durable as it now stands; the disk is usable again.
//
// Faults (SimDiskFaults, each a rate in parts per million, switchable at
// runtime with SetFaults so the simulator can confine them to a minority of
// nodes and a quorum always keeps a clean copy):
//   - read corruption: a Read returns one flipped bit (transient);
//   - write corruption: an Append lands with one flipped bit (persistent);
//   - latent sector error: a Read finds a sector unreadable and returns
//     kDataLoss naming the file and offset; the sector stays unreadable until
//     an Append writes into it or a Truncate cuts it off;
//   - misdirected write: an Append's bytes land over an existing range of
//     some file (possibly the same one; both images, as on the medium) and
//     the intended range reads as zeros;
//   - I/O error: the operation returns kUnavailable and changes nothing
//     (Create, Append, Read, Sync, Truncate, Rename, Remove, SyncDir; a
//     failed Sync leaves the data unsynced).
// A full disk is not random: an Append that would take the bytes of the
// current files past `capacity_bytes` returns kResourceExhausted and changes
// nothing; a Create past `files_max` likewise. Every fault is counted in
// stats() and reported to the fault observer, if one is set.
//
// Latency. The Disk interface is synchronous; the simulator owns time and
// asks SampleWriteLatencyUs / SampleSyncLatencyUs how long to delay each
// completion. Latency draws come from their own forked Rng, so turning
// latency sampling on or off does not change what a crash keeps.
//
// Determinism: all state is in ordered containers and all randomness comes
// from the Rng given to the constructor (forked into independent streams for
// faults, crashes and latency). Same seed, same calls: same outcome.
//
// Thread-safety: none; the simulator is single-threaded.
#ifndef RAFTSTORE_SIM_DISK_H_
#define RAFTSTORE_SIM_DISK_H_

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/base/rng.h"
#include "core/storage/disk.h"

namespace raftstore::sim {

// Probabilities are integers in parts per million so that no decision ever
// depends on floating-point rounding.
inline constexpr uint32_t kPpm = 1'000'000;

// What a crash does to unsynced state. The defaults are hostile: half of the
// unsynced sectors and directory operations are lost.
struct SimDiskCrashModel {
  uint32_t sector_keep_ppm = 500'000;
  uint32_t sector_torn_ppm = 200'000;   // keep + torn <= kPpm; the rest drop
  uint32_t torn_garbage_ppm = 500'000;  // of torn sectors: garbage, not old
  uint32_t size_without_data_ppm = 0;   // per file with unsynced growth
  uint32_t dir_op_keep_ppm = 500'000;
  uint32_t truncate_keep_ppm = 500'000;
  bool dir_ops_as_prefix = false;
};

// Media faults, in parts per million per eligible operation. All off by
// default: the simulator turns them on per node.
struct SimDiskFaults {
  uint32_t read_corruption_ppm = 0;      // per Read returning bytes
  uint32_t write_corruption_ppm = 0;     // per non-empty Append
  uint32_t latent_sector_error_ppm = 0;  // per Read returning bytes
  uint32_t misdirected_write_ppm = 0;    // per non-empty Append
  uint32_t io_error_ppm = 0;             // per operation (see top comment)
};

struct SimDiskOptions {
  uint64_t sector_bytes = 4096;
  uint64_t capacity_bytes = uint64_t{1} << 30;  // sum of current file sizes
  uint64_t files_max = 4096;                    // names in the directory
  SimDiskCrashModel crash;
  SimDiskFaults faults;
  // Latency of one write (Append) and one Sync/SyncDir, uniform in
  // [min, max]; with `slow_io_ppm` a sample is multiplied by
  // `slow_io_multiplier` (a disk having a bad moment).
  uint64_t write_latency_us_min = 10;
  uint64_t write_latency_us_max = 100;
  uint64_t sync_latency_us_min = 500;
  uint64_t sync_latency_us_max = 5'000;
  uint32_t slow_io_ppm = 0;
  uint64_t slow_io_multiplier = 20;
};

enum class SimDiskFaultKind {
  kReadCorruption,
  kWriteCorruption,
  kLatentSectorError,
  kMisdirectedWrite,
  kIoError,
  kDiskFull,
};

std::string_view SimDiskFaultKindName(SimDiskFaultKind kind);

// One injected fault, as reported to the observer (for the simulator trace).
struct SimDiskFault {
  SimDiskFaultKind kind;
  std::string file;
  uint64_t offset = 0;
  std::string detail;
};

struct SimDiskStats {
  uint64_t appends = 0;
  uint64_t bytes_appended = 0;
  uint64_t syncs = 0;
  uint64_t dir_syncs = 0;
  uint64_t crashes = 0;
  uint64_t sectors_kept = 0;
  uint64_t sectors_torn = 0;
  uint64_t sectors_dropped = 0;
  uint64_t dir_ops_kept = 0;
  uint64_t dir_ops_undone = 0;
  uint64_t truncates_undone = 0;
  uint64_t read_corruptions = 0;
  uint64_t write_corruptions = 0;
  uint64_t latent_sector_errors = 0;
  uint64_t misdirected_writes = 0;
  uint64_t io_errors = 0;
  uint64_t disk_full_errors = 0;

  // One line for the simulator's summary, e.g. "appends=10 ... io_errors=0".
  std::string ToString() const;
};

class SimDisk final : public storage::Disk {
 public:
  // RS_CHECKs that the options are consistent (rates <= kPpm, keep + torn <=
  // kPpm, sector_bytes > 0, latency min <= max). `rng` is forked into
  // independent streams; the disk owns them.
  SimDisk(const SimDiskOptions& options, Rng rng);

  // storage::Disk; see core/storage/disk.h and the top of this file.
  absl::Status Create(const std::string& name) override;
  absl::Status Append(const std::string& name, std::string_view data) override;
  absl::StatusOr<std::string> Read(const std::string& name, uint64_t offset,
                                   uint64_t length) override;
  absl::Status Sync(const std::string& name) override;
  absl::Status Truncate(const std::string& name, uint64_t size) override;
  absl::Status Rename(const std::string& from, const std::string& to) override;
  absl::Status Remove(const std::string& name) override;
  absl::StatusOr<std::vector<std::string>> List() override;
  absl::StatusOr<uint64_t> Size(const std::string& name) override;
  absl::Status SyncDir() override;

  // Simulates kill -9 / power loss and the reboot after it (top comment).
  void Crash();

  // Fault control, at any time.
  void SetFaults(const SimDiskFaults& faults);
  const SimDiskFaults& faults() const { return options_.faults; }
  void SetCapacityBytes(uint64_t capacity_bytes);
  void SetCrashModel(const SimDiskCrashModel& crash);

  // Called synchronously for every injected fault (not for crashes). May be
  // empty. The observer must not call back into this disk.
  void SetFaultObserver(std::function<void(const SimDiskFault&)> observer);

  // Latency for the simulator to schedule completions (top comment).
  uint64_t SampleWriteLatencyUs();
  uint64_t SampleSyncLatencyUs();

  const SimDiskStats& stats() const { return stats_; }
  const SimDiskOptions& options() const { return options_; }

  // Inspection for tests. `name` must exist in the current directory
  // (RS_CHECK) unless said otherwise.
  //
  // The durable image of the file `name` refers to now.
  std::string DurableContent(const std::string& name) const;
  // The names in the durable directory, sorted.
  std::vector<std::string> DurableList() const;
  // True when a crash now could change something: unsynced data in any file
  // or a pending directory operation.
  bool HasUnsyncedData() const;
  // True when the file `name` has bytes or a truncation not yet synced.
  bool HasUnsyncedData(const std::string& name) const;
  // The sum of the current sizes of the files in the directory.
  uint64_t UsedBytes() const;

  // Fault injection at a chosen place, for tests. These act on the medium
  // (both images) and are not counted in stats().
  //
  // XORs the byte at `offset` (< current size) with `mask` (non-zero).
  void CorruptByte(const std::string& name, uint64_t offset,
                   uint8_t mask = 0x01);
  // Makes the sector holding `offset` (< current size) unreadable.
  void InjectLatentSectorError(const std::string& name, uint64_t offset);

 private:
  struct Inode {
    std::string durable;
    std::string current;
    // Lowest offset where the images may differ; kClean when they cannot.
    uint64_t dirty_from;
    // Lowest current size since the last Sync if below the durable size,
    // else kClean: an unsynced truncation a crash may undo.
    uint64_t truncated_to;
    std::set<uint64_t> bad_sectors;  // latent sector errors, by index
  };
  enum class DirOpKind { kCreate, kRename, kRemove };
  struct DirOp {
    DirOpKind kind;
    std::string name;  // create/remove: the name; rename: from
    std::string to;    // rename only
    uint64_t inode;
  };
  static constexpr uint64_t kClean = ~uint64_t{0};
  // A bound on pending directory operations: the simulator's callers
  // SyncDir regularly, so reaching it is a bug in the test, not a fault.
  static constexpr size_t kPendingDirOpsMax = 1 << 20;

  absl::StatusOr<uint64_t> Lookup(std::string_view op,
                                  const std::string& name) const;
  bool InjectIoError(std::string_view op, const std::string& name);
  void Report(SimDiskFaultKind kind, const std::string& file, uint64_t offset,
              std::string detail);
  void MarkDirty(Inode& inode, uint64_t offset);
  void ApplyAppendFaults(const std::string& name, Inode& inode, uint64_t offset,
                         std::string_view data);
  void Misdirect(uint64_t inode_id, uint64_t intended_offset,
                 std::string_view data);
  absl::Status CheckLatentErrors(const std::string& name, const Inode& inode,
                                 uint64_t offset, uint64_t length);
  void RecordDirOp(DirOp op);
  std::map<std::string, uint64_t> ReplayDirOpsForCrash();
  void CrashFile(Inode& inode);
  void CollectUnreferencedInodes();
  uint64_t SampleLatency(uint64_t min_us, uint64_t max_us);

  SimDiskOptions options_;
  Rng fault_rng_;
  Rng crash_rng_;
  Rng latency_rng_;
  std::map<uint64_t, Inode> inodes_;
  std::map<std::string, uint64_t> current_dir_;
  std::map<std::string, uint64_t> durable_dir_;
  std::vector<DirOp> pending_dir_ops_;
  uint64_t next_inode_ = 1;
  SimDiskStats stats_;
  std::function<void(const SimDiskFault&)> observer_;
};

}  // namespace raftstore::sim

#endif  // RAFTSTORE_SIM_DISK_H_
