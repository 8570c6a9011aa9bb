#include "core/raft/readonly/read_only.h"

#include <utility>

#include "core/base/check.h"

namespace raftstore::raft {

ReadOnly::ReadOnly(size_t pending_reads_max)
    : pending_reads_max_(pending_reads_max) {
  RS_CHECK_GT(pending_reads_max_, 0u);
}

AddReadResult ReadOnly::AddRequest(uint64_t index, const std::string& context,
                                   uint64_t from, uint64_t self) {
  RS_CHECK_NE(self, 0u);
  if (statuses_.contains(context)) return AddReadResult::kDuplicate;
  if (queue_.size() >= pending_reads_max_) return AddReadResult::kFull;
  ReadIndexStatus status;
  status.context = context;
  status.index = index;
  status.from = from;
  status.acks.insert(self);
  statuses_.emplace(context, std::move(status));
  queue_.push_back(context);
  CheckInvariants();
  return AddReadResult::kAdded;
}

const absl::btree_set<uint64_t>* ReadOnly::RecvAck(uint64_t from,
                                                   const std::string& context) {
  auto it = statuses_.find(context);
  if (it == statuses_.end()) return nullptr;
  it->second.acks.insert(from);
  return &it->second.acks;
}

bool ReadOnly::HasQuorum(const quorum::JointConfig& voters,
                         const std::string& context) const {
  auto it = statuses_.find(context);
  if (it == statuses_.end()) return false;
  const auto& acks = it->second.acks;
  const quorum::VoteResult result =
      quorum::TallyVotes(voters, [&acks](uint64_t id) -> std::optional<bool> {
        if (acks.contains(id)) return true;
        return std::nullopt;
      });
  return result == quorum::VoteResult::kWon;
}

std::vector<ReadIndexStatus> ReadOnly::Advance(const std::string& context) {
  std::vector<ReadIndexStatus> released;
  if (!statuses_.contains(context)) return released;
  // Pop in arrival order up to and including `context`. The loop ends: the
  // context is in the queue (invariant), and each turn removes one element.
  while (!queue_.empty()) {
    std::string front = std::move(queue_.front());
    queue_.pop_front();
    auto node = statuses_.extract(front);
    RS_CHECK(!node.empty()) << "queued read has no status";
    released.push_back(std::move(node.mapped()));
    if (front == context) break;
  }
  RS_CHECK_EQ(released.back().context, context);
  CheckInvariants();
  return released;
}

std::string ReadOnly::LastPendingContext() const {
  return queue_.empty() ? std::string() : queue_.back();
}

std::vector<ReadIndexStatus> ReadOnly::Reset() {
  std::vector<ReadIndexStatus> dropped;
  dropped.reserve(queue_.size());
  for (const std::string& context : queue_) {
    dropped.push_back(std::move(statuses_.at(context)));
  }
  queue_.clear();
  statuses_.clear();
  return dropped;
}

void ReadOnly::CheckInvariants() const {
  RS_CHECK_EQ(queue_.size(), statuses_.size());
  RS_CHECK_LE(queue_.size(), pending_reads_max_);
  // Reads arrive in commit order, so queued indexes never decrease.
  RS_DCHECK(([this] {
    uint64_t previous = 0;
    for (const std::string& context : queue_) {
      const uint64_t index = statuses_.at(context).index;
      if (index < previous) return false;
      previous = index;
    }
    return true;
  })());
}

}  // namespace raftstore::raft
