#include "core/raft/confchange/confchange.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/raft/tracker/inflights.h"
#include "core/raft/tracker/progress.h"
#include "core/raft/tracker/tracker.h"
#include "gtest/gtest.h"
#include "proto/raft.pb.h"

namespace raftstore::raft::confchange {
namespace {

constexpr uint64_t kLastIndex = 10;
constexpr size_t kInflightMessagesMax = 8;
constexpr uint64_t kInflightBytesMax = 4096;

// The changes of a script such as "v1 l2 r3"; the script must parse.
std::vector<ConfChangeSingle> Changes(std::string_view script) {
  absl::StatusOr<std::vector<ConfChangeSingle>> changes =
      ParseConfChanges(script);
  EXPECT_TRUE(changes.ok()) << changes.status();
  return changes.ok() ? *std::move(changes) : std::vector<ConfChangeSingle>();
}

Changer ChangerOf(const ConfigAndProgress& state,
                  uint64_t last_index = kLastIndex) {
  return Changer(state.first, state.second, last_index, kInflightMessagesMax,
                 kInflightBytesMax);
}

// The state reached from the empty configuration by applying each change of
// `script` as its own simple change; every one must succeed.
ConfigAndProgress Build(std::string_view script) {
  ConfigAndProgress state;
  for (const ConfChangeSingle& change : Changes(script)) {
    absl::StatusOr<ConfigAndProgress> next = ChangerOf(state).Simple({change});
    EXPECT_TRUE(next.ok()) << next.status();
    if (next.ok()) state = *std::move(next);
  }
  return state;
}

// Build(script), then EnterJoint(auto_leave, joint_script); must succeed.
ConfigAndProgress BuildJoint(std::string_view script,
                             std::string_view joint_script,
                             bool auto_leave = false) {
  absl::StatusOr<ConfigAndProgress> state =
      ChangerOf(Build(script)).EnterJoint(auto_leave, Changes(joint_script));
  EXPECT_TRUE(state.ok()) << state.status();
  return state.ok() ? *std::move(state) : ConfigAndProgress();
}

// The config of a result, or its error as "<code>: <message>".
std::string Describe(const absl::StatusOr<ConfigAndProgress>& result) {
  if (!result.ok()) return result.status().ToString();
  return result->first.ToString();
}

// Expects `result` to have failed with `code` and a message containing
// `what`.
void ExpectError(const absl::StatusOr<ConfigAndProgress>& result,
                 absl::StatusCode code, const std::string& what) {
  ASSERT_FALSE(result.ok()) << Describe(result);
  EXPECT_EQ(result.status().code(), code) << result.status();
  EXPECT_NE(std::string(result.status().message()).find(what),
            std::string::npos)
      << result.status();
}

ConfChange MakeConfChange(ConfChangeTransition transition,
                          std::string_view script) {
  ConfChange cc;
  cc.set_transition(transition);
  for (const ConfChangeSingle& change : Changes(script)) {
    *cc.add_changes() = change;
  }
  return cc;
}

// ---------------------------------------------------------------------------
// Simple.

TEST(SimpleTest, AddsVotersOneAtATimeFromEmpty) {
  const ConfigAndProgress state = Build("v1 v2 v3");
  EXPECT_EQ(state.first.ToString(), "voters=(1 2 3)");
  EXPECT_EQ(state.second.size(), 3u);
}

TEST(SimpleTest, NewMembersStartProbingAfterTheLastIndex) {
  absl::StatusOr<ConfigAndProgress> result =
      ChangerOf(ConfigAndProgress(), 41).Simple(Changes("v1 l2"));
  ASSERT_TRUE(result.ok()) << result.status();
  for (uint64_t id : {1, 2}) {
    const Progress& pr = result->second.at(id);
    EXPECT_EQ(pr.state(), ProgressState::kProbe);
    EXPECT_EQ(pr.match(), 0u);
    EXPECT_EQ(pr.next(), 42u);
    EXPECT_TRUE(pr.recent_active());
    EXPECT_EQ(pr.inflights().messages_max(), kInflightMessagesMax);
    EXPECT_EQ(pr.inflights().bytes_max(), kInflightBytesMax);
  }
  EXPECT_FALSE(result->second.at(1).is_learner());
  EXPECT_TRUE(result->second.at(2).is_learner());
}

TEST(SimpleTest, OneVoterAndAnyLearnersAtOnce) {
  EXPECT_EQ(Describe(ChangerOf(Build("v1")).Simple(Changes("v2 l3 l4"))),
            "voters=(1 2) learners=(3 4)");
}

TEST(SimpleTest, RejectsMoreThanOneVoterChange) {
  const ConfigAndProgress state = Build("v1 v2 v3");
  ExpectError(ChangerOf(state).Simple(Changes("v4 v5")),
              absl::StatusCode::kInvalidArgument, "use joint consensus");
  ExpectError(ChangerOf(state).Simple(Changes("r1 v4")),
              absl::StatusCode::kInvalidArgument, "more than one voter");
  ExpectError(ChangerOf(state).Simple(Changes("r1 r2")),
              absl::StatusCode::kInvalidArgument, "(1 2 3) to (3)");
}

TEST(SimpleTest, ChangesThatCancelOutAreNoVoterChange) {
  EXPECT_EQ(Describe(ChangerOf(Build("v1 v2")).Simple(Changes("v3 r3 v4"))),
            "voters=(1 2 4)");
}

TEST(SimpleTest, PromotesALearnerKeepingItsProgress) {
  ConfigAndProgress state = Build("v1 l2");
  ASSERT_TRUE(state.second.at(2).MaybeUpdate(7));
  absl::StatusOr<ConfigAndProgress> result =
      ChangerOf(state).Simple(Changes("v2"));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->first.ToString(), "voters=(1 2)");
  EXPECT_FALSE(result->second.at(2).is_learner());
  EXPECT_EQ(result->second.at(2).match(), 7u);
}

TEST(SimpleTest, DemotesAVoterDirectlyOutsideJointConsensus) {
  ConfigAndProgress state = Build("v1 v2");
  ASSERT_TRUE(state.second.at(2).MaybeUpdate(5));
  absl::StatusOr<ConfigAndProgress> result =
      ChangerOf(state).Simple(Changes("l2"));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->first.ToString(), "voters=(1) learners=(2)");
  EXPECT_TRUE(result->second.at(2).is_learner());
  EXPECT_EQ(result->second.at(2).match(), 5u);
}

TEST(SimpleTest, RemoveDropsProgress) {
  absl::StatusOr<ConfigAndProgress> result =
      ChangerOf(Build("v1 v2 l3")).Simple(Changes("r2 r3"));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->first.ToString(), "voters=(1)");
  EXPECT_EQ(result->second.size(), 1u);
  EXPECT_TRUE(result->second.contains(1));
}

TEST(SimpleTest, RemovingAndAddingBackStartsAfresh) {
  ConfigAndProgress state = Build("v1 l2");
  ASSERT_TRUE(state.second.at(2).MaybeUpdate(7));
  absl::StatusOr<ConfigAndProgress> result =
      ChangerOf(state).Simple(Changes("r2 l2"));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->first.ToString(), "voters=(1) learners=(2)");
  EXPECT_EQ(result->second.at(2).match(), 0u);
  EXPECT_EQ(result->second.at(2).next(), kLastIndex + 1);
}

TEST(SimpleTest, RepeatedAndUnknownChangesDoNothing) {
  const ConfigAndProgress state = Build("v1 l2");
  absl::StatusOr<ConfigAndProgress> result =
      ChangerOf(state).Simple(Changes("v1 l2 r9"));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->first, state.first);
  EXPECT_EQ(ToString(result->second), ToString(state.second));
}

TEST(SimpleTest, RejectsRemovingTheLastVoter) {
  ExpectError(ChangerOf(Build("v1 l2")).Simple(Changes("r1")),
              absl::StatusCode::kInvalidArgument, "removed all voters");
  ExpectError(ChangerOf(Build("v1")).Simple(Changes("l1")),
              absl::StatusCode::kInvalidArgument, "removed all voters");
}

TEST(SimpleTest, RejectsALearnerAsTheFirstMember) {
  ExpectError(ChangerOf(ConfigAndProgress()).Simple(Changes("l1")),
              absl::StatusCode::kInvalidArgument, "removed all voters");
}

TEST(SimpleTest, RejectsNodeIdZero) {
  ExpectError(ChangerOf(Build("v1")).Simple(Changes("v0")),
              absl::StatusCode::kInvalidArgument, "node id 0 is reserved");
  ExpectError(ChangerOf(Build("v1")).Simple(Changes("r0")),
              absl::StatusCode::kInvalidArgument, "node id 0 is reserved");
}

TEST(SimpleTest, RejectsUnspecifiedAndUnknownTypes) {
  ConfChangeSingle change;
  change.set_node_id(2);
  ExpectError(ChangerOf(Build("v1")).Simple({change}),
              absl::StatusCode::kInvalidArgument,
              "unexpected conf change type 0 for node 2");
  change.set_type(static_cast<ConfChangeType>(17));
  ExpectError(ChangerOf(Build("v1")).Simple({change}),
              absl::StatusCode::kInvalidArgument,
              "unexpected conf change type 17");
}

TEST(SimpleTest, RejectsJointConfig) {
  ExpectError(ChangerOf(BuildJoint("v1", "v2")).Simple(Changes("l3")),
              absl::StatusCode::kFailedPrecondition,
              "can't apply a simple config change in a joint config");
}

TEST(SimpleTest, ErrorNamesTheOperation) {
  ExpectError(ChangerOf(Build("v1")).Simple(Changes("v2 v3")),
              absl::StatusCode::kInvalidArgument, "Simple(v2 v3): ");
}

// ---------------------------------------------------------------------------
// EnterJoint and LeaveJoint.

TEST(EnterJointTest, OutgoingIsTheOldVotersAndChangesApplyToIncoming) {
  EXPECT_EQ(
      Describe(
          ChangerOf(Build("v1 v2 v3")).EnterJoint(false, Changes("v4 v5 r1"))),
      "voters=(2 3 4 5)&&(1 2 3)");
}

TEST(EnterJointTest, RecordsAutoLeave) {
  EXPECT_EQ(Describe(ChangerOf(Build("v1")).EnterJoint(true, Changes("v2"))),
            "voters=(1 2)&&(1) autoleave");
}

TEST(EnterJointTest, RemovedOutgoingVoterKeepsItsProgress) {
  ConfigAndProgress state = Build("v1 v2 v3");
  ASSERT_TRUE(state.second.at(3).MaybeUpdate(9));
  absl::StatusOr<ConfigAndProgress> result =
      ChangerOf(state).EnterJoint(false, Changes("r3 v4"));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->first.ToString(), "voters=(1 2 4)&&(1 2 3)");
  ASSERT_TRUE(result->second.contains(3));
  EXPECT_EQ(result->second.at(3).match(), 9u);
}

TEST(EnterJointTest, DemotedVoterWaitsInLearnersNext) {
  absl::StatusOr<ConfigAndProgress> result =
      ChangerOf(Build("v1 v2 v3")).EnterJoint(false, Changes("l3 v4"));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->first.ToString(),
            "voters=(1 2 4)&&(1 2 3) learners_next=(3)");
  // It still votes in the outgoing half.
  EXPECT_FALSE(result->second.at(3).is_learner());
}

TEST(EnterJointTest, NewOrExistingNonVoterBecomesLearnerAtOnce) {
  EXPECT_EQ(
      Describe(
          ChangerOf(Build("v1 v2 l3")).EnterJoint(false, Changes("l4 l3 v5"))),
      "voters=(1 2 5)&&(1 2) learners=(3 4)");
}

TEST(EnterJointTest, PromotesALearner) {
  EXPECT_EQ(
      Describe(ChangerOf(Build("v1 l2")).EnterJoint(false, Changes("v2 v3"))),
      "voters=(1 2 3)&&(1)");
}

TEST(EnterJointTest, LastChangeOfANodeWins) {
  EXPECT_EQ(
      Describe(
          ChangerOf(Build("v1 v2 v3")).EnterJoint(false, Changes("l3 v3"))),
      "voters=(1 2 3)&&(1 2 3)");
  EXPECT_EQ(
      Describe(
          ChangerOf(Build("v1 v2 v3")).EnterJoint(false, Changes("l3 r3"))),
      "voters=(1 2)&&(1 2 3)");
  EXPECT_EQ(
      Describe(
          ChangerOf(Build("v1 v2 v3")).EnterJoint(false, Changes("r3 l3"))),
      "voters=(1 2)&&(1 2 3) learners_next=(3)");
}

TEST(EnterJointTest, NoChangesGiveEqualHalves) {
  EXPECT_EQ(Describe(ChangerOf(Build("v1 v2")).EnterJoint(false, {})),
            "voters=(1 2)&&(1 2)");
}

TEST(EnterJointTest, RejectsAlreadyJointConfig) {
  ExpectError(
      ChangerOf(BuildJoint("v1", "v2")).EnterJoint(false, Changes("v3")),
      absl::StatusCode::kFailedPrecondition, "config is already joint");
}

TEST(EnterJointTest, RejectsZeroVoterConfig) {
  ExpectError(ChangerOf(ConfigAndProgress()).EnterJoint(false, Changes("v1")),
              absl::StatusCode::kFailedPrecondition,
              "can't make a zero-voter config joint");
}

TEST(EnterJointTest, RejectsRemovingEveryIncomingVoter) {
  ExpectError(ChangerOf(Build("v1 v2")).EnterJoint(false, Changes("r1 r2 l3")),
              absl::StatusCode::kInvalidArgument, "removed all voters");
  ExpectError(ChangerOf(Build("v1 v2")).EnterJoint(false, Changes("l1 l2")),
              absl::StatusCode::kInvalidArgument, "removed all voters");
}

TEST(EnterJointTest, RejectsMalformedChanges) {
  ExpectError(ChangerOf(Build("v1")).EnterJoint(false, Changes("v2 l0")),
              absl::StatusCode::kInvalidArgument, "node id 0 is reserved");
  ConfChangeSingle unspecified;
  unspecified.set_node_id(3);
  ExpectError(ChangerOf(Build("v1")).EnterJoint(false, {unspecified}),
              absl::StatusCode::kInvalidArgument,
              "unexpected conf change type 0");
}

TEST(LeaveJointTest, DropsOutgoingAndMakesLearnersNextLearners) {
  const ConfigAndProgress joint = BuildJoint("v1 v2 v3 l4", "l3 r2 v5", true);
  ASSERT_EQ(joint.first.ToString(),
            "voters=(1 5)&&(1 2 3) learners=(4) learners_next=(3) autoleave");
  absl::StatusOr<ConfigAndProgress> result = ChangerOf(joint).LeaveJoint();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->first.ToString(), "voters=(1 5) learners=(3 4)");
  EXPECT_TRUE(result->second.at(3).is_learner());
  // 2 was only an outgoing voter: it is gone now.
  EXPECT_FALSE(result->second.contains(2));
  EXPECT_EQ(result->second.size(), 4u);
}

TEST(LeaveJointTest, KeepsProgressOfRemainingMembers) {
  ConfigAndProgress joint = BuildJoint("v1 v2", "v3");
  ASSERT_TRUE(joint.second.at(1).MaybeUpdate(6));
  absl::StatusOr<ConfigAndProgress> result = ChangerOf(joint).LeaveJoint();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(ToString(result->second), ToString(joint.second));
}

TEST(LeaveJointTest, RejectsNonJointConfig) {
  ExpectError(ChangerOf(Build("v1 v2")).LeaveJoint(),
              absl::StatusCode::kFailedPrecondition,
              "can't leave a non-joint config");
  ExpectError(ChangerOf(ConfigAndProgress()).LeaveJoint(),
              absl::StatusCode::kFailedPrecondition,
              "can't leave a non-joint config");
}

// ---------------------------------------------------------------------------
// Copy semantics and input checks.

TEST(ChangerTest, NeverModifiesItsInputsOrItself) {
  const ConfigAndProgress state = Build("v1 v2 l3");
  const std::string before = ToString(state.second);
  const Changer changer = ChangerOf(state);
  ASSERT_TRUE(changer.Simple(Changes("r1 l4")).ok());
  ASSERT_TRUE(changer.EnterJoint(true, Changes("r1 r2 v3")).ok());
  ExpectError(changer.Simple(Changes("v5 v6")),
              absl::StatusCode::kInvalidArgument, "use joint consensus");
  EXPECT_EQ(state.first.ToString(), "voters=(1 2) learners=(3)");
  EXPECT_EQ(ToString(state.second), before);
  // The same Changer evaluates alternatives, each from the same start.
  EXPECT_EQ(Describe(changer.Simple(Changes("v4"))),
            "voters=(1 2 4) learners=(3)");
  EXPECT_EQ(Describe(changer.Simple(Changes("r2"))), "voters=(1) learners=(3)");
}

TEST(ChangerTest, FromTrackerUsesItsStateAndLimits) {
  ProgressTracker tracker(/*inflight_messages_max=*/3,
                          /*inflight_bytes_max=*/99);
  const ConfigAndProgress state = Build("v1");
  tracker.ApplyConfig(state.first, state.second);
  absl::StatusOr<ConfigAndProgress> result =
      Changer(tracker, /*last_index=*/5).Simple(Changes("v2"));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->first.ToString(), "voters=(1 2)");
  EXPECT_EQ(result->second.at(2).inflights().messages_max(), 3u);
  EXPECT_EQ(result->second.at(2).inflights().bytes_max(), 99u);
  EXPECT_EQ(result->second.at(2).next(), 6u);
  EXPECT_EQ(tracker.config().ToString(), "voters=(1)");
}

TEST(ChangerTest, RejectsInconsistentStartingPoint) {
  ConfigAndProgress state = Build("v1 v2");
  state.second.erase(2);
  ExpectError(ChangerOf(state).Simple(Changes("v3")),
              absl::StatusCode::kFailedPrecondition, "current configuration: ");
  ExpectError(ChangerOf(state).LeaveJoint(),
              absl::StatusCode::kFailedPrecondition, "no progress for 2");
}

TEST(ChangerDeathTest, RequiresRoomForNextIndex) {
  EXPECT_DEATH(ChangerOf(ConfigAndProgress(), UINT64_MAX), "must not overflow");
}

// ---------------------------------------------------------------------------
// Transitions and Apply.

TEST(TransitionTest, AutoWithOneChangeIsSimple) {
  const ConfChange cc = MakeConfChange(CONF_CHANGE_TRANSITION_AUTO, "v2");
  EXPECT_EQ(EnterJointNeeded(cc).value(), false);
  EXPECT_EQ(AutoLeave(cc).value(), false);
  EXPECT_FALSE(LeaveJointRequested(cc));
}

TEST(TransitionTest, AutoWithSeveralChangesIsJointAndLeavesAutomatically) {
  const ConfChange cc = MakeConfChange(CONF_CHANGE_TRANSITION_AUTO, "v2 l3");
  EXPECT_EQ(EnterJointNeeded(cc).value(), true);
  EXPECT_EQ(AutoLeave(cc).value(), true);
}

TEST(TransitionTest, ImplicitIsAlwaysJointAndLeavesAutomatically) {
  const ConfChange cc =
      MakeConfChange(CONF_CHANGE_TRANSITION_JOINT_IMPLICIT, "v2");
  EXPECT_EQ(EnterJointNeeded(cc).value(), true);
  EXPECT_EQ(AutoLeave(cc).value(), true);
}

TEST(TransitionTest, ExplicitIsAlwaysJointAndWaitsForTheLeave) {
  const ConfChange cc =
      MakeConfChange(CONF_CHANGE_TRANSITION_JOINT_EXPLICIT, "v2");
  EXPECT_EQ(EnterJointNeeded(cc).value(), true);
  EXPECT_EQ(AutoLeave(cc).value(), false);
}

TEST(TransitionTest, NoChangesRequestLeavingJoint) {
  for (ConfChangeTransition transition :
       {CONF_CHANGE_TRANSITION_AUTO, CONF_CHANGE_TRANSITION_JOINT_IMPLICIT,
        CONF_CHANGE_TRANSITION_JOINT_EXPLICIT}) {
    const ConfChange cc = MakeConfChange(transition, "");
    EXPECT_TRUE(LeaveJointRequested(cc));
    EXPECT_EQ(EnterJointNeeded(cc).value(), false);
    EXPECT_EQ(AutoLeave(cc).value(), false);
  }
}

TEST(TransitionTest, RejectsUnspecifiedAndUnknownTransitions) {
  for (int transition : {0, 4, -1}) {
    const ConfChange cc =
        MakeConfChange(static_cast<ConfChangeTransition>(transition), "v2");
    EXPECT_EQ(EnterJointNeeded(cc).status().code(),
              absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(AutoLeave(cc).status().code(),
              absl::StatusCode::kInvalidArgument);
  }
}

TEST(ApplyTest, DispatchesOnTheTransition) {
  const Changer changer = ChangerOf(Build("v1 v2"));
  EXPECT_EQ(Describe(changer.Apply(
                MakeConfChange(CONF_CHANGE_TRANSITION_AUTO, "v3"))),
            "voters=(1 2 3)");
  EXPECT_EQ(Describe(changer.Apply(
                MakeConfChange(CONF_CHANGE_TRANSITION_AUTO, "v3 v4"))),
            "voters=(1 2 3 4)&&(1 2) autoleave");
  EXPECT_EQ(Describe(changer.Apply(
                MakeConfChange(CONF_CHANGE_TRANSITION_JOINT_IMPLICIT, "v3"))),
            "voters=(1 2 3)&&(1 2) autoleave");
  EXPECT_EQ(Describe(changer.Apply(
                MakeConfChange(CONF_CHANGE_TRANSITION_JOINT_EXPLICIT, "v3"))),
            "voters=(1 2 3)&&(1 2)");
}

TEST(ApplyTest, EmptyChangeLeavesJoint) {
  const Changer changer = ChangerOf(BuildJoint("v1 v2", "r2 v3", true));
  EXPECT_EQ(
      Describe(changer.Apply(MakeConfChange(CONF_CHANGE_TRANSITION_AUTO, ""))),
      "voters=(1 3)");
  ExpectError(ChangerOf(Build("v1"))
                  .Apply(MakeConfChange(CONF_CHANGE_TRANSITION_AUTO, "")),
              absl::StatusCode::kFailedPrecondition,
              "can't leave a non-joint config");
}

TEST(ApplyTest, RejectsUnspecifiedTransition) {
  const Changer changer = ChangerOf(BuildJoint("v1", "v2"));
  for (std::string_view script : {"", "v3", "v3 v4"}) {
    ExpectError(changer.Apply(
                    MakeConfChange(CONF_CHANGE_TRANSITION_UNSPECIFIED, script)),
                absl::StatusCode::kInvalidArgument,
                "unexpected conf change transition 0");
  }
}

// ---------------------------------------------------------------------------
// Describing and parsing changes.

TEST(ConfChangeStringTest, DescribesEachChangeInOrder) {
  EXPECT_EQ(ConfChangesToString(Changes("v1 v2 l3 r4")), "v1 v2 l3 r4");
  EXPECT_EQ(ConfChangesToString({}), "");
  const ConfChange cc =
      MakeConfChange(CONF_CHANGE_TRANSITION_JOINT_EXPLICIT, "r7 l12");
  EXPECT_EQ(ConfChangeToString(cc), "r7 l12");
  EXPECT_EQ(ConfChangeToString(ConfChange()), "");
}

TEST(ConfChangeStringTest, UnknownTypePrintsAsQuestionMark) {
  ConfChangeSingle change;
  change.set_node_id(5);
  EXPECT_EQ(ConfChangesToString({change}), "?5");
  EXPECT_FALSE(ParseConfChanges("?5").ok());
}

TEST(ParseConfChangesTest, ParsesTypesAndIds) {
  const absl::StatusOr<std::vector<ConfChangeSingle>> changes =
      ParseConfChanges("v1 l2 r18446744073709551615");
  ASSERT_TRUE(changes.ok()) << changes.status();
  ASSERT_EQ(changes->size(), 3u);
  EXPECT_EQ((*changes)[0].type(), CONF_CHANGE_TYPE_ADD_VOTER);
  EXPECT_EQ((*changes)[0].node_id(), 1u);
  EXPECT_EQ((*changes)[1].type(), CONF_CHANGE_TYPE_ADD_LEARNER);
  EXPECT_EQ((*changes)[1].node_id(), 2u);
  EXPECT_EQ((*changes)[2].type(), CONF_CHANGE_TYPE_REMOVE_NODE);
  EXPECT_EQ((*changes)[2].node_id(), UINT64_MAX);
}

TEST(ParseConfChangesTest, AcceptsAnyBlanksAndNothing) {
  EXPECT_EQ(ConfChangesToString(Changes("  v1\tl2\n r3  ")), "v1 l2 r3");
  EXPECT_TRUE(Changes("").empty());
  EXPECT_TRUE(Changes(" \t\n").empty());
}

TEST(ParseConfChangesTest, AcceptsIdZeroForTheChangerToReject) {
  EXPECT_EQ(ConfChangesToString(Changes("v0")), "v0");
}

TEST(ParseConfChangesTest, RejectsBadTokens) {
  for (std::string_view text :
       {"x1", "V1", "v", "vabc", "v-1", "v+1", "v1x", "v 1", "v1,v2",
        "v18446744073709551616", "l1 r"}) {
    const absl::StatusOr<std::vector<ConfChangeSingle>> changes =
        ParseConfChanges(text);
    EXPECT_EQ(changes.status().code(), absl::StatusCode::kInvalidArgument)
        << text;
  }
  EXPECT_NE(
      std::string(ParseConfChanges("v1 q7").status().message()).find("\"q7\""),
      std::string::npos);
}

}  // namespace
}  // namespace raftstore::raft::confchange
