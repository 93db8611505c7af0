/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libprotobrain's public API (include/protobrain/protobrain.h, docs/driver.md) on top of the
 * backends (backend.h) and the runner (runner.h). Everything a run needs is allocated by
 * pb_open, pb_load_* and pb_reserve: per input and output tensor one staging buffer of
 * max_samples samples in the tensor's own dtype. pb_set_input quantizes or copies into it,
 * pb_run hands the buffers to the runner, pb_get_output dequantizes or copies out of it.
 */
#include "protobrain/protobrain.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "protobrain/pbin.h"
#include "protobrain_internal.h"
#include "runner.h"
#include "tensor_io.h"
#include "verilator/vsim.h"

_Static_assert((int)PB_INT8 == (int)PB_DT_INT8 && (int)PB_UINT8 == (int)PB_DT_UINT8 &&
                   (int)PB_INT32 == (int)PB_DT_INT32 && (int)PB_FLOAT32 == (int)PB_DT_FLOAT32 &&
                   (int)PB_INT64 == (int)PB_DT_INT64,
               "public dtypes are the program format's");
_Static_assert(PB_MAX_DIMS >= PB_MAX_RANK, "pb_tensor_info_t holds every rank");

#define ERR_BYTES 1024
#define MAX_IO 64 /* the runner's limit on tensors per run */

typedef struct {
  const pb_tensor_t *t;
  uint64_t per;      /* elements per sample */
  unsigned es;       /* bytes per element (the tensor's dtype) */
  uint8_t *buf;      /* max_samples samples, the tensor's dtype, row-major */
  uint64_t n_set;    /* inputs: samples set (0: not set) */
} io_t;

struct pb_ctx {
  char err[ERR_BYTES];
  char backend[32];
  pb_backend_opts_t bopts;
  char *trace_path, *model, *port; /* copies of the options' strings */
  int hw_fixed;
  pb_hw_t hw;               /* with hw_fixed: the parameters the backend was opened for */
  pb_backend_t *be;
  /* the loaded program */
  int loaded;
  char source[256];         /* the file's path, or "<buffer>", for messages */
  pb_program_t prog;
  pb_runner_t *runner;
  uint64_t batch, max_samples;
  int n_in, n_out;
  io_t *in, *out;
  pb_runner_io_t *rin, *rout;
  /* the last run */
  int ran;
  uint64_t last_n;
  pb_runner_stats_t stats;
  uint64_t macs_per_run;
  pb_progress_fn progress;
  void *progress_user;
};

static _Thread_local char tls_err[ERR_BYTES];

/* Record a message (printf format) for ctx, or for the thread when ctx is NULL; return st. */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static pb_status_t set_err(pb_ctx_t *ctx, pb_status_t st, const char *fmt, ...) {
  char *dst = ctx ? ctx->err : tls_err;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(dst, ERR_BYTES, fmt, ap);
  va_end(ap);
  return st;
}

const char *pb_version(void) { return PROTOBRAIN_VERSION; }

const char *pb_status_str(pb_status_t s) {
  switch (s) {
    case PB_OK: return "ok";
    case PB_E_ARG: return "invalid argument";
    case PB_E_IO: return "file error";
    case PB_E_FORMAT: return "invalid program";
    case PB_E_HW_MISMATCH: return "hardware parameters differ";
    case PB_E_NOT_LOADED: return "no program loaded";
    case PB_E_NAME: return "no tensor of that name";
    case PB_E_SHAPE: return "wrong shape or size";
    case PB_E_DTYPE: return "wrong data type";
    case PB_E_STATE: return "call out of order";
    case PB_E_BACKEND: return "backend failure";
    case PB_E_ACCEL: return "accelerator error";
    case PB_E_NOMEM: return "out of memory";
  }
  return "unknown status";
}

const char *pb_datatype_name(pb_datatype_t d) {
  return pb_dtype_size((unsigned)d) ? pb_dtype_name((unsigned)d) : "?";
}

size_t pb_datatype_size(pb_datatype_t d) { return pb_dtype_size((unsigned)d); }

const char *pb_backends(void) { return pb_backend_names(); }

const char *pb_last_error(const pb_ctx_t *ctx) { return ctx ? ctx->err : tls_err; }

static char *dup_str(const char *s) {
  if (!s) return NULL;
  size_t l = strlen(s) + 1;
  char *d = malloc(l);
  if (d) memcpy(d, s, l);
  return d;
}

/* Open ctx->be for hw. `who` names the calling function for messages. */
static pb_status_t open_backend(pb_ctx_t *ctx, const pb_hw_t *hw, const char *who) {
  char e[ERR_BYTES - 128], hs[96];
  pb_hw_format(hw, hs, sizeof hs);
  if (!strcmp(ctx->backend, "verilator") && !pb_vsim_find(hw)) {
    pb_backend_t *none = NULL;
    pb_backend_open(ctx->backend, hw, &ctx->bopts, &none, e, sizeof e); /* for its list of builds */
    if (none) none->close(none);
    return set_err(ctx, PB_E_HW_MISMATCH, "%s: backend %s", who, e); /* "verilator: no RTL build for ...; built: ..." */
  }
  if (pb_backend_open(ctx->backend, hw, &ctx->bopts, &ctx->be, e, sizeof e))
    return set_err(ctx, PB_E_BACKEND, "%s: cannot open backend %s for %s: %s", who, ctx->backend, hs, e);
  if (!pb_hw_equal(&ctx->be->hw, hw)) { /* a backend with fixed parameters (a board) reports its own */
    char bs[96];
    pb_hw_format(&ctx->be->hw, bs, sizeof bs);
    ctx->be->close(ctx->be);
    ctx->be = NULL;
    return set_err(ctx, PB_E_HW_MISMATCH, "%s: backend %s has hardware %s, not %s", who, ctx->backend, bs, hs);
  }
  return PB_OK;
}

/* Whether `name` is one of pb_backend_names() ("ref, verilator, ..."): the backends this build has. */
static int backend_known(const char *name) {
  size_t l = strlen(name);
  for (const char *p = pb_backend_names(); l && *p;) {
    const char *e = strchr(p, ',');
    size_t k = e ? (size_t)(e - p) : strlen(p);
    if (k == l && !strncmp(p, name, l)) return 1;
    if (!e) break;
    p = e + 1;
    while (*p == ' ') p++;
  }
  return 0;
}

pb_status_t pb_open(const char *backend, const pb_options_t *opts, pb_ctx_t **out) {
  if (!out) return set_err(NULL, PB_E_ARG, "pb_open: ctx (the pointer to the result) is NULL");
  *out = NULL;
  if (!backend) return set_err(NULL, PB_E_ARG, "pb_open: backend name is NULL (available: %s)", pb_backend_names());
  pb_options_t o = PB_OPTIONS_INIT;
  if (opts) {
    if (opts->size == 0 || opts->size > sizeof o)
      return set_err(NULL, PB_E_ARG, "pb_open: opts->size is %zu; initialize the options with PB_OPTIONS_INIT",
                     opts->size);
    memcpy(&o, opts, opts->size);
  }
  int is_vl = !strcmp(backend, "verilator"), is_sc = !strcmp(backend, "systemc");
  if (!backend_known(backend)) {
    if (is_sc)
      return set_err(NULL, PB_E_BACKEND, "pb_open: backend 'systemc' is not built into this library (available: %s)",
                     pb_backend_names());
    return set_err(NULL, PB_E_BACKEND, "pb_open: unknown backend '%s' (available: %s)", backend, pb_backend_names());
  }
  if ((o.cosim || o.trace_path) && !is_vl)
    return set_err(NULL, PB_E_ARG, "pb_open: options cosim and trace_path are for backend verilator, not %s", backend);
  if (o.model && (!is_sc || (strcmp(o.model, "ref") && strcmp(o.model, "rtl"))))
    return set_err(NULL, PB_E_ARG, "pb_open: option model='%s' is for backend systemc, as \"ref\" or \"rtl\"",
                   o.model);
  int is_uart = !strcmp(backend, "uart");
  if ((o.port || o.baud || o.timeout_ms) && !is_uart)
    return set_err(NULL, PB_E_ARG, "pb_open: options port, baud and timeout_ms are for backend uart, not %s", backend);
  if (is_uart && (!o.port || !*o.port))
    return set_err(NULL, PB_E_ARG, "pb_open: backend uart needs option port (the board's serial port)");
  pb_ctx_t *ctx = calloc(1, sizeof *ctx);
  if (!ctx) return set_err(NULL, PB_E_NOMEM, "pb_open: out of memory");
  snprintf(ctx->backend, sizeof ctx->backend, "%s", backend);
  ctx->trace_path = dup_str(o.trace_path);
  ctx->model = dup_str(o.model);
  ctx->port = dup_str(o.port);
  if ((o.trace_path && !ctx->trace_path) || (o.model && !ctx->model) || (o.port && !ctx->port)) {
    pb_close(ctx);
    return set_err(NULL, PB_E_NOMEM, "pb_open: out of memory");
  }
  ctx->bopts.cosim = o.cosim;
  ctx->bopts.trace_path = ctx->trace_path;
  ctx->bopts.model = ctx->model;
  ctx->bopts.max_cycles = o.max_cycles;
  ctx->bopts.port = ctx->port;
  ctx->bopts.baud = o.baud;
  ctx->bopts.timeout_ms = o.timeout_ms;
  if (o.hw) {
    pb_hw_t hw = {o.hw->n, o.hw->sp_rows, o.hw->acc_rows, o.hw->host_bytes, o.hw->rq_lanes};
    pb_error_t e;
    if (pb_hw_check(&hw, &e)) {
      pb_close(ctx);
      return set_err(NULL, PB_E_ARG, "pb_open: opts->hw: %s", e.msg);
    }
    ctx->hw_fixed = 1;
    ctx->hw = hw;
    pb_status_t st = open_backend(ctx, &hw, "pb_open");
    if (st != PB_OK) {
      set_err(NULL, st, "%s", ctx->err);
      pb_close(ctx);
      return st;
    }
  }
  *out = ctx;
  return PB_OK;
}

/* Drop the loaded program and everything allocated for it (the backend stays). */
static void unload(pb_ctx_t *ctx) {
  for (int i = 0; ctx->in && i < ctx->n_in; i++) free(ctx->in[i].buf);
  for (int i = 0; ctx->out && i < ctx->n_out; i++) free(ctx->out[i].buf);
  free(ctx->in);
  free(ctx->out);
  free(ctx->rin);
  free(ctx->rout);
  ctx->in = ctx->out = NULL;
  ctx->rin = ctx->rout = NULL;
  ctx->n_in = ctx->n_out = 0;
  pb_runner_close(ctx->runner);
  ctx->runner = NULL;
  if (ctx->loaded) pb_program_free(&ctx->prog);
  memset(&ctx->prog, 0, sizeof ctx->prog);
  ctx->loaded = 0;
  ctx->ran = 0;
  ctx->max_samples = 0;
}

void pb_close(pb_ctx_t *ctx) {
  if (!ctx) return;
  unload(ctx);
  if (ctx->be) ctx->be->close(ctx->be);
  free(ctx->trace_path);
  free(ctx->model);
  free(ctx->port);
  free(ctx);
}

#define CHECK_CTX(ctx, fn)                                                                 \
  do {                                                                                     \
    if (!(ctx)) return set_err(NULL, PB_E_ARG, fn ": ctx is NULL (open one with pb_open)"); \
  } while (0)

#define CHECK_LOADED(ctx, fn)                                                                                   \
  do {                                                                                                          \
    CHECK_CTX(ctx, fn);                                                                                         \
    if (!(ctx)->loaded)                                                                                         \
      return set_err(ctx, PB_E_NOT_LOADED, fn ": no program is loaded (call pb_load_file or pb_load_buffer first)"); \
  } while (0)

/* Allocate the staging buffers for max samples; the inputs become unset. */
static pb_status_t reserve(pb_ctx_t *ctx, uint64_t max, const char *who) {
  io_t *lists[2] = {ctx->in, ctx->out};
  int counts[2] = {ctx->n_in, ctx->n_out};
  /* first check every size, then allocate, so that a failure leaves the old buffers */
  for (int k = 0; k < 2; k++)
    for (int i = 0; i < counts[k]; i++) {
      io_t *x = &lists[k][i];
      if (x->per && x->es && max > SIZE_MAX / 16 / x->per / x->es)
        return set_err(ctx, PB_E_NOMEM, "%s: %llu samples of %s '%s' would need more than %zu bytes", who,
                       (unsigned long long)max, k ? "output" : "input", x->t->name, SIZE_MAX / 16);
    }
  uint8_t *nb[2][MAX_IO] = {{0}};
  for (int k = 0; k < 2; k++)
    for (int i = 0; i < counts[k]; i++) {
      io_t *x = &lists[k][i];
      size_t bytes = (size_t)(max * x->per * x->es);
      nb[k][i] = malloc(bytes ? bytes : 1);
      if (!nb[k][i]) {
        for (int kk = 0; kk < 2; kk++)
          for (int j = 0; j < counts[kk]; j++) free(nb[kk][j]);
        return set_err(ctx, PB_E_NOMEM, "%s: out of memory for %llu samples of %s '%s' (%zu bytes)", who,
                       (unsigned long long)max, k ? "output" : "input", x->t->name, bytes);
      }
    }
  for (int k = 0; k < 2; k++)
    for (int i = 0; i < counts[k]; i++) {
      free(lists[k][i].buf);
      lists[k][i].buf = nb[k][i];
      lists[k][i].n_set = 0;
    }
  for (int i = 0; i < ctx->n_in; i++) ctx->rin[i].data = ctx->in[i].buf;
  for (int i = 0; i < ctx->n_out; i++) ctx->rout[i].data = ctx->out[i].buf;
  ctx->max_samples = max;
  ctx->ran = 0;
  return PB_OK;
}

/* Load the parsed program ctx->prog (owned by ctx from here on). */
static pb_status_t load_program(pb_ctx_t *ctx, const char *who) {
  pb_program_t *p = &ctx->prog;
  ctx->loaded = 1; /* from here, unload() frees the program */
  char want[96], have[96];
  pb_hw_format(&p->hw, want, sizeof want);
  if (ctx->hw_fixed && !pb_hw_equal(&ctx->hw, &p->hw)) {
    pb_hw_format(&ctx->hw, have, sizeof have);
    set_err(ctx, PB_E_HW_MISMATCH, "%s: program '%s' was built for hardware %s; backend %s was opened for %s", who,
            ctx->source, want, ctx->backend, have);
    unload(ctx);
    return PB_E_HW_MISMATCH;
  }
  if (ctx->be && !pb_hw_equal(&ctx->be->hw, &p->hw)) { /* another program's parameters: a new backend */
    ctx->be->close(ctx->be);
    ctx->be = NULL;
  }
  if (!ctx->be) {
    pb_status_t st = open_backend(ctx, &p->hw, who);
    if (st != PB_OK) {
      char e[ERR_BYTES];
      snprintf(e, sizeof e, "%s", ctx->err);
      set_err(ctx, st, "%s (program '%s')", e, ctx->source);
      unload(ctx);
      return st;
    }
  }
  char e[ERR_BYTES - 128];
  if (pb_runner_open(p, ctx->be, &ctx->runner, e, sizeof e)) {
    set_err(ctx, PB_E_FORMAT, "%s: program '%s': %s", who, ctx->source, e);
    unload(ctx);
    return PB_E_FORMAT;
  }
  for (uint32_t i = 0; i < p->n_tensors; i++) {
    ctx->n_in += p->tensors[i].kind == PB_TENSOR_INPUT;
    ctx->n_out += p->tensors[i].kind == PB_TENSOR_OUTPUT;
  }
  if (ctx->n_in > MAX_IO || ctx->n_out > MAX_IO) {
    set_err(ctx, PB_E_FORMAT, "%s: program '%s' has %d inputs and %d outputs; this library takes at most %d of each",
            who, ctx->source, ctx->n_in, ctx->n_out, MAX_IO);
    unload(ctx);
    return PB_E_FORMAT;
  }
  ctx->in = calloc((size_t)ctx->n_in + 1, sizeof *ctx->in);
  ctx->out = calloc((size_t)ctx->n_out + 1, sizeof *ctx->out);
  ctx->rin = calloc((size_t)ctx->n_in + 1, sizeof *ctx->rin);
  ctx->rout = calloc((size_t)ctx->n_out + 1, sizeof *ctx->rout);
  if (!ctx->in || !ctx->out || !ctx->rin || !ctx->rout) {
    set_err(ctx, PB_E_NOMEM, "%s: out of memory", who);
    unload(ctx);
    return PB_E_NOMEM;
  }
  int ni = 0, no = 0;
  for (uint32_t i = 0; i < p->n_tensors; i++) {
    const pb_tensor_t *t = &p->tensors[i];
    if (t->kind != PB_TENSOR_INPUT && t->kind != PB_TENSOR_OUTPUT) continue;
    io_t *x = t->kind == PB_TENSOR_INPUT ? &ctx->in[ni] : &ctx->out[no];
    pb_runner_io_t *r = t->kind == PB_TENSOR_INPUT ? &ctx->rin[ni++] : &ctx->rout[no++];
    x->t = t;
    x->per = pb_runner_sample_elems(ctx->runner, t);
    x->es = pb_dtype_size(t->dtype);
    *r = (pb_runner_io_t){t->name, t->dtype, NULL};
  }
  ctx->batch = pb_runner_batch(ctx->runner);
  ctx->macs_per_run = 0;
  for (uint32_t i = 0; i < p->n_layers; i++) ctx->macs_per_run += p->layers[i].macs;
  pb_status_t st = reserve(ctx, ctx->batch, who);
  if (st != PB_OK) {
    unload(ctx);
    return st;
  }
  return PB_OK;
}

static pb_status_t load_bytes(pb_ctx_t *ctx, const uint8_t *buf, size_t len, const char *who) {
  pb_error_t e;
  if (pb_program_read(buf, len, &ctx->prog, &e)) {
    memset(&ctx->prog, 0, sizeof ctx->prog);
    return set_err(ctx, PB_E_FORMAT, "%s: '%s' is not a valid program: %s", who, ctx->source, e.msg);
  }
  return load_program(ctx, who);
}

pb_status_t pb_load_file(pb_ctx_t *ctx, const char *path) {
  CHECK_CTX(ctx, "pb_load_file");
  if (!path) return set_err(ctx, PB_E_ARG, "pb_load_file: path is NULL");
  unload(ctx);
  snprintf(ctx->source, sizeof ctx->source, "%s", path);
  FILE *f = fopen(path, "rb");
  if (!f) return set_err(ctx, PB_E_IO, "pb_load_file: cannot open '%s': %s", path, strerror(errno));
  uint8_t *buf = NULL;
  size_t len = 0, cap = 0;
  int bad = 0;
  for (;;) {
    if (len == cap) {
      if (cap >= PB_PBIN_MAX_FILE_BYTES) break; /* the reader refuses it with its size */
      size_t nc = cap ? 2 * cap : 65536;
      uint8_t *nb = realloc(buf, nc);
      if (!nb) {
        free(buf);
        fclose(f);
        return set_err(ctx, PB_E_NOMEM, "pb_load_file: out of memory reading '%s' (%zu bytes so far)", path, len);
      }
      buf = nb;
      cap = nc;
    }
    size_t got = fread(buf + len, 1, cap - len, f);
    len += got;
    if (got == 0) {
      bad = ferror(f);
      break;
    }
  }
  int eno = errno;
  fclose(f);
  if (bad) {
    free(buf);
    return set_err(ctx, PB_E_IO, "pb_load_file: cannot read '%s': %s", path, strerror(eno));
  }
  pb_status_t st = load_bytes(ctx, buf ? buf : (const uint8_t *)"", len, "pb_load_file");
  free(buf);
  return st;
}

pb_status_t pb_load_buffer(pb_ctx_t *ctx, const void *buf, size_t len) {
  CHECK_CTX(ctx, "pb_load_buffer");
  if (!buf) return set_err(ctx, PB_E_ARG, "pb_load_buffer: buf is NULL");
  unload(ctx);
  snprintf(ctx->source, sizeof ctx->source, "<buffer of %zu bytes>", len);
  return load_bytes(ctx, buf, len, "pb_load_buffer");
}

pb_status_t pb_reserve(pb_ctx_t *ctx, uint64_t max_samples) {
  CHECK_LOADED(ctx, "pb_reserve");
  if (max_samples == 0) return set_err(ctx, PB_E_ARG, "pb_reserve: max_samples is 0");
  uint64_t batched = 0;
  for (uint32_t i = 0; i < ctx->prog.n_tensors; i++) batched |= ctx->prog.tensors[i].flags & PB_TF_BATCH;
  if (!batched && max_samples > 1)
    return set_err(ctx, PB_E_SHAPE,
                   "pb_reserve: %llu samples: program '%s' has no batch axis (no tensor is marked BATCH); it takes "
                   "exactly 1 sample",
                   (unsigned long long)max_samples, ctx->source);
  return reserve(ctx, max_samples, "pb_reserve");
}

pb_status_t pb_get_info(pb_ctx_t *ctx, pb_program_info_t *info) {
  CHECK_LOADED(ctx, "pb_get_info");
  if (!info) return set_err(ctx, PB_E_ARG, "pb_get_info: info is NULL");
  const pb_program_t *p = &ctx->prog;
  memset(info, 0, sizeof *info);
  info->hw = (pb_hw_params_t){p->hw.n, p->hw.sp_rows, p->hw.acc_rows, p->hw.host_bytes, p->hw.rq_lanes};
  info->backend = ctx->backend;
  info->batch = ctx->batch;
  info->max_samples = ctx->max_samples;
  info->n_inputs = ctx->n_in;
  info->n_outputs = ctx->n_out;
  info->n_instrs = p->code_len;
  if (!p->n_steps) info->accel_steps = 1;
  for (uint32_t s = 0; s < p->n_steps; s++) {
    info->accel_steps += p->steps[s].kind == PB_STEP_ACCEL;
    info->host_steps += p->steps[s].kind == PB_STEP_HOST;
  }
  info->predicted_cycles = pb_runner_predicted(ctx->runner);
  info->macs = ctx->macs_per_run;
  return PB_OK;
}

static void fill_info(const io_t *x, pb_tensor_info_t *info) {
  const pb_tensor_t *t = x->t;
  memset(info, 0, sizeof *info);
  info->name = t->name;
  info->dtype = (pb_datatype_t)t->dtype;
  info->rank = t->rank;
  for (unsigned d = 0; d < t->rank; d++) info->dims[d] = t->dims[d];
  info->batched = (t->flags & PB_TF_BATCH) != 0;
  info->is_float = (t->flags & PB_TF_FLOAT_IO) != 0;
  int q = t->dtype == PB_DT_INT8 || t->dtype == PB_DT_UINT8;
  info->scale = q ? t->scale : 1.0f;
  info->zero_point = q ? t->zero_point : 0;
  info->sample_elems = x->per;
}

pb_status_t pb_input_info(pb_ctx_t *ctx, int index, pb_tensor_info_t *info) {
  CHECK_LOADED(ctx, "pb_input_info");
  if (!info) return set_err(ctx, PB_E_ARG, "pb_input_info: info is NULL");
  if (index < 0 || index >= ctx->n_in)
    return set_err(ctx, PB_E_ARG, "pb_input_info: index %d out of range: program '%s' has %d input%s", index,
                   ctx->source, ctx->n_in, ctx->n_in == 1 ? "" : "s");
  fill_info(&ctx->in[index], info);
  return PB_OK;
}

pb_status_t pb_output_info(pb_ctx_t *ctx, int index, pb_tensor_info_t *info) {
  CHECK_LOADED(ctx, "pb_output_info");
  if (!info) return set_err(ctx, PB_E_ARG, "pb_output_info: info is NULL");
  if (index < 0 || index >= ctx->n_out)
    return set_err(ctx, PB_E_ARG, "pb_output_info: index %d out of range: program '%s' has %d output%s", index,
                   ctx->source, ctx->n_out, ctx->n_out == 1 ? "" : "s");
  fill_info(&ctx->out[index], info);
  return PB_OK;
}

/* "'a', 'b'" for messages */
static void list_names(const io_t *x, int n, char *buf, size_t len) {
  size_t o = 0;
  buf[0] = 0;
  for (int i = 0; i < n && o < len; i++)
    o += (size_t)snprintf(buf + o, len - o, "%s'%s'", i ? ", " : "", x[i].t->name);
  if (!n) snprintf(buf, len, "none");
}

/* The io_t named `name` (NULL: the only one) among x[0..n). */
static io_t *find_io(pb_ctx_t *ctx, io_t *x, int n, const char *name, const char *what, const char *who) {
  char names[512];
  if (!n) {
    set_err(ctx, PB_E_NAME, "%s: program '%s' has no %ss", who, ctx->source, what);
    return NULL;
  }
  if (!name) {
    if (n == 1) return &x[0];
    list_names(x, n, names, sizeof names);
    set_err(ctx, PB_E_NAME, "%s: name NULL, but program '%s' has %d %ss (%s): name one", who, ctx->source, n, what,
            names);
    return NULL;
  }
  for (int i = 0; i < n; i++)
    if (!strcmp(x[i].t->name, name)) return &x[i];
  list_names(x, n, names, sizeof names);
  set_err(ctx, PB_E_NAME, "%s: program '%s' has no %s named '%s'; its %ss: %s", who, ctx->source, what, name, what,
          names);
  return NULL;
}

static void shape_str(char *buf, size_t len, const pb_tensor_t *t, int skip_batch) {
  size_t o = (size_t)snprintf(buf, len, "(");
  for (unsigned d = skip_batch ? 1 : 0; d < t->rank && o < len; d++)
    o += (size_t)snprintf(buf + o, len - o, "%u%s", t->dims[d], d + 1 < t->rank ? ", " : "");
  if (o < len) snprintf(buf + o, len - o, ")");
}

/* Whether data of dtype d may be given to / read from tensor t; message otherwise. */
static pb_status_t check_dtype(pb_ctx_t *ctx, const pb_tensor_t *t, pb_datatype_t d, const char *what,
                               const char *who) {
  int q = t->dtype == PB_DT_INT8 || t->dtype == PB_DT_UINT8;
  if (!pb_dtype_size((unsigned)d))
    return set_err(ctx, PB_E_DTYPE, "%s: %s '%s': dtype %d is not a pb_datatype_t (give %s%s)", who, what, t->name,
                   (int)d, pb_dtype_name(t->dtype), q ? " or f32" : "");
  if ((unsigned)d != t->dtype && !(d == PB_FLOAT32 && q))
    return set_err(ctx, PB_E_DTYPE, "%s: %s '%s' is %s; got %s data (give %s%s)", who, what, t->name,
                   pb_dtype_name(t->dtype), pb_dtype_name((unsigned)d), pb_dtype_name(t->dtype), q ? " or f32" : "");
  return PB_OK;
}

pb_status_t pb_set_input(pb_ctx_t *ctx, const char *name, pb_datatype_t dtype, const void *data, size_t bytes,
                         uint64_t n) {
  static const char *who = "pb_set_input";
  CHECK_LOADED(ctx, "pb_set_input");
  io_t *x = find_io(ctx, ctx->in, ctx->n_in, name, "input", who);
  if (!x) return PB_E_NAME;
  const pb_tensor_t *t = x->t;
  if (!data) return set_err(ctx, PB_E_ARG, "%s: input '%s': data is NULL", who, t->name);
  pb_status_t st = check_dtype(ctx, t, dtype, "input", who);
  if (st != PB_OK) return st;
  int batched = (t->flags & PB_TF_BATCH) != 0;
  char shape[96];
  shape_str(shape, sizeof shape, t, batched);
  if (n == 0) return set_err(ctx, PB_E_SHAPE, "%s: input '%s': n is 0 samples", who, t->name);
  if (n > ctx->max_samples) {
    if (ctx->max_samples == 1 && ctx->batch == 1 && !batched)
      return set_err(ctx, PB_E_SHAPE, "%s: input '%s': %llu samples given; the tensor has no batch axis: give 1 "
                     "sample of shape %s", who, t->name, (unsigned long long)n, shape);
    return set_err(ctx, PB_E_SHAPE,
                   "%s: input '%s': %llu samples given; the context holds at most %llu (compiled batch %llu; "
                   "pb_reserve for more)",
                   who, t->name, (unsigned long long)n, (unsigned long long)ctx->max_samples,
                   (unsigned long long)ctx->batch);
  }
  size_t ds = pb_dtype_size((unsigned)dtype);
  uint64_t want = n * x->per * ds;
  if (bytes != want)
    return set_err(ctx, PB_E_SHAPE,
                   "%s: input '%s': %llu sample%s of shape %s as %s take %llu bytes; got %zu (%llu elements of %zu "
                   "bytes per sample)",
                   who, t->name, (unsigned long long)n, n == 1 ? "" : "s", shape, pb_dtype_name((unsigned)dtype),
                   (unsigned long long)want, bytes, (unsigned long long)x->per, ds);
  uint64_t count = n * x->per;
  if ((unsigned)dtype == t->dtype) {
    memcpy(x->buf, data, (size_t)(count * x->es));
  } else { /* float32 -> int8/uint8: ONNX QuantizeLinear */
    const uint8_t *src = data;
    for (uint64_t i = 0; i < count; i++) {
      float f;
      memcpy(&f, src + 4 * i, 4);
      x->buf[i] = (uint8_t)pb_quantize(f, t->scale, t->zero_point, t->dtype);
    }
  }
  x->n_set = n;
  return PB_OK;
}

pb_status_t pb_run(pb_ctx_t *ctx) {
  CHECK_LOADED(ctx, "pb_run");
  uint64_t n = 0;
  const io_t *first = NULL;
  for (int i = 0; i < ctx->n_in; i++) {
    const io_t *x = &ctx->in[i];
    if (!x->n_set)
      return set_err(ctx, PB_E_STATE, "pb_run: input '%s' of program '%s' is not set (pb_set_input)", x->t->name,
                     ctx->source);
    if (first && x->n_set != n)
      return set_err(ctx, PB_E_SHAPE, "pb_run: input '%s' holds %llu samples but input '%s' holds %llu", x->t->name,
                     (unsigned long long)x->n_set, first->t->name, (unsigned long long)n);
    first = x;
    n = x->n_set;
  }
  if (!n) n = 1; /* a program without inputs */
  ctx->ran = 0;
  pb_runner_set_progress(ctx->runner, ctx->progress, ctx->progress_user);
  char e[ERR_BYTES - 128];
  int rc = pb_runner_run(ctx->runner, n, ctx->rin, ctx->n_in, ctx->rout, ctx->n_out, &ctx->stats, e, sizeof e);
  if (rc == PB_RUNNER_E_ACCEL) /* the same message on every backend: they must agree */
    return set_err(ctx, PB_E_ACCEL, "pb_run: program '%s': %s", ctx->source, e);
  if (rc) return set_err(ctx, PB_E_BACKEND, "pb_run: program '%s' on backend %s: %s", ctx->source, ctx->backend, e);
  ctx->ran = 1;
  ctx->last_n = n;
  return PB_OK;
}

pb_status_t pb_get_output(pb_ctx_t *ctx, const char *name, pb_datatype_t dtype, void *data, size_t bytes) {
  static const char *who = "pb_get_output";
  CHECK_LOADED(ctx, "pb_get_output");
  io_t *x = find_io(ctx, ctx->out, ctx->n_out, name, "output", who);
  if (!x) return PB_E_NAME;
  const pb_tensor_t *t = x->t;
  if (!ctx->ran)
    return set_err(ctx, PB_E_STATE, "%s: output '%s': no results: pb_run has not succeeded since the program or the "
                   "reserve changed", who, t->name);
  if (!data) return set_err(ctx, PB_E_ARG, "%s: output '%s': data is NULL", who, t->name);
  pb_status_t st = check_dtype(ctx, t, dtype, "output", who);
  if (st != PB_OK) return st;
  uint64_t n = (t->flags & PB_TF_BATCH) ? ctx->last_n : 1, count = n * x->per;
  size_t ds = pb_dtype_size((unsigned)dtype);
  if (bytes < count * ds) {
    char shape[96];
    shape_str(shape, sizeof shape, t, (t->flags & PB_TF_BATCH) != 0);
    return set_err(ctx, PB_E_SHAPE, "%s: output '%s': %llu sample%s of shape %s as %s take %llu bytes; the buffer has "
                   "%zu", who, t->name, (unsigned long long)n, n == 1 ? "" : "s", shape,
                   pb_dtype_name((unsigned)dtype), (unsigned long long)(count * ds), bytes);
  }
  if ((unsigned)dtype == t->dtype) {
    memcpy(data, x->buf, (size_t)(count * x->es));
  } else { /* int8/uint8 -> float32: ONNX DequantizeLinear */
    uint8_t *dst = data;
    for (uint64_t i = 0; i < count; i++) {
      int32_t q = t->dtype == PB_DT_INT8 ? (int32_t)(int8_t)x->buf[i] : (int32_t)x->buf[i];
      float f = pb_dequantize(q, t->scale, t->zero_point);
      memcpy(dst + 4 * i, &f, 4);
    }
  }
  return PB_OK;
}

pb_status_t pb_get_perf(pb_ctx_t *ctx, pb_perf_t *perf) {
  CHECK_LOADED(ctx, "pb_get_perf");
  if (!perf) return set_err(ctx, PB_E_ARG, "pb_get_perf: perf is NULL");
  if (!ctx->ran) return set_err(ctx, PB_E_STATE, "pb_get_perf: no counters: pb_run has not succeeded");
  const pb_runner_stats_t *s = &ctx->stats;
  memset(perf, 0, sizeof *perf);
  perf->cycles = s->cnt.cycles;
  perf->predicted_cycles = s->predicted;
  perf->array_busy = s->cnt.array_busy;
  perf->instrs = s->cnt.instrs;
  perf->dma_bytes = s->cnt.dma_bytes;
  perf->stalls = s->cnt.stalls;
  perf->macs = ctx->macs_per_run * s->chunks;
  perf->samples = s->samples;
  perf->runs = s->chunks;
  perf->accel_steps = s->steps_accel;
  perf->host_steps = s->steps_host;
  perf->host_seconds = s->host_seconds;
  return PB_OK;
}

pb_status_t pb_set_progress(pb_ctx_t *ctx, pb_progress_fn fn, void *user) {
  CHECK_CTX(ctx, "pb_set_progress");
  ctx->progress = fn;
  ctx->progress_user = user;
  return PB_OK;
}

/* ---- protobrain_internal.h: for the CLI, which links the library statically ---- */

pb_backend_t *pb_ctx_backend(pb_ctx_t *ctx) { return ctx ? ctx->be : NULL; }
