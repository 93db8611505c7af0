/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The compiler end to end on graphs built here with the IR API: compile,
 * run on the reference model (backend "ref" through the runner), compare
 * with an independent integer computation written in this file
 * (acc = bias + sum (x - zx) * (w - zw) in wrapping int32, pb_requant(),
 * max pooling on the codes).
 *
 * - a hand-checkable 2x3 -> 2 Gemm + Relu, for N = 1..16;
 * - convolutions with odd shapes (C = 3, kernel 3x2, asymmetric pads,
 *   strides 2x1, 1x2), fused 2x2 and overlapping 3x3/2 max pools, a second
 *   convolution reading the first one's zero-point border, Flatten -> Gemm
 *   (weights permuted to the NHWC layout), a rank-3 MatMul, uint8 weights
 *   with a zero point (weights split into int8 parts), random data with a
 *   printed seed, for N = 1, 3, 4, 5, 8, 16: every N must give the same
 *   bytes as the reference;
 * - the predicted cycles (LAYERS) equal the model's measured cycles;
 * - liveness-based sharing of host memory, host steps (Softmax, MaxPool on
 *   the host), any number of samples through the runner, and the
 *   "short by" errors for memories that are too small.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "compile.h"
#include "ir.h"
#include "protobrain/requant.h"
#include "runner.h"
#include "verilator/vsim.h"

/* Unit tests are linked without the Verilated cores: the `verilator` backend finds no RTL build. */
const pb_vsim_ops_t *const pb_vsim_configs[] = {NULL};
const pb_vsim_ops_t *pb_vsim_find(const pb_hw_t *hw) {
  (void)hw;
  return NULL;
}

static uint64_t rng;
static uint32_t rnd(void) {
  rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
  return (uint32_t)(rng >> 11);
}
static int rint_in(int lo, int hi) { return lo + (int)(rnd() % (uint32_t)(hi - lo + 1)); }

/* ---- graph building ---- */

static int cv(pb_graph_t *g, const char *name, pb_ir_dtype_t dt, int rank, const int64_t *dims, const void *data) {
  char e[256];
  int v = pb_ir_add_value(g, name, dt, rank, dims, data, e, sizeof e);
  if (v < 0) {
    fprintf(stderr, "cv %s: %s\n", name, e);
    abort();
  }
  return v;
}

static int node(pb_graph_t *g, pb_op_t op, const char *name, const int *in, int nin, int out) {
  char e[256];
  int n = pb_ir_add_node(g, op, name, in, nin, &out, 1, e, sizeof e);
  if (n < 0) {
    fprintf(stderr, "node %s: %s\n", name, e);
    abort();
  }
  return n;
}

static int scalar_f(pb_graph_t *g, const char *name, float v) { return cv(g, name, PB_IR_F32, 0, NULL, &v); }
static int scalar_i8(pb_graph_t *g, const char *name, int v) {
  int8_t b = (int8_t)v;
  return cv(g, name, PB_IR_I8, 0, NULL, &b);
}

/* Q -> DQ of float value x with (s, zp); returns the DQ output. */
static int qdq(pb_graph_t *g, int x, const char *tag, float s, int zp) {
  char nm[64];
  snprintf(nm, sizeof nm, "%s_s", tag);
  int sv = scalar_f(g, nm, s);
  snprintf(nm, sizeof nm, "%s_z", tag);
  int zv = scalar_i8(g, nm, zp);
  const pb_value_t *X = &g->values[x];
  int64_t dims[PB_IR_MAX_RANK];
  memcpy(dims, X->dims, sizeof dims);
  int rank = X->rank;
  snprintf(nm, sizeof nm, "%s_q", tag);
  int q = cv(g, nm, PB_IR_I8, rank, dims, NULL);
  snprintf(nm, sizeof nm, "%s_dq", tag);
  int d = cv(g, nm, PB_IR_F32, rank, dims, NULL);
  int qi[3] = {x, sv, zv}, di[3] = {q, sv, zv};
  snprintf(nm, sizeof nm, "%s_Q", tag);
  node(g, PB_OP_QUANTIZE, nm, qi, 3, q);
  snprintf(nm, sizeof nm, "%s_DQ", tag);
  node(g, PB_OP_DEQUANTIZE, nm, di, 3, d);
  return d;
}

/* DQ(int8 weights [dims], per-channel scales along axis 0 of length M) */
static int wdq(pb_graph_t *g, const char *tag, int rank, const int64_t *dims, const int8_t *w, const float *s, int M,
               int axis) {
  char nm[64];
  int64_t md[1] = {M};
  int8_t *z = calloc((size_t)M, 1);
  snprintf(nm, sizeof nm, "%s_wq", tag);
  int wq = cv(g, nm, PB_IR_I8, rank, dims, w);
  snprintf(nm, sizeof nm, "%s_ws", tag);
  int ws = cv(g, nm, PB_IR_F32, 1, md, s);
  snprintf(nm, sizeof nm, "%s_wz", tag);
  int wz = cv(g, nm, PB_IR_I8, 1, md, z);
  free(z);
  snprintf(nm, sizeof nm, "%s_w", tag);
  int wd = cv(g, nm, PB_IR_F32, rank, dims, NULL);
  int in[3] = {wq, ws, wz};
  snprintf(nm, sizeof nm, "%s_WDQ", tag);
  int n = node(g, PB_OP_DEQUANTIZE, nm, in, 3, wd);
  g->nodes[n].attr.axis = axis;
  return wd;
}

/* DQ(int32 bias [M], scale sx * sw[m]) */
static int bdq(pb_graph_t *g, const char *tag, const int32_t *b, float sx, const float *sw, int M) {
  char nm[64];
  int64_t md[1] = {M};
  float *s = malloc((size_t)M * sizeof *s);
  int32_t *z = calloc((size_t)M, sizeof *z);
  for (int m = 0; m < M; m++) s[m] = sx * sw[m];
  snprintf(nm, sizeof nm, "%s_bq", tag);
  int bq = cv(g, nm, PB_IR_I32, 1, md, b);
  snprintf(nm, sizeof nm, "%s_bs", tag);
  int bs = cv(g, nm, PB_IR_F32, 1, md, s);
  snprintf(nm, sizeof nm, "%s_bz", tag);
  int bz = cv(g, nm, PB_IR_I32, 1, md, z);
  free(s), free(z);
  snprintf(nm, sizeof nm, "%s_b", tag);
  int bd = cv(g, nm, PB_IR_F32, 1, md, NULL);
  int in[3] = {bq, bs, bz};
  snprintf(nm, sizeof nm, "%s_BDQ", tag);
  node(g, PB_OP_DEQUANTIZE, nm, in, 3, bd);
  return bd;
}

static int finish(pb_graph_t *g) {
  char e[512];
  if (pb_ir_toposort(g, e, sizeof e) || pb_ir_infer(g, e, sizeof e) || pb_ir_update_uses(g)) {
    fprintf(stderr, "graph: %s\n", e);
    return -1;
  }
  return 0;
}

/* ---- compile and run ---- */

typedef struct {
  int8_t *y;      /* raw int8 outputs (n samples) */
  uint64_t predicted, measured, layers_sum;
  int ok;
} result_t;

static void compile_run(pb_graph_t *g, const pb_hw_t *hw, const float *x, uint64_t n, size_t out_elems_per_sample,
                        const char *what, result_t *r, int raw_out) {
  memset(r, 0, sizeof *r);
  pb_compile_opts_t o;
  memset(&o, 0, sizeof o);
  o.hw = *hw;
  pb_program_t p;
  char err[1024];
  if (pb_compile_graph(g, &o, &p, err, sizeof err)) {
    CHECK(0, "%s N=%u: compile: %s", what, hw->n, err);
    return;
  }
  for (uint32_t i = 0; i < p.n_layers; i++) r->layers_sum += p.layers[i].cycles;
  pb_backend_t *be = NULL;
  pb_runner_t *run = NULL;
  if (pb_backend_open("ref", &p.hw, NULL, &be, err, sizeof err) || pb_runner_open(&p, be, &run, err, sizeof err)) {
    CHECK(0, "%s N=%u: open: %s", what, hw->n, err);
    goto out;
  }
  r->y = calloc(n * out_elems_per_sample * 4 + 1, 1);
  const pb_tensor_t *ot = NULL;
  for (uint32_t i = 0; i < p.n_tensors; i++)
    if (p.tensors[i].kind == PB_TENSOR_OUTPUT) ot = &p.tensors[i];
  pb_runner_io_t in = {NULL, PB_DT_FLOAT32, (void *)x};
  pb_runner_io_t out = {NULL, raw_out ? ot->dtype : PB_DT_FLOAT32, r->y};
  pb_runner_stats_t st;
  if (pb_runner_run(run, n, &in, 1, &out, 1, &st, err, sizeof err)) {
    CHECK(0, "%s N=%u: run: %s", what, hw->n, err);
    goto out;
  }
  r->predicted = st.predicted;
  r->measured = st.cnt.cycles;
  r->ok = 1;
  CHECK(st.predicted == st.cnt.cycles && r->layers_sum * st.chunks == st.predicted,
        "%s N=%u: predicted %llu, measured %llu, layers %llu x %llu runs", what, hw->n,
        (unsigned long long)st.predicted, (unsigned long long)st.cnt.cycles, (unsigned long long)r->layers_sum,
        (unsigned long long)st.chunks);
out:
  pb_runner_close(run);
  if (be) be->close(be);
  pb_program_free(&p);
}

static pb_hw_t hw_for(unsigned n) {
  pb_hw_t h;
  pb_hw_preset(n, &h);
  return h;
}

/* ---- 1. hand-checkable ---- */

static pb_graph_t *hand_graph(void) {
  pb_graph_t *g = pb_ir_new();
  int64_t xd[2] = {2, 3}, wd[2] = {2, 3};
  int x = cv(g, "x", PB_IR_F32, 2, xd, NULL);
  pb_ir_add_graph_input(g, x);
  int xq = qdq(g, x, "in", 1.0f, 0);
  const int8_t w[6] = {1, 2, 3, -1, -2, -3};
  const float sw[2] = {1, 1};
  const int32_t b[2] = {1, 2};
  int W = wdq(g, "fc", 2, wd, w, sw, 2, 0), B = bdq(g, "fc", b, 1.0f, sw, 2);
  int64_t yd[2] = {2, 2};
  int h = cv(g, "h", PB_IR_F32, 2, yd, NULL), r = cv(g, "r", PB_IR_F32, 2, yd, NULL);
  int gi[3] = {xq, W, B};
  int n = node(g, PB_OP_GEMM, "fc", gi, 3, h);
  g->nodes[n].attr.alpha = g->nodes[n].attr.beta = 1.0f;
  g->nodes[n].attr.trans_b = 1;
  node(g, PB_OP_RELU, "relu", &h, 1, r);
  int y = qdq(g, r, "out", 1.0f, 0);
  pb_ir_add_graph_output(g, y);
  return finish(g) ? NULL : g;
}

/* A bias near INT32_MAX: the worst-case accumulator exceeds int32, the compiler warns naming the node. */
static void test_overflow_warning(void) {
  pb_graph_t *g = pb_ir_new();
  int64_t xd[2] = {1, 3}, wd[2] = {2, 3}, yd[2] = {1, 2};
  int x = cv(g, "x", PB_IR_F32, 2, xd, NULL);
  pb_ir_add_graph_input(g, x);
  int xq = qdq(g, x, "in", 1.0f, 0);
  const int8_t w[6] = {127, 127, 127, 1, 1, 1};
  const float sw[2] = {1, 1};
  const int32_t b[2] = {2147483000, 0};
  int W = wdq(g, "fc", 2, wd, w, sw, 2, 0), B = bdq(g, "fc", b, 1.0f, sw, 2);
  int h = cv(g, "h", PB_IR_F32, 2, yd, NULL);
  int gi[3] = {xq, W, B};
  int n = node(g, PB_OP_GEMM, "big_bias", gi, 3, h);
  g->nodes[n].attr.alpha = g->nodes[n].attr.beta = 1.0f, g->nodes[n].attr.trans_b = 1;
  pb_ir_add_graph_output(g, qdq(g, h, "out", 1.0f, 0));
  CHECK(finish(g) == 0, "overflow graph");
  pb_compile_opts_t o;
  memset(&o, 0, sizeof o);
  pb_hw_preset(4, &o.hw);
  char buf[1024] = "";
  o.warn = fmemopen(buf, sizeof buf - 1, "w");
  pb_program_t p;
  char err[512];
  int rc = pb_compile_graph(g, &o, &p, err, sizeof err);
  fclose(o.warn);
  CHECK(rc == 0, "compiles despite the warning: %s", err);
  CHECK(strstr(buf, "warning:") && strstr(buf, "'big_bias' (Gemm)") && strstr(buf, "output channel 0") &&
            strstr(buf, "beyond int32") && !strstr(buf, "output channel 1"),
        "warning names the node and the channel: \"%s\"", buf);
  if (rc == 0) pb_program_free(&p);
  pb_ir_free(g);
}

static void test_hand(void) {
  const float x[6] = {1, 2, 3, 4, 5, 6};
  const float want[4] = {15, 0, 33, 0}; /* relu([1,2,3].[1,2,3]+1, -14+2) ... worked out by hand */
  for (unsigned n = 1; n <= 16; n++) {
    pb_graph_t *g = hand_graph();
    pb_hw_t h = hw_for(n);
    result_t r;
    compile_run(g, &h, x, 2, 2, "hand", &r, 0);
    if (r.ok) CHECK(!memcmp(r.y, want, sizeof want), "hand N=%u: got %g %g %g %g", n, ((float *)r.y)[0],
                    ((float *)r.y)[1], ((float *)r.y)[2], ((float *)r.y)[3]);
    free(r.y);
    pb_ir_free(g);
  }
}

/* ---- 2. a random conv network, against an integer reference ---- */

typedef struct {
  int B, C, H, W;              /* input */
  int M, kh, kw, sh, sw, pt, pl, pb, pr; /* conv 1 */
  int pool_k, pool_s;          /* fused max pool (0: none) */
  int M2;                      /* conv 2 (3x3 pad 1) output channels, 0: none */
  int F;                       /* Gemm outputs after Flatten, 0: none */
  float sx, s1, s2, s3;
  int zx, z1, z2, z3;
} net_t;

typedef struct {
  int8_t *w1, *w2, *w3;
  float *sw1, *sw2, *sw3;
  int32_t *b1, *b2, *b3;
} netw_t;

static int out_dim(int in, int k, int s, int p0, int p1) { return (in + p0 + p1 - k) / s + 1; }

static float mul_bits(uint32_t u) {
  float f;
  memcpy(&f, &u, 4);
  return f;
}
static uint32_t f_bits(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  return u;
}
static uint32_t mult_of(float sx, float sw, float sy) {
  volatile float a = sx * sw;
  volatile float m = a / sy;
  return f_bits(m);
}

/* reference conv on int8 NCHW codes: y = requant(bias + sum (x - zx) w), clamp lo..127 (ReLU when lo = zy) */
static void ref_conv(const int8_t *x, int B, int C, int H, int W, int zx, float sx, const int8_t *w, const float *sw,
                     const int32_t *b, int M, int kh, int kw, int sh, int swd, int pt, int pl, int OH, int OW, float sy,
                     int zy, int8_t *y) {
  for (int n = 0; n < B; n++)
    for (int m = 0; m < M; m++)
      for (int oy = 0; oy < OH; oy++)
        for (int ox = 0; ox < OW; ox++) {
          uint32_t acc = (uint32_t)b[m];
          for (int c = 0; c < C; c++)
            for (int ky = 0; ky < kh; ky++)
              for (int kx = 0; kx < kw; kx++) {
                int iy = oy * sh + ky - pt, ix = ox * swd + kx - pl;
                int v = (iy < 0 || iy >= H || ix < 0 || ix >= W) ? zx : x[((n * C + c) * H + iy) * W + ix];
                acc += (uint32_t)((v - zx) * w[((m * C + c) * kh + ky) * kw + kx]);
              }
          y[((n * M + m) * OH + oy) * OW + ox] = pb_requant((int32_t)acc, mult_of(sx, sw[m], sy), zy, zy, 127);
        }
}

static void ref_pool(const int8_t *x, int B, int C, int H, int W, int k, int s, int8_t *y, int PH, int PW) {
  for (int n = 0; n < B * C; n++)
    for (int py = 0; py < PH; py++)
      for (int px = 0; px < PW; px++) {
        int best = -129;
        for (int dy = 0; dy < k; dy++)
          for (int dx = 0; dx < k; dx++) {
            int v = x[(n * H + py * s + dy) * W + px * s + dx];
            if (v > best) best = v;
          }
        y[(n * PH + py) * PW + px] = (int8_t)best;
      }
}

static void rand_w(int8_t *w, int n, float *s, int m) {
  for (int i = 0; i < n; i++) w[i] = (int8_t)rint_in(-127, 127);
  for (int i = 0; i < m; i++) s[i] = 0.002f + 0.001f * (float)rint_in(0, 20);
}

static pb_graph_t *net_graph(const net_t *t, const netw_t *wt, int *OH, int *OW, int *PH, int *PW) {
  pb_graph_t *g = pb_ir_new();
  int64_t xd[4] = {t->B, t->C, t->H, t->W};
  int x = cv(g, "x", PB_IR_F32, 4, xd, NULL);
  pb_ir_add_graph_input(g, x);
  int cur = qdq(g, x, "in", t->sx, t->zx);
  *OH = out_dim(t->H, t->kh, t->sh, t->pt, t->pb), *OW = out_dim(t->W, t->kw, t->sw, t->pl, t->pr);
  int64_t wd1[4] = {t->M, t->C, t->kh, t->kw}, yd1[4] = {t->B, t->M, *OH, *OW};
  int W1 = wdq(g, "c1", 4, wd1, wt->w1, wt->sw1, t->M, 0), B1 = bdq(g, "c1", wt->b1, t->sx, wt->sw1, t->M);
  int h1 = cv(g, "h1", PB_IR_F32, 4, yd1, NULL), r1 = cv(g, "r1", PB_IR_F32, 4, yd1, NULL);
  int ci[3] = {cur, W1, B1};
  int n = node(g, PB_OP_CONV, "conv1", ci, 3, h1);
  pb_attr_t *a = &g->nodes[n].attr;
  a->stride[0] = t->sh, a->stride[1] = t->sw, a->pad[0] = t->pt, a->pad[1] = t->pl, a->pad[2] = t->pb, a->pad[3] = t->pr;
  node(g, PB_OP_RELU, "relu1", &h1, 1, r1);
  cur = qdq(g, r1, "c1o", t->s1, t->z1);
  int64_t C = t->M, H = *OH, W = *OW;
  *PH = H, *PW = W;
  if (t->pool_k) {
    *PH = (int)((H - t->pool_k) / t->pool_s + 1), *PW = (int)((W - t->pool_k) / t->pool_s + 1);
    int64_t pd[4] = {t->B, C, *PH, *PW};
    int p = cv(g, "p1", PB_IR_F32, 4, pd, NULL);
    n = node(g, PB_OP_MAXPOOL, "pool1", &cur, 1, p);
    a = &g->nodes[n].attr;
    a->kernel[0] = a->kernel[1] = t->pool_k, a->stride[0] = a->stride[1] = t->pool_s;
    cur = qdq(g, p, "p1o", t->s1, t->z1);
    H = *PH, W = *PW;
  }
  if (t->M2) {
    int64_t wd2[4] = {t->M2, C, 3, 3}, yd2[4] = {t->B, t->M2, H, W};
    int W2 = wdq(g, "c2", 4, wd2, wt->w2, wt->sw2, t->M2, 0), B2 = bdq(g, "c2", wt->b2, t->s1, wt->sw2, t->M2);
    int h2 = cv(g, "h2", PB_IR_F32, 4, yd2, NULL), r2 = cv(g, "r2", PB_IR_F32, 4, yd2, NULL);
    int c2[3] = {cur, W2, B2};
    n = node(g, PB_OP_CONV, "conv2", c2, 3, h2);
    a = &g->nodes[n].attr;
    a->stride[0] = a->stride[1] = 1, a->pad[0] = a->pad[1] = a->pad[2] = a->pad[3] = 1;
    node(g, PB_OP_RELU, "relu2", &h2, 1, r2);
    cur = qdq(g, r2, "c2o", t->s2, t->z2);
    C = t->M2;
  }
  if (t->F) {
    int64_t fd[2] = {t->B, C * H * W}, wd3[2] = {t->F, C * H * W}, yd3[2] = {t->B, t->F};
    int f = cv(g, "flat", PB_IR_F32, 2, fd, NULL);
    n = node(g, PB_OP_FLATTEN, "flatten", &cur, 1, f);
    g->nodes[n].attr.axis = 1;
    float s_in = t->M2 ? t->s2 : t->s1;
    int W3 = wdq(g, "fc", 2, wd3, wt->w3, wt->sw3, t->F, 0), B3 = bdq(g, "fc", wt->b3, s_in, wt->sw3, t->F);
    int h3 = cv(g, "h3", PB_IR_F32, 2, yd3, NULL);
    int gi[3] = {f, W3, B3};
    n = node(g, PB_OP_GEMM, "fc", gi, 3, h3);
    g->nodes[n].attr.alpha = g->nodes[n].attr.beta = 1.0f, g->nodes[n].attr.trans_b = 1;
    cur = qdq(g, h3, "fco", t->s3, t->z3);
  }
  pb_ir_add_graph_output(g, cur);
  return finish(g) ? NULL : g;
}

/* The reference: raw int8 output codes, row-major over the graph output's dims. */
static int8_t *net_ref(const net_t *t, const netw_t *wt, const float *x, size_t *n_out) {
  int B = t->B;
  int8_t *xq = malloc((size_t)(B * t->C * t->H * t->W));
  for (int i = 0; i < B * t->C * t->H * t->W; i++) {
    volatile float d = x[i] / t->sx;
    float r = nearbyintf(d) + (float)t->zx;
    xq[i] = (int8_t)(r < -128 ? -128 : r > 127 ? 127 : r);
  }
  int OH = out_dim(t->H, t->kh, t->sh, t->pt, t->pb), OW = out_dim(t->W, t->kw, t->sw, t->pl, t->pr);
  int8_t *y1 = malloc((size_t)(B * t->M * OH * OW));
  ref_conv(xq, B, t->C, t->H, t->W, t->zx, t->sx, wt->w1, wt->sw1, wt->b1, t->M, t->kh, t->kw, t->sh, t->sw, t->pt,
           t->pl, OH, OW, t->s1, t->z1, y1);
  int C = t->M, H = OH, W = OW;
  int8_t *cur = y1;
  if (t->pool_k) {
    int PH = (H - t->pool_k) / t->pool_s + 1, PW = (W - t->pool_k) / t->pool_s + 1;
    int8_t *p = malloc((size_t)(B * C * PH * PW));
    ref_pool(cur, B, C, H, W, t->pool_k, t->pool_s, p, PH, PW);
    free(cur);
    cur = p, H = PH, W = PW;
  }
  if (t->M2) {
    int8_t *y2 = malloc((size_t)(B * t->M2 * H * W));
    ref_conv(cur, B, C, H, W, t->z1, t->s1, wt->w2, wt->sw2, wt->b2, t->M2, 3, 3, 1, 1, 1, 1, H, W, t->s2, t->z2, y2);
    free(cur);
    cur = y2, C = t->M2;
  }
  if (t->F) {
    int K = C * H * W, zin = t->M2 ? t->z2 : t->z1;
    float s_in = t->M2 ? t->s2 : t->s1;
    int8_t *y3 = malloc((size_t)(B * t->F));
    for (int n = 0; n < B; n++)
      for (int f = 0; f < t->F; f++) {
        uint32_t acc = (uint32_t)wt->b3[f];
        for (int k = 0; k < K; k++) acc += (uint32_t)((cur[n * K + k] - zin) * wt->w3[f * K + k]);
        y3[n * t->F + f] = pb_requant((int32_t)acc, mult_of(s_in, wt->sw3[f], t->s3), t->z3, -128, 127);
      }
    free(cur);
    cur = y3;
    *n_out = (size_t)(B * t->F);
  } else {
    *n_out = (size_t)(B * C * H * W);
  }
  free(xq);
  return cur;
}

static void test_net(const char *what, net_t t, const unsigned *ns, int nn) {
  int OH = out_dim(t.H, t.kh, t.sh, t.pt, t.pb), OW = out_dim(t.W, t.kw, t.sw, t.pl, t.pr);
  int H = OH, W = OW;
  if (t.pool_k) H = (H - t.pool_k) / t.pool_s + 1, W = (W - t.pool_k) / t.pool_s + 1;
  int C2 = t.M2 ? t.M2 : t.M;
  netw_t wt;
  wt.w1 = malloc((size_t)(t.M * t.C * t.kh * t.kw)), wt.sw1 = malloc((size_t)t.M * 4), wt.b1 = malloc((size_t)t.M * 4);
  wt.w2 = malloc((size_t)(C2 * t.M * 9) + 1), wt.sw2 = malloc((size_t)C2 * 4), wt.b2 = malloc((size_t)C2 * 4);
  int K3 = C2 * H * W;
  wt.w3 = malloc((size_t)(t.F * K3) + 1), wt.sw3 = malloc((size_t)t.F * 4 + 4), wt.b3 = malloc((size_t)t.F * 4 + 4);
  rand_w(wt.w1, t.M * t.C * t.kh * t.kw, wt.sw1, t.M);
  rand_w(wt.w2, C2 * t.M * 9, wt.sw2, C2);
  rand_w(wt.w3, t.F * K3, wt.sw3, t.F);
  for (int i = 0; i < t.M; i++) wt.b1[i] = rint_in(-3000, 3000);
  for (int i = 0; i < C2; i++) wt.b2[i] = rint_in(-3000, 3000);
  for (int i = 0; i < t.F; i++) wt.b3[i] = rint_in(-3000, 3000);
  int nx = t.B * t.C * t.H * t.W;
  float *x = malloc((size_t)nx * sizeof *x);
  for (int i = 0; i < nx; i++) x[i] = (float)rint_in(-300, 300) * 0.01f;
  size_t nref;
  int8_t *want = net_ref(&t, &wt, x, &nref);
  int8_t *first = NULL;
  for (int k = 0; k < nn; k++) {
    int oh, ow, ph, pw;
    pb_graph_t *g = net_graph(&t, &wt, &oh, &ow, &ph, &pw);
    if (!g) {
      CHECK(0, "%s: graph", what);
      break;
    }
    pb_hw_t h = hw_for(ns[k]);
    result_t r;
    compile_run(g, &h, x, (uint64_t)t.B, nref / (size_t)t.B, what, &r, 1);
    if (r.ok) {
      size_t bad = nref;
      for (size_t i = 0; i < nref && bad == nref; i++)
        if (r.y[i] != want[i]) bad = i;
      CHECK(bad == nref, "%s N=%u: output %zu: got %d, reference %d", what, ns[k], bad, bad < nref ? r.y[bad] : 0,
            bad < nref ? want[bad] : 0);
      if (!first) first = r.y, r.y = NULL;
      else CHECK(!memcmp(first, r.y, nref), "%s N=%u: bytes differ from N=%u", what, ns[k], ns[0]);
    }
    free(r.y);
    pb_ir_free(g);
  }
  free(first);
  free(want);
  free(x);
  free(wt.w1), free(wt.sw1), free(wt.b1), free(wt.w2), free(wt.sw2), free(wt.b2), free(wt.w3), free(wt.sw3), free(wt.b3);
}

static void test_nets(void) {
  static const unsigned ns[] = {1, 3, 4, 5, 8, 16};
  const int nn = (int)(sizeof ns / sizeof ns[0]);
  /* odd shapes: kernel 3x2, pads (1, 0, 1, 1), strides 2x1, no pool, Flatten -> Gemm */
  test_net("conv 3x2 s2x1 + gemm",
           (net_t){.B = 3, .C = 3, .H = 9, .W = 7, .M = 5, .kh = 3, .kw = 2, .sh = 2, .sw = 1, .pt = 1, .pl = 0, .pb = 1,
                   .pr = 1, .F = 7, .sx = 0.02f, .s1 = 0.05f, .s3 = 0.3f, .zx = 3, .z1 = -128, .z3 = 5},
           ns, nn);
  /* fused 2x2 pool, then a second conv reading the zero-point border, then Gemm */
  test_net("conv + pool 2x2 + conv + gemm",
           (net_t){.B = 2, .C = 2, .H = 10, .W = 11, .M = 6, .kh = 3, .kw = 3, .sh = 1, .sw = 1, .pt = 1, .pl = 1, .pb = 1,
                   .pr = 1, .pool_k = 2, .pool_s = 2, .M2 = 9, .F = 4, .sx = 0.02f, .s1 = 0.04f, .s2 = 0.1f,
                   .s3 = 0.5f, .zx = -7, .z1 = -100, .z2 = -128, .z3 = 0},
           ns, nn);
  /* overlapping 3x3 / 2 pool (members recomputed), stride 1x2 conv */
  test_net("conv s1x2 + pool 3x3/2",
           (net_t){.B = 2, .C = 1, .H = 12, .W = 15, .M = 17, .kh = 2, .kw = 3, .sh = 1, .sw = 2, .pt = 0, .pl = 1, .pb = 1,
                   .pr = 0, .pool_k = 3, .pool_s = 2, .sx = 0.01f, .s1 = 0.03f, .zx = 0, .z1 = -20},
           ns, nn);
}

/* ---- 3. memory plan, host steps, errors ---- */

static void test_plan_and_errors(void) {
  /* a 4-layer MLP: the buffers of layers 1 and 3 may share bytes */
  pb_graph_t *g = pb_ir_new();
  int64_t xd[2] = {4, 40};
  int x = cv(g, "x", PB_IR_F32, 2, xd, NULL);
  pb_ir_add_graph_input(g, x);
  int cur = qdq(g, x, "in", 0.05f, 0);
  int dims[5] = {40, 32, 32, 32, 10};
  for (int l = 0; l < 4; l++) {
    char tag[16];
    snprintf(tag, sizeof tag, "l%d", l);
    int64_t wd[2] = {dims[l + 1], dims[l]}, yd[2] = {4, dims[l + 1]};
    int8_t *w = malloc((size_t)(dims[l] * dims[l + 1]));
    float *s = malloc((size_t)dims[l + 1] * 4);
    rand_w(w, dims[l] * dims[l + 1], s, dims[l + 1]);
    int W = wdq(g, tag, 2, wd, w, s, dims[l + 1], 0);
    char nm[32];
    snprintf(nm, sizeof nm, "%s_h", tag);
    int h = cv(g, nm, PB_IR_F32, 2, yd, NULL);
    int in[2] = {cur, W};
    int n = node(g, PB_OP_GEMM, tag, in, 2, h);
    g->nodes[n].attr.alpha = g->nodes[n].attr.beta = 1.0f, g->nodes[n].attr.trans_b = 1;
    snprintf(nm, sizeof nm, "%s_o", tag);
    cur = qdq(g, h, nm, 0.2f, l == 3 ? 0 : -128);
    free(w), free(s);
  }
  /* a host Softmax at the end */
  int64_t od[2] = {4, 10};
  int sm = cv(g, "prob", PB_IR_F32, 2, od, NULL);
  int n = node(g, PB_OP_SOFTMAX, "softmax", &cur, 1, sm);
  g->nodes[n].attr.axis = 1;
  pb_ir_add_graph_output(g, sm);
  CHECK(finish(g) == 0, "mlp graph");
  pb_hw_t h = hw_for(8);
  pb_compile_opts_t o;
  memset(&o, 0, sizeof o);
  o.hw = h;
  pb_program_t p;
  char err[1024];
  int rc = pb_compile_graph(g, &o, &p, err, sizeof err);
  CHECK(rc == 0, "mlp + softmax compiles: %s", rc ? err : "");
  if (rc == 0) {
    uint32_t act[8], na = 0;
    for (uint32_t i = 0; i < p.n_regions && na < 8; i++)
      if (p.regions[i].kind == PB_REG_ACT) act[na++] = p.regions[i].addr;
    int shared = 0;
    for (uint32_t i = 0; i < na; i++)
      for (uint32_t k = i + 1; k < na; k++) shared |= act[i] == act[k];
    CHECK(shared, "liveness: two activation buffers share an address (%u activation regions)", na);
    int host = 0;
    for (uint32_t i = 0; i < p.n_steps; i++) host += p.steps[i].kind == PB_STEP_HOST;
    CHECK(p.n_steps == 3 && host == 2, "steps: accelerator, dequantize, softmax (got %u steps, %d on the host)",
          p.n_steps, host);
    /* run 6 samples (two chunks of 4, the second padded): probabilities sum to 1, rows 4 and 5 equal a run of 2 */
    float xs[6 * 40], ys[6 * 10], y2[2 * 10];
    for (int i = 0; i < 6 * 40; i++) xs[i] = (float)rint_in(-100, 100) * 0.02f;
    pb_backend_t *be;
    pb_runner_t *r;
    if (pb_backend_open("ref", &p.hw, NULL, &be, err, sizeof err) == 0) {
      if (pb_runner_open(&p, be, &r, err, sizeof err) == 0) {
        pb_runner_io_t in = {"x", PB_DT_FLOAT32, xs}, out = {"prob", PB_DT_FLOAT32, ys};
        pb_runner_stats_t st;
        CHECK(pb_runner_run(r, 6, &in, 1, &out, 1, &st, err, sizeof err) == 0, "run 6: %s", err);
        CHECK(st.chunks == 2 && st.samples == 6 && st.steps_host == 4, "2 chunks, 4 host steps (got %llu, %llu)",
              (unsigned long long)st.chunks, (unsigned long long)st.steps_host);
        double worst = 0;
        for (int s = 0; s < 6; s++) {
          double sum = 0;
          for (int k = 0; k < 10; k++) sum += ys[s * 10 + k];
          worst = fabs(sum - 1) > worst ? fabs(sum - 1) : worst;
        }
        CHECK(worst < 1e-5, "softmax rows sum to 1 (worst %g)", worst);
        pb_runner_io_t in2 = {"x", PB_DT_FLOAT32, xs + 4 * 40}, out2 = {"prob", PB_DT_FLOAT32, y2};
        CHECK(pb_runner_run(r, 2, &in2, 1, &out2, 1, &st, err, sizeof err) == 0, "run 2: %s", err);
        CHECK(!memcmp(y2, ys + 40, sizeof y2), "samples 4, 5 independent of the chunk they run in");
        pb_runner_close(r);
      } else {
        CHECK(0, "runner: %s", err);
      }
      be->close(be);
    }
    pb_program_free(&p);
  }
  /* memories too small: messages say by how much */
  o.hw.host_bytes = 4096;
  rc = pb_compile_graph(g, &o, &p, err, sizeof err);
  CHECK(rc != 0 && strstr(err, "short by"), "host memory too small: %s", err);
  o.hw = h;
  o.hw.sp_rows = 10;
  rc = pb_compile_graph(g, &o, &p, err, sizeof err);
  CHECK(rc != 0 && strstr(err, "scratchpad rows") && strstr(err, "short by"), "scratchpad too small: %s", err);
  if (check_failed == 0 && getenv("PB_VERBOSE")) printf("%s\n", err);
  pb_ir_free(g);
}

int main(int argc, char **argv) {
  check_init("test_compile");
  rng = argc > 1 ? strtoull(argv[1], NULL, 0) : 0x5EED0C0411ULL;
  printf("# test_compile: seed 0x%llx (rerun: test_compile 0x%llx)\n", (unsigned long long)rng,
         (unsigned long long)rng);
  test_hand();
  test_overflow_warning();
  test_nets();
  test_plan_and_errors();
  (void)mul_bits;
  return check_done();
}
