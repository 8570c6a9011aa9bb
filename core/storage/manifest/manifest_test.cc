#include "core/storage/manifest/manifest.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/base/rng.h"
#include "core/storage/manifest/frame.h"
#include "core/storage/manifest/manifest_codec.h"
#include "core/storage/manifest/manifest_format.h"
#include "core/storage/manifest/manifest_testing.h"
#include "gtest/gtest.h"
#include "sim/disk.h"

namespace raftstore::storage {
namespace {

using manifest::ManifestEdit;
using manifest_testing::IdentEdit;
using manifest_testing::MakeRecord;
using manifest_testing::PutEdit;
using manifest_testing::RemoveEdit;
using sim::SimDisk;
using sim::SimDiskOptions;

// A crash that keeps nothing unsynced: recovery sees only what was synced.
SimDiskOptions DropUnsynced() {
  SimDiskOptions options;
  options.sector_bytes = 64;
  options.crash.sector_keep_ppm = 0;
  options.crash.sector_torn_ppm = 0;
  options.crash.dir_op_keep_ppm = 0;
  options.crash.truncate_keep_ppm = 0;
  return options;
}

class ManifestTest : public ::testing::Test {
 protected:
  std::unique_ptr<Manifest> OpenOrDie(const ManifestOptions& options = {}) {
    absl::StatusOr<std::unique_ptr<Manifest>> manifest =
        Manifest::Open(&disk_, options);
    EXPECT_TRUE(manifest.ok()) << manifest.status();
    return manifest.ok() ? *std::move(manifest) : nullptr;
  }
  absl::Status OpenError(const ManifestOptions& options = {}) {
    return Manifest::Open(&disk_, options).status();
  }
  std::string ReadAll(const std::string& name) {
    absl::StatusOr<std::string> bytes = disk_.Read(name, 0, ~uint64_t{0});
    EXPECT_TRUE(bytes.ok()) << bytes.status();
    return bytes.ok() ? *bytes : "";
  }
  // Replaces `name` with `bytes`, durably.
  void WriteFile(const std::string& name, const std::string& bytes) {
    (void)disk_.Remove(name);
    ASSERT_TRUE(disk_.Create(name).ok());
    ASSERT_TRUE(disk_.Append(name, bytes).ok());
    ASSERT_TRUE(disk_.Sync(name).ok());
    ASSERT_TRUE(disk_.SyncDir().ok());
  }
  // A manifest holding three edits after its full state, closed.
  void WriteThreeEdits() {
    std::unique_ptr<Manifest> manifest = OpenOrDie();
    ASSERT_TRUE(manifest->Apply(IdentEdit(1, 2)).ok());
    ASSERT_TRUE(manifest->Apply(PutEdit(MakeRecord(1, "", "m"))).ok());
    ASSERT_TRUE(manifest->Apply(PutEdit(MakeRecord(2, "m", ""))).ok());
  }

  SimDisk disk_{DropUnsynced(), Rng(7)};
};

TEST_F(ManifestTest, OpenOfAnEmptyDirectoryCreatesADurableEmptyManifest) {
  std::unique_ptr<Manifest> manifest = OpenOrDie();
  EXPECT_TRUE(manifest->regions().empty());
  EXPECT_FALSE(manifest->ident().has_value());
  EXPECT_EQ(manifest->stats().file_number, 1U);
  EXPECT_EQ(disk_.DurableList(),
            (std::vector<std::string>{"CURRENT", "MANIFEST-000001"}));
  EXPECT_EQ(ReadAll("CURRENT"), EncodeCurrentFile(1));
}

TEST_F(ManifestTest, AppliedEditsSurviveACrash) {
  WriteThreeEdits();
  disk_.Crash();
  std::unique_ptr<Manifest> manifest = OpenOrDie();
  ASSERT_EQ(manifest->regions().size(), 2U);
  EXPECT_EQ(manifest->regions().at(1).local_state().region().end_key(), "m");
  EXPECT_EQ(manifest->ident()->store_id(), 2U);
  ASSERT_TRUE(manifest->Apply(RemoveEdit(1)).ok());
  disk_.Crash();
  manifest = OpenOrDie();
  EXPECT_EQ(manifest->regions().size(), 1U);
  EXPECT_TRUE(manifest->regions().contains(2));
}

TEST_F(ManifestTest, RefusedEditsChangeNothingAndDoNotPoison) {
  ManifestOptions options;
  options.regions_max = 2;
  options.edit_bytes_max = 200;
  std::unique_ptr<Manifest> manifest = OpenOrDie(options);
  ASSERT_TRUE(manifest->Apply(PutEdit(MakeRecord(1, "", "b"))).ok());
  ASSERT_TRUE(manifest->Apply(PutEdit(MakeRecord(2, "b", "c"))).ok());
  ManifestEdit full = PutEdit(MakeRecord(3, "", ""));
  full.set_full_state(true);
  EXPECT_EQ(manifest->Apply(full).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(manifest->Apply(RemoveEdit(9)).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(manifest->Apply(PutEdit(MakeRecord(3, "c", ""))).code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(
      manifest->Apply(PutEdit(MakeRecord(2, std::string(300, 'k'), ""))).code(),
      absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(manifest->health().ok());
  EXPECT_EQ(manifest->regions().size(), 2U);
  EXPECT_EQ(manifest->stats().edits_applied, 2U);
  // Replacing an existing region does not grow the catalog.
  EXPECT_TRUE(manifest->Apply(PutEdit(MakeRecord(2, "b", "", 5))).ok());
}

TEST_F(ManifestTest, BadOptionsAreInvalidArgument) {
  for (ManifestOptions options :
       {ManifestOptions{.edit_log_bytes_max = 0},
        ManifestOptions{.edit_log_bytes_max = kManifestFileBytesMax},
        ManifestOptions{.edit_bytes_max = 0},
        ManifestOptions{.regions_max = 0}}) {
    EXPECT_EQ(OpenError(options).code(), absl::StatusCode::kInvalidArgument);
  }
}

TEST_F(ManifestTest, GrowthPastTheBoundRewritesIntoANewFile) {
  ManifestOptions options;
  options.edit_log_bytes_max = 400;
  std::unique_ptr<Manifest> manifest = OpenOrDie(options);
  for (uint64_t i = 1; i <= 40; ++i) {
    ASSERT_TRUE(
        manifest->Apply(PutEdit(MakeRecord(1 + i % 3, "", "", i))).ok());
    const ManifestStats stats = manifest->stats();
    EXPECT_LE(stats.file_bytes, std::max<uint64_t>(400, 2 * stats.base_bytes));
  }
  const ManifestStats stats = manifest->stats();
  EXPECT_GE(stats.rewrites, 5U);
  // Open's creation of MANIFEST-000001 counts as the first rewrite.
  EXPECT_EQ(stats.file_number, stats.rewrites);
  // Only the live file remains, and CURRENT names it.
  const std::string live = ManifestFileName(stats.file_number);
  EXPECT_EQ(*disk_.List(), (std::vector<std::string>{"CURRENT", live}));
  disk_.Crash();
  manifest = OpenOrDie(options);
  EXPECT_EQ(manifest->stats().file_number, stats.file_number);
  EXPECT_EQ(manifest->regions().at(1).log().applied_index(), 39U);
  EXPECT_EQ(manifest->regions().at(2).log().applied_index(), 40U);
}

TEST_F(ManifestTest, CheckIdentRefusesAnotherStoresDirectory) {
  std::unique_ptr<Manifest> manifest = OpenOrDie();
  manifest::StoreIdent mine;
  mine.set_cluster_id(1);
  mine.set_store_id(2);
  EXPECT_TRUE(manifest->CheckIdent(mine).ok());  // no identity yet
  ASSERT_TRUE(manifest->Apply(IdentEdit(1, 2)).ok());
  manifest = OpenOrDie();
  EXPECT_TRUE(manifest->CheckIdent(mine).ok());
  manifest::StoreIdent other = mine;
  other.set_store_id(3);
  const absl::Status status = manifest->CheckIdent(other);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(status.message(), "belongs to store 2"))
      << status;
  EXPECT_EQ(manifest->Apply(IdentEdit(1, 3)).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(ManifestTest, ATornTailIsDroppedAndRecoveryMovesToANewFile) {
  WriteThreeEdits();
  ASSERT_TRUE(
      disk_.Append("MANIFEST-000001", std::string("\x20\x00\x00\x00torn", 8))
          .ok());
  ASSERT_TRUE(disk_.Sync("MANIFEST-000001").ok());
  std::unique_ptr<Manifest> manifest = OpenOrDie();
  EXPECT_EQ(manifest->regions().size(), 2U);
  const ManifestStats stats = manifest->stats();
  EXPECT_EQ(stats.torn_tail_bytes_dropped, 8U);
  EXPECT_EQ(stats.file_number, 2U);
  EXPECT_EQ(*disk_.List(),
            (std::vector<std::string>{"CURRENT", "MANIFEST-000002"}));
  ASSERT_TRUE(manifest->Apply(RemoveEdit(2)).ok());
  manifest = OpenOrDie();
  EXPECT_EQ(manifest->regions().size(), 1U);
  EXPECT_EQ(manifest->stats().torn_tail_bytes_dropped, 0U);
}

TEST_F(ManifestTest, DamageBeforeValidEditsIsDataLossNamingFileAndOffset) {
  WriteThreeEdits();
  const absl::StatusOr<ManifestDump> dump = ReadManifest(&disk_);
  ASSERT_TRUE(dump.ok()) << dump.status();
  ASSERT_EQ(dump->file.edits.size(), 4U);
  const uint64_t second = dump->file.edits[2].offset;
  disk_.CorruptByte("MANIFEST-000001", second + 10);
  const absl::Status status = OpenError();
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_TRUE(absl::StrContains(
      status.message(), absl::StrCat("MANIFEST-000001 at offset ", second)))
      << status;
}

TEST_F(ManifestTest, WrongMagicIsDataLossAndANewerVersionIsRefused) {
  WriteThreeEdits();
  const std::string good = ReadAll("MANIFEST-000001");
  WriteFile("MANIFEST-000001", "XX" + good.substr(2));
  absl::Status status = OpenError();
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_TRUE(absl::StrContains(status.message(), "MANIFEST-000001")) << status;
  WriteFile("MANIFEST-000001",
            EncodePreamble(kManifestMagic, kManifestFormatVersion + 1) +
                good.substr(kPreambleBytes));
  status = OpenError();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(status.message(), "MANIFEST-000001")) << status;
}

TEST_F(ManifestTest, CurrentNamingAMissingFileIsDataLoss) {
  WriteThreeEdits();
  WriteFile("CURRENT", EncodeCurrentFile(5));
  const absl::Status status = OpenError();
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_TRUE(
      absl::StrContains(status.message(), "CURRENT names MANIFEST-000005"))
      << status;
}

TEST_F(ManifestTest, GarbageCurrentIsDataLossNamingCurrent) {
  WriteThreeEdits();
  for (const std::string& bytes :
       {std::string("garbage\n"), std::string(), std::string(100, 'x'),
        EncodeCurrentFile(1).substr(0, 10)}) {
    WriteFile("CURRENT", bytes);
    const absl::Status status = OpenError();
    EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
    EXPECT_TRUE(absl::StrContains(status.message(), "CURRENT")) << status;
  }
}

TEST_F(ManifestTest, LeftoversOfAnInterruptedRewriteAreRemoved) {
  WriteThreeEdits();
  WriteFile("MANIFEST-000009", EncodeNewManifestFile(ManifestState{}));
  WriteFile("CURRENT.tmp", EncodeCurrentFile(9));
  WriteFile("unrelated-file", "kept");
  ManifestOptions options;
  options.edit_log_bytes_max = 1;  // every Apply rewrites
  std::unique_ptr<Manifest> manifest = OpenOrDie(options);
  EXPECT_EQ(manifest->regions().size(), 2U);
  EXPECT_EQ(manifest->stats().stale_files_removed, 2U);
  EXPECT_EQ(*disk_.List(),
            (std::vector<std::string>{"CURRENT", "MANIFEST-000001",
                                      "unrelated-file"}));
  // The next number is past the leftover's, so a leftover that a crash
  // brings back can never be mistaken for a newer file.
  ASSERT_TRUE(manifest->Apply(RemoveEdit(1)).ok());
  EXPECT_EQ(manifest->stats().file_number, 10U);
}

TEST_F(ManifestTest, NoCurrentButAManifestWithStateIsDataLoss) {
  WriteThreeEdits();
  ASSERT_TRUE(disk_.Remove("CURRENT").ok());
  const absl::Status status = OpenError();
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_TRUE(absl::StrContains(status.message(), "MANIFEST-000001")) << status;
}

TEST_F(ManifestTest, NoCurrentAndTheRemainsOfAFirstOpenStartFresh) {
  const std::string empty = EncodeNewManifestFile(ManifestState{});
  WriteFile("MANIFEST-000001", empty.substr(0, 20));
  WriteFile("MANIFEST-000002", empty);
  WriteFile("CURRENT.tmp", EncodeCurrentFile(2));
  std::unique_ptr<Manifest> manifest = OpenOrDie();
  EXPECT_EQ(manifest->stats().file_number, 3U);
  EXPECT_EQ(*disk_.List(),
            (std::vector<std::string>{"CURRENT", "MANIFEST-000003"}));
}

TEST_F(ManifestTest, AFailedApplyPoisonsUntilReopened) {
  std::unique_ptr<Manifest> manifest = OpenOrDie();
  ASSERT_TRUE(manifest->Apply(PutEdit(MakeRecord(1, "", ""))).ok());
  disk_.SetFaults(sim::SimDiskFaults{.io_error_ppm = sim::kPpm});
  EXPECT_EQ(manifest->Apply(PutEdit(MakeRecord(2, "", ""))).code(),
            absl::StatusCode::kUnavailable);
  disk_.SetFaults(sim::SimDiskFaults{});
  const absl::Status again = manifest->Apply(PutEdit(MakeRecord(3, "", "")));
  EXPECT_EQ(again.code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(absl::StrContains(again.message(), "must be reopened")) << again;
  EXPECT_FALSE(manifest->health().ok());
  EXPECT_EQ(manifest->regions().size(), 1U);  // the last acknowledged state
  manifest = OpenOrDie();
  EXPECT_EQ(manifest->regions().size(), 1U);
  EXPECT_TRUE(manifest->Apply(PutEdit(MakeRecord(3, "", ""))).ok());
}

TEST_F(ManifestTest, AFullDiskIsResourceExhaustedAndPoisons) {
  std::unique_ptr<Manifest> manifest = OpenOrDie();
  disk_.SetCapacityBytes(disk_.UsedBytes() + 10);
  EXPECT_EQ(manifest->Apply(PutEdit(MakeRecord(1, "", ""))).code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(manifest->health().code(), absl::StatusCode::kResourceExhausted);
}

TEST_F(ManifestTest, AGarbledWriteFailsTheApplyInsteadOfBeingAcknowledged) {
  std::unique_ptr<Manifest> manifest = OpenOrDie();
  ASSERT_TRUE(manifest->Apply(PutEdit(MakeRecord(1, "", ""))).ok());
  disk_.SetFaults(sim::SimDiskFaults{.write_corruption_ppm = sim::kPpm});
  const absl::Status status = manifest->Apply(PutEdit(MakeRecord(2, "", "")));
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_TRUE(absl::StrContains(status.message(), "read back")) << status;
  disk_.SetFaults(sim::SimDiskFaults{});
  manifest = OpenOrDie();
  EXPECT_EQ(manifest->regions().size(), 1U);
}

// Dropping a torn tail is final, so it must not rest on one bad read of the
// last acknowledged edit.
TEST_F(ManifestTest, UnstableReadsNeverShortenTheCatalog) {
  WriteThreeEdits();
  ASSERT_TRUE(disk_.Append("MANIFEST-000001", "torn").ok());
  ASSERT_TRUE(disk_.Sync("MANIFEST-000001").ok());
  disk_.SetFaults(sim::SimDiskFaults{.read_corruption_ppm = sim::kPpm});
  for (int attempt = 0; attempt < 20; ++attempt) {
    const absl::Status status = OpenError();
    EXPECT_TRUE(status.code() == absl::StatusCode::kUnavailable ||
                status.code() == absl::StatusCode::kDataLoss)
        << status;
  }
  disk_.SetFaults(sim::SimDiskFaults{});
  EXPECT_EQ(OpenOrDie()->regions().size(), 2U);
}

TEST_F(ManifestTest, ReadManifestDumpsEveryEditWithoutChangingAnything) {
  EXPECT_EQ(ReadManifest(&disk_).status().code(), absl::StatusCode::kNotFound);
  WriteThreeEdits();
  ASSERT_TRUE(disk_.Append("MANIFEST-000001", "torn").ok());
  const std::vector<std::string> before = *disk_.List();
  const absl::StatusOr<ManifestDump> dump = ReadManifest(&disk_);
  ASSERT_TRUE(dump.ok()) << dump.status();
  EXPECT_EQ(dump->file_name, "MANIFEST-000001");
  ASSERT_EQ(dump->file.edits.size(), 4U);
  EXPECT_TRUE(dump->file.edits[0].edit.full_state());
  EXPECT_EQ(dump->file.torn_tail_bytes, 4U);
  EXPECT_EQ(dump->state.regions.size(), 2U);
  EXPECT_EQ(*disk_.List(), before);
  EXPECT_EQ(ReadAll("MANIFEST-000001").size(), dump->file_bytes);
}

}  // namespace
}  // namespace raftstore::storage
