// SimNetwork's fault calls, crash handling, queries and invariants (the
// message path is in sim_network.cc).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/base/check.h"
#include "sim/network/sim_network.h"

namespace raftstore::sim {
namespace {

// Fisher-Yates over 0..n-1 with our own Rng (std::shuffle's draws are not
// specified by the standard, so they would not replay across libraries).
std::vector<int> ShuffledNodes(int node_count, Rng& rng) {
  std::vector<int> nodes(node_count);
  for (int i = 0; i < node_count; ++i) nodes[i] = i;
  for (int i = node_count - 1; i > 0; --i) {
    std::swap(nodes[i], nodes[rng.Uniform(i + 1)]);
  }
  return nodes;
}

// Splits `nodes` after the first `first_size`, each side sorted.
std::vector<std::vector<int>> SplitSorted(const std::vector<int>& nodes,
                                          uint64_t first_size) {
  const auto middle = nodes.begin() + static_cast<std::ptrdiff_t>(first_size);
  std::vector<int> first(nodes.begin(), middle);
  std::vector<int> second(middle, nodes.end());
  std::sort(first.begin(), first.end());
  std::sort(second.begin(), second.end());
  return {std::move(first), std::move(second)};
}

}  // namespace

void SimNetwork::Partition(const std::vector<std::vector<int>>& groups) {
  std::vector<int> group(node_count_, -1);
  for (size_t g = 0; g < groups.size(); ++g) {
    for (int node : groups[g]) {
      CheckNode(node);
      RS_CHECK_EQ(group[node], -1) << "node " << node << " in two groups";
      group[node] = static_cast<int>(g);
    }
  }
  int next_group = static_cast<int>(groups.size());
  for (int& each : group) {
    if (each == -1) each = next_group++;  // unnamed nodes are alone
  }
  partition_group_ = std::move(group);
  ++stats_.partitions;
}

void SimNetwork::IsolateNode(int node) {
  CheckNode(node);
  std::vector<int> rest;
  for (int other = 0; other < node_count_; ++other) {
    if (other != node) rest.push_back(other);
  }
  Partition({{node}, rest});
}

std::vector<std::vector<int>> SimNetwork::PartitionMajorityMinority(Rng& rng) {
  RS_CHECK_GE(node_count_, 2) << "a partition needs two nodes";
  const std::vector<int> nodes = ShuffledNodes(node_count_, rng);
  const uint64_t minority_max =
      std::max<uint64_t>(1, static_cast<uint64_t>(node_count_ - 1) / 2);
  std::vector<std::vector<int>> groups =
      SplitSorted(nodes, rng.Range(1, minority_max));
  Partition(groups);
  return groups;
}

std::vector<std::vector<int>> SimNetwork::PartitionRandomHalves(Rng& rng) {
  RS_CHECK_GE(node_count_, 2) << "a partition needs two nodes";
  const std::vector<int> nodes = ShuffledNodes(node_count_, rng);
  std::vector<std::vector<int>> groups = SplitSorted(nodes, node_count_ / 2);
  Partition(groups);
  return groups;
}

void SimNetwork::PartitionOneWay(int from, int to) {
  CheckNode(from);
  CheckNode(to);
  RS_CHECK_NE(from, to);
  link(from, to).one_way_cut = true;
  ++stats_.one_way_partitions;
}

void SimNetwork::SetLinkDown(int from, int to, bool down) {
  CheckNode(from);
  CheckNode(to);
  RS_CHECK_NE(from, to);
  link(from, to).down = down;
  if (down) ++stats_.links_set_down;
}

void SimNetwork::Clog(int node, uint64_t until_us) {
  CheckNode(node);
  clog_until_us_[node] = until_us;
  ++stats_.clogs;
  // The end may have moved earlier: re-time the release of what is held.
  ReleaseHeldOnLinksOf(node);
}

void SimNetwork::SetNoise(uint32_t drop_per_million,
                          uint32_t duplicate_per_million) {
  RS_CHECK_LE(drop_per_million, kPerMillion);
  RS_CHECK_LE(duplicate_per_million, kPerMillion);
  options_.drop_per_million = drop_per_million;
  options_.duplicate_per_million = duplicate_per_million;
}

void SimNetwork::Heal() {
  partition_group_.clear();
  for (Link& each : links_) {
    each.one_way_cut = false;
    each.down = false;
  }
  std::fill(clog_until_us_.begin(), clog_until_us_.end(), 0);
  ++stats_.heals;
  ReleaseHeldOnLinksOf(-1);
}

void SimNetwork::ReleaseHeldOnLinksOf(int node) {
  for (int from = 0; from < node_count_; ++from) {
    for (int to = 0; to < node_count_; ++to) {
      if (node >= 0 && from != node && to != node) continue;
      if (!link(from, to).held.empty())
        ScheduleRelease(from * node_count_ + to);
    }
  }
}

void SimNetwork::SetLinkLatency(int from, int to,
                                const LatencyOptions& latency) {
  CheckNode(from);
  CheckNode(to);
  const absl::Status valid = ValidateLatency(latency, "SetLinkLatency");
  RS_CHECK(valid.ok()) << valid.ToString();
  link(from, to).latency = latency;
}

void SimNetwork::DropInFlightTo(int node) { DropInFlight(node, true); }

void SimNetwork::DropInFlightFrom(int node) { DropInFlight(node, false); }

void SimNetwork::SetNodeCrashed(int node, bool crashed) {
  CheckNode(node);
  crashed_[node] = crashed;
  if (crashed) DropInFlightTo(node);
}

void SimNetwork::DropInFlight(int node, bool to_node) {
  CheckNode(node);
  ++stats_.crash_drops;
  for (uint32_t index = 0; index < slots_.size(); ++index) {
    const Slot& slot = slots_[index];
    if (slot.state == SlotState::kFree) continue;
    if ((to_node ? slot.to : slot.from) != node) continue;
    DropSlot(index, DropReason::kCrashed);
  }
  // Every held message on these links was just dropped; their stale release
  // events find the queues empty.
  for (int other = 0; other < node_count_; ++other) {
    if (other == node) continue;
    (to_node ? link(other, node) : link(node, other)).held.clear();
  }
}

uint32_t SimNetwork::in_flight_messages() const {
  return static_cast<uint32_t>(slots_.size() - free_slots_.size());
}

uint32_t SimNetwork::link_in_flight_messages(int from, int to) const {
  CheckNode(from);
  CheckNode(to);
  return link(from, to).in_flight_messages;
}

uint64_t SimNetwork::link_in_flight_bytes(int from, int to) const {
  CheckNode(from);
  CheckNode(to);
  return link(from, to).in_flight_bytes;
}

std::string SimNetwork::DescribeFaults() const {
  std::vector<std::string> parts;
  if (!partition_group_.empty()) {
    // Group ids are arbitrary; show groups in order of their smallest node.
    std::map<int, std::vector<int>> members_by_group;
    std::vector<int> group_order;
    for (int node = 0; node < node_count_; ++node) {
      std::vector<int>& members = members_by_group[partition_group_[node]];
      if (members.empty()) group_order.push_back(partition_group_[node]);
      members.push_back(node);
    }
    std::vector<std::string> groups;
    groups.reserve(group_order.size());
    for (int group : group_order) {
      groups.push_back(
          absl::StrCat("{", absl::StrJoin(members_by_group[group], ","), "}"));
    }
    parts.push_back(absl::StrCat("partition=", absl::StrJoin(groups, "|")));
  }
  std::vector<std::string> one_way;
  std::vector<std::string> down;
  for (int from = 0; from < node_count_; ++from) {
    for (int to = 0; to < node_count_; ++to) {
      const Link& l = link(from, to);
      if (l.one_way_cut) one_way.push_back(absl::StrCat(from, "->", to));
      if (l.down) down.push_back(absl::StrCat(from, "->", to));
    }
  }
  if (!one_way.empty()) {
    parts.push_back(absl::StrCat("one_way=", absl::StrJoin(one_way, ",")));
  }
  if (!down.empty()) {
    parts.push_back(absl::StrCat("down=", absl::StrJoin(down, ",")));
  }
  std::vector<std::string> clogs;
  std::vector<int> crashed;
  for (int node = 0; node < node_count_; ++node) {
    if (clog_until_us_[node] > events_->now_us()) {
      clogs.push_back(absl::StrCat(node, "@", clog_until_us_[node], "us"));
    }
    if (crashed_[node]) crashed.push_back(node);
  }
  if (!clogs.empty()) {
    parts.push_back(absl::StrCat("clog=", absl::StrJoin(clogs, ",")));
  }
  if (!crashed.empty()) {
    parts.push_back(absl::StrCat("crashed=", absl::StrJoin(crashed, ",")));
  }
  return parts.empty() ? "none" : absl::StrJoin(parts, " ");
}

void SimNetwork::CheckInvariants() const {
  std::vector<uint32_t> messages(links_.size(), 0);
  std::vector<uint64_t> bytes(links_.size(), 0);
  size_t held = 0;
  for (const Slot& slot : slots_) {
    if (slot.state == SlotState::kFree) continue;
    const size_t index = static_cast<size_t>(slot.from) * node_count_ + slot.to;
    ++messages[index];
    bytes[index] += slot.bytes;
    if (slot.state == SlotState::kHeld) ++held;
  }
  size_t held_queued = 0;
  for (size_t i = 0; i < links_.size(); ++i) {
    RS_CHECK_EQ(messages[i], links_[i].in_flight_messages) << "link " << i;
    RS_CHECK_EQ(bytes[i], links_[i].in_flight_bytes) << "link " << i;
    RS_CHECK_LE(messages[i], options_.link_queue_messages_max);
    RS_CHECK_LE(bytes[i], options_.link_queue_bytes_max);
    held_queued += links_[i].held.size();
  }
  RS_CHECK_EQ(held, held_queued) << "held slots vs link hold queues";
  RS_CHECK_LE(slots_.size(), options_.in_flight_messages_max);
  RS_CHECK_EQ(stats_.sent + stats_.duplicated,
              stats_.delivered + stats_.dropped_total() + in_flight_messages())
      << stats_.Describe();
}

}  // namespace raftstore::sim
