#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `make demo`: first the hand-written example (tests/asm/matmul2x2.pbs) on the C reference model
# and on the Verilated RTL in lock step, checked against numpy; then Fashion-MNIST end to end
# (tests/demo.py): the committed QDQ CNN and MLP compiled for N=16, the 10,000 test images on the
# C model, 1,000 on the RTL in lock step, every output compared with onnxruntime.
set -euo pipefail
cd "$(dirname "$0")/.."
PB=build/protobrain
OUT=build/demo
mkdir -p $OUT
echo "== assemble tests/asm/matmul2x2.pbs"
$PB asm tests/asm/matmul2x2.pbs -o $OUT/matmul2x2.pbin
$PB disasm $OUT/matmul2x2.pbin | grep -v '^\s*;' | grep -E '^[A-Z]' | sed 's/^/   /'
echo "== run on the C reference model"
.venv/bin/python -c "import numpy as np; np.save('$OUT/x.npy', np.array([[1, 2], [3, -4]], dtype=np.int8))"
$PB run $OUT/matmul2x2.pbin --backend ref --input $OUT/x.npy --output $OUT/y.npy --stats
echo "== run on the Verilated RTL in lock step with the reference model"
$PB run $OUT/matmul2x2.pbin --backend verilator --cosim --input $OUT/x.npy --output $OUT/y_rtl.npy --stats
cmp $OUT/y.npy $OUT/y_rtl.npy && echo "   RTL output bytes equal the reference model's"
.venv/bin/python - "$OUT" <<'PY'
import sys, numpy as np
out = sys.argv[1]
x = np.load(f"{out}/x.npy"); y = np.load(f"{out}/y.npy")
want = np.clip(x.astype(np.int64) @ np.array([[5, 6], [7, -8]]) + np.array([10, -20]), 0, 127)
print("   x =", x.tolist())
print("   y =", y.tolist(), " numpy relu(x.W + b) =", want.tolist(), " match:", bool((y == want).all()))
sys.exit(0 if (y == want).all() else 1)
PY
[ -f build/data/test_x.npy ] || .venv/bin/python models/make_data.py --out build/data
.venv/bin/python tests/demo.py $PB $OUT/fmnist --rtl-images "${RTL_IMAGES:-1000}"
