// Fails when any file under core/ includes a forbidden header or names a
// forbidden clock, thread or entropy source (see forbidden_includes.h), and
// proves it can fail: the checker must catch every rule in a bad fixture
// and in a scratch tree with a bad core/ file.

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/layering/forbidden_includes.h"

namespace raftstore::layering {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::IsEmpty;

std::string Runfile(const std::string& path) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  EXPECT_NE(srcdir, nullptr) << "run under bazel test";
  return std::string(srcdir) + "/" + workspace + "/" + path;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<int> Lines(const std::vector<Violation>& found) {
  std::vector<int> lines;
  lines.reserve(found.size());
  for (const Violation& v : found) lines.push_back(v.line);
  return lines;
}

TEST(CoreIncludesTest, NoFileUnderCoreBreaksTheRules) {
  // Runfiles are links into the source tree; following one back finds the
  // real core/, so a file in a package nobody listed is scanned too. The
  // target is tagged "external" so this scan is never served from cache.
  const fs::path anchor = fs::canonical(Runfile("tests/layering/BUILD.bazel"));
  const std::string root = anchor.parent_path().parent_path().parent_path();
  auto found = ScanTree(root, "core");
  ASSERT_TRUE(found.ok()) << found.status();
  std::vector<std::string> lines;
  for (const Violation& v : *found) lines.push_back(v.ToString());
  EXPECT_THAT(lines, IsEmpty()) << absl::StrJoin(lines, "\n");
}

TEST(CoreIncludesTest, ScanSeesTheCoreSources) {
  // Guard against a scan that passes because it read nothing.
  const fs::path anchor = fs::canonical(Runfile("tests/layering/BUILD.bazel"));
  const fs::path core = anchor.parent_path().parent_path().parent_path() /
                        "core" / "base" / "check.h";
  EXPECT_TRUE(fs::exists(core)) << core;
}

TEST(CoreIncludesTest, CatchesEveryRuleInTheBadFixture) {
  const std::string text =
      ReadFile(Runfile("tests/layering/testdata/bad_core_file.cc.txt"));
  ASSERT_FALSE(text.empty());
  const std::vector<Violation> found = FindViolations("bad.cc", text);
  // Exactly the lines marked "caught" in the fixture.
  EXPECT_THAT(Lines(found), ElementsAre(4, 5, 6, 7, 8, 9, 10, 16, 17, 18));
  EXPECT_THAT(found[0].what, "#include <uv.h>");
  EXPECT_THAT(found[7].what, "steady_clock");
}

TEST(CoreIncludesTest, FailsOnAScratchTreeWithABadCoreFile) {
  const fs::path root = fs::path(std::getenv("TEST_TMPDIR")) / "scratch";
  fs::create_directories(root / "core" / "raft");
  std::ofstream(root / "core" / "raft" / "good.cc") << "#include <vector>\n";
  std::ofstream(root / "core" / "raft" / "bad.h")
      << "#pragma once\n#include <thread>\n";
  auto found = ScanTree(root.string(), "core");
  ASSERT_TRUE(found.ok()) << found.status();
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ((*found)[0].ToString(),
            "core/raft/bad.h:2: #include <thread> (threads and locks: the "
            "core is single-threaded by construction)");
}

TEST(CoreIncludesTest, MissingDirectoryIsAnError) {
  auto found = ScanTree("/nonexistent-raftstore-root", "core");
  EXPECT_EQ(found.status().code(), absl::StatusCode::kNotFound);
}

TEST(StripCommentsAndLiteralsTest, KeepsCodeAndLineBreaks) {
  const std::string out =
      StripCommentsAndLiterals("a // x\nb /* y\nz */ c \"q\\\"r\" 'd'\n");
  EXPECT_EQ(out, "a     \nb     \n     c \"    \" ' '\n");
}

TEST(FindViolationsTest, IdentifiersInCodeAreCaughtButNotInComments) {
  EXPECT_THAT(
      FindViolations("f.cc", "auto t = std::chrono::steady_clock::now();"),
      ElementsAre(Field(&Violation::what, "steady_clock")));
  EXPECT_THAT(FindViolations("f.cc", "// steady_clock\n"), IsEmpty());
  EXPECT_THAT(FindViolations("f.cc", "std::thread t;"),
              ElementsAre(Field(&Violation::what, "std::thread")));
  EXPECT_THAT(FindViolations("f.cc", "int operand = brand;"), IsEmpty());
}

TEST(FindViolationsTest, CatchesSleepsWallTimeAndEveryLockType) {
  EXPECT_FALSE(
      FindViolations("f.cc", "std::this_thread::sleep_for(d);").empty());
  EXPECT_FALSE(FindViolations("f.cc", "long t = time(nullptr);").empty());
  EXPECT_FALSE(FindViolations("f.cc", "std::recursive_mutex m;").empty());
  EXPECT_FALSE(FindViolations("f.cc", "std::condition_variable cv;").empty());
  // A member named like a function is not a call of it.
  EXPECT_TRUE(FindViolations("f.cc", "int time_us = 0; t.clock_us();").empty());
}

TEST(FindViolationsTest, CatchesHashContainers) {
  EXPECT_FALSE(
      FindViolations("f.h", "std::unordered_map<int, int> peers;").empty());
  EXPECT_FALSE(
      FindViolations("f.h", "absl::flat_hash_set<uint64_t> ids;").empty());
  EXPECT_TRUE(FindViolations("f.h", "absl::btree_map<int, int> ok;").empty());
}

TEST(FindViolationsTest, RawStringsDoNotHideCodeAfterThem) {
  EXPECT_FALSE(FindViolations("f.cc",
                              "auto s = R\"(\")\"; auto c = "
                              "std::chrono::steady_clock::now();")
                   .empty());
  EXPECT_TRUE(
      FindViolations("f.cc", "auto s = R\"x(steady_clock)x\";").empty());
}

}  // namespace
}  // namespace raftstore::layering
