#include "transport/log_sink.h"

#include <cstdio>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"

namespace raftstore::transport {

LogSink StderrLogSink(std::string prefix) {
  return [prefix = std::move(prefix)](absl::string_view line) {
    // One fwrite per line so lines from several threads do not interleave.
    const std::string text = absl::StrCat(prefix, ": ", line, "\n");
    std::fwrite(text.data(), 1, text.size(), stderr);
  };
}

}  // namespace raftstore::transport
