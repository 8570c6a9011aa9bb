// The on-disk constants of the manifest and of snapshot files, in one place.
// docs/manifest-format.md describes the layouts these numbers belong to and
// the recovery policy; change one only together with that page and a new
// format version.
//
// Every multi-byte integer on disk is little-endian. Every stored checksum is
// a masked CRC32C (core/storage/crc32c.h).
//
// Thread-safety: constants only.
#ifndef RAFTSTORE_CORE_STORAGE_MANIFEST_MANIFEST_FORMAT_H_
#define RAFTSTORE_CORE_STORAGE_MANIFEST_MANIFEST_FORMAT_H_

#include <cstdint>
#include <string_view>

namespace raftstore::storage {

// The preamble that opens both file kinds:
//   magic (8 bytes) | format_version (u32) | masked CRC32C of the 12 bytes
//   before it (u32).
inline constexpr uint64_t kPreambleBytes = 16;
inline constexpr uint64_t kMagicBytes = 8;

// A frame: length (u32) | masked CRC32C of the 4 length bytes followed by
// the payload (u32) | payload (`length` bytes). The checksum covers the
// length, so a damaged length is caught by the checksum too.
inline constexpr uint64_t kFrameHeaderBytes = 8;

// MANIFEST-<number>: preamble, then one frame per ManifestEdit; the first
// edit has full_state set.
inline constexpr std::string_view kManifestMagic = "RSMANFST";
inline constexpr uint32_t kManifestFormatVersion = 1;
// The largest frame payload a manifest writer produces (the full-state edit
// that opens a file is the big one); a longer declared length is damage.
inline constexpr uint64_t kManifestRecordBytesMax = uint64_t{256} << 20;
// The largest MANIFEST file a writer produces (ManifestOptions bounds the
// rewrite threshold below half of this); a reader refuses a larger one
// instead of reading it into memory.
inline constexpr uint64_t kManifestFileBytesMax = uint64_t{1} << 30;

// CURRENT: one line naming the live MANIFEST file and its checksum:
//   "MANIFEST-000007 3f1c09ab\n"
// (the hex is the masked CRC32C of the name). Replaced atomically by writing
// CURRENT.tmp, syncing it, and renaming it over CURRENT.
inline constexpr std::string_view kCurrentFileName = "CURRENT";
inline constexpr std::string_view kCurrentTempFileName = "CURRENT.tmp";
inline constexpr uint64_t kCurrentFileBytesMax = 64;
inline constexpr std::string_view kManifestFilePrefix = "MANIFEST-";
// File numbers are printed with at least this many digits (so they sort by
// name in a listing) and parsed with at most 20 (any uint64_t).
inline constexpr int kManifestNumberDigitsMin = 6;

// Snapshot files: preamble, a frame holding the SnapshotFileHeader, one
// frame per chunk, then the footer:
//   footer magic (8 bytes) | masked CRC32C of every byte before the footer
//   (u32).
inline constexpr std::string_view kSnapshotFileMagic = "RSSNAPSH";
inline constexpr std::string_view kSnapshotFileFooterMagic = "RSSNPEND";
inline constexpr uint64_t kSnapshotFileFooterBytes = 12;
// "File" in the name: core/raft/log/storage.h's kSnapshotFormatVersion is
// the version of raft.SnapshotMetadata.
inline constexpr uint32_t kSnapshotFileFormatVersion = 1;
// The largest header frame payload a writer produces or a reader accepts
// (the header holds the region's metadata: keys and peers, well under this).
inline constexpr uint64_t kSnapshotFileHeaderBytesMax = uint64_t{1} << 20;
// No chunk frame may be longer than this, whatever the options say (the
// length field is a u32).
inline constexpr uint64_t kSnapshotFileChunkBytesLimit = uint64_t{1} << 30;
// Names: snap-<region id>-<term>-<index>.snap, decimal without padding;
// written first as <name>.tmp.
inline constexpr std::string_view kSnapshotFilePrefix = "snap-";
inline constexpr std::string_view kSnapshotFileSuffix = ".snap";
inline constexpr std::string_view kTempFileSuffix = ".tmp";

}  // namespace raftstore::storage

#endif  // RAFTSTORE_CORE_STORAGE_MANIFEST_MANIFEST_FORMAT_H_
