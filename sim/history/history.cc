#include "sim/history/history.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "core/base/check.h"

namespace raftstore::sim {
namespace {

constexpr std::pair<OpKind, absl::string_view> kOpKindNames[] = {
    {OpKind::kPut, "put"}, {OpKind::kGet, "get"},   {OpKind::kDelete, "delete"},
    {OpKind::kCas, "cas"}, {OpKind::kScan, "scan"},
};
constexpr std::pair<Outcome, absl::string_view> kOutcomeNames[] = {
    {Outcome::kOk, "ok"},
    {Outcome::kFail, "fail"},
    {Outcome::kUnknown, "unknown"},
};

Operation Call(uint64_t client, OpKind op, std::string key) {
  Operation call;
  call.client = client;
  call.op = op;
  call.key = std::move(key);
  return call;
}

absl::Status Invalid(absl::string_view field, absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("field \"", field, "\": ", what));
}

// The output fields a kind may set; everything else must be at its default.
absl::Status ValidateOutput(const Operation& operation) {
  const Output& out = operation.output;
  const Output empty;
  if (operation.outcome != Outcome::kOk) {
    if (out != empty) return Invalid("output", "set on an operation not ok");
    return absl::OkStatus();
  }
  Output own = empty;
  switch (operation.op) {
    case OpKind::kPut:
      break;
    case OpKind::kGet:
      own.read = out.read;
      break;
    case OpKind::kDelete:
      own.existed = out.existed;
      break;
    case OpKind::kCas:
      own.applied = out.applied;
      own.previous_known = out.previous_known;
      own.previous = out.previous;
      if (!out.previous_known && out.previous.has_value()) {
        return Invalid("previous", "set but previous_known is false");
      }
      break;
    case OpKind::kScan:
      own.pairs = out.pairs;
      break;
  }
  if (own != out) {
    return Invalid("output",
                   absl::StrCat("has fields that a ", OpKindName(operation.op),
                                " does not return"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::string_view OpKindName(OpKind op) {
  for (const auto& entry : kOpKindNames) {
    if (entry.first == op) return entry.second;
  }
  RS_CHECK(false) << "unknown OpKind " << static_cast<int>(op);
  return "";
}

absl::string_view OutcomeName(Outcome outcome) {
  for (const auto& entry : kOutcomeNames) {
    if (entry.first == outcome) return entry.second;
  }
  RS_CHECK(false) << "unknown Outcome " << static_cast<int>(outcome);
  return "";
}

std::optional<OpKind> ParseOpKind(absl::string_view name) {
  for (const auto& entry : kOpKindNames) {
    if (entry.second == name) return entry.first;
  }
  return std::nullopt;
}

std::optional<Outcome> ParseOutcome(absl::string_view name) {
  for (const auto& entry : kOutcomeNames) {
    if (entry.second == name) return entry.first;
  }
  return std::nullopt;
}

Operation PutCall(uint64_t client, std::string key, std::string value) {
  Operation call = Call(client, OpKind::kPut, std::move(key));
  call.value = std::move(value);
  return call;
}

Operation GetCall(uint64_t client, std::string key) {
  return Call(client, OpKind::kGet, std::move(key));
}

Operation DeleteCall(uint64_t client, std::string key) {
  return Call(client, OpKind::kDelete, std::move(key));
}

Operation CasCall(uint64_t client, std::string key,
                  std::optional<std::string> expected, std::string new_value) {
  Operation call = Call(client, OpKind::kCas, std::move(key));
  call.expected = std::move(expected);
  call.value = std::move(new_value);
  return call;
}

Operation ScanCall(uint64_t client, std::string start_key,
                   std::optional<std::string> end_key, uint32_t limit) {
  Operation call = Call(client, OpKind::kScan, std::move(start_key));
  call.end_key = std::move(end_key);
  call.limit = limit;
  return call;
}

absl::Status ValidateOperation(const Operation& operation) {
  const bool writes_value =
      operation.op == OpKind::kPut || operation.op == OpKind::kCas;
  if (writes_value != operation.value.has_value()) {
    return Invalid("value",
                   writes_value ? "missing" : "set on a read or delete");
  }
  if (operation.op != OpKind::kCas && operation.expected.has_value()) {
    return Invalid("expected", "set on an operation that is not a cas");
  }
  if (operation.op != OpKind::kScan &&
      (operation.end_key.has_value() || operation.limit != 0)) {
    return Invalid("end_key",
                   "end_key or limit set on an operation that is "
                   "not a scan");
  }
  if (operation.outcome == Outcome::kUnknown) {
    if (operation.return_us != 0) {
      return Invalid("return", "set on an operation with unknown outcome");
    }
  } else if (operation.return_us < operation.call_us) {
    return Invalid("return",
                   absl::StrCat("return ", operation.return_us,
                                " is before call ", operation.call_us));
  }
  return ValidateOutput(operation);
}

namespace {

std::string Quoted(const std::optional<std::string>& bytes) {
  if (!bytes.has_value()) return "absent";
  return absl::StrCat("\"", absl::CHexEscape(*bytes), "\"");
}

std::string DescribeOutput(const Operation& operation) {
  const Output& out = operation.output;
  switch (operation.op) {
    case OpKind::kPut:
      return "";
    case OpKind::kGet:
      return absl::StrCat(" -> ", Quoted(out.read));
    case OpKind::kDelete:
      if (!out.existed.has_value()) return "";
      return *out.existed ? " -> existed" : " -> did not exist";
    case OpKind::kCas: {
      std::string text = out.applied ? " -> applied" : " -> not applied";
      if (out.previous_known) {
        absl::StrAppend(&text, " (previous ", Quoted(out.previous), ")");
      }
      return text;
    }
    case OpKind::kScan: {
      std::string text = " -> [";
      for (const auto& pair : out.pairs) {
        absl::StrAppend(&text, text.size() > 5 ? ", " : "", Quoted(pair.first),
                        "=", Quoted(pair.second));
      }
      return text + "]";
    }
  }
  return "";
}

}  // namespace

std::string DescribeOperation(const Operation& operation, size_t id) {
  std::string text =
      absl::StrCat("#", id, " client ", operation.client, " ",
                   OpKindName(operation.op), " ", Quoted(operation.key));
  if (operation.op == OpKind::kCas) {
    absl::StrAppend(&text, " expected ", Quoted(operation.expected));
  }
  if (operation.value.has_value()) {
    absl::StrAppend(&text, " ", Quoted(operation.value));
  }
  if (operation.op == OpKind::kScan) {
    absl::StrAppend(&text, " to ",
                    operation.end_key.has_value() ? Quoted(operation.end_key)
                                                  : std::string("end"),
                    " limit ", operation.limit);
  }
  if (operation.outcome == Outcome::kOk) {
    absl::StrAppend(&text, DescribeOutput(operation));
  }
  absl::StrAppend(&text, " [", operation.call_us, ", ",
                  operation.outcome == Outcome::kUnknown
                      ? std::string("?")
                      : absl::StrCat(operation.return_us),
                  "] ", OutcomeName(operation.outcome));
  return text;
}

History::History(size_t operations_max) : operations_max_(operations_max) {
  RS_CHECK_GT(operations_max_, 0U);
}

absl::StatusOr<size_t> History::Invoke(Operation call, uint64_t call_us) {
  if (full()) {
    return absl::ResourceExhaustedError(
        absl::StrCat("client history is full: operations_max=", operations_max_,
                     " operations recorded"));
  }
  RS_CHECK_GE(call_us, last_call_us_) << "calls must be recorded in time order";
  last_call_us_ = call_us;
  call.output = Output();
  call.call_us = call_us;
  call.return_us = 0;
  call.outcome = Outcome::kUnknown;
  RS_CHECK(ValidateOperation(call).ok()) << ValidateOperation(call).message();
  operations_.push_back(std::move(call));
  completed_.push_back(false);
  return operations_.size() - 1;
}

void History::Complete(size_t id, Outcome outcome, Output output,
                       uint64_t return_us) {
  RS_CHECK_LT(id, operations_.size()) << "no such operation";
  RS_CHECK(!completed_[id]) << "operation " << id << " completed twice";
  Operation& operation = operations_[id];
  RS_CHECK_GE(return_us, operation.call_us) << "operation " << id;
  completed_[id] = true;
  operation.outcome = outcome;
  if (outcome == Outcome::kOk) {
    operation.output = std::move(output);
    operation.return_us = return_us;
  } else {
    operation.output = Output();
    operation.return_us = outcome == Outcome::kFail ? return_us : 0;
  }
  RS_CHECK(ValidateOperation(operation).ok())
      << "operation " << id << ": " << ValidateOperation(operation).message();
}

bool History::completed(size_t id) const {
  RS_CHECK_LT(id, completed_.size());
  return completed_[id];
}

}  // namespace raftstore::sim
