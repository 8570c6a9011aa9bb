// The JSON-lines form of a client history: one operation per line, the
// format of docs/history-format.md. The simulator writes it with a failure
// report; `raftstore check-history FILE` reads it back.
//
// Byte strings (keys, values) are JSON strings when they are valid UTF-8 and
// {"base64": "..."} (standard alphabet, padded) otherwise, so any bytes
// survive a round trip and readable keys stay readable. Output bytes depend
// only on the operations: fields in a fixed order, no hashing, no floats.
//
// Thread-safety: all functions are pure.
#ifndef RAFTSTORE_SIM_HISTORY_HISTORY_JSON_H_
#define RAFTSTORE_SIM_HISTORY_HISTORY_JSON_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "sim/history/history.h"

namespace raftstore::sim {

// Whether `bytes` is well-formed UTF-8 (no overlong forms, surrogates or
// code points past U+10FFFF): such strings are written as JSON strings.
bool IsValidUtf8(absl::string_view bytes);

// One operation as a single JSON object, without a trailing newline.
// Requires ValidateOperation(operation).ok().
std::string OperationToJsonLine(const Operation& operation);

// Every operation, one line each, each line ending in '\n'.
std::string HistoryToJsonLines(absl::Span<const Operation> operations);

// Parses one line. On malformed input returns kInvalidArgument whose message
// names the field ("field \"call\": ...") or the JSON syntax error.
absl::StatusOr<Operation> OperationFromJsonLine(absl::string_view line);

// Parses a whole file's text: one operation per line; lines holding only
// whitespace are skipped. Returns the operations in file order, or
// kInvalidArgument "<source>:<line>: field \"...\": ..." for the first bad
// line (lines counted from 1), or kResourceExhausted past operations_max
// operations.
absl::StatusOr<std::vector<Operation>> HistoryFromJsonLines(
    absl::string_view text, absl::string_view source,
    size_t operations_max = History::kOperationsMaxDefault);

}  // namespace raftstore::sim

#endif  // RAFTSTORE_SIM_HISTORY_HISTORY_JSON_H_
