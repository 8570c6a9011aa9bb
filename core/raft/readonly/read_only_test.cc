#include "core/raft/readonly/read_only.h"

#include <deque>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rapidcheck/gtest.h"

namespace raftstore::raft {
namespace {

using ::testing::ElementsAre;

constexpr uint64_t kLeader = 1;

std::vector<std::string> Contexts(const std::vector<ReadIndexStatus>& reads) {
  std::vector<std::string> out;
  out.reserve(reads.size());
  for (const auto& read : reads) out.push_back(read.context);
  return out;
}

quorum::JointConfig Voters(quorum::MajorityConfig incoming,
                           quorum::MajorityConfig outgoing = {}) {
  return quorum::JointConfig{.incoming = std::move(incoming),
                             .outgoing = std::move(outgoing)};
}

TEST(ReadOnlyTest, LeaderAcknowledgesItsOwnRoundAtOnce) {
  ReadOnly reads(8);
  ASSERT_EQ(reads.AddRequest(10, "a", 0, kLeader), AddReadResult::kAdded);
  const auto* acks = reads.RecvAck(2, "a");
  ASSERT_NE(acks, nullptr);
  EXPECT_THAT(*acks, ElementsAre(1, 2));
}

TEST(ReadOnlyTest, SingleVoterIsItsOwnQuorum) {
  ReadOnly reads(8);
  reads.AddRequest(3, "a", 0, kLeader);
  EXPECT_TRUE(reads.HasQuorum(Voters({1}), "a"));
}

TEST(ReadOnlyTest, QuorumNeedsAMajorityOfAcknowledgements) {
  ReadOnly reads(8);
  reads.AddRequest(3, "a", 0, kLeader);
  EXPECT_FALSE(reads.HasQuorum(Voters({1, 2, 3}), "a"));
  reads.RecvAck(3, "a");
  EXPECT_TRUE(reads.HasQuorum(Voters({1, 2, 3}), "a"));
}

TEST(ReadOnlyTest, AcknowledgementsFromNonVotersDoNotCount) {
  ReadOnly reads(8);
  reads.AddRequest(3, "a", 0, kLeader);
  reads.RecvAck(9, "a");  // a learner or a removed peer
  EXPECT_FALSE(reads.HasQuorum(Voters({1, 2, 3}), "a"));
}

TEST(ReadOnlyTest, JointConfigNeedsAQuorumOfBothHalves) {
  ReadOnly reads(8);
  reads.AddRequest(3, "a", 0, kLeader);
  reads.RecvAck(2, "a");
  const auto joint = Voters({1, 2, 3}, {1, 4, 5});
  EXPECT_FALSE(reads.HasQuorum(joint, "a"));
  reads.RecvAck(4, "a");
  EXPECT_TRUE(reads.HasQuorum(joint, "a"));
}

TEST(ReadOnlyTest, AdvanceReleasesEveryEarlierReadInArrivalOrder) {
  ReadOnly reads(8);
  reads.AddRequest(5, "a", 0, kLeader);
  reads.AddRequest(5, "b", 2, kLeader);
  reads.AddRequest(7, "c", 0, kLeader);
  reads.AddRequest(8, "d", 0, kLeader);
  const auto released = reads.Advance("c");
  EXPECT_THAT(Contexts(released), ElementsAre("a", "b", "c"));
  EXPECT_EQ(released[1].from, 2u);
  EXPECT_EQ(released[2].index, 7u);
  EXPECT_EQ(reads.pending(), 1u);
  EXPECT_EQ(reads.LastPendingContext(), "d");
}

TEST(ReadOnlyTest, AdvanceOfAnUnknownContextReleasesNothing) {
  ReadOnly reads(8);
  reads.AddRequest(5, "a", 0, kLeader);
  EXPECT_TRUE(reads.Advance("zz").empty());
  EXPECT_EQ(reads.pending(), 1u);
}

TEST(ReadOnlyTest, StrayAcknowledgementIsIgnored) {
  ReadOnly reads(8);
  EXPECT_EQ(reads.RecvAck(2, "gone"), nullptr);
  EXPECT_FALSE(reads.HasQuorum(Voters({1}), "gone"));
}

TEST(ReadOnlyTest, DuplicateContextIsRefused) {
  ReadOnly reads(8);
  ASSERT_EQ(reads.AddRequest(5, "a", 0, kLeader), AddReadResult::kAdded);
  EXPECT_EQ(reads.AddRequest(6, "a", 0, kLeader), AddReadResult::kDuplicate);
  EXPECT_EQ(reads.pending(), 1u);
}

TEST(ReadOnlyTest, BoundRefusesReadsBeyondPendingMax) {
  ReadOnly reads(2);
  EXPECT_EQ(reads.AddRequest(1, "a", 0, kLeader), AddReadResult::kAdded);
  EXPECT_EQ(reads.AddRequest(1, "b", 0, kLeader), AddReadResult::kAdded);
  EXPECT_EQ(reads.AddRequest(1, "c", 0, kLeader), AddReadResult::kFull);
  reads.Advance("a");
  EXPECT_EQ(reads.AddRequest(1, "c", 0, kLeader), AddReadResult::kAdded);
}

TEST(ReadOnlyTest, ResetDropsEveryPendingReadForTheCallerToFail) {
  ReadOnly reads(8);
  reads.AddRequest(1, "a", 0, kLeader);
  reads.AddRequest(2, "b", 3, kLeader);
  EXPECT_THAT(Contexts(reads.Reset()), ElementsAre("a", "b"));
  EXPECT_EQ(reads.pending(), 0u);
  EXPECT_EQ(reads.LastPendingContext(), "");
}

TEST(ReadOnlyDeathTest, ZeroBoundIsABug) {
  EXPECT_DEATH(ReadOnly(0), "pending_reads_max_ > 0");
}

// Any sequence of adds and advances behaves like a FIFO queue of contexts
// with the bound enforced.
RC_GTEST_PROP(ReadOnlyProperty, BehavesLikeABoundedFifo, ()) {
  const size_t bound = *rc::gen::inRange<size_t>(1, 6);
  ReadOnly reads(bound);
  std::deque<std::string> model;
  uint64_t index = 0;
  const int steps = *rc::gen::inRange(0, 60);
  for (int step = 0; step < steps; ++step) {
    const std::string context =
        std::string(1, *rc::gen::inRange<char>('a', 'k'));
    if (*rc::gen::arbitrary<bool>()) {
      index += *rc::gen::inRange<uint64_t>(0, 3);
      const AddReadResult result = reads.AddRequest(index, context, 0, 1);
      const bool present =
          std::find(model.begin(), model.end(), context) != model.end();
      if (present) {
        RC_ASSERT(result == AddReadResult::kDuplicate);
      } else if (model.size() >= bound) {
        RC_ASSERT(result == AddReadResult::kFull);
      } else {
        RC_ASSERT(result == AddReadResult::kAdded);
        model.push_back(context);
      }
    } else {
      std::vector<std::string> expected;
      auto it = std::find(model.begin(), model.end(), context);
      if (it != model.end()) {
        expected.assign(model.begin(), it + 1);
        model.erase(model.begin(), it + 1);
      }
      RC_ASSERT(Contexts(reads.Advance(context)) == expected);
    }
    RC_ASSERT(reads.pending() == model.size());
    RC_ASSERT(reads.LastPendingContext() ==
              (model.empty() ? std::string() : model.back()));
  }
}

}  // namespace
}  // namespace raftstore::raft
