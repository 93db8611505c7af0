#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The RTL core at the ULX3S build's parameters (ECP5_HW in mk/fpga.mk: N, memories, requantizer
# lanes, 64-bit counters) in lock-step co-simulation with the C model and the timing model: the
# random programs of tests/rtl/test_cosim_random.c (valid, with host wait states, invalid), and the
# hand-checkable programs of the C unit tests when some are written for this N. Also
# `verilator --lint-only -Wall` of the core with these parameters. (make fpga-ecp5 builds this
# configuration; docs/fpga.md.)
cd "$(dirname "$0")/../.."
. tests/lib/check.sh
read -r N SP ACC HOST LANES CNTW MULS BUFR <<< "$(make -s --no-print-directory print-ECP5_HW)"
check "verilator -Wall lint at N=$N SP_ROWS=$SP ACC_ROWS=$ACC HOST_BYTES=$HOST RQ_LANES=$LANES CNT_W=$CNTW RQ_MULS=$MULS BUF_RAM=$BUFR" \
  ${VERILATOR:-verilator} --lint-only -Wall -Irtl --top-module pb_core -GN=$N -GSP_ROWS=$SP -GACC_ROWS=$ACC \
  "-GHOST_BYTES=64'd$HOST" -GRQ_LANES=$LANES -GCNT_W=$CNTW -GRQ_MULS=$MULS -GBUF_RAM=$BUFR rtl/*.sv
B=build/fpga/tests/ecp5
check "random programs, RTL at the ULX3S parameters" "$B/test_cosim_random"
grep -E "^ecp5|^test_cosim_random" "$CHECK_TMP/out" | head -8 | sed 's/^/    /'
if [ ! -d build/progs ]; then
  fail "build/progs missing (the C unit tests write it: run tests/run_tests.sh)"
elif grep -lq "^\.hw n=$N " build/progs/*.pbs 2> /dev/null; then
  check "hand-checkable programs, RTL at the ULX3S parameters" "$B/test_cosim_progs"
  grep "^test_cosim_progs:" "$CHECK_TMP/out" | sed 's/^/    /'
else
  echo "    (no hand-checkable program is written for N=$N: random programs only)"
fi
check_done "fpga/ecp5_rtl"
