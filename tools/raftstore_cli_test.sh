#!/usr/bin/env bash
# End-to-end tests of the `raftstore` CLI: each case runs the real binary and
# checks its exit code and output. Bad input must give exit code 2 and an
# error naming what was wrong.
set -uo pipefail

cli="$TEST_SRCDIR/$TEST_WORKSPACE/tools/raftstore"
tmp="${TEST_TMPDIR:-$(mktemp -d)}"
failures=0
# shellcheck source=tools/testing/expect.sh
source "$TEST_SRCDIR/$TEST_WORKSPACE/tools/testing/expect.sh"

expect 0 "raftstore.raft.Message +15 fields" -- "$cli" schema
expect 0 "raftstore.store.RaftMessageBatch" -- "$cli" schema
expect 0 "uint64 reject_hint = 11;" -- "$cli" schema --type=raftstore.raft.Message
expect 2 "usage: raftstore COMMAND" -- "$cli"
expect 0 "usage: raftstore COMMAND" -- "$cli" help
expect 2 "unknown command 'frobnicate'" -- "$cli" frobnicate
expect 1 "Unknown command line flag 'bogus'" -- "$cli" schema --bogus
expect 2 "unknown message type 'Message'; did you mean raftstore.raft.Message" \
  -- "$cli" decode --type=Message
expect 2 "--type is required" -- "$cli" decode
expect 2 "cannot open input file /nonexistent" \
  -- "$cli" decode --type=raftstore.raft.Message --input=/nonexistent

# encode then decode gives the same message back, as text and as JSON.
cat >"$tmp/hs.txt" <<'TXT'
format_version: 1
term: 7
vote: 3
commit: 41
TXT
if "$cli" encode --type=raftstore.raft.HardState --input="$tmp/hs.txt" >"$tmp/hs.bin"; then
  expect 0 "^term: 7$" -- "$cli" decode --type=raftstore.raft.HardState --input="$tmp/hs.bin"
  expect 0 '"commit": "41"' -- "$cli" decode --type=raftstore.raft.HardState --input="$tmp/hs.bin" --json
  # Standard input works as well as a file.
  out=$("$cli" decode --type=raftstore.raft.HardState <"$tmp/hs.bin")
  [[ "$out" == $'format_version: 1\nterm: 7\nvote: 3\ncommit: 41' ]] || fail "stdin decode gave: $out"
else
  fail "encode of a valid HardState failed"
fi

# Garbage is refused with the type and size named, never printed as a message.
printf '\xff\xff\xff\xff\xff' >"$tmp/garbage.bin"
expect 2 "is not a valid raftstore.raft.HardState" \
  -- "$cli" decode --type=raftstore.raft.HardState --input="$tmp/garbage.bin"
echo "term: seven" >"$tmp/bad.txt"
expect 2 "not a valid text-format raftstore.raft.HardState" \
  -- "$cli" encode --type=raftstore.raft.HardState --input="$tmp/bad.txt"

# raft-script runs a scenario and prints its transcript.
cat >"$tmp/elect.script" <<'TXT'
# Node 1 wins the election.
add-nodes 3 voters=(1,2,3) index=2
campaign 1
stabilize
raft-state
bogus-command
TXT
expect 0 "^1: leader \(Voter\) Term:2 Lead:1$" -- "$cli" raft-script "$tmp/elect.script"
expect 0 "^> bogus-command$" -- "$cli" raft-script "$tmp/elect.script"
expect 0 "error: line 6: unknown command 'bogus-command'" -- "$cli" raft-script "$tmp/elect.script"
expect 2 "cannot open script file /nonexistent" -- "$cli" raft-script /nonexistent
expect 2 "raft-script takes exactly one script file" -- "$cli" raft-script
printf 'propose 1 (unbalanced\n' >"$tmp/bad.script"
expect 2 "line 1: unterminated '\('" -- "$cli" raft-script "$tmp/bad.script"

# The main job's scenario (tools/main.sh) ends with every node caught up.
demo="$TEST_SRCDIR/$TEST_WORKSPACE/tools/demo/three_node_cluster.script"
expect 0 "^1: applied 7 \[x1 y2 z3\]$" -- "$cli" raft-script "$demo"

# sim: one seed, a range, replay by trace hash, history output, bad flags.
expect 0 "^seed=3 PASS .* safety=ok linearizability=ok liveness=ok trace=" \
  -- "$cli" sim --seed=3 --ticks=200
expect 0 "^seeds 1..3: 3 passed, 0 failed$" -- "$cli" sim --seeds=1..3 --ticks=150
first=$("$cli" sim --seed=5 --ticks=200 | grep -o 'trace=[0-9a-f]*')
second=$("$cli" sim --seed=5 --ticks=200 --trace="$tmp/5.trace" | grep -o 'trace=[0-9a-f]*')
[[ -n "$first" && "$first" == "$second" ]] || fail "sim seed 5 replayed with $second, first run $first"
grep -q "n[0-9] leads term" "$tmp/5.trace" || fail "sim --trace wrote no leader events"
expect 0 "PASS" -- "$cli" sim --seed=6 --ticks=150 --history="$tmp/6.jsonl"
grep -Eq '^\{.*"op":"(put|get|delete|cas)".*"outcome":"(ok|fail|unknown)"' "$tmp/6.jsonl" ||
  fail "sim --history wrote no JSON lines operations"
expect 0 "seed=7 PASS .*faults=0\(scheduled=0\)" -- "$cli" sim --seed=7 --ticks=150 --no_faults \
  --nodes=3 --faults=
expect 0 "seed=8 PASS .*scheduled=2" -- "$cli" sim --seed=8 --ticks=300 --nodes=3 \
  --faults=100000:crash:1,900000:restart:1
# sim --store: the store mode, a seed and a range, replay by trace hash.
expect 0 "seed=3 store PASS .*regions=" -- "$cli" sim --store --seed=3 --ticks=200
expect 0 "^store seeds 1..2: 2 passed, 0 failed$" -- \
  "$cli" sim --store --seeds=1..2 --ticks=150
first=$("$cli" sim --store --seed=5 --ticks=200 | grep -o 'trace=[0-9a-f]*')
second=$("$cli" sim --store --seed=5 --ticks=200 --trace="$tmp/s5.trace" |
  grep -o 'trace=[0-9a-f]*')
[[ -n "$first" && "$first" == "$second" ]] ||
  fail "sim --store seed 5 replayed with $second, first run $first"
grep -Eq "end: region [0-9]+ on s[0-9]" "$tmp/s5.trace" ||
  fail "sim --store --trace wrote no end-of-run regions"
expect 2 "--regions needs --store" -- "$cli" sim --seed=1 --regions=3
expect 2 "--regions=9 is outside 1..8" -- "$cli" sim --store --seed=1 --regions=9
expect 2 "exactly one of --seed S or --seeds A..B" -- "$cli" sim
expect 2 "--seeds must be A..B with A <= B" -- "$cli" sim --seeds=9..3
expect 2 "--nodes=9 is outside 1..7" -- "$cli" sim --seed=1 --nodes=9
expect 2 "--faults event \"10:explode:1\": unknown kind" -- "$cli" sim --seed=1 --faults=10:explode:1

# wal dump / repair and manifest dump on real files.
writer="$TEST_SRCDIR/$TEST_WORKSPACE/tools/write_test_wal"
mkdir -p "$tmp/clean" "$tmp/damaged" "$tmp/empty"
"$writer" "$tmp/clean" || fail "write_test_wal failed"
expect 0 "^group 7: term 2 vote 1 commit 20; snapshot 0/0; truncated 0; entries 1..20" \
  -- "$cli" wal dump --workdir="$tmp/clean"
expect 0 "^group 9: .*entries 1..20 \(last term 2\)" -- "$cli" wal dump --workdir="$tmp/clean"
"$writer" "$tmp/damaged" --corrupt || fail "write_test_wal --corrupt failed"
expect 1 "wal-00000000000000000001.log.*offset [0-9]+" -- "$cli" wal dump --workdir="$tmp/damaged"
expect 2 "pass --drop_damaged" -- "$cli" wal repair --workdir="$tmp/damaged"
expect 1 "wal repair --workdir=" -- "$cli" wal dump --workdir="$tmp/damaged"
expect 0 "^wal: damage in wal-00000000000000000001.log at offset [0-9]+" \
  -- "$cli" wal repair --workdir="$tmp/damaged" --drop_damaged
expect 0 "^group 7: .*entries 1\.\." -- "$cli" wal dump --workdir="$tmp/damaged"
expect 0 "^wal: no damage; nothing changed" -- "$cli" wal repair --workdir="$tmp/clean" --drop_damaged
expect 2 "no WAL segments in" -- "$cli" wal dump --workdir="$tmp/empty"
expect 2 "needs --workdir DIR" -- "$cli" wal dump
expect 2 "usage: raftstore wal dump\|repair" -- "$cli" wal frobnicate --workdir="$tmp/clean"
expect 2 "does not exist|not found|No such file" -- "$cli" wal dump --workdir="$tmp/nonexistent"
expect 2 "CURRENT" -- "$cli" manifest dump --workdir="$tmp/empty"

# regions and stats, read-only, on the same data dirs.
expect 0 "^region 7  running  epoch 1/1  \[a, m\)  peers 704@s4,705@s5,706@s6" \
  -- "$cli" regions --workdir="$tmp/clean"
expect 0 "^region 3  tombstone" -- "$cli" regions --workdir="$tmp/clean" --state=tombstone
expect 0 "^region 9  running" -- "$cli" regions --workdir="$tmp/clean" --key=q
expect 1 "" -- "$cli" regions --workdir="$tmp/clean" --key=0  # only the tombstone holds it
expect 0 "\"state\": \"running\"" -- "$cli" regions --workdir="$tmp/clean" --json
expect 2 "--state bogus: expected new, running, removing or tombstone" \
  -- "$cli" regions --workdir="$tmp/clean" --state=bogus
expect 2 "CURRENT" -- "$cli" regions --workdir="$tmp/empty"
expect 0 "^regions: total 3, new 0, running 2, removing 0, tombstone 1, other 0" \
  -- "$cli" stats --workdir="$tmp/clean"
expect 0 "^  region 7  term 2  snapshot 0  truncated 0  commit 20  last 20" \
  -- "$cli" stats --workdir="$tmp/clean"
expect 0 "\"segments\": 1" -- "$cli" stats --workdir="$tmp/clean" --json --no-region-metrics
expect 2 "needs --workdir DIR" -- "$cli" stats
expect 0 "^wal: 1 segments" -- "$cli" stats --workdir="$tmp/clean" --no_region_metrics
mkdir -p "$tmp/damaged2"
"$writer" "$tmp/damaged2" --corrupt || fail "write_test_wal --corrupt failed"
expect 1 "damage: .*wal-00000000000000000001.log" -- "$cli" stats --workdir="$tmp/damaged2"

if [[ $failures -gt 0 ]]; then
  echo "$failures CLI checks failed" >&2
  exit 1
fi
echo "all CLI checks passed"
