/* SPDX-License-Identifier: Apache-2.0 */
/* Host operators (hostops.h). */
#include "hostops.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tensor_io.h"

static int fail(char *err, size_t errlen, const char *fmt, ...) {
  if (errlen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
  }
  return -1;
}

/* ---- element access in logical order ---- */

static uint64_t off_of(const pb_tensor_t *t, uint64_t i) {
  uint64_t off = t->host_addr;
  for (int d = (int)t->rank - 1; d >= 0; d--) {
    off += (i % t->dims[d]) * t->strides[d];
    i /= t->dims[d];
  }
  return off;
}

/* Offset of the element with multi-index idx. */
static uint64_t off_idx(const pb_tensor_t *t, const uint64_t *idx) {
  uint64_t off = t->host_addr;
  for (unsigned d = 0; d < t->rank; d++) off += idx[d] * t->strides[d];
  return off;
}

static double ld(const uint8_t *host, const pb_tensor_t *t, uint64_t off) {
  const uint8_t *p = host + off;
  switch (t->dtype) {
  case PB_DT_INT8: return (int8_t)p[0];
  case PB_DT_UINT8: return p[0];
  case PB_DT_INT32: {
    int32_t v;
    memcpy(&v, p, 4);
    return v;
  }
  case PB_DT_FLOAT32: {
    float v;
    memcpy(&v, p, 4);
    return v;
  }
  case PB_DT_INT64: {
    int64_t v;
    memcpy(&v, p, 8);
    return (double)v;
  }
  }
  return 0;
}

static int32_t ld_i(const uint8_t *host, const pb_tensor_t *t, uint64_t off) { return (int32_t)ld(host, t, off); }

static float ld_f(const uint8_t *host, uint64_t off) {
  float v;
  memcpy(&v, host + off, 4);
  return v;
}
static void st_f(uint8_t *host, uint64_t off, float v) { memcpy(host + off, &v, 4); }

static void st_num(uint8_t *host, const pb_tensor_t *t, uint64_t off, double v) {
  uint8_t *p = host + off;
  switch (t->dtype) {
  case PB_DT_INT8: p[0] = (uint8_t)(int8_t)v; break;
  case PB_DT_UINT8: p[0] = (uint8_t)v; break;
  case PB_DT_INT32: {
    int32_t x = (int32_t)v;
    memcpy(p, &x, 4);
    break;
  }
  case PB_DT_FLOAT32: {
    float x = (float)v;
    memcpy(p, &x, 4);
    break;
  }
  case PB_DT_INT64: {
    int64_t x = (int64_t)v;
    memcpy(p, &x, 8);
    break;
  }
  }
}

static const pb_tensor_t *T(const pb_program_t *p, uint16_t i) { return &p->tensors[i]; }

static int same_dims(const pb_tensor_t *a, const pb_tensor_t *b) {
  if (a->rank != b->rank) return 0;
  for (unsigned d = 0; d < a->rank; d++)
    if (a->dims[d] != b->dims[d]) return 0;
  return 1;
}

/* Channel index of element i along axis (per-axis parameters). */
static uint64_t chan(const pb_tensor_t *t, uint64_t i, int axis) {
  uint64_t inner = 1;
  for (unsigned d = (unsigned)axis + 1; d < t->rank; d++) inner *= t->dims[d];
  return (i / inner) % t->dims[axis];
}

/* ---- checks ---- */

static int check_qdq(const pb_program_t *p, const pb_step_t *s, int dequant, char *err, size_t errlen) {
  const pb_tensor_t *x = T(p, s->in[0]), *sc = T(p, s->in[1]), *zp = T(p, s->in[2]), *y = T(p, s->out[0]);
  const char *nm = dequant ? "DEQUANTIZE" : "QUANTIZE";
  if (dequant ? (x->dtype != PB_DT_INT8 && x->dtype != PB_DT_UINT8 && x->dtype != PB_DT_INT32) || y->dtype != PB_DT_FLOAT32
              : x->dtype != PB_DT_FLOAT32 || (y->dtype != PB_DT_INT8 && y->dtype != PB_DT_UINT8))
    return fail(err, errlen, "%s: '%s' (%s) -> '%s' (%s): wrong dtypes", nm, x->name, pb_dtype_name(x->dtype), y->name,
                pb_dtype_name(y->dtype));
  if (!same_dims(x, y)) return fail(err, errlen, "%s: '%s' and '%s' differ in shape", nm, x->name, y->name);
  if (sc->dtype != PB_DT_FLOAT32 || zp->dtype != PB_DT_INT32)
    return fail(err, errlen, "%s: scale '%s' must be f32 and zero point '%s' i32", nm, sc->name, zp->name);
  uint64_t n = pb_tensor_elems(sc);
  if (pb_tensor_elems(zp) != n) return fail(err, errlen, "%s: scale and zero point differ in length", nm);
  int axis = s->param[0];
  if (n != 1 && (axis < 0 || (unsigned)axis >= x->rank || x->dims[axis] != n))
    return fail(err, errlen, "%s: %llu scales do not match axis %d of '%s'", nm, (unsigned long long)n, axis, x->name);
  return 0;
}

static int check_pool(const pb_program_t *p, const pb_step_t *s, int avg, char *err, size_t errlen) {
  const pb_tensor_t *x = T(p, s->in[0]), *y = T(p, s->out[0]);
  if (x->rank != 4 || y->rank != 4 || x->dims[0] != y->dims[0] || x->dims[1] != y->dims[1])
    return fail(err, errlen, "%s: '%s' and '%s' must be N x C x H x W with equal N and C", avg ? "AVGPOOL" : "MAXPOOL",
                x->name, y->name);
  if (x->dtype != y->dtype || (avg && x->dtype != PB_DT_FLOAT32))
    return fail(err, errlen, "%s: dtypes %s -> %s not supported", avg ? "AVGPOOL" : "MAXPOOL", pb_dtype_name(x->dtype),
                pb_dtype_name(y->dtype));
  for (int k = 0; k < 8; k++)
    if (s->param[k] < (k < 4 ? 1 : 0) || s->param[k] > 65535)
      return fail(err, errlen, "%s: parameter %d = %d out of range", avg ? "AVGPOOL" : "MAXPOOL", k, s->param[k]);
  return 0;
}

static int check_axis(const pb_tensor_t *x, int axis, const char *nm, char *err, size_t errlen) {
  if (axis < 0 || (unsigned)axis >= x->rank) return fail(err, errlen, "%s: axis %d out of range for '%s'", nm, axis, x->name);
  return 0;
}

int pb_hostop_check(const pb_program_t *p, const pb_step_t *s, char *err, size_t errlen) {
  const pb_tensor_t *x = T(p, s->in[0]), *y = T(p, s->out[0]);
  switch (s->op) {
  case PB_HOP_QUANTIZE: return check_qdq(p, s, 0, err, errlen);
  case PB_HOP_DEQUANTIZE: return check_qdq(p, s, 1, err, errlen);
  case PB_HOP_CONVERT:
    if (!same_dims(x, y) || !((x->dtype == PB_DT_INT8 && y->dtype == PB_DT_UINT8) ||
                              (x->dtype == PB_DT_UINT8 && y->dtype == PB_DT_INT8)))
      return fail(err, errlen, "CONVERT: '%s' and '%s' must be i8/u8 of the same shape", x->name, y->name);
    return 0;
  case PB_HOP_COPY:
    if (pb_tensor_elems(x) != pb_tensor_elems(y) || x->dtype != y->dtype)
      return fail(err, errlen, "COPY: '%s' and '%s' differ in dtype or size", x->name, y->name);
    return 0;
  case PB_HOP_MAXPOOL: return check_pool(p, s, 0, err, errlen);
  case PB_HOP_AVGPOOL: return check_pool(p, s, 1, err, errlen);
  case PB_HOP_GLOBALAVGPOOL:
    if (x->dtype != PB_DT_FLOAT32 || y->dtype != PB_DT_FLOAT32 || x->rank < 3 || y->rank != x->rank ||
        x->dims[0] != y->dims[0] || x->dims[1] != y->dims[1])
      return fail(err, errlen, "GLOBALAVGPOOL: '%s' -> '%s' must be float N x C x ... -> N x C x 1...", x->name, y->name);
    return 0;
  case PB_HOP_SOFTMAX:
    if (x->dtype != PB_DT_FLOAT32 || y->dtype != PB_DT_FLOAT32 || !same_dims(x, y))
      return fail(err, errlen, "SOFTMAX: '%s' -> '%s' must be float of the same shape", x->name, y->name);
    return check_axis(x, s->param[0], "SOFTMAX", err, errlen);
  case PB_HOP_ARGMAX:
    if (y->dtype != PB_DT_INT64 && y->dtype != PB_DT_INT32)
      return fail(err, errlen, "ARGMAX: output '%s' must be i64 or i32", y->name);
    return check_axis(x, s->param[0], "ARGMAX", err, errlen);
  case PB_HOP_ADD: {
    const pb_tensor_t *b = T(p, s->in[1]);
    if (x->dtype != PB_DT_FLOAT32 || b->dtype != PB_DT_FLOAT32 || y->dtype != PB_DT_FLOAT32)
      return fail(err, errlen, "ADD: '%s' + '%s' -> '%s' must be float", x->name, b->name, y->name);
    for (unsigned k = 0; k < 2; k++) {
      const pb_tensor_t *a = k ? b : x;
      if (a->rank > y->rank) return fail(err, errlen, "ADD: '%s' has a higher rank than the result", a->name);
      for (unsigned d = 0; d < a->rank; d++) {
        uint32_t ad = a->dims[a->rank - 1 - d], yd = y->dims[y->rank - 1 - d];
        if (ad != 1 && ad != yd) return fail(err, errlen, "ADD: '%s' does not broadcast to '%s'", a->name, y->name);
      }
    }
    return 0;
  }
  }
  return fail(err, errlen, "unknown host operator %u", s->op);
}

/* ---- operators ---- */

static void op_qdq(const pb_program_t *p, const pb_step_t *s, uint8_t *host, int dequant) {
  const pb_tensor_t *x = T(p, s->in[0]), *sc = T(p, s->in[1]), *zp = T(p, s->in[2]), *y = T(p, s->out[0]);
  uint64_t n = pb_tensor_elems(x), ns = pb_tensor_elems(sc);
  for (uint64_t i = 0; i < n; i++) {
    uint64_t c = ns == 1 ? 0 : chan(x, i, s->param[0]);
    float scale = ld_f(host, off_of(sc, c));
    int32_t z = ld_i(host, zp, off_of(zp, c));
    if (dequant) {
      st_f(host, off_of(y, i), pb_dequantize(ld_i(host, x, off_of(x, i)), scale, z));
    } else {
      if (y->dtype == PB_DT_UINT8 && z < 0) z += 128; /* never: zero points are stored in the output's domain */
      int32_t q = pb_quantize(ld_f(host, off_of(x, i)), scale, z, y->dtype);
      host[off_of(y, i)] = (uint8_t)q;
    }
  }
}

static void op_pool(const pb_program_t *p, const pb_step_t *s, uint8_t *host, int avg) {
  const pb_tensor_t *x = T(p, s->in[0]), *y = T(p, s->out[0]);
  const int32_t *a = s->param;
  int64_t H = x->dims[2], W = x->dims[3];
  uint64_t xi[4], yi[4];
  for (yi[0] = 0; yi[0] < y->dims[0]; yi[0]++)
    for (yi[1] = 0; yi[1] < y->dims[1]; yi[1]++)
      for (yi[2] = 0; yi[2] < y->dims[2]; yi[2]++)
        for (yi[3] = 0; yi[3] < y->dims[3]; yi[3]++) {
          int64_t h0 = (int64_t)yi[2] * a[2] - a[4], w0 = (int64_t)yi[3] * a[3] - a[5];
          int64_t h1 = h0 + a[0], w1 = w0 + a[1];
          int64_t hs = h0 < 0 ? 0 : h0, ws = w0 < 0 ? 0 : w0, he = h1 > H ? H : h1, we = w1 > W ? W : w1;
          xi[0] = yi[0], xi[1] = yi[1];
          double best = -INFINITY, sum = 0;
          for (int64_t h = hs; h < he; h++)
            for (int64_t w = ws; w < we; w++) {
              xi[2] = (uint64_t)h, xi[3] = (uint64_t)w;
              double v = ld(host, x, off_idx(x, xi));
              if (v > best) best = v;
              sum += v;
            }
          uint64_t o = off_idx(y, yi);
          if (!avg) {
            st_num(host, y, o, best);
          } else {
            int64_t cnt;
            if (a[9]) {
              int64_t ph1 = h1 > H + a[6] ? H + a[6] : h1, pw1 = w1 > W + a[7] ? W + a[7] : w1;
              cnt = (ph1 - h0) * (pw1 - w0);
            } else {
              cnt = (he - hs) * (we - ws);
            }
            st_f(host, o, cnt > 0 ? (float)(sum / (double)cnt) : 0.0f);
          }
        }
}

static void op_gap(const pb_program_t *p, const pb_step_t *s, uint8_t *host) {
  const pb_tensor_t *x = T(p, s->in[0]), *y = T(p, s->out[0]);
  uint64_t NC = (uint64_t)x->dims[0] * x->dims[1], S = pb_tensor_elems(x) / NC;
  for (uint64_t i = 0; i < NC; i++) {
    double sum = 0;
    for (uint64_t j = 0; j < S; j++) sum += ld_f(host, off_of(x, i * S + j));
    st_f(host, off_of(y, i * (pb_tensor_elems(y) / NC)), (float)(sum / (double)S));
  }
}

static void op_softmax(const pb_program_t *p, const pb_step_t *s, uint8_t *host) {
  const pb_tensor_t *x = T(p, s->in[0]), *y = T(p, s->out[0]);
  int axis = s->param[0], flat = s->param[1];
  uint64_t outer = 1, len = 1, inner = 1;
  for (int d = 0; d < axis; d++) outer *= x->dims[d];
  if (flat) {
    for (unsigned d = (unsigned)axis; d < x->rank; d++) len *= x->dims[d];
  } else {
    len = x->dims[axis];
    for (unsigned d = (unsigned)axis + 1; d < x->rank; d++) inner *= x->dims[d];
  }
  for (uint64_t o = 0; o < outer; o++)
    for (uint64_t in = 0; in < inner; in++) {
      uint64_t base = o * len * inner + in;
      float mx = -INFINITY;
      for (uint64_t i = 0; i < len; i++) {
        float v = ld_f(host, off_of(x, base + i * inner));
        if (v > mx) mx = v;
      }
      double sum = 0;
      for (uint64_t i = 0; i < len; i++) {
        float e = expf(ld_f(host, off_of(x, base + i * inner)) - mx);
        st_f(host, off_of(y, base + i * inner), e);
        sum += e;
      }
      for (uint64_t i = 0; i < len; i++) {
        uint64_t oo = off_of(y, base + i * inner);
        st_f(host, oo, (float)(ld_f(host, oo) / sum));
      }
    }
}

static void op_argmax(const pb_program_t *p, const pb_step_t *s, uint8_t *host) {
  const pb_tensor_t *x = T(p, s->in[0]), *y = T(p, s->out[0]);
  int axis = s->param[0], last = s->param[2];
  uint64_t outer = 1, len = x->dims[axis], inner = 1;
  for (int d = 0; d < axis; d++) outer *= x->dims[d];
  for (unsigned d = (unsigned)axis + 1; d < x->rank; d++) inner *= x->dims[d];
  for (uint64_t o = 0; o < outer; o++)
    for (uint64_t in = 0; in < inner; in++) {
      uint64_t base = o * len * inner + in, best = 0;
      double bv = ld(host, x, off_of(x, base));
      for (uint64_t i = 1; i < len; i++) {
        double v = ld(host, x, off_of(x, base + i * inner));
        if (last ? v >= bv : v > bv) best = i, bv = v;
      }
      st_num(host, y, off_of(y, o * inner + in), (double)best);
    }
}

static void op_add(const pb_program_t *p, const pb_step_t *s, uint8_t *host) {
  const pb_tensor_t *a = T(p, s->in[0]), *b = T(p, s->in[1]), *y = T(p, s->out[0]);
  uint64_t n = pb_tensor_elems(y);
  for (uint64_t i = 0; i < n; i++) {
    /* broadcast: the index of y, right-aligned onto a and b, dims of 1 pinned to 0 */
    uint64_t r = i, oa = a->host_addr, ob = b->host_addr;
    for (int d = (int)y->rank - 1; d >= 0; d--) {
      uint64_t k = r % y->dims[d];
      r /= y->dims[d];
      int da = d - (int)(y->rank - a->rank), db = d - (int)(y->rank - b->rank);
      if (da >= 0 && a->dims[da] != 1) oa += k * a->strides[da];
      if (db >= 0 && b->dims[db] != 1) ob += k * b->strides[db];
    }
    volatile float v = ld_f(host, oa) + ld_f(host, ob);
    st_f(host, off_of(y, i), v);
  }
}

void pb_hostop_run(const pb_program_t *p, const pb_step_t *s, uint8_t *host) {
  const pb_tensor_t *x = T(p, s->in[0]), *y = T(p, s->out[0]);
  switch (s->op) {
  case PB_HOP_QUANTIZE: op_qdq(p, s, host, 0); break;
  case PB_HOP_DEQUANTIZE: op_qdq(p, s, host, 1); break;
  case PB_HOP_CONVERT: {
    uint64_t n = pb_tensor_elems(x);
    for (uint64_t i = 0; i < n; i++) host[off_of(y, i)] = host[off_of(x, i)] ^ 0x80u;
    break;
  }
  case PB_HOP_COPY: {
    uint64_t n = pb_tensor_elems(x);
    unsigned es = pb_dtype_size(x->dtype);
    for (uint64_t i = 0; i < n; i++) memmove(host + off_of(y, i), host + off_of(x, i), es);
    break;
  }
  case PB_HOP_MAXPOOL: op_pool(p, s, host, 0); break;
  case PB_HOP_AVGPOOL: op_pool(p, s, host, 1); break;
  case PB_HOP_GLOBALAVGPOOL: op_gap(p, s, host); break;
  case PB_HOP_SOFTMAX: op_softmax(p, s, host); break;
  case PB_HOP_ARGMAX: op_argmax(p, s, host); break;
  case PB_HOP_ADD: op_add(p, s, host); break;
  }
}
