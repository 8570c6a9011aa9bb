// The region catalog of one store: every region the store knows, by id, with
// its lifecycle state (region_state.h), and the routing of keys to regions.
//
// Routing: a region serves [start_key, end_key); an empty start_key is the
// beginning of the key space and an empty end_key its end (+infinity). Only
// regions that own their range (New and Running, see OwnsRange) are routed,
// and their ranges never overlap: Insert and Update refuse a range that would
// overlap another routed region. Removing and Tombstone regions stay in the
// catalog (a tombstone is remembered so the region is never recreated) but
// leave the routing, so a merge can hand their range to a neighbour.
//
// Order of a split, for the caller: Update the parent to its shrunk range
// (version raised), then Insert the child. Of a merge: Transition the source
// to Removing or Tombstone, then Update the target to the merged range.
//
// Epochs never go backwards: Update refuses a lower version or conf_version,
// a range change without a higher version, and a peer change without a
// higher conf_version (proto/region.proto: version is raised by a split or
// merge, conf_version by a membership change).
//
// Hooks: the catalog owns a RegionHookChain whose first hook is always its
// RegionMetrics, and calls it after every successful Insert, Transition and
// Update (OnRegionUpdate with the new state) and Remove (OnRegionRemove).
// Every meta the catalog hands out, to a hook or a caller, is a copy.
//
// Bound: at most regions_max regions, tombstones included (they occupy a slot
// until Remove drops them); beyond it Insert answers kResourceExhausted.
//
// Deterministic: btree containers only; RegionSnapshot is ordered by id.
// Thread-safety: none; owned and used by one store.
#ifndef RAFTSTORE_CORE_STORE_REGION_CATALOG_H_
#define RAFTSTORE_CORE_STORE_REGION_CATALOG_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/store/region_hooks.h"
#include "proto/region.pb.h"

namespace raftstore::store {

struct RegionCatalogConfig {
  // Regions the catalog holds, in every state.
  size_t regions_max = 65536;

  // kInvalidArgument if regions_max is 0.
  absl::Status Validate() const;
};

// A region's meta and its state on this store: a copy, never an alias.
struct RegionRecord {
  meta::Region region;
  meta::RegionState state = meta::REGION_STATE_UNSPECIFIED;
};

// "[\"a\", \"c\")" with C escapes; an empty start key prints as -inf and an
// empty end key as +inf. For error messages and tools.
std::string DescribeRange(const meta::Region& region);

class RegionCatalog {
 public:
  // Precondition: config.Validate() is OK (RS_CHECKed).
  explicit RegionCatalog(const RegionCatalogConfig& config);
  // Not copyable or movable: the hook chain points at the member metrics.
  RegionCatalog(const RegionCatalog&) = delete;
  RegionCatalog& operator=(const RegionCatalog&) = delete;

  // Chains `hooks` after the metrics and any hooks added before (not owned;
  // must outlive the catalog). Errors as RegionHookChain::Add.
  absl::Status AddHooks(RegionHooks* hooks);

  // Adds `region` in state New and routes its range. Errors:
  // kInvalidArgument: id 0, start_key >= a non-empty end_key, a peer id 0 or
  //   a peer id twice;
  // kFailedPrecondition: the id is a tombstone here (never recreated), or the
  //   range overlaps a routed region (the message names both and their
  //   ranges);
  // kAlreadyExists: the id is in the catalog in another state;
  // kResourceExhausted: the catalog already holds regions_max regions.
  absl::Status Insert(const meta::Region& region);

  // Restores a region that is gone from this store (state Removing or
  // Tombstone, as the manifest recorded it) without routing its range,
  // which may belong to another region by now (a merge took it in). Errors
  // as for Insert, except overlaps; kInvalidArgument for another state.
  absl::Status InsertRemoved(const meta::Region& region,
                             meta::RegionState state);

  // Moves region_id to state `to` (region_state.h); leaving New/Running
  // removes it from routing. Errors: kNotFound for an unknown id;
  // kFailedPrecondition for an invalid transition.
  absl::Status Transition(uint64_t region_id, meta::RegionState to);

  // Replaces the meta (epoch, range, peers) of region.id(). Errors:
  // kNotFound for an unknown id; kInvalidArgument as for Insert;
  // kFailedPrecondition for a tombstone, an epoch going backwards, a range
  // change without a higher version, a peer change without a higher
  // conf_version, or (if the region is routed) an overlap.
  absl::Status Update(const meta::Region& region);

  // Drops a Tombstone region from the catalog (freeing its slot) and calls
  // OnRegionRemove. The caller must have persisted whatever keeps it from
  // being recreated. Errors: kNotFound; kFailedPrecondition when the region
  // is not a tombstone (it must pass through Tombstone first).
  absl::Status Remove(uint64_t region_id);

  // Calls OnPeerStart / OnPeerStop on the chain for region_id. Errors:
  // kNotFound for an unknown id.
  absl::Status NotifyPeerStart(uint64_t region_id);
  absl::Status NotifyPeerStop(uint64_t region_id);

  // The ids of the routed regions other than region.id() whose ranges
  // overlap region's range, ascending by start key.
  std::vector<uint64_t> Overlaps(const meta::Region& region) const;
  // The routed region whose range holds `key` (a copy), if any.
  std::optional<meta::Region> FindByKey(std::string_view key) const;
  // A copy of region_id's meta and state; kNotFound for an unknown id.
  absl::StatusOr<RegionRecord> Get(uint64_t region_id) const;
  // Copies of every region, in every state, ordered by id.
  std::vector<RegionRecord> RegionSnapshot() const;
  // Counts by state, from the catalog itself (the metrics must agree).
  RegionMetricsSnapshot CountByState() const;
  const RegionMetrics& metrics() const { return metrics_; }
  size_t size() const { return regions_.size(); }
  size_t regions_max() const { return config_.regions_max; }

  // RS_CHECKs that routing holds exactly the New and Running regions, by
  // their start keys, without overlap, and that the metrics agree with
  // CountByState. Linear; for tests and debug builds.
  void CheckInvariants() const;

 private:
  // The routed region overlapping [start_key, end_key), if any.
  std::optional<uint64_t> FindOverlap(const meta::Region& region) const;
  absl::Status OverlapError(const meta::Region& region,
                            uint64_t other_id) const;
  void NotifyUpdate(const RegionRecord& record);

  const RegionCatalogConfig config_;
  absl::btree_map<uint64_t, RegionRecord> regions_;
  // Start key -> id of each routed region. std::less<> looks up by
  // std::string_view without a copy.
  absl::btree_map<std::string, uint64_t, std::less<>> by_start_;
  RegionMetrics metrics_;
  RegionHookChain hooks_;
  // True while the chain runs: a hook calling back in is a bug.
  bool notifying_ = false;
};

}  // namespace raftstore::store

#endif  // RAFTSTORE_CORE_STORE_REGION_CATALOG_H_
