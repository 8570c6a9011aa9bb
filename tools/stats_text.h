// The text form of `raftstore stats`, shared by its two sources: a data
// directory (`--workdir`, workdir_commands.cc) and a running node's admin
// endpoint (`--addr`, stats_addr_command.cc). Both build the same JSON
// shape (runtime/admin_pages.h: /stats is a superset of `stats --workdir
// --json`), so one printer keeps their common lines identical.
//
// Thread-safety: writes to std::cout; the CLI's main thread only.
#ifndef RAFTSTORE_TOOLS_STATS_TEXT_H_
#define RAFTSTORE_TOOLS_STATS_TEXT_H_

#include "nlohmann/json.hpp"

namespace raftstore::tools {

// Prints the store and cluster ids, regions by state, the WAL and one line
// per raft group (with the applied index and role when `stats` has them).
// Precondition: `stats` has `wal` (segments, bytes, records, damage) and
// `raft_groups` (each with region_id, term, snapshot_index,
// truncated_index, commit_index, last_index); `store_id`/`cluster_id` and
// `regions` (total, new, running, removing, tombstone, other) are printed
// when present. Callers check a shape they did not build themselves.
void PrintStatsText(const nlohmann::json& stats);

}  // namespace raftstore::tools

#endif  // RAFTSTORE_TOOLS_STATS_TEXT_H_
