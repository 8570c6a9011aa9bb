#include "sim/client.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/base/check.h"

namespace raftstore::sim {
namespace {

// Retrying at once after a refusal would spin while no leader exists; a
// short pause lets an election finish.
constexpr uint64_t kRefusedBackoffUs = 5'000;

}  // namespace

SimClient::SimClient(int index, const SimOptions* options, EventQueue* events,
                     History* history, Trace* trace, Rng rng, SendFn send)
    : index_(index),
      options_(options),
      events_(events),
      history_(history),
      trace_(trace),
      rng_(rng),
      send_(std::move(send)) {
  RS_CHECK_GE(index_, 0);
  NewSession();
}

void SimClient::NewSession() {
  // Client ids: the client's index in the high bits, the session count in
  // the low ones, so no two sessions of a run ever share an id.
  ++sessions_;
  client_id_ = (static_cast<uint64_t>(index_ + 1) << 32) | sessions_;
  sequence_ = 0;
}

void SimClient::Start() {
  stopping_ = false;
  Think();
}

void SimClient::Think() {
  if (stopping_ || current_.has_value()) return;
  const uint64_t pause = rng_.Range(0, options_->workload.think_us_max);
  events_->ScheduleAfter(pause, [this] {
    if (!stopping_ && !current_.has_value() && !history_->full()) {
      IssueRandom();
    }
  });
}

std::string SimClient::PickKey() {
  const WorkloadOptions& w = options_->workload;
  const bool hot = rng_.Uniform(kPpm) < w.hot_op_ppm;
  const uint64_t k =
      rng_.Uniform(static_cast<uint64_t>(hot ? w.hot_key_count : w.key_count));
  return WorkloadKey(k);
}

std::string SimClient::NewValue() {
  // Unique per client and operation, so a read names the write it saw; the
  // padding varies the entry sizes.
  std::string value = absl::StrCat("c", index_, ".", ++values_);
  const uint64_t pad = rng_.Range(0, options_->workload.value_bytes_max);
  value.append(pad, '.');
  return value;
}

void SimClient::IssueRandom() {
  const WorkloadOptions& w = options_->workload;
  const uint64_t total =
      w.put_weight + w.get_weight + w.delete_weight + w.cas_weight;
  uint64_t pick = rng_.Uniform(total);
  const std::string key = PickKey();
  kv::KvRequest request;
  if (pick < w.put_weight) {
    const std::string value = NewValue();
    kv::PutRequest* put = request.mutable_put();
    put->set_key(key);
    put->set_value(value);
    Begin(PutCall(index_, key, value), std::move(request), true);
    return;
  }
  pick -= w.put_weight;
  if (pick < w.get_weight) {
    kv::GetRequest* get = request.mutable_get();
    get->set_key(key);
    get->set_read_mode(options_->lease_reads ? kv::READ_MODE_LEASE
                                             : kv::READ_MODE_READ_INDEX);
    Begin(GetCall(index_, key), std::move(request), false);
    return;
  }
  pick -= w.get_weight;
  if (pick < w.delete_weight) {
    request.mutable_delete_()->set_key(key);
    Begin(DeleteCall(index_, key), std::move(request), true);
    return;
  }
  // CAS: expect a value this client may have seen (its last write, or
  // absent) half the time, so some swaps succeed.
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
  Begin(CasCall(index_, key, expected, value), std::move(request), true);
}

void SimClient::IssuePut(const std::string& key) {
  RS_CHECK(idle());
  const std::string value = NewValue();
  kv::KvRequest request;
  request.mutable_put()->set_key(key);
  request.mutable_put()->set_value(value);
  Begin(PutCall(index_, key, value), std::move(request), true);
}

void SimClient::IssueGet(const std::string& key) {
  RS_CHECK(idle());
  kv::KvRequest request;
  request.mutable_get()->set_key(key);
  request.mutable_get()->set_read_mode(
      options_->lease_reads ? kv::READ_MODE_LEASE : kv::READ_MODE_READ_INDEX);
  Begin(GetCall(index_, key), std::move(request), false);
}

void SimClient::Begin(Operation call, kv::KvRequest request, bool is_write) {
  absl::StatusOr<size_t> id =
      history_->Invoke(std::move(call), events_->now_us());
  if (!id.ok()) {
    stopping_ = true;  // the history is full: the run has done enough
    return;
  }
  Current current;
  current.history_id = *id;
  current.is_write = is_write;
  current.deadline_us = events_->now_us() + options_->workload.op_timeout_us;
  kv::RequestHeader* header = nullptr;
  switch (request.request_case()) {
    case kv::KvRequest::kPut:
      header = request.mutable_put()->mutable_header();
      break;
    case kv::KvRequest::kGet:
      header = request.mutable_get()->mutable_header();
      break;
    case kv::KvRequest::kDelete:
      header = request.mutable_delete_()->mutable_header();
      break;
    case kv::KvRequest::kCompareAndSwap:
      header = request.mutable_compare_and_swap()->mutable_header();
      break;
    default:
      RS_CHECK(false) << "unexpected request kind";
  }
  header->set_region_id(1);
  if (is_write) {
    header->set_client_id(client_id_);
    header->set_sequence(++sequence_);
  }
  current.request = std::make_shared<kv::KvRequest>(std::move(request));
  current_ = std::move(current);
  Attempt();
}

void SimClient::Attempt() {
  Current& c = *current_;
  ++c.attempt;
  if (c.request.use_count() > 1) {
    c.request = std::make_shared<kv::KvRequest>(*c.request);
  }
  c.request->set_request_id(++next_request_id_);
  const int node = leader_hint_ != 0
                       ? leader_hint_
                       : 1 + static_cast<int>(rng_.Uniform(
                                 static_cast<uint64_t>(options_->node_count)));
  if (trace_->keeps_text()) {
    trace_->Line(
        events_->now_us(),
        absl::StrCat("client ", index_, " attempt ", c.attempt, " request ",
                     c.request->request_id(), " to n", node));
  }
  // Sent as an object: nothing in the network touches its bytes.
  const uint64_t bytes = c.request->ByteSizeLong();
  send_(node, Payload::Object<kv::KvRequest>(c.request, bytes));
  const uint64_t attempt = c.attempt;
  events_->ScheduleAfter(options_->workload.attempt_timeout_us,
                         [this, attempt] { OnAttemptTimeout(attempt); });
}

void SimClient::OnAttemptTimeout(uint64_t attempt) {
  if (!current_.has_value() || current_->attempt != attempt) return;
  // No answer: the request or its reply was lost, or the node is down or
  // slow. A write may have been proposed.
  leader_hint_ = 0;
  Retry(/*definitely_not_executed=*/false, 0);
}

void SimClient::Retry(bool definitely_not_executed, uint64_t backoff_us) {
  Current& c = *current_;
  if (!definitely_not_executed) c.maybe_executed = true;
  if (events_->now_us() + backoff_us >= c.deadline_us) {
    Finish(c.is_write && c.maybe_executed ? Outcome::kUnknown
           : c.is_write                   ? Outcome::kFail
                                          : Outcome::kUnknown,
           Output{});
    return;
  }
  ++c.attempt;  // invalidates the pending timer and any late reply
  const uint64_t attempt = c.attempt;
  events_->ScheduleAfter(backoff_us, [this, attempt] {
    if (current_.has_value() && current_->attempt == attempt) Attempt();
  });
}

void SimClient::Finish(Outcome outcome, Output output) {
  Current& c = *current_;
  const bool was_put = c.request->request_case() == kv::KvRequest::kPut;
  history_->Complete(c.history_id, outcome, std::move(output),
                     events_->now_us());
  if (outcome == Outcome::kOk) ++ops_ok_;
  if (outcome == Outcome::kFail) ++ops_failed_;
  if (outcome == Outcome::kUnknown) ++ops_unknown_;
  if (was_put) last_put_ok_ = outcome == Outcome::kOk;
  trace_->Hash({0xc11e, static_cast<uint64_t>(index_), c.history_id,
                static_cast<uint64_t>(outcome)});
  if (trace_->keeps_text()) {
    const Operation& op = history_->operations()[c.history_id];
    trace_->Line(
        events_->now_us(),
        absl::StrCat("client ", index_, " ", std::string(OpKindName(op.op)),
                     " ", op.key, " -> ", std::string(OutcomeName(outcome)),
                     " after ", c.attempt, " attempts"));
  }
  // A write whose outcome is unknown leaves the session's state unknown
  // too; a fresh session keeps later writes independent of it.
  if (c.is_write && outcome == Outcome::kUnknown) NewSession();
  current_.reset();
  Think();
}

void SimClient::Receive(int from, const Payload& payload) {
  (void)from;
  if (const kv::KvResponse* response = payload.object<kv::KvResponse>()) {
    OnReply(*response);
    return;
  }
  kv::KvResponse decoded;
  if (payload.has_object() || !decoded.ParseFromString(payload.bytes())) {
    return;  // garbage: ignore
  }
  OnReply(decoded);
}

void SimClient::OnReply(const kv::KvResponse& response) {
  if (!current_.has_value() ||
      response.request_id() != current_->request->request_id()) {
    return;  // a reply to an attempt we gave up on
  }
  OnResponse(response);
}

void SimClient::OnResponse(const kv::KvResponse& response) {
  const kv::ResponseHeader* header = nullptr;
  Output output;
  switch (response.response_case()) {
    case kv::KvResponse::kGet:
      header = &response.get().header();
      if (response.get().found()) output.read = response.get().value();
      break;
    case kv::KvResponse::kPut:
      header = &response.put().header();
      break;
    case kv::KvResponse::kDelete:
      header = &response.delete_().header();
      output.existed = response.delete_().existed();
      break;
    case kv::KvResponse::kCompareAndSwap: {
      const kv::CompareAndSwapResponse& cas = response.compare_and_swap();
      header = &cas.header();
      output.applied = cas.succeeded();
      output.previous_known = true;
      if (cas.previous_found()) output.previous = cas.previous_value();
      break;
    }
    default:
      return;  // not an answer to anything we sent
  }
  if (!header->has_error()) {
    Finish(Outcome::kOk, std::move(output));
    return;
  }
  const kv::Error& error = header->error();
  switch (error.kind_case()) {
    case kv::Error::kNotLeader:
      leader_hint_ = static_cast<int>(error.not_leader().leader().id());
      if (leader_hint_ < 1 || leader_hint_ > options_->node_count) {
        leader_hint_ = 0;
      }
      Retry(/*definitely_not_executed=*/true,
            leader_hint_ != 0 ? 0 : kRefusedBackoffUs);
      return;
    case kv::Error::kServerBusy:
      Retry(/*definitely_not_executed=*/true, kRefusedBackoffUs);
      return;
    case kv::Error::kSessionExpired:
      // Not applied now, but an earlier attempt may have been.
      current_->maybe_executed = true;
      Finish(Outcome::kUnknown, Output{});
      return;
    default:
      Retry(/*definitely_not_executed=*/false, kRefusedBackoffUs);
      return;
  }
}

}  // namespace raftstore::sim
