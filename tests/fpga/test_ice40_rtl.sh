#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The RTL core at the iCE40 board's parameters (mk/fpga.mk ICE40_HW: N=1, small memories, one
# requantizer lane, 33-bit counters) and at LANES_HW (N=2 with one requantizer lane for both
# columns: the shared-lane path of pb_ld_unit, which no board build uses now), each Verilated on its
# own and run in lock step with the C model: the random programs of tests/rtl/test_cosim_random.c
# and the hand-checkable programs of the C unit tests for its N. (The main RTL tests cover the
# default configurations, one lane per column.)
cd "$(dirname "$0")/../.."
. tests/lib/check.sh
for c in ice40 lanes; do
  V=$(tr a-z A-Z <<< $c)_HW
  read -r N SP ACC HOST LANES CNTW MULS BUFR <<< "$(make -s --no-print-directory print-$V)"
  check "verilator -Wall lint at $V: N=$N SP_ROWS=$SP ACC_ROWS=$ACC HOST_BYTES=$HOST RQ_LANES=$LANES CNT_W=$CNTW RQ_MULS=$MULS BUF_RAM=$BUFR" \
    ${VERILATOR:-verilator} --lint-only -Wall -Irtl --top-module pb_core -GN=$N -GSP_ROWS=$SP -GACC_ROWS=$ACC \
    "-GHOST_BYTES=64'd$HOST" -GRQ_LANES=$LANES -GCNT_W=$CNTW -GRQ_MULS=$MULS -GBUF_RAM=$BUFR rtl/*.sv
  B=build/fpga/tests/$c
  check "random programs, RTL at $V" "$B/test_cosim_random"
  grep -E "^$c|^test_cosim_random" "$CHECK_TMP/out" | head -8 | sed 's/^/    /'
  if [ -d build/progs ]; then
    check "hand-checkable programs, RTL at $V" "$B/test_cosim_progs"
    grep "^test_cosim_progs:" "$CHECK_TMP/out" | sed 's/^/    /'
  else
    fail "build/progs missing (the C unit tests write it: run tests/run_tests.sh)"
  fi
done
check "verilator -Wall lint at N=8 RQ_LANES=2" ${VERILATOR:-verilator} --lint-only -Wall -Irtl --top-module pb_core \
  -GN=8 -GRQ_LANES=2 rtl/*.sv
check_done "fpga/ice40_rtl"
