#include "core/raft/log/unstable.h"

#include <algorithm>
#include <cstddef>
#include <iterator>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/base/check.h"

namespace raftstore::raft {

Unstable::Unstable(uint64_t offset)
    : offset_(offset), offset_in_progress_(offset) {
  RS_CHECK_GE(offset, 1u) << "log indexes start at 1";
  CheckInvariants();
}

std::span<const Entry> Unstable::NextEntries() const {
  return std::span<const Entry>(entries_).subspan(offset_in_progress_ -
                                                  offset_);
}

std::optional<raft::Snapshot> Unstable::NextSnapshot() const {
  if (!snapshot_.has_value() || snapshot_in_progress_) return std::nullopt;
  return snapshot_;
}

void Unstable::AcceptInProgress() {
  offset_in_progress_ = offset_ + entries_.size();
  snapshot_in_progress_ = snapshot_.has_value();
  CheckInvariants();
}

void Unstable::StableTo(uint64_t index, uint64_t term) {
  // An index below offset_ is either already stable or the pending
  // snapshot's, which only StableSnapTo acknowledges.
  if (index < offset_ || index - offset_ >= entries_.size()) return;
  if (entries_[index - offset_].term() != term) return;
  const size_t stable = index + 1 - offset_;
  entries_.erase(entries_.begin(),
                 entries_.begin() + static_cast<std::ptrdiff_t>(stable));
  offset_ = index + 1;
  offset_in_progress_ = std::max(offset_in_progress_, offset_);
  CheckInvariants();
}

void Unstable::StableSnapTo(uint64_t index) {
  if (!snapshot_.has_value() || snapshot_->metadata().index() != index) return;
  snapshot_.reset();
  snapshot_in_progress_ = false;
  CheckInvariants();
}

void Unstable::Restore(raft::Snapshot snapshot) {
  const uint64_t index = snapshot.metadata().index();
  RS_CHECK_GE(index, 1u) << "a snapshot covers at least entry 1";
  entries_.clear();
  offset_ = index + 1;
  offset_in_progress_ = offset_;
  snapshot_ = std::move(snapshot);
  snapshot_in_progress_ = false;
  CheckInvariants();
}

void Unstable::TruncateAndAppend(std::span<const Entry> entries) {
  PrepareAppend(entries);
  entries_.insert(entries_.end(), entries.begin(), entries.end());
  CheckInvariants();
}

void Unstable::TruncateAndAppendMoved(std::span<Entry> entries) {
  PrepareAppend(entries);
  entries_.insert(entries_.end(), std::make_move_iterator(entries.begin()),
                  std::make_move_iterator(entries.end()));
  CheckInvariants();
}

void Unstable::PrepareAppend(std::span<const Entry> entries) {
  RS_CHECK(!entries.empty()) << "nothing to append";
  for (size_t i = 1; i < entries.size(); ++i) {
    RS_CHECK_EQ(entries[i].index(), entries[i - 1].index() + 1)
        << "entries must be consecutive";
  }
  const uint64_t first = entries.front().index();
  const uint64_t end = offset_ + entries_.size();
  RS_CHECK_LE(first, end) << "appending at " << first
                          << " leaves a gap: " << ToString();
  if (first == end) {
    // The common case: the new entries extend the tail.
  } else if (first <= offset_) {
    // Everything held here is replaced, and so is the stored log from
    // `first` on, once the driver writes the new entries. Nothing written
    // so far is part of the new tail, so nothing is in progress.
    RS_CHECK(!snapshot_.has_value() || first > snapshot_->metadata().index())
        << "appending at " << first
        << " would overwrite the pending snapshot: " << ToString();
    entries_.clear();
    offset_ = first;
    offset_in_progress_ = first;
  } else {
    // Keep [offset_, first) and replace the rest. Writes in progress for the
    // kept part are still good; beyond it they write discarded entries.
    entries_.resize(first - offset_);
    offset_in_progress_ = std::min(offset_in_progress_, first);
  }
}

std::span<const Entry> Unstable::Slice(uint64_t lo, uint64_t hi) const {
  RS_CHECK_LE(lo, hi);
  RS_CHECK(offset_ <= lo && hi <= offset_ + entries_.size())
      << "Slice[" << lo << ", " << hi << ") out of bounds: " << ToString();
  return std::span<const Entry>(entries_).subspan(lo - offset_, hi - lo);
}

std::string Unstable::ToString() const {
  std::string out = absl::StrCat("offset=", offset_,
                                 " offset_in_progress=", offset_in_progress_,
                                 " entries=", entries_.size());
  if (snapshot_.has_value()) {
    absl::StrAppend(&out, " snapshot=", snapshot_->metadata().index(),
                    snapshot_in_progress_ ? " (in progress)" : "");
  }
  return out;
}

void Unstable::CheckInvariants() const {
  RS_CHECK_LE(offset_, offset_in_progress_);
  RS_CHECK_LE(offset_in_progress_, offset_ + entries_.size());
  if (!entries_.empty()) {
    RS_CHECK_EQ(entries_.front().index(), offset_);
    RS_CHECK_EQ(entries_.back().index(), offset_ + entries_.size() - 1);
  }
  if (snapshot_.has_value()) {
    RS_CHECK_LT(snapshot_->metadata().index(), offset_);
  } else {
    RS_CHECK(!snapshot_in_progress_) << "no snapshot to be in progress";
  }
}

}  // namespace raftstore::raft
