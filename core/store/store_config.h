// The configuration of one store (core/store/store.h): its identity, the
// raft timing its peers share, the KV state machine's bounds, and every bound
// the store itself keeps (proposals and reads in flight, apply lag, outgoing
// messages), checked by Validate() before a Store is built.
//
// Thread-safety: a plain value.
#ifndef RAFTSTORE_CORE_STORE_STORE_CONFIG_H_
#define RAFTSTORE_CORE_STORE_STORE_CONFIG_H_

#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "core/kv/kv_config.h"
#include "core/storage/manifest/snapshot_file.h"

namespace raftstore::store {

struct StoreConfig {
  // Who this store is. Both nonzero; a message batch naming another cluster
  // or another store is refused.
  uint64_t cluster_id = 0;
  uint64_t store_id = 0;

  // Raft timing and flow control shared by every peer (core/raft/raft.h).
  int election_tick = 10;
  int heartbeat_tick = 2;
  bool pre_vote = true;
  bool check_quorum = true;
  // Reads are served under the leader's lease (CheckQuorum must be on and
  // clock drift bounded) instead of a ReadIndex heartbeat round.
  bool lease_reads = false;
  uint64_t max_size_per_msg_bytes = uint64_t{1} << 20;
  size_t max_inflight_msgs = 256;
  uint64_t max_uncommitted_entries_bytes = uint64_t{64} << 20;

  // The state machine of every region.
  kv::KvConfig kv;

  // Log GC: once a region has applied this many entries past its last
  // snapshot, it snapshots its state machine (a snapshot file, then a WAL
  // record) and compacts its log to that index; the WAL releases the
  // segments no region needs any more. Followers too far behind get the
  // snapshot.
  uint64_t raft_log_gc_entries_max = 10000;
  // The size of the KV image chunks in a snapshot: at least
  // KvStateMachine::ChunkBytesMin(kv), at most snapshot_file.chunk_bytes_max.
  uint64_t snapshot_chunk_bytes = uint64_t{4} << 20;
  // How snapshot files are written and read (by the driver, with the same
  // options the store sized its chunks for).
  storage::SnapshotFileOptions snapshot_file;

  // A learner is promoted to voter only once its log is within this many
  // entries of the leader's (otherwise ServerBusy: try again later), so a
  // promotion never leaves the group waiting on a replica far behind.
  uint64_t learner_catch_up_entries_max = 64;

  // Automatic split: a leader whose region's data (keys and values) exceeds
  // region_split_bytes suggests a split at its middle key (StoreEffects::
  // split_suggestions), at most once per split_check_ticks. 0 turns it off.
  uint64_t region_split_bytes = uint64_t{96} << 20;
  uint64_t split_check_ticks = 100;

  // Merge: a source region's frozen state (its exported KV image, sessions
  // included) travels in the target's commit entry, so it is bounded: a
  // prepare whose source state is larger is refused when it applies. The
  // commit entry is at most this plus kMergeCommandOverheadBytes, which must
  // fit max_uncommitted_entries_bytes here and the WAL's
  // record_payload_bytes_max (4 MiB by default) in the driver. The store on
  // which a source replica is frozen and the target's replica leads proposes
  // the commit (or, if the target moved on, the source's rollback) at most
  // once per merge_check_ticks.
  uint64_t merge_source_bytes_max = uint64_t{2} << 20;
  uint64_t merge_check_ticks = 10;

  // A peer that has heard from no leader of its region for this many ticks
  // (a learner removed while cut off never hears again, and never sends
  // anything either) asks the region's members whether it is still one
  // (RaftMessage.check_stale), and again every as many ticks.
  uint64_t stale_peer_check_ticks = 200;

  // Regions this store holds, in every state (RegionCatalogConfig).
  size_t regions_max = 65536;

  // Backpressure: client writes proposed and not yet answered, per region
  // and for the whole store; reads waiting for a ReadIndex or for apply,
  // per region. Past a bound the answer is ServerBusy.
  size_t region_proposals_max = 1024;
  size_t store_proposals_max = 16384;
  size_t region_reads_max = 1024;
  // Committed entries not yet applied, per region; past it new writes get
  // ServerBusy so the apply path can catch up.
  uint64_t apply_lag_entries_max = 4096;
  // Callers waiting in WaitApplied, for the whole store.
  size_t applied_waiters_max = 4096;
  // A read not confirmed within this many ticks is dropped (its client has
  // timed out; the ReadIndex round was lost with a deposed leader).
  uint64_t read_wait_ticks_max = 200;

  // Raft messages queued for one destination store between two flushes;
  // beyond it further messages are dropped and counted (raft retransmits).
  size_t messages_per_store_max = 65536;
  // Messages one received batch may carry; a larger batch is refused whole.
  size_t messages_per_batch_max = 65536;

  // The backoff a ServerBusy answer suggests to the client.
  uint64_t busy_backoff_ms = 10;

  // The largest encoded merge commit command (region metas, chunk framing)
  // beyond its source chunks.
  static constexpr uint64_t kMergeCommandOverheadBytes = 64 * 1024;
  // The largest command a region's log may hold: a client write or a merge
  // commit.
  uint64_t CommandBytesMax() const;

  // OK, or kInvalidArgument naming the first field out of range.
  absl::Status Validate() const;
};

}  // namespace raftstore::store

#endif  // RAFTSTORE_CORE_STORE_STORE_CONFIG_H_
