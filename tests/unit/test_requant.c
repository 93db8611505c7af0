/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pb_requant() (integer-only) against the float formula it implements:
 *   float p = (float)acc * m; r = nearbyintf(p); y = clamp(zp + sat(r), lo, hi)
 * computed here on the FPU in round-to-nearest (x86-64 SSE: binary32, no
 * excess precision, no contraction with -std=c11; `volatile` forces the
 * product to be stored as binary32 anyway). Hand-checked cases first, then
 * edge cases, an exponent sweep and >= 10M seeded random cases (PB_SEED).
 */
#include "protobrain/requant.h"

#include <fenv.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

#define SAT 1024 /* any bound >= 255 gives the same int8 result */
#define N_RANDOM 10000000L

/* ---- reference: the float formula ---- */

static float f_of(uint32_t bits) {
  float f;
  memcpy(&f, &bits, sizeof f);
  return f;
}

static uint32_t bits_of(float f) {
  uint32_t b;
  memcpy(&b, &f, sizeof b);
  return b;
}

/* Float r (an integer value, possibly +-inf) -> int, saturated to [-SAT, SAT]. */
static int32_t sat_f(float r) {
  if (r > 1e6f) r = 1e6f; /* also +inf; the clamp makes the conversion safe */
  if (r < -1e6f) r = -1e6f;
  int32_t i = (int32_t)r;
  return i > SAT ? SAT : i < -SAT ? -SAT : i;
}

static int32_t clamp_y(int32_t zp, int32_t r, int32_t lo, int32_t hi) {
  int32_t y = zp + r;
  return y < lo ? lo : y > hi ? hi : y;
}

/* rne(f32(f32(acc) * m)) saturated, computed with binary32 float arithmetic. */
static int32_t ref_round(int32_t acc, uint32_t mult_bits) {
  volatile float fa = (float)acc;
  volatile float p = fa * f_of(mult_bits);
  return sat_f(nearbyintf(p));
}

static int32_t ref_requant(int32_t acc, uint32_t mult_bits, int32_t zp, int32_t lo, int32_t hi) {
  return clamp_y(zp, ref_round(acc, mult_bits), lo, hi);
}

/* The same without the f32() of the product: double holds f32(acc) * m exactly (24x24 bits). */
static int32_t exact_round(int32_t acc, uint32_t mult_bits) {
  double p = (double)(float)acc * (double)f_of(mult_bits);
  double r = nearbyint(p);
  if (r > 1e6) r = 1e6;
  if (r < -1e6) r = -1e6;
  int32_t i = (int32_t)r;
  return i > SAT ? SAT : i < -SAT ? -SAT : i;
}

/* ---- PRNG: splitmix64 ---- */

static uint64_t rng_state;

static uint64_t rng(void) {
  uint64_t z = (rng_state += UINT64_C(0x9E3779B97F4A7C15));
  z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
  return z ^ (z >> 31);
}

static int32_t rng_range(int32_t lo, int32_t hi) { /* inclusive */
  return lo + (int32_t)(rng() % (uint64_t)(hi - lo + 1));
}

static int32_t to_i32(int64_t v) { return v > INT32_MAX ? INT32_MAX : v < INT32_MIN ? INT32_MIN : (int32_t)v; }

/* ---- hand-checked and edge cases: each row is one CHECK, against `want` and the float formula ---- */

#define M_1 0x3F800000u         /* 1.0 */
#define M_HALF 0x3F000000u      /* 0.5 */
#define M_QUARTER 0x3E800000u   /* 0.25 */
#define M_64 0x42800000u        /* 64.0 */
#define M_2P100 0x71800000u     /* 2^100 */
#define M_2M10 0x3A800000u      /* 2^-10 */
#define M_2M20 0x35800000u      /* 2^-20 */
#define M_2M24 0x33800000u      /* 2^-24 */
#define M_2M25 0x33000000u      /* 2^-25 */
#define M_2M26 0x32800000u      /* 2^-26 */
#define M_1P5_2M24 0x33C00000u  /* 1.5 * 2^-24 */
#define M_2P5_2M24 0x34200000u  /* 2.5 * 2^-24 */
#define M_2M31 0x30000000u      /* 2^-31 */
#define M_2M32 0x2F800000u      /* 2^-32 */
#define M_1P5_2M32 0x2FC00000u  /* 1.5 * 2^-32 */
#define M_0P1 0x3DCCCCCDu       /* 0.1f = 13421773 * 2^-27 */
#define M_0P7 0x3F333333u       /* 0.7f = 11744051 * 2^-24 */
#define M_SUB_MIN 0x00000001u   /* 2^-149 */
#define M_SUB_MAX 0x007FFFFFu   /* (1 - 2^-23) * 2^-126 */
#define M_NORM_MIN 0x00800000u  /* 2^-126 */
#define M_MAX 0x7F7FFFFFu       /* (2 - 2^-23) * 2^127 */

typedef struct {
  int32_t acc;
  uint32_t m;
  int32_t zp, lo, hi, want;
  const char *why;
} edge_t;

static const edge_t edges[] = {
    /* simple, checkable on paper */
    {100, M_QUARTER, 3, -128, 127, 28, "100*0.25 = 25, +3"},
    {12345, M_2M10, 0, -128, 127, 12, "12345/1024 = 12.06"},
    {7, M_HALF, -5, -128, 127, -1, "3.5 -> 4, -5"},
    {50, M_1, 100, -128, 127, 127, "50+100 clamps to 127"},
    {-50, M_1, -100, -128, 127, -128, "-50-100 clamps to -128"},
    {1000, M_HALF, 0, -128, 127, 127, "500 clamps to 127"},
    {-1000, M_HALF, 0, -128, 127, -128, "-500 clamps to -128"},
    {2, M_64, 0, -128, 127, 127, "2*64 = 128 clamps"},
    {-2, M_64, 0, -128, 127, -128, "-2*64 = -128"},
    {1, M_64, -1, -128, 127, 63, "64 - 1"},
    {-123, M_1, 0, -128, 127, -123, "identity"},
    /* ties to even */
    {2, M_QUARTER, 0, -128, 127, 0, "+0.5 -> 0"},
    {-2, M_QUARTER, 0, -128, 127, 0, "-0.5 -> 0"},
    {6, M_QUARTER, 0, -128, 127, 2, "+1.5 -> 2"},
    {-6, M_QUARTER, 0, -128, 127, -2, "-1.5 -> -2"},
    {10, M_QUARTER, 0, -128, 127, 2, "+2.5 -> 2"},
    {-10, M_QUARTER, 0, -128, 127, -2, "-2.5 -> -2"},
    {1, M_HALF, 0, -128, 127, 0, "1*0.5 -> 0"},
    {-1, M_HALF, 0, -128, 127, 0, "-1*0.5 -> -0 -> 0"},
    {3, M_HALF, 0, -128, 127, 2, "1.5 -> 2"},
    {-5, M_HALF, 0, -128, 127, -2, "-2.5 -> -2"},
    {3 << 19, M_2M20, 0, -128, 127, 2, "3*2^19 * 2^-20 = 1.5 -> 2"},
    {5 << 19, M_2M20, 0, -128, 127, 2, "5*2^19 * 2^-20 = 2.5 -> 2"},
    {-(7 << 19), M_2M20, 0, -128, 127, -4, "-3.5 -> -4"},
    /* f32(acc) rounding: 2^24 +- small */
    {1 << 24, M_2M24, 0, -128, 127, 1, "2^24 * 2^-24 = 1"},
    {-(1 << 24), M_2M24, 0, -128, 127, -1, "-2^24 * 2^-24 = -1"},
    {1 << 24, M_2M25, 0, -128, 127, 0, "2^24 * 2^-25 = 0.5 -> 0"},
    {(1 << 24) + 1, M_2M25, 0, -128, 127, 0, "f32(2^24+1) = 2^24 (tie to even): 0.5 -> 0 (exact math: 1)"},
    {-(1 << 24) - 1, M_2M25, 0, -128, 127, 0, "f32(-2^24-1) = -2^24: -0.5 -> 0"},
    {(1 << 24) + 1, M_2P5_2M24, 0, -128, 127, 2, "f32(2^24+1) = 2^24: 2.5 -> 2 (exact math: 3)"},
    {(1 << 24) + 3, M_2M25, 0, -128, 127, 1, "f32(2^24+3) = 2^24+4: 0.5+2^-23 -> 1"},
    {-(1 << 24) - 3, M_2M25, 0, -128, 127, -1, "f32(-2^24-3) = -2^24-4: -1"},
    {(1 << 24) + 3, M_1P5_2M24, 0, -128, 127, 2, "(2^24+4)*1.5*2^-24 = 1.5+3*2^-23 -> 2"},
    {(1 << 25) + 2, M_2M26, 0, -128, 127, 0, "f32(2^25+2) = 2^25 (tie to even): 0.5 -> 0"},
    /* INT32 extremes */
    {INT32_MAX, M_2M31, 0, -128, 127, 1, "f32(2^31-1) = 2^31: *2^-31 = 1"},
    {INT32_MAX, M_2M32, 0, -128, 127, 0, "f32(2^31-1) = 2^31: *2^-32 = 0.5 -> 0"},
    {INT32_MIN, M_2M31, 0, -128, 127, -1, "-2^31 * 2^-31 = -1"},
    {INT32_MIN, M_2M32, 0, -128, 127, 0, "-2^31 * 2^-32 = -0.5 -> 0"},
    {INT32_MIN, M_1P5_2M32, 0, -128, 127, -1, "-2^31 * 1.5*2^-32 = -0.75 -> -1"},
    {INT32_MAX, M_1, 0, -128, 127, 127, "INT32_MAX saturates"},
    {INT32_MIN, M_1, 0, -128, 127, -128, "INT32_MIN saturates"},
    {INT32_MIN + 1, M_2M31, 3, -128, 127, 2, "f32(-2^31+1) = -2^31: -1+3"},
    {0, M_MAX, 9, -128, 127, 9, "acc 0, largest m: zp"},
    {0, M_1, -128, -128, 127, -128, "acc 0, zp -128"},
    /* multiplier extremes */
    {INT32_MAX, 0x00000000u, 7, -128, 127, 7, "m = +0: zp"},
    {INT32_MIN, 0x00000000u, -7, -128, 127, -7, "m = +0, INT32_MIN: zp"},
    {1, M_SUB_MIN, 0, -128, 127, 0, "1 * 2^-149 -> 0"},
    {INT32_MAX, M_SUB_MIN, 0, -128, 127, 0, "2^31 * 2^-149 -> 0"},
    {INT32_MIN, M_SUB_MAX, -3, -128, 127, -3, "-2^31 * largest subnormal -> 0"},
    {INT32_MAX, M_NORM_MIN, 5, -128, 127, 5, "2^31 * 2^-126 -> 0"},
    {1, M_MAX, 0, -128, 127, 127, "1 * FLT_MAX saturates high"},
    {-1, M_MAX, 0, -128, 127, -128, "-1 * FLT_MAX saturates low"},
    {INT32_MAX, M_MAX, -128, -128, 127, 127, "2^31 * FLT_MAX = +inf, zp -128: 127"},
    {INT32_MIN, M_MAX, 127, -128, 127, -128, "-2^31 * FLT_MAX = -inf, zp 127: -128"},
    {3, M_2P100, -128, -128, 127, 127, "3 * 2^100 saturates before zp"},
    {-3, M_2P100, 127, -128, 127, -128, "-3 * 2^100 saturates before zp"},
    /* zero point and clamp */
    {1, M_1, 127, -128, 127, 127, "zp 127 +1 clamps"},
    {-1, M_1, 127, -128, 127, 126, "zp 127 -1 no clamp"},
    {-1, M_1, -128, -128, 127, -128, "zp -128 -1 clamps"},
    {1, M_1, -128, -128, 127, -127, "zp -128 +1 no clamp"},
    {255, M_1, -128, -128, 127, 127, "255 - 128 = 127 exactly"},
    {254, M_1, -128, -128, 127, 126, "254 - 128"},
    {-255, M_1, 127, -128, 127, -128, "-255 + 127 = -128 exactly"},
    {1000, M_1, 0, 5, 5, 5, "lo = hi = 5, high input"},
    {-1000, M_1, 0, 5, 5, 5, "lo = hi = 5, low input"},
    {-50, M_HALF, -20, -20, 127, -20, "ReLU (lo = zp): -25-20 -> -20"},
    {50, M_HALF, -20, -20, 127, 5, "ReLU (lo = zp): 25-20 = 5"},
    {-1, M_1, -128, -128, -128, -128, "lo = hi = -128"},
    /*
     * f32() of the product changes the result (double rounding). 0.1f is
     * 13421773 * 2^-27 and 5 * 13421773 = 2^26 + 1, so 5 * 0.1f = 0.5 + 2^-27
     * exactly (rne = 1) but f32() drops the +1 (27 bits -> 24): 0.5 -> 0.
     */
    {5, M_0P1, 0, -128, 127, 0, "5 * 0.1f = 0.5+2^-27 -> f32 0.5 -> 0 (exact math: 1)"},
    {-5, M_0P1, 0, -128, 127, 0, "-5 * 0.1f -> -0.5 -> 0 (exact math: -1)"},
    /*
     * 0.7f is 11744051 * 2^-24 and 5 * 11744051 = 3.5 * 2^24 - 1, so
     * 5 * 0.7f = 3.5 - 2^-24, just below 3.5 (rne = 3); the binary32 spacing
     * in [2, 4) is 2^-22, so f32() gives 3.5, which ties to even 4.
     */
    {5, M_0P7, 0, -128, 127, 4, "5 * 0.7f = 3.5-2^-24 -> f32 3.5 -> 4 (exact math: 3)"},
    {-5, M_0P7, 0, -128, 127, -4, "-5 * 0.7f -> -3.5 -> -4 (exact math: -3)"},
    {5, M_0P7, -100, -128, 127, -96, "same, zp -100"},
    /* 3 * 0x3F555556 = 2.5 + 2^-23 (rne 3): f32 2.5 -> 2. */
    {3, 0x3F555556u, 0, -128, 127, 2, "3 * 0.8333334f = 2.5+2^-23 -> f32 2.5 -> 2 (exact math: 3)"},
};

static void test_edges(void) {
  for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) {
    const edge_t *e = &edges[i];
    int32_t got = pb_requant(e->acc, e->m, e->zp, e->lo, e->hi);
    int32_t ref = ref_requant(e->acc, e->m, e->zp, e->lo, e->hi);
    CHECK(got == e->want && ref == e->want,
          "%s: pb_requant(%" PRId32 ", 0x%08" PRIX32 " = %a, zp %" PRId32 ", [%" PRId32 ", %" PRId32
          "]) = %" PRId32 ", hand value %" PRId32 ", float formula %" PRId32,
          e->why, e->acc, e->m, (double)f_of(e->m), e->zp, e->lo, e->hi, got, e->want, ref);
  }
}

static void test_mult_ok(void) {
  CHECK(pb_requant_mult_ok(0x00000000u) == 1, "+0.0 must be accepted");
  CHECK(pb_requant_mult_ok(0x80000000u) == 0, "-0.0 must be rejected");
  CHECK(pb_requant_mult_ok(0x7F800000u) == 0, "+inf must be rejected");
  CHECK(pb_requant_mult_ok(0xFF800000u) == 0, "-inf must be rejected");
  CHECK(pb_requant_mult_ok(0x7FC00000u) == 0, "quiet NaN must be rejected");
  CHECK(pb_requant_mult_ok(0x7F800001u) == 0, "signalling NaN must be rejected");
  CHECK(pb_requant_mult_ok(0xBF800000u) == 0, "-1.0 must be rejected");
  CHECK(pb_requant_mult_ok(0x80000001u) == 0, "negative subnormal must be rejected");
  CHECK(pb_requant_mult_ok(M_SUB_MIN) == 1, "smallest subnormal must be accepted");
  CHECK(pb_requant_mult_ok(M_SUB_MAX) == 1, "largest subnormal must be accepted");
  CHECK(pb_requant_mult_ok(M_MAX) == 1, "FLT_MAX must be accepted");
  CHECK(pb_requant_mult_ok(M_1) == 1, "1.0 must be accepted");
}

/* ---- bulk comparison: one CHECK per pass, the first mismatch printed ---- */

typedef struct {
  const char *name;
  long cases, fails, product_rounding; /* product_rounding: f32() of the product changed rne() */
} bulk_t;

static void bulk_one(bulk_t *b, int32_t acc, uint32_t m, int32_t zp, int32_t lo, int32_t hi) {
  int32_t got = pb_requant(acc, m, zp, lo, hi);
  int32_t r = ref_round(acc, m);
  int32_t want = clamp_y(zp, r, lo, hi);
  b->cases++;
  if (r != exact_round(acc, m)) b->product_rounding++;
  if (got != want && b->fails++ == 0)
    fprintf(stderr,
            "first mismatch (%s): acc %" PRId32 ", mult 0x%08" PRIX32 " = %a, zp %" PRId32 ", lo %" PRId32
            ", hi %" PRId32 ": got %" PRId32 ", expected %" PRId32 "\n",
            b->name, acc, m, (double)f_of(m), zp, lo, hi, got, want);
}

static void bulk_done(const bulk_t *b) {
  printf("test_requant: %s: %ld cases, %ld where f32() of the product changed rne(), %ld mismatches\n", b->name,
         b->cases, b->product_rounding, b->fails);
  CHECK(b->fails == 0, "%s: %ld of %ld cases differ from the float formula", b->name, b->fails, b->cases);
}

/* Interesting accumulators: small values, +-2^k and +-(2^k +- 1), 2^k + 3, INT32 extremes. */
static int n_interesting(int32_t *out) {
  int n = 0;
  static const int32_t small[] = {0, 1, 2, 3, 5, 7, 10, 127, 128, 255, 256, 1000, 12345};
  for (size_t i = 0; i < sizeof small / sizeof small[0]; i++) {
    out[n++] = small[i];
    if (small[i]) out[n++] = -small[i];
  }
  for (int k = 1; k <= 31; k++) {
    int64_t p = INT64_C(1) << k;
    const int64_t v[] = {p - 1, p, p + 1, p + 3, 3 * (p >> 1)};
    for (int j = 0; j < 5; j++) {
      out[n++] = to_i32(v[j]);
      out[n++] = to_i32(-v[j]);
    }
  }
  return n;
}

static void test_sweep(void) {
  static const uint32_t fracs[] = {0x000000, 0x000001, 0x000002, 0x400000, 0x7FFFFF, 0x7FFFFE,
                                   0x555555, 0x2AAAAA, 0x4CCCCD, 0x333333, 0x600000};
  static const int32_t zps[] = {0, -128, 127, -3};
  int32_t accs[400];
  int na = n_interesting(accs);
  bulk_t b = {"exponent sweep", 0, 0, 0};
  for (uint32_t e = 0; e <= 254; e++)
    for (size_t f = 0; f < sizeof fracs / sizeof fracs[0]; f++)
      for (int a = 0; a < na; a++)
        for (size_t z = 0; z < sizeof zps / sizeof zps[0]; z++) {
          bulk_one(&b, accs[a], e << 23 | fracs[f], zps[z], -128, 127);
          bulk_one(&b, accs[a], e << 23 | fracs[f], zps[z], zps[z], 127); /* ReLU */
        }
  bulk_done(&b);
}

/* Every rng() call is its own statement, so a seed gives the same cases with any compiler and flags. */
static int32_t random_acc(void) {
  int64_t s = (rng() & 1) ? -1 : 1;
  uint64_t kind = rng() % 5;
  int64_t a, d;
  switch (kind) {
    case 0: return (int32_t)(uint32_t)rng(); /* any 32-bit pattern (gcc: modulo conversion) */
    case 1: return (int32_t)(s * rng_range(0, 999));
    case 2: /* near +-2^k */
      a = INT64_C(1) << rng_range(0, 31);
      d = rng_range(-3, 3);
      return to_i32(s * (a + d));
    case 3: /* any bit width 1..31 */
      d = 33 + (int64_t)(rng() % 31);
      a = (int64_t)(rng() >> d);
      return to_i32(s * a);
    default: return (int32_t)(s * rng_range(0, 1 << 20));
  }
}

/* A positive finite multiplier bit pattern. `acc` is used to aim products at k + 0.5. */
static uint32_t random_mult(int32_t acc) {
  uint64_t kind = rng() % 5;
  uint32_t b;
  switch (kind) {
    case 0: /* any positive finite pattern: subnormals to huge exponents */
      b = (uint32_t)rng() & 0x7FFFFFFFu;
      return (b >> 23) == 0xFF ? b & 0x3FFFFFFFu : b;
    case 1: /* realistic: [2^-20, 1] */
      if (rng() % 64 == 0) return M_1;
      b = (uint32_t)rng_range(107, 126) << 23;
      return b | ((uint32_t)rng() & 0x7FFFFFu);
    case 2: /* power of two: products land exactly on ties */
      return (uint32_t)rng_range(90, 140) << 23;
    case 3: /* subnormal */
      return (uint32_t)rng() & 0x7FFFFFu;
    default: { /* a few ulps around (k + 0.5) / |acc|: products within ulps of a tie */
      float t = ((float)rng_range(0, 300) + 0.5f) / (acc ? fabsf((float)acc) : 1.0f);
      int64_t ulps = rng_range(-3, 3);
      int64_t bb = (int64_t)bits_of(t) + ulps;
      return bb < 0 ? 0u : (uint32_t)bb;
    }
  }
}

static void test_random(void) {
  bulk_t b = {"random", 0, 0, 0};
  for (long i = 0; i < N_RANDOM; i++) {
    int32_t acc = random_acc();
    uint32_t m = random_mult(acc);
    int32_t zp = rng_range(-128, 127), lo = -128, hi = 127;
    uint64_t clamp_kind = rng() % 4;
    switch (clamp_kind) {
      case 0: break;
      case 1: lo = zp; break; /* ReLU */
      default:
        lo = rng_range(-128, 127);
        hi = rng_range(-128, 127);
        if (lo > hi) {
          int32_t t = lo;
          lo = hi;
          hi = t;
        }
    }
    bulk_one(&b, acc, m, zp, lo, hi);
  }
  bulk_done(&b);
}

int main(void) {
  check_init("test_requant");
  fesetround(FE_TONEAREST);
  const char *env = getenv("PB_SEED");
  uint64_t seed = env ? strtoull(env, NULL, 0) : UINT64_C(0x5EED0F10A7A11CE5);
  printf("test_requant: seed 0x%016" PRIX64 "\n", seed);
  rng_state = seed;

  test_mult_ok();
  test_edges();
  test_sweep();
  test_random();
  return check_done();
}
