#include "core/base/check.h"

#include <cstdio>
#include <cstdlib>

namespace raftstore::internal {

CheckFailure::CheckFailure(const char* file, int line, const char* condition) {
  stream_ << file << ":" << line << ": check failed: " << condition << " ";
}

CheckFailure::~CheckFailure() {
  // stderr is unbuffered; one fputs keeps the line whole even if other output
  // is interleaved. Abort (not exit) so a core dump and sanitizers see it.
  std::string text = stream_.str();
  text += "\n";
  std::fputs(text.c_str(), stderr);
  std::abort();
}

}  // namespace raftstore::internal
