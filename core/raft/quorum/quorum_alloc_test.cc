// Pins the promise of quorum.h that CommittedIndex does not allocate for
// configurations of up to 7 voters: it runs on every append response the
// leader receives.
//
// Observing allocations from inside the process needs a replacement for the
// global operator new, which affects the whole binary; that is why this test
// has a target of its own.
#include <cstdint>
#include <cstdlib>
#include <new>
#include <optional>

#include "core/raft/quorum/quorum.h"
#include "gtest/gtest.h"

namespace {

// Heap allocations made by the current thread so far. Thread-local so that an
// allocation on another thread (gtest's, say) cannot disturb a measurement.
thread_local int64_t allocations = 0;

}  // namespace

// The replaceable allocation functions. The array and nothrow forms of the
// standard library forward to these two, so counting here sees every plain
// allocation.
void* operator new(std::size_t size) {
  ++allocations;
  if (void* memory = std::malloc(size == 0 ? 1 : size)) return memory;
  throw std::bad_alloc();
}

void operator delete(void* memory) noexcept { std::free(memory); }

void operator delete(void* memory, std::size_t /*size*/) noexcept {
  std::free(memory);
}

namespace raftstore::raft::quorum {
namespace {

// Stores to a volatile so that the compiler cannot drop the allocation.
void* volatile sink = nullptr;
volatile uint64_t observed = 0;

TEST(QuorumAllocationTest, CounterSeesAllocations) {
  const int64_t before = allocations;
  sink = ::operator new(64);
  ::operator delete(sink);
  EXPECT_EQ(allocations, before + 1);
}

TEST(QuorumAllocationTest, CommittedIndexDoesNotAllocateUpToSevenVoters) {
  for (uint64_t voters = 0; voters <= 7; ++voters) {
    MajorityConfig config;
    for (uint64_t id = 1; id <= voters; ++id) config.insert(id);
    // Each voter acked its own id, except that voter 2 is unknown.
    auto acked = [](uint64_t id) -> std::optional<uint64_t> {
      if (id == 2) return std::nullopt;
      return id;
    };

    const int64_t before = allocations;
    const uint64_t committed = CommittedIndex(config, acked);
    const int64_t made = allocations - before;

    EXPECT_EQ(made, 0) << "voters=" << voters;
    observed = committed;  // keep the call observable
  }
}

TEST(QuorumAllocationTest, JointCommittedIndexDoesNotAllocate) {
  const JointConfig config{.incoming = {1, 2, 3, 4, 5},
                           .outgoing = {4, 5, 6, 7, 8, 9, 10}};
  auto acked = [](uint64_t id) -> std::optional<uint64_t> { return id * 3; };

  const int64_t before = allocations;
  const uint64_t committed = CommittedIndex(config, acked);
  const int64_t made = allocations - before;

  EXPECT_EQ(made, 0);
  EXPECT_EQ(committed, 9u);  // incoming: 9; outgoing: 21
}

TEST(QuorumAllocationTest, TallyVotesDoesNotAllocate) {
  const JointConfig config{.incoming = {1, 2, 3, 4, 5, 6, 7, 8, 9},
                           .outgoing = {1, 2, 3}};
  auto vote = [](uint64_t id) -> std::optional<bool> { return id % 2 == 1; };

  const int64_t before = allocations;
  const VoteResult result = TallyVotes(config, vote);
  const int64_t made = allocations - before;

  EXPECT_EQ(made, 0);
  EXPECT_EQ(result, VoteResult::kWon);
}

}  // namespace
}  // namespace raftstore::raft::quorum
