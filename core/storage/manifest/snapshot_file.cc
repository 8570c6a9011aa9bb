#include "core/storage/manifest/snapshot_file.h"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/base/check.h"
#include "core/storage/crc32c.h"
#include "core/storage/manifest/frame.h"
#include "core/storage/manifest/manifest_format.h"

namespace raftstore::storage {
namespace {

using manifest::SnapshotFileHeader;

std::string At(const std::string& name, uint64_t offset) {
  return absl::StrCat(name, " at offset ", offset, ": ");
}

bool ParseDecimal(std::string_view text, uint64_t* value) {
  for (const char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return !text.empty() &&
         absl::SimpleAtoi(absl::string_view(text.data(), text.size()), value);
}

absl::Status ValidateHeaderForWrite(const SnapshotFileHeader& header) {
  if (header.region_id() == 0) {
    return absl::InvalidArgumentError("snapshot header has region_id 0");
  }
  if (header.region().id() != header.region_id()) {
    return absl::InvalidArgumentError(
        absl::StrCat("snapshot header for region ", header.region_id(),
                     " carries region meta of region ", header.region().id()));
  }
  if (header.metadata().format_version() != kSnapshotMetadataFormatVersion) {
    return absl::InvalidArgumentError(
        absl::StrCat("snapshot metadata format_version is ",
                     header.metadata().format_version(), ", expected ",
                     kSnapshotMetadataFormatVersion));
  }
  if (header.metadata().index() == 0) {
    return absl::InvalidArgumentError("snapshot metadata index is 0");
  }
  return absl::OkStatus();
}

// The whole file image but the footer, and the footer.
absl::StatusOr<std::string> EncodeSnapshotBody(
    const SnapshotFileHeader& given, std::span<const std::string> chunks,
    const SnapshotFileOptions& options) {
  if (absl::Status s = ValidateHeaderForWrite(given); !s.ok()) return s;
  if (chunks.size() > options.chunk_count_max) {
    return absl::InvalidArgumentError(absl::StrCat(
        chunks.size(),
        " chunks, more than chunk_count_max = ", options.chunk_count_max));
  }
  SnapshotFileHeader header = given;
  header.set_format_version(kSnapshotFileFormatVersion);
  header.set_chunk_count(chunks.size());
  uint64_t total_bytes = 0;
  for (size_t i = 0; i < chunks.size(); ++i) {
    if (chunks[i].size() > options.chunk_bytes_max) {
      return absl::InvalidArgumentError(absl::StrCat(
          "chunk ", i, " is ", chunks[i].size(),
          " bytes, more than chunk_bytes_max = ", options.chunk_bytes_max));
    }
    total_bytes += chunks[i].size();
  }
  header.set_total_bytes(total_bytes);
  const std::string header_bytes = header.SerializeAsString();
  if (header_bytes.size() > kSnapshotFileHeaderBytesMax) {
    return absl::InvalidArgumentError(
        absl::StrCat("snapshot header is ", header_bytes.size(),
                     " bytes, more than ", kSnapshotFileHeaderBytesMax));
  }
  std::string out =
      EncodePreamble(kSnapshotFileMagic, kSnapshotFileFormatVersion);
  AppendFrame(&out, header_bytes);
  return out;
}

std::string EncodeFooter(uint32_t crc) {
  std::string footer(kSnapshotFileFooterMagic);
  PutFixed32(&footer, MaskCrc(crc));
  RS_CHECK_EQ(footer.size(), kSnapshotFileFooterBytes);
  return footer;
}

// Writes the temporary file in full and syncs it.
absl::Status WriteTemp(Disk* disk, const std::string& temp,
                       const std::string& head,
                       std::span<const std::string> chunks) {
  if (absl::Status s = disk->Create(temp); !s.ok()) return s;
  if (absl::Status s = disk->Append(temp, head); !s.ok()) return s;
  uint32_t crc = Crc32c(head);
  for (const std::string& chunk : chunks) {
    std::string frame;
    AppendFrame(&frame, chunk);
    crc = Crc32cExtend(crc, frame);
    if (absl::Status s = disk->Append(temp, frame); !s.ok()) return s;
  }
  if (absl::Status s = disk->Append(temp, EncodeFooter(crc)); !s.ok()) {
    return s;
  }
  return disk->Sync(temp);
}

// Removes `name` if it exists. kNotFound is not an error here.
absl::Status RemoveIfExists(Disk* disk, const std::string& name) {
  const absl::Status s = disk->Remove(name);
  return absl::IsNotFound(s) ? absl::OkStatus() : s;
}

}  // namespace

absl::Status ValidateSnapshotFileOptions(const SnapshotFileOptions& options) {
  if (options.chunk_bytes_max < 1 ||
      options.chunk_bytes_max > kSnapshotFileChunkBytesLimit) {
    return absl::InvalidArgumentError(absl::StrCat(
        "SnapshotFileOptions.chunk_bytes_max is ", options.chunk_bytes_max,
        "; it must be in [1, ", kSnapshotFileChunkBytesLimit, "]"));
  }
  if (options.chunk_count_max < 1 || options.file_bytes_max < 1) {
    return absl::InvalidArgumentError(
        "SnapshotFileOptions.chunk_count_max and file_bytes_max must be at "
        "least 1");
  }
  return absl::OkStatus();
}

std::string SnapshotFileName(const SnapshotFileId& id) {
  return absl::StrCat(std::string(kSnapshotFilePrefix), id.region_id, "-",
                      id.term, "-", id.index, std::string(kSnapshotFileSuffix));
}

std::optional<SnapshotFileId> ParseSnapshotFileName(std::string_view name) {
  if (name.size() <= kSnapshotFilePrefix.size() + kSnapshotFileSuffix.size() ||
      name.substr(0, kSnapshotFilePrefix.size()) != kSnapshotFilePrefix ||
      name.substr(name.size() - kSnapshotFileSuffix.size()) !=
          kSnapshotFileSuffix) {
    return std::nullopt;
  }
  const std::string_view middle = name.substr(
      kSnapshotFilePrefix.size(),
      name.size() - kSnapshotFilePrefix.size() - kSnapshotFileSuffix.size());
  const std::vector<absl::string_view> parts =
      absl::StrSplit(absl::string_view(middle.data(), middle.size()), '-');
  SnapshotFileId id;
  if (parts.size() != 3 ||
      !ParseDecimal(std::string_view(parts[0].data(), parts[0].size()),
                    &id.region_id) ||
      !ParseDecimal(std::string_view(parts[1].data(), parts[1].size()),
                    &id.term) ||
      !ParseDecimal(std::string_view(parts[2].data(), parts[2].size()),
                    &id.index)) {
    return std::nullopt;
  }
  // Only the canonical spelling (no leading zeros) is ours.
  if (SnapshotFileName(id) != name) return std::nullopt;
  return id;
}

absl::Status WriteSnapshotFile(Disk* disk, const std::string& name,
                               const SnapshotFileHeader& header,
                               std::span<const std::string> chunks,
                               const SnapshotFileOptions& options) {
  if (absl::Status s = ValidateSnapshotFileOptions(options); !s.ok()) return s;
  const std::string temp = name + std::string(kTempFileSuffix);
  if (absl::Status s = ValidateFileName(temp); !s.ok()) return s;
  absl::StatusOr<std::string> head =
      EncodeSnapshotBody(header, chunks, options);
  if (!head.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": ", head.status().message()));
  }
  // A leftover of a crashed write would make Create fail.
  if (absl::Status s = RemoveIfExists(disk, temp); !s.ok()) return s;
  absl::Status status = WriteTemp(disk, temp, *head, chunks);
  // Rename only a synced file: a crash then leaves `name` old or whole.
  if (status.ok()) status = disk->Rename(temp, name);
  if (status.ok()) return disk->SyncDir();
  const absl::Status cleanup = RemoveIfExists(disk, temp);
  if (cleanup.ok()) return status;
  return absl::Status(status.code(),
                      absl::StrCat(status.message(), "; and removing ", temp,
                                   " failed too: ", cleanup.message()));
}

std::string_view SnapshotFile::chunk(size_t i) const {
  RS_CHECK_LT(i, chunks_.size());
  return std::string_view(bytes_).substr(chunks_[i].first, chunks_[i].second);
}

namespace {

// The header's promises about itself and about the file, checked before any
// chunk is looked at.
absl::Status CheckReadHeader(const std::string& name,
                             const SnapshotFileHeader& header,
                             uint32_t file_version, uint64_t file_bytes,
                             const SnapshotFileOptions& options) {
  const std::string where = At(name, kPreambleBytes);
  if (header.format_version() != file_version) {
    return absl::DataLossError(
        absl::StrCat(where, "header format_version ", header.format_version(),
                     " differs from the preamble's ", file_version));
  }
  if (header.metadata().format_version() > kSnapshotMetadataFormatVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        where, "snapshot metadata format_version ",
        header.metadata().format_version(), " is newer than this binary's ",
        kSnapshotMetadataFormatVersion));
  }
  if (header.metadata().format_version() != kSnapshotMetadataFormatVersion ||
      header.metadata().index() == 0) {
    return absl::DataLossError(
        absl::StrCat(where, "snapshot metadata has format_version ",
                     header.metadata().format_version(), " and index ",
                     header.metadata().index(), ", which no writer produces"));
  }
  if (header.region_id() == 0 || header.region().id() != header.region_id()) {
    return absl::DataLossError(absl::StrCat(
        where, "header region_id ", header.region_id(),
        " does not match its region meta (id ", header.region().id(), ")"));
  }
  if (header.chunk_count() > options.chunk_count_max) {
    return absl::DataLossError(absl::StrCat(
        where, "header says ", header.chunk_count(),
        " chunks, more than chunk_count_max = ", options.chunk_count_max));
  }
  if (header.chunk_count() > file_bytes / kFrameHeaderBytes ||
      header.total_bytes() > file_bytes) {
    return absl::DataLossError(absl::StrCat(
        where, "header says ", header.chunk_count(), " chunks of ",
        header.total_bytes(), " bytes, more than the file's ", file_bytes));
  }
  return absl::OkStatus();
}

// Checks the chunk frames from `offset` on and records where each lies.
absl::Status ReadChunks(const std::string& name, std::string_view bytes,
                        uint64_t offset, const SnapshotFileHeader& header,
                        const SnapshotFileOptions& options,
                        std::vector<std::pair<uint64_t, uint64_t>>* chunks) {
  for (uint64_t i = 0; i < header.chunk_count(); ++i) {
    const FrameView frame = ReadFrame(bytes, offset, options.chunk_bytes_max);
    if (frame.status != FrameStatus::kOk) {
      return absl::DataLossError(
          absl::StrCat(At(name, offset), "chunk ", i, ": ",
                       std::string(FrameStatusName(frame.status))));
    }
    chunks->emplace_back(offset + kFrameHeaderBytes, frame.length);
    offset += FrameBytes(frame.length);
  }
  return absl::OkStatus();
}

absl::Status CheckFooter(const std::string& name, std::string_view bytes,
                         uint64_t offset) {
  if (bytes.size() != offset + kSnapshotFileFooterBytes) {
    return absl::DataLossError(
        absl::StrCat(At(name, offset), "the chunks end here but the file is ",
                     bytes.size(), " bytes"));
  }
  if (bytes.substr(offset, kMagicBytes) != kSnapshotFileFooterMagic) {
    return absl::DataLossError(
        absl::StrCat(At(name, offset), "wrong footer magic"));
  }
  const uint32_t stored = GetFixed32(bytes.substr(offset + kMagicBytes, 4));
  if (UnmaskCrc(stored) != Crc32c(bytes.substr(0, offset))) {
    return absl::DataLossError(
        absl::StrCat(At(name, offset + kMagicBytes), "file checksum mismatch"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<SnapshotFile> DecodeSnapshotFile(
    const std::string& name, std::string bytes,
    const SnapshotFileOptions& options) {
  if (absl::Status s = ValidateSnapshotFileOptions(options); !s.ok()) return s;
  absl::StatusOr<uint32_t> version = DecodePreamble(
      name, bytes, kSnapshotFileMagic, kSnapshotFileFormatVersion);
  if (!version.ok()) return version.status();
  const FrameView frame =
      ReadFrame(bytes, kPreambleBytes, kSnapshotFileHeaderBytesMax);
  if (frame.status != FrameStatus::kOk) {
    return absl::DataLossError(
        absl::StrCat(At(name, kPreambleBytes),
                     "header: ", std::string(FrameStatusName(frame.status))));
  }
  SnapshotFile file;
  if (!file.header_.ParseFromArray(frame.payload.data(),
                                   static_cast<int>(frame.payload.size()))) {
    return absl::DataLossError(absl::StrCat(
        At(name, kPreambleBytes),
        "the checksum holds but the header is not a SnapshotFileHeader"));
  }
  if (absl::Status s =
          CheckReadHeader(name, file.header_, *version, bytes.size(), options);
      !s.ok()) {
    return s;
  }
  const uint64_t chunks_start = kPreambleBytes + FrameBytes(frame.length);
  const uint64_t expected =
      chunks_start + file.header_.chunk_count() * kFrameHeaderBytes +
      file.header_.total_bytes() + kSnapshotFileFooterBytes;
  if (bytes.size() != expected) {
    return absl::DataLossError(absl::StrCat(
        name, " is ", bytes.size(), " bytes but its header describes ",
        expected, bytes.size() < expected ? " (truncated)" : " (extended)"));
  }
  if (absl::Status s = ReadChunks(name, bytes, chunks_start, file.header_,
                                  options, &file.chunks_);
      !s.ok()) {
    return s;
  }
  uint64_t offset = chunks_start;
  for (const auto& chunk : file.chunks_) offset = chunk.first + chunk.second;
  if (absl::Status s = CheckFooter(name, bytes, offset); !s.ok()) return s;
  file.bytes_ = std::move(bytes);
  return file;
}

absl::StatusOr<SnapshotFile> ReadSnapshotFile(
    Disk* disk, const std::string& name, const SnapshotFileOptions& options) {
  if (absl::Status s = ValidateSnapshotFileOptions(options); !s.ok()) return s;
  absl::StatusOr<uint64_t> size = disk->Size(name);
  if (!size.ok()) return size.status();
  if (*size > options.file_bytes_max) {
    return absl::DataLossError(absl::StrCat(
        name, " is ", *size,
        " bytes, more than file_bytes_max = ", options.file_bytes_max));
  }
  absl::StatusOr<std::string> bytes = disk->Read(name, 0, *size);
  if (!bytes.ok()) return bytes.status();
  if (bytes->size() != *size) {
    return absl::UnavailableError(
        absl::StrCat(name, ": read ", bytes->size(), " bytes of ", *size));
  }
  return DecodeSnapshotFile(name, *std::move(bytes), options);
}

absl::StatusOr<std::vector<std::string>> RemoveStaleSnapshotFiles(
    Disk* disk, const absl::btree_set<std::string>& keep) {
  absl::StatusOr<std::vector<std::string>> names = disk->List();
  if (!names.ok()) return names.status();
  std::vector<std::string> removed;
  for (const std::string& name : *names) {
    std::string final_name = name;
    const size_t suffix = kTempFileSuffix.size();
    if (name.size() > suffix && std::string_view(name).substr(
                                    name.size() - suffix) == kTempFileSuffix) {
      final_name = name.substr(0, name.size() - suffix);
    }
    if (!ParseSnapshotFileName(final_name).has_value()) continue;
    if (final_name == name && keep.contains(name)) continue;
    if (absl::Status s = disk->Remove(name); !s.ok()) return s;
    removed.push_back(name);
  }
  if (!removed.empty()) {
    if (absl::Status s = disk->SyncDir(); !s.ok()) return s;
  }
  return removed;
}

}  // namespace raftstore::storage
