// Measures the frame codec and the loopback transport (printed, never
// asserted): encode and decode of a raft batch, and batches per second
// between two TcpTransports on one loop over 127.0.0.1.
//
//   bazel run //transport:transport_benchmark

#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "proto/store.pb.h"
#include "transport/frame.h"
#include "transport/tcp_transport.h"

namespace raftstore::transport {
namespace {

// A batch of `messages` appends, one 256-byte entry each (the bench's
// value size).
store::RaftMessageBatch AppendBatch(int messages) {
  store::RaftMessageBatch batch;
  batch.set_cluster_id(1);
  batch.set_from_store_id(1);
  batch.set_to_store_id(2);
  for (int i = 0; i < messages; ++i) {
    store::RaftMessage* message = batch.add_messages();
    message->set_region_id(i + 1);
    message->mutable_message()->set_term(3);
    raft::Entry* entry = message->mutable_message()->add_entries();
    entry->set_index(100 + i);
    entry->set_term(3);
    entry->set_data(std::string(256, 'v'));
  }
  return batch;
}

void BM_EncodeBatch(benchmark::State& state) {
  const store::RaftMessageBatch batch =
      AppendBatch(static_cast<int>(state.range(0)));
  std::string out;
  for (auto _ : state) {
    out.clear();
    benchmark::DoNotOptimize(AppendFrame(batch, uint64_t{64} << 20, &out));
  }
  state.SetBytesProcessed(
      static_cast<int64_t>(state.iterations() * out.size()));
}
BENCHMARK(BM_EncodeBatch)->Arg(1)->Arg(16)->Arg(256);

void BM_DecodeBatch(benchmark::State& state) {
  std::string stream;
  for (int i = 0; i < 16; ++i) {
    (void)AppendFrame(AppendBatch(static_cast<int>(state.range(0))),
                      uint64_t{64} << 20, &stream);
  }
  std::vector<Frame> frames;
  constexpr size_t kChunkBytes = 64 << 10;  // one libuv read
  for (auto _ : state) {
    FrameDecoder decoder(FrameCodecOptions{});
    frames.clear();
    for (size_t at = 0; at < stream.size(); at += kChunkBytes) {
      (void)decoder.Feed(std::string_view(stream).substr(at, kChunkBytes),
                         &frames);
    }
    benchmark::DoNotOptimize(frames.data());
  }
  state.SetBytesProcessed(
      static_cast<int64_t>(state.iterations() * stream.size()));
}
BENCHMARK(BM_DecodeBatch)->Arg(1)->Arg(16)->Arg(256);

// Store 1 sends `kBatchesPerRound` batches to store 2 and runs the loop
// until all arrived; items are batches.
void BM_LoopbackBatches(benchmark::State& state) {
  constexpr int kBatchesPerRound = 1000;
  uv_loop_t loop;
  uv_loop_init(&loop);
  uint64_t received = 0;
  TcpTransportOptions options;
  options.cluster_id = 1;
  options.store_id = 1;
  options.rng_seed = 1;
  auto sender = TcpTransport::Start(&loop, options,
                                    [](uint64_t, store::RaftMessageBatch&&) {});
  options.store_id = 2;
  auto receiver = TcpTransport::Start(
      &loop, options,
      [&received](uint64_t, store::RaftMessageBatch&&) { ++received; });
  if (!sender.ok() || !receiver.ok()) {
    state.SkipWithError("cannot start transports");
    return;
  }
  (void)(*sender)->SetPeerAddress(
      2, absl::StrCat("127.0.0.1:", (*receiver)->listen_port()));
  const store::RaftMessageBatch batch =
      AppendBatch(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    const uint64_t target = received + kBatchesPerRound;
    for (int i = 0; i < kBatchesPerRound; ++i) (*sender)->Send(2, batch);
    while (received < target) uv_run(&loop, UV_RUN_ONCE);
  }
  state.SetItemsProcessed(state.iterations() * kBatchesPerRound);
  state.SetBytesProcessed(static_cast<int64_t>(
      state.iterations() * kBatchesPerRound * FrameBytesOf(batch)));
  state.counters["drops"] = static_cast<double>((*sender)->metrics().drops);
  (*sender)->Close(nullptr);
  (*receiver)->Close(nullptr);
  uv_run(&loop, UV_RUN_DEFAULT);
  sender->reset();
  receiver->reset();
  uv_loop_close(&loop);
}
BENCHMARK(BM_LoopbackBatches)->Arg(1)->Arg(16)->Arg(64)->UseRealTime();

}  // namespace
}  // namespace raftstore::transport

BENCHMARK_MAIN();
