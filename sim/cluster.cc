#include "sim/cluster.h"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/base/check.h"

namespace raftstore::sim {
namespace {

// Fork order of the seed's Rng. DrawOptions takes the first fork; adding a
// consumer at the end never changes what the earlier ones draw.
struct Streams {
  explicit Streams(uint64_t seed) : root(seed) {
    root.Fork();  // options (DrawOptions)
    faults = root.Fork();
    network = root.Fork();
  }
  Rng root;
  Rng faults{0};
  Rng network{0};
};

}  // namespace

std::vector<FaultEvent> DrawFaults(const SimOptions& options) {
  Streams streams(options.seed);
  return GenerateFaults(options.faults, options.node_count,
                        options.ticks * options.tick_us, streams.faults);
}

std::string RunResult::Summary() const {
  std::string verdicts;
  if (violations.empty()) {
    verdicts = "safety=ok";
  } else {
    verdicts = absl::StrCat("safety=FAIL(", violations.front().property, ")");
  }
  absl::StrAppend(
      &verdicts, " linearizability=", std::string(VerdictName(linearizability)),
      " liveness=", liveness_ok ? "ok" : "FAIL");
  return absl::StrFormat(
      "seed=%d %s simulated=%.3fs events=%d ops=%d(ok=%d,fail=%d,unknown=%d) "
      "faults=%d(scheduled=%d) commit=%d %s trace=%016x",
      seed, ok() ? "PASS" : "FAIL", static_cast<double>(simulated_us) / 1e6,
      events, ops_ok + ops_failed + ops_unknown, ops_ok, ops_failed,
      ops_unknown, faults_injected, scheduled_faults, commit_index_max,
      verdicts, trace_hash);
}

Cluster::Cluster(const SimOptions& options, std::vector<FaultEvent> faults,
                 bool keep_trace)
    : options_(options),
      faults_(std::move(faults)),
      rng_(options.seed),
      events_(&clock_),
      trace_(keep_trace),
      checker_(options.node_count) {
  RS_CHECK(options_.Validate().ok()) << options_.Validate();
  Streams streams(options_.seed);
  network_ = std::make_unique<SimNetwork>(&events_, streams.network,
                                          options_.network, endpoint_count());
  network_->set_deliver([this](int from, int to, Payload&& payload) {
    Deliver(from, to, std::move(payload));
  });
  Rng& root = streams.root;
  for (int i = 0; i < options_.node_count; ++i) {
    const int endpoint = i;
    nodes_.push_back(std::make_unique<SimNode>(
        i + 1, &options_, &events_, &checker_, &trace_, root.Fork(),
        [this, endpoint](int to, Payload&& payload) {
          network_->Send(endpoint, to, std::move(payload));
        },
        [this, endpoint](bool up) {
          // A process that is down has lost its sockets: nothing in flight
          // to it arrives, and nothing sent to it while down does either.
          network_->SetNodeCrashed(endpoint, !up);
        }));
  }
  auto client_send = [this](int endpoint) {
    return [this, endpoint](int node, Payload&& payload) {
      const SendResult sent =
          network_->Send(endpoint, node - 1, std::move(payload));
      if (trace_.keeps_text()) {
        trace_.Line(events_.now_us(),
                    absl::StrCat("send ", endpoint, " -> ", node - 1, ": ",
                                 static_cast<int>(sent)));
      }
    };
  };
  for (int i = 0; i < options_.workload.client_count; ++i) {
    clients_.push_back(std::make_unique<SimClient>(
        i, &options_, &events_, &history_, &trace_, root.Fork(),
        client_send(options_.node_count + i)));
  }
  liveness_client_ = std::make_unique<SimClient>(
      kClientCountMax, &options_, &events_, &history_, &trace_, root.Fork(),
      client_send(options_.node_count + kClientCountMax));
}

Cluster::~Cluster() = default;

void Cluster::Deliver(int from, int to, Payload&& payload) {
  const int n = options_.node_count;
  trace_.Hash({0xde11, static_cast<uint64_t>(from), static_cast<uint64_t>(to),
               events_.now_us()});
  if (trace_.keeps_text() && (from >= n || to >= n)) {
    trace_.Line(events_.now_us(), absl::StrCat("deliver ", from, " -> ", to,
                                               " (", payload.size(), " B)"));
  }
  if (to < n) {
    nodes_[to]->Receive(from, std::move(payload));
  } else if (to < n + kClientCountMax) {
    const size_t client = static_cast<size_t>(to - n);
    if (client < clients_.size()) {
      clients_[client]->Receive(from + 1, payload);
    }
  } else {
    liveness_client_->Receive(from + 1, payload);
  }
}

uint64_t Cluster::Leader() const {
  uint64_t leader = 0;
  uint64_t term = 0;
  for (const auto& node : nodes_) {
    if (node->IsLeader() && !node->paused() && node->term() > term) {
      leader = node->id();
      term = node->term();
    }
  }
  return leader;
}

void Cluster::RestartLater(int node, uint64_t delay_us) {
  events_.ScheduleAfter(delay_us, [this, node] {
    SimNode& n = *nodes_[node - 1];
    if (n.up() || n.disk_lost()) return;
    if (!n.Start() && !n.disk_lost()) {
      // The disk is not ready (full, or an I/O error): try again later.
      RestartLater(node, options_.tick_us * options_.election_tick);
    }
  });
}

void Cluster::ApplyPartition(uint64_t shape) {
  // The shape's own Rng: a partition drawn here never shifts other streams.
  Rng rng(shape);
  const int n = options_.node_count;
  std::vector<std::vector<int>> groups;
  std::vector<int> all(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) all[i] = i;
  switch (shape % 5) {
    case 0:    // isolate one node
    case 4: {  // isolate the leader of the moment, where it hurts most
      const int leader = static_cast<int>(Leader());
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
      if (n < 2) return;
      const int from = static_cast<int>(rng.Uniform(n));
      const int to = (from + 1 + static_cast<int>(rng.Uniform(n - 1))) % n;
      network_->PartitionOneWay(from, to);
      trace_.Line(events_.now_us(), absl::StrCat("one-way partition n",
                                                 from + 1, " -> n", to + 1));
      return;
    }
  }
  // Clients land on a random side: a client cut off from the majority
  // sees its operations time out.
  for (int c = n; c < endpoint_count(); ++c) {
    groups[rng.Uniform(groups.size())].push_back(c);
  }
  network_->Partition(groups);
  trace_.Line(events_.now_us(),
              absl::StrCat("partition ", network_->DescribeFaults()));
}

void Cluster::ApplyFault(const FaultEvent& fault) {
  ++faults_applied_;
  trace_.Line(events_.now_us(), DescribeFault(fault));
  trace_.Hash({0xfa17, static_cast<uint64_t>(fault.kind),
               static_cast<uint64_t>(fault.node), fault.arg});
  const uint64_t now = events_.now_us();
  switch (fault.kind) {
    case FaultKind::kCrash:
    case FaultKind::kLeaderCrash: {
      const int node = fault.kind == FaultKind::kCrash
                           ? fault.node
                           : static_cast<int>(Leader());
      if (node == 0) return;
      nodes_[node - 1]->Crash();
      return;
    }
    case FaultKind::kRestart:
      if (fault.node != 0) {
        RestartLater(fault.node, 0);
      } else {
        for (int i = 1; i <= options_.node_count; ++i) RestartLater(i, 0);
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
        disk.SetCapacityBytes(options_.disk.capacity_bytes);
      });
      return;
    }
  }
}

bool Cluster::OverBudget() const {
  const uint64_t events = events_.events_run();
  if (events < kEventsWithoutProgressMax) return false;
  if (events >= kEventsPerRunMax) return true;
  // Checked every 65536 events: the progress count is cheap, but not free.
  if (events % 65536 != 0) return false;
  const uint64_t progress =
      history_.operations().size() + checker_.applied_max();
  return events > kEventsPerProgressMax * progress;
}

template <typename Done>
bool Cluster::RunUntil(uint64_t until_us, Done done) {
  while (!done()) {
    if (budget_exhausted_ || OverBudget()) {
      budget_exhausted_ = true;
      return false;
    }
    if (events_.empty() || events_.next_time_us() > until_us) {
      if (clock_.now_us() < until_us) clock_.AdvanceTo(until_us);
      return done();
    }
    events_.RunNext();
  }
  return true;
}

void Cluster::LiftAllFaults() {
  network_->Heal();
  // Random loss is a fault too: liveness is judged on a quiet network.
  network_->SetNoise(0, 0);
  trace_.Line(events_.now_us(), absl::StrCat("all faults lifted; network: ",
                                             network_->DescribeFaults(), "; ",
                                             network_->stats().Describe()));
  for (int i = 1; i <= options_.node_count; ++i) {
    SimNode& node = *nodes_[i - 1];
    node.disk().SetCapacityBytes(options_.disk.capacity_bytes);
    node.disk().SetFaults(SimDiskFaults{});
    node.SlowDisk(0);
    node.Resume();
    if (!node.up()) RestartLater(i, 0);
  }
}

bool Cluster::CheckLiveness() {
  const uint64_t deadline =
      events_.now_us() + options_.LivenessTicks() * options_.tick_us;
  // A leader, then a fresh write committed through it, within the bound.
  while (events_.now_us() < deadline) {
    RunUntil(deadline,
             [this] { return Leader() != 0 && liveness_client_->idle(); });
    if (budget_exhausted_ || Leader() == 0 || !liveness_client_->idle()) {
      break;
    }
    liveness_client_->IssuePut("liveness");
    RunUntil(deadline, [this] { return liveness_client_->idle(); });
    if (liveness_client_->last_put_ok()) {
      trace_.Line(events_.now_us(), "liveness: a fresh write committed");
      return true;
    }
  }
  return false;
}

void Cluster::Drain() {
  // Clients finish what they started (each operation ends by its deadline).
  const uint64_t op_deadline = events_.now_us() +
                               options_.workload.op_timeout_us +
                               options_.workload.attempt_timeout_us;
  RunUntil(op_deadline, [this] {
    return std::all_of(clients_.begin(), clients_.end(),
                       [](const auto& c) { return c->idle(); });
  });
  // Read every key once more: an acknowledged write that was lost shows up
  // as a read the linearizability checker cannot explain.
  for (int k = 0; k < options_.workload.key_count; ++k) {
    if (!liveness_client_->idle()) break;
    liveness_client_->IssueGet(WorkloadKey(static_cast<uint64_t>(k)));
    RunUntil(events_.now_us() + options_.workload.op_timeout_us +
                 options_.workload.attempt_timeout_us,
             [this] { return liveness_client_->idle(); });
  }
  // Let every replica catch up with the leader's commit index.
  const uint64_t catch_up =
      events_.now_us() + options_.LivenessTicks() * options_.tick_us;
  RunUntil(catch_up, [this] {
    uint64_t commit = 0;
    for (const auto& n : nodes_) commit = std::max(commit, n->commit_index());
    return std::all_of(nodes_.begin(), nodes_.end(), [commit](const auto& n) {
      return !n->up() || n->applied_index() >= commit;
    });
  });
}

void Cluster::CheckReplicas(RunResult& result) {
  const SimNode* reference = nullptr;
  for (const auto& node : nodes_) {
    if (!node->up()) continue;
    if (reference == nullptr) {
      reference = node.get();
      continue;
    }
    if (node->applied_index() == reference->applied_index() &&
        node->kv_digest() != reference->kv_digest()) {
      result.violations.push_back(SafetyViolation{
          "replica agreement", events_.now_us(),
          absl::StrCat("n", reference->id(), " and n", node->id(),
                       " applied index ", node->applied_index(),
                       " but their KV states differ")});
    }
  }
}

RunResult Cluster::Run() {
  RunResult result;
  result.seed = options_.seed;
  trace_.Line(0,
              absl::StrCat("seed ", options_.seed, ": ", options_.Describe()));
  for (const FaultEvent& fault : faults_) {
    events_.ScheduleAt(fault.at_us, [this, fault] { ApplyFault(fault); });
  }
  for (int i = 1; i <= options_.node_count; ++i) RestartLater(i, 0);
  for (auto& client : clients_) client->Start();
  const uint64_t faulty_end = options_.ticks * options_.tick_us;
  RunUntil(faulty_end, [] { return false; });
  for (auto& client : clients_) client->Stop();
  LiftAllFaults();
  result.liveness_ok = CheckLiveness();
  if (!result.liveness_ok) {
    trace_.Line(events_.now_us(), absl::StrCat("liveness failed; network: ",
                                               network_->DescribeFaults(), "; ",
                                               network_->stats().Describe()));
  }
  const uint64_t liveness_end_us = events_.now_us();
  Drain();
  // Safety first: a liveness failure is often a consequence of one.
  for (const SafetyViolation& v : checker_.violations()) {
    result.violations.push_back(v);
  }
  CheckReplicas(result);
  if (budget_exhausted_) {
    result.violations.push_back(SafetyViolation{
        "event budget", events_.now_us(),
        absl::StrCat("the run took ", events_.events_run(), " events for ",
                     history_.operations().size(), " operations and ",
                     checker_.applied_max(),
                     " applied entries (a message storm or livelock)")});
  } else if (!result.liveness_ok) {
    result.violations.push_back(SafetyViolation{
        "liveness", liveness_end_us,
        absl::StrCat("no leader committed a fresh write within ",
                     options_.LivenessTicks(), " ticks after healing")});
  }
  const LinearizabilityResult lin = CheckLinearizability(history_.operations());
  result.linearizability = lin.verdict;
  result.linearizability_summary = lin.Summary();
  result.simulated_us = events_.now_us();
  result.events = events_.events_run();
  result.trace_hash = trace_.hash();
  for (const auto& c : clients_) {
    result.ops_ok += c->operations_ok();
    result.ops_failed += c->operations_failed();
    result.ops_unknown += c->operations_unknown();
  }
  const NetworkStats& net = network_->stats();
  result.scheduled_faults = faults_applied_;
  result.faults_injected =
      faults_applied_ + net.dropped_total() + net.duplicated;
  for (const auto& node : nodes_) {
    const SimDiskStats& d = node->disk().stats();
    result.faults_injected += d.read_corruptions + d.write_corruptions +
                              d.latent_sector_errors + d.misdirected_writes +
                              d.io_errors + d.disk_full_errors +
                              d.sectors_torn + d.sectors_dropped;
    result.commit_index_max =
        std::max(result.commit_index_max, node->commit_index());
  }
  trace_.Line(events_.now_us(), result.Summary());
  return result;
}

RunResult RunSeed(const SimOptions& options,
                  const std::vector<FaultEvent>& faults, bool keep_trace,
                  std::string* trace_text, std::vector<Operation>* history) {
  Cluster cluster(options, faults, keep_trace);
  RunResult result = cluster.Run();
  if (trace_text != nullptr) *trace_text = cluster.trace().text();
  if (history != nullptr) *history = cluster.history().operations();
  return result;
}

}  // namespace raftstore::sim
