#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# protobrain run, as a client of libprotobrain: the progress bar (stderr on a terminal only, more
# than one chunk), --stats (cycles per sample, predicted vs measured, utilization, samples/s at a
# stated clock), and many samples against a hand computation of the chunking.
# `script` (util-linux, Debian essential) gives the command a pseudo-terminal.
cd "$(dirname "$0")/../.."
source tests/lib/check.sh
PB=build/protobrain
PY=.venv/bin/python
T=$CHECK_TMP
[ -f build/data/test_x.npy ] || $PY models/make_data.py --out build/data > /dev/null

check "compile mlp_w0.25 N=16 batch 4" $PB compile models/mlp_w0.25.qdq.onnx -o $T/m.pbin --array 16 --batch 4
$PY -c "import numpy as np; x = np.load('build/data/test_x.npy'); np.save('$T/x30.npy', x[:30]); np.save('$T/x3.npy', x[:3])"

# --- progress bar: on a terminal, 30 samples = 8 runs of 4
check "run on a pseudo-terminal" script -qec "$PB run $T/m.pbin --input $T/x30.npy --output $T/y_tty.npy" $T/tty.log
tr '\r' '\n' < $T/tty.log > $T/tty.txt
check "the bar ends at 30/30 samples (100%)" grep -q '^\[#*\] 30/30 samples (100%)' $T/tty.txt
check "the bar shows a partial state (4/30 after the first run)" grep -q '^\[[#.]*\] 4/30 samples' $T/tty.txt
check "it redraws in place (carriage returns)" grep -q $'\r' $T/tty.log
check "not on a terminal: no bar" bash -c "$PB run $T/m.pbin --input $T/x30.npy --output $T/y.npy 2> $T/err.txt; test ! -s $T/err.txt"
check "the outputs are the same either way" cmp $T/y.npy $T/y_tty.npy
check "on a terminal, one chunk: no bar" bash -c "script -qec '$PB run $T/m.pbin --input $T/x3.npy --output $T/y3.npy' $T/tty1.log && ! grep -q 'samples (' $T/tty1.log"
check "--stats works beside the bar" bash -c "script -qec '$PB run $T/m.pbin --input $T/x30.npy --stats' $T/tty2.log && grep -q '30/30 samples' $T/tty2.log && grep -q 'stats: 30 samples in 8 runs' $T/tty2.log"

# --- --stats: what it states
check "run --stats" bash -c "$PB run $T/m.pbin --input $T/x30.npy --stats 2> $T/st.txt"
sed 's/^/    /' $T/st.txt
check "--stats: 30 samples in ceil(30/4) = 8 runs" grep -q 'stats: 30 samples in 8 runs (8 accelerator and 0 host steps)' $T/st.txt
check "--stats: predicted vs measured cycles" grep -qE 'cycles: predicted [0-9]+, measured [0-9]+ \(equal\)' $T/st.txt
check "--stats: cycles per sample = measured / 30" bash -c \
  "grep -oE 'measured [0-9]+ \(equal\); [0-9.]+ cycles per sample' $T/st.txt | awk '{ok = (\$2 / 30 - \$4 < 0.06 && \$4 - \$2 / 30 < 0.06)} END {exit !ok}'"
check "--stats: array utilization in percent" grep -qE 'array utilization [0-9.]+% \(useful MACs' $T/st.txt
check "--stats: samples/s at 100 MHz = 30 x 1e8 / cycles" bash -c \
  "grep -oE 'measured [0-9]+ .* [0-9]+ samples/s at 100 MHz' $T/st.txt | awk '{c = \$2; s = \$(NF-4); want = 30 * 1e8 / c; ok = (s - want < 1 && want - s < 1)} END {exit !ok}'"
check "--stats --clock 50: the throughput halves, the clock is stated" bash -c \
  "$PB run $T/m.pbin --input $T/x30.npy --stats --clock 50 2> $T/st50.txt; \
   a=\$(grep -oE '[0-9]+ samples/s at 100 MHz' $T/st.txt | cut -d' ' -f1); b=\$(grep -oE '[0-9]+ samples/s at 50 MHz' $T/st50.txt | cut -d' ' -f1); \
   test -n \"\$b\" && test \$(( a / 2 - b )) -le 1 && test \$(( b - a / 2 )) -le 1"
check "--stats of a hand-written program: utilization n/a" bash -c \
  "$PB asm tests/asm/matmul2x2.pbs -o $T/mm.pbin && $PY -c \"import numpy as np; np.save('$T/x.npy', np.array([[1,2],[3,-4]], np.int8))\" && \
   $PB run $T/mm.pbin --input $T/x.npy --stats 2>&1 | grep -q 'array utilization n/a (the program has no layer table)'"

# --- many samples: the chunks are independent (samples 29, 28 of the 30 equal a run of them alone)
check "the last, partial chunk equals the same samples run alone" bash -c \
  "$PY -c \"import numpy as np; np.save('$T/xl.npy', np.load('$T/x30.npy')[28:30])\" && \
   $PB run $T/m.pbin --input $T/xl.npy --output $T/yl.npy && \
   $PY -c \"import numpy as np; a = np.load('$T/y.npy'); b = np.load('$T/yl.npy'); assert a.shape == (30, 10) and (a[28:] == b).all()\""
check_done test_run
