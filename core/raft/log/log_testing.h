// Builders shared by the tests of this package: entries, snapshots and
// compact (index, term) views of them. Test only.
#ifndef RAFTSTORE_CORE_RAFT_LOG_LOG_TESTING_H_
#define RAFTSTORE_CORE_RAFT_LOG_LOG_TESTING_H_

#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/raft/log/storage.h"
#include "proto/raft.pb.h"

namespace raftstore::raft::log_testing {

// A NORMAL entry at (index, term).
inline Entry MakeEntry(uint64_t index, uint64_t term, std::string data = "") {
  Entry entry;
  entry.set_index(index);
  entry.set_term(term);
  entry.set_type(ENTRY_TYPE_NORMAL);
  entry.set_data(std::move(data));
  return entry;
}

// A snapshot of the current format at (index, term), with no membership.
inline raft::Snapshot MakeSnapshot(uint64_t index, uint64_t term) {
  raft::Snapshot snapshot;
  snapshot.mutable_metadata()->set_format_version(kSnapshotFormatVersion);
  snapshot.mutable_metadata()->set_index(index);
  snapshot.mutable_metadata()->set_term(term);
  return snapshot;
}

// (index, term) pairs, for compact comparisons.
using Ids = std::vector<std::pair<uint64_t, uint64_t>>;

inline Ids IdsOf(std::span<const Entry> entries) {
  Ids ids;
  ids.reserve(entries.size());
  for (const Entry& entry : entries) {
    ids.emplace_back(entry.index(), entry.term());
  }
  return ids;
}

inline std::vector<Entry> MakeEntries(const Ids& ids) {
  std::vector<Entry> entries;
  entries.reserve(ids.size());
  for (const auto& [index, term] : ids) {
    entries.push_back(MakeEntry(index, term));
  }
  return entries;
}

}  // namespace raftstore::raft::log_testing

#endif  // RAFTSTORE_CORE_RAFT_LOG_LOG_TESTING_H_
