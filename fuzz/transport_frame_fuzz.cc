// Fuzzes the transport's frame decoder (transport/frame.h) over arbitrary
// bytes in arbitrary chunkings: everything a peer or client can send a port.
// Input: [u8 chunking][stream bytes]. The chunking byte is the largest chunk
// (0: the whole stream in one Feed); chunk sizes vary below it.
//
// No input may crash, hang or leak, and:
// - the decoder's answer (frames and error) depends on the bytes only, not
//   on how they were chunked;
// - the buffer never holds more than a header plus the payload bound;
// - every decoded frame re-encodes to a frame that decodes to the same
//   message.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "google/protobuf/util/message_differencer.h"
#include "transport/frame.h"

namespace {

namespace transport = raftstore::transport;

constexpr uint64_t kPayloadBytesMax = 1 << 16;

struct Result {
  std::vector<transport::Frame> frames;
  absl::Status status;
  uint64_t buffered_bytes_max = 0;
};

Result Decode(std::string_view bytes, uint8_t chunk_bytes_max) {
  transport::FrameCodecOptions options;
  options.frame_payload_bytes_max = kPayloadBytesMax;
  transport::FrameDecoder decoder(options);
  Result result;
  uint64_t step = 0;
  while (!bytes.empty()) {
    size_t size = bytes.size();
    if (chunk_bytes_max > 0) {
      size = std::min<size_t>(size, 1 + (step * 7919 % chunk_bytes_max));
    }
    result.status = decoder.Feed(bytes.substr(0, size), &result.frames);
    result.buffered_bytes_max =
        std::max(result.buffered_bytes_max, decoder.buffered_bytes());
    bytes.remove_prefix(size);
    ++step;
  }
  result.status = decoder.Finish();
  return result;
}

bool SameMessage(const transport::FrameMessage& a,
                 const transport::FrameMessage& b) {
  if (a.index() != b.index()) return false;
  return std::visit(
      [&](const auto& typed) {
        using M = std::decay_t<decltype(typed)>;
        return google::protobuf::util::MessageDifferencer::Equals(
            typed, std::get<M>(b));
      },
      a);
}

void CheckReencodes(const transport::Frame& frame) {
  std::string again;
  if (!transport::AppendFrameMessage(frame.message,
                                     transport::kFramePayloadBytesLimit, &again)
           .ok()) {
    std::abort();  // a decoded message cannot be encoded
  }
  const Result decoded = Decode(again, 0);
  if (!decoded.status.ok() || decoded.frames.size() != 1 ||
      !SameMessage(decoded.frames[0].message, frame.message)) {
    std::abort();  // re-encoding changed the message
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1,
                               size - 1);
  const Result whole = Decode(bytes, 0);
  const Result chunked = Decode(bytes, data[0]);
  if (whole.status != chunked.status ||
      whole.frames.size() != chunked.frames.size()) {
    std::abort();  // the answer depends on the chunking
  }
  if (chunked.buffered_bytes_max >
      transport::kFrameHeaderBytes + kPayloadBytesMax) {
    std::abort();  // buffered past the bound
  }
  for (const transport::Frame& frame : whole.frames) CheckReencodes(frame);
  return 0;
}
