#include "core/raft/log/raft_log.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/base/check.h"

namespace raftstore::raft {
namespace {

// Reads the storage's last index for the member initialisers, checking the
// pointer first so that a null storage fails a check, not a dereference.
uint64_t StorageLastIndex(const Storage* storage) {
  RS_CHECK(storage != nullptr) << "a RaftLog needs a Storage";
  return storage->LastIndex();
}

// Appends to `out` the leading entries of `more` that keep the total
// EntryBytes() of `out` within bytes_max, taking at least one entry if `out`
// is empty (the at-least-one rule of CountWithinBytes, applied across the
// storage/unstable boundary).
void AppendWithinBytes(std::span<const Entry> more, uint64_t bytes_max,
                       std::vector<Entry>* out) {
  uint64_t bytes = 0;
  for (const Entry& entry : *out) bytes += EntryBytes(entry);
  for (const Entry& entry : more) {
    const uint64_t entry_bytes = EntryBytes(entry);
    // Written as a subtraction so that the sum can never overflow.
    if (!out->empty() &&
        (bytes > bytes_max || entry_bytes > bytes_max - bytes)) {
      return;
    }
    bytes += entry_bytes;
    out->push_back(entry);
  }
}

// Checks that `entries` have consecutive indexes and non-decreasing terms,
// as every raft log does (paper §5.3: a leader appends entries of its own
// term, which is at least any term already in its log).
void CheckWellFormed(std::span<const Entry> entries) {
  for (size_t i = 1; i < entries.size(); ++i) {
    RS_CHECK_EQ(entries[i].index(), entries[i - 1].index() + 1)
        << "entries must be consecutive";
    RS_CHECK_GE(entries[i].term(), entries[i - 1].term())
        << "terms must not decrease along the log, at index "
        << entries[i].index();
  }
}

}  // namespace

RaftLog::RaftLog(const Storage* storage)
    : storage_(storage),
      unstable_(StorageLastIndex(storage) + 1),
      committed_(storage->FirstIndex() - 1),
      applying_(committed_),
      applied_(committed_) {
  RS_CHECK_LE(storage->FirstIndex(), storage->LastIndex() + 1)
      << "storage bounds out of order";
  CheckInvariants();
}

uint64_t RaftLog::FirstIndex() const {
  if (std::optional<uint64_t> index = unstable_.MaybeFirstIndex()) {
    return *index;
  }
  return storage_->FirstIndex();
}

uint64_t RaftLog::LastIndex() const {
  if (std::optional<uint64_t> index = unstable_.MaybeLastIndex()) {
    return *index;
  }
  return storage_->LastIndex();
}

uint64_t RaftLog::LastTerm() const {
  const absl::StatusOr<uint64_t> term = Term(LastIndex());
  RS_CHECK(term.ok()) << "the last term is always known: " << term.status()
                      << " " << ToString();
  return *term;
}

absl::StatusOr<uint64_t> RaftLog::Term(uint64_t index) const {
  // The unstable tail is authoritative where it knows the answer, and asking
  // it first spares a storage lookup for the most frequent queries (the
  // entries just appended).
  if (std::optional<uint64_t> term = unstable_.MaybeTerm(index)) return *term;
  // The entry just before the first is the compaction point, whose term is
  // kept for the consistency check of an append right after it.
  const uint64_t first = FirstIndex();
  if (index + 1 < first) {
    return CompactedError(
        absl::StrCat("Term(", index, "), first index ", first));
  }
  const uint64_t last = LastIndex();
  if (index > last) {
    return LogUnavailableError(
        absl::StrCat("Term(", index, "), last index ", last));
  }
  return storage_->Term(index);
}

bool RaftLog::MatchTerm(uint64_t index, uint64_t term) const {
  const absl::StatusOr<uint64_t> ours = Term(index);
  return ours.ok() && *ours == term;
}

bool RaftLog::IsUpToDate(uint64_t last_index, uint64_t term) const {
  const EntryId ours = LastEntryId();
  return term > ours.term || (term == ours.term && last_index >= ours.index);
}

uint64_t RaftLog::FindConflict(std::span<const Entry> entries) const {
  for (const Entry& entry : entries) {
    if (!MatchTerm(entry.index(), entry.term())) return entry.index();
  }
  return 0;
}

EntryId RaftLog::FindConflictByTerm(uint64_t index, uint64_t term) const {
  // Past our last entry there is nothing to compare; start from the end.
  for (uint64_t i = std::min(index, LastIndex()); i > 0; --i) {
    const absl::StatusOr<uint64_t> ours = Term(i);
    // Compacted: we cannot tell, so this position may match.
    if (!ours.ok()) return {i, 0};
    if (*ours <= term) return {i, *ours};
  }
  return {0, 0};
}

std::optional<uint64_t> RaftLog::MaybeAppend(uint64_t prev_index,
                                             uint64_t prev_term,
                                             uint64_t leader_committed,
                                             std::span<const Entry> entries) {
  return MaybeAppendImpl(prev_index, prev_term, leader_committed, entries, {});
}

std::optional<uint64_t> RaftLog::MaybeAppendMoved(uint64_t prev_index,
                                                  uint64_t prev_term,
                                                  uint64_t leader_committed,
                                                  std::span<Entry> entries) {
  return MaybeAppendImpl(prev_index, prev_term, leader_committed, entries,
                         entries);
}

std::optional<uint64_t> RaftLog::MaybeAppendImpl(uint64_t prev_index,
                                                 uint64_t prev_term,
                                                 uint64_t leader_committed,
                                                 std::span<const Entry> entries,
                                                 std::span<Entry> owned) {
  if (!MatchTerm(prev_index, prev_term)) return std::nullopt;
  if (!entries.empty()) {
    RS_CHECK_EQ(entries.front().index(), prev_index + 1)
        << "an append's entries follow its previous entry";
  }
  const uint64_t last_new = prev_index + entries.size();
  // Entries we already hold are skipped rather than rewritten: a delayed,
  // duplicated append must not truncate entries appended after it (the
  // "if an existing entry conflicts" of Figure 2, step 3, is the only reason
  // to truncate).
  const uint64_t conflict = FindConflict(entries);
  if (conflict != 0) {
    RS_CHECK_GT(conflict, committed_)
        << "entry " << conflict
        << " conflicts with a committed entry: " << ToString();
    const size_t skip = conflict - entries.front().index();
    if (owned.empty()) {
      Append(entries.subspan(skip));
    } else {
      AppendMoved(owned.subspan(skip));
    }
  }
  // The leader vouches only for the entries up to last_new: any of ours after
  // that may still be replaced, so they must not be committed yet (Figure 2,
  // step 5).
  CommitTo(std::min(leader_committed, last_new));
  return last_new;
}

bool RaftLog::CheckAppend(std::span<const Entry> entries) const {
  if (entries.empty()) return false;
  const uint64_t first = entries.front().index();
  RS_CHECK_GT(first, committed_)
      << "appending at " << first
      << " would overwrite committed entries: " << ToString();
  RS_CHECK_LE(first, LastIndex() + 1)
      << "appending at " << first << " leaves a gap: " << ToString();
  CheckWellFormed(entries);
  if (const absl::StatusOr<uint64_t> previous = Term(first - 1);
      previous.ok()) {
    RS_CHECK_LE(*previous, entries.front().term())
        << "terms must not decrease along the log, at index " << first;
  }
  return true;
}

uint64_t RaftLog::Append(std::span<const Entry> entries) {
  if (!CheckAppend(entries)) return LastIndex();
  unstable_.TruncateAndAppend(entries);
  CheckInvariants();
  return LastIndex();
}

uint64_t RaftLog::AppendMoved(std::span<Entry> entries) {
  if (!CheckAppend(entries)) return LastIndex();
  unstable_.TruncateAndAppendMoved(entries);
  CheckInvariants();
  return LastIndex();
}

void RaftLog::CommitTo(uint64_t index) {
  if (index <= committed_) return;
  RS_CHECK_LE(index, LastIndex())
      << "committing past the last entry; was the log corrupted, truncated "
         "or lost? "
      << ToString();
  committed_ = index;
  CheckInvariants();
}

bool RaftLog::MaybeCommit(uint64_t index, uint64_t term) {
  if (index <= committed_ || term == 0) return false;
  if (!MatchTerm(index, term)) return false;
  CommitTo(index);
  return true;
}

void RaftLog::AppliedTo(uint64_t index) {
  RS_CHECK(applied_ <= index && index <= committed_)
      << "AppliedTo(" << index << ") out of range: " << ToString();
  applied_ = index;
  applying_ = std::max(applying_, index);
  CheckInvariants();
}

void RaftLog::AcceptApplying(uint64_t index) {
  RS_CHECK(applying_ <= index && index <= committed_)
      << "AcceptApplying(" << index << ") out of range: " << ToString();
  applying_ = index;
  CheckInvariants();
}

uint64_t RaftLog::MaxAppliableIndex() const {
  return std::min(committed_, unstable_.offset() - 1);
}

bool RaftLog::HasNextCommittedEntries() const {
  // With a snapshot pending, it must be applied before any entry after it.
  if (unstable_.snapshot().has_value()) return false;
  return applying_ < MaxAppliableIndex();
}

std::vector<Entry> RaftLog::NextCommittedEntries(uint64_t bytes_max) const {
  if (!HasNextCommittedEntries()) return {};
  absl::StatusOr<std::vector<Entry>> entries =
      Slice(applying_ + 1, MaxAppliableIndex() + 1, bytes_max);
  RS_CHECK(entries.ok()) << "committed entries unreadable: " << entries.status()
                         << " " << ToString();
  return *std::move(entries);
}

std::vector<Entry> RaftLog::UnstableEntries() const {
  return unstable_.entries();
}

std::vector<Entry> RaftLog::NextUnstableEntries() const {
  const std::span<const Entry> next = unstable_.NextEntries();
  return std::vector<Entry>(next.begin(), next.end());
}

bool RaftLog::HasNextUnstableEntries() const {
  return !unstable_.NextEntries().empty();
}

std::optional<raft::Snapshot> RaftLog::NextUnstableSnapshot() const {
  return unstable_.NextSnapshot();
}

void RaftLog::AcceptUnstable() { unstable_.AcceptInProgress(); }

absl::StatusOr<std::vector<Entry>> RaftLog::Slice(uint64_t lo, uint64_t hi,
                                                  uint64_t bytes_max) const {
  if (lo > hi) {
    return absl::InvalidArgumentError(
        absl::StrCat("Slice(", lo, ", ", hi, "): lo > hi"));
  }
  if (const uint64_t first = FirstIndex(); lo < first) {
    return CompactedError(absl::StrCat("Slice from ", lo, ", first ", first));
  }
  if (const uint64_t last = LastIndex(); hi > last + 1) {
    return LogUnavailableError(
        absl::StrCat("Slice to ", hi, " (exclusive), last ", last));
  }
  std::vector<Entry> entries;
  if (lo == hi) return entries;
  const uint64_t offset = unstable_.offset();
  if (lo < offset) {
    const uint64_t stored_hi = std::min(hi, offset);
    absl::StatusOr<std::vector<Entry>> stored =
        storage_->Entries(lo, stored_hi, bytes_max);
    if (!stored.ok()) return stored.status();
    RS_CHECK(!stored->empty() && stored->front().index() == lo &&
             stored->size() <= stored_hi - lo)
        << "Storage::Entries(" << lo << ", " << stored_hi
        << ") broke its contract, returning " << stored->size() << " entries";
    // Fewer than asked means bytes_max is reached: stop here, so the result
    // stays a prefix of the range.
    if (stored->size() < stored_hi - lo) return stored;
    entries = *std::move(stored);
  }
  if (hi > offset) {
    AppendWithinBytes(unstable_.Slice(std::max(lo, offset), hi), bytes_max,
                      &entries);
  }
  return entries;
}

absl::StatusOr<std::vector<Entry>> RaftLog::EntriesFrom(
    uint64_t lo, uint64_t bytes_max) const {
  const uint64_t last = LastIndex();
  if (lo > last) return std::vector<Entry>();
  return Slice(lo, last + 1, bytes_max);
}

void RaftLog::Restore(raft::Snapshot snapshot) {
  const uint64_t index = snapshot.metadata().index();
  RS_CHECK_GE(index, committed_) << "restoring a snapshot at " << index
                                 << " would lower committed: " << ToString();
  committed_ = index;
  unstable_.Restore(std::move(snapshot));
  CheckInvariants();
}

void RaftLog::StableTo(uint64_t index, uint64_t term) {
  unstable_.StableTo(index, term);
  CheckInvariants();
}

void RaftLog::StableSnapTo(uint64_t index) {
  unstable_.StableSnapTo(index);
  CheckInvariants();
}

absl::StatusOr<raft::Snapshot> RaftLog::Snapshot() const {
  if (unstable_.snapshot().has_value()) return *unstable_.snapshot();
  return storage_->Snapshot();
}

std::string RaftLog::ToString() const {
  return absl::StrCat("committed=", committed_, " applying=", applying_,
                      " applied=", applied_, " first=", FirstIndex(),
                      " last=", LastIndex(), " unstable{", unstable_.ToString(),
                      "}");
}

void RaftLog::CheckInvariants() const {
  RS_CHECK_LE(applied_, applying_) << ToString();
  RS_CHECK_LE(applying_, committed_) << ToString();
  RS_CHECK_LE(committed_, LastIndex()) << ToString();
}

}  // namespace raftstore::raft
