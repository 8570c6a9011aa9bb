#include "core/base/rng.h"

#include "absl/numeric/int128.h"
#include "core/base/check.h"

namespace raftstore {

uint64_t Rng::Uniform(uint64_t bound) {
  RS_CHECK_GT(bound, 0u);
  // Lemire's multiply-shift with rejection: the high word of value * bound is
  // uniform in [0, bound) once values whose low word falls in the biased
  // sliver are redrawn. The loop ends with probability 1; it repeats with
  // probability below bound / 2^64 per draw.
  absl::uint128 product = absl::uint128(Next()) * bound;
  uint64_t low = absl::Uint128Low64(product);
  if (low < bound) {
    const uint64_t threshold = (0 - bound) % bound;
    while (low < threshold) {
      product = absl::uint128(Next()) * bound;
      low = absl::Uint128Low64(product);
    }
  }
  return absl::Uint128High64(product);
}

uint64_t Rng::Range(uint64_t low, uint64_t high) {
  RS_CHECK_LE(low, high);
  const uint64_t span = high - low;
  if (span == UINT64_MAX) return Next();
  return low + Uniform(span + 1);
}

bool Rng::Chance(uint64_t numerator, uint64_t denominator) {
  RS_CHECK_GT(denominator, 0u);
  RS_CHECK_LE(numerator, denominator);
  return Uniform(denominator) < numerator;
}

}  // namespace raftstore
