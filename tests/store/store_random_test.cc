// Random walks over the multi-store harness: puts, reads, splits, merges,
// membership changes, leader transfers, crashes and isolations, interleaved
// from one seed. Operations run one at a time, so the model is exact: every
// acknowledged put must be read back with its value (a put whose answer was
// lost may or may not have applied: both values are accepted until the next
// acknowledged put of that key), and once everything heals every replica of
// every region converges to the same state.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/base/rng.h"
#include "core/store/store.h"
#include "gtest/gtest.h"
#include "tests/store/store_harness.h"

namespace raftstore::store {
namespace {

using testing::ErrorOf;
using testing::GetRequest;
using testing::MakeRegions;
using testing::PeerIdOf;
using testing::PutRequest;
using testing::StoreHarness;

constexpr int kStores = 4;  // regions start on stores 1..3
// The model's value for a key that does not exist.
constexpr char kAbsent[] = "<absent>";

struct Walk {
  explicit Walk(uint64_t seed) : rng(seed) {
    StoreConfig config;
    config.election_tick = 10;
    config.heartbeat_tick = 2;
    config.raft_log_gc_entries_max = 15;
    harness = std::make_unique<StoreHarness>(kStores, MakeRegions(2, 3), config,
                                             seed);
    for (uint64_t s = 1; s <= kStores; ++s) {
      EXPECT_TRUE(harness->Start(s).ok());
    }
  }

  std::string RandomKey() {
    return absl::StrFormat("k%03d", rng.Uniform(1000));
  }

  void Note(const std::string& line) {
    if (std::getenv("STORE_WALK_TRACE") != nullptr) {
      std::fprintf(stderr, "walk: %s\n", line.c_str());
    }
  }

  void Put() {
    const std::string key = RandomKey();
    const std::string value = absl::StrCat("v", ++writes);
    ++client;
    std::optional<kv::KvResponse> reply =
        harness->Call(PutRequest(key, value, client, 1), 300);
    Note(absl::StrCat("put ", key, "=", value, " -> ",
                      reply.has_value() ? reply->ShortDebugString() : "none"));
    if (reply.has_value() && reply->has_put() &&
        !reply->put().header().has_error()) {
      model[key] = {value};
      return;
    }
    if (reply.has_value()) {
      const kv::Error& error = ErrorOf(*reply);
      if (error.has_not_leader() || error.has_epoch_not_match() ||
          error.has_key_not_in_region() || error.has_region_not_found() ||
          error.has_server_busy()) {
        return;  // certainly not applied
      }
    }
    // Unknown: the old value (or absence) and the new one are both allowed.
    auto [it, inserted] = model.try_emplace(key);
    if (inserted) it->second.insert(kAbsent);
    it->second.insert(value);
  }

  void Check(const std::string& key) {
    auto it = model.find(key);
    std::optional<kv::KvResponse> reply = harness->Call(GetRequest(key), 300);
    if (!reply.has_value() || !reply->has_get() ||
        reply->get().header().has_error()) {
      return;  // unavailable now (a partition, a crash): no claim
    }
    const std::string got =
        reply->get().found() ? reply->get().value() : std::string(kAbsent);
    Note(absl::StrCat("get ", key, " -> ", reply->ShortDebugString()));
    if (it == model.end()) {
      EXPECT_FALSE(reply->get().found()) << key << " was never written";
      return;
    }
    EXPECT_TRUE(it->second.contains(got)) << key << " read " << got;
    it->second = {got};  // the read settles it
  }

  void Split() {
    const std::string key = RandomKey();
    const uint64_t region = harness->RegionOf(key);
    const uint64_t leader = harness->LeaderStore(region);
    if (region == 0 || leader == 0) return;
    const absl::StatusOr<RegionRecord> record =
        harness->store(leader)->catalog().Get(region);
    if (!record.ok()) return;
    AdminRequest request;
    request.set_region_id(region);
    request.mutable_split()->set_split_key(key);
    const uint64_t id = harness->AllocateRegionId();
    request.mutable_split()->set_new_region_id(id);
    for (const meta::Peer& peer : record->region.peers()) {
      request.mutable_split()->add_new_peer_ids(PeerIdOf(id, peer.store_id()));
    }
    std::optional<AdminResponse> reply = harness->CallAdmin(request, 200);
    Note(absl::StrCat("split ", region, " at ", key, " -> ",
                      reply.has_value() ? reply->ShortDebugString() : "none"));
  }

  // Merges a random region into its neighbour (refused unless their voters
  // are on the same stores; the merge may complete or roll back later).
  void Merge() {
    const std::vector<uint64_t> regions = harness->RegionIds();
    const uint64_t source = regions[rng.Uniform(regions.size())];
    const uint64_t leader = harness->LeaderStore(source);
    if (leader == 0) return;
    const RegionCatalog& catalog = harness->store(leader)->catalog();
    const absl::StatusOr<RegionRecord> record = catalog.Get(source);
    if (!record.ok()) return;
    std::optional<meta::Region> target;
    if (rng.Chance(1, 2) && !record->region.end_key().empty()) {
      target = catalog.FindByKey(record->region.end_key());
    } else if (!record->region.start_key().empty()) {
      std::string before = record->region.start_key();
      before.pop_back();  // a key just below the start (keys are k###)
      target = catalog.FindByKey(before);
    }
    if (!target.has_value()) return;
    AdminRequest request;
    request.set_region_id(source);
    *request.mutable_merge()->mutable_target() = *target;
    Admin(request);
    ++merges_requested;
  }

  void ChangePeer() {
    const std::vector<uint64_t> regions = harness->RegionIds();
    const uint64_t region = regions[rng.Uniform(regions.size())];
    const uint64_t leader = harness->LeaderStore(region);
    if (leader == 0) return;
    const absl::StatusOr<RegionRecord> record =
        harness->store(leader)->catalog().Get(region);
    if (!record.ok()) return;
    std::map<uint64_t, meta::Peer> by_store;
    for (const meta::Peer& peer : record->region.peers()) {
      by_store[peer.store_id()] = peer;
    }
    AdminRequest request;
    request.set_region_id(region);
    meta::Peer* target = request.mutable_change_peer()->mutable_peer();
    for (const auto& [store, peer] : by_store) {
      if (peer.role() == meta::PEER_ROLE_LEARNER) {
        request.mutable_change_peer()->set_type(
            raft::CONF_CHANGE_TYPE_ADD_VOTER);
        *target = peer;
        Admin(request);
        return;
      }
    }
    if (by_store.size() < kStores) {
      // Add a learner on a store without a peer of the region (maybe one
      // that had one before: peer ids are fresh every time).
      for (uint64_t s = 1; s <= kStores; ++s) {
        if (by_store.contains(s) || harness->store(s) == nullptr) continue;
        request.mutable_change_peer()->set_type(
            raft::CONF_CHANGE_TYPE_ADD_LEARNER);
        target->set_id(PeerIdOf(region, s) + 1'000'000 * ++peers_added);
        target->set_store_id(s);
        Admin(request);
        return;
      }
      return;
    }
    // Four voters: remove one (maybe the leader).
    auto it = by_store.begin();
    std::advance(it, static_cast<long>(rng.Uniform(by_store.size())));
    request.mutable_change_peer()->set_type(raft::CONF_CHANGE_TYPE_REMOVE_NODE);
    *target = it->second;
    Admin(request);
  }

  void Admin(const AdminRequest& request) {
    std::optional<AdminResponse> reply = harness->CallAdmin(request, 200);
    Note(absl::StrCat("admin ", request.ShortDebugString(), " -> ",
                      reply.has_value() ? reply->ShortDebugString() : "none"));
  }

  void Transfer() {
    const std::vector<uint64_t> regions = harness->RegionIds();
    const uint64_t region = regions[rng.Uniform(regions.size())];
    const uint64_t leader = harness->LeaderStore(region);
    if (leader == 0) return;
    const absl::StatusOr<RegionRecord> record =
        harness->store(leader)->catalog().Get(region);
    if (!record.ok()) return;
    const meta::Peer& peer = record->region.peers(static_cast<int>(
        rng.Uniform(static_cast<uint64_t>(record->region.peers_size()))));
    AdminRequest request;
    request.set_region_id(region);
    *request.mutable_transfer_leader()->mutable_peer() = peer;
    Admin(request);
  }

  void Fault() {
    const uint64_t s = 1 + rng.Uniform(kStores);
    if (rng.Chance(1, 2)) {
      Note(absl::StrCat("crash ", s, Describe(1), Describe(2)));
      harness->Crash(s);
      for (int i = 0; i < 5; ++i) harness->Tick();
      const absl::Status started = harness->Start(s);
      EXPECT_TRUE(started.ok()) << started;
    } else {
      Note(absl::StrCat("isolate ", s));
      harness->Isolate(s, true);
      for (int i = 0; i < 40; ++i) harness->Tick();
      harness->Isolate(s, false);
    }
  }

  void Step() {
    const uint64_t roll = rng.Uniform(100);
    if (roll < 50) return Put();
    if (roll < 70) return Check(RandomKey());
    if (roll < 75) return Split();
    if (roll < 81) return Merge();
    if (roll < 87) return ChangePeer();
    if (roll < 93) return Transfer();
    return Fault();
  }

  std::string Describe(uint64_t region) {
    std::string out;
    for (uint64_t s = 1; s <= kStores; ++s) {
      std::optional<PeerStatus> st = harness->store(s)->GetPeerStatus(region);
      absl::StatusOr<RegionRecord> rec =
          harness->store(s)->catalog().Get(region);
      absl::StrAppend(&out, "\n  store ", s, ": ");
      if (rec.ok()) {
        absl::StrAppend(&out, "state ", rec->state, " meta ",
                        rec->region.ShortDebugString());
      }
      if (st.has_value()) {
        absl::StrAppend(&out, " role ", static_cast<int>(st->role), " term ",
                        st->term, " leader ", st->leader_peer_id, " commit ",
                        st->commit_index, " applied ", st->applied_index,
                        " last ", st->last_index, " snap ", st->snapshot_index,
                        " digest ", st->kv_digest);
      }
    }
    return out;
  }

  // Every replica of every region agrees once all is healed and quiet.
  void CheckConverged() {
    if (!harness->WaitForLeaders(3000)) {
      std::string out;
      for (uint64_t region : harness->RegionIds()) {
        if (harness->LeaderStore(region) == 0) {
          absl::StrAppend(&out, "\nregion ", region, ":", Describe(region));
          for (uint64_t s = 1; s <= kStores; ++s) {
            for (const PeerStatus& p : harness->store(s)->PeerStatuses()) {
              absl::StrAppend(&out, "\n s", s, " r", p.region_id, " ",
                              harness->store(s)
                                  ->catalog()
                                  .Get(p.region_id)
                                  ->region.ShortDebugString());
            }
          }
        }
      }
      FAIL() << "regions without a leader:" << out;
    }
    // No source stays frozen: every merge commits or rolls back.
    auto none_frozen = [&] {
      for (uint64_t s = 1; s <= kStores; ++s) {
        for (const PeerStatus& peer : harness->store(s)->PeerStatuses()) {
          if (peer.merging_into != 0) return false;
        }
      }
      return true;
    };
    harness->RunUntil(none_frozen, 2000);
    for (uint64_t region : harness->RegionIds()) {
      ASSERT_TRUE(harness->RunUntil(
          [&] {
            const uint64_t leader = harness->LeaderStore(region);
            if (leader == 0) return false;
            const PeerStatus theirs =
                *harness->store(leader)->GetPeerStatus(region);
            for (uint64_t s = 1; s <= kStores; ++s) {
              std::optional<PeerStatus> mine =
                  harness->store(s)->GetPeerStatus(region);
              if (!mine.has_value()) continue;
              if (!harness->store(s)->catalog().Get(region).ok()) continue;
              if (mine->applied_index != theirs.applied_index ||
                  mine->kv_digest != theirs.kv_digest) {
                return false;
              }
            }
            return true;
          },
          2000))
          << "region " << region << " did not converge: " << Describe(region);
    }
    for (const auto& [key, values] : model) Check(key);
    for (uint64_t s = 1; s <= kStores; ++s) {
      for (const PeerStatus& peer : harness->store(s)->PeerStatuses()) {
        EXPECT_EQ(peer.merging_into, 0U)
            << "store " << s << " region " << peer.region_id
            << " is still frozen: " << Describe(peer.region_id)
            << "\n target:" << Describe(peer.merging_into) << " proposed "
            << harness->store(s)->stats().merge_commits_proposed << " refused "
            << harness->store(s)->stats().peers.merge_commits_refused;
      }
    }
    uint64_t readded = 0;
    for (uint64_t s = 1; s <= kStores; ++s) {
      readded += harness->store(s)->stats().peers_readded;
    }
    Note(absl::StrCat("peers re-added over a tombstone: ", readded));
  }

  Rng rng;
  std::unique_ptr<StoreHarness> harness;
  std::map<std::string, std::set<std::string>> model;
  uint64_t writes = 0;
  uint64_t client = 100000;
  uint64_t peers_added = 0;
  uint64_t merges_requested = 0;
};

class StoreRandomTest : public ::testing::TestWithParam<uint64_t> {};

TEST_P(StoreRandomTest, AcknowledgedWritesSurviveAndReplicasConverge) {
  Walk walk(GetParam());
  ASSERT_TRUE(walk.harness->WaitForLeaders());
  for (int i = 0; i < 150 && !::testing::Test::HasFailure(); ++i) walk.Step();
  walk.CheckConverged();
}

// Soak: STORE_WALK_SEEDS=A..B [STORE_WALK_STEPS=N] runs those seeds (used
// by tools/soak.sh); skipped otherwise.
TEST(StoreRandomSoak, SeedRangeFromTheEnvironment) {
  const char* range = std::getenv("STORE_WALK_SEEDS");
  if (range == nullptr) GTEST_SKIP() << "STORE_WALK_SEEDS not set";
  uint64_t first = 0;
  uint64_t last = 0;
  ASSERT_EQ(std::sscanf(range, "%lu..%lu", &first, &last), 2)
      << "STORE_WALK_SEEDS must look like 1..400, not " << range;
  const char* steps_env = std::getenv("STORE_WALK_STEPS");
  const int steps = steps_env == nullptr ? 150 : std::atoi(steps_env);
  for (uint64_t seed = first; seed <= last; ++seed) {
    SCOPED_TRACE(absl::StrCat("seed ", seed));
    Walk walk(seed);
    ASSERT_TRUE(walk.harness->WaitForLeaders());
    for (int i = 0; i < steps && !::testing::Test::HasFailure(); ++i) {
      walk.Step();
    }
    walk.CheckConverged();
    if (::testing::Test::HasFailure()) {
      ADD_FAILURE() << "seed " << seed << " failed; replay with "
                    << "STORE_WALK_SEEDS=" << seed << ".." << seed;
      return;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Seeds, StoreRandomTest,
                         ::testing::Range(uint64_t{1}, uint64_t{31}));

}  // namespace
}  // namespace raftstore::store
