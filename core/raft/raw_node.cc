#include "core/raft/raw_node.h"

#include <utility>

#include "core/base/check.h"

namespace raftstore::raft {
namespace {

bool SameHardState(const HardState& a, const HardState& b) {
  return a.term() == b.term() && a.vote() == b.vote() &&
         a.commit() == b.commit();
}

}  // namespace

absl::StatusOr<std::unique_ptr<RawNode>> RawNode::Create(const Config& config,
                                                         Rng* rng) {
  if (rng == nullptr) return absl::InvalidArgumentError("rng must not be null");
  if (absl::Status status = Raft::CheckStartingState(config); !status.ok()) {
    return status;
  }
  return std::make_unique<RawNode>(config, rng);
}

RawNode::RawNode(const Config& config, Rng* rng)
    : raft_(config, rng),
      prev_soft_state_(raft_.soft_state()),
      prev_hard_state_(raft_.hard_state()) {}

ProposeResult RawNode::Propose(std::string data) {
  Entry entry;
  entry.set_type(ENTRY_TYPE_NORMAL);
  entry.set_data(std::move(data));
  std::vector<Entry> entries;
  entries.push_back(std::move(entry));
  return raft_.Propose(std::move(entries));
}

bool RawNode::HasReady() const {
  const RaftLog& log = raft_.log();
  return raft_.soft_state() != prev_soft_state_ ||
         !SameHardState(raft_.hard_state(), prev_hard_state_) ||
         log.NextUnstableSnapshot().has_value() ||
         log.HasNextUnstableEntries() || !raft_.messages().empty() ||
         log.HasNextCommittedEntries() || !raft_.read_states().empty();
}

Ready RawNode::GetReady() {
  Ready ready;
  RaftLog& log = raft_.mutable_log();
  if (const SoftState soft = raft_.soft_state(); soft != prev_soft_state_) {
    ready.soft_state = soft;
    prev_soft_state_ = soft;
  }
  if (const HardState hard = raft_.hard_state();
      !SameHardState(hard, prev_hard_state_)) {
    ready.must_sync = hard.term() != prev_hard_state_.term() ||
                      hard.vote() != prev_hard_state_.vote();
    ready.hard_state = hard;
    prev_hard_state_ = hard;
  }
  ready.snapshot = log.NextUnstableSnapshot();
  ready.entries = log.NextUnstableEntries();
  log.AcceptUnstable();
  ready.must_sync =
      ready.must_sync || ready.snapshot.has_value() || !ready.entries.empty();
  ready.committed_entries = log.NextCommittedEntries(
      raft_.config().max_committed_size_per_ready_bytes);
  if (!ready.committed_entries.empty()) {
    log.AcceptApplying(ready.committed_entries.back().index());
    ready.acknowledged.applied_index = ready.committed_entries.back().index();
    ready.acknowledged.applied_bytes = PayloadBytes(ready.committed_entries);
  }
  if (!ready.entries.empty()) {
    ready.acknowledged.persisted_index = ready.entries.back().index();
    ready.acknowledged.persisted_term = ready.entries.back().term();
  }
  ready.messages = raft_.TakeMessages();
  ready.read_states = raft_.TakeReadStates();
  return ready;
}

void RawNode::Advance(const Ready& ready) {
  if (ready.snapshot.has_value()) {
    raft_.OnSnapshotPersisted(ready.snapshot->metadata().index());
  }
  // From the record GetReady() made, not from the vectors, which the driver
  // may have moved out.
  const Ready::Acknowledged& ack = ready.acknowledged;
  if (ack.persisted_index != 0) {
    raft_.OnPersisted(ack.persisted_index, ack.persisted_term);
  }
  if (ack.applied_index != 0) {
    raft_.OnApplied(ack.applied_index, ack.applied_bytes);
  }
}

}  // namespace raftstore::raft
