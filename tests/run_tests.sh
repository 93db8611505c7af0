#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs the whole suite (after `make test-build`) and ends with one line "N passed, N failed".
# Each test program prints "# NAME: P passed, F failed"; a program that exits non-zero
# without such a line (a crash, a sanitizer report) counts as one failure.
# Full output of every program goes to build/logs/tests/NAME.log.
set -uo pipefail
cd "$(dirname "$0")/.."
LOG=build/logs/tests
mkdir -p "$LOG"
total_pass=0
total_fail=0

run_one() { # run_one NAME COMMAND...
  local name=$1; shift
  local log="$LOG/$name.log" start end rc line p f
  mkdir -p "$(dirname "$log")"
  start=$(date +%s)
  "$@" > "$log" 2>&1
  rc=$?
  end=$(date +%s)
  line=$(grep -E '^# .*: [0-9]+ passed, [0-9]+ failed$' "$log" | tail -1)
  if [ -n "$line" ]; then
    p=$(sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed$/\1/' <<< "$line")
    f=$(sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed$/\2/' <<< "$line")
  else
    p=0; f=0
  fi
  if [ "$rc" != 0 ] && [ "$f" = 0 ]; then f=1; fi
  total_pass=$((total_pass + p))
  total_fail=$((total_fail + f))
  if [ "$f" = 0 ]; then
    printf "  ok    %-34s %6d passed  (%ds)\n" "$name" "$p" $((end - start))
  else
    printf "  FAIL  %-34s %6d passed, %d failed  (%ds; log: %s)\n" "$name" "$p" "$f" $((end - start)) "$log"
    grep -E 'FAIL|ERROR|error|Sanitizer' "$log" | head -5 | sed 's/^/        /'
  fi
}

echo "== generated files"
run_one check-generated tests/lib/check_generated.sh
echo "== C unit tests (-O2 -Werror)"
# the programs these tests assemble are saved for the RTL co-simulation section
rm -rf build/progs && mkdir -p build/progs
export PB_PROG_DUMP=build/progs
for t in build/tests/test_*; do run_one "$(basename "$t")" "$t"; done
unset PB_PROG_DUMP
echo "== C unit tests (ASan + UBSan)"
for t in build/san/tests/test_*; do run_one "san/$(basename "$t")" "$t"; done
echo "== RTL: lint, synthesis, unit test benches"
run_one rtl/lint tests/rtl/lint.sh
run_one rtl/synth tests/rtl/synth.sh
for t in tests/rtl/*/run.sh; do run_one "rtl/$(basename "$(dirname "$t")")" "$t"; done
echo "== RTL against the reference model (lock-step co-simulation)"
for t in build/rtl-tests/test_*; do [ -x "$t" ] && run_one "rtl/$(basename "$t")" "$t"; done
echo "== SystemC/TLM-2.0 virtual platform"
run_one systemc tests/systemc/run.sh
echo "== driver library (libprotobrain)"
for t in tests/driver/test_*.sh; do [ -e "$t" ] && run_one "driver/$(basename "$t" .sh)" "$t"; done
echo "== FPGA: board tops, UART link, flows, netlist re-simulation"
for t in tests/fpga/test_*.sh; do [ -e "$t" ] && run_one "fpga/$(basename "$t" .sh)" "$t"; done
echo "== command-line tests"
for t in tests/cli/test_*.sh; do run_one "cli/$(basename "$t" .sh)" "$t"; done

echo "$total_pass passed, $total_fail failed"
[ "$total_fail" = 0 ]
