#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Checks of the board top and its UART path (fpga/rtl/, docs/uart.md), one counted case each:
#   verilator --lint-only -Wall of pb_board (N = 4 and 16) and of each fpga/rtl module alone;
#   Icarus -g2012 elaborates pb_board;
#   Yosys: generic `synth -top pb_board` + `check -assert` + no latches (the core as a blackbox:
#   tests/rtl/synth.sh synthesizes it; a small host memory, else the RAM becomes flip-flops);
#   `synth_ice40 -spram` maps the 128 KiB host memory to exactly 4 SB_SPRAM256KA;
#   the host-memory controller's Verilator bench (tests/fpga/host_mem, N = 4 and 16).
# Logs in build/fpga/logs/. Ends with "# fpga/test_uart_rtl: P passed, F failed".
cd "$(dirname "$0")/../.."
VERILATOR=${VERILATOR:-verilator}
IVERILOG=${IVERILOG:-iverilog}
YOSYS=${YOSYS:-yosys}
LOG=build/fpga/logs
mkdir -p "$LOG"
pass=0; fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $1"; [ -f "$2" ] && grep -v "sorry: constant selects" "$2" | head -15 | sed 's/^/    /'; }
RTL=$(ls rtl/*.sv | tr "\n" " ")
FRTL=$(ls fpga/rtl/*.sv | tr "\n" " ")

# ---- Verilator host-memory bench: build in the background while lint runs ----
bench_build() { # N
  mkdir -p "build/fpga/tb_host_mem/n$1" # Verilator makes only the last level of --Mdir
  "$VERILATOR" --cc --exe --build -j 2 -Wall -Wno-fatal --x-assign unique --x-initial unique -Ifpga/rtl \
    --top-module tb_host_mem_top -GN="$1" -CFLAGS "-O1 -std=c++17 -DTB_N=$1" -MAKEFLAGS OPT_FAST=-O1 \
    -MAKEFLAGS OPT_SLOW=-O0 --Mdir "build/fpga/tb_host_mem/n$1" -o tb_host_mem tests/fpga/host_mem/tb_host_mem_top.sv \
    fpga/rtl/pb_host_mem.sv fpga/rtl/pb_host_ram.sv "$PWD/tests/fpga/host_mem/tb_host_mem.cpp"
}
( for n in 4 16; do bench_build $n > "$LOG/tb_host_mem_build_n$n.log" 2>&1; echo $? > "$LOG/tb_host_mem_build_n$n.rc"; done ) &
builder=$!

for n in 4 16; do
  if "$VERILATOR" --lint-only -Wall -Irtl -Ifpga/rtl --top-module pb_board -GN=$n $RTL $FRTL > "$LOG/lint_board_n$n.txt" 2>&1
  then ok; else bad "verilator -Wall lint of pb_board at N=$n" "$LOG/lint_board_n$n.txt"; fi
done
for m in pb_uart_rx pb_uart_tx pb_crc16 pb_uart_bridge pb_host_ram pb_host_mem; do
  if "$VERILATOR" --lint-only -Wall -Ifpga/rtl --top-module $m $FRTL > "$LOG/lint_$m.txt" 2>&1
  then ok; else bad "verilator -Wall lint of $m alone" "$LOG/lint_$m.txt"; fi
done
if "$IVERILOG" -g2012 -Irtl -Ifpga/rtl -s pb_board -o "$LOG/pb_board.vvp" $RTL $FRTL > "$LOG/iverilog.txt" 2>&1
then ok; else bad "iverilog -g2012 of pb_board" "$LOG/iverilog.txt"; fi

if "$YOSYS" -q -l "$LOG/synth_board.txt" -p "read_verilog -sv -Irtl -lib rtl/pb_core.sv; \
    read_verilog -sv -Irtl -Ifpga/rtl $FRTL; chparam -set HOST_BYTES 256 pb_board; synth -top pb_board; \
    check -assert; tee -o $LOG/synth_board_stat.txt stat" > /dev/null 2>&1
then ok; else bad "yosys synth -top pb_board / check -assert" "$LOG/synth_board.txt"; fi
if [ -s "$LOG/synth_board_stat.txt" ] && ! grep -qE '\$_DLATCH|\$dlatch' "$LOG/synth_board_stat.txt"
then ok; else bad "latches in the synthesized board (or no statistics)"; fi
if "$YOSYS" -q -l "$LOG/synth_ram_ice40.txt" -p "read_verilog -sv fpga/rtl/pb_host_ram.sv; \
    chparam -set WORDS 65536 pb_host_ram; synth_ice40 -spram -top pb_host_ram; \
    tee -o $LOG/synth_ram_ice40_stat.txt stat" > /dev/null 2>&1 && \
   grep -qE 'SB_SPRAM256KA +4$' "$LOG/synth_ram_ice40_stat.txt"
then ok; else bad "synth_ice40 -spram: the 128 KiB host memory is not 4 SB_SPRAM256KA" "$LOG/synth_ram_ice40_stat.txt"; fi

wait $builder
for n in 4 16; do
  if [ "$(cat "$LOG/tb_host_mem_build_n$n.rc")" = 0 ]; then
    out=$("build/fpga/tb_host_mem/n$n/tb_host_mem" 2>&1); rc=$?
    echo "$out" > "$LOG/tb_host_mem_n$n.log"
    line=$(grep -E '^# host_mem: [0-9]+ passed, [0-9]+ failed$' <<< "$out")
    p=$(sed -E 's/.*: ([0-9]+) passed.*/\1/' <<< "$line"); f=$(sed -E 's/.*, ([0-9]+) failed/\1/' <<< "$line")
    if [ -n "$line" ] && [ "$rc" = 0 ]; then pass=$((pass + p)); else fail=$((fail + ${f:-1})); bad "host-memory bench N=$n" "$LOG/tb_host_mem_n$n.log"; fail=$((fail - 1)); fi
    grep '^random' <<< "$out" | sed "s/^/N=$n: /"
  else
    bad "building the host-memory bench at N=$n" "$LOG/tb_host_mem_build_n$n.log"
  fi
done
echo "# fpga/test_uart_rtl: $pass passed, $fail failed"
[ $fail = 0 ]
