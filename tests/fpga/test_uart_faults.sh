#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `protobrain run --backend uart` over a faulty line (build/fpga/pb_board_sim's seeded fault
# injection): with bit flips and dropped bytes in both directions at a rate that forces
# retransmissions, the outputs are still byte-identical to `--backend ref` (and the retries are
# counted and printed); faults at given byte indices likewise; with a line so bad that no request
# gets through, a cut link, or a simulator that dies, the driver gives up with a clear error
# naming the port, command and sequence number, exits 1 and writes no output file.
# Ends with "# fpga/test_uart_faults: P passed, F failed".
cd "$(dirname "$0")/../.."
. tests/lib/check.sh
. tests/fpga/uart_sim.sh
trap 'sim_stop; [ -n "${RUN_PID:-}" ] && kill "$RUN_PID" 2> /dev/null; rm -rf "$CHECK_TMP"' EXIT
PB=build/protobrain
PY=${PYTHON:-.venv/bin/python}
T=$CHECK_TMP
HW="--array 4 --sp-rows 1024 --acc-rows 256 --host-bytes 131072"
IMAGES=${PB_UART_FAULT_IMAGES:-30}
RATE=${PB_UART_FAULT_RATE:-0.001}

[ -f build/data/test_x.npy ] || $PY models/make_data.py --out build/data > /dev/null
$PY -c "
import numpy as np
x = np.load('build/data/test_x.npy')
np.save('$T/x.npy', x[200:200 + $IMAGES])
np.save('$T/x30.npy', x[300:330])
np.save('$T/x22.npy', np.array([[1, 2], [3, -4]], dtype=np.int8))"
sed 's/^\.hw .*/.hw n=4 sp_rows=1024 acc_rows=256 host_bytes=131072/' tests/asm/matmul2x2.pbs > $T/mm.pbs
check "assemble the 2x2 example" $PB asm $T/mm.pbs -o $T/mm.pbin
check "compile cnn_w0.25 for the board" $PB compile models/cnn_w0.25.qdq.onnx -o $T/cnn.pbin $HW --batch 1
check "cnn_w0.25 on ref" $PB run $T/cnn.pbin --input $T/x.npy --output $T/ref.npy --raw
check "2x2 on ref" $PB run $T/mm.pbin --input $T/x22.npy --output $T/ref22.npy

retries() { sed -nE 's/.*stats: uart link: [0-9]+ requests, ([0-9]+) retries.*/\1/p' "$1"; }

# ---- random faults: every kind, both directions ----
if sim_start faults_rate --seed 11 --flip-h2b $RATE --drop-h2b $RATE --flip-b2h $RATE --drop-b2h $RATE; then
  t0=$(date +%s)
  $PB run $T/cnn.pbin --backend uart --port "$PORT" --timeout 300 --input $T/x.npy --output $T/f.npy --raw --stats \
    > $T/f.log 2>&1
  rc=$?
  check "cnn_w0.25, $IMAGES images, faults at $RATE per byte and kind: run succeeds" test $rc = 0
  [ $rc = 0 ] || tail -5 $T/f.log
  check "... outputs equal ref byte for byte" cmp $T/ref.npy $T/f.npy
  grep 'stats: uart' $T/f.log
  r=$(retries $T/f.log)
  echo "faults at $RATE: ${r:-?} retries in $(( $(date +%s) - t0 )) s"
  check "... retransmissions happened (${r:-none})" test "${r:-0}" -gt 0
  check "simulator exits cleanly" sim_stop
  sim_stats
  check "... and it injected faults in both directions" grep -qE 'host->board [0-9]+ bytes \([1-9][0-9]* bit flips, [1-9][0-9]* dropped\), board->host [0-9]+ bytes \([1-9][0-9]* bit flips, [1-9][0-9]* dropped' "$SIM_LOG"
fi

# ---- faults at given byte indices ----
if sim_start faults_at --flip-h2b-at 2,300 --drop-h2b-at 40,150 --flip-b2h-at 10,60 --drop-b2h-at 30,100; then
  $PB run $T/mm.pbin --backend uart --port "$PORT" --input $T/x22.npy --output $T/f22.npy --stats > $T/f22.log 2>&1
  check "2x2 with 8 faults at given byte indices: run succeeds" test $? = 0
  check "... output equals ref" cmp $T/ref22.npy $T/f22.npy
  r=$(retries $T/f22.log)
  echo "faults at byte indices: ${r:-?} retries"
  check "... retransmissions happened (${r:-none})" test "${r:-0}" -gt 0
  sim_stop
  sim_stats
  check "... all 8 faults were injected" grep -qE '\(2 bit flips, 2 dropped\), board->host [0-9]+ bytes \(2 bit flips, 2 dropped\)' "$SIM_LOG"
fi

# ---- a line too bad to use: the driver gives up ----
if sim_start faults_hopeless --seed 3 --drop-h2b 0.3 --flip-b2h 0.3; then
  t0=$(date +%s)
  check_fails "drop rate 0.3: gives up naming port, command, sequence and attempts" \
    "uart $PORT: no valid reply to [A-Z_]* (seq 0x[0-9a-f][0-9a-f]) after 9 attempts" \
    $PB run $T/cnn.pbin --backend uart --port "$PORT" --timeout 300 --input $T/x.npy --output $T/h.npy
  echo "gave up after $(( $(date +%s) - t0 )) s: $(grep -o 'uart .*' $CHECK_TMP/out | head -1)"
  check "... no output file" test ! -e $T/h.npy
  sim_stop
fi

# ---- the link dies in the middle of a run (after the program upload, about 36 KB) ----
if sim_start faults_cut --cut-at 40000; then
  check_fails "link cut during the run: clear error" "uart $PORT: no valid reply to [A-Z_]* (seq 0x" \
    $PB run $T/cnn.pbin --backend uart --port "$PORT" --timeout 300 --input $T/x30.npy --output $T/c.npy
  grep -o 'uart .*' $CHECK_TMP/out | head -1
  check "... no output file" test ! -e $T/c.npy
  sim_stop
fi

# ---- the simulator (the board) goes away in the middle of a run ----
if sim_start faults_kill; then
  $PB run $T/cnn.pbin --backend uart --port "$PORT" --input $T/x30.npy --output $T/k.npy > $T/k.log 2>&1 &
  RUN_PID=$!
  sleep 2
  kill -KILL "$SIM_PID"; wait "$SIM_PID" 2> /dev/null; SIM_PID=
  t0=$(date +%s)
  for _ in $(seq 1 150); do kill -0 "$RUN_PID" 2> /dev/null || break; sleep 0.1; done
  if kill -0 "$RUN_PID" 2> /dev/null; then
    fail "the driver still runs 15 s after the board went away"; kill "$RUN_PID"
  else
    wait "$RUN_PID"; rc=$?
    check "board gone: exit 1 within $(( $(date +%s) - t0 )) s" test $rc = 1
    check "... with an error naming the port" grep -qE "uart $PORT: (the port failed or closed|no valid reply|cannot send)" $T/k.log
    grep -o 'uart .*' $T/k.log | head -1
    check "... no output file" test ! -e $T/k.npy
  fi
  RUN_PID=
fi
check_done fpga/test_uart_faults
