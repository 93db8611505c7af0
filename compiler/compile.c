/* SPDX-License-Identifier: Apache-2.0 */
/* The compiler's entry point (compile.h). */
#include "compile.h"

#include <stdio.h>
#include <string.h>

#include "codegen.h"
#include "lir.h"
#include "lower.h"
#include "quantize.h"

int pb_hw_preset(uint32_t n, pb_hw_t *hw) {
  if (n < 1 || n > PB_HW_N_MAX) return -1;
  if (n == 4) {
    *hw = (pb_hw_t){4, 1024, 512, 1048576, 0};
  } else if (n == 8) {
    *hw = (pb_hw_t){8, 4096, 2048, 2097152, 0};
  } else if (n == 16) {
    *hw = (pb_hw_t){16, 16384, 4096, 4194304, 0};
  } else {
    uint64_t sp = 64ull * n * n, acc = 16ull * n * n;
    sp = sp < 1024 ? 1024 : sp > 65536 ? 65536 : sp;
    acc = acc < 512 ? 512 : acc > 4096 ? 4096 : acc;
    *hw = (pb_hw_t){n, (uint32_t)sp, (uint32_t)acc, n <= 4 ? 1048576u : n <= 8 ? 2097152u : 4194304u, 0};
  }
  return 0;
}

int pb_graph_needs_calibration(const pb_graph_t *g) {
  for (int i = 0; i < g->n_nodes; i++) {
    const pb_node_t *n = &g->nodes[i];
    if (n->op != PB_OP_CONV && n->op != PB_OP_GEMM && n->op != PB_OP_MATMUL) continue;
    int w = n->inputs[1];
    if (w >= 0 && g->values[w].data && g->values[w].dtype == PB_IR_F32) return 1;
  }
  return 0;
}

/* A graph already in quantized form: it has QuantizeLinear, QLinear or Integer nodes. */
static int graph_is_quantized(const pb_graph_t *g) {
  for (int i = 0; i < g->n_nodes; i++) {
    pb_op_t op = g->nodes[i].op;
    if (op == PB_OP_QUANTIZE || op == PB_OP_QLINEARCONV || op == PB_OP_QLINEARMATMUL || op == PB_OP_MATMULINTEGER ||
        op == PB_OP_CONVINTEGER)
      return 1;
  }
  return 0;
}

int pb_compile_graph(pb_graph_t *g, const pb_compile_opts_t *o, pb_program_t *out, char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  if (pb_graph_needs_calibration(g) || (o->calib && !graph_is_quantized(g))) {
    if (!o->calib) {
      snprintf(err, errlen,
               "the model is float (Conv/Gemm/MatMul with float weights): give calibration data with --calib "
               "CALIB.npy to quantize it, or compile a QDQ model");
      return -1;
    }
    if (pb_quantize_graph(g, o->calib, o->log, err, errlen)) return -1;
  }
  lir_t l;
  int rc = pb_lower(g, &l, o->warn, err, errlen);
  if (rc == 0) rc = pb_codegen(&l, &o->hw, out, o->log, err, errlen);
  lir_free(&l);
  return rc;
}
