// RapidCheck properties of the KV state machine: for any sequence of commands
// (with retries, stale duplicates, malformed fields, oversized keys, clock
// jumps that expire sessions and more clients than the session table holds),
// its results and state equal a simple model's; replicas applying the same
// sequence agree on every result and digest; and a replica restored from an
// export at any point goes on exactly like the original.

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/kv/command_codec.h"
#include "core/kv/kv_state_machine.h"
#include "core/kv/kv_testing.h"
#include "gtest/gtest.h"
#include "proto/command.pb.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"

namespace raftstore::kv {
namespace {

using command::Command;
using command::CommandResult;

KvConfig PropertyConfig() {
  KvConfig config;
  config.key_bytes_max = 3;
  config.value_bytes_max = 8;
  config.sessions_max = 3;
  config.session_responses_max = 3;
  config.session_response_bytes_max = config.ResultBytesMax() * 2;
  config.session_ttl_ticks = 40;
  config.session_evict_idle_ticks_min = 5;
  return config;
}

// The model: the rules of docs/kv-state-machine.md written as plainly as
// possible (linear scans, no indexes).
class Model {
 public:
  explicit Model(const KvConfig& config) : config_(config) {}

  CommandResult Apply(const Command& command) {
    clock_ = std::max(clock_, command.proposed_at_ticks());
    std::erase_if(sessions_, [this](const auto& entry) {
      return clock_ - entry.second.last_active > config_.session_ttl_ticks;
    });
    if (auto rejected = Check(command)) return Outcome(*rejected);
    auto found = sessions_.find(command.client_id());
    if (found == sessions_.end()) {
      if (command.first_incomplete_sequence() != 1) {
        return Outcome(command::OUTCOME_SESSION_EXPIRED);
      }
      if (sessions_.size() >= config_.sessions_max) {
        auto victim = sessions_.begin();
        for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
          if (it->second.last_active < victim->second.last_active) victim = it;
        }
        if (clock_ - victim->second.last_active <
            config_.session_evict_idle_ticks_min) {
          return Outcome(command::OUTCOME_SESSION_TABLE_FULL);
        }
        sessions_.erase(victim);
      }
      found = sessions_.emplace(command.client_id(), ModelSession()).first;
    }
    return ApplyInSession(command, &found->second);
  }

  const std::map<std::string, std::string>& data() const { return data_; }
  std::vector<std::pair<uint64_t, uint64_t>> SessionSummary() const {
    std::vector<std::pair<uint64_t, uint64_t>> summary;
    for (const auto& [client, session] : sessions_) {
      summary.emplace_back(client, session.first_incomplete);
    }
    return summary;
  }

 private:
  struct ModelSession {
    uint64_t last_active = 0;
    uint64_t first_incomplete = 1;
    std::map<uint64_t, CommandResult> responses;
  };

  static CommandResult Outcome(command::Outcome outcome) {
    CommandResult result;
    result.set_outcome(outcome);
    return result;
  }

  std::optional<command::Outcome> Check(const Command& command) const {
    if (command.client_id() == 0 || command.sequence() == 0 ||
        command.first_incomplete_sequence() == 0 ||
        command.first_incomplete_sequence() > command.sequence() ||
        command.op_case() == Command::OP_NOT_SET) {
      return command::OUTCOME_INVALID_COMMAND;
    }
    std::string key;
    size_t value_bytes = 0;
    if (command.has_put()) {
      key = command.put().key();
      value_bytes = command.put().value().size();
    } else if (command.has_delete_()) {
      key = command.delete_().key();
    } else {
      const auto& cas = command.compare_and_swap();
      key = cas.key();
      value_bytes =
          std::max(cas.expected_value().size(), cas.new_value().size());
    }
    if (key.empty() || key.size() > config_.key_bytes_max) {
      return command::OUTCOME_BOUND_EXCEEDED;
    }
    if (command.has_compare_and_swap() &&
        command.compare_and_swap().expect_absent() &&
        !command.compare_and_swap().expected_value().empty()) {
      return command::OUTCOME_INVALID_COMMAND;
    }
    if (value_bytes > config_.value_bytes_max) {
      return command::OUTCOME_BOUND_EXCEEDED;
    }
    return std::nullopt;
  }

  CommandResult ApplyInSession(const Command& command, ModelSession* session) {
    session->last_active = clock_;
    if (command.first_incomplete_sequence() > session->first_incomplete) {
      session->first_incomplete = command.first_incomplete_sequence();
      std::erase_if(session->responses, [session](const auto& entry) {
        return entry.first < session->first_incomplete;
      });
    }
    if (command.sequence() < session->first_incomplete) {
      return Outcome(command::OUTCOME_STALE_SEQUENCE);
    }
    if (session->responses.contains(command.sequence())) {
      return session->responses.at(command.sequence());
    }
    size_t bytes = 0;
    for (const auto& entry : session->responses) {
      bytes += entry.second.ByteSizeLong();
    }
    size_t next_bytes = kEncodingOverheadBytesMax;
    if (command.has_compare_and_swap() &&
        data_.contains(command.compare_and_swap().key())) {
      next_bytes += data_.at(command.compare_and_swap().key()).size();
    }
    if (session->responses.size() >= config_.session_responses_max ||
        bytes + next_bytes > config_.session_response_bytes_max) {
      return Outcome(command::OUTCOME_SESSION_RESPONSES_FULL);
    }
    CommandResult result = ApplyOp(command);
    session->responses[command.sequence()] = result;
    return result;
  }

  CommandResult ApplyOp(const Command& command) {
    CommandResult result = Outcome(command::OUTCOME_APPLIED);
    if (command.has_put()) {
      data_[command.put().key()] = command.put().value();
      result.mutable_put();
    } else if (command.has_delete_()) {
      result.mutable_delete_()->set_existed(
          data_.erase(command.delete_().key()) == 1);
    } else {
      const auto& cas = command.compare_and_swap();
      auto* out = result.mutable_compare_and_swap();
      const bool found = data_.contains(cas.key());
      out->set_previous_found(found);
      if (found) out->set_previous_value(data_.at(cas.key()));
      const bool swap = cas.expect_absent() ? !found
                                            : found && data_.at(cas.key()) ==
                                                           cas.expected_value();
      out->set_succeeded(swap);
      if (swap) data_[cas.key()] = cas.new_value();
    }
    return result;
  }

  KvConfig config_;
  std::map<std::string, std::string> data_;
  std::map<uint64_t, ModelSession> sessions_;
  uint64_t clock_ = 0;
};

// Turns generated numbers into a schedule of commands: writes of five
// clients (more than sessions_max), retries of earlier commands re-proposed
// later, empty entries, and malformed or oversized commands. nullopt stands
// for an empty entry.
class Schedule {
 public:
  std::optional<Command> Next(uint32_t a, uint32_t b) {
    // Mostly small steps, so sessions stay active and the table fills;
    // sometimes a jump past session_ttl_ticks.
    ticks_ += (b % 8 == 0) ? b % 60 : b % 3;
    const uint32_t kind = a % 10;
    if (kind == 8) return std::nullopt;
    if ((kind == 6 || kind == 7) && !past_.empty()) {
      Command retry = past_[(b / 30) % past_.size()];
      retry.set_proposed_at_ticks(ticks_);
      return retry;
    }
    const uint64_t client = 1 + (a / 10) % 5;
    const uint64_t sequence = ++next_sequence_[client];
    uint64_t& first_incomplete = first_incomplete_[client];
    switch ((a / 50) % 4) {
      case 0:
        first_incomplete = std::max<uint64_t>(first_incomplete, 1);
        break;
      case 1:
        first_incomplete = sequence;
        break;
      case 2:
        first_incomplete = std::max<uint64_t>(1, sequence - 1);
        break;
      default:
        first_incomplete = 1;
        break;  // a client that never learns
    }
    const testing::SessionFields fields{.client_id = client,
                                        .sequence = sequence,
                                        .first_incomplete = first_incomplete,
                                        .ticks = ticks_};
    const std::string key(1, static_cast<char>('a' + (a / 200) % 4));
    const std::string value((a / 800) % 4, 'v');
    Command command;
    if (kind <= 2) {
      command = testing::Put(fields, key, value);
    } else if (kind == 3) {
      command = testing::Delete(fields, key);
    } else if (kind <= 7) {
      const bool absent = (a / 3200) % 2 == 0;
      command = testing::Cas(fields, key, absent, absent ? "" : value, value);
    } else {
      command = Malformed(fields, a / 3200);
    }
    past_.push_back(command);
    return command;
  }

 private:
  static Command Malformed(const testing::SessionFields& fields,
                           uint32_t which) {
    switch (which % 5) {
      case 0:
        return testing::Put(fields, "toolong", "v");
      case 1:
        return testing::Put(fields, "k", std::string(9, 'v'));
      case 2:
        return testing::Cas(fields, "k", true, "x", "v");
      case 3: {
        Command command = testing::Put(fields, "k", "v");
        command.set_first_incomplete_sequence(fields.sequence + 1);
        return command;
      }
      default:
        return testing::Put(fields, "", "v");
    }
  }

  uint64_t ticks_ = 0;
  std::map<uint64_t, uint64_t> next_sequence_;
  std::map<uint64_t, uint64_t> first_incomplete_;
  std::vector<Command> past_;
};

std::string WithoutMessage(CommandResult result) {
  result.clear_message();
  return result.ShortDebugString();
}

RC_GTEST_PROP(KvPropertyTest, AgreesWithTheModelAndAcrossReplicas, ()) {
  // Longer schedules than the default size gives, so sessions fill, age and
  // expire within one case.
  const auto steps = *rc::gen::resize(
      400, rc::gen::arbitrary<std::vector<std::pair<uint32_t, uint32_t>>>());
  const KvConfig config = PropertyConfig();
  KvStateMachine replica_a(config);
  KvStateMachine replica_b(config);
  Model model(config);
  Schedule schedule;
  // Replica b is rebuilt from replica a's export at this step.
  const size_t restore_at = *rc::gen::inRange<size_t>(0, steps.size() + 1);
  for (size_t i = 0; i < steps.size(); ++i) {
    if (i == restore_at) {
      KvStateMachine restored(config);
      RC_ASSERT(restored
                    .ImportChunks(replica_a.ExportChunks(
                                      KvStateMachine::ChunkBytesMin(config)),
                                  replica_a.applied_index())
                    .ok());
      RC_ASSERT(restored.Digest() == replica_b.Digest());
      replica_b = std::move(restored);
    }
    const std::optional<Command> command =
        schedule.Next(steps[i].first, steps[i].second);
    const uint64_t index = replica_a.applied_index() + 1;
    if (!command) {
      replica_a.ApplyEmpty(index);
      replica_b.ApplyEmpty(index);
      continue;
    }
    const CommandResult a = replica_a.Apply(index, *command);
    const absl::StatusOr<CommandResult> b =
        replica_b.ApplyEntry(index, EncodeCommand(*command));
    RC_ASSERT(b.ok());
    RC_ASSERT(a.SerializeAsString() == b->SerializeAsString());
    RC_ASSERT(WithoutMessage(a) == WithoutMessage(model.Apply(*command)));
    RC_ASSERT(replica_a.Digest() == replica_b.Digest());
  }
  replica_a.CheckInvariants();
  replica_b.CheckInvariants();
  const ScanResult scan = replica_a.Scan("", "", 0);
  const std::map<std::string, std::string> stored(scan.pairs.begin(),
                                                  scan.pairs.end());
  RC_ASSERT(stored == model.data());
  std::vector<std::pair<uint64_t, uint64_t>> sessions;
  for (const auto& [client, session] : replica_a.sessions().sessions()) {
    sessions.emplace_back(client, session.first_incomplete_sequence);
  }
  RC_ASSERT(sessions == model.SessionSummary());
}

}  // namespace
}  // namespace raftstore::kv
