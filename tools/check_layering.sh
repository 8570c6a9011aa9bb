#!/usr/bin/env bash
# Proves that Bazel visibility enforces the layering of docs/architecture.md:
# every target in //core/layering_probe depends on something core/ must never
# use, and each must be refused at analysis time with "is not visible". A
# probe that builds means a visibility rule was loosened: this script fails.
set -euo pipefail
cd "$(dirname "$0")/.."

probes=$(bazel query --output=label 'kind(cc_library, //core/layering_probe:*)' 2>/dev/null)
if [[ -z "$probes" ]]; then
  echo "check_layering: no probes found in //core/layering_probe" >&2
  exit 1
fi
failed=0
for probe in $probes; do
  if output=$(bazel build --nobuild "$probe" 2>&1); then
    echo "check_layering: FAIL: $probe built, so core/ can depend on a layer above it" >&2
    failed=1
  elif grep -q "is not visible from target" <<<"$output"; then
    echo "check_layering: ok: $probe refused (not visible)"
  else
    echo "check_layering: FAIL: $probe failed for another reason:" >&2
    echo "$output" | grep -E "ERROR" >&2 || true
    failed=1
  fi
done

# One deliberate exception to "core never sees sim": the storage engine's
# tests run on SimDisk (//sim:disk is visible to //core/storage for that), so
# that the WAL and manifest are tested against the very disk model that the
# simulator crashes. No production (non-test, non-testonly) target in core/ may
# depend on anything in sim/.
leaks=$(bazel query --output=label \
  "(kind('cc_library|cc_binary', //core/... except //core/layering_probe/...) except attr(testonly, 1, //core/...)) intersect rdeps(//core/..., //sim/...)" \
  2>/dev/null)
if [[ -n "$leaks" ]]; then
  echo "check_layering: FAIL: production targets in core/ depend on sim/:" >&2
  echo "$leaks" >&2
  failed=1
else
  echo "check_layering: ok: no production target in core/ depends on sim/"
fi
exit "$failed"
