#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The synthesized iCEBreaker board (pb_board after synth_ice40 -dsp -spram at the iCE40 build's
# parameters, mk/fpga.mk ICE40_HW; core + UART bridge + host-memory arbiter + SPRAM;
# build/fpga/pb_board_netsim) driven over a pseudo-terminal by the `uart` backend, exactly as a real
# board would be, against the C reference model (the independent source):
#   - the hand-checkable programs of the C unit tests for the board's N, and two error programs
#     (tests/fpga/test_uart_progs.c: end state, error code, faulting PC, instructions and the whole
#     host memory equal to ref);
#   - a program for another array size is refused, naming both configurations.
# No Fashion-MNIST network fits the iCEBreaker build (N=1, 64 KiB host memory: cnn_w0.25 needs
# 358 KB of code there); the simulated board of the uart tests (mk/uart.mk, N=4) runs them.
# Ends with "# fpga/test_board_netsim: P passed, F failed".
cd "$(dirname "$0")/../.."
. tests/lib/check.sh
SIM=build/fpga/pb_board_netsim
. tests/fpga/uart_sim.sh
trap 'sim_stop; rm -rf "$CHECK_TMP"' EXIT
PB=build/protobrain
T=$CHECK_TMP
LOG=build/fpga/logs
read -r BN BSP BACC BHOST BRQ _ <<< "$(make -s --no-print-directory print-ICE40_HW)"

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

sim_start netsim || exit 1
PB_BOARD_N=$BN PB_BOARD_SP=$BSP PB_BOARD_ACC=$BACC PB_BOARD_HOST=$BHOST PB_BOARD_RQ_LANES=$BRQ run_uart_progs $LOG/test_board_netsim.log $nb
# every program was written for this board: none may be skipped
check "all $(echo $nb | wc -w) programs ran on the board" grep -q "^$(echo $nb | wc -w) programs on the board" $LOG/test_board_netsim.log

# the error program for another array size: the board refuses it before anything runs
sed "s/^\.hw n=$BN /.hw n=$((BN * 2)) /" $T/err_range.pbs > $T/other.pbs
check "assemble a program for n=$((BN * 2))" $PB asm $T/other.pbs -o $T/other.pbin
check_fails "a program for n=$((BN * 2)) is refused, naming both" \
  "has hardware n=$BN sp_rows=$BSP acc_rows=$BACC host_bytes=$BHOST, not n=$((BN * 2)) sp_rows=$BSP" \
  $PB run $T/other.pbin --backend uart --port "$PORT"
check "simulator exits cleanly" sim_stop
sim_stats
check_done fpga/test_board_netsim
