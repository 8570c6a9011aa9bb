// raftstore-node: one store of a RaftStore cluster (runtime/node.h,
// docs/runtime.md).
//
//   raftstore-node --cluster-id 1 --store-id 1 --data-dir data/1
//     --peers 1=127.0.0.1:7001,2=127.0.0.1:7002,3=127.0.0.1:7003
//     --client-listen 127.0.0.1:7101 --admin-listen 127.0.0.1:7201 --bootstrap
//
// Exit codes: 0 after SIGTERM or SIGINT (a graceful stop), 1 for a storage
// or recovery failure, 2 for bad options, a data directory that cannot be
// used or a port that cannot be bound. Log lines go to stderr.

#include <uv.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "runtime/node.h"
#include "runtime/node_options.h"

namespace {

using raftstore::runtime::Node;

// The program's state the signal callbacks reach through handle->data.
struct Program {
  Node* node = nullptr;
  uv_signal_t sigterm{};
  uv_signal_t sigint{};
  bool signals_open = false;
  bool stop_requested = false;
  raftstore::transport::LogSink log;

  void CloseSignals() {
    if (!signals_open) return;
    signals_open = false;
    uv_close(reinterpret_cast<uv_handle_t*>(&sigterm), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&sigint), nullptr);
  }
};

void OnSignal(uv_signal_t* handle, int signum) {
  auto* program = static_cast<Program*>(handle->data);
  if (program->stop_requested) {
    // A second signal: the operator does not want to wait for the disk.
    // Nothing acknowledged depends on what is still in memory.
    program->log("second signal: exiting at once");
    std::fflush(stderr);
    std::_Exit(1);
  }
  program->stop_requested = true;
  program->log(absl::StrCat(signum == SIGTERM ? "SIGTERM" : "SIGINT",
                            ": stopping (finishing the write in flight)"));
  program->node->Stop([program] { program->CloseSignals(); });
}

void StartSignals(uv_loop_t* loop, Program* program) {
  uv_signal_init(loop, &program->sigterm);
  uv_signal_init(loop, &program->sigint);
  program->sigterm.data = program;
  program->sigint.data = program;
  program->signals_open = true;
  uv_signal_start(&program->sigterm, OnSignal, SIGTERM);
  uv_signal_start(&program->sigint, OnSignal, SIGINT);
}

raftstore::transport::LogSink MakeLog(uint64_t store_id) {
  return [store_id](absl::string_view line) {
    const std::string stamp = absl::FormatTime(
        "%Y-%m-%dT%H:%M:%E3S", absl::Now(), absl::UTCTimeZone());
    std::cerr << stamp << " raftstore-node[" << store_id << "] " << line
              << "\n";
  };
}

}  // namespace

int main(int argc, char** argv) {
  // A peer that closes its socket must not kill the process: writes then
  // fail with EPIPE, which the transport handles.
  std::signal(SIGPIPE, SIG_IGN);
  // A write past a file size limit (ulimit -f) must fail with EFBIG, which
  // the storage reports naming the file, not kill the process unexplained.
  std::signal(SIGXFSZ, SIG_IGN);
  const std::vector<std::string> args(argv + 1, argv + argc);
  absl::StatusOr<raftstore::runtime::ParsedArgs> parsed =
      raftstore::runtime::ParseNodeArgs(args);
  if (!parsed.ok()) {
    std::cerr << "raftstore-node: " << parsed.status().message()
              << "\n(raftstore-node --help lists the options)\n";
    return raftstore::runtime::kNodeExitUsage;
  }
  if (parsed->help) {
    std::cout << raftstore::runtime::NodeUsage();
    return 0;
  }
  uv_loop_t loop;
  if (uv_loop_init(&loop) != 0) {
    std::cerr << "raftstore-node: uv_loop_init failed\n";
    return raftstore::runtime::kNodeExitFailure;
  }
  Program program;
  program.log = MakeLog(parsed->options.store_id);
  std::unique_ptr<Node> node =
      Node::Create(&loop, parsed->options, program.log);
  program.node = node.get();
  if (absl::Status started = node->Start(); !started.ok()) {
    program.log(absl::StrCat("cannot start: ", started.ToString()));
    node->Stop(nullptr);
  } else {
    StartSignals(&loop, &program);
    node->set_on_failure([&program] { program.CloseSignals(); });
  }
  // Runs until the node stopped (a signal, a storage failure, or a failed
  // start) and every handle is closed.
  uv_run(&loop, UV_RUN_DEFAULT);
  const int exit_code = node->exit_code();
  node.reset();
  if (uv_loop_close(&loop) != 0) {
    std::cerr << "raftstore-node: a libuv handle was left open\n";
  }
  return exit_code;
}
