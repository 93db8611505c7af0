#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Netlist re-simulation: the core as synth_ice40 maps it at the iCE40 board's parameters (N=1,
# 256 scratchpad and accumulator rows, 64 KiB, RQ_LANES=1, CNT_W=33, RQ_MULS=6, BUF_RAM=1;
# mk/fpga.mk ICE40_HW), written by Yosys (write_verilog) and simulated with Yosys's
# iCE40 cell models (cells_sim.v) under Verilator, runs the RTL co-simulation tests in lock step
# with the C model: every scratchpad, accumulator and host write of every instruction, every issue
# cycle, the final status, counters and memories. Programs: the random valid and invalid programs
# of tests/rtl/test_cosim_random.c (300 valid, 60 invalid; PB_VALID / PB_INVALID) and the
# hand-checkable programs of the C unit tests with N=1 (tests/rtl/test_cosim_progs.c).
cd "$(dirname "$0")/../.."
. tests/lib/check.sh
B=build/fpga/tests/ice40net
check "random programs on the iCE40 netlist (valid, with and without wait states, and invalid)" "$B/test_cosim_random"
sed -n 's/^\(sim\|ice\|test_cosim\)/    &/p' "$CHECK_TMP/out" | head -12
if [ -d build/progs ]; then
  check "hand-checkable programs on the iCE40 netlist" "$B/test_cosim_progs"
  grep "^test_cosim_progs:" "$CHECK_TMP/out" | sed 's/^/    /'
else
  fail "build/progs missing (the C unit tests write it: run tests/run_tests.sh)"
fi
check_done "fpga/netsim"
