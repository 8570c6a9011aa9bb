#include "sim/store_checker.h"

#include <string>
#include <vector>

#include "core/raft/log/memory_storage.h"
#include "core/raft/log/raft_log.h"
#include "gtest/gtest.h"
#include "proto/raft.pb.h"

namespace raftstore::sim {
namespace {

raft::Entry MakeEntry(uint64_t index, uint64_t term, std::string data = "") {
  raft::Entry entry;
  entry.set_index(index);
  entry.set_term(term);
  entry.set_type(raft::ENTRY_TYPE_NORMAL);
  entry.set_data(data.empty() ? "v" + std::to_string(index) : data);
  return entry;
}

raft::HardState Hard(uint64_t term, uint64_t vote, uint64_t commit) {
  raft::HardState hs;
  hs.set_term(term);
  hs.set_vote(vote);
  hs.set_commit(commit);
  return hs;
}

TEST(StoreCheckerTest, BootstrappedPeersApplyFromIndexSixCleanly) {
  StoreChecker checker;
  const std::vector<raft::Entry> log = {MakeEntry(6, 6), MakeEntry(7, 6)};
  for (uint64_t store = 1; store <= 3; ++store) {
    const uint64_t peer = 100 + store;
    checker.OnSnapshotWritten(store, 1, peer, 5, 5, /*installed=*/false);
    checker.OnWritten(store, 1, peer, log);
    checker.OnSynced(store);
    for (const raft::Entry& e : log) checker.OnApplied(1, peer, e, 6);
  }
  EXPECT_TRUE(checker.violations().empty());
  EXPECT_EQ(checker.applied_entries(), 2U);
  EXPECT_EQ(checker.PeersSeen(1), 3U);
}

TEST(StoreCheckerTest, DifferentEntriesAppliedAtOneIndexAreNamedByRegion) {
  StoreChecker checker;
  checker.OnApplied(7, 701, MakeEntry(6, 6, "a"), 6);
  checker.OnApplied(7, 702, MakeEntry(6, 6, "b"), 6);
  const std::vector<SafetyViolation> violations = checker.violations();
  ASSERT_EQ(violations.size(), 1U);
  EXPECT_EQ(violations[0].property, "state machine safety");
  EXPECT_NE(violations[0].detail.find("region 7"), std::string::npos);
  EXPECT_NE(violations[0].detail.find("peer 702"), std::string::npos);
}

TEST(StoreCheckerTest, RegionsAreCheckedApart) {
  StoreChecker checker;
  // The same index and term in two regions is no conflict.
  checker.OnApplied(1, 101, MakeEntry(6, 6, "a"), 6);
  checker.OnApplied(2, 201, MakeEntry(6, 6, "b"), 6);
  EXPECT_TRUE(checker.violations().empty());
}

TEST(StoreCheckerTest, ASyncedEntryLostOnRestartIsADurabilityViolation) {
  StoreChecker checker;
  checker.OnSnapshotWritten(1, 1, 101, 5, 5, /*installed=*/false);
  const std::vector<raft::Entry> log = {MakeEntry(6, 6), MakeEntry(7, 6)};
  checker.OnWritten(1, 1, 101, log);
  checker.OnHardStateWritten(1, 1, 101, Hard(6, 101, 7));
  checker.OnSynced(1);
  checker.OnCrashed(1);
  const std::vector<raft::Entry> kept = {MakeEntry(6, 6)};
  checker.OnRecovered(1, 1, 101, 5, 5, kept, Hard(6, 101, 7), 5);
  const std::vector<SafetyViolation> violations = checker.violations();
  ASSERT_FALSE(violations.empty());
  EXPECT_EQ(violations[0].property, "durability");
}

TEST(StoreCheckerTest, UnsyncedEntriesMayBeLostAndALostDiskVoidsPromises) {
  StoreChecker checker;
  checker.OnSnapshotWritten(2, 1, 102, 5, 5, /*installed=*/false);
  checker.OnSynced(2);
  const std::vector<raft::Entry> log = {MakeEntry(6, 6)};
  checker.OnWritten(2, 1, 102, log);  // never synced
  checker.OnCrashed(2);
  checker.OnRecovered(2, 1, 102, 5, 5, {}, raft::HardState(), 5);
  EXPECT_TRUE(checker.violations().empty());
  checker.OnWritten(2, 1, 102, log);
  checker.OnSynced(2);
  checker.OnDiskLost(2);
  checker.OnRecovered(2, 1, 102, 0, 0, {}, raft::HardState(), 0);
  EXPECT_TRUE(checker.violations().empty());
}

TEST(StoreCheckerTest, TwoLeadersOfOneTermInARegion) {
  StoreChecker checker;
  raft::MemoryStorage storage;
  raft::RaftLog log(&storage);
  checker.OnLeader(3, 301, 7, log);
  checker.OnLeader(3, 302, 7, log);
  const std::vector<SafetyViolation> violations = checker.violations();
  ASSERT_EQ(violations.size(), 1U);
  EXPECT_EQ(violations[0].property, "election safety");
}

}  // namespace
}  // namespace raftstore::sim
