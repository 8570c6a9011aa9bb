#include "sim/fault_schedule.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "core/base/rng.h"
#include "gtest/gtest.h"

namespace raftstore::sim {
namespace {

FaultRates Busy() {
  FaultRates rates;
  rates.crash_per_s = 2;
  rates.pause_per_s = 1;
  rates.partition_per_s = 1;
  rates.clog_per_s = 1;
  rates.slow_disk_per_s = 1;
  rates.disk_full_per_s = 1;
  rates.restart_delay_us_min = 1000;
  rates.restart_delay_us_max = 500000;
  rates.fault_duration_us_min = 1000;
  rates.fault_duration_us_max = 900000;
  return rates;
}

TEST(FaultScheduleTest, GeneratedEventsAreSortedAndUseValidNodes) {
  Rng rng(7);
  const auto events = GenerateFaults(Busy(), 5, 20'000'000, rng);
  ASSERT_GT(events.size(), 50U);
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_GE(events[i].node, 0);
    EXPECT_LE(events[i].node, 5);
    if (i > 0) {
      EXPECT_LE(events[i - 1].at_us, events[i].at_us);
    }
  }
}

TEST(FaultScheduleTest, SameSeedSameSchedule) {
  Rng a(42);
  Rng b(42);
  EXPECT_EQ(GenerateFaults(Busy(), 3, 5'000'000, a),
            GenerateFaults(Busy(), 3, 5'000'000, b));
}

TEST(FaultScheduleTest, ZeroRatesGiveNoFaults) {
  Rng rng(1);
  EXPECT_TRUE(GenerateFaults(FaultRates{}, 3, 5'000'000, rng).empty());
}

TEST(FaultScheduleTest, FormatThenParseRoundTrips) {
  Rng rng(3);
  const auto events = GenerateFaults(Busy(), 7, 10'000'000, rng);
  const auto parsed = ParseFaults(FormatFaults(events), 7);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, events);
}

TEST(FaultScheduleTest, ParsesTheDocumentedExample) {
  const auto parsed =
      ParseFaults("1200000:crash:2,1700000:restart:2,2500000:partition:0:5", 3);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_EQ(parsed->size(), 3U);
  EXPECT_EQ((*parsed)[0], (FaultEvent{1200000, FaultKind::kCrash, 2, 0}));
  EXPECT_EQ((*parsed)[2], (FaultEvent{2500000, FaultKind::kPartition, 0, 5}));
  EXPECT_EQ(DescribeFault((*parsed)[0]), "t=1.200000s crash n2");
}

TEST(FaultScheduleTest, BadEventsAreRejectedWithTheEventNamed) {
  for (const char* bad : {"x:crash:1", "10:explode:1", "10:crash:9", "10:crash",
                          "10", "20:crash:1,10:crash:2", "10:crash:1:2:3"}) {
    const auto parsed = ParseFaults(bad, 3);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(parsed.status().message().find("--faults event"),
              std::string::npos);
  }
}

}  // namespace
}  // namespace raftstore::sim
