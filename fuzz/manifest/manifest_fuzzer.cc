// Fuzzes manifest recovery: arbitrary bytes as a MANIFEST file (and,
// optionally, as CURRENT) must never crash, hang or leak, and must decode to
// a consistent answer:
//   - the pure decoder accounts for every byte (valid + torn tail), and a
//     state it recovers re-encodes to a file that recovers the same state;
//   - Manifest::Open on a SimDisk holding the files agrees with the
//     read-only ReadManifest, fails only with the documented codes, and when
//     it succeeds the manifest accepts a new edit and recovers it on reopen.
//
// Input: byte 0 bit 0 clear: CURRENT is a valid pointer to MANIFEST-000001
// and the rest is that file. Set: byte 1 is a length n, the next n bytes
// are CURRENT, and the rest is MANIFEST-000001.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "core/base/check.h"
#include "core/base/rng.h"
#include "core/storage/manifest/manifest.h"
#include "core/storage/manifest/manifest_codec.h"
#include "proto/manifest.pb.h"
#include "sim/disk.h"

namespace raftstore::storage {
namespace {

constexpr char kManifestName[] = "MANIFEST-000001";

void CheckDecoder(const std::string& bytes) {
  absl::StatusOr<DecodedManifestFile> decoded =
      DecodeManifestFile(kManifestName, bytes);
  if (!decoded.ok()) return;
  RS_CHECK_EQ(decoded->valid_bytes + decoded->torn_tail_bytes, bytes.size());
  absl::StatusOr<ManifestState> state =
      ReplayManifestEdits(kManifestName, decoded->edits);
  if (!state.ok()) return;
  const std::string again = EncodeNewManifestFile(*state);
  absl::StatusOr<DecodedManifestFile> redecoded =
      DecodeManifestFile(kManifestName, again);
  RS_CHECK(redecoded.ok()) << redecoded.status();
  absl::StatusOr<ManifestState> restate =
      ReplayManifestEdits(kManifestName, redecoded->edits);
  RS_CHECK(restate.ok()) << restate.status();
  RS_CHECK(*restate == *state);
}

void WriteFile(sim::SimDisk* disk, const std::string& name,
               const std::string& bytes) {
  RS_CHECK(disk->Create(name).ok());
  RS_CHECK(disk->Append(name, bytes).ok());
  RS_CHECK(disk->Sync(name).ok());
}

ManifestState StateOf(const Manifest& manifest) {
  ManifestState state;
  state.ident = manifest.ident();
  state.regions = manifest.regions();
  return state;
}

// An edit any recovered catalog accepts: a region one past the largest id,
// or nullopt when the largest id is already the maximum.
std::optional<manifest::ManifestEdit> NewRegionEdit(const Manifest& manifest) {
  uint64_t id = 1;
  if (!manifest.regions().empty()) {
    const uint64_t largest = manifest.regions().rbegin()->first;
    if (largest == ~uint64_t{0}) return std::nullopt;
    id = largest + 1;
  }
  manifest::ManifestEdit edit;
  manifest::RegionRecord* record = edit.add_put_regions();
  record->set_region_id(id);
  meta::RegionLocalState* local = record->mutable_local_state();
  local->set_format_version(kRegionLocalStateFormatVersion);
  local->set_state(meta::REGION_STATE_RUNNING);
  local->mutable_region()->set_id(id);
  return edit;
}

void CheckOpen(const std::string& current, const std::string& bytes) {
  sim::SimDisk disk(sim::SimDiskOptions{}, Rng(1));
  WriteFile(&disk, "CURRENT", current);
  WriteFile(&disk, kManifestName, bytes);
  RS_CHECK(disk.SyncDir().ok());
  const absl::StatusOr<ManifestDump> dump = ReadManifest(&disk);
  absl::StatusOr<std::unique_ptr<Manifest>> manifest =
      Manifest::Open(&disk, ManifestOptions{});
  RS_CHECK_EQ(dump.ok(), manifest.ok()) << manifest.status();
  if (!manifest.ok()) {
    const absl::StatusCode code = manifest.status().code();
    RS_CHECK(code == absl::StatusCode::kDataLoss ||
             code == absl::StatusCode::kFailedPrecondition)
        << manifest.status();
    return;
  }
  RS_CHECK(dump->state == StateOf(**manifest));
  const std::optional<manifest::ManifestEdit> edit = NewRegionEdit(**manifest);
  if (!edit.has_value()) return;
  const absl::Status applied = (*manifest)->Apply(*edit);
  RS_CHECK(applied.ok()) << applied;
  ManifestState expected = dump->state;
  ApplyEdit(*edit, &expected);
  manifest->reset();
  disk.Crash();
  manifest = Manifest::Open(&disk, ManifestOptions{});
  RS_CHECK(manifest.ok()) << manifest.status();
  RS_CHECK(StateOf(**manifest) == expected);
}

}  // namespace
}  // namespace raftstore::storage

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string current = raftstore::storage::EncodeCurrentFile(1);
  size_t start = 1;
  if ((data[0] & 1) != 0) {
    if (size < 2) return 0;
    const size_t current_bytes = data[1];
    if (size < 2 + current_bytes) return 0;
    current = std::string(input.substr(2, current_bytes));
    start = 2 + current_bytes;
  }
  const std::string bytes(input.substr(start));
  raftstore::storage::CheckDecoder(bytes);
  raftstore::storage::CheckOpen(current, bytes);
  return 0;
}
