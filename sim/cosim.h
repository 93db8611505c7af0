/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Lock-step co-simulation: the Verilated core and the C reference model run
 * the same program from the same state. Every architectural write of the RTL
 * (scratchpad, accumulator, host memory) is attributed to the instruction
 * that made it; when an instruction retires in the RTL, the model executes it
 * and the two write lists must be identical, and so must its issue cycle
 * (the timing model). At the end, status, error code, faulting PC, counters and
 * every memory are compared. The first divergence stops the run with a report.
 */
#ifndef PB_SIM_COSIM_H
#define PB_SIM_COSIM_H

#include <stdint.h>
#include <stdio.h>

#include "refmodel.h"
#include "verilator/vsim.h"

typedef struct {
  int compare;                /* 1: lock-step against the model; 0: run the RTL alone */
  uint64_t max_cycles;        /* watchdog; 0 = 200M */
  int timing;                 /* with compare: also compare issue cycles (-1: yes unless wait states) */
  FILE *log;                  /* divergence reports (NULL: stderr) */
} pb_cosim_opts_t;

typedef struct {
  pb_state_t state;           /* RTL's final state (DONE or ERROR) */
  pb_hw_error_t err;
  uint32_t fault_pc;
  uint64_t cycles, array_busy, instrs, dma_bytes, stalls;
  int diverged;               /* 1 if a mismatch was found (details were printed) */
  uint64_t writes_compared;   /* architectural write records compared */
} pb_cosim_result_t;

/*
 * Run the program at prog_addr / prog_len on the simulated core `v` (its host
 * memory, ops->host(v), holds code, constants and inputs). With
 * opts->compare, `model` (same hw; its scratchpad and accumulator in the same
 * state as the RTL's, e.g. both fresh) runs beside it: its host memory is
 * first made equal to the RTL's. The simulation can be reused for later runs.
 * Returns 0 when the run completed (DONE or ERROR) without divergence,
 * -1 on divergence, watchdog or harness failure.
 */
int pb_cosim_run(const pb_vsim_ops_t *ops, pb_vsim_t *v, pb_model_t *model, uint32_t prog_addr, uint32_t prog_len,
                 const pb_cosim_opts_t *opts, pb_cosim_result_t *res);

/* Convenience for tests: a fresh simulation (trace optional) of the host image `host`, run, result copied back. */
int pb_cosim_run_image(const pb_vsim_ops_t *ops, uint8_t *host, pb_model_t *model, uint32_t prog_addr,
                       uint32_t prog_len, const char *trace_path, unsigned backpressure, uint64_t bp_seed,
                       const pb_cosim_opts_t *opts, pb_cosim_result_t *res);

#endif
