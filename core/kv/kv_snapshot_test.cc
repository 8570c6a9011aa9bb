#include <string>
#include <vector>

#include "core/kv/command_codec.h"
#include "core/kv/kv_state_machine.h"
#include "core/kv/kv_testing.h"
#include "gtest/gtest.h"
#include "proto/command.pb.h"

namespace raftstore::kv {
namespace {

using testing::Cas;
using testing::Put;

KvConfig SmallConfig() {
  KvConfig config;
  config.key_bytes_max = 16;
  config.value_bytes_max = 64;
  config.session_responses_max = 4;
  config.session_response_bytes_max = 1024;
  return config;
}

// A machine with `pairs` keys written by three clients, one CAS each (so
// cached results hold values), then an empty entry.
KvStateMachine Filled(int pairs) {
  KvStateMachine machine(SmallConfig());
  for (int i = 0; i < pairs; ++i) {
    const uint64_t client = 1 + i % 3;
    const uint64_t sequence = 1 + i / 3;
    machine.Apply(machine.applied_index() + 1,
                  Put({.client_id = client,
                       .sequence = sequence,
                       .first_incomplete = sequence > 2 ? sequence - 2 : 1,
                       .ticks = static_cast<uint64_t>(i)},
                      "key" + std::to_string(1000 + i),
                      std::string(40, static_cast<char>('a' + i % 26))));
  }
  machine.Apply(machine.applied_index() + 1,
                Cas({.client_id = 50, .sequence = 1, .ticks = 1000}, "key1000",
                    false, std::string(40, 'a'), "swapped"));
  machine.ApplyEmpty(machine.applied_index() + 1);
  machine.CheckInvariants();
  return machine;
}

constexpr size_t kChunkBytes = 2048;

TEST(KvSnapshotTest, ExportImportRoundTripKeepsEverything) {
  const KvStateMachine source = Filled(100);
  const std::vector<std::string> chunks = source.ExportChunks(kChunkBytes);
  EXPECT_GT(chunks.size(), 2u);
  for (const std::string& chunk : chunks) EXPECT_LE(chunk.size(), kChunkBytes);
  KvStateMachine copy(SmallConfig());
  ASSERT_TRUE(copy.ImportChunks(chunks, source.applied_index()).ok());
  copy.CheckInvariants();
  EXPECT_EQ(copy.Digest(), source.Digest());
  EXPECT_EQ(copy.applied_index(), source.applied_index());
  EXPECT_EQ(copy.clock_ticks(), source.clock_ticks());
  EXPECT_EQ(copy.pair_count(), 100u);
  EXPECT_EQ(copy.data_bytes(), source.data_bytes());
  EXPECT_EQ(copy.Get("key1000"), "swapped");
  EXPECT_EQ(copy.sessions().size(), 4u);
  // The copy answers a retry from the cached response, as the source would.
  const command::Command retry =
      Cas({.client_id = 50, .sequence = 1}, "key1000", false,
          std::string(40, 'a'), "swapped");
  KvStateMachine original = source;
  EXPECT_EQ(
      copy.Apply(copy.applied_index() + 1, retry).SerializeAsString(),
      original.Apply(original.applied_index() + 1, retry).SerializeAsString());
  EXPECT_EQ(copy.Digest(), original.Digest());
}

TEST(KvSnapshotTest, ExportIsDeterministic) {
  EXPECT_EQ(Filled(50).ExportChunks(kChunkBytes),
            Filled(50).ExportChunks(kChunkBytes));
}

TEST(KvSnapshotTest, EmptyMachineRoundTrips) {
  const KvStateMachine empty(SmallConfig(), 7);
  const std::vector<std::string> chunks = empty.ExportChunks(kChunkBytes);
  ASSERT_EQ(chunks.size(), 1u);
  KvStateMachine copy = Filled(3);
  ASSERT_TRUE(copy.ImportChunks(chunks, 7).ok());
  EXPECT_EQ(copy.pair_count(), 0u);
  EXPECT_EQ(copy.sessions().size(), 0u);
  EXPECT_EQ(copy.Digest(), empty.Digest());
}

TEST(KvSnapshotTest, ChunkBytesMinFitsTheLargestItems) {
  KvStateMachine machine(SmallConfig());
  const KvConfig& config = machine.config();
  // A largest pair, and a session whose cache is at its byte bound.
  machine.Apply(1, Put({.client_id = 1, .sequence = 1},
                       std::string(config.key_bytes_max, 'k'),
                       std::string(config.value_bytes_max, 'v')));
  for (uint64_t sequence = 1; sequence <= 4; ++sequence) {
    machine.Apply(
        machine.applied_index() + 1,
        Cas({.client_id = ~0ULL, .sequence = sequence, .ticks = ~0ULL},
            std::string(config.key_bytes_max, 'k'), false, "", ""));
  }
  machine.CheckInvariants();
  const size_t chunk_bytes_max = KvStateMachine::ChunkBytesMin(config);
  const std::vector<std::string> chunks = machine.ExportChunks(chunk_bytes_max);
  for (const std::string& chunk : chunks) {
    EXPECT_LE(chunk.size(), chunk_bytes_max);
  }
  KvStateMachine copy(config);
  EXPECT_TRUE(copy.ImportChunks(chunks, machine.applied_index()).ok());
}

// Imports `chunks` into a filled machine, expects `code`, and checks that
// nothing changed.
void ExpectRefused(const std::vector<std::string>& chunks, uint64_t index,
                   absl::StatusCode code, const std::string& message_part) {
  KvStateMachine target = Filled(5);
  const uint64_t digest = target.Digest();
  const absl::Status status = target.ImportChunks(chunks, index);
  EXPECT_EQ(status.code(), code) << status;
  EXPECT_NE(status.message().find(message_part), std::string::npos) << status;
  EXPECT_EQ(target.Digest(), digest);
  target.CheckInvariants();
}

TEST(KvSnapshotTest, DamagedImagesAreRefusedWithoutChange) {
  const KvStateMachine source = Filled(40);
  const std::vector<std::string> chunks = source.ExportChunks(kChunkBytes);
  ASSERT_GE(chunks.size(), 3u);
  const uint64_t index = source.applied_index();
  ExpectRefused({}, index, absl::StatusCode::kInvalidArgument, "no chunks");
  ExpectRefused(chunks, index + 1, absl::StatusCode::kInvalidArgument,
                "applied index");
  std::vector<std::string> missing = chunks;
  missing.pop_back();
  ExpectRefused(missing, index, absl::StatusCode::kDataLoss, "chunks");
  std::vector<std::string> swapped = chunks;
  std::swap(swapped[1], swapped[2]);
  ExpectRefused(swapped, index, absl::StatusCode::kDataLoss,
                "snapshot chunk 1: says it is chunk 2");
  std::vector<std::string> garbled = chunks;
  garbled[1] = "\xff\xff\xff";
  ExpectRefused(garbled, index, absl::StatusCode::kDataLoss,
                "snapshot chunk 1: does not parse");
}

TEST(KvSnapshotTest, NewerChunkFormatIsFailedPrecondition) {
  std::vector<std::string> chunks = Filled(5).ExportChunks(kChunkBytes);
  command::SnapshotChunk chunk;
  ASSERT_TRUE(chunk.ParseFromString(chunks[0]));
  chunk.set_format_version(kSnapshotChunkFormatVersion + 1);
  chunks[0] = chunk.SerializeAsString();
  ExpectRefused(chunks, Filled(5).applied_index(),
                absl::StatusCode::kFailedPrecondition, "format_version");
}

// Every single-byte change of an image is caught (by parsing, the structure
// checks, the counts or, last, the digest) and changes nothing.
TEST(KvSnapshotTest, EveryByteFlipIsRefused) {
  const KvStateMachine source = Filled(6);
  const std::vector<std::string> chunks = source.ExportChunks(kChunkBytes);
  ASSERT_EQ(chunks.size(), 1u);
  KvStateMachine target = Filled(2);
  const uint64_t digest = target.Digest();
  for (size_t offset = 0; offset < chunks[0].size(); ++offset) {
    for (const unsigned char mask : {0x01, 0x80}) {
      std::vector<std::string> damaged = chunks;
      damaged[0][offset] = static_cast<char>(damaged[0][offset] ^ mask);
      const absl::Status status =
          target.ImportChunks(damaged, source.applied_index());
      ASSERT_FALSE(status.ok()) << "offset " << offset << " mask " << +mask;
      ASSERT_EQ(target.Digest(), digest);
    }
  }
}

TEST(KvSnapshotTest, ImportBeyondThisConfigsBoundsIsDataLoss) {
  const KvStateMachine source = Filled(5);
  const std::vector<std::string> chunks = source.ExportChunks(kChunkBytes);
  KvConfig tight = SmallConfig();
  tight.value_bytes_max = 10;
  tight.session_response_bytes_max = tight.ResultBytesMax();
  KvStateMachine target(tight);
  const absl::Status status =
      target.ImportChunks(chunks, source.applied_index());
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
  EXPECT_NE(status.message().find("bound"), std::string::npos) << status;
}

TEST(KvDigestTest, DigestCoversPairsSessionsIndexAndClock) {
  const uint64_t base = Filled(10).Digest();
  EXPECT_EQ(Filled(10).Digest(), base);
  KvStateMachine other = Filled(10);
  other.ApplyEmpty(other.applied_index() + 1);
  EXPECT_NE(other.Digest(), base);  // applied index
  // Same pairs but a different session history: a write by another client
  // that leaves the same value.
  KvStateMachine a = Filled(10);
  KvStateMachine b = Filled(10);
  a.Apply(a.applied_index() + 1,
          Put({.client_id = 70, .sequence = 1, .ticks = 1000}, "z", "v"));
  b.Apply(b.applied_index() + 1,
          Put({.client_id = 71, .sequence = 1, .ticks = 1000}, "z", "v"));
  EXPECT_NE(a.Digest(), b.Digest());
  KvStateMachine c = Filled(10);
  c.Apply(c.applied_index() + 1,
          Put({.client_id = 70, .sequence = 1, .ticks = 1001}, "z", "v"));
  EXPECT_NE(a.Digest(), c.Digest());  // clock
}

TEST(KvSplitTest, SplitOffMovesTheUpperKeysAndCopiesSessions) {
  KvStateMachine left = Filled(20);
  const KvStateMachine whole = left;
  KvStateMachine right = left.SplitOff("key1010", 5);
  left.CheckInvariants();
  right.CheckInvariants();
  EXPECT_EQ(left.pair_count(), 10u);
  EXPECT_EQ(right.pair_count(), 10u);
  EXPECT_EQ(left.Scan("", "", 0).pairs.back().first, "key1009");
  EXPECT_EQ(right.Scan("", "", 0).pairs.front().first, "key1010");
  EXPECT_EQ(left.data_bytes() + right.data_bytes(), whole.data_bytes());
  EXPECT_EQ(left.applied_index(), whole.applied_index());
  EXPECT_EQ(right.applied_index(), 5u);
  EXPECT_EQ(right.clock_ticks(), whole.clock_ticks());
  EXPECT_EQ(right.sessions().size(), whole.sessions().size());
  // A retry reaching the right half still finds its cached response.
  const command::Command retry = Cas({.client_id = 50, .sequence = 1},
                                     "key1015", false, "ignored", "ignored");
  const command::CommandResult result =
      right.Apply(right.applied_index() + 1, retry);
  EXPECT_EQ(result.compare_and_swap().previous_value(), std::string(40, 'a'));
  EXPECT_EQ(right.Get("key1015"), whole.Get("key1015"));
}

TEST(KvSplitTest, SplitBeyondEveryKeyLeavesTheRightEmpty) {
  KvStateMachine left = Filled(5);
  const KvStateMachine right = left.SplitOff("zzz", left.applied_index());
  EXPECT_EQ(left.pair_count(), 5u);
  EXPECT_EQ(right.pair_count(), 0u);
  EXPECT_EQ(right.data_bytes(), 0u);
}

TEST(KvMergeTest, MergeFromUndoesASplitAndKeepsEveryCachedResponse) {
  KvStateMachine left = Filled(20);
  const KvStateMachine whole = left;
  KvStateMachine right = left.SplitOff("key1010", 5);
  // After the split each half applies a write of its own for client 60.
  left.Apply(
      left.applied_index() + 1,
      Put({.client_id = 60, .sequence = 1, .ticks = 2000}, "key1001", "left"));
  right.Apply(
      right.applied_index() + 1,
      Put({.client_id = 60, .sequence = 2, .ticks = 2100}, "key1011", "right"));
  const uint64_t applied = left.applied_index();
  left.MergeFrom(std::move(right));
  left.CheckInvariants();
  EXPECT_EQ(left.pair_count(), whole.pair_count());
  EXPECT_EQ(left.applied_index(), applied);
  EXPECT_EQ(left.clock_ticks(), 2100u);
  EXPECT_EQ(left.Get("key1011"), "right");
  EXPECT_EQ(left.Get("key1001"), "left");
  EXPECT_EQ(left.Get("key1019"), whole.Get("key1019"));
  // Client 60's session holds both responses: neither retry applies again.
  const kv::Session* session = left.sessions().Find(60);
  ASSERT_NE(session, nullptr);
  EXPECT_EQ(session->responses.size(), 2u);
  EXPECT_EQ(session->last_active_ticks, 2100u);
  const uint64_t pairs = left.pair_count();
  left.Apply(
      left.applied_index() + 1,
      Put({.client_id = 60, .sequence = 2, .ticks = 2200}, "key1099", "retry"));
  EXPECT_EQ(left.pair_count(), pairs);
  EXPECT_EQ(left.Get("key1099"), std::nullopt);
}

TEST(KvMergeTest, MergedSessionsStayWithinTheirBounds) {
  KvConfig config = SmallConfig();
  config.sessions_max = 3;
  config.session_responses_max = 2;
  KvStateMachine a(config);
  KvStateMachine b(config);
  // Client 1 pipelines sequences 1..2 in a and 3..4 in b: four responses
  // merged, two kept (the highest); the lower ones become stale, never
  // applied again.
  for (uint64_t seq = 1; seq <= 2; ++seq) {
    a.Apply(a.applied_index() + 1,
            Put({.client_id = 1, .sequence = seq, .ticks = seq},
                "a" + std::to_string(seq), "v"));
    b.Apply(b.applied_index() + 1,
            Put({.client_id = 1, .sequence = seq + 2, .ticks = seq},
                "b" + std::to_string(seq), "v"));
  }
  for (uint64_t client = 2; client <= 3; ++client) {
    b.Apply(b.applied_index() + 1,
            Put({.client_id = client, .sequence = 1, .ticks = 10 + client},
                "c" + std::to_string(client), "v"));
  }
  a.Apply(a.applied_index() + 1,
          Put({.client_id = 4, .sequence = 1, .ticks = 20}, "a9", "v"));
  a.MergeFrom(std::move(b));
  a.CheckInvariants();
  EXPECT_EQ(a.sessions().size(), 3u);  // client 1, the oldest, dropped
  EXPECT_EQ(a.sessions().Find(1), nullptr);
  EXPECT_NE(a.sessions().Find(4), nullptr);
  EXPECT_EQ(a.pair_count(), 7u);
}

}  // namespace
}  // namespace raftstore::kv
