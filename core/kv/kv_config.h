// Bounds of the KV state machine (core/kv, docs/kv-state-machine.md).
//
// Every bound is named here and enforced at apply time; the store also checks
// the key and value bounds when it proposes, so a client learns of an
// oversized write without a round of consensus. All replicas of a region must
// run with the same KvConfig: the bounds decide outcomes, and outcomes are
// part of the replicated state.
//
// Thread-safety: a plain value.
#ifndef RAFTSTORE_CORE_KV_KV_CONFIG_H_
#define RAFTSTORE_CORE_KV_KV_CONFIG_H_

#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"

namespace raftstore::kv {

// Room for everything in an encoded command or result besides its keys and
// values (tags, lengths, the session fields): generous, checked by tests.
inline constexpr size_t kEncodingOverheadBytesMax = 128;

struct KvConfig {
  // A key is 1 to key_bytes_max bytes (the empty key is the region-boundary
  // sentinel "unbounded" and is never stored).
  size_t key_bytes_max = 4 * 1024;
  size_t value_bytes_max = 1024 * 1024;
  // A Scan returns at most scan_limit_max pairs (a request limit of 0 or
  // above it means this), and stops after the pair that reaches
  // scan_bytes_max bytes of keys and values.
  uint32_t scan_limit_max = 1024;
  size_t scan_bytes_max = 4 * 1024 * 1024;
  // Client sessions (thesis 6.3): at most sessions_max sessions; each caches
  // at most session_responses_max responses of at most
  // session_response_bytes_max bytes in all (encoded). Worst-case memory of
  // the cache is sessions_max * session_response_bytes_max.
  size_t sessions_max = 1024;
  size_t session_responses_max = 64;
  size_t session_response_bytes_max = 2 * 1024 * 1024;
  // A session idle for more than session_ttl_ticks of the replicated clock
  // is expired. When the table is full, the least recently active session is
  // evicted to open a new one, but only if it has been idle for at least
  // session_evict_idle_ticks_min; otherwise the new session is refused.
  // This keeps a session alive while its client may still retry: see
  // docs/kv-state-machine.md, "Why eviction waits".
  uint64_t session_ttl_ticks = 36000;
  uint64_t session_evict_idle_ticks_min = 600;

  // OK, or kInvalidArgument naming the first bound that is zero or
  // inconsistent with another.
  absl::Status Validate() const;

  // The largest encoded Command that can be valid under these bounds: a
  // compare-and-swap with a key and two values at their maxima.
  size_t CommandBytesMax() const {
    return key_bytes_max + 2 * value_bytes_max + kEncodingOverheadBytesMax;
  }
  // The largest encoded CommandResult: a compare-and-swap's previous value.
  size_t ResultBytesMax() const {
    return value_bytes_max + kEncodingOverheadBytesMax;
  }
};

}  // namespace raftstore::kv

#endif  // RAFTSTORE_CORE_KV_KV_CONFIG_H_
