// SimNetwork: the simulator's network, with faults, over the EventQueue.
//
// Nodes are small integers 0..node_count-1 (node_count <= kNodesMax) and
// payloads are opaque (bytes, or an object with its encoded size: see
// sim/network/payload.h), so the network knows nothing of message types.
// Send decides, from the network's own Rng, whether a message is dropped or
// duplicated and how long each copy takes, and schedules one delivery event
// per copy on the EventQueue. A delivery reaches a node only through the
// callback given to set_deliver.
//
// Faults are explicit calls made by the simulator's fault scheduler at times
// it chooses: symmetric partitions (Partition, IsolateNode, the majority/
// minority and random-halves helpers), one-way partitions, links set down,
// clogs, and Heal. What happens to messages already in flight:
//
// - A link that is cut (partition, one-way partition, or link down) when a
//   message is sent drops it at once. A message already in flight on a link
//   that is cut when it arrives is dropped then (kPartition); one whose
//   partition healed before it arrived is delivered, like a packet that sat
//   in a router buffer through a short outage.
// - A clog holds, never drops: a message due while either end is clogged
//   waits on its link and is delivered when the clog ends, in the order the
//   held messages became due (TigerBeetle's "clog"). A message that becomes
//   due while earlier ones are still held waits behind them. A held message
//   whose link is cut at release is dropped (kPartition).
// - A crash: DropInFlightTo(node) drops every message to it, scheduled or
//   held (kCrashed), as a restarted process has lost its sockets;
//   SetNodeCrashed additionally drops everything sent to the node while it
//   is down.
//
// Determinism: no hash containers; per-link state lives in a vector indexed
// by from * node_count + to. Every Send draws the same count of values in
// the same order whatever its outcome (drop, duplicate, latency and jitter
// of both copies), so the same seed and the same calls give the same
// deliveries, and changing the fault schedule does not shift the random
// stream of unrelated messages.
//
// Bounds: link_queue_messages_max and link_queue_bytes_max per directed
// link, in_flight_messages_max over the network (messages past them are
// dropped and counted), kNodesMax nodes. Each in-flight message holds one
// EventQueue event; clogs add at most one pending release event per link per
// fault call.
//
// Cost: a Send is about a dozen Rng draws, a slot from a free list and one
// EventQueue push; send plus delivery measured about 140 ns per message
// beyond a bare event push and run, with every feature on or off
// (sim_network_benchmark: 283-290 ns against 147 ns, 1000 in flight).
//
// Lifetime: scheduled events point at the network, so the network must
// outlive every run of the EventQueue that may reach them.
//
// Thread-safety: none; the simulator is single-threaded by design.
#ifndef RAFTSTORE_SIM_NETWORK_SIM_NETWORK_H_
#define RAFTSTORE_SIM_NETWORK_SIM_NETWORK_H_

#include <array>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/strings/string_view.h"
#include "core/base/rng.h"
#include "sim/event_queue.h"
#include "sim/network/network_options.h"
#include "sim/network/payload.h"

namespace raftstore::sim {

// Why a message was not delivered.
enum class DropReason : uint8_t {
  kRandom,     // drop_per_million
  kPartition,  // link cut at send or at arrival
  kQueueFull,  // a link queue bound or in_flight_messages_max
  kSizeCap,    // payload larger than message_bytes_max
  kCrashed,    // DropInFlightTo / SetNodeCrashed
};
inline constexpr int kDropReasonCount = 5;

// "random", "partition", "queue_full", "size_cap", "crashed".
absl::string_view DropReasonName(DropReason reason);

// What Send did with a message (the sender in a real network would not know;
// the simulator's trace may want to).
enum class SendResult : uint8_t {
  kInFlight,    // one copy scheduled
  kDuplicated,  // two copies scheduled
  kDroppedRandom,
  kDroppedPartition,
  kDroppedQueueFull,
  kDroppedSizeCap,
  kDroppedCrashed,  // sent to a node marked crashed
};

struct NetworkStats {
  uint64_t sent = 0;        // Send calls
  uint64_t duplicated = 0;  // extra copies made (each also ends delivered or
                            // dropped)
  uint64_t delivered = 0;   // copies handed to the deliver callback
  std::array<uint64_t, kDropReasonCount> dropped{};  // by DropReason
  // Copies delivered after a later-sent message on the same link had already
  // been delivered (i.e. overtaken).
  uint64_t reordered = 0;
  uint64_t clogged = 0;  // copies held by a clog at least once

  // Fault calls, for the summary.
  uint64_t partitions = 0;  // Partition and its helpers
  uint64_t one_way_partitions = 0;
  uint64_t links_set_down = 0;
  uint64_t clogs = 0;
  uint64_t heals = 0;
  uint64_t crash_drops = 0;  // DropInFlightTo/From and SetNodeCrashed(true)

  uint64_t dropped_by(DropReason reason) const {
    return dropped[static_cast<int>(reason)];
  }
  uint64_t dropped_total() const;
  // One line: "sent=... delivered=... dropped=N(random=...,...) ...".
  std::string Describe() const;
};

class SimNetwork : private EventQueue::Handler {
 public:
  // Called once per delivered copy, at its delivery time (events->now_us()).
  // May call back into the network (Send, faults) freely.
  using DeliverFn = absl::AnyInvocable<void(int from, int to, Payload&&)>;

  // `events` must outlive the network. `rng` is the network's own stream
  // (typically the run's Rng::Fork()). Requires
  // options.Validate(node_count).ok() (checked: a bad option set is a harness
  // bug).
  SimNetwork(EventQueue* events, Rng rng, NetworkOptions options,
             int node_count);

  SimNetwork(const SimNetwork&) = delete;
  SimNetwork& operator=(const SimNetwork&) = delete;

  // Must be set before the first delivery event runs (checked then).
  void set_deliver(DeliverFn deliver) { deliver_ = std::move(deliver); }

  // Sends `payload` from `from` to `to`. Requires both in range, from != to,
  // and `from` not marked crashed (a crashed node sends nothing). Never
  // fails: a message that cannot go is dropped, counted, and said so in the
  // result. Checks, in order: size cap, crashed destination, cut link, random
  // drop, link and network bounds.
  SendResult Send(int from, int to, Payload&& payload);

  // ---- Faults (each counted in stats(); DescribeFaults shows the state).

  // Symmetric partition: messages pass only between nodes of the same group.
  // Each node may appear in at most one group; a node in no group is alone.
  // Replaces any earlier symmetric partition; one-way cuts, links down and
  // clogs stay.
  void Partition(const std::vector<std::vector<int>>& groups);
  // {node} against everyone else.
  void IsolateNode(int node);
  // A random minority of 1..(n-1)/2 nodes (1 when n < 3) against the rest.
  // Requires node_count >= 2. Returns {minority, majority}, each sorted.
  std::vector<std::vector<int>> PartitionMajorityMinority(Rng& rng);
  // A random split into halves of n/2 and n - n/2 nodes. Requires
  // node_count >= 2. Returns both groups, each sorted.
  std::vector<std::vector<int>> PartitionRandomHalves(Rng& rng);
  // Blocks from -> to only; to -> from still works. Until Heal.
  void PartitionOneWay(int from, int to);
  // Sets the directed link from -> to down or up again. Independent of the
  // partitions: SetLinkDown(a, b, false) does not undo PartitionOneWay(a, b).
  void SetLinkDown(int from, int to, bool down);
  // Holds every message to or from `node` that becomes due before until_us;
  // they are delivered at until_us in order. A later Clog of the same node
  // replaces the end time (an earlier end releases sooner; until_us <= now
  // unclogs).
  void Clog(int node, uint64_t until_us);
  // Removes every partition, one-way cut, link down and clog; held messages
  // are released now. Crashed marks stay (they are the simulator's, not
  // network faults).
  void Heal();
  // Changes the random drop and duplicate rates from now on (the
  // simulator's liveness phase turns the noise off). Requires both <=
  // kPerMillion.
  void SetNoise(uint32_t drop_per_million, uint32_t duplicate_per_million);

  // Changes one directed link's latency from now on (in-flight messages
  // keep theirs). Requires ValidateLatency(latency).ok().
  void SetLinkLatency(int from, int to, const LatencyOptions& latency);

  // ---- Crashes.

  // Drops every message in flight to `node`, scheduled or held (kCrashed).
  // The simulator calls it when the node crashes.
  void DropInFlightTo(int node);
  // Same for messages from `node` (a crash that also loses the kernel's send
  // buffers); optional.
  void DropInFlightFrom(int node);
  // While crashed, everything in flight to `node` is dropped and so is every
  // later Send to it (kCrashed); marking it crashed drops what is in flight
  // (DropInFlightTo). Marking it up again only clears the mark.
  void SetNodeCrashed(int node, bool crashed);

  // ---- Queries.

  int node_count() const { return node_count_; }
  const NetworkOptions& options() const { return options_; }
  const NetworkStats& stats() const { return stats_; }
  // Whether a message from -> to would be dropped as partitioned now.
  bool LinkCut(int from, int to) const;
  // Whether messages to or from `node` are held now.
  bool Clogged(int node) const;
  // Copies scheduled or held, over the network and on one link.
  uint32_t in_flight_messages() const;
  uint32_t link_in_flight_messages(int from, int to) const;
  uint64_t link_in_flight_bytes(int from, int to) const;
  // The fault state on one line: "none", or e.g.
  // "partition={0,1}|{2,3,4} one_way=1->2 down=3->0 clog=2@5000us".
  std::string DescribeFaults() const;

  // Crashes with a message if the bookkeeping disagrees: per-link counts sum
  // to the slots in use, and sent + duplicated == delivered + dropped +
  // in flight. Cost: O(node_count^2 + in_flight_messages_max).
  void CheckInvariants() const;

 private:
  enum class SlotState : uint8_t { kFree, kScheduled, kHeld };

  // One copy in flight. Slots are reused through a free list so that the
  // delivery event is a handler event carrying only (slot, generation)
  // (RunEvent): a Send allocates nothing once warm.
  struct Slot {
    Payload payload;
    uint64_t bytes = 0;
    uint64_t sequence = 0;  // per link, shared by a message's two copies
    uint32_t generation = 0;
    uint8_t from = 0;
    uint8_t to = 0;
    SlotState state = SlotState::kFree;
  };

  struct Link {
    LatencyOptions latency;
    uint64_t last_due_us = 0;    // FIFO clamp when reorder is off
    uint64_t free_at_us = 0;     // bandwidth: when the link is idle again
    uint64_t sent_sequence = 0;  // last sequence given out
    uint64_t delivered_sequence_max = 0;
    uint32_t in_flight_messages = 0;
    uint64_t in_flight_bytes = 0;
    bool one_way_cut = false;
    bool down = false;
    std::deque<uint32_t> held;  // slots held by a clog, in due order
    uint32_t release_generation = 0;
  };

  // The random values one Send uses, all drawn up front.
  struct SendDraws {
    bool drop;
    bool duplicate;
    uint64_t delay_us[2];
  };

  Link& link(int from, int to) { return links_[from * node_count_ + to]; }
  const Link& link(int from, int to) const {
    return links_[from * node_count_ + to];
  }
  void CheckNode(int node) const;
  SendDraws Draw(const Link& link);
  // Puts one copy in flight; false when a bound refuses it.
  bool Enqueue(int from, int to, uint64_t sequence, Payload&& payload,
               uint64_t delay_us);
  uint64_t DueTime(Link& link, uint64_t bytes, uint64_t delay_us);
  // A copy's delivery event (EventQueue::Handler): arg is the slot in the
  // low 32 bits and its generation in the high 32.
  void RunEvent(uint64_t arg) override;
  void OnDue(uint32_t slot, uint32_t generation);
  void Hold(uint32_t slot);
  // Schedules (or moves) the release of a link's held messages to the end
  // of its clog, or now if the clog is over.
  void ScheduleRelease(int link_index);
  void OnRelease(int link_index, uint32_t generation);
  void Deliver(uint32_t slot);
  void DropSlot(uint32_t slot, DropReason reason);
  void FreeSlot(uint32_t slot);
  // The time until which link from -> to is clogged (0 when not).
  uint64_t ClogEndUs(int from, int to) const;
  void ReleaseHeldOnLinksOf(int node);  // node -1: every link
  void DropInFlight(int node, bool to_node);

  EventQueue* events_;
  Rng rng_;
  NetworkOptions options_;
  int node_count_;
  DeliverFn deliver_;
  NetworkStats stats_;

  std::vector<Link> links_;  // node_count^2, from * node_count + to
  std::vector<Slot> slots_;  // grows up to in_flight_messages_max
  std::vector<uint32_t> free_slots_;

  // Symmetric partition: group id per node, or empty when none is active.
  std::vector<int> partition_group_;
  std::vector<uint64_t> clog_until_us_;  // per node; 0 = not clogged
  std::vector<bool> crashed_;            // per node
};

}  // namespace raftstore::sim

#endif  // RAFTSTORE_SIM_NETWORK_SIM_NETWORK_H_
