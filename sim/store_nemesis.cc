#include "sim/store_nemesis.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/btree_set.h"
#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "core/store/region_state.h"

namespace raftstore::sim {
namespace {

bool KeyInside(const std::string& key, const meta::Region& region) {
  return key > region.start_key() &&
         (region.end_key().empty() || key < region.end_key());
}

int VoterCount(const meta::Region& region) {
  int voters = 0;
  for (const meta::Peer& peer : region.peers()) {
    if (peer.role() != meta::PEER_ROLE_LEARNER) ++voters;
  }
  return voters;
}

}  // namespace

std::string_view AdminKindName(AdminKind kind) {
  switch (kind) {
    case AdminKind::kSplit:
      return "split";
    case AdminKind::kAddLearner:
      return "add-learner";
    case AdminKind::kPromote:
      return "promote";
    case AdminKind::kRemovePeer:
      return "remove-peer";
    case AdminKind::kTransferLeader:
      return "transfer-leader";
    case AdminKind::kMerge:
      return "merge";
  }
  return "?";
}

StoreNemesis::StoreNemesis(
    const StoreSimOptions* options, EventQueue* events, Trace* trace, Rng rng,
    const std::vector<std::unique_ptr<SimStoreNode>>* nodes)
    : options_(options),
      events_(events),
      trace_(trace),
      rng_(rng),
      nodes_(nodes) {}

uint64_t StoreNemesis::ElectionUs() const {
  return options_->base.tick_us *
         static_cast<uint64_t>(options_->base.election_tick);
}

void StoreNemesis::Start() {
  stopped_ = false;
  ScheduleNext();
}

void StoreNemesis::ScheduleNext() {
  const double rate = options_->split_per_s + options_->conf_change_per_s +
                      options_->transfer_per_s + options_->merge_per_s;
  if (stopped_ || rate <= 0) return;
  const auto mean_gap_us = static_cast<uint64_t>(1e6 / rate);
  events_->ScheduleAfter(rng_.Range(0, 2 * std::max<uint64_t>(mean_gap_us, 1)),
                         [this] { Act(); });
}

void StoreNemesis::Act() {
  if (stopped_) return;
  ScheduleNext();
  if (in_flight_.has_value()) {
    ++stats_.skipped;
    return;
  }
  // The kinds and their weights: a new kind (merge) is one more line.
  struct Weighted {
    AdminKind kind;
    double rate;
  };
  const double conf = options_->conf_change_per_s / 3;
  const Weighted kinds[] = {
      {AdminKind::kSplit, options_->split_per_s},
      {AdminKind::kAddLearner, conf},
      {AdminKind::kPromote, conf},
      {AdminKind::kRemovePeer, conf},
      {AdminKind::kTransferLeader, options_->transfer_per_s},
      {AdminKind::kMerge, options_->merge_per_s},
  };
  uint64_t total = 0;
  for (const Weighted& k : kinds) total += static_cast<uint64_t>(k.rate * 1000);
  if (total == 0) return;
  uint64_t pick = rng_.Uniform(total);
  AdminKind kind = AdminKind::kSplit;
  for (const Weighted& k : kinds) {
    const auto weight = static_cast<uint64_t>(k.rate * 1000);
    if (pick < weight) {
      kind = k.kind;
      break;
    }
    pick -= weight;
  }
  const std::vector<Target> targets = Targets();
  if (targets.empty()) {
    ++stats_.skipped;
    return;
  }
  const Target& target = targets[rng_.Uniform(targets.size())];
  std::optional<store::AdminRequest> request = Build(kind, target);
  if (!request.has_value()) {
    ++stats_.skipped;
    return;
  }
  Submit(kind, target, *std::move(request), 0);
}

std::vector<StoreNemesis::Target> StoreNemesis::Targets() const {
  absl::btree_map<uint64_t, Target> by_region;
  for (const auto& node : *nodes_) {
    if (!node->running()) continue;
    const store::Store& s = *node->store();
    for (const store::RegionRecord& record : s.catalog().RegionSnapshot()) {
      if (!store::OwnsRange(record.state) || !s.IsLeader(record.region.id()) ||
          by_region.contains(record.region.id())) {
        continue;
      }
      by_region[record.region.id()] = Target{node->id(), record.region};
    }
  }
  std::vector<Target> targets;
  targets.reserve(by_region.size());
  for (auto& [id, target] : by_region) targets.push_back(std::move(target));
  return targets;
}

std::optional<StoreNemesis::Target> StoreNemesis::TargetOf(
    uint64_t region_id) const {
  for (const auto& node : *nodes_) {
    if (!node->running() || !node->store()->IsLeader(region_id)) continue;
    absl::StatusOr<store::RegionRecord> record =
        node->store()->catalog().Get(region_id);
    if (record.ok() && store::OwnsRange(record->state)) {
      return Target{node->id(), record->region};
    }
  }
  return std::nullopt;
}

std::vector<uint64_t> StoreNemesis::LiveRegionIds() const {
  // A region lives while some store that is up routes it, unless a merge
  // took it in: any meta that lists it among its merged regions proves the
  // region dead, and a stale replica of it (a removed learner that never
  // heard of its removal) keeps nothing alive. A removed peer's tombstone
  // proves nothing about the region (its members go on).
  absl::btree_set<uint64_t> live;
  absl::btree_set<uint64_t> merged;
  for (const auto& node : *nodes_) {
    if (!node->up()) continue;
    for (const store::RegionRecord& record :
         node->store()->catalog().RegionSnapshot()) {
      if (store::OwnsRange(record.state)) live.insert(record.region.id());
      merged.insert(record.region.merged_region_ids().begin(),
                    record.region.merged_region_ids().end());
    }
  }
  std::vector<uint64_t> ids;
  for (const uint64_t id : live) {
    if (!merged.contains(id)) ids.push_back(id);
  }
  return ids;
}

std::optional<store::AdminRequest> StoreNemesis::Build(AdminKind kind,
                                                       const Target& target) {
  switch (kind) {
    case AdminKind::kSplit:
      return BuildSplit(target);
    case AdminKind::kAddLearner:
      return BuildAddLearner(target);
    case AdminKind::kPromote:
      return BuildPromote(target);
    case AdminKind::kRemovePeer:
      return BuildRemove(target);
    case AdminKind::kTransferLeader:
      return BuildTransfer(target);
    case AdminKind::kMerge:
      return BuildMerge(target);
  }
  return std::nullopt;
}

std::optional<store::AdminRequest> StoreNemesis::BuildSplit(
    const Target& target) {
  if (LiveRegionIds().size() >= static_cast<size_t>(kStoreRegionsMax)) {
    return std::nullopt;
  }
  // A workload key strictly inside the region (splitting at its start
  // would leave an empty half).
  std::vector<std::string> keys;
  for (int k = 0; k < options_->base.workload.key_count; ++k) {
    std::string key = WorkloadKey(static_cast<uint64_t>(k));
    if (KeyInside(key, target.region)) keys.push_back(std::move(key));
  }
  if (keys.empty()) return std::nullopt;
  store::AdminRequest request;
  store::SplitRequest* split = request.mutable_split();
  split->set_split_key(keys[rng_.Uniform(keys.size())]);
  split->set_new_region_id(NextId());
  for (int i = 0; i < target.region.peers_size(); ++i) {
    split->add_new_peer_ids(NextId());
  }
  peers_allocated_[split->new_region_id()] += target.region.peers_size();
  return request;
}

std::optional<store::AdminRequest> StoreNemesis::BuildAddLearner(
    const Target& target) {
  const meta::Region& region = target.region;
  if (region.peers_size() >= options_->replicas_max ||
      peers_allocated_[region.id()] >= kPeersPerRegionMax) {
    return std::nullopt;
  }
  std::vector<uint64_t> stores;
  for (const auto& node : *nodes_) {
    if (node->disk_lost()) continue;
    const bool has_peer = std::any_of(
        region.peers().begin(), region.peers().end(),
        [&](const meta::Peer& p) { return p.store_id() == node->id(); });
    if (!has_peer) stores.push_back(node->id());
  }
  if (stores.empty()) return std::nullopt;
  store::AdminRequest request;
  store::ChangePeerRequest* change = request.mutable_change_peer();
  change->set_type(raft::CONF_CHANGE_TYPE_ADD_LEARNER);
  change->mutable_peer()->set_id(NextId());
  change->mutable_peer()->set_store_id(stores[rng_.Uniform(stores.size())]);
  change->mutable_peer()->set_role(meta::PEER_ROLE_LEARNER);
  ++peers_allocated_[region.id()];
  return request;
}

std::optional<store::AdminRequest> StoreNemesis::BuildPromote(
    const Target& target) {
  std::vector<const meta::Peer*> learners;
  for (const meta::Peer& peer : target.region.peers()) {
    if (peer.role() == meta::PEER_ROLE_LEARNER &&
        KeepsQuorum(target.region, 0, peer.id())) {
      learners.push_back(&peer);
    }
  }
  if (learners.empty()) return std::nullopt;
  store::AdminRequest request;
  store::ChangePeerRequest* change = request.mutable_change_peer();
  change->set_type(raft::CONF_CHANGE_TYPE_ADD_VOTER);
  *change->mutable_peer() = *learners[rng_.Uniform(learners.size())];
  change->mutable_peer()->set_role(meta::PEER_ROLE_VOTER);
  return request;
}

std::optional<store::AdminRequest> StoreNemesis::BuildRemove(
    const Target& target) {
  const int voters = VoterCount(target.region);
  std::vector<const meta::Peer*> candidates;
  for (const meta::Peer& peer : target.region.peers()) {
    const bool learner = peer.role() == meta::PEER_ROLE_LEARNER;
    if (!learner && voters <= kStoreReplicasMin) continue;
    if (KeepsQuorum(target.region, peer.id(), 0)) candidates.push_back(&peer);
  }
  if (candidates.empty()) return std::nullopt;
  store::AdminRequest request;
  store::ChangePeerRequest* change = request.mutable_change_peer();
  change->set_type(raft::CONF_CHANGE_TYPE_REMOVE_NODE);
  *change->mutable_peer() = *candidates[rng_.Uniform(candidates.size())];
  return request;
}

std::optional<store::AdminRequest> StoreNemesis::BuildTransfer(
    const Target& target) {
  std::vector<const meta::Peer*> voters;
  for (const meta::Peer& peer : target.region.peers()) {
    if (peer.role() == meta::PEER_ROLE_LEARNER ||
        peer.store_id() == target.store_id ||
        (*nodes_)[peer.store_id() - 1]->disk_lost()) {
      continue;
    }
    voters.push_back(&peer);
  }
  if (voters.empty()) return std::nullopt;
  store::AdminRequest request;
  *request.mutable_transfer_leader()->mutable_peer() =
      *voters[rng_.Uniform(voters.size())];
  return request;
}

std::optional<store::AdminRequest> StoreNemesis::BuildMerge(
    const Target& target) {
  auto stores = [](const meta::Region& region, bool* learners) {
    absl::btree_set<uint64_t> ids;
    for (const meta::Peer& peer : region.peers()) {
      ids.insert(peer.store_id());
      if (peer.role() == meta::PEER_ROLE_LEARNER) *learners = true;
    }
    return ids;
  };
  bool learners = false;
  const absl::btree_set<uint64_t> source_stores =
      stores(target.region, &learners);
  if (learners) return std::nullopt;
  std::vector<meta::Region> neighbours;
  for (const Target& other : Targets()) {
    const meta::Region& r = other.region;
    const bool adjacent =
        (!r.end_key().empty() && r.end_key() == target.region.start_key()) ||
        (!target.region.end_key().empty() &&
         target.region.end_key() == r.start_key());
    bool other_learners = false;
    if (adjacent && stores(r, &other_learners) == source_stores &&
        !other_learners) {
      neighbours.push_back(r);
    }
  }
  if (neighbours.empty()) return std::nullopt;
  store::AdminRequest request;
  *request.mutable_merge()->mutable_target() =
      neighbours[rng_.Uniform(neighbours.size())];
  return request;
}

bool StoreNemesis::KeepsQuorum(const meta::Region& region,
                               uint64_t removed_peer,
                               uint64_t promoted_peer) const {
  int voters = 0;
  int healthy = 0;
  for (const meta::Peer& peer : region.peers()) {
    if (peer.id() == removed_peer) continue;
    const bool voter =
        peer.role() != meta::PEER_ROLE_LEARNER || peer.id() == promoted_peer;
    if (!voter) continue;
    ++voters;
    const bool lost = peer.store_id() == 0 ||
                      peer.store_id() > nodes_->size() ||
                      (*nodes_)[peer.store_id() - 1]->disk_lost();
    if (!lost) ++healthy;
  }
  return voters >= 1 && healthy >= voters / 2 + 1;
}

void StoreNemesis::Submit(AdminKind kind, const Target& target,
                          store::AdminRequest request, int retries) {
  const uint64_t token = ++next_token_;
  request.set_request_id(token);
  request.set_region_id(target.region.id());
  *request.mutable_region_epoch() = target.region.epoch();
  in_flight_ = InFlight{token, kind, target.region.id(), retries};
  ++stats_.submitted;
  trace_->Hash({0xad11, token, static_cast<uint64_t>(kind), target.region.id(),
                target.store_id});
  if (trace_->keeps_text()) {
    trace_->Line(
        events_->now_us(),
        absl::StrCat("nemesis ", token, ": ", std::string(AdminKindName(kind)),
                     " region ", target.region.id(), " at s", target.store_id,
                     ": ", request.ShortDebugString()));
  }
  // Submitted from an event of its own: a suggestion arrives while its
  // store is carrying out effects, and must not re-enter it.
  SimStoreNode* node = (*nodes_)[target.store_id - 1].get();
  events_->ScheduleAfter(0, [node, token, request = std::move(request)] {
    node->SubmitAdmin(token, request);
  });
  events_->ScheduleAfter(kAnswerTimeoutElections * ElectionUs(), [this, token] {
    if (!in_flight_.has_value() || in_flight_->token != token) {
      return;
    }
    ++stats_.abandoned;
    trace_->Line(events_->now_us(),
                 absl::StrCat("nemesis ", token, ": no answer, abandoned"));
    in_flight_.reset();
  });
}

void StoreNemesis::OnAdminReply(uint64_t store_id,
                                const store::AdminReply& reply) {
  if (!in_flight_.has_value() || in_flight_->token != reply.reply_to) {
    return;  // late: the command was abandoned
  }
  const InFlight done = *in_flight_;
  in_flight_.reset();
  const store::AdminResponse& response = reply.response;
  trace_->Hash({0xad12, done.token, store_id, response.has_error() ? 1U : 0U});
  if (trace_->keeps_text()) {
    trace_->Line(
        events_->now_us(),
        absl::StrCat("nemesis ", done.token, ": answer from s", store_id, ": ",
                     response.has_error() ? response.error().ShortDebugString()
                                          : std::string("ok")));
  }
  if (!response.has_error()) {
    ++stats_.done[static_cast<int>(done.kind)];
    return;
  }
  const kv::Error& error = response.error();
  const bool not_applied =
      error.has_not_leader() || error.has_epoch_not_match() ||
      error.has_server_busy() || error.has_region_not_found();
  if (not_applied && done.retries < kRetriesMax && !stopped_) {
    Retry(done);
    return;
  }
  ++stats_.refused;
}

void StoreNemesis::Retry(InFlight in_flight) {
  // Holds the slot while it waits, so no other command starts meanwhile.
  in_flight_ =
      InFlight{0, in_flight.kind, in_flight.region_id, in_flight.retries};
  events_->ScheduleAfter(ElectionUs(), [this, in_flight] {
    in_flight_.reset();
    if (stopped_) return;
    std::optional<Target> target = TargetOf(in_flight.region_id);
    std::optional<store::AdminRequest> request;
    if (target.has_value()) request = Build(in_flight.kind, *target);
    if (!request.has_value()) {
      ++stats_.refused;
      return;
    }
    Submit(in_flight.kind, *target, *std::move(request), in_flight.retries + 1);
  });
}

void StoreNemesis::OnSplitSuggestion(uint64_t store_id,
                                     const store::SplitSuggestion& suggestion) {
  ++stats_.suggestions;
  if (trace_->keeps_text()) {
    trace_->Line(
        events_->now_us(),
        absl::StrCat("s", store_id, " suggests splitting region ",
                     suggestion.region_id, " at ", suggestion.split_key));
  }
  if (stopped_ || in_flight_.has_value() ||
      LiveRegionIds().size() >= static_cast<size_t>(kStoreRegionsMax)) {
    ++stats_.skipped;
    return;
  }
  const SimStoreNode& node = *(*nodes_)[store_id - 1];
  if (!node.running()) return;
  absl::StatusOr<store::RegionRecord> record =
      node.store()->catalog().Get(suggestion.region_id);
  if (!record.ok()) return;
  Target target{store_id, record->region};
  *target.region.mutable_epoch() = suggestion.epoch;
  store::AdminRequest request;
  store::SplitRequest* split = request.mutable_split();
  split->set_split_key(suggestion.split_key);
  split->set_new_region_id(NextId());
  for (int i = 0; i < record->region.peers_size(); ++i) {
    split->add_new_peer_ids(NextId());
  }
  peers_allocated_[split->new_region_id()] += record->region.peers_size();
  ++stats_.auto_splits;
  Submit(AdminKind::kSplit, target, std::move(request), kRetriesMax);
}

}  // namespace raftstore::sim
