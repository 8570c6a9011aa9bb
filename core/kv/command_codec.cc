#include "core/kv/command_codec.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "core/base/check.h"

namespace raftstore::kv {

std::string EncodeCommand(const command::Command& command) {
  command::Command versioned = command;
  versioned.set_format_version(kCommandFormatVersion);
  std::string data;
  // Serialising a message held in memory fails only past 2 GiB, which the
  // key and value bounds rule out long before.
  RS_CHECK(versioned.SerializeToString(&data))
      << "command of " << versioned.ByteSizeLong() << " bytes";
  return data;
}

absl::StatusOr<command::Command> DecodeCommand(std::string_view data,
                                               size_t command_bytes_max) {
  if (data.size() > command_bytes_max) {
    return absl::DataLossError(
        absl::StrCat("command of ", data.size(), " bytes exceeds ",
                     "command_bytes_max (", command_bytes_max, ")"));
  }
  command::Command command;
  if (!command.ParseFromArray(data.data(), static_cast<int>(data.size()))) {
    return absl::DataLossError(
        absl::StrCat("command of ", data.size(), " bytes does not parse"));
  }
  if (command.format_version() == 0) {
    return absl::DataLossError(absl::StrCat("command of ", data.size(),
                                            " bytes has no format_version"));
  }
  if (command.format_version() > kCommandFormatVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat("command format_version ", command.format_version(),
                     " is newer than this binary's ", kCommandFormatVersion));
  }
  return command;
}

}  // namespace raftstore::kv
