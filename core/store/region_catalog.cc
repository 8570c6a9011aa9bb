#include "core/store/region_catalog.h"

#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/btree_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "core/store/region_hooks.h"
#include "core/store/region_state.h"
#include "proto/region.pb.h"

namespace raftstore::store {
namespace {

std::string QuoteKey(const std::string& key) {
  return absl::StrCat("\"", absl::CHexEscape(key), "\"");
}

// Bad input whatever the catalog holds: id 0, an empty or inverted range,
// peer ids 0 or repeated.
absl::Status ValidateMeta(const meta::Region& region) {
  if (region.id() == 0) {
    return absl::InvalidArgumentError("region id 0 is not a region");
  }
  if (!region.end_key().empty() && region.start_key() >= region.end_key()) {
    return absl::InvalidArgumentError(
        absl::StrCat("region ", region.id(), ": range ", DescribeRange(region),
                     " is empty or inverted (start_key must be < end_key)"));
  }
  absl::btree_set<uint64_t> peer_ids;
  for (const meta::Peer& peer : region.peers()) {
    if (peer.id() == 0 || !peer_ids.insert(peer.id()).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("region ", region.id(), ": peer id ", peer.id(),
                       peer.id() == 0 ? " is 0" : " appears twice"));
    }
  }
  return absl::OkStatus();
}

bool SamePeers(const meta::Region& a, const meta::Region& b) {
  if (a.peers_size() != b.peers_size()) return false;
  for (int i = 0; i < a.peers_size(); ++i) {
    const meta::Peer& x = a.peers(i);
    const meta::Peer& y = b.peers(i);
    if (x.id() != y.id() || x.store_id() != y.store_id() ||
        x.role() != y.role()) {
      return false;
    }
  }
  return true;
}

// proto/region.proto: version rises with every range change, conf_version
// with every membership change, and neither ever falls.
absl::Status ValidateEpochChange(const meta::Region& old_meta,
                                 const meta::Region& new_meta) {
  const meta::RegionEpoch& old_epoch = old_meta.epoch();
  const meta::RegionEpoch& new_epoch = new_meta.epoch();
  std::string what;
  if (new_epoch.version() < old_epoch.version() ||
      new_epoch.conf_version() < old_epoch.conf_version()) {
    what = "epoch goes backwards";
  } else if ((old_meta.start_key() != new_meta.start_key() ||
              old_meta.end_key() != new_meta.end_key()) &&
             new_epoch.version() == old_epoch.version()) {
    what = absl::StrCat("range changes from ", DescribeRange(old_meta), " to ",
                        DescribeRange(new_meta), " without a higher version");
  } else if (!SamePeers(old_meta, new_meta) &&
             new_epoch.conf_version() == old_epoch.conf_version()) {
    what = "peers change without a higher conf_version";
  } else {
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "region ", new_meta.id(), ": ", what, " (version ", old_epoch.version(),
      " -> ", new_epoch.version(), ", conf_version ", old_epoch.conf_version(),
      " -> ", new_epoch.conf_version(), ")"));
}

}  // namespace

absl::Status RegionCatalogConfig::Validate() const {
  if (regions_max == 0) {
    return absl::InvalidArgumentError("region catalog: regions_max is 0");
  }
  return absl::OkStatus();
}

std::string DescribeRange(const meta::Region& region) {
  const std::string start =
      region.start_key().empty() ? "-inf" : QuoteKey(region.start_key());
  const std::string end =
      region.end_key().empty() ? "+inf" : QuoteKey(region.end_key());
  return absl::StrCat("[", start, ", ", end, ")");
}

RegionCatalog::RegionCatalog(const RegionCatalogConfig& config)
    : config_(config) {
  const absl::Status valid = config.Validate();
  RS_CHECK(valid.ok()) << valid;
  // The metrics go first, always, so their counts never depend on what the
  // store chains after them.
  const absl::Status added = hooks_.Add(&metrics_);
  RS_CHECK(added.ok()) << added;
}

absl::Status RegionCatalog::AddHooks(RegionHooks* hooks) {
  RS_CHECK(!notifying_) << "a region hook called back into the catalog";
  return hooks_.Add(hooks);
}

absl::Status RegionCatalog::Insert(const meta::Region& region) {
  RS_CHECK(!notifying_) << "a region hook called back into the catalog";
  if (absl::Status valid = ValidateMeta(region); !valid.ok()) return valid;
  if (auto it = regions_.find(region.id()); it != regions_.end()) {
    if (it->second.state == meta::REGION_STATE_TOMBSTONE) {
      return absl::FailedPreconditionError(
          absl::StrCat("region ", region.id(),
                       " is a tombstone on this store and is never recreated"));
    }
    return absl::AlreadyExistsError(
        absl::StrCat("region ", region.id(), " is already in the catalog (",
                     RegionStateName(it->second.state), ")"));
  }
  if (regions_.size() >= config_.regions_max) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "region catalog holds regions_max=", config_.regions_max,
        " regions (tombstones included); cannot insert region ", region.id()));
  }
  if (std::optional<uint64_t> other = FindOverlap(region)) {
    return OverlapError(region, *other);
  }
  RegionRecord& record = regions_[region.id()];
  record.region = region;
  record.state = meta::REGION_STATE_NEW;
  by_start_.emplace(region.start_key(), region.id());
  NotifyUpdate(record);
  return absl::OkStatus();
}

absl::Status RegionCatalog::InsertRemoved(const meta::Region& region,
                                          meta::RegionState state) {
  RS_CHECK(!notifying_) << "a region hook called back into the catalog";
  if (state != meta::REGION_STATE_REMOVING &&
      state != meta::REGION_STATE_TOMBSTONE) {
    return absl::InvalidArgumentError(absl::StrCat("region ", region.id(), ": ",
                                                   RegionStateName(state),
                                                   " is not a removed state"));
  }
  if (absl::Status valid = ValidateMeta(region); !valid.ok()) return valid;
  if (auto it = regions_.find(region.id()); it != regions_.end()) {
    return absl::AlreadyExistsError(
        absl::StrCat("region ", region.id(), " is already in the catalog (",
                     RegionStateName(it->second.state), ")"));
  }
  if (regions_.size() >= config_.regions_max) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "region catalog holds regions_max=", config_.regions_max,
        " regions (tombstones included); cannot insert region ", region.id()));
  }
  RegionRecord& record = regions_[region.id()];
  record.region = region;
  record.state = state;
  NotifyUpdate(record);
  return absl::OkStatus();
}

absl::Status RegionCatalog::Transition(uint64_t region_id,
                                       meta::RegionState to) {
  RS_CHECK(!notifying_) << "a region hook called back into the catalog";
  auto it = regions_.find(region_id);
  if (it == regions_.end()) {
    return absl::NotFoundError(absl::StrCat(
        "region ", region_id, " is not in the catalog (transition to ",
        RegionStateName(to), ")"));
  }
  RegionRecord& record = it->second;
  if (absl::Status valid = ValidateTransition(record.state, to, region_id);
      !valid.ok()) {
    return valid;
  }
  if (OwnsRange(record.state) && !OwnsRange(to)) {
    const size_t erased = by_start_.erase(record.region.start_key());
    RS_CHECK_EQ(erased, 1u) << "region " << region_id << " was not routed";
  }
  // No valid transition enters a routed state from an unrouted one.
  RS_CHECK(!OwnsRange(to) || OwnsRange(record.state));
  record.state = to;
  NotifyUpdate(record);
  return absl::OkStatus();
}

absl::Status RegionCatalog::Update(const meta::Region& region) {
  RS_CHECK(!notifying_) << "a region hook called back into the catalog";
  if (absl::Status valid = ValidateMeta(region); !valid.ok()) return valid;
  auto it = regions_.find(region.id());
  if (it == regions_.end()) {
    return absl::NotFoundError(absl::StrCat("region ", region.id(),
                                            " is not in the catalog (update)"));
  }
  RegionRecord& record = it->second;
  if (record.state == meta::REGION_STATE_TOMBSTONE) {
    return absl::FailedPreconditionError(absl::StrCat(
        "region ", region.id(), " is a tombstone; its meta is final"));
  }
  if (absl::Status epoch = ValidateEpochChange(record.region, region);
      !epoch.ok()) {
    return epoch;
  }
  if (OwnsRange(record.state)) {
    // Route the new range in place of the old one, unless it overlaps.
    by_start_.erase(record.region.start_key());
    if (std::optional<uint64_t> other = FindOverlap(region)) {
      by_start_.emplace(record.region.start_key(), region.id());
      return OverlapError(region, *other);
    }
    by_start_.emplace(region.start_key(), region.id());
  }
  record.region = region;
  NotifyUpdate(record);
  return absl::OkStatus();
}

absl::Status RegionCatalog::Remove(uint64_t region_id) {
  RS_CHECK(!notifying_) << "a region hook called back into the catalog";
  auto it = regions_.find(region_id);
  if (it == regions_.end()) {
    return absl::NotFoundError(
        absl::StrCat("region ", region_id, " is not in the catalog (remove)"));
  }
  if (it->second.state != meta::REGION_STATE_TOMBSTONE) {
    return absl::FailedPreconditionError(absl::StrCat(
        "region ", region_id, " is ", RegionStateName(it->second.state),
        "; only a Tombstone region can be removed from the catalog"));
  }
  meta::Region copy = it->second.region;
  regions_.erase(it);
  notifying_ = true;
  hooks_.OnRegionRemove(copy);
  notifying_ = false;
  return absl::OkStatus();
}

absl::Status RegionCatalog::NotifyPeerStart(uint64_t region_id) {
  RS_CHECK(!notifying_) << "a region hook called back into the catalog";
  if (!regions_.contains(region_id)) {
    return absl::NotFoundError(absl::StrCat(
        "region ", region_id, " is not in the catalog (peer start)"));
  }
  notifying_ = true;
  hooks_.OnPeerStart(region_id);
  notifying_ = false;
  return absl::OkStatus();
}

absl::Status RegionCatalog::NotifyPeerStop(uint64_t region_id) {
  RS_CHECK(!notifying_) << "a region hook called back into the catalog";
  if (!regions_.contains(region_id)) {
    return absl::NotFoundError(absl::StrCat(
        "region ", region_id, " is not in the catalog (peer stop)"));
  }
  notifying_ = true;
  hooks_.OnPeerStop(region_id);
  notifying_ = false;
  return absl::OkStatus();
}

std::optional<meta::Region> RegionCatalog::FindByKey(
    std::string_view key) const {
  // The routed region with the greatest start key <= key is the only one
  // that can hold it, since routed ranges do not overlap.
  auto it = by_start_.upper_bound(key);
  if (it == by_start_.begin()) return std::nullopt;
  --it;
  const meta::Region& region = regions_.at(it->second).region;
  if (!region.end_key().empty() && key >= region.end_key()) return std::nullopt;
  return region;
}

absl::StatusOr<RegionRecord> RegionCatalog::Get(uint64_t region_id) const {
  auto it = regions_.find(region_id);
  if (it == regions_.end()) {
    return absl::NotFoundError(
        absl::StrCat("region ", region_id, " is not in the catalog"));
  }
  return it->second;
}

std::vector<RegionRecord> RegionCatalog::RegionSnapshot() const {
  std::vector<RegionRecord> records;
  records.reserve(regions_.size());
  for (const auto& entry : regions_) records.push_back(entry.second);
  return records;
}

RegionMetricsSnapshot RegionCatalog::CountByState() const {
  RegionMetricsSnapshot counts;
  for (const auto& entry : regions_)
    CountRegionState(entry.second.state, &counts);
  return counts;
}

void RegionCatalog::CheckInvariants() const {
  RS_CHECK_LE(regions_.size(), config_.regions_max);
  size_t routed = 0;
  for (const auto& entry : regions_) {
    const RegionRecord& record = entry.second;
    RS_CHECK_EQ(entry.first, record.region.id());
    if (!OwnsRange(record.state)) continue;
    ++routed;
    auto it = by_start_.find(record.region.start_key());
    RS_CHECK(it != by_start_.end() && it->second == entry.first)
        << "region " << entry.first << " is not routed by its start key";
  }
  RS_CHECK_EQ(routed, by_start_.size());
  const meta::Region* previous = nullptr;
  for (const auto& route : by_start_) {
    const meta::Region& region = regions_.at(route.second).region;
    if (previous != nullptr) {
      RS_CHECK(!previous->end_key().empty() &&
               previous->end_key() <= region.start_key())
          << "regions " << previous->id() << " " << DescribeRange(*previous)
          << " and " << region.id() << " " << DescribeRange(region)
          << " overlap";
    }
    previous = &region;
  }
  RS_CHECK(metrics_.Snapshot() == CountByState())
      << "metrics " << metrics_.ToString() << " vs. catalog "
      << RegionMetricsToString(CountByState());
}

std::vector<uint64_t> RegionCatalog::Overlaps(
    const meta::Region& region) const {
  std::vector<uint64_t> ids;
  const std::string& start = region.start_key();
  const std::string& end = region.end_key();
  auto it = by_start_.upper_bound(start);
  if (it != by_start_.begin()) {
    const auto previous = std::prev(it);
    const std::string& previous_end =
        regions_.at(previous->second).region.end_key();
    if (previous_end.empty() || previous_end > start) {
      ids.push_back(previous->second);
    }
  }
  for (; it != by_start_.end() && (end.empty() || it->first < end); ++it) {
    ids.push_back(it->second);
  }
  std::erase(ids, region.id());
  return ids;
}

std::optional<uint64_t> RegionCatalog::FindOverlap(
    const meta::Region& region) const {
  const std::string& start = region.start_key();
  const std::string& end = region.end_key();
  auto next = by_start_.upper_bound(start);
  if (next != by_start_.begin()) {
    const auto previous = std::prev(next);
    const std::string& previous_end =
        regions_.at(previous->second).region.end_key();
    if (previous_end.empty() || previous_end > start) return previous->second;
  }
  if (next != by_start_.end() && (end.empty() || end > next->first)) {
    return next->second;
  }
  return std::nullopt;
}

absl::Status RegionCatalog::OverlapError(const meta::Region& region,
                                         uint64_t other_id) const {
  const meta::Region& other = regions_.at(other_id).region;
  return absl::FailedPreconditionError(
      absl::StrCat("region ", region.id(), " ", DescribeRange(region),
                   " overlaps region ", other_id, " ", DescribeRange(other),
                   " (", RegionStateName(regions_.at(other_id).state), ")"));
}

void RegionCatalog::NotifyUpdate(const RegionRecord& record) {
  // A copy per notification: no hook ever holds a reference into the catalog.
  // Not const: a hook that casts the constness away changes only this copy.
  meta::Region copy = record.region;
  notifying_ = true;
  hooks_.OnRegionUpdate(copy, record.state);
  notifying_ = false;
}

}  // namespace raftstore::store
