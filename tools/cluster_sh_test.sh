#!/usr/bin/env bash
# End-to-end test of tools/cluster.sh in a temporary working directory: a
# real 3-node cluster of raftstore-node processes on loopback ports picked
# for the test. Start, idempotent start, puts through node_load, stop and
# restart one store, refusals (a port in use, a served store whose data
# vanished, bad usage), stop.
set -uo pipefail

runfiles="$TEST_SRCDIR/$TEST_WORKSPACE"
cluster="$runfiles/tools/cluster.sh"
load="$runfiles/runtime/bench/node_load"
export RAFTSTORE_NODE="$runfiles/runtime/raftstore-node"
cd "$TEST_TMPDIR" || exit 1
failures=0
# shellcheck source=tools/testing/expect.sh
source "$runfiles/tools/testing/expect.sh"

listening() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

# A port base below the ephemeral range whose nine ports are all free.
for _ in $(seq 1 50); do
  base=$((10000 + RANDOM % 200 * 100))
  free=1
  for offset in 1 2 3 101 102 103 201 202 203; do
    if listening $((base + offset)); then free=0; fi
  done
  ((free)) && break
done
export RAFTSTORE_PORT_BASE=$base
addr="1=127.0.0.1:$((base + 101)),2=127.0.0.1:$((base + 102)),3=127.0.0.1:$((base + 103))"
trap '"$cluster" stop >/dev/null 2>&1' EXIT

expect 0 "store 3: running .*bootstrapped" -- "$cluster" start
expect 0 "leads region 1" -- "$cluster" start
expect 0 "store 2: already running" -- "$cluster" start 2
expect 0 "" -- "$cluster" status
[[ $(grep -c ": running" <<<"$last_output") -eq 3 ]] ||
  fail "status: $last_output"
[[ -f data/1/node.pid && -f data/1/joined && -f data/1/store/CURRENT ]] ||
  fail "data/1 lacks node.pid, joined or store/CURRENT: $(ls -R data)"
expect 0 "puts [1-9][0-9]* \(\+0 failed, 0 unknown\)" -- "$load" 1 "$addr" 2 1

# One store down: the other two serve; it restarts from its data.
expect 0 "store 2: stopped \(was pid" -- "$cluster" stop 2
expect 0 "store 2: stopped$" -- "$cluster" status
expect 0 "puts [1-9][0-9]* \(\+0 failed, 0 unknown\)" -- "$load" 1 "$addr" 2 1
expect 0 "store 2: running" -- "$cluster" start 2
grep -q bootstrapped <<<"$last_output" &&
  fail "store 2 bootstrapped again: $last_output"

# Refusals.
expect 1 "port 127.0.0.1:$((base + 1)) is taken" -- \
  env RAFTSTORE_DATA=other "$cluster" start
expect 0 "store 3: stopped" -- "$cluster" stop 3
mv data/3/store data/3/store.saved
expect 1 "store 3 served before, but its data directory .* is gone" -- \
  "$cluster" start 3
mv data/3/store.saved data/3/store
expect 0 "store 3: running" -- "$cluster" start 3
expect 2 "usage: tools/cluster.sh" -- "$cluster" restart
expect 1 "no store '4'" -- "$cluster" stop 4

expect 0 "store 1: stopped \(was pid" -- "$cluster" stop
expect 0 "store 3: not running" -- "$cluster" stop
[[ ! -e data/1/node.pid ]] || fail "data/1/node.pid left behind"
for offset in 1 2 3 101 102 103 201 202 203; do
  listening $((base + offset)) && fail "port $((base + offset)) still open"
done
grep -q "store 1 stopped" data/1/node.log || fail "no clean stop in the log"

# A pid file whose process stops being the node (it exited and its pid went
# to another program): stop waits on the node's identity, so the other
# program is never killed. The stand-in matches store 1's command line and,
# on SIGTERM, becomes `sleep` under the same pid.
bash -c 'trap "exec sleep 300" TERM; while :; do sleep 0.1; done' \
  raftstore-node --data-dir "$(realpath -m data)/1/store" --stand-in &
stand_in=$!
echo "$stand_in" >data/1/node.pid
sleep 0.5
expect 0 "store 1: stopped \(was pid $stand_in\)" -- "$cluster" stop 1
sleep 0.5
if ! kill -0 "$stand_in" 2>/dev/null; then
  fail "cluster.sh stop killed pid $stand_in after it stopped being the node"
elif ! grep -q '^sleep' "/proc/$stand_in/cmdline"; then
  fail "the stand-in never became sleep: $(tr '\0' ' ' <"/proc/$stand_in/cmdline")"
fi
kill -9 "$stand_in" 2>/dev/null
wait "$stand_in" 2>/dev/null

if [[ $failures -gt 0 ]]; then
  echo "$failures failure(s)" >&2
  exit 1
fi
echo "all cluster.sh checks passed"
