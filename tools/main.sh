#!/usr/bin/env bash
# The README's main command: installs what is missing, builds, and runs the
# main program. Arguments are passed to `raftstore`; with none, it runs the
# default job: a raft group scenario (tools/demo/three_node_cluster.script)
# through the interaction harness, printing every Ready and message, then the
# final state. Once the simulator exists, this runs it instead.
set -euo pipefail
cd "$(dirname "$0")/.."

tools/setup.sh
bazel build //tools:raftstore
cli=bazel-bin/tools/raftstore

if [[ $# -gt 0 ]]; then
  exec "$cli" "$@"
fi

"$cli" raft-script tools/demo/three_node_cluster.script
