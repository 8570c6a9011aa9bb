#!/usr/bin/env bash
# The README's main command: installs what is missing, builds, and runs the
# main program. Arguments are passed to `raftstore`; with none, it runs the
# default job (today: the schema catalogue and a round trip of a message
# through the binary codec; the simulator replaces it once it exists).
set -euo pipefail
cd "$(dirname "$0")/.."

tools/setup.sh
bazel build //tools:raftstore
cli=bazel-bin/tools/raftstore

if [[ $# -gt 0 ]]; then
  exec "$cli" "$@"
fi

"$cli" schema
echo
echo "A raft append, encoded to its wire form and decoded back:"
wire=$(mktemp)
trap 'rm -f "$wire"' EXIT
printf '%s\n' 'type: MESSAGE_TYPE_APPEND to: 2 from: 1 term: 3 log_term: 3' \
  'index: 41 commit: 40 entries { term: 3 index: 42 type: ENTRY_TYPE_NORMAL data: "put k v" }' |
  "$cli" encode --type=raftstore.raft.Message >"$wire"
echo "  bytes on the wire: $(wc -c <"$wire")"
"$cli" decode --type=raftstore.raft.Message --input="$wire" | sed 's/^/  /'
