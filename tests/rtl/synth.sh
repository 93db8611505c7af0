#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Synthesis checks of the core with Yosys (generic `synth`, N=4, small memories): no latches,
# no multiple drivers, no undriven nets (`check -assert`). Prints the cells per type to
# build/logs/synth_n4.txt (`make synth` shows them). One counted case per check.
cd "$(dirname "$0")/../.."
YOSYS=${YOSYS:-yosys}
N=${N:-4}
LOG=build/logs/synth_n$N.txt
mkdir -p build/logs
pass=0; fail=0
if $YOSYS -q -l "$LOG" -p "read_verilog -sv -Irtl $(ls rtl/*.sv | tr '\n' ' '); \
    chparam -set N $N -set SP_ROWS 64 -set ACC_ROWS 32 -set HOST_BYTES 65536 pb_core; \
    synth -top pb_core; check -assert; tee -o build/logs/synth_n${N}_stat.txt stat" > /dev/null 2>&1; then
  pass=$((pass + 1))
else
  fail=$((fail + 1)); echo "FAIL: yosys synth/check -assert of pb_core (N=$N); log: $LOG"; grep -E "ERROR|Warning" "$LOG" | head
fi
if [ -f build/logs/synth_n${N}_stat.txt ] && ! grep -qE '\$_DLATCH|\$dlatch' build/logs/synth_n${N}_stat.txt; then
  pass=$((pass + 1))
else
  fail=$((fail + 1)); echo "FAIL: latches in the synthesized core (or no statistics)"
fi
echo "# rtl/synth: $pass passed, $fail failed"
[ $fail = 0 ]
