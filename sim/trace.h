// The run's trace: a running hash of every event (always on, for the
// determinism self-check) and, when asked for, a readable text log of the
// same events, one line each, prefixed with the virtual time.
//
// The hash is a 64-bit chain over the event's numbers and the CRC32C of its
// payload bytes; it depends only on what happened, never on pointers or
// container order. Two runs of one seed and one binary must end with the
// same hash. Each value costs one multiply (xor it in, multiply by an odd
// constant, fold the high half down): every step is a bijection of the
// state for a given value, so two runs that differ in any one hashed value
// always end with different hashes. A run hashes tens of values per
// message, so the chain must stay this cheap (byte-wise FNV-1a cost a
// tenth of the simulator's instructions).
//
// Thread-safety: none; the simulator is single-threaded.
#ifndef RAFTSTORE_SIM_TRACE_H_
#define RAFTSTORE_SIM_TRACE_H_

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "absl/strings/str_format.h"
#include "core/storage/crc32c.h"

namespace raftstore::sim {

class Trace {
 public:
  // With `keep_text`, Line() keeps the text (for --trace FILE); otherwise
  // only the hash is kept. text_bytes_max bounds the text: past it the
  // trace notes the cut and keeps hashing.
  explicit Trace(bool keep_text, uint64_t text_bytes_max = 1ULL << 30)
      : keep_text_(keep_text), text_bytes_max_(text_bytes_max) {}

  void Hash(std::initializer_list<uint64_t> values) {
    for (const uint64_t v : values) Mix(v);
  }
  void HashBytes(std::string_view bytes) {
    Mix(storage::Crc32c(bytes) | (static_cast<uint64_t>(bytes.size()) << 32));
  }

  bool keeps_text() const { return keep_text_; }
  // Appends "t=<seconds> <text>\n" when text is kept; hashes nothing (hash
  // the event's fields with Hash, so tracing on or off hashes the same).
  void Line(uint64_t now_us, std::string_view text) {
    if (!keep_text_) return;
    if (text_.size() > text_bytes_max_) {
      if (!cut_) text_ += "... trace cut at text_bytes_max\n";
      cut_ = true;
      return;
    }
    text_ += absl::StrFormat("t=%.6f ", static_cast<double>(now_us) / 1e6);
    text_.append(text.data(), text.size());
    text_ += '\n';
  }

  uint64_t hash() const { return hash_; }
  const std::string& text() const { return text_; }
  uint64_t events() const { return events_; }

 private:
  void Mix(uint64_t v) {
    ++events_;
    hash_ = (hash_ ^ v) * 0x9e3779b97f4a7c15ULL;
    hash_ ^= hash_ >> 32;
  }

  bool keep_text_;
  uint64_t text_bytes_max_;
  bool cut_ = false;
  uint64_t hash_ = 0xcbf29ce484222325ULL;
  uint64_t events_ = 0;
  std::string text_;
};

}  // namespace raftstore::sim

#endif  // RAFTSTORE_SIM_TRACE_H_
