#include "core/kv/kv_state_machine.h"

#include <string>

#include "core/kv/command_codec.h"
#include "core/kv/kv_testing.h"
#include "gtest/gtest.h"
#include "proto/command.pb.h"

namespace raftstore::kv {
namespace {

using command::CommandResult;
using testing::Cas;
using testing::Delete;
using testing::Put;
using testing::SessionFields;

// Applies commands at consecutive indexes.
class KvStateMachineTest : public ::testing::Test {
 protected:
  CommandResult Apply(const command::Command& command) {
    CommandResult result =
        machine_.Apply(machine_.applied_index() + 1, command);
    machine_.CheckInvariants();
    return result;
  }
  void Reset(const KvConfig& config) { machine_ = KvStateMachine(config); }

  KvStateMachine machine_{KvConfig()};
};

TEST_F(KvStateMachineTest, PutThenGet) {
  EXPECT_EQ(machine_.Get("k"), std::nullopt);
  const CommandResult result = Apply(Put({.sequence = 1}, "k", "v"));
  EXPECT_EQ(result.outcome(), command::OUTCOME_APPLIED);
  EXPECT_TRUE(result.has_put());
  EXPECT_EQ(machine_.Get("k"), "v");
  EXPECT_EQ(machine_.applied_index(), 1u);
  EXPECT_EQ(machine_.data_bytes(), 2u);
  Apply(Put({.sequence = 2}, "k", "longer"));
  EXPECT_EQ(machine_.Get("k"), "longer");
  EXPECT_EQ(machine_.data_bytes(), 7u);
}

TEST_F(KvStateMachineTest, DeleteSaysWhetherTheKeyExisted) {
  Apply(Put({.sequence = 1}, "k", "v"));
  CommandResult result = Apply(Delete({.sequence = 2}, "k"));
  EXPECT_EQ(result.outcome(), command::OUTCOME_APPLIED);
  EXPECT_TRUE(result.delete_().existed());
  EXPECT_EQ(machine_.Get("k"), std::nullopt);
  result = Apply(Delete({.sequence = 3}, "k"));
  EXPECT_FALSE(result.delete_().existed());
  EXPECT_EQ(machine_.data_bytes(), 0u);
}

TEST_F(KvStateMachineTest, ScanReturnsTheHalfOpenRangeInOrder) {
  for (const char* key : {"d", "a", "c", "b", "e"}) {
    Apply(Put({.sequence = machine_.applied_index() + 1}, key, key));
  }
  ScanResult scan = machine_.Scan("b", "d", 0);
  ASSERT_EQ(scan.pairs.size(), 2u);
  EXPECT_EQ(scan.pairs[0].first, "b");
  EXPECT_EQ(scan.pairs[1].first, "c");
  EXPECT_FALSE(scan.more);
  scan = machine_.Scan("c", "", 0);  // empty end: unbounded
  ASSERT_EQ(scan.pairs.size(), 3u);
  EXPECT_EQ(scan.pairs[2].first, "e");
  EXPECT_TRUE(machine_.Scan("d", "b", 0).pairs.empty());
  EXPECT_EQ(machine_.Scan("", "", 0).pairs.size(), 5u);
}

TEST_F(KvStateMachineTest, ScanLimitIsClampedToScanLimitMax) {
  KvConfig config;
  config.scan_limit_max = 3;
  Reset(config);
  for (const char* key : {"a", "b", "c", "d", "e"}) {
    Apply(Put({.sequence = machine_.applied_index() + 1}, key, "v"));
  }
  ScanResult scan = machine_.Scan("", "", 2);
  EXPECT_EQ(scan.pairs.size(), 2u);
  EXPECT_TRUE(scan.more);
  EXPECT_EQ(machine_.Scan("", "", 0).pairs.size(), 3u);
  EXPECT_EQ(machine_.Scan("", "", 100).pairs.size(), 3u);
  scan = machine_.Scan("c", "", 3);  // exactly the rest: nothing more
  EXPECT_EQ(scan.pairs.size(), 3u);
  EXPECT_FALSE(scan.more);
  scan = machine_.Scan("a", "c", 2);  // the limit meets the range's end
  EXPECT_FALSE(scan.more);
}

TEST_F(KvStateMachineTest, ScanStopsAtScanBytesMax) {
  KvConfig config;
  config.scan_bytes_max = 10;
  Reset(config);
  for (const char* key : {"a", "b", "c"}) {
    Apply(Put({.sequence = machine_.applied_index() + 1}, key, "1234"));
  }
  // 5 bytes a pair: the second pair reaches 10 bytes, so the scan stops.
  const ScanResult scan = machine_.Scan("", "", 0);
  EXPECT_EQ(scan.pairs.size(), 2u);
  EXPECT_TRUE(scan.more);
}

TEST_F(KvStateMachineTest, CompareAndSwapOnExpectedValue) {
  Apply(Put({.sequence = 1}, "k", "old"));
  CommandResult result = Apply(Cas({.sequence = 2}, "k", false, "x", "new"));
  EXPECT_FALSE(result.compare_and_swap().succeeded());
  EXPECT_TRUE(result.compare_and_swap().previous_found());
  EXPECT_EQ(result.compare_and_swap().previous_value(), "old");
  EXPECT_EQ(machine_.Get("k"), "old");
  result = Apply(Cas({.sequence = 3}, "k", false, "old", "new"));
  EXPECT_TRUE(result.compare_and_swap().succeeded());
  EXPECT_EQ(result.compare_and_swap().previous_value(), "old");
  EXPECT_EQ(machine_.Get("k"), "new");
  // Expecting a value of an absent key never swaps, even the empty value.
  result = Apply(Cas({.sequence = 4}, "absent", false, "", "v"));
  EXPECT_FALSE(result.compare_and_swap().succeeded());
  EXPECT_FALSE(result.compare_and_swap().previous_found());
  EXPECT_EQ(machine_.Get("absent"), std::nullopt);
}

TEST_F(KvStateMachineTest, CompareAndSwapOnAbsence) {
  CommandResult result = Apply(Cas({.sequence = 1}, "k", true, "", "first"));
  EXPECT_TRUE(result.compare_and_swap().succeeded());
  EXPECT_FALSE(result.compare_and_swap().previous_found());
  EXPECT_EQ(machine_.Get("k"), "first");
  result = Apply(Cas({.sequence = 2}, "k", true, "", "second"));
  EXPECT_FALSE(result.compare_and_swap().succeeded());
  EXPECT_EQ(result.compare_and_swap().previous_value(), "first");
  EXPECT_EQ(machine_.Get("k"), "first");
  result = Apply(Cas({.sequence = 3}, "k", true, "first", "third"));
  EXPECT_EQ(result.outcome(), command::OUTCOME_INVALID_COMMAND);
  EXPECT_EQ(machine_.Get("k"), "first");
}

TEST_F(KvStateMachineTest,
       RetriedSequenceReturnsTheFirstResultWithoutApplying) {
  const command::Command put = Put({.client_id = 1, .sequence = 1}, "k", "a");
  const CommandResult first = Apply(put);
  Apply(Put({.client_id = 2, .sequence = 1}, "k", "b"));
  const CommandResult retry = Apply(put);
  EXPECT_EQ(retry.SerializeAsString(), first.SerializeAsString());
  EXPECT_EQ(machine_.Get("k"), "b");  // not applied a second time
  // A retried compare-and-swap returns its original previous value.
  const command::Command cas =
      Cas({.client_id = 1, .sequence = 2}, "k", false, "b", "c");
  EXPECT_TRUE(Apply(cas).compare_and_swap().succeeded());
  const CommandResult cas_retry = Apply(cas);
  EXPECT_TRUE(cas_retry.compare_and_swap().succeeded());
  EXPECT_EQ(cas_retry.compare_and_swap().previous_value(), "b");
  EXPECT_EQ(machine_.Get("k"), "c");
}

TEST_F(KvStateMachineTest, PipelinedSequencesApplyInAnyOrder) {
  EXPECT_EQ(Apply(Put({.sequence = 2}, "b", "2")).outcome(),
            command::OUTCOME_APPLIED);
  EXPECT_EQ(Apply(Put({.sequence = 1}, "a", "1")).outcome(),
            command::OUTCOME_APPLIED);
  EXPECT_EQ(machine_.Get("a"), "1");
  EXPECT_EQ(machine_.Get("b"), "2");
}

TEST_F(KvStateMachineTest, FirstIncompleteSequencePrunesResponses) {
  for (uint64_t sequence = 1; sequence <= 3; ++sequence) {
    Apply(Put({.sequence = sequence}, "k", std::to_string(sequence)));
  }
  EXPECT_EQ(machine_.sessions().Find(1)->responses.size(), 3u);
  Apply(Put({.sequence = 4, .first_incomplete = 3}, "k", "4"));
  const Session* session = machine_.sessions().Find(1);
  EXPECT_EQ(session->first_incomplete_sequence, 3u);
  ASSERT_EQ(session->responses.size(), 2u);
  EXPECT_EQ(session->responses.begin()->first, 3u);
  // A stale duplicate of 2 is refused, never applied again.
  const CommandResult stale = Apply(Put({.sequence = 2}, "k", "2"));
  EXPECT_EQ(stale.outcome(), command::OUTCOME_STALE_SEQUENCE);
  EXPECT_EQ(machine_.Get("k"), "4");
  // A lower first_incomplete_sequence never lowers the session's.
  EXPECT_EQ(machine_.sessions().Find(1)->first_incomplete_sequence, 3u);
}

TEST_F(KvStateMachineTest, SessionsExpireOnTheReplicatedClock) {
  KvConfig config;
  config.session_ttl_ticks = 100;
  config.session_evict_idle_ticks_min = 10;
  Reset(config);
  Apply(Put({.client_id = 1, .sequence = 1, .ticks = 5}, "a", "1"));
  // Idle for exactly the ttl: kept.
  Apply(Put({.client_id = 2, .sequence = 1, .ticks = 105}, "b", "1"));
  EXPECT_NE(machine_.sessions().Find(1), nullptr);
  Apply(Put({.client_id = 2, .sequence = 2, .ticks = 106}, "b", "2"));
  EXPECT_EQ(machine_.sessions().Find(1), nullptr);
  EXPECT_EQ(machine_.clock_ticks(), 106u);
  // An older stamp (a new leader behind) never moves the clock back.
  Apply(Put({.client_id = 2, .sequence = 3, .ticks = 50}, "b", "3"));
  EXPECT_EQ(machine_.clock_ticks(), 106u);
}

TEST_F(KvStateMachineTest, WriteOfAnExpiredSessionGetsSessionExpired) {
  KvConfig config;
  config.session_ttl_ticks = 100;
  config.session_evict_idle_ticks_min = 10;
  Reset(config);
  Apply(Put({.client_id = 1, .sequence = 1, .ticks = 0}, "k", "1"));
  Apply(Put({.client_id = 2, .sequence = 1, .ticks = 500}, "other", "x"));
  // Client 1 has its response to 1, so its next write says so: it may not
  // reopen the session, whose memory of what applied is gone.
  const CommandResult result = Apply(
      Put({.client_id = 1, .sequence = 2, .first_incomplete = 2, .ticks = 500},
          "k", "2"));
  EXPECT_EQ(result.outcome(), command::OUTCOME_SESSION_EXPIRED);
  EXPECT_EQ(machine_.Get("k"), "1");
  EXPECT_EQ(machine_.sessions().Find(1), nullptr);
}

TEST_F(KvStateMachineTest, FullTableEvictsTheLeastRecentlyActiveSession) {
  KvConfig config;
  config.sessions_max = 2;
  config.session_evict_idle_ticks_min = 0;
  Reset(config);
  Apply(Put({.client_id = 9, .sequence = 1, .ticks = 1}, "a", "1"));
  Apply(Put({.client_id = 5, .sequence = 1, .ticks = 1}, "b", "1"));
  // Equal activity: the lower client id (5) goes first.
  Apply(Put({.client_id = 7, .sequence = 1, .ticks = 1}, "c", "1"));
  EXPECT_EQ(machine_.sessions().Find(5), nullptr);
  EXPECT_NE(machine_.sessions().Find(9), nullptr);
  // Client 9 is active again, so 7 is now the least recent.
  Apply(Put({.client_id = 9, .sequence = 2, .ticks = 2}, "a", "2"));
  Apply(Put({.client_id = 8, .sequence = 1, .ticks = 2}, "d", "1"));
  EXPECT_EQ(machine_.sessions().Find(7), nullptr);
  EXPECT_NE(machine_.sessions().Find(9), nullptr);
  EXPECT_NE(machine_.sessions().Find(8), nullptr);
  EXPECT_EQ(machine_.sessions().size(), 2u);
}

TEST_F(KvStateMachineTest, FullTableRefusesWhileEverySessionIsRecent) {
  KvConfig config;
  config.sessions_max = 1;
  config.session_evict_idle_ticks_min = 10;
  Reset(config);
  Apply(Put({.client_id = 1, .sequence = 1, .ticks = 0}, "a", "1"));
  CommandResult result =
      Apply(Put({.client_id = 2, .sequence = 1, .ticks = 9}, "b", "1"));
  EXPECT_EQ(result.outcome(), command::OUTCOME_SESSION_TABLE_FULL);
  EXPECT_EQ(machine_.Get("b"), std::nullopt);
  // Once client 1 has been idle long enough, the same command gets in.
  result = Apply(Put({.client_id = 2, .sequence = 1, .ticks = 10}, "b", "1"));
  EXPECT_EQ(result.outcome(), command::OUTCOME_APPLIED);
  EXPECT_EQ(machine_.sessions().Find(1), nullptr);
}

TEST_F(KvStateMachineTest, FullResponseCacheRefusesUntilAcknowledged) {
  KvConfig config;
  config.session_responses_max = 2;
  Reset(config);
  Apply(Put({.sequence = 1}, "k", "1"));
  Apply(Put({.sequence = 2}, "k", "2"));
  CommandResult result = Apply(Put({.sequence = 3}, "k", "3"));
  EXPECT_EQ(result.outcome(), command::OUTCOME_SESSION_RESPONSES_FULL);
  EXPECT_EQ(machine_.Get("k"), "2");
  result = Apply(Put({.sequence = 3, .first_incomplete = 2}, "k", "3"));
  EXPECT_EQ(result.outcome(), command::OUTCOME_APPLIED);
  EXPECT_EQ(machine_.Get("k"), "3");
}

TEST_F(KvStateMachineTest, ResponseBytesBoundCountsThePreviousValue) {
  KvConfig config;
  config.value_bytes_max = 100;
  config.session_response_bytes_max = config.ResultBytesMax();
  Reset(config);
  Apply(Put({.client_id = 1, .sequence = 1}, "k", std::string(100, 'x')));
  // Client 2's first CAS caches a result carrying the 100-byte value; a
  // second one could not fit beside it.
  EXPECT_EQ(Apply(Cas({.client_id = 2, .sequence = 1}, "k", false, "", "y"))
                .outcome(),
            command::OUTCOME_APPLIED);
  EXPECT_EQ(Apply(Cas({.client_id = 2, .sequence = 2}, "k", false, "", "y"))
                .outcome(),
            command::OUTCOME_SESSION_RESPONSES_FULL);
}

TEST_F(KvStateMachineTest, BoundsAreRejectedWithoutApplying) {
  KvConfig config;
  config.key_bytes_max = 4;
  config.value_bytes_max = 8;
  Reset(config);
  EXPECT_EQ(Apply(Put({.sequence = 1}, "", "v")).outcome(),
            command::OUTCOME_BOUND_EXCEEDED);
  EXPECT_EQ(Apply(Put({.sequence = 1}, "12345", "v")).outcome(),
            command::OUTCOME_BOUND_EXCEEDED);
  EXPECT_EQ(Apply(Put({.sequence = 1}, "k", "123456789")).outcome(),
            command::OUTCOME_BOUND_EXCEEDED);
  EXPECT_EQ(Apply(Cas({.sequence = 1}, "k", false, "123456789", "")).outcome(),
            command::OUTCOME_BOUND_EXCEEDED);
  EXPECT_EQ(machine_.pair_count(), 0u);
  EXPECT_EQ(machine_.sessions().size(), 0u);  // no session opened either
  EXPECT_EQ(machine_.applied_index(), 4u);
  EXPECT_EQ(Apply(Put({.sequence = 1}, "1234", "12345678")).outcome(),
            command::OUTCOME_APPLIED);
}

TEST_F(KvStateMachineTest, MalformedSessionFieldsAreInvalid) {
  for (const command::Command& command :
       {Put({.client_id = 0, .sequence = 1}, "k", "v"),
        Put({.client_id = 1, .sequence = 0}, "k", "v"),
        Put({.client_id = 1, .sequence = 2, .first_incomplete = 3}, "k", "v"),
        testing::WithSession({.client_id = 1, .sequence = 1})}) {
    EXPECT_EQ(Apply(command).outcome(), command::OUTCOME_INVALID_COMMAND)
        << command.ShortDebugString();
  }
  EXPECT_EQ(machine_.pair_count(), 0u);
}

TEST_F(KvStateMachineTest, ApplyEntryDecodesOrAdvancesOnEmpty) {
  absl::StatusOr<CommandResult> result = machine_.ApplyEntry(1, "");
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(machine_.applied_index(), 1u);
  result = machine_.ApplyEntry(2, EncodeCommand(Put({}, "k", "v")));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->outcome(), command::OUTCOME_APPLIED);
  EXPECT_EQ(machine_.Get("k"), "v");
  machine_.ApplyEmpty(3);
  EXPECT_EQ(machine_.applied_index(), 3u);
}

TEST_F(KvStateMachineTest, UndecodableEntryIsDataLossAndChangesNothing) {
  const uint64_t digest = machine_.Digest();
  absl::StatusOr<CommandResult> result = machine_.ApplyEntry(1, "\xff\xff");
  EXPECT_EQ(result.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(result.status().message().find("entry 1"), std::string::npos);
  EXPECT_EQ(machine_.applied_index(), 0u);
  EXPECT_EQ(machine_.Digest(), digest);
}

TEST(KvStateMachineDeathTest, ApplyingOutOfOrderIsABug) {
  KvStateMachine machine{KvConfig()};
  EXPECT_DEATH(machine.Apply(2, Put({}, "k", "v")), "applied_index_ \\+ 1");
  EXPECT_DEATH(machine.ApplyEmpty(0), "applied_index_ \\+ 1");
}

TEST(KvConfigTest, ValidateNamesTheBadBound) {
  EXPECT_TRUE(KvConfig().Validate().ok());
  KvConfig config;
  config.sessions_max = 0;
  EXPECT_NE(config.Validate().message().find("sessions_max"),
            std::string::npos);
  config = KvConfig();
  config.session_response_bytes_max = config.value_bytes_max;
  EXPECT_NE(config.Validate().message().find("session_response_bytes_max"),
            std::string::npos);
  config = KvConfig();
  config.session_evict_idle_ticks_min = config.session_ttl_ticks + 1;
  EXPECT_EQ(config.Validate().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace raftstore::kv

namespace raftstore::kv {
namespace {

TEST(KvMiddleKeyTest, HalvesTheBytes) {
  KvStateMachine kv(KvConfig{}, 0);
  EXPECT_EQ(kv.MiddleKey(), std::nullopt);
  command::Command put;
  put.set_format_version(kCommandFormatVersion);
  put.set_client_id(1);
  put.set_first_incomplete_sequence(1);
  uint64_t index = 0;
  for (const char* key : {"a", "b", "c", "d"}) {
    put.set_sequence(++index);
    put.set_first_incomplete_sequence(index);
    put.mutable_put()->set_key(key);
    put.mutable_put()->set_value(std::string(9, 'v'));
    ASSERT_EQ(kv.Apply(index, put).outcome(), command::OUTCOME_APPLIED);
    if (index == 1) EXPECT_EQ(kv.MiddleKey(), std::nullopt);
  }
  EXPECT_EQ(kv.MiddleKey(), "c");
  // A big value early moves the middle towards it.
  put.set_sequence(++index);
  put.set_first_incomplete_sequence(index);
  put.mutable_put()->set_key("a");
  put.mutable_put()->set_value(std::string(100, 'v'));
  ASSERT_EQ(kv.Apply(index, put).outcome(), command::OUTCOME_APPLIED);
  EXPECT_EQ(kv.MiddleKey(), "b");
}

}  // namespace
}  // namespace raftstore::kv
