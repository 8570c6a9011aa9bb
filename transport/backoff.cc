#include "transport/backoff.h"

#include <algorithm>
#include <cstdint>

#include "core/base/check.h"
#include "core/base/rng.h"

namespace raftstore::transport {

uint64_t BackoffDelayMs(uint64_t failures, uint64_t min_ms, uint64_t max_ms,
                        Rng& rng) {
  RS_CHECK_GE(failures, 1U);
  RS_CHECK_GE(min_ms, 1U);
  RS_CHECK_LE(min_ms, max_ms);
  uint64_t nominal = min_ms;
  // Doubling from >= 1 passes any 64-bit max_ms within 64 steps, so the
  // loop is bounded whatever `failures` is.
  for (uint64_t i = 1; i < failures && nominal < max_ms; ++i) {
    nominal = nominal > max_ms / 2 ? max_ms : nominal * 2;
  }
  const uint64_t fixed = nominal / 2;
  return fixed + rng.Uniform(nominal - fixed + 1);
}

}  // namespace raftstore::transport
