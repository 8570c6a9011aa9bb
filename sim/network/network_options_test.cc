#include "sim/network/network_options.h"

#include <algorithm>
#include <cstdint>
#include <set>
#include <string>

#include "core/base/rng.h"
#include "gtest/gtest.h"

namespace raftstore::sim {
namespace {

TEST(NetworkOptionsTest, DefaultsAreValid) {
  EXPECT_TRUE(NetworkOptions().Validate(3).ok());
}

TEST(NetworkOptionsTest, ValidateNamesTheBadField) {
  NetworkOptions options;
  options.latency.min_us = 10;
  options.latency.max_us = 5;
  const absl::Status status = options.Validate(3);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("latency"), absl::string_view::npos)
      << status;

  options = NetworkOptions();
  options.link_queue_bytes_max = options.message_bytes_max - 1;
  EXPECT_NE(options.Validate(3).message().find("link_queue_bytes_max"),
            absl::string_view::npos);

  options = NetworkOptions();
  options.link_latency.push_back({0, 3, LatencyOptions()});
  EXPECT_NE(options.Validate(3).message().find("link_latency[0]"),
            absl::string_view::npos);

  options = NetworkOptions();
  options.drop_per_million = kPerMillion + 1;
  EXPECT_FALSE(options.Validate(3).ok());
  EXPECT_FALSE(NetworkOptions().Validate(kNodesMax + 1).ok());
  EXPECT_FALSE(NetworkOptions().Validate(0).ok());
}

TEST(NetworkOptionsTest, DrawIsValidVariedAndReplaysFromTheSeed) {
  std::set<std::string> descriptions;
  int reorder_on = 0;
  int drops_on = 0;
  int slow_node = 0;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    Rng rng(seed);
    const int nodes = static_cast<int>(1 + seed % kNodesMax);
    const NetworkOptions options = NetworkOptions::Draw(rng, nodes);
    ASSERT_TRUE(options.Validate(nodes).ok()) << options.Describe();
    Rng again(seed);
    EXPECT_EQ(NetworkOptions::Draw(again, nodes).Describe(),
              options.Describe());
    descriptions.insert(options.Describe());
    reorder_on += options.reorder ? 1 : 0;
    drops_on += options.drop_per_million > 0 ? 1 : 0;
    slow_node += options.link_latency.empty() ? 0 : 1;
  }
  EXPECT_EQ(descriptions.size(), 200U);
  // Each feature is on for some seeds and off for others (swarm testing).
  EXPECT_GT(reorder_on, 50);
  EXPECT_LT(reorder_on, 150);
  EXPECT_GT(drops_on, 50);
  EXPECT_LT(drops_on, 150);
  EXPECT_GT(slow_node, 10);
}

TEST(NetworkOptionsTest, DescribeIsOneLineWithTheKnobs) {
  NetworkOptions options;
  options.drop_per_million = 1234;
  options.reorder = true;
  options.reorder_jitter_us_max = 77;
  const std::string line = options.Describe();
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_NE(line.find("drop=1234ppm"), std::string::npos) << line;
  EXPECT_NE(line.find("reorder=on(jitter<=77us)"), std::string::npos) << line;
  EXPECT_NE(line.find("uniform[100,1000]us"), std::string::npos) << line;
}

TEST(NetworkOptionsTest, UniformLatencyStaysWithinBounds) {
  LatencyOptions latency;
  latency.min_us = 200;
  latency.max_us = 300;
  Rng rng(1);
  uint64_t low = UINT64_MAX;
  uint64_t high = 0;
  for (int i = 0; i < 10'000; ++i) {
    const uint64_t us = DrawLatencyUs(latency, rng);
    low = std::min(low, us);
    high = std::max(high, us);
  }
  EXPECT_EQ(low, 200U);
  EXPECT_EQ(high, 300U);
}

TEST(NetworkOptionsTest, ExponentialTailHasItsMeanAndACappedTail) {
  LatencyOptions latency;
  latency.shape = LatencyShape::kExponentialTail;
  latency.min_us = 100;
  latency.mean_us = 400;
  latency.max_us = 100'000;
  Rng rng(2);
  uint64_t sum = 0;
  uint64_t high = 0;
  int above_three_means = 0;
  constexpr int kDraws = 100'000;
  for (int i = 0; i < kDraws; ++i) {
    const uint64_t us = DrawLatencyUs(latency, rng);
    ASSERT_GE(us, latency.min_us);
    ASSERT_LE(us, latency.max_us);
    sum += us;
    high = std::max(high, us);
    if (us > 3 * latency.mean_us) ++above_three_means;
  }
  const uint64_t mean = sum / kDraws;
  EXPECT_GT(mean, 370U);
  EXPECT_LT(mean, 430U);
  EXPECT_GT(high, 2'000U);  // a long tail exists
  EXPECT_GT(above_three_means, 0);
  EXPECT_LT(above_three_means, kDraws / 10);
}

TEST(NetworkOptionsTest, SpikesAddALongDelaySometimes) {
  LatencyOptions latency;
  latency.min_us = 10;
  latency.max_us = 10;
  latency.spike_per_million = 100'000;  // 10%
  latency.spike_us_min = 50'000;
  latency.spike_us_max = 60'000;
  Rng rng(3);
  int spikes = 0;
  for (int i = 0; i < 10'000; ++i) {
    const uint64_t us = DrawLatencyUs(latency, rng);
    if (us == 10) continue;
    ASSERT_GE(us, 50'010U);
    ASSERT_LE(us, 60'010U);
    ++spikes;
  }
  EXPECT_GT(spikes, 800);
  EXPECT_LT(spikes, 1'200);
}

TEST(NetworkOptionsTest, LatencyDrawsAFixedCountOfValues) {
  // Two draws with spikes on and off leave the stream at the same place.
  LatencyOptions with_spike;
  with_spike.spike_per_million = kPerMillion;
  with_spike.spike_us_min = 5;
  with_spike.spike_us_max = 9;
  Rng a(7);
  Rng b(7);
  DrawLatencyUs(with_spike, a);
  DrawLatencyUs(LatencyOptions(), b);
  EXPECT_EQ(a.Next(), b.Next());
}

}  // namespace
}  // namespace raftstore::sim
