#include "tests/raft_properties/fuzz_cluster.h"

#include <algorithm>
#include <sstream>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "core/raft/log/storage.h"

namespace raftstore::raft::fuzz {
namespace {

// Readys one node may hand out in a row after one input; more means the
// node never settles, which is a bug.
constexpr int kReadiesInARowMax = 1000;
// Writes a slow disk holds at most; past it the oldest completes.
constexpr size_t kUnpersistedMax = 4;
// Delivery rounds Stabilize() runs before declaring the network never
// quiet. Without ticks no new heartbeats or elections start, so a healthy
// group settles within a few rounds per log entry in flight.
constexpr int kStabilizeRoundsMax = 2000;
// The liveness bound, in longest randomized election timeouts (2 *
// election_tick - 1 ticks each). Justification: after the heal every
// message is delivered within the tick it is sent in, so a round in which
// exactly one node times out first elects it (its log is at least as
// up-to-date as a quorum's, or a node with such a log times out in a later
// round). A stale leader under CheckQuorum steps down within one
// election_tick, leader stickiness lasts at most one more, and PreVote
// adds no rounds of its own. Randomized timeouts make a split round
// unlikely (paper §5.2: well under one in two even for 7 nodes with a
// range of election_tick values), so 20 rounds leave a failure chance far
// below one in a million per case; since runs are deterministic, a failure
// found is replayable, never a flake.
constexpr int kLivenessElectionTimeouts = 20;

constexpr uint64_t kFnvOffset = 0xcbf29ce484222325ULL;
constexpr uint64_t kFnvPrime = 0x100000001b3ULL;

uint64_t Fnv(const std::string& bytes, uint64_t hash = kFnvOffset) {
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= kFnvPrime;
  }
  return hash;
}

// splitmix64's finaliser over (hash, value): a stable 64-bit mix.
uint64_t Mix(uint64_t hash, uint64_t value) {
  uint64_t z = hash ^ (value + 0x9e3779b97f4a7c15ULL + (hash << 6));
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

bool SentBeforeLeaderWrite(const Message& m) {
  // raw_node.h duty 1: only these may leave before the leader's own write.
  return m.type() == MESSAGE_TYPE_APPEND || m.type() == MESSAGE_TYPE_SNAPSHOT ||
         m.type() == MESSAGE_TYPE_HEARTBEAT;
}

std::string EntryText(const Entry& e) {
  return absl::StrCat("(", e.index(), ",t", e.term(), ",\"", e.data(), "\")");
}

}  // namespace

std::string ClusterOptions::ToString() const {
  return absl::StrCat("{nodes=", node_count, " seed=", seed,
                      " pre_vote=", pre_vote, " check_quorum=", check_quorum,
                      " election_tick=", election_tick,
                      " heartbeat_tick=", heartbeat_tick,
                      " max_inflight_msgs=", max_inflight_msgs,
                      " max_size_per_msg_bytes=", max_size_per_msg_bytes, "}");
}

std::vector<std::pair<uint32_t, StepKind>> StepKindWeights() {
  return {
      {14, StepKind::kTick},
      {14, StepKind::kTickAll},
      {25, StepKind::kDeliver},
      {10, StepKind::kDeliverAll},
      {8, StepKind::kDeliverReordered},
      {3, StepKind::kDuplicate},
      {3, StepKind::kDrop},
      {10, StepKind::kPropose},
      {2, StepKind::kCampaign},
      {1, StepKind::kCrash},
      {3, StepKind::kRestart},
      {1, StepKind::kPartition},
      {1, StepKind::kIsolate},
      {3, StepKind::kHeal},
      {2, StepKind::kCompact},
      {1, StepKind::kSlowDisk},
      {8, StepKind::kPersist},
      {1, StepKind::kTransferLeader},
  };
}

std::string_view StepKindName(StepKind kind) {
  switch (kind) {
    case StepKind::kTick:
      return "tick";
    case StepKind::kTickAll:
      return "tick-all";
    case StepKind::kDeliver:
      return "deliver";
    case StepKind::kDeliverAll:
      return "deliver-all";
    case StepKind::kDeliverReordered:
      return "deliver-reordered";
    case StepKind::kDuplicate:
      return "duplicate";
    case StepKind::kDrop:
      return "drop";
    case StepKind::kPropose:
      return "propose";
    case StepKind::kCampaign:
      return "campaign";
    case StepKind::kCrash:
      return "crash";
    case StepKind::kRestart:
      return "restart";
    case StepKind::kPartition:
      return "partition";
    case StepKind::kIsolate:
      return "isolate";
    case StepKind::kHeal:
      return "heal";
    case StepKind::kCompact:
      return "compact";
    case StepKind::kSlowDisk:
      return "slow-disk";
    case StepKind::kPersist:
      return "persist";
    case StepKind::kTransferLeader:
      return "transfer-leader";
  }
  return "?";
}

std::string Step::ToString() const {
  std::string out = absl::StrCat(std::string(StepKindName(kind)),
                                 " node=", node, " pick=", pick);
  switch (crash) {
    case CrashMode::kNone:
      break;
    case CrashMode::kBeforeWrite:
      absl::StrAppend(&out, " +crash(before-write)");
      break;
    case CrashMode::kAfterEarlySends:
      absl::StrAppend(&out, " +crash(after-early-sends)");
      break;
    case CrashMode::kTornWrite:
      absl::StrAppend(&out, " +crash(torn-write)");
      break;
  }
  return out;
}

std::string ScheduleToString(const std::vector<Step>& schedule) {
  std::string out;
  for (size_t i = 0; i < schedule.size(); ++i) {
    absl::StrAppend(&out, "  #", i, " ", schedule[i].ToString(), "\n");
  }
  return out;
}

void showValue(const Step& step, std::ostream& os) { os << step.ToString(); }
void showValue(const ClusterOptions& options, std::ostream& os) {
  os << options.ToString();
}

std::vector<Step> RandomSchedule(Rng& rng, size_t steps) {
  const std::vector<std::pair<uint32_t, StepKind>> weights = StepKindWeights();
  uint64_t total = 0;
  for (const auto& [weight, kind] : weights) total += weight;
  std::vector<Step> schedule;
  for (size_t i = 0; i < steps; ++i) {
    Step step;
    uint64_t roll = rng.Uniform(total);
    for (const auto& [weight, kind] : weights) {
      if (roll < weight) {
        step.kind = kind;
        break;
      }
      roll -= weight;
    }
    step.node = static_cast<uint32_t>(rng.Uniform(kNodeCountMax));
    step.pick = static_cast<uint32_t>(rng.Next());
    if (rng.Chance(1, 80)) {
      step.crash = static_cast<CrashMode>(rng.Range(1, 3));
    }
    schedule.push_back(step);
  }
  return schedule;
}

std::string_view PropertyName(Property property) {
  switch (property) {
    case Property::kElectionSafety:
      return "election-safety";
    case Property::kLogMatching:
      return "log-matching";
    case Property::kLeaderCompleteness:
      return "leader-completeness";
    case Property::kStateMachineSafety:
      return "state-machine-safety";
    case Property::kDurability:
      return "durability";
    case Property::kLiveness:
      return "liveness";
  }
  return "?";
}

FuzzCluster::FuzzCluster(const ClusterOptions& options)
    : options_(options), rng_(options.seed), trace_hash_(kFnvOffset) {
  RS_CHECK_GE(options.node_count, kNodeCountMin);
  RS_CHECK_LE(options.node_count, kNodeCountMax);
  // A new group: every storage holds the index-0 snapshot naming the
  // voters, as bootstrapping does.
  ConfState voters;
  for (int i = 1; i <= options.node_count; ++i) voters.add_voters(i);
  nodes_.resize(options.node_count);
  for (int i = 0; i < options.node_count; ++i) {
    Node& n = nodes_[i];
    n.id = static_cast<uint64_t>(i + 1);
    n.storage = std::make_unique<MemoryStorage>();
    Snapshot bootstrap;
    *bootstrap.mutable_metadata()->mutable_conf_state() = voters;
    const absl::Status status = n.storage->ApplySnapshot(bootstrap);
    RS_CHECK(status.ok()) << status;
    n.rng = std::make_unique<Rng>(rng_.Fork());
    Start(n);
  }
}

Config FuzzCluster::MakeConfig(uint64_t id, const MemoryStorage* storage,
                               uint64_t applied) const {
  Config config;
  config.id = id;
  config.storage = storage;
  config.applied = applied;
  config.election_tick = options_.election_tick;
  config.heartbeat_tick = options_.heartbeat_tick;
  config.pre_vote = options_.pre_vote;
  config.check_quorum = options_.check_quorum;
  config.max_inflight_msgs = options_.max_inflight_msgs;
  config.max_size_per_msg_bytes = options_.max_size_per_msg_bytes;
  return config;
}

void FuzzCluster::Start(Node& n) {
  // The state machine is memory: it restarts from the latest snapshot and
  // re-applies the log after it.
  absl::StatusOr<Snapshot> snapshot = n.storage->Snapshot();
  RS_CHECK(snapshot.ok()) << snapshot.status();
  const uint64_t applied = snapshot->metadata().index();
  absl::StatusOr<std::unique_ptr<RawNode>> raw =
      RawNode::Create(MakeConfig(n.id, n.storage.get(), applied), n.rng.get());
  if (!raw.ok()) {
    // The storage a crash left behind must always be recoverable.
    AddViolation(
        Property::kDurability,
        absl::StrCat("node ", n.id, " cannot restart from its storage: ",
                     raw.status().ToString()));
    return;
  }
  n.raw = *std::move(raw);
  n.applied_index = applied;
  n.commit_checked = 0;
  HashU64(0xa11ce);
  HashU64(n.id);
}

void FuzzCluster::Crash(Node& n) {
  // Memory is lost: the RawNode and the state machine. Messages in flight
  // to the node stay in the network; they are lost if they arrive while it
  // is down and delivered to the new incarnation otherwise.
  n.raw.reset();
  n.unpersisted.clear();
  n.applied_index = 0;
  n.commit_checked = 0;
  HashU64(0xdead);
  HashU64(n.id);
}

void FuzzCluster::CrashBeforePersist(Node& n, CrashMode mode, uint32_t pick) {
  if (n.raw->HasReady()) {
    Ready rd = n.raw->GetReady();
    HashReady(n.id, rd);
    if (mode == CrashMode::kAfterEarlySends) {
      for (const Message& m : rd.messages) {
        if (SentBeforeLeaderWrite(m)) Send(m);
      }
      // Duty 3: committed entries may be applied while the write is in
      // progress; the crash then wipes the state machine.
      Apply(n, rd);
    }
    n.unpersisted.push_back(std::move(rd));
  }
  if (mode == CrashMode::kTornWrite && !n.unpersisted.empty()) {
    // Writes complete in order, so only the oldest can be torn.
    Ready torn = std::move(n.unpersisted.front());
    torn.hard_state.reset();
    torn.entries.resize(pick % (torn.entries.size() + 1));
    HashU64(0x7042);
    HashU64(torn.entries.size());
    Persist(n, torn);
  }
  Crash(n);
}

void FuzzCluster::HandleReadies(Node& n) {
  if (!n.slow_disk) {
    while (n.raw != nullptr && !n.unpersisted.empty()) FinishOldestWrite(n);
  }
  for (int i = 0; n.raw != nullptr && n.raw->HasReady(); ++i) {
    RS_CHECK_LT(i, kReadiesInARowMax) << "node " << n.id << " never settles";
    Ready rd = n.raw->GetReady();
    HashReady(n.id, rd);
    if (!n.slow_disk) {
      Persist(n, rd);
      for (const Message& m : rd.messages) Send(m);
      Apply(n, rd);
      n.raw->Advance(rd);
      continue;
    }
    // The write starts; what may precede its end happens now.
    std::vector<Message> later;
    for (Message& m : rd.messages) {
      if (SentBeforeLeaderWrite(m)) {
        Send(m);
      } else {
        later.push_back(std::move(m));
      }
    }
    rd.messages = std::move(later);
    Apply(n, rd);
    n.unpersisted.push_back(std::move(rd));
    if (n.unpersisted.size() > kUnpersistedMax) FinishOldestWrite(n);
  }
}

void FuzzCluster::FinishOldestWrite(Node& n) {
  Ready rd = std::move(n.unpersisted.front());
  n.unpersisted.pop_front();
  HashU64(0xf1);
  Persist(n, rd);
  for (const Message& m : rd.messages) Send(m);
  n.raw->Advance(rd);
}

void FuzzCluster::Persist(Node& n, const Ready& rd) {
  if (rd.snapshot.has_value()) {
    const absl::Status status = n.storage->ApplySnapshot(*rd.snapshot);
    if (!status.ok()) {
      AddViolation(Property::kLogMatching,
                   absl::StrCat("node ", n.id, " storage refused a snapshot: ",
                                status.ToString()));
    }
  }
  if (rd.hard_state.has_value()) n.storage->SetHardState(*rd.hard_state);
  if (!rd.entries.empty()) {
    const absl::Status status = n.storage->Append(rd.entries);
    if (!status.ok()) {
      AddViolation(
          Property::kLogMatching,
          absl::StrCat("node ", n.id, " storage refused entries from ",
                       rd.entries.front().index(), ": ", status.ToString()));
    }
  }
}

void FuzzCluster::Apply(Node& n, const Ready& rd) {
  if (rd.snapshot.has_value()) {
    // A snapshot holds committed entries only, so its last entry must be
    // the one applied at that index everywhere.
    const SnapshotMetadata& meta = rd.snapshot->metadata();
    auto it = applied_by_index_.find(meta.index());
    if (it != applied_by_index_.end() && it->second.first != meta.term()) {
      AddViolation(Property::kStateMachineSafety,
                   absl::StrCat("node ", n.id, " installed a snapshot at (",
                                meta.index(), ",t", meta.term(), ") but term ",
                                it->second.first, " was applied there"));
    }
    if (meta.index() < n.applied_index) {
      AddViolation(
          Property::kStateMachineSafety,
          absl::StrCat("node ", n.id, " installed a snapshot at ", meta.index(),
                       " behind its applied index ", n.applied_index));
    }
    n.applied_index = meta.index();
  }
  for (const Entry& e : rd.committed_entries) {
    if (e.index() != n.applied_index + 1) {
      AddViolation(Property::kStateMachineSafety,
                   absl::StrCat("node ", n.id, " applied ", EntryText(e),
                                " after index ", n.applied_index));
    }
    n.applied_index = e.index();
    const std::pair<uint64_t, uint64_t> digest{e.term(), Fnv(e.data())};
    auto [it, inserted] = applied_by_index_.try_emplace(e.index(), digest);
    if (!inserted && it->second != digest) {
      AddViolation(Property::kStateMachineSafety,
                   absl::StrCat("node ", n.id, " applied ", EntryText(e),
                                " but another node applied term ",
                                it->second.first, " at that index"));
    }
    if (e.type() == ENTRY_TYPE_NORMAL && !e.data().empty()) {
      auto [vit, new_value] = index_by_value_.try_emplace(e.data(), e.index());
      if (!new_value && vit->second != e.index()) {
        AddViolation(Property::kStateMachineSafety,
                     absl::StrCat("value \"", e.data(), "\" applied at ",
                                  vit->second, " and at ", e.index()));
      }
    }
  }
}

void FuzzCluster::Send(const Message& m) {
  ++messages_sent_;
  if (m.type() == MESSAGE_TYPE_SNAPSHOT) ++snapshots_sent_;
  HashBytes(m.SerializeAsString());
  in_flight_.push_back(m);
  if (in_flight_.size() > kInFlightMax) {
    const Message oldest = in_flight_.front();
    in_flight_.erase(in_flight_.begin());
    ReportLost(oldest, true);
  }
}

void FuzzCluster::ReportLost(const Message& m, bool reported) {
  const uint64_t from = m.from();
  if (from == 0 || from > nodes_.size() || node(from).raw == nullptr) return;
  RawNode& sender = *node(from).raw;
  if (m.type() == MESSAGE_TYPE_SNAPSHOT) {
    // A snapshot is sent as a stream whose end the sender sees, so even a
    // silent drop is noticed.
    sender.ReportSnapshot(m.to(), false);
  } else if (reported) {
    sender.ReportUnreachable(m.to());
  }
}

void FuzzCluster::ReportDelivered(const Message& m) {
  const uint64_t from = m.from();
  if (m.type() != MESSAGE_TYPE_SNAPSHOT || node(from).raw == nullptr) return;
  node(from).raw->ReportSnapshot(m.to(), true);
}

void FuzzCluster::Compact(Node& n, uint32_t keep) {
  // Only what raft knows to be applied may be snapshotted and compacted
  // (raft_log.h: up to applied(), which moves on Advance). The state
  // machine may be further ahead: it applies a Ready's committed entries
  // when the Ready is handed out (duty 3), before its hard state, whose
  // commit index a restart needs, is written.
  const uint64_t index =
      std::min(n.applied_index, n.raw->raft().log().applied());
  absl::StatusOr<Snapshot> current = n.storage->Snapshot();
  RS_CHECK(current.ok()) << current.status();
  if (index <= current->metadata().index()) return;
  ConfState voters;
  for (const Node& each : nodes_) voters.add_voters(each.id);
  absl::StatusOr<Snapshot> snapshot =
      n.storage->CreateSnapshot(index, voters, absl::StrCat("state@", index));
  RS_CHECK(snapshot.ok()) << snapshot.status();
  const uint64_t compact_index = index - std::min<uint64_t>(keep % 4, index);
  if (compact_index < n.storage->FirstIndex()) return;
  const absl::Status status = n.storage->Compact(compact_index);
  RS_CHECK(status.ok()) << status;
  HashU64(0xc0);
  HashU64(compact_index);
}

uint64_t FuzzCluster::Deliver(size_t index, bool keep_copy) {
  RS_CHECK_LT(index, in_flight_.size());
  Message m = in_flight_[index];
  if (!keep_copy) in_flight_.erase(in_flight_.begin() + index);
  const uint64_t to = m.to();
  const uint64_t from = m.from();
  HashU64(0xde1);
  HashU64(index);
  if (to == 0 || to > nodes_.size() || from == 0 || from > nodes_.size()) {
    return 0;
  }
  Node& receiver = node(to);
  if (receiver.raw == nullptr || receiver.side != node(from).side) {
    ReportLost(m, true);
    return 0;
  }
  // Bad input is counted by the node; a well-formed cluster sends none,
  // but a duplicate or reordered message must be harmless either way.
  const absl::Status status = receiver.raw->Step(m);
  HashU64(status.ok() ? 1 : 2);
  ReportDelivered(m);
  return to;
}

uint64_t FuzzCluster::Propose(Node& n) {
  const std::string value = absl::StrCat("v", next_value_++);
  ProposeResult result = n.raw->Propose(value);
  uint64_t at = n.id;
  // A client told "not leader" retries once at the leader the node names,
  // as a real client would; otherwise few proposals would land.
  const uint64_t hint = n.raw->raft().leader();
  if (result == ProposeResult::kNotLeader && hint != 0 && hint != n.id &&
      hint <= nodes_.size() && node(hint).raw != nullptr &&
      node(hint).side == n.side) {
    result = node(hint).raw->Propose(value);
    at = hint;
  }
  if (result != ProposeResult::kOk) return n.id;
  ++proposals_accepted_;
  return at;
}

uint64_t FuzzCluster::ActOnNetwork(const Step& step) {
  const uint64_t id = step.node % nodes_.size() + 1;
  switch (step.kind) {
    case StepKind::kDeliver:
      return in_flight_.empty() ? 0 : Deliver(0, false);
    case StepKind::kDeliverAll: {
      // Receivers are not crashed after a round: it acts on many nodes.
      const size_t batch = in_flight_.size();
      for (size_t i = 0; i < batch; ++i) Deliver(0, false);
      return 0;
    }
    case StepKind::kDeliverReordered:
      return in_flight_.empty() ? 0
                                : Deliver(step.pick % in_flight_.size(), false);
    case StepKind::kDuplicate:
      return in_flight_.empty() ? 0
                                : Deliver(step.pick % in_flight_.size(), true);
    case StepKind::kDrop:
      if (!in_flight_.empty()) {
        const size_t index = step.pick % in_flight_.size();
        const Message lost = in_flight_[index];
        in_flight_.erase(in_flight_.begin() + index);
        ReportLost(lost, false);
      }
      return 0;
    case StepKind::kPartition:
      for (size_t i = 0; i < nodes_.size(); ++i) {
        nodes_[i].side = static_cast<int>((step.pick >> i) & 1);
      }
      return 0;
    case StepKind::kIsolate:
      for (Node& each : nodes_) each.side = each.id == id ? 1 : 0;
      return 0;
    case StepKind::kHeal:
      for (Node& each : nodes_) each.side = 0;
      return 0;
    default:
      RS_CHECK(false) << "not a network step: " << StepKindName(step.kind);
      return 0;
  }
}

uint64_t FuzzCluster::ActOnStep(const Step& step) {
  const uint64_t id = step.node % nodes_.size() + 1;
  Node& n = node(id);
  switch (step.kind) {
    case StepKind::kDeliver:
    case StepKind::kDeliverAll:
    case StepKind::kDeliverReordered:
    case StepKind::kDuplicate:
    case StepKind::kDrop:
    case StepKind::kPartition:
    case StepKind::kIsolate:
    case StepKind::kHeal:
      return ActOnNetwork(step);
    case StepKind::kTick:
      if (n.raw == nullptr) return 0;
      n.raw->Tick();
      return id;
    case StepKind::kTickAll:
      for (Node& each : nodes_) {
        if (each.raw != nullptr) each.raw->Tick();
      }
      return 0;
    case StepKind::kPropose:
      if (n.raw == nullptr) return 0;
      return Propose(n);
    case StepKind::kCampaign:
      if (n.raw == nullptr) return 0;
      n.raw->Campaign();
      return id;
    case StepKind::kCrash:
      if (n.raw != nullptr) Crash(n);
      return 0;
    case StepKind::kRestart: {
      // `node` if it is down, else the first node that is: crashes must
      // not outpace restarts, or most cases would run without a quorum.
      auto down =
          std::find_if(nodes_.begin(), nodes_.end(),
                       [](const Node& each) { return each.raw == nullptr; });
      if (n.raw == nullptr) {
        Start(n);
      } else if (down != nodes_.end()) {
        Start(*down);
      }
      return 0;
    }
    case StepKind::kCompact:
      if (n.raw != nullptr) Compact(n, step.pick);
      return 0;
    case StepKind::kSlowDisk:
      n.slow_disk = !n.slow_disk;
      return 0;
    case StepKind::kPersist:
      if (n.raw == nullptr || n.unpersisted.empty()) return 0;
      FinishOldestWrite(n);
      return id;
    case StepKind::kTransferLeader:
      if (n.raw == nullptr) return 0;
      n.raw->TransferLeader(step.pick % nodes_.size() + 1);
      return id;
  }
  return 0;
}

void FuzzCluster::Run(const Step& step) {
  HashU64(static_cast<uint64_t>(step.kind));
  const uint64_t target = ActOnStep(step);
  if (step.crash != CrashMode::kNone && target != 0 &&
      node(target).raw != nullptr) {
    CrashBeforePersist(node(target), step.crash, step.pick);
  }
  for (Node& n : nodes_) HandleReadies(n);
  Observe();
  ++step_;
}

// --- Checks ---------------------------------------------------------------

void FuzzCluster::AddViolation(Property property, std::string detail) {
  violations_.push_back(Violation{property, step_, std::move(detail)});
}

std::optional<Violation> FuzzCluster::FirstViolation(Property property) const {
  for (const Violation& v : violations_) {
    if (v.property == property) return v;
  }
  return std::nullopt;
}

void FuzzCluster::Observe() {
  for (Node& n : nodes_) {
    const uint64_t stored_first = n.storage->FirstIndex();
    absl::StatusOr<std::vector<Entry>> stored = n.storage->Entries(
        stored_first, n.storage->LastIndex() + 1, kNoBytesLimit);
    RS_CHECK(stored.ok()) << stored.status();
    absl::StatusOr<uint64_t> stored_start = n.storage->Term(stored_first - 1);
    RS_CHECK(stored_start.ok()) << stored_start.status();
    CheckLogMatching(n.id, {stored_first - 1, *stored_start}, *stored,
                     "storage");
    if (n.raw == nullptr) continue;
    CheckElectionSafety(n);
    const RaftLog& log = n.raw->raft().log();
    const uint64_t held_first = log.FirstIndex();
    absl::StatusOr<std::vector<Entry>> held =
        log.Slice(held_first, log.LastIndex() + 1, kNoBytesLimit);
    RS_CHECK(held.ok()) << held.status();
    absl::StatusOr<uint64_t> held_start = log.Term(held_first - 1);
    RS_CHECK(held_start.ok()) << held_start.status();
    CheckLogMatching(n.id, {held_first - 1, *held_start}, *held, "raft log");
    RecordCommitted(n, held_first, *held);
  }
  for (const Node& n : nodes_) {
    if (n.raw != nullptr && n.raw->raft().role() == Role::kLeader) {
      CheckLeaderCompleteness(n);
    }
  }
  CheckDurability();
}

void FuzzCluster::CheckElectionSafety(const Node& n) {
  const Raft& raft = n.raw->raft();
  if (raft.role() != Role::kLeader) return;
  auto [it, inserted] = leader_by_term_.try_emplace(raft.term(), n.id);
  if (!inserted && it->second != n.id) {
    AddViolation(Property::kElectionSafety,
                 absl::StrCat("nodes ", it->second, " and ", n.id,
                              " both led term ", raft.term()));
  }
}

void FuzzCluster::CheckLogMatching(uint64_t id, EntryId start,
                                   const std::vector<Entry>& log,
                                   const char* where) {
  // The digest of a prefix chains from the compaction point's. That entry
  // was seen in some log before it was compacted (or it is the imaginary
  // entry 0); if not, nothing can be compared.
  uint64_t prefix = 0;
  if (start.index > 0) {
    auto it = prefix_by_entry_.find({start.index, start.term});
    if (it == prefix_by_entry_.end()) return;
    prefix = it->second;
  }
  uint64_t expected_index = start.index + 1;
  for (const Entry& e : log) {
    if (e.index() != expected_index) {
      AddViolation(
          Property::kLogMatching,
          absl::StrCat("node ", id, " ", where, " has ", EntryText(e),
                       " where index ", expected_index, " was expected"));
      return;
    }
    ++expected_index;
    prefix = Mix(Mix(prefix, e.term()), Fnv(e.data()));
    auto [it, inserted] =
        prefix_by_entry_.try_emplace({e.index(), e.term()}, prefix);
    if (!inserted && it->second != prefix) {
      AddViolation(
          Property::kLogMatching,
          absl::StrCat("node ", id, " ", where, " holds ", EntryText(e),
                       " but its log up to there differs from "
                       "another log holding the same index and term"));
      return;
    }
  }
}

void FuzzCluster::RecordCommitted(Node& n, uint64_t first_index,
                                  const std::vector<Entry>& log) {
  const Raft& raft = n.raw->raft();
  const uint64_t commit = raft.log().committed();
  // Entries compacted away were checked (or are covered by a snapshot,
  // whose term is checked when it is installed).
  for (uint64_t index = std::max(n.commit_checked + 1, first_index);
       index <= commit; ++index) {
    RS_CHECK_LT(index - first_index, log.size()) << "commit beyond the log";
    const Entry& e = log[index - first_index];
    const CommittedEntry seen{e.term(), Fnv(e.data()), raft.term()};
    auto [it, inserted] = committed_.try_emplace(index, seen);
    if (!inserted && (it->second.term != seen.term ||
                      it->second.data_hash != seen.data_hash)) {
      AddViolation(
          Property::kStateMachineSafety,
          absl::StrCat("node ", n.id, " committed ", EntryText(e), " but term ",
                       it->second.term, " was committed at that index before"));
    }
  }
  n.commit_checked = std::max(n.commit_checked, commit);
}

void FuzzCluster::CheckLeaderCompleteness(const Node& n) {
  const Raft& raft = n.raw->raft();
  for (const auto& [index, entry] : committed_) {
    if (entry.observer_term > raft.term()) continue;
    // Compacted entries live on in the leader's snapshot.
    if (index < raft.log().FirstIndex()) continue;
    absl::StatusOr<uint64_t> term = raft.log().Term(index);
    if (!term.ok() || *term != entry.term) {
      AddViolation(Property::kLeaderCompleteness,
                   absl::StrCat("leader ", n.id, " of term ", raft.term(),
                                " lacks entry (", index, ",t", entry.term,
                                ") committed as of term ", entry.observer_term,
                                "; it holds ",
                                term.ok() ? absl::StrCat("term ", *term)
                                          : term.status().ToString()));
      return;
    }
  }
}

void FuzzCluster::CheckDurability() {
  const size_t quorum = nodes_.size() / 2 + 1;
  for (const auto& [index, entry] : committed_) {
    size_t stored = 0;
    for (const Node& n : nodes_) {
      // An entry compacted into the storage's snapshot is stored there.
      absl::StatusOr<uint64_t> term = n.storage->Term(index);
      if (index < n.storage->FirstIndex() ||
          (term.ok() && *term == entry.term)) {
        ++stored;
      }
    }
    if (stored < quorum) {
      AddViolation(
          Property::kDurability,
          absl::StrCat("committed entry (", index, ",t", entry.term,
                       ") is in only ", stored, " storages; quorum ", quorum));
      return;
    }
  }
}

// --- Liveness -------------------------------------------------------------

int FuzzCluster::LivenessTicksMax() const {
  return kLivenessElectionTimeouts * (2 * options_.election_tick - 1);
}

bool FuzzCluster::Stabilize() {
  for (int round = 0; round < kStabilizeRoundsMax; ++round) {
    for (Node& n : nodes_) HandleReadies(n);
    if (in_flight_.empty()) return true;
    const size_t batch = in_flight_.size();
    for (size_t i = 0; i < batch; ++i) Deliver(0, false);
  }
  return false;
}

uint64_t FuzzCluster::Leader() const {
  uint64_t leader = 0;
  uint64_t term = 0;
  for (const Node& n : nodes_) {
    if (n.raw == nullptr || n.raw->raft().role() != Role::kLeader) continue;
    if (n.raw->raft().term() >= term) {
      leader = n.id;
      term = n.raw->raft().term();
    }
  }
  return leader;
}

void FuzzCluster::HealAndCheckLiveness() {
  step_ = -1;
  for (Node& n : nodes_) {
    n.side = 0;
    n.slow_disk = false;
    if (n.raw == nullptr) Start(n);
    if (n.raw == nullptr) return;  // Start() recorded why.
  }
  // Probes proposed (value, term of the leader that accepted it).
  std::vector<std::string> probes;
  uint64_t probe_term = 0;
  for (int tick = 0; tick < LivenessTicksMax(); ++tick) {
    for (Node& n : nodes_) n.raw->Tick();
    if (!Stabilize()) {
      AddViolation(
          Property::kLiveness,
          absl::StrCat("the network did not settle within ",
                       kStabilizeRoundsMax, " rounds after tick ", tick));
      return;
    }
    Observe();
    for (const std::string& probe : probes) {
      auto it = index_by_value_.find(probe);
      if (it == index_by_value_.end()) continue;
      const bool everywhere = std::all_of(
          nodes_.begin(), nodes_.end(),
          [&](const Node& n) { return n.applied_index >= it->second; });
      if (everywhere) return;
    }
    const uint64_t leader = Leader();
    if (leader == 0) continue;
    Node& n = node(leader);
    if (n.raw->raft().term() == probe_term) continue;
    std::string probe = absl::StrCat("probe", probes.size());
    if (n.raw->Propose(probe) == ProposeResult::kOk) {
      probes.push_back(std::move(probe));
      probe_term = n.raw->raft().term();
    }
  }
  AddViolation(Property::kLiveness,
               absl::StrCat("no proposal was applied on every node within ",
                            LivenessTicksMax(), " ticks after healing (",
                            probes.size(), " probes accepted)"));
}

// --- Tracing ----------------------------------------------------------------

void FuzzCluster::HashBytes(const std::string& bytes) {
  trace_hash_ = Fnv(bytes, trace_hash_);
}

void FuzzCluster::HashU64(uint64_t value) {
  trace_hash_ = Mix(trace_hash_, value);
}

void FuzzCluster::HashReady(uint64_t id, const Ready& rd) {
  HashU64(0x4eadf);
  HashU64(id);
  if (rd.hard_state.has_value()) HashBytes(rd.hard_state->SerializeAsString());
  if (rd.snapshot.has_value()) HashBytes(rd.snapshot->SerializeAsString());
  if (rd.soft_state.has_value()) {
    HashU64(rd.soft_state->leader);
    HashU64(static_cast<uint64_t>(rd.soft_state->role));
  }
  for (const Entry& e : rd.entries) HashBytes(e.SerializeAsString());
  for (const Entry& e : rd.committed_entries) HashBytes(e.SerializeAsString());
  for (const Message& m : rd.messages) HashBytes(m.SerializeAsString());
  HashU64(rd.must_sync ? 1 : 0);
}

uint64_t FuzzCluster::committed_max() const {
  return committed_.empty() ? 0 : committed_.rbegin()->first;
}

std::string FuzzCluster::Describe() const {
  std::ostringstream out;
  out << "options " << options_.ToString() << "\n";
  for (const Node& n : nodes_) {
    out << "  node " << n.id << " side " << n.side << " storage last "
        << n.storage->LastIndex();
    if (n.raw == nullptr) {
      out << " DOWN\n";
      continue;
    }
    const Raft& raft = n.raw->raft();
    out << " " << RoleName(raft.role()) << " term " << raft.term() << " vote "
        << raft.vote() << " leader " << raft.leader() << " last "
        << raft.log().LastIndex() << " commit " << raft.log().committed()
        << " applied " << n.applied_index << "\n";
  }
  out << "  in flight " << in_flight_.size() << ", sent " << messages_sent_
      << ", proposals accepted " << proposals_accepted_ << ", committed "
      << committed_max() << "\n";
  return out.str();
}

}  // namespace raftstore::raft::fuzz
