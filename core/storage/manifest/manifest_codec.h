// The pure half of the manifest: file names, the CURRENT pointer, the
// catalog state an edit log describes, edit validation, and the decoding of
// a whole MANIFEST file image with its torn-tail versus corruption policy
// (docs/manifest-format.md). No I/O: Manifest (manifest.h) does the reads,
// writes and syncs, and the fuzzers call these directly.
//
// Thread-safety: pure functions and plain values.
#ifndef RAFTSTORE_CORE_STORAGE_MANIFEST_MANIFEST_CODEC_H_
#define RAFTSTORE_CORE_STORAGE_MANIFEST_MANIFEST_CODEC_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proto/manifest.pb.h"

namespace raftstore::storage {

// The version of RegionLocalState (proto/region.proto) this code writes and
// reads.
inline constexpr uint32_t kRegionLocalStateFormatVersion = 1;

// "MANIFEST-000007" for 7 (at least kManifestNumberDigitsMin digits).
std::string ManifestFileName(uint64_t number);

// The number of a MANIFEST-<digits> name (1 to 20 digits, value fits in
// uint64_t), or nullopt for any other name (including MANIFEST-x.tmp).
std::optional<uint64_t> ParseManifestFileName(std::string_view name);

// The contents of a CURRENT file naming MANIFEST-<number>.
std::string EncodeCurrentFile(uint64_t number);

// The manifest number CURRENT names. kDataLoss naming CURRENT when the bytes
// are not exactly what EncodeCurrentFile writes (garbage, a torn or damaged
// write, a checksum mismatch).
absl::StatusOr<uint64_t> ParseCurrentFile(std::string_view bytes);

// What an edit log describes: the store identity (once set) and the region
// catalog keyed by region id.
struct ManifestState {
  std::optional<manifest::StoreIdent> ident;
  absl::btree_map<uint64_t, manifest::RegionRecord> regions;

  bool operator==(const ManifestState& other) const;
};

// OK when `edit` can be applied to `state`:
//   - a full_state edit: no removed ids, and its own records valid;
//   - otherwise: each removed id is in the catalog, no id twice in the edit,
//     and an ident equal to the existing one if there is one.
// Every record needs region_id != 0, local_state.region.id == region_id, a
// declared non-UNSPECIFIED state and local_state.format_version ==
// kRegionLocalStateFormatVersion; an ident needs both ids non-zero.
// kInvalidArgument naming the region and the problem; kFailedPrecondition
// for a RegionLocalState format_version newer than this binary knows.
absl::Status ValidateEdit(const manifest::ManifestEdit& edit,
                          const ManifestState& state);

// Applies an edit ValidateEdit accepted (RS_CHECK otherwise).
void ApplyEdit(const manifest::ManifestEdit& edit, ManifestState* state);

// The full_state edit that recreates `state`: the first edit of every
// MANIFEST file.
manifest::ManifestEdit FullStateEdit(const ManifestState& state);

// Deterministic serialisation of an edit (the frame payload).
std::string SerializeEdit(const manifest::ManifestEdit& edit);

// The bytes of a new MANIFEST file: preamble and the full-state frame.
std::string EncodeNewManifestFile(const ManifestState& state);

struct DecodedEdit {
  uint64_t offset = 0;  // where the edit's frame starts in the file
  manifest::ManifestEdit edit;
};

struct DecodedManifestFile {
  uint32_t format_version = 0;
  std::vector<DecodedEdit> edits;
  // Bytes up to the end of the last good frame.
  uint64_t valid_bytes = 0;
  // Bytes after valid_bytes: the remains of an append that a crash cut
  // short (never acknowledged, since Apply returns only after Sync).
  uint64_t torn_tail_bytes = 0;
};

// Decodes the image of a MANIFEST file. A damaged frame with no valid frame
// anywhere after it is a torn tail: decoding stops there and reports its
// size. A damaged frame followed by a valid one is kDataLoss naming `file`
// and the offset (something acknowledged was damaged). Also kDataLoss: a bad
// preamble, a frame whose checksum holds but whose payload is not a
// ManifestEdit; kFailedPrecondition for a newer format version.
absl::StatusOr<DecodedManifestFile> DecodeManifestFile(const std::string& file,
                                                       std::string_view bytes);

// Replays decoded edits into a state: the first must be full_state, no other
// may be, and each must pass ValidateEdit against the state before it.
// kDataLoss naming `file` and the edit's offset otherwise (kFailedPrecondition
// for a record of a newer format version).
absl::StatusOr<ManifestState> ReplayManifestEdits(
    const std::string& file, const std::vector<DecodedEdit>& edits);

}  // namespace raftstore::storage

#endif  // RAFTSTORE_CORE_STORAGE_MANIFEST_MANIFEST_CODEC_H_
