// A blocking HTTP/1.0 GET for the tools that read a node's admin endpoint
// (`raftstore stats --addr`): one request per connection, the whole answer
// read until the server closes, one deadline over connect, write and read.
// The admin server (runtime/http_server.h) answers HTTP/1.x GETs and always
// closes, so nothing more of HTTP is needed here.
//
// Thread-safety: a pure function of its arguments; it blocks the calling
// thread for at most timeout_ms.
#ifndef RAFTSTORE_TOOLS_HTTP_GET_H_
#define RAFTSTORE_TOOLS_HTTP_GET_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace raftstore::tools {

// An answer longer than this is refused: a /stats page is kilobytes, and a
// tool must not read without end from something that is not our server.
inline constexpr size_t kHttpResponseBytesMax = 64 << 20;

// GET http://host_port/path. Returns the body of a 200 answer. Errors name
// "http://host_port/path" and what was wrong: kInvalidArgument for an
// address that does not parse or resolve; kUnavailable for a refused or
// failed connection, a timeout, an answer past kHttpResponseBytesMax, an
// answer that is not HTTP, or a status other than 200 (its status line is
// quoted).
absl::StatusOr<std::string> HttpGet(const std::string& host_port,
                                    const std::string& path,
                                    uint64_t timeout_ms);

}  // namespace raftstore::tools

#endif  // RAFTSTORE_TOOLS_HTTP_GET_H_
