// Test helper for raftstore_cli_test.sh: writes a small WAL (two groups,
// several synced batches) into a directory with the real storage engine on
// PosixDisk, and optionally flips one byte in the middle of the segment so
// that damage is followed by durable frames.
//
//   write_test_wal DIR [--corrupt]

#include <cstring>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "core/storage/wal/wal.h"
#include "proto/raft.pb.h"
#include "runtime/posix_disk.h"

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
