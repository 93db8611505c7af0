#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The iCEBreaker flows (mk/fpga.mk, fpga/flow.sh; docs/fpga.md):
#  1. make fpga-ice40-shell: the board shell (PLL, reset, pins, UART bridge, host-memory arbiter,
#     SPRAM) with a stand-in core (fpga/shell/pb_core.sv, not the accelerator) must pass: placed,
#     routed, timing met at the target clock, bitstream packed.
#  2. make fpga-ice40: the board with the accelerator core (mk/fpga.mk ICE40_HW) must pass the same
#     way: every resource within the UP5K, timing met at ICE40_FREQ, bitstream packed.
#  3. fpga/flow.sh refuses parameters the core cannot take.
cd "$(dirname "$0")/../.."
. tests/lib/check.sh

# used count of a report's resource KEY
used() { awk -v k="$1" '$0 ~ " "k" " {for (i = 1; i <= NF; i++) if ($i == "/") print $(i-1)}' "$2" | head -1; }
within() { # within KEY MAX REPORT
  local u
  u=$(used "$1" "$3")
  [ -n "$u" ] && [ "$u" -le "$2" ] || { echo "$1: ${u:-missing} (at most $2)"; return 1; }
}

# ---- 1. the board shell ----
S=build/fpga/ice40_shell
make -s --no-print-directory fpga-ice40-shell > "$CHECK_TMP/shell" 2>&1
rc=$?
check "make fpga-ice40-shell exits 0" test $rc = 0
check "shell report: result PASS" grep -qx "result: PASS" $S/report.txt
check "shell bitstream written" test -s $S/pb_icebreaker.bin
check "shell Fmax reported and met" grep -q "^Fmax: .*: PASS$" $S/report.txt
sed 's/^/    /' $S/report.txt

# ---- 2. the board with the core ----
R=build/fpga/ice40/report.txt
make -s --no-print-directory fpga-ice40 > "$CHECK_TMP/flow" 2>&1
rc=$?
check "synthesis of the iCEBreaker top (yosys: check -assert)" grep -q "^yosys: exit 0" build/fpga/ice40/flow.log
check "the flow wrote its report" test -s "$R"
check "SB_MAC16 within 8" within ICESTORM_DSP 8 "$R"
check "block RAM within 30" within ICESTORM_RAM 30 "$R"
check "SPRAM within 4" within ICESTORM_SPRAM 4 "$R"
check "PLL within 1" within ICESTORM_PLL 1 "$R"
check "make fpga-ice40 exits 0" test $rc = 0
check "report: result PASS" grep -qx "result: PASS" "$R"
check "Fmax reported and met" grep -q "^Fmax: .*: PASS$" "$R"
check "logic cells within 5280" within ICESTORM_LC 5280 "$R"
check "bitstream written" test -s build/fpga/ice40/pb_icebreaker.bin
sed 's/^/    /' "$R"

# ---- 3. parameters the flow refuses before Yosys runs (Yosys does not check RQ_LANES: pb_core) ----
refuses() { # refuses EXPECTED-MESSAGE VAR=VALUE...
  local msg=$1 rc
  shift
  env N=4 SP_ROWS=1024 ACC_ROWS=256 HOST_BYTES=131072 RQ_LANES=1 CNT_W=40 FREQ=30 SEED=1 BAUD=3000000 \
    OUT=build/fpga/ice40_refused "$@" fpga/flow.sh ice40 > "$CHECK_TMP/refused" 2>&1
  rc=$?
  [ $rc = 2 ] && grep -q "$msg" "$CHECK_TMP/refused" || { echo "exit $rc:"; cat "$CHECK_TMP/refused"; return 1; }
}
check "flow.sh refuses RQ_LANES=3 at N=4" refuses "RQ_LANES=3 is not a divisor of N=4" RQ_LANES=3
check "flow.sh refuses CNT_W=32" refuses "CNT_W=32 is not in 33..64" CNT_W=32
check "flow.sh refuses RQ_MULS=7" refuses "RQ_MULS=7 is not in 3..6" RQ_MULS=7
check "flow.sh refuses BUF_RAM=2" refuses "BUF_RAM=2 is not 0 or 1" BUF_RAM=2
check_done "fpga/ice40_synth"
