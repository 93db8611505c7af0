#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The synthesized iCEBreaker board (pb_board after synth_ice40 -dsp -spram at the iCE40 build's
# parameters: N=2, one requantizer lane, CNT_W 40; core + UART bridge + host-memory arbiter + SPRAM;
# mk/fpga.mk, build/fpga/pb_board_netsim) driven over a pseudo-terminal by the `uart` backend,
# exactly as a real board would be, against the C reference model (the independent source):
#   - the N=2 hand-checkable and error programs of the C unit tests (tests/fpga/test_uart_progs.c:
#     end state, error code, faulting PC, instructions and the whole host memory equal to ref);
#   - Fashion-MNIST images through cnn_w0.25 compiled for the board: outputs byte-identical to ref;
#   - a program for the same memories but another requantizer-lane count is refused, naming both.
# Ends with "# fpga/test_board_netsim: P passed, F failed".
cd "$(dirname "$0")/../.."
. tests/lib/check.sh
SIM=build/fpga/pb_board_netsim
. tests/fpga/uart_sim.sh
trap 'sim_stop; rm -rf "$CHECK_TMP"' EXIT
PB=build/protobrain
PY=${PYTHON:-.venv/bin/python}
T=$CHECK_TMP
LOG=build/fpga/logs
IMAGES=${PB_NETSIM_IMAGES:-2}   # about 25 s each: the netlist simulates some 3 x 10^4 cycles/s
read -r BN BSP BACC BHOST BRQ _ <<< "$(make -s --no-print-directory print-ICE40_HW)"
HW="--array $BN --sp-rows $BSP --acc-rows $BACC --host-bytes $BHOST"

progs=$(uart_progs_dir)
# two error programs of this N (the unit tests' error programs are N=4): an illegal opcode after
# a LOAD, and a LOAD past the scratchpad's last row
for k in ill range; do
  { echo ".hw n=$BN sp_rows=$BSP acc_rows=$BACC host_bytes=$BHOST rq_lanes=$BRQ"
    echo ".buffer X 0x1000 $((2 * BN)) io"
    if [ $k = ill ]; then
      echo "LOAD sp_col=0 cols=$BN sp_addr=0 rows=2 host_stride=$BN host_addr=X"
      echo "SYNC"; echo ".word 0x000000000000000000000000000000ff"
    else
      echo "LOAD sp_col=0 cols=$BN sp_addr=$((BSP - 1)) rows=2 host_stride=$BN host_addr=X"
    fi
    echo "HALT"; } > $T/err_$k.pbs
done
nb=$(grep -l "^\.hw n=$BN " $progs/*.pbs)
check "N=$BN programs to run ($(echo $nb | wc -w) in $progs)" test -n "$nb"
nb="$nb $T/err_ill.pbs $T/err_range.pbs"

[ -f build/data/test_x.npy ] || $PY models/make_data.py --out build/data > /dev/null
$PY -c "import numpy as np; np.save('$T/x.npy', np.load('build/data/test_x.npy')[:$IMAGES])"
check "compile cnn_w0.25 for the board (rq_lanes $BRQ)" \
  $PB compile models/cnn_w0.25.qdq.onnx -o $T/cnn.pbin $HW --rq-lanes $BRQ --batch 1
check "compile cnn_w0.25 with one requantizer lane per column" \
  $PB compile models/cnn_w0.25.qdq.onnx -o $T/cnn_lanes.pbin $HW --batch 1

sim_start netsim || exit 1
PB_BOARD_N=$BN PB_BOARD_RQ_LANES=$BRQ run_uart_progs $LOG/test_board_netsim.log $nb

check "cnn_w0.25 on ref ($IMAGES images)" $PB run $T/cnn.pbin --input $T/x.npy --output $T/ref.npy --raw
t0=$(date +%s)
check "cnn_w0.25 on the netlist board ($IMAGES images)" \
  $PB run $T/cnn.pbin --backend uart --port "$PORT" --input $T/x.npy --output $T/net.npy --raw
echo "    $IMAGES images in $(($(date +%s) - t0)) s"
check "cnn_w0.25: the netlist board's outputs equal ref byte for byte" cmp $T/ref.npy $T/net.npy
check_fails "a program for $BN lanes is refused, naming both" \
  "host_bytes=$BHOST rq_lanes=$BRQ, not n=$BN sp_rows=$BSP acc_rows=$BACC host_bytes=$BHOST" \
  $PB run $T/cnn_lanes.pbin --backend uart --port "$PORT" --input $T/x.npy
check "simulator exits cleanly" sim_stop
sim_stats
check_done fpga/test_board_netsim
