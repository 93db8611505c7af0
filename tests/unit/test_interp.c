/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The reference interpreter on graphs built with the IR API. Hand-checkable
 * cases first (a 3x3 convolution, pools, rounding), then random cases with a
 * fixed, printed seed against independent naive loops (double precision for
 * float operators, exact integers and the integer-only pb_requant() of the
 * arithmetic contract for the quantized ones), then the observer and errors.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "interp.h"
#include "ir.h"
#include "protobrain/requant.h"

static char err[1024];
static uint32_t rng = 0x1234567u;
static uint32_t rnd(void) {
  rng ^= rng << 13;
  rng ^= rng >> 17;
  rng ^= rng << 5;
  return rng;
}
static float frand(void) { return (float)((double)(rnd() % 2000001) / 1000000.0 - 1.0); } /* [-1, 1] */
static int irand(int lo, int hi) { return lo + (int)(rnd() % (uint32_t)(hi - lo + 1)); }

/* ---- graph building helpers -------------------------------------------------------------------- */

static int vcount;

/* A run-time value (data NULL) or a constant. */
static int V(pb_graph_t *g, pb_ir_dtype_t dt, int rank, const int64_t *dims, const void *data) {
  char name[32];
  snprintf(name, sizeof name, "v%d", vcount++);
  int v = pb_ir_add_value(g, name, dt, rank, dims, data, err, sizeof err);
  if (v < 0) CHECK(0, "add value: %s", err); /* helpers count failures only */
  return v;
}
static int IN(pb_graph_t *g, pb_ir_dtype_t dt, int rank, const int64_t *dims) {
  int v = V(g, dt, rank, dims, NULL);
  pb_ir_add_graph_input(g, v);
  return v;
}
static int64_t one[1] = {1};

/* Add a node with attributes, infer it, return its output value (-1 on failure). */
static int NODE(pb_graph_t *g, pb_op_t op, const int *ins, int n, const pb_attr_t *at) {
  int out = V(g, PB_IR_F32, 1, one, NULL);
  int node = pb_ir_add_node(g, op, pb_ir_op_name(op), ins, n, &out, 1, err, sizeof err);
  if (node < 0) {
    CHECK(0, "add node: %s", err);
    return -1;
  }
  if (at) g->nodes[node].attr = *at;
  int rc = pb_ir_infer_node(g, node, err, sizeof err);
  if (rc) CHECK(0, "infer %s: %s", pb_ir_op_name(op), err);
  return rc == 0 ? out : -1;
}

/* Run a graph with one output. */
static int run(pb_graph_t *g, int out, const void *const *ins, void *y) {
  pb_ir_add_graph_output(g, out);
  void *outs[1] = {y};
  int rc = pb_interp_run(g, ins, outs, NULL, NULL, err, sizeof err);
  if (rc) CHECK(0, "run: %s", err);
  return rc;
}

static int close_to(double got, double want, double tol) { return fabs(got - want) <= tol * (1.0 + fabs(want)); }

/* ---- hand-checkable ------------------------------------------------------------------------------ */

static void test_by_hand(void) {
  /* Conv: x = 1..9 (3x3), W = ones 2x2, bias 1 -> [[13,17],[25,29]] */
  {
    pb_graph_t *g = pb_ir_new();
    int64_t xd[4] = {1, 1, 3, 3}, wd[4] = {1, 1, 2, 2}, bd[1] = {1};
    float w[4] = {1, 1, 1, 1}, b[1] = {1}, x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, y[4];
    int ins[3] = {IN(g, PB_IR_F32, 4, xd), V(g, PB_IR_F32, 4, wd, w), V(g, PB_IR_F32, 1, bd, b)};
    pb_attr_t at = {0};
    at.stride[0] = at.stride[1] = 1;
    int o = NODE(g, PB_OP_CONV, ins, 3, &at);
    const void *in[1] = {x};
    if (o >= 0 && run(g, o, in, y) == 0)
      CHECK(y[0] == 13 && y[1] == 17 && y[2] == 25 && y[3] == 29, "conv by hand: %g %g %g %g", y[0], y[1], y[2], y[3]);
    pb_ir_free(g);
  }
  /* pools over 1..16 (4x4), kernel 3, stride 2, ceil_mode: max [[11,12],[15,16]], avg [[6,7.5],[12,13.5]] */
  for (int is_max = 0; is_max < 2; is_max++) {
    pb_graph_t *g = pb_ir_new();
    int64_t xd[4] = {1, 1, 4, 4};
    float x[16], y[4];
    for (int i = 0; i < 16; i++) x[i] = (float)(i + 1);
    int in0 = IN(g, PB_IR_F32, 4, xd);
    pb_attr_t at = {0};
    at.kernel[0] = at.kernel[1] = 3;
    at.stride[0] = at.stride[1] = 2;
    at.ceil_mode = 1;
    int o = NODE(g, is_max ? PB_OP_MAXPOOL : PB_OP_AVGPOOL, &in0, 1, &at);
    const void *in[1] = {x};
    CHECK(o >= 0 && g->values[o].dims[2] == 2 && g->values[o].dims[3] == 2, "ceil_mode output 2x2");
    if (o >= 0 && run(g, o, in, y) == 0) {
      if (is_max) CHECK(y[0] == 11 && y[1] == 12 && y[2] == 15 && y[3] == 16, "maxpool ceil by hand");
      else CHECK(y[0] == 6 && y[1] == 7.5f && y[2] == 12 && y[3] == 13.5f, "avgpool ceil by hand: %g %g", y[1], y[3]);
    }
    pb_ir_free(g);
  }
  /* QuantizeLinear rounding: half to even, saturation, NaN */
  CHECK(pb_interp_quantize(2.5f, 1.0f, 0, -128, 127) == 2, "rne 2.5 -> 2");
  CHECK(pb_interp_quantize(3.5f, 1.0f, 0, -128, 127) == 4, "rne 3.5 -> 4");
  CHECK(pb_interp_quantize(-2.5f, 1.0f, 0, -128, 127) == -2, "rne -2.5 -> -2");
  CHECK(pb_interp_quantize(-0.5f, 1.0f, 10, -128, 127) == 10, "rne -0.5 + 10 -> 10");
  CHECK(pb_interp_quantize(1000.0f, 0.5f, 0, -128, 127) == 127, "saturate high");
  CHECK(pb_interp_quantize(-1000.0f, 0.5f, 0, 0, 255) == 0, "saturate low u8");
  CHECK(pb_interp_quantize(NAN, 0.5f, 3, -128, 127) == -128, "NaN -> qmin");
  CHECK(pb_interp_quantize(1.0f, 3.0f, 0, -128, 127) == 0, "1/3 -> 0");
  CHECK(pb_interp_quantize(0.3f, 0.1f, 0, -128, 127) == 3, "f32(0.3f/0.1f) = 3.0000002 -> 3");
  /* requantization: the double-rounding cases of docs/arithmetic.md */
  CHECK(pb_interp_requant(5, 0.1f, 0, -128, 127) == 0, "5 * 0.1f -> 0 (f32 gives 0.5, ties to even)");
  CHECK(pb_interp_requant(5, 0.7f, 0, -128, 127) == 4, "5 * 0.7f -> 4");
  CHECK(pb_interp_requant((1 << 24) + 1, ldexpf(1.0f, -25), 0, -128, 127) == 0, "(2^24+1) * 2^-25 -> 0");
  CHECK(pb_interp_requant(INT32_MIN, 1.0f, 0, -128, 127) == -128, "INT32_MIN saturates");
  CHECK(pb_interp_requant(1000, 1.0f, 100, 0, 255) == 255, "u8 saturates");
  /* Add int8 wraps like numpy; uint8 too */
  {
    pb_graph_t *g = pb_ir_new();
    int64_t d[1] = {3};
    int8_t a[3] = {100, -100, 5}, b[3] = {100, -100, -6}, y[3];
    int ins[2] = {IN(g, PB_IR_I8, 1, d), V(g, PB_IR_I8, 1, d, b)};
    int o = NODE(g, PB_OP_ADD, ins, 2, NULL);
    const void *in[1] = {a};
    if (o >= 0 && run(g, o, in, y) == 0) CHECK(y[0] == -56 && y[1] == 56 && y[2] == -1, "int8 add wraps");
    pb_ir_free(g);
  }
}

/* ---- random float operators against naive loops ---------------------------------------------- */

static void test_gemm_random(void) {
  int bad = 0, cases = 0;
  for (int it = 0; it < 96; it++) {
    int M = irand(1, 9), K = irand(1, 17), N = irand(1, 11), ta = it & 1, tb = (it >> 1) & 1, cshape = (it >> 2) % 6;
    float alpha = it % 5 ? 1.0f : 0.5f, beta = it % 7 ? 1.0f : -2.0f;
    pb_graph_t *g = pb_ir_new();
    int64_t ad[2] = {ta ? K : M, ta ? M : K}, bd[2] = {tb ? N : K, tb ? K : N};
    int64_t cd[2];
    int crank;
    switch (cshape) {
    case 0: crank = -1; break; /* no C */
    case 1: crank = 0; break;
    case 2: crank = 1, cd[0] = N; break;
    case 3: crank = 2, cd[0] = 1, cd[1] = N; break;
    case 4: crank = 2, cd[0] = M, cd[1] = 1; break;
    default: crank = 2, cd[0] = M, cd[1] = N; break;
    }
    float *A = malloc(sizeof(float) * (size_t)(M * K)), *B = malloc(sizeof(float) * (size_t)(K * N));
    float C[128], *Y = malloc(sizeof(float) * (size_t)(M * N));
    for (int i = 0; i < M * K; i++) A[i] = frand();
    for (int i = 0; i < K * N; i++) B[i] = frand();
    for (int i = 0; i < 128; i++) C[i] = frand();
    int ins[3] = {IN(g, PB_IR_F32, 2, ad), V(g, PB_IR_F32, 2, bd, B), crank >= 0 ? V(g, PB_IR_F32, crank, cd, C) : -1};
    pb_attr_t at = {0};
    at.trans_a = ta, at.trans_b = tb, at.alpha = alpha, at.beta = beta;
    int o = NODE(g, PB_OP_GEMM, ins, crank >= 0 ? 3 : 2, &at);
    const void *in[1] = {A};
    if (o >= 0 && run(g, o, in, Y) == 0) {
      cases++;
      for (int i = 0; i < M && !bad; i++)
        for (int j = 0; j < N; j++) {
          double s = 0;
          for (int k = 0; k < K; k++) s += (double)A[ta ? k * M + i : i * K + k] * B[tb ? j * K + k : k * N + j];
          double c = 0;
          if (crank == 0) c = C[0];
          if (crank == 1 || (crank == 2 && cd[0] == 1)) c = C[j];
          if (crank == 2 && cd[0] == M && cd[1] == 1) c = C[i];
          if (crank == 2 && cd[0] == M && cd[1] == N) c = C[i * N + j];
          double want = alpha * s + (crank >= 0 ? beta * c : 0);
          if (!close_to(Y[i * N + j], want, 1e-5)) {
            if (!bad++)
              CHECK(0, "gemm M%d K%d N%d tA%d tB%d C%d [%d,%d]: got %.8g want %.8g", M, K, N, ta, tb, cshape, i, j,
                    Y[i * N + j], want);
            break;
          }
        }
    }
    free(A), free(B), free(Y);
    pb_ir_free(g);
  }
  CHECK(bad == 0 && cases == 96, "gemm random: %d cases, %d bad", cases, bad);
}

/* Naive direct convolution (double), padding 0. */
static double conv_ref(const float *x, const float *w, const float *b, int C, int H, int W, int kh, int kw,
                       const pb_attr_t *a, int n, int m, int oh, int ow) {
  double s = b ? b[m] : 0;
  for (int c = 0; c < C; c++)
    for (int i = 0; i < kh; i++)
      for (int j = 0; j < kw; j++) {
        int h = oh * a->stride[0] - a->pad[0] + i, ww = ow * a->stride[1] - a->pad[1] + j;
        if (h < 0 || h >= H || ww < 0 || ww >= W) continue;
        s += (double)x[((n * C + c) * H + h) * W + ww] * w[((m * C + c) * kh + i) * kw + j];
      }
  return s;
}

static void test_conv_random(void) {
  int bad = 0, cases = 0;
  for (int it = 0; it < 60; it++) {
    int N = irand(1, 2), C = irand(1, 4), H = irand(3, 9), W = irand(3, 9), M = irand(1, 5);
    int kh = irand(1, 3 < H ? 3 : H), kw = irand(1, 5 < W ? 5 : W);
    pb_attr_t at = {0};
    at.stride[0] = irand(1, 3), at.stride[1] = irand(1, 3);
    for (int i = 0; i < 4; i++) at.pad[i] = irand(0, 2);
    int has_b = it % 3 != 0;
    pb_graph_t *g = pb_ir_new();
    int64_t xd[4] = {N, C, H, W}, wd[4] = {M, C, kh, kw}, bd[1] = {M};
    size_t nx = (size_t)(N * C * H * W), nw = (size_t)(M * C * kh * kw);
    float *x = malloc(nx * sizeof *x), *w = malloc(nw * sizeof *w), b[8];
    for (size_t i = 0; i < nx; i++) x[i] = frand();
    for (size_t i = 0; i < nw; i++) w[i] = frand();
    for (int i = 0; i < 8; i++) b[i] = frand();
    int ins[3] = {IN(g, PB_IR_F32, 4, xd), V(g, PB_IR_F32, 4, wd, w), has_b ? V(g, PB_IR_F32, 1, bd, b) : -1};
    int o = NODE(g, PB_OP_CONV, ins, has_b ? 3 : 2, &at);
    if (o < 0) {
      bad++;
    } else {
      const pb_value_t *Y = &g->values[o];
      int OH = (int)Y->dims[2], OW = (int)Y->dims[3];
      CHECK(OH == (H + at.pad[0] + at.pad[2] - kh) / at.stride[0] + 1 && OW == (W + at.pad[1] + at.pad[3] - kw) / at.stride[1] + 1,
            "conv output size");
      float *y = malloc(sizeof(float) * (size_t)(N * M * OH * OW));
      const void *in[1] = {x};
      if (run(g, o, in, y) == 0) {
        cases++;
        for (int n = 0; n < N; n++)
          for (int m = 0; m < M; m++)
            for (int oh = 0; oh < OH; oh++)
              for (int ow = 0; ow < OW; ow++) {
                double want = conv_ref(x, w, has_b ? b : NULL, C, H, W, kh, kw, &at, n, m, oh, ow);
                float got = y[((n * M + m) * OH + oh) * OW + ow];
                if (!close_to(got, want, 1e-5) && !bad++)
                  CHECK(0, "conv it %d (N%d C%d %dx%d M%d k%dx%d s%d,%d p%d,%d,%d,%d) at %d,%d,%d,%d: got %.8g want %.8g", it,
                        N, C, H, W, M, kh, kw, at.stride[0], at.stride[1], at.pad[0], at.pad[1], at.pad[2], at.pad[3], n,
                        m, oh, ow, got, want);
              }
      }
      free(y);
    }
    free(x), free(w);
    pb_ir_free(g);
  }
  CHECK(bad == 0 && cases == 60, "conv random: %d cases, %d bad", cases, bad);
}

static void test_pool_random(void) {
  int bad = 0, cases = 0;
  for (int it = 0; it < 80; it++) {
    int is_max = it & 1, H = irand(2, 9), W = irand(2, 9), C = irand(1, 3);
    pb_attr_t at = {0};
    at.kernel[0] = irand(1, H < 4 ? H : 4), at.kernel[1] = irand(1, W < 4 ? W : 4);
    at.stride[0] = irand(1, 3), at.stride[1] = irand(1, 3);
    for (int i = 0; i < 4; i++) at.pad[i] = irand(0, at.kernel[i & 1] - 1);
    at.ceil_mode = (it >> 1) & 1;
    at.count_include_pad = (it >> 2) & 1;
    pb_graph_t *g = pb_ir_new();
    int64_t xd[4] = {1, C, H, W};
    float x[3 * 81];
    for (int i = 0; i < C * H * W; i++) x[i] = frand();
    int in0 = IN(g, PB_IR_F32, 4, xd);
    int o = NODE(g, is_max ? PB_OP_MAXPOOL : PB_OP_AVGPOOL, &in0, 1, &at);
    if (o < 0) {
      bad++;
      pb_ir_free(g);
      continue;
    }
    int OH = (int)g->values[o].dims[2], OW = (int)g->values[o].dims[3];
    float *y = malloc(sizeof(float) * (size_t)(C * OH * OW));
    const void *in[1] = {x};
    if (run(g, o, in, y) == 0) {
      cases++;
      for (int c = 0; c < C; c++)
        for (int oh = 0; oh < OH; oh++)
          for (int ow = 0; ow < OW; ow++) {
            double mx = -INFINITY, s = 0;
            int cnt = 0, cnt_pad = 0;
            for (int i = 0; i < at.kernel[0]; i++)
              for (int j = 0; j < at.kernel[1]; j++) {
                int h = oh * at.stride[0] - at.pad[0] + i, w = ow * at.stride[1] - at.pad[1] + j;
                if (h < H + at.pad[2] && w < W + at.pad[3]) cnt_pad++; /* inside the padded input */
                if (h < 0 || h >= H || w < 0 || w >= W) continue;
                double v = x[(c * H + h) * W + w];
                if (v > mx) mx = v;
                s += v;
                cnt++;
              }
            double want = is_max ? mx : s / (at.count_include_pad ? cnt_pad : cnt);
            float got = y[(c * OH + oh) * OW + ow];
            if (!close_to(got, want, 1e-6) && !bad++)
              CHECK(0, "pool it %d max%d %dx%d k%dx%d s%d,%d p%d,%d,%d,%d ceil%d cip%d at %d,%d,%d: got %.8g want %.8g", it,
                    is_max, H, W, at.kernel[0], at.kernel[1], at.stride[0], at.stride[1], at.pad[0], at.pad[1],
                    at.pad[2], at.pad[3], at.ceil_mode, at.count_include_pad, c, oh, ow, got, want);
          }
    }
    free(y);
    pb_ir_free(g);
  }
  CHECK(bad == 0 && cases == 80, "pool random: %d cases, %d bad", cases, bad);
}

static void test_matmul_broadcast(void) {
  static const struct {
    int ra;
    int64_t a[4];
    int rb;
    int64_t b[4];
    int ry;
    int64_t y[4];
  } cases[] = {
      {4, {2, 1, 3, 4}, 3, {5, 4, 2}, 4, {2, 5, 3, 2}},
      {1, {4}, 2, {4, 3}, 1, {3}},
      {3, {2, 3, 4}, 1, {4}, 2, {2, 3}},
      {1, {4}, 1, {4}, 0, {0}},
      {2, {3, 4}, 3, {2, 4, 5}, 3, {2, 3, 5}},
  };
  for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
    pb_graph_t *g = pb_ir_new();
    int ins[2] = {IN(g, PB_IR_F32, cases[t].ra, cases[t].a), IN(g, PB_IR_F32, cases[t].rb, cases[t].b)};
    int o = NODE(g, PB_OP_MATMUL, ins, 2, NULL);
    if (o < 0) {
      pb_ir_free(g);
      continue;
    }
    const pb_value_t *Y = &g->values[o];
    int ok = Y->rank == cases[t].ry;
    for (int i = 0; ok && i < Y->rank; i++) ok = Y->dims[i] == cases[t].y[i];
    CHECK(ok, "matmul case %zu shape", t);
    int64_t na = pb_ir_numel(&g->values[ins[0]]), nb = pb_ir_numel(&g->values[ins[1]]), ny = pb_ir_numel(Y);
    float *a = malloc(sizeof(float) * (size_t)na), *b = malloc(sizeof(float) * (size_t)nb);
    float *y = malloc(sizeof(float) * (size_t)ny);
    for (int64_t i = 0; i < na; i++) a[i] = frand();
    for (int64_t i = 0; i < nb; i++) b[i] = frand();
    const void *in[2] = {a, b};
    if (run(g, o, in, y) == 0) {
      /* reference: numpy semantics through explicit indices */
      int K = (int)cases[t].a[cases[t].ra - 1];
      int M = cases[t].ra >= 2 ? (int)cases[t].a[cases[t].ra - 2] : 1, N = cases[t].rb >= 2 ? (int)cases[t].b[cases[t].rb - 1] : 1;
      int64_t batches = ny / (M * N);
      int bad = 0;
      for (int64_t bi = 0; bi < batches; bi++) {
        /* batch index -> A and B batch offsets (only the shapes above: broadcast dims of size 1 or missing) */
        int64_t aoff = 0, boff = 0;
        if (t == 0) { /* y [2,5]: a [2,1], b [5] */
          aoff = (bi / 5) * M * K;
          boff = (bi % 5) * K * N;
        } else if (t == 2) {
          aoff = bi * M * K;
        } else if (t == 4) {
          boff = bi * K * N;
        }
        for (int i = 0; i < M; i++)
          for (int j = 0; j < N; j++) {
            double s = 0;
            for (int k = 0; k < K; k++) s += (double)a[aoff + i * K + k] * b[boff + k * N + j];
            if (!close_to(y[bi * M * N + i * N + j], s, 1e-5)) bad++;
          }
      }
      CHECK(bad == 0, "matmul case %zu: %d wrong", t, bad);
    }
    free(a), free(b), free(y);
    pb_ir_free(g);
  }
}

static void test_transpose_softmax_argmax(void) {
  /* Transpose of a 2x3x4x5 by every 4th permutation, against index arithmetic */
  int perms[24][4], np = 0;
  for (int a = 0; a < 4; a++)
    for (int b = 0; b < 4; b++)
      for (int c = 0; c < 4; c++)
        for (int d = 0; d < 4; d++)
          if (a != b && a != c && a != d && b != c && b != d && c != d) {
            perms[np][0] = a, perms[np][1] = b, perms[np][2] = c, perms[np][3] = d;
            np++;
          }
  int bad = 0;
  for (int p = 0; p < np; p++) {
    pb_graph_t *g = pb_ir_new();
    int64_t xd[4] = {2, 3, 4, 5};
    int32_t x[120], y[120];
    for (int i = 0; i < 120; i++) x[i] = i;
    int in0 = IN(g, PB_IR_I32, 4, xd);
    pb_attr_t at = {0};
    memcpy(at.perm, perms[p], sizeof perms[p]);
    at.n_perm = 4;
    int o = NODE(g, PB_OP_TRANSPOSE, &in0, 1, &at);
    const void *in[1] = {x};
    if (o >= 0 && run(g, o, in, y) == 0) {
      const int64_t *yd = g->values[o].dims;
      int64_t xs[4] = {60, 20, 5, 1};
      int e = 0;
      for (int i0 = 0; i0 < yd[0]; i0++)
        for (int i1 = 0; i1 < yd[1]; i1++)
          for (int i2 = 0; i2 < yd[2]; i2++)
            for (int i3 = 0; i3 < yd[3]; i3++, e++) {
              int64_t src = i0 * xs[perms[p][0]] + i1 * xs[perms[p][1]] + i2 * xs[perms[p][2]] + i3 * xs[perms[p][3]];
              if (y[e] != x[src]) bad++;
            }
    }
    pb_ir_free(g);
  }
  CHECK(bad == 0 && np == 24, "transpose: %d permutations, %d wrong elements", np, bad);

  /* Softmax along axis 1 of 2x3x2 and ArgMax with ties */
  pb_graph_t *g = pb_ir_new();
  int64_t xd[3] = {2, 3, 2};
  float x[12] = {1, 0, 2, 0, 3, 0, -1, 5, -2, 5, -3, 1}, y[12];
  int in0 = IN(g, PB_IR_F32, 3, xd);
  pb_attr_t at = {0};
  at.axis = -2;
  int o = NODE(g, PB_OP_SOFTMAX, &in0, 1, &at);
  const void *in[1] = {x};
  if (o >= 0 && run(g, o, in, y) == 0) {
    double e1 = exp(1), e2 = exp(2), e3 = exp(3), s = e1 + e2 + e3;
    CHECK(close_to(y[0], e1 / s, 1e-6) && close_to(y[2], e2 / s, 1e-6) && close_to(y[4], e3 / s, 1e-6) &&
              close_to(y[1], 1.0 / 3, 1e-6),
          "softmax axis 1");
  }
  pb_ir_free(g);
  for (int last = 0; last < 2; last++) {
    g = pb_ir_new();
    in0 = IN(g, PB_IR_F32, 3, xd);
    memset(&at, 0, sizeof at);
    at.axis = 1;
    at.keepdims = 0;
    at.select_last_index = last;
    o = NODE(g, PB_OP_ARGMAX, &in0, 1, &at);
    int64_t idx[4];
    CHECK(o >= 0 && g->values[o].rank == 2 && g->values[o].dtype == PB_IR_I64, "argmax shape");
    if (o >= 0 && run(g, o, in, idx) == 0)
      CHECK(idx[0] == 2 && idx[1] == (last ? 2 : 0) && idx[2] == 0 && idx[3] == (last ? 1 : 0),
            "argmax last=%d: %lld %lld %lld %lld", last, (long long)idx[0], (long long)idx[1], (long long)idx[2],
            (long long)idx[3]);
    pb_ir_free(g);
  }
}

/* ---- quantized operators against exact integer loops + pb_requant() ------------------------------- */

static uint32_t fbits(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  return u;
}

static void test_qlinearmatmul(void) {
  int bad = 0, checked = 0;
  for (int it = 0; it < 40; it++) {
    int M = irand(1, 6), K = irand(1, 40), N = irand(1, 7), per_col = it & 1;
    pb_graph_t *g = pb_ir_new();
    int64_t ad[2] = {M, K}, bd[2] = {K, N}, nd[1] = {N};
    int8_t a[240], b[280];
    for (int i = 0; i < M * K; i++) a[i] = (int8_t)irand(-128, 127);
    for (int i = 0; i < K * N; i++) b[i] = (int8_t)irand(-128, 127);
    float sa = 0.01f + (float)irand(0, 1000) * 1e-4f, sy = 0.05f + (float)irand(0, 1000) * 1e-3f;
    float sb[8];
    int8_t zb[8] = {0};
    for (int j = 0; j < 8; j++) sb[j] = 0.001f + (float)irand(0, 1000) * 1e-5f;
    int8_t za = (int8_t)irand(-20, 20), zy = (int8_t)irand(-30, 30);
    int ins[8] = {IN(g, PB_IR_I8, 2, ad),
                  V(g, PB_IR_F32, 0, NULL, &sa),
                  V(g, PB_IR_I8, 0, NULL, &za),
                  V(g, PB_IR_I8, 2, bd, b),
                  per_col ? V(g, PB_IR_F32, 1, nd, sb) : V(g, PB_IR_F32, 0, NULL, sb),
                  per_col ? V(g, PB_IR_I8, 1, nd, zb) : V(g, PB_IR_I8, 0, NULL, zb),
                  V(g, PB_IR_F32, 0, NULL, &sy),
                  V(g, PB_IR_I8, 0, NULL, &zy)};
    int o = NODE(g, PB_OP_QLINEARMATMUL, ins, 8, NULL);
    int8_t y[42];
    const void *in[1] = {a};
    if (o >= 0 && run(g, o, in, y) == 0)
      for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
          int32_t acc = 0;
          for (int k = 0; k < K; k++) acc += (a[i * K + k] - za) * b[k * N + j];
          float m = (sa * sb[per_col ? j : 0]) / sy;
          int8_t want = pb_requant(acc, fbits(m), zy, -128, 127);
          checked++;
          if (y[i * N + j] != want && !bad++)
            CHECK(0, "qlinearmatmul it %d [%d,%d]: acc %d m %.9g got %d want %d", it, i, j, acc, m, y[i * N + j], want);
        }
    pb_ir_free(g);
  }
  CHECK(bad == 0 && checked > 100, "qlinearmatmul vs pb_requant: %d values, %d wrong", checked, bad);
}

static void test_qlinearconv(void) {
  int bad = 0, checked = 0;
  for (int it = 0; it < 30; it++) {
    int C = irand(1, 3), H = irand(3, 7), W = irand(3, 7), M = irand(1, 4), kh = irand(1, 3), kw = irand(1, 3);
    int u8 = it % 3 == 0; /* uint8 activations, as in the ONNX test */
    pb_attr_t at = {0};
    at.stride[0] = irand(1, 2), at.stride[1] = irand(1, 2);
    for (int i = 0; i < 4; i++) at.pad[i] = irand(0, 1);
    pb_graph_t *g = pb_ir_new();
    int64_t xd[4] = {1, C, H, W}, wd[4] = {M, C, kh, kw}, md[1] = {M};
    uint8_t xbuf[147];
    int8_t w[108];
    int32_t bias[4];
    float sw[4];
    int8_t zw[4] = {0};
    for (int i = 0; i < C * H * W; i++) xbuf[i] = (uint8_t)irand(0, 255);
    for (int i = 0; i < M * C * kh * kw; i++) w[i] = (int8_t)irand(-127, 127);
    for (int i = 0; i < M; i++) bias[i] = irand(-5000, 5000), sw[i] = 0.002f + (float)irand(0, 1000) * 1e-5f;
    float sx = 0.02f, sy = 0.1f + (float)irand(0, 100) * 1e-3f;
    int32_t zx = u8 ? irand(0, 255) : irand(-128, 127), zy = u8 ? irand(0, 255) : irand(-128, 127);
    uint8_t zx8 = (uint8_t)zx, zy8 = (uint8_t)zy;
    pb_ir_dtype_t qt = u8 ? PB_IR_U8 : PB_IR_I8;
    int ins[9] = {IN(g, qt, 4, xd),
                  V(g, PB_IR_F32, 0, NULL, &sx),
                  V(g, qt, 0, NULL, &zx8),
                  V(g, PB_IR_I8, 4, wd, w),
                  V(g, PB_IR_F32, 1, md, sw),
                  V(g, PB_IR_I8, 1, md, zw),
                  V(g, PB_IR_F32, 0, NULL, &sy),
                  V(g, qt, 0, NULL, &zy8),
                  V(g, PB_IR_I32, 1, md, bias)};
    int o = NODE(g, PB_OP_QLINEARCONV, ins, 9, &at);
    if (o < 0) {
      pb_ir_free(g);
      continue;
    }
    int OH = (int)g->values[o].dims[2], OW = (int)g->values[o].dims[3];
    uint8_t y[4 * 81]; /* OH, OW <= 7 + 2 pads */
    const void *in[1] = {xbuf};
    if (run(g, o, in, y) == 0)
      for (int m = 0; m < M; m++)
        for (int oh = 0; oh < OH; oh++)
          for (int ow = 0; ow < OW; ow++) {
            int32_t acc = bias[m];
            for (int c = 0; c < C; c++)
              for (int i = 0; i < kh; i++)
                for (int j = 0; j < kw; j++) {
                  int h = oh * at.stride[0] - at.pad[0] + i, ww = ow * at.stride[1] - at.pad[1] + j;
                  if (h < 0 || h >= H || ww < 0 || ww >= W) continue;
                  int32_t xv = u8 ? xbuf[(c * H + h) * W + ww] : (int8_t)xbuf[(c * H + h) * W + ww];
                  acc += (xv - zx) * w[((m * C + c) * kh + i) * kw + j];
                }
            float mult = (sx * sw[m]) / sy;
            int32_t want, got;
            if (u8) { /* pb_requant is int8-only: shift the u8 range by 128 (zero point and bounds alike) */
              want = pb_requant(acc, fbits(mult), zy - 128, -128, 127) + 128;
              got = y[(m * OH + oh) * OW + ow];
            } else {
              want = pb_requant(acc, fbits(mult), zy, -128, 127);
              got = (int8_t)y[(m * OH + oh) * OW + ow];
            }
            checked++;
            if (got != want && !bad++)
              CHECK(0, "qlinearconv it %d (u8 %d) at %d,%d,%d: acc %d got %d want %d", it, u8, m, oh, ow, acc, got, want);
          }
    pb_ir_free(g);
  }
  CHECK(bad == 0 && checked > 100, "qlinearconv vs pb_requant: %d values, %d wrong", checked, bad);
}

static void test_integer_ops(void) {
  /* MatMulInteger u8 with zero points, per-column b_zero_point */
  pb_graph_t *g = pb_ir_new();
  int64_t ad[2] = {2, 3}, bd[2] = {3, 2}, nd[1] = {2};
  uint8_t a[6] = {11, 7, 3, 10, 6, 2}, b[6] = {1, 4, 2, 5, 3, 6}, za = 12, zb[2] = {0, 1};
  int ins[4] = {IN(g, PB_IR_U8, 2, ad), V(g, PB_IR_U8, 2, bd, b), V(g, PB_IR_U8, 0, NULL, &za), V(g, PB_IR_U8, 1, nd, zb)};
  int o = NODE(g, PB_OP_MATMULINTEGER, ins, 4, NULL);
  int32_t y[4];
  const void *in[1] = {a};
  /* (a - 12) = [[-1,-5,-9],[-2,-6,-10]]; b - zb = [[1,3],[2,4],[3,5]] */
  if (o >= 0 && run(g, o, in, y) == 0)
    CHECK(y[0] == -38 && y[1] == -68 && y[2] == -44 && y[3] == -80, "matmulinteger by hand: %d %d %d %d", y[0], y[1],
          y[2], y[3]);
  pb_ir_free(g);
  /* ConvInteger int8 with x zero point and padding (pads hold the zero point: contribute 0) */
  g = pb_ir_new();
  int64_t xd[4] = {1, 1, 2, 2}, wd[4] = {1, 1, 2, 2};
  int8_t x[4] = {5, 6, 7, 8}, w[4] = {1, 2, 3, 4}, zx = 5;
  int ins2[3] = {IN(g, PB_IR_I8, 4, xd), V(g, PB_IR_I8, 4, wd, w), V(g, PB_IR_I8, 0, NULL, &zx)};
  pb_attr_t at = {0};
  at.stride[0] = at.stride[1] = 1;
  at.pad[0] = at.pad[1] = at.pad[2] = at.pad[3] = 1;
  o = NODE(g, PB_OP_CONVINTEGER, ins2, 3, &at);
  int32_t yc[9];
  const void *in2[1] = {x};
  /* x - zx = [[0,1],[2,3]]; 3x3 output: corner (0,0) sees only x(0,0)*w(1,1) = 0 */
  if (o >= 0 && run(g, o, in2, yc) == 0)
    CHECK(yc[0] == 0 && yc[1] == 1 * 4 && yc[4] == 0 * 1 + 1 * 2 + 2 * 3 + 3 * 4 && yc[8] == 3 * 1,
          "convinteger by hand: %d %d %d %d", yc[0], yc[1], yc[4], yc[8]);
  pb_ir_free(g);
  /* DequantizeLinear per-axis int8 and int32 */
  g = pb_ir_new();
  int64_t qd[2] = {2, 3}, sd[1] = {3};
  int8_t q[6] = {-128, 0, 127, 10, -10, 1};
  float s[3] = {0.5f, 0.25f, 2.0f};
  int8_t z[3] = {0, -2, 1};
  int ins3[3] = {IN(g, PB_IR_I8, 2, qd), V(g, PB_IR_F32, 1, sd, s), V(g, PB_IR_I8, 1, sd, z)};
  at = (pb_attr_t){0};
  at.axis = 1;
  o = NODE(g, PB_OP_DEQUANTIZE, ins3, 3, &at);
  float yd[6];
  const void *in3[1] = {q};
  if (o >= 0 && run(g, o, in3, yd) == 0)
    CHECK(yd[0] == -64 && yd[1] == 0.5f && yd[2] == 252 && yd[3] == 5 && yd[4] == -2 && yd[5] == 0,
          "dequantize per-axis: %g %g %g %g %g %g", yd[0], yd[1], yd[2], yd[3], yd[4], yd[5]);
  pb_ir_free(g);
}

/* ---- observer and errors ------------------------------------------------------------------------ */

typedef struct {
  int calls;
  float min[16], max[16];
} stats_t;

static int observe(void *ctx, const pb_graph_t *g, int value, const void *data) {
  stats_t *s = ctx;
  const pb_value_t *v = &g->values[value];
  s->calls++;
  if (v->dtype == PB_IR_F32 && value < 16) {
    const float *f = data;
    s->min[value] = INFINITY, s->max[value] = -INFINITY;
    for (int64_t i = 0; i < pb_ir_numel(v); i++) {
      if (f[i] < s->min[value]) s->min[value] = f[i];
      if (f[i] > s->max[value]) s->max[value] = f[i];
    }
  }
  return 0;
}

static int stop_at_second(void *ctx, const pb_graph_t *g, int value, const void *data) {
  (void)g, (void)value, (void)data;
  return ++*(int *)ctx == 2;
}

static void test_observer_and_errors(void) {
  pb_graph_t *g = pb_ir_new();
  int64_t d[2] = {2, 2};
  float x[4] = {-3, 1, 2, -4}, c[4] = {1, 1, 1, 1}, y[4];
  int xi = IN(g, PB_IR_F32, 2, d);
  int ins[2] = {xi, V(g, PB_IR_F32, 2, d, c)};
  int a = NODE(g, PB_OP_ADD, ins, 2, NULL);
  int r = NODE(g, PB_OP_RELU, &a, 1, NULL);
  pb_ir_add_graph_output(g, r);
  stats_t st = {0};
  const void *in[1] = {x};
  void *out[1] = {y};
  CHECK(pb_interp_run(g, in, out, observe, &st, err, sizeof err) == 0, "observer run: %s", err);
  CHECK(st.calls == 3, "observer calls: %d (input + 2 nodes)", st.calls);
  CHECK(st.min[xi] == -4 && st.max[xi] == 2 && st.min[a] == -3 && st.max[a] == 3 && st.min[r] == 0 && st.max[r] == 3,
        "observer ranges");
  int count = 0;
  CHECK(pb_interp_run(g, in, out, stop_at_second, &count, err, sizeof err) == -1 && strstr(err, "stopped by the observer") &&
            strstr(err, "(Add)"),
        "observer stop: %s", err);
  const void *none[1] = {NULL};
  CHECK(pb_interp_run(g, none, out, NULL, NULL, err, sizeof err) == -1 && strstr(err, "graph input 0"), "missing input: %s",
        err);
  pb_ir_free(g);

  /* QuantizeLinear with a zero scale at run time */
  g = pb_ir_new();
  xi = IN(g, PB_IR_F32, 2, d);
  int si = IN(g, PB_IR_F32, 0, NULL);
  int q_ins[2] = {xi, si};
  int q = NODE(g, PB_OP_QUANTIZE, q_ins, 2, NULL);
  pb_ir_add_graph_output(g, q);
  float zero = 0;
  uint8_t qy[4];
  const void *qin[2] = {x, &zero};
  void *qout[1] = {qy};
  CHECK(pb_interp_run(g, qin, qout, NULL, NULL, err, sizeof err) == -1 && strstr(err, "scale 'v") &&
            strstr(err, "(QuantizeLinear)"),
        "zero scale: %s", err);
  printf("  zero scale -> %s\n", err);
  pb_ir_free(g);
}

int main(void) {
  check_init("test_interp");
  printf("seed 0x%08x\n", rng);
  test_by_hand();
  test_gemm_random();
  test_conv_random();
  test_pool_random();
  test_matmul_broadcast();
  test_transpose_softmax_argmax();
  test_qlinearmatmul();
  test_qlinearconv();
  test_integer_ops();
  test_observer_and_errors();
  return check_done();
}
