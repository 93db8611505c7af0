// SPDX-License-Identifier: Apache-2.0
// Thin C++ glue between the Verilated pb_board and the C interface of board_vl.h (clocking,
// reset, FST tracing). Built by mk/uart.mk with -DBOARD_N=.. -DBOARD_SP=.. -DBOARD_ACC=..
// -DBOARD_HOST=.. -DBOARD_CPB=.. -DBOARD_TIMEOUT=.. matching the -G parameters of the model.
#include <cstdint>
#include <cstdlib>

#include "Vpb_board.h"
#include "board_vl.h"
#include "verilated.h"
#include "verilated_fst_c.h"

struct pb_board_vl {
  VerilatedContext *ctx;
  Vpb_board *top;
  VerilatedFstC *tfp;
  uint64_t time;
};

static const pb_board_vl_params_t kParams = {BOARD_N, BOARD_SP, BOARD_ACC, BOARD_HOST, BOARD_CPB, BOARD_TIMEOUT};

extern "C" const pb_board_vl_params_t *pb_board_vl_params(void) { return &kParams; }

static void half(pb_board_vl *b, int clk) {
  b->top->clk_i = clk;
  b->top->eval();
  if (b->tfp) b->tfp->dump(b->time);
  b->time++;
}

extern "C" pb_board_vl_t *pb_board_vl_new(const char *trace_path) {
  pb_board_vl *b = new pb_board_vl;
  b->ctx = new VerilatedContext;
  const char *rr = getenv("PB_VSIM_RANDRESET");
  b->ctx->randReset(rr ? atoi(rr) : 2);
  if (getenv("PB_VSIM_SEED")) b->ctx->randSeed(atoi(getenv("PB_VSIM_SEED")));
  b->top = new Vpb_board(b->ctx);
  b->tfp = nullptr;
  b->time = 0;
  if (trace_path) {
#if VM_TRACE
    b->ctx->traceEverOn(true);
    b->tfp = new VerilatedFstC;
    b->top->trace(b->tfp, 99);
    b->tfp->open(trace_path);
    if (!b->tfp->isOpen()) {
      pb_board_vl_free(b);
      return nullptr;
    }
#else
    pb_board_vl_free(b); /* a model built without tracing (the netlist board, mk/fpga.mk) */
    return nullptr;
#endif
  }
  // a falling reset edge before the first clock edge, with the line idle
  b->top->uart_rx_i = 1;
  b->top->clk_i = 0;
  b->top->rst_ni = 1;
  b->top->eval();
  b->top->rst_ni = 0;
  b->top->eval();
  for (int i = 0; i < 4; i++) {
    half(b, 0);
    half(b, 1);
  }
  b->top->rst_ni = 1;
  half(b, 0);
  half(b, 1);
  return b;
}

extern "C" void pb_board_vl_free(pb_board_vl_t *b) {
  if (!b) return;
  if (b->tfp) {
    b->tfp->close();
    delete b->tfp;
  }
  b->top->final();
  delete b->top;
  delete b->ctx;
  delete b;
}

extern "C" unsigned pb_board_vl_step(pb_board_vl_t *b, int rx) {
  b->top->uart_rx_i = rx ? 1 : 0;
  half(b, 0);
  half(b, 1);
  return (unsigned)b->top->uart_tx_o | (unsigned)b->top->busy_o << 1 | (unsigned)b->top->running_o << 2 |
         (unsigned)b->top->irq_o << 3;
}
