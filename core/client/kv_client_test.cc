#include "core/client/kv_client.h"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/base/rng.h"
#include "core/client/fake_store.h"
#include "core/client/region_cache.h"
#include "gtest/gtest.h"
#include "proto/kvrpc.pb.h"
#include "proto/region.pb.h"

namespace raftstore::client {
namespace {

using testing::FakeCluster;
using testing::PeerId;

constexpr uint64_t kDeadlineUs = 2'000'000;

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

kv::KvRequest Scan(const std::string& start, const std::string& end,
                   uint32_t limit) {
  kv::KvRequest request;
  request.mutable_scan()->set_start_key(start);
  request.mutable_scan()->set_end_key(end);
  request.mutable_scan()->set_limit(limit);
  return request;
}

kv::KvRequest Cas(const std::string& key, const std::string& expected,
                  const std::string& value) {
  kv::KvRequest request;
  request.mutable_compare_and_swap()->set_key(key);
  request.mutable_compare_and_swap()->set_expected_value(expected);
  request.mutable_compare_and_swap()->set_new_value(value);
  return request;
}

const kv::RequestHeader& HeaderOf(const kv::KvRequest& request) {
  if (request.has_get()) return request.get().header();
  if (request.has_put()) return request.put().header();
  if (request.has_delete_()) return request.delete_().header();
  if (request.has_scan()) return request.scan().header();
  return request.compare_and_swap().header();
}

KvClientConfig TestConfig() {
  KvClientConfig config;
  config.store_ids = {1, 2, 3};
  config.attempt_timeout_us = 100'000;
  config.backoff_initial_us = 1'000;
  config.backoff_max_us = 16'000;
  config.writes_in_flight_max = 4;
  config.ops_in_flight_max = 8;
  return config;
}

// A client against a FakeCluster over an instant network. Tests step it by
// hand (Send/Deliver) or run it to completion.
class Harness {
 public:
  explicit Harness(KvClientConfig config = TestConfig(), uint64_t seed = 7)
      : cluster_({1, 2, 3}),
        client_(config, Rng(seed), [this] { return next_client_id_++; }) {}

  FakeCluster& cluster() { return cluster_; }
  KvClient& client() { return client_; }
  uint64_t now() const { return now_us_; }

  uint64_t Submit(const kv::KvRequest& op, uint64_t timeout_us = kDeadlineUs) {
    absl::StatusOr<uint64_t> id =
        client_.Submit(op, now_us_ + timeout_us, now_us_);
    EXPECT_TRUE(id.ok()) << id.status();
    return id.value_or(0);
  }

  // Takes the outbox without delivering it (the network lost it).
  std::vector<Outgoing> Take() {
    std::vector<Outgoing> out = client_.TakeOutbox();
    for (const Outgoing& o : out) sent_.push_back(o);
    return out;
  }

  // Delivers `out` to the cluster and its answer to the client.
  void Deliver(const Outgoing& out) {
    client_.OnResponse(out.store_id, cluster_.Handle(out.store_id, out.request),
                       now_us_);
  }

  // Moves time to the client's next wake-up and fires it.
  bool Wake() {
    std::optional<uint64_t> wake = client_.NextWakeUs();
    if (!wake.has_value()) return false;
    EXPECT_GE(*wake, now_us_);
    now_us_ = *wake;
    client_.OnTimer(now_us_);
    return true;
  }

  // Delivers everything until no operation is left, collecting completions.
  void Run() {
    for (int steps = 0; steps < 10'000; ++steps) {
      client_.CheckInvariants();
      Collect();
      std::vector<Outgoing> out = Take();
      if (!out.empty()) {
        for (const Outgoing& o : out) Deliver(o);
        continue;
      }
      if (!Wake()) break;
    }
    Collect();
    client_.CheckInvariants();
  }

  void Collect() {
    for (Completion& done : client_.TakeCompletions()) {
      completions_.push_back(std::move(done));
    }
  }

  const Completion& Done(uint64_t op_id) {
    Collect();
    for (const Completion& done : completions_) {
      if (done.op_id == op_id) return done;
    }
    ADD_FAILURE() << "op " << op_id << " did not complete";
    static const Completion kNone;
    return kNone;
  }
  bool IsDone(uint64_t op_id) {
    Collect();
    for (const Completion& done : completions_) {
      if (done.op_id == op_id) return true;
    }
    return false;
  }
  const std::vector<Outgoing>& sent() const { return sent_; }

 private:
  FakeCluster cluster_;
  uint64_t next_client_id_ = 1000;
  KvClient client_;
  uint64_t now_us_ = 0;
  std::vector<Completion> completions_;
  std::vector<Outgoing> sent_;
};

// Learns region 1 (its leader on store 1) so requests go to the leader.
void WarmCache(Harness& h) {
  h.Submit(Get("warm"));
  h.Run();
}

TEST(KvClientTest, PutThenGetFillsTheCacheFromTheResponse) {
  Harness h;
  const uint64_t put = h.Submit(Put("k", "v"));
  std::vector<Outgoing> first = h.Take();
  ASSERT_EQ(first.size(), 1U);
  // Nothing cached yet: the store routes by key.
  EXPECT_EQ(HeaderOf(first[0].request).region_id(), 0U);
  EXPECT_EQ(first[0].store_id, 1U);  // first of the store list
  h.Deliver(first[0]);
  EXPECT_EQ(h.Done(put).outcome, Outcome::kOk);
  ASSERT_TRUE(h.client().region_cache().Find(1).has_value());

  const uint64_t get = h.Submit(Get("k"));
  std::vector<Outgoing> second = h.Take();
  ASSERT_EQ(second.size(), 1U);
  const kv::RequestHeader& header = HeaderOf(second[0].request);
  EXPECT_EQ(header.region_id(), 1U);
  EXPECT_EQ(header.region_epoch().version(), 1U);
  EXPECT_EQ(header.peer_id(), PeerId(1, 1));
  EXPECT_EQ(header.client_id(), 0U) << "reads carry no session";
  h.Deliver(second[0]);
  const Completion& done = h.Done(get);
  EXPECT_EQ(done.outcome, Outcome::kOk);
  EXPECT_TRUE(done.response.get().found());
  EXPECT_EQ(done.response.get().value(), "v");
}

TEST(KvClientTest, NotLeaderWithHintRetriesAtOnceAtTheLeader) {
  Harness h;
  h.cluster().SetLeader(1, 3);
  const uint64_t put = h.Submit(Put("k", "v"));
  std::vector<Outgoing> first = h.Take();
  ASSERT_EQ(first.size(), 1U);
  EXPECT_EQ(first[0].store_id, 1U);
  h.Deliver(first[0]);
  std::vector<Outgoing> second = h.Take();
  ASSERT_EQ(second.size(), 1U) << "retried at once, no backoff";
  EXPECT_EQ(second[0].store_id, 3U);
  // Exactly-once: the retry is the same write of the same session.
  EXPECT_EQ(HeaderOf(second[0].request).client_id(),
            HeaderOf(first[0].request).client_id());
  EXPECT_EQ(HeaderOf(second[0].request).sequence(),
            HeaderOf(first[0].request).sequence());
  EXPECT_NE(second[0].request.request_id(), first[0].request.request_id());
  h.Deliver(second[0]);
  EXPECT_EQ(h.Done(put).outcome, Outcome::kOk);
  EXPECT_EQ(h.client().region_cache().Find(1)->leader.store_id(), 3U);
  EXPECT_EQ(h.client().stats().not_leader, 1U);
}

TEST(KvClientTest, NoLeaderBacksOffAndProbesThePeersInTurn) {
  Harness h;
  // Learn the region first.
  h.Submit(Get("a"));
  h.Run();
  h.cluster().SetLeader(1, 0);
  const uint64_t get = h.Submit(Get("k"));
  std::vector<uint64_t> stores;
  for (int i = 0; i < 5; ++i) {
    std::vector<Outgoing> out = h.Take();
    ASSERT_EQ(out.size(), 1U);
    stores.push_back(out[0].store_id);
    const uint64_t before = h.now();
    h.Deliver(out[0]);
    EXPECT_TRUE(h.Take().empty()) << "no leader known: back off first";
    ASSERT_TRUE(h.Wake());
    EXPECT_GT(h.now(), before);
  }
  // The leader (store 1) was believed first; after it refused, every store
  // is asked in turn.
  EXPECT_EQ(stores, (std::vector<uint64_t>{1, 2, 3, 1, 2}));
  h.cluster().SetLeader(1, 2);
  h.Run();
  EXPECT_EQ(h.Done(get).outcome, Outcome::kOk);
}

TEST(KvClientTest, EpochNotMatchAfterASplitRefreshesTheCache) {
  Harness h;
  h.Submit(Put("a", "1"));
  h.Run();
  h.cluster().Split(1, "m", 2);
  const uint64_t put = h.Submit(Put("x", "2"));
  std::vector<Outgoing> first = h.Take();
  ASSERT_EQ(first.size(), 1U);
  EXPECT_EQ(HeaderOf(first[0].request).region_id(), 1U);
  h.Deliver(first[0]);
  std::vector<Outgoing> second = h.Take();
  ASSERT_EQ(second.size(), 1U) << "new meta: retried at once";
  EXPECT_EQ(HeaderOf(second[0].request).region_id(), 2U);
  EXPECT_EQ(HeaderOf(second[0].request).region_epoch().version(), 2U);
  h.Deliver(second[0]);
  EXPECT_EQ(h.Done(put).outcome, Outcome::kOk);
  const std::vector<CachedRegion> cached = h.client().region_cache().Snapshot();
  ASSERT_EQ(cached.size(), 2U);
  EXPECT_EQ(cached[0].region.end_key(), "m");
  EXPECT_EQ(cached[1].region.start_key(), "m");
  EXPECT_EQ(h.client().stats().epoch_not_match, 1U);
}

TEST(KvClientTest, KeyNotInRegionInvalidatesAndRoutesByKey) {
  Harness h;
  // A cache entry with the right epoch but a wrong range (a bug elsewhere,
  // or a meta from a confused store).
  h.cluster().Split(1, "m", 2);
  meta::Region wrong = h.cluster().region(1);
  wrong.set_end_key("");  // believes region 1 still holds "x"
  h.client().region_cache().Update(wrong);
  const uint64_t put = h.Submit(Put("x", "v"));
  std::vector<Outgoing> first = h.Take();
  ASSERT_EQ(first.size(), 1U);
  EXPECT_EQ(HeaderOf(first[0].request).region_id(), 1U);
  h.Deliver(first[0]);
  std::vector<Outgoing> second = h.Take();
  ASSERT_EQ(second.size(), 1U);
  EXPECT_EQ(HeaderOf(second[0].request).region_id(), 0U) << "routed by key";
  EXPECT_FALSE(h.client().region_cache().Find(1).has_value());
  h.Deliver(second[0]);
  EXPECT_EQ(h.Done(put).outcome, Outcome::kOk);
  EXPECT_EQ(h.client().stats().key_not_in_region, 1U);
  EXPECT_TRUE(h.client().region_cache().Find(2).has_value());
}

TEST(KvClientTest, RegionNotFoundInvalidatesTheRegion) {
  Harness h;
  meta::Region ghost;
  ghost.set_id(9);
  ghost.mutable_epoch()->set_version(1);
  meta::Peer* peer = ghost.add_peers();
  peer->set_id(PeerId(9, 2));
  peer->set_store_id(2);
  h.client().region_cache().Update(ghost);
  const uint64_t get = h.Submit(Get("k"));
  std::vector<Outgoing> first = h.Take();
  ASSERT_EQ(first.size(), 1U);
  EXPECT_EQ(HeaderOf(first[0].request).region_id(), 9U);
  EXPECT_EQ(first[0].store_id, 2U);
  h.Deliver(first[0]);
  EXPECT_FALSE(h.client().region_cache().Find(9).has_value());
  h.Run();
  EXPECT_EQ(h.Done(get).outcome, Outcome::kOk);
  EXPECT_EQ(h.client().stats().region_not_found, 1U);
}

TEST(KvClientTest, ServerBusyBackoffMsIsAFloor) {
  Harness h;
  h.cluster().SetBusy(1, 50);
  const uint64_t put = h.Submit(Put("k", "v"));
  h.Deliver(h.Take()[0]);
  EXPECT_TRUE(h.Take().empty());
  ASSERT_TRUE(h.client().NextWakeUs().has_value());
  EXPECT_GE(*h.client().NextWakeUs(), h.now() + 50'000);
  h.cluster().SetBusy(1, std::nullopt);
  h.Run();
  EXPECT_EQ(h.Done(put).outcome, Outcome::kOk);
  EXPECT_EQ(h.client().stats().server_busy, 1U);
}

TEST(KvClientTest, LostRequestIsRetriedWithTheSameSequence) {
  Harness h;
  const uint64_t put = h.Submit(Put("k", "v"));
  std::vector<Outgoing> lost = h.Take();  // never delivered
  ASSERT_EQ(lost.size(), 1U);
  ASSERT_TRUE(h.Wake());  // attempt timeout
  EXPECT_EQ(h.now(), 100'000U);
  std::vector<Outgoing> retry = h.Take();
  ASSERT_EQ(retry.size(), 1U);
  EXPECT_EQ(HeaderOf(retry[0].request).sequence(),
            HeaderOf(lost[0].request).sequence());
  EXPECT_EQ(HeaderOf(retry[0].request).client_id(),
            HeaderOf(lost[0].request).client_id());
  h.Deliver(retry[0]);
  h.Run();
  EXPECT_EQ(h.Done(put).outcome, Outcome::kOk);
  EXPECT_EQ(h.client().stats().attempt_timeouts, 1U);
  EXPECT_EQ(h.cluster().applied().size(), 1U);
}

TEST(KvClientTest, LostAnswerRetryAppliesOnceAndGetsTheFirstResult) {
  Harness h;
  h.Submit(Put("k", "old"));
  h.Run();
  const uint64_t cas = h.Submit(Cas("k", "old", "new"));
  // The first attempt applies, but its answer is lost.
  std::vector<Outgoing> first = h.Take();
  ASSERT_EQ(first.size(), 1U);
  h.cluster().Handle(first[0].store_id, first[0].request);
  ASSERT_TRUE(h.Wake());
  h.Run();
  const Completion& done = h.Done(cas);
  EXPECT_EQ(done.outcome, Outcome::kOk);
  // A second apply would have found "new" and not swapped.
  EXPECT_TRUE(done.response.compare_and_swap().succeeded());
  EXPECT_EQ(h.cluster().applied().at({done.client_id, done.sequence}), 1);
  EXPECT_EQ(h.cluster().data().at("k"), "new");
}

TEST(KvClientTest, CasThatDoesNotSwapIsOk) {
  Harness h;
  h.Submit(Put("k", "a"));
  const uint64_t cas = h.Submit(Cas("k", "b", "c"));
  h.Run();
  const Completion& done = h.Done(cas);
  EXPECT_EQ(done.outcome, Outcome::kOk);
  EXPECT_FALSE(done.response.compare_and_swap().succeeded());
  EXPECT_EQ(done.response.compare_and_swap().previous_value(), "a");
}

TEST(KvClientTest, WriteWithoutAnswerIsUnknownAtItsDeadline) {
  Harness h;
  const uint64_t put = h.Submit(Put("k", "v"), 1'000'000);
  int attempts = 0;
  uint64_t first_session = 0;
  while (!h.IsDone(put)) {
    for (const Outgoing& out : h.Take()) {  // every request lost
      ++attempts;
      if (first_session == 0) first_session = HeaderOf(out.request).client_id();
      EXPECT_EQ(HeaderOf(out.request).client_id(), first_session);
      EXPECT_EQ(HeaderOf(out.request).sequence(), 1U);
    }
    ASSERT_TRUE(h.Wake());
  }
  const Completion& done = h.Done(put);
  EXPECT_EQ(done.outcome, Outcome::kUnknown);
  EXPECT_EQ(h.now(), 1'000'000U) << "unknown only at the deadline";
  EXPECT_EQ(attempts, 10);
  EXPECT_EQ(done.attempts, 10U);
  EXPECT_TRUE(done.error.has_timeout());
  EXPECT_EQ(h.client().stats().sessions_retired, 1U);
  EXPECT_TRUE(h.client().Sessions().empty());
  // The session is retired: later writes use a fresh client id.
  const uint64_t next = h.Submit(Put("k", "w"));
  const std::vector<Outgoing> out = h.Take();
  ASSERT_EQ(out.size(), 1U);
  EXPECT_NE(HeaderOf(out[0].request).client_id(), first_session);
  EXPECT_EQ(HeaderOf(out[0].request).sequence(), 1U);
  h.Deliver(out[0]);
  h.Run();
  EXPECT_EQ(h.Done(next).outcome, Outcome::kOk);
}

TEST(KvClientTest, WriteRefusedUntilItsDeadlineFailsAndKeepsItsSession) {
  Harness h;
  WarmCache(h);
  h.cluster().SetBusy(1, 0);
  const uint64_t put = h.Submit(Put("k", "v"), 100'000);
  const std::optional<uint64_t> session = h.client().RegionSession(1);
  ASSERT_TRUE(session.has_value());
  h.Run();
  const Completion& done = h.Done(put);
  EXPECT_EQ(done.outcome, Outcome::kFail);
  EXPECT_TRUE(done.error.has_server_busy());
  EXPECT_GT(done.attempts, 3U);
  EXPECT_LT(h.now(), 100'000U) << "gave up when no retry fits";
  EXPECT_TRUE(h.cluster().applied().empty());
  // Failed means certainly never applied: the session goes on, past it.
  EXPECT_EQ(h.client().RegionSession(1), session);
  EXPECT_EQ(h.client().stats().sessions_retired, 0U);
  h.cluster().SetBusy(1, std::nullopt);
  const uint64_t next = h.Submit(Put("k", "w"));
  const std::vector<Outgoing> out = h.Take();
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(HeaderOf(out[0].request).client_id(), *session);
  EXPECT_EQ(HeaderOf(out[0].request).sequence(), 2U);
  EXPECT_EQ(HeaderOf(out[0].request).first_incomplete_sequence(), 1U)
      << "no answer yet: the write must be able to open the session";
  h.Deliver(out[0]);
  EXPECT_EQ(h.Done(next).outcome, Outcome::kOk);
}

TEST(KvClientTest, ReadWithoutAnswerFailsAtItsDeadline) {
  Harness h;
  const uint64_t get = h.Submit(Get("k"), 300'000);
  while (!h.IsDone(get)) {
    h.Take();
    ASSERT_TRUE(h.Wake());
  }
  EXPECT_EQ(h.Done(get).outcome, Outcome::kFail);
  EXPECT_EQ(h.now(), 300'000U);
}

TEST(KvClientTest, StoreTimeoutMakesAWriteUnknownIfNeverAnswered) {
  Harness h;
  const uint64_t put = h.Submit(Put("k", "v"), 50'000);
  std::vector<Outgoing> out = h.Take();
  kv::KvResponse timeout;
  timeout.set_request_id(out[0].request.request_id());
  timeout.mutable_put()->mutable_header()->mutable_error()->mutable_timeout();
  h.client().OnResponse(out[0].store_id, timeout, h.now());
  h.cluster().SetBusy(1, 0);
  h.Run();
  EXPECT_EQ(h.Done(put).outcome, Outcome::kUnknown);
  EXPECT_EQ(h.client().stats().store_timeouts, 1U);
}

TEST(KvClientTest, SessionExpiredIsUnknownAndRetiresTheSession) {
  Harness h;
  // One write answered, so the next one's first_incomplete_sequence is 2:
  // a store that lost the session cannot reopen it.
  h.Submit(Put("a", "1"));
  h.Run();
  // The write routed by key had a single-use session; served ok, it became
  // region 1's.
  const std::optional<uint64_t> session = h.client().RegionSession(1);
  ASSERT_TRUE(session.has_value());
  EXPECT_EQ(h.client().stats().sessions_adopted, 1U);
  h.cluster().ExpireSession(*session);
  const uint64_t put = h.Submit(Put("b", "2"));
  std::vector<Outgoing> first = h.Take();
  ASSERT_EQ(first.size(), 1U);
  EXPECT_EQ(HeaderOf(first[0].request).client_id(), *session);
  EXPECT_EQ(HeaderOf(first[0].request).sequence(), 2U);
  EXPECT_EQ(HeaderOf(first[0].request).first_incomplete_sequence(), 2U);
  // Make the write in doubt first (a lost attempt), then hit the expiry.
  ASSERT_TRUE(h.Wake());
  h.Run();
  const Completion& done = h.Done(put);
  EXPECT_EQ(done.outcome, Outcome::kUnknown);
  EXPECT_TRUE(done.error.has_session_expired());
  EXPECT_EQ(done.client_id, *session) << "in doubt: never moved";
  EXPECT_EQ(done.sequence, 2U);
  EXPECT_FALSE(h.client().RegionSession(1).has_value());
  EXPECT_EQ(h.client().stats().session_expired, 1U);
  EXPECT_EQ(h.client().stats().sessions_retired, 1U);
}

TEST(KvClientTest, SessionExpiredWithoutDoubtMovesToAFreshSession) {
  Harness h;
  h.Submit(Put("a", "1"));
  h.Run();
  const uint64_t old_session = h.client().RegionSession(1).value_or(0);
  h.cluster().ExpireSession(old_session);
  const uint64_t put = h.Submit(Put("b", "2"));
  h.Run();  // the first attempt reaches the leader and is refused
  const Completion& done = h.Done(put);
  // Refused for certain, so it cannot have applied under the old session:
  // it is retried as sequence 1 of a fresh one.
  EXPECT_EQ(done.outcome, Outcome::kOk) << done.error.ShortDebugString();
  EXPECT_EQ(done.attempts, 2U);
  EXPECT_NE(done.client_id, old_session);
  EXPECT_EQ(done.sequence, 1U);
  EXPECT_EQ(h.client().RegionSession(1), done.client_id);
  EXPECT_FALSE(h.cluster().applied().contains({old_session, 2}));
  EXPECT_EQ(h.cluster().applied().at({done.client_id, 1}), 1);
  EXPECT_EQ(h.client().stats().session_expired, 1U);
  EXPECT_EQ(h.client().stats().writes_rebound, 1U);
}

TEST(KvClientTest, WritesOfARetiredSessionFinishOnIt) {
  Harness h;
  WarmCache(h);
  const uint64_t doomed = h.Submit(Put("a", "1"), 150'000);
  const uint64_t survivor = h.Submit(Put("b", "2"));
  std::vector<Outgoing> lost = h.Take();  // both first attempts lost
  ASSERT_EQ(lost.size(), 2U);
  const uint64_t old_session = HeaderOf(lost[0].request).client_id();
  EXPECT_EQ(HeaderOf(lost[1].request).client_id(), old_session);
  EXPECT_EQ(h.client().RegionSession(1), old_session);
  ASSERT_TRUE(h.Wake());  // both time out at 100 ms and are retried
  std::vector<Outgoing> retries = h.Take();
  ASSERT_EQ(retries.size(), 2U);
  ASSERT_TRUE(h.Wake());  // 150 ms: the first write's deadline
  EXPECT_EQ(h.Done(doomed).outcome, Outcome::kUnknown);
  EXPECT_FALSE(h.client().RegionSession(1).has_value());
  // A new write opens the new session at sequence 1...
  const uint64_t fresh = h.Submit(Put("c", "3"));
  std::vector<Outgoing> out = h.Take();
  ASSERT_EQ(out.size(), 1U);
  EXPECT_NE(HeaderOf(out[0].request).client_id(), old_session);
  EXPECT_EQ(h.client().RegionSession(1), HeaderOf(out[0].request).client_id());
  EXPECT_EQ(HeaderOf(out[0].request).sequence(), 1U);
  EXPECT_EQ(HeaderOf(out[0].request).first_incomplete_sequence(), 1U);
  h.Deliver(out[0]);
  // ...while the surviving write keeps its own session, sequence, and the
  // old session's first incomplete sequence (the doomed write's 1).
  ASSERT_TRUE(h.Wake());
  std::vector<Outgoing> again = h.Take();
  ASSERT_EQ(again.size(), 1U);
  EXPECT_EQ(HeaderOf(again[0].request).client_id(), old_session);
  EXPECT_EQ(HeaderOf(again[0].request).sequence(), 2U);
  EXPECT_EQ(HeaderOf(again[0].request).first_incomplete_sequence(), 1U);
  h.Deliver(again[0]);
  h.Run();
  EXPECT_EQ(h.Done(survivor).outcome, Outcome::kOk);
  EXPECT_EQ(h.Done(fresh).outcome, Outcome::kOk);
}

TEST(KvClientTest, WritesToTwoRegionsAreBothOk) {
  Harness h;
  // Two regions before the client writes anything: neither has a copy of
  // the other's sessions.
  h.cluster().Split(1, "m", 2);
  const uint64_t left = h.Submit(Put("a", "1"));
  h.Run();
  ASSERT_EQ(h.Done(left).outcome, Outcome::kOk);
  const uint64_t right = h.Submit(Put("x", "2"));
  h.Run();
  const Completion& done = h.Done(right);
  EXPECT_EQ(done.outcome, Outcome::kOk) << done.error.ShortDebugString();
  EXPECT_EQ(h.cluster().data().at("x"), "2");
  EXPECT_EQ(h.client().stats().session_expired, 0U);
}

TEST(KvClientTest, EachRegionHasItsOwnSession) {
  Harness h;
  h.cluster().Split(1, "m", 2);
  h.Submit(Get("a"));  // learns region 1 only
  h.Run();
  h.Submit(Put("x", "1"));  // routed by key: a single-use session
  h.Run();
  h.Submit(Put("a", "2"));
  h.Submit(Put("b", "3"));
  h.Submit(Put("y", "4"));
  h.Run();
  const std::optional<uint64_t> left = h.client().RegionSession(1);
  const std::optional<uint64_t> right = h.client().RegionSession(2);
  ASSERT_TRUE(left.has_value() && right.has_value());
  EXPECT_NE(*left, *right);
  for (const auto& [store, request] : h.cluster().received()) {
    const kv::RequestHeader& header = HeaderOf(request);
    if (header.client_id() == 0) continue;
    const std::string key = request.put().key();
    EXPECT_EQ(header.client_id(), key < "m" ? *left : *right) << key;
  }
  // Region 2's session was the single-use one, adopted after it served x.
  EXPECT_EQ(h.client().stats().sessions_adopted, 1U);
  EXPECT_EQ(h.client().stats().sessions_opened, 2U);
  const std::vector<SessionInfo> sessions = h.client().Sessions();
  ASSERT_EQ(sessions.size(), 2U);
  for (const SessionInfo& session : sessions) {
    EXPECT_EQ(session.writes_in_flight, 0U);
    EXPECT_EQ(session.next_sequence, 3U);
    EXPECT_EQ(session.first_incomplete_sequence, 3U);
  }
}

// Two writes of region 1's session; region 1 split before the session
// opened there, so only region 1 (not the new region 2) has it.
struct StaleSplit {
  uint64_t left_op = 0;
  uint64_t right_op = 0;
  Outgoing right_first;  // the right-hand write's first attempt
  uint64_t session = 0;
};

StaleSplit SplitUnderAStaleCache(Harness& h) {
  StaleSplit out;
  WarmCache(h);  // region 1 = everything, version 1
  h.cluster().Split(1, "m", 2);
  out.left_op = h.Submit(Put("a", "1"));
  out.right_op = h.Submit(Put("x", "2"));
  std::vector<Outgoing> first = h.Take();
  EXPECT_EQ(first.size(), 2U);
  if (first.size() != 2) return out;
  out.session = HeaderOf(first[0].request).client_id();
  EXPECT_EQ(HeaderOf(first[1].request).client_id(), out.session);
  EXPECT_EQ(HeaderOf(first[1].request).sequence(), 2U);
  h.Deliver(first[0]);  // EpochNotMatch: the cache learns both halves
  std::vector<Outgoing> retry = h.Take();
  EXPECT_EQ(retry.size(), 1U);
  if (retry.size() != 1) return out;
  h.Deliver(retry[0]);  // applied in region 1: the session opens there
  EXPECT_EQ(h.Done(out.left_op).outcome, Outcome::kOk);
  out.right_first = first[1];
  return out;
}

TEST(KvClientTest, WriteReroutedBeforeAnyDoubtMovesToTheNewRegionsSession) {
  Harness h;
  const StaleSplit split = SplitUnderAStaleCache(h);
  h.Deliver(split.right_first);  // EpochNotMatch: refused for certain
  std::vector<Outgoing> retry = h.Take();
  ASSERT_EQ(retry.size(), 1U);
  const kv::RequestHeader& header = HeaderOf(retry[0].request);
  EXPECT_EQ(header.region_id(), 2U);
  // Sequence 2 of the old session would be refused (region 2 never had that
  // session and first_incomplete_sequence is 2 now): a new session's 1.
  EXPECT_NE(header.client_id(), split.session);
  EXPECT_EQ(header.sequence(), 1U);
  EXPECT_EQ(header.first_incomplete_sequence(), 1U);
  h.Deliver(retry[0]);
  const Completion& done = h.Done(split.right_op);
  EXPECT_EQ(done.outcome, Outcome::kOk) << done.error.ShortDebugString();
  EXPECT_EQ(done.client_id, header.client_id());
  EXPECT_EQ(h.client().stats().writes_rebound, 1U);
  EXPECT_EQ(h.client().stats().session_expired, 0U);
  EXPECT_FALSE(h.cluster().applied().contains({split.session, 2}));
  // The old session goes on in region 1 past the dropped sequence 2.
  h.Submit(Put("b", "3"));
  std::vector<Outgoing> next = h.Take();
  ASSERT_EQ(next.size(), 1U);
  EXPECT_EQ(HeaderOf(next[0].request).client_id(), split.session);
  EXPECT_EQ(HeaderOf(next[0].request).sequence(), 3U);
  EXPECT_EQ(HeaderOf(next[0].request).first_incomplete_sequence(), 3U);
  h.Deliver(next[0]);
  h.Run();
  EXPECT_EQ(h.cluster().data().at("b"), "3");
}

TEST(KvClientTest, WriteInDoubtKeepsItsSequenceAcrossASplit) {
  Harness h;
  WarmCache(h);
  h.Submit(Put("a", "1"));
  h.Run();
  const uint64_t session = h.client().RegionSession(1).value_or(0);
  const uint64_t cas = h.Submit(Cas("x", "", "new"));
  // Applied in region 1, but the answer is lost: in doubt.
  std::vector<Outgoing> first = h.Take();
  ASSERT_EQ(first.size(), 1U);
  EXPECT_EQ(HeaderOf(first[0].request).sequence(), 2U);
  h.cluster().Handle(first[0].store_id, first[0].request);
  // The split moves "x" to region 2, which copies region 1's sessions.
  h.cluster().Split(1, "m", 2);
  ASSERT_TRUE(h.Wake());  // attempt timeout
  h.Run();
  const Completion& done = h.Done(cas);
  EXPECT_EQ(done.outcome, Outcome::kOk) << done.error.ShortDebugString();
  EXPECT_FALSE(done.response.compare_and_swap().succeeded() &&
               done.response.compare_and_swap().previous_found())
      << "the first result, not a second apply";
  EXPECT_FALSE(done.response.compare_and_swap().previous_found());
  EXPECT_EQ(done.client_id, session);
  EXPECT_EQ(done.sequence, 2U);
  EXPECT_EQ(h.cluster().applied().at({session, 2}), 1);
  EXPECT_EQ(h.cluster().applied().size(), 2U);
  EXPECT_EQ(h.client().stats().writes_rebound, 0U);
  // Every attempt carried the same pair, the later ones to region 2.
  bool reached_region_2 = false;
  for (const Outgoing& out : h.sent()) {
    const kv::RequestHeader& header = HeaderOf(out.request);
    if (!out.request.has_compare_and_swap()) continue;
    EXPECT_EQ(header.client_id(), session);
    EXPECT_EQ(header.sequence(), 2U);
    reached_region_2 |= header.region_id() == 2;
  }
  EXPECT_TRUE(reached_region_2);
}

TEST(KvClientTest, WriteInDoubtWhoseSessionTheNewRegionLacksIsUnknown) {
  Harness h;
  const StaleSplit split = SplitUnderAStaleCache(h);
  // The right-hand write's first attempt is lost (never delivered): in
  // doubt, so it keeps (session, 2) even though region 2 lacks the session.
  ASSERT_TRUE(h.Wake());
  h.Run();
  const Completion& done = h.Done(split.right_op);
  EXPECT_EQ(done.outcome, Outcome::kUnknown);
  EXPECT_TRUE(done.error.has_session_expired());
  EXPECT_EQ(done.client_id, split.session);
  EXPECT_EQ(done.sequence, 2U);
  EXPECT_EQ(h.client().stats().writes_rebound, 0U);
  EXPECT_FALSE(h.cluster().data().contains("x"));
}

TEST(KvClientTest, IdleSessionsAreDroppedLeastRecentlyUsedFirst) {
  KvClientConfig config = TestConfig();
  config.sessions_max = config.writes_in_flight_max;  // 4
  Harness h(config);
  const std::vector<std::string> keys = {"a", "c", "e", "g", "i", "k"};
  for (uint64_t i = 1; i < keys.size(); ++i) {
    h.cluster().Split(i, keys[i], i + 1);
  }
  h.Submit(Scan("a", "", 8));  // learn every region
  h.Run();
  ASSERT_EQ(h.client().region_cache().size(), 6U);
  for (const std::string& key : keys) {
    const uint64_t put = h.Submit(Put(key, "v"));
    h.Run();
    EXPECT_EQ(h.Done(put).outcome, Outcome::kOk);
    EXPECT_LE(h.client().Sessions().size(), 4U);
  }
  EXPECT_EQ(h.client().stats().sessions_opened, 6U);
  EXPECT_EQ(h.client().stats().sessions_evicted, 2U);
  EXPECT_FALSE(h.client().RegionSession(1).has_value());
  EXPECT_FALSE(h.client().RegionSession(2).has_value());
  EXPECT_TRUE(h.client().RegionSession(6).has_value());
  // Region 1 again: a fresh session (the store keeps the old one until it
  // idles out; sequence 1 opens the new one).
  h.Submit(Put("a", "w"));
  std::vector<Outgoing> out = h.Take();
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(HeaderOf(out[0].request).sequence(), 1U);
  h.Deliver(out[0]);
  h.Run();
  EXPECT_EQ(h.cluster().data().at("a"), "w");
  EXPECT_EQ(h.client().stats().sessions_evicted, 3U);
}

TEST(KvClientTest, SessionsMaxBelowWritesInFlightIsInvalid) {
  KvClientConfig config = TestConfig();
  config.sessions_max = config.writes_in_flight_max - 1;
  EXPECT_EQ(config.Validate().code(), absl::StatusCode::kInvalidArgument);
}

TEST(KvClientTest, RegionZeroNotFoundBacksOffAndAsksTheNextStore) {
  Harness h;
  const uint64_t get = h.Submit(Get("k"));
  std::vector<Outgoing> first = h.Take();
  ASSERT_EQ(first.size(), 1U);
  EXPECT_EQ(first[0].store_id, 1U);
  kv::KvResponse response;
  response.set_request_id(first[0].request.request_id());
  response.mutable_get()
      ->mutable_header()
      ->mutable_error()
      ->mutable_region_not_found()
      ->set_region_id(0);
  h.client().OnResponse(1, response, h.now());
  EXPECT_TRUE(h.Take().empty()) << "this store has nothing: pause first";
  ASSERT_TRUE(h.Wake());
  std::vector<Outgoing> second = h.Take();
  ASSERT_EQ(second.size(), 1U);
  EXPECT_EQ(second[0].store_id, 2U);
  EXPECT_EQ(HeaderOf(second[0].request).region_id(), 0U);
  h.Deliver(second[0]);
  h.Run();
  EXPECT_EQ(h.Done(get).outcome, Outcome::kOk);
}

TEST(KvClientTest, FirstIncompleteSequenceIsTheLowestUnanswered) {
  Harness h;
  WarmCache(h);
  h.Submit(Put("a", "1"));
  h.Submit(Put("b", "2"));
  h.Submit(Put("c", "3"));
  std::vector<Outgoing> out = h.Take();
  ASSERT_EQ(out.size(), 3U);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(HeaderOf(out[i].request).sequence(),
              static_cast<uint64_t>(i + 1));
    EXPECT_EQ(HeaderOf(out[i].request).first_incomplete_sequence(), 1U);
  }
  h.Deliver(out[1]);  // sequence 2 answered; 1 still open
  h.Submit(Put("d", "4"));
  std::vector<Outgoing> fourth = h.Take();
  EXPECT_EQ(HeaderOf(fourth[0].request).first_incomplete_sequence(), 1U);
  h.Deliver(out[0]);  // 1 answered: 3 is now the lowest open
  h.Submit(Put("e", "5"));
  std::vector<Outgoing> fifth = h.Take();
  EXPECT_EQ(HeaderOf(fifth[0].request).sequence(), 5U);
  EXPECT_EQ(HeaderOf(fifth[0].request).first_incomplete_sequence(), 3U);
}

TEST(KvClientTest, BoundsRefuseSubmitsBeyondThem) {
  Harness h;  // writes_in_flight_max 4, ops_in_flight_max 8
  WarmCache(h);
  for (int i = 0; i < 4; ++i) h.Submit(Put("k", "v"));
  absl::StatusOr<uint64_t> fifth =
      h.client().Submit(Put("k", "v"), kDeadlineUs, 0);
  EXPECT_EQ(fifth.status().code(), absl::StatusCode::kResourceExhausted);
  for (int i = 0; i < 4; ++i) h.Submit(Get("k"));
  absl::StatusOr<uint64_t> ninth = h.client().Submit(Get("k"), kDeadlineUs, 0);
  EXPECT_EQ(ninth.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(h.client().ops_in_flight(), 8U);
  EXPECT_EQ(h.client().writes_in_flight(), 4U);
  // Untaken completions still count against ops_in_flight_max.
  for (const Outgoing& out : h.Take()) h.Deliver(out);
  EXPECT_EQ(h.client().ops_in_flight(), 8U);
  EXPECT_EQ(h.client().writes_in_flight(), 0U);
  EXPECT_EQ(h.client().TakeCompletions().size(), 8U);
  EXPECT_EQ(h.client().ops_in_flight(), 0U);
}

TEST(KvClientTest, InvalidOperationsAreRefused) {
  Harness h;
  auto code = [&h](const kv::KvRequest& op, uint64_t deadline_us) {
    return h.client().Submit(op, deadline_us, 0).status().code();
  };
  const auto kInvalid = absl::StatusCode::kInvalidArgument;
  EXPECT_EQ(code(kv::KvRequest(), kDeadlineUs), kInvalid);
  EXPECT_EQ(code(Put("", "v"), kDeadlineUs), kInvalid);
  EXPECT_EQ(code(Get("k"), 0), kInvalid);
  EXPECT_EQ(code(Scan("b", "a", 1), kDeadlineUs), kInvalid);
  EXPECT_EQ(code(Scan("a", "", 1025), kDeadlineUs), kInvalid);
  kv::KvRequest cas = Cas("k", "x", "y");
  cas.mutable_compare_and_swap()->set_expect_absent(true);
  EXPECT_EQ(code(cas, kDeadlineUs), kInvalid);
  EXPECT_EQ(code(Scan("", "", 0), kDeadlineUs), absl::StatusCode::kOk);
  EXPECT_EQ(h.client().stats().submitted, 1U);
}

TEST(KvClientTest, ScanCrossesRegionsAndMergesInOrder) {
  Harness h;
  for (char c = 'a'; c <= 'z'; ++c) {
    h.Submit(Put(std::string(1, c), "v"));
    h.Run();
  }
  h.cluster().Split(1, "h", 2);
  h.cluster().Split(2, "q", 3);
  h.cluster().SetLeader(3, 2);
  const uint64_t all = h.Submit(Scan("", "", 0));
  const uint64_t middle = h.Submit(Scan("c", "s", 100));
  const uint64_t limited = h.Submit(Scan("f", "", 6));
  h.Run();
  auto keys = [](const Completion& done) {
    std::string out;
    for (const kv::KvPair& pair : done.response.scan().pairs()) {
      out += pair.key();
    }
    return out;
  };
  EXPECT_EQ(h.Done(all).outcome, Outcome::kOk);
  EXPECT_EQ(keys(h.Done(all)), "abcdefghijklmnopqrstuvwxyz");
  EXPECT_FALSE(h.Done(all).response.scan().more());
  EXPECT_EQ(keys(h.Done(middle)), "cdefghijklmnopqr");
  EXPECT_FALSE(h.Done(middle).response.scan().more());
  EXPECT_EQ(keys(h.Done(limited)), "fghijk");
  EXPECT_TRUE(h.Done(limited).response.scan().more());
  EXPECT_EQ(h.client().region_cache().size(), 3U);
}

TEST(KvClientTest, ScanContinuesWhereTheStoreCutItShort) {
  Harness h;
  for (char c = 'a'; c <= 'j'; ++c) {
    h.Submit(Put(std::string(1, c), "v"));
    h.Run();
  }
  h.cluster().set_scan_limit_max(3);  // the store's own bound
  const uint64_t scan = h.Submit(Scan("b", "i", 50));
  h.Run();
  const Completion& done = h.Done(scan);
  ASSERT_EQ(done.outcome, Outcome::kOk);
  ASSERT_EQ(done.response.scan().pairs_size(), 7);
  EXPECT_EQ(done.response.scan().pairs(0).key(), "b");
  EXPECT_EQ(done.response.scan().pairs(6).key(), "h");
  EXPECT_FALSE(done.response.scan().more());
}

TEST(KvClientTest, BackoffGrowsAndStaysBounded) {
  KvClientConfig config = TestConfig();
  Harness h(config);
  WarmCache(h);
  h.cluster().SetBusy(1, 0);
  h.Submit(Put("k", "v"));
  std::vector<uint64_t> delays;
  while (delays.size() < 10) {
    std::vector<Outgoing> out = h.Take();
    ASSERT_EQ(out.size(), 1U);
    h.Deliver(out[0]);
    const uint64_t before = h.now();
    ASSERT_TRUE(h.Wake());
    delays.push_back(h.now() - before);
  }
  for (size_t n = 0; n < delays.size(); ++n) {
    const uint64_t step = std::min<uint64_t>(config.backoff_max_us,
                                             config.backoff_initial_us << n);
    EXPECT_GE(delays[n], step / 2) << "retry " << n;
    EXPECT_LE(delays[n], step) << "retry " << n;
  }
  EXPECT_LE(delays.back(), config.backoff_max_us);
  EXPECT_GE(delays.back(), config.backoff_max_us / 2);
}

TEST(KvClientTest, LeadersNamingEachOtherDoNotSpin) {
  Harness h;
  const uint64_t get = h.Submit(Get("k"));
  // Store 1 names 2, store 2 names 1: a stale ping-pong.
  int immediate = 0;
  for (int i = 0; i < 6; ++i) {
    std::vector<Outgoing> out = h.Take();
    if (out.empty()) break;
    ++immediate;
    kv::KvResponse response;
    response.set_request_id(out[0].request.request_id());
    kv::NotLeader* not_leader = response.mutable_get()
                                    ->mutable_header()
                                    ->mutable_error()
                                    ->mutable_not_leader();
    not_leader->set_region_id(1);
    const uint64_t other = out[0].store_id == 1 ? 2 : 1;
    not_leader->mutable_leader()->set_id(PeerId(1, other));
    not_leader->mutable_leader()->set_store_id(other);
    h.client().OnResponse(out[0].store_id, response, h.now());
  }
  // The first attempt plus immediate_retries_max at once, then a backoff.
  EXPECT_EQ(immediate, 4);
  EXPECT_GT(*h.client().NextWakeUs(), h.now());
  EXPECT_FALSE(h.IsDone(get));
}

TEST(KvClientTest, LateAndForeignResponsesAreIgnored) {
  Harness h;
  const uint64_t put = h.Submit(Put("k", "v"));
  std::vector<Outgoing> first = h.Take();
  ASSERT_TRUE(h.Wake());  // first attempt times out
  std::vector<Outgoing> second = h.Take();
  ASSERT_EQ(second.size(), 1U);
  // The first attempt's answer arrives late: ignored.
  h.Deliver(first[0]);
  EXPECT_EQ(h.client().stats().responses_ignored, 1U);
  EXPECT_FALSE(h.IsDone(put));
  // The right request id from the wrong store: ignored.
  h.client().OnResponse(
      second[0].store_id + 1,
      h.cluster().Handle(second[0].store_id, second[0].request), h.now());
  EXPECT_EQ(h.client().stats().responses_ignored, 2U);
  EXPECT_FALSE(h.IsDone(put));
  h.Deliver(second[0]);
  h.Run();
  EXPECT_EQ(h.Done(put).outcome, Outcome::kOk);
}

TEST(KvClientTest, UntakenRequestIsReplacedByTheRetry) {
  Harness h;
  h.Submit(Put("k", "v"));
  ASSERT_TRUE(h.Wake());  // the driver never took the first attempt
  std::vector<Outgoing> out = h.Take();
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0].request.request_id(), 2U);
}

// Runs a fixed scenario with backoff jitter and returns everything sent.
std::string Transcript(uint64_t seed) {
  Harness h(TestConfig(), seed);
  h.cluster().SetBusy(1, 0);
  for (int i = 0; i < 4; ++i) h.Submit(Put("k" + std::to_string(i), "v"));
  for (int i = 0; i < 20; ++i) {
    for (const Outgoing& out : h.Take()) h.Deliver(out);
    if (i == 10) h.cluster().SetBusy(1, std::nullopt);
    if (!h.Wake()) break;
  }
  std::string transcript;
  for (const Outgoing& out : h.sent()) {
    transcript += std::to_string(out.store_id) + ":" +
                  out.request.SerializeAsString() + "|";
  }
  return transcript + std::to_string(h.now());
}

TEST(KvClientTest, SameSeedSameOutbox) {
  EXPECT_EQ(Transcript(1), Transcript(1));
  EXPECT_EQ(Transcript(99), Transcript(99));
  // The jitter does depend on the seed (else the check above proves little).
  EXPECT_NE(Transcript(1), Transcript(2));
}

}  // namespace
}  // namespace raftstore::client
