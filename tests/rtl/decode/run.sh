#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Tests of the instruction decoder rtl/pb_decode.sv: `verilator --lint-only -Wall` of the module
# standalone (four parameter sets), and the Verilator harness tb_decode.cpp against the C library
# (pb_model_check, pb_decode, pb_timing_footprint; build/libpbcore.a) for four parameter sets:
#   n4:  N=4,  SP_ROWS=64,    ACC_ROWS=32,    HOST_BYTES=4096
#   n16: N=16, SP_ROWS=16384, ACC_ROWS=4096,  HOST_BYTES=4194304 (sim16)
#   n3:  N=3,  SP_ROWS=65536, ACC_ROWS=65536, HOST_BYTES=2^31 (every maximum, N not a power of 2)
#   n2:  N=2,  SP_ROWS=1024,  ACC_ROWS=256,   HOST_BYTES=131072 (the iCE40 board: narrow range arithmetic)
# The same harness with the words passing through pb_fetch's packed queue first (tb_fetch_decode.sv,
# random request, response and pop timing): n2, n4 and n3.
# Builds into build/rtl/decode/ (logs in build/rtl/decode/logs/); ends with
# "# rtl/decode: P passed, F failed" and exits non-zero on any failure.
# Env: PB_SEED (default 1), PB_WORDS (words per random group, default 70000); tools: VERILATOR, MAKE.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
cd "$ROOT"

VERILATOR=${VERILATOR:-verilator}
MAKE=${MAKE:-make}
export PB_SEED=${PB_SEED:-1}
export PB_WORDS=${PB_WORDS:-70000}

SRC=tests/rtl/decode
B=build/rtl/decode
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
    grep -E 'FAIL|rror|ERROR|%Warning' "$log" | head -8 | sed 's/^/        /'
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

# name N SP_ROWS ACC_ROWS HOST_BYTES
CONFIGS=("n4 4 64 32 4096" "n16 16 16384 4096 4194304" "n3 3 65536 65536 2147483648" "n2 2 1024 256 131072")

# ---- Verilator builds in the background while lint runs ----
# -O1: the decoder is one combinational module; the harness spends its time in the C library.
VFLAGS=(--cc --exe --build -j 2 -Wall -Wno-fatal --x-assign unique --x-initial unique
        -MAKEFLAGS OPT_FAST=-O1 -MAKEFLAGS OPT_SLOW=-O1 -MAKEFLAGS OPT_GLOBAL=-O1)
build_cfg() { # build_cfg NAME N SP ACC HOST
  "$VERILATOR" "${VFLAGS[@]}" -Irtl --top-module pb_decode -GN="$2" -GSP_ROWS="$3" -GACC_ROWS="$4" \
    -GHOST_BYTES="64'd$5" \
    -CFLAGS "-O1 -std=c++17 -I$ROOT/include -I$ROOT/sim -DPB_N=$2 -DPB_SP=$3 -DPB_ACC=$4 -DPB_HOST=${5}ull" \
    -LDFLAGS "$LIB -lprotobuf-c -lopenblas -lm" \
    --Mdir "$B/$1" -o tb_decode rtl/pb_fields.sv rtl/pb_decode.sv "$ROOT/$SRC/tb_decode.cpp"
}
# the same harness with the words passing through pb_fetch's packed queue first (tb_fetch_decode.sv)
FETCH_CONFIGS=("n2" "n4" "n3")
build_fetch() { # build_fetch NAME N SP ACC HOST
  "$VERILATOR" "${VFLAGS[@]}" -Irtl --top-module tb_fetch_decode -GN="$2" -GSP_ROWS="$3" -GACC_ROWS="$4" \
    -GHOST_BYTES="64'd$5" \
    -CFLAGS "-O1 -std=c++17 -I$ROOT/include -I$ROOT/sim -DPB_VIA_FETCH -DPB_N=$2 -DPB_SP=$3 -DPB_ACC=$4 -DPB_HOST=${5}ull" \
    -LDFLAGS "$LIB -lprotobuf-c -lopenblas -lm" \
    --Mdir "$B/fetch_$1" -o tb_fetch_decode rtl/pb_fetch.sv rtl/pb_fields.sv rtl/pb_decode.sv "$ROOT/$SRC/tb_fetch_decode.sv" \
    "$ROOT/$SRC/tb_decode.cpp"
}
is_fetch_cfg() { local f; for f in "${FETCH_CONFIGS[@]}"; do [ "$f" = "$1" ] && return 0; done; return 1; }
( for c in "${CONFIGS[@]}"; do
    set -- $c
    build_cfg "$@" > "$LOG/vbuild_$1.log" 2>&1; echo $? > "$LOG/vbuild_$1.rc"
    if is_fetch_cfg "$1"; then
      build_fetch "$@" > "$LOG/vbuild_fetch_$1.log" 2>&1; echo $? > "$LOG/vbuild_fetch_$1.rc"
    fi
  done ) &
builder=$!

echo "== lint (verilator --lint-only -Wall, pb_decode standalone)"
for c in "${CONFIGS[@]}"; do
  set -- $c
  step "lint_pb_decode_$1" "$VERILATOR" --lint-only -Wall -Irtl --top-module pb_decode -GN="$2" \
    -GSP_ROWS="$3" -GACC_ROWS="$4" -GHOST_BYTES="64'd$5" rtl/pb_fields.sv rtl/pb_decode.sv
done

echo "== Verilator harness tb_decode.cpp (seed $PB_SEED, $PB_WORDS words per random group)"
wait "$builder"
for c in "${CONFIGS[@]}"; do
  set -- $c
  step "build_$1" bash -c "cat $LOG/vbuild_$1.log; exit \$(cat $LOG/vbuild_$1.rc)"
  if [ "$(cat "$LOG/vbuild_$1.rc")" = 0 ]; then
    step "tb_decode_$1" "$B/$1/tb_decode"
  fi
done
echo "== the same through the fetcher's packed queue (tb_fetch_decode.sv, random timing)"
for c in "${CONFIGS[@]}"; do
  set -- $c
  is_fetch_cfg "$1" || continue
  step "build_fetch_$1" bash -c "cat $LOG/vbuild_fetch_$1.log; exit \$(cat $LOG/vbuild_fetch_$1.rc)"
  if [ "$(cat "$LOG/vbuild_fetch_$1.rc")" = 0 ]; then
    step "tb_fetch_decode_$1" "$B/fetch_$1/tb_fetch_decode"
  fi
done

echo "# rtl/decode: $(($(date +%s) - start_all)) s"
echo "# rtl/decode: $pass passed, $fail failed"
[ "$fail" = 0 ]
