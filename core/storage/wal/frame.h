// Encoding and decoding of WAL segment headers and frames (the byte layout of
// wal_format.h), as pure functions over strings. Recovery policy (what a bad
// frame means) is not decided here but in replay.h; the decoder only says
// precisely what is wrong and where.
//
// Thread-safety: pure functions.
#ifndef RAFTSTORE_CORE_STORAGE_WAL_FRAME_H_
#define RAFTSTORE_CORE_STORAGE_WAL_FRAME_H_

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "core/storage/wal/wal_format.h"

namespace raftstore::storage {

struct SegmentHeader {
  uint32_t format_version = kWalFormatVersion;
  uint64_t sequence = 0;
  uint64_t first_lsn = 0;
};

// The kSegmentHeaderBytes header of segment `sequence` whose first frame will
// have LSN `first_lsn` (>= 1).
std::string EncodeSegmentHeader(uint64_t sequence, uint64_t first_lsn);

// Decodes the header at the start of `bytes`, the content of segment file
// `file_name` (used only in messages). Returns:
//   kFailedPrecondition if the magic matches but the version is newer than
//     kWalFormatVersion (checked before the CRC: a newer version may lay the
//     header out differently);
//   kDataLoss if the file is shorter than a header, the magic is wrong, the
//     CRC does not match, or a reserved field is not zero.
// Every message names the file and offset 0.
absl::StatusOr<SegmentHeader> DecodeSegmentHeader(std::string_view file_name,
                                                  std::string_view bytes);

// Appends one frame to `out`. Requires 1 <= lsn, synced_lsn < lsn, a known
// type and payload.size() <= kFramePayloadBytesLimit (RS_CHECK).
void AppendFrame(WalRecordType type, uint64_t lsn, uint64_t synced_lsn,
                 std::string_view payload, std::string* out);

// Two-step form of AppendFrame for payloads encoded straight into `out`:
// BeginFrame reserves the header and returns where the frame starts;
// FinishFrame, after the caller appended the payload, fills the header in.
size_t BeginFrame(std::string* out);
void FinishFrame(size_t frame_start, WalRecordType type, uint64_t lsn,
                 uint64_t synced_lsn, std::string* out);

// What is wrong with the bytes at an offset that should hold a frame.
enum class FrameError {
  kNone,
  kTruncatedHeader,   // fewer than kFrameHeaderBytes bytes left
  kLengthAboveMax,    // length field above the payload bound
  kLengthPastEnd,     // payload would run past the end of the file
  kChecksumMismatch,  // CRC does not match the bytes
  // The CRC matches but the content is not a frame this version writes:
  kReservedNotZero,
  kUnknownType,
  kBadLsn,  // LSN 0, or synced LSN >= LSN
};

std::string_view FrameErrorName(FrameError error);

struct DecodedFrame {
  FrameError error = FrameError::kNone;
  WalRecordType type = WalRecordType::kUnspecified;
  uint64_t lsn = 0;
  uint64_t synced_lsn = 0;
  // Points into the decoded bytes.
  std::string_view payload;
  // Header plus payload; the next frame starts this far after this one.
  uint64_t frame_bytes = 0;
  // For kLengthAboveMax and kLengthPastEnd: the length field.
  uint64_t length = 0;
};

// Decodes the frame at `offset` of `bytes` (offset <= bytes.size()), with
// payloads above `payload_bytes_max` refused. On error, only `error` and
// `length` are meaningful.
DecodedFrame DecodeFrame(std::string_view bytes, uint64_t offset,
                         uint64_t payload_bytes_max);

// True when the kFrameHeaderBytes at `offset` (which must be in bounds) could
// start a frame with lsn in [lsn_min, lsn_max] and synced_lsn >= synced_min:
// cheap checks of the header fields only, no CRC. Recovery uses it to scan
// damaged bytes for later frames in linear time (replay.cc).
bool FrameHeaderPlausible(std::string_view bytes, uint64_t offset,
                          uint64_t payload_bytes_max, uint64_t lsn_min,
                          uint64_t lsn_max, uint64_t synced_min);

// Little-endian helpers shared by the WAL's codecs. Inline, one load or
// store each on a little-endian host: a frame header takes four of them, and
// the byte-at-a-time loops they replace cost about a tenth of the encoding
// (wal_append_benchmark).
inline void PutFixed32(uint32_t value, char* out) {
  if constexpr (std::endian::native == std::endian::big) {
    value = __builtin_bswap32(value);
  }
  std::memcpy(out, &value, sizeof(value));
}
inline void PutFixed64(uint64_t value, char* out) {
  if constexpr (std::endian::native == std::endian::big) {
    value = __builtin_bswap64(value);
  }
  std::memcpy(out, &value, sizeof(value));
}
inline uint32_t GetFixed32(const char* in) {
  uint32_t value = 0;
  std::memcpy(&value, in, sizeof(value));
  if constexpr (std::endian::native == std::endian::big) {
    value = __builtin_bswap32(value);
  }
  return value;
}
inline uint64_t GetFixed64(const char* in) {
  uint64_t value = 0;
  std::memcpy(&value, in, sizeof(value));
  if constexpr (std::endian::native == std::endian::big) {
    value = __builtin_bswap64(value);
  }
  return value;
}

}  // namespace raftstore::storage

#endif  // RAFTSTORE_CORE_STORAGE_WAL_FRAME_H_
