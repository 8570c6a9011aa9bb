// The client history of a simulation: every operation a client invoked, with
// its arguments, when it was called, when (and whether) it returned, and what
// it returned. The linearizability checker (linearizability.h) reads it; the
// JSON-lines codec (history_json.h, docs/history-format.md) writes and reads
// it for the failure report and `raftstore check-history`.
//
// Outcomes (docs/history-format.md):
// - kOk: the operation took effect once, somewhere between call and return,
//   and returned `output`.
// - kFail: the operation definitely did not take effect (the store refused
//   it before proposing: NotLeader, EpochNotMatch, ServerBusy, ...). A CAS
//   whose comparison failed is NOT kFail: it ran, so it is kOk with
//   output.applied == false.
// - kUnknown: the client does not know (timed out, its node crashed): the
//   operation may or may not have taken effect, at any time after its call.
//   Operations still pending when the recording ends are kUnknown too.
//
// Thread-safety: none; the simulator is single-threaded by design.
#ifndef RAFTSTORE_SIM_HISTORY_HISTORY_H_
#define RAFTSTORE_SIM_HISTORY_HISTORY_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace raftstore::sim {

enum class OpKind { kPut, kGet, kDelete, kCas, kScan };
enum class Outcome { kOk, kFail, kUnknown };

// "put", "get", "delete", "cas", "scan": the names in the JSON format.
absl::string_view OpKindName(OpKind op);
// "ok", "fail", "unknown".
absl::string_view OutcomeName(Outcome outcome);
// The inverse of the above; nullopt for an unknown name.
std::optional<OpKind> ParseOpKind(absl::string_view name);
std::optional<Outcome> ParseOutcome(absl::string_view name);

// What a completed operation returned. Only the fields of the operation's
// kind are meaningful; the others stay at their defaults (so that two equal
// histories compare equal field by field).
struct Output {
  // kGet: the value read; nullopt when the key was absent (an empty string
  // is a present, empty value).
  std::optional<std::string> read;
  // kCas: whether the swap happened.
  bool applied = false;
  // kCas: whether `previous` holds the value before the CAS (the API returns
  // it; a client may not record it).
  bool previous_known = false;
  // kCas, when previous_known: the value before the CAS; nullopt = absent.
  std::optional<std::string> previous;
  // kDelete: whether the key existed before the delete, if the client
  // recorded it; nullopt = not recorded.
  std::optional<bool> existed;
  // kScan: the (key, value) pairs returned, in the order returned.
  std::vector<std::pair<std::string, std::string>> pairs;

  bool operator==(const Output&) const = default;
};

struct Operation {
  uint64_t client = 0;
  OpKind op = OpKind::kGet;
  // The key; for kScan the first key of the range (inclusive).
  std::string key;
  // kPut: the value written. kCas: the new value. Unset for other kinds.
  std::optional<std::string> value;
  // kCas: the expected current value; nullopt = expects the key absent.
  std::optional<std::string> expected;
  // kScan: the end of the range (exclusive); nullopt = no end. A scan's
  // output holds every key of [key, end_key), in order, cut short only by
  // `limit`; a client that stitches region-bounded scans records the range
  // it actually covered.
  std::optional<std::string> end_key;
  // kScan: at most this many pairs; 0 = no limit.
  uint32_t limit = 0;
  // Meaningful only when outcome == kOk.
  Output output;
  // Virtual microseconds (SimClock). return_us >= call_us; return_us is 0
  // and meaningless when outcome == kUnknown.
  uint64_t call_us = 0;
  uint64_t return_us = 0;
  Outcome outcome = Outcome::kUnknown;

  bool operator==(const Operation&) const = default;
};

// Builders for the call half of an operation (outcome kUnknown, no output,
// times unset), to hand to History::Invoke.
Operation PutCall(uint64_t client, std::string key, std::string value);
Operation GetCall(uint64_t client, std::string key);
Operation DeleteCall(uint64_t client, std::string key);
// `expected` nullopt: swap only if the key is absent.
Operation CasCall(uint64_t client, std::string key,
                  std::optional<std::string> expected, std::string new_value);
Operation ScanCall(uint64_t client, std::string start_key,
                   std::optional<std::string> end_key, uint32_t limit);

// Checks the invariants of one operation read from outside (the JSON
// reader uses it): fields match the kind, return_us >= call_us for a
// completed operation, no output unless kOk. Returns kInvalidArgument naming
// the field otherwise.
absl::Status ValidateOperation(const Operation& operation);

// One line for reports: `#id client C get "k" -> "v" [call, return] ok`,
// bytes C-escaped, "absent" for a missing value, "?" for an unknown return.
std::string DescribeOperation(const Operation& operation, size_t id);

// The recorder the simulator's clients use: Invoke at call time, Complete at
// return. An operation's id is its index in operations(), in call order.
class History {
 public:
  // Enough for long simulation runs; the checker handles far more per key
  // than a run of this size produces.
  static constexpr size_t kOperationsMaxDefault = size_t{1} << 20;

  explicit History(size_t operations_max = kOperationsMaxDefault);

  // Records the call of `call` (built by PutCall etc.; its output, times and
  // outcome are ignored) at `call_us`, which must not be before the previous
  // call (simulated time does not run backwards). Returns its id, or
  // kResourceExhausted once operations_max operations are recorded: the
  // client should then stop issuing operations.
  absl::StatusOr<size_t> Invoke(Operation call, uint64_t call_us);

  // Records the return of operation `id` (from Invoke, not yet completed).
  // For kOk, `output` is what it returned (fields of its kind only); for
  // kFail and kUnknown the output is dropped and, for kUnknown, return_us
  // too. Requires return_us >= its call time. Crashes on a bad id or a
  // second completion: both are bugs in the client.
  void Complete(size_t id, Outcome outcome, Output output, uint64_t return_us);

  // Whether operation `id` has been completed (by Complete).
  bool completed(size_t id) const;
  bool full() const { return operations_.size() >= operations_max_; }
  size_t operations_max() const { return operations_max_; }

  // Every operation in call order. Pending (never completed) operations
  // appear with outcome kUnknown, which is what they are.
  const std::vector<Operation>& operations() const { return operations_; }

 private:
  size_t operations_max_;
  uint64_t last_call_us_ = 0;
  std::vector<Operation> operations_;
  std::vector<bool> completed_;
};

}  // namespace raftstore::sim

#endif  // RAFTSTORE_SIM_HISTORY_HISTORY_H_
