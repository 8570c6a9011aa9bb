// CRC32C (Castagnoli), the checksum of every durable record.
//
// Computed by ISA-L (Debian libisal-dev, crc32_iscsi), which picks the SSE4.2
// crc32 instruction or a folded PCLMULQDQ loop at run time. CRC32C, not zlib's
// CRC32, because it has hardware support and better error detection for the
// message lengths we write (Castagnoli 1993); LevelDB, RocksDB and etcd's WAL
// make the same choice.
//
// Thread-safety: pure functions.
#ifndef RAFTSTORE_CORE_STORAGE_CRC32C_H_
#define RAFTSTORE_CORE_STORAGE_CRC32C_H_

#include <cstdint>
#include <string_view>

namespace raftstore::storage {

// The CRC32C of `data`, continuing from `crc` (the value returned for the
// bytes before it; 0 to start). Extend(Extend(0, a), b) == Extend(0, a + b).
uint32_t Crc32cExtend(uint32_t crc, std::string_view data);

inline uint32_t Crc32c(std::string_view data) { return Crc32cExtend(0, data); }

// A stored CRC is masked (LevelDB's scheme) so that a CRC of data that itself
// contains CRCs does not degenerate, and an all-zero region never checks out.
uint32_t MaskCrc(uint32_t crc);
uint32_t UnmaskCrc(uint32_t masked);

}  // namespace raftstore::storage

#endif  // RAFTSTORE_CORE_STORAGE_CRC32C_H_
