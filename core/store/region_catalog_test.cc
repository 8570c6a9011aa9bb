#include "core/store/region_catalog.h"

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/store/region_hooks.h"
#include "core/store/region_state.h"
#include "gtest/gtest.h"
#include "proto/region.pb.h"

namespace raftstore::store {
namespace {

using meta::Region;

constexpr meta::RegionState kNew = meta::REGION_STATE_NEW;
constexpr meta::RegionState kRunning = meta::REGION_STATE_RUNNING;
constexpr meta::RegionState kRemoving = meta::REGION_STATE_REMOVING;
constexpr meta::RegionState kTombstone = meta::REGION_STATE_TOMBSTONE;

Region MakeRegion(uint64_t id, const std::string& start, const std::string& end,
                  uint64_t version = 1, uint64_t conf_version = 1) {
  Region region;
  region.set_id(id);
  region.set_start_key(start);
  region.set_end_key(end);
  region.mutable_epoch()->set_version(version);
  region.mutable_epoch()->set_conf_version(conf_version);
  meta::Peer* peer = region.add_peers();
  peer->set_id(id * 10);
  peer->set_store_id(1);
  peer->set_role(meta::PEER_ROLE_VOTER);
  return region;
}

class RegionCatalogTest : public ::testing::Test {
 protected:
  uint64_t Route(const std::string& key) const {
    const std::optional<Region> region = catalog_.FindByKey(key);
    return region.has_value() ? region->id() : 0;
  }
  void TearDown() override { catalog_.CheckInvariants(); }

  RegionCatalog catalog_{RegionCatalogConfig{}};
};

bool Contains(const absl::Status& status, const std::string& text) {
  return status.message().find(text) != absl::string_view::npos;
}

TEST_F(RegionCatalogTest, InsertStartsNewAndRoutes) {
  ASSERT_TRUE(catalog_.Insert(MakeRegion(1, "", "m")).ok());
  const absl::StatusOr<RegionRecord> record = catalog_.Get(1);
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(record->state, kNew);
  EXPECT_EQ(record->region.end_key(), "m");
  EXPECT_EQ(Route("a"), 1u);
  EXPECT_EQ(catalog_.Get(2).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(RegionCatalogTest, InsertRemovedRestoresAGoneRegionWithoutRouting) {
  // A region merged into another: its tombstone's range is the other's now.
  ASSERT_TRUE(catalog_.Insert(MakeRegion(1, "", "", 3)).ok());
  ASSERT_TRUE(
      catalog_.InsertRemoved(MakeRegion(2, "m", "", 2), kTombstone).ok());
  EXPECT_EQ(catalog_.Get(2)->state, kTombstone);
  EXPECT_EQ(Route("q"), 1u);
  EXPECT_EQ(catalog_.CountByState().region_tombstone, 1u);
  EXPECT_EQ(catalog_.Insert(MakeRegion(2, "m", "")).code(),
            absl::StatusCode::kFailedPrecondition);  // never recreated
  EXPECT_EQ(catalog_.InsertRemoved(MakeRegion(3, "a", "b"), kRunning).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(catalog_.InsertRemoved(MakeRegion(2, "m", ""), kRemoving).code(),
            absl::StatusCode::kAlreadyExists);
}

TEST_F(RegionCatalogTest, RoutingAtRangeBoundaries) {
  ASSERT_TRUE(catalog_.Insert(MakeRegion(1, "", "b")).ok());
  ASSERT_TRUE(catalog_.Insert(MakeRegion(2, "b", "d")).ok());
  ASSERT_TRUE(catalog_.Insert(MakeRegion(3, "f", "")).ok());
  EXPECT_EQ(Route(""), 1u);  // The empty key is the first key.
  EXPECT_EQ(Route("a"), 1u);
  EXPECT_EQ(Route("az"), 1u);
  EXPECT_EQ(Route("b"), 2u);  // Start inclusive, end exclusive.
  EXPECT_EQ(Route("cz"), 2u);
  EXPECT_EQ(Route("d"), 0u);  // The gap [d, f) has no region.
  EXPECT_EQ(Route("e"), 0u);
  EXPECT_EQ(Route("f"), 3u);
  EXPECT_EQ(Route("zzzz"), 3u);  // An empty end key is +infinity.
  EXPECT_EQ(Route(std::string(1, '\xff')), 3u);
  EXPECT_EQ(Route(std::string("b\0", 2)), 2u);
}

TEST_F(RegionCatalogTest, RefusesOverlapNamingBothRegions) {
  ASSERT_TRUE(catalog_.Insert(MakeRegion(1, "b", "d")).ok());
  const struct {
    std::string start, end;
  } overlapping[] = {{"", "c"}, {"c", "e"},  {"a", ""},  {"b", "d"},
                     {"", ""},  {"c", "cc"}, {"a", "bb"}};
  for (const auto& range : overlapping) {
    const absl::Status status =
        catalog_.Insert(MakeRegion(2, range.start, range.end));
    EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition)
        << range.start << ".." << range.end;
    EXPECT_TRUE(Contains(status, "region 2 ")) << status;
    EXPECT_TRUE(Contains(status, "overlaps region 1 [\"b\", \"d\")")) << status;
  }
  const absl::Status unbounded = catalog_.Insert(MakeRegion(2, "a", ""));
  EXPECT_TRUE(Contains(unbounded, "region 2 [\"a\", +inf)")) << unbounded;
  // Adjacent ranges touch without overlapping.
  EXPECT_TRUE(catalog_.Insert(MakeRegion(2, "", "b")).ok());
  EXPECT_TRUE(catalog_.Insert(MakeRegion(3, "d", "")).ok());
  EXPECT_EQ(catalog_.size(), 3u);
}

TEST_F(RegionCatalogTest, RefusesBadInputDuplicatesAndTombstones) {
  EXPECT_EQ(catalog_.Insert(MakeRegion(0, "", "")).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(catalog_.Insert(MakeRegion(1, "c", "c")).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(catalog_.Insert(MakeRegion(1, "d", "c")).code(),
            absl::StatusCode::kInvalidArgument);
  Region twice = MakeRegion(1, "", "");
  *twice.add_peers() = twice.peers(0);
  EXPECT_EQ(catalog_.Insert(twice).code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(catalog_.Insert(MakeRegion(1, "a", "c")).ok());
  EXPECT_EQ(catalog_.Insert(MakeRegion(1, "x", "y")).code(),
            absl::StatusCode::kAlreadyExists);
  ASSERT_TRUE(catalog_.Transition(1, kRunning).ok());
  ASSERT_TRUE(catalog_.Transition(1, kTombstone).ok());
  const absl::Status again = catalog_.Insert(MakeRegion(1, "a", "c"));
  EXPECT_EQ(again.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Contains(again, "tombstone")) << again;
}

TEST_F(RegionCatalogTest, TransitionsFollowTheLifecycle) {
  ASSERT_TRUE(catalog_.Insert(MakeRegion(1, "a", "c")).ok());
  const absl::Status skip = catalog_.Transition(1, kTombstone);
  EXPECT_EQ(skip.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Contains(skip,
                       "region 1: invalid state transition New -> "
                       "Tombstone"))
      << skip;
  EXPECT_EQ(catalog_.Transition(9, kRunning).code(),
            absl::StatusCode::kNotFound);
  ASSERT_TRUE(catalog_.Transition(1, kRunning).ok());
  EXPECT_EQ(Route("b"), 1u);
  ASSERT_TRUE(catalog_.Transition(1, kRemoving).ok());
  EXPECT_EQ(Route("b"), 0u);  // Removing gives up the range...
  ASSERT_TRUE(catalog_.Insert(MakeRegion(2, "a", "z")).ok());  // ...to others.
  EXPECT_EQ(catalog_.Transition(1, kRunning).code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(catalog_.Transition(1, kTombstone).ok());
  EXPECT_EQ(catalog_.Get(1)->state, kTombstone);
}

TEST_F(RegionCatalogTest, RemoveOnlyDropsTombstones) {
  ASSERT_TRUE(catalog_.Insert(MakeRegion(1, "a", "c")).ok());
  EXPECT_EQ(catalog_.Remove(1).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(catalog_.Remove(2).code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(catalog_.Transition(1, kRunning).ok());
  EXPECT_EQ(catalog_.Remove(1).code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(catalog_.Transition(1, kTombstone).ok());
  ASSERT_TRUE(catalog_.Remove(1).ok());
  EXPECT_EQ(catalog_.size(), 0u);
  EXPECT_EQ(catalog_.Get(1).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(RegionCatalogTest, EpochNeverGoesBackwards) {
  ASSERT_TRUE(catalog_.Insert(MakeRegion(1, "a", "m", 5, 3)).ok());
  const absl::Status older = catalog_.Update(MakeRegion(1, "a", "m", 4, 3));
  EXPECT_EQ(older.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Contains(older,
                       "region 1: epoch goes backwards (version 5 -> "
                       "4, conf_version 3 -> 3)"))
      << older;
  EXPECT_EQ(catalog_.Update(MakeRegion(1, "a", "m", 6, 2)).code(),
            absl::StatusCode::kFailedPrecondition);
  // A range change needs a higher version; a peer change a higher conf_version.
  EXPECT_EQ(catalog_.Update(MakeRegion(1, "a", "g", 5, 3)).code(),
            absl::StatusCode::kFailedPrecondition);
  Region more_peers = MakeRegion(1, "a", "m", 5, 3);
  meta::Peer* peer = more_peers.add_peers();
  peer->set_id(11);
  peer->set_store_id(2);
  EXPECT_EQ(catalog_.Update(more_peers).code(),
            absl::StatusCode::kFailedPrecondition);
  more_peers.mutable_epoch()->set_conf_version(4);
  EXPECT_TRUE(catalog_.Update(more_peers).ok());
  EXPECT_TRUE(catalog_.Update(MakeRegion(1, "a", "m", 5, 4)).code() ==
              absl::StatusCode::kFailedPrecondition);  // Dropped peer 11.
  // Split the parent: shrink (version up), then insert the child.
  Region shrunk = more_peers;
  shrunk.set_end_key("g");
  shrunk.mutable_epoch()->set_version(6);
  ASSERT_TRUE(catalog_.Update(shrunk).ok());
  ASSERT_TRUE(catalog_.Insert(MakeRegion(2, "g", "m", 6, 1)).ok());
  EXPECT_EQ(Route("f"), 1u);
  EXPECT_EQ(Route("g"), 2u);
  // Equal epoch, same meta: allowed (a no-op refresh).
  EXPECT_TRUE(catalog_.Update(shrunk).ok());
  EXPECT_EQ(catalog_.Get(1)->region.epoch().version(), 6u);
}

TEST_F(RegionCatalogTest, UpdateRefusesOverlapAndKeepsRouting) {
  ASSERT_TRUE(catalog_.Insert(MakeRegion(1, "a", "c")).ok());
  ASSERT_TRUE(catalog_.Insert(MakeRegion(2, "c", "e")).ok());
  const absl::Status grow = catalog_.Update(MakeRegion(1, "a", "d", 2));
  EXPECT_EQ(grow.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Contains(grow, "overlaps region 2")) << grow;
  EXPECT_EQ(Route("b"), 1u);  // Still routed by its old range.
  EXPECT_EQ(catalog_.Get(1)->region.end_key(), "c");
  // Merge: the source leaves routing, then the target grows over it.
  ASSERT_TRUE(catalog_.Transition(2, kRunning).ok());
  ASSERT_TRUE(catalog_.Transition(2, kTombstone).ok());
  ASSERT_TRUE(catalog_.Update(MakeRegion(1, "a", "e", 2)).ok());
  EXPECT_EQ(Route("d"), 1u);
  EXPECT_EQ(catalog_.Update(MakeRegion(2, "c", "e", 9)).code(),
            absl::StatusCode::kFailedPrecondition);  // Tombstones are final.
  EXPECT_EQ(catalog_.Update(MakeRegion(3, "x", "y")).code(),
            absl::StatusCode::kNotFound);
}

// Records every event with the meta it was given; casts the constness away
// and scribbles on the meta to prove it is a copy, not the catalog's own.
class RecordingHooks : public RegionHooks {
 public:
  explicit RecordingHooks(std::vector<std::string>* log) : log_(log) {}
  void OnRegionUpdate(const Region& region, meta::RegionState state) override {
    log_->push_back(absl::StrCat("update ", region.id(), " ",
                                 RegionStateName(state), " ",
                                 DescribeRange(region)));
    const_cast<Region&>(region).set_end_key("scribbled");  // NOLINT
  }
  void OnRegionRemove(const Region& region) override {
    log_->push_back(absl::StrCat("remove ", region.id()));
  }
  void OnPeerStart(uint64_t region_id) override {
    log_->push_back(absl::StrCat("start ", region_id));
  }
  void OnPeerStop(uint64_t region_id) override {
    log_->push_back(absl::StrCat("stop ", region_id));
  }

 private:
  std::vector<std::string>* log_;
};

TEST_F(RegionCatalogTest, HooksSeeEveryChangeInOrderWithCopies) {
  std::vector<std::string> log;
  RecordingHooks first(&log);
  std::vector<std::string> second_log;
  RecordingHooks second(&second_log);
  ASSERT_TRUE(catalog_.AddHooks(&first).ok());
  ASSERT_TRUE(catalog_.AddHooks(&second).ok());
  EXPECT_EQ(catalog_.AddHooks(&first).code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(catalog_.Insert(MakeRegion(1, "a", "c")).ok());
  ASSERT_TRUE(catalog_.NotifyPeerStart(1).ok());
  ASSERT_TRUE(catalog_.Transition(1, kRunning).ok());
  ASSERT_TRUE(catalog_.Update(MakeRegion(1, "a", "d", 2)).ok());
  EXPECT_FALSE(catalog_.Transition(1, kNew).ok());  // Refused: no event.
  ASSERT_TRUE(catalog_.Transition(1, kRemoving).ok());
  ASSERT_TRUE(catalog_.NotifyPeerStop(1).ok());
  ASSERT_TRUE(catalog_.Transition(1, kTombstone).ok());
  ASSERT_TRUE(catalog_.Remove(1).ok());
  EXPECT_EQ(catalog_.NotifyPeerStart(1).code(), absl::StatusCode::kNotFound);
  const std::vector<std::string> expected = {
      "update 1 New [\"a\", \"c\")",       "start 1",
      "update 1 Running [\"a\", \"c\")",   "update 1 Running [\"a\", \"d\")",
      "update 1 Removing [\"a\", \"d\")",  "stop 1",
      "update 1 Tombstone [\"a\", \"d\")", "remove 1"};
  EXPECT_EQ(log, expected);
  // The second hook got the same copy after the first scribbled on it, but
  // the catalog itself never saw the scribble.
  EXPECT_EQ(second_log.size(), expected.size());
  EXPECT_EQ(second_log[0], "update 1 New [\"a\", \"scribbled\")");
}

TEST_F(RegionCatalogTest, ScribblingHookDoesNotChangeTheCatalog) {
  std::vector<std::string> log;
  RecordingHooks hooks(&log);
  ASSERT_TRUE(catalog_.AddHooks(&hooks).ok());
  ASSERT_TRUE(catalog_.Insert(MakeRegion(1, "a", "c")).ok());
  EXPECT_EQ(catalog_.Get(1)->region.end_key(), "c");
  EXPECT_EQ(Route("b"), 1u);
  EXPECT_EQ(Route("d"), 0u);
}

TEST_F(RegionCatalogTest, MetricsCountAfterASequence) {
  for (uint64_t id = 1; id <= 6; ++id) {
    const std::string start(1, static_cast<char>('a' + id));
    const std::string end(1, static_cast<char>('a' + id + 1));
    ASSERT_TRUE(catalog_.Insert(MakeRegion(id, start, end)).ok());
  }
  for (uint64_t id = 2; id <= 6; ++id) {
    ASSERT_TRUE(catalog_.Transition(id, kRunning).ok());
  }
  ASSERT_TRUE(catalog_.Transition(3, kRemoving).ok());
  ASSERT_TRUE(catalog_.Transition(4, kRemoving).ok());
  ASSERT_TRUE(catalog_.Transition(4, kTombstone).ok());
  ASSERT_TRUE(catalog_.Transition(5, kTombstone).ok());
  ASSERT_TRUE(catalog_.Transition(6, kTombstone).ok());
  ASSERT_TRUE(catalog_.Remove(6).ok());
  RegionMetricsSnapshot expected;
  expected.region_total = 5;
  expected.region_new = 1;
  expected.region_running = 1;
  expected.region_removing = 1;
  expected.region_tombstone = 2;
  EXPECT_EQ(catalog_.metrics().Snapshot(), expected);
  EXPECT_EQ(catalog_.CountByState(), expected);
  EXPECT_EQ(catalog_.metrics().ToString(),
            "region_total=5 region_new=1 region_running=1 region_removing=1 "
            "region_tombstone=2 region_other=0");
}

TEST_F(RegionCatalogTest, RegionSnapshotReturnsCopiesOrderedById) {
  ASSERT_TRUE(catalog_.Insert(MakeRegion(2, "m", "")).ok());
  ASSERT_TRUE(catalog_.Insert(MakeRegion(1, "", "m")).ok());
  ASSERT_TRUE(catalog_.Transition(2, kRunning).ok());
  std::vector<RegionRecord> snapshot = catalog_.RegionSnapshot();
  ASSERT_EQ(snapshot.size(), 2u);
  EXPECT_EQ(snapshot[0].region.id(), 1u);
  EXPECT_EQ(snapshot[0].state, kNew);
  EXPECT_EQ(snapshot[1].region.id(), 2u);
  EXPECT_EQ(snapshot[1].state, kRunning);
  snapshot[0].region.set_end_key("z");
  snapshot[0].region.mutable_epoch()->set_version(99);
  snapshot[0].region.mutable_peers(0)->set_store_id(42);
  snapshot[1].state = kTombstone;
  absl::StatusOr<RegionRecord> got = catalog_.Get(1);
  ASSERT_TRUE(got.ok());
  got->region.set_start_key("q");
  std::optional<Region> found = catalog_.FindByKey("a");
  ASSERT_TRUE(found.has_value());
  found->set_id(77);
  const std::vector<RegionRecord> again = catalog_.RegionSnapshot();
  EXPECT_EQ(again[0].region.end_key(), "m");
  EXPECT_EQ(again[0].region.start_key(), "");
  EXPECT_EQ(again[0].region.epoch().version(), 1u);
  EXPECT_EQ(again[0].region.peers(0).store_id(), 1u);
  EXPECT_EQ(again[1].state, kRunning);
  EXPECT_EQ(Route("a"), 1u);
  EXPECT_EQ(Route("n"), 2u);
}

TEST(RegionCatalogBoundTest, RegionsMaxCountsTombstonesUntilRemoved) {
  RegionCatalogConfig config;
  config.regions_max = 2;
  RegionCatalog catalog(config);
  EXPECT_EQ(catalog.regions_max(), 2u);
  ASSERT_TRUE(catalog.Insert(MakeRegion(1, "a", "b")).ok());
  ASSERT_TRUE(catalog.Insert(MakeRegion(2, "b", "c")).ok());
  const absl::Status full = catalog.Insert(MakeRegion(3, "c", "d"));
  EXPECT_EQ(full.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(Contains(full, "regions_max=2")) << full;
  ASSERT_TRUE(catalog.Transition(1, kRunning).ok());
  ASSERT_TRUE(catalog.Transition(1, kTombstone).ok());
  EXPECT_EQ(catalog.Insert(MakeRegion(3, "c", "d")).code(),
            absl::StatusCode::kResourceExhausted);
  ASSERT_TRUE(catalog.Remove(1).ok());
  EXPECT_TRUE(catalog.Insert(MakeRegion(3, "c", "d")).ok());
  catalog.CheckInvariants();
  EXPECT_EQ(RegionCatalogConfig{0}.Validate().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(RegionCatalogDeathTest, HookCallingBackIntoTheCatalogCrashes) {
  class Reentrant : public RegionHooks {
   public:
    explicit Reentrant(RegionCatalog* catalog) : catalog_(catalog) {}
    void OnRegionUpdate(const Region& /*region*/,
                        meta::RegionState /*state*/) override {
      (void)catalog_->Remove(1);
    }

   private:
    RegionCatalog* catalog_;
  };
  EXPECT_DEATH(
      {
        RegionCatalog catalog{RegionCatalogConfig{}};
        Reentrant hooks(&catalog);
        (void)catalog.AddHooks(&hooks);
        (void)catalog.Insert(MakeRegion(1, "a", "b"));
      },
      "called back into the catalog");
}

}  // namespace
}  // namespace raftstore::store
