#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Tests rtl/pb_requant.sv: Verilator lint, the Verilator harness against pb_requant() (tb_requant.cpp),
# the Icarus smoke test (tb_requant_iv.sv), Yosys synthesis (generic and iCE40) and a re-simulation
# of the iCE40 netlist with the Icarus test. Everything is built in build/rtl/requant/.
# Ends with "# rtl_requant: P passed, F failed" (the sum of all checks); exit status 1 if F > 0.
# Environment: PB_SEED (random seed of tb_requant), VERILATOR, IVERILOG, VVP, YOSYS, CC.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
SRC=$ROOT/tests/rtl/requant
RTL=$ROOT/rtl/pb_requant.sv
OUT=$ROOT/build/rtl/requant
VERILATOR=${VERILATOR:-verilator}
IVERILOG=${IVERILOG:-iverilog}
VVP=${VVP:-vvp}
YOSYS=${YOSYS:-yosys}
CC=${CC:-gcc}
YOSYS_DATDIR=$("$YOSYS-config" --datdir 2>/dev/null || echo /usr/share/yosys)
ICE40_SIM=${ICE40_SIM:-$YOSYS_DATDIR/ice40/cells_sim.v}

mkdir -p "$OUT"
pass=0
fail=0

ok() { pass=$((pass + 1)); echo "  ok    $1"; }
show_fail() { echo "  FAIL  $1 (log: $2)"; grep -v 'sorry: constant selects' "$2" | tail -n 20 | sed 's/^/        /'; }
bad() { fail=$((fail + 1)); show_fail "$@"; }

# Adds the "# NAME: P passed, F failed" line of a log to the totals; a missing line, or a non-zero
# exit status with F = 0, counts as one failure.
tally() { # tally LOG RC
  local line p=0 f=0
  line=$(grep -E '^# [a-z_]+: [0-9]+ passed, [0-9]+ failed$' "$1" | tail -n 1)
  if [ -n "$line" ]; then
    p=$(sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed$/\1/' <<< "$line")
    f=$(sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed$/\2/' <<< "$line")
  fi
  if [ -z "$line" ] || { [ "$2" != 0 ] && [ "$f" = 0 ]; }; then f=1; fi
  pass=$((pass + p))
  fail=$((fail + f))
  if [ "$f" = 0 ]; then echo "  ok    $line"; else show_fail "${line:-exit status $2}" "$1"; fi
}

# ---- 1. lint ----
echo "== verilator --lint-only -Wall"
if "$VERILATOR" --lint-only -Wall "$RTL" > "$OUT/lint.log" 2>&1; then ok "lint"; else bad "lint" "$OUT/lint.log"; fi
# HOLD_MULT = 1 (pb_ld_unit with a lane per column): its results are checked by tests/rtl/dma (tb_ld)
if "$VERILATOR" --lint-only -Wall -GHOLD_MULT=1 "$RTL" > "$OUT/lint_hold.log" 2>&1; then ok "lint HOLD_MULT=1"
else bad "lint HOLD_MULT=1" "$OUT/lint_hold.log"; fi
# every multiplier count (MULS), with and without HOLD_MULT; each is simulated below
for m in 4 5 6; do
  for h in 0 1; do
    if "$VERILATOR" --lint-only -Wall -GMULS=$m -GHOLD_MULT=$h "$RTL" > "$OUT/lint_m$m.log" 2>&1; then
      ok "lint MULS=$m HOLD_MULT=$h"
    else bad "lint MULS=$m HOLD_MULT=$h" "$OUT/lint_m$m.log"; fi
  done
done

# ---- 2. Verilator harness, pb_requant() compiled as C ----
echo "== verilator: tb_requant.cpp against pb_requant()"
# every multiplier count: 3 (the default), 6 (the iCEBreaker build's), and 4 and 5, which no
# board build takes but which combine the other two's halves (the four multiplies, the shifting ones)
rc=0
"$CC" -std=c11 -O2 -Wall -Wextra -Werror -I"$ROOT/include" -c "$ROOT/common/requant.c" -o "$OUT/requant.o" \
  > "$OUT/verilator_build.log" 2>&1 || rc=$?
for m in 3 4 5 6; do
  [ $m = 3 ] && sfx= || sfx=_m$m
  r=$rc
  if [ "$r" = 0 ]; then
    echo "-- MULS=$m"
    "$VERILATOR" --cc --exe --build -j 2 -Wall --x-assign unique --x-initial unique -GMULS=$m \
      --Mdir "$OUT/obj_dir$sfx" -o tb_requant \
      -CFLAGS "-O2 -std=c++17 -Wall -I$ROOT/include" -MAKEFLAGS "OPT_FAST=-O2 OPT_SLOW=-O1 OPT_GLOBAL=-O2" \
      "$RTL" "$SRC/tb_requant.cpp" "$OUT/requant.o" >> "$OUT/verilator_build$sfx.log" 2>&1 || r=$?
  fi
  if [ "$r" = 0 ]; then
    "$OUT/obj_dir$sfx/tb_requant" > "$OUT/tb_requant$sfx.log" 2>&1
    r=$?
    cat "$OUT/tb_requant$sfx.log"
    tally "$OUT/tb_requant$sfx.log" "$r"
  else
    bad "verilator build MULS=$m" "$OUT/verilator_build$sfx.log"
  fi
done

# ---- 3. Icarus smoke test ----
# Icarus 11 prints "sorry: constant selects in always_* processes are not currently supported (all bits
# will be included)" for every constant part-select in an always_comb. It only widens the sensitivity
# list (the result is the same), so those lines are kept in the log but not shown.
echo "== icarus: tb_requant_iv.sv"
if "$IVERILOG" -g2012 -o "$OUT/tb_requant_iv.vvp" "$SRC/tb_requant_iv.sv" "$RTL" > "$OUT/iverilog_build.log" 2>&1; then
  grep -v 'sorry: constant selects in always_\* processes' "$OUT/iverilog_build.log"
  "$VVP" -n "$OUT/tb_requant_iv.vvp" > "$OUT/tb_requant_iv.log" 2>&1
  rc=$?
  tally "$OUT/tb_requant_iv.log" "$rc"
else
  bad "iverilog build" "$OUT/iverilog_build.log"
fi

# ---- 4. Yosys: generic synth + check -assert, iCE40 with DSPs, no latch cells; the iCE40 netlist re-simulated ----
echo "== yosys: synth; check -assert / synth_ice40 -dsp; check -assert"
# MULS = 3 (the default) and 6 (the iCEBreaker build's); the Icarus test on each iCE40 netlist
for m in 3 6; do
  [ $m = 3 ] && sfx= || sfx=_m$m
  echo "-- MULS=$m"
  if (cd "$OUT" &&
      "$YOSYS" -q -l yosys_generic$sfx.log -p "read_verilog -sv $RTL; chparam -set MULS $m pb_requant; synth -top pb_requant; check -assert; \
        tee -q -o stat_generic$sfx.txt stat" &&
      "$YOSYS" -q -l yosys_ice40$sfx.log -p "read_verilog -sv $RTL; chparam -set MULS $m pb_requant; synth_ice40 -dsp -top pb_requant; check -assert; \
        tee -q -o stat_ice40$sfx.txt stat; write_verilog -noattr net_ice40$sfx.v") > "$OUT/yosys$sfx.log" 2>&1 &&
     ! grep -i latch "$OUT/stat_generic$sfx.txt" "$OUT/stat_ice40$sfx.txt" >> "$OUT/yosys$sfx.log"; then
    ok "yosys synth + synth_ice40 -dsp, check -assert, no latches (MULS=$m)"
    for f in generic ice40; do
      printf '        %-8s' "$f:"
      awk '/Number of cells:/ {printf " %s cells:", $4} /^ +(\$_|SB_)[A-Za-z0-9_]+ +[0-9]+$/ {printf " %s %s", $1, $2}' \
        "$OUT/stat_$f$sfx.txt"
      echo
    done
    # cells_sim.v gives some input ports default values, which Icarus 11 rejects: NO_ICE40_DEFAULT_ASSIGNMENTS.
    if [ -f "$ICE40_SIM" ] &&
       "$IVERILOG" -g2012 -o "$OUT/tb_requant_net$sfx.vvp" -DPB_NETLIST -DNO_ICE40_DEFAULT_ASSIGNMENTS \
         "$SRC/tb_requant_iv.sv" "$OUT/net_ice40$sfx.v" "$ICE40_SIM" > "$OUT/iverilog_net_build$sfx.log" 2>&1; then
      "$VVP" -n "$OUT/tb_requant_net$sfx.vvp" > "$OUT/tb_requant_net$sfx.log" 2>&1
      rc=$?
      tally "$OUT/tb_requant_net$sfx.log" "$rc"
    else
      bad "iCE40 netlist build for Icarus" "$OUT/iverilog_net_build$sfx.log"
    fi
  else
    bad "yosys MULS=$m" "$OUT/yosys$sfx.log"
  fi
done

echo "# rtl_requant: $pass passed, $fail failed"
[ "$fail" = 0 ]
