// The byte-level building blocks shared by MANIFEST and snapshot files: the
// checksummed preamble (magic + format version) and checksummed frames
// (manifest_format.h has the layouts). Pure functions over byte strings; the
// callers decide what a bad frame means (a torn tail or corruption).
//
// Thread-safety: pure functions.
#ifndef RAFTSTORE_CORE_STORAGE_MANIFEST_FRAME_H_
#define RAFTSTORE_CORE_STORAGE_MANIFEST_FRAME_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/storage/manifest/manifest_format.h"

namespace raftstore::storage {

void PutFixed32(std::string* out, uint32_t value);
// Requires bytes.size() >= 4.
uint32_t GetFixed32(std::string_view bytes);

// The 16-byte preamble: `magic` (exactly kMagicBytes long) and `version`.
std::string EncodePreamble(std::string_view magic, uint32_t version);

// Checks the preamble at the start of `bytes` and returns its format
// version. `file` names the file in errors. kDataLoss when the file is
// shorter than a preamble, the magic is not `magic`, the checksum fails or
// the version is 0; kFailedPrecondition when the version is newer than
// `version_max` (a newer binary wrote it).
absl::StatusOr<uint32_t> DecodePreamble(const std::string& file,
                                        std::string_view bytes,
                                        std::string_view magic,
                                        uint32_t version_max);

// Appends one frame holding `payload` to `out`. Requires payload.size() to
// fit in a u32.
void AppendFrame(std::string* out, std::string_view payload);

// The encoded size of a frame holding `payload_bytes`.
inline uint64_t FrameBytes(uint64_t payload_bytes) {
  return kFrameHeaderBytes + payload_bytes;
}

enum class FrameStatus {
  kOk,
  // Fewer than a frame header's bytes remain at the offset.
  kShortHeader,
  // The declared length exceeds the caller's bound.
  kTooLong,
  // The declared length runs past the end of the bytes.
  kShortPayload,
  // Everything fits but the checksum does not match.
  kBadChecksum,
};

// A short description ("checksum mismatch") for error messages.
std::string_view FrameStatusName(FrameStatus status);

struct FrameView {
  FrameStatus status = FrameStatus::kShortHeader;
  // The declared payload length (meaningful unless kShortHeader).
  uint64_t length = 0;
  // The payload, pointing into the caller's bytes; set only for kOk.
  std::string_view payload;
};

// Reads the frame that starts at `offset` of `bytes` (offset <=
// bytes.size()). A frame whose declared length exceeds `payload_bytes_max`
// is kTooLong without its checksum being computed, so a damaged length never
// costs a pass over a huge range.
FrameView ReadFrame(std::string_view bytes, uint64_t offset,
                    uint64_t payload_bytes_max);

}  // namespace raftstore::storage

#endif  // RAFTSTORE_CORE_STORAGE_MANIFEST_FRAME_H_
