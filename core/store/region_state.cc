#include "core/store/region_state.h"

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "proto/region.pb.h"

namespace raftstore::store {

std::string RegionStateName(meta::RegionState state) {
  switch (state) {
    case meta::REGION_STATE_UNSPECIFIED:
      return "Unspecified";
    case meta::REGION_STATE_NEW:
      return "New";
    case meta::REGION_STATE_RUNNING:
      return "Running";
    case meta::REGION_STATE_REMOVING:
      return "Removing";
    case meta::REGION_STATE_TOMBSTONE:
      return "Tombstone";
    default:
      return absl::StrCat("RegionState(", static_cast<int>(state), ")");
  }
}

bool IsValidTransition(meta::RegionState from, meta::RegionState to) {
  switch (from) {
    case meta::REGION_STATE_NEW:
      return to == meta::REGION_STATE_RUNNING;
    case meta::REGION_STATE_RUNNING:
      return to == meta::REGION_STATE_REMOVING ||
             to == meta::REGION_STATE_TOMBSTONE;
    case meta::REGION_STATE_REMOVING:
      return to == meta::REGION_STATE_TOMBSTONE;
    default:
      // UNSPECIFIED, TOMBSTONE (final) and undeclared values go nowhere.
      return false;
  }
}

absl::Status ValidateTransition(meta::RegionState from, meta::RegionState to,
                                std::optional<uint64_t> region_id) {
  if (IsValidTransition(from, to)) return absl::OkStatus();
  std::string prefix;
  if (region_id.has_value()) prefix = absl::StrCat("region ", *region_id, ": ");
  return absl::FailedPreconditionError(absl::StrCat(
      prefix, "invalid state transition ", RegionStateName(from), " -> ",
      RegionStateName(to),
      " (valid: New -> Running, Running -> Removing, Running -> Tombstone, "
      "Removing -> Tombstone)"));
}

bool OwnsRange(meta::RegionState state) {
  return state == meta::REGION_STATE_NEW || state == meta::REGION_STATE_RUNNING;
}

}  // namespace raftstore::store
