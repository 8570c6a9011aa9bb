// Closed-loop put load against a running cluster's client ports
// (put_load.h): N clients, each with one put in flight at a time, of 8-byte
// keys and V-byte values, for S seconds. Prints puts/s and latency
// percentiles. A measurement, not a test; `raftstore bench` (tools) starts
// its own cluster around the same load.
//
//   bazel run -c opt //runtime/bench:node_load -- CLUSTER_ID \
//       1=127.0.0.1:7101,2=127.0.0.1:7102,3=127.0.0.1:7103 [clients]
//       [seconds] [value_bytes] [auth_token]

#include <cstdint>
#include <cstdio>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "runtime/bench/put_load.h"
#include "runtime/node_options.h"

namespace bench = raftstore::runtime::bench;

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr,
                 "usage: node_load CLUSTER_ID ID=HOST:PORT,... [clients] "
                 "[seconds] [value_bytes] [auth_token]\n");
    return 2;
  }
  bench::PutLoadOptions options;
  uint64_t seconds = 5;
  if (!absl::SimpleAtoi(argv[1], &options.cluster_id) ||
      (argc > 3 && !absl::SimpleAtoi(argv[3], &options.clients)) ||
      (argc > 4 && !absl::SimpleAtoi(argv[4], &seconds)) ||
      (argc > 5 && !absl::SimpleAtoi(argv[5], &options.value_bytes))) {
    std::fprintf(stderr, "node_load: bad number\n");
    return 2;
  }
  absl::StatusOr<absl::btree_map<uint64_t, std::string>> stores =
      raftstore::runtime::ParsePeerList(argv[2]);
  if (!stores.ok()) {
    std::fprintf(stderr, "node_load: %s\n", stores.status().ToString().c_str());
    return 2;
  }
  options.stores = *stores;
  options.duration_ms = seconds * 1'000;
  if (argc > 6) options.auth_token = argv[6];
  absl::StatusOr<bench::PutLoadResult> result = bench::RunPutLoad(options);
  if (!result.ok()) {
    std::fprintf(stderr, "node_load: %s\n", result.status().ToString().c_str());
    return 2;
  }
  if (!result->first_error.empty()) {
    std::fprintf(stderr, "first not ok: %s\n", result->first_error.c_str());
  }
  std::fputs(absl::StrFormat("clients %d  puts %d (+%d failed, %d unknown)  "
                             "%.0f puts/s  latency us: p50 %d  p99 %d  "
                             "p99.9 %d\n",
                             options.clients, result->ok, result->failed,
                             result->unknown, result->ok_per_s(),
                             result->p50_us, result->p99_us, result->p999_us)
                 .c_str(),
             stdout);
  return 0;
}
