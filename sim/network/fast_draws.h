// Rng::Uniform, Range and Chance (core/base/rng.h), inlined for the
// network's hot path: a Send draws about a dozen values, and the calls into
// core/base/rng.cc cost more than the draws themselves.
//
// Each function returns exactly what the Rng method of the same name would
// and takes exactly the same engine values (Rng::Next) in the same order, so
// a seed's network replays bit for bit whichever is called;
// fast_draws_test.cc checks this against Rng for edge and random bounds.
// A change to Rng's mapping must be made here too (the test fails until it
// is).
//
// Thread-safety: as Rng's (none).
#ifndef RAFTSTORE_SIM_NETWORK_FAST_DRAWS_H_
#define RAFTSTORE_SIM_NETWORK_FAST_DRAWS_H_

#include <cstdint>

#include "core/base/check.h"
#include "core/base/rng.h"

namespace raftstore::sim {

// Rng::Uniform: uniform in [0, bound). Requires bound > 0.
inline uint64_t FastUniform(Rng& rng, uint64_t bound) {
  RS_CHECK(bound > 0);
  // Lemire's multiply-shift with rejection, as Rng::Uniform.
  unsigned __int128 product =
      static_cast<unsigned __int128>(rng.Next()) * bound;
  uint64_t low = static_cast<uint64_t>(product);
  if (low < bound) {
    const uint64_t threshold = (0 - bound) % bound;
    while (low < threshold) {
      product = static_cast<unsigned __int128>(rng.Next()) * bound;
      low = static_cast<uint64_t>(product);
    }
  }
  return static_cast<uint64_t>(product >> 64);
}

// Rng::Range: uniform in [low, high]. Requires low <= high.
inline uint64_t FastRange(Rng& rng, uint64_t low, uint64_t high) {
  RS_CHECK(low <= high);
  const uint64_t span = high - low;
  if (span == UINT64_MAX) return rng.Next();
  return low + FastUniform(rng, span + 1);
}

// Rng::Chance: true with probability numerator / denominator. Requires
// 0 < denominator and numerator <= denominator.
inline bool FastChance(Rng& rng, uint64_t numerator, uint64_t denominator) {
  RS_CHECK(denominator > 0 && numerator <= denominator);
  return FastUniform(rng, denominator) < numerator;
}

}  // namespace raftstore::sim

#endif  // RAFTSTORE_SIM_NETWORK_FAST_DRAWS_H_
