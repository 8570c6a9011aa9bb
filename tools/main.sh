#!/usr/bin/env bash
# The README's main command: installs what is missing, builds, and runs the
# main program. Arguments are passed to `raftstore`; with none, it runs the
# default job: the deterministic simulator over seeds 1..20 (a raft group of
# 3-7 nodes on WAL-backed simulated disks, under each seed's faults, with
# every checker on), one summary line per seed, then the tally. Until the
# production node lands (issue 7), this is the product end to end.
set -euo pipefail
cd "$(dirname "$0")/.."

tools/setup.sh
bazel build //tools:raftstore
cli=bazel-bin/tools/raftstore

if [[ $# -gt 0 ]]; then
  exec "$cli" "$@"
fi

echo "raftstore: simulating seeds 1..20 (docs/simulator.md); replay any with"
echo "  tools/main.sh sim --seed=N --trace=/tmp/N.trace"
exec "$cli" sim --seeds=1..20
