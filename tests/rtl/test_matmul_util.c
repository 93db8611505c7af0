/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A 256x256x256 matmul on the N=16 core (and 32x32x32 on N=4) in lock step:
 * the output equals an independent integer loop with the float requantization
 * formula, the RTL's cycle count equals the timing model's, and the array is
 * busy (MATMUL rows per cycle) at least 85% of the core's cycles. Cycle counts
 * are exact and data-independent, so this is a correctness test, not a timing one.
 */
#include <fenv.h>
#include <math.h>

#include "cosim_util.h"
#include "matmul_prog.h"

static uint64_t rs = 0x256256256ull;
static uint32_t rnd(void) {
  rs ^= rs << 13, rs ^= rs >> 7, rs ^= rs << 17;
  return (uint32_t)(rs >> 16);
}

static void run(const char *cfg, uint32_t dim) {
  const pb_vsim_ops_t *ops = cfg_by_name(cfg);
  if (!ops) {
    CHECK(0, "configuration %s not built", cfg);
    return;
  }
  uint32_t m = dim, k = dim, c = dim;
  int8_t *a = malloc((size_t)m * k), *b = malloc((size_t)k * c), *want = malloc((size_t)m * c);
  int32_t *bias = malloc(4 * c);
  float *mult = malloc(4 * c);
  for (size_t i = 0; i < (size_t)m * k; i++) a[i] = (int8_t)rnd();
  for (size_t i = 0; i < (size_t)k * c; i++) b[i] = (int8_t)rnd();
  for (uint32_t j = 0; j < c; j++) bias[j] = (int32_t)(rnd() % 200001) - 100000, mult[j] = ldexpf(1.0f + (float)(rnd() % 1000) / 1000.f, -17);
  mm_spec_t s = {m, k, c, a, b, bias, mult, -5, -5, 127};
  for (uint32_t i = 0; i < m; i++)
    for (uint32_t j = 0; j < c; j++) {
      int64_t acc = bias[j];
      for (uint32_t t = 0; t < k; t++) acc += (int64_t)a[(size_t)i * k + t] * b[(size_t)t * c + j];
      volatile float pr = (float)acc * mult[j];
      int y = (int)fmaxf(-1000.f, fminf(1000.f, nearbyintf(pr))) + s.zp;
      want[(size_t)i * c + j] = (int8_t)(y < s.lo ? s.lo : y > s.hi ? s.hi : y);
    }
  pb_program_t p;
  if (matmul_program(&ops->hw, &s, &p)) {
    CHECK(0, "%s: cannot build the %ux%ux%u program", cfg, m, k, c);
    return;
  }
  pb_model_t *model = pb_model_new(&p.hw);
  pb_error_t e;
  pb_model_load_program(model, &p, &e);
  uint8_t *host = malloc(p.hw.host_bytes);
  memcpy(host, pb_model_host(model), p.hw.host_bytes);
  pb_cosim_opts_t o = {.compare = 1, .timing = -1};
  pb_cosim_result_t r;
  int rc = pb_cosim_run_image(ops, host, model, p.code_addr, p.code_len, NULL, 0, 0, &o, &r);
  CHECK(rc == 0 && r.state == PB_STATE_DONE, "%s: %ux%ux%u: rc %d state %d", cfg, m, k, c, rc, r.state);
  int first = -1;
  for (size_t i = 0; i < (size_t)m * c && first < 0; i++)
    if ((int8_t)host[mm_y_addr(&ops->hw) + i] != want[i]) first = (int)i;
  CHECK(first < 0, "%s: output [%d][%d] = %d, independent loop %d", cfg, first / (int)c, first % (int)c,
        first >= 0 ? (int8_t)host[mm_y_addr(&ops->hw) + first] : 0, first >= 0 ? want[first] : 0);
  double util = (double)r.array_busy / (double)r.cycles;
  printf("%s %ux%ux%u: %llu instructions, %llu cycles (timing model %llu), array busy %llu cycles = %.1f%%, "
         "%llu DMA bytes, %llu MACs\n",
         cfg, m, k, c, (unsigned long long)r.instrs, (unsigned long long)r.cycles,
         (unsigned long long)pb_model_counters(model)->cycles, (unsigned long long)r.array_busy, 100 * util,
         (unsigned long long)r.dma_bytes, (unsigned long long)pb_model_counters(model)->macs);
  if (ops->hw.n == 16 && dim == 256) CHECK(util >= 0.85, "%s: array utilization %.1f%% < 85%%", cfg, 100 * util);
  pb_model_free(model);
  pb_program_free(&p);
  free(host), free(a), free(b), free(want), free(bias), free(mult);
}

int main(void) {
  check_init("test_matmul_util");
  fesetround(FE_TONEAREST);
  run("sim16", 256);
  run("sim4", 32);
  return check_done();
}
