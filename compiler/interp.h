/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The float reference interpreter of the IR: runs every node of a graph on
 * the host, in topological order, with ONNX semantics.
 *
 * - Float operators compute in float32: Gemm, MatMul and Conv through
 *   OpenBLAS cblas_sgemm (Conv by im2col), pools, Relu, Clip, Add (numpy
 *   broadcasting), Softmax (max-subtracted), ArgMax (int64 indices).
 * - QuantizeLinear: q = clamp(rne(f32(x / s)) + zp, qmin, qmax);
 *   DequantizeLinear: y = f32((q - zp) * s); per-tensor or per-axis.
 * - QLinearMatMul, QLinearConv, MatMulInteger, ConvInteger: exact integer
 *   accumulation (int32, wrapping); the QLinear ops requantize with
 *   y = clamp(zp_y + rne(f32(f32(acc) * m[c])), qmin, qmax),
 *   m[c] = f32(f32(s_x * s_w[c]) / s_y): DESIGN.md section 4, onnxruntime's
 *   arithmetic, so their int8/uint8 outputs match onnxruntime bit for bit.
 *
 * Tensors are row-major in their IR dtype (float, uint8_t, int8_t, int32_t,
 * int64_t), with the static shapes of the graph (batch on axis 0).
 */
#ifndef PROTOBRAIN_INTERP_H
#define PROTOBRAIN_INTERP_H

#include <stddef.h>

#include "ir.h"

/*
 * Called once for every graph input (before the first node) and once for
 * every node output right after the node ran, with the value's index and its
 * data (valid during the call only). Constants are not reported: read them
 * from the graph. Return 0 to continue, non-zero to stop the run (it then
 * fails with "stopped by the observer").
 */
typedef int (*pb_interp_observer_t)(void *ctx, const pb_graph_t *g, int value, const void *data);

/*
 * Run the graph once. inputs[i] holds graph input i (g->inputs[i]) and
 * outputs[i] receives graph output i, each pb_ir_nbytes() bytes of the
 * value's dtype and shape. observer may be NULL. Returns 0, or -1 with a
 * message naming the node in err (errlen bytes, may be 0).
 */
int pb_interp_run(const pb_graph_t *g, const void *const *inputs, void *const *outputs, pb_interp_observer_t observer,
                  void *ctx, char *err, size_t errlen);

/* Saturating float->integer rounding helpers, exposed for tests and the quantizer. */
/* ONNX QuantizeLinear of one value: clamp(rne(f32(x / scale)) + zp, qmin, qmax); NaN gives qmin. */
int32_t pb_interp_quantize(float x, float scale, int32_t zp, int32_t qmin, int32_t qmax);
/* Requantization of DESIGN.md section 4: clamp(zp + rne(f32(f32(acc) * m)), qmin, qmax). */
int32_t pb_interp_requant(int32_t acc, float m, int32_t zp, int32_t qmin, int32_t qmax);

#endif
