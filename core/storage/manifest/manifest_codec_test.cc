#include "core/storage/manifest/manifest_codec.h"

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/storage/manifest/frame.h"
#include "core/storage/manifest/manifest_format.h"
#include "core/storage/manifest/manifest_testing.h"
#include "gtest/gtest.h"
#include "rapidcheck/gtest.h"

namespace raftstore::storage {
namespace {

using manifest::ManifestEdit;
using manifest::RegionRecord;
using manifest_testing::IdentEdit;
using manifest_testing::MakeRecord;
using manifest_testing::PutEdit;
using manifest_testing::RemoveEdit;

// A MANIFEST image: preamble, a full state of `initial`, then `edits`.
std::string BuildFile(const ManifestState& initial,
                      const std::vector<ManifestEdit>& edits) {
  std::string bytes = EncodeNewManifestFile(initial);
  for (const ManifestEdit& edit : edits) {
    AppendFrame(&bytes, SerializeEdit(edit));
  }
  return bytes;
}

std::vector<ManifestEdit> ThreeEdits() {
  return {IdentEdit(9, 4), PutEdit(MakeRecord(1, "", "m")),
          PutEdit(MakeRecord(2, "m", ""))};
}

ManifestState StateAfter(const std::vector<ManifestEdit>& edits) {
  ManifestState state;
  for (const ManifestEdit& edit : edits) {
    EXPECT_TRUE(ValidateEdit(edit, state).ok());
    ApplyEdit(edit, &state);
  }
  return state;
}

absl::StatusOr<ManifestState> DecodeAndReplay(const std::string& bytes) {
  absl::StatusOr<DecodedManifestFile> decoded =
      DecodeManifestFile("MANIFEST-000003", bytes);
  if (!decoded.ok()) return decoded.status();
  return ReplayManifestEdits("MANIFEST-000003", decoded->edits);
}

TEST(ManifestNameTest, NamesRoundTrip) {
  EXPECT_EQ(ManifestFileName(7), "MANIFEST-000007");
  EXPECT_EQ(ParseManifestFileName("MANIFEST-000007"), 7U);
  EXPECT_EQ(ParseManifestFileName("MANIFEST-7"), 7U);
  const uint64_t max = ~uint64_t{0};
  EXPECT_EQ(ParseManifestFileName(ManifestFileName(max)), max);
}

TEST(ManifestNameTest, OtherNamesAreNotManifests) {
  for (const char* name :
       {"MANIFEST-", "MANIFEST-000007.tmp", "MANIFEST-7x", "MANIFEST-+7",
        "MANIFEST- 7", "manifest-000007", "CURRENT",
        "MANIFEST-000000000000000000001", "MANIFEST-18446744073709551616"}) {
    EXPECT_FALSE(ParseManifestFileName(name).has_value()) << name;
  }
}

TEST(CurrentFileTest, RoundTrips) {
  const std::string bytes = EncodeCurrentFile(42);
  EXPECT_TRUE(absl::StartsWith(bytes, "MANIFEST-000042 ")) << bytes;
  absl::StatusOr<uint64_t> number = ParseCurrentFile(bytes);
  ASSERT_TRUE(number.ok()) << number.status();
  EXPECT_EQ(*number, 42U);
}

TEST(CurrentFileTest, EveryPrefixAndEveryFlippedByteIsDataLossNamingCurrent) {
  const std::string good = EncodeCurrentFile(42);
  std::vector<std::string> bad;
  for (size_t size = 0; size < good.size(); ++size) {
    bad.push_back(good.substr(0, size));
  }
  for (size_t i = 0; i < good.size(); ++i) {
    std::string flipped = good;
    flipped[i] = static_cast<char>(flipped[i] ^ 0x04);
    bad.push_back(flipped);
  }
  bad.push_back(good + good);
  bad.push_back("MANIFEST-42 " + good.substr(16));
  for (const std::string& bytes : bad) {
    const absl::StatusOr<uint64_t> number = ParseCurrentFile(bytes);
    ASSERT_FALSE(number.ok()) << bytes;
    EXPECT_EQ(number.status().code(), absl::StatusCode::kDataLoss);
    EXPECT_TRUE(absl::StartsWith(number.status().message(), "CURRENT"))
        << number.status();
  }
}

TEST(ValidateEditTest, AcceptsAValidEdit) {
  ManifestEdit edit = IdentEdit(1, 2);
  *edit.add_put_regions() = MakeRecord(5, "a", "b");
  EXPECT_TRUE(ValidateEdit(edit, ManifestState{}).ok());
}

TEST(ValidateEditTest, RefusesMalformedRecords) {
  std::vector<RegionRecord> bad(6, MakeRecord(5, "a", "b"));
  bad[0].set_region_id(0);
  bad[0].mutable_local_state()->mutable_region()->set_id(0);
  bad[1].mutable_local_state()->mutable_region()->set_id(6);
  bad[2].mutable_local_state()->set_format_version(0);
  bad[3].mutable_local_state()->set_state(meta::REGION_STATE_UNSPECIFIED);
  bad[4].mutable_local_state()->set_state(static_cast<meta::RegionState>(77));
  bad[5].clear_local_state();
  for (const RegionRecord& record : bad) {
    EXPECT_EQ(ValidateEdit(PutEdit(record), ManifestState{}).code(),
              absl::StatusCode::kInvalidArgument)
        << record.ShortDebugString();
  }
}

TEST(ValidateEditTest, NewerRegionLocalStateIsFailedPrecondition) {
  RegionRecord record = MakeRecord(5, "a", "b");
  record.mutable_local_state()->set_format_version(
      kRegionLocalStateFormatVersion + 1);
  EXPECT_EQ(ValidateEdit(PutEdit(record), ManifestState{}).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(ValidateEditTest, RefusesDuplicatesAndUnknownRemovals) {
  const ManifestState state = StateAfter({PutEdit(MakeRecord(1, "", ""))});
  ManifestEdit twice = PutEdit(MakeRecord(2, "", ""));
  *twice.add_put_regions() = MakeRecord(2, "", "");
  ManifestEdit put_and_remove = PutEdit(MakeRecord(1, "", ""));
  put_and_remove.add_removed_region_ids(1);
  ManifestEdit removed_twice = RemoveEdit(1);
  removed_twice.add_removed_region_ids(1);
  for (const ManifestEdit& edit :
       {twice, put_and_remove, removed_twice, RemoveEdit(3)}) {
    const absl::Status status = ValidateEdit(edit, state);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument)
        << edit.ShortDebugString();
    EXPECT_TRUE(absl::StrContains(status.message(), "region ")) << status;
  }
}

TEST(ValidateEditTest, IdentIsSetOnceAndNeverChanged) {
  const ManifestState state = StateAfter({IdentEdit(1, 2)});
  EXPECT_TRUE(ValidateEdit(IdentEdit(1, 2), state).ok());
  EXPECT_EQ(ValidateEdit(IdentEdit(1, 3), state).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateEdit(IdentEdit(0, 3), ManifestState{}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateEdit(IdentEdit(1, 0), ManifestState{}).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ApplyEditTest, RemoveThenPutAndFullStateRecreatesTheState) {
  const ManifestState state =
      StateAfter({IdentEdit(3, 4), PutEdit(MakeRecord(1, "", "k")),
                  PutEdit(MakeRecord(2, "k", "")), RemoveEdit(1),
                  PutEdit(MakeRecord(2, "k", "", 17))});
  ASSERT_EQ(state.regions.size(), 1U);
  EXPECT_EQ(state.regions.at(2).log().applied_index(), 17U);
  EXPECT_EQ(state.ident->store_id(), 4U);
  EXPECT_EQ(StateAfter({FullStateEdit(state)}), state);
  // A full state replaces everything, the ident included.
  ManifestState other = StateAfter({PutEdit(MakeRecord(9, "", ""))});
  ApplyEdit(FullStateEdit(state), &other);
  EXPECT_EQ(other, state);
}

TEST(DecodeManifestTest, DecodesEveryEditWithItsOffset) {
  const std::string bytes = BuildFile(ManifestState{}, ThreeEdits());
  absl::StatusOr<DecodedManifestFile> decoded =
      DecodeManifestFile("MANIFEST-000003", bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  ASSERT_EQ(decoded->edits.size(), 4U);
  EXPECT_EQ(decoded->edits[0].offset, kPreambleBytes);
  EXPECT_EQ(decoded->valid_bytes, bytes.size());
  EXPECT_EQ(decoded->torn_tail_bytes, 0U);
  absl::StatusOr<ManifestState> state = DecodeAndReplay(bytes);
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(*state, StateAfter(ThreeEdits()));
}

// A crash mid-append can leave any prefix of the last frame: recovery keeps
// every complete edit before it and reports the rest as a torn tail.
TEST(DecodeManifestTest, EveryTruncationOfTheLastEditIsATornTail) {
  const std::vector<ManifestEdit> edits = ThreeEdits();
  const std::string before = BuildFile(ManifestState{}, {edits[0], edits[1]});
  const std::string full = BuildFile(ManifestState{}, edits);
  for (size_t size = before.size(); size < full.size(); ++size) {
    absl::StatusOr<DecodedManifestFile> decoded =
        DecodeManifestFile("M", full.substr(0, size));
    ASSERT_TRUE(decoded.ok()) << size << " " << decoded.status();
    EXPECT_EQ(decoded->edits.size(), 3U);
    EXPECT_EQ(decoded->valid_bytes, before.size());
    EXPECT_EQ(decoded->torn_tail_bytes, size - before.size());
  }
}

TEST(DecodeManifestTest, ZeroedOrGarbageTailIsATornTail) {
  const std::string good = BuildFile(ManifestState{}, ThreeEdits());
  for (const std::string& tail :
       {std::string(100, '\0'), std::string("\x13\x00\x00\x00garbage", 11),
        std::string(4096, '\xff')}) {
    absl::StatusOr<DecodedManifestFile> decoded =
        DecodeManifestFile("M", good + tail);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(decoded->edits.size(), 4U);
    EXPECT_EQ(decoded->torn_tail_bytes, tail.size());
  }
}

TEST(DecodeManifestTest, DamageFollowedByValidEditsIsDataLossAtItsOffset) {
  const std::vector<ManifestEdit> edits = ThreeEdits();
  const std::string head = BuildFile(ManifestState{}, {edits[0]});
  const std::string full = BuildFile(ManifestState{}, edits);
  // Every byte of the second edit's frame (offset head.size()) is damaged
  // in turn; the third edit after it is intact.
  const size_t second_end =
      BuildFile(ManifestState{}, {edits[0], edits[1]}).size();
  for (size_t at = head.size(); at < second_end; ++at) {
    std::string bad = full;
    bad[at] = static_cast<char>(bad[at] ^ 0x20);
    absl::StatusOr<DecodedManifestFile> decoded =
        DecodeManifestFile("MANIFEST-000003", bad);
    ASSERT_FALSE(decoded.ok()) << at;
    EXPECT_EQ(decoded.status().code(), absl::StatusCode::kDataLoss);
    EXPECT_TRUE(absl::StrContains(
        decoded.status().message(),
        absl::StrCat("MANIFEST-000003 at offset ", head.size())))
        << decoded.status();
  }
}

TEST(DecodeManifestTest, BadPreambleAndNewerVersionNameTheFile) {
  std::string bytes = BuildFile(ManifestState{}, ThreeEdits());
  std::string wrong_magic = bytes;
  wrong_magic[0] = 'X';
  EXPECT_EQ(DecodeManifestFile("MANIFEST-000003", wrong_magic).status().code(),
            absl::StatusCode::kDataLoss);
  std::string newer =
      EncodePreamble(kManifestMagic, kManifestFormatVersion + 1) +
      bytes.substr(kPreambleBytes);
  const absl::Status status =
      DecodeManifestFile("MANIFEST-000003", newer).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(status.message(), "MANIFEST-000003")) << status;
}

TEST(DecodeManifestTest, AFrameThatIsNotAnEditIsDataLoss) {
  std::string bytes = EncodeNewManifestFile(ManifestState{});
  AppendFrame(&bytes, "\xff\xff\xff");  // not a protobuf
  EXPECT_EQ(DecodeManifestFile("M", bytes).status().code(),
            absl::StatusCode::kDataLoss);
}

TEST(ReplayManifestTest, RefusesMisplacedFullStatesAndInvalidEdits) {
  const std::string no_edits = EncodePreamble(kManifestMagic, 1);
  EXPECT_EQ(DecodeAndReplay(no_edits).status().code(),
            absl::StatusCode::kDataLoss);
  std::string not_full_first = EncodePreamble(kManifestMagic, 1);
  AppendFrame(&not_full_first, SerializeEdit(IdentEdit(1, 2)));
  EXPECT_EQ(DecodeAndReplay(not_full_first).status().code(),
            absl::StatusCode::kDataLoss);
  std::string two_full = BuildFile(ManifestState{}, {});
  AppendFrame(&two_full, SerializeEdit(FullStateEdit(ManifestState{})));
  EXPECT_EQ(DecodeAndReplay(two_full).status().code(),
            absl::StatusCode::kDataLoss);
  const std::string invalid = BuildFile(ManifestState{}, {RemoveEdit(8)});
  const absl::Status status = DecodeAndReplay(invalid).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_TRUE(absl::StrContains(
      status.message(),
      absl::StrCat("MANIFEST-000003 at offset ",
                   EncodeNewManifestFile(ManifestState{}).size())))
      << status;
}

// Any sequence of valid edits survives encoding; any cut of the file
// recovers exactly the state after some prefix of the edits.
RC_GTEST_PROP(ManifestCodecProperty, CutsRecoverAPrefixOfTheEdits, ()) {
  const auto ops = *rc::gen::container<std::vector<std::pair<int, int>>>(
      rc::gen::pair(rc::gen::inRange(0, 3), rc::gen::inRange(1, 6)));
  std::vector<ManifestEdit> edits;
  std::vector<ManifestState> states = {ManifestState{}};
  for (const auto& op : ops) {
    const uint64_t id = static_cast<uint64_t>(op.second);
    ManifestEdit edit;
    if (op.first == 0) {
      edit = PutEdit(
          MakeRecord(id, std::string(op.second, 'k'), "", edits.size()));
    } else if (op.first == 1) {
      edit = RemoveEdit(id);
    } else {
      edit = IdentEdit(7, 8);
    }
    if (!ValidateEdit(edit, states.back()).ok()) continue;
    ManifestState next = states.back();
    ApplyEdit(edit, &next);
    edits.push_back(edit);
    states.push_back(next);
  }
  const std::string bytes = BuildFile(ManifestState{}, edits);
  const size_t cut = *rc::gen::inRange<size_t>(
      EncodeNewManifestFile(ManifestState{}).size(), bytes.size() + 1);
  absl::StatusOr<ManifestState> state = DecodeAndReplay(bytes.substr(0, cut));
  RC_ASSERT(state.ok());
  bool matches_a_prefix = false;
  for (const ManifestState& candidate : states) {
    matches_a_prefix = matches_a_prefix || candidate == *state;
  }
  RC_ASSERT(matches_a_prefix);
  if (cut == bytes.size()) RC_ASSERT(*state == states.back());
}

}  // namespace
}  // namespace raftstore::storage
