/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shapes that are not multiples of N: a 5x7 by 7x3 matmul (and a few larger
 * odd shapes) tiled by padding for N = 4, 8, 16. Every N must give the same
 * bytes, and those bytes must equal an independent integer loop followed by
 * the float requantization formula.
 */
#include <fenv.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asm.h"
#include "check.h"
#include "refmodel.h"

typedef struct {
  int M, K, C;
  int8_t *x, *w; /* x: M x K, w: K x C, row-major */
  int32_t *bias;
  float *mult;
  int zp, lo, hi;
} mm_t;

#define X_ADDR 0x10000u
#define W_ADDR 0x20000u
#define CFG_ADDR 0x40000u
#define Y_ADDR 0x50000u

static int8_t w_at(const mm_t *p, int k, int j) { return (k < p->K && j < p->C) ? p->w[k * p->C + j] : 0; }

/* A test-local tiler: emits assembly for Y = requant(X W + bias) on an N x N array. */
static char *emit(const mm_t *p, int n) {
  size_t cap = 1 << 22, o = 0;
  char *s = malloc(cap);
  int kt = (p->K + n - 1) / n, ct = (p->C + n - 1) / n;
#define OUT(...) o += (size_t)snprintf(s + o, cap - o, __VA_ARGS__)
  OUT(".hw n=%d sp_rows=1024 acc_rows=512 host_bytes=%u\n", n, 0x60000u);
  OUT(".data X 0x%x\n", X_ADDR);
  for (int i = 0; i < p->M * p->K; i++) OUT(" .i8 %d\n", p->x[i]);
  OUT(".data W 0x%x  ; %d x %d tiles of N x N, (K tile, C tile) order\n", W_ADDR, kt, ct);
  for (int t = 0; t < kt; t++)
    for (int u = 0; u < ct; u++)
      for (int k = 0; k < n; k++) {
        OUT(" .i8");
        for (int j = 0; j < n; j++) OUT("%s %d", j ? "," : "", w_at(p, t * n + k, u * n + j));
        OUT("\n");
      }
  OUT(".data CFG 0x%x\n", CFG_ADDR);
  for (int j = 0; j < ct * n; j++) {
    uint32_t bits;
    float mj = j < p->C ? p->mult[j] : 1.0f;
    memcpy(&bits, &mj, 4);
    OUT(" .i32 %d\n .f32bits 0x%08x\n", j < p->C ? p->bias[j] : 0, bits);
  }
  OUT(".buffer Y 0x%x %d io\n", Y_ADDR, p->M * p->C);
  /* scratchpad: X block at 0 (M rows), weight tile at 512, outputs at 768 */
  for (int u = 0; u < ct; u++) {
    int cc = p->C - u * n < n ? p->C - u * n : n;
    for (int t = 0; t < kt; t++) {
      int kc = p->K - t * n < n ? p->K - t * n : n;
      OUT("LOAD sp_col=0 cols=%d sp_addr=0 rows=%d host_stride=%d host_addr=X+%d\n", kc, p->M, p->K, t * n);
      OUT("LOAD sp_col=0 cols=%d sp_addr=512 rows=%d host_stride=%d host_addr=W+%d\n", n, n, n,
          (t * ct + u) * n * n);
      OUT("WEIGHTS sp_addr=512\n");
      OUT("MATMUL acc=%d sp_addr=0 rows=%d acc_addr=0\n", t > 0, p->M);
    }
    OUT("CONFIG zp=%d lo=%d hi=%d host_addr=CFG+%d\n", p->zp, p->lo, p->hi, u * n * 8);
    OUT("ACTIVATE pool=1 sp_addr=768 rows=%d acc_addr=0 pool_stride=0\n", p->M);
    OUT("STORE sp_col=0 cols=%d sp_addr=768 rows=%d host_stride=%d host_addr=Y+%d\n", cc, p->M, p->C, u * n);
  }
  OUT("HALT\n");
#undef OUT
  return s;
}

static int run(const mm_t *p, int n, int8_t *y) {
  char *src = emit(p, n), err[512], what[64];
  snprintf(what, sizeof what, "%dx%dx%d_n%d", p->M, p->K, p->C, n);
  check_dump_src(what, src);
  pb_program_t prog;
  int rc = pb_asm(src, "tiling", &prog, err, sizeof err);
  free(src);
  if (rc) {
    CHECK(0, "n=%d: assembly failed: %s", n, err);
    return -1;
  }
  pb_model_t *m = pb_model_new(&prog.hw);
  pb_error_t e;
  rc = -1;
  if (m && !pb_model_load_program(m, &prog, &e)) {
    pb_model_start(m, prog.code_addr, prog.code_len);
    if (pb_model_run(m, 0) == PB_STATE_DONE) {
      memcpy(y, pb_model_host(m) + Y_ADDR, (size_t)(p->M * p->C));
      rc = 0;
    } else {
      CHECK(0, "n=%d: stopped with %s at pc %u", n, pb_isa_error_name(pb_model_error(m)), pb_model_pc(m));
    }
  }
  pb_model_free(m);
  pb_program_free(&prog);
  return rc;
}

static uint64_t rs;
static uint32_t rnd(void) {
  rs ^= rs << 13, rs ^= rs >> 7, rs ^= rs << 17;
  return (uint32_t)(rs >> 16);
}

static void check_shape(int M, int K, int C) {
  mm_t p = {M, K, C, malloc((size_t)(M * K)), malloc((size_t)(K * C)), malloc(sizeof(int32_t) * (size_t)C),
            malloc(sizeof(float) * (size_t)C), (int)(rnd() % 256) - 128, -128, 127};
  p.lo = p.zp; /* ReLU */
  for (int i = 0; i < M * K; i++) p.x[i] = (int8_t)rnd();
  for (int i = 0; i < K * C; i++) p.w[i] = (int8_t)rnd();
  for (int j = 0; j < C; j++) {
    p.bias[j] = (int32_t)(rnd() % 40001) - 20000;
    p.mult[j] = ldexpf(1.0f + (float)(rnd() % 4096) / 4096.0f, -8 - (int)(rnd() % 6));
  }
  int8_t *want = malloc((size_t)(M * C)), *got = malloc((size_t)(M * C));
  for (int r = 0; r < M; r++)
    for (int j = 0; j < C; j++) {
      int64_t acc = p.bias[j];
      for (int k = 0; k < K; k++) acc += (int64_t)p.x[r * K + k] * p.w[k * C + j];
      volatile float prod = (float)acc * p.mult[j];
      float rr = nearbyintf(prod);
      int y = (int)fmaxf(-1000.f, fminf(1000.f, rr)) + p.zp;
      want[r * C + j] = (int8_t)(y < p.lo ? p.lo : y > p.hi ? p.hi : y);
    }
  int ns[3] = {4, 8, 16};
  for (int i = 0; i < 3; i++) {
    memset(got, 0x55, (size_t)(M * C));
    if (run(&p, ns[i], got)) continue;
    int first = -1;
    for (int e = 0; e < M * C && first < 0; e++)
      if (got[e] != want[e]) first = e;
    CHECK(first < 0, "%dx%d by %dx%d, n=%d: first mismatch at Y[%d][%d]: got %d, independent loop %d", M, K, K, C,
          ns[i], first / C, first % C, first >= 0 ? got[first] : 0, first >= 0 ? want[first] : 0);
  }
  free(p.x), free(p.w), free(p.bias), free(p.mult), free(want), free(got);
}

int main(void) {
  check_init("test_tiling");
  fesetround(FE_TONEAREST);
  rs = 0x711e5eedull;
  const char *env = getenv("PB_SEED");
  if (env) rs = strtoull(env, NULL, 0);
  printf("test_tiling: seed 0x%llx\n", (unsigned long long)rs);
  check_shape(5, 7, 3); /* the acceptance shape */
  check_shape(1, 1, 1);
  check_shape(17, 33, 9);
  check_shape(3, 16, 16);
  check_shape(40, 50, 20);
  return check_done();
}
