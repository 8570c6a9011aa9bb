// The read-only view of one raft group's persisted state, through which the
// consensus core reads what the driver has made durable.
//
// The split of responsibilities follows the Raft thesis (§10.2.1): the core
// decides what must be written (new entries, a snapshot, the hard state) and
// hands it to the driver; the driver writes it to disk and then tells the core
// that it is durable. The core itself never writes: it only reads through
// this interface, and only what the driver has already acknowledged. That keeps
// the core free of I/O, so that the simulator and production can drive the
// same code.
//
// The log a Storage describes. Entries up to some compaction point have been
// folded into a snapshot (thesis §5.1) and are gone; only the term of the entry
// at the compaction point itself is kept, because an append whose previous
// entry is exactly that entry must still be checked against it (paper §5.3,
// the AppendEntries consistency check). So, with first = FirstIndex() and
// last = LastIndex():
//
//   index      ... first-2 | first-1         | first ... last | last+1 ...
//   Term()     compacted   | known (the      | known          | unavailable
//                          | compaction point)|               |
//   Entries()  compacted   | compacted       | available      | unavailable
//
// An empty log has first = 1 and last = 0: the compaction point is the
// imaginary entry 0 of term 0, which every log shares.
//
// Errors. The two answers the core must tell apart get their own helpers
// below, and every implementation must produce them with these helpers, since
// the predicates look at both the code and a fixed message prefix:
//   - CompactedError(), kOutOfRange: the index is at or before the compaction
//     point, so the entry now lives only in the snapshot. The leader answers
//     this by sending the snapshot instead of entries.
//   - LogUnavailableError(), kUnavailable: the index is past the last entry.
//     From the core's own bookkeeping this is always a bug in the caller, but
//     a Storage must still say so rather than return garbage.
// kOutOfRange is the code absl documents for "before the valid range" reads,
// and kUnavailable the one for "not there (yet)". Checking the prefix as well
// keeps an unrelated kOutOfRange from some other layer (a disk read, say) from
// being taken for a compaction. Any other status is an implementation failure
// (I/O, corruption) that the core passes on untouched. The "Log" in
// LogUnavailableError and IsLogUnavailable keeps them apart from
// absl::UnavailableError and absl::IsUnavailable, which argument-dependent
// lookup would otherwise make ambiguous at every call with an absl::Status.
//
// Thread-safety: the interface promises none. An implementation that is
// written by one thread and read by another must synchronise internally.
#ifndef RAFTSTORE_CORE_RAFT_LOG_STORAGE_H_
#define RAFTSTORE_CORE_RAFT_LOG_STORAGE_H_

#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/raft.pb.h"

namespace raftstore::raft {

// A bytes_max that never limits: every read returns the whole range asked for.
inline constexpr uint64_t kNoBytesLimit = std::numeric_limits<uint64_t>::max();

// The format_version written into SnapshotMetadata by this code (see
// proto/raft.proto).
inline constexpr uint32_t kSnapshotFormatVersion = 1;

// The index is at or before the compaction point (kOutOfRange). `detail` is
// appended to the fixed message prefix, for logs.
absl::Status CompactedError(absl::string_view detail = "");
// The index is after the last entry (kUnavailable).
absl::Status LogUnavailableError(absl::string_view detail = "");
// Snapshot() cannot produce a snapshot right now (kUnavailable, with a prefix
// of its own); the caller should retry later, for example on the next
// heartbeat. A disk-backed storage returns it while a snapshot is being
// generated in the background.
absl::Status SnapshotTemporarilyUnavailableError(absl::string_view detail = "");
// A writer was handed a snapshot no newer than what it already holds
// (kFailedPrecondition). Only writers return it; the core never sees it.
absl::Status SnapshotOutOfDateError(absl::string_view detail = "");

// Each predicate is true exactly for a status built by the matching helper
// above (same code and message prefix), and false for OK.
bool IsCompacted(const absl::Status& status);
bool IsLogUnavailable(const absl::Status& status);
bool IsSnapshotTemporarilyUnavailable(const absl::Status& status);
bool IsSnapshotOutOfDate(const absl::Status& status);

// The size an entry counts for against a bytes_max: its serialised protobuf
// size, which is deterministic for a given entry and close to what it costs on
// the wire and on disk.
uint64_t EntryBytes(const Entry& entry);

// The number of leading entries of `entries` whose sizes add up to at most
// bytes_max, except that the first entry is always counted even if it alone
// exceeds bytes_max: a limit must never stall a log behind one large entry.
// Returns 0 only for an empty span.
size_t CountWithinBytes(std::span<const Entry> entries, uint64_t bytes_max);

class Storage {
 public:
  // What a restarting node recovers with (paper Figure 2: currentTerm,
  // votedFor, and the commit index kept for convenience; plus the membership
  // as of the latest snapshot, thesis §4.1).
  struct InitialState {
    HardState hard_state;
    ConfState conf_state;
  };

  virtual ~Storage() = default;

  // The persisted hard state and the conf state of the latest snapshot. A
  // fresh storage returns both empty. Fails only with implementation errors.
  virtual absl::StatusOr<InitialState> GetInitialState() const = 0;

  // The entries with indexes in [lo, hi), in order, as copies the caller owns.
  // bytes_max limits their total EntryBytes(), but at least one entry is
  // returned whenever lo < hi (see CountWithinBytes); so the result is a
  // non-empty prefix of the range, or empty exactly when lo == hi.
  // Returns CompactedError() if lo <= FirstIndex() - 1, LogUnavailableError()
  // if hi > LastIndex() + 1, and kInvalidArgument if lo > hi.
  virtual absl::StatusOr<std::vector<Entry>> Entries(
      uint64_t lo, uint64_t hi, uint64_t bytes_max) const = 0;

  // The term of the entry at `index`, for index in [FirstIndex() - 1,
  // LastIndex()]; the compaction point's term is kept for the consistency
  // check. Returns CompactedError() below that range and LogUnavailableError()
  // above it.
  virtual absl::StatusOr<uint64_t> Term(uint64_t index) const = 0;

  // The index of the first entry Entries() can return: the compaction point
  // plus one. When the log holds no entries, FirstIndex() == LastIndex() + 1.
  // An implementation keeps both bounds in memory, so they cannot fail.
  virtual uint64_t FirstIndex() const = 0;

  // The index of the last entry, or the compaction point if the log holds no
  // entries after it.
  virtual uint64_t LastIndex() const = 0;

  // The most recent snapshot, a copy the caller owns. A storage that has
  // never had one returns an empty snapshot (index 0). May return
  // SnapshotTemporarilyUnavailableError(); other errors are implementation
  // failures.
  virtual absl::StatusOr<raft::Snapshot> Snapshot() const = 0;
};

}  // namespace raftstore::raft

#endif  // RAFTSTORE_CORE_RAFT_LOG_STORAGE_H_
