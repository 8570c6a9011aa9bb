#include "core/store/peer.h"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/btree_set.h"
#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "core/kv/command_codec.h"
#include "core/store/requests.h"
#include "proto/store.pb.h"

namespace raftstore::store {
namespace {

bool MaySendBeforeWrite(const raft::Message& m) {
  // Duty 1's exception (thesis 10.2.1): a leader's appends, snapshots and
  // heartbeats may leave before its own write.
  return m.type() == raft::MESSAGE_TYPE_APPEND ||
         m.type() == raft::MESSAGE_TYPE_SNAPSHOT ||
         m.type() == raft::MESSAGE_TYPE_HEARTBEAT;
}

const meta::Peer* FindPeer(const meta::Region& region, uint64_t peer_id) {
  for (const meta::Peer& peer : region.peers()) {
    if (peer.id() == peer_id) return &peer;
  }
  return nullptr;
}

raft::ConfState BootstrapConfState(const meta::Region& region) {
  raft::ConfState conf;
  for (const meta::Peer& peer : region.peers()) {
    if (peer.role() == meta::PEER_ROLE_LEARNER) {
      conf.add_learners(peer.id());
    } else {
      conf.add_voters(peer.id());
    }
  }
  return conf;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Peer>> Peer::Create(PeerSetup setup) {
  RS_CHECK(setup.config != nullptr);
  std::optional<meta::Peer> self;
  for (const meta::Peer& peer : setup.region.peers()) {
    if (peer.store_id() == setup.config->store_id) self = peer;
  }
  if (!self.has_value()) {
    return absl::InvalidArgumentError(absl::StrCat("region ", setup.region.id(),
                                                   " has no peer on store ",
                                                   setup.config->store_id));
  }
  storage::WalGroupState recovered = std::move(setup.recovered);
  std::optional<RegionSnapshotImage> image = std::move(setup.snapshot);
  const bool bootstrap = setup.bootstrap;
  std::unique_ptr<kv::KvStateMachine> split_kv = std::move(setup.split_kv);
  std::unique_ptr<Peer> peer(new Peer(std::move(setup), *self));
  if (absl::Status status =
          peer->Init(recovered, image, bootstrap, std::move(split_kv));
      !status.ok()) {
    return status;
  }
  return peer;
}

Peer::Peer(PeerSetup setup, meta::Peer self)
    : config_(setup.config),
      observer_(setup.observer),
      region_(std::move(setup.region)),
      self_(std::move(self)),
      rng_(setup.rng) {}

absl::Status Peer::Init(const storage::WalGroupState& recovered,
                        const std::optional<RegionSnapshotImage>& image,
                        bool bootstrap,
                        std::unique_ptr<kv::KvStateMachine> split_kv) {
  storage_ = std::make_unique<raft::MemoryStorage>();
  raft::Snapshot base;
  *base.mutable_metadata() = recovered.snapshot;
  uint64_t applied = recovered.snapshot.index();
  raft::HardState hard_state = recovered.hard_state;
  kv_ = std::make_unique<kv::KvStateMachine>(config_->kv, applied);
  // A bootstrap keeps any hard state already recorded (an uninitialized
  // peer that voted, replaced by the split that creates its region): the
  // term only goes up (below).
  if (applied == 0 && bootstrap && recovered.entries.empty()) {
    if (split_kv != nullptr) kv_ = std::move(split_kv);
    base = Bootstrap();
    applied = kRaftInitLogIndex;
  } else if (applied > 0) {
    if (!image.has_value()) {
      return absl::DataLossError(absl::StrCat(
          "region ", region_.id(), ": the WAL records a snapshot at ", applied,
          " but its image was not recovered"));
    }
    if (absl::Status s = kv_->ImportChunks(image->kv_chunks, applied);
        !s.ok()) {
      return absl::DataLossError(absl::StrCat("region ", region_.id(),
                                              ": snapshot at ", applied, ": ",
                                              s.message()));
    }
    base.set_data(EncodeSnapshotData(image->region, image->kv_chunks));
    snapshot_ = recovered.snapshot;
    durable_snapshot_ = recovered.snapshot;
    // The peer's meta is the snapshot's: replaying the log after it
    // re-applies every later split and membership change in order, so the
    // meta and the data move together. (The manifest's copy, which the
    // catalog starts from, may be ahead of it or, after a crash before a
    // manifest edit, behind.)
    region_ = image->region;
  }
  if (absl::Status s = storage_->ApplySnapshot(base); !s.ok()) {
    return absl::DataLossError(absl::StrCat(
        "region ", region_.id(), ": recovered snapshot: ", s.message()));
  }
  if (!recovered.entries.empty()) {
    if (absl::Status s = storage_->Append(recovered.entries); !s.ok()) {
      return absl::DataLossError(absl::StrCat(
          "region ", region_.id(), ": recovered entries: ", s.message()));
    }
  }
  // The snapshot is committed by definition; and a bootstrap snapshot's term
  // may not have reached the hard state before a crash.
  hard_state.set_term(std::max(hard_state.term(), base.metadata().term()));
  hard_state.set_commit(std::max(hard_state.commit(), base.metadata().index()));
  storage_->SetHardState(hard_state);
  raft::Config rc;
  rc.id = self_.id();
  rc.storage = storage_.get();
  rc.applied = applied;
  rc.election_tick = config_->election_tick;
  rc.heartbeat_tick = config_->heartbeat_tick;
  rc.pre_vote = config_->pre_vote;
  rc.check_quorum = config_->check_quorum;
  rc.read_only_option = config_->lease_reads ? raft::ReadOnlyOption::kLeaseBased
                                             : raft::ReadOnlyOption::kSafe;
  rc.max_size_per_msg_bytes = config_->max_size_per_msg_bytes;
  rc.max_inflight_msgs = config_->max_inflight_msgs;
  rc.max_uncommitted_entries_bytes = config_->max_uncommitted_entries_bytes;
  rc.pending_reads_max = config_->region_reads_max;
  absl::StatusOr<std::unique_ptr<raft::RawNode>> raw =
      raft::RawNode::Create(rc, &rng_);
  if (!raw.ok()) {
    return absl::Status(
        raw.status().code(),
        absl::StrCat("region ", region_.id(), ": ", raw.status().message()));
  }
  raw_ = *std::move(raw);
  return absl::OkStatus();
}

bool Peer::IsLeader() const {
  return raw_->raft().role() == raft::Role::kLeader;
}

const meta::Peer* Peer::LeaderPeer() const {
  const uint64_t leader = raw_->raft().leader();
  return leader == 0 ? nullptr : FindPeer(region_, leader);
}

raft::HardState Peer::CurrentHardState() const {
  raft::HardState hs;
  hs.set_term(raw_->raft().term());
  hs.set_vote(raw_->raft().vote());
  hs.set_commit(raw_->raft().log().committed());
  return hs;
}

PeerStatus Peer::Status() const {
  PeerStatus s = Summary();
  s.kv_digest = kv_->Digest();
  return s;
}

PeerStatus Peer::Summary() const {
  const raft::Raft& r = raw_->raft();
  PeerStatus s;
  s.region_id = region_.id();
  s.peer_id = self_.id();
  s.role = r.role();
  s.term = r.term();
  s.leader_peer_id = r.leader();
  s.commit_index = r.log().committed();
  s.applied_index = kv_->applied_index();
  s.last_index = r.log().LastIndex();
  s.snapshot_index = snapshot_.index();
  s.first_index = storage_->FirstIndex();
  s.pending_writes = pending_writes_.size();
  s.pending_reads = pending_reads_.size();
  s.merging_into = merging_.has_value() ? merging_->target.id() : 0;
  return s;
}

void Peer::Tick() {
  ++ticks_;
  ticks_without_leader_ = IsLeader() ? 0 : ticks_without_leader_ + 1;
  raw_->Tick();
  if (ticks_ % 16 == 0) DropStaleReads();
}

absl::Status Peer::Step(const RaftMessage& message) {
  const raft::Message& m = message.message();
  if (message.to_peer().id() != self_.id() || m.to() != self_.id() ||
      m.from() != message.from_peer().id() || m.from() == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "region ", region_.id(), ": message from peer ", m.from(), " to ",
        m.to(), " does not match its envelope (", message.from_peer().id(),
        " -> ", message.to_peer().id(), ") or this peer ", self_.id()));
  }
  if ((m.type() == raft::MESSAGE_TYPE_APPEND ||
       m.type() == raft::MESSAGE_TYPE_HEARTBEAT ||
       m.type() == raft::MESSAGE_TYPE_SNAPSHOT) &&
      m.term() >= raw_->raft().term()) {
    ticks_without_leader_ = 0;
  }
  return raw_->Step(m);
}

bool Peer::TakeStaleCheck() {
  if (ticks_without_leader_ < config_->stale_peer_check_ticks) return false;
  ticks_without_leader_ = 0;
  return true;
}

void Peer::LearnSender(const meta::Peer& sender) {
  if (sender.id() == 0 || sender.store_id() == 0 ||
      FindPeer(region_, sender.id()) != nullptr) {
    return;
  }
  if (!initialized()) {
    *region_.add_peers() = sender;
    return;
  }
  // A member this replica's meta does not list yet (added by a membership
  // change it has not applied): its answers must still reach it, or a
  // leader added by that change never learns this replica's progress and
  // never sends it the commit that would teach it the change.
  if (sender_cache_.size() >= kSenderCacheMax &&
      !sender_cache_.contains(sender.id())) {
    sender_cache_.erase(sender_cache_.begin());
  }
  sender_cache_[sender.id()] = sender;
}

void Peer::Reply(PeerOutput& out, uint64_t reply_to, kv::KvResponse response) {
  out.replies->push_back(ClientReply{reply_to, std::move(response)});
}

void Peer::Refuse(PeerOutput& out, uint64_t reply_to,
                  const kv::KvRequest& request, kv::Error error) {
  if (error.has_server_busy()) ++out.counters->busy_refusals;
  if (error.has_not_leader()) ++out.counters->not_leader_refusals;
  Reply(out, reply_to, ErrorResponse(request, std::move(error)));
}

void Peer::ProposeWrite(uint64_t reply_to, const kv::KvRequest& request,
                        PeerOutput& out) {
  if (!IsLeader()) {
    return Refuse(out, reply_to, request,
                  NotLeaderError(region_.id(), LeaderPeer()));
  }
  if (merging_.has_value())
    return Refuse(out, reply_to, request, MergingError());
  if (pending_writes_.size() >= config_->region_proposals_max) {
    return Refuse(out, reply_to, request,
                  ServerBusyError("region has too many proposals in flight",
                                  config_->busy_backoff_ms));
  }
  const raft::Raft& r = raw_->raft();
  if (r.log().committed() - kv_->applied_index() >=
      config_->apply_lag_entries_max) {
    return Refuse(out, reply_to, request,
                  ServerBusyError("region apply lags behind commit",
                                  config_->busy_backoff_ms));
  }
  const command::Command command =
      CommandFor(request, std::max(ticks_, kv_->clock_ticks()));
  const raft::ProposeResult result = raw_->Propose(kv::EncodeCommand(command));
  switch (result) {
    case raft::ProposeResult::kOk:
      ++out.counters->proposals;
      ++out.counters->proposals_in_flight;
      pending_writes_[r.log().LastIndex()] = PendingWrite{
          r.term(), reply_to, request.request_id(), request.request_case()};
      return;
    case raft::ProposeResult::kNotLeader:
      return Refuse(out, reply_to, request,
                    NotLeaderError(region_.id(), LeaderPeer()));
    case raft::ProposeResult::kTransferInProgress:
    case raft::ProposeResult::kTooLarge:
    case raft::ProposeResult::kConfChangePending:
      return Refuse(out, reply_to, request,
                    ServerBusyError(raft::ProposeResultName(result),
                                    config_->busy_backoff_ms));
    case raft::ProposeResult::kInvalid: {
      kv::Error error;
      error.set_message("raft refused the proposal as invalid");
      return Refuse(out, reply_to, request, std::move(error));
    }
  }
}

void Peer::Read(uint64_t reply_to, const kv::KvRequest& request,
                PeerOutput& out) {
  if (!IsLeader()) {
    return Refuse(out, reply_to, request,
                  NotLeaderError(region_.id(), LeaderPeer()));
  }
  if (merging_.has_value())
    return Refuse(out, reply_to, request, MergingError());
  if (pending_reads_.size() >= config_->region_reads_max) {
    return Refuse(out, reply_to, request,
                  ServerBusyError("region has too many reads waiting",
                                  config_->busy_backoff_ms));
  }
  const uint64_t id = ++next_read_;
  switch (raw_->ReadIndex(absl::StrCat(id))) {
    case raft::ReadIndexResult::kOk:
      pending_reads_[id] = PendingRead{reply_to, request, ticks_, 0, false};
      return;
    case raft::ReadIndexResult::kNoLeader:
      return Refuse(out, reply_to, request,
                    NotLeaderError(region_.id(), nullptr));
    case raft::ReadIndexResult::kBusy:
      return Refuse(
          out, reply_to, request,
          ServerBusyError("raft read queue full", config_->busy_backoff_ms));
    case raft::ReadIndexResult::kInvalid:
      RS_CHECK(false) << "a read context is never empty";
  }
}

void Peer::Send(const raft::Message& message, PeerOutput& out) {
  const meta::Peer* to = FindPeer(region_, message.to());
  if (to == nullptr) {
    auto cached = sender_cache_.find(message.to());
    if (cached != sender_cache_.end()) to = &cached->second;
  }
  if (to == nullptr) {
    // Raft addresses only members; a member missing from the meta is a
    // membership change this store has not applied yet. Raft retransmits.
    ++out.counters->messages_dropped;
    return;
  }
  RaftMessage envelope;
  envelope.set_region_id(region_.id());
  *envelope.mutable_from_peer() = self_;
  *envelope.mutable_to_peer() = *to;
  *envelope.mutable_region_epoch() = region_.epoch();
  // An uninitialized peer says which membership it was created in, so a
  // member can tell a new peer (from a change it has not applied) from a
  // removed one.
  if (!initialized()) {
    envelope.mutable_region_epoch()->set_conf_version(
        placeholder_conf_version_);
  }
  *envelope.mutable_message() = message;
  envelope.set_start_key(region_.start_key());
  envelope.set_end_key(region_.end_key());
  const bool queued = out.outbox->Add(to->store_id(), std::move(envelope));
  if (!queued) ++out.counters->messages_dropped;
  if (message.type() == raft::MESSAGE_TYPE_SNAPSHOT) {
    // Handed to the transport (or not): the leader probes from here; a
    // snapshot lost on the way is noticed by the follower's rejection.
    raw_->ReportSnapshot(message.to(), queued);
  }
}

bool Peer::BeginReady(raft::Ready& ready, std::vector<raft::Message>* held,
                      std::optional<SnapshotWrite>* installed,
                      PeerOutput& out) {
  if (ready.snapshot.has_value()) *installed = Install(*ready.snapshot, out);
  for (raft::Message& m : ready.messages) {
    if (MaySendBeforeWrite(m)) {
      Send(m, out);
    } else {
      held->push_back(std::move(m));
    }
  }
  ready.messages.clear();
  if (ready.soft_state.has_value()) OnSoftState(*ready.soft_state, out);
  for (const raft::ReadState& rs : ready.read_states) {
    uint64_t id = 0;
    if (!absl::SimpleAtoi(rs.context, &id)) continue;
    auto it = pending_reads_.find(id);
    if (it == pending_reads_.end()) continue;  // dropped: its client left
    it->second.read_index = rs.index;
    it->second.confirmed = true;
  }
  ApplyCommitted(ready.committed_entries, out);
  return ready.snapshot.has_value() || !ready.entries.empty() ||
         ready.hard_state.has_value();
}

raft::Snapshot Peer::Bootstrap() {
  // An empty state, or (a region born of a split) its share of the data.
  if (kv_->applied_index() != kRaftInitLogIndex) {
    kv_ = std::make_unique<kv::KvStateMachine>(config_->kv, kRaftInitLogIndex);
  }
  SnapshotWrite write;
  write.kind = storage::WalSnapshotKind::kLocal;
  raft::SnapshotMetadata& metadata = write.image.metadata;
  metadata.set_format_version(raft::kSnapshotFormatVersion);
  metadata.set_index(kRaftInitLogIndex);
  metadata.set_term(kRaftInitLogTerm);
  *metadata.mutable_conf_state() = BootstrapConfState(region_);
  write.image.region = region_;
  write.image.kv_chunks = kv_->ExportChunks(config_->snapshot_chunk_bytes);
  raft::Snapshot base;
  *base.mutable_metadata() = metadata;
  base.set_data(EncodeSnapshotData(region_, write.image.kv_chunks));
  snapshot_ = metadata;
  bootstrap_write_ = std::move(write);
  return base;
}

std::optional<SnapshotWrite> Peer::TakeBootstrapSnapshot() {
  std::optional<SnapshotWrite> write = std::move(bootstrap_write_);
  bootstrap_write_.reset();
  return write;
}

SnapshotWrite Peer::Install(const raft::Snapshot& snapshot, PeerOutput& out) {
  const uint64_t index = snapshot.metadata().index();
  // Receive validated the data (ValidateSnapshotMessage): a failure here is
  // a broken invariant, not bad input.
  absl::StatusOr<RegionSnapshotData> data =
      DecodeSnapshotData(snapshot.data(), region_.id());
  RS_CHECK(data.ok()) << data.status().ToString();
  SnapshotWrite write;
  write.kind = storage::WalSnapshotKind::kInstalled;
  write.image.metadata = snapshot.metadata();
  write.image.region = data->region();
  write.image.kv_chunks.assign(data->kv_chunks().begin(),
                               data->kv_chunks().end());
  auto fresh = std::make_unique<kv::KvStateMachine>(config_->kv, index);
  const absl::Status imported =
      fresh->ImportChunks(write.image.kv_chunks, index);
  RS_CHECK(imported.ok()) << "region " << region_.id() << ": " << imported;
  kv_ = std::move(fresh);
  // No snapshot is taken while frozen for a merge, so the leader's state at
  // this index is not frozen: a merge this replica had applied the prepare
  // of was rolled back before it.
  merging_.reset();
  if (observer_ != nullptr) {
    observer_->OnSnapshotInstalled(region_.id(), self_.id(), index,
                                   snapshot.metadata().term());
  }
  // Writes and admin commands proposed at indexes the snapshot covers may
  // or may not be in it: answered as unknown (a Timeout error).
  AbandonPendingUpTo(index, out);
  const bool was_initialized = initialized();
  snapshot_ = snapshot.metadata();
  const meta::RegionEpoch& theirs = write.image.region.epoch();
  if (!was_initialized || theirs.version() > region_.epoch().version() ||
      theirs.conf_version() > region_.epoch().conf_version()) {
    region_ = write.image.region;
    out.meta_changed->push_back(region_.id());
  }
  // A snapshot of our own still being written is older: it is recorded
  // anyway (the WAL keeps the newer one) but no longer compacts anything.
  return write;
}

std::optional<SnapshotWrite> Peer::MaybeSnapshot() {
  const uint64_t applied = kv_->applied_index();
  // A frozen source's snapshot would not record the freeze: replaying the
  // prepare from the log after an older snapshot does.
  if (merging_.has_value()) return std::nullopt;
  if (local_snapshot_.has_value() ||
      (!snapshot_due_ &&
       applied - snapshot_.index() < config_->raft_log_gc_entries_max)) {
    return std::nullopt;
  }
  if (applied <= snapshot_.index()) return std::nullopt;
  snapshot_due_ = false;
  absl::StatusOr<uint64_t> term = storage_->Term(applied);
  RS_CHECK(term.ok()) << "region " << region_.id() << ": applied index "
                      << applied << " not in the stable log: " << term.status();
  SnapshotWrite write;
  write.kind = storage::WalSnapshotKind::kLocal;
  raft::SnapshotMetadata& metadata = write.image.metadata;
  metadata.set_format_version(raft::kSnapshotFormatVersion);
  metadata.set_index(applied);
  metadata.set_term(*term);
  *metadata.mutable_conf_state() = raw_->raft().tracker().ToConfState();
  write.image.region = region_;
  write.image.kv_chunks = kv_->ExportChunks(config_->snapshot_chunk_bytes);
  local_snapshot_ = metadata;
  local_snapshot_data_ = EncodeSnapshotData(region_, write.image.kv_chunks);
  return write;
}

void Peer::OnSnapshotPersisted() {
  RS_CHECK(local_snapshot_.has_value());
  const raft::SnapshotMetadata metadata = *std::move(local_snapshot_);
  local_snapshot_.reset();
  std::string data = std::move(local_snapshot_data_);
  local_snapshot_data_.clear();
  if (metadata.index() <= snapshot_.index()) return;  // an install overtook it
  absl::StatusOr<raft::Snapshot> created = storage_->CreateSnapshot(
      metadata.index(), metadata.conf_state(), std::move(data));
  RS_CHECK(created.ok()) << "region " << region_.id() << ": "
                         << created.status();
  RS_CHECK(storage_->Compact(metadata.index()).ok());
  snapshot_ = metadata;
}

void Peer::NoteDurableSnapshot(const raft::SnapshotMetadata& metadata) {
  if (metadata.index() > durable_snapshot_.index()) {
    durable_snapshot_ = metadata;
  }
}

manifest::RaftLogPointers Peer::LogPointers() const {
  manifest::RaftLogPointers pointers;
  pointers.set_applied_index(kv_->applied_index());
  pointers.set_truncated_index(durable_snapshot_.index());
  pointers.set_truncated_term(durable_snapshot_.term());
  pointers.set_snapshot_index(durable_snapshot_.index());
  pointers.set_snapshot_term(durable_snapshot_.term());
  return pointers;
}

std::optional<std::string> Peer::SnapshotFile() const {
  if (snapshot_.index() == 0) return std::nullopt;
  return SnapshotFileNameOf(region_.id(), snapshot_);
}

absl::Status Peer::ValidateSnapshotMessage(const StoreConfig& config,
                                           const raft::Message& message,
                                           uint64_t region_id) {
  const raft::Snapshot& snapshot = message.snapshot();
  absl::StatusOr<RegionSnapshotData> data =
      DecodeSnapshotData(snapshot.data(), region_id);
  if (!data.ok()) return data.status();
  const uint64_t index = snapshot.metadata().index();
  kv::KvStateMachine scratch(config.kv, index);
  std::vector<std::string> chunks(data->kv_chunks().begin(),
                                  data->kv_chunks().end());
  if (absl::Status s = scratch.ImportChunks(chunks, index); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "snapshot of region ", region_id, " at ", index, ": ", s.message()));
  }
  return absl::OkStatus();
}

void Peer::FinishReady(raft::Ready& ready, std::vector<raft::Message>& held,
                       PeerOutput& out) {
  if (ready.snapshot.has_value()) {
    const absl::Status applied = storage_->ApplySnapshot(*ready.snapshot);
    RS_CHECK(applied.ok()) << "region " << region_.id() << ": " << applied;
  }
  if (!ready.entries.empty()) {
    RS_CHECK(storage_->Append(std::move(ready.entries)).ok());
    ready.entries.clear();
  }
  if (ready.hard_state.has_value()) storage_->SetHardState(*ready.hard_state);
  for (const raft::Message& m : held) Send(m, out);
  ServeReads(out);
  raw_->Advance(ready);
}

void Peer::OnSoftState(const raft::SoftState& soft, PeerOutput& out) {
  const bool leader = soft.role == raft::Role::kLeader;
  if (leader && !was_leader_ && observer_ != nullptr) {
    observer_->OnLeader(region_.id(), self_.id(), raw_->raft().term(),
                        raw_->raft().log());
  }
  if (!leader && was_leader_) {
    // Raft drops the reads it had not confirmed when it steps down; answer
    // them so their clients go to the new leader.
    for (auto it = pending_reads_.begin(); it != pending_reads_.end();) {
      if (it->second.confirmed) {
        ++it;
        continue;
      }
      Refuse(out, it->second.reply_to, it->second.request,
             NotLeaderError(region_.id(), LeaderPeer()));
      it = pending_reads_.erase(it);
    }
  }
  was_leader_ = leader;
}

void Peer::ApplyCommitted(std::vector<raft::Entry>& entries, PeerOutput& out) {
  for (const raft::Entry& entry : entries) {
    if (observer_ != nullptr) {
      observer_->OnApplied(region_.id(), self_.id(), entry,
                           raw_->raft().term());
    }
    if (entry.type() == raft::ENTRY_TYPE_CONF_CHANGE) {
      ApplyConfChange(entry, out);
      continue;
    }
    RS_CHECK_EQ(entry.type(), raft::ENTRY_TYPE_NORMAL)
        << "region " << region_.id() << " index " << entry.index();
    ApplyNormal(entry, out);
  }
}

kv::Error Peer::EpochError() const {
  kv::Error error;
  error.set_message(
      "the region's range changed (a split) before the command applied; it "
      "did not apply");
  *error.mutable_epoch_not_match()->add_current_regions() = region_;
  return error;
}

void Peer::ApplyNormal(const raft::Entry& entry, PeerOutput& out) {
  if (entry.data().empty()) {
    // Admin commands pending at or below this index lost it (a split's own
    // entry is never empty; ApplySplit answers its own).
    if (!pending_admin_.empty()) AnswerAdmin(entry, nullptr, out);
    kv_->ApplyEmpty(entry.index());
    Answer(entry, command::CommandResult(), out);
    return;
  }
  absl::StatusOr<command::Command> command =
      kv::DecodeCommand(entry.data(), config_->CommandBytesMax());
  // Only this store's own encoder writes commands, and the log is
  // checksummed: an undecodable committed entry is a broken invariant.
  RS_CHECK(command.ok()) << "region " << region_.id() << " index "
                         << entry.index() << ": " << command.status();
  switch (command->op_case()) {
    case command::Command::kSplit:
      return ApplySplit(entry, command->split(), out);
    case command::Command::kPrepareMerge:
      return ApplyPrepareMerge(entry, command->prepare_merge(), out);
    case command::Command::kCommitMerge:
      return ApplyCommitMerge(entry, command->commit_merge(), out);
    case command::Command::kRollbackMerge:
      return ApplyRollbackMerge(entry, command->rollback_merge(), out);
    default:
      break;
  }
  if (!pending_admin_.empty()) AnswerAdmin(entry, nullptr, out);
  if (merging_.has_value()) {
    // Proposed before the prepare, committed after it: the frozen state
    // must stay as it was at the prepare, so it does not apply.
    kv_->ApplyEmpty(entry.index());
    const kv::Error refused = MergingError();
    Answer(entry, command::CommandResult(), out, &refused);
    return;
  }
  // A write proposed before a split, for a key the split gave away: every
  // replica decides the same (same meta at the same index), and the
  // session is untouched, so the client's retry in the new region is safe.
  std::string_view key;
  if (command->has_put()) key = command->put().key();
  if (command->has_delete_()) key = command->delete_().key();
  if (command->has_compare_and_swap()) key = command->compare_and_swap().key();
  if (!KeyInRegion(key, region_)) {
    kv_->ApplyEmpty(entry.index());
    const kv::Error refused = EpochError();
    Answer(entry, command::CommandResult(), out, &refused);
    return;
  }
  const command::CommandResult result = kv_->Apply(entry.index(), *command);
  ++out.counters->writes_applied;
  Answer(entry, result, out);
}

std::optional<kv::Error> Peer::CheckSplit(const SplitRequest& request) const {
  kv::Error error;
  const std::string& key = request.split_key();
  if (key.empty() || key <= region_.start_key() ||
      (!region_.end_key().empty() && key >= region_.end_key())) {
    error.set_message(absl::StrCat("split: key \"", absl::CEscape(key),
                                   "\" is not strictly inside region ",
                                   region_.id()));
    return error;
  }
  if (request.new_region_id() == 0 || request.new_region_id() == region_.id()) {
    error.set_message("split: the new region needs a fresh nonzero id");
    return error;
  }
  if (request.new_peer_ids_size() != region_.peers_size()) {
    error.set_message(absl::StrCat("split: ", request.new_peer_ids_size(),
                                   " new peer ids for ", region_.peers_size(),
                                   " peers"));
    return error;
  }
  absl::btree_set<uint64_t> ids;
  for (const meta::Peer& peer : region_.peers()) ids.insert(peer.id());
  for (uint64_t id : request.new_peer_ids()) {
    if (id == 0 || !ids.insert(id).second) {
      error.set_message(
          absl::StrCat("split: new peer id ", id, " is zero or not unique"));
      return error;
    }
  }
  return std::nullopt;
}

void Peer::ProposeSplit(uint64_t reply_to, const AdminRequest& request,
                        PeerOutput& out) {
  if (!MayProposeAdmin(reply_to, request, CheckSplit(request.split()), out)) {
    return;
  }
  command::Command command;
  command::SplitOp* split = command.mutable_split();
  split->set_split_key(request.split().split_key());
  split->set_new_region_id(request.split().new_region_id());
  for (uint64_t id : request.split().new_peer_ids())
    split->add_new_peer_ids(id);
  *split->mutable_epoch() = region_.epoch();
  TrackAdminProposal(raw_->Propose(kv::EncodeCommand(command)), reply_to,
                     request, out);
}

void Peer::ApplySplit(const raft::Entry& entry, const command::SplitOp& split,
                      PeerOutput& out) {
  kv_->ApplyEmpty(entry.index());
  if (split.epoch().version() != region_.epoch().version() ||
      split.epoch().conf_version() != region_.epoch().conf_version() ||
      !KeyInRegion(split.split_key(), region_) ||
      split.split_key() == region_.start_key() ||
      split.new_peer_ids_size() != region_.peers_size()) {
    // Proposed against meta that another split or membership change
    // changed first (new_peer_ids would map to the wrong stores).
    const kv::Error stale = EpochError();
    AnswerAdmin(entry, &stale, out);
    return;
  }
  SplitResult result;
  result.parent_id = region_.id();
  meta::Region& child = result.region;
  child.set_id(split.new_region_id());
  child.set_start_key(split.split_key());
  child.set_end_key(region_.end_key());
  child.mutable_epoch()->set_version(region_.epoch().version() + 1);
  child.mutable_epoch()->set_conf_version(region_.epoch().conf_version());
  for (int i = 0; i < region_.peers_size(); ++i) {
    meta::Peer* peer = child.add_peers();
    *peer = region_.peers(i);
    peer->set_id(split.new_peer_ids(i));
  }
  region_.set_end_key(split.split_key());
  region_.mutable_epoch()->set_version(region_.epoch().version() + 1);
  result.kv = std::make_unique<kv::KvStateMachine>(
      kv_->SplitOff(split.split_key(), kRaftInitLogIndex));
  out.meta_changed->push_back(region_.id());
  // The parent's snapshot still holds the keys it gave away.
  snapshot_due_ = true;
  auto it = pending_admin_.find(entry.index());
  if (it != pending_admin_.end() && it->second.term == entry.term()) {
    AdminResponse response;
    response.set_request_id(it->second.request_id);
    *response.mutable_region() = region_;
    *response.mutable_new_region() = child;
    out.admin_replies->push_back(
        AdminReply{it->second.reply_to, std::move(response)});
    pending_admin_.erase(it);
  }
  AnswerAdmin(entry, nullptr, out);  // older ones lost their index
  out.splits->push_back(std::move(result));
  Answer(entry, command::CommandResult(), out);
}

std::optional<SplitSuggestion> Peer::MaybeSuggestSplit() {
  if (config_->region_split_bytes == 0 || !IsLeader() || merging_.has_value() ||
      ticks_ < last_split_check_tick_ + config_->split_check_ticks ||
      kv_->data_bytes() <= config_->region_split_bytes) {
    return std::nullopt;
  }
  last_split_check_tick_ = ticks_;
  std::optional<std::string> key = kv_->MiddleKey();
  if (!key.has_value() || !KeyInRegion(*key, region_) ||
      *key == region_.start_key()) {
    return std::nullopt;
  }
  return SplitSuggestion{region_.id(), region_.epoch(), *std::move(key),
                         static_cast<size_t>(region_.peers_size())};
}

void Peer::Answer(const raft::Entry& entry,
                  const command::CommandResult& result, PeerOutput& out,
                  const kv::Error* refused) {
  // Proposals at indexes below this one were overwritten by another
  // leader's entries before applying: they never apply.
  auto it = pending_writes_.begin();
  while (it != pending_writes_.end() && it->first <= entry.index()) {
    const PendingWrite pending = it->second;
    const bool mine =
        it->first == entry.index() && pending.term == entry.term();
    it = pending_writes_.erase(it);
    --out.counters->proposals_in_flight;
    if (mine && refused != nullptr) {
      Reply(out, pending.reply_to,
            WriteErrorResponse(pending.kind, pending.request_id, *refused));
      continue;
    }
    if (mine) {
      kv::KvResponse response =
          WriteResponse(pending.kind, pending.request_id, result);
      if (result.outcome() == command::OUTCOME_APPLIED) {
        SetServedBy(region_, raw_->raft().term(), &response);
      }
      Reply(out, pending.reply_to, std::move(response));
      continue;
    }
    kv::Error error = NotLeaderError(region_.id(), LeaderPeer());
    error.set_message("proposal lost to a leader change; it did not apply");
    ++out.counters->not_leader_refusals;
    Reply(
        out, pending.reply_to,
        WriteErrorResponse(pending.kind, pending.request_id, std::move(error)));
  }
}

std::optional<kv::Error> Peer::CheckChangePeer(
    const ChangePeerRequest& request) {
  const meta::Peer& target = request.peer();
  kv::Error error;
  if (target.id() == 0 || target.store_id() == 0) {
    error.set_message("change peer: the peer needs a nonzero id and store id");
    return error;
  }
  const meta::Peer* existing = FindPeer(region_, target.id());
  switch (request.type()) {
    case raft::CONF_CHANGE_TYPE_ADD_LEARNER:
      for (const meta::Peer& peer : region_.peers()) {
        if (peer.id() == target.id() || peer.store_id() == target.store_id()) {
          error.set_message(absl::StrCat("change peer: region ", region_.id(),
                                         " already has peer ", peer.id(),
                                         " on store ", peer.store_id()));
          return error;
        }
      }
      return std::nullopt;
    case raft::CONF_CHANGE_TYPE_ADD_VOTER: {
      if (existing == nullptr || existing->role() != meta::PEER_ROLE_LEARNER) {
        error.set_message(absl::StrCat(
            "change peer: only a learner of the region can be promoted; peer ",
            target.id(), " is not one"));
        return error;
      }
      const raft::Progress* progress =
          raw_->raft().tracker().GetProgress(target.id());
      const uint64_t last = raw_->raft().log().LastIndex();
      // A learner that has nothing yet (match 0: its snapshot has not
      // arrived) is never "caught up", however short the log.
      if (progress == nullptr || progress->match() == 0 ||
          progress->match() + config_->learner_catch_up_entries_max < last) {
        return ServerBusyError(
            absl::StrCat("learner ", target.id(), " has not caught up (match ",
                         progress == nullptr ? 0 : progress->match(),
                         ", leader's last index ", last, ")"),
            config_->busy_backoff_ms);
      }
      return std::nullopt;
    }
    case raft::CONF_CHANGE_TYPE_REMOVE_NODE: {
      if (existing == nullptr) {
        error.set_message(absl::StrCat("change peer: peer ", target.id(),
                                       " is not in region ", region_.id()));
        return error;
      }
      int voters_left = 0;
      for (const meta::Peer& peer : region_.peers()) {
        if (peer.id() != target.id() &&
            peer.role() != meta::PEER_ROLE_LEARNER) {
          ++voters_left;
        }
      }
      if (voters_left == 0) {
        error.set_message("change peer: removing the last voter");
        return error;
      }
      return std::nullopt;
    }
    default:
      error.set_message("change peer: unknown change type");
      return error;
  }
}

void Peer::RefuseAdmin(PeerOutput& out, uint64_t reply_to,
                       const AdminRequest& request, kv::Error error) {
  AdminResponse response;
  response.set_request_id(request.request_id());
  *response.mutable_error() = std::move(error);
  out.admin_replies->push_back(AdminReply{reply_to, std::move(response)});
}

bool Peer::MayProposeAdmin(uint64_t reply_to, const AdminRequest& request,
                           std::optional<kv::Error> invalid, PeerOutput& out) {
  if (!IsLeader()) {
    RefuseAdmin(out, reply_to, request,
                NotLeaderError(region_.id(), LeaderPeer()));
    return false;
  }
  if (merging_.has_value()) {
    RefuseAdmin(out, reply_to, request, MergingError());
    return false;
  }
  if (invalid.has_value()) {
    RefuseAdmin(out, reply_to, request, *std::move(invalid));
    return false;
  }
  if (pending_admin_.size() >= config_->region_proposals_max) {
    RefuseAdmin(out, reply_to, request,
                ServerBusyError("region has too many admin commands",
                                config_->busy_backoff_ms));
    return false;
  }
  return true;
}

void Peer::TrackAdminProposal(raft::ProposeResult result, uint64_t reply_to,
                              const AdminRequest& request, PeerOutput& out) {
  switch (result) {
    case raft::ProposeResult::kOk:
      pending_admin_[raw_->raft().log().LastIndex()] =
          PendingAdmin{raw_->raft().term(), reply_to, request.request_id()};
      return;
    case raft::ProposeResult::kNotLeader:
      return RefuseAdmin(out, reply_to, request,
                         NotLeaderError(region_.id(), LeaderPeer()));
    case raft::ProposeResult::kInvalid: {
      kv::Error error;
      error.set_message("raft refused the admin command as invalid");
      return RefuseAdmin(out, reply_to, request, std::move(error));
    }
    default:
      return RefuseAdmin(out, reply_to, request,
                         ServerBusyError(raft::ProposeResultName(result),
                                         config_->busy_backoff_ms));
  }
}

bool Peer::MoveLeadershipBeforeRemoval(uint64_t reply_to,
                                       const AdminRequest& request,
                                       PeerOutput& out) {
  const ChangePeerRequest& change = request.change_peer();
  if (change.type() != raft::CONF_CHANGE_TYPE_REMOVE_NODE ||
      change.peer().id() != self_.id() || !IsLeader() || merging_.has_value()) {
    return false;
  }
  // A leader that applied its own removal and went away at once could leave
  // the others unaware that it committed: under the old membership, with one
  // more voter lost, they could never elect. So the leader hands leadership
  // to the most caught-up voter it heard from lately first; the new leader
  // removes it.
  const meta::Peer* best = nullptr;
  uint64_t best_match = 0;
  for (const meta::Peer& peer : region_.peers()) {
    if (peer.id() == self_.id() || peer.role() == meta::PEER_ROLE_LEARNER) {
      continue;
    }
    const raft::Progress* progress =
        raw_->raft().tracker().GetProgress(peer.id());
    if (progress != nullptr && progress->recent_active() &&
        progress->match() > best_match) {
      best = &peer;
      best_match = progress->match();
    }
  }
  if (best == nullptr ||
      raw_->TransferLeader(best->id()) != raft::TransferResult::kOk) {
    RefuseAdmin(out, reply_to, request,
                ServerBusyError("removing the leader: no voter can take over "
                                "leadership yet",
                                config_->busy_backoff_ms));
    return true;
  }
  kv::Error error = NotLeaderError(region_.id(), best);
  error.set_message(
      absl::StrCat("removing the leader: leadership moves to peer ", best->id(),
                   " first; send the removal there"));
  RefuseAdmin(out, reply_to, request, std::move(error));
  return true;
}

void Peer::ProposeChangePeer(uint64_t reply_to, const AdminRequest& request,
                             PeerOutput& out) {
  if (MoveLeadershipBeforeRemoval(reply_to, request, out)) return;
  if (!MayProposeAdmin(reply_to, request,
                       CheckChangePeer(request.change_peer()), out)) {
    return;
  }
  ConfChangeContext context;
  *context.mutable_peer() = request.change_peer().peer();
  *context.mutable_epoch() = region_.epoch();
  raft::ConfChange change;
  change.set_transition(raft::CONF_CHANGE_TRANSITION_AUTO);
  raft::ConfChangeSingle* single = change.add_changes();
  single->set_type(request.change_peer().type());
  single->set_node_id(request.change_peer().peer().id());
  change.set_context(context.SerializeAsString());
  TrackAdminProposal(raw_->ProposeConfChange(change), reply_to, request, out);
}

void Peer::TransferLeader(uint64_t reply_to, const AdminRequest& request,
                          PeerOutput& out) {
  if (!IsLeader()) {
    return RefuseAdmin(out, reply_to, request,
                       NotLeaderError(region_.id(), LeaderPeer()));
  }
  const meta::Peer* target =
      FindPeer(region_, request.transfer_leader().peer().id());
  if (target == nullptr || target->role() == meta::PEER_ROLE_LEARNER) {
    kv::Error error;
    error.set_message(absl::StrCat("transfer leader: peer ",
                                   request.transfer_leader().peer().id(),
                                   " is not a voter of region ", region_.id()));
    return RefuseAdmin(out, reply_to, request, std::move(error));
  }
  if (raw_->TransferLeader(target->id()) != raft::TransferResult::kOk) {
    return RefuseAdmin(
        out, reply_to, request,
        ServerBusyError("raft refused the transfer", config_->busy_backoff_ms));
  }
  AdminResponse response;
  response.set_request_id(request.request_id());
  *response.mutable_region() = region_;
  out.admin_replies->push_back(AdminReply{reply_to, std::move(response)});
}

void Peer::ApplyConfChange(const raft::Entry& entry, PeerOutput& out) {
  kv_->ApplyEmpty(entry.index());
  raft::ConfChange change;
  // Only a leader's own encoder writes these, into a checksummed log.
  RS_CHECK(change.ParseFromString(entry.data()))
      << "region " << region_.id() << " index " << entry.index();
  const absl::StatusOr<raft::ConfState> conf = raw_->ApplyConfChange(change);
  ConfChangeContext context;
  const bool described = conf.ok() && change.changes_size() == 1 &&
                         context.ParseFromString(change.context()) &&
                         context.peer().id() == change.changes(0).node_id();
  if (described) {
    const uint64_t at = context.epoch().conf_version();
    RS_CHECK_LE(at, region_.epoch().conf_version())
        << "region " << region_.id() << ": a change proposed at conf_version "
        << at << " applies to meta at " << region_.epoch().conf_version();
    if (at == region_.epoch().conf_version()) {
      ChangeMeta(change.changes(0).type(), context.peer());
      region_.mutable_epoch()->set_conf_version(at + 1);
      out.meta_changed->push_back(region_.id());
      if (FindPeer(region_, self_.id()) == nullptr) {
        out.removed->push_back(region_.id());
      }
    }
  }
  // The next snapshot a leader sends must name the new membership (raft
  // refuses a snapshot whose configuration lacks the receiver, so an old
  // one would never let a new peer in): take one now.
  if (conf.ok()) snapshot_due_ = true;
  kv::Error error;
  if (!conf.ok()) error.set_message(std::string(conf.status().message()));
  AnswerAdmin(entry, conf.ok() ? nullptr : &error, out);
  // A write pending at this index lost it to the change.
  Answer(entry, command::CommandResult(), out);
}

void Peer::ChangeMeta(raft::ConfChangeType type, const meta::Peer& peer) {
  auto* peers = region_.mutable_peers();
  auto it =
      std::find_if(peers->begin(), peers->end(),
                   [&](const meta::Peer& p) { return p.id() == peer.id(); });
  switch (type) {
    case raft::CONF_CHANGE_TYPE_ADD_LEARNER:
    case raft::CONF_CHANGE_TYPE_ADD_VOTER: {
      meta::Peer* target = it == peers->end() ? region_.add_peers() : &*it;
      *target = peer;
      target->set_role(type == raft::CONF_CHANGE_TYPE_ADD_LEARNER
                           ? meta::PEER_ROLE_LEARNER
                           : meta::PEER_ROLE_VOTER);
      return;
    }
    case raft::CONF_CHANGE_TYPE_REMOVE_NODE:
      if (it != peers->end()) peers->erase(it);
      return;
    default:
      return;
  }
}

void Peer::AnswerAdmin(const raft::Entry& entry, const kv::Error* error,
                       PeerOutput& out) {
  auto it = pending_admin_.begin();
  while (it != pending_admin_.end() && it->first <= entry.index()) {
    const PendingAdmin pending = it->second;
    const bool mine =
        it->first == entry.index() && pending.term == entry.term();
    it = pending_admin_.erase(it);
    AdminResponse response;
    response.set_request_id(pending.request_id);
    if (!mine) {
      *response.mutable_error() = NotLeaderError(region_.id(), LeaderPeer());
      response.mutable_error()->set_message(
          "admin command lost to a leader change; it did not apply");
    } else if (error != nullptr) {
      *response.mutable_error() = *error;
    } else {
      *response.mutable_region() = region_;
    }
    out.admin_replies->push_back(
        AdminReply{pending.reply_to, std::move(response)});
  }
}

void Peer::AbandonPending(PeerOutput& out) {
  AbandonPendingUpTo(UINT64_MAX, out);
  const kv::Error gone = RegionNotFoundError(region_.id());
  for (auto& [id, read] : pending_reads_) {
    Reply(out, read.reply_to, ErrorResponse(read.request, gone));
  }
  pending_reads_.clear();
}

void Peer::AbandonPendingUpTo(uint64_t index, PeerOutput& out) {
  while (!pending_writes_.empty() && pending_writes_.begin()->first <= index) {
    const PendingWrite pending = pending_writes_.begin()->second;
    pending_writes_.erase(pending_writes_.begin());
    // The write may or may not have applied: the error claims no certainty.
    kv::Error error;
    error.mutable_timeout()->set_reason(
        "the proposal's fate is unknown here (a snapshot covered it, or the "
        "peer was removed)");
    Reply(
        out, pending.reply_to,
        WriteErrorResponse(pending.kind, pending.request_id, std::move(error)));
    --out.counters->proposals_in_flight;
  }
  while (!pending_admin_.empty() && pending_admin_.begin()->first <= index) {
    const PendingAdmin pending = pending_admin_.begin()->second;
    pending_admin_.erase(pending_admin_.begin());
    AdminResponse response;
    response.set_request_id(pending.request_id);
    response.mutable_error()->mutable_timeout()->set_reason(
        "the command's fate is unknown here (a snapshot covered it, or the "
        "peer was removed)");
    out.admin_replies->push_back(
        AdminReply{pending.reply_to, std::move(response)});
  }
}

void Peer::ServeReads(PeerOutput& out) {
  for (auto it = pending_reads_.begin(); it != pending_reads_.end();) {
    const PendingRead& read = it->second;
    if (!read.confirmed || read.read_index > kv_->applied_index()) {
      ++it;
      continue;
    }
    if (merging_.has_value() && read.read_index >= merging_->prepare_index) {
      // Confirmed once the prepare had committed: the target may already
      // have taken the keys in and changed them since.
      Refuse(out, read.reply_to, read.request, MergingError());
      it = pending_reads_.erase(it);
      continue;
    }
    ++out.counters->reads_served;
    Reply(out, read.reply_to, ServeRead(read.request));
    it = pending_reads_.erase(it);
  }
}

kv::KvResponse Peer::ServeRead(const kv::KvRequest& request) const {
  if (!KeyInRegion(RoutingKey(request), region_)) {
    return ErrorResponse(request, EpochError());  // split away meanwhile
  }
  kv::KvResponse response;
  response.set_request_id(request.request_id());
  if (request.has_get()) {
    const std::optional<std::string> value = kv_->Get(request.get().key());
    response.mutable_get()->set_found(value.has_value());
    if (value.has_value()) response.mutable_get()->set_value(*value);
  } else {
    RS_CHECK(request.has_scan());
    const kv::ScanRequest& scan = request.scan();
    // Clamped to this region: the client continues in the next one.
    std::string end = scan.end_key();
    if (!region_.end_key().empty() &&
        (end.empty() || region_.end_key() < end)) {
      end = region_.end_key();
    }
    const kv::ScanResult result =
        kv_->Scan(scan.start_key(), end, scan.limit());
    kv::ScanResponse* out = response.mutable_scan();
    for (const auto& [key, value] : result.pairs) {
      kv::KvPair* pair = out->add_pairs();
      pair->set_key(key);
      pair->set_value(value);
    }
    out->set_more(result.more);
  }
  SetServedBy(region_, raw_->raft().term(), &response);
  return response;
}

void Peer::DropStaleReads() {
  // A read whose ReadIndex round never completes (its leader was cut off
  // and the heartbeat answers never came) is forgotten once its client has
  // surely given up.
  for (auto it = pending_reads_.begin(); it != pending_reads_.end();) {
    if (!it->second.confirmed &&
        it->second.since_tick + config_->read_wait_ticks_max < ticks_) {
      it = pending_reads_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace raftstore::store
