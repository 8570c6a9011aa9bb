#include "core/client/region_cache.h"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/btree_map.h"
#include "gtest/gtest.h"
#include "proto/region.pb.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"

namespace raftstore::client {
namespace {

meta::Region MakeRegion(uint64_t id, const std::string& start,
                        const std::string& end, uint64_t version,
                        uint64_t conf_version = 1,
                        std::vector<uint64_t> stores = {1, 2, 3}) {
  meta::Region region;
  region.set_id(id);
  region.set_start_key(start);
  region.set_end_key(end);
  region.mutable_epoch()->set_version(version);
  region.mutable_epoch()->set_conf_version(conf_version);
  for (uint64_t store : stores) {
    meta::Peer* peer = region.add_peers();
    peer->set_id(id * 100 + store);
    peer->set_store_id(store);
    peer->set_role(meta::PEER_ROLE_VOTER);
  }
  return region;
}

meta::Peer PeerOn(uint64_t region_id, uint64_t store) {
  meta::Peer peer;
  peer.set_id(region_id * 100 + store);
  peer.set_store_id(store);
  return peer;
}

std::optional<uint64_t> IdAt(RegionCache& cache, const std::string& key) {
  std::optional<CachedRegion> found = cache.Lookup(key);
  if (!found.has_value()) return std::nullopt;
  return found->region.id();
}

TEST(RegionCacheTest, LookupHonoursHalfOpenRanges) {
  RegionCache cache(RegionCacheConfig{});
  EXPECT_EQ(cache.Update(MakeRegion(1, "", "c", 1)), CacheUpdate::kInserted);
  EXPECT_EQ(cache.Update(MakeRegion(2, "c", "f", 1)), CacheUpdate::kInserted);
  EXPECT_EQ(cache.Update(MakeRegion(3, "k", "", 1)), CacheUpdate::kInserted);
  EXPECT_EQ(IdAt(cache, ""), 1U);
  EXPECT_EQ(IdAt(cache, "b\xff"), 1U);
  EXPECT_EQ(IdAt(cache, "c"), 2U);
  EXPECT_EQ(IdAt(cache, "f"), std::nullopt) << "a gap";
  EXPECT_EQ(IdAt(cache, "j"), std::nullopt);
  EXPECT_EQ(IdAt(cache, "k"), 3U);
  EXPECT_EQ(IdAt(cache, "zzz"), 3U);
  cache.CheckInvariants();
}

TEST(RegionCacheTest, SameRegionNewerEpochReplacesOlderIsStale) {
  RegionCache cache(RegionCacheConfig{});
  cache.Update(MakeRegion(1, "", "", 2, 2));
  EXPECT_EQ(cache.Update(MakeRegion(1, "", "", 1, 5)), CacheUpdate::kStale);
  EXPECT_EQ(cache.Update(MakeRegion(1, "", "", 2, 1)), CacheUpdate::kStale);
  EXPECT_EQ(cache.Update(MakeRegion(1, "", "", 2, 2)), CacheUpdate::kReplaced);
  EXPECT_EQ(cache.Update(MakeRegion(1, "", "", 2, 3, {1, 2})),
            CacheUpdate::kReplaced);
  EXPECT_EQ(cache.Find(1)->region.peers_size(), 2);
  EXPECT_EQ(cache.Find(1)->region.epoch().conf_version(), 3U);
}

TEST(RegionCacheTest, SplitHalvesEvictTheParentAndTheStaleParentIsRefused) {
  RegionCache cache(RegionCacheConfig{});
  cache.Update(MakeRegion(1, "", "", 1));
  // The right half arrives first: it overlaps the older parent, evicting it.
  EXPECT_EQ(cache.Update(MakeRegion(2, "m", "", 2)), CacheUpdate::kInserted);
  EXPECT_EQ(IdAt(cache, "a"), std::nullopt);
  EXPECT_EQ(IdAt(cache, "x"), 2U);
  // The parent's old meta (a late response) must not undo the split.
  EXPECT_EQ(cache.Update(MakeRegion(1, "", "", 1)), CacheUpdate::kStale);
  EXPECT_EQ(IdAt(cache, "x"), 2U);
  EXPECT_EQ(cache.Update(MakeRegion(1, "", "m", 2)), CacheUpdate::kInserted);
  EXPECT_EQ(IdAt(cache, "a"), 1U);
  EXPECT_EQ(cache.size(), 2U);
  cache.CheckInvariants();
}

TEST(RegionCacheTest, MergedRegionEvictsBothSources) {
  RegionCache cache(RegionCacheConfig{});
  cache.Update(MakeRegion(1, "", "g", 2));
  cache.Update(MakeRegion(2, "g", "p", 2));
  cache.Update(MakeRegion(3, "p", "", 2));
  EXPECT_EQ(cache.Update(MakeRegion(1, "", "p", 3)), CacheUpdate::kReplaced);
  EXPECT_EQ(IdAt(cache, "h"), 1U);
  EXPECT_FALSE(cache.Find(2).has_value());
  EXPECT_EQ(IdAt(cache, "q"), 3U) << "untouched neighbour stays";
  // A source's old meta is stale against the merged region.
  EXPECT_EQ(cache.Update(MakeRegion(2, "g", "p", 2)), CacheUpdate::kStale);
  cache.CheckInvariants();
}

TEST(RegionCacheTest, InvalidMetaIsIgnored) {
  RegionCache cache(RegionCacheConfig{});
  EXPECT_EQ(cache.Update(MakeRegion(0, "", "", 1)), CacheUpdate::kInvalid);
  EXPECT_EQ(cache.Update(MakeRegion(1, "b", "a", 1)), CacheUpdate::kInvalid);
  EXPECT_EQ(cache.Update(MakeRegion(1, "b", "b", 1)), CacheUpdate::kInvalid);
  meta::Region zero_peer = MakeRegion(1, "", "", 1);
  zero_peer.mutable_peers(0)->set_id(0);
  EXPECT_EQ(cache.Update(zero_peer), CacheUpdate::kInvalid);
  EXPECT_EQ(cache.size(), 0U);
}

TEST(RegionCacheTest, LeaderHintsAndRoundRobinProbing) {
  RegionCache cache(RegionCacheConfig{});
  meta::Region region = MakeRegion(1, "", "", 1);
  region.mutable_peers(2)->set_role(meta::PEER_ROLE_LEARNER);  // store 3
  cache.Update(region);
  // No leader known: voters in turn, never the learner.
  EXPECT_EQ(cache.TargetPeer(1)->store_id(), 1U);
  EXPECT_EQ(cache.TargetPeer(1)->store_id(), 2U);
  EXPECT_EQ(cache.TargetPeer(1)->store_id(), 1U);
  cache.OnNotLeader(1, PeerOn(1, 2));
  EXPECT_EQ(cache.TargetPeer(1)->store_id(), 2U);
  EXPECT_EQ(cache.TargetPeer(1)->store_id(), 2U) << "a leader is sticky";
  // The believed leader refuses without a hint: move past it.
  cache.OnNotLeader(1, std::nullopt);
  EXPECT_EQ(cache.Find(1)->leader.id(), 0U);
  EXPECT_EQ(cache.TargetPeer(1)->store_id(), 1U);
  cache.OnServed(1, 2);
  EXPECT_EQ(cache.Find(1)->leader.id(), 102U);
  // Hints for unknown regions are dropped.
  cache.OnNotLeader(7, PeerOn(7, 1));
  EXPECT_FALSE(cache.Find(7).has_value());
  EXPECT_EQ(cache.TargetPeer(7), std::nullopt);
}

TEST(RegionCacheTest, ReplaceKeepsTheLeaderOnlyIfStillAPeer) {
  RegionCache cache(RegionCacheConfig{});
  cache.Update(MakeRegion(1, "", "", 1));
  cache.OnServed(1, 2);
  cache.Update(MakeRegion(1, "", "", 1, 2, {1, 2}));
  EXPECT_EQ(cache.Find(1)->leader.store_id(), 2U);
  cache.Update(MakeRegion(1, "", "", 1, 3, {1, 3}));
  EXPECT_EQ(cache.Find(1)->leader.id(), 0U);
}

TEST(RegionCacheTest, LeastRecentlyUsedIsEvictedAtTheBound) {
  RegionCache cache(RegionCacheConfig{.regions_max = 2});
  cache.Update(MakeRegion(1, "a", "b", 1));
  cache.Update(MakeRegion(2, "b", "c", 1));
  ASSERT_TRUE(cache.Lookup("a").has_value());  // 1 is now the most recent
  cache.Update(MakeRegion(3, "c", "d", 1));
  EXPECT_EQ(cache.size(), 2U);
  EXPECT_TRUE(cache.Find(1).has_value());
  EXPECT_FALSE(cache.Find(2).has_value());
  EXPECT_TRUE(cache.Find(3).has_value());
  cache.CheckInvariants();
}

TEST(RegionCacheTest, HandsOutCopies) {
  RegionCache cache(RegionCacheConfig{});
  cache.Update(MakeRegion(1, "", "", 1));
  std::optional<CachedRegion> copy = cache.Lookup("k");
  ASSERT_TRUE(copy.has_value());
  copy->region.set_end_key("z");
  copy->region.clear_peers();
  EXPECT_EQ(cache.Find(1)->region.end_key(), "");
  EXPECT_EQ(cache.Find(1)->region.peers_size(), 3);
}

TEST(RegionCacheTest, InvalidateDropsTheEntry) {
  RegionCache cache(RegionCacheConfig{});
  cache.Update(MakeRegion(1, "", "", 1));
  cache.Invalidate(1);
  cache.Invalidate(1);  // a no-op the second time
  EXPECT_EQ(cache.size(), 0U);
  EXPECT_FALSE(cache.Lookup("k").has_value());
  cache.CheckInvariants();
}

// A cluster history of random splits and merges under the epoch rules (a
// split raises both halves' version, a merge gives max + 1). Every meta of
// every step is handed to the cache in a random order, stale ones included;
// finally the current metas. The cache must end up holding exactly the
// current regions: no stale meta may win over a newer one.
RC_GTEST_PROP(RegionCacheProperty, ConvergesToTheNewestMetaWhateverTheOrder,
              ()) {
  absl::btree_map<std::string, meta::Region> truth;  // by start key
  truth[""] = MakeRegion(1, "", "", 1);
  uint64_t next_id = 2;
  std::vector<meta::Region> history = {truth[""]};
  const int steps = *rc::gen::inRange(0, 30);
  for (int step = 0; step < steps; ++step) {
    const bool split = truth.size() < 2 || *rc::gen::arbitrary<bool>();
    auto it = truth.begin();
    std::advance(it, *rc::gen::inRange<size_t>(0, truth.size()));
    if (split) {
      meta::Region left = it->second;
      const std::string key =
          left.start_key() + static_cast<char>('a' + *rc::gen::inRange(0, 26));
      if (!left.end_key().empty() && key >= left.end_key()) continue;
      meta::Region right = MakeRegion(next_id++, key, left.end_key(),
                                      left.epoch().version() + 1);
      left.set_end_key(key);
      left.mutable_epoch()->set_version(left.epoch().version() + 1);
      truth[left.start_key()] = left;
      truth[key] = right;
      history.push_back(left);
      history.push_back(right);
    } else {
      if (std::next(it) == truth.end()) it = std::prev(it);
      meta::Region left = it->second;
      const meta::Region right = std::next(it)->second;
      left.set_end_key(right.end_key());
      left.mutable_epoch()->set_version(
          std::max(left.epoch().version(), right.epoch().version()) + 1);
      truth.erase(right.start_key());
      truth[left.start_key()] = left;
      history.push_back(left);
    }
  }
  RegionCache cache(RegionCacheConfig{});
  const std::vector<size_t> order = *rc::gen::container<std::vector<size_t>>(
      rc::gen::inRange<size_t>(0, history.size()));
  for (size_t i : order) {
    const meta::Region& update = history[i];
    const std::vector<CachedRegion> before = cache.Snapshot();
    cache.Update(update);
    cache.CheckInvariants();
    // An update never displaces newer news: whatever left the cache was at
    // most as new as the update. (An entry outdated by news the cache has
    // since dropped may stay: the store's errors correct that.)
    const std::vector<CachedRegion> after = cache.Snapshot();
    for (const CachedRegion& old : before) {
      bool kept = false;
      for (const CachedRegion& now : after) {
        kept |= now.region.id() == old.region.id() &&
                now.region.epoch().version() == old.region.epoch().version();
      }
      RC_ASSERT(kept ||
                old.region.epoch().version() <= update.epoch().version());
    }
  }
  for (const auto& [start, region] : truth) cache.Update(region);
  cache.CheckInvariants();
  const std::vector<CachedRegion> cached = cache.Snapshot();
  RC_ASSERT(cached.size() == truth.size());
  auto want = truth.begin();
  for (const CachedRegion& got : cached) {
    RC_ASSERT(got.region.id() == want->second.id());
    RC_ASSERT(got.region.end_key() == want->second.end_key());
    RC_ASSERT(got.region.epoch().version() == want->second.epoch().version());
    ++want;
  }
}

}  // namespace
}  // namespace raftstore::client
