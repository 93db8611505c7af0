#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The RTL core at the iCE40 board's parameters (N=2, one requantizer lane: RQ_LANES=1, 40-bit
# counters; mk/fpga.mk) in lock-step co-simulation with the C model and the timing model at
# hw.rq_lanes = 1: the random programs of tests/rtl/test_cosim_random.c and the hand-checkable
# programs of the C unit tests with N=2. (The main RTL tests cover the default, one lane per column.)
# Also `verilator --lint-only -Wall` of the core with these parameters.
cd "$(dirname "$0")/../.."
. tests/lib/check.sh
check "verilator -Wall lint at N=2 RQ_LANES=1 CNT_W=40" ${VERILATOR:-verilator} --lint-only -Wall -Irtl \
  --top-module pb_core -GN=2 -GSP_ROWS=1024 -GACC_ROWS=256 "-GHOST_BYTES=64'd131072" -GRQ_LANES=1 -GCNT_W=40 rtl/*.sv
check "verilator -Wall lint at N=8 RQ_LANES=2" ${VERILATOR:-verilator} --lint-only -Wall -Irtl --top-module pb_core \
  -GN=8 -GRQ_LANES=2 rtl/*.sv
B=build/fpga/tests/ice40
check "random programs, RTL at rq_lanes=1" "$B/test_cosim_random"
grep -E "^ice40|^test_cosim_random" "$CHECK_TMP/out" | head -8 | sed 's/^/    /'
if [ -d build/progs ]; then
  check "hand-checkable programs, RTL at rq_lanes=1" "$B/test_cosim_progs"
  grep "^test_cosim_progs:" "$CHECK_TMP/out" | sed 's/^/    /'
else
  fail "build/progs missing (the C unit tests write it: run tests/run_tests.sh)"
fi
check_done "fpga/ice40_rtl"
