// The input format of the WAL recovery fuzzer, shared with its seed
// generator: a file set as a sequence of chunks
//   [u8 file selector][u16 little-endian length][length bytes]
// each appended to the file the selector names (FileForSelector). A chunk cut
// short by the end of the input takes what is there.
//
// Thread-safety: pure functions.
#ifndef RAFTSTORE_FUZZ_WAL_WAL_FUZZ_INPUT_H_
#define RAFTSTORE_FUZZ_WAL_WAL_FUZZ_INPUT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/storage/wal/wal_format.h"
#include "core/storage/wal/wal_options.h"

namespace raftstore::fuzz {

// Selectors 0..5 name segments 1..6, 6 a leftover temporary segment 2, 7 a
// file that is not the WAL's.
inline std::string FileForSelector(uint8_t selector) {
  const uint8_t which = selector % 8;
  if (which < 6) return storage::SegmentFileName(which + 1);
  if (which == 6) {
    return storage::SegmentFileName(2) +
           std::string(storage::kSegmentTempSuffix);
  }
  return "MANIFEST";
}

inline uint8_t SelectorForSegment(uint64_t sequence) {
  return static_cast<uint8_t>(sequence - 1);
}

// Splits `input` into (file name, bytes) chunks in order.
inline std::vector<std::pair<std::string, std::string_view>> ParseChunks(
    std::string_view input) {
  std::vector<std::pair<std::string, std::string_view>> chunks;
  size_t at = 0;
  while (at + 3 <= input.size()) {
    const auto selector = static_cast<uint8_t>(input[at]);
    const size_t length =
        static_cast<uint8_t>(input[at + 1]) |
        (static_cast<size_t>(static_cast<uint8_t>(input[at + 2])) << 8);
    at += 3;
    const size_t take = length < input.size() - at ? length : input.size() - at;
    chunks.emplace_back(FileForSelector(selector), input.substr(at, take));
    at += take;
  }
  return chunks;
}

// Appends `bytes` of file `selector` to `out` as chunks.
inline void AppendChunks(uint8_t selector, std::string_view bytes,
                         std::string* out) {
  constexpr size_t kChunkBytesMax = 0xffff;
  do {
    const size_t take =
        bytes.size() < kChunkBytesMax ? bytes.size() : kChunkBytesMax;
    out->push_back(static_cast<char>(selector));
    out->push_back(static_cast<char>(take & 0xff));
    out->push_back(static_cast<char>(take >> 8));
    out->append(bytes.substr(0, take));
    bytes.remove_prefix(take);
  } while (!bytes.empty());
}

}  // namespace raftstore::fuzz

#endif  // RAFTSTORE_FUZZ_WAL_WAL_FUZZ_INPUT_H_
