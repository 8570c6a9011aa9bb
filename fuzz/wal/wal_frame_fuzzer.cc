// Fuzzes the WAL's byte-level decoders over arbitrary bytes: the segment
// header, the frame chain after it, and the durability-proof scan recovery
// runs over damaged tails. No input may crash or hang; a header or frame that
// decodes must re-encode to exactly the same bytes (the format has one
// encoding); a proof the scan reports must be a frame that decodes.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "core/storage/wal/frame.h"
#include "core/storage/wal/replay.h"
#include "core/storage/wal/wal_format.h"

namespace {

using raftstore::storage::DecodedFrame;
using raftstore::storage::FrameError;

constexpr uint64_t kPayloadBytesMax = 1 << 20;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace storage = raftstore::storage;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  uint64_t offset = 0;
  uint64_t last_lsn = 0;
  if (auto header = storage::DecodeSegmentHeader("fuzz", bytes); header.ok()) {
    if (storage::EncodeSegmentHeader(header->sequence, header->first_lsn) !=
        bytes.substr(0, storage::kSegmentHeaderBytes)) {
      std::abort();  // a decoded header does not re-encode to its bytes
    }
    offset = storage::kSegmentHeaderBytes;
    last_lsn = header->first_lsn - 1;
  }
  while (offset < bytes.size()) {
    const DecodedFrame frame =
        storage::DecodeFrame(bytes, offset, kPayloadBytesMax);
    if (frame.error != FrameError::kNone) break;
    std::string again;
    storage::AppendFrame(frame.type, frame.lsn, frame.synced_lsn, frame.payload,
                         &again);
    if (again != bytes.substr(offset, frame.frame_bytes)) {
      std::abort();  // a decoded frame does not re-encode to its bytes
    }
    last_lsn = frame.lsn;
    offset += frame.frame_bytes;
  }
  const std::optional<uint64_t> proof =
      storage::FindDurabilityProof(bytes, offset, last_lsn, kPayloadBytesMax);
  if (proof.has_value()) {
    const DecodedFrame frame =
        storage::DecodeFrame(bytes, *proof, kPayloadBytesMax);
    if (frame.error != FrameError::kNone || frame.synced_lsn <= last_lsn) {
      std::abort();  // the scan reported something that is not a proof
    }
  }
  return 0;
}
