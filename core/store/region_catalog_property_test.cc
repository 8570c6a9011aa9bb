// RapidCheck property of the region catalog: for any sequence of inserts,
// transitions, updates and removals (valid or not), every operation succeeds
// or fails with the same code as in a naive model (a vector of regions
// scanned linearly), routing of every probe key agrees with the model, and
// both the catalog's counts and its metrics equal the model's counts.

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "core/store/region_catalog.h"
#include "core/store/region_hooks.h"
#include "core/store/region_state.h"
#include "gtest/gtest.h"
#include "proto/region.pb.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"

namespace raftstore::store {
namespace {

using meta::Region;
using meta::RegionState;

// Key 0 is "" (the start, or +infinity as an end key).
const char* const kKeys[] = {"", "b", "d", "f", "h", "j"};
constexpr int kKeyCount = 6;
constexpr size_t kRegionsMax = 5;

enum OpKind { kInsert = 0, kTransition, kUpdate, kRemove, kKindCount };

struct Op {
  int kind = kInsert;
  uint64_t id = 1;
  int start = 0;
  int end = 0;
  int state = 0;          // For kTransition: any of 0..4 or 7 (undeclared).
  int version_delta = 0;  // For kUpdate: -1, 0 or +1.
  int conf_delta = 0;
  bool toggle_peer = false;
};

void showValue(const Op& op, std::ostream& os) {
  static const char* const kNames[] = {"Insert", "Transition", "Update",
                                       "Remove"};
  os << kNames[op.kind] << "(id=" << op.id << " [" << kKeys[op.start] << ","
     << kKeys[op.end] << ") state=" << op.state << " dv=" << op.version_delta
     << " dc=" << op.conf_delta << " peer=" << op.toggle_peer << ")";
}

struct ModelRegion {
  Region region;
  RegionState state;
};

bool RangesOverlap(const Region& a, const Region& b) {
  const bool a_before_b = !a.end_key().empty() && a.end_key() <= b.start_key();
  const bool b_before_a = !b.end_key().empty() && b.end_key() <= a.start_key();
  return !a_before_b && !b_before_a;
}

bool PeersEqual(const Region& a, const Region& b) {
  if (a.peers_size() != b.peers_size()) return false;
  for (int i = 0; i < a.peers_size(); ++i) {
    if (a.peers(i).id() != b.peers(i).id() ||
        a.peers(i).store_id() != b.peers(i).store_id()) {
      return false;
    }
  }
  return true;
}

// The catalog's rules, written as plainly as possible.
class Model {
 public:
  ModelRegion* Find(uint64_t id) {
    for (ModelRegion& r : regions_) {
      if (r.region.id() == id) return &r;
    }
    return nullptr;
  }

  bool OverlapsRouted(const Region& region) const {
    for (const ModelRegion& r : regions_) {
      if (r.region.id() != region.id() && OwnsRange(r.state) &&
          RangesOverlap(r.region, region)) {
        return true;
      }
    }
    return false;
  }

  static bool BadRange(const Region& region) {
    return !region.end_key().empty() && region.start_key() >= region.end_key();
  }

  absl::StatusCode Insert(const Region& region) {
    if (BadRange(region)) return absl::StatusCode::kInvalidArgument;
    if (ModelRegion* r = Find(region.id())) {
      return r->state == meta::REGION_STATE_TOMBSTONE
                 ? absl::StatusCode::kFailedPrecondition
                 : absl::StatusCode::kAlreadyExists;
    }
    if (regions_.size() >= kRegionsMax) {
      return absl::StatusCode::kResourceExhausted;
    }
    if (OverlapsRouted(region)) return absl::StatusCode::kFailedPrecondition;
    regions_.push_back({region, meta::REGION_STATE_NEW});
    return absl::StatusCode::kOk;
  }

  absl::StatusCode Transition(uint64_t id, RegionState to) {
    ModelRegion* r = Find(id);
    if (r == nullptr) return absl::StatusCode::kNotFound;
    const RegionState from = r->state;
    const bool valid =
        (from == meta::REGION_STATE_NEW && to == meta::REGION_STATE_RUNNING) ||
        (from == meta::REGION_STATE_RUNNING &&
         (to == meta::REGION_STATE_REMOVING ||
          to == meta::REGION_STATE_TOMBSTONE)) ||
        (from == meta::REGION_STATE_REMOVING &&
         to == meta::REGION_STATE_TOMBSTONE);
    if (!valid) return absl::StatusCode::kFailedPrecondition;
    r->state = to;
    return absl::StatusCode::kOk;
  }

  absl::StatusCode Update(const Region& region) {
    if (BadRange(region)) return absl::StatusCode::kInvalidArgument;
    ModelRegion* r = Find(region.id());
    if (r == nullptr) return absl::StatusCode::kNotFound;
    if (r->state == meta::REGION_STATE_TOMBSTONE) {
      return absl::StatusCode::kFailedPrecondition;
    }
    const uint64_t old_version = r->region.epoch().version();
    const uint64_t old_conf = r->region.epoch().conf_version();
    const uint64_t version = region.epoch().version();
    const uint64_t conf = region.epoch().conf_version();
    const bool range_changed = r->region.start_key() != region.start_key() ||
                               r->region.end_key() != region.end_key();
    if (version < old_version || conf < old_conf ||
        (range_changed && version == old_version) ||
        (!PeersEqual(r->region, region) && conf == old_conf)) {
      return absl::StatusCode::kFailedPrecondition;
    }
    if (OwnsRange(r->state) && OverlapsRouted(region)) {
      return absl::StatusCode::kFailedPrecondition;
    }
    r->region = region;
    return absl::StatusCode::kOk;
  }

  absl::StatusCode Remove(uint64_t id) {
    for (auto it = regions_.begin(); it != regions_.end(); ++it) {
      if (it->region.id() != id) continue;
      if (it->state != meta::REGION_STATE_TOMBSTONE) {
        return absl::StatusCode::kFailedPrecondition;
      }
      regions_.erase(it);
      return absl::StatusCode::kOk;
    }
    return absl::StatusCode::kNotFound;
  }

  uint64_t Route(const std::string& key) const {
    for (const ModelRegion& r : regions_) {
      if (OwnsRange(r.state) && r.region.start_key() <= key &&
          (r.region.end_key().empty() || key < r.region.end_key())) {
        return r.region.id();
      }
    }
    return 0;
  }

  RegionMetricsSnapshot Counts() const {
    RegionMetricsSnapshot counts;
    counts.region_total = regions_.size();
    for (const ModelRegion& r : regions_) {
      counts.region_new += r.state == meta::REGION_STATE_NEW ? 1 : 0;
      counts.region_running += r.state == meta::REGION_STATE_RUNNING ? 1 : 0;
      counts.region_removing += r.state == meta::REGION_STATE_REMOVING ? 1 : 0;
      counts.region_tombstone +=
          r.state == meta::REGION_STATE_TOMBSTONE ? 1 : 0;
    }
    return counts;
  }

 private:
  std::vector<ModelRegion> regions_;
};

Region BaseRegion(uint64_t id) {
  Region region;
  region.set_id(id);
  region.mutable_epoch()->set_version(1);
  region.mutable_epoch()->set_conf_version(1);
  meta::Peer* peer = region.add_peers();
  peer->set_id(id * 10);
  peer->set_store_id(1);
  return region;
}

// The meta an op proposes: for an update, the model's current meta (when the
// id is known) with the op's range, epoch deltas and peer toggle.
Region ProposedMeta(const Op& op, Model& model) {
  Region region = BaseRegion(op.id);
  if (ModelRegion* known = model.Find(op.id)) region = known->region;
  region.set_start_key(kKeys[op.start]);
  region.set_end_key(kKeys[op.end]);
  if (op.kind != kUpdate) return region;
  meta::RegionEpoch* epoch = region.mutable_epoch();
  epoch->set_version(static_cast<uint64_t>(
      static_cast<int64_t>(epoch->version()) + op.version_delta));
  epoch->set_conf_version(static_cast<uint64_t>(
      static_cast<int64_t>(epoch->conf_version()) + op.conf_delta));
  if (op.toggle_peer) {
    if (region.peers_size() > 1) {
      region.mutable_peers()->RemoveLast();
    } else {
      meta::Peer* peer = region.add_peers();
      peer->set_id(op.id * 10 + 1);
      peer->set_store_id(2);
    }
  }
  return region;
}

rc::Gen<Op> GenOp() {
  return rc::gen::build<Op>(
      rc::gen::set(&Op::kind, rc::gen::inRange<int>(0, kKindCount)),
      rc::gen::set(&Op::id, rc::gen::inRange<uint64_t>(1, 9)),
      rc::gen::set(&Op::start, rc::gen::inRange(0, kKeyCount)),
      rc::gen::set(&Op::end, rc::gen::inRange(0, kKeyCount)),
      rc::gen::set(&Op::state, rc::gen::element(0, 1, 2, 3, 4, 7)),
      rc::gen::set(&Op::version_delta, rc::gen::inRange(-1, 2)),
      rc::gen::set(&Op::conf_delta, rc::gen::inRange(-1, 2)),
      rc::gen::set(&Op::toggle_peer, rc::gen::arbitrary<bool>()));
}

absl::StatusCode Apply(const Op& op, Model& model, RegionCatalog& catalog,
                       absl::StatusCode* catalog_code) {
  const Region region = ProposedMeta(op, model);
  const auto state = static_cast<RegionState>(op.state);
  switch (op.kind) {
    case kInsert:
      *catalog_code = catalog.Insert(region).code();
      return model.Insert(region);
    case kTransition:
      *catalog_code = catalog.Transition(op.id, state).code();
      return model.Transition(op.id, state);
    case kUpdate:
      *catalog_code = catalog.Update(region).code();
      return model.Update(region);
    default:
      *catalog_code = catalog.Remove(op.id).code();
      return model.Remove(op.id);
  }
}

RC_GTEST_PROP(RegionCatalogProperty, AgreesWithLinearScanModel, ()) {
  const std::vector<Op> ops = *rc::gen::container<std::vector<Op>>(GenOp());
  RegionCatalogConfig config;
  config.regions_max = kRegionsMax;
  RegionCatalog catalog(config);
  Model model;
  const std::vector<std::string> probes = {"",  "a", "b", "c", "d", "e",   "f",
                                           "g", "h", "i", "j", "k", "\xff"};
  for (const Op& op : ops) {
    absl::StatusCode catalog_code = absl::StatusCode::kOk;
    const absl::StatusCode model_code =
        Apply(op, model, catalog, &catalog_code);
    RC_ASSERT(catalog_code == model_code);
    catalog.CheckInvariants();
    for (const std::string& key : probes) {
      const std::optional<Region> found = catalog.FindByKey(key);
      RC_ASSERT((found.has_value() ? found->id() : 0) == model.Route(key));
    }
    RC_ASSERT(catalog.CountByState() == model.Counts());
    RC_ASSERT(catalog.metrics().Snapshot() == model.Counts());
  }
}

}  // namespace
}  // namespace raftstore::store
