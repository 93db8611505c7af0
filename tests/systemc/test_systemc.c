/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The `systemc` backend against `ref` and `verilator`, through driver/backend.h only.
 *
 * Every program runs on four backends opened once per configuration: ref, verilator,
 * systemc with the ref model, systemc with the rtl model (the same sequence of programs on
 * each, so their scratchpads and accumulators, which persist between runs, stay identical).
 * After each run: the same status (DONE, or the error code and faulting PC), the same
 * counters, and byte-identical host memory (all of it); for systemc, the simulated time from
 * the start write to the interrupt equals cycles x the clock period exactly (rtl: its CYCLES
 * register; ref: the timing model, which must equal the ref backend's prediction).
 *
 * Programs: the hand-checkable ones (the .pbs files of tests/asm, and those the C unit tests
 * saved in PB_PROG_DUMP, default build/progs, on the configuration with their N), random valid and
 * invalid programs (tests/lib/randprog; seed printed; PB_SEED, PB_VALID, PB_INVALID override
 * the sim4 counts), the watchdog (a limit the program cannot meet, then a run on the same
 * platform), another clock period, and the open errors.
 *
 * With arguments, compiled models: test_systemc [--images X.npy] [--samples N] PROG.pbin ...
 * runs N samples (float32 images, e.g. Fashion-MNIST's build/data/test_x.npy) of each program
 * through the driver's runner on the four backends (two when N has no RTL build) and compares
 * the int8 outputs, the counters and the host memory; simulated time = cycles x period summed
 * over the runs, and cycles = the compiler's prediction.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "asm.h"
#include "backend.h"
#include "check.h"
#include "npy.h"
#include "pb_systemc.h"
#include "protobrain/isa.h"
#include "randprog.h"
#include "runner.h"

enum { B_REF, B_VL, B_SC_REF, B_SC_RTL, NB };
static const char *const kName[NB] = {"ref", "verilator", "systemc/ref", "systemc/rtl"};

typedef struct {
  const char *cfg;
  pb_hw_t hw;
  pb_backend_t *b[NB];
  double wall[NB];
  uint64_t runs, cycles, errors;
} plat_t;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int open_all(plat_t *p, const char *cfg, pb_hw_t hw) {
  memset(p, 0, sizeof *p);
  p->cfg = cfg;
  p->hw = hw;
  for (int k = 0; k < NB; k++) {
    char err[512];
    pb_backend_opts_t o = {0};
    o.model = k == B_SC_RTL ? "rtl" : "ref";
    int rc = pb_backend_open(k >= B_SC_REF ? "systemc" : kName[k], &hw, &o, &p->b[k], err, sizeof err);
    CHECK(rc == 0, "%s: open %s: %s", cfg, kName[k], err);
    if (rc) return -1;
  }
  return 0;
}

static void close_all(plat_t *p) {
  for (int k = 0; k < NB; k++)
    if (p->b[k]) p->b[k]->close(p->b[k]);
}

/* A program's .hw line is replaced by the configuration's. */
static char *with_hw(const char *src, const pb_hw_t *hw) {
  const char *body = src, *h = strstr(src, ".hw ");
  if (h) {
    body = strchr(h, '\n');
    body = body ? body + 1 : h + strlen(h);
  }
  size_t len = strlen(body) + 128;
  char *out = malloc(len);
  snprintf(out, len, ".hw n=%u sp_rows=%u acc_rows=%u host_bytes=%u\n%s", hw->n, hw->sp_rows, hw->acc_rows,
           hw->host_bytes, body);
  return out;
}

typedef void (*prep_fn)(uint8_t *host, const pb_program_t *prog);

/*
 * Run `src` on every backend and compare. Returns 1 when all four agree, 0 otherwise (reported);
 * *st_out gets the ref backend's status.
 */
static int run_all(plat_t *p, const char *src, const char *what, prep_fn prep, pb_run_status_t *st_out, int verbose) {
  char err[512];
  pb_program_t prog;
  if (pb_asm(src, what, &prog, err, sizeof err)) {
    CHECK(0, "%s: %s: assembly failed: %s", p->cfg, what, err);
    return 0;
  }
  pb_run_status_t st[NB];
  int rc[NB], ok = 1;
  for (int k = 0; k < NB; k++) {
    pb_backend_t *b = p->b[k];
    memset(b->host, 0, p->hw.host_bytes);
    if (pb_backend_load(b, &prog, err, sizeof err)) {
      CHECK(0, "%s: %s: load on %s: %s", p->cfg, what, kName[k], err);
      pb_program_free(&prog);
      return 0;
    }
    if (prep) prep(b->host, &prog);
    double t = now_s();
    rc[k] = b->run(b, prog.code_addr, prog.code_len, &st[k], err, sizeof err);
    p->wall[k] += now_s() - t;
    if (rc[k]) {
      fprintf(stderr, "FAIL %s: %s on %s: %s\n", p->cfg, what, kName[k], err);
      ok = 0;
    }
  }
  if (ok) {
    for (int k = 1; k < NB; k++) {
      const pb_run_status_t *a = &st[B_REF], *s = &st[k];
      if (s->done != a->done || (!a->done && (s->err != a->err || s->fault_pc != a->fault_pc))) {
        fprintf(stderr, "FAIL %s: %s: %s stopped %s %s at pc %u, ref %s %s at pc %u\n", p->cfg, what, kName[k],
                s->done ? "DONE" : "ERROR", pb_isa_error_name(s->err), s->fault_pc, a->done ? "DONE" : "ERROR",
                pb_isa_error_name(a->err), a->fault_pc);
        ok = 0;
      }
      if (s->cnt.cycles != a->cnt.cycles || s->cnt.instrs != a->cnt.instrs || s->cnt.dma_bytes != a->cnt.dma_bytes ||
          s->cnt.array_busy != a->cnt.array_busy || s->cnt.stalls != 0) {
        fprintf(stderr,
                "FAIL %s: %s: %s counters cycles %llu instrs %llu dma %llu busy %llu stalls %llu, ref %llu %llu %llu "
                "%llu\n",
                p->cfg, what, kName[k], (unsigned long long)s->cnt.cycles, (unsigned long long)s->cnt.instrs,
                (unsigned long long)s->cnt.dma_bytes, (unsigned long long)s->cnt.array_busy,
                (unsigned long long)s->cnt.stalls, (unsigned long long)a->cnt.cycles, (unsigned long long)a->cnt.instrs,
                (unsigned long long)a->cnt.dma_bytes, (unsigned long long)a->cnt.array_busy);
        ok = 0;
      }
      const uint8_t *x = p->b[B_REF]->host, *y = p->b[k]->host;
      if (memcmp(x, y, p->hw.host_bytes) != 0) {
        uint32_t i = 0;
        while (x[i] == y[i]) i++;
        fprintf(stderr, "FAIL %s: %s: host memory of %s differs first at 0x%x: 0x%02x, ref 0x%02x\n", p->cfg, what,
                kName[k], i, y[i], x[i]);
        ok = 0;
      }
    }
    for (int k = B_SC_REF; k < NB; k++) {
      pb_systemc_info_t in;
      if (pb_systemc_info(p->b[k], &in) || in.time_ps != st[k].cnt.cycles * in.period_ps ||
          in.time_ps != st[B_REF].cnt.cycles * in.period_ps) {
        fprintf(stderr, "FAIL %s: %s: %s simulated %llu ps for %llu cycles of %llu ps (timing model: %llu cycles)\n",
                p->cfg, what, kName[k], (unsigned long long)in.time_ps, (unsigned long long)st[k].cnt.cycles,
                (unsigned long long)in.period_ps, (unsigned long long)st[B_REF].cnt.cycles);
        ok = 0;
      }
    }
  }
  if (ok) {
    p->runs++;
    p->cycles += st[B_REF].cnt.cycles;
    if (!st[B_REF].done) p->errors++;
    if (verbose) {
      pb_systemc_info_t r, t;
      pb_systemc_info(p->b[B_SC_REF], &r);
      pb_systemc_info(p->b[B_SC_RTL], &t);
      printf("  %-60.60s %s %-14s pc %4u  %7llu cycles: rtl %llu ns, ref %llu ns\n", what,
             st[0].done ? "DONE " : "ERROR", st[0].done ? "" : pb_isa_error_name(st[0].err), st[0].fault_pc,
             (unsigned long long)st[0].cnt.cycles, (unsigned long long)(t.time_ps / 1000),
             (unsigned long long)(r.time_ps / 1000));
    }
  }
  CHECK(ok, "%s: %s: the backends disagree (details above)", p->cfg, what);
  if (st_out) *st_out = st[B_REF];
  pb_program_free(&prog);
  return ok;
}

static char *read_text(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *s = malloc((size_t)n + 1);
  if (s && fread(s, 1, (size_t)n, f) != (size_t)n) n = 0;
  if (s) s[n] = 0;
  fclose(f);
  return s;
}

/* x = [1 2; 3 -4] at the input tensor of tests/asm/matmul2x2.pbs */
static void prep_matmul2x2(uint8_t *host, const pb_program_t *prog) {
  static const int8_t x[4] = {1, 2, 3, -4};
  for (uint32_t i = 0; i < prog->n_tensors; i++)
    if (prog->tensors[i].kind == PB_TENSOR_INPUT) memcpy(host + prog->tensors[i].host_addr, x, 4);
}

static plat_t *plat_for(plat_t *ps, int np, unsigned n) {
  for (int i = 0; i < np; i++)
    if (ps[i].hw.n == n) return &ps[i];
  return NULL;
}

/* Programs from a directory of .pbs files, each on the configuration with its N. */
static void run_dir(plat_t *ps, int np, const char *dir, int verbose, int *ran, int *agreed, int *skipped) {
  DIR *d = opendir(dir);
  if (!d) return;
  struct dirent *de;
  char *names[1024];
  int nn = 0;
  while ((de = readdir(d)) != NULL && nn < 1024) {
    size_t l = strlen(de->d_name);
    if (l > 4 && !strcmp(de->d_name + l - 4, ".pbs")) names[nn++] = strdup(de->d_name);
  }
  closedir(d);
  for (int i = 0; i < nn; i++) /* a fixed order: the backends' SRAMs carry over from program to program */
    for (int j = i + 1; j < nn; j++)
      if (strcmp(names[i], names[j]) > 0) {
        char *t = names[i];
        names[i] = names[j];
        names[j] = t;
      }
  for (int i = 0; i < nn; i++) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    char *src = read_text(path);
    unsigned n = 0;
    const char *h = src ? strstr(src, ".hw ") : NULL;
    plat_t *p = h && sscanf(h, ".hw n=%u", &n) == 1 ? plat_for(ps, np, n) : NULL;
    if (!p) {
      ++*skipped;
    } else {
      char *s = with_hw(src, &p->hw);
      ++*ran;
      *agreed += run_all(p, s, path, strstr(names[i], "matmul2x2") ? prep_matmul2x2 : NULL, NULL, verbose);
      free(s);
    }
    free(src);
    free(names[i]);
  }
}

static void random_programs(plat_t *p, uint64_t seed0, int nvalid, int ninvalid) {
  int ok = 0, bad_ok = 0;
  for (int i = 0; i < nvalid; i++) {
    uint64_t seed = seed0 + (uint64_t)p->hw.n * 1000003u + (uint64_t)i;
    char *src = randprog(&p->hw, seed, seed, 10 + (int)(seed % 50), RP_VALID);
    char what[64];
    snprintf(what, sizeof what, "random valid seed 0x%llx", (unsigned long long)seed);
    pb_run_status_t st;
    if (run_all(p, src, what, NULL, &st, 0) && st.done) ok++;
    free(src);
  }
  for (int i = 0; i < ninvalid; i++) {
    uint64_t seed = seed0 + 0x777777u + (uint64_t)p->hw.n * 1000003u + (uint64_t)i;
    int fault = 1 + i % (RP_NCLASSES - 1);
    char *src = randprog(&p->hw, seed, seed, 5 + (int)(seed % 20), fault);
    char what[64];
    snprintf(what, sizeof what, "random invalid (class %d) seed 0x%llx", fault, (unsigned long long)seed);
    pb_run_status_t st;
    if (run_all(p, src, what, NULL, &st, 0) && !st.done) bad_ok++;
    free(src);
  }
  CHECK(ok == nvalid, "%s: %d of %d random valid programs identical on all backends", p->cfg, ok, nvalid);
  CHECK(bad_ok == ninvalid, "%s: %d of %d random invalid programs stop with the same error and PC", p->cfg, bad_ok,
        ninvalid);
  printf("%s: random programs (seed 0x%llx): %d/%d valid and %d/%d invalid identical on %s, %s, %s, %s\n", p->cfg,
         (unsigned long long)seed0, ok, nvalid, bad_ok, ninvalid, kName[0], kName[1], kName[2], kName[3]);
}

static const char *kMatmul2x2 = "tests/asm/matmul2x2.pbs";

/* A watchdog limit the program cannot meet: an error, not a hang; the platform then runs again. */
static void watchdog(const pb_hw_t *hw, const char *cfg) {
  char *src = read_text(kMatmul2x2);
  CHECK(src != NULL, "cannot read %s", kMatmul2x2);
  if (!src) return;
  char *s = with_hw(src, hw);
  char halt[128];
  snprintf(halt, sizeof halt, ".hw n=%u sp_rows=%u acc_rows=%u host_bytes=%u\nHALT\n", hw->n, hw->sp_rows,
           hw->acc_rows, hw->host_bytes);
  const char *models[2] = {"ref", "rtl"};
  for (int m = 0; m < 2; m++) {
    char err[512];
    pb_backend_opts_t o = {0};
    o.model = models[m];
    o.max_cycles = 10;
    pb_backend_t *b;
    if (pb_backend_open("systemc", hw, &o, &b, err, sizeof err)) {
      CHECK(0, "%s: open systemc/%s: %s", cfg, models[m], err);
      continue;
    }
    pb_program_t p, h;
    pb_run_status_t st;
    if (pb_asm(s, "matmul2x2", &p, err, sizeof err) || pb_asm(halt, "halt", &h, err, sizeof err)) {
      CHECK(0, "assembly: %s", err);
      b->close(b);
      continue;
    }
    double t = now_s();
    int rc = pb_backend_load(b, &p, err, sizeof err) || b->run(b, p.code_addr, p.code_len, &st, err, sizeof err);
    t = now_s() - t;
    CHECK(rc != 0 && strstr(err, "watchdog"), "%s: systemc/%s with a 10-cycle watchdog: rc %d, '%s'", cfg,
          models[m], rc, err);
    printf("%s: systemc/%s, matmul2x2 with a 10-cycle watchdog: \"%s\" (%.3f s)\n", cfg, models[m], err, t);
    rc = pb_backend_load(b, &h, err, sizeof err) || b->run(b, h.code_addr, h.code_len, &st, err, sizeof err);
    pb_systemc_info_t in;
    pb_systemc_info(b, &in);
    CHECK(rc == 0 && st.done && st.cnt.cycles <= 10 && in.time_ps == st.cnt.cycles * in.period_ps,
          "%s: systemc/%s: HALT after the watchdog: rc %d (%s) done %d cycles %llu", cfg, models[m], rc, rc ? err : "",
          st.done, (unsigned long long)st.cnt.cycles);
    printf("%s: systemc/%s, then HALT on the same platform: %s, %llu cycles, %llu ps\n", cfg, models[m],
           st.done ? "DONE" : "ERROR", (unsigned long long)st.cnt.cycles, (unsigned long long)in.time_ps);
    pb_program_free(&p);
    pb_program_free(&h);
    b->close(b);
  }
  free(s);
  free(src);
}

/* Another clock period: time = cycles x period still exact; the outputs of matmul2x2 checked by hand. */
static void other_period(const pb_hw_t *hw, const char *cfg) {
  setenv("PB_SYSTEMC_PERIOD_PS", "3333", 1);
  char *src = read_text(kMatmul2x2);
  char *s = src ? with_hw(src, hw) : NULL;
  const char *models[2] = {"ref", "rtl"};
  for (int m = 0; s && m < 2; m++) {
    char err[512];
    pb_backend_opts_t o = {0};
    o.model = models[m];
    pb_backend_t *b;
    pb_program_t p;
    pb_run_status_t st;
    if (pb_backend_open("systemc", hw, &o, &b, err, sizeof err)) {
      CHECK(0, "%s: open: %s", cfg, err);
      continue;
    }
    int rc = pb_asm(s, "matmul2x2", &p, err, sizeof err);
    if (!rc) {
      rc = pb_backend_load(b, &p, err, sizeof err);
      if (!rc) prep_matmul2x2(b->host, &p);
      rc = rc || b->run(b, p.code_addr, p.code_len, &st, err, sizeof err);
    }
    pb_systemc_info_t in;
    pb_systemc_info(b, &in);
    CHECK(rc == 0 && st.done && in.period_ps == 3333 && in.time_ps == st.cnt.cycles * 3333,
          "%s: systemc/%s at 3333 ps: rc %d (%s) time %llu ps for %llu cycles", cfg, models[m], rc, rc ? err : "",
          (unsigned long long)in.time_ps, (unsigned long long)st.cnt.cycles);
    if (!rc) {
      const int8_t want[4] = {29, 0, 0, 30}; /* relu(x.W + b), worked by hand in the .pbs */
      uint32_t y = 0;
      for (uint32_t i = 0; i < p.n_tensors; i++)
        if (p.tensors[i].kind == PB_TENSOR_OUTPUT) y = p.tensors[i].host_addr;
      CHECK(y && !memcmp(b->host + y, want, 4), "%s: systemc/%s: matmul2x2 y = %d %d %d %d, expected 29 0 0 30", cfg,
            models[m], (int8_t)b->host[y], (int8_t)b->host[y + 1], (int8_t)b->host[y + 2], (int8_t)b->host[y + 3]);
      printf("%s: systemc/%s at 3333 ps: matmul2x2 y = [%d %d; %d %d], %llu cycles = %llu ps simulated\n", cfg,
             models[m], (int8_t)b->host[y], (int8_t)b->host[y + 1], (int8_t)b->host[y + 2], (int8_t)b->host[y + 3],
             (unsigned long long)st.cnt.cycles, (unsigned long long)in.time_ps);
      pb_program_free(&p);
    }
    b->close(b);
  }
  unsetenv("PB_SYSTEMC_PERIOD_PS");
  free(s);
  free(src);
}

static void open_errors(const pb_hw_t *sim4) {
  char err[512];
  pb_backend_t *b = NULL;
  pb_backend_opts_t o = {0};
  o.model = "gate-level";
  CHECK(pb_backend_open("systemc", sim4, &o, &b, err, sizeof err) != 0 && strstr(err, "unknown model"),
        "unknown model refused: %s", err);
  pb_hw_t n8 = {8, 256, 256, 65536, 0};
  o.model = "rtl";
  CHECK(pb_backend_open("systemc", &n8, &o, &b, err, sizeof err) != 0 && strstr(err, "no RTL build") &&
            strstr(err, "sim4"),
        "rtl for an unbuilt configuration refused, naming the built ones: %s", err);
  printf("open errors: \"%s\"\n", err);
  /* the ref model runs any configuration */
  o.model = "ref";
  int rc = pb_backend_open("systemc", &n8, &o, &b, err, sizeof err);
  CHECK(rc == 0, "systemc/ref for n=8: %s", err);
  if (!rc) b->close(b);
}

/* Compiled models through the runner (steps, host operators) on every backend. */
static void models(int argc, char **argv) {
  const char *images = "build/data/test_x.npy";
  int samples = 4;
  pb_npy_t x;
  int have_x = 0;
  memset(&x, 0, sizeof x);
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--images") && i + 1 < argc) {
      images = argv[++i];
      continue;
    }
    if (!strcmp(argv[i], "--samples") && i + 1 < argc) {
      samples = atoi(argv[++i]);
      continue;
    }
    char err[512];
    if (!have_x) {
      int rc = pb_npy_read(images, &x, err, sizeof err);
      CHECK(rc == 0 && x.dtype == PB_DT_FLOAT32, "images %s: %s", images, rc ? err : "not float32");
      if (rc || x.dtype != PB_DT_FLOAT32) return;
      have_x = 1;
    }
    pb_program_t p;
    pb_error_t e;
    if (pb_program_load(argv[i], &p, &e)) {
      CHECK(0, "%s: %s", argv[i], e.msg);
      continue;
    }
    const pb_tensor_t *tin = NULL, *tout = NULL;
    for (uint32_t t = 0; t < p.n_tensors; t++) {
      if (p.tensors[t].kind == PB_TENSOR_INPUT && !tin) tin = &p.tensors[t];
      if (p.tensors[t].kind == PB_TENSOR_OUTPUT && !tout) tout = &p.tensors[t];
    }
    pb_backend_t *b[NB] = {0};
    pb_runner_t *r[NB] = {0};
    pb_runner_stats_t st[NB];
    int8_t *y[NB] = {0};
    double wall[NB] = {0};
    int ok = tin && tout && tout->dtype == PB_DT_INT8, nk = 0;
    CHECK(ok, "%s: one int8 output and one input expected", argv[i]);
    uint64_t out_elems = 0;
    for (int k = 0; ok && k < NB; k++) {
      pb_backend_opts_t o = {0};
      o.model = k == B_SC_RTL ? "rtl" : "ref";
      if (pb_backend_open(k >= B_SC_REF ? "systemc" : kName[k], &p.hw, &o, &b[k], err, sizeof err)) {
        b[k] = NULL;
        if ((k == B_VL || k == B_SC_RTL) && strstr(err, "no RTL build")) continue; /* N without an RTL build */
        CHECK(0, "%s: open %s: %s", argv[i], kName[k], err);
        ok = 0;
        break;
      }
      if (pb_runner_open(&p, b[k], &r[k], err, sizeof err)) {
        CHECK(0, "%s: runner on %s: %s", argv[i], kName[k], err);
        ok = 0;
        break;
      }
      uint64_t batch = pb_runner_batch(r[k]);
      uint64_t n = ((uint64_t)samples + batch - 1) / batch * batch;
      uint64_t in_elems = n * pb_runner_sample_elems(r[k], tin);
      out_elems = n * pb_runner_sample_elems(r[k], tout);
      if (in_elems > x.count) {
        CHECK(0, "%s: %s holds %llu values, %llu needed", argv[i], images, (unsigned long long)x.count,
              (unsigned long long)in_elems);
        ok = 0;
        break;
      }
      y[k] = calloc(out_elems, 1);
      pb_runner_io_t in = {tin->name, PB_DT_FLOAT32, x.data}, out = {tout->name, PB_DT_INT8, y[k]};
      double t = now_s();
      if (pb_runner_run(r[k], n, &in, 1, &out, 1, &st[k], err, sizeof err)) {
        CHECK(0, "%s: run on %s: %s", argv[i], kName[k], err);
        ok = 0;
        break;
      }
      wall[k] = now_s() - t;
      nk++;
    }
    if (ok) {
      for (int k = 1; k < NB; k++) {
        if (!b[k]) continue;
        CHECK(!memcmp(y[k], y[B_REF], out_elems), "%s: outputs of %s differ from ref", argv[i], kName[k]);
        CHECK(!memcmp(b[k]->host, b[B_REF]->host, p.hw.host_bytes), "%s: host memory of %s differs from ref", argv[i],
              kName[k]);
        CHECK(st[k].cnt.cycles == st[B_REF].cnt.cycles && st[k].cnt.instrs == st[B_REF].cnt.instrs &&
                  st[k].cnt.dma_bytes == st[B_REF].cnt.dma_bytes && st[k].cnt.array_busy == st[B_REF].cnt.array_busy,
              "%s: counters of %s differ from ref (cycles %llu vs %llu)", argv[i], kName[k],
              (unsigned long long)st[k].cnt.cycles, (unsigned long long)st[B_REF].cnt.cycles);
      }
      CHECK(st[B_REF].cnt.cycles == st[B_REF].predicted, "%s: ref cycles %llu, predicted %llu", argv[i],
            (unsigned long long)st[B_REF].cnt.cycles, (unsigned long long)st[B_REF].predicted);
      uint64_t per = st[B_REF].samples ? out_elems / st[B_REF].chunks / pb_runner_batch(r[B_REF]) : 0;
      printf("%s: n=%u, %llu samples in %llu runs, %llu cycles (predicted %llu); int8 outputs of sample 0:", argv[i],
             p.hw.n, (unsigned long long)st[B_REF].samples, (unsigned long long)st[B_REF].chunks,
             (unsigned long long)st[B_REF].cnt.cycles, (unsigned long long)st[B_REF].predicted);
      for (uint64_t j = 0; j < per; j++) printf(" %d", y[B_REF][j]);
      printf("\n");
      for (int k = B_SC_REF; k < NB; k++) {
        pb_systemc_info_t in;
        if (!b[k]) continue;
        CHECK(pb_systemc_info(b[k], &in) == 0 && in.total_ps == st[k].cnt.cycles * in.period_ps,
              "%s: %s simulated %llu ps for %llu cycles", argv[i], kName[k], (unsigned long long)in.total_ps,
              (unsigned long long)st[k].cnt.cycles);
        printf("  %-12s identical; simulated %.3f us = %llu cycles x %llu ps in %llu runs; wall %.2f s\n", kName[k],
               (double)in.total_ps / 1e6, (unsigned long long)st[k].cnt.cycles, (unsigned long long)in.period_ps,
               (unsigned long long)in.runs, wall[k]);
      }
      printf("  (%d backends; wall ref %.2f s, verilator %.2f s)\n", nk, wall[B_REF], wall[B_VL]);
    }
    for (int k = 0; k < NB; k++) {
      if (r[k]) pb_runner_close(r[k]);
      if (b[k]) b[k]->close(b[k]);
      free(y[k]);
    }
    pb_program_free(&p);
  }
  if (have_x) pb_npy_free(&x);
}

int main(int argc, char **argv) {
  check_init("test_systemc");
  if (argc > 1) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    models(argc, argv);
    return check_done();
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  const pb_hw_t sim4 = {4, 1024, 512, 1048576, 0}, sim16 = {16, 16384, 4096, 4194304, 0};
  uint64_t seed0 = 0x5c0de000ull;
  int nvalid = 200, ninvalid = 54;
  if (getenv("PB_SEED")) seed0 = strtoull(getenv("PB_SEED"), NULL, 0);
  if (getenv("PB_VALID")) nvalid = atoi(getenv("PB_VALID"));
  if (getenv("PB_INVALID")) ninvalid = atoi(getenv("PB_INVALID"));
  double t0 = now_s();

  plat_t ps[2];
  int np = 0;
  if (open_all(&ps[np], "sim4", sim4) == 0) np++;
  if (open_all(&ps[np], "sim16", sim16) == 0) np++;

  /* hand-checkable programs */
  int ran = 0, agreed = 0, skipped = 0;
  printf("hand-checkable programs (cycles; simulated time of systemc/rtl and systemc/ref at 10 ns):\n");
  run_dir(ps, np, "tests/asm", 1, &ran, &agreed, &skipped);
  const char *dump = getenv("PB_PROG_DUMP") ? getenv("PB_PROG_DUMP") : "build/progs";
  run_dir(ps, np, dump, 1, &ran, &agreed, &skipped);
  CHECK(ran > 0 && agreed == ran, "%d of %d hand-checkable programs identical on all backends", agreed, ran);
  printf("hand-checkable: %d programs (tests/asm, %s), %d identical on all four backends, %d skipped (N without an "
         "RTL build)\n", ran, dump, agreed, skipped);

  /* random programs: mostly on sim4, a few on sim16 */
  for (int i = 0; i < np; i++)
    random_programs(&ps[i], seed0, ps[i].hw.n == 4 ? nvalid : nvalid / 8, ps[i].hw.n == 4 ? ninvalid : 18);

  for (int i = 0; i < np; i++) {
    plat_t *p = &ps[i];
    printf("%s: %llu runs compared (%llu ended in an accelerator error), %llu cycles; wall time ref %.2f s, verilator "
           "%.2f s, systemc/ref %.2f s, systemc/rtl %.2f s\n",
           p->cfg, (unsigned long long)p->runs, (unsigned long long)p->errors, (unsigned long long)p->cycles,
           p->wall[0], p->wall[1], p->wall[2], p->wall[3]);
    close_all(p);
  }

  watchdog(&sim4, "sim4");
  other_period(&sim4, "sim4");
  other_period(&sim16, "sim16");
  open_errors(&sim4);
  printf("test_systemc: %.1f s\n", now_s() - t0);
  return check_done();
}
