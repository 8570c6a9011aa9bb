#include "sim/network/network_options.h"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "core/base/rng.h"
#include "sim/network/fast_draws.h"

namespace raftstore::sim {
namespace {

absl::Status Invalid(const std::string& field, const std::string& what) {
  return absl::InvalidArgumentError(
      absl::StrCat("network options: ", field, ": ", what));
}

// Draws the latency options of one link class: a base in [10us, 500us], a
// spread up to 20ms, one of the two shapes, and sometimes spikes.
LatencyOptions DrawLatency(Rng& rng) {
  LatencyOptions latency;
  latency.shape = rng.Chance(1, 2) ? LatencyShape::kUniform
                                   : LatencyShape::kExponentialTail;
  latency.min_us = rng.Range(10, 500);
  latency.max_us = latency.min_us + rng.Range(100, 20'000);
  // For the tail shape the mean sits well below the cap, so the tail shows.
  latency.mean_us =
      latency.min_us + (latency.max_us - latency.min_us) / rng.Range(3, 10);
  if (rng.Chance(1, 3)) {
    latency.spike_per_million = static_cast<uint32_t>(rng.Range(100, 20'000));
    latency.spike_us_min = rng.Range(5'000, 50'000);
    latency.spike_us_max = latency.spike_us_min + rng.Range(0, 200'000);
  }
  return latency;
}

// The same shape, every bound multiplied by `factor`: a distant node.
LatencyOptions Slower(LatencyOptions latency, uint64_t factor) {
  latency.min_us *= factor;
  latency.mean_us *= factor;
  latency.max_us *= factor;
  latency.spike_us_min *= factor;
  latency.spike_us_max *= factor;
  return latency;
}

}  // namespace

absl::Status ValidateLatency(const LatencyOptions& latency,
                             const std::string& field) {
  if (latency.shape != LatencyShape::kUniform &&
      latency.shape != LatencyShape::kExponentialTail) {
    return Invalid(
        field, absl::StrCat("unknown shape ", static_cast<int>(latency.shape)));
  }
  if (latency.min_us > latency.max_us || latency.max_us > kLatencyUsMax) {
    return Invalid(field, absl::StrCat("need min_us <= max_us <= ",
                                       kLatencyUsMax, ", got [", latency.min_us,
                                       ", ", latency.max_us, "]"));
  }
  if (latency.shape == LatencyShape::kExponentialTail &&
      (latency.mean_us < latency.min_us || latency.mean_us > latency.max_us)) {
    return Invalid(field, absl::StrCat("mean_us ", latency.mean_us,
                                       " outside [min_us, max_us]"));
  }
  if (latency.spike_per_million > kPerMillion) {
    return Invalid(field, absl::StrCat("spike_per_million ",
                                       latency.spike_per_million, " > 1e6"));
  }
  if (latency.spike_us_min > latency.spike_us_max ||
      latency.spike_us_max > kLatencyUsMax) {
    return Invalid(field,
                   absl::StrCat("need spike_us_min <= spike_us_max <= ",
                                kLatencyUsMax, ", got [", latency.spike_us_min,
                                ", ", latency.spike_us_max, "]"));
  }
  return absl::OkStatus();
}

absl::Status NetworkOptions::Validate(int node_count) const {
  if (node_count < 1 || node_count > kNodesMax) {
    return Invalid("node_count",
                   absl::StrCat(node_count, " outside [1, ", kNodesMax, "]"));
  }
  if (absl::Status status = ValidateLatency(latency, "latency"); !status.ok()) {
    return status;
  }
  for (size_t i = 0; i < link_latency.size(); ++i) {
    const LinkLatency& link = link_latency[i];
    const std::string field = absl::StrCat("link_latency[", i, "]");
    if (link.from < 0 || link.from >= node_count || link.to < 0 ||
        link.to >= node_count || link.from == link.to) {
      return Invalid(field, absl::StrCat("bad link ", link.from, "->", link.to,
                                         " for ", node_count, " nodes"));
    }
    if (absl::Status status = ValidateLatency(link.latency, field);
        !status.ok()) {
      return status;
    }
  }
  if (drop_per_million > kPerMillion || duplicate_per_million > kPerMillion) {
    return Invalid("drop_per_million/duplicate_per_million", "above 1e6");
  }
  if (reorder_jitter_us_max > kLatencyUsMax) {
    return Invalid("reorder_jitter_us_max",
                   absl::StrCat(reorder_jitter_us_max, " > ", kLatencyUsMax));
  }
  if (message_bytes_max == 0 || link_queue_messages_max == 0 ||
      in_flight_messages_max == 0) {
    return Invalid(
        "message_bytes_max/link_queue_messages_max/"
        "in_flight_messages_max",
        "must be positive");
  }
  if (message_bytes_max > kMessageBytesLimit) {
    return Invalid("message_bytes_max",
                   absl::StrCat(message_bytes_max, " > ", kMessageBytesLimit));
  }
  if (link_queue_bytes_max < message_bytes_max) {
    return Invalid("link_queue_bytes_max",
                   absl::StrCat(link_queue_bytes_max, " < message_bytes_max ",
                                message_bytes_max));
  }
  if (in_flight_messages_max > kInFlightMessagesLimit) {
    return Invalid(
        "in_flight_messages_max",
        absl::StrCat(in_flight_messages_max, " > ", kInFlightMessagesLimit));
  }
  return absl::OkStatus();
}

std::string DescribeLatency(const LatencyOptions& latency) {
  std::string out =
      latency.shape == LatencyShape::kUniform
          ? absl::StrCat("uniform[", latency.min_us, ",", latency.max_us, "]us")
          : absl::StrCat("exptail[", latency.min_us, ",", latency.mean_us, ",",
                         latency.max_us, "]us");
  if (latency.spike_per_million > 0) {
    absl::StrAppend(&out, " spike=", latency.spike_per_million, "ppm[",
                    latency.spike_us_min, ",", latency.spike_us_max, "]us");
  }
  return out;
}

std::string NetworkOptions::Describe() const {
  std::string out = absl::StrCat(
      "latency=", DescribeLatency(latency), " drop=", drop_per_million,
      "ppm dup=", duplicate_per_million, "ppm reorder=",
      reorder ? absl::StrCat("on(jitter<=", reorder_jitter_us_max, "us)")
              : std::string("off"),
      " msg_max=", message_bytes_max, "B queue_max=", link_queue_messages_max,
      "msg/", link_queue_bytes_max, "B in_flight_max=", in_flight_messages_max,
      " bw=",
      link_bytes_per_second == 0 ? std::string("unlimited")
                                 : absl::StrCat(link_bytes_per_second, "B/s"));
  if (!link_latency.empty()) {
    absl::StrAppend(&out, " slow_links=", link_latency.size(), "(",
                    link_latency.front().from, "->", link_latency.front().to,
                    " ", DescribeLatency(link_latency.front().latency), ")");
  }
  return out;
}

NetworkOptions NetworkOptions::Draw(Rng& rng, int node_count) {
  RS_CHECK(node_count >= 1 && node_count <= kNodesMax)
      << "node_count=" << node_count;
  NetworkOptions options;
  options.latency = DrawLatency(rng);
  // Each feature is on for some seeds only (swarm testing). Losses stay at or
  // below 10% mostly, with an occasional very lossy seed.
  if (rng.Chance(1, 2)) {
    options.drop_per_million = static_cast<uint32_t>(
        rng.Chance(1, 8) ? rng.Range(100'000, 300'000) : rng.Range(1, 100'000));
  }
  if (rng.Chance(1, 2)) {
    options.duplicate_per_million = static_cast<uint32_t>(rng.Range(1, 50'000));
  }
  options.reorder = rng.Chance(1, 2);
  if (options.reorder) {
    options.reorder_jitter_us_max = rng.Range(0, 2 * options.latency.max_us);
  }
  constexpr uint64_t kMiB = 1ULL << 20;
  options.message_bytes_max = kMiB << (2 * rng.Range(1, 3));  // 4, 16, 64 MiB
  options.link_queue_messages_max = static_cast<uint32_t>(rng.Range(64, 4096));
  options.link_queue_bytes_max = options.message_bytes_max * rng.Range(1, 4);
  if (rng.Chance(1, 4)) {
    options.link_bytes_per_second = rng.Range(1'000'000, 1'000'000'000);
  }
  // Sometimes one node is far away: every link to and from it is slower.
  if (node_count >= 2 && rng.Chance(1, 4)) {
    const int slow = static_cast<int>(rng.Uniform(node_count));
    const LatencyOptions slower = Slower(options.latency, rng.Range(2, 10));
    for (int other = 0; other < node_count; ++other) {
      if (other == slow) continue;
      options.link_latency.push_back({slow, other, slower});
      options.link_latency.push_back({other, slow, slower});
    }
  }
  RS_CHECK(options.Validate(node_count).ok())
      << options.Validate(node_count).ToString();
  return options;
}

uint64_t DrawLatencyUs(const LatencyOptions& latency, Rng& rng) {
  uint64_t base = 0;
  if (latency.shape == LatencyShape::kUniform) {
    base = FastRange(rng, latency.min_us, latency.max_us);
  } else {
    // A geometric count of whole steps (P(k) = 2^-(k+1), mean 1) plus a
    // uniform fraction of a step: mean 1.5 steps, so a step of two thirds of
    // (mean - min) puts the mean where asked. Integer only (no log()), so it
    // replays exactly everywhere.
    const uint64_t step =
        std::max<uint64_t>(1, 2 * (latency.mean_us - latency.min_us) / 3);
    const uint64_t whole_steps = std::countl_zero(rng.Next());
    const uint64_t extra = whole_steps * step + FastUniform(rng, step);
    base = std::min(latency.max_us, latency.min_us + extra);
  }
  // Always draw both, so the count of draws is fixed.
  const bool spike = FastChance(rng, latency.spike_per_million, kPerMillion);
  const uint64_t spike_us =
      FastRange(rng, latency.spike_us_min, latency.spike_us_max);
  return spike ? base + spike_us : base;
}

}  // namespace raftstore::sim
