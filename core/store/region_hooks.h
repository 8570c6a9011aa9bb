// Callbacks on region and peer lifecycle events of one store, a chain that
// calls several of them in registration order, and RegionMetrics, the
// built-in recorder of region counts by state that the RegionCatalog always
// registers first (so the counts are right whatever else is chained).
//
// Every meta::Region a hook receives is a copy made for the notification,
// never a reference into the catalog: nothing a hook does to it reaches the
// catalog. The hooks of one chain share that copy (a hook that casts away
// const would be seen by the hooks after it, so none may), and the reference
// is valid only during the call: a hook that keeps the meta copies it.
//
// A hook must not call back into the object that notifies it (the catalog
// RS_CHECKs this): a mutation in the middle of a notification would reorder
// events for the hooks later in the chain.
//
// Thread-safety: none; a chain and its hooks are used by one store's thread.
#ifndef RAFTSTORE_CORE_STORE_REGION_HOOKS_H_
#define RAFTSTORE_CORE_STORE_REGION_HOOKS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/status/status.h"
#include "proto/region.pb.h"

namespace raftstore::store {

// Every method has an empty default, so a hook overrides only what it needs.
class RegionHooks {
 public:
  virtual ~RegionHooks() = default;

  // A region was inserted, changed state, or had its meta (epoch, range,
  // peers) updated; `state` is its state after the change.
  virtual void OnRegionUpdate(const meta::Region& region,
                              meta::RegionState state);
  // A region left the catalog for good (its tombstone was dropped).
  virtual void OnRegionRemove(const meta::Region& region);
  // The store started / stopped the local peer of region_id.
  virtual void OnPeerStart(uint64_t region_id);
  virtual void OnPeerStop(uint64_t region_id);
};

// Calls each registered hook, in registration order. Does not own them.
class RegionHookChain final : public RegionHooks {
 public:
  // A store chains the metrics plus a few observers; more is a bug.
  static constexpr size_t kHooksMax = 16;

  // Appends `hooks` (not owned; must outlive the chain). Errors:
  // kInvalidArgument for null, or for a hook already in the chain (it would
  // see every event twice); kResourceExhausted beyond kHooksMax.
  absl::Status Add(RegionHooks* hooks);
  size_t size() const { return hooks_.size(); }

  void OnRegionUpdate(const meta::Region& region,
                      meta::RegionState state) override;
  void OnRegionRemove(const meta::Region& region) override;
  void OnPeerStart(uint64_t region_id) override;
  void OnPeerStop(uint64_t region_id) override;

 private:
  std::vector<RegionHooks*> hooks_;
};

// Region counts of a store, named as the stats output names them.
struct RegionMetricsSnapshot {
  size_t region_total = 0;
  size_t region_new = 0;
  size_t region_running = 0;
  size_t region_removing = 0;
  size_t region_tombstone = 0;
  // Regions last reported in a state that is none of the four (unspecified
  // or undeclared): always 0 when only a RegionCatalog reports.
  size_t region_other = 0;

  friend bool operator==(const RegionMetricsSnapshot&,
                         const RegionMetricsSnapshot&) = default;
};

// Records the last state reported for each region; a removed region is
// forgotten. Memory is one map entry per region, so it is bounded by the
// catalog's regions_max when chained to a catalog.
class RegionMetrics final : public RegionHooks {
 public:
  void OnRegionUpdate(const meta::Region& region,
                      meta::RegionState state) override;
  void OnRegionRemove(const meta::Region& region) override;

  RegionMetricsSnapshot Snapshot() const;
  // One line: "region_total=3 region_new=1 region_running=2 ...".
  std::string ToString() const;

 private:
  absl::btree_map<uint64_t, meta::RegionState> states_;
};

// Adds one region in `state` to `counts` (total and the state's count).
void CountRegionState(meta::RegionState state, RegionMetricsSnapshot* counts);

// Formats a snapshot as RegionMetrics::ToString does.
std::string RegionMetricsToString(const RegionMetricsSnapshot& snapshot);

}  // namespace raftstore::store

#endif  // RAFTSTORE_CORE_STORE_REGION_HOOKS_H_
