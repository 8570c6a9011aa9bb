#include "core/raft/quorum/quorum.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <ostream>
#include <sstream>
#include <utility>
#include <vector>

#include "absl/container/btree_map.h"
#include "gtest/gtest.h"
#include "rapidcheck/gtest.h"

namespace raftstore::raft::quorum {
namespace {

// ---------------------------------------------------------------------------
// Helpers for the example-based tests.

// Acknowledged indexes by voter id; a voter missing from the map is unknown.
using AckMap = absl::btree_map<uint64_t, uint64_t>;

// Votes by voter id; a voter missing from the map has not answered.
using VoteMap = absl::btree_map<uint64_t, bool>;

template <typename Config>
uint64_t Committed(const Config& config, const AckMap& acks) {
  return CommittedIndex(config,
                        [&acks](uint64_t id) -> std::optional<uint64_t> {
                          const auto it = acks.find(id);
                          if (it == acks.end()) return std::nullopt;
                          return it->second;
                        });
}

template <typename Config>
VoteResult Tally(const Config& config, const VoteMap& votes) {
  return TallyVotes(config, [&votes](uint64_t id) -> std::optional<bool> {
    const auto it = votes.find(id);
    if (it == votes.end()) return std::nullopt;
    return it->second;
  });
}

// ---------------------------------------------------------------------------
// CommittedIndex over a single majority.

TEST(CommittedIndexTest, SingleVoterCommitsWhatItAcked) {
  EXPECT_EQ(Committed(MajorityConfig{1}, {{1, 7}}), 7u);
}

TEST(CommittedIndexTest, UnknownVoterCountsAsZero) {
  EXPECT_EQ(Committed(MajorityConfig{1}, {}), 0u);
}

TEST(CommittedIndexTest, ThreeVotersCommitTheMedian) {
  EXPECT_EQ(Committed(MajorityConfig{1, 2, 3}, {{1, 5}, {2, 7}, {3, 3}}), 5u);
}

TEST(CommittedIndexTest, ThreeVotersWithOneUnknownCommitTheSmallerKnownAck) {
  EXPECT_EQ(Committed(MajorityConfig{1, 2, 3}, {{1, 5}, {2, 7}}), 5u);
}

TEST(CommittedIndexTest, ThreeVotersWithOneAckCommitNothing) {
  EXPECT_EQ(Committed(MajorityConfig{1, 2, 3}, {{2, 9}}), 0u);
}

TEST(CommittedIndexTest, FourVotersNeedThreeAcks) {
  const MajorityConfig config{1, 2, 3, 4};
  EXPECT_EQ(Committed(config, {{1, 10}, {2, 9}, {3, 8}, {4, 1}}), 8u);
  // Two of four is only half, not a majority.
  EXPECT_EQ(Committed(config, {{1, 10}, {2, 10}, {3, 1}, {4, 1}}), 1u);
}

TEST(CommittedIndexTest, FiveVotersNeedThreeAcks) {
  const MajorityConfig config{1, 2, 3, 4, 5};
  EXPECT_EQ(Committed(config, {{1, 10}, {2, 9}, {3, 8}, {4, 2}, {5, 1}}), 8u);
  EXPECT_EQ(Committed(config, {{1, 10}, {2, 9}}), 0u);
  EXPECT_EQ(Committed(config, {{3, 4}, {4, 6}, {5, 5}}), 4u);
}

TEST(CommittedIndexTest, EqualAcksCommitThatIndex) {
  EXPECT_EQ(
      Committed(MajorityConfig{2, 4, 6, 8}, {{2, 4}, {4, 4}, {6, 4}, {8, 4}}),
      4u);
}

TEST(CommittedIndexTest, EmptyConfigHasNoLimit) {
  EXPECT_EQ(Committed(MajorityConfig{}, {{1, 5}}), kNoLimit);
}

TEST(CommittedIndexTest, AcksOfNonVotersAreIgnored) {
  EXPECT_EQ(Committed(MajorityConfig{1, 2, 3},
                      {{1, 1}, {2, 1}, {3, 1}, {4, 100}, {5, 100}}),
            1u);
}

TEST(CommittedIndexTest, AsksEachVoterExactlyOnce) {
  absl::btree_map<uint64_t, int> asked;
  const uint64_t committed =
      CommittedIndex(MajorityConfig{3, 5, 9}, [&asked](uint64_t id) {
        ++asked[id];
        return std::optional<uint64_t>(id);
      });
  EXPECT_EQ(committed, 5u);
  EXPECT_EQ(asked, (absl::btree_map<uint64_t, int>{{3, 1}, {5, 1}, {9, 1}}));
}

TEST(CommittedIndexTest, LargeConfigBeyondInlineCapacity) {
  // Nine voters acked 1..9: the fifth largest, 5, has a majority.
  MajorityConfig config;
  AckMap acks;
  for (uint64_t id = 1; id <= 9; ++id) {
    config.insert(id);
    acks[id] = id;
  }
  EXPECT_EQ(Committed(config, acks), 5u);
}

TEST(CommittedIndexTest, HandlesTheLargestIndexes) {
  EXPECT_EQ(Committed(MajorityConfig{1, 2, 3},
                      {{1, kNoLimit}, {2, kNoLimit - 1}, {3, 0}}),
            kNoLimit - 1);
}

TEST(CommittedIndexDeathTest, VoterIdZeroIsABug) {
  EXPECT_DEATH(Committed(MajorityConfig{0, 1, 2}, {}),
               "voter id 0 is reserved");
}

// ---------------------------------------------------------------------------
// CommittedIndex over a joint configuration.

TEST(JointCommittedIndexTest, EmptyOutgoingIsTheIncomingMajority) {
  const JointConfig config{.incoming = {1, 2, 3}, .outgoing = {}};
  EXPECT_EQ(Committed(config, {{1, 5}, {2, 7}, {3, 3}}), 5u);
}

TEST(JointCommittedIndexTest, EmptyIncomingIsTheOutgoingMajority) {
  const JointConfig config{.incoming = {}, .outgoing = {1, 2, 3}};
  EXPECT_EQ(Committed(config, {{1, 5}, {2, 7}, {3, 3}}), 5u);
}

TEST(JointCommittedIndexTest, OverlappingHalvesCommitTheSmallerIndex) {
  // Incoming acks 10, 5, 8 commit 8; outgoing acks 10, 5, 1 commit 5.
  const JointConfig config{.incoming = {1, 2, 3}, .outgoing = {1, 2, 4}};
  EXPECT_EQ(Committed(config, {{1, 10}, {2, 5}, {3, 8}, {4, 1}}), 5u);
}

TEST(JointCommittedIndexTest, DisjointHalvesCommitTheSmallerIndex) {
  // Incoming commits 9; outgoing acks 2, 3, 0 commit 2.
  const JointConfig config{.incoming = {1, 2, 3}, .outgoing = {4, 5, 6}};
  EXPECT_EQ(Committed(config, {{1, 9}, {2, 9}, {3, 9}, {4, 2}, {5, 3}, {6, 0}}),
            2u);
}

TEST(JointCommittedIndexTest, OutgoingMayBeAhead) {
  const JointConfig config{.incoming = {1, 2, 3}, .outgoing = {4, 5, 6}};
  EXPECT_EQ(Committed(config, {{1, 2}, {2, 2}, {4, 9}, {5, 9}, {6, 9}}), 2u);
}

TEST(JointCommittedIndexTest, BothHalvesEmptyHasNoLimit) {
  EXPECT_EQ(Committed(JointConfig{}, {{1, 5}}), kNoLimit);
}

// ---------------------------------------------------------------------------
// TallyVotes over a single majority.

TEST(TallyVotesTest, EmptyConfigIsWon) {
  EXPECT_EQ(Tally(MajorityConfig{}, {}), VoteResult::kWon);
}

TEST(TallyVotesTest, SingleVoterDecidesAlone) {
  const MajorityConfig config{1};
  EXPECT_EQ(Tally(config, {{1, true}}), VoteResult::kWon);
  EXPECT_EQ(Tally(config, {{1, false}}), VoteResult::kLost);
  EXPECT_EQ(Tally(config, {}), VoteResult::kPending);
}

TEST(TallyVotesTest, ThreeVotersWinWithTwoGrants) {
  EXPECT_EQ(Tally(MajorityConfig{1, 2, 3}, {{1, true}, {3, true}}),
            VoteResult::kWon);
}

TEST(TallyVotesTest, ThreeVotersLoseWithTwoRejections) {
  EXPECT_EQ(Tally(MajorityConfig{1, 2, 3}, {{1, false}, {2, false}}),
            VoteResult::kLost);
}

TEST(TallyVotesTest, ThreeVotersArePendingWhileOneVoteCanDecide) {
  EXPECT_EQ(Tally(MajorityConfig{1, 2, 3}, {{1, true}, {2, false}}),
            VoteResult::kPending);
  EXPECT_EQ(Tally(MajorityConfig{1, 2, 3}, {{1, true}}), VoteResult::kPending);
}

TEST(TallyVotesTest, FourVotersLoseOnATie) {
  EXPECT_EQ(Tally(MajorityConfig{1, 2, 3, 4},
                  {{1, true}, {2, true}, {3, false}, {4, false}}),
            VoteResult::kLost);
}

TEST(TallyVotesTest, FourVotersNeedThreeGrants) {
  const MajorityConfig config{1, 2, 3, 4};
  EXPECT_EQ(Tally(config, {{1, true}, {2, true}}), VoteResult::kPending);
  EXPECT_EQ(Tally(config, {{1, true}, {2, true}, {4, true}}), VoteResult::kWon);
}

TEST(TallyVotesTest, VotesOfNonVotersAreIgnored) {
  EXPECT_EQ(Tally(MajorityConfig{1, 2, 3}, {{1, true}, {4, true}, {5, true}}),
            VoteResult::kPending);
}

TEST(TallyVotesDeathTest, VoterIdZeroIsABug) {
  EXPECT_DEATH(Tally(MajorityConfig{0}, {}), "voter id 0 is reserved");
}

// ---------------------------------------------------------------------------
// TallyVotes over a joint configuration.

TEST(JointTallyVotesTest, EmptyOutgoingIsTheIncomingTally) {
  const JointConfig config{.incoming = {1, 2, 3}, .outgoing = {}};
  EXPECT_EQ(Tally(config, {{1, true}, {2, true}}), VoteResult::kWon);
  EXPECT_EQ(Tally(config, {{1, false}, {2, false}}), VoteResult::kLost);
  EXPECT_EQ(Tally(config, {{1, true}}), VoteResult::kPending);
}

TEST(JointTallyVotesTest, WonOnlyWhenBothHalvesAreWon) {
  const JointConfig config{.incoming = {1, 2, 3}, .outgoing = {3, 4, 5}};
  // Incoming is won, outgoing has one grant of the two it needs.
  EXPECT_EQ(Tally(config, {{1, true}, {2, true}, {3, true}}),
            VoteResult::kPending);
  EXPECT_EQ(Tally(config, {{1, true}, {2, true}, {3, true}, {4, true}}),
            VoteResult::kWon);
}

TEST(JointTallyVotesTest, LostWhenEitherHalfIsLost) {
  const JointConfig config{.incoming = {1, 2, 3}, .outgoing = {4, 5, 6}};
  // Incoming won, outgoing lost.
  EXPECT_EQ(Tally(config, {{1, true}, {2, true}, {4, false}, {5, false}}),
            VoteResult::kLost);
  // Incoming lost, outgoing still pending.
  EXPECT_EQ(Tally(config, {{1, false}, {2, false}, {4, true}}),
            VoteResult::kLost);
}

TEST(JointTallyVotesTest, SharedVoterCountsInBothHalves) {
  // Voter 2 is in both halves; with voter 1 it wins the incoming half and with
  // voter 4 the outgoing half.
  const JointConfig config{.incoming = {1, 2, 3}, .outgoing = {2, 4, 5}};
  EXPECT_EQ(Tally(config, {{1, true}, {2, true}, {4, true}}), VoteResult::kWon);
}

TEST(JointTallyVotesTest, BothHalvesEmptyIsWon) {
  EXPECT_EQ(Tally(JointConfig{}, {}), VoteResult::kWon);
}

// ---------------------------------------------------------------------------
// Helpers: IdsOf, ToString, DescribeCommit.

TEST(IdsOfTest, IsTheUnionOfBothHalves) {
  EXPECT_EQ(IdsOf(JointConfig{.incoming = {1, 2, 3}, .outgoing = {2, 4}}),
            (MajorityConfig{1, 2, 3, 4}));
  EXPECT_EQ(IdsOf(JointConfig{.incoming = {5}, .outgoing = {}}),
            (MajorityConfig{5}));
  EXPECT_TRUE(IdsOf(JointConfig{}).empty());
}

TEST(ToStringTest, MajorityConfigListsIdsInOrder) {
  EXPECT_EQ(ToString(MajorityConfig{3, 1, 2}), "(1 2 3)");
  EXPECT_EQ(ToString(MajorityConfig{42}), "(42)");
  EXPECT_EQ(ToString(MajorityConfig{}), "()");
}

TEST(ToStringTest, JointConfigShowsOutgoingOnlyWhenJoint) {
  EXPECT_EQ(ToString(JointConfig{.incoming = {1, 2, 3}, .outgoing = {1, 2, 4}}),
            "(1 2 3)&&(1 2 4)");
  EXPECT_EQ(ToString(JointConfig{.incoming = {1, 2, 3}, .outgoing = {}}),
            "(1 2 3)");
  EXPECT_EQ(ToString(JointConfig{}), "()");
}

TEST(ToStringTest, VoteResultNamesTheOutcome) {
  EXPECT_EQ(ToString(VoteResult::kPending), "pending");
  EXPECT_EQ(ToString(VoteResult::kLost), "lost");
  EXPECT_EQ(ToString(VoteResult::kWon), "won");
  std::ostringstream out;
  out << VoteResult::kWon;
  EXPECT_EQ(out.str(), "won");
}

TEST(DescribeCommitTest, ListsAcksAndTheResult) {
  const AckMap acks{{1, 7}, {2, 5}};
  auto acked = [&acks](uint64_t id) -> std::optional<uint64_t> {
    const auto it = acks.find(id);
    if (it == acks.end()) return std::nullopt;
    return it->second;
  };
  EXPECT_EQ(DescribeCommit(MajorityConfig{1, 2, 3}, acked),
            "(1:7 2:5 3:?) committed=5");
  EXPECT_EQ(DescribeCommit(MajorityConfig{}, acked), "() committed=no-limit");
}

// ---------------------------------------------------------------------------
// Properties, checked against brute-force definitions.

// Generated configurations have 0..kMaxVoters voters with ids 1..kMaxId.
constexpr uint64_t kMaxId = 20;
constexpr size_t kMaxVoters = 9;

// Per-voter acknowledged indexes for every id 1..kMaxId (slot 0 unused).
struct AckTable {
  std::array<std::optional<uint64_t>, kMaxId + 1> by_id;

  std::optional<uint64_t> operator()(uint64_t id) const { return by_id[id]; }
  uint64_t Of(uint64_t id) const { return by_id[id].value_or(0); }

  friend std::ostream& operator<<(std::ostream& out, const AckTable& table) {
    for (uint64_t id = 1; id <= kMaxId; ++id) {
      out << (id > 1 ? " " : "") << id << ":";
      if (table.by_id[id].has_value()) {
        out << *table.by_id[id];
      } else {
        out << "?";
      }
    }
    return out;
  }
};

// Per-voter votes for every id 1..kMaxId (slot 0 unused).
struct VoteTable {
  std::array<std::optional<bool>, kMaxId + 1> by_id;

  std::optional<bool> operator()(uint64_t id) const { return by_id[id]; }

  friend std::ostream& operator<<(std::ostream& out, const VoteTable& table) {
    for (uint64_t id = 1; id <= kMaxId; ++id) {
      const std::optional<bool>& vote = table.by_id[id];
      out << (id > 1 ? " " : "") << id << ":"
          << (!vote.has_value() ? "?" : (*vote ? "yes" : "no"));
    }
    return out;
  }
};

// A uniformly random set of 0..kMaxVoters distinct ids from 1..kMaxId, as a
// sorted vector (which RapidCheck can print). The ids are ordered by random
// keys and a prefix is kept, so shrinking the keys towards equal values
// shrinks the set towards (1 2 ... n).
rc::Gen<std::vector<uint64_t>> GenVoterIds() {
  return rc::gen::map(
      rc::gen::pair(rc::gen::inRange<size_t>(0, kMaxVoters + 1),
                    rc::gen::container<std::vector<uint32_t>>(
                        kMaxId, rc::gen::arbitrary<uint32_t>())),
      [](const std::pair<size_t, std::vector<uint32_t>>& drawn) {
        // Named references, not a structured binding: clang 14 (used by
        // tools/lint.sh) cannot capture a binding in a lambda.
        const size_t count = drawn.first;
        const std::vector<uint32_t>& keys = drawn.second;
        std::vector<uint64_t> ids;
        for (uint64_t id = 1; id <= kMaxId; ++id) ids.push_back(id);
        std::stable_sort(ids.begin(), ids.end(),
                         [&keys](uint64_t a, uint64_t b) {
                           return keys[a - 1] < keys[b - 1];
                         });
        ids.resize(count);
        std::sort(ids.begin(), ids.end());
        return ids;
      });
}

// Acks are mostly small, so that voters often tie, sometimes unknown, and
// sometimes anywhere in the 64-bit range, to catch overflow.
rc::Gen<AckTable> GenAcks() {
  auto known = [](uint64_t index) { return std::optional<uint64_t>(index); };
  const rc::Gen<std::optional<uint64_t>> ack =
      rc::gen::weightedOneOf<std::optional<uint64_t>>(
          {{1, rc::gen::just(std::optional<uint64_t>())},
           {6, rc::gen::map(rc::gen::inRange<uint64_t>(0, 10), known)},
           {1, rc::gen::map(rc::gen::arbitrary<uint64_t>(), known)}});
  return rc::gen::map(
      rc::gen::container<std::vector<std::optional<uint64_t>>>(kMaxId, ack),
      [](const std::vector<std::optional<uint64_t>>& acks) {
        AckTable table;
        std::copy(acks.begin(), acks.end(), table.by_id.begin() + 1);
        return table;
      });
}

rc::Gen<VoteTable> GenVotes() {
  const rc::Gen<std::optional<bool>> vote =
      rc::gen::element(std::optional<bool>(), std::optional<bool>(true),
                       std::optional<bool>(false));
  return rc::gen::map(
      rc::gen::container<std::vector<std::optional<bool>>>(kMaxId, vote),
      [](const std::vector<std::optional<bool>>& votes) {
        VoteTable table;
        std::copy(votes.begin(), votes.end(), table.by_id.begin() + 1);
        return table;
      });
}

MajorityConfig ToConfig(const std::vector<uint64_t>& ids) {
  return MajorityConfig(ids.begin(), ids.end());
}

// True if more than half of `voters` acked `index` or higher.
bool MajorityAcked(const std::vector<uint64_t>& voters, const AckTable& acks,
                   uint64_t index) {
  size_t count = 0;
  for (uint64_t id : voters) {
    if (acks.Of(id) >= index) ++count;
  }
  return 2 * count > voters.size();
}

// The committed index by definition: the largest index, among 0 and the
// acked ones, that more than half of the voters of every non-empty half have
// acked. With no voters at all there is no limit.
uint64_t CommittedByDefinition(const std::vector<uint64_t>& incoming,
                               const std::vector<uint64_t>& outgoing,
                               const AckTable& acks) {
  if (incoming.empty() && outgoing.empty()) return kNoLimit;
  std::vector<uint64_t> candidates = {0};
  for (uint64_t id : incoming) candidates.push_back(acks.Of(id));
  for (uint64_t id : outgoing) candidates.push_back(acks.Of(id));
  uint64_t best = 0;
  for (uint64_t index : candidates) {
    const bool in_ok = incoming.empty() || MajorityAcked(incoming, acks, index);
    const bool out_ok =
        outgoing.empty() || MajorityAcked(outgoing, acks, index);
    if (in_ok && out_ok) best = std::max(best, index);
  }
  return best;
}

// The tally by definition: won if the granted voters already are more than
// half, lost if no way of answering the outstanding votes makes them so, and
// pending otherwise. Every way is tried: each subset of the missing voters
// granting.
VoteResult TallyByDefinition(const std::vector<uint64_t>& voters,
                             const VoteTable& votes) {
  if (voters.empty()) return VoteResult::kWon;
  size_t granted = 0;
  size_t missing = 0;
  for (uint64_t id : voters) {
    if (!votes(id).has_value()) {
      ++missing;
    } else if (*votes(id)) {
      ++granted;
    }
  }
  auto is_majority = [&voters](size_t count) {
    return 2 * count > voters.size();
  };
  if (is_majority(granted)) return VoteResult::kWon;
  for (uint32_t subset = 0; subset < (1u << missing); ++subset) {
    if (is_majority(granted + __builtin_popcount(subset))) {
      return VoteResult::kPending;
    }
  }
  return VoteResult::kLost;
}

// Raises the ack of `id` by `delta`, saturating at the largest index; an
// unknown ack is raised from 0.
void Raise(AckTable& acks, uint64_t id, uint64_t delta) {
  const uint64_t current = acks.Of(id);
  acks.by_id[id] = current > kNoLimit - delta ? kNoLimit : current + delta;
}

RC_GTEST_PROP(QuorumPropertyTest, CommittedIndexMatchesDefinition, ()) {
  const std::vector<uint64_t> voters = *GenVoterIds();
  const AckTable acks = *GenAcks();
  RC_ASSERT(CommittedIndex(ToConfig(voters), acks) ==
            CommittedByDefinition(voters, {}, acks));
}

RC_GTEST_PROP(QuorumPropertyTest, JointCommittedIndexMatchesDefinition, ()) {
  const std::vector<uint64_t> incoming = *GenVoterIds();
  const std::vector<uint64_t> outgoing = *GenVoterIds();
  const AckTable acks = *GenAcks();
  const JointConfig config{ToConfig(incoming), ToConfig(outgoing)};
  RC_ASSERT(CommittedIndex(config, acks) ==
            CommittedByDefinition(incoming, outgoing, acks));
}

RC_GTEST_PROP(QuorumPropertyTest, JointCommittedIndexIsTheMinimumOfHalves, ()) {
  const JointConfig config{ToConfig(*GenVoterIds()), ToConfig(*GenVoterIds())};
  const AckTable acks = *GenAcks();
  RC_ASSERT(CommittedIndex(config, acks) ==
            std::min(CommittedIndex(config.incoming, acks),
                     CommittedIndex(config.outgoing, acks)));
}

RC_GTEST_PROP(QuorumPropertyTest, RaisingAnAckNeverLowersCommittedIndex, ()) {
  const std::vector<uint64_t> voters = *GenVoterIds();
  RC_PRE(!voters.empty());
  AckTable acks = *GenAcks();
  const uint64_t voter = *rc::gen::elementOf(voters);
  const uint64_t delta = *rc::gen::inRange<uint64_t>(0, 20);
  const MajorityConfig config = ToConfig(voters);

  const uint64_t before = CommittedIndex(config, acks);
  Raise(acks, voter, delta);
  RC_ASSERT(CommittedIndex(config, acks) >= before);
}

RC_GTEST_PROP(QuorumPropertyTest, RaisingAnAckNeverLowersJointCommit, ()) {
  const JointConfig config{ToConfig(*GenVoterIds()), ToConfig(*GenVoterIds())};
  const MajorityConfig ids = IdsOf(config);
  RC_PRE(!ids.empty());
  AckTable acks = *GenAcks();
  const uint64_t voter =
      *rc::gen::elementOf(std::vector<uint64_t>(ids.begin(), ids.end()));
  const uint64_t delta = *rc::gen::inRange<uint64_t>(0, 20);

  const uint64_t before = CommittedIndex(config, acks);
  Raise(acks, voter, delta);
  RC_ASSERT(CommittedIndex(config, acks) >= before);
}

RC_GTEST_PROP(QuorumPropertyTest, TallyMatchesDefinition, ()) {
  const std::vector<uint64_t> voters = *GenVoterIds();
  const VoteTable votes = *GenVotes();
  RC_ASSERT(TallyVotes(ToConfig(voters), votes) ==
            TallyByDefinition(voters, votes));
}

RC_GTEST_PROP(QuorumPropertyTest, JointTallyCombinesHalves, ()) {
  const std::vector<uint64_t> incoming = *GenVoterIds();
  const std::vector<uint64_t> outgoing = *GenVoterIds();
  const VoteTable votes = *GenVotes();
  const VoteResult in = TallyByDefinition(incoming, votes);
  const VoteResult out = TallyByDefinition(outgoing, votes);
  VoteResult expected = VoteResult::kPending;
  if (in == VoteResult::kWon && out == VoteResult::kWon) {
    expected = VoteResult::kWon;
  } else if (in == VoteResult::kLost || out == VoteResult::kLost) {
    expected = VoteResult::kLost;
  }
  const JointConfig config{ToConfig(incoming), ToConfig(outgoing)};
  RC_ASSERT(TallyVotes(config, votes) == expected);
}

}  // namespace
}  // namespace raftstore::raft::quorum
