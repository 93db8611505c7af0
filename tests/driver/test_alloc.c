/* SPDX-License-Identifier: Apache-2.0 */
/*
 * "A run allocates nothing" (include/protobrain/protobrain.h), counted.
 *   test_alloc DIR      (tests/driver/test_alloc.sh prepares DIR, as for test_api)
 * This executable defines malloc, calloc, realloc, free, posix_memalign, aligned_alloc, memalign,
 * valloc and pvalloc, forwarding to glibc's __libc_* functions. Being in the executable, they are
 * what every call in the process binds to: build/libprotobrain.so (linked dynamically), libstdc++'s
 * operator new inside the Verilated model, glibc's own stdio. While counting is on, every call is
 * counted. Checked, for the ref and verilator backends, for a compiled model without host steps
 * (mlp_w1, N=4) and one with three (the MLP with Softmax and ArgMax): zero allocations and zero
 * frees in pb_set_input + pb_run + pb_get_output + pb_get_perf, over several runs of several
 * chunks (the last one partial). Positive controls: a malloc of the test itself, libstdc++'s
 * operator new called directly (exactly one allocation and one free: C++ allocations are seen),
 * pb_reserve (the library's own allocations, from the shared object) and pb_open of the verilator
 * backend are counted.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "protobrain/protobrain.h"

extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);
extern void __libc_free(void *p);
extern void *__libc_memalign(size_t align, size_t n);
extern void *__libc_valloc(size_t n);
extern void *__libc_pvalloc(size_t n);

void *memalign(size_t align, size_t n);
void *valloc(size_t n);
void *pvalloc(size_t n);

static volatile int counting;
static volatile unsigned long n_alloc, n_free;

void *malloc(size_t n) {
  if (counting) n_alloc++;
  return __libc_malloc(n);
}
void *calloc(size_t n, size_t size) {
  if (counting) n_alloc++;
  return __libc_calloc(n, size);
}
void *realloc(void *p, size_t n) {
  if (counting) n_alloc++;
  return __libc_realloc(p, n);
}
void free(void *p) {
  if (counting && p) n_free++;
  __libc_free(p);
}
int posix_memalign(void **out, size_t align, size_t n) {
  if (counting) n_alloc++;
  void *p = __libc_memalign(align, n);
  if (!p) return ENOMEM;
  *out = p;
  return 0;
}
void *aligned_alloc(size_t align, size_t n) {
  if (counting) n_alloc++;
  return __libc_memalign(align, n);
}
void *memalign(size_t align, size_t n) {
  if (counting) n_alloc++;
  return __libc_memalign(align, n);
}
void *valloc(size_t n) {
  if (counting) n_alloc++;
  return __libc_valloc(n);
}
void *pvalloc(size_t n) {
  if (counting) n_alloc++;
  return __libc_pvalloc(n);
}

static void count_start(void) {
  n_alloc = n_free = 0;
  counting = 1;
}
static void count_stop(void) { counting = 0; }

static const char *dir;
static const char *path(const char *name) {
  static char buf[512];
  snprintf(buf, sizeof buf, "%s/%s", dir, name);
  return buf;
}

static float *images; /* 13 x 784 */
#define IMAGES 13

/* Load prog on backend, reserve `max` samples, then count `runs` runs of set/run/get. */
static void check_runs(const char *backend, const char *prog, const char *what, uint64_t max, int runs) {
  pb_ctx_t *c = NULL;
  if (pb_open(backend, NULL, &c) != PB_OK || pb_load_file(c, path(prog)) != PB_OK) {
    CHECK(0, "%s %s: %s", backend, prog, c ? pb_last_error(c) : pb_last_error(NULL));
    pb_close(c);
    return;
  }
  pb_program_info_t pi;
  pb_get_info(c, &pi);
  count_start();
  pb_status_t st = pb_reserve(c, max);
  count_stop();
  CHECK(st == PB_OK && n_alloc > 0, "positive control: pb_reserve(%llu) is counted: %lu allocations",
        (unsigned long long)max, n_alloc);
  pb_tensor_info_t in, out[4];
  pb_input_info(c, 0, &in);
  int nout = pi.n_outputs < 4 ? pi.n_outputs : 4;
  for (int i = 0; i < nout; i++) pb_output_info(c, i, &out[i]);
  static uint8_t obuf[4][IMAGES * 10 * 8];
  unsigned long allocs = 0, frees = 0;
  uint64_t samples = 0, chunks = 0;
  int fails = 0;
  count_start();
  for (int r = 0; r < runs; r++) {
    uint64_t n = max > 1 ? max - (uint64_t)r % 2 : 1; /* alternate: a full last chunk or not */
    fails += pb_set_input(c, NULL, PB_FLOAT32, images + r, n * in.sample_elems * sizeof(float), n) != PB_OK;
    fails += pb_run(c) != PB_OK;
    for (int i = 0; i < nout; i++) {
      pb_datatype_t dt = out[i].is_float ? PB_FLOAT32 : out[i].dtype;
      fails += pb_get_output(c, out[i].name, dt, obuf[i], sizeof obuf[i]) != PB_OK;
    }
    pb_perf_t pf;
    fails += pb_get_perf(c, &pf) != PB_OK;
    samples += pf.samples;
    chunks += pf.runs;
  }
  count_stop();
  allocs = n_alloc;
  frees = n_free;
  CHECK(fails == 0, "%s %s: every call succeeded (%s)", backend, prog, pb_last_error(c));
  CHECK(allocs == 0 && frees == 0,
        "%s, %s (%s, batch %llu): %d x (pb_set_input, pb_run, pb_get_output x %d, pb_get_perf): %llu samples in "
        "%llu accelerator runs: %lu allocations, %lu frees (want 0, 0)",
        backend, prog, what, (unsigned long long)pi.batch, runs, nout, (unsigned long long)samples,
        (unsigned long long)chunks, allocs, frees);
  printf("%s %-10s %-30s %llu samples in %llu accelerator runs (%u host steps each): %lu allocations, %lu frees\n",
         backend, prog, what, (unsigned long long)samples, (unsigned long long)chunks, pi.host_steps, allocs, frees);
  pb_close(c);
}

int main(int argc, char **argv) {
  check_init("test_alloc");
  if (argc != 2) {
    fprintf(stderr, "usage: test_alloc DIR\n");
    return 2;
  }
  dir = argv[1];
  /* positive control 1: the test's own malloc and free are counted */
  count_start();
  void *volatile p = malloc(32);
  free(p);
  count_stop();
  CHECK(n_alloc == 1 && n_free == 1, "positive control: a malloc and a free of the test: %lu, %lu", n_alloc, n_free);
  /* positive control 1b: libstdc++'s operator new / delete (what the Verilated model allocates with) go through
   * the malloc and free above: one each */
  void *cxx = dlopen("libstdc++.so.6", RTLD_NOW); /* already loaded: libprotobrain.so needs it */
  void *(*op_new)(size_t) = NULL;
  void (*op_delete)(void *) = NULL;
  if (cxx) {
    *(void **)&op_new = dlsym(cxx, "_Znwm");   /* operator new(std::size_t) */
    *(void **)&op_delete = dlsym(cxx, "_ZdlPv"); /* operator delete(void *) */
  }
  CHECK(op_new && op_delete, "libstdc++'s operator new and delete found: %s", cxx ? "yes" : dlerror());
  if (op_new && op_delete) {
    count_start();
    void *volatile q = op_new(48);
    op_delete(q);
    count_stop();
    CHECK(n_alloc == 1 && n_free == 1, "positive control: C++ operator new and delete are counted: %lu, %lu", n_alloc,
          n_free);
  }

  FILE *f = fopen(path("x.f32"), "rb");
  images = malloc(IMAGES * 784 * sizeof(float));
  CHECK(f && fread(images, sizeof(float), IMAGES * 784, f) == IMAGES * 784, "read %s", path("x.f32"));
  if (f) fclose(f);

  /* positive control 2: the Verilated model's C++ allocations are seen */
  pb_hw_params_t sim4 = {4, 1024, 512, 1048576, 0};
  pb_options_t o = PB_OPTIONS_INIT;
  o.hw = &sim4;
  pb_ctx_t *c = NULL;
  count_start();
  pb_status_t st = pb_open("verilator", &o, &c);
  count_stop();
  CHECK(st == PB_OK && n_alloc > 2, "positive control: pb_open(verilator) is counted: %lu allocations", n_alloc);
  pb_close(c);

  const char *backends[2] = {"ref", "verilator"};
  for (int b = 0; b < 2; b++) {
    check_runs(backends[b], "mlp4.pbin", "mlp_w1, no host steps", 5, 4);  /* batch 2: 3 runs per call */
    check_runs(backends[b], "head4.pbin", "MLP + Softmax + ArgMax", 7, 4); /* batch 4: 2 runs per call */
  }
  check_runs("ref", "mm.pbin", "2x2 example, no batch axis", 1, 3);

  /* for the record (a documented exception): lock-step co-simulation allocates per run */
  pb_options_t oc = PB_OPTIONS_INIT;
  oc.cosim = 1;
  if (pb_open("verilator", &oc, &c) == PB_OK && pb_load_file(c, path("mm.pbin")) == PB_OK) {
    int8_t x[4] = {1, 2, 3, -4};
    pb_set_input(c, NULL, PB_INT8, x, 4, 1);
    count_start();
    st = pb_run(c);
    count_stop();
    printf("verilator with cosim (a debugging mode, not promised): one run of mm.pbin: %lu allocations (%s)\n",
           n_alloc, pb_status_str(st));
  }
  pb_close(c);
  free(images);
  return check_done();
}
