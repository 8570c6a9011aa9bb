// Raft: leader election (paper §5.2, §5.4.1) with PreVote (thesis §9.6).
#include <utility>

#include "core/base/check.h"
#include "core/raft/raft.h"

namespace raftstore::raft {

bool Raft::HasUnappliedConfChanges() const {
  // A conf change that is committed but not applied may change who votes;
  // campaigning under the old configuration could elect a leader the new
  // one does not recognise (etcd's hup check).
  if (log_.applied() >= log_.committed()) return false;
  absl::StatusOr<std::vector<Entry>> entries =
      log_.Slice(log_.applied() + 1, log_.committed() + 1, kNoBytesLimit);
  if (!entries.ok()) return false;
  for (const Entry& entry : *entries) {
    if (entry.type() == ENTRY_TYPE_CONF_CHANGE) return true;
  }
  return false;
}

bool Raft::Campaign() {
  const StepGuard guard(this);
  if (role_ == Role::kLeader || !Promotable() || HasUnappliedConfChanges()) {
    return false;
  }
  StartCampaign(config_.pre_vote ? CampaignType::kPreElection
                                 : CampaignType::kElection);
  return true;
}

void Raft::StartCampaign(CampaignType type) {
  uint64_t campaign_term;
  MessageType request_type;
  if (type == CampaignType::kPreElection) {
    BecomePreCandidate();
    // PreVote asks about term + 1 without moving to it.
    campaign_term = term_ + 1;
    request_type = MESSAGE_TYPE_PRE_VOTE;
  } else {
    BecomeCandidate();
    campaign_term = term_;
    request_type = MESSAGE_TYPE_VOTE;
  }
  // Our own vote first: a single-voter group wins at once.
  tracker_.RecordVote(id_, true);
  if (tracker_.TallyVotes().result == quorum::VoteResult::kWon) {
    if (type == CampaignType::kPreElection) {
      StartCampaign(CampaignType::kElection);
    } else {
      BecomeLeader();
    }
    return;
  }
  const EntryId last = log_.LastEntryId();
  for (uint64_t voter : tracker_.VoterNodes()) {
    if (voter == id_) continue;
    Message m;
    m.set_to(voter);
    m.set_type(request_type);
    m.set_term(campaign_term);
    m.set_index(last.index);
    m.set_log_term(last.term);
    m.set_transfer(type == CampaignType::kTransfer);
    Send(std::move(m));
  }
}

void Raft::HandleVoteRequest(const Message& m) {
  const bool pre_vote = m.type() == MESSAGE_TYPE_PRE_VOTE;
  // We may vote if we already voted for this candidate (a retransmission),
  // if we have not voted and know no leader in this term, or, for a
  // PreVote, if it is about a later term (it binds nobody).
  const bool can_vote = vote_ == m.from() || (vote_ == 0 && leader_ == 0) ||
                        (pre_vote && m.term() > term_);
  // Paper §5.4.1, the election restriction: only a candidate whose log is
  // at least as up-to-date as ours may collect our vote.
  bool up_to_date = log_.IsUpToDate(m.index(), m.log_term());
#ifdef RAFTSTORE_INJECTED_BUGS
  if (config_.injected_bug == InjectedBug::kVoteWithoutLogCheck) {
    up_to_date = true;
  }
#endif
  const bool grant = can_vote && up_to_date;
  Message resp;
  resp.set_to(m.from());
  resp.set_type(pre_vote ? MESSAGE_TYPE_PRE_VOTE_RESPONSE
                         : MESSAGE_TYPE_VOTE_RESPONSE);
  resp.set_reject(!grant);
  // A granted PreVote answers for the term asked about; a rejection
  // carries our term so that a candidate behind us catches up.
  resp.set_term(grant ? m.term() : term_);
  if (grant && !pre_vote) {
    election_elapsed_ = 0;
    vote_ = m.from();
  }
  Send(std::move(resp));
}

void Raft::HandleVoteResponse(const Message& m) {
  const MessageType expected = role_ == Role::kPreCandidate
                                   ? MESSAGE_TYPE_PRE_VOTE_RESPONSE
                                   : MESSAGE_TYPE_VOTE_RESPONSE;
  if (m.type() != expected) {
    ++counters_.unexpected_type;
    return;
  }
  tracker_.RecordVote(m.from(), !m.reject());
  switch (tracker_.TallyVotes().result) {
    case quorum::VoteResult::kWon:
      if (role_ == Role::kPreCandidate) {
        StartCampaign(CampaignType::kElection);
      } else {
        BecomeLeader();
      }
      return;
    case quorum::VoteResult::kLost:
      // Back to follower in the same term; the next election timeout
      // (randomised again) tries anew (paper §5.2).
      BecomeFollower(term_, 0);
      return;
    case quorum::VoteResult::kPending:
      return;
  }
}

}  // namespace raftstore::raft
