#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Tests of the systolic array RTL (rtl/pb_pe.sv, rtl/pb_array.sv): lint, synthesis checks,
# Verilator harnesses (PE; array at N = 2, 4, 16 and 3), Icarus smoke test, and the Icarus smoke
# test re-run on the Yosys netlists (generic and iCE40, N = 4).
# Builds into build/rtl/array/ (logs in build/rtl/array/logs/); ends with
# "# rtl/array: P passed, F failed" and exits non-zero on any failure.
# Env: PB_SEED (default 1) for the random tests; TRACE=1 builds the array harnesses with
# --trace-fst and writes build/logs/rtl/array/tb_array_n<N>.fst.
# Tools: VERILATOR, IVERILOG, VVP, YOSYS.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
cd "$ROOT"

VERILATOR=${VERILATOR:-verilator}
IVERILOG=${IVERILOG:-iverilog}
VVP=${VVP:-vvp}
YOSYS=${YOSYS:-yosys}
export PB_SEED=${PB_SEED:-1}
TRACE=${TRACE:-0}

SRC=tests/rtl/array
RTL="$ROOT/rtl/pb_pe.sv $ROOT/rtl/pb_array.sv"
B=build/rtl/array
LOG=$B/logs
mkdir -p "$LOG"
YOSYS_SHARE=$("$YOSYS"-config --datdir 2>/dev/null || echo /usr/share/yosys)

pass=0
fail=0
start_all=$(date +%s)

# step NAME COMMAND...: run, log to $LOG/NAME.log; count the "# X: P passed, F failed" line
# if the command prints one, else one case (pass = exit status 0).
step() {
  local name=$1; shift
  local log=$LOG/$name.log t0 rc line p f
  t0=$(date +%s)
  "$@" > "$log" 2>&1
  rc=$?
  line=$(grep -E '^# .*: [0-9]+ passed, [0-9]+ failed$' "$log" | tail -1)
  if [ -n "$line" ]; then
    p=$(sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed$/\1/' <<< "$line")
    f=$(sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed$/\2/' <<< "$line")
  elif [ "$rc" = 0 ]; then
    p=1; f=0
  else
    p=0; f=1
  fi
  if [ "$rc" != 0 ] && [ "$f" = 0 ]; then f=1; fi
  pass=$((pass + p))
  fail=$((fail + f))
  if [ "$f" = 0 ]; then
    printf "  ok    %-28s %4d passed  (%ds)\n" "$name" "$p" $(($(date +%s) - t0))
  else
    printf "  FAIL  %-28s %4d passed, %d failed  (%ds; log: %s)\n" "$name" "$p" "$f" \
      $(($(date +%s) - t0)) "$log"
    grep -E 'FAIL|rror|ERROR|%Warning' "$log" | head -5 | sed 's/^/        /'
  fi
  return 0
}

# ---- Verilator harness builds, in the background while lint and synthesis run ----
# -O0: the N=16 model compiles in ~10 s instead of ~50 s with Verilator's default -Os,
# and the harnesses still run in about a second.
VFLAGS=(--cc --exe --build -j 2 --x-assign unique --x-initial unique
        -MAKEFLAGS OPT_FAST=-O0 -MAKEFLAGS OPT_SLOW=-O0 -MAKEFLAGS OPT_GLOBAL=-O0)
TRACEFLAGS=()
if [ "$TRACE" = 1 ]; then TRACEFLAGS=(--trace-fst); mkdir -p build/logs/rtl/array; fi

build_pe() {
  "$VERILATOR" "${VFLAGS[@]}" --top-module pb_pe --Mdir "$B/pe" -o tb_pe \
    $ROOT/rtl/pb_pe.sv "$ROOT/$SRC/tb_pe.cpp"
}
build_array() { # build_array N TAGW
  "$VERILATOR" "${VFLAGS[@]}" "${TRACEFLAGS[@]}" --top-module pb_array -GN="$1" -GTAGW="$2" \
    -CFLAGS "-DPB_N=$1 -DPB_TAGW=$2" --Mdir "$B/n$1" -o tb_array $RTL "$ROOT/$SRC/tb_array.cpp"
}
( build_pe > "$LOG/vbuild_pe.log" 2>&1; echo $? > "$LOG/vbuild_pe.rc"
  build_array 2 32 > "$LOG/vbuild_n2.log" 2>&1; echo $? > "$LOG/vbuild_n2.rc"
  build_array 4 20 > "$LOG/vbuild_n4.log" 2>&1; echo $? > "$LOG/vbuild_n4.rc"
  build_array 16 32 > "$LOG/vbuild_n16.log" 2>&1; echo $? > "$LOG/vbuild_n16.rc"
  build_array 3 7 > "$LOG/vbuild_n3.log" 2>&1; echo $? > "$LOG/vbuild_n3.rc" ) &
builder=$!

echo "== lint (verilator --lint-only -Wall)"
step lint_pb_pe "$VERILATOR" --lint-only -Wall rtl/pb_pe.sv
for n in 16 4 2 1; do
  step "lint_pb_array_n$n" "$VERILATOR" --lint-only -Wall --top-module pb_array -GN=$n \
    rtl/pb_pe.sv rtl/pb_array.sv
done

echo "== synthesis (yosys, N = 4)"
step yosys_generic_check "$YOSYS" -q -p "read_verilog -sv rtl/pb_pe.sv rtl/pb_array.sv; \
  chparam -set N 4 pb_array; synth -top pb_array; check -assert; \
  tee -q -o $B/generic_n4.stat stat; write_verilog -noattr $B/generic_n4.v"
step yosys_ice40_dsp "$YOSYS" -q -p "read_verilog -sv rtl/pb_pe.sv rtl/pb_array.sv; \
  chparam -set N 4 pb_array; synth_ice40 -dsp -top pb_array; check -assert; \
  tee -q -o $B/ice40_n4.stat stat; write_verilog -noattr $B/ice40_n4.v"
# generic: the last "Number of cells" is the design total (the hierarchy is kept)
generic_cells=$(grep -E 'Number of cells' $B/generic_n4.stat 2>/dev/null | tail -1 | awk '{print $NF}')
ice40_cells=$(awk '/Number of cells/ {print $NF}' $B/ice40_n4.stat 2>/dev/null | tail -1)
mac16=$(awk '/SB_MAC16/ {print $NF}' $B/ice40_n4.stat 2>/dev/null | tail -1)
echo "  generic N=4: ${generic_cells:-?} cells; ice40 N=4: ${ice40_cells:-?} cells, ${mac16:-0} SB_MAC16"
# every multiply-add in a DSP: N*N SB_MAC16 and no carry chain in the fabric
step ice40_all_macs_in_dsp bash -c "grep -q 'SB_MAC16 *16\$' $B/ice40_n4.stat && \
  ! grep -q SB_CARRY $B/ice40_n4.stat"

echo "== Icarus (iverilog -g2012)"
IVB=$B/iv
mkdir -p "$IVB"
# -Wno-timescale: the RTL has no `timescale (lowRISC style) and inherits the bench's.
step iv_compile_rtl "$IVERILOG" -g2012 -Wall -Wno-timescale -o "$IVB/tb_rtl.vvp" \
  $SRC/tb_array_iv.sv rtl/pb_pe.sv rtl/pb_array.sv
step tb_array_iv_n2 "$VVP" -n "$IVB/tb_rtl.vvp" +seed="$PB_SEED"
# the same test on the synthesized netlists (a synthesis that changes behaviour is a bug)
step iv_compile_generic "$IVERILOG" -g2012 -DNETLIST -Ptb_array_iv.N=4 -o "$IVB/tb_generic.vvp" \
  $SRC/tb_array_iv.sv $B/generic_n4.v "$YOSYS_SHARE/simcells.v" "$YOSYS_SHARE/simlib.v"
step tb_array_iv_generic_n4 "$VVP" -n "$IVB/tb_generic.vvp" +seed="$PB_SEED"
# NO_ICE40_DEFAULT_ASSIGNMENTS: Icarus rejects cells_sim.v's default values on input ports.
step iv_compile_ice40 "$IVERILOG" -g2012 -DNETLIST -DNO_ICE40_DEFAULT_ASSIGNMENTS -Ptb_array_iv.N=4 \
  -o "$IVB/tb_ice40.vvp" $SRC/tb_array_iv.sv $B/ice40_n4.v "$YOSYS_SHARE/ice40/cells_sim.v"
step tb_array_iv_ice40_n4 "$VVP" -n "$IVB/tb_ice40.vvp" +seed="$PB_SEED"

echo "== Verilator harnesses (seed $PB_SEED)"
wait "$builder"
for t in pe n2 n4 n16 n3; do
  step "build_$t" bash -c "cat $LOG/vbuild_$t.log; exit \$(cat $LOG/vbuild_$t.rc)"
done
step tb_pe "$B/pe/tb_pe"
for n in 2 4 16 3; do  # 3: not a power of two (w_k_i = 3 must write nothing)
  if [ "$TRACE" = 1 ]; then
    step "tb_array_n$n" env PB_TRACE="build/logs/rtl/array/tb_array_n$n.fst" "$B/n$n/tb_array"
  else
    step "tb_array_n$n" "$B/n$n/tb_array"
  fi
done

echo "# rtl/array: $(($(date +%s) - start_all)) s"
echo "# rtl/array: $pass passed, $fail failed"
[ "$fail" = 0 ]
