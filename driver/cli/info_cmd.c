/* SPDX-License-Identifier: Apache-2.0 */
/*
 * protobrain info PROG.pbin      per-layer table, totals, tensors, steps, memory plan (from the file alone)
 * protobrain info MODEL.onnx     the imported IR (operators, attributes, shapes)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "onnx_import.h"
#include "protobrain/pbin.h"

void pb_cli_usage_info(FILE *f) {
  fprintf(f,
          "usage: protobrain info PROG.pbin\n"
          "       protobrain info MODEL.onnx [--batch B]\n"
          "\n"
          "For a program: the hardware it was built for, a per-layer table (operator, shapes, where it runs,\n"
          "MACs, predicted cycles, array utilization, memory) with totals, its tensors, steps and memory\n"
          "plan. For an ONNX model: the imported graph (operators, attributes, shapes).\n"
          "\n"
          "  --batch B   for a model with a dynamic batch dimension (default 1)\n");
}

static const char *dims_str(char *buf, size_t len, unsigned rank, const uint32_t *dims) {
  size_t o = 0;
  buf[0] = 0;
  for (unsigned d = 0; d < rank && o < len; d++) o += (size_t)snprintf(buf + o, len - o, "%s%u", d ? "x" : "", dims[d]);
  if (!rank) snprintf(buf, len, "-");
  return buf;
}

static const char *kind_name(unsigned k) {
  return k == PB_TENSOR_INPUT ? "input" : k == PB_TENSOR_OUTPUT ? "output" : "internal";
}

static const char *region_kind(unsigned k) {
  static const char *n[] = {"?", "code", "const", "io", "act", "scratch"};
  return k <= 5 ? n[k] : "?";
}

static void info_program(const char *path, const pb_program_t *p) {
  uint64_t batch = 1;
  for (uint32_t i = 0; i < p->n_tensors; i++)
    if (p->tensors[i].flags & PB_TF_BATCH) batch = p->tensors[i].dims[0];
  uint64_t nn = (uint64_t)p->hw.n * p->hw.n;
  printf("program %s\n", path);
  printf("  hardware: N=%u (array %ux%u), scratchpad %u rows x %u B, accumulator %u rows x %u B, host memory %u "
         "bytes\n",
         p->hw.n, p->hw.n, p->hw.n, p->hw.sp_rows, p->hw.n, p->hw.acc_rows, 4 * p->hw.n, p->hw.host_bytes);
  unsigned acc_steps = 0, host_steps = 0;
  for (uint32_t i = 0; i < p->n_steps; i++) p->steps[i].kind == PB_STEP_ACCEL ? acc_steps++ : host_steps++;
  if (!p->n_steps) acc_steps = 1;
  printf("  code: %u instructions at 0x%x; %u step%s (%u on the accelerator, %u on the host); batch %llu\n",
         p->code_len, p->code_addr, acc_steps + host_steps, acc_steps + host_steps == 1 ? "" : "s", acc_steps,
         host_steps, (unsigned long long)batch);
  if (p->n_layers) {
    printf("\nlayers (per run of %llu sample%s; cycles predicted by the timing model):\n", (unsigned long long)batch,
           batch == 1 ? "" : "s");
    printf("  %-3s %-22s %-14s %-5s %-4s %-16s %-16s %12s %10s %6s %9s %9s %7s %7s\n", "#", "layer", "op", "where",
           "step", "input", "output", "MACs", "cycles", "util", "weights", "out B", "sp", "acc");
    uint64_t macs = 0, cycles = 0, wbytes = 0, rows = 0;
    for (uint32_t i = 0; i < p->n_layers; i++) {
      const pb_layer_t *l = &p->layers[i];
      char a[64], b[64];
      int accel = l->where == PB_WHERE_ACCEL;
      char util[16] = "-";
      if (accel && l->cycles) snprintf(util, sizeof util, "%.1f%%", 100.0 * (double)l->macs / ((double)l->cycles * (double)nn));
      printf("  %-3u %-22s %-14s %-5s %-4u %-16s %-16s %12llu %10llu %6s %9u %9u %7u %7u\n", i, l->name, l->op,
             accel ? "accel" : "host", l->step, dims_str(a, sizeof a, l->in_rank, l->in_dims),
             dims_str(b, sizeof b, l->out_rank, l->out_dims), (unsigned long long)l->macs,
             (unsigned long long)l->cycles, util, l->weight_bytes, l->out_bytes, l->sp_rows, l->acc_rows);
      macs += l->macs, cycles += l->cycles, wbytes += l->weight_bytes, rows += l->array_rows;
    }
    printf("  total: %llu MACs, %llu cycles per run (%.1f per sample), array utilization %.1f%% (useful MACs / "
           "(N^2 x cycles)), array busy %.1f%% (MATMUL rows / cycles), %llu bytes of weights and tables\n",
           (unsigned long long)macs, (unsigned long long)cycles, (double)cycles / (double)batch,
           cycles ? 100.0 * (double)macs / ((double)cycles * (double)nn) : 0.0,
           cycles ? 100.0 * (double)rows / (double)cycles : 0.0, (unsigned long long)wbytes);
    printf("  at 100 MHz: %.1f us per run, %.0f samples/s\n", (double)cycles / 100.0,
           cycles ? (double)batch * 100e6 / (double)cycles : 0.0);
  }
  if (p->n_tensors) {
    printf("\ntensors:\n");
    for (uint32_t i = 0; i < p->n_tensors; i++) {
      const pb_tensor_t *t = &p->tensors[i];
      char d[64];
      printf("  %-3u %-8s %-28s %s[%s] at 0x%x", i, kind_name(t->kind), t->name, pb_dtype_name(t->dtype),
             dims_str(d, sizeof d, t->rank, t->dims), t->host_addr);
      if (t->dtype == PB_DT_INT8 || t->dtype == PB_DT_UINT8) printf(" scale %.9g zero point %d", (double)t->scale, t->zero_point);
      if (t->flags & PB_TF_FLOAT_IO) printf(" float-io");
      if (t->flags & PB_TF_BATCH) printf(" batch");
      printf("\n");
    }
  }
  if (p->n_steps) {
    printf("\nsteps:\n");
    for (uint32_t i = 0; i < p->n_steps; i++) {
      const pb_step_t *s = &p->steps[i];
      if (s->kind == PB_STEP_ACCEL) {
        printf("  %-3u accelerator: instructions %u..%u\n", i, s->pc, s->pc + s->len);
      } else {
        printf("  %-3u host %s:", i, pb_host_op_name(s->op));
        for (unsigned k = 0; k < s->n_in; k++) printf(" %s", p->tensors[s->in[k]].name);
        printf(" ->");
        for (unsigned k = 0; k < s->n_out; k++) printf(" %s", p->tensors[s->out[k]].name);
        printf("\n");
      }
    }
  }
  if (p->n_regions) {
    printf("\nmemory plan (host memory; activation regions may share bytes when their lives do not overlap):\n");
    uint64_t tot[6] = {0};
    uint64_t top = 0;
    for (uint32_t i = 0; i < p->n_regions; i++) {
      const pb_region_t *r = &p->regions[i];
      printf("  %-6s %-32s 0x%08x..0x%08x %10u bytes\n", region_kind(r->kind), r->name, r->addr, r->addr + r->size,
             r->size);
      if (r->kind <= 5) tot[r->kind] += r->size;
      if ((uint64_t)r->addr + r->size > top) top = (uint64_t)r->addr + r->size;
    }
    printf("  used: %llu of %u bytes (code %llu, constants %llu, io %llu, activations %llu before sharing)\n",
           (unsigned long long)top, p->hw.host_bytes, (unsigned long long)tot[1], (unsigned long long)tot[2],
           (unsigned long long)tot[3], (unsigned long long)tot[4]);
  }
}

int pb_cli_info(int argc, char **argv) {
  const char *in = NULL;
  long long batch = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      pb_cli_usage_info(stdout);
      return 0;
    } else if (!strcmp(argv[i], "--batch") && i + 1 < argc) {
      char *end;
      batch = strtoll(argv[++i], &end, 10);
      if (*end || batch < 1) {
        fprintf(stderr, "protobrain info: --batch wants an integer >= 1, got '%s'\n", argv[i]);
        return 2;
      }
    } else if (argv[i][0] == '-') {
      fprintf(stderr, "protobrain info: unknown option or missing value: '%s'\n", argv[i]);
      pb_cli_usage_info(stderr);
      return 2;
    } else if (!in) {
      in = argv[i];
    } else {
      fprintf(stderr, "protobrain info: more than one file given\n");
      return 2;
    }
  }
  if (!in) {
    pb_cli_usage_info(stderr);
    return 2;
  }
  FILE *f = fopen(in, "rb");
  char magic[4] = {0};
  if (f) {
    size_t got = fread(magic, 1, 4, f);
    (void)got;
    fclose(f);
  }
  if (f && !memcmp(magic, PB_PBIN_MAGIC, 4)) {
    pb_program_t p;
    pb_error_t e;
    if (pb_program_load(in, &p, &e)) {
      fprintf(stderr, "protobrain info: %s\n", e.msg);
      return 1;
    }
    info_program(in, &p);
    pb_program_free(&p);
    return 0;
  }
  char err[2048];
  pb_graph_t *g = NULL;
  if (pb_onnx_import_file(in, batch, &g, err, sizeof err)) {
    /* a dynamic batch without --batch: show it at batch 1 */
    if (!batch && strstr(err, "give --batch") && pb_onnx_import_file(in, 1, &g, err, sizeof err) == 0) {
      printf("(dynamic batch shown as 1)\n");
    } else {
      fprintf(stderr, "protobrain info: %s%s\n", err, f ? "" : "");
      return 1;
    }
  }
  pb_ir_dump(g, stdout);
  pb_ir_free(g);
  return 0;
}
