#include "core/client/region_cache.h"

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "proto/region.pb.h"

namespace raftstore::client {
namespace {

bool ValidMeta(const meta::Region& region) {
  if (region.id() == 0) return false;
  if (!region.end_key().empty() && region.start_key() >= region.end_key()) {
    return false;
  }
  for (const meta::Peer& peer : region.peers()) {
    if (peer.id() == 0) return false;
  }
  return true;
}

// True when `candidate` is older than `held` for the same region id.
bool OlderEpoch(const meta::RegionEpoch& candidate,
                const meta::RegionEpoch& held) {
  if (candidate.version() != held.version()) {
    return candidate.version() < held.version();
  }
  return candidate.conf_version() < held.conf_version();
}

bool HasPeer(const meta::Region& region, uint64_t peer_id) {
  for (const meta::Peer& peer : region.peers()) {
    if (peer.id() == peer_id) return true;
  }
  return false;
}

std::vector<meta::Peer> Voters(const meta::Region& region) {
  std::vector<meta::Peer> voters;
  for (const meta::Peer& peer : region.peers()) {
    if (peer.role() != meta::PEER_ROLE_LEARNER) voters.push_back(peer);
  }
  return voters;
}

}  // namespace

absl::Status RegionCacheConfig::Validate() const {
  if (regions_max == 0) {
    return absl::InvalidArgumentError(
        "region cache config: regions_max must be at least 1");
  }
  return absl::OkStatus();
}

RegionCache::RegionCache(const RegionCacheConfig& config) : config_(config) {
  const absl::Status valid = config_.Validate();
  RS_CHECK(valid.ok()) << valid.message();
}

RegionCache::Entry* RegionCache::FindEntry(uint64_t region_id) {
  auto id_it = by_id_.find(region_id);
  if (id_it == by_id_.end()) return nullptr;
  auto it = by_start_.find(id_it->second);
  RS_CHECK(it != by_start_.end()) << "region " << region_id;
  return &it->second;
}

void RegionCache::Touch(Entry& entry) {
  lru_.erase(entry.used);
  entry.used = next_stamp_++;
  lru_[entry.used] = entry.cached.region.id();
}

void RegionCache::Erase(uint64_t region_id) {
  auto id_it = by_id_.find(region_id);
  if (id_it == by_id_.end()) return;
  auto it = by_start_.find(id_it->second);
  RS_CHECK(it != by_start_.end()) << "region " << region_id;
  lru_.erase(it->second.used);
  by_start_.erase(it);
  by_id_.erase(id_it);
}

std::optional<CachedRegion> RegionCache::Lookup(std::string_view key) {
  auto it = by_start_.upper_bound(key);
  if (it == by_start_.begin()) return std::nullopt;
  --it;
  const meta::Region& region = it->second.cached.region;
  if (!region.end_key().empty() && key >= region.end_key()) {
    return std::nullopt;
  }
  Touch(it->second);
  return it->second.cached;
}

std::optional<CachedRegion> RegionCache::Find(uint64_t region_id) const {
  auto id_it = by_id_.find(region_id);
  if (id_it == by_id_.end()) return std::nullopt;
  return by_start_.find(id_it->second)->second.cached;
}

std::vector<uint64_t> RegionCache::Overlapping(
    const meta::Region& region) const {
  std::vector<uint64_t> ids;
  const std::string& start = region.start_key();
  const std::string& end = region.end_key();
  auto it = by_start_.upper_bound(start);
  if (it != by_start_.begin()) {
    const meta::Region& before = std::prev(it)->second.cached.region;
    if (before.end_key().empty() || before.end_key() > start) {
      ids.push_back(before.id());
    }
  }
  // Every entry starting inside [start, end) overlaps; entries are disjoint,
  // so the walk stops at the first one starting at or after `end`.
  for (; it != by_start_.end() && (end.empty() || it->first < end); ++it) {
    ids.push_back(it->second.cached.region.id());
  }
  return ids;
}

CacheUpdate RegionCache::Update(const meta::Region& region) {
  if (!ValidMeta(region)) return CacheUpdate::kInvalid;
  std::optional<meta::Peer> kept_leader;
  bool replaced = false;
  if (Entry* same = FindEntry(region.id()); same != nullptr) {
    if (OlderEpoch(region.epoch(), same->cached.region.epoch())) {
      return CacheUpdate::kStale;
    }
    const meta::Peer& leader = same->cached.leader;
    if (leader.id() != 0 &&
        (region.peers().empty() || HasPeer(region, leader.id()))) {
      kept_leader = leader;
    }
    replaced = true;
  }
  const std::vector<uint64_t> overlapping = Overlapping(region);
  for (uint64_t id : overlapping) {
    if (id == region.id()) continue;
    if (Find(id)->region.epoch().version() > region.epoch().version()) {
      return CacheUpdate::kStale;
    }
  }
  Erase(region.id());
  for (uint64_t id : overlapping) Erase(id);
  if (by_id_.size() >= config_.regions_max) {
    RS_CHECK(!lru_.empty());
    Erase(lru_.begin()->second);
  }
  Entry entry;
  entry.cached.region = region;
  if (kept_leader.has_value()) entry.cached.leader = *kept_leader;
  auto [it, inserted] = by_start_.emplace(region.start_key(), std::move(entry));
  RS_CHECK(inserted) << "region " << region.id() << " start key taken";
  by_id_[region.id()] = region.start_key();
  Touch(it->second);
  return replaced ? CacheUpdate::kReplaced : CacheUpdate::kInserted;
}

void RegionCache::OnNotLeader(uint64_t region_id,
                              const std::optional<meta::Peer>& leader) {
  Entry* entry = FindEntry(region_id);
  if (entry == nullptr) return;
  Touch(*entry);
  if (leader.has_value() && leader->id() != 0) {
    entry->cached.leader = *leader;
    return;
  }
  const uint64_t believed = entry->cached.leader.id();
  entry->cached.leader.Clear();
  if (believed == 0) return;  // already probing; TargetPeer moved on
  const std::vector<meta::Peer> voters = Voters(entry->cached.region);
  for (size_t i = 0; i < voters.size(); ++i) {
    if (voters[i].id() == believed) entry->probe = i + 1;
  }
}

void RegionCache::OnServed(uint64_t region_id, uint64_t store_id) {
  Entry* entry = FindEntry(region_id);
  if (entry == nullptr) return;
  for (const meta::Peer& peer : entry->cached.region.peers()) {
    if (peer.store_id() == store_id) {
      entry->cached.leader = peer;
      Touch(*entry);
      return;
    }
  }
}

std::optional<meta::Peer> RegionCache::TargetPeer(uint64_t region_id) {
  Entry* entry = FindEntry(region_id);
  if (entry == nullptr) return std::nullopt;
  Touch(*entry);
  if (entry->cached.leader.id() != 0) return entry->cached.leader;
  const std::vector<meta::Peer> voters = Voters(entry->cached.region);
  if (voters.empty()) return std::nullopt;
  const meta::Peer& peer = voters[entry->probe % voters.size()];
  ++entry->probe;
  return peer;
}

void RegionCache::Invalidate(uint64_t region_id) { Erase(region_id); }

std::vector<CachedRegion> RegionCache::Snapshot() const {
  std::vector<CachedRegion> out;
  out.reserve(by_start_.size());
  for (const auto& [start, entry] : by_start_) out.push_back(entry.cached);
  return out;
}

void RegionCache::CheckInvariants() const {
  RS_CHECK_EQ(by_start_.size(), by_id_.size());
  RS_CHECK_EQ(by_start_.size(), lru_.size());
  RS_CHECK_LE(by_start_.size(), config_.regions_max);
  const meta::Region* previous = nullptr;
  for (const auto& [start, entry] : by_start_) {
    const meta::Region& region = entry.cached.region;
    RS_CHECK_EQ(start, region.start_key());
    RS_CHECK(ValidMeta(region)) << "region " << region.id();
    auto id_it = by_id_.find(region.id());
    RS_CHECK(id_it != by_id_.end() && id_it->second == start)
        << "region " << region.id();
    auto lru_it = lru_.find(entry.used);
    RS_CHECK(lru_it != lru_.end() && lru_it->second == region.id())
        << "region " << region.id();
    if (previous != nullptr) {
      RS_CHECK(!previous->end_key().empty() &&
               previous->end_key() <= region.start_key())
          << absl::StrCat("regions ", previous->id(), " and ", region.id(),
                          " overlap");
    }
    previous = &region;
  }
}

}  // namespace raftstore::client
