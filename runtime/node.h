// The production node: one store (core/store) driven by a libuv loop, over
// real files (PosixDisk, the WAL, the manifest) and real sockets (the raft
// transport, the client port, the admin HTTP endpoint). docs/runtime.md is
// the long form.
//
// Inputs, each on the loop thread: a tick timer (Store::Tick every
// tick_ms), raft batches from the transport (Store::Receive), KV and admin
// requests from the client port (Store::Submit / SubmitAdmin), and the disk
// worker's completions (Store::OnPersisted). An input only marks the node
// dirty; once per loop iteration, after every callback of the iteration
// (a uv_prepare handle), the node takes the store's effects until it has
// none and carries them out (store_effects.h):
//   - manifest edits and the write go to the StorageWorker as one job (one
//     job in flight; what arrives meanwhile waits and joins the next job),
//     edits first; the write is acknowledged with OnPersisted only when the
//     job completed, which makes the messages and replies that waited for
//     it come out of the next TakeEffects. Requests read in one iteration
//     thus share one WAL write and one fdatasync (group commit);
//   - raft messages go to TcpTransport::Send (one batch per destination);
//   - replies go back on the client connection that asked;
//   - the messages and replies of an effects that carried a manifest edit
//     wait until that edit is durable (the simulator applies edits at once,
//     so nothing of those effects ever leaves before its edit there either).
// Nothing acknowledged can be lost to a crash: the store answers a write
// only after the OnPersisted of the write holding it, and OnPersisted is
// called only after the job's fdatasync returned.
//
// Failure: a storage job that fails (I/O error, full disk, a poisoned WAL)
// stops the node at once: no further input is taken, nothing more is
// acknowledged, everything is closed and exit_code() is 1; the log line
// names the step and the file.
//
// Shutdown (Stop, on SIGTERM/SIGINT): stop ticking and accepting, close the
// client and admin ports (their pending requests go unanswered: an unknown
// outcome to the client, as a crash would be), wait for the storage job in
// flight (never abandon an fsync half-way), then close the transport; when
// every handle is closed `on_done` runs and exit_code() is 0.
//
// Thread-safety: none. Every method runs on the loop's thread; the only
// other thread is the storage worker's (storage_worker.h).
#ifndef RAFTSTORE_RUNTIME_NODE_H_
#define RAFTSTORE_RUNTIME_NODE_H_

#include <uv.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/status/status.h"
#include "core/store/store.h"
#include "runtime/admin_pages.h"
#include "runtime/data_dir.h"
#include "runtime/http_server.h"
#include "runtime/node_options.h"
#include "runtime/storage_worker.h"
#include "transport/framed_server.h"
#include "transport/log_sink.h"
#include "transport/tcp_transport.h"

namespace raftstore::runtime {

inline constexpr int kNodeExitOk = 0;
inline constexpr int kNodeExitFailure = 1;
inline constexpr int kNodeExitUsage = 2;

// The store configuration a node runs with (every node of a cluster must
// derive the same one from the same options).
store::StoreConfig NodeStoreConfig(const NodeOptions& options);

class Node {
 public:
  // A node that has opened nothing yet. `options` must be valid
  // (NodeOptions::Validate).
  static std::unique_ptr<Node> Create(uv_loop_t* loop,
                                      const NodeOptions& options,
                                      transport::LogSink log);

  // Opens the data directory, recovers the store, binds the ports and
  // starts ticking. On failure returns the error (naming the directory,
  // file or address) and sets exit_code() to kNodeExitUsage (a directory
  // that is missing, not a store, another store's or in use; a port that
  // cannot be bound) or kNodeExitFailure (recovery failed); the caller
  // then calls Stop and runs the loop until it is done, as after success.
  absl::Status Start();

  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;
  // Requires stopped().
  ~Node();

  // Graceful shutdown (top comment); `on_done` (optional) runs once every
  // handle is closed, possibly before Stop returns. Idempotent: a later
  // call's on_done replaces nothing set before.
  void Stop(std::function<void()> on_done);
  bool stopped() const { return stopped_; }
  // Called (once) when the node stops on its own after a storage failure,
  // so the owner can close what it owns beside it (signal handles).
  void set_on_failure(std::function<void()> on_failure) {
    on_failure_ = std::move(on_failure);
  }
  // 0 after a graceful stop, 1 after a storage failure, the Start error's
  // code after a failed Start.
  int exit_code() const { return exit_code_; }

  int raft_port() const;
  int client_port() const;
  // 0 without an admin endpoint.
  int admin_port() const;

  // A snapshot of the node's state for the admin pages.
  NodeStatus Status() const;

 private:
  // Outputs of an effects that carried a manifest edit: they leave once the
  // job holding the edit has completed.
  struct Held {
    std::vector<store::RaftMessageBatch> messages;
    std::vector<store::ClientReply> replies;
    std::vector<store::AdminReply> admin_replies;
  };
  // A request handed to the store, waiting for its answer.
  struct Pending {
    transport::FramedServer::ConnectionId connection = 0;
    uint64_t submitted_ms = 0;
  };

  Node(uv_loop_t* loop, const NodeOptions& options, transport::LogSink log);

  absl::Status OpenStore();
  absl::Status StartPorts();
  void StartTimers();

  // Inputs.
  void OnTick();
  void OnBatch(uint64_t from_store_id, store::RaftMessageBatch&& batch);
  absl::Status OnClientFrame(transport::FramedServer::ConnectionId id,
                             transport::Frame&& frame);
  void OnClientClosed(transport::FramedServer::ConnectionId id);
  void OnJobDone(StorageJob job, const StorageJobResult& result);

  // The effects loop and its parts.
  void Process();
  void HandleEffects(store::StoreEffects& effects);
  void Release(Held& held);
  void SendBatch(const store::RaftMessageBatch& batch);
  void Reply(store::ClientReply& reply);
  void AdminReply(store::AdminReply& reply);
  void MaybeSubmitJob();
  // Registers a request from `id`; returns its reply_to, or 0 when a bound
  // refuses it.
  uint64_t Admit(transport::FramedServer::ConnectionId id);
  // Forgets requests older than client_request_ttl_ms.
  void ExpireRequests();
  // Takes the answer's connection out of the pending map (0 if gone).
  transport::FramedServer::ConnectionId TakePending(uint64_t reply_to);

  void Fail(const absl::Status& status);
  void MaybeStopped();
  uint64_t NowMs() const;

  HttpResponse ServeAdmin(absl::string_view path);
  HttpResponse ServeChaos(absl::string_view path);

  static void TickCb(uv_timer_t* timer);
  static void PrepareCb(uv_prepare_t* prepare);
  static void IdleCb(uv_idle_t* idle);
  static void HandleClosedCb(uv_handle_t* handle);

  uv_loop_t* loop_;
  NodeOptions options_;
  store::StoreConfig config_;
  transport::LogSink log_;
  std::chrono::steady_clock::time_point started_at_;

  std::unique_ptr<DataDirLock> lock_;
  std::unique_ptr<StorageWorker> worker_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<transport::TcpTransport> transport_;
  std::unique_ptr<transport::FramedServer> client_server_;
  std::unique_ptr<HttpServer> admin_;

  uv_timer_t tick_timer_{};
  uv_prepare_t prepare_{};
  uv_idle_t idle_{};
  int open_handles_ = 0;  // of the three above
  bool timers_started_ = false;

  // Effects waiting for the next storage job, and for the one in flight.
  StorageJob next_job_;
  std::vector<Held> next_held_;
  std::vector<Held> in_flight_held_;
  bool dirty_ = false;

  absl::btree_map<uint64_t, Pending> pending_;  // by reply_to, oldest first
  absl::btree_map<transport::FramedServer::ConnectionId,
                  absl::btree_set<uint64_t>>
      connection_requests_;
  uint64_t next_reply_to_ = 1;

  // Storage state as the last job left it.
  storage::WalStats wal_stats_;
  storage::ManifestStats manifest_stats_;
  NodeCounters counters_;

  bool stopping_ = false;
  bool failed_ = false;
  bool stopped_ = false;
  int exit_code_ = kNodeExitOk;
  int closing_parts_ = 0;
  std::function<void()> on_stopped_;
  std::function<void()> on_failure_;
};

}  // namespace raftstore::runtime

#endif  // RAFTSTORE_RUNTIME_NODE_H_
