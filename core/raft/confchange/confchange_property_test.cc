// Properties of random sequences of membership changes, checked against an
// independent oracle: within one call, a node's final role depends only on
// its last change and on whether it votes in the outgoing half (see
// confchange.h), so the expected configuration can be computed without
// replaying the changes one by one.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/raft/confchange/confchange.h"
#include "core/raft/confchange/restore.h"
#include "core/raft/quorum/quorum.h"
#include "core/raft/tracker/progress.h"
#include "core/raft/tracker/tracker.h"
#include "gtest/gtest.h"
#include "proto/raft.pb.h"
#include "rapidcheck/gtest.h"

namespace raftstore::raft::confchange {
namespace {

using IdSet = absl::btree_set<uint64_t>;

// Node ids are drawn from 0..kMaxId (0 being invalid), few enough that
// changes often hit the same nodes.
constexpr uint64_t kMaxId = 6;
// The longest sequence of operations in one test case.
constexpr int kMaxSteps = 100;
// The most changes in one operation.
constexpr int kMaxChanges = 4;
constexpr size_t kInflightMessagesMax = 4;
constexpr uint64_t kInflightBytesMax = 0;

// ---------------------------------------------------------------------------
// Drawing operations.

enum class OpKind { kSimple, kEnterJoint, kLeaveJoint, kApply };

struct Op {
  OpKind kind = OpKind::kSimple;
  bool auto_leave = false;
  std::vector<ConfChangeSingle> changes;
  // For kApply only.
  ConfChangeTransition transition = CONF_CHANGE_TRANSITION_AUTO;

  std::string ToString() const {
    const std::string changes_text = ConfChangesToString(changes);
    switch (kind) {
      case OpKind::kSimple:
        return "Simple(" + changes_text + ")";
      case OpKind::kEnterJoint:
        return std::string("EnterJoint(") + (auto_leave ? "auto, " : "") +
               changes_text + ")";
      case OpKind::kLeaveJoint:
        return "LeaveJoint()";
      case OpKind::kApply:
        return "Apply(transition=" + std::to_string(transition) + ", " +
               changes_text + ")";
    }
    return "?";
  }
};

// Mostly well-formed changes; now and then id 0 or an UNSPECIFIED type.
// Half the ids are drawn from `members` (if any), so that promotions and
// demotions of current members are common.
ConfChangeSingle DrawChange(const std::vector<uint64_t>& members) {
  ConfChangeSingle change;
  change.set_type(*rc::gen::weightedElement<ConfChangeType>(
      {{10, CONF_CHANGE_TYPE_ADD_VOTER},
       {8, CONF_CHANGE_TYPE_ADD_LEARNER},
       {8, CONF_CHANGE_TYPE_REMOVE_NODE},
       {1, CONF_CHANGE_TYPE_UNSPECIFIED}}));
  const rc::Gen<uint64_t> any_id = rc::gen::inRange<uint64_t>(1, kMaxId + 1);
  change.set_node_id(*rc::gen::weightedOneOf<uint64_t>(
      {{1, rc::gen::just<uint64_t>(0)},
       {15, any_id},
       {15, members.empty() ? any_id : rc::gen::elementOf(members)}}));
  return change;
}

std::vector<ConfChangeSingle> DrawChanges(
    int min, int max, const std::vector<uint64_t>& members = {}) {
  std::vector<ConfChangeSingle> changes(*rc::gen::inRange(min, max + 1));
  for (ConfChangeSingle& change : changes) change = DrawChange(members);
  return changes;
}

// An operation on a configuration whose members are `members`.
Op DrawOp(const std::vector<uint64_t>& members) {
  Op op;
  op.kind = *rc::gen::weightedElement<OpKind>({{5, OpKind::kSimple},
                                               {3, OpKind::kEnterJoint},
                                               {2, OpKind::kLeaveJoint},
                                               {3, OpKind::kApply}});
  op.auto_leave = *rc::gen::arbitrary<bool>();
  if (op.kind == OpKind::kSimple) {
    // Mostly single changes, which are the ones that can succeed often.
    op.changes = DrawChanges(
        1, *rc::gen::weightedElement<int>({{4, 1}, {1, kMaxChanges}}), members);
  } else if (op.kind != OpKind::kLeaveJoint) {
    op.changes =
        DrawChanges(op.kind == OpKind::kApply ? 0 : 1, kMaxChanges, members);
  }
  op.transition = *rc::gen::weightedElement<ConfChangeTransition>(
      {{4, CONF_CHANGE_TRANSITION_AUTO},
       {2, CONF_CHANGE_TRANSITION_JOINT_IMPLICIT},
       {2, CONF_CHANGE_TRANSITION_JOINT_EXPLICIT},
       {1, CONF_CHANGE_TRANSITION_UNSPECIFIED}});
  return op;
}

// ---------------------------------------------------------------------------
// The oracle.

bool IsJoint(const TrackerConfig& config) {
  return !config.voters.outgoing.empty();
}

bool Malformed(const std::vector<ConfChangeSingle>& changes) {
  for (const ConfChangeSingle& change : changes) {
    if (change.node_id() == 0 ||
        change.type() == CONF_CHANGE_TYPE_UNSPECIFIED) {
      return true;
    }
  }
  return false;
}

// The configuration after applying well-formed `changes` to `config`, whose
// outgoing half is already what it will be: each node mentioned takes the
// role its last change gives it. Adds to *restarted the nodes that a change
// removes while they do not vote in the outgoing half: they lose their
// Progress, so if a later change adds them back, they start afresh.
TrackerConfig ApplyLastChanges(TrackerConfig config,
                               const std::vector<ConfChangeSingle>& changes,
                               IdSet* restarted) {
  absl::btree_map<uint64_t, ConfChangeType> last;
  for (const ConfChangeSingle& change : changes) {
    last[change.node_id()] = change.type();
    if (change.type() == CONF_CHANGE_TYPE_REMOVE_NODE &&
        !config.voters.outgoing.contains(change.node_id())) {
      restarted->insert(change.node_id());
    }
  }
  for (const auto& [id, type] : last) {
    const bool was_learner = config.learners.contains(id);
    config.voters.incoming.erase(id);
    config.learners.erase(id);
    config.learners_next.erase(id);
    if (type == CONF_CHANGE_TYPE_ADD_VOTER) {
      config.voters.incoming.insert(id);
    } else if (type == CONF_CHANGE_TYPE_ADD_LEARNER) {
      const bool staged = !was_learner && config.voters.outgoing.contains(id);
      (staged ? config.learners_next : config.learners).insert(id);
    }
  }
  return config;
}

size_t SymmetricDifference(const IdSet& a, const IdSet& b) {
  size_t count = 0;
  for (uint64_t id : a) count += b.contains(id) ? 0 : 1;
  for (uint64_t id : b) count += a.contains(id) ? 0 : 1;
  return count;
}

// What an operation should do: fail with `code`, or succeed giving `config`,
// with fresh progress for the members in `restarted` (see ApplyLastChanges)
// and for new members.
struct Expected {
  absl::StatusCode code = absl::StatusCode::kOk;
  TrackerConfig config;
  IdSet restarted;
};

Expected Fail(absl::StatusCode code) { return Expected{code, {}, {}}; }

Expected ExpectSimple(const TrackerConfig& before,
                      const std::vector<ConfChangeSingle>& changes) {
  if (IsJoint(before)) return Fail(absl::StatusCode::kFailedPrecondition);
  if (Malformed(changes)) return Fail(absl::StatusCode::kInvalidArgument);
  Expected expected;
  expected.config = ApplyLastChanges(before, changes, &expected.restarted);
  const IdSet& incoming = expected.config.voters.incoming;
  if (incoming.empty() ||
      SymmetricDifference(before.voters.incoming, incoming) > 1) {
    return Fail(absl::StatusCode::kInvalidArgument);
  }
  return expected;
}

Expected ExpectEnterJoint(const TrackerConfig& before, bool auto_leave,
                          const std::vector<ConfChangeSingle>& changes) {
  if (IsJoint(before) || before.voters.incoming.empty()) {
    return Fail(absl::StatusCode::kFailedPrecondition);
  }
  if (Malformed(changes)) return Fail(absl::StatusCode::kInvalidArgument);
  TrackerConfig joint = before;
  joint.voters.outgoing = before.voters.incoming;
  Expected expected;
  expected.config = ApplyLastChanges(joint, changes, &expected.restarted);
  if (expected.config.voters.incoming.empty()) {
    return Fail(absl::StatusCode::kInvalidArgument);
  }
  expected.config.auto_leave = auto_leave;
  return expected;
}

Expected ExpectLeaveJoint(const TrackerConfig& before) {
  if (!IsJoint(before)) return Fail(absl::StatusCode::kFailedPrecondition);
  TrackerConfig after = before;
  after.learners.insert(before.learners_next.begin(),
                        before.learners_next.end());
  after.learners_next.clear();
  after.voters.outgoing.clear();
  after.auto_leave = false;
  return Expected{absl::StatusCode::kOk, after, {}};
}

Expected ExpectOp(const TrackerConfig& before, const Op& op) {
  switch (op.kind) {
    case OpKind::kSimple:
      return ExpectSimple(before, op.changes);
    case OpKind::kEnterJoint:
      return ExpectEnterJoint(before, op.auto_leave, op.changes);
    case OpKind::kLeaveJoint:
      return ExpectLeaveJoint(before);
    case OpKind::kApply:
      break;
  }
  // raft.proto's transitions, restated.
  if (op.transition == CONF_CHANGE_TRANSITION_UNSPECIFIED) {
    return Fail(absl::StatusCode::kInvalidArgument);
  }
  if (op.changes.empty()) return ExpectLeaveJoint(before);
  if (op.transition == CONF_CHANGE_TRANSITION_AUTO && op.changes.size() == 1) {
    return ExpectSimple(before, op.changes);
  }
  return ExpectEnterJoint(
      before, op.transition != CONF_CHANGE_TRANSITION_JOINT_EXPLICIT,
      op.changes);
}

absl::StatusOr<ConfigAndProgress> RunOp(const Changer& changer, const Op& op) {
  switch (op.kind) {
    case OpKind::kSimple:
      return changer.Simple(op.changes);
    case OpKind::kEnterJoint:
      return changer.EnterJoint(op.auto_leave, op.changes);
    case OpKind::kLeaveJoint:
      return changer.LeaveJoint();
    case OpKind::kApply:
      break;
  }
  ConfChange cc;
  cc.set_transition(op.transition);
  for (const ConfChangeSingle& change : op.changes) *cc.add_changes() = change;
  return changer.Apply(cc);
}

// ---------------------------------------------------------------------------
// Checks.

IdSet Members(const TrackerConfig& config) {
  IdSet members = quorum::IdsOf(config.voters);
  members.insert(config.learners.begin(), config.learners.end());
  members.insert(config.learners_next.begin(), config.learners_next.end());
  return members;
}

IdSet Keys(const ProgressMap& progress) {
  IdSet keys;
  for (const auto& [id, unused] : progress) keys.insert(id);
  return keys;
}

// Property (c): a Progress for exactly the members.
void CheckProgressKeys(const ConfigAndProgress& state) {
  RC_ASSERT(Keys(state.second) == Members(state.first));
}

// Members that stay keep their Progress; new and restarted ones start fresh.
void CheckProgressCarriedOver(const ProgressMap& before,
                              const ProgressMap& after, const IdSet& restarted,
                              uint64_t last_index) {
  for (const auto& [id, pr] : after) {
    const auto it = before.find(id);
    if (it == before.end() || restarted.contains(id)) {
      RC_ASSERT(pr.match() == 0u);
      RC_ASSERT(pr.next() == last_index + 1);
      RC_ASSERT(pr.recent_active());
      RC_ASSERT(pr.state() == ProgressState::kProbe);
    } else {
      RC_ASSERT(pr.match() == it->second.match());
      RC_ASSERT(pr.next() == it->second.next());
      RC_ASSERT(pr.recent_active() == it->second.recent_active());
      RC_ASSERT(pr.state() == it->second.state());
    }
  }
}

// Property (b): restoring the configuration's ConfState reproduces it, with
// a Progress for the same nodes and the same learner flags.
void CheckRestoreRoundTrip(const ConfigAndProgress& state,
                           uint64_t last_index) {
  const absl::StatusOr<ConfigAndProgress> restored =
      Restore(ToConfState(state.first), last_index, kInflightMessagesMax,
              kInflightBytesMax);
  RC_LOG() << "restored: "
           << (restored.ok() ? restored->first.ToString()
                             : restored.status().ToString())
           << "\n";
  RC_ASSERT(restored.ok());
  RC_ASSERT(restored->first == state.first);
  RC_ASSERT(Keys(restored->second) == Keys(state.second));
  for (const auto& [id, pr] : restored->second) {
    RC_ASSERT(pr.is_learner() == state.second.at(id).is_learner());
    RC_ASSERT(pr.match() == 0u);
    RC_ASSERT(pr.next() == last_index + 1);
  }
}

// Runs a random sequence of operations from the empty configuration (or one
// with a single voter), each
// checked against the oracle, the invariants and the copy semantics, and
// calls `visit` on every configuration reached.
template <typename Visit>
void RunRandomSequence(Visit visit) {
  ConfigAndProgress state;
  // Mostly start from a single voter: from the empty configuration almost
  // every operation fails, which wastes steps.
  if (*rc::gen::weightedElement<bool>({{3, true}, {1, false}})) {
    state = *Changer(state.first, state.second, /*last_index=*/0,
                     kInflightMessagesMax, kInflightBytesMax)
                 .Simple(*ParseConfChanges("v1"));
  }
  const int steps = *rc::gen::inRange(1, kMaxSteps + 1);
  // Coverage of the interesting states, reported by RapidCheck.
  int applied = 0;
  bool reached_joint = false;
  bool reached_learners_next = false;
  for (int step = 0; step < steps; ++step) {
    const uint64_t last_index = *rc::gen::inRange<uint64_t>(0, 100);
    const IdSet members = Keys(state.second);
    const Op op = DrawOp(std::vector<uint64_t>(members.begin(), members.end()));
    const ConfigAndProgress before = state;
    const Changer changer(state.first, state.second, last_index,
                          kInflightMessagesMax, kInflightBytesMax);
    const absl::StatusOr<ConfigAndProgress> result = RunOp(changer, op);
    const Expected expected = ExpectOp(state.first, op);
    RC_LOG() << before.first.ToString() << " | " << op.ToString() << " -> "
             << (result.ok() ? result->first.ToString()
                             : result.status().ToString())
             << "\n";
    // Copy semantics: the inputs are untouched, whatever the outcome.
    RC_ASSERT(state.first == before.first);
    RC_ASSERT(ToString(state.second) == ToString(before.second));
    RC_ASSERT(result.status().code() == expected.code);
    if (!result.ok()) continue;
    // Property (a): the invariants hold.
    RC_ASSERT(CheckTrackerConsistency(result->first, result->second).ok());
    RC_ASSERT(result->first == expected.config);
    CheckProgressKeys(*result);
    CheckProgressCarriedOver(before.second, result->second, expected.restarted,
                             last_index);
    ++applied;
    reached_joint |= IsJoint(result->first);
    reached_learners_next |= !result->first.learners_next.empty();
    state = *result;
    visit(state, last_index);
  }
  RC_CLASSIFY(applied >= steps / 2, "most operations applied");
  RC_CLASSIFY(reached_joint, "reached a joint config");
  RC_CLASSIFY(reached_learners_next, "reached learners_next");
}

RC_GTEST_PROP(ConfChangeProperty, RandomChangesMatchTheOracleAndInvariants,
              ()) {
  RunRandomSequence([](const ConfigAndProgress&, uint64_t) {});
}

RC_GTEST_PROP(ConfChangeProperty, ProgressExistsExactlyForMembers, ()) {
  RunRandomSequence([](const ConfigAndProgress& state, uint64_t) {
    CheckProgressKeys(state);
  });
}

RC_GTEST_PROP(ConfChangeProperty, RestoreRoundTripsEveryReachableConfig, ()) {
  RunRandomSequence(CheckRestoreRoundTrip);
}

RC_GTEST_PROP(ConfChangeProperty, ParseInvertsToString, ()) {
  std::vector<ConfChangeSingle> changes = DrawChanges(0, kMaxChanges);
  // Only known types print in a parseable way.
  for (ConfChangeSingle& change : changes) {
    if (change.type() == CONF_CHANGE_TYPE_UNSPECIFIED) {
      change.set_type(CONF_CHANGE_TYPE_REMOVE_NODE);
    }
    change.set_node_id(*rc::gen::arbitrary<uint64_t>());
  }
  const std::string text = ConfChangesToString(changes);
  const absl::StatusOr<std::vector<ConfChangeSingle>> parsed =
      ParseConfChanges(text);
  RC_ASSERT(parsed.ok());
  RC_ASSERT(parsed->size() == changes.size());
  for (size_t i = 0; i < changes.size(); ++i) {
    RC_ASSERT((*parsed)[i].type() == changes[i].type());
    RC_ASSERT((*parsed)[i].node_id() == changes[i].node_id());
  }
}

}  // namespace
}  // namespace raftstore::raft::confchange
