#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Hand-checkable and error programs on the simulated board over the UART link against the C
# reference model (tests/fpga/test_uart_progs.c): the N=4 programs the C unit tests save under
# build/progs (PB_PROG_DUMP in tests/run_tests.sh; made here when absent), retargeted to the
# board. Ends with "# fpga/test_uart_progs: P passed, F failed".
cd "$(dirname "$0")/../.."
. tests/lib/check.sh
. tests/fpga/uart_sim.sh
trap 'sim_stop; rm -rf "$CHECK_TMP"' EXIT
LOG=build/fpga/logs

progs=build/progs
if ! ls $progs/*.pbs > /dev/null 2>&1; then
  progs=$CHECK_TMP/progs; mkdir -p $progs
  for t in test_programs test_asm test_model_errors; do PB_PROG_DUMP=$progs build/tests/$t > /dev/null 2>&1; done
fi
n4=$(grep -l '^\.hw n=4 ' $progs/*.pbs)
check "N=4 programs to run ($(echo $n4 | wc -w) in $progs)" test -n "$n4"

if sim_start progs; then
  out=$(build/fpga/test_uart_progs "$PORT" $n4 2>&1); rc=$?
  echo "$out" > $LOG/test_uart_progs.log
  echo "$out" | grep -E '^(FAIL|[0-9]+ programs|#)' | head -20
  line=$(grep -E '^# test_uart_progs: [0-9]+ passed, [0-9]+ failed$' <<< "$out")
  if [ -n "$line" ]; then
    CHECK_PASS=$((CHECK_PASS + $(sed -E 's/.*: ([0-9]+) passed.*/\1/' <<< "$line")))
    CHECK_FAIL=$((CHECK_FAIL + $(sed -E 's/.*, ([0-9]+) failed/\1/' <<< "$line")))
  fi
  [ "$rc" = 0 ] && [ -n "$line" ] || fail "test_uart_progs exited with $rc"
  check "simulator exits cleanly" sim_stop
  sim_stats
fi
check_done fpga/test_uart_progs
