/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Requantization, the arithmetic contract of DESIGN.md section 4, integer-only:
 *
 *   y = clamp(zp + rne(f32(f32(acc) * m)), lo, hi)
 *
 * where m is an IEEE-754 binary32 given by its bit pattern, f32() rounds to
 * binary32 nearest-even (overflow to infinity) and rne() rounds to an integer
 * nearest-even. No floating-point arithmetic is used, so the hardware can do
 * exactly the same steps (docs/arithmetic.md).
 */
#ifndef PROTOBRAIN_REQUANT_H
#define PROTOBRAIN_REQUANT_H

#include <stdint.h>

/* 1 when `mult_bits` is a legal multiplier: sign bit clear and finite (zero and subnormals allowed). */
int pb_requant_mult_ok(uint32_t mult_bits);

/*
 * Requantize one accumulator. Requires pb_requant_mult_ok(mult_bits),
 * -128 <= lo <= hi <= 127 and -128 <= zp <= 127. The rounded product is
 * saturated before zp is added, so an infinite product clamps to lo or hi.
 */
int8_t pb_requant(int32_t acc, uint32_t mult_bits, int32_t zp, int32_t lo, int32_t hi);

#endif
