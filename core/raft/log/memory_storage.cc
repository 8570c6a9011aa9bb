#include "core/raft/log/memory_storage.h"

#include <algorithm>
#include <cstddef>
#include <span>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/base/check.h"

namespace raftstore::raft {
namespace {

// Returns OK if `entries` have consecutive, non-zero indexes and
// non-decreasing terms, else kInvalidArgument naming the first offender.
absl::Status CheckWellFormed(const std::vector<Entry>& entries) {
  if (!entries.empty() && entries.front().index() == 0) {
    return absl::InvalidArgumentError("entry index 0 is reserved");
  }
  for (size_t i = 1; i < entries.size(); ++i) {
    const Entry& previous = entries[i - 1];
    const Entry& entry = entries[i];
    // The first comparison rules out a wrap-around at UINT64_MAX.
    if (entry.index() <= previous.index() ||
        entry.index() != previous.index() + 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("entries not consecutive: index ", entry.index(),
                       " follows ", previous.index()));
    }
    if (entry.term() < previous.term()) {
      return absl::InvalidArgumentError(
          absl::StrCat("term decreases at index ", entry.index(), ": ",
                       entry.term(), " after ", previous.term()));
    }
  }
  return absl::OkStatus();
}

}  // namespace

MemoryStorage::MemoryStorage() : entries_(1) { CheckInvariants(); }

absl::StatusOr<Storage::InitialState> MemoryStorage::GetInitialState() const {
  return InitialState{hard_state_, snapshot_.metadata().conf_state()};
}

absl::StatusOr<std::vector<Entry>> MemoryStorage::Entries(
    uint64_t lo, uint64_t hi, uint64_t bytes_max) const {
  if (lo > hi) {
    return absl::InvalidArgumentError(
        absl::StrCat("Entries(", lo, ", ", hi, "): lo > hi"));
  }
  if (lo <= CompactionIndex()) {
    return CompactedError(absl::StrCat("Entries from ", lo, ", compacted to ",
                                       CompactionIndex()));
  }
  if (hi > LastIndex() + 1) {
    return LogUnavailableError(absl::StrCat(
        "Entries to ", hi, " (exclusive), last index ", LastIndex()));
  }
  const std::span<const Entry> range =
      std::span<const Entry>(entries_).subspan(lo - CompactionIndex(), hi - lo);
  const std::span<const Entry> taken =
      range.first(CountWithinBytes(range, bytes_max));
  return std::vector<Entry>(taken.begin(), taken.end());
}

absl::StatusOr<uint64_t> MemoryStorage::Term(uint64_t index) const {
  if (index < CompactionIndex()) {
    return CompactedError(
        absl::StrCat("Term(", index, "), compacted to ", CompactionIndex()));
  }
  if (index > LastIndex()) {
    return LogUnavailableError(
        absl::StrCat("Term(", index, "), last index ", LastIndex()));
  }
  return entries_[index - CompactionIndex()].term();
}

uint64_t MemoryStorage::FirstIndex() const { return CompactionIndex() + 1; }

uint64_t MemoryStorage::LastIndex() const {
  return CompactionIndex() + entries_.size() - 1;
}

absl::StatusOr<raft::Snapshot> MemoryStorage::Snapshot() const {
  return snapshot_;
}

void MemoryStorage::SetHardState(const HardState& hard_state) {
  hard_state_ = hard_state;
}

absl::Status MemoryStorage::Append(std::vector<Entry> entries) {
  if (absl::Status status = CheckWellFormed(entries); !status.ok()) {
    return status;
  }
  if (entries.empty() || entries.back().index() <= CompactionIndex()) {
    return absl::OkStatus();
  }
  // Entries at or before the compaction point are already part of the
  // snapshot: skip them rather than fail, since a driver may legitimately
  // persist a batch that a concurrent compaction has partly overtaken.
  const uint64_t first_new = entries.front().index();
  const size_t skipped =
      first_new <= CompactionIndex() ? CompactionIndex() + 1 - first_new : 0;
  const uint64_t first_kept = first_new + skipped;
  if (first_kept > LastIndex() + 1) {
    return absl::FailedPreconditionError(
        absl::StrCat("Append at ", first_kept,
                     " leaves a gap after last index ", LastIndex()));
  }
  const size_t keep = first_kept - CompactionIndex();  // dummy included
  const uint64_t previous_term = entries_[keep - 1].term();
  if (entries[skipped].term() < previous_term) {
    return absl::InvalidArgumentError(
        absl::StrCat("Append at ", first_kept, " with term ",
                     entries[skipped].term(), " after term ", previous_term));
  }
  entries_.resize(keep);
  // No reserve() to the exact size here: that would defeat the vector's
  // geometric growth and reallocate the whole log on every append (the
  // benchmark saw 218 us per proposal from it).
  for (size_t i = skipped; i < entries.size(); ++i) {
    entries_.push_back(std::move(entries[i]));
  }
  CheckInvariants();
  return absl::OkStatus();
}

absl::Status MemoryStorage::ApplySnapshot(raft::Snapshot snapshot) {
  const uint64_t index = snapshot.metadata().index();
  const uint64_t term = snapshot.metadata().term();
  if ((index == 0) != (term == 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("snapshot at index ", index, " has term ", term,
                     "; only index 0 has term 0"));
  }
  const uint64_t current =
      std::max(snapshot_.metadata().index(), CompactionIndex());
  // An index-0 snapshot (membership only) may bootstrap an empty storage,
  // never replace a log that holds entries.
  if ((current != 0 || LastIndex() != 0) && index <= current) {
    return SnapshotOutOfDateError(absl::StrCat(
        "ApplySnapshot at ", index, ", storage already at ", current));
  }
  snapshot_ = std::move(snapshot);
  entries_.assign(1, Entry());
  entries_[0].set_index(index);
  entries_[0].set_term(term);
  CheckInvariants();
  return absl::OkStatus();
}

absl::StatusOr<raft::Snapshot> MemoryStorage::CreateSnapshot(
    uint64_t index, const ConfState& conf_state, std::string data) {
  if (index <= snapshot_.metadata().index()) {
    return SnapshotOutOfDateError(absl::StrCat("CreateSnapshot at ", index,
                                               ", latest snapshot at ",
                                               snapshot_.metadata().index()));
  }
  // Term() reports both out-of-range cases with the right error.
  absl::StatusOr<uint64_t> term = Term(index);
  if (!term.ok()) return term.status();
  SnapshotMetadata& metadata = *snapshot_.mutable_metadata();
  metadata.set_format_version(kSnapshotFormatVersion);
  metadata.set_index(index);
  metadata.set_term(*term);
  *metadata.mutable_conf_state() = conf_state;
  snapshot_.set_data(std::move(data));
  return snapshot_;
}

absl::Status MemoryStorage::Compact(uint64_t compact_index) {
  if (compact_index <= CompactionIndex()) {
    return CompactedError(absl::StrCat("Compact(", compact_index,
                                       "), already compacted to ",
                                       CompactionIndex()));
  }
  if (compact_index > LastIndex()) {
    return LogUnavailableError(
        absl::StrCat("Compact(", compact_index, "), last index ", LastIndex()));
  }
  const size_t dropped = compact_index - CompactionIndex();
  Entry dummy;
  dummy.set_index(compact_index);
  dummy.set_term(entries_[dropped].term());
  entries_.erase(entries_.begin(),
                 entries_.begin() + static_cast<std::ptrdiff_t>(dropped));
  entries_[0] = std::move(dummy);
  CheckInvariants();
  return absl::OkStatus();
}

void MemoryStorage::CheckInvariants() const {
  RS_CHECK(!entries_.empty()) << "the dummy entry is always present";
  RS_CHECK(entries_[0].data().empty()) << "the dummy entry carries no data";
  // Consecutive indexes and non-decreasing terms are established by Append's
  // checks; re-verifying them means a full scan, so only debug builds do it.
  RS_DCHECK(std::adjacent_find(entries_.begin(), entries_.end(),
                               [](const Entry& a, const Entry& b) {
                                 return b.index() != a.index() + 1 ||
                                        b.term() < a.term();
                               }) == entries_.end());
}

}  // namespace raftstore::raft
