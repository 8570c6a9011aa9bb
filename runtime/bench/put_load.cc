#include "runtime/bench/put_load.h"

#include <uv.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "core/base/rng.h"
#include "core/client/kv_client.h"
#include "proto/kvrpc.pb.h"
#include "runtime/tcp_kv_client.h"

namespace raftstore::runtime::bench {
namespace {

using Clock = std::chrono::steady_clock;

absl::Status Validate(const PutLoadOptions& options) {
  auto bad = [](const char* field, uint64_t value) {
    return absl::InvalidArgumentError(
        absl::StrCat("put load: ", field, " = ", value, " is out of range"));
  };
  if (options.clients < 1 || options.clients > kPutLoadClientsMax) {
    return bad("clients", options.clients);
  }
  if (options.key_bytes < 1 || options.key_bytes > kPutLoadBytesMax) {
    return bad("key_bytes", options.key_bytes);
  }
  if (options.value_bytes > kPutLoadBytesMax) {
    return bad("value_bytes", options.value_bytes);
  }
  if (options.op_timeout_ms < 1) return bad("op_timeout_ms", 0);
  if (options.attempt_timeout_ms < 1) return bad("attempt_timeout_ms", 0);
  return absl::OkStatus();
}

TcpKvClientOptions ClientOptions(const PutLoadOptions& options,
                                 uint64_t rng_seed) {
  TcpKvClientOptions out;
  out.cluster_id = options.cluster_id;
  out.auth_token = options.auth_token;
  out.stores = options.stores;
  out.client.attempt_timeout_us = options.attempt_timeout_ms * 1'000;
  out.rng_seed = rng_seed;
  return out;
}

std::string DescribeNotOk(const client::Completion& c) {
  return absl::StrCat(std::string(client::OutcomeName(c.outcome)), ": ",
                      c.error.ShortDebugString());
}

// A private libuv loop and the clients on it; closes both on destruction.
class Loop {
 public:
  Loop() { RS_CHECK_EQ(uv_loop_init(&loop_), 0); }
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;
  ~Loop() {
    for (auto& client : clients_) client->Close(nullptr);
    uv_run(&loop_, UV_RUN_DEFAULT);
    clients_.clear();
    RS_CHECK_EQ(uv_loop_close(&loop_), 0) << "put load: a handle is open";
  }

  absl::StatusOr<TcpKvClient*> AddClient(const TcpKvClientOptions& options) {
    absl::StatusOr<std::unique_ptr<TcpKvClient>> client =
        TcpKvClient::Create(&loop_, options);
    if (!client.ok()) return client.status();
    clients_.push_back(*std::move(client));
    return clients_.back().get();
  }
  void RunOnce() { uv_run(&loop_, UV_RUN_ONCE); }

 private:
  uv_loop_t loop_{};
  std::vector<std::unique_ptr<TcpKvClient>> clients_;
};

// The closed loop: each completion records its outcome and, until `end`,
// issues the client's next put.
class Load {
 public:
  Load(const PutLoadOptions& options, Clock::time_point end)
      : options_(options), rng_(options.seed), end_(end) {
    value_.assign(options.value_bytes, 'v');
  }

  void Issue(TcpKvClient* client) {
    if (Clock::now() >= end_) return;
    if (options_.should_stop && options_.should_stop()) return;
    std::string key(options_.key_bytes, '\0');
    uint64_t bits = 0;
    for (size_t i = 0; i < key.size(); ++i) {
      if (i % 8 == 0) bits = rng_.Next();
      key[i] = static_cast<char>(bits >> (8 * (i % 8)));
    }
    kv::KvRequest op;
    op.mutable_put()->set_key(std::move(key));
    op.mutable_put()->set_value(value_);
    const Clock::time_point start = Clock::now();
    absl::StatusOr<uint64_t> id =
        client->Submit(op, options_.op_timeout_ms,
                       [this, client, start](const client::Completion& c) {
                         Record(c, Clock::now() - start);
                         Issue(client);
                       });
    if (id.ok()) {
      ++running_;
    } else if (result_.first_error.empty()) {
      // One client stops; the others go on. Counted as not sent.
      result_.first_error = absl::StrCat("submit: ", id.status().ToString());
    }
  }

  int running() const { return running_; }

  PutLoadResult Finish(double elapsed_s) {
    std::sort(latencies_us_.begin(), latencies_us_.end());
    result_.elapsed_s = elapsed_s;
    result_.p50_us = Percentile(0.5);
    result_.p99_us = Percentile(0.99);
    result_.p999_us = Percentile(0.999);
    result_.max_us = latencies_us_.empty() ? 0 : latencies_us_.back();
    return result_;
  }

 private:
  void Record(const client::Completion& c, Clock::duration latency) {
    --running_;
    if (c.outcome == client::Outcome::kOk) {
      ++result_.ok;
      latencies_us_.push_back(static_cast<uint64_t>(
          std::chrono::duration_cast<std::chrono::microseconds>(latency)
              .count()));
      return;
    }
    ++(c.outcome == client::Outcome::kFail ? result_.failed : result_.unknown);
    if (result_.first_error.empty()) result_.first_error = DescribeNotOk(c);
  }

  uint64_t Percentile(double p) const {
    if (latencies_us_.empty()) return 0;
    const size_t i = std::min(
        latencies_us_.size() - 1,
        static_cast<size_t>(p * static_cast<double>(latencies_us_.size())));
    return latencies_us_[i];
  }

  const PutLoadOptions& options_;
  Rng rng_;
  std::string value_;
  Clock::time_point end_;
  int running_ = 0;
  // One entry per acknowledged put: bounded by the duration times the
  // cluster's rate (tens of MB at most for a minute's run).
  std::vector<uint64_t> latencies_us_;
  PutLoadResult result_;
};

}  // namespace

absl::StatusOr<PutLoadResult> RunPutLoad(const PutLoadOptions& options) {
  if (absl::Status s = Validate(options); !s.ok()) return s;
  Loop loop;
  std::vector<TcpKvClient*> clients;
  Rng seeds(options.seed);
  for (uint64_t i = 0; i < options.clients; ++i) {
    absl::StatusOr<TcpKvClient*> client =
        loop.AddClient(ClientOptions(options, seeds.Next() | 1));
    if (!client.ok()) return client.status();
    clients.push_back(*client);
  }
  const Clock::time_point start = Clock::now();
  Load load(options, start + std::chrono::milliseconds(options.duration_ms));
  for (TcpKvClient* client : clients) load.Issue(client);
  // Every put ends by its deadline (TcpKvClient's contract), so this ends.
  while (load.running() > 0) loop.RunOnce();
  return load.Finish(
      std::chrono::duration<double>(Clock::now() - start).count());
}

absl::Status PutUntilAcknowledged(const PutLoadOptions& options,
                                  const std::string& key,
                                  const std::string& value,
                                  uint64_t timeout_ms) {
  if (absl::Status s = Validate(options); !s.ok()) return s;
  const Clock::time_point end =
      Clock::now() + std::chrono::milliseconds(timeout_ms);
  std::string last = "no attempt";
  // A definite failure (for example a store that is still starting) comes
  // back before the deadline: try again until the deadline.
  while (Clock::now() < end) {
    if (options.should_stop && options.should_stop()) {
      return absl::CancelledError(
          absl::StrCat("put load: stopped before a put was acknowledged; "
                       "last: ",
                       last));
    }
    Loop loop;
    absl::StatusOr<TcpKvClient*> client =
        loop.AddClient(ClientOptions(options, options.seed | 1));
    if (!client.ok()) return client.status();
    kv::KvRequest op;
    op.mutable_put()->set_key(key);
    op.mutable_put()->set_value(value);
    const auto left_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             end - Clock::now())
                             .count();
    bool done = false;
    bool ok = false;
    absl::StatusOr<uint64_t> id = (*client)->Submit(
        op, static_cast<uint64_t>(std::max<int64_t>(1, left_ms)),
        [&](const client::Completion& c) {
          done = true;
          ok = c.outcome == client::Outcome::kOk;
          if (!ok) last = DescribeNotOk(c);
        });
    if (!id.ok()) return id.status();
    while (!done) loop.RunOnce();
    if (ok) return absl::OkStatus();
    // Not a spin: a refusal can come back at once.
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return absl::UnavailableError(
      absl::StrCat("put load: no put acknowledged within ", timeout_ms,
                   " ms; last: ", last));
}

}  // namespace raftstore::runtime::bench
