// Raft: proposals with their byte bound, membership changes (thesis §4.3),
// leadership transfer (thesis §3.10), ReadIndex and lease reads (thesis
// §6.4), and the driver's reports about snapshots and unreachable peers.
#include <algorithm>
#include <utility>

#include "core/base/check.h"
#include "core/raft/confchange/confchange.h"
#include "core/raft/raft.h"

namespace raftstore::raft {
namespace {

bool IsVoter(const TrackerConfig& config, uint64_t id) {
  return config.voters.incoming.contains(id) ||
         config.voters.outgoing.contains(id);
}

}  // namespace

ProposeResult Raft::Propose(std::vector<Entry> entries) {
  const StepGuard guard(this);
  if (role_ != Role::kLeader) return ProposeResult::kNotLeader;
  // Thesis §3.10: while handing over, new entries would only delay the
  // target's catching up.
  if (lead_transferee_ != 0) return ProposeResult::kTransferInProgress;
  for (Entry& entry : entries) {
    if (entry.type() == ENTRY_TYPE_UNSPECIFIED) {
      entry.set_type(ENTRY_TYPE_NORMAL);
    }
    if (entry.type() != ENTRY_TYPE_NORMAL) return ProposeResult::kInvalid;
  }
  if (entries.empty()) return ProposeResult::kOk;
  const uint64_t bytes = PayloadBytes(entries);
  // Backpressure: a leader whose followers cannot keep up must not buffer
  // without bound. Something is always admitted when nothing is pending,
  // so one large proposal cannot be refused forever.
  if (uncommitted_bytes_ > 0 &&
      uncommitted_bytes_ + bytes > config_.max_uncommitted_entries_bytes) {
    return ProposeResult::kTooLarge;
  }
  AppendAsLeader(std::move(entries));
  return ProposeResult::kOk;
}

ProposeResult Raft::ProposeConfChange(const ConfChange& change) {
  const StepGuard guard(this);
  if (role_ != Role::kLeader) return ProposeResult::kNotLeader;
  if (lead_transferee_ != 0) return ProposeResult::kTransferInProgress;
  // One change at a time (thesis §4.1): the next may be proposed only once
  // the previous one is applied, so each is checked against the
  // configuration it will actually change.
  if (pending_conf_index_ > log_.applied()) {
    return ProposeResult::kConfChangePending;
  }
  const bool joint = !tracker_.config().voters.outgoing.empty();
  const bool leave = confchange::LeaveJointRequested(change);
  if (joint != leave) return ProposeResult::kInvalid;
  if (!confchange::Changer(tracker_, log_.LastIndex()).Apply(change).ok()) {
    return ProposeResult::kInvalid;
  }
  Entry entry;
  entry.set_type(ENTRY_TYPE_CONF_CHANGE);
  entry.set_data(change.SerializeAsString());
  const uint64_t bytes = entry.data().size();
  if (uncommitted_bytes_ > 0 &&
      uncommitted_bytes_ + bytes > config_.max_uncommitted_entries_bytes) {
    return ProposeResult::kTooLarge;
  }
  std::vector<Entry> entries;
  entries.push_back(std::move(entry));
  AppendAsLeader(std::move(entries));
  pending_conf_index_ = log_.LastIndex();
  return ProposeResult::kOk;
}

absl::StatusOr<ConfState> Raft::ApplyConfChange(const ConfChange& change) {
  const StepGuard guard(this);
  absl::StatusOr<confchange::ConfigAndProgress> result =
      confchange::Changer(tracker_, log_.LastIndex()).Apply(change);
  if (!result.ok()) return result.status();
  ApplyConfig(std::move(result->first), std::move(result->second));
  return tracker_.ToConfState();
}

void Raft::ApplyConfig(TrackerConfig config, ProgressMap progress) {
  tracker_.ApplyConfig(std::move(config), std::move(progress));
  if (role_ != Role::kLeader) return;
  if (!IsVoter(tracker_.config(), id_)) {
    // The leader was removed (or demoted), and the change is committed,
    // since only committed entries are applied (thesis §4.2.2). Tell the
    // followers the commit index, then step down; the others elect a new
    // leader after their election timeout.
    BroadcastAppend();
    BecomeFollower(term_, 0);
    return;
  }
  // Fewer voters may mean a smaller quorum that already holds more.
  if (MaybeCommit()) {
    OnCommitAdvanced();
  } else {
    for (const auto& [id, pr] : tracker_.progress()) {
      (void)pr;
      if (id != id_) SendAppends(id, false);
    }
  }
  if (lead_transferee_ != 0 && !IsVoter(tracker_.config(), lead_transferee_)) {
    AbortLeaderTransfer();
  }
  MaybeAutoLeave();
}

void Raft::MaybeAutoLeave() {
  const TrackerConfig& config = tracker_.config();
  if (role_ != Role::kLeader || !config.auto_leave ||
      config.voters.outgoing.empty() || pending_conf_index_ > log_.applied()) {
    return;
  }
  // The joint configuration is committed and applied: leave it (thesis
  // §4.3, second phase) with an empty ConfChange.
  ConfChange leave;
  leave.set_transition(CONF_CHANGE_TRANSITION_AUTO);
  Entry entry;
  entry.set_type(ENTRY_TYPE_CONF_CHANGE);
  entry.set_data(leave.SerializeAsString());
  std::vector<Entry> entries;
  entries.push_back(std::move(entry));
  AppendAsLeader(std::move(entries));
  pending_conf_index_ = log_.LastIndex();
}

TransferResult Raft::TransferLeader(uint64_t target) {
  const StepGuard guard(this);
  if (role_ != Role::kLeader) {
    // A follower may ask the leader to hand over to itself; the request
    // names the target in `from`.
    if (target != id_ || leader_ == 0) return TransferResult::kNotLeader;
    Message m;
    m.set_to(leader_);
    m.set_type(MESSAGE_TYPE_TRANSFER_LEADER);
    Send(std::move(m));
    return TransferResult::kOk;
  }
  if (target == id_) return TransferResult::kAlreadyLeader;
  const Progress* pr = tracker_.GetProgress(target);
  if (pr == nullptr || !IsVoter(tracker_.config(), target)) {
    return TransferResult::kInvalidTarget;
  }
  if (lead_transferee_ == target) return TransferResult::kOk;
  lead_transferee_ = target;
  // The transfer is abandoned if it has not completed within one election
  // timeout, counted from now.
  election_elapsed_ = 0;
  if (pr->match() == log_.LastIndex()) {
    SendTimeoutNow(target);
  } else {
    SendAppends(target, true);
  }
  return TransferResult::kOk;
}

void Raft::SendTimeoutNow(uint64_t to) {
  Message m;
  m.set_to(to);
  m.set_type(MESSAGE_TYPE_TIMEOUT_NOW);
  Send(std::move(m));
}

bool Raft::CommittedEntryInCurrentTerm() const {
  const absl::StatusOr<uint64_t> term = log_.Term(log_.committed());
  return term.ok() && *term == term_;
}

ReadIndexResult Raft::ReadIndex(std::string context) {
  const StepGuard guard(this);
  if (context.empty()) return ReadIndexResult::kInvalid;
  if (role_ == Role::kLeader) return HandleReadIndex(context, 0);
  if (leader_ == 0) return ReadIndexResult::kNoLeader;
  Message m;
  m.set_to(leader_);
  m.set_type(MESSAGE_TYPE_READ_INDEX);
  m.set_context(std::move(context));
  Send(std::move(m));
  return ReadIndexResult::kOk;
}

ReadIndexResult Raft::HandleReadIndex(const std::string& context,
                                      uint64_t from) {
  if (context.empty()) {
    ++counters_.unexpected_type;
    return ReadIndexResult::kInvalid;
  }
  if (!CommittedEntryInCurrentTerm()) {
    // Thesis §6.4 step 1: until an entry of our term is committed, our
    // commit index may lag the previous leader's; hold the read.
    if (pending_reads_.size() >= config_.pending_reads_max) {
      return ReadIndexResult::kBusy;
    }
    pending_reads_.push_back(PendingRead{context, from});
    return ReadIndexResult::kOk;
  }
  return StartReadIndex(context, from);
}

ReadIndexResult Raft::StartReadIndex(const std::string& context,
                                     uint64_t from) {
  const uint64_t index = log_.committed();
  // A transfer target campaigns past its peers' stickiness, so once a
  // transfer starts another leader may exist before our lease runs out:
  // confirm with a heartbeat round instead.
  const bool lease_usable =
      config_.read_only_option == ReadOnlyOption::kLeaseBased &&
      lead_transferee_ == 0;
  if (tracker_.IsSingleton() || lease_usable) {
    // Alone, we are the quorum; with leases, CheckQuorum guarantees no
    // other leader exists yet (thesis §6.4.1).
    AnswerRead(from, index, context);
    return ReadIndexResult::kOk;
  }
  switch (read_only_.AddRequest(index, context, from, id_)) {
    case AddReadResult::kFull:
      return ReadIndexResult::kBusy;
    case AddReadResult::kDuplicate:
      return ReadIndexResult::kOk;
    case AddReadResult::kAdded:
      BroadcastHeartbeat(context);
      return ReadIndexResult::kOk;
  }
  return ReadIndexResult::kOk;
}

void Raft::ReleasePendingReads() {
  if (pending_reads_.empty() || !CommittedEntryInCurrentTerm()) return;
  std::vector<PendingRead> reads;
  reads.swap(pending_reads_);
  for (const PendingRead& read : reads) StartReadIndex(read.context, read.from);
}

void Raft::AnswerRead(uint64_t from, uint64_t index,
                      const std::string& context) {
  if (from == 0 || from == id_) {
    read_states_.push_back(ReadState{index, context});
    return;
  }
  Message m;
  m.set_to(from);
  m.set_type(MESSAGE_TYPE_READ_INDEX_RESPONSE);
  m.set_index(index);
  m.set_context(context);
  Send(std::move(m));
}

void Raft::ReportSnapshot(uint64_t id, bool success) {
  const StepGuard guard(this);
  if (role_ != Role::kLeader) return;
  Progress* pr = tracker_.GetProgress(id);
  if (pr == nullptr || pr->state() != ProgressState::kSnapshot) return;
  // Either way, probe next; the follower's answer (or the next heartbeat
  // response) resumes sending.
  pr->BecomeProbe();
  if (!success) {
    // The snapshot never arrived: probe from what is known to match, not
    // from after the snapshot (BecomeProbe assumed it delivered).
    pr->MaybeDecrTo(pr->next() - 1, pr->match());
  }
}

void Raft::ReportUnreachable(uint64_t id) {
  const StepGuard guard(this);
  if (role_ != Role::kLeader) return;
  Progress* pr = tracker_.GetProgress(id);
  // Appends in flight were probably lost; stop pipelining into the void.
  if (pr != nullptr && pr->state() == ProgressState::kReplicate) {
    pr->BecomeProbe();
  }
}

}  // namespace raftstore::raft
