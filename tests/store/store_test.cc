// The store (core/store/store.h) on the multi-store harness: routing and
// typed errors, the batched Ready pipeline (one WAL write and sync for many
// regions, one message batch per destination), reads only at a confirmed
// leader, exactly-once retries, backpressure, restart from manifest + WAL.
#include "core/store/store.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/store/store_observer.h"
#include "core/store/store_registry.h"
#include "gtest/gtest.h"
#include "proto/kvrpc.pb.h"
#include "tests/store/store_harness.h"

namespace raftstore::store {
namespace {

using testing::CasRequest;
using testing::ErrorOf;
using testing::GetRequest;
using testing::MakeRegions;
using testing::PeerIdOf;
using testing::PutRequest;
using testing::ScanRequest;
using testing::StoreHarness;

StoreConfig TestConfig() {
  StoreConfig config;
  config.election_tick = 10;
  config.heartbeat_tick = 2;
  return config;
}

// A key inside region `region` of MakeRegions(count, ...).
std::string KeyIn(int region, int count, const std::string& suffix = "") {
  return absl::StrFormat("k%03d", (region - 1) * 1000 / count) + "/" + suffix;
}

class StoreTest : public ::testing::Test {
 protected:
  void StartAll(int stores, int regions, const StoreConfig& config,
                uint64_t seed = 1, int stores_with_peers = 0) {
    regions_ = regions;
    harness_ = std::make_unique<StoreHarness>(
        stores,
        MakeRegions(regions,
                    stores_with_peers == 0 ? stores : stores_with_peers),
        config, seed);
    for (int s = 1; s <= stores; ++s) {
      ASSERT_TRUE(harness_->Start(static_cast<uint64_t>(s)).ok());
    }
    ASSERT_TRUE(harness_->WaitForLeaders());
  }

  kv::KvResponse MustCall(const kv::KvRequest& request) {
    std::optional<kv::KvResponse> response = harness_->Call(request);
    EXPECT_TRUE(response.has_value()) << request.ShortDebugString();
    return response.value_or(kv::KvResponse());
  }

  void MustPut(const std::string& key, const std::string& value) {
    const kv::KvResponse response =
        MustCall(PutRequest(key, value, ++client_, 1));
    ASSERT_TRUE(response.has_put()) << response.ShortDebugString();
    ASSERT_FALSE(response.put().header().has_error())
        << response.ShortDebugString();
  }

  std::optional<std::string> MustGet(const std::string& key) {
    const kv::KvResponse response = MustCall(GetRequest(key));
    EXPECT_TRUE(response.has_get()) << response.ShortDebugString();
    EXPECT_FALSE(response.get().header().has_error())
        << response.ShortDebugString();
    if (!response.get().found()) return std::nullopt;
    return response.get().value();
  }

  // A store following region_id (not its leader).
  uint64_t FollowerStore(uint64_t region_id, int stores = 3) const {
    const uint64_t leader = harness_->LeaderStore(region_id);
    for (int s = 1; s <= stores; ++s) {
      if (static_cast<uint64_t>(s) != leader) return static_cast<uint64_t>(s);
    }
    return 0;
  }

  std::unique_ptr<StoreHarness> harness_;
  int regions_ = 0;
  uint64_t client_ = 1000;
};

TEST_F(StoreTest, EveryRegionElectsAndServesItsKeys) {
  StartAll(3, 8, TestConfig());
  for (int r = 1; r <= 8; ++r) MustPut(KeyIn(r, 8, "a"), absl::StrCat("v", r));
  for (int r = 1; r <= 8; ++r) {
    EXPECT_EQ(MustGet(KeyIn(r, 8, "a")), absl::StrCat("v", r));
    const kv::KvResponse response = MustCall(GetRequest(KeyIn(r, 8, "a")));
    EXPECT_EQ(response.get().header().region().id(), static_cast<uint64_t>(r));
    EXPECT_GT(response.get().header().term(), 0U);
  }
  EXPECT_EQ(MustGet(KeyIn(3, 8, "missing")), std::nullopt);
  // Every replica of every region applied the same state.
  harness_->RunUntil([] { return false; }, 20);
  for (int r = 1; r <= 8; ++r) {
    const uint64_t digest =
        harness_->store(1)->GetPeerStatus(static_cast<uint64_t>(r))->kv_digest;
    for (uint64_t s = 2; s <= 3; ++s) {
      EXPECT_EQ(harness_->store(s)
                    ->GetPeerStatus(static_cast<uint64_t>(r))
                    ->kv_digest,
                digest)
          << "region " << r << " store " << s;
    }
  }
}

// The cheap summaries an admin page polls are the statuses without the
// digest: same peers, same order, every other field equal.
TEST_F(StoreTest, PeerSummariesAreStatusesWithoutTheDigest) {
  StartAll(3, 4, TestConfig());
  for (int r = 1; r <= 4; ++r) MustPut(KeyIn(r, 4, "a"), "v");
  harness_->RunUntil([] { return false; }, 10);
  for (uint64_t s = 1; s <= 3; ++s) {
    const std::vector<PeerStatus> full = harness_->store(s)->PeerStatuses();
    const std::vector<PeerStatus> cheap = harness_->store(s)->PeerSummaries();
    ASSERT_EQ(full.size(), 4U);
    ASSERT_EQ(cheap.size(), full.size());
    for (size_t i = 0; i < full.size(); ++i) {
      SCOPED_TRACE(absl::StrCat("store ", s, " region ", full[i].region_id));
      EXPECT_NE(full[i].kv_digest, 0U);
      EXPECT_EQ(cheap[i].kv_digest, 0U);
      EXPECT_EQ(cheap[i].region_id, full[i].region_id);
      EXPECT_EQ(cheap[i].peer_id, full[i].peer_id);
      EXPECT_EQ(cheap[i].role, full[i].role);
      EXPECT_EQ(cheap[i].term, full[i].term);
      EXPECT_EQ(cheap[i].leader_peer_id, full[i].leader_peer_id);
      EXPECT_EQ(cheap[i].commit_index, full[i].commit_index);
      EXPECT_EQ(cheap[i].applied_index, full[i].applied_index);
      EXPECT_EQ(cheap[i].last_index, full[i].last_index);
      EXPECT_EQ(cheap[i].snapshot_index, full[i].snapshot_index);
      EXPECT_EQ(cheap[i].first_index, full[i].first_index);
      EXPECT_EQ(cheap[i].pending_writes, full[i].pending_writes);
      EXPECT_EQ(cheap[i].pending_reads, full[i].pending_reads);
      EXPECT_EQ(cheap[i].merging_into, full[i].merging_into);
    }
  }
}

// Records what a StoreObserver is told, for every store of a harness (peer
// ids are unique in the cluster).
class RecordingObserver : public StoreObserver {
 public:
  struct Applied {
    uint64_t index = 0;
    uint64_t entry_term = 0;
    std::string data;
  };
  void OnLeader(uint64_t region_id, uint64_t peer_id, uint64_t term,
                const raft::RaftLog& log) override {
    leaders[{region_id, term}].push_back(peer_id);
    EXPECT_GE(log.LastIndex(), log.FirstIndex() - 1);
  }
  void OnApplied(uint64_t region_id, uint64_t peer_id, const raft::Entry& entry,
                 uint64_t term) override {
    EXPECT_GE(term, entry.term());
    applied[{region_id, peer_id}].push_back(
        {entry.index(), entry.term(), entry.data()});
  }
  std::map<std::pair<uint64_t, uint64_t>, std::vector<uint64_t>> leaders;
  std::map<std::pair<uint64_t, uint64_t>, std::vector<Applied>> applied;
};

TEST_F(StoreTest, ObserverSeesOneLeaderPerTermAndEveryAppliedEntry) {
  RecordingObserver observer;
  regions_ = 2;
  harness_ =
      std::make_unique<StoreHarness>(3, MakeRegions(2, 3), TestConfig(), 7);
  harness_->set_observer(&observer);
  for (uint64_t s = 1; s <= 3; ++s) ASSERT_TRUE(harness_->Start(s).ok());
  ASSERT_TRUE(harness_->WaitForLeaders());
  for (int i = 0; i < 10; ++i) {
    MustPut(KeyIn(1 + i % 2, 2, absl::StrCat(i)), absl::StrCat("v", i));
  }
  harness_->RunUntil([] { return false; }, 20);
  for (const auto& [region_term, peers] : observer.leaders) {
    EXPECT_EQ(peers.size(), 1U)
        << "region " << region_term.first << " term " << region_term.second;
  }
  EXPECT_GE(observer.leaders.size(), 2U);
  // Three replicas of each region, each applying the same entries in index
  // order from just after the bootstrap snapshot.
  ASSERT_EQ(observer.applied.size(), 6U);
  for (const auto& [region_peer, entries] : observer.applied) {
    ASSERT_FALSE(entries.empty());
    EXPECT_EQ(entries.front().index, kRaftInitLogIndex + 1);
    for (size_t i = 1; i < entries.size(); ++i) {
      EXPECT_EQ(entries[i].index, entries[i - 1].index + 1);
    }
    const auto& first_peer =
        observer.applied.lower_bound({region_peer.first, 0})->second;
    const size_t common = std::min(first_peer.size(), entries.size());
    for (size_t i = 0; i < common; ++i) {
      EXPECT_EQ(entries[i].entry_term, first_peer[i].entry_term);
      EXPECT_EQ(entries[i].data, first_peer[i].data);
    }
    EXPECT_EQ(
        entries.back().index,
        harness_->store(1)->GetPeerStatus(region_peer.first)->applied_index);
  }
}

TEST_F(StoreTest, RoutingErrorsAreTyped) {
  StartAll(3, 4, TestConfig());
  const uint64_t leader = harness_->LeaderStore(2);
  // Unknown region id.
  kv::KvRequest request = GetRequest(KeyIn(2, 4));
  request.mutable_get()->mutable_header()->set_region_id(99);
  uint64_t token = harness_->Submit(leader, request);
  harness_->Pump();
  std::optional<kv::KvResponse> reply = harness_->TakeReply(token);
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(ErrorOf(*reply).region_not_found().region_id(), 99U);

  // A key outside the named region.
  request.mutable_get()->mutable_header()->set_region_id(2);
  request.mutable_get()->set_key(KeyIn(4, 4));
  token = harness_->Submit(leader, request);
  harness_->Pump();
  reply = harness_->TakeReply(token);
  ASSERT_TRUE(reply.has_value());
  ASSERT_TRUE(ErrorOf(*reply).has_key_not_in_region());
  EXPECT_EQ(ErrorOf(*reply).key_not_in_region().region_id(), 2U);
  EXPECT_EQ(ErrorOf(*reply).key_not_in_region().start_key(), "k250");
  EXPECT_EQ(ErrorOf(*reply).key_not_in_region().end_key(), "k500");

  // A stale epoch: the error carries the current meta.
  request.mutable_get()->set_key(KeyIn(2, 4));
  request.mutable_get()->mutable_header()->mutable_region_epoch()->set_version(
      7);
  token = harness_->Submit(leader, request);
  harness_->Pump();
  reply = harness_->TakeReply(token);
  ASSERT_TRUE(reply.has_value());
  ASSERT_TRUE(ErrorOf(*reply).has_epoch_not_match());
  ASSERT_EQ(ErrorOf(*reply).epoch_not_match().current_regions_size(), 1);
  EXPECT_EQ(
      ErrorOf(*reply).epoch_not_match().current_regions(0).epoch().version(),
      1U);

  // Region id 0 routes by key, and the answer names the region.
  request.mutable_get()->mutable_header()->Clear();
  token = harness_->Submit(leader, request);
  harness_->RunUntil([&] { return false; }, 5);
  reply = harness_->TakeReply(token);
  ASSERT_TRUE(reply.has_value());
  EXPECT_FALSE(reply->get().header().has_error()) << reply->ShortDebugString();
  EXPECT_EQ(reply->get().header().region().id(), 2U);

  // An empty request and a write without a session are refused.
  token = harness_->Submit(leader, kv::KvRequest());
  kv::KvRequest no_session = PutRequest(KeyIn(2, 4), "v", 0, 0);
  const uint64_t token2 = harness_->Submit(leader, no_session);
  harness_->Pump();
  std::optional<kv::KvResponse> empty = harness_->TakeReply(token);
  ASSERT_TRUE(empty.has_value());
  EXPECT_EQ(empty->response_case(), kv::KvResponse::RESPONSE_NOT_SET)
      << "nothing to match: an empty response";
  reply = harness_->TakeReply(token2);
  ASSERT_TRUE(reply.has_value());
  EXPECT_NE(ErrorOf(*reply).message().find("client_id"), std::string::npos);
}

TEST_F(StoreTest, FollowerAnswersNotLeaderWithTheLeaderPeer) {
  StartAll(3, 2, TestConfig());
  const uint64_t leader = harness_->LeaderStore(1);
  const uint64_t follower = FollowerStore(1);
  for (const kv::KvRequest& request :
       {GetRequest(KeyIn(1, 2)), PutRequest(KeyIn(1, 2), "v", 5, 1)}) {
    const uint64_t token = harness_->Submit(follower, request);
    harness_->Pump();
    std::optional<kv::KvResponse> reply = harness_->TakeReply(token);
    ASSERT_TRUE(reply.has_value());
    ASSERT_TRUE(ErrorOf(*reply).has_not_leader()) << reply->ShortDebugString();
    EXPECT_EQ(ErrorOf(*reply).not_leader().region_id(), 1U);
    EXPECT_EQ(ErrorOf(*reply).not_leader().leader().store_id(), leader);
    EXPECT_EQ(ErrorOf(*reply).not_leader().leader().id(), PeerIdOf(1, leader));
  }
}

TEST_F(StoreTest, OneWalWriteAndSyncCoverManyRegions) {
  StartAll(3, 16, TestConfig());
  // The store leading the most regions gets one write for each of them, all
  // submitted before it runs.
  std::vector<std::vector<int>> led(4);
  for (int r = 1; r <= 16; ++r) led[harness_->LeaderStore(r)].push_back(r);
  uint64_t busiest = 1;
  for (uint64_t s = 2; s <= 3; ++s) {
    if (led[s].size() > led[busiest].size()) busiest = s;
  }
  ASSERT_GE(led[busiest].size(), 2U);
  Store* store = harness_->store(busiest);
  const uint64_t writes_before = store->stats().writes;
  for (int r : led[busiest]) {
    store->Submit(1, PutRequest(KeyIn(r, 16, "x"), "v", 77 + r, 1));
  }
  StoreEffects effects = store->TakeEffects();
  ASSERT_FALSE(effects.write.empty());
  EXPECT_TRUE(effects.write.must_sync);
  EXPECT_EQ(effects.write.regions.size(), led[busiest].size());
  EXPECT_EQ(effects.write.entry_count(), led[busiest].size());
  EXPECT_EQ(store->stats().writes, writes_before + 1);
  // The leader's appends left before its own write, one batch per follower
  // store carrying every region's append.
  ASSERT_EQ(effects.messages.size(), 2U);
  for (const RaftMessageBatch& batch : effects.messages) {
    EXPECT_EQ(static_cast<size_t>(batch.messages_size()), led[busiest].size());
    EXPECT_EQ(batch.from_store_id(), busiest);
  }
  // No second write while the first is in flight.
  store->Submit(2, PutRequest(KeyIn(led[busiest][0], 16, "y"), "v", 500, 1));
  EXPECT_TRUE(store->TakeEffects().write.empty());
  EXPECT_TRUE(store->write_in_flight());
}

TEST_F(StoreTest, RestartRecoversEveryAcknowledgedWrite) {
  StartAll(3, 4, TestConfig());
  for (int r = 1; r <= 4; ++r) {
    for (int i = 0; i < 5; ++i) {
      MustPut(KeyIn(r, 4, absl::StrCat(i)), absl::StrCat("v", r, ".", i));
    }
  }
  for (uint64_t s = 1; s <= 3; ++s) harness_->Crash(s);
  for (uint64_t s = 1; s <= 3; ++s) ASSERT_TRUE(harness_->Start(s).ok());
  ASSERT_TRUE(harness_->WaitForLeaders());
  for (int r = 1; r <= 4; ++r) {
    for (int i = 0; i < 5; ++i) {
      EXPECT_EQ(MustGet(KeyIn(r, 4, absl::StrCat(i))),
                absl::StrCat("v", r, ".", i));
    }
  }
  // The catalog came back from the manifest.
  EXPECT_EQ(harness_->store(2)->catalog().CountByState().region_running, 4U);
}

TEST_F(StoreTest, CrashedFollowerCatchesUpAfterRestart) {
  StartAll(3, 2, TestConfig());
  const uint64_t down = FollowerStore(1);
  harness_->Crash(down);
  for (int i = 0; i < 20; ++i) MustPut(KeyIn(1, 2, absl::StrCat(i)), "v");
  ASSERT_TRUE(harness_->Start(down).ok());
  const uint64_t leader = harness_->LeaderStore(1);
  ASSERT_TRUE(harness_->RunUntil(
      [&] {
        auto mine = harness_->store(down)->GetPeerStatus(1);
        auto theirs = harness_->store(leader)->GetPeerStatus(1);
        return mine->applied_index == theirs->applied_index &&
               mine->kv_digest == theirs->kv_digest;
      },
      500));
}

TEST_F(StoreTest, IsolatedLeaderNeverServesAStaleRead) {
  StartAll(3, 1, TestConfig());
  const std::string key = KeyIn(1, 1, "k");
  MustPut(key, "old");
  const uint64_t old_leader = harness_->LeaderStore(1);
  harness_->Isolate(old_leader, true);
  const uint64_t read = harness_->Submit(old_leader, GetRequest(key));
  // The others elect a new leader and overwrite the key.
  ASSERT_TRUE(harness_->RunUntil(
      [&] {
        for (uint64_t s = 1; s <= 3; ++s) {
          if (s == old_leader) continue;
          auto status = harness_->store(s)->GetPeerStatus(1);
          if (status->role == raft::Role::kLeader) return true;
        }
        return false;
      },
      500));
  MustPut(key, "new");
  harness_->RunUntil([] { return false; }, 100);
  std::optional<kv::KvResponse> reply = harness_->TakeReply(read);
  // The leader stepped down (CheckQuorum) and refused the read it had not
  // confirmed; it never served the old value.
  ASSERT_TRUE(reply.has_value());
  EXPECT_TRUE(ErrorOf(*reply).has_not_leader()) << reply->ShortDebugString();
  EXPECT_NE(harness_->store(old_leader)->GetPeerStatus(1)->role,
            raft::Role::kLeader);
  harness_->Isolate(old_leader, false);
  EXPECT_EQ(MustGet(key), "new");
}

TEST_F(StoreTest, RetriedCasAppliesOnce) {
  StartAll(3, 1, TestConfig());
  const std::string key = KeyIn(1, 1, "c");
  MustPut(key, "v1");
  const kv::KvRequest cas = CasRequest(key, "v1", "v2", 4242, 1);
  kv::KvResponse first = MustCall(cas);
  ASSERT_TRUE(first.compare_and_swap().succeeded()) << first.ShortDebugString();
  // Another writer moves the value on; the retry must not swap again.
  MustPut(key, "v1");
  kv::KvResponse retry = MustCall(cas);
  EXPECT_TRUE(retry.compare_and_swap().succeeded()) << "the first result";
  EXPECT_EQ(MustGet(key), "v1");
  // A new sequence of the same session is a new command.
  kv::KvResponse next = MustCall(CasRequest(key, "v1", "v3", 4242, 2));
  EXPECT_TRUE(next.compare_and_swap().succeeded());
  EXPECT_EQ(MustGet(key), "v3");
}

TEST_F(StoreTest, RetriedCasAfterALeaderChangeAppliesOnce) {
  StartAll(3, 1, TestConfig());
  const std::string key = KeyIn(1, 1, "lc");
  MustPut(key, "0");
  const kv::KvRequest cas = CasRequest(key, "0", "1", 5150, 1);
  // The CAS applies at the old leader, but its answer is lost: the leader
  // is cut off right after proposing, then its successor takes over.
  const uint64_t old_leader = harness_->LeaderStore(1);
  const uint64_t token = harness_->Submit(old_leader, cas);
  harness_->Pump();            // replicated and applied everywhere
  harness_->TakeReply(token);  // ... and the answer dropped
  harness_->Isolate(old_leader, true);
  ASSERT_TRUE(harness_->RunUntil(
      [&] {
        const uint64_t l = harness_->LeaderStore(1);
        return l != 0 && l != old_leader;
      },
      500));
  MustPut(key, "0");  // someone resets the value under the new leader
  // The client retries the same (session, sequence) at the new leader: the
  // replicated session table returns the first result, no second swap.
  const kv::KvResponse retry = MustCall(cas);
  ASSERT_FALSE(retry.compare_and_swap().header().has_error())
      << retry.ShortDebugString();
  EXPECT_TRUE(retry.compare_and_swap().succeeded());
  EXPECT_EQ(MustGet(key), "0") << "the retry must not swap again";
  harness_->Isolate(old_leader, false);
}

TEST_F(StoreTest, ScanIsClampedToTheServingRegion) {
  StartAll(3, 2, TestConfig());
  for (int r = 1; r <= 2; ++r) {
    for (int i = 0; i < 3; ++i) MustPut(KeyIn(r, 2, absl::StrCat(i)), "v");
  }
  const kv::KvResponse response = MustCall(ScanRequest("", "", 100));
  ASSERT_TRUE(response.has_scan()) << response.ShortDebugString();
  ASSERT_EQ(response.scan().pairs_size(), 3);
  EXPECT_EQ(response.scan().pairs(0).key(), KeyIn(1, 2, "0"));
  EXPECT_EQ(response.scan().header().region().id(), 1U);
  EXPECT_EQ(response.scan().header().region().end_key(), "k500");
  const kv::KvResponse limited = MustCall(ScanRequest(KeyIn(2, 2), "", 2));
  EXPECT_EQ(limited.scan().pairs_size(), 2);
  EXPECT_TRUE(limited.scan().more());
}

TEST_F(StoreTest, ProposalsBeyondTheRegionBoundAreServerBusy) {
  StoreConfig config = TestConfig();
  config.region_proposals_max = 2;
  StartAll(3, 1, config);
  const uint64_t leader = harness_->LeaderStore(1);
  // Cut the leader off so nothing commits; its proposals stay in flight.
  harness_->Isolate(leader, true);
  std::vector<uint64_t> tokens;
  for (uint64_t i = 1; i <= 3; ++i) {
    tokens.push_back(harness_->Submit(
        leader, PutRequest(KeyIn(1, 1, "b"), "v", 900 + i, 1)));
  }
  harness_->Pump();
  EXPECT_FALSE(harness_->TakeReply(tokens[0]).has_value());
  EXPECT_FALSE(harness_->TakeReply(tokens[1]).has_value());
  std::optional<kv::KvResponse> third = harness_->TakeReply(tokens[2]);
  ASSERT_TRUE(third.has_value());
  EXPECT_TRUE(ErrorOf(*third).has_server_busy());
  EXPECT_GT(ErrorOf(*third).server_busy().backoff_ms(), 0U);
  EXPECT_EQ(harness_->store(leader)->stats().peers.proposals_in_flight, 2U);
  EXPECT_EQ(harness_->store(leader)->stats().peers.busy_refusals, 1U);
}

TEST_F(StoreTest, LostProposalIsAnsweredNotLeader) {
  StartAll(3, 1, TestConfig());
  const uint64_t old_leader = harness_->LeaderStore(1);
  harness_->Isolate(old_leader, true);
  const uint64_t token =
      harness_->Submit(old_leader, PutRequest(KeyIn(1, 1, "l"), "lost", 31, 1));
  harness_->Pump();
  ASSERT_TRUE(harness_->RunUntil(
      [&] {
        const uint64_t l = harness_->LeaderStore(1);
        return l != 0 && l != old_leader;
      },
      500));
  MustPut(KeyIn(1, 1, "l"), "won");
  harness_->Isolate(old_leader, false);
  // Once the old leader learns the new log, its proposal's index holds
  // another term's entry: a certain failure, answered as such.
  std::optional<kv::KvResponse> reply;
  ASSERT_TRUE(harness_->RunUntil(
      [&] {
        reply = harness_->TakeReply(token);
        return reply.has_value();
      },
      300));
  ASSERT_TRUE(ErrorOf(*reply).has_not_leader()) << reply->ShortDebugString();
  EXPECT_NE(ErrorOf(*reply).message().find("did not apply"), std::string::npos);
  EXPECT_EQ(harness_->store(old_leader)->stats().peers.proposals_in_flight, 0U);
  EXPECT_EQ(MustGet(KeyIn(1, 1, "l")), "won");
}

TEST_F(StoreTest, LeaseReadsServeWithoutAHeartbeatRound) {
  StoreConfig config = TestConfig();
  config.lease_reads = true;
  StartAll(3, 2, config);
  MustPut(KeyIn(2, 2, "z"), "lease");
  EXPECT_EQ(MustGet(KeyIn(2, 2, "z")), "lease");
}

StoreConfig GcConfig() {
  StoreConfig config = TestConfig();
  config.raft_log_gc_entries_max = 20;
  return config;
}

TEST_F(StoreTest, LogGcSnapshotsCompactsAndReleasesWalSegments) {
  StartAll(3, 1, GcConfig());
  const std::string value(400, 'v');
  for (int i = 0; i < 150; ++i) MustPut(KeyIn(1, 1, absl::StrCat(i)), value);
  harness_->RunUntil([] { return false; }, 20);
  for (uint64_t s = 1; s <= 3; ++s) {
    const PeerStatus status = *harness_->store(s)->GetPeerStatus(1);
    EXPECT_GT(harness_->store(s)->stats().snapshots_taken, 0U) << s;
    EXPECT_GT(status.snapshot_index, 100U) << s;
    EXPECT_EQ(status.first_index, status.snapshot_index + 1) << s;
    // 150 writes of 400 bytes fill several 16 KiB segments; GC left only
    // what the last snapshot still needs.
    EXPECT_GT(harness_->counters(s).segments_removed, 0U) << s;
    EXPECT_LE(harness_->wal(s)->stats().segments, 3U) << s;
    // Only the live snapshot file is kept.
    EXPECT_EQ(harness_->store(s)->LiveSnapshotFiles().size(), 1U);
  }
  // The state survives a restart from snapshot + WAL tail.
  for (uint64_t s = 1; s <= 3; ++s) harness_->Crash(s);
  for (uint64_t s = 1; s <= 3; ++s) ASSERT_TRUE(harness_->Start(s).ok());
  EXPECT_GT(harness_->store(1)->GetPeerStatus(1)->snapshot_index, 100U);
  ASSERT_TRUE(harness_->WaitForLeaders());
  for (int i = 0; i < 150; i += 7) {
    EXPECT_EQ(MustGet(KeyIn(1, 1, absl::StrCat(i))), value) << i;
  }
}

TEST_F(StoreTest, FollowerDownWhileTheLogWasCompactedCatchesUpBySnapshot) {
  StartAll(3, 2, GcConfig());
  const uint64_t down = FollowerStore(1);
  harness_->Crash(down);
  for (int i = 0; i < 80; ++i) MustPut(KeyIn(1, 2, absl::StrCat(i)), "v");
  const uint64_t leader = harness_->LeaderStore(1);
  ASSERT_GT(harness_->store(leader)->GetPeerStatus(1)->first_index, 2U)
      << "the leader compacted what the follower lacks";
  ASSERT_TRUE(harness_->Start(down).ok());
  ASSERT_TRUE(harness_->RunUntil(
      [&] {
        auto mine = harness_->store(down)->GetPeerStatus(1);
        auto theirs =
            harness_->store(harness_->LeaderStore(1))->GetPeerStatus(1);
        return mine->applied_index == theirs->applied_index &&
               mine->kv_digest == theirs->kv_digest;
      },
      500));
  EXPECT_GE(harness_->store(down)->stats().snapshots_installed, 1U);
  // The installed snapshot is durable: it survives another crash.
  harness_->Crash(down);
  ASSERT_TRUE(harness_->Start(down).ok());
  EXPECT_GT(harness_->store(down)->GetPeerStatus(1)->snapshot_index, 2U);
  EXPECT_TRUE(harness_->RunUntil(
      [&] {
        auto mine = harness_->store(down)->GetPeerStatus(1);
        auto theirs =
            harness_->store(harness_->LeaderStore(1))->GetPeerStatus(1);
        return mine->kv_digest == theirs->kv_digest;
      },
      500));
}

TEST_F(StoreTest, ManifestKeepsEachRegionsLogPointersBehindTheWal) {
  StartAll(3, 1, GcConfig());
  for (int i = 0; i < 60; ++i) MustPut(KeyIn(1, 1, absl::StrCat(i)), "v");
  harness_->RunUntil([] { return false; }, 10);
  const uint64_t s = FollowerStore(1);
  const PeerStatus status = *harness_->store(s)->GetPeerStatus(1);
  ASSERT_GT(status.snapshot_index, kRaftInitLogIndex);
  const manifest::RegionRecord record = harness_->manifest(s)->regions().at(1);
  EXPECT_EQ(record.log().snapshot_index(), status.snapshot_index);
  EXPECT_EQ(record.log().truncated_index(), status.snapshot_index);
  EXPECT_GT(record.log().snapshot_term(), 0U);
  EXPECT_GE(record.log().applied_index(), record.log().snapshot_index());
  // A manifest that claims a snapshot the WAL does not have means the WAL
  // lost durable data: the store refuses to start, naming the region.
  manifest::ManifestEdit edit;
  manifest::RegionRecord* ahead = edit.add_put_regions();
  *ahead = record;
  ahead->mutable_log()->set_snapshot_index(status.snapshot_index + 1000);
  ASSERT_TRUE(harness_->manifest(s)->Apply(edit).ok());
  harness_->Crash(s);
  const absl::Status started = harness_->Start(s);
  EXPECT_EQ(started.code(), absl::StatusCode::kDataLoss) << started;
  EXPECT_NE(started.message().find("region 1"), std::string::npos) << started;
}

TEST_F(StoreTest, MissingSnapshotFileIsDataLossAtStart) {
  StartAll(3, 1, GcConfig());
  for (int i = 0; i < 40; ++i) MustPut(KeyIn(1, 1, absl::StrCat(i)), "v");
  const std::string file = *harness_->store(2)->LiveSnapshotFiles().begin();
  harness_->Crash(2);
  ASSERT_TRUE(harness_->disk(2).Remove(file).ok());
  const absl::Status status = harness_->Start(2);
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
  EXPECT_NE(status.message().find(file), std::string::npos) << status;
}

AdminRequest ChangePeer(uint64_t region_id, raft::ConfChangeType type,
                        uint64_t store_id) {
  AdminRequest request;
  request.set_region_id(region_id);
  request.mutable_change_peer()->set_type(type);
  request.mutable_change_peer()->mutable_peer()->set_id(
      PeerIdOf(region_id, store_id));
  request.mutable_change_peer()->mutable_peer()->set_store_id(store_id);
  return request;
}

// Whether store `s` hosts an up-to-date replica of region 1 (same applied
// state as the leader).
bool CaughtUp(StoreHarness& h, uint64_t s, uint64_t region_id) {
  const uint64_t leader = h.LeaderStore(region_id);
  if (leader == 0 || h.store(s) == nullptr) return false;
  auto mine = h.store(s)->GetPeerStatus(region_id);
  auto theirs = h.store(leader)->GetPeerStatus(region_id);
  return mine.has_value() && mine->applied_index == theirs->applied_index &&
         mine->kv_digest == theirs->kv_digest;
}

TEST_F(StoreTest, AddLearnerPromoteItAndRemoveAFollower) {
  StartAll(4, 1, GcConfig(), 1, /*stores_with_peers=*/3);
  for (int i = 0; i < 40; ++i) MustPut(KeyIn(1, 1, absl::StrCat(i)), "v");
  EXPECT_FALSE(harness_->store(4)->GetPeerStatus(1).has_value());

  // Add a learner on store 4: it is created by the leader's message and
  // caught up by a snapshot (the log was compacted).
  std::optional<AdminResponse> added =
      harness_->CallAdmin(ChangePeer(1, raft::CONF_CHANGE_TYPE_ADD_LEARNER, 4));
  ASSERT_TRUE(added.has_value());
  ASSERT_FALSE(added->has_error()) << added->ShortDebugString();
  EXPECT_EQ(added->region().epoch().conf_version(), 2U);
  EXPECT_EQ(added->region().peers_size(), 4);
  ASSERT_TRUE(
      harness_->RunUntil([&] { return CaughtUp(*harness_, 4, 1); }, 300));
  EXPECT_EQ(harness_->store(4)->stats().peers_created, 1U);
  EXPECT_GE(harness_->store(4)->stats().snapshots_installed, 1U);
  auto record = harness_->store(4)->catalog().Get(1);
  ASSERT_TRUE(record.ok());
  EXPECT_EQ(record->state, meta::REGION_STATE_RUNNING);
  EXPECT_EQ(record->region.epoch().conf_version(), 2U);

  // Promote it.
  std::optional<AdminResponse> promoted =
      harness_->CallAdmin(ChangePeer(1, raft::CONF_CHANGE_TYPE_ADD_VOTER, 4));
  ASSERT_TRUE(promoted.has_value());
  ASSERT_FALSE(promoted->has_error()) << promoted->ShortDebugString();
  EXPECT_EQ(promoted->region().epoch().conf_version(), 3U);
  for (const meta::Peer& peer : promoted->region().peers()) {
    EXPECT_EQ(peer.role(), meta::PEER_ROLE_VOTER) << peer.ShortDebugString();
  }

  // Remove a follower: its replica becomes a tombstone and its data goes.
  const uint64_t victim = FollowerStore(1);
  std::optional<AdminResponse> removed = harness_->CallAdmin(
      ChangePeer(1, raft::CONF_CHANGE_TYPE_REMOVE_NODE, victim));
  ASSERT_TRUE(removed.has_value());
  ASSERT_FALSE(removed->has_error()) << removed->ShortDebugString();
  EXPECT_EQ(removed->region().epoch().conf_version(), 4U);
  EXPECT_EQ(removed->region().peers_size(), 3);
  ASSERT_TRUE(harness_->RunUntil(
      [&] { return !harness_->store(victim)->GetPeerStatus(1).has_value(); },
      100));
  EXPECT_EQ(harness_->store(victim)->catalog().Get(1)->state,
            meta::REGION_STATE_TOMBSTONE);
  EXPECT_EQ(harness_->store(victim)->stats().peers_destroyed, 1U);
  MustPut(KeyIn(1, 1, "after"), "still works");

  // Everything is durable: the new membership, the tombstone.
  for (uint64_t s = 1; s <= 4; ++s) harness_->Crash(s);
  for (uint64_t s = 1; s <= 4; ++s) ASSERT_TRUE(harness_->Start(s).ok()) << s;
  EXPECT_EQ(harness_->store(victim)->catalog().Get(1)->state,
            meta::REGION_STATE_TOMBSTONE);
  EXPECT_FALSE(harness_->store(victim)->GetPeerStatus(1).has_value());
  EXPECT_EQ(harness_->store(4)->catalog().Get(1)->region.epoch().conf_version(),
            4U);
  ASSERT_TRUE(harness_->WaitForLeaders());
  EXPECT_EQ(MustGet(KeyIn(1, 1, "after")), "still works");
  EXPECT_EQ(MustGet(KeyIn(1, 1, "7")), "v");
}

// Found by the simulator (F11, seed 8355): the removed store applies its own
// removal and the manifest takes the meta that no longer lists it; the
// destruction comes a round later. A crash in between must leave a store that
// starts again, with the region a Tombstone, never a Running region with no
// peer here (which Open refuses as DataLoss).
TEST_F(StoreTest, CrashAfterApplyingItsOwnRemovalLeavesATombstone) {
  StartAll(3, 1, TestConfig());
  for (int i = 0; i < 10; ++i) MustPut(KeyIn(1, 1, absl::StrCat(i)), "v");
  const uint64_t victim = FollowerStore(1);
  std::optional<meta::RegionState> recorded;
  harness_->CrashAfterManifestWhen([&](uint64_t store,
                                       const StoreEffects& effects) {
    if (store != victim) return false;
    for (const auto& record : effects.manifest_edit->put_regions()) {
      const meta::Region& region = record.local_state().region();
      if (region.id() == 1 &&
          std::none_of(
              region.peers().begin(), region.peers().end(),
              [&](const meta::Peer& p) { return p.store_id() == victim; })) {
        recorded = record.local_state().state();
        return true;
      }
    }
    return false;
  });
  std::optional<AdminResponse> removed = harness_->CallAdmin(
      ChangePeer(1, raft::CONF_CHANGE_TYPE_REMOVE_NODE, victim));
  ASSERT_TRUE(removed.has_value());
  ASSERT_FALSE(removed->has_error()) << removed->ShortDebugString();
  ASSERT_TRUE(harness_->RunUntil([&] { return recorded.has_value(); }, 200));
  EXPECT_EQ(*recorded, meta::REGION_STATE_TOMBSTONE);

  ASSERT_TRUE(harness_->Start(victim).ok());
  EXPECT_EQ(harness_->store(victim)->catalog().Get(1)->state,
            meta::REGION_STATE_TOMBSTONE);
  EXPECT_FALSE(harness_->store(victim)->GetPeerStatus(1).has_value());
  MustPut(KeyIn(1, 1, "after"), "still works");
  harness_->Crash(victim);
  ASSERT_TRUE(harness_->Start(victim).ok());
  EXPECT_EQ(harness_->store(victim)->catalog().Get(1)->state,
            meta::REGION_STATE_TOMBSTONE);
  EXPECT_EQ(MustGet(KeyIn(1, 1, "7")), "v");
}

TEST_F(StoreTest, ARemovedStoreCanBeAddedBackWithANewPeer) {
  StartAll(3, 1, GcConfig());
  for (int i = 0; i < 30; ++i) MustPut(KeyIn(1, 1, absl::StrCat(i)), "v");
  const uint64_t store = FollowerStore(1);
  std::optional<AdminResponse> removed = harness_->CallAdmin(
      ChangePeer(1, raft::CONF_CHANGE_TYPE_REMOVE_NODE, store));
  ASSERT_TRUE(removed.has_value() && !removed->has_error());
  ASSERT_TRUE(harness_->RunUntil(
      [&] { return !harness_->store(store)->GetPeerStatus(1).has_value(); },
      100));
  MustPut(KeyIn(1, 1, "while-away"), "w");
  // Back, as a learner with a new peer id, then a voter.
  AdminRequest add = ChangePeer(1, raft::CONF_CHANGE_TYPE_ADD_LEARNER, store);
  add.mutable_change_peer()->mutable_peer()->set_id(PeerIdOf(1, store) + 50);
  std::optional<AdminResponse> added = harness_->CallAdmin(add);
  ASSERT_TRUE(added.has_value());
  ASSERT_FALSE(added->has_error()) << added->ShortDebugString();
  ASSERT_TRUE(
      harness_->RunUntil([&] { return CaughtUp(*harness_, store, 1); }, 300));
  EXPECT_EQ(harness_->store(store)->stats().peers_readded, 1U);
  EXPECT_EQ(harness_->store(store)->GetPeerStatus(1)->peer_id,
            PeerIdOf(1, store) + 50);
  AdminRequest promote = add;
  promote.mutable_change_peer()->set_type(raft::CONF_CHANGE_TYPE_ADD_VOTER);
  std::optional<AdminResponse> promoted = harness_->CallAdmin(promote);
  ASSERT_TRUE(promoted.has_value() && !promoted->has_error());
  // It survives a restart with the new membership.
  harness_->Crash(store);
  ASSERT_TRUE(harness_->Start(store).ok());
  EXPECT_EQ(harness_->store(store)->catalog().Get(1)->state,
            meta::REGION_STATE_RUNNING);
  ASSERT_TRUE(
      harness_->RunUntil([&] { return CaughtUp(*harness_, store, 1); }, 300));
}

TEST_F(StoreTest, ALearnerRemovedWhileCutOffAsksAndBecomesATombstone) {
  StoreConfig config = GcConfig();
  config.stale_peer_check_ticks = 60;
  StartAll(4, 1, config, 1, /*stores_with_peers=*/3);
  std::optional<AdminResponse> added =
      harness_->CallAdmin(ChangePeer(1, raft::CONF_CHANGE_TYPE_ADD_LEARNER, 4));
  ASSERT_TRUE(added.has_value() && !added->has_error());
  ASSERT_TRUE(
      harness_->RunUntil([&] { return CaughtUp(*harness_, 4, 1); }, 300));
  harness_->Isolate(4, true);
  std::optional<AdminResponse> removed =
      harness_->CallAdmin(ChangePeer(1, raft::CONF_CHANGE_TYPE_REMOVE_NODE, 4));
  ASSERT_TRUE(removed.has_value() && !removed->has_error());
  MustPut(KeyIn(1, 1, "after"), "v");
  harness_->Isolate(4, false);
  // Nobody sends to a removed learner, and it never campaigns: only its own
  // question tells it.
  ASSERT_TRUE(harness_->RunUntil(
      [&] { return !harness_->store(4)->GetPeerStatus(1).has_value(); }, 300));
  EXPECT_EQ(harness_->store(4)->catalog().Get(1)->state,
            meta::REGION_STATE_TOMBSTONE);
  EXPECT_GE(harness_->store(4)->stats().stale_checks_sent, 1U);
  EXPECT_GE(harness_->store(4)->stats().tombstones_received, 1U);
}

TEST_F(StoreTest, RemovingTheLeaderHandsTheRegionToTheOthers) {
  StartAll(3, 1, TestConfig());
  MustPut(KeyIn(1, 1, "a"), "1");
  const uint64_t leader = harness_->LeaderStore(1);
  std::optional<AdminResponse> removed = harness_->CallAdmin(
      ChangePeer(1, raft::CONF_CHANGE_TYPE_REMOVE_NODE, leader));
  ASSERT_TRUE(removed.has_value());
  ASSERT_FALSE(removed->has_error()) << removed->ShortDebugString();
  ASSERT_TRUE(harness_->RunUntil(
      [&] {
        const uint64_t now = harness_->LeaderStore(1);
        return now != 0 && now != leader;
      },
      300));
  EXPECT_FALSE(harness_->store(leader)->GetPeerStatus(1).has_value());
  MustPut(KeyIn(1, 1, "b"), "2");
  EXPECT_EQ(MustGet(KeyIn(1, 1, "a")), "1");
  // A tombstoned region is never recreated by stray messages.
  harness_->RunUntil([] { return false; }, 50);
  EXPECT_EQ(harness_->store(leader)->stats().peers_created, 0U);
}

TEST_F(StoreTest, RemovingTheLeaderWithAnotherVoterLostLeavesALiveRegion) {
  StartAll(4, 1, TestConfig());
  MustPut(KeyIn(1, 1, "a"), "1");
  const uint64_t leader = harness_->LeaderStore(1);
  uint64_t lost = 0;
  for (uint64_t s = 1; s <= 4 && lost == 0; ++s) {
    if (s != leader) lost = s;
  }
  harness_->Crash(lost);                         // down for good
  harness_->RunUntil([] { return false; }, 30);  // the leader notices
  // Four voters, one lost: removing the leader must leave the other two
  // able to elect under the new membership {lost, two live}. A leader that
  // applied its own removal and vanished could leave them unaware of the
  // commit, under the old membership with only two of four: so the leader
  // hands over first and says where to send the removal.
  AdminRequest direct =
      ChangePeer(1, raft::CONF_CHANGE_TYPE_REMOVE_NODE, leader);
  *direct.mutable_region_epoch() =
      harness_->store(leader)->catalog().Get(1)->region.epoch();
  const uint64_t token = harness_->SubmitAdmin(leader, direct);
  harness_->Pump();
  std::optional<AdminResponse> first = harness_->TakeAdminReply(token);
  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(first->error().has_not_leader()) << first->ShortDebugString();
  const uint64_t heir = first->error().not_leader().leader().store_id();
  EXPECT_NE(heir, leader);
  EXPECT_NE(heir, lost);
  std::optional<AdminResponse> removed = harness_->CallAdmin(
      ChangePeer(1, raft::CONF_CHANGE_TYPE_REMOVE_NODE, leader));
  ASSERT_TRUE(removed.has_value());
  ASSERT_FALSE(removed->has_error()) << removed->ShortDebugString();
  ASSERT_TRUE(harness_->RunUntil(
      [&] {
        const uint64_t now = harness_->LeaderStore(1);
        return now != 0 && now != leader &&
               !harness_->store(leader)->GetPeerStatus(1).has_value();
      },
      1000));
  MustPut(KeyIn(1, 1, "b"), "2");
  EXPECT_EQ(MustGet(KeyIn(1, 1, "a")), "1");
}

TEST_F(StoreTest, TransferLeaderMovesLeadership) {
  StartAll(3, 1, TestConfig());
  const uint64_t target = FollowerStore(1);
  AdminRequest request;
  request.set_region_id(1);
  request.mutable_transfer_leader()->mutable_peer()->set_id(
      PeerIdOf(1, target));
  std::optional<AdminResponse> response = harness_->CallAdmin(request);
  ASSERT_TRUE(response.has_value());
  ASSERT_FALSE(response->has_error()) << response->ShortDebugString();
  EXPECT_TRUE(harness_->RunUntil(
      [&] { return harness_->LeaderStore(1) == target; }, 100));
  MustPut(KeyIn(1, 1, "t"), "ok");
}

TEST_F(StoreTest, AdminCommandsAreCheckedBeforeProposing) {
  StartAll(3, 1, TestConfig());
  const uint64_t leader = harness_->LeaderStore(1);
  auto submit = [&](uint64_t store, AdminRequest request) {
    if (!request.has_region_epoch()) {
      request.mutable_region_epoch()->set_version(1);
      request.mutable_region_epoch()->set_conf_version(1);
    }
    const uint64_t token = harness_->SubmitAdmin(store, request);
    harness_->Pump();
    std::optional<AdminResponse> reply = harness_->TakeAdminReply(token);
    EXPECT_TRUE(reply.has_value());
    return reply.value_or(AdminResponse());
  };
  AdminRequest stale = ChangePeer(1, raft::CONF_CHANGE_TYPE_ADD_LEARNER, 4);
  stale.mutable_region_epoch()->set_version(1);
  stale.mutable_region_epoch()->set_conf_version(9);
  EXPECT_TRUE(submit(leader, stale).error().has_epoch_not_match());
  EXPECT_TRUE(submit(FollowerStore(1),
                     ChangePeer(1, raft::CONF_CHANGE_TYPE_ADD_LEARNER, 4))
                  .error()
                  .has_not_leader());
  EXPECT_TRUE(
      submit(leader, ChangePeer(7, raft::CONF_CHANGE_TYPE_ADD_LEARNER, 4))
          .error()
          .has_region_not_found());
  // Promoting a voter, adding a second peer on a store, removing a stranger.
  EXPECT_NE(submit(leader, ChangePeer(1, raft::CONF_CHANGE_TYPE_ADD_VOTER, 2))
                .error()
                .message()
                .find("only a learner"),
            std::string::npos);
  AdminRequest twice = ChangePeer(1, raft::CONF_CHANGE_TYPE_ADD_LEARNER, 2);
  twice.mutable_change_peer()->mutable_peer()->set_id(999);
  EXPECT_NE(submit(leader, twice).error().message().find("already has peer"),
            std::string::npos);
  EXPECT_NE(submit(leader, ChangePeer(1, raft::CONF_CHANGE_TYPE_REMOVE_NODE, 9))
                .error()
                .message()
                .find("is not in region"),
            std::string::npos);
  EXPECT_NE(submit(leader, AdminRequest()).error().kind_case(),
            kv::Error::KIND_NOT_SET);  // region 0 is not found
}

AdminRequest SplitAt(uint64_t region_id, const std::string& key,
                     uint64_t new_region_id, int stores) {
  AdminRequest request;
  request.set_region_id(region_id);
  request.mutable_split()->set_split_key(key);
  request.mutable_split()->set_new_region_id(new_region_id);
  for (int s = 1; s <= stores; ++s) {
    request.mutable_split()->add_new_peer_ids(
        PeerIdOf(new_region_id, static_cast<uint64_t>(s)));
  }
  return request;
}

TEST_F(StoreTest, SplitKeepsReadsAndWritesCorrect) {
  StartAll(3, 1, TestConfig());
  for (const char* key : {"a", "c", "m", "q", "z"}) MustPut(key, key);
  std::optional<AdminResponse> split =
      harness_->CallAdmin(SplitAt(1, "m", 2, 3));
  ASSERT_TRUE(split.has_value());
  ASSERT_FALSE(split->has_error()) << split->ShortDebugString();
  EXPECT_EQ(split->region().end_key(), "m");
  EXPECT_EQ(split->region().epoch().version(), 2U);
  EXPECT_EQ(split->new_region().id(), 2U);
  EXPECT_EQ(split->new_region().start_key(), "m");
  EXPECT_EQ(split->new_region().end_key(), "");
  EXPECT_EQ(split->new_region().epoch().version(), 2U);
  ASSERT_TRUE(harness_->WaitForLeaders());
  for (const char* key : {"a", "c", "m", "q", "z"}) {
    EXPECT_EQ(MustGet(key), key) << key;
  }
  const kv::KvResponse child = MustCall(GetRequest("q"));
  EXPECT_EQ(child.get().header().region().id(), 2U);
  MustPut("r", "new in the child");
  MustPut("b", "new in the parent");
  // Every store split the same way, with the same data on each side.
  harness_->RunUntil([] { return false; }, 20);
  for (uint64_t r : {1, 2}) {
    const uint64_t digest = harness_->store(1)->GetPeerStatus(r)->kv_digest;
    for (uint64_t s = 2; s <= 3; ++s) {
      EXPECT_EQ(harness_->store(s)->GetPeerStatus(r)->kv_digest, digest)
          << "region " << r << " store " << s;
    }
    EXPECT_EQ(harness_->store(2)->catalog().Get(r)->region.epoch().version(),
              2U);
  }
  // The parent no longer serves the child's keys, and an old epoch is told
  // about both regions.
  const uint64_t leader = harness_->LeaderStore(1);
  kv::KvRequest stale = GetRequest("q");
  stale.mutable_get()->mutable_header()->set_region_id(1);
  stale.mutable_get()->mutable_header()->mutable_region_epoch()->set_version(1);
  const uint64_t token = harness_->Submit(leader, stale);
  harness_->Pump();
  std::optional<kv::KvResponse> reply = harness_->TakeReply(token);
  ASSERT_TRUE(reply.has_value());
  ASSERT_EQ(ErrorOf(*reply).epoch_not_match().current_regions_size(), 2);
  EXPECT_EQ(ErrorOf(*reply).epoch_not_match().current_regions(1).id(), 2U);
  // A split key outside the (shrunk) region is refused before proposing.
  std::optional<AdminResponse> again =
      harness_->CallAdmin(SplitAt(1, "x", 3, 3));
  ASSERT_TRUE(again.has_value());
  EXPECT_FALSE(again->error().message().empty()) << "x is outside region 1";
}

TEST_F(StoreTest, WriteProposedBeforeTheSplitForAMovedKeyIsRefused) {
  StartAll(3, 1, TestConfig());
  MustPut("a", "1");
  const uint64_t leader = harness_->LeaderStore(1);
  Store* store = harness_->store(leader);
  AdminRequest split = SplitAt(1, "m", 2, 3);
  *split.mutable_region_epoch() = store->catalog().Get(1)->region.epoch();
  const uint64_t admin = harness_->SubmitAdmin(leader, split);
  const uint64_t write =
      harness_->Submit(leader, PutRequest("q", "late", 77, 1));
  harness_->Pump();
  ASSERT_TRUE(harness_->RunUntil(
      [&] { return harness_->TakeAdminReply(admin).has_value(); }, 100));
  std::optional<kv::KvResponse> reply;
  ASSERT_TRUE(harness_->RunUntil(
      [&] {
        reply = harness_->TakeReply(write);
        return reply.has_value();
      },
      100));
  ASSERT_TRUE(ErrorOf(*reply).has_epoch_not_match())
      << reply->ShortDebugString();
  ASSERT_TRUE(harness_->WaitForLeaders());
  EXPECT_EQ(MustGet("q"), std::nullopt) << "the refused write never applied";
  // The same session's retry goes to the new region and applies once.
  const kv::KvResponse retry = MustCall(PutRequest("q", "late", 77, 1));
  EXPECT_FALSE(retry.put().header().has_error()) << retry.ShortDebugString();
  EXPECT_EQ(MustGet("q"), "late");
}

TEST_F(StoreTest, SplitThenCrashRecoversBothRegions) {
  StartAll(3, 1, GcConfig());
  for (int i = 0; i < 30; ++i) MustPut(absl::StrFormat("k%02d", i), "v");
  std::optional<AdminResponse> split =
      harness_->CallAdmin(SplitAt(1, "k15", 2, 3));
  ASSERT_TRUE(split.has_value() && !split->has_error());
  MustPut("k20", "after split");
  // Crash one store at once, the others after more writes (and log GC).
  harness_->Crash(3);
  for (int i = 0; i < 30; ++i) MustPut(absl::StrFormat("k%02d", i), "w");
  harness_->Crash(1);
  harness_->Crash(2);
  for (uint64_t s = 1; s <= 3; ++s) ASSERT_TRUE(harness_->Start(s).ok()) << s;
  ASSERT_TRUE(harness_->WaitForLeaders());
  for (uint64_t s = 1; s <= 3; ++s) {
    EXPECT_EQ(harness_->store(s)->catalog().CountByState().region_running, 2U);
  }
  for (int i = 0; i < 30; ++i) {
    EXPECT_EQ(MustGet(absl::StrFormat("k%02d", i)), "w") << i;
  }
  ASSERT_TRUE(harness_->RunUntil(
      [&] {
        for (uint64_t r : {1, 2}) {
          for (uint64_t s = 1; s <= 3; ++s) {
            if (!CaughtUp(*harness_, s, r)) return false;
          }
        }
        return true;
      },
      500));
}

// Found by review: a follower applies the split, the manifest lists the new
// region, and the store dies before the WAL write holding the new region's
// bootstrap snapshot (its data). On restart the region must not start as an
// empty bootstrapped region: the parent's replay of the split gives it its
// data back, and every replica agrees.
TEST_F(StoreTest, CrashBetweenManifestAndWalDuringASplitLosesNothing) {
  StartAll(3, 1, TestConfig());
  for (const char* key : {"a", "c", "m", "q", "z"}) MustPut(key, key);
  const uint64_t leader = harness_->LeaderStore(1);
  const uint64_t victim = leader == 1 ? 2 : 1;
  bool crashed = false;
  harness_->CrashAfterManifestWhen(
      [&](uint64_t store, const StoreEffects& effects) {
        if (store != victim) return false;
        for (const auto& record : effects.manifest_edit->put_regions()) {
          if (record.region_id() == 2) return crashed = true;
        }
        return false;
      });
  std::optional<AdminResponse> split =
      harness_->CallAdmin(SplitAt(1, "m", 2, 3));
  ASSERT_TRUE(split.has_value() && !split->has_error());
  harness_->RunUntil([&] { return crashed; }, 100);
  ASSERT_TRUE(crashed);
  ASSERT_TRUE(harness_->Start(victim).ok());
  ASSERT_TRUE(harness_->WaitForLeaders());
  ASSERT_TRUE(harness_->RunUntil(
      [&] {
        for (uint64_t s = 1; s <= 3; ++s) {
          if (!CaughtUp(*harness_, s, 2)) return false;
        }
        return true;
      },
      300));
  EXPECT_EQ(harness_->store(victim)->catalog().Get(2)->state,
            meta::REGION_STATE_RUNNING);
  // Whoever leads the new region serves what was written before the split.
  AdminRequest transfer;
  transfer.set_region_id(2);
  transfer.mutable_transfer_leader()->mutable_peer()->set_id(
      PeerIdOf(2, victim));
  harness_->CallAdmin(transfer);
  harness_->RunUntil([&] { return harness_->LeaderStore(2) == victim; }, 100);
  EXPECT_EQ(MustGet("q"), "q");
  EXPECT_EQ(MustGet("z"), "z");
}

// Found by review: a split proposed by a leader that is then cut off is
// overwritten by the next leader's entries; its caller is told it did not
// apply.
// Merges `source` into `target` with the target's meta as the source
// leader's store knows it.
std::optional<AdminResponse> MergeInto(StoreHarness& harness, uint64_t source,
                                       uint64_t target) {
  const uint64_t leader = harness.LeaderStore(source);
  if (leader == 0) return std::nullopt;
  AdminRequest request;
  request.set_region_id(source);
  *request.mutable_merge()->mutable_target() =
      harness.store(leader)->catalog().Get(target)->region;
  return harness.CallAdmin(request);
}

// Whether every live store holds `source` as a Tombstone and routes
// `target` over `start`..`end`.
bool MergedEverywhere(const StoreHarness& harness, int stores, uint64_t source,
                      uint64_t target, const std::string& start,
                      const std::string& end) {
  for (int s = 1; s <= stores; ++s) {
    const Store* store = harness.store(static_cast<uint64_t>(s));
    if (store == nullptr) continue;
    absl::StatusOr<RegionRecord> gone = store->catalog().Get(source);
    absl::StatusOr<RegionRecord> grown = store->catalog().Get(target);
    if (!gone.ok() || gone->state != meta::REGION_STATE_TOMBSTONE ||
        !grown.ok() || grown->region.start_key() != start ||
        grown->region.end_key() != end ||
        store->GetPeerStatus(source).has_value()) {
      return false;
    }
  }
  return true;
}

TEST_F(StoreTest, MergeTakesInTheSourceAndTombstonesIt) {
  StartAll(3, 1, TestConfig());
  ASSERT_FALSE(harness_->CallAdmin(SplitAt(1, "m", 2, 3))->has_error());
  ASSERT_TRUE(harness_->WaitForLeaders());
  for (const char* key : {"a", "c", "m", "q", "z"}) MustPut(key, key);
  const uint64_t target_version =
      harness_->store(1)->catalog().Get(1)->region.epoch().version();
  std::optional<AdminResponse> merge = MergeInto(*harness_, 2, 1);
  ASSERT_TRUE(merge.has_value());
  ASSERT_FALSE(merge->has_error()) << merge->ShortDebugString();
  ASSERT_TRUE(harness_->RunUntil(
      [&] { return MergedEverywhere(*harness_, 3, 2, 1, "", ""); }, 500));
  for (const char* key : {"a", "c", "m", "q", "z"}) {
    EXPECT_EQ(MustGet(key), key) << key;
  }
  const kv::KvResponse served = MustCall(GetRequest("q"));
  EXPECT_EQ(served.get().header().region().id(), 1U);
  EXPECT_GT(served.get().header().region().epoch().version(), target_version);
  ASSERT_EQ(served.get().header().region().merged_region_ids_size(), 1);
  MustPut("r", "after the merge");
  EXPECT_EQ(MustGet("r"), "after the merge");
  // Every replica took in the same data.
  harness_->RunUntil([] { return false; }, 20);
  const uint64_t digest = harness_->store(1)->GetPeerStatus(1)->kv_digest;
  for (uint64_t s = 2; s <= 3; ++s) {
    EXPECT_EQ(harness_->store(s)->GetPeerStatus(1)->kv_digest, digest);
    EXPECT_EQ(harness_->store(s)->stats().merged_away_destroyed, 1U);
  }
  // A request still naming the source is told it is gone.
  kv::KvRequest stale = GetRequest("q");
  stale.mutable_get()->mutable_header()->set_region_id(2);
  const uint64_t token = harness_->Submit(harness_->LeaderStore(1), stale);
  harness_->Pump();
  std::optional<kv::KvResponse> reply = harness_->TakeReply(token);
  ASSERT_TRUE(reply.has_value());
  EXPECT_TRUE(ErrorOf(*reply).has_region_not_found());
  // Merging a region that is gone, or into itself, is refused.
  EXPECT_FALSE(MergeInto(*harness_, 2, 1).has_value());
}

TEST_F(StoreTest, MergeThenCrashRecoversTheMergedRegion) {
  StartAll(3, 2, TestConfig());
  const std::string left = KeyIn(1, 2, "x");
  const std::string right = KeyIn(2, 2, "y");
  MustPut(left, "l");
  MustPut(KeyIn(1, 2, "kept"), "from the source");
  MustPut(right, "r");
  ASSERT_FALSE(MergeInto(*harness_, 1, 2)->has_error());
  ASSERT_TRUE(harness_->RunUntil(
      [&] { return MergedEverywhere(*harness_, 3, 1, 2, "", ""); }, 500));
  MustPut(left, "l2");
  for (uint64_t s = 1; s <= 3; ++s) {
    harness_->Crash(s);
    ASSERT_TRUE(harness_->Start(s).ok()) << "store " << s;
    ASSERT_TRUE(harness_->WaitForLeaders());
  }
  EXPECT_EQ(MustGet(left), "l2");
  EXPECT_EQ(MustGet(right), "r");
  EXPECT_EQ(MustGet(KeyIn(1, 2, "kept")), "from the source");
  EXPECT_TRUE(MergedEverywhere(*harness_, 3, 1, 2, "", ""));
}

TEST_F(StoreTest, MergeDuringAPartitionCompletesOnTheCutOffStoreAfterHealing) {
  StartAll(3, 2, TestConfig());
  const std::string left = KeyIn(1, 2, "x");
  const std::string right = KeyIn(2, 2, "y");
  MustPut(left, "l");
  MustPut(right, "r");
  MustPut(KeyIn(2, 2, "kept"), "from the source");
  // A store that leads neither region is cut off before the merge.
  uint64_t cut = 0;
  for (uint64_t s = 1; s <= 3 && cut == 0; ++s) {
    if (harness_->LeaderStore(1) != s && harness_->LeaderStore(2) != s) cut = s;
  }
  if (cut == 0) cut = FollowerStore(1);
  harness_->Isolate(cut, true);
  ASSERT_TRUE(harness_->WaitForLeaders());
  std::optional<AdminResponse> merge = MergeInto(*harness_, 2, 1);
  ASSERT_TRUE(merge.has_value());
  ASSERT_FALSE(merge->has_error()) << merge->ShortDebugString();
  auto merged_on_majority = [&] {
    for (uint64_t s = 1; s <= 3; ++s) {
      if (s == cut) continue;
      if (harness_->store(s)->GetPeerStatus(2).has_value()) return false;
    }
    return true;
  };
  ASSERT_TRUE(harness_->RunUntil(merged_on_majority, 500));
  MustPut(right, "r2");  // served by the target now
  // The cut-off store still has both replicas, the source unmerged.
  EXPECT_TRUE(harness_->store(cut)->GetPeerStatus(2).has_value());
  harness_->Isolate(cut, false);
  ASSERT_TRUE(harness_->RunUntil(
      [&] { return MergedEverywhere(*harness_, 3, 2, 1, "", ""); }, 1000));
  EXPECT_EQ(MustGet(right), "r2");
  EXPECT_EQ(MustGet(left), "l");
  EXPECT_EQ(MustGet(KeyIn(2, 2, "kept")), "from the source");
  harness_->RunUntil([] { return false; }, 30);
  const uint64_t digest = harness_->store(1)->GetPeerStatus(1)->kv_digest;
  for (uint64_t s = 2; s <= 3; ++s) {
    EXPECT_EQ(harness_->store(s)->GetPeerStatus(1)->kv_digest, digest)
        << "store " << s;
  }
}

TEST_F(StoreTest, MergeRollsBackWhenTheTargetMovesOnFirst) {
  StoreConfig config = TestConfig();
  config.merge_check_ticks = 200;  // the split below comes before a check
  StartAll(3, 2, config);
  const std::string left = KeyIn(1, 2, "x");
  const std::string right = KeyIn(2, 2, "y");
  MustPut(right, "r");
  const uint64_t source_version =
      harness_->store(1)->catalog().Get(2)->region.epoch().version();
  ASSERT_FALSE(MergeInto(*harness_, 2, 1)->has_error());
  // Frozen: its leader answers ServerBusy and applies nothing.
  {
    kv::KvRequest put = PutRequest(right, "frozen", ++client_, 1);
    const uint64_t token = harness_->Submit(harness_->LeaderStore(2), put);
    harness_->Pump();
    std::optional<kv::KvResponse> reply = harness_->TakeReply(token);
    ASSERT_TRUE(reply.has_value());
    EXPECT_TRUE(ErrorOf(*reply).has_server_busy()) << reply->ShortDebugString();
  }
  // The target splits before any commit: its epoch passes the one the
  // prepare named, so the merge can never commit and is rolled back.
  ASSERT_FALSE(
      harness_->CallAdmin(SplitAt(1, KeyIn(1, 2, "m"), 7, 3))->has_error());
  auto serving = [&] {
    const Store* store = harness_->store(harness_->LeaderStore(2));
    return store != nullptr && store->GetPeerStatus(2).has_value() &&
           store->stats().peers.merges_rolled_back > 0;
  };
  ASSERT_TRUE(harness_->RunUntil(serving, 1000));
  MustPut(right, "after the rollback");
  EXPECT_EQ(MustGet(right), "after the rollback");
  EXPECT_EQ(harness_->store(1)->catalog().Get(2)->region.epoch().version(),
            source_version + 2);
  for (uint64_t s = 1; s <= 3; ++s) {
    EXPECT_EQ(harness_->store(s)->stats().peers.merges_committed, 0U);
    EXPECT_EQ(harness_->store(s)->catalog().Get(2)->state,
              meta::REGION_STATE_RUNNING);
  }
}

TEST_F(StoreTest, MergeRequestsAreCheckedBeforeProposing) {
  StartAll(3, 3, TestConfig());
  // Not adjacent.
  std::optional<AdminResponse> far = MergeInto(*harness_, 1, 3);
  ASSERT_TRUE(far.has_value());
  EXPECT_NE(far->error().message().find("not adjacent"), std::string::npos)
      << far->ShortDebugString();
  // A stale target epoch.
  ASSERT_FALSE(
      harness_->CallAdmin(SplitAt(2, KeyIn(2, 3, "m"), 9, 3))->has_error());
  AdminRequest request;
  request.set_region_id(1);
  meta::Region old_target = harness_->store(1)->catalog().Get(2)->region;
  old_target.mutable_epoch()->set_version(1);
  *request.mutable_merge()->mutable_target() = old_target;
  std::optional<AdminResponse> stale = harness_->CallAdmin(request);
  ASSERT_TRUE(stale.has_value());
  EXPECT_TRUE(stale->error().has_epoch_not_match())
      << stale->ShortDebugString();
}

TEST_F(StoreTest, ASplitRegionAStoreMissedElectsWithAnotherReplicaDown) {
  StartAll(3, 1, GcConfig());
  MustPut("q", "before the split");
  const uint64_t late = FollowerStore(1);
  harness_->Isolate(late, true);
  ASSERT_TRUE(harness_->WaitForLeaders());
  std::optional<AdminResponse> split =
      harness_->CallAdmin(SplitAt(1, "m", 2, 3));
  ASSERT_TRUE(split.has_value() && !split->has_error());
  // The parent's log is compacted past the split: the late store will be
  // caught up by a snapshot and never apply the split itself.
  for (int i = 0; i < 60; ++i) MustPut(absl::StrCat("a", i), "v");
  uint64_t other = 0;
  for (uint64_t s = 1; s <= 3; ++s) {
    if (s != late && harness_->LeaderStore(2) != s) other = s;
  }
  ASSERT_NE(other, 0U);
  harness_->Crash(other);  // down for good: region 2 keeps 1 of 3 replicas
  harness_->Isolate(late, false);
  // Region 2's candidate's vote requests create its peer on the late store;
  // without that vote it can never elect, and no leader could create it.
  ASSERT_TRUE(
      harness_->RunUntil([&] { return harness_->LeaderStore(2) != 0; }, 2000));
  EXPECT_EQ(MustGet("q"), "before the split");
  ASSERT_TRUE(
      harness_->RunUntil([&] { return CaughtUp(*harness_, late, 2); }, 500));
}

TEST_F(StoreTest, AStoreCutOffThroughASplitAndAMergeCatchesUpItsCatalog) {
  StartAll(3, 2, GcConfig());
  const uint64_t late = FollowerStore(1);
  harness_->Isolate(late, true);
  ASSERT_TRUE(harness_->WaitForLeaders());
  // While `late` is cut off: region 1 splits (region 3 takes its upper
  // half) and region 3 merges into region 2.
  const std::string split_key = KeyIn(1, 2, "m");
  ASSERT_FALSE(harness_->CallAdmin(SplitAt(1, split_key, 3, 3))->has_error());
  ASSERT_TRUE(harness_->WaitForLeaders());
  MustPut(KeyIn(1, 2, "z"), "in region 3");
  ASSERT_FALSE(MergeInto(*harness_, 3, 2)->has_error());
  // Region 1's log is compacted past the split: `late` catches it up by a
  // snapshot, after region 2 (a plain log) has taken in region 3's range,
  // which `late`'s region 1 still covers then.
  for (int i = 0; i < 60; ++i) MustPut(KeyIn(1, 2, absl::StrCat("a", i)), "v");
  ASSERT_TRUE(harness_->RunUntil(
      [&] {
        for (uint64_t s = 1; s <= 3; ++s) {
          if (s != late && harness_->store(s)->GetPeerStatus(3).has_value()) {
            return false;
          }
        }
        return true;
      },
      500));
  // Back: whichever of regions 1 and 2 catches up first, region 2's wider
  // range must reach `late`'s catalog in the end.
  harness_->Isolate(late, false);
  ASSERT_TRUE(harness_->RunUntil(
      [&] {
        absl::StatusOr<RegionRecord> two =
            harness_->store(late)->catalog().Get(2);
        return two.ok() && two->region.start_key() == split_key &&
               CaughtUp(*harness_, late, 1) && CaughtUp(*harness_, late, 2);
      },
      2000))
      << harness_->store(late)->catalog().Get(2)->region.ShortDebugString();
  EXPECT_EQ(harness_->store(late)->catalog().FindByKey(KeyIn(1, 2, "z"))->id(),
            2U);
}

TEST_F(StoreTest, LostAdminProposalIsAnswered) {
  StartAll(3, 1, TestConfig());
  const uint64_t old_leader = harness_->LeaderStore(1);
  harness_->Isolate(old_leader, true);
  AdminRequest split = SplitAt(1, "m", 2, 3);
  *split.mutable_region_epoch() =
      harness_->store(old_leader)->catalog().Get(1)->region.epoch();
  const uint64_t token = harness_->SubmitAdmin(old_leader, split);
  harness_->Pump();
  ASSERT_TRUE(harness_->RunUntil(
      [&] {
        const uint64_t l = harness_->LeaderStore(1);
        return l != 0 && l != old_leader;
      },
      500));
  for (int i = 0; i < 3; ++i) MustPut(absl::StrCat("k", i), "v");
  harness_->Isolate(old_leader, false);
  std::optional<AdminResponse> reply;
  ASSERT_TRUE(harness_->RunUntil(
      [&] {
        reply = harness_->TakeAdminReply(token);
        return reply.has_value();
      },
      300));
  EXPECT_TRUE(reply->error().has_not_leader()) << reply->ShortDebugString();
  EXPECT_EQ(harness_->store(1)->catalog().Get(1)->region.epoch().version(), 1U)
      << "the split never happened";
}

TEST_F(StoreTest, RegionsSplitAutomaticallyWhenTheyGrow) {
  StoreConfig config = TestConfig();
  config.region_split_bytes = 4000;
  config.split_check_ticks = 5;
  StartAll(3, 1, config);
  harness_->set_auto_split(true);
  const std::string value(200, 'v');
  for (int i = 0; i < 60; ++i) MustPut(absl::StrFormat("k%02d", i), value);
  harness_->RunUntil([&] { return harness_->RegionIds().size() >= 3; }, 300);
  EXPECT_GE(harness_->RegionIds().size(), 3U);
  ASSERT_TRUE(harness_->WaitForLeaders());
  for (int i = 0; i < 60; ++i) {
    EXPECT_EQ(MustGet(absl::StrFormat("k%02d", i)), value) << i;
  }
}

TEST_F(StoreTest, WaitAppliedAnswersOnceTheIndexIsApplied) {
  StoreConfig config = TestConfig();
  config.applied_waiters_max = 2;
  StartAll(3, 1, config);
  const uint64_t down = FollowerStore(1);
  harness_->Crash(down);
  for (int i = 0; i < 10; ++i) MustPut(KeyIn(1, 1, absl::StrCat(i)), "v");
  const uint64_t target = harness_->store(harness_->LeaderStore(1))
                              ->GetPeerStatus(1)
                              ->applied_index;
  ASSERT_TRUE(harness_->Start(down).ok());
  const uint64_t token = harness_->WaitApplied(down, 1, target);
  const uint64_t unknown = harness_->WaitApplied(down, 9, 1);
  const uint64_t over = harness_->WaitApplied(down, 1, target + 1000);
  const uint64_t refused = harness_->WaitApplied(down, 1, 1);
  harness_->Pump();
  EXPECT_EQ(harness_->TakeAppliedNotice(unknown)->status.code(),
            absl::StatusCode::kNotFound);
  std::optional<AppliedNotice> busy = harness_->TakeAppliedNotice(refused);
  ASSERT_TRUE(busy.has_value());
  EXPECT_EQ(busy->status.code(), absl::StatusCode::kResourceExhausted);
  std::optional<AppliedNotice> notice;
  ASSERT_TRUE(harness_->RunUntil(
      [&] {
        notice = harness_->TakeAppliedNotice(token);
        return notice.has_value();
      },
      300));
  EXPECT_TRUE(notice->status.ok());
  EXPECT_GE(notice->applied_index, target);
  EXPECT_GE(harness_->store(down)->GetPeerStatus(1)->applied_index, target);
  EXPECT_FALSE(harness_->TakeAppliedNotice(over).has_value())
      << "an index not applied yet is still waited for";
}

TEST(StoreBadInputTest, GarbageSnapshotMessageIsRefused) {
  StoreHarness harness(3, MakeRegions(1, 3), TestConfig(), 5);
  ASSERT_TRUE(harness.Start(1).ok());
  Store* store = harness.store(1);
  RaftMessageBatch batch;
  batch.set_cluster_id(testing::kClusterId);
  batch.set_to_store_id(1);
  RaftMessage* message = batch.add_messages();
  message->set_region_id(1);
  message->mutable_to_peer()->set_id(PeerIdOf(1, 1));
  message->mutable_to_peer()->set_store_id(1);
  message->mutable_from_peer()->set_id(PeerIdOf(1, 2));
  raft::Message* m = message->mutable_message();
  m->set_type(raft::MESSAGE_TYPE_SNAPSHOT);
  m->set_to(PeerIdOf(1, 1));
  m->set_from(PeerIdOf(1, 2));
  m->set_term(5);
  m->mutable_snapshot()->mutable_metadata()->set_index(10);
  m->mutable_snapshot()->mutable_metadata()->set_term(5);
  m->mutable_snapshot()->set_data("not a snapshot");
  EXPECT_TRUE(store->Receive(batch).ok());
  EXPECT_EQ(store->stats().snapshot_messages_refused, 1U);
  // A well-formed envelope whose KV image is damaged is refused too.
  m->mutable_snapshot()->set_data(
      EncodeSnapshotData(MakeRegions(1, 3)[0], {"garbage chunk"}));
  EXPECT_TRUE(store->Receive(batch).ok());
  EXPECT_EQ(store->stats().snapshot_messages_refused, 2U);
  EXPECT_EQ(store->GetPeerStatus(1)->term, kRaftInitLogTerm)
      << "raft never saw them";
}

TEST(StoreBadInputTest, ReceiveRefusesBatchesForAnotherClusterOrStore) {
  StoreHarness harness(3, MakeRegions(1, 3), TestConfig(), 3);
  ASSERT_TRUE(harness.Start(1).ok());
  Store* store = harness.store(1);
  RaftMessageBatch batch;
  batch.set_cluster_id(testing::kClusterId + 1);
  batch.set_to_store_id(1);
  EXPECT_EQ(store->Receive(batch).code(), absl::StatusCode::kInvalidArgument);
  batch.set_cluster_id(testing::kClusterId);
  batch.set_to_store_id(2);
  EXPECT_EQ(store->Receive(batch).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->stats().batches_refused, 2U);
  // A message for an unknown region, or with a forged envelope, is counted
  // and skipped.
  batch.set_to_store_id(1);
  RaftMessage* message = batch.add_messages();
  message->set_region_id(9);
  RaftMessage* forged = batch.add_messages();
  forged->set_region_id(1);
  forged->mutable_to_peer()->set_id(PeerIdOf(1, 1));
  forged->mutable_to_peer()->set_store_id(1);
  forged->mutable_message()->set_to(PeerIdOf(1, 1));
  forged->mutable_message()->set_from(PeerIdOf(1, 2));
  forged->mutable_from_peer()->set_id(PeerIdOf(1, 3));
  EXPECT_TRUE(store->Receive(batch).ok());
  EXPECT_EQ(store->stats().messages_refused, 2U);
}

TEST(StoreOpenTest, RefusesBadConfigAndInconsistentRecovery) {
  StoreConfig config = TestConfig();
  StoreRecovery recovery;
  EXPECT_EQ(Store::Open(config, recovery, Rng(1)).status().code(),
            absl::StatusCode::kInvalidArgument);  // no ids
  config.cluster_id = 1;
  config.store_id = 1;
  recovery.regions = BootstrapRecords(MakeRegions(2, 3));
  recovery.groups[7].hard_state.set_term(3);
  auto store = Store::Open(config, recovery, Rng(1));
  ASSERT_EQ(store.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(store.status().message().find("region 7"), std::string::npos);
  // Overlapping regions in the manifest.
  recovery.groups.clear();
  std::vector<meta::Region> regions = MakeRegions(2, 3);
  regions[1].set_start_key("k100");
  recovery.regions = BootstrapRecords(regions);
  EXPECT_EQ(Store::Open(config, recovery, Rng(1)).status().code(),
            absl::StatusCode::kDataLoss);
  // A region without a peer on this store.
  config.store_id = 4;
  recovery.regions = BootstrapRecords(MakeRegions(2, 3));
  EXPECT_EQ(Store::Open(config, recovery, Rng(1)).status().code(),
            absl::StatusCode::kDataLoss);
}

class RecordingHooks : public RegionHooks {
 public:
  void OnRegionUpdate(const meta::Region& region,
                      meta::RegionState state) override {
    updates.push_back(absl::StrCat(region.id(), ":", state));
  }
  void OnPeerStart(uint64_t region_id) override { starts.push_back(region_id); }
  std::vector<std::string> updates;
  std::vector<uint64_t> starts;
};

TEST(StoreOpenTest, HooksSeeEveryRegionAndPeerStart) {
  StoreConfig config = TestConfig();
  config.cluster_id = 1;
  config.store_id = 2;
  StoreRecovery recovery;
  recovery.regions = BootstrapRecords(MakeRegions(3, 3));
  RecordingHooks hooks;
  auto store = Store::Open(config, recovery, Rng(1), {&hooks});
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ(hooks.starts, (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_EQ(hooks.updates.size(), 6U);  // New then Running, per region
  EXPECT_EQ(hooks.updates[1], absl::StrCat(1, ":", meta::REGION_STATE_RUNNING));
  EXPECT_EQ((*store)->catalog().metrics().Snapshot().region_running, 3U);
  EXPECT_EQ((*store)->PeerStatuses().size(), 3U);
}

TEST(StoreRegistryTest, ListsLiveStoresById) {
  StoreConfig config = TestConfig();
  config.cluster_id = 1;
  StoreRegistry registry;
  std::vector<std::unique_ptr<Store>> stores;
  for (uint64_t id : {3, 1, 2}) {
    config.store_id = id;
    StoreRecovery recovery;
    recovery.regions = BootstrapRecords(MakeRegions(1, 3));
    auto store = Store::Open(config, recovery, Rng(id));
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE(registry.Register(store->get()).ok());
    stores.push_back(*std::move(store));
  }
  EXPECT_EQ(registry.Register(stores[0].get()).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(registry.Register(nullptr).code(),
            absl::StatusCode::kInvalidArgument);
  std::vector<Store*> listed = registry.List();
  ASSERT_EQ(listed.size(), 3U);
  EXPECT_EQ(listed[0]->store_id(), 1U);
  EXPECT_EQ(listed[2]->store_id(), 3U);
  EXPECT_EQ(registry.Find(2), stores[2].get());
  EXPECT_TRUE(registry.Unregister(2).ok());
  EXPECT_EQ(registry.Find(2), nullptr);
  EXPECT_EQ(registry.Unregister(2).code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace raftstore::store
