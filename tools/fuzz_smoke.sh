#!/usr/bin/env bash
# A short run of every fuzz target (libFuzzer + ASan, --config=fuzz), part of
# the test command: each target explores for FUZZ_SECONDS (default 15) from
# its seed corpus (the files its <name>_corpus_test replays) with a fixed
# libFuzzer seed. A crash fails the run and leaves the input in
# /tmp/raftstore-fuzz/<target>/ to add to the corpus once fixed.
# Longer runs: tools/soak.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${FUZZ_SECONDS:-15}
mapfile -t targets < <(bazel query --output=label \
  'attr(name, "_fuzzer$", kind(cc_binary, //fuzz/...))' 2>/dev/null)
if [[ ${#targets[@]} -eq 0 ]]; then
  echo "fuzz_smoke: no fuzz targets found" >&2
  exit 1
fi
bazel build --config=fuzz "${targets[@]}" >/dev/null 2>&1 ||
  bazel build --config=fuzz "${targets[@]}"
bin=$(bazel info --config=fuzz bazel-bin 2>/dev/null)
bazel build --config=fuzz $(bazel query "labels(data, attr(name, '_fuzzer_corpus_test$', //fuzz/...))" 2>/dev/null) >/dev/null 2>&1 || true  # generated seed corpora

status=0
for target in "${targets[@]}"; do
  path=${target#//}
  name=${path#*:}
  package=${path%%:*}
  binary="$bin/$package/$name"
  work="/tmp/raftstore-fuzz/$name"
  rm -rf "$work"
  mkdir -p "$work/corpus"
  # Seed corpus: the data files of <name>_corpus_test.
  mapfile -t seeds < <(bazel query --output=location \
    "labels(data, //$package:${name}_corpus_test)" 2>/dev/null |
    sed -e 's/:[0-9]*:[0-9]*: .*//' -e 's/: .*//')
  for seed in "${seeds[@]}"; do
    if [[ -f "$seed" ]]; then cp "$seed" "$work/corpus/" 2>/dev/null || true; fi
  done
  for generated in "$bin/$package"/corpus/*; do
    [[ -f "$generated" ]] && cp "$generated" "$work/corpus/" 2>/dev/null || true
  done
  if (cd "$work" && "$binary" -max_total_time="$seconds" -seed=1 \
        -print_final_stats=1 corpus >"$work/log" 2>&1); then
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/log" |
      grep -o '[0-9]*$' || echo '?')
    echo "fuzz_smoke: ok: $target ($runs runs in ${seconds}s, $(ls "$work/corpus" | wc -l) corpus files)"
  else
    echo "fuzz_smoke: FAIL: $target crashed; input and log in $work" >&2
    tail -30 "$work/log" >&2
    status=1
  fi
done
exit "$status"
