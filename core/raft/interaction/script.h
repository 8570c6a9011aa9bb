// The plain-text script format of the raft interaction harness
// (docs/raft-scripts.md).
//
// A script is one command per line:
//
//   # a comment, copied to the transcript as is
//   add-nodes 3 voters=(1,2,3) index=2
//   campaign 1
//   stabilize
//
// A line is a command name, then positional arguments and key=value
// arguments in any order, separated by spaces. A value in parentheses may
// hold spaces: `propose-conf-change 1 (v4 l5)`. A value in double quotes may
// hold spaces and parentheses: `propose 1 "hello world"`. Blank lines are
// kept, to keep the transcript readable.
//
// Thread-safety: pure functions.
#ifndef RAFTSTORE_CORE_RAFT_INTERACTION_SCRIPT_H_
#define RAFTSTORE_CORE_RAFT_INTERACTION_SCRIPT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace raftstore::raft::interaction {

// Bounds a script: a longer one is a mistake (or an attack on the CLI).
inline constexpr size_t kScriptLinesMax = 100000;
inline constexpr size_t kScriptLineBytesMax = 4096;

struct ScriptLine {
  int number = 0;  // 1-based line number in the script
  // The line as written (without the newline).
  std::string text;
  // Empty for blank lines and comments.
  std::string command;
  std::vector<std::string> args;
  absl::btree_map<std::string, std::string> options;

  bool is_command() const { return !command.empty(); }
};

// Splits a script into lines. Errors (kInvalidArgument, naming the line):
// an unterminated quote or parenthesis, a repeated option, a line longer
// than kScriptLineBytesMax, more than kScriptLinesMax lines.
absl::StatusOr<std::vector<ScriptLine>> ParseScript(absl::string_view text);

// Typed access to a line's arguments, with errors that name the line and the
// argument.
class Args {
 public:
  explicit Args(const ScriptLine& line) : line_(line) {}

  size_t positional_count() const { return line_.args.size(); }
  // The positional argument at `i` as a node id or a count (> 0 for ids).
  absl::StatusOr<uint64_t> Uint(size_t i) const;
  absl::StatusOr<std::string> String(size_t i) const;
  // The option `key`, or `fallback` when absent.
  absl::StatusOr<uint64_t> UintOption(const std::string& key,
                                      uint64_t fallback) const;
  absl::StatusOr<bool> BoolOption(const std::string& key, bool fallback) const;
  std::string StringOption(const std::string& key,
                           const std::string& fallback) const;
  bool Has(const std::string& key) const { return line_.options.contains(key); }
  // A list written "(1,2,3)" or "1,2,3" (or "()" for none), as ids.
  absl::StatusOr<std::vector<uint64_t>> IdListOption(
      const std::string& key) const;
  // Fails when the line has an option not in `known`, or more positional
  // arguments than `positional_max`: typos must not pass silently.
  absl::Status Expect(size_t positional_min, size_t positional_max,
                      const std::vector<std::string>& known) const;

 private:
  absl::Status Error(const std::string& what) const;
  const ScriptLine& line_;
};

// Parses "(1,2,3)", "1,2,3", "(1 2 3)" or "()" into ids.
absl::StatusOr<std::vector<uint64_t>> ParseIdList(absl::string_view text);

}  // namespace raftstore::raft::interaction

#endif  // RAFTSTORE_CORE_RAFT_INTERACTION_SCRIPT_H_
