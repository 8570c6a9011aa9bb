// Encoding of the commands the KV state machine applies (proto/command.proto),
// as they travel in the data of a raft Entry.
//
// Only RaftStore's proposer writes entries, and the WAL checksums them, so a
// committed entry that fails to decode is corruption or a bug: DecodeCommand
// reports it as kDataLoss and the caller stops applying that region rather
// than skip the entry (a replica that skipped it would diverge from the
// others in silence). See docs/kv-state-machine.md.
//
// Thread-safety: pure functions.
#ifndef RAFTSTORE_CORE_KV_COMMAND_CODEC_H_
#define RAFTSTORE_CORE_KV_COMMAND_CODEC_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "proto/command.pb.h"

namespace raftstore::kv {

// The Command.format_version this code writes and the newest it reads.
// 2 added SplitOp (an admin op of core/store); 3 the merge ops
// (PrepareMergeOp, CommitMergeOp, RollbackMergeOp).
inline constexpr uint32_t kCommandFormatVersion = 3;
// The SnapshotChunk.format_version this code writes and the newest it reads.
inline constexpr uint32_t kSnapshotChunkFormatVersion = 1;

// The bytes to propose. Sets format_version to kCommandFormatVersion (any
// value in `command` is overwritten). Never fails.
std::string EncodeCommand(const command::Command& command);

// Parses an entry's data. Errors (the message says what was wrong and the
// size; the caller adds the entry index):
// - kDataLoss: longer than command_bytes_max (KvConfig::CommandBytesMax()),
//   not a Command, or format_version 0 (never written by EncodeCommand);
// - kFailedPrecondition: a format_version newer than kCommandFormatVersion
//   (written by a newer binary; this replica must be upgraded).
absl::StatusOr<command::Command> DecodeCommand(std::string_view data,
                                               size_t command_bytes_max);

}  // namespace raftstore::kv

#endif  // RAFTSTORE_CORE_KV_COMMAND_CODEC_H_
