# SPDX-License-Identifier: Apache-2.0
# Shared by tests/driver/test_*.sh (after tests/lib/check.sh).

# check_prog NAME CMD...: run a C test program; its "# NAME: P passed, F failed" line is added to this
# script's counts (a program that exits non-zero without failures, or prints no such line, is one failure).
check_prog() {
  local name=$1; shift
  "$@" > "$CHECK_TMP/prog.out" 2>&1
  local rc=$? line p f
  cat "$CHECK_TMP/prog.out"
  line=$(grep -E '^# .*: [0-9]+ passed, [0-9]+ failed$' "$CHECK_TMP/prog.out" | tail -1)
  if [ -z "$line" ]; then fail "$name: no summary line (exit $rc)"; return; fi
  p=$(sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed$/\1/' <<< "$line")
  f=$(sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed$/\2/' <<< "$line")
  CHECK_PASS=$((CHECK_PASS + p))
  CHECK_FAIL=$((CHECK_FAIL + f))
  if [ "$rc" != 0 ] && [ "$f" = 0 ]; then fail "$name: exit $rc with 0 failures"; fi
  if [ "$f" != 0 ]; then echo "FAIL: $name: $f failed"; fi
}

# prepare_programs DIR: the programs and onnxruntime's outputs the C tests read (build/protobrain
# assembles and compiles; tests/driver/make_expected.py runs onnxruntime).
prepare_programs() {
  local d=$1 PB=build/protobrain PY=.venv/bin/python
  mkdir -p "$d"
  [ -f build/data/test_x.npy ] || $PY models/make_data.py --out build/data > /dev/null
  check "asm matmul2x2" $PB asm tests/asm/matmul2x2.pbs -o "$d/mm.pbin"
  # the same with a second input and a second output (never written)
  sed -e 's/^.buffer Y 0x1300 4 io/&\n.buffer X2 0x1400 4 io\n.buffer Y2 0x1500 4 io/' \
      -e 's/^.tensor output y .*/&\n.tensor input b addr=X2 dtype=i8 shape=2x2\n.tensor output y2 addr=Y2 dtype=i8 shape=2x2/' \
      -e 's/^.tensor input x /.tensor input a /' tests/asm/matmul2x2.pbs > "$d/two.pbs"
  check "asm two inputs" $PB asm "$d/two.pbs" -o "$d/two.pbin"
  # an accelerator error on sim4 (runs on verilator too): rows 1023..1024 of a 1024-row scratchpad
  printf '.hw n=4 sp_rows=1024 acc_rows=512 host_bytes=1048576\nLOAD sp_col=0 cols=4 sp_addr=1023 rows=2 host_stride=4 host_addr=0x100\nHALT\n' > "$d/err.pbs"
  check "asm err" $PB asm "$d/err.pbs" -o "$d/err.pbin"
  # hardware with no Verilated build
  printf '.hw n=4 sp_rows=8 acc_rows=8 host_bytes=4096\nHALT\n' > "$d/odd_hw.pbs"
  check "asm odd hw" $PB asm "$d/odd_hw.pbs" -o "$d/odd_hw.pbin"
  # matmul2x2 for sim4's memories with one requantizer lane (no RTL build has that)
  sed 's/^\(\.hw .*host_bytes=[0-9]*\)/\1 rq_lanes=1/' tests/asm/matmul2x2.pbs > "$d/mm_l1.pbs"
  check "asm matmul2x2 with rq_lanes=1" $PB asm "$d/mm_l1.pbs" -o "$d/mm_l1.pbin"
  check "compile cnn_w1 N=16 batch 8" $PB compile models/cnn_w1.qdq.onnx -o "$d/cnn16.pbin" --array 16 --batch 8
  check "onnxruntime's outputs (make_expected.py)" $PY tests/driver/make_expected.py "$d"
  check "compile the MLP with Softmax and ArgMax, N=4 batch 4" $PB compile "$d/head.onnx" -o "$d/head4.pbin" --array 4 --batch 4
  check "compile mlp_w1 N=4 batch 2 (no host steps)" $PB compile models/mlp_w1.qdq.onnx -o "$d/mlp4.pbin" --array 4 --batch 2
}
