/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The `uart` backend: a Protobrain board (fpga/rtl/pb_board.sv) behind a serial port, or the
 * Verilated board top behind a pseudo-terminal (build/fpga/pb_board_sim). docs/uart.md.
 *
 * The backend keeps two copies of the board's host memory: `host` (what the driver reads and
 * writes between runs) and what the board is known to hold. Opening clears the board's memory
 * (FILL_MEM), so both start as zeros, like every other backend's. Before a run only the bytes
 * where the two differ are sent; after it only what the run can have written (the host ranges
 * of the STOREs in the program slice) is read back.
 */
#ifndef PB_DRIVER_BACKEND_UART_H
#define PB_DRIVER_BACKEND_UART_H

#include "backend.h"
#include "uart_link.h"

typedef struct {
  pb_uart_link_stats_t link;
  uint64_t mem_written, mem_read; /* host-memory bytes sent / read back (payload) */
  uint64_t status_polls;
  /* the board's own counters (16 bits, wrapping): requests with a good CRC, damaged requests
   * (CRC, timeout), UART framing errors, retransmissions answered from the cache */
  uint32_t board_ok, board_bad, board_uart_errors, board_dups;
  int board_counters_valid;
} pb_uart_backend_stats_t;

/* Open the board on opts->port. The backend reports the board's own parameters in b->hw; when
 * they differ from `hw` it is not prepared for runs and its caller refuses the program, naming
 * both (pb_backend_load; pb_load_* with PB_E_HW_MISMATCH). */
int pb_backend_open_uart(const pb_hw_t *hw, const pb_backend_opts_t *opts, pb_backend_t **out, char *err,
                         size_t errlen);

/* Statistics of a `uart` backend (asks the board for its counters). 0, or -1 if b is not one. */
int pb_backend_uart_stats(pb_backend_t *b, pb_uart_backend_stats_t *s);

#endif
