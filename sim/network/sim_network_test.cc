#include "sim/network/sim_network.h"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/base/rng.h"
#include "gtest/gtest.h"
#include "sim/clock.h"
#include "sim/event_queue.h"
#include "sim/network/network_options.h"
#include "sim/network/payload.h"

namespace raftstore::sim {
namespace {

struct Delivery {
  uint64_t time_us;
  int from;
  int to;
  std::string payload;
  bool operator==(const Delivery& other) const {
    return std::tie(time_us, from, to, payload) ==
           std::tie(other.time_us, other.from, other.to, other.payload);
  }
};

// A network over its own clock and queue that logs every delivery.
class Harness {
 public:
  Harness(NetworkOptions options, int nodes = 3, uint64_t seed = 1)
      : events_(&clock_), network_(&events_, Rng(seed), options, nodes) {
    network_.set_deliver([this](int from, int to, Payload payload) {
      payloads_.push_back(payload);
      log_.push_back({clock_.now_us(), from, to, payload.bytes()});
    });
  }

  SimNetwork& network() { return network_; }
  EventQueue& events() { return events_; }
  const std::vector<Delivery>& log() const { return log_; }
  // What each delivery carried, as delivered (objects included).
  const std::vector<Payload>& payloads() const { return payloads_; }
  uint64_t now_us() const { return clock_.now_us(); }

  void RunAll() {
    while (events_.RunNext()) {
    }
    network_.CheckInvariants();
  }
  // Runs every event due at or before `time_us`, then moves the clock there.
  void RunUntil(uint64_t time_us) {
    while (!events_.empty() && events_.next_time_us() <= time_us) {
      events_.RunNext();
    }
    clock_.AdvanceTo(time_us);
    network_.CheckInvariants();
  }
  std::vector<std::string> Payloads(int from, int to) const {
    std::vector<std::string> out;
    for (const Delivery& d : log_) {
      if (d.from == from && d.to == to) out.push_back(d.payload);
    }
    return out;
  }

 private:
  SimClock clock_;
  EventQueue events_;
  SimNetwork network_;
  std::vector<Delivery> log_;
  std::vector<Payload> payloads_;
};

NetworkOptions Uniform(uint64_t min_us, uint64_t max_us) {
  NetworkOptions options;
  options.latency.min_us = min_us;
  options.latency.max_us = max_us;
  return options;
}

std::vector<std::string> Numbered(int count) {
  std::vector<std::string> out;
  for (int i = 0; i < count; ++i) out.push_back(absl::StrCat(i));
  return out;
}

TEST(SimNetworkTest, EachLinkIsFifoWhenReorderIsOff) {
  Harness h(Uniform(1, 10'000));
  for (int i = 0; i < 500; ++i) {
    h.network().Send(0, 1, absl::StrCat(i));
    h.network().Send(2, 1, absl::StrCat(i));
    h.RunUntil(h.now_us() + 7);  // some sends at once, some spread out
  }
  h.RunAll();
  EXPECT_EQ(h.Payloads(0, 1), Numbered(500));
  EXPECT_EQ(h.Payloads(2, 1), Numbered(500));
  EXPECT_EQ(h.network().stats().reordered, 0U);
}

TEST(SimNetworkTest, ReorderLetsLaterMessagesOvertakeEarlierOnes) {
  NetworkOptions options = Uniform(100, 200);
  options.reorder = true;
  options.reorder_jitter_us_max = 5'000;
  Harness h(options);
  for (int i = 0; i < 500; ++i) h.network().Send(0, 1, absl::StrCat(i));
  h.RunAll();
  const std::vector<std::string> got = h.Payloads(0, 1);
  ASSERT_EQ(got.size(), 500U);
  uint64_t overtaken = 0;
  int seen_max = -1;
  for (const std::string& payload : got) {
    const int value = std::stoi(payload);
    if (value < seen_max) ++overtaken;
    seen_max = std::max(seen_max, value);
  }
  EXPECT_GT(overtaken, 100U);
  EXPECT_EQ(h.network().stats().reordered, overtaken);
  std::vector<std::string> sorted = got;
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
    return std::stoi(a) < std::stoi(b);
  });
  EXPECT_EQ(sorted, Numbered(500));  // every message exactly once
}

TEST(SimNetworkTest, DropChanceOneDropsEverythingAndZeroNothing) {
  NetworkOptions all = Uniform(10, 20);
  all.drop_per_million = kPerMillion;
  Harness lossy(all);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(lossy.network().Send(0, 1, "x"), SendResult::kDroppedRandom);
  }
  lossy.RunAll();
  EXPECT_TRUE(lossy.log().empty());
  EXPECT_EQ(lossy.network().stats().dropped_by(DropReason::kRandom), 100U);

  Harness clean(Uniform(10, 20));
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(clean.network().Send(0, 1, "x"), SendResult::kInFlight);
  }
  clean.RunAll();
  EXPECT_EQ(clean.log().size(), 100U);
  EXPECT_EQ(clean.network().stats().dropped_total(), 0U);
}

TEST(SimNetworkTest, DuplicatesAreDeliveredTwice) {
  NetworkOptions options = Uniform(10, 1'000);
  options.duplicate_per_million = kPerMillion;
  Harness h(options);
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(h.network().Send(0, 1, absl::StrCat(i)), SendResult::kDuplicated);
  }
  h.RunAll();
  std::vector<std::string> got = h.Payloads(0, 1);
  std::vector<std::string> want;
  for (int i = 0; i < 50; ++i) {
    want.push_back(absl::StrCat(i));
    want.push_back(absl::StrCat(i));  // FIFO: the copy never overtakes
  }
  EXPECT_EQ(got, want);
  EXPECT_EQ(h.network().stats().duplicated, 50U);
  EXPECT_EQ(h.network().stats().delivered, 100U);
}

TEST(SimNetworkTest, LatencyStaysWithinTheLinkBounds) {
  for (bool reorder : {false, true}) {
    NetworkOptions options = Uniform(300, 700);
    options.reorder = reorder;  // jitter 0: only the FIFO clamp differs
    Harness h(options);
    for (int i = 0; i < 300; ++i) {
      h.network().Send(i % 3, (i + 1) % 3, absl::StrCat(h.now_us()));
      h.RunUntil(h.now_us() + 3);
    }
    h.RunAll();
    ASSERT_EQ(h.log().size(), 300U);
    for (const Delivery& d : h.log()) {
      const uint64_t latency = d.time_us - std::stoull(d.payload);
      EXPECT_GE(latency, 300U) << "reorder=" << reorder;
      EXPECT_LE(latency, 700U) << "reorder=" << reorder;
    }
  }
}

TEST(SimNetworkTest, PerLinkLatencyOverrideSlowsOnlyThatLink) {
  NetworkOptions options = Uniform(10, 10);
  LatencyOptions slow;
  slow.min_us = 5'000;
  slow.max_us = 5'000;
  options.link_latency.push_back({0, 1, slow});
  Harness h(options);
  h.network().Send(0, 1, "slow");
  h.network().Send(1, 0, "fast");
  h.RunAll();
  ASSERT_EQ(h.log().size(), 2U);
  EXPECT_EQ(h.log()[0], (Delivery{10, 1, 0, "fast"}));
  EXPECT_EQ(h.log()[1], (Delivery{5'000, 0, 1, "slow"}));
}

TEST(SimNetworkTest, BandwidthSerialisesMessagesOnALink) {
  NetworkOptions options = Uniform(100, 100);
  options.link_bytes_per_second = 1'000'000;  // 1 byte per microsecond
  Harness h(options);
  for (int i = 0; i < 3; ++i) h.network().Send(0, 1, std::string(1'000, 'a'));
  h.RunAll();
  ASSERT_EQ(h.log().size(), 3U);
  EXPECT_EQ(h.log()[0].time_us, 1'100U);
  EXPECT_EQ(h.log()[1].time_us, 2'100U);
  EXPECT_EQ(h.log()[2].time_us, 3'100U);
}

TEST(SimNetworkTest, MessagesOverTheSizeCapAreDroppedAndCounted) {
  NetworkOptions options = Uniform(10, 10);
  options.message_bytes_max = 100;
  options.link_queue_bytes_max = 100;
  Harness h(options);
  EXPECT_EQ(h.network().Send(0, 1, std::string(100, 'a')),
            SendResult::kInFlight);
  EXPECT_EQ(h.network().Send(0, 1, std::string(101, 'b')),
            SendResult::kDroppedSizeCap);
  h.RunAll();
  ASSERT_EQ(h.log().size(), 1U);
  EXPECT_EQ(h.log()[0].payload, std::string(100, 'a'));
  EXPECT_EQ(h.network().stats().dropped_by(DropReason::kSizeCap), 1U);
}

// An object payload counts as its encoded size for the size cap, the link
// queue and the bandwidth, exactly as its bytes would.
TEST(SimNetworkTest, ObjectPayloadsCountTheirEncodedSize) {
  NetworkOptions options = Uniform(100, 100);
  options.message_bytes_max = 1'000;
  options.link_bytes_per_second = 1'000'000;  // 1 byte per microsecond
  Harness h(options);
  auto object = std::make_shared<const int>(42);
  EXPECT_EQ(h.network().Send(0, 1, Payload::Object(object, 1'001)),
            SendResult::kDroppedSizeCap);
  EXPECT_EQ(h.network().Send(0, 1, Payload::Object(object, 1'000)),
            SendResult::kInFlight);
  EXPECT_EQ(h.network().link_in_flight_bytes(0, 1), 1'000U);
  h.RunAll();
  ASSERT_EQ(h.payloads().size(), 1U);
  EXPECT_EQ(h.log()[0].time_us, 1'100U);  // 1000 bytes at 1 byte per us
  const Payload& delivered = h.payloads()[0];
  EXPECT_TRUE(delivered.has_object());
  EXPECT_EQ(delivered.size(), 1'000U);
  EXPECT_TRUE(delivered.bytes().empty());
  ASSERT_NE(delivered.object<int>(), nullptr);
  EXPECT_EQ(delivered.object<int>(), object.get());  // not copied
  EXPECT_EQ(delivered.object<long>(), nullptr);      // another type
  EXPECT_EQ(Payload("bytes").object<int>(), nullptr);
}

// Both copies of a duplicated object payload share the one object.
TEST(SimNetworkTest, DuplicatedObjectPayloadsShareTheObject) {
  NetworkOptions options = Uniform(10, 100);
  options.duplicate_per_million = kPerMillion;
  Harness h(options);
  auto object = std::make_shared<const std::string>("message");
  EXPECT_EQ(h.network().Send(0, 1, Payload::Object(object, 7)),
            SendResult::kDuplicated);
  h.RunAll();
  ASSERT_EQ(h.payloads().size(), 2U);
  EXPECT_EQ(h.payloads()[0].object<std::string>(), object.get());
  EXPECT_EQ(h.payloads()[1].object<std::string>(), object.get());
}

TEST(SimNetworkTest, LinkQueueBoundsDropAndCount) {
  NetworkOptions options = Uniform(1'000, 1'000);
  options.link_queue_messages_max = 5;
  Harness h(options);
  for (int i = 0; i < 8; ++i) h.network().Send(0, 1, "m");
  EXPECT_EQ(h.network().link_in_flight_messages(0, 1), 5U);
  EXPECT_EQ(h.network().Send(0, 2, "other link"), SendResult::kInFlight);
  EXPECT_EQ(h.network().stats().dropped_by(DropReason::kQueueFull), 3U);
  h.RunAll();
  EXPECT_EQ(h.log().size(), 6U);
  // Room comes back once the link drains.
  EXPECT_EQ(h.network().Send(0, 1, "again"), SendResult::kInFlight);

  NetworkOptions bytes = Uniform(1'000, 1'000);
  bytes.message_bytes_max = 10;
  bytes.link_queue_bytes_max = 25;
  Harness by_bytes(bytes);
  EXPECT_EQ(by_bytes.network().Send(0, 1, std::string(10, 'a')),
            SendResult::kInFlight);
  EXPECT_EQ(by_bytes.network().Send(0, 1, std::string(10, 'b')),
            SendResult::kInFlight);
  EXPECT_EQ(by_bytes.network().Send(0, 1, std::string(10, 'c')),
            SendResult::kDroppedQueueFull);
  EXPECT_EQ(by_bytes.network().Send(0, 1, std::string(5, 'd')),
            SendResult::kInFlight);
  EXPECT_EQ(by_bytes.network().link_in_flight_bytes(0, 1), 25U);
}

TEST(SimNetworkTest, NetworkWideInFlightBound) {
  NetworkOptions options = Uniform(1'000, 1'000);
  options.in_flight_messages_max = 4;
  Harness h(options);
  for (int i = 0; i < 3; ++i) h.network().Send(0, 1, "a");
  for (int i = 0; i < 3; ++i) h.network().Send(1, 2, "b");
  EXPECT_EQ(h.network().in_flight_messages(), 4U);
  EXPECT_EQ(h.network().stats().dropped_by(DropReason::kQueueFull), 2U);
  h.RunAll();
  EXPECT_EQ(h.log().size(), 4U);
}

TEST(SimNetworkTest, SymmetricPartitionBlocksBothWaysUntilHealed) {
  Harness h(Uniform(10, 10), 4);
  h.network().Partition({{0, 1}, {2, 3}});
  EXPECT_EQ(h.network().Send(0, 2, "x"), SendResult::kDroppedPartition);
  EXPECT_EQ(h.network().Send(3, 1, "x"), SendResult::kDroppedPartition);
  EXPECT_EQ(h.network().Send(0, 1, "inside"), SendResult::kInFlight);
  EXPECT_EQ(h.network().Send(3, 2, "inside"), SendResult::kInFlight);
  EXPECT_EQ(h.network().DescribeFaults(), "partition={0,1}|{2,3}");
  h.RunAll();
  EXPECT_EQ(h.log().size(), 2U);
  h.network().Heal();
  EXPECT_EQ(h.network().DescribeFaults(), "none");
  EXPECT_EQ(h.network().Send(0, 2, "healed"), SendResult::kInFlight);
  EXPECT_EQ(h.network().Send(3, 1, "healed"), SendResult::kInFlight);
  h.RunAll();
  EXPECT_EQ(h.log().size(), 4U);
  EXPECT_EQ(h.network().stats().dropped_by(DropReason::kPartition), 2U);
  EXPECT_EQ(h.network().stats().partitions, 1U);
  EXPECT_EQ(h.network().stats().heals, 1U);
}

TEST(SimNetworkTest, NodesNamedInNoGroupAreAlone) {
  Harness h(Uniform(10, 10), 4);
  h.network().Partition({{0, 1}});
  EXPECT_FALSE(h.network().LinkCut(0, 1));
  EXPECT_TRUE(h.network().LinkCut(2, 3));
  EXPECT_TRUE(h.network().LinkCut(0, 3));
  EXPECT_EQ(h.network().DescribeFaults(), "partition={0,1}|{2}|{3}");
}

TEST(SimNetworkTest, IsolateNodeCutsItFromEveryone) {
  Harness h(Uniform(10, 10), 3);
  h.network().IsolateNode(1);
  EXPECT_TRUE(h.network().LinkCut(0, 1));
  EXPECT_TRUE(h.network().LinkCut(1, 2));
  EXPECT_FALSE(h.network().LinkCut(0, 2));
  EXPECT_FALSE(h.network().LinkCut(2, 0));
}

TEST(SimNetworkTest, InFlightMessagesAreDroppedIfTheLinkIsCutOnArrival) {
  Harness h(Uniform(1'000, 1'000), 3);
  h.network().Send(0, 1, "cut");
  h.network().Send(0, 2, "short outage");
  h.RunUntil(100);
  h.network().Partition({{0}, {1, 2}});
  h.RunUntil(500);
  h.network().Heal();
  h.network().PartitionOneWay(0, 1);
  h.RunAll();
  ASSERT_EQ(h.log().size(), 1U);
  EXPECT_EQ(h.log()[0], (Delivery{1'000, 0, 2, "short outage"}));
  EXPECT_EQ(h.network().stats().dropped_by(DropReason::kPartition), 1U);
}

TEST(SimNetworkTest, OneWayPartitionBlocksExactlyOneDirection) {
  Harness h(Uniform(10, 10), 3);
  h.network().PartitionOneWay(0, 1);
  for (int from = 0; from < 3; ++from) {
    for (int to = 0; to < 3; ++to) {
      if (from == to) continue;
      EXPECT_EQ(h.network().LinkCut(from, to), from == 0 && to == 1)
          << from << "->" << to;
    }
  }
  EXPECT_EQ(h.network().Send(0, 1, "x"), SendResult::kDroppedPartition);
  EXPECT_EQ(h.network().Send(1, 0, "y"), SendResult::kInFlight);
  EXPECT_EQ(h.network().DescribeFaults(), "one_way=0->1");
  h.RunAll();
  ASSERT_EQ(h.log().size(), 1U);
  EXPECT_EQ(h.log()[0].payload, "y");
  h.network().Heal();
  EXPECT_FALSE(h.network().LinkCut(0, 1));
}

TEST(SimNetworkTest, LinkDownIsDirectedAndComesBackUp) {
  Harness h(Uniform(10, 10), 3);
  h.network().SetLinkDown(2, 0, true);
  EXPECT_TRUE(h.network().LinkCut(2, 0));
  EXPECT_FALSE(h.network().LinkCut(0, 2));
  EXPECT_EQ(h.network().DescribeFaults(), "down=2->0");
  h.network().SetLinkDown(2, 0, false);
  EXPECT_FALSE(h.network().LinkCut(2, 0));
  // Independent of a one-way partition of the same link.
  h.network().PartitionOneWay(2, 0);
  h.network().SetLinkDown(2, 0, false);
  EXPECT_TRUE(h.network().LinkCut(2, 0));
}

// Checks that `groups` split 0..n-1 into two disjoint sorted groups and that
// the network cuts exactly the links between them.
void ExpectValidSplit(const SimNetwork& network,
                      const std::vector<std::vector<int>>& groups) {
  ASSERT_EQ(groups.size(), 2U);
  std::vector<int> side(network.node_count(), -1);
  for (int g = 0; g < 2; ++g) {
    ASSERT_FALSE(groups[g].empty());
    EXPECT_TRUE(std::is_sorted(groups[g].begin(), groups[g].end()));
    for (int node : groups[g]) {
      ASSERT_EQ(side[node], -1) << "node " << node << " in both groups";
      side[node] = g;
    }
  }
  for (int from = 0; from < network.node_count(); ++from) {
    ASSERT_NE(side[from], -1) << "node " << from << " in no group";
    for (int to = 0; to < network.node_count(); ++to) {
      if (from == to) continue;
      EXPECT_EQ(network.LinkCut(from, to), side[from] != side[to]);
    }
  }
}

TEST(SimNetworkTest, MajorityMinorityGivesAValidMinority) {
  for (int nodes = 2; nodes <= kNodesMax; ++nodes) {
    Harness h(Uniform(10, 10), nodes);
    std::set<size_t> minority_sizes;
    for (uint64_t seed = 0; seed < 30; ++seed) {
      Rng rng(seed);
      const auto groups = h.network().PartitionMajorityMinority(rng);
      ExpectValidSplit(h.network(), groups);
      if (nodes >= 3) {
        EXPECT_LT(2 * groups[0].size(), static_cast<size_t>(nodes));
      }
      minority_sizes.insert(groups[0].size());
    }
    EXPECT_EQ(*minority_sizes.rbegin(),
              static_cast<size_t>(std::max(1, (nodes - 1) / 2)))
        << nodes << " nodes";
  }
}

TEST(SimNetworkTest, RandomHalvesSplitsIntoHalves) {
  for (int nodes = 2; nodes <= kNodesMax; ++nodes) {
    Harness h(Uniform(10, 10), nodes);
    std::set<std::vector<int>> firsts;
    for (uint64_t seed = 0; seed < 20; ++seed) {
      Rng rng(seed);
      const auto groups = h.network().PartitionRandomHalves(rng);
      ExpectValidSplit(h.network(), groups);
      EXPECT_EQ(groups[0].size(), static_cast<size_t>(nodes / 2));
      firsts.insert(groups[0]);
    }
    if (nodes >= 4) {
      EXPECT_GT(firsts.size(), 1U) << "always the same split";
    }
  }
}

TEST(SimNetworkTest, ClogHoldsMessagesThenReleasesThemInOrder) {
  Harness h(Uniform(100, 100), 3);
  h.network().Clog(1, 10'000);
  EXPECT_TRUE(h.network().Clogged(1));
  EXPECT_EQ(h.network().DescribeFaults(), "clog=1@10000us");
  for (int i = 0; i < 5; ++i) {
    h.network().Send(0, 1, absl::StrCat(i));
    h.network().Send(1, 2, absl::StrCat(i));  // from the clogged node too
    h.network().Send(0, 2, "free");
    h.RunUntil(h.now_us() + 1'000);
  }
  h.RunUntil(9'999);
  EXPECT_TRUE(h.Payloads(0, 1).empty());
  EXPECT_TRUE(h.Payloads(1, 2).empty());
  EXPECT_EQ(h.Payloads(0, 2).size(), 5U);  // other links unaffected
  h.network().Send(0, 1, "5");             // due after the clog: waits
  h.RunUntil(10'000);
  EXPECT_EQ(h.Payloads(0, 1), Numbered(5));
  EXPECT_EQ(h.Payloads(1, 2), Numbered(5));
  h.RunAll();
  EXPECT_EQ(h.Payloads(0, 1), Numbered(6));
  EXPECT_EQ(h.network().stats().clogged, 10U);
  EXPECT_EQ(h.network().stats().dropped_total(), 0U);
  for (const Delivery& d : h.log()) {
    if (d.payload != "free" && d.payload != "5") {
      EXPECT_EQ(d.time_us, 10'000U);
    }
  }
}

TEST(SimNetworkTest, AMessageDueAsTheClogEndsWaitsBehindTheHeldOnes) {
  Harness h(Uniform(100, 100), 2);
  h.network().Clog(1, 1'000);
  h.network().Send(0, 1, "held first");  // due at 100: held
  h.RunUntil(50);
  LatencyOptions slow;
  slow.min_us = 950;
  slow.max_us = 950;
  h.network().SetLinkLatency(0, 1, slow);
  // Due at 1000, scheduled before the release event (pushed at 100): its
  // event runs first at 1000, when the clog is already over.
  h.network().Send(0, 1, "second");
  h.RunAll();
  EXPECT_EQ(h.Payloads(0, 1),
            (std::vector<std::string>{"held first", "second"}));
}

TEST(SimNetworkTest, HealAndShorterClogReleaseEarly) {
  Harness h(Uniform(100, 100), 3);
  h.network().Clog(1, 50'000);
  h.network().Send(0, 1, "a");
  h.RunUntil(1'000);
  h.network().Clog(1, 2'000);  // shortened
  h.RunUntil(2'000);
  ASSERT_EQ(h.log().size(), 1U);
  EXPECT_EQ(h.log()[0].time_us, 2'000U);

  h.network().Clog(2, 80'000);
  h.network().Send(0, 2, "b");
  h.RunUntil(3'000);
  h.network().Heal();
  h.RunUntil(3'000);
  ASSERT_EQ(h.log().size(), 2U);
  EXPECT_EQ(h.log()[1], (Delivery{3'000, 0, 2, "b"}));
  h.RunAll();  // stale release events are harmless
  EXPECT_EQ(h.log().size(), 2U);
}

TEST(SimNetworkTest, HeldMessagesOnACutLinkAreDroppedAtRelease) {
  Harness h(Uniform(100, 100), 3);
  h.network().Clog(1, 5'000);
  h.network().Send(0, 1, "a");
  h.network().Send(2, 1, "b");
  h.RunUntil(1'000);
  h.network().PartitionOneWay(0, 1);
  h.RunAll();
  ASSERT_EQ(h.log().size(), 1U);
  EXPECT_EQ(h.log()[0], (Delivery{5'000, 2, 1, "b"}));
  EXPECT_EQ(h.network().stats().dropped_by(DropReason::kPartition), 1U);
}

TEST(SimNetworkTest, CrashDropsMessagesInFlightToTheNode) {
  Harness h(Uniform(1'000, 1'000), 3);
  h.network().Send(1, 0, "from the crashed node");
  h.network().Send(0, 2, "elsewhere");
  h.network().Clog(1, 100'000);
  h.network().Send(2, 1, "held");
  h.RunUntil(1'200);
  h.network().Send(0, 1, "scheduled");
  h.RunUntil(1'500);
  h.network().DropInFlightTo(1);
  EXPECT_EQ(h.network().link_in_flight_messages(2, 1), 0U);
  h.RunAll();
  std::vector<std::string> got;
  for (const Delivery& d : h.log()) got.push_back(d.payload);
  // 1 -> 0 was held by the clog (either end clogged), and is released.
  EXPECT_EQ(got,
            (std::vector<std::string>{"elsewhere", "from the crashed node"}));
  EXPECT_EQ(h.network().stats().dropped_by(DropReason::kCrashed), 2U);
  EXPECT_EQ(h.network().stats().crash_drops, 1U);
}

TEST(SimNetworkTest, CrashedNodeReceivesNothingUntilUp) {
  Harness h(Uniform(10, 10), 3);
  h.network().Send(0, 1, "before");
  h.network().SetNodeCrashed(1, true);
  EXPECT_EQ(h.network().Send(2, 1, "while down"), SendResult::kDroppedCrashed);
  EXPECT_EQ(h.network().DescribeFaults(), "crashed=1");
  h.RunAll();
  EXPECT_TRUE(h.log().empty());
  h.network().SetNodeCrashed(1, false);
  EXPECT_EQ(h.network().Send(2, 1, "after"), SendResult::kInFlight);
  h.RunAll();
  ASSERT_EQ(h.log().size(), 1U);
  EXPECT_EQ(h.log()[0].payload, "after");
  EXPECT_EQ(h.network().stats().dropped_by(DropReason::kCrashed), 2U);
}

TEST(SimNetworkTest, DeliveryCallbackMaySendAgain) {
  SimClock clock;
  EventQueue events(&clock);
  SimNetwork network(&events, Rng(5), Uniform(10, 20), 2);
  int hops = 0;
  network.set_deliver([&](int from, int to, Payload payload) {
    if (++hops < 100) network.Send(to, from, std::move(payload));
  });
  network.Send(0, 1, "ball");
  while (events.RunNext()) {
  }
  EXPECT_EQ(hops, 100);
  network.CheckInvariants();
}

// A random workload with faults, from `seed`: every kind of call the
// simulator makes, mixed. Returns the delivery log.
std::vector<Delivery> RunWorkload(uint64_t seed, NetworkStats* stats) {
  Rng setup(seed);
  const int nodes = static_cast<int>(setup.Range(2, 7));
  NetworkOptions options = NetworkOptions::Draw(setup, nodes);
  options.message_bytes_max = 1 << 20;  // keep memory small
  options.link_queue_bytes_max = 1 << 20;
  Harness h(options, nodes, setup.Next());
  Rng workload = setup.Fork();
  for (int step = 0; step < 3'000; ++step) {
    const uint64_t roll = workload.Uniform(100);
    const int a = static_cast<int>(workload.Uniform(nodes));
    const int b = static_cast<int>((a + 1 + workload.Uniform(nodes - 1)) %
                                   static_cast<uint64_t>(nodes));
    if (roll < 80) {
      h.network().Send(
          a, b, std::string(workload.Uniform(64), 'p') + absl::StrCat(step));
    } else if (roll < 83) {
      h.network().PartitionRandomHalves(workload);
    } else if (roll < 85) {
      h.network().PartitionOneWay(a, b);
    } else if (roll < 88) {
      h.network().Clog(a, h.now_us() + workload.Uniform(20'000));
    } else if (roll < 89) {
      h.network().DropInFlightTo(a);
    } else if (roll < 93) {
      h.network().Heal();
    } else {
      h.RunUntil(h.now_us() + workload.Uniform(5'000));
    }
  }
  h.network().Heal();
  h.RunAll();
  *stats = h.network().stats();
  EXPECT_EQ(stats->delivered, h.log().size());
  EXPECT_EQ(h.network().in_flight_messages(), 0U);
  return h.log();
}

TEST(SimNetworkTest, TheSameSeedGivesTheSameDeliveries) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    NetworkStats first_stats;
    NetworkStats second_stats;
    const std::vector<Delivery> first = RunWorkload(seed, &first_stats);
    const std::vector<Delivery> second = RunWorkload(seed, &second_stats);
    ASSERT_FALSE(first.empty());
    EXPECT_TRUE(first == second) << "seed " << seed;
    EXPECT_EQ(first_stats.Describe(), second_stats.Describe());
    NetworkStats other_stats;
    EXPECT_FALSE(first == RunWorkload(seed + 1000, &other_stats));
  }
}

TEST(SimNetworkTest, StatsAddUp) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    NetworkStats stats;
    const std::vector<Delivery> log = RunWorkload(seed, &stats);
    EXPECT_EQ(stats.sent + stats.duplicated,
              stats.delivered + stats.dropped_total())
        << stats.Describe();
    EXPECT_EQ(stats.delivered, log.size());
  }
}

TEST(SimNetworkTest, StatsDescribeNamesEveryCounter) {
  Harness h(Uniform(10, 10), 3);
  h.network().Send(0, 1, "x");
  h.RunAll();
  const std::string line = h.network().stats().Describe();
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_NE(line.find("sent=1 delivered=1"), std::string::npos) << line;
  EXPECT_NE(line.find("queue_full=0"), std::string::npos) << line;
  EXPECT_NE(line.find("crash_drops=0"), std::string::npos) << line;
}

}  // namespace
}  // namespace raftstore::sim
