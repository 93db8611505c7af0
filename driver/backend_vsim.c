/* SPDX-License-Identifier: Apache-2.0 */
/* The `verilator` backend: the Verilated core (sim/verilator), optionally in lock step with the model. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "cosim.h"
#include "errfmt.h"

int pb_backend_open_verilator(const pb_hw_t *hw, const pb_backend_opts_t *opts, pb_backend_t **out, char *err,
                              size_t errlen);

typedef struct {
  const pb_vsim_ops_t *ops;
  pb_vsim_t *v;
  pb_model_t *model; /* lock-step partner, or NULL */
  uint64_t max_cycles;
} vs_t;

static uint64_t reg64(const pb_vsim_ops_t *ops, pb_vsim_t *v, uint32_t addr) {
  return (uint64_t)ops->reg_read(v, addr) | (uint64_t)ops->reg_read(v, addr + 4) << 32;
}

/* The RTL alone: start the core and clock it until it raises irq_o (DONE or ERROR). The same
 * register sequence as pb_cosim_run without a partner, but with nothing allocated: the
 * inference path of libprotobrain (docs/driver.md). */
static int vs_run_plain(vs_t *x, uint32_t prog_addr, uint32_t len, pb_run_status_t *st, char *err, size_t errlen) {
  const pb_vsim_ops_t *ops = x->ops;
  pb_vsim_t *v = x->v;
  uint64_t max = x->max_cycles ? x->max_cycles : 200000000ull, cycle = 0;
  pb_vsim_cycle_t ev;
  memset(&ev, 0, sizeof ev);
  ops->reg_write(v, PB_REG_PROG_ADDR, prog_addr);
  ops->reg_write(v, PB_REG_PROG_LEN, len);
  ops->reg_write(v, PB_REG_CTRL, 1);
  while (!ev.irq) { /* irq_o as sampled in the last cycle */
    if (cycle >= max)
      return pb_fail(err, errlen, "verilator (%s): watchdog: the core did not stop within %llu cycles", ops->name,
                     (unsigned long long)max);
    if (ops->step(v, &ev) != 0)
      return pb_fail(err, errlen, "verilator (%s): the RTL accessed host memory out of range at cycle %llu",
                     ops->name, (unsigned long long)cycle);
    cycle++;
  }
  uint32_t status = ops->reg_read(v, PB_REG_STATUS);
  st->done = (status & 3u) == PB_STATE_DONE;
  st->err = (status >> 4) & 15u;
  st->fault_pc = ops->reg_read(v, PB_REG_FAULT_PC);
  st->cnt.cycles = reg64(ops, v, PB_REG_CYCLES);
  st->cnt.array_busy = reg64(ops, v, PB_REG_ARRAY_BUSY);
  st->cnt.instrs = reg64(ops, v, PB_REG_INSTRS);
  st->cnt.dma_bytes = reg64(ops, v, PB_REG_DMA_BYTES);
  st->cnt.stalls = reg64(ops, v, PB_REG_STALLS);
  return 0;
}

static int vs_run(pb_backend_t *b, uint32_t prog_addr, uint32_t len, pb_run_status_t *st, char *err, size_t errlen) {
  vs_t *x = b->impl;
  memset(st, 0, sizeof *st);
  if (!x->model) return vs_run_plain(x, prog_addr, len, st, err, errlen);
  pb_cosim_opts_t o = {.compare = x->model != NULL, .max_cycles = x->max_cycles, .timing = -1};
  pb_cosim_result_t r;
  if (pb_cosim_run(x->ops, x->v, x->model, prog_addr, len, &o, &r)) {
    snprintf(err, errlen, "verilator (%s): %s (details above)", x->ops->name,
             r.diverged && x->model ? "the RTL diverged from the reference model" : "the simulation failed");
    return -1;
  }
  st->done = r.state == PB_STATE_DONE;
  st->err = r.err;
  st->fault_pc = r.fault_pc;
  st->cnt.cycles = r.cycles;
  st->cnt.array_busy = r.array_busy;
  st->cnt.instrs = r.instrs;
  st->cnt.dma_bytes = r.dma_bytes;
  st->cnt.stalls = r.stalls;
  return 0;
}

static void vs_close(pb_backend_t *b) {
  if (!b) return;
  vs_t *x = b->impl;
  if (x) {
    if (x->v) x->ops->destroy(x->v);
    pb_model_free(x->model);
    free(x);
  }
  free(b);
}

int pb_backend_open_verilator(const pb_hw_t *hw, const pb_backend_opts_t *opts, pb_backend_t **out, char *err,
                              size_t errlen) {
  const pb_vsim_ops_t *ops = pb_vsim_find(hw);
  if (!ops) {
    char t[128];
    int o = snprintf(err, errlen, "verilator: no RTL build for %s; built:", pb_hw_format(hw, t, sizeof t));
    for (int i = 0; pb_vsim_configs[i] && o > 0 && (size_t)o < errlen; i++)
      o += snprintf(err + o, errlen - (size_t)o, " %s (%s)", pb_vsim_configs[i]->name,
                    pb_hw_format(&pb_vsim_configs[i]->hw, t, sizeof t));
    return -1;
  }
  pb_backend_t *b = calloc(1, sizeof *b);
  vs_t *x = calloc(1, sizeof *x);
  if (!b || !x) {
    free(b);
    free(x);
    snprintf(err, errlen, "verilator: out of memory");
    return -1;
  }
  x->ops = ops;
  x->max_cycles = opts ? opts->max_cycles : 0;
  x->v = ops->create(opts ? opts->trace_path : NULL);
  if (opts && opts->cosim) x->model = pb_model_new(hw);
  b->name = "verilator";
  b->hw = ops->hw; /* the build's own parameters (rq_lanes included): the loader compares them */
  b->run = vs_run;
  b->close = vs_close;
  b->impl = x;
  if (!x->v || (opts && opts->cosim && !x->model)) {
    vs_close(b);
    snprintf(err, errlen, "verilator: cannot create the simulation%s", opts && opts->trace_path ? " (trace file?)" : "");
    return -1;
  }
  b->host = ops->host(x->v);
  *out = b;
  return 0;
}
