/* SPDX-License-Identifier: Apache-2.0 */
/* Tensor placement in host memory and the ONNX (de)quantization formulas. */
#include "tensor_io.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "errfmt.h"

int32_t pb_quantize(float x, float scale, int32_t zp, unsigned dtype) {
  int32_t qmin = dtype == PB_DT_UINT8 ? 0 : -128, qmax = dtype == PB_DT_UINT8 ? 255 : 127;
  volatile float q = x / scale; /* f32 division, as QuantizeLinear */
  float r = nearbyintf(q);      /* round half to even in the default rounding mode */
  if (isnan(r)) return zp < qmin ? qmin : zp > qmax ? qmax : zp;
  if (r > 1e6f) r = 1e6f;
  if (r < -1e6f) r = -1e6f;
  int32_t v = (int32_t)r + zp;
  return v < qmin ? qmin : v > qmax ? qmax : v;
}

float pb_dequantize(int32_t q, float scale, int32_t zp) {
  volatile float d = (float)(q - zp) * scale;
  return d;
}

/* Byte offset in host memory of row-major element i of t. */
static uint64_t elem_offset(const pb_tensor_t *t, uint64_t i) {
  uint64_t off = t->host_addr;
  for (int d = (int)t->rank - 1; d >= 0; d--) {
    off += (i % t->dims[d]) * t->strides[d];
    i /= t->dims[d];
  }
  return off;
}

static int check_extent(const pb_tensor_t *t, size_t host_bytes, char *err, size_t errlen) {
  uint64_t ext = pb_tensor_extent(t);
  if ((uint64_t)t->host_addr + ext > host_bytes)
    return pb_fail(err, errlen, "tensor '%s' spans host bytes 0x%x..0x%llx, beyond host memory (%zu bytes)", t->name,
                t->host_addr, (unsigned long long)(t->host_addr + ext), host_bytes);
  return 0;
}

int pb_tensor_put(const pb_tensor_t *t, uint8_t *host, size_t host_bytes, const void *src, unsigned src_dtype,
                  char *err, size_t errlen) {
  if (check_extent(t, host_bytes, err, errlen)) return -1;
  uint64_t n = pb_tensor_elems(t);
  unsigned es = pb_dtype_size(t->dtype);
  int quant = src_dtype == PB_DT_FLOAT32 && (t->dtype == PB_DT_INT8 || t->dtype == PB_DT_UINT8);
  if (src_dtype != t->dtype && !quant)
    return pb_fail(err, errlen, "tensor '%s' is %s; got %s data (give %s%s)", t->name, pb_dtype_name(t->dtype),
                pb_dtype_name(src_dtype), pb_dtype_name(t->dtype),
                (t->dtype == PB_DT_INT8 || t->dtype == PB_DT_UINT8) ? " or f32" : "");
  for (uint64_t i = 0; i < n; i++) {
    uint8_t *dst = host + elem_offset(t, i);
    if (quant) {
      float x;
      memcpy(&x, (const uint8_t *)src + 4 * i, 4);
      int32_t q = pb_quantize(x, t->scale, t->zero_point, t->dtype);
      dst[0] = (uint8_t)q;
    } else {
      memcpy(dst, (const uint8_t *)src + es * i, es);
    }
  }
  return 0;
}

int pb_tensor_get(const pb_tensor_t *t, const uint8_t *host, size_t host_bytes, void *dst, unsigned dst_dtype,
                  char *err, size_t errlen) {
  if (check_extent(t, host_bytes, err, errlen)) return -1;
  uint64_t n = pb_tensor_elems(t);
  unsigned es = pb_dtype_size(t->dtype);
  int deq = dst_dtype == PB_DT_FLOAT32 && (t->dtype == PB_DT_INT8 || t->dtype == PB_DT_UINT8);
  if (dst_dtype != t->dtype && !deq)
    return pb_fail(err, errlen, "tensor '%s' is %s; cannot read it as %s", t->name, pb_dtype_name(t->dtype),
                pb_dtype_name(dst_dtype));
  for (uint64_t i = 0; i < n; i++) {
    const uint8_t *s = host + elem_offset(t, i);
    if (deq) {
      int32_t q = t->dtype == PB_DT_INT8 ? (int32_t)(int8_t)s[0] : (int32_t)s[0];
      float f = pb_dequantize(q, t->scale, t->zero_point);
      memcpy((uint8_t *)dst + 4 * i, &f, 4);
    } else {
      memcpy((uint8_t *)dst + es * i, s, es);
    }
  }
  return 0;
}
