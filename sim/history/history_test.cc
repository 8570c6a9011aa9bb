#include "sim/history/history.h"

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace raftstore::sim {
namespace {

TEST(HistoryTest, InvokeAssignsIdsInCallOrderAndStartsUnknown) {
  History history;
  const size_t put = *history.Invoke(PutCall(1, "k", "v"), 10);
  const size_t get = *history.Invoke(GetCall(2, "k"), 12);
  EXPECT_EQ(put, 0U);
  EXPECT_EQ(get, 1U);
  ASSERT_EQ(history.operations().size(), 2U);
  EXPECT_EQ(history.operations()[0].call_us, 10U);
  EXPECT_EQ(history.operations()[1].outcome, Outcome::kUnknown);
  EXPECT_FALSE(history.completed(put));
}

TEST(HistoryTest, CompleteRecordsOutcomeOutputAndReturn) {
  History history;
  const size_t get = *history.Invoke(GetCall(2, "k"), 12);
  Output output;
  output.read = "";  // a present, empty value
  history.Complete(get, Outcome::kOk, output, 20);
  const Operation& op = history.operations()[get];
  EXPECT_TRUE(history.completed(get));
  EXPECT_EQ(op.outcome, Outcome::kOk);
  EXPECT_EQ(op.return_us, 20U);
  ASSERT_TRUE(op.output.read.has_value());
  EXPECT_EQ(*op.output.read, "");
}

TEST(HistoryTest, UnknownAndFailDropOutputAndUnknownDropsReturn) {
  History history;
  const size_t a = *history.Invoke(GetCall(1, "k"), 1);
  const size_t b = *history.Invoke(GetCall(1, "k"), 2);
  Output output;
  output.read = "x";
  history.Complete(a, Outcome::kUnknown, output, 50);
  history.Complete(b, Outcome::kFail, output, 60);
  EXPECT_EQ(history.operations()[a].output, Output());
  EXPECT_EQ(history.operations()[a].return_us, 0U);
  EXPECT_EQ(history.operations()[b].output, Output());
  EXPECT_EQ(history.operations()[b].return_us, 60U);
}

TEST(HistoryTest, InvokePastOperationsMaxIsResourceExhausted) {
  History history(/*operations_max=*/2);
  ASSERT_TRUE(history.Invoke(GetCall(1, "a"), 1).ok());
  ASSERT_TRUE(history.Invoke(GetCall(1, "b"), 1).ok());
  EXPECT_TRUE(history.full());
  EXPECT_EQ(history.Invoke(GetCall(1, "c"), 2).status().code(),
            absl::StatusCode::kResourceExhausted);
}

TEST(HistoryDeathTest, CompletingTwiceCrashes) {
  History history;
  const size_t id = *history.Invoke(PutCall(1, "k", "v"), 1);
  history.Complete(id, Outcome::kOk, Output(), 2);
  EXPECT_DEATH(history.Complete(id, Outcome::kOk, Output(), 3),
               "completed twice");
}

TEST(HistoryDeathTest, OutputOfAnotherKindCrashes) {
  History history;
  const size_t id = *history.Invoke(PutCall(1, "k", "v"), 1);
  Output output;
  output.read = "x";
  EXPECT_DEATH(history.Complete(id, Outcome::kOk, output, 3), "output");
}

TEST(ValidateOperationTest, NamesTheBadField) {
  Operation op = PutCall(1, "k", "v");
  op.outcome = Outcome::kOk;
  op.call_us = 10;
  op.return_us = 5;
  EXPECT_NE(ValidateOperation(op).message().find("\"return\""),
            std::string::npos);
  op = GetCall(1, "k");
  op.expected = "x";
  EXPECT_NE(ValidateOperation(op).message().find("\"expected\""),
            std::string::npos);
}

}  // namespace
}  // namespace raftstore::sim
