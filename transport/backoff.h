// Redial delays of the transport: exponential backoff with "equal jitter".
// Pure code over a seeded Rng, so the schedule is testable on its own.
//
// Thread-safety: pure function (the Rng is the caller's).
#ifndef RAFTSTORE_TRANSPORT_BACKOFF_H_
#define RAFTSTORE_TRANSPORT_BACKOFF_H_

#include <cstdint>

#include "core/base/rng.h"

namespace raftstore::transport {

// The delay before redialing after the `failures`-th consecutive failure
// (>= 1): uniformly random in [d/2, d] where
// d = min(max_ms, min_ms * 2^(failures-1)). Half the delay is fixed, half
// random, so peers that failed together do not all redial together, and the
// delay never drops below half the nominal one. Requires
// 1 <= min_ms <= max_ms.
uint64_t BackoffDelayMs(uint64_t failures, uint64_t min_ms, uint64_t max_ms,
                        Rng& rng);

}  // namespace raftstore::transport

#endif  // RAFTSTORE_TRANSPORT_BACKOFF_H_
