#include "core/raft/tracker/tracker.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "core/raft/quorum/quorum.h"
#include "core/raft/tracker/inflights.h"
#include "core/raft/tracker/progress.h"
#include "gtest/gtest.h"
#include "proto/raft.pb.h"
#include "rapidcheck/gtest.h"

namespace raftstore::raft {
namespace {

using quorum::VoteResult;

constexpr size_t kInflightMessagesMax = 4;
constexpr uint64_t kInflightBytesMax = 0;

// A probing Progress at match, with next just after it.
Progress MakeProgress(uint64_t match, bool is_learner = false) {
  Progress progress(match, match + 1,
                    Inflights(kInflightMessagesMax, kInflightBytesMax));
  progress.set_is_learner(is_learner);
  return progress;
}

// A configuration with the given sets (auto_leave off).
TrackerConfig MakeConfig(quorum::MajorityConfig incoming,
                         quorum::MajorityConfig outgoing = {},
                         absl::btree_set<uint64_t> learners = {},
                         absl::btree_set<uint64_t> learners_next = {}) {
  TrackerConfig config;
  config.voters.incoming = std::move(incoming);
  config.voters.outgoing = std::move(outgoing);
  config.learners = std::move(learners);
  config.learners_next = std::move(learners_next);
  return config;
}

// A consistent progress map for `config`: every member at match 0, learners
// marked as such.
ProgressMap MakeProgressMap(const TrackerConfig& config) {
  ProgressMap progress;
  for (uint64_t id : quorum::IdsOf(config.voters)) {
    progress.emplace(id, MakeProgress(0));
  }
  for (uint64_t id : config.learners) {
    progress.emplace(id, MakeProgress(0, /*is_learner=*/true));
  }
  return progress;
}

// A tracker holding `config`, with each member's match taken from `matches`
// (0 if absent).
ProgressTracker MakeTracker(
    const TrackerConfig& config,
    const absl::btree_map<uint64_t, uint64_t>& matches = {}) {
  ProgressTracker tracker(kInflightMessagesMax, kInflightBytesMax);
  ProgressMap progress = MakeProgressMap(config);
  for (const auto& [id, match] : matches) {
    const bool learner = progress.at(id).is_learner();
    progress.insert_or_assign(id, MakeProgress(match, learner));
  }
  tracker.ApplyConfig(config, std::move(progress));
  return tracker;
}

// ---------------------------------------------------------------------------
// TrackerConfig and the free functions.

TEST(TrackerConfigTest, ToStringOfEmptyConfig) {
  EXPECT_EQ(TrackerConfig().ToString(), "voters=()");
}

TEST(TrackerConfigTest, ToStringListsOnlyNonEmptyParts) {
  EXPECT_EQ(MakeConfig({1, 2, 3}).ToString(), "voters=(1 2 3)");
  EXPECT_EQ(MakeConfig({1, 2}, {}, {5}).ToString(),
            "voters=(1 2) learners=(5)");
}

TEST(TrackerConfigTest, ToStringOfJointConfig) {
  TrackerConfig config = MakeConfig({1, 2, 3}, {1, 2, 4}, {5}, {4});
  config.auto_leave = true;
  EXPECT_EQ(config.ToString(),
            "voters=(1 2 3)&&(1 2 4) learners=(5) learners_next=(4) "
            "autoleave");
}

TEST(TrackerConfigTest, ToConfStateListsIdsInAscendingOrder) {
  TrackerConfig config = MakeConfig({3, 1, 2}, {4, 2, 1}, {7, 5}, {4});
  config.auto_leave = true;
  const ConfState state = ToConfState(config);
  EXPECT_EQ(std::vector<uint64_t>(state.voters().begin(), state.voters().end()),
            (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_EQ(std::vector<uint64_t>(state.voters_outgoing().begin(),
                                  state.voters_outgoing().end()),
            (std::vector<uint64_t>{1, 2, 4}));
  EXPECT_EQ(
      std::vector<uint64_t>(state.learners().begin(), state.learners().end()),
      (std::vector<uint64_t>{5, 7}));
  EXPECT_EQ(std::vector<uint64_t>(state.learners_next().begin(),
                                  state.learners_next().end()),
            (std::vector<uint64_t>{4}));
  EXPECT_TRUE(state.auto_leave());
}

TEST(CheckTrackerConsistencyTest, AcceptsEmptyConfig) {
  EXPECT_TRUE(CheckTrackerConsistency(TrackerConfig(), ProgressMap()).ok());
}

TEST(CheckTrackerConsistencyTest, AcceptsValidJointConfig) {
  TrackerConfig config = MakeConfig({1, 2, 3}, {1, 2, 4}, {5}, {4});
  config.auto_leave = true;
  EXPECT_TRUE(CheckTrackerConsistency(config, MakeProgressMap(config)).ok());
}

// Expects CheckTrackerConsistency to reject config (with its consistent
// progress map) with a message containing `what`.
void ExpectBrokenConfig(const TrackerConfig& config, const std::string& what) {
  const absl::Status status =
      CheckTrackerConsistency(config, MakeProgressMap(config));
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition)
      << config.ToString();
  EXPECT_NE(std::string(status.message()).find(what), std::string::npos)
      << status.message();
}

TEST(CheckTrackerConsistencyTest, RejectsBrokenConfigs) {
  ExpectBrokenConfig(MakeConfig({0, 1}), "node id 0 is reserved");
  ExpectBrokenConfig(MakeConfig({1}, {}, {0}), "node id 0 is reserved");
  ExpectBrokenConfig(MakeConfig({1, 2}, {}, {2}),
                     "2 is a learner and an incoming voter");
  ExpectBrokenConfig(MakeConfig({1}, {1, 2}, {2}),
                     "2 is a learner and an outgoing voter");
  ExpectBrokenConfig(MakeConfig({1}, {1, 2}, {}, {1}),
                     "1 is in learners_next and an incoming voter");
  ExpectBrokenConfig(MakeConfig({1}, {1}, {}, {3}),
                     "3 is in learners_next but not an outgoing voter");
  TrackerConfig auto_leave_outside_joint = MakeConfig({1});
  auto_leave_outside_joint.auto_leave = true;
  ExpectBrokenConfig(auto_leave_outside_joint, "auto_leave");
}

TEST(CheckTrackerConsistencyTest, RejectsLearnerAlsoInLearnersNext) {
  // Built by hand: MakeProgressMap would not make 2 a voter and a learner.
  const TrackerConfig config = MakeConfig({1}, {1, 2}, {2}, {2});
  EXPECT_EQ(CheckTrackerConsistency(config, ProgressMap()).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(CheckTrackerConsistencyTest, RejectsMissingProgress) {
  const TrackerConfig config = MakeConfig({1, 2}, {}, {3});
  for (uint64_t id : {1, 2, 3}) {
    ProgressMap progress = MakeProgressMap(config);
    progress.erase(id);
    const absl::Status status = CheckTrackerConsistency(config, progress);
    EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_NE(std::string(status.message()).find("no progress for"),
              std::string::npos);
  }
}

TEST(CheckTrackerConsistencyTest, RejectsProgressOfNonMember) {
  const TrackerConfig config = MakeConfig({1, 2});
  ProgressMap progress = MakeProgressMap(config);
  progress.emplace(9, MakeProgress(0));
  const absl::Status status = CheckTrackerConsistency(config, progress);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(std::string(status.message()).find("progress for non-member 9"),
            std::string::npos);
}

TEST(CheckTrackerConsistencyTest, RejectsWrongLearnerFlags) {
  const TrackerConfig config = MakeConfig({1}, {1, 2}, {3}, {2});
  {
    ProgressMap progress = MakeProgressMap(config);
    progress.at(3).set_is_learner(false);  // a learner must be marked
    EXPECT_FALSE(CheckTrackerConsistency(config, progress).ok());
  }
  {
    ProgressMap progress = MakeProgressMap(config);
    progress.at(1).set_is_learner(true);  // a voter must not be
    EXPECT_FALSE(CheckTrackerConsistency(config, progress).ok());
  }
  {
    // learners_next still votes in the outgoing half.
    ProgressMap progress = MakeProgressMap(config);
    progress.at(2).set_is_learner(true);
    EXPECT_FALSE(CheckTrackerConsistency(config, progress).ok());
  }
}

TEST(ProgressMapTest, ToStringDescribesEachNodeInIdOrder) {
  ProgressMap progress;
  progress.emplace(2, MakeProgress(3, /*is_learner=*/true));
  progress.emplace(1, MakeProgress(5));
  EXPECT_EQ(ToString(progress),
            "1: StateProbe match=5 next=6 inactive\n"
            "2: StateProbe match=3 next=4 learner inactive\n");
  EXPECT_EQ(ToString(ProgressMap()), "");
}

// ---------------------------------------------------------------------------
// ProgressTracker.

TEST(ProgressTrackerTest, StartsEmpty) {
  const ProgressTracker tracker(kInflightMessagesMax, 1024);
  EXPECT_EQ(tracker.config(), TrackerConfig());
  EXPECT_TRUE(tracker.progress().empty());
  EXPECT_TRUE(tracker.votes().empty());
  EXPECT_EQ(tracker.inflight_messages_max(), kInflightMessagesMax);
  EXPECT_EQ(tracker.inflight_bytes_max(), 1024u);
  EXPECT_FALSE(tracker.IsSingleton());
  EXPECT_TRUE(tracker.VoterNodes().empty());
  EXPECT_TRUE(tracker.LearnerNodes().empty());
  // An empty configuration constrains nothing (see quorum.h).
  EXPECT_EQ(tracker.Committed(), quorum::kNoLimit);
  EXPECT_TRUE(tracker.QuorumActive());
}

TEST(ProgressTrackerDeathTest, RequiresAnInflightWindow) {
  EXPECT_DEATH(ProgressTracker(0, 0), "one append in flight");
}

TEST(ProgressTrackerTest, ApplyConfigInstallsConfigAndProgress) {
  const TrackerConfig config = MakeConfig({1, 2}, {}, {3});
  ProgressTracker tracker(kInflightMessagesMax, kInflightBytesMax);
  tracker.ApplyConfig(config, MakeProgressMap(config));
  EXPECT_EQ(tracker.config(), config);
  EXPECT_EQ(tracker.progress().size(), 3u);
  ASSERT_NE(tracker.GetProgress(3), nullptr);
  EXPECT_TRUE(tracker.GetProgress(3)->is_learner());
  EXPECT_EQ(tracker.GetProgress(4), nullptr);
}

TEST(ProgressTrackerDeathTest, ApplyConfigRejectsInconsistentInput) {
  ProgressTracker tracker(kInflightMessagesMax, kInflightBytesMax);
  EXPECT_DEATH(tracker.ApplyConfig(MakeConfig({1, 2}), ProgressMap()),
               "no progress for 1");
}

TEST(ProgressTrackerTest, GetProgressAllowsDrivingTheStateMachine) {
  ProgressTracker tracker = MakeTracker(MakeConfig({1, 2, 3}));
  ASSERT_TRUE(tracker.GetProgress(2)->MaybeUpdate(7));
  const ProgressTracker& view = tracker;
  EXPECT_EQ(view.GetProgress(2)->match(), 7u);
}

TEST(ProgressTrackerTest, ToConfStateMatchesTheConfig) {
  TrackerConfig config = MakeConfig({1, 2, 3}, {1, 2, 4}, {5}, {4});
  config.auto_leave = true;
  const ProgressTracker tracker = MakeTracker(config);
  EXPECT_EQ(tracker.ToConfState().SerializeAsString(),
            ToConfState(config).SerializeAsString());
}

TEST(ProgressTrackerTest, IsSingleton) {
  EXPECT_TRUE(MakeTracker(MakeConfig({1})).IsSingleton());
  EXPECT_TRUE(MakeTracker(MakeConfig({1}, {}, {2})).IsSingleton());
  EXPECT_FALSE(MakeTracker(MakeConfig({1, 2})).IsSingleton());
  // Joint, even with one voter per half: both halves must agree.
  EXPECT_FALSE(MakeTracker(MakeConfig({1}, {2})).IsSingleton());
  EXPECT_FALSE(MakeTracker(MakeConfig({1}, {1})).IsSingleton());
}

TEST(ProgressTrackerTest, CommittedIsTheQuorumMatch) {
  const ProgressTracker tracker =
      MakeTracker(MakeConfig({1, 2, 3}), {{1, 5}, {2, 7}, {3, 3}});
  EXPECT_EQ(tracker.Committed(), 5u);
}

TEST(ProgressTrackerTest, CommittedIgnoresLearners) {
  const ProgressTracker tracker =
      MakeTracker(MakeConfig({1, 2, 3}, {}, {4, 5}), {{1, 2}, {4, 9}, {5, 9}});
  EXPECT_EQ(tracker.Committed(), 0u);
}

TEST(ProgressTrackerTest, CommittedInJointConfigNeedsBothHalves) {
  // Incoming (1 2 3) holds 8 on a majority; outgoing (3 4 5) only 2.
  const ProgressTracker tracker =
      MakeTracker(MakeConfig({1, 2, 3}, {3, 4, 5}),
                  {{1, 8}, {2, 8}, {3, 2}, {4, 2}, {5, 1}});
  EXPECT_EQ(tracker.Committed(), 2u);
}

TEST(ProgressTrackerTest, VisitGoesInIdOrderAndMayMutate) {
  ProgressTracker tracker = MakeTracker(MakeConfig({5, 1, 3}, {}, {2}));
  std::vector<uint64_t> ids;
  tracker.Visit([&ids](uint64_t id, Progress& progress) {
    ids.push_back(id);
    progress.set_recent_active(true);
  });
  EXPECT_EQ(ids, (std::vector<uint64_t>{1, 2, 3, 5}));
  const ProgressTracker& view = tracker;
  size_t active = 0;
  view.Visit([&active](uint64_t, const Progress& progress) {
    if (progress.recent_active()) ++active;
  });
  EXPECT_EQ(active, 4u);
}

// Marks exactly the nodes of `active` as recently active.
void SetActive(ProgressTracker& tracker, absl::btree_set<uint64_t> active) {
  tracker.Visit([&active](uint64_t id, Progress& progress) {
    progress.set_recent_active(active.contains(id));
  });
}

TEST(ProgressTrackerTest, QuorumActiveNeedsAnActiveMajority) {
  ProgressTracker tracker = MakeTracker(MakeConfig({1, 2, 3}, {}, {4, 5}));
  SetActive(tracker, {1, 2});
  EXPECT_TRUE(tracker.QuorumActive());
  // Active learners do not make up for inactive voters.
  SetActive(tracker, {1, 4, 5});
  EXPECT_FALSE(tracker.QuorumActive());
}

TEST(ProgressTrackerTest, QuorumActiveInJointConfigNeedsBothHalves) {
  ProgressTracker tracker = MakeTracker(MakeConfig({1, 2, 3}, {3, 4, 5}));
  SetActive(tracker, {1, 2});
  EXPECT_FALSE(tracker.QuorumActive());
  SetActive(tracker, {1, 2, 4, 5});
  EXPECT_TRUE(tracker.QuorumActive());
  SetActive(tracker, {2, 3, 4});
  EXPECT_TRUE(tracker.QuorumActive());
}

TEST(ProgressTrackerTest, VoterNodesAndLearnerNodes) {
  const ProgressTracker tracker =
      MakeTracker(MakeConfig({3, 1, 2}, {1, 2, 4}, {7, 5}, {4}));
  EXPECT_EQ(tracker.VoterNodes(), (std::vector<uint64_t>{1, 2, 3, 4}));
  // 4 is in learners_next, so it still votes and is not a learner yet.
  EXPECT_EQ(tracker.LearnerNodes(), (std::vector<uint64_t>{5, 7}));
}

TEST(ProgressTrackerTest, FirstVoteCounts) {
  ProgressTracker tracker = MakeTracker(MakeConfig({1, 2, 3}));
  tracker.RecordVote(1, true);
  tracker.RecordVote(1, false);
  tracker.RecordVote(2, false);
  tracker.RecordVote(2, true);
  EXPECT_EQ(tracker.votes(),
            (absl::btree_map<uint64_t, bool>{{1, true}, {2, false}}));
}

TEST(ProgressTrackerTest, TallyVotesCountsVotersOnly) {
  ProgressTracker tracker = MakeTracker(MakeConfig({1, 2, 3}, {}, {4}));
  EXPECT_EQ(tracker.TallyVotes(), (VoteTally{0, 0, VoteResult::kPending}));
  tracker.RecordVote(1, true);
  tracker.RecordVote(4, true);   // a learner: recorded, never counted
  tracker.RecordVote(9, false);  // not a member at all
  EXPECT_EQ(tracker.TallyVotes(), (VoteTally{1, 0, VoteResult::kPending}));
  tracker.RecordVote(2, false);
  EXPECT_EQ(tracker.TallyVotes(), (VoteTally{1, 1, VoteResult::kPending}));
  tracker.RecordVote(3, true);
  EXPECT_EQ(tracker.TallyVotes(), (VoteTally{2, 1, VoteResult::kWon}));
}

TEST(ProgressTrackerTest, TallyVotesLost) {
  ProgressTracker tracker = MakeTracker(MakeConfig({1, 2, 3}));
  tracker.RecordVote(1, true);
  tracker.RecordVote(2, false);
  tracker.RecordVote(3, false);
  EXPECT_EQ(tracker.TallyVotes(), (VoteTally{1, 2, VoteResult::kLost}));
}

TEST(ProgressTrackerTest, TallyVotesInJointConfigNeedsBothHalves) {
  ProgressTracker tracker = MakeTracker(MakeConfig({1, 2, 3}, {3, 4, 5}));
  tracker.RecordVote(1, true);
  tracker.RecordVote(2, true);
  EXPECT_EQ(tracker.TallyVotes(), (VoteTally{2, 0, VoteResult::kPending}));
  tracker.RecordVote(4, false);
  tracker.RecordVote(5, false);
  EXPECT_EQ(tracker.TallyVotes(), (VoteTally{2, 2, VoteResult::kLost}));
}

TEST(ProgressTrackerTest, VoterInBothHalvesIsCountedOnceInTheTally) {
  ProgressTracker tracker = MakeTracker(MakeConfig({1, 2}, {2, 3}));
  tracker.RecordVote(2, true);
  EXPECT_EQ(tracker.TallyVotes().granted, 1u);
}

TEST(ProgressTrackerTest, ResetVotesForgetsEverything) {
  ProgressTracker tracker = MakeTracker(MakeConfig({1}));
  tracker.RecordVote(1, true);
  ASSERT_EQ(tracker.TallyVotes().result, VoteResult::kWon);
  tracker.ResetVotes();
  EXPECT_TRUE(tracker.votes().empty());
  EXPECT_EQ(tracker.TallyVotes(), (VoteTally{0, 0, VoteResult::kPending}));
  // The new election takes the new first answer.
  tracker.RecordVote(1, false);
  EXPECT_EQ(tracker.TallyVotes(), (VoteTally{0, 1, VoteResult::kLost}));
}

TEST(ProgressTrackerTest, ApplyConfigKeepsVotesAndCountsThemAgainstNewVoters) {
  ProgressTracker tracker = MakeTracker(MakeConfig({1, 2, 3}));
  tracker.RecordVote(1, true);
  tracker.RecordVote(4, true);
  ASSERT_EQ(tracker.TallyVotes().result, VoteResult::kPending);
  const TrackerConfig config = MakeConfig({1, 4});
  tracker.ApplyConfig(config, MakeProgressMap(config));
  EXPECT_EQ(tracker.TallyVotes(), (VoteTally{2, 0, VoteResult::kWon}));
}

// ---------------------------------------------------------------------------
// Properties.

// Up to this many voters per half, ids from 1 to kMaxId.
constexpr uint64_t kMaxId = 9;

// A random subset of 1..kMaxId.
rc::Gen<std::vector<uint64_t>> GenIds() {
  return rc::gen::map(
      rc::gen::container<std::vector<bool>>(kMaxId, rc::gen::arbitrary<bool>()),
      [](const std::vector<bool>& in) {
        std::vector<uint64_t> ids;
        for (uint64_t id = 1; id <= kMaxId; ++id) {
          if (in[id - 1]) ids.push_back(id);
        }
        return ids;
      });
}

// The committed index of one half by definition: sorting the matches in
// descending order, the one at position n/2 is held by n/2 + 1 voters, a
// majority, and no larger index is.
uint64_t HalfCommitted(const std::vector<uint64_t>& voters,
                       const std::vector<uint64_t>& matches) {
  if (voters.empty()) return quorum::kNoLimit;
  std::vector<uint64_t> held;
  held.reserve(voters.size());
  for (uint64_t id : voters) held.push_back(matches[id]);
  std::sort(held.rbegin(), held.rend());
  return held[held.size() / 2];
}

RC_GTEST_PROP(ProgressTrackerProperty, CommittedIsTheMinimumHalfMedian, ()) {
  const std::vector<uint64_t> incoming = *GenIds();
  const std::vector<uint64_t> outgoing = *GenIds();
  const std::vector<uint64_t> matches =
      *rc::gen::container<std::vector<uint64_t>>(
          kMaxId + 1, rc::gen::inRange<uint64_t>(0, 20));
  const TrackerConfig config =
      MakeConfig(quorum::MajorityConfig(incoming.begin(), incoming.end()),
                 quorum::MajorityConfig(outgoing.begin(), outgoing.end()));
  absl::btree_map<uint64_t, uint64_t> acked;
  for (uint64_t id : quorum::IdsOf(config.voters)) acked[id] = matches[id];
  const ProgressTracker tracker = MakeTracker(config, acked);
  RC_ASSERT(tracker.Committed() == std::min(HalfCommitted(incoming, matches),
                                            HalfCommitted(outgoing, matches)));
}

RC_GTEST_PROP(ProgressTrackerProperty, QuorumActiveIsAWonPollOfActivity, ()) {
  const std::vector<uint64_t> incoming = *GenIds();
  const std::vector<uint64_t> outgoing = *GenIds();
  const std::vector<uint64_t> active_ids = *GenIds();
  const TrackerConfig config =
      MakeConfig(quorum::MajorityConfig(incoming.begin(), incoming.end()),
                 quorum::MajorityConfig(outgoing.begin(), outgoing.end()));
  ProgressTracker tracker = MakeTracker(config);
  const absl::btree_set<uint64_t> active(active_ids.begin(), active_ids.end());
  SetActive(tracker, active);
  // The same poll, taken as an election in which active voters grant.
  for (uint64_t id : tracker.VoterNodes()) {
    tracker.RecordVote(id, active.contains(id));
  }
  RC_ASSERT(tracker.QuorumActive() ==
            (tracker.TallyVotes().result == VoteResult::kWon));
}

}  // namespace
}  // namespace raftstore::raft
