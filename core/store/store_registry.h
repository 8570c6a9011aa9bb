// The stores a process runs, by id, for tools (stats, regions) and tests to
// find them. An object the process owns and passes around: there is no
// global registry, so two simulated clusters in one process never see each
// other's stores.
//
// Thread-safety: none; used from the thread that owns the stores.
#ifndef RAFTSTORE_CORE_STORE_STORE_REGISTRY_H_
#define RAFTSTORE_CORE_STORE_STORE_REGISTRY_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/status/status.h"
#include "core/store/store.h"

namespace raftstore::store {

class StoreRegistry {
 public:
  // A process runs one store in production and a handful in the simulator.
  static constexpr size_t kStoresMax = 1024;

  // Lists `store` (not owned; it must stay alive until Unregister) under its
  // id. Errors: kInvalidArgument for null; kAlreadyExists when a store of
  // that id is listed; kResourceExhausted beyond kStoresMax.
  absl::Status Register(Store* store);
  // Unlists store_id (a store that stopped or crashed). kNotFound if absent.
  absl::Status Unregister(uint64_t store_id);

  // The live store of that id, or null.
  Store* Find(uint64_t store_id) const;
  // Every live store, ascending id.
  std::vector<Store*> List() const;
  size_t size() const { return stores_.size(); }

 private:
  absl::btree_map<uint64_t, Store*> stores_;
};

}  // namespace raftstore::store

#endif  // RAFTSTORE_CORE_STORE_STORE_REGISTRY_H_
