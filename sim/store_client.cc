#include "sim/store_client.h"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/base/check.h"

namespace raftstore::sim {
namespace {

// Wire ids remembered for answers; past it, those older than twice an
// operation's deadline are forgotten (their operations are over).
constexpr size_t kWiresMax = 4096;

Outcome FromClient(client::Outcome outcome) {
  switch (outcome) {
    case client::Outcome::kOk:
      return Outcome::kOk;
    case client::Outcome::kFail:
      return Outcome::kFail;
    case client::Outcome::kUnknown:
      return Outcome::kUnknown;
  }
  return Outcome::kUnknown;
}

// What an ok operation returned, in the history's terms.
Output OutputOf(const kv::KvResponse& response) {
  Output output;
  switch (response.response_case()) {
    case kv::KvResponse::kGet:
      if (response.get().found()) output.read = response.get().value();
      break;
    case kv::KvResponse::kDelete:
      output.existed = response.delete_().existed();
      break;
    case kv::KvResponse::kCompareAndSwap: {
      const kv::CompareAndSwapResponse& cas = response.compare_and_swap();
      output.applied = cas.succeeded();
      output.previous_known = true;
      if (cas.previous_found()) output.previous = cas.previous_value();
      break;
    }
    case kv::KvResponse::kScan:
      for (const kv::KvPair& pair : response.scan().pairs()) {
        output.pairs.emplace_back(pair.key(), pair.value());
      }
      break;
    default:
      break;
  }
  return output;
}

}  // namespace

SimKvEndpoint::SimKvEndpoint(int endpoint, uint64_t history_client,
                             const StoreSimOptions* options, EventQueue* events,
                             History* history, Trace* trace, Rng rng,
                             SendFn send)
    : endpoint_(endpoint),
      history_client_(history_client),
      options_(options),
      events_(events),
      history_(history),
      trace_(trace),
      rng_(rng),
      send_(std::move(send)) {}

size_t SimKvEndpoint::AddClient() {
  const size_t index = clients_.size();
  client::KvClientConfig config;
  for (int s = 1; s <= options_->base.node_count; ++s) {
    config.store_ids.push_back(static_cast<uint64_t>(s));
  }
  const WorkloadOptions& w = options_->base.workload;
  config.attempt_timeout_us = w.attempt_timeout_us;
  config.backoff_max_us = options_->base.tick_us *
                          static_cast<uint64_t>(options_->base.election_tick);
  config.backoff_initial_us = std::min<uint64_t>(2'000, config.backoff_max_us);
  // Client ids: the endpoint, the client and a count, so no two sessions of
  // a run ever share an id.
  const uint64_t base = (static_cast<uint64_t>(endpoint_) + 1) << 48 |
                        static_cast<uint64_t>(index) << 32;
  clients_.push_back(std::make_unique<client::KvClient>(
      config, rng_.Fork(),
      [base, n = uint64_t{0}]() mutable { return base | ++n; }));
  return index;
}

bool SimKvEndpoint::Issue(size_t client, const kv::KvRequest& op,
                          Operation call, uint64_t deadline_us, DoneFn done) {
  RS_CHECK_LT(client, clients_.size());
  if (history_->full()) return false;
  const uint64_t now = events_->now_us();
  absl::StatusOr<uint64_t> id = clients_[client]->Submit(op, deadline_us, now);
  if (!id.ok()) return false;
  call.client = history_client_;
  absl::StatusOr<size_t> history_id = history_->Invoke(std::move(call), now);
  RS_CHECK(history_id.ok()) << history_id.status();
  pending_[{client, *id}] = Pending{*history_id, std::move(done)};
  Flush(client);
  return true;
}

void SimKvEndpoint::Flush(size_t client) {
  client::KvClient& kv_client = *clients_[client];
  const uint64_t now = events_->now_us();
  for (client::Outgoing& out : kv_client.TakeOutbox()) {
    const uint64_t wire = ++next_wire_id_;
    wires_[wire] = Wire{client, out.request.request_id(), now};
    out.request.set_request_id(wire);
    ++stats_.requests;
    auto shared = std::make_shared<kv::KvRequest>(std::move(out.request));
    const uint64_t bytes = shared->ByteSizeLong();
    send_(static_cast<int>(out.store_id) - 1,
          Payload::Object<kv::KvRequest>(std::move(shared), bytes));
  }
  if (wires_.size() > kWiresMax) PruneWires();
  for (const client::Completion& completion : kv_client.TakeCompletions()) {
    Complete(client, completion);
  }
  Arm();
}

void SimKvEndpoint::Complete(size_t client,
                             const client::Completion& completion) {
  auto it = pending_.find({client, completion.op_id});
  RS_CHECK(it != pending_.end()) << "completion of an unknown operation";
  Pending pending = std::move(it->second);
  pending_.erase(it);
  const Outcome outcome = FromClient(completion.outcome);
  Output output;
  if (outcome == Outcome::kOk) output = OutputOf(completion.response);
  history_->Complete(pending.history_id, outcome, std::move(output),
                     events_->now_us());
  if (outcome == Outcome::kOk) ++stats_.ok;
  if (outcome == Outcome::kFail) ++stats_.failed;
  if (outcome == Outcome::kUnknown) ++stats_.unknown;
  trace_->Hash({0xc11e, static_cast<uint64_t>(endpoint_), pending.history_id,
                static_cast<uint64_t>(outcome), completion.attempts});
  if (trace_->keeps_text()) {
    const Operation& op = history_->operations()[pending.history_id];
    trace_->Line(
        events_->now_us(),
        absl::StrCat("client ", endpoint_, ".", client, " ",
                     std::string(OpKindName(op.op)), " ", op.key, " -> ",
                     std::string(OutcomeName(outcome)), " after ",
                     completion.attempts, " attempts",
                     outcome == Outcome::kOk
                         ? std::string()
                         : " (" + completion.error.ShortDebugString() + ")"));
  }
  if (pending.done) pending.done(outcome);
}

void SimKvEndpoint::PruneWires() {
  const WorkloadOptions& w = options_->base.workload;
  const uint64_t horizon = 2 * (w.op_timeout_us + w.attempt_timeout_us);
  const uint64_t now = events_->now_us();
  for (auto it = wires_.begin(); it != wires_.end();) {
    if (it->second.sent_us + horizon < now) {
      it = wires_.erase(it);
    } else {
      ++it;
    }
  }
}

void SimKvEndpoint::Arm() {
  std::optional<uint64_t> next;
  for (const auto& kv_client : clients_) {
    const std::optional<uint64_t> wake = kv_client->NextWakeUs();
    if (wake.has_value() && (!next.has_value() || *wake < *next)) next = wake;
  }
  if (!next.has_value()) return;
  const uint64_t at = std::max(*next, events_->now_us());
  if (armed_at_us_ != 0 && armed_at_us_ <= at) return;
  armed_at_us_ = at;
  const uint64_t generation = ++wake_generation_;
  events_->ScheduleAt(at, [this, generation] { OnWake(generation); });
}

void SimKvEndpoint::OnWake(uint64_t generation) {
  if (generation != wake_generation_) return;  // superseded by an earlier one
  armed_at_us_ = 0;
  const uint64_t now = events_->now_us();
  for (size_t c = 0; c < clients_.size(); ++c) {
    const std::optional<uint64_t> wake = clients_[c]->NextWakeUs();
    if (!wake.has_value() || *wake > now) continue;
    clients_[c]->OnTimer(now);
    Flush(c);
  }
  Arm();
}

void SimKvEndpoint::Receive(int from, const Payload& payload) {
  const kv::KvResponse* response = payload.object<kv::KvResponse>();
  kv::KvResponse decoded;
  if (response == nullptr) {
    if (payload.has_object() || !decoded.ParseFromString(payload.bytes())) {
      return;  // garbage: ignore
    }
    response = &decoded;
  }
  auto it = wires_.find(response->request_id());
  if (it == wires_.end()) {
    ++stats_.stale_responses;
    return;
  }
  const Wire wire = it->second;
  // A duplicate of an answer may still come: the client ignores a second
  // one itself, so the wire id stays until pruned.
  kv::KvResponse restored = *response;
  restored.set_request_id(wire.request_id);
  clients_[wire.client]->OnResponse(static_cast<uint64_t>(from) + 1, restored,
                                    events_->now_us());
  Flush(wire.client);
}

SimStoreClient::SimStoreClient(int index, int endpoint,
                               const StoreSimOptions* options,
                               EventQueue* events, History* history,
                               Trace* trace, Rng rng,
                               SimKvEndpoint::SendFn send)
    : index_(index),
      options_(options),
      events_(events),
      history_(history),
      rng_(rng),
      endpoint_(endpoint, static_cast<uint64_t>(index), options, events,
                history, trace, rng_.Fork(), std::move(send)) {
  RS_CHECK_EQ(endpoint_.AddClient(), 0U);
}

void SimStoreClient::Start() {
  stopping_ = false;
  Think();
}

void SimStoreClient::Think() {
  if (stopping_ || busy_) return;
  const uint64_t pause = rng_.Range(0, options_->base.workload.think_us_max);
  events_->ScheduleAfter(pause, [this] {
    if (!stopping_ && !busy_ && !history_->full()) IssueRandom();
  });
}

std::string SimStoreClient::PickKey() {
  const WorkloadOptions& w = options_->base.workload;
  const bool hot = rng_.Uniform(kPpm) < w.hot_op_ppm;
  const uint64_t k =
      rng_.Uniform(static_cast<uint64_t>(hot ? w.hot_key_count : w.key_count));
  return WorkloadKey(k);
}

std::string SimStoreClient::NewValue() {
  // Unique per client and operation, so a read names the write it saw.
  std::string value = absl::StrCat("c", index_, ".", ++values_);
  value.append(rng_.Range(0, options_->base.workload.value_bytes_max), '.');
  return value;
}

void SimStoreClient::IssueRandom() {
  const WorkloadOptions& w = options_->base.workload;
  const uint64_t total = w.put_weight + w.get_weight + w.delete_weight +
                         w.cas_weight + options_->scan_weight;
  uint64_t pick = rng_.Uniform(total);
  const std::string key = PickKey();
  kv::KvRequest request;
  Operation call;
  if (pick < w.put_weight) {
    const std::string value = NewValue();
    request.mutable_put()->set_key(key);
    request.mutable_put()->set_value(value);
    call = PutCall(0, key, value);
  } else if ((pick -= w.put_weight) < w.get_weight) {
    request.mutable_get()->set_key(key);
    request.mutable_get()->set_read_mode(options_->base.lease_reads
                                             ? kv::READ_MODE_LEASE
                                             : kv::READ_MODE_READ_INDEX);
    call = GetCall(0, key);
  } else if ((pick -= w.get_weight) < w.delete_weight) {
    request.mutable_delete_()->set_key(key);
    call = DeleteCall(0, key);
  } else if ((pick -= w.delete_weight) < w.cas_weight) {
    // Expect a value this client may have seen (its last write) or absent.
    std::optional<std::string> expected;
    if (rng_.Chance(1, 2) && values_ > 0) {
      expected = absl::StrCat("c", index_, ".", values_);
    }
    const std::string value = NewValue();
    kv::CompareAndSwapRequest* cas = request.mutable_compare_and_swap();
    cas->set_key(key);
    cas->set_new_value(value);
    if (expected.has_value()) {
      cas->set_expected_value(*expected);
    } else {
      cas->set_expect_absent(true);
    }
    call = CasCall(0, key, expected, value);
  } else {
    // A scan from a key over a few keys (or to the end), across regions.
    const uint64_t first = rng_.Uniform(static_cast<uint64_t>(w.key_count));
    const uint64_t span = rng_.Range(1, 16);
    std::optional<std::string> end;
    if (rng_.Chance(3, 4)) end = WorkloadKey(first + span);
    const auto limit = static_cast<uint32_t>(rng_.Range(1, 32));
    kv::ScanRequest* scan = request.mutable_scan();
    scan->set_start_key(WorkloadKey(first));
    if (end.has_value()) scan->set_end_key(*end);
    scan->set_limit(limit);
    call = ScanCall(0, WorkloadKey(first), end, limit);
  }
  busy_ = true;
  const uint64_t deadline =
      events_->now_us() + options_->base.workload.op_timeout_us;
  const bool issued =
      endpoint_.Issue(0, request, std::move(call), deadline, [this](Outcome) {
        busy_ = false;
        Think();
      });
  if (!issued) busy_ = false;  // the history is full: the run has done enough
}

}  // namespace raftstore::sim
