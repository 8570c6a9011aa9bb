// KvStateMachine: the applied state of one region (issue 6, "KV state
// machine"; docs/kv-state-machine.md). An ordered map of keys to values, the
// client sessions that make writes exactly-once (thesis 6.3), the index of the
// last applied entry and a replicated logical clock.
//
// Determinism: the state and every result depend only on the sequence of
// Apply/ApplyEmpty calls (and the KvConfig, which must be the same on every
// replica). There is no clock, no randomness and no hash-ordered container;
// Digest() and ExportChunks() are byte-for-byte the same on every replica at
// the same applied index.
//
// Reads (Get, Scan) are served outside raft, by the store, once a ReadIndex or
// lease says this replica has applied enough (thesis 6.4).
//
// Thread-safety: none; one KvStateMachine belongs to one thread.
#ifndef RAFTSTORE_CORE_KV_KV_STATE_MACHINE_H_
#define RAFTSTORE_CORE_KV_KV_STATE_MACHINE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/kv/kv_config.h"
#include "core/kv/session_table.h"
#include "proto/command.pb.h"

namespace raftstore::kv {

struct ScanResult {
  // In ascending key order.
  std::vector<std::pair<std::string, std::string>> pairs;
  // True when a bound (limit or scan_bytes_max) cut the scan short and more
  // keys remain in the range; continue after the last key returned.
  bool more = false;
};

class KvStateMachine {
 public:
  // Precondition (RS_CHECK): config.Validate() is OK. Starts empty with
  // `applied_index` applied (0 for a new group; a region created by a split
  // starts at its first index - 1).
  explicit KvStateMachine(const KvConfig& config, uint64_t applied_index = 0);

  KvStateMachine(const KvStateMachine&) = default;
  KvStateMachine& operator=(const KvStateMachine&) = default;
  KvStateMachine(KvStateMachine&&) = default;
  KvStateMachine& operator=(KvStateMachine&&) = default;

  // --- Applying committed entries, in index order ---

  // Applies the data of the committed NORMAL entry at `index` and returns
  // Apply()'s result. Empty data is a new leader's empty entry (thesis 6.4):
  // it only advances the index and returns a default CommandResult (outcome
  // OUTCOME_UNSPECIFIED; there is no client to answer).
  // Precondition (RS_CHECK): index == applied_index() + 1.
  // Errors, with the state unchanged (applied_index() not advanced), the
  // message naming the index: those of DecodeCommand (kDataLoss for data that
  // is not a command of ours, kFailedPrecondition for a newer format). Either
  // means this replica cannot go on applying the region: the store must stop
  // the region (not the node) and report it; skipping the entry would make
  // this replica diverge from the others.
  absl::StatusOr<command::CommandResult> ApplyEntry(uint64_t index,
                                                    std::string_view data);

  // Applies a decoded command at `index`. Preconditions (RS_CHECK): index ==
  // applied_index() + 1; command.format_version() == kCommandFormatVersion.
  // Never fails: a command that is not applied gets its reason as the
  // result's outcome (see command.proto, Outcome). Advances the clock to
  // command.proposed_at_ticks() if that is later, expires idle sessions, and
  // then decides the command.
  command::CommandResult Apply(uint64_t index, const command::Command& command);

  // Advances applied_index() to `index` for an entry that holds no command
  // of this state machine: an empty entry, or a conf change (or, later, an
  // admin command) the store has handled itself. Precondition (RS_CHECK):
  // index == applied_index() + 1.
  void ApplyEmpty(uint64_t index);

  uint64_t applied_index() const { return applied_index_; }
  // The replicated logical clock: the largest proposed_at_ticks applied. A
  // proposer should stamp max(its own ticks, this) so the clock never stalls
  // behind a leader whose tick count restarted.
  uint64_t clock_ticks() const { return clock_ticks_; }

  // --- Reads ---

  // The value of `key`, or nullopt if absent.
  std::optional<std::string> Get(std::string_view key) const;

  // Pairs with start <= key < end in key order; an empty `end` means
  // unbounded. At most `limit` pairs, where 0 or a limit above
  // scan_limit_max means scan_limit_max, and the scan stops after the pair
  // that brings the keys and values returned to scan_bytes_max.
  ScanResult Scan(std::string_view start, std::string_view end,
                  uint32_t limit) const;

  size_t pair_count() const { return data_.size(); }
  // Bytes of keys and values stored (for split decisions and metrics).
  size_t data_bytes() const { return data_bytes_; }
  // A key that splits the data in two halves by bytes (keys and values):
  // the first key at which the bytes before it reach half of data_bytes().
  // nullopt when there are fewer than two keys (nothing to split). Linear.
  std::optional<std::string> MiddleKey() const;
  const SessionTable& sessions() const { return sessions_; }
  const KvConfig& config() const { return config_; }

  // --- Snapshots (thesis 5.1), split, and replica comparison ---

  // Serialises the whole state (pairs in key order, then sessions in client
  // id order, and a header with the applied index, clock and Digest()) as
  // SnapshotChunk messages of at most chunk_bytes_max bytes each. The same
  // state gives the same chunks. Precondition (RS_CHECK): chunk_bytes_max >=
  // ChunkBytesMin(config()).
  std::vector<std::string> ExportChunks(size_t chunk_bytes_max) const;
  static size_t ChunkBytesMin(const KvConfig& config);

  // Replaces the whole state with the image in `chunks`, whose header must
  // say `applied_index`. Validates everything before changing anything: on
  // error the state is unchanged. Errors, naming the chunk and item:
  // - kInvalidArgument: no chunks, or the image is of another applied index;
  // - kFailedPrecondition: a chunk of a newer format_version;
  // - kDataLoss: a chunk that does not parse, chunks missing, repeated or out
  //   of order, keys or client ids not strictly ascending, a bound of this
  //   KvConfig exceeded, counts or the digest not matching the header.
  absl::Status ImportChunks(std::span<const std::string> chunks,
                            uint64_t applied_index);

  // A CRC-64 (ECMA-182, ISA-L) of a canonical encoding of the whole state:
  // applied index, clock, every pair, every session with its cached
  // responses. Replicas at the same applied index must have equal digests.
  // Stable across processes and machines (unlike absl::Hash, which is seeded
  // per process), so it may appear in traces and be compared across runs.
  uint64_t Digest() const;

  // Moves the pairs with key >= split_key into a new state machine and
  // returns it; this one keeps the keys below and its applied index. The new
  // one starts at `right_applied_index` (where the new region's raft log
  // starts; the parent's index if the store keeps it). Both keep the clock and
  // a copy of every session (a client's retry may reach either half).
  // Precondition (RS_CHECK): split_key is not empty. Costs O(k log n) for k
  // moved pairs, with no copy of keys or values.
  KvStateMachine SplitOff(std::string_view split_key,
                          uint64_t right_applied_index);

  // Takes in the pairs and sessions of `source`, the state of a region
  // merged into this one (core/store): it holds the keys of an adjacent
  // range, none of which this state has (RS_CHECKed). Keeps this state's
  // applied index; the clock becomes the later of the two; sessions merge as
  // SessionTable::MergeFrom says. Costs O(k log n) for k moved pairs, with
  // no copy of keys or values.
  void MergeFrom(KvStateMachine source);

  // RS_CHECKs the internal invariants (byte count, session table). Linear;
  // for tests and RS_DCHECK.
  void CheckInvariants() const;

 private:
  using Map = std::map<std::string, std::string, std::less<>>;

  // Decides a command whose index and clock are already recorded.
  command::CommandResult ApplyClientCommand(const command::Command& command);
  // The rejection for a malformed or oversized command, if it is one.
  std::optional<command::CommandResult> Validate(
      const command::Command& command) const;
  // Finds or opens the command's session; on failure sets *rejection.
  Session* SessionFor(const command::Command& command,
                      command::CommandResult* rejection);
  // An upper bound of the encoded result the op would produce now.
  size_t ResultBytesBound(const command::Command& command) const;
  // Applies the op (already validated) to the map.
  command::CommandResult ApplyOp(const command::Command& command);
  void SetValue(std::string_view key, std::string_view value);
  bool EraseKey(std::string_view key);

  // Snapshot import helpers (kv_snapshot.cc).
  absl::Status ImportChunk(size_t position, const std::string& bytes,
                           command::SnapshotHeader* header,
                           KvStateMachine* target) const;
  absl::Status ImportSession(size_t position,
                             const command::SessionRecord& record,
                             KvStateMachine* target) const;

  KvConfig config_;
  Map data_;
  size_t data_bytes_ = 0;
  SessionTable sessions_;
  uint64_t applied_index_ = 0;
  uint64_t clock_ticks_ = 0;
};

}  // namespace raftstore::kv

#endif  // RAFTSTORE_CORE_KV_KV_STATE_MACHINE_H_
