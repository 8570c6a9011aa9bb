// Where the transport reports what it does about misbehaving peers (a
// connection closed for a bad frame, a failed dial): one line per event,
// through a callback the owner may replace (the node binary routes it to its
// log; tests capture it).
//
// Thread-safety: the transport calls its sink on the loop thread only.
#ifndef RAFTSTORE_TRANSPORT_LOG_SINK_H_
#define RAFTSTORE_TRANSPORT_LOG_SINK_H_

#include <functional>
#include <string>

#include "absl/strings/string_view.h"

namespace raftstore::transport {

// Receives one line (no trailing newline).
using LogSink = std::function<void(absl::string_view line)>;

// Writes "<prefix>: <line>\n" to stderr.
LogSink StderrLogSink(std::string prefix = "transport");

}  // namespace raftstore::transport

#endif  // RAFTSTORE_TRANSPORT_LOG_SINK_H_
