#include "sim/history/linearizability_brute_force.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/base/check.h"

namespace raftstore::sim {
namespace {

using Store = std::map<std::string, std::string>;

std::optional<std::string> Lookup(const Store& store, const std::string& key) {
  auto it = store.find(key);
  if (it == store.end()) return std::nullopt;
  return it->second;
}

// Applies `op` to `store`; false when its recorded output is impossible.
bool ApplyToStore(const Operation& op, Store* store) {
  const std::optional<std::string> current = Lookup(*store, op.key);
  const bool ok = op.outcome == Outcome::kOk;
  switch (op.op) {
    case OpKind::kPut:
      (*store)[op.key] = *op.value;
      return true;
    case OpKind::kGet:
      return current == op.output.read;
    case OpKind::kDelete:
      if (ok && op.output.existed.has_value() &&
          *op.output.existed != current.has_value()) {
        return false;
      }
      store->erase(op.key);
      return true;
    case OpKind::kCas: {
      if (ok && op.output.previous_known && current != op.output.previous) {
        return false;
      }
      const bool match = current == op.expected;
      if (ok && op.output.applied != match) return false;
      if (match) (*store)[op.key] = *op.value;
      return true;
    }
    case OpKind::kScan:
      break;
  }
  RS_CHECK(false) << "scans are not supported here";
  return false;
}

struct Search {
  std::vector<Operation> ops;  // fail and unknown reads already dropped
  std::vector<bool> placed;

  // Whether `i` may go next: no unplaced ok operation returned before it was
  // called (a tie counts as concurrent, as in the checker).
  bool MayGoNext(size_t i) const {
    for (size_t j = 0; j < ops.size(); ++j) {
      if (j == i || placed[j] || ops[j].outcome != Outcome::kOk) continue;
      if (ops[j].return_us < ops[i].call_us) return false;
    }
    return true;
  }

  bool AllOkPlaced() const {
    for (size_t j = 0; j < ops.size(); ++j) {
      if (!placed[j] && ops[j].outcome == Outcome::kOk) return false;
    }
    return true;
  }

  // Unknown operations may be left out: stop as soon as every ok one is in.
  bool Linearizable(const Store& store) {
    if (AllOkPlaced()) return true;
    for (size_t i = 0; i < ops.size(); ++i) {
      if (placed[i] || !MayGoNext(i)) continue;
      Store next = store;
      if (!ApplyToStore(ops[i], &next)) continue;
      placed[i] = true;
      const bool found = Linearizable(next);
      placed[i] = false;
      if (found) return true;
    }
    return false;
  }
};

}  // namespace

Verdict CheckLinearizabilityBruteForce(absl::Span<const Operation> operations) {
  RS_CHECK_LE(operations.size(), kBruteForceOperationsMax);
  Search search;
  for (const Operation& op : operations) {
    RS_CHECK(op.op != OpKind::kScan);
    if (op.outcome == Outcome::kFail) continue;
    if (op.outcome == Outcome::kUnknown && op.op == OpKind::kGet) continue;
    search.ops.push_back(op);
  }
  search.placed.assign(search.ops.size(), false);
  return search.Linearizable(Store()) ? Verdict::kOk : Verdict::kViolation;
}

}  // namespace raftstore::sim
