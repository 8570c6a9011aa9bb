// Builders of commands for the core/kv tests.
//
// Thread-safety: pure functions.
#ifndef RAFTSTORE_CORE_KV_KV_TESTING_H_
#define RAFTSTORE_CORE_KV_KV_TESTING_H_

#include <cstdint>
#include <string>

#include "core/kv/command_codec.h"
#include "proto/command.pb.h"

namespace raftstore::kv::testing {

// The session fields of a command: client, sequence, first incomplete
// sequence (1 when 0 is given) and the proposer's clock.
struct SessionFields {
  uint64_t client_id = 1;
  uint64_t sequence = 1;
  uint64_t first_incomplete = 0;
  uint64_t ticks = 0;
};

inline command::Command WithSession(const SessionFields& fields) {
  command::Command command;
  command.set_format_version(kCommandFormatVersion);
  command.set_client_id(fields.client_id);
  command.set_sequence(fields.sequence);
  command.set_first_incomplete_sequence(
      fields.first_incomplete == 0 ? 1 : fields.first_incomplete);
  command.set_proposed_at_ticks(fields.ticks);
  return command;
}

inline command::Command Put(const SessionFields& fields, std::string key,
                            std::string value) {
  command::Command command = WithSession(fields);
  command.mutable_put()->set_key(std::move(key));
  command.mutable_put()->set_value(std::move(value));
  return command;
}

inline command::Command Delete(const SessionFields& fields, std::string key) {
  command::Command command = WithSession(fields);
  command.mutable_delete_()->set_key(std::move(key));
  return command;
}

// A compare-and-swap expecting `expected`, or absence when `expect_absent`.
inline command::Command Cas(const SessionFields& fields, std::string key,
                            bool expect_absent, std::string expected,
                            std::string new_value) {
  command::Command command = WithSession(fields);
  command::CompareAndSwapOp* cas = command.mutable_compare_and_swap();
  cas->set_key(std::move(key));
  cas->set_expect_absent(expect_absent);
  cas->set_expected_value(std::move(expected));
  cas->set_new_value(std::move(new_value));
  return command;
}

}  // namespace raftstore::kv::testing

#endif  // RAFTSTORE_CORE_KV_KV_TESTING_H_
