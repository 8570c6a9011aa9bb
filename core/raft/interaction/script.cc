#include "core/raft/interaction/script.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace raftstore::raft::interaction {
namespace {

absl::Status LineError(int number, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat("line ", number, ": ", what));
}

// Splits a command line into words; a word may hold spaces inside
// parentheses or double quotes (which are removed from quoted words).
absl::StatusOr<std::vector<std::string>> Words(absl::string_view text,
                                               int number) {
  std::vector<std::string> words;
  std::string current;
  bool in_word = false;
  bool in_quotes = false;
  int depth = 0;
  for (char c : text) {
    if (in_quotes) {
      if (c == '"') {
        in_quotes = false;
      } else {
        current.push_back(c);
      }
      continue;
    }
    if (c == '"') {
      in_quotes = true;
      in_word = true;
      continue;
    }
    if (c == '(') ++depth;
    if (c == ')' && --depth < 0) return LineError(number, "unbalanced ')'");
    if (c == ' ' && depth == 0) {
      if (in_word) words.push_back(std::move(current));
      current.clear();
      in_word = false;
      continue;
    }
    current.push_back(c);
    in_word = true;
  }
  if (in_quotes) return LineError(number, "unterminated '\"'");
  if (depth != 0) return LineError(number, "unterminated '('");
  if (in_word) words.push_back(std::move(current));
  return words;
}

}  // namespace

absl::StatusOr<std::vector<ScriptLine>> ParseScript(absl::string_view text) {
  std::vector<ScriptLine> lines;
  std::vector<absl::string_view> raw = absl::StrSplit(text, '\n');
  // A final newline does not start another line.
  if (!raw.empty() && raw.back().empty()) raw.pop_back();
  if (raw.size() > kScriptLinesMax) {
    return absl::InvalidArgumentError(absl::StrCat(
        "script has ", raw.size(), " lines; at most ", kScriptLinesMax));
  }
  for (size_t i = 0; i < raw.size(); ++i) {
    ScriptLine line;
    line.number = static_cast<int>(i + 1);
    line.text = std::string(absl::StripTrailingAsciiWhitespace(raw[i]));
    if (line.text.size() > kScriptLineBytesMax) {
      return LineError(
          line.number,
          absl::StrCat("longer than ", kScriptLineBytesMax, " bytes"));
    }
    const absl::string_view body = absl::StripAsciiWhitespace(line.text);
    if (body.empty() || body[0] == '#') {
      lines.push_back(std::move(line));
      continue;
    }
    auto words = Words(body, line.number);
    if (!words.ok()) return words.status();
    line.command = (*words)[0];
    for (size_t w = 1; w < words->size(); ++w) {
      const std::string& word = (*words)[w];
      const size_t eq = word.find('=');
      // An '=' inside parentheses or after a quote is part of a value.
      if (eq == std::string::npos || eq == 0 || word[0] == '(') {
        line.args.push_back(word);
        continue;
      }
      std::string key = word.substr(0, eq);
      if (line.options.contains(key)) {
        return LineError(line.number,
                         absl::StrCat("option '", key, "' given twice"));
      }
      line.options.emplace(std::move(key), word.substr(eq + 1));
    }
    lines.push_back(std::move(line));
  }
  return lines;
}

absl::StatusOr<std::vector<uint64_t>> ParseIdList(absl::string_view text) {
  absl::string_view body = absl::StripAsciiWhitespace(text);
  if (absl::ConsumePrefix(&body, "(") && !absl::ConsumeSuffix(&body, ")")) {
    return absl::InvalidArgumentError(
        absl::StrCat("unbalanced list '", text, "'"));
  }
  std::vector<uint64_t> ids;
  for (absl::string_view part :
       absl::StrSplit(body, absl::ByAnyChar(", "), absl::SkipEmpty())) {
    uint64_t id = 0;
    if (!absl::SimpleAtoi(part, &id) || id == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", part, "' in '", text, "' is not a node id"));
    }
    ids.push_back(id);
  }
  return ids;
}

absl::Status Args::Error(const std::string& what) const {
  return LineError(line_.number, absl::StrCat(line_.command, ": ", what));
}

absl::StatusOr<uint64_t> Args::Uint(size_t i) const {
  if (i >= line_.args.size()) {
    return Error(absl::StrCat("missing argument ", i + 1));
  }
  uint64_t value = 0;
  if (!absl::SimpleAtoi(line_.args[i], &value)) {
    return Error(absl::StrCat("argument ", i + 1, " '", line_.args[i],
                              "' is not a number"));
  }
  return value;
}

absl::StatusOr<std::string> Args::String(size_t i) const {
  if (i >= line_.args.size()) {
    return Error(absl::StrCat("missing argument ", i + 1));
  }
  return line_.args[i];
}

absl::StatusOr<uint64_t> Args::UintOption(const std::string& key,
                                          uint64_t fallback) const {
  auto it = line_.options.find(key);
  if (it == line_.options.end()) return fallback;
  uint64_t value = 0;
  if (!absl::SimpleAtoi(it->second, &value)) {
    return Error(
        absl::StrCat("option ", key, "='", it->second, "' is not a number"));
  }
  return value;
}

absl::StatusOr<bool> Args::BoolOption(const std::string& key,
                                      bool fallback) const {
  auto it = line_.options.find(key);
  if (it == line_.options.end()) return fallback;
  if (it->second == "true") return true;
  if (it->second == "false") return false;
  return Error(
      absl::StrCat("option ", key, "='", it->second, "' is not true or false"));
}

std::string Args::StringOption(const std::string& key,
                               const std::string& fallback) const {
  auto it = line_.options.find(key);
  return it == line_.options.end() ? fallback : it->second;
}

absl::StatusOr<std::vector<uint64_t>> Args::IdListOption(
    const std::string& key) const {
  auto it = line_.options.find(key);
  if (it == line_.options.end()) return std::vector<uint64_t>{};
  auto ids = ParseIdList(it->second);
  if (!ids.ok())
    return Error(absl::StrCat("option ", key, ": ", ids.status().message()));
  return ids;
}

absl::Status Args::Expect(size_t positional_min, size_t positional_max,
                          const std::vector<std::string>& known) const {
  if (line_.args.size() < positional_min ||
      line_.args.size() > positional_max) {
    return Error(absl::StrCat("takes ", positional_min, " to ", positional_max,
                              " positional arguments, got ",
                              line_.args.size()));
  }
  for (const auto& [key, value] : line_.options) {
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      return Error(absl::StrCat("unknown option '", key, "'"));
    }
  }
  return absl::OkStatus();
}

}  // namespace raftstore::raft::interaction
