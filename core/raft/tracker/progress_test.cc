#include "core/raft/tracker/progress.h"

#include <cstddef>
#include <cstdint>

#include "core/raft/tracker/inflights.h"
#include "gtest/gtest.h"
#include "rapidcheck/gtest.h"

namespace raftstore::raft {
namespace {

// A probing follower with the given match and next and a window of
// messages_max appends (no byte limit).
Progress MakeProgress(uint64_t match, uint64_t next, size_t messages_max = 4) {
  return Progress(match, next, Inflights(messages_max, /*bytes_max=*/0));
}

// A replicating follower: probed successfully up to match.
Progress MakeReplicating(uint64_t match, size_t messages_max = 4) {
  Progress progress = MakeProgress(match, match + 1, messages_max);
  progress.BecomeReplicate();
  return progress;
}

TEST(ProgressTest, NewProgressProbesFromNext) {
  const Progress progress = MakeProgress(0, 11);
  EXPECT_EQ(progress.state(), ProgressState::kProbe);
  EXPECT_EQ(progress.match(), 0u);
  EXPECT_EQ(progress.next(), 11u);
  EXPECT_EQ(progress.pending_snapshot(), 0u);
  EXPECT_FALSE(progress.recent_active());
  EXPECT_FALSE(progress.msg_app_flow_paused());
  EXPECT_FALSE(progress.is_learner());
  EXPECT_FALSE(progress.IsPaused());
}

TEST(ProgressTest, EmptyLogStartsAtIndexOne) {
  // A leader with an empty log has last index 0, so it starts every follower
  // at next = 1; the first append's previous index is 0, which always matches.
  const Progress progress = MakeProgress(0, 1);
  EXPECT_EQ(progress.next(), 1u);
}

TEST(ProgressTest, BecomeReplicateRestartsAfterMatch) {
  Progress progress = MakeProgress(5, 11);
  progress.SentEntries(1, 10);  // pause the probe; the transition clears it
  progress.BecomeReplicate();
  EXPECT_EQ(progress.state(), ProgressState::kReplicate);
  EXPECT_EQ(progress.next(), 6u);
  EXPECT_FALSE(progress.IsPaused());
}

TEST(ProgressTest, BecomeProbeFromReplicateRestartsAfterMatchAndClearsWindow) {
  Progress progress = MakeReplicating(5);
  progress.SentEntries(3, 30);
  progress.SentEntries(2, 20);
  ASSERT_EQ(progress.next(), 11u);
  ASSERT_EQ(progress.inflights().Count(), 2u);
  progress.BecomeProbe();
  EXPECT_EQ(progress.state(), ProgressState::kProbe);
  EXPECT_EQ(progress.next(), 6u);
  EXPECT_EQ(progress.inflights().Count(), 0u);
  EXPECT_FALSE(progress.IsPaused());
}

TEST(ProgressTest, BecomeSnapshotPausesAndRecordsIndex) {
  Progress progress = MakeProgress(1, 5);
  progress.BecomeSnapshot(20);
  EXPECT_EQ(progress.state(), ProgressState::kSnapshot);
  EXPECT_EQ(progress.pending_snapshot(), 20u);
  EXPECT_EQ(progress.next(), 5u);
  EXPECT_TRUE(progress.IsPaused());
}

TEST(ProgressTest, BecomeProbeAfterSnapshotResumesPastTheSnapshot) {
  Progress progress = MakeProgress(1, 5);
  progress.BecomeSnapshot(20);
  progress.BecomeProbe();
  EXPECT_EQ(progress.state(), ProgressState::kProbe);
  EXPECT_EQ(progress.next(), 21u);
  EXPECT_EQ(progress.pending_snapshot(), 0u);
  EXPECT_FALSE(progress.IsPaused());
}

TEST(ProgressTest, BecomeProbeAfterSnapshotBehindMatchResumesAfterMatch) {
  // The follower acknowledged past the snapshot while it was being sent (for
  // instance, the leader learned of entries it already had).
  Progress progress = MakeProgress(1, 5);
  progress.BecomeSnapshot(20);
  EXPECT_TRUE(progress.MaybeUpdate(30));
  progress.BecomeProbe();
  EXPECT_EQ(progress.next(), 31u);
}

TEST(ProgressTest, MaybeUpdateAdvancesMatchAndNext) {
  Progress progress = MakeProgress(0, 3);
  EXPECT_TRUE(progress.MaybeUpdate(7));
  EXPECT_EQ(progress.match(), 7u);
  EXPECT_EQ(progress.next(), 8u);  // raised to keep match < next
}

TEST(ProgressTest, MaybeUpdateKeepsNextAheadOfMatch) {
  Progress progress = MakeReplicating(2);
  progress.SentEntries(8, 80);  // next = 11
  EXPECT_TRUE(progress.MaybeUpdate(5));
  EXPECT_EQ(progress.match(), 5u);
  EXPECT_EQ(progress.next(), 11u);  // not lowered
}

TEST(ProgressTest, MaybeUpdateIgnoresStaleAcknowledgement) {
  Progress progress = MakeProgress(5, 9);
  EXPECT_FALSE(progress.MaybeUpdate(5));
  EXPECT_FALSE(progress.MaybeUpdate(3));
  EXPECT_EQ(progress.match(), 5u);
  EXPECT_EQ(progress.next(), 9u);
}

TEST(ProgressTest, MaybeUpdateUnpausesProbe) {
  Progress progress = MakeProgress(0, 6);
  progress.SentEntries(1, 10);
  ASSERT_TRUE(progress.IsPaused());
  EXPECT_TRUE(progress.MaybeUpdate(6));
  EXPECT_FALSE(progress.IsPaused());
}

TEST(ProgressTest, StaleMaybeUpdateLeavesProbePaused) {
  // Only the answer to the outstanding probe may release it; an old
  // acknowledgement says nothing about it.
  Progress progress = MakeProgress(4, 6);
  progress.SentEntries(1, 10);
  EXPECT_FALSE(progress.MaybeUpdate(3));
  EXPECT_TRUE(progress.IsPaused());
}

TEST(ProgressTest, MaybeUpdateInReplicateFreesAcknowledgedAppends) {
  Progress progress = MakeReplicating(0, /*messages_max=*/2);
  progress.SentEntries(3, 30);  // entries 1..3
  progress.SentEntries(3, 30);  // entries 4..6
  ASSERT_TRUE(progress.IsPaused());
  EXPECT_TRUE(progress.MaybeUpdate(3));
  EXPECT_EQ(progress.inflights().Count(), 1u);
  EXPECT_FALSE(progress.IsPaused());
  EXPECT_FALSE(progress.msg_app_flow_paused());
}

TEST(ProgressTest, MaybeDecrToInReplicateIgnoresRejectionAtOrBelowMatch) {
  Progress progress = MakeReplicating(5);
  progress.SentEntries(5, 50);  // next = 11
  EXPECT_FALSE(progress.MaybeDecrTo(5, 5));
  EXPECT_FALSE(progress.MaybeDecrTo(4, 0));
  EXPECT_EQ(progress.next(), 11u);
  EXPECT_EQ(progress.inflights().Count(), 1u);
}

TEST(ProgressTest, MaybeDecrToInReplicateFallsBackToMatchPlusOne) {
  Progress progress = MakeReplicating(5);
  progress.SentEntries(5, 50);  // next = 11
  // The hint is not used in kReplicate: next goes straight to match + 1.
  EXPECT_TRUE(progress.MaybeDecrTo(10, 8));
  EXPECT_EQ(progress.next(), 6u);
  EXPECT_EQ(progress.match(), 5u);
  EXPECT_EQ(progress.inflights().Count(), 0u);
  EXPECT_EQ(progress.state(), ProgressState::kReplicate);
}

TEST(ProgressTest, MaybeDecrToInProbeIgnoresRejectionOfAnotherProbe) {
  Progress progress = MakeProgress(0, 10);
  EXPECT_FALSE(progress.MaybeDecrTo(8, 3));   // not next - 1 = 9
  EXPECT_FALSE(progress.MaybeDecrTo(10, 3));  // nor a later one
  EXPECT_EQ(progress.next(), 10u);
}

TEST(ProgressTest, MaybeDecrToInProbeUsesTheHint) {
  Progress progress = MakeProgress(0, 10);
  progress.SentEntries(1, 10);
  EXPECT_TRUE(progress.MaybeDecrTo(9, 3));
  EXPECT_EQ(progress.next(), 4u);
  EXPECT_FALSE(progress.IsPaused());
}

TEST(ProgressTest, MaybeDecrToInProbeIgnoresHintAtOrAboveRejected) {
  // A hint can only say the logs diverge earlier; a larger one steps back by
  // one entry, as in the plain algorithm of the Raft paper (§5.3).
  Progress progress = MakeProgress(0, 10);
  EXPECT_TRUE(progress.MaybeDecrTo(9, 20));
  EXPECT_EQ(progress.next(), 9u);
}

TEST(ProgressTest, MaybeDecrToInProbeNeverGoesBelowMatchPlusOne) {
  Progress progress = MakeProgress(5, 10);
  EXPECT_TRUE(progress.MaybeDecrTo(9, 1));
  EXPECT_EQ(progress.next(), 6u);
}

TEST(ProgressTest, MaybeDecrToInProbeReachesIndexOneForEmptyFollower) {
  Progress progress = MakeProgress(0, 10);
  EXPECT_TRUE(progress.MaybeDecrTo(9, 0));  // the follower's log is empty
  EXPECT_EQ(progress.next(), 1u);
}

TEST(ProgressTest, MaybeDecrToSurvivesMaximalHint) {
  Progress progress = MakeProgress(0, 10);
  EXPECT_TRUE(progress.MaybeDecrTo(9, UINT64_MAX));
  EXPECT_EQ(progress.next(), 9u);
}

TEST(ProgressTest, MaybeDecrToInSnapshotUsesNextMinusOne) {
  Progress progress = MakeProgress(0, 10);
  progress.BecomeSnapshot(50);
  EXPECT_FALSE(progress.MaybeDecrTo(50, 2));  // rejected != next - 1
  EXPECT_TRUE(progress.MaybeDecrTo(9, 2));
  EXPECT_EQ(progress.next(), 3u);
  EXPECT_EQ(progress.state(), ProgressState::kSnapshot);
  EXPECT_TRUE(progress.IsPaused());  // still waiting on the snapshot
}

TEST(ProgressTest, SentEntriesInReplicateAdvancesNextAndFillsWindow) {
  Progress progress = MakeReplicating(0, /*messages_max=*/2);
  progress.SentEntries(3, 300);
  EXPECT_EQ(progress.next(), 4u);
  EXPECT_EQ(progress.inflights().Count(), 1u);
  EXPECT_EQ(progress.inflights().Bytes(), 300u);
  EXPECT_FALSE(progress.IsPaused());
  progress.SentEntries(2, 200);
  EXPECT_EQ(progress.next(), 6u);
  EXPECT_TRUE(progress.IsPaused());
  EXPECT_TRUE(progress.msg_app_flow_paused());
}

TEST(ProgressTest, EmptyAppendInReplicateIsNotTracked) {
  Progress progress = MakeReplicating(3, /*messages_max=*/1);
  progress.SentEntries(1, 10);
  ASSERT_TRUE(progress.IsPaused());
  // A commit-only append may still go out, and changes nothing.
  progress.SentEntries(0, 0);
  EXPECT_EQ(progress.next(), 5u);
  EXPECT_EQ(progress.inflights().Count(), 1u);
}

TEST(ProgressTest, SentEntriesInProbePausesWithoutMovingNext) {
  Progress progress = MakeProgress(0, 7);
  progress.SentEntries(5, 500);
  EXPECT_EQ(progress.next(), 7u);
  EXPECT_TRUE(progress.IsPaused());
  EXPECT_EQ(progress.inflights().Count(), 0u);
}

TEST(ProgressTest, HeartbeatResponseUnpausesProbe) {
  Progress progress = MakeProgress(0, 7);
  progress.SentEntries(1, 10);
  progress.OnHeartbeatResponse();
  EXPECT_FALSE(progress.IsPaused());
}

TEST(ProgressTest, HeartbeatResponseFreesOneSlotOfFullWindow) {
  Progress progress = MakeReplicating(0, /*messages_max=*/2);
  progress.SentEntries(1, 10);
  progress.OnHeartbeatResponse();  // not full: nothing freed
  EXPECT_EQ(progress.inflights().Count(), 1u);
  progress.SentEntries(1, 10);
  ASSERT_TRUE(progress.IsPaused());
  progress.OnHeartbeatResponse();
  EXPECT_EQ(progress.inflights().Count(), 1u);
  EXPECT_FALSE(progress.IsPaused());
}

TEST(ProgressTest, HeartbeatResponseKeepsSnapshotPaused) {
  Progress progress = MakeProgress(0, 7);
  progress.BecomeSnapshot(10);
  progress.OnHeartbeatResponse();
  EXPECT_TRUE(progress.IsPaused());
}

TEST(ProgressTest, IsPausedPerState) {
  Progress progress = MakeProgress(0, 1, /*messages_max=*/1);
  EXPECT_FALSE(progress.IsPaused());  // kProbe, nothing sent
  progress.SentEntries(1, 1);
  EXPECT_TRUE(progress.IsPaused());  // kProbe, probe outstanding
  progress.BecomeReplicate();
  EXPECT_FALSE(progress.IsPaused());  // kReplicate, window empty
  progress.SentEntries(1, 1);
  EXPECT_TRUE(progress.IsPaused());  // kReplicate, window full
  progress.BecomeSnapshot(5);
  EXPECT_TRUE(progress.IsPaused());  // kSnapshot, always
}

TEST(ProgressTest, LearnerAndActiveFlagsAreKeptAcrossTransitions) {
  Progress progress = MakeProgress(0, 1);
  progress.set_is_learner(true);
  progress.set_recent_active(true);
  progress.BecomeReplicate();
  progress.BecomeSnapshot(3);
  progress.BecomeProbe();
  EXPECT_TRUE(progress.is_learner());
  EXPECT_TRUE(progress.recent_active());
}

TEST(ProgressTest, ToStringIsCompactAndDeterministic) {
  Progress progress = MakeReplicating(5, /*messages_max=*/2);
  progress.set_recent_active(true);
  EXPECT_EQ(progress.ToString(), "StateReplicate match=5 next=6");
  progress.SentEntries(1, 10);
  progress.SentEntries(1, 10);
  EXPECT_EQ(progress.ToString(),
            "StateReplicate match=5 next=8 paused inflight=2[full]");
  progress.BecomeSnapshot(40);
  progress.set_is_learner(true);
  progress.set_recent_active(false);
  EXPECT_EQ(progress.ToString(),
            "StateSnapshot match=5 next=8 learner paused pending_snapshot=40 "
            "inactive");
  progress.BecomeProbe();
  EXPECT_EQ(progress.ToString(), "StateProbe match=5 next=41 learner inactive");
}

TEST(ProgressStateTest, NamesAreStable) {
  EXPECT_EQ(ProgressStateName(ProgressState::kProbe), "StateProbe");
  EXPECT_EQ(ProgressStateName(ProgressState::kReplicate), "StateReplicate");
  EXPECT_EQ(ProgressStateName(ProgressState::kSnapshot), "StateSnapshot");
}

TEST(ProgressDeathTest, MatchNotBelowNextIsABug) {
  EXPECT_DEATH(MakeProgress(5, 5), "match_ < next_");
}

TEST(ProgressDeathTest, NonEmptyWindowAtConstructionIsABug) {
  Inflights inflights(4, 0);
  inflights.Add(1, 1);
  EXPECT_DEATH(Progress(0, 1, inflights), "nothing in flight");
}

TEST(ProgressDeathTest, SentEntriesInSnapshotIsABug) {
  Progress progress = MakeProgress(0, 1);
  progress.BecomeSnapshot(5);
  EXPECT_DEATH(progress.SentEntries(1, 1), "snapshot is pending");
}

TEST(ProgressDeathTest, SecondProbeWhilePausedIsABug) {
  Progress progress = MakeProgress(0, 1);
  progress.SentEntries(1, 1);
  EXPECT_DEATH(progress.SentEntries(1, 1), "probe is already outstanding");
}

TEST(ProgressDeathTest, SendingIntoFullWindowIsABug) {
  Progress progress = MakeReplicating(0, /*messages_max=*/1);
  progress.SentEntries(1, 1);
  EXPECT_DEATH(progress.SentEntries(1, 1), "Add to a full window");
}

TEST(ProgressDeathTest, SnapshotAtIndexZeroIsABug) {
  Progress progress = MakeProgress(0, 1);
  EXPECT_DEATH(progress.BecomeSnapshot(0), "at least one entry");
}

// Drives a Progress through random events a leader might see, respecting only
// each method's documented preconditions, and checks what every state
// promises. Progress checks match < next itself after each event; a violation
// would abort the test.
RC_GTEST_PROP(ProgressProperty, RandomEventsKeepTheInvariants, ()) {
  const size_t messages_max = *rc::gen::inRange<size_t>(1, 6);
  const uint64_t start = *rc::gen::inRange<uint64_t>(1, 20);
  Progress progress(0, start, Inflights(messages_max, /*bytes_max=*/0));
  const int steps = *rc::gen::inRange(0, 200);
  for (int step = 0; step < steps; ++step) {
    const uint64_t before_match = progress.match();
    const uint64_t index = *rc::gen::inRange<uint64_t>(0, progress.next() + 5);
    switch (*rc::gen::inRange(0, 8)) {
      case 0:
        progress.BecomeProbe();
        break;
      case 1:
        progress.BecomeReplicate();
        break;
      case 2:
        if (index > 0) progress.BecomeSnapshot(index);
        break;
      case 3:
        RC_ASSERT(progress.MaybeUpdate(index) == (index > before_match));
        break;
      case 4:
        progress.MaybeDecrTo(index, *rc::gen::inRange<uint64_t>(0, index + 2));
        break;
      case 5:
      case 6:
        if (progress.state() != ProgressState::kSnapshot &&
            !progress.IsPaused()) {
          progress.SentEntries(*rc::gen::inRange<size_t>(0, 4), 1);
        }
        break;
      default:
        progress.OnHeartbeatResponse();
        break;
    }
    RC_ASSERT(progress.match() >= before_match);  // match never regresses
    RC_ASSERT(progress.match() < progress.next());
    RC_ASSERT(progress.inflights().Count() <= messages_max);
    if (progress.state() == ProgressState::kSnapshot) {
      RC_ASSERT(progress.IsPaused());
    } else {
      RC_ASSERT(progress.pending_snapshot() == 0u);
    }
    if (progress.state() != ProgressState::kReplicate) {
      RC_ASSERT(progress.inflights().Count() == 0u);
    }
  }
}

}  // namespace
}  // namespace raftstore::raft
