#include "core/storage/manifest/manifest.h"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/container/btree_map.h"
#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "core/storage/manifest/frame.h"
#include "core/storage/manifest/manifest_format.h"

namespace raftstore::storage {

using manifest::ManifestEdit;
using manifest::RegionRecord;
using manifest::StoreIdent;

struct ManifestListing {
  bool has_current = false;
  bool has_current_temp = false;
  absl::btree_map<uint64_t, std::string> manifests;  // by number
};

namespace {

// A repeated message field costs a one-byte tag and at most a five-byte
// length on top of the message itself (for messages under 4 GiB).
constexpr uint64_t kFieldOverheadBytesMax = 6;
// full_state = true: a tag and a one-byte varint.
constexpr uint64_t kFullStateFlagBytes = 2;

uint64_t RecordBoundBytes(const RegionRecord& record) {
  return record.ByteSizeLong() + kFieldOverheadBytesMax;
}

uint64_t FullStateBoundBytes(const ManifestState& state) {
  uint64_t bytes = kFullStateFlagBytes;
  if (state.ident.has_value()) {
    bytes += state.ident->ByteSizeLong() + kFieldOverheadBytesMax;
  }
  for (const auto& entry : state.regions) {
    bytes += RecordBoundBytes(entry.second);
  }
  return bytes;
}

absl::StatusOr<ManifestListing> ListManifestFiles(Disk* disk) {
  absl::StatusOr<std::vector<std::string>> names = disk->List();
  if (!names.ok()) return names.status();
  ManifestListing listing;
  for (const std::string& name : *names) {
    if (name == kCurrentFileName) {
      listing.has_current = true;
    } else if (name == kCurrentTempFileName) {
      listing.has_current_temp = true;
    } else if (std::optional<uint64_t> number = ParseManifestFileName(name)) {
      listing.manifests[*number] = name;
    }
  }
  return listing;
}

// The whole file, which must be at most `bytes_max` long (kDataLoss: no
// writer of ours produces a longer one, so it is damage, and reading it
// could exhaust memory).
absl::StatusOr<std::string> ReadWholeFile(Disk* disk, const std::string& name,
                                          uint64_t bytes_max) {
  absl::StatusOr<uint64_t> size = disk->Size(name);
  if (!size.ok()) return size.status();
  if (*size > bytes_max) {
    return absl::DataLossError(
        absl::StrCat(name, " is ", *size, " bytes, more than the ", bytes_max,
                     " any writer of this format produces"));
  }
  absl::StatusOr<std::string> bytes = disk->Read(name, 0, *size);
  if (!bytes.ok()) return bytes.status();
  if (bytes->size() != *size) {
    return absl::UnavailableError(
        absl::StrCat(name, ": read ", bytes->size(), " bytes of ", *size));
  }
  return bytes;
}

// Appends `data` at `offset` (the file's size), syncs, and reads it back.
// The read-back catches a write the medium garbled (SimDisk's write
// corruption and misdirected writes; on a real disk, corruption on the way
// to the page cache): such an edit fails instead of being acknowledged and
// later dropped as a torn tail.
absl::Status AppendSyncVerify(Disk* disk, const std::string& name,
                              uint64_t offset, const std::string& data) {
  if (absl::Status s = disk->Append(name, data); !s.ok()) return s;
  if (absl::Status s = disk->Sync(name); !s.ok()) return s;
  absl::StatusOr<std::string> back = disk->Read(name, offset, data.size());
  if (!back.ok()) return back.status();
  if (*back != data) {
    return absl::DataLossError(absl::StrCat(
        name, " at offset ", offset,
        ": the bytes read back after Sync differ from those written"));
  }
  return absl::OkStatus();
}

// The live manifest as CURRENT names it, decoded and replayed.
struct LiveManifest {
  uint64_t number = 0;
  std::string name;
  uint64_t file_bytes = 0;
  DecodedManifestFile decoded;
  ManifestState state;
};

absl::StatusOr<LiveManifest> LoadLiveManifest(Disk* disk,
                                              const ManifestListing& listing) {
  absl::StatusOr<std::string> current =
      ReadWholeFile(disk, std::string(kCurrentFileName), kCurrentFileBytesMax);
  if (!current.ok()) return current.status();
  absl::StatusOr<uint64_t> number = ParseCurrentFile(*current);
  if (!number.ok()) return number.status();
  LiveManifest live;
  live.number = *number;
  live.name = ManifestFileName(*number);
  if (!listing.manifests.contains(*number)) {
    return absl::DataLossError(absl::StrCat(std::string(kCurrentFileName),
                                            " names ", live.name,
                                            ", which does not exist"));
  }
  absl::StatusOr<std::string> bytes =
      ReadWholeFile(disk, live.name, kManifestFileBytesMax);
  if (!bytes.ok()) return bytes.status();
  live.file_bytes = bytes->size();
  absl::StatusOr<DecodedManifestFile> decoded =
      DecodeManifestFile(live.name, *bytes);
  if (!decoded.ok()) return decoded.status();
  if (decoded->torn_tail_bytes > 0) {
    // Open drops a torn tail for good, so make sure it is on the medium and
    // not a read that flipped a bit in the last acknowledged edit.
    absl::StatusOr<std::string> again =
        ReadWholeFile(disk, live.name, kManifestFileBytesMax);
    if (!again.ok()) return again.status();
    if (*again != *bytes) {
      return absl::UnavailableError(
          absl::StrCat(live.name,
                       ": two reads returned different bytes; not trusting "
                       "either to decide what is a torn tail"));
    }
  }
  live.decoded = *std::move(decoded);
  absl::StatusOr<ManifestState> state =
      ReplayManifestEdits(live.name, live.decoded.edits);
  if (!state.ok()) return state.status();
  live.state = *std::move(state);
  return live;
}

}  // namespace

absl::Status ValidateManifestOptions(const ManifestOptions& options) {
  if (options.edit_log_bytes_max < 1 ||
      options.edit_log_bytes_max > kManifestFileBytesMax / 2) {
    return absl::InvalidArgumentError(absl::StrCat(
        "ManifestOptions.edit_log_bytes_max is ", options.edit_log_bytes_max,
        "; it must be in [1, ", kManifestFileBytesMax / 2, "]"));
  }
  if (options.edit_bytes_max < 1 ||
      options.edit_bytes_max > kManifestRecordBytesMax) {
    return absl::InvalidArgumentError(absl::StrCat(
        "ManifestOptions.edit_bytes_max is ", options.edit_bytes_max,
        "; it must be in [1, ", kManifestRecordBytesMax, "]"));
  }
  if (options.regions_max < 1) {
    return absl::InvalidArgumentError(
        "ManifestOptions.regions_max is 0; it must be at least 1");
  }
  return absl::OkStatus();
}

Manifest::Manifest(Disk* disk, const ManifestOptions& options)
    : disk_(disk), options_(options) {
  RS_CHECK(disk_ != nullptr);
}

absl::StatusOr<std::unique_ptr<Manifest>> Manifest::Open(
    Disk* disk, const ManifestOptions& options) {
  if (absl::Status s = ValidateManifestOptions(options); !s.ok()) return s;
  absl::StatusOr<ManifestListing> listing = ListManifestFiles(disk);
  if (!listing.ok()) return listing.status();
  // Not make_unique: the constructor is private.
  std::unique_ptr<Manifest> manifest(new Manifest(disk, options));
  if (!listing->manifests.empty()) {
    // Numbers are never reused, not even those of leftovers.
    manifest->next_number_ = listing->manifests.rbegin()->first + 1;
  }
  const absl::Status status = listing->has_current
                                  ? manifest->Recover(*listing)
                                  : manifest->StartFresh(*listing);
  if (!status.ok()) return status;
  return manifest;
}

absl::Status Manifest::StartFresh(const ManifestListing& listing) {
  // The first Open writes exactly the bytes of an empty manifest before
  // CURRENT exists, so a crash there leaves MANIFEST files no longer than
  // that. Anything longer held state and lost its CURRENT: starting empty
  // would silently drop the catalog.
  const uint64_t empty_bytes = EncodeNewManifestFile(ManifestState{}).size();
  for (const auto& entry : listing.manifests) {
    absl::StatusOr<uint64_t> size = disk_->Size(entry.second);
    if (!size.ok()) return size.status();
    if (*size > empty_bytes) {
      return absl::DataLossError(
          absl::StrCat(entry.second, " holds ", *size,
                       " bytes but there is no ", std::string(kCurrentFileName),
                       "; refusing to start from an empty catalog"));
    }
  }
  if (absl::Status s = RemoveStale(listing); !s.ok()) return s;
  return Rewrite(ManifestState{});
}

absl::Status Manifest::Recover(const ManifestListing& listing) {
  absl::StatusOr<LiveManifest> live = LoadLiveManifest(disk_, listing);
  if (!live.ok()) return live.status();
  if (live->state.regions.size() > options_.regions_max) {
    return absl::ResourceExhaustedError(
        absl::StrCat(live->name, " holds ", live->state.regions.size(),
                     " regions, more than ManifestOptions.regions_max = ",
                     options_.regions_max));
  }
  full_state_bytes_bound_ = FullStateBoundBytes(live->state);
  if (full_state_bytes_bound_ > kManifestRecordBytesMax) {
    return absl::DataLossError(absl::StrCat(
        live->name, ": the catalog's full state would be over ",
        kManifestRecordBytesMax, " bytes, which no writer produces"));
  }
  const std::vector<DecodedEdit>& edits = live->decoded.edits;
  state_ = std::move(live->state);
  live_number_ = live->number;
  file_bytes_ = live->decoded.valid_bytes;
  base_bytes_ = edits.size() > 1 ? edits[1].offset : file_bytes_;
  stats_.torn_tail_bytes_dropped = live->decoded.torn_tail_bytes;
  if (absl::Status s = RemoveStale(listing); !s.ok()) return s;
  // A torn tail stays in the file; appending after it would make it look
  // like damage followed by valid edits. Start a clean file instead.
  if (live->decoded.torn_tail_bytes > 0) return Rewrite(state_);
  return absl::OkStatus();
}

// Removes CURRENT.tmp and every MANIFEST file but the live one. No SyncDir:
// a removal a crash undoes brings back a leftover the next Open removes.
absl::Status Manifest::RemoveStale(const ManifestListing& listing) {
  if (listing.has_current_temp) {
    if (absl::Status s = disk_->Remove(std::string(kCurrentTempFileName));
        !s.ok()) {
      return s;
    }
    ++stats_.stale_files_removed;
  }
  for (const auto& entry : listing.manifests) {
    if (entry.first == live_number_) continue;
    if (absl::Status s = disk_->Remove(entry.second); !s.ok()) return s;
    ++stats_.stale_files_removed;
  }
  return absl::OkStatus();
}

absl::Status Manifest::CheckIdent(const StoreIdent& expected) const {
  if (!state_.ident.has_value()) return absl::OkStatus();
  if (state_.ident->cluster_id() == expected.cluster_id() &&
      state_.ident->store_id() == expected.store_id()) {
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError(absl::StrCat(
      ManifestFileName(live_number_), ": this data directory belongs to store ",
      state_.ident->store_id(), " of cluster ", state_.ident->cluster_id(),
      ", not store ", expected.store_id(), " of cluster ",
      expected.cluster_id()));
}

absl::Status Manifest::CheckBounds(const ManifestEdit& edit) const {
  uint64_t regions = state_.regions.size();
  uint64_t bytes = full_state_bytes_bound_;
  for (const uint64_t id : edit.removed_region_ids()) {
    --regions;
    bytes -= RecordBoundBytes(state_.regions.at(id));
  }
  for (const RegionRecord& record : edit.put_regions()) {
    auto it = state_.regions.find(record.region_id());
    if (it == state_.regions.end()) {
      ++regions;
    } else {
      bytes -= RecordBoundBytes(it->second);
    }
    bytes += RecordBoundBytes(record);
  }
  if (edit.has_ident() && !state_.ident.has_value()) {
    bytes += edit.ident().ByteSizeLong() + kFieldOverheadBytesMax;
  }
  if (regions > options_.regions_max) {
    return absl::ResourceExhaustedError(
        absl::StrCat("the edit would make ", regions,
                     " regions, more than ManifestOptions.regions_max = ",
                     options_.regions_max));
  }
  if (bytes > kManifestRecordBytesMax) {
    return absl::ResourceExhaustedError(
        absl::StrCat("the edit would make the catalog's full state about ",
                     bytes, " bytes, more than the ", kManifestRecordBytesMax,
                     " one record may hold"));
  }
  return absl::OkStatus();
}

absl::Status Manifest::Apply(const ManifestEdit& edit) {
  if (!poison_.ok()) return poison_;
  if (edit.full_state()) {
    return absl::InvalidArgumentError(
        "ManifestEdit.full_state is set; only the manifest writes full states");
  }
  if (absl::Status s = ValidateEdit(edit, state_); !s.ok()) return s;
  const std::string payload = SerializeEdit(edit);
  if (payload.size() > options_.edit_bytes_max) {
    return absl::ResourceExhaustedError(
        absl::StrCat("the edit is ", payload.size(),
                     " bytes, more than ManifestOptions.edit_bytes_max = ",
                     options_.edit_bytes_max));
  }
  if (absl::Status s = CheckBounds(edit); !s.ok()) return s;
  std::string frame;
  storage::AppendFrame(&frame, payload);
  absl::Status status;
  if (file_bytes_ + frame.size() > RewriteThresholdBytes()) {
    ManifestState next = state_;
    ApplyEdit(edit, &next);
    status = Rewrite(std::move(next));
  } else {
    status = AppendAndSync(frame);
    if (status.ok()) ApplyEdit(edit, &state_);
  }
  if (!status.ok()) {
    poison_ = absl::Status(
        status.code(),
        absl::StrCat("the manifest failed earlier and must be reopened: ",
                     status.message()));
    return status;
  }
  full_state_bytes_bound_ = FullStateBoundBytes(state_);
  ++stats_.edits_applied;
  return absl::OkStatus();
}

absl::Status Manifest::AppendAndSync(const std::string& frame) {
  const std::string name = ManifestFileName(live_number_);
  if (absl::Status s = AppendSyncVerify(disk_, name, file_bytes_, frame);
      !s.ok()) {
    return s;
  }
  file_bytes_ += frame.size();
  return absl::OkStatus();
}

uint64_t Manifest::RewriteThresholdBytes() const {
  return std::max(options_.edit_log_bytes_max, 2 * base_bytes_);
}

absl::Status Manifest::WriteCurrentTemp(uint64_t number) {
  const std::string temp(kCurrentTempFileName);
  if (absl::Status s = disk_->Create(temp); !s.ok()) return s;
  return AppendSyncVerify(disk_, temp, 0, EncodeCurrentFile(number));
}

absl::Status Manifest::Rewrite(ManifestState state) {
  const uint64_t number = next_number_++;
  const std::string name = ManifestFileName(number);
  const std::string bytes = EncodeNewManifestFile(state);
  if (absl::Status s = disk_->Create(name); !s.ok()) return s;
  if (absl::Status s = AppendSyncVerify(disk_, name, 0, bytes); !s.ok()) {
    return s;
  }
  if (absl::Status s = WriteCurrentTemp(number); !s.ok()) return s;
  // Both new names must be durable before CURRENT may point at one of them:
  // a crash may keep any subset of unsynced directory operations.
  if (absl::Status s = disk_->SyncDir(); !s.ok()) return s;
  if (absl::Status s = disk_->Rename(std::string(kCurrentTempFileName),
                                     std::string(kCurrentFileName));
      !s.ok()) {
    return s;
  }
  // The commit point: until this returns, a crash may revert the rename and
  // recover the old file, which is still intact.
  if (absl::Status s = disk_->SyncDir(); !s.ok()) return s;
  const uint64_t old_number = live_number_;
  state_ = std::move(state);
  live_number_ = number;
  file_bytes_ = bytes.size();
  base_bytes_ = bytes.size();
  ++stats_.rewrites;
  if (old_number == 0) return absl::OkStatus();
  return disk_->Remove(ManifestFileName(old_number));
}

ManifestStats Manifest::stats() const {
  ManifestStats stats = stats_;
  stats.file_number = live_number_;
  stats.file_bytes = file_bytes_;
  stats.base_bytes = base_bytes_;
  stats.regions = state_.regions.size();
  return stats;
}

absl::StatusOr<ManifestDump> ReadManifest(Disk* disk) {
  absl::StatusOr<ManifestListing> listing = ListManifestFiles(disk);
  if (!listing.ok()) return listing.status();
  if (!listing->has_current) {
    return absl::NotFoundError(
        absl::StrCat("no ", std::string(kCurrentFileName),
                     " file: the directory holds no manifest"));
  }
  absl::StatusOr<LiveManifest> live = LoadLiveManifest(disk, *listing);
  if (!live.ok()) return live.status();
  ManifestDump dump;
  dump.file_name = live->name;
  dump.file_bytes = live->file_bytes;
  dump.file = std::move(live->decoded);
  dump.state = std::move(live->state);
  return dump;
}

}  // namespace raftstore::storage
