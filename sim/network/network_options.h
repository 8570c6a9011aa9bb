// The knobs of the simulated network, drawn per seed (swarm testing).
//
// Swarm testing (Groce et al., "Swarm Testing", ISSTA 2012) runs each seed
// with its own random subset of features switched on: one seed has a lossy
// network with no reordering, the next a fast FIFO network with duplicates
// and a slow node. NetworkOptions::Draw picks such a set from the run's Rng;
// Describe prints it on one line for the trace, so a failing seed says what
// kind of network it ran on.
//
// Probabilities are integers per million and latencies integer microseconds:
// no floating point reaches a draw, so a seed replays bit for bit on every
// machine (core/base/rng.h).
//
// Thread-safety: plain values; an Rng passed in belongs to the caller.
#ifndef RAFTSTORE_SIM_NETWORK_NETWORK_OPTIONS_H_
#define RAFTSTORE_SIM_NETWORK_NETWORK_OPTIONS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "core/base/rng.h"

namespace raftstore::sim {

// Nodes are 0..node_count-1 with node_count <= kNodesMax: the network keeps
// per-link state in node_count^2 slots, and no cluster we simulate is larger.
inline constexpr int kNodesMax = 16;

// The largest latency, spike or jitter accepted (one hour): far beyond any
// timeout, and small enough that sums of a few never overflow.
inline constexpr uint64_t kLatencyUsMax = 3'600'000'000ULL;

// The largest in_flight_messages_max accepted: slot indexes are 32-bit.
inline constexpr uint32_t kInFlightMessagesLimit = 1U << 22;

// The largest message_bytes_max accepted (4 GiB): keeps size arithmetic
// (bytes * 10^6 / bandwidth) far from overflow.
inline constexpr uint64_t kMessageBytesLimit = 1ULL << 32;

inline constexpr uint32_t kPerMillion = 1'000'000;

enum class LatencyShape : uint8_t {
  // Uniform in [min_us, max_us].
  kUniform,
  // min_us plus a long-tailed (geometric, roughly exponential) extra whose
  // mean is mean_us - min_us, capped at max_us: most messages are fast, a few
  // take much longer.
  kExponentialTail,
};

// How long one message takes on one link, before bandwidth, reorder jitter
// and clogs are added.
struct LatencyOptions {
  LatencyShape shape = LatencyShape::kUniform;
  uint64_t min_us = 100;
  // Used by kExponentialTail only; min_us <= mean_us <= max_us.
  uint64_t mean_us = 500;
  uint64_t max_us = 1'000;
  // Occasional long delay, on top of (and beyond) max_us: with this chance a
  // message also waits Range(spike_us_min, spike_us_max). Models a stalled
  // router or a retransmission after a lost TCP segment.
  uint32_t spike_per_million = 0;
  uint64_t spike_us_min = 0;
  uint64_t spike_us_max = 0;
};

// One link whose latency differs from NetworkOptions::latency (a slow or
// distant node). Directed: from -> to.
struct LinkLatency {
  int from = 0;
  int to = 0;
  LatencyOptions latency;
};

struct NetworkOptions {
  // Every link's latency unless overridden in link_latency.
  LatencyOptions latency;
  // Later entries win when two name the same link.
  std::vector<LinkLatency> link_latency;

  // Chance that a message is lost (decided at send time).
  uint32_t drop_per_million = 0;
  // Chance that a second copy of a message is put in flight, with its own
  // latency draw.
  uint32_t duplicate_per_million = 0;

  // Off: each link is FIFO (a message is never delivered before one sent
  // earlier on the same link). On: no FIFO clamp, plus an extra
  // Uniform[0, reorder_jitter_us_max] per message, so later messages can
  // overtake earlier ones.
  bool reorder = false;
  uint64_t reorder_jitter_us_max = 0;

  // Bigger messages are dropped at send time and counted (kSizeCap).
  uint64_t message_bytes_max = 64ULL << 20;
  // Bounds on what one directed link holds in flight (scheduled or held by a
  // clog). Past either, a message is dropped and counted (kQueueFull), as a
  // full socket buffer would refuse it. link_queue_bytes_max must be at least
  // message_bytes_max, or a maximal message could never be sent.
  uint32_t link_queue_messages_max = 1024;
  uint64_t link_queue_bytes_max = 64ULL << 20;
  // Bound on all messages in flight in the network; past it, kQueueFull.
  uint32_t in_flight_messages_max = 1U << 16;

  // Per-link bandwidth in bytes per second; 0 means unlimited. A message
  // first waits for the link to finish sending the ones before it, then
  // takes size / bandwidth to serialise, then its latency.
  uint64_t link_bytes_per_second = 0;

  // kInvalidArgument naming the first bad field, else OK. Requires nothing.
  absl::Status Validate(int node_count) const;

  // One line for the trace, e.g. "latency=uniform[100,1000]us drop=0ppm ...".
  std::string Describe() const;

  // A varied but sane set of options for one seed: each feature (drops,
  // duplicates, reordering, latency spikes, bandwidth, a slow node) is on
  // for some seeds and off for others. Always passes Validate(node_count).
  // Requires 1 <= node_count <= kNodesMax.
  static NetworkOptions Draw(Rng& rng, int node_count);
};

// kInvalidArgument naming `field` (e.g. "latency" or "link_latency[2]") and
// the bad value, else OK.
absl::Status ValidateLatency(const LatencyOptions& latency,
                             const std::string& field);

// Draws one message's latency from `latency` (base plus any spike). Draws
// the same count of values for every call with the same options, whatever
// the outcome, so a run's stream never depends on which branch was taken.
// Requires ValidateLatency(latency).ok().
uint64_t DrawLatencyUs(const LatencyOptions& latency, Rng& rng);

// "uniform[100,1000]us" or "exptail[100,300,5000]us", plus
// " spike=20ppm[10000,50000]us" when spikes are on.
std::string DescribeLatency(const LatencyOptions& latency);

}  // namespace raftstore::sim

#endif  // RAFTSTORE_SIM_NETWORK_NETWORK_OPTIONS_H_
