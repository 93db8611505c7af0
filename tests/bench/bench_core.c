/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `make bench`: ratios measured side by side in one run (no pass/fail on speed).
 *  - a 256x256x256 int8 matmul program on N=16: RTL cycles vs the timing model's prediction,
 *    array utilization;
 *  - the C reference model's speed in MACs/s against OpenBLAS sgemm on the same product;
 *  - Verilator simulation speed of the N=16 core in cycles/s.
 * Data-dependent nothing: cycle counts are exact; wall-clock figures vary with the machine.
 */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cosim.h"
#include "matmul_prog.h"
#include "protobrain/timing.h"
#include "refmodel.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(void) {
  const uint32_t d = 256;
  const pb_vsim_ops_t *ops = NULL;
  for (int i = 0; pb_vsim_configs[i]; i++)
    if (pb_vsim_configs[i]->hw.n == 16) ops = pb_vsim_configs[i];
  if (!ops) {
    fprintf(stderr, "bench: no N=16 Verilated configuration\n");
    return 1;
  }
  int8_t *a = malloc(d * d), *b = malloc(d * d);
  int32_t *bias = calloc(d, 4);
  float *mult = malloc(4 * d), *fa = malloc(4 * d * d), *fb = malloc(4 * d * d), *fc = malloc(4 * d * d);
  uint64_t s = 1;
  for (uint32_t i = 0; i < d * d; i++) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    a[i] = (int8_t)(s >> 33), b[i] = (int8_t)(s >> 45), fa[i] = a[i], fb[i] = b[i];
  }
  for (uint32_t j = 0; j < d; j++) mult[j] = 1.0f / 65536.0f;
  mm_spec_t spec = {d, d, d, a, b, bias, mult, 0, -128, 127};
  pb_program_t p;
  if (matmul_program(&ops->hw, &spec, &p)) return 1;
  const double macs = (double)d * d * d;

  /* timing model alone (the compiler's prediction) */
  pb_timing_t tm;
  pb_timing_init(&tm, &p.hw);
  int64_t pred = 0;
  for (uint32_t i = 0; i < p.code_len; i++) {
    pb_word_t w;
    pb_instr_t in;
    memcpy(w.bytes, p.code + 16 * i, 16);
    pb_decode(&w, &in);
    pred = pb_timing_issue(&tm, &in) + 1;
  }

  /* C reference model */
  pb_model_t *m = pb_model_new(&p.hw);
  pb_error_t e;
  pb_model_load_program(m, &p, &e);
  double t0 = now();
  pb_model_start(m, p.code_addr, p.code_len);
  pb_model_run(m, 0);
  double t_model = now() - t0;

  /* OpenBLAS sgemm on the same product (float) */
  openblas_set_num_threads(1);
  t0 = now();
  int reps = 20;
  for (int r = 0; r < reps; r++)
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)d, (int)d, (int)d, 1.0f, fa, (int)d, fb, (int)d, 0.0f, fc,
                (int)d);
  double t_blas = (now() - t0) / reps;

  /* the RTL alone (Verilator speed), then the cycle count */
  uint8_t *host = malloc(p.hw.host_bytes);
  memcpy(host, pb_model_host(m), p.hw.host_bytes);
  pb_cosim_opts_t o = {.compare = 0, .timing = -1};
  pb_cosim_result_t r;
  t0 = now();
  int rc = pb_cosim_run_image(ops, host, NULL, p.code_addr, p.code_len, NULL, 0, 0, &o, &r);
  double t_rtl = now() - t0;
  int same = memcmp(host + mm_y_addr(&p.hw), pb_model_host(m) + mm_y_addr(&p.hw), d * d) == 0;

  printf("benchmark: %ux%ux%u int8 matmul, N=16 (%s), %u instructions\n", d, d, d, ops->name, p.code_len);
  printf("  %-44s %12llu\n", "RTL cycles (Verilator)", (unsigned long long)r.cycles);
  printf("  %-44s %12lld   ratio RTL/predicted %.4f\n", "predicted cycles (timing model)", (long long)pred,
         (double)r.cycles / (double)pred);
  printf("  %-44s %11.1f%%   (%llu busy cycles)\n", "array utilization", 100.0 * (double)r.array_busy / (double)r.cycles,
         (unsigned long long)r.array_busy);
  printf("  %-44s %12.2f   at 100 MHz: %.2f GOPS (peak %.1f)\n", "MACs per cycle", macs / (double)r.cycles,
         2 * macs / (double)r.cycles * 0.1, 2.0 * 16 * 16 * 0.1);
  printf("  %-44s %12s\n", "RTL output bytes equal the C model's", rc == 0 && same ? "yes" : "NO");
  printf("  %-44s %12.3g MAC/s  (%.3f s)\n", "C reference model", macs / t_model, t_model);
  printf("  %-44s %12.3g MAC/s  (%.4f s)   ratio model/OpenBLAS %.4f\n", "OpenBLAS sgemm, 1 thread", macs / t_blas,
         t_blas, t_blas / t_model);
  printf("  %-44s %12.3g cycles/s  (%.2f s)\n", "Verilator simulation of the N=16 core", (double)r.cycles / t_rtl, t_rtl);
  pb_model_free(m);
  pb_program_free(&p);
  free(host), free(a), free(b), free(bias), free(mult), free(fa), free(fb), free(fc);
  return rc == 0 && same ? 0 : 1;
}
