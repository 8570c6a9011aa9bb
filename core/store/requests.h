// The translation between the client API (proto/kvrpc.proto) and what a
// region's raft log carries (proto/command.proto): the command a client
// write proposes, the header fields of a request, and the responses a store
// sends back (a result, or a typed error in the request's own response
// shape, so the client can match it).
//
// Thread-safety: pure functions.
#ifndef RAFTSTORE_CORE_STORE_REQUESTS_H_
#define RAFTSTORE_CORE_STORE_REQUESTS_H_

#include <cstdint>
#include <string_view>

#include "core/kv/kvrpc_fields.h"
#include "proto/command.pb.h"
#include "proto/kvrpc.pb.h"
#include "proto/region.pb.h"

namespace raftstore::store {

// IsWrite, HeaderOf and RoutingKey: core/kv/kvrpc_fields.h.
using kv::HeaderOf;
using kv::IsWrite;
using kv::RoutingKey;

// The command a write proposes under the client's session. Precondition:
// IsWrite(request). first_incomplete_sequence falls back to the sequence
// itself when the header leaves it 0.
command::Command CommandFor(const kv::KvRequest& request,
                            uint64_t proposed_at_ticks);

// A response of the request's kind carrying `error`; request_id copied.
// Requests of no known kind get an empty response (nothing to match).
kv::KvResponse ErrorResponse(const kv::KvRequest& request, kv::Error error);

// An error response for a write of `kind` (a KvRequest::RequestCase of a
// write) known only by its kind and request id, as a pending write is.
kv::KvResponse WriteErrorResponse(kv::KvRequest::RequestCase kind,
                                  uint64_t request_id, kv::Error error);

// The response to an applied write of `kind` (a KvRequest::RequestCase of a
// write): the op's result when the command applied, else the typed error
// the outcome stands for (session expired, server busy, refused).
kv::KvResponse WriteResponse(kv::KvRequest::RequestCase kind,
                             uint64_t request_id,
                             const command::CommandResult& result);

// Marks a successful response as served by `region` at `term`.
void SetServedBy(const meta::Region& region, uint64_t term,
                 kv::KvResponse* response);

// Error builders.
kv::Error NotLeaderError(uint64_t region_id, const meta::Peer* leader);
kv::Error ServerBusyError(std::string_view reason, uint64_t backoff_ms);
kv::Error RegionNotFoundError(uint64_t region_id);
kv::Error KeyNotInRegionError(std::string_view key, const meta::Region& region);

// Whether `key` lies in [region.start_key, region.end_key) (an empty end is
// +infinity).
bool KeyInRegion(std::string_view key, const meta::Region& region);

}  // namespace raftstore::store

#endif  // RAFTSTORE_CORE_STORE_REQUESTS_H_
