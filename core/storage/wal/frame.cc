#include "core/storage/wal/frame.h"

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "core/storage/crc32c.h"

namespace raftstore::storage {
namespace {

bool KnownType(uint8_t type) { return type >= 1 && type <= kWalRecordTypeMax; }

absl::Status HeaderError(std::string_view file_name, std::string_view what) {
  return absl::DataLossError(absl::StrCat("wal segment ",
                                          std::string(file_name),
                                          " offset 0: ", std::string(what)));
}

}  // namespace

std::string_view WalRecordTypeName(WalRecordType type) {
  switch (type) {
    case WalRecordType::kEntries:
      return "entries";
    case WalRecordType::kHardState:
      return "hard_state";
    case WalRecordType::kSnapshot:
      return "snapshot";
    case WalRecordType::kTruncate:
      return "truncate";
    case WalRecordType::kGroupRemoved:
      return "group_removed";
    case WalRecordType::kCheckpoint:
      return "checkpoint";
    case WalRecordType::kUnspecified:
      break;
  }
  return "unknown";
}

std::string_view FrameErrorName(FrameError error) {
  switch (error) {
    case FrameError::kNone:
      return "ok";
    case FrameError::kTruncatedHeader:
      return "truncated frame header";
    case FrameError::kLengthAboveMax:
      return "length field above the payload maximum";
    case FrameError::kLengthPastEnd:
      return "length field past the end of the file";
    case FrameError::kChecksumMismatch:
      return "checksum mismatch";
    case FrameError::kReservedNotZero:
      return "reserved header bytes not zero";
    case FrameError::kUnknownType:
      return "unknown record type";
    case FrameError::kBadLsn:
      return "invalid LSN fields";
  }
  return "unknown frame error";
}

std::string EncodeSegmentHeader(uint64_t sequence, uint64_t first_lsn) {
  RS_CHECK_GE(first_lsn, 1u);
  RS_CHECK_LE(first_lsn, kLsnMax);
  RS_CHECK_LE(sequence, kSegmentSequenceMax);
  std::string header(kSegmentHeaderBytes, '\0');
  header.replace(0, kSegmentMagic.size(), kSegmentMagic);
  PutFixed32(kWalFormatVersion, &header[8]);
  PutFixed64(sequence, &header[16]);
  PutFixed64(first_lsn, &header[24]);
  const uint32_t crc =
      Crc32c(std::string_view(header).substr(0, kSegmentHeaderCrcOffset));
  PutFixed32(MaskCrc(crc), &header[kSegmentHeaderCrcOffset]);
  return header;
}

absl::StatusOr<SegmentHeader> DecodeSegmentHeader(std::string_view file_name,
                                                  std::string_view bytes) {
  if (bytes.size() < kSegmentHeaderBytes) {
    return HeaderError(file_name,
                       absl::StrCat("truncated segment header: ", bytes.size(),
                                    " bytes of ", kSegmentHeaderBytes));
  }
  if (bytes.substr(0, kSegmentMagic.size()) != kSegmentMagic) {
    return HeaderError(file_name, "bad magic: not a WAL segment");
  }
  SegmentHeader header;
  header.format_version = GetFixed32(&bytes[8]);
  if (header.format_version > kWalFormatVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        "wal segment ", std::string(file_name), " offset 0: format version ",
        header.format_version, " is newer than this binary reads (",
        kWalFormatVersion, ")"));
  }
  const uint32_t stored =
      UnmaskCrc(GetFixed32(&bytes[kSegmentHeaderCrcOffset]));
  if (stored != Crc32c(bytes.substr(0, kSegmentHeaderCrcOffset))) {
    return HeaderError(file_name, "segment header checksum mismatch");
  }
  if (header.format_version == 0 || GetFixed32(&bytes[12]) != 0 ||
      GetFixed32(&bytes[36]) != 0) {
    return HeaderError(file_name,
                       "segment header has version 0 or non-zero reserved "
                       "bytes");
  }
  header.sequence = GetFixed64(&bytes[16]);
  header.first_lsn = GetFixed64(&bytes[24]);
  if (header.first_lsn == 0 || header.first_lsn > kLsnMax ||
      header.sequence > kSegmentSequenceMax) {
    return HeaderError(file_name,
                       "segment header has first LSN 0 or a first LSN or "
                       "sequence above the maximum");
  }
  return header;
}

size_t BeginFrame(std::string* out) {
  const size_t start = out->size();
  out->append(kFrameHeaderBytes, '\0');
  return start;
}

void FinishFrame(size_t frame_start, WalRecordType type, uint64_t lsn,
                 uint64_t synced_lsn, std::string* out) {
  RS_CHECK_GE(lsn, 1u);
  RS_CHECK_LE(lsn, kLsnMax);
  RS_CHECK_LT(synced_lsn, lsn);
  RS_CHECK(KnownType(static_cast<uint8_t>(type)));
  RS_CHECK_GE(out->size(), frame_start + kFrameHeaderBytes);
  const uint64_t length = out->size() - frame_start - kFrameHeaderBytes;
  RS_CHECK_LE(length, kFramePayloadBytesLimit);
  char* header = &(*out)[frame_start];
  PutFixed32(static_cast<uint32_t>(length), header + kFrameLengthOffset);
  header[kFrameTypeOffset] = static_cast<char>(type);
  for (uint64_t i = kFrameReservedOffset; i < kFrameLsnOffset; ++i) {
    header[i] = '\0';
  }
  PutFixed64(lsn, header + kFrameLsnOffset);
  PutFixed64(synced_lsn, header + kFrameSyncedLsnOffset);
  const std::string_view covered(header + kFrameLengthOffset,
                                 kFrameHeaderBytes - 4 + length);
  PutFixed32(MaskCrc(Crc32c(covered)), header);
}

void AppendFrame(WalRecordType type, uint64_t lsn, uint64_t synced_lsn,
                 std::string_view payload, std::string* out) {
  const size_t start = BeginFrame(out);
  out->append(payload);
  FinishFrame(start, type, lsn, synced_lsn, out);
}

DecodedFrame DecodeFrame(std::string_view bytes, uint64_t offset,
                         uint64_t payload_bytes_max) {
  RS_CHECK_LE(offset, bytes.size());
  DecodedFrame frame;
  const uint64_t left = bytes.size() - offset;
  if (left < kFrameHeaderBytes) {
    frame.error = FrameError::kTruncatedHeader;
    return frame;
  }
  const char* header = bytes.data() + offset;
  frame.length = GetFixed32(header + kFrameLengthOffset);
  if (frame.length > payload_bytes_max) {
    frame.error = FrameError::kLengthAboveMax;
    return frame;
  }
  if (frame.length > left - kFrameHeaderBytes) {
    frame.error = FrameError::kLengthPastEnd;
    return frame;
  }
  const std::string_view covered(header + kFrameLengthOffset,
                                 kFrameHeaderBytes - 4 + frame.length);
  if (UnmaskCrc(GetFixed32(header)) != Crc32c(covered)) {
    frame.error = FrameError::kChecksumMismatch;
    return frame;
  }
  for (uint64_t i = kFrameReservedOffset; i < kFrameLsnOffset; ++i) {
    if (header[i] != '\0') {
      frame.error = FrameError::kReservedNotZero;
      return frame;
    }
  }
  const auto type = static_cast<uint8_t>(header[kFrameTypeOffset]);
  if (!KnownType(type)) {
    frame.error = FrameError::kUnknownType;
    return frame;
  }
  frame.type = static_cast<WalRecordType>(type);
  frame.lsn = GetFixed64(header + kFrameLsnOffset);
  frame.synced_lsn = GetFixed64(header + kFrameSyncedLsnOffset);
  if (frame.lsn == 0 || frame.lsn > kLsnMax || frame.synced_lsn >= frame.lsn) {
    frame.error = FrameError::kBadLsn;
    return frame;
  }
  frame.payload = bytes.substr(offset + kFrameHeaderBytes, frame.length);
  frame.frame_bytes = kFrameHeaderBytes + frame.length;
  return frame;
}

bool FrameHeaderPlausible(std::string_view bytes, uint64_t offset,
                          uint64_t payload_bytes_max, uint64_t lsn_min,
                          uint64_t lsn_max, uint64_t synced_min) {
  RS_CHECK_LE(offset + kFrameHeaderBytes, bytes.size());
  const char* header = bytes.data() + offset;
  const uint64_t length = GetFixed32(header + kFrameLengthOffset);
  if (length > payload_bytes_max ||
      length > bytes.size() - offset - kFrameHeaderBytes) {
    return false;
  }
  if (!KnownType(static_cast<uint8_t>(header[kFrameTypeOffset]))) return false;
  const uint64_t lsn = GetFixed64(header + kFrameLsnOffset);
  const uint64_t synced_lsn = GetFixed64(header + kFrameSyncedLsnOffset);
  return lsn >= lsn_min && lsn <= lsn_max && synced_lsn >= synced_min &&
         synced_lsn < lsn;
}

}  // namespace raftstore::storage
