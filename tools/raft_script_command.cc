// `raftstore raft-script FILE`: runs one raft interaction script
// (docs/raft-scripts.md) and prints its transcript, so a new scenario needs
// no C++.

#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "absl/flags/flag.h"
#include "core/raft/interaction/interaction.h"
#include "tools/command.h"

ABSL_FLAG(uint64_t, script_seed, 1,
          "raft-script: seed of the nodes' election-timeout randomness");

namespace raftstore::tools {

int RunRaftScript(const std::vector<std::string>& args) {
  if (args.size() != 1) {
    std::cerr << "error: raft-script takes exactly one script file\n";
    return kExitUsage;
  }
  std::ifstream in(args[0], std::ios::binary);
  if (!in) {
    std::cerr << "error: cannot open script file " << args[0] << "\n";
    return kExitUsage;
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (text.str().size() > raft::interaction::kScriptLinesMax *
                              raft::interaction::kScriptLineBytesMax) {
    std::cerr << "error: script file " << args[0] << " is too large\n";
    return kExitUsage;
  }
  auto transcript = raft::interaction::RunScript(
      text.str(), absl::GetFlag(FLAGS_script_seed));
  if (!transcript.ok()) {
    std::cerr << "error: " << args[0] << ": " << transcript.status().message()
              << "\n";
    return kExitUsage;
  }
  std::cout << *transcript;
  return kExitOk;
}

}  // namespace raftstore::tools
