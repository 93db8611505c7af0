#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Tests of the DMA-facing units, standalone (not through pb_core):
#   rtl/pb_ld_unit.sv (LOAD, LOAD_ACC, CONFIG, ACTIVATE with rtl/pb_requant.sv) - tb_ld.cpp
#   rtl/pb_st_unit.sv (STORE, STORE_ACC)                                         - tb_st.cpp
# `verilator --lint-only -Wall` of each unit standalone at N = 4 and 16, and the Verilator harnesses
# at N = 4 and 16 (the load unit also with 1 and 4 requantizer lanes): hand-checked cases, then random legal instructions with a zero-wait-state host
# memory (mode a: exact docs/timing.md durations and event cycles) and with random not-ready
# cycles and response latency (mode b: the same writes in the same order), against an independent
# C implementation of docs/isa.md in the harness (pb_requant() from build/libpbcore.a).
# Builds into build/rtl/dma/ (logs in build/rtl/dma/logs/); ends with
# "# rtl/dma: P passed, F failed" and exits non-zero on any failure.
# Env: PB_SEED (default 1), PB_INSTRS (random instructions per unit and mode, default 2500);
# tools: VERILATOR, MAKE.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
cd "$ROOT"

VERILATOR=${VERILATOR:-verilator}
MAKE=${MAKE:-make}
export PB_SEED=${PB_SEED:-1}
export PB_INSTRS=${PB_INSTRS:-2500}

SRC=tests/rtl/dma
B=build/rtl/dma
LOG=$B/logs
mkdir -p "$LOG"
LIB=$ROOT/build/libpbcore.a

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
    grep -E -A1 'FAIL|rror|ERROR|%Warning' "$log" | head -12 | sed 's/^/        /'
  fi
  return 0
}

# ---- the C library (normally built already by `make test-build`) ----
# A failing make (another file mid-edit) with an existing library is only a warning.
if ! "$MAKE" -s build/libpbcore.a > "$LOG/libpbcore.log" 2>&1; then
  if [ -f "$LIB" ]; then
    echo "  warning: make build/libpbcore.a failed (log: $LOG/libpbcore.log); using the existing library"
  else
    step libpbcore bash -c "cat $LOG/libpbcore.log; exit 1"
  fi
fi

# ---- Verilator builds in the background while lint runs ----
# OPT_SLOW=-O0 (construction code), -O1 elsewhere: the N = 16 load unit builds in ~25 s and the
# harnesses still run in seconds.
VFLAGS=(--cc --exe --build -j 2 -Wall -Wno-fatal --x-assign unique --x-initial unique -Irtl
        -MAKEFLAGS OPT_FAST=-O1 -MAKEFLAGS OPT_SLOW=-O0 -MAKEFLAGS OPT_GLOBAL=-O1)
build() { # build NAME UNIT N [RQ_LANES [-GPARAM=VALUE...]]
  local tb srcs gl="" l=${4:-$3}
  case $2 in
    ld) tb=tb_ld; srcs="rtl/pb_ld_unit.sv rtl/pb_requant.sv"; gl="-GRQ_LANES=$l ${*:5}" ;;
    *)  tb=tb_st; srcs="rtl/pb_st_unit.sv" ;;
  esac
  "$VERILATOR" "${VFLAGS[@]}" --top-module "pb_$2_unit" -GN="$3" $gl \
    -CFLAGS "-O1 -std=c++17 -Wall -I$ROOT/include -I$ROOT/sim -DPB_N=$3 -DPB_RQ_LANES=$l" \
    -LDFLAGS "$LIB -lprotobuf-c -lopenblas -lm" \
    --Mdir "$B/$1" -o "$tb" $srcs "$ROOT/$SRC/$tb.cpp"
}
# ld_n4_l1, ld_n16_l4: fewer requantizer lanes than columns (RQ_LANES, hw.rq_lanes); *_n1p: the
# iCEBreaker build's area options (mk/fpga.mk ICE40_HW; its N = 1 the hand cases of tb_ld do not
# fit): lanes with six multipliers (RQ_MULS, pb_requant MULS) and CONFIG's entries in a block RAM
# (CFG_RAM, pb_core's BUF_RAM), with and without HOLD_MULT
BUILDS=("ld_n4 ld 4" "ld_n4_l1 ld 4 1" "st_n4 st 4" "st_n16 st 16" "ld_n16 ld 16" "ld_n16_l4 ld 16 4"
        "ld_n4_n1p ld 4 4 -GRQ_MULS=6 -GCFG_RAM=1" "ld_n4_l1_n1p ld 4 1 -GRQ_MULS=6 -GCFG_RAM=1"
        "ld_n16_ram ld 16 16 -GCFG_RAM=1")
( for c in "${BUILDS[@]}"; do
    set -- $c
    build "$@" > "$LOG/vbuild_$1.log" 2>&1; echo $? > "$LOG/vbuild_$1.rc"
  done ) &
builder=$!

echo "== lint (verilator --lint-only -Wall, each unit standalone)"
for n in 1 4 16; do
  step "lint_pb_ld_unit_n$n" "$VERILATOR" --lint-only -Wall -Irtl --top-module pb_ld_unit -GN=$n \
    rtl/pb_ld_unit.sv rtl/pb_requant.sv
  step "lint_pb_st_unit_n$n" "$VERILATOR" --lint-only -Wall -Irtl --top-module pb_st_unit -GN=$n \
    rtl/pb_st_unit.sv
done

echo "== Verilator harnesses tb_ld.cpp, tb_st.cpp (seed $PB_SEED, $PB_INSTRS instructions per unit and mode)"
wait "$builder"
for c in "${BUILDS[@]}"; do
  set -- $c
  step "build_$1" bash -c "cat $LOG/vbuild_$1.log; exit \$(cat $LOG/vbuild_$1.rc)"
  if [ "$(cat "$LOG/vbuild_$1.rc")" = 0 ]; then
    step "tb_$1" "$B/$1/tb_$2"
  fi
done

echo "# rtl/dma: $(($(date +%s) - start_all)) s"
echo "# rtl/dma: $pass passed, $fail failed"
[ "$fail" = 0 ]
