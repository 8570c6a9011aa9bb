#include "core/raft/tracker/inflights.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "core/base/check.h"

namespace raftstore::raft {

Inflights::Inflights(size_t messages_max, uint64_t bytes_max)
    : messages_max_(messages_max), bytes_max_(bytes_max) {
  RS_CHECK_GT(messages_max_, 0u) << "a window must admit at least one append";
}

void Inflights::Add(uint64_t last_index, uint64_t bytes) {
  RS_CHECK(!Full()) << "Add to a full window: count=" << count_
                    << " bytes=" << bytes_;
  // Acknowledgements free a prefix of the window only because appends are
  // added in log order; an index out of order means the caller lost track of
  // what it sent.
  RS_CHECK_GT(last_index, last_added_index_)
      << "appends must be added in order";
  RS_CHECK_LE(bytes, std::numeric_limits<uint64_t>::max() - bytes_)
      << "bytes in flight would overflow";
  if (count_ == slots_.size()) Grow();
  const size_t tail = (start_ + count_) % slots_.size();
  slots_[tail] = Slot{last_index, bytes};
  ++count_;
  bytes_ += bytes;
  last_added_index_ = last_index;
}

void Inflights::Grow() {
  RS_CHECK_EQ(count_, slots_.size());
  RS_CHECK_LT(slots_.size(), messages_max_);
  const size_t size =
      std::min(messages_max_, std::max(kInitialSlots, slots_.size() * 2));
  std::vector<Slot> grown(size);
  for (size_t i = 0; i < count_; ++i) {
    grown[i] = slots_[(start_ + i) % slots_.size()];
  }
  slots_ = std::move(grown);
  start_ = 0;
}

void Inflights::FreeLE(uint64_t index) {
  while (count_ > 0 && slots_[start_].last_index <= index) FreeFirstOne();
}

void Inflights::FreeFirstOne() {
  RS_CHECK_GT(count_, 0u) << "nothing in flight to free";
  bytes_ -= slots_[start_].bytes;
  start_ = (start_ + 1) % slots_.size();
  --count_;
  // Restart an empty window at slot 0; not needed for correctness, but it
  // keeps the layout of a drained window independent of its history.
  if (count_ == 0) start_ = 0;
}

bool Inflights::Full() const {
  return count_ >= messages_max_ || (bytes_max_ > 0 && bytes_ >= bytes_max_);
}

void Inflights::Reset() {
  start_ = 0;
  count_ = 0;
  bytes_ = 0;
  last_added_index_ = 0;
}

}  // namespace raftstore::raft
