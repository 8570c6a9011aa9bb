// A deliberately naive linearizability check, to test the WGL checker
// against: it tries every order of every operation of the whole history (no
// partition by key, no memo), on a std::map model written separately from
// the checker's. Exponential: for histories of a handful of operations only.
//
// Thread-safety: pure.
#ifndef RAFTSTORE_SIM_HISTORY_LINEARIZABILITY_BRUTE_FORCE_H_
#define RAFTSTORE_SIM_HISTORY_LINEARIZABILITY_BRUTE_FORCE_H_

#include "absl/types/span.h"
#include "sim/history/history.h"
#include "sim/history/linearizability.h"

namespace raftstore::sim {

// kOk or kViolation. Requires at most kBruteForceOperationsMax operations and
// no scans (their per-key projection is the checker's own, weaker, rule).
inline constexpr size_t kBruteForceOperationsMax = 9;
Verdict CheckLinearizabilityBruteForce(absl::Span<const Operation> operations);

}  // namespace raftstore::sim

#endif  // RAFTSTORE_SIM_HISTORY_LINEARIZABILITY_BRUTE_FORCE_H_
