/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Random programs in lock-step co-simulation on every Verilated configuration:
 * valid programs (every write and every issue cycle equal to the model's), each
 * run twice with different data (the cycle count must not change), and invalid
 * programs (the same error code and faulting PC as the model, nothing written
 * after the fault). Seeds are printed; PB_SEED, PB_VALID and PB_INVALID override.
 * A failing program is written to build/logs/ for replay.
 */
#include "cosim_util.h"
#include "randprog.h"

static int run_bp(const pb_vsim_ops_t *ops, const char *src, pb_cosim_result_t *res, unsigned bp, uint64_t seed) {
  char err[512];
  pb_program_t p;
  if (pb_asm(src, "randprog", &p, err, sizeof err)) {
    fprintf(stderr, "randprog: assembly failed: %s\n", err);
    return -1;
  }
  pb_model_t *m = pb_model_new(&p.hw);
  pb_error_t e;
  int rc = -1;
  if (m && !pb_model_load_program(m, &p, &e)) {
    uint8_t *host = malloc(p.hw.host_bytes);
    memcpy(host, pb_model_host(m), p.hw.host_bytes);
    pb_cosim_opts_t o = {.compare = 1, .max_cycles = 10000000ull, .timing = -1};
    rc = pb_cosim_run_image(ops, host, m, p.code_addr, p.code_len, NULL, bp, seed, &o, res);
    free(host);
  }
  pb_model_free(m);
  pb_program_free(&p);
  return rc;
}

static int run_src(const pb_vsim_ops_t *ops, const char *src, pb_cosim_result_t *res) {
  return run_bp(ops, src, res, 0, 0);
}

static void save_failure(const char *src, const char *cfg, unsigned long long seed) {
  char path[256];
  snprintf(path, sizeof path, "build/logs/randprog_%s_%llx.pbs", cfg, seed);
  FILE *f = fopen(path, "w");
  if (f) {
    fputs(src, f);
    fclose(f);
    fprintf(stderr, "  program saved to %s\n", path);
  }
}

int main(void) {
  check_init("test_cosim_random");
  uint64_t seed0 = 0xc0517000ull;
  int nvalid = 300, ninvalid = 60; /* per configuration */
  if (getenv("PB_SEED")) seed0 = strtoull(getenv("PB_SEED"), NULL, 0);
  if (getenv("PB_VALID")) nvalid = atoi(getenv("PB_VALID"));
  if (getenv("PB_INVALID")) ninvalid = atoi(getenv("PB_INVALID"));
  printf("test_cosim_random: seed 0x%llx, %d valid and %d invalid programs per configuration\n",
         (unsigned long long)seed0, nvalid, ninvalid);
  for (int ci = 0; pb_vsim_configs[ci]; ci++) {
    const pb_vsim_ops_t *ops = pb_vsim_configs[ci];
    int ok = 0, det = 0;
    uint64_t cycles = 0, writes = 0;
    for (int i = 0; i < nvalid; i++) {
      uint64_t seed = seed0 + (uint64_t)ci * 1000003u + (uint64_t)i;
      int len = 10 + (int)(seed % 50);
      char *a = randprog(&ops->hw, seed, seed, len, RP_VALID);
      char *bsrc = randprog(&ops->hw, seed, seed ^ 0xdada, len, RP_VALID);
      pb_cosim_result_t ra, rb;
      int rca = run_src(ops, a, &ra), rcb = rca ? -1 : run_src(ops, bsrc, &rb);
      if (rca || rcb || ra.state != PB_STATE_DONE || rb.state != PB_STATE_DONE) {
        CHECK(0, "%s: valid program seed 0x%llx: rc %d/%d state %d err %s pc %u", ops->name,
              (unsigned long long)seed, rca, rcb, ra.state, pb_isa_error_name(ra.err), ra.fault_pc);
        save_failure(rca ? a : bsrc, ops->name, (unsigned long long)seed);
      } else {
        ok++;
        cycles += ra.cycles;
        writes += ra.writes_compared + rb.writes_compared;
        if (ra.cycles == rb.cycles && ra.instrs == rb.instrs && ra.array_busy == rb.array_busy &&
            ra.dma_bytes == rb.dma_bytes)
          det++;
        else
          CHECK(0, "%s: seed 0x%llx: counters differ with other data: cycles %llu vs %llu", ops->name,
                (unsigned long long)seed, (unsigned long long)ra.cycles, (unsigned long long)rb.cycles);
      }
      free(a);
      free(bsrc);
      if (!ok && i >= 3) break; /* systematically broken: stop early */
    }
    CHECK(ok == nvalid, "%s: %d of %d valid programs matched the model", ops->name, ok, nvalid);
    CHECK(det == ok, "%s: %d of %d programs have data-independent counters", ops->name, det, ok);
    printf("%s: %d/%d valid programs identical to the model (each twice: %d with identical counters), "
           "%llu writes compared, %llu cycles\n", ops->name, ok, nvalid, det, (unsigned long long)writes,
           (unsigned long long)cycles);
    int bad_ok = 0;
    for (int i = 0; i < ninvalid; i++) {
      uint64_t seed = seed0 + 0x777777u + (uint64_t)ci * 1000003u + (uint64_t)i;
      int fault = 1 + i % (RP_NCLASSES - 1);
      char *src = randprog(&ops->hw, seed, seed, 5 + (int)(seed % 20), fault);
      pb_cosim_result_t r;
      int rc = run_src(ops, src, &r);
      if (rc || r.state != PB_STATE_ERROR) {
        CHECK(0, "%s: invalid program (class %d) seed 0x%llx: rc %d state %d", ops->name, fault,
              (unsigned long long)seed, rc, r.state);
        save_failure(src, ops->name, (unsigned long long)seed);
      } else {
        bad_ok++;
      }
      free(src);
    }
    /* host memory with wait states: same results (every write compared), more cycles, counted stalls */
    int bp_ok = 0, nbp = nvalid / 6 + 1;
    uint64_t stalls = 0;
    for (int i = 0; i < nbp; i++) {
      uint64_t seed = seed0 + 0x5555u + (uint64_t)ci * 1000003u + (uint64_t)i;
      char *src = randprog(&ops->hw, seed, seed, 10 + (int)(seed % 40), RP_VALID);
      pb_cosim_result_t r;
      int rc = run_bp(ops, src, &r, 80, seed);
      if (rc || r.state != PB_STATE_DONE) {
        CHECK(0, "%s: program seed 0x%llx with host wait states: rc %d state %d", ops->name, (unsigned long long)seed,
              rc, r.state);
        save_failure(src, ops->name, (unsigned long long)seed);
      } else {
        bp_ok++;
        stalls += r.stalls;
      }
      free(src);
    }
    CHECK(bp_ok == nbp && stalls > 0, "%s: %d of %d programs with host wait states matched the model (%llu stall cycles)",
          ops->name, bp_ok, nbp, (unsigned long long)stalls);
    printf("%s: %d/%d valid programs with host wait states (31%% not ready) identical to the model, %llu stall cycles\n",
           ops->name, bp_ok, nbp, (unsigned long long)stalls);
    CHECK(bad_ok == ninvalid, "%s: %d of %d invalid programs stopped with the model's error code and PC", ops->name,
          bad_ok, ninvalid);
    printf("%s: %d/%d invalid programs: same error code and PC as the model\n", ops->name, bad_ok, ninvalid);
  }
  return check_done();
}
