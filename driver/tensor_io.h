/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Moving tensors between the caller and a program's host memory, following
 * the tensor descriptor (dims, byte strides, dtype), with ONNX
 * QuantizeLinear / DequantizeLinear arithmetic for float data.
 */
#ifndef PB_DRIVER_TENSOR_IO_H
#define PB_DRIVER_TENSOR_IO_H

#include <stddef.h>
#include <stdint.h>

#include "protobrain/pbin.h"

/* ONNX QuantizeLinear: clamp(rne(f32(x / scale)) + zp, qmin, qmax) for int8 or uint8. */
int32_t pb_quantize(float x, float scale, int32_t zp, unsigned dtype);
/* ONNX DequantizeLinear: f32((q - zp) * scale). */
float pb_dequantize(int32_t q, float scale, int32_t zp);

/*
 * Put `src` (t's elements in row-major order, dtype src_dtype) into host memory.
 * src_dtype may equal t->dtype (copied), or be float32 for an int8/uint8 tensor
 * (quantized with t's scale and zero point). -1 with message otherwise.
 */
int pb_tensor_put(const pb_tensor_t *t, uint8_t *host, size_t host_bytes, const void *src, unsigned src_dtype,
                  char *err, size_t errlen);

/* Get t's elements (row-major) into dst as dst_dtype: t->dtype (copied) or float32 (dequantized). */
int pb_tensor_get(const pb_tensor_t *t, const uint8_t *host, size_t host_bytes, void *dst, unsigned dst_dtype,
                  char *err, size_t errlen);

#endif
