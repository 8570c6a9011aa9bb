// `raftstore`: the RaftStore command-line tool.
//
//   raftstore COMMAND [FLAGS] [ARGS]
//
// The first argument picks the command; the rest are parsed with Abseil
// flags, so an unknown or malformed flag is refused with its name.

#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_format.h"
#include "tools/command.h"

namespace raftstore::tools {

const std::vector<Command>& AllCommands() {
  static const auto* commands = new std::vector<Command>{
      {"schema", "[--type NAME]",
       "list the wire and disk schemas, or print one message type", RunSchema},
      {"decode", "--type NAME [--input FILE] [--json]",
       "print a binary-encoded message as text (or JSON)", RunDecode},
      {"encode", "--type NAME [--input FILE]",
       "encode a text-format message to binary on stdout", RunEncode},
      {"raft-script", "FILE [--script_seed=N]",
       "run a raft interaction script and print its transcript", RunRaftScript},
      {"sim", "--seed S | --seeds A..B [--trace F] [--history F] [--shrink]",
       "run the deterministic simulator (see docs/simulator.md)", RunSim},
      {"wal", "dump|repair --workdir DIR [--drop_damaged]",
       "recover and print a data dir's WAL, or cut it at its damage", RunWal},
      {"manifest", "dump --workdir DIR",
       "print a data dir's manifest edits and region catalog", RunManifest},
  };
  return *commands;
}

namespace {

void PrintUsage(std::ostream& out) {
  out << "usage: raftstore COMMAND [FLAGS]\n\ncommands:\n";
  for (const Command& command : AllCommands()) {
    out << absl::StrFormat("  %-12s %-38s %s\n", command.name, command.usage,
                           command.summary);
  }
  out << absl::StrFormat("  %-12s %-38s %s\n", "help", "", "show this message");
}

}  // namespace
}  // namespace raftstore::tools

int main(int argc, char** argv) {
  using raftstore::tools::AllCommands;
  using raftstore::tools::PrintUsage;
  absl::SetProgramUsageMessage("raftstore COMMAND [FLAGS]; see raftstore help");
  if (argc < 2 || std::strcmp(argv[1], "help") == 0 ||
      std::strcmp(argv[1], "--help") == 0) {
    PrintUsage(std::cout);
    return argc < 2 ? raftstore::tools::kExitUsage : raftstore::tools::kExitOk;
  }
  const std::string name = argv[1];
  for (const auto& command : AllCommands()) {
    if (name != command.name) continue;
    // Parse the flags after the command name; argv[0] stays the program.
    std::vector<char*> rest = {argv[0]};
    for (int i = 2; i < argc; ++i) rest.push_back(argv[i]);
    std::vector<char*> positional =
        absl::ParseCommandLine(static_cast<int>(rest.size()), rest.data());
    return command.run(
        std::vector<std::string>(positional.begin() + 1, positional.end()));
  }
  std::cerr << "error: unknown command '" << name << "'\n\n";
  PrintUsage(std::cerr);
  return raftstore::tools::kExitUsage;
}
