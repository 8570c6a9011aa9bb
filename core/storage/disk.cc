#include "core/storage/disk.h"

#include <string>

#include "absl/strings/str_cat.h"

namespace raftstore::storage {

absl::Status ValidateFileName(std::string_view name) {
  const std::string quoted = absl::StrCat("\"", std::string(name), "\"");
  if (name.empty()) {
    return absl::InvalidArgumentError("file name is empty");
  }
  if (name.size() > kFileNameBytesMax) {
    return absl::InvalidArgumentError(absl::StrCat("file name is ", name.size(),
                                                   " bytes; the maximum is ",
                                                   kFileNameBytesMax));
  }
  if (name == "." || name == "..") {
    return absl::InvalidArgumentError(
        absl::StrCat("file name ", quoted, " names a directory"));
  }
  for (const char c : name) {
    if (c == '/' || c == '\0') {
      return absl::InvalidArgumentError(
          absl::StrCat("file name ", quoted,
                       " contains a '/' or NUL; a Disk is one flat "
                       "directory"));
    }
  }
  return absl::OkStatus();
}

}  // namespace raftstore::storage
