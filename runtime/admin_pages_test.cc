#include "runtime/admin_pages.h"

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace raftstore::runtime {
namespace {

using nlohmann::json;

NodeStatus SampleStatus() {
  NodeStatus s;
  s.cluster_id = 7;
  s.store_id = 2;
  s.uptime_ms = 1234;
  s.tick_ms = 100;
  s.store.ticks = 55;
  s.store.peers.writes_applied = 9;
  s.regions.region_total = 3;
  s.regions.region_running = 2;
  s.regions.region_tombstone = 1;
  s.leaders = 1;
  s.transport.dials = 4;
  s.transport.connections_closed_bad_frame = 2;
  s.client_port.connections_open = 5;
  s.wal.segments = 3;
  s.wal.segment_bytes = 4096;
  s.node.storage_syncs = 17;
  s.node.client_requests_pending = 6;
  return s;
}

std::vector<store::PeerStatus> SamplePeers() {
  store::PeerStatus p;
  p.region_id = 1;
  p.peer_id = 2;
  p.role = raft::Role::kLeader;
  p.term = 6;
  p.leader_peer_id = 2;
  p.commit_index = 20;
  p.applied_index = 19;
  p.last_index = 21;
  p.first_index = 6;
  p.snapshot_index = 5;
  p.kv_digest = 99;
  return {p};
}

bool ValidName(absl::string_view name) {
  if (name.empty() || absl::ascii_isdigit(static_cast<unsigned char>(name[0])))
    return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' &&
        c != ':') {
      return false;
    }
  }
  return true;
}

TEST(AdminPagesTest, MetricsAreWellFormedPrometheusText) {
  const std::string text = MetricsText(SampleStatus());
  std::set<std::string> typed;
  std::set<std::string> helped;
  int samples = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    if (absl::StartsWith(line, "# HELP ")) {
      std::vector<std::string> parts = absl::StrSplit(line, ' ');
      ASSERT_GE(parts.size(), 4U) << line;
      EXPECT_TRUE(helped.insert(parts[2]).second) << "two HELP: " << line;
      continue;
    }
    if (absl::StartsWith(line, "# TYPE ")) {
      std::vector<std::string> parts = absl::StrSplit(line, ' ');
      ASSERT_EQ(parts.size(), 4U) << line;
      EXPECT_TRUE(parts[3] == "counter" || parts[3] == "gauge") << line;
      EXPECT_TRUE(typed.insert(parts[2]).second) << "two TYPE: " << line;
      if (parts[3] == "counter") {
        EXPECT_TRUE(absl::EndsWith(parts[2], "_total")) << line;
      }
      continue;
    }
    std::vector<std::string> parts = absl::StrSplit(line, ' ');
    ASSERT_EQ(parts.size(), 2U) << line;
    std::string name = parts[0].substr(0, parts[0].find('{'));
    EXPECT_TRUE(ValidName(name)) << line;
    EXPECT_TRUE(typed.contains(name)) << "sample before its TYPE: " << line;
    uint64_t value = 0;
    EXPECT_TRUE(absl::SimpleAtoi(parts[1], &value)) << line;
    ++samples;
  }
  EXPECT_EQ(typed, helped);
  EXPECT_GT(samples, 60);
  EXPECT_TRUE(absl::StrContains(text, "\nraftstore_store_ticks_total 55\n"));
  EXPECT_TRUE(
      absl::StrContains(text, "\nraftstore_regions{state=\"running\"} 2\n"));
  EXPECT_TRUE(absl::StrContains(text, "\nraftstore_region_leaders 1\n"));
  EXPECT_TRUE(absl::StrContains(
      text, "\nraftstore_transport_connections_closed_bad_frame_total 2\n"));
  EXPECT_TRUE(absl::StrContains(text, "\nraftstore_wal_segments 3\n"));
  EXPECT_TRUE(absl::StrContains(text, "\nraftstore_storage_syncs_total 17\n"));
  EXPECT_TRUE(
      absl::StrContains(text, "\nraftstore_client_requests_pending 6\n"));
}

TEST(AdminPagesTest, StatsCarryTheCliFieldsAndTheCounters) {
  const json stats = json::parse(StatsJson(SampleStatus(), SamplePeers()));
  EXPECT_EQ(stats["cluster_id"], 7);
  EXPECT_EQ(stats["store_id"], 2);
  EXPECT_EQ(stats["regions"]["running"], 2);
  EXPECT_EQ(stats["regions"]["tombstone"], 1);
  EXPECT_EQ(stats["regions"]["total"], 3);
  EXPECT_EQ(stats["wal"]["segments"], 3);
  EXPECT_EQ(stats["wal"]["bytes"], 4096);
  EXPECT_TRUE(stats["wal"]["damage"].is_null());
  ASSERT_EQ(stats["raft_groups"].size(), 1U);
  const json& group = stats["raft_groups"][0];
  EXPECT_EQ(group["region_id"], 1);
  EXPECT_EQ(group["role"], "leader");
  EXPECT_EQ(group["truncated_index"], 5);
  EXPECT_EQ(group["entries"], 16);
  EXPECT_EQ(group["applied_index"], 19);
  // No digest: the page must not cost a pass over the data.
  EXPECT_FALSE(group.contains("kv_digest"));
  EXPECT_EQ(stats["store"]["writes_applied"], 9);
  EXPECT_EQ(stats["transport"]["dials"], 4);
  EXPECT_EQ(stats["client_port"]["connections_open"], 5);
  EXPECT_EQ(stats["node"]["storage_syncs"], 17);
}

TEST(AdminPagesTest, RegionsEscapeKeysAndJoinTheLocalPeer) {
  store::RegionRecord running;
  running.region.set_id(1);
  running.region.set_end_key(std::string("m\xff\n", 3));
  running.region.mutable_epoch()->set_version(3);
  running.region.mutable_epoch()->set_conf_version(2);
  meta::Peer* peer = running.region.add_peers();
  peer->set_id(2);
  peer->set_store_id(2);
  peer->set_role(meta::PEER_ROLE_LEARNER);
  running.state = meta::REGION_STATE_RUNNING;
  store::RegionRecord gone;
  gone.region.set_id(4);
  gone.region.set_start_key("m");
  gone.state = meta::REGION_STATE_TOMBSTONE;
  const json regions = json::parse(RegionsJson({running, gone}, SamplePeers()));
  ASSERT_EQ(regions.size(), 2U);
  EXPECT_EQ(regions[0]["id"], 1);
  EXPECT_EQ(regions[0]["state"], "running");
  EXPECT_EQ(regions[0]["end_key"], "m\\377\\n");
  EXPECT_EQ(regions[0]["epoch"]["version"], 3);
  EXPECT_EQ(regions[0]["peers"][0]["learner"], true);
  EXPECT_EQ(regions[0]["raft"]["term"], 6);
  EXPECT_EQ(regions[0]["raft"]["kv_digest"], 99);
  EXPECT_EQ(regions[1]["state"], "tombstone");
  EXPECT_TRUE(regions[1]["raft"].is_null());
}

}  // namespace
}  // namespace raftstore::runtime
