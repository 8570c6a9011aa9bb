#include "core/raft/confchange/confchange.h"

#include <charconv>
#include <limits>
#include <system_error>

#include "absl/container/btree_set.h"
#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "core/raft/quorum/quorum.h"
#include "core/raft/tracker/inflights.h"

namespace raftstore::raft::confchange {
namespace {

using IdSet = absl::btree_set<uint64_t>;

// The characters that separate tokens in ParseConfChanges().
constexpr std::string_view kBlanks = " \t\r\n";

bool IsJoint(const TrackerConfig& config) {
  return !config.voters.outgoing.empty();
}

// Returns OK if `change` names a real node and a known type.
absl::Status ValidateChange(const ConfChangeSingle& change) {
  if (change.node_id() == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "node id 0 is reserved (change ", ConfChangesToString({change}), ")"));
  }
  switch (change.type()) {
    case CONF_CHANGE_TYPE_ADD_VOTER:
    case CONF_CHANGE_TYPE_ADD_LEARNER:
    case CONF_CHANGE_TYPE_REMOVE_NODE:
      return absl::OkStatus();
    default:
      return absl::InvalidArgumentError(absl::StrCat(
          "unexpected conf change type ", static_cast<int>(change.type()),
          " for node ", change.node_id()));
  }
}

absl::Status ValidateTransition(const ConfChange& cc) {
  switch (cc.transition()) {
    case CONF_CHANGE_TRANSITION_AUTO:
    case CONF_CHANGE_TRANSITION_JOINT_IMPLICIT:
    case CONF_CHANGE_TRANSITION_JOINT_EXPLICIT:
      return absl::OkStatus();
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("unexpected conf change transition ",
                       static_cast<int>(cc.transition())));
  }
}

// Makes node `id`, which has a Progress, a voter of the incoming half.
void MakeVoter(uint64_t id, ConfigAndProgress& out) {
  auto& [config, progress] = out;
  progress.at(id).set_is_learner(false);
  config.learners.erase(id);
  config.learners_next.erase(id);
  config.voters.incoming.insert(id);
}

// Makes node `id`, which has a Progress and is not a learner, a learner: at
// once, or on leaving joint consensus if it still votes in the outgoing half.
void MakeLearner(uint64_t id, ConfigAndProgress& out) {
  auto& [config, progress] = out;
  config.voters.incoming.erase(id);
  if (config.voters.outgoing.contains(id)) {
    // Its vote still counts in the outgoing majority, so it cannot be a
    // learner (which never votes) until that majority is gone (thesis §4.3).
    config.learners_next.insert(id);
  } else {
    config.learners_next.erase(id);
    config.learners.insert(id);
    progress.at(id).set_is_learner(true);
  }
}

// Removes node `id` from every set but the outgoing voters; it stays a
// member, with its progress, while it votes there.
void Remove(uint64_t id, ConfigAndProgress& out) {
  auto& [config, progress] = out;
  config.voters.incoming.erase(id);
  config.learners.erase(id);
  config.learners_next.erase(id);
  if (!config.voters.outgoing.contains(id)) progress.erase(id);
}

// The number of nodes in exactly one of a and b.
size_t SymmetricDifference(const IdSet& a, const IdSet& b) {
  size_t count = 0;
  for (uint64_t id : a) count += b.contains(id) ? 0 : 1;
  for (uint64_t id : b) count += a.contains(id) ? 0 : 1;
  return count;
}

// Returns `result` if it satisfies the tracker's invariants, else kInternal:
// every operation is meant to preserve them, so a broken result is our bug
// and must not reach the tracker.
absl::StatusOr<ConfigAndProgress> CheckResult(ConfigAndProgress result,
                                              std::string_view operation) {
  const absl::Status status =
      CheckTrackerConsistency(result.first, result.second);
  if (!status.ok()) {
    return absl::InternalError(absl::StrCat(
        std::string(operation), " broke an invariant: ", status.message()));
  }
  return result;
}

// Prefixes a failed status's message with the operation that failed.
absl::Status Annotate(const absl::Status& status, std::string_view operation) {
  return absl::Status(status.code(), absl::StrCat(std::string(operation), ": ",
                                                  status.message()));
}

}  // namespace

Changer::Changer(const TrackerConfig& config, const ProgressMap& progress,
                 uint64_t last_index, size_t inflight_messages_max,
                 uint64_t inflight_bytes_max)
    : config_(config),
      progress_(progress),
      last_index_(last_index),
      inflight_messages_max_(inflight_messages_max),
      inflight_bytes_max_(inflight_bytes_max) {
  RS_CHECK_LT(last_index_, std::numeric_limits<uint64_t>::max())
      << "next = last_index + 1 must not overflow";
  RS_CHECK_GT(inflight_messages_max_, 0u);
}

Changer::Changer(const ProgressTracker& tracker, uint64_t last_index)
    : Changer(tracker.config(), tracker.progress(), last_index,
              tracker.inflight_messages_max(), tracker.inflight_bytes_max()) {}

Progress Changer::NewProgress(bool is_learner) const {
  Progress progress(/*match=*/0, /*next=*/last_index_ + 1,
                    Inflights(inflight_messages_max_, inflight_bytes_max_));
  progress.set_is_learner(is_learner);
  progress.set_recent_active(true);
  return progress;
}

absl::Status Changer::ApplyChanges(absl::Span<const ConfChangeSingle> changes,
                                   ConfigAndProgress& out) const {
  ProgressMap& progress = out.second;
  for (const ConfChangeSingle& change : changes) {
    if (absl::Status status = ValidateChange(change); !status.ok()) {
      return status;
    }
    const uint64_t id = change.node_id();
    const auto it = progress.find(id);
    switch (change.type()) {
      case CONF_CHANGE_TYPE_ADD_VOTER:
        if (it == progress.end()) progress.emplace(id, NewProgress(false));
        MakeVoter(id, out);
        break;
      case CONF_CHANGE_TYPE_ADD_LEARNER:
        if (it == progress.end()) {
          progress.emplace(id, NewProgress(true));
          out.first.learners.insert(id);
        } else if (!it->second.is_learner()) {
          MakeLearner(id, out);
        }
        break;
      default:  // CONF_CHANGE_TYPE_REMOVE_NODE, by ValidateChange.
        Remove(id, out);
        break;
    }
  }
  if (out.first.voters.incoming.empty()) {
    return absl::InvalidArgumentError("removed all voters");
  }
  return absl::OkStatus();
}

absl::StatusOr<ConfigAndProgress> Changer::CheckAndCopy() const {
  const absl::Status status = CheckTrackerConsistency(config_, progress_);
  if (!status.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("current configuration: ", status.message()));
  }
  return ConfigAndProgress(config_, progress_);
}

absl::StatusOr<ConfigAndProgress> Changer::EnterJoint(
    bool auto_leave, absl::Span<const ConfChangeSingle> changes) const {
  const std::string operation =
      absl::StrCat("EnterJoint(", ConfChangesToString(changes), ")");
  absl::StatusOr<ConfigAndProgress> copy = CheckAndCopy();
  if (!copy.ok()) return Annotate(copy.status(), operation);
  ConfigAndProgress out = *std::move(copy);
  TrackerConfig& config = out.first;
  if (IsJoint(config)) {
    return Annotate(absl::FailedPreconditionError(absl::StrCat(
                        "config is already joint: ", config.ToString())),
                    operation);
  }
  if (config.voters.incoming.empty()) {
    // An empty config may grow by simple changes (bootstrap), but a joint
    // configuration with no outgoing majority would mean nothing.
    return Annotate(
        absl::FailedPreconditionError("can't make a zero-voter config joint"),
        operation);
  }
  config.voters.outgoing = config.voters.incoming;
  if (absl::Status status = ApplyChanges(changes, out); !status.ok()) {
    return Annotate(status, operation);
  }
  config.auto_leave = auto_leave;
  return CheckResult(std::move(out), operation);
}

absl::StatusOr<ConfigAndProgress> Changer::LeaveJoint() const {
  const std::string operation = "LeaveJoint()";
  absl::StatusOr<ConfigAndProgress> copy = CheckAndCopy();
  if (!copy.ok()) return Annotate(copy.status(), operation);
  ConfigAndProgress out = *std::move(copy);
  auto& [config, progress] = out;
  if (!IsJoint(config)) {
    return Annotate(absl::FailedPreconditionError(absl::StrCat(
                        "can't leave a non-joint config: ", config.ToString())),
                    operation);
  }
  // The outgoing majority no longer decides anything, so the demoted voters
  // it held back can become learners now.
  for (uint64_t id : config.learners_next) {
    config.learners.insert(id);
    progress.at(id).set_is_learner(true);
  }
  config.learners_next.clear();
  for (uint64_t id : config.voters.outgoing) {
    if (!config.voters.incoming.contains(id) && !config.learners.contains(id)) {
      progress.erase(id);
    }
  }
  config.voters.outgoing.clear();
  config.auto_leave = false;
  return CheckResult(std::move(out), operation);
}

absl::StatusOr<ConfigAndProgress> Changer::Simple(
    absl::Span<const ConfChangeSingle> changes) const {
  const std::string operation =
      absl::StrCat("Simple(", ConfChangesToString(changes), ")");
  absl::StatusOr<ConfigAndProgress> copy = CheckAndCopy();
  if (!copy.ok()) return Annotate(copy.status(), operation);
  ConfigAndProgress out = *std::move(copy);
  if (IsJoint(out.first)) {
    return Annotate(
        absl::FailedPreconditionError(absl::StrCat(
            "can't apply a simple config change in a joint config: ",
            out.first.ToString())),
        operation);
  }
  if (absl::Status status = ApplyChanges(changes, out); !status.ok()) {
    return Annotate(status, operation);
  }
  // Majorities of the old and new voters are guaranteed to overlap only if
  // they differ by at most one voter (thesis §4.1).
  if (SymmetricDifference(config_.voters.incoming, out.first.voters.incoming) >
      1) {
    return Annotate(absl::InvalidArgumentError(absl::StrCat(
                        "more than one voter changed without entering joint "
                        "config (",
                        quorum::ToString(config_.voters.incoming), " to ",
                        quorum::ToString(out.first.voters.incoming),
                        "); use joint consensus")),
                    operation);
  }
  return CheckResult(std::move(out), operation);
}

absl::StatusOr<ConfigAndProgress> Changer::Apply(const ConfChange& cc) const {
  if (LeaveJointRequested(cc)) {
    if (absl::Status status = ValidateTransition(cc); !status.ok()) {
      return status;
    }
    return LeaveJoint();
  }
  const absl::StatusOr<bool> joint = EnterJointNeeded(cc);
  if (!joint.ok()) return joint.status();
  // Proto repeated message fields are not contiguous values, so the changes
  // are copied into a span-able vector; conf changes are rare and small.
  const std::vector<ConfChangeSingle> changes(cc.changes().begin(),
                                              cc.changes().end());
  if (!*joint) return Simple(changes);
  const absl::StatusOr<bool> auto_leave = AutoLeave(cc);
  if (!auto_leave.ok()) return auto_leave.status();
  return EnterJoint(*auto_leave, changes);
}

absl::StatusOr<bool> EnterJointNeeded(const ConfChange& cc) {
  if (absl::Status status = ValidateTransition(cc); !status.ok()) {
    return status;
  }
  if (LeaveJointRequested(cc)) return false;
  // A single change alters at most one voter, which is safe to apply
  // directly (thesis §4.1); the explicit joint transitions ask for joint
  // consensus regardless.
  return cc.transition() != CONF_CHANGE_TRANSITION_AUTO ||
         cc.changes_size() > 1;
}

absl::StatusOr<bool> AutoLeave(const ConfChange& cc) {
  const absl::StatusOr<bool> joint = EnterJointNeeded(cc);
  if (!joint.ok()) return joint.status();
  return *joint && cc.transition() != CONF_CHANGE_TRANSITION_JOINT_EXPLICIT;
}

bool LeaveJointRequested(const ConfChange& cc) {
  return cc.changes_size() == 0;
}

std::string ConfChangesToString(absl::Span<const ConfChangeSingle> changes) {
  std::string out;
  for (const ConfChangeSingle& change : changes) {
    if (!out.empty()) out += ' ';
    switch (change.type()) {
      case CONF_CHANGE_TYPE_ADD_VOTER:
        out += 'v';
        break;
      case CONF_CHANGE_TYPE_ADD_LEARNER:
        out += 'l';
        break;
      case CONF_CHANGE_TYPE_REMOVE_NODE:
        out += 'r';
        break;
      default:
        out += '?';
        break;
    }
    absl::StrAppend(&out, change.node_id());
  }
  return out;
}

std::string ConfChangeToString(const ConfChange& cc) {
  const std::vector<ConfChangeSingle> changes(cc.changes().begin(),
                                              cc.changes().end());
  return ConfChangesToString(changes);
}

namespace {

// Parses one token of ParseConfChanges(), such as "v12".
absl::StatusOr<ConfChangeSingle> ParseToken(std::string_view token) {
  ConfChangeSingle change;
  switch (token.front()) {
    case 'v':
      change.set_type(CONF_CHANGE_TYPE_ADD_VOTER);
      break;
    case 'l':
      change.set_type(CONF_CHANGE_TYPE_ADD_LEARNER);
      break;
    case 'r':
      change.set_type(CONF_CHANGE_TYPE_REMOVE_NODE);
      break;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("conf change \"", std::string(token),
                       "\" must start with v, l or r"));
  }
  const std::string_view digits = token.substr(1);
  uint64_t id = 0;
  const auto [end, error] =
      std::from_chars(digits.data(), digits.data() + digits.size(), id);
  if (digits.empty() || error != std::errc() ||
      end != digits.data() + digits.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("conf change \"", std::string(token),
                     "\" needs a decimal node id that fits 64 bits"));
  }
  change.set_node_id(id);
  return change;
}

}  // namespace

absl::StatusOr<std::vector<ConfChangeSingle>> ParseConfChanges(
    std::string_view text) {
  std::vector<ConfChangeSingle> changes;
  size_t pos = text.find_first_not_of(kBlanks);
  while (pos != std::string_view::npos) {
    const size_t end = text.find_first_of(kBlanks, pos);
    const std::string_view token =
        text.substr(pos, end == std::string_view::npos ? std::string_view::npos
                                                       : end - pos);
    absl::StatusOr<ConfChangeSingle> change = ParseToken(token);
    if (!change.ok()) return change.status();
    changes.push_back(*std::move(change));
    pos = end == std::string_view::npos ? end
                                        : text.find_first_not_of(kBlanks, end);
  }
  return changes;
}

}  // namespace raftstore::raft::confchange
