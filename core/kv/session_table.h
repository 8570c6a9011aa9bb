// Client sessions of the KV state machine, for exactly-once writes (thesis
// 6.3). A session per client id remembers the responses of the sequences it
// applied, so a retried command returns the first result instead of applying
// twice. The table is bounded (KvConfig::sessions_max) and expiry is decided
// by the replicated logical clock, never a local one, so every replica keeps
// the same sessions.
//
// Order is deterministic throughout: sessions are kept by client id and by
// (last activity, client id) in btree containers; no hash container is used.
//
// Thread-safety: none; owned by one KvStateMachine.
#ifndef RAFTSTORE_CORE_KV_SESSION_TABLE_H_
#define RAFTSTORE_CORE_KV_SESSION_TABLE_H_

#include <cstddef>
#include <cstdint>
#include <utility>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "core/kv/kv_config.h"
#include "proto/command.pb.h"

namespace raftstore::kv {

struct Session {
  // The state machine clock when the session last saw a command.
  uint64_t last_active_ticks = 0;
  // The largest first_incomplete_sequence seen: the client holds responses
  // for every sequence below it, so such a sequence is a stale duplicate.
  uint64_t first_incomplete_sequence = 1;
  // Responses of applied sequences >= first_incomplete_sequence.
  absl::btree_map<uint64_t, command::CommandResult> responses;
  // Encoded size of `responses` (sum of ByteSizeLong), kept for the bound.
  size_t response_bytes = 0;

  // Raises first_incomplete_sequence to `sequence` (never lowers it) and
  // drops the responses below it.
  void AdvanceFirstIncomplete(uint64_t sequence);
  // Caches the result of an applied `sequence`. Preconditions: sequence >=
  // first_incomplete_sequence and not cached yet.
  void Remember(uint64_t sequence, command::CommandResult result);
};

class SessionTable {
 public:
  // Precondition: config.Validate() is OK. Keeps a copy of the bounds.
  explicit SessionTable(const KvConfig& config);

  // The session of client_id, or null if it has none.
  Session* Find(uint64_t client_id);
  const Session* Find(uint64_t client_id) const;

  // Removes every session idle for more than session_ttl_ticks at now_ticks.
  // Returns how many were removed.
  size_t ExpireIdle(uint64_t now_ticks);

  // Opens an empty session for client_id (precondition: it has none), active
  // at now_ticks. When the table is full, evicts the least recently active
  // session (ties: lowest client id) if it has been idle for at least
  // session_evict_idle_ticks_min; otherwise opens nothing and returns null.
  Session* Open(uint64_t client_id, uint64_t now_ticks);

  // Marks client_id's session (precondition: it exists) active at now_ticks.
  void Touch(uint64_t client_id, uint64_t now_ticks);

  // Adds a restored session (snapshot import). Preconditions: client_id has
  // none and the table is not full.
  void Insert(uint64_t client_id, Session session);

  // Takes in the sessions of `other` (a merged region's table). A client
  // with a session in both keeps one: the larger first_incomplete_sequence,
  // the later activity and every cached response at or above it (a sequence
  // cached in both applied once, before a split copied the session, so
  // either copy is the response). The bounds hold afterwards: a merged
  // session over session_responses_max or session_response_bytes_max drops
  // its lowest responses and raises first_incomplete_sequence past them (a
  // retry of those is then STALE_SEQUENCE, never applied twice), and a table
  // over sessions_max drops its least recently active sessions (their
  // clients get SESSION_EXPIRED, which is safe). Returns how many sessions
  // were dropped.
  size_t MergeFrom(const SessionTable& other);

  const absl::btree_map<uint64_t, Session>& sessions() const {
    return sessions_;
  }
  size_t size() const { return sessions_.size(); }

  // RS_CHECKs that the activity index matches the sessions and every bound
  // holds. Linear in the table; for tests and RS_DCHECK.
  void CheckInvariants() const;

 private:
  void Remove(uint64_t client_id);
  // Drops the lowest responses of `session` until it is within the bounds.
  void TrimResponses(Session& session) const;

  KvConfig config_;
  absl::btree_map<uint64_t, Session> sessions_;
  // (last_active_ticks, client_id) of every session: the front is the least
  // recently active, which both expiry and eviction look at.
  absl::btree_set<std::pair<uint64_t, uint64_t>> by_activity_;
};

}  // namespace raftstore::kv

#endif  // RAFTSTORE_CORE_KV_SESSION_TABLE_H_
