// The subcommand interface of the `raftstore` CLI.
//
// Each subcommand is a function from its arguments (flags already parsed by
// absl::ParseCommandLine, positional arguments left in `args`) to an exit
// code: 0 for success, 1 when the command ran and found a problem, 2 for bad
// usage or bad input (with a message naming what was wrong on stderr).
//
// Thread-safety: commands run on the main thread only.
#ifndef RAFTSTORE_TOOLS_COMMAND_H_
#define RAFTSTORE_TOOLS_COMMAND_H_

#include <string>
#include <vector>

namespace raftstore::tools {

inline constexpr int kExitOk = 0;
inline constexpr int kExitProblem = 1;
inline constexpr int kExitUsage = 2;

struct Command {
  const char* name;
  const char* usage;    // one line: arguments and flags
  const char* summary;  // one line: what it does
  int (*run)(const std::vector<std::string>& args);
};

// "--no-region-metrics[=v]" -> "--no_region_metrics[=v]": Abseil flag
// names use underscores; users may type dashes. Anything else unchanged.
std::string NormalizeFlagName(std::string arg);

// Commands in the order `raftstore help` lists them.
const std::vector<Command>& AllCommands();

int RunSchema(const std::vector<std::string>& args);
int RunDecode(const std::vector<std::string>& args);
int RunEncode(const std::vector<std::string>& args);
int RunRaftScript(const std::vector<std::string>& args);
int RunSim(const std::vector<std::string>& args);
int RunWal(const std::vector<std::string>& args);
int RunManifest(const std::vector<std::string>& args);
int RunRegions(const std::vector<std::string>& args);
int RunStats(const std::vector<std::string>& args);
// `stats --addr`: RunStats hands over when --addr is given.
int RunStatsAddr(const std::vector<std::string>& args);
int RunKv(const std::vector<std::string>& args);
// tools/bench_command.cc.
int RunBench(const std::vector<std::string>& args);

}  // namespace raftstore::tools

#endif  // RAFTSTORE_TOOLS_COMMAND_H_
