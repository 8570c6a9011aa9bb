// `raftstore`: the RaftStore command-line tool.
//
//   raftstore COMMAND [FLAGS] [ARGS]
//
// The first argument picks the command; the rest are parsed with Abseil
// flags, so an unknown or malformed flag is refused with its name.

#include <algorithm>
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
      {"regions", "--workdir DIR [--json] [--state S] [--key K]",
       "list a data dir's region catalog (id, state, epoch, range, peers)",
       RunRegions},
      {"stats", "--addr HOST:PORT | --workdir DIR [--json]",
       "regions by state, WAL, raft groups; live counters with --addr",
       RunStats},
      {"kv", "put|get|delete|scan|cas ... --addr ID=HOST:PORT,...",
       "one operation on a running cluster (see docs/cli.md)", RunKv},
      {"bench", "[--client_counts=1,16,64,256 | --clients=N] [--seconds=5]",
       "puts/s and latency of a local 3-node cluster", RunBench},
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

std::string NormalizeFlagName(std::string arg) {
  // Only "--name" or "--name=value" after the leading dashes, and only up
  // to '=': values keep their dashes. "--" alone ends the flags.
  if (arg.size() <= 2 || arg.rfind("--", 0) != 0) return arg;
  const size_t end = std::min(arg.find('='), arg.size());
  for (size_t i = 2; i < end; ++i) {
    if (arg[i] == '-') arg[i] = '_';
  }
  return arg;
}

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
    // Flag names may be spelled with dashes (--no-region-metrics) or
    // underscores (--no_region_metrics, Abseil's own spelling).
    // After "--" everything is an argument (a value may start with "--"
    // and keep its dashes).
    std::vector<std::string> normalized;
    normalized.reserve(static_cast<size_t>(argc));
    bool flags_ended = false;
    for (int i = 2; i < argc; ++i) {
      normalized.push_back(flags_ended
                               ? std::string(argv[i])
                               : raftstore::tools::NormalizeFlagName(argv[i]));
      if (std::strcmp(argv[i], "--") == 0) flags_ended = true;
    }
    std::vector<char*> rest = {argv[0]};
    for (std::string& arg : normalized) rest.push_back(arg.data());
    std::vector<char*> positional =
        absl::ParseCommandLine(static_cast<int>(rest.size()), rest.data());
    return command.run(
        std::vector<std::string>(positional.begin() + 1, positional.end()));
  }
  std::cerr << "error: unknown command '" << name << "'\n\n";
  PrintUsage(std::cerr);
  return raftstore::tools::kExitUsage;
}
