/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Requantization y = clamp(zp + rne(f32(f32(acc) * m)), lo, hi) with integers
 * only (DESIGN.md section 4, docs/arithmetic.md). No float type or operation
 * appears here: the RTL pipeline mirrors these steps one for one.
 *
 * Every value below is "sig * 2^(e - 23)" with a 24-bit significand sig
 * (bit 23 set) and e the exponent of its most significant bit.
 */
#include "protobrain/requant.h"

#include <assert.h>

/*
 * |rne(p)| is saturated to this before zp is added. Any bound >= 255 gives the
 * same int8 result (zp in [-128, 127] cannot pull it back inside [-128, 127]);
 * 1024 = 2^10 lets the range test below be a plain exponent compare.
 */
#define SAT_EXP 10
#define SAT (1 << SAT_EXP)

/* Count leading zeros of a nonzero 32-bit value: five fixed steps (a priority encoder in RTL). */
static unsigned clz32(uint32_t x) {
  unsigned n = 0;
  if ((x & 0xFFFF0000u) == 0) { n += 16; x <<= 16; }
  if ((x & 0xFF000000u) == 0) { n += 8; x <<= 8; }
  if ((x & 0xF0000000u) == 0) { n += 4; x <<= 4; }
  if ((x & 0xC0000000u) == 0) { n += 2; x <<= 2; }
  if ((x & 0x80000000u) == 0) { n += 1; }
  return n;
}

/*
 * v >> k rounded to nearest, ties to even, 1 <= k <= 63:
 *   q = v[63:k], guard = v[k-1], sticky = |v[k-2:0], result = q + (guard & (sticky | q[0])).
 */
static uint64_t shr_rne(uint64_t v, unsigned k) {
  uint64_t q = v >> k;
  uint64_t guard = (v >> (k - 1)) & 1u;
  uint64_t sticky = (v & ((UINT64_C(1) << (k - 1)) - 1u)) != 0;
  return q + (guard & (sticky | (q & 1u)));
}

int pb_requant_mult_ok(uint32_t mult_bits) {
  return (mult_bits >> 31) == 0 && ((mult_bits >> 23) & 0xFFu) != 0xFFu;
}

int8_t pb_requant(int32_t acc, uint32_t mult_bits, int32_t zp, int32_t lo, int32_t hi) {
  assert(pb_requant_mult_ok(mult_bits));
  assert(-128 <= lo && lo <= hi && hi <= 127 && -128 <= zp && zp <= 127);

  uint32_t m_exp = (mult_bits >> 23) & 0xFFu; /* biased exponent, 8 bits */
  uint32_t m_frac = mult_bits & 0x7FFFFFu;     /* 23 fraction bits */
  int32_t r = 0;                               /* rne(f32(f32(acc) * m)), saturated to [-SAT, SAT] */

  /*
   * Step 0: zero product, r = 0, when acc == 0 or m is +0 or subnormal
   * (m_exp == 0): then |f32(acc) * m| < 2^31 * 2^-126 = 2^-95 < 0.5, which
   * rounds to 0 (argument of step 5c). So subnormal m need no normalization.
   */
  if (acc != 0 && m_exp != 0) {
    /* Step 1: sign and 32-bit magnitude, 1 .. 2^31 (|INT32_MIN| = 2^31 fits in uint32_t). */
    uint32_t neg = acc < 0;
    uint32_t mag = neg ? 0u - (uint32_t)acc : (uint32_t)acc;

    /*
     * Step 2: f32(acc). Left-align the magnitude (bit 31 set), keep the top 24
     * bits and round the low 8 away RNE (only magnitudes >= 2^24 have nonzero
     * low bits). A carry out (sig_a == 2^24) renormalizes to 2^23, exponent + 1.
     */
    unsigned lz = clz32(mag);
    uint32_t sig_a = (uint32_t)shr_rne((uint64_t)(mag << lz), 8); /* 2^23 .. 2^24 */
    int32_t e_a = 31 - (int32_t)lz;                                /* 0 .. 31 */
    if (sig_a >> 24) {
      sig_a >>= 1;
      e_a += 1;
    }

    /* Step 3: m, a normal binary32: hidden bit 1, unbiased exponent. */
    uint32_t sig_m = m_frac | (1u << 23); /* 2^23 .. 2^24 - 1 */
    int32_t e_m = (int32_t)m_exp - 127;   /* -126 .. 127 */

    /*
     * Step 4: exact product, 24 x 24 -> 48 bits, prod in [2^46, 2^48), value
     * prod * 2^(e_a + e_m - 46). Its top bit is 47 or 46: x is the exponent of
     * the product's most significant bit, value in [2^x, 2^(x+1)).
     */
    uint64_t prod = (uint64_t)sig_a * sig_m;
    unsigned top = (prod >> 47) ? 47u : 46u;
    int32_t x = e_a + e_m + (int32_t)top - 46; /* -126 .. 159 */

    if (x >= SAT_EXP) {
      /*
       * Step 5a: |product| >= 2^10, so f32() >= 2^10 and |rne| >= SAT. This
       * includes every product >= 2^128 that f32() turns into infinity.
       */
      r = SAT;
    } else if (x >= -1) {
      /*
       * Step 5b: 2^-1 <= |product| < 2^10, a normal binary32. f32(): keep the
       * top 24 bits of prod, drop top - 23 (23 or 24) bits RNE. sig_p may carry
       * out to 2^24 (value exactly 2^(x+1)); the next shift handles it as is.
       */
      uint64_t sig_p = shr_rne(prod, top - 23u); /* 2^23 .. 2^24, value sig_p * 2^(x-23) */
      /*
       * Step 6: rne() to an integer: the binary point sits 23 - x bits above
       * bit 0, so shift right by 14 .. 24 bits RNE. Result 0 .. 2^(x+1) <= SAT.
       */
      r = (int32_t)shr_rne(sig_p, (unsigned)(23 - x));
    }
    /*
     * Step 5c (x <= -2): |product| < 2^-1. Rounding is monotonic and 0.5 is a
     * binary32, so f32(|product|) <= 0.5 and rne() gives 0 (0.5 ties to even 0).
     * This covers every product below 2^-126 (subnormal or zero after f32()),
     * so no subnormal rounding is ever needed. r stays 0.
     */
    if (neg) r = -r;
  }

  /* Step 7: add the zero point (-1152 .. 1151) and clamp to [lo, hi]. */
  int32_t y = zp + r;
  if (y < lo) y = lo;
  if (y > hi) y = hi;
  return (int8_t)y;
}
