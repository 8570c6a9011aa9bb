#include "transport/frame.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "core/storage/crc32c.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "proto/random_message.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"
#include "transport/frame_format.h"

namespace raftstore::transport {
namespace {

using google::protobuf::util::MessageDifferencer;

constexpr uint64_t kPayloadMax = 1 << 20;

FrameCodecOptions Options(uint64_t payload_max = kPayloadMax) {
  FrameCodecOptions options;
  options.frame_payload_bytes_max = payload_max;
  return options;
}

store::RaftMessageBatch SmallBatch(uint64_t from) {
  store::RaftMessageBatch batch;
  batch.set_cluster_id(7);
  batch.set_from_store_id(from);
  batch.set_to_store_id(2);
  batch.add_messages()->set_region_id(11);
  return batch;
}

std::string Encode(const FrameMessage& message) {
  std::string out;
  EXPECT_TRUE(AppendFrameMessage(message, kPayloadMax, &out).ok());
  return out;
}

// A frame with any header fields, its CRC computed over what is given
// unless `crc` is set.
std::string RawFrame(uint16_t version, uint16_t type, std::string_view payload,
                     std::optional<uint32_t> crc = std::nullopt) {
  std::string frame(kFrameMagic);
  frame.push_back(static_cast<char>(version & 0xff));
  frame.push_back(static_cast<char>(version >> 8));
  frame.push_back(static_cast<char>(type & 0xff));
  frame.push_back(static_cast<char>(type >> 8));
  const auto length = static_cast<uint32_t>(payload.size());
  for (int i = 0; i < 4; ++i)
    frame.push_back(static_cast<char>(length >> (8 * i)));
  const uint32_t value = crc.value_or(
      storage::MaskCrc(storage::Crc32cExtend(storage::Crc32c(frame), payload)));
  for (int i = 0; i < 4; ++i)
    frame.push_back(static_cast<char>(value >> (8 * i)));
  frame.append(payload);
  return frame;
}

struct Decoded {
  std::vector<Frame> frames;
  absl::Status status;
  FrameError error = FrameError::kNone;
};

Decoded DecodeAll(std::string_view bytes, const std::vector<size_t>& cuts,
                  uint64_t payload_max = kPayloadMax, bool finish = true) {
  FrameDecoder decoder(Options(payload_max));
  Decoded decoded;
  size_t at = 0;
  for (size_t cut : cuts) {
    cut = std::min(cut, bytes.size());
    if (cut < at) continue;
    decoded.status = decoder.Feed(bytes.substr(at, cut - at), &decoded.frames);
    at = cut;
  }
  decoded.status = decoder.Feed(bytes.substr(at), &decoded.frames);
  if (finish) decoded.status = decoder.Finish();
  decoded.error = decoder.error();
  return decoded;
}

bool SameMessage(const FrameMessage& a, const FrameMessage& b) {
  if (a.index() != b.index()) return false;
  return std::visit(
      [&](const auto& typed) {
        using M = std::decay_t<decltype(typed)>;
        return MessageDifferencer::Equals(typed, std::get<M>(b));
      },
      a);
}

FrameMessage RandomMessage() {
  const int type = *rc::gen::inRange(0, 6);
  FrameMessage message;
  switch (type) {
    case 0:
      message.emplace<Hello>();
      break;
    case 1:
      message.emplace<store::RaftMessageBatch>();
      break;
    case 2:
      message.emplace<kv::KvRequest>();
      break;
    case 3:
      message.emplace<kv::KvResponse>();
      break;
    case 4:
      message.emplace<store::AdminRequest>();
      break;
    default:
      message.emplace<store::AdminResponse>();
      break;
  }
  std::visit([](auto& typed) { proto_testing::FillRandom(&typed); }, message);
  return message;
}

RC_GTEST_PROP(FrameCodecProperty, RoundTripsUnderAnyChunking, ()) {
  const int count = *rc::gen::inRange(0, 6);
  std::vector<FrameMessage> messages;
  std::string stream;
  for (int i = 0; i < count; ++i) {
    messages.push_back(RandomMessage());
    RC_ASSERT(AppendFrameMessage(messages.back(), kPayloadMax, &stream).ok());
  }
  std::vector<size_t> cuts = *rc::gen::container<std::vector<size_t>>(
      rc::gen::inRange<size_t>(0, stream.size() + 1));
  std::sort(cuts.begin(), cuts.end());
  const Decoded decoded = DecodeAll(stream, cuts);
  RC_ASSERT(decoded.status.ok());
  RC_ASSERT(decoded.frames.size() == messages.size());
  uint64_t offset = 0;
  for (size_t i = 0; i < messages.size(); ++i) {
    RC_ASSERT(SameMessage(decoded.frames[i].message, messages[i]));
    RC_ASSERT(decoded.frames[i].stream_offset == offset);
    offset += decoded.frames[i].frame_bytes;
  }
  RC_ASSERT(offset == stream.size());
}

// Damage anywhere gives the same frames and the same error whatever the
// chunking: the decoder's answer depends on the bytes only.
RC_GTEST_PROP(FrameCodecProperty, DamageIsReportedTheSameUnderAnyChunking, ()) {
  std::string stream;
  for (int i = 0; i < 3; ++i) {
    RC_ASSERT(AppendFrameMessage(RandomMessage(), kPayloadMax, &stream).ok());
  }
  const size_t at = *rc::gen::inRange<size_t>(0, stream.size());
  stream[at] = static_cast<char>(stream[at] ^ *rc::gen::inRange(1, 256));
  const Decoded whole = DecodeAll(stream, {});
  RC_ASSERT(!whole.status.ok());
  std::vector<size_t> cuts = *rc::gen::container<std::vector<size_t>>(
      rc::gen::inRange<size_t>(0, stream.size() + 1));
  std::sort(cuts.begin(), cuts.end());
  const Decoded chunked = DecodeAll(stream, cuts);
  RC_ASSERT(chunked.status == whole.status);
  RC_ASSERT(chunked.frames.size() == whole.frames.size());
}

TEST(FrameCodecTest, EmptyStreamFinishesCleanly) {
  FrameDecoder decoder(Options());
  std::vector<Frame> frames;
  EXPECT_TRUE(decoder.Feed("", &frames).ok());
  EXPECT_TRUE(decoder.Finish().ok());
  EXPECT_TRUE(frames.empty());
}

TEST(FrameCodecTest, FrameTypeFollowsTheMessage) {
  const std::string bytes = Encode(SmallBatch(1));
  EXPECT_EQ(bytes.substr(0, 4), "RSTF");
  EXPECT_EQ(bytes[kFrameTypeOffset], 2);
  const Decoded decoded = DecodeAll(bytes, {});
  ASSERT_EQ(decoded.frames.size(), 1u);
  EXPECT_EQ(decoded.frames[0].type(), FrameType::kRaftBatch);
  EXPECT_EQ(FrameTypeName(decoded.frames[0].type()), "RAFT_BATCH");
}

TEST(FrameCodecTest, BadMagicNamesTheOffsetAfterGoodFrames) {
  const std::string good = Encode(SmallBatch(1));
  const Decoded decoded = DecodeAll(good + "GARBAGE-GARBAGE-GARBAGE", {});
  EXPECT_EQ(decoded.frames.size(), 1u);
  EXPECT_EQ(decoded.error, FrameError::kBadMagic);
  EXPECT_EQ(decoded.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(
      decoded.status.message(),
      absl::StrCat("frame at stream offset ", good.size(), ": bad magic")))
      << decoded.status;
}

TEST(FrameCodecTest, GarbageIsRefusedFromItsFirstWrongByte) {
  FrameDecoder decoder(Options());
  std::vector<Frame> frames;
  EXPECT_TRUE(decoder.Feed("RS", &frames).ok());
  const absl::Status status = decoder.Feed("X", &frames);
  EXPECT_EQ(decoder.error(), FrameError::kBadMagic);
  EXPECT_TRUE(
      absl::StrContains(status.message(), "bad magic: byte 0x58 at offset 2"))
      << status;
}

TEST(FrameCodecTest, NewerVersionIsFailedPrecondition) {
  const Decoded decoded = DecodeAll(RawFrame(2, 2, ""), {});
  EXPECT_EQ(decoded.error, FrameError::kUnsupportedVersion);
  EXPECT_EQ(decoded.status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(decoded.status.message(), "format version 2"))
      << decoded.status;
}

TEST(FrameCodecTest, VersionZeroIsInvalid) {
  const Decoded decoded = DecodeAll(RawFrame(0, 2, ""), {});
  EXPECT_EQ(decoded.error, FrameError::kUnsupportedVersion);
  EXPECT_EQ(decoded.status.code(), absl::StatusCode::kInvalidArgument);
}

TEST(FrameCodecTest, UnknownTypesAreRefused) {
  for (uint16_t type : {0, kFrameTypeMax + 1, 0xffff}) {
    const Decoded decoded = DecodeAll(RawFrame(1, type, ""), {});
    EXPECT_EQ(decoded.error, FrameError::kUnknownType) << type;
    EXPECT_EQ(decoded.status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StrContains(
        decoded.status.message(),
        absl::StrCat("unknown frame type ", type, " at offset 6")))
        << decoded.status;
  }
}

TEST(FrameCodecTest, OversizedLengthIsRefusedFromTheHeaderAlone) {
  // Only the 16 header bytes arrive; the claimed 4 GiB payload never does.
  const std::string header = RawFrame(1, 2, "").substr(0, kFrameLengthOffset) +
                             std::string("\xff\xff\xff\xff", 4) +
                             std::string(4, '\0');
  FrameDecoder decoder(Options(1000));
  std::vector<Frame> frames;
  const absl::Status status = decoder.Feed(header, &frames);
  EXPECT_EQ(decoder.error(), FrameError::kPayloadTooLarge);
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(absl::StrContains(status.message(), "frame_payload_bytes_max"));
  EXPECT_EQ(decoder.buffered_bytes(), 0u);
}

TEST(FrameCodecTest, OversizedLengthSplitAcrossChunksIsRefusedToo) {
  const std::string frame = RawFrame(1, 2, std::string(1001, 'x'));
  FrameDecoder decoder(Options(1000));
  std::vector<Frame> frames;
  EXPECT_TRUE(decoder.Feed(frame.substr(0, 10), &frames).ok());
  const absl::Status status = decoder.Feed(frame.substr(10, 6), &frames);
  EXPECT_EQ(decoder.error(), FrameError::kPayloadTooLarge) << status;
}

TEST(FrameCodecTest, FirstFrameHasItsOwnBound) {
  kv::KvRequest request;
  request.mutable_put()->set_value(std::string(100, 'v'));
  const std::string frame = Encode(request);
  FrameCodecOptions options = Options();
  options.first_frame_payload_bytes_max = 50;
  FrameDecoder decoder(options);
  std::vector<Frame> frames;
  const absl::Status status =
      decoder.Feed(frame.substr(0, kFrameHeaderBytes), &frames);
  EXPECT_EQ(decoder.error(), FrameError::kPayloadTooLarge);
  EXPECT_TRUE(absl::StrContains(status.message(),
                                "above first_frame_payload_bytes_max 50"))
      << status;
  // Only the first: after a small first frame, the same frame passes.
  FrameDecoder second(options);
  const std::string stream = Encode(kv::KvRequest()) + frame;
  EXPECT_TRUE(second.Feed(stream, &frames).ok());
  EXPECT_EQ(frames.size(), 2u);
  options.first_frame_payload_bytes_max = options.frame_payload_bytes_max + 1;
  EXPECT_FALSE(options.Validate().ok());
}

TEST(FrameCodecTest, PayloadAtTheBoundIsAccepted) {
  kv::KvRequest request;
  request.mutable_put()->set_value(std::string(100, 'v'));
  const uint64_t bound = request.ByteSizeLong();
  std::string out;
  ASSERT_TRUE(AppendFrame(request, bound, &out).ok());
  EXPECT_EQ(DecodeAll(out, {}, bound).frames.size(), 1u);
  EXPECT_EQ(DecodeAll(out, {}, bound - 1).error, FrameError::kPayloadTooLarge);
}

TEST(FrameCodecTest, EncoderRefusesAPayloadAboveTheBound) {
  kv::KvRequest request;
  request.mutable_put()->set_value(std::string(100, 'v'));
  std::string out = "kept";
  const absl::Status status = AppendFrame(request, 50, &out);
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(out, "kept");
}

TEST(FrameCodecTest, ChecksumMismatchIsDataLoss) {
  std::string bytes = Encode(SmallBatch(1));
  bytes.back() ^= 0x10;
  const Decoded decoded = DecodeAll(bytes, {});
  EXPECT_EQ(decoded.error, FrameError::kChecksumMismatch);
  EXPECT_EQ(decoded.status.code(), absl::StatusCode::kDataLoss);
  EXPECT_TRUE(absl::StrContains(decoded.status.message(),
                                "frame at stream offset 0: checksum mismatch"));
}

TEST(FrameCodecTest, DamagedHeaderFieldFailsTheChecksum) {
  // Every header field is under the CRC: a length changed within the bound
  // (with the bytes to match) is caught.
  std::string bytes = Encode(SmallBatch(1)) + "xx";
  bytes[kFrameLengthOffset] = static_cast<char>(bytes[kFrameLengthOffset] + 2);
  EXPECT_EQ(DecodeAll(bytes, {}).error, FrameError::kChecksumMismatch);
}

TEST(FrameCodecTest, UnparseablePayloadWithAGoodChecksumIsBadPayload) {
  // A field tag with wire type 7 does not exist.
  const Decoded decoded = DecodeAll(RawFrame(1, 2, "\x0f\x01\x02"), {});
  EXPECT_EQ(decoded.error, FrameError::kBadPayload);
  EXPECT_EQ(decoded.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(decoded.status.message(),
                                "RAFT_BATCH payload of 3 bytes at offset 16"))
      << decoded.status;
}

TEST(FrameCodecTest, TruncatedFrameIsReportedAtFinish) {
  const std::string first = Encode(SmallBatch(1));
  const std::string second = Encode(SmallBatch(2));
  const std::string bytes = first + second.substr(0, second.size() - 3);
  const Decoded decoded = DecodeAll(bytes, {5, 40});
  EXPECT_EQ(decoded.frames.size(), 1u);
  EXPECT_EQ(decoded.error, FrameError::kTruncated);
  EXPECT_EQ(decoded.status.code(), absl::StatusCode::kDataLoss);
  EXPECT_TRUE(
      absl::StrContains(decoded.status.message(),
                        absl::StrCat("frame at stream offset ", first.size(),
                                     ": stream ended after ", second.size() - 3,
                                     " of the frame's ", second.size())))
      << decoded.status;
}

TEST(FrameCodecTest, TruncatedHeaderIsReportedAtFinish) {
  const Decoded decoded = DecodeAll("RST", {});
  EXPECT_EQ(decoded.error, FrameError::kTruncated);
  EXPECT_TRUE(absl::StrContains(decoded.status.message(), "header bytes"));
}

TEST(FrameCodecTest, AnErrorIsTerminal) {
  FrameDecoder decoder(Options());
  std::vector<Frame> frames;
  const absl::Status first = decoder.Feed("XXXXXXXXXXXXXXXXXXXX", &frames);
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(decoder.Feed(Encode(SmallBatch(1)), &frames), first);
  EXPECT_EQ(decoder.Finish(), first);
  EXPECT_TRUE(frames.empty());
}

TEST(FrameCodecTest, PartialFrameBuffersOnlyWhatArrived) {
  const std::string frame = Encode(SmallBatch(1));
  FrameDecoder decoder(Options());
  std::vector<Frame> frames;
  ASSERT_TRUE(decoder.Feed(frame.substr(0, 20), &frames).ok());
  EXPECT_EQ(decoder.buffered_bytes(), 20u);
  ASSERT_TRUE(decoder.Feed(frame.substr(20), &frames).ok());
  EXPECT_EQ(decoder.buffered_bytes(), 0u);
  EXPECT_EQ(decoder.stream_offset(), frame.size());
  EXPECT_EQ(frames.size(), 1u);
}

TEST(FrameCodecTest, OptionsAreValidated) {
  EXPECT_FALSE(Options(0).Validate().ok());
  EXPECT_FALSE(Options(kFramePayloadBytesLimit + 1).Validate().ok());
  EXPECT_TRUE(Options(kFramePayloadBytesLimit).Validate().ok());
}

}  // namespace
}  // namespace raftstore::transport
