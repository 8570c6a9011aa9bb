// Properties of one raft group under a randomized schedule of faults: the
// five safety properties of the Raft paper (Figure 3, plus durability of
// committed entries across crashes) and liveness once the faults stop.
//
// Each property is its own RapidCheck test over the same generated cases (a
// cluster configuration and a schedule of up to kStepsMax steps; see
// fuzz_cluster.h for what a step does) and fails at the first step that
// violates it, printing the shrunk schedule and the cluster's state. The
// driver checks every property after every step; a test only reports its
// own, so that each failure names exactly one property.
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/base/rng.h"
#include "gtest/gtest.h"
#include "rapidcheck/gtest.h"
#include "tests/raft_properties/fuzz_cluster.h"

namespace raftstore::raft::fuzz {
namespace {

// The longest schedule: enough for several elections, crashes and a few
// dozen commits at election_tick 5..15. Every case draws its length
// uniformly from [0, kStepsMax] (rather than growing with RapidCheck's size
// parameter), so that even the first cases are long enough to reach the
// interesting states; shrinking then removes steps one by one.
constexpr int kStepsMax = 1500;

struct Case {
  ClusterOptions options;
  std::vector<Step> schedule;
};

rc::Gen<StepKind> GenStepKind() {
  // Drawn as a point in the total weight, so that it shrinks towards the
  // first kinds of the table (plain ticks and deliveries).
  uint32_t total = 0;
  for (const auto& [weight, kind] : StepKindWeights()) total += weight;
  return rc::gen::map(rc::gen::inRange<uint32_t>(0, total), [](uint32_t roll) {
    for (const auto& [weight, kind] : StepKindWeights()) {
      if (roll < weight) return kind;
      roll -= weight;
    }
    return StepKind::kTick;
  });
}

rc::Gen<Step> GenStep() {
  return rc::gen::apply(
      [](StepKind kind, uint32_t node, uint32_t pick, CrashMode crash) {
        Step step;
        step.kind = kind;
        step.node = node;
        step.pick = pick;
        step.crash = crash;
        return step;
      },
      GenStepKind(), rc::gen::inRange<uint32_t>(0, kNodeCountMax),
      rc::gen::arbitrary<uint32_t>(),
      // One step in 80 crashes its node; kNone first, so that shrinking
      // removes crashes.
      rc::gen::weightedElement<CrashMode>({{237, CrashMode::kNone},
                                           {1, CrashMode::kBeforeWrite},
                                           {1, CrashMode::kAfterEarlySends},
                                           {1, CrashMode::kTornWrite}}));
}

Case GenCase() {
  Case c;
  c.options.node_count = *rc::gen::inRange(kNodeCountMin, kNodeCountMax + 1);
  c.options.seed = *rc::gen::arbitrary<uint64_t>();
  c.options.pre_vote = *rc::gen::arbitrary<bool>();
  c.options.check_quorum = *rc::gen::arbitrary<bool>();
  c.options.election_tick = *rc::gen::inRange(5, 16);
  c.options.heartbeat_tick = *rc::gen::inRange(1, 3);
  // Small windows and messages, so that flow control (paused followers,
  // one-entry appends, probing) is exercised.
  c.options.max_inflight_msgs = *rc::gen::inRange<size_t>(1, 5);
  c.options.max_size_per_msg_bytes = *rc::gen::inRange<uint64_t>(1, 129);
  c.schedule = *rc::gen::resize(
      kStepsMax, rc::gen::container<std::vector<Step>>(GenStep()));
  return c;
}

std::string Report(const Case& c, const FuzzCluster& cluster,
                   const Violation& v) {
  return absl::StrCat("violated ", std::string(PropertyName(v.property)),
                      v.step >= 0 ? absl::StrCat(" after step #", v.step)
                                  : std::string(" after healing"),
                      ": ", v.detail, "\n", cluster.Describe(), "schedule (",
                      c.schedule.size(), " steps) with options ",
                      c.options.ToString(), ":\n",
                      ScheduleToString(c.schedule));
}

// Runs a generated case and fails at the first violation of `property`.
void CheckProperty(Property property) {
  const Case c = GenCase();
  FuzzCluster cluster(c.options);
  for (const Step& step : c.schedule) {
    cluster.Run(step);
    if (std::optional<Violation> v = cluster.FirstViolation(property)) {
      RC_FAIL(Report(c, cluster, *v));
    }
  }
  if (property != Property::kLiveness) return;
  // How much the faulty phase achieved, to see that the cases exercise
  // replication and not only elections.
  const uint64_t committed = cluster.committed_max();
  RC_TAG(committed == 0    ? "committed before heal: 0"
         : committed <= 5  ? "committed before heal: 1-5"
         : committed <= 20 ? "committed before heal: 6-20"
                           : "committed before heal: >20");
  RC_TAG(cluster.snapshots_sent() > 0 ? "snapshots sent" : "no snapshot sent");
  cluster.HealAndCheckLiveness();
  if (std::optional<Violation> v = cluster.FirstViolation(property)) {
    RC_FAIL(Report(c, cluster, *v));
  }
}

RC_GTEST_PROP(RaftProperties, ElectionSafety, ()) {
  CheckProperty(Property::kElectionSafety);
}

RC_GTEST_PROP(RaftProperties, LogMatching, ()) {
  CheckProperty(Property::kLogMatching);
}

RC_GTEST_PROP(RaftProperties, LeaderCompleteness, ()) {
  CheckProperty(Property::kLeaderCompleteness);
}

RC_GTEST_PROP(RaftProperties, StateMachineSafety, ()) {
  CheckProperty(Property::kStateMachineSafety);
}

RC_GTEST_PROP(RaftProperties, CommittedEntriesSurviveMinorityCrashes, ()) {
  CheckProperty(Property::kDurability);
}

RC_GTEST_PROP(RaftProperties, LeaderAndProgressAfterHealing, ()) {
  CheckProperty(Property::kLiveness);
}

// The same options and schedule give the same trace of Readys and
// deliveries: nothing in the core or the driver depends on anything but the
// seed.
TEST(FuzzClusterTest, SameSeedSameTrace) {
  ClusterOptions options;
  options.node_count = 5;
  options.seed = 20261124;
  options.pre_vote = true;
  options.check_quorum = true;
  options.election_tick = 6;
  options.heartbeat_tick = 2;
  options.max_inflight_msgs = 2;
  options.max_size_per_msg_bytes = 32;
  auto run = [&options]() {
    Rng rng(options.seed);
    const std::vector<Step> schedule = RandomSchedule(rng, kStepsMax);
    FuzzCluster cluster(options);
    for (const Step& step : schedule) cluster.Run(step);
    cluster.HealAndCheckLiveness();
    for (const Violation& v : cluster.violations()) {
      ADD_FAILURE() << PropertyName(v.property) << " at step " << v.step << ": "
                    << v.detail;
    }
    return std::make_pair(cluster.trace_hash(), cluster.messages_sent());
  };
  const auto [first_hash, first_messages] = run();
  const auto [second_hash, second_messages] = run();
  EXPECT_GT(first_messages, 0u);
  EXPECT_EQ(first_messages, second_messages);
  EXPECT_EQ(first_hash, second_hash);
}

// A fault-free run elects a leader and commits what is proposed: the driver
// itself delivers, persists and applies.
TEST(FuzzClusterTest, FaultFreeRunCommitsProposals) {
  ClusterOptions options;
  options.node_count = 3;
  FuzzCluster cluster(options);
  Step campaign;
  campaign.kind = StepKind::kCampaign;
  cluster.Run(campaign);
  for (int i = 0; i < 20; ++i) {
    Step deliver;
    deliver.kind = StepKind::kDeliver;
    cluster.Run(deliver);
  }
  Step propose;
  propose.kind = StepKind::kPropose;
  cluster.Run(propose);
  for (int i = 0; i < 40; ++i) {
    Step deliver;
    deliver.kind = StepKind::kDeliver;
    cluster.Run(deliver);
  }
  EXPECT_EQ(cluster.proposals_accepted(), 1u) << cluster.Describe();
  // The leader's empty entry and the proposal.
  EXPECT_EQ(cluster.committed_max(), 2u) << cluster.Describe();
  EXPECT_TRUE(cluster.violations().empty());
}

}  // namespace
}  // namespace raftstore::raft::fuzz
