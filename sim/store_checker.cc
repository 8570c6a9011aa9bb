#include "sim/store_checker.h"

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "core/kv/command_codec.h"
#include "core/store/peer.h"

namespace raftstore::sim {

StoreChecker::Region& StoreChecker::region(uint64_t region_id) {
  Region& r = regions_[region_id];
  if (r.checker == nullptr) {
    r.checker = std::make_unique<RaftChecker>(kReplicasPerRegionMax);
  }
  r.checker->set_now_us(now_us_);
  return r;
}

int StoreChecker::Slot(Region& r, uint64_t peer_id, uint64_t store_id) {
  auto it = r.slots.find(peer_id);
  if (it != r.slots.end()) {
    std::pair<uint64_t, uint64_t>& known = r.peers[it->second - 1];
    if (known.second == 0) known.second = store_id;
    return it->second;
  }
  RS_CHECK_LT(r.peers.size(), static_cast<size_t>(kReplicasPerRegionMax))
      << "a region had more than " << kReplicasPerRegionMax
      << " peers; the nemesis should have stopped adding them";
  r.peers.emplace_back(peer_id, store_id);
  const int slot = static_cast<int>(r.peers.size());
  r.slots[peer_id] = slot;
  return slot;
}

void StoreChecker::MarkWritten(uint64_t store_id, uint64_t region_id,
                               uint64_t peer_id) {
  unsynced_[store_id].emplace(region_id, peer_id);
  held_[store_id].emplace(region_id, peer_id);
}

void StoreChecker::OnLeader(uint64_t region_id, uint64_t peer_id, uint64_t term,
                            const raft::RaftLog& log) {
  if (trace_ != nullptr && trace_->keeps_text()) {
    trace_->Line(now_us_, absl::StrCat("region ", region_id, " peer ", peer_id,
                                       " leads term ", term));
  }
  Region& r = region(region_id);
  const int slot = Slot(r, peer_id, 0);
  r.checker->OnLeader(slot, term, log.FirstIndex(), log.LastIndex(),
                      [&log](uint64_t index) -> uint64_t {
                        absl::StatusOr<uint64_t> t = log.Term(index);
                        return t.ok() ? *t : 0;
                      });
}

namespace {

// A line for an admin entry (a membership change, a split or merge step),
// or empty for a client write or an empty entry.
std::string DescribeAdminEntry(const raft::Entry& entry) {
  if (entry.type() == raft::ENTRY_TYPE_CONF_CHANGE) return "conf change";
  if (entry.data().empty()) return "";
  absl::StatusOr<command::Command> command =
      kv::DecodeCommand(entry.data(), entry.data().size());
  if (!command.ok()) return "undecodable";
  if (command->has_split()) return command->split().ShortDebugString();
  if (command->has_prepare_merge()) {
    return "prepare merge: " + command->prepare_merge().ShortDebugString();
  }
  if (command->has_commit_merge()) return "commit merge";
  if (command->has_rollback_merge()) {
    return "rollback merge: " + command->rollback_merge().ShortDebugString();
  }
  return "";
}

}  // namespace

void StoreChecker::OnApplied(uint64_t region_id, uint64_t peer_id,
                             const raft::Entry& entry, uint64_t term) {
  if (trace_ != nullptr && trace_->keeps_text()) {
    const std::string admin = DescribeAdminEntry(entry);
    if (!admin.empty()) {
      trace_->Line(now_us_,
                   absl::StrCat("region ", region_id, " peer ", peer_id,
                                " applies ", entry.index(), " (term ",
                                entry.term(), "): ", admin.substr(0, 300)));
    }
  }
  Region& r = region(region_id);
  const int slot = Slot(r, peer_id, 0);
  // A peer whose state machine starts from a bootstrap snapshot (a region
  // of the cluster's bootstrap, or one born of a split) applies from
  // kRaftInitLogIndex + 1 without any snapshot message; every other start
  // is reported (a recovered or installed snapshot).
  if (r.checker->applied_index(slot) == 0 &&
      entry.index() == store::kRaftInitLogIndex + 1) {
    r.checker->OnStateMachineRestored(slot, store::kRaftInitLogIndex,
                                      store::kRaftInitLogTerm);
  }
  r.checker->OnApplied(slot, entry, term);
}

void StoreChecker::OnSnapshotInstalled(uint64_t region_id, uint64_t peer_id,
                                       uint64_t index, uint64_t term) {
  if (trace_ != nullptr && trace_->keeps_text()) {
    trace_->Line(now_us_, absl::StrCat("region ", region_id, " peer ", peer_id,
                                       " installs a snapshot at ", index,
                                       " (term ", term, ")"));
  }
  Region& r = region(region_id);
  r.checker->OnStateMachineRestored(Slot(r, peer_id, 0), index, term);
}

void StoreChecker::OnSnapshotWritten(uint64_t store_id, uint64_t region_id,
                                     uint64_t peer_id, uint64_t index,
                                     uint64_t term, bool installed) {
  Region& r = region(region_id);
  const int slot = Slot(r, peer_id, store_id);
  if (installed) {
    r.checker->OnSnapshotWritten(slot, index, term);
  } else {
    r.checker->OnLocalSnapshotWritten(slot, index, term);
  }
  MarkWritten(store_id, region_id, peer_id);
}

void StoreChecker::OnWritten(uint64_t store_id, uint64_t region_id,
                             uint64_t peer_id,
                             std::span<const raft::Entry> entries) {
  Region& r = region(region_id);
  r.checker->OnWritten(Slot(r, peer_id, store_id), entries);
  MarkWritten(store_id, region_id, peer_id);
}

void StoreChecker::OnHardStateWritten(uint64_t store_id, uint64_t region_id,
                                      uint64_t peer_id,
                                      const raft::HardState& hard_state) {
  Region& r = region(region_id);
  r.checker->OnHardStateWritten(Slot(r, peer_id, store_id), hard_state);
  MarkWritten(store_id, region_id, peer_id);
}

void StoreChecker::OnSynced(uint64_t store_id) {
  auto it = unsynced_.find(store_id);
  if (it == unsynced_.end()) return;
  for (const auto& written : it->second) {
    Region& r = region(written.first);
    r.checker->OnSynced(Slot(r, written.second, store_id));
  }
  unsynced_.erase(it);
}

void StoreChecker::OnRecovered(uint64_t store_id, uint64_t region_id,
                               uint64_t peer_id, uint64_t snapshot_index,
                               uint64_t snapshot_term,
                               std::span<const raft::Entry> entries,
                               const raft::HardState& hard_state,
                               uint64_t applied_index) {
  if (trace_ != nullptr && trace_->keeps_text()) {
    trace_->Line(now_us_, absl::StrCat("region ", region_id, " peer ", peer_id,
                                       " recovers snapshot ", snapshot_index,
                                       " and ", entries.size(), " entries, ",
                                       entries.empty() ? uint64_t{0}
                                                       : entries.back().index(),
                                       " last; commit ", hard_state.commit()));
  }
  Region& r = region(region_id);
  r.checker->OnRecovered(Slot(r, peer_id, store_id), snapshot_index,
                         snapshot_term, entries, hard_state, applied_index);
  held_[store_id].emplace(region_id, peer_id);
}

void StoreChecker::OnCrashed(uint64_t store_id) { unsynced_.erase(store_id); }

void StoreChecker::OnDiskLost(uint64_t store_id) {
  unsynced_.erase(store_id);
  auto it = held_.find(store_id);
  if (it == held_.end()) return;
  for (const auto& replica : it->second) {
    Region& r = region(replica.first);
    r.checker->OnDiskLost(Slot(r, replica.second, store_id));
  }
}

void StoreChecker::Report(std::string property, std::string detail) {
  if (own_violations_.size() >= kViolationsMax) {
    ++violations_dropped_;
    return;
  }
  own_violations_.push_back(
      SafetyViolation{std::move(property), now_us_, std::move(detail)});
}

std::vector<SafetyViolation> StoreChecker::violations() const {
  std::vector<SafetyViolation> all = own_violations_;
  for (const auto& [id, r] : regions_) {
    if (r.checker->violations().empty()) continue;
    std::string legend;
    for (size_t i = 0; i < r.peers.size(); ++i) {
      absl::StrAppend(&legend, i == 0 ? "" : ", ", "node ", i + 1, " = peer ",
                      r.peers[i].first, " on store ", r.peers[i].second);
    }
    for (const SafetyViolation& v : r.checker->violations()) {
      if (all.size() >= kViolationsMax) break;
      all.push_back(SafetyViolation{
          v.property, v.time_us,
          absl::StrCat("region ", id, ": ", v.detail, " (", legend, ")")});
    }
  }
  return all;
}

uint64_t StoreChecker::applied_entries() const {
  uint64_t total = 0;
  for (const auto& [id, r] : regions_) total += r.checker->applied_entries();
  return total;
}

size_t StoreChecker::PeersSeen(uint64_t region_id) const {
  auto it = regions_.find(region_id);
  return it == regions_.end() ? 0 : it->second.peers.size();
}

}  // namespace raftstore::sim
