// The one source of randomness in the core: a seeded, deterministic PRNG.
//
// Everything random in RaftStore (election timeouts, simulator faults, swarm
// options) is drawn from an Rng handed in by the driver, never from a global
// or std::random_device. The same seed gives the same sequence on every
// machine and compiler: the engine is std::mt19937_64, whose output the C++
// standard specifies exactly, and the mapping to ranges is our own integer
// arithmetic (the standard distributions are not portable across library
// implementations, so they are not used).
//
// Thread-safety: none; each Rng belongs to one owner.
#ifndef RAFTSTORE_CORE_BASE_RNG_H_
#define RAFTSTORE_CORE_BASE_RNG_H_

#include <cstdint>
#include <random>

namespace raftstore {

class Rng {
 public:
  explicit Rng(uint64_t seed) : engine_(seed) {}

  // A uniformly distributed 64-bit value.
  uint64_t Next() { return engine_(); }

  // Uniform in [0, bound). Requires bound > 0. Unbiased (rejection sampling
  // over the multiply-shift mapping).
  uint64_t Uniform(uint64_t bound);

  // Uniform in [low, high], both inclusive. Requires low <= high.
  uint64_t Range(uint64_t low, uint64_t high);

  // True with probability numerator / denominator. Requires
  // denominator > 0 and numerator <= denominator. Integer arithmetic, so the
  // answer never depends on floating-point rounding.
  bool Chance(uint64_t numerator, uint64_t denominator);

  // A new generator whose sequence is independent of this one's remainder:
  // lets one seed feed several consumers (one per node, say) so that adding a
  // draw in one does not shift every other.
  Rng Fork() { return Rng(Next() ^ kForkSalt); }

 private:
  static constexpr uint64_t kForkSalt = 0x9e3779b97f4a7c15ULL;
  std::mt19937_64 engine_;
};

}  // namespace raftstore

#endif  // RAFTSTORE_CORE_BASE_RNG_H_
