// Seeded random fault schedules over a five-node group: partitions, cut
// links, lost messages, restarts, transfers, reads and proposals. The test
// network checks Election Safety and State Machine Safety as it runs, and
// Raft its per-step invariants; after healing, the group must elect a
// leader and commit again (liveness).
#include <algorithm>
#include <string>
#include <vector>

#include "core/base/rng.h"
#include "core/raft/confchange/confchange.h"
#include "core/raft/raft.h"
#include "core/raft/raft_test_network.h"
#include "gtest/gtest.h"

namespace raftstore::raft {
namespace {

using testing::TestNetwork;

constexpr int kStepsMax = 400;
constexpr uint64_t kSeedsMax = 200;

void RunSchedule(uint64_t seed) {
  Rng rng(seed);
  const bool pre_vote = rng.Chance(1, 2);
  const bool check_quorum = rng.Chance(1, 2);
  TestNetwork net(
      {1, 2, 3, 4, 5}, {6},
      [&](Config& config) {
        config.pre_vote = pre_vote;
        config.check_quorum = check_quorum;
        config.max_inflight_msgs = 4;
        config.max_size_per_msg_bytes = 64;
      },
      seed);
  const std::vector<uint64_t> ids = net.ids();
  auto any = [&] { return ids[rng.Uniform(ids.size())]; };
  int proposals = 0;
  for (int step = 0; step < kStepsMax; ++step) {
    switch (rng.Uniform(11)) {
      case 10:
        // Membership churn: node 6 and one other switch between voter and
        // learner, directly or through joint consensus.
        if (uint64_t leader = net.Leader()) {
          static const char* const kChanges[] = {"v6",    "l6", "v6 l5",
                                                 "v5 l6", "v5", "v4 l6"};
          ConfChange cc;
          cc.set_transition(rng.Chance(1, 3)
                                ? CONF_CHANGE_TRANSITION_JOINT_EXPLICIT
                                : CONF_CHANGE_TRANSITION_AUTO);
          absl::StatusOr<std::vector<ConfChangeSingle>> changes =
              confchange::ParseConfChanges(kChanges[rng.Uniform(6)]);
          for (const ConfChangeSingle& c : *changes) *cc.add_changes() = c;
          if (!net.raft(leader).tracker().config().voters.outgoing.empty()) {
            cc.clear_changes();  // leave the joint configuration
          }
          net.node(leader).ProposeConfChange(cc);
        }
        break;
      case 0:
        net.Isolate(any());
        break;
      case 1:
        net.Cut(any(), any());
        break;
      case 2:
        net.Heal();
        break;
      case 3:
        net.Restart(any());
        break;
      case 4:
        if (uint64_t leader = net.Leader()) {
          net.node(leader).TransferLeader(any());
        }
        break;
      case 5:
        net.node(any()).ReadIndex("read" + std::to_string(step));
        break;
      case 6:
      case 7:
        if (uint64_t leader = net.Leader()) {
          net.node(leader).Propose("p" + std::to_string(proposals++));
        }
        break;
      default:
        net.TickAll();
        break;
    }
    // Deliver only part of the time, so that messages pile up and race.
    if (rng.Chance(2, 3)) {
      net.Stabilize();
    } else {
      net.ProcessReadies();
    }
  }
  // Liveness: once healed, some leader commits "final", and every node
  // applies it within a bounded number of ticks.
  net.Heal();
  bool committed = false;
  for (int i = 0; i < 300 && !committed; ++i) {
    net.TickAll();
    net.Stabilize();
    if (uint64_t leader = net.Leader()) {
      const std::vector<std::string> applied = net.AppliedData(leader);
      committed =
          std::find(applied.begin(), applied.end(), "final") != applied.end();
      if (!committed) net.node(leader).Propose("final");
    }
  }
  ASSERT_TRUE(committed) << "nothing committed after healing, seed " << seed;
  for (int i = 0; i < 50; ++i) {
    net.TickAll();
    net.Stabilize();
  }
  for (uint64_t id : ids) {
    const std::vector<std::string> applied = net.AppliedData(id);
    EXPECT_NE(std::find(applied.begin(), applied.end(), "final"), applied.end())
        << "seed " << seed << " node " << id << " "
        << net.raft(id).log().ToString();
  }
}

TEST(RandomScheduleTest, SafetyAndLivenessUnderFaults) {
  for (uint64_t seed = 1; seed <= kSeedsMax; ++seed) {
    SCOPED_TRACE(seed);
    RunSchedule(seed);
  }
}

}  // namespace
}  // namespace raftstore::raft
