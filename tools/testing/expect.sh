# shellcheck shell=bash
# The checks shared by the CLI's shell tests (sourced, not run).
#
#   fail MESSAGE...                 counts a failure and prints it
#   expect CODE PATTERN -- CMD...   runs CMD; checks its exit code and that
#                                   stdout+stderr match the extended regex
#                                   PATTERN; leaves that output in
#                                   $last_output
#
# Call expect directly, never inside $(...): a failure counted in a subshell
# would be lost. Read $last_output after it instead. The test ends with
# `exit $((failures > 0))` or its own summary of $failures.

failures=${failures:-0}
last_output=""

fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

expect() {
  local code=$1 pattern=$2 actual
  shift 3
  last_output=$("$@" 2>&1)
  actual=$?
  if [[ $actual -ne $code ]]; then
    fail "'$*' exited $actual, want $code; output: $last_output"
  elif ! grep -Eq -- "$pattern" <<<"$last_output"; then
    fail "'$*' output does not match /$pattern/: $last_output"
  fi
}
