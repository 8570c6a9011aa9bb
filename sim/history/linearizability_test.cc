#include "sim/history/linearizability.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/base/rng.h"
#include "gtest/gtest.h"
#include "rapidcheck/gtest.h"
#include "sim/history/history.h"
#include "sim/history/linearizability_brute_force.h"

namespace raftstore::sim {
namespace {

using Value = std::optional<std::string>;

Operation Done(Operation op, uint64_t call_us, uint64_t return_us) {
  op.call_us = call_us;
  op.return_us = return_us;
  op.outcome = Outcome::kOk;
  return op;
}

Operation Put(const std::string& key, const std::string& value,
              uint64_t call_us, uint64_t return_us) {
  return Done(PutCall(1, key, value), call_us, return_us);
}

Operation Get(const std::string& key, Value read, uint64_t call_us,
              uint64_t return_us) {
  Operation op = Done(GetCall(2, key), call_us, return_us);
  op.output.read = std::move(read);
  return op;
}

Operation Delete(const std::string& key, std::optional<bool> existed,
                 uint64_t call_us, uint64_t return_us) {
  Operation op = Done(DeleteCall(3, key), call_us, return_us);
  op.output.existed = existed;
  return op;
}

Operation Cas(const std::string& key, Value expected,
              const std::string& new_value, bool applied, uint64_t call_us,
              uint64_t return_us) {
  Operation op =
      Done(CasCall(4, key, std::move(expected), new_value), call_us, return_us);
  op.output.applied = applied;
  return op;
}

Operation Unknown(Operation op) {
  op.outcome = Outcome::kUnknown;
  op.return_us = 0;
  op.output = Output();
  return op;
}

Operation Failed(Operation op) {
  op.outcome = Outcome::kFail;
  op.output = Output();
  return op;
}

Verdict Check(const std::vector<Operation>& ops) {
  const LinearizabilityResult result = CheckLinearizability(ops);
  // Small histories double as cross-checks of the brute force.
  if (ops.size() <= kBruteForceOperationsMax) {
    bool has_scan = false;
    for (const Operation& op : ops) has_scan |= op.op == OpKind::kScan;
    if (!has_scan) {
      EXPECT_EQ(CheckLinearizabilityBruteForce(ops), result.verdict)
          << result.Summary();
    }
  }
  return result.verdict;
}

// --- histories that are linearizable ---

TEST(LinearizabilityTest, EmptyHistoryIsOk) {
  EXPECT_EQ(Check({}), Verdict::kOk);
}

TEST(LinearizabilityTest, SequentialHistoryIsOk) {
  EXPECT_EQ(Check({Get("k", std::nullopt, 0, 1), Put("k", "a", 2, 3),
                   Get("k", "a", 4, 5), Cas("k", "a", "b", true, 6, 7),
                   Cas("k", "a", "c", false, 8, 9), Get("k", "b", 10, 11),
                   Delete("k", true, 12, 13), Delete("k", false, 14, 15),
                   Cas("k", std::nullopt, "d", true, 16, 17)}),
            Verdict::kOk);
}

TEST(LinearizabilityTest, EmptyValueIsNotAbsent) {
  EXPECT_EQ(Check({Put("k", "", 0, 1), Get("k", "", 2, 3)}), Verdict::kOk);
  EXPECT_EQ(Check({Put("k", "", 0, 1), Get("k", std::nullopt, 2, 3)}),
            Verdict::kViolation);
}

TEST(LinearizabilityTest, ConcurrentWritesMayBeReadInEitherOrder) {
  for (const char* last : {"a", "b"}) {
    EXPECT_EQ(Check({Put("k", "a", 0, 10), Put("k", "b", 5, 15),
                     Get("k", last, 20, 30), Get("k", last, 40, 50)}),
              Verdict::kOk)
        << last;
  }
}

TEST(LinearizabilityTest, ReadConcurrentWithWriteMaySeeEitherValue) {
  for (const char* seen : {"a", "b"}) {
    EXPECT_EQ(Check({Put("k", "a", 0, 10), Put("k", "b", 20, 40),
                     Get("k", seen, 25, 35)}),
              Verdict::kOk)
        << seen;
  }
}

TEST(LinearizabilityTest, UnknownWriteMayOrMayNotTakeEffect) {
  const Operation unknown = Unknown(PutCall(5, "k", "b"));
  Operation late = unknown;
  late.call_us = 15;
  EXPECT_EQ(Check({Put("k", "a", 0, 10), late, Get("k", "a", 20, 30)}),
            Verdict::kOk);
  EXPECT_EQ(Check({Put("k", "a", 0, 10), late, Get("k", "b", 20, 30)}),
            Verdict::kOk);
  // It may take effect long after its call: a, then b.
  EXPECT_EQ(Check({Put("k", "a", 0, 10), late, Get("k", "a", 20, 30),
                   Get("k", "b", 40, 50)}),
            Verdict::kOk);
}

TEST(LinearizabilityTest, UnknownCasMayOrMayNotTakeEffect) {
  Operation cas = Unknown(CasCall(5, "k", "a", "b"));
  cas.call_us = 15;
  EXPECT_EQ(Check({Put("k", "a", 0, 10), cas, Get("k", "b", 20, 30)}),
            Verdict::kOk);
  EXPECT_EQ(Check({Put("k", "a", 0, 10), cas, Get("k", "a", 20, 30)}),
            Verdict::kOk);
  // It could only have applied where the value was "a".
  EXPECT_EQ(Check({Put("k", "c", 0, 10), cas, Get("k", "b", 20, 30)}),
            Verdict::kViolation);
}

TEST(LinearizabilityTest, UnknownWriteTakesEffectAtMostOnce) {
  Operation unknown = Unknown(PutCall(5, "k", "b"));
  unknown.call_us = 15;
  EXPECT_EQ(Check({Put("k", "a", 0, 10), unknown, Get("k", "b", 20, 30),
                   Put("k", "a", 40, 50), Get("k", "b", 60, 70)}),
            Verdict::kViolation);
}

TEST(LinearizabilityTest, UnknownWriteCannotTakeEffectBeforeItsCall) {
  Operation unknown = Unknown(PutCall(5, "k", "b"));
  unknown.call_us = 100;
  EXPECT_EQ(Check({unknown, Get("k", "b", 20, 30)}), Verdict::kViolation);
}

TEST(LinearizabilityTest, FailedAndUnknownReadsAreIgnored) {
  Operation failed_put = Failed(Put("k", "x", 5, 8));
  Operation failed_get = Failed(Get("k", "zzz", 5, 8));
  Operation unknown_get = Unknown(Get("k", "zzz", 5, 8));
  EXPECT_EQ(Check({Put("k", "a", 0, 10), failed_put, failed_get, unknown_get,
                   Get("k", "a", 20, 30)}),
            Verdict::kOk);
  // A failed write did not happen, so its value cannot be read.
  EXPECT_EQ(Check({Put("k", "a", 0, 10), failed_put, Get("k", "x", 20, 30)}),
            Verdict::kViolation);
}

TEST(LinearizabilityTest, ReturnAtTheInstantOfACallIsConcurrent) {
  EXPECT_EQ(Check({Put("k", "a", 0, 10), Get("k", std::nullopt, 10, 20)}),
            Verdict::kOk);
}

TEST(LinearizabilityTest, KeysAreIndependent) {
  EXPECT_EQ(Check({Put("a", "1", 0, 10), Put("b", "2", 0, 10),
                   Get("a", "1", 20, 30), Get("b", "2", 20, 30)}),
            Verdict::kOk);
}

// --- histories that are not ---

TEST(LinearizabilityTest, StaleReadAfterCompletedWriteFails) {
  EXPECT_EQ(Check({Put("k", "a", 0, 10), Put("k", "b", 20, 30),
                   Get("k", "a", 40, 50)}),
            Verdict::kViolation);
}

TEST(LinearizabilityTest, ReadOfValueNeverWrittenFails) {
  EXPECT_EQ(Check({Put("k", "a", 0, 10), Get("k", "q", 20, 30)}),
            Verdict::kViolation);
  EXPECT_EQ(Check({Get("k", "q", 20, 30)}), Verdict::kViolation);
}

TEST(LinearizabilityTest, LostCasFails) {
  EXPECT_EQ(Check({Put("k", "a", 0, 10), Cas("k", "a", "b", true, 20, 30),
                   Get("k", "a", 40, 50)}),
            Verdict::kViolation);
}

TEST(LinearizabilityTest, TwoCasAppliedFromTheSameExpectedValueFail) {
  EXPECT_EQ(Check({Put("k", "a", 0, 10), Cas("k", "a", "b", true, 20, 30),
                   Cas("k", "a", "c", true, 20, 30)}),
            Verdict::kViolation);
}

TEST(LinearizabilityTest, CasThatShouldHaveAppliedButDidNotFails) {
  EXPECT_EQ(Check({Put("k", "a", 0, 10), Cas("k", "a", "b", false, 20, 30)}),
            Verdict::kViolation);
  Operation cas = Cas("k", "a", "b", false, 20, 30);
  cas.output.previous_known = true;
  cas.output.previous = "c";
  EXPECT_EQ(Check({Put("k", "c", 0, 10), cas}), Verdict::kOk);
  cas.output.previous = "a";
  EXPECT_EQ(Check({Put("k", "c", 0, 10), cas}), Verdict::kViolation);
}

TEST(LinearizabilityTest, DeleteMustReportWhetherTheKeyExisted) {
  EXPECT_EQ(Check({Put("k", "a", 0, 10), Delete("k", false, 20, 30)}),
            Verdict::kViolation);
  EXPECT_EQ(Check({Put("k", "a", 0, 10), Delete("k", std::nullopt, 20, 30),
                   Get("k", std::nullopt, 40, 50)}),
            Verdict::kOk);
}

TEST(LinearizabilityTest, ReadGoingBackInTimeFails) {
  // Once a read saw the new value, a later read must not see the old one,
  // even though the write is still in flight.
  EXPECT_EQ(Check({Put("k", "a", 0, 10), Put("k", "b", 20, 100),
                   Get("k", "b", 30, 40), Get("k", "a", 50, 60)}),
            Verdict::kViolation);
}

TEST(LinearizabilityTest, ViolationExplainsKeyOperationsAndValue) {
  const std::vector<Operation> ops = {
      Put("k", "a", 0, 10), Put("k", "b", 20, 30), Put("k", "c", 35, 60),
      Get("k", "a", 40, 50), Put("other", "x", 0, 10)};
  const LinearizabilityResult result = CheckLinearizability(ops);
  ASSERT_EQ(result.keys.size(), 2U);
  const KeyVerdict& key = result.keys[0];
  EXPECT_EQ(result.keys[1].verdict, Verdict::kOk);
  ASSERT_EQ(key.verdict, Verdict::kViolation);
  ASSERT_TRUE(key.violation.has_value());
  const Violation& violation = *key.violation;
  EXPECT_EQ(violation.key, "k");
  EXPECT_EQ(violation.blocked, 3U);
  EXPECT_EQ(violation.possible_values, (std::vector<Value>{"b"}));
  EXPECT_EQ(violation.concurrent, (std::vector<size_t>{2}));
  EXPECT_EQ(violation.recent, (std::vector<size_t>{0, 1}));
  EXPECT_NE(violation.explanation.find("key \"k\""), std::string::npos);
  EXPECT_NE(
      violation.explanation.find("#3 client 2 get \"k\" -> \"a\" [40, 50] ok"),
      std::string::npos)
      << violation.explanation;
  EXPECT_NE(violation.explanation.find("one of {\"b\"}"), std::string::npos)
      << violation.explanation;
  EXPECT_NE(result.Summary().find("violation"), std::string::npos);
}

TEST(LinearizabilityTest, StepBoundGivesUnknownNotOk) {
  std::vector<Operation> ops;
  for (uint64_t i = 0; i < 20; ++i) ops.push_back(Put("k", "v", 0, 100));
  LinearizabilityOptions options;
  options.search_steps_max = 5;
  const LinearizabilityResult result = CheckLinearizability(ops, options);
  EXPECT_EQ(result.verdict, Verdict::kUnknown);
  EXPECT_EQ(result.keys[0].verdict, Verdict::kUnknown);
  EXPECT_NE(result.Summary().find("inconclusive"), std::string::npos);
}

// --- scans ---

Operation Scan(const std::string& start, std::optional<std::string> end,
               uint32_t limit,
               std::vector<std::pair<std::string, std::string>> pairs,
               uint64_t call_us, uint64_t return_us) {
  Operation op =
      Done(ScanCall(6, start, std::move(end), limit), call_us, return_us);
  op.output.pairs = std::move(pairs);
  return op;
}

TEST(LinearizabilityTest, ScansAreCheckedAsPerKeyReads) {
  const std::vector<Operation> writes = {
      Put("a", "1", 0, 10), Put("b", "2", 0, 10), Put("c", "3", 0, 10)};
  std::vector<Operation> ops = writes;
  ops.push_back(Scan("a", "c", 0, {{"a", "1"}, {"b", "2"}}, 20, 30));
  LinearizabilityResult result = CheckLinearizability(ops);
  EXPECT_EQ(result.verdict, Verdict::kOk) << result.Summary();
  EXPECT_EQ(result.scans_checked, 1U);
  // Missing "b", which the scan's range covered: a violation on "b".
  ops = writes;
  ops.push_back(Scan("a", "c", 0, {{"a", "1"}}, 20, 30));
  result = CheckLinearizability(ops);
  EXPECT_EQ(result.verdict, Verdict::kViolation);
  EXPECT_EQ(result.keys[1].verdict, Verdict::kViolation);
  // Cut short by its limit: "b" and "c" were not covered.
  ops = writes;
  ops.push_back(Scan("a", std::nullopt, 1, {{"a", "1"}}, 20, 30));
  EXPECT_EQ(CheckLinearizability(ops).verdict, Verdict::kOk);
}

TEST(LinearizabilityTest, MalformedScanOutputIsAViolation) {
  std::vector<Operation> ops = {
      Scan("a", "z", 0, {{"b", "1"}, {"a", "2"}}, 0, 10)};
  LinearizabilityResult result = CheckLinearizability(ops);
  EXPECT_EQ(result.verdict, Verdict::kViolation);
  ASSERT_EQ(result.scan_errors.size(), 1U);
  EXPECT_NE(result.scan_errors[0].find("out of order"), std::string::npos);
  ops = {Scan("a", "c", 0, {{"d", "1"}}, 0, 10)};
  EXPECT_EQ(CheckLinearizability(ops).verdict, Verdict::kViolation);
  ops = {Scan("a", "z", 1, {{"b", "1"}, {"c", "2"}}, 0, 10)};
  EXPECT_EQ(CheckLinearizability(ops).verdict, Verdict::kViolation);
}

// --- against the brute force ---

Value GenValue() {
  const int pick = *rc::gen::inRange(0, 4);
  if (pick == 0) return std::nullopt;
  return std::string(1, static_cast<char>('0' + pick));
}

// Small random histories over two keys and three values. Half of them get
// their outputs from a random sequential execution at random points inside
// each interval (so are linearizable unless an outcome says otherwise); the
// rest have random outputs (mostly not linearizable).
std::vector<Operation> GenSmallHistory() {
  const int count = *rc::gen::inRange(0, 10);
  std::vector<Operation> ops;
  std::vector<uint64_t> points;
  for (int i = 0; i < count; ++i) {
    const std::string key = *rc::gen::inRange(0, 6) == 0 ? "b" : "a";
    Operation op;
    switch (*rc::gen::inRange(0, 4)) {
      case 0:
        op = PutCall(i, key, GenValue().value_or(""));
        break;
      case 1:
        op = GetCall(i, key);
        break;
      case 2:
        op = DeleteCall(i, key);
        break;
      default:
        op = CasCall(i, key, GenValue(), GenValue().value_or("1"));
        break;
    }
    op.call_us = *rc::gen::inRange<uint64_t>(0, 20);
    op.return_us = op.call_us + *rc::gen::inRange<uint64_t>(0, 16);
    points.push_back(*rc::gen::inRange(op.call_us, op.return_us + 1));
    ops.push_back(op);
  }
  const bool consistent = *rc::gen::arbitrary<bool>();
  std::vector<size_t> order(ops.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&points](size_t x, size_t y) { return points[x] < points[y]; });
  std::map<std::string, std::string> store;
  for (size_t i : order) {
    Operation& op = ops[i];
    const int outcome = *rc::gen::inRange(0, 8);
    op.outcome = outcome == 0   ? Outcome::kFail
                 : outcome == 1 ? Outcome::kUnknown
                                : Outcome::kOk;
    // An unknown operation takes effect or not; a failed one does not.
    const bool takes_effect =
        op.outcome == Outcome::kOk ||
        (op.outcome == Outcome::kUnknown && *rc::gen::arbitrary<bool>());
    auto it = store.find(op.key);
    const Value current = it == store.end() ? Value() : Value(it->second);
    const bool match = current == op.expected;
    if (op.outcome == Outcome::kOk) {
      op.output.read =
          op.op == OpKind::kGet ? (consistent ? current : GenValue()) : Value();
      if (op.op == OpKind::kCas) {
        op.output.applied = consistent ? match : *rc::gen::arbitrary<bool>();
        op.output.previous_known = *rc::gen::arbitrary<bool>();
        if (op.output.previous_known) {
          op.output.previous = consistent ? current : GenValue();
        }
      }
      if (op.op == OpKind::kDelete && *rc::gen::arbitrary<bool>()) {
        op.output.existed =
            consistent ? current.has_value() : *rc::gen::arbitrary<bool>();
      }
    } else {
      op.return_us = op.outcome == Outcome::kUnknown ? 0 : op.return_us;
    }
    if (!takes_effect) continue;
    if (op.op == OpKind::kPut || (op.op == OpKind::kCas && match)) {
      store[op.key] = *op.value;
    } else if (op.op == OpKind::kDelete) {
      store.erase(op.key);
    }
  }
  return ops;
}

RC_GTEST_PROP(LinearizabilityTest, AgreesWithBruteForce, ()) {
  const std::vector<Operation> ops = GenSmallHistory();
  for (const Operation& op : ops) RC_ASSERT(ValidateOperation(op).ok());
  const LinearizabilityResult result = CheckLinearizability(ops);
  const Verdict brute = CheckLinearizabilityBruteForce(ops);
  RC_TAG(VerdictName(brute));
  RC_ASSERT(result.verdict == brute);
}

// --- a large generated history ---

// A linearizable history of `count` operations, shaped like the
// simulator's workload: `clients` closed-loop clients (one operation in
// flight each, so at most that many on one key at once), 5% of the
// operations on one hot key, 15% on four warm keys, the rest uniform over
// 300 keys; unique written values. Each operation takes effect
// at a point drawn inside its interval; outputs come from applying them in
// that order. Some operations fail (no effect) or end unknown (effect or
// not, at random).
struct LargeHistoryShape {
  uint64_t clients = 50;
  uint64_t duration_max_us = 2'000;
  uint64_t think_max_us = 200;
  uint64_t unknown_percent = 2;
};

std::string PickKey(Rng& rng) {
  const uint64_t pick = rng.Uniform(20);
  if (pick < 1) return "hot0";
  if (pick < 4) return absl::StrCat("warm", rng.Uniform(4));
  return absl::StrCat("key", rng.Uniform(300));
}

Operation RandomCall(Rng& rng, uint64_t client, size_t i,
                     const std::vector<std::string>& written) {
  const std::string key = PickKey(rng);
  const std::string value = absl::StrCat("v", i);
  switch (rng.Uniform(8)) {
    case 0:
    case 1:
    case 2:
      return PutCall(client, key, value);
    case 3:
      return DeleteCall(client, key);
    case 4: {
      // Expect a value written before (often the current one), or absent.
      Value expected;
      if (!written.empty() && rng.Chance(4, 5)) {
        expected = written[written.size() - 1 -
                           rng.Uniform(std::min<size_t>(written.size(), 8))];
      }
      return CasCall(client, key, expected, value);
    }
    default:
      return GetCall(client, key);
  }
}

std::vector<Operation> GenerateLargeHistory(uint64_t seed, size_t count,
                                            LargeHistoryShape shape = {}) {
  Rng rng(seed);
  std::vector<Operation> ops;
  std::vector<uint64_t> points;
  std::vector<uint64_t> client_free_us(shape.clients, 0);
  std::vector<std::string> written;
  for (size_t i = 0; i < count; ++i) {
    const uint64_t client = i % shape.clients;
    Operation op = RandomCall(rng, client, i, written);
    if (op.value.has_value()) written.push_back(*op.value);
    op.call_us = client_free_us[client] + rng.Uniform(shape.think_max_us + 1);
    op.return_us = op.call_us + 1 + rng.Uniform(shape.duration_max_us);
    client_free_us[client] = op.return_us;
    points.push_back(rng.Range(op.call_us, op.return_us));
    const uint64_t outcome = rng.Uniform(100);
    op.outcome = outcome < 3                           ? Outcome::kFail
                 : outcome < 3 + shape.unknown_percent ? Outcome::kUnknown
                                                       : Outcome::kOk;
    ops.push_back(op);
  }
  std::vector<size_t> order(count);
  for (size_t i = 0; i < count; ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&points](size_t x, size_t y) {
    return std::pair(points[x], x) < std::pair(points[y], y);
  });
  std::map<std::string, std::string> store;
  for (size_t i : order) {
    Operation& op = ops[i];
    if (op.outcome == Outcome::kFail) continue;
    if (op.outcome == Outcome::kUnknown) {
      op.return_us = 0;
      if (rng.Chance(1, 2)) continue;  // never took effect
    }
    auto it = store.find(op.key);
    const Value current = it == store.end() ? Value() : Value(it->second);
    const bool match = current == op.expected;
    if (op.outcome == Outcome::kOk) {
      if (op.op == OpKind::kGet) op.output.read = current;
      if (op.op == OpKind::kCas) op.output.applied = match;
      if (op.op == OpKind::kDelete) op.output.existed = current.has_value();
    }
    if (op.op == OpKind::kPut || (op.op == OpKind::kCas && match)) {
      store[op.key] = *op.value;
    } else if (op.op == OpKind::kDelete) {
      store.erase(op.key);
    }
  }
  return ops;
}

// The most operations of one key in flight at once (unknown ones count
// until the end).
size_t MaxConcurrency(const std::vector<Operation>& ops,
                      const std::string& key) {
  std::vector<std::pair<uint64_t, int>> events;
  for (const Operation& op : ops) {
    if (op.key != key || op.outcome == Outcome::kFail) continue;
    events.emplace_back(op.call_us, 1);
    if (op.outcome == Outcome::kOk) events.emplace_back(op.return_us + 1, -1);
  }
  std::sort(events.begin(), events.end());
  size_t open = 0;
  size_t max = 0;
  for (const auto& event : events) {
    open = static_cast<size_t>(static_cast<int64_t>(open) + event.second);
    max = std::max(max, open);
  }
  return max;
}

TEST(LinearizabilityTest, LargeGeneratedHistoryIsOkWithinTheStepBound) {
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    const std::vector<Operation> ops = GenerateLargeHistory(seed, 10'000);
    const LinearizabilityResult result = CheckLinearizability(ops);
    EXPECT_EQ(result.verdict, Verdict::kOk) << "seed " << seed << "\n"
                                            << result.Summary();
    uint64_t steps = 0;
    for (const KeyVerdict& key : result.keys) steps += key.search_steps;
    RecordProperty(absl::StrCat("steps_seed_", seed), std::to_string(steps));
    RecordProperty(absl::StrCat("hot_concurrency_seed_", seed),
                   std::to_string(MaxConcurrency(ops, "hot0")));
  }
}

TEST(LinearizabilityTest, LargeHistoryWithOneStaleReadIsAViolation) {
  std::vector<Operation> ops = GenerateLargeHistory(7, 10'000);
  uint64_t end_us = 0;
  for (const Operation& op : ops) end_us = std::max(end_us, op.return_us);
  // A read long after everything else, of a value no longer there.
  ops.push_back(Put("hot0", "fresh", end_us + 10, end_us + 20));
  ops.push_back(Get("hot0", "stale", end_us + 30, end_us + 40));
  const LinearizabilityResult result = CheckLinearizability(ops);
  EXPECT_EQ(result.verdict, Verdict::kViolation);
  for (const KeyVerdict& key : result.keys) {
    EXPECT_EQ(key.verdict,
              key.key == "hot0" ? Verdict::kViolation : Verdict::kOk)
        << key.key;
  }
}

}  // namespace
}  // namespace raftstore::sim
