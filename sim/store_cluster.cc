#include "sim/store_cluster.h"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/btree_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "core/base/check.h"
#include "core/store/region_state.h"

namespace raftstore::sim {
namespace {

// Fork order of the seed's Rng. DrawStoreOptions takes the first two forks;
// adding a consumer at the end never changes what the earlier ones draw.
struct StoreStreams {
  explicit StoreStreams(uint64_t seed) : root(seed) {
    root.Fork();  // base options (DrawOptions)
    root.Fork();  // store options (DrawStoreOptions)
    faults = root.Fork();
    network = root.Fork();
    nemesis = root.Fork();
  }
  Rng root;
  Rng faults{0};
  Rng network{0};
  Rng nemesis{0};
};

// A key inside `region` for a liveness write: its start key, or (for the
// first region, whose start is empty) a key below every workload key.
std::string KeyIn(const meta::Region& region) {
  return region.start_key().empty() ? std::string("a") : region.start_key();
}

}  // namespace

std::vector<FaultEvent> DrawStoreFaults(const StoreSimOptions& options) {
  StoreStreams streams(options.base.seed);
  return GenerateFaults(options.base.faults, options.base.node_count,
                        options.base.ticks * options.base.tick_us,
                        streams.faults);
}

std::vector<meta::Region> BootstrapRegions(int count, int stores,
                                           int key_count) {
  RS_CHECK_GE(count, 1);
  RS_CHECK_GE(stores, kStoreReplicasMin);
  // Boundaries over the workload's keys when there are enough of them,
  // so that every region holds some.
  const int span = std::max(key_count, count);
  std::vector<meta::Region> regions;
  for (int i = 1; i <= count; ++i) {
    meta::Region& region = regions.emplace_back();
    region.set_id(static_cast<uint64_t>(i));
    if (i > 1) {
      region.set_start_key(
          WorkloadKey(static_cast<uint64_t>((i - 1) * span / count)));
    }
    if (i < count) {
      region.set_end_key(WorkloadKey(static_cast<uint64_t>(i * span / count)));
    }
    region.mutable_epoch()->set_version(1);
    region.mutable_epoch()->set_conf_version(1);
    for (int j = 0; j < kStoreReplicasMin; ++j) {
      const int on = (i - 1 + j) % stores + 1;
      const auto store = static_cast<uint64_t>(on);
      meta::Peer* peer = region.add_peers();
      peer->set_id(static_cast<uint64_t>(i) * 100 + store);
      peer->set_store_id(store);
      peer->set_role(meta::PEER_ROLE_VOTER);
    }
  }
  return regions;
}

std::string StoreRunResult::Summary() const {
  std::string verdicts;
  const std::vector<SafetyViolation>& v = base.violations;
  if (v.empty()) {
    verdicts = "safety=ok";
  } else {
    verdicts = absl::StrCat("safety=FAIL(", v.front().property, ")");
  }
  absl::StrAppend(&verdicts, " linearizability=",
                  std::string(VerdictName(base.linearizability)),
                  " liveness=", base.liveness_ok ? "ok" : "FAIL",
                  " convergence=", convergence_ok ? "ok" : "FAIL");
  return absl::StrFormat(
      "seed=%d store %s simulated=%.3fs events=%d "
      "ops=%d(ok=%d,fail=%d,unknown=%d) faults=%d(scheduled=%d) stores=%d "
      "regions=%d->%d splits=%d(auto=%d) merges=%d conf_changes=%d "
      "transfers=%d "
      "admin=%d(refused=%d,abandoned=%d) restarts=%d applied=%d %s "
      "trace=%016x",
      base.seed, ok() ? "PASS" : "FAIL",
      static_cast<double>(base.simulated_us) / 1e6, base.events,
      base.ops_ok + base.ops_failed + base.ops_unknown, base.ops_ok,
      base.ops_failed, base.ops_unknown, base.faults_injected,
      base.scheduled_faults, stores, regions_start, regions_end, admin.splits(),
      admin.auto_splits, admin.merges(), admin.conf_changes(),
      admin.transfers(), admin.submitted, admin.refused, admin.abandoned,
      restarts, base.commit_index_max, verdicts, base.trace_hash);
}

StoreCluster::StoreCluster(const StoreSimOptions& options,
                           std::vector<FaultEvent> faults, bool keep_trace)
    : options_(options),
      faults_(std::move(faults)),
      events_(&clock_),
      trace_(keep_trace) {
  RS_CHECK(options_.Validate().ok()) << options_.Validate();
  checker_.set_trace(&trace_);
  const SimOptions& o = options_.base;
  StoreStreams streams(o.seed);
  network_ = std::make_unique<SimNetwork>(&events_, streams.network, o.network,
                                          endpoint_count());
  network_->set_deliver([this](int from, int to, Payload&& payload) {
    Deliver(from, to, std::move(payload));
  });
  nemesis_ = std::make_unique<StoreNemesis>(&options_, &events_, &trace_,
                                            streams.nemesis, &nodes_);
  bootstrap_regions_ = BootstrapRegions(options_.region_count, o.node_count,
                                        o.workload.key_count);
  Rng& root = streams.root;
  for (int i = 0; i < o.node_count; ++i) {
    const int endpoint = i;
    SimStoreNode::Callbacks callbacks;
    callbacks.send = [this, endpoint](int to, Payload&& payload) {
      network_->Send(endpoint, to, std::move(payload));
    };
    callbacks.on_up = [this, endpoint](bool up) {
      // A process that is down has lost its sockets.
      network_->SetNodeCrashed(endpoint, !up);
    };
    callbacks.on_admin_reply = [this](uint64_t store,
                                      const store::AdminReply& reply) {
      nemesis_->OnAdminReply(store, reply);
    };
    callbacks.on_split_suggestion =
        [this](uint64_t store, const store::SplitSuggestion& suggestion) {
          nemesis_->OnSplitSuggestion(store, suggestion);
        };
    nodes_.push_back(std::make_unique<SimStoreNode>(
        static_cast<uint64_t>(i) + 1, &options_, bootstrap_regions_, &events_,
        &checker_, &trace_, root.Fork(), std::move(callbacks)));
  }
  auto client_send = [this](int endpoint) {
    return [this, endpoint](int to, Payload&& payload) {
      network_->Send(endpoint, to, std::move(payload));
    };
  };
  for (int i = 0; i < o.workload.client_count; ++i) {
    const int endpoint = o.node_count + i;
    clients_.push_back(std::make_unique<SimStoreClient>(
        i, endpoint, &options_, &events_, &history_, &trace_, root.Fork(),
        client_send(endpoint)));
  }
  tools_ = std::make_unique<SimKvEndpoint>(
      tools_endpoint(), kClientCountMax, &options_, &events_, &history_,
      &trace_, root.Fork(), client_send(tools_endpoint()));
}

StoreCluster::~StoreCluster() = default;

uint64_t StoreCluster::ElectionUs() const {
  return options_.base.tick_us *
         static_cast<uint64_t>(options_.base.election_tick);
}

void StoreCluster::Deliver(int from, int to, Payload&& payload) {
  const int n = options_.base.node_count;
  trace_.Hash({0xde11, static_cast<uint64_t>(from), static_cast<uint64_t>(to),
               events_.now_us()});
  if (to < n) {
    if (trace_.keeps_text()) TraceBatch(from, to, payload);
    nodes_[to]->Receive(from, std::move(payload));
  } else if (to < n + kClientCountMax) {
    const auto client = static_cast<size_t>(to - n);
    if (client < clients_.size()) clients_[client]->Receive(from, payload);
  } else {
    tools_->Receive(from, payload);
  }
}

void StoreCluster::TraceBatch(int from, int to, const Payload& payload) {
  const auto* batch = payload.object<store::RaftMessageBatch>();
  if (batch == nullptr) return;
  for (const store::RaftMessage& m : batch->messages()) {
    const raft::Message& r = m.message();
    trace_.Line(
        events_.now_us(),
        absl::StrCat(
            "s", from + 1, " -> s", to + 1, ": region ", m.region_id(), " ",
            m.from_peer().id(), " -> ", m.to_peer().id(),
            m.is_tombstone() ? " tombstone" : "", " ",
            raft::MessageType_Name(r.type()), " term ", r.term(), " index ",
            r.index(), " log_term ", r.log_term(), " entries ",
            r.entries_size(), " commit ", r.commit(),
            r.reject() ? " reject" : "",
            r.has_snapshot()
                ? absl::StrCat(" snapshot ", r.snapshot().metadata().index())
                : std::string()));
  }
}

uint64_t StoreCluster::BusiestLeader() const {
  uint64_t best = 0;
  size_t best_count = 0;
  for (const auto& node : nodes_) {
    if (!node->running()) continue;
    size_t count = 0;
    for (const store::RegionRecord& record :
         node->store()->catalog().RegionSnapshot()) {
      if (node->store()->IsLeader(record.region.id())) ++count;
    }
    if (count > best_count) {
      best = node->id();
      best_count = count;
    }
  }
  return best;
}

void StoreCluster::RestartLater(int store, uint64_t delay_us) {
  events_.ScheduleAfter(delay_us, [this, store] {
    SimStoreNode& n = *nodes_[store - 1];
    if (n.up() || n.disk_lost()) return;
    if (!n.Start() && !n.disk_lost()) {
      // The disk is not ready (full, or an I/O error): try again later.
      RestartLater(store, ElectionUs());
    }
  });
}

void StoreCluster::ApplyPartition(uint64_t shape) {
  // The shape's own Rng: a partition drawn here never shifts other streams.
  Rng rng(shape);
  const int n = options_.base.node_count;
  std::vector<std::vector<int>> groups;
  std::vector<int> all(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) all[i] = i;
  switch (shape % 5) {
    case 0:    // isolate one store
    case 4: {  // isolate the store leading the most regions
      const int leader = static_cast<int>(BusiestLeader());
      const int lone = shape % 5 == 4 && leader != 0
                           ? leader - 1
                           : static_cast<int>(rng.Uniform(n));
      groups = {{lone}, {}};
      for (int i = 0; i < n; ++i) {
        if (i != lone) groups[1].push_back(i);
      }
      break;
    }
    case 1:
    case 2: {  // a minority against the rest, or random halves
      const int small =
          shape % 4 == 1
              ? static_cast<int>(rng.Range(1, std::max(1, (n - 1) / 2)))
              : n / 2;
      for (int i = n - 1; i > 0; --i) {
        std::swap(all[i], all[rng.Uniform(static_cast<uint64_t>(i) + 1)]);
      }
      groups = {std::vector<int>(all.begin(), all.begin() + small),
                std::vector<int>(all.begin() + small, all.end())};
      break;
    }
    default: {  // one direction of one link
      const int from = static_cast<int>(rng.Uniform(n));
      const int to = (from + 1 + static_cast<int>(rng.Uniform(n - 1))) % n;
      network_->PartitionOneWay(from, to);
      trace_.Line(events_.now_us(), absl::StrCat("one-way partition s",
                                                 from + 1, " -> s", to + 1));
      return;
    }
  }
  // Clients land on a random side.
  for (int c = n; c < endpoint_count(); ++c) {
    groups[rng.Uniform(groups.size())].push_back(c);
  }
  network_->Partition(groups);
  trace_.Line(events_.now_us(),
              absl::StrCat("partition ", network_->DescribeFaults()));
}

void StoreCluster::ApplyFault(const FaultEvent& fault) {
  ++faults_applied_;
  trace_.Line(events_.now_us(), DescribeFault(fault));
  trace_.Hash({0xfa17, static_cast<uint64_t>(fault.kind),
               static_cast<uint64_t>(fault.node), fault.arg});
  const uint64_t now = events_.now_us();
  const int n = options_.base.node_count;
  if (fault.node > n) return;  // a replayed schedule for more stores
  switch (fault.kind) {
    case FaultKind::kCrash:
    case FaultKind::kLeaderCrash: {
      const int store = fault.kind == FaultKind::kCrash
                            ? fault.node
                            : static_cast<int>(BusiestLeader());
      if (store == 0) return;
      nodes_[store - 1]->Crash();
      return;
    }
    case FaultKind::kRestart:
      if (fault.node != 0) {
        RestartLater(fault.node, 0);
      } else {
        for (int i = 1; i <= n; ++i) RestartLater(i, 0);
      }
      return;
    case FaultKind::kPause:
      nodes_[fault.node - 1]->Pause(now + fault.arg);
      return;
    case FaultKind::kPartition:
      ApplyPartition(fault.arg);
      return;
    case FaultKind::kHeal:
      network_->Heal();
      return;
    case FaultKind::kClog:
      network_->Clog(fault.node - 1, now + fault.arg);
      return;
    case FaultKind::kSlowDisk:
      nodes_[fault.node - 1]->SlowDisk(now + fault.arg);
      return;
    case FaultKind::kDiskFull: {
      SimDisk& disk = nodes_[fault.node - 1]->disk();
      disk.SetCapacityBytes(disk.UsedBytes());
      events_.ScheduleAfter(fault.arg, [this, &disk] {
        disk.SetCapacityBytes(options_.base.disk.capacity_bytes);
      });
      return;
    }
  }
}

bool StoreCluster::OverBudget() const {
  const uint64_t events = events_.events_run();
  if (events < kEventsWithoutProgressMax) return false;
  if (events >= kEventsPerRunMax) return true;
  if (events % 65536 != 0) return false;
  const uint64_t progress =
      history_.operations().size() + checker_.applied_entries();
  return events > kEventsPerProgressMax * progress;
}

template <typename Done>
bool StoreCluster::RunUntil(uint64_t until_us, uint64_t check_us, Done done) {
  while (!done()) {
    const uint64_t check_at = std::min(until_us, events_.now_us() + check_us);
    while (!events_.empty() && events_.next_time_us() <= check_at) {
      if (budget_exhausted_ || OverBudget()) {
        budget_exhausted_ = true;
        return false;
      }
      events_.RunNext();
    }
    if (clock_.now_us() < check_at) clock_.AdvanceTo(check_at);
    if (check_at >= until_us) return done();
  }
  return true;
}

void StoreCluster::LiftAllFaults() {
  network_->Heal();
  network_->SetNoise(0, 0);
  trace_.Line(events_.now_us(), absl::StrCat("all faults lifted; network: ",
                                             network_->DescribeFaults(), "; ",
                                             network_->stats().Describe()));
  for (int i = 1; i <= options_.base.node_count; ++i) {
    SimStoreNode& node = *nodes_[i - 1];
    node.disk().SetCapacityBytes(options_.base.disk.capacity_bytes);
    node.disk().SetFaults(SimDiskFaults{});
    node.SlowDisk(0);
    node.Resume();
    if (!node.up()) RestartLater(i, 0);
  }
}

bool StoreCluster::EveryRegionLed() const {
  for (const uint64_t region : nemesis_->LiveRegionIds()) {
    const bool led =
        std::any_of(nodes_.begin(), nodes_.end(), [region](const auto& node) {
          return node->running() && node->store()->IsLeader(region);
        });
    if (!led) return false;
  }
  return true;
}

bool StoreCluster::WriteEveryRegion(uint64_t deadline_us) {
  // One put per region, each on a client of its own (a client's write
  // session then never spans regions), side by side.
  auto failed = std::make_shared<std::vector<uint64_t>>();
  auto open = std::make_shared<int>(0);
  for (const uint64_t region_id : nemesis_->LiveRegionIds()) {
    std::optional<meta::Region> meta;
    for (const auto& node : nodes_) {
      if (!node->running() || !node->store()->IsLeader(region_id)) continue;
      absl::StatusOr<store::RegionRecord> record =
          node->store()->catalog().Get(region_id);
      if (record.ok()) meta = record->region;
      break;
    }
    if (!meta.has_value()) return false;
    const std::string key = KeyIn(*meta);
    const std::string value =
        absl::StrCat("live.", region_id, ".", events_.now_us());
    kv::KvRequest put;
    put.mutable_put()->set_key(key);
    put.mutable_put()->set_value(value);
    const size_t client = tools_->AddClient();
    ++*open;
    const bool issued =
        tools_->Issue(client, put, PutCall(0, key, value),
                      std::max(deadline_us, events_.now_us() + 1),
                      [failed, open, region_id](Outcome outcome) {
                        --*open;
                        if (outcome != Outcome::kOk)
                          failed->push_back(region_id);
                      });
    if (!issued) return false;
  }
  RunUntil(deadline_us, options_.base.tick_us, [open] { return *open == 0; });
  if (*open != 0 || !failed->empty()) {
    liveness_detail_ =
        absl::StrCat(*open, " liveness writes still open, ", failed->size(),
                     " failed (first region ",
                     failed->empty() ? uint64_t{0} : failed->front(), ")");
    return false;
  }
  return true;
}

bool StoreCluster::CheckLiveness() {
  const uint64_t deadline =
      events_.now_us() + options_.base.LivenessTicks() * options_.base.tick_us;
  while (events_.now_us() < deadline && !budget_exhausted_) {
    if (!RunUntil(deadline, options_.base.tick_us,
                  [this] { return EveryRegionLed(); })) {
      std::vector<uint64_t> leaderless;
      for (const uint64_t region : nemesis_->LiveRegionIds()) {
        const bool led = std::any_of(
            nodes_.begin(), nodes_.end(), [region](const auto& node) {
              return node->running() && node->store()->IsLeader(region);
            });
        if (!led) leaderless.push_back(region);
      }
      if (trace_.keeps_text()) TraceRegions();
      liveness_detail_ = absl::StrCat("no leader for region(s) ",
                                      absl::StrJoin(leaderless, ", "));
      break;
    }
    if (WriteEveryRegion(deadline)) {
      trace_.Line(events_.now_us(),
                  "liveness: every region committed a fresh write");
      return true;
    }
  }
  return false;
}

void StoreCluster::Drain() {
  const WorkloadOptions& w = options_.base.workload;
  RunUntil(events_.now_us() + w.op_timeout_us + w.attempt_timeout_us,
           options_.base.tick_us, [this] {
             return std::all_of(clients_.begin(), clients_.end(),
                                [](const auto& c) { return c->idle(); });
           });
  // Read every key once more, side by side (reads carry no session).
  const size_t reader = tools_->AddClient();
  const uint64_t deadline =
      events_.now_us() + w.op_timeout_us + w.attempt_timeout_us;
  for (int k = 0; k < w.key_count; ++k) {
    kv::KvRequest get;
    const std::string key = WorkloadKey(static_cast<uint64_t>(k));
    get.mutable_get()->set_key(key);
    get.mutable_get()->set_read_mode(options_.base.lease_reads
                                         ? kv::READ_MODE_LEASE
                                         : kv::READ_MODE_READ_INDEX);
    tools_->Issue(reader, get, GetCall(0, key), deadline, nullptr);
  }
  RunUntil(deadline + 1, options_.base.tick_us,
           [this] { return tools_->pending() == 0; });
}

bool StoreCluster::Converged(std::string* detail) const {
  for (const uint64_t region_id : nemesis_->LiveRegionIds()) {
    const SimStoreNode* leader = nullptr;
    for (const auto& node : nodes_) {
      if (node->running() && node->store()->IsLeader(region_id)) {
        leader = node.get();
        break;
      }
    }
    if (leader == nullptr) {
      *detail = absl::StrCat("region ", region_id, " has no leader");
      return false;
    }
    const std::optional<store::PeerStatus> lead =
        leader->store()->GetPeerStatus(region_id);
    absl::StatusOr<store::RegionRecord> record =
        leader->store()->catalog().Get(region_id);
    if (!lead.has_value() || !record.ok()) continue;
    if (lead->applied_index != lead->commit_index) {
      *detail = absl::StrCat("region ", region_id, " leader on s", leader->id(),
                             " applied ", lead->applied_index, " of ",
                             lead->commit_index, " committed");
      return false;
    }
    for (const meta::Peer& peer : record->region.peers()) {
      const SimStoreNode& node = *nodes_[peer.store_id() - 1];
      if (!node.running()) continue;  // lost for good
      const std::optional<store::PeerStatus> status =
          node.store()->GetPeerStatus(region_id);
      if (!status.has_value() || status->peer_id != peer.id() ||
          status->applied_index != lead->applied_index) {
        *detail =
            absl::StrCat("region ", region_id, " peer ", peer.id(), " on s",
                         peer.store_id(), " ",
                         status.has_value()
                             ? absl::StrCat("(peer ", status->peer_id,
                                            ") applied ", status->applied_index)
                             : std::string("is missing"),
                         ", its leader on s", leader->id(), " applied ",
                         lead->applied_index);
        return false;
      }
      if (status->kv_digest != lead->kv_digest) {
        *detail = absl::StrCat(
            "region ", region_id, " peer ", peer.id(), " on s", peer.store_id(),
            " and its leader on s", leader->id(), " both applied ",
            lead->applied_index, " but their KV digests differ");
        return false;
      }
    }
  }
  return true;
}

bool StoreCluster::CoversKeySpace(std::string* detail) const {
  // The regions' ranges as their leaders see them, by start key: they must
  // tile the key space, from the empty start to the empty end, with no gap
  // and no overlap (splits and merges move boundaries, never lose them).
  std::vector<meta::Region> regions;
  for (const uint64_t region_id : nemesis_->LiveRegionIds()) {
    for (const auto& node : nodes_) {
      if (!node->running() || !node->store()->IsLeader(region_id)) continue;
      absl::StatusOr<store::RegionRecord> record =
          node->store()->catalog().Get(region_id);
      if (record.ok()) regions.push_back(record->region);
      break;
    }
  }
  std::sort(regions.begin(), regions.end(),
            [](const meta::Region& a, const meta::Region& b) {
              return a.start_key() < b.start_key();
            });
  std::string expected_start;
  for (size_t i = 0; i < regions.size(); ++i) {
    const meta::Region& r = regions[i];
    if (r.start_key() != expected_start) {
      *detail = absl::StrCat("region ", r.id(), " starts at \"", r.start_key(),
                             "\" where the key space needs \"", expected_start,
                             "\" (a gap or an overlap)");
      return false;
    }
    if (r.end_key().empty() && i + 1 != regions.size()) {
      *detail = absl::StrCat("region ", r.id(),
                             " runs to the end of the key space, but region ",
                             regions[i + 1].id(), " follows it");
      return false;
    }
    expected_start = r.end_key();
  }
  if (regions.empty() || !regions.back().end_key().empty()) {
    *detail =
        absl::StrCat("the live regions do not reach the end of the key space (",
                     regions.size(), " regions, the last ending at \"",
                     expected_start, "\")");
    return false;
  }
  return true;
}

void StoreCluster::CheckConvergence(StoreRunResult& result) {
  // A stale replica (removed while cut off) is noticed only after its
  // stale-peer check period, and its range may hold back a newer region's
  // replica until then: the bound covers two such periods.
  const uint64_t ticks =
      options_.base.LivenessTicks() + 2 * StaleCheckTicks(options_.base);
  const uint64_t deadline = events_.now_us() + ticks * options_.base.tick_us;
  std::string detail;
  RunUntil(deadline, ElectionUs(), [this, &detail] {
    detail.clear();
    return Converged(&detail);
  });
  if (trace_.keeps_text()) TraceRegions();
  if (detail.empty() && !CoversKeySpace(&detail)) {
    result.convergence_ok = false;
    result.base.violations.push_back(
        SafetyViolation{"key space", events_.now_us(), detail});
    return;
  }
  if (detail.empty()) return;
  result.convergence_ok = false;
  const bool diverged = detail.find("digests differ") != std::string::npos;
  result.base.violations.push_back(
      SafetyViolation{diverged ? "replica agreement" : "replica convergence",
                      events_.now_us(), detail});
}

void StoreCluster::TraceRegions() {
  absl::btree_set<uint64_t> all;
  for (const auto& node : nodes_) {
    if (!node->up()) continue;
    for (const store::RegionRecord& record :
         node->store()->catalog().RegionSnapshot()) {
      all.insert(record.region.id());
    }
  }
  for (const uint64_t region_id : all) {
    for (const auto& node : nodes_) {
      if (!node->up()) continue;
      const store::Store& s = *node->store();
      absl::StatusOr<store::RegionRecord> record = s.catalog().Get(region_id);
      const std::optional<store::PeerStatus> status =
          s.GetPeerStatus(region_id);
      std::string line =
          absl::StrCat("end: region ", region_id, " on s", node->id(), ": ");
      if (record.ok()) {
        absl::StrAppend(&line, store::RegionStateName(record->state), " ",
                        record->region.ShortDebugString());
      } else {
        absl::StrAppend(&line, "not in the catalog");
      }
      if (status.has_value()) {
        absl::StrAppend(&line, " | peer ", status->peer_id, " role ",
                        std::string(raft::RoleName(status->role)), " term ",
                        status->term, " leader ", status->leader_peer_id,
                        " commit ", status->commit_index, " applied ",
                        status->applied_index, " last ", status->last_index,
                        " snapshot ", status->snapshot_index);
      }
      trace_.Line(events_.now_us(), line);
    }
  }
  for (const auto& node : nodes_) {
    if (!node->up()) continue;
    const store::StoreStats st = node->store()->stats();
    trace_.Line(
        events_.now_us(),
        absl::StrCat("end: s", node->id(), " messages refused ",
                     st.messages_refused, " peers created ", st.peers_created,
                     " destroyed ", st.peers_destroyed, " readded ",
                     st.peers_readded, " tombstones sent ", st.tombstones_sent,
                     " received ", st.tombstones_received, " messages dropped ",
                     st.peers.messages_dropped, " meta updates refused ",
                     st.meta_updates_refused, " snapshots refused ",
                     st.snapshot_messages_refused));
  }
}

StoreRunResult StoreCluster::Run() {
  StoreRunResult result;
  const SimOptions& o = options_.base;
  result.base.seed = o.seed;
  result.stores = o.node_count;
  result.regions_start = bootstrap_regions_.size();
  trace_.Line(0, absl::StrCat("seed ", o.seed, ": ", options_.Describe()));
  for (const FaultEvent& fault : faults_) {
    events_.ScheduleAt(fault.at_us, [this, fault] { ApplyFault(fault); });
  }
  for (int i = 1; i <= o.node_count; ++i) RestartLater(i, 0);
  for (auto& client : clients_) client->Start();
  nemesis_->Start();
  RunUntil(o.ticks * o.tick_us, o.ticks * o.tick_us, [] { return false; });
  for (auto& client : clients_) client->Stop();
  nemesis_->Stop();
  LiftAllFaults();
  result.base.liveness_ok = CheckLiveness();
  const uint64_t liveness_end_us = events_.now_us();
  if (!result.base.liveness_ok) {
    trace_.Line(liveness_end_us,
                absl::StrCat("liveness failed: ", liveness_detail_));
  }
  Drain();
  for (const SafetyViolation& v : checker_.violations()) {
    result.base.violations.push_back(v);
  }
  if (!budget_exhausted_) CheckConvergence(result);
  if (budget_exhausted_) {
    result.base.violations.push_back(SafetyViolation{
        "event budget", events_.now_us(),
        absl::StrCat("the run took ", events_.events_run(), " events for ",
                     history_.operations().size(), " operations and ",
                     checker_.applied_entries(),
                     " applied entries (a message storm or livelock)")});
  } else if (!result.base.liveness_ok) {
    result.base.violations.push_back(SafetyViolation{
        "liveness", liveness_end_us,
        absl::StrCat("not every region elected a leader and committed a "
                     "fresh write within ",
                     o.LivenessTicks(),
                     " ticks after healing: ", liveness_detail_)});
  }
  const LinearizabilityResult lin = CheckLinearizability(history_.operations());
  result.base.linearizability = lin.verdict;
  result.base.linearizability_summary = lin.Summary();
  result.base.simulated_us = events_.now_us();
  result.base.events = events_.events_run();
  result.base.trace_hash = trace_.hash();
  for (const auto& c : clients_) {
    result.base.ops_ok += c->stats().ok;
    result.base.ops_failed += c->stats().failed;
    result.base.ops_unknown += c->stats().unknown;
  }
  const NetworkStats& net = network_->stats();
  result.base.scheduled_faults = faults_applied_;
  result.base.faults_injected =
      faults_applied_ + net.dropped_total() + net.duplicated;
  for (const auto& node : nodes_) {
    const SimDiskStats& d = node->disk().stats();
    result.base.faults_injected +=
        d.read_corruptions + d.write_corruptions + d.latent_sector_errors +
        d.io_errors + d.disk_full_errors + d.sectors_torn + d.sectors_dropped;
    result.restarts += node->stats().restarts;
    if (node->disk_lost()) ++result.disks_lost;
  }
  result.base.commit_index_max = checker_.applied_entries();
  result.regions_end = nemesis_->LiveRegionIds().size();
  result.admin = nemesis_->stats();
  trace_.Line(events_.now_us(), result.Summary());
  return result;
}

StoreRunResult RunStoreSeed(const StoreSimOptions& options,
                            const std::vector<FaultEvent>& faults,
                            bool keep_trace, std::string* trace_text,
                            std::vector<Operation>* history) {
  StoreCluster cluster(options, faults, keep_trace);
  StoreRunResult result = cluster.Run();
  if (trace_text != nullptr) *trace_text = cluster.trace().text();
  if (history != nullptr) *history = cluster.history().operations();
  return result;
}

}  // namespace raftstore::sim
