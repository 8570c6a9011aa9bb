#include "core/raft/log/storage.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace raftstore::raft {
namespace {

// The fixed message prefixes the predicates recognise. They end in ':' so that
// one can never be a prefix of another.
constexpr absl::string_view kCompactedPrefix = "raft log compacted:";
constexpr absl::string_view kUnavailablePrefix = "raft log unavailable:";
constexpr absl::string_view kSnapshotTemporarilyUnavailablePrefix =
    "snapshot temporarily unavailable:";
constexpr absl::string_view kSnapshotOutOfDatePrefix = "snapshot out of date:";

absl::Status MakeError(absl::StatusCode code, absl::string_view prefix,
                       absl::string_view detail) {
  if (detail.empty()) return absl::Status(code, prefix);
  return absl::Status(code, absl::StrCat(prefix, " ", detail));
}

bool Matches(const absl::Status& status, absl::StatusCode code,
             absl::string_view prefix) {
  return status.code() == code && absl::StartsWith(status.message(), prefix);
}

}  // namespace

absl::Status CompactedError(absl::string_view detail) {
  return MakeError(absl::StatusCode::kOutOfRange, kCompactedPrefix, detail);
}

absl::Status LogUnavailableError(absl::string_view detail) {
  return MakeError(absl::StatusCode::kUnavailable, kUnavailablePrefix, detail);
}

absl::Status SnapshotTemporarilyUnavailableError(absl::string_view detail) {
  return MakeError(absl::StatusCode::kUnavailable,
                   kSnapshotTemporarilyUnavailablePrefix, detail);
}

absl::Status SnapshotOutOfDateError(absl::string_view detail) {
  return MakeError(absl::StatusCode::kFailedPrecondition,
                   kSnapshotOutOfDatePrefix, detail);
}

bool IsCompacted(const absl::Status& status) {
  return Matches(status, absl::StatusCode::kOutOfRange, kCompactedPrefix);
}

bool IsLogUnavailable(const absl::Status& status) {
  return Matches(status, absl::StatusCode::kUnavailable, kUnavailablePrefix);
}

bool IsSnapshotTemporarilyUnavailable(const absl::Status& status) {
  return Matches(status, absl::StatusCode::kUnavailable,
                 kSnapshotTemporarilyUnavailablePrefix);
}

bool IsSnapshotOutOfDate(const absl::Status& status) {
  return Matches(status, absl::StatusCode::kFailedPrecondition,
                 kSnapshotOutOfDatePrefix);
}

uint64_t EntryBytes(const Entry& entry) { return entry.ByteSizeLong(); }

size_t CountWithinBytes(std::span<const Entry> entries, uint64_t bytes_max) {
  if (entries.empty()) return 0;
  uint64_t bytes = EntryBytes(entries[0]);
  size_t count = 1;
  for (; count < entries.size(); ++count) {
    const uint64_t entry_bytes = EntryBytes(entries[count]);
    // Written as a subtraction so that the sum can never overflow, even with
    // bytes_max = kNoBytesLimit.
    if (bytes > bytes_max || entry_bytes > bytes_max - bytes) break;
    bytes += entry_bytes;
  }
  return count;
}

}  // namespace raftstore::raft
