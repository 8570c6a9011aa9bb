#include "core/raft/confchange/restore.h"

#include <cstdint>
#include <initializer_list>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/raft/confchange/confchange.h"
#include "core/raft/tracker/tracker.h"
#include "gtest/gtest.h"
#include "proto/raft.pb.h"

namespace raftstore::raft::confchange {
namespace {

constexpr uint64_t kLastIndex = 20;
constexpr size_t kInflightMessagesMax = 8;
constexpr uint64_t kInflightBytesMax = 0;

ConfState MakeConfState(std::initializer_list<uint64_t> voters,
                        std::initializer_list<uint64_t> learners = {},
                        std::initializer_list<uint64_t> voters_outgoing = {},
                        std::initializer_list<uint64_t> learners_next = {},
                        bool auto_leave = false) {
  ConfState state;
  for (uint64_t id : voters) state.add_voters(id);
  for (uint64_t id : learners) state.add_learners(id);
  for (uint64_t id : voters_outgoing) state.add_voters_outgoing(id);
  for (uint64_t id : learners_next) state.add_learners_next(id);
  state.set_auto_leave(auto_leave);
  return state;
}

absl::StatusOr<ConfigAndProgress> RestoreOf(const ConfState& state) {
  return Restore(state, kLastIndex, kInflightMessagesMax, kInflightBytesMax);
}

std::string Describe(const absl::StatusOr<ConfigAndProgress>& result) {
  if (!result.ok()) return result.status().ToString();
  return result->first.ToString();
}

TEST(RestoreTest, EmptyConfStateGivesEmptyConfig) {
  absl::StatusOr<ConfigAndProgress> result = RestoreOf(ConfState());
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->first, TrackerConfig());
  EXPECT_TRUE(result->second.empty());
}

TEST(RestoreTest, SimpleConfig) {
  EXPECT_EQ(Describe(RestoreOf(MakeConfState({3, 1, 2}, {5, 4}))),
            "voters=(1 2 3) learners=(4 5)");
}

TEST(RestoreTest, JointConfig) {
  // The example of restore.h.
  EXPECT_EQ(Describe(RestoreOf(
                MakeConfState({1, 2, 3}, {5}, {1, 2, 4, 6}, {4}, true))),
            "voters=(1 2 3)&&(1 2 4 6) learners=(5) learners_next=(4) "
            "autoleave");
}

TEST(RestoreTest, JointConfigWithEqualOrDisjointHalves) {
  EXPECT_EQ(Describe(RestoreOf(MakeConfState({1, 2}, {}, {1, 2}))),
            "voters=(1 2)&&(1 2)");
  EXPECT_EQ(Describe(RestoreOf(MakeConfState({1, 2}, {}, {3, 4}))),
            "voters=(1 2)&&(3 4)");
}

TEST(RestoreTest, EveryMemberGetsFreshProgress) {
  absl::StatusOr<ConfigAndProgress> result =
      RestoreOf(MakeConfState({1, 2}, {3}, {2, 4}, {4}));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(ToString(result->second),
            "1: StateProbe match=0 next=21\n"
            "2: StateProbe match=0 next=21\n"
            "3: StateProbe match=0 next=21 learner\n"
            "4: StateProbe match=0 next=21\n");
  EXPECT_TRUE(CheckTrackerConsistency(result->first, result->second).ok());
}

TEST(RestoreTest, ResultInstallsInATracker) {
  const ConfState state = MakeConfState({1, 2, 3}, {5}, {1, 2, 4}, {4}, true);
  absl::StatusOr<ConfigAndProgress> result = RestoreOf(state);
  ASSERT_TRUE(result.ok()) << result.status();
  ProgressTracker tracker(kInflightMessagesMax, kInflightBytesMax);
  tracker.ApplyConfig(result->first, result->second);
  EXPECT_EQ(tracker.ToConfState().SerializeAsString(),
            state.SerializeAsString());
}

// Expects ValidateConfState and Restore to reject `state` as invalid, with a
// message containing `what`.
void ExpectInvalid(const ConfState& state, const std::string& what) {
  const absl::Status status = ValidateConfState(state);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument)
      << state.ShortDebugString();
  EXPECT_NE(std::string(status.message()).find(what), std::string::npos)
      << status;
  EXPECT_EQ(RestoreOf(state).status(), status);
}

TEST(RestoreTest, RejectsInvalidConfStates) {
  ExpectInvalid(MakeConfState({1, 0}), "voters holds id 0");
  ExpectInvalid(MakeConfState({1}, {0}), "learners holds id 0");
  ExpectInvalid(MakeConfState({1, 2, 1}), "voters lists 1 twice");
  ExpectInvalid(MakeConfState({1}, {2, 2}), "learners lists 2 twice");
  ExpectInvalid(MakeConfState({1}, {}, {1, 1}),
                "voters_outgoing lists 1 twice");
  ExpectInvalid(MakeConfState({1, 2}, {2}), "2 is a voter and a learner");
  ExpectInvalid(MakeConfState({1}, {3}, {1, 3}), "3 is a voter and a learner");
  ExpectInvalid(MakeConfState({1, 2}, {}, {1, 2}, {2}),
                "2 is a voter and in learners_next");
  ExpectInvalid(MakeConfState({1}, {}, {1}, {5}),
                "5 is in learners_next but not in voters_outgoing");
  ExpectInvalid(MakeConfState({1}, {}, {}, {}, true),
                "auto_leave is set outside joint consensus");
  ExpectInvalid(MakeConfState({}, {1}), "needs a voter");
  ExpectInvalid(MakeConfState({}, {}, {1, 2}), "needs a voter");
  ExpectInvalid(MakeConfState({}, {}, {}, {}, true), "needs a voter");
}

TEST(RestoreTest, AcceptsValidConfStates) {
  EXPECT_TRUE(ValidateConfState(ConfState()).ok());
  EXPECT_TRUE(ValidateConfState(MakeConfState({1})).ok());
  EXPECT_TRUE(
      ValidateConfState(MakeConfState({1, 2, 3}, {5}, {1, 2, 4, 6}, {4}, true))
          .ok());
}

TEST(RestoreDeathTest, RequiresAnInflightWindow) {
  EXPECT_DEATH(Restore(MakeConfState({1}), kLastIndex, 0, 0).IgnoreError(),
               "inflight_messages_max");
}

}  // namespace
}  // namespace raftstore::raft::confchange
