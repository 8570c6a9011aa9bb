#!/usr/bin/env bash
# Checks formatting (clang-format, .clang-format) and runs clang-tidy
# (.clang-tidy) over the project's C++ sources. Exits non-zero on any finding.
#   tools/lint.sh          check everything
#   tools/lint.sh --fix    rewrite files to the format (clang-tidy still checks)
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh

fix=0
if [[ ${1:-} == "--fix" ]]; then fix=1; fi

mapfile -t sources < <(git ls-files '*.h' '*.cc' | grep -v '^third_party/')
if [[ ${#sources[@]} -eq 0 ]]; then
  echo "lint: no sources found" >&2
  exit 1
fi

status=0
if [[ $fix -eq 1 ]]; then
  clang-format -i --style=file "${sources[@]}"
elif ! clang-format --dry-run --Werror --style=file "${sources[@]}"; then
  echo "lint: formatting differs; run tools/lint.sh --fix" >&2
  status=1
fi

# clang-tidy needs the generated protobuf headers and the same language
# settings as the build; Bazel 4 writes no compilation database, so the flags
# are given here.
bazel build //proto:raftstore_proto_gen >/dev/null 2>&1
genfiles=$(bazel info bazel-bin 2>/dev/null)
# clang-tidy reads the non-test .cc files (and, through them, every header).
# Test files are format-checked only: parsing GoogleTest and RapidCheck costs
# about 40 CPU-seconds a file, which would make this check the slowest part
# of CI for findings that matter least.
mapfile -t tidy_sources < <(printf '%s\n' "${sources[@]}" | grep '\.cc$' |
  grep -v -E '_test\.cc$|_benchmark\.cc$|/testing/|_test_network\.cc$|random_message\.cc$|fuzz_cluster\.cc$')
tidy() {
  clang-tidy --quiet --warnings-as-errors='*' "$@" \
    -- -std=c++20 -x c++ -I. -I"$genfiles" -DRAFTSTORE_DEBUG_CHECKS 2>&1 |
    grep -v -E '^[0-9]+ warnings? generated\.$|^Suppressed [0-9]+ warnings|^Use -header-filter|^Use -system-headers' || true
}
export -f tidy
export genfiles
tidy_log=$(mktemp)
trap 'rm -f "$tidy_log"' EXIT
printf '%s\n' "${tidy_sources[@]}" | xargs -P 2 -n 4 bash -c 'tidy "$@"' _ | tee "$tidy_log"
if grep -q -E 'error:|warning:' "$tidy_log"; then
  echo "lint: clang-tidy found problems" >&2
  status=1
fi
if [[ $status -eq 0 ]]; then
  echo "lint: ${#sources[@]} files formatted, ${#tidy_sources[@]} files clean under clang-tidy"
fi
exit "$status"
