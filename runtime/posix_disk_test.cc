#include "runtime/posix_disk.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/storage/testing/disk_conformance.h"
#include "gtest/gtest.h"

namespace raftstore::runtime {
namespace {

using ::absl::StatusCode;
using storage::DiskConformanceTest;
using storage::DiskFactory;

// A fresh, empty directory under Bazel's per-test temporary directory.
std::string MakeTempDir() {
  const char* root = std::getenv("TEST_TMPDIR");
  std::string pattern =
      absl::StrCat(root != nullptr ? root : "/tmp", "/posix_disk_XXXXXX");
  const char* made = ::mkdtemp(pattern.data());
  EXPECT_NE(made, nullptr) << "mkdtemp: errno " << errno;
  return pattern;
}

std::unique_ptr<PosixDisk> OpenOrDie(const std::string& directory,
                                     const PosixDiskOptions& options = {}) {
  absl::StatusOr<std::unique_ptr<PosixDisk>> disk =
      PosixDisk::Open(directory, options);
  EXPECT_TRUE(disk.ok()) << disk.status();
  return disk.ok() ? std::move(*disk) : nullptr;
}

INSTANTIATE_TEST_SUITE_P(
    PosixDisk, DiskConformanceTest,
    ::testing::Values(DiskFactory{"PosixDisk",
                                  [] { return OpenOrDie(MakeTempDir()); }},
                      DiskFactory{"PosixDiskOneOpenFile",
                                  [] {
                                    PosixDiskOptions options;
                                    options.open_files_max = 1;
                                    return OpenOrDie(MakeTempDir(), options);
                                  }}),
    storage::DiskFactoryName);

std::string ReadAll(PosixDisk& disk, const std::string& name) {
  absl::StatusOr<std::string> data = disk.Read(name, 0, ~uint64_t{0});
  EXPECT_TRUE(data.ok()) << data.status();
  return data.ok() ? *data : std::string();
}

TEST(PosixDiskTest, OpenRefusesAMissingDirectory) {
  const std::string missing = MakeTempDir() + "/not-there";
  const absl::Status status = PosixDisk::Open(missing).status();
  EXPECT_EQ(status.code(), StatusCode::kNotFound) << status;
  EXPECT_NE(status.message().find(missing), std::string::npos) << status;
}

TEST(PosixDiskTest, OpenRefusesARegularFile) {
  const std::string directory = MakeTempDir();
  std::unique_ptr<PosixDisk> disk = OpenOrDie(directory);
  ASSERT_TRUE(disk->Create("plain").ok());
  const std::string path = directory + "/plain";
  const absl::Status status = PosixDisk::Open(path).status();
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status;
  EXPECT_NE(status.message().find(path), std::string::npos) << status;
  EXPECT_EQ(PosixDisk::Open("").status().code(), StatusCode::kInvalidArgument);
}

TEST(PosixDiskTest, OpenRefusesZeroOpenFilesMax) {
  PosixDiskOptions options;
  options.open_files_max = 0;
  EXPECT_EQ(PosixDisk::Open(MakeTempDir(), options).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(PosixDiskTest, ReopenAfterCloseSeesTheData) {
  const std::string directory = MakeTempDir();
  {
    std::unique_ptr<PosixDisk> disk = OpenOrDie(directory);
    ASSERT_TRUE(disk->Create("wal-1").ok());
    ASSERT_TRUE(disk->Append("wal-1", "record one;").ok());
    ASSERT_TRUE(disk->Append("wal-1", "record two").ok());
    ASSERT_TRUE(disk->Sync("wal-1").ok());
    ASSERT_TRUE(disk->Create("tmp").ok());
    ASSERT_TRUE(disk->Rename("tmp", "CURRENT").ok());
    ASSERT_TRUE(disk->SyncDir().ok());
  }
  std::unique_ptr<PosixDisk> disk = OpenOrDie(directory);
  EXPECT_EQ(*disk->List(), (std::vector<std::string>{"CURRENT", "wal-1"}));
  EXPECT_EQ(ReadAll(*disk, "wal-1"), "record one;record two");
  ASSERT_TRUE(disk->Append("wal-1", "!").ok());
  EXPECT_EQ(*disk->Size("wal-1"), 22u);
}

TEST(PosixDiskTest, DescriptorCacheStaysWithinItsBound) {
  PosixDiskOptions options;
  options.open_files_max = 3;
  std::unique_ptr<PosixDisk> disk = OpenOrDie(MakeTempDir(), options);
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 10; ++i) {
      const std::string name = absl::StrCat("f", i);
      if (round == 0) {
        ASSERT_TRUE(disk->Create(name).ok());
      }
      ASSERT_TRUE(disk->Append(name, absl::StrCat(round)).ok());
      EXPECT_LE(disk->open_files(), 3u);
    }
  }
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(ReadAll(*disk, absl::StrCat("f", i)), "012");
  }
}

TEST(PosixDiskTest, RenameOverACachedTargetReadsTheNewFile) {
  std::unique_ptr<PosixDisk> disk = OpenOrDie(MakeTempDir());
  ASSERT_TRUE(disk->Create("CURRENT").ok());
  ASSERT_TRUE(disk->Append("CURRENT", "old").ok());
  EXPECT_EQ(ReadAll(*disk, "CURRENT"), "old");  // its descriptor is cached
  ASSERT_TRUE(disk->Create("CURRENT.tmp").ok());
  ASSERT_TRUE(disk->Append("CURRENT.tmp", "new!").ok());
  ASSERT_TRUE(disk->Rename("CURRENT.tmp", "CURRENT").ok());
  EXPECT_EQ(ReadAll(*disk, "CURRENT"), "new!");
  ASSERT_TRUE(disk->Append("CURRENT", "?").ok());
  EXPECT_EQ(ReadAll(*disk, "CURRENT"), "new!?");
}

TEST(PosixDiskTest, ListShowsOnlyRegularFiles) {
  const std::string directory = MakeTempDir();
  std::unique_ptr<PosixDisk> disk = OpenOrDie(directory);
  ASSERT_TRUE(disk->Create("file").ok());
  ASSERT_EQ(::mkdir((directory + "/subdir").c_str(), 0755), 0);
  EXPECT_EQ(*disk->List(), std::vector<std::string>{"file"});
}

// A full disk, provoked cheaply: a name in the directory that is a symlink
// to /dev/full, on which every write fails with ENOSPC.
TEST(PosixDiskTest, FullDiskIsResourceExhaustedNamingTheFile) {
  if (::access("/dev/full", W_OK) != 0) {
    GTEST_SKIP() << "no writable /dev/full on this machine";
  }
  const std::string directory = MakeTempDir();
  ASSERT_EQ(::symlink("/dev/full", (directory + "/full").c_str()), 0);
  std::unique_ptr<PosixDisk> disk = OpenOrDie(directory);
  const absl::Status status = disk->Append("full", "data");
  EXPECT_EQ(status.code(), StatusCode::kResourceExhausted) << status;
  EXPECT_NE(status.message().find("\"full\""), std::string::npos) << status;
  EXPECT_NE(status.message().find(directory), std::string::npos) << status;
}

// A partial append, provoked with RLIMIT_FSIZE: the first pwrite stops at
// the limit, the second fails with EFBIG, and the partial tail must be cut
// back so the file is unchanged.
TEST(PosixDiskTest, PartialAppendPastAFileSizeLimitIsCutBack) {
  std::unique_ptr<PosixDisk> disk = OpenOrDie(MakeTempDir());
  ASSERT_TRUE(disk->Create("f").ok());
  ASSERT_TRUE(disk->Append("f", std::string(4000, 'a')).ok());
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &saved), 0);
  if (saved.rlim_max != RLIM_INFINITY && saved.rlim_max < 8192) {
    GTEST_SKIP() << "RLIMIT_FSIZE already below the test's sizes";
  }
  const sighandler_t old_handler = ::signal(SIGXFSZ, SIG_IGN);
  rlimit limited = saved;
  limited.rlim_cur = 4096;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &limited), 0);
  // Nothing may write to a file between here and the restore below.
  const absl::Status status = disk->Append("f", std::string(1000, 'b'));
  const absl::StatusOr<uint64_t> size = disk->Size("f");
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &saved), 0);
  ::signal(SIGXFSZ, old_handler);
  EXPECT_EQ(status.code(), StatusCode::kResourceExhausted) << status;
  EXPECT_NE(status.message().find("\"f\""), std::string::npos) << status;
  EXPECT_EQ(*size, 4000u);
  EXPECT_EQ(ReadAll(*disk, "f"), std::string(4000, 'a'));
  EXPECT_TRUE(disk->Append("f", "c").ok());
}

// A hand-off between threads through join (ThreadSanitizer checks it under
// --config=tsan).
TEST(PosixDiskTest, UsableFromAnotherThread) {
  std::unique_ptr<PosixDisk> disk = OpenOrDie(MakeTempDir());
  std::thread writer([&disk] {
    ASSERT_TRUE(disk->Create("f").ok());
    ASSERT_TRUE(disk->Append("f", "from the worker").ok());
    ASSERT_TRUE(disk->Sync("f").ok());
  });
  writer.join();
  EXPECT_EQ(ReadAll(*disk, "f"), "from the worker");
}

// The WAL's write-behind: one thread appends to a file while another syncs
// it, and a third touches other files through a one-descriptor cache, so the
// appended file's descriptor is evicted under the running pwrite and
// fdatasync (the operation's reference keeps it open). Every byte lands, in
// order; ThreadSanitizer checks the cache under --config=tsan.
TEST(PosixDiskTest, AppendAndSyncOfOneFileMayRunOnTwoThreads) {
  PosixDiskOptions options;
  options.open_files_max = 1;
  std::unique_ptr<PosixDisk> disk = OpenOrDie(MakeTempDir(), options);
  ASSERT_TRUE(disk->Create("wal").ok());
  ASSERT_TRUE(disk->Create("other").ok());
  constexpr int kRecords = 300;
  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  std::thread syncer([&] {
    while (!done.load()) {
      if (!disk->Sync("wal").ok()) failures.fetch_add(1);
    }
  });
  std::thread evicter([&] {
    while (!done.load()) {
      if (!disk->Size("other").ok() || disk->open_files() > 1) {
        failures.fetch_add(1);
      }
    }
  });
  std::string expected;
  int append_failures = 0;
  for (int i = 0; i < kRecords; ++i) {
    const std::string record = absl::StrCat("record ", i, ";");
    if (!disk->Append("wal", record).ok()) {
      ++append_failures;
      break;
    }
    expected += record;
  }
  // Stop and join before any assertion can return from the test.
  done.store(true);
  syncer.join();
  evicter.join();
  EXPECT_EQ(append_failures, 0);
  EXPECT_EQ(failures.load(), 0);
  ASSERT_TRUE(disk->Sync("wal").ok());
  EXPECT_EQ(ReadAll(*disk, "wal"), expected);
}

}  // namespace
}  // namespace raftstore::runtime
