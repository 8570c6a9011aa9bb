// Builds the binary seed inputs of the manifest and snapshot-file fuzzers
// from readable text protos, at build time (see BUILD.bazel), with the real
// encoders so the seeds stay valid when the format changes.
//
// Usage: seed_encoder KIND INPUT.txtpb OUTPUT
// INPUT holds sections separated by lines of "---".
//   manifest, manifest_current, manifest_torn: each section is a
//     ManifestEdit in text format; the first must be the full state. The
//     output is a manifest_fuzzer input: a selector byte, for
//     manifest_current an explicit CURRENT, then the MANIFEST image (for
//     manifest_torn followed by half of one more frame).
//   snapshot: the first section is a SnapshotFileHeader in text format, and
//     each later section is one chunk, verbatim. The output is the file
//     WriteSnapshotFile produces.

#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "core/base/rng.h"
#include "core/storage/manifest/frame.h"
#include "core/storage/manifest/manifest_codec.h"
#include "core/storage/manifest/manifest_format.h"
#include "core/storage/manifest/snapshot_file.h"
#include "google/protobuf/text_format.h"
#include "proto/manifest.pb.h"
#include "sim/disk.h"

namespace raftstore::storage {
namespace {

std::vector<std::string> Sections(const std::string& text) {
  std::vector<std::string> sections(1);
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line == "---") {
      sections.emplace_back();
    } else {
      sections.back() += line + "\n";
    }
  }
  return sections;
}

bool EncodeManifest(const std::string& kind,
                    const std::vector<std::string>& sections,
                    std::string* out) {
  std::string image = EncodePreamble(kManifestMagic, kManifestFormatVersion);
  std::string last_frame;
  for (const std::string& section : sections) {
    manifest::ManifestEdit edit;
    if (!google::protobuf::TextFormat::ParseFromString(section, &edit)) {
      return false;
    }
    last_frame.clear();
    AppendFrame(&last_frame, SerializeEdit(edit));
    image += last_frame;
  }
  if (kind == "manifest_torn")
    image += last_frame.substr(0, last_frame.size() / 2);
  if (kind == "manifest_current") {
    const std::string current = EncodeCurrentFile(1);
    *out = std::string(1, '\x01') +
           std::string(1, static_cast<char>(current.size())) + current + image;
  } else {
    *out = std::string(1, '\x00') + image;
  }
  return true;
}

bool EncodeSnapshot(const std::vector<std::string>& sections,
                    std::string* out) {
  manifest::SnapshotFileHeader header;
  if (!google::protobuf::TextFormat::ParseFromString(sections[0], &header)) {
    return false;
  }
  const std::vector<std::string> chunks(sections.begin() + 1, sections.end());
  sim::SimDisk disk(sim::SimDiskOptions{}, Rng(1));
  const std::string name = "seed.snap";
  const absl::Status status =
      WriteSnapshotFile(&disk, name, header, chunks, SnapshotFileOptions{});
  if (!status.ok()) {
    std::cerr << status << "\n";
    return false;
  }
  *out = disk.DurableContent(name);
  return true;
}

}  // namespace
}  // namespace raftstore::storage

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: seed_encoder KIND INPUT.txtpb OUTPUT\n";
    return 2;
  }
  const std::string kind = argv[1];
  std::ifstream in(argv[2]);
  const std::string text((std::istreambuf_iterator<char>(in)),
                         std::istreambuf_iterator<char>());
  const std::vector<std::string> sections = raftstore::storage::Sections(text);
  std::string out;
  const bool ok =
      kind == "snapshot"
          ? raftstore::storage::EncodeSnapshot(sections, &out)
          : raftstore::storage::EncodeManifest(kind, sections, &out);
  if (!in || !ok) {
    std::cerr << "seed_encoder: cannot encode " << argv[2] << "\n";
    return 1;
  }
  std::ofstream(argv[3], std::ios::binary) << out;
  return 0;
}
