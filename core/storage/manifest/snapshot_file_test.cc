#include "core/storage/manifest/snapshot_file.h"

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/base/rng.h"
#include "core/storage/manifest/crash_point_disk.h"
#include "core/storage/manifest/frame.h"
#include "core/storage/manifest/manifest_format.h"
#include "gtest/gtest.h"
#include "rapidcheck/gtest.h"
#include "sim/disk.h"

namespace raftstore::storage {
namespace {

using manifest::SnapshotFileHeader;

constexpr char kName[] = "snap-7-3-120.snap";

SnapshotFileHeader MakeHeader(uint64_t region_id = 7, uint64_t index = 120) {
  SnapshotFileHeader header;
  header.set_region_id(region_id);
  raft::SnapshotMetadata* metadata = header.mutable_metadata();
  metadata->set_format_version(kSnapshotMetadataFormatVersion);
  metadata->set_index(index);
  metadata->set_term(3);
  metadata->mutable_conf_state()->add_voters(71);
  metadata->mutable_conf_state()->add_voters(72);
  header.mutable_region()->set_id(region_id);
  header.mutable_region()->set_start_key("b");
  header.mutable_region()->set_end_key("q");
  return header;
}

const std::vector<std::string>& Chunks() {
  static const auto* chunks = new std::vector<std::string>{
      "first chunk", "", std::string(300, 'x'), "last"};
  return *chunks;
}

sim::SimDiskOptions DiskOptions() {
  sim::SimDiskOptions options;
  options.sector_bytes = 64;
  return options;
}

class SnapshotFileTest : public ::testing::Test {
 protected:
  absl::Status Write(const std::string& name, const SnapshotFileHeader& header,
                     const std::vector<std::string>& chunks) {
    return WriteSnapshotFile(&disk_, name, header, chunks, options_);
  }
  std::string ReadAll(const std::string& name) {
    absl::StatusOr<std::string> bytes = disk_.Read(name, 0, ~uint64_t{0});
    EXPECT_TRUE(bytes.ok()) << bytes.status();
    return bytes.ok() ? *bytes : "";
  }
  void Replace(const std::string& name, const std::string& bytes) {
    ASSERT_TRUE(disk_.Remove(name).ok());
    ASSERT_TRUE(disk_.Create(name).ok());
    ASSERT_TRUE(disk_.Append(name, bytes).ok());
  }
  absl::Status ReadError(const std::string& name) {
    return ReadSnapshotFile(&disk_, name, options_).status();
  }

  sim::SimDisk disk_{DiskOptions(), Rng(3)};
  SnapshotFileOptions options_;
};

TEST(SnapshotFileNameTest, NamesRoundTrip) {
  const SnapshotFileId id{7, 3, 120};
  EXPECT_EQ(SnapshotFileName(id), "snap-7-3-120.snap");
  EXPECT_EQ(ParseSnapshotFileName("snap-7-3-120.snap"), id);
  const uint64_t max = ~uint64_t{0};
  EXPECT_EQ(ParseSnapshotFileName(SnapshotFileName({max, max, max})),
            (SnapshotFileId{max, max, max}));
  EXPECT_LT((SnapshotFileId{7, 3, 120}), (SnapshotFileId{7, 4, 1}));
}

TEST(SnapshotFileNameTest, OtherNamesAreNotSnapshots) {
  for (const char* name :
       {"snap-7-3-120.snap.tmp", "snap-7-3.snap", "snap-7-3-120-1.snap",
        "snap-07-3-120.snap", "snap-7--120.snap", "snap-7-3-x.snap",
        "snap-.snap", "snap-7-3-120", "SNAP-7-3-120.snap",
        "snap-18446744073709551616-1-1.snap", "MANIFEST-000001"}) {
    EXPECT_FALSE(ParseSnapshotFileName(name).has_value()) << name;
  }
}

TEST_F(SnapshotFileTest, RoundTripsAndIsDurableUnderItsName) {
  ASSERT_TRUE(Write(kName, MakeHeader(), Chunks()).ok());
  EXPECT_EQ(disk_.DurableList(), std::vector<std::string>{kName});
  EXPECT_FALSE(disk_.HasUnsyncedData());
  absl::StatusOr<SnapshotFile> file = ReadSnapshotFile(&disk_, kName, options_);
  ASSERT_TRUE(file.ok()) << file.status();
  const SnapshotFileHeader& header = file->header();
  EXPECT_EQ(header.format_version(), kSnapshotFileFormatVersion);
  EXPECT_EQ(header.chunk_count(), 4U);
  EXPECT_EQ(header.total_bytes(), 315U);
  EXPECT_EQ(header.metadata().index(), 120U);
  EXPECT_EQ(header.metadata().conf_state().voters_size(), 2);
  EXPECT_EQ(header.region().end_key(), "q");
  ASSERT_EQ(file->chunk_count(), Chunks().size());
  for (size_t i = 0; i < Chunks().size(); ++i) {
    EXPECT_EQ(file->chunk(i), Chunks()[i]) << i;
  }
}

TEST_F(SnapshotFileTest, AnEmptyStateHasNoChunks) {
  ASSERT_TRUE(Write(kName, MakeHeader(), {}).ok());
  absl::StatusOr<SnapshotFile> file = ReadSnapshotFile(&disk_, kName, options_);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->chunk_count(), 0U);
}

TEST_F(SnapshotFileTest, AWriteReplacesAnOlderFileOfTheSameName) {
  ASSERT_TRUE(Write(kName, MakeHeader(), {"old"}).ok());
  ASSERT_TRUE(Write(kName, MakeHeader(), {"new", "er"}).ok());
  absl::StatusOr<SnapshotFile> file = ReadSnapshotFile(&disk_, kName, options_);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->chunk_count(), 2U);
  EXPECT_EQ(file->chunk(0), "new");
}

TEST_F(SnapshotFileTest, InvalidInputIsRefusedAndNothingIsWritten) {
  std::vector<SnapshotFileHeader> headers(5, MakeHeader());
  headers[0].set_region_id(0);
  headers[0].mutable_region()->set_id(0);
  headers[1].mutable_region()->set_id(8);
  headers[2].mutable_metadata()->set_format_version(0);
  headers[3].mutable_metadata()->set_index(0);
  headers[4].mutable_region()->set_start_key(
      std::string(kSnapshotFileHeaderBytesMax, 'k'));
  for (const SnapshotFileHeader& header : headers) {
    EXPECT_EQ(Write(kName, header, Chunks()).code(),
              absl::StatusCode::kInvalidArgument);
  }
  options_.chunk_bytes_max = 299;
  EXPECT_EQ(Write(kName, MakeHeader(), Chunks()).code(),
            absl::StatusCode::kInvalidArgument);
  options_ = SnapshotFileOptions{};
  options_.chunk_count_max = 3;
  EXPECT_EQ(Write(kName, MakeHeader(), Chunks()).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Write("a/b", MakeHeader(), Chunks()).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(disk_.List()->empty());
}

TEST_F(SnapshotFileTest, EveryTruncationIsDataLossNamingTheFile) {
  ASSERT_TRUE(Write(kName, MakeHeader(), Chunks()).ok());
  const std::string good = ReadAll(kName);
  for (size_t size = 0; size < good.size(); ++size) {
    Replace(kName, good.substr(0, size));
    const absl::Status status = ReadError(kName);
    EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << size;
    EXPECT_TRUE(absl::StartsWith(status.message(), kName)) << status;
  }
  Replace(kName, good + "x");
  EXPECT_EQ(ReadError(kName).code(), absl::StatusCode::kDataLoss);
}

TEST_F(SnapshotFileTest, EveryFlippedByteIsDataLossNamingTheFile) {
  ASSERT_TRUE(Write(kName, MakeHeader(), Chunks()).ok());
  const std::string good = ReadAll(kName);
  for (size_t at = 0; at < good.size(); ++at) {
    std::string bad = good;
    bad[at] = static_cast<char>(bad[at] ^ 0x10);
    Replace(kName, bad);
    const absl::Status status = ReadError(kName);
    EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << at;
    EXPECT_TRUE(absl::StartsWith(status.message(), kName)) << status;
  }
}

TEST_F(SnapshotFileTest, DamageIsReportedAtTheDamagedPart) {
  ASSERT_TRUE(Write(kName, MakeHeader(), Chunks()).ok());
  const std::string good = ReadAll(kName);
  const uint64_t header_length = GetFixed32(good.substr(kPreambleBytes, 4));
  const uint64_t first_chunk = kPreambleBytes + FrameBytes(header_length);
  const uint64_t third_chunk =
      first_chunk + FrameBytes(Chunks()[0].size()) + FrameBytes(0);
  const uint64_t footer = good.size() - kSnapshotFileFooterBytes;
  struct Case {
    uint64_t flip_at;
    std::string expected;
  };
  for (const Case& c : std::vector<Case>{
           {0, absl::StrCat(kName, " at offset 0: wrong magic")},
           {kPreambleBytes + 12, absl::StrCat(kName, " at offset 16: header")},
           {third_chunk + 100,
            absl::StrCat(kName, " at offset ", third_chunk, ": chunk 2")},
           {footer + 2,
            absl::StrCat(kName, " at offset ", footer, ": wrong footer")},
           {footer + 9, absl::StrCat(kName, " at offset ", footer + 8,
                                     ": file checksum")}}) {
    std::string bad = good;
    bad[c.flip_at] = static_cast<char>(bad[c.flip_at] ^ 0x01);
    Replace(kName, bad);
    const absl::Status status = ReadError(kName);
    EXPECT_TRUE(absl::StartsWith(status.message(), c.expected))
        << c.expected << " vs " << status;
  }
}

TEST_F(SnapshotFileTest, ANewerFormatVersionIsFailedPrecondition) {
  ASSERT_TRUE(Write(kName, MakeHeader(), Chunks()).ok());
  const std::string good = ReadAll(kName);
  Replace(kName,
          EncodePreamble(kSnapshotFileMagic, kSnapshotFileFormatVersion + 1) +
              good.substr(kPreambleBytes));
  const absl::Status status = ReadError(kName);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StartsWith(status.message(), kName)) << status;
}

TEST_F(SnapshotFileTest, ReadRefusesFilesOverTheBoundAndMissingFiles) {
  ASSERT_TRUE(Write(kName, MakeHeader(), Chunks()).ok());
  options_.file_bytes_max = 100;
  EXPECT_EQ(ReadError(kName).code(), absl::StatusCode::kDataLoss);
  options_.file_bytes_max = 1 << 20;
  options_.chunk_bytes_max = 299;  // the third chunk is 300 bytes
  EXPECT_EQ(ReadError(kName).code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(ReadError("snap-1-1-1.snap").code(), absl::StatusCode::kNotFound);
}

TEST_F(SnapshotFileTest, AFailedWriteRemovesItsTemporaryFileAndKeepsTheOld) {
  ASSERT_TRUE(Write(kName, MakeHeader(), {"old"}).ok());
  disk_.SetCapacityBytes(disk_.UsedBytes() + 100);
  EXPECT_EQ(Write(kName, MakeHeader(), Chunks()).code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(*disk_.List(), std::vector<std::string>{kName});
  absl::StatusOr<SnapshotFile> file = ReadSnapshotFile(&disk_, kName, options_);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->chunk(0), "old");
}

// A crash at every point of a publish, with any subset of the unsynced
// sectors and directory operations kept: the name holds the old file or the
// whole new one, never part of the new one, and never an error.
TEST(SnapshotFileCrashTest, ACrashDuringPublishLeavesTheOldFileOrTheNew) {
  const SnapshotFileOptions options;
  for (uint64_t budget = 0; budget < 12; ++budget) {
    for (uint64_t seed = 0; seed < 20; ++seed) {
      for (const bool had_old : {false, true}) {
        sim::SimDisk disk(DiskOptions(), Rng(seed));
        if (had_old) {
          const std::vector<std::string> old = {"old"};
          ASSERT_TRUE(
              WriteSnapshotFile(&disk, kName, MakeHeader(), old, options).ok());
        }
        CrashPointDisk crash_disk(&disk, budget);
        const bool acked = WriteSnapshotFile(&crash_disk, kName, MakeHeader(),
                                             Chunks(), options)
                               .ok();
        disk.Crash();
        absl::StatusOr<SnapshotFile> file =
            ReadSnapshotFile(&disk, kName, options);
        const std::string where =
            absl::StrCat("budget ", budget, " seed ", seed, " old ", had_old);
        if (!file.ok()) {
          EXPECT_TRUE(absl::IsNotFound(file.status())) << where;
          EXPECT_FALSE(had_old || acked) << where;
        } else if (file->chunk_count() == 1) {
          EXPECT_TRUE(had_old && !acked) << where;
          EXPECT_EQ(file->chunk(0), "old") << where;
        } else {
          EXPECT_EQ(file->chunk_count(), Chunks().size()) << where;
        }
        // What a crash left behind is cleaned up.
        ASSERT_TRUE(RemoveStaleSnapshotFiles(&disk, {kName}).ok());
        const absl::StatusOr<std::vector<std::string>> names = disk.List();
        ASSERT_TRUE(names.ok());
        for (const std::string& name : *names) {
          EXPECT_EQ(name, kName) << where;
        }
      }
    }
  }
}

TEST_F(SnapshotFileTest, RemoveStaleKeepsOnlyWhatItIsToldAndOtherFiles) {
  for (const char* name :
       {"snap-7-3-120.snap", "snap-7-3-100.snap", "snap-8-1-5.snap",
        "snap-8-1-6.snap.tmp", "snap-7-3-120.snap.tmp", "MANIFEST-000001",
        "snap-notes.txt", "x.tmp"}) {
    ASSERT_TRUE(disk_.Create(name).ok());
  }
  absl::StatusOr<std::vector<std::string>> removed = RemoveStaleSnapshotFiles(
      &disk_, {"snap-7-3-120.snap", "snap-9-1-1.snap"});
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_EQ(*removed, (std::vector<std::string>{
                          "snap-7-3-100.snap", "snap-7-3-120.snap.tmp",
                          "snap-8-1-5.snap", "snap-8-1-6.snap.tmp"}));
  EXPECT_EQ(*disk_.List(),
            (std::vector<std::string>{"MANIFEST-000001", "snap-7-3-120.snap",
                                      "snap-notes.txt", "x.tmp"}));
  EXPECT_FALSE(disk_.HasUnsyncedData());
}

RC_GTEST_PROP(SnapshotFileProperty, AnyChunksRoundTrip, ()) {
  const auto chunks = *rc::gen::container<std::vector<std::string>>(
      rc::gen::container<std::string>(rc::gen::arbitrary<char>()));
  const auto region_id = *rc::gen::inRange<uint64_t>(1, 1000);
  const auto index = *rc::gen::inRange<uint64_t>(1, 1000000);
  sim::SimDisk disk(DiskOptions(), Rng(1));
  const std::string name = SnapshotFileName({region_id, 1, index});
  RC_ASSERT(WriteSnapshotFile(&disk, name, MakeHeader(region_id, index), chunks,
                              SnapshotFileOptions{})
                .ok());
  absl::StatusOr<SnapshotFile> file =
      ReadSnapshotFile(&disk, name, SnapshotFileOptions{});
  RC_ASSERT(file.ok());
  RC_ASSERT(file->header().region_id() == region_id);
  RC_ASSERT(file->chunk_count() == chunks.size());
  for (size_t i = 0; i < chunks.size(); ++i) {
    RC_ASSERT(file->chunk(i) == chunks[i]);
  }
}

}  // namespace
}  // namespace raftstore::storage
