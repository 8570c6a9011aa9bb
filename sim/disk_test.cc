#include "sim/disk.h"

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/base/rng.h"
#include "gtest/gtest.h"

namespace raftstore::sim {
namespace {

using ::absl::StatusCode;

constexpr uint64_t kSector = 512;

SimDiskOptions SmallSectors() {
  SimDiskOptions options;
  options.sector_bytes = kSector;
  return options;
}

SimDiskOptions KeepAll() {
  SimDiskOptions options = SmallSectors();
  options.crash.sector_keep_ppm = kPpm;
  options.crash.sector_torn_ppm = 0;
  options.crash.dir_op_keep_ppm = kPpm;
  options.crash.truncate_keep_ppm = kPpm;
  return options;
}

SimDiskOptions DropAll() {
  SimDiskOptions options = SmallSectors();
  options.crash.sector_keep_ppm = 0;
  options.crash.sector_torn_ppm = 0;
  options.crash.dir_op_keep_ppm = 0;
  options.crash.truncate_keep_ppm = 0;
  return options;
}

std::string ReadAll(SimDisk& disk, const std::string& name) {
  absl::StatusOr<std::string> data = disk.Read(name, 0, ~uint64_t{0});
  EXPECT_TRUE(data.ok()) << data.status();
  return data.ok() ? *data : std::string();
}

// A file whose name survives any crash: created and directory-synced.
void CreateDurable(SimDisk& disk, const std::string& name) {
  ASSERT_TRUE(disk.Create(name).ok());
  ASSERT_TRUE(disk.SyncDir().ok());
}

std::string Pattern(uint64_t bytes, uint64_t seed) {
  Rng rng(seed);
  std::string out(bytes, '\0');
  for (char& c : out) c = static_cast<char>('a' + rng.Uniform(26));
  return out;
}

TEST(SimDiskTest, ReadsSeeUnsyncedAppendsAndSyncMakesThemDurable) {
  SimDisk disk(SmallSectors(), Rng(1));
  CreateDurable(disk, "f");
  ASSERT_TRUE(disk.Append("f", "hello ").ok());
  ASSERT_TRUE(disk.Append("f", "world").ok());
  EXPECT_EQ(ReadAll(disk, "f"), "hello world");
  EXPECT_EQ(*disk.Read("f", 6, 3), "wor");
  EXPECT_EQ(*disk.Size("f"), 11u);
  EXPECT_EQ(disk.DurableContent("f"), "");
  EXPECT_TRUE(disk.HasUnsyncedData("f"));
  ASSERT_TRUE(disk.Sync("f").ok());
  EXPECT_EQ(disk.DurableContent("f"), "hello world");
  EXPECT_FALSE(disk.HasUnsyncedData());
}

TEST(SimDiskTest, KeepAllCrashKeepsEverything) {
  SimDisk disk(KeepAll(), Rng(2));
  CreateDurable(disk, "a");
  ASSERT_TRUE(disk.Append("a", Pattern(3000, 1)).ok());
  ASSERT_TRUE(disk.Create("b").ok());
  ASSERT_TRUE(disk.Append("b", "bee").ok());
  ASSERT_TRUE(disk.Rename("b", "c").ok());
  disk.Crash();
  EXPECT_EQ(*disk.List(), (std::vector<std::string>{"a", "c"}));
  EXPECT_EQ(ReadAll(disk, "a"), Pattern(3000, 1));
  EXPECT_EQ(ReadAll(disk, "c"), "bee");
  EXPECT_FALSE(disk.HasUnsyncedData());
  EXPECT_EQ(disk.DurableList(), (std::vector<std::string>{"a", "c"}));
}

TEST(SimDiskTest, DropAllCrashLosesEverythingUnsynced) {
  SimDisk disk(DropAll(), Rng(3));
  CreateDurable(disk, "a");
  ASSERT_TRUE(disk.Append("a", "synced").ok());
  ASSERT_TRUE(disk.Sync("a").ok());
  ASSERT_TRUE(disk.Append("a", Pattern(2000, 2)).ok());
  ASSERT_TRUE(disk.Create("b").ok());
  ASSERT_TRUE(disk.Append("b", "b").ok());
  ASSERT_TRUE(disk.Sync("b").ok());  // data synced, directory entry not
  disk.Crash();
  EXPECT_EQ(*disk.List(), std::vector<std::string>{"a"});
  EXPECT_EQ(ReadAll(disk, "a"), "synced");
  EXPECT_EQ(disk.stats().sectors_dropped, 4u);  // 6 + 2000 bytes: 4 sectors
}

// The contract, checked over many seeds with the default (hostile) model:
// synced bytes always survive; every byte past them is new data, zero (a
// hole or torn remainder) or garbage only in a torn sector; the size never
// exceeds the size before the crash.
TEST(SimDiskTest, SyncedDataSurvivesEveryCrash) {
  for (uint64_t seed = 0; seed < 200; ++seed) {
    SimDiskOptions options = SmallSectors();
    options.crash.torn_garbage_ppm = 0;
    SimDisk disk(options, Rng(seed));
    CreateDurable(disk, "log");
    Rng script(seed * 7 + 1);
    std::string synced;
    std::string all;
    for (int step = 0; step < 20; ++step) {
      const std::string data = Pattern(script.Range(1, 1500), seed + step);
      ASSERT_TRUE(disk.Append("log", data).ok());
      all += data;
      if (script.Chance(1, 3)) {
        ASSERT_TRUE(disk.Sync("log").ok());
        synced = all;
      }
    }
    disk.Crash();
    const std::string after = ReadAll(disk, "log");
    ASSERT_GE(after.size(), synced.size()) << "seed " << seed;
    ASSERT_LE(after.size(), all.size()) << "seed " << seed;
    ASSERT_EQ(after.substr(0, synced.size()), synced) << "seed " << seed;
    for (size_t i = synced.size(); i < after.size(); ++i) {
      ASSERT_TRUE(after[i] == all[i] || after[i] == '\0')
          << "seed " << seed << " offset " << i;
    }
    // The size is the old size or the end of a surviving sector.
    ASSERT_TRUE(after.size() == synced.size() || after.size() == all.size() ||
                after.size() % kSector == 0)
        << "seed " << seed << " size " << after.size();
    EXPECT_FALSE(disk.HasUnsyncedData());
    EXPECT_EQ(disk.DurableContent("log"), after);
  }
}

TEST(SimDiskTest, CrashSometimesKeepsSometimesDropsSometimesTears) {
  SimDiskOptions options = SmallSectors();
  options.crash.torn_garbage_ppm = 0;
  SimDisk disk(options, Rng(4));
  CreateDurable(disk, "log");
  const std::string data = Pattern(kSector * 200, 5);
  ASSERT_TRUE(disk.Append("log", data).ok());
  disk.Crash();
  const SimDiskStats& stats = disk.stats();
  EXPECT_EQ(stats.sectors_kept + stats.sectors_torn + stats.sectors_dropped,
            200u);
  EXPECT_GT(stats.sectors_kept, 50u);
  EXPECT_GT(stats.sectors_torn, 10u);
  EXPECT_GT(stats.sectors_dropped, 20u);
}

TEST(SimDiskTest, TornSectorsKeepANewPrefixAndOldOrZeroRest) {
  SimDiskOptions options = SmallSectors();
  options.crash.sector_keep_ppm = 0;
  options.crash.sector_torn_ppm = kPpm;
  options.crash.torn_garbage_ppm = 0;
  SimDisk disk(options, Rng(5));
  CreateDurable(disk, "f");
  ASSERT_TRUE(disk.Append("f", std::string(100, 'A')).ok());
  ASSERT_TRUE(disk.Sync("f").ok());
  ASSERT_TRUE(disk.Append("f", std::string(3 * kSector, 'B')).ok());
  disk.Crash();
  const std::string after = ReadAll(disk, "f");
  ASSERT_EQ(after.size(), 100 + 3 * kSector);  // torn tail: size updated
  EXPECT_EQ(after.substr(0, 100), std::string(100, 'A'));
  for (uint64_t begin = 0; begin < after.size(); begin += kSector) {
    // Within each sector: A's (old), then B's (new prefix), then zeros.
    const std::string sector = after.substr(begin, kSector);
    const size_t first_zero = sector.find('\0');
    const std::string head = sector.substr(0, first_zero);
    EXPECT_EQ(head.find_first_not_of(begin == 0 ? "AB" : "B"),
              std::string::npos);
    if (first_zero != std::string::npos) {
      EXPECT_EQ(sector.find_first_not_of('\0', first_zero), std::string::npos);
    }
  }
  EXPECT_EQ(disk.stats().sectors_torn, 4u);
}

TEST(SimDiskTest, TornGarbageNeverTouchesSyncedBytes) {
  for (uint64_t seed = 0; seed < 50; ++seed) {
    SimDiskOptions options = SmallSectors();
    options.crash.sector_keep_ppm = 0;
    options.crash.sector_torn_ppm = kPpm;
    options.crash.torn_garbage_ppm = kPpm;
    SimDisk disk(options, Rng(seed));
    CreateDurable(disk, "f");
    const std::string synced = Pattern(700, seed);
    ASSERT_TRUE(disk.Append("f", synced).ok());
    ASSERT_TRUE(disk.Sync("f").ok());
    ASSERT_TRUE(disk.Append("f", Pattern(900, seed + 1)).ok());
    disk.Crash();
    EXPECT_EQ(ReadAll(disk, "f").substr(0, 700), synced) << "seed " << seed;
  }
}

TEST(SimDiskTest, DroppedMiddleSectorLeavesAHole) {
  // Find a seed whose crash drops a middle sector but keeps the last one.
  SimDiskOptions options = SmallSectors();
  options.crash.sector_torn_ppm = 0;
  bool saw_hole = false;
  for (uint64_t seed = 0; seed < 100 && !saw_hole; ++seed) {
    SimDisk disk(options, Rng(seed));
    CreateDurable(disk, "f");
    ASSERT_TRUE(disk.Append("f", std::string(3 * kSector, 'x')).ok());
    disk.Crash();
    const std::string after = ReadAll(disk, "f");
    if (after.size() == 3 * kSector && after[kSector] == '\0') {
      saw_hole = true;
      EXPECT_EQ(after.substr(kSector, kSector), std::string(kSector, '\0'));
      EXPECT_EQ(after.substr(2 * kSector), std::string(kSector, 'x'));
    }
  }
  EXPECT_TRUE(saw_hole);
}

TEST(SimDiskTest, SizeWithoutDataReadsAsZeros) {
  SimDiskOptions options = DropAll();
  options.crash.size_without_data_ppm = kPpm;
  SimDisk disk(options, Rng(6));
  CreateDurable(disk, "f");
  ASSERT_TRUE(disk.Append("f", "abc").ok());
  ASSERT_TRUE(disk.Sync("f").ok());
  ASSERT_TRUE(disk.Append("f", "defg").ok());
  disk.Crash();
  EXPECT_EQ(ReadAll(disk, "f"), std::string("abc\0\0\0\0", 7));
}

TEST(SimDiskTest, UnsyncedTruncateMayBeUndone) {
  SimDisk undo(DropAll(), Rng(7));
  CreateDurable(undo, "f");
  ASSERT_TRUE(undo.Append("f", Pattern(2000, 3)).ok());
  ASSERT_TRUE(undo.Sync("f").ok());
  ASSERT_TRUE(undo.Truncate("f", 100).ok());
  EXPECT_EQ(*undo.Size("f"), 100u);
  undo.Crash();
  EXPECT_EQ(ReadAll(undo, "f"), Pattern(2000, 3));
  EXPECT_EQ(undo.stats().truncates_undone, 1u);

  SimDisk keep(KeepAll(), Rng(7));
  CreateDurable(keep, "f");
  ASSERT_TRUE(keep.Append("f", Pattern(2000, 3)).ok());
  ASSERT_TRUE(keep.Sync("f").ok());
  ASSERT_TRUE(keep.Truncate("f", 100).ok());
  ASSERT_TRUE(keep.Append("f", "new").ok());
  keep.Crash();
  EXPECT_EQ(ReadAll(keep, "f"), Pattern(2000, 3).substr(0, 100) + "new");
}

TEST(SimDiskTest, TruncateThenSyncIsDurable) {
  SimDisk disk(DropAll(), Rng(8));
  CreateDurable(disk, "f");
  ASSERT_TRUE(disk.Append("f", "0123456789").ok());
  ASSERT_TRUE(disk.Sync("f").ok());
  ASSERT_TRUE(disk.Truncate("f", 4).ok());
  ASSERT_TRUE(disk.Sync("f").ok());
  disk.Crash();
  EXPECT_EQ(ReadAll(disk, "f"), "0123");
}

TEST(SimDiskTest, UnsyncedCreateVanishesAndSyncedCreateStays) {
  SimDisk disk(DropAll(), Rng(9));
  ASSERT_TRUE(disk.Create("kept").ok());
  ASSERT_TRUE(disk.SyncDir().ok());
  ASSERT_TRUE(disk.Create("lost").ok());
  EXPECT_EQ(disk.DurableList(), std::vector<std::string>{"kept"});
  disk.Crash();
  EXPECT_EQ(*disk.List(), std::vector<std::string>{"kept"});
  EXPECT_EQ(disk.stats().dir_ops_undone, 1u);
}

TEST(SimDiskTest, UnsyncedRenameRevertsAndUnsyncedRemoveReturns) {
  SimDisk disk(DropAll(), Rng(10));
  CreateDurable(disk, "a");
  CreateDurable(disk, "b");
  ASSERT_TRUE(disk.Append("a", "alpha").ok());
  ASSERT_TRUE(disk.Sync("a").ok());
  ASSERT_TRUE(disk.Append("b", "beta").ok());
  ASSERT_TRUE(disk.Sync("b").ok());
  ASSERT_TRUE(disk.Rename("a", "c").ok());
  ASSERT_TRUE(disk.Remove("b").ok());
  EXPECT_EQ(*disk.List(), std::vector<std::string>{"c"});
  disk.Crash();
  EXPECT_EQ(*disk.List(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(ReadAll(disk, "a"), "alpha");
  EXPECT_EQ(ReadAll(disk, "b"), "beta");
}

// The manifest's pattern: write a temporary file, sync it, rename it over
// the current one. After any crash the name holds the whole old file or the
// whole new one.
TEST(SimDiskTest, RenameOverExistingIsAtomicAcrossCrashes) {
  int saw_old = 0;
  int saw_new = 0;
  for (uint64_t seed = 0; seed < 100; ++seed) {
    SimDisk disk(SmallSectors(), Rng(seed));
    CreateDurable(disk, "CURRENT");
    ASSERT_TRUE(disk.Append("CURRENT", "old contents").ok());
    ASSERT_TRUE(disk.Sync("CURRENT").ok());
    ASSERT_TRUE(disk.Create("CURRENT.tmp").ok());
    ASSERT_TRUE(disk.Append("CURRENT.tmp", "new contents!").ok());
    ASSERT_TRUE(disk.Sync("CURRENT.tmp").ok());
    ASSERT_TRUE(disk.Rename("CURRENT.tmp", "CURRENT").ok());
    disk.Crash();
    const std::string after = ReadAll(disk, "CURRENT");
    ASSERT_TRUE(after == "old contents" || after == "new contents!")
        << "seed " << seed << ": " << after;
    (after == "old contents" ? saw_old : saw_new)++;
    if (after == "new contents!") {
      EXPECT_EQ(*disk.List(), std::vector<std::string>{"CURRENT"});
    }
  }
  EXPECT_GT(saw_old, 10);
  EXPECT_GT(saw_new, 10);
}

TEST(SimDiskTest, RenameOfAFileWhoseCreateWasUndoneIsSkipped) {
  SimDiskOptions options = DropAll();
  SimDisk disk(options, Rng(11));
  ASSERT_TRUE(disk.Create("tmp").ok());
  ASSERT_TRUE(disk.Rename("tmp", "final").ok());
  disk.Crash();
  EXPECT_TRUE(disk.List()->empty());
}

TEST(SimDiskTest, RemovedThenRecreatedNameKeepsOneWholeFile) {
  for (uint64_t seed = 0; seed < 50; ++seed) {
    SimDisk disk(SmallSectors(), Rng(seed));
    CreateDurable(disk, "f");
    ASSERT_TRUE(disk.Append("f", "first").ok());
    ASSERT_TRUE(disk.Sync("f").ok());
    ASSERT_TRUE(disk.Remove("f").ok());
    ASSERT_TRUE(disk.Create("f").ok());
    ASSERT_TRUE(disk.Append("f", "second").ok());
    ASSERT_TRUE(disk.Sync("f").ok());
    disk.Crash();
    const absl::StatusOr<std::vector<std::string>> names = disk.List();
    if (names->empty()) continue;  // remove kept, create undone
    const std::string after = ReadAll(disk, "f");
    EXPECT_TRUE(after == "first" || after == "second") << after;
  }
}

TEST(SimDiskTest, PrefixModeKeepsAPrefixOfDirectoryOperations) {
  SimDiskOptions options = SmallSectors();
  options.crash.dir_ops_as_prefix = true;
  for (uint64_t seed = 0; seed < 30; ++seed) {
    SimDisk disk(options, Rng(seed));
    const std::vector<std::string> names = {"a", "b", "c", "d", "e"};
    for (const std::string& name : names) ASSERT_TRUE(disk.Create(name).ok());
    disk.Crash();
    const std::vector<std::string> after = *disk.List();
    ASSERT_LE(after.size(), names.size());
    EXPECT_EQ(after,
              std::vector<std::string>(
                  names.begin(),
                  names.begin() + static_cast<std::ptrdiff_t>(after.size())));
  }
}

TEST(SimDiskTest, RemovedFilesFreeTheirInodesAfterSyncDir) {
  SimDisk disk(DropAll(), Rng(12));
  CreateDurable(disk, "f");
  ASSERT_TRUE(disk.Append("f", "x").ok());
  ASSERT_TRUE(disk.Sync("f").ok());
  ASSERT_TRUE(disk.Remove("f").ok());
  ASSERT_TRUE(disk.SyncDir().ok());
  disk.Crash();
  EXPECT_TRUE(disk.List()->empty());
  ASSERT_TRUE(disk.Create("f").ok());
  EXPECT_EQ(ReadAll(disk, "f"), "");
}

TEST(SimDiskTest, ReadCorruptionIsTransient) {
  SimDisk disk(SmallSectors(), Rng(13));
  CreateDurable(disk, "f");
  ASSERT_TRUE(disk.Append("f", "payload").ok());
  SimDiskFaults faults;
  faults.read_corruption_ppm = kPpm;
  disk.SetFaults(faults);
  const std::string bad = ReadAll(disk, "f");
  ASSERT_EQ(bad.size(), 7u);
  EXPECT_NE(bad, "payload");
  int bits = 0;
  for (size_t i = 0; i < bad.size(); ++i) {
    bits += __builtin_popcount(static_cast<uint8_t>(bad[i] ^ "payload"[i]));
  }
  EXPECT_EQ(bits, 1);
  disk.SetFaults(SimDiskFaults{});
  EXPECT_EQ(ReadAll(disk, "f"), "payload");
  EXPECT_EQ(disk.stats().read_corruptions, 1u);
}

TEST(SimDiskTest, WriteCorruptionIsPersistent) {
  SimDisk disk(SmallSectors(), Rng(14));
  CreateDurable(disk, "f");
  SimDiskFaults faults;
  faults.write_corruption_ppm = kPpm;
  disk.SetFaults(faults);
  ASSERT_TRUE(disk.Append("f", "payload").ok());
  disk.SetFaults(SimDiskFaults{});
  const std::string stored = ReadAll(disk, "f");
  EXPECT_NE(stored, "payload");
  EXPECT_EQ(ReadAll(disk, "f"), stored);
  ASSERT_TRUE(disk.Sync("f").ok());
  EXPECT_EQ(disk.DurableContent("f"), stored);
  EXPECT_EQ(disk.stats().write_corruptions, 1u);
}

TEST(SimDiskTest, LatentSectorErrorNamesFileAndOffsetUntilRewritten) {
  SimDisk disk(SmallSectors(), Rng(15));
  CreateDurable(disk, "seg");
  ASSERT_TRUE(disk.Append("seg", std::string(3 * kSector - 10, 'x')).ok());
  disk.InjectLatentSectorError("seg", kSector + 5);
  EXPECT_TRUE(disk.Read("seg", 0, kSector).ok());
  const absl::StatusOr<std::string> bad = disk.Read("seg", kSector - 1, 2);
  ASSERT_EQ(bad.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(bad.status().message().find("\"seg\""), std::string::npos);
  EXPECT_NE(bad.status().message().find(absl::StrCat("offset ", kSector)),
            std::string::npos)
      << bad.status();
  // Persistent...
  EXPECT_EQ(disk.Read("seg", kSector, 1).status().code(),
            StatusCode::kDataLoss);
  // ...until the sector is cut off.
  ASSERT_TRUE(disk.Truncate("seg", kSector).ok());
  EXPECT_TRUE(disk.Read("seg", 0, kSector).ok());
  // An append into a bad sector rewrites it.
  disk.InjectLatentSectorError("seg", kSector - 1);
  EXPECT_FALSE(disk.Read("seg", 0, kSector).ok());
  ASSERT_TRUE(disk.Truncate("seg", kSector - 1).ok());
  disk.InjectLatentSectorError("seg", 0);
  ASSERT_TRUE(disk.Append("seg", "y").ok());
  EXPECT_TRUE(disk.Read("seg", 0, kSector).ok());
}

TEST(SimDiskTest, RandomLatentSectorErrorsPersist) {
  SimDisk disk(SmallSectors(), Rng(16));
  CreateDurable(disk, "f");
  ASSERT_TRUE(disk.Append("f", std::string(100, 'x')).ok());
  SimDiskFaults faults;
  faults.latent_sector_error_ppm = kPpm;
  disk.SetFaults(faults);
  EXPECT_EQ(disk.Read("f", 0, 100).status().code(), StatusCode::kDataLoss);
  disk.SetFaults(SimDiskFaults{});
  EXPECT_EQ(disk.Read("f", 0, 100).status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(disk.stats().latent_sector_errors, 1u);
}

TEST(SimDiskTest, MisdirectedWriteLandsElsewhereAndLeavesZeros) {
  SimDisk disk(SmallSectors(), Rng(17));
  CreateDurable(disk, "victim");
  ASSERT_TRUE(disk.Append("victim", std::string(1000, 'v')).ok());
  ASSERT_TRUE(disk.Sync("victim").ok());
  CreateDurable(disk, "f");
  std::vector<SimDiskFault> seen;
  disk.SetFaultObserver([&seen](const SimDiskFault& f) { seen.push_back(f); });
  SimDiskFaults faults;
  faults.misdirected_write_ppm = kPpm;
  disk.SetFaults(faults);
  ASSERT_TRUE(disk.Append("f", std::string(10, 'w')).ok());
  EXPECT_EQ(ReadAll(disk, "f"), std::string(10, '\0'));
  const std::string victim = ReadAll(disk, "victim");
  ASSERT_EQ(victim.size(), 1000u);
  EXPECT_NE(victim.find('w'), std::string::npos);
  EXPECT_EQ(disk.DurableContent("victim"), victim);  // hit the medium
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].kind, SimDiskFaultKind::kMisdirectedWrite);
  EXPECT_EQ(seen[0].file, "victim");
  EXPECT_EQ(victim[seen[0].offset], 'w');
  EXPECT_EQ(disk.stats().misdirected_writes, 1u);
}

TEST(SimDiskTest, InjectedIoErrorsChangeNothing) {
  SimDisk disk(KeepAll(), Rng(18));
  CreateDurable(disk, "f");
  ASSERT_TRUE(disk.Append("f", "abc").ok());
  SimDiskFaults faults;
  faults.io_error_ppm = kPpm;
  disk.SetFaults(faults);
  EXPECT_EQ(disk.Create("g").code(), StatusCode::kUnavailable);
  EXPECT_EQ(disk.Append("f", "d").code(), StatusCode::kUnavailable);
  EXPECT_EQ(disk.Read("f", 0, 1).status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(disk.Sync("f").code(), StatusCode::kUnavailable);
  EXPECT_EQ(disk.Truncate("f", 0).code(), StatusCode::kUnavailable);
  EXPECT_EQ(disk.Rename("f", "g").code(), StatusCode::kUnavailable);
  EXPECT_EQ(disk.Remove("f").code(), StatusCode::kUnavailable);
  EXPECT_EQ(disk.SyncDir().code(), StatusCode::kUnavailable);
  const absl::Status status = disk.Append("f", "d");
  EXPECT_NE(status.message().find("\"f\""), std::string::npos) << status;
  EXPECT_EQ(disk.stats().io_errors, 9u);
  disk.SetFaults(SimDiskFaults{});
  EXPECT_EQ(*disk.List(), std::vector<std::string>{"f"});
  EXPECT_EQ(ReadAll(disk, "f"), "abc");
  EXPECT_TRUE(disk.HasUnsyncedData("f"));  // the failed Sync synced nothing
}

TEST(SimDiskTest, FullDiskRefusesAppendAndLeavesTheFileUnchanged) {
  SimDiskOptions options = SmallSectors();
  options.capacity_bytes = 100;
  SimDisk disk(options, Rng(19));
  CreateDurable(disk, "f");
  ASSERT_TRUE(disk.Append("f", std::string(60, 'a')).ok());
  const absl::Status full = disk.Append("f", std::string(41, 'b'));
  EXPECT_EQ(full.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(full.message().find("\"f\""), std::string::npos) << full;
  EXPECT_EQ(*disk.Size("f"), 60u);
  EXPECT_TRUE(disk.Append("f", std::string(40, 'b')).ok());
  EXPECT_EQ(disk.UsedBytes(), 100u);
  // Freeing space (truncate, remove) makes room again.
  ASSERT_TRUE(disk.Truncate("f", 50).ok());
  EXPECT_TRUE(disk.Append("f", std::string(50, 'c')).ok());
  disk.SetCapacityBytes(1000);
  EXPECT_TRUE(disk.Append("f", std::string(500, 'd')).ok());
  EXPECT_EQ(disk.stats().disk_full_errors, 1u);
}

TEST(SimDiskTest, FilesMaxBoundsCreate) {
  SimDiskOptions options = SmallSectors();
  options.files_max = 2;
  SimDisk disk(options, Rng(20));
  ASSERT_TRUE(disk.Create("a").ok());
  ASSERT_TRUE(disk.Create("b").ok());
  const absl::Status status = disk.Create("c");
  EXPECT_EQ(status.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(status.message().find("\"c\""), std::string::npos) << status;
  ASSERT_TRUE(disk.Remove("a").ok());
  EXPECT_TRUE(disk.Create("c").ok());
}

TEST(SimDiskTest, CorruptByteHitsTheDurableImage) {
  SimDisk disk(DropAll(), Rng(21));
  CreateDurable(disk, "seg");
  ASSERT_TRUE(disk.Append("seg", "0123456789").ok());
  ASSERT_TRUE(disk.Sync("seg").ok());
  disk.CorruptByte("seg", 5, 0xff);
  const std::string expected =
      std::string("01234") + static_cast<char>('5' ^ 0xff) + "6789";
  EXPECT_EQ(ReadAll(disk, "seg"), expected);
  disk.Crash();
  EXPECT_EQ(ReadAll(disk, "seg"), expected);
}

TEST(SimDiskTest, BadNamesAreInvalidArgument) {
  SimDisk disk(SmallSectors(), Rng(22));
  CreateDurable(disk, "ok");
  for (const std::string& bad :
       {std::string(), std::string("a/b"), std::string(".."),
        std::string(storage::kFileNameBytesMax + 1, 'n')}) {
    EXPECT_EQ(disk.Create(bad).code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(disk.Append(bad, "x").code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(disk.Read(bad, 0, 1).status().code(),
              StatusCode::kInvalidArgument);
    EXPECT_EQ(disk.Rename("ok", bad).code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(disk.Size(bad).status().code(), StatusCode::kInvalidArgument);
  }
}

TEST(SimDiskTest, LatencySamplesStayInBoundsAndSlowOnesAreMultiplied) {
  SimDiskOptions options = SmallSectors();
  options.write_latency_us_min = 10;
  options.write_latency_us_max = 20;
  options.sync_latency_us_min = 100;
  options.sync_latency_us_max = 200;
  SimDisk fast(options, Rng(23));
  for (int i = 0; i < 100; ++i) {
    const uint64_t write = fast.SampleWriteLatencyUs();
    const uint64_t sync = fast.SampleSyncLatencyUs();
    EXPECT_GE(write, 10u);
    EXPECT_LE(write, 20u);
    EXPECT_GE(sync, 100u);
    EXPECT_LE(sync, 200u);
  }
  options.slow_io_ppm = kPpm;
  options.slow_io_multiplier = 10;
  SimDisk slow(options, Rng(23));
  const uint64_t write = slow.SampleWriteLatencyUs();
  EXPECT_GE(write, 100u);
  EXPECT_LE(write, 200u);
}

// A workload with every fault and crashes; returns a fingerprint.
std::string RunWorkload(uint64_t seed) {
  SimDiskOptions options = SmallSectors();
  options.faults.read_corruption_ppm = 50'000;
  options.faults.write_corruption_ppm = 50'000;
  options.faults.latent_sector_error_ppm = 20'000;
  options.faults.misdirected_write_ppm = 20'000;
  options.faults.io_error_ppm = 50'000;
  options.crash.size_without_data_ppm = 100'000;
  SimDisk disk(options, Rng(seed));
  Rng script(seed);
  std::string trace;
  for (int step = 0; step < 400; ++step) {
    const std::string name = absl::StrCat("f", script.Uniform(4));
    absl::Status status;
    switch (script.Uniform(8)) {
      case 0:
        status = disk.Create(name);
        break;
      case 1:
      case 2:
        status = disk.Append(name, Pattern(script.Range(1, 900), step));
        break;
      case 3:
        status = disk.Sync(name);
        break;
      case 4:
        status = disk.Rename(name, absl::StrCat("f", script.Uniform(4)));
        break;
      case 5:
        status = script.Chance(1, 4) ? disk.Remove(name) : disk.SyncDir();
        break;
      case 6:
        status = disk.Read(name, 0, 300).status();
        break;
      default:
        disk.Crash();
        break;
    }
    absl::StrAppend(&trace, static_cast<int>(status.code()), ",");
  }
  const std::vector<std::string> names = *disk.List();
  for (const std::string& name : names) {
    absl::StrAppend(&trace, name, "=", disk.DurableContent(name).size(), ";",
                    std::hash<std::string>{}(disk.DurableContent(name)), ";");
  }
  return trace + disk.stats().ToString();
}

TEST(SimDiskTest, SameSeedSameOutcome) {
  for (uint64_t seed = 0; seed < 5; ++seed) {
    EXPECT_EQ(RunWorkload(seed), RunWorkload(seed));
  }
  EXPECT_NE(RunWorkload(1), RunWorkload(2));
}

TEST(SimDiskTest, StatsToStringNamesEveryCounter) {
  SimDisk disk(SmallSectors(), Rng(24));
  const std::string line = disk.stats().ToString();
  for (const char* field : {"crashes=0", "io_errors=0", "disk_full_errors=0",
                            "misdirected_writes=0", "sectors_torn=0"}) {
    EXPECT_NE(line.find(field), std::string::npos) << line;
  }
  EXPECT_EQ(SimDiskFaultKindName(SimDiskFaultKind::kDiskFull), "disk_full");
}

}  // namespace
}  // namespace raftstore::sim
