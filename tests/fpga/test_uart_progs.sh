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

progs=$(uart_progs_dir)
n4=$(grep -l '^\.hw n=4 ' $progs/*.pbs)
check "N=4 programs to run ($(echo $n4 | wc -w) in $progs)" test -n "$n4"

if sim_start progs; then
  run_uart_progs $LOG/test_uart_progs.log $n4
  check "simulator exits cleanly" sim_stop
  sim_stats
fi
check_done fpga/test_uart_progs
