#include "core/raft/raft_test_network.h"

#include <algorithm>
#include <utility>

#include "core/base/check.h"
#include "google/protobuf/util/message_differencer.h"

namespace raftstore::raft::testing {

Config DefaultTestConfig() {
  Config config;
  config.election_tick = 10;
  config.heartbeat_tick = 1;
  config.max_size_per_msg_bytes = 1 << 20;
  config.max_inflight_msgs = 256;
  config.max_inflight_bytes = 1 << 30;
  config.max_uncommitted_entries_bytes = 1 << 30;
  config.pending_reads_max = 128;
  config.max_committed_size_per_ready_bytes = 1 << 30;
  return config;
}

TestNetwork::TestNetwork(std::vector<uint64_t> voters,
                         std::vector<uint64_t> learners, Configure configure,
                         uint64_t seed)
    : configure_(std::move(configure)), rng_(seed) {
  ConfState cs;
  for (uint64_t id : voters) cs.add_voters(id);
  for (uint64_t id : learners) cs.add_learners(id);
  std::vector<uint64_t> all = voters;
  all.insert(all.end(), learners.begin(), learners.end());
  std::sort(all.begin(), all.end());
  for (uint64_t id : all) {
    Peer& p = peers_[id];
    p.storage = std::make_unique<MemoryStorage>();
    Snapshot bootstrap;
    *bootstrap.mutable_metadata()->mutable_conf_state() = cs;
    RS_CHECK(p.storage->ApplySnapshot(bootstrap).ok());
    p.conf_state = cs;
    p.rng = std::make_unique<Rng>(rng_.Fork());
    StartNode(id, p);
  }
}

void TestNetwork::AddEmptyNode(uint64_t id) {
  RS_CHECK(!peers_.contains(id)) << "node " << id << " exists";
  Peer& p = peers_[id];
  p.storage = std::make_unique<MemoryStorage>();
  p.rng = std::make_unique<Rng>(rng_.Fork());
  StartNode(id, p);
}

void TestNetwork::StartNode(uint64_t id, Peer& p) {
  Config config = DefaultTestConfig();
  config.id = id;
  config.storage = p.storage.get();
  config.applied = p.applied_index;
  if (configure_) configure_(config);
  absl::StatusOr<std::unique_ptr<RawNode>> node =
      RawNode::Create(config, p.rng.get());
  RS_CHECK(node.ok()) << node.status();
  p.node = *std::move(node);
}

void TestNetwork::Restart(uint64_t id) {
  Peer& p = peer(id);
  // Messages in flight to the old incarnation are lost with it.
  std::erase_if(queue_, [id](const Message& m) { return m.to() == id; });
  // The state machine restarts from the snapshot and re-applies the log
  // after it, so that conf changes after the snapshot are applied again.
  absl::StatusOr<Snapshot> snapshot = p.storage->Snapshot();
  RS_CHECK(snapshot.ok()) << snapshot.status();
  p.applied_index = snapshot->metadata().index();
  p.conf_state = snapshot->metadata().conf_state();
  std::erase_if(p.applied, [&](const Entry& entry) {
    return entry.index() > p.applied_index;
  });
  StartNode(id, p);
}

TestNetwork::Peer& TestNetwork::peer(uint64_t id) {
  auto it = peers_.find(id);
  RS_CHECK(it != peers_.end()) << "no node " << id;
  return it->second;
}

RawNode& TestNetwork::node(uint64_t id) { return *peer(id).node; }
MemoryStorage& TestNetwork::storage(uint64_t id) { return *peer(id).storage; }

std::vector<uint64_t> TestNetwork::ids() const {
  std::vector<uint64_t> out;
  for (const auto& [id, p] : peers_) out.push_back(id);
  return out;
}

void TestNetwork::Isolate(uint64_t id) { isolated_.insert(id); }

void TestNetwork::Cut(uint64_t a, uint64_t b) {
  cuts_.insert({a, b});
  cuts_.insert({b, a});
}

void TestNetwork::Heal() {
  isolated_.clear();
  cuts_.clear();
  drop_filter_ = nullptr;
}

bool TestNetwork::Dropped(const Message& m) const {
  return !peers_.contains(m.to()) || isolated_.contains(m.to()) ||
         isolated_.contains(m.from()) || cuts_.contains({m.from(), m.to()}) ||
         (drop_filter_ && drop_filter_(m));
}

void TestNetwork::ApplyEntry(uint64_t id, Peer& p, const Entry& entry) {
  // State Machine Safety: every node applies the same entry at an index.
  auto [it, inserted] = applied_by_index_.try_emplace(entry.index(), entry);
  RS_CHECK(inserted || google::protobuf::util::MessageDifferencer::Equals(
                           it->second, entry))
      << "node " << id << " applied a different entry at " << entry.index();
  p.applied.push_back(entry);
  p.applied_index = entry.index();
  if (entry.type() != ENTRY_TYPE_CONF_CHANGE) return;
  ConfChange cc;
  RS_CHECK(cc.ParseFromString(entry.data()));
  absl::StatusOr<ConfState> cs = p.node->ApplyConfChange(cc);
  RS_CHECK(cs.ok()) << "node " << id << ": " << cs.status();
  p.conf_state = *cs;
}

void TestNetwork::HandleReady(uint64_t id, Peer& p) {
  Ready rd = p.node->GetReady();
  // 1. Persist (snapshot before the entries that follow it).
  if (rd.snapshot.has_value()) {
    RS_CHECK(p.storage->ApplySnapshot(*rd.snapshot).ok());
  }
  if (rd.hard_state.has_value()) p.storage->SetHardState(*rd.hard_state);
  if (!rd.entries.empty()) {
    const absl::Status status = p.storage->Append(rd.entries);
    RS_CHECK(status.ok()) << status;
  }
  // 2. Send.
  for (Message& m : rd.messages) {
    sent_.push_back(m);
    if (Dropped(m)) {
      if (m.type() == MESSAGE_TYPE_SNAPSHOT && report_snapshots_) {
        p.node->ReportSnapshot(m.to(), false);
      }
      continue;
    }
    queue_.push_back(std::move(m));
  }
  // 3. Apply.
  if (rd.snapshot.has_value()) {
    p.applied_index = rd.snapshot->metadata().index();
    p.conf_state = rd.snapshot->metadata().conf_state();
  }
  for (const Entry& entry : rd.committed_entries) ApplyEntry(id, p, entry);
  for (ReadState& rs : rd.read_states) p.read_states.push_back(std::move(rs));
  p.node->Advance(rd);
  const Raft& raft = p.node->raft();
  if (raft.role() == Role::kLeader) {
    absl::btree_set<uint64_t>& leaders = leaders_by_term_[raft.term()];
    leaders.insert(id);
    RS_CHECK_EQ(leaders.size(), 1u) << "two leaders in term " << raft.term();
  }
}

void TestNetwork::ProcessReadies() {
  for (auto& [id, p] : peers_) {
    while (p.node->HasReady()) HandleReady(id, p);
  }
}

size_t TestNetwork::DeliverQueued() {
  std::deque<Message> batch;
  batch.swap(queue_);
  for (const Message& m : batch) {
    Peer& to = peer(m.to());
    if (!to.node->Step(m).ok()) ++step_errors_;
    if (m.type() == MESSAGE_TYPE_SNAPSHOT && report_snapshots_ &&
        peers_.contains(m.from())) {
      peer(m.from()).node->ReportSnapshot(m.to(), true);
    }
  }
  return batch.size();
}

void TestNetwork::Stabilize() {
  constexpr int kRoundsMax = 10000;
  for (int round = 0; round < kRoundsMax; ++round) {
    ProcessReadies();
    if (queue_.empty()) return;
    DeliverQueued();
  }
  RS_CHECK(false) << "the network did not stabilize in " << kRoundsMax
                  << " rounds";
}

void TestNetwork::Tick(uint64_t id, int ticks) {
  for (int i = 0; i < ticks; ++i) node(id).Tick();
}

void TestNetwork::TickAll(int ticks) {
  for (int i = 0; i < ticks; ++i) {
    for (auto& [id, p] : peers_) p.node->Tick();
  }
}

void TestNetwork::Campaign(uint64_t id) {
  node(id).Campaign();
  Stabilize();
}

ProposeResult TestNetwork::Propose(uint64_t id, std::string data) {
  const ProposeResult result = node(id).Propose(std::move(data));
  Stabilize();
  return result;
}

ProposeResult TestNetwork::ProposeConfChange(uint64_t id,
                                             const ConfChange& change) {
  const ProposeResult result = node(id).ProposeConfChange(change);
  Stabilize();
  return result;
}

const std::vector<Entry>& TestNetwork::applied(uint64_t id) {
  return peer(id).applied;
}

std::vector<std::string> TestNetwork::AppliedData(uint64_t id) {
  std::vector<std::string> out;
  for (const Entry& entry : peer(id).applied) {
    if (entry.type() == ENTRY_TYPE_NORMAL && !entry.data().empty()) {
      out.push_back(entry.data());
    }
  }
  return out;
}

uint64_t TestNetwork::applied_index(uint64_t id) {
  return peer(id).applied_index;
}

const ConfState& TestNetwork::conf_state(uint64_t id) {
  return peer(id).conf_state;
}

std::vector<ReadState>& TestNetwork::read_states(uint64_t id) {
  return peer(id).read_states;
}

uint64_t TestNetwork::Leader() {
  uint64_t leader = 0;
  uint64_t term = 0;
  for (auto& [id, p] : peers_) {
    const Raft& raft = p.node->raft();
    if (raft.role() == Role::kLeader && raft.term() >= term) {
      leader = id;
      term = raft.term();
    }
  }
  return leader;
}

void TestNetwork::SnapshotAndCompact(uint64_t id, uint64_t compact_index) {
  Peer& p = peer(id);
  RS_CHECK_LE(compact_index, p.applied_index);
  absl::StatusOr<Snapshot> snapshot =
      p.storage->CreateSnapshot(p.applied_index, p.conf_state, "snapshot");
  RS_CHECK(snapshot.ok()) << snapshot.status();
  const absl::Status status = p.storage->Compact(compact_index);
  RS_CHECK(status.ok()) << status;
}

}  // namespace raftstore::raft::testing
