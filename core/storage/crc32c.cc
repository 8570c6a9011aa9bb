#include "core/storage/crc32c.h"

#include <isa-l/crc.h>

#include <climits>
#include <cstdint>
#include <string_view>

#include "core/base/check.h"

namespace raftstore::storage {
namespace {

// Added to a rotated CRC by MaskCrc; any odd-looking constant works, this is
// LevelDB's choice.
constexpr uint32_t kMaskDelta = 0xa282ead8U;

}  // namespace

uint32_t Crc32cExtend(uint32_t crc, std::string_view data) {
  // crc32_iscsi takes an int length and the raw (pre-inverted) register, so
  // feed it in chunks and do the standard pre/post inversion here.
  constexpr size_t kChunkBytesMax = 1U << 30;
  uint32_t state = ~crc;
  // The cast drops const only for ISA-L's signature; it never writes.
  auto* bytes =
      reinterpret_cast<unsigned char*>(const_cast<char*>(data.data()));
  size_t remaining = data.size();
  while (remaining > 0) {
    const size_t chunk =
        remaining < kChunkBytesMax ? remaining : kChunkBytesMax;
    RS_CHECK_LE(chunk, static_cast<size_t>(INT_MAX));
    state = crc32_iscsi(bytes, static_cast<int>(chunk), state);
    bytes += chunk;
    remaining -= chunk;
  }
  return ~state;
}

uint32_t MaskCrc(uint32_t crc) {
  return ((crc >> 15) | (crc << 17)) + kMaskDelta;
}

uint32_t UnmaskCrc(uint32_t masked) {
  const uint32_t rotated = masked - kMaskDelta;
  return (rotated >> 17) | (rotated << 15);
}

}  // namespace raftstore::storage
