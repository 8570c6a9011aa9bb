#include "sim/history/history_json.h"

#include <cstdint>
#include <exception>
#include <limits>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "nlohmann/json.hpp"

namespace raftstore::sim {
namespace {

using Json = nlohmann::json;
// Written objects keep their fields in insertion order (the order of the
// format page) rather than sorted: easier to read, equally deterministic.
using OrderedJson = nlohmann::ordered_json;

constexpr absl::string_view kBase64Field = "base64";
// Every field a line may hold; anything else is a typo to report.
constexpr absl::string_view kFields[] = {
    "client", "op",     "key",      "value", "expected", "end_key",
    "limit",  "output", "previous", "call",  "return",   "outcome",
};

// Length of the UTF-8 sequence starting at `lead`, or 0 if it cannot start
// one; sets the allowed range of the second byte (which is where overlong
// forms, surrogates and code points past U+10FFFF are excluded).
int Utf8SequenceLength(uint8_t lead, uint8_t* second_low,
                       uint8_t* second_high) {
  *second_low = 0x80;
  *second_high = 0xBF;
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return 2;
  if (lead >= 0xE0 && lead <= 0xEF) {
    if (lead == 0xE0) *second_low = 0xA0;
    if (lead == 0xED) *second_high = 0x9F;
    return 3;
  }
  if (lead >= 0xF0 && lead <= 0xF4) {
    if (lead == 0xF0) *second_low = 0x90;
    if (lead == 0xF4) *second_high = 0x8F;
    return 4;
  }
  return 0;
}

OrderedJson BytesToJson(const std::string& bytes) {
  if (IsValidUtf8(bytes)) return OrderedJson(bytes);
  OrderedJson object = OrderedJson::object();
  object[std::string(kBase64Field)] = absl::Base64Escape(bytes);
  return object;
}

OrderedJson OptionalBytesToJson(const std::optional<std::string>& bytes) {
  return bytes.has_value() ? BytesToJson(*bytes) : OrderedJson(nullptr);
}

OrderedJson OutputToJson(const Operation& operation) {
  const Output& out = operation.output;
  switch (operation.op) {
    case OpKind::kGet:
      return OptionalBytesToJson(out.read);
    case OpKind::kDelete:
      return OrderedJson(*out.existed);
    case OpKind::kCas:
      return OrderedJson(out.applied);
    case OpKind::kScan: {
      OrderedJson pairs = OrderedJson::array();
      for (const auto& pair : out.pairs) {
        pairs.push_back(OrderedJson::array(
            {BytesToJson(pair.first), BytesToJson(pair.second)}));
      }
      return pairs;
    }
    case OpKind::kPut:
      break;
  }
  RS_CHECK(false) << "a put has no output";
  return nullptr;
}

bool HasOutput(const Operation& operation) {
  if (operation.outcome != Outcome::kOk) return false;
  if (operation.op == OpKind::kPut) return false;
  if (operation.op == OpKind::kDelete) {
    return operation.output.existed.has_value();
  }
  return true;
}

// Reads the fields of one parsed line; every error names its field.
class LineReader {
 public:
  explicit LineReader(const Json& line) : line_(line) {}

  // The field, or nullptr when absent.
  const Json* Find(absl::string_view field) const {
    auto it = line_.find(std::string(field));
    return it == line_.end() ? nullptr : &*it;
  }
  // Absent and null are the same for optional fields.
  bool Present(absl::string_view field) const {
    const Json* value = Find(field);
    return value != nullptr && !value->is_null();
  }

  absl::StatusOr<uint64_t> Unsigned(absl::string_view field) const {
    const Json* value = Find(field);
    if (value == nullptr) return Invalid(field, "missing");
    if (!value->is_number_unsigned()) {
      return Invalid(field, "not an unsigned integer");
    }
    return value->get<uint64_t>();
  }

  absl::StatusOr<std::string> String(absl::string_view field) const {
    const Json* value = Find(field);
    if (value == nullptr) return Invalid(field, "missing");
    if (!value->is_string()) return Invalid(field, "not a string");
    return value->get<std::string>();
  }

  absl::StatusOr<std::string> Bytes(absl::string_view field) const {
    const Json* value = Find(field);
    if (value == nullptr) return Invalid(field, "missing");
    return BytesFrom(*value, field);
  }

  // null (or absent) is nullopt.
  absl::StatusOr<std::optional<std::string>> OptionalBytes(
      absl::string_view field) const {
    if (!Present(field)) return std::optional<std::string>();
    absl::StatusOr<std::string> bytes = BytesFrom(*Find(field), field);
    if (!bytes.ok()) return bytes.status();
    return std::optional<std::string>(*std::move(bytes));
  }

  static absl::StatusOr<std::string> BytesFrom(const Json& value,
                                               absl::string_view field) {
    if (value.is_string()) return value.get<std::string>();
    if (!value.is_object() || value.size() != 1 ||
        !value.begin().value().is_string() ||
        value.begin().key() != kBase64Field) {
      return Invalid(field, "not a string or an object {\"base64\": \"...\"}");
    }
    std::string bytes;
    if (!absl::Base64Unescape(value.begin().value().get<std::string>(),
                              &bytes)) {
      return Invalid(field, "invalid base64");
    }
    return bytes;
  }

  static absl::Status Invalid(absl::string_view field, absl::string_view what) {
    return absl::InvalidArgumentError(
        absl::StrCat("field \"", field, "\": ", what));
  }

 private:
  const Json& line_;
};

absl::Status RejectUnknownFields(const Json& line) {
  for (auto it = line.begin(); it != line.end(); ++it) {
    bool known = false;
    for (absl::string_view field : kFields) known = known || it.key() == field;
    if (!known) return LineReader::Invalid(it.key(), "unknown field");
  }
  return absl::OkStatus();
}

// A field that only some kinds of operation carry.
absl::Status RejectIfPresent(const LineReader& reader, absl::string_view field,
                             OpKind op) {
  if (!reader.Present(field)) return absl::OkStatus();
  return LineReader::Invalid(field,
                             absl::StrCat("not allowed on a ", OpKindName(op)));
}

absl::Status ReadArguments(const LineReader& reader, Operation* operation) {
  const OpKind op = operation->op;
  if (op == OpKind::kPut || op == OpKind::kCas) {
    absl::StatusOr<std::string> value = reader.Bytes("value");
    if (!value.ok()) return value.status();
    operation->value = *std::move(value);
  } else if (absl::Status s = RejectIfPresent(reader, "value", op); !s.ok()) {
    return s;
  }
  if (op == OpKind::kCas) {
    if (reader.Find("expected") == nullptr) {
      return LineReader::Invalid("expected", "missing (null: expects absent)");
    }
    absl::StatusOr<std::optional<std::string>> expected =
        reader.OptionalBytes("expected");
    if (!expected.ok()) return expected.status();
    operation->expected = *std::move(expected);
  } else if (absl::Status s = RejectIfPresent(reader, "expected", op);
             !s.ok()) {
    return s;
  }
  if (op != OpKind::kScan) {
    if (absl::Status s = RejectIfPresent(reader, "end_key", op); !s.ok()) {
      return s;
    }
    return RejectIfPresent(reader, "limit", op);
  }
  absl::StatusOr<std::optional<std::string>> end_key =
      reader.OptionalBytes("end_key");
  if (!end_key.ok()) return end_key.status();
  operation->end_key = *std::move(end_key);
  if (reader.Present("limit")) {
    absl::StatusOr<uint64_t> limit = reader.Unsigned("limit");
    if (!limit.ok()) return limit.status();
    if (*limit > std::numeric_limits<uint32_t>::max()) {
      return LineReader::Invalid("limit", "larger than 2^32-1");
    }
    operation->limit = static_cast<uint32_t>(*limit);
  }
  return absl::OkStatus();
}

absl::Status ReadScanPairs(const Json& output, Output* out) {
  if (!output.is_array()) return LineReader::Invalid("output", "not an array");
  for (const Json& pair : output) {
    if (!pair.is_array() || pair.size() != 2) {
      return LineReader::Invalid("output", "a scan pair is not [key, value]");
    }
    absl::StatusOr<std::string> key = LineReader::BytesFrom(pair[0], "output");
    if (!key.ok()) return key.status();
    absl::StatusOr<std::string> value =
        LineReader::BytesFrom(pair[1], "output");
    if (!value.ok()) return value.status();
    out->pairs.emplace_back(*std::move(key), *std::move(value));
  }
  return absl::OkStatus();
}

absl::Status ReadCasOutput(const LineReader& reader, Output* out) {
  const Json* applied = reader.Find("output");
  if (applied == nullptr || !applied->is_boolean()) {
    return LineReader::Invalid("output", "a cas needs true or false");
  }
  out->applied = applied->get<bool>();
  if (reader.Find("previous") != nullptr) {
    absl::StatusOr<std::optional<std::string>> previous =
        reader.OptionalBytes("previous");
    if (!previous.ok()) return previous.status();
    out->previous_known = true;
    out->previous = *std::move(previous);
  }
  return absl::OkStatus();
}

// The output of an ok operation (the other outcomes carry none).
absl::Status ReadOutput(const LineReader& reader, Operation* operation) {
  Output* out = &operation->output;
  const OpKind op = operation->op;
  if (op == OpKind::kCas) return ReadCasOutput(reader, out);
  if (absl::Status s = RejectIfPresent(reader, "previous", op); !s.ok()) {
    return s;
  }
  switch (op) {
    case OpKind::kPut:
      return RejectIfPresent(reader, "output", op);
    case OpKind::kGet: {
      if (reader.Find("output") == nullptr) {
        return LineReader::Invalid("output", "missing (null: key absent)");
      }
      absl::StatusOr<std::optional<std::string>> read =
          reader.OptionalBytes("output");
      if (!read.ok()) return read.status();
      out->read = *std::move(read);
      return absl::OkStatus();
    }
    case OpKind::kDelete: {
      if (!reader.Present("output")) return absl::OkStatus();
      const Json& existed = *reader.Find("output");
      if (!existed.is_boolean()) {
        return LineReader::Invalid("output", "a delete's is true or false");
      }
      out->existed = existed.get<bool>();
      return absl::OkStatus();
    }
    case OpKind::kScan:
      if (reader.Find("output") == nullptr) {
        return LineReader::Invalid("output", "missing");
      }
      return ReadScanPairs(*reader.Find("output"), out);
    case OpKind::kCas:
      break;
  }
  return absl::OkStatus();
}

absl::Status ReadTimesAndOutcome(const LineReader& reader,
                                 Operation* operation) {
  absl::StatusOr<std::string> outcome_name = reader.String("outcome");
  if (!outcome_name.ok()) return outcome_name.status();
  std::optional<Outcome> outcome = ParseOutcome(*outcome_name);
  if (!outcome.has_value()) {
    return LineReader::Invalid(
        "outcome",
        absl::StrCat("\"", *outcome_name, "\" is not ok, fail or unknown"));
  }
  operation->outcome = *outcome;
  absl::StatusOr<uint64_t> call = reader.Unsigned("call");
  if (!call.ok()) return call.status();
  operation->call_us = *call;
  if (*outcome == Outcome::kUnknown) {
    if (reader.Present("return")) {
      return LineReader::Invalid("return", "must be null when unknown");
    }
  } else {
    absl::StatusOr<uint64_t> return_us = reader.Unsigned("return");
    if (!return_us.ok()) return return_us.status();
    operation->return_us = *return_us;
  }
  if (*outcome == Outcome::kOk) return ReadOutput(reader, operation);
  if (reader.Present("output") || reader.Present("previous")) {
    return LineReader::Invalid(reader.Present("output") ? "output" : "previous",
                               "only an ok operation has an output");
  }
  return absl::OkStatus();
}

absl::StatusOr<Operation> ReadOperation(const Json& line) {
  if (!line.is_object()) {
    return absl::InvalidArgumentError("the line is not a JSON object");
  }
  if (absl::Status s = RejectUnknownFields(line); !s.ok()) return s;
  const LineReader reader(line);
  Operation operation;
  absl::StatusOr<uint64_t> client = reader.Unsigned("client");
  if (!client.ok()) return client.status();
  operation.client = *client;
  absl::StatusOr<std::string> op_name = reader.String("op");
  if (!op_name.ok()) return op_name.status();
  std::optional<OpKind> op = ParseOpKind(*op_name);
  if (!op.has_value()) {
    return LineReader::Invalid(
        "op", absl::StrCat("\"", *op_name,
                           "\" is not put, get, delete, cas or scan"));
  }
  operation.op = *op;
  absl::StatusOr<std::string> key = reader.Bytes("key");
  if (!key.ok()) return key.status();
  operation.key = *std::move(key);
  if (absl::Status s = ReadArguments(reader, &operation); !s.ok()) return s;
  if (absl::Status s = ReadTimesAndOutcome(reader, &operation); !s.ok()) {
    return s;
  }
  if (absl::Status s = ValidateOperation(operation); !s.ok()) return s;
  return operation;
}

}  // namespace

bool IsValidUtf8(absl::string_view bytes) {
  size_t i = 0;
  while (i < bytes.size()) {
    uint8_t low = 0;
    uint8_t high = 0;
    const int length =
        Utf8SequenceLength(static_cast<uint8_t>(bytes[i]), &low, &high);
    if (length == 0 || bytes.size() - i < static_cast<size_t>(length)) {
      return false;
    }
    for (int k = 1; k < length; ++k) {
      const auto byte = static_cast<uint8_t>(bytes[i + k]);
      if (byte < (k == 1 ? low : 0x80) || byte > (k == 1 ? high : 0xBF)) {
        return false;
      }
    }
    i += static_cast<size_t>(length);
  }
  return true;
}

std::string OperationToJsonLine(const Operation& operation) {
  const absl::Status valid = ValidateOperation(operation);
  RS_CHECK(valid.ok()) << valid.message();
  OrderedJson line = OrderedJson::object();
  line["client"] = operation.client;
  line["op"] = std::string(OpKindName(operation.op));
  line["key"] = BytesToJson(operation.key);
  if (operation.value.has_value())
    line["value"] = BytesToJson(*operation.value);
  if (operation.op == OpKind::kCas) {
    line["expected"] = OptionalBytesToJson(operation.expected);
  }
  if (operation.op == OpKind::kScan) {
    line["end_key"] = OptionalBytesToJson(operation.end_key);
    line["limit"] = operation.limit;
  }
  if (HasOutput(operation)) line["output"] = OutputToJson(operation);
  if (operation.outcome == Outcome::kOk && operation.output.previous_known) {
    line["previous"] = OptionalBytesToJson(operation.output.previous);
  }
  line["call"] = operation.call_us;
  if (operation.outcome == Outcome::kUnknown) {
    line["return"] = nullptr;
  } else {
    line["return"] = operation.return_us;
  }
  line["outcome"] = std::string(OutcomeName(operation.outcome));
  // Strict: every string written is valid UTF-8 (checked above), so this
  // never throws; ensure_ascii off keeps readable keys readable.
  return line.dump(-1, ' ', false, Json::error_handler_t::strict);
}

std::string HistoryToJsonLines(absl::Span<const Operation> operations) {
  std::string out;
  for (const Operation& operation : operations) {
    absl::StrAppend(&out, OperationToJsonLine(operation), "\n");
  }
  return out;
}

absl::StatusOr<Operation> OperationFromJsonLine(absl::string_view line) {
  Json parsed;
  try {
    parsed = Json::parse(line.begin(), line.end());
  } catch (const Json::parse_error& error) {
    // nlohmann's message names the byte position and what was expected.
    return absl::InvalidArgumentError(
        absl::StrCat("invalid JSON: ", error.what()));
  }
  return ReadOperation(parsed);
}

absl::StatusOr<std::vector<Operation>> HistoryFromJsonLines(
    absl::string_view text, absl::string_view source, size_t operations_max) {
  std::vector<Operation> operations;
  size_t line_number = 0;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == absl::string_view::npos) end = text.size();
    const absl::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++line_number;
    if (line.find_first_not_of(" \t\r") == absl::string_view::npos) continue;
    if (operations.size() >= operations_max) {
      return absl::ResourceExhaustedError(absl::StrCat(
          source, ":", line_number,
          ": more than operations_max=", operations_max, " operations"));
    }
    absl::StatusOr<Operation> operation = OperationFromJsonLine(line);
    if (!operation.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          source, ":", line_number, ": ", operation.status().message()));
    }
    operations.push_back(*std::move(operation));
  }
  return operations;
}

}  // namespace raftstore::sim
