#include "core/raft/tracker/progress.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/base/check.h"

namespace raftstore::raft {

std::string_view ProgressStateName(ProgressState state) {
  switch (state) {
    case ProgressState::kProbe:
      return "StateProbe";
    case ProgressState::kReplicate:
      return "StateReplicate";
    case ProgressState::kSnapshot:
      return "StateSnapshot";
  }
  RS_CHECK(false) << "unknown ProgressState " << static_cast<int>(state);
  return "";
}

Progress::Progress(uint64_t match, uint64_t next, Inflights inflights)
    : match_(match), next_(next), inflights_(std::move(inflights)) {
  RS_CHECK_EQ(inflights_.Count(), 0u) << "a new Progress has nothing in flight";
  // A reused window must not remember indexes sent under an earlier state.
  inflights_.Reset();
  CheckInvariants();
}

void Progress::ResetState(ProgressState state) {
  state_ = state;
  msg_app_flow_paused_ = false;
  pending_snapshot_ = 0;
  inflights_.Reset();
}

void Progress::BecomeProbe() {
  // After a snapshot, the follower's log should end at the snapshot (or
  // later, if it was ahead already): probing from there avoids walking back
  // through entries the snapshot covers.
  const uint64_t after_snapshot =
      state_ == ProgressState::kSnapshot ? pending_snapshot_ + 1 : 0;
  ResetState(ProgressState::kProbe);
  next_ = std::max(match_ + 1, after_snapshot);
  CheckInvariants();
}

void Progress::BecomeReplicate() {
  ResetState(ProgressState::kReplicate);
  next_ = match_ + 1;
  CheckInvariants();
}

void Progress::BecomeSnapshot(uint64_t snapshot_index) {
  RS_CHECK_GT(snapshot_index, 0u) << "a snapshot covers at least one entry";
  ResetState(ProgressState::kSnapshot);
  pending_snapshot_ = snapshot_index;
  CheckInvariants();
}

bool Progress::MaybeUpdate(uint64_t index) {
  RS_CHECK_LT(index, std::numeric_limits<uint64_t>::max());
  const bool advanced = index > match_;
  if (advanced) {
    match_ = index;
    next_ = std::max(next_, index + 1);
    if (state_ == ProgressState::kProbe) msg_app_flow_paused_ = false;
  }
  if (state_ == ProgressState::kReplicate) {
    // A stale acknowledgement frees nothing new: anything at or below it was
    // freed when match first reached it. So this is safe either way.
    inflights_.FreeLE(index);
    msg_app_flow_paused_ = inflights_.Full();
  }
  CheckInvariants();
  return advanced;
}

bool Progress::MaybeDecrTo(uint64_t rejected, uint64_t match_hint) {
  if (state_ == ProgressState::kReplicate) {
    // The follower acknowledged match, so it cannot have rejected an append
    // whose previous index is at or below it, except in an old message.
    if (rejected <= match_) return false;
    // Appends in flight go back to being unsent: they will be resent from
    // match + 1, and keeping them would break the window's index order.
    next_ = match_ + 1;
    inflights_.Reset();
    msg_app_flow_paused_ = false;
    CheckInvariants();
    return true;
  }
  // Outside kReplicate only one probe is outstanding, with previous index
  // next - 1; an answer about any other index is old. This is best effort:
  // a reordered duplicate of the current probe's answer still passes.
  if (next_ - 1 != rejected) return false;
  // The follower's log cannot match beyond its hint, so the next probe can
  // start just after it, but never behind what is already known to match.
  // Written to avoid overflowing match_hint + 1.
  const uint64_t hinted_next =
      match_hint < rejected ? match_hint + 1 : rejected;
  next_ = std::max(hinted_next, match_ + 1);
  msg_app_flow_paused_ = false;
  CheckInvariants();
  return true;
}

void Progress::SentEntries(size_t entries, uint64_t bytes) {
  switch (state_) {
    case ProgressState::kReplicate:
      if (entries > 0) {
        RS_CHECK_LE(entries, std::numeric_limits<uint64_t>::max() - next_)
            << "next would overflow";
        next_ += entries;
        inflights_.Add(next_ - 1, bytes);
      }
      msg_app_flow_paused_ = inflights_.Full();
      break;
    case ProgressState::kProbe:
      RS_CHECK(!msg_app_flow_paused_) << "a probe is already outstanding";
      msg_app_flow_paused_ = true;
      break;
    case ProgressState::kSnapshot:
      RS_CHECK(false) << "appends are not sent while a snapshot is pending";
      break;
  }
  CheckInvariants();
}

void Progress::OnHeartbeatResponse() {
  switch (state_) {
    case ProgressState::kProbe:
      msg_app_flow_paused_ = false;
      break;
    case ProgressState::kReplicate:
      if (inflights_.Full()) inflights_.FreeFirstOne();
      msg_app_flow_paused_ = inflights_.Full();
      break;
    case ProgressState::kSnapshot:
      break;
  }
  CheckInvariants();
}

bool Progress::IsPaused() const {
  switch (state_) {
    case ProgressState::kProbe:
      return msg_app_flow_paused_;
    case ProgressState::kReplicate:
      return inflights_.Full();
    case ProgressState::kSnapshot:
      return true;
  }
  RS_CHECK(false) << "unknown ProgressState " << static_cast<int>(state_);
  return true;
}

std::string Progress::ToString() const {
  // This Abseil build's string_view is its own type, not std::string_view, so
  // the state name starts the string rather than going through StrCat.
  std::string out(ProgressStateName(state_));
  absl::StrAppend(&out, " match=", match_, " next=", next_);
  if (is_learner_) absl::StrAppend(&out, " learner");
  if (IsPaused()) absl::StrAppend(&out, " paused");
  if (state_ == ProgressState::kSnapshot) {
    absl::StrAppend(&out, " pending_snapshot=", pending_snapshot_);
  }
  if (!recent_active_) absl::StrAppend(&out, " inactive");
  if (inflights_.Count() > 0) {
    absl::StrAppend(&out, " inflight=", inflights_.Count());
    if (inflights_.Full()) absl::StrAppend(&out, "[full]");
  }
  return out;
}

void Progress::CheckInvariants() const {
  RS_CHECK_LT(match_, next_) << ToString();
  if (state_ == ProgressState::kReplicate) {
    RS_CHECK_EQ(msg_app_flow_paused_, inflights_.Full()) << ToString();
  } else {
    RS_CHECK_EQ(inflights_.Count(), 0u) << ToString();
  }
  if (state_ == ProgressState::kSnapshot) {
    RS_CHECK(!msg_app_flow_paused_) << ToString();
  } else {
    RS_CHECK_EQ(pending_snapshot_, 0u) << ToString();
  }
}

}  // namespace raftstore::raft
