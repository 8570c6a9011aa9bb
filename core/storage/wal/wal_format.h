// The on-disk format of the shared WAL, as constants. docs/wal-format.md is the
// same format in prose, with the recovery policy and the GC rule; change both
// together, and bump kWalFormatVersion for any change an old reader would
// misread.
//
// A WAL is a sequence of segment files "wal-<20-digit sequence>.log" in the
// Disk's directory (other names are left alone), numbered consecutively
// (GC removes the oldest). Each segment is:
//
//   segment header (kSegmentHeaderBytes), then frames back to back.
//
// Segment header, little-endian:
//   [0, 8)    magic kSegmentMagic
//   [8, 12)   u32 format version (kWalFormatVersion)
//   [12, 16)  u32 reserved, zero
//   [16, 24)  u64 segment sequence number (equals the one in the file name)
//   [24, 32)  u64 first LSN: the LSN of the segment's first frame
//   [32, 36)  u32 masked CRC32C of bytes [0, 32)
//   [36, 40)  u32 reserved, zero
//
// Frame, little-endian:
//   [0, 4)    u32 masked CRC32C of bytes [4, kFrameHeaderBytes + length)
//             (every header field after it, and the payload)
//   [4, 8)    u32 length: payload bytes
//   [8, 9)    u8  record type (WalRecordType)
//   [9, 16)   reserved, zero
//   [16, 24)  u64 LSN: consecutive over the whole WAL, first frame 1
//   [24, 32)  u64 synced LSN: the WAL's durable LSN when the frame was
//             encoded (always < LSN); recovery uses it to tell a torn tail
//             from damage to durable data
//   [32, ...) payload: the record's protobuf (proto/wal.proto)
//
// Thread-safety: constants only.
#ifndef RAFTSTORE_CORE_STORAGE_WAL_WAL_FORMAT_H_
#define RAFTSTORE_CORE_STORAGE_WAL_WAL_FORMAT_H_

#include <cstdint>
#include <string_view>

namespace raftstore::storage {

// The format this code writes, and the newest it reads. A segment with a
// newer version is refused with kFailedPrecondition.
inline constexpr uint32_t kWalFormatVersion = 1;

// "RSWALSEG": the first eight bytes of every segment.
inline constexpr std::string_view kSegmentMagic = "RSWALSEG";

inline constexpr uint64_t kSegmentHeaderBytes = 40;
inline constexpr uint64_t kSegmentHeaderCrcOffset = 32;

inline constexpr uint64_t kFrameHeaderBytes = 32;
inline constexpr uint64_t kFrameLengthOffset = 4;
inline constexpr uint64_t kFrameTypeOffset = 8;
inline constexpr uint64_t kFrameReservedOffset = 9;
inline constexpr uint64_t kFrameLsnOffset = 16;
inline constexpr uint64_t kFrameSyncedLsnOffset = 24;

// The largest LSN and segment sequence number a reader accepts. Far beyond
// anything a store writes (2^62 records at a billion a second is 146 years),
// so that +1 never overflows anywhere; a header or frame claiming more is
// damage.
inline constexpr uint64_t kLsnMax = uint64_t{1} << 62;
inline constexpr uint64_t kSegmentSequenceMax = uint64_t{1} << 62;

// The largest payload the format can describe (the length field is a u32);
// WalOptions::record_payload_bytes_max is the enforced, smaller bound.
inline constexpr uint64_t kFramePayloadBytesLimit = 0xffffffffULL;

// Segment file names: kSegmentFilePrefix, kSegmentSequenceDigits decimal
// digits (zero-padded, so bytewise order is numeric order),
// kSegmentFileSuffix.
inline constexpr std::string_view kSegmentFilePrefix = "wal-";
inline constexpr std::string_view kSegmentFileSuffix = ".log";
inline constexpr int kSegmentSequenceDigits = 20;
// A new segment is written under its name plus this suffix, synced, then
// renamed into place, so a segment file's header is always durable. Leftovers
// of an interrupted rotation are removed on Open.
inline constexpr std::string_view kSegmentTempSuffix = ".tmp";

// The record type byte of a frame. Values are never reused. Zero is never
// written, so a zero-filled region never decodes as a record.
enum class WalRecordType : uint8_t {
  kUnspecified = 0,
  kEntries = 1,       // wal.EntriesRecord
  kHardState = 2,     // wal.HardStateRecord
  kSnapshot = 3,      // wal.SnapshotRecord
  kTruncate = 4,      // wal.TruncateRecord
  kGroupRemoved = 5,  // wal.GroupRemovedRecord
  kCheckpoint = 6,    // wal.GroupCheckpoint
};

// The largest WalRecordType value this version knows.
inline constexpr uint8_t kWalRecordTypeMax = 6;

// "entries", "hard_state", ...; "unknown" for values this version does not
// know.
std::string_view WalRecordTypeName(WalRecordType type);

}  // namespace raftstore::storage

#endif  // RAFTSTORE_CORE_STORAGE_WAL_WAL_FORMAT_H_
