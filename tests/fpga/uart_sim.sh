# SPDX-License-Identifier: Apache-2.0
# Shell helpers for the UART tests (source after tests/lib/check.sh): start and stop the simulated
# board (build/fpga/pb_board_sim) behind a pseudo-terminal.
#   sim_start NAME [pb_board_sim options]   sets SIM_PID, PORT; the simulator's output in
#                                           build/fpga/logs/NAME.sim.log
#   sim_stop                                SIGTERM, wait; 0 if it exited cleanly (status 0)
SIM=${SIM:-build/fpga/pb_board_sim}
SIM_LOGDIR=build/fpga/logs
mkdir -p "$SIM_LOGDIR"

sim_start() {
  local name=$1; shift
  SIM_LOG=$SIM_LOGDIR/$name.sim.log
  local link=$CHECK_TMP/$name.pty
  rm -f "$link"
  "$SIM" --link "$link" "$@" > "$SIM_LOG" 2>&1 &
  SIM_PID=$!
  for _ in $(seq 1 200); do
    [ -s "$link" ] && break
    kill -0 "$SIM_PID" 2> /dev/null || break
    sleep 0.05
  done
  PORT=$(cat "$link" 2> /dev/null)
  if [ -z "$PORT" ]; then
    echo "FAIL: $SIM did not start (log: $SIM_LOG)"; cat "$SIM_LOG"
    return 1
  fi
}

sim_stop() {
  [ -n "${SIM_PID:-}" ] || return 0
  kill -TERM "$SIM_PID" 2> /dev/null
  wait "$SIM_PID"
  local rc=$?
  SIM_PID=
  return $rc
}

# the statistics line the simulator prints at exit
sim_stats() { grep '^pb_board_sim: .* cycles in' "$SIM_LOG" | tail -1; }

# the programs the C unit tests save (PB_PROG_DUMP in tests/run_tests.sh; made here when absent):
# prints the directory
uart_progs_dir() {
  local d=build/progs
  if ! ls $d/*.pbs > /dev/null 2>&1; then
    d=$CHECK_TMP/progs; mkdir -p $d
    for t in test_programs test_asm test_model_errors; do PB_PROG_DUMP=$d build/tests/$t > /dev/null 2>&1; done
  fi
  echo $d
}

# run_uart_progs LOG PROG.pbs...: build/fpga/test_uart_progs on $PORT (the environment passes
# PB_BOARD_N, _SP, _ACC, _HOST, _RQ_LANES on); its checks are added to this test's counts, its output in LOG
run_uart_progs() {
  local log=$1; shift
  local out rc line
  out=$(build/fpga/test_uart_progs "$PORT" "$@" 2>&1); rc=$?
  echo "$out" > "$log"
  echo "$out" | grep -E '^(FAIL|[0-9]+ programs|#)' | head -20
  line=$(grep -E '^# test_uart_progs: [0-9]+ passed, [0-9]+ failed$' <<< "$out")
  if [ -n "$line" ]; then
    CHECK_PASS=$((CHECK_PASS + $(sed -E 's/.*: ([0-9]+) passed.*/\1/' <<< "$line")))
    CHECK_FAIL=$((CHECK_FAIL + $(sed -E 's/.*, ([0-9]+) failed/\1/' <<< "$line")))
  fi
  [ "$rc" = 0 ] && [ -n "$line" ] || fail "test_uart_progs exited with $rc"
}
