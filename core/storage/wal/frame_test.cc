#include "core/storage/wal/frame.h"

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "core/storage/crc32c.h"
#include "core/storage/wal/wal_format.h"
#include "gtest/gtest.h"
#include "rapidcheck/gtest.h"

namespace raftstore::storage {
namespace {

constexpr uint64_t kMax = 1 << 20;

TEST(SegmentHeaderTest, RoundTrips) {
  const std::string header = EncodeSegmentHeader(7, 1234);
  ASSERT_EQ(header.size(), kSegmentHeaderBytes);
  auto decoded = DecodeSegmentHeader("wal-7", header);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->sequence, 7u);
  EXPECT_EQ(decoded->first_lsn, 1234u);
  EXPECT_EQ(decoded->format_version, kWalFormatVersion);
}

TEST(SegmentHeaderTest, TruncatedHeaderIsDataLossNamingFileAndOffset) {
  const std::string header = EncodeSegmentHeader(1, 1).substr(0, 20);
  auto decoded = DecodeSegmentHeader("wal-x.log", header);
  EXPECT_EQ(decoded.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(decoded.status().message().find("wal-x.log offset 0"),
            std::string::npos);
  EXPECT_NE(decoded.status().message().find("truncated"), std::string::npos);
}

TEST(SegmentHeaderTest, WrongMagicIsDataLoss) {
  std::string header = EncodeSegmentHeader(1, 1);
  header[0] = 'X';
  auto decoded = DecodeSegmentHeader("f", header);
  EXPECT_EQ(decoded.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(decoded.status().message().find("magic"), std::string::npos);
}

TEST(SegmentHeaderTest, NewerVersionIsFailedPrecondition) {
  std::string header = EncodeSegmentHeader(1, 1);
  PutFixed32(kWalFormatVersion + 1, &header[8]);
  auto decoded = DecodeSegmentHeader("f", header);
  EXPECT_EQ(decoded.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(decoded.status().message().find("newer"), std::string::npos);
}

TEST(SegmentHeaderTest, FlippedBitIsChecksumMismatch) {
  std::string header = EncodeSegmentHeader(1, 1);
  header[20] ^= 0x10;
  auto decoded = DecodeSegmentHeader("f", header);
  EXPECT_EQ(decoded.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(decoded.status().message().find("checksum"), std::string::npos);
}

TEST(FrameTest, RoundTripsEveryField) {
  std::string bytes = "prefix";
  AppendFrame(WalRecordType::kTruncate, 42, 40, "payload", &bytes);
  const DecodedFrame frame = DecodeFrame(bytes, 6, kMax);
  ASSERT_EQ(frame.error, FrameError::kNone);
  EXPECT_EQ(frame.type, WalRecordType::kTruncate);
  EXPECT_EQ(frame.lsn, 42u);
  EXPECT_EQ(frame.synced_lsn, 40u);
  EXPECT_EQ(frame.payload, "payload");
  EXPECT_EQ(frame.frame_bytes, kFrameHeaderBytes + 7);
}

TEST(FrameTest, EmptyPayloadRoundTrips) {
  std::string bytes;
  AppendFrame(WalRecordType::kHardState, 1, 0, "", &bytes);
  const DecodedFrame frame = DecodeFrame(bytes, 0, kMax);
  ASSERT_EQ(frame.error, FrameError::kNone);
  EXPECT_EQ(frame.payload, "");
}

TEST(FrameTest, EachDamageIsNamed) {
  std::string good;
  AppendFrame(WalRecordType::kEntries, 5, 3, std::string(100, 'e'), &good);
  EXPECT_EQ(DecodeFrame(good.substr(0, 20), 0, kMax).error,
            FrameError::kTruncatedHeader);
  EXPECT_EQ(DecodeFrame(good.substr(0, 50), 0, kMax).error,
            FrameError::kLengthPastEnd);
  EXPECT_EQ(DecodeFrame(good, 0, 99).error, FrameError::kLengthAboveMax);
  std::string flipped = good;
  flipped[60] ^= 1;
  EXPECT_EQ(DecodeFrame(flipped, 0, kMax).error, FrameError::kChecksumMismatch);
  const std::string zeros(200, '\0');
  EXPECT_EQ(DecodeFrame(zeros, 0, kMax).error, FrameError::kChecksumMismatch);
}

// Builds a frame with a valid checksum over arbitrary header fields.
std::string ForgeFrame(uint8_t type, uint8_t reserved, uint64_t lsn,
                       uint64_t synced_lsn) {
  std::string bytes(kFrameHeaderBytes, '\0');
  bytes[kFrameTypeOffset] = static_cast<char>(type);
  bytes[kFrameReservedOffset] = static_cast<char>(reserved);
  PutFixed64(lsn, &bytes[kFrameLsnOffset]);
  PutFixed64(synced_lsn, &bytes[kFrameSyncedLsnOffset]);
  PutFixed32(MaskCrc(Crc32c(std::string_view(bytes).substr(4))), &bytes[0]);
  return bytes;
}

TEST(FrameTest, ChecksumValidButInvalidFieldsAreRefused) {
  EXPECT_EQ(DecodeFrame(ForgeFrame(1, 0, 5, 4), 0, kMax).error,
            FrameError::kNone);
  EXPECT_EQ(DecodeFrame(ForgeFrame(1, 1, 5, 4), 0, kMax).error,
            FrameError::kReservedNotZero);
  EXPECT_EQ(DecodeFrame(ForgeFrame(0, 0, 5, 4), 0, kMax).error,
            FrameError::kUnknownType);
  EXPECT_EQ(
      DecodeFrame(ForgeFrame(kWalRecordTypeMax + 1, 0, 5, 4), 0, kMax).error,
      FrameError::kUnknownType);
  EXPECT_EQ(DecodeFrame(ForgeFrame(1, 0, 0, 0), 0, kMax).error,
            FrameError::kBadLsn);
  EXPECT_EQ(DecodeFrame(ForgeFrame(1, 0, 5, 5), 0, kMax).error,
            FrameError::kBadLsn);
}

TEST(FrameTest, PlausibleHeaderFiltersOnLsnRange) {
  std::string bytes;
  AppendFrame(WalRecordType::kEntries, 10, 8, "x", &bytes);
  EXPECT_TRUE(FrameHeaderPlausible(bytes, 0, kMax, 10, 10, 8));
  EXPECT_FALSE(FrameHeaderPlausible(bytes, 0, kMax, 11, 20, 0));
  EXPECT_FALSE(FrameHeaderPlausible(bytes, 0, kMax, 1, 9, 0));
  EXPECT_FALSE(FrameHeaderPlausible(bytes, 0, kMax, 1, 20, 9));
}

RC_GTEST_PROP(FrameProperty, AnySequenceOfFramesDecodesBackInOrder,
              (const std::vector<std::string>& payloads)) {
  std::string bytes;
  uint64_t lsn = 1;
  for (const std::string& payload : payloads) {
    AppendFrame(WalRecordType::kEntries, lsn, lsn - 1, payload, &bytes);
    ++lsn;
  }
  uint64_t offset = 0;
  for (size_t i = 0; i < payloads.size(); ++i) {
    const DecodedFrame frame = DecodeFrame(bytes, offset, kMax);
    RC_ASSERT(frame.error == FrameError::kNone);
    RC_ASSERT(frame.lsn == i + 1);
    RC_ASSERT(std::string(frame.payload) == payloads[i]);
    offset += frame.frame_bytes;
  }
  RC_ASSERT(offset == bytes.size());
}

RC_GTEST_PROP(FrameProperty, AnySingleByteChangeIsDetected,
              (const std::string& payload, uint8_t mask)) {
  RC_PRE(mask != 0);
  std::string bytes;
  AppendFrame(WalRecordType::kEntries, 3, 2, payload, &bytes);
  const size_t at = *rc::gen::inRange<size_t>(0, bytes.size());
  bytes[at] = static_cast<char>(bytes[at] ^ mask);
  RC_ASSERT(DecodeFrame(bytes, 0, kMax).error != FrameError::kNone);
}

}  // namespace
}  // namespace raftstore::storage
