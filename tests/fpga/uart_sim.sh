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
