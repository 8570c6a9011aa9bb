// The transport's frame codec (the byte layout of frame_format.h): an
// encoder that appends frames to a buffer, and a streaming decoder fed
// arbitrary chunks of a connection's bytes that yields whole, checked,
// parsed frames or says precisely what is wrong and at which stream offset.
// Pure code: no I/O, no clocks, no libuv, so it is fuzzed and property-tested
// on its own (fuzz/transport_frame_fuzz.cc, frame_test.cc).
//
// Error policy (docs/transport.md): every decoder error is terminal for the
// stream, because after one bad frame the reader no longer knows where the
// next frame starts. A length above the bound is refused from the header
// alone, before any of the payload is buffered; bytes that cannot start a
// frame are refused from the first wrong byte of the magic.
//
// Thread-safety: the free functions are pure; a FrameDecoder belongs to one
// connection and is not synchronised.
#ifndef RAFTSTORE_TRANSPORT_FRAME_H_
#define RAFTSTORE_TRANSPORT_FRAME_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "google/protobuf/message_lite.h"
#include "proto/kvrpc.pb.h"
#include "proto/store.pb.h"
#include "proto/transport.pb.h"
#include "transport/frame_format.h"

namespace raftstore::transport {

struct FrameCodecOptions {
  // The largest payload a frame may carry, in either direction. The encoder
  // refuses to write a bigger one; the decoder refuses a header claiming a
  // bigger one.
  uint64_t frame_payload_bytes_max = uint64_t{64} << 20;
  // The decoder's bound for the first frame of a stream, when nonzero
  // (<= frame_payload_bytes_max). A port that requires a HELLO first sets
  // it small, so that a peer that has not authenticated yet cannot make it
  // buffer a large frame.
  uint64_t first_frame_payload_bytes_max = 0;

  // InvalidArgument naming the field unless
  // 1 <= frame_payload_bytes_max <= kFramePayloadBytesLimit and
  // first_frame_payload_bytes_max <= frame_payload_bytes_max.
  absl::Status Validate() const;
};

// The payload of a frame, one alternative per FrameType (same order, from
// kHello on).
using FrameMessage =
    std::variant<Hello, store::RaftMessageBatch, kv::KvRequest, kv::KvResponse,
                 store::AdminRequest, store::AdminResponse>;

// The frame type that carries a message of type M.
template <typename M>
inline constexpr FrameType kFrameTypeOf = FrameType::kUnspecified;
template <>
inline constexpr FrameType kFrameTypeOf<Hello> = FrameType::kHello;
template <>
inline constexpr FrameType kFrameTypeOf<store::RaftMessageBatch> =
    FrameType::kRaftBatch;
template <>
inline constexpr FrameType kFrameTypeOf<kv::KvRequest> = FrameType::kKvRequest;
template <>
inline constexpr FrameType kFrameTypeOf<kv::KvResponse> =
    FrameType::kKvResponse;
template <>
inline constexpr FrameType kFrameTypeOf<store::AdminRequest> =
    FrameType::kAdminRequest;
template <>
inline constexpr FrameType kFrameTypeOf<store::AdminResponse> =
    FrameType::kAdminResponse;

FrameType FrameTypeOf(const FrameMessage& message);

// "HELLO", "RAFT_BATCH", ...; "UNKNOWN" for a value outside the enum.
std::string_view FrameTypeName(FrameType type);

// A decoded frame.
struct Frame {
  FrameMessage message;
  // The offset of the frame's first byte in its stream.
  uint64_t stream_offset = 0;
  // Header plus payload.
  uint64_t frame_bytes = 0;

  FrameType type() const { return FrameTypeOf(message); }
};

namespace internal {
// Appends a frame of `type` carrying `payload`; see AppendFrame. Callers
// outside the codec use the typed AppendFrame, which cannot mismatch the
// type and the message.
absl::Status AppendFrameOfType(FrameType type,
                               const google::protobuf::MessageLite& payload,
                               uint64_t payload_bytes_max, std::string* out);
}  // namespace internal

// The bytes AppendFrame would append for `message` (header plus payload).
inline uint64_t FrameBytesOf(const google::protobuf::MessageLite& message) {
  return kFrameHeaderBytes + message.ByteSizeLong();
}

// Appends one frame carrying `message` to `out`. Returns kResourceExhausted,
// with `out` unchanged, if the serialized message is above
// `payload_bytes_max` (which must be <= kFramePayloadBytesLimit).
template <typename M>
absl::Status AppendFrame(const M& message, uint64_t payload_bytes_max,
                         std::string* out) {
  static_assert(kFrameTypeOf<M> != FrameType::kUnspecified,
                "no frame type carries this message");
  return internal::AppendFrameOfType(kFrameTypeOf<M>, message,
                                     payload_bytes_max, out);
}

// The same for a message held in a FrameMessage.
absl::Status AppendFrameMessage(const FrameMessage& message,
                                uint64_t payload_bytes_max, std::string* out);

// What was wrong with a stream; kNone while it is fine.
enum class FrameError {
  kNone,
  kBadMagic,            // InvalidArgument: not a frame (or lost framing)
  kUnsupportedVersion,  // FailedPrecondition if newer, InvalidArgument if 0
  kUnknownType,         // InvalidArgument: type 0 or above kFrameTypeMax
  kPayloadTooLarge,     // ResourceExhausted: length above the bound
  kChecksumMismatch,    // DataLoss: bytes damaged in flight
  kBadPayload,          // InvalidArgument: CRC fine, protobuf does not parse
  kTruncated,           // DataLoss: the stream ended inside a frame
};

std::string_view FrameErrorName(FrameError error);

// Decodes one connection's byte stream. Feed it the bytes in any chunking;
// the frames and errors are the same for every chunking of the same bytes.
class FrameDecoder {
 public:
  // Requires options.Validate().ok() (RS_CHECK).
  explicit FrameDecoder(const FrameCodecOptions& options);

  // Feeds the next `chunk` of the stream and appends every frame it
  // completes to `frames`, in stream order. Returns OK, or the stream's
  // error: the frames before the bad one are still appended, and the error
  // is terminal (this and every later Feed or Finish return it again without
  // decoding). Every error message names what was wrong and the stream
  // offset of the frame (and of the bad field).
  absl::Status Feed(std::string_view chunk, std::vector<Frame>* frames);

  // Declares the end of the stream. Returns OK if it ended on a frame
  // boundary, else the kTruncated error (DataLoss naming the frame's offset
  // and how many of its bytes arrived), or the earlier error.
  absl::Status Finish();

  FrameError error() const { return error_; }
  const absl::Status& status() const { return status_; }
  // Bytes of a partly received frame held; at most kFrameHeaderBytes plus
  // frame_payload_bytes_max, and never more than the bytes received.
  uint64_t buffered_bytes() const { return buffer_.size(); }
  // Stream bytes consumed by whole frames so far.
  uint64_t stream_offset() const { return stream_offset_; }

 private:
  // What TryDecode found at the front of some bytes.
  struct Step {
    bool frame_ready = false;
    // When neither a frame nor an error: the bytes the frame needs in all.
    uint64_t bytes_needed = 0;
  };

  Step TryDecode(std::string_view bytes, std::vector<Frame>* frames);
  bool CheckMagic(std::string_view bytes);
  bool CheckHeader(std::string_view header, uint64_t* payload_bytes);
  void Fail(FrameError error, absl::Status status);

  FrameCodecOptions options_;
  // A partial frame whose bytes span chunks; empty when the last chunk
  // ended on a frame boundary.
  std::string buffer_;
  uint64_t buffer_bytes_needed_ = 0;
  uint64_t stream_offset_ = 0;
  FrameError error_ = FrameError::kNone;
  absl::Status status_;
};

}  // namespace raftstore::transport

#endif  // RAFTSTORE_TRANSPORT_FRAME_H_
