// A small deterministic harness of several stores (core/store) in one
// process, for the store's unit and scenario tests: each store runs the real
// storage engine (core/storage WAL and manifest) on its own SimDisk, writes
// are made durable at once (StageWriteBatch + Wal::Sync, then OnPersisted;
// then stale snapshot files and WAL segments are collected), and
// message batches travel through a FIFO that can cut a store off. A crash
// drops the store's memory and whatever its SimDisk had not synced; a start
// recovers from the manifest and the WAL, as a real node does.
//
// It is not the simulator (sim/): no latencies, no fault schedule, no
// checkers beyond what a test asserts. Thread-safety: none.
#ifndef RAFTSTORE_TESTS_STORE_STORE_HARNESS_H_
#define RAFTSTORE_TESTS_STORE_STORE_HARNESS_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "core/storage/manifest/manifest.h"
#include "core/storage/wal/wal.h"
#include "core/store/store.h"
#include "proto/kvrpc.pb.h"
#include "proto/region.pb.h"
#include "sim/disk.h"

namespace raftstore::store::testing {

inline constexpr uint64_t kClusterId = 42;

// `count` regions splitting the key space at "k<i*1000/count>" (3 digits),
// each with one voter on every store 1..stores; peer id = region * 100 +
// store; epoch {1, 1}. A harness may run more stores than hold peers.
std::vector<meta::Region> MakeRegions(int count, int stores);

// The peer id of `region_id` on `store_id`, as MakeRegions numbers them.
inline uint64_t PeerIdOf(uint64_t region_id, uint64_t store_id) {
  return region_id * 100 + store_id;
}

// What one store's node recorded about its writes and message batches.
struct NodeCounters {
  uint64_t writes = 0;
  uint64_t syncs = 0;
  size_t regions_per_write_max = 0;
  size_t messages_per_batch_max = 0;
  uint64_t snapshots_written = 0;
  uint64_t manifest_edits = 0;
  uint64_t split_suggestions = 0;
  uint64_t segments_removed = 0;
};

// 16 KiB segments with read-back verification.
storage::WalOptions WalOptionsForTests();

class StoreHarness {
 public:
  StoreHarness(int stores, std::vector<meta::Region> regions,
               const StoreConfig& base, uint64_t seed);
  ~StoreHarness();

  // Starts a store that is down (first start bootstraps its manifest).
  // Returns the Open error, if any.
  absl::Status Start(uint64_t store_id);
  // kill -9: memory gone, unsynced disk data dropped or torn.
  void Crash(uint64_t store_id);
  // Drops every batch to or from the store while isolated.
  void Isolate(uint64_t store_id, bool isolated);

  Store* store(uint64_t store_id) const;
  const NodeCounters& counters(uint64_t store_id) const;
  sim::SimDisk& disk(uint64_t store_id) { return *node(store_id).disk; }
  storage::Wal* wal(uint64_t store_id) { return node(store_id).wal.get(); }
  storage::Manifest* manifest(uint64_t store_id) {
    return node(store_id).manifest.get();
  }

  // Hands `request` to the store now; returns the token its reply will
  // carry. Nothing is processed until Pump.
  uint64_t Submit(uint64_t store_id, const kv::KvRequest& request);
  // The reply for `token`, once it came (taken out).
  std::optional<kv::KvResponse> TakeReply(uint64_t token);

  // Admin commands, as Submit / TakeReply.
  uint64_t SubmitAdmin(uint64_t store_id, const AdminRequest& request);
  std::optional<AdminResponse> TakeAdminReply(uint64_t token);
  // Sends `request` to the region's leader with the leader's current epoch,
  // ticking until the answer (retrying on NotLeader).
  std::optional<AdminResponse> CallAdmin(AdminRequest request,
                                         int ticks_max = 1000);

  // WaitApplied notices, by reply_to token.
  uint64_t WaitApplied(uint64_t store_id, uint64_t region_id, uint64_t index);
  std::optional<AppliedNotice> TakeAppliedNotice(uint64_t token);

  // Processes effects and delivers messages until nothing moves (bounded).
  void Pump();
  // One tick on every live store, then Pump.
  void Tick();
  // Ticks until `done()` or `ticks_max` ticks; returns whether done() said
  // true (it is called once per check, so it may consume what it finds).
  bool RunUntil(const std::function<bool()>& done, int ticks_max);

  // The store whose peer leads region_id (0 if none is known yet).
  uint64_t LeaderStore(uint64_t region_id) const;
  // The region a live leader serves `key` from (else any store's view; 0 if
  // none).
  uint64_t RegionOf(const std::string& key) const;
  // Every region some live store routes (New or Running), ascending.
  std::vector<uint64_t> RegionIds() const;
  // A region id never used before (the cluster's id allocator).
  uint64_t AllocateRegionId();
  // The WAL options stores open with (default WalOptionsForTests()); set
  // before Start.
  void set_wal_options(const storage::WalOptions& options) {
    wal_options_ = options;
  }
  // A one-shot crash point between the driver's steps: when `crash` returns
  // true for a store's effects, the store crashes right after applying the
  // manifest edit, before the write is staged.
  void CrashAfterManifestWhen(
      std::function<bool(uint64_t store_id, const StoreEffects&)> crash) {
    crash_after_manifest_ = std::move(crash);
  }
  // The observer every store opens with from now on (not owned; null for
  // none).
  void set_observer(StoreObserver* observer) { observer_ = observer; }
  // Whether split suggestions are submitted as splits at once.
  void set_auto_split(bool on) { auto_split_ = on; }

  // Ticks until every region has a leader; returns whether they all do.
  bool WaitForLeaders(int ticks_max = 2000);

  // Submits to the leader of the key's region, ticking until the reply
  // comes (retrying on NotLeader); the last reply, or nullopt after
  // ticks_max.
  std::optional<kv::KvResponse> Call(const kv::KvRequest& request,
                                     int ticks_max = 1000);

 private:
  struct Node {
    uint64_t id = 0;
    std::unique_ptr<sim::SimDisk> disk;
    std::unique_ptr<storage::Manifest> manifest;
    std::unique_ptr<storage::Wal> wal;
    std::unique_ptr<Store> store;
    bool isolated = false;
    NodeCounters counters;
  };
  struct InFlight {
    uint64_t to = 0;
    RaftMessageBatch batch;
  };

  Node& node(uint64_t store_id);
  const Node& node(uint64_t store_id) const;
  // Drives one store's effects; returns whether anything happened.
  bool Drive(Node& n);

  std::vector<meta::Region> regions_;
  StoreConfig base_;
  Rng rng_;
  std::vector<Node> nodes_;
  std::deque<InFlight> network_;
  absl::btree_map<uint64_t, kv::KvResponse> replies_;
  absl::btree_map<uint64_t, AdminResponse> admin_replies_;
  absl::btree_map<uint64_t, AppliedNotice> applied_notices_;
  uint64_t next_token_ = 0;
  uint64_t next_region_id_ = 1000;
  bool auto_split_ = false;
  StoreObserver* observer_ = nullptr;
  std::function<bool(uint64_t, const StoreEffects&)> crash_after_manifest_;
  storage::WalOptions wal_options_ = WalOptionsForTests();
};

// Request builders.
kv::KvRequest PutRequest(const std::string& key, const std::string& value,
                         uint64_t client_id, uint64_t sequence);
kv::KvRequest GetRequest(const std::string& key);
kv::KvRequest ScanRequest(const std::string& start, const std::string& end,
                          uint32_t limit);
kv::KvRequest CasRequest(const std::string& key, const std::string& expected,
                         const std::string& value, uint64_t client_id,
                         uint64_t sequence);

// The error of any response kind (a default instance if none).
const kv::Error& ErrorOf(const kv::KvResponse& response);

}  // namespace raftstore::store::testing

#endif  // RAFTSTORE_TESTS_STORE_STORE_HARNESS_H_
