// Raft: construction, role transitions, message dispatch, ticks and the
// per-step invariants. Elections are in raft_election.cc, log replication in
// raft_replication.cc, membership/transfer/reads/proposals in raft_leader.cc.
#include "core/raft/raft.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "core/raft/confchange/restore.h"

namespace raftstore::raft {

absl::Status Config::Validate() const {
  auto bad = [](absl::string_view field, absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("Config.", field, ": ", why));
  };
  if (id == 0) return bad("id", "must not be 0");
  if (heartbeat_tick < 1) return bad("heartbeat_tick", "must be >= 1");
  if (election_tick <= heartbeat_tick) {
    return bad("election_tick", "must be greater than heartbeat_tick");
  }
  if (storage == nullptr) return bad("storage", "must not be null");
  if (max_size_per_msg_bytes == 0) {
    return bad("max_size_per_msg_bytes", "must be > 0");
  }
  if (max_inflight_msgs == 0) return bad("max_inflight_msgs", "must be > 0");
  if (max_inflight_bytes == 0) return bad("max_inflight_bytes", "must be > 0");
  if (max_uncommitted_entries_bytes == 0) {
    return bad("max_uncommitted_entries_bytes", "must be > 0");
  }
  if (pending_reads_max == 0) return bad("pending_reads_max", "must be > 0");
  if (max_committed_size_per_ready_bytes == 0) {
    return bad("max_committed_size_per_ready_bytes", "must be > 0");
  }
  if (read_only_option == ReadOnlyOption::kLeaseBased && !check_quorum) {
    return bad("read_only_option",
               "kLeaseBased requires check_quorum (thesis 6.4.1)");
  }
  return absl::OkStatus();
}

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kFollower:
      return "follower";
    case Role::kPreCandidate:
      return "pre-candidate";
    case Role::kCandidate:
      return "candidate";
    case Role::kLeader:
      return "leader";
  }
  return "?";
}

std::string_view ProposeResultName(ProposeResult result) {
  switch (result) {
    case ProposeResult::kOk:
      return "ok";
    case ProposeResult::kNotLeader:
      return "not-leader";
    case ProposeResult::kTransferInProgress:
      return "transfer-in-progress";
    case ProposeResult::kTooLarge:
      return "too-large";
    case ProposeResult::kConfChangePending:
      return "conf-change-pending";
    case ProposeResult::kInvalid:
      return "invalid";
  }
  return "?";
}

uint64_t PayloadBytes(std::span<const Entry> entries) {
  uint64_t bytes = 0;
  for (const Entry& entry : entries) bytes += entry.data().size();
  return bytes;
}

absl::Status Raft::CheckStartingState(const Config& config) {
  if (absl::Status status = config.Validate(); !status.ok()) return status;
  absl::StatusOr<Storage::InitialState> initial =
      config.storage->GetInitialState();
  if (!initial.ok()) return initial.status();
  const uint64_t commit = initial->hard_state.commit();
  if (commit > config.storage->LastIndex()) {
    return absl::DataLossError(absl::StrCat("persisted commit ", commit,
                                            " is beyond the last index ",
                                            config.storage->LastIndex()));
  }
  const uint64_t floor = config.storage->FirstIndex() - 1;
  if (config.applied > std::max(commit, floor)) {
    return absl::InvalidArgumentError(
        absl::StrCat("Config.applied: ", config.applied,
                     " is beyond the persisted commit index ", commit));
  }
  return confchange::ValidateConfState(initial->conf_state);
}

namespace {

// Returns the storage of a config that CheckStartingState() accepts, and
// fails an RS_CHECK otherwise (the constructor's contract).
const Storage* CheckedStorage(const Config& config) {
  const absl::Status status = Raft::CheckStartingState(config);
  RS_CHECK(status.ok()) << status;
  return config.storage;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Raft>> Raft::Create(const Config& config,
                                                   Rng* rng) {
  if (rng == nullptr) return absl::InvalidArgumentError("rng must not be null");
  if (absl::Status status = CheckStartingState(config); !status.ok()) {
    return status;
  }
  return std::make_unique<Raft>(config, rng);
}

Raft::Raft(const Config& config, Rng* rng)
    : config_(config),
      id_(config.id),
      rng_(rng),
      log_(CheckedStorage(config)),
      tracker_(config.max_inflight_msgs, config.max_inflight_bytes),
      read_only_(config.pending_reads_max) {
  RS_CHECK(rng_ != nullptr);
  absl::StatusOr<Storage::InitialState> initial =
      config.storage->GetInitialState();
  RS_CHECK(initial.ok()) << initial.status();
  absl::StatusOr<confchange::ConfigAndProgress> restored =
      confchange::Restore(initial->conf_state, log_.LastIndex(),
                          config.max_inflight_msgs, config.max_inflight_bytes);
  RS_CHECK(restored.ok()) << restored.status();
  tracker_.ApplyConfig(std::move(restored->first), std::move(restored->second));
  const HardState& hs = initial->hard_state;
  log_.CommitTo(hs.commit());
  if (config.applied > log_.applied()) log_.AppliedTo(config.applied);
  BecomeFollower(hs.term(), 0);
  // Reset() clears the vote only when the term changes; the persisted vote
  // of the persisted term survives a restart (paper Figure 2: votedFor).
  vote_ = hs.vote();
  CheckInvariants(term_, vote_, log_.committed());
}

HardState Raft::hard_state() const {
  HardState hs;
  hs.set_format_version(1);
  hs.set_term(term_);
  hs.set_vote(vote_);
  hs.set_commit(log_.committed());
  return hs;
}

bool Raft::Promotable() const {
  const Progress* pr = tracker_.GetProgress(id_);
  return pr != nullptr && !pr->is_learner() &&
         !log_.unstable().snapshot().has_value();
}

uint64_t Raft::DurableIndex() const {
  // A pending snapshot replaces the whole log; until it is durable nothing
  // is known to be on disk that matches the log as it now is.
  if (log_.unstable().snapshot().has_value()) return 0;
  return std::min(log_.unstable().offset() - 1, log_.LastIndex());
}

void Raft::ResetRandomizedElectionTimeout() {
  const uint64_t low = static_cast<uint64_t>(config_.election_tick);
  randomized_election_timeout_ =
      static_cast<int>(rng_->Range(low, 2 * low - 1));
}

void Raft::Reset(uint64_t term) {
  if (term_ != term) {
    term_ = term;
    vote_ = 0;
  }
  leader_ = 0;
  election_elapsed_ = 0;
  heartbeat_elapsed_ = 0;
  ResetRandomizedElectionTimeout();
  AbortLeaderTransfer();
  tracker_.ResetVotes();
  // Every follower's progress starts afresh: nextIndex just after our log,
  // matchIndex unknown (paper Figure 2, "reinitialized after election").
  const uint64_t last = log_.LastIndex();
  ProgressMap progress;
  for (const auto& [id, old] : tracker_.progress()) {
    Progress fresh(
        0, last + 1,
        Inflights(config_.max_inflight_msgs, config_.max_inflight_bytes));
    fresh.set_is_learner(old.is_learner());
    if (id == id_) {
      fresh.MaybeUpdate(DurableIndex());
      fresh.set_recent_active(true);
    }
    progress.emplace(id, std::move(fresh));
  }
  tracker_.ApplyConfig(tracker_.config(), std::move(progress));
  pending_conf_index_ = 0;
  uncommitted_bytes_ = 0;
  // A deposed leader must never answer the reads it holds; their clients
  // time out and retry elsewhere.
  read_only_.Reset();
  pending_reads_.clear();
}

void Raft::BecomeFollower(uint64_t term, uint64_t leader) {
  Reset(term);
  leader_ = leader;
  role_ = Role::kFollower;
}

void Raft::BecomePreCandidate() {
  RS_CHECK(role_ != Role::kLeader) << "a leader cannot become pre-candidate";
  // PreVote does not raise the term nor cast a vote (thesis §9.6): a node
  // that cannot win disrupts nobody.
  tracker_.ResetVotes();
  leader_ = 0;
  role_ = Role::kPreCandidate;
}

void Raft::BecomeCandidate() {
  RS_CHECK(role_ != Role::kLeader) << "a leader cannot become candidate";
  Reset(term_ + 1);
  vote_ = id_;
  role_ = Role::kCandidate;
}

void Raft::BecomeLeader() {
  RS_CHECK(role_ == Role::kCandidate) << "only a candidate becomes leader";
  Reset(term_);
  leader_ = id_;
  role_ = Role::kLeader;
  if (Progress* self = tracker_.GetProgress(id_)) self->BecomeReplicate();
  // Entries of earlier terms in our log may or may not be committed; no
  // conf change among them may be followed by another until all are
  // applied.
  pending_conf_index_ = log_.LastIndex();
  // Paper §5.4.2 / thesis §6.4: an empty entry of the new term lets the
  // leader commit everything before it and learn its commit index.
  Entry empty;
  empty.set_type(ENTRY_TYPE_NORMAL);
  std::vector<Entry> entries;
  entries.push_back(std::move(empty));
  AppendAsLeader(std::move(entries));
}

void Raft::Send(Message m) {
  m.set_from(id_);
  // Every message carries the sender's term, except a PreVote response,
  // which answers for the term the pre-candidate asked about.
  if (m.term() == 0) m.set_term(term_);
  messages_.push_back(std::move(m));
}

std::vector<Message> Raft::TakeMessages() {
  std::vector<Message> out;
  out.swap(messages_);
  return out;
}

std::vector<ReadState> Raft::TakeReadStates() {
  std::vector<ReadState> out;
  out.swap(read_states_);
  return out;
}

bool Raft::InLease() const {
  return config_.check_quorum && leader_ != 0 &&
         election_elapsed_ < config_.election_tick;
}

absl::Status Raft::CheckAddressing(const Message& m) {
  if (m.type() == MESSAGE_TYPE_UNSPECIFIED ||
      !MessageType_IsValid(static_cast<int>(m.type()))) {
    ++counters_.unspecified_type;
    return absl::InvalidArgumentError("message type unspecified");
  }
  if (m.to() != id_ || m.from() == 0 || m.from() == id_ || m.term() == 0) {
    ++counters_.bad_address;
    return absl::InvalidArgumentError(
        absl::StrCat("badly addressed message to=", m.to(), " from=", m.from(),
                     " term=", m.term()));
  }
  return absl::OkStatus();
}

absl::Status Raft::Step(const Message& m) {
  const StepGuard guard(this);
  absl::Status status = CheckAddressing(m);
  if (status.ok()) {
    bool done = false;
    status = StepByTerm(m, &done);
    if (status.ok() && !done) {
      switch (role_) {
        case Role::kLeader:
          StepLeader(m);
          break;
        case Role::kPreCandidate:
        case Role::kCandidate:
          StepCandidate(m);
          break;
        case Role::kFollower:
          StepFollower(m);
          break;
      }
    }
  }
  return status;
}

// The term rules common to every role (paper §5.1: a higher term wins, a
// lower one is stale), with the PreVote and stickiness exceptions. Sets
// *done when the message needs no role-specific handling.
absl::Status Raft::StepByTerm(const Message& m, bool* done) {
  const MessageType type = m.type();
  const bool vote_request =
      type == MESSAGE_TYPE_VOTE || type == MESSAGE_TYPE_PRE_VOTE;
  if (m.term() > term_) {
    if (vote_request && !m.transfer() && InLease()) {
      // Leader stickiness (thesis §4.2.3): we heard from a live leader
      // within the minimum election timeout, so a campaigner is either
      // partitioned or removed; do not let it disrupt the group.
      ++counters_.vote_ignored_in_lease;
      *done = true;
      return absl::OkStatus();
    }
    // A PreVote asks about a future term and never changes ours; a granted
    // PreVote response is for the term we will campaign in, and only a
    // rejection from a higher term tells us we are behind.
    const bool keeps_term =
        type == MESSAGE_TYPE_PRE_VOTE ||
        (type == MESSAGE_TYPE_PRE_VOTE_RESPONSE && !m.reject());
    if (keeps_term) {
      // Nothing to do here; the role's step function handles it.
    } else if (type == MESSAGE_TYPE_APPEND || type == MESSAGE_TYPE_HEARTBEAT ||
               type == MESSAGE_TYPE_SNAPSHOT) {
      BecomeFollower(m.term(), m.from());
    } else {
      BecomeFollower(m.term(), 0);
    }
  } else if (m.term() < term_) {
    ++counters_.stale_term;
    *done = true;
    if ((config_.check_quorum || config_.pre_vote) &&
        (type == MESSAGE_TYPE_APPEND || type == MESSAGE_TYPE_HEARTBEAT)) {
      // A leader cut off by a partition, whose term we passed by ignoring
      // it (stickiness or PreVote), would otherwise never learn of the new
      // term; an append response of ours tells it to step down.
      Message resp;
      resp.set_to(m.from());
      resp.set_type(MESSAGE_TYPE_APPEND_RESPONSE);
      Send(std::move(resp));
    } else if (type == MESSAGE_TYPE_PRE_VOTE) {
      // Reject so that a pre-candidate behind us learns our term.
      Message resp;
      resp.set_to(m.from());
      resp.set_type(MESSAGE_TYPE_PRE_VOTE_RESPONSE);
      resp.set_reject(true);
      Send(std::move(resp));
    }
    return absl::OkStatus();
  }
  // Same term (possibly just raised), or a PreVote for a later one. Vote
  // requests are answered the same way in every role.
  if (vote_request) {
    HandleVoteRequest(m);
    *done = true;
  }
  return absl::OkStatus();
}

void Raft::StepLeader(const Message& m) {
  Progress* pr = tracker_.GetProgress(m.from());
  switch (m.type()) {
    case MESSAGE_TYPE_APPEND_RESPONSE:
    case MESSAGE_TYPE_HEARTBEAT_RESPONSE:
    case MESSAGE_TYPE_TRANSFER_LEADER:
    case MESSAGE_TYPE_READ_INDEX:
      if (pr == nullptr) {
        ++counters_.unknown_peer;
        return;
      }
      break;
    default:
      break;
  }
  switch (m.type()) {
    case MESSAGE_TYPE_APPEND_RESPONSE:
      HandleAppendResponse(m, pr);
      return;
    case MESSAGE_TYPE_HEARTBEAT_RESPONSE:
      HandleHeartbeatResponse(m, pr);
      return;
    case MESSAGE_TYPE_TRANSFER_LEADER:
      TransferLeader(m.from());
      return;
    case MESSAGE_TYPE_READ_INDEX:
      HandleReadIndex(m.context(), m.from());
      return;
    default:
      // Votes answered late, or another node claiming leadership of our
      // term, which cannot happen in a correct group.
      ++counters_.unexpected_type;
      return;
  }
}

void Raft::StepCandidate(const Message& m) {
  switch (m.type()) {
    case MESSAGE_TYPE_APPEND:
      // Someone won this term (paper §5.2): a candidate steps down.
      BecomeFollower(m.term(), m.from());
      HandleAppend(m);
      return;
    case MESSAGE_TYPE_HEARTBEAT:
      BecomeFollower(m.term(), m.from());
      HandleHeartbeat(m);
      return;
    case MESSAGE_TYPE_SNAPSHOT:
      BecomeFollower(m.term(), m.from());
      HandleSnapshot(m);
      return;
    case MESSAGE_TYPE_VOTE_RESPONSE:
    case MESSAGE_TYPE_PRE_VOTE_RESPONSE:
      HandleVoteResponse(m);
      return;
    default:
      ++counters_.unexpected_type;
      return;
  }
}

void Raft::StepFollower(const Message& m) {
  switch (m.type()) {
    case MESSAGE_TYPE_APPEND:
      election_elapsed_ = 0;
      leader_ = m.from();
      HandleAppend(m);
      return;
    case MESSAGE_TYPE_HEARTBEAT:
      election_elapsed_ = 0;
      leader_ = m.from();
      HandleHeartbeat(m);
      return;
    case MESSAGE_TYPE_SNAPSHOT:
      election_elapsed_ = 0;
      leader_ = m.from();
      HandleSnapshot(m);
      return;
    case MESSAGE_TYPE_TIMEOUT_NOW:
      // The leader hands over to us (thesis §3.10): campaign at once,
      // skipping PreVote, with the transfer flag to bypass stickiness.
      if (m.from() != leader_ || !Promotable()) {
        ++counters_.unexpected_type;
        return;
      }
      // As Campaign(): not under a membership we have committed away from
      // but not applied yet.
      if (HasUnappliedConfChanges()) return;
      StartCampaign(CampaignType::kTransfer);
      return;
    case MESSAGE_TYPE_READ_INDEX_RESPONSE:
      // The index may be past our log: a lagging follower serves the read
      // once it has applied that far.
      if (m.from() != leader_ || m.context().empty()) {
        ++counters_.unexpected_type;
        return;
      }
      read_states_.push_back(ReadState{m.index(), m.context()});
      return;
    default:
      ++counters_.unexpected_type;
      return;
  }
}

void Raft::Tick() {
  const StepGuard guard(this);
  if (role_ == Role::kLeader) {
    TickHeartbeat();
  } else {
    TickElection();
  }
}

void Raft::TickElection() {
  ++election_elapsed_;
  if (Promotable() && election_elapsed_ >= randomized_election_timeout_) {
    election_elapsed_ = 0;
    Campaign();
  }
}

void Raft::TickHeartbeat() {
  ++heartbeat_elapsed_;
  ++election_elapsed_;
  if (election_elapsed_ >= config_.election_tick) {
    election_elapsed_ = 0;
    if (config_.check_quorum) {
      // CheckQuorum (thesis §6.2): a leader that has not heard from a
      // quorum within an election timeout may have been replaced; it steps
      // down so that its clients look for the new leader.
      if (Progress* self = tracker_.GetProgress(id_)) {
        self->set_recent_active(true);
      }
      if (!tracker_.QuorumActive()) {
        BecomeFollower(term_, 0);
        return;
      }
      tracker_.Visit(
          [&](uint64_t id, Progress& pr) { pr.set_recent_active(id == id_); });
    }
    // Thesis §3.10: a transfer that has not completed within an election
    // timeout is abandoned, and the leader accepts proposals again.
    AbortLeaderTransfer();
  }
  if (heartbeat_elapsed_ >= config_.heartbeat_tick) {
    heartbeat_elapsed_ = 0;
    BroadcastHeartbeat(config_.read_only_option == ReadOnlyOption::kSafe
                           ? read_only_.LastPendingContext()
                           : std::string());
  }
}

void Raft::CheckInvariants(uint64_t term_before, uint64_t vote_before,
                           uint64_t committed_before) const {
  RS_CHECK_GE(term_, term_before) << "term decreased";
  if (term_ == term_before && vote_before != 0) {
    RS_CHECK_EQ(vote_, vote_before) << "vote changed within term " << term_;
  }
  RS_CHECK_GE(log_.committed(), committed_before) << "committed decreased";
  RS_CHECK_LE(log_.applied(), log_.committed());
  RS_CHECK_LE(log_.committed(), log_.LastIndex());
  if (role_ == Role::kLeader) {
    RS_CHECK_EQ(leader_, id_);
    RS_CHECK_EQ(vote_, id_) << "a leader voted for itself in its term";
    if (const Progress* self = tracker_.GetProgress(id_)) {
      // Own match is what the driver acknowledged as durable, no more and
      // no less (thesis §10.2.1).
      RS_CHECK_EQ(self->match(), DurableIndex())
          << "leader's own match is not its durable index: " << log_.ToString();
    }
  }
  if (role_ != Role::kLeader) {
    RS_CHECK_EQ(lead_transferee_, 0u);
  }
}

}  // namespace raftstore::raft
