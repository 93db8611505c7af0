/* SPDX-License-Identifier: Apache-2.0 */
/* The runner (runner.h). */
#include "runner.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hostops.h"
#include "protobrain/isa.h"
#include "protobrain/timing.h"
#include "tensor_io.h"

#define MAX_IO 64

struct pb_runner {
  const pb_program_t *p;
  pb_backend_t *b;
  uint64_t batch;
  pb_step_t whole;        /* the single accelerator step of a program without STEPS */
  const pb_step_t *steps;
  uint32_t n_steps;
  uint64_t *pred;         /* per step: predicted cycles (accelerator steps) */
  uint64_t pred_total;
  uint8_t *pad;           /* staging for a partial chunk: the largest tensor's batch, in f32 or its dtype */
  size_t pad_bytes;
  pb_runner_progress_fn progress;
  void *progress_user;
};

static int fail(char *err, size_t errlen, const char *fmt, ...) {
  if (errlen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
  }
  return -1;
}

static int batched(const pb_runner_t *r, const pb_tensor_t *t) { return r->batch > 0 && (t->flags & PB_TF_BATCH); }

void pb_runner_set_progress(pb_runner_t *r, pb_runner_progress_fn fn, void *user) {
  r->progress = fn;
  r->progress_user = user;
}

uint64_t pb_runner_batch(const pb_runner_t *r) { return r->batch ? r->batch : 1; }
uint64_t pb_runner_predicted(const pb_runner_t *r) { return r->pred_total; }

uint64_t pb_runner_sample_elems(const pb_runner_t *r, const pb_tensor_t *t) {
  uint64_t n = pb_tensor_elems(t);
  return batched(r, t) ? n / t->dims[0] : n;
}

/* Timing-model cycles of the slice [pc, pc + len), or 0 if it does not decode (the core will report it). */
static uint64_t predict(const pb_program_t *p, uint32_t pc0, uint32_t len) {
  pb_timing_t tm;
  pb_timing_init(&tm, &p->hw);
  int64_t last = -1;
  for (uint32_t pc = pc0; pc < pc0 + len; pc++) {
    pb_word_t w;
    pb_instr_t in;
    memcpy(w.bytes, p->code + (size_t)pc * PB_INSTR_BYTES, PB_INSTR_BYTES);
    if (pb_decode(&w, &in) != PB_ERR_NONE) return 0;
    last = pb_timing_issue(&tm, &in);
    if (in.op == PB_OP_HALT) return (uint64_t)(last + 1);
  }
  return 0;
}

static int overlaps_code(const pb_program_t *p, const pb_tensor_t *t) {
  uint64_t a = t->host_addr, e = a + pb_tensor_extent(t), c0 = p->code_addr,
           c1 = c0 + (uint64_t)p->code_len * PB_INSTR_BYTES;
  return a < c1 && c0 < e;
}

int pb_runner_open(const pb_program_t *p, pb_backend_t *b, pb_runner_t **out, char *err, size_t errlen) {
  *out = NULL;
  if (pb_backend_load(b, p, err, errlen)) return -1;
  pb_runner_t *r = calloc(1, sizeof *r);
  if (!r) return fail(err, errlen, "out of memory");
  r->p = p;
  r->b = b;
  r->whole = (pb_step_t){.kind = PB_STEP_ACCEL, .pc = 0, .len = p->code_len};
  r->steps = p->n_steps ? p->steps : &r->whole;
  r->n_steps = p->n_steps ? p->n_steps : 1;
  /* the batch: dims[0] of the BATCH tensors, which must agree */
  for (uint32_t i = 0; i < p->n_tensors; i++) {
    const pb_tensor_t *t = &p->tensors[i];
    if (t->kind != PB_TENSOR_INTERNAL && overlaps_code(p, t)) {
      pb_runner_close(r);
      return fail(err, errlen, "tensor '%s' (0x%x, %llu bytes) overlaps the program's code", t->name, t->host_addr,
                  (unsigned long long)pb_tensor_extent(t));
    }
    if (!(t->flags & PB_TF_BATCH)) continue;
    if (r->batch && r->batch != t->dims[0]) {
      uint64_t b0 = r->batch;
      pb_runner_close(r);
      return fail(err, errlen, "tensor '%s' has batch %u but another tensor has %llu", t->name, t->dims[0],
                  (unsigned long long)b0);
    }
    r->batch = t->dims[0];
  }
  r->pred = calloc(r->n_steps, sizeof *r->pred);
  if (!r->pred) {
    pb_runner_close(r);
    return fail(err, errlen, "out of memory");
  }
  for (uint32_t s = 0; s < r->n_steps; s++) {
    const pb_step_t *st = &r->steps[s];
    if (st->kind == PB_STEP_HOST) {
      char e[256];
      if (pb_hostop_check(p, st, e, sizeof e)) {
        pb_runner_close(r);
        return fail(err, errlen, "step %u: %s", s, e);
      }
      for (unsigned k = 0; k < st->n_out; k++)
        if (overlaps_code(p, &p->tensors[st->out[k]])) {
          pb_runner_close(r);
          return fail(err, errlen, "step %u: output '%s' overlaps the program's code", s, p->tensors[st->out[k]].name);
        }
    } else {
      r->pred[s] = predict(p, st->pc, st->len);
      r->pred_total += r->pred[s];
    }
  }
  /* staging buffer for partial chunks */
  size_t need = 0;
  for (uint32_t i = 0; i < p->n_tensors; i++) {
    const pb_tensor_t *t = &p->tensors[i];
    if (t->kind == PB_TENSOR_INTERNAL) continue;
    unsigned es = pb_dtype_size(t->dtype) > 4 ? pb_dtype_size(t->dtype) : 4;
    size_t bytes = (size_t)pb_tensor_elems(t) * es;
    if (bytes > need) need = bytes;
  }
  r->pad = malloc(need + 16);
  r->pad_bytes = need;
  if (!r->pad) {
    pb_runner_close(r);
    return fail(err, errlen, "out of memory");
  }
  *out = r;
  return 0;
}

void pb_runner_close(pb_runner_t *r) {
  if (!r) return;
  free(r->pred);
  free(r->pad);
  free(r);
}

/* The tensor of `kind` named by io (or the only one). */
static const pb_tensor_t *find(const pb_program_t *p, unsigned kind, const char *name, char *err, size_t errlen) {
  const pb_tensor_t *only = NULL;
  unsigned count = 0;
  for (uint32_t i = 0; i < p->n_tensors; i++) {
    const pb_tensor_t *t = &p->tensors[i];
    if (t->kind != kind) continue;
    count++;
    only = t;
    if (name && !strcmp(t->name, name)) return t;
  }
  if (!name && count == 1) return only;
  const char *what = kind == PB_TENSOR_INPUT ? "input" : "output";
  if (name) fail(err, errlen, "the program has no %s tensor named '%s'", what, name);
  else fail(err, errlen, "the program has %u %s tensors; name one", count, what);
  return NULL;
}

static int run_steps(pb_runner_t *r, pb_runner_stats_t *st, char *err, size_t errlen) {
  const pb_program_t *p = r->p;
  for (uint32_t s = 0; s < r->n_steps; s++) {
    const pb_step_t *x = &r->steps[s];
    if (x->kind == PB_STEP_HOST) {
      clock_t t0 = clock();
      pb_hostop_run(p, x, r->b->host);
      if (st) st->host_seconds += (double)(clock() - t0) / CLOCKS_PER_SEC, st->steps_host++;
      continue;
    }
    pb_run_status_t rs;
    char e[512];
    if (r->b->run(r->b, p->code_addr + x->pc * PB_INSTR_BYTES, x->len, &rs, e, sizeof e))
      return fail(err, errlen, "step %u: %s", s, e);
    if (st) {
      st->cnt.cycles += rs.cnt.cycles;
      st->cnt.array_busy += rs.cnt.array_busy;
      st->cnt.instrs += rs.cnt.instrs;
      st->cnt.dma_bytes += rs.cnt.dma_bytes;
      st->cnt.stalls += rs.cnt.stalls;
      st->predicted += r->pred[s];
      st->steps_accel++;
    }
    if (!rs.done) {
      uint32_t pc = x->pc + rs.fault_pc;
      char line[256] = "(past the end of the step)";
      if (rs.fault_pc < x->len) {
        pb_word_t w;
        memcpy(w.bytes, p->code + (size_t)pc * PB_INSTR_BYTES, PB_INSTR_BYTES);
        pb_isa_format_word(&w, line, sizeof line);
      }
      fail(err, errlen, "accelerator stopped with error %s (%u) at pc %u (step %u): %s: %s", pb_isa_error_name(rs.err),
           rs.err, pc, s, line, pb_isa_error_text(rs.err));
      return PB_RUNNER_E_ACCEL;
    }
  }
  return 0;
}

int pb_runner_run(pb_runner_t *r, uint64_t n, const pb_runner_io_t *in, int n_in, const pb_runner_io_t *out,
                  int n_out, pb_runner_stats_t *st, char *err, size_t errlen) {
  const pb_program_t *p = r->p;
  const pb_tensor_t *tin[MAX_IO], *tout[MAX_IO];
  if (n_in > MAX_IO || n_out > MAX_IO) return fail(err, errlen, "too many tensors");
  if (st) memset(st, 0, sizeof *st);
  int inputs = 0;
  for (uint32_t i = 0; i < p->n_tensors; i++) inputs += p->tensors[i].kind == PB_TENSOR_INPUT;
  if (n_in != inputs) return fail(err, errlen, "the program has %d input tensors; %d given", inputs, n_in);
  for (int i = 0; i < n_in; i++)
    if (!(tin[i] = find(p, PB_TENSOR_INPUT, in[i].name, err, errlen))) return -1;
  for (int i = 0; i < n_out; i++)
    if (!(tout[i] = find(p, PB_TENSOR_OUTPUT, out[i].name, err, errlen))) return -1;
  uint64_t B = pb_runner_batch(r);
  if (!r->batch) { /* no batch axis: one run, n must be 1 or dims[0] of the first input */
    if (n != 1 && !(n_in && n == tin[0]->dims[0])) n = 1;
  }
  uint64_t chunks = r->batch ? (n + B - 1) / B : 1;
  for (uint64_t c = 0; c < chunks; c++) {
    uint64_t s0 = c * B, ns = r->batch ? (n - s0 < B ? n - s0 : B) : B;
    for (int i = 0; i < n_in; i++) {
      const pb_tensor_t *t = tin[i];
      unsigned es = pb_dtype_size(in[i].dtype);
      uint64_t per = pb_runner_sample_elems(r, t);
      const uint8_t *src = (const uint8_t *)in[i].data + (r->batch ? s0 * per * es : 0);
      if (r->batch && ns < B) { /* partial chunk: repeat the last sample */
        for (uint64_t k = 0; k < B; k++)
          memcpy(r->pad + k * per * es, src + (k < ns ? k : ns - 1) * per * es, per * es);
        src = r->pad;
      }
      char e[512];
      if (pb_tensor_put(t, r->b->host, r->b->hw.host_bytes, src, in[i].dtype, e, sizeof e))
        return fail(err, errlen, "input '%s': %s", t->name, e);
    }
    int rc = run_steps(r, st, err, errlen);
    if (rc) return rc;
    for (int i = 0; i < n_out; i++) {
      const pb_tensor_t *t = tout[i];
      unsigned es = pb_dtype_size(out[i].dtype);
      uint64_t per = pb_runner_sample_elems(r, t);
      uint8_t *dst = (uint8_t *)out[i].data + (r->batch ? s0 * per * es : 0);
      uint8_t *to = (r->batch && ns < B) ? r->pad : dst;
      char e[512];
      if (pb_tensor_get(t, r->b->host, r->b->hw.host_bytes, to, out[i].dtype, e, sizeof e))
        return fail(err, errlen, "output '%s': %s", t->name, e);
      if (to != dst) memcpy(dst, r->pad, ns * per * es);
    }
    if (st) st->chunks++, st->samples += ns;
    if (r->progress) r->progress(r->progress_user, r->batch ? s0 + ns : n, n);
  }
  return 0;
}
