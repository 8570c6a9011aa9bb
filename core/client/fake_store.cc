#include "core/client/fake_store.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/base/check.h"
#include "core/kv/kvrpc_fields.h"
#include "proto/kvrpc.pb.h"
#include "proto/region.pb.h"

namespace raftstore::client::testing {
namespace {

// An empty response of the request's kind; returns its header.
kv::ResponseHeader* InitResponse(const kv::KvRequest& request,
                                 kv::KvResponse* response) {
  response->set_request_id(request.request_id());
  switch (request.request_case()) {
    case kv::KvRequest::kGet:
      return response->mutable_get()->mutable_header();
    case kv::KvRequest::kPut:
      return response->mutable_put()->mutable_header();
    case kv::KvRequest::kDelete:
      return response->mutable_delete_()->mutable_header();
    case kv::KvRequest::kScan:
      return response->mutable_scan()->mutable_header();
    case kv::KvRequest::kCompareAndSwap:
      return response->mutable_compare_and_swap()->mutable_header();
    default:
      RS_CHECK(false) << "no operation";
      return nullptr;
  }
}

bool InRange(const meta::Region& region, const std::string& key) {
  return region.start_key() <= key &&
         (region.end_key().empty() || key < region.end_key());
}

}  // namespace

FakeCluster::FakeCluster(std::vector<uint64_t> store_ids)
    : store_ids_(std::move(store_ids)) {
  RS_CHECK(!store_ids_.empty());
  FakeRegion region;
  region.meta.set_id(1);
  region.meta.mutable_epoch()->set_version(1);
  region.meta.mutable_epoch()->set_conf_version(1);
  for (uint64_t store : store_ids_) {
    meta::Peer* peer = region.meta.add_peers();
    peer->set_id(PeerId(1, store));
    peer->set_store_id(store);
    peer->set_role(meta::PEER_ROLE_VOTER);
  }
  region.leader_store = store_ids_.front();
  regions_[1] = region;
}

void FakeCluster::Split(uint64_t region_id, const std::string& split_key,
                        uint64_t new_region_id) {
  FakeRegion& left = regions_.at(region_id);
  RS_CHECK(InRange(left.meta, split_key) && split_key != left.meta.start_key());
  RS_CHECK(!regions_.contains(new_region_id));
  FakeRegion right = left;
  right.meta.set_id(new_region_id);
  right.meta.set_start_key(split_key);
  right.meta.clear_peers();
  for (const meta::Peer& peer : left.meta.peers()) {
    meta::Peer* copy = right.meta.add_peers();
    *copy = peer;
    copy->set_id(PeerId(new_region_id, peer.store_id()));
  }
  left.meta.set_end_key(split_key);
  const uint64_t version = left.meta.epoch().version() + 1;
  left.meta.mutable_epoch()->set_version(version);
  right.meta.mutable_epoch()->set_version(version);
  regions_[new_region_id] = std::move(right);
}

void FakeCluster::Merge(uint64_t left, uint64_t right) {
  FakeRegion& target = regions_.at(left);
  const FakeRegion& source = regions_.at(right);
  RS_CHECK_EQ(target.meta.end_key(), source.meta.start_key());
  const uint64_t version =
      std::max(target.meta.epoch().version(), source.meta.epoch().version()) +
      1;
  target.meta.set_end_key(source.meta.end_key());
  target.meta.mutable_epoch()->set_version(version);
  // As core/kv's SessionTable::MergeFrom: a client with a session in both
  // keeps the larger first_incomplete_sequence and every response at or
  // above it (a response cached in both is of one apply, copied at a split).
  for (const auto& [client_id, theirs] : source.sessions) {
    FakeSession& mine = target.sessions[client_id];
    mine.first_incomplete_sequence = std::max(mine.first_incomplete_sequence,
                                              theirs.first_incomplete_sequence);
    for (const auto& [sequence, response] : theirs.responses) {
      mine.responses.emplace(sequence, response);
    }
    mine.responses.erase(
        mine.responses.begin(),
        mine.responses.lower_bound(mine.first_incomplete_sequence));
  }
  regions_.erase(right);
}

void FakeCluster::SetLeader(uint64_t region_id, uint64_t store_id) {
  regions_.at(region_id).leader_store = store_id;
}

void FakeCluster::SetBusy(uint64_t store_id,
                          std::optional<uint64_t> backoff_ms) {
  if (backoff_ms.has_value()) {
    busy_[store_id] = *backoff_ms;
  } else {
    busy_.erase(store_id);
  }
}

void FakeCluster::ExpireSession(uint64_t client_id) {
  for (auto& [id, region] : regions_) region.sessions.erase(client_id);
}

std::vector<uint64_t> FakeCluster::region_ids() const {
  std::vector<uint64_t> ids;
  for (const auto& [id, region] : regions_) ids.push_back(id);
  return ids;
}

bool FakeCluster::HasPeerOn(const FakeRegion& region, uint64_t store_id) const {
  for (const meta::Peer& peer : region.meta.peers()) {
    if (peer.store_id() == store_id) return true;
  }
  return false;
}

FakeCluster::FakeRegion* FakeCluster::RegionForKey(const std::string& key) {
  for (auto& [id, region] : regions_) {
    if (InRange(region.meta, key)) return &region;
  }
  return nullptr;
}

FakeCluster::FakeRegion* FakeCluster::Route(uint64_t store_id,
                                            const kv::RequestHeader& header,
                                            const std::string& key,
                                            kv::Error* error) {
  FakeRegion* region = nullptr;
  if (header.region_id() == 0) {
    region = RegionForKey(key);
    if (region == nullptr || !HasPeerOn(*region, store_id)) {
      error->mutable_region_not_found()->set_region_id(0);
      return nullptr;
    }
  } else {
    auto it = regions_.find(header.region_id());
    if (it == regions_.end() || !HasPeerOn(it->second, store_id)) {
      error->mutable_region_not_found()->set_region_id(header.region_id());
      return nullptr;
    }
    region = &it->second;
    if (header.region_epoch().version() != region->meta.epoch().version()) {
      kv::EpochNotMatch* stale = error->mutable_epoch_not_match();
      *stale->add_current_regions() = region->meta;
      const FakeRegion* holder = RegionForKey(key);
      if (holder != nullptr && holder != region) {
        *stale->add_current_regions() = holder->meta;
      }
      return nullptr;
    }
    if (!InRange(region->meta, key)) {
      kv::KeyNotInRegion* outside = error->mutable_key_not_in_region();
      outside->set_key(key);
      outside->set_region_id(region->meta.id());
      outside->set_start_key(region->meta.start_key());
      outside->set_end_key(region->meta.end_key());
      return nullptr;
    }
  }
  if (region->leader_store != store_id) {
    kv::NotLeader* not_leader = error->mutable_not_leader();
    not_leader->set_region_id(region->meta.id());
    for (const meta::Peer& peer : region->meta.peers()) {
      if (peer.store_id() == region->leader_store) {
        *not_leader->mutable_leader() = peer;
      }
    }
    return nullptr;
  }
  if (auto busy = busy_.find(store_id); busy != busy_.end()) {
    error->mutable_server_busy()->set_reason("fake busy");
    error->mutable_server_busy()->set_backoff_ms(busy->second);
    return nullptr;
  }
  return region;
}

kv::KvResponse FakeCluster::Handle(uint64_t store_id,
                                   const kv::KvRequest& request) {
  received_.emplace_back(store_id, request);
  kv::KvResponse response;
  kv::ResponseHeader* header = InitResponse(request, &response);
  kv::Error error;
  FakeRegion* region =
      Route(store_id, kv::HeaderOf(request), kv::RoutingKey(request), &error);
  if (region == nullptr) {
    error.set_message("fake refusal");
    *header->mutable_error() = error;
    return response;
  }
  Serve(*region, request, &response);
  return response;
}

void FakeCluster::Serve(FakeRegion& region, const kv::KvRequest& request,
                        kv::KvResponse* response) {
  if (request.has_get()) {
    auto it = data_.find(request.get().key());
    response->mutable_get()->set_found(it != data_.end());
    if (it != data_.end()) response->mutable_get()->set_value(it->second);
  } else if (request.has_scan()) {
    const kv::ScanRequest& scan = request.scan();
    std::string end = scan.end_key();
    if (!region.meta.end_key().empty() &&
        (end.empty() || region.meta.end_key() < end)) {
      end = region.meta.end_key();
    }
    uint32_t limit = scan.limit();
    if (limit == 0 || limit > scan_limit_max_) limit = scan_limit_max_;
    kv::ScanResponse* out = response->mutable_scan();
    for (auto it = data_.lower_bound(scan.start_key());
         it != data_.end() && (end.empty() || it->first < end); ++it) {
      if (static_cast<uint32_t>(out->pairs_size()) == limit) {
        out->set_more(true);
        break;
      }
      kv::KvPair* pair = out->add_pairs();
      pair->set_key(it->first);
      pair->set_value(it->second);
    }
  } else {
    ServeWrite(region, request, response);
    if (InitResponse(request, response)->has_error()) return;
  }
  kv::ResponseHeader* out = InitResponse(request, response);
  *out->mutable_region() = region.meta;
  out->set_term(1);
}

void FakeCluster::ServeWrite(FakeRegion& region, const kv::KvRequest& request,
                             kv::KvResponse* response) {
  const kv::RequestHeader& header = kv::HeaderOf(request);
  const uint64_t client_id = header.client_id();
  const uint64_t sequence = header.sequence();
  RS_CHECK_NE(client_id, 0U) << "write without a session";
  RS_CHECK_NE(sequence, 0U) << "write without a sequence";
  const uint64_t first_incomplete = header.first_incomplete_sequence() == 0
                                        ? sequence
                                        : header.first_incomplete_sequence();
  RS_CHECK_LE(first_incomplete, sequence);
  auto found = region.sessions.find(client_id);
  if (found == region.sessions.end()) {
    // core/kv: only a command sent before the client had any answer of the
    // session may open it in this region.
    if (first_incomplete != 1) {
      kv::ResponseHeader* out = InitResponse(request, response);
      out->mutable_error()->set_message("fake session expired");
      out->mutable_error()->mutable_session_expired()->set_client_id(client_id);
      return;
    }
    found = region.sessions.emplace(client_id, FakeSession{}).first;
  }
  FakeSession& session = found->second;
  if (first_incomplete > session.first_incomplete_sequence) {
    session.first_incomplete_sequence = first_incomplete;
    session.responses.erase(session.responses.begin(),
                            session.responses.lower_bound(first_incomplete));
  }
  if (sequence < session.first_incomplete_sequence) {
    // OUTCOME_STALE_SEQUENCE: the store answers an error of no kind.
    InitResponse(request, response)
        ->mutable_error()
        ->set_message("fake stale sequence");
    return;
  }
  if (auto cached = session.responses.find(sequence);
      cached != session.responses.end()) {
    const uint64_t request_id = response->request_id();
    *response = cached->second;
    response->set_request_id(request_id);
    return;
  }
  Apply(request, response);
  session.responses[sequence] = *response;
}

void FakeCluster::Apply(const kv::KvRequest& request,
                        kv::KvResponse* response) {
  const kv::RequestHeader& header = kv::HeaderOf(request);
  ++applied_[{header.client_id(), header.sequence()}];
  AppliedWrite write{header.client_id(), header.sequence(),
                     kv::RoutingKey(request), ""};
  if (request.has_put()) {
    data_[request.put().key()] = request.put().value();
    write.value = request.put().value();
    response->mutable_put();
  } else if (request.has_delete_()) {
    response->mutable_delete_()->set_existed(
        data_.erase(request.delete_().key()) > 0);
  } else {
    const kv::CompareAndSwapRequest& cas = request.compare_and_swap();
    auto it = data_.find(cas.key());
    kv::CompareAndSwapResponse* out = response->mutable_compare_and_swap();
    out->set_previous_found(it != data_.end());
    if (it != data_.end()) out->set_previous_value(it->second);
    const bool swap =
        cas.expect_absent()
            ? it == data_.end()
            : it != data_.end() && it->second == cas.expected_value();
    out->set_succeeded(swap);
    if (swap) data_[cas.key()] = cas.new_value();
    write.value = cas.new_value();
  }
  applied_writes_.push_back(std::move(write));
}

}  // namespace raftstore::client::testing
