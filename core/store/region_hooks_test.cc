#include "core/store/region_hooks.h"

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "proto/region.pb.h"

namespace raftstore::store {
namespace {

meta::Region MakeRegion(uint64_t id) {
  meta::Region region;
  region.set_id(id);
  return region;
}

// Appends "<name>:<event>:<region id>" to a shared log.
class LoggingHooks : public RegionHooks {
 public:
  LoggingHooks(std::string name, std::vector<std::string>* log)
      : name_(std::move(name)), log_(log) {}
  void OnRegionUpdate(const meta::Region& region,
                      meta::RegionState state) override {
    log_->push_back(absl::StrCat(name_, ":update:", region.id(), ":",
                                 static_cast<int>(state)));
  }
  void OnRegionRemove(const meta::Region& region) override {
    log_->push_back(absl::StrCat(name_, ":remove:", region.id()));
  }
  void OnPeerStart(uint64_t region_id) override {
    log_->push_back(absl::StrCat(name_, ":start:", region_id));
  }
  void OnPeerStop(uint64_t region_id) override {
    log_->push_back(absl::StrCat(name_, ":stop:", region_id));
  }

 private:
  std::string name_;
  std::vector<std::string>* log_;
};

TEST(RegionHookChainTest, CallsHooksInRegistrationOrder) {
  std::vector<std::string> log;
  LoggingHooks a("a", &log);
  LoggingHooks b("b", &log);
  RegionHookChain chain;
  ASSERT_TRUE(chain.Add(&b).ok());
  ASSERT_TRUE(chain.Add(&a).ok());
  chain.OnRegionUpdate(MakeRegion(3), meta::REGION_STATE_RUNNING);
  chain.OnRegionRemove(MakeRegion(3));
  chain.OnPeerStart(4);
  chain.OnPeerStop(5);
  const std::vector<std::string> expected = {
      "b:update:3:2", "a:update:3:2", "b:remove:3", "a:remove:3",
      "b:start:4",    "a:start:4",    "b:stop:5",   "a:stop:5"};
  EXPECT_EQ(log, expected);
}

TEST(RegionHookChainTest, RefusesNullDuplicatesItselfAndBeyondTheBound) {
  RegionHookChain chain;
  EXPECT_EQ(chain.Add(nullptr).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(chain.Add(&chain).code(), absl::StatusCode::kInvalidArgument);
  std::vector<RegionMetrics> hooks(RegionHookChain::kHooksMax + 1);
  for (size_t i = 0; i < RegionHookChain::kHooksMax; ++i) {
    ASSERT_TRUE(chain.Add(&hooks[i]).ok()) << i;
  }
  EXPECT_EQ(chain.Add(&hooks[0]).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(chain.Add(&hooks.back()).code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(chain.size(), RegionHookChain::kHooksMax);
}

TEST(RegionHooksTest, DefaultsIgnoreEvents) {
  RegionHooks hooks;  // Every method a no-op: must not crash.
  hooks.OnRegionUpdate(MakeRegion(1), meta::REGION_STATE_NEW);
  hooks.OnRegionRemove(MakeRegion(1));
  hooks.OnPeerStart(1);
  hooks.OnPeerStop(1);
}

TEST(RegionMetricsTest, CountsTheLastStateOfEachRegion) {
  RegionMetrics metrics;
  EXPECT_EQ(metrics.Snapshot(), RegionMetricsSnapshot{});
  metrics.OnRegionUpdate(MakeRegion(1), meta::REGION_STATE_NEW);
  metrics.OnRegionUpdate(MakeRegion(2), meta::REGION_STATE_NEW);
  metrics.OnRegionUpdate(MakeRegion(3), meta::REGION_STATE_NEW);
  metrics.OnRegionUpdate(MakeRegion(4), meta::REGION_STATE_NEW);
  metrics.OnRegionUpdate(MakeRegion(2), meta::REGION_STATE_RUNNING);
  metrics.OnRegionUpdate(MakeRegion(3), meta::REGION_STATE_RUNNING);
  metrics.OnRegionUpdate(MakeRegion(3), meta::REGION_STATE_REMOVING);
  metrics.OnRegionUpdate(MakeRegion(4), meta::REGION_STATE_RUNNING);
  metrics.OnRegionUpdate(MakeRegion(4), meta::REGION_STATE_TOMBSTONE);
  metrics.OnRegionUpdate(MakeRegion(5), meta::REGION_STATE_UNSPECIFIED);
  metrics.OnRegionUpdate(MakeRegion(6), static_cast<meta::RegionState>(9));
  metrics.OnRegionRemove(MakeRegion(6));
  RegionMetricsSnapshot expected;
  expected.region_total = 5;
  expected.region_new = 1;
  expected.region_running = 1;
  expected.region_removing = 1;
  expected.region_tombstone = 1;
  expected.region_other = 1;
  EXPECT_EQ(metrics.Snapshot(), expected);
  EXPECT_EQ(metrics.ToString(),
            "region_total=5 region_new=1 region_running=1 region_removing=1 "
            "region_tombstone=1 region_other=1");
}

}  // namespace
}  // namespace raftstore::store
