#include "core/storage/wal/wal_options.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/storage/wal/wal_format.h"

namespace raftstore::storage {
namespace {

// Framing around one entry in the largest record: frame header, the group id
// field, the entry's tag and length.
constexpr uint64_t kRecordOverheadBytes = kFrameHeaderBytes + 32;

}  // namespace

absl::Status ValidateWalOptions(const WalOptions& options) {
  if (options.segment_bytes_max == 0 || options.buffered_bytes_max == 0 ||
      options.groups_max == 0) {
    return absl::InvalidArgumentError(
        "wal options: segment_bytes_max, buffered_bytes_max and groups_max "
        "must be positive");
  }
  if (options.record_payload_bytes_max < 64 ||
      options.record_payload_bytes_max > kFramePayloadBytesLimit) {
    return absl::InvalidArgumentError(
        absl::StrCat("wal options: record_payload_bytes_max ",
                     options.record_payload_bytes_max, " is outside [64, ",
                     kFramePayloadBytesLimit, "]"));
  }
  const uint64_t record_bytes_max =
      options.record_payload_bytes_max + kRecordOverheadBytes;
  if (record_bytes_max > options.buffered_bytes_max) {
    return absl::InvalidArgumentError(absl::StrCat(
        "wal options: buffered_bytes_max ", options.buffered_bytes_max,
        " cannot hold one record of record_payload_bytes_max ",
        options.record_payload_bytes_max));
  }
  return absl::OkStatus();
}

std::string SegmentFileName(uint64_t sequence) {
  return absl::StrFormat("%s%0*d%s", std::string(kSegmentFilePrefix),
                         kSegmentSequenceDigits, sequence,
                         std::string(kSegmentFileSuffix));
}

std::optional<uint64_t> ParseSegmentFileName(std::string_view name) {
  const size_t expected = kSegmentFilePrefix.size() + kSegmentSequenceDigits +
                          kSegmentFileSuffix.size();
  if (name.size() != expected ||
      name.substr(0, kSegmentFilePrefix.size()) != kSegmentFilePrefix ||
      name.substr(name.size() - kSegmentFileSuffix.size()) !=
          kSegmentFileSuffix) {
    return std::nullopt;
  }
  uint64_t sequence = 0;
  for (const char c :
       name.substr(kSegmentFilePrefix.size(), kSegmentSequenceDigits)) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto digit = static_cast<uint64_t>(c - '0');
    if (sequence > (~uint64_t{0} - digit) / 10) return std::nullopt;
    sequence = sequence * 10 + digit;
  }
  if (sequence > kSegmentSequenceMax) return std::nullopt;
  return sequence;
}

}  // namespace raftstore::storage
