#include "core/store/requests.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "core/base/check.h"
#include "core/kv/command_codec.h"

namespace raftstore::store {

command::Command CommandFor(const kv::KvRequest& request,
                            uint64_t proposed_at_ticks) {
  RS_CHECK(IsWrite(request));
  command::Command command;
  command.set_format_version(kv::kCommandFormatVersion);
  switch (request.request_case()) {
    case kv::KvRequest::kPut:
      command.mutable_put()->set_key(request.put().key());
      command.mutable_put()->set_value(request.put().value());
      break;
    case kv::KvRequest::kDelete:
      command.mutable_delete_()->set_key(request.delete_().key());
      break;
    default: {
      const kv::CompareAndSwapRequest& cas = request.compare_and_swap();
      command::CompareAndSwapOp* op = command.mutable_compare_and_swap();
      op->set_key(cas.key());
      op->set_expected_value(cas.expected_value());
      op->set_expect_absent(cas.expect_absent());
      op->set_new_value(cas.new_value());
      break;
    }
  }
  const kv::RequestHeader& header = HeaderOf(request);
  command.set_client_id(header.client_id());
  command.set_sequence(header.sequence());
  command.set_first_incomplete_sequence(
      header.first_incomplete_sequence() == 0
          ? header.sequence()
          : header.first_incomplete_sequence());
  command.set_proposed_at_ticks(proposed_at_ticks);
  return command;
}

kv::KvResponse ErrorResponse(const kv::KvRequest& request, kv::Error error) {
  kv::KvResponse response;
  response.set_request_id(request.request_id());
  kv::ResponseHeader* header = nullptr;
  switch (request.request_case()) {
    case kv::KvRequest::kGet:
      header = response.mutable_get()->mutable_header();
      break;
    case kv::KvRequest::kPut:
      header = response.mutable_put()->mutable_header();
      break;
    case kv::KvRequest::kDelete:
      header = response.mutable_delete_()->mutable_header();
      break;
    case kv::KvRequest::kScan:
      header = response.mutable_scan()->mutable_header();
      break;
    case kv::KvRequest::kCompareAndSwap:
      header = response.mutable_compare_and_swap()->mutable_header();
      break;
    default:
      return response;
  }
  *header->mutable_error() = std::move(error);
  return response;
}

kv::KvResponse WriteErrorResponse(kv::KvRequest::RequestCase kind,
                                  uint64_t request_id, kv::Error error) {
  kv::KvRequest shape;
  shape.set_request_id(request_id);
  if (kind == kv::KvRequest::kPut) shape.mutable_put();
  if (kind == kv::KvRequest::kDelete) shape.mutable_delete_();
  if (kind == kv::KvRequest::kCompareAndSwap) shape.mutable_compare_and_swap();
  return ErrorResponse(shape, std::move(error));
}

kv::KvResponse WriteResponse(kv::KvRequest::RequestCase kind,
                             uint64_t request_id,
                             const command::CommandResult& result) {
  kv::KvResponse response;
  response.set_request_id(request_id);
  switch (kind) {
    case kv::KvRequest::kPut:
      response.mutable_put();
      break;
    case kv::KvRequest::kDelete:
      response.mutable_delete_()->set_existed(result.delete_().existed());
      break;
    default: {
      RS_CHECK_EQ(kind, kv::KvRequest::kCompareAndSwap);
      kv::CompareAndSwapResponse* cas = response.mutable_compare_and_swap();
      cas->set_succeeded(result.compare_and_swap().succeeded());
      cas->set_previous_found(result.compare_and_swap().previous_found());
      cas->set_previous_value(result.compare_and_swap().previous_value());
      break;
    }
  }
  if (result.outcome() == command::OUTCOME_APPLIED) return response;
  kv::Error error;
  error.set_message(result.message());
  switch (result.outcome()) {
    case command::OUTCOME_SESSION_EXPIRED:
      error.mutable_session_expired();
      break;
    case command::OUTCOME_SESSION_TABLE_FULL:
    case command::OUTCOME_SESSION_RESPONSES_FULL:
      error.mutable_server_busy()->set_reason(result.message());
      break;
    default:
      break;
  }
  return WriteErrorResponse(kind, request_id, std::move(error));
}

void SetServedBy(const meta::Region& region, uint64_t term,
                 kv::KvResponse* response) {
  kv::ResponseHeader* header = nullptr;
  switch (response->response_case()) {
    case kv::KvResponse::kGet:
      header = response->mutable_get()->mutable_header();
      break;
    case kv::KvResponse::kPut:
      header = response->mutable_put()->mutable_header();
      break;
    case kv::KvResponse::kDelete:
      header = response->mutable_delete_()->mutable_header();
      break;
    case kv::KvResponse::kScan:
      header = response->mutable_scan()->mutable_header();
      break;
    case kv::KvResponse::kCompareAndSwap:
      header = response->mutable_compare_and_swap()->mutable_header();
      break;
    default:
      return;
  }
  header->set_term(term);
  *header->mutable_region() = region;
}

kv::Error NotLeaderError(uint64_t region_id, const meta::Peer* leader) {
  kv::Error error;
  kv::NotLeader* not_leader = error.mutable_not_leader();
  not_leader->set_region_id(region_id);
  if (leader != nullptr) *not_leader->mutable_leader() = *leader;
  return error;
}

kv::Error ServerBusyError(std::string_view reason, uint64_t backoff_ms) {
  kv::Error error;
  error.mutable_server_busy()->set_reason(std::string(reason));
  error.mutable_server_busy()->set_backoff_ms(backoff_ms);
  return error;
}

kv::Error RegionNotFoundError(uint64_t region_id) {
  kv::Error error;
  error.mutable_region_not_found()->set_region_id(region_id);
  return error;
}

kv::Error KeyNotInRegionError(std::string_view key,
                              const meta::Region& region) {
  kv::Error error;
  kv::KeyNotInRegion* wrong = error.mutable_key_not_in_region();
  wrong->set_key(std::string(key));
  wrong->set_region_id(region.id());
  wrong->set_start_key(region.start_key());
  wrong->set_end_key(region.end_key());
  return error;
}

bool KeyInRegion(std::string_view key, const meta::Region& region) {
  if (key < std::string_view(region.start_key())) return false;
  return region.end_key().empty() || key < std::string_view(region.end_key());
}

}  // namespace raftstore::store
