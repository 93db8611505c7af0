#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The SystemC/TLM-2.0 platform (sim/systemc, docs/systemc.md), after `make test-build` (or `make systemc`):
#   1. build/systemc/test_systemc: hand-checkable and random programs, watchdog, clock period, open errors
#      on ref, verilator, systemc/ref and systemc/rtl (sim4 and sim16); again with ASan + UBSan;
#   2. the Fashion-MNIST models compiled for N=4 and N=16, real test images, on the same four backends;
#   3. the sc_main example (build/systemc/example) with both models on the hand-checked 2x2 matmul;
#   4. the CLI: protobrain run --backend systemc [--model ref|rtl] --stats (once the CLI has --model).
# Ends with "# systemc: P passed, F failed" (the sum of the parts). Output of the parts in build/logs/systemc/.
set -uo pipefail
cd "$(dirname "$0")/../.."
LOG=build/logs/systemc
OUT=build/systemc/run
mkdir -p "$LOG" "$OUT"
PY=${PYTHON:-.venv/bin/python}
CLI=${PB_CLI:-build/protobrain}
pass=0
fail=0

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
# add the "# NAME: P passed, F failed" line of a log to the totals (a missing line is one failure)
sum_log() { # sum_log LOG RC
  local line p f
  line=$(grep -E '^# .*: [0-9]+ passed, [0-9]+ failed$' "$1" | tail -1)
  if [ -z "$line" ]; then
    bad "$1: no summary line (exit status $2)"
    tail -5 "$1"
    return
  fi
  p=$(sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed$/\1/' <<< "$line")
  f=$(sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed$/\2/' <<< "$line")
  pass=$((pass + p))
  fail=$((fail + f))
  if [ "$f" != 0 ] || [ "$2" != 0 ]; then
    [ "$f" = 0 ] && fail=$((fail + 1))
    grep -E '^FAIL' "$1" | head -10
  fi
}

for f in build/systemc/test_systemc build/systemc/san/test_systemc build/systemc/example $CLI; do
  [ -x "$f" ] || { echo "FAIL: $f is missing (run make test-build)"; echo "# systemc: 0 passed, 1 failed"; exit 1; }
done

# ---- 1. programs ----
start=$(date +%s)
build/systemc/test_systemc > "$LOG/programs.log" 2>&1
rc=$?
grep -vE '^  ' "$LOG/programs.log"
sum_log "$LOG/programs.log" $rc
echo "(programs: $(($(date +%s) - start)) s; per-program lines in $LOG/programs.log)"

# the same driver with ASan + UBSan (fewer random programs); libsystemc's timed-event pool is never freed
start=$(date +%s)
LSAN_OPTIONS=suppressions=$PWD/tests/systemc/lsan.supp:print_suppressions=0 PB_VALID=10 PB_INVALID=9 \
  build/systemc/san/test_systemc > "$LOG/programs_san.log" 2>&1
rc=$?
grep -E '^(# |FAIL|==)' "$LOG/programs_san.log" | sed 's/^# test_systemc/# san\/test_systemc/' | head -20
sum_log "$LOG/programs_san.log" $rc
echo "(programs with ASan + UBSan: $(($(date +%s) - start)) s)"

# ---- 2. Fashion-MNIST models ----
start=$(date +%s)
if [ ! -f build/data/test_x.npy ]; then
  $PY models/make_data.py --out build/data > "$LOG/make_data.log" 2>&1 ||
    bad "models/make_data.py failed (see $LOG/make_data.log)"
fi
pbins=()
for m in mlp_w0.25 mlp_w1 cnn_w0.25 cnn_w1 mlp_w2 cnn_w2; do
  for n in 4 16; do
    case "$m.$n" in mlp_w2.4 | cnn_w2.4) continue ;; esac  # the largest at N=16 only: time
    pb=$OUT/${m}_n$n.pbin
    if $CLI compile "models/$m.qdq.onnx" -o "$pb" --array $n --batch 1 >> "$LOG/compile.log" 2>&1; then
      pbins+=("$pb")
    else
      bad "compile models/$m.qdq.onnx --array $n (see $LOG/compile.log)"
    fi
  done
done
# a batch of 3 samples per run
if $CLI compile models/cnn_w0.25.qdq.onnx -o $OUT/cnn_w0.25_n16_b3.pbin --array 16 --batch 3 \
     >> "$LOG/compile.log" 2>&1; then
  pbins+=("$OUT/cnn_w0.25_n16_b3.pbin")
else
  bad "compile cnn_w0.25 --batch 3 (see $LOG/compile.log)"
fi
if [ ${#pbins[@]} -gt 0 ] && [ -f build/data/test_x.npy ]; then
  build/systemc/test_systemc --images build/data/test_x.npy --samples 3 "${pbins[@]}" > "$LOG/models.log" 2>&1
  rc=$?
  grep -E '^(build|FAIL|#)' "$LOG/models.log"
  sum_log "$LOG/models.log" $rc
fi
echo "(models: $(($(date +%s) - start)) s; details in $LOG/models.log)"

# ---- 3. the sc_main example: x = [1 2; 3 -4] in the program's data ----
sed 's/^\.buffer X 0x1200 4 io.*/.data X 0x1200\n  .i8 1, 2, 3, -4/' tests/asm/matmul2x2.pbs > $OUT/matmul2x2_x.pbs
if $CLI asm $OUT/matmul2x2_x.pbs -o $OUT/matmul2x2_x.pbin > "$LOG/example.log" 2>&1; then
  for model in ref rtl; do
    build/systemc/example $OUT/matmul2x2_x.pbin $model > "$LOG/example_$model.log" 2>&1
    rc=$?
    # relu(x.W + b) worked by hand in the .pbs; 46 cycles (docs/timing.md; ACTIVATE 2 + 8 + 1) at 10 ns
    if [ $rc = 0 ] && grep -q '^y: 29 0 0 30$' "$LOG/example_$model.log" &&
       grep -q '^STATUS 0x02 FAULT_PC 7 CYCLES 46 time 460 ns$' "$LOG/example_$model.log"; then
      ok
      echo "example ($model): $(grep -E '^(STATUS|y:)' "$LOG/example_$model.log" | tr '\n' ' ')"
    else
      bad "example with $model: exit $rc"
      cat "$LOG/example_$model.log"
    fi
  done
else
  bad "asm $OUT/matmul2x2_x.pbs"
  cat "$LOG/example.log"
fi

# ---- 4. the CLI ----
if $CLI run --help 2>&1 | grep -q -- '--model'; then
  $CLI asm tests/asm/matmul2x2.pbs -o $OUT/matmul2x2.pbin > /dev/null 2>&1
  $PY -c "import numpy as np; np.save('$OUT/x.npy', np.array([[1, 2], [3, -4]], dtype=np.int8))" ||
    bad "numpy (.venv) cannot write $OUT/x.npy"
  $CLI run $OUT/matmul2x2.pbin --backend ref --input $OUT/x.npy --output $OUT/y_ref.npy --raw \
    > "$LOG/cli_ref.log" 2>&1 ||
    bad "cli: run --backend ref (see $LOG/cli_ref.log)"
  for model in ref rtl; do
    if $CLI run $OUT/matmul2x2.pbin --backend systemc --model $model --input $OUT/x.npy --output $OUT/y_$model.npy \
         --raw --stats > "$LOG/cli_$model.log" 2>&1 && cmp -s $OUT/y_ref.npy $OUT/y_$model.npy &&
       grep -q 'simulated' "$LOG/cli_$model.log"; then
      ok
      echo "cli (--model $model): $(grep simulated "$LOG/cli_$model.log")"
    else
      bad "cli: run --backend systemc --model $model (see $LOG/cli_$model.log)"
      cat "$LOG/cli_$model.log"
    fi
  done
  # a faulting program: the same message (error code, PC, instruction) as the ref backend, exit status 1
  printf '%s\n' '.hw n=4 sp_rows=1024 acc_rows=512 host_bytes=1048576' '.data X 0x100' '  .i8 1, 2, 3, 4' \
    'LOAD sp_col=0 cols=4 sp_addr=0 rows=1 host_stride=4 host_addr=X' \
    'LOAD sp_col=0 cols=4 sp_addr=2000 rows=1 host_stride=4 host_addr=X' 'HALT' > $OUT/fault.pbs
  $CLI asm $OUT/fault.pbs -o $OUT/fault.pbin > /dev/null 2>&1
  $CLI run $OUT/fault.pbin --backend ref > "$LOG/cli_fault_ref.log" 2>&1
  for model in ref rtl; do
    $CLI run $OUT/fault.pbin --backend systemc --model $model > "$LOG/cli_fault_$model.log" 2>&1
    rc=$?
    if [ $rc = 1 ] && grep -q 'SP_RANGE (4) at pc 1' "$LOG/cli_fault_$model.log" &&
       cmp -s "$LOG/cli_fault_ref.log" "$LOG/cli_fault_$model.log"; then
      ok
    else
      bad "cli: faulting program on systemc --model $model: exit $rc, not the ref backend's message"
      cat "$LOG/cli_fault_ref.log" "$LOG/cli_fault_$model.log"
    fi
  done
  echo "cli (faulting program): $(cat "$LOG/cli_fault_rtl.log")"
  if $CLI run $OUT/matmul2x2.pbin --backend systemc --model gates --input $OUT/x.npy > "$LOG/cli_bad.log" 2>&1; then
    bad "cli: --model gates accepted"
  else
    ok
  fi
else
  echo "cli: skipped, 'protobrain run' has no --model option yet"
fi

echo "# systemc: $pass passed, $fail failed"
[ "$fail" = 0 ]
