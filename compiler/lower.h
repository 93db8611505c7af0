/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Lowering: a quantized IR graph (QDQ as onnxruntime's quantize_static
 * writes it, or QLinearMatMul / QLinearConv nodes) -> the LIR (lir.h).
 *
 * Pattern matched at every QuantizeLinear:
 *   Q( [Relu|Clip]* ( Conv|Gemm|MatMul( DQ(x), DQ(w int8/uint8 const), DQ(b int32 const)? ) ) )
 *       -> one accelerator matmul; Relu/Clip become the clamp
 *   Q( MaxPool( DQ(q) ) ) with Q's parameters equal to q's
 *       -> fused into q's matmul as ACTIVATE pooling when it may be, else a host max pool on int8
 *   Q( Flatten|Reshape|Transpose|Identity ( DQ(q) ) ) with equal parameters -> a view of q, no code
 *   Q( graph input, or a view of it ) -> the program input, quantized by the driver
 * Everything float that is not matched runs on the host (Softmax, ArgMax,
 * AveragePool, GlobalAveragePool, Add, MaxPool, per-axis Q/DQ); a graph
 * output that is DQ(q) becomes an int8 output tensor that the driver
 * dequantizes. docs/compiler.md, "Lowering", lists every rule.
 */
#ifndef PROTOBRAIN_LOWER_H
#define PROTOBRAIN_LOWER_H

#include <stddef.h>
#include <stdio.h>

#include "ir.h"
#include "lir.h"

/*
 * Lower g into *out (zeroed first; free with lir_free, also on failure).
 * Warnings (a layer whose worst-case accumulator exceeds int32) go to warn
 * (may be NULL). Returns 0, or -1 with a message naming the node in err.
 */
int pb_lower(const pb_graph_t *g, lir_t *out, FILE *warn, char *err, size_t errlen);

#endif
