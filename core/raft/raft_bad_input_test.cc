// Bad input from the network is ignored or rejected, counted by reason, and
// never crashes the node or breaks its invariants.
#include <string>
#include <vector>

#include "core/raft/raft.h"
#include "core/raft/raft_test_network.h"
#include "gtest/gtest.h"

namespace raftstore::raft {
namespace {

using testing::TestNetwork;

Message To(uint64_t to, uint64_t from, MessageType type, uint64_t term) {
  Message m;
  m.set_to(to);
  m.set_from(from);
  m.set_type(type);
  m.set_term(term);
  return m;
}

class BadInputTest : public ::testing::Test {
 protected:
  void SetUp() override { net_.Campaign(1); }
  const Counters& counters(uint64_t id) { return net_.raft(id).counters(); }
  TestNetwork net_{{1, 2, 3}};
};

TEST_F(BadInputTest, UnspecifiedTypeIsRejectedAndCounted) {
  const absl::Status status =
      net_.node(2).Step(To(2, 1, MESSAGE_TYPE_UNSPECIFIED, 1));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(counters(2).unspecified_type, 1u);
}

TEST_F(BadInputTest, UnknownTypeValueIsRejectedAndCounted) {
  EXPECT_FALSE(
      net_.node(2).Step(To(2, 1, static_cast<MessageType>(77), 1)).ok());
  EXPECT_EQ(counters(2).unspecified_type, 1u);
}

TEST_F(BadInputTest, MisaddressedMessagesAreRejected) {
  EXPECT_FALSE(net_.node(2).Step(To(3, 1, MESSAGE_TYPE_HEARTBEAT, 1)).ok());
  EXPECT_FALSE(net_.node(2).Step(To(2, 0, MESSAGE_TYPE_HEARTBEAT, 1)).ok());
  EXPECT_FALSE(net_.node(2).Step(To(2, 2, MESSAGE_TYPE_HEARTBEAT, 1)).ok());
  EXPECT_FALSE(net_.node(2).Step(To(2, 1, MESSAGE_TYPE_HEARTBEAT, 0)).ok());
  EXPECT_EQ(counters(2).bad_address, 4u);
}

TEST_F(BadInputTest, StaleTermIsIgnoredAndCounted) {
  net_.Isolate(1);
  net_.Campaign(2);
  ASSERT_EQ(net_.raft(2).term(), 2u);
  Message stale = To(2, 3, MESSAGE_TYPE_VOTE, 1);
  EXPECT_TRUE(net_.node(2).Step(stale).ok());
  EXPECT_EQ(counters(2).stale_term, 1u);
  EXPECT_EQ(net_.raft(2).role(), Role::kLeader);
}

TEST_F(BadInputTest, ResponseFromNonMemberIsCounted) {
  Message resp = To(1, 9, MESSAGE_TYPE_APPEND_RESPONSE, 1);
  resp.set_index(1);
  EXPECT_TRUE(net_.node(1).Step(resp).ok());
  EXPECT_EQ(counters(1).unknown_peer, 1u);
}

TEST_F(BadInputTest, AcknowledgementBeyondLastIndexIsCounted) {
  Message resp = To(1, 2, MESSAGE_TYPE_APPEND_RESPONSE, 1);
  resp.set_index(1000);
  EXPECT_TRUE(net_.node(1).Step(resp).ok());
  EXPECT_EQ(counters(1).out_of_range_index, 1u);
  EXPECT_EQ(net_.raft(1).tracker().GetProgress(2)->match(), 1u);
  EXPECT_EQ(net_.raft(1).log().committed(), 1u);
}

TEST_F(BadInputTest, AppendWithEntriesNotFollowingHeaderIsCounted) {
  Message append = To(2, 1, MESSAGE_TYPE_APPEND, 1);
  append.set_index(1);
  append.set_log_term(1);
  Entry* entry = append.add_entries();
  entry->set_index(5);  // should be 2
  entry->set_term(1);
  entry->set_type(ENTRY_TYPE_NORMAL);
  EXPECT_TRUE(net_.node(2).Step(append).ok());
  EXPECT_EQ(counters(2).out_of_range_index, 1u);
  EXPECT_EQ(net_.raft(2).log().LastIndex(), 1u);
}

TEST_F(BadInputTest, AppendWithEntryOfFutureTermIsCounted) {
  Message append = To(2, 1, MESSAGE_TYPE_APPEND, 1);
  append.set_index(1);
  append.set_log_term(1);
  Entry* entry = append.add_entries();
  entry->set_index(2);
  entry->set_term(7);
  entry->set_type(ENTRY_TYPE_NORMAL);
  EXPECT_TRUE(net_.node(2).Step(append).ok());
  EXPECT_EQ(counters(2).out_of_range_index, 1u);
}

TEST_F(BadInputTest, HeartbeatCommitBeyondLogIsCountedNotApplied) {
  Message hb = To(2, 1, MESSAGE_TYPE_HEARTBEAT, 1);
  hb.set_commit(50);
  hb.set_commit_term(1);
  EXPECT_TRUE(net_.node(2).Step(hb).ok());
  EXPECT_EQ(counters(2).out_of_range_index, 1u);
  EXPECT_EQ(net_.raft(2).log().committed(), 1u);
}

TEST_F(BadInputTest, VoteResponseToFollowerIsCounted) {
  EXPECT_TRUE(net_.node(2).Step(To(2, 3, MESSAGE_TYPE_VOTE_RESPONSE, 1)).ok());
  EXPECT_EQ(counters(2).unexpected_type, 1u);
}

TEST_F(BadInputTest, SnapshotWithoutMetadataIsCounted) {
  EXPECT_TRUE(net_.node(2).Step(To(2, 1, MESSAGE_TYPE_SNAPSHOT, 1)).ok());
  EXPECT_EQ(counters(2).stale_snapshot, 1u);
}

TEST_F(BadInputTest, ClusterKeepsWorkingAfterGarbage) {
  for (int type = 0; type <= 13; ++type) {
    // TIMEOUT_NOW from the leader is a legitimate order to campaign.
    if (type == MESSAGE_TYPE_TIMEOUT_NOW) continue;
    Message m = To(2, 1, static_cast<MessageType>(type), 1);
    m.set_index(99);
    m.set_log_term(99);
    m.set_commit(99);
    (void)net_.node(2).Step(m);
  }
  net_.Stabilize();
  EXPECT_EQ(net_.Propose(1, "a"), ProposeResult::kOk);
  EXPECT_EQ(net_.AppliedData(2), std::vector<std::string>{"a"});
}

TEST_F(BadInputTest, SnapshotIndexNearTwoToTheSixtyFourIsRefused) {
  // Found in review: index + 1 used to wrap to 0 inside the log and fail an
  // RS_CHECK, so one crafted message crashed the follower.
  for (const uint64_t index : {UINT64_MAX, UINT64_MAX - 1, kLogIndexMax + 1}) {
    Message m = To(2, 1, MESSAGE_TYPE_SNAPSHOT, net_.raft(1).term());
    SnapshotMetadata* md = m.mutable_snapshot()->mutable_metadata();
    md->set_index(index);
    md->set_term(1);
    for (uint64_t v : {1, 2, 3}) md->mutable_conf_state()->add_voters(v);
    EXPECT_TRUE(net_.node(2).Step(m).ok());
  }
  EXPECT_EQ(counters(2).out_of_range_index, 3u);
  // The group still works.
  EXPECT_EQ(net_.Propose(1, "after"), ProposeResult::kOk);
  EXPECT_EQ(net_.AppliedData(2), std::vector<std::string>{"after"});
}

}  // namespace
}  // namespace raftstore::raft
