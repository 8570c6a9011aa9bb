#include "core/store/store_registry.h"

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace raftstore::store {

absl::Status StoreRegistry::Register(Store* store) {
  if (store == nullptr) {
    return absl::InvalidArgumentError("store registry: null store");
  }
  if (stores_.contains(store->store_id())) {
    return absl::AlreadyExistsError(absl::StrCat(
        "store registry: store ", store->store_id(), " is already listed"));
  }
  if (stores_.size() >= kStoresMax) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "store registry: already lists kStoresMax = ", kStoresMax, " stores"));
  }
  stores_[store->store_id()] = store;
  return absl::OkStatus();
}

absl::Status StoreRegistry::Unregister(uint64_t store_id) {
  if (stores_.erase(store_id) == 0) {
    return absl::NotFoundError(
        absl::StrCat("store registry: store ", store_id, " is not listed"));
  }
  return absl::OkStatus();
}

Store* StoreRegistry::Find(uint64_t store_id) const {
  auto it = stores_.find(store_id);
  return it == stores_.end() ? nullptr : it->second;
}

std::vector<Store*> StoreRegistry::List() const {
  std::vector<Store*> stores;
  stores.reserve(stores_.size());
  for (const auto& [id, store] : stores_) stores.push_back(store);
  return stores;
}

}  // namespace raftstore::store
