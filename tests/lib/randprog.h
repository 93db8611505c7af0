/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Random program generator (seeded): valid programs that mix every
 * instruction with random shapes, zero points, multipliers and addresses,
 * drawn from small address pools so that instructions often depend on each
 * other (the interlocks are exercised); and invalid programs that end in one
 * faulting instruction of a chosen class. Output is assembly text.
 */
#ifndef PB_TEST_RANDPROG_H
#define PB_TEST_RANDPROG_H

#include <stdint.h>

#include "protobrain/pbin.h"

/* Fault classes for invalid programs (0 = a valid program). */
enum {
  RP_VALID = 0,
  RP_ILLEGAL_OPCODE,
  RP_RESERVED_BITS,
  RP_FIELD_RANGE,
  RP_SP_RANGE,
  RP_ACC_RANGE,
  RP_HOST_RANGE,
  RP_STORE_OVER_CODE,
  RP_CONFIG_VALUE,
  RP_NO_HALT,
  RP_NCLASSES
};

/*
 * Generate a program for `hw` (host_bytes >= 64 KiB) with about `len`
 * instructions. `data_seed` chooses the data (inputs, weights, biases) apart
 * from the instruction stream, so two data seeds give the same instructions.
 * Returns malloc'd assembly text.
 */
char *randprog(const pb_hw_t *hw, uint64_t seed, uint64_t data_seed, int len, int fault);

#endif
