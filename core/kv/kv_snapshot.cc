// KvStateMachine's snapshot image (ExportChunks, ImportChunks), Digest and
// their canonical encodings. The image format is the SnapshotChunk message of
// proto/command.proto; docs/kv-state-machine.md describes it.

#include <isa-l/crc64.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "core/kv/command_codec.h"
#include "core/kv/kv_state_machine.h"

namespace raftstore::kv {
namespace {

using command::SessionRecord;
using command::SnapshotChunk;
using command::SnapshotHeader;
using command::StatePair;

// Upper bound of what an item costs in a chunk besides its own fields'
// payload: its tag and length in the chunk, and its fields' tags, lengths
// and integers (each at most 1 + 10 bytes).
constexpr size_t kItemOverheadBytes = 48;
// A chunk's own fields and the header of chunk 0.
constexpr size_t kChunkOverheadBytes = 128;

// Feeds a canonical encoding of the state to a CRC-64: integers as 8 bytes
// little-endian, strings prefixed by their length, so that no two states
// share an encoding.
class DigestWriter {
 public:
  void U64(uint64_t value) {
    unsigned char bytes[8];
    for (int i = 0; i < 8; ++i) {
      bytes[i] = static_cast<unsigned char>(value >> (8 * i));
    }
    crc_ = crc64_ecma_refl(crc_, bytes, sizeof(bytes));
  }
  void Bytes(std::string_view data) {
    U64(data.size());
    crc_ = crc64_ecma_refl(
        crc_, reinterpret_cast<const unsigned char*>(data.data()), data.size());
  }
  uint64_t crc() const { return crc_; }

 private:
  uint64_t crc_ = 0;
};

absl::Status ChunkError(size_t position, std::string_view what) {
  return absl::DataLossError(
      absl::StrCat("snapshot chunk ", position, ": ", std::string(what)));
}

SessionRecord ToRecord(uint64_t client_id, const Session& session) {
  SessionRecord record;
  record.set_client_id(client_id);
  record.set_last_active_ticks(session.last_active_ticks);
  record.set_first_incomplete_sequence(session.first_incomplete_sequence);
  for (const auto& [sequence, result] : session.responses) {
    command::CachedResponse* cached = record.add_responses();
    cached->set_sequence(sequence);
    *cached->mutable_result() = result;
  }
  return record;
}

// Adds an item of `item_bytes` to the last chunk, or to a new one when it
// would not fit; returns the chunk to add it to.
SnapshotChunk* ChunkWithRoom(size_t item_bytes, size_t chunk_bytes_max,
                             std::vector<SnapshotChunk>* chunks,
                             size_t* chunk_bytes) {
  const bool empty =
      chunks->back().pairs_size() == 0 && chunks->back().sessions_size() == 0;
  if (!empty && *chunk_bytes + item_bytes > chunk_bytes_max) {
    chunks->emplace_back();
    *chunk_bytes = kChunkOverheadBytes;
  }
  *chunk_bytes += item_bytes;
  return &chunks->back();
}

}  // namespace

size_t KvStateMachine::ChunkBytesMin(const KvConfig& config) {
  const size_t pair_bytes_max =
      config.key_bytes_max + config.value_bytes_max + kItemOverheadBytes;
  const size_t session_bytes_max =
      config.session_response_bytes_max +
      (config.session_responses_max + 1) * kItemOverheadBytes;
  return std::max(pair_bytes_max, session_bytes_max) + kChunkOverheadBytes;
}

uint64_t KvStateMachine::Digest() const {
  DigestWriter writer;
  writer.Bytes("raftstore.kv.digest.1");
  writer.U64(applied_index_);
  writer.U64(clock_ticks_);
  writer.U64(data_.size());
  for (const auto& [key, value] : data_) {
    writer.Bytes(key);
    writer.Bytes(value);
  }
  writer.U64(sessions_.size());
  for (const auto& [client_id, session] : sessions_.sessions()) {
    writer.U64(client_id);
    writer.U64(session.last_active_ticks);
    writer.U64(session.first_incomplete_sequence);
    writer.U64(session.responses.size());
    for (const auto& [sequence, result] : session.responses) {
      writer.U64(sequence);
      // Serialisation of a message without map fields is deterministic.
      writer.Bytes(result.SerializeAsString());
    }
  }
  return writer.crc();
}

std::vector<std::string> KvStateMachine::ExportChunks(
    size_t chunk_bytes_max) const {
  RS_CHECK_GE(chunk_bytes_max, ChunkBytesMin(config_));
  std::vector<SnapshotChunk> chunks(1);
  size_t chunk_bytes = kChunkOverheadBytes;
  for (const auto& [key, value] : data_) {
    SnapshotChunk* chunk =
        ChunkWithRoom(key.size() + value.size() + kItemOverheadBytes,
                      chunk_bytes_max, &chunks, &chunk_bytes);
    StatePair* pair = chunk->add_pairs();
    pair->set_key(key);
    pair->set_value(value);
  }
  for (const auto& [client_id, session] : sessions_.sessions()) {
    SessionRecord record = ToRecord(client_id, session);
    SnapshotChunk* chunk =
        ChunkWithRoom(record.ByteSizeLong() + kItemOverheadBytes,
                      chunk_bytes_max, &chunks, &chunk_bytes);
    *chunk->add_sessions() = std::move(record);
  }
  SnapshotHeader* header = chunks.front().mutable_header();
  header->set_applied_index(applied_index_);
  header->set_clock_ticks(clock_ticks_);
  header->set_chunk_count(chunks.size());
  header->set_pair_count(data_.size());
  header->set_session_count(sessions_.size());
  header->set_digest(Digest());
  std::vector<std::string> out;
  out.reserve(chunks.size());
  for (size_t i = 0; i < chunks.size(); ++i) {
    chunks[i].set_format_version(kSnapshotChunkFormatVersion);
    chunks[i].set_chunk_index(i);
    out.push_back(chunks[i].SerializeAsString());
    RS_CHECK_LE(out.back().size(), chunk_bytes_max) << "chunk " << i;
  }
  return out;
}

absl::Status KvStateMachine::ImportChunks(std::span<const std::string> chunks,
                                          uint64_t applied_index) {
  if (chunks.empty()) {
    return absl::InvalidArgumentError("snapshot image has no chunks");
  }
  // Everything is built in `target` and moved in only once it all checks
  // out, so an error leaves this state machine as it was.
  KvStateMachine target(config_);
  SnapshotHeader header;
  for (size_t i = 0; i < chunks.size(); ++i) {
    absl::Status status = ImportChunk(i, chunks[i], &header, &target);
    if (!status.ok()) return status;
  }
  if (header.chunk_count() != chunks.size()) {
    return ChunkError(0, absl::StrCat("header says ", header.chunk_count(),
                                      " chunks, ", chunks.size(), " given"));
  }
  if (header.applied_index() != applied_index) {
    return absl::InvalidArgumentError(absl::StrCat(
        "snapshot image is of applied index ", header.applied_index(),
        ", the raft snapshot's is ", applied_index));
  }
  if (header.pair_count() != target.data_.size() ||
      header.session_count() != target.sessions_.size()) {
    return ChunkError(
        0, absl::StrCat("header says ", header.pair_count(), " pairs and ",
                        header.session_count(), " sessions, the chunks hold ",
                        target.data_.size(), " and ", target.sessions_.size()));
  }
  const uint64_t digest = target.Digest();
  if (digest != header.digest()) {
    return ChunkError(0, absl::StrCat("digest of the image is ", digest,
                                      ", the header says ", header.digest()));
  }
  *this = std::move(target);
  return absl::OkStatus();
}

absl::Status KvStateMachine::ImportChunk(size_t position,
                                         const std::string& bytes,
                                         SnapshotHeader* header,
                                         KvStateMachine* target) const {
  SnapshotChunk chunk;
  if (!chunk.ParseFromString(bytes)) {
    return ChunkError(
        position, absl::StrCat("does not parse (", bytes.size(), " bytes)"));
  }
  if (chunk.format_version() == 0) {
    return ChunkError(position, "has no format_version");
  }
  if (chunk.format_version() > kSnapshotChunkFormatVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat("snapshot chunk ", position, ": format_version ",
                     chunk.format_version(), " is newer than this binary's ",
                     kSnapshotChunkFormatVersion));
  }
  if (chunk.chunk_index() != position) {
    return ChunkError(position,
                      absl::StrCat("says it is chunk ", chunk.chunk_index()));
  }
  if (chunk.has_header() != (position == 0)) {
    return ChunkError(position, position == 0
                                    ? "has no header"
                                    : "has a header (only chunk 0 may)");
  }
  if (position == 0) {
    *header = chunk.header();
    target->applied_index_ = header->applied_index();
    target->clock_ticks_ = header->clock_ticks();
  }
  for (int i = 0; i < chunk.pairs_size(); ++i) {
    const StatePair& pair = chunk.pairs(i);
    const std::string where = absl::StrCat("pair ", i);
    if (target->sessions_.size() > 0) {
      return ChunkError(position, where + " comes after sessions");
    }
    if (pair.key().empty() || pair.key().size() > config_.key_bytes_max ||
        pair.value().size() > config_.value_bytes_max) {
      return ChunkError(position, where + " exceeds the key or value bound");
    }
    if (!target->data_.empty() && pair.key() <= target->data_.rbegin()->first) {
      return ChunkError(position, where + " is not above the previous key");
    }
    target->data_bytes_ += pair.key().size() + pair.value().size();
    target->data_.emplace_hint(target->data_.end(), pair.key(), pair.value());
  }
  for (int i = 0; i < chunk.sessions_size(); ++i) {
    absl::Status status = ImportSession(position, chunk.sessions(i), target);
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::Status KvStateMachine::ImportSession(size_t position,
                                           const SessionRecord& record,
                                           KvStateMachine* target) const {
  const std::string where = absl::StrCat("session ", record.client_id());
  const auto& existing = target->sessions_.sessions();
  if (record.client_id() == 0 ||
      (!existing.empty() && record.client_id() <= existing.rbegin()->first)) {
    return ChunkError(position, where + " is not above the previous client");
  }
  if (existing.size() >= config_.sessions_max) {
    return ChunkError(position, where + " exceeds sessions_max");
  }
  if (record.first_incomplete_sequence() == 0 ||
      record.last_active_ticks() > target->clock_ticks_ ||
      static_cast<size_t>(record.responses_size()) >
          config_.session_responses_max) {
    return ChunkError(position, where + " has fields out of bounds");
  }
  Session session;
  session.last_active_ticks = record.last_active_ticks();
  session.first_incomplete_sequence = record.first_incomplete_sequence();
  for (const command::CachedResponse& cached : record.responses()) {
    const uint64_t last = session.responses.empty()
                              ? session.first_incomplete_sequence - 1
                              : session.responses.rbegin()->first;
    if (cached.sequence() <= last) {
      return ChunkError(position,
                        absl::StrCat(where, " response ", cached.sequence(),
                                     " is out of order"));
    }
    if (cached.result().outcome() != command::OUTCOME_APPLIED ||
        cached.result().op_result_case() ==
            command::CommandResult::OP_RESULT_NOT_SET) {
      return ChunkError(position,
                        absl::StrCat(where, " response ", cached.sequence(),
                                     " is not an applied result"));
    }
    session.Remember(cached.sequence(), cached.result());
  }
  if (session.response_bytes > config_.session_response_bytes_max) {
    return ChunkError(position, where + " exceeds session_response_bytes_max");
  }
  target->sessions_.Insert(record.client_id(), std::move(session));
  return absl::OkStatus();
}

}  // namespace raftstore::kv
