// The lifecycle of a region on one store (meta::RegionState,
// proto/region.proto) and the only transitions it may take:
//
//   NEW -> RUNNING -> REMOVING -> TOMBSTONE
//             \______________________^
//
// NEW is a region created here (by a split or a message) that has no running
// peer yet; RUNNING serves; REMOVING is merged away or has lost its peer and
// waits for data cleanup; TOMBSTONE is gone for good, and is remembered so a
// late message can never recreate it. Nothing leaves TOMBSTONE and nothing
// goes back: a region that went backwards could serve a range it no longer
// owns. REGION_STATE_UNSPECIFIED (proto3's zero) and undeclared values are
// never valid, in either position.
//
// Thread-safety: pure functions.
#ifndef RAFTSTORE_CORE_STORE_REGION_STATE_H_
#define RAFTSTORE_CORE_STORE_REGION_STATE_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "proto/region.pb.h"

namespace raftstore::store {

// "New", "Running", "Removing", "Tombstone", "Unspecified", or
// "RegionState(<n>)" for a value the enum does not declare.
std::string RegionStateName(meta::RegionState state);

// Whether `from -> to` is one of the four valid transitions.
bool IsValidTransition(meta::RegionState from, meta::RegionState to);

// OK for a valid transition; otherwise kFailedPrecondition whose message names
// both states (and the region, when region_id is given), for example
// "region 7: invalid state transition Tombstone -> Running".
absl::Status ValidateTransition(
    meta::RegionState from, meta::RegionState to,
    std::optional<uint64_t> region_id = std::nullopt);

// Whether a region in `state` owns its key range for routing: NEW and RUNNING
// do (a NEW region from a split already owns its half), REMOVING and
// TOMBSTONE do not (a merge hands their range to the neighbour).
bool OwnsRange(meta::RegionState state);

}  // namespace raftstore::store

#endif  // RAFTSTORE_CORE_STORE_REGION_STATE_H_
