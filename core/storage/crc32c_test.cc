#include "core/storage/crc32c.h"

#include <string>

#include "gtest/gtest.h"

namespace raftstore::storage {
namespace {

// Check values from RFC 3720 (iSCSI), appendix B.4, and the common "123456789"
// check value of CRC-32C.
TEST(Crc32cTest, MatchesPublishedCheckValues) {
  EXPECT_EQ(Crc32c("123456789"), 0xe3069283U);
  EXPECT_EQ(Crc32c(std::string(32, '\0')), 0x8a9136aaU);
  EXPECT_EQ(Crc32c(std::string(32, '\xff')), 0x62a8ab43U);
  std::string ascending;
  for (int i = 0; i < 32; ++i) ascending.push_back(static_cast<char>(i));
  EXPECT_EQ(Crc32c(ascending), 0x46dd794eU);
}

TEST(Crc32cTest, EmptyInputIsZero) { EXPECT_EQ(Crc32c(""), 0U); }

TEST(Crc32cTest, ExtendEqualsWholeComputation) {
  const std::string data = "hello, durable world";
  for (size_t split = 0; split <= data.size(); ++split) {
    const uint32_t first = Crc32c(std::string_view(data).substr(0, split));
    EXPECT_EQ(Crc32cExtend(first, std::string_view(data).substr(split)),
              Crc32c(data))
        << "split at " << split;
  }
}

TEST(Crc32cTest, DetectsSingleBitFlip) {
  std::string data(100, 'x');
  const uint32_t clean = Crc32c(data);
  data[37] ^= 0x04;
  EXPECT_NE(Crc32c(data), clean);
}

TEST(Crc32cTest, MaskRoundTripsAndChangesValue) {
  for (const uint32_t crc : {0U, 1U, 0xe3069283U, 0xffffffffU}) {
    EXPECT_NE(MaskCrc(crc), crc);
    EXPECT_EQ(UnmaskCrc(MaskCrc(crc)), crc);
  }
}

}  // namespace
}  // namespace raftstore::storage
