#include "sim/node.h"

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "core/kv/command_codec.h"

namespace raftstore::sim {
namespace {

// Messages and completions a paused process may have waiting; past it,
// further messages are dropped (a full socket buffer).
constexpr size_t kDeferredMax = 4096;

bool MaySendBeforeWrite(const raft::Message& m) {
  // Duty 1's exception (thesis 10.2.1): a leader's appends, snapshots and
  // heartbeats may leave before its own write.
  return m.type() == raft::MESSAGE_TYPE_APPEND ||
         m.type() == raft::MESSAGE_TYPE_SNAPSHOT ||
         m.type() == raft::MESSAGE_TYPE_HEARTBEAT;
}

uint64_t DrawTickInterval(const SimOptions& o, Rng& rng) {
  if (o.tick_drift_ppm_max == 0) return o.tick_us;
  const uint64_t drift =
      rng.Range(0, 2 * static_cast<uint64_t>(o.tick_drift_ppm_max));
  // tick_us * (1 + (drift - max) / 1e6), in integers.
  const uint64_t scaled =
      o.tick_us * (kPpm - o.tick_drift_ppm_max + drift) / kPpm;
  return scaled == 0 ? 1 : scaled;
}

// Sessions may be evicted once idle for three client operation timeouts:
// by then the client has given up on every write of the session (an
// eviction any sooner could let a late retry apply twice; see
// docs/kv-state-machine.md). The table is sized for the clients' session
// churn (a client opens a new session after every unknown outcome).
kv::KvConfig SimKvConfig(const SimOptions& o) {
  kv::KvConfig config;
  config.sessions_max = 256;
  config.session_evict_idle_ticks_min =
      3 * (o.workload.op_timeout_us / o.tick_us + 1);
  config.session_ttl_ticks = 10 * config.session_evict_idle_ticks_min;
  return config;
}

// Small segments, so that rotation and its checkpoints run in every seed;
// every synced batch read back, so a garbled write fails the node before it
// acknowledges anything (see docs/wal-format.md).
storage::WalOptions SimWalOptions() {
  storage::WalOptions options;
  options.segment_bytes_max = uint64_t{64} * 1024;
  options.verify_writes = true;
  return options;
}

}  // namespace

SimNode::SimNode(uint64_t id, const SimOptions* options, EventQueue* events,
                 RaftChecker* checker, Trace* trace, Rng rng, SendFn send,
                 UpFn on_up)
    : id_(id),
      options_(options),
      events_(events),
      checker_(checker),
      trace_(trace),
      rng_(rng),
      send_(std::move(send)),
      on_up_(std::move(on_up)),
      disk_(options->disk, rng_.Fork()),
      tick_interval_us_(DrawTickInterval(*options, rng_)) {
  RS_CHECK_GE(id_, 1U);
  if (static_cast<int>(id_) <= options_->corrupt_nodes) {
    disk_.SetFaults(options_->corruption);
  }
}

raft::Config SimNode::MakeConfig(uint64_t applied) const {
  raft::Config config;
  config.id = id_;
  config.storage = storage_.get();
  config.applied = applied;
  config.election_tick = options_->election_tick;
  config.heartbeat_tick = options_->heartbeat_tick;
  config.pre_vote = options_->pre_vote;
  config.check_quorum = options_->check_quorum;
  config.read_only_option = options_->lease_reads
                                ? raft::ReadOnlyOption::kLeaseBased
                                : raft::ReadOnlyOption::kSafe;
  config.max_size_per_msg_bytes = options_->max_size_per_msg_bytes;
  config.max_inflight_msgs = options_->max_inflight_msgs;
#ifdef RAFTSTORE_INJECTED_BUGS
  config.injected_bug = injected_bug_;
#endif
  return config;
}

bool SimNode::Start() {
  if (up() || disk_lost_) return up();
  absl::StatusOr<std::unique_ptr<storage::Wal>> wal =
      storage::Wal::Open(&disk_, SimWalOptions());
  if (!wal.ok()) {
    trace_->Line(
        events_->now_us(),
        absl::StrCat("n", id_, " cannot recover: ", wal.status().ToString()));
    trace_->Hash({0x5747, id_, static_cast<uint64_t>(wal.status().code())});
    if (absl::IsDataLoss(wal.status())) {
      // Detected corruption: the replica is gone for good (an operator
      // would rebuild it); its promises go with it.
      disk_lost_ = true;
      checker_->OnDiskLost(id_);
    }
    return false;
  }
  auto recovered = (*wal)->TakeRecovered();
  storage::WalGroupState group;
  if (auto it = recovered.find(kGroupId); it != recovered.end()) {
    group = std::move(it->second);
  }
  storage_ = std::make_unique<raft::MemoryStorage>();
  // The group's membership is static in this simulation: every storage
  // starts from the index-0 snapshot naming the voters (bootstrapping), or
  // from the snapshot the WAL recovered.
  raft::Snapshot base;
  *base.mutable_metadata() = group.snapshot;
  if (base.metadata().conf_state().voters_size() == 0) {
    for (int i = 1; i <= options_->node_count; ++i) {
      base.mutable_metadata()->mutable_conf_state()->add_voters(i);
    }
  }
  RS_CHECK(storage_->ApplySnapshot(base).ok());
  const uint64_t snapshot_index = base.metadata().index();
  const uint64_t snapshot_term = base.metadata().term();
  checker_->set_now_us(events_->now_us());
  checker_->OnRecovered(id_, snapshot_index, snapshot_term, group.entries,
                        group.hard_state, snapshot_index);
  if (!group.entries.empty()) {
    RS_CHECK(storage_->Append(std::move(group.entries)).ok());
  }
  storage_->SetHardState(group.hard_state);
  kv_ = std::make_unique<kv::KvStateMachine>(SimKvConfig(*options_),
                                             snapshot_index);
  wal_ = *std::move(wal);
  raft_rng_ = std::make_unique<Rng>(rng_.Fork());
  raw_ = std::make_unique<raft::RawNode>(MakeConfig(snapshot_index),
                                         raft_rng_.get());
  ++incarnation_;
  ++stats_.restarts;
  ticks_ = 0;
  paused_until_us_ = 0;
  write_in_flight_ = false;
  was_leader_ = false;
  if (trace_->keeps_text()) {
    const storage::WalStats ws = wal_->stats();
    trace_->Line(events_->now_us(),
                 absl::StrCat("n", id_, " wal: ", ws.records_replayed,
                              " records replayed, ", ws.torn_bytes_dropped,
                              " torn bytes dropped, ", ws.segment_bytes,
                              " bytes; disk: ", disk_.stats().ToString()));
  }
  trace_->Line(events_->now_us(),
               absl::StrCat("n", id_, " starts: term ", group.hard_state.term(),
                            " commit ", group.hard_state.commit(), " last ",
                            storage_->LastIndex()));
  trace_->Hash({0x57a7, id_, group.hard_state.term(), storage_->LastIndex()});
  on_up_(true);
  ScheduleTick();
  return true;
}

void SimNode::Crash() {
  if (!up()) return;
  ++stats_.crashes;
  ++incarnation_;
  raw_.reset();
  kv_.reset();
  storage_.reset();
  wal_.reset();
  raft_rng_.reset();
  deferred_.clear();
  pending_writes_.clear();
  pending_reads_.clear();
  write_in_flight_ = false;
  write_ready_ = raft::Ready();
  write_batch_.reset();
  write_held_.clear();
  disk_.Crash();
  trace_->Line(events_->now_us(), absl::StrCat("n", id_, " crashes"));
  trace_->Hash({0xc7a5, id_});
  on_up_(false);
}

void SimNode::FailStop(const std::string& why) {
  ++stats_.fail_stops;
  trace_->Line(events_->now_us(), absl::StrCat("n", id_, " fail-stops: ", why));
  Crash();
  // A supervisor restarts the process after a while, as systemd would.
  const uint64_t delay =
      options_->tick_us * static_cast<uint64_t>(options_->election_tick);
  events_->ScheduleAfter(delay, [this] { Start(); });
}

void SimNode::Pause(uint64_t until_us) {
  if (!up() || until_us <= events_->now_us()) return;
  ++stats_.pauses;
  const bool was_paused = paused();
  if (until_us > paused_until_us_) paused_until_us_ = until_us;
  trace_->Line(events_->now_us(),
               absl::StrCat("n", id_, " pauses until ", paused_until_us_));
  trace_->Hash({0xa05e, id_, paused_until_us_});
  if (was_paused) return;
  const uint64_t incarnation = incarnation_;
  events_->ScheduleAt(paused_until_us_,
                      [this, incarnation] { OnResume(incarnation); });
}

void SimNode::Resume() {
  if (!paused()) return;
  paused_until_us_ = events_->now_us();
  const uint64_t incarnation = incarnation_;
  events_->ScheduleAfter(0, [this, incarnation] { OnResume(incarnation); });
}

void SimNode::OnResume(uint64_t incarnation) {
  if (incarnation != incarnation_) return;
  if (paused()) {  // a later pause extended the wait
    events_->ScheduleAt(paused_until_us_,
                        [this, incarnation] { OnResume(incarnation); });
    return;
  }
  // Run what waited, in order; an action may pause or crash the node.
  while (!deferred_.empty() && !paused() && incarnation == incarnation_) {
    auto action = std::move(deferred_.front());
    deferred_.pop_front();
    action();
  }
}

void SimNode::WhenRunning(uint64_t incarnation,
                          absl::AnyInvocable<void()> action) {
  if (incarnation != incarnation_ || !up()) return;
  if (!paused() && deferred_.empty()) {
    action();
    return;
  }
  if (deferred_.size() >= kDeferredMax) return;  // dropped, as by the kernel
  deferred_.push_back(std::move(action));
}

void SimNode::ScheduleTick() {
  const uint64_t incarnation = incarnation_;
  events_->ScheduleAfter(tick_interval_us_,
                         [this, incarnation] { OnTick(incarnation); });
}

void SimNode::OnTick(uint64_t incarnation) {
  if (incarnation != incarnation_ || !up()) return;
  if (paused()) {
    // Ticks missed while stopped are not made up: the process's timer
    // fires once on resume, as a coarse timer would.
    events_->ScheduleAt(paused_until_us_,
                        [this, incarnation] { OnTick(incarnation); });
    return;
  }
  ++ticks_;
  if (trace_->keeps_text() && ticks_ % 50 == 0) {
    const raft::Raft& r = raw_->raft();
    trace_->Line(
        events_->now_us(),
        absl::StrCat(
            "n", id_, " status: ", std::string(raft::RoleName(r.role())),
            " term ", r.term(), " leader ", r.leader(), " commit ",
            r.log().committed(), " last ", r.log().LastIndex(), " applied ",
            kv_->applied_index(), " write_in_flight ", write_in_flight_,
            " deferred ", deferred_.size(), " proposals ",
            pending_writes_.size(), " reads ", pending_reads_.size()));
  }
  raw_->Tick();
  if (ticks_ % 16 == 0) PurgeStaleReads();
  HandleReadies();
  ScheduleTick();
}

bool SimNode::IsLeader() const {
  return up() && raw_->raft().role() == raft::Role::kLeader;
}

uint64_t SimNode::term() const { return up() ? raw_->raft().term() : 0; }

uint64_t SimNode::commit_index() const {
  return up() ? raw_->raft().log().committed() : 0;
}

bool SimNode::idle() const {
  return up() && !paused() && !write_in_flight_ && deferred_.empty() &&
         !raw_->HasReady();
}

void SimNode::HandleReadies() {
  while (up() && !paused() && !write_in_flight_ && raw_->HasReady()) {
    raft::Ready rd = raw_->GetReady();
    checker_->set_now_us(events_->now_us());
    trace_->Hash({0x4ead, id_, rd.entries.size(), rd.committed_entries.size(),
                  rd.messages.size(),
                  rd.hard_state.has_value() ? rd.hard_state->term() : 0,
                  rd.hard_state.has_value() ? rd.hard_state->commit() : 0});
    RS_CHECK(!rd.snapshot.has_value())
        << "n" << id_ << ": snapshots are not used by this simulation yet";
    std::vector<uint32_t> held;
    bool send_all_early = false;
#ifdef RAFTSTORE_INJECTED_BUGS
    send_all_early = injected_bug_ == raft::InjectedBug::kAckBeforePersist;
#endif
    MessageBatch batch;
    if (!rd.messages.empty()) {
      batch =
          std::make_shared<std::vector<raft::Message>>(std::move(rd.messages));
    }
    rd.messages.clear();
    for (size_t i = 0; batch != nullptr && i < batch->size(); ++i) {
      if (send_all_early || MaySendBeforeWrite((*batch)[i])) {
        SendRaft(batch, i);
      } else {
        held.push_back(static_cast<uint32_t>(i));
      }
    }
    const bool write = !rd.entries.empty() || rd.hard_state.has_value();
    if (!rd.entries.empty()) {
      absl::StatusOr<uint64_t> lsn = wal_->AppendEntries(kGroupId, rd.entries);
      if (!lsn.ok()) return FailStop(lsn.status().ToString());
      checker_->OnWritten(id_, rd.entries);
    }
    if (rd.hard_state.has_value()) {
      absl::StatusOr<uint64_t> lsn =
          wal_->SaveHardState(kGroupId, *rd.hard_state);
      if (!lsn.ok()) return FailStop(lsn.status().ToString());
      checker_->OnHardStateWritten(id_, *rd.hard_state);
    }
    if (rd.soft_state.has_value()) OnSoftState(*rd.soft_state);
    for (const raft::ReadState& rs : rd.read_states) {
      auto it = pending_reads_.find(rs.context);
      if (it == pending_reads_.end()) continue;  // purged: the client left
      it->second.read_index = rs.index;
      it->second.ready = true;
    }
    // Duty 3: committed entries are durable on a quorum; apply now.
    Apply(rd.committed_entries);
    if (!write) {
      for (const uint32_t i : held) SendRaft(batch, i);
      ServeReads();
      raw_->Advance(rd);
      continue;
    }
    write_in_flight_ = true;
    uint64_t latency_us = disk_.SampleWriteLatencyUs();
    if (rd.must_sync) latency_us += disk_.SampleSyncLatencyUs();
    if (slow_disk_until_us_ > events_->now_us()) latency_us *= kSlowDiskFactor;
    const uint64_t incarnation = incarnation_;
    write_ready_ = std::move(rd);
    write_batch_ = std::move(batch);
    write_held_ = std::move(held);
    events_->ScheduleAfter(latency_us, [this, incarnation] {
      WhenRunning(incarnation,
                  [this, incarnation] { FinishWrite(incarnation); });
    });
    return;
  }
}

void SimNode::FinishWrite(uint64_t incarnation) {
  if (incarnation != incarnation_ || !up()) return;
  RS_CHECK(write_in_flight_);
  raft::Ready rd = std::move(write_ready_);
  const MessageBatch batch = std::move(write_batch_);
  const std::vector<uint32_t> held = std::move(write_held_);
  write_ready_ = raft::Ready();
  write_batch_.reset();
  write_held_.clear();
  checker_->set_now_us(events_->now_us());
  if (rd.must_sync || !rd.entries.empty()) {
    const absl::Status status = wal_->Sync();
    ++stats_.syncs;
    if (!status.ok()) return FailStop(status.ToString());
    checker_->OnSynced(id_);
    if (trace_->keeps_text()) {
      trace_->Line(
          events_->now_us(),
          absl::StrCat(
              "n", id_, " synced lsn ", wal_->durable_lsn(),
              rd.entries.empty()
                  ? std::string()
                  : absl::StrCat(" entries ", rd.entries.front().index(), "..",
                                 rd.entries.back().index(), " term ",
                                 rd.entries.back().term())));
    }
  }
  if (!rd.entries.empty()) {
    RS_CHECK(storage_->Append(std::move(rd.entries)).ok());
  }
  if (rd.hard_state.has_value()) storage_->SetHardState(*rd.hard_state);
  for (const uint32_t i : held) SendRaft(batch, i);
  ServeReads();
  write_in_flight_ = false;
  raw_->Advance(rd);
  HandleReadies();
}

void SimNode::OnSoftState(const raft::SoftState& soft) {
  const bool leader = soft.role == raft::Role::kLeader;
  if (leader && !was_leader_) {
    const raft::RaftLog& log = raw_->raft().log();
    checker_->OnLeader(id_, raw_->raft().term(), log.FirstIndex(),
                       log.LastIndex(), [&log](uint64_t index) -> uint64_t {
                         absl::StatusOr<uint64_t> term = log.Term(index);
                         return term.ok() ? *term : 0;
                       });
    trace_->Line(events_->now_us(),
                 absl::StrCat("n", id_, " leads term ", raw_->raft().term()));
  }
  if (!leader && was_leader_) {
    // Reads registered with this leader and not yet confirmed are dropped
    // by raft when it steps down; answer them so clients retry elsewhere.
    kv::Error error;
    error.mutable_not_leader()->mutable_leader()->set_id(soft.leader);
    for (auto it = pending_reads_.begin(); it != pending_reads_.end();) {
      if (it->second.ready) {
        ++it;
        continue;
      }
      ReplyError(it->second.endpoint, it->second.request, error);
      it = pending_reads_.erase(it);
    }
  }
  was_leader_ = leader;
}

void SimNode::Apply(std::vector<raft::Entry>& entries) {
  for (raft::Entry& entry : entries) {
    if (!up()) return;
    ApplyOne(entry);
  }
}

void SimNode::ApplyOne(const raft::Entry& entry) {
  checker_->OnApplied(id_, entry, raw_->raft().term());
  command::CommandResult result;
  if (entry.type() != raft::ENTRY_TYPE_NORMAL || entry.data().empty()) {
    kv_->ApplyEmpty(entry.index());
  } else {
    absl::StatusOr<command::CommandResult> applied =
        kv_->ApplyEntry(entry.index(), entry.data());
    if (!applied.ok()) {
      checker_->Report(
          "apply", absl::StrCat("n", id_, " cannot apply index ", entry.index(),
                                ": ", applied.status().ToString()));
      return FailStop("undecodable committed entry");
    }
    result = *std::move(applied);
  }
  auto it = pending_writes_.begin();
  while (it != pending_writes_.end() && it->first < entry.index()) {
    it = pending_writes_.erase(it);  // cannot happen; keep the map bounded
  }
  if (it == pending_writes_.end() || it->first != entry.index()) return;
  const PendingWrite pending = it->second;
  pending_writes_.erase(it);
  if (pending.term == entry.term()) {
    ReplyResult(pending, result);
    return;
  }
  // Another term's entry took the index: this attempt never applies.
  kv::Error error;
  error.set_message("proposal lost to a leader change");
  error.mutable_not_leader()->mutable_leader()->set_id(raw_->raft().leader());
  kv::KvRequest request;
  request.set_request_id(pending.request_id);
  switch (pending.kind) {
    case kv::KvRequest::kPut:
      request.mutable_put();
      break;
    case kv::KvRequest::kDelete:
      request.mutable_delete_();
      break;
    default:
      request.mutable_compare_and_swap();
      break;
  }
  ReplyError(pending.endpoint, request, error);
}

void SimNode::SendRaft(const MessageBatch& batch, size_t index) {
  const raft::Message& message = (*batch)[index];
  trace_->Hash({0x5e7d, id_, message.to(),
                static_cast<uint64_t>(message.type()), message.term(),
                message.index()});
  const int to = static_cast<int>(message.to()) - 1;
  // Passed as an object: no fault in the network touches a message's bytes,
  // so encoding and decoding it would only cost time. The size is the
  // encoding's, for the network's caps and bandwidth. The payload shares
  // ownership of the whole batch (shared_ptr's aliasing constructor).
  const uint64_t bytes = message.ByteSizeLong();
  send_(to, Payload::Object<raft::Message>(
                std::shared_ptr<const raft::Message>(batch, &message), bytes));
}

void SimNode::Receive(int from, Payload&& payload) {
  if (!up()) return;
  if (paused() || !deferred_.empty()) {
    // Waits, in order, behind what the pause held back.
    const uint64_t incarnation = incarnation_;
    WhenRunning(incarnation, [this, from, payload = std::move(payload)] {
      Handle(from, payload);
    });
    return;
  }
  Handle(from, payload);
}

void SimNode::Handle(int from, const Payload& payload) {
  checker_->set_now_us(events_->now_us());
  if (from < options_->node_count) {
    if (const raft::Message* message = payload.object<raft::Message>()) {
      OnRaftMessage(from, *message);
    } else if (raft::Message decoded;
               !payload.has_object() &&
               decoded.ParseFromString(payload.bytes())) {
      OnRaftMessage(from, decoded);
    } else {
      ++stats_.garbage_messages;  // undecodable bytes, or another type
    }
  } else if (const kv::KvRequest* request = payload.object<kv::KvRequest>()) {
    OnClientRequest(from, *request);
  } else if (kv::KvRequest decoded; !payload.has_object() &&
                                    decoded.ParseFromString(payload.bytes())) {
    OnClientRequest(from, decoded);
  } else {
    ++stats_.garbage_messages;
  }
  HandleReadies();
}

void SimNode::OnRaftMessage(int from, const raft::Message& message) {
  if (message.from() != static_cast<uint64_t>(from) + 1 ||
      message.to() != id_) {
    ++stats_.garbage_messages;
    return;
  }
  trace_->Hash({0x7ec5, id_, message.from(),
                static_cast<uint64_t>(message.type()), message.term()});
  const absl::Status status = raw_->Step(message);
  if (!status.ok()) ++stats_.garbage_messages;
}

void SimNode::OnClientRequest(int from, const kv::KvRequest& request) {
  switch (request.request_case()) {
    case kv::KvRequest::kPut:
    case kv::KvRequest::kDelete:
    case kv::KvRequest::kCompareAndSwap:
      ProposeWrite(from, request);
      return;
    case kv::KvRequest::kGet:
      StartRead(from, request);
      return;
    default: {
      kv::Error error;
      error.set_message("unsupported request");
      ReplyError(from, request, error);
      return;
    }
  }
}

void SimNode::ProposeWrite(int from, const kv::KvRequest& request) {
  kv::Error error;
  if (!IsLeader()) {
    error.mutable_not_leader()->mutable_leader()->set_id(raw_->raft().leader());
    return ReplyError(from, request, error);
  }
  if (pending_writes_.size() >= options_->pending_proposals_max) {
    error.mutable_server_busy()->set_reason("too many proposals in flight");
    return ReplyError(from, request, error);
  }
  command::Command command;
  command.set_format_version(kv::kCommandFormatVersion);
  const kv::RequestHeader* header = nullptr;
  switch (request.request_case()) {
    case kv::KvRequest::kPut:
      header = &request.put().header();
      command.mutable_put()->set_key(request.put().key());
      command.mutable_put()->set_value(request.put().value());
      break;
    case kv::KvRequest::kDelete:
      header = &request.delete_().header();
      command.mutable_delete_()->set_key(request.delete_().key());
      break;
    default: {
      const kv::CompareAndSwapRequest& cas = request.compare_and_swap();
      header = &cas.header();
      command::CompareAndSwapOp* op = command.mutable_compare_and_swap();
      op->set_key(cas.key());
      op->set_expected_value(cas.expected_value());
      op->set_expect_absent(cas.expect_absent());
      op->set_new_value(cas.new_value());
      break;
    }
  }
  command.set_client_id(header->client_id());
  command.set_sequence(header->sequence());
  // One write in flight per client: its own sequence is its first
  // incomplete one.
  command.set_first_incomplete_sequence(header->sequence());
  command.set_proposed_at_ticks(std::max(ticks_, kv_->clock_ticks()));
  const raft::ProposeResult result = raw_->Propose(kv::EncodeCommand(command));
  switch (result) {
    case raft::ProposeResult::kOk: {
      ++stats_.proposals;
      const uint64_t index = raw_->raft().log().LastIndex();
      pending_writes_[index] =
          PendingWrite{raw_->raft().term(), from, request.request_id(),
                       request.request_case()};
      return;
    }
    case raft::ProposeResult::kNotLeader:
      error.mutable_not_leader()->mutable_leader()->set_id(
          raw_->raft().leader());
      return ReplyError(from, request, error);
    case raft::ProposeResult::kTransferInProgress:
    case raft::ProposeResult::kTooLarge:
      error.mutable_server_busy()->set_reason(
          std::string(raft::ProposeResultName(result)));
      return ReplyError(from, request, error);
    default:
      error.set_message(std::string(raft::ProposeResultName(result)));
      return ReplyError(from, request, error);
  }
}

void SimNode::StartRead(int from, const kv::KvRequest& request) {
  kv::Error error;
#ifdef RAFTSTORE_INJECTED_BUGS
  if (injected_bug_ == raft::InjectedBug::kStaleLeaderRead && IsLeader()) {
    const std::string context = absl::StrCat("stale", ++next_read_);
    pending_reads_[context] = PendingRead{from, request, events_->now_us(),
                                          kv_->applied_index(), true};
    ServeReads();
    return;
  }
#endif
  if (pending_reads_.size() >= options_->pending_proposals_max) {
    error.mutable_server_busy()->set_reason("too many reads in flight");
    return ReplyError(from, request, error);
  }
  const std::string context =
      absl::StrCat("r", id_, ".", incarnation_, ".", ++next_read_);
  switch (raw_->ReadIndex(context)) {
    case raft::ReadIndexResult::kOk:
      pending_reads_[context] =
          PendingRead{from, request, events_->now_us(), 0, false};
      return;
    case raft::ReadIndexResult::kNoLeader:
      error.mutable_not_leader();
      return ReplyError(from, request, error);
    case raft::ReadIndexResult::kBusy:
      error.mutable_server_busy()->set_reason("raft read queue full");
      return ReplyError(from, request, error);
    case raft::ReadIndexResult::kInvalid:
      RS_CHECK(false) << "read context is never empty";
  }
}

void SimNode::ServeReads() {
  for (auto it = pending_reads_.begin(); it != pending_reads_.end();) {
    PendingRead& read = it->second;
    if (!read.ready || read.read_index > kv_->applied_index()) {
      ++it;
      continue;
    }
    kv::KvResponse response;
    response.set_request_id(read.request.request_id());
    const std::optional<std::string> value = kv_->Get(read.request.get().key());
    kv::GetResponse* get = response.mutable_get();
    get->set_found(value.has_value());
    if (value.has_value()) get->set_value(*value);
    ++stats_.reads_served;
    Reply(read.endpoint, std::move(response));
    it = pending_reads_.erase(it);
  }
}

void SimNode::PurgeStaleReads() {
  // A read forwarded to a leader that then vanished never gets a
  // ReadState; once its client has surely given up, forget it.
  const uint64_t horizon = 2 * options_->workload.attempt_timeout_us;
  for (auto it = pending_reads_.begin(); it != pending_reads_.end();) {
    if (!it->second.ready &&
        it->second.since_us + horizon < events_->now_us()) {
      it = pending_reads_.erase(it);
    } else {
      ++it;
    }
  }
}

void SimNode::Reply(int endpoint, kv::KvResponse response) {
  trace_->Hash(
      {0x4e91, id_, static_cast<uint64_t>(endpoint), response.request_id()});
  auto shared = std::make_shared<kv::KvResponse>(std::move(response));
  const uint64_t bytes = shared->ByteSizeLong();
  send_(endpoint, Payload::Object<kv::KvResponse>(std::move(shared), bytes));
}

void SimNode::ReplyError(int endpoint, const kv::KvRequest& request,
                         kv::Error error) {
  kv::KvResponse response;
  response.set_request_id(request.request_id());
  kv::ResponseHeader* header = nullptr;
  switch (request.request_case()) {
    case kv::KvRequest::kGet:
      header = response.mutable_get()->mutable_header();
      break;
    case kv::KvRequest::kPut:
      header = response.mutable_put()->mutable_header();
      break;
    case kv::KvRequest::kDelete:
      header = response.mutable_delete_()->mutable_header();
      break;
    case kv::KvRequest::kCompareAndSwap:
      header = response.mutable_compare_and_swap()->mutable_header();
      break;
    case kv::KvRequest::kScan:
      header = response.mutable_scan()->mutable_header();
      break;
    default:
      return;  // nothing the client could match
  }
  if (trace_->keeps_text()) {
    trace_->Line(events_->now_us(), absl::StrCat("n", id_, " refuses request ",
                                                 request.request_id(), ": ",
                                                 error.ShortDebugString()));
  }
  *header->mutable_error() = std::move(error);
  Reply(endpoint, std::move(response));
}

void SimNode::ReplyResult(const PendingWrite& pending,
                          const command::CommandResult& result) {
  kv::KvRequest shape;
  shape.set_request_id(pending.request_id);
  kv::Error error;
  switch (result.outcome()) {
    case command::OUTCOME_APPLIED:
      break;
    case command::OUTCOME_SESSION_EXPIRED:
      error.mutable_session_expired();
      break;
    case command::OUTCOME_SESSION_TABLE_FULL:
    case command::OUTCOME_SESSION_RESPONSES_FULL:
      error.mutable_server_busy()->set_reason(result.message());
      break;
    default:
      error.set_message(result.message());
      break;
  }
  kv::KvResponse response;
  response.set_request_id(pending.request_id);
  switch (pending.kind) {
    case kv::KvRequest::kPut:
      shape.mutable_put();
      response.mutable_put();
      break;
    case kv::KvRequest::kDelete:
      shape.mutable_delete_();
      response.mutable_delete_()->set_existed(result.delete_().existed());
      break;
    default: {
      shape.mutable_compare_and_swap();
      kv::CompareAndSwapResponse* cas = response.mutable_compare_and_swap();
      cas->set_succeeded(result.compare_and_swap().succeeded());
      cas->set_previous_found(result.compare_and_swap().previous_found());
      cas->set_previous_value(result.compare_and_swap().previous_value());
      break;
    }
  }
  if (result.outcome() != command::OUTCOME_APPLIED) {
    return ReplyError(pending.endpoint, shape, std::move(error));
  }
  Reply(pending.endpoint, std::move(response));
}

}  // namespace raftstore::sim
