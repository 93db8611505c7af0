/* SPDX-License-Identifier: Apache-2.0 */
/*
 * C interface of the `systemc` backend (sim/systemc/backend_systemc.cpp), beyond driver/backend.h.
 * pb_backend_open("systemc", hw, opts, ...) builds the virtual platform of sim/systemc/platform.h
 * with opts->model "ref" (default) or "rtl"; its host image is mirrored into the platform's memory
 * for every run and back. The clock period is 10 ns (100 MHz) unless PB_SYSTEMC_PERIOD_PS is set.
 */
#ifndef PB_SIM_SYSTEMC_PB_SYSTEMC_H
#define PB_SIM_SYSTEMC_PB_SYSTEMC_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "backend.h"

typedef struct {
  const char *model;   /* "ref" or "rtl" */
  uint64_t period_ps;  /* accelerator clock period */
  uint64_t time_ps;    /* simulated time of the last run: from the start write to the interrupt */
  uint64_t total_ps;   /* the same, summed over every run since the backend was opened */
  uint64_t runs;       /* runs since the backend was opened */
} pb_systemc_info_t;

/* 0 and *info for a backend opened as "systemc"; -1 for any other backend. */
int pb_systemc_info(const pb_backend_t *b, pb_systemc_info_t *info);

int pb_backend_open_systemc(const pb_hw_t *hw, const pb_backend_opts_t *opts, pb_backend_t **out, char *err,
                            size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
