/* SPDX-License-Identifier: Apache-2.0 */
/*
 * protobrain compile MODEL.onnx -o PROG.pbin [--array N] [--batch B] [--calib CALIB.npy]
 *                   [--sp-rows R] [--acc-rows R] [--host-bytes B] [-v]
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "compile.h"
#include "npy.h"
#include "onnx_import.h"
#include "protobrain/pbin.h"

void pb_cli_usage_compile(FILE *f) {
  fprintf(f,
          "usage: protobrain compile MODEL.onnx -o PROG.pbin [--array N] [--batch B] [--calib CALIB.npy]\n"
          "                          [--sp-rows R] [--acc-rows R] [--host-bytes BYTES] [--rq-lanes L] [-v]\n"
          "\n"
          "Compile an ONNX model into a self-contained program for the accelerator (docs/compiler.md).\n"
          "A quantized model (QDQ from onnxruntime's quantize_static, or QLinearConv/QLinearMatMul) is\n"
          "compiled as it is, bit-exact with onnxruntime; a float model is quantized first from\n"
          "calibration data (--calib).\n"
          "\n"
          "  -o, --output FILE   the .pbin to write (required)\n"
          "  --array N           array size N (default 16); presets: 4 and 16 match the Verilated RTL\n"
          "                      builds, 8 = {sp 4096, acc 2048, host 2 MiB}; see docs/compiler.md\n"
          "  --batch B           samples per program run; required when the model's batch is dynamic\n"
          "  --calib FILE        float32 .npy of calibration inputs (n x the input's per-sample shape)\n"
          "  --sp-rows R         scratchpad rows (overrides the preset)\n"
          "  --acc-rows R        accumulator rows (overrides the preset)\n"
          "  --host-bytes BYTES  host memory bytes (overrides the preset)\n"
          "  --rq-lanes L        requantizer lanes, a divisor of N (default: N; the iCE40 build has 1)\n"
          "  -v, --verbose       print the tiling decisions of every layer\n");
}

static int parse_u(const char *s, uint64_t max, uint64_t *out) {
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 0);
  if (errno || *end || s[0] == '-' || !s[0] || v > max) return -1;
  *out = v;
  return 0;
}

int pb_cli_compile(int argc, char **argv) {
  const char *in = NULL, *out = NULL, *calib_path = NULL;
  uint64_t n = 16, batch = 0, sp = 0, acc = 0, host = 0, lanes = 0;
  int verbose = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    int has = i + 1 < argc;
    uint64_t *num = NULL, max = 0;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      pb_cli_usage_compile(stdout);
      return 0;
    } else if ((!strcmp(a, "-o") || !strcmp(a, "--output")) && has) {
      out = argv[++i];
      continue;
    } else if (!strcmp(a, "--calib") && has) {
      calib_path = argv[++i];
      continue;
    } else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
      verbose = 1;
      continue;
    } else if (!strcmp(a, "--array") && has) {
      num = &n, max = PB_HW_N_MAX;
    } else if (!strcmp(a, "--batch") && has) {
      num = &batch, max = 1u << 20;
    } else if (!strcmp(a, "--sp-rows") && has) {
      num = &sp, max = PB_HW_ROWS_MAX;
    } else if (!strcmp(a, "--acc-rows") && has) {
      num = &acc, max = PB_HW_ROWS_MAX;
    } else if (!strcmp(a, "--host-bytes") && has) {
      num = &host, max = PB_HW_HOST_MAX;
    } else if (!strcmp(a, "--rq-lanes") && has) {
      num = &lanes, max = PB_HW_N_MAX;
    } else if (a[0] == '-') {
      fprintf(stderr, "protobrain compile: unknown option or missing value: '%s'\n", a);
      pb_cli_usage_compile(stderr);
      return 2;
    } else if (!in) {
      in = a;
      continue;
    } else {
      fprintf(stderr, "protobrain compile: more than one model given ('%s', '%s')\n", in, a);
      return 2;
    }
    if (parse_u(argv[++i], max, num) || *num == 0) {
      fprintf(stderr, "protobrain compile: %s wants an integer 1..%llu, got '%s'\n", a, (unsigned long long)max,
              argv[i]);
      return 2;
    }
  }
  if (!in || !out) {
    fprintf(stderr, "protobrain compile: %s\n", !in ? "no model given" : "no output given (-o PROG.pbin)");
    pb_cli_usage_compile(stderr);
    return 2;
  }
  pb_compile_opts_t o;
  memset(&o, 0, sizeof o);
  if (pb_hw_preset((uint32_t)n, &o.hw)) {
    fprintf(stderr, "protobrain compile: --array %llu out of range 1..%u\n", (unsigned long long)n, PB_HW_N_MAX);
    return 2;
  }
  if (sp) o.hw.sp_rows = (uint32_t)sp;
  if (acc) o.hw.acc_rows = (uint32_t)acc;
  if (host) o.hw.host_bytes = (uint32_t)host;
  if (lanes) o.hw.rq_lanes = (uint32_t)lanes;
  pb_error_t he;
  if (pb_hw_check(&o.hw, &he)) {
    fprintf(stderr, "protobrain compile: %s\n", he.msg);
    return 2;
  }
  o.warn = stderr;
  o.log = verbose ? stdout : NULL;

  char err[2048];
  pb_graph_t *g = NULL;
  if (pb_onnx_import_file(in, (int64_t)batch, &g, err, sizeof err)) {
    fprintf(stderr, "protobrain compile: %s\n", err);
    return 1;
  }
  int rc = 1;
  pb_npy_t cal;
  memset(&cal, 0, sizeof cal);
  pb_calib_t calib = {0};
  pb_program_t p;
  memset(&p, 0, sizeof p);
  if (calib_path) {
    if (pb_npy_read(calib_path, &cal, err, sizeof err)) {
      fprintf(stderr, "protobrain compile: --calib '%s': %s\n", calib_path, err);
      goto done;
    }
    if (g->n_inputs != 1) {
      fprintf(stderr, "protobrain compile: --calib: the model has %d inputs; calibration supports one\n", g->n_inputs);
      goto done;
    }
    const pb_value_t *x = &g->values[g->inputs[0]];
    int ok = cal.dtype == PB_DT_FLOAT32 && (int)cal.rank == x->rank && cal.dims[0] >= 1;
    for (int d = 1; ok && d < x->rank; d++) ok = cal.dims[d] == (uint64_t)x->dims[d];
    if (!ok) {
      char s[96];
      fprintf(stderr,
              "protobrain compile: --calib '%s': expected float32 n x %s (the input '%s' without its batch "
              "dimension)\n",
              calib_path, pb_ir_shape_str(x, s, sizeof s), x->name);
      goto done;
    }
    calib.data = cal.data;
    calib.n = (int64_t)cal.dims[0];
    o.calib = &calib;
  }
  if (pb_compile_graph(g, &o, &p, err, sizeof err)) {
    fprintf(stderr, "protobrain compile: %s: %s\n", in, err);
    goto done;
  }
  pb_error_t e;
  if (pb_program_save(&p, out, &e)) {
    fprintf(stderr, "protobrain compile: %s\n", e.msg);
    goto done;
  }
  uint64_t cycles = 0, macs = 0;
  unsigned accel = 0, hostl = 0;
  for (uint32_t i = 0; i < p.n_layers; i++) {
    cycles += p.layers[i].cycles, macs += p.layers[i].macs;
    if (p.layers[i].where == PB_WHERE_ACCEL) accel++;
    else hostl++;
  }
  uint64_t b = 1;
  for (uint32_t i = 0; i < p.n_tensors; i++)
    if (p.tensors[i].flags & PB_TF_BATCH) b = p.tensors[i].dims[0];
  printf("%s -> %s: N=%u, %u layers (%u on the accelerator, %u on the host), %u instructions, batch %llu; predicted "
         "%llu cycles per run (%.1f per sample), array utilization %.1f%%\n",
         in, out, p.hw.n, p.n_layers, accel, hostl, p.code_len, (unsigned long long)b, (unsigned long long)cycles,
         (double)cycles / (double)b,
         cycles ? 100.0 * (double)macs / ((double)cycles * p.hw.n * p.hw.n) : 0.0);
  rc = 0;
done:
  pb_program_free(&p);
  pb_npy_free(&cal);
  pb_ir_free(g);
  return rc;
}
