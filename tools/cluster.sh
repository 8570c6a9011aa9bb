#!/usr/bin/env bash
# A local 3-node RaftStore cluster on loopback, for trying the product by
# hand (tools/main.sh starts it). Data lives under ./data of the current
# directory:
#
#   data/<i>/store/   store i's data directory (docs/runtime.md)
#   data/<i>/node.log its stdout and stderr, appended
#   data/<i>/node.pid its pid while it runs
#   data/<i>/joined   written once store i has served: from then on its data
#                     directory must never be created afresh
#
# Store i listens on 127.0.0.1: raft 700i, client 710i, admin HTTP 720i.
#
#   tools/cluster.sh start [i]   start every store (or store i), wait until
#                                it answers, and (for all) until one leads
#   tools/cluster.sh stop [i]    SIGTERM every store (or store i), wait
#   tools/cluster.sh status      each store: running or not, pid, role
#
# Idempotent: starting a running store or stopping a stopped one does
# nothing. The first start of a store passes --bootstrap (every store derives
# the same first region from --peers); later starts restart from its data.
# A store whose data directory vanished after it served is refused, not
# re-bootstrapped (that could make it vote twice: docs/runtime.md, "Bootstrap
# and restart"); `rm -rf data` starts a new cluster.
#
# Environment: RAFTSTORE_NODE (the raftstore-node binary; default
# bazel-out/k8-opt/bin/runtime/raftstore-node of this repository),
# RAFTSTORE_DATA (default ./data), RAFTSTORE_PORT_BASE (default 7000: raft
# base+i, client base+100+i, admin base+200+i).
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
node_bin="${RAFTSTORE_NODE:-$repo/bazel-out/k8-opt/bin/runtime/raftstore-node}"
data="$(realpath -m "${RAFTSTORE_DATA:-$PWD/data}")"
base="${RAFTSTORE_PORT_BASE:-7000}"
stores=(1 2 3)
# Bounds of every wait, generous for a loaded machine (a node starts in well
# under a second; an election takes 1-2 s with the default ticks).
start_wait_s=30
leader_wait_s=60
stop_wait_s=15

die() {
  echo "cluster: error: $*" >&2
  exit 1
}

raft_port() { echo $((base + $1)); }
client_port() { echo $((base + 100 + $1)); }
admin_port() { echo $((base + 200 + $1)); }

peers() {
  local i list=()
  for i in "${stores[@]}"; do list+=("$i=127.0.0.1:$(raft_port "$i")"); done
  (IFS=,; echo "${list[*]}")
}

# The pid of store i if its raftstore-node runs (the pid file names a live
# process whose command line is that store's node), else nothing.
running_pid() {
  local pidfile="$data/$1/node.pid" pid
  [[ -f $pidfile ]] || return 0
  pid=$(<"$pidfile")
  if [[ $pid =~ ^[0-9]+$ ]] && [[ -r /proc/$pid/cmdline ]] &&
      tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "--data-dir $data/$1/store "; then
    echo "$pid"
  fi
}

# True if something accepts connections on 127.0.0.1:port.
port_in_use() {
  timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

# GET http://127.0.0.1:port/path with bash's /dev/tcp (no curl needed);
# prints the whole response, or nothing on failure.
http_get() {
  timeout 5 bash -c '
    exec 3<>/dev/tcp/127.0.0.1/'"$1"' || exit 1
    printf "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n" "'"$2"'" >&3
    cat <&3' 2>/dev/null || true
}

# A gauge from store i's /metrics ("raftstore_region_leaders 1" -> 1).
metric() {
  http_get "$(admin_port "$1")" /metrics |
    awk -v name="raftstore_$2" '$1 == name { print $2; exit }'
}

check_store_arg() {
  [[ $1 =~ ^[1-3]$ ]] || die "no store '$1' (stores are 1, 2 and 3)"
}

start_one() {
  local i=$1 pid bootstrap=()
  local dir="$data/$i"
  pid=$(running_pid "$i")
  if [[ -n $pid ]]; then
    echo "store $i: already running (pid $pid)"
    return 0
  fi
  [[ -x $node_bin ]] || die "no raftstore-node binary at $node_bin; build it" \
    "with: bazel build //runtime:raftstore-node (or set RAFTSTORE_NODE)"
  if [[ ! -d $dir/store ]]; then
    if [[ -f $dir/joined ]]; then
      die "store $i served before, but its data directory $dir/store is" \
        "gone; starting it afresh could make it vote twice in a term" \
        "(docs/runtime.md, \"Bootstrap and restart\"). To start a new" \
        "cluster instead, stop everything and remove $data"
    fi
    bootstrap=(--bootstrap)
  fi
  local port
  for port in "$(raft_port "$i")" "$(client_port "$i")" "$(admin_port "$i")"; do
    if port_in_use "$port"; then
      die "store $i: port 127.0.0.1:$port is taken by another process" \
        "(see: ss -ltnp 'sport = :$port'); stop it or set RAFTSTORE_PORT_BASE"
    fi
  done
  mkdir -p "$dir"
  echo "--- $(date -u +%FT%TZ) cluster.sh: start store $i${bootstrap[*]:+ --bootstrap}" >>"$dir/node.log"
  nohup "$node_bin" --cluster-id 1 --store-id "$i" --data-dir "$dir/store" \
    --peers "$(peers)" --client-listen "127.0.0.1:$(client_port "$i")" \
    --admin-listen "127.0.0.1:$(admin_port "$i")" "${bootstrap[@]}" \
    </dev/null >>"$dir/node.log" 2>&1 &
  pid=$!
  echo "$pid" >"$dir/node.pid"
  wait_serving "$i" "$pid"
  touch "$dir/joined"
  echo "store $i: running (pid $pid${bootstrap[*]:+, bootstrapped}), client" \
    "127.0.0.1:$(client_port "$i"), admin http://127.0.0.1:$(admin_port "$i")"
}

# Waits until store i's admin endpoint answers; on exit or timeout, shows
# the end of its log and fails.
wait_serving() {
  local i=$1 pid=$2 deadline=$((SECONDS + start_wait_s))
  while ((SECONDS < deadline)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$data/$i/node.pid"
      echo "cluster: store $i exited at start; the end of $data/$i/node.log:" >&2
      tail -n 15 "$data/$i/node.log" >&2
      exit 1
    fi
    [[ $(metric "$i" up) == 1 ]] && return 0
    sleep 0.2
  done
  die "store $i (pid $pid) did not answer on its admin port within" \
    "${start_wait_s}s; see $data/$i/node.log"
}

wait_leader() {
  local deadline=$((SECONDS + leader_wait_s)) i
  while ((SECONDS < deadline)); do
    for i in "${stores[@]}"; do
      [[ -n $(running_pid "$i") ]] || continue
      if [[ $(metric "$i" region_leaders) =~ ^[1-9] ]]; then
        echo "cluster: store $i leads region 1"
        return 0
      fi
    done
    sleep 0.2
  done
  die "no store leads region 1 after ${leader_wait_s}s; see $data/*/node.log"
}

stop_one() {
  local i=$1 pid deadline
  pid=$(running_pid "$i")
  if [[ -z $pid ]]; then
    rm -f "$data/$i/node.pid"
    echo "store $i: not running"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  # Waits on the node's identity, not its pid: once it exits, its pid may
  # go to another process (pids wrap at /proc/sys/kernel/pid_max, 32768 on
  # many machines), which must never get the SIGKILL below.
  deadline=$((SECONDS + stop_wait_s))
  while [[ $(running_pid "$i") == "$pid" ]] && ((SECONDS < deadline)); do
    sleep 0.1
  done
  if [[ $(running_pid "$i") == "$pid" ]]; then
    # A second signal ends it at once; nothing acknowledged is lost.
    echo "store $i: still running ${stop_wait_s}s after SIGTERM; killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
    deadline=$((SECONDS + stop_wait_s))
    while [[ $(running_pid "$i") == "$pid" ]]; do
      ((SECONDS < deadline)) ||
        die "store $i (pid $pid) survived SIGKILL for ${stop_wait_s}s"
      sleep 0.1
    done
  fi
  rm -f "$data/$i/node.pid"
  echo "store $i: stopped (was pid $pid)"
}

status() {
  local i pid leaders
  for i in "${stores[@]}"; do
    pid=$(running_pid "$i")
    if [[ -z $pid ]]; then
      echo "store $i: stopped"
      continue
    fi
    leaders=$(metric "$i" region_leaders)
    echo "store $i: running (pid $pid), client 127.0.0.1:$(client_port "$i")," \
      "admin http://127.0.0.1:$(admin_port "$i"), leads ${leaders:-?} region(s)"
  done
}

command=${1:-}
case $command in
  start)
    if [[ $# -ge 2 ]]; then
      check_store_arg "$2"
      start_one "$2"
    else
      for i in "${stores[@]}"; do start_one "$i"; done
      wait_leader
    fi
    ;;
  stop)
    if [[ $# -ge 2 ]]; then
      check_store_arg "$2"
      stop_one "$2"
    else
      for i in "${stores[@]}"; do stop_one "$i"; done
    fi
    ;;
  status) status ;;
  *)
    echo "usage: tools/cluster.sh start [1|2|3] | stop [1|2|3] | status" >&2
    exit 2
    ;;
esac
