#include "core/store/region_state.h"

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "proto/region.pb.h"

namespace raftstore::store {
namespace {

using meta::RegionState;

constexpr RegionState kUnspecified = meta::REGION_STATE_UNSPECIFIED;
constexpr RegionState kNew = meta::REGION_STATE_NEW;
constexpr RegionState kRunning = meta::REGION_STATE_RUNNING;
constexpr RegionState kRemoving = meta::REGION_STATE_REMOVING;
constexpr RegionState kTombstone = meta::REGION_STATE_TOMBSTONE;
const RegionState kUndeclared = static_cast<RegionState>(77);

struct TransitionCase {
  RegionState from;
  RegionState to;
  bool valid;
};

// Every ordered pair of the five declared values plus an undeclared one: the
// four valid transitions and nothing else.
TEST(RegionStateTest, OnlyTheFourTransitionsAreValid) {
  const RegionState states[] = {kUnspecified, kNew,       kRunning,
                                kRemoving,    kTombstone, kUndeclared};
  const TransitionCase valid[] = {{kNew, kRunning, true},
                                  {kRunning, kRemoving, true},
                                  {kRunning, kTombstone, true},
                                  {kRemoving, kTombstone, true}};
  int valid_seen = 0;
  for (RegionState from : states) {
    for (RegionState to : states) {
      bool expected = false;
      for (const TransitionCase& c : valid) {
        if (c.from == from && c.to == to) expected = true;
      }
      valid_seen += expected ? 1 : 0;
      SCOPED_TRACE(RegionStateName(from) + " -> " + RegionStateName(to));
      EXPECT_EQ(IsValidTransition(from, to), expected);
      const absl::Status status = ValidateTransition(from, to);
      if (expected) {
        EXPECT_TRUE(status.ok()) << status;
      } else {
        EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
        EXPECT_NE(status.message().find(RegionStateName(from) + " -> " +
                                        RegionStateName(to)),
                  absl::string_view::npos)
            << status;
      }
    }
  }
  EXPECT_EQ(valid_seen, 4);
}

TEST(RegionStateTest, TableOfNamedCases) {
  const TransitionCase cases[] = {
      {kNew, kRunning, true},
      {kRunning, kRemoving, true},
      {kRunning, kTombstone, true},
      {kRemoving, kTombstone, true},
      {kNew, kRemoving, false},
      {kNew, kTombstone, false},
      {kNew, kNew, false},
      {kRunning, kNew, false},
      {kRunning, kRunning, false},
      {kRemoving, kRunning, false},
      {kRemoving, kNew, false},
      {kRemoving, kRemoving, false},
      {kTombstone, kNew, false},
      {kTombstone, kRunning, false},
      {kTombstone, kRemoving, false},
      {kTombstone, kTombstone, false},
      {kUnspecified, kNew, false},
      {kUnspecified, kRunning, false},
      {kNew, kUnspecified, false},
      {kRunning, kUnspecified, false},
      {kUndeclared, kTombstone, false},
      {kRunning, kUndeclared, false},
  };
  for (const TransitionCase& c : cases) {
    EXPECT_EQ(ValidateTransition(c.from, c.to).ok(), c.valid)
        << RegionStateName(c.from) << " -> " << RegionStateName(c.to);
  }
}

TEST(RegionStateTest, ErrorNamesRegionAndStates) {
  const absl::Status status = ValidateTransition(kTombstone, kRunning, 7);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(status.message().find(
                "region 7: invalid state transition Tombstone -> Running"),
            absl::string_view::npos)
      << status;
  const absl::Status without_id = ValidateTransition(kNew, kTombstone);
  EXPECT_EQ(without_id.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(without_id.message().find("region"), absl::string_view::npos)
      << without_id;
}

TEST(RegionStateTest, NamesAndRouting) {
  EXPECT_EQ(RegionStateName(kNew), "New");
  EXPECT_EQ(RegionStateName(kRunning), "Running");
  EXPECT_EQ(RegionStateName(kRemoving), "Removing");
  EXPECT_EQ(RegionStateName(kTombstone), "Tombstone");
  EXPECT_EQ(RegionStateName(kUnspecified), "Unspecified");
  EXPECT_EQ(RegionStateName(kUndeclared), "RegionState(77)");
  EXPECT_TRUE(OwnsRange(kNew));
  EXPECT_TRUE(OwnsRange(kRunning));
  EXPECT_FALSE(OwnsRange(kRemoving));
  EXPECT_FALSE(OwnsRange(kTombstone));
  EXPECT_FALSE(OwnsRange(kUnspecified));
}

}  // namespace
}  // namespace raftstore::store
