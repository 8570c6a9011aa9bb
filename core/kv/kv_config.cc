#include "core/kv/kv_config.h"

#include <string>

#include "absl/strings/str_cat.h"

namespace raftstore::kv {
namespace {

absl::Status Zero(const char* name) {
  return absl::InvalidArgumentError(
      absl::StrCat("KvConfig.", name, " must be positive"));
}

}  // namespace

absl::Status KvConfig::Validate() const {
  if (key_bytes_max == 0) return Zero("key_bytes_max");
  if (value_bytes_max == 0) return Zero("value_bytes_max");
  if (scan_limit_max == 0) return Zero("scan_limit_max");
  if (scan_bytes_max == 0) return Zero("scan_bytes_max");
  if (sessions_max == 0) return Zero("sessions_max");
  if (session_responses_max == 0) return Zero("session_responses_max");
  if (session_ttl_ticks == 0) return Zero("session_ttl_ticks");
  // A session with an empty cache must always be able to take one response,
  // or a client could be refused forever.
  if (session_response_bytes_max < ResultBytesMax()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "KvConfig.session_response_bytes_max (", session_response_bytes_max,
        ") is below one result of value_bytes_max (", ResultBytesMax(), ")"));
  }
  if (session_evict_idle_ticks_min > session_ttl_ticks) {
    return absl::InvalidArgumentError(absl::StrCat(
        "KvConfig.session_evict_idle_ticks_min (", session_evict_idle_ticks_min,
        ") exceeds session_ttl_ticks (", session_ttl_ticks, ")"));
  }
  return absl::OkStatus();
}

}  // namespace raftstore::kv
