// The admin nemesis of the store mode: region splits and merges, membership
// changes (add a learner, promote it, remove a peer) and leader transfers,
// sent at
// random times during the faulty phase to the store leading the region,
// with the epoch that store holds, through Store::SubmitAdmin. It plays
// the part of a placement driver: it allocates region and peer ids (never
// reused in a run), sees every running store's catalog, and submits the
// splits the stores suggest (StoreEffects::split_suggestions).
//
// Rules that keep every region able to make progress once faults heal:
//   - a region keeps at least kStoreReplicasMin voters and at most
//     replicas_max peers; a learner goes only to a store the region has no
//     peer on and whose disk is not lost;
//   - after any membership change, the voters on stores whose disk is not
//     lost must still form a quorum of the voters (crashed stores count:
//     they restart);
//   - at most kStoreRegionsMax regions; at most kPeersPerRegionMax peers
//     ever allocated to one region (the checker's size bounds it).
//
// One command is in flight at a time. An answer that proves the command was
// not applied (NotLeader, EpochNotMatch, ServerBusy, RegionNotFound) is
// retried up to kRetriesMax times, rebuilt on fresh state after a backoff;
// a command not answered within kAnswerTimeoutElections election timeouts is
// abandoned (it may still apply: nothing assumes it did or did not). The
// times of the commands come from the nemesis's own Rng, so the fault
// schedule shrinks without moving them.
//
// Adding a command kind is one AdminKind, one builder and one line in the
// kinds table (store_nemesis.cc); merge came that way.
//
// Thread-safety: none; the simulator is single-threaded.
#ifndef RAFTSTORE_SIM_STORE_NEMESIS_H_
#define RAFTSTORE_SIM_STORE_NEMESIS_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/btree_map.h"
#include "core/base/rng.h"
#include "core/store/store_effects.h"
#include "proto/region.pb.h"
#include "proto/store.pb.h"
#include "sim/event_queue.h"
#include "sim/store_node.h"
#include "sim/store_options.h"
#include "sim/trace.h"

namespace raftstore::sim {

enum class AdminKind {
  kSplit,
  kAddLearner,
  kPromote,
  kRemovePeer,
  kTransferLeader,
  kMerge,
};
inline constexpr int kAdminKindCount = 6;

std::string_view AdminKindName(AdminKind kind);

struct NemesisStats {
  // Commands that succeeded, by kind (a transfer: started).
  uint64_t done[kAdminKindCount] = {};
  uint64_t suggestions = 0;  // split suggestions the stores made
  uint64_t auto_splits = 0;  // splits submitted for a store's suggestion
  uint64_t submitted = 0;
  uint64_t refused = 0;    // answered with an error, after the retries
  uint64_t abandoned = 0;  // no answer in time
  uint64_t skipped = 0;    // nothing to do, or a command already in flight

  uint64_t splits() const { return done[0]; }
  uint64_t conf_changes() const { return done[1] + done[2] + done[3]; }
  uint64_t transfers() const { return done[4]; }
  // Merges whose source was frozen (the prepare applied): the commit then
  // completes on its own, or rolls back.
  uint64_t merges() const { return done[5]; }
};

class StoreNemesis {
 public:
  // Peers ever allocated to one region (StoreChecker::kReplicasPerRegionMax
  // bounds the checker; this stays well below).
  static constexpr int kPeersPerRegionMax = 40;
  static constexpr int kRetriesMax = 3;
  static constexpr uint64_t kAnswerTimeoutElections = 10;
  // Region and peer ids start here (above the bootstrap regions' ids).
  static constexpr uint64_t kFirstId = 1000;

  // `nodes` must outlive the nemesis.
  StoreNemesis(const StoreSimOptions* options, EventQueue* events, Trace* trace,
               Rng rng,
               const std::vector<std::unique_ptr<SimStoreNode>>* nodes);

  // Starts sending commands; Stop() ends it (commands in flight may still
  // be answered, and are counted).
  void Start();
  void Stop() { stopped_ = true; }

  // Answers and suggestions, from the stores.
  void OnAdminReply(uint64_t store_id, const store::AdminReply& reply);
  void OnSplitSuggestion(uint64_t store_id,
                         const store::SplitSuggestion& suggestion);

  const NemesisStats& stats() const { return stats_; }
  // Regions that still exist, ascending: routed (New or Running) by some
  // store that is up, and not listed as merged away by any region's meta.
  std::vector<uint64_t> LiveRegionIds() const;

 private:
  // A region as its leader's store sees it.
  struct Target {
    uint64_t store_id = 0;
    meta::Region region;
  };
  struct InFlight {
    uint64_t token = 0;
    AdminKind kind = AdminKind::kSplit;
    uint64_t region_id = 0;
    int retries = 0;
  };

  void ScheduleNext();
  void Act();
  // The command of `kind` for the target, or nullopt when it has none
  // (nothing to split, no learner to promote, no safe removal, ...).
  std::optional<store::AdminRequest> Build(AdminKind kind,
                                           const Target& target);
  std::optional<store::AdminRequest> BuildSplit(const Target& target);
  std::optional<store::AdminRequest> BuildAddLearner(const Target& target);
  std::optional<store::AdminRequest> BuildPromote(const Target& target);
  std::optional<store::AdminRequest> BuildRemove(const Target& target);
  std::optional<store::AdminRequest> BuildTransfer(const Target& target);
  // Merges the target into an adjacent region led somewhere, when their
  // voters are on the same stores and neither has learners.
  std::optional<store::AdminRequest> BuildMerge(const Target& target);
  // The regions led by a running store, in region order.
  std::vector<Target> Targets() const;
  std::optional<Target> TargetOf(uint64_t region_id) const;
  // Whether the voters of `region` with `change` applied keep a quorum on
  // stores whose disk is not lost.
  bool KeepsQuorum(const meta::Region& region, uint64_t removed_peer,
                   uint64_t promoted_peer) const;
  void Submit(AdminKind kind, const Target& target, store::AdminRequest request,
              int retries);
  void Retry(InFlight in_flight);
  uint64_t NextId() { return next_id_++; }
  uint64_t ElectionUs() const;

  const StoreSimOptions* options_;
  EventQueue* events_;
  Trace* trace_;
  Rng rng_;
  const std::vector<std::unique_ptr<SimStoreNode>>* nodes_;
  bool stopped_ = true;
  uint64_t next_id_ = kFirstId;
  uint64_t next_token_ = 0;
  std::optional<InFlight> in_flight_;
  // Peers allocated per region (bootstrap ones not counted).
  absl::btree_map<uint64_t, int> peers_allocated_;
  NemesisStats stats_;
};

}  // namespace raftstore::sim

#endif  // RAFTSTORE_SIM_STORE_NEMESIS_H_
