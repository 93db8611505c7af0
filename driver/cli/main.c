/* SPDX-License-Identifier: Apache-2.0 */
/*
 * protobrain: the command-line tool, the one place that joins compiler and driver.
 *   protobrain asm PROG.pbs -o PROG.pbin
 *   protobrain disasm PROG.pbin [-o PROG.pbs]
 *   protobrain run PROG.pbin --backend ref --input IN.npy --output OUT.npy
 *   protobrain compile MODEL.onnx -o PROG.pbin     (compile_cmd.c)
 *   protobrain info PROG.pbin | MODEL.onnx         (info_cmd.c)
 * Exit status: 0 success, 1 failure (bad input file, accelerator error), 2 usage error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asm.h"
#include "backend.h"
#include "backend_uart.h"
#include "cli.h"
#include "npy.h"
#include "protobrain/isa.h"
#include "protobrain/pbin.h"
#include "runner.h"
#include "tensor_io.h"
#include "systemc/pb_systemc.h"

/* in the binary when the SystemC platform is linked (mk/systemc.mk) */
int pb_systemc_info(const pb_backend_t *b, pb_systemc_info_t *info) __attribute__((weak));

#define MAX_BINDINGS 16

static const char *prog_name = "protobrain";

static void usage_main(FILE *f) {
  fprintf(f,
          "usage: protobrain <command> [options]\n"
          "\n"
          "commands:\n"
          "  compile  compile an ONNX model into a program binary (.pbin)\n"
          "  info     describe a program (layers, predicted cycles, memory plan) or an ONNX model\n"
          "  asm      assemble a text program (.pbs) into a program binary (.pbin)\n"
          "  disasm   print a program binary as assembly text\n"
          "  run      run a program on a backend with .npy tensors in and out\n"
          "  help     show this help, or `protobrain help <command>`\n"
          "\n"
          "Every command takes --help. Exit status: 0 ok, 1 error, 2 usage error.\n");
}

static void usage_asm(FILE *f) {
  fprintf(f,
          "usage: protobrain asm PROG.pbs -o PROG.pbin\n"
          "\n"
          "Assemble Protobrain assembly (docs/asm.md) into a program binary (docs/pbin.md).\n"
          "Errors are reported as FILE:LINE:COL: error: message.\n"
          "\n"
          "  -o, --output FILE   the .pbin to write (required)\n");
}

static void usage_disasm(FILE *f) {
  fprintf(f,
          "usage: protobrain disasm PROG.pbin [-o PROG.pbs]\n"
          "\n"
          "Print a program binary as assembly that `protobrain asm` turns back into the same program.\n"
          "\n"
          "  -o, --output FILE   write the text to FILE instead of standard output\n");
}

static void usage_run(FILE *f) {
  fprintf(f,
          "usage: protobrain run PROG.pbin [--backend ref] --input [NAME=]IN.npy ... [--output [NAME=]OUT.npy ...]\n"
          "       protobrain run PROG.pbin --backend uart --port /dev/ttyUSB1 [--baud 3000000] --input ...\n"
          "\n"
          "Load the program, write its input tensors, run its steps (accelerator slices and host\n"
          "operators) and write its output tensors. A float32 .npy given for an int8 tensor is quantized\n"
          "with the tensor's scale and zero point (ONNX QuantizeLinear); an output tensor marked float is\n"
          "dequantized (ONNX DequantizeLinear) unless --raw is given. For a compiled model the inputs may\n"
          "hold any number of samples along the first axis: they run in chunks of the compiled batch (the\n"
          "last one padded) and the outputs have as many samples.\n"
          "\n"
          "  --backend NAME      ref (the C reference model; default), verilator (the RTL, for a\n"
          "                      program built for one of the Verilated configurations), systemc\n"
          "                      (the SystemC/TLM-2.0 virtual platform, docs/systemc.md) or uart (an\n"
          "                      FPGA board, or the simulated board build/fpga/pb_board_sim, over a\n"
          "                      serial line; docs/uart.md)\n"
          "  --port DEV          uart: the serial port (/dev/ttyUSB1, or the simulator's pseudo-terminal)\n"
          "  --baud RATE         uart: baud rate (default 3000000: the iCEBreaker's 12 MHz / 4)\n"
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

/* ---- small utilities ---- */

static int read_file(const char *path, char **out, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "%s: cannot open '%s': %s\n", prog_name, path, strerror(errno));
    return -1;
  }
  size_t cap = 4096, n = 0;
  char *buf = malloc(cap + 1);
  for (;;) {
    if (!buf) break;
    size_t got = fread(buf + n, 1, cap - n, f);
    n += got;
    if (n < cap) break;
    char *nb = realloc(buf, 2 * cap + 1);
    if (!nb) {
      free(buf);
      buf = NULL;
      break;
    }
    buf = nb;
    cap *= 2;
  }
  int bad = ferror(f);
  fclose(f);
  if (!buf || bad) {
    free(buf);
    fprintf(stderr, "%s: cannot read '%s'\n", prog_name, path);
    return -1;
  }
  buf[n] = 0;
  *out = buf;
  *len = n;
  return 0;
}

static int is_help(const char *a) { return !strcmp(a, "--help") || !strcmp(a, "-h"); }

/* ---- asm ---- */

static int cmd_asm(int argc, char **argv) {
  const char *in = NULL, *out = NULL;
  for (int i = 1; i < argc; i++) {
    if (is_help(argv[i])) {
      usage_asm(stdout);
      return 0;
    } else if ((!strcmp(argv[i], "-o") || !strcmp(argv[i], "--output")) && i + 1 < argc) {
      out = argv[++i];
    } else if (argv[i][0] == '-') {
      fprintf(stderr, "protobrain asm: unknown option '%s'\n", argv[i]);
      usage_asm(stderr);
      return 2;
    } else if (!in) {
      in = argv[i];
    } else {
      fprintf(stderr, "protobrain asm: more than one input file\n");
      return 2;
    }
  }
  if (!in || !out) {
    usage_asm(stderr);
    return 2;
  }
  char *src;
  size_t len;
  if (read_file(in, &src, &len)) return 1;
  if (strlen(src) != len) {
    fprintf(stderr, "%s: '%s' contains a NUL byte; not assembly text\n", prog_name, in);
    free(src);
    return 1;
  }
  pb_program_t p;
  char err[512];
  int rc = pb_asm(src, in, &p, err, sizeof err);
  free(src);
  if (rc) {
    fprintf(stderr, "%s\n", err);
    return 1;
  }
  pb_error_t e;
  rc = pb_program_save(&p, out, &e);
  if (rc) fprintf(stderr, "%s: %s\n", prog_name, e.msg);
  pb_program_free(&p);
  return rc ? 1 : 0;
}

/* ---- disasm ---- */

static int cmd_disasm(int argc, char **argv) {
  const char *in = NULL, *out = NULL;
  for (int i = 1; i < argc; i++) {
    if (is_help(argv[i])) {
      usage_disasm(stdout);
      return 0;
    } else if ((!strcmp(argv[i], "-o") || !strcmp(argv[i], "--output")) && i + 1 < argc) {
      out = argv[++i];
    } else if (argv[i][0] == '-') {
      fprintf(stderr, "protobrain disasm: unknown option '%s'\n", argv[i]);
      usage_disasm(stderr);
      return 2;
    } else if (!in) {
      in = argv[i];
    } else {
      fprintf(stderr, "protobrain disasm: more than one input file\n");
      return 2;
    }
  }
  if (!in) {
    usage_disasm(stderr);
    return 2;
  }
  pb_program_t p;
  pb_error_t e;
  if (pb_program_load(in, &p, &e)) {
    fprintf(stderr, "%s: %s: %s\n", prog_name, in, e.msg);
    return 1;
  }
  char *text = pb_disasm(&p);
  pb_program_free(&p);
  if (!text) {
    fprintf(stderr, "%s: out of memory\n", prog_name);
    return 1;
  }
  FILE *f = out ? fopen(out, "w") : stdout;
  if (!f) {
    fprintf(stderr, "%s: cannot create '%s': %s\n", prog_name, out, strerror(errno));
    free(text);
    return 1;
  }
  int ok = fputs(text, f) >= 0;
  if (out && fclose(f) != 0) ok = 0;
  free(text);
  if (!ok) {
    fprintf(stderr, "%s: cannot write '%s'\n", prog_name, out ? out : "standard output");
    return 1;
  }
  return 0;
}

/* ---- run ---- */

typedef struct {
  const char *name; /* NULL: the only tensor of its kind */
  const char *path;
} binding_t;

static int parse_binding(const char *arg, binding_t *b) {
  const char *eq = strchr(arg, '=');
  if (eq) {
    static char names[2 * MAX_BINDINGS][PB_NAME_MAX];
    static int used;
    size_t l = (size_t)(eq - arg);
    if (l == 0 || l >= PB_NAME_MAX || used == 2 * MAX_BINDINGS) return -1;
    memcpy(names[used], arg, l);
    names[used][l] = 0;
    b->name = names[used++];
    b->path = eq + 1;
  } else {
    b->name = NULL;
    b->path = arg;
  }
  return 0;
}

/* The tensor of `kind` a binding refers to; prints an error and returns NULL if none. */
static const pb_tensor_t *find_tensor(const pb_program_t *p, unsigned kind, const binding_t *b) {
  const char *what = kind == PB_TENSOR_INPUT ? "input" : "output";
  const pb_tensor_t *only = NULL;
  unsigned count = 0;
  for (uint32_t i = 0; i < p->n_tensors; i++) {
    if (p->tensors[i].kind != kind) continue;
    count++;
    only = &p->tensors[i];
    if (b->name && !strcmp(p->tensors[i].name, b->name)) return &p->tensors[i];
  }
  if (!b->name && count == 1) return only;
  if (b->name)
    fprintf(stderr, "%s run: the program has no %s tensor named '%s'; its %ss:", prog_name, what, b->name, what);
  else
    fprintf(stderr, "%s run: the program has %u %s tensors; name one with NAME=FILE:", prog_name, count, what);
  for (uint32_t i = 0; i < p->n_tensors; i++)
    if (p->tensors[i].kind == kind) fprintf(stderr, " '%s'", p->tensors[i].name);
  fprintf(stderr, "%s\n", count ? "" : " none");
  return NULL;
}

static void shape_str(char *buf, size_t len, unsigned rank, const uint64_t *dims) {
  size_t o = (size_t)snprintf(buf, len, "(");
  for (unsigned i = 0; i < rank && o < len; i++)
    o += (size_t)snprintf(buf + o, len - o, "%llu%s", (unsigned long long)dims[i], i + 1 < rank ? ", " : "");
  if (o < len) snprintf(buf + o, len - o, ")");
}

/* An input tensor's data from a .npy file: the program's shape, or (for a batched tensor) any number of samples. */
typedef struct {
  const pb_tensor_t *t;
  pb_npy_t a;
  uint64_t n; /* samples */
} in_data_t;

static int read_input(const pb_program_t *p, pb_runner_t *r, const binding_t *b, in_data_t *d) {
  const pb_tensor_t *t = find_tensor(p, PB_TENSOR_INPUT, b);
  if (!t) return -1;
  d->t = t;
  char err[512];
  if (pb_npy_read(b->path, &d->a, err, sizeof err)) {
    fprintf(stderr, "%s run: input '%s': %s\n", prog_name, t->name, err);
    return -1;
  }
  uint64_t want[PB_MAX_RANK];
  for (unsigned k = 0; k < t->rank; k++) want[k] = t->dims[k];
  int batched = (t->flags & PB_TF_BATCH) != 0;
  int same = d->a.rank == t->rank;
  for (unsigned k = batched ? 1 : 0; same && k < t->rank; k++) same = d->a.dims[k] == want[k];
  if (same && batched && d->a.dims[0] == 0) same = 0;
  if (!same) {
    char g[128], w[128];
    shape_str(g, sizeof g, d->a.rank, d->a.dims);
    shape_str(w, sizeof w, t->rank, want);
    fprintf(stderr, "%s run: input '%s' from '%s': shape %s does not match the program's %s%s\n", prog_name, t->name,
            b->path, g, w, batched ? " (any number of samples along the first axis)" : "");
    return -1;
  }
  unsigned dt = d->a.dtype;
  if (dt != t->dtype && !(dt == PB_DT_FLOAT32 && (t->dtype == PB_DT_INT8 || t->dtype == PB_DT_UINT8))) {
    fprintf(stderr, "%s run: input '%s' from '%s': tensor '%s' is %s; got %s data (give %s%s)\n", prog_name, t->name,
            b->path, t->name, pb_dtype_name(t->dtype), pb_dtype_name(dt), pb_dtype_name(t->dtype),
            (t->dtype == PB_DT_INT8 || t->dtype == PB_DT_UINT8) ? " or f32" : "");
    return -1;
  }
  d->n = batched ? d->a.dims[0] : 1;
  (void)r;
  return 0;
}

static void print_stats(const pb_program_t *p, pb_backend_t *be, const pb_runner_stats_t *s, double mhz) {
  const pb_counters_t *c = &s->cnt;
  uint64_t n = p->hw.n, useful = 0;
  for (uint32_t i = 0; i < p->n_layers; i++) useful += p->layers[i].macs;
  useful *= s->chunks;
  fprintf(stderr,
          "stats: backend %s, %llu instructions, %llu MACs, %llu DMA bytes, %llu cycles, array busy %.1f%%, "
          "%llu stall cycles, %.1f us at %g MHz\n",
          be->name, (unsigned long long)c->instrs, (unsigned long long)(c->array_busy * n * n),
          (unsigned long long)c->dma_bytes, (unsigned long long)c->cycles,
          c->cycles ? 100.0 * (double)c->array_busy / (double)c->cycles : 0.0, (unsigned long long)c->stalls,
          (double)c->cycles / mhz, mhz);
  uint64_t samples = s->samples ? s->samples : 1;
  fprintf(stderr,
          "stats: %llu samples in %llu run%s (%llu accelerator and %llu host steps); cycles: predicted %llu, "
          "measured %llu (%s); %.1f cycles per sample; array utilization %.1f%% (useful MACs / (N^2 x cycles)); "
          "%.0f samples/s at %g MHz\n",
          (unsigned long long)s->samples, (unsigned long long)s->chunks, s->chunks == 1 ? "" : "s",
          (unsigned long long)s->steps_accel, (unsigned long long)s->steps_host, (unsigned long long)s->predicted,
          (unsigned long long)c->cycles, s->predicted == c->cycles ? "equal" : "DIFFERENT",
          (double)c->cycles / (double)samples,
          c->cycles && useful ? 100.0 * (double)useful / ((double)c->cycles * (double)(n * n)) : 0.0,
          c->cycles ? (double)samples * mhz * 1e6 / (double)c->cycles : 0.0, mhz);
  pb_uart_backend_stats_t us;
  if (pb_backend_uart_stats(be, &us) == 0) {
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
  if (pb_systemc_info && pb_systemc_info(be, &si) == 0)
    fprintf(stderr, "stats: systemc model %s: simulated %.3f us (start writes to interrupts) = %llu cycles x %llu ps%s\n",
            si.model, (double)si.total_ps / 1e6, (unsigned long long)c->cycles, (unsigned long long)si.period_ps,
            si.total_ps == c->cycles * si.period_ps ? "" : " (NOT EQUAL)");
}

static int cmd_run(int argc, char **argv) {
  const char *prog = NULL, *backend = "ref";
  binding_t ins[MAX_BINDINGS], outs[MAX_BINDINGS];
  int nin = 0, nout = 0, stats = 0, raw = 0;
  double mhz = 100.0;
  pb_backend_opts_t bo = {0};
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    int has_val = i + 1 < argc;
    if (is_help(a)) {
      usage_run(stdout);
      return 0;
    } else if (!strcmp(a, "--backend") && has_val) {
      backend = argv[++i];
    } else if (!strcmp(a, "--input") && has_val) {
      if (nin == MAX_BINDINGS || parse_binding(argv[++i], &ins[nin++])) {
        fprintf(stderr, "%s run: bad --input '%s'\n", prog_name, argv[i]);
        return 2;
      }
    } else if (!strcmp(a, "--output") && has_val) {
      if (nout == MAX_BINDINGS || parse_binding(argv[++i], &outs[nout++])) {
        fprintf(stderr, "%s run: bad --output '%s'\n", prog_name, argv[i]);
        return 2;
      }
    } else if (!strcmp(a, "--stats")) {
      stats = 1;
    } else if (!strcmp(a, "--raw")) {
      raw = 1;
    } else if (!strcmp(a, "--cosim")) {
      bo.cosim = 1;
    } else if (!strcmp(a, "--port") && has_val) {
      bo.port = argv[++i];
    } else if ((!strcmp(a, "--baud") || !strcmp(a, "--timeout")) && has_val) {
      char *end;
      unsigned long v = strtoul(argv[++i], &end, 10);
      if (*end || v == 0 || v > 100000000ul) {
        fprintf(stderr, "%s run: %s wants a positive integer, got '%s'\n", prog_name, a, argv[i]);
        return 2;
      }
      if (!strcmp(a, "--baud")) bo.baud = (unsigned)v;
      else bo.timeout_ms = (unsigned)v;
    } else if (!strcmp(a, "--model") && has_val) {
      bo.model = argv[++i];
    } else if (!strcmp(a, "--trace")) {
      bo.trace_path = (has_val && argv[i + 1][0] != '-') ? argv[++i] : "build/logs/trace.fst";
    } else if (!strcmp(a, "--clock") && has_val) {
      char *end;
      mhz = strtod(argv[++i], &end);
      if (*end || !(mhz > 0)) {
        fprintf(stderr, "%s run: --clock wants MHz > 0, got '%s'\n", prog_name, argv[i]);
        return 2;
      }
    } else if (a[0] == '-') {
      fprintf(stderr, "%s run: unknown option or missing value: '%s'\n", prog_name, a);
      usage_run(stderr);
      return 2;
    } else if (!prog) {
      prog = a;
    } else {
      fprintf(stderr, "%s run: more than one program given ('%s', '%s')\n", prog_name, prog, a);
      return 2;
    }
  }
  if (!prog) {
    usage_run(stderr);
    return 2;
  }
  if (strcmp(backend, "ref") != 0 && strcmp(backend, "verilator") != 0 && strcmp(backend, "systemc") != 0 &&
      strcmp(backend, "uart") != 0) {
    fprintf(stderr, "%s run: unknown backend '%s' (available: %s)\n", prog_name, backend, pb_backend_names());
    return 2;
  }
  if (bo.model && strcmp(backend, "systemc") != 0) {
    fprintf(stderr, "%s run: --model needs --backend systemc\n", prog_name);
    return 2;
  }
  if ((bo.port || bo.baud || bo.timeout_ms) && strcmp(backend, "uart") != 0) {
    fprintf(stderr, "%s run: --port, --baud and --timeout need --backend uart\n", prog_name);
    return 2;
  }
  if (!bo.port && !strcmp(backend, "uart")) {
    fprintf(stderr, "%s run: --backend uart needs --port DEV (a serial port or the simulator's pseudo-terminal)\n",
            prog_name);
    return 2;
  }
  if ((bo.cosim || bo.trace_path) && strcmp(backend, "verilator") != 0) {
    fprintf(stderr, "%s run: --cosim and --trace need --backend verilator\n", prog_name);
    return 2;
  }
  pb_program_t p;
  pb_error_t e;
  if (pb_program_load(prog, &p, &e)) {
    fprintf(stderr, "%s run: %s: %s\n", prog_name, prog, e.msg);
    return 1;
  }
  int rc = 1;
  char err[1024];
  pb_backend_t *be = NULL;
  pb_runner_t *r = NULL;
  in_data_t data[MAX_BINDINGS];
  void *obuf[MAX_BINDINGS] = {0};
  memset(data, 0, sizeof data);
  if (pb_backend_open(backend, &p.hw, &bo, &be, err, sizeof err) || pb_runner_open(&p, be, &r, err, sizeof err)) {
    fprintf(stderr, "%s run: %s: %s\n", prog_name, prog, err);
    goto out;
  }
  uint64_t n = 0;
  for (int i = 0; i < nin; i++) {
    if (read_input(&p, r, &ins[i], &data[i])) goto out;
    for (int k = 0; k < i; k++)
      if (data[k].t == data[i].t) {
        fprintf(stderr, "%s run: input '%s' given twice\n", prog_name, data[i].t->name);
        goto out;
      }
    if (i > 0 && data[i].n != n) {
      fprintf(stderr, "%s run: input '%s' has %llu samples but '%s' has %llu\n", prog_name, data[i].t->name,
              (unsigned long long)data[i].n, data[0].t->name, (unsigned long long)n);
      goto out;
    }
    n = data[i].n;
  }
  int n_inputs = 0;
  for (uint32_t i = 0; i < p.n_tensors; i++) n_inputs += p.tensors[i].kind == PB_TENSOR_INPUT;
  if (nin != n_inputs) {
    fprintf(stderr, "%s run: the program has %d input tensor%s; give each with --input NAME=FILE:", prog_name,
            n_inputs, n_inputs == 1 ? "" : "s");
    for (uint32_t i = 0; i < p.n_tensors; i++)
      if (p.tensors[i].kind == PB_TENSOR_INPUT) fprintf(stderr, " '%s'", p.tensors[i].name);
    fprintf(stderr, "\n");
    goto out;
  }
  if (!n) n = 1;
  pb_runner_io_t rin[MAX_BINDINGS], rout[MAX_BINDINGS];
  const pb_tensor_t *tout[MAX_BINDINGS];
  for (int i = 0; i < nin; i++) rin[i] = (pb_runner_io_t){data[i].t->name, data[i].a.dtype, data[i].a.data};
  for (int i = 0; i < nout; i++) {
    const pb_tensor_t *t = find_tensor(&p, PB_TENSOR_OUTPUT, &outs[i]);
    if (!t) goto out;
    tout[i] = t;
    unsigned dt = (!raw && (t->flags & PB_TF_FLOAT_IO)) ? PB_DT_FLOAT32 : t->dtype;
    uint64_t per = pb_runner_sample_elems(r, t), cnt = (t->flags & PB_TF_BATCH) ? n : 1;
    obuf[i] = malloc(per * cnt * pb_dtype_size(dt) + 1);
    if (!obuf[i]) {
      fprintf(stderr, "%s run: out of memory\n", prog_name);
      goto out;
    }
    rout[i] = (pb_runner_io_t){t->name, dt, obuf[i]};
  }
  pb_runner_stats_t st;
  int run_rc = pb_runner_run(r, n, rin, nin, rout, nout, &st, err, sizeof err);
  if (stats) print_stats(&p, be, &st, mhz);
  if (bo.trace_path) fprintf(stderr, "trace: %s\n", bo.trace_path);
  if (run_rc) {
    fprintf(stderr, "%s run: %s: %s\n", prog_name, prog, err);
    goto out;
  }
  for (int i = 0; i < nout; i++) {
    const pb_tensor_t *t = tout[i];
    uint64_t dims[PB_MAX_RANK];
    for (unsigned d = 0; d < t->rank; d++) dims[d] = t->dims[d];
    if (t->flags & PB_TF_BATCH) dims[0] = n;
    int wrc = pb_npy_write(outs[i].path, rout[i].dtype, t->rank, dims, obuf[i], err, sizeof err);
    if (wrc) {
      fprintf(stderr, "%s run: output '%s': %s\n", prog_name, t->name, err);
      goto out;
    }
  }
  rc = 0;
out:
  for (int i = 0; i < MAX_BINDINGS; i++) {
    pb_npy_free(&data[i].a);
    free(obuf[i]);
  }
  pb_runner_close(r);
  if (be) be->close(be);
  pb_program_free(&p);
  return rc;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage_main(stderr);
    return 2;
  }
  const char *cmd = argv[1];
  if (is_help(cmd) || !strcmp(cmd, "help")) {
    if (argc > 2 && !strcmp(argv[2], "asm")) usage_asm(stdout);
    else if (argc > 2 && !strcmp(argv[2], "disasm")) usage_disasm(stdout);
    else if (argc > 2 && !strcmp(argv[2], "run")) usage_run(stdout);
    else if (argc > 2 && !strcmp(argv[2], "compile")) pb_cli_usage_compile(stdout);
    else if (argc > 2 && !strcmp(argv[2], "info")) pb_cli_usage_info(stdout);
    else usage_main(stdout);
    return 0;
  }
  if (!strcmp(cmd, "asm")) return cmd_asm(argc - 1, argv + 1);
  if (!strcmp(cmd, "disasm")) return cmd_disasm(argc - 1, argv + 1);
  if (!strcmp(cmd, "run")) return cmd_run(argc - 1, argv + 1);
  if (!strcmp(cmd, "compile")) return pb_cli_compile(argc - 1, argv + 1);
  if (!strcmp(cmd, "info")) return pb_cli_info(argc - 1, argv + 1);
  fprintf(stderr, "protobrain: unknown command '%s'\n", cmd);
  usage_main(stderr);
  return 2;
}
