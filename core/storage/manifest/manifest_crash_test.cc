// The manifest's crash property: whatever sequence of edits and rewrites
// runs, and wherever the process dies (any Disk call, including between
// CURRENT's rename and the directory sync that commits it), and whatever the
// medium then keeps of the unsynced sectors and directory operations,
// recovery yields exactly the state after the last Apply that returned OK,
// or for an Apply in flight at the crash, the state after it. Never anything
// else, and never an error. Media faults (I/O errors, garbled writes or
// reads) may fail an Apply or an Open on the way, never the final recovery.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "core/base/rng.h"
#include "core/storage/manifest/crash_point_disk.h"
#include "core/storage/manifest/manifest.h"
#include "core/storage/manifest/manifest_codec.h"
#include "core/storage/manifest/manifest_testing.h"
#include "gtest/gtest.h"
#include "rapidcheck/gtest.h"
#include "sim/disk.h"

namespace raftstore::storage {
namespace {

using manifest::ManifestEdit;
using manifest_testing::IdentEdit;
using manifest_testing::MakeRecord;
using manifest_testing::PutEdit;
using manifest_testing::RemoveEdit;

struct Op {
  int kind = 0;  // 0: put, 1: remove, 2: set the ident
  uint64_t region_id = 1;
  int key_bytes = 0;
};

ManifestEdit MakeEdit(const Op& op, uint64_t serial) {
  switch (op.kind) {
    case 0:
      return PutEdit(MakeRecord(op.region_id, std::string(op.key_bytes, 'a'),
                                std::string(op.key_bytes, 'z'), serial));
    case 1:
      return RemoveEdit(op.region_id);
    default:
      return IdentEdit(11, 22);
  }
}

sim::SimDiskOptions GenDiskOptions() {
  sim::SimDiskOptions options;
  options.sector_bytes = *rc::gen::inRange<uint64_t>(8, 513);
  const uint32_t keep = *rc::gen::inRange<uint32_t>(0, sim::kPpm + 1);
  options.crash.sector_keep_ppm = keep;
  options.crash.sector_torn_ppm =
      *rc::gen::inRange<uint32_t>(0, sim::kPpm - keep + 1);
  options.crash.torn_garbage_ppm = *rc::gen::inRange<uint32_t>(0, sim::kPpm);
  options.crash.size_without_data_ppm =
      *rc::gen::inRange<uint32_t>(0, sim::kPpm);
  options.crash.dir_op_keep_ppm = *rc::gen::inRange<uint32_t>(0, sim::kPpm);
  options.crash.truncate_keep_ppm = *rc::gen::inRange<uint32_t>(0, sim::kPpm);
  options.crash.dir_ops_as_prefix = *rc::gen::arbitrary<bool>();
  return options;
}

bool Matches(const Manifest& manifest, const ManifestState& state) {
  ManifestState actual;
  actual.ident = manifest.ident();
  actual.regions = manifest.regions();
  return actual == state;
}

bool MatchesAny(const Manifest& manifest,
                const std::vector<ManifestState>& candidates) {
  for (const ManifestState& candidate : candidates) {
    if (Matches(manifest, candidate)) return true;
  }
  return false;
}

RC_GTEST_PROP(ManifestCrashProperty,
              RecoveryYieldsTheAcknowledgedStateOrTheOneInFlight, ()) {
  const sim::SimDiskOptions disk_options = GenDiskOptions();
  sim::SimDisk disk(disk_options, Rng(*rc::gen::arbitrary<uint64_t>()));
  ManifestOptions options;
  options.edit_log_bytes_max = *rc::gen::inRange<uint64_t>(1, 1500);
  const auto ops = *rc::gen::container<std::vector<Op>>(rc::gen::build<Op>(
      rc::gen::set(&Op::kind, rc::gen::inRange(0, 3)),
      rc::gen::set(&Op::region_id, rc::gen::inRange<uint64_t>(1, 6)),
      rc::gen::set(&Op::key_bytes, rc::gen::inRange(0, 200))));
  const int rounds = *rc::gen::inRange(1, 5);
  // Media faults on top of the crashes: an I/O error, or a garbled write or
  // read, makes an Apply (or Open) fail, which the process then treats like
  // a crash. Cleared for the final recovery. Garbled writes and garbled
  // reads are not drawn together: a write's flipped bit that a read flips
  // back passes any read-back check and leaves a damaged last edit, which
  // recovery cannot tell from a torn write (docs/manifest-format.md).
  const int fault_kind = *rc::gen::inRange(0, 3);  // none, writes, reads
  sim::SimDiskFaults faults;
  if (fault_kind != 0) {
    faults.io_error_ppm = *rc::gen::inRange<uint32_t>(0, 50'000);
    const uint32_t garble_ppm = *rc::gen::inRange<uint32_t>(0, 200'000);
    if (fault_kind == 1) faults.write_corruption_ppm = garble_ppm;
    if (fault_kind == 2) faults.read_corruption_ppm = garble_ppm;
  }
  const bool faulty = fault_kind != 0;

  // The states recovery may legitimately yield: the acknowledged one and,
  // after a crash with an Apply in flight, the one that Apply would make.
  std::vector<ManifestState> candidates = {ManifestState{}};
  size_t next_op = 0;
  uint64_t serial = 0;
  for (int round = 0; round < rounds; ++round) {
    CrashPointDisk crash_disk(&disk, *rc::gen::inRange<uint64_t>(0, 80));
    disk.SetFaults(faults);
    absl::StatusOr<std::unique_ptr<Manifest>> opened =
        Manifest::Open(&crash_disk, options);
    if (!opened.ok()) {
      // Only the crash or an injected fault may stop Open.
      RC_ASSERT(crash_disk.crashed() || faulty);
      disk.Crash();
      continue;
    }
    Manifest& manifest = **opened;
    RC_ASSERT(MatchesAny(manifest, candidates));
    ManifestState acked;
    acked.ident = manifest.ident();
    acked.regions = manifest.regions();
    candidates = {acked};
    for (; next_op < ops.size(); ++next_op) {
      const ManifestEdit edit = MakeEdit(ops[next_op], ++serial);
      if (!ValidateEdit(edit, acked).ok()) continue;
      ManifestState next = acked;
      ApplyEdit(edit, &next);
      const absl::Status status = manifest.Apply(edit);
      if (!status.ok()) {
        RC_ASSERT(crash_disk.crashed() || faulty);
        candidates.push_back(std::move(next));
        ++next_op;
        break;
      }
      acked = std::move(next);
      candidates = {acked};
    }
    disk.Crash();
  }
  disk.SetFaults(sim::SimDiskFaults{});
  absl::StatusOr<std::unique_ptr<Manifest>> recovered =
      Manifest::Open(&disk, options);
  RC_ASSERT(recovered.ok());
  RC_ASSERT(MatchesAny(**recovered, candidates));
  RC_TAG(candidates.size() == 2 ? "in flight at the crash"
                                : "idle at the crash");
  RC_CLASSIFY(disk.stats().sectors_torn > 0, "torn sectors");
  RC_CLASSIFY(disk.stats().dir_ops_undone > 0, "directory operations undone");
  RC_CLASSIFY((*recovered)->stats().torn_tail_bytes_dropped > 0, "torn tail");
  RC_CLASSIFY((*recovered)->stats().file_number > 3, "3+ rewrites");
  RC_CLASSIFY(disk.stats().write_corruptions > 0, "garbled writes");
  RC_CLASSIFY(disk.stats().read_corruptions > 0, "garbled reads");
  RC_CLASSIFY(disk.stats().io_errors > 0, "I/O errors");
  RC_ASSERT((*recovered)->health().ok());
}

// The same property with a rewrite forced on every Apply, and no data kept
// past a crash unless synced, so each step of the rewrite protocol is the
// crash point in turn.
TEST(ManifestCrashTest, EveryCrashPointOfARewriteRecoversOldOrNew) {
  for (uint64_t budget = 0; budget < 40; ++budget) {
    for (uint64_t seed = 0; seed < 12; ++seed) {
      // Keep none, all, or each of the unsynced directory operations.
      sim::SimDiskOptions disk_options;
      disk_options.crash.dir_op_keep_ppm =
          seed == 0 ? 0 : (seed == 1 ? sim::kPpm : sim::kPpm / 2);
      sim::SimDisk disk(disk_options, Rng(seed));
      ManifestOptions options;
      options.edit_log_bytes_max = 1;
      ManifestState before;
      {
        absl::StatusOr<std::unique_ptr<Manifest>> manifest =
            Manifest::Open(&disk, options);
        ASSERT_TRUE(manifest.ok());
        ASSERT_TRUE((*manifest)->Apply(PutEdit(MakeRecord(1, "", ""))).ok());
        before.regions = (*manifest)->regions();
      }
      ManifestState after = before;
      // Larger than the file so far, so that it rewrites (the threshold is
      // at least twice the size of the file's full-state edit).
      const ManifestEdit edit =
          PutEdit(MakeRecord(2, std::string(300, 'k'), ""));
      ApplyEdit(edit, &after);
      CrashPointDisk crash_disk(&disk, budget);
      absl::StatusOr<std::unique_ptr<Manifest>> manifest =
          Manifest::Open(&crash_disk, options);
      const bool acked = manifest.ok() && (*manifest)->Apply(edit).ok();
      if (acked) {
        EXPECT_EQ((*manifest)->stats().rewrites, 1U);
      }
      disk.Crash();
      manifest = Manifest::Open(&disk, options);
      ASSERT_TRUE(manifest.ok())
          << budget << " " << seed << " " << manifest.status();
      if (acked) {
        EXPECT_TRUE(Matches(**manifest, after)) << budget << " " << seed;
      } else {
        EXPECT_TRUE(Matches(**manifest, before) || Matches(**manifest, after))
            << budget << " " << seed;
      }
    }
  }
}

}  // namespace
}  // namespace raftstore::storage
