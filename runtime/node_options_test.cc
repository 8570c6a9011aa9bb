#include "runtime/node_options.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace raftstore::runtime {
namespace {

std::vector<std::string> Minimal() {
  return {"--cluster-id=7", "--store-id=2", "--data-dir=/tmp/x",
          "--peers=1=h:1,2=h:2,3=h:3", "--client-listen=h:9"};
}

std::string TempFile(const std::string& name, const std::string& text) {
  const char* dir = std::getenv("TEST_TMPDIR");
  const std::string path =
      absl::StrCat(dir != nullptr ? dir : "/tmp", "/", name);
  std::ofstream(path) << text;
  return path;
}

// The error of parsing `args`, which must fail.
std::string ErrorOf(const std::vector<std::string>& args) {
  absl::StatusOr<ParsedArgs> parsed = ParseNodeArgs(args);
  EXPECT_FALSE(parsed.ok());
  return parsed.ok() ? "" : std::string(parsed.status().message());
}

TEST(NodeOptionsTest, ParsesEveryFormOfFlag) {
  absl::StatusOr<ParsedArgs> parsed = ParseNodeArgs(
      {"--cluster-id", "7", "--store_id=2", "--data-dir", "/d", "--peers",
       "1=127.0.0.1:7001, 2=127.0.0.1:7002", "--client-listen=:1",
       "--admin_listen", "127.0.0.1:0", "--tick-ms=50", "--bootstrap"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  const NodeOptions& o = parsed->options;
  EXPECT_EQ(o.cluster_id, 7U);
  EXPECT_EQ(o.store_id, 2U);
  EXPECT_EQ(o.data_dir, "/d");
  EXPECT_EQ(o.peers.size(), 2U);
  EXPECT_EQ(o.peers.at(2), "127.0.0.1:7002");
  EXPECT_EQ(o.RaftAddress(), "127.0.0.1:7002");
  EXPECT_EQ(o.admin_listen, "127.0.0.1:0");
  EXPECT_EQ(o.tick_ms, 50U);
  EXPECT_EQ(o.init, NodeInit::kBootstrap);
  EXPECT_FALSE(parsed->help);
}

TEST(NodeOptionsTest, ListenOverridesThePeerEntry) {
  std::vector<std::string> args = Minimal();
  args.push_back("--listen=0.0.0.0:7002");
  absl::StatusOr<ParsedArgs> parsed = ParseNodeArgs(args);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->options.RaftAddress(), "0.0.0.0:7002");
}

TEST(NodeOptionsTest, HelpNeedsNothingElse) {
  absl::StatusOr<ParsedArgs> parsed = ParseNodeArgs({"--help"});
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(parsed->help);
  EXPECT_TRUE(absl::StrContains(NodeUsage(), "--client-listen"));
  EXPECT_TRUE(absl::StrContains(NodeUsage(), "--bootstrap"));
}

TEST(NodeOptionsTest, RefusesUnknownFlagsNamingThem) {
  std::vector<std::string> args = Minimal();
  args.push_back("--stor-id=3");
  EXPECT_TRUE(absl::StrContains(ErrorOf(args), "unknown flag --stor-id"));
}

TEST(NodeOptionsTest, RefusesAMissingValue) {
  std::vector<std::string> args = Minimal();
  args.push_back("--tick-ms");
  EXPECT_TRUE(absl::StrContains(ErrorOf(args), "--tick-ms needs a value"));
  args.back() = "--data-dir";
  args.push_back("--bootstrap");
  EXPECT_TRUE(absl::StrContains(ErrorOf(args), "--data-dir needs a value"));
}

TEST(NodeOptionsTest, RefusesBadNumbers) {
  for (const char* bad : {"--store-id=abc", "--store-id=-1", "--store-id=1x",
                          "--store-id=", "--store-id=99999999999999999999"}) {
    std::vector<std::string> args = Minimal();
    args.erase(args.begin() + 1);
    args.push_back(bad);
    const std::string error = ErrorOf(args);
    EXPECT_TRUE(absl::StrContains(error, "--store-id")) << bad << ": " << error;
  }
}

TEST(NodeOptionsTest, RefusesAFlagGivenTwice) {
  std::vector<std::string> args = Minimal();
  args.push_back("--store-id=3");
  EXPECT_TRUE(absl::StrContains(ErrorOf(args), "--store-id given twice"));
}

TEST(NodeOptionsTest, RefusesStrayArguments) {
  std::vector<std::string> args = Minimal();
  args.push_back("oops");
  EXPECT_TRUE(absl::StrContains(ErrorOf(args), "unexpected argument 'oops'"));
}

TEST(NodeOptionsTest, RefusesMissingRequiredOptions) {
  EXPECT_TRUE(absl::StrContains(ErrorOf({}), "--cluster-id is required"));
  std::vector<std::string> args = Minimal();
  args.pop_back();  // --client-listen
  EXPECT_TRUE(absl::StrContains(ErrorOf(args), "--client-listen is required"));
}

TEST(NodeOptionsTest, RefusesContradictions) {
  std::vector<std::string> args = Minimal();
  args.push_back("--bootstrap");
  args.push_back("--join");
  EXPECT_TRUE(absl::StrContains(ErrorOf(args), "exclude each other"));
  args = Minimal();
  args[3] = "--peers=1=h:1,3=h:3";
  EXPECT_TRUE(absl::StrContains(ErrorOf(args), "has no raft address"));
  args.push_back("--listen=h:2");
  args.push_back("--bootstrap");
  EXPECT_TRUE(absl::StrContains(ErrorOf(args), "must be in --peers"));
  args = Minimal();
  args.push_back("--election-ticks=1");
  EXPECT_TRUE(absl::StrContains(ErrorOf(args), "--election-ticks"));
}

TEST(NodeOptionsTest, RefusesBadPeerLists) {
  EXPECT_FALSE(ParsePeerList("").ok());
  EXPECT_FALSE(ParsePeerList("1").ok());
  EXPECT_FALSE(ParsePeerList("0=h:1").ok());
  EXPECT_FALSE(ParsePeerList("x=h:1").ok());
  EXPECT_FALSE(ParsePeerList("1=").ok());
  absl::StatusOr<absl::btree_map<uint64_t, std::string>> twice =
      ParsePeerList("1=h:1,1=h:2");
  ASSERT_FALSE(twice.ok());
  EXPECT_TRUE(absl::StrContains(twice.status().message(), "listed twice"));
}

TEST(NodeOptionsTest, ReadsAConfigFileThatFlagsOverride) {
  const std::string path =
      TempFile("node.conf",
               "# a node\ncluster-id = 7\nstore_id=2\n\ndata-dir = /from/file\n"
               "peers = 1=h:1,2=h:2\nclient-listen = h:9\njoin = true\n");
  absl::StatusOr<ParsedArgs> parsed =
      ParseNodeArgs({"--config", path, "--data-dir=/from/flag"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->options.store_id, 2U);
  EXPECT_EQ(parsed->options.data_dir, "/from/flag");
  EXPECT_EQ(parsed->options.init, NodeInit::kJoin);
}

TEST(NodeOptionsTest, ConfigFileErrorsNameTheLine) {
  const std::string unknown =
      TempFile("unknown.conf", "cluster-id = 7\ncolour = blue\n");
  EXPECT_TRUE(absl::StrContains(ErrorOf({"--config", unknown}),
                                "unknown.conf:2: unknown key 'colour'"));
  const std::string twice =
      TempFile("twice.conf", "store-id = 1\nstore-id = 2\n");
  EXPECT_TRUE(
      absl::StrContains(ErrorOf({"--config", twice}), "already set on line 1"));
  const std::string bad = TempFile("bad.conf", "store-id\n");
  EXPECT_TRUE(
      absl::StrContains(ErrorOf({"--config", bad}), "expected 'key = value'"));
  const std::string number = TempFile("number.conf", "tick-ms = fast\n");
  EXPECT_TRUE(absl::StrContains(ErrorOf({"--config", number}),
                                "number.conf:1: --tick-ms: 'fast'"));
  EXPECT_TRUE(absl::StrContains(ErrorOf({"--config", "/no/such/file"}),
                                "/no/such/file: cannot be opened"));
}

}  // namespace
}  // namespace raftstore::runtime
