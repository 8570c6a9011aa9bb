#include "core/base/check.h"

#include <cstdint>
#include <string>

#include "gtest/gtest.h"

namespace raftstore {
namespace {

TEST(CheckTest, PassingChecksDoNothing) {
  int evaluations = 0;
  auto count = [&evaluations](int v) {
    ++evaluations;
    return v;
  };
  RS_CHECK(count(1) == 1) << "never printed";
  RS_CHECK_EQ(count(2), 2);
  RS_CHECK_LE(count(2), 3);
  RS_CHECK_LT(uint64_t{1}, uint64_t{2});
  RS_CHECK_GE(count(3), 3);
  RS_CHECK_GT(5, 4);
  RS_CHECK_NE(std::string("a"), std::string("b"));
  EXPECT_EQ(evaluations, 4);  // each operand evaluated exactly once
}

TEST(CheckDeathTest, FailedCheckAbortsWithConditionAndMessage) {
  int committed = 7;
  EXPECT_DEATH(RS_CHECK(committed < 5) << "committed=" << committed,
               "check failed: committed < 5 committed=7");
}

TEST(CheckDeathTest, FailedComparisonPrintsBothValues) {
  uint64_t applied = 9;
  uint64_t committed = 4;
  EXPECT_DEATH(RS_CHECK_LE(applied, committed) << "in group 3",
               "applied <= committed \\(9 vs. 4\\) in group 3");
}

TEST(CheckDeathTest, ChecksStayOnInOptimisedBuilds) {
  // The default build defines NDEBUG (compilation_mode=opt); RS_CHECK must
  // still fire there.
  EXPECT_DEATH(RS_CHECK(false), "check failed: false");
}

TEST(CheckTest, ComparisonCheckIsSafeInUnbracedIfElse) {
  bool took_else = false;
  if (false)  // NOLINT(readability-simplify-boolean-expr): the point
    RS_CHECK_EQ(1, 2);
  else
    took_else = true;
  EXPECT_TRUE(took_else);
}

TEST(CheckTest, DebugCheckDoesNotEvaluateWhenOff) {
  int evaluations = 0;
  RS_DCHECK(++evaluations > 0);
#ifdef RAFTSTORE_DEBUG_CHECKS
  EXPECT_EQ(evaluations, 1);
#else
  EXPECT_EQ(evaluations, 0);
#endif
}

}  // namespace
}  // namespace raftstore
