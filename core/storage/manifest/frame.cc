#include "core/storage/manifest/frame.h"

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "core/storage/crc32c.h"
#include "core/storage/manifest/manifest_format.h"

namespace raftstore::storage {

void PutFixed32(std::string* out, uint32_t value) {
  for (int shift = 0; shift < 32; shift += 8) {
    out->push_back(static_cast<char>((value >> shift) & 0xffU));
  }
}

uint32_t GetFixed32(std::string_view bytes) {
  RS_CHECK_GE(bytes.size(), 4U);
  uint32_t value = 0;
  for (int i = 3; i >= 0; --i) {
    value = (value << 8) | static_cast<uint8_t>(bytes[i]);
  }
  return value;
}

std::string EncodePreamble(std::string_view magic, uint32_t version) {
  RS_CHECK_EQ(magic.size(), kMagicBytes);
  std::string out(magic);
  PutFixed32(&out, version);
  PutFixed32(&out, MaskCrc(Crc32c(out)));
  RS_CHECK_EQ(out.size(), kPreambleBytes);
  return out;
}

absl::StatusOr<uint32_t> DecodePreamble(const std::string& file,
                                        std::string_view bytes,
                                        std::string_view magic,
                                        uint32_t version_max) {
  RS_CHECK_EQ(magic.size(), kMagicBytes);
  if (bytes.size() < kPreambleBytes) {
    return absl::DataLossError(absl::StrCat(file, ": ", bytes.size(),
                                            " bytes, shorter than the ",
                                            kPreambleBytes, "-byte preamble"));
  }
  if (bytes.substr(0, kMagicBytes) != magic) {
    return absl::DataLossError(absl::StrCat(file,
                                            " at offset 0: wrong magic (not a ",
                                            std::string(magic), " file)"));
  }
  const uint32_t version = GetFixed32(bytes.substr(kMagicBytes, 4));
  const uint32_t stored = GetFixed32(bytes.substr(12, 4));
  if (UnmaskCrc(stored) != Crc32c(bytes.substr(0, 12))) {
    return absl::DataLossError(
        absl::StrCat(file, " at offset 12: preamble checksum mismatch"));
  }
  if (version == 0) {
    return absl::DataLossError(
        absl::StrCat(file, " at offset 8: format version 0 is never written"));
  }
  if (version > version_max) {
    return absl::FailedPreconditionError(absl::StrCat(
        file, ": format version ", version, " is newer than this binary's ",
        version_max, "; run a newer binary"));
  }
  return version;
}

void AppendFrame(std::string* out, std::string_view payload) {
  RS_CHECK_LE(payload.size(), std::numeric_limits<uint32_t>::max());
  std::string length;
  PutFixed32(&length, static_cast<uint32_t>(payload.size()));
  const uint32_t crc = Crc32cExtend(Crc32c(length), payload);
  out->append(length);
  PutFixed32(out, MaskCrc(crc));
  out->append(payload);
}

std::string_view FrameStatusName(FrameStatus status) {
  switch (status) {
    case FrameStatus::kOk:
      return "ok";
    case FrameStatus::kShortHeader:
      return "truncated frame header";
    case FrameStatus::kTooLong:
      return "frame length over the bound";
    case FrameStatus::kShortPayload:
      return "frame runs past the end of the file";
    case FrameStatus::kBadChecksum:
      return "frame checksum mismatch";
  }
  return "unknown";
}

FrameView ReadFrame(std::string_view bytes, uint64_t offset,
                    uint64_t payload_bytes_max) {
  RS_CHECK_LE(offset, bytes.size());
  FrameView view;
  const uint64_t remaining = bytes.size() - offset;
  if (remaining < kFrameHeaderBytes) {
    view.status = FrameStatus::kShortHeader;
    return view;
  }
  const std::string_view length_bytes = bytes.substr(offset, 4);
  view.length = GetFixed32(length_bytes);
  if (view.length > payload_bytes_max) {
    view.status = FrameStatus::kTooLong;
    return view;
  }
  if (view.length > remaining - kFrameHeaderBytes) {
    view.status = FrameStatus::kShortPayload;
    return view;
  }
  const std::string_view payload =
      bytes.substr(offset + kFrameHeaderBytes, view.length);
  const uint32_t stored = GetFixed32(bytes.substr(offset + 4, 4));
  if (UnmaskCrc(stored) != Crc32cExtend(Crc32c(length_bytes), payload)) {
    view.status = FrameStatus::kBadChecksum;
    return view;
  }
  view.status = FrameStatus::kOk;
  view.payload = payload;
  return view;
}

}  // namespace raftstore::storage
