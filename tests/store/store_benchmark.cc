// Issue 6's store benchmark: three stores with 1, 16 and 256 regions on the
// multi-store harness (real WAL, manifest and snapshot code on in-memory
// SimDisks; no faults, no latency), measuring committed writes per
// CPU-second of the whole process: the store core, raft, the KV state
// machine and the storage engine's encoding, all on one thread, for the
// three replicas of every write. Log GC runs (a snapshot every 2000 applied
// entries per region); the WAL uses its production options.
//
//   bazel run -c opt //tests/store:store_benchmark [-- --writes=N]
//
// Prints one table row per region count. Not a test: it asserts only that
// every write was acknowledged.
#include <time.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "core/base/check.h"
#include "core/store/store.h"
#include "tests/store/store_harness.h"

namespace raftstore::store::testing {
namespace {

double CpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

struct Row {
  int regions = 0;
  uint64_t writes = 0;
  double cpu_seconds = 0;
  uint64_t wal_writes = 0;
  uint64_t batches = 0;
};

// Keeps `in_flight` writes per region outstanding until `writes` are
// acknowledged.
Row Run(int regions, uint64_t writes, int in_flight) {
  StoreConfig config;
  config.election_tick = 10;
  config.heartbeat_tick = 2;
  config.raft_log_gc_entries_max = 2000;
  StoreHarness harness(3, MakeRegions(regions, 3), config, 1);
  // Production WAL settings: 64 MiB segments, no read-back of each batch.
  harness.set_wal_options(storage::WalOptions{});
  for (uint64_t s = 1; s <= 3; ++s) RS_CHECK(harness.Start(s).ok());
  RS_CHECK(harness.WaitForLeaders());
  const std::string value(256, 'v');
  uint64_t done = 0;
  uint64_t round = 0;
  const double start = CpuSeconds();
  const uint64_t writes_before = harness.counters(1).writes +
                                 harness.counters(2).writes +
                                 harness.counters(3).writes;
  while (done < writes) {
    ++round;
    std::vector<uint64_t> tokens;
    for (int r = 1; r <= regions; ++r) {
      const uint64_t leader = harness.LeaderStore(static_cast<uint64_t>(r));
      RS_CHECK_NE(leader, 0U);
      for (int i = 0; i < in_flight; ++i) {
        // One session per (region, slot); one write per session per round.
        const uint64_t client = static_cast<uint64_t>(r) * in_flight + i + 1;
        const std::string key = absl::StrFormat(
            "k%03d/%d/%d", (r - 1) * 1000 / regions, i, round % 1000);
        tokens.push_back(
            harness.Submit(leader, PutRequest(key, value, client, round)));
      }
    }
    harness.Pump();
    for (uint64_t token : tokens) {
      std::optional<kv::KvResponse> reply = harness.TakeReply(token);
      RS_CHECK(reply.has_value());
      RS_CHECK(!reply->put().header().has_error()) << reply->ShortDebugString();
      ++done;
    }
  }
  Row row;
  row.regions = regions;
  row.writes = done;
  row.cpu_seconds = CpuSeconds() - start;
  row.wal_writes = harness.counters(1).writes + harness.counters(2).writes +
                   harness.counters(3).writes - writes_before;
  for (uint64_t s = 1; s <= 3; ++s) {
    row.batches += harness.store(s)->stats().batches_sent;
  }
  return row;
}

}  // namespace
}  // namespace raftstore::store::testing

int main(int argc, char** argv) {
  uint64_t writes = 60000;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--writes=", 0) == 0 &&
        absl::SimpleAtoi(arg.substr(9), &writes) && writes > 0) {
      continue;
    }
    std::fprintf(stderr, "store_benchmark: unknown or bad flag %s\n", argv[i]);
    return 2;
  }
  std::printf("%8s %10s %10s %16s %14s\n", "regions", "writes", "cpu_s",
              "writes/cpu_s", "wal_writes");
  for (int regions : {1, 16, 256}) {
    // Enough writes in flight per round for batching to matter, and the
    // same total for every region count.
    const int in_flight = regions == 1 ? 64 : (regions == 16 ? 4 : 1);
    const auto row = raftstore::store::testing::Run(regions, writes, in_flight);
    std::printf("%8d %10llu %10.3f %16.0f %14llu\n", row.regions,
                static_cast<unsigned long long>(row.writes), row.cpu_seconds,
                static_cast<double>(row.writes) / row.cpu_seconds,
                static_cast<unsigned long long>(row.wal_writes));
  }
  return 0;
}
