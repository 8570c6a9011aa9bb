#include "core/raft/tracker/tracker.h"

#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/base/check.h"

namespace raftstore::raft {
namespace {

using IdSet = absl::btree_set<uint64_t>;

// Appends " <name>=(a b c)" to out unless ids is empty.
void AppendNonEmpty(std::string* out, const char* name, const IdSet& ids) {
  if (ids.empty()) return;
  absl::StrAppend(out, " ", name, "=", quorum::ToString(ids));
}

// Returns an id of `ids` that is also in `other`, or nullopt if they are
// disjoint.
std::optional<uint64_t> FirstCommon(const IdSet& ids, const IdSet& other) {
  for (uint64_t id : ids) {
    if (other.contains(id)) return id;
  }
  return std::nullopt;
}

absl::Status Broken(const TrackerConfig& config, const std::string& what) {
  return absl::FailedPreconditionError(
      absl::StrCat("invalid configuration ", config.ToString(), ": ", what));
}

// The invariants of the configuration alone (see TrackerConfig).
absl::Status CheckConfig(const TrackerConfig& config) {
  for (const IdSet* ids : {&config.voters.incoming, &config.voters.outgoing,
                           &config.learners, &config.learners_next}) {
    if (ids->contains(0)) return Broken(config, "node id 0 is reserved");
  }
  if (auto id = FirstCommon(config.learners, config.voters.incoming)) {
    return Broken(config,
                  absl::StrCat(*id, " is a learner and an incoming voter"));
  }
  if (auto id = FirstCommon(config.learners, config.voters.outgoing)) {
    return Broken(config,
                  absl::StrCat(*id, " is a learner and an outgoing voter"));
  }
  if (auto id = FirstCommon(config.learners_next, config.learners)) {
    return Broken(config,
                  absl::StrCat(*id, " is in learners and learners_next"));
  }
  if (auto id = FirstCommon(config.learners_next, config.voters.incoming)) {
    return Broken(
        config,
        absl::StrCat(*id, " is in learners_next and an incoming voter"));
  }
  for (uint64_t id : config.learners_next) {
    // A node is staged in learners_next only because it still votes in the
    // outgoing half and so cannot be a learner yet (thesis §4.3).
    if (!config.voters.outgoing.contains(id)) {
      return Broken(
          config,
          absl::StrCat(id, " is in learners_next but not an outgoing voter"));
    }
  }
  if (config.voters.outgoing.empty() && config.auto_leave) {
    return Broken(config, "auto_leave is set outside joint consensus");
  }
  return absl::OkStatus();
}

// The agreement of `progress` with a configuration that passed CheckConfig.
absl::Status CheckProgress(const TrackerConfig& config,
                           const ProgressMap& progress) {
  IdSet members = quorum::IdsOf(config.voters);
  members.insert(config.learners.begin(), config.learners.end());
  for (uint64_t id : members) {
    const auto it = progress.find(id);
    if (it == progress.end()) {
      return Broken(config, absl::StrCat("no progress for ", id));
    }
    const bool learner = config.learners.contains(id);
    if (it->second.is_learner() != learner) {
      return Broken(config, absl::StrCat(id, "'s progress has is_learner=",
                                         it->second.is_learner()));
    }
  }
  // learners_next is a subset of the outgoing voters, so `members` already
  // holds every node that must have a Progress; any other is a leftover.
  for (const auto& [id, unused] : progress) {
    if (!members.contains(id)) {
      return Broken(config, absl::StrCat("progress for non-member ", id));
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::string TrackerConfig::ToString() const {
  std::string out = absl::StrCat("voters=", quorum::ToString(voters));
  AppendNonEmpty(&out, "learners", learners);
  AppendNonEmpty(&out, "learners_next", learners_next);
  if (auto_leave) absl::StrAppend(&out, " autoleave");
  return out;
}

ConfState ToConfState(const TrackerConfig& config) {
  ConfState state;
  for (uint64_t id : config.voters.incoming) state.add_voters(id);
  for (uint64_t id : config.voters.outgoing) state.add_voters_outgoing(id);
  for (uint64_t id : config.learners) state.add_learners(id);
  for (uint64_t id : config.learners_next) state.add_learners_next(id);
  state.set_auto_leave(config.auto_leave);
  return state;
}

absl::Status CheckTrackerConsistency(const TrackerConfig& config,
                                     const ProgressMap& progress) {
  if (absl::Status status = CheckConfig(config); !status.ok()) return status;
  return CheckProgress(config, progress);
}

std::string ToString(const ProgressMap& progress) {
  std::string out;
  for (const auto& [id, pr] : progress) {
    absl::StrAppend(&out, id, ": ", pr.ToString(), "\n");
  }
  return out;
}

ProgressTracker::ProgressTracker(size_t inflight_messages_max,
                                 uint64_t inflight_bytes_max)
    : inflight_messages_max_(inflight_messages_max),
      inflight_bytes_max_(inflight_bytes_max) {
  RS_CHECK_GT(inflight_messages_max_, 0u)
      << "every follower must be allowed one append in flight";
}

void ProgressTracker::ApplyConfig(TrackerConfig config, ProgressMap progress) {
  const absl::Status status = CheckTrackerConsistency(config, progress);
  RS_CHECK(status.ok()) << status.message() << "\n" << ToString(progress);
  config_ = std::move(config);
  progress_ = std::move(progress);
}

Progress* ProgressTracker::GetProgress(uint64_t id) {
  const auto it = progress_.find(id);
  return it == progress_.end() ? nullptr : &it->second;
}

const Progress* ProgressTracker::GetProgress(uint64_t id) const {
  const auto it = progress_.find(id);
  return it == progress_.end() ? nullptr : &it->second;
}

void ProgressTracker::Visit(
    absl::FunctionRef<void(uint64_t id, Progress& progress)> fn) {
  for (auto& [id, pr] : progress_) fn(id, pr);
}

void ProgressTracker::Visit(
    absl::FunctionRef<void(uint64_t id, const Progress& progress)> fn) const {
  for (const auto& [id, pr] : progress_) fn(id, pr);
}

ConfState ProgressTracker::ToConfState() const {
  return raft::ToConfState(config_);
}

bool ProgressTracker::IsSingleton() const {
  return config_.voters.incoming.size() == 1 && config_.voters.outgoing.empty();
}

uint64_t ProgressTracker::Committed() const {
  return quorum::CommittedIndex(config_.voters,
                                [this](uint64_t id) -> std::optional<uint64_t> {
                                  const Progress* pr = GetProgress(id);
                                  if (pr == nullptr) return std::nullopt;
                                  return pr->match();
                                });
}

bool ProgressTracker::QuorumActive() const {
  // CheckQuorum is a poll of the voters in which "recently heard from" is a
  // granted vote; a joint configuration needs both halves (thesis §4.3).
  const quorum::VoteResult result = quorum::TallyVotes(
      config_.voters, [this](uint64_t id) -> std::optional<bool> {
        const Progress* pr = GetProgress(id);
        if (pr == nullptr) return std::nullopt;
        return pr->recent_active();
      });
  return result == quorum::VoteResult::kWon;
}

std::vector<uint64_t> ProgressTracker::VoterNodes() const {
  const quorum::MajorityConfig ids = quorum::IdsOf(config_.voters);
  return std::vector<uint64_t>(ids.begin(), ids.end());
}

std::vector<uint64_t> ProgressTracker::LearnerNodes() const {
  return std::vector<uint64_t>(config_.learners.begin(),
                               config_.learners.end());
}

void ProgressTracker::ResetVotes() { votes_.clear(); }

void ProgressTracker::RecordVote(uint64_t id, bool granted) {
  // emplace keeps an existing answer: the first one counts.
  votes_.emplace(id, granted);
}

VoteTally ProgressTracker::TallyVotes() const {
  VoteTally tally;
  for (uint64_t id : quorum::IdsOf(config_.voters)) {
    const auto it = votes_.find(id);
    if (it == votes_.end()) continue;
    ++(it->second ? tally.granted : tally.rejected);
  }
  tally.result = quorum::TallyVotes(config_.voters,
                                    [this](uint64_t id) -> std::optional<bool> {
                                      const auto it = votes_.find(id);
                                      if (it == votes_.end())
                                        return std::nullopt;
                                      return it->second;
                                    });
  return tally;
}

}  // namespace raftstore::raft
