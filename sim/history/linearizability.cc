#include "sim/history/linearizability.h"

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/container/btree_set.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "core/base/check.h"

namespace raftstore::sim {
namespace {

// A value of one key, interned: 0 is "absent", 1.. are byte strings.
using ValueId = uint32_t;
constexpr ValueId kAbsent = 0;
constexpr uint64_t kNever = std::numeric_limits<uint64_t>::max();

// One operation of a key's sub-history, reduced to what the model needs.
struct KeyOp {
  size_t id = 0;  // index in the checked history
  OpKind kind = OpKind::kGet;
  bool unknown = false;  // may or may not have happened
  uint64_t call_us = 0;
  uint64_t return_us = kNever;  // kNever for unknown operations
  ValueId value = kAbsent;      // put: written; cas: new value
  ValueId expected = kAbsent;   // cas
  // get: the value read; cas: the recorded previous value. nullopt = no
  // constraint (a cas without a recorded previous).
  std::optional<ValueId> read;
  std::optional<bool> existed;  // delete, when recorded
  bool applied = false;         // cas
};

// The model's transition: the value after `op` in state `value`, or nullopt
// when `op` cannot take effect there with its recorded output.
std::optional<ValueId> Apply(const KeyOp& op, ValueId value) {
  switch (op.kind) {
    case OpKind::kPut:
      return op.value;
    case OpKind::kGet:
    case OpKind::kScan:
      if (op.read != value) return std::nullopt;
      return value;
    case OpKind::kDelete:
      if (op.existed.has_value() && *op.existed != (value != kAbsent)) {
        return std::nullopt;
      }
      return kAbsent;
    case OpKind::kCas: {
      if (op.read.has_value() && *op.read != value) return std::nullopt;
      const bool match = value == op.expected;
      // An unknown cas, if it happened, did whatever the value decided.
      if (!op.unknown && op.applied != match) return std::nullopt;
      return match ? op.value : value;
    }
  }
  return std::nullopt;
}

// Whether `op` leaves the value unchanged in every value where it can take
// effect (an ok get, a scan's per-key read, an ok cas that did not apply, an
// ok delete of a key that did not exist). A put of the value already there
// is not one: placed later, it would change the value back.
bool IsRead(const KeyOp& op) {
  if (op.unknown) return false;
  switch (op.kind) {
    case OpKind::kGet:
    case OpKind::kScan:
      return true;
    case OpKind::kCas:
      return !op.applied;
    case OpKind::kDelete:
      return op.existed == false;
    case OpKind::kPut:
      return false;
  }
  return false;
}

struct KeyHistory {
  std::vector<KeyOp> ops;
  // Interned values; index = ValueId - 1.
  std::map<std::string, ValueId> ids;
  std::vector<const std::string*> values;

  ValueId Intern(const std::optional<std::string>& bytes) {
    if (!bytes.has_value()) return kAbsent;
    auto [it, inserted] =
        ids.emplace(*bytes, static_cast<ValueId>(values.size() + 1));
    if (inserted) values.push_back(&it->first);
    return it->second;
  }
  std::optional<std::string> Value(ValueId id) const {
    if (id == kAbsent) return std::nullopt;
    return *values[id - 1];
  }
};

std::string Quoted(const std::optional<std::string>& bytes) {
  if (!bytes.has_value()) return "absent";
  return absl::StrCat("\"", absl::CHexEscape(*bytes), "\"");
}

// The per-key model operation of a non-scan operation, or nullopt when it
// carries nothing to check (failed, or an unknown read).
std::optional<KeyOp> ToKeyOp(const Operation& operation, size_t id,
                             KeyHistory* key) {
  if (operation.outcome == Outcome::kFail) return std::nullopt;
  const bool unknown = operation.outcome == Outcome::kUnknown;
  if (unknown && operation.op == OpKind::kGet) return std::nullopt;
  KeyOp op;
  op.id = id;
  op.kind = operation.op;
  op.unknown = unknown;
  op.call_us = operation.call_us;
  op.return_us = unknown ? kNever : operation.return_us;
  op.value = key->Intern(operation.value);
  if (operation.op == OpKind::kCas)
    op.expected = key->Intern(operation.expected);
  if (unknown) return op;
  const Output& out = operation.output;
  if (operation.op == OpKind::kGet) op.read = key->Intern(out.read);
  if (operation.op == OpKind::kCas && out.previous_known) {
    op.read = key->Intern(out.previous);
  }
  op.existed = out.existed;
  op.applied = out.applied;
  return op;
}

// A scan's own consistency: keys strictly increasing, inside its range, no
// more than its limit. Returns a sentence when broken.
std::optional<std::string> ScanError(const Operation& scan, size_t id) {
  const auto& pairs = scan.output.pairs;
  if (scan.limit > 0 && pairs.size() > scan.limit) {
    return absl::StrCat(DescribeOperation(scan, id), ": returned ",
                        pairs.size(), " pairs, over its limit");
  }
  for (size_t i = 0; i < pairs.size(); ++i) {
    const std::string& key = pairs[i].first;
    if (key < scan.key || (scan.end_key.has_value() && key >= *scan.end_key)) {
      return absl::StrCat(DescribeOperation(scan, id), ": key ", Quoted(key),
                          " is outside the range");
    }
    if (i > 0 && key <= pairs[i - 1].first) {
      return absl::StrCat(DescribeOperation(scan, id), ": key ", Quoted(key),
                          " is out of order");
    }
  }
  return std::nullopt;
}

// Adds the per-key reads of an ok scan: for every key of `keys` inside the
// range the scan covered, a read of the value it returned there (or absent).
// A scan cut short by its limit covered only up to its last key.
void ProjectScan(const Operation& scan, size_t id,
                 std::map<std::string, KeyHistory>* keys) {
  const auto& pairs = scan.output.pairs;
  const bool cut = scan.limit > 0 && pairs.size() >= scan.limit;
  size_t next_pair = 0;
  for (auto it = keys->lower_bound(scan.key); it != keys->end(); ++it) {
    const std::string& key = it->first;
    if (cut && key > pairs.back().first) break;
    if (!cut && scan.end_key.has_value() && key >= *scan.end_key) break;
    while (next_pair < pairs.size() && pairs[next_pair].first < key) {
      ++next_pair;
    }
    std::optional<std::string> read;
    if (next_pair < pairs.size() && pairs[next_pair].first == key) {
      read = pairs[next_pair].second;
    }
    KeyOp op;
    op.id = id;
    op.kind = OpKind::kScan;
    op.call_us = scan.call_us;
    op.return_us = scan.return_us;
    op.read = it->second.Intern(read);
    it->second.ops.push_back(op);
  }
}

// Splits the history by key; scans become per-key reads (or scan errors).
std::map<std::string, KeyHistory> PartitionByKey(
    absl::Span<const Operation> operations, LinearizabilityResult* result) {
  std::map<std::string, KeyHistory> keys;
  for (size_t id = 0; id < operations.size(); ++id) {
    const Operation& operation = operations[id];
    if (operation.op == OpKind::kScan) {
      if (operation.outcome != Outcome::kOk) continue;
      // A key only a scan returned is still a key whose history matters.
      for (const auto& pair : operation.output.pairs) keys[pair.first];
      continue;
    }
    KeyHistory& key = keys[operation.key];
    std::optional<KeyOp> op = ToKeyOp(operation, id, &key);
    if (op.has_value()) key.ops.push_back(*op);
  }
  for (size_t id = 0; id < operations.size(); ++id) {
    const Operation& scan = operations[id];
    if (scan.op != OpKind::kScan || scan.outcome != Outcome::kOk) continue;
    if (std::optional<std::string> error = ScanError(scan, id)) {
      result->scan_errors.push_back(*std::move(error));
      continue;
    }
    ProjectScan(scan, id, &keys);
    ++result->scans_checked;
  }
  return keys;
}

}  // namespace

namespace {

// The search over one key, in the just-in-time form of the WGL algorithm
// (Lowe 2017, section 5): walk the call and return events in time order,
// keeping every configuration (value, set of open operations already placed)
// the history could be in. An operation is placed only when it must be: at
// the return of an ok operation that no configuration has placed yet, each
// configuration tries every sequence of open operations ending with it.
// Configurations are deduplicated (Lowe's memoisation), so the work per event
// is bounded by the distinct configurations, not by the orders that lead to
// them; a depth-first search that places operations eagerly instead pays for
// every wrong early guess by backtracking, exponentially in the concurrency.
class KeySearch {
 public:
  KeySearch(const KeyHistory& history, const LinearizabilityOptions& options);

  // Runs until an answer or the step bound.
  Verdict Run();
  uint64_t steps() const { return steps_; }
  // Where the search failed; call after Run() returned kViolation.
  Violation Explain(absl::Span<const Operation> operations,
                    const std::string& key) const;

 private:
  // A set of states the key's history may be in: the value, the open
  // operations already placed, and the open ok operations that are
  // optional: may be placed (once, before their return) or not at all. An
  // optional operation stands for two configurations at once, one where it
  // was placed (and its value overwritten) and one where it is still to be
  // placed: the futures of the pair are exactly those that place it at most
  // once. Unknown operations are always optional until placed.
  // Returned operations are dropped from both sets (op indexes, ascending).
  struct Config {
    ValueId value = kAbsent;
    std::vector<uint32_t> placed;
    std::vector<uint32_t> optional;
    bool operator<(const Config& other) const {
      return std::tie(value, placed, optional) <
             std::tie(other.value, other.placed, other.optional);
    }
    bool Placed(uint32_t op) const {
      return std::binary_search(placed.begin(), placed.end(), op);
    }
    bool InOptional(uint32_t op) const {
      return std::binary_search(optional.begin(), optional.end(), op);
    }
  };
  struct Event {
    uint64_t time;
    bool is_return;
    uint32_t op;
    bool operator<(const Event& other) const {
      return std::tie(time, is_return, op) <
             std::tie(other.time, other.is_return, other.op);
    }
  };

  // Whether `op` may be placed next in `config`, and the value after it.
  std::optional<ValueId> TryPlace(const Config& config, uint32_t op) const;
  // Whether placing optional operation `op` (giving value `after`) lets
  // another open operation take effect that could not in the current value:
  // a required one that would fail, or an optional one that would change
  // nothing. Only then is an optional operation worth placing: in any
  // linearization an optional operation followed by one that does not
  // depend on it can be moved after it (a read) or dropped (a write, which
  // overwrites it), so it can always sit just before one it enables.
  bool Enables(const Config& config, uint32_t op, ValueId after) const;
  // Places every open read (IsRead) that can be placed in the value. A read
  // is better placed than not: whatever could follow without it placed can
  // follow with it placed (wherever it went, it changed no value), and it no
  // longer has to find its value later. So a saturated configuration stands
  // for all the ones it was made from, and the search branches only on
  // writes. Returns false when the step bound is reached.
  bool Saturate(Config* config);
  // Every configuration reachable from `start` (saturated) by placing open
  // operations until `op` is placed, added to `next` (with `op` dropped from
  // the set). Returns false when the step bound is reached.
  bool PlaceThrough(const Config& start, uint32_t op,
                    absl::btree_set<Config>* visited,
                    absl::btree_set<Config>* next);
  // Adds `config` to `set`, unless a configuration there already stands for
  // it; merges it with a partner that differs only in one operation being
  // placed or not into one where that operation is optional. Merging is
  // what keeps the configurations few when many concurrent writes are never
  // observed: each such write becomes optional instead of doubling the set.
  void InsertMerged(absl::btree_set<Config>* set, Config config) const;
  // Handles the return of ok operation `op`; false at the step bound.
  bool Return(uint32_t op);

  const KeyHistory& history_;
  const LinearizabilityOptions& options_;
  std::vector<KeyOp> ops_;  // sorted by call time
  // For an unknown operation, the previous unknown one (in call order) with
  // the same effect, or -1: once both are called they are interchangeable,
  // so only the earliest unplaced one of a class is ever placed.
  std::vector<int64_t> same_effect_before_;
  std::vector<uint32_t> open_;  // called, not returned (or never returning)
  // The operation whose return is being handled (no longer open for
  // InsertMerged's purposes).
  std::optional<uint32_t> closing_;
  absl::btree_set<Config> frontier_;
  uint64_t steps_ = 0;
  // The last ok operations to return (at most explain_operations_max).
  std::vector<uint32_t> recent_;
  // The failure point.
  uint32_t blocked_ = 0;
  std::vector<ValueId> values_at_failure_;
  std::vector<uint32_t> open_at_failure_;
  std::vector<uint32_t> recent_at_failure_;
};

KeySearch::KeySearch(const KeyHistory& history,
                     const LinearizabilityOptions& options)
    : history_(history), options_(options), ops_(history.ops) {
  std::sort(ops_.begin(), ops_.end(), [](const KeyOp& a, const KeyOp& b) {
    return std::pair(a.call_us, a.id) < std::pair(b.call_us, b.id);
  });
  same_effect_before_.assign(ops_.size(), -1);
  std::map<std::tuple<OpKind, ValueId, ValueId>, int64_t> last_of_class;
  for (size_t i = 0; i < ops_.size(); ++i) {
    if (!ops_[i].unknown) continue;
    auto [it, inserted] = last_of_class.emplace(
        std::tuple(ops_[i].kind, ops_[i].value, ops_[i].expected),
        static_cast<int64_t>(i));
    if (!inserted) {
      same_effect_before_[i] = it->second;
      it->second = static_cast<int64_t>(i);
    }
  }
  frontier_.insert(Config());
}

std::optional<ValueId> KeySearch::TryPlace(const Config& config,
                                           uint32_t op) const {
  if (config.Placed(op)) return std::nullopt;
  const KeyOp& key_op = ops_[op];
  const bool optional = key_op.unknown || config.InOptional(op);
  if (key_op.unknown) {
    const int64_t before = same_effect_before_[op];
    if (before >= 0 && !config.Placed(static_cast<uint32_t>(before))) {
      return std::nullopt;
    }
  }
  const std::optional<ValueId> after = Apply(key_op, config.value);
  // An optional operation that leaves the value as it is changes nothing
  // but its own availability: leaving it unplaced is never worse.
  if (optional && after == config.value) return std::nullopt;
  if (optional && after.has_value() && !Enables(config, op, *after)) {
    return std::nullopt;
  }
  return after;
}

bool KeySearch::Enables(const Config& config, uint32_t op,
                        ValueId after) const {
  for (uint32_t other : open_) {
    if (other == op || config.Placed(other)) continue;
    const KeyOp& key_op = ops_[other];
    const bool optional = key_op.unknown || config.InOptional(other);
    const std::optional<ValueId> now = Apply(key_op, config.value);
    const std::optional<ValueId> then = Apply(key_op, after);
    if (!then.has_value()) continue;
    // A required operation it lets take effect, or an optional one it lets
    // change the value.
    if (!optional && !now.has_value()) return true;
    if (optional && *then != after &&
        (!now.has_value() || *now == config.value)) {
      return true;
    }
  }
  return false;
}

bool KeySearch::Saturate(Config* config) {
  std::vector<uint32_t> reads;
  for (uint32_t op : open_) {
    if (steps_ >= options_.search_steps_max) return false;
    ++steps_;
    if (!IsRead(ops_[op]) || config->Placed(op) || config->InOptional(op)) {
      continue;
    }
    if (!Apply(ops_[op], config->value).has_value()) continue;
    reads.push_back(op);
  }
  if (reads.empty()) return true;
  // open_ is in call order, which is op order, so `reads` is sorted.
  std::vector<uint32_t> merged;
  merged.reserve(config->placed.size() + reads.size());
  std::merge(config->placed.begin(), config->placed.end(), reads.begin(),
             reads.end(), std::back_inserter(merged));
  config->placed = std::move(merged);
  return true;
}

bool KeySearch::PlaceThrough(const Config& start, uint32_t op,
                             absl::btree_set<Config>* visited,
                             absl::btree_set<Config>* next) {
  std::vector<Config> stack = {start};
  while (!stack.empty()) {
    Config config = std::move(stack.back());
    stack.pop_back();
    if (config.Placed(op)) {
      config.placed.erase(
          std::lower_bound(config.placed.begin(), config.placed.end(), op));
      InsertMerged(next, std::move(config));
      continue;
    }
    // Saturated: every open read that can be placed is, so only writes are
    // worth trying.
    for (uint32_t candidate : open_) {
      if (steps_ >= options_.search_steps_max) return false;
      ++steps_;
      const std::optional<ValueId> after = TryPlace(config, candidate);
      if (!after.has_value()) continue;
      Config placed;
      placed.value = *after;
      placed.placed = config.placed;
      placed.optional = config.optional;
      placed.placed.insert(std::upper_bound(placed.placed.begin(),
                                            placed.placed.end(), candidate),
                           candidate);
      auto was_optional = std::lower_bound(placed.optional.begin(),
                                           placed.optional.end(), candidate);
      if (was_optional != placed.optional.end() && *was_optional == candidate) {
        placed.optional.erase(was_optional);
      }
      if (!Saturate(&placed)) return false;
      if (visited->insert(placed).second) stack.push_back(std::move(placed));
    }
  }
  return true;
}

void KeySearch::InsertMerged(absl::btree_set<Config>* set,
                             Config config) const {
  // A placed unknown operation could as well be unplaced (it stays
  // optional forever): the configuration without it stands for this one.
  for (size_t i = 0; i < config.placed.size(); ++i) {
    const uint32_t op = config.placed[i];
    if (!ops_[op].unknown) continue;
    Config unplaced = config;
    unplaced.placed.erase(unplaced.placed.begin() + static_cast<ptrdiff_t>(i));
    if (set->contains(unplaced)) return;
  }
  // And this one stands for those that differ only in having placed one
  // more unknown operation.
  for (uint32_t op : open_) {
    if (!ops_[op].unknown || config.Placed(op)) continue;
    Config more = config;
    more.placed.insert(
        std::upper_bound(more.placed.begin(), more.placed.end(), op), op);
    set->erase(more);
  }
  // Partners that differ in a placed operation.
  for (size_t i = 0; i < config.placed.size(); ++i) {
    const uint32_t op = config.placed[i];
    if (ops_[op].unknown) continue;
    Config merged = config;
    merged.placed.erase(merged.placed.begin() + static_cast<ptrdiff_t>(i));
    merged.optional.insert(
        std::upper_bound(merged.optional.begin(), merged.optional.end(), op),
        op);
    if (set->contains(merged)) return;  // already stood for
    Config partner = merged;
    partner.optional = config.optional;
    auto it = set->find(partner);
    if (it != set->end()) {
      set->erase(it);
      InsertMerged(set, std::move(merged));
      return;
    }
  }
  // Partners that differ in an operation still to be placed.
  for (uint32_t op : open_) {
    if (ops_[op].unknown || op == closing_ || config.Placed(op) ||
        config.InOptional(op)) {
      continue;
    }
    Config merged = config;
    merged.optional.insert(
        std::upper_bound(merged.optional.begin(), merged.optional.end(), op),
        op);
    if (set->contains(merged)) return;
    Config partner = config;
    partner.placed.insert(
        std::upper_bound(partner.placed.begin(), partner.placed.end(), op), op);
    auto it = set->find(partner);
    if (it != set->end()) {
      set->erase(it);
      InsertMerged(set, std::move(merged));
      return;
    }
  }
  set->insert(std::move(config));
}

bool KeySearch::Return(uint32_t op) {
  absl::btree_set<Config> next;
  absl::btree_set<Config> visited;
  closing_ = op;
  for (const Config& config : frontier_) {
    Config saturated = config;
    if (config.InOptional(op)) {
      // Both halves: `op` placed earlier (nothing left to do), or still to
      // be placed now.
      saturated.optional.erase(std::lower_bound(saturated.optional.begin(),
                                                saturated.optional.end(), op));
      InsertMerged(&next, saturated);
    }
    if (!Saturate(&saturated)) return false;
    if (!visited.insert(saturated).second) continue;
    if (!PlaceThrough(saturated, op, &visited, &next)) return false;
  }
  if (next.empty()) {
    blocked_ = op;
    for (const Config& config : frontier_) {
      if (values_at_failure_.empty() ||
          values_at_failure_.back() != config.value) {
        values_at_failure_.push_back(config.value);
      }
    }
    for (uint32_t open : open_) {
      if (open != op) open_at_failure_.push_back(open);
    }
    recent_at_failure_ = recent_;
  }
  frontier_ = std::move(next);
  open_.erase(std::find(open_.begin(), open_.end(), op));
  recent_.push_back(op);
  if (recent_.size() > options_.explain_operations_max) {
    recent_.erase(recent_.begin());
  }
  return true;
}

Verdict KeySearch::Run() {
  std::vector<Event> events;
  for (size_t i = 0; i < ops_.size(); ++i) {
    const auto op = static_cast<uint32_t>(i);
    events.push_back({ops_[i].call_us, false, op});
    if (!ops_[i].unknown) events.push_back({ops_[i].return_us, true, op});
  }
  // At equal times calls come first: an operation returning at the instant
  // another is called counts as concurrent with it, the weaker reading of a
  // tie, which never reports a violation that a finer clock would not.
  std::sort(events.begin(), events.end());
  for (const Event& event : events) {
    if (!event.is_return) {
      open_.push_back(event.op);
      continue;
    }
    if (!Return(event.op)) return Verdict::kUnknown;
    if (frontier_.empty()) return Verdict::kViolation;
  }
  // Unknown operations still unplaced may take effect after everything else
  // (the model's writes are total) or never: either way nothing observes it.
  return Verdict::kOk;
}

Violation KeySearch::Explain(absl::Span<const Operation> operations,
                             const std::string& key) const {
  Violation violation;
  violation.key = key;
  violation.blocked = ops_[blocked_].id;
  for (ValueId value : values_at_failure_) {
    violation.possible_values.push_back(history_.Value(value));
  }
  std::string values;
  for (const auto& value : violation.possible_values) {
    absl::StrAppend(&values, values.empty() ? "" : ", ", Quoted(value));
  }
  std::string text = absl::StrCat(
      "key ", Quoted(key), " is not linearizable (", ops_.size(),
      " operations checked). This operation returned, but in no order of the "
      "operations before it could it have happened:\n  ",
      DescribeOperation(operations[violation.blocked], violation.blocked),
      ops_[blocked_].kind == OpKind::kScan
          ? absl::StrCat(" (as a read of ", Quoted(key), ")")
          : std::string(),
      "\nThe value could be one of {", values,
      "} before the operations still open then:\n");
  for (uint32_t op : open_at_failure_) {
    violation.concurrent.push_back(ops_[op].id);
    absl::StrAppend(&text, "  ",
                    DescribeOperation(operations[ops_[op].id], ops_[op].id),
                    "\n");
  }
  absl::StrAppend(&text, "The last operations to return before it:\n");
  for (uint32_t op : recent_at_failure_) {
    violation.recent.push_back(ops_[op].id);
    absl::StrAppend(&text, "  ",
                    DescribeOperation(operations[ops_[op].id], ops_[op].id),
                    "\n");
  }
  violation.explanation = std::move(text);
  return violation;
}

}  // namespace

absl::string_view VerdictName(Verdict verdict) {
  switch (verdict) {
    case Verdict::kOk:
      return "ok";
    case Verdict::kViolation:
      return "violation";
    case Verdict::kUnknown:
      return "unknown";
  }
  return "?";
}

LinearizabilityResult CheckLinearizability(
    absl::Span<const Operation> operations,
    const LinearizabilityOptions& options) {
  LinearizabilityResult result;
  const std::map<std::string, KeyHistory> keys =
      PartitionByKey(operations, &result);
  bool violated = !result.scan_errors.empty();
  bool inconclusive = false;
  for (const auto& entry : keys) {
    KeyVerdict verdict;
    verdict.key = entry.first;
    verdict.operations = entry.second.ops.size();
    KeySearch search(entry.second, options);
    verdict.verdict = search.Run();
    verdict.search_steps = search.steps();
    if (verdict.verdict == Verdict::kViolation) {
      verdict.violation = search.Explain(operations, entry.first);
      violated = true;
    }
    inconclusive = inconclusive || verdict.verdict == Verdict::kUnknown;
    result.keys.push_back(std::move(verdict));
  }
  result.verdict = violated       ? Verdict::kViolation
                   : inconclusive ? Verdict::kUnknown
                                  : Verdict::kOk;
  return result;
}

std::string LinearizabilityResult::Summary() const {
  size_t violated = 0;
  size_t inconclusive = 0;
  for (const KeyVerdict& key : keys) {
    violated += key.verdict == Verdict::kViolation ? 1 : 0;
    inconclusive += key.verdict == Verdict::kUnknown ? 1 : 0;
  }
  std::string text = absl::StrCat(
      "linearizability: ", VerdictName(verdict), " (", keys.size(), " keys, ",
      violated, " violated, ", inconclusive, " inconclusive; ", scans_checked,
      " scans checked per key, ", scan_errors.size(), " malformed)\n");
  for (const std::string& error : scan_errors) {
    absl::StrAppend(&text, "scan error: ", error, "\n");
  }
  for (const KeyVerdict& key : keys) {
    if (key.verdict == Verdict::kViolation) {
      absl::StrAppend(&text, key.violation->explanation);
    } else if (key.verdict == Verdict::kUnknown) {
      absl::StrAppend(&text, "key ", Quoted(key.key),
                      ": inconclusive, search_steps_max reached after ",
                      key.search_steps, " steps over ", key.operations,
                      " operations\n");
    }
  }
  return text;
}

}  // namespace raftstore::sim
