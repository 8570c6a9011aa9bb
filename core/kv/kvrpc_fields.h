// Field access common to every client request of proto/kvrpc.proto, shared by
// the store (core/store) and the client library (core/client): which
// requests write, the header of any request, and the key that routes it.
//
// Thread-safety: pure functions.
#ifndef RAFTSTORE_CORE_KV_KVRPC_FIELDS_H_
#define RAFTSTORE_CORE_KV_KVRPC_FIELDS_H_

#include <string>

#include "proto/kvrpc.pb.h"

namespace raftstore::kv {

// Whether the request changes state (put, delete, cas) and so is proposed.
bool IsWrite(const KvRequest& request);

// The request's header; a default instance when no request is set.
const RequestHeader& HeaderOf(const KvRequest& request);

// The request's header, to fill in. RS_CHECKs that a request is set.
RequestHeader* MutableHeader(KvRequest& request);

// The key that routes the request: the key of a point request, the start
// key of a scan; empty when no request is set.
const std::string& RoutingKey(const KvRequest& request);

}  // namespace raftstore::kv

#endif  // RAFTSTORE_CORE_KV_KVRPC_FIELDS_H_
