#include "runtime/node.h"

#include <uv.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/base/check.h"
#include "core/base/rng.h"
#include "core/storage/manifest/snapshot_file.h"
#include "core/store/requests.h"
#include "transport/frame.h"
#include "transport/hello.h"

namespace raftstore::runtime {
namespace {

// TakeEffects rounds per loop iteration; a store that still has work after
// them continues in the next iteration (the idle handle keeps the loop from
// blocking), so timers and sockets are served in between.
constexpr int kEffectRoundsMax = 64;

// The backoff a ServerBusy answer of the client port suggests.
constexpr uint64_t kBusyBackoffMs = 10;

// Admin paths of --chaos-endpoints.
constexpr absl::string_view kChaosBlock = "/chaos/block/";
constexpr absl::string_view kChaosUnblock = "/chaos/unblock/";

}  // namespace

store::StoreConfig NodeStoreConfig(const NodeOptions& options) {
  store::StoreConfig config;
  config.cluster_id = options.cluster_id;
  config.store_id = options.store_id;
  config.election_tick = static_cast<int>(options.election_ticks);
  config.heartbeat_tick = static_cast<int>(options.heartbeat_ticks);
  config.pre_vote = true;
  config.check_quorum = true;
  // ReadIndex reads: a lease would rest on bounded clock drift between
  // machines, which nothing here measures.
  config.lease_reads = false;
  config.raft_log_gc_entries_max = options.raft_log_gc_entries;
  // No automatic split: the new region's id and peer ids must be unique in
  // the whole cluster, and without a placement service no node can
  // allocate them alone. Splits come as admin commands with their ids.
  config.region_split_bytes = 0;
  return config;
}

std::unique_ptr<Node> Node::Create(uv_loop_t* loop, const NodeOptions& options,
                                   transport::LogSink log) {
  RS_CHECK(options.Validate().ok()) << options.Validate();
  return std::unique_ptr<Node>(new Node(loop, options, std::move(log)));
}

Node::Node(uv_loop_t* loop, const NodeOptions& options, transport::LogSink log)
    : loop_(loop),
      options_(options),
      config_(NodeStoreConfig(options)),
      log_(std::move(log)),
      started_at_(std::chrono::steady_clock::now()) {}

Node::~Node() {
  RS_CHECK(stopped_ || (!timers_started_ && transport_ == nullptr &&
                        client_server_ == nullptr && admin_ == nullptr))
      << "Node destroyed before Stop() completed";
  // The next job's write points into the store: drop it first.
  next_job_ = StorageJob{};
  store_.reset();
  worker_.reset();
}

absl::Status Node::Start() {
  DataDirOptions dir;
  dir.directory = options_.data_dir;
  dir.cluster_id = options_.cluster_id;
  dir.store_id = options_.store_id;
  dir.init = options_.init;
  for (const auto& peer : options_.peers) dir.store_ids.push_back(peer.first);
  dir.wal.segment_bytes_max = options_.wal_segment_bytes;
  dir.snapshot_file = config_.snapshot_file;
  if (absl::Status valid = storage::ValidateWalOptions(dir.wal); !valid.ok()) {
    exit_code_ = kNodeExitUsage;
    return valid;
  }
  int exit_code = kNodeExitFailure;
  absl::StatusOr<OpenedDataDir> opened = OpenDataDir(dir, &exit_code);
  if (!opened.ok()) {
    exit_code_ = exit_code;
    return opened.status();
  }
  if (opened->created) {
    log_(absl::StrCat("created store ", options_.store_id, " of cluster ",
                      options_.cluster_id, " in ", options_.data_dir,
                      options_.init == NodeInit::kBootstrap
                          ? " with the cluster's first region"
                          : " with no region (joining)"));
  }
  lock_ = std::move(opened->lock);
  const size_t regions = opened->recovery.regions.size();
  worker_ = std::make_unique<StorageWorker>(
      loop_, std::move(opened->disk), std::move(opened->manifest),
      std::move(opened->wal), config_.snapshot_file);
  const uint64_t seed =
      (uint64_t{std::random_device{}()} << 32) ^ std::random_device{}();
  absl::StatusOr<std::unique_ptr<store::Store>> store =
      store::Store::Open(config_, std::move(opened->recovery), Rng(seed));
  if (!store.ok()) {
    exit_code_ = kNodeExitFailure;
    return absl::Status(
        store.status().code(),
        absl::StrCat("data dir ", options_.data_dir,
                     ": recovering the store: ", store.status().message()));
  }
  store_ = *std::move(store);
  if (absl::Status s = OpenStore(); !s.ok()) {
    exit_code_ = kNodeExitFailure;
    return s;
  }
  if (absl::Status s = StartPorts(); !s.ok()) {
    exit_code_ = kNodeExitUsage;
    return s;
  }
  StartTimers();
  log_(absl::StrCat("store ", options_.store_id, " of cluster ",
                    options_.cluster_id, " serving ", regions, " regions from ",
                    options_.data_dir, ": raft ", options_.RaftAddress(),
                    " (port ", raft_port(), "), client port ", client_port(),
                    admin_ ? absl::StrCat(", admin port ", admin_port()) : "",
                    ", tick ", options_.tick_ms, " ms, rng seed ", seed));
  return absl::OkStatus();
}

absl::Status Node::OpenStore() {
  // Snapshot files a crash left behind (written but never referred to by a
  // durable WAL record, or superseded) go before anything else is written.
  absl::StatusOr<std::vector<std::string>> removed =
      storage::RemoveStaleSnapshotFiles(worker_->disk(),
                                        store_->LiveSnapshotFiles());
  if (!removed.ok()) return removed.status();
  counters_.snapshot_files_removed += removed->size();
  wal_stats_ = worker_->wal()->stats();
  manifest_stats_ = worker_->manifest()->stats();
  return absl::OkStatus();
}

absl::Status Node::StartPorts() {
  transport::TcpTransportOptions raft;
  raft.cluster_id = options_.cluster_id;
  raft.store_id = options_.store_id;
  raft.auth_token = options_.auth_token;
  raft.listen_address = options_.RaftAddress();
  transport::LogSink log = log_;
  absl::StatusOr<std::unique_ptr<transport::TcpTransport>> started =
      transport::TcpTransport::Start(
          loop_, raft,
          [this](uint64_t from, store::RaftMessageBatch&& batch) {
            OnBatch(from, std::move(batch));
          },
          [log](absl::string_view line) {
            log(absl::StrCat("raft port: ", line));
          });
  if (!started.ok()) return started.status();
  transport_ = *std::move(started);
  for (const auto& [store_id, address] : options_.peers) {
    if (store_id == options_.store_id) continue;
    if (absl::Status s = transport_->SetPeerAddress(store_id, address);
        !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--peers: store ", store_id, ": ", s.message()));
    }
  }
  transport::FramedServerOptions client;
  client.listen_address = options_.client_listen;
  client.require_hello = true;
  client.hello_policy.cluster_id = options_.cluster_id;
  client.hello_policy.auth_token = options_.auth_token;
  client.hello_policy.require_store_id = false;
  client.connections_max = options_.client_connections_max;
  transport::FramedServer::Callbacks callbacks;
  callbacks.on_frame = [this](transport::FramedServer::ConnectionId id,
                              transport::Frame&& frame) {
    return OnClientFrame(id, std::move(frame));
  };
  callbacks.on_closed = [this](transport::FramedServer::ConnectionId id,
                               const transport::CloseInfo&) {
    OnClientClosed(id);
  };
  absl::StatusOr<std::unique_ptr<transport::FramedServer>> server =
      transport::FramedServer::Listen(
          loop_, client, std::move(callbacks), [log](absl::string_view line) {
            log(absl::StrCat("client port: ", line));
          });
  if (!server.ok()) return server.status();
  client_server_ = *std::move(server);
  if (options_.admin_listen.empty()) return absl::OkStatus();
  HttpServerOptions http;
  http.listen_address = options_.admin_listen;
  absl::StatusOr<std::unique_ptr<HttpServer>> admin = HttpServer::Listen(
      loop_, http, [this](absl::string_view path) { return ServeAdmin(path); },
      [log](absl::string_view line) {
        log(absl::StrCat("admin port: ", line));
      });
  if (!admin.ok()) return admin.status();
  admin_ = *std::move(admin);
  return absl::OkStatus();
}

void Node::StartTimers() {
  RS_CHECK_EQ(uv_timer_init(loop_, &tick_timer_), 0);
  RS_CHECK_EQ(uv_prepare_init(loop_, &prepare_), 0);
  RS_CHECK_EQ(uv_idle_init(loop_, &idle_), 0);
  tick_timer_.data = this;
  prepare_.data = this;
  idle_.data = this;
  open_handles_ = 3;
  timers_started_ = true;
  uv_timer_start(&tick_timer_, TickCb, options_.tick_ms, options_.tick_ms);
  uv_prepare_start(&prepare_, PrepareCb);
  dirty_ = true;  // a recovered store may have work at once
}

int Node::raft_port() const {
  return transport_ ? transport_->listen_port() : 0;
}

int Node::client_port() const {
  return client_server_ ? client_server_->port() : 0;
}

int Node::admin_port() const { return admin_ ? admin_->port() : 0; }

uint64_t Node::NowMs() const { return uv_now(loop_); }

// ---- Inputs ----------------------------------------------------------

void Node::OnTick() {
  if (stopping_) return;
  store_->Tick();
  ExpireRequests();
  dirty_ = true;
}

void Node::OnBatch(uint64_t /*from_store_id*/,
                   store::RaftMessageBatch&& batch) {
  if (stopping_) return;
  // The transport checked the envelope against the HELLO; the store checks
  // it again and counts what it refuses.
  if (!store_->Receive(batch).ok()) ++counters_.raft_batches_refused;
  dirty_ = true;
}

absl::Status Node::OnClientFrame(transport::FramedServer::ConnectionId id,
                                 transport::Frame&& frame) {
  if (stopping_) return absl::CancelledError("the node is stopping");
  if (auto* request = std::get_if<kv::KvRequest>(&frame.message)) {
    ++counters_.client_requests;
    const uint64_t reply_to = Admit(id);
    if (reply_to == 0) {
      ++counters_.client_busy_refusals;
      return client_server_->Send(
          id, store::ErrorResponse(
                  *request,
                  store::ServerBusyError("client requests in flight on this "
                                         "node",
                                         kBusyBackoffMs)));
    }
    store_->Submit(reply_to, *request);
    dirty_ = true;
    return absl::OkStatus();
  }
  if (auto* request = std::get_if<store::AdminRequest>(&frame.message)) {
    ++counters_.admin_requests;
    const uint64_t reply_to = Admit(id);
    if (reply_to == 0) {
      ++counters_.client_busy_refusals;
      store::AdminResponse busy;
      busy.set_request_id(request->request_id());
      *busy.mutable_error() = store::ServerBusyError(
          "client requests in flight on this node", kBusyBackoffMs);
      return client_server_->Send(id, busy);
    }
    store_->SubmitAdmin(reply_to, *request);
    dirty_ = true;
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(
      absl::StrCat("the client port takes KV_REQUEST and ADMIN_REQUEST "
                   "frames, not ",
                   std::string(transport::FrameTypeName(frame.type()))));
}

uint64_t Node::Admit(transport::FramedServer::ConnectionId id) {
  if (pending_.size() >= options_.client_requests_max) return 0;
  absl::btree_set<uint64_t>& mine = connection_requests_[id];
  if (mine.size() >= options_.client_requests_per_connection_max) return 0;
  const uint64_t reply_to = next_reply_to_++;
  pending_[reply_to] = Pending{id, NowMs()};
  mine.insert(reply_to);
  return reply_to;
}

void Node::OnClientClosed(transport::FramedServer::ConnectionId id) {
  auto it = connection_requests_.find(id);
  if (it == connection_requests_.end()) return;
  // Their answers, when they come, have nowhere to go.
  for (uint64_t reply_to : it->second) pending_.erase(reply_to);
  connection_requests_.erase(it);
}

void Node::ExpireRequests() {
  const uint64_t now = NowMs();
  while (!pending_.empty()) {
    auto oldest = pending_.begin();
    if (now - oldest->second.submitted_ms < options_.client_request_ttl_ms) {
      return;  // reply_to grows with time: the rest are younger
    }
    ++counters_.client_requests_expired;
    TakePending(oldest->first);
  }
}

transport::FramedServer::ConnectionId Node::TakePending(uint64_t reply_to) {
  auto it = pending_.find(reply_to);
  if (it == pending_.end()) return 0;
  const transport::FramedServer::ConnectionId id = it->second.connection;
  pending_.erase(it);
  auto mine = connection_requests_.find(id);
  if (mine != connection_requests_.end()) {
    mine->second.erase(reply_to);
    if (mine->second.empty()) connection_requests_.erase(mine);
  }
  return id;
}

void Node::OnJobDone(StorageJob job, const StorageJobResult& result) {
  counters_.manifest_edits += job.manifest_edits.size();
  counters_.snapshot_files_removed += result.snapshot_files_removed;
  counters_.wal_segments_removed += result.segments_removed;
  wal_stats_ = result.wal;
  manifest_stats_ = result.manifest;
  if (job.write.has_value()) {
    ++counters_.storage_writes;
    if (job.write->must_sync) ++counters_.storage_syncs;
    counters_.storage_sync_us_total += result.sync_us;
    counters_.storage_sync_us_max =
        std::max(counters_.storage_sync_us_max, result.sync_us);
  }
  if (!result.status.ok()) {
    Fail(result.status);
    return;
  }
  if (stopping_) {
    // The sync finished; nobody is listening for what it releases.
    in_flight_held_.clear();
    MaybeStopped();
    return;
  }
  if (job.write.has_value()) {
    const store::WriteBatch& write = *job.write;
    store_->OnPersisted(write.token);
    if (!write.snapshots.empty() || !write.removed_groups.empty()) {
      // New snapshots are durable and the WAL points at them (or groups
      // are gone): older snapshot files and the segments no region needs
      // may go, in the next job.
      next_job_.collect_keep = store_->LiveSnapshotFiles();
    }
  }
  for (Held& held : in_flight_held_) Release(held);
  in_flight_held_.clear();
  dirty_ = true;
}

// ---- The effects loop ------------------------------------------------

void Node::Process() {
  if (!dirty_ || stopping_) return;
  dirty_ = false;
  int round = 0;
  for (; round < kEffectRoundsMax; ++round) {
    store::StoreEffects effects = store_->TakeEffects();
    if (effects.empty()) break;
    HandleEffects(effects);
  }
  if (round == kEffectRoundsMax) dirty_ = true;
  MaybeSubmitJob();
  // While work remains, the idle handle keeps the loop's poll from
  // blocking, so the next iteration comes at once.
  if (dirty_) {
    uv_idle_start(&idle_, IdleCb);
  } else {
    uv_idle_stop(&idle_);
  }
}

void Node::HandleEffects(store::StoreEffects& effects) {
  const bool hold = effects.manifest_edit.has_value();
  if (hold) {
    next_job_.manifest_edits.push_back(std::move(*effects.manifest_edit));
  }
  if (!effects.write.empty()) {
    RS_CHECK(!next_job_.write.has_value())
        << "the store handed out a second write before OnPersisted";
    next_job_.write = std::move(effects.write);
  }
  // Split suggestions are ignored (NodeStoreConfig turns them off) and
  // WaitApplied is never called, so neither has anything to carry.
  Held out{std::move(effects.messages), std::move(effects.replies),
           std::move(effects.admin_replies)};
  if (hold) {
    ++counters_.effects_held_for_manifest;
    next_held_.push_back(std::move(out));
    return;
  }
  Release(out);
}

void Node::Release(Held& held) {
  for (const store::RaftMessageBatch& batch : held.messages) SendBatch(batch);
  for (store::ClientReply& reply : held.replies) Reply(reply);
  for (store::AdminReply& reply : held.admin_replies) AdminReply(reply);
}

void Node::SendBatch(const store::RaftMessageBatch& batch) {
  const transport::SendResult sent =
      transport_->Send(batch.to_store_id(), batch);
  if (sent != transport::SendResult::kQueued) {
    ++counters_.raft_batches_not_queued;
  }
}

void Node::Reply(store::ClientReply& reply) {
  const transport::FramedServer::ConnectionId id = TakePending(reply.reply_to);
  if (id == 0 || !client_server_->Send(id, reply.response).ok()) {
    ++counters_.client_replies_dropped;
    return;
  }
  ++counters_.client_replies;
}

void Node::AdminReply(store::AdminReply& reply) {
  const transport::FramedServer::ConnectionId id = TakePending(reply.reply_to);
  if (id == 0 || !client_server_->Send(id, reply.response).ok()) {
    ++counters_.client_replies_dropped;
    return;
  }
  ++counters_.client_replies;
}

void Node::MaybeSubmitJob() {
  if (stopping_ || worker_->busy() || next_job_.empty()) return;
  in_flight_held_ = std::move(next_held_);
  next_held_.clear();
  StorageJob job = std::move(next_job_);
  next_job_ = StorageJob{};
  ++counters_.storage_jobs;
  worker_->Submit(std::move(job),
                  [this](StorageJob done, const StorageJobResult& result) {
                    OnJobDone(std::move(done), result);
                  });
}

// ---- Stopping --------------------------------------------------------

void Node::Fail(const absl::Status& status) {
  if (failed_) return;
  failed_ = true;
  exit_code_ = kNodeExitFailure;
  log_(
      absl::StrCat("fatal: storage failed; stopping without acknowledging "
                   "anything more: ",
                   status.ToString()));
  Stop(nullptr);
  if (on_failure_) {
    auto on_failure = std::move(on_failure_);
    on_failure();
  }
}

void Node::Stop(std::function<void()> on_done) {
  if (on_done && !on_stopped_) on_stopped_ = std::move(on_done);
  if (stopping_) {
    MaybeStopped();
    return;
  }
  stopping_ = true;
  auto part_closed = [this] {
    --closing_parts_;
    MaybeStopped();
  };
  if (timers_started_) {
    uv_close(reinterpret_cast<uv_handle_t*>(&tick_timer_), HandleClosedCb);
    uv_close(reinterpret_cast<uv_handle_t*>(&prepare_), HandleClosedCb);
    uv_close(reinterpret_cast<uv_handle_t*>(&idle_), HandleClosedCb);
  }
  // Pending client requests get no answer: the client sees its connection
  // close, an unknown outcome, exactly as after a crash.
  if (client_server_ && !client_server_->closed()) {
    ++closing_parts_;
    client_server_->Close(part_closed);
  }
  if (admin_ && !admin_->closed()) {
    ++closing_parts_;
    admin_->Close(part_closed);
  }
  if (transport_ && !transport_->closed()) {
    ++closing_parts_;
    transport_->Close(part_closed);
  }
  MaybeStopped();
}

void Node::MaybeStopped() {
  if (!stopping_ || stopped_) return;
  if (closing_parts_ > 0 || open_handles_ > 0) return;
  if (worker_ != nullptr && worker_->busy()) return;  // finish the fsync
  stopped_ = true;
  if (!failed_ && exit_code_ == kNodeExitOk) {
    log_(absl::StrCat("store ", options_.store_id, " stopped"));
  }
  if (on_stopped_) {
    auto done = std::move(on_stopped_);
    done();
  }
}

// ---- Admin -----------------------------------------------------------

NodeStatus Node::Status() const {
  NodeStatus s;
  s.cluster_id = options_.cluster_id;
  s.store_id = options_.store_id;
  s.uptime_ms = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::steady_clock::now() - started_at_)
          .count());
  s.tick_ms = options_.tick_ms;
  s.serving = !stopping_;
  if (store_ != nullptr) {
    s.store = store_->stats();
    s.regions = store_->catalog().CountByState();
    for (const store::RegionRecord& record :
         store_->catalog().RegionSnapshot()) {
      if (store_->IsLeader(record.region.id())) ++s.leaders;
    }
  }
  if (transport_ != nullptr) s.transport = transport_->metrics();
  if (client_server_ != nullptr) s.client_port = client_server_->metrics();
  if (admin_ != nullptr) s.admin_http = admin_->metrics();
  s.wal = wal_stats_;
  s.manifest = manifest_stats_;
  s.node = counters_;
  s.node.client_requests_pending = pending_.size();
  return s;
}

HttpResponse Node::ServeAdmin(absl::string_view path) {
  HttpResponse response;
  if (path == "/metrics") {
    response.content_type = "text/plain; version=0.0.4; charset=utf-8";
    response.body = MetricsText(Status());
  } else if (path == "/stats") {
    response.content_type = "application/json";
    // Summaries, not statuses: /stats stays cheap however much data the
    // store holds (/regions carries the digests).
    response.body = StatsJson(Status(), store_->PeerSummaries());
  } else if (path == "/regions") {
    response.content_type = "application/json";
    response.body =
        RegionsJson(store_->catalog().RegionSnapshot(), store_->PeerStatuses());
  } else if (options_.chaos_endpoints &&
             (absl::StartsWith(path, kChaosBlock) ||
              absl::StartsWith(path, kChaosUnblock))) {
    response = ServeChaos(path);
  } else if (path == "/") {
    response.body = absl::StrCat("raftstore-node: store ", options_.store_id,
                                 " of cluster ", options_.cluster_id,
                                 "\n/metrics  Prometheus text\n/stats    JSON\n"
                                 "/regions  JSON\n");
  } else {
    response.status = 404;
    response.body = absl::StrCat("no page ", std::string(path),
                                 "; try /metrics, /stats or /regions\n");
  }
  return response;
}

HttpResponse Node::ServeChaos(absl::string_view path) {
  HttpResponse response;
  const bool block = absl::StartsWith(path, kChaosBlock);
  absl::string_view id_text =
      path.substr(block ? kChaosBlock.size() : kChaosUnblock.size());
  uint64_t store_id = 0;
  if (!absl::SimpleAtoi(id_text, &store_id) || store_id == 0 ||
      store_id == options_.store_id) {
    response.status = 400;
    response.body =
        absl::StrCat("expected /chaos/[un]block/<another store id>, got ",
                     std::string(path), "\n");
    return response;
  }
  if (block) {
    transport_->BlockPeer(store_id);
  } else {
    transport_->UnblockPeer(store_id);
  }
  log_(absl::StrCat(block ? "chaos: blocked" : "chaos: unblocked", " store ",
                    store_id));
  response.body =
      absl::StrCat(block ? "blocked" : "unblocked", " store ", store_id, "\n");
  return response;
}

// ---- libuv callbacks -------------------------------------------------

void Node::TickCb(uv_timer_t* timer) {
  static_cast<Node*>(timer->data)->OnTick();
}

void Node::PrepareCb(uv_prepare_t* prepare) {
  static_cast<Node*>(prepare->data)->Process();
}

void Node::IdleCb(uv_idle_t* /*idle*/) {
  // Nothing: its being active keeps the loop from blocking in poll.
}

void Node::HandleClosedCb(uv_handle_t* handle) {
  auto* node = static_cast<Node*>(handle->data);
  --node->open_handles_;
  node->MaybeStopped();
}

}  // namespace raftstore::runtime
