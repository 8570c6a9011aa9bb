#include "sim/store_node.h"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/btree_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "core/kv/kv_state_machine.h"
#include "core/storage/manifest/snapshot_file.h"
#include "core/store/region_state.h"
#include "core/store/snapshot_io.h"

namespace raftstore::sim {
namespace {

// Inputs a paused process may have waiting; past it, further ones are
// dropped (a full socket buffer).
constexpr size_t kDeferredMax = 4096;
// TakeEffects rounds in one go; past it the node continues in a later event
// (a store that always has more to do is a livelock the event budget
// catches, not a hang).
constexpr int kEffectRoundsMax = 64;

uint64_t DrawTickInterval(const SimOptions& o, Rng& rng) {
  if (o.tick_drift_ppm_max == 0) return o.tick_us;
  const uint64_t drift =
      rng.Range(0, 2 * static_cast<uint64_t>(o.tick_drift_ppm_max));
  const uint64_t scaled =
      o.tick_us * (kPpm - o.tick_drift_ppm_max + drift) / kPpm;
  return scaled == 0 ? 1 : scaled;
}

// As the single-group mode's (sim/node.cc): sessions may be evicted once
// idle for three operation timeouts, by when their clients have given up;
// values are small, so the bounds are too (which keeps snapshot chunks
// small enough that region snapshots span several of them).
kv::KvConfig StoreKvConfig(const SimOptions& o) {
  kv::KvConfig config;
  config.key_bytes_max = 256;
  config.value_bytes_max = 1024;
  config.session_response_bytes_max = size_t{16} * 1024;
  config.sessions_max = 1024;
  config.session_evict_idle_ticks_min =
      3 * (o.workload.op_timeout_us / o.tick_us + 1);
  config.session_ttl_ticks = 10 * config.session_evict_idle_ticks_min;
  return config;
}

// Small segments and a small manifest edit log, so that WAL rotation, segment
// GC and manifest rewrites run in every seed; every synced WAL batch is read
// back, so a garbled write fails the node before it acknowledges anything.
storage::WalOptions StoreWalOptions() {
  storage::WalOptions options;
  options.segment_bytes_max = uint64_t{64} * 1024;
  options.verify_writes = true;
  return options;
}

storage::ManifestOptions StoreManifestOptions() {
  storage::ManifestOptions options;
  options.edit_log_bytes_max = uint64_t{16} * 1024;
  return options;
}

const meta::Peer* PeerOnStore(const meta::Region& region, uint64_t store_id) {
  for (const meta::Peer& peer : region.peers()) {
    if (peer.store_id() == store_id) return &peer;
  }
  return nullptr;
}

}  // namespace

SimStoreNode::SimStoreNode(uint64_t store_id, const StoreSimOptions* options,
                           std::vector<meta::Region> regions,
                           EventQueue* events, StoreChecker* checker,
                           Trace* trace, Rng rng, Callbacks callbacks)
    : id_(store_id),
      options_(options),
      bootstrap_regions_(std::move(regions)),
      events_(events),
      checker_(checker),
      trace_(trace),
      rng_(rng),
      callbacks_(std::move(callbacks)),
      disk_(options->base.disk, rng_.Fork()),
      tick_interval_us_(DrawTickInterval(options->base, rng_)) {
  RS_CHECK_GE(id_, 1U);
  peer_ids_.node = this;
  if (static_cast<int>(id_) <= options_->base.corrupt_nodes) {
    media_faults_ = true;
    disk_.SetFaults(options_->base.corruption);
  }
}

void SimStoreNode::PeerIdCache::OnRegionUpdate(const meta::Region& region,
                                               meta::RegionState state) {
  if (node == nullptr || !node->trace_->keeps_text()) return;
  node->trace_->Line(
      node->events_->now_us(),
      absl::StrCat("s", node->id_, " catalog: region ", region.id(), " ",
                   store::RegionStateName(state), " [", region.start_key(),
                   ", ", region.end_key(), ") epoch ", region.epoch().version(),
                   "/", region.epoch().conf_version(), " peers ",
                   region.peers_size()));
}

SimStoreNode::~SimStoreNode() {
  // The write in flight points into the store's memory: drop it first.
  write_.reset();
  store_.reset();
}

store::StoreConfig SimStoreNode::MakeConfig() const {
  const SimOptions& o = options_->base;
  store::StoreConfig c;
  c.cluster_id = kSimClusterId;
  c.store_id = id_;
  c.election_tick = o.election_tick;
  c.heartbeat_tick = o.heartbeat_tick;
  c.pre_vote = o.pre_vote;
  c.check_quorum = o.check_quorum;
  c.lease_reads = o.lease_reads;
  c.max_size_per_msg_bytes = o.max_size_per_msg_bytes;
  c.max_inflight_msgs = o.max_inflight_msgs;
  c.kv = StoreKvConfig(o);
  c.raft_log_gc_entries_max = options_->raft_log_gc_entries_max;
  c.snapshot_chunk_bytes = kv::KvStateMachine::ChunkBytesMin(c.kv);
  c.learner_catch_up_entries_max = options_->learner_catch_up_entries_max;
  c.region_split_bytes = options_->region_split_bytes;
  c.split_check_ticks = 4 * static_cast<uint64_t>(o.election_tick);
  c.stale_peer_check_ticks = StaleCheckTicks(o);
  c.region_proposals_max = o.pending_proposals_max;
  c.store_proposals_max = 16 * o.pending_proposals_max;
  c.region_reads_max = o.pending_proposals_max;
  const absl::Status valid = c.Validate();
  RS_CHECK(valid.ok()) << valid;
  return c;
}

bool SimStoreNode::paused() const {
  return up() && paused_until_us_ > events_->now_us();
}

absl::Status SimStoreNode::Open() {
  auto manifest = storage::Manifest::Open(&disk_, StoreManifestOptions());
  if (!manifest.ok()) return manifest.status();
  manifest::StoreIdent ident;
  ident.set_cluster_id(kSimClusterId);
  ident.set_store_id(id_);
  if (!(*manifest)->ident().has_value()) {
    // The first start: the store's identity and the bootstrap regions it
    // has a peer of, in one edit.
    manifest::ManifestEdit edit;
    *edit.mutable_ident() = ident;
    std::vector<meta::Region> mine;
    for (const meta::Region& region : bootstrap_regions_) {
      if (PeerOnStore(region, id_) != nullptr) mine.push_back(region);
    }
    for (manifest::RegionRecord& record : store::BootstrapRecords(mine)) {
      *edit.add_put_regions() = std::move(record);
    }
    if (absl::Status s = (*manifest)->Apply(edit); !s.ok()) return s;
  }
  if (absl::Status s = (*manifest)->CheckIdent(ident); !s.ok()) return s;
  auto wal = storage::Wal::Open(&disk_, StoreWalOptions());
  if (!wal.ok()) return wal.status();
  store::StoreRecovery recovery;
  for (const auto& [id, record] : (*manifest)->regions()) {
    recovery.regions.push_back(record);
  }
  recovery.groups = (*wal)->TakeRecovered();
  const store::StoreConfig config = MakeConfig();
  auto snapshots =
      store::ReadRegionSnapshots(&disk_, recovery.groups, config.snapshot_file);
  if (!snapshots.ok()) return snapshots.status();
  recovery.snapshots = *std::move(snapshots);
  // The checker needs what was recovered after the store took it.
  const std::vector<manifest::RegionRecord> records = recovery.regions;
  const absl::btree_map<uint64_t, storage::WalGroupState> groups =
      recovery.groups;
  peer_ids_.ids.clear();
  auto opened = store::Store::Open(config, std::move(recovery), rng_.Fork(),
                                   {&peer_ids_}, checker_);
  if (!opened.ok()) return opened.status();
  manifest_ = *std::move(manifest);
  wal_ = *std::move(wal);
  store_ = *std::move(opened);
  ReportRecovered(records, groups);
  if (trace_->keeps_text()) {
    const storage::WalStats ws = wal_->stats();
    trace_->Line(
        events_->now_us(),
        absl::StrCat(
            "s", id_, " wal: ", ws.records_replayed, " records replayed, ",
            ws.torn_bytes_dropped, " torn bytes dropped; ", records.size(),
            " regions in the manifest; disk: ", disk_.stats().ToString()));
  }
  return absl::OkStatus();
}

void SimStoreNode::ReportRecovered(
    const std::vector<manifest::RegionRecord>& records,
    const absl::btree_map<uint64_t, storage::WalGroupState>& groups) {
  checker_->set_now_us(events_->now_us());
  for (const manifest::RegionRecord& record : records) {
    const meta::RegionState state = record.local_state().state();
    if (state != meta::REGION_STATE_RUNNING &&
        state != meta::REGION_STATE_NEW) {
      continue;
    }
    // The peer the store starts: the manifest meta's peer on this store
    // (as Peer::Create picks it).
    const meta::Peer* peer = PeerOnStore(record.local_state().region(), id_);
    if (peer == nullptr) continue;
    static const storage::WalGroupState kEmpty;
    auto it = groups.find(record.region_id());
    const storage::WalGroupState& group =
        it == groups.end() ? kEmpty : it->second;
    checker_->OnRecovered(id_, record.region_id(), peer->id(),
                          group.snapshot.index(), group.snapshot.term(),
                          group.entries, group.hard_state,
                          group.snapshot.index());
  }
}

void SimStoreNode::OnOpenFailed(const absl::Status& status) {
  trace_->Line(events_->now_us(),
               absl::StrCat("s", id_, " cannot recover: ", status.ToString()));
  trace_->Hash({0x5747, id_, static_cast<uint64_t>(status.code())});
  if (!absl::IsDataLoss(status)) return;  // try again later
  // Detected corruption: the store is gone for good (an operator would
  // rebuild it), and its replicas' promises go with it.
  disk_lost_ = true;
  checker_->set_now_us(events_->now_us());
  if (!media_faults_) {
    checker_->Report(
        "recovery",
        absl::StrCat("store ", id_,
                     " has no media faults, yet its disk did not recover: ",
                     status.ToString()));
  }
  checker_->OnDiskLost(id_);
}

bool SimStoreNode::Start() {
  if (up() || disk_lost_) return up();
  if (absl::Status status = Open(); !status.ok()) {
    OnOpenFailed(status);
    return false;
  }
  ++incarnation_;
  ++stats_.restarts;
  paused_until_us_ = 0;
  write_.reset();
  trace_->Line(
      events_->now_us(),
      absl::StrCat("s", id_, " starts with ",
                   store_->catalog().RegionSnapshot().size(), " regions"));
  trace_->Hash({0x57a7, id_, incarnation_});
  callbacks_.on_up(true);
  ScheduleTick();
  Process();
  return true;
}

void SimStoreNode::Crash() {
  if (!up()) return;
  ++stats_.crashes;
  ++incarnation_;
  write_.reset();
  store_.reset();
  wal_.reset();
  manifest_.reset();
  peer_ids_.ids.clear();
  deferred_.clear();
  process_scheduled_ = false;
  disk_.Crash();
  checker_->OnCrashed(id_);
  trace_->Line(events_->now_us(), absl::StrCat("s", id_, " crashes"));
  trace_->Hash({0xc7a5, id_});
  callbacks_.on_up(false);
}

void SimStoreNode::FailStop(const std::string& why) {
  ++stats_.fail_stops;
  trace_->Line(events_->now_us(), absl::StrCat("s", id_, " fail-stops: ", why));
  Crash();
  // A supervisor restarts the process after a while, as systemd would.
  const uint64_t delay = options_->base.tick_us *
                         static_cast<uint64_t>(options_->base.election_tick);
  events_->ScheduleAfter(delay, [this] {
    if (!up() && !disk_lost_) Start();
  });
}

void SimStoreNode::Pause(uint64_t until_us) {
  if (!up() || until_us <= events_->now_us()) return;
  ++stats_.pauses;
  const bool was_paused = paused();
  if (until_us > paused_until_us_) paused_until_us_ = until_us;
  trace_->Line(events_->now_us(),
               absl::StrCat("s", id_, " pauses until ", paused_until_us_));
  trace_->Hash({0xa05e, id_, paused_until_us_});
  if (was_paused) return;
  const uint64_t incarnation = incarnation_;
  events_->ScheduleAt(paused_until_us_,
                      [this, incarnation] { OnResume(incarnation); });
}

void SimStoreNode::Resume() {
  if (!paused()) return;
  paused_until_us_ = events_->now_us();
  const uint64_t incarnation = incarnation_;
  events_->ScheduleAfter(0, [this, incarnation] { OnResume(incarnation); });
}

void SimStoreNode::OnResume(uint64_t incarnation) {
  if (incarnation != incarnation_) return;
  if (paused()) {  // a later pause extended the wait
    events_->ScheduleAt(paused_until_us_,
                        [this, incarnation] { OnResume(incarnation); });
    return;
  }
  while (!deferred_.empty() && !paused() && incarnation == incarnation_) {
    auto action = std::move(deferred_.front());
    deferred_.pop_front();
    action();
  }
  if (incarnation == incarnation_) Process();
}

void SimStoreNode::WhenRunning(uint64_t incarnation,
                               absl::AnyInvocable<void()> action) {
  if (incarnation != incarnation_ || !up()) return;
  if (!paused() && deferred_.empty()) {
    action();
    return;
  }
  if (deferred_.size() >= kDeferredMax) return;  // dropped, as by the kernel
  deferred_.push_back(std::move(action));
}

void SimStoreNode::ScheduleTick() {
  const uint64_t incarnation = incarnation_;
  events_->ScheduleAfter(tick_interval_us_,
                         [this, incarnation] { OnTick(incarnation); });
}

void SimStoreNode::OnTick(uint64_t incarnation) {
  if (incarnation != incarnation_ || !up()) return;
  if (paused()) {
    // Ticks missed while stopped are not made up.
    events_->ScheduleAt(paused_until_us_,
                        [this, incarnation] { OnTick(incarnation); });
    return;
  }
  checker_->set_now_us(events_->now_us());
  store_->Tick();
  Process();
  if (incarnation == incarnation_) ScheduleTick();
}

void SimStoreNode::Process() {
  const uint64_t incarnation = incarnation_;
  for (int round = 0; round < kEffectRoundsMax; ++round) {
    if (incarnation != incarnation_ || !running()) return;
    checker_->set_now_us(events_->now_us());
    store::StoreEffects effects = store_->TakeEffects();
    if (effects.empty()) return;
    HandleEffects(effects);
  }
  if (process_scheduled_ || incarnation != incarnation_) return;
  process_scheduled_ = true;
  events_->ScheduleAfter(0, [this, incarnation] {
    if (incarnation != incarnation_) return;
    process_scheduled_ = false;
    WhenRunning(incarnation, [this] { Process(); });
  });
}

void SimStoreNode::HandleEffects(store::StoreEffects& effects) {
  trace_->Hash({0xef0c, id_, effects.write.token, effects.write.entry_count(),
                effects.write.snapshots.size(), effects.messages.size(),
                effects.replies.size(), effects.admin_replies.size(),
                effects.manifest_edit.has_value() ? 1U : 0U});
  if (effects.manifest_edit.has_value()) {
    // Before anything of the write is staged: the WAL never holds a region
    // the manifest lacks.
    ++stats_.manifest_edits;
    const absl::Status applied = manifest_->Apply(*effects.manifest_edit);
    if (!applied.ok()) return FailStop(applied.ToString());
  }
  if (!effects.write.empty()) StartWrite(std::move(effects.write));
  for (store::RaftMessageBatch& batch : effects.messages) {
    const int to = static_cast<int>(batch.to_store_id()) - 1;
    if (to < 0 || to >= options_->base.node_count ||
        static_cast<uint64_t>(to) + 1 == id_) {
      ++stats_.garbage;
      continue;
    }
    auto shared = std::make_shared<store::RaftMessageBatch>(std::move(batch));
    const uint64_t bytes = shared->ByteSizeLong();
    callbacks_.send(
        to, Payload::Object<store::RaftMessageBatch>(std::move(shared), bytes));
  }
  for (store::ClientReply& reply : effects.replies) {
    trace_->Hash({0x4e91, id_, reply.reply_to, reply.response.request_id()});
    auto shared = std::make_shared<kv::KvResponse>(std::move(reply.response));
    const uint64_t bytes = shared->ByteSizeLong();
    callbacks_.send(static_cast<int>(reply.reply_to),
                    Payload::Object<kv::KvResponse>(std::move(shared), bytes));
  }
  for (const store::AdminReply& reply : effects.admin_replies) {
    callbacks_.on_admin_reply(id_, reply);
  }
  for (const store::SplitSuggestion& suggestion : effects.split_suggestions) {
    callbacks_.on_split_suggestion(id_, suggestion);
  }
}

uint64_t SimStoreNode::LocalPeerId(uint64_t region_id) {
  if (auto it = peer_ids_.ids.find(region_id); it != peer_ids_.ids.end()) {
    return it->second;
  }
  absl::StatusOr<store::RegionRecord> record = store_->catalog().Get(region_id);
  if (!record.ok()) return 0;
  const meta::Peer* peer = PeerOnStore(record->region, id_);
  if (peer == nullptr) return 0;
  peer_ids_.ids[region_id] = peer->id();
  return peer->id();
}

void SimStoreNode::StartWrite(store::WriteBatch batch) {
  RS_CHECK(!write_.has_value())
      << "s" << id_ << ": a second write while one is in flight";
  InFlightWrite write;
  for (const store::SnapshotWrite& snapshot : batch.snapshots) {
    uint64_t peer = LocalPeerId(snapshot.image.region.id());
    if (peer == 0) {
      const meta::Peer* listed = PeerOnStore(snapshot.image.region, id_);
      if (listed != nullptr) peer = listed->id();
    }
    write.snapshot_peers.push_back(peer);
  }
  for (const store::RegionWrite& region : batch.regions) {
    write.region_peers.push_back(LocalPeerId(region.region_id));
  }
  write.batch = std::move(batch);
  ++stats_.writes;
  if (trace_->keeps_text()) {
    trace_->Line(
        events_->now_us(),
        absl::StrCat("s", id_, " write ", write.batch.token, ": ",
                     write.batch.regions.size(), " regions, ",
                     write.batch.entry_count(), " entries, ",
                     write.batch.snapshots.size(), " snapshots, ",
                     write.batch.removed_groups.size(), " removed groups",
                     write.batch.must_sync ? ", sync" : ""));
  }
  write_ = std::move(write);
  uint64_t latency_us = disk_.SampleWriteLatencyUs();
  if (slow_disk_until_us_ > events_->now_us()) latency_us *= kSlowDiskFactor;
  const uint64_t incarnation = incarnation_;
  events_->ScheduleAfter(latency_us, [this, incarnation] {
    WhenRunning(incarnation, [this, incarnation] { StageWrite(incarnation); });
  });
}

void SimStoreNode::StageWrite(uint64_t incarnation) {
  if (incarnation != incarnation_ || !write_.has_value()) return;
  checker_->set_now_us(events_->now_us());
  const store::WriteBatch& batch = write_->batch;
  const absl::Status staged = store::StageWriteBatch(
      batch, &disk_, wal_.get(), store_->config().snapshot_file);
  if (!staged.ok()) return FailStop(staged.ToString());
  for (size_t i = 0; i < batch.snapshots.size(); ++i) {
    const store::SnapshotWrite& snapshot = batch.snapshots[i];
    if (write_->snapshot_peers[i] == 0) continue;
    checker_->OnSnapshotWritten(
        id_, snapshot.image.region.id(), write_->snapshot_peers[i],
        snapshot.image.metadata.index(), snapshot.image.metadata.term(),
        snapshot.kind == storage::WalSnapshotKind::kInstalled);
  }
  for (size_t i = 0; i < batch.regions.size(); ++i) {
    const store::RegionWrite& region = batch.regions[i];
    const uint64_t peer = write_->region_peers[i];
    if (peer == 0) continue;
    if (!region.entries.empty()) {
      checker_->OnWritten(id_, region.region_id, peer, region.entries);
    }
    if (region.hard_state.has_value()) {
      checker_->OnHardStateWritten(id_, region.region_id, peer,
                                   *region.hard_state);
    }
  }
  if (bug_ == StoreDriverBug::kCollectSnapshotsEarly &&
      !batch.snapshots.empty()) {
    absl::btree_set<std::string> keep;
    for (const store::SnapshotWrite& snapshot : batch.snapshots) {
      keep.insert(store::SnapshotFileNameOf(snapshot.image.region.id(),
                                            snapshot.image.metadata));
    }
    auto removed = storage::RemoveStaleSnapshotFiles(&disk_, keep);
    if (!removed.ok()) return FailStop(removed.status().ToString());
  }
  // The bytes reach the disk now, unsynced: a crash before the sync keeps,
  // tears or drops each of their sectors.
  if (absl::Status written = wal_->Write(); !written.ok()) {
    return FailStop(written.ToString());
  }
  const bool ack_early = bug_ == StoreDriverBug::kAckBeforeSync;
  if (!batch.must_sync) return FinishWrite();
  uint64_t latency_us = disk_.SampleSyncLatencyUs();
  if (slow_disk_until_us_ > events_->now_us()) latency_us *= kSlowDiskFactor;
  events_->ScheduleAfter(latency_us, [this, incarnation, ack_early] {
    WhenRunning(incarnation, [this, incarnation, ack_early] {
      if (incarnation != incarnation_) return;
      if (!ack_early) return SyncWrite(incarnation);
      // The wrong driver's late sync of a write it already acknowledged.
      checker_->set_now_us(events_->now_us());
      ++stats_.syncs;
      if (absl::Status s = wal_->Sync(); !s.ok()) return FailStop(s.ToString());
      checker_->OnSynced(id_);
    });
  });
  if (ack_early) FinishWrite();
}

void SimStoreNode::SyncWrite(uint64_t incarnation) {
  if (incarnation != incarnation_ || !write_.has_value()) return;
  checker_->set_now_us(events_->now_us());
  ++stats_.syncs;
  if (absl::Status synced = wal_->Sync(); !synced.ok()) {
    return FailStop(synced.ToString());
  }
  checker_->OnSynced(id_);
  FinishWrite();
}

void SimStoreNode::FinishWrite() {
  RS_CHECK(write_.has_value());
  const uint64_t token = write_->batch.token;
  const size_t snapshots = write_->batch.snapshots.size();
  const bool collect = snapshots > 0 || !write_->batch.removed_groups.empty();
  write_.reset();
  trace_->Hash({0xd0e5, id_, token});
  store_->OnPersisted(token);
  if (collect) {
    // The new snapshots are durable and the WAL points at them: older files
    // and the segments no region needs any more can go.
    stats_.snapshots_written += snapshots;
    auto removed =
        storage::RemoveStaleSnapshotFiles(&disk_, store_->LiveSnapshotFiles());
    if (!removed.ok()) return FailStop(removed.status().ToString());
    absl::StatusOr<int> segments = wal_->CollectGarbage();
    if (!segments.ok()) return FailStop(segments.status().ToString());
    stats_.segments_removed += static_cast<uint64_t>(*segments);
  }
  Process();
}

void SimStoreNode::Receive(int from, Payload&& payload) {
  if (!up()) return;
  if (paused() || !deferred_.empty()) {
    const uint64_t incarnation = incarnation_;
    WhenRunning(incarnation, [this, from, payload = std::move(payload)] {
      Handle(from, payload);
    });
    return;
  }
  Handle(from, payload);
}

void SimStoreNode::Handle(int from, const Payload& payload) {
  checker_->set_now_us(events_->now_us());
  if (from < options_->base.node_count) {
    if (const auto* batch = payload.object<store::RaftMessageBatch>()) {
      OnBatch(*batch);
    } else if (store::RaftMessageBatch decoded;
               !payload.has_object() &&
               decoded.ParseFromString(payload.bytes())) {
      OnBatch(decoded);
    } else {
      ++stats_.garbage;
    }
  } else if (const auto* request = payload.object<kv::KvRequest>()) {
    OnClientRequest(from, *request);
  } else if (kv::KvRequest decoded; !payload.has_object() &&
                                    decoded.ParseFromString(payload.bytes())) {
    OnClientRequest(from, decoded);
  } else {
    ++stats_.garbage;
  }
  Process();
}

void SimStoreNode::OnBatch(const store::RaftMessageBatch& batch) {
  trace_->Hash({0x7ec5, id_, batch.from_store_id(),
                static_cast<uint64_t>(batch.messages_size())});
  if (trace_->keeps_text()) {
    // When the store takes the batch in (a pause delays it past delivery).
    for (const store::RaftMessage& m : batch.messages()) {
      trace_->Line(events_->now_us(),
                   absl::StrCat("s", id_, " steps region ", m.region_id(), " ",
                                m.from_peer().id(), " -> ", m.to_peer().id(),
                                " ", raft::MessageType_Name(m.message().type()),
                                " epoch ", m.region_epoch().version(), "/",
                                m.region_epoch().conf_version(),
                                m.is_tombstone() ? " tombstone" : "",
                                m.check_stale() ? " check_stale" : ""));
    }
  }
  if (!store_->Receive(batch).ok()) ++stats_.garbage;
}

void SimStoreNode::OnClientRequest(int from, const kv::KvRequest& request) {
  trace_->Hash(
      {0x4e9e, id_, static_cast<uint64_t>(from), request.request_id()});
  // The endpoint is the reply address: the client matches replies by
  // request id.
  store_->Submit(static_cast<uint64_t>(from), request);
}

void SimStoreNode::SubmitAdmin(uint64_t token,
                               const store::AdminRequest& request) {
  if (!up()) return;
  const uint64_t incarnation = incarnation_;
  WhenRunning(incarnation, [this, token, request] {
    checker_->set_now_us(events_->now_us());
    trace_->Hash({0xad01, id_, token, request.region_id()});
    store_->SubmitAdmin(token, request);
    Process();
  });
}

}  // namespace raftstore::sim
