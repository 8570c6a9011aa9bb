// A randomized in-memory cluster of RawNodes for property tests: one raft
// group of 3 to 7 voters, a network that holds messages in flight and
// delivers them under faults (drop, duplicate, reorder, partitions), and
// crash-restart of nodes with an explicit model of what was persisted.
//
// The driver is a schedule interpreter: the test generates a sequence of
// Steps (RapidCheck shrinks it to a minimal failing one) and Run() executes
// them one at a time. After every step the cluster observes every node and
// records any violation of the Raft safety properties (paper Figure 3):
//
//   kElectionSafety      at most one leader per term, over the whole run;
//   kLogMatching         two logs holding an entry with the same index and
//                        term agree on every entry up to it (checked over
//                        every log ever seen: raft's view and the storage);
//   kLeaderCompleteness  a leader whose term is at least the term in which an
//                        entry was seen committed holds that entry;
//   kStateMachineSafety  all nodes apply the same entry at each index, in
//                        order, each proposed value at most once, and no two
//                        nodes ever commit different entries at an index;
//   kDurability          every committed entry is in the storage (the
//                        "disk") of a quorum, so no crash of a minority can
//                        lose it;
//
// and, after the schedule, HealAndCheckLiveness() checks kLiveness: with
// faults removed a leader emerges and a fresh proposal is applied by all.
//
// Log compaction (kCompact) makes leaders send snapshots to followers that
// fall behind the compaction point. The network reports every snapshot
// message to its sender, as a transport would: success once delivered,
// failure when lost; any message lost to a partition or a crashed receiver
// is reported unreachable. Silent drops (kDrop) report nothing.
//
// Slow disks. A node whose disk is slow (kSlowDisk) takes its Readys but
// writes them only when a kPersist step finishes the oldest write, so
// several Readys can be outstanding, written and acknowledged (Advance) in
// the order they were handed out (duty 5). Meanwhile the driver does what the
// duties allow before the write: it sends the leader's APPEND, SNAPSHOT and
// HEARTBEAT messages (duty 1, thesis §10.2.1) and applies the committed
// entries (duty 3); every other message leaves once its Ready is written. A
// crash loses every outstanding write.
//
// Persistence model. A node's MemoryStorage is its disk; its RawNode and the
// applied state are its memory. Ready handling follows the ordering duties
// of raw_node.h exactly: persist (snapshot, hard state, entries), then send,
// then apply, then Advance. A step may instead crash the node it acted on
// right after the action (see CrashMode), with its Ready taken but not
// persisted: its entries and hard state are lost and its messages never
// sent, except that the driver may first have done what the duties allow
// before the write (send the leader's APPEND/SNAPSHOT/HEARTBEAT messages,
// thesis §10.2.1, and apply the committed entries, duty 3), or the write
// may be torn. A restarted node recovers from its
// storage alone: its state machine restarts from the storage's latest
// snapshot (applied = the snapshot's index; 0 if none).
//
// Determinism: no clocks, no hash-container iteration that reaches output,
// every node's Rng forked from one seed. trace_hash() digests every Ready
// and every delivery, so two runs of one schedule can be compared.
//
// Thread-safety: none. Test only.
#ifndef RAFTSTORE_TESTS_RAFT_PROPERTIES_FUZZ_CLUSTER_H_
#define RAFTSTORE_TESTS_RAFT_PROPERTIES_FUZZ_CLUSTER_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/flat_hash_map.h"
#include "core/base/rng.h"
#include "core/raft/log/memory_storage.h"
#include "core/raft/log/raft_log.h"
#include "core/raft/raft.h"
#include "core/raft/raw_node.h"
#include "proto/raft.pb.h"

namespace raftstore::raft::fuzz {

inline constexpr int kNodeCountMin = 3;
inline constexpr int kNodeCountMax = 7;
// Messages the network holds at most; past it the oldest is lost, as a
// bounded network buffer would (duplicates could otherwise grow it without
// limit).
inline constexpr size_t kInFlightMax = 1024;

struct ClusterOptions {
  int node_count = 3;
  uint64_t seed = 1;
  bool pre_vote = false;
  bool check_quorum = false;
  int election_tick = 10;
  int heartbeat_tick = 1;
  size_t max_inflight_msgs = 2;
  uint64_t max_size_per_msg_bytes = 64;

  std::string ToString() const;
};

enum class StepKind {
  kTick,              // tick `node`
  kTickAll,           // tick every live node once
  kDeliver,           // deliver the oldest message in flight
  kDeliverAll,        // deliver every message in flight now, oldest first
                      // (not those the deliveries produce): a network round
  kDeliverReordered,  // deliver message `pick` % in-flight count
  kDuplicate,         // deliver a copy of message `pick`, keep the original
  kDrop,              // lose message `pick`
  kPropose,           // propose a fresh unique value at `node` (or at the
                      // leader it names, on the same side)
  kCampaign,          // `node` campaigns now
  kCrash,             // crash `node`: its outstanding slow-disk writes, if
                      // any, are lost
  kRestart,           // restart `node` from its storage if crashed, else
                      // the first crashed node
  kPartition,         // split by the bits of `pick`: node i on side bit i
  kIsolate,           // `node` alone on one side
  kHeal,              // one side again
  kCompact,           // `node` snapshots at raft's applied index and
                      // compacts its storage up to pick % 4 entries before
                      // it (thesis §5.1)
  kSlowDisk,          // toggle `node`'s disk between fast and slow
  kPersist,           // `node`'s slow disk finishes its oldest write
  kTransferLeader,    // ask `node` to hand leadership to node pick % count
                      // + 1 (thesis §3.10; a follower asking for itself
                      // forwards the request)
};

// How the node a step acted on crashes right after the action, with the
// Ready the action produced taken but not written.
enum class CrashMode {
  kNone,
  // Nothing of the Ready (nor of any outstanding slow-disk write) is
  // written; its messages are never sent.
  kBeforeWrite,
  // As kBeforeWrite, but first the driver did what the duties allow ahead
  // of the write: sent the leader's appends and heartbeats, applied.
  kAfterEarlySends,
  // The oldest outstanding write is torn: its snapshot and a prefix of its
  // entries (pick % (count + 1) of them) reach the disk, its hard state
  // does not. A log-structured disk (a WAL written in the order the
  // raw_node.h loop names: snapshot, entries, hard state) loses a suffix.
  kTornWrite,
};

struct Step {
  StepKind kind = StepKind::kTick;
  // Taken modulo the node count: ids are 1..node_count.
  uint32_t node = 0;
  uint32_t pick = 0;
  // For the steps acting on one node (tick, propose, campaign, persist,
  // transfer, and the deliveries, which act on the receiver): crash that
  // node right after the action.
  CrashMode crash = CrashMode::kNone;

  std::string ToString() const;
};

// How often each kind of step is drawn, relative to the others; shared by the
// RapidCheck generator and RandomSchedule(). Deliveries and ticks dominate so
// that the group makes progress between faults.
std::vector<std::pair<uint32_t, StepKind>> StepKindWeights();

std::string_view StepKindName(StepKind kind);
std::string ScheduleToString(const std::vector<Step>& schedule);
// Lets RapidCheck print a counterexample (found by argument-dependent
// lookup).
void showValue(const Step& step, std::ostream& os);
void showValue(const ClusterOptions& options, std::ostream& os);

// A schedule drawn from `rng` rather than RapidCheck, for the determinism
// test and for replaying a seed by hand.
std::vector<Step> RandomSchedule(Rng& rng, size_t steps);

enum class Property {
  kElectionSafety,
  kLogMatching,
  kLeaderCompleteness,
  kStateMachineSafety,
  kDurability,
  kLiveness,
};
std::string_view PropertyName(Property property);

struct Violation {
  Property property;
  // The step (0-based) after which it was seen; -1 in the liveness phase.
  int step = 0;
  std::string detail;
};

class FuzzCluster {
 public:
  // Requires kNodeCountMin <= node_count <= kNodeCountMax and options that
  // Config::Validate() accepts (fails an RS_CHECK otherwise).
  explicit FuzzCluster(const ClusterOptions& options);

  FuzzCluster(const FuzzCluster&) = delete;
  FuzzCluster& operator=(const FuzzCluster&) = delete;

  // Executes one step, handles every live node's Readys, then checks the
  // safety properties; violations accumulate in violations().
  void Run(const Step& step);

  // Removes every fault, restarts crashed nodes and runs without faults
  // (ticking all nodes, delivering every message) for at most
  // LivenessTicksMax() rounds; records a kLiveness violation unless a
  // leader emerges and a fresh proposal is applied on every node.
  void HealAndCheckLiveness();

  // kLivenessElectionTimeouts longest randomized election timeouts.
  int LivenessTicksMax() const;

  const std::vector<Violation>& violations() const { return violations_; }
  // The first violation of `property`, if any.
  std::optional<Violation> FirstViolation(Property property) const;

  uint64_t trace_hash() const { return trace_hash_; }
  size_t messages_sent() const { return messages_sent_; }
  size_t snapshots_sent() const { return snapshots_sent_; }
  size_t proposals_accepted() const { return proposals_accepted_; }
  // The highest commit index seen on any node.
  uint64_t committed_max() const;
  std::string Describe() const;

 private:
  struct Node {
    uint64_t id = 0;
    std::unique_ptr<MemoryStorage> storage;
    std::unique_ptr<Rng> rng;
    // Null while crashed.
    std::unique_ptr<RawNode> raw;
    uint64_t applied_index = 0;
    int side = 0;
    // Commit indexes up to here were compared with committed_.
    uint64_t commit_checked = 0;
    bool slow_disk = false;
    // Readys handed out but not yet written (slow disk), oldest first;
    // their early messages are already sent and their committed entries
    // applied.
    std::deque<Ready> unpersisted;
  };

  // An entry seen committed: its term, a digest of its data, and the term
  // of the node that first saw it committed (any leader of at least that
  // term must hold it).
  struct CommittedEntry {
    uint64_t term = 0;
    uint64_t data_hash = 0;
    uint64_t observer_term = 0;
  };

  Node& node(uint64_t id) { return nodes_[id - 1]; }
  Config MakeConfig(uint64_t id, const MemoryStorage* storage,
                    uint64_t applied) const;
  void Start(Node& n);
  void Crash(Node& n);
  void CrashBeforePersist(Node& n, CrashMode mode, uint32_t pick);
  void HandleReadies(Node& n);
  // Writes the oldest outstanding Ready, sends its remaining messages and
  // acknowledges it.
  void FinishOldestWrite(Node& n);
  void Persist(Node& n, const Ready& rd);
  void Apply(Node& n, const Ready& rd);
  void Send(const Message& m);
  // Tells the sender, if it is up, that `m` was lost (reported = whether
  // the transport would notice) or delivered.
  void ReportLost(const Message& m, bool reported);
  void ReportDelivered(const Message& m);
  void Compact(Node& n, uint32_t keep);
  // Removes message `index` from flight and delivers it (or loses it, if its
  // receiver is down or on the other side of a partition). Returns the
  // receiver's id.
  uint64_t Deliver(size_t index, bool keep_copy);
  // Executes the action of `step`. Returns the node it acted on (for a
  // delivery, the receiver), 0 if none or several.
  uint64_t ActOnStep(const Step& step);
  // The deliveries, drops and partitions of ActOnStep().
  uint64_t ActOnNetwork(const Step& step);
  // Proposes a fresh value at `n`, or at the leader it names. Returns the
  // id of the node that took the proposal (n's if none did).
  uint64_t Propose(Node& n);

  void Observe();
  void CheckElectionSafety(const Node& n);
  // `log` follows the compaction point (index, term) `start`.
  void CheckLogMatching(uint64_t id, EntryId start,
                        const std::vector<Entry>& log, const char* where);
  void RecordCommitted(Node& n, uint64_t first_index,
                       const std::vector<Entry>& log);
  void CheckLeaderCompleteness(const Node& n);
  void CheckDurability();
  void AddViolation(Property property, std::string detail);

  // Liveness phase helpers.
  bool Stabilize();
  uint64_t Leader() const;

  void HashBytes(const std::string& bytes);
  void HashU64(uint64_t value);
  void HashReady(uint64_t id, const Ready& rd);

  ClusterOptions options_;
  Rng rng_;
  std::vector<Node> nodes_;
  std::vector<Message> in_flight_;
  int step_ = 0;
  uint64_t next_value_ = 0;
  size_t proposals_accepted_ = 0;
  size_t messages_sent_ = 0;
  size_t snapshots_sent_ = 0;
  uint64_t trace_hash_;

  absl::btree_map<uint64_t, uint64_t> leader_by_term_;
  // (index, term) -> digest of the log prefix up to that entry. Only
  // looked up, never iterated.
  absl::flat_hash_map<std::pair<uint64_t, uint64_t>, uint64_t> prefix_by_entry_;
  absl::btree_map<uint64_t, CommittedEntry> committed_;
  // Index -> (term, data digest) of the entry first applied there.
  absl::btree_map<uint64_t, std::pair<uint64_t, uint64_t>> applied_by_index_;
  // Proposed value -> index it was first applied at.
  std::map<std::string, uint64_t> index_by_value_;
  std::vector<Violation> violations_;
};

}  // namespace raftstore::raft::fuzz

#endif  // RAFTSTORE_TESTS_RAFT_PROPERTIES_FUZZ_CLUSTER_H_
