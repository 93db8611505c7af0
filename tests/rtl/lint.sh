#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `verilator --lint-only -Wall` of the whole core at N = 4 and 16 (every waiver is a commented
# lint_off in the source), and an Icarus -g2012 compile of it. One counted case per check.
cd "$(dirname "$0")/../.."
VERILATOR=${VERILATOR:-verilator}
IVERILOG=${IVERILOG:-iverilog}
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
echo "# rtl/lint: $pass passed, $fail failed"
[ $fail = 0 ]
