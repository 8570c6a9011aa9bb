// Random workloads against the fake cluster under faults (lost and delayed
// requests and answers, leader changes, splits, merges, busy stores), from a
// cluster already split into up to four regions (whose session tables, like
// the real store's, share nothing): every operation completes once, by its
// deadline; a write reported ok applied exactly once, one reported fail
// never applied, none applied twice; no two writes share a (client_id,
// sequence); no write fails with SessionExpired before its deadline (the
// fake never expires a session, so that answer only reaches a write in
// doubt, which ends unknown, or one that moves to a fresh session); scans
// come back ordered, inside their range and within their limit; and the
// same seed gives the same run.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/strings/str_cat.h"
#include "core/base/rng.h"
#include "core/client/fake_store.h"
#include "core/client/kv_client.h"
#include "gtest/gtest.h"
#include "proto/kvrpc.pb.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"

namespace raftstore::client {
namespace {

using testing::FakeCluster;

constexpr uint64_t kOpsTotal = 60;
constexpr uint64_t kOpTimeoutUs = 800'000;

struct Event {
  bool is_request = true;
  uint64_t store_id = 0;
  kv::KvRequest request;
  kv::KvResponse response;
};

struct RunResult {
  std::string transcript;  // everything sent and completed, in order
  std::vector<std::string> violations;
  KvClientStats stats;
};

class Run {
 public:
  explicit Run(uint64_t seed)
      : rng_(seed),
        cluster_({1, 2, 3}),
        client_(Config(), rng_.Fork(), [this] { return next_client_id_++; }) {
    // Regions that exist before the first write: a write to each opens a
    // session there, none inherited from another.
    const uint64_t splits = rng_.Uniform(4);
    for (uint64_t i = 0; i < splits; ++i) {
      const std::string key = Key();
      for (uint64_t region : cluster_.region_ids()) {
        if (SplitAt(region, key)) break;
      }
    }
  }

  RunResult Go() {
    uint64_t submitted = 0;
    uint64_t next_submit_us = 0;
    for (int steps = 0; steps < 200'000; ++steps) {
      client_.CheckInvariants();
      if (submitted == kOpsTotal && client_.ops_in_flight() == 0) break;
      // The next thing to happen: a delivery, a client timer, a new op.
      uint64_t next = UINT64_MAX;
      if (!network_.empty()) next = network_.begin()->first.first;
      if (auto wake = client_.NextWakeUs()) next = std::min(next, *wake);
      if (submitted < kOpsTotal) next = std::min(next, next_submit_us);
      if (next == UINT64_MAX) break;
      now_us_ = std::max(now_us_, next);
      if (submitted < kOpsTotal && next_submit_us <= now_us_) {
        if (SubmitRandom()) ++submitted;
        next_submit_us = now_us_ + rng_.Range(0, 20'000);
      } else if (!network_.empty() &&
                 network_.begin()->first.first <= now_us_) {
        Event event = std::move(network_.begin()->second);
        network_.erase(network_.begin());
        Deliver(event);
      } else {
        client_.OnTimer(now_us_);
      }
      MaybeFault();
      Pump();
    }
    Check();
    result_.stats = client_.stats();
    return std::move(result_);
  }

 private:
  static KvClientConfig Config() {
    KvClientConfig config;
    config.store_ids = {1, 2, 3};
    config.attempt_timeout_us = 60'000;
    config.backoff_initial_us = 1'000;
    config.backoff_max_us = 30'000;
    config.writes_in_flight_max = 3;
    config.sessions_max = 3;  // the least allowed: idle sessions get dropped
    config.ops_in_flight_max = 5;
    config.scan_limit_max = 8;
    config.cache.regions_max = 4;
    return config;
  }

  std::string Key() { return absl::StrCat("k", rng_.Uniform(20)); }

  bool SubmitRandom() {
    kv::KvRequest op;
    const uint64_t n = next_value_++;
    const std::string value = absl::StrCat("v", n);
    switch (rng_.Uniform(5)) {
      case 0:
        op.mutable_put()->set_key(Key());
        op.mutable_put()->set_value(value);
        break;
      case 1:
        op.mutable_get()->set_key(Key());
        break;
      case 2:
        op.mutable_delete_()->set_key(Key());
        break;
      case 3: {
        kv::CompareAndSwapRequest* cas = op.mutable_compare_and_swap();
        cas->set_key(Key());
        cas->set_expect_absent(rng_.Chance(1, 2));
        if (!cas->expect_absent()) {
          cas->set_expected_value(absl::StrCat("v", rng_.Uniform(n + 1)));
        }
        cas->set_new_value(value);
        break;
      }
      default: {
        std::string a = Key();
        std::string b = Key();
        if (b < a) std::swap(a, b);
        op.mutable_scan()->set_start_key(a);
        if (a != b) op.mutable_scan()->set_end_key(b);
        op.mutable_scan()->set_limit(static_cast<uint32_t>(rng_.Range(0, 8)));
        break;
      }
    }
    absl::StatusOr<uint64_t> id =
        client_.Submit(op, now_us_ + kOpTimeoutUs, now_us_);
    if (!id.ok()) {
      if (id.status().code() != absl::StatusCode::kResourceExhausted) {
        Violation(absl::StrCat("submit: ", id.status().ToString()));
      }
      return false;
    }
    ops_[*id] = {op, now_us_ + kOpTimeoutUs};
    return true;
  }

  void Deliver(const Event& event) {
    if (event.is_request) {
      kv::KvResponse response = cluster_.Handle(event.store_id, event.request);
      if (rng_.Chance(1, 10)) return;  // the answer is lost
      Event answer;
      answer.is_request = false;
      answer.store_id = event.store_id;
      answer.response = std::move(response);
      Send(std::move(answer));
    } else {
      client_.OnResponse(event.store_id, event.response, now_us_);
    }
  }

  void Send(Event event) {
    const uint64_t at = now_us_ + rng_.Range(100, 5'000);
    network_.emplace(std::make_pair(at, next_event_++), std::move(event));
  }

  void Pump() {
    for (Outgoing& out : client_.TakeOutbox()) {
      absl::StrAppend(&result_.transcript, now_us_, " ", out.store_id, " ",
                      out.request.ShortDebugString(), "\n");
      if (rng_.Chance(1, 10)) continue;  // the request is lost
      Event event;
      event.store_id = out.store_id;
      event.request = std::move(out.request);
      Send(std::move(event));
    }
    for (Completion& done : client_.TakeCompletions()) {
      absl::StrAppend(&result_.transcript, now_us_, " done ", done.op_id, " ",
                      std::string(OutcomeName(done.outcome)), "\n");
      auto op = ops_.find(done.op_id);
      if (op == ops_.end()) {
        Violation(absl::StrCat("op ", done.op_id, " completed twice"));
        continue;
      }
      if (now_us_ > op->second.deadline_us) {
        Violation(absl::StrCat("op ", done.op_id, " completed after deadline"));
      }
      CheckCompletion(op->second.request, done, op->second.deadline_us);
      ops_.erase(op);
    }
  }

  void MaybeFault() {
    if (!rng_.Chance(1, 25)) return;
    const std::vector<uint64_t> ids = cluster_.region_ids();
    const uint64_t region = ids[rng_.Uniform(ids.size())];
    switch (rng_.Uniform(5)) {
      case 0:
        cluster_.SetLeader(region, rng_.Uniform(4));  // 0: no leader
        break;
      case 1:
      case 4:
        SplitAt(region, Key());
        break;
      case 2:
        for (uint64_t right : ids) {
          if (!cluster_.region(region).end_key().empty() &&
              cluster_.region(right).start_key() ==
                  cluster_.region(region).end_key()) {
            cluster_.Merge(region, right);
            break;
          }
        }
        break;
      default: {  // 3
        const uint64_t store = 1 + rng_.Uniform(3);
        cluster_.SetBusy(store, rng_.Chance(1, 2)
                                    ? std::optional<uint64_t>(rng_.Uniform(5))
                                    : std::nullopt);
        break;
      }
    }
  }

  // Splits `region` at `key` if the key is strictly inside it.
  bool SplitAt(uint64_t region, const std::string& key) {
    const meta::Region& meta = cluster_.region(region);
    if (key <= meta.start_key() ||
        (!meta.end_key().empty() && key >= meta.end_key())) {
      return false;
    }
    cluster_.Split(region, key, next_region_id_++);
    return true;
  }

  void CheckCompletion(const kv::KvRequest& op, const Completion& done,
                       uint64_t deadline_us) {
    const bool is_write = !op.has_get() && !op.has_scan();
    if (!is_write) {
      if (done.outcome == Outcome::kUnknown) {
        Violation(absl::StrCat("read ", done.op_id, " unknown"));
      }
      if (op.has_scan() && done.outcome == Outcome::kOk) CheckScan(op, done);
      return;
    }
    const std::pair<uint64_t, uint64_t> session{done.client_id, done.sequence};
    if (!sessions_used_.insert(session).second) {
      Violation(absl::StrCat("op ", done.op_id, " reuses client ",
                             done.client_id, " sequence ", done.sequence));
    }
    writes_[session] = {done.op_id, done.outcome, op};
    if (done.outcome == Outcome::kFail && done.error.has_session_expired() &&
        now_us_ < deadline_us) {
      Violation(
          absl::StrCat("write ", done.op_id,
                       " failed with SessionExpired before its deadline"));
    }
  }

  void CheckScan(const kv::KvRequest& op, const Completion& done) {
    const kv::ScanRequest& scan = op.scan();
    const uint32_t limit = scan.limit() == 0 ? 8 : scan.limit();
    const auto& pairs = done.response.scan().pairs();
    if (static_cast<uint32_t>(pairs.size()) > limit) {
      Violation(absl::StrCat("scan ", done.op_id, " over its limit"));
    }
    for (int i = 0; i < pairs.size(); ++i) {
      const std::string& key = pairs[i].key();
      if (key < scan.start_key() ||
          (!scan.end_key().empty() && key >= scan.end_key()) ||
          (i > 0 && key <= pairs[i - 1].key())) {
        Violation(absl::StrCat("scan ", done.op_id, " pair ", i, " misplaced"));
      }
    }
  }

  // Exactly-once, checked against what the cluster applied.
  void Check() {
    if (!ops_.empty()) {
      Violation(absl::StrCat(ops_.size(), " ops never completed"));
    }
    for (const auto& [session, count] : cluster_.applied()) {
      if (count != 1) Violation("a (client, sequence) applied twice");
      auto write = writes_.find(session);
      if (write == writes_.end()) {
        Violation(absl::StrCat("applied write of client ", session.first,
                               " sequence ", session.second, " unknown"));
      } else if (write->second.outcome == Outcome::kFail) {
        Violation(absl::StrCat("failed op ", write->second.op_id, " applied"));
      }
    }
    for (const auto& [session, write] : writes_) {
      const bool applied = cluster_.applied().contains(session);
      if (write.outcome == Outcome::kOk && !applied) {
        Violation(absl::StrCat("ok op ", write.op_id, " never applied"));
      }
    }
    // Each applied write is the op that owned its sequence (not another
    // op's, as a client reusing sequences would produce).
    for (const FakeCluster::AppliedWrite& applied : cluster_.applied_writes()) {
      auto write = writes_.find({applied.client_id, applied.sequence});
      if (write == writes_.end()) continue;
      const kv::KvRequest& op = write->second.request;
      const std::string expected = op.has_put() ? op.put().value()
                                   : op.has_compare_and_swap()
                                       ? op.compare_and_swap().new_value()
                                       : "";
      if (applied.value != expected) {
        Violation(absl::StrCat("op ", write->second.op_id, " applied as ",
                               applied.value));
      }
    }
  }

  void Violation(std::string what) {
    result_.violations.push_back(std::move(what));
  }

  struct Submitted {
    kv::KvRequest request;
    uint64_t deadline_us = 0;
  };
  struct Write {
    uint64_t op_id = 0;
    Outcome outcome = Outcome::kUnknown;
    kv::KvRequest request;
  };

  Rng rng_;
  FakeCluster cluster_;
  uint64_t next_client_id_ = 1;
  KvClient client_;
  uint64_t now_us_ = 0;
  uint64_t next_value_ = 1;
  uint64_t next_event_ = 0;
  uint64_t next_region_id_ = 2;
  std::map<std::pair<uint64_t, uint64_t>, Event> network_;  // (at, seq)
  absl::btree_map<uint64_t, Submitted> ops_;
  absl::btree_set<std::pair<uint64_t, uint64_t>> sessions_used_;
  absl::btree_map<std::pair<uint64_t, uint64_t>, Write> writes_;
  RunResult result_;
};

RC_GTEST_PROP(KvClientProperty, OutcomesAreTruthfulUnderFaults,
              (uint64_t seed)) {
  const RunResult result = Run(seed).Go();
  for (const std::string& violation : result.violations) {
    RC_LOG() << violation << "\n";
  }
  RC_ASSERT(result.violations.empty());
}

// The model reaches every session path: moves before doubt, single-use
// sessions adopted, idle sessions dropped, and a write in doubt refused with
// SessionExpired by a region that never had its session.
TEST(KvClientProperty, RunsReachEverySessionPath) {
  KvClientStats total;
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    const RunResult result = client::Run(seed).Go();
    EXPECT_TRUE(result.violations.empty()) << "seed " << seed;
    total.writes_rebound += result.stats.writes_rebound;
    total.sessions_adopted += result.stats.sessions_adopted;
    total.sessions_evicted += result.stats.sessions_evicted;
    total.sessions_retired += result.stats.sessions_retired;
    total.session_expired += result.stats.session_expired;
    total.ok += result.stats.ok;
  }
  EXPECT_GT(total.writes_rebound, 0U);
  EXPECT_GT(total.sessions_adopted, 0U);
  EXPECT_GT(total.sessions_evicted, 0U);
  EXPECT_GT(total.sessions_retired, 0U);
  EXPECT_GT(total.ok, 40U * kOpsTotal / 2);
  RecordProperty("writes_rebound", static_cast<int>(total.writes_rebound));
  RecordProperty("sessions_adopted", static_cast<int>(total.sessions_adopted));
  RecordProperty("sessions_evicted", static_cast<int>(total.sessions_evicted));
  RecordProperty("session_expired", static_cast<int>(total.session_expired));
}

RC_GTEST_PROP(KvClientProperty, SameSeedSameRun, (uint64_t seed)) {
  const RunResult first = Run(seed).Go();
  const RunResult second = Run(seed).Go();
  RC_ASSERT(first.transcript == second.transcript);
}

}  // namespace
}  // namespace raftstore::client
