/* SPDX-License-Identifier: Apache-2.0 */
/* Lock-step co-simulation of the Verilated core against the reference model (cosim.h). */
#include "cosim.h"

#include <stdlib.h>
#include <string.h>


#define WINDOW 4096 /* instructions that may be in flight or retired ahead of the model */

typedef struct {
  pb_mem_t mem;
  uint32_t addr, len;
  uint8_t data[4 * PB_VSIM_MAX_N];
} rec_t;

typedef struct {
  rec_t *v;
  uint32_t n, cap;
} recs_t;

typedef struct {
  uint32_t pc;        /* which PC this slot holds */
  int used, retired, issued;
  int64_t issue_cycle;
  recs_t w;           /* RTL writes */
} slot_t;

typedef struct {
  slot_t slot[WINDOW];
  recs_t model_w;     /* the model's writes for the instruction it is executing */
  FILE *log;
  const pb_hw_t *hw;
} cs_t;

static int push(recs_t *r, pb_mem_t mem, uint32_t addr, const uint8_t *data, uint32_t len) {
  if (r->n == r->cap) {
    uint32_t cap = r->cap ? 2 * r->cap : 16;
    rec_t *nv = realloc(r->v, cap * sizeof *nv);
    if (!nv) return -1;
    r->v = nv;
    r->cap = cap;
  }
  rec_t *x = &r->v[r->n++];
  x->mem = mem;
  x->addr = addr;
  x->len = len > sizeof x->data ? (uint32_t)sizeof x->data : len;
  memcpy(x->data, data, x->len);
  return 0;
}

static slot_t *slot_for(cs_t *c, uint32_t pc) {
  slot_t *s = &c->slot[pc % WINDOW];
  if (!s->used) {
    s->used = 1;
    s->pc = pc;
    s->retired = s->issued = 0;
    s->w.n = 0;
  }
  return s->pc == pc ? s : NULL;
}

static void model_hook(void *ctx, uint32_t pc, pb_mem_t mem, uint32_t addr, const uint8_t *d, uint32_t len) {
  (void)pc;
  push(&((cs_t *)ctx)->model_w, mem, addr, d, len);
}

static const char *mem_name(pb_mem_t m) { return m == PB_MEM_HOST ? "host" : m == PB_MEM_SP ? "scratchpad" : "accumulator"; }

static void describe(const rec_t *r, const pb_hw_t *hw, char *buf, size_t len) {
  size_t o = 0;
  if (r->mem == PB_MEM_HOST)
    o += (size_t)snprintf(buf, len, "host[0x%x..+%u] =", r->addr, r->len);
  else if (r->mem == PB_MEM_SP)
    o += (size_t)snprintf(buf, len, "sp row %u col %u..+%u =", r->addr / hw->n, r->addr % hw->n, r->len);
  else
    o += (size_t)snprintf(buf, len, "acc row %u =", r->addr / (4 * hw->n));
  for (uint32_t i = 0; i < r->len && o + 12 < len; i += r->mem == PB_MEM_ACC ? 4 : 1) {
    if (r->mem == PB_MEM_ACC) {
      int32_t v;
      memcpy(&v, r->data + i, 4);
      o += (size_t)snprintf(buf + o, len - o, " %d", v);
    } else {
      o += (size_t)snprintf(buf + o, len - o, " %d", (int8_t)r->data[i]);
    }
  }
}

static void report_instr(cs_t *c, pb_model_t *m, uint32_t prog_addr, uint32_t pc) {
  char line[256] = "?";
  uint64_t a = (uint64_t)prog_addr + (uint64_t)pc * PB_INSTR_BYTES;
  if (a + PB_INSTR_BYTES <= pb_model_hw(m)->host_bytes) {
    pb_word_t w;
    memcpy(w.bytes, pb_model_host(m) + a, PB_INSTR_BYTES);
    pb_isa_format_word(&w, line, sizeof line);
  }
  fprintf(c->log, "  instruction: pc %u: %s\n", pc, line);
}

/* Compare the RTL's writes for pc with the model's. 0 if equal. */
static int compare_writes(cs_t *c, const recs_t *rtl, const recs_t *mod, pb_model_t *m, uint32_t prog_addr,
                          uint32_t pc) {
  uint32_t n = rtl->n < mod->n ? rtl->n : mod->n;
  for (uint32_t i = 0; i < n; i++) {
    const rec_t *a = &rtl->v[i], *b = &mod->v[i];
    if (a->mem != b->mem || a->addr != b->addr || a->len != b->len || memcmp(a->data, b->data, a->len) != 0) {
      char ga[512], gb[512];
      describe(a, c->hw, ga, sizeof ga);
      describe(b, c->hw, gb, sizeof gb);
      fprintf(c->log, "cosim: DIVERGENCE at pc %u, write %u of the instruction (%s)\n", pc, i, mem_name(b->mem));
      report_instr(c, m, prog_addr, pc);
      fprintf(c->log, "  expected (model): %s\n  got (RTL):        %s\n", gb, ga);
      return -1;
    }
  }
  if (rtl->n != mod->n) {
    fprintf(c->log, "cosim: DIVERGENCE at pc %u: RTL made %u writes, model %u\n", pc, rtl->n, mod->n);
    report_instr(c, m, prog_addr, pc);
    if (rtl->n > n) {
      char g[512];
      describe(&rtl->v[n], c->hw, g, sizeof g);
      fprintf(c->log, "  first extra RTL write: %s\n", g);
    } else {
      char g[512];
      describe(&mod->v[n], c->hw, g, sizeof g);
      fprintf(c->log, "  first missing write (model): %s\n", g);
    }
    return -1;
  }
  return 0;
}

static uint64_t reg64(const pb_vsim_ops_t *ops, pb_vsim_t *v, uint32_t addr) {
  return (uint64_t)ops->reg_read(v, addr) | (uint64_t)ops->reg_read(v, addr + 4) << 32;
}

int pb_cosim_run_image(const pb_vsim_ops_t *ops, uint8_t *host, pb_model_t *model, uint32_t prog_addr,
                       uint32_t prog_len, const char *trace_path, unsigned backpressure, uint64_t bp_seed,
                       const pb_cosim_opts_t *opts, pb_cosim_result_t *res) {
  pb_vsim_t *v = ops->create(trace_path);
  if (!v) {
    fprintf(opts->log ? opts->log : stderr, "cosim: cannot create the simulation\n");
    memset(res, 0, sizeof *res);
    return -1;
  }
  memcpy(ops->host(v), host, ops->hw.host_bytes);
  pb_cosim_opts_t o = *opts;
  if (backpressure) {
    ops->set_backpressure(v, backpressure, bp_seed);
    if (o.timing < 0) o.timing = 0;
  }
  int rc = pb_cosim_run(ops, v, model, prog_addr, prog_len, &o, res);
  memcpy(host, ops->host(v), ops->hw.host_bytes);
  ops->destroy(v);
  return rc;
}

int pb_cosim_run(const pb_vsim_ops_t *ops, pb_vsim_t *v, pb_model_t *model, uint32_t prog_addr, uint32_t prog_len,
                 const pb_cosim_opts_t *opts, pb_cosim_result_t *res) {
  memset(res, 0, sizeof *res);
  FILE *log = opts->log ? opts->log : stderr;
  cs_t *c = calloc(1, sizeof *c);
  if (!c) {
    fprintf(log, "cosim: out of memory\n");
    return -1;
  }
  c->log = log;
  c->hw = &ops->hw;
  int compare = opts->compare && model;
  int timing = compare && opts->timing != 0;
  if (compare) {
    memcpy(pb_model_host(model), ops->host(v), ops->hw.host_bytes);
    pb_model_set_write_hook(model, model_hook, c);
    pb_model_start(model, prog_addr, prog_len);
  }
  ops->reg_write(v, PB_REG_PROG_ADDR, prog_addr);
  ops->reg_write(v, PB_REG_PROG_LEN, prog_len);
  ops->reg_write(v, PB_REG_CTRL, 1);

  uint64_t max = opts->max_cycles ? opts->max_cycles : 200000000ull, cycle = 0;
  uint32_t next_pc = 0; /* next instruction the model executes */
  int rc = 0;
  pb_vsim_cycle_t ev;
  const uint32_t n = ops->hw.n;
  memset(&ev, 0, sizeof ev);
  for (;;) {
    /* irq_o (DONE or ERROR) as sampled in the last cycle: no extra evaluation per cycle */
    if (ev.irq) break;
    if (cycle >= max) {
      fprintf(log, "cosim: watchdog: the core did not stop within %llu cycles (pc %u retired in order)\n",
              (unsigned long long)max, next_pc);
      rc = -1;
      break;
    }
    if (ops->step(v, &ev) != 0) {
      fprintf(log, "cosim: the RTL accessed host memory out of range at cycle %llu\n", (unsigned long long)cycle);
      rc = -1;
      break;
    }
    if (compare) {
      slot_t *s;
      int bad = 0;
      if (ev.issue) {
        if ((s = slot_for(c, ev.issue_pc)) != NULL) s->issued = 1, s->issue_cycle = (int64_t)cycle;
        else bad = 1;
      }
      if (ev.sp_we) {
        /* the model reports one contiguous run of written columns */
        uint32_t lo = 0, hi = 0;
        while (lo < n && !((ev.sp_mask >> lo) & 1)) lo++;
        hi = lo;
        while (hi < n && ((ev.sp_mask >> hi) & 1)) hi++;
        if ((s = slot_for(c, ev.sp_pc)) != NULL) push(&s->w, PB_MEM_SP, ev.sp_row * n + lo, ev.sp_data + lo, hi - lo);
        else bad = 1;
      }
      if (ev.acc_we) {
        if ((s = slot_for(c, ev.acc_pc)) != NULL)
          push(&s->w, PB_MEM_ACC, ev.acc_row * n * 4, (const uint8_t *)ev.acc_data, 4 * n);
        else bad = 1;
      }
      if (ev.host_we) {
        if ((s = slot_for(c, ev.host_pc)) != NULL) push(&s->w, PB_MEM_HOST, ev.host_addr, ev.host_data, ev.host_len);
        else bad = 1;
      }
      for (int u = 0; u < 5; u++)
        if ((ev.retire >> u) & 1) {
          if ((s = slot_for(c, ev.retire_pc[u])) != NULL) s->retired = 1;
          else bad = 1;
        }
      if (bad) {
        fprintf(log, "cosim: more than %d instructions in flight ahead of pc %u (harness limit)\n", WINDOW, next_pc);
        rc = -1;
        break;
      }
      /* the model executes every instruction the RTL has retired, in program order */
      for (;;) {
        slot_t *h = &c->slot[next_pc % WINDOW];
        if (!(h->used && h->pc == next_pc && h->retired)) break;
        c->model_w.n = 0;
        pb_state_t ms = pb_model_step(model);
        if (ms == PB_STATE_ERROR) {
          fprintf(log, "cosim: DIVERGENCE at pc %u: the RTL retired it, the model stops with %s\n", next_pc,
                  pb_isa_error_name(pb_model_error(model)));
          report_instr(c, model, prog_addr, next_pc);
          rc = -1;
          break;
        }
        res->writes_compared += h->w.n;
        if (compare_writes(c, &h->w, &c->model_w, model, prog_addr, next_pc)) {
          rc = -1;
          break;
        }
        if (timing && (!h->issued || h->issue_cycle != pb_model_last_issue(model))) {
          fprintf(log, "cosim: TIMING DIVERGENCE at pc %u: RTL issued it in cycle %lld, the timing model says %lld\n",
                  next_pc, h->issued ? (long long)h->issue_cycle : -1LL, (long long)pb_model_last_issue(model));
          report_instr(c, model, prog_addr, next_pc);
          rc = -1;
          break;
        }
        h->used = 0;
        next_pc++;
        if (ms == PB_STATE_DONE) break;
      }
      if (rc) break;
    }
    cycle++;
  }
  res->state = (pb_state_t)(ops->reg_read(v, PB_REG_STATUS) & 3u);
  res->err = (pb_hw_error_t)((ops->reg_read(v, PB_REG_STATUS) >> 4) & 15u);
  res->fault_pc = ops->reg_read(v, PB_REG_FAULT_PC);
  res->cycles = reg64(ops, v, PB_REG_CYCLES);
  res->array_busy = reg64(ops, v, PB_REG_ARRAY_BUSY);
  res->instrs = reg64(ops, v, PB_REG_INSTRS);
  res->dma_bytes = reg64(ops, v, PB_REG_DMA_BYTES);
  res->stalls = reg64(ops, v, PB_REG_STALLS);

  if (rc == 0 && compare) {
    /* the model finishes: an error at the head, or instructions the RTL never retired (a bug) */
    pb_state_t ms = pb_model_state(model);
    if (ms == PB_STATE_RUNNING) {
      c->model_w.n = 0;
      ms = pb_model_step(model);
      if (ms == PB_STATE_RUNNING || (ms == PB_STATE_DONE && res->state != PB_STATE_DONE)) {
        fprintf(log, "cosim: DIVERGENCE: the RTL stopped (%s at pc %u) but the model executes pc %u\n",
                res->state == PB_STATE_DONE ? "DONE" : pb_isa_error_name(res->err), res->fault_pc, next_pc);
        report_instr(c, model, prog_addr, next_pc);
        rc = -1;
      }
    }
    const pb_model_counters_t *mc = pb_model_counters(model);
    pb_state_t fs = pb_model_state(model);
    if (!rc && (fs != res->state || (fs == PB_STATE_ERROR && (pb_model_error(model) != res->err ||
                                                               pb_model_pc(model) != res->fault_pc)))) {
      fprintf(log, "cosim: DIVERGENCE in final status: RTL %s %s pc %u, model %s %s pc %u\n",
              res->state == PB_STATE_DONE ? "DONE" : "ERROR", pb_isa_error_name(res->err), res->fault_pc,
              fs == PB_STATE_DONE ? "DONE" : "ERROR", pb_isa_error_name(pb_model_error(model)), pb_model_pc(model));
      rc = -1;
    }
    if (!rc && (mc->instrs != res->instrs || mc->dma_bytes != res->dma_bytes || mc->array_busy != res->array_busy ||
                (timing && mc->cycles != res->cycles))) {
      fprintf(log,
              "cosim: DIVERGENCE in counters: RTL cycles %llu busy %llu instrs %llu dma %llu; "
              "model cycles %llu busy %llu instrs %llu dma %llu\n",
              (unsigned long long)res->cycles, (unsigned long long)res->array_busy, (unsigned long long)res->instrs,
              (unsigned long long)res->dma_bytes, (unsigned long long)mc->cycles, (unsigned long long)mc->array_busy,
              (unsigned long long)mc->instrs, (unsigned long long)mc->dma_bytes);
      rc = -1;
    }
    if (!rc && memcmp(ops->host(v), pb_model_host(model), ops->hw.host_bytes) != 0) {
      uint32_t i = 0;
      while (pb_model_host(model)[i] == ops->host(v)[i]) i++;
      fprintf(log, "cosim: DIVERGENCE in final host memory at 0x%x: RTL %d, model %d\n", i,
              (int8_t)ops->host(v)[i], (int8_t)pb_model_host(model)[i]);
      rc = -1;
    }
    pb_model_set_write_hook(model, NULL, NULL);
  }
  res->diverged = rc != 0;
  for (int i = 0; i < WINDOW; i++) free(c->slot[i].w.v);
  free(c->model_w.v);
  free(c);
  return rc;
}
