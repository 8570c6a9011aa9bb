#!/usr/bin/env bash
# End-to-end tests of `raftstore kv` and `raftstore stats --addr` against a
# real 3-node cluster of raftstore-node processes on loopback (free ports, a
# temporary directory, 25 ms ticks). Each case checks the exit code and the
# output: round trips of put/get/delete/scan/cas, a missing key, bad usage
# (exit 2 naming what was wrong), the node's stats as text and JSON, the
# cluster serving after its leader is killed, and honest failures once no
# quorum is left. Every wait polls up to a generous deadline.
set -uo pipefail

runfiles="$TEST_SRCDIR/$TEST_WORKSPACE"
cli="$runfiles/tools/raftstore"
node="$runfiles/runtime/raftstore-node"
free_ports="$runfiles/tools/free_ports"
tmp="${TEST_TMPDIR:-$(mktemp -d)}/kv_cli"
rm -rf "$tmp" && mkdir -p "$tmp"
failures=0
# shellcheck source=tools/testing/expect.sh
source "$runfiles/tools/testing/expect.sh"
declare -a pids=()

cleanup() {
  local pid
  for pid in "${pids[@]}"; do
    [[ -n "$pid" ]] && kill -9 "$pid" 2>/dev/null
  done
  wait 2>/dev/null
}
trap cleanup EXIT

# expect_stdout CODE TEXT -- COMMAND...: the exit code, and stdout exactly
# TEXT (stderr ignored).
expect_stdout() {
  local code=$1 want=$2
  shift 3
  local out actual
  out=$("$@" 2>/dev/null)
  actual=$?
  if [[ $actual -ne $code ]]; then
    fail "'$*' exited $actual, want $code; stdout: $out"
  elif [[ "$out" != "$want" ]]; then
    fail "'$*' printed '$out', want '$want'"
  fi
}

# poll SECONDS COMMAND...: runs COMMAND until it exits 0; false on timeout.
poll() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

cluster=$((4000 + $$ % 1000))
token="kv-cli-test"
declare -a client_port admin_port

start_node() {
  local i=$1
  "$node" --cluster-id="$cluster" --store-id="$i" --data-dir="$tmp/s$i" \
    --peers="$peers" --client-listen="127.0.0.1:${client_port[$i]}" \
    --admin-listen="127.0.0.1:${admin_port[$i]}" --tick-ms=25 \
    --auth-token="$token" --bootstrap 2>>"$tmp/s$i.log" &
  pids[$i]=$!
}

# Starts stores 1-3 on fresh ports and waits for their admin endpoints; a
# port taken between picking and binding makes a node exit 2, so the whole
# start is retried with new ports (three tries).
start_cluster() {
  local try i ports
  for try in 1 2 3; do
    mapfile -t ports < <("$free_ports" 9)
    peers="1=127.0.0.1:${ports[0]},2=127.0.0.1:${ports[1]},3=127.0.0.1:${ports[2]}"
    addr=""
    for i in 1 2 3; do
      client_port[$i]=${ports[$((2 + i))]}
      admin_port[$i]=${ports[$((5 + i))]}
      addr="$addr${addr:+,}$i=127.0.0.1:${client_port[$i]}"
      rm -rf "$tmp/s$i"
      start_node "$i"
    done
    local up=1
    for i in 1 2 3; do
      poll 60 "$cli" stats --addr="127.0.0.1:${admin_port[$i]}" || up=0
    done
    ((up)) && return 0
    cleanup
    pids=()
  done
  echo "could not start the cluster; logs:" >&2
  tail -n 20 "$tmp"/s*.log >&2
  exit 1
}

kvc() {
  "$cli" kv "$@" --addr="$addr" --cluster-id="$cluster" --auth-token="$token"
}

# The store whose peer leads region 1, by asking each running node.
leader_store() {
  local i
  for i in 1 2 3; do
    if "$cli" stats --addr="127.0.0.1:${admin_port[$i]}" 2>/dev/null |
      grep -Eq '^  region 1 .* leader$'; then
      echo "$i"
      return 0
    fi
  done
  return 1
}

start_cluster
# The first put that commits proves a leader.
poll 60 kvc put ready yes --timeout-ms=2000 || {
  fail "no leader: a put never succeeded"
  tail -n 20 "$tmp"/s*.log >&2
  exit 1
}

# Round trips.
expect_stdout 0 "ok" -- kvc put a 1
expect_stdout 0 "1" -- kvc get a
expect_stdout 0 "ok" -- kvc put b 2
expect_stdout 0 "ok" -- kvc put c "three and a space"
expect_stdout 0 "ok" -- kvc put tab $'x\ty'
expect_stdout 0 $'x\ty' -- kvc get tab
# After "--" a value may start with dashes (and keeps them).
expect_stdout 0 "ok" -- "$cli" kv put --addr="$addr" --cluster-id="$cluster" \
  --auth-token="$token" -- dash --my-value
expect_stdout 0 "--my-value" -- kvc get dash
expect_stdout 0 $'a\t1\nb\t2\nc\tthree and a space' -- kvc scan --start=a --end=d
expect_stdout 0 $'tab\tx\\ty' -- kvc scan --start=t --end=u
expect_stdout 0 $'a\t1\nb\t2' -- kvc scan --start=a --limit=2
expect 0 "stopped at --limit=2; more keys may follow" -- kvc scan --start=a --limit=2
expect_stdout 0 $'a\t1\nb\t2\nc\tthree and a space\ndash\t--my-value\nready\tyes\ntab\tx\\ty' -- kvc scan
# A missing key: nothing on stdout, "(not found)" on stderr, exit 1.
expect_stdout 1 "" -- kvc get nothing-here
expect 1 "^\(not found\)$" -- kvc get nothing-here
expect_stdout 0 "deleted" -- kvc delete b
expect 1 "^\(not found\)$" -- kvc get b
expect_stdout 0 "not found (nothing deleted)" -- kvc delete b
# CAS: applied, not applied with the current value, --expect-absent.
expect_stdout 0 "applied" -- kvc cas a 1 10
expect_stdout 1 "not applied (current: 10)" -- kvc cas a 1 11
expect_stdout 0 "10" -- kvc get a
expect_stdout 0 "applied" -- kvc cas fresh v1 --expect-absent
expect_stdout 1 "not applied (current: v1)" -- kvc cas fresh v2 --expect-absent
expect_stdout 1 "not applied (current: absent)" -- kvc cas never x y
# JSON.
expect 0 '"value": "10"' -- kvc get a --json
expect 0 '"outcome": "ok"' -- kvc get a --json
expect 1 '"found": false' -- kvc get nothing-here --json
expect 0 '"key": "c"' -- kvc scan --start=c --end=d --json
expect 1 '"applied": false' -- kvc cas a 1 12 --json

# Bad usage: exit 2, naming what was wrong.
expect 2 "peer entry 'bogus' is not store_id=host:port" -- "$cli" kv get a --addr=bogus
expect 2 "peer entry '0=127.0.0.1:1': the store id must be a positive integer" \
  -- "$cli" kv get a --addr=0=127.0.0.1:1
expect 2 "store 1: .*99999" -- "$cli" kv get a --addr=1=127.0.0.1:99999
expect 2 "kv needs --addr=ID=HOST:PORT" -- "$cli" kv get a
expect 2 "kv get needs KEY, got 0 arguments" -- kvc get
expect 2 "kv put needs KEY VALUE, got 1 argument$" -- kvc put a
expect 2 "kv cas needs KEY EXPECTED NEW" -- kvc cas a b
expect 2 "kv cas needs KEY NEW with --expect-absent, got 3 arguments" -- kvc cas a b c --expect-absent
expect 2 "unknown kv subcommand 'frobnicate'" -- kvc frobnicate
expect 2 "kv needs a subcommand" -- "$cli" kv
expect 2 "--limit=5000 is outside 1..1024" -- kvc scan --limit=5000
expect 2 "--limit applies to kv scan only, not kv get" -- kvc get a --limit=3
expect 2 "--expect-absent applies to kv cas only, not kv put" -- kvc put a b --expect-absent
expect 2 "--end=a must sort after --start=b" -- kvc scan --start=b --end=a
expect 2 "--timeout-ms=0 is outside" -- kvc get a --timeout-ms=0
# A wrong cluster id: refused at HELLO; the client cannot know the put did
# not apply, and says so, with a hint.
expect 1 "timed out after 500 ms: it may or may not have applied.*no store answered.*--cluster-id" \
  -- "$cli" kv put a 99 --addr="$addr" --cluster-id=$((cluster + 1)) --timeout-ms=500
expect_stdout 0 "10" -- kvc get a

# stats --addr: the text and the JSON of a live node.
admin1="127.0.0.1:${admin_port[1]}"
expect 0 "^store 1 of cluster $cluster$" -- "$cli" stats --addr="$admin1"
expect 0 "^regions: total 1, new 0, running 1, removing 0, tombstone 0, other 0$" \
  -- "$cli" stats --addr="$admin1"
expect 0 "^raft groups: 1$" -- "$cli" stats --addr="$admin1"
expect 0 "^  region 1  term [0-9]+  snapshot [0-9]+  truncated [0-9]+  commit [0-9]+  last [0-9]+  applied [0-9]+  (leader|follower)$" \
  -- "$cli" stats --addr="$admin1"
expect 0 "^wal: [0-9]+ segments, [0-9]+ bytes" -- "$cli" stats --addr="$admin1"
expect 0 "^transport: dials [0-9]+, dial failures [0-9]+, sends [1-9][0-9]*" \
  -- "$cli" stats --addr="$admin1"
expect 0 "^store: requests [0-9]+, proposals [0-9]+, writes applied [1-9]" \
  -- "$cli" stats --addr="$admin1"
expect 0 "^node: serving, uptime [0-9]+ ms, tick 25 ms" -- "$cli" stats --addr="$admin1"
expect 0 '"running": 1' -- "$cli" stats --addr="$admin1" --json
expect 0 '"raft_groups": \[' -- "$cli" stats --addr="$admin1" --json
expect 0 '"transport": \{' -- "$cli" stats --addr="$admin1" --json
expect 0 '"store_id": 1' -- "$cli" stats --addr="$admin1" --json
out=$("$cli" stats --addr="$admin1" --no-region-metrics)
grep -q "^regions:" <<<"$out" && fail "stats --no-region-metrics printed regions: $out"
expect 2 "stats needs --workdir DIR .* or --addr HOST:PORT .*, not both" \
  -- "$cli" stats --addr="$admin1" --workdir="$tmp/s1"
expect 2 "not a store list" -- "$cli" stats --addr="1=$admin1"
# A client port speaks frames, not HTTP: an error naming the address.
expect 1 "GET http://127.0.0.1:${client_port[1]}/stats: " \
  -- "$cli" stats --addr="127.0.0.1:${client_port[1]}" --timeout-ms=2000

# Kill the leader: the other two elect and serve; nothing acknowledged is
# lost.
leader=$(leader_store) || fail "no node reports leading region 1"
leader=${leader:-1}
kill -9 "${pids[$leader]}"
wait "${pids[$leader]}" 2>/dev/null
pids[$leader]=""
expect_stdout 0 "ok" -- kvc put after-kill 1 --timeout-ms=20000
expect_stdout 0 "1" -- kvc get after-kill --timeout-ms=20000
expect_stdout 0 "10" -- kvc get a --timeout-ms=20000
expect_stdout 0 "applied" -- kvc cas after-kill 1 2 --timeout-ms=20000
expect 1 "GET http://127.0.0.1:${admin_port[$leader]}/stats: connect: .*refused" \
  -- "$cli" stats --addr="127.0.0.1:${admin_port[$leader]}"

# Kill one more: no quorum. A write's outcome is unknown, a read fails;
# both exit 1 and say which.
for i in 1 2 3; do
  if [[ -n "${pids[$i]}" ]]; then
    kill -9 "${pids[$i]}"
    wait "${pids[$i]}" 2>/dev/null
    pids[$i]=""
    break
  fi
done
expect 1 "kv put timed out after 1500 ms: it may or may not have applied" \
  -- kvc put lost 1 --timeout-ms=1500
expect 1 "kv get failed \(no answer by the deadline" -- kvc get a --timeout-ms=1500
expect 1 '"outcome": "unknown"' -- kvc put lost 2 --timeout-ms=1000 --json

if [[ $failures -gt 0 ]]; then
  echo "$failures kv CLI checks failed; node logs:" >&2
  tail -n 30 "$tmp"/s*.log >&2
  exit 1
fi
echo "all kv CLI checks passed"
