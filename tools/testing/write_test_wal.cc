// Test helper for raftstore_cli_test.sh: writes a small WAL (two groups,
// several synced batches) and a manifest (store 4 of cluster 1: regions 7
// [a, m) and 9 [m, +inf) running, region 3 a tombstone) into a directory with
// the real storage engine on PosixDisk, and optionally flips one byte in the
// middle of the segment so that damage is followed by durable frames.
//
//   write_test_wal DIR [--corrupt]

#include <cstring>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "core/storage/manifest/manifest.h"
#include "core/storage/wal/wal.h"
#include "proto/raft.pb.h"
#include "runtime/posix_disk.h"

namespace {

void AddRegion(raftstore::manifest::ManifestEdit& edit, uint64_t id,
               const std::string& start, const std::string& end,
               raftstore::meta::RegionState state) {
  raftstore::manifest::RegionRecord* record = edit.add_put_regions();
  record->set_region_id(id);
  record->mutable_local_state()->set_format_version(1);
  record->mutable_local_state()->set_state(state);
  raftstore::meta::Region* region =
      record->mutable_local_state()->mutable_region();
  region->set_id(id);
  region->set_start_key(start);
  region->set_end_key(end);
  region->mutable_epoch()->set_version(1);
  region->mutable_epoch()->set_conf_version(1);
  for (uint64_t store = 4; store <= 6; ++store) {
    raftstore::meta::Peer* peer = region->add_peers();
    peer->set_id(id * 100 + store);
    peer->set_store_id(store);
    peer->set_role(raftstore::meta::PEER_ROLE_VOTER);
  }
}

bool WriteManifest(raftstore::storage::Disk* disk) {
  auto manifest = raftstore::storage::Manifest::Open(disk, {});
  if (!manifest.ok()) {
    std::cerr << manifest.status() << "\n";
    return false;
  }
  raftstore::manifest::ManifestEdit edit;
  edit.mutable_ident()->set_cluster_id(1);
  edit.mutable_ident()->set_store_id(4);
  AddRegion(edit, 3, "", "a", raftstore::meta::REGION_STATE_TOMBSTONE);
  AddRegion(edit, 7, "a", "m", raftstore::meta::REGION_STATE_RUNNING);
  AddRegion(edit, 9, "m", "", raftstore::meta::REGION_STATE_RUNNING);
  const absl::Status applied = (*manifest)->Apply(edit);
  if (!applied.ok()) std::cerr << applied << "\n";
  return applied.ok();
}

}  // namespace

int main(int argc, char** argv) {
  using raftstore::storage::Wal;
  if (argc < 2) {
    std::cerr << "usage: write_test_wal DIR [--corrupt]\n";
    return 2;
  }
  auto disk = raftstore::runtime::PosixDisk::Open(argv[1]);
  if (!disk.ok()) {
    std::cerr << disk.status() << "\n";
    return 2;
  }
  if (!WriteManifest(disk->get())) return 2;
  auto wal = Wal::Open(disk->get(), raftstore::storage::WalOptions{});
  if (!wal.ok()) {
    std::cerr << wal.status() << "\n";
    return 2;
  }
  for (uint64_t index = 1; index <= 20; ++index) {
    for (uint64_t group : {7, 9}) {
      raftstore::raft::Entry entry;
      entry.set_index(index);
      entry.set_term(2);
      entry.set_type(raftstore::raft::ENTRY_TYPE_NORMAL);
      entry.set_data(std::string(100, static_cast<char>('a' + index % 26)));
      std::vector<raftstore::raft::Entry> batch = {entry};
      if (!(*wal)->AppendEntries(group, batch).ok()) return 2;
      raftstore::raft::HardState hs;
      hs.set_term(2);
      hs.set_vote(1);
      hs.set_commit(index);
      if (!(*wal)->SaveHardState(group, hs).ok()) return 2;
    }
    if (!(*wal)->Sync().ok()) return 2;
  }
  const std::string segment = "wal-00000000000000000001.log";
  wal->reset();
  if (argc > 2 && std::strcmp(argv[2], "--corrupt") == 0) {
    // Flip a byte a third of the way in: later frames stay valid.
    auto size = (*disk)->Size(segment);
    if (!size.ok()) {
      std::cerr << size.status() << "\n";
      return 2;
    }
    const std::string path = std::string(argv[1]) + "/" + segment;
    FILE* file = std::fopen(path.c_str(), "r+b");
    if (file == nullptr) return 2;
    std::fseek(file, static_cast<long>(*size / 3), SEEK_SET);
    const int byte = std::fgetc(file);
    std::fseek(file, static_cast<long>(*size / 3), SEEK_SET);
    std::fputc(byte ^ 0x20, file);
    std::fclose(file);
  }
  return 0;
}
