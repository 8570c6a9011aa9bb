// Invariant checks that stay on in every build.
//
// A broken invariant is a bug, not an error to return: RS_CHECK prints the
// failed condition with its file and line, plus any message streamed into it,
// and aborts the process. Unlike assert(), it is not compiled out by NDEBUG, so
// the optimised default build keeps every check (see .bazelrc).
//
// RS_DCHECK is for checks too expensive for the default build (for example a
// full scan of a log); it is on only under --config=debug, which defines
// RAFTSTORE_DEBUG_CHECKS, and its condition is not evaluated otherwise.
//
// Usage:
//   RS_CHECK(committed <= last_index) << "committed=" << committed;
//   RS_CHECK_LE(committed, last_index);   // prints both values on failure
//
// Thread-safety: safe from any thread; a failure ends the process.
#ifndef RAFTSTORE_CORE_BASE_CHECK_H_
#define RAFTSTORE_CORE_BASE_CHECK_H_

#include <memory>
#include <sstream>
#include <string>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"

namespace raftstore::internal {

// Collects the message of a failed check; its destructor prints and aborts.
// Only ever constructed on the failure path.
class CheckFailure {
 public:
  CheckFailure(const char* file, int line, const char* condition);
  CheckFailure(const CheckFailure&) = delete;
  CheckFailure& operator=(const CheckFailure&) = delete;
  [[noreturn]] ~CheckFailure();

  std::ostream& stream() { return stream_; }

 private:
  std::ostringstream stream_;
};

// Lets a check expression be a statement of type void whatever is streamed.
struct Voidify {
  void operator&(std::ostream&) {}
};

// Builds "a OP b (x vs. y)" for a failed comparison. Kept out of line and
// off the hot path: only a failing check pays for the formatting.
template <typename A, typename B>
ABSL_ATTRIBUTE_NOINLINE std::unique_ptr<std::string> MakeCheckOpMessage(
    const A& a, const B& b, const char* expression) {
  std::ostringstream out;
  out << expression << " (" << a << " vs. " << b << ")";
  return std::make_unique<std::string>(out.str());
}

// Returns null when the comparison holds (the common case, inlined to one
// compare and branch), else the failure message. The operands are
// evaluated exactly once, by the caller.
#define RS_DEFINE_CHECK_OP_IMPL_(name, op)                                \
  template <typename A, typename B>                                       \
  ABSL_ATTRIBUTE_ALWAYS_INLINE inline std::unique_ptr<std::string>        \
      Check##name##Impl(const A& a, const B& b, const char* expression) { \
    if (ABSL_PREDICT_TRUE(a op b)) return nullptr;                        \
    return MakeCheckOpMessage(a, b, expression);                          \
  }
RS_DEFINE_CHECK_OP_IMPL_(EQ, ==)
RS_DEFINE_CHECK_OP_IMPL_(NE, !=)
RS_DEFINE_CHECK_OP_IMPL_(LE, <=)
RS_DEFINE_CHECK_OP_IMPL_(LT, <)
RS_DEFINE_CHECK_OP_IMPL_(GE, >=)
RS_DEFINE_CHECK_OP_IMPL_(GT, >)
#undef RS_DEFINE_CHECK_OP_IMPL_

}  // namespace raftstore::internal

#define RS_CHECK(condition)                                                   \
  ABSL_PREDICT_TRUE(condition)                                                \
  ? (void)0                                                                   \
  : ::raftstore::internal::Voidify() &                                        \
          ::raftstore::internal::CheckFailure(__FILE__, __LINE__, #condition) \
              .stream()

// Comparison checks evaluate each operand once and print both on failure.
// The while-form keeps them safe inside an unbraced if/else.
#define RS_CHECK_OP_(name, op, a, b)                                      \
  while (::std::unique_ptr<::std::string> rs_check_message_ =             \
             ::raftstore::internal::Check##name##Impl((a), (b),           \
                                                      #a " " #op " " #b)) \
  ::raftstore::internal::CheckFailure(__FILE__, __LINE__,                 \
                                      rs_check_message_->c_str())         \
      .stream()

#define RS_CHECK_EQ(a, b) RS_CHECK_OP_(EQ, ==, a, b)
#define RS_CHECK_NE(a, b) RS_CHECK_OP_(NE, !=, a, b)
#define RS_CHECK_LE(a, b) RS_CHECK_OP_(LE, <=, a, b)
#define RS_CHECK_LT(a, b) RS_CHECK_OP_(LT, <, a, b)
#define RS_CHECK_GE(a, b) RS_CHECK_OP_(GE, >=, a, b)
#define RS_CHECK_GT(a, b) RS_CHECK_OP_(GT, >, a, b)

#ifdef RAFTSTORE_DEBUG_CHECKS
#define RS_DCHECK(condition) RS_CHECK(condition)
#else
#define RS_DCHECK(condition) \
  while (false) RS_CHECK(condition)
#endif

#endif  // RAFTSTORE_CORE_BASE_CHECK_H_
