#include "core/client/kv_client.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/btree_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "core/base/rng.h"
#include "core/client/region_cache.h"
#include "core/kv/kvrpc_fields.h"
#include "proto/kvrpc.pb.h"
#include "proto/region.pb.h"

namespace raftstore::client {
namespace {

constexpr uint64_t kMaxU64 = std::numeric_limits<uint64_t>::max();

uint64_t SaturatingAdd(uint64_t a, uint64_t b) {
  return b > kMaxU64 - a ? kMaxU64 : a + b;
}

uint64_t SaturatingMul(uint64_t a, uint64_t b) {
  if (a != 0 && b > kMaxU64 / a) return kMaxU64;
  return a * b;
}

// The header of a response, or null for a response with no operation.
const kv::ResponseHeader* ResponseHeaderOf(const kv::KvResponse& response) {
  switch (response.response_case()) {
    case kv::KvResponse::kGet:
      return &response.get().header();
    case kv::KvResponse::kPut:
      return &response.put().header();
    case kv::KvResponse::kDelete:
      return &response.delete_().header();
    case kv::KvResponse::kScan:
      return &response.scan().header();
    case kv::KvResponse::kCompareAndSwap:
      return &response.compare_and_swap().header();
    default:
      return nullptr;
  }
}

bool Contains(const meta::Region& region, std::string_view key) {
  return region.start_key() <= key &&
         (region.end_key().empty() || key < region.end_key());
}

absl::Status ValidateOp(const kv::KvRequest& op, uint32_t scan_limit_max) {
  switch (op.request_case()) {
    case kv::KvRequest::REQUEST_NOT_SET:
      return absl::InvalidArgumentError("kv client: request has no operation");
    case kv::KvRequest::kScan: {
      const kv::ScanRequest& scan = op.scan();
      if (!scan.end_key().empty() && scan.start_key() >= scan.end_key()) {
        return absl::InvalidArgumentError(
            "kv client: scan start_key must be below a non-empty end_key");
      }
      if (scan.limit() > scan_limit_max) {
        return absl::InvalidArgumentError(
            absl::StrCat("kv client: scan limit ", scan.limit(),
                         " exceeds scan_limit_max ", scan_limit_max));
      }
      return absl::OkStatus();
    }
    case kv::KvRequest::kCompareAndSwap:
      if (op.compare_and_swap().expect_absent() &&
          !op.compare_and_swap().expected_value().empty()) {
        return absl::InvalidArgumentError(
            "kv client: compare-and-swap with both expect_absent and an "
            "expected value");
      }
      break;
    default:
      break;
  }
  if (kv::RoutingKey(op).empty()) {
    return absl::InvalidArgumentError("kv client: empty key");
  }
  return absl::OkStatus();
}

kv::Error TimeoutError(std::string reason) {
  kv::Error error;
  error.set_message(reason);
  error.mutable_timeout()->set_reason(std::move(reason));
  return error;
}

}  // namespace

std::string_view OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kOk:
      return "ok";
    case Outcome::kFail:
      return "fail";
    case Outcome::kUnknown:
      return "unknown";
  }
  return "?";
}

absl::Status KvClientConfig::Validate() const {
  auto bad = [](std::string_view what) {
    return absl::InvalidArgumentError(
        absl::StrCat("kv client config: ", std::string(what)));
  };
  if (store_ids.empty()) return bad("store_ids is empty");
  absl::btree_set<uint64_t> seen;
  for (uint64_t id : store_ids) {
    if (id == 0 || !seen.insert(id).second) {
      return bad(
          absl::StrCat("store id ", id, id == 0 ? " is 0" : " appears twice"));
    }
  }
  if (ops_in_flight_max == 0) return bad("ops_in_flight_max must be >= 1");
  if (writes_in_flight_max == 0 || writes_in_flight_max > ops_in_flight_max) {
    return bad("writes_in_flight_max must be in [1, ops_in_flight_max]");
  }
  if (scan_limit_max == 0) return bad("scan_limit_max must be >= 1");
  if (attempt_timeout_us == 0) return bad("attempt_timeout_us must be >= 1");
  if (sessions_max < writes_in_flight_max) {
    return bad("sessions_max must be >= writes_in_flight_max");
  }
  if (backoff_initial_us == 0 || backoff_initial_us > backoff_max_us) {
    return bad("backoff_initial_us must be in [1, backoff_max_us]");
  }
  return cache.Validate();
}

KvClient::KvClient(const KvClientConfig& config, Rng rng,
                   ClientIdSource next_client_id)
    : config_(config),
      rng_(rng),
      next_client_id_(std::move(next_client_id)),
      cache_(config.cache) {
  const absl::Status valid = config_.Validate();
  RS_CHECK(valid.ok()) << valid.message();
  RS_CHECK(next_client_id_ != nullptr) << "a ClientIdSource is required";
}

uint64_t KvClient::OpenSession(uint64_t region_id) {
  if (sessions_.size() >= config_.sessions_max) EvictIdleSession();
  const uint64_t id = next_client_id_();
  RS_CHECK_NE(id, 0U) << "ClientIdSource returned 0";
  RS_CHECK(!sessions_.contains(id))
      << "ClientIdSource repeated client id " << id;
  Session& session = sessions_[id];
  session.region_id = region_id;
  if (region_id != 0) region_sessions_[region_id] = id;
  ++stats_.sessions_opened;
  return id;
}

void KvClient::EvictIdleSession() {
  // Only live bound sessions are ever idle (retired and single-use ones end
  // with their last write), and Validate's sessions_max >=
  // writes_in_flight_max leaves at least one: the write asking holds none.
  auto victim = sessions_.end();
  for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
    if (it->second.ops == 0 &&
        (victim == sessions_.end() ||
         it->second.last_used < victim->second.last_used)) {
      victim = it;
    }
  }
  RS_CHECK(victim != sessions_.end())
      << "sessions_max " << config_.sessions_max << " sessions all busy";
  RS_CHECK(!victim->second.retired && victim->second.region_id != 0);
  region_sessions_.erase(victim->second.region_id);
  sessions_.erase(victim);
  ++stats_.sessions_evicted;
}

uint64_t KvClient::AcquireSession(uint64_t region_id) {
  if (region_id != 0) {
    if (auto it = region_sessions_.find(region_id);
        it != region_sessions_.end()) {
      return it->second;
    }
  }
  return OpenSession(region_id);
}

void KvClient::RetireSession(uint64_t client_id) {
  Session& session = sessions_.at(client_id);
  if (session.retired) return;
  session.retired = true;
  ++stats_.sessions_retired;
  if (auto it = region_sessions_.find(session.region_id);
      it != region_sessions_.end() && it->second == client_id) {
    region_sessions_.erase(it);
  }
}

uint64_t KvClient::FirstIncomplete(const Session& session) const {
  // Until a write of the session was answered ok, the store may not have it
  // open: 1 lets any write of it open it, and is true (no outcome of the
  // session was learned from an applied answer).
  if (!session.answered) return 1;
  // Empty only for an idle session: what its next write would send.
  if (session.incomplete.empty()) return session.next_sequence;
  return *session.incomplete.begin();
}

void KvClient::BindSession(Op& op) {
  if (op.client_id != 0) {
    // In doubt: an attempt may have applied under (client_id, sequence),
    // so only that pair may be retried; the store carries the session to
    // wherever the key went (split copies, merge unions).
    if (op.maybe_applied) return;
    const Session& session = sessions_.at(op.client_id);
    if (!session.expired && session.region_id == op.target_region) return;
    // Every attempt so far was refused for certain: the old sequence never
    // applies, so the write may take a sequence valid where it goes now.
    ReleaseSession(op, Outcome::kFail, 0);
    ++stats_.writes_rebound;
  }
  const uint64_t client_id = AcquireSession(op.target_region);
  Session& session = sessions_.at(client_id);
  op.client_id = client_id;
  op.sequence = session.next_sequence++;
  session.incomplete.insert(op.sequence);
  ++session.ops;
  session.last_used = ++session_clock_;
}

void KvClient::ReleaseSession(Op& op, Outcome outcome, uint64_t served_region) {
  auto it = sessions_.find(op.client_id);
  RS_CHECK(it != sessions_.end()) << "client id " << op.client_id;
  Session& session = it->second;
  if (outcome == Outcome::kUnknown) {
    // The sequence stays incomplete forever (it may or may not have
    // applied), so first_incomplete_sequence could never pass it: later
    // writes go to a fresh session, and this one ends with its last write.
    RetireSession(op.client_id);
  } else {
    // kOk: the applied result is here. kFail (or a rebind): it certainly
    // never applied and never will, so the client knows its outcome.
    session.incomplete.erase(op.sequence);
  }
  if (outcome == Outcome::kOk) {
    session.answered = true;
    if (session.region_id == 0 && !session.retired && served_region != 0 &&
        !region_sessions_.contains(served_region)) {
      // The serving region has this session open (it applied sequence 1 or
      // inherited it from where that applied): reuse it there.
      session.region_id = served_region;
      region_sessions_[served_region] = op.client_id;
      ++stats_.sessions_adopted;
    }
  }
  RS_CHECK_GT(session.ops, 0U);
  --session.ops;
  if (session.ops == 0 && (session.retired || session.region_id == 0)) {
    sessions_.erase(it);
  }
  op.client_id = 0;
  op.sequence = 0;
}

void KvClient::AdvanceTime(uint64_t now_us) {
  RS_CHECK_GE(now_us, now_us_) << "time went backwards";
  now_us_ = now_us;
}

absl::StatusOr<uint64_t> KvClient::Submit(const kv::KvRequest& op,
                                          uint64_t deadline_us,
                                          uint64_t now_us) {
  AdvanceTime(now_us);
  if (absl::Status valid = ValidateOp(op, config_.scan_limit_max);
      !valid.ok()) {
    return valid;
  }
  if (deadline_us <= now_us) {
    return absl::InvalidArgumentError(
        absl::StrCat("kv client: deadline ", deadline_us,
                     "us is not after now ", now_us, "us"));
  }
  const bool is_write = kv::IsWrite(op);
  if (ops_in_flight() >= config_.ops_in_flight_max) {
    return absl::ResourceExhaustedError(
        absl::StrCat("kv client: ops_in_flight_max (",
                     config_.ops_in_flight_max, ") operations in flight"));
  }
  if (is_write && writes_in_flight_ >= config_.writes_in_flight_max) {
    return absl::ResourceExhaustedError(
        absl::StrCat("kv client: writes_in_flight_max (",
                     config_.writes_in_flight_max, ") writes in flight"));
  }
  const uint64_t id = next_op_id_++;
  Op& entry = ops_[id];
  entry.id = id;
  entry.request = op;
  entry.request.clear_request_id();
  kv::MutableHeader(entry.request)->Clear();
  entry.is_write = is_write;
  entry.deadline_us = deadline_us;
  // The session is bound by the first attempt, once routing chose a region.
  if (is_write) ++writes_in_flight_;
  if (entry.request.has_scan()) {
    kv::ScanRequest* scan = entry.request.mutable_scan();
    if (scan->limit() == 0) scan->set_limit(config_.scan_limit_max);
    entry.scan_cursor = scan->start_key();
  }
  ++stats_.submitted;
  Attempt(entry, now_us);
  return id;
}

uint64_t KvClient::NextStore() {
  const uint64_t store =
      config_.store_ids[store_cursor_ % config_.store_ids.size()];
  ++store_cursor_;
  return store;
}

uint64_t KvClient::Route(Op& op, kv::RequestHeader* header) {
  const std::string& key =
      op.request.has_scan() ? op.scan_cursor : kv::RoutingKey(op.request);
  if (std::optional<CachedRegion> cached = cache_.Lookup(key)) {
    if (std::optional<meta::Peer> peer =
            cache_.TargetPeer(cached->region.id())) {
      header->set_region_id(cached->region.id());
      *header->mutable_region_epoch() = cached->region.epoch();
      header->set_peer_id(peer->id());
      op.target_region = cached->region.id();
      return peer->store_id();
    }
  }
  // No usable region: the store routes by key (region_id 0).
  op.target_region = 0;
  uint64_t store = op.store_hint;
  op.store_hint = 0;
  if (store == 0) store = NextStore();
  return store;
}

void KvClient::Attempt(Op& op, uint64_t now_us) {
  if (op.is_write && op.maybe_applied && sessions_.at(op.client_id).expired) {
    GiveUp(op);  // its session is gone with the memory of what applied
    return;
  }
  if (now_us >= op.deadline_us) {
    GiveUp(op);
    return;
  }
  const uint64_t op_id = op.id;
  std::erase_if(outbox_,
                [op_id](const Outgoing& out) { return out.op_id == op_id; });
  attempts_.erase(op.request_id);
  ++op.attempts;
  ++stats_.attempts;
  Outgoing out;
  out.op_id = op.id;
  out.request = op.request;
  out.request.set_request_id(next_request_id_++);
  if (out.request.has_scan()) {
    kv::ScanRequest* scan = out.request.mutable_scan();
    scan->set_start_key(op.scan_cursor);
    scan->set_limit(op.request.scan().limit() -
                    static_cast<uint32_t>(op.scan_result.pairs_size()));
  }
  kv::RequestHeader* header = kv::MutableHeader(out.request);
  out.store_id = Route(op, header);
  if (op.is_write) {
    BindSession(op);
    const Session& session = sessions_.at(op.client_id);
    header->set_client_id(op.client_id);
    header->set_sequence(op.sequence);
    // The op's own sequence is incomplete, so the minimum never exceeds
    // `sequence` (kvrpc.proto's rule).
    header->set_first_incomplete_sequence(FirstIncomplete(session));
  }
  op.request_id = out.request.request_id();
  op.target_store = out.store_id;
  attempts_[op.request_id] = op.id;
  outbox_.push_back(std::move(out));
  SetTimer(op, State::kSent,
           std::min(SaturatingAdd(now_us, config_.attempt_timeout_us),
                    op.deadline_us));
}

void KvClient::SetTimer(Op& op, State state, uint64_t at_us) {
  timers_.erase({op.timer_us, op.id});
  op.state = state;
  op.timer_us = at_us;
  timers_.insert({at_us, op.id});
}

void KvClient::ScheduleRetry(Op& op, Retry how, uint64_t floor_us,
                             uint64_t now_us) {
  attempts_.erase(op.request_id);
  op.request_id = 0;
  if (op.is_write && op.maybe_applied && sessions_.at(op.client_id).expired) {
    GiveUp(op);
    return;
  }
  uint64_t delay_us = 0;
  if (how == Retry::kNow && floor_us == 0 &&
      op.immediate_retries < config_.immediate_retries_max) {
    ++op.immediate_retries;
  } else {
    // Exponential backoff with "equal jitter": half the step is fixed so
    // retries keep spreading out, half is random so clients that failed
    // together do not retry together.
    uint64_t step = config_.backoff_max_us;
    if (op.backoffs < 63 &&
        config_.backoff_initial_us <= (config_.backoff_max_us >> op.backoffs)) {
      step = config_.backoff_initial_us << op.backoffs;
    }
    delay_us = step / 2 + rng_.Uniform(step - step / 2 + 1);
    delay_us = std::max(delay_us, floor_us);
    ++op.backoffs;
    op.immediate_retries = 0;
    ++stats_.backoffs;
  }
  if (delay_us == 0) {
    Attempt(op, now_us);
    return;
  }
  const uint64_t at_us = SaturatingAdd(now_us, delay_us);
  if (at_us >= op.deadline_us) {
    GiveUp(op);  // no time left for another attempt
    return;
  }
  SetTimer(op, State::kBackoff, at_us);
}

void KvClient::OnTimer(uint64_t now_us) {
  AdvanceTime(now_us);
  while (!timers_.empty() && timers_.begin()->first <= now_us) {
    const uint64_t op_id = timers_.begin()->second;
    timers_.erase(timers_.begin());
    Op& op = ops_.at(op_id);
    op.timer_us = 0;  // popped: SetTimer has nothing to erase
    if (op.state == State::kSent) {
      OnAttemptTimeout(op, now_us);
    } else {
      Attempt(op, now_us);
    }
  }
}

void KvClient::OnAttemptTimeout(Op& op, uint64_t now_us) {
  ++stats_.attempt_timeouts;
  // The request or its answer was lost, or the store is down or slow: a
  // write may have been proposed, so from now on it can only end ok or
  // unknown, and every retry reuses its (client_id, sequence).
  if (op.is_write) op.maybe_applied = true;
  op.last_error = TimeoutError("no answer within the attempt timeout");
  // The peer may be down or deposed: ask the next one.
  if (op.target_region != 0) cache_.OnNotLeader(op.target_region, std::nullopt);
  attempts_.erase(op.request_id);
  op.request_id = 0;
  Attempt(op, now_us);
}

std::optional<uint64_t> KvClient::NextWakeUs() const {
  if (timers_.empty()) return std::nullopt;
  return timers_.begin()->first;
}

void KvClient::OnResponse(uint64_t store_id, const kv::KvResponse& response,
                          uint64_t now_us) {
  AdvanceTime(now_us);
  auto it = attempts_.find(response.request_id());
  const kv::ResponseHeader* header = ResponseHeaderOf(response);
  if (it == attempts_.end() || header == nullptr) {
    ++stats_.responses_ignored;
    return;
  }
  Op& op = ops_.at(it->second);
  // The oneof field numbers of KvRequest and KvResponse are the same.
  if (op.target_store != store_id ||
      static_cast<int>(response.response_case()) !=
          static_cast<int>(op.request.request_case())) {
    ++stats_.responses_ignored;
    return;
  }
  attempts_.erase(it);
  op.request_id = 0;
  timers_.erase({op.timer_us, op.id});
  op.timer_us = 0;
  op.state = State::kBackoff;
  if (header->has_region()) cache_.Update(header->region());
  if (header->has_error()) {
    OnError(op, header->error(), now_us);
  } else {
    OnServed(op, store_id, response, now_us);
  }
}

void KvClient::OnError(Op& op, const kv::Error& error, uint64_t now_us) {
  op.last_error = error;
  switch (error.kind_case()) {
    case kv::Error::kNotLeader:
      ++stats_.not_leader;
      OnNotLeader(op, error.not_leader(), now_us);
      return;
    case kv::Error::kEpochNotMatch:
      ++stats_.epoch_not_match;
      OnEpochNotMatch(op, error.epoch_not_match(), now_us);
      return;
    case kv::Error::kKeyNotInRegion: {
      ++stats_.key_not_in_region;
      const uint64_t region = error.key_not_in_region().region_id() != 0
                                  ? error.key_not_in_region().region_id()
                                  : op.target_region;
      cache_.Invalidate(region);
      ScheduleRetry(op, Retry::kNow, 0, now_us);
      return;
    }
    case kv::Error::kRegionNotFound: {
      ++stats_.region_not_found;
      const uint64_t region = error.region_not_found().region_id();
      if (region != 0) cache_.Invalidate(region);
      if (op.target_region != 0) cache_.Invalidate(op.target_region);
      // Region 0 not found: this store holds nothing for the key; the next
      // attempt asks another store, after a pause (the region may be moving).
      ScheduleRetry(op, op.target_region != 0 ? Retry::kNow : Retry::kBackoff,
                    0, now_us);
      return;
    }
    case kv::Error::kServerBusy:
      ++stats_.server_busy;
      ScheduleRetry(op, Retry::kBackoff,
                    SaturatingMul(error.server_busy().backoff_ms(), 1000),
                    now_us);
      return;
    case kv::Error::kTimeout:
      // The store gave up waiting for its own proposal: it may still commit.
      ++stats_.store_timeouts;
      if (op.is_write) op.maybe_applied = true;
      ScheduleRetry(op, Retry::kBackoff, 0, now_us);
      return;
    case kv::Error::kSessionExpired:
      // kv-state-machine.md: the session is gone with its memory of which
      // sequences applied; it must not be used again. This attempt did not
      // apply. If no earlier one can have, the write is retried on a fresh
      // session (BindSession moves it); else its outcome is unknown.
      ++stats_.session_expired;
      if (op.is_write) {
        sessions_.at(op.client_id).expired = true;
        RetireSession(op.client_id);
        if (!op.maybe_applied) {
          ScheduleRetry(op, Retry::kNow, 0, now_us);
          return;
        }
      }
      GiveUp(op);
      return;
    default:
      // A refusal this library does not know how to recover from (a bound
      // or a malformed request): retrying would get the same answer.
      GiveUp(op);
      return;
  }
}

void KvClient::OnNotLeader(Op& op, const kv::NotLeader& not_leader,
                           uint64_t now_us) {
  std::optional<meta::Peer> leader;
  if (not_leader.has_leader() && not_leader.leader().id() != 0 &&
      not_leader.leader().store_id() != 0) {
    leader = not_leader.leader();
  }
  const uint64_t region =
      not_leader.region_id() != 0 ? not_leader.region_id() : op.target_region;
  if (region != 0) cache_.OnNotLeader(region, leader);
  // Routed by key (the cache lacks the region): follow the hint anyway.
  if (leader.has_value() && !cache_.Find(region).has_value()) {
    op.store_hint = leader->store_id();
  }
  // Without a hint an election is likely under way: give it time.
  ScheduleRetry(op, leader.has_value() ? Retry::kNow : Retry::kBackoff, 0,
                now_us);
}

void KvClient::OnEpochNotMatch(Op& op, const kv::EpochNotMatch& stale,
                               uint64_t now_us) {
  if (op.target_region != 0) cache_.Invalidate(op.target_region);
  bool learned = false;
  for (const meta::Region& region : stale.current_regions()) {
    const CacheUpdate update = cache_.Update(region);
    learned |=
        update == CacheUpdate::kInserted || update == CacheUpdate::kReplaced;
  }
  ScheduleRetry(op, learned ? Retry::kNow : Retry::kBackoff, 0, now_us);
}

void KvClient::OnServed(Op& op, uint64_t store_id,
                        const kv::KvResponse& response, uint64_t now_us) {
  const kv::ResponseHeader& header = *ResponseHeaderOf(response);
  const uint64_t region =
      header.has_region() ? header.region().id() : op.target_region;
  if (region != 0) cache_.OnServed(region, store_id);
  if (!response.has_scan()) {
    Finish(op, Outcome::kOk, response, region);
    return;
  }
  if (MergeScanPart(op, response.scan())) {
    kv::KvResponse merged;
    merged.set_request_id(response.request_id());
    *merged.mutable_scan()->mutable_pairs() = op.scan_result.pairs();
    merged.mutable_scan()->set_more(op.scan_result.more());
    Finish(op, Outcome::kOk, std::move(merged));
    return;
  }
  // The next region's part is a fresh step with its own retries.
  op.backoffs = 0;
  op.immediate_retries = 0;
  Attempt(op, now_us);
}

bool KvClient::MergeScanPart(Op& op, const kv::ScanResponse& part) {
  const kv::ScanRequest& scan = op.request.scan();
  kv::ScanResponse& result = op.scan_result;
  const uint32_t limit = scan.limit();
  // Only pairs in order and inside the range count: a confused store must
  // not make the merged result unordered or overlong.
  for (const kv::KvPair& pair : part.pairs()) {
    if (static_cast<uint32_t>(result.pairs_size()) >= limit) break;
    if (pair.key() < op.scan_cursor) continue;
    if (!scan.end_key().empty() && pair.key() >= scan.end_key()) continue;
    if (result.pairs_size() > 0 &&
        pair.key() <= result.pairs(result.pairs_size() - 1).key()) {
      continue;
    }
    *result.add_pairs() = pair;
  }
  // Where the served region ends: ResponseHeader.region, if it holds the
  // cursor; else the cached meta the request was routed by.
  std::optional<meta::Region> served;
  if (part.header().has_region() &&
      Contains(part.header().region(), op.scan_cursor)) {
    served = part.header().region();
  } else if (std::optional<CachedRegion> cached = cache_.Find(op.target_region);
             cached.has_value() && Contains(cached->region, op.scan_cursor)) {
    served = cached->region;
  }
  const bool range_done =
      served.has_value() &&
      (served->end_key().empty() ||
       (!scan.end_key().empty() && served->end_key() >= scan.end_key()));
  if (static_cast<uint32_t>(result.pairs_size()) >= limit) {
    result.set_more(part.more() || !range_done);
    return true;
  }
  if (part.more()) {
    // The store stopped short of the limit (its byte bound): continue in
    // the same region right after the last key it returned.
    if (result.pairs_size() == 0 ||
        result.pairs(result.pairs_size() - 1).key() < op.scan_cursor) {
      result.set_more(true);  // no progress possible; let the caller resume
      return true;
    }
    op.scan_cursor = result.pairs(result.pairs_size() - 1).key() + '\0';
    return false;
  }
  if (!served.has_value()) {
    // Unknown region end: stopping with more=true is honest and cannot loop.
    result.set_more(true);
    return true;
  }
  if (range_done) return true;
  op.scan_cursor = served->end_key();  // above the cursor: Contains held
  return false;
}

void KvClient::GiveUp(Op& op) {
  if (op.last_error.kind_case() == kv::Error::KIND_NOT_SET &&
      op.last_error.message().empty()) {
    op.last_error = TimeoutError("deadline passed");
  }
  // Reads change nothing, so a read without an answer certainly had no
  // effect; a write is in doubt once any attempt may have been proposed.
  Finish(op,
         op.is_write && op.maybe_applied ? Outcome::kUnknown : Outcome::kFail,
         kv::KvResponse());
}

void KvClient::Finish(Op& op, Outcome outcome, kv::KvResponse response,
                      uint64_t served_region) {
  const uint64_t op_id = op.id;
  timers_.erase({op.timer_us, op_id});
  attempts_.erase(op.request_id);
  std::erase_if(outbox_,
                [op_id](const Outgoing& out) { return out.op_id == op_id; });
  Completion done;
  done.op_id = op_id;
  done.outcome = outcome;
  done.attempts = op.attempts;
  if (outcome == Outcome::kOk) {
    done.response = std::move(response);
    ++stats_.ok;
  } else {
    done.error = op.last_error;
    ++(outcome == Outcome::kFail ? stats_.failed : stats_.unknown);
  }
  if (op.is_write) {
    done.client_id = op.client_id;
    done.sequence = op.sequence;
    ReleaseSession(op, outcome, served_region);
    RS_CHECK_GT(writes_in_flight_, 0U);
    --writes_in_flight_;
  }
  completions_.push_back(std::move(done));
  ops_.erase(op_id);  // `op` dangles from here
}

std::vector<Outgoing> KvClient::TakeOutbox() {
  std::vector<Outgoing> out;
  out.swap(outbox_);
  return out;
}

std::vector<Completion> KvClient::TakeCompletions() {
  std::vector<Completion> out;
  out.swap(completions_);
  return out;
}

void KvClient::CheckInvariants() const {
  cache_.CheckInvariants();
  RS_CHECK_LE(ops_in_flight(), config_.ops_in_flight_max);
  RS_CHECK_LE(writes_in_flight_, config_.writes_in_flight_max);
  RS_CHECK_LE(outbox_.size(), ops_.size());
  RS_CHECK_EQ(timers_.size(), ops_.size()) << "one timer per live operation";
  size_t writes = 0;
  absl::btree_map<uint64_t, size_t> ops_by_session;
  for (const auto& [id, op] : ops_) {
    RS_CHECK(timers_.contains({op.timer_us, id})) << "op " << id;
    RS_CHECK_EQ(op.state == State::kSent, op.request_id != 0) << "op " << id;
    if (op.request_id != 0) {
      RS_CHECK(attempts_.contains(op.request_id)) << "op " << id;
    }
    if (op.is_write) {
      ++writes;
      ++ops_by_session[op.client_id];
      const Session& session = sessions_.at(op.client_id);
      RS_CHECK(session.incomplete.contains(op.sequence)) << "op " << id;
    }
  }
  RS_CHECK_EQ(attempts_.size(), static_cast<size_t>(std::count_if(
                                    ops_.begin(), ops_.end(), [](auto& e) {
                                      return e.second.request_id != 0;
                                    })));
  RS_CHECK_EQ(writes, writes_in_flight_);
  RS_CHECK_LE(sessions_.size(), config_.sessions_max);
  for (const auto& [client_id, session] : sessions_) {
    const auto found = ops_by_session.find(client_id);
    const size_t ops = found == ops_by_session.end() ? 0 : found->second;
    RS_CHECK_EQ(session.ops, ops) << "client id " << client_id;
    // A live session's open sequences are its live writes'; a retired one
    // also keeps those that ended unknown.
    if (!session.retired) {
      RS_CHECK_EQ(session.incomplete.size(), ops) << "client id " << client_id;
    }
    RS_CHECK_LE(session.last_used, session_clock_);
    // A retired or single-use session lives while its last writes do; a
    // live bound one is its region's session.
    if (session.retired || session.region_id == 0) {
      RS_CHECK_GT(ops, 0U) << "client id " << client_id;
    }
    if (session.region_id == 0) {
      RS_CHECK_EQ(session.next_sequence, 2U) << "single-use " << client_id;
    }
    if (session.expired) RS_CHECK(session.retired);
    if (!session.retired && session.region_id != 0) {
      RS_CHECK_EQ(region_sessions_.at(session.region_id), client_id);
    }
  }
  for (const auto& [region_id, client_id] : region_sessions_) {
    const Session& session = sessions_.at(client_id);
    RS_CHECK_EQ(session.region_id, region_id);
    RS_CHECK(!session.retired) << "client id " << client_id;
  }
}

std::optional<uint64_t> KvClient::RegionSession(uint64_t region_id) const {
  auto it = region_sessions_.find(region_id);
  if (it == region_sessions_.end()) return std::nullopt;
  return it->second;
}

std::vector<SessionInfo> KvClient::Sessions() const {
  std::vector<SessionInfo> out;
  out.reserve(sessions_.size());
  for (const auto& [client_id, session] : sessions_) {
    SessionInfo info;
    info.client_id = client_id;
    info.region_id = session.region_id;
    info.next_sequence = session.next_sequence;
    info.first_incomplete_sequence = FirstIncomplete(session);
    info.writes_in_flight = session.ops;
    info.retired = session.retired;
    out.push_back(info);
  }
  return out;
}

}  // namespace raftstore::client
