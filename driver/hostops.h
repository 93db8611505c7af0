/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Host operators: the steps of a program that run on the host between or
 * after accelerator slices (pbin.h PB_HOST_OPS, docs/pbin.md "STEPS").
 * Each one reads and writes tensors in the backend's host memory through
 * their descriptors (dims, byte strides), in logical (row-major) element
 * order, so the physical layout the compiler chose never matters here.
 * Arithmetic is ONNX's: QuantizeLinear/DequantizeLinear exactly as
 * driver/tensor_io.c; float operators in float32 as the compiler's
 * reference interpreter computes them (docs/compiler.md, "Host operators").
 * No allocation: pb_hostop_run works in place.
 */
#ifndef PB_DRIVER_HOSTOPS_H
#define PB_DRIVER_HOSTOPS_H

#include <stddef.h>
#include <stdint.h>

#include "protobrain/pbin.h"

/* Check a host step against its tensors (dtypes, shapes, parameters). 0, or -1 with a message. */
int pb_hostop_check(const pb_program_t *p, const pb_step_t *s, char *err, size_t errlen);

/* Run a checked host step on host memory (p->hw.host_bytes bytes). */
void pb_hostop_run(const pb_program_t *p, const pb_step_t *s, uint8_t *host);

#endif
