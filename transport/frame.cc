#include "transport/frame.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "core/storage/crc32c.h"

namespace raftstore::transport {
namespace {

void PutU16(uint16_t value, char* out) {
  out[0] = static_cast<char>(value & 0xff);
  out[1] = static_cast<char>(value >> 8);
}

void PutU32(uint32_t value, char* out) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>(value >> (8 * i));
}

uint16_t GetU16(const char* in) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(in);
  return static_cast<uint16_t>(bytes[0] | (bytes[1] << 8));
}

uint32_t GetU32(const char* in) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(in);
  uint32_t value = 0;
  for (int i = 3; i >= 0; --i) value = (value << 8) | bytes[i];
  return value;
}

// The CRC of a frame: the header before the CRC field, then the payload.
uint32_t FrameCrc(std::string_view header, std::string_view payload) {
  const uint32_t head = storage::Crc32c(header.substr(0, kFrameCrcOffset));
  return storage::MaskCrc(storage::Crc32cExtend(head, payload));
}

template <typename M>
std::optional<FrameMessage> ParseAs(std::string_view payload) {
  M message;
  if (!message.ParseFromArray(payload.data(),
                              static_cast<int>(payload.size()))) {
    return std::nullopt;
  }
  return FrameMessage(std::in_place_type<M>, std::move(message));
}

// Requires a known type (checked from the header before this is called).
std::optional<FrameMessage> ParsePayload(FrameType type,
                                         std::string_view payload) {
  switch (type) {
    case FrameType::kHello:
      return ParseAs<Hello>(payload);
    case FrameType::kRaftBatch:
      return ParseAs<store::RaftMessageBatch>(payload);
    case FrameType::kKvRequest:
      return ParseAs<kv::KvRequest>(payload);
    case FrameType::kKvResponse:
      return ParseAs<kv::KvResponse>(payload);
    case FrameType::kAdminRequest:
      return ParseAs<store::AdminRequest>(payload);
    case FrameType::kAdminResponse:
      return ParseAs<store::AdminResponse>(payload);
    case FrameType::kUnspecified:
      break;
  }
  RS_CHECK(false) << "unknown frame type " << static_cast<int>(type);
  return std::nullopt;
}

std::string At(uint64_t frame_offset) {
  return absl::StrCat("frame at stream offset ", frame_offset, ": ");
}

}  // namespace

absl::Status FrameCodecOptions::Validate() const {
  if (frame_payload_bytes_max < 1 ||
      frame_payload_bytes_max > kFramePayloadBytesLimit) {
    return absl::InvalidArgumentError(
        absl::StrCat("frame_payload_bytes_max is ", frame_payload_bytes_max,
                     "; must be in [1, ", kFramePayloadBytesLimit, "]"));
  }
  if (first_frame_payload_bytes_max > frame_payload_bytes_max) {
    return absl::InvalidArgumentError(absl::StrCat(
        "first_frame_payload_bytes_max ", first_frame_payload_bytes_max,
        " is above frame_payload_bytes_max ", frame_payload_bytes_max));
  }
  return absl::OkStatus();
}

FrameType FrameTypeOf(const FrameMessage& message) {
  // The variant's alternatives are in FrameType order from kHello.
  return static_cast<FrameType>(message.index() + 1);
}

std::string_view FrameTypeName(FrameType type) {
  switch (type) {
    case FrameType::kUnspecified:
      return "UNSPECIFIED";
    case FrameType::kHello:
      return "HELLO";
    case FrameType::kRaftBatch:
      return "RAFT_BATCH";
    case FrameType::kKvRequest:
      return "KV_REQUEST";
    case FrameType::kKvResponse:
      return "KV_RESPONSE";
    case FrameType::kAdminRequest:
      return "ADMIN_REQUEST";
    case FrameType::kAdminResponse:
      return "ADMIN_RESPONSE";
  }
  return "UNKNOWN";
}

std::string_view FrameErrorName(FrameError error) {
  switch (error) {
    case FrameError::kNone:
      return "none";
    case FrameError::kBadMagic:
      return "bad magic";
    case FrameError::kUnsupportedVersion:
      return "unsupported version";
    case FrameError::kUnknownType:
      return "unknown type";
    case FrameError::kPayloadTooLarge:
      return "payload too large";
    case FrameError::kChecksumMismatch:
      return "checksum mismatch";
    case FrameError::kBadPayload:
      return "bad payload";
    case FrameError::kTruncated:
      return "truncated";
  }
  return "unknown";
}

namespace internal {

absl::Status AppendFrameOfType(FrameType type,
                               const google::protobuf::MessageLite& payload,
                               uint64_t payload_bytes_max, std::string* out) {
  RS_CHECK_LE(payload_bytes_max, kFramePayloadBytesLimit);
  RS_CHECK(type != FrameType::kUnspecified);
  const uint64_t payload_bytes = payload.ByteSizeLong();
  if (payload_bytes > payload_bytes_max) {
    return absl::ResourceExhaustedError(absl::StrCat(
        std::string(FrameTypeName(type)), " frame payload of ", payload_bytes,
        " bytes is above frame_payload_bytes_max ", payload_bytes_max));
  }
  const size_t start = out->size();
  out->resize(start + kFrameHeaderBytes + payload_bytes);
  char* frame = out->data() + start;
  std::memcpy(frame, kFrameMagic.data(), kFrameMagic.size());
  PutU16(kFrameFormatVersion, frame + kFrameVersionOffset);
  PutU16(static_cast<uint16_t>(type), frame + kFrameTypeOffset);
  PutU32(static_cast<uint32_t>(payload_bytes), frame + kFrameLengthOffset);
  auto* body = reinterpret_cast<uint8_t*>(frame + kFrameHeaderBytes);
  const uint8_t* end = payload.SerializeWithCachedSizesToArray(body);
  RS_CHECK_EQ(static_cast<uint64_t>(end - body), payload_bytes);
  const std::string_view bytes(frame, kFrameHeaderBytes + payload_bytes);
  PutU32(FrameCrc(bytes, bytes.substr(kFrameHeaderBytes)),
         frame + kFrameCrcOffset);
  return absl::OkStatus();
}

}  // namespace internal

absl::Status AppendFrameMessage(const FrameMessage& message,
                                uint64_t payload_bytes_max, std::string* out) {
  return std::visit(
      [&](const auto& typed) {
        return AppendFrame(typed, payload_bytes_max, out);
      },
      message);
}

FrameDecoder::FrameDecoder(const FrameCodecOptions& options)
    : options_(options) {
  const absl::Status valid = options.Validate();
  RS_CHECK(valid.ok()) << valid;
}

void FrameDecoder::Fail(FrameError error, absl::Status status) {
  RS_CHECK(error != FrameError::kNone);
  RS_CHECK(!status.ok());
  error_ = error;
  status_ = std::move(status);
}

bool FrameDecoder::CheckMagic(std::string_view bytes) {
  const size_t length = std::min(bytes.size(), kFrameMagic.size());
  for (size_t i = 0; i < length; ++i) {
    if (bytes[i] == kFrameMagic[i]) continue;
    // Names the first wrong byte only, so the message is the same however
    // the stream was chunked.
    Fail(FrameError::kBadMagic,
         absl::InvalidArgumentError(absl::StrCat(
             At(stream_offset_), "bad magic: byte 0x",
             absl::Hex(static_cast<unsigned char>(bytes[i]), absl::kZeroPad2),
             " at offset ", stream_offset_ + i, " (expected \"",
             std::string(kFrameMagic), "\")")));
    return false;
  }
  return true;
}

bool FrameDecoder::CheckHeader(std::string_view header,
                               uint64_t* payload_bytes) {
  const uint64_t at = stream_offset_;
  if (!CheckMagic(header)) return false;
  const uint16_t version = GetU16(header.data() + kFrameVersionOffset);
  if (version == 0 || version > kFrameFormatVersion) {
    const std::string text =
        absl::StrCat(At(at), "format version ", version, " at offset ",
                     at + kFrameVersionOffset, " (this build reads 1 to ",
                     kFrameFormatVersion, ")");
    Fail(FrameError::kUnsupportedVersion,
         version == 0 ? absl::InvalidArgumentError(text)
                      : absl::FailedPreconditionError(text));
    return false;
  }
  const uint16_t type = GetU16(header.data() + kFrameTypeOffset);
  if (type == 0 || type > kFrameTypeMax) {
    Fail(FrameError::kUnknownType, absl::InvalidArgumentError(absl::StrCat(
                                       At(at), "unknown frame type ", type,
                                       " at offset ", at + kFrameTypeOffset)));
    return false;
  }
  *payload_bytes = GetU32(header.data() + kFrameLengthOffset);
  const bool first = at == 0 && options_.first_frame_payload_bytes_max > 0;
  const uint64_t bound = first ? options_.first_frame_payload_bytes_max
                               : options_.frame_payload_bytes_max;
  if (*payload_bytes > bound) {
    Fail(FrameError::kPayloadTooLarge,
         absl::ResourceExhaustedError(
             absl::StrCat(At(at), "payload length ", *payload_bytes,
                          " at offset ", at + kFrameLengthOffset, " is above ",
                          first ? "first_frame_payload_bytes_max "
                                : "frame_payload_bytes_max ",
                          bound)));
    return false;
  }
  return true;
}

FrameDecoder::Step FrameDecoder::TryDecode(std::string_view bytes,
                                           std::vector<Frame>* frames) {
  if (bytes.size() < kFrameHeaderBytes) {
    // Garbage is refused from its first wrong byte, not after 16 of them: a
    // stray client's short probe would otherwise wait for a timeout.
    if (!CheckMagic(bytes)) return {};
    return {false, kFrameHeaderBytes};
  }
  uint64_t payload_bytes = 0;
  if (!CheckHeader(bytes.substr(0, kFrameHeaderBytes), &payload_bytes)) {
    return {};
  }
  const uint64_t frame_bytes = kFrameHeaderBytes + payload_bytes;
  if (bytes.size() < frame_bytes) return {false, frame_bytes};
  const std::string_view payload =
      bytes.substr(kFrameHeaderBytes, payload_bytes);
  const uint32_t stored = GetU32(bytes.data() + kFrameCrcOffset);
  const uint32_t actual = FrameCrc(bytes, payload);
  const uint64_t at = stream_offset_;
  if (stored != actual) {
    Fail(FrameError::kChecksumMismatch,
         absl::DataLossError(absl::StrCat(At(at), "checksum mismatch (stored ",
                                          stored, ", computed ", actual,
                                          ") over ", frame_bytes, " bytes")));
    return {};
  }
  const auto type =
      static_cast<FrameType>(GetU16(bytes.data() + kFrameTypeOffset));
  std::optional<FrameMessage> message = ParsePayload(type, payload);
  if (!message.has_value()) {
    Fail(FrameError::kBadPayload,
         absl::InvalidArgumentError(absl::StrCat(
             At(at), std::string(FrameTypeName(type)), " payload of ",
             payload_bytes, " bytes at offset ", at + kFrameHeaderBytes,
             " does not parse as its protobuf")));
    return {};
  }
  frames->push_back(Frame{std::move(*message), at, frame_bytes});
  stream_offset_ += frame_bytes;
  return {true, 0};
}

absl::Status FrameDecoder::Feed(std::string_view chunk,
                                std::vector<Frame>* frames) {
  // Each pass either completes a frame, fails, or uses up the chunk, so the
  // loop ends after at most (frames in the chunk + 2) passes.
  while (status_.ok()) {
    if (buffer_.empty()) {
      const size_t before = stream_offset_;
      const Step step = TryDecode(chunk, frames);
      if (step.frame_ready) {
        chunk.remove_prefix(stream_offset_ - before);
        continue;
      }
      if (!status_.ok() || chunk.empty()) break;
      // A partial frame: keep what arrived (never more than the frame
      // needs, and at most what was received).
      buffer_.assign(chunk.data(), chunk.size());
      buffer_bytes_needed_ = step.bytes_needed;
      break;
    }
    const size_t take =
        std::min<uint64_t>(buffer_bytes_needed_ - buffer_.size(), chunk.size());
    buffer_.append(chunk.data(), take);
    chunk.remove_prefix(take);
    if (buffer_.size() < buffer_bytes_needed_) {
      if (buffer_.size() < kFrameHeaderBytes) CheckMagic(buffer_);
      break;
    }
    const Step step = TryDecode(buffer_, frames);
    if (step.frame_ready) {
      buffer_.clear();
    } else if (status_.ok()) {
      RS_CHECK_GT(step.bytes_needed, buffer_.size());
      buffer_bytes_needed_ = step.bytes_needed;
    }
  }
  return status_;
}

absl::Status FrameDecoder::Finish() {
  if (status_.ok() && !buffer_.empty()) {
    Fail(FrameError::kTruncated,
         absl::DataLossError(absl::StrCat(
             At(stream_offset_), "stream ended after ", buffer_.size(),
             " of the frame's ", buffer_bytes_needed_,
             buffer_bytes_needed_ == kFrameHeaderBytes ? " header bytes"
                                                       : " bytes")));
  }
  return status_;
}

}  // namespace raftstore::transport
