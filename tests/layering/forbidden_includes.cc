// This file is under tests/, not core/: it may use files and <regex>.
#include "tests/layering/forbidden_includes.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace raftstore::layering {
namespace {

struct Rule {
  std::regex pattern;
  const char* why;
};

// Headers whose mere inclusion breaks the rule. Matched against the header
// name inside <> or "".
const std::vector<Rule>& IncludeRules() {
  static const auto* rules = new std::vector<Rule>{
      {std::regex(R"(^uv\.h$|^uv/)"),
       "libuv belongs to runtime/ and transport/"},
      {std::regex(R"(^(thread|mutex|shared_mutex|condition_variable|future|)"
                  R"(semaphore|latch|barrier|stop_token|pthread\.h)$)"),
       "threads and locks: the core is single-threaded by construction"},
      {std::regex(R"(^absl/synchronization/)"),
       "threads and locks: the core is single-threaded by construction"},
      {std::regex(R"(^(ctime|time\.h|sys/time\.h|sys/times\.h)$)"),
       "wall clock: the core's only time is Tick()"},
      {std::regex(R"(^absl/time/clock\.h$)"),
       "wall clock: the core's only time is Tick()"},
      {std::regex(R"(^absl/random/)"),
       "randomness must come from the Rng passed in (core/base/rng.h)"},
      {std::regex(R"(^(fstream|filesystem|unistd\.h|)"
                  R"(fcntl\.h|sys/stat\.h|sys/types\.h|sys/mman\.h|dirent\.h|)"
                  R"(sys/uio\.h|aio\.h)$)"),
       "file and system I/O: the core reaches storage only through Disk"},
      {std::regex(R"(^(sys/socket\.h|netinet/.*|arpa/inet\.h|netdb\.h|)"
                  R"(sys/epoll\.h|poll\.h|sys/select\.h)$)"),
       "sockets: the core hands messages to a driver, never to the network"},
  };
  return *rules;
}

// Identifiers that break the rule wherever they appear in code.
const std::vector<Rule>& IdentifierRules() {
  static const auto* rules = new std::vector<Rule>{
      {std::regex(R"(\b(system_clock|steady_clock|high_resolution_clock|)"
                  R"(utc_clock|file_clock|gettimeofday|clock_gettime)\b)"),
       "wall clock: the core's only time is Tick()"},
      {std::regex(R"(\b(random_device|srand|rand|BitGen|InsecureBitGen)\b)"),
       "randomness must come from the Rng passed in (core/base/rng.h)"},
      {std::regex(R"(\bstd\s*::\s*(thread|jthread|this_thread|mutex|)"
                  R"(recursive_mutex|timed_mutex|recursive_timed_mutex|)"
                  R"(shared_mutex|shared_timed_mutex|condition_variable|)"
                  R"(async|atomic_thread_fence|barrier|latch)\b)"),
       "threads and locks: the core is single-threaded by construction"},
      {std::regex(R"(\b(time|clock|sleep|usleep|nanosleep)\s*\()"),
       "wall clock: the core's only time is Tick()"},
      {std::regex(R"(\b(std\s*::\s*unordered_(map|set|multimap|multiset)|)"
                  R"(absl\s*::\s*(flat|node)_hash_(map|set))\b)"),
       "hash containers: iteration order must never reach output; use "
       "absl::btree_map/btree_set (style rule 3)"},
      {std::regex(R"(\b(fopen|getenv|popen|socket)\s*\()"),
       "I/O and process environment do not belong in the core"},
  };
  return *rules;
}

const std::regex& IncludeLine() {
  static const auto* re =
      new std::regex(R"(^\s*#\s*include\s*[<"]([^>"]+)[>"])");
  return *re;
}

}  // namespace

std::string Violation::ToString() const {
  return absl::StrCat(path, ":", line, ": ", what, " (", why, ")");
}

std::string StripCommentsAndLiterals(absl::string_view source) {
  std::string out(source);
  enum class State { kCode, kLineComment, kBlockComment, kString, kChar };
  State state = State::kCode;
  for (size_t i = 0; i < out.size(); ++i) {
    const char c = out[i];
    const char next = i + 1 < out.size() ? out[i + 1] : '\0';
    switch (state) {
      case State::kCode:
        if (c == '/' && next == '/') {
          state = State::kLineComment;
          out[i] = ' ';
        } else if (c == '/' && next == '*') {
          state = State::kBlockComment;
          out[i] = ' ';
          out[++i] = ' ';
        } else if (c == '"' && i > 0 && out[i - 1] == 'R') {
          // A raw string literal R"delim( ... )delim": blank up to its end.
          const size_t open = out.find('(', i);
          if (open == std::string::npos) break;
          const std::string close =
              ")" + out.substr(i + 1, open - i - 1) + "\"";
          const size_t end = out.find(close, open);
          const size_t stop =
              end == std::string::npos ? out.size() : end + close.size() - 1;
          for (size_t k = i + 1; k < stop; ++k) {
            if (out[k] != '\n') out[k] = ' ';
          }
          i = stop;
        } else if (c == '"') {
          state = State::kString;
        } else if (c == '\'') {
          state = State::kChar;
        }
        break;
      case State::kLineComment:
        if (c == '\n') {
          state = State::kCode;
        } else {
          out[i] = ' ';
        }
        break;
      case State::kBlockComment:
        if (c == '*' && next == '/') {
          state = State::kCode;
          out[i] = ' ';
          out[++i] = ' ';
        } else if (c != '\n') {
          out[i] = ' ';
        }
        break;
      case State::kString:
      case State::kChar: {
        const char quote = state == State::kString ? '"' : '\'';
        if (c == '\\' && next != '\n') {
          out[i] = ' ';
          out[++i] = ' ';
        } else if (c == quote || c == '\n') {
          state = State::kCode;
        } else {
          out[i] = ' ';
        }
        break;
      }
    }
  }
  return out;
}

std::vector<Violation> FindViolations(absl::string_view path,
                                      absl::string_view source) {
  std::vector<Violation> found;
  // Includes are read from the original text (the header name is inside
  // quotes, which stripping would blank) but only on lines that are still an
  // include after stripping, so a commented-out include does not count.
  const std::vector<absl::string_view> raw = absl::StrSplit(source, '\n');
  const std::string stripped = StripCommentsAndLiterals(source);
  const std::vector<absl::string_view> code = absl::StrSplit(stripped, '\n');
  for (size_t n = 0; n < code.size(); ++n) {
    const std::string code_line(code[n]);
    const std::string raw_line(raw[n]);
    std::smatch match;
    const bool is_include =
        std::regex_search(code_line, std::regex(R"(^\s*#\s*include)"));
    if (is_include && std::regex_search(raw_line, match, IncludeLine())) {
      const std::string header = match[1];
      for (const Rule& rule : IncludeRules()) {
        if (std::regex_search(header, rule.pattern)) {
          found.push_back({std::string(path), static_cast<int>(n + 1),
                           "#include <" + header + ">", rule.why});
        }
      }
      continue;
    }
    for (const Rule& rule : IdentifierRules()) {
      for (std::sregex_iterator
               it(code_line.begin(), code_line.end(), rule.pattern),
           end;
           it != end; ++it) {
        found.push_back(
            {std::string(path), static_cast<int>(n + 1), it->str(), rule.why});
      }
    }
  }
  return found;
}

absl::StatusOr<std::vector<Violation>> ScanTree(const std::string& root,
                                                const std::string& subdir) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(root) / subdir;
  std::error_code error;
  if (!fs::is_directory(dir, error)) {
    return absl::NotFoundError(
        absl::StrCat("no directory to scan at ", dir.string()));
  }
  std::vector<std::string> files;
  for (auto it = fs::recursive_directory_iterator(dir, error);
       !error && it != fs::recursive_directory_iterator();
       it.increment(error)) {
    const std::string ext = it->path().extension().string();
    if (it->is_regular_file() && (ext == ".h" || ext == ".cc")) {
      files.push_back(it->path().string());
    }
  }
  if (error) {
    return absl::UnavailableError(
        absl::StrCat("listing ", dir.string(), ": ", error.message()));
  }
  std::sort(files.begin(), files.end());
  std::vector<Violation> found;
  for (const std::string& file : files) {
    std::ifstream in(file, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    if (!in.good() && !in.eof()) {
      return absl::UnavailableError(absl::StrCat("reading ", file));
    }
    const std::string relative = fs::relative(file, root).string();
    for (Violation& v : FindViolations(relative, text.str())) {
      found.push_back(std::move(v));
    }
  }
  return found;
}

}  // namespace raftstore::layering
