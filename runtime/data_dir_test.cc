#include "runtime/data_dir.h"

#include <sys/stat.h>
#include <uv.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/store/store.h"
#include "gtest/gtest.h"
#include "runtime/storage_worker.h"

namespace raftstore::runtime {
namespace {

class DataDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = std::getenv("TEST_TMPDIR");
    root_ = absl::StrCat(
        tmp != nullptr ? tmp : "/tmp", "/data_dir_test_",
        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(root_);
    std::filesystem::create_directories(root_);
  }

  DataDirOptions Options(uint64_t store_id, NodeInit init,
                         const std::string& name = "store") {
    DataDirOptions options;
    options.directory = absl::StrCat(root_, "/", name);
    options.cluster_id = 7;
    options.store_id = store_id;
    options.init = init;
    options.store_ids = {1, 2, 3};
    return options;
  }

  std::string root_;
};

TEST_F(DataDirTest, BootstrapCreatesTheStoreAndTheFirstRegion) {
  int exit_code = 0;
  absl::StatusOr<OpenedDataDir> opened =
      OpenDataDir(Options(2, NodeInit::kBootstrap), &exit_code);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_TRUE(opened->created);
  ASSERT_EQ(opened->recovery.regions.size(), 1U);
  const meta::Region& region =
      opened->recovery.regions[0].local_state().region();
  EXPECT_EQ(region.id(), kBootstrapRegionId);
  EXPECT_TRUE(region.start_key().empty() && region.end_key().empty());
  ASSERT_EQ(region.peers_size(), 3);
  EXPECT_EQ(region.peers(1).id(), 2U);
  EXPECT_EQ(region.peers(1).store_id(), 2U);
  EXPECT_EQ(opened->manifest->ident()->store_id(), 2U);
}

TEST_F(DataDirTest, ARestartNeedsNoInitFlagAndCreatesNothing) {
  int exit_code = 0;
  ASSERT_TRUE(OpenDataDir(Options(1, NodeInit::kBootstrap), &exit_code).ok());
  for (NodeInit init : {NodeInit::kNone, NodeInit::kBootstrap}) {
    absl::StatusOr<OpenedDataDir> again =
        OpenDataDir(Options(1, init), &exit_code);
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_FALSE(again->created);
    EXPECT_EQ(again->recovery.regions.size(), 1U);
  }
}

TEST_F(DataDirTest, JoinCreatesAStoreWithNoRegion) {
  int exit_code = 0;
  absl::StatusOr<OpenedDataDir> opened =
      OpenDataDir(Options(4, NodeInit::kJoin), &exit_code);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_TRUE(opened->created);
  EXPECT_TRUE(opened->recovery.regions.empty());
  EXPECT_EQ(opened->manifest->ident()->store_id(), 4U);
}

TEST_F(DataDirTest, AMissingDirectoryWithoutInitIsAUsageError) {
  int exit_code = 0;
  absl::StatusOr<OpenedDataDir> opened =
      OpenDataDir(Options(1, NodeInit::kNone), &exit_code);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(exit_code, 2);
  EXPECT_TRUE(absl::StrContains(opened.status().message(), "does not exist"));
  EXPECT_TRUE(absl::StrContains(opened.status().message(), "--bootstrap"));
}

TEST_F(DataDirTest, AnEmptyDirectoryWithoutInitIsAUsageError) {
  std::filesystem::create_directories(absl::StrCat(root_, "/store"));
  int exit_code = 0;
  absl::StatusOr<OpenedDataDir> opened =
      OpenDataDir(Options(1, NodeInit::kNone), &exit_code);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(exit_code, 2);
  EXPECT_TRUE(absl::StrContains(opened.status().message(), "holds no store"));
}

TEST_F(DataDirTest, AnotherStoresDirectoryIsRefused) {
  int exit_code = 0;
  ASSERT_TRUE(OpenDataDir(Options(1, NodeInit::kBootstrap), &exit_code).ok());
  absl::StatusOr<OpenedDataDir> other =
      OpenDataDir(Options(2, NodeInit::kBootstrap), &exit_code);
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(exit_code, 2);
  EXPECT_TRUE(absl::IsFailedPrecondition(other.status()));
  EXPECT_TRUE(absl::StrContains(other.status().message(), root_))
      << other.status();
  DataDirOptions cluster = Options(1, NodeInit::kNone);
  cluster.cluster_id = 8;
  EXPECT_FALSE(OpenDataDir(cluster, &exit_code).ok());
  EXPECT_EQ(exit_code, 2);
}

TEST_F(DataDirTest, ASecondProcessOnTheSameDirectoryIsRefused) {
  int exit_code = 0;
  absl::StatusOr<OpenedDataDir> first =
      OpenDataDir(Options(1, NodeInit::kBootstrap), &exit_code);
  ASSERT_TRUE(first.ok());
  absl::StatusOr<OpenedDataDir> second =
      OpenDataDir(Options(1, NodeInit::kNone), &exit_code);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(exit_code, 2);
  EXPECT_TRUE(absl::StrContains(second.status().message(), "in use"));
}

TEST_F(DataDirTest, APathThatIsAFileIsRefused) {
  const std::string file = absl::StrCat(root_, "/file");
  FILE* f = std::fopen(file.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fclose(f);
  int exit_code = 0;
  absl::StatusOr<OpenedDataDir> opened =
      OpenDataDir(Options(1, NodeInit::kBootstrap, "file"), &exit_code);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(exit_code, 2);
  EXPECT_TRUE(absl::StrContains(opened.status().message(), "not a directory"));
}

// The worker runs a store's write (entries and a hard state) and a manifest
// edit on libuv's thread pool; reopening the directory recovers both.
TEST_F(DataDirTest, TheStorageWorkerMakesAWriteDurable) {
  int exit_code = 0;
  absl::StatusOr<OpenedDataDir> opened =
      OpenDataDir(Options(1, NodeInit::kBootstrap), &exit_code);
  ASSERT_TRUE(opened.ok());
  uv_loop_t loop;
  ASSERT_EQ(uv_loop_init(&loop), 0);
  std::vector<raft::Entry> entries(3);
  for (size_t i = 0; i < entries.size(); ++i) {
    entries[i].set_index(1 + i);
    entries[i].set_term(6);
    entries[i].set_data("x");
  }
  StorageJob job;
  manifest::ManifestEdit edit;
  meta::Region region = BootstrapRegion({1, 2, 3});
  region.mutable_epoch()->set_version(2);
  *edit.add_put_regions() = store::BootstrapRecords({region})[0];
  job.manifest_edits.push_back(edit);
  store::WriteBatch write;
  write.token = 1;
  write.must_sync = true;
  store::RegionWrite& region_write = write.regions.emplace_back();
  region_write.region_id = kBootstrapRegionId;
  region_write.entries = entries;
  raft::HardState hard_state;
  hard_state.set_term(6);
  hard_state.set_commit(3);
  region_write.hard_state = hard_state;
  job.write = std::move(write);
  {
    StorageWorker worker(&loop, std::move(opened->disk),
                         std::move(opened->manifest), std::move(opened->wal),
                         storage::SnapshotFileOptions{});
    std::optional<StorageJobResult> result;
    worker.Submit(std::move(job), [&](StorageJob, StorageJobResult r) {
      result = std::move(r);
    });
    EXPECT_TRUE(worker.busy());
    uv_run(&loop, UV_RUN_DEFAULT);
    ASSERT_TRUE(result.has_value());
    EXPECT_TRUE(result->status.ok()) << result->status;
    EXPECT_FALSE(worker.busy());
    EXPECT_GE(result->wal.syncs, 1U);
    EXPECT_EQ(result->manifest.edits_applied, 2U);  // bootstrap + this
  }
  EXPECT_EQ(uv_loop_close(&loop), 0);
  opened->lock.reset();
  absl::StatusOr<OpenedDataDir> again =
      OpenDataDir(Options(1, NodeInit::kNone), &exit_code);
  ASSERT_TRUE(again.ok()) << again.status();
  ASSERT_EQ(again->recovery.regions.size(), 1U);
  EXPECT_EQ(again->recovery.regions[0].local_state().region().epoch().version(),
            2U);
  const storage::WalGroupState& group =
      again->recovery.groups.at(kBootstrapRegionId);
  ASSERT_EQ(group.entries.size(), 3U);
  EXPECT_EQ(group.entries.back().index(), 3U);
  EXPECT_EQ(group.hard_state.commit(), 3U);
}

// A failing step stops the job and names the step.
TEST_F(DataDirTest, AFailedJobNamesItsStep) {
  int exit_code = 0;
  absl::StatusOr<OpenedDataDir> opened =
      OpenDataDir(Options(1, NodeInit::kBootstrap), &exit_code);
  ASSERT_TRUE(opened.ok());
  StorageJob job;
  manifest::ManifestEdit bad;
  bad.set_full_state(true);  // never valid in Apply
  job.manifest_edits.push_back(bad);
  const StorageJobResult result =
      StorageWorker::Run(job, opened->disk.get(), opened->manifest.get(),
                         opened->wal.get(), storage::SnapshotFileOptions{});
  ASSERT_FALSE(result.status.ok());
  EXPECT_TRUE(absl::StartsWith(result.status.message(), "manifest edit: "))
      << result.status;
}

}  // namespace
}  // namespace raftstore::runtime
