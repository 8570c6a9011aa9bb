#include "tests/node/kv_workload.h"

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace raftstore::node_testing {
namespace {

constexpr uint64_t kOpTimeoutMs = 20'000;

// Closes a TcpKvClient and runs the loop until it is closed.
void CloseClient(transport::TestLoop* loop,
                 std::unique_ptr<runtime::TcpKvClient>& client) {
  if (client == nullptr) return;
  client->Close(nullptr);
  EXPECT_TRUE(loop->RunUntil([&] { return client->closed(); }));
  if (client->closed()) client.reset();
}

sim::Outcome HistoryOutcome(client::Outcome outcome) {
  switch (outcome) {
    case client::Outcome::kOk:
      return sim::Outcome::kOk;
    case client::Outcome::kFail:
      return sim::Outcome::kFail;
    case client::Outcome::kUnknown:
      return sim::Outcome::kUnknown;
  }
  return sim::Outcome::kUnknown;
}

sim::Output OutputOf(const client::Completion& completion) {
  sim::Output output;
  const kv::KvResponse& response = completion.response;
  if (response.has_get()) {
    if (response.get().found()) output.read = response.get().value();
  } else if (response.has_compare_and_swap()) {
    const kv::CompareAndSwapResponse& cas = response.compare_and_swap();
    output.applied = cas.succeeded();
    output.previous_known = true;
    if (cas.previous_found()) output.previous = cas.previous_value();
  }
  return output;
}

}  // namespace

runtime::TcpKvClientOptions ClientOptions(
    uint64_t cluster_id, const absl::btree_map<uint64_t, std::string>& stores,
    uint64_t seed) {
  runtime::TcpKvClientOptions options;
  options.cluster_id = cluster_id;
  options.auth_token = "node-test-token";
  options.stores = stores;
  options.rng_seed = seed;
  // A write waits for a quorum's fsync on a loaded machine: give an attempt
  // time before retrying it (the retry is deduplicated anyway).
  options.client.attempt_timeout_us = 500'000;
  options.client.backoff_max_us = 200'000;
  return options;
}

kv::KvRequest PutOp(const std::string& key, const std::string& value) {
  kv::KvRequest op;
  op.mutable_put()->set_key(key);
  op.mutable_put()->set_value(value);
  return op;
}

kv::KvRequest GetOp(const std::string& key) {
  kv::KvRequest op;
  op.mutable_get()->set_key(key);
  return op;
}

KvSession::KvSession(transport::TestLoop* loop,
                     const runtime::TcpKvClientOptions& options)
    : loop_(loop) {
  absl::StatusOr<std::unique_ptr<runtime::TcpKvClient>> client =
      runtime::TcpKvClient::Create(loop->get(), options);
  EXPECT_TRUE(client.ok()) << client.status();
  if (client.ok()) client_ = *std::move(client);
}

KvSession::~KvSession() { CloseClient(loop_, client_); }

client::Completion KvSession::Run(const kv::KvRequest& op,
                                  uint64_t timeout_ms) {
  std::optional<client::Completion> done;
  absl::StatusOr<uint64_t> id = client_->Submit(
      op, timeout_ms,
      [&done](const client::Completion& completion) { done = completion; });
  EXPECT_TRUE(id.ok()) << id.status();
  if (!id.ok()) return client::Completion{};
  EXPECT_TRUE(
      loop_->RunUntil([&] { return done.has_value(); }, timeout_ms + 10'000));
  return done.value_or(client::Completion{});
}

client::Completion KvSession::Put(const std::string& key,
                                  const std::string& value) {
  return Run(PutOp(key, value));
}

client::Completion KvSession::Get(const std::string& key) {
  return Run(GetOp(key));
}

Workload::Workload(transport::TestLoop* loop,
                   const runtime::TcpKvClientOptions& options, int clients,
                   int hot_keys, uint64_t seed)
    : loop_(loop), options_(options), rng_(seed) {
  start_ = std::chrono::steady_clock::now();
  for (int k = 0; k < hot_keys; ++k)
    hot_keys_.push_back(absl::StrCat("hot", k));
  for (int i = 0; i < clients; ++i) {
    runtime::TcpKvClientOptions mine = options_;
    mine.rng_seed = rng_.Next() | 1;
    absl::StatusOr<std::unique_ptr<runtime::TcpKvClient>> client =
        runtime::TcpKvClient::Create(loop_->get(), mine);
    EXPECT_TRUE(client.ok()) << client.status();
    Client& c = clients_.emplace_back();
    c.id = static_cast<uint64_t>(i) + 1;
    if (client.ok()) c.client = *std::move(client);
  }
}

Workload::~Workload() {
  for (Client& c : clients_) CloseClient(loop_, c.client);
}

uint64_t Workload::NowUs() const {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(
          std::chrono::steady_clock::now() - start_)
          .count());
}

void Workload::Start() {
  issuing_ = true;
  for (Client& c : clients_) Issue(c);
}

void Workload::StopIssuing() { issuing_ = false; }

bool Workload::idle() const {
  for (const Client& c : clients_) {
    if (c.busy) return false;
  }
  return true;
}

bool Workload::RunUntil(const std::function<bool()>& done,
                        uint64_t timeout_ms) {
  return loop_->RunUntil(done, timeout_ms);
}

bool Workload::RunUntilMoreOk(uint64_t more, uint64_t timeout_ms) {
  const uint64_t target = ok_ + more;
  return RunUntil([&] { return ok_ >= target; }, timeout_ms);
}

void Workload::RunFor(uint64_t ms) {
  const uint64_t until = NowUs() + ms * 1000;
  loop_->RunUntil([&] { return NowUs() >= until; }, ms + 1000);
}

void Workload::Issue(Client& c) {
  if (!issuing_ || c.busy || c.client == nullptr) return;
  const uint64_t draw = rng_.Uniform(100);
  const std::string& key = hot_keys_[rng_.Uniform(hot_keys_.size())];
  const std::string value = absl::StrCat("v", c.id, "-", ++next_value_);
  if (draw < 40) {
    Submit(c, PutOp(key, value), sim::PutCall(c.id, key, value), std::nullopt);
  } else if (draw < 70) {
    Submit(c, GetOp(key), sim::GetCall(c.id, key), std::nullopt);
  } else if (draw < 80) {
    // Expect a value some put may have written (or absence): some swaps
    // succeed, some do not, both are checked.
    kv::KvRequest op;
    kv::CompareAndSwapRequest* cas = op.mutable_compare_and_swap();
    cas->set_key(key);
    std::optional<std::string> expected;
    if (next_value_ > 1 && rng_.Uniform(4) != 0) {
      expected = absl::StrCat("v", 1 + rng_.Uniform(clients_.size()), "-",
                              next_value_ - 1 - rng_.Uniform(3));
      cas->set_expected_value(*expected);
    } else {
      cas->set_expect_absent(true);
    }
    cas->set_new_value(value);
    Submit(c, op, sim::CasCall(c.id, key, expected, value), std::nullopt);
  } else {
    const std::string once = absl::StrCat("once/", c.id, "/", ++c.next_once);
    Submit(c, PutOp(once, value), sim::PutCall(c.id, once, value),
           std::make_pair(once, value));
  }
}

void Workload::Submit(
    Client& c, const kv::KvRequest& op, sim::Operation call,
    const std::optional<std::pair<std::string, std::string>>& once) {
  absl::StatusOr<size_t> id = history_.Invoke(std::move(call), NowUs());
  if (!id.ok()) {
    issuing_ = false;  // the history is full: the test has enough
    return;
  }
  c.busy = true;
  const size_t history_id = *id;
  Client* client = &c;
  absl::StatusOr<uint64_t> submitted = c.client->Submit(
      op, kOpTimeoutMs,
      [this, client, history_id, once](const client::Completion& done) {
        const sim::Outcome outcome = HistoryOutcome(done.outcome);
        history_.Complete(
            history_id, outcome,
            outcome == sim::Outcome::kOk ? OutputOf(done) : sim::Output{},
            NowUs());
        if (outcome == sim::Outcome::kOk) {
          ++ok_;
          if (once.has_value()) acked_once_[once->first] = once->second;
        } else if (outcome == sim::Outcome::kUnknown) {
          ++unknown_;
        } else {
          ++failed_;
        }
        client->busy = false;
        Issue(*client);
      });
  if (!submitted.ok()) {
    ADD_FAILURE() << "submit: " << submitted.status();
    history_.Complete(history_id, sim::Outcome::kFail, {}, NowUs());
    c.busy = false;
  }
}

std::vector<std::string> Workload::ReadBack() {
  EXPECT_TRUE(idle());
  std::vector<std::string> keys = hot_keys_;
  for (const auto& entry : acked_once_) keys.push_back(entry.first);
  runtime::TcpKvClient* reader = clients_.front().client.get();
  size_t pending = 0;
  std::vector<std::string> problems;
  for (const std::string& key : keys) {
    absl::StatusOr<size_t> id = history_.Invoke(sim::GetCall(0, key), NowUs());
    if (!id.ok()) {
      problems.push_back("history full");
      break;
    }
    const size_t history_id = *id;
    ++pending;
    absl::StatusOr<uint64_t> submitted = reader->Submit(
        GetOp(key), kOpTimeoutMs,
        [this, key, history_id, &pending,
         &problems](const client::Completion& done) {
          --pending;
          const sim::Outcome outcome = HistoryOutcome(done.outcome);
          history_.Complete(
              history_id, outcome,
              outcome == sim::Outcome::kOk ? OutputOf(done) : sim::Output{},
              NowUs());
          auto once = acked_once_.find(key);
          if (once == acked_once_.end()) return;
          if (outcome != sim::Outcome::kOk) {
            problems.push_back(absl::StrCat(key, ": could not be read back"));
          } else if (!done.response.get().found()) {
            problems.push_back(
                absl::StrCat(key, ": acknowledged ", once->second, ", gone"));
          } else if (done.response.get().value() != once->second) {
            problems.push_back(absl::StrCat(key, ": acknowledged ",
                                            once->second, ", read ",
                                            done.response.get().value()));
          }
        });
    if (!submitted.ok()) {
      --pending;
      history_.Complete(history_id, sim::Outcome::kFail, {}, NowUs());
      problems.push_back(
          absl::StrCat(key, ": ", submitted.status().ToString()));
    }
    // Keep the reader within its bounds.
    loop_->RunUntil([&] { return pending < 256; }, kOpTimeoutMs + 10'000);
  }
  EXPECT_TRUE(
      loop_->RunUntil([&] { return pending == 0; }, kOpTimeoutMs + 10'000));
  return problems;
}

}  // namespace raftstore::node_testing
