#include "core/store/store.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "core/store/region_state.h"
#include "core/store/requests.h"

namespace raftstore::store {
namespace {

// Readies one peer may hand out in a row within one TakeEffects when none of
// them writes (each consumes raft state, so this is a safety bound only).
constexpr int kReadiesPerPeerMax = 64;

absl::Status Corrupt(uint64_t region_id, const absl::Status& status) {
  return absl::DataLossError(
      absl::StrCat("manifest region ", region_id, ": ", status.message()));
}

// A write must name its session (thesis 6.3): refused here, before it takes
// a log slot, rather than by the state machine after.
bool ValidSession(const kv::RequestHeader& header, kv::Error* error) {
  if (header.client_id() == 0 || header.sequence() == 0) {
    error->set_message(
        "a write needs a nonzero client_id and sequence (its session)");
    return false;
  }
  if (header.first_incomplete_sequence() > header.sequence()) {
    error->set_message(absl::StrCat(
        "first_incomplete_sequence ", header.first_incomplete_sequence(),
        " exceeds the sequence ", header.sequence()));
    return false;
  }
  return true;
}

}  // namespace

std::vector<manifest::RegionRecord> BootstrapRecords(
    const std::vector<meta::Region>& regions) {
  std::vector<manifest::RegionRecord> records;
  records.reserve(regions.size());
  for (const meta::Region& region : regions) {
    manifest::RegionRecord& record = records.emplace_back();
    record.set_region_id(region.id());
    record.mutable_local_state()->set_format_version(1);
    *record.mutable_local_state()->mutable_region() = region;
    record.mutable_local_state()->set_state(meta::REGION_STATE_RUNNING);
  }
  return records;
}

absl::StatusOr<std::unique_ptr<Store>> Store::Open(
    const StoreConfig& config, StoreRecovery recovery, Rng rng,
    const std::vector<RegionHooks*>& hooks, StoreObserver* observer) {
  if (absl::Status status = config.Validate(); !status.ok()) return status;
  std::unique_ptr<Store> store(new Store(config, rng));
  store->observer_ = observer;
  for (RegionHooks* hook : hooks) {
    if (absl::Status status = store->catalog_.AddHooks(hook); !status.ok()) {
      return status;
    }
  }
  if (absl::Status status = store->Load(std::move(recovery)); !status.ok()) {
    return status;
  }
  return store;
}

Store::Store(const StoreConfig& config, Rng rng)
    : config_(config),
      rng_(rng),
      catalog_(RegionCatalogConfig{config.regions_max}),
      outbox_(config.cluster_id, config.store_id,
              config.messages_per_store_max) {}

Store::~Store() = default;

absl::Status Store::Load(StoreRecovery recovery) {
  std::vector<manifest::RegionRecord>& records = recovery.regions;
  std::sort(
      records.begin(), records.end(),
      [](const manifest::RegionRecord& a, const manifest::RegionRecord& b) {
        return a.region_id() < b.region_id();
      });
  for (const manifest::RegionRecord& record : records) {
    const meta::Region& region = record.local_state().region();
    if (region.id() != record.region_id()) {
      return Corrupt(record.region_id(),
                     absl::InvalidArgumentError(
                         absl::StrCat("its meta names region ", region.id())));
    }
    if (absl::Status s = LoadRegion(record, recovery); !s.ok()) return s;
  }
  for (const RegionRecord& record : catalog_.RegionSnapshot()) {
    for (uint64_t id : record.region.merged_region_ids()) {
      merged_away_ids_.insert(id);
    }
  }
  // A peer whose recovered meta (its snapshot and replayed log) is newer
  // than the manifest's: a catalog update that was waiting (an overlap with
  // a lagging region) when the store crashed. It waits again.
  for (const auto& [id, peer] : peers_) {
    absl::StatusOr<RegionRecord> record = catalog_.Get(id);
    if (!peer->initialized() || !record.ok()) continue;
    const meta::RegionEpoch& mine = peer->region().epoch();
    const meta::RegionEpoch& known = record->region.epoch();
    if (mine.version() > known.version() ||
        mine.conf_version() > known.conf_version()) {
      meta_deferred_.insert(id);
    }
  }
  // A target whose recovered state (a snapshot past its merge) lists a
  // source still here: a crash came before the source's destruction.
  for (const auto& [id, peer] : peers_) {
    if (DestroyMergedAway(peer->region())) meta_deferred_.insert(id);
  }
  if (!recovery.groups.empty()) {
    return absl::DataLossError(absl::StrCat(
        "the WAL holds raft state for region ", recovery.groups.begin()->first,
        ", which the manifest does not list as running on store ",
        config_.store_id));
  }
  return absl::OkStatus();
}

absl::Status Store::LoadRegion(const manifest::RegionRecord& record,
                               StoreRecovery& recovery) {
  const meta::Region& region = record.local_state().region();
  const meta::RegionState state = record.local_state().state();
  if (state == meta::REGION_STATE_REMOVING ||
      state == meta::REGION_STATE_TOMBSTONE) {
    // Its peer was destroyed (its range may belong to a region that merged
    // it by now); a crash may have come before the WAL recorded that:
    // record it again.
    if (absl::Status s = catalog_.InsertRemoved(region, state); !s.ok()) {
      return Corrupt(region.id(), s);
    }
    if (auto it = recovery.groups.find(region.id());
        it != recovery.groups.end()) {
      groups_to_remove_.push_back(region.id());
      recovery.groups.erase(it);
    }
    return absl::OkStatus();
  }
  if (absl::Status s = catalog_.Insert(region); !s.ok()) {
    return Corrupt(region.id(), s);
  }
  if (state != meta::REGION_STATE_NEW) {
    if (absl::Status s =
            catalog_.Transition(region.id(), meta::REGION_STATE_RUNNING);
        !s.ok()) {
      return Corrupt(region.id(), s);
    }
  }
  storage::WalGroupState group;
  if (auto it = recovery.groups.find(region.id());
      it != recovery.groups.end()) {
    group = std::move(it->second);
    recovery.groups.erase(it);
  }
  if (state != meta::REGION_STATE_NEW && state != meta::REGION_STATE_RUNNING) {
    return Corrupt(region.id(), absl::InvalidArgumentError(absl::StrCat(
                                    "unknown state ", RegionStateName(state))));
  }
  // The manifest learns a snapshot only once the WAL write holding it is
  // durable, and the WAL's snapshot only moves forward: a manifest ahead of
  // the WAL means the WAL lost a durable snapshot.
  if (record.log().snapshot_index() > group.snapshot.index()) {
    return Corrupt(
        region.id(),
        absl::DataLossError(absl::StrCat(
            "the manifest records its snapshot at index ",
            record.log().snapshot_index(), " but the WAL's latest is at ",
            group.snapshot.index())));
  }
  std::optional<RegionSnapshotImage> image;
  if (auto it = recovery.snapshots.find(region.id());
      it != recovery.snapshots.end()) {
    image = std::move(it->second);
  }
  // A Running region without any raft state was bootstrapped and crashed
  // before its first write; a New one was created to join its group and
  // waits for a snapshot from its leader.
  if (absl::Status s = StartPeer(region, std::move(group), std::move(image),
                                 state == meta::REGION_STATE_RUNNING);
      !s.ok()) {
    return s;
  }
  if (Peer* peer = FindPeer(region.id()); !peer->initialized()) {
    peer->set_placeholder_conf_version(
        record.local_state().joined_conf_version());
  }
  // A New region whose snapshot became durable before a crash took the
  // manifest's Running edit with it.
  if (state == meta::REGION_STATE_NEW && FindPeer(region.id())->initialized()) {
    now_running_.push_back(region.id());
  }
  return absl::OkStatus();
}

absl::Status Store::StartPeer(const meta::Region& region,
                              storage::WalGroupState recovered,
                              std::optional<RegionSnapshotImage> snapshot,
                              bool bootstrap) {
  PeerSetup setup;
  setup.bootstrap = bootstrap;
  setup.config = &config_;
  setup.region = region;
  setup.recovered = std::move(recovered);
  setup.snapshot = std::move(snapshot);
  setup.rng = rng_.Fork();
  setup.observer = observer_;
  absl::StatusOr<std::unique_ptr<Peer>> peer = Peer::Create(std::move(setup));
  if (!peer.ok()) {
    return absl::DataLossError(absl::StrCat("store ", config_.store_id, ": ",
                                            peer.status().message()));
  }
  peers_[region.id()] = *std::move(peer);
  RS_CHECK(catalog_.NotifyPeerStart(region.id()).ok());
  return absl::OkStatus();
}

Peer* Store::FindPeer(uint64_t region_id) const {
  auto it = peers_.find(region_id);
  return it == peers_.end() ? nullptr : it->second.get();
}

PeerOutput Store::Output() {
  return PeerOutput{&outbox_,       &replies_, &stats_.peers, &admin_replies_,
                    &meta_changed_, &removed_, &splits_,      &merges_};
}

void Store::StartSplitRegions() {
  for (SplitResult& split : splits_) {
    const meta::Region& region = split.region;
    split_parents_.insert(split.parent_id);
    storage::WalGroupState recovered;
    if (catalog_.Get(region.id()).ok()) {
      // Replaying a split whose region exists here and has its data
      // (restored from its snapshot and the WAL): the parent just dropped
      // the keys it gave away. An uninitialized peer of the region (created
      // by its leader's message, or a split whose bootstrap snapshot never
      // became durable) gets the data now, keeping the votes it cast.
      Peer* existing = FindPeer(region.id());
      if (existing == nullptr || existing->initialized()) continue;
      if (!catalog_.Update(region).ok()) {
        ++stats_.meta_updates_refused;
        continue;
      }
      recovered.hard_state = existing->CurrentHardState();
      peers_.erase(region.id());
      RS_CHECK(catalog_.NotifyPeerStop(region.id()).ok());
    } else if (!catalog_.Insert(region).ok()) {
      ++stats_.meta_updates_refused;  // overlaps: a stale region here
      continue;
    }
    PeerSetup setup;
    setup.config = &config_;
    setup.region = region;
    setup.bootstrap = true;
    setup.recovered = std::move(recovered);
    setup.split_kv = std::move(split.kv);
    setup.rng = rng_.Fork();
    setup.observer = observer_;
    absl::StatusOr<std::unique_ptr<Peer>> peer = Peer::Create(std::move(setup));
    RS_CHECK(peer.ok()) << "split region " << region.id() << ": "
                        << peer.status();
    peers_[region.id()] = *std::move(peer);
    RS_CHECK(catalog_.NotifyPeerStart(region.id()).ok());
    // New until its bootstrap snapshot (its data) is durable: a restart in
    // between must not take it for an empty bootstrapped region.
    PutManifestRecord(region, meta::REGION_STATE_NEW);
    ++stats_.regions_split;
  }
  splits_.clear();
}

void Store::MarkRunning() {
  for (uint64_t region_id : now_running_) {
    Peer* peer = FindPeer(region_id);
    absl::StatusOr<RegionRecord> record = catalog_.Get(region_id);
    if (peer == nullptr || !record.ok() ||
        record->state != meta::REGION_STATE_NEW || !peer->initialized()) {
      continue;
    }
    RS_CHECK(catalog_.Transition(region_id, meta::REGION_STATE_RUNNING).ok());
    PutManifestRecord(peer->region(), meta::REGION_STATE_RUNNING);
  }
  now_running_.clear();
}

void Store::PutManifestRecord(const meta::Region& region,
                              meta::RegionState state) {
  // A meta that no longer lists this store is a removal its peer applied.
  // It is recorded as the Tombstone it is about to become: the destruction
  // and its own edit come in a later round, and a crash before them must not
  // leave a live region with no peer here, which Open refuses (the
  // simulator's finding F11).
  if ((state == meta::REGION_STATE_NEW ||
       state == meta::REGION_STATE_RUNNING) &&
      std::none_of(region.peers().begin(), region.peers().end(),
                   [&](const meta::Peer& p) {
                     return p.store_id() == config_.store_id;
                   })) {
    state = meta::REGION_STATE_TOMBSTONE;
  }
  if (!manifest_edit_.has_value()) manifest_edit_.emplace();
  manifest::RegionRecord* record = nullptr;
  for (manifest::RegionRecord& r : *manifest_edit_->mutable_put_regions()) {
    if (r.region_id() == region.id()) record = &r;
  }
  if (record == nullptr) record = manifest_edit_->add_put_regions();
  record->set_region_id(region.id());
  record->mutable_local_state()->set_format_version(1);
  *record->mutable_local_state()->mutable_region() = region;
  record->mutable_local_state()->set_state(state);
  record->mutable_local_state()->clear_joined_conf_version();
  if (const Peer* peer = FindPeer(region.id()); peer != nullptr) {
    *record->mutable_log() = peer->LogPointers();
    if (!peer->initialized()) {
      record->mutable_local_state()->set_joined_conf_version(
          peer->known_conf_version());
    }
  } else {
    record->clear_log();
  }
}

Peer* Store::MaybeCreatePeer(const RaftMessage& message) {
  const raft::MessageType type = message.message().type();
  // A leader's message, or a candidate's (pre-)vote request: a region born
  // of a split on a store that missed the split (a snapshot of the parent
  // past it caught the store up) has no peer there, and with one other
  // replica down its candidate needs this one's vote before any leader can
  // exist to create it. An empty log grants a vote only to a candidate at
  // least as up to date, so this is safe.
  if (type != raft::MESSAGE_TYPE_APPEND &&
      type != raft::MESSAGE_TYPE_HEARTBEAT &&
      type != raft::MESSAGE_TYPE_SNAPSHOT && type != raft::MESSAGE_TYPE_VOTE &&
      type != raft::MESSAGE_TYPE_PRE_VOTE) {
    return nullptr;
  }
  if (message.to_peer().store_id() != config_.store_id ||
      message.to_peer().id() == 0 || message.from_peer().id() == 0 ||
      message.from_peer().store_id() == 0) {
    return nullptr;  // not ours, or malformed
  }
  if (absl::StatusOr<RegionRecord> known = catalog_.Get(message.region_id());
      known.ok()) {
    // A region known here is never recreated, with one exception: the
    // region once had a peer here that was removed (a tombstone), and a
    // newer membership added a new peer (peer ids are never reused) on this
    // store again. Its tombstone goes (its WAL group was removed when it was
    // destroyed) and the new peer starts empty.
    const bool readded =
        known->state == meta::REGION_STATE_TOMBSTONE &&
        message.region_epoch().conf_version() >
            known->region.epoch().conf_version() &&
        std::none_of(known->region.peers().begin(), known->region.peers().end(),
                     [&](const meta::Peer& p) {
                       return p.id() == message.to_peer().id();
                     });
    meta::Region wanted;
    wanted.set_id(message.region_id());
    wanted.set_start_key(message.start_key());
    wanted.set_end_key(message.end_key());
    // The tombstone goes only if the new peer can take its place: else it
    // would be gone from memory with nothing instead.
    if (!readded || !catalog_.Overlaps(wanted).empty() ||
        !catalog_.Remove(message.region_id()).ok()) {
      return nullptr;
    }
    ++stats_.peers_readded;
  }
  meta::Region region;
  region.set_id(message.region_id());
  region.set_start_key(message.start_key());
  region.set_end_key(message.end_key());
  // A placeholder until the leader's snapshot brings the real meta: epoch
  // {0, 0}, so that meta (whatever its epoch) replaces it.
  region.mutable_epoch()->set_version(0);
  region.mutable_epoch()->set_conf_version(0);
  *region.add_peers() = message.from_peer();
  *region.add_peers() = message.to_peer();
  if (!catalog_.Insert(region).ok()) return nullptr;  // overlaps a region here
  if (!StartPeer(region, {}, std::nullopt, /*bootstrap=*/false).ok()) {
    RS_CHECK(catalog_.Transition(region.id(), meta::REGION_STATE_RUNNING).ok());
    RS_CHECK(
        catalog_.Transition(region.id(), meta::REGION_STATE_TOMBSTONE).ok());
    return nullptr;
  }
  ++stats_.peers_created;
  Peer* created = FindPeer(region.id());
  created->set_placeholder_conf_version(message.region_epoch().conf_version());
  PutManifestRecord(region, meta::REGION_STATE_NEW);
  return created;
}

void Store::ProcessMetaChanges() {
  meta_changed_.insert(meta_changed_.end(), meta_deferred_.begin(),
                       meta_deferred_.end());
  meta_deferred_.clear();
  // merges_ only counts here: the target's meta lists the source, which
  // DestroyMergedAway finds below.
  merges_.clear();
  for (uint64_t region_id : meta_changed_) {
    Peer* peer = FindPeer(region_id);
    if (peer == nullptr) continue;
    absl::StatusOr<RegionRecord> record = catalog_.Get(region_id);
    RS_CHECK(record.ok());
    // A merge (applied, or in an installed snapshot): the source's replica
    // here goes first, then the target's wider range enters the catalog
    // and the manifest, in one edit with the source's Tombstone.
    if (DestroyMergedAway(peer->region())) {
      meta_deferred_.insert(region_id);
      continue;
    }
    if (absl::Status s = catalog_.Update(peer->region()); !s.ok()) {
      // An overlap with a region here that lags (it has not applied the
      // split or merge that gave the range away yet), or a catalog ahead of
      // a replaying peer: both pass. Retried every round until it goes in;
      // dropping it would leave the catalog stale for good.
      if (absl::IsFailedPrecondition(s)) {
        if (meta_deferred_.insert(region_id).second) {
          ++stats_.meta_updates_refused;
        }
      }
      continue;
    }
    // A New region stays New until its snapshot is durable (MarkRunning).
    PutManifestRecord(peer->region(), record->state);
  }
  meta_changed_.clear();
  for (uint64_t region_id : pointers_changed_) {
    absl::StatusOr<RegionRecord> record = catalog_.Get(region_id);
    if (FindPeer(region_id) != nullptr && record.ok() &&
        OwnsRange(record->state)) {
      PutManifestRecord(record->region, record->state);
    }
  }
  pointers_changed_.clear();
  StartSplitRegions();
  MarkRunning();
  for (uint64_t region_id : removed_) destroy_pending_.insert(region_id);
  removed_.clear();
}

bool Store::DestroyMergedAway(const meta::Region& region) {
  bool queued = false;
  for (uint64_t source_id : region.merged_region_ids()) {
    merged_away_ids_.insert(source_id);
    if (FindPeer(source_id) == nullptr) continue;
    if (destroy_pending_.insert(source_id).second) {
      ++stats_.merged_away_destroyed;
    }
    queued = true;
  }
  return queued;
}

bool Store::MergedAwayHere(const meta::Region& region) const {
  for (const auto& [id, peer] : peers_) {
    if (MergedAway(peer->region(), region.id())) return true;
  }
  return false;
}

void Store::ScheduleMerges() {
  for (auto& [id, peer] : peers_) {
    const std::optional<MergeState>& merge = peer->merge_state();
    if (!merge.has_value() || destroy_pending_.contains(id)) continue;
    Peer* target = FindPeer(merge->target.id());
    std::optional<meta::Region> seen;
    if (target != nullptr && target->initialized()) {
      seen = target->region();
    } else if (absl::StatusOr<RegionRecord> record =
                   catalog_.Get(merge->target.id());
               target == nullptr && record.ok() &&
               record->state == meta::REGION_STATE_TOMBSTONE) {
      seen = record->region;  // its last meta here
    }
    if (!seen.has_value()) continue;
    MergeDecision decision = DecideMerge(*merge, id, *seen);
    if (target == nullptr && !MergedAway(*seen, id) && MergedAwayHere(*seen)) {
      // The target was itself merged into another region: frozen for good
      // at its own prepare, without this source in it, so it never takes
      // this source in.
      decision = MergeDecision::kRollBack;
    }
    switch (decision) {
      case MergeDecision::kCommit:
        if (target != nullptr && target->ProposeCommitMerge(*peer)) {
          ++stats_.merge_commits_proposed;
        }
        break;
      case MergeDecision::kRollBack:
        if (peer->ProposeRollbackMerge()) ++stats_.merge_rollbacks_proposed;
        break;
      case MergeDecision::kWait:
        break;
    }
  }
}

void Store::DestroyPeers() {
  RS_CHECK_EQ(in_flight_token_, 0U);
  PeerOutput out = Output();
  for (uint64_t region_id : destroy_pending_) {
    auto it = peers_.find(region_id);
    if (it == peers_.end()) continue;
    it->second->AbandonPending(out);
    const meta::Region region = it->second->region();
    peers_.erase(it);
    RS_CHECK(catalog_.NotifyPeerStop(region_id).ok());
    absl::StatusOr<RegionRecord> record = catalog_.Get(region_id);
    RS_CHECK(record.ok());
    if (record->state == meta::REGION_STATE_NEW) {
      RS_CHECK(catalog_.Transition(region_id, meta::REGION_STATE_RUNNING).ok());
    }
    RS_CHECK(catalog_.Transition(region_id, meta::REGION_STATE_TOMBSTONE).ok());
    PutManifestRecord(region, meta::REGION_STATE_TOMBSTONE);
    groups_to_remove_.push_back(region_id);
    ++stats_.peers_destroyed;
  }
  destroy_pending_.clear();
}

void Store::Tick() {
  ++stats_.ticks;
  if (stats_.ticks % config_.merge_check_ticks == 0) ScheduleMerges();
  for (auto& [id, peer] : peers_) {
    if (peer->TakeStaleCheck()) SendStaleChecks(*peer);
  }
  for (auto& [id, peer] : peers_) {
    peer->Tick();
    // Checked on the tick (it is throttled by ticks anyway), not on every
    // TakeEffects.
    if (std::optional<SplitSuggestion> split = peer->MaybeSuggestSplit()) {
      ++stats_.split_suggestions;
      split_suggestions_.push_back(*std::move(split));
    }
  }
}

absl::Status Store::Receive(const RaftMessageBatch& batch) {
  ++stats_.batches_received;
  absl::Status refused;
  if (batch.cluster_id() != config_.cluster_id) {
    refused = absl::InvalidArgumentError(
        absl::StrCat("message batch from store ", batch.from_store_id(),
                     " belongs to cluster ", batch.cluster_id(), ", not ",
                     config_.cluster_id));
  } else if (batch.to_store_id() != config_.store_id) {
    refused = absl::InvalidArgumentError(
        absl::StrCat("message batch from store ", batch.from_store_id(),
                     " is addressed to store ", batch.to_store_id(),
                     ", not this store ", config_.store_id));
  } else if (static_cast<size_t>(batch.messages_size()) >
             config_.messages_per_batch_max) {
    refused = absl::InvalidArgumentError(absl::StrCat(
        "message batch from store ", batch.from_store_id(), " carries ",
        batch.messages_size(), " messages, more than messages_per_batch_max ",
        config_.messages_per_batch_max));
  }
  if (!refused.ok()) {
    ++stats_.batches_refused;
    return refused;
  }
  for (const RaftMessage& message : batch.messages()) {
    ++stats_.messages_received;
    Peer* peer = FindPeer(message.region_id());
    if (message.is_tombstone()) {
      HandleTombstone(peer, message);
      continue;
    }
    if (peer != nullptr && message.to_peer().store_id() == config_.store_id &&
        IsRemovedSender(*peer, message)) {
      TellTombstone(*peer, message);
      continue;
    }
    // Checked before anything else, so garbage never creates a peer.
    if (message.message().type() == raft::MESSAGE_TYPE_SNAPSHOT &&
        !Peer::ValidateSnapshotMessage(config_, message.message(),
                                       message.region_id())
             .ok()) {
      ++stats_.snapshot_messages_refused;
      ++stats_.messages_refused;
      continue;
    }
    if (peer == nullptr && merged_away_ids_.contains(message.region_id())) {
      TellMergedAway(message);
      continue;
    }
    if (message.check_stale()) {
      // A member still listed (or a region unknown here): nothing to say.
      ++stats_.stale_checks_received;
      ++stats_.messages_refused;
      continue;
    }
    if (peer == nullptr) peer = MaybeCreatePeer(message);
    if (peer == nullptr || message.to_peer().store_id() != config_.store_id) {
      ++stats_.messages_refused;
      continue;
    }
    // (An uninitialized peer compares with the membership it was created
    // in: the message may be for an older peer on this store.)
    if (message.to_peer().id() != peer->peer_id() &&
        message.region_epoch().conf_version() > peer->known_conf_version() &&
        SenderKnown(*peer, message)) {
      // A newer membership put another peer of the region on this store:
      // ours was removed and never heard of it (a learner or a replica cut
      // off sends nothing that would draw a tombstone). It goes; the
      // leader's next message creates the new one.
      ++stats_.tombstones_received;
      destroy_pending_.insert(peer->region_id());
      ++stats_.messages_refused;
      continue;
    }
    peer->LearnSender(message.from_peer());
    if (!peer->Step(message).ok()) ++stats_.messages_refused;
  }
  return absl::OkStatus();
}

bool Store::IsRemovedSender(const Peer& peer, const RaftMessage& message) {
  // A sender that does not know its membership (an uninitialized peer
  // restarted, with conf_version 0) may be a peer added by a change this
  // replica has not applied: never told it was removed. (An uninitialized
  // sender otherwise sends the conf_version it was created in.)
  if (message.region_epoch().conf_version() == 0) return false;
  // Peer ids are never reused: a sender that a newer membership of the
  // region no longer lists was removed, and has not heard of it yet (it was
  // down or cut off when the change committed).
  if (message.region_epoch().conf_version() >=
      peer.region().epoch().conf_version()) {
    return false;
  }
  for (const meta::Peer& member : peer.region().peers()) {
    if (member.id() == message.from_peer().id()) return false;
  }
  return true;
}

void Store::TellTombstone(const Peer& peer, const RaftMessage& message) {
  ++stats_.tombstones_sent;
  RaftMessage reply;
  reply.set_region_id(peer.region_id());
  reply.set_is_tombstone(true);
  *reply.mutable_from_peer() = message.to_peer();
  *reply.mutable_to_peer() = message.from_peer();
  *reply.mutable_region_epoch() = peer.region().epoch();
  if (!outbox_.Add(message.from_peer().store_id(), std::move(reply))) {
    ++stats_.peers.messages_dropped;
  }
}

bool Store::SenderKnown(const Peer& peer, const RaftMessage& message) {
  if (!peer.initialized()) return true;  // a placeholder meta knows no one
  for (const meta::Peer& member : peer.region().peers()) {
    if (member.id() == message.from_peer().id()) return true;
  }
  return false;
}

void Store::SendStaleChecks(const Peer& peer) {
  const meta::Region& region = peer.region();
  const meta::Peer* self = nullptr;
  for (const meta::Peer& member : region.peers()) {
    if (member.id() == peer.peer_id()) self = &member;
  }
  if (self == nullptr) return;
  for (const meta::Peer& member : region.peers()) {
    if (member.id() == peer.peer_id() || member.store_id() == 0) continue;
    RaftMessage check;
    check.set_region_id(region.id());
    *check.mutable_from_peer() = *self;
    *check.mutable_to_peer() = member;
    *check.mutable_region_epoch() = region.epoch();
    check.mutable_region_epoch()->set_conf_version(peer.known_conf_version());
    check.set_check_stale(true);
    ++stats_.stale_checks_sent;
    if (!outbox_.Add(member.store_id(), std::move(check))) {
      ++stats_.peers.messages_dropped;
    }
  }
}

void Store::TellMergedAway(const RaftMessage& message) {
  ++stats_.messages_refused;
  if (message.is_tombstone() || message.from_peer().store_id() == 0 ||
      message.to_peer().store_id() != config_.store_id) {
    return;
  }
  ++stats_.merged_away_told;
  RaftMessage reply;
  reply.set_region_id(message.region_id());
  reply.set_is_tombstone(true);
  reply.set_merged_away(true);
  *reply.mutable_from_peer() = message.to_peer();
  *reply.mutable_to_peer() = message.from_peer();
  if (!outbox_.Add(message.from_peer().store_id(), std::move(reply))) {
    ++stats_.peers.messages_dropped;
  }
}

void Store::HandleTombstone(const Peer* peer, const RaftMessage& message) {
  if (peer != nullptr && message.merged_away() &&
      peer->peer_id() == message.to_peer().id()) {
    // Trusted from a member of the region as we know it: its store holds
    // the target that took the region in.
    for (const meta::Peer& member : peer->region().peers()) {
      if (member.id() == message.from_peer().id()) {
        ++stats_.tombstones_received;
        merged_away_ids_.insert(peer->region_id());
        destroy_pending_.insert(peer->region_id());
        return;
      }
    }
    ++stats_.messages_refused;
    return;
  }
  if (peer == nullptr || peer->peer_id() != message.to_peer().id() ||
      message.region_epoch().conf_version() <= peer->known_conf_version()) {
    ++stats_.messages_refused;  // not about our peer, or not newer news
    return;
  }
  for (const meta::Peer& member : peer->region().peers()) {
    // Trust it only if the sender is a member we know of, or our meta is a
    // placeholder (an uninitialized peer): a stranger cannot remove us.
    if (member.id() == message.from_peer().id() || !peer->initialized()) {
      ++stats_.tombstones_received;
      removed_.push_back(peer->region_id());
      return;
    }
  }
  ++stats_.messages_refused;
}

Peer* Store::Route(const kv::KvRequest& request, kv::Error* error) const {
  const kv::RequestHeader& header = HeaderOf(request);
  const std::string_view key = RoutingKey(request);
  std::optional<meta::Region> region;
  if (header.region_id() == 0) {
    region = catalog_.FindByKey(key);
  } else {
    absl::StatusOr<RegionRecord> record = catalog_.Get(header.region_id());
    if (record.ok() && OwnsRange(record->state)) region = record->region;
  }
  if (!region.has_value()) {
    *error = RegionNotFoundError(header.region_id());
    return nullptr;
  }
  const bool epoch_given = header.region_epoch().version() != 0 ||
                           header.region_epoch().conf_version() != 0;
  if (epoch_given &&
      header.region_epoch().version() != region->epoch().version()) {
    kv::EpochNotMatch* stale = error->mutable_epoch_not_match();
    *stale->add_current_regions() = *region;
    std::optional<meta::Region> holder = catalog_.FindByKey(key);
    if (holder.has_value() && holder->id() != region->id()) {
      *stale->add_current_regions() = *holder;
    }
    error->set_message("the request's region epoch is stale");
    return nullptr;
  }
  if (!KeyInRegion(key, *region)) {
    *error = KeyNotInRegionError(key, *region);
    return nullptr;
  }
  Peer* peer = FindPeer(region->id());
  if (peer == nullptr) *error = RegionNotFoundError(region->id());
  return peer;
}

void Store::Submit(uint64_t reply_to, const kv::KvRequest& request) {
  ++stats_.requests;
  if (request.request_case() == kv::KvRequest::REQUEST_NOT_SET) {
    kv::Error error;
    error.set_message("the request carries no operation");
    replies_.push_back(ClientReply{reply_to, ErrorResponse(request, error)});
    return;
  }
  kv::Error error;
  if (IsWrite(request) && !ValidSession(HeaderOf(request), &error)) {
    replies_.push_back(
        ClientReply{reply_to, ErrorResponse(request, std::move(error))});
    return;
  }
  Peer* peer = Route(request, &error);
  if (peer == nullptr) {
    ++stats_.routing_refusals;
    replies_.push_back(
        ClientReply{reply_to, ErrorResponse(request, std::move(error))});
    return;
  }
  PeerOutput out = Output();
  if (!IsWrite(request)) {
    peer->Read(reply_to, request, out);
    return;
  }
  if (stats_.peers.proposals_in_flight >= config_.store_proposals_max) {
    ++stats_.peers.busy_refusals;
    replies_.push_back(ClientReply{
        reply_to,
        ErrorResponse(request,
                      ServerBusyError("store has too many proposals in flight",
                                      config_.busy_backoff_ms))});
    return;
  }
  peer->ProposeWrite(reply_to, request, out);
}

void Store::WaitApplied(uint64_t reply_to, uint64_t region_id, uint64_t index) {
  if (waiters_.size() >= config_.applied_waiters_max) {
    applied_notices_.push_back(AppliedNotice{
        reply_to, region_id,
        absl::ResourceExhaustedError(absl::StrCat(
            "store ", config_.store_id, " already has applied_waiters_max = ",
            config_.applied_waiters_max, " waiters")),
        0});
    return;
  }
  waiters_.push_back(Waiter{reply_to, region_id, index});
  NotifyWaiters();
}

void Store::NotifyWaiters() {
  std::vector<Waiter> waiting;
  for (const Waiter& waiter : waiters_) {
    const Peer* peer = FindPeer(waiter.region_id);
    if (peer == nullptr) {
      applied_notices_.push_back(AppliedNotice{
          waiter.reply_to, waiter.region_id,
          absl::NotFoundError(absl::StrCat("region ", waiter.region_id,
                                           " has no peer on store ",
                                           config_.store_id)),
          0});
      continue;
    }
    const uint64_t applied = peer->applied_index();
    if (applied >= waiter.index) {
      applied_notices_.push_back(AppliedNotice{
          waiter.reply_to, waiter.region_id, absl::OkStatus(), applied});
    } else {
      waiting.push_back(waiter);
    }
  }
  waiters_ = std::move(waiting);
}

void Store::SubmitAdmin(uint64_t reply_to, const AdminRequest& request) {
  ++stats_.admin_requests;
  AdminResponse response;
  response.set_request_id(request.request_id());
  absl::StatusOr<RegionRecord> record = catalog_.Get(request.region_id());
  Peer* peer = FindPeer(request.region_id());
  if (!record.ok() || !OwnsRange(record->state) || peer == nullptr) {
    *response.mutable_error() = RegionNotFoundError(request.region_id());
  } else if (request.region_epoch().version() !=
                 record->region.epoch().version() ||
             request.region_epoch().conf_version() !=
                 record->region.epoch().conf_version()) {
    response.mutable_error()->set_message(
        "the admin command's region epoch is stale");
    *response.mutable_error()
         ->mutable_epoch_not_match()
         ->add_current_regions() = record->region;
  } else if (request.request_case() == AdminRequest::REQUEST_NOT_SET) {
    response.mutable_error()->set_message(
        "the admin request carries no command");
  }
  if (response.has_error()) {
    admin_replies_.push_back(AdminReply{reply_to, std::move(response)});
    return;
  }
  PeerOutput out = Output();
  if (request.has_change_peer()) {
    peer->ProposeChangePeer(reply_to, request, out);
  } else if (request.has_transfer_leader()) {
    peer->TransferLeader(reply_to, request, out);
  } else if (request.has_merge()) {
    ++stats_.merges_requested;
    if (std::optional<kv::Error> error = CheckMerge(*peer, request)) {
      *response.mutable_error() = *std::move(error);
      admin_replies_.push_back(AdminReply{reply_to, std::move(response)});
      return;
    }
    peer->ProposePrepareMerge(reply_to, request, out);
  } else if (catalog_.Get(request.split().new_region_id()).ok()) {
    response.mutable_error()->set_message(
        absl::StrCat("split: region ", request.split().new_region_id(),
                     " already exists on store ", config_.store_id));
    admin_replies_.push_back(AdminReply{reply_to, std::move(response)});
  } else {
    peer->ProposeSplit(reply_to, request, out);
  }
}

std::optional<kv::Error> Store::CheckMerge(const Peer& source,
                                           const AdminRequest& request) const {
  const meta::Region& target = request.merge().target();
  kv::Error error;
  absl::StatusOr<RegionRecord> here = catalog_.Get(target.id());
  if (!here.ok() || !OwnsRange(here->state)) {
    error = RegionNotFoundError(target.id());
    error.set_message(absl::StrCat("merge: target region ", target.id(),
                                   " has no live replica on this store"));
    return error;
  }
  const meta::RegionEpoch& known = here->region.epoch();
  if (const Peer* local = FindPeer(target.id());
      local != nullptr && local->merge_state().has_value()) {
    return ServerBusyError(absl::StrCat("merge: target region ", target.id(),
                                        " is itself merging into region ",
                                        local->merge_state()->target.id()),
                           config_.busy_backoff_ms);
  }
  if (known.version() > target.epoch().version() ||
      known.conf_version() > target.epoch().conf_version()) {
    error.set_message("merge: the target's epoch is stale");
    *error.mutable_epoch_not_match()->add_current_regions() = here->region;
    return error;
  }
  // Voters on the same stores, no learners: every store with a replica of
  // the target then holds one of the source, which the target's commit
  // replaces.
  auto stores = [](const meta::Region& region, bool* learners) {
    absl::btree_set<uint64_t> ids;
    for (const meta::Peer& p : region.peers()) {
      ids.insert(p.store_id());
      if (p.role() == meta::PEER_ROLE_LEARNER) *learners = true;
    }
    return ids;
  };
  bool learners = false;
  if (stores(source.region(), &learners) != stores(target, &learners) ||
      learners) {
    error.set_message(absl::StrCat(
        "merge: regions ", source.region_id(), " and ", target.id(),
        " must have their voters on the same stores and no learners"));
    return error;
  }
  return std::nullopt;
}

void Store::CollectReadies() {
  PeerOutput out = Output();
  for (auto& [id, peer] : peers_) {
    for (int i = 0; i < kReadiesPerPeerMax && peer->HasReady(); ++i) {
      raft::Ready ready = peer->GetReady();
      std::vector<raft::Message> held;
      std::optional<SnapshotWrite> installed;
      if (peer->BeginReady(ready, &held, &installed, out)) {
        if (installed.has_value()) ++stats_.snapshots_installed;
        parked_.push_back(Parked{peer.get(), std::move(ready), std::move(held),
                                 std::move(installed)});
        break;  // its next Ready waits for this one's write
      }
      peer->FinishReady(ready, held, out);
    }
  }
}

bool Store::FormWrite(WriteBatch* write) {
  write->removed_groups = std::move(groups_to_remove_);
  groups_to_remove_.clear();
  for (auto& [id, peer] : peers_) {
    if (std::optional<SnapshotWrite> boot = peer->TakeBootstrapSnapshot()) {
      write->snapshots.push_back(*std::move(boot));
    }
  }
  absl::btree_set<uint64_t> parked_regions;
  for (Parked& parked : parked_) {
    parked_regions.insert(parked.peer->region_id());
    if (parked.installed.has_value()) {
      write->snapshots.push_back(std::move(*parked.installed));
      parked.installed.reset();
    }
  }
  // A peer with a Ready in this write waits for the next round: its applied
  // entries may not all be in its stable log yet.
  for (auto& [id, peer] : peers_) {
    // A parent that split this round waits too: its snapshot past the split
    // must not become durable before the new region's bootstrap snapshot,
    // which is in this write (a torn write could keep one and not the
    // other).
    if (parked_regions.contains(id) || split_parents_.contains(id)) continue;
    std::optional<SnapshotWrite> snapshot = peer->MaybeSnapshot();
    if (!snapshot.has_value()) continue;
    ++stats_.snapshots_taken;
    write->snapshots.push_back(*std::move(snapshot));
    snapshotting_.push_back(peer.get());
  }
  if (parked_.empty() && write->snapshots.empty() &&
      write->removed_groups.empty()) {
    return false;
  }
  split_parents_.clear();
  // By region, and within a region by index (a bootstrap snapshot before a
  // snapshot installed over it).
  std::stable_sort(write->snapshots.begin(), write->snapshots.end(),
                   [](const SnapshotWrite& a, const SnapshotWrite& b) {
                     if (a.image.region.id() != b.image.region.id()) {
                       return a.image.region.id() < b.image.region.id();
                     }
                     return a.image.metadata.index() < b.image.metadata.index();
                   });
  for (const SnapshotWrite& snapshot : write->snapshots) {
    snapshots_in_flight_.emplace_back(snapshot.image.region.id(),
                                      snapshot.image.metadata);
    absl::StatusOr<RegionRecord> record =
        catalog_.Get(snapshot.image.region.id());
    if (record.ok() && record->state == meta::REGION_STATE_NEW) {
      becoming_running_.push_back(snapshot.image.region.id());
    }
  }
  write->must_sync =
      !write->snapshots.empty() || !write->removed_groups.empty();
  // parked_ no longer grows: the spans into its entries stay valid until
  // OnPersisted.
  for (const Parked& parked : parked_) {
    RegionWrite& region = write->regions.emplace_back();
    region.region_id = parked.peer->region_id();
    region.entries = std::span<const raft::Entry>(parked.ready.entries);
    region.hard_state = parked.ready.hard_state;
    write->must_sync = write->must_sync || parked.ready.must_sync;
  }
  return true;
}

StoreEffects Store::TakeEffects() {
  StoreEffects effects;
  if (in_flight_token_ == 0) {
    DestroyPeers();
    CollectReadies();
    ProcessMetaChanges();
    if (FormWrite(&effects.write)) {
      in_flight_token_ = ++next_token_;
      effects.write.token = in_flight_token_;
      ++stats_.writes;
      if (effects.write.must_sync) ++stats_.synced_writes;
      stats_.entries_written += effects.write.entry_count();
    }
  }
  outbox_.Flush(&effects.messages);
  for (const RaftMessageBatch& batch : effects.messages) {
    ++stats_.batches_sent;
    stats_.messages_sent += batch.messages_size();
  }
  ProcessMetaChanges();
  effects.split_suggestions = std::move(split_suggestions_);
  split_suggestions_.clear();
  effects.manifest_edit = std::move(manifest_edit_);
  manifest_edit_.reset();
  effects.replies = std::move(replies_);
  replies_.clear();
  effects.admin_replies = std::move(admin_replies_);
  admin_replies_.clear();
  if (!waiters_.empty()) NotifyWaiters();
  effects.applied_notices = std::move(applied_notices_);
  applied_notices_.clear();
  return effects;
}

void Store::OnPersisted(uint64_t token) {
  RS_CHECK_NE(token, 0U);
  RS_CHECK_EQ(token, in_flight_token_)
      << "store " << config_.store_id << ": OnPersisted for write " << token
      << " but the write in flight is " << in_flight_token_;
  for (Peer* peer : snapshotting_) peer->OnSnapshotPersisted();
  snapshotting_.clear();
  for (const auto& [region_id, metadata] : snapshots_in_flight_) {
    if (Peer* peer = FindPeer(region_id); peer != nullptr) {
      peer->NoteDurableSnapshot(metadata);
      pointers_changed_.insert(region_id);
    }
  }
  snapshots_in_flight_.clear();
  now_running_.insert(now_running_.end(), becoming_running_.begin(),
                      becoming_running_.end());
  becoming_running_.clear();
  PeerOutput out = Output();
  for (Parked& parked : parked_) {
    parked.peer->FinishReady(parked.ready, parked.held, out);
  }
  parked_.clear();
  in_flight_token_ = 0;
}

absl::btree_set<std::string> Store::LiveSnapshotFiles() const {
  // With a write in flight, a peer's snapshot may be one that is not yet
  // durable (installed), or a destroyed peer's file may still be what the
  // durable WAL points at: the answer would let a driver delete too much.
  RS_CHECK_EQ(in_flight_token_, 0U)
      << "LiveSnapshotFiles is only meaningful between OnPersisted and the "
         "next TakeEffects";
  absl::btree_set<std::string> names;
  for (const auto& [id, peer] : peers_) {
    if (std::optional<std::string> name = peer->SnapshotFile()) {
      names.insert(*std::move(name));
    }
  }
  return names;
}

std::optional<PeerStatus> Store::GetPeerStatus(uint64_t region_id) const {
  const Peer* peer = FindPeer(region_id);
  if (peer == nullptr) return std::nullopt;
  return peer->Status();
}

bool Store::IsLeader(uint64_t region_id) const {
  const Peer* peer = FindPeer(region_id);
  return peer != nullptr && peer->IsLeader();
}

std::vector<PeerStatus> Store::PeerStatuses() const {
  std::vector<PeerStatus> statuses;
  statuses.reserve(peers_.size());
  for (const auto& [id, peer] : peers_) statuses.push_back(peer->Status());
  return statuses;
}

std::vector<PeerStatus> Store::PeerSummaries() const {
  std::vector<PeerStatus> summaries;
  summaries.reserve(peers_.size());
  for (const auto& [id, peer] : peers_) summaries.push_back(peer->Summary());
  return summaries;
}

StoreStats Store::stats() const { return stats_; }

bool Store::HasWork() const {
  if (!replies_.empty() || !admin_replies_.empty() || outbox_.queued() > 0 ||
      !split_suggestions_.empty() || manifest_edit_.has_value() ||
      !applied_notices_.empty()) {
    return true;
  }
  if (in_flight_token_ != 0) return false;
  for (const auto& [id, peer] : peers_) {
    if (peer->HasReady()) return true;
  }
  return false;
}

}  // namespace raftstore::store
