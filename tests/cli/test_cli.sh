#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The protobrain command: help, asm/disasm round trip, run with .npy in and out,
# and clear errors (non-zero exit, never a crash) for bad files and bad tensors.
# numpy (from .venv) only writes inputs and computes the expected output independently.
cd "$(dirname "$0")/../.."
source tests/lib/check.sh
PY=.venv/bin/python
T=$CHECK_TMP

# a model with host steps (as tests/onnx/check_host_steps.py builds it): the QDQ MLP, then Softmax and ArgMax
$PY -c "
import numpy as np, onnx
from onnx import TensorProto, helper
m = onnx.load('models/mlp_w0.25.qdq.onnx'); g = m.graph; logits = g.output[0].name
g.node.append(helper.make_node('Softmax', [logits], ['prob'], axis=1))
g.node.append(helper.make_node('ArgMax', [logits], ['cls'], axis=1, keepdims=0))
del g.output[:]
g.output.extend([helper.make_tensor_value_info('prob', TensorProto.FLOAT, None),
                 helper.make_tensor_value_info('cls', TensorProto.INT64, None)])
onnx.save(m, '$T/head.onnx')
np.save('$T/hx.npy', np.random.default_rng(7).random((5, 1, 28, 28), dtype=np.float32))
"

for PB in build/protobrain build/san/protobrain; do
  tag=$(basename "$(dirname "$PB")")
  # --- help on every command
  check "$tag help" $PB --help
  for c in asm disasm run; do
    check "$tag $c --help" $PB $c --help
    check "$tag help $c" bash -c "$PB help $c | grep -q 'usage: protobrain $c'"
  done
  check_fails "$tag unknown command" "unknown command" $PB frobnicate
  check "$tag no args exits 2" bash -c "$PB; test \$? = 2"

  # --- asm / disasm round trip
  check "$tag asm example" $PB asm tests/asm/matmul2x2.pbs -o $T/p.pbin
  check "$tag disasm" $PB disasm $T/p.pbin -o $T/p.pbs
  check "$tag re-asm" $PB asm $T/p.pbs -o $T/p2.pbin
  check "$tag asm(disasm(asm(x))) == asm(x) bytes" cmp $T/p.pbin $T/p2.pbin
  check "$tag disasm is stable" bash -c "$PB disasm $T/p2.pbin | diff - $T/p.pbs"
  check_fails "$tag asm syntax error has line:col" "bad.pbs:2:1: error" bash -c \
    "printf '.hw n=4 sp_rows=4 acc_rows=4 host_bytes=4096\nFROB x=1\nHALT\n' > $T/bad.pbs; $PB asm $T/bad.pbs -o $T/bad.pbin"
  check_fails "$tag asm .step error has line:col" "step.pbs:3:15: error: unknown host operator 'FROB'" bash -c \
    "printf '.hw n=4 sp_rows=4 acc_rows=4 host_bytes=4096\n.tensor output y addr=0 dtype=f32 shape=1\n.step host op=FROB in=y out=y\nHALT\n' > $T/step.pbs; $PB asm $T/step.pbs -o $T/step.pbin"

  # --- asm(disasm(x)) == x, byte for byte, for compiled programs: every committed model
  for m in models/*.qdq.onnx; do
    n=$(basename $m .qdq.onnx)
    for cfg in "--array 16 --batch 4" "--array 4 --batch 1"; do
      [ $tag = san ] && [ "$cfg" != "--array 16 --batch 4" ] && continue # one configuration under the sanitizers
      check "$tag compile $n $cfg" $PB compile $m -o $T/$n.pbin $cfg
      check "$tag asm(disasm($n $cfg)) == the compiled bytes" bash -c \
        "$PB disasm $T/$n.pbin -o $T/$n.pbs && $PB asm $T/$n.pbs -o $T/$n.2.pbin && cmp $T/$n.pbin $T/$n.2.pbin"
    done
  done
  # ... and one with host steps (DEQUANTIZE, SOFTMAX, ARGMAX): they survive and still run
  check "$tag compile a model with host steps" $PB compile $T/head.onnx -o $T/head.pbin --array 8 --batch 4
  check "$tag disasm writes the steps, layers, internal and i64 tensors" bash -c "$PB disasm $T/head.pbin -o $T/head.pbs && \
    grep -q '^.step accel pc=0 len=' $T/head.pbs && grep -q '^.step host op=SOFTMAX in=logits out=prob param=1\$' $T/head.pbs && \
    grep -q '^.step host op=ARGMAX in=logits out=cls param=1\$' $T/head.pbs && grep -q '^.layer prob op=Softmax where=host step=2 ' $T/head.pbs && \
    grep -q '^.tensor internal logits ' $T/head.pbs && grep -q '^.tensor output cls .* dtype=i64 .* batch\$' $T/head.pbs"
  check "$tag asm(disasm(head)) == the compiled bytes" bash -c \
    "$PB asm $T/head.pbs -o $T/head2.pbin && cmp $T/head.pbin $T/head2.pbin && $PB disasm $T/head2.pbin | diff -q - $T/head.pbs"
  check "$tag the re-assembled program runs its host steps (5 samples, 2 runs of 4)" bash -c \
    "$PB run $T/head.pbin --input $T/hx.npy --output prob=$T/p1.npy --output cls=$T/c1.npy && \
     $PB run $T/head2.pbin --input $T/hx.npy --output prob=$T/p2.npy --output cls=$T/c2.npy && \
     cmp $T/p1.npy $T/p2.npy && cmp $T/c1.npy $T/c2.npy"
  check "$tag its outputs are a softmax and its argmax" $PY -c "
import numpy as np
p, c = np.load('$T/p2.npy'), np.load('$T/c2.npy')
assert p.dtype == np.float32 and p.shape == (5, 10) and c.dtype == np.int64 and c.shape == (5,), (p.dtype, p.shape, c.dtype, c.shape)
assert np.allclose(p.sum(axis=1), 1, atol=1e-5) and (p > 0).all() and (c == p.argmax(axis=1)).all(), (p, c)
"

  # --- run: int8 input, independent numpy check
  $PY -c "import numpy as np; np.save('$T/x.npy', np.array([[1,2],[3,-4]], dtype=np.int8))"
  check "$tag run ref" $PB run $T/p.pbin --backend ref --input $T/x.npy --output $T/y.npy
  check "$tag output = relu(x W + b) by numpy" $PY -c "
import numpy as np
x = np.load('$T/x.npy').astype(np.int64); W = np.array([[5,6],[7,-8]]); b = np.array([10,-20])
want = np.clip(x @ W + b, 0, 127).astype(np.int8)
got = np.load('$T/y.npy')
assert got.dtype == np.int8 and got.shape == (2,2), (got.dtype, got.shape)
assert (got == want).all(), (got, want)
assert (want == np.array([[29,0],[0,30]])).all()  # the README's hand calculation
"
  check "$tag named input" $PB run $T/p.pbin --input x=$T/x.npy --output y=$T/y2.npy
  check "$tag named output equals" cmp $T/y.npy $T/y2.npy
  # float input is quantized (scale 1, zp 0): 1.2 -> 1, 2.5 -> 2 (half to even), 3.0, -4.4 -> -4
  $PY -c "import numpy as np; np.save('$T/xf.npy', np.array([[1.2,2.5],[3.0,-4.4]], dtype=np.float32))"
  check "$tag float input quantized" $PB run $T/p.pbin --input $T/xf.npy --output $T/yf.npy
  check "$tag float input gives the int8 result" cmp $T/y.npy $T/yf.npy
  check "$tag --stats" bash -c "$PB run $T/p.pbin --input $T/x.npy --stats 2>&1 | grep -q '8 instructions, 32 MACs'"

  # --- bad tensors
  $PY -c "import numpy as np; np.save('$T/x32.npy', np.zeros((3,2), dtype=np.int8)); np.save('$T/xi.npy', np.zeros((2,2), dtype=np.int32))"
  check_fails "$tag wrong shape" "shape (3, 2) does not match the program's (2, 2)" $PB run $T/p.pbin --input $T/x32.npy
  check_fails "$tag wrong dtype" "is i8; got i32" $PB run $T/p.pbin --input $T/xi.npy
  check_fails "$tag unknown input name" "no input tensor named 'z'" $PB run $T/p.pbin --input z=$T/x.npy
  check_fails "$tag missing npy" "cannot open" $PB run $T/p.pbin --input $T/nope.npy
  printf 'not a numpy file' > $T/junk.npy
  check_fails "$tag not an npy" "not a .npy file" $PB run $T/p.pbin --input $T/junk.npy
  check_fails "$tag unknown backend" "unknown backend" $PB run $T/p.pbin --backend tpu

  # --- bad program files
  check_fails "$tag missing program" "cannot open" $PB run $T/none.pbin
  head -c 40 $T/p.pbin > $T/trunc.pbin
  check_fails "$tag truncated pbin" "truncated" $PB run $T/trunc.pbin
  cp $T/p.pbin $T/corrupt.pbin
  printf '\x55' | dd of=$T/corrupt.pbin bs=1 seek=100 conv=notrunc status=none
  check_fails "$tag corrupted pbin" "crc32" $PB run $T/corrupt.pbin
  check_fails "$tag disasm corrupted pbin" "crc32" $PB disasm $T/corrupt.pbin

  # --- an accelerator error: exit 1, error name and PC
  printf '.hw n=4 sp_rows=8 acc_rows=8 host_bytes=4096\nLOAD sp_col=0 cols=4 sp_addr=7 rows=2 host_stride=4 host_addr=0x100\nHALT\n' > $T/err.pbs
  check "$tag asm err program" $PB asm $T/err.pbs -o $T/err.pbin
  check_fails "$tag SP_RANGE reported with pc" "SP_RANGE (4) at pc 0" $PB run $T/err.pbin
  printf '.hw n=4 sp_rows=8 acc_rows=8 host_bytes=4096\nSYNC\n' > $T/nohalt.pbs
  check "$tag asm no-halt program" $PB asm $T/nohalt.pbs -o $T/nohalt.pbin
  check_fails "$tag PC_RANGE past the end" "PC_RANGE (7) at pc 1" $PB run $T/nohalt.pbin
done

# --- docs/asm.md's example with host steps assembles, runs and gives the results the document states
PB=build/protobrain
awk '/^### Example: a program with host steps/{f=1} f&&/^```$/{n++; if(n==2) exit; next} f&&n==1' docs/asm.md > $T/doc_steps.pbs
check "docs/asm.md host-step example assembles" $PB asm $T/doc_steps.pbs -o $T/doc_steps.pbin
$PY -c "import numpy as np; np.save('$T/dx.npy', np.array([[1,2,3,4],[5,6,7,8]], dtype=np.float32))"
check "docs/asm.md host-step example runs" $PB run $T/doc_steps.pbin --input $T/dx.npy --output prob=$T/dp.npy --output cls=$T/dc.npy
check "docs/asm.md host-step example: prob and cls as documented" $PY -c "
import numpy as np
p, c = np.load('$T/dp.npy'), np.load('$T/dc.npy')
assert np.allclose(p, [[0.378, 0.622], [0.378, 0.622]], atol=5e-4) and c.dtype == np.int64 and (c == [1, 1]).all(), (p, c)
"
check "docs/asm.md host-step example round-trips" bash -c \
  "$PB disasm $T/doc_steps.pbin -o $T/doc2.pbs && $PB asm $T/doc2.pbs -o $T/doc2.pbin && cmp $T/doc_steps.pbin $T/doc2.pbin"

# --- the RTL backend: same bytes as ref, in lock step, with a trace; the same error code and PC
PB=build/protobrain
check "verilator run" $PB run $T/p.pbin --backend verilator --input $T/x.npy --output $T/yv.npy
check "verilator output equals ref" cmp $T/y.npy $T/yv.npy
check "verilator --cosim" $PB run $T/p.pbin --backend verilator --cosim --input $T/x.npy --output $T/yc.npy
check "cosim output equals ref" cmp $T/y.npy $T/yc.npy
check "verilator --trace writes an FST" bash -c "$PB run $T/p.pbin --backend verilator --trace $T/t.fst --input $T/x.npy && test -s $T/t.fst"
check "ref and verilator report the same cycles" bash -c \
  "a=\$($PB run $T/p.pbin --stats --input $T/x.npy 2>&1 | grep -o '[0-9]* cycles'); \
   b=\$($PB run $T/p.pbin --backend verilator --stats --input $T/x.npy 2>&1 | grep -o '[0-9]* cycles'); \
   test -n \"\$a\" && test \"\$a\" = \"\$b\""
sed 's/^.hw .*/.hw n=4 sp_rows=1024 acc_rows=512 host_bytes=1048576/' $T/err.pbs > $T/err4.pbs
sed -i 's/sp_addr=7 rows=2/sp_addr=1023 rows=2/' $T/err4.pbs
check "asm sim4 error program" $PB asm $T/err4.pbs -o $T/err4.pbin
check_fails "verilator SP_RANGE with pc" "SP_RANGE (4) at pc 0" $PB run $T/err4.pbin --backend verilator --cosim
check_fails "verilator refuses other hardware" "no RTL build for n=4 sp_rows=8" $PB run $T/err.pbin --backend verilator
check_fails "--cosim needs verilator" "need --backend verilator" $PB run $T/p.pbin --cosim
check_done test_cli
