#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `protobrain run --backend uart` against the simulated board (build/fpga/pb_board_sim) on a clean
# line: outputs byte-identical to `--backend ref` (the C reference model) on the hand-checked 2x2
# example (and equal to the values computed by hand) and on Fashion-MNIST images (cnn_w0.25: 100
# images, cnn_w0.5: 20, compiled for the iCEBreaker configuration); the shadow memory moves far
# less than 128 KiB per image; an illegal instruction gives the same error code and PC as ref;
# a program built for other hardware is refused naming both; bad ports and options give clear
# errors. Ends with "# fpga/test_uart_run: P passed, F failed".
cd "$(dirname "$0")/../.."
. tests/lib/check.sh
. tests/fpga/uart_sim.sh
trap 'sim_stop; rm -rf "$CHECK_TMP"' EXIT
PB=build/protobrain
PY=${PYTHON:-.venv/bin/python}
T=$CHECK_TMP
HW="--array 4 --sp-rows 1024 --acc-rows 256 --host-bytes 131072"
IMAGES=${PB_UART_IMAGES:-100}

# ---- inputs and programs ----
[ -f build/data/test_x.npy ] || $PY models/make_data.py --out build/data > /dev/null
$PY - "$T" "$IMAGES" << 'PYEOF'
import sys, numpy as np
t, n = sys.argv[1], int(sys.argv[2])
x = np.load('build/data/test_x.npy')
np.save(t + '/x_n.npy', x[:n]); np.save(t + '/x20.npy', x[n:n + 20])
np.save(t + '/x22.npy', np.array([[1, 2], [3, -4]], dtype=np.int8))
np.save(t + '/x14.npy', np.array([[1, -2, 3, -4]], dtype=np.int8))
PYEOF
sed 's/^\.hw .*/.hw n=4 sp_rows=1024 acc_rows=256 host_bytes=131072/' tests/asm/matmul2x2.pbs > $T/mm.pbs
check "assemble the 2x2 example for the board" $PB asm $T/mm.pbs -o $T/mm.pbin
check "assemble the 2x2 example for sim4" $PB asm tests/asm/matmul2x2.pbs -o $T/mm_sim4.pbin
cat > $T/ill.pbs << 'EOF2'
.hw n=4 sp_rows=1024 acc_rows=256 host_bytes=131072
.buffer X 0x1000 4 io
.buffer Y 0x1100 4 io
.tensor input x addr=X dtype=i8 shape=1x4
.tensor output y addr=Y dtype=i8 shape=1x4
LOAD sp_col=0 cols=4 sp_addr=0 rows=1 host_stride=4 host_addr=X
STORE sp_col=0 cols=4 sp_addr=0 rows=1 host_stride=4 host_addr=Y
SYNC
.word 0x000000000000000000000000000000ff
HALT
EOF2
check "assemble an illegal-instruction program" $PB asm $T/ill.pbs -o $T/ill.pbin
for w in 0.25 0.5; do
  check "compile cnn_w$w for the board" $PB compile models/cnn_w$w.qdq.onnx -o $T/cnn_w$w.pbin $HW --batch 1
done

# ---- usage and port errors (no simulator needed) ----
check_fails "uart without --port" "needs --port" $PB run $T/mm.pbin --backend uart --input $T/x22.npy
check_fails "--port without uart" "need --backend uart" $PB run $T/mm.pbin --port /dev/null --input $T/x22.npy
check_fails "a port that does not exist" "uart /nonexistent/tty: cannot open" \
  $PB run $T/mm.pbin --backend uart --port /nonexistent/tty --input $T/x22.npy --output $T/no.npy
check_fails "a file that is no serial port" "not a serial port" \
  $PB run $T/mm.pbin --backend uart --port /dev/null --input $T/x22.npy --output $T/no.npy
check "... and no output file" test ! -e $T/no.npy

sim_start run || exit 1
check_fails "an unsupported baud rate" "unsupported baud rate 12345" \
  $PB run $T/mm.pbin --backend uart --port "$PORT" --baud 12345 --input $T/x22.npy

# ---- the 2x2 example: by hand, ref and uart ----
check "2x2 on ref" $PB run $T/mm.pbin --backend ref --input $T/x22.npy --output $T/y22_ref.npy
check "2x2 on uart" $PB run $T/mm.pbin --backend uart --port "$PORT" --input $T/x22.npy --output $T/y22_uart.npy
check "2x2: uart output equals ref byte for byte" cmp $T/y22_ref.npy $T/y22_uart.npy
check "2x2: uart output is [[29, 0], [0, 30]] (docs: computed by hand)" $PY -c "
import numpy as np, sys; sys.exit(0 if np.load('$T/y22_uart.npy').tolist() == [[29, 0], [0, 30]] else 1)"

# ---- Fashion-MNIST: cnn_w0.25 on $IMAGES images, cnn_w0.5 on 20 ----
check "cnn_w0.25 on ref ($IMAGES images)" $PB run $T/cnn_w0.25.pbin --input $T/x_n.npy --output $T/c25_ref.npy --raw
t0=$(date +%s.%N)
$PB run $T/cnn_w0.25.pbin --backend uart --port "$PORT" --input $T/x_n.npy --output $T/c25_uart.npy --raw --stats \
  > $T/c25.log 2>&1
rc=$?; t1=$(date +%s.%N)
check "cnn_w0.25 on uart ($IMAGES images)" test $rc = 0
[ $rc = 0 ] || cat $T/c25.log
check "cnn_w0.25: uart outputs equal ref byte for byte ($IMAGES images)" cmp $T/c25_ref.npy $T/c25_uart.npy
grep 'stats: uart' $T/c25.log
echo "cnn_w0.25: $IMAGES images in $(awk "BEGIN { printf \"%.1f\", $t1 - $t0 }") s over the simulated link"
# the shadow memory: the program once, then the inputs; the STORE ranges back (not 128 KiB per image)
written=$(sed -nE 's/.*host memory: ([0-9]+) bytes written.*/\1/p' $T/c25.log)
readb=$(sed -nE 's/.*bytes written, ([0-9]+) read back.*/\1/p' $T/c25.log)
check "shadow memory: $written bytes written <= 128 KiB + $IMAGES x 784 input bytes" \
  test -n "$written" -a "${written:-0}" -le $((131072 + IMAGES * 784))
check "shadow memory: $readb bytes read back <= $IMAGES x 4096" test -n "$readb" -a "${readb:-0}" -le $((IMAGES * 4096))

check "cnn_w0.5 on ref (20 images)" $PB run $T/cnn_w0.5.pbin --input $T/x20.npy --output $T/c5_ref.npy
check "cnn_w0.5 on uart (20 images, float outputs)" \
  $PB run $T/cnn_w0.5.pbin --backend uart --port "$PORT" --input $T/x20.npy --output $T/c5_uart.npy
check "cnn_w0.5: uart outputs equal ref byte for byte (20 images)" cmp $T/c5_ref.npy $T/c5_uart.npy

# ---- an accelerator error: same code and PC as ref, no output file ----
$PB run $T/ill.pbin --backend ref --input $T/x14.npy --output $T/yi_ref.npy > $T/ill_ref.log 2>&1; rr=$?
$PB run $T/ill.pbin --backend uart --port "$PORT" --input $T/x14.npy --output $T/yi_uart.npy > $T/ill_uart.log 2>&1; ru=$?
cat $T/ill_uart.log
check "illegal instruction: both exit 1" test "$rr/$ru" = 1/1
check "illegal instruction: ILLEGAL_OPCODE at pc 3 on ref" grep -q "error ILLEGAL_OPCODE (1) at pc 3" $T/ill_ref.log
check "illegal instruction: the same message on uart" cmp $T/ill_ref.log $T/ill_uart.log
check "illegal instruction: no output file" test ! -e $T/yi_uart.npy

# ---- a program built for other hardware ----
check_fails "a program for sim4 is refused, naming both parameter sets" \
  "backend uart has hardware n=4 sp_rows=1024 acc_rows=256 host_bytes=131072, not n=4 sp_rows=1024 acc_rows=512 host_bytes=1048576" \
  $PB run $T/mm_sim4.pbin --backend uart --port "$PORT" --input $T/x22.npy
check "... and the board still works after it" \
  $PB run $T/mm.pbin --backend uart --port "$PORT" --input $T/x22.npy --output $T/y22_again.npy

check "simulator exits cleanly" sim_stop
sim_stats
check_done fpga/test_uart_run
