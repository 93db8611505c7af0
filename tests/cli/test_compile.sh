#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The compiler through the command line (issue 5's acceptance criteria):
#  - QDQ models (MLP and CNN, two widths) compiled for N = 4, 8, 16 give int8 outputs byte-identical
#    to onnxruntime on 256 test images, and identical bytes for every N (tests/onnx/check_ort.py);
#  - float models compiled with --calib keep top-1 accuracy within 1 point of float (2000 test images);
#  - MatMulInteger / ConvInteger models give onnxruntime's int32 bytes on ref and the RTL (check_integer.py);
#  - the predicted cycle count equals the RTL's: `run --backend verilator --cosim --stats` on compiled
#    models for N = 4 and N = 16 reports measured == predicted, with no divergence from the C model;
#  - `info` prints the per-layer table and totals from the .pbin alone; `run` takes any number of samples;
#  - bad input gets a clear error and a non-zero exit, never a crash (also with the ASan+UBSan CLI).
cd "$(dirname "$0")/../.."
source tests/lib/check.sh
PY=.venv/bin/python
T=$CHECK_TMP
PB=build/protobrain
[ -f build/data/test_x.npy ] || $PY models/make_data.py --out build/data > /dev/null

# --- onnxruntime byte equality, N independence, float calibration
check "onnxruntime checks (tests/onnx/check_ort.py; log below)" bash -c "$PY tests/onnx/check_ort.py $PB $T/ort > $T/ort.log 2>&1"
sed 's/^/    /' $T/ort.log
check "check_ort: every check passed" grep -q '^# check_ort: [0-9]* passed, 0 failed' $T/ort.log

# --- MatMulInteger / ConvInteger: int32 outputs by STORE_ACC, against onnxruntime (C model and RTL)
check "integer ops (tests/onnx/check_integer.py; log below)" bash -c "$PY tests/onnx/check_integer.py $PB $T/int > $T/int.log 2>&1"
sed 's/^/    /' $T/int.log

# --- host steps (Softmax, ArgMax after the accelerator) against onnxruntime
check "host steps (tests/onnx/check_host_steps.py)" bash -c "$PY tests/onnx/check_host_steps.py $PB $T/host > $T/host.log 2>&1"
sed 's/^/    /' $T/host.log

# --- info from the file alone
check "compile cnn_w1 N=16" $PB compile models/cnn_w1.qdq.onnx -o $T/cnn16.pbin --array 16 --batch 8
check "info: per-layer table" bash -c "$PB info $T/cnn16.pbin > $T/info.txt && grep -q 'Conv+MaxPool' $T/info.txt && \
  grep -q 'accel' $T/info.txt && grep -q 'total: .* MACs, .* cycles per run' $T/info.txt && grep -q 'memory plan' $T/info.txt"
check "info: the layer cycles add up to the total" bash -c "awk '/^  [0-9]+ /{s+=\$9} /total:/{for(i=1;i<=NF;i++) if(\$i==\"cycles\"){t=\$(i-1)}} END{exit !(s==t && s>0)}' $T/info.txt"
check "info MODEL.onnx dumps the graph" bash -c "$PB info models/mlp_w1.qdq.onnx | grep -q 'Gemm'"
check "compile --help" bash -c "$PB compile --help | grep -q 'usage: protobrain compile'"
check "info --help" bash -c "$PB info --help | grep -q 'usage: protobrain info'"

# --- run: any number of samples; the padded last chunk does not change the others
$PY -c "import numpy as np; x=np.load('build/data/test_x.npy'); np.save('$T/x13.npy', x[:13]); np.save('$T/x3.npy', x[5:8])"
check "run 13 samples at batch 8" $PB run $T/cnn16.pbin --input $T/x13.npy --output $T/y13.npy --raw
check "run 3 samples" $PB run $T/cnn16.pbin --input $T/x3.npy --output $T/y3.npy --raw
check "samples 5..7 agree between the runs" $PY -c "
import numpy as np
a, b = np.load('$T/y13.npy'), np.load('$T/y3.npy')
assert a.shape == (13, 10) and b.shape == (3, 10), (a.shape, b.shape)
assert (a[5:8] == b).all()"

# --- predicted cycles == the RTL's (verilator, lock-step with the C model), N = 4 and 16
$PY -c "import numpy as np; np.save('$T/x2.npy', np.load('build/data/test_x.npy')[:2])"
for m in cnn_w1 mlp_w1; do
  for n in 4 16; do
    check "$m N=$n compiles for the RTL build" $PB compile models/$m.qdq.onnx -o $T/${m}_$n.pbin --array $n --batch 2
    check "$m N=$n: verilator --cosim: measured cycles == predicted" bash -c \
      "$PB run $T/${m}_$n.pbin --backend verilator --cosim --stats --input $T/x2.npy --output $T/yv.npy --raw 2> $T/st.txt; rc=\$?; cat $T/st.txt; test \$rc = 0 && grep -q 'measured [0-9]* (equal)' $T/st.txt"
    check "$m N=$n: verilator output == ref output" bash -c \
      "$PB run $T/${m}_$n.pbin --input $T/x2.npy --output $T/yr.npy --raw && cmp $T/yv.npy $T/yr.npy"
  done
done
grep -h 'cycles: predicted' $T/st.txt | sed 's/^/    /'

# --- errors: clear message, non-zero exit, never a crash (plain and sanitized CLI)
$PY tests/onnx/make_bad_models.py $T/bad
printf 'this is not a protobuf' > $T/junk.onnx
head -c 3000 models/mlp_w1.qdq.onnx > $T/trunc.onnx
for P in build/protobrain build/san/protobrain; do
  tag=$(basename "$(dirname "$P")")
  [ -x "$P" ] || { fail "$tag: $P not built"; continue; }
  check_fails "$tag not a protobuf" "not a valid ONNX model" $P compile $T/junk.onnx -o $T/o.pbin
  check_fails "$tag truncated" "truncated" $P compile $T/trunc.onnx -o $T/o.pbin --batch 1
  check_fails "$tag unsupported op lists the supported ones" "operator Tanh is not supported; supported operators: Add" \
    $P compile $T/bad/unsupported_op.onnx -o $T/o.pbin
  check_fails "$tag unsupported attribute" "attribute 'group' = 2 is not supported" $P compile $T/bad/bad_attribute.onnx -o $T/o.pbin
  check_fails "$tag missing initializer" "input 1 'W' is not defined" $P compile $T/bad/missing_init.onnx -o $T/o.pbin
  check_fails "$tag inconsistent shapes" "inner dimensions differ" $P compile $T/bad/bad_shapes.onnx -o $T/o.pbin
  check_fails "$tag dynamic batch without --batch" "give --batch" $P compile models/mlp_w1.qdq.onnx -o $T/o.pbin
  check_fails "$tag float model without --calib" "give calibration data with --calib" $P compile $T/bad/float_gemm.onnx -o $T/o.pbin
  check_fails "$tag per-row a_zero_point" "'a_zp' (u8 2) (a_zero_point) must have one element (per-tensor)" \
    $P compile $T/bad/int32_row_zp.onnx -o $T/o.pbin
  check_fails "$tag too large for host memory: by how much" "short by more than [0-9]* bytes" \
    $P compile $T/bad/big_gemm.onnx -o $T/o.pbin --array 4
  check_fails "$tag code too large: by how much" "short by [0-9]* bytes" \
    $P compile models/cnn_w1.qdq.onnx -o $T/o.pbin --array 4 --batch 64
  check_fails "$tag scratchpad too small: by how much" "scratchpad rows.*short by 8 rows" \
    $P compile models/cnn_w1.qdq.onnx -o $T/o.pbin --batch 4 --sp-rows 30
  check_fails "$tag accumulator too small" "accumulator rows; the configuration has 3: short by 1 rows" \
    $P compile models/cnn_w1.qdq.onnx -o $T/o.pbin --batch 4 --acc-rows 3
  check_fails "$tag bad --calib shape" "expected float32 n x" $P compile $T/bad/float_gemm.onnx -o $T/o.pbin --calib $T/x2.npy
  check_fails "$tag missing model" "cannot" $P compile $T/none.onnx -o $T/o.pbin
  check_fails "$tag bad --array" "array" $P compile models/mlp_w1.qdq.onnx -o $T/o.pbin --array 0
  check_fails "$tag no output" "no output given" $P compile models/mlp_w1.qdq.onnx
  $PY -c "import numpy as np; np.save('$T/bad_x.npy', np.zeros((2,1,28,27), np.float32))"
  check_fails "$tag run: wrong per-sample shape" "any number of samples along the first axis" $P run $T/cnn16.pbin --input $T/bad_x.npy
  check "$tag compile+run a small model" bash -c "$P compile models/mlp_w0.25.qdq.onnx -o $T/s.pbin --array 8 --batch 3 && \
    $P run $T/s.pbin --input $T/x13.npy --output $T/s.npy"
done
# --- mutated models through the sanitized CLI: never a crash
if [ -x build/san/protobrain ]; then
  check "fuzz: 60 mutated models, ASan+UBSan CLI (tests/onnx/fuzz_compile.py)" bash -c \
    "$PY tests/onnx/fuzz_compile.py build/san/protobrain $T/fuzz 20240611 60 > $T/fuzz.log 2>&1"
  tail -3 $T/fuzz.log | sed 's/^/    /'
fi
check_done test_compile
