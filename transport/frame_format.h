// The wire format of every transport connection, as constants.
// docs/transport.md describes the same format in prose with the error policy;
// change both together, and bump kFrameFormatVersion for any change an old
// reader would misread.
//
// A connection carries frames back to back. Frame, little-endian:
//   [0, 4)    magic kFrameMagic ("RSTF")
//   [4, 6)    u16 format version (kFrameFormatVersion)
//   [6, 8)    u16 frame type (FrameType): which protobuf the payload holds
//   [8, 12)   u32 payload length in bytes
//   [12, 16)  u32 masked CRC32C (core/storage/crc32c.h MaskCrc) of bytes
//             [0, 12) followed by the payload
//   [16, ...) payload: one serialized protobuf of the frame's type
//
// Thread-safety: constants only.
#ifndef RAFTSTORE_TRANSPORT_FRAME_FORMAT_H_
#define RAFTSTORE_TRANSPORT_FRAME_FORMAT_H_

#include <cstdint>
#include <string_view>

namespace raftstore::transport {

// The first four bytes of every frame. A reader that finds anything else is
// not talking to a RaftStore transport (or has lost its place in the stream).
inline constexpr std::string_view kFrameMagic = "RSTF";

// The frame layout this code writes, and the newest it reads.
inline constexpr uint16_t kFrameFormatVersion = 1;

// The meaning of the frames (which types exist, the HELLO rules) this code
// speaks; carried in Hello.protocol_version.
inline constexpr uint32_t kProtocolVersion = 1;

inline constexpr uint64_t kFrameHeaderBytes = 16;
inline constexpr uint64_t kFrameVersionOffset = 4;
inline constexpr uint64_t kFrameTypeOffset = 6;
inline constexpr uint64_t kFrameLengthOffset = 8;
inline constexpr uint64_t kFrameCrcOffset = 12;

// The largest payload the length field can describe; the enforced bound is
// FrameCodecOptions::frame_payload_bytes_max.
inline constexpr uint64_t kFramePayloadBytesLimit = 0xffffffffULL;

// What a frame's payload holds. Values are on the wire: never renumber.
enum class FrameType : uint16_t {
  kUnspecified = 0,    // never valid on the wire
  kHello = 1,          // transport.Hello
  kRaftBatch = 2,      // store.RaftMessageBatch
  kKvRequest = 3,      // kv.KvRequest
  kKvResponse = 4,     // kv.KvResponse
  kAdminRequest = 5,   // store.AdminRequest
  kAdminResponse = 6,  // store.AdminResponse
};

// The highest FrameType value this version knows; larger ones are refused.
inline constexpr uint16_t kFrameTypeMax = 6;

}  // namespace raftstore::transport

#endif  // RAFTSTORE_TRANSPORT_FRAME_FORMAT_H_
