// Merge of two adjacent regions, the peer's side (docs/store.md, "Merge").
//
//   prepare   (source log)  freezes the source at the prepare index P:
//                            its state there is final;
//   commit    (target log)  carries that state; applied only while the
//                            target is at the epoch the prepare named;
//   rollback  (source log)  unfreezes the source once the target moved past
//                            that epoch without taking it in.
//
// Every check below that decides whether an entry takes effect reads only
// replicated state (the region's meta and the entry), so every replica
// decides the same.
#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "core/kv/command_codec.h"
#include "core/store/peer.h"
#include "core/store/requests.h"
#include "proto/store.pb.h"

namespace raftstore::store {
namespace {

bool SameEpoch(const meta::RegionEpoch& a, const meta::RegionEpoch& b) {
  return a.version() == b.version() && a.conf_version() == b.conf_version();
}

// Whether the two ranges touch end to start (in either order) without
// overlapping.
bool Adjacent(const meta::Region& a, const meta::Region& b) {
  return (!a.end_key().empty() && a.end_key() == b.start_key()) ||
         (!b.end_key().empty() && b.end_key() == a.start_key());
}

size_t ChunkBytes(const std::vector<std::string>& chunks) {
  size_t bytes = 0;
  for (const std::string& chunk : chunks) bytes += chunk.size();
  return bytes;
}

}  // namespace

bool MergedAway(const meta::Region& target, uint64_t source_id) {
  return std::find(target.merged_region_ids().begin(),
                   target.merged_region_ids().end(),
                   source_id) != target.merged_region_ids().end();
}

MergeDecision DecideMerge(const MergeState& merge, uint64_t source_id,
                          const meta::Region& target_seen) {
  const meta::RegionEpoch& named = merge.target.epoch();
  const meta::RegionEpoch& seen = target_seen.epoch();
  if (MergedAway(target_seen, source_id)) return MergeDecision::kWait;
  if (SameEpoch(seen, named)) return MergeDecision::kCommit;
  // Both numbers only grow: once either is past the named one, the target
  // is never at that epoch again, so no commit of this merge can apply
  // after this replica's applied index; and none applied up to it, or the
  // list would name the source. A full list may have forgotten it.
  const bool passed = seen.version() > named.version() ||
                      seen.conf_version() > named.conf_version();
  if (passed && target_seen.merged_region_ids_size() < kMergedRegionIdsMax) {
    return MergeDecision::kRollBack;
  }
  return MergeDecision::kWait;
}

kv::Error Peer::MergingError() const {
  RS_CHECK(merging_.has_value());
  return ServerBusyError(
      absl::StrCat("region ", region_.id(), " is merging into region ",
                   merging_->target.id(), "; it serves nothing meanwhile"),
      config_->busy_backoff_ms);
}

std::optional<kv::Error> Peer::CheckPrepareMerge(
    const MergeRequest& request) const {
  const meta::Region& target = request.target();
  kv::Error error;
  if (target.id() == 0 || target.id() == region_.id()) {
    error.set_message("merge: the target must be another region");
  } else if (!Adjacent(region_, target)) {
    error.set_message(absl::StrCat("merge: region ", target.id(),
                                   " is not adjacent to region ",
                                   region_.id()));
  } else if (raw_->raft().pending_conf_index() > kv_->applied_index()) {
    error.set_message("merge: a membership change is still applying");
  } else {
    return std::nullopt;
  }
  return error;
}

void Peer::ProposePrepareMerge(uint64_t reply_to, const AdminRequest& request,
                               PeerOutput& out) {
  if (!MayProposeAdmin(reply_to, request, CheckPrepareMerge(request.merge()),
                       out)) {
    return;
  }
  command::Command command;
  command::PrepareMergeOp* op = command.mutable_prepare_merge();
  *op->mutable_target() = request.merge().target();
  *op->mutable_epoch() = region_.epoch();
  TrackAdminProposal(raw_->Propose(kv::EncodeCommand(command)), reply_to,
                     request, out);
}

void Peer::ApplyPrepareMerge(const raft::Entry& entry,
                             const command::PrepareMergeOp& op,
                             PeerOutput& out) {
  kv_->ApplyEmpty(entry.index());
  kv::Error refused;
  bool ok = false;
  if (!SameEpoch(op.epoch(), region_.epoch()) || merging_.has_value()) {
    refused = EpochError();
  } else if (!Adjacent(region_, op.target())) {
    refused.set_message(absl::StrCat("merge: region ", op.target().id(),
                                     " is not adjacent to region ",
                                     region_.id()));
  } else if (const size_t bytes =
                 ChunkBytes(kv_->ExportChunks(config_->snapshot_chunk_bytes));
             bytes > config_->merge_source_bytes_max) {
    // Decided on the replicated state: every replica refuses alike.
    refused.set_message(
        absl::StrCat("merge: region ", region_.id(), " holds ", bytes,
                     " bytes, more than merge_source_bytes_max ",
                     config_->merge_source_bytes_max));
  } else {
    ok = true;
  }
  if (ok) {
    merging_ = MergeState{op.target(), entry.index()};
    // A new version: requests and admin commands decided on the old meta
    // are refused from here on.
    region_.mutable_epoch()->set_version(region_.epoch().version() + 1);
    out.meta_changed->push_back(region_.id());
    ++out.counters->merges_prepared;
    AnswerAdmin(entry, nullptr, out);
  } else {
    AnswerAdmin(entry, &refused, out);
  }
  Answer(entry, command::CommandResult(), out);
}

bool Peer::ProposeCommitMerge(const Peer& source) {
  RS_CHECK(source.merging_.has_value());
  if (!IsLeader() || merging_.has_value() ||
      source.merging_->target.id() != region_.id() ||
      !SameEpoch(source.merging_->target.epoch(), region_.epoch())) {
    return false;
  }
  command::Command command;
  command::CommitMergeOp* op = command.mutable_commit_merge();
  *op->mutable_source() = source.region_;
  op->set_prepare_index(source.merging_->prepare_index);
  *op->mutable_target_epoch() = region_.epoch();
  for (std::string& chunk :
       source.kv_->ExportChunks(config_->snapshot_chunk_bytes)) {
    op->add_source_kv_chunks(std::move(chunk));
  }
  op->set_source_applied_index(source.kv_->applied_index());
  return raw_->Propose(kv::EncodeCommand(command)) == raft::ProposeResult::kOk;
}

void Peer::ApplyCommitMerge(const raft::Entry& entry,
                            const command::CommitMergeOp& op, PeerOutput& out) {
  kv_->ApplyEmpty(entry.index());
  AnswerAdmin(entry, nullptr, out);  // admin commands that lost this index
  Answer(entry, command::CommandResult(), out);
  // A commit proposed at the target's old epoch (a split, a membership
  // change or another merge came first), a second commit of the same merge
  // (the first raised the version), or a target frozen by a merge of its
  // own: it takes no effect, and the source's rollback follows.
  if (!SameEpoch(op.target_epoch(), region_.epoch()) || merging_.has_value() ||
      op.source().id() == region_.id() ||
      MergedAway(region_, op.source().id()) ||
      !Adjacent(region_, op.source())) {
    ++out.counters->merge_commits_refused;
    return;
  }
  kv::KvStateMachine source(config_->kv, op.source_applied_index());
  const std::vector<std::string> chunks(op.source_kv_chunks().begin(),
                                        op.source_kv_chunks().end());
  // The proposer exported these from a replica's state, and the log is
  // checksummed: chunks that do not import are a broken invariant.
  const absl::Status imported =
      source.ImportChunks(chunks, op.source_applied_index());
  RS_CHECK(imported.ok()) << "region " << region_.id() << " index "
                          << entry.index() << ": merge of region "
                          << op.source().id() << ": " << imported;
  kv_->MergeFrom(std::move(source));
  if (!region_.end_key().empty() &&
      region_.end_key() == op.source().start_key()) {
    region_.set_end_key(op.source().end_key());
  } else {
    region_.set_start_key(op.source().start_key());
  }
  region_.mutable_epoch()->set_version(
      std::max(region_.epoch().version(), op.source().epoch().version()) + 1);
  region_.add_merged_region_ids(op.source().id());
  if (region_.merged_region_ids_size() > kMergedRegionIdsMax) {
    region_.mutable_merged_region_ids()->erase(
        region_.mutable_merged_region_ids()->begin());
  }
  out.meta_changed->push_back(region_.id());
  out.merges->push_back(MergeResult{region_.id(), op.source().id()});
  ++out.counters->merges_committed;
  // The snapshot should hold the source's keys soon (replaying this entry
  // would bring them back anyway).
  snapshot_due_ = true;
}

bool Peer::ProposeRollbackMerge() {
  if (!IsLeader() || !merging_.has_value()) return false;
  command::Command command;
  command.mutable_rollback_merge()->set_prepare_index(merging_->prepare_index);
  return raw_->Propose(kv::EncodeCommand(command)) == raft::ProposeResult::kOk;
}

void Peer::ApplyRollbackMerge(const raft::Entry& entry,
                              const command::RollbackMergeOp& op,
                              PeerOutput& out) {
  kv_->ApplyEmpty(entry.index());
  AnswerAdmin(entry, nullptr, out);
  Answer(entry, command::CommandResult(), out);
  if (!merging_.has_value() || merging_->prepare_index != op.prepare_index()) {
    return;  // a duplicate, or of another merge
  }
  merging_.reset();
  region_.mutable_epoch()->set_version(region_.epoch().version() + 1);
  out.meta_changed->push_back(region_.id());
  ++out.counters->merges_rolled_back;
}

}  // namespace raftstore::store
