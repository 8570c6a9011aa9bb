#include "core/storage/testing/disk_conformance.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace raftstore::storage {

std::string DiskFactoryName(const ::testing::TestParamInfo<DiskFactory>& info) {
  return info.param.name;
}

void DiskConformanceTest::SetUp() {
  disk_ = GetParam().make();
  ASSERT_NE(disk_, nullptr);
}

namespace {

using ::absl::StatusCode;

// Fails unless `status` has `code` and its message names `name` (quoted or
// not: the contract is that the file is named).
void ExpectError(const absl::Status& status, StatusCode code,
                 const std::string& name) {
  EXPECT_EQ(status.code(), code) << status;
  EXPECT_NE(status.message().find(name), absl::string_view::npos)
      << "the message does not name " << name << ": " << status;
}

std::string ReadAll(Disk& disk, const std::string& name) {
  absl::StatusOr<std::string> data = disk.Read(name, 0, ~uint64_t{0});
  EXPECT_TRUE(data.ok()) << data.status();
  return data.ok() ? *data : std::string();
}

std::vector<std::string> ListOrDie(Disk& disk) {
  absl::StatusOr<std::vector<std::string>> names = disk.List();
  EXPECT_TRUE(names.ok()) << names.status();
  return names.ok() ? *names : std::vector<std::string>();
}

// Every byte value, so that no implementation treats data as text.
std::string AllBytes(size_t length) {
  std::string out(length, '\0');
  for (size_t i = 0; i < length; ++i) {
    out[i] = static_cast<char>((i * 131 + i / 256) % 256);
  }
  return out;
}

TEST_P(DiskConformanceTest, StartsEmpty) {
  EXPECT_TRUE(ListOrDie(disk()).empty());
  EXPECT_TRUE(disk().SyncDir().ok());
}

TEST_P(DiskConformanceTest, CreateMakesAnEmptyFile) {
  ASSERT_TRUE(disk().Create("wal-1").ok());
  EXPECT_EQ(ListOrDie(disk()), std::vector<std::string>{"wal-1"});
  EXPECT_EQ(*disk().Size("wal-1"), 0u);
  EXPECT_EQ(ReadAll(disk(), "wal-1"), "");
  EXPECT_TRUE(disk().Sync("wal-1").ok());
  EXPECT_TRUE(disk().SyncDir().ok());
}

TEST_P(DiskConformanceTest, CreateOfAnExistingNameIsAlreadyExists) {
  ASSERT_TRUE(disk().Create("f").ok());
  ASSERT_TRUE(disk().Append("f", "keep").ok());
  ExpectError(disk().Create("f"), StatusCode::kAlreadyExists, "f");
  EXPECT_EQ(ReadAll(disk(), "f"), "keep");
}

TEST_P(DiskConformanceTest, AppendsAreReadBackInOrder) {
  ASSERT_TRUE(disk().Create("f").ok());
  ASSERT_TRUE(disk().Append("f", "hello ").ok());
  ASSERT_TRUE(disk().Append("f", "").ok());
  ASSERT_TRUE(disk().Append("f", "world").ok());
  EXPECT_EQ(*disk().Size("f"), 11u);
  EXPECT_EQ(ReadAll(disk(), "f"), "hello world");
  ASSERT_TRUE(disk().Sync("f").ok());
  EXPECT_EQ(ReadAll(disk(), "f"), "hello world");
}

TEST_P(DiskConformanceTest, ReadsByOffsetAndStopAtTheEnd) {
  ASSERT_TRUE(disk().Create("f").ok());
  ASSERT_TRUE(disk().Append("f", "0123456789").ok());
  EXPECT_EQ(*disk().Read("f", 3, 4), "3456");
  EXPECT_EQ(*disk().Read("f", 8, 100), "89");  // short only at the end
  EXPECT_EQ(*disk().Read("f", 10, 5), "");     // at the end: empty
  EXPECT_EQ(*disk().Read("f", 0, 0), "");
  ExpectError(disk().Read("f", 11, 1).status(), StatusCode::kOutOfRange, "f");
}

TEST_P(DiskConformanceTest, BinaryDataAcrossManySectorsRoundTrips) {
  const std::string data = AllBytes(300'000);
  ASSERT_TRUE(disk().Create("big").ok());
  // Uneven pieces, so appends straddle every sector and page boundary.
  for (size_t at = 0; at < data.size();) {
    const size_t piece = std::min<size_t>(data.size() - at, 7'919);
    ASSERT_TRUE(disk().Append("big", data.substr(at, piece)).ok());
    at += piece;
  }
  ASSERT_TRUE(disk().Sync("big").ok());
  EXPECT_EQ(*disk().Size("big"), data.size());
  EXPECT_EQ(ReadAll(disk(), "big"), data);
  EXPECT_EQ(*disk().Read("big", 4'095, 8'194), data.substr(4'095, 8'194));
}

TEST_P(DiskConformanceTest, ListIsSortedBytewise) {
  const std::vector<std::string> names = {"b", "a",    "B",   "a.1",
                                          "0", "\xff", "a-1", "Z9"};
  for (const std::string& name : names) ASSERT_TRUE(disk().Create(name).ok());
  std::vector<std::string> expected = names;
  std::sort(expected.begin(), expected.end());  // bytewise (char_traits)
  EXPECT_EQ(ListOrDie(disk()), expected);
}

TEST_P(DiskConformanceTest, RenameMovesTheFile) {
  ASSERT_TRUE(disk().Create("tmp").ok());
  ASSERT_TRUE(disk().Append("tmp", "data").ok());
  ASSERT_TRUE(disk().Rename("tmp", "final").ok());
  EXPECT_EQ(ListOrDie(disk()), std::vector<std::string>{"final"});
  EXPECT_EQ(ReadAll(disk(), "final"), "data");
  ExpectError(disk().Size("tmp").status(), StatusCode::kNotFound, "tmp");
  EXPECT_TRUE(disk().SyncDir().ok());
}

TEST_P(DiskConformanceTest, RenameReplacesAnExistingTarget) {
  ASSERT_TRUE(disk().Create("CURRENT").ok());
  ASSERT_TRUE(disk().Append("CURRENT", "old and longer").ok());
  ASSERT_TRUE(disk().Create("CURRENT.tmp").ok());
  ASSERT_TRUE(disk().Append("CURRENT.tmp", "new").ok());
  ASSERT_TRUE(disk().Sync("CURRENT.tmp").ok());
  ASSERT_TRUE(disk().Rename("CURRENT.tmp", "CURRENT").ok());
  EXPECT_EQ(ListOrDie(disk()), std::vector<std::string>{"CURRENT"});
  EXPECT_EQ(ReadAll(disk(), "CURRENT"), "new");
  EXPECT_EQ(*disk().Size("CURRENT"), 3u);
}

TEST_P(DiskConformanceTest, RenameOfAMissingFileIsNotFound) {
  ExpectError(disk().Rename("ghost", "other"), StatusCode::kNotFound, "ghost");
  EXPECT_TRUE(ListOrDie(disk()).empty());
}

TEST_P(DiskConformanceTest, RenameOntoItselfChangesNothing) {
  ASSERT_TRUE(disk().Create("f").ok());
  ASSERT_TRUE(disk().Append("f", "x").ok());
  ASSERT_TRUE(disk().Rename("f", "f").ok());
  EXPECT_EQ(ReadAll(disk(), "f"), "x");
}

TEST_P(DiskConformanceTest, RemoveDeletesAndTheNameCanBeReused) {
  ASSERT_TRUE(disk().Create("f").ok());
  ASSERT_TRUE(disk().Append("f", "x").ok());
  ASSERT_TRUE(disk().Remove("f").ok());
  EXPECT_TRUE(ListOrDie(disk()).empty());
  ExpectError(disk().Remove("f"), StatusCode::kNotFound, "f");
  ASSERT_TRUE(disk().Create("f").ok());
  EXPECT_EQ(*disk().Size("f"), 0u);
  EXPECT_TRUE(disk().SyncDir().ok());
}

TEST_P(DiskConformanceTest, TruncateCutsTheTailAndAppendsContinueThere) {
  ASSERT_TRUE(disk().Create("f").ok());
  ASSERT_TRUE(disk().Append("f", "0123456789").ok());
  ASSERT_TRUE(disk().Sync("f").ok());
  ASSERT_TRUE(disk().Truncate("f", 4).ok());
  EXPECT_EQ(*disk().Size("f"), 4u);
  ASSERT_TRUE(disk().Append("f", "xy").ok());
  ASSERT_TRUE(disk().Sync("f").ok());
  EXPECT_EQ(ReadAll(disk(), "f"), "0123xy");
  ASSERT_TRUE(disk().Truncate("f", 6).ok());  // to its own size: no change
  ASSERT_TRUE(disk().Truncate("f", 0).ok());
  EXPECT_EQ(ReadAll(disk(), "f"), "");
}

TEST_P(DiskConformanceTest, TruncateBeyondTheSizeIsInvalidArgument) {
  ASSERT_TRUE(disk().Create("f").ok());
  ASSERT_TRUE(disk().Append("f", "abc").ok());
  ExpectError(disk().Truncate("f", 4), StatusCode::kInvalidArgument, "f");
  EXPECT_EQ(ReadAll(disk(), "f"), "abc");
}

TEST_P(DiskConformanceTest, OperationsOnAMissingFileAreNotFound) {
  const std::string name = "missing-file";
  ExpectError(disk().Append(name, "x"), StatusCode::kNotFound, name);
  ExpectError(disk().Read(name, 0, 1).status(), StatusCode::kNotFound, name);
  ExpectError(disk().Sync(name), StatusCode::kNotFound, name);
  ExpectError(disk().Truncate(name, 0), StatusCode::kNotFound, name);
  ExpectError(disk().Remove(name), StatusCode::kNotFound, name);
  ExpectError(disk().Size(name).status(), StatusCode::kNotFound, name);
  EXPECT_TRUE(ListOrDie(disk()).empty());
}

TEST_P(DiskConformanceTest, MalformedNamesAreInvalidArgument) {
  ASSERT_TRUE(disk().Create("ok").ok());
  for (const std::string& bad :
       {std::string(), std::string("."), std::string(".."),
        std::string("dir/file"), std::string("nul\0byte", 8),
        std::string(kFileNameBytesMax + 1, 'n')}) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(disk().Create(bad).code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(disk().Append(bad, "x").code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(disk().Read(bad, 0, 1).status().code(),
              StatusCode::kInvalidArgument);
    EXPECT_EQ(disk().Sync(bad).code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(disk().Truncate(bad, 0).code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(disk().Rename(bad, "ok").code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(disk().Rename("ok", bad).code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(disk().Remove(bad).code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(disk().Size(bad).status().code(), StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(ListOrDie(disk()), std::vector<std::string>{"ok"});
}

TEST_P(DiskConformanceTest, LongestValidNameWorks) {
  const std::string name(kFileNameBytesMax, 'n');
  ASSERT_TRUE(disk().Create(name).ok());
  ASSERT_TRUE(disk().Append(name, "x").ok());
  EXPECT_EQ(ListOrDie(disk()), std::vector<std::string>{name});
}

TEST_P(DiskConformanceTest, FilesAreIndependent) {
  for (int i = 0; i < 20; ++i) {
    const std::string name = "seg-" + std::to_string(100 + i);
    ASSERT_TRUE(disk().Create(name).ok());
    ASSERT_TRUE(disk().Append(name, std::string(i + 1, 'a' + i)).ok());
  }
  ASSERT_TRUE(disk().SyncDir().ok());
  for (int i = 0; i < 20; ++i) {
    const std::string name = "seg-" + std::to_string(100 + i);
    EXPECT_EQ(ReadAll(disk(), name), std::string(i + 1, 'a' + i));
  }
  EXPECT_EQ(ListOrDie(disk()).size(), 20u);
}

}  // namespace
}  // namespace raftstore::storage
