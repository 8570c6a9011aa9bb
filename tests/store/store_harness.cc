#include "tests/store/store_harness.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "core/base/check.h"
#include "core/store/region_state.h"
#include "core/store/requests.h"

namespace raftstore::store::testing {
namespace {

// Deliveries and effect rounds one Pump may run: far above what a quiet
// cluster needs; reaching it means the stores talk forever.
constexpr int kPumpRoundsMax = 100000;

}  // namespace

storage::WalOptions WalOptionsForTests() {
  storage::WalOptions options;
  // Small segments, so that log GC releases some in a short test.
  options.segment_bytes_max = uint64_t{16} * 1024;
  options.verify_writes = true;
  return options;
}

std::vector<meta::Region> MakeRegions(int count, int stores) {
  std::vector<meta::Region> regions;
  for (int i = 1; i <= count; ++i) {
    meta::Region& region = regions.emplace_back();
    region.set_id(static_cast<uint64_t>(i));
    if (i > 1)
      region.set_start_key(absl::StrFormat("k%03d", (i - 1) * 1000 / count));
    if (i < count)
      region.set_end_key(absl::StrFormat("k%03d", i * 1000 / count));
    region.mutable_epoch()->set_version(1);
    region.mutable_epoch()->set_conf_version(1);
    for (int s = 1; s <= stores; ++s) {
      meta::Peer* peer = region.add_peers();
      peer->set_id(
          PeerIdOf(static_cast<uint64_t>(i), static_cast<uint64_t>(s)));
      peer->set_store_id(static_cast<uint64_t>(s));
      peer->set_role(meta::PEER_ROLE_VOTER);
    }
  }
  return regions;
}

StoreHarness::StoreHarness(int stores, std::vector<meta::Region> regions,
                           const StoreConfig& base, uint64_t seed)
    : regions_(std::move(regions)), base_(base), rng_(seed) {
  nodes_.resize(static_cast<size_t>(stores));
  for (int i = 0; i < stores; ++i) {
    Node& n = nodes_[static_cast<size_t>(i)];
    n.id = static_cast<uint64_t>(i) + 1;
    sim::SimDiskOptions options;
    n.disk = std::make_unique<sim::SimDisk>(options, rng_.Fork());
  }
}

StoreHarness::~StoreHarness() = default;

StoreHarness::Node& StoreHarness::node(uint64_t store_id) {
  RS_CHECK(store_id >= 1 && store_id <= nodes_.size());
  return nodes_[store_id - 1];
}

const StoreHarness::Node& StoreHarness::node(uint64_t store_id) const {
  RS_CHECK(store_id >= 1 && store_id <= nodes_.size());
  return nodes_[store_id - 1];
}

absl::Status StoreHarness::Start(uint64_t store_id) {
  Node& n = node(store_id);
  RS_CHECK(n.store == nullptr);
  auto manifest = storage::Manifest::Open(n.disk.get(), {});
  if (!manifest.ok()) return manifest.status();
  manifest::StoreIdent ident;
  ident.set_cluster_id(kClusterId);
  ident.set_store_id(store_id);
  if (!(*manifest)->ident().has_value()) {
    manifest::ManifestEdit edit;
    *edit.mutable_ident() = ident;
    // Each store bootstraps the regions it has a peer of.
    std::vector<meta::Region> mine;
    for (const meta::Region& region : regions_) {
      for (const meta::Peer& peer : region.peers()) {
        if (peer.store_id() == store_id) mine.push_back(region);
      }
    }
    for (manifest::RegionRecord& record : BootstrapRecords(mine)) {
      *edit.add_put_regions() = std::move(record);
    }
    if (absl::Status s = (*manifest)->Apply(edit); !s.ok()) return s;
  }
  if (absl::Status s = (*manifest)->CheckIdent(ident); !s.ok()) return s;
  auto wal = storage::Wal::Open(n.disk.get(), wal_options_);
  if (!wal.ok()) return wal.status();
  StoreRecovery recovery;
  for (const auto& [id, record] : (*manifest)->regions()) {
    recovery.regions.push_back(record);
  }
  recovery.groups = (*wal)->TakeRecovered();
  StoreConfig config = base_;
  config.cluster_id = kClusterId;
  config.store_id = store_id;
  auto snapshots =
      ReadRegionSnapshots(n.disk.get(), recovery.groups, config.snapshot_file);
  if (!snapshots.ok()) return snapshots.status();
  recovery.snapshots = *std::move(snapshots);
  auto store =
      Store::Open(config, std::move(recovery), rng_.Fork(), {}, observer_);
  if (!store.ok()) return store.status();
  n.manifest = *std::move(manifest);
  n.wal = *std::move(wal);
  n.store = *std::move(store);
  return absl::OkStatus();
}

void StoreHarness::Crash(uint64_t store_id) {
  Node& n = node(store_id);
  n.store.reset();
  n.wal.reset();
  n.manifest.reset();
  n.disk->Crash();
}

void StoreHarness::Isolate(uint64_t store_id, bool isolated) {
  node(store_id).isolated = isolated;
}

Store* StoreHarness::store(uint64_t store_id) const {
  return node(store_id).store.get();
}

const NodeCounters& StoreHarness::counters(uint64_t store_id) const {
  return node(store_id).counters;
}

uint64_t StoreHarness::Submit(uint64_t store_id, const kv::KvRequest& request) {
  Node& n = node(store_id);
  RS_CHECK(n.store != nullptr) << "store " << store_id << " is down";
  const uint64_t token = ++next_token_;
  n.store->Submit(token, request);
  return token;
}

uint64_t StoreHarness::SubmitAdmin(uint64_t store_id,
                                   const AdminRequest& request) {
  Node& n = node(store_id);
  RS_CHECK(n.store != nullptr) << "store " << store_id << " is down";
  const uint64_t token = ++next_token_;
  n.store->SubmitAdmin(token, request);
  return token;
}

uint64_t StoreHarness::WaitApplied(uint64_t store_id, uint64_t region_id,
                                   uint64_t index) {
  Node& n = node(store_id);
  RS_CHECK(n.store != nullptr) << "store " << store_id << " is down";
  const uint64_t token = ++next_token_;
  n.store->WaitApplied(token, region_id, index);
  return token;
}

std::optional<AppliedNotice> StoreHarness::TakeAppliedNotice(uint64_t token) {
  auto it = applied_notices_.find(token);
  if (it == applied_notices_.end()) return std::nullopt;
  AppliedNotice notice = std::move(it->second);
  applied_notices_.erase(it);
  return notice;
}

std::optional<AdminResponse> StoreHarness::TakeAdminReply(uint64_t token) {
  auto it = admin_replies_.find(token);
  if (it == admin_replies_.end()) return std::nullopt;
  AdminResponse response = std::move(it->second);
  admin_replies_.erase(it);
  return response;
}

std::optional<AdminResponse> StoreHarness::CallAdmin(AdminRequest request,
                                                     int ticks_max) {
  std::optional<AdminResponse> last;
  for (int tick = 0; tick < ticks_max; ++tick) {
    const uint64_t leader = LeaderStore(request.region_id());
    if (leader == 0) {
      Tick();
      continue;
    }
    *request.mutable_region_epoch() =
        store(leader)->catalog().Get(request.region_id())->region.epoch();
    const uint64_t token = SubmitAdmin(leader, request);
    for (int wait = 0; wait < 100; ++wait) {
      Pump();
      last = TakeAdminReply(token);
      if (last.has_value()) break;
      Tick();
    }
    if (last.has_value() && !last->error().has_not_leader()) return last;
    Tick();
  }
  return last;
}

std::optional<kv::KvResponse> StoreHarness::TakeReply(uint64_t token) {
  auto it = replies_.find(token);
  if (it == replies_.end()) return std::nullopt;
  kv::KvResponse response = std::move(it->second);
  replies_.erase(it);
  return response;
}

bool StoreHarness::Drive(Node& n) {
  if (n.store == nullptr) return false;
  StoreEffects effects = n.store->TakeEffects();
  if (effects.empty()) return false;
  if (effects.manifest_edit.has_value()) {
    // Before the write: the WAL never holds a region the manifest lacks.
    const absl::Status applied = n.manifest->Apply(*effects.manifest_edit);
    RS_CHECK(applied.ok()) << applied;
    ++n.counters.manifest_edits;
    if (crash_after_manifest_ && crash_after_manifest_(n.id, effects)) {
      crash_after_manifest_ = nullptr;
      Crash(n.id);
      return true;
    }
  }
  if (!effects.write.empty()) {
    ++n.counters.writes;
    n.counters.regions_per_write_max = std::max(
        n.counters.regions_per_write_max, effects.write.regions.size());
    const StoreConfig& config = n.store->config();
    RS_CHECK(StageWriteBatch(effects.write, n.disk.get(), n.wal.get(),
                             config.snapshot_file)
                 .ok());
    if (effects.write.must_sync) {
      RS_CHECK(n.wal->Sync().ok());
      ++n.counters.syncs;
    } else {
      RS_CHECK(n.wal->Write().ok());
    }
    n.store->OnPersisted(effects.write.token);
    if (!effects.write.snapshots.empty()) {
      // The new snapshots are durable and the WAL points at them: older
      // files and the segments no region needs any more can go.
      n.counters.snapshots_written += effects.write.snapshots.size();
      RS_CHECK(storage::RemoveStaleSnapshotFiles(n.disk.get(),
                                                 n.store->LiveSnapshotFiles())
                   .ok());
      absl::StatusOr<int> removed = n.wal->CollectGarbage();
      RS_CHECK(removed.ok()) << removed.status();
      n.counters.segments_removed += static_cast<uint64_t>(*removed);
    }
  }
  absl::btree_set<uint64_t> destinations;
  for (RaftMessageBatch& batch : effects.messages) {
    // One batch per destination store per round.
    RS_CHECK(destinations.insert(batch.to_store_id()).second);
    n.counters.messages_per_batch_max =
        std::max(n.counters.messages_per_batch_max,
                 static_cast<size_t>(batch.messages_size()));
    if (n.isolated) continue;
    const uint64_t to = batch.to_store_id();
    network_.push_back(InFlight{to, std::move(batch)});
  }
  for (ClientReply& reply : effects.replies) {
    replies_[reply.reply_to] = std::move(reply.response);
  }
  for (AdminReply& reply : effects.admin_replies) {
    admin_replies_[reply.reply_to] = std::move(reply.response);
  }
  for (AppliedNotice& notice : effects.applied_notices) {
    applied_notices_[notice.reply_to] = std::move(notice);
  }
  for (const SplitSuggestion& suggestion : effects.split_suggestions) {
    ++n.counters.split_suggestions;
    if (!auto_split_) continue;
    // The cluster's id allocator, as a placement service would be.
    AdminRequest request;
    request.set_region_id(suggestion.region_id);
    *request.mutable_region_epoch() = suggestion.epoch;
    const uint64_t new_region = AllocateRegionId();
    request.mutable_split()->set_split_key(suggestion.split_key);
    request.mutable_split()->set_new_region_id(new_region);
    absl::StatusOr<RegionRecord> record =
        n.store->catalog().Get(suggestion.region_id);
    if (!record.ok()) continue;
    for (const meta::Peer& peer : record->region.peers()) {
      request.mutable_split()->add_new_peer_ids(
          PeerIdOf(new_region, peer.store_id()));
    }
    n.store->SubmitAdmin(++next_token_, request);
  }
  return true;
}

void StoreHarness::Pump() {
  for (int round = 0; round < kPumpRoundsMax; ++round) {
    bool moved = false;
    for (Node& n : nodes_) moved = Drive(n) || moved;
    while (!network_.empty()) {
      InFlight in_flight = std::move(network_.front());
      network_.pop_front();
      Node& to = node(in_flight.to);
      if (to.store == nullptr || to.isolated) continue;
      RS_CHECK(to.store->Receive(in_flight.batch).ok());
      moved = true;
    }
    if (!moved) return;
  }
  RS_CHECK(false) << "the stores never went quiet";
}

void StoreHarness::Tick() {
  for (Node& n : nodes_) {
    if (n.store != nullptr) n.store->Tick();
  }
  Pump();
}

bool StoreHarness::RunUntil(const std::function<bool()>& done, int ticks_max) {
  // done() is called once per check: a predicate may consume what it sees.
  Pump();
  for (int i = 0; i < ticks_max; ++i) {
    if (done()) return true;
    Tick();
  }
  return done();
}

uint64_t StoreHarness::LeaderStore(uint64_t region_id) const {
  for (const Node& n : nodes_) {
    if (n.store == nullptr || n.isolated) continue;
    if (n.store->IsLeader(region_id)) return n.id;
  }
  return 0;
}

bool StoreHarness::WaitForLeaders(int ticks_max) {
  return RunUntil(
      [this] {
        for (uint64_t region_id : RegionIds()) {
          if (LeaderStore(region_id) == 0) return false;
        }
        return true;
      },
      ticks_max);
}

uint64_t StoreHarness::RegionOf(const std::string& key) const {
  // The region a live leader serves the key from (catalogs of followers may
  // lag a split), else any store's view.
  uint64_t any = 0;
  for (const Node& n : nodes_) {
    if (n.store == nullptr) continue;
    std::optional<meta::Region> region = n.store->catalog().FindByKey(key);
    if (!region.has_value()) continue;
    if (any == 0) any = region->id();
    if (n.store->IsLeader(region->id())) return region->id();
  }
  return any;
}

std::vector<uint64_t> StoreHarness::RegionIds() const {
  absl::btree_set<uint64_t> ids;
  for (const Node& n : nodes_) {
    if (n.store == nullptr) continue;
    for (const RegionRecord& record : n.store->catalog().RegionSnapshot()) {
      if (OwnsRange(record.state)) ids.insert(record.region.id());
    }
  }
  return {ids.begin(), ids.end()};
}

uint64_t StoreHarness::AllocateRegionId() { return ++next_region_id_; }

std::optional<kv::KvResponse> StoreHarness::Call(const kv::KvRequest& request,
                                                 int ticks_max) {
  const uint64_t region_id = RegionOf(std::string(RoutingKey(request)));
  std::optional<kv::KvResponse> last;
  for (int tick = 0; tick < ticks_max; ++tick) {
    const uint64_t leader = LeaderStore(region_id);
    if (leader == 0) {
      Tick();
      continue;
    }
    const uint64_t token = Submit(leader, request);
    for (int wait = 0; wait < 100; ++wait) {
      Pump();
      last = TakeReply(token);
      if (last.has_value()) break;
      Tick();
    }
    if (last.has_value() && !ErrorOf(*last).has_not_leader() &&
        !ErrorOf(*last).has_epoch_not_match() &&
        !ErrorOf(*last).has_key_not_in_region() &&
        !ErrorOf(*last).has_region_not_found()) {
      return last;
    }
    Tick();
  }
  return last;
}

kv::KvRequest PutRequest(const std::string& key, const std::string& value,
                         uint64_t client_id, uint64_t sequence) {
  kv::KvRequest request;
  kv::PutRequest* put = request.mutable_put();
  put->set_key(key);
  put->set_value(value);
  put->mutable_header()->set_client_id(client_id);
  put->mutable_header()->set_sequence(sequence);
  return request;
}

kv::KvRequest GetRequest(const std::string& key) {
  kv::KvRequest request;
  request.mutable_get()->set_key(key);
  return request;
}

kv::KvRequest ScanRequest(const std::string& start, const std::string& end,
                          uint32_t limit) {
  kv::KvRequest request;
  request.mutable_scan()->set_start_key(start);
  request.mutable_scan()->set_end_key(end);
  request.mutable_scan()->set_limit(limit);
  return request;
}

kv::KvRequest CasRequest(const std::string& key, const std::string& expected,
                         const std::string& value, uint64_t client_id,
                         uint64_t sequence) {
  kv::KvRequest request;
  kv::CompareAndSwapRequest* cas = request.mutable_compare_and_swap();
  cas->set_key(key);
  cas->set_expected_value(expected);
  cas->set_new_value(value);
  cas->mutable_header()->set_client_id(client_id);
  cas->mutable_header()->set_sequence(sequence);
  return request;
}

const kv::Error& ErrorOf(const kv::KvResponse& response) {
  switch (response.response_case()) {
    case kv::KvResponse::kGet:
      return response.get().header().error();
    case kv::KvResponse::kPut:
      return response.put().header().error();
    case kv::KvResponse::kDelete:
      return response.delete_().header().error();
    case kv::KvResponse::kScan:
      return response.scan().header().error();
    case kv::KvResponse::kCompareAndSwap:
      return response.compare_and_swap().header().error();
    default:
      return kv::Error::default_instance();
  }
}

}  // namespace raftstore::store::testing
