// The client library (core/client KvClient) against real stores on the
// multi-store harness: the contract the library was written to (routing by
// key with region id 0, NotLeader hints, EpochNotMatch after a split, the
// serving region's meta in every success, scans continued across regions)
// as the store actually implements it.
//
// Each region's state machine keeps its own session table and refuses to
// open a session for a command whose first_incomplete_sequence is above 1,
// so the client keeps one session per region (docs/client.md, "Sessions");
// OneClientWritesInEveryRegion checks a single client's writes to three
// regions all succeed.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "core/base/rng.h"
#include "core/client/kv_client.h"
#include "core/store/store.h"
#include "gtest/gtest.h"
#include "tests/store/store_harness.h"

namespace raftstore::store {
namespace {

using testing::MakeRegions;
using testing::PeerIdOf;
using testing::StoreHarness;

// One harness tick is this much client time.
constexpr uint64_t kTickUs = 10'000;

class ClientStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StoreConfig config;
    config.election_tick = 10;
    config.heartbeat_tick = 2;
    harness_ = std::make_unique<StoreHarness>(3, MakeRegions(2, 3), config, 7);
    for (uint64_t s = 1; s <= 3; ++s) ASSERT_TRUE(harness_->Start(s).ok());
    ASSERT_TRUE(harness_->WaitForLeaders());
    client::KvClientConfig cc;
    cc.store_ids = {1, 2, 3};
    cc.attempt_timeout_us = 20 * kTickUs;
    client_ = std::make_unique<client::KvClient>(
        cc, Rng(3), [n = uint64_t{0}]() mutable { return ++n; });
  }

  // Moves the client's requests to the stores and the answers back, ticking
  // the stores and the client's clock, until `op` completes.
  std::optional<client::Completion> Drive(uint64_t op, int ticks_max = 400) {
    std::map<uint64_t, std::pair<uint64_t, uint64_t>> sent;  // token -> store
    for (int tick = 0; tick < ticks_max; ++tick) {
      for (client::Outgoing& out : client_->TakeOutbox()) {
        if (harness_->store(out.store_id) == nullptr) continue;
        sent[harness_->Submit(out.store_id, out.request)] = {out.store_id, 0};
      }
      harness_->Pump();
      for (auto it = sent.begin(); it != sent.end();) {
        std::optional<kv::KvResponse> reply = harness_->TakeReply(it->first);
        if (!reply.has_value()) {
          ++it;
          continue;
        }
        client_->OnResponse(it->second.first, *reply, now_us_);
        it = sent.erase(it);
      }
      for (client::Completion& done : client_->TakeCompletions()) {
        completions_[done.op_id] = std::move(done);
      }
      if (auto it = completions_.find(op); it != completions_.end()) {
        client::Completion done = std::move(it->second);
        completions_.erase(it);
        return done;
      }
      harness_->Tick();
      now_us_ += kTickUs;
      client_->OnTimer(now_us_);
    }
    return std::nullopt;
  }

  client::Completion Run(const kv::KvRequest& request) {
    absl::StatusOr<uint64_t> op =
        client_->Submit(request, now_us_ + 300 * kTickUs, now_us_);
    EXPECT_TRUE(op.ok()) << op.status();
    std::optional<client::Completion> done = Drive(*op);
    EXPECT_TRUE(done.has_value());
    return done.value_or(client::Completion{});
  }

  kv::KvRequest Put(const std::string& key, const std::string& value) {
    kv::KvRequest request;
    request.mutable_put()->set_key(key);
    request.mutable_put()->set_value(value);
    return request;
  }
  kv::KvRequest Get(const std::string& key) {
    kv::KvRequest request;
    request.mutable_get()->set_key(key);
    return request;
  }

  std::unique_ptr<StoreHarness> harness_;
  std::unique_ptr<client::KvClient> client_;
  std::unique_ptr<client::KvClient> other_;
  std::map<uint64_t, client::Completion> completions_;
  uint64_t now_us_ = 1;
};

TEST_F(ClientStoreTest, WritesAndReadsAcrossRegionsSplitsAndLeaderChanges) {
  // Region 2 is [k500, +inf): the session starts there.
  for (int i = 10; i < 20; ++i) {
    const client::Completion put =
        Run(Put(absl::StrFormat("k%03d", i * 50), absl::StrFormat("v%d", i)));
    EXPECT_EQ(put.outcome, client::Outcome::kOk)
        << put.error.ShortDebugString();
  }
  // Region 1's keys come from another client (another session).
  {
    client::KvClientConfig cc;
    cc.store_ids = {1, 2, 3};
    cc.attempt_timeout_us = 20 * kTickUs;
    std::swap(client_, other_);
    client_ = std::make_unique<client::KvClient>(
        cc, Rng(4), [n = uint64_t{100}]() mutable { return ++n; });
    for (int i = 0; i < 10; ++i) {
      const client::Completion put =
          Run(Put(absl::StrFormat("k%03d", i * 50), absl::StrFormat("v%d", i)));
      EXPECT_EQ(put.outcome, client::Outcome::kOk)
          << put.error.ShortDebugString();
    }
    std::swap(client_, other_);
  }
  EXPECT_GE(client_->region_cache().size(), 1U);
  // Split region 2; the client's cached meta is now stale.
  AdminRequest split;
  split.set_region_id(2);
  split.mutable_split()->set_split_key("k700");
  split.mutable_split()->set_new_region_id(9);
  for (uint64_t s = 1; s <= 3; ++s) {
    split.mutable_split()->add_new_peer_ids(PeerIdOf(9, s));
  }
  std::optional<AdminResponse> done = harness_->CallAdmin(split);
  ASSERT_TRUE(done.has_value() && !done->has_error());
  // And move region 1's leadership elsewhere.
  const uint64_t leader = harness_->LeaderStore(1);
  AdminRequest transfer;
  transfer.set_region_id(1);
  transfer.mutable_transfer_leader()->mutable_peer()->set_id(
      PeerIdOf(1, leader % 3 + 1));
  harness_->CallAdmin(transfer);
  for (int i = 0; i < 20; ++i) {
    const client::Completion get = Run(Get(absl::StrFormat("k%03d", i * 50)));
    ASSERT_EQ(get.outcome, client::Outcome::kOk)
        << get.error.ShortDebugString();
    EXPECT_TRUE(get.response.get().found());
    EXPECT_EQ(get.response.get().value(), absl::StrFormat("v%d", i));
  }
  EXPECT_GE(client_->stats().epoch_not_match + client_->stats().not_leader +
                client_->stats().key_not_in_region,
            1U)
      << "the stale cache was corrected by the store's errors";
  EXPECT_GE(client_->region_cache().size(), 3U);
  // The session continues in both halves of the split region (the new
  // region copied the session table).
  for (const char* key : {"k651", "k751"}) {
    const client::Completion put = Run(Put(key, "after split"));
    EXPECT_EQ(put.outcome, client::Outcome::kOk)
        << put.error.ShortDebugString();
  }
  // A scan across all three regions, merged in order.
  kv::KvRequest scan;
  scan.mutable_scan()->set_start_key("k");
  scan.mutable_scan()->set_limit(100);
  const client::Completion scanned = Run(scan);
  ASSERT_EQ(scanned.outcome, client::Outcome::kOk);
  ASSERT_EQ(scanned.response.scan().pairs_size(), 22);
  EXPECT_EQ(scanned.response.scan().pairs(0).key(), "k000");
  for (int i = 1; i < 22; ++i) {
    EXPECT_LT(scanned.response.scan().pairs(i - 1).key(),
              scanned.response.scan().pairs(i).key());
  }
}

TEST_F(ClientStoreTest, OneClientWritesInEveryRegion) {
  // Split region 2 ([k500, +inf)) at k700 before anything is written, so no
  // region inherits another's sessions: regions 1, 2 and 9.
  AdminRequest split;
  split.set_region_id(2);
  split.mutable_split()->set_split_key("k700");
  split.mutable_split()->set_new_region_id(9);
  for (uint64_t s = 1; s <= 3; ++s) {
    split.mutable_split()->add_new_peer_ids(PeerIdOf(9, s));
  }
  std::optional<AdminResponse> done = harness_->CallAdmin(split);
  ASSERT_TRUE(done.has_value() && !done->has_error());
  ASSERT_TRUE(harness_->WaitForLeaders());
  // One at a time, alternating regions: with one session for the whole
  // client, the second region would answer SessionExpired.
  const std::vector<std::string> keys = {"k100", "k600", "k800",
                                         "k200", "k650", "k900"};
  for (const std::string& key : keys) {
    const client::Completion put = Run(Put(key, "one-" + key));
    EXPECT_EQ(put.outcome, client::Outcome::kOk)
        << key << ": " << put.error.ShortDebugString();
  }
  // Pipelined, several writes per region in flight at once.
  std::vector<uint64_t> ops;
  for (int i = 0; i < 9; ++i) {
    const std::string key = absl::StrFormat("k%03d", 25 + i * 100);
    absl::StatusOr<uint64_t> op = client_->Submit(
        Put(key, "two-" + key), now_us_ + 300 * kTickUs, now_us_);
    ASSERT_TRUE(op.ok()) << op.status();
    ops.push_back(*op);
  }
  for (uint64_t op : ops) {
    std::optional<client::Completion> put = Drive(op);
    ASSERT_TRUE(put.has_value());
    EXPECT_EQ(put->outcome, client::Outcome::kOk)
        << put->error.ShortDebugString();
  }
  for (const std::string& key : keys) {
    const client::Completion get = Run(Get(key));
    ASSERT_EQ(get.outcome, client::Outcome::kOk);
    EXPECT_EQ(get.response.get().value(), "one-" + key);
  }
  for (int i = 0; i < 9; ++i) {
    const std::string key = absl::StrFormat("k%03d", 25 + i * 100);
    const client::Completion get = Run(Get(key));
    ASSERT_EQ(get.outcome, client::Outcome::kOk);
    EXPECT_EQ(get.response.get().value(), "two-" + key);
  }
  EXPECT_EQ(client_->stats().session_expired, 0U);
  // One live session per region, each its own client id.
  for (uint64_t region : {1, 2, 9}) {
    EXPECT_TRUE(client_->RegionSession(region).has_value()) << region;
  }
  EXPECT_NE(client_->RegionSession(1), client_->RegionSession(2));
  EXPECT_NE(client_->RegionSession(2), client_->RegionSession(9));
  EXPECT_NE(client_->RegionSession(1), client_->RegionSession(9));
}

TEST_F(ClientStoreTest, AWriteWhoseLeaderCrashesIsRetriedAndAppliesOnce) {
  const client::Completion first = Run(Put("k100", "a"));  // region 1
  ASSERT_EQ(first.outcome, client::Outcome::kOk);
  kv::KvRequest cas;
  cas.mutable_compare_and_swap()->set_key("k100");
  cas.mutable_compare_and_swap()->set_expected_value("a");
  cas.mutable_compare_and_swap()->set_new_value("b");
  absl::StatusOr<uint64_t> op =
      client_->Submit(cas, now_us_ + 300 * kTickUs, now_us_);
  ASSERT_TRUE(op.ok());
  // Deliver the request, let it commit, then crash the leader before the
  // client hears back.
  const uint64_t leader = harness_->LeaderStore(1);
  for (client::Outgoing& out : client_->TakeOutbox()) {
    harness_->Submit(out.store_id, out.request);
  }
  harness_->Pump();
  harness_->Crash(leader);
  std::optional<client::Completion> done = Drive(*op);
  ASSERT_TRUE(done.has_value());
  EXPECT_EQ(done->outcome, client::Outcome::kOk);
  EXPECT_TRUE(done->response.compare_and_swap().succeeded())
      << "the retry returned the first result";
  ASSERT_TRUE(harness_->Start(leader).ok());
  const client::Completion get = Run(Get("k100"));
  EXPECT_EQ(get.response.get().value(), "b");
}

}  // namespace
}  // namespace raftstore::store
