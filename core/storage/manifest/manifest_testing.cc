#include "core/storage/manifest/manifest_testing.h"

#include <cstdint>
#include <string>

#include "core/storage/manifest/manifest_codec.h"

namespace raftstore::storage::manifest_testing {

manifest::RegionRecord MakeRecord(uint64_t id, const std::string& start_key,
                                  const std::string& end_key,
                                  uint64_t applied_index) {
  manifest::RegionRecord record;
  record.set_region_id(id);
  meta::RegionLocalState* local = record.mutable_local_state();
  local->set_format_version(kRegionLocalStateFormatVersion);
  local->set_state(meta::REGION_STATE_RUNNING);
  meta::Region* region = local->mutable_region();
  region->set_id(id);
  region->set_start_key(start_key);
  region->set_end_key(end_key);
  region->mutable_epoch()->set_version(1);
  region->mutable_epoch()->set_conf_version(1);
  meta::Peer* peer = region->add_peers();
  peer->set_id(id * 10 + 1);
  peer->set_store_id(1);
  peer->set_role(meta::PEER_ROLE_VOTER);
  record.mutable_log()->set_applied_index(applied_index);
  return record;
}

manifest::ManifestEdit PutEdit(const manifest::RegionRecord& record) {
  manifest::ManifestEdit edit;
  *edit.add_put_regions() = record;
  return edit;
}

manifest::ManifestEdit RemoveEdit(uint64_t region_id) {
  manifest::ManifestEdit edit;
  edit.add_removed_region_ids(region_id);
  return edit;
}

manifest::ManifestEdit IdentEdit(uint64_t cluster_id, uint64_t store_id) {
  manifest::ManifestEdit edit;
  edit.mutable_ident()->set_cluster_id(cluster_id);
  edit.mutable_ident()->set_store_id(store_id);
  return edit;
}

}  // namespace raftstore::storage::manifest_testing
