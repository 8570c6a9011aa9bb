#include "core/raft/interaction/script.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace raftstore::raft::interaction {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

TEST(ParseScriptTest, SplitsCommandsArgumentsAndOptions) {
  auto lines = ParseScript(
      "# setup\n"
      "add-nodes 3 voters=(1,2,3) index=2\n"
      "\n"
      "propose-conf-change 1 (v4 l5) transition=explicit\n"
      "propose 1 \"hello world\"\n");
  ASSERT_TRUE(lines.ok()) << lines.status();
  ASSERT_EQ(lines->size(), 5u);
  EXPECT_FALSE((*lines)[0].is_command());
  EXPECT_EQ((*lines)[0].text, "# setup");
  const ScriptLine& add = (*lines)[1];
  EXPECT_EQ(add.number, 2);
  EXPECT_EQ(add.command, "add-nodes");
  EXPECT_THAT(add.args, ElementsAre("3"));
  EXPECT_THAT(add.options,
              ElementsAre(Pair("index", "2"), Pair("voters", "(1,2,3)")));
  EXPECT_FALSE((*lines)[2].is_command());
  EXPECT_THAT((*lines)[3].args, ElementsAre("1", "(v4 l5)"));
  EXPECT_THAT((*lines)[4].args, ElementsAre("1", "hello world"));
}

TEST(ParseScriptTest, RejectsUnbalancedParenthesesAndQuotes) {
  auto open = ParseScript("ok\npartition (1 2\n");
  EXPECT_THAT(open.status().message(), HasSubstr("line 2: unterminated '('"));
  auto close = ParseScript("partition 1)\n");
  EXPECT_THAT(close.status().message(), HasSubstr("unbalanced ')'"));
  auto quote = ParseScript("propose 1 \"abc\n");
  EXPECT_THAT(quote.status().message(), HasSubstr("unterminated '\"'"));
}

TEST(ParseScriptTest, RejectsRepeatedOption) {
  auto lines = ParseScript("add-nodes 1 index=1 index=2\n");
  EXPECT_THAT(lines.status().message(),
              HasSubstr("option 'index' given twice"));
}

TEST(ParseScriptTest, RejectsOverlongLines) {
  auto lines = ParseScript(std::string(kScriptLineBytesMax + 1, 'x'));
  EXPECT_FALSE(lines.ok());
}

TEST(ParseIdListTest, AcceptsTheWrittenForms) {
  EXPECT_THAT(*ParseIdList("(1,2,3)"), ElementsAre(1, 2, 3));
  EXPECT_THAT(*ParseIdList("4 5"), ElementsAre(4, 5));
  EXPECT_TRUE(ParseIdList("()")->empty());
  EXPECT_FALSE(ParseIdList("(1,x)").ok());
  EXPECT_FALSE(ParseIdList("(0)").ok());
}

TEST(ArgsTest, ExpectRefusesUnknownOptionsAndWrongArity) {
  auto lines = ParseScript("campaign 1 2 typo=3\n");
  ASSERT_TRUE(lines.ok());
  const Args args((*lines)[0]);
  EXPECT_THAT(args.Expect(1, 1, {}).message(),
              HasSubstr("takes 1 to 1 positional arguments, got 2"));
  EXPECT_THAT(args.Expect(2, 2, {}).message(),
              HasSubstr("unknown option 'typo'"));
  EXPECT_TRUE(args.Expect(2, 2, {"typo"}).ok());
  EXPECT_EQ(*args.Uint(1), 2u);
  EXPECT_FALSE(args.Uint(2).ok());
  EXPECT_EQ(*args.UintOption("typo", 0), 3u);
  EXPECT_EQ(*args.UintOption("absent", 7), 7u);
}

}  // namespace
}  // namespace raftstore::raft::interaction
