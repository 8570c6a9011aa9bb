#include "core/storage/disk.h"

#include <string>

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace raftstore::storage {
namespace {

TEST(ValidateFileNameTest, AcceptsPlainNames) {
  EXPECT_TRUE(ValidateFileName("wal-0000000001.log").ok());
  EXPECT_TRUE(ValidateFileName("CURRENT").ok());
  EXPECT_TRUE(ValidateFileName(std::string(kFileNameBytesMax, 'a')).ok());
}

TEST(ValidateFileNameTest, RejectsEmptyLongDirectoryAndSlashNames) {
  for (const std::string& bad :
       {std::string(), std::string(kFileNameBytesMax + 1, 'a'),
        std::string("."), std::string(".."), std::string("a/b"),
        std::string("a\0b", 3)}) {
    const absl::Status status = ValidateFileName(bad);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace raftstore::storage
