#!/usr/bin/env bash
# The README's test command: installs what is missing, builds every target,
# runs every test (the simulator's regression seeds, seed range, determinism
# check and injected-bug suite among them), proves the layering rules hold,
# and gives every fuzz target a short run (tools/fuzz_smoke.sh). Exits
# non-zero on any failure. Extra arguments go to `bazel test` (for example
# --config=asan).
set -euo pipefail
cd "$(dirname "$0")/.."

tools/setup.sh
bazel build //... "$@"

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
bazel test //... --test_summary=short "$@" 2>&1 | tee "$log" || status=$?

tools/check_layering.sh || status=1

fuzz_failed=0
tools/fuzz_smoke.sh || { status=1; fuzz_failed=1; }

passed=$(grep -cE '^//\S+ .*PASSED' "$log" || true)
failed=$(grep -cE '^//\S+ .*(FAILED|TIMEOUT|NO STATUS|INCOMPLETE|FLAKY)' "$log" || true)
failed=$((failed + fuzz_failed))
if [[ $status -ne 0 && $failed -eq 0 ]]; then
  failed=1  # the build or the layering check failed before any test ran
fi
echo "tests: ${passed} passed, ${failed} failed"
exit "$status"
