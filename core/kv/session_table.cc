#include "core/kv/session_table.h"

#include <algorithm>
#include <utility>

#include "core/base/check.h"

namespace raftstore::kv {

void Session::AdvanceFirstIncomplete(uint64_t sequence) {
  if (sequence <= first_incomplete_sequence) return;
  first_incomplete_sequence = sequence;
  auto end = responses.lower_bound(sequence);
  for (auto it = responses.begin(); it != end; ++it) {
    RS_CHECK_GE(response_bytes, it->second.ByteSizeLong());
    response_bytes -= it->second.ByteSizeLong();
  }
  responses.erase(responses.begin(), end);
}

void Session::Remember(uint64_t sequence, command::CommandResult result) {
  RS_CHECK_GE(sequence, first_incomplete_sequence);
  response_bytes += result.ByteSizeLong();
  const bool inserted = responses.emplace(sequence, std::move(result)).second;
  RS_CHECK(inserted) << "sequence " << sequence << " cached twice";
}

SessionTable::SessionTable(const KvConfig& config) : config_(config) {
  RS_CHECK(config_.Validate().ok()) << config_.Validate();
}

Session* SessionTable::Find(uint64_t client_id) {
  auto it = sessions_.find(client_id);
  return it == sessions_.end() ? nullptr : &it->second;
}

const Session* SessionTable::Find(uint64_t client_id) const {
  auto it = sessions_.find(client_id);
  return it == sessions_.end() ? nullptr : &it->second;
}

size_t SessionTable::ExpireIdle(uint64_t now_ticks) {
  size_t removed = 0;
  // Each pass removes one session, so this ends within size() passes.
  while (!by_activity_.empty()) {
    const auto [last_active, client_id] = *by_activity_.begin();
    RS_CHECK_LE(last_active, now_ticks);
    if (now_ticks - last_active <= config_.session_ttl_ticks) break;
    Remove(client_id);
    ++removed;
  }
  return removed;
}

Session* SessionTable::Open(uint64_t client_id, uint64_t now_ticks) {
  RS_CHECK(Find(client_id) == nullptr) << "client " << client_id;
  if (sessions_.size() >= config_.sessions_max) {
    RS_CHECK(!by_activity_.empty());
    const auto [last_active, victim] = *by_activity_.begin();
    RS_CHECK_LE(last_active, now_ticks);
    if (now_ticks - last_active < config_.session_evict_idle_ticks_min) {
      return nullptr;
    }
    Remove(victim);
  }
  Session& session = sessions_[client_id];
  session.last_active_ticks = now_ticks;
  by_activity_.emplace(now_ticks, client_id);
  return &session;
}

void SessionTable::Touch(uint64_t client_id, uint64_t now_ticks) {
  Session* session = Find(client_id);
  RS_CHECK(session != nullptr) << "client " << client_id;
  RS_CHECK_LE(session->last_active_ticks, now_ticks);
  by_activity_.erase({session->last_active_ticks, client_id});
  session->last_active_ticks = now_ticks;
  by_activity_.emplace(now_ticks, client_id);
}

void SessionTable::Insert(uint64_t client_id, Session session) {
  RS_CHECK_LT(sessions_.size(), config_.sessions_max);
  by_activity_.emplace(session.last_active_ticks, client_id);
  const bool inserted = sessions_.emplace(client_id, std::move(session)).second;
  RS_CHECK(inserted) << "client " << client_id << " restored twice";
}

void SessionTable::Remove(uint64_t client_id) {
  auto it = sessions_.find(client_id);
  RS_CHECK(it != sessions_.end()) << "client " << client_id;
  by_activity_.erase({it->second.last_active_ticks, client_id});
  sessions_.erase(it);
}

size_t SessionTable::MergeFrom(const SessionTable& other) {
  for (const auto& [client_id, theirs] : other.sessions_) {
    Session* mine = Find(client_id);
    if (mine == nullptr) {
      by_activity_.emplace(theirs.last_active_ticks, client_id);
      sessions_.emplace(client_id, theirs);
      continue;
    }
    Session merged = *mine;
    merged.AdvanceFirstIncomplete(theirs.first_incomplete_sequence);
    for (const auto& [sequence, result] : theirs.responses) {
      if (sequence < merged.first_incomplete_sequence ||
          merged.responses.contains(sequence)) {
        continue;
      }
      merged.Remember(sequence, result);
    }
    merged.last_active_ticks =
        std::max(merged.last_active_ticks, theirs.last_active_ticks);
    TrimResponses(merged);
    Remove(client_id);
    by_activity_.emplace(merged.last_active_ticks, client_id);
    sessions_.emplace(client_id, std::move(merged));
  }
  size_t dropped = 0;
  while (sessions_.size() > config_.sessions_max) {
    Remove(by_activity_.begin()->second);
    ++dropped;
  }
  return dropped;
}

void SessionTable::TrimResponses(Session& session) const {
  while (!session.responses.empty() &&
         (session.responses.size() > config_.session_responses_max ||
          session.response_bytes > config_.session_response_bytes_max)) {
    session.AdvanceFirstIncomplete(session.responses.begin()->first + 1);
  }
}

void SessionTable::CheckInvariants() const {
  RS_CHECK_EQ(by_activity_.size(), sessions_.size());
  RS_CHECK_LE(sessions_.size(), config_.sessions_max);
  for (const auto& [client_id, session] : sessions_) {
    RS_CHECK(by_activity_.contains({session.last_active_ticks, client_id}))
        << "client " << client_id;
    RS_CHECK_LE(session.responses.size(), config_.session_responses_max);
    RS_CHECK_LE(session.response_bytes, config_.session_response_bytes_max);
    size_t bytes = 0;
    for (const auto& [sequence, result] : session.responses) {
      RS_CHECK_GE(sequence, session.first_incomplete_sequence);
      bytes += result.ByteSizeLong();
    }
    RS_CHECK_EQ(bytes, session.response_bytes) << "client " << client_id;
  }
}

}  // namespace raftstore::kv
