// The consensus state machine of one raft group on one node.
//
// Raft is pure: it reads its durable state through a Storage, takes every
// input through a method (Tick, Step, Propose, ...), and leaves every effect
// in an outbox (messages, read states, log entries to persist) that RawNode
// turns into a Ready for the driver. No I/O, clocks, threads or globals; the
// only randomness is the election timeout, drawn from the Rng handed in.
// The design follows etcd-io/raft (raft.go): one step function per role, a
// progress tracker for the leader, a log split into stable storage and an
// unstable tail.
//
// Roles (paper §5.1, thesis §9.6): follower, pre-candidate (a PreVote round
// for term + 1 that does not raise the term), candidate, leader.
//
// Persistence (thesis §10.2.1). Raft never writes. New entries go to the
// unstable tail of the log; the driver persists them and acknowledges with
// OnPersisted(). A leader counts its own entries towards commitment only
// from that acknowledgement on: its own Progress.match is exactly the last
// index the driver has made durable. That is what lets a leader send its
// appends to followers in parallel with writing them to its own disk.
//
// Bad input from the network never crashes the node: Step() ignores or
// rejects it and counts it by reason in Counters. A broken invariant of the
// node itself (checked after every Step and Tick) is a bug and fails an
// RS_CHECK.
//
// Thread-safety: none; a Raft belongs to one raft group and one thread.
#ifndef RAFTSTORE_CORE_RAFT_RAFT_H_
#define RAFTSTORE_CORE_RAFT_RAFT_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/base/rng.h"
#include "core/raft/log/raft_log.h"
#include "core/raft/log/storage.h"
#include "core/raft/readonly/read_only.h"
#include "core/raft/tracker/tracker.h"
#include "proto/raft.pb.h"

namespace raftstore::raft {

// How a leader confirms that it may serve a read at its commit index.
enum class ReadOnlyOption {
  // ReadIndex (thesis §6.4): a heartbeat round acknowledged by a quorum
  // after the read arrived proves the leader was still the leader.
  kSafe,
  // Lease reads (thesis §6.4.1): the leader trusts that no other leader can
  // exist while CheckQuorum keeps it in office. Depends on bounded clock
  // drift between nodes; requires check_quorum. While a leadership transfer
  // is under way the lease is not trusted (the target campaigns past
  // stickiness) and reads take the ReadIndex path. Known limit, as in
  // etcd: the lease is judged by the previous CheckQuorum window, so it can
  // outlast the followers' stickiness by up to one election timeout after
  // the last contact; prefer kSafe where that matters.
  kLeaseBased,
};

#ifdef RAFTSTORE_INJECTED_BUGS
// Deliberately wrong variants, compiled only into the testonly
// *_with_injected_bugs targets (never into a production binary): the
// simulator must catch each one, which proves its checkers can fail
// (tests/sim_bugs). kCommitOldTermByCounting lives in this core; the others
// are driver bugs the simulator's node implements.
enum class InjectedBug {
  kNone,
  // A leader commits an entry of an earlier term by counting its replicas,
  // the mistake paper §5.4.2 and Figure 8 warn against.
  kCommitOldTermByCounting,
  // A follower acknowledges appends (and votes) before its write is durable.
  kAckBeforePersist,
  // A node that believes it leads serves reads from its own state without
  // confirming leadership (no ReadIndex, no lease).
  kStaleLeaderRead,
  // A voter grants its vote without checking that the candidate's log is at
  // least as up to date as its own (paper §5.4.1's election restriction).
  kVoteWithoutLogCheck,
};
#endif

struct Config {
  // This node's id; never 0.
  uint64_t id = 0;
  // Ticks without hearing from a leader before a follower campaigns. The
  // actual timeout is drawn uniformly from [election_tick, 2 * election_tick)
  // after every reset (paper §5.2: randomised timeouts make split votes
  // rare). Must be greater than heartbeat_tick.
  int election_tick = 10;
  // Ticks between a leader's heartbeats. Must be >= 1.
  int heartbeat_tick = 1;
  // The durable state, read only; not owned, must outlive the node.
  const Storage* storage = nullptr;
  // The last index the state machine has applied, on restart; 0 for a new
  // node. Must not exceed the persisted commit index.
  uint64_t applied = 0;
  // Largest total entry bytes in one append message (at least one entry is
  // always sent, so one large entry never stalls replication).
  uint64_t max_size_per_msg_bytes = 1 << 20;
  // Appends in flight per follower in the replicate state (thesis §10.2.2).
  size_t max_inflight_msgs = 256;
  // Bytes in flight per follower.
  uint64_t max_inflight_bytes = 32 << 20;
  // Bytes of proposals a leader holds uncommitted; past it Propose returns
  // kTooLarge (backpressure). A single proposal is accepted when nothing is
  // uncommitted, whatever its size.
  uint64_t max_uncommitted_entries_bytes = 64 << 20;
  // A leader steps down when no quorum was heard from within an election
  // timeout (thesis §6.2); also enables leader stickiness.
  bool check_quorum = false;
  // A PreVote round precedes every election (thesis §9.6).
  bool pre_vote = false;
  ReadOnlyOption read_only_option = ReadOnlyOption::kSafe;
  // Read requests waiting at a leader; past it ReadIndex returns kBusy.
  size_t pending_reads_max = 1024;
#ifdef RAFTSTORE_INJECTED_BUGS
  InjectedBug injected_bug = InjectedBug::kNone;
#endif
  // Bytes of committed entries handed out in one Ready.
  uint64_t max_committed_size_per_ready_bytes = 64 << 20;

  // Returns OK, or kInvalidArgument naming the first field out of range.
  absl::Status Validate() const;
};

// The largest log index a node accepts from the network. Far beyond any
// real log (2^62 entries), and far enough below 2^64 that index + 1 and
// index + entries never overflow.
inline constexpr uint64_t kLogIndexMax = uint64_t{1} << 62;

enum class Role { kFollower, kPreCandidate, kCandidate, kLeader };
std::string_view RoleName(Role role);

// Outcome of Propose() and ProposeConfChange().
enum class ProposeResult {
  kOk,
  // Only a leader accepts proposals; the caller redirects to leader().
  kNotLeader,
  // A leadership transfer is under way (thesis §3.10); retry later.
  kTransferInProgress,
  // max_uncommitted_entries_bytes would be exceeded: backpressure.
  kTooLarge,
  // A conf change is proposed but not yet applied; one at a time.
  kConfChangePending,
  // The proposal itself is malformed (an entry of the wrong type, a conf
  // change that does not fit the current configuration).
  kInvalid,
};
std::string_view ProposeResultName(ProposeResult result);

enum class ReadIndexResult {
  // Queued (or answered at once, in a ReadState).
  kOk,
  // No leader is known; the read cannot be served now.
  kNoLeader,
  // pending_reads_max reads are waiting.
  kBusy,
  // The context is empty (it must identify the request).
  kInvalid,
};

enum class TransferResult {
  // Transfer started (or already under way to the same target).
  kOk,
  kNotLeader,
  // The target is not a voter of the current configuration.
  kInvalidTarget,
  // The target is this node, which already leads.
  kAlreadyLeader,
};

// A linearizable read that may be served once the state machine has
// applied `index`.
struct ReadState {
  uint64_t index = 0;
  std::string context;
  friend bool operator==(const ReadState&, const ReadState&) = default;
};

// Volatile state that the driver may want to watch (who leads, in which
// role this node is). Not persisted.
struct SoftState {
  uint64_t leader = 0;
  Role role = Role::kFollower;
  friend bool operator==(const SoftState&, const SoftState&) = default;
};

// Network input that was ignored, by reason. Every counter is monotonic.
struct Counters {
  // Type UNSPECIFIED or unknown.
  uint64_t unspecified_type = 0;
  // `to` is not this node, `from` is 0 or this node, or term is 0.
  uint64_t bad_address = 0;
  // A message that only a member may send (a response to the leader, a
  // transfer or read request) from a node outside the configuration.
  uint64_t unknown_peer = 0;
  // A message of an older term.
  uint64_t stale_term = 0;
  // An index beyond the log (an acknowledgement of entries never sent, a
  // commit past the last entry) or entries that do not fit their header.
  uint64_t out_of_range_index = 0;
  // A snapshot no newer than the commit index, or that does not include
  // this node, or with a malformed configuration.
  uint64_t stale_snapshot = 0;
  // A message that makes no sense in the receiver's role (a vote response
  // to a follower, an append response to a candidate).
  uint64_t unexpected_type = 0;
  // Vote or PreVote requests ignored because a leader was heard from within
  // the election timeout (leader stickiness, thesis §4.2.3).
  uint64_t vote_ignored_in_lease = 0;
};

class Raft {
 public:
  // Validates `config`, reads the initial state from its storage and starts
  // as a follower. Errors: kInvalidArgument for a bad config or one that
  // does not fit the storage (applied beyond the commit index), and
  // kDataLoss if the persisted commit index is beyond the persisted log.
  // `rng` is not owned and must outlive the node.
  static absl::StatusOr<std::unique_ptr<Raft>> Create(const Config& config,
                                                      Rng* rng);

  // The checks of Create(), without constructing anything (and without
  // drawing from any Rng).
  static absl::Status CheckStartingState(const Config& config);

  // As Create(), but a bad config or storage fails an RS_CHECK.
  Raft(const Config& config, Rng* rng);

  Raft(const Raft&) = delete;
  Raft& operator=(const Raft&) = delete;

  // --- Inputs ---------------------------------------------------------

  // Handles one message from another node. Returns kInvalidArgument if its
  // envelope is malformed (UNSPECIFIED or unknown type, wrong `to`, `from`
  // 0 or self, term 0), and OK otherwise, including when its content was
  // ignored (a stale term, an index out of range, a stale snapshot). Either
  // way, everything ignored is counted in counters().
  absl::Status Step(const Message& message);

  // Advances logical time by one tick: election timeout for followers and
  // candidates; heartbeats, CheckQuorum and transfer timeout for leaders.
  void Tick();

  // Starts an election now (PreVote first if configured), as if the
  // election timeout had elapsed. Returns false, doing nothing, if this node
  // leads already or may not campaign (a learner, not a member, a snapshot
  // pending, or committed conf changes not yet applied).
  bool Campaign();

  // Appends `entries` (type NORMAL; index and term are assigned here) to the
  // leader's log and replicates them.
  ProposeResult Propose(std::vector<Entry> entries);

  // Proposes a membership change. One at a time: refused while an earlier
  // one is not yet applied. A change that enters joint consensus is refused
  // while already joint, and a leave request outside it.
  ProposeResult ProposeConfChange(const ConfChange& change);

  // Applies a committed conf change (called by the driver when it applies
  // the CONF_CHANGE entry) and returns the resulting membership. Errors
  // from confchange (a change that does not fit the configuration) leave
  // the configuration unchanged.
  absl::StatusOr<ConfState> ApplyConfChange(const ConfChange& change);

  // Hands leadership to `target` (thesis §3.10). On a follower asking for
  // itself, forwards the request to the leader.
  TransferResult TransferLeader(uint64_t target);

  // Requests a linearizable read identified by `context` (thesis §6.4).
  // The answer arrives later as a ReadState.
  ReadIndexResult ReadIndex(std::string context);

  // The driver reports whether the snapshot sent to `id` was installed.
  void ReportSnapshot(uint64_t id, bool success);

  // The driver could not reach `id`; a pipelining leader falls back to
  // probing it.
  void ReportUnreachable(uint64_t id);

  // The driver has made entries up to (index, term) durable.
  void OnPersisted(uint64_t index, uint64_t term);
  // The driver has made the snapshot at `index` durable and installed it in
  // the state machine.
  void OnSnapshotPersisted(uint64_t index);
  // The state machine has applied entries up to `index`, whose entries
  // (handed out by the log) carried `entry_bytes` bytes of payload; frees
  // that much of the uncommitted-bytes budget.
  void OnApplied(uint64_t index, uint64_t entry_bytes);

  // --- Outputs --------------------------------------------------------

  // Removes and returns the messages produced since the last call, in the
  // order produced.
  std::vector<Message> TakeMessages();
  const std::vector<Message>& messages() const { return messages_; }
  std::vector<ReadState> TakeReadStates();
  const std::vector<ReadState>& read_states() const { return read_states_; }

  // --- State ----------------------------------------------------------

  uint64_t id() const { return id_; }
  uint64_t term() const { return term_; }
  uint64_t vote() const { return vote_; }
  uint64_t leader() const { return leader_; }
  Role role() const { return role_; }
  SoftState soft_state() const { return {leader_, role_}; }
  HardState hard_state() const;
  const RaftLog& log() const { return log_; }
  // For RawNode, which hands the unstable tail and committed entries out
  // (AcceptUnstable, AcceptApplying); no one else should mutate the log.
  RaftLog& mutable_log() { return log_; }
  const ProgressTracker& tracker() const { return tracker_; }
  const Counters& counters() const { return counters_; }
  uint64_t lead_transferee() const { return lead_transferee_; }
  uint64_t pending_conf_index() const { return pending_conf_index_; }
  int randomized_election_timeout() const {
    return randomized_election_timeout_;
  }
  int election_elapsed() const { return election_elapsed_; }
  uint64_t uncommitted_bytes() const { return uncommitted_bytes_; }
  const ReadOnly& read_only() const { return read_only_; }
  const Config& config() const { return config_; }
  // Whether this node may campaign (a voter with no snapshot pending).
  bool Promotable() const;

 private:
  enum class CampaignType { kPreElection, kElection, kTransfer };

  // A ReadIndex request waiting for the leader to commit an entry of its
  // term (thesis §6.4 step 1).
  struct PendingRead {
    std::string context;
    uint64_t from = 0;
  };

  // Checks the per-step invariants when an input method returns.
  class StepGuard {
   public:
    explicit StepGuard(const Raft* raft)
        : raft_(raft),
          term_(raft->term_),
          vote_(raft->vote_),
          committed_(raft->log_.committed()) {}
    StepGuard(const StepGuard&) = delete;
    StepGuard& operator=(const StepGuard&) = delete;
    ~StepGuard() { raft_->CheckInvariants(term_, vote_, committed_); }

   private:
    const Raft* raft_;
    uint64_t term_;
    uint64_t vote_;
    uint64_t committed_;
  };

  // raft.cc: roles and dispatch.
  void Reset(uint64_t term);
  void BecomeFollower(uint64_t term, uint64_t leader);
  void BecomePreCandidate();
  void BecomeCandidate();
  void BecomeLeader();
  void ResetRandomizedElectionTimeout();
  absl::Status CheckAddressing(const Message& m);
  absl::Status StepByTerm(const Message& m, bool* done);
  void StepLeader(const Message& m);
  void StepCandidate(const Message& m);
  void StepFollower(const Message& m);
  void TickElection();
  void TickHeartbeat();
  void Send(Message m);
  bool InLease() const;
  uint64_t DurableIndex() const;
  void CheckInvariants(uint64_t term_before, uint64_t vote_before,
                       uint64_t committed_before) const;

  // raft_election.cc.
  void StartCampaign(CampaignType type);
  void HandleVoteRequest(const Message& m);
  void HandleVoteResponse(const Message& m);
  bool HasUnappliedConfChanges() const;

  // raft_replication.cc.
  bool MaybeSendAppend(uint64_t to, bool send_if_empty);
  void SendAppends(uint64_t to, bool send_if_empty);
  bool MaybeSendSnapshot(uint64_t to, Progress* pr);
  void BroadcastAppend();
  void SendHeartbeat(uint64_t to, const std::string& context);
  void BroadcastHeartbeat(const std::string& context);
  bool MaybeCommit();
  void OnCommitAdvanced();
  void AppendAsLeader(std::vector<Entry> entries);
  void HandleAppend(const Message& m);
  void HandleHeartbeat(const Message& m);
  void HandleSnapshot(const Message& m);
  void HandleAppendResponse(const Message& m, Progress* pr);
  void HandleHeartbeatResponse(const Message& m, Progress* pr);
  void UpdateOwnProgress();
  bool RestoreSnapshot(const Snapshot& snapshot);

  // raft_leader.cc: membership, transfer, reads, proposals.
  void ApplyConfig(TrackerConfig config, ProgressMap progress);
  void AbortLeaderTransfer() { lead_transferee_ = 0; }
  void SendTimeoutNow(uint64_t to);
  bool CommittedEntryInCurrentTerm() const;
  ReadIndexResult HandleReadIndex(const std::string& context, uint64_t from);
  ReadIndexResult StartReadIndex(const std::string& context, uint64_t from);
  void ReleasePendingReads();
  void AnswerRead(uint64_t from, uint64_t index, const std::string& context);
  void MaybeAutoLeave();

  Config config_;
  uint64_t id_;
  Rng* rng_;
  RaftLog log_;
  ProgressTracker tracker_;
  ReadOnly read_only_;

  uint64_t term_ = 0;
  uint64_t vote_ = 0;
  uint64_t leader_ = 0;
  Role role_ = Role::kFollower;

  int election_elapsed_ = 0;
  int heartbeat_elapsed_ = 0;
  int randomized_election_timeout_ = 0;

  // The leader refuses a new conf change until the one at this index is
  // applied.
  uint64_t pending_conf_index_ = 0;
  uint64_t lead_transferee_ = 0;
  uint64_t uncommitted_bytes_ = 0;
  std::vector<PendingRead> pending_reads_;

  std::vector<Message> messages_;
  std::vector<ReadState> read_states_;
  Counters counters_;
};

// Total payload bytes of `entries` (what counts against
// max_uncommitted_entries_bytes).
uint64_t PayloadBytes(std::span<const Entry> entries);

}  // namespace raftstore::raft

#endif  // RAFTSTORE_CORE_RAFT_RAFT_H_
