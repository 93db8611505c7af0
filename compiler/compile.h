/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The compiler's entry point: an imported ONNX graph -> a self-contained
 * program (.pbin) for one hardware configuration.
 *
 *   float graph --quantize (calibration, quantize.h)--> QDQ graph
 *   QDQ / QLinear graph --lower (lower.h)--> LIR --codegen (codegen.h)--> program
 *
 * docs/compiler.md describes every phase.
 */
#ifndef PROTOBRAIN_COMPILE_H
#define PROTOBRAIN_COMPILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ir.h"
#include "protobrain/pbin.h"

/*
 * Hardware presets for --array N: N = 4 and N = 16 are the Verilated RTL
 * builds (sim4, sim16); N = 8 is {8, 4096, 2048, 2 MiB}; any other N in
 * 1..64 gets sp_rows = clamp(64 N^2, 1024, 65536), acc_rows = clamp(16 N^2,
 * 512, 4096), host_bytes = 1, 2 or 4 MiB for N <= 4, <= 8, above.
 * Returns 0, or -1 when N is out of range.
 */
int pb_hw_preset(uint32_t n, pb_hw_t *hw);

typedef struct {
  const float *data; /* calibration samples, row-major, n samples of the graph input's per-sample shape */
  int64_t n;
} pb_calib_t;

typedef struct {
  pb_hw_t hw;
  const pb_calib_t *calib; /* for float graphs: calibration data of the (single) graph input; NULL otherwise */
  FILE *warn;              /* warnings (int32 overflow risk, ...), may be NULL */
  FILE *log;               /* tiling decisions per layer, may be NULL */
} pb_compile_opts_t;

/* 1 when the graph must be quantized first: a Conv/Gemm/MatMul with float constant weights. */
int pb_graph_needs_calibration(const pb_graph_t *g);

/*
 * Compile g (modified in place when it is quantized) into *out (free with
 * pb_program_free). Returns 0, or -1 with a message naming the node, layer
 * or memory that failed in err.
 */
int pb_compile_graph(pb_graph_t *g, const pb_compile_opts_t *o, pb_program_t *out, char *err, size_t errlen);

#endif
