/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Float reference interpreter (interp.h). Slow where it does not matter and
 * obvious everywhere: each operator is one function over row-major buffers.
 * Integer accumulations use uint32_t so that int32 wrap-around is defined.
 */
#include "interp.h"

#include <cblas.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#if !defined(FLT_EVAL_METHOD) || FLT_EVAL_METHOD != 0
#error "the reference arithmetic needs float expressions evaluated in float (FLT_EVAL_METHOD == 0)"
#endif

typedef struct {
  const pb_graph_t *g;
  void **buf; /* per value: its data during the run */
  int node;
  char *err;
  size_t errlen;
} run_t;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static int rfail(const run_t *r, const char *fmt, ...) {
  if (!r->err || !r->errlen) return -1;
  char d[160];
  int o = 0;
  if (r->node >= 0) o = snprintf(r->err, r->errlen, "%s: ", pb_ir_node_desc(r->g, r->node, d, sizeof d));
  if (o < 0 || (size_t)o >= r->errlen) return -1;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->err + o, r->errlen - (size_t)o, fmt, ap);
  va_end(ap);
  return -1;
}

/* ---- arithmetic helpers --------------------------------------------------------------- */

int32_t pb_interp_quantize(float x, float scale, int32_t zp, int32_t qmin, int32_t qmax) {
  float v = nearbyintf(x / scale) + (float)zp;
  if (!(v >= (float)qmin)) return qmin; /* also NaN */
  if (v > (float)qmax) return qmax;
  return (int32_t)v;
}

int32_t pb_interp_requant(int32_t acc, float m, int32_t zp, int32_t qmin, int32_t qmax) {
  float p = (float)acc * m;
  float lo = (float)(qmin - zp), hi = (float)(qmax - zp);
  if (!(p >= lo)) p = lo; /* also NaN */
  if (p > hi) p = hi;
  return (int32_t)nearbyintf(p) + zp;
}

static void qrange(int dtype, int32_t *lo, int32_t *hi) {
  if (dtype == PB_IR_U8) {
    *lo = 0;
    *hi = 255;
  } else {
    *lo = -128;
    *hi = 127;
  }
}

/* Element i of an integer buffer of dtype u8/i8/i32 as int32. */
static int32_t ld_int(const void *p, int dtype, int64_t i) {
  switch (dtype) {
  case PB_IR_U8: return ((const uint8_t *)p)[i];
  case PB_IR_I8: return ((const int8_t *)p)[i];
  case PB_IR_I32: return ((const int32_t *)p)[i];
  default: return 0;
  }
}

static void st_q(void *p, int dtype, int64_t i, int32_t v) {
  if (dtype == PB_IR_U8)
    ((uint8_t *)p)[i] = (uint8_t)v;
  else
    ((int8_t *)p)[i] = (int8_t)v;
}

/* Exact for every u8/i8/i32 value. */
static double ld_num(const void *p, int dtype, int64_t i) {
  switch (dtype) {
  case PB_IR_F32: return ((const float *)p)[i];
  case PB_IR_U8: return ((const uint8_t *)p)[i];
  case PB_IR_I8: return ((const int8_t *)p)[i];
  case PB_IR_I32: return ((const int32_t *)p)[i];
  case PB_IR_I64: return (double)((const int64_t *)p)[i];
  default: return 0;
  }
}

static const pb_value_t *IN(const run_t *r, int k) {
  int v = r->g->nodes[r->node].inputs[k];
  return v >= 0 && k < r->g->nodes[r->node].n_inputs ? &r->g->values[v] : NULL;
}
static const void *IND(const run_t *r, int k) {
  const pb_node_t *n = &r->g->nodes[r->node];
  return k < n->n_inputs && n->inputs[k] >= 0 ? r->buf[n->inputs[k]] : NULL;
}
static const pb_value_t *OUTV(const run_t *r) { return &r->g->values[r->g->nodes[r->node].outputs[0]]; }
static void *OUTD(const run_t *r) { return r->buf[r->g->nodes[r->node].outputs[0]]; }

static int64_t prod(const int64_t *d, int from, int to) {
  int64_t p = 1;
  for (int i = from; i < to; i++) p *= d[i];
  return p;
}

/*
 * For every element of an output of dims odims (rank orank), the linear index
 * of the corresponding element of an input of dims idims (rank irank <= orank,
 * right-aligned, numpy broadcasting). off has prod(odims) entries.
 */
static void bcast_offsets(const int64_t *odims, int orank, const int64_t *idims, int irank, int64_t *off) {
  int64_t stride[PB_IR_MAX_RANK], idx[PB_IR_MAX_RANK] = {0};
  int64_t s = 1;
  for (int i = orank - 1; i >= 0; i--) {
    int ii = i - (orank - irank);
    int64_t d = ii >= 0 ? idims[ii] : 1;
    stride[i] = d == 1 ? 0 : s;
    s *= d;
  }
  int64_t n = prod(odims, 0, orank), cur = 0;
  for (int64_t e = 0; e < n; e++) {
    off[e] = cur;
    for (int i = orank - 1; i >= 0; i--) {
      cur += stride[i];
      if (++idx[i] < odims[i]) break;
      cur -= stride[i] * odims[i];
      idx[i] = 0;
    }
  }
}

/* ---- float linear algebra --------------------------------------------------------------- */

static int op_gemm(run_t *r) {
  const pb_attr_t *a = &r->g->nodes[r->node].attr;
  const pb_value_t *A = IN(r, 0), *B = IN(r, 1), *C = IN(r, 2), *Y = OUTV(r);
  const float *pa = IND(r, 0), *pb = IND(r, 1), *pc = IND(r, 2);
  float *py = OUTD(r);
  int m = (int)Y->dims[0], n = (int)Y->dims[1];
  int k = (int)(a->trans_a ? A->dims[0] : A->dims[1]);
  float beta = 0.0f;
  if (C) {
    int64_t off_dims[2] = {m, n};
    int64_t *off = malloc((size_t)m * (size_t)n * sizeof *off);
    if (!off) return rfail(r, "out of memory");
    bcast_offsets(off_dims, 2, C->dims, C->rank, off);
    for (int64_t i = 0; i < (int64_t)m * n; i++) py[i] = pc[off[i]];
    free(off);
    beta = a->beta;
  }
  cblas_sgemm(CblasRowMajor, a->trans_a ? CblasTrans : CblasNoTrans, a->trans_b ? CblasTrans : CblasNoTrans, m, n, k,
              a->alpha, pa, (int)A->dims[1], pb, (int)B->dims[1], beta, py, n);
  return 0;
}

/* Batched matmul geometry (numpy rules), shared by the float and integer versions. */
typedef struct {
  int64_t batches, m, k, n;
  int64_t *a_off, *b_off; /* per batch: element offset of the A and B matrices */
} mm_geom_t;

static int mm_geom(const run_t *r, const pb_value_t *A, const pb_value_t *B, mm_geom_t *gm) {
  const pb_value_t *Y = OUTV(r);
  gm->m = A->rank >= 2 ? A->dims[A->rank - 2] : 1;
  gm->k = A->dims[A->rank - 1];
  gm->n = B->rank >= 2 ? B->dims[B->rank - 1] : 1;
  int ob = Y->rank - (A->rank >= 2) - (B->rank >= 2); /* batch dims of the output */
  int ab = A->rank > 2 ? A->rank - 2 : 0, bb = B->rank > 2 ? B->rank - 2 : 0;
  gm->batches = prod(Y->dims, 0, ob);
  gm->a_off = malloc((size_t)gm->batches * sizeof(int64_t));
  gm->b_off = malloc((size_t)gm->batches * sizeof(int64_t));
  if (!gm->a_off || !gm->b_off) {
    free(gm->a_off), free(gm->b_off);
    return rfail(r, "out of memory");
  }
  bcast_offsets(Y->dims, ob, A->dims, ab, gm->a_off);
  bcast_offsets(Y->dims, ob, B->dims, bb, gm->b_off);
  for (int64_t i = 0; i < gm->batches; i++) {
    gm->a_off[i] *= gm->m * gm->k;
    gm->b_off[i] *= gm->k * gm->n;
  }
  return 0;
}

static int op_matmul(run_t *r) {
  mm_geom_t gm;
  if (mm_geom(r, IN(r, 0), IN(r, 1), &gm)) return -1;
  const float *pa = IND(r, 0), *pb = IND(r, 1);
  float *py = OUTD(r);
  for (int64_t b = 0; b < gm.batches; b++)
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)gm.m, (int)gm.n, (int)gm.k, 1.0f, pa + gm.a_off[b],
                (int)gm.k, pb + gm.b_off[b], (int)gm.n, 0.0f, py + b * gm.m * gm.n, (int)gm.n);
  free(gm.a_off), free(gm.b_off);
  return 0;
}

/*
 * Integer matmul: acc = sum (a - za) * (b - zb[col]); then either stored as
 * int32 (MatMulInteger) or requantized (QLinearMatMul).
 */
static int op_matmul_int(run_t *r, int qlinear) {
  const pb_value_t *A = IN(r, 0), *B = IN(r, qlinear ? 3 : 1), *Y = OUTV(r);
  const void *pa = IND(r, 0), *pb = IND(r, qlinear ? 3 : 1);
  const pb_value_t *ZA = IN(r, 2), *ZB = IN(r, qlinear ? 5 : 3);
  const void *za = IND(r, 2), *zb = IND(r, qlinear ? 5 : 3);
  mm_geom_t gm;
  if (mm_geom(r, A, B, &gm)) return -1;
  int32_t zpa = ZA ? ld_int(za, ZA->dtype, 0) : 0;
  int per_col_zb = ZB && pb_ir_numel(ZB) > 1;
  float sa = 0, sy = 0;
  const float *sb = NULL;
  int per_col_sb = 0;
  int32_t zpy = 0, qlo = 0, qhi = 0;
  if (qlinear) {
    sa = *(const float *)IND(r, 1);
    sb = IND(r, 4);
    per_col_sb = pb_ir_numel(IN(r, 4)) > 1;
    sy = *(const float *)IND(r, 6);
    zpy = ld_int(IND(r, 7), Y->dtype, 0);
    qrange(Y->dtype, &qlo, &qhi);
  }
  for (int64_t b = 0; b < gm.batches; b++)
    for (int64_t i = 0; i < gm.m; i++)
      for (int64_t j = 0; j < gm.n; j++) {
        int32_t zpb = ZB ? ld_int(zb, ZB->dtype, per_col_zb ? j : 0) : 0;
        uint32_t acc = 0;
        for (int64_t k = 0; k < gm.k; k++) {
          int32_t x = ld_int(pa, A->dtype, gm.a_off[b] + i * gm.k + k) - zpa;
          int32_t w = ld_int(pb, B->dtype, gm.b_off[b] + k * gm.n + j) - zpb;
          acc += (uint32_t)(x * w);
        }
        int64_t o = (b * gm.m + i) * gm.n + j;
        if (qlinear) {
          float m = (sa * sb[per_col_sb ? j : 0]) / sy;
          st_q(OUTD(r), Y->dtype, o, pb_interp_requant((int32_t)acc, m, zpy, qlo, qhi));
        } else {
          ((int32_t *)OUTD(r))[o] = (int32_t)acc;
        }
      }
  free(gm.a_off), free(gm.b_off);
  return 0;
}

/* ---- convolution -------------------------------------------------------------------- */

/* Geometry of one 2-D convolution. */
typedef struct {
  int64_t C, H, W, OH, OW, P, K; /* P = OH * OW output positions, K = C * kh * kw */
  const pb_attr_t *a;
} conv_geom_t;

static conv_geom_t conv_geom(const run_t *r) {
  const pb_value_t *X = IN(r, 0), *Y = OUTV(r);
  conv_geom_t cg;
  cg.a = &r->g->nodes[r->node].attr;
  cg.C = X->dims[1], cg.H = X->dims[2], cg.W = X->dims[3];
  cg.OH = Y->dims[2], cg.OW = Y->dims[3], cg.P = cg.OH * cg.OW;
  cg.K = cg.C * cg.a->kernel[0] * cg.a->kernel[1];
  return cg;
}

/*
 * im2col of one image: for k = (c*kh + i)*kw + j and p = oh*OW + ow,
 * src[k][p] = the input index of x(c, oh*sh - pt + i, ow*sw - pl + j), or -1
 * in the padding. Shared by the float and integer convolutions.
 */
static void im2col_index(const conv_geom_t *cg, int64_t *src) {
  const pb_attr_t *a = cg->a;
  for (int64_t c = 0; c < cg->C; c++)
    for (int i = 0; i < a->kernel[0]; i++)
      for (int j = 0; j < a->kernel[1]; j++) {
        int64_t *row = src + ((c * a->kernel[0] + i) * a->kernel[1] + j) * cg->P;
        for (int64_t oh = 0; oh < cg->OH; oh++) {
          int64_t h = oh * a->stride[0] - a->pad[0] + i;
          for (int64_t ow = 0; ow < cg->OW; ow++) {
            int64_t w = ow * a->stride[1] - a->pad[1] + j;
            row[oh * cg->OW + ow] = (h >= 0 && h < cg->H && w >= 0 && w < cg->W) ? (c * cg->H + h) * cg->W + w : -1;
          }
        }
      }
}

static int op_conv(run_t *r) {
  const pb_value_t *X = IN(r, 0), *Y = OUTV(r);
  const float *px = IND(r, 0), *pw = IND(r, 1), *pbias = IND(r, 2);
  float *py = OUTD(r);
  conv_geom_t cg = conv_geom(r);
  int64_t N = X->dims[0], M = Y->dims[1], P = cg.P, K = cg.K;
  float *col = malloc((size_t)(K * P) * sizeof *col);
  int64_t *src = malloc((size_t)(K * P) * sizeof *src);
  if (!col || !src) {
    free(col), free(src);
    return rfail(r, "out of memory for im2col (%lld x %lld)", (long long)K, (long long)P);
  }
  im2col_index(&cg, src);
  for (int64_t n = 0; n < N; n++) {
    const float *xn = px + n * cg.C * cg.H * cg.W;
    for (int64_t e = 0; e < K * P; e++) col[e] = src[e] >= 0 ? xn[src[e]] : 0.0f;
    float *yn = py + n * M * P;
    for (int64_t m = 0; m < M; m++)
      for (int64_t p = 0; p < P; p++) yn[m * P + p] = pbias ? pbias[m] : 0.0f;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)M, (int)P, (int)K, 1.0f, pw, (int)K, col, (int)P,
                pbias ? 1.0f : 0.0f, yn, (int)P);
  }
  free(col), free(src);
  return 0;
}

/* QLinearConv (qlinear = 1) and ConvInteger (0): exact int32 accumulation. */
static int op_conv_int(run_t *r, int qlinear) {
  int wi = qlinear ? 3 : 1, zxi = 2, zwi = qlinear ? 5 : 3;
  const pb_value_t *X = IN(r, 0), *Wv = IN(r, wi), *ZX = IN(r, zxi), *ZW = IN(r, zwi), *Y = OUTV(r);
  const void *px = IND(r, 0), *pw = IND(r, wi);
  conv_geom_t cg = conv_geom(r);
  int64_t N = X->dims[0], M = Y->dims[1], P = cg.P, K = cg.K;
  int32_t zx = ZX ? ld_int(IND(r, zxi), ZX->dtype, 0) : 0;
  int per_ch_zw = ZW && pb_ir_numel(ZW) > 1;
  const int32_t *bias = qlinear ? IND(r, 8) : NULL;
  float sx = 0, sy = 0;
  const float *sw = NULL;
  int per_ch_sw = 0;
  int32_t zy = 0, qlo = 0, qhi = 0;
  if (qlinear) {
    sx = *(const float *)IND(r, 1);
    sw = IND(r, 4);
    per_ch_sw = pb_ir_numel(IN(r, 4)) > 1;
    sy = *(const float *)IND(r, 6);
    zy = ld_int(IND(r, 7), Y->dtype, 0);
    qrange(Y->dtype, &qlo, &qhi);
  }
  int32_t *col = malloc((size_t)(K * P) * sizeof *col);
  int64_t *src = malloc((size_t)(K * P) * sizeof *src);
  uint32_t *acc = malloc((size_t)P * sizeof *acc);
  if (!col || !src || !acc) {
    free(col), free(src), free(acc);
    return rfail(r, "out of memory for im2col (%lld x %lld)", (long long)K, (long long)P);
  }
  im2col_index(&cg, src);
  for (int64_t n = 0; n < N; n++) {
    int64_t base = n * cg.C * cg.H * cg.W;
    /* padding holds the zero point: it contributes 0 */
    for (int64_t e = 0; e < K * P; e++) col[e] = src[e] >= 0 ? ld_int(px, X->dtype, base + src[e]) - zx : 0;
    for (int64_t m = 0; m < M; m++) {
      int32_t zw = ZW ? ld_int(IND(r, zwi), ZW->dtype, per_ch_zw ? m : 0) : 0;
      uint32_t b0 = bias ? (uint32_t)bias[m] : 0u;
      for (int64_t p = 0; p < P; p++) acc[p] = b0;
      for (int64_t k = 0; k < K; k++) {
        int32_t w = ld_int(pw, Wv->dtype, m * K + k) - zw;
        if (w == 0) continue;
        const int32_t *row = col + k * P;
        for (int64_t p = 0; p < P; p++) acc[p] += (uint32_t)(w * row[p]);
      }
      int64_t o = (n * M + m) * P;
      if (qlinear) {
        float mult = (sx * sw[per_ch_sw ? m : 0]) / sy;
        for (int64_t p = 0; p < P; p++) st_q(OUTD(r), Y->dtype, o + p, pb_interp_requant((int32_t)acc[p], mult, zy, qlo, qhi));
      } else {
        for (int64_t p = 0; p < P; p++) ((int32_t *)OUTD(r))[o + p] = (int32_t)acc[p];
      }
    }
  }
  free(col), free(src), free(acc);
  return 0;
}

/* ---- pooling ------------------------------------------------------------------------ */

static int op_pool(run_t *r, int is_max) {
  const pb_attr_t *a = &r->g->nodes[r->node].attr;
  const pb_value_t *X = IN(r, 0), *Y = OUTV(r);
  const void *px = IND(r, 0);
  void *py = OUTD(r);
  int64_t NC = X->dims[0] * X->dims[1], H = X->dims[2], W = X->dims[3], OH = Y->dims[2], OW = Y->dims[3];
  for (int64_t nc = 0; nc < NC; nc++)
    for (int64_t oh = 0; oh < OH; oh++)
      for (int64_t ow = 0; ow < OW; ow++) {
        int64_t h0 = oh * a->stride[0] - a->pad[0], w0 = ow * a->stride[1] - a->pad[1];
        int64_t h1 = h0 + a->kernel[0], w1 = w0 + a->kernel[1];
        /* the window clipped to the input, and (count_include_pad) to the padded input */
        int64_t hs = h0 < 0 ? 0 : h0, ws = w0 < 0 ? 0 : w0, he = h1 > H ? H : h1, we = w1 > W ? W : w1;
        int64_t o = (nc * OH + oh) * OW + ow;
        if (is_max) {
          double best = -INFINITY;
          for (int64_t h = hs; h < he; h++)
            for (int64_t w = ws; w < we; w++) {
              double v = ld_num(px, X->dtype, (nc * H + h) * W + w);
              if (v > best) best = v;
            }
          if (X->dtype == PB_IR_F32)
            ((float *)py)[o] = (float)best;
          else
            st_q(py, X->dtype, o, (int32_t)best);
        } else {
          double sum = 0;
          for (int64_t h = hs; h < he; h++)
            for (int64_t w = ws; w < we; w++) sum += ((const float *)px)[(nc * H + h) * W + w];
          int64_t cnt;
          if (a->count_include_pad) {
            int64_t ph1 = h1 > H + a->pad[2] ? H + a->pad[2] : h1, pw1 = w1 > W + a->pad[3] ? W + a->pad[3] : w1;
            cnt = (ph1 - h0) * (pw1 - w0);
          } else {
            cnt = (he - hs) * (we - ws);
          }
          ((float *)py)[o] = cnt > 0 ? (float)(sum / (double)cnt) : 0.0f;
        }
      }
  return 0;
}

static int op_global_avgpool(run_t *r) {
  const pb_value_t *X = IN(r, 0);
  const float *px = IND(r, 0);
  float *py = OUTD(r);
  int64_t NC = X->dims[0] * X->dims[1], S = prod(X->dims, 2, X->rank);
  for (int64_t i = 0; i < NC; i++) {
    double s = 0;
    for (int64_t j = 0; j < S; j++) s += px[i * S + j];
    py[i] = (float)(s / (double)S);
  }
  return 0;
}

/* ---- element-wise ---------------------------------------------------------------------- */

static int op_add(run_t *r) {
  const pb_value_t *A = IN(r, 0), *B = IN(r, 1), *Y = OUTV(r);
  int64_t n = pb_ir_numel(Y);
  int64_t *oa = malloc((size_t)n * sizeof *oa), *ob = malloc((size_t)n * sizeof *ob);
  if (!oa || !ob) {
    free(oa), free(ob);
    return rfail(r, "out of memory");
  }
  bcast_offsets(Y->dims, Y->rank, A->dims, A->rank, oa);
  bcast_offsets(Y->dims, Y->rank, B->dims, B->rank, ob);
  const void *pa = IND(r, 0), *pb = IND(r, 1);
  void *py = OUTD(r);
  switch (Y->dtype) {
  case PB_IR_F32:
    for (int64_t i = 0; i < n; i++) ((float *)py)[i] = ((const float *)pa)[oa[i]] + ((const float *)pb)[ob[i]];
    break;
  case PB_IR_U8:
    for (int64_t i = 0; i < n; i++)
      ((uint8_t *)py)[i] = (uint8_t)(((const uint8_t *)pa)[oa[i]] + ((const uint8_t *)pb)[ob[i]]);
    break;
  case PB_IR_I8:
    for (int64_t i = 0; i < n; i++)
      ((int8_t *)py)[i] = (int8_t)(uint8_t)((uint8_t)((const int8_t *)pa)[oa[i]] + (uint8_t)((const int8_t *)pb)[ob[i]]);
    break;
  case PB_IR_I32:
    for (int64_t i = 0; i < n; i++)
      ((int32_t *)py)[i] = (int32_t)((uint32_t)((const int32_t *)pa)[oa[i]] + (uint32_t)((const int32_t *)pb)[ob[i]]);
    break;
  case PB_IR_I64:
    for (int64_t i = 0; i < n; i++)
      ((int64_t *)py)[i] = (int64_t)((uint64_t)((const int64_t *)pa)[oa[i]] + (uint64_t)((const int64_t *)pb)[ob[i]]);
    break;
  }
  free(oa), free(ob);
  return 0;
}

/* Clip (and Relu: lo = 0, no hi) per dtype; y = min(max(x, lo), hi) as ONNX and numpy define it. */
#define CLIP_LOOP(T)                                     \
  do {                                                   \
    const T *x = px;                                     \
    T *y = py;                                           \
    T lo = has_lo ? *(const T *)plo : 0;                 \
    T hi = has_hi ? *(const T *)phi : 0;                 \
    for (int64_t i = 0; i < n; i++) {                    \
      T v = x[i];                                        \
      if (has_lo && v < lo) v = lo;                      \
      if (has_hi && v > hi) v = hi;                      \
      y[i] = v;                                          \
    }                                                    \
  } while (0)

static int op_clip(run_t *r, int relu) {
  const pb_value_t *X = IN(r, 0);
  const void *px = IND(r, 0), *plo = relu ? NULL : IND(r, 1), *phi = relu ? NULL : IND(r, 2);
  static const int64_t zero64 = 0;
  static const int32_t zero32 = 0;
  static const int8_t zero8 = 0;
  static const float zerof = 0.0f;
  if (relu) {
    plo = X->dtype == PB_IR_F32 ? (const void *)&zerof
          : X->dtype == PB_IR_I64 ? (const void *)&zero64
          : X->dtype == PB_IR_I32 ? (const void *)&zero32
                                  : (const void *)&zero8;
  }
  int has_lo = plo != NULL, has_hi = phi != NULL;
  void *py = OUTD(r);
  int64_t n = pb_ir_numel(X);
  switch (X->dtype) {
  case PB_IR_F32: CLIP_LOOP(float); break;
  case PB_IR_U8: CLIP_LOOP(uint8_t); break;
  case PB_IR_I8: CLIP_LOOP(int8_t); break;
  case PB_IR_I32: CLIP_LOOP(int32_t); break;
  case PB_IR_I64: CLIP_LOOP(int64_t); break;
  }
  return 0;
}

static int op_softmax(run_t *r) {
  const pb_attr_t *a = &r->g->nodes[r->node].attr;
  const pb_value_t *X = IN(r, 0);
  const float *px = IND(r, 0);
  float *py = OUTD(r);
  int64_t outer = prod(X->dims, 0, a->axis);
  int64_t len = a->softmax_flat ? prod(X->dims, a->axis, X->rank) : X->dims[a->axis];
  int64_t inner = a->softmax_flat ? 1 : prod(X->dims, a->axis + 1, X->rank);
  for (int64_t o = 0; o < outer; o++)
    for (int64_t in = 0; in < inner; in++) {
      const float *x = px + o * len * inner + in;
      float *y = py + o * len * inner + in;
      float mx = -INFINITY;
      for (int64_t i = 0; i < len; i++)
        if (x[i * inner] > mx) mx = x[i * inner];
      double sum = 0;
      for (int64_t i = 0; i < len; i++) {
        float e = expf(x[i * inner] - mx);
        y[i * inner] = e;
        sum += e;
      }
      for (int64_t i = 0; i < len; i++) y[i * inner] = (float)(y[i * inner] / sum);
    }
  return 0;
}

/* x[i] > x[j] (or >= when ties move to the later index), per dtype, exact for int64. */
static int better(const void *p, int dtype, int64_t i, int64_t j, int last) {
  if (dtype == PB_IR_I64) {
    int64_t a = ((const int64_t *)p)[i], b = ((const int64_t *)p)[j];
    return last ? a >= b : a > b;
  }
  double a = ld_num(p, dtype, i), b = ld_num(p, dtype, j);
  return last ? a >= b : a > b;
}

static int op_argmax(run_t *r) {
  const pb_attr_t *a = &r->g->nodes[r->node].attr;
  const pb_value_t *X = IN(r, 0);
  const void *px = IND(r, 0);
  int64_t *py = OUTD(r);
  int64_t outer = prod(X->dims, 0, a->axis), len = X->dims[a->axis], inner = prod(X->dims, a->axis + 1, X->rank);
  for (int64_t o = 0; o < outer; o++)
    for (int64_t in = 0; in < inner; in++) {
      int64_t base = o * len * inner + in, best = 0;
      for (int64_t i = 1; i < len; i++)
        if (better(px, X->dtype, base + i * inner, base + best * inner, a->select_last_index)) best = i;
      py[o * inner + in] = best;
    }
  return 0;
}

/* ---- data movement ------------------------------------------------------------------------ */

static int op_copy(run_t *r) {
  memcpy(OUTD(r), IND(r, 0), pb_ir_nbytes(OUTV(r)));
  return 0;
}

static int op_transpose(run_t *r) {
  const pb_attr_t *a = &r->g->nodes[r->node].attr;
  const pb_value_t *X = IN(r, 0), *Y = OUTV(r);
  size_t es = pb_ir_dtype_size(X->dtype);
  const uint8_t *px = IND(r, 0);
  uint8_t *py = OUTD(r);
  int rank = X->rank;
  int64_t xstride[PB_IR_MAX_RANK], s = 1, idx[PB_IR_MAX_RANK] = {0}, step[PB_IR_MAX_RANK];
  for (int i = rank - 1; i >= 0; i--) {
    xstride[i] = s;
    s *= X->dims[i];
  }
  for (int i = 0; i < rank; i++) step[i] = xstride[a->perm[i]]; /* input stride of output dim i */
  int64_t n = pb_ir_numel(Y), cur = 0;
  for (int64_t e = 0; e < n; e++) {
    memcpy(py + (size_t)e * es, px + (size_t)cur * es, es);
    for (int i = rank - 1; i >= 0; i--) {
      cur += step[i];
      if (++idx[i] < Y->dims[i]) break;
      cur -= step[i] * Y->dims[i];
      idx[i] = 0;
    }
  }
  return 0;
}

/* ---- quantization -------------------------------------------------------------------------- */

/* Channel of element i for per-axis parameters of length `count` along `axis` (0 when per-tensor). */
static int64_t q_inner(const pb_value_t *X, int axis) { return prod(X->dims, axis + 1, X->rank); }

static int op_quantize(run_t *r, int quantize) {
  const pb_attr_t *a = &r->g->nodes[r->node].attr;
  const pb_value_t *X = IN(r, 0), *S = IN(r, 1), *Z = IN(r, 2), *Y = OUTV(r);
  const void *px = IND(r, 0), *pz = IND(r, 2);
  const float *ps = IND(r, 1);
  void *py = OUTD(r);
  int64_t n = pb_ir_numel(X), count = pb_ir_numel(S);
  int64_t inner = count > 1 ? q_inner(X, a->axis) : 1;
  int32_t qlo, qhi;
  qrange(quantize ? Y->dtype : X->dtype, &qlo, &qhi);
  for (int64_t i = 0; i < n; i++) {
    int64_t c = count > 1 ? (i / inner) % count : 0;
    int32_t zp = Z ? ld_int(pz, Z->dtype, c) : 0;
    if (quantize) {
      st_q(py, Y->dtype, i, pb_interp_quantize(((const float *)px)[i], ps[c], zp, qlo, qhi));
    } else {
      int32_t q = ld_int(px, X->dtype, i);
      int32_t d = (int32_t)((uint32_t)q - (uint32_t)zp);
      ((float *)py)[i] = (float)d * ps[c];
    }
  }
  return 0;
}

/* ---- driver -------------------------------------------------------------------------------- */

static int run_node(run_t *r) {
  switch (r->g->nodes[r->node].op) {
  case PB_OP_IDENTITY:
  case PB_OP_FLATTEN:
  case PB_OP_RESHAPE: return op_copy(r);
  case PB_OP_GEMM: return op_gemm(r);
  case PB_OP_MATMUL: return op_matmul(r);
  case PB_OP_ADD: return op_add(r);
  case PB_OP_RELU: return op_clip(r, 1);
  case PB_OP_CLIP: return op_clip(r, 0);
  case PB_OP_CONV: return op_conv(r);
  case PB_OP_MAXPOOL: return op_pool(r, 1);
  case PB_OP_AVGPOOL: return op_pool(r, 0);
  case PB_OP_GLOBALAVGPOOL: return op_global_avgpool(r);
  case PB_OP_TRANSPOSE: return op_transpose(r);
  case PB_OP_SOFTMAX: return op_softmax(r);
  case PB_OP_ARGMAX: return op_argmax(r);
  case PB_OP_QUANTIZE: return op_quantize(r, 1);
  case PB_OP_DEQUANTIZE: return op_quantize(r, 0);
  case PB_OP_QLINEARMATMUL: return op_matmul_int(r, 1);
  case PB_OP_MATMULINTEGER: return op_matmul_int(r, 0);
  case PB_OP_QLINEARCONV: return op_conv_int(r, 1);
  case PB_OP_CONVINTEGER: return op_conv_int(r, 0);
  case PB_OP_COUNT: break;
  }
  return rfail(r, "operator not implemented by the interpreter");
}

/* Run-time checks the shapes cannot make: quantization scales must be positive and finite. */
static int check_scales(run_t *r) {
  const pb_node_t *n = &r->g->nodes[r->node];
  static const int qdq[] = {1, -1}, qmm[] = {1, 4, 6, -1};
  const int *ks = NULL;
  if (n->op == PB_OP_QUANTIZE || n->op == PB_OP_DEQUANTIZE) ks = qdq;
  if (n->op == PB_OP_QLINEARMATMUL || n->op == PB_OP_QLINEARCONV) ks = qmm;
  if (!ks || n->op == PB_OP_DEQUANTIZE) return 0; /* DequantizeLinear multiplies: any scale is defined */
  for (int i = 0; ks[i] >= 0; i++) {
    const pb_value_t *s = IN(r, ks[i]);
    const float *p = IND(r, ks[i]);
    for (int64_t e = 0; e < pb_ir_numel(s); e++)
      if (!(p[e] > 0.0f) || isinf(p[e]))
        return rfail(r, "scale '%s'[%lld] = %g; scales must be positive and finite", s->name, (long long)e, p[e]);
  }
  return 0;
}

int pb_interp_run(const pb_graph_t *g, const void *const *inputs, void *const *outputs, pb_interp_observer_t observer,
                  void *ctx, char *err, size_t errlen) {
  run_t r = {g, NULL, -1, err, errlen};
  if (err && errlen) err[0] = 0;
  if (pb_ir_check(g, err, errlen)) return -1;
  r.buf = calloc((size_t)g->n_values + 1, sizeof *r.buf);
  char *owned = calloc((size_t)g->n_values + 1, 1);
  int *last = malloc(((size_t)g->n_values + 1) * sizeof *last);
  int rc = -1;
  if (!r.buf || !owned || !last) {
    rfail(&r, "out of memory");
    goto out;
  }
  for (int v = 0; v < g->n_values; v++) {
    r.buf[v] = g->values[v].data;
    last[v] = pb_ir_is_graph_output(g, v) ? g->n_nodes : -1;
  }
  for (int i = 0; i < g->n_nodes; i++)
    for (int k = 0; k < g->nodes[i].n_inputs; k++)
      if (g->nodes[i].inputs[k] >= 0 && last[g->nodes[i].inputs[k]] < i) last[g->nodes[i].inputs[k]] = i;
  for (int i = 0; i < g->n_inputs; i++) {
    if (!inputs || !inputs[i]) {
      rfail(&r, "graph input %d '%s' has no data", i, g->values[g->inputs[i]].name);
      goto out;
    }
    r.buf[g->inputs[i]] = (void *)(uintptr_t)inputs[i];
  }
  for (int i = 0; observer && i < g->n_inputs; i++)
    if (observer(ctx, g, g->inputs[i], r.buf[g->inputs[i]])) {
      rfail(&r, "stopped by the observer");
      goto out;
    }
  for (int i = 0; i < g->n_nodes; i++) {
    const pb_node_t *n = &g->nodes[i];
    r.node = i;
    int o = n->outputs[0];
    r.buf[o] = malloc(pb_ir_nbytes(&g->values[o]));
    if (!r.buf[o]) {
      rfail(&r, "out of memory for output '%s' (%zu bytes)", g->values[o].name, pb_ir_nbytes(&g->values[o]));
      goto out;
    }
    owned[o] = 1;
    if (check_scales(&r) || run_node(&r)) goto out;
    if (observer && observer(ctx, g, o, r.buf[o])) {
      rfail(&r, "stopped by the observer");
      goto out;
    }
    for (int k = 0; k < n->n_inputs; k++) {
      int v = n->inputs[k];
      if (v >= 0 && owned[v] && last[v] == i) {
        free(r.buf[v]);
        r.buf[v] = NULL;
        owned[v] = 0;
      }
    }
    if (last[o] < 0) { /* nothing reads it */
      free(r.buf[o]);
      r.buf[o] = NULL;
      owned[o] = 0;
    }
  }
  r.node = -1;
  for (int i = 0; i < g->n_outputs; i++) {
    int v = g->outputs[i];
    if (!outputs || !outputs[i]) {
      rfail(&r, "no buffer for graph output %d '%s'", i, g->values[v].name);
      goto out;
    }
    memcpy(outputs[i], r.buf[v], pb_ir_nbytes(&g->values[v]));
  }
  rc = 0;
out:
  for (int v = 0; r.buf && owned && v < g->n_values; v++)
    if (owned[v]) free(r.buf[v]);
  free(r.buf);
  free(owned);
  free(last);
  return rc;
}
