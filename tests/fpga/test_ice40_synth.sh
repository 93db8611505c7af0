#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The iCEBreaker build (mk/fpga.mk: make fpga-ice40, fpga/flow.sh): Yosys synthesizes the board top (pb_icebreaker: PLL, reset, pb_board = core + SPRAM host memory +
# UART bridge) with `check -assert`, and the packed design stays within the UP5K's hard blocks
# (8 SB_MAC16, 30 block RAMs, 4 SPRAMs, 1 PLL). The logic cells do NOT fit (docs/fpga.md: the
# core and the board's bridge need about 1.7 times the 5,280 cells); this test reports the count
# and does not check it; `make fpga-ice40` fails on it (nextpnr stops at placement, after its
# packer has printed the utilization that the report shows).
cd "$(dirname "$0")/../.."
. tests/lib/check.sh
R=build/fpga/ice40/report.txt
make -s --no-print-directory fpga-ice40 > "$CHECK_TMP/flow" 2>&1
check "synthesis of the iCEBreaker top (yosys: check -assert)" grep -q "^yosys: exit 0" build/fpga/ice40/flow.log
check "nextpnr packer ran and wrote the report" test -s "$R"
within() { # within KEY MAX: the report's used count of KEY is at most MAX
  local used
  used=$(awk -v k="$1" '$0 ~ " "k" " {for (i = 1; i <= NF; i++) if ($i == "/") print $(i-1)}' "$R" | head -1)
  [ -n "$used" ] && [ "$used" -le "$2" ] || { echo "$1: $used (at most $2)"; return 1; }
}
check "SB_MAC16 within 8" within ICESTORM_DSP 8
check "block RAM within 30" within ICESTORM_RAM 30
check "SPRAM within 4" within ICESTORM_SPRAM 4
check "PLL within 1" within ICESTORM_PLL 1
sed 's/^/    /' "$R"
check_done "fpga/ice40_synth"
