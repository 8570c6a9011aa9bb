// Raft: log replication (paper §5.3), commitment (§5.4.2), heartbeats and
// snapshots (thesis §5.1), and the persistence acknowledgements that move a
// leader's own progress (thesis §10.2.1).
#include <algorithm>
#include <utility>

#include "core/base/check.h"
#include "core/raft/confchange/restore.h"
#include "core/raft/raft.h"

namespace raftstore::raft {
namespace {

// Whether `id` is one of the members a ConfState names.
bool ConfStateHas(const ConfState& cs, uint64_t id) {
  for (const auto* list : {&cs.voters(), &cs.learners(), &cs.voters_outgoing(),
                           &cs.learners_next()}) {
    if (std::find(list->begin(), list->end(), id) != list->end()) return true;
  }
  return false;
}

}  // namespace

void Raft::AppendAsLeader(std::vector<Entry> entries) {
  uint64_t index = log_.LastIndex();
  for (Entry& entry : entries) {
    entry.set_term(term_);
    entry.set_index(++index);
  }
  uncommitted_bytes_ += PayloadBytes(entries);
  log_.AppendMoved(entries);
  // Our own entries count towards the quorum only once the driver reports
  // them durable (OnPersisted), so nothing commits here even for a single
  // voter.
  BroadcastAppend();
}

bool Raft::MaybeSendSnapshot(uint64_t to, Progress* pr) {
  // A follower we have not heard from lately may be down; a snapshot is
  // expensive, so wait until it answers (etcd's rule).
  if (!pr->recent_active()) return false;
  absl::StatusOr<Snapshot> snapshot = log_.Snapshot();
  if (IsSnapshotTemporarilyUnavailable(snapshot.status())) return false;
  RS_CHECK(snapshot.ok()) << "reading the snapshot: " << snapshot.status();
  const uint64_t index = snapshot->metadata().index();
  RS_CHECK_GT(index, 0u) << "entries were compacted without a snapshot";
  pr->BecomeSnapshot(index);
  Message m;
  m.set_to(to);
  m.set_type(MESSAGE_TYPE_SNAPSHOT);
  *m.mutable_snapshot() = *std::move(snapshot);
  Send(std::move(m));
  return true;
}

bool Raft::MaybeSendAppend(uint64_t to, bool send_if_empty) {
  Progress* pr = tracker_.GetProgress(to);
  if (pr == nullptr || pr->IsPaused()) return false;
  const uint64_t prev_index = pr->next() - 1;
  absl::StatusOr<uint64_t> prev_term = log_.Term(prev_index);
  absl::StatusOr<std::vector<Entry>> entries =
      prev_term.ok()
          ? log_.EntriesFrom(pr->next(), config_.max_size_per_msg_bytes)
          : absl::StatusOr<std::vector<Entry>>(prev_term.status());
  if (!entries.ok()) {
    RS_CHECK(IsCompacted(entries.status()))
        << "reading the log for " << to << ": " << entries.status();
    // The follower needs entries we no longer have (thesis §5.1).
    return MaybeSendSnapshot(to, pr);
  }
  if (entries->empty() && !send_if_empty) return false;
  pr->SentEntries(entries->size(), PayloadBytes(*entries));
  Message m;
  m.set_to(to);
  m.set_type(MESSAGE_TYPE_APPEND);
  m.set_index(prev_index);
  m.set_log_term(*prev_term);
  m.set_commit(log_.committed());
  for (Entry& entry : *entries) *m.add_entries() = std::move(entry);
  Send(std::move(m));
  return true;
}

void Raft::SendAppends(uint64_t to, bool send_if_empty) {
  // Pipelining (thesis §10.2.2): keep sending while the follower's window
  // has room; Progress pauses a probing follower after one message.
  if (!MaybeSendAppend(to, send_if_empty)) return;
  while (MaybeSendAppend(to, false)) {
  }
}

void Raft::BroadcastAppend() {
  for (const auto& [id, pr] : tracker_.progress()) {
    (void)pr;
    if (id != id_) SendAppends(id, true);
  }
}

void Raft::SendHeartbeat(uint64_t to, const std::string& context) {
  const Progress* pr = tracker_.GetProgress(to);
  // Never claim a commit index beyond what the follower is known to hold:
  // its log may still differ from ours after `match`.
  const uint64_t commit = std::min(pr->match(), log_.committed());
  Message m;
  m.set_to(to);
  m.set_type(MESSAGE_TYPE_HEARTBEAT);
  m.set_commit(commit);
  if (absl::StatusOr<uint64_t> term = log_.Term(commit); term.ok()) {
    m.set_commit_term(*term);
  }
  m.set_context(context);
  Send(std::move(m));
}

void Raft::BroadcastHeartbeat(const std::string& context) {
  for (const auto& [id, pr] : tracker_.progress()) {
    (void)pr;
    if (id != id_) SendHeartbeat(id, context);
  }
}

bool Raft::MaybeCommit() {
  const uint64_t index = tracker_.Committed();
  if (index == quorum::kNoLimit) return false;
#ifdef RAFTSTORE_INJECTED_BUGS
  if (config_.injected_bug == InjectedBug::kCommitOldTermByCounting) {
    const absl::StatusOr<uint64_t> term = log_.Term(index);
    return term.ok() && log_.MaybeCommit(index, *term);
  }
#endif
  // Paper §5.4.2: only an entry of the current term commits by counting
  // replicas; earlier ones commit with it.
  return log_.MaybeCommit(index, term_);
}

void Raft::OnCommitAdvanced() {
  ReleasePendingReads();
  BroadcastAppend();
}

void Raft::UpdateOwnProgress() {
  if (role_ != Role::kLeader) return;
  Progress* self = tracker_.GetProgress(id_);
  if (self == nullptr || !self->MaybeUpdate(DurableIndex())) return;
  if (MaybeCommit()) OnCommitAdvanced();
}

void Raft::OnPersisted(uint64_t index, uint64_t term) {
  const StepGuard guard(this);
  log_.StableTo(index, term);
  UpdateOwnProgress();
}

void Raft::OnSnapshotPersisted(uint64_t index) {
  const StepGuard guard(this);
  log_.StableSnapTo(index);
  if (index > log_.applied() && index <= log_.committed()) {
    log_.AppliedTo(index);
  }
  UpdateOwnProgress();
}

void Raft::OnApplied(uint64_t index, uint64_t entry_bytes) {
  const StepGuard guard(this);
  if (index > log_.applied()) log_.AppliedTo(index);
  uncommitted_bytes_ -= std::min(uncommitted_bytes_, entry_bytes);
  MaybeAutoLeave();
}

void Raft::HandleAppend(const Message& m) {
  // The entries must follow the header and each other, with terms that
  // never decrease and never exceed the sender's (paper §5.3); anything
  // else is garbage that RaftLog would refuse with a crash.
  uint64_t previous_term = m.log_term();
  for (int i = 0; i < m.entries_size(); ++i) {
    const Entry& entry = m.entries(i);
    if (entry.index() != m.index() + 1 + static_cast<uint64_t>(i) ||
        entry.term() < previous_term || entry.term() > m.term() ||
        (entry.type() != ENTRY_TYPE_NORMAL &&
         entry.type() != ENTRY_TYPE_CONF_CHANGE)) {
      ++counters_.out_of_range_index;
      return;
    }
    previous_term = entry.term();
  }
  Message resp;
  resp.set_to(m.from());
  resp.set_type(MESSAGE_TYPE_APPEND_RESPONSE);
  if (m.index() < log_.committed()) {
    // Everything up to our commit index matches the leader's log already
    // (Leader Completeness); say how far.
    resp.set_index(log_.committed());
    Send(std::move(resp));
    return;
  }
  // The one copy of the received entries: the log takes them by move.
  std::vector<Entry> entries(m.entries().begin(), m.entries().end());
  if (std::optional<uint64_t> last = log_.MaybeAppendMoved(
          m.index(), m.log_term(), m.commit(), std::span<Entry>(entries))) {
    resp.set_index(*last);
    Send(std::move(resp));
    return;
  }
  // Consistency check failed. Hint where our log may last match, skipping
  // a whole term of entries that cannot match (thesis §3.5).
  const EntryId hint = log_.FindConflictByTerm(
      std::min(m.index(), log_.LastIndex()), m.log_term());
  resp.set_index(m.index());
  resp.set_reject(true);
  resp.set_reject_hint(hint.index);
  resp.set_hint_term(hint.term);
  Send(std::move(resp));
}

void Raft::HandleHeartbeat(const Message& m) {
  if (m.commit() > log_.committed()) {
    // Only where our log holds the very entry the leader committed.
    if (log_.MatchTerm(m.commit(), m.commit_term())) {
      log_.CommitTo(m.commit());
    } else if (m.commit() > log_.LastIndex() && m.commit_term() != 0) {
      ++counters_.out_of_range_index;
    }
  }
  Message resp;
  resp.set_to(m.from());
  resp.set_type(MESSAGE_TYPE_HEARTBEAT_RESPONSE);
  resp.set_context(m.context());
  Send(std::move(resp));
}

void Raft::HandleSnapshot(const Message& m) {
  const SnapshotMetadata& meta = m.snapshot().metadata();
  if (!m.has_snapshot() || meta.index() == 0 || meta.term() == 0 ||
      meta.term() > m.term()) {
    ++counters_.stale_snapshot;
    return;
  }
  if (meta.index() > kLogIndexMax) {
    // No real log gets there; a crafted index near 2^64 would overflow the
    // log's next index (index + 1) and break its invariants.
    ++counters_.out_of_range_index;
    return;
  }
  Message resp;
  resp.set_to(m.from());
  resp.set_type(MESSAGE_TYPE_APPEND_RESPONSE);
  resp.set_index(RestoreSnapshot(m.snapshot()) ? log_.LastIndex()
                                               : log_.committed());
  Send(std::move(resp));
}

bool Raft::RestoreSnapshot(const Snapshot& snapshot) {
  const SnapshotMetadata& meta = snapshot.metadata();
  if (meta.index() <= log_.committed()) {
    // Older than what we know to be committed: we have it all already.
    ++counters_.stale_snapshot;
    return false;
  }
  const ConfState& cs = meta.conf_state();
  if (!confchange::ValidateConfState(cs).ok() || !ConfStateHas(cs, id_)) {
    ++counters_.stale_snapshot;
    return false;
  }
  if (log_.MatchTerm(meta.index(), meta.term())) {
    // Our log already holds the snapshot's last entry, hence (Log
    // Matching) everything before it: commit instead of discarding the log.
    log_.CommitTo(meta.index());
    return false;
  }
  log_.Restore(snapshot);
  absl::StatusOr<confchange::ConfigAndProgress> restored =
      confchange::Restore(cs, log_.LastIndex(), config_.max_inflight_msgs,
                          config_.max_inflight_bytes);
  RS_CHECK(restored.ok()) << "validated conf state: " << restored.status();
  ApplyConfig(std::move(restored->first), std::move(restored->second));
  return true;
}

void Raft::HandleAppendResponse(const Message& m, Progress* pr) {
  pr->set_recent_active(true);
  if (m.index() > log_.LastIndex()) {
    // Acknowledges or rejects entries we never sent.
    ++counters_.out_of_range_index;
    return;
  }
  if (m.reject()) {
    // Fast backtracking: the follower's hint (its index, and the term
    // there) lets us skip every entry of ours after the last one whose
    // term is at most that term.
    uint64_t probe = m.reject_hint();
    if (m.hint_term() > 0) {
      probe = log_.FindConflictByTerm(m.reject_hint(), m.hint_term()).index;
    }
    if (pr->MaybeDecrTo(m.index(), std::min(probe, m.index()))) {
      if (pr->state() == ProgressState::kReplicate) pr->BecomeProbe();
      SendAppends(m.from(), true);
    }
    return;
  }
  // A follower that was paused may have missed commit updates meanwhile.
  const bool was_paused = pr->IsPaused();
  if (!pr->MaybeUpdate(m.index())) return;
  if (pr->state() == ProgressState::kProbe) {
    pr->BecomeReplicate();
  } else if (pr->state() == ProgressState::kSnapshot &&
             pr->match() + 1 >= log_.FirstIndex()) {
    // The snapshot (or appends) brought the follower to where our log
    // begins; replicate from there.
    pr->BecomeProbe();
    pr->BecomeReplicate();
  }
  if (MaybeCommit()) {
    OnCommitAdvanced();
  } else {
    SendAppends(m.from(), was_paused);
  }
  if (m.from() == lead_transferee_ && pr->match() == log_.LastIndex()) {
    // Thesis §3.10: the target has caught up; let it campaign now.
    SendTimeoutNow(m.from());
  }
}

void Raft::HandleHeartbeatResponse(const Message& m, Progress* pr) {
  pr->set_recent_active(true);
  // The heartbeat doubles as the retry timer for lost appends.
  pr->OnHeartbeatResponse();
  if (pr->match() < log_.LastIndex() || pr->state() == ProgressState::kProbe) {
    SendAppends(m.from(), true);
  }
  if (config_.read_only_option != ReadOnlyOption::kSafe ||
      m.context().empty()) {
    return;
  }
  if (read_only_.RecvAck(m.from(), m.context()) == nullptr) return;
  if (!read_only_.HasQuorum(tracker_.config().voters, m.context())) return;
  // Thesis §6.4: a quorum acknowledged a round begun after these reads
  // arrived, so we were still the leader then; release them in order.
  for (const ReadIndexStatus& read : read_only_.Advance(m.context())) {
    AnswerRead(read.from, read.index, read.context);
  }
}

}  // namespace raftstore::raft
