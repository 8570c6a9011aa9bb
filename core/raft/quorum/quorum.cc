#include "core/raft/quorum/quorum.h"

#include <algorithm>
#include <cstddef>
#include <ostream>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "core/base/check.h"

namespace raftstore::raft::quorum {
namespace {

// Configurations up to this size are handled entirely on the stack. Seven
// covers every voter count deployed in practice (3 and 5, plus a joint change
// between them), so the leader's hot path never touches the heap.
constexpr size_t kInlineVoters = 7;

// The smallest number of voters that is more than half of `voters`.
size_t MajoritySize(size_t voters) { return voters / 2 + 1; }

// Returns the largest index acknowledged by a majority of the voters whose
// acked indexes are `indexes` (one per voter, unknown as 0), reordering them.
// Requires a non-empty span.
uint64_t MajorityIndex(absl::Span<uint64_t> indexes) {
  RS_CHECK(!indexes.empty());
  // Index k is acknowledged by a majority exactly when at least
  // MajoritySize(n) voters acked k or more. The largest such k is therefore
  // the MajoritySize(n)-th largest acked index, which in ascending order sits
  // at position n - MajoritySize(n). nth_element finds it in linear time and
  // without allocating.
  const size_t position = indexes.size() - MajoritySize(indexes.size());
  std::nth_element(indexes.begin(), indexes.begin() + position, indexes.end());
  return indexes[position];
}

// Id 0 is reserved for "no peer" throughout RaftStore. The set is sorted, so
// only its first element needs checking.
void CheckVoterIds(const MajorityConfig& config) {
  RS_CHECK(config.empty() || *config.begin() != 0)
      << "voter id 0 is reserved: " << ToString(config);
}

}  // namespace

uint64_t CommittedIndex(const MajorityConfig& config, AckedIndexFn acked) {
  CheckVoterIds(config);
  if (config.empty()) return kNoLimit;

  absl::InlinedVector<uint64_t, kInlineVoters> indexes;
  indexes.reserve(config.size());
  for (uint64_t id : config) indexes.push_back(acked(id).value_or(0));
  return MajorityIndex(absl::MakeSpan(indexes));
}

uint64_t CommittedIndex(const JointConfig& config, AckedIndexFn acked) {
  return std::min(CommittedIndex(config.incoming, acked),
                  CommittedIndex(config.outgoing, acked));
}

VoteResult TallyVotes(const MajorityConfig& config, VoteFn vote) {
  CheckVoterIds(config);
  if (config.empty()) return VoteResult::kWon;

  size_t granted = 0;
  size_t missing = 0;
  for (uint64_t id : config) {
    const std::optional<bool> answer = vote(id);
    if (!answer.has_value()) {
      ++missing;
    } else if (*answer) {
      ++granted;
    }
  }
  const size_t majority = MajoritySize(config.size());
  if (granted >= majority) return VoteResult::kWon;
  // Even if every voter yet to answer granted, would there be a majority?
  if (granted + missing >= majority) return VoteResult::kPending;
  return VoteResult::kLost;
}

VoteResult TallyVotes(const JointConfig& config, VoteFn vote) {
  const VoteResult incoming = TallyVotes(config.incoming, vote);
  const VoteResult outgoing = TallyVotes(config.outgoing, vote);
  if (incoming == outgoing) return incoming;
  // The halves differ, so at most one of them is won: the joint election is
  // won only when both are.
  if (incoming == VoteResult::kLost || outgoing == VoteResult::kLost) {
    return VoteResult::kLost;
  }
  return VoteResult::kPending;
}

MajorityConfig IdsOf(const JointConfig& config) {
  MajorityConfig ids = config.incoming;
  ids.insert(config.outgoing.begin(), config.outgoing.end());
  return ids;
}

std::string ToString(const MajorityConfig& config) {
  std::string out = "(";
  for (uint64_t id : config) {
    if (out.size() > 1) out += ' ';
    absl::StrAppend(&out, id);
  }
  out += ')';
  return out;
}

std::string ToString(const JointConfig& config) {
  std::string out = ToString(config.incoming);
  if (!config.outgoing.empty()) {
    absl::StrAppend(&out, "&&", ToString(config.outgoing));
  }
  return out;
}

std::string ToString(VoteResult result) {
  switch (result) {
    case VoteResult::kPending:
      return "pending";
    case VoteResult::kLost:
      return "lost";
    case VoteResult::kWon:
      return "won";
  }
  RS_CHECK(false) << "unknown VoteResult " << static_cast<int>(result);
  return "";
}

std::string DescribeCommit(const MajorityConfig& config, AckedIndexFn acked) {
  CheckVoterIds(config);
  std::string out = "(";
  absl::InlinedVector<uint64_t, kInlineVoters> indexes;
  for (uint64_t id : config) {
    if (out.size() > 1) out += ' ';
    // Ask each voter once, as AckedIndexFn promises, and reuse the answers
    // for the result.
    const std::optional<uint64_t> index = acked(id);
    indexes.push_back(index.value_or(0));
    absl::StrAppend(&out, id, ":",
                    index.has_value() ? absl::StrCat(*index) : "?");
  }
  out += ") committed=";
  if (indexes.empty()) {
    out += "no-limit";
  } else {
    absl::StrAppend(&out, MajorityIndex(absl::MakeSpan(indexes)));
  }
  return out;
}

std::ostream& operator<<(std::ostream& out, VoteResult result) {
  return out << ToString(result);
}

}  // namespace raftstore::raft::quorum
