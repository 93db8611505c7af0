/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A hand-scheduled tiled matmul program Y = requant(A B + bias) for an N x N
 * array, written the way the compiler should schedule it: A is loaded once,
 * weight tiles stream through the double-buffered array, the accumulator is
 * double-buffered per output-column tile so ACTIVATE and STORE of one tile
 * overlap the MATMULs of the next. Used by the RTL utilization test and
 * `make bench`.
 */
#ifndef PB_TEST_MATMUL_PROG_H
#define PB_TEST_MATMUL_PROG_H

#include <stdint.h>

#include "protobrain/pbin.h"

typedef struct {
  uint32_t m, k, c;       /* A is m x k, B is k x c; each a multiple of N */
  const int8_t *a, *b;    /* row-major */
  const int32_t *bias;    /* c */
  const float *mult;      /* c */
  int zp, lo, hi;
} mm_spec_t;

/* Host address of the output Y (m x c int8, row-major). */
static inline uint32_t mm_y_addr(const pb_hw_t *hw) { return hw->host_bytes / 8 * 6; }

/* Build the program for `hw`; 0 or -1 with a message on stderr. */
int matmul_program(const pb_hw_t *hw, const mm_spec_t *s, pb_program_t *out);

#endif
