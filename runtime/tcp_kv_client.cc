#include "runtime/tcp_kv_client.h"

#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "transport/frame.h"
#include "transport/hello.h"

namespace raftstore::runtime {

absl::StatusOr<std::unique_ptr<TcpKvClient>> TcpKvClient::Create(
    uv_loop_t* loop, const TcpKvClientOptions& options) {
  if (options.cluster_id == 0) {
    return absl::InvalidArgumentError("tcp kv client: cluster_id is 0");
  }
  if (options.stores.empty()) {
    return absl::InvalidArgumentError("tcp kv client: no stores");
  }
  if (options.dial_timeout_ms < 1) {
    return absl::InvalidArgumentError("tcp kv client: dial_timeout_ms < 1");
  }
  TcpKvClientOptions checked = options;
  checked.client.store_ids.clear();
  for (const auto& entry : options.stores) {
    if (entry.first == 0) {
      return absl::InvalidArgumentError("tcp kv client: store id 0");
    }
    checked.client.store_ids.push_back(entry.first);
  }
  if (absl::Status s = checked.client.Validate(); !s.ok()) return s;
  absl::btree_map<uint64_t, transport::SocketAddress> addresses;
  for (const auto& [store_id, address] : checked.stores) {
    absl::StatusOr<transport::SocketAddress> resolved =
        transport::ResolveAddress(address);
    if (!resolved.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("tcp kv client: store ", store_id, ": ",
                       resolved.status().message()));
    }
    addresses[store_id] = *std::move(resolved);
  }
  uint64_t seed = options.rng_seed;
  if (seed == 0) {
    seed = (uint64_t{std::random_device{}()} << 32) ^ std::random_device{}();
  }
  std::unique_ptr<TcpKvClient> client(new TcpKvClient(loop, checked, seed));
  for (auto& [store_id, address] : addresses) {
    client->stores_[store_id] = Store{store_id, std::move(address), nullptr};
  }
  return client;
}

TcpKvClient::TcpKvClient(uv_loop_t* loop, const TcpKvClientOptions& options,
                         uint64_t seed)
    : loop_(loop),
      options_(options),
      // Client ids must differ from every other client's, across runs too
      // (a store keeps a session until it expires), so they come from the
      // system's entropy whatever the seed: 63 random bits make a collision
      // negligible.
      id_rng_((uint64_t{std::random_device{}()} << 32) ^
              std::random_device{}()) {
  Rng client_rng(seed);
  client_ =
      std::make_unique<client::KvClient>(options_.client, client_rng, [this] {
        uint64_t id = 0;
        while (id == 0) id = id_rng_.Next() >> 1;
        return id;
      });
  RS_CHECK(
      transport::AppendFrame(
          transport::MakeHello(options_.cluster_id, 0, options_.auth_token),
          transport::FrameCodecOptions{}.frame_payload_bytes_max, &hello_frame_)
          .ok());
  RS_CHECK_EQ(uv_timer_init(loop_, &timer_), 0);
  timer_.data = this;
}

TcpKvClient::~TcpKvClient() {
  RS_CHECK(closed_) << "TcpKvClient destroyed before Close() completed";
}

uint64_t TcpKvClient::NowUs() const { return uv_hrtime() / 1000; }

absl::StatusOr<uint64_t> TcpKvClient::Submit(const kv::KvRequest& op,
                                             uint64_t timeout_ms, DoneFn done) {
  if (closing_) {
    return absl::FailedPreconditionError("tcp kv client: closing");
  }
  const uint64_t now = NowUs();
  absl::StatusOr<uint64_t> id =
      client_->Submit(op, now + timeout_ms * 1000, now);
  if (!id.ok()) return id.status();
  callbacks_[*id] = std::move(done);
  Pump();
  return id;
}

void TcpKvClient::Dial(Store& store) {
  transport::FramedConnection::Callbacks callbacks;
  const uint64_t store_id = store.store_id;
  callbacks.on_frame = [this, store_id](transport::Frame&& frame) {
    auto* response = std::get_if<kv::KvResponse>(&frame.message);
    if (response == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("expected KV_RESPONSE frames, got ",
                       std::string(transport::FrameTypeName(frame.type()))));
    }
    ++stats_.responses_received;
    client_->OnResponse(store_id, *response, NowUs());
    Pump();
    return absl::OkStatus();
  };
  callbacks.on_closed = [this, store_id](const transport::CloseInfo&) {
    ++stats_.connections_closed;
    --connections_open_;
    stores_[store_id].connection = nullptr;
    MaybeDone();
  };
  ++stats_.dials;
  ++connections_open_;
  store.connection = transport::FramedConnection::Dial(
      loop_, store.address, transport::ConnectionOptions{},
      options_.dial_timeout_ms, std::move(callbacks));
  // The HELLO goes first; it counts as no frame.
  if (store.connection != nullptr) {
    (void)store.connection->SendEncoded(hello_frame_, 0);
  }
}

void TcpKvClient::Send(uint64_t store_id, const kv::KvRequest& request) {
  auto it = stores_.find(store_id);
  if (it == stores_.end()) {
    // A leader hint naming a store we have no address for: the attempt
    // times out and the client tries another store.
    ++stats_.requests_not_sent;
    return;
  }
  Store& store = it->second;
  if (store.connection == nullptr || store.connection->closing()) {
    if (store.connection != nullptr) {
      ++stats_.requests_not_sent;
      return;  // its on_closed has not run yet; the attempt times out
    }
    Dial(store);
  }
  if (store.connection == nullptr || !store.connection->Send(request).ok()) {
    ++stats_.requests_not_sent;
    return;
  }
  ++stats_.requests_sent;
}

void TcpKvClient::Pump() {
  // Callbacks may Submit, which pumps again: the outer pump's loop picks
  // up whatever the inner one leaves.
  if (pumping_ || closing_) return;
  pumping_ = true;
  for (int round = 0; round < 1'000'000; ++round) {
    std::vector<client::Outgoing> outbox = client_->TakeOutbox();
    for (const client::Outgoing& out : outbox) Send(out.store_id, out.request);
    std::vector<client::Completion> done = client_->TakeCompletions();
    if (outbox.empty() && done.empty()) break;
    for (const client::Completion& completion : done) {
      auto it = callbacks_.find(completion.op_id);
      if (it == callbacks_.end()) continue;
      DoneFn callback = std::move(it->second);
      callbacks_.erase(it);
      if (callback) callback(completion);
      if (closing_) break;
    }
    if (closing_) break;
  }
  pumping_ = false;
  if (closing_) return;
  const std::optional<uint64_t> wake = client_->NextWakeUs();
  if (!wake.has_value()) {
    uv_timer_stop(&timer_);
    return;
  }
  const uint64_t now = NowUs();
  const uint64_t delay_ms = *wake > now ? (*wake - now + 999) / 1000 : 0;
  uv_timer_start(&timer_, TimerCb, delay_ms, 0);
}

void TcpKvClient::Close(std::function<void()> on_done) {
  if (closing_) return;
  closing_ = true;
  on_done_ = std::move(on_done);
  callbacks_.clear();
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), TimerClosedCb);
  for (auto& entry : stores_) {
    if (entry.second.connection != nullptr) {
      entry.second.connection->Close(absl::CancelledError("client closing"));
    }
  }
  MaybeDone();
}

void TcpKvClient::MaybeDone() {
  if (!closing_ || closed_ || !timer_closed_ || connections_open_ > 0) return;
  closed_ = true;
  if (on_done_) {
    auto done = std::move(on_done_);
    done();
  }
}

void TcpKvClient::TimerCb(uv_timer_t* timer) {
  auto* self = static_cast<TcpKvClient*>(timer->data);
  self->client_->OnTimer(self->NowUs());
  self->Pump();
}

void TcpKvClient::TimerClosedCb(uv_handle_t* handle) {
  auto* self = static_cast<TcpKvClient*>(handle->data);
  self->timer_closed_ = true;
  self->MaybeDone();
}

}  // namespace raftstore::runtime
