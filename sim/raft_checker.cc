#include "sim/raft_checker.h"

#include <cstdint>
#include <span>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "core/storage/crc32c.h"

namespace raftstore::sim {
namespace {

// A 64-bit mix (the splitmix64 finaliser) to chain entry digests into a
// prefix digest. Collisions only hide a violation, never invent one, and at
// 64 bits they do not happen in a run of any realistic length.
uint64_t Mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  h ^= h >> 31;
  return h;
}

uint64_t EntryDigest(const raft::Entry& entry) {
  uint64_t h = Mix(entry.index(), entry.term());
  h = Mix(h, static_cast<uint64_t>(entry.type()));
  return Mix(h, storage::Crc32c(entry.data()) | (entry.data().size() << 32));
}

}  // namespace

RaftChecker::RaftChecker(int node_count) {
  RS_CHECK_GT(node_count, 0);
  replicas_.resize(static_cast<size_t>(node_count));
}

RaftChecker::Replica& RaftChecker::replica(uint64_t node) {
  RS_CHECK_GE(node, 1U);
  RS_CHECK_LE(node, replicas_.size());
  return replicas_[node - 1];
}

void RaftChecker::Add(std::string property, std::string detail) {
  if (violations_.size() >= kViolationsMax) {
    ++violations_dropped_;
    return;
  }
  violations_.push_back(
      SafetyViolation{std::move(property), now_us_, std::move(detail)});
}

bool RaftChecker::Lookup(const Replica& r, uint64_t index, uint64_t* term,
                         uint64_t* digest) const {
  if (index == r.base_index) {
    *term = r.base_term;
    *digest = r.base_digest;
    return true;
  }
  if (index < r.base_index || index > LastIndex(r)) return false;
  const auto& [t, d] = r.terms_and_digests[index - r.base_index - 1];
  *term = t;
  *digest = d;
  return true;
}

const RaftChecker::Prefix* RaftChecker::FindPrefix(uint64_t index,
                                                   uint64_t term) const {
  if (index >= prefix_by_index_.size()) return nullptr;
  for (const Prefix& prefix : prefix_by_index_[index]) {
    if (prefix.term == term) return &prefix;
  }
  return nullptr;
}

void RaftChecker::CheckPrefix(uint64_t node, uint64_t index, uint64_t term,
                              uint64_t digest) {
  if (const Prefix* known = FindPrefix(index, term)) {
    if (known->digest != digest) {
      Add("log matching",
          absl::StrCat("nodes ", known->node, " and ", node,
                       " hold an entry of term ", term, " at index ", index,
                       " but their logs differ at or before it"));
    }
    return;
  }
  RS_CHECK_LE(index, kIndexMax)
      << "the raft checker tracks indexes up to " << kIndexMax;
  if (index >= prefix_by_index_.size()) prefix_by_index_.resize(index + 1);
  prefix_by_index_[index].push_back(Prefix{term, digest, node});
}

void RaftChecker::SaveOverwritten(Replica& r, uint64_t first) {
  if (first > r.synced_last_index) return;
  if (r.overwritten.empty()) r.overwritten_from = first;
  // Only indexes not saved yet: a save already holds the synced version.
  const uint64_t saved_end = r.overwritten_from + r.overwritten.size();
  if (first < r.overwritten_from) {
    std::vector<std::pair<uint64_t, uint64_t>> front;
    for (uint64_t i = first; i < r.overwritten_from; ++i) {
      uint64_t term = 0;
      uint64_t digest = 0;
      if (Lookup(r, i, &term, &digest)) front.emplace_back(term, digest);
    }
    r.overwritten.insert(r.overwritten.begin(), front.begin(), front.end());
    r.overwritten_from = first;
  }
  for (uint64_t i = saved_end; i <= r.synced_last_index; ++i) {
    uint64_t term = 0;
    uint64_t digest = 0;
    if (!Lookup(r, i, &term, &digest)) break;
    r.overwritten.emplace_back(term, digest);
  }
}

void RaftChecker::OnWritten(uint64_t node,
                            std::span<const raft::Entry> entries) {
  if (entries.empty()) return;
  Replica& r = replica(node);
  const uint64_t first = entries.front().index();
  uint64_t prev_term = 0;
  uint64_t digest = 0;
  // The driver appends only after its log's last entry or over it; a gap
  // is a driver bug, not a raft property.
  RS_CHECK(Lookup(r, first - 1, &prev_term, &digest))
      << "node " << node << " wrote index " << first << " but its log ends at "
      << LastIndex(r) << " (compaction point " << r.base_index << ")";
  SaveOverwritten(r, first);
  r.terms_and_digests.resize(first - 1 - r.base_index);
  for (const raft::Entry& entry : entries) {
    RS_CHECK_EQ(entry.index(), LastIndex(r) + 1);
    digest = Mix(digest, EntryDigest(entry));
    r.terms_and_digests.emplace_back(entry.term(), digest);
    CheckPrefix(node, entry.index(), entry.term(), digest);
  }
}

void RaftChecker::OnSnapshotWritten(uint64_t node, uint64_t index,
                                    uint64_t term) {
  Replica& r = replica(node);
  uint64_t held_term = 0;
  uint64_t digest = 0;
  const bool held = Lookup(r, index, &held_term, &digest) && held_term == term;
  SaveOverwritten(r, r.base_index + 1);
  r.base_index = index;
  r.base_term = term;
  // A snapshot carries no log, so the digest of its prefix is whatever the
  // replicas agreed on for (index, term); if none is known yet, the
  // snapshot starts a fresh chain that others are compared against.
  const Prefix* known = FindPrefix(index, term);
  if (held) {
    r.base_digest = digest;
  } else if (known != nullptr) {
    r.base_digest = known->digest;
  } else {
    r.base_digest = Mix(index, term);
  }
  r.terms_and_digests.clear();
}

void RaftChecker::OnHardStateWritten(uint64_t node,
                                     const raft::HardState& hard_state) {
  replica(node).written_hard_state = hard_state;
}

void RaftChecker::OnSynced(uint64_t node) {
  Replica& r = replica(node);
  r.synced_last_index = LastIndex(r);
  r.overwritten.clear();
  r.overwritten_from = 0;
  r.synced_hard_state = r.written_hard_state;
}

void RaftChecker::OnApplied(uint64_t node, const raft::Entry& entry,
                            uint64_t node_term) {
  Replica& r = replica(node);
  if (entry.index() != r.applied_index + 1) {
    Add("state machine safety",
        absl::StrCat("node ", node, " applied index ", entry.index(),
                     " after index ", r.applied_index));
  }
  r.applied_index = entry.index();
  const uint64_t data_digest = EntryDigest(entry);
  RS_CHECK_LE(entry.index(), kIndexMax)
      << "the raft checker tracks indexes up to " << kIndexMax;
  if (entry.index() >= applied_.size()) applied_.resize(entry.index() + 1);
  Applied& applied = applied_[entry.index()];
  if (!applied.present) {
    applied = Applied{true, entry.term(), data_digest, node, node_term};
    ++applied_count_;
  } else {
    if (applied.term != entry.term() || applied.data_digest != data_digest) {
      Add("state machine safety",
          absl::StrCat("node ", node, " applied term ", entry.term(),
                       " at index ", entry.index(), " but node ",
                       applied.first_node, " applied term ", applied.term,
                       " (or different data) there"));
    }
    if (node_term < applied.observer_term) applied.observer_term = node_term;
  }
  if (entry.index() > applied_max_) applied_max_ = entry.index();
}

void RaftChecker::CheckRecoveredLog(uint64_t node, const Replica& before) {
  const Replica& r = replicas_[node - 1];
  for (uint64_t index = before.base_index + 1;
       index <= before.synced_last_index; ++index) {
    if (index <= r.base_index) continue;  // now inside a snapshot
    uint64_t got_term = 0;
    uint64_t got_digest = 0;
    const bool got = Lookup(r, index, &got_term, &got_digest);
    uint64_t want_term = 0;
    uint64_t want_digest = 0;
    const bool written = Lookup(before, index, &want_term, &want_digest);
    if (got && written && got_digest == want_digest) continue;
    // An unsynced write that cut the log short may have survived whole.
    if (!got && !written) continue;
    if (index >= before.overwritten_from &&
        index < before.overwritten_from + before.overwritten.size()) {
      const auto& [synced_term, synced_digest] =
          before.overwritten[index - before.overwritten_from];
      if (got && got_digest == synced_digest) continue;
      want_term = synced_term;
    }
    Add("durability",
        absl::StrCat("node ", node, " synced index ", index, " (term ",
                     want_term, ") but recovered ",
                     got ? absl::StrCat("term ", got_term, " or other data")
                         : std::string("nothing"),
                     " there"));
    return;
  }
}

void RaftChecker::OnRecovered(uint64_t node, uint64_t snapshot_index,
                              uint64_t snapshot_term,
                              std::span<const raft::Entry> entries,
                              const raft::HardState& hard_state,
                              uint64_t applied_index) {
  Replica& r = replica(node);
  const Replica before = r;
  r = Replica{};
  // Rebuild the chain from what the disk gave back.
  OnSnapshotWritten(node, snapshot_index, snapshot_term);
  OnWritten(node, entries);
  CheckRecoveredLog(node, before);
  const raft::HardState& want = before.synced_hard_state;
  if (hard_state.term() < want.term() ||
      (hard_state.term() == want.term() && want.vote() != 0 &&
       hard_state.vote() != want.vote())) {
    Add("durability",
        absl::StrCat("node ", node, " synced term ", want.term(), " vote ",
                     want.vote(), " but recovered term ", hard_state.term(),
                     " vote ", hard_state.vote()));
  }
  // What came back is now on disk; the disk is as of the crash, all of it
  // durable.
  r.written_hard_state = hard_state;
  OnSynced(node);
  r.applied_index = applied_index;
}

void RaftChecker::OnDiskLost(uint64_t node) {
  Replica& r = replica(node);
  r = Replica{};
}

void RaftChecker::OnLocalSnapshotWritten(uint64_t node, uint64_t index,
                                         uint64_t term) {
  Replica& r = replica(node);
  uint64_t held_term = 0;
  uint64_t digest = 0;
  if (!Lookup(r, index, &held_term, &digest)) {
    if (index > LastIndex(r)) OnSnapshotWritten(node, index, term);
    // Below the base: an older snapshot than the log's; nothing changes.
    return;
  }
  if (held_term != term) {
    Add("log matching",
        absl::StrCat("node ", node, " snapshotted its log at index ", index,
                     " term ", term, " but its log holds term ", held_term,
                     " there"));
  }
}

void RaftChecker::OnStateMachineRestored(uint64_t node, uint64_t index,
                                         uint64_t term) {
  Replica& r = replica(node);
  r.applied_index = index;
  if (index < applied_.size() && applied_[index].present &&
      applied_[index].term != term) {
    Add("state machine safety",
        absl::StrCat("node ", node, " restored a snapshot at index ", index,
                     " term ", term, " but node ", applied_[index].first_node,
                     " applied term ", applied_[index].term, " there"));
  }
}

}  // namespace raftstore::sim
