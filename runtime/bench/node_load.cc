// Closed-loop put load against a running cluster's client ports, through
// the client library over TCP (runtime/tcp_kv_client.h): N clients, each
// with one put in flight at a time, of 8-byte keys and V-byte values, for S
// seconds. Prints puts/s and latency percentiles. A measurement, not a
// test; `raftstore bench` (tools) starts its own cluster around the same
// loop.
//
//   bazel run -c opt //runtime/bench:node_load -- CLUSTER_ID \
//       1=127.0.0.1:7101,2=127.0.0.1:7102,3=127.0.0.1:7103 [clients]
//       [seconds] [value_bytes] [auth_token]

#include <uv.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "core/base/rng.h"
#include "runtime/node_options.h"
#include "runtime/tcp_kv_client.h"

namespace {

using Clock = std::chrono::steady_clock;
namespace runtime = raftstore::runtime;

struct Load {
  uv_loop_t* loop = nullptr;
  std::vector<std::unique_ptr<runtime::TcpKvClient>> clients;
  raftstore::Rng rng{1};
  std::string value;
  Clock::time_point end;
  std::vector<uint64_t> latencies_us;
  uint64_t ok = 0;
  uint64_t not_ok = 0;
  int running = 0;

  void Issue(runtime::TcpKvClient* client) {
    if (Clock::now() >= end) {
      --running;
      return;
    }
    std::string key(8, '\0');
    const uint64_t bits = rng.Next();
    for (int i = 0; i < 8; ++i) key[i] = static_cast<char>(bits >> (8 * i));
    raftstore::kv::KvRequest op;
    op.mutable_put()->set_key(key);
    op.mutable_put()->set_value(value);
    const Clock::time_point start = Clock::now();
    absl::StatusOr<uint64_t> id = client->Submit(
        op, 10'000,
        [this, client, start](const raftstore::client::Completion& c) {
          if (c.outcome == raftstore::client::Outcome::kOk) {
            ++ok;
            latencies_us.push_back(static_cast<uint64_t>(
                std::chrono::duration_cast<std::chrono::microseconds>(
                    Clock::now() - start)
                    .count()));
          } else {
            if (++not_ok <= 3) {
              std::fprintf(
                  stderr, "not ok (%s): %s\n",
                  std::string(raftstore::client::OutcomeName(c.outcome))
                      .c_str(),
                  c.error.ShortDebugString().c_str());
            }
          }
          Issue(client);
        });
    if (!id.ok()) {
      std::fprintf(stderr, "submit: %s\n", id.status().ToString().c_str());
      --running;
    }
  }
};

uint64_t Percentile(std::vector<uint64_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  const size_t i =
      std::min(sorted.size() - 1,
               static_cast<size_t>(p * static_cast<double>(sorted.size())));
  return sorted[i];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr,
                 "usage: node_load CLUSTER_ID ID=HOST:PORT,... [clients] "
                 "[seconds] [value_bytes] [auth_token]\n");
    return 2;
  }
  uint64_t cluster_id = 0;
  uint64_t clients = 16;
  uint64_t seconds = 5;
  uint64_t value_bytes = 256;
  if (!absl::SimpleAtoi(argv[1], &cluster_id) ||
      (argc > 3 && !absl::SimpleAtoi(argv[3], &clients)) ||
      (argc > 4 && !absl::SimpleAtoi(argv[4], &seconds)) ||
      (argc > 5 && !absl::SimpleAtoi(argv[5], &value_bytes))) {
    std::fprintf(stderr, "node_load: bad number\n");
    return 2;
  }
  absl::StatusOr<absl::btree_map<uint64_t, std::string>> stores =
      runtime::ParsePeerList(argv[2]);
  if (!stores.ok()) {
    std::fprintf(stderr, "node_load: %s\n", stores.status().ToString().c_str());
    return 2;
  }
  uv_loop_t loop;
  uv_loop_init(&loop);
  Load load;
  load.loop = &loop;
  load.value.assign(value_bytes, 'v');
  runtime::TcpKvClientOptions options;
  options.cluster_id = cluster_id;
  options.stores = *stores;
  if (argc > 6) options.auth_token = argv[6];
  options.client.attempt_timeout_us = 1'000'000;
  for (uint64_t i = 0; i < clients; ++i) {
    options.rng_seed = i + 1;
    absl::StatusOr<std::unique_ptr<runtime::TcpKvClient>> client =
        runtime::TcpKvClient::Create(&loop, options);
    if (!client.ok()) {
      std::fprintf(stderr, "node_load: %s\n",
                   client.status().ToString().c_str());
      return 2;
    }
    load.clients.push_back(*std::move(client));
  }
  const Clock::time_point start = Clock::now();
  load.end = start + std::chrono::seconds(seconds);
  load.running = static_cast<int>(clients);
  for (auto& client : load.clients) load.Issue(client.get());
  while (load.running > 0) uv_run(&loop, UV_RUN_ONCE);
  const double elapsed =
      std::chrono::duration<double>(Clock::now() - start).count();
  for (auto& client : load.clients) client->Close(nullptr);
  uv_run(&loop, UV_RUN_DEFAULT);
  load.clients.clear();
  uv_loop_close(&loop);
  std::sort(load.latencies_us.begin(), load.latencies_us.end());
  const uint64_t p50 = Percentile(load.latencies_us, 0.5);
  const uint64_t p99 = Percentile(load.latencies_us, 0.99);
  const uint64_t p999 = Percentile(load.latencies_us, 0.999);
  std::fputs(
      absl::StrFormat("clients %d  puts %d (+%d not ok)  %.0f puts/s  "
                      "latency us: p50 %d  p99 %d  p99.9 %d\n",
                      clients, load.ok, load.not_ok,
                      static_cast<double>(load.ok) / elapsed, p50, p99, p999)
          .c_str(),
      stdout);
  return 0;
}
