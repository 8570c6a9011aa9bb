#include "transport/tcp_transport.h"

#include <uv.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <variant>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "transport/backoff.h"
#include "transport/frame.h"
#include "transport/hello.h"

namespace raftstore::transport {
namespace {

// A shared secret longer than this is a configuration mistake.
constexpr uint64_t kAuthTokenBytesMax = 1024;
// Keeps every connection's write buffer within one uv_buf_t.
constexpr uint64_t kSendQueueBytesLimit = uint64_t{1} << 31;

absl::Status OutOfRange(absl::string_view field, uint64_t value) {
  return absl::InvalidArgumentError(absl::StrCat(
      "TcpTransportOptions.", field, " is ", value, ", out of range"));
}

uint64_t SeedOrEntropy(uint64_t seed) {
  if (seed != 0) return seed;
  std::random_device device;
  return (static_cast<uint64_t>(device()) << 32) ^ device();
}

}  // namespace

absl::Status TcpTransportOptions::Validate() const {
  if (cluster_id == 0) return OutOfRange("cluster_id", cluster_id);
  if (store_id == 0) return OutOfRange("store_id", store_id);
  if (auth_token.size() > kAuthTokenBytesMax) {
    return OutOfRange("auth_token bytes", auth_token.size());
  }
  FrameCodecOptions codec;
  codec.frame_payload_bytes_max = frame_payload_bytes_max;
  if (absl::Status valid = codec.Validate(); !valid.ok()) return valid;
  if (send_queue_bytes_max < 1 || send_queue_bytes_max > kSendQueueBytesLimit) {
    return OutOfRange("send_queue_bytes_max", send_queue_bytes_max);
  }
  for (const auto& [name, value] :
       {std::pair<const char*, uint64_t>{"dial_timeout_ms", dial_timeout_ms},
        {"send_timeout_ms", send_timeout_ms},
        {"reconnect_backoff_ms_min", reconnect_backoff_ms_min},
        {"hello_timeout_ms", hello_timeout_ms},
        {"read_stall_timeout_ms", read_stall_timeout_ms},
        {"incoming_connections_max", incoming_connections_max},
        {"peers_max", peers_max}}) {
    if (value < 1) return OutOfRange(name, value);
  }
  if (reconnect_backoff_ms_max < reconnect_backoff_ms_min) {
    return OutOfRange("reconnect_backoff_ms_max", reconnect_backoff_ms_max);
  }
  // Our own HELLO must pass the peers' first-frame bound.
  const uint64_t hello_bytes =
      MakeHello(cluster_id, store_id, auth_token).ByteSizeLong();
  if (hello_bytes > std::min(FramedServerOptions{}.hello_payload_bytes_max,
                             frame_payload_bytes_max)) {
    return OutOfRange("HELLO payload bytes (auth_token too long)", hello_bytes);
  }
  return absl::OkStatus();
}

TcpTransport::TcpTransport(uv_loop_t* loop, const TcpTransportOptions& options,
                           BatchHandler on_batch, LogSink log)
    : loop_(loop),
      options_(options),
      on_batch_(std::move(on_batch)),
      log_(std::move(log)),
      rng_(SeedOrEntropy(options.rng_seed)) {
  RS_CHECK(on_batch_ != nullptr);
  RS_CHECK(log_ != nullptr);
  RS_CHECK(AppendFrame(MakeHello(options_.cluster_id, options_.store_id,
                                 options_.auth_token),
                       options_.frame_payload_bytes_max, &hello_frame_)
               .ok());
  connection_options_.codec.frame_payload_bytes_max =
      options_.frame_payload_bytes_max;
  // The queue bound is the transport's; the connection's leaves room for
  // the HELLO written ahead of the queue.
  connection_options_.write_buffer_bytes_max =
      options_.send_queue_bytes_max + hello_frame_.size();
  connection_options_.write_stall_timeout_ms = options_.send_timeout_ms;
  connection_options_.read_stall_timeout_ms = options_.read_stall_timeout_ms;
}

TcpTransport::~TcpTransport() {
  RS_CHECK(closed_) << "TcpTransport destroyed before Close() finished";
}

absl::StatusOr<std::unique_ptr<TcpTransport>> TcpTransport::Start(
    uv_loop_t* loop, const TcpTransportOptions& options, BatchHandler on_batch,
    LogSink log) {
  if (absl::Status valid = options.Validate(); !valid.ok()) return valid;
  std::unique_ptr<TcpTransport> transport(
      new TcpTransport(loop, options, std::move(on_batch), std::move(log)));
  if (absl::Status started = transport->StartServer(); !started.ok()) {
    transport->closed_ = true;  // nothing was opened
    return started;
  }
  return transport;
}

absl::Status TcpTransport::StartServer() {
  FramedServerOptions server;
  server.listen_address = options_.listen_address;
  server.connection = connection_options_;
  server.require_hello = true;
  server.hello_policy.cluster_id = options_.cluster_id;
  server.hello_policy.auth_token = options_.auth_token;
  server.hello_policy.require_store_id = true;
  server.hello_timeout_ms = options_.hello_timeout_ms;
  server.hello_payload_bytes_max = std::min(server.hello_payload_bytes_max,
                                            options_.frame_payload_bytes_max);
  server.connections_max = options_.incoming_connections_max;
  FramedServer::Callbacks callbacks;
  callbacks.on_open = [this](FramedServer::ConnectionId id,
                             const Hello* hello) {
    incoming_[id] = hello->store_id();
  };
  callbacks.on_frame = [this](FramedServer::ConnectionId id, Frame&& frame) {
    return OnIncomingFrame(id, std::move(frame));
  };
  callbacks.on_closed = [this](FramedServer::ConnectionId id,
                               const CloseInfo& /*info*/) {
    incoming_.erase(id);
  };
  absl::StatusOr<std::unique_ptr<FramedServer>> started =
      FramedServer::Listen(loop_, server, std::move(callbacks), log_);
  if (!started.ok()) return started.status();
  server_ = std::move(*started);
  return absl::OkStatus();
}

absl::Status TcpTransport::CheckBatch(
    uint64_t from_store_id, const store::RaftMessageBatch& batch) const {
  if (batch.from_store_id() != from_store_id ||
      batch.cluster_id() != options_.cluster_id ||
      batch.to_store_id() != options_.store_id) {
    return absl::InvalidArgumentError(
        absl::StrCat("batch says cluster ", batch.cluster_id(), ", from store ",
                     batch.from_store_id(), ", to store ", batch.to_store_id(),
                     " on a connection of store ", from_store_id, " to store ",
                     options_.store_id, " in cluster ", options_.cluster_id));
  }
  return absl::OkStatus();
}

absl::Status TcpTransport::OnIncomingFrame(FramedServer::ConnectionId id,
                                           Frame&& frame) {
  if (frame.type() != FrameType::kRaftBatch) {
    return absl::InvalidArgumentError(
        absl::StrCat("unexpected ", std::string(FrameTypeName(frame.type())),
                     " frame on the raft port"));
  }
  auto it = incoming_.find(id);
  RS_CHECK(it != incoming_.end());
  const uint64_t from = it->second;
  auto& batch = std::get<store::RaftMessageBatch>(frame.message);
  if (absl::Status checked = CheckBatch(from, batch); !checked.ok()) {
    return checked;
  }
  if (blocked_.contains(from)) {
    ++metrics_.drops_blocked;
    return absl::OkStatus();
  }
  ++metrics_.batches_received;
  on_batch_(from, std::move(batch));
  return absl::OkStatus();
}

absl::Status TcpTransport::SetPeerAddress(uint64_t store_id,
                                          absl::string_view host_port) {
  if (closing_) return absl::FailedPreconditionError("transport is closing");
  if (store_id == 0 || store_id == options_.store_id) {
    return absl::InvalidArgumentError(absl::StrCat("peer store id ", store_id,
                                                   " (this is store ",
                                                   options_.store_id, ")"));
  }
  absl::StatusOr<SocketAddress> address = ResolveAddress(host_port);
  if (!address.ok()) return address.status();
  auto it = peers_.find(store_id);
  if (it != peers_.end()) {
    it->second->address = std::move(*address);
    return absl::OkStatus();
  }
  if (peers_.size() >= options_.peers_max) {
    return absl::ResourceExhaustedError(
        absl::StrCat("peers_max ", options_.peers_max, " peers already known"));
  }
  auto peer = std::make_unique<Peer>();
  peer->store_id = store_id;
  peer->address = std::move(*address);
  peer->owner = this;
  RS_CHECK_EQ(uv_timer_init(loop_, &peer->backoff_timer), 0);
  peer->backoff_timer.data = peer.get();
  peers_[store_id] = std::move(peer);
  return absl::OkStatus();
}

bool TcpTransport::Writable(const Peer& peer) {
  // A connection closing (a stall or an error earlier in this loop
  // iteration) still counts as connected until its on_closed runs, but
  // takes no more frames: batches wait in the queue for the redial.
  return peer.connected && !peer.connection->closing();
}

uint64_t TcpTransport::QueuedBytes(const Peer& peer) const {
  const uint64_t in_connection =
      Writable(peer) ? peer.connection->buffered_bytes() : 0;
  return peer.queue.size() + in_connection;
}

uint64_t TcpTransport::queued_bytes(uint64_t store_id) const {
  auto it = peers_.find(store_id);
  return it == peers_.end() ? 0 : QueuedBytes(*it->second);
}

SendResult TcpTransport::Send(uint64_t store_id,
                              const store::RaftMessageBatch& batch) {
  if (closing_) return SendResult::kClosed;
  auto it = peers_.find(store_id);
  if (it == peers_.end()) {
    ++metrics_.drops_unknown_peer;
    return SendResult::kDroppedUnknownPeer;
  }
  if (blocked_.contains(store_id)) {
    ++metrics_.drops_blocked;
    return SendResult::kDroppedBlocked;
  }
  Peer& peer = *it->second;
  const uint64_t bytes = FrameBytesOf(batch);
  if (bytes - kFrameHeaderBytes > options_.frame_payload_bytes_max) {
    ++metrics_.drops_oversized;
    log_(absl::StrCat("dropped a batch of ", bytes, " bytes for store ",
                      store_id, ": above frame_payload_bytes_max ",
                      options_.frame_payload_bytes_max));
    return SendResult::kDroppedOversized;
  }
  if (QueuedBytes(peer) + bytes > options_.send_queue_bytes_max) {
    ++metrics_.drops;
    return SendResult::kDroppedQueueFull;
  }
  if (Writable(peer)) {
    const absl::Status sent = peer.connection->Send(batch);
    RS_CHECK(sent.ok()) << sent;  // room was checked above
    return SendResult::kQueued;
  }
  const absl::Status encoded =
      AppendFrame(batch, options_.frame_payload_bytes_max, &peer.queue);
  RS_CHECK(encoded.ok()) << encoded;
  ++peer.queue_frames;
  if (peer.connection == nullptr && !peer.backoff_pending) Dial(peer);
  return SendResult::kQueued;
}

void TcpTransport::Dial(Peer& peer) {
  RS_CHECK(peer.connection == nullptr);
  ++metrics_.dials;
  if (peer.failures > 0) ++metrics_.retries;
  Peer* target = &peer;
  FramedConnection::Callbacks callbacks;
  callbacks.on_connected = [this, target] { OnPeerConnected(*target); };
  callbacks.on_frame = [target](Frame&& frame) {
    return absl::InvalidArgumentError(
        absl::StrCat("store ", target->store_id, " sent a ",
                     std::string(FrameTypeName(frame.type())),
                     " frame on this store's outgoing connection"));
  };
  callbacks.on_written = [this](uint64_t frames) { metrics_.sends += frames; };
  callbacks.on_closed = [this, target](const CloseInfo& info) {
    OnPeerClosed(*target, info);
  };
  peer.connection =
      FramedConnection::Dial(loop_, peer.address, connection_options_,
                             options_.dial_timeout_ms, std::move(callbacks));
}

void TcpTransport::OnPeerConnected(Peer& peer) {
  peer.connected = true;
  peer.failures = 0;
  // The HELLO goes first, then everything queued while dialing, in one
  // write.
  absl::Status sent = peer.connection->SendEncoded(hello_frame_, 0);
  if (sent.ok())
    sent = peer.connection->SendEncoded(peer.queue, peer.queue_frames);
  RS_CHECK(sent.ok()) << sent;  // the queue was bounded by the same limit
  peer.queue.clear();
  peer.queue_frames = 0;
}

void TcpTransport::OnPeerClosed(Peer& peer, const CloseInfo& info) {
  peer.connection = nullptr;
  peer.connected = false;
  if (info.was_connected) {
    metrics_.send_failures += info.frames_unsent;
  } else {
    ++metrics_.dial_failures;
  }
  if (closing_) {
    HandleClosed();
    return;
  }
  if (info.cause == CloseCause::kBadFrame ||
      info.cause == CloseCause::kRejected ||
      info.cause == CloseCause::kReadStall) {
    ++metrics_.connections_closed_bad_frame;
  }
  const uint64_t failure = peer.failures + 1;
  const uint64_t delay_ms = ScheduleRedial(peer);
  // A peer that stays down would log every few seconds: log failures 1, 2,
  // 4, 8, ... of a run.
  if ((failure & (failure - 1)) == 0) {
    log_(absl::StrCat(info.was_connected ? "connection to" : "dial to",
                      " store ", peer.store_id, " at ", peer.address.text,
                      " failed (", std::string(CloseCauseName(info.cause)),
                      "): ", info.reason.message(), "; failure ", failure,
                      " in a row, redial in ", delay_ms, " ms"));
  }
}

uint64_t TcpTransport::ScheduleRedial(Peer& peer) {
  ++peer.failures;
  const uint64_t delay_ms =
      BackoffDelayMs(peer.failures, options_.reconnect_backoff_ms_min,
                     options_.reconnect_backoff_ms_max, rng_);
  peer.backoff_pending = true;
  RS_CHECK_EQ(uv_timer_start(&peer.backoff_timer, BackoffTimerCb, delay_ms, 0),
              0);
  return delay_ms;
}

void TcpTransport::BackoffTimerCb(uv_timer_t* timer) {
  auto* peer = static_cast<Peer*>(timer->data);
  peer->backoff_pending = false;
  TcpTransport* self = peer->owner;
  // Redial only for traffic; an idle peer is dialed by its next Send.
  if (!self->closing_ && !peer->queue.empty()) self->Dial(*peer);
}

void TcpTransport::BlockPeer(uint64_t store_id) { blocked_.insert(store_id); }

void TcpTransport::UnblockPeer(uint64_t store_id) { blocked_.erase(store_id); }

TransportMetrics TcpTransport::metrics() const {
  TransportMetrics metrics = metrics_;
  const FramedServerMetrics& server = server_->metrics();
  metrics.frames_received = server.frames_received;
  metrics.connections_accepted = server.connections_accepted;
  metrics.connections_closed_bad_frame += server.connections_closed_bad_frame;
  metrics.connections_closed_unauthenticated =
      server.connections_closed_unauthenticated;
  metrics.blocked_peers = blocked_.size();
  return metrics;
}

void TcpTransport::Close(std::function<void()> on_done) {
  if (closing_) return;
  closing_ = true;
  on_done_ = std::move(on_done);
  handles_open_ = 1;  // the server
  for (auto& [store_id, peer] : peers_) {
    ++handles_open_;
    uv_close(reinterpret_cast<uv_handle_t*>(&peer->backoff_timer),
             TimerClosedCb);
    if (peer->connection != nullptr) {
      ++handles_open_;
      peer->connection->Close(absl::CancelledError("transport closing"));
    }
  }
  server_->Close([this] { HandleClosed(); });
}

void TcpTransport::HandleClosed() {
  RS_CHECK(closing_);
  RS_CHECK_GT(handles_open_, 0);
  if (--handles_open_ > 0) return;
  closed_ = true;
  if (on_done_) {
    auto done = std::move(on_done_);
    done();
  }
}

void TcpTransport::TimerClosedCb(uv_handle_t* handle) {
  static_cast<Peer*>(handle->data)->owner->HandleClosed();
}

}  // namespace raftstore::transport
