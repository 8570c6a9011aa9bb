// A fake cluster of stores for the client library's tests: it answers
// KvRequests by the store contract of docs/client.md (routing by region id or
// by key, epoch checks, KeyNotInRegion, NotLeader with a hint, ServerBusy,
// ResponseHeader.region on success, scans clamped to the region) without
// raft: each region has one leader store (or none) and every region's data
// lives in one ordered map.
//
// Sessions follow core/kv's rules per region, as the real store keeps them:
// each region has its own session table; a write opens a session in a region
// only if its first_incomplete_sequence is 1 (else SessionExpired); a
// session's cached responses below the largest first_incomplete_sequence
// seen are dropped, and a sequence below it is refused as stale (an error
// with no kind, as the store answers OUTCOME_STALE_SEQUENCE); a split copies
// the parent's table into the new region and a merge takes the source's
// sessions into the target (for a client in both: the larger
// first_incomplete_sequence, every response at or above it). So a retried
// write is answered with its first result wherever its key moved.
//
// Admin operations follow the epoch rules the client relies on: a split
// raises the version of both halves, a merge gives the merged region
// max(versions) + 1.
//
// Test-only. Thread-safety: none.
#ifndef RAFTSTORE_CORE_CLIENT_FAKE_STORE_H_
#define RAFTSTORE_CORE_CLIENT_FAKE_STORE_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/btree_map.h"
#include "proto/kvrpc.pb.h"
#include "proto/region.pb.h"

namespace raftstore::client::testing {

// The peer id of region `region_id` on store `store_id`.
inline uint64_t PeerId(uint64_t region_id, uint64_t store_id) {
  return region_id * 100 + store_id;
}

class FakeCluster {
 public:
  // One region (id 1, the whole key space, version 1) with a peer on every
  // store; its leader is the first store.
  explicit FakeCluster(std::vector<uint64_t> store_ids);

  // Splits region_id at split_key (inside its range) into region_id (left)
  // and new_region_id (right), both with version + 1, the same stores and
  // the same leader store.
  void Split(uint64_t region_id, const std::string& split_key,
             uint64_t new_region_id);
  // Merges `right` into its left neighbour `left` (version max + 1); `right`
  // disappears.
  void Merge(uint64_t left, uint64_t right);
  // The leader of region_id is on store_id; 0 means no leader.
  void SetLeader(uint64_t region_id, uint64_t store_id);
  // store_id answers ServerBusy{backoff_ms} to everything (nullopt: never).
  void SetBusy(uint64_t store_id, std::optional<uint64_t> backoff_ms);
  // Forgets client_id's session in every region (expiry): a later write of
  // it with first_incomplete_sequence > 1 gets SessionExpired.
  void ExpireSession(uint64_t client_id);
  // The server's own scan bound (pairs per response).
  void set_scan_limit_max(uint32_t limit) { scan_limit_max_ = limit; }

  // Answers `request` as store `store_id` would.
  kv::KvResponse Handle(uint64_t store_id, const kv::KvRequest& request);

  const meta::Region& region(uint64_t region_id) const {
    return regions_.at(region_id).meta;
  }
  std::vector<uint64_t> region_ids() const;
  uint64_t leader_store(uint64_t region_id) const {
    return regions_.at(region_id).leader_store;
  }
  const std::map<std::string, std::string>& data() const { return data_; }
  // How many times each (client_id, sequence) was applied (never above 1:
  // the session table answers retries).
  const absl::btree_map<std::pair<uint64_t, uint64_t>, int>& applied() const {
    return applied_;
  }
  // Every applied write as (client_id, sequence, key, value) in apply order.
  struct AppliedWrite {
    uint64_t client_id = 0;
    uint64_t sequence = 0;
    std::string key;
    std::string value;
  };
  const std::vector<AppliedWrite>& applied_writes() const {
    return applied_writes_;
  }
  // The requests handled, for tests that inspect headers.
  const std::vector<std::pair<uint64_t, kv::KvRequest>>& received() const {
    return received_;
  }

 private:
  struct FakeSession {
    uint64_t first_incomplete_sequence = 1;
    // Responses of applied sequences at or above it.
    absl::btree_map<uint64_t, kv::KvResponse> responses;
  };
  struct FakeRegion {
    meta::Region meta;
    uint64_t leader_store = 0;
    absl::btree_map<uint64_t, FakeSession> sessions;  // by client id
  };

  // Fills `error` (and returns nullptr) when the request cannot be served
  // by store_id; else the serving region.
  FakeRegion* Route(uint64_t store_id, const kv::RequestHeader& header,
                    const std::string& key, kv::Error* error);
  FakeRegion* RegionForKey(const std::string& key);
  bool HasPeerOn(const FakeRegion& region, uint64_t store_id) const;
  // Serves a routed request; writes go through the region's session table.
  void Serve(FakeRegion& region, const kv::KvRequest& request,
             kv::KvResponse* response);
  // A write through `region`'s session table: the cached result, a refusal
  // (SessionExpired, stale sequence) or a fresh apply.
  void ServeWrite(FakeRegion& region, const kv::KvRequest& request,
                  kv::KvResponse* response);
  void Apply(const kv::KvRequest& request, kv::KvResponse* response);

  std::vector<uint64_t> store_ids_;
  absl::btree_map<uint64_t, FakeRegion> regions_;
  absl::btree_map<uint64_t, uint64_t> busy_;  // store -> backoff_ms
  std::map<std::string, std::string> data_;
  absl::btree_map<std::pair<uint64_t, uint64_t>, int> applied_;
  std::vector<AppliedWrite> applied_writes_;
  std::vector<std::pair<uint64_t, kv::KvRequest>> received_;
  uint32_t scan_limit_max_ = 1024;
};

}  // namespace raftstore::client::testing

#endif  // RAFTSTORE_CORE_CLIENT_FAKE_STORE_H_
