#include "runtime/admin_pages.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "core/raft/raft.h"
#include "nlohmann/json.hpp"

namespace raftstore::runtime {
namespace {

using nlohmann::json;

// Appends one series with its HELP and TYPE lines.
class MetricsWriter {
 public:
  explicit MetricsWriter(std::string* out) : out_(out) {}

  void Counter(const char* name, const char* help, uint64_t value) {
    Series(absl::StrCat("raftstore_", name, "_total"), "counter", help, "",
           value);
  }
  void Gauge(const char* name, const char* help, uint64_t value) {
    Series(absl::StrCat("raftstore_", name), "gauge", help, "", value);
  }
  // A gauge with one label, one line per value; HELP and TYPE once.
  void LabelledGauge(
      const char* name, const char* help, const char* label,
      const std::vector<std::pair<std::string, uint64_t>>& values) {
    const std::string full = absl::StrCat("raftstore_", name);
    absl::StrAppend(out_, "# HELP ", full, " ", help, "\n# TYPE ", full,
                    " gauge\n");
    for (const auto& value : values) {
      absl::StrAppend(out_, full, "{", label, "=\"", value.first, "\"} ",
                      value.second, "\n");
    }
  }

 private:
  void Series(const std::string& name, const char* type, const char* help,
              const std::string& labels, uint64_t value) {
    absl::StrAppend(out_, "# HELP ", name, " ", help, "\n# TYPE ", name, " ",
                    type, "\n", name, labels, " ", value, "\n");
  }

  std::string* out_;
};

void StoreMetrics(const store::StoreStats& s, MetricsWriter& m) {
  m.Counter("store_ticks", "Logical ticks of the store.", s.ticks);
  m.Counter("store_batches_received", "Raft message batches received.",
            s.batches_received);
  m.Counter("store_messages_received", "Raft messages received.",
            s.messages_received);
  m.Counter("store_batches_refused", "Received batches refused whole.",
            s.batches_refused);
  m.Counter("store_messages_refused", "Received messages refused.",
            s.messages_refused);
  m.Counter("store_batches_sent", "Raft message batches sent.", s.batches_sent);
  m.Counter("store_messages_sent", "Raft messages sent.", s.messages_sent);
  m.Counter("store_writes", "Write batches handed to the disk worker.",
            s.writes);
  m.Counter("store_synced_writes", "Write batches that needed an fdatasync.",
            s.synced_writes);
  m.Counter("store_entries_written", "Raft entries written to the WAL.",
            s.entries_written);
  m.Counter("store_snapshots_taken", "Log GC snapshots taken.",
            s.snapshots_taken);
  m.Counter("store_snapshots_installed", "Snapshots installed from leaders.",
            s.snapshots_installed);
  m.Counter("store_requests", "Client requests submitted to the store.",
            s.requests);
  m.Counter("store_routing_refusals",
            "Requests refused by routing (RegionNotFound, EpochNotMatch, "
            "KeyNotInRegion).",
            s.routing_refusals);
  m.Counter("store_admin_requests", "Admin commands submitted.",
            s.admin_requests);
  m.Counter("store_peers_created", "Peers created by a leader's message.",
            s.peers_created);
  m.Counter("store_peers_destroyed", "Peers removed by membership changes.",
            s.peers_destroyed);
  m.Counter("store_regions_split", "Regions started by a split.",
            s.regions_split);
  m.Counter("store_proposals", "Client writes proposed.", s.peers.proposals);
  m.Gauge("store_proposals_in_flight", "Client writes proposed, unanswered.",
          s.peers.proposals_in_flight);
  m.Counter("store_writes_applied", "Client writes applied.",
            s.peers.writes_applied);
  m.Counter("store_reads_served", "Reads served.", s.peers.reads_served);
  m.Counter("store_busy_refusals", "Requests refused with ServerBusy.",
            s.peers.busy_refusals);
  m.Counter("store_not_leader_refusals", "Requests refused with NotLeader.",
            s.peers.not_leader_refusals);
  m.Counter("store_messages_dropped",
            "Raft messages dropped by the outbox bound.",
            s.peers.messages_dropped);
}

void TransportMetricsText(const transport::TransportMetrics& t,
                          MetricsWriter& m) {
  m.Counter("transport_dials", "Connection attempts to peer stores.", t.dials);
  m.Counter("transport_dial_failures", "Dials that never connected.",
            t.dial_failures);
  m.Counter("transport_sends", "Batches written to a peer's socket.", t.sends);
  m.Counter("transport_send_failures",
            "Batches lost in a connection that broke.", t.send_failures);
  m.Counter("transport_retries", "Redials after a failure.", t.retries);
  m.Counter("transport_drops", "Batches dropped: the peer's queue was full.",
            t.drops);
  m.Counter("transport_drops_blocked",
            "Batches dropped to or from a blocked "
            "peer.",
            t.drops_blocked);
  m.Counter("transport_drops_unknown_peer", "Batches for an unknown store.",
            t.drops_unknown_peer);
  m.Counter("transport_frames_received", "Frames received on the raft port.",
            t.frames_received);
  m.Counter("transport_batches_received", "Batches received from peers.",
            t.batches_received);
  m.Counter("transport_connections_accepted",
            "Connections accepted on the raft port.", t.connections_accepted);
  m.Counter("transport_connections_closed_bad_frame",
            "Raft connections closed for a bad frame.",
            t.connections_closed_bad_frame);
  m.Counter("transport_connections_closed_unauthenticated",
            "Raft connections closed for a missing or bad HELLO.",
            t.connections_closed_unauthenticated);
  m.Gauge("transport_blocked_peers", "Peers blocked now.", t.blocked_peers);
}

void ClientPortMetrics(const transport::FramedServerMetrics& c,
                       MetricsWriter& m) {
  m.Counter("client_connections_accepted", "Client connections accepted.",
            c.connections_accepted);
  m.Gauge("client_connections_open", "Client connections open now.",
          c.connections_open);
  m.Counter("client_connections_rejected_full",
            "Client connections refused: too many open.",
            c.connections_rejected_full);
  m.Counter("client_connections_closed_bad_frame",
            "Client connections closed for a bad frame.",
            c.connections_closed_bad_frame);
  m.Counter("client_connections_closed_unauthenticated",
            "Client connections closed for a missing or bad HELLO.",
            c.connections_closed_unauthenticated);
  m.Counter("client_frames_received", "Frames received on the client port.",
            c.frames_received);
  m.Counter("client_frames_sent", "Frames sent on the client port.",
            c.frames_sent);
}

void NodeMetrics(const NodeStatus& status, MetricsWriter& m) {
  const NodeCounters& n = status.node;
  m.Counter("storage_jobs", "Jobs run by the disk worker.", n.storage_jobs);
  m.Counter("storage_writes", "Write batches staged to the WAL.",
            n.storage_writes);
  m.Counter("storage_syncs", "WAL fdatasyncs (one per synced batch).",
            n.storage_syncs);
  m.Counter("storage_sync_microseconds",
            "Time spent writing and syncing WAL batches.",
            n.storage_sync_us_total);
  m.Gauge("storage_sync_microseconds_max",
          "The longest WAL write + sync since start.", n.storage_sync_us_max);
  m.Counter("manifest_edits", "Manifest edits applied.", n.manifest_edits);
  m.Counter("snapshot_files_removed", "Stale snapshot files removed.",
            n.snapshot_files_removed);
  m.Counter("wal_segments_removed", "WAL segments released by GC.",
            n.wal_segments_removed);
  m.Counter("effects_held_for_manifest",
            "Effects whose messages waited for their manifest edit.",
            n.effects_held_for_manifest);
  m.Counter("raft_batches_not_queued",
            "Raft batches the transport refused to queue.",
            n.raft_batches_not_queued);
  m.Counter("raft_batches_refused", "Raft batches the store refused whole.",
            n.raft_batches_refused);
  m.Counter("client_requests", "KV requests received.", n.client_requests);
  m.Counter("admin_requests", "Admin requests received.", n.admin_requests);
  m.Counter("client_busy_refusals",
            "Requests refused at once: too many in flight.",
            n.client_busy_refusals);
  m.Counter("client_replies", "Answers sent to clients.", n.client_replies);
  m.Counter("client_replies_dropped",
            "Answers whose connection was gone or full.",
            n.client_replies_dropped);
  m.Counter("client_requests_expired",
            "Requests never answered, forgotten after the TTL.",
            n.client_requests_expired);
  m.Gauge("client_requests_pending", "Client requests in flight now.",
          n.client_requests_pending);
}

void StorageMetrics(const NodeStatus& status, MetricsWriter& m) {
  const storage::WalStats& w = status.wal;
  m.Gauge("wal_segments", "WAL segment files.", w.segments);
  m.Gauge("wal_segment_bytes", "Bytes in WAL segment files.", w.segment_bytes);
  m.Counter("wal_records_appended", "WAL records appended since start.",
            w.records_appended);
  m.Counter("wal_bytes_written", "Bytes written to the WAL since start.",
            w.bytes_written);
  m.Counter("wal_syncs", "WAL segment syncs since start.", w.syncs);
  m.Gauge("manifest_file_bytes", "Size of the live manifest file.",
          status.manifest.file_bytes);
  m.Counter("manifest_rewrites", "Manifest rewrites since start.",
            status.manifest.rewrites);
}

json Counts(const store::RegionMetricsSnapshot& r) {
  return {{"total", r.region_total},         {"new", r.region_new},
          {"running", r.region_running},     {"removing", r.region_removing},
          {"tombstone", r.region_tombstone}, {"other", r.region_other}};
}

json StoreJson(const store::StoreStats& s) {
  return {{"ticks", s.ticks},
          {"batches_received", s.batches_received},
          {"messages_received", s.messages_received},
          {"batches_refused", s.batches_refused},
          {"messages_refused", s.messages_refused},
          {"batches_sent", s.batches_sent},
          {"messages_sent", s.messages_sent},
          {"writes", s.writes},
          {"synced_writes", s.synced_writes},
          {"entries_written", s.entries_written},
          {"snapshots_taken", s.snapshots_taken},
          {"snapshots_installed", s.snapshots_installed},
          {"requests", s.requests},
          {"routing_refusals", s.routing_refusals},
          {"admin_requests", s.admin_requests},
          {"peers_created", s.peers_created},
          {"peers_destroyed", s.peers_destroyed},
          {"regions_split", s.regions_split},
          {"proposals", s.peers.proposals},
          {"proposals_in_flight", s.peers.proposals_in_flight},
          {"writes_applied", s.peers.writes_applied},
          {"reads_served", s.peers.reads_served},
          {"busy_refusals", s.peers.busy_refusals},
          {"not_leader_refusals", s.peers.not_leader_refusals},
          {"messages_dropped", s.peers.messages_dropped}};
}

json TransportJson(const transport::TransportMetrics& t) {
  return {{"dials", t.dials},
          {"dial_failures", t.dial_failures},
          {"sends", t.sends},
          {"send_failures", t.send_failures},
          {"retries", t.retries},
          {"drops", t.drops},
          {"drops_blocked", t.drops_blocked},
          {"drops_unknown_peer", t.drops_unknown_peer},
          {"drops_oversized", t.drops_oversized},
          {"frames_received", t.frames_received},
          {"batches_received", t.batches_received},
          {"connections_accepted", t.connections_accepted},
          {"connections_closed_bad_frame", t.connections_closed_bad_frame},
          {"connections_closed_unauthenticated",
           t.connections_closed_unauthenticated},
          {"blocked_peers", t.blocked_peers}};
}

json ClientPortJson(const transport::FramedServerMetrics& c) {
  return {{"connections_accepted", c.connections_accepted},
          {"connections_open", c.connections_open},
          {"connections_rejected_full", c.connections_rejected_full},
          {"connections_closed_bad_frame", c.connections_closed_bad_frame},
          {"connections_closed_unauthenticated",
           c.connections_closed_unauthenticated},
          {"frames_received", c.frames_received},
          {"frames_sent", c.frames_sent}};
}

json NodeJson(const NodeCounters& n) {
  return {{"storage_jobs", n.storage_jobs},
          {"storage_writes", n.storage_writes},
          {"storage_syncs", n.storage_syncs},
          {"storage_sync_us_total", n.storage_sync_us_total},
          {"storage_sync_us_max", n.storage_sync_us_max},
          {"manifest_edits", n.manifest_edits},
          {"snapshot_files_removed", n.snapshot_files_removed},
          {"wal_segments_removed", n.wal_segments_removed},
          {"effects_held_for_manifest", n.effects_held_for_manifest},
          {"raft_batches_not_queued", n.raft_batches_not_queued},
          {"raft_batches_refused", n.raft_batches_refused},
          {"client_requests", n.client_requests},
          {"admin_requests", n.admin_requests},
          {"client_busy_refusals", n.client_busy_refusals},
          {"client_replies", n.client_replies},
          {"client_replies_dropped", n.client_replies_dropped},
          {"client_requests_expired", n.client_requests_expired},
          {"client_requests_pending", n.client_requests_pending}};
}

// `with_digest`: whether p.kv_digest was computed (PeerStatuses, not
// PeerSummaries).
json RaftJson(const store::PeerStatus& p, bool with_digest) {
  const uint64_t truncated = p.first_index > 0 ? p.first_index - 1 : 0;
  json out = {
      {"region_id", p.region_id},
      {"peer_id", p.peer_id},
      {"role", std::string(raft::RoleName(p.role))},
      {"term", p.term},
      {"leader_peer_id", p.leader_peer_id},
      {"snapshot_index", p.snapshot_index},
      {"truncated_index", truncated},
      {"commit_index", p.commit_index},
      {"applied_index", p.applied_index},
      {"last_index", p.last_index},
      {"entries", p.last_index > truncated ? p.last_index - truncated : 0},
      {"pending_writes", p.pending_writes},
      {"pending_reads", p.pending_reads}};
  if (with_digest) out["kv_digest"] = p.kv_digest;
  return out;
}

std::string StateName(meta::RegionState state) {
  std::string name = meta::RegionState_Name(state);
  const std::string prefix = "REGION_STATE_";
  if (name.rfind(prefix, 0) == 0) name = name.substr(prefix.size());
  return absl::AsciiStrToLower(name);
}

}  // namespace

std::string MetricsText(const NodeStatus& status) {
  std::string out;
  MetricsWriter m(&out);
  m.Gauge("up", "1 while the node serves, 0 once it is stopping.",
          status.serving ? 1 : 0);
  m.Gauge("store_id", "This store's id.", status.store_id);
  m.Gauge("uptime_milliseconds", "Time since the node started.",
          status.uptime_ms);
  const store::RegionMetricsSnapshot& r = status.regions;
  m.LabelledGauge("regions", "Regions in the catalog by state.", "state",
                  {{"new", r.region_new},
                   {"running", r.region_running},
                   {"removing", r.region_removing},
                   {"tombstone", r.region_tombstone},
                   {"other", r.region_other}});
  m.Gauge("region_leaders", "Regions whose local peer leads.", status.leaders);
  StoreMetrics(status.store, m);
  StorageMetrics(status, m);
  TransportMetricsText(status.transport, m);
  ClientPortMetrics(status.client_port, m);
  NodeMetrics(status, m);
  if (status.admin_http.has_value()) {
    m.Counter("admin_http_requests", "Admin HTTP requests served.",
              status.admin_http->requests);
    m.Counter("admin_http_bad_requests", "Admin HTTP requests refused.",
              status.admin_http->bad_requests);
  }
  return out;
}

std::string StatsJson(const NodeStatus& status,
                      const std::vector<store::PeerStatus>& peers) {
  json out;
  out["cluster_id"] = status.cluster_id;
  out["store_id"] = status.store_id;
  out["serving"] = status.serving;
  out["uptime_ms"] = status.uptime_ms;
  out["tick_ms"] = status.tick_ms;
  out["regions"] = Counts(status.regions);
  out["leaders"] = status.leaders;
  out["wal"] = {{"segments", status.wal.segments},
                {"bytes", status.wal.segment_bytes},
                {"records", status.wal.records_appended},
                {"records_replayed", status.wal.records_replayed},
                {"bytes_written", status.wal.bytes_written},
                {"syncs", status.wal.syncs},
                {"damage", nullptr}};
  out["manifest"] = {{"file_number", status.manifest.file_number},
                     {"file_bytes", status.manifest.file_bytes},
                     {"edits_applied", status.manifest.edits_applied},
                     {"rewrites", status.manifest.rewrites}};
  json groups = json::array();
  for (const store::PeerStatus& peer : peers) {
    groups.push_back(RaftJson(peer, /*with_digest=*/false));
  }
  out["raft_groups"] = groups;
  out["store"] = StoreJson(status.store);
  out["transport"] = TransportJson(status.transport);
  out["client_port"] = ClientPortJson(status.client_port);
  out["node"] = NodeJson(status.node);
  return out.dump(2) + "\n";
}

std::string RegionsJson(const std::vector<store::RegionRecord>& regions,
                        const std::vector<store::PeerStatus>& peers) {
  absl::btree_map<uint64_t, const store::PeerStatus*> by_region;
  for (const store::PeerStatus& peer : peers) by_region[peer.region_id] = &peer;
  json out = json::array();
  for (const store::RegionRecord& record : regions) {
    const meta::Region& region = record.region;
    json members = json::array();
    for (const meta::Peer& peer : region.peers()) {
      members.push_back({{"id", peer.id()},
                         {"store_id", peer.store_id()},
                         {"learner", peer.role() == meta::PEER_ROLE_LEARNER}});
    }
    json entry = {{"id", region.id()},
                  {"state", StateName(record.state)},
                  {"epoch",
                   {{"version", region.epoch().version()},
                    {"conf_version", region.epoch().conf_version()}}},
                  // Keys are bytes: C-escaped so the output stays UTF-8.
                  {"start_key", absl::CEscape(region.start_key())},
                  {"end_key", absl::CEscape(region.end_key())},
                  {"peers", members}};
    auto it = by_region.find(region.id());
    entry["raft"] = it == by_region.end()
                        ? json(nullptr)
                        : RaftJson(*it->second, /*with_digest=*/true);
    out.push_back(entry);
  }
  return out.dump(2) + "\n";
}

}  // namespace raftstore::runtime
