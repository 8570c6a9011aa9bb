// The Ready/Advance surface: what a Ready holds, when, and the
// persistence acknowledgements that move the leader's own progress.
#include "core/raft/raw_node.h"

#include <memory>
#include <string>
#include <vector>

#include "core/raft/log/memory_storage.h"
#include "core/raft/raft_test_network.h"
#include "gtest/gtest.h"

namespace raftstore::raft {
namespace {

using testing::DefaultTestConfig;
using testing::TestNetwork;

// A single node over its own storage, bootstrapped with `voters`.
struct Solo {
  explicit Solo(std::vector<uint64_t> voters, uint64_t id = 1) : rng(1) {
    Snapshot bootstrap;
    for (uint64_t v : voters) {
      bootstrap.mutable_metadata()->mutable_conf_state()->add_voters(v);
    }
    EXPECT_TRUE(storage.ApplySnapshot(bootstrap).ok());
    Config config = DefaultTestConfig();
    config.id = id;
    config.storage = &storage;
    node = std::make_unique<RawNode>(config, &rng);
  }

  void Persist(const Ready& rd) {
    if (rd.hard_state) storage.SetHardState(*rd.hard_state);
    if (!rd.entries.empty()) {
      EXPECT_TRUE(storage.Append(rd.entries).ok());
    }
  }

  MemoryStorage storage;
  Rng rng;
  std::unique_ptr<RawNode> node;
};

TEST(RawNodeTest, FreshNodeHasNothingReady) {
  Solo solo({1, 2, 3});
  EXPECT_FALSE(solo.node->HasReady());
}

TEST(RawNodeTest, SingleVoterCommitsOwnEntryOnlyAfterAdvance) {
  Solo solo({1});
  ASSERT_TRUE(solo.node->Campaign());
  ASSERT_TRUE(solo.node->HasReady());
  Ready rd = solo.node->GetReady();
  ASSERT_TRUE(rd.soft_state.has_value());
  EXPECT_EQ(rd.soft_state->role, Role::kLeader);
  ASSERT_TRUE(rd.hard_state.has_value());
  EXPECT_EQ(rd.hard_state->term(), 1u);
  EXPECT_EQ(rd.hard_state->vote(), 1u);
  EXPECT_EQ(rd.hard_state->commit(), 0u);
  ASSERT_EQ(rd.entries.size(), 1u);
  EXPECT_TRUE(rd.must_sync);
  EXPECT_TRUE(rd.committed_entries.empty());
  // Not durable yet: the leader's own match has not moved.
  EXPECT_EQ(solo.node->raft().tracker().GetProgress(1)->match(), 0u);
  EXPECT_EQ(solo.node->raft().log().committed(), 0u);
  solo.Persist(rd);
  solo.node->Advance(rd);
  EXPECT_EQ(solo.node->raft().tracker().GetProgress(1)->match(), 1u);
  EXPECT_EQ(solo.node->raft().log().committed(), 1u);
  rd = solo.node->GetReady();
  ASSERT_TRUE(rd.hard_state.has_value());
  EXPECT_EQ(rd.hard_state->commit(), 1u);
  EXPECT_FALSE(rd.must_sync);  // a commit change alone needs no sync
  ASSERT_EQ(rd.committed_entries.size(), 1u);
  EXPECT_TRUE(rd.entries.empty());
  solo.node->Advance(rd);
  EXPECT_FALSE(solo.node->HasReady());
  EXPECT_EQ(solo.node->raft().log().applied(), 1u);
}

TEST(RawNodeTest, LeaderSendsAppendsInTheSameReadyAsItsOwnEntries) {
  TestNetwork net({1, 2, 3});
  net.Campaign(1);
  ASSERT_EQ(net.node(1).Propose("a"), ProposeResult::kOk);
  Ready rd = net.node(1).GetReady();
  ASSERT_EQ(rd.entries.size(), 1u);
  int appends = 0;
  for (const Message& m : rd.messages) {
    if (m.type() == MESSAGE_TYPE_APPEND && m.entries_size() == 1) ++appends;
  }
  EXPECT_EQ(appends, 2);
  // Thesis 10.2.1: the followers' acknowledgements alone commit the entry
  // while the leader's own write is still outstanding.
  for (const Message& m : rd.messages) {
    ASSERT_TRUE(net.node(m.to()).Step(m).ok());
  }
  for (uint64_t id : {2, 3}) {
    const Ready frd = net.node(id).GetReady();
    if (frd.hard_state) net.storage(id).SetHardState(*frd.hard_state);
    ASSERT_TRUE(net.storage(id).Append(frd.entries).ok());
    net.node(id).Advance(frd);
    for (const Message& m : frd.messages) {
      ASSERT_TRUE(net.node(1).Step(m).ok());
    }
  }
  EXPECT_EQ(net.raft(1).log().committed(), 2u);
  EXPECT_EQ(net.raft(1).tracker().GetProgress(1)->match(), 1u);
  // Nor may the leader apply what it has not itself made durable.
  EXPECT_FALSE(net.raft(1).log().HasNextCommittedEntries());
  ASSERT_TRUE(net.storage(1).Append(rd.entries).ok());
  net.node(1).Advance(rd);
  EXPECT_EQ(net.raft(1).tracker().GetProgress(1)->match(), 2u);
  EXPECT_TRUE(net.raft(1).log().HasNextCommittedEntries());
}

TEST(RawNodeTest, FollowerMessagesFollowItsPersistedState) {
  TestNetwork net({1, 2, 3});
  net.Campaign(1);
  ASSERT_EQ(net.node(1).Propose("a"), ProposeResult::kOk);
  Ready leader_rd = net.node(1).GetReady();
  for (const Message& m : leader_rd.messages) {
    if (m.to() == 2) {
      ASSERT_TRUE(net.node(2).Step(m).ok());
    }
  }
  const Ready rd = net.node(2).GetReady();
  // The acknowledgement travels in the same Ready as the entries it
  // acknowledges; the driver sends it only after writing them.
  ASSERT_EQ(rd.entries.size(), 1u);
  ASSERT_EQ(rd.messages.size(), 1u);
  EXPECT_EQ(rd.messages[0].type(), MESSAGE_TYPE_APPEND_RESPONSE);
  EXPECT_TRUE(rd.must_sync);
}

TEST(RawNodeTest, CommittedEntriesAreNeverHandedOutTwice) {
  TestNetwork net({1});
  net.Campaign(1);
  net.Propose(1, "a");
  net.Propose(1, "b");
  EXPECT_EQ(net.AppliedData(1), (std::vector<std::string>{"a", "b"}));
  EXPECT_FALSE(net.node(1).HasReady());
}

TEST(RawNodeTest, CommittedEntriesPerReadyAreBoundedByBytes) {
  TestNetwork net({1}, {}, [](Config& config) {
    config.max_committed_size_per_ready_bytes = 1;
  });
  net.Campaign(1);
  net.node(1).Propose("a");
  net.node(1).Propose("b");
  net.node(1).Propose("c");
  // Persist without applying: one Ready with the entries.
  Ready rd = net.node(1).GetReady();
  ASSERT_EQ(rd.entries.size(), 3u);
  ASSERT_TRUE(net.storage(1).Append(rd.entries).ok());
  net.node(1).Advance(rd);
  int readys = 0;
  while (net.node(1).HasReady()) {
    rd = net.node(1).GetReady();
    EXPECT_LE(rd.committed_entries.size(), 1u);
    net.node(1).Advance(rd);
    ++readys;
  }
  EXPECT_EQ(readys, 3);
}

TEST(RawNodeTest, SeveralReadysMayBeInFlightBeforeAdvance) {
  Solo solo({1});
  ASSERT_TRUE(solo.node->Campaign());
  Ready rd = solo.node->GetReady();
  solo.Persist(rd);
  solo.node->Advance(rd);
  rd = solo.node->GetReady();
  solo.node->Advance(rd);
  ASSERT_EQ(solo.node->raft().log().committed(), 1u);
  // Two writes handed out before either is acknowledged.
  ASSERT_EQ(solo.node->Propose("a"), ProposeResult::kOk);
  const Ready first = solo.node->GetReady();
  ASSERT_EQ(solo.node->Propose("b"), ProposeResult::kOk);
  const Ready second = solo.node->GetReady();
  ASSERT_EQ(first.entries.size(), 1u);
  ASSERT_EQ(second.entries.size(), 1u);  // only what is new
  EXPECT_EQ(second.entries[0].index(), 3u);
  solo.Persist(first);
  solo.Persist(second);
  solo.node->Advance(first);
  EXPECT_EQ(solo.node->raft().tracker().GetProgress(1)->match(), 2u);
  EXPECT_EQ(solo.node->raft().log().committed(), 2u);
  solo.node->Advance(second);
  EXPECT_EQ(solo.node->raft().tracker().GetProgress(1)->match(), 3u);
  EXPECT_EQ(solo.node->raft().log().committed(), 3u);
  rd = solo.node->GetReady();
  ASSERT_EQ(rd.committed_entries.size(), 2u);
  EXPECT_EQ(rd.committed_entries[0].data(), "a");
  EXPECT_EQ(rd.committed_entries[1].data(), "b");
}

TEST(RawNodeTest, ReadStatesAndSoftStateAreReported) {
  Solo solo({1});
  ASSERT_TRUE(solo.node->Campaign());
  Ready rd = solo.node->GetReady();
  solo.Persist(rd);
  solo.node->Advance(rd);
  rd = solo.node->GetReady();
  solo.node->Advance(rd);
  ASSERT_EQ(solo.node->ReadIndex("ctx"), ReadIndexResult::kOk);
  ASSERT_TRUE(solo.node->HasReady());
  rd = solo.node->GetReady();
  ASSERT_EQ(rd.read_states.size(), 1u);
  EXPECT_EQ(rd.read_states[0], (ReadState{1, "ctx"}));
  EXPECT_FALSE(rd.soft_state.has_value());  // unchanged since last Ready
  solo.node->Advance(rd);
  EXPECT_FALSE(solo.node->HasReady());
}

TEST(RawNodeTest, CreateRejectsInvalidConfigNamingTheField) {
  MemoryStorage storage;
  Rng rng(1);
  Config config = DefaultTestConfig();
  config.id = 1;
  config.storage = &storage;
  config.max_inflight_msgs = 0;
  absl::StatusOr<std::unique_ptr<RawNode>> node = RawNode::Create(config, &rng);
  ASSERT_FALSE(node.ok());
  EXPECT_EQ(node.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(node.status().message().find("max_inflight_msgs"),
            absl::string_view::npos);
}

TEST(ConfigTest, ValidateNamesEachBadField) {
  MemoryStorage storage;
  auto message_of = [&](auto mutate) {
    Config config = DefaultTestConfig();
    config.id = 1;
    config.storage = &storage;
    mutate(config);
    return std::string(config.Validate().message());
  };
  EXPECT_NE(message_of([](Config& c) { c.id = 0; }).find("id"),
            std::string::npos);
  EXPECT_NE(
      message_of([](Config& c) { c.election_tick = 1; }).find("election_tick"),
      std::string::npos);
  EXPECT_NE(message_of([](Config& c) {
              c.heartbeat_tick = 0;
            }).find("heartbeat_tick"),
            std::string::npos);
  EXPECT_NE(message_of([](Config& c) { c.storage = nullptr; }).find("storage"),
            std::string::npos);
  EXPECT_NE(message_of([](Config& c) {
              c.max_size_per_msg_bytes = 0;
            }).find("max_size_per_msg_bytes"),
            std::string::npos);
  EXPECT_NE(message_of([](Config& c) {
              c.max_inflight_bytes = 0;
            }).find("max_inflight_bytes"),
            std::string::npos);
  EXPECT_NE(message_of([](Config& c) {
              c.max_uncommitted_entries_bytes = 0;
            }).find("max_uncommitted_entries_bytes"),
            std::string::npos);
  EXPECT_NE(message_of([](Config& c) {
              c.pending_reads_max = 0;
            }).find("pending_reads_max"),
            std::string::npos);
  EXPECT_NE(message_of([](Config& c) {
              c.max_committed_size_per_ready_bytes = 0;
            }).find("max_committed_size_per_ready_bytes"),
            std::string::npos);
  EXPECT_NE(message_of([](Config& c) {
              c.read_only_option = ReadOnlyOption::kLeaseBased;
            }).find("read_only_option"),
            std::string::npos);
  EXPECT_EQ(message_of([](Config&) {}), "");
}

TEST(RawNodeTest, CreateRejectsAppliedBeyondCommit) {
  MemoryStorage storage;
  Rng rng(1);
  Config config = DefaultTestConfig();
  config.id = 1;
  config.storage = &storage;
  config.applied = 5;
  EXPECT_EQ(RawNode::Create(config, &rng).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace raftstore::raft
