#include "core/kv/kvrpc_fields.h"

#include <string>

#include "core/base/check.h"

namespace raftstore::kv {

bool IsWrite(const KvRequest& request) {
  switch (request.request_case()) {
    case KvRequest::kPut:
    case KvRequest::kDelete:
    case KvRequest::kCompareAndSwap:
      return true;
    default:
      return false;
  }
}

const RequestHeader& HeaderOf(const KvRequest& request) {
  switch (request.request_case()) {
    case KvRequest::kGet:
      return request.get().header();
    case KvRequest::kPut:
      return request.put().header();
    case KvRequest::kDelete:
      return request.delete_().header();
    case KvRequest::kScan:
      return request.scan().header();
    case KvRequest::kCompareAndSwap:
      return request.compare_and_swap().header();
    default:
      return RequestHeader::default_instance();
  }
}

RequestHeader* MutableHeader(KvRequest& request) {
  switch (request.request_case()) {
    case KvRequest::kGet:
      return request.mutable_get()->mutable_header();
    case KvRequest::kPut:
      return request.mutable_put()->mutable_header();
    case KvRequest::kDelete:
      return request.mutable_delete_()->mutable_header();
    case KvRequest::kScan:
      return request.mutable_scan()->mutable_header();
    case KvRequest::kCompareAndSwap:
      return request.mutable_compare_and_swap()->mutable_header();
    default:
      RS_CHECK(false) << "request without an operation";
      return nullptr;
  }
}

const std::string& RoutingKey(const KvRequest& request) {
  switch (request.request_case()) {
    case KvRequest::kGet:
      return request.get().key();
    case KvRequest::kPut:
      return request.put().key();
    case KvRequest::kDelete:
      return request.delete_().key();
    case KvRequest::kCompareAndSwap:
      return request.compare_and_swap().key();
    default:
      // A scan's start key; the default (empty) one when none is set.
      return request.scan().start_key();
  }
}

}  // namespace raftstore::kv
