// Runs every script in testdata/ and compares its transcript with the golden
// file beside it (NAME.script -> NAME.golden), in
// core/raft/interaction/testdata. The runner lives here, not in core/,
// because it reads and writes files.
//
// To rewrite the golden files after an intended change of behaviour or of
// the transcript format, run from the workspace:
//
//   bazel run //tests/raft_scripts:scripts_test -- --rewrite
//
// then read the diff (`git diff core/raft/interaction/testdata`) before
// committing: a golden file is a claim about behaviour, not a snapshot to
// accept blindly.

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/raft/interaction/interaction.h"
#include "gtest/gtest.h"

namespace raftstore::raft::interaction {
namespace {

namespace fs = std::filesystem;

bool rewrite = false;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

fs::path TestdataDir() {
  // Under `bazel run`, write into the source tree; under `bazel test`, read
  // the runfiles.
  if (rewrite) {
    const char* workspace = std::getenv("BUILD_WORKSPACE_DIRECTORY");
    if (workspace == nullptr) {
      std::fprintf(stderr, "--rewrite needs bazel run\n");
      std::abort();
    }
    return fs::path(workspace) / "core/raft/interaction/testdata";
  }
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* name = std::getenv("TEST_WORKSPACE");
  if (srcdir == nullptr || name == nullptr)
    return "core/raft/interaction/testdata";
  return fs::path(srcdir) / name / "core/raft/interaction/testdata";
}

std::vector<fs::path> Scripts() {
  std::vector<fs::path> scripts;
  for (const auto& entry : fs::directory_iterator(TestdataDir())) {
    if (entry.path().extension() == ".script") scripts.push_back(entry.path());
  }
  std::sort(scripts.begin(), scripts.end());
  return scripts;
}

TEST(ScriptsTest, ThereAreAtLeastThirtyScripts) {
  EXPECT_GE(Scripts().size(), 30u);
}

TEST(ScriptsTest, EveryTranscriptMatchesItsGoldenFile) {
  for (const fs::path& script : Scripts()) {
    SCOPED_TRACE(script.filename().string());
    auto transcript = RunScript(ReadFile(script));
    ASSERT_TRUE(transcript.ok()) << transcript.status();
    fs::path golden = script;
    golden.replace_extension(".golden");
    if (rewrite) {
      std::ofstream(golden, std::ios::binary) << *transcript;
      continue;
    }
    ASSERT_TRUE(fs::exists(golden))
        << "no golden file " << golden << "; run with --rewrite";
    EXPECT_EQ(*transcript, ReadFile(golden))
        << "transcript of " << script.filename()
        << " differs; if intended, rewrite with `bazel run "
           "//tests/raft_scripts:scripts_test -- --rewrite`";
  }
}

TEST(ScriptsTest, TranscriptsAreDeterministic) {
  for (const fs::path& script : Scripts()) {
    const std::string text = ReadFile(script);
    auto first = RunScript(text);
    auto second = RunScript(text);
    ASSERT_TRUE(first.ok() && second.ok());
    EXPECT_EQ(*first, *second) << script.filename();
  }
}

}  // namespace
}  // namespace raftstore::raft::interaction

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--rewrite") == 0) {
      raftstore::raft::interaction::rewrite = true;
    }
  }
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
