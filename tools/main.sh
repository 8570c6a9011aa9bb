#!/usr/bin/env bash
# The README's main command: installs what is missing, builds, and starts a
# local 3-node RaftStore cluster on loopback with its data under ./data
# (tools/cluster.sh), then shows a put and a get through it and prints how to
# use it, stop a node and watch the cluster recover, and stop everything.
# Run again, it restarts the stores from ./data (or leaves running ones be).
#
# With arguments, they are passed to the `raftstore` CLI instead:
#   tools/main.sh sim --seeds=1..20      the simulator over 20 seeds
#   tools/main.sh bench                  the 3-node put benchmark
set -euo pipefail
cd "$(dirname "$0")/.."

tools/setup.sh
bin=bazel-out/k8-opt/bin
cli=$bin/tools/raftstore

if [[ $# -gt 0 ]]; then
  bazel build //tools:raftstore
  exec "$cli" "$@"
fi

bazel build //tools:raftstore //runtime:raftstore-node
tools/cluster.sh start

# The ports cluster.sh uses (RAFTSTORE_PORT_BASE moves them all).
base=${RAFTSTORE_PORT_BASE:-7000}
addr="1=127.0.0.1:$((base + 101)),2=127.0.0.1:$((base + 102)),3=127.0.0.1:$((base + 103))"
data=${RAFTSTORE_DATA:-data}
if "$cli" help | grep -q '^  kv '; then
  echo
  echo "The cluster answers:"
  for args in "put hello world" "get hello"; do
    echo "  \$ $cli kv $args --addr=$addr"
    # shellcheck disable=SC2086  # $args is two or three plain words
    "$cli" kv $args --addr="$addr" | sed 's/^/  /'
  done
fi
cat <<TEXT

Put and get a key:
  $cli kv put KEY VALUE --addr=$addr
  $cli kv get KEY --addr=$addr

Stop a node and watch the cluster recover (logs: $data/<i>/node.log):
  tools/cluster.sh stop 2        # the other two go on serving puts and gets
  tools/cluster.sh status        # which stores run, which one leads
  tools/cluster.sh start 2       # store 2 restarts from $data/2 and catches up
  $cli stats --addr=127.0.0.1:$((base + 201))   # store 1's live counters and raft state

Stop everything (the data stays in $data; tools/main.sh restarts from it):
  tools/cluster.sh stop
TEXT
