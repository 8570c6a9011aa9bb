#include "core/storage/manifest/frame.h"

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "core/storage/manifest/manifest_format.h"
#include "gtest/gtest.h"

namespace raftstore::storage {
namespace {

constexpr std::string_view kMagic = "TESTMAGC";

TEST(FrameTest, Fixed32IsLittleEndian) {
  std::string out;
  PutFixed32(&out, 0x04030201U);
  EXPECT_EQ(out, std::string("\x01\x02\x03\x04", 4));
  EXPECT_EQ(GetFixed32(out), 0x04030201U);
}

TEST(FrameTest, PreambleRoundTrips) {
  const std::string preamble = EncodePreamble(kMagic, 3);
  ASSERT_EQ(preamble.size(), kPreambleBytes);
  absl::StatusOr<uint32_t> version =
      DecodePreamble("f", preamble + "trailing", kMagic, 3);
  ASSERT_TRUE(version.ok()) << version.status();
  EXPECT_EQ(*version, 3U);
}

TEST(FrameTest, PreambleWithWrongMagicIsDataLossAtOffsetZero) {
  const absl::StatusOr<uint32_t> version = DecodePreamble(
      "MANIFEST-000001", EncodePreamble("OTHERMGC", 1), kMagic, 1);
  EXPECT_EQ(version.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_TRUE(absl::StrContains(version.status().message(),
                                "MANIFEST-000001 at offset 0"))
      << version.status();
}

TEST(FrameTest, PreambleWithANewerVersionIsFailedPrecondition) {
  const absl::StatusOr<uint32_t> version =
      DecodePreamble("f", EncodePreamble(kMagic, 2), kMagic, 1);
  EXPECT_EQ(version.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(version.status().message(),
                                "f: format "
                                "version 2"));
}

TEST(FrameTest, PreambleVersionZeroIsDataLoss) {
  EXPECT_EQ(
      DecodePreamble("f", EncodePreamble(kMagic, 0), kMagic, 1).status().code(),
      absl::StatusCode::kDataLoss);
}

TEST(FrameTest, EveryFlippedPreambleBitIsDetected) {
  const std::string good = EncodePreamble(kMagic, 1);
  for (size_t byte = 0; byte < good.size(); ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = good;
      bad[byte] = static_cast<char>(bad[byte] ^ (1 << bit));
      EXPECT_FALSE(DecodePreamble("f", bad, kMagic, 1).ok())
          << "byte " << byte << " bit " << bit;
    }
  }
}

TEST(FrameTest, ShortPreambleIsDataLoss) {
  EXPECT_EQ(
      DecodePreamble("f", EncodePreamble(kMagic, 1).substr(0, 15), kMagic, 1)
          .status()
          .code(),
      absl::StatusCode::kDataLoss);
}

TEST(FrameTest, FrameRoundTripsAtAnOffset) {
  std::string bytes = "xyz";
  AppendFrame(&bytes, "hello");
  AppendFrame(&bytes, "");
  ASSERT_EQ(bytes.size(), 3 + FrameBytes(5) + FrameBytes(0));
  const FrameView first = ReadFrame(bytes, 3, 100);
  ASSERT_EQ(first.status, FrameStatus::kOk);
  EXPECT_EQ(first.payload, "hello");
  const FrameView second = ReadFrame(bytes, 3 + FrameBytes(5), 100);
  ASSERT_EQ(second.status, FrameStatus::kOk);
  EXPECT_EQ(second.payload, "");
  EXPECT_EQ(ReadFrame(bytes, bytes.size(), 100).status,
            FrameStatus::kShortHeader);
}

TEST(FrameTest, EveryFlippedFrameBitIsDetected) {
  std::string good;
  AppendFrame(&good, "some payload bytes");
  for (size_t byte = 0; byte < good.size(); ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = good;
      bad[byte] = static_cast<char>(bad[byte] ^ (1 << bit));
      EXPECT_NE(ReadFrame(bad, 0, 1 << 20).status, FrameStatus::kOk)
          << "byte " << byte << " bit " << bit;
    }
  }
}

TEST(FrameTest, TruncationIsShortHeaderOrShortPayload) {
  std::string good;
  AppendFrame(&good, "payload");
  for (size_t size = 0; size < good.size(); ++size) {
    const FrameStatus status = ReadFrame(good.substr(0, size), 0, 100).status;
    EXPECT_EQ(status, size < kFrameHeaderBytes ? FrameStatus::kShortHeader
                                               : FrameStatus::kShortPayload)
        << size;
  }
}

TEST(FrameTest, LengthOverTheBoundIsTooLong) {
  std::string bytes;
  AppendFrame(&bytes, "12345");
  const FrameView frame = ReadFrame(bytes, 0, 4);
  EXPECT_EQ(frame.status, FrameStatus::kTooLong);
  EXPECT_EQ(frame.length, 5U);
}

// A zeroed sector (a hole left by a crash) must never read as a frame.
TEST(FrameTest, AllZeroFrameHeaderDoesNotCheckOut) {
  const std::string zeros(kFrameHeaderBytes, '\0');
  EXPECT_EQ(ReadFrame(zeros, 0, 100).status, FrameStatus::kBadChecksum);
}

}  // namespace
}  // namespace raftstore::storage
