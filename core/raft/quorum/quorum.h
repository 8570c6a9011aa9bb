// The quorum math of Raft: which log index a set of voters has committed and
// whether an election has been won, for a single ("majority") configuration
// and for the joint configuration used during a membership change.
//
// Everything here is a pure free function over plain data. The caller owns the
// progress of each peer and answers questions about it through a callback
// (AckedIndexFn, the vote callback of TallyVotes), so this package knows
// nothing about logs, messages or peers beyond their ids. A voter the callback
// knows nothing about counts as having acknowledged index 0 or as not having
// voted yet.
//
// Joint consensus (Raft thesis, section 4.3): while a configuration change is
// in flight, agreement needs separate majorities of the incoming and of the
// outgoing voter sets. A JointConfig whose outgoing half is empty is simply
// the incoming majority configuration. To make that work without special
// cases, an empty MajorityConfig agrees with anything: it has committed every
// index (kNoLimit) and every election is won in it.
//
// Peer ids are never 0; passing a configuration that contains 0 is a bug and
// fails an RS_CHECK.
//
// Thread-safety: the functions hold no state; they are safe to call
// concurrently on configurations that no thread is modifying.
#ifndef RAFTSTORE_CORE_RAFT_QUORUM_QUORUM_H_
#define RAFTSTORE_CORE_RAFT_QUORUM_QUORUM_H_

#include <cstdint>
#include <iosfwd>
#include <limits>
#include <optional>
#include <string>

#include "absl/container/btree_set.h"
#include "absl/functional/function_ref.h"

namespace raftstore::raft::quorum {

// The ids of the voters of one configuration, in ascending order.
using MajorityConfig = absl::btree_set<uint64_t>;

// A possibly joint configuration. Outside a membership change `outgoing` is
// empty and only `incoming` decides. During joint consensus both halves must
// agree separately; a voter in both halves counts in each.
struct JointConfig {
  MajorityConfig incoming;
  MajorityConfig outgoing;

  friend bool operator==(const JointConfig&, const JointConfig&) = default;
};

// The committed index of an empty configuration: it constrains nothing, so
// taking the minimum with the other half of a joint configuration yields that
// half's answer.
inline constexpr uint64_t kNoLimit = std::numeric_limits<uint64_t>::max();

// Returns the highest log index that voter `id` is known to have persisted,
// or nullopt when the caller has no information about it (treated as 0).
// Called once per voter of each half queried (so twice for a voter in both
// halves of a joint configuration); it must not modify the configuration.
using AckedIndexFn = absl::FunctionRef<std::optional<uint64_t>(uint64_t id)>;

// Returns true if voter `id` granted its vote, false if it rejected it, and
// nullopt if it has not answered yet. Called once per voter of each half
// tallied.
using VoteFn = absl::FunctionRef<std::optional<bool>(uint64_t id)>;

// Returns the largest index that a majority (more than half) of `config` has
// acknowledged, according to `acked`; unknown voters count as 0. Returns
// kNoLimit when `config` is empty. This is the quorum rule for advancing the
// commit index (Raft thesis, section 3.5); the caller still has to check that
// the entry at the returned index is from its current term (section 3.6.2).
//
// Does not allocate for configurations of up to 7 voters, since it runs on
// every append response the leader receives.
uint64_t CommittedIndex(const MajorityConfig& config, AckedIndexFn acked);

// Returns the smaller of the committed indexes of the two halves: an index is
// committed in joint consensus only when both majorities hold it (thesis,
// section 4.3). Returns kNoLimit only if both halves are empty.
uint64_t CommittedIndex(const JointConfig& config, AckedIndexFn acked);

// The state of an election (or of any yes/no poll of the voters).
enum class VoteResult {
  // Neither outcome is decided: enough voters have yet to answer.
  kPending,
  // A majority can no longer be reached, whatever the others answer.
  kLost,
  // A majority granted.
  kWon,
};

// Tallies the votes of `config`: kWon if more than half of its voters granted,
// kLost if so many rejected that the granted votes plus the missing ones are
// no longer more than half, kPending otherwise (Raft thesis, section 3.4).
// An empty configuration is kWon, so that it does not block a joint election.
VoteResult TallyVotes(const MajorityConfig& config, VoteFn vote);

// Tallies a joint election: kWon only if both halves are won, kLost if either
// half is lost, kPending otherwise (thesis, section 4.3). Voters in both
// halves are asked once per half.
VoteResult TallyVotes(const JointConfig& config, VoteFn vote);

// Returns the union of the voters of both halves.
MajorityConfig IdsOf(const JointConfig& config);

// Returns the voter ids in ascending order, space separated in parentheses:
// "(1 2 3)"; "()" when empty.
std::string ToString(const MajorityConfig& config);

// Returns "(1 2 3)&&(1 2 4)" during joint consensus, or just the incoming
// half, "(1 2 3)", when the outgoing half is empty.
std::string ToString(const JointConfig& config);

// Returns "pending", "lost" or "won".
std::string ToString(VoteResult result);

// Describes a commit computation for logs and test failures: each voter in id
// order with its acknowledged index ("?" when unknown), then the result, as
// in "(1:7 2:5 3:?) committed=5". An empty config gives
// "() committed=no-limit".
std::string DescribeCommit(const MajorityConfig& config, AckedIndexFn acked);

// Prints ToString(result), so that VoteResult reads well in test failures.
std::ostream& operator<<(std::ostream& out, VoteResult result);

}  // namespace raftstore::raft::quorum

#endif  // RAFTSTORE_CORE_RAFT_QUORUM_QUORUM_H_
