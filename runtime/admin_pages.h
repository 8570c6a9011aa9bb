// The admin endpoint's pages, as pure functions of a snapshot of the node's
// state (NodeStatus), so they are tested without a node:
//   /metrics  Prometheus text format (version 0.0.4): counters end in
//             _total, every series has HELP and TYPE lines;
//   /stats    JSON, a superset of `raftstore stats --workdir --json`
//             (cluster_id, store_id, regions by state, wal, raft_groups)
//             plus the store's, the transport's, the client port's and the
//             node's counters;
//   /regions  JSON, the shape of `raftstore regions --json` (id, state,
//             epoch, C-escaped keys, peers) plus the local peer's raft
//             status.
// docs/runtime.md lists every metric.
//
// Thread-safety: pure functions.
#ifndef RAFTSTORE_RUNTIME_ADMIN_PAGES_H_
#define RAFTSTORE_RUNTIME_ADMIN_PAGES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/storage/manifest/manifest.h"
#include "core/storage/wal/wal.h"
#include "core/store/peer.h"
#include "core/store/region_catalog.h"
#include "core/store/region_hooks.h"
#include "core/store/store.h"
#include "runtime/http_server.h"
#include "transport/framed_server.h"
#include "transport/tcp_transport.h"

namespace raftstore::runtime {

// The node's own counters (the driver's, not the store's).
struct NodeCounters {
  // Storage jobs (storage_worker.h) and what they did.
  uint64_t storage_jobs = 0;
  uint64_t storage_writes = 0;
  uint64_t storage_syncs = 0;
  uint64_t storage_sync_us_total = 0;
  uint64_t storage_sync_us_max = 0;
  uint64_t manifest_edits = 0;
  uint64_t snapshot_files_removed = 0;
  uint64_t wal_segments_removed = 0;
  // Effects whose messages and replies waited for their manifest edit.
  uint64_t effects_held_for_manifest = 0;
  // Raft batches the transport did not queue (full, blocked, unknown peer).
  uint64_t raft_batches_not_queued = 0;
  // Raft batches the store refused whole.
  uint64_t raft_batches_refused = 0;
  // Client port.
  uint64_t client_requests = 0;
  uint64_t admin_requests = 0;
  // Refused at once: too many requests in flight (in all or on the
  // connection).
  uint64_t client_busy_refusals = 0;
  uint64_t client_replies = 0;
  // Answers with nowhere to go (the connection closed first, or it could
  // not take them).
  uint64_t client_replies_dropped = 0;
  // Requests the store never answered, forgotten after the TTL.
  uint64_t client_requests_expired = 0;
  // A gauge: requests in flight now.
  uint64_t client_requests_pending = 0;
};

struct NodeStatus {
  uint64_t cluster_id = 0;
  uint64_t store_id = 0;
  uint64_t uptime_ms = 0;
  uint64_t tick_ms = 0;
  // False once the node is stopping (or failed).
  bool serving = true;
  store::StoreStats store;
  store::RegionMetricsSnapshot regions;
  // Regions whose local peer leads.
  uint64_t leaders = 0;
  transport::TransportMetrics transport;
  transport::FramedServerMetrics client_port;
  std::optional<HttpServerMetrics> admin_http;
  storage::WalStats wal;
  storage::ManifestStats manifest;
  NodeCounters node;
};

std::string MetricsText(const NodeStatus& status);

// `peers`: Store::PeerSummaries() (no digests, so the page costs
// O(regions), never a pass over the data); their kv_digest is not printed.
std::string StatsJson(const NodeStatus& status,
                      const std::vector<store::PeerStatus>& peers);

// `regions`: the catalog (RegionCatalog::RegionSnapshot()); `peers`:
// Store::PeerStatuses(), joined by region id (each computes a digest of its
// region's data: this page costs a pass over the store's data).
std::string RegionsJson(const std::vector<store::RegionRecord>& regions,
                        const std::vector<store::PeerStatus>& peers);

}  // namespace raftstore::runtime

#endif  // RAFTSTORE_RUNTIME_ADMIN_PAGES_H_
