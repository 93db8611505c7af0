/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers for the RTL tests: assemble for a Verilated configuration and run in lock step. */
#ifndef PB_TEST_COSIM_UTIL_H
#define PB_TEST_COSIM_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asm.h"
#include "check.h"
#include "cosim.h"
#include "refmodel.h"

/* `.hw` line of a configuration. */
static inline void cfg_hw_line(const pb_vsim_ops_t *ops, char *buf, size_t len) {
  char t[128];
  snprintf(buf, len, ".hw %s\n", pb_hw_format(&ops->hw, t, sizeof t));
}

/*
 * Assemble `body` (without .hw) for `ops`, run it in co-simulation, return 0 when it
 * completed without divergence; *res holds the RTL's result. `prep` may place inputs
 * into the host image first.
 */
static inline int cosim_body(const pb_vsim_ops_t *ops, const char *body, const char *what, pb_cosim_result_t *res,
                             void (*prep)(uint8_t *host, void *ctx), void *ctx, uint8_t **host_out) {
  char hw[160], err[512];
  cfg_hw_line(ops, hw, sizeof hw);
  size_t len = strlen(hw) + strlen(body) + 1;
  char *src = malloc(len);
  snprintf(src, len, "%s%s", hw, body);
  pb_program_t p;
  int rc = pb_asm(src, what, &p, err, sizeof err);
  free(src);
  if (rc) {
    fprintf(stderr, "%s: assembly failed: %s\n", what, err);
    return -1;
  }
  pb_model_t *m = pb_model_new(&p.hw);
  pb_error_t e;
  if (!m || pb_model_load_program(m, &p, &e)) {
    fprintf(stderr, "%s: load failed\n", what);
    pb_model_free(m);
    pb_program_free(&p);
    return -1;
  }
  if (prep) prep(pb_model_host(m), ctx);
  uint8_t *host = malloc(p.hw.host_bytes);
  memcpy(host, pb_model_host(m), p.hw.host_bytes);
  pb_cosim_opts_t o = {.compare = 1, .max_cycles = 50000000ull, .timing = -1};
  rc = pb_cosim_run_image(ops, host, m, p.code_addr, p.code_len, NULL, 0, 0, &o, res);
  if (host_out)
    *host_out = host;
  else
    free(host);
  pb_model_free(m);
  pb_program_free(&p);
  return rc;
}

static inline const pb_vsim_ops_t *cfg_by_name(const char *name) {
  for (int i = 0; pb_vsim_configs[i]; i++)
    if (!strcmp(pb_vsim_configs[i]->name, name)) return pb_vsim_configs[i];
  return NULL;
}

#endif
