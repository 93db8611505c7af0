/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Hand-checkable programs, written in assembly, run on the C reference model.
 * Expected values come from hand calculation (written in the comments) or from
 * an independent integer loop and the float requantization formula in this file.
 */
#include <fenv.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asm.h"
#include "check.h"
#include "protobrain/pbin.h"
#include "refmodel.h"

/* Assemble `src`, run it on a fresh model; returns the model (caller frees) or NULL. */
static pb_model_t *run_src(const char *src, const char *what, pb_program_t *prog) {
  char err[512];
  check_dump_src(what, src);
  if (pb_asm(src, what, prog, err, sizeof err)) {
    CHECK(0, "%s: assembly failed: %s", what, err);
    return NULL;
  }
  pb_model_t *m = pb_model_new(&prog->hw);
  pb_error_t e;
  if (!m || pb_model_load_program(m, prog, &e)) {
    CHECK(0, "%s: load failed", what);
    pb_model_free(m);
    pb_program_free(prog);
    return NULL;
  }
  pb_model_start(m, prog->code_addr, prog->code_len);
  pb_state_t st = pb_model_run(m, 100000);
  CHECK(st == PB_STATE_DONE, "%s: state %d error %s at pc %u", what, st, pb_isa_error_name(pb_model_error(m)),
        pb_model_pc(m));
  return m;
}

static uint32_t f32_bits(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  return u;
}

/* Independent requantization: the float formula of DESIGN.md section 4 (not pb_requant). */
static int8_t ref_requant(int32_t acc, float m, int32_t zp, int32_t lo, int32_t hi) {
  volatile float p = (float)acc * m;
  float r = nearbyintf(p);
  if (r > 1000.f) r = 1000.f;
  if (r < -1000.f) r = -1000.f;
  int32_t y = (int32_t)r + zp;
  return (int8_t)(y < lo ? lo : y > hi ? hi : y);
}

/* ---- 1. a 2x2 matmul with bias, checked by hand ---------------------------------- */
static void test_2x2_by_hand(void) {
  /*
   * X = [1 2; 3 4], W = [5 6; 7 8], bias = [10, -20], multiplier 1.0, zp 0:
   *   Y[0][0] = 1*5 + 2*7 + 10 = 29     Y[0][1] = 1*6 + 2*8 - 20 = 2
   *   Y[1][0] = 3*5 + 4*7 + 10 = 53     Y[1][1] = 3*6 + 4*8 - 20 = 30
   */
  const char *src =
      ".hw n=4 sp_rows=64 acc_rows=64 host_bytes=8192\n"
      ".data X 0x1000\n .i8 1, 2, 3, 4\n"
      ".data W 0x1100          ; 4x4 tile, zero padded\n"
      " .i8 5, 6, 0, 0,  7, 8, 0, 0,  0, 0, 0, 0,  0, 0, 0, 0\n"
      ".data CFG 0x1200        ; {bias, multiplier} per column\n"
      " .i32 10\n .f32 1.0\n .i32 -20\n .f32 1.0\n .i32 0\n .f32 1.0\n .i32 0\n .f32 1.0\n"
      ".buffer Y 0x1300 4 io\n"
      ".tensor input x addr=X dtype=i8 shape=2x2 strides=2,1\n"
      ".tensor output y addr=Y dtype=i8 shape=2x2 strides=2,1\n"
      "LOAD sp_col=0 cols=2 sp_addr=0 rows=2 host_stride=2 host_addr=X\n"
      "LOAD sp_col=0 cols=4 sp_addr=4 rows=4 host_stride=4 host_addr=W\n"
      "WEIGHTS sp_addr=4\n"
      "MATMUL acc=0 sp_addr=0 rows=2 acc_addr=0\n"
      "CONFIG zp=0 lo=-128 hi=127 host_addr=CFG\n"
      "ACTIVATE pool=1 sp_addr=8 rows=2 acc_addr=0 pool_stride=0\n"
      "STORE sp_col=0 cols=2 sp_addr=8 rows=2 host_stride=2 host_addr=Y\n"
      "HALT\n";
  pb_program_t p;
  pb_model_t *m = run_src(src, "2x2", &p);
  if (!m) return;
  const int8_t *y = (const int8_t *)pb_model_host(m) + 0x1300;
  const int8_t want[4] = {29, 2, 53, 30};
  for (int i = 0; i < 4; i++) CHECK(y[i] == want[i], "2x2: Y[%d] = %d, by hand %d", i, y[i], want[i]);
  const pb_model_counters_t *c = pb_model_counters(m);
  CHECK_EQ_INT(c->instrs, 8, "2x2: instructions retired");
  CHECK_EQ_INT(c->macs, 2 * 4 * 4, "2x2: MACs (rows x N x N)");
  CHECK_EQ_INT(c->dma_bytes, 4 + 16 + 32 + 4, "2x2: DMA bytes");
  pb_model_free(m);
  pb_program_free(&p);
}

/* ---- generic single-tile program text: Y = requant(X*W + bias) for M x K x C <= N ------- */

typedef struct {
  int n, M, K, C;
  int8_t x[16][16], w[16][16];
  int32_t bias[16];
  float mult[16];
  int zp, lo, hi;
} case_t;

static int emit_i8(char *s, size_t cap, const int8_t *v, int count) {
  int o = snprintf(s, cap, " .i8");
  for (int i = 0; i < count; i++) o += snprintf(s + o, cap - (size_t)o, "%s %d", i ? "," : "", v[i]);
  o += snprintf(s + o, cap - (size_t)o, "\n");
  return o;
}

/* Build the assembly for a case with a one-tile program (M, K, C <= n). */
static char *case_src(const case_t *c) {
  size_t cap = 1 << 16;
  char *s = malloc(cap);
  int o = snprintf(s, cap, ".hw n=%d sp_rows=256 acc_rows=256 host_bytes=65536\n.data X 0x1000\n", c->n);
  for (int r = 0; r < c->M; r++) o += emit_i8(s + o, cap - (size_t)o, c->x[r], c->K);
  o += snprintf(s + o, cap - (size_t)o, ".data W 0x2000\n");
  for (int k = 0; k < c->n; k++) {
    int8_t row[16] = {0};
    for (int j = 0; j < c->C && k < c->K; j++) row[j] = c->w[k][j];
    o += emit_i8(s + o, cap - (size_t)o, row, c->n);
  }
  o += snprintf(s + o, cap - (size_t)o, ".data CFG 0x3000\n");
  for (int j = 0; j < c->n; j++)
    o += snprintf(s + o, cap - (size_t)o, " .i32 %d\n .f32bits 0x%08x\n", j < c->C ? c->bias[j] : 0,
                  f32_bits(j < c->C ? c->mult[j] : 1.0f));
  o += snprintf(s + o, cap - (size_t)o,
                ".buffer Y 0x4000 256 io\n"
                "LOAD sp_col=0 cols=%d sp_addr=0 rows=%d host_stride=%d host_addr=X\n"
                "LOAD sp_col=0 cols=%d sp_addr=32 rows=%d host_stride=%d host_addr=W\n"
                "WEIGHTS sp_addr=32\n"
                "MATMUL acc=0 sp_addr=0 rows=%d acc_addr=0\n"
                "CONFIG zp=%d lo=%d hi=%d host_addr=CFG\n"
                "ACTIVATE pool=1 sp_addr=64 rows=%d acc_addr=0 pool_stride=0\n"
                "STORE sp_col=0 cols=%d sp_addr=64 rows=%d host_stride=%d host_addr=Y\n"
                "HALT\n",
                c->K, c->M, c->K, c->n, c->n, c->n, c->M, c->zp, c->lo, c->hi, c->M, c->C, c->M, c->C);
  return s;
}

/* Run a case and compare every output against an independent loop. */
static void check_case(const case_t *c, const char *what) {
  char *src = case_src(c);
  pb_program_t p;
  pb_model_t *m = run_src(src, what, &p);
  free(src);
  if (!m) return;
  const int8_t *y = (const int8_t *)pb_model_host(m) + 0x4000;
  int bad = 0;
  for (int r = 0; r < c->M && !bad; r++)
    for (int j = 0; j < c->C && !bad; j++) {
      int64_t acc = c->bias[j];
      for (int k = 0; k < c->K; k++) acc += (int64_t)c->x[r][k] * c->w[k][j];
      int8_t want = ref_requant((int32_t)acc, c->mult[j], c->zp, c->lo, c->hi);
      if (y[r * c->C + j] != want) {
        CHECK(0, "%s: Y[%d][%d] = %d, independent loop gives %d (acc %lld)", what, r, j, y[r * c->C + j], want,
              (long long)acc);
        bad = 1;
      }
    }
  CHECK(!bad, "%s: all %d outputs match", what, c->M * c->C);
  pb_model_free(m);
  pb_program_free(&p);
}

/* ---- 2. a 4x4 matmul with bias and power-of-two multipliers, by hand ---------------- */
static void test_4x4_by_hand(void) {
  /*
   * X = I (identity) scaled by 2 plus ones in the last column, W[k][j] = k - j,
   * bias = [1, 2, 3, 4], multiplier 0.5 everywhere, zp 0, no clamp.
   * X = [2 0 0 1; 0 2 0 1; 0 0 2 1; 0 0 0 3]
   * acc[r][j] = sum_k X[r][k] (k - j) + bias[j]:
   *   r0: 2(0-j) + (3-j) + b = 3 - 3j + (j+1)      = 4 - 2j   -> [4, 2, 0, -2]
   *   r1: 2(1-j) + (3-j) + j+1 = 6 - 2j            -> [6, 4, 2, 0]
   *   r2: 2(2-j) + (3-j) + j+1 = 8 - 2j            -> [8, 6, 4, 2]
   *   r3: 3(3-j) + j+1 = 10 - 2j                   -> [10, 8, 6, 4]
   * times 0.5 (exact): [2 1 0 -1; 3 2 1 0; 4 3 2 1; 5 4 3 2]
   */
  case_t c = {.n = 4, .M = 4, .K = 4, .C = 4, .zp = 0, .lo = -128, .hi = 127};
  int8_t x[4][4] = {{2, 0, 0, 1}, {0, 2, 0, 1}, {0, 0, 2, 1}, {0, 0, 0, 3}};
  memcpy(c.x[0], x[0], 4), memcpy(c.x[1], x[1], 4), memcpy(c.x[2], x[2], 4), memcpy(c.x[3], x[3], 4);
  for (int k = 0; k < 4; k++)
    for (int j = 0; j < 4; j++) c.w[k][j] = (int8_t)(k - j);
  for (int j = 0; j < 4; j++) c.bias[j] = j + 1, c.mult[j] = 0.5f;
  char *src = case_src(&c);
  pb_program_t p;
  pb_model_t *m = run_src(src, "4x4", &p);
  free(src);
  if (!m) return;
  const int8_t want[16] = {2, 1, 0, -1, 3, 2, 1, 0, 4, 3, 2, 1, 5, 4, 3, 2};
  const int8_t *y = (const int8_t *)pb_model_host(m) + 0x4000;
  for (int i = 0; i < 16; i++) CHECK(y[i] == want[i], "4x4: Y[%d] = %d, by hand %d", i, y[i], want[i]);
  pb_model_free(m);
  pb_program_free(&p);
  check_case(&c, "4x4 (independent loop)");
}

/* ---- 3. ReLU: negative results clipped ---------------------------------------------- */
static void test_relu(void) {
  /*
   * 1x2 times 2x2: X = [1, -1], W = [3 -3; 1 -1], bias 0, mult 1, zp_y = 5, ReLU lo = zp = 5:
   *   acc = [1*3 + (-1)*1, 1*(-3) + (-1)(-1)] = [2, -2]
   *   y = clamp(5 + [2, -2], 5, 127) = [7, 5]   (the negative result is clipped to zero = zp)
   */
  case_t c = {.n = 4, .M = 1, .K = 2, .C = 2, .zp = 5, .lo = 5, .hi = 127};
  c.x[0][0] = 1, c.x[0][1] = -1;
  c.w[0][0] = 3, c.w[0][1] = -3, c.w[1][0] = 1, c.w[1][1] = -1;
  c.mult[0] = c.mult[1] = 1.0f;
  char *src = case_src(&c);
  pb_program_t p;
  pb_model_t *m = run_src(src, "relu", &p);
  free(src);
  if (!m) return;
  const int8_t *y = (const int8_t *)pb_model_host(m) + 0x4000;
  CHECK(y[0] == 7 && y[1] == 5, "relu: got [%d, %d], by hand [7, 5]", y[0], y[1]);
  pb_model_free(m);
  pb_program_free(&p);
}

/* ---- 4. saturation at both ends ----------------------------------------------------- */
static void test_saturation(void) {
  /*
   * X = [127, 127, 127, 127], W column 0 all 127, column 1 all -128, bias 0, mult 1:
   *   acc0 = 4*127*127 = 64516 -> 127 ; acc1 = 4*127*(-128) = -65024 -> -128.
   * Column 2: W = 1s, bias = -500, mult 0.25: (508 - 500) * 0.25 = 2.
   */
  case_t c = {.n = 4, .M = 1, .K = 4, .C = 3, .zp = 0, .lo = -128, .hi = 127};
  for (int k = 0; k < 4; k++) c.x[0][k] = 127, c.w[k][0] = 127, c.w[k][1] = -128, c.w[k][2] = 1;
  c.mult[0] = c.mult[1] = 1.0f, c.mult[2] = 0.25f, c.bias[2] = -500;
  char *src = case_src(&c);
  pb_program_t p;
  pb_model_t *m = run_src(src, "saturation", &p);
  free(src);
  if (!m) return;
  const int8_t *y = (const int8_t *)pb_model_host(m) + 0x4000;
  CHECK(y[0] == 127 && y[1] == -128 && y[2] == 2, "saturation: got [%d, %d, %d], by hand [127, -128, 2]", y[0], y[1],
        y[2]);
  pb_model_free(m);
  pb_program_free(&p);
}

/* ---- 5. zero points on both sides ----------------------------------------------------- */
static void test_zero_points(void) {
  /*
   * Real x = (q_x - zp_x) with zp_x = -3, weights symmetric; zp_x * sum_k w folded into the bias:
   *   q_x = [1, 5] (real [4, 8]), W = [2; -1] (one column), real bias 6:
   *   real acc = 4*2 + 8*(-1) + 6 = 6; folded bias = 6 - (-3)*(2 + -1) = 9;
   *   hardware acc = 1*2 + 5*(-1) + 9 = 6. mult 0.5 -> 3; zp_y = -10 -> y = -7.
   */
  case_t c = {.n = 4, .M = 1, .K = 2, .C = 1, .zp = -10, .lo = -128, .hi = 127};
  c.x[0][0] = 1, c.x[0][1] = 5, c.w[0][0] = 2, c.w[1][0] = -1, c.bias[0] = 9, c.mult[0] = 0.5f;
  char *src = case_src(&c);
  pb_program_t p;
  pb_model_t *m = run_src(src, "zero points", &p);
  free(src);
  if (!m) return;
  const int8_t *y = (const int8_t *)pb_model_host(m) + 0x4000;
  CHECK(y[0] == -7, "zero points: got %d, by hand -7", y[0]);
  pb_model_free(m);
  pb_program_free(&p);
}

/* ---- 6. max-pooling in ACTIVATE, by hand --------------------------------------------- */
static void test_maxpool(void) {
  /*
   * acc rows (LOAD_ACC):  a0 = [1, -5, 100, 7]   a1 = [3, -9, 50, 7]
   *                       a2 = [-2, -1, 200, 6]  a3 = [0, -100, -1, 8]
   * ACTIVATE pool=2 pool_stride=2 rows=2: out r = max(a[r], a[r+2]) + bias, bias [10, 0, 0, -7], mult 0.5:
   *   r0: max = [1, -1, 200, 7] + bias = [11, -1, 200, 0] * 0.5 = [5.5, -0.5, 100, 0] -> [6, 0, 100, 0]
   *   r1: max = [3, -9, 50, 8]  + bias = [13, -9, 50, 1]  * 0.5 = [6.5, -4.5, 25, 0.5] -> [6, -4, 25, 0]
   *   (ties to even: 5.5 -> 6, 6.5 -> 6, -0.5 -> 0, -4.5 -> -4, 0.5 -> 0)
   */
  const char *src =
      ".hw n=4 sp_rows=64 acc_rows=64 host_bytes=8192\n"
      ".data A 0x1000\n .i32 1, -5, 100, 7, 3, -9, 50, 7, -2, -1, 200, 6, 0, -100, -1, 8\n"
      ".data CFG 0x1100\n .i32 10\n .f32 0.5\n .i32 0\n .f32 0.5\n .i32 0\n .f32 0.5\n .i32 -7\n .f32 0.5\n"
      ".buffer Y 0x1200 8 io\n"
      "LOAD_ACC acc_addr=0 rows=4 host_stride=16 host_addr=A\n"
      "CONFIG zp=0 lo=-128 hi=127 host_addr=CFG\n"
      "ACTIVATE pool=2 sp_addr=0 rows=2 acc_addr=0 pool_stride=2\n"
      "STORE sp_col=0 cols=4 sp_addr=0 rows=2 host_stride=4 host_addr=Y\n"
      "HALT\n";
  pb_program_t p;
  pb_model_t *m = run_src(src, "maxpool", &p);
  if (!m) return;
  const int8_t want[8] = {6, 0, 100, 0, 6, -4, 25, 0};
  const int8_t *y = (const int8_t *)pb_model_host(m) + 0x1200;
  for (int i = 0; i < 8; i++) CHECK(y[i] == want[i], "maxpool: Y[%d] = %d, by hand %d", i, y[i], want[i]);
  pb_model_free(m);
  pb_program_free(&p);
}

/* ---- 6b. raw accumulator sums to host (STORE_ACC), by hand ---------------------------- */
static void test_store_acc(void) {
  /*
   * x = [[1, 2, 0, 0], [-3, 4, 0, 0]], W rows k: w0 = [5, -6, 0, 0], w1 = [7, 8, 0, 0], others 0;
   * LOAD_ACC preloads the bias row b = [100, -2147483648, 0, 1] into both rows (host_stride 0), MATMUL acc=1:
   *   r0: [1*5 + 2*7, 1*-6 + 2*8, 0, 0] + b = [19 + 100, 10 - 2^31, 0, 1] = [119, -2147483638, 0, 1]
   *   r1: [-15 + 28, 18 + 32, 0, 0] + b   = [113, 50 - 2^31, 0, 1]     = [113, -2147483598, 0, 1]
   * STORE_ACC with host_stride 20 leaves 4 bytes between the rows untouched (90 each); cols=3 writes 12 bytes.
   */
  const char *src =
      ".hw n=4 sp_rows=64 acc_rows=64 host_bytes=8192\n"
      ".data X 0x1000\n .i8 1, 2, 0, 0, -3, 4, 0, 0\n"
      ".data W 0x1010\n .i8 5, -6, 0, 0, 7, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0\n"
      ".data B 0x1020\n .i32 100, -2147483648, 0, 1\n"
      ".data Y 0x1100\n .i8 90, 90, 90, 90, 90, 90, 90, 90, 90, 90, 90, 90, 90, 90, 90, 90, 90, 90, 90, 90, 90, 90, 90, 90,"
      " 90, 90, 90, 90, 90, 90, 90, 90, 90, 90, 90, 90, 90, 90, 90, 90\n"
      "LOAD sp_col=0 cols=4 sp_addr=0 rows=4 host_stride=4 host_addr=W\n"
      "LOAD sp_col=0 cols=4 sp_addr=8 rows=2 host_stride=4 host_addr=X\n"
      "LOAD_ACC acc_addr=3 rows=2 host_stride=0 host_addr=B\n"
      "WEIGHTS sp_addr=0\n"
      "MATMUL acc=1 sp_addr=8 rows=2 acc_addr=3\n"
      ".data Z 0x1200\n .i8 90, 90, 90, 90, 90, 90, 90, 90, 90, 90, 90, 90, 90, 90, 90, 90\n"
      "STORE_ACC cols=4 acc_addr=3 rows=2 host_stride=20 host_addr=Y\n"
      "STORE_ACC cols=3 acc_addr=3 rows=1 host_stride=0 host_addr=Z\n"
      "HALT\n";
  pb_program_t p;
  pb_model_t *m = run_src(src, "store_acc", &p);
  if (!m) return;
  const uint8_t *y = pb_model_host(m) + 0x1100;
  const int32_t want[2][4] = {{119, -2147483638, 0, 1}, {113, -2147483598, 0, 1}};
  for (int r = 0; r < 2; r++)
    for (int c = 0; c < 4; c++) {
      const uint8_t *q = y + 20 * r + 4 * c;
      int32_t v = (int32_t)((uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24);
      CHECK(v == want[r][c], "store_acc: Y[%d][%d] = %d, by hand %d", r, c, v, want[r][c]);
    }
  for (int i = 16; i < 20; i++) CHECK(y[i] == 90, "store_acc: gap byte %d = %d, untouched 90", i, y[i]);
  CHECK(y[36] == 90, "store_acc: byte after the last row = %d, untouched 90", y[36]);
  /* cols=3: lanes 0..2 of row 3, lane 3's bytes untouched */
  const uint8_t *z = pb_model_host(m) + 0x1200;
  for (int c = 0; c < 3; c++) {
    const uint8_t *q = z + 4 * c;
    int32_t v = (int32_t)((uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24);
    CHECK(v == want[0][c], "store_acc cols=3: Z[%d] = %d, by hand %d", c, v, want[0][c]);
  }
  for (int i = 12; i < 16; i++) CHECK(z[i] == 90, "store_acc cols=3: byte %d = %d, untouched 90", i, z[i]);
  pb_model_free(m);
  pb_program_free(&p);
}

/* ---- 7. random single-tile cases against the independent loop --------------------- */
static uint64_t rng_state;
static uint32_t rnd(void) {
  rng_state ^= rng_state << 13, rng_state ^= rng_state >> 7, rng_state ^= rng_state << 17;
  return (uint32_t)(rng_state >> 16);
}

static void test_random_tiles(uint64_t seed) {
  rng_state = seed;
  int ns[3] = {4, 8, 16};
  /* then 12 at n = 2 (the shared requantizer lane's RTL configuration runs them in lock step) and 12
   * at n = 1, the iCE40 build's array (its RTL, netlist and board netlist run them) */
  for (int t = 0; t < 84; t++) {
    case_t c = {0};
    c.n = t < 60 ? ns[t % 3] : t < 72 ? 2 : 1;
    c.M = 1 + (int)(rnd() % 16), c.K = 1 + (int)(rnd() % (unsigned)c.n), c.C = 1 + (int)(rnd() % (unsigned)c.n);
    for (int r = 0; r < c.M; r++)
      for (int k = 0; k < c.K; k++) c.x[r][k] = (int8_t)rnd();
    for (int k = 0; k < c.K; k++)
      for (int j = 0; j < c.C; j++) c.w[k][j] = (int8_t)rnd();
    for (int j = 0; j < c.C; j++) {
      c.bias[j] = (int32_t)(rnd() % 20001) - 10000;
      c.mult[j] = ldexpf(1.0f + (float)(rnd() % 1000) / 1000.0f, -(int)(rnd() % 14));
    }
    c.zp = (int)(rnd() % 256) - 128;
    c.lo = (rnd() & 1) ? c.zp : -128;
    c.hi = 127;
    char what[64];
    snprintf(what, sizeof what, "random tile %d (n=%d %dx%dx%d)", t, c.n, c.M, c.K, c.C);
    check_case(&c, what);
  }
}

int main(void) {
  check_init("test_programs");
  fesetround(FE_TONEAREST);
  uint64_t seed = 0x5eed0001ull;
  const char *env = getenv("PB_SEED");
  if (env) seed = strtoull(env, NULL, 0);
  printf("test_programs: seed 0x%llx\n", (unsigned long long)seed);
  test_2x2_by_hand();
  test_4x4_by_hand();
  test_relu();
  test_saturation();
  test_zero_points();
  test_maxpool();
  test_store_acc();
  test_random_tiles(seed);
  return check_done();
}
