// The client library of the KV API (proto/kvrpc.proto): routing by a region
// cache, leader hints, retries with backoff, per-attempt and per-operation
// timeouts, exactly-once write sessions (thesis 6.3), and the outcome of
// every operation as ok, fail or unknown. docs/client.md is the long form.
//
// A pure state machine: no I/O, no clock, no threads. The driver (the
// simulator's client, later the TCP client) feeds it the current time in
// microseconds and carries its messages:
//
//   id = Submit(op, deadline_us, now_us)     start an operation
//   TakeOutbox()                             -> {store_id, KvRequest} to send
//   OnResponse(store_id, response, now_us)   a store answered
//   OnTimer(now_us)                          once time reaches NextWakeUs()
//   TakeCompletions()                        -> {op id, outcome, response}
//
// After every call, the driver sends TakeOutbox(), delivers
// TakeCompletions() and re-arms its timer at NextWakeUs(). Time must never go
// backwards between calls (RS_CHECKed).
//
// Outcomes (each operation completes exactly once):
//   kOk       a store served it; the response is the result (a CAS that did
//             not swap is still ok, with succeeded=false).
//   kFail     it certainly had no effect: a read that got no answer by its
//             deadline (reads change nothing), or a write every attempt of
//             which was refused for certain (never in doubt).
//   kUnknown  a write that may or may not have applied: some attempt timed
//             out or the store said Timeout, and no certain answer came by
//             the deadline (or SessionExpired showed its session gone).
// Until its deadline, a write whose attempt may have reached a leader is
// retried with the SAME client_id and sequence, so the store's session table
// applies it at most once and answers a retry with the first result.
//
// Retries: NotLeader, EpochNotMatch, KeyNotInRegion, RegionNotFound and
// ServerBusy prove the attempt was not applied; each corrects the region
// cache and is retried, at once when it brought new routing news (a leader
// hint, new region meta; at most immediate_retries_max times in a row), else
// after an exponential backoff with jitter (ServerBusy.backoff_ms is a floor).
// An attempt unanswered after attempt_timeout_us is retried at once on the
// next peer.
//
// Sessions, one per region (thesis 6.3 per replicated state machine): each
// region's state machine keeps its own session table and opens a session
// only for a command whose first_incomplete_sequence is 1, so one session
// cannot follow a client from region to region. A write takes (client_id,
// sequence) from the session of the region its first attempt is routed to
// (a write routed by key, the cache knowing no region, gets a single-use
// session: sequence 1 opens anywhere; served ok, it becomes the serving
// region's session if that has none). A write rerouted to another region
// moves to that region's session only while EVERY attempt so far was
// certainly refused (no Timeout answer, no unanswered attempt): then its old
// sequence certainly never applies and is dropped. Once in doubt it keeps
// its (client_id, sequence) wherever its key goes: split children and merge
// targets copy the sessions of the regions they came from, so the retry is
// answered with the first result; a SessionExpired answer to it makes it
// unknown. first_incomplete_sequence is the lowest sequence of the session
// whose outcome the client has not learned, except that it is 1 until some
// write of the session was answered ok (until then the store may not have
// opened it, and whichever write arrives first must be able to). A write
// that ends unknown, or a SessionExpired answer, retires its session
// (kv-state-machine.md: "a client that gives up on a request abandons the
// session"); a write refused with SessionExpired and never in doubt is
// retried on a fresh session. Client ids come from the ClientIdSource, fresh
// for every session. docs/client.md argues each rule.
//
// Scans cross regions: each region serves its part (clamped to its end key,
// ResponseHeader.region says where that is) and the client continues from
// the served region's end until the scan's end or limit, merging the pairs in
// key order. A multi-region scan is not one snapshot: each region's part is
// linearizable on its own.
//
// Bounds (KvClientConfig): operations in flight (completions not yet taken
// count), writes in flight, sessions, the scan limit, and the region cache.
// Submit past a bound answers kResourceExhausted; memory never grows without
// bound. The outbox holds at most one request per operation.
//
// Deterministic: btree containers only; randomness (backoff jitter) only from
// the Rng handed in. Thread-safety: none; one owner drives it.
#ifndef RAFTSTORE_CORE_CLIENT_KV_CLIENT_H_
#define RAFTSTORE_CORE_CLIENT_KV_CLIENT_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/base/rng.h"
#include "core/client/region_cache.h"
#include "proto/kvrpc.pb.h"
#include "proto/region.pb.h"

namespace raftstore::client {

struct KvClientConfig {
  // The stores to ask when the cache knows no region for a key (the store
  // then routes by key itself). Nonzero, no repeats, at least one.
  std::vector<uint64_t> store_ids;
  // Operations submitted and not yet taken by TakeCompletions.
  size_t ops_in_flight_max = 1024;
  // Writes submitted and not yet completed, over all sessions. Keep it at
  // or below the store's session_responses_max (one session may hold all).
  size_t writes_in_flight_max = 64;
  // Sessions kept: those with writes in flight, retired ones whose last
  // writes are still in flight, and idle ones kept for reuse (the least
  // recently used idle one is dropped to make room). At least
  // writes_in_flight_max, so a write never waits for a session: each write
  // holds at most one, so one is always idle or free.
  size_t sessions_max = 256;
  // Pairs one Scan returns at most; a Scan limit of 0 means this.
  uint32_t scan_limit_max = 1024;
  // An attempt unanswered this long is given up and retried.
  uint64_t attempt_timeout_us = 200'000;
  // Backoff before the n-th retry (n from 0): a uniform draw in [b/2, b]
  // with b = min(backoff_max_us, backoff_initial_us * 2^n).
  uint64_t backoff_initial_us = 2'000;
  uint64_t backoff_max_us = 200'000;
  // Retries at once in a row (after a leader hint or new region meta) before
  // the next one backs off anyway: two stores naming each other as leader
  // must not make a client spin.
  uint32_t immediate_retries_max = 3;
  RegionCacheConfig cache;

  // kInvalidArgument naming the first field out of range.
  absl::Status Validate() const;
};

enum class Outcome { kOk, kFail, kUnknown };
std::string_view OutcomeName(Outcome outcome);

// A request to send. The driver sends `request` to store `store_id`;
// `op_id` is for traces only.
struct Outgoing {
  uint64_t store_id = 0;
  uint64_t op_id = 0;
  kv::KvRequest request;
};

// One session as the client sees it (for tests, traces and metrics).
struct SessionInfo {
  uint64_t client_id = 0;
  // The region it is bound to; 0 for a single-use session (a write routed
  // by key).
  uint64_t region_id = 0;
  uint64_t next_sequence = 1;
  // What the next attempt of a write of it sends.
  uint64_t first_incomplete_sequence = 1;
  size_t writes_in_flight = 0;
  bool retired = false;
};

// One finished operation.
struct Completion {
  uint64_t op_id = 0;
  Outcome outcome = Outcome::kUnknown;
  // kOk: the store's response (for a Scan, the pairs of every region merged
  // in key order, `more` set when the limit cut the scan short with keys
  // possibly left, and no header). Otherwise empty.
  kv::KvResponse response;
  // kFail/kUnknown: the last error seen (a Timeout error when no attempt got
  // an answer). Unset for kOk.
  kv::Error error;
  // The session of a write (client_id 0 for reads).
  uint64_t client_id = 0;
  uint64_t sequence = 0;
  uint32_t attempts = 0;
};

// Counters for tests, traces and metrics.
struct KvClientStats {
  uint64_t submitted = 0;
  uint64_t attempts = 0;
  uint64_t attempt_timeouts = 0;
  uint64_t backoffs = 0;
  uint64_t not_leader = 0;
  uint64_t epoch_not_match = 0;
  uint64_t key_not_in_region = 0;
  uint64_t region_not_found = 0;
  uint64_t server_busy = 0;
  uint64_t store_timeouts = 0;
  uint64_t session_expired = 0;
  // Responses matching no live attempt (late, duplicated or malformed).
  uint64_t responses_ignored = 0;
  uint64_t sessions_opened = 0;
  // Retired: a write ended unknown or a store said SessionExpired; its
  // client id takes no new writes.
  uint64_t sessions_retired = 0;
  // Idle sessions dropped to make room (sessions_max).
  uint64_t sessions_evicted = 0;
  // Single-use sessions that became their serving region's session.
  uint64_t sessions_adopted = 0;
  // Writes moved to another session before any attempt was in doubt (a
  // reroute to another region, or SessionExpired).
  uint64_t writes_rebound = 0;
  uint64_t ok = 0;
  uint64_t failed = 0;
  uint64_t unknown = 0;
};

class KvClient {
 public:
  // Returns a fresh nonzero client id each call, never one returned before
  // (ids must differ from every other client's too). Called whenever a
  // session is opened (the first write to a region, a write routed by key,
  // after a retirement).
  using ClientIdSource = absl::AnyInvocable<uint64_t()>;

  // Preconditions (RS_CHECKed): config.Validate() is OK; next_client_id is
  // set. `rng` draws the backoff jitter only.
  KvClient(const KvClientConfig& config, Rng rng,
           ClientIdSource next_client_id);
  KvClient(const KvClient&) = delete;
  KvClient& operator=(const KvClient&) = delete;

  // Starts `op`: a KvRequest with exactly one of get, put, delete, scan,
  // compare_and_swap set. Its header and request_id are ignored (the client
  // fills them per attempt). The first attempt is queued in the outbox at
  // once. Returns the operation's id (1, 2, ...), or:
  //   kInvalidArgument: no operation; an empty key; a Scan whose start_key is
  //     not below a non-empty end_key or whose limit exceeds scan_limit_max;
  //     a CAS with both expect_absent and an expected value; a deadline not
  //     after now_us;
  //   kResourceExhausted: ops_in_flight_max or (for a write)
  //     writes_in_flight_max reached.
  absl::StatusOr<uint64_t> Submit(const kv::KvRequest& op, uint64_t deadline_us,
                                  uint64_t now_us);

  // The requests to send now, in the order they were made; empties the
  // outbox. A request never taken is replaced by the operation's next
  // attempt, so the outbox holds at most one per operation.
  std::vector<Outgoing> TakeOutbox();

  // A response from `store_id`. One that matches no live attempt (late,
  // from another store, of another kind) is counted and ignored.
  void OnResponse(uint64_t store_id, const kv::KvResponse& response,
                  uint64_t now_us);

  // Handles every attempt timeout and backoff end at or before now_us.
  void OnTimer(uint64_t now_us);

  // When OnTimer next has work, or nullopt when nothing waits on time.
  std::optional<uint64_t> NextWakeUs() const;

  // Finished operations, in completion order; empties the queue.
  std::vector<Completion> TakeCompletions();

  // The cache, to seed or inspect it.
  RegionCache& region_cache() { return cache_; }
  const RegionCache& region_cache() const { return cache_; }

  // The client id of the live session bound to region_id (the one its next
  // write will use), or nullopt when it has none.
  std::optional<uint64_t> RegionSession(uint64_t region_id) const;
  // Every session kept, by client id.
  std::vector<SessionInfo> Sessions() const;
  size_t ops_in_flight() const { return ops_.size() + completions_.size(); }
  size_t writes_in_flight() const { return writes_in_flight_; }
  const KvClientStats& stats() const { return stats_; }

  // RS_CHECKs the bookkeeping (timers, sessions, counters). Linear; for
  // tests.
  void CheckInvariants() const;

 private:
  enum class State { kSent, kBackoff };

  struct Op {
    uint64_t id = 0;
    kv::KvRequest request;  // header and request_id set per attempt
    bool is_write = false;
    uint64_t deadline_us = 0;
    // A write's session and sequence, bound at its first attempt (0 before).
    uint64_t client_id = 0;
    uint64_t sequence = 0;
    // Some attempt may have reached a leader and been proposed: the write
    // keeps (client_id, sequence) from then on.
    bool maybe_applied = false;
    uint32_t attempts = 0;
    uint32_t backoffs = 0;
    uint32_t immediate_retries = 0;
    State state = State::kBackoff;
    uint64_t timer_us = 0;       // attempt timeout or backoff end
    uint64_t request_id = 0;     // of the attempt in flight
    uint64_t target_store = 0;   // where it went
    uint64_t target_region = 0;  // region id it named, 0 when routed by key
    // A leader hint for a region the cache does not hold (region_id 0).
    uint64_t store_hint = 0;
    kv::Error last_error;
    // Scans: where the next region's part starts, and the pairs so far.
    std::string scan_cursor;
    kv::ScanResponse scan_result;
  };

  struct Session {
    uint64_t region_id = 0;  // 0: single-use (a write routed by key)
    uint64_t next_sequence = 1;
    // Sequences issued whose outcome the client has not learned (a
    // sequence certainly never applied, by a rebind or a kFail, is learned).
    absl::btree_set<uint64_t> incomplete;
    // Some write of it was answered ok: the store has it open.
    bool answered = false;
    size_t ops = 0;          // live operations of this session
    uint64_t last_used = 0;  // logical clock, for dropping the idle LRU
    bool retired = false;
    bool expired = false;  // a store answered SessionExpired
  };

  enum class Retry { kNow, kBackoff };

  // Gives a write not in doubt the session of op.target_region, dropping
  // its old sequence if it had one elsewhere (or on an expired session).
  void BindSession(Op& op);
  // The live session of `region_id` (0: a new single-use one), opened if
  // needed; returns its client id.
  uint64_t AcquireSession(uint64_t region_id);
  uint64_t OpenSession(uint64_t region_id);
  // Drops the least recently used idle session; RS_CHECKs one exists.
  void EvictIdleSession();
  void RetireSession(uint64_t client_id);
  // Takes `op` off its session as ending with `outcome` (a rebind is kFail:
  // certainly never applied); the sequence stays open only when unknown.
  // `served_region`: where it was served ok (0 otherwise).
  void ReleaseSession(Op& op, Outcome outcome, uint64_t served_region);
  uint64_t FirstIncomplete(const Session& session) const;
  void Attempt(Op& op, uint64_t now_us);
  // Fills the header and picks the store; returns the store id.
  uint64_t Route(Op& op, kv::RequestHeader* header);
  uint64_t NextStore();
  void ScheduleRetry(Op& op, Retry how, uint64_t floor_us, uint64_t now_us);
  void OnAttemptTimeout(Op& op, uint64_t now_us);
  void OnError(Op& op, const kv::Error& error, uint64_t now_us);
  void OnNotLeader(Op& op, const kv::NotLeader& not_leader, uint64_t now_us);
  void OnEpochNotMatch(Op& op, const kv::EpochNotMatch& stale, uint64_t now_us);
  void OnServed(Op& op, uint64_t store_id, const kv::KvResponse& response,
                uint64_t now_us);
  // Scans: merges one region's part; true when the scan is complete.
  bool MergeScanPart(Op& op, const kv::ScanResponse& part);
  // Ends `op` without a result: unknown if it may have applied, else fail.
  void GiveUp(Op& op);
  void Finish(Op& op, Outcome outcome, kv::KvResponse response,
              uint64_t served_region = 0);
  void SetTimer(Op& op, State state, uint64_t at_us);
  void AdvanceTime(uint64_t now_us);

  const KvClientConfig config_;
  Rng rng_;
  ClientIdSource next_client_id_;
  RegionCache cache_;
  absl::btree_map<uint64_t, Op> ops_;                      // by op id
  absl::btree_map<uint64_t, uint64_t> attempts_;           // request id -> op
  absl::btree_set<std::pair<uint64_t, uint64_t>> timers_;  // (at_us, op id)
  absl::btree_map<uint64_t, Session> sessions_;            // by client id
  // Region id -> client id of its live (not retired) session.
  absl::btree_map<uint64_t, uint64_t> region_sessions_;
  uint64_t session_clock_ = 0;
  std::vector<Outgoing> outbox_;
  std::vector<Completion> completions_;
  size_t writes_in_flight_ = 0;
  size_t store_cursor_ = 0;
  uint64_t next_op_id_ = 1;
  uint64_t next_request_id_ = 1;
  uint64_t now_us_ = 0;
  KvClientStats stats_;
};

}  // namespace raftstore::client

#endif  // RAFTSTORE_CORE_CLIENT_KV_CLIENT_H_
