#include "core/raft/interaction/interaction.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/base/check.h"
#include "core/raft/confchange/confchange.h"

namespace raftstore::raft::interaction {
namespace {

// Snapshots of the harness's state machine hold the applied data, one item
// per line (script values never contain a newline).
std::string EncodeState(const std::vector<std::string>& data) {
  return absl::StrJoin(data, "\n");
}

std::vector<std::string> DecodeState(const std::string& bytes) {
  if (bytes.empty()) return {};
  return absl::StrSplit(bytes, '\n');
}

std::string Ids(const google::protobuf::RepeatedField<uint64_t>& ids) {
  return absl::StrCat("(", absl::StrJoin(ids, " "), ")");
}

std::string DescribeConfState(const ConfState& cs) {
  std::string out = absl::StrCat("Voters:", Ids(cs.voters()));
  if (cs.voters_outgoing_size() > 0) {
    absl::StrAppend(&out, "&&", Ids(cs.voters_outgoing()));
  }
  if (cs.learners_size() > 0) {
    absl::StrAppend(&out, " Learners:", Ids(cs.learners()));
  }
  if (cs.learners_next_size() > 0) {
    absl::StrAppend(&out, " LearnersNext:", Ids(cs.learners_next()));
  }
  if (cs.auto_leave()) absl::StrAppend(&out, " AutoLeave");
  return out;
}

std::string Quote(const std::string& data) {
  return absl::StrCat("\"", absl::CHexEscape(data), "\"");
}

}  // namespace

std::string MessageTypeName(MessageType type) {
  switch (type) {
    case MESSAGE_TYPE_APPEND:
      return "MsgApp";
    case MESSAGE_TYPE_APPEND_RESPONSE:
      return "MsgAppResp";
    case MESSAGE_TYPE_VOTE:
      return "MsgVote";
    case MESSAGE_TYPE_VOTE_RESPONSE:
      return "MsgVoteResp";
    case MESSAGE_TYPE_PRE_VOTE:
      return "MsgPreVote";
    case MESSAGE_TYPE_PRE_VOTE_RESPONSE:
      return "MsgPreVoteResp";
    case MESSAGE_TYPE_HEARTBEAT:
      return "MsgHeartbeat";
    case MESSAGE_TYPE_HEARTBEAT_RESPONSE:
      return "MsgHeartbeatResp";
    case MESSAGE_TYPE_SNAPSHOT:
      return "MsgSnap";
    case MESSAGE_TYPE_TRANSFER_LEADER:
      return "MsgTransferLeader";
    case MESSAGE_TYPE_TIMEOUT_NOW:
      return "MsgTimeoutNow";
    case MESSAGE_TYPE_READ_INDEX:
      return "MsgReadIndex";
    case MESSAGE_TYPE_READ_INDEX_RESPONSE:
      return "MsgReadIndexResp";
    default:
      return absl::StrCat("MsgUnknown(", static_cast<int>(type), ")");
  }
}

std::string DescribeEntry(const Entry& entry) {
  std::string out = absl::StrCat(entry.term(), "/", entry.index(), " ");
  if (entry.type() == ENTRY_TYPE_CONF_CHANGE) {
    ConfChange cc;
    if (cc.ParseFromString(entry.data())) {
      absl::StrAppend(&out, "EntryConfChange ",
                      cc.changes_size() == 0
                          ? std::string("leave-joint")
                          : confchange::ConfChangeToString(cc));
    } else {
      absl::StrAppend(&out, "EntryConfChange <undecodable>");
    }
  } else if (entry.type() == ENTRY_TYPE_NORMAL) {
    absl::StrAppend(&out, "EntryNormal ", Quote(entry.data()));
  } else {
    absl::StrAppend(&out, "EntryUnknown(", static_cast<int>(entry.type()), ")");
  }
  return out;
}

std::string DescribeMessage(const Message& m) {
  std::string out = absl::StrCat(m.from(), "->", m.to(), " ",
                                 MessageTypeName(m.type()), " Term:", m.term());
  absl::StrAppend(&out, " Log:", m.log_term(), "/", m.index());
  if (m.commit() != 0) absl::StrAppend(&out, " Commit:", m.commit());
  if (m.reject()) {
    absl::StrAppend(&out, " Rejected (Hint: ", m.reject_hint(), "/",
                    m.hint_term(), ")");
  }
  if (m.transfer()) absl::StrAppend(&out, " Transfer");
  if (!m.context().empty()) {
    absl::StrAppend(&out, " Context:", Quote(m.context()));
  }
  if (m.entries_size() > 0) {
    std::vector<std::string> entries;
    for (const Entry& e : m.entries()) entries.push_back(DescribeEntry(e));
    absl::StrAppend(&out, " Entries:[", absl::StrJoin(entries, ", "), "]");
  }
  if (m.has_snapshot()) {
    const SnapshotMetadata& md = m.snapshot().metadata();
    absl::StrAppend(&out, " Snapshot: Index:", md.index(), " Term:", md.term(),
                    " ", DescribeConfState(md.conf_state()));
  }
  return out;
}

absl::StatusOr<raft::Snapshot> OnDemandSnapshotStorage::Snapshot() const {
  auto latest = base_.Snapshot();
  if (!latest.ok() || applied_state_ == nullptr) return latest;
  const AppliedState state = applied_state_();
  if (state.index <= latest->metadata().index()) return latest;
  return base_.CreateSnapshot(state.index, state.conf_state, state.data);
}

InteractionEnv::InteractionEnv(uint64_t seed) : seed_rng_(seed) {}

std::string InteractionEnv::Handle(const ScriptLine& line) {
  absl::StatusOr<std::string> out = Dispatch(line);
  if (!out.ok()) return absl::StrCat("error: ", out.status().message(), "\n");
  return *out;
}

absl::StatusOr<std::string> InteractionEnv::Dispatch(const ScriptLine& line) {
  const Args args(line);
  const std::string& c = line.command;
  if (c == "add-nodes") return AddNodes(args);
  if (c == "campaign") return Campaign(args);
  if (c == "propose") return Propose(args);
  if (c == "propose-conf-change") return ProposeConfChange(args);
  if (c == "tick") return Tick(args, -1);
  if (c == "tick-election") return Tick(args, -2);
  if (c == "tick-heartbeat") return Tick(args, -3);
  if (c == "process-ready") return ProcessReady(args);
  if (c == "deliver-msgs") return DeliverMessages(args);
  if (c == "stabilize") return Stabilize(args);
  if (c == "partition") return Partition(args);
  if (c == "isolate") return Isolate(args);
  if (c == "heal") return Heal(args);
  if (c == "crash") return Crash(args);
  if (c == "restart") return Restart(args);
  if (c == "compact") return Compact(args);
  if (c == "transfer-leadership") return TransferLeadership(args);
  if (c == "read-index") return ReadIndex(args);
  if (c == "status") return Status(args);
  if (c == "raft-state") return RaftState(args);
  if (c == "raft-log") return RaftLog(args);
  if (c == "msgs") return Messages(args);
  if (c == "applied") return Applied(args);
  if (c == "counters") return Counters(args);
  if (c == "report-unreachable") return ReportUnreachable(args);
  if (c == "step") return StepRaw(args);
  return absl::InvalidArgumentError(
      absl::StrCat("line ", line.number, ": unknown command '", c, "'"));
}

absl::StatusOr<InteractionEnv::Node*> InteractionEnv::Find(uint64_t id) {
  auto it = nodes_.find(id);
  if (it == nodes_.end()) {
    return absl::NotFoundError(absl::StrCat("no node ", id));
  }
  return &it->second;
}

absl::StatusOr<InteractionEnv::Node*> InteractionEnv::FindRunning(uint64_t id) {
  auto node = Find(id);
  if (!node.ok()) return node.status();
  if ((*node)->raw == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("node ", id, " is crashed"));
  }
  return node;
}

absl::StatusOr<std::vector<uint64_t>> InteractionEnv::Ids(const Args& args,
                                                          size_t first) const {
  std::vector<uint64_t> ids;
  for (size_t i = first; i < args.positional_count(); ++i) {
    auto id = args.Uint(i);
    if (!id.ok()) return id.status();
    if (!nodes_.contains(*id)) {
      return absl::NotFoundError(absl::StrCat("no node ", *id));
    }
    ids.push_back(*id);
  }
  if (ids.empty()) {
    for (const auto& [id, node] : nodes_) ids.push_back(id);
  }
  return ids;
}

absl::Status InteractionEnv::StartNode(Node* node) {
  // The state machine restarts from the snapshot; the log replays the rest.
  auto snapshot = node->storage->base().Snapshot();
  if (!snapshot.ok()) return snapshot.status();
  node->applied_data = DecodeState(snapshot->data());
  node->applied_index = snapshot->metadata().index();
  node->conf_state = snapshot->metadata().conf_state();
  Config config = node->config;
  config.applied = node->applied_index;
  auto raw = RawNode::Create(config, node->rng.get());
  if (!raw.ok()) return raw.status();
  node->raw = std::move(*raw);
  return absl::OkStatus();
}

absl::StatusOr<std::string> InteractionEnv::AddNodes(const Args& args) {
  auto status = args.Expect(
      1, 1,
      {"voters", "learners", "index", "election-tick", "heartbeat-tick",
       "prevote", "checkquorum", "read-only", "max-inflight-msgs",
       "max-size-per-msg", "max-uncommitted-bytes", "pending-reads-max"});
  if (!status.ok()) return status;
  auto count = args.Uint(0);
  auto voters = args.IdListOption("voters");
  auto learners = args.IdListOption("learners");
  auto index = args.UintOption("index", 1);
  auto election = args.UintOption("election-tick", 10);
  auto heartbeat = args.UintOption("heartbeat-tick", 1);
  auto prevote = args.BoolOption("prevote", false);
  auto checkquorum = args.BoolOption("checkquorum", false);
  auto inflight = args.UintOption("max-inflight-msgs", 256);
  auto msg_size = args.UintOption("max-size-per-msg", 1 << 20);
  auto uncommitted = args.UintOption("max-uncommitted-bytes", 64 << 20);
  auto pending_reads = args.UintOption("pending-reads-max", 1024);
  for (const absl::Status& s :
       {count.status(), voters.status(), learners.status(), index.status(),
        election.status(), heartbeat.status(), prevote.status(),
        checkquorum.status(), inflight.status(), msg_size.status(),
        uncommitted.status(), pending_reads.status()}) {
    if (!s.ok()) return s;
  }
  const std::string read_only = args.StringOption("read-only", "safe");
  if (read_only != "safe" && read_only != "lease") {
    return absl::InvalidArgumentError("read-only must be safe or lease");
  }
  if (nodes_.size() + *count > kNodesMax) {
    return absl::InvalidArgumentError(
        absl::StrCat("at most ", kNodesMax, " nodes"));
  }
  std::string out;
  for (uint64_t n = 0; n < *count; ++n) {
    Node node;
    node.id = next_id_++;
    node.storage = std::make_unique<OnDemandSnapshotStorage>();
    node.rng = std::make_unique<Rng>(seed_rng_.Fork());
    if (!voters->empty()) {
      // Bootstrap: a snapshot at `index` (term 1) holding the membership,
      // and a hard state to match, as if an initial config had committed.
      Snapshot snapshot;
      SnapshotMetadata* md = snapshot.mutable_metadata();
      md->set_format_version(1);
      md->set_index(*index);
      md->set_term(*index == 0 ? 0 : 1);
      for (uint64_t v : *voters) md->mutable_conf_state()->add_voters(v);
      for (uint64_t l : *learners) md->mutable_conf_state()->add_learners(l);
      auto applied = node.storage->base().ApplySnapshot(snapshot);
      if (!applied.ok()) return applied;
      HardState hs;
      hs.set_term(md->term());
      hs.set_commit(*index);
      node.storage->base().SetHardState(hs);
    }
    Config& config = node.config;
    config.id = node.id;
    config.election_tick = static_cast<int>(*election);
    config.heartbeat_tick = static_cast<int>(*heartbeat);
    config.storage = node.storage.get();
    config.pre_vote = *prevote;
    config.check_quorum = *checkquorum;
    config.read_only_option = read_only == "lease" ? ReadOnlyOption::kLeaseBased
                                                   : ReadOnlyOption::kSafe;
    config.max_inflight_msgs = *inflight;
    config.max_size_per_msg_bytes = *msg_size;
    config.max_uncommitted_entries_bytes = *uncommitted;
    config.pending_reads_max = *pending_reads;
    auto started = StartNode(&node);
    if (!started.ok()) return started;
    absl::StrAppend(&out, "INFO ", node.id,
                    " started: ", node.raw->raft().log().ToString(), "\n");
    const uint64_t id = node.id;
    nodes_.emplace(id, std::move(node));
    Node* stored = &nodes_.at(id);
    stored->storage->set_applied_state([stored] {
      return OnDemandSnapshotStorage::AppliedState{
          stored->applied_index, stored->conf_state,
          EncodeState(stored->applied_data)};
    });
  }
  return out;
}

absl::StatusOr<std::string> InteractionEnv::Campaign(const Args& args) {
  if (auto s = args.Expect(1, 1, {}); !s.ok()) return s;
  auto id = args.Uint(0);
  if (!id.ok()) return id.status();
  auto node = FindRunning(*id);
  if (!node.ok()) return node.status();
  const bool started = (*node)->raw->Campaign();
  return absl::StrCat("INFO ", *id, started ? " campaigns" : " cannot campaign",
                      "\n");
}

absl::StatusOr<std::string> InteractionEnv::Propose(const Args& args) {
  if (auto s = args.Expect(2, 2, {}); !s.ok()) return s;
  auto id = args.Uint(0);
  auto data = args.String(1);
  if (!id.ok()) return id.status();
  if (!data.ok()) return data.status();
  auto node = FindRunning(*id);
  if (!node.ok()) return node.status();
  const ProposeResult result = (*node)->raw->Propose(*data);
  if (result == ProposeResult::kOk) return std::string();
  return absl::StrCat(
      "INFO proposal refused: ", std::string(ProposeResultName(result)), "\n");
}

absl::StatusOr<std::string> InteractionEnv::ProposeConfChange(
    const Args& args) {
  if (auto s = args.Expect(1, 2, {"transition"}); !s.ok()) return s;
  auto id = args.Uint(0);
  if (!id.ok()) return id.status();
  std::string text;
  if (args.positional_count() == 2) {
    auto changes_text = args.String(1);
    if (!changes_text.ok()) return changes_text.status();
    text = *changes_text;
    if (text.size() >= 2 && text.front() == '(' && text.back() == ')') {
      text = text.substr(1, text.size() - 2);
    }
  }
  auto changes = confchange::ParseConfChanges(text);
  if (!changes.ok()) return changes.status();
  ConfChange cc;
  const std::string transition = args.StringOption("transition", "auto");
  if (transition == "auto") {
    cc.set_transition(CONF_CHANGE_TRANSITION_AUTO);
  } else if (transition == "implicit") {
    cc.set_transition(CONF_CHANGE_TRANSITION_JOINT_IMPLICIT);
  } else if (transition == "explicit") {
    cc.set_transition(CONF_CHANGE_TRANSITION_JOINT_EXPLICIT);
  } else {
    return absl::InvalidArgumentError(
        "transition must be auto, implicit or explicit");
  }
  for (const ConfChangeSingle& change : *changes) *cc.add_changes() = change;
  auto node = FindRunning(*id);
  if (!node.ok()) return node.status();
  const ProposeResult result = (*node)->raw->ProposeConfChange(cc);
  if (result == ProposeResult::kOk) return std::string();
  return absl::StrCat("INFO conf change refused: ",
                      std::string(ProposeResultName(result)), "\n");
}

absl::StatusOr<std::string> InteractionEnv::Tick(const Args& args,
                                                 int per_node_ticks) {
  // tick ID N | tick-election ID | tick-heartbeat ID
  const size_t positional = per_node_ticks == -1 ? 2 : 1;
  if (auto s = args.Expect(positional, positional, {}); !s.ok()) return s;
  auto id = args.Uint(0);
  if (!id.ok()) return id.status();
  auto node = FindRunning(*id);
  if (!node.ok()) return node.status();
  const Raft& raft = (*node)->raw->raft();
  uint64_t ticks = 0;
  if (per_node_ticks == -1) {
    auto n = args.Uint(1);
    if (!n.ok()) return n.status();
    ticks = *n;
  } else if (per_node_ticks == -2) {
    // Exactly enough for the election timer to fire once: a follower or
    // candidate campaigns, a leader runs its CheckQuorum round.
    ticks = raft.role() == Role::kLeader
                ? static_cast<uint64_t>(raft.config().election_tick)
                : static_cast<uint64_t>(raft.randomized_election_timeout() -
                                        raft.election_elapsed());
  } else {
    ticks = static_cast<uint64_t>(raft.config().heartbeat_tick);
  }
  constexpr uint64_t kTicksMax = 100000;
  if (ticks > kTicksMax) {
    return absl::InvalidArgumentError(
        absl::StrCat("at most ", kTicksMax, " ticks at once"));
  }
  for (uint64_t i = 0; i < ticks; ++i) (*node)->raw->Tick();
  return std::string();
}

void InteractionEnv::ApplyEntry(Node* node, const Entry& entry,
                                std::string* out) {
  node->applied_index = entry.index();
  if (entry.type() == ENTRY_TYPE_NORMAL) {
    if (!entry.data().empty()) node->applied_data.push_back(entry.data());
    return;
  }
  if (entry.type() != ENTRY_TYPE_CONF_CHANGE) return;
  ConfChange cc;
  if (!cc.ParseFromString(entry.data())) {
    absl::StrAppend(out, "  INFO undecodable conf change at ", entry.index(),
                    "\n");
    return;
  }
  auto cs = node->raw->ApplyConfChange(cc);
  if (!cs.ok()) {
    absl::StrAppend(out, "  INFO conf change at ", entry.index(),
                    " refused: ", cs.status().message(), "\n");
    return;
  }
  node->conf_state = *cs;
  absl::StrAppend(out, "  INFO ", node->id, " applied conf change at ",
                  entry.index(), ": ", DescribeConfState(*cs), "\n");
}

bool InteractionEnv::HandleReady(Node* node, std::string* out) {
  if (node->raw == nullptr || !node->raw->HasReady()) return false;
  Ready rd = node->raw->GetReady();
  absl::StrAppend(out, "Ready MustSync=", rd.must_sync ? "true" : "false",
                  " (node ", node->id, "):\n");
  if (rd.soft_state) {
    absl::StrAppend(out, "  Lead:", rd.soft_state->leader,
                    " State:", std::string(RoleName(rd.soft_state->role)),
                    "\n");
  }
  if (rd.hard_state) {
    absl::StrAppend(out, "  HardState Term:", rd.hard_state->term(),
                    " Vote:", rd.hard_state->vote(),
                    " Commit:", rd.hard_state->commit(), "\n");
  }
  if (!rd.entries.empty()) absl::StrAppend(out, "  Entries:\n");
  for (const Entry& e : rd.entries) {
    absl::StrAppend(out, "    ", DescribeEntry(e), "\n");
  }
  if (rd.snapshot) {
    const SnapshotMetadata& md = rd.snapshot->metadata();
    absl::StrAppend(out, "  Snapshot Index:", md.index(), " Term:", md.term(),
                    " ", DescribeConfState(md.conf_state()), "\n");
  }
  if (!rd.committed_entries.empty()) {
    absl::StrAppend(out, "  CommittedEntries:\n");
  }
  for (const Entry& e : rd.committed_entries) {
    absl::StrAppend(out, "    ", DescribeEntry(e), "\n");
  }
  if (!rd.messages.empty()) absl::StrAppend(out, "  Messages:\n");
  for (const Message& m : rd.messages) {
    absl::StrAppend(out, "    ", DescribeMessage(m), "\n");
  }
  for (const ReadState& rs : rd.read_states) {
    absl::StrAppend(out, "  ReadState Index:", rs.index,
                    " Context:", Quote(rs.context), "\n");
  }

  // The driver's duties, in the order the Ready type requires: durable
  // state first (synchronously here), then messages, then application.
  if (rd.snapshot) {
    const absl::Status s = node->storage->base().ApplySnapshot(*rd.snapshot);
    RS_CHECK(s.ok()) << "node " << node->id << ": " << s;
    node->applied_data = DecodeState(rd.snapshot->data());
    node->applied_index = rd.snapshot->metadata().index();
    node->conf_state = rd.snapshot->metadata().conf_state();
  }
  if (!rd.entries.empty()) {
    const absl::Status s = node->storage->base().Append(rd.entries);
    RS_CHECK(s.ok()) << "node " << node->id << ": " << s;
  }
  if (rd.hard_state) node->storage->base().SetHardState(*rd.hard_state);
  Send(rd.messages, out);
  for (const Entry& e : rd.committed_entries) ApplyEntry(node, e, out);
  node->raw->Advance(rd);
  return true;
}

absl::StatusOr<std::string> InteractionEnv::ProcessReady(const Args& args) {
  auto ids = Ids(args, 0);
  if (!ids.ok()) return ids.status();
  std::string out;
  for (uint64_t id : *ids) {
    auto node = Find(id);
    if (!node.ok()) return node.status();
    if (!HandleReady(*node, &out)) {
      absl::StrAppend(&out, "(node ", id, ": no Ready)\n");
    }
  }
  return out;
}

void InteractionEnv::Send(std::vector<Message> messages, std::string* out) {
  for (Message& m : messages) {
    auto it = nodes_.find(m.to());
    if (it == nodes_.end() || it->second.raw == nullptr) {
      absl::StrAppend(out, "  dropped (node down): ", DescribeMessage(m), "\n");
      continue;
    }
    if (in_flight_.size() >= kInFlightMessagesMax) {
      absl::StrAppend(out, "  dropped (network full): ", DescribeMessage(m),
                      "\n");
      continue;
    }
    in_flight_.push_back(std::move(m));
  }
}

bool InteractionEnv::Blocked(uint64_t from, uint64_t to) const {
  return blocked_.contains({from, to});
}

std::string InteractionEnv::Deliver(const absl::btree_set<uint64_t>& to,
                                    uint64_t from,
                                    const std::string& type_filter, bool drop) {
  std::string out;
  std::vector<Message> keep;
  std::vector<Message> chosen;
  for (Message& m : in_flight_) {
    const bool match =
        to.contains(m.to()) && (from == 0 || m.from() == from) &&
        (type_filter.empty() || MessageTypeName(m.type()) == type_filter);
    (match ? chosen : keep).push_back(std::move(m));
  }
  in_flight_ = std::move(keep);
  for (const Message& m : chosen) {
    const std::string text = DescribeMessage(m);
    auto it = nodes_.find(m.to());
    bool delivered = false;
    if (drop) {
      absl::StrAppend(&out, "dropped: ", text, "\n");
    } else if (Blocked(m.from(), m.to())) {
      absl::StrAppend(&out, "dropped (partitioned): ", text, "\n");
    } else if (it == nodes_.end() || it->second.raw == nullptr) {
      absl::StrAppend(&out, "dropped (node down): ", text, "\n");
    } else {
      absl::StrAppend(&out, text, "\n");
      delivered = true;
      const absl::Status s = it->second.raw->Step(m);
      if (!s.ok()) absl::StrAppend(&out, "  INFO ignored: ", s.message(), "\n");
    }
    if (m.type() == MESSAGE_TYPE_SNAPSHOT) {
      // The transport tells the sender how its snapshot fared, as a real
      // one does once the stream ends.
      auto sender = nodes_.find(m.from());
      if (sender != nodes_.end() && sender->second.raw != nullptr) {
        sender->second.raw->ReportSnapshot(m.to(), delivered);
        absl::StrAppend(&out, "  INFO ", m.from(), " reports snapshot to ",
                        m.to(), delivered ? " sent\n" : " failed\n");
      }
    }
  }
  return out;
}

absl::StatusOr<std::string> InteractionEnv::DeliverMessages(const Args& args) {
  if (auto s = args.Expect(0, kNodesMax, {"type", "drop", "from"}); !s.ok()) {
    return s;
  }
  auto from = args.UintOption("from", 0);
  if (!from.ok()) return from.status();
  auto ids = Ids(args, 0);
  if (!ids.ok()) return ids.status();
  auto drop = args.BoolOption("drop", false);
  if (!drop.ok()) return drop.status();
  const absl::btree_set<uint64_t> to(ids->begin(), ids->end());
  std::string out = Deliver(to, *from, args.StringOption("type", ""), *drop);
  if (out.empty()) out = "(no messages)\n";
  return out;
}

absl::StatusOr<std::string> InteractionEnv::Stabilize(const Args& args) {
  if (auto s = args.Expect(0, kNodesMax, {}); !s.ok()) return s;
  auto ids = Ids(args, 0);
  if (!ids.ok()) return ids.status();
  const absl::btree_set<uint64_t> set(ids->begin(), ids->end());
  std::string out;
  for (int round = 0; round < kStabilizeRoundsMax; ++round) {
    bool progressed = false;
    for (uint64_t id : set) {
      auto node = Find(id);
      if (!node.ok()) return node.status();
      while (HandleReady(*node, &out)) progressed = true;
    }
    const bool pending =
        std::any_of(in_flight_.begin(), in_flight_.end(),
                    [&set](const Message& m) { return set.contains(m.to()); });
    if (pending) {
      absl::StrAppend(&out, Deliver(set, 0, "", false));
      progressed = true;
    }
    if (!progressed) return out;
  }
  absl::StrAppend(&out, "error: not stable after ", kStabilizeRoundsMax,
                  " rounds\n");
  return out;
}

absl::StatusOr<std::string> InteractionEnv::Partition(const Args& args) {
  // partition (1) (2,3): every link between different groups drops.
  if (args.positional_count() < 2) {
    return absl::InvalidArgumentError("partition needs two or more groups");
  }
  std::vector<std::vector<uint64_t>> groups;
  for (size_t i = 0; i < args.positional_count(); ++i) {
    auto text = args.String(i);
    if (!text.ok()) return text.status();
    auto ids = ParseIdList(*text);
    if (!ids.ok()) return ids.status();
    groups.push_back(*ids);
  }
  for (size_t a = 0; a < groups.size(); ++a) {
    for (size_t b = 0; b < groups.size(); ++b) {
      if (a == b) continue;
      for (uint64_t x : groups[a]) {
        for (uint64_t y : groups[b]) blocked_.insert({x, y});
      }
    }
  }
  return std::string();
}

absl::StatusOr<std::string> InteractionEnv::Isolate(const Args& args) {
  if (auto s = args.Expect(1, 1, {}); !s.ok()) return s;
  auto id = args.Uint(0);
  if (!id.ok()) return id.status();
  for (const auto& [other, node] : nodes_) {
    if (other == *id) continue;
    blocked_.insert({*id, other});
    blocked_.insert({other, *id});
  }
  return std::string();
}

absl::StatusOr<std::string> InteractionEnv::Heal(const Args& args) {
  if (auto s = args.Expect(0, 0, {}); !s.ok()) return s;
  blocked_.clear();
  return std::string();
}

absl::StatusOr<std::string> InteractionEnv::Crash(const Args& args) {
  if (auto s = args.Expect(1, 1, {}); !s.ok()) return s;
  auto id = args.Uint(0);
  if (!id.ok()) return id.status();
  auto node = FindRunning(*id);
  if (!node.ok()) return node.status();
  // kill -9: only what process-ready wrote to storage survives, and the
  // messages on its way to the node die with its connections.
  (*node)->raw.reset();
  (*node)->applied_data.clear();
  (*node)->applied_index = 0;
  const size_t before = in_flight_.size();
  std::erase_if(in_flight_, [&](const Message& m) { return m.to() == *id; });
  return absl::StrCat("INFO ", *id, " crashed; ", before - in_flight_.size(),
                      " messages to it lost\n");
}

absl::StatusOr<std::string> InteractionEnv::Restart(const Args& args) {
  if (auto s = args.Expect(1, 1, {}); !s.ok()) return s;
  auto id = args.Uint(0);
  if (!id.ok()) return id.status();
  auto node = Find(*id);
  if (!node.ok()) return node.status();
  if ((*node)->raw != nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("node ", *id, " is running"));
  }
  if (auto s = StartNode(*node); !s.ok()) return s;
  return absl::StrCat("INFO ", *id,
                      " restarted: ", (*node)->raw->raft().log().ToString(),
                      "\n");
}

absl::StatusOr<std::string> InteractionEnv::Compact(const Args& args) {
  if (auto s = args.Expect(2, 2, {}); !s.ok()) return s;
  auto id = args.Uint(0);
  auto index = args.Uint(1);
  if (!id.ok()) return id.status();
  if (!index.ok()) return index.status();
  auto node = FindRunning(*id);
  if (!node.ok()) return node.status();
  if (*index != (*node)->applied_index) {
    // The harness's state machine is only known as of its applied index.
    return absl::InvalidArgumentError(
        absl::StrCat("compact at the applied index (", (*node)->applied_index,
                     "), not ", *index));
  }
  MemoryStorage& base = (*node)->storage->base();
  auto existing = base.Snapshot();
  if (!existing.ok()) return existing.status();
  if (existing->metadata().index() < *index) {
    auto snapshot = base.CreateSnapshot(*index, (*node)->conf_state,
                                        EncodeState((*node)->applied_data));
    if (!snapshot.ok()) return snapshot.status();
  }
  if (auto s = base.Compact(*index); !s.ok()) return s;
  return absl::StrCat("INFO ", *id, " compacted to ", *index, "\n");
}

absl::StatusOr<std::string> InteractionEnv::TransferLeadership(
    const Args& args) {
  if (auto s = args.Expect(0, 0, {"from", "to"}); !s.ok()) return s;
  auto from = args.UintOption("from", 0);
  auto to = args.UintOption("to", 0);
  if (!from.ok()) return from.status();
  if (!to.ok()) return to.status();
  auto node = FindRunning(*from);
  if (!node.ok()) return node.status();
  const TransferResult result = (*node)->raw->TransferLeader(*to);
  switch (result) {
    case TransferResult::kOk:
      return std::string();
    case TransferResult::kNotLeader:
      return std::string("INFO transfer refused: not leader\n");
    case TransferResult::kInvalidTarget:
      return std::string("INFO transfer refused: invalid target\n");
    case TransferResult::kAlreadyLeader:
      return std::string("INFO transfer refused: already leader\n");
  }
  return std::string();
}

absl::StatusOr<std::string> InteractionEnv::ReadIndex(const Args& args) {
  if (auto s = args.Expect(2, 2, {}); !s.ok()) return s;
  auto id = args.Uint(0);
  auto context = args.String(1);
  if (!id.ok()) return id.status();
  if (!context.ok()) return context.status();
  auto node = FindRunning(*id);
  if (!node.ok()) return node.status();
  switch ((*node)->raw->ReadIndex(*context)) {
    case ReadIndexResult::kOk:
      return std::string();
    case ReadIndexResult::kNoLeader:
      return std::string("INFO read refused: no leader\n");
    case ReadIndexResult::kBusy:
      return std::string("INFO read refused: busy\n");
    case ReadIndexResult::kInvalid:
      return std::string("INFO read refused: invalid\n");
  }
  return std::string();
}

absl::StatusOr<std::string> InteractionEnv::Status(const Args& args) {
  if (auto s = args.Expect(1, 1, {}); !s.ok()) return s;
  auto id = args.Uint(0);
  if (!id.ok()) return id.status();
  auto node = FindRunning(*id);
  if (!node.ok()) return node.status();
  const Raft& raft = (*node)->raw->raft();
  std::string out = absl::StrCat(
      *id, ": ", std::string(RoleName(raft.role())), " Term:", raft.term(),
      " Vote:", raft.vote(), " Lead:", raft.leader(),
      " Commit:", raft.log().committed(), " Applied:", raft.log().applied(),
      " Last:", raft.log().LastIndex(), "\n  ",
      raft.tracker().config().ToString(), "\n");
  if (raft.role() == Role::kLeader) {
    raft.tracker().Visit([&out](uint64_t peer, const Progress& pr) {
      absl::StrAppend(&out, "  ", peer, ": ", pr.ToString(), "\n");
    });
  }
  return out;
}

absl::StatusOr<std::string> InteractionEnv::RaftState(const Args& args) {
  if (auto s = args.Expect(0, 0, {}); !s.ok()) return s;
  std::string out;
  for (const auto& [id, node] : nodes_) {
    if (node.raw == nullptr) {
      absl::StrAppend(&out, id, ": crashed\n");
      continue;
    }
    const Raft& raft = node.raw->raft();
    const auto& config = raft.tracker().config();
    const char* membership =
        config.voters.incoming.contains(id) ||
                config.voters.outgoing.contains(id)
            ? "Voter"
            : (config.learners.contains(id) ? "Learner" : "None");
    absl::StrAppend(&out, id, ": ", std::string(RoleName(raft.role())), " (",
                    membership, ") Term:", raft.term(), " Lead:", raft.leader(),
                    "\n");
  }
  return out;
}

absl::StatusOr<std::string> InteractionEnv::RaftLog(const Args& args) {
  if (auto s = args.Expect(1, 1, {}); !s.ok()) return s;
  auto id = args.Uint(0);
  if (!id.ok()) return id.status();
  auto node = Find(*id);
  if (!node.ok()) return node.status();
  // What the node's disk holds: the snapshot point, then the stored entries.
  const MemoryStorage& storage = (*node)->storage->base();
  const uint64_t first = storage.FirstIndex();
  const uint64_t last = storage.LastIndex();
  std::string out;
  if (first > 1) {
    auto term = storage.Term(first - 1);
    absl::StrAppend(&out, "snapshot at ", first - 1, "/", term.ok() ? *term : 0,
                    "\n");
  }
  if (last < first) return out.empty() ? std::string("log is empty\n") : out;
  auto entries = storage.Entries(first, last + 1, UINT64_MAX);
  if (!entries.ok()) return entries.status();
  for (const Entry& e : *entries) absl::StrAppend(&out, DescribeEntry(e), "\n");
  return out;
}

absl::StatusOr<std::string> InteractionEnv::Messages(const Args& args) {
  if (auto s = args.Expect(0, 0, {}); !s.ok()) return s;
  if (in_flight_.empty()) return std::string("(no messages)\n");
  std::string out;
  for (const Message& m : in_flight_) {
    absl::StrAppend(&out, DescribeMessage(m), "\n");
  }
  return out;
}

absl::StatusOr<std::string> InteractionEnv::Applied(const Args& args) {
  if (auto s = args.Expect(0, kNodesMax, {}); !s.ok()) return s;
  auto ids = Ids(args, 0);
  if (!ids.ok()) return ids.status();
  std::string out;
  for (uint64_t id : *ids) {
    const Node& node = nodes_.at(id);
    absl::StrAppend(&out, id, ": applied ", node.applied_index, " [",
                    absl::StrJoin(node.applied_data, " "), "]\n");
  }
  return out;
}

absl::StatusOr<std::string> InteractionEnv::Counters(const Args& args) {
  if (auto s = args.Expect(1, 1, {}); !s.ok()) return s;
  auto id = args.Uint(0);
  if (!id.ok()) return id.status();
  auto node = FindRunning(*id);
  if (!node.ok()) return node.status();
  const raft::Counters& c = (*node)->raw->raft().counters();
  return absl::StrCat(*id, ": unspecified_type=", c.unspecified_type,
                      " bad_address=", c.bad_address,
                      " unknown_peer=", c.unknown_peer,
                      " stale_term=", c.stale_term,
                      " out_of_range_index=", c.out_of_range_index,
                      " stale_snapshot=", c.stale_snapshot,
                      " unexpected_type=", c.unexpected_type,
                      " vote_ignored_in_lease=", c.vote_ignored_in_lease, "\n");
}

absl::StatusOr<std::string> InteractionEnv::ReportUnreachable(
    const Args& args) {
  if (auto s = args.Expect(2, 2, {}); !s.ok()) return s;
  auto id = args.Uint(0);
  auto peer = args.Uint(1);
  if (!id.ok()) return id.status();
  if (!peer.ok()) return peer.status();
  auto node = FindRunning(*id);
  if (!node.ok()) return node.status();
  (*node)->raw->ReportUnreachable(*peer);
  return std::string();
}

absl::StatusOr<std::string> InteractionEnv::StepRaw(const Args& args) {
  // step ID type=MsgApp from=F [term=T log-term=L index=I commit=C
  // reject=true entries=N]: hands node ID a message as if from the network,
  // to show how bad or stale input is refused (and counted).
  if (auto s = args.Expect(1, 1,
                           {"type", "from", "term", "log-term", "index",
                            "commit", "reject", "entries", "entry-term"});
      !s.ok()) {
    return s;
  }
  auto id = args.Uint(0);
  if (!id.ok()) return id.status();
  auto node = FindRunning(*id);
  if (!node.ok()) return node.status();
  Message m;
  m.set_to(*id);
  const std::string type = args.StringOption("type", "");
  for (int t = 0; t <= MESSAGE_TYPE_READ_INDEX_RESPONSE; ++t) {
    if (MessageTypeName(static_cast<MessageType>(t)) == type) {
      m.set_type(static_cast<MessageType>(t));
    }
  }
  if (type == "MsgUnspecified")
    m.set_type(MESSAGE_TYPE_UNSPECIFIED);
  else if (m.type() == MESSAGE_TYPE_UNSPECIFIED) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown type '", type, "'"));
  }
  auto from = args.UintOption("from", 0);
  auto term = args.UintOption("term", 0);
  auto log_term = args.UintOption("log-term", 0);
  auto index = args.UintOption("index", 0);
  auto commit = args.UintOption("commit", 0);
  auto reject = args.BoolOption("reject", false);
  auto entries = args.UintOption("entries", 0);
  auto entry_term = args.UintOption("entry-term", 0);
  for (const absl::Status& s :
       {from.status(), term.status(), log_term.status(), index.status(),
        commit.status(), reject.status(), entries.status(),
        entry_term.status()}) {
    if (!s.ok()) return s;
  }
  if (*entries > 1000) {
    return absl::InvalidArgumentError("at most 1000 entries");
  }
  m.set_from(*from);
  m.set_term(*term);
  m.set_log_term(*log_term);
  m.set_index(*index);
  m.set_commit(*commit);
  m.set_reject(*reject);
  for (uint64_t i = 1; i <= *entries; ++i) {
    Entry* e = m.add_entries();
    e->set_type(ENTRY_TYPE_NORMAL);
    e->set_index(*index + i);
    e->set_term(*entry_term == 0 ? *term : *entry_term);
  }
  std::string out = absl::StrCat(DescribeMessage(m), "\n");
  const absl::Status s = (*node)->raw->Step(m);
  if (!s.ok()) absl::StrAppend(&out, "  INFO ignored: ", s.message(), "\n");
  return out;
}

absl::StatusOr<std::string> RunScript(absl::string_view script, uint64_t seed) {
  auto lines = ParseScript(script);
  if (!lines.ok()) return lines.status();
  InteractionEnv env(seed);
  std::string transcript;
  for (const ScriptLine& line : *lines) {
    if (!line.is_command()) {
      absl::StrAppend(&transcript, line.text, "\n");
      continue;
    }
    absl::StrAppend(&transcript, "> ", line.text, "\n", env.Handle(line));
  }
  return transcript;
}

}  // namespace raftstore::raft::interaction
