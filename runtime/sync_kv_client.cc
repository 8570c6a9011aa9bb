#include "runtime/sync_kv_client.h"

#include <uv.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "runtime/tcp_kv_client.h"

namespace raftstore::runtime {

// The loop and the client on it. Heap-allocated before the loop is
// initialised: libuv keeps pointers to the loop, so it never moves.
struct SyncKvClient::Impl {
  Impl() { RS_CHECK_EQ(uv_loop_init(&loop), 0); }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  ~Impl() {
    if (client != nullptr) {
      client->Close(nullptr);
      // Closing handles finish within a few loop turns; nothing else is
      // left to wait for, so the default run ends once they are closed.
      uv_run(&loop, UV_RUN_DEFAULT);
      RS_CHECK(client->closed()) << "sync kv client: a handle stayed open";
      client.reset();
    }
    RS_CHECK_EQ(uv_loop_close(&loop), 0) << "sync kv client: loop still busy";
  }

  uv_loop_t loop{};
  std::unique_ptr<TcpKvClient> client;
};

absl::StatusOr<std::unique_ptr<SyncKvClient>> SyncKvClient::Create(
    const SyncKvClientOptions& options) {
  if (options.attempt_timeout_ms < 1 ||
      options.attempt_timeout_ms > kSyncKvTimeoutMsMax) {
    return absl::InvalidArgumentError(absl::StrCat(
        "sync kv client: attempt_timeout_ms ", options.attempt_timeout_ms,
        " is outside 1..", kSyncKvTimeoutMsMax));
  }
  TcpKvClientOptions tcp;
  tcp.cluster_id = options.cluster_id;
  tcp.auth_token = options.auth_token;
  tcp.stores = options.stores;
  tcp.client.attempt_timeout_us = options.attempt_timeout_ms * 1'000;
  auto impl = std::make_unique<Impl>();
  absl::StatusOr<std::unique_ptr<TcpKvClient>> client =
      TcpKvClient::Create(&impl->loop, tcp);
  if (!client.ok()) return client.status();
  impl->client = *std::move(client);
  return std::unique_ptr<SyncKvClient>(new SyncKvClient(std::move(impl)));
}

SyncKvClient::SyncKvClient(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}

SyncKvClient::~SyncKvClient() = default;

absl::StatusOr<client::Completion> SyncKvClient::Run(const kv::KvRequest& op,
                                                     uint64_t timeout_ms) {
  if (timeout_ms < 1 || timeout_ms > kSyncKvTimeoutMsMax) {
    return absl::InvalidArgumentError(absl::StrCat(
        "timeout ", timeout_ms, " ms is outside 1..", kSyncKvTimeoutMsMax));
  }
  std::optional<client::Completion> result;
  absl::StatusOr<uint64_t> id = impl_->client->Submit(
      op, timeout_ms,
      [&result](const client::Completion& completion) { result = completion; });
  if (!id.ok()) return id.status();
  // The client's timer is armed at its next wake-up, at the latest the
  // deadline, so every turn makes progress and the op completes by then.
  while (!result.has_value()) {
    const int active = uv_run(&impl_->loop, UV_RUN_ONCE);
    RS_CHECK(active != 0 || result.has_value())
        << "sync kv client: the loop ran dry with op " << *id << " pending";
  }
  return *std::move(result);
}

SyncKvClientStats SyncKvClient::stats() const {
  const TcpKvClientStats& s = impl_->client->stats();
  return {s.dials, s.connections_closed, s.requests_sent, s.responses_received};
}

}  // namespace raftstore::runtime
