#include "core/store/region_hooks.h"

#include <algorithm>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "proto/region.pb.h"

namespace raftstore::store {

// The defaults ignore the event: a hook overrides only what it observes.
void RegionHooks::OnRegionUpdate(const meta::Region& /*region*/,
                                 meta::RegionState /*state*/) {}
void RegionHooks::OnRegionRemove(const meta::Region& /*region*/) {}
void RegionHooks::OnPeerStart(uint64_t /*region_id*/) {}
void RegionHooks::OnPeerStop(uint64_t /*region_id*/) {}

absl::Status RegionHookChain::Add(RegionHooks* hooks) {
  if (hooks == nullptr) {
    return absl::InvalidArgumentError("region hook chain: null hooks");
  }
  if (hooks == this ||
      std::find(hooks_.begin(), hooks_.end(), hooks) != hooks_.end()) {
    return absl::InvalidArgumentError(
        "region hook chain: hooks already registered (or the chain itself)");
  }
  if (hooks_.size() >= kHooksMax) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "region hook chain: already holds hooks_max=", kHooksMax, " hooks"));
  }
  hooks_.push_back(hooks);
  return absl::OkStatus();
}

void RegionHookChain::OnRegionUpdate(const meta::Region& region,
                                     meta::RegionState state) {
  for (RegionHooks* hooks : hooks_) hooks->OnRegionUpdate(region, state);
}

void RegionHookChain::OnRegionRemove(const meta::Region& region) {
  for (RegionHooks* hooks : hooks_) hooks->OnRegionRemove(region);
}

void RegionHookChain::OnPeerStart(uint64_t region_id) {
  for (RegionHooks* hooks : hooks_) hooks->OnPeerStart(region_id);
}

void RegionHookChain::OnPeerStop(uint64_t region_id) {
  for (RegionHooks* hooks : hooks_) hooks->OnPeerStop(region_id);
}

void RegionMetrics::OnRegionUpdate(const meta::Region& region,
                                   meta::RegionState state) {
  states_[region.id()] = state;
}

void RegionMetrics::OnRegionRemove(const meta::Region& region) {
  states_.erase(region.id());
}

RegionMetricsSnapshot RegionMetrics::Snapshot() const {
  RegionMetricsSnapshot snapshot;
  for (const auto& entry : states_) CountRegionState(entry.second, &snapshot);
  return snapshot;
}

void CountRegionState(meta::RegionState state, RegionMetricsSnapshot* counts) {
  ++counts->region_total;
  switch (state) {
    case meta::REGION_STATE_NEW:
      ++counts->region_new;
      break;
    case meta::REGION_STATE_RUNNING:
      ++counts->region_running;
      break;
    case meta::REGION_STATE_REMOVING:
      ++counts->region_removing;
      break;
    case meta::REGION_STATE_TOMBSTONE:
      ++counts->region_tombstone;
      break;
    default:
      ++counts->region_other;
      break;
  }
}

std::string RegionMetrics::ToString() const {
  return RegionMetricsToString(Snapshot());
}

std::string RegionMetricsToString(const RegionMetricsSnapshot& snapshot) {
  return absl::StrCat("region_total=", snapshot.region_total,
                      " region_new=", snapshot.region_new,
                      " region_running=", snapshot.region_running,
                      " region_removing=", snapshot.region_removing,
                      " region_tombstone=", snapshot.region_tombstone,
                      " region_other=", snapshot.region_other);
}

}  // namespace raftstore::store
