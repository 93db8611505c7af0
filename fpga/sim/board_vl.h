/* SPDX-License-Identifier: Apache-2.0 */
/*
 * C interface to the Verilated board top (fpga/rtl/pb_board.sv), built once for the iCEBreaker
 * configuration by mk/uart.mk. The C++ side (board_vl.cpp) only clocks the model.
 */
#ifndef PB_FPGA_BOARD_VL_H
#define PB_FPGA_BOARD_VL_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pb_board_vl pb_board_vl_t;

typedef struct {
  unsigned n, sp_rows, acc_rows, host_bytes, clks_per_bit, timeout_cycles;
} pb_board_vl_params_t;

/* The parameters this build was made with. */
const pb_board_vl_params_t *pb_board_vl_params(void);

/* A board after a reset (registers start random, then a falling reset edge before the first
 * clock edge). trace_path: an FST file, or NULL. NULL when out of memory or the trace cannot open. */
pb_board_vl_t *pb_board_vl_new(const char *trace_path);
void pb_board_vl_free(pb_board_vl_t *b);

/* One clock cycle with the board's uart_rx_i at `rx` (0/1); returns the pins after the rising
 * edge: bit 0 uart_tx_o, bit 1 busy_o, bit 2 running_o, bit 3 irq_o. */
unsigned pb_board_vl_step(pb_board_vl_t *b, int rx);

#ifdef __cplusplus
}
#endif

#endif
