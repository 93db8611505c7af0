/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The timing model: the exact cycle at which the accelerator issues each
 * instruction, as a function of the instruction stream alone (never of the
 * data). It is part of the architecture (docs/timing.md): the compiler
 * predicts with it, the C reference model and the SystemC `ref` target count
 * with it, and the RTL is held to it cycle for cycle (co-simulation compares
 * every issue cycle and the total).
 *
 * It assumes a zero-wait-state host memory (requests always accepted,
 * read data one cycle after the request). Wait states add stall cycles.
 */
#ifndef PROTOBRAIN_TIMING_H
#define PROTOBRAIN_TIMING_H

#include <stdint.h>

#include "protobrain/isa.h"
#include "protobrain/pbin.h"

#define PB_TM_FETCH_DEPTH 4 /* instruction queue entries, including requests in flight */
#define PB_TM_RQ_LATENCY 8  /* requantization pipeline: input to output, cycles */

/* Requantizer lane groups: an ACTIVATE row goes through the lanes in N / rq_lanes cycles. */
static inline int64_t pb_tm_rq_groups(const pb_hw_t *hw) { return (int64_t)(hw->n / pb_hw_rq_lanes(hw)); }

/* Array latency: a row entering the array in cycle x leaves it in cycle x + 2N - 1. */
static inline int64_t pb_tm_array_latency(uint32_t n) { return 2 * (int64_t)n - 1; }

/* A memory footprint: [lo, hi) in one memory (host bytes, scratchpad rows or accumulator rows). */
typedef enum { PB_TM_NONE = 0, PB_TM_HOST, PB_TM_SP, PB_TM_ACC } pb_tm_mem_t;
typedef struct {
  pb_tm_mem_t mem;
  uint64_t lo, hi;
} pb_tm_range_t;

typedef struct {
  pb_hw_t hw;
  uint64_t index;              /* instructions issued so far */
  int64_t prev_issue;          /* issue cycle of the previous instruction (-1 before the first) */
  int64_t prev_req;            /* fetch request cycle of the previous instruction */
  int64_t issue_hist[PB_TM_FETCH_DEPTH]; /* issue cycles of the last FETCH_DEPTH instructions, ring */
  int64_t busy_end[4];         /* per unit: last busy cycle */
  pb_tm_range_t rd[4], wr[4];  /* per unit: footprint of the instruction in it, valid while busy */
  int ld_is_load_acc;          /* LD is running a LOAD_ACC */
  int ld_is_activate;          /* LD is running an ACTIVATE (shares the accumulator read port) */
  int st_is_store_acc;         /* ST is running a STORE_ACC (shares the accumulator read port) */
  int64_t serialize_end;       /* nothing issues before this cycle + 1 (CONFIG) */
  /* the array */
  int64_t drain_end;           /* last accumulator write of any MATMUL issued so far */
  pb_tm_range_t acc_box;       /* accumulator rows of every MATMUL still in flight (bounding box) */
  int64_t buf_end[2];          /* last cycle a row using weight buffer b is inside the array */
  int wsel, wpending;          /* buffer MATMUL uses; a WEIGHTS has filled the other one */
  /* counters */
  uint64_t array_rows;         /* MATMUL rows: cycles the array does useful MACs */
} pb_timing_t;

void pb_timing_init(pb_timing_t *t, const pb_hw_t *hw);

/*
 * Issue a decoded instruction that passed every check; returns its issue
 * cycle. For HALT, the program's total cycle count is the result + 1.
 */
int64_t pb_timing_issue(pb_timing_t *t, const pb_instr_t *in);

/* Total cycles when the next instruction fails its checks at the head of the queue
 * (fetched = 1), or when the program ends without HALT (PC_RANGE, fetched = 0). */
int64_t pb_timing_fault_at_head(const pb_timing_t *t, int fetched);

/* Total cycles when the CONFIG just issued (the last pb_timing_issue) faults on a multiplier. */
int64_t pb_timing_fault_config(const pb_timing_t *t);

/* Read and write ranges of a decoded instruction (host: 2-D bounding box in bytes; sp/acc: rows). */
void pb_timing_footprint(const pb_hw_t *hw, const pb_instr_t *in, pb_tm_range_t *rd, pb_tm_range_t *wr);

/* Busy cycles of an instruction in its unit, for documentation and `info` (issue excluded). */
int64_t pb_timing_duration(const pb_hw_t *hw, const pb_instr_t *in);

#endif
