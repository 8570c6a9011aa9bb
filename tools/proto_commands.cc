// `raftstore schema`, `decode` and `encode`: inspect RaftStore's wire and
// disk schemas, and convert messages between their binary and text forms
// (for reading a captured frame, or writing a test input by hand).

#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/dynamic_message.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/json_util.h"
#include "proto/kvrpc.pb.h"
#include "proto/raft.pb.h"
#include "proto/region.pb.h"
#include "proto/store.pb.h"
#include "tools/command.h"

ABSL_FLAG(std::string, type, "",
          "Full message type name, for example raftstore.raft.Message");
ABSL_FLAG(std::string, input, "-", "Input file; - reads standard input");
ABSL_FLAG(bool, json, false,
          "decode, regions, stats: print JSON instead of text");

namespace raftstore::tools {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FileDescriptor;
using google::protobuf::Message;

// Bounds what `decode` and `encode` read: a frame larger than this is not a
// RaftStore message and reading it whole would only exhaust memory.
constexpr size_t kInputBytesMax = 256u << 20;

std::vector<const FileDescriptor*> SchemaFiles() {
  return {
      raft::Message::descriptor()->file(),
      meta::Region::descriptor()->file(),
      kv::KvRequest::descriptor()->file(),
      store::RaftMessageBatch::descriptor()->file(),
  };
}

bool ReadInput(const std::string& path, std::string* out) {
  std::istream* in = &std::cin;
  std::ifstream file;
  if (path != "-") {
    file.open(path, std::ios::binary);
    if (!file) {
      std::cerr << "error: cannot open input file " << path << "\n";
      return false;
    }
    in = &file;
  }
  std::ostringstream buffer;
  buffer << in->rdbuf();
  *out = buffer.str();
  if (out->size() > kInputBytesMax) {
    std::cerr << "error: input " << path << " is " << out->size()
              << " bytes, more than the " << kInputBytesMax
              << "-byte bound of a RaftStore message\n";
    return false;
  }
  return true;
}

// Looks the --type flag up; prints a clear error (with the known types that
// share its last name component) when it names nothing.
const Descriptor* TypeFromFlag() {
  const std::string name = absl::GetFlag(FLAGS_type);
  if (name.empty()) {
    std::cerr << "error: --type is required (see `raftstore schema`)\n";
    return nullptr;
  }
  const Descriptor* type =
      google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(
          name);
  if (type != nullptr) return type;
  std::cerr << "error: unknown message type '" << name << "'";
  std::string suggestions;
  for (const FileDescriptor* file : SchemaFiles()) {
    for (int i = 0; i < file->message_type_count(); ++i) {
      const Descriptor* candidate = file->message_type(i);
      if (absl::EndsWithIgnoreCase(name, candidate->name())) {
        absl::StrAppend(&suggestions, " ", candidate->full_name());
      }
    }
  }
  if (!suggestions.empty()) std::cerr << "; did you mean" << suggestions;
  std::cerr << "\n";
  return nullptr;
}

std::unique_ptr<Message> NewMessage(const Descriptor* type) {
  return std::unique_ptr<Message>(
      google::protobuf::MessageFactory::generated_factory()
          ->GetPrototype(type)
          ->New());
}

}  // namespace

int RunSchema(const std::vector<std::string>& args) {
  if (!args.empty()) {
    std::cerr << "error: schema takes no positional arguments\n";
    return kExitUsage;
  }
  if (!absl::GetFlag(FLAGS_type).empty()) {
    const Descriptor* type = TypeFromFlag();
    if (type == nullptr) return kExitUsage;
    std::cout << type->DebugString();
    return kExitOk;
  }
  for (const FileDescriptor* file : SchemaFiles()) {
    std::cout << file->name() << " (package " << file->package() << ")\n";
    for (int i = 0; i < file->message_type_count(); ++i) {
      const Descriptor* type = file->message_type(i);
      std::cout << absl::StrFormat("  %-40s %2d fields\n", type->full_name(),
                                   type->field_count());
    }
  }
  return kExitOk;
}

int RunDecode(const std::vector<std::string>& args) {
  if (!args.empty()) {
    std::cerr << "error: decode takes no positional arguments; use --input\n";
    return kExitUsage;
  }
  const Descriptor* type = TypeFromFlag();
  if (type == nullptr) return kExitUsage;
  std::string bytes;
  const std::string path = absl::GetFlag(FLAGS_input);
  if (!ReadInput(path, &bytes)) return kExitUsage;
  std::unique_ptr<Message> message = NewMessage(type);
  if (!message->ParseFromString(bytes)) {
    std::cerr << "error: " << path << " (" << bytes.size()
              << " bytes) is not a valid " << type->full_name() << "\n";
    return kExitUsage;
  }
  std::string text;
  if (absl::GetFlag(FLAGS_json)) {
    google::protobuf::util::JsonPrintOptions options;
    options.add_whitespace = true;
    const auto status =
        google::protobuf::util::MessageToJsonString(*message, &text, options);
    if (!status.ok()) {
      std::cerr << "error: cannot print as JSON: " << status.ToString() << "\n";
      return kExitProblem;
    }
  } else {
    google::protobuf::TextFormat::PrintToString(*message, &text);
  }
  std::cout << text;
  return kExitOk;
}

int RunEncode(const std::vector<std::string>& args) {
  if (!args.empty()) {
    std::cerr << "error: encode takes no positional arguments; use --input\n";
    return kExitUsage;
  }
  const Descriptor* type = TypeFromFlag();
  if (type == nullptr) return kExitUsage;
  std::string text;
  const std::string path = absl::GetFlag(FLAGS_input);
  if (!ReadInput(path, &text)) return kExitUsage;
  std::unique_ptr<Message> message = NewMessage(type);
  if (!google::protobuf::TextFormat::ParseFromString(text, message.get())) {
    // TextFormat has already printed the line and column of the problem.
    std::cerr << "error: " << path << " is not a valid text-format "
              << type->full_name() << "\n";
    return kExitUsage;
  }
  std::string bytes;
  message->SerializeToString(&bytes);
  std::fwrite(bytes.data(), 1, bytes.size(), stdout);
  return kExitOk;
}

}  // namespace raftstore::tools
