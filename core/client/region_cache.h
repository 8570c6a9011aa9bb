// A client's cache of region metadata: which region holds a key, its epoch,
// its peers (with their stores), and the peer the client believes leads it.
//
// The cache is a hint, never an authority: every request carries the epoch
// the cache had, and the store refuses a stale one (EpochNotMatch,
// KeyNotInRegion, RegionNotFound), whose answer then corrects the cache. So
// the cache only has to converge, not to be right.
//
// Ranges: a region serves [start_key, end_key); an empty start_key is the
// beginning of the key space and an empty end_key its end. Cached ranges never
// overlap: an Update whose range overlaps entries evicts them, unless one of
// them is newer, in which case the update is the stale one and is dropped.
//
// Which meta is newer. For one region id, the higher epoch (version, then
// conf_version) wins; an equal epoch replaces the entry (a refresh). Across
// different ids, only the version is compared: a split raises the version of
// both halves and a merge gives the merged region more than either source's,
// so the version of whatever region holds a given key never falls (the store
// must keep this rule; if it did not, the cache would still converge through
// the errors above, only more slowly). An overlapping entry with a strictly
// higher version makes the update stale; an equal one is evicted (the latest
// news wins).
//
// Leaders: each entry holds the believed leader (a Peer, possibly on a store
// the cached peer list does not name yet, after a membership change) or none.
// With no leader, TargetPeer hands out the region's voters in turn
// (round-robin), so a client probing for a new leader does not ask one store
// forever.
//
// Bound: at most regions_max entries; inserting one more evicts the least
// recently used entry (use = Lookup, Update, TargetPeer or a leader change;
// stamps come from a counter, so eviction is deterministic).
//
// Every meta handed out is a copy. Deterministic: btree containers only.
// Thread-safety: none; owned by one client.
#ifndef RAFTSTORE_CORE_CLIENT_REGION_CACHE_H_
#define RAFTSTORE_CORE_CLIENT_REGION_CACHE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/status/status.h"
#include "proto/region.pb.h"

namespace raftstore::client {

struct RegionCacheConfig {
  // Entries the cache holds; the least recently used goes first.
  size_t regions_max = 4096;

  // kInvalidArgument if regions_max is 0.
  absl::Status Validate() const;
};

// One cached region: a copy, never an alias.
struct CachedRegion {
  meta::Region region;
  // The believed leader; id 0 when unknown.
  meta::Peer leader;
};

// What Update did with a meta.
enum class CacheUpdate {
  kInserted,  // new entry (possibly evicting overlapping or stale entries)
  kReplaced,  // same id, same or newer epoch: the entry now holds this meta
  kStale,     // an entry for an overlapping range or the same id is newer
  kInvalid,   // id 0, an empty or inverted range, or a peer id 0: ignored
};

class RegionCache {
 public:
  // Precondition: config.Validate() is OK (RS_CHECKed).
  explicit RegionCache(const RegionCacheConfig& config);

  // The region whose range holds `key`, if cached. Marks it used.
  std::optional<CachedRegion> Lookup(std::string_view key);
  // The entry for region_id, if cached. Does not mark it used (for tests
  // and tools).
  std::optional<CachedRegion> Find(uint64_t region_id) const;

  // Learns `region` (from a response header or EpochNotMatch). Never fails
  // on bad input (it comes from the network): see CacheUpdate. A replaced
  // entry keeps its leader if that peer is still among the new peers, or if
  // the new meta names no peers at all.
  CacheUpdate Update(const meta::Region& region);

  // A store said its peer of region_id is not the leader, naming `leader`
  // (id and store) or none. With a leader (id != 0), it becomes the believed
  // leader. Without, the belief is cleared and the round-robin moves past
  // the peer that was believed. No-op for an uncached region.
  void OnNotLeader(uint64_t region_id, const std::optional<meta::Peer>& leader);
  // A request to region_id was served by the peer on `store_id`: that peer
  // leads (reads and writes are served by the leader only). No-op if the
  // region is not cached or has no peer on that store.
  void OnServed(uint64_t region_id, uint64_t store_id);

  // The peer to send the next request for region_id to: the believed leader,
  // else the next voter in turn (learners never lead). nullopt if the region
  // is not cached or has no peers.
  std::optional<meta::Peer> TargetPeer(uint64_t region_id);

  // Drops region_id (RegionNotFound, KeyNotInRegion, or before applying an
  // EpochNotMatch). No-op if not cached.
  void Invalidate(uint64_t region_id);

  // Copies of every entry, in key order.
  std::vector<CachedRegion> Snapshot() const;
  size_t size() const { return by_id_.size(); }
  size_t regions_max() const { return config_.regions_max; }

  // RS_CHECKs the indexes agree and cached ranges do not overlap. Linear;
  // for tests.
  void CheckInvariants() const;

 private:
  struct Entry {
    CachedRegion cached;
    // Round-robin position among the voters when the leader is unknown.
    size_t probe = 0;
    uint64_t used = 0;  // LRU stamp (key of lru_)
  };

  Entry* FindEntry(uint64_t region_id);
  void Touch(Entry& entry);
  void Erase(uint64_t region_id);
  // Ids of entries whose ranges overlap `region`'s, in key order.
  std::vector<uint64_t> Overlapping(const meta::Region& region) const;

  const RegionCacheConfig config_;
  // Start key -> entry. std::less<> looks up by std::string_view.
  absl::btree_map<std::string, Entry, std::less<>> by_start_;
  absl::btree_map<uint64_t, std::string> by_id_;  // id -> start key
  absl::btree_map<uint64_t, uint64_t> lru_;       // stamp -> id
  uint64_t next_stamp_ = 1;
};

}  // namespace raftstore::client

#endif  // RAFTSTORE_CORE_CLIENT_REGION_CACHE_H_
