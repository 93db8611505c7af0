/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Post-training quantization (quantize.h), the way onnxruntime's
 * quantize_static does it with MinMax calibration:
 *   activations: rmin = min(min, 0), rmax = max(max, 0), scale = (rmax - rmin) / 255,
 *                zero point = round(-128 - rmin / scale) clamped to int8 (float32 arithmetic)
 *   weights:     per output channel, symmetric: scale = max|w| / 127, q = rne(w / scale) in [-127, 127]
 *   biases:      int32, q = rne(b / f32(s_x * s_w[c]))
 * Q/DQ pairs go after every Conv/Gemm/MatMul (after its Relu/Clip when that
 * is its only reader, so the clamp folds into the requantization), after a
 * MaxPool of a quantized value (with the same parameters, so it stays exact
 * int8 pooling), and before any other activation a matmul reads.
 */
#include "quantize.h"

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "interp.h"

typedef struct {
  pb_graph_t *g;
  double *mn, *mx;   /* per value: calibration range */
  int nv;            /* values covered by mn/mx (the original graph) */
  float *qs;         /* per value: scale of its Q/DQ domain, 0 if none */
  int32_t *qz;
  uint8_t *done;     /* per value: a Q/DQ pair follows it already */
  int cap;
  char *err;
  size_t errlen;
  FILE *log;
} qctx_t;

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int qfail(qctx_t *c, int node, const char *fmt, ...) {
  if (!c->errlen) return -1;
  int o = 0;
  if (node >= 0) {
    char d[200];
    o = snprintf(c->err, c->errlen, "%s: ", pb_ir_node_desc(c->g, node, d, sizeof d));
    if (o < 0 || (size_t)o >= c->errlen) return -1;
  }
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(c->err + o, c->errlen - (size_t)o, fmt, ap);
  va_end(ap);
  return -1;
}

/* ---- calibration ---- */

static int observe(void *ctx, const pb_graph_t *g, int v, const void *data) {
  qctx_t *c = ctx;
  const pb_value_t *x = &g->values[v];
  if (x->dtype != PB_IR_F32 || v >= c->nv) return 0;
  const float *f = data;
  int64_t n = pb_ir_numel(x);
  double lo = c->mn[v], hi = c->mx[v];
  for (int64_t i = 0; i < n; i++) {
    double d = f[i];
    if (d < lo) lo = d;
    if (d > hi) hi = d;
  }
  c->mn[v] = lo, c->mx[v] = hi;
  return 0;
}

static int calibrate(qctx_t *c, const pb_calib_t *cal) {
  pb_graph_t *g = c->g;
  if (g->n_inputs != 1) return qfail(c, -1, "calibration supports graphs with one input (this one has %d)", g->n_inputs);
  const pb_value_t *x = &g->values[g->inputs[0]];
  if (x->dtype != PB_IR_F32 || x->rank < 1) return qfail(c, -1, "calibration needs a float input");
  int64_t B = x->dims[0], per = pb_ir_numel(x) / B;
  if (cal->n < 1) return qfail(c, -1, "no calibration samples");
  float *in = malloc((size_t)(B * per) * sizeof *in);
  void **outs = calloc((size_t)g->n_outputs + 1, sizeof *outs);
  int rc = in && outs ? 0 : qfail(c, -1, "out of memory");
  for (int i = 0; !rc && i < g->n_outputs; i++)
    if (!(outs[i] = malloc(pb_ir_nbytes(&g->values[g->outputs[i]]) + 1))) rc = qfail(c, -1, "out of memory");
  for (int64_t s0 = 0; !rc && s0 < cal->n; s0 += B) {
    for (int64_t k = 0; k < B; k++) { /* the last chunk repeats its last sample: min/max are unchanged */
      int64_t src = s0 + k < cal->n ? s0 + k : cal->n - 1;
      memcpy(in + k * per, cal->data + src * per, (size_t)per * sizeof *in);
    }
    const void *ins[1] = {in};
    char e[512];
    if (pb_interp_run(g, ins, outs, observe, c, e, sizeof e)) rc = qfail(c, -1, "calibration run failed: %s", e);
  }
  for (int i = 0; outs && i < g->n_outputs; i++) free(outs[i]);
  free(outs);
  free(in);
  return rc;
}

/* MinMax scale and zero point of value v (float32 arithmetic, as onnxruntime). */
static void minmax(const qctx_t *c, int v, float *s, int32_t *zp) {
  float rmin = (float)c->mn[v], rmax = (float)c->mx[v];
  if (!(rmin <= rmax)) rmin = rmax = 0; /* never observed */
  if (rmin > 0) rmin = 0;
  if (rmax < 0) rmax = 0;
  volatile float scale = (rmax - rmin) / 255.0f;
  if (!(scale > 0) || !isfinite(scale)) scale = 1.0f;
  volatile float z = -128.0f - rmin / scale;
  float r = nearbyintf(z);
  *s = scale;
  *zp = r < -128 ? -128 : r > 127 ? 127 : (int32_t)r;
}

/* ---- graph rewriting ---- */

static int grow(qctx_t *c) {
  int n = c->g->n_values + 8;
  if (n <= c->cap) return 0;
  int cap = 2 * n;
  float *s = realloc(c->qs, (size_t)cap * sizeof *s);
  if (!s) return -1;
  c->qs = s;
  int32_t *z = realloc(c->qz, (size_t)cap * sizeof *z);
  if (!z) return -1;
  c->qz = z;
  uint8_t *d = realloc(c->done, (size_t)cap);
  if (!d) return -1;
  c->done = d;
  for (int i = c->cap; i < cap; i++) c->qs[i] = 0, c->qz[i] = 0, c->done[i] = 0;
  c->cap = cap;
  return 0;
}

/* A new value named base (made unique). */
static int new_value(qctx_t *c, const char *base, pb_ir_dtype_t dt, int rank, const int64_t *dims, const void *data) {
  char *name = pb_ir_unique_name(c->g, base);
  if (!name) return qfail(c, -1, "out of memory");
  char e[256];
  int v = pb_ir_add_value(c->g, name, dt, rank, dims, data, e, sizeof e);
  free(name);
  if (v < 0) return qfail(c, -1, "%s", e);
  if (grow(c)) return qfail(c, -1, "out of memory");
  return v;
}

static int new_node(qctx_t *c, pb_op_t op, const char *name, const int *in, int nin, int out, int axis) {
  char e[256];
  int n = pb_ir_add_node(c->g, op, name, in, nin, &out, 1, e, sizeof e);
  if (n < 0) return qfail(c, -1, "%s", e);
  c->g->nodes[n].attr.axis = axis;
  return n;
}

/* Insert Q -> DQ on value v with (s, zp); every reader of v reads the DQ instead. Returns the DQ's output. */
static int insert_qdq(qctx_t *c, int v, float s, int32_t zp) {
  pb_graph_t *g = c->g;
  char base[256];
  int8_t z8 = (int8_t)zp;
  snprintf(base, sizeof base, "%s_scale", g->values[v].name);
  int sv = new_value(c, base, PB_IR_F32, 0, NULL, &s);
  snprintf(base, sizeof base, "%s_zero_point", g->values[v].name);
  int zv = sv < 0 ? -1 : new_value(c, base, PB_IR_I8, 0, NULL, &z8);
  snprintf(base, sizeof base, "%s_QuantizeLinear_Output", g->values[v].name);
  int64_t dims[PB_IR_MAX_RANK];
  memcpy(dims, g->values[v].dims, sizeof dims);
  int rank = g->values[v].rank;
  int q = zv < 0 ? -1 : new_value(c, base, PB_IR_I8, rank, dims, NULL);
  snprintf(base, sizeof base, "%s_DequantizeLinear_Output", g->values[v].name);
  int d = q < 0 ? -1 : new_value(c, base, PB_IR_F32, rank, dims, NULL);
  if (d < 0) return -1;
  pb_ir_replace_uses(g, v, d);
  for (int i = 0; i < g->n_outputs; i++)
    if (g->outputs[i] == v) { /* the graph output keeps its name: the DQ takes it */
      char *a = g->values[v].name, *b = g->values[d].name;
      g->values[v].name = b, g->values[d].name = a;
      g->outputs[i] = d;
    }
  snprintf(base, sizeof base, "%s_QuantizeLinear", g->values[v].name);
  int qin[3] = {v, sv, zv}, din[3] = {q, sv, zv};
  if (new_node(c, PB_OP_QUANTIZE, base, qin, 3, q, 1) < 0) return -1;
  snprintf(base, sizeof base, "%s_DequantizeLinear", g->values[v].name);
  if (new_node(c, PB_OP_DEQUANTIZE, base, din, 3, d, 1) < 0) return -1;
  c->qs[d] = s, c->qz[d] = zp;
  c->done[v] = 1;
  if (c->log) fprintf(c->log, "quantize %-40s scale %.9g zero point %d\n", g->values[v].name, (double)s, zp);
  return d;
}

/* The activation v as a quantized-domain value (inserting Q/DQ from its calibration range when needed). */
static int ensure_q(qctx_t *c, int v, float *s, int32_t *zp) {
  if (c->qs[v] > 0) {
    *s = c->qs[v], *zp = c->qz[v];
    return v;
  }
  if (v >= c->nv) return qfail(c, -1, "internal: no range for '%s'", c->g->values[v].name);
  minmax(c, v, s, zp);
  return insert_qdq(c, v, *s, *zp);
}

/* Quantize a matmul node's weights (per output channel along axis ch_axis of w) and bias. */
static int quantize_matmul(qctx_t *c, int ni) {
  pb_graph_t *g = c->g;
  pb_node_t *n = &g->nodes[ni];
  pb_op_t op = n->op;
  int x = n->inputs[0], w = n->inputs[1], b = n->n_inputs > 2 ? n->inputs[2] : -1;
  const pb_value_t *W = &g->values[w];
  float alpha = 1.0f, beta = 1.0f;
  int ch_axis = 0;
  int64_t M, K;
  if (op == PB_OP_GEMM) {
    alpha = n->attr.alpha, beta = n->attr.beta;
    ch_axis = n->attr.trans_b ? 0 : 1;
  } else if (op == PB_OP_MATMUL) {
    if (W->rank != 2 && W->rank != 3)
      return qfail(c, ni, "weights '%s' have rank %d; quantized MatMul needs rank-2 (or per-batch rank-3) constant "
                   "weights", W->name, W->rank);
    ch_axis = W->rank == 2 ? 1 : -1; /* per-batch weights: one scale for all */
  }
  M = ch_axis >= 0 ? W->dims[ch_axis] : 1;
  K = pb_ir_numel(W) / M;
  /* weights: w' = alpha * w, per channel symmetric */
  int64_t inner = 1;
  for (int d = ch_axis + 1; d < W->rank; d++) inner *= W->dims[d];
  if (ch_axis < 0) inner = pb_ir_numel(W); /* (i / inner) % 1 = 0: a single channel */
  const float *wf = W->data;
  float *sw = malloc((size_t)M * sizeof *sw);
  int8_t *wq = malloc((size_t)pb_ir_numel(W));
  int8_t *wz = calloc((size_t)M, 1);
  /* bias: per channel, or for Gemm a [R, M] / [R, 1] matrix (one row per output row: bq holds R x M) */
  int64_t brows = 1;
  if (b >= 0 && op == PB_OP_GEMM && g->values[b].rank == 2 && g->values[b].dims[0] != 1) brows = g->values[b].dims[0];
  int32_t *bq = calloc((size_t)(M * brows), sizeof *bq), *bz = calloc((size_t)M, sizeof *bz);
  float *bs = malloc((size_t)M * sizeof *bs);
  int rc = -1;
  if (!sw || !wq || !wz || !bq || !bz || !bs) {
    qfail(c, ni, "out of memory");
    goto out;
  }
  int64_t nw = pb_ir_numel(W);
  for (int64_t m = 0; m < M; m++) sw[m] = 0;
  for (int64_t i = 0; i < nw; i++) {
    int64_t m = (i / inner) % M;
    volatile float v = alpha * wf[i];
    float a = fabsf(v);
    if (a > sw[m]) sw[m] = a;
  }
  for (int64_t m = 0; m < M; m++) {
    volatile float s = sw[m] / 127.0f;
    sw[m] = s > 0 && isfinite(s) ? s : 1.0f;
  }
  for (int64_t i = 0; i < nw; i++) {
    int64_t m = (i / inner) % M;
    volatile float v = alpha * wf[i];
    volatile float q = v / sw[m];
    float r = nearbyintf(q);
    wq[i] = (int8_t)(r < -127 ? -127 : r > 127 ? 127 : r);
  }
  /* activation input */
  float sx;
  int32_t zx;
  int xd = ensure_q(c, x, &sx, &zx);
  if (xd < 0) goto out;
  /* bias: per channel, beta folded */
  if (b >= 0) {
    const pb_value_t *B = &g->values[b]; /* read before any value is added below */
    if (!B->data || B->dtype != PB_IR_F32) {
      qfail(c, ni, "bias '%s' must be a float constant to be quantized", B->name);
      goto out;
    }
    int64_t nb = pb_ir_numel(B), bcols = brows > 1 ? B->dims[1] : nb; /* bias columns: 1 or M */
    if ((brows == 1 && nb != 1 && nb != M) || (brows > 1 && bcols != 1 && bcols != M)) {
      qfail(c, ni, "bias '%s' does not broadcast to the output's %lld channels", B->name, (long long)M);
      goto out;
    }
    for (int64_t r = 0; r < brows; r++)
      for (int64_t m = 0; m < M; m++) {
        volatile float bv = beta * ((const float *)B->data)[r * bcols + (bcols == 1 ? 0 : m)];
        volatile float s = sx * sw[m];
        volatile float q = bv / s;
        double rq = nearbyint((double)q);
        bq[r * M + m] = rq > INT32_MAX ? INT32_MAX : rq < INT32_MIN ? INT32_MIN : (int32_t)rq;
        bs[m] = s;
      }
  }
  {
    char base[256];
    int64_t mdim[1] = {M};
    W = &g->values[w]; /* the value array may have moved */
    char wname[200];
    snprintf(wname, sizeof wname, "%s", W->name);
    int wrank = W->rank;
    int64_t wdims[PB_IR_MAX_RANK];
    memcpy(wdims, W->dims, sizeof wdims);
    snprintf(base, sizeof base, "%s_quantized", wname);
    int wqv = new_value(c, base, PB_IR_I8, wrank, wdims, wq);
    snprintf(base, sizeof base, "%s_scale", g->values[w].name);
    int wsv = wqv < 0 ? -1 : new_value(c, base, PB_IR_F32, ch_axis >= 0, mdim, sw);
    snprintf(base, sizeof base, "%s_zero_point", g->values[w].name);
    int wzv = wsv < 0 ? -1 : new_value(c, base, PB_IR_I8, ch_axis >= 0, mdim, wz);
    snprintf(base, sizeof base, "%s_DequantizeLinear_Output", g->values[w].name);
    int wdv = wzv < 0 ? -1 : new_value(c, base, PB_IR_F32, wrank, wdims, NULL);
    if (wdv < 0) goto out;
    int in[3] = {wqv, wsv, wzv};
    snprintf(base, sizeof base, "%s_DequantizeLinear", g->values[w].name);
    if (new_node(c, PB_OP_DEQUANTIZE, base, in, 3, wdv, ch_axis >= 0 ? ch_axis : 1) < 0) goto out;
    g->nodes[ni].inputs[1] = wdv;
    if (b >= 0) {
      int64_t bdims[2] = {brows, M}; /* [M], or [R, M] with the scales along axis 1 */
      snprintf(base, sizeof base, "%s_quantized", g->values[b].name);
      int bqv = new_value(c, base, PB_IR_I32, brows > 1 ? 2 : 1, brows > 1 ? bdims : mdim, bq);
      snprintf(base, sizeof base, "%s_quantized_scale", g->values[b].name);
      int bsv = bqv < 0 ? -1 : new_value(c, base, PB_IR_F32, 1, mdim, bs);
      snprintf(base, sizeof base, "%s_quantized_zero_point", g->values[b].name);
      int bzv = bsv < 0 ? -1 : new_value(c, base, PB_IR_I32, 1, mdim, bz);
      snprintf(base, sizeof base, "%s_DequantizeLinear_Output", g->values[b].name);
      int bdv = bzv < 0 ? -1 : new_value(c, base, PB_IR_F32, brows > 1 ? 2 : 1, brows > 1 ? bdims : mdim, NULL);
      if (bdv < 0) goto out;
      int bin[3] = {bqv, bsv, bzv};
      snprintf(base, sizeof base, "%s_DequantizeLinear", g->values[b].name);
      if (new_node(c, PB_OP_DEQUANTIZE, base, bin, 3, bdv, brows > 1 ? 1 : 0) < 0) goto out;
      g->nodes[ni].inputs[2] = bdv;
    }
    if (op == PB_OP_GEMM) g->nodes[ni].attr.alpha = 1.0f, g->nodes[ni].attr.beta = 1.0f;
    (void)K;
  }
  /* output: after the Relu/Clip chain that only it reads */
  int v = g->nodes[ni].outputs[0];
  for (;;) {
    int r = pb_ir_sole_consumer(g, v);
    if (r < 0 || (g->nodes[r].op != PB_OP_RELU && g->nodes[r].op != PB_OP_CLIP)) break;
    if (g->nodes[r].op == PB_OP_CLIP) {
      int lo = g->nodes[r].n_inputs > 1 ? g->nodes[r].inputs[1] : -1, hi = g->nodes[r].n_inputs > 2 ? g->nodes[r].inputs[2] : -1;
      if ((lo >= 0 && !g->values[lo].data) || (hi >= 0 && !g->values[hi].data)) break;
    }
    v = g->nodes[r].outputs[0];
  }
  float sy;
  int32_t zy;
  if (ensure_q(c, v, &sy, &zy) < 0) goto out;
  rc = 0;
out:
  free(sw), free(wq), free(wz), free(bq), free(bz), free(bs);
  return rc;
}

int pb_quantize_graph(pb_graph_t *g, const pb_calib_t *calib, FILE *log, char *err, size_t errlen) {
  qctx_t c = {.g = g, .nv = g->n_values, .err = err, .errlen = errlen, .log = log};
  c.mn = malloc((size_t)(g->n_values + 1) * sizeof *c.mn);
  c.mx = malloc((size_t)(g->n_values + 1) * sizeof *c.mx);
  int rc = -1;
  if (!c.mn || !c.mx || grow(&c)) {
    qfail(&c, -1, "out of memory");
    goto out;
  }
  for (int v = 0; v < g->n_values; v++) c.mn[v] = INFINITY, c.mx[v] = -INFINITY;
  if (pb_ir_update_uses(g) || calibrate(&c, calib)) goto out;
  int n0 = g->n_nodes;
  for (int i = 0; i < n0; i++) {
    const pb_node_t *n = &g->nodes[i]; /* stale once nodes are added: read what is needed first */
    pb_op_t op = n->op;
    switch (op) {
    case PB_OP_CONV:
    case PB_OP_GEMM:
    case PB_OP_MATMUL: {
      int w = n->inputs[1];
      if (!(w >= 0 && g->values[w].data && g->values[w].dtype == PB_IR_F32)) {
        qfail(&c, i, "input '%s' must be constant weights to be quantized (a matmul of two activations is not "
                     "supported)",
              w >= 0 ? g->values[w].name : "?");
        goto out;
      }
      if (quantize_matmul(&c, i)) goto out;
      break;
    }
    case PB_OP_MAXPOOL: { /* the same parameters on both sides: exact int8 pooling */
      int x = n->inputs[0], y = n->outputs[0];
      if (g->values[x].dtype != PB_IR_F32) break;
      float s;
      int32_t z;
      if (ensure_q(&c, x, &s, &z) < 0 || insert_qdq(&c, y, s, z) < 0) goto out;
      break;
    }
    case PB_OP_RELU:
    case PB_OP_CLIP:
    case PB_OP_AVGPOOL:
    case PB_OP_GLOBALAVGPOOL:
    case PB_OP_SOFTMAX:
    case PB_OP_ADD:
    case PB_OP_ARGMAX: { /* every other float activation: quantized on both sides from its own range */
      int y = n->outputs[0];
      if (g->values[y].dtype != PB_IR_F32 && op != PB_OP_ARGMAX) break;
      if (c.done[y]) break; /* the Relu/Clip tail of a matmul */
      int nin = op == PB_OP_ADD ? 2 : 1;
      for (int k = 0; k < nin; k++) {
        int v = g->nodes[i].inputs[k];
        float s;
        int32_t z;
        if (v >= 0 && !g->values[v].data && g->values[v].dtype == PB_IR_F32 && ensure_q(&c, v, &s, &z) < 0) goto out;
      }
      if (op != PB_OP_ARGMAX) {
        float s;
        int32_t z;
        if (ensure_q(&c, y, &s, &z) < 0) goto out;
      }
      break;
    }
    case PB_OP_FLATTEN:
    case PB_OP_RESHAPE:
    case PB_OP_TRANSPOSE:
    case PB_OP_IDENTITY: {
      int x = n->inputs[0], y = n->outputs[0];
      if (c.qs[x] > 0) c.qs[y] = c.qs[x], c.qz[y] = c.qz[x];
      break;
    }
    default: break;
    }
  }
  char e[512];
  if (pb_ir_toposort(g, e, sizeof e) || pb_ir_update_uses(g) || pb_ir_infer(g, e, sizeof e)) {
    qfail(&c, -1, "internal: the quantized graph does not check: %s", e);
    goto out;
  }
  rc = 0;
out:
  free(c.mn), free(c.mx), free(c.qs), free(c.qz), free(c.done);
  return rc;
}
