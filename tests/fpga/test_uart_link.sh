#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Protocol tests of the board's UART bridge through the driver's link layer, against the simulated
# board (tests/fpga/test_uart_link.c: registers, memory, every NAK reason, resynchronization,
# duplicates, BUSY, RESET), and the simulator's own behaviour (clean exit on SIGTERM, its
# pseudo-terminal link file removed, --exit-on-hangup). Ends with "# fpga/test_uart_link: P passed, F failed".
cd "$(dirname "$0")/../.."
. tests/lib/check.sh
. tests/fpga/uart_sim.sh
trap 'sim_stop; rm -rf "$CHECK_TMP"' EXIT
LOG=build/fpga/logs

if sim_start link; then
  out=$(build/fpga/test_uart_link "$PORT" 2>&1); rc=$?
  echo "$out" > $LOG/test_uart_link.log
  echo "$out" | grep -E '^(FAIL|long program|link:|#)'
  line=$(grep -E '^# test_uart_link: [0-9]+ passed, [0-9]+ failed$' <<< "$out")
  if [ -n "$line" ]; then
    CHECK_PASS=$((CHECK_PASS + $(sed -E 's/.*: ([0-9]+) passed.*/\1/' <<< "$line")))
    CHECK_FAIL=$((CHECK_FAIL + $(sed -E 's/.*, ([0-9]+) failed/\1/' <<< "$line")))
  fi
  [ "$rc" = 0 ] && [ -n "$line" ] || fail "test_uart_link exited with $rc"
  link=$CHECK_TMP/link.pty
  check "the simulator exits cleanly on SIGTERM" sim_stop
  check "... and removes its link file" test ! -e "$link"
  sim_stats
else
  fail "simulator start"
fi

# --exit-on-hangup: the simulator ends when the host closes the port after using it
if sim_start hangup --exit-on-hangup; then
  printf '\x7e\x01\x07\x00\x00\xff\xff' > "$PORT"   # one (damaged) frame, then close
  for _ in $(seq 1 100); do kill -0 "$SIM_PID" 2> /dev/null || break; sleep 0.05; done
  if kill -0 "$SIM_PID" 2> /dev/null; then fail "--exit-on-hangup: still running after the host closed"; sim_stop
  else wait "$SIM_PID"; rc=$?; SIM_PID=; check "--exit-on-hangup: exits with status 0 when the host closes" test "$rc" = 0; fi
fi
check_fails "pb_board_sim refuses an unknown option" "unknown option" build/fpga/pb_board_sim --bogus
check_fails "pb_board_sim refuses a rate above 1" "probability" build/fpga/pb_board_sim --drop-h2b 2
check_done fpga/test_uart_link
