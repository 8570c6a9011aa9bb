#include "sim/history/history_json.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "rapidcheck/gtest.h"
#include "sim/history/history.h"

namespace raftstore::sim {
namespace {

// Bytes from a small alphabet that mixes ASCII, multi-byte UTF-8 pieces and
// bytes that are never valid UTF-8, so both encodings are exercised.
std::string GenBytes() {
  static const char* const kPieces[] = {
      "a", "b", "", "\xc3\xa9", "\x00", "\xff", "\xc3", "\"", "\\", "\n"};
  const int count = *rc::gen::inRange(0, 5);
  std::string out;
  for (int i = 0; i < count; ++i) {
    const int piece = *rc::gen::inRange(0, 10);
    if (piece == 4) {
      out.push_back('\0');
    } else {
      out += kPieces[piece];
    }
  }
  return out;
}

std::optional<std::string> GenOptionalBytes() {
  if (*rc::gen::inRange(0, 3) == 0) return std::nullopt;
  return GenBytes();
}

Output GenOutput(OpKind op) {
  Output out;
  switch (op) {
    case OpKind::kPut:
      break;
    case OpKind::kGet:
      out.read = GenOptionalBytes();
      break;
    case OpKind::kDelete:
      if (*rc::gen::arbitrary<bool>())
        out.existed = *rc::gen::arbitrary<bool>();
      break;
    case OpKind::kCas:
      out.applied = *rc::gen::arbitrary<bool>();
      out.previous_known = *rc::gen::arbitrary<bool>();
      if (out.previous_known) out.previous = GenOptionalBytes();
      break;
    case OpKind::kScan: {
      const int pairs = *rc::gen::inRange(0, 3);
      for (int i = 0; i < pairs; ++i)
        out.pairs.emplace_back(GenBytes(), GenBytes());
      break;
    }
  }
  return out;
}

Operation GenOperation() {
  const auto op = static_cast<OpKind>(*rc::gen::inRange(0, 5));
  const uint64_t client = *rc::gen::arbitrary<uint64_t>();
  Operation operation;
  switch (op) {
    case OpKind::kPut:
      operation = PutCall(client, GenBytes(), GenBytes());
      break;
    case OpKind::kGet:
      operation = GetCall(client, GenBytes());
      break;
    case OpKind::kDelete:
      operation = DeleteCall(client, GenBytes());
      break;
    case OpKind::kCas:
      operation = CasCall(client, GenBytes(), GenOptionalBytes(), GenBytes());
      break;
    case OpKind::kScan:
      operation = ScanCall(client, GenBytes(), GenOptionalBytes(),
                           *rc::gen::arbitrary<uint32_t>());
      break;
  }
  operation.outcome = static_cast<Outcome>(*rc::gen::inRange(0, 3));
  operation.call_us = *rc::gen::arbitrary<uint64_t>();
  if (operation.outcome != Outcome::kUnknown) {
    operation.return_us =
        *rc::gen::inRange<uint64_t>(operation.call_us, UINT64_MAX);
  }
  if (operation.outcome == Outcome::kOk) operation.output = GenOutput(op);
  return operation;
}

RC_GTEST_PROP(HistoryJsonTest, RoundTripsRandomHistories, ()) {
  const int count = *rc::gen::inRange(0, 12);
  std::vector<Operation> history;
  for (int i = 0; i < count; ++i) history.push_back(GenOperation());
  const std::string text = HistoryToJsonLines(history);
  absl::StatusOr<std::vector<Operation>> read =
      HistoryFromJsonLines(text, "random");
  RC_ASSERT(read.ok());
  RC_ASSERT(*read == history);
  // Deterministic: writing what was read gives the same bytes.
  RC_ASSERT(HistoryToJsonLines(*read) == text);
}

TEST(HistoryJsonTest, WritesTheDocumentedForm) {
  Operation put = PutCall(3, "k1", "v1");
  put.call_us = 100;
  put.return_us = 250;
  put.outcome = Outcome::kOk;
  EXPECT_EQ(OperationToJsonLine(put),
            R"({"client":3,"op":"put","key":"k1","value":"v1","call":100,)"
            R"("return":250,"outcome":"ok"})");
  Operation cas = CasCall(4, "k1", std::nullopt, "v2");
  cas.call_us = 300;
  EXPECT_EQ(OperationToJsonLine(cas),
            R"({"client":4,"op":"cas","key":"k1","value":"v2",)"
            R"("expected":null,"call":300,"return":null,"outcome":"unknown"})");
  Operation get = GetCall(5, std::string("\xff\x00", 2));
  get.call_us = 1;
  get.return_us = 2;
  get.outcome = Outcome::kOk;
  EXPECT_EQ(OperationToJsonLine(get),
            R"({"client":5,"op":"get","key":{"base64":"/wA="},"output":null,)"
            R"("call":1,"return":2,"outcome":"ok"})");
}

// The example of docs/history-format.md, which must stay readable and be
// written back byte for byte.
TEST(HistoryJsonTest, DocumentedExampleRoundTrips) {
  const std::string example =
      R"({"client":1,"op":"put","key":"k1","value":"v1","call":100,"return":250,"outcome":"ok"})"
      "\n"
      R"({"client":2,"op":"get","key":"k1","output":"v1","call":260,"return":300,"outcome":"ok"})"
      "\n"
      R"({"client":3,"op":"cas","key":"k1","value":"v2","expected":"v1","output":true,"previous":"v1","call":310,"return":420,"outcome":"ok"})"
      "\n"
      R"({"client":4,"op":"put","key":"k1","value":"v3","call":400,"return":null,"outcome":"unknown"})"
      "\n"
      R"({"client":2,"op":"delete","key":"k2","call":430,"return":431,"outcome":"fail"})"
      "\n"
      R"({"client":5,"op":"get","key":{"base64":"/wA="},"output":null,"call":500,"return":520,"outcome":"ok"})"
      "\n"
      R"({"client":6,"op":"scan","key":"k","end_key":"l","limit":10,"output":[["k1","v2"]],"call":600,"return":650,"outcome":"ok"})"
      "\n";
  absl::StatusOr<std::vector<Operation>> read =
      HistoryFromJsonLines(example, "history-format.md");
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ(read->size(), 7U);
  EXPECT_EQ(HistoryToJsonLines(*read), example);
}

TEST(HistoryJsonTest, GetOfMissingKeyDiffersFromEmptyValue) {
  absl::StatusOr<Operation> absent = OperationFromJsonLine(
      R"({"client":1,"op":"get","key":"k","output":null,"call":1,"return":2,"outcome":"ok"})");
  absl::StatusOr<Operation> empty = OperationFromJsonLine(
      R"({"client":1,"op":"get","key":"k","output":"","call":1,"return":2,"outcome":"ok"})");
  ASSERT_TRUE(absent.ok()) << absent.status();
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_FALSE(absent->output.read.has_value());
  EXPECT_EQ(empty->output.read, std::optional<std::string>(""));
}

struct BadLine {
  const char* line;
  const char* expected_in_error;
};

TEST(HistoryJsonTest, MalformedLinesNameLineAndField) {
  const BadLine kCases[] = {
      {R"({"client":1,"op":"put","key":"k","value":"v","call":1,"return":2})",
       "line.jsonl:2: field \"outcome\": missing"},
      {R"({"client":-1,"op":"get","key":"k","output":null,"call":1,"return":2,"outcome":"ok"})",
       "line.jsonl:2: field \"client\": not an unsigned integer"},
      {R"({"client":1,"op":"frob","key":"k","call":1,"return":2,"outcome":"ok"})",
       "field \"op\": \"frob\" is not"},
      {R"({"client":1,"op":"get","key":"k","call":1,"return":2,"outcome":"ok"})",
       "field \"output\": missing"},
      {R"({"client":1,"op":"get","key":"k","output":null,"call":1,"return":null,"outcome":"ok"})",
       "field \"return\": not an unsigned integer"},
      {R"({"client":1,"op":"put","key":"k","value":"v","call":1,"return":5,"outcome":"unknown"})",
       "field \"return\": must be null"},
      {R"({"client":1,"op":"put","key":"k","value":"v","call":9,"return":5,"outcome":"ok"})",
       "field \"return\": return 5 is before call 9"},
      {R"({"client":1,"op":"put","key":{"base64":"!!"},"value":"v","call":1,"return":2,"outcome":"ok"})",
       "field \"key\": invalid base64"},
      {R"({"client":1,"op":"put","key":"k","value":7,"call":1,"return":2,"outcome":"ok"})",
       "field \"value\": not a string"},
      {R"({"client":1,"op":"cas","key":"k","value":"v","output":true,"call":1,"return":2,"outcome":"ok"})",
       "field \"expected\": missing"},
      {R"({"client":1,"op":"get","key":"k","output":null,"call":1,"return":2,"outcome":"ok","colour":1})",
       "field \"colour\": unknown field"},
      {R"({"client":1,"op":"put","key":"k","value":"v","output":"x","call":1,"return":2,"outcome":"fail"})",
       "field \"output\": only an ok operation"},
      {R"({"client":1,"op":"get","key":"k","value":"v","output":null,"call":1,"return":2,"outcome":"ok"})",
       "field \"value\": not allowed on a get"},
      {R"({"client":1,"op":"put",)", "line.jsonl:2: invalid JSON"},
      {R"([1,2])", "line.jsonl:2: the line is not a JSON object"},
  };
  const std::string good =
      R"({"client":1,"op":"get","key":"k","output":null,"call":1,"return":2,"outcome":"ok"})";
  for (const BadLine& bad : kCases) {
    const std::string text = good + "\n" + bad.line + "\n" + good + "\n";
    absl::StatusOr<std::vector<Operation>> read =
        HistoryFromJsonLines(text, "line.jsonl");
    ASSERT_FALSE(read.ok()) << bad.line;
    EXPECT_EQ(read.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(read.status().message().find(bad.expected_in_error),
              std::string::npos)
        << read.status().message() << "\nwanted: " << bad.expected_in_error;
  }
}

TEST(HistoryJsonTest, BlankLinesAreSkippedAndCountedInLineNumbers) {
  const std::string text =
      "\n  \n"
      R"({"client":1,"op":"get","key":"k","call":1,"return":2,"outcome":"ok"})"
      "\n";
  absl::StatusOr<std::vector<Operation>> read = HistoryFromJsonLines(text, "f");
  ASSERT_FALSE(read.ok());
  EXPECT_NE(read.status().message().find("f:3: "), std::string::npos)
      << read.status();
}

TEST(HistoryJsonTest, ReaderEnforcesOperationsMax) {
  const std::string line =
      R"({"client":1,"op":"get","key":"k","output":null,"call":1,"return":2,"outcome":"ok"})"
      "\n";
  absl::StatusOr<std::vector<Operation>> read =
      HistoryFromJsonLines(line + line + line, "f", /*operations_max=*/2);
  EXPECT_EQ(read.status().code(), absl::StatusCode::kResourceExhausted);
}

TEST(IsValidUtf8Test, AcceptsWellFormedRejectsTheRest) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain"));
  EXPECT_TRUE(IsValidUtf8("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xc3"));              // truncated
  EXPECT_FALSE(IsValidUtf8("\x80"));              // lone continuation
}

}  // namespace
}  // namespace raftstore::sim
