/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Post-training quantization of a float graph, from calibration data, into
 * the QDQ form that lower.h compiles (what onnxruntime's quantize_static
 * makes with MinMax calibration, per-channel symmetric int8 weights and
 * asymmetric int8 activations). docs/compiler.md, "Quantizing float models".
 */
#ifndef PROTOBRAIN_QUANTIZE_H
#define PROTOBRAIN_QUANTIZE_H

#include <stddef.h>
#include <stdio.h>

#include "compile.h"
#include "ir.h"

/*
 * Run the float interpreter over the calibration samples (in chunks of the
 * graph's batch), record the range of every activation, and rewrite g in
 * place: QuantizeLinear/DequantizeLinear after the input and after every
 * quantized operator's output, weights replaced by DequantizeLinear of int8
 * per-channel constants, biases by DequantizeLinear of int32. log (may be
 * NULL) gets the chosen scales. Returns 0, or -1 with a message in err.
 */
int pb_quantize_graph(pb_graph_t *g, const pb_calib_t *calib, FILE *log, char *err, size_t errlen);

#endif
