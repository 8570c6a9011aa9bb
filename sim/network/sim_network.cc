#include "sim/network/sim_network.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "sim/network/fast_draws.h"

namespace raftstore::sim {
namespace {

SendResult ResultFor(DropReason reason) {
  switch (reason) {
    case DropReason::kRandom:
      return SendResult::kDroppedRandom;
    case DropReason::kPartition:
      return SendResult::kDroppedPartition;
    case DropReason::kQueueFull:
      return SendResult::kDroppedQueueFull;
    case DropReason::kSizeCap:
      return SendResult::kDroppedSizeCap;
    case DropReason::kCrashed:
      return SendResult::kDroppedCrashed;
  }
  RS_CHECK(false) << "unknown drop reason " << static_cast<int>(reason);
  return SendResult::kDroppedRandom;
}

}  // namespace

absl::string_view DropReasonName(DropReason reason) {
  switch (reason) {
    case DropReason::kRandom:
      return "random";
    case DropReason::kPartition:
      return "partition";
    case DropReason::kQueueFull:
      return "queue_full";
    case DropReason::kSizeCap:
      return "size_cap";
    case DropReason::kCrashed:
      return "crashed";
  }
  return "unknown";
}

uint64_t NetworkStats::dropped_total() const {
  uint64_t total = 0;
  for (uint64_t count : dropped) total += count;
  return total;
}

std::string NetworkStats::Describe() const {
  std::string reasons;
  for (int i = 0; i < kDropReasonCount; ++i) {
    absl::StrAppend(&reasons, i == 0 ? "" : ",",
                    DropReasonName(static_cast<DropReason>(i)), "=",
                    dropped[i]);
  }
  return absl::StrCat(
      "sent=", sent, " delivered=", delivered, " duplicated=", duplicated,
      " dropped=", dropped_total(), "(", reasons, ") reordered=", reordered,
      " clogged=", clogged, " faults(partitions=", partitions,
      ",one_way=", one_way_partitions, ",links_down=", links_set_down,
      ",clogs=", clogs, ",heals=", heals, ",crash_drops=", crash_drops, ")");
}

SimNetwork::SimNetwork(EventQueue* events, Rng rng, NetworkOptions options,
                       int node_count)
    : events_(events),
      rng_(rng),
      options_(std::move(options)),
      node_count_(node_count) {
  RS_CHECK(events_ != nullptr);
  const absl::Status valid = options_.Validate(node_count_);
  RS_CHECK(valid.ok()) << valid.ToString();
  links_.resize(static_cast<size_t>(node_count_) * node_count_);
  for (Link& each : links_) each.latency = options_.latency;
  for (const LinkLatency& each : options_.link_latency) {
    link(each.from, each.to).latency = each.latency;
  }
  clog_until_us_.assign(node_count_, 0);
  crashed_.assign(node_count_, false);
}

void SimNetwork::CheckNode(int node) const {
  RS_CHECK(node >= 0 && node < node_count_)
      << "node " << node << " outside [0, " << node_count_ << ")";
}

SimNetwork::SendDraws SimNetwork::Draw(const Link& link) {
  SendDraws draws{};
  draws.drop = FastChance(rng_, options_.drop_per_million, kPerMillion);
  draws.duplicate =
      FastChance(rng_, options_.duplicate_per_million, kPerMillion);
  for (uint64_t& delay_us : draws.delay_us) {
    delay_us = DrawLatencyUs(link.latency, rng_);
    const uint64_t jitter_us =
        FastUniform(rng_, options_.reorder_jitter_us_max + 1);
    if (options_.reorder) delay_us += jitter_us;
  }
  return draws;
}

SendResult SimNetwork::Send(int from, int to, Payload&& payload) {
  CheckNode(from);
  CheckNode(to);
  RS_CHECK_NE(from, to) << "a node does not send to itself over the network";
  RS_CHECK(!crashed_[from]) << "crashed node " << from << " sent a message";
  ++stats_.sent;
  Link& l = link(from, to);
  const SendDraws draws = Draw(l);
  const uint64_t sequence = ++l.sent_sequence;

  DropReason reason = DropReason::kRandom;
  bool dropped = true;
  if (payload.size() > options_.message_bytes_max) {
    reason = DropReason::kSizeCap;
  } else if (crashed_[to]) {
    reason = DropReason::kCrashed;
  } else if (LinkCut(from, to)) {
    reason = DropReason::kPartition;
  } else if (draws.drop) {
    reason = DropReason::kRandom;
  } else {
    dropped = false;
  }
  if (dropped) {
    ++stats_.dropped[static_cast<int>(reason)];
    return ResultFor(reason);
  }
  Payload copy;
  if (draws.duplicate) copy = payload;
  if (!Enqueue(from, to, sequence, std::move(payload), draws.delay_us[0])) {
    ++stats_.dropped[static_cast<int>(DropReason::kQueueFull)];
    return SendResult::kDroppedQueueFull;
  }
  if (!draws.duplicate) return SendResult::kInFlight;
  ++stats_.duplicated;
  if (!Enqueue(from, to, sequence, std::move(copy), draws.delay_us[1])) {
    ++stats_.dropped[static_cast<int>(DropReason::kQueueFull)];
    return SendResult::kInFlight;
  }
  return SendResult::kDuplicated;
}

bool SimNetwork::Enqueue(int from, int to, uint64_t sequence, Payload&& payload,
                         uint64_t delay_us) {
  Link& l = link(from, to);
  const uint64_t bytes = payload.size();
  if (l.in_flight_messages >= options_.link_queue_messages_max ||
      l.in_flight_bytes + bytes > options_.link_queue_bytes_max) {
    return false;
  }
  uint32_t index = 0;
  if (!free_slots_.empty()) {
    index = free_slots_.back();
    free_slots_.pop_back();
  } else if (slots_.size() < options_.in_flight_messages_max) {
    index = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
  } else {
    return false;
  }
  Slot& slot = slots_[index];
  RS_CHECK(slot.state == SlotState::kFree);
  slot.payload = std::move(payload);
  slot.bytes = bytes;
  slot.sequence = sequence;
  slot.from = static_cast<uint8_t>(from);
  slot.to = static_cast<uint8_t>(to);
  slot.state = SlotState::kScheduled;
  ++l.in_flight_messages;
  l.in_flight_bytes += bytes;
  const uint32_t generation = slot.generation;
  events_->ScheduleAt(DueTime(l, bytes, delay_us), this,
                      (uint64_t{generation} << 32) | index);
  return true;
}

uint64_t SimNetwork::DueTime(Link& l, uint64_t bytes, uint64_t delay_us) {
  const uint64_t now_us = events_->now_us();
  uint64_t start_us = now_us;
  if (options_.link_bytes_per_second > 0) {
    // Serialisation: the link sends one message at a time. Rounded up so a
    // non-empty message always takes at least a microsecond.
    const uint64_t serialise_us =
        (bytes * kPerMillion + options_.link_bytes_per_second - 1) /
        options_.link_bytes_per_second;
    l.free_at_us = std::max(now_us, l.free_at_us) + serialise_us;
    start_us = l.free_at_us;
  }
  uint64_t due_us = start_us + delay_us;
  if (!options_.reorder) {
    // FIFO: never before the previous message on this link. Equal times run
    // in schedule order (EventQueue), which is send order.
    due_us = std::max(due_us, l.last_due_us);
    l.last_due_us = due_us;
  }
  return due_us;
}

void SimNetwork::RunEvent(uint64_t arg) {
  OnDue(static_cast<uint32_t>(arg), static_cast<uint32_t>(arg >> 32));
}

void SimNetwork::OnDue(uint32_t index, uint32_t generation) {
  Slot& slot = slots_[index];
  if (slot.generation != generation) return;  // dropped by a crash
  RS_CHECK(slot.state == SlotState::kScheduled);
  const int from = slot.from;
  const int to = slot.to;
  if (LinkCut(from, to)) {
    DropSlot(index, DropReason::kPartition);
    return;
  }
  // Wait behind earlier held messages even if the clog just ended, so a
  // clog never reorders a link.
  if (!link(from, to).held.empty() || ClogEndUs(from, to) > events_->now_us()) {
    Hold(index);
    return;
  }
  Deliver(index);
}

void SimNetwork::Hold(uint32_t index) {
  Slot& slot = slots_[index];
  slot.state = SlotState::kHeld;
  ++stats_.clogged;
  Link& l = link(slot.from, slot.to);
  l.held.push_back(index);
  if (l.held.size() == 1) ScheduleRelease(slot.from * node_count_ + slot.to);
}

void SimNetwork::ScheduleRelease(int link_index) {
  Link& l = links_[link_index];
  // A new generation makes any earlier release event of this link a no-op,
  // so a shortened or healed clog releases at the new time only.
  const uint32_t generation = ++l.release_generation;
  const uint64_t at_us =
      std::max(events_->now_us(),
               ClogEndUs(link_index / node_count_, link_index % node_count_));
  events_->ScheduleAt(at_us, [this, link_index, generation] {
    OnRelease(link_index, generation);
  });
}

void SimNetwork::OnRelease(int link_index, uint32_t generation) {
  Link& l = links_[link_index];
  if (generation != l.release_generation) return;
  const int from = link_index / node_count_;
  const int to = link_index % node_count_;
  // Each delivery may call back into the network (a new clog, a crash), so
  // the state is looked at again before every message.
  while (!l.held.empty()) {
    if (ClogEndUs(from, to) > events_->now_us()) {
      ScheduleRelease(link_index);
      return;
    }
    const uint32_t index = l.held.front();
    l.held.pop_front();
    if (LinkCut(from, to)) {
      DropSlot(index, DropReason::kPartition);
    } else {
      Deliver(index);
    }
  }
}

void SimNetwork::Deliver(uint32_t index) {
  Slot& slot = slots_[index];
  const int from = slot.from;
  const int to = slot.to;
  Link& l = link(from, to);
  if (slot.sequence < l.delivered_sequence_max) {
    ++stats_.reordered;
  } else {
    l.delivered_sequence_max = slot.sequence;
  }
  Payload payload = std::move(slot.payload);
  // Free before the callback: what it sends sees the link's room.
  FreeSlot(index);
  ++stats_.delivered;
  RS_CHECK(deliver_ != nullptr) << "SimNetwork: set_deliver was not called";
  deliver_(from, to, std::move(payload));
}

void SimNetwork::DropSlot(uint32_t index, DropReason reason) {
  ++stats_.dropped[static_cast<int>(reason)];
  FreeSlot(index);
}

void SimNetwork::FreeSlot(uint32_t index) {
  Slot& slot = slots_[index];
  RS_CHECK(slot.state != SlotState::kFree);
  Link& l = link(slot.from, slot.to);
  RS_CHECK_GT(l.in_flight_messages, 0U);
  RS_CHECK_GE(l.in_flight_bytes, slot.bytes);
  --l.in_flight_messages;
  l.in_flight_bytes -= slot.bytes;
  slot.payload = Payload();  // give the memory back, not just the size
  slot.bytes = 0;
  ++slot.generation;
  slot.state = SlotState::kFree;
  free_slots_.push_back(index);
}

uint64_t SimNetwork::ClogEndUs(int from, int to) const {
  return std::max(clog_until_us_[from], clog_until_us_[to]);
}

bool SimNetwork::LinkCut(int from, int to) const {
  const Link& l = link(from, to);
  if (l.one_way_cut || l.down) return true;
  return !partition_group_.empty() &&
         partition_group_[from] != partition_group_[to];
}

bool SimNetwork::Clogged(int node) const {
  CheckNode(node);
  return clog_until_us_[node] > events_->now_us();
}

}  // namespace raftstore::sim
