#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `verilator --lint-only -Wall` of the whole core at N = 4 and 16 (every waiver is a commented
# lint_off in the source), and an Icarus -g2012 compile of it; parameters the core cannot be built
# with refused (CNT_W, RQ_MULS, BUF_RAM by Verilator, Yosys and Icarus; RQ_LANES by Verilator and
# Icarus) while a board whose defaults would be illegal elaborates in Yosys; BUF_RAM's effect on
# Yosys's RAM mapping. One counted case per check.
cd "$(dirname "$0")/../.."
VERILATOR=${VERILATOR:-verilator}
IVERILOG=${IVERILOG:-iverilog}
YOSYS=${YOSYS:-yosys}
mkdir -p build/logs
pass=0; fail=0
RTL=$(ls rtl/*.sv)
for n in 4 16; do
  if $VERILATOR --lint-only -Wall -Irtl --top-module pb_core -GN=$n $RTL > build/logs/lint_n$n.txt 2>&1; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1)); echo "FAIL: verilator lint at N=$n:"; head -20 build/logs/lint_n$n.txt
  fi
done
# Icarus prints "sorry: constant selects in always_* processes" for part-selects in always_comb
# (a sensitivity-list limitation, not an error): those lines are filtered from the report.
if $IVERILOG -g2012 -Irtl -s pb_core -o build/logs/pb_core.vvp $RTL > build/logs/iverilog.txt 2>&1; then
  pass=$((pass + 1))
else
  fail=$((fail + 1)); echo "FAIL: iverilog -g2012:"; grep -v "sorry: constant selects" build/logs/iverilog.txt | head -20
fi
# Parameters the core cannot be built with stop elaboration, naming the parameter, in each tool
# (a module that does not exist is instantiated); the same parameters with a legal value pass.
bad_param() { # TOOLS="..." bad_param NAME VALUE EXPECTED-MODULE-NAME
  local log=build/logs/lint_bad_$1.txt ok=1 tool
  for tool in $TOOLS; do
    if [ $tool = verilator ]; then
      $VERILATOR --lint-only -Wall -Irtl --top-module pb_core -GN=4 -G$1=$2 $RTL > $log 2>&1
    elif [ $tool = yosys ]; then
      $YOSYS -q -p "read_verilog -sv -Irtl $(echo $RTL); chparam -set N 4 -set $1 $2 pb_core; hierarchy -check -top pb_core" > $log 2>&1
    else
      $IVERILOG -g2012 -Irtl -s pb_core -Ppb_core.N=4 -Ppb_core.$1=$2 -o build/logs/bad.vvp $RTL > $log 2>&1
    fi
    if [ $? = 0 ] || ! grep -q "$3" $log; then ok=0; echo "FAIL: $tool accepted $1=$2 or did not name $3:"; head -5 $log; fi
  done
  if [ $ok = 1 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
}
# (RQ_LANES not in Yosys: fpga/flow.sh checks it before Yosys runs; see pb_core)
TOOLS="verilator iverilog" bad_param RQ_LANES 3 pb_error_RQ_LANES_is_not_a_divisor_of_N
TOOLS="verilator iverilog" bad_param RQ_LANES 8 pb_error_RQ_LANES_is_not_a_divisor_of_N
TOOLS="verilator yosys iverilog" bad_param CNT_W 32 pb_error_CNT_W_is_not_in_33_to_64
TOOLS="verilator yosys iverilog" bad_param RQ_MULS 2 pb_error_RQ_MULS_is_not_in_3_to_6
TOOLS="verilator yosys iverilog" bad_param RQ_MULS 7 pb_error_RQ_MULS_is_not_in_3_to_6
TOOLS="verilator yosys iverilog" bad_param BUF_RAM 2 pb_error_BUF_RAM_is_not_0_or_1
# ... but a legal instance of a core whose defaults would be illegal elaborates: the FPGA flows read
# the RTL with the board's RQ_LANES as the default (PB_RQ_LANES) and set N on the board's top, so
# Yosys also holds pb_core at its default N = 16 with RQ_LANES = 3 (unused)
if $YOSYS -q -p "read_verilog -lib +/ecp5/cells_bb.v; read_verilog -sv -Irtl -Ifpga/rtl -DPB_RQ_LANES=3 $(echo $RTL fpga/rtl/*.sv) fpga/ecp5/pb_ulx3s.sv; chparam -set N 12 pb_ulx3s; hierarchy -check -top pb_ulx3s" \
     > build/logs/lint_yosys_lanes.txt 2>&1; then
  pass=$((pass + 1))
else
  fail=$((fail + 1)); echo "FAIL: yosys: N=12 with PB_RQ_LANES=3 (defaults N=16):"; grep -v "^Warning: Replacing" build/logs/lint_yosys_lanes.txt | head -5
fi
if $VERILATOR --lint-only -Wall -Irtl --top-module pb_core -GN=4 -GRQ_LANES=2 -GCNT_W=33 $RTL > build/logs/lint_params.txt 2>&1; then
  pass=$((pass + 1))
else
  fail=$((fail + 1)); echo "FAIL: verilator lint at N=4 RQ_LANES=2 CNT_W=33:"; head -20 build/logs/lint_params.txt
fi
# BUF_RAM reaches Yosys (a ram_style attribute from a parameter: pb_fetch's parameter, the
# PB_BUF_RAM macro of pb_host_mem): block RAMs with 1, none with 0 (synth_ice40 up to its RAM mapping)
for b in 0 1; do
  log=build/logs/lint_buf_ram$b.txt
  if $YOSYS -q -p "read_verilog -sv -Irtl rtl/pb_fetch.sv; chparam -set BUF_RAM $b pb_fetch;
        synth_ice40 -top pb_fetch -run :map_ffram; tee -q -o $log.fetch stat; design -reset;
        read_verilog -sv -Ifpga/rtl -DPB_BUF_RAM=$b fpga/rtl/pb_host_mem.sv;
        synth_ice40 -top pb_host_mem -run :map_ffram; tee -q -o $log.mem stat" > $log 2>&1; then
    f=$(awk '/SB_RAM40_4K/ {n += $2} END {print n + 0}' $log.fetch)
    m=$(awk '/SB_RAM40_4K/ {n += $2} END {print n + 0}' $log.mem)
    if { [ $b = 0 ] && [ "$f$m" = 00 ]; } || { [ $b = 1 ] && [ "$f" -gt 0 ] && [ "$m" -gt 0 ]; }; then
      pass=$((pass + 1))
    else
      fail=$((fail + 1)); echo "FAIL: BUF_RAM=$b: pb_fetch $f, pb_host_mem $m SB_RAM40_4K"
    fi
  else
    fail=$((fail + 1)); echo "FAIL: yosys BUF_RAM=$b:"; tail -5 $log
  fi
done
echo "# rtl/lint: $pass passed, $fail failed"
[ $fail = 0 ]
