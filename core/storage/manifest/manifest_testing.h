// Builders of valid region records and manifest edits for tests and fuzz
// seeds, so each test states only what it is about.
//
// Thread-safety: pure functions.
#ifndef RAFTSTORE_CORE_STORAGE_MANIFEST_MANIFEST_TESTING_H_
#define RAFTSTORE_CORE_STORAGE_MANIFEST_MANIFEST_TESTING_H_

#include <cstdint>
#include <string>

#include "proto/manifest.pb.h"

namespace raftstore::storage::manifest_testing {

// A valid RUNNING region `id` over [start_key, end_key) with one voter on
// store 1, epoch (1, 1), and the given applied index.
manifest::RegionRecord MakeRecord(uint64_t id, const std::string& start_key,
                                  const std::string& end_key,
                                  uint64_t applied_index = 0);

manifest::ManifestEdit PutEdit(const manifest::RegionRecord& record);
manifest::ManifestEdit RemoveEdit(uint64_t region_id);
manifest::ManifestEdit IdentEdit(uint64_t cluster_id, uint64_t store_id);

}  // namespace raftstore::storage::manifest_testing

#endif  // RAFTSTORE_CORE_STORAGE_MANIFEST_MANIFEST_TESTING_H_
