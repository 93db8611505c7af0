/* SPDX-License-Identifier: Apache-2.0 */
/*
 * protobrain run PROG.pbin --backend B --input [NAME=]IN.npy ... --output [NAME=]OUT.npy ...
 * A client of the public library (include/protobrain/protobrain.h): .npy files in and out, shape
 * checks against the program's tensors, a progress bar on a terminal, --stats.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backend_uart.h"
#include "cli.h"
#include "npy.h"
#include "protobrain/protobrain.h"
#include "protobrain_internal.h"
#include "systemc/pb_systemc.h"

/* in the binary when the SystemC platform is linked (mk/systemc.mk) */
int pb_systemc_info(const pb_backend_t *b, pb_systemc_info_t *info) __attribute__((weak));

#define MAX_BINDINGS 16
#define NAME_BYTES 64

static const char *me = "protobrain run";

void pb_cli_usage_run(FILE *f) {
  fprintf(f,
          "usage: protobrain run PROG.pbin [--backend ref] --input [NAME=]IN.npy ... [--output [NAME=]OUT.npy ...]\n"
          "       protobrain run PROG.pbin --backend uart --port /dev/ttyUSB1 [--baud 3000000] --input ...\n"
          "\n"
          "Load the program, write its input tensors, run its steps (accelerator slices and host\n"
          "operators) and write its output tensors. A float32 .npy given for an int8 tensor is quantized\n"
          "with the tensor's scale and zero point (ONNX QuantizeLinear); an output tensor marked float is\n"
          "dequantized (ONNX DequantizeLinear) unless --raw is given. For a compiled model the inputs may\n"
          "hold any number of samples along the first axis: they run in chunks of the compiled batch (the\n"
          "last one padded) and the outputs have as many samples. With more than one chunk and stderr\n"
          "on a terminal, a progress bar is drawn there.\n"
          "\n"
          "  --backend NAME      ref (the C reference model; default), verilator (the RTL, for a\n"
          "                      program built for one of the Verilated configurations), systemc\n"
          "                      (the SystemC/TLM-2.0 virtual platform, docs/systemc.md) or uart (an\n"
          "                      FPGA board, or the simulated board build/fpga/pb_board_sim, over a\n"
          "                      serial line; docs/uart.md)\n"
          "  --port DEV          uart: the serial port (/dev/ttyUSB1, or the simulator's pseudo-terminal)\n"
          "  --baud RATE         uart: baud rate (default 3000000; a board: its clock / CLKS_PER_BIT)\n"
          "  --timeout MS        uart: wait this long for a reply before sending a request again\n"
          "                      (default 1000); a request is sent at most 9 times\n"
          "  --model ref|rtl     systemc: the accelerator in the platform: the C reference model timed\n"
          "                      by the timing model (default) or the Verilated RTL\n"
          "  --cosim             verilator: run the reference model in lock step and stop at the\n"
          "                      first differing write or issue cycle\n"
          "  --trace [FILE]      verilator: write an FST waveform (default build/logs/trace.fst)\n"
          "  --input [NAME=]F    an input tensor from a .npy file; NAME may be left out when the\n"
          "                      program has one input (repeat for several inputs)\n"
          "  --output [NAME=]F   write an output tensor to a .npy file (repeat for several)\n"
          "  --raw               write outputs as the integers the accelerator produced\n"
          "  --stats             print the performance counters, predicted and measured cycles, cycles per\n"
          "                      sample, array utilization and throughput to stderr (uart: and the\n"
          "                      link's requests, retransmissions and bytes moved)\n"
          "  --clock MHZ         clock for the --stats throughput figures (default 100)\n");
}

typedef struct {
  char name[NAME_BYTES]; /* "": the only tensor of its kind */
  const char *path;
} binding_t;

static int parse_binding(const char *arg, binding_t *b) {
  const char *eq = strchr(arg, '=');
  b->name[0] = 0;
  b->path = arg;
  if (eq) {
    size_t l = (size_t)(eq - arg);
    if (l == 0 || l >= NAME_BYTES) return -1;
    memcpy(b->name, arg, l);
    b->name[l] = 0;
    b->path = eq + 1;
  }
  return 0;
}

/* The index of the input (or output) a binding names; prints an error and returns -1 if none. */
static int find_tensor(pb_ctx_t *ctx, int output, int count, const binding_t *b) {
  const char *what = output ? "output" : "input";
  pb_tensor_info_t ti;
  for (int i = 0; i < count; i++) {
    (output ? pb_output_info : pb_input_info)(ctx, i, &ti);
    if (!b->name[0] ? count == 1 : !strcmp(ti.name, b->name)) return i;
  }
  if (b->name[0])
    fprintf(stderr, "%s: the program has no %s tensor named '%s'; its %ss:", me, what, b->name, what);
  else
    fprintf(stderr, "%s: the program has %d %s tensors; name one with NAME=FILE:", me, count, what);
  for (int i = 0; i < count; i++) {
    (output ? pb_output_info : pb_input_info)(ctx, i, &ti);
    fprintf(stderr, " '%s'", ti.name);
  }
  fprintf(stderr, "%s\n", count ? "" : " none");
  return -1;
}

static void shape_str(char *buf, size_t len, unsigned rank, const uint64_t *dims) {
  size_t o = (size_t)snprintf(buf, len, "(");
  for (unsigned i = 0; i < rank && o < len; i++)
    o += (size_t)snprintf(buf + o, len - o, "%llu%s", (unsigned long long)dims[i], i + 1 < rank ? ", " : "");
  if (o < len) snprintf(buf + o, len - o, ")");
}

/* An input's data from a .npy file: the program's shape, or (batched) any number of samples. */
typedef struct {
  int index;
  pb_tensor_info_t ti;
  pb_npy_t a;
  uint64_t n; /* samples */
} in_data_t;

static int read_input(pb_ctx_t *ctx, int n_inputs, const binding_t *b, in_data_t *d) {
  if ((d->index = find_tensor(ctx, 0, n_inputs, b)) < 0) return -1;
  pb_input_info(ctx, d->index, &d->ti);
  const pb_tensor_info_t *t = &d->ti;
  char err[512];
  if (pb_npy_read(b->path, &d->a, err, sizeof err)) {
    fprintf(stderr, "%s: input '%s': %s\n", me, t->name, err);
    return -1;
  }
  int same = d->a.rank == t->rank;
  for (unsigned k = t->batched ? 1 : 0; same && k < t->rank; k++) same = d->a.dims[k] == t->dims[k];
  if (same && t->batched && d->a.dims[0] == 0) same = 0;
  if (!same) {
    char g[128], w[128];
    shape_str(g, sizeof g, d->a.rank, d->a.dims);
    shape_str(w, sizeof w, t->rank, t->dims);
    fprintf(stderr, "%s: input '%s' from '%s': shape %s does not match the program's %s%s\n", me, t->name, b->path, g,
            w, t->batched ? " (any number of samples along the first axis)" : "");
    return -1;
  }
  d->n = t->batched ? d->a.dims[0] : 1;
  return 0;
}

/* ---- progress bar (stderr on a terminal, more than one chunk) ---- */

typedef struct {
  struct timespec t0;
  int drawn;
  unsigned last_permille;
} bar_t;

static double since(const struct timespec *t0) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)(t.tv_sec - t0->tv_sec) + 1e-9 * (double)(t.tv_nsec - t0->tv_nsec);
}

static void draw_bar(void *user, uint64_t done, uint64_t total) {
  bar_t *b = user;
  unsigned pm = total ? (unsigned)(done * 1000 / total) : 1000;
  if (b->drawn && pm == b->last_permille && done != total) return;
  enum { WIDTH = 30 };
  int fill = (int)(pm * WIDTH / 1000);
  char bar[WIDTH + 1];
  for (int i = 0; i < WIDTH; i++) bar[i] = i < fill ? '#' : '.';
  bar[WIDTH] = 0;
  double s = since(&b->t0);
  fprintf(stderr, "\r[%s] %llu/%llu samples (%3u%%) %.1f s", bar, (unsigned long long)done,
          (unsigned long long)total, pm / 10, s);
  if (done && done < total) fprintf(stderr, ", %.0f s left ", s * (double)(total - done) / (double)done);
  else fprintf(stderr, "%12s", "");
  fflush(stderr);
  b->drawn = 1;
  b->last_permille = pm;
}

/* ---- --stats ---- */

static void print_stats(pb_ctx_t *ctx, const pb_program_info_t *pi, const pb_perf_t *s, double mhz) {
  uint64_t n = pi->hw.n;
  fprintf(stderr,
          "stats: backend %s, %llu instructions, %llu MACs, %llu DMA bytes, %llu cycles, array busy %.1f%%, "
          "%llu stall cycles, %.1f us at %g MHz\n",
          pi->backend, (unsigned long long)s->instrs, (unsigned long long)(s->array_busy * n * n),
          (unsigned long long)s->dma_bytes, (unsigned long long)s->cycles,
          s->cycles ? 100.0 * (double)s->array_busy / (double)s->cycles : 0.0, (unsigned long long)s->stalls,
          (double)s->cycles / mhz, mhz);
  uint64_t samples = s->samples ? s->samples : 1;
  char util[96];
  if (s->cycles && s->macs)
    snprintf(util, sizeof util, "%.1f%% (useful MACs / (N^2 x cycles))",
             100.0 * (double)s->macs / ((double)s->cycles * (double)(n * n)));
  else
    snprintf(util, sizeof util, "n/a (the program has no layer table)");
  fprintf(stderr,
          "stats: %llu samples in %llu run%s (%llu accelerator and %llu host steps); cycles: predicted %llu, "
          "measured %llu (%s); %.1f cycles per sample; array utilization %s; %.0f samples/s at %g MHz\n",
          (unsigned long long)s->samples, (unsigned long long)s->runs, s->runs == 1 ? "" : "s",
          (unsigned long long)s->accel_steps, (unsigned long long)s->host_steps,
          (unsigned long long)s->predicted_cycles, (unsigned long long)s->cycles,
          s->predicted_cycles == s->cycles ? "equal" : "DIFFERENT", (double)s->cycles / (double)samples, util,
          s->cycles ? (double)samples * mhz * 1e6 / (double)s->cycles : 0.0, mhz);
  pb_backend_t *be = pb_ctx_backend(ctx);
  pb_uart_backend_stats_t us;
  if (be && pb_backend_uart_stats(be, &us) == 0) {
    const pb_uart_link_stats_t *l = &us.link;
    fprintf(stderr,
            "stats: uart link: %llu requests, %llu retries (%llu NAKs for damaged requests, %llu damaged replies, "
            "%llu timeouts), %llu stale replies; %llu status polls; host memory: %llu bytes written, %llu read "
            "back; wire: %llu bytes sent, %llu received\n",
            (unsigned long long)l->requests, (unsigned long long)l->retries, (unsigned long long)l->naks,
            (unsigned long long)l->bad_replies, (unsigned long long)l->timeouts, (unsigned long long)l->stale,
            (unsigned long long)us.status_polls, (unsigned long long)us.mem_written, (unsigned long long)us.mem_read,
            (unsigned long long)l->tx_bytes, (unsigned long long)l->rx_bytes);
    if (us.board_counters_valid)
      fprintf(stderr,
              "stats: uart board counters (16-bit): %u good requests, %u damaged requests, %u framing errors, %u "
              "duplicates answered from the cache\n",
              us.board_ok, us.board_bad, us.board_uart_errors, us.board_dups);
  }
  pb_systemc_info_t si;
  if (pb_systemc_info && be && pb_systemc_info(be, &si) == 0)
    fprintf(stderr, "stats: systemc model %s: simulated %.3f us (start writes to interrupts) = %llu cycles x %llu ps%s\n",
            si.model, (double)si.total_ps / 1e6, (unsigned long long)s->cycles, (unsigned long long)si.period_ps,
            si.total_ps == s->cycles * si.period_ps ? "" : " (NOT EQUAL)");
}

/* One of pb_backends()'s names ("ref, verilator, systemc"). */
static int known_backend(const char *name) {
  const char *list = pb_backends();
  size_t l = strlen(name);
  for (const char *p = strstr(list, name); l && p; p = strstr(p + 1, name))
    if ((p == list || p[-1] == ' ') && (p[l] == ',' || p[l] == 0)) return 1;
  return 0;
}

int pb_cli_run(int argc, char **argv) {
  const char *prog = NULL, *backend = "ref";
  binding_t ins[MAX_BINDINGS], outs[MAX_BINDINGS];
  int nin = 0, nout = 0, stats = 0, raw = 0;
  double mhz = 100.0;
  pb_options_t opts = PB_OPTIONS_INIT;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    int has_val = i + 1 < argc;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      pb_cli_usage_run(stdout);
      return 0;
    } else if (!strcmp(a, "--backend") && has_val) {
      backend = argv[++i];
    } else if (!strcmp(a, "--input") && has_val) {
      if (nin == MAX_BINDINGS || parse_binding(argv[++i], &ins[nin++])) {
        fprintf(stderr, "%s: bad --input '%s'\n", me, argv[i]);
        return 2;
      }
    } else if (!strcmp(a, "--output") && has_val) {
      if (nout == MAX_BINDINGS || parse_binding(argv[++i], &outs[nout++])) {
        fprintf(stderr, "%s: bad --output '%s'\n", me, argv[i]);
        return 2;
      }
    } else if (!strcmp(a, "--stats")) {
      stats = 1;
    } else if (!strcmp(a, "--raw")) {
      raw = 1;
    } else if (!strcmp(a, "--cosim")) {
      opts.cosim = 1;
    } else if (!strcmp(a, "--model") && has_val) {
      opts.model = argv[++i];
    } else if (!strcmp(a, "--port") && has_val) {
      opts.port = argv[++i];
    } else if ((!strcmp(a, "--baud") || !strcmp(a, "--timeout")) && has_val) {
      char *end;
      unsigned long v = strtoul(argv[++i], &end, 10);
      if (*end || v == 0 || v > 100000000ul) {
        fprintf(stderr, "%s: %s wants a positive integer, got '%s'\n", me, a, argv[i]);
        return 2;
      }
      if (!strcmp(a, "--baud")) opts.baud = (unsigned)v;
      else opts.timeout_ms = (unsigned)v;
    } else if (!strcmp(a, "--trace")) {
      opts.trace_path = (has_val && argv[i + 1][0] != '-') ? argv[++i] : "build/logs/trace.fst";
    } else if (!strcmp(a, "--clock") && has_val) {
      char *end;
      mhz = strtod(argv[++i], &end);
      if (*end || !(mhz > 0)) {
        fprintf(stderr, "%s: --clock wants MHz > 0, got '%s'\n", me, argv[i]);
        return 2;
      }
    } else if (a[0] == '-') {
      fprintf(stderr, "%s: unknown option or missing value: '%s'\n", me, a);
      pb_cli_usage_run(stderr);
      return 2;
    } else if (!prog) {
      prog = a;
    } else {
      fprintf(stderr, "%s: more than one program given ('%s', '%s')\n", me, prog, a);
      return 2;
    }
  }
  if (!prog) {
    pb_cli_usage_run(stderr);
    return 2;
  }
  if (!known_backend(backend)) {
    fprintf(stderr, "%s: unknown backend '%s' (available: %s)\n", me, backend, pb_backends());
    return 2;
  }
  if (opts.model && strcmp(backend, "systemc") != 0) {
    fprintf(stderr, "%s: --model needs --backend systemc\n", me);
    return 2;
  }
  if ((opts.cosim || opts.trace_path) && strcmp(backend, "verilator") != 0) {
    fprintf(stderr, "%s: --cosim and --trace need --backend verilator\n", me);
    return 2;
  }
  if ((opts.port || opts.baud || opts.timeout_ms) && strcmp(backend, "uart") != 0) {
    fprintf(stderr, "%s: --port, --baud and --timeout need --backend uart\n", me);
    return 2;
  }
  if (!opts.port && !strcmp(backend, "uart")) {
    fprintf(stderr, "%s: --backend uart needs --port DEV (a serial port or the simulator's pseudo-terminal)\n", me);
    return 2;
  }
  pb_ctx_t *ctx = NULL;
  if (pb_open(backend, &opts, &ctx) != PB_OK) {
    fprintf(stderr, "%s: %s\n", me, pb_last_error(NULL));
    return 1;
  }
  int rc = 1;
  in_data_t data[MAX_BINDINGS];
  void *obuf[MAX_BINDINGS] = {0};
  size_t obytes[MAX_BINDINGS] = {0};
  pb_tensor_info_t oinfo[MAX_BINDINGS];
  memset(data, 0, sizeof data);
  pb_program_info_t pi;
  if (pb_load_file(ctx, prog) != PB_OK || pb_get_info(ctx, &pi) != PB_OK) {
    fprintf(stderr, "%s: %s\n", me, pb_last_error(ctx));
    goto out;
  }
  uint64_t n = 0;
  for (int i = 0; i < nin; i++) {
    if (read_input(ctx, pi.n_inputs, &ins[i], &data[i])) goto out;
    for (int k = 0; k < i; k++)
      if (data[k].index == data[i].index) {
        fprintf(stderr, "%s: input '%s' given twice\n", me, data[i].ti.name);
        goto out;
      }
    if (i > 0 && data[i].n != n) {
      fprintf(stderr, "%s: input '%s' has %llu samples but '%s' has %llu\n", me, data[i].ti.name,
              (unsigned long long)data[i].n, data[0].ti.name, (unsigned long long)n);
      goto out;
    }
    n = data[i].n;
  }
  if (nin != pi.n_inputs) {
    fprintf(stderr, "%s: the program has %d input tensor%s; give each with --input NAME=FILE:", me, pi.n_inputs,
            pi.n_inputs == 1 ? "" : "s");
    for (int i = 0; i < pi.n_inputs; i++) {
      pb_tensor_info_t ti;
      pb_input_info(ctx, i, &ti);
      fprintf(stderr, " '%s'", ti.name);
    }
    fprintf(stderr, "\n");
    goto out;
  }
  if (!n) n = 1;
  if (n > pi.max_samples && pb_reserve(ctx, n) != PB_OK) {
    fprintf(stderr, "%s: %s\n", me, pb_last_error(ctx));
    goto out;
  }
  for (int i = 0; i < nin; i++) {
    const pb_npy_t *a = &data[i].a;
    size_t bytes = (size_t)a->count * pb_datatype_size((pb_datatype_t)a->dtype);
    if (pb_set_input(ctx, data[i].ti.name, (pb_datatype_t)a->dtype, a->data, bytes, data[i].n) != PB_OK) {
      fprintf(stderr, "%s: '%s': %s\n", me, ins[i].path, pb_last_error(ctx));
      goto out;
    }
  }
  for (int i = 0; i < nout; i++) {
    int k = find_tensor(ctx, 1, pi.n_outputs, &outs[i]);
    if (k < 0) goto out;
    pb_output_info(ctx, k, &oinfo[i]);
    const pb_tensor_info_t *t = &oinfo[i];
    pb_datatype_t dt = (!raw && t->is_float) ? PB_FLOAT32 : t->dtype;
    obytes[i] = (size_t)(t->sample_elems * (t->batched ? n : 1) * pb_datatype_size(dt));
    obuf[i] = malloc(obytes[i] + 1);
    if (!obuf[i]) {
      fprintf(stderr, "%s: out of memory\n", me);
      goto out;
    }
  }
  bar_t bar = {.drawn = 0};
  clock_gettime(CLOCK_MONOTONIC, &bar.t0);
  if (isatty(STDERR_FILENO) && n > pi.batch) pb_set_progress(ctx, draw_bar, &bar);
  pb_status_t st = pb_run(ctx);
  if (bar.drawn) fprintf(stderr, "\n");
  if (opts.trace_path) fprintf(stderr, "trace: %s\n", opts.trace_path);
  if (st != PB_OK) {
    fprintf(stderr, "%s: %s\n", me, pb_last_error(ctx));
    goto out;
  }
  if (stats) {
    pb_perf_t perf;
    pb_get_perf(ctx, &perf);
    print_stats(ctx, &pi, &perf, mhz);
  }
  for (int i = 0; i < nout; i++) {
    const pb_tensor_info_t *t = &oinfo[i];
    pb_datatype_t dt = (!raw && t->is_float) ? PB_FLOAT32 : t->dtype;
    char err[512];
    if (pb_get_output(ctx, t->name, dt, obuf[i], obytes[i]) != PB_OK) {
      fprintf(stderr, "%s: %s\n", me, pb_last_error(ctx));
      goto out;
    }
    uint64_t dims[PB_MAX_DIMS];
    for (unsigned d = 0; d < t->rank; d++) dims[d] = t->dims[d];
    if (t->batched) dims[0] = n;
    if (pb_npy_write(outs[i].path, dt, t->rank, dims, obuf[i], err, sizeof err)) {
      fprintf(stderr, "%s: output '%s': %s\n", me, t->name, err);
      goto out;
    }
  }
  rc = 0;
out:
  for (int i = 0; i < MAX_BINDINGS; i++) {
    pb_npy_free(&data[i].a);
    free(obuf[i]);
  }
  pb_close(ctx);
  return rc;
}
