#include "core/storage/manifest/manifest_codec.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/btree_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/base/check.h"
#include "core/storage/crc32c.h"
#include "core/storage/manifest/frame.h"
#include "core/storage/manifest/manifest_format.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace raftstore::storage {
namespace {

using manifest::ManifestEdit;
using manifest::RegionRecord;
using manifest::StoreIdent;

// The longest decimal uint64_t.
constexpr size_t kNumberDigitsMax = 20;

bool AllDigits(std::string_view text) {
  for (const char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return !text.empty();
}

std::string SerializeDeterministic(const google::protobuf::MessageLite& m) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    RS_CHECK(m.SerializeToCodedStream(&coded));
  }
  return out;
}

std::string IdentText(const StoreIdent& ident) {
  return absl::StrCat("store ", ident.store_id(), " of cluster ",
                      ident.cluster_id());
}

absl::Status ValidateRecord(const RegionRecord& record) {
  const uint64_t id = record.region_id();
  if (id == 0) {
    return absl::InvalidArgumentError("a region record has region_id 0");
  }
  const meta::RegionLocalState& local = record.local_state();
  if (local.region().id() != id) {
    return absl::InvalidArgumentError(absl::StrCat(
        "region ", id, ": local_state.region.id is ", local.region().id()));
  }
  if (local.format_version() > kRegionLocalStateFormatVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat("region ", id, ": RegionLocalState format_version ",
                     local.format_version(), " is newer than this binary's ",
                     kRegionLocalStateFormatVersion));
  }
  if (local.format_version() != kRegionLocalStateFormatVersion) {
    return absl::InvalidArgumentError(absl::StrCat(
        "region ", id, ": RegionLocalState format_version is ",
        local.format_version(), ", expected ", kRegionLocalStateFormatVersion));
  }
  if (local.state() == meta::REGION_STATE_UNSPECIFIED ||
      !meta::RegionState_IsValid(local.state())) {
    return absl::InvalidArgumentError(
        absl::StrCat("region ", id, ": state ", static_cast<int>(local.state()),
                     " is not a declared RegionState"));
  }
  return absl::OkStatus();
}

absl::Status ValidateIdent(const ManifestEdit& edit,
                           const ManifestState& state) {
  if (!edit.has_ident()) return absl::OkStatus();
  const StoreIdent& ident = edit.ident();
  if (ident.cluster_id() == 0 || ident.store_id() == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("store ident has a zero id: ", IdentText(ident)));
  }
  if (!edit.full_state() && state.ident.has_value() &&
      (state.ident->cluster_id() != ident.cluster_id() ||
       state.ident->store_id() != ident.store_id())) {
    return absl::InvalidArgumentError(
        absl::StrCat("store ident is already ", IdentText(*state.ident),
                     "; an edit cannot change it to ", IdentText(ident)));
  }
  return absl::OkStatus();
}

}  // namespace

std::string ManifestFileName(uint64_t number) {
  return absl::StrFormat("%s%0*d", std::string(kManifestFilePrefix),
                         kManifestNumberDigitsMin, number);
}

std::optional<uint64_t> ParseManifestFileName(std::string_view name) {
  if (name.substr(0, kManifestFilePrefix.size()) != kManifestFilePrefix) {
    return std::nullopt;
  }
  const std::string_view digits = name.substr(kManifestFilePrefix.size());
  if (digits.size() > kNumberDigitsMax || !AllDigits(digits)) {
    return std::nullopt;
  }
  uint64_t number = 0;
  if (!absl::SimpleAtoi(absl::string_view(digits.data(), digits.size()),
                        &number)) {
    return std::nullopt;  // more than uint64_t holds
  }
  return number;
}

std::string EncodeCurrentFile(uint64_t number) {
  const std::string name = ManifestFileName(number);
  return absl::StrFormat("%s %08x\n", name, MaskCrc(Crc32c(name)));
}

absl::StatusOr<uint64_t> ParseCurrentFile(std::string_view bytes) {
  const std::string file(kCurrentFileName);
  auto garbage = [&file](std::string_view why) {
    return absl::DataLossError(
        absl::StrCat(file, " is damaged: ", std::string(why),
                     " (expected \"MANIFEST-<number> <crc32c hex>\\n\")"));
  };
  if (bytes.size() > kCurrentFileBytesMax) {
    return garbage(
        absl::StrCat(bytes.size(), " bytes, more than ", kCurrentFileBytesMax));
  }
  if (bytes.empty() || bytes.back() != '\n') {
    return garbage("no terminating newline");
  }
  const size_t space = bytes.find(' ');
  if (space == std::string_view::npos) return garbage("no space");
  const std::string_view name = bytes.substr(0, space);
  const std::string_view hex =
      bytes.substr(space + 1, bytes.size() - space - 2);
  const std::optional<uint64_t> number = ParseManifestFileName(name);
  if (!number.has_value() || ManifestFileName(*number) != name) {
    return garbage("does not name a MANIFEST file");
  }
  if (bytes != EncodeCurrentFile(*number)) {
    return garbage(absl::StrCat("checksum \"", std::string(hex),
                                "\" does not match the name"));
  }
  return *number;
}

bool ManifestState::operator==(const ManifestState& other) const {
  return SerializeEdit(FullStateEdit(*this)) ==
         SerializeEdit(FullStateEdit(other));
}

absl::Status ValidateEdit(const ManifestEdit& edit,
                          const ManifestState& state) {
  if (absl::Status s = ValidateIdent(edit, state); !s.ok()) return s;
  if (edit.full_state() && edit.removed_region_ids_size() > 0) {
    return absl::InvalidArgumentError(
        "a full-state edit removes regions; it replaces the whole catalog");
  }
  absl::btree_set<uint64_t> seen;
  for (const uint64_t id : edit.removed_region_ids()) {
    if (!seen.insert(id).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("region ", id, " appears twice in one edit"));
    }
    if (!state.regions.contains(id)) {
      return absl::InvalidArgumentError(
          absl::StrCat("region ", id, " is removed but not in the catalog"));
    }
  }
  for (const RegionRecord& record : edit.put_regions()) {
    if (absl::Status s = ValidateRecord(record); !s.ok()) return s;
    if (!seen.insert(record.region_id()).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          "region ", record.region_id(), " appears twice in one edit"));
    }
  }
  return absl::OkStatus();
}

void ApplyEdit(const ManifestEdit& edit, ManifestState* state) {
  RS_CHECK(ValidateEdit(edit, *state).ok());
  if (edit.full_state()) {
    state->ident.reset();
    state->regions.clear();
  }
  if (edit.has_ident()) state->ident = edit.ident();
  for (const uint64_t id : edit.removed_region_ids()) {
    RS_CHECK_EQ(state->regions.erase(id), 1U);
  }
  for (const RegionRecord& record : edit.put_regions()) {
    state->regions[record.region_id()] = record;
  }
}

ManifestEdit FullStateEdit(const ManifestState& state) {
  ManifestEdit edit;
  edit.set_full_state(true);
  if (state.ident.has_value()) *edit.mutable_ident() = *state.ident;
  for (const auto& entry : state.regions) {
    *edit.add_put_regions() = entry.second;
  }
  return edit;
}

std::string SerializeEdit(const ManifestEdit& edit) {
  return SerializeDeterministic(edit);
}

std::string EncodeNewManifestFile(const ManifestState& state) {
  std::string out = EncodePreamble(kManifestMagic, kManifestFormatVersion);
  const std::string payload = SerializeEdit(FullStateEdit(state));
  RS_CHECK_LE(payload.size(), kManifestRecordBytesMax);
  AppendFrame(&out, payload);
  return out;
}

namespace {

// True when a frame that checks out and parses as an edit starts anywhere in
// [from, bytes.size()). Each candidate costs one read of its length and, only
// when the length fits, one checksum, so damage is cheap to scan past.
bool AnyValidFrameAfter(std::string_view bytes, uint64_t from) {
  for (uint64_t at = from; at + kFrameHeaderBytes <= bytes.size(); ++at) {
    const FrameView frame = ReadFrame(bytes, at, kManifestRecordBytesMax);
    if (frame.status != FrameStatus::kOk) continue;
    ManifestEdit edit;
    if (edit.ParseFromArray(frame.payload.data(),
                            static_cast<int>(frame.payload.size()))) {
      return true;
    }
  }
  return false;
}

}  // namespace

absl::StatusOr<DecodedManifestFile> DecodeManifestFile(const std::string& file,
                                                       std::string_view bytes) {
  DecodedManifestFile decoded;
  absl::StatusOr<uint32_t> version =
      DecodePreamble(file, bytes, kManifestMagic, kManifestFormatVersion);
  if (!version.ok()) return version.status();
  decoded.format_version = *version;
  uint64_t offset = kPreambleBytes;
  while (offset < bytes.size()) {
    const FrameView frame = ReadFrame(bytes, offset, kManifestRecordBytesMax);
    if (frame.status != FrameStatus::kOk) {
      if (AnyValidFrameAfter(bytes, offset + 1)) {
        return absl::DataLossError(absl::StrCat(
            file, " at offset ", offset, ": ",
            std::string(FrameStatusName(frame.status)),
            ", and valid edits follow it (corruption, not a torn write)"));
      }
      decoded.torn_tail_bytes = bytes.size() - offset;
      break;
    }
    DecodedEdit& out = decoded.edits.emplace_back();
    out.offset = offset;
    if (!out.edit.ParseFromArray(frame.payload.data(),
                                 static_cast<int>(frame.payload.size()))) {
      return absl::DataLossError(
          absl::StrCat(file, " at offset ", offset,
                       ": the checksum holds but the payload is not a "
                       "ManifestEdit"));
    }
    offset += FrameBytes(frame.length);
  }
  decoded.valid_bytes = offset;
  return decoded;
}

absl::StatusOr<ManifestState> ReplayManifestEdits(
    const std::string& file, const std::vector<DecodedEdit>& edits) {
  if (edits.empty()) {
    return absl::DataLossError(absl::StrCat(
        file, ": no edits; a MANIFEST file always starts with a full state"));
  }
  ManifestState state;
  for (size_t i = 0; i < edits.size(); ++i) {
    const DecodedEdit& decoded = edits[i];
    const std::string where =
        absl::StrCat(file, " at offset ", decoded.offset, ": ");
    if (decoded.edit.full_state() != (i == 0)) {
      return absl::DataLossError(
          absl::StrCat(where, i == 0 ? "the first edit is not a full state"
                                     : "a full-state edit after the first"));
    }
    const absl::Status valid = ValidateEdit(decoded.edit, state);
    if (absl::IsFailedPrecondition(valid)) {
      return absl::FailedPreconditionError(
          absl::StrCat(where, valid.message()));
    }
    if (!valid.ok()) {
      return absl::DataLossError(
          absl::StrCat(where, "invalid edit: ", valid.message()));
    }
    ApplyEdit(decoded.edit, &state);
  }
  return state;
}

}  // namespace raftstore::storage
