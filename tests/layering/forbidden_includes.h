// The determinism rule of core/, as a checker: no file under core/ may reach
// for I/O, threads, wall clocks or entropy (docs/architecture.md, "Layers").
//
// Bazel visibility already stops a core target from depending on libuv or on
// the drivers, but a header from /usr/include needs no Bazel dependency to be
// included, and a clock needs no header beyond <chrono>. This checker reads
// the text of each file, with comments and string literals removed, and
// reports every forbidden include or identifier it finds.
//
// Thread-safety: pure functions.
#ifndef RAFTSTORE_TESTS_LAYERING_FORBIDDEN_INCLUDES_H_
#define RAFTSTORE_TESTS_LAYERING_FORBIDDEN_INCLUDES_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace raftstore::layering {

struct Violation {
  std::string path;
  int line = 0;      // 1-based
  std::string what;  // the forbidden include or identifier found
  std::string why;   // which rule it breaks

  std::string ToString() const;
};

// Returns `source` with comments and the contents of string and character
// literals replaced by spaces, keeping line breaks so line numbers stay true.
std::string StripCommentsAndLiterals(absl::string_view source);

// Every violation in one file's text. `path` is only used in the results.
std::vector<Violation> FindViolations(absl::string_view path,
                                      absl::string_view source);

// Every violation in the C++ files (.h, .cc) under `root`/`subdir`, in path
// order. Errors: kNotFound when the directory does not exist, kUnavailable
// when a file cannot be read.
absl::StatusOr<std::vector<Violation>> ScanTree(const std::string& root,
                                                const std::string& subdir);

}  // namespace raftstore::layering

#endif  // RAFTSTORE_TESTS_LAYERING_FORBIDDEN_INCLUDES_H_
