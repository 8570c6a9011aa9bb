// Linearizability of a client history against a key-value register model,
// checked per key with a WGL-style search (Wing & Gong 1993) in the
// just-in-time form with memoisation and P-compositionality of Lowe,
// "Testing for linearizability" (2017). See docs/history-format.md for how
// each outcome is treated.
//
// Model, per key: the value is absent or a byte string. put sets it; delete
// removes it (returning whether it existed, if recorded); get returns it;
// cas(expected, new) compares the current value with `expected` (nullopt =
// absent) and, if equal, sets `new` and reports applied=true, else leaves the
// value and reports applied=false; a recorded `previous` must equal the value
// before. Keys are independent (P-compositionality: a history is
// linearizable iff each key's sub-history is), so each key is checked alone.
//
// Outcomes: kFail operations are dropped (they did not happen). kOk
// operations must each take effect once between call and return with the
// recorded output. kUnknown operations may take effect once at any time
// after their call, or never; an unknown read carries no information and is
// dropped. An unknown write never returns: it stays open to the end of the
// history and the search may place it at any point after its call, or not
// at all (every write of this model can take effect in any value, so "never"
// is the same as "after everything else", which nothing observes).
//
// Cost: exponential in the worst case (the problem is NP-complete), and in
// practice driven by the operations open at once on one key. Unknown writes
// never close, so a key that collects many of them grows expensive; the
// step bound turns that into an inconclusive verdict, not a wrong one.
//
// Time: an operation that returns at the same microsecond another is called
// counts as concurrent with it (the weaker, never falsely failing reading).
//
// Scans are projected to per-key reads: an ok scan of [start, end) (cut
// short by its limit) is, for each key of the checked history inside the
// range it covered, a read of the value it returned (or of absent). That
// check is sound (it never reports a violation that is not one) but
// incomplete: it does not check that a scan saw all its keys at a single
// instant. A scan whose output is out of order or outside its range is a
// violation on its own.
//
// Thread-safety: all functions are pure.
#ifndef RAFTSTORE_SIM_HISTORY_LINEARIZABILITY_H_
#define RAFTSTORE_SIM_HISTORY_LINEARIZABILITY_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "sim/history/history.h"

namespace raftstore::sim {

struct LinearizabilityOptions {
  // Search steps (one attempt to place one open operation in one
  // configuration, or to saturate one) allowed per key. Past it the key's
  // verdict is kUnknown: inconclusive, never a pass. Memory is bounded by it
  // too: each step stores at most one configuration. A generated
  // 10k-operation history from 50 closed-loop clients with 2% unknown
  // outcomes takes ~10^5 steps in all; a hot key with many unknown writes
  // (which stay open forever) is the expensive case.
  uint64_t search_steps_max = uint64_t{1} << 24;
  // How many of the operations that returned before the failure point a
  // violation reports (the most recent ones).
  size_t explain_operations_max = 8;
};

enum class Verdict {
  kOk,         // linearizable
  kViolation,  // not linearizable: a bug
  kUnknown,    // the search bound was reached first: inconclusive
};

absl::string_view VerdictName(Verdict verdict);

// Why a key's history is not linearizable: the first operation to return
// that no order of the operations before it explains. Operation ids are
// indexes into the checked history.
struct Violation {
  std::string key;
  // The ok operation that could not be placed before its return.
  size_t blocked = 0;
  // The values the key could have had just before, had none of the still
  // open operations taken effect (nullopt = absent), in value order.
  std::vector<std::optional<std::string>> possible_values;
  // The operations open (called, not returned, or unknown) at that point,
  // none of which, in any order, lets `blocked` return what it did.
  std::vector<size_t> concurrent;
  // The last ok operations of the key to return before it (at most
  // explain_operations_max), oldest first: where the values came from.
  std::vector<size_t> recent;
  // One paragraph for the failure report, naming the key and each of these
  // operations (client, kind, arguments, output, call and return times).
  std::string explanation;
};

struct KeyVerdict {
  std::string key;
  Verdict verdict = Verdict::kOk;
  // Operations of this key that were checked (ok ones and unknown writes,
  // plus the per-key reads of scans).
  size_t operations = 0;
  uint64_t search_steps = 0;
  std::optional<Violation> violation;  // set iff verdict == kViolation
};

struct LinearizabilityResult {
  // kViolation if any key (or scan) is violated; else kUnknown if any key
  // was inconclusive; else kOk.
  Verdict verdict = Verdict::kOk;
  // Every key the history touches, in key order.
  std::vector<KeyVerdict> keys;
  // Scans whose output contradicts their own request (keys out of order,
  // outside the range, more pairs than the limit), with a sentence each.
  std::vector<std::string> scan_errors;
  // Ok scans that were projected onto per-key reads.
  size_t scans_checked = 0;

  // A few lines for a failure report: the verdict, and each violated or
  // inconclusive key with its explanation.
  std::string Summary() const;
};

// Checks `operations` (ids are their indexes). The operations must be valid
// (ValidateOperation); they need not be in call order.
LinearizabilityResult CheckLinearizability(
    absl::Span<const Operation> operations,
    const LinearizabilityOptions& options = {});

}  // namespace raftstore::sim

#endif  // RAFTSTORE_SIM_HISTORY_LINEARIZABILITY_H_
