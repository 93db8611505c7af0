# SPDX-License-Identifier: Apache-2.0
# Shell test helpers: source this, call `check NAME CMD...` / `check_fails NAME PATTERN CMD...`,
# and end with `check_done NAME`, which prints "# NAME: P passed, F failed".
CHECK_PASS=0
CHECK_FAIL=0
CHECK_TMP=$(mktemp -d)
trap 'rm -rf "$CHECK_TMP"' EXIT

pass() { CHECK_PASS=$((CHECK_PASS + 1)); }
fail() { CHECK_FAIL=$((CHECK_FAIL + 1)); echo "FAIL: $*"; }

# check NAME CMD...: CMD must exit 0.
check() {
  local name=$1; shift
  if "$@" > "$CHECK_TMP/out" 2>&1; then pass; else fail "$name (exit $?)"; sed 's/^/    /' "$CHECK_TMP/out" | head -20; fi
}

# check_fails NAME PATTERN CMD...: CMD must exit non-zero (not by a signal) with PATTERN in its output.
check_fails() {
  local name=$1 pattern=$2; shift 2
  "$@" > "$CHECK_TMP/out" 2>&1
  local rc=$?
  if [ $rc -eq 0 ]; then fail "$name: succeeded, expected failure"
  elif [ $rc -ge 128 ]; then fail "$name: killed by signal $((rc - 128))"
  elif ! grep -q -- "$pattern" "$CHECK_TMP/out"; then fail "$name: output lacks '$pattern'"; sed 's/^/    /' "$CHECK_TMP/out" | head -10
  else pass; fi
}

check_done() {
  echo "# $1: $CHECK_PASS passed, $CHECK_FAIL failed"
  [ "$CHECK_FAIL" = 0 ]
}
