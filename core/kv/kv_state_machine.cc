#include "core/kv/kv_state_machine.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "core/kv/command_codec.h"

namespace raftstore::kv {
namespace {

using command::Command;
using command::CommandResult;

CommandResult Rejected(command::Outcome outcome, std::string message) {
  CommandResult result;
  result.set_outcome(outcome);
  result.set_message(std::move(message));
  return result;
}

// The key a command's op writes; empty when it has no op.
std::string_view OpKey(const Command& command) {
  switch (command.op_case()) {
    case Command::kPut:
      return command.put().key();
    case Command::kDelete:
      return command.delete_().key();
    case Command::kCompareAndSwap:
      return command.compare_and_swap().key();
    case Command::kSplit:  // admin ops: the store applies them
    case Command::kPrepareMerge:
    case Command::kCommitMerge:
    case Command::kRollbackMerge:
    case Command::OP_NOT_SET:
      break;
  }
  return {};
}

std::optional<CommandResult> CheckSessionFields(const Command& command) {
  if (command.client_id() == 0 || command.sequence() == 0) {
    return Rejected(command::OUTCOME_INVALID_COMMAND,
                    "a write needs a nonzero client_id and sequence");
  }
  if (command.first_incomplete_sequence() == 0 ||
      command.first_incomplete_sequence() > command.sequence()) {
    return Rejected(
        command::OUTCOME_INVALID_COMMAND,
        absl::StrCat("first_incomplete_sequence ",
                     command.first_incomplete_sequence(),
                     " is outside [1, sequence ", command.sequence(), "]"));
  }
  if (command.op_case() == Command::OP_NOT_SET) {
    return Rejected(command::OUTCOME_INVALID_COMMAND, "the command has no op");
  }
  return std::nullopt;
}

}  // namespace

KvStateMachine::KvStateMachine(const KvConfig& config, uint64_t applied_index)
    : config_(config), sessions_(config), applied_index_(applied_index) {}

absl::StatusOr<CommandResult> KvStateMachine::ApplyEntry(
    uint64_t index, std::string_view data) {
  RS_CHECK_EQ(index, applied_index_ + 1);
  if (data.empty()) {
    ApplyEmpty(index);
    return CommandResult();
  }
  absl::StatusOr<Command> command =
      DecodeCommand(data, config_.CommandBytesMax());
  if (!command.ok()) {
    return absl::Status(
        command.status().code(),
        absl::StrCat("entry ", index, ": ", command.status().message()));
  }
  return Apply(index, *command);
}

CommandResult KvStateMachine::Apply(uint64_t index, const Command& command) {
  RS_CHECK_EQ(index, applied_index_ + 1);
  RS_CHECK_EQ(command.format_version(), kCommandFormatVersion);
  applied_index_ = index;
  // Thesis 6.3: expiry must be the same decision on every replica, so it
  // runs on the clock the leader stamped into the log, not a local one.
  clock_ticks_ = std::max(clock_ticks_, command.proposed_at_ticks());
  sessions_.ExpireIdle(clock_ticks_);
  return ApplyClientCommand(command);
}

void KvStateMachine::ApplyEmpty(uint64_t index) {
  RS_CHECK_EQ(index, applied_index_ + 1);
  applied_index_ = index;
}

CommandResult KvStateMachine::ApplyClientCommand(const Command& command) {
  if (std::optional<CommandResult> invalid = Validate(command)) {
    return *std::move(invalid);
  }
  CommandResult rejection;
  Session* session = SessionFor(command, &rejection);
  if (session == nullptr) return rejection;
  sessions_.Touch(command.client_id(), clock_ticks_);
  session->AdvanceFirstIncomplete(command.first_incomplete_sequence());
  const uint64_t sequence = command.sequence();
  if (sequence < session->first_incomplete_sequence) {
    // The client already has this response (it said so by advancing
    // first_incomplete_sequence past it): a stale duplicate. Never apply.
    return Rejected(
        command::OUTCOME_STALE_SEQUENCE,
        absl::StrCat("sequence ", sequence, " is below the session's ",
                     "first incomplete sequence ",
                     session->first_incomplete_sequence));
  }
  if (auto cached = session->responses.find(sequence);
      cached != session->responses.end()) {
    return cached->second;  // A retry: the first result, not a second apply.
  }
  const size_t result_bytes_bound = ResultBytesBound(command);
  if (session->responses.size() >= config_.session_responses_max ||
      session->response_bytes + result_bytes_bound >
          config_.session_response_bytes_max) {
    return Rejected(
        command::OUTCOME_SESSION_RESPONSES_FULL,
        absl::StrCat("the session caches ", session->responses.size(),
                     " responses of ", session->response_bytes,
                     " bytes; acknowledge some through ",
                     "first_incomplete_sequence"));
  }
  CommandResult result = ApplyOp(command);
  RS_CHECK_LE(result.ByteSizeLong(), result_bytes_bound);
  session->Remember(sequence, result);
  return result;
}

std::optional<CommandResult> KvStateMachine::Validate(
    const Command& command) const {
  if (std::optional<CommandResult> invalid = CheckSessionFields(command)) {
    return invalid;
  }
  const std::string_view key = OpKey(command);
  if (key.empty() || key.size() > config_.key_bytes_max) {
    return Rejected(
        command::OUTCOME_BOUND_EXCEEDED,
        absl::StrCat("key of ", key.size(), " bytes is outside [1, ",
                     "key_bytes_max ", config_.key_bytes_max, "]"));
  }
  size_t value_bytes = 0;
  if (command.has_put()) {
    value_bytes = command.put().value().size();
  } else if (command.has_compare_and_swap()) {
    const command::CompareAndSwapOp& cas = command.compare_and_swap();
    if (cas.expect_absent() && !cas.expected_value().empty()) {
      return Rejected(command::OUTCOME_INVALID_COMMAND,
                      "expect_absent with an expected_value");
    }
    value_bytes = std::max(cas.expected_value().size(), cas.new_value().size());
  }
  if (value_bytes > config_.value_bytes_max) {
    return Rejected(command::OUTCOME_BOUND_EXCEEDED,
                    absl::StrCat("value of ", value_bytes, " bytes exceeds ",
                                 "value_bytes_max ", config_.value_bytes_max));
  }
  return std::nullopt;
}

Session* KvStateMachine::SessionFor(const Command& command,
                                    CommandResult* rejection) {
  if (Session* session = sessions_.Find(command.client_id())) return session;
  // Only a command sent before the client had any response of this session
  // may open it. Any later one means the session existed and is gone, and
  // with it the memory of what applied: applying could apply twice.
  if (command.first_incomplete_sequence() != 1) {
    *rejection = Rejected(
        command::OUTCOME_SESSION_EXPIRED,
        absl::StrCat("client ", command.client_id(), " has no session ",
                     "(expired or evicted); start a new one"));
    return nullptr;
  }
  Session* session = sessions_.Open(command.client_id(), clock_ticks_);
  if (session == nullptr) {
    *rejection = Rejected(
        command::OUTCOME_SESSION_TABLE_FULL,
        absl::StrCat("all ", config_.sessions_max, " sessions were active ",
                     "within session_evict_idle_ticks_min (",
                     config_.session_evict_idle_ticks_min, ")"));
  }
  return session;
}

size_t KvStateMachine::ResultBytesBound(const Command& command) const {
  size_t bytes = kEncodingOverheadBytesMax;
  if (command.has_compare_and_swap()) {
    auto it = data_.find(command.compare_and_swap().key());
    if (it != data_.end()) bytes += it->second.size();
  }
  return bytes;
}

CommandResult KvStateMachine::ApplyOp(const Command& command) {
  CommandResult result;
  result.set_outcome(command::OUTCOME_APPLIED);
  if (command.has_put()) {
    SetValue(command.put().key(), command.put().value());
    result.mutable_put();
  } else if (command.has_delete_()) {
    result.mutable_delete_()->set_existed(EraseKey(command.delete_().key()));
  } else {
    RS_CHECK(command.has_compare_and_swap());
    const command::CompareAndSwapOp& cas = command.compare_and_swap();
    command::CompareAndSwapResult* out = result.mutable_compare_and_swap();
    auto it = data_.find(cas.key());
    const bool found = it != data_.end();
    out->set_previous_found(found);
    if (found) out->set_previous_value(it->second);
    const bool matches = cas.expect_absent()
                             ? !found
                             : found && it->second == cas.expected_value();
    out->set_succeeded(matches);
    if (matches) SetValue(cas.key(), cas.new_value());
  }
  return result;
}

void KvStateMachine::SetValue(std::string_view key, std::string_view value) {
  auto it = data_.find(key);
  if (it == data_.end()) {
    data_bytes_ += key.size() + value.size();
    data_.emplace(std::string(key), std::string(value));
    return;
  }
  RS_CHECK_GE(data_bytes_, it->second.size());
  data_bytes_ = data_bytes_ - it->second.size() + value.size();
  it->second.assign(value.data(), value.size());
}

bool KvStateMachine::EraseKey(std::string_view key) {
  auto it = data_.find(key);
  if (it == data_.end()) return false;
  RS_CHECK_GE(data_bytes_, it->first.size() + it->second.size());
  data_bytes_ -= it->first.size() + it->second.size();
  data_.erase(it);
  return true;
}

std::optional<std::string> KvStateMachine::Get(std::string_view key) const {
  auto it = data_.find(key);
  if (it == data_.end()) return std::nullopt;
  return it->second;
}

ScanResult KvStateMachine::Scan(std::string_view start, std::string_view end,
                                uint32_t limit) const {
  const uint32_t limit_max = (limit == 0 || limit > config_.scan_limit_max)
                                 ? config_.scan_limit_max
                                 : limit;
  ScanResult result;
  size_t bytes = 0;
  // Each step moves the iterator forward, so the loop ends at the range's
  // end or after limit_max pairs.
  for (auto it = data_.lower_bound(start); it != data_.end(); ++it) {
    if (!end.empty() && it->first >= end) break;
    if (result.pairs.size() >= limit_max || bytes >= config_.scan_bytes_max) {
      result.more = true;
      break;
    }
    bytes += it->first.size() + it->second.size();
    result.pairs.emplace_back(it->first, it->second);
  }
  return result;
}

std::optional<std::string> KvStateMachine::MiddleKey() const {
  if (data_.size() < 2) return std::nullopt;
  size_t before = 0;
  auto it = data_.begin();
  for (++it; it != data_.end(); ++it) {
    const auto& previous = *std::prev(it);
    before += previous.first.size() + previous.second.size();
    if (2 * before >= data_bytes_) return it->first;
  }
  return std::prev(data_.end())->first;
}

KvStateMachine KvStateMachine::SplitOff(std::string_view split_key,
                                        uint64_t right_applied_index) {
  RS_CHECK(!split_key.empty());
  KvStateMachine right(config_, right_applied_index);
  right.clock_ticks_ = clock_ticks_;
  right.sessions_ = sessions_;
  // Node handles move each pair without copying its key or value; inserting
  // at end() is amortised constant because the keys arrive in order.
  auto it = data_.lower_bound(split_key);
  while (it != data_.end()) {
    auto next = std::next(it);
    auto node = data_.extract(it);
    const size_t bytes = node.key().size() + node.mapped().size();
    RS_CHECK_GE(data_bytes_, bytes);
    data_bytes_ -= bytes;
    right.data_bytes_ += bytes;
    right.data_.insert(right.data_.end(), std::move(node));
    it = next;
  }
  return right;
}

void KvStateMachine::MergeFrom(KvStateMachine source) {
  clock_ticks_ = std::max(clock_ticks_, source.clock_ticks_);
  while (!source.data_.empty()) {
    auto node = source.data_.extract(source.data_.begin());
    data_bytes_ += node.key().size() + node.mapped().size();
    const auto inserted = data_.insert(std::move(node));
    RS_CHECK(inserted.inserted) << "merge: key \"" << inserted.position->first
                                << "\" is in both regions";
  }
  sessions_.MergeFrom(source.sessions_);
}

void KvStateMachine::CheckInvariants() const {
  size_t bytes = 0;
  for (const auto& [key, value] : data_) {
    RS_CHECK(!key.empty());
    RS_CHECK_LE(key.size(), config_.key_bytes_max);
    RS_CHECK_LE(value.size(), config_.value_bytes_max);
    bytes += key.size() + value.size();
  }
  RS_CHECK_EQ(bytes, data_bytes_);
  sessions_.CheckInvariants();
  for (const auto& [client_id, session] : sessions_.sessions()) {
    RS_CHECK_LE(session.last_active_ticks, clock_ticks_)
        << "client " << client_id;
  }
}

}  // namespace raftstore::kv
