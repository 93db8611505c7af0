/* SPDX-License-Identifier: Apache-2.0 */
/* Backend selection and the `ref` backend (the C reference model). */
#include "backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend_uart.h"
#include "errfmt.h"
#include "refmodel.h"

/* Provided by backend_vsim.c, which needs the Verilated core (VSIM_OBJ) linked. (Not a weak
 * reference: a weak reference would not pull backend_vsim.o out of the static library.) */
int pb_backend_open_verilator(const pb_hw_t *hw, const pb_backend_opts_t *opts, pb_backend_t **out, char *err,
                              size_t errlen);

/* Provided by the SystemC platform (sim/systemc, mk/systemc.mk) when it is linked in. */
int pb_backend_open_systemc(const pb_hw_t *hw, const pb_backend_opts_t *opts, pb_backend_t **out, char *err,
                            size_t errlen) __attribute__((weak));

const char *pb_backend_names(void) {
  return pb_backend_open_systemc ? "ref, verilator, systemc, uart" : "ref, verilator, uart";
}

/* ---- ref ---- */

static int ref_run(pb_backend_t *b, uint32_t prog_addr, uint32_t len, pb_run_status_t *st, char *err, size_t errlen) {
  pb_model_t *m = b->impl;
  memset(st, 0, sizeof *st);
  pb_model_start(m, prog_addr, len);
  uint64_t max = 1ull << 40; /* instructions; programs are finite: this only guards against a runaway */
  pb_state_t s = pb_model_run(m, max);
  if (s == PB_STATE_RUNNING) return pb_fail(err, errlen, "ref: no HALT after %llu instructions", (unsigned long long)max);
  const pb_model_counters_t *c = pb_model_counters(m);
  st->done = s == PB_STATE_DONE;
  st->err = pb_model_error(m);
  st->fault_pc = pb_model_pc(m);
  st->cnt.cycles = c->cycles;
  st->cnt.array_busy = c->array_busy;
  st->cnt.instrs = c->instrs;
  st->cnt.dma_bytes = c->dma_bytes;
  st->cnt.stalls = 0;
  return 0;
}

static void ref_close(pb_backend_t *b) {
  if (!b) return;
  pb_model_free(b->impl);
  free(b);
}

static int open_ref(const pb_hw_t *hw, pb_backend_t **out, char *err, size_t errlen) {
  pb_backend_t *b = calloc(1, sizeof *b);
  pb_model_t *m = pb_model_new(hw);
  if (!b || !m) {
    free(b);
    pb_model_free(m);
    return pb_fail(err, errlen, "ref: cannot allocate a model with host_bytes=%u", hw->host_bytes);
  }
  b->name = "ref";
  b->hw = *hw;
  b->host = pb_model_host(m);
  b->run = ref_run;
  b->close = ref_close;
  b->impl = m;
  *out = b;
  return 0;
}

int pb_backend_open(const char *name, const pb_hw_t *hw, const pb_backend_opts_t *opts, pb_backend_t **out,
                    char *err, size_t errlen) {
  *out = NULL;
  pb_error_t e;
  if (pb_hw_check(hw, &e)) return pb_fail(err, errlen, "%s", e.msg);
  if (!strcmp(name, "ref")) return open_ref(hw, out, err, errlen);
  if (!strcmp(name, "verilator")) return pb_backend_open_verilator(hw, opts, out, err, errlen);
  if (!strcmp(name, "systemc")) {
    if (!pb_backend_open_systemc) return pb_fail(err, errlen, "the systemc backend is not built into this binary");
    return pb_backend_open_systemc(hw, opts, out, err, errlen);
  }
  if (!strcmp(name, "uart")) return pb_backend_open_uart(hw, opts, out, err, errlen);
  return pb_fail(err, errlen, "unknown backend '%s' (available: %s)", name, pb_backend_names());
}

int pb_backend_load(pb_backend_t *b, const pb_program_t *p, char *err, size_t errlen) {
  const pb_hw_t *a = &b->hw, *h = &p->hw;
  if (!pb_hw_equal(a, h)) {
    char ha[128], hh[128];
    pb_hw_format(h, hh, sizeof hh);
    pb_hw_format(a, ha, sizeof ha);
    return pb_fail(err, errlen, "program built for hardware %s; backend %s has %s", hh, b->name, ha);
  }
  pb_error_t e;
  if (pb_program_check(p, &e)) return pb_fail(err, errlen, "%s", e.msg);
  memcpy(b->host + p->code_addr, p->code, (size_t)p->code_len * PB_INSTR_BYTES);
  for (uint32_t i = 0; i < p->n_data; i++) memcpy(b->host + p->data[i].host_addr, p->data[i].bytes, p->data[i].size);
  return 0;
}
