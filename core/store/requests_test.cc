#include "core/store/requests.h"

#include "core/kv/command_codec.h"
#include "gtest/gtest.h"
#include "proto/command.pb.h"
#include "proto/kvrpc.pb.h"
#include "proto/region.pb.h"

namespace raftstore::store {
namespace {

meta::Region MakeRegion(const char* start, const char* end) {
  meta::Region region;
  region.set_id(7);
  region.set_start_key(start);
  region.set_end_key(end);
  return region;
}

TEST(KeyInRegionTest, HalfOpenRangeWithUnboundedEnds) {
  const meta::Region middle = MakeRegion("b", "d");
  EXPECT_FALSE(KeyInRegion("a", middle));
  EXPECT_TRUE(KeyInRegion("b", middle));
  EXPECT_TRUE(KeyInRegion("c\xff", middle));
  EXPECT_FALSE(KeyInRegion("d", middle));
  const meta::Region all = MakeRegion("", "");
  EXPECT_TRUE(KeyInRegion("", all));
  EXPECT_TRUE(KeyInRegion("\xff\xff", all));
  const meta::Region tail = MakeRegion("m", "");
  EXPECT_FALSE(KeyInRegion("l", tail));
  EXPECT_TRUE(KeyInRegion("zzz", tail));
}

TEST(CommandForTest, CarriesTheSessionAndDefaultsFirstIncomplete) {
  kv::KvRequest request;
  kv::PutRequest* put = request.mutable_put();
  put->set_key("k");
  put->set_value("v");
  put->mutable_header()->set_client_id(9);
  put->mutable_header()->set_sequence(4);
  command::Command command = CommandFor(request, 77);
  EXPECT_EQ(command.format_version(), kv::kCommandFormatVersion);
  EXPECT_EQ(command.client_id(), 9U);
  EXPECT_EQ(command.sequence(), 4U);
  EXPECT_EQ(command.first_incomplete_sequence(), 4U);
  EXPECT_EQ(command.proposed_at_ticks(), 77U);
  EXPECT_EQ(command.put().key(), "k");
  EXPECT_EQ(command.put().value(), "v");

  put->mutable_header()->set_first_incomplete_sequence(2);
  EXPECT_EQ(CommandFor(request, 1).first_incomplete_sequence(), 2U);
}

TEST(CommandForTest, CompareAndSwapFieldsCopied) {
  kv::KvRequest request;
  kv::CompareAndSwapRequest* cas = request.mutable_compare_and_swap();
  cas->set_key("k");
  cas->set_expected_value("old");
  cas->set_new_value("new");
  cas->set_expect_absent(false);
  const command::Command command = CommandFor(request, 0);
  EXPECT_EQ(command.compare_and_swap().key(), "k");
  EXPECT_EQ(command.compare_and_swap().expected_value(), "old");
  EXPECT_EQ(command.compare_and_swap().new_value(), "new");
}

TEST(ErrorResponseTest, MatchesTheRequestKind) {
  kv::KvRequest request;
  request.set_request_id(5);
  request.mutable_scan()->set_start_key("a");
  const kv::KvResponse response =
      ErrorResponse(request, RegionNotFoundError(3));
  EXPECT_EQ(response.request_id(), 5U);
  ASSERT_TRUE(response.has_scan());
  EXPECT_EQ(response.scan().header().error().region_not_found().region_id(),
            3U);
}

TEST(WriteResponseTest, AppliedCasCarriesItsResult) {
  command::CommandResult result;
  result.set_outcome(command::OUTCOME_APPLIED);
  result.mutable_compare_and_swap()->set_succeeded(false);
  result.mutable_compare_and_swap()->set_previous_found(true);
  result.mutable_compare_and_swap()->set_previous_value("x");
  const kv::KvResponse response =
      WriteResponse(kv::KvRequest::kCompareAndSwap, 8, result);
  ASSERT_TRUE(response.has_compare_and_swap());
  EXPECT_FALSE(response.compare_and_swap().header().has_error());
  EXPECT_FALSE(response.compare_and_swap().succeeded());
  EXPECT_EQ(response.compare_and_swap().previous_value(), "x");
}

TEST(WriteResponseTest, SessionOutcomesBecomeTypedErrors) {
  command::CommandResult result;
  result.set_outcome(command::OUTCOME_SESSION_EXPIRED);
  kv::KvResponse response = WriteResponse(kv::KvRequest::kPut, 1, result);
  EXPECT_TRUE(response.put().header().error().has_session_expired());

  result.set_outcome(command::OUTCOME_SESSION_TABLE_FULL);
  result.set_message("full");
  response = WriteResponse(kv::KvRequest::kDelete, 1, result);
  EXPECT_EQ(response.delete_().header().error().server_busy().reason(), "full");
}

TEST(SetServedByTest, FillsTermAndRegion) {
  kv::KvResponse response;
  response.mutable_get()->set_found(true);
  SetServedBy(MakeRegion("a", "b"), 12, &response);
  EXPECT_EQ(response.get().header().term(), 12U);
  EXPECT_EQ(response.get().header().region().start_key(), "a");
}

}  // namespace
}  // namespace raftstore::store
