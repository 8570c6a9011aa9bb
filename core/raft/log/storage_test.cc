#include "core/raft/log/storage.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "proto/raft.pb.h"

namespace raftstore::raft {
namespace {

Entry MakeEntry(uint64_t index, uint64_t term, size_t data_bytes = 0) {
  Entry entry;
  entry.set_index(index);
  entry.set_term(term);
  entry.set_data(std::string(data_bytes, 'x'));
  return entry;
}

TEST(StorageErrorsTest, CompactedIsOutOfRangeAndRecognised) {
  const absl::Status status = CompactedError("Term(3), first index 5");
  EXPECT_EQ(status.code(), absl::StatusCode::kOutOfRange);
  EXPECT_TRUE(IsCompacted(status));
  EXPECT_FALSE(IsLogUnavailable(status));
  EXPECT_FALSE(IsSnapshotTemporarilyUnavailable(status));
  EXPECT_FALSE(IsSnapshotOutOfDate(status));
  EXPECT_NE(status.message().find("Term(3)"), absl::string_view::npos);
}

TEST(StorageErrorsTest, UnavailableIsUnavailableAndRecognised) {
  const absl::Status status = LogUnavailableError();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(IsLogUnavailable(status));
  EXPECT_FALSE(IsCompacted(status));
  EXPECT_FALSE(IsSnapshotTemporarilyUnavailable(status));
}

TEST(StorageErrorsTest, SnapshotTemporarilyUnavailableIsNotLogUnavailable) {
  // Both use kUnavailable; the prefix keeps them apart.
  const absl::Status status = SnapshotTemporarilyUnavailableError("building");
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(IsSnapshotTemporarilyUnavailable(status));
  EXPECT_FALSE(IsLogUnavailable(status));
}

TEST(StorageErrorsTest, SnapshotOutOfDateIsFailedPrecondition) {
  const absl::Status status = SnapshotOutOfDateError();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(IsSnapshotOutOfDate(status));
  EXPECT_FALSE(IsCompacted(status));
}

TEST(StorageErrorsTest, SameCodeWithoutThePrefixIsNotRecognised) {
  EXPECT_FALSE(IsCompacted(absl::OutOfRangeError("disk read past end")));
  EXPECT_FALSE(IsLogUnavailable(absl::UnavailableError("disk busy")));
  EXPECT_FALSE(IsCompacted(absl::OkStatus()));
  EXPECT_FALSE(IsLogUnavailable(absl::OkStatus()));
}

TEST(EntryBytesTest, IsTheSerialisedSize) {
  const Entry entry = MakeEntry(7, 3, 100);
  EXPECT_EQ(EntryBytes(entry), entry.ByteSizeLong());
  EXPECT_GT(EntryBytes(entry), 100u);
}

TEST(CountWithinBytesTest, EmptyCountsZero) {
  EXPECT_EQ(CountWithinBytes({}, kNoBytesLimit), 0u);
  EXPECT_EQ(CountWithinBytes({}, 0), 0u);
}

TEST(CountWithinBytesTest, NoLimitCountsAll) {
  const std::vector<Entry> entries = {MakeEntry(1, 1, 10), MakeEntry(2, 1, 10),
                                      MakeEntry(3, 1, 10)};
  EXPECT_EQ(CountWithinBytes(entries, kNoBytesLimit), 3u);
}

TEST(CountWithinBytesTest, FirstEntryCountsEvenIfOverLimit) {
  const std::vector<Entry> entries = {MakeEntry(1, 1, 50), MakeEntry(2, 1, 1)};
  EXPECT_EQ(CountWithinBytes(entries, 0), 1u);
  EXPECT_EQ(CountWithinBytes(entries, 10), 1u);
}

TEST(CountWithinBytesTest, StopsBeforeTheEntryThatWouldExceed) {
  const std::vector<Entry> entries = {MakeEntry(1, 1, 10), MakeEntry(2, 1, 10),
                                      MakeEntry(3, 1, 10)};
  const uint64_t one = EntryBytes(entries[0]);
  EXPECT_EQ(CountWithinBytes(entries, 2 * one - 1), 1u);
  EXPECT_EQ(CountWithinBytes(entries, 2 * one), 2u);
  EXPECT_EQ(CountWithinBytes(entries, 3 * one - 1), 2u);
  EXPECT_EQ(CountWithinBytes(entries, 3 * one), 3u);
}

}  // namespace
}  // namespace raftstore::raft
