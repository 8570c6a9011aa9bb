// A bounded window of append messages in flight from the leader to one
// follower.
//
// When a follower is in the replicate state the leader pipelines appends: it
// sends the next batch without waiting for the previous one to be acknowledged
// (Raft thesis §10.2.2, "pipelining"). Unbounded pipelining would let a slow
// follower make the leader buffer an unbounded amount of data in the
// transport, so the leader records every append it sends here and stops
// sending once the window is full, by message count or by bytes. An
// acknowledgement up to index i frees every append whose last entry is at or
// below i, since the follower's log then holds all of them.
//
// Each append is identified by the index of its last entry. Indexes are
// positive (index 0 means "no entry") and strictly increasing in the order the
// appends are added, which is what lets one acknowledgement free a prefix.
//
// Storage is a ring buffer that grows on demand, by doubling, up to
// messages_max slots and never beyond. It is not allocated up front: a store
// hosts thousands of raft groups, each with several followers, and most
// windows stay nearly empty.
//
// Thread-safety: none; an Inflights belongs to one Progress, owned by one
// raft group.
#ifndef RAFTSTORE_CORE_RAFT_TRACKER_INFLIGHTS_H_
#define RAFTSTORE_CORE_RAFT_TRACKER_INFLIGHTS_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace raftstore::raft {

class Inflights {
 public:
  // A window of at most messages_max appends and, unless bytes_max is 0
  // (no byte limit), of fewer than bytes_max bytes when another may be added.
  // Requires messages_max > 0. Allocates nothing.
  Inflights(size_t messages_max, uint64_t bytes_max);

  // Records an append whose last entry is last_index and whose entries total
  // `bytes` bytes. Requires !Full(), last_index > 0, and last_index strictly
  // greater than every index added since construction or the last Reset().
  void Add(uint64_t last_index, uint64_t bytes);

  // Frees every append whose last index is <= index: the follower has
  // acknowledged its log up to index. Freeing beyond the newest append empties
  // the window; freeing below the oldest does nothing.
  void FreeLE(uint64_t index);

  // Frees the oldest append. Requires Count() > 0. Used to let a window that
  // is full of appends lost by the network make progress again.
  void FreeFirstOne();

  // True when no further append may be added: Count() has reached
  // messages_max or, with a byte limit, Bytes() has reached bytes_max. A
  // single append may take Bytes() past bytes_max; the window then stays full
  // until enough is freed.
  bool Full() const;

  // The number of appends in flight.
  size_t Count() const { return count_; }

  // The total bytes of the appends in flight.
  uint64_t Bytes() const { return bytes_; }

  // Frees everything and forgets the last added index, so the next Add may
  // start from any index. Keeps the allocated slots for reuse.
  void Reset();

  // The number of slots allocated; never more than messages_max. Exposed so
  // that tests and memory accounting can see the lazy growth.
  size_t Capacity() const { return slots_.size(); }

  size_t messages_max() const { return messages_max_; }
  uint64_t bytes_max() const { return bytes_max_; }

 private:
  struct Slot {
    uint64_t last_index = 0;
    uint64_t bytes = 0;
  };

  // Slots allocated by the first Add: enough for a short pipeline without
  // regrowing, small enough that idle followers cost little.
  static constexpr size_t kInitialSlots = 4;

  // Enlarges slots_ (doubling, capped at messages_max_) so that one more
  // append fits, and moves the live appends to the front. Requires
  // count_ == slots_.size() < messages_max_.
  void Grow();

  size_t messages_max_;
  uint64_t bytes_max_;
  // Ring buffer: the oldest append is slots_[start_], and the count_ live
  // appends follow it in order, wrapping at slots_.size().
  std::vector<Slot> slots_;
  size_t start_ = 0;
  size_t count_ = 0;
  uint64_t bytes_ = 0;
  // The last index added since construction or Reset(), 0 if none; enforces
  // that indexes increase even across a window emptied by FreeLE.
  uint64_t last_added_index_ = 0;
};

}  // namespace raftstore::raft

#endif  // RAFTSTORE_CORE_RAFT_TRACKER_INFLIGHTS_H_
