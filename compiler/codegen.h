/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Code generation: the LIR (lir.h) -> a self-contained program (.pbin) for one
 * hardware configuration. It places every buffer in host memory (static plan,
 * liveness-based reuse), tiles each matmul layer for N and the on-chip memory
 * sizes, schedules and emits the instructions through pb_encode, splits the
 * code into accelerator steps around host operators, and predicts every
 * layer's cycles with the timing model (include/protobrain/timing.h).
 * docs/compiler.md, "Tiling, scheduling and the memory plan".
 */
#ifndef PROTOBRAIN_CODEGEN_H
#define PROTOBRAIN_CODEGEN_H

#include <stddef.h>
#include <stdio.h>

#include "lir.h"
#include "protobrain/pbin.h"

/*
 * Generate the program for hw. *out is filled (free with pb_program_free)
 * or left empty on failure. log (may be NULL) receives a per-layer summary of
 * the tiling decisions. Returns 0, or -1 with a message naming the layer in err.
 */
int pb_codegen(lir_t *l, const pb_hw_t *hw, pb_program_t *out, FILE *log, char *err, size_t errlen);

#endif
