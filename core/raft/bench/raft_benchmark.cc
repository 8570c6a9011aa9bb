// Throughput of the Raft core: committed-and-applied 64-byte proposals per
// second on one core, for a 3-node cluster of RawNodes over MemoryStorage (no
// I/O, no threads). Each iteration proposes a batch of B entries (the Arg) to
// the leader and runs the cluster until all three nodes have applied them.
// The driver follows the Ready duties: persist (snapshot, hard state,
// entries) to MemoryStorage, then deliver the messages straight to the other
// RawNodes' Step, apply the committed entries (by counting them), Advance.
// Each node's MemoryStorage is compacted every kCompactEvery applied entries
// so that memory stays bounded however long the run.
//
// Reports items_per_second (entries/s, by CPU time), cpu_per_entry (CPU time
// per committed entry, printed with its unit, e.g. "1.4us"), msgs_per_entry
// (messages delivered per entry) and stored_entries (entries held in the
// three MemoryStorages at the end: bounded by compaction, not by run length).
//
//   bazel run -c opt //core/raft/bench:raft_benchmark
//   # A short run (e.g. under callgrind): add -- --benchmark_min_time=0.1

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "benchmark/benchmark.h"
#include "core/base/check.h"
#include "core/base/rng.h"
#include "core/raft/log/memory_storage.h"
#include "core/raft/raft.h"
#include "core/raft/raw_node.h"
#include "proto/raft.pb.h"

namespace raftstore::raft {
namespace {

constexpr uint64_t kNodes = 3;
constexpr size_t kPayloadBytes = 64;
// Applied entries between two compactions of a node's MemoryStorage.
constexpr uint64_t kCompactEvery = 10'000;

class Cluster {
 public:
  Cluster() {
    ConfState conf_state;
    for (uint64_t id = 1; id <= kNodes; ++id) conf_state.add_voters(id);
    for (uint64_t id = 1; id <= kNodes; ++id) {
      Peer& p = peer(id);
      p.storage = std::make_unique<MemoryStorage>();
      Snapshot bootstrap;
      *bootstrap.mutable_metadata()->mutable_conf_state() = conf_state;
      RS_CHECK(p.storage->ApplySnapshot(bootstrap).ok());
      p.conf_state = conf_state;
      p.rng = std::make_unique<Rng>(id);
      Config config;
      config.id = id;
      config.storage = p.storage.get();
      absl::StatusOr<std::unique_ptr<RawNode>> node =
          RawNode::Create(config, p.rng.get());
      RS_CHECK(node.ok()) << node.status();
      p.node = *std::move(node);
    }
    RS_CHECK(peer(1).node->Campaign());
    Run([this] { return peer(1).node->raft().role() == Role::kLeader; });
    // The leader's empty entry of its term must be applied everywhere too.
    const uint64_t last = leader().raft().log().LastIndex();
    Run([&] { return MinApplied() >= last; });
  }

  RawNode& leader() { return *peer(1).node; }

  uint64_t MinApplied() const {
    uint64_t min = peers_[0].applied;
    for (const Peer& p : peers_) min = std::min(min, p.applied);
    return min;
  }

  uint64_t delivered() const { return delivered_; }

  // Handles Readys and delivers messages until done() holds.
  template <typename Done>
  void Run(Done done) {
    constexpr int kRoundsMax = 1'000'000;
    for (int round = 0; round < kRoundsMax; ++round) {
      for (uint64_t id = 1; id <= kNodes; ++id) {
        Peer& p = peer(id);
        while (p.node->HasReady()) HandleReady(p);
      }
      if (done()) return;
      Deliver();
    }
    RS_CHECK(false) << "the cluster made no progress in " << kRoundsMax
                    << " rounds";
  }

  // Entries held in all three MemoryStorages (to check that compaction
  // keeps them bounded).
  uint64_t StoredEntries() const {
    uint64_t total = 0;
    for (const Peer& p : peers_) {
      total += p.storage->LastIndex() + 1 - p.storage->FirstIndex();
    }
    return total;
  }

 private:
  struct Peer {
    std::unique_ptr<MemoryStorage> storage;
    std::unique_ptr<Rng> rng;
    std::unique_ptr<RawNode> node;
    ConfState conf_state;
    // Messages waiting to be delivered to this node.
    std::vector<Message> inbox;
    uint64_t applied = 0;
    uint64_t compacted = 0;
  };

  Peer& peer(uint64_t id) { return peers_[id - 1]; }

  void HandleReady(Peer& p) {
    Ready rd = p.node->GetReady();
    // 1. Persist: snapshot, then hard state and entries. The entries are
    // moved into storage: Advance() reads what it acknowledges from
    // rd.acknowledged, not from the vectors.
    if (rd.snapshot.has_value()) {
      RS_CHECK(p.storage->ApplySnapshot(*rd.snapshot).ok());
    }
    if (rd.hard_state.has_value()) p.storage->SetHardState(*rd.hard_state);
    if (!rd.entries.empty()) {
      const absl::Status status = p.storage->Append(std::move(rd.entries));
      RS_CHECK(status.ok()) << status;
    }
    // 2. Send, now that everything is durable.
    for (Message& m : rd.messages) {
      RS_CHECK(m.to() >= 1 && m.to() <= kNodes) << m.to();
      peer(m.to()).inbox.push_back(std::move(m));
    }
    // 3. Apply: the state machine only counts.
    if (rd.snapshot.has_value()) {
      p.applied = rd.snapshot->metadata().index();
      p.conf_state = rd.snapshot->metadata().conf_state();
    }
    for (const Entry& entry : rd.committed_entries) {
      RS_CHECK(entry.type() == ENTRY_TYPE_NORMAL);
      ++p.applied;
      RS_CHECK_EQ(entry.index(), p.applied);
    }
    p.node->Advance(rd);
    MaybeCompact(p);
  }

  // Keeps the log bounded (thesis §5.1): a snapshot of the (empty) state
  // machine at the applied index, then the entries up to it dropped. Only
  // what every node has applied is compacted, so no follower ever needs a
  // snapshot sent.
  void MaybeCompact(Peer& p) {
    const uint64_t index = MinApplied();
    if (index < p.compacted + kCompactEvery) return;
    if (index > p.applied) return;
    absl::StatusOr<Snapshot> snapshot =
        p.storage->CreateSnapshot(index, p.conf_state, "");
    RS_CHECK(snapshot.ok()) << snapshot.status();
    const absl::Status status = p.storage->Compact(index);
    RS_CHECK(status.ok()) << status;
    p.compacted = index;
  }

  void Deliver() {
    for (uint64_t id = 1; id <= kNodes; ++id) {
      Peer& p = peer(id);
      std::vector<Message> batch;
      batch.swap(p.inbox);
      for (const Message& m : batch) {
        const absl::Status status = p.node->Step(m);
        RS_CHECK(status.ok()) << status;
      }
      delivered_ += batch.size();
      // Keep the capacity: the next round reuses the buffer.
      batch.clear();
      if (p.inbox.empty()) p.inbox.swap(batch);
    }
  }

  std::array<Peer, kNodes> peers_;
  uint64_t delivered_ = 0;
};

void BM_ProposeCommitApply(benchmark::State& state) {
  const int64_t batch = state.range(0);
  Cluster cluster;
  const std::string payload(kPayloadBytes, 'x');
  const uint64_t delivered_before = cluster.delivered();
  int64_t entries = 0;
  for (auto _ : state) {
    std::vector<Entry> proposal(batch);
    for (Entry& entry : proposal) {
      entry.set_type(ENTRY_TYPE_NORMAL);
      entry.set_data(payload);
    }
    const ProposeResult result = cluster.leader().Propose(std::move(proposal));
    RS_CHECK(result == ProposeResult::kOk) << ProposeResultName(result);
    const uint64_t target = cluster.leader().raft().log().LastIndex();
    cluster.Run([&] { return cluster.MinApplied() >= target; });
    entries += batch;
  }
  state.SetItemsProcessed(entries);
  state.SetBytesProcessed(entries * static_cast<int64_t>(kPayloadBytes));
  state.counters["cpu_per_entry"] = benchmark::Counter(
      static_cast<double>(entries),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["msgs_per_entry"] = benchmark::Counter(
      static_cast<double>(cluster.delivered() - delivered_before) /
      static_cast<double>(entries));
  state.counters["stored_entries"] =
      benchmark::Counter(static_cast<double>(cluster.StoredEntries()));
}
BENCHMARK(BM_ProposeCommitApply)->Arg(1)->Arg(16)->Arg(64)->Arg(256);

}  // namespace
}  // namespace raftstore::raft

BENCHMARK_MAIN();
