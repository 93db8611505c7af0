/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The public library (include/protobrain/protobrain.h) through its own header only.
 *   test_api DIR      (tests/driver/test_api.sh prepares DIR)
 * Error paths: every one checks the status AND that the message names the thing (function,
 * tensor, file, both hardware sets...). Results: a hand-checked 2x2 program, and the Fashion-MNIST
 * CNN and an MLP with host steps (Softmax, ArgMax) against onnxruntime's outputs (computed by
 * tests/driver/make_expected.py, an independent implementation), on ref and on verilator.
 */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "protobrain/protobrain.h"

#define IMAGES 13

static const char *dir;

static const char *path(const char *name) {
  static char buf[8][512];
  static int k;
  char *p = buf[k++ % 8];
  snprintf(p, 512, "%s/%s", dir, name);
  return p;
}

/* A whole file into a malloc'd buffer (NULL if it cannot be read). */
static void *slurp(const char *name, size_t *len) {
  FILE *f = fopen(path(name), "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  void *b = malloc(n > 0 ? (size_t)n : 1);
  if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
    free(b);
    b = NULL;
  }
  fclose(f);
  *len = (size_t)n;
  return b;
}

/* The status is `want` and the message holds every one of the NULL-terminated substrings. */
static void expect_(const char *file, int line, pb_status_t got, pb_status_t want, const char *msg, ...) {
  va_list ap;
  int ok = got == want;
  char missing[256] = "";
  va_start(ap, msg);
  for (const char *s; (s = va_arg(ap, const char *)) != NULL;)
    if (!strstr(msg, s) && !missing[0]) snprintf(missing, sizeof missing, "%s", s);
  va_end(ap);
  if (ok && !missing[0]) {
    check_passed++;
    return;
  }
  check_failed++;
  fprintf(stderr, "FAIL %s:%d: status %d (%s), expected %d (%s); message \"%s\"%s%s%s\n", file, line, got,
          pb_status_str(got), want, pb_status_str(want), msg, missing[0] ? " lacks \"" : "", missing,
          missing[0] ? "\"" : "");
}
#define EXPECT(got, want, ctx, ...) expect_(__FILE__, __LINE__, (got), (want), pb_last_error(ctx), __VA_ARGS__, NULL)
#define OK(call, ctx) EXPECT((call), PB_OK, ctx, "")

static pb_ctx_t *open_ok(const char *backend, const pb_options_t *o) {
  pb_ctx_t *c = NULL;
  pb_status_t st = pb_open(backend, o, &c);
  CHECK(st == PB_OK && c, "pb_open(%s): %s", backend, pb_last_error(NULL));
  return c;
}

/* ---- errors without a program, or without a context ---- */

static void test_open_errors(void) {
  pb_ctx_t *c = (pb_ctx_t *)1;
  EXPECT(pb_open("tpu", NULL, &c), PB_E_BACKEND, NULL, "pb_open", "unknown backend 'tpu'", "ref, verilator");
  CHECK(c == NULL, "a failed pb_open sets *ctx to NULL");
  EXPECT(pb_open(NULL, NULL, &c), PB_E_ARG, NULL, "pb_open", "backend name is NULL");
  EXPECT(pb_open("ref", NULL, NULL), PB_E_ARG, NULL, "pb_open", "NULL");
  pb_options_t o;
  memset(&o, 0, sizeof o);
  EXPECT(pb_open("ref", &o, &c), PB_E_ARG, NULL, "opts->size is 0", "PB_OPTIONS_INIT");
  pb_options_t o2 = PB_OPTIONS_INIT;
  o2.cosim = 1;
  EXPECT(pb_open("ref", &o2, &c), PB_E_ARG, NULL, "cosim", "verilator, not ref");
  pb_options_t o3 = PB_OPTIONS_INIT;
  o3.model = "gpu";
  EXPECT(pb_open("systemc", &o3, &c), PB_E_BACKEND, NULL, "systemc", "not built into this library");
  pb_hw_params_t bad = {0, 16, 16, 4096, 0};
  pb_options_t o4 = PB_OPTIONS_INIT;
  o4.hw = &bad;
  EXPECT(pb_open("ref", &o4, &c), PB_E_ARG, NULL, "pb_open: opts->hw", "n");
  pb_hw_params_t n8 = {8, 1024, 512, 1048576, 0};
  o4.hw = &n8;
  EXPECT(pb_open("verilator", &o4, &c), PB_E_HW_MISMATCH, NULL, "verilator", "no RTL build", "n=8", "sim4", "sim16");
  CHECK(c == NULL, "no context after a failed open");

  /* NULL contexts: PB_E_ARG, the message in pb_last_error(NULL) */
  EXPECT(pb_run(NULL), PB_E_ARG, NULL, "pb_run: ctx is NULL");
  EXPECT(pb_load_file(NULL, "x"), PB_E_ARG, NULL, "pb_load_file: ctx is NULL");
  float f = 0;
  EXPECT(pb_set_input(NULL, NULL, PB_FLOAT32, &f, 4, 1), PB_E_ARG, NULL, "pb_set_input: ctx is NULL");
  EXPECT(pb_get_output(NULL, NULL, PB_FLOAT32, &f, 4), PB_E_ARG, NULL, "pb_get_output: ctx is NULL");
  pb_close(NULL); /* ignored */
  CHECK(pb_status_str(PB_E_SHAPE) && strlen(pb_status_str((pb_status_t)99)) > 0, "pb_status_str of any value");
  CHECK(!strcmp(pb_version(), PROTOBRAIN_VERSION), "pb_version %s = header %s", pb_version(), PROTOBRAIN_VERSION);
  CHECK(pb_datatype_size(PB_INT64) == 8 && pb_datatype_size((pb_datatype_t)77) == 0, "pb_datatype_size");
}

static void test_not_loaded(void) {
  pb_ctx_t *c = open_ok("ref", NULL);
  if (!c) return;
  CHECK(pb_last_error(c)[0] == 0, "no message before any failure");
  int8_t x[4] = {0};
  pb_program_info_t pi;
  pb_tensor_info_t ti;
  pb_perf_t pf;
  EXPECT(pb_run(c), PB_E_NOT_LOADED, c, "pb_run", "no program is loaded", "pb_load_file");
  EXPECT(pb_set_input(c, "x", PB_INT8, x, 4, 1), PB_E_NOT_LOADED, c, "pb_set_input", "no program is loaded");
  EXPECT(pb_get_output(c, NULL, PB_INT8, x, 4), PB_E_NOT_LOADED, c, "pb_get_output", "no program is loaded");
  EXPECT(pb_get_info(c, &pi), PB_E_NOT_LOADED, c, "pb_get_info");
  EXPECT(pb_input_info(c, 0, &ti), PB_E_NOT_LOADED, c, "pb_input_info");
  EXPECT(pb_get_perf(c, &pf), PB_E_NOT_LOADED, c, "pb_get_perf");
  EXPECT(pb_reserve(c, 4), PB_E_NOT_LOADED, c, "pb_reserve");

  /* files and buffers that are not programs */
  EXPECT(pb_load_file(c, path("missing.pbin")), PB_E_IO, c, "pb_load_file", "cannot open", "missing.pbin",
         "No such file");
  EXPECT(pb_load_file(c, NULL), PB_E_ARG, c, "pb_load_file: path is NULL");
  EXPECT(pb_load_buffer(c, NULL, 10), PB_E_ARG, c, "pb_load_buffer: buf is NULL");
  size_t len;
  uint8_t *mm = slurp("mm.pbin", &len);
  CHECK(mm != NULL, "read mm.pbin");
  if (mm) {
    EXPECT(pb_load_buffer(c, mm, 40), PB_E_FORMAT, c, "pb_load_buffer", "not a valid program", "truncated",
           "40 bytes");
    EXPECT(pb_load_buffer(c, mm, 0), PB_E_FORMAT, c, "pb_load_buffer", "truncated");
    EXPECT(pb_load_buffer(c, mm, len - 1), PB_E_FORMAT, c, "pb_load_buffer", "file_size");
    uint8_t *bad = malloc(len);
    memcpy(bad, mm, len);
    bad[100] ^= 0x55;
    EXPECT(pb_load_buffer(c, bad, len), PB_E_FORMAT, c, "pb_load_buffer", "crc32");
    memcpy(bad, mm, len);
    bad[0] = 'X';
    EXPECT(pb_load_buffer(c, bad, len), PB_E_FORMAT, c, "magic");
    free(bad);
    EXPECT(pb_load_file(c, path("x.f32")), PB_E_FORMAT, c, "pb_load_file", "x.f32", "not a valid program");
    /* a failed load leaves no program, even after a good one */
    OK(pb_load_buffer(c, mm, len), c);
    EXPECT(pb_load_buffer(c, mm, 50), PB_E_FORMAT, c, "truncated");
    EXPECT(pb_run(c), PB_E_NOT_LOADED, c, "pb_run", "no program is loaded");
  }
  free(mm);
  pb_close(c);
}

static void test_hw_mismatch(void) {
  /* ref opened for the sim16 parameters refuses the n=4 program, naming both sets */
  pb_hw_params_t sim16 = {16, 16384, 4096, 4194304, 0};
  pb_options_t o = PB_OPTIONS_INIT;
  o.hw = &sim16;
  pb_ctx_t *c = open_ok("ref", &o);
  if (c) {
    EXPECT(pb_load_file(c, path("mm.pbin")), PB_E_HW_MISMATCH, c, "pb_load_file", "mm.pbin",
           "built for hardware n=4 sp_rows=1024 acc_rows=512 host_bytes=1048576",
           "opened for n=16 sp_rows=16384 acc_rows=4096 host_bytes=4194304");
    OK(pb_load_file(c, path("cnn16.pbin")), c); /* its own parameters are fine */
    pb_close(c);
  }
  /* verilator without fixed parameters: a program for hardware with no RTL build */
  c = open_ok("verilator", NULL);
  if (c) {
    EXPECT(pb_load_file(c, path("odd_hw.pbin")), PB_E_HW_MISMATCH, c, "pb_load_file", "odd_hw.pbin",
           "no RTL build for n=4 sp_rows=8 acc_rows=8 host_bytes=4096", "sim4 (n=4 sp_rows=1024");
    pb_close(c);
  }
  /* the requantizer lanes are part of the hardware: sim4 has 4, the program wants 1 */
  c = open_ok("verilator", NULL);
  if (c) {
    EXPECT(pb_load_file(c, path("mm_l1.pbin")), PB_E_HW_MISMATCH, c, "pb_load_file", "mm_l1.pbin",
           "no RTL build for n=4 sp_rows=1024 acc_rows=512 host_bytes=1048576 rq_lanes=1");
    OK(pb_load_file(c, path("mm.pbin")), c); /* the same program with 4 lanes runs */
    pb_close(c);
  }
  pb_hw_params_t lanes3 = {8, 1024, 512, 1048576, 3};
  o.hw = &lanes3;
  EXPECT(pb_open("ref", &o, &c), PB_E_ARG, NULL, "pb_open: opts->hw", "rq_lanes", "3");
  pb_hw_params_t sim4_l1 = {4, 1024, 512, 1048576, 1};
  o.hw = &sim4_l1;
  c = open_ok("ref", &o);
  if (c) {
    EXPECT(pb_load_file(c, path("mm.pbin")), PB_E_HW_MISMATCH, c, "pb_load_file", "mm.pbin",
           "opened for n=4 sp_rows=1024 acc_rows=512 host_bytes=1048576 rq_lanes=1");
    OK(pb_load_file(c, path("mm_l1.pbin")), c);
    pb_close(c);
  }
  /* the same programs are fine on ref, which takes any parameters; a program with other lanes
     after one with 4 gets a backend of its own */
  c = open_ok("ref", NULL);
  if (c) {
    OK(pb_load_file(c, path("odd_hw.pbin")), c);
    pb_program_info_t pi;
    OK(pb_get_info(c, &pi), c);
    CHECK(pi.hw.n == 4 && pi.hw.sp_rows == 8 && pi.hw.host_bytes == 4096 && pi.hw.rq_lanes == 0,
          "info.hw is the program's");
    OK(pb_load_file(c, path("mm.pbin")), c);
    OK(pb_load_file(c, path("mm_l1.pbin")), c);
    OK(pb_get_info(c, &pi), c);
    CHECK(pi.hw.rq_lanes == 1, "info.hw.rq_lanes %u = the program's 1", pi.hw.rq_lanes);
    pb_close(c);
  }
}

/* ---- the hand-checked 2x2 program: y = relu(x W + b), docs in README ("A worked example") ---- */

static void test_matmul2x2(const char *backend) {
  pb_ctx_t *c = open_ok(backend, NULL);
  if (!c) return;
  OK(pb_load_file(c, path("mm.pbin")), c);
  pb_program_info_t pi;
  pb_tensor_info_t ti, to;
  OK(pb_get_info(c, &pi), c);
  CHECK(pi.n_inputs == 1 && pi.n_outputs == 1 && pi.batch == 1 && pi.max_samples == 1 && pi.n_instrs == 8 &&
            pi.hw.n == 4 && !strcmp(pi.backend, backend),
        "info: %d in, %d out, batch %llu, max %llu, %u instrs, n=%u, %s", pi.n_inputs, pi.n_outputs,
        (unsigned long long)pi.batch, (unsigned long long)pi.max_samples, pi.n_instrs, pi.hw.n, pi.backend);
  OK(pb_input_info(c, 0, &ti), c);
  OK(pb_output_info(c, 0, &to), c);
  CHECK(!strcmp(ti.name, "x") && ti.dtype == PB_INT8 && ti.rank == 2 && ti.dims[0] == 2 && ti.dims[1] == 2 &&
            !ti.batched && ti.sample_elems == 4 && ti.scale == 1.0f && ti.zero_point == 0,
        "input info: %s %s rank %u", ti.name, pb_datatype_name(ti.dtype), ti.rank);
  CHECK(!strcmp(to.name, "y") && to.dtype == PB_INT8 && to.sample_elems == 4, "output info: %s", to.name);
  EXPECT(pb_input_info(c, 1, &ti), PB_E_ARG, c, "pb_input_info", "index 1 out of range", "1 input");
  EXPECT(pb_output_info(c, -1, &ti), PB_E_ARG, c, "pb_output_info", "index -1");

  int8_t x[4] = {1, 2, 3, -4}, y[4] = {0};
  const int8_t want[4] = {29, 0, 0, 30}; /* by hand: x W + b = [29 -30; -3 30], relu */
  /* out of order and bad arguments */
  EXPECT(pb_run(c), PB_E_STATE, c, "pb_run", "input 'x'", "not set");
  EXPECT(pb_get_output(c, NULL, PB_INT8, y, 4), PB_E_STATE, c, "pb_get_output", "output 'y'", "pb_run");
  pb_perf_t pf;
  EXPECT(pb_get_perf(c, &pf), PB_E_STATE, c, "pb_get_perf", "pb_run");
  EXPECT(pb_set_input(c, "z", PB_INT8, x, 4, 1), PB_E_NAME, c, "pb_set_input", "no input named 'z'", "inputs: 'x'");
  EXPECT(pb_set_input(c, "x", PB_INT32, x, 4, 1), PB_E_DTYPE, c, "pb_set_input", "input 'x' is i8; got i32",
         "give i8 or f32");
  EXPECT(pb_set_input(c, "x", PB_UINT8, x, 4, 1), PB_E_DTYPE, c, "input 'x' is i8; got u8");
  EXPECT(pb_set_input(c, "x", (pb_datatype_t)42, x, 4, 1), PB_E_DTYPE, c, "input 'x'", "dtype 42");
  EXPECT(pb_set_input(c, "x", PB_INT8, x, 3, 1), PB_E_SHAPE, c, "pb_set_input", "input 'x'", "shape (2, 2)",
         "take 4 bytes; got 3");
  EXPECT(pb_set_input(c, "x", PB_FLOAT32, x, 4, 1), PB_E_SHAPE, c, "as f32 take 16 bytes; got 4");
  EXPECT(pb_set_input(c, "x", PB_INT8, x, 8, 2), PB_E_SHAPE, c, "input 'x'", "2 samples", "no batch axis");
  EXPECT(pb_set_input(c, "x", PB_INT8, x, 0, 0), PB_E_SHAPE, c, "input 'x'", "0 samples");
  EXPECT(pb_set_input(c, NULL, PB_INT8, NULL, 4, 1), PB_E_ARG, c, "input 'x'", "data is NULL");
  EXPECT(pb_reserve(c, 2), PB_E_SHAPE, c, "pb_reserve", "no batch axis", "mm.pbin");
  EXPECT(pb_reserve(c, 0), PB_E_ARG, c, "pb_reserve", "max_samples is 0");
  EXPECT(pb_run(c), PB_E_STATE, c, "not set"); /* the failed calls set nothing */

  /* int8 in, int8 out */
  OK(pb_set_input(c, NULL, PB_INT8, x, sizeof x, 1), c);
  OK(pb_run(c), c);
  OK(pb_get_output(c, "y", PB_INT8, y, sizeof y), c);
  CHECK(!memcmp(y, want, 4), "%s: y = [%d %d; %d %d], by hand [29 0; 0 30]", backend, y[0], y[1], y[2], y[3]);
  EXPECT(pb_get_output(c, "q", PB_INT8, y, 4), PB_E_NAME, c, "pb_get_output", "no output named 'q'", "outputs: 'y'");
  EXPECT(pb_get_output(c, NULL, PB_INT8, y, 3), PB_E_SHAPE, c, "pb_get_output", "output 'y'",
         "take 4 bytes; the buffer has 3");
  EXPECT(pb_get_output(c, NULL, PB_INT64, y, 64), PB_E_DTYPE, c, "output 'y' is i8; got i64");
  EXPECT(pb_get_output(c, NULL, PB_INT8, NULL, 4), PB_E_ARG, c, "output 'y'", "data is NULL");
  float yf[4];
  OK(pb_get_output(c, NULL, PB_FLOAT32, yf, sizeof yf), c); /* scale 1, zero point 0 */
  CHECK(yf[0] == 29.0f && yf[1] == 0.0f && yf[2] == 0.0f && yf[3] == 30.0f, "dequantized: %g %g %g %g", yf[0],
        yf[1], yf[2], yf[3]);
  OK(pb_get_perf(c, &pf), c);
  CHECK(pf.instrs == 8 && pf.cycles == pf.predicted_cycles && pf.cycles > 0 && pf.runs == 1 && pf.samples == 1 &&
            pf.accel_steps == 1 && pf.host_steps == 0 && pf.array_busy == 2 && pf.stalls == 0,
        "%s perf: %llu instrs, %llu cycles (predicted %llu), busy %llu", backend, (unsigned long long)pf.instrs,
        (unsigned long long)pf.cycles, (unsigned long long)pf.predicted_cycles, (unsigned long long)pf.array_busy);
  /* float in: QuantizeLinear with scale 1, zero point 0: 1.2 -> 1, 2.5 -> 2 (half to even), -4.4 -> -4 */
  const float xf[4] = {1.2f, 2.5f, 3.0f, -4.4f};
  memset(y, 0, sizeof y);
  OK(pb_set_input(c, "x", PB_FLOAT32, xf, sizeof xf, 1), c);
  OK(pb_run(c), c);
  OK(pb_get_output(c, NULL, PB_INT8, y, sizeof y), c);
  CHECK(!memcmp(y, want, 4), "%s: float input: y = [%d %d; %d %d]", backend, y[0], y[1], y[2], y[3]);
  pb_close(c);
}

/* Two inputs, two outputs: NULL names are refused, naming the candidates. */
static void test_two_inputs(void) {
  pb_ctx_t *c = open_ok("ref", NULL);
  if (!c) return;
  OK(pb_load_file(c, path("two.pbin")), c);
  int8_t x[4] = {1, 2, 3, -4}, y[4];
  EXPECT(pb_set_input(c, NULL, PB_INT8, x, 4, 1), PB_E_NAME, c, "pb_set_input", "name NULL", "2 inputs",
         "'a', 'b'");
  OK(pb_set_input(c, "a", PB_INT8, x, 4, 1), c);
  EXPECT(pb_run(c), PB_E_STATE, c, "input 'b'", "not set");
  OK(pb_set_input(c, "b", PB_INT8, x, 4, 1), c);
  OK(pb_run(c), c);
  EXPECT(pb_get_output(c, NULL, PB_INT8, y, 4), PB_E_NAME, c, "pb_get_output", "2 outputs", "'y', 'y2'");
  OK(pb_get_output(c, "y", PB_INT8, y, 4), c);
  CHECK(y[0] == 29 && y[3] == 30, "two.pbin: y");
  pb_close(c);
}

/* An accelerator error: its name, PC and instruction. */
static void test_accel_error(const char *backend) {
  pb_ctx_t *c = open_ok(backend, NULL);
  if (!c) return;
  OK(pb_load_file(c, path("err.pbin")), c);
  EXPECT(pb_run(c), PB_E_ACCEL, c, "pb_run", "err.pbin", "SP_RANGE", "at pc 0", "LOAD", "sp_addr=1023");
  int8_t y[4];
  EXPECT(pb_get_output(c, NULL, PB_INT8, y, 4), PB_E_NAME, c, "pb_get_output", "err.pbin", "has no outputs");
  pb_close(c);
}

/* ---- compiled models against onnxruntime ---- */

typedef struct {
  float *x;       /* IMAGES x 784 */
  int8_t *cnn_q;  /* IMAGES x 10 */
  float *cnn_f;
  float *prob;
  int64_t *cls;
} expected_t;

static void progress(void *user, uint64_t done, uint64_t total) {
  uint64_t *log = user;
  if (log[0] < 7) log[1 + 2 * log[0]] = done, log[2 + 2 * log[0]] = total;
  log[0]++;
}

static void test_cnn(const char *backend, const expected_t *e, int from_buffer) {
  pb_ctx_t *c = open_ok(backend, NULL);
  if (!c) return;
  if (from_buffer) {
    size_t len;
    void *b = slurp("cnn16.pbin", &len);
    CHECK(b != NULL, "read cnn16.pbin");
    if (b) OK(pb_load_buffer(c, b, len), c);
    free(b);
  } else {
    OK(pb_load_file(c, path("cnn16.pbin")), c);
  }
  pb_program_info_t pi;
  pb_tensor_info_t ti, to;
  if (pb_get_info(c, &pi) != PB_OK || pb_input_info(c, 0, &ti) != PB_OK || pb_output_info(c, 0, &to) != PB_OK) {
    CHECK(0, "cnn16 info: %s", pb_last_error(c));
    pb_close(c);
    return;
  }
  CHECK(pi.batch == 8 && pi.max_samples == 8 && ti.batched && ti.is_float && ti.dtype == PB_INT8 &&
            ti.sample_elems == 784 && ti.rank == 4 && ti.dims[0] == 8 && to.sample_elems == 10 && to.is_float &&
            pi.macs > 0 && pi.predicted_cycles > 0,
        "cnn16 info: batch %llu, input %s", (unsigned long long)pi.batch, ti.name);
  /* 13 samples: more than the reserve, until pb_reserve */
  EXPECT(pb_set_input(c, NULL, PB_FLOAT32, e->x, IMAGES * 784 * 4, IMAGES), PB_E_SHAPE, c, "pb_set_input",
         "input 'input'", "13 samples", "at most 8", "pb_reserve");
  OK(pb_reserve(c, IMAGES), c);
  uint64_t log[15] = {0};
  OK(pb_set_progress(c, progress, log), c);
  OK(pb_set_input(c, NULL, PB_FLOAT32, e->x, IMAGES * 784 * 4, IMAGES), c);
  OK(pb_run(c), c);
  CHECK(log[0] == 2 && log[1] == 8 && log[2] == 13 && log[3] == 13 && log[4] == 13,
        "progress after each run: %llu calls, (%llu/%llu) (%llu/%llu)", (unsigned long long)log[0],
        (unsigned long long)log[1], (unsigned long long)log[2], (unsigned long long)log[3],
        (unsigned long long)log[4]);
  int8_t q[IMAGES * 10];
  float f[IMAGES * 10];
  OK(pb_get_output(c, NULL, PB_INT8, q, sizeof q), c);
  OK(pb_get_output(c, NULL, PB_FLOAT32, f, sizeof f), c);
  int dq = 0, df = 0;
  for (int i = 0; i < IMAGES * 10; i++) {
    if (q[i] != e->cnn_q[i] && !dq++)
      fprintf(stderr, "  first int8 difference at image %d logit %d: got %d, onnxruntime %d\n", i / 10, i % 10, q[i],
              e->cnn_q[i]);
    df += memcmp(&f[i], &e->cnn_f[i], 4) != 0;
  }
  CHECK(dq == 0, "%s%s: int8 logits of %d images byte-identical to onnxruntime (%d of %d differ)", backend,
        from_buffer ? " (buffer)" : "", IMAGES, dq, IMAGES * 10);
  CHECK(df == 0, "%s: float logits bit-identical to onnxruntime (%d differ)", backend, df);
  pb_perf_t pf;
  OK(pb_get_perf(c, &pf), c);
  CHECK(pf.runs == 2 && pf.samples == IMAGES && pf.cycles == pf.predicted_cycles &&
            pf.predicted_cycles == 2 * pi.predicted_cycles && pf.macs == 2 * pi.macs,
        "%s perf: %llu runs, %llu samples, cycles %llu, predicted %llu (2 x %llu)", backend,
        (unsigned long long)pf.runs, (unsigned long long)pf.samples, (unsigned long long)pf.cycles,
        (unsigned long long)pf.predicted_cycles, (unsigned long long)pi.predicted_cycles);
  /* fewer samples afterwards: the outputs have as many; one run */
  OK(pb_set_progress(c, NULL, NULL), c);
  OK(pb_set_input(c, NULL, PB_FLOAT32, e->x + 5 * 784, 3 * 784 * 4, 3), c);
  OK(pb_run(c), c);
  EXPECT(pb_get_output(c, NULL, PB_INT8, q, 29), PB_E_SHAPE, c, "3 samples", "take 30 bytes");
  OK(pb_get_output(c, NULL, PB_INT8, q, 30), c);
  CHECK(!memcmp(q, e->cnn_q + 50, 30), "%s: images 5..7 alone equal onnxruntime", backend);
  OK(pb_get_perf(c, &pf), c);
  CHECK(pf.runs == 1 && pf.samples == 3, "one run for 3 samples");
  /* the quantized input given as int8 gives the same result */
  int8_t xq[784];
  for (int i = 0; i < 784; i++) {
    float v = nearbyintf(e->x[i] / ti.scale) + (float)ti.zero_point; /* QuantizeLinear, independently */
    xq[i] = (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v);
  }
  OK(pb_set_input(c, NULL, PB_INT8, xq, sizeof xq, 1), c);
  OK(pb_run(c), c);
  OK(pb_get_output(c, NULL, PB_INT8, q, 10), c);
  CHECK(!memcmp(q, e->cnn_q, 10), "%s: image 0 quantized by the test gives onnxruntime's logits", backend);
  pb_close(c);
}

static void test_head(const char *backend, const expected_t *e) {
  pb_ctx_t *c = open_ok(backend, NULL);
  if (!c) return;
  OK(pb_load_file(c, path("head4.pbin")), c);
  pb_program_info_t pi;
  OK(pb_get_info(c, &pi), c);
  CHECK(pi.host_steps == 3 && pi.accel_steps == 1 && pi.n_outputs == 2 && pi.batch == 4, "head: %u host steps",
        pi.host_steps);
  OK(pb_reserve(c, IMAGES), c);
  OK(pb_set_input(c, "input", PB_FLOAT32, e->x, IMAGES * 784 * 4, IMAGES), c);
  OK(pb_run(c), c);
  float p[IMAGES * 10];
  int64_t k[IMAGES];
  EXPECT(pb_get_output(c, "cls", PB_FLOAT32, p, sizeof p), PB_E_DTYPE, c, "output 'cls' is i64; got f32");
  OK(pb_get_output(c, "prob", PB_FLOAT32, p, sizeof p), c);
  OK(pb_get_output(c, "cls", PB_INT64, k, sizeof k), c);
  double err = 0;
  for (int i = 0; i < IMAGES * 10; i++) err = fmax(err, fabs((double)p[i] - (double)e->prob[i]));
  CHECK(!memcmp(k, e->cls, sizeof k), "%s: ArgMax (host step) equals onnxruntime", backend);
  CHECK(err <= 1e-6, "%s: Softmax (host step) within 1e-6 of onnxruntime (max error %.3g)", backend, err);
  pb_perf_t pf;
  OK(pb_get_perf(c, &pf), c);
  CHECK(pf.runs == 4 && pf.host_steps == 12 && pf.accel_steps == 4 && pf.cycles == pf.predicted_cycles,
        "%s: 4 runs, 12 host steps (%llu)", backend, (unsigned long long)pf.host_steps);
  pb_close(c);
}

/* Reloading: another program (other hardware) on the same context. */
static void test_reload(const expected_t *e) {
  pb_ctx_t *c = open_ok("ref", NULL);
  if (!c) return;
  int8_t x[4] = {1, 2, 3, -4}, y[10];
  OK(pb_load_file(c, path("mm.pbin")), c);
  OK(pb_set_input(c, NULL, PB_INT8, x, 4, 1), c);
  OK(pb_load_file(c, path("cnn16.pbin")), c);
  EXPECT(pb_run(c), PB_E_STATE, c, "input 'input'", "not set"); /* loading clears the inputs */
  OK(pb_set_input(c, NULL, PB_FLOAT32, e->x, 784 * 4, 1), c);
  OK(pb_run(c), c);
  OK(pb_get_output(c, NULL, PB_INT8, y, 10), c);
  CHECK(!memcmp(y, e->cnn_q, 10), "after a reload the CNN's logits of image 0 equal onnxruntime");
  OK(pb_load_file(c, path("mm.pbin")), c);
  OK(pb_set_input(c, NULL, PB_INT8, x, 4, 1), c);
  OK(pb_run(c), c);
  OK(pb_get_output(c, NULL, PB_INT8, y, 4), c);
  CHECK(y[0] == 29 && y[1] == 0 && y[2] == 0 && y[3] == 30, "back to the 2x2 program");
  pb_close(c);
}

int main(int argc, char **argv) {
  check_init("test_api");
  if (argc != 2) {
    fprintf(stderr, "usage: test_api DIR (see tests/driver/test_api.sh)\n");
    return 2;
  }
  dir = argv[1];
  expected_t e;
  size_t lx, lq, lf, lp, lc;
  e.x = slurp("x.f32", &lx);
  e.cnn_q = slurp("cnn_q.i8", &lq);
  e.cnn_f = slurp("cnn_f.f32", &lf);
  e.prob = slurp("head_prob.f32", &lp);
  e.cls = slurp("head_cls.i64", &lc);
  int have = e.x && e.cnn_q && e.cnn_f && e.prob && e.cls && lx == IMAGES * 784 * 4 && lq == IMAGES * 10 &&
             lf == IMAGES * 40 && lp == IMAGES * 40 && lc == IMAGES * 8;
  CHECK(have, "expected data in %s (tests/driver/make_expected.py)", dir);

  test_open_errors();
  test_not_loaded();
  test_hw_mismatch();
  test_matmul2x2("ref");
  test_matmul2x2("verilator");
  test_two_inputs();
  test_accel_error("ref");
  test_accel_error("verilator");
  if (have) {
    test_cnn("ref", &e, 0);
    test_cnn("ref", &e, 1);
    test_cnn("verilator", &e, 0);
    test_head("ref", &e);
    test_head("verilator", &e);
    test_reload(&e);
  }
  free(e.x);
  free(e.cnn_q);
  free(e.cnn_f);
  free(e.prob);
  free(e.cls);
  return check_done();
}
