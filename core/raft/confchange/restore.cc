#include "core/raft/confchange/restore.h"

#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/btree_set.h"
#include "absl/strings/str_cat.h"
#include "core/base/check.h"

namespace raftstore::raft::confchange {
namespace {

using IdSet = absl::btree_set<uint64_t>;
using IdList = google::protobuf::RepeatedField<uint64_t>;

ConfChangeSingle MakeChange(ConfChangeType type, uint64_t id) {
  ConfChangeSingle change;
  change.set_type(type);
  change.set_node_id(id);
  return change;
}

absl::Status Invalid(const ConfState& conf_state, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat(
      "invalid ConfState {", conf_state.ShortDebugString(), "}: ", what));
}

// Returns the ids of one list as a set, or an error naming `field` if an id
// is 0 or repeated.
absl::StatusOr<IdSet> ToIdSet(const ConfState& conf_state, const IdList& ids,
                              const char* field) {
  IdSet set;
  for (uint64_t id : ids) {
    if (id == 0) return Invalid(conf_state, absl::StrCat(field, " holds id 0"));
    if (!set.insert(id).second) {
      return Invalid(conf_state, absl::StrCat(field, " lists ", id, " twice"));
    }
  }
  return set;
}

// Returns an id of `ids` that is also in `other`, or nullopt if they are
// disjoint.
std::optional<uint64_t> FirstCommon(const IdSet& ids, const IdSet& other) {
  for (uint64_t id : ids) {
    if (other.contains(id)) return id;
  }
  return std::nullopt;
}

// The configuration conf_state describes, or kInvalidArgument if a list
// holds 0 or a repeated id. The sets are not checked against each other.
absl::StatusOr<TrackerConfig> ToTrackerConfig(const ConfState& conf_state) {
  // One id list of the ConfState and the set of the config it becomes.
  struct List {
    const IdList* ids;
    const char* field;
    IdSet* set;
  };
  TrackerConfig config;
  const List lists[] = {
      {&conf_state.voters(), "voters", &config.voters.incoming},
      {&conf_state.voters_outgoing(), "voters_outgoing",
       &config.voters.outgoing},
      {&conf_state.learners(), "learners", &config.learners},
      {&conf_state.learners_next(), "learners_next", &config.learners_next},
  };
  for (const List& list : lists) {
    absl::StatusOr<IdSet> ids = ToIdSet(conf_state, *list.ids, list.field);
    if (!ids.ok()) return ids.status();
    *list.set = *std::move(ids);
  }
  config.auto_leave = conf_state.auto_leave();
  return config;
}

// The two replay sequences of restore.h: `outgoing` builds the old voters by
// simple changes, `incoming` then enters the joint (or, if outgoing is
// empty, simple) configuration.
struct Replay {
  std::vector<ConfChangeSingle> outgoing;
  std::vector<ConfChangeSingle> incoming;
};

Replay ToReplay(const ConfState& conf_state) {
  Replay replay;
  for (uint64_t id : conf_state.voters_outgoing()) {
    replay.outgoing.push_back(MakeChange(CONF_CHANGE_TYPE_ADD_VOTER, id));
  }
  // EnterJoint copies the outgoing voters into the incoming half; remove
  // them there first, so that only the ConfState's voters are added back.
  for (uint64_t id : conf_state.voters_outgoing()) {
    replay.incoming.push_back(MakeChange(CONF_CHANGE_TYPE_REMOVE_NODE, id));
  }
  for (uint64_t id : conf_state.voters()) {
    replay.incoming.push_back(MakeChange(CONF_CHANGE_TYPE_ADD_VOTER, id));
  }
  for (uint64_t id : conf_state.learners()) {
    replay.incoming.push_back(MakeChange(CONF_CHANGE_TYPE_ADD_LEARNER, id));
  }
  // Still outgoing voters, so the Changer stages them in learners_next.
  for (uint64_t id : conf_state.learners_next()) {
    replay.incoming.push_back(MakeChange(CONF_CHANGE_TYPE_ADD_LEARNER, id));
  }
  return replay;
}

}  // namespace

absl::Status ValidateConfState(const ConfState& conf_state) {
  absl::StatusOr<TrackerConfig> parsed = ToTrackerConfig(conf_state);
  if (!parsed.ok()) return parsed.status();
  const TrackerConfig& config = *parsed;
  const bool empty = config.voters.outgoing.empty() &&
                     config.learners.empty() && config.learners_next.empty();
  if (config.voters.incoming.empty() && !(empty && !config.auto_leave)) {
    return Invalid(conf_state, "a non-empty configuration needs a voter");
  }
  if (auto id = FirstCommon(config.learners, quorum::IdsOf(config.voters))) {
    return Invalid(conf_state, absl::StrCat(*id, " is a voter and a learner"));
  }
  if (auto id = FirstCommon(config.learners_next, config.voters.incoming)) {
    return Invalid(conf_state,
                   absl::StrCat(*id, " is a voter and in learners_next"));
  }
  for (uint64_t id : config.learners_next) {
    if (!config.voters.outgoing.contains(id)) {
      return Invalid(conf_state, absl::StrCat(id,
                                              " is in learners_next but "
                                              "not in voters_outgoing"));
    }
  }
  if (config.auto_leave && config.voters.outgoing.empty()) {
    return Invalid(conf_state, "auto_leave is set outside joint consensus");
  }
  // learners_next ⊆ voters_outgoing, which is disjoint from learners, so
  // learners and learners_next are disjoint too.
  return absl::OkStatus();
}

absl::StatusOr<ConfigAndProgress> Restore(const ConfState& conf_state,
                                          uint64_t last_index,
                                          size_t inflight_messages_max,
                                          uint64_t inflight_bytes_max) {
  RS_CHECK_LT(last_index, std::numeric_limits<uint64_t>::max());
  RS_CHECK_GT(inflight_messages_max, 0u);
  if (absl::Status status = ValidateConfState(conf_state); !status.ok()) {
    return status;
  }
  const Replay replay = ToReplay(conf_state);
  ConfigAndProgress state;
  absl::Status status;
  // Each step starts a Changer from the previous step's result.
  auto changer = [&]() {
    return Changer(state.first, state.second, last_index, inflight_messages_max,
                   inflight_bytes_max);
  };
  auto adopt = [&](absl::StatusOr<ConfigAndProgress> result) {
    if (result.ok()) {
      state = *std::move(result);
    } else {
      status = result.status();
    }
  };
  // Outside joint consensus the whole replay is simple changes; otherwise
  // only the outgoing voters are, and EnterJoint does the rest.
  const std::vector<ConfChangeSingle>& simple =
      replay.outgoing.empty() ? replay.incoming : replay.outgoing;
  for (size_t i = 0; i < simple.size() && status.ok(); ++i) {
    adopt(changer().Simple({simple[i]}));
  }
  if (!replay.outgoing.empty() && status.ok()) {
    adopt(changer().EnterJoint(conf_state.auto_leave(), replay.incoming));
  }
  if (!status.ok()) {
    return absl::InternalError(absl::StrCat("replaying ConfState {",
                                            conf_state.ShortDebugString(),
                                            "} failed: ", status.message()));
  }
  // ValidateConfState accepted it, so this parse succeeds.
  if (state.first != *ToTrackerConfig(conf_state)) {
    return absl::InternalError(absl::StrCat("replaying ConfState {",
                                            conf_state.ShortDebugString(),
                                            "} gave ", state.first.ToString()));
  }
  return state;
}

}  // namespace raftstore::raft::confchange
