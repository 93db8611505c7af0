// SPDX-License-Identifier: Apache-2.0
// Verilator harness for rtl/pb_requant.sv: every output is compared with pb_requant() (common/requant.c,
// compiled as C) on a = acc + bias, and valid_o must follow valid_i exactly LATENCY cycles later.
//
// Check groups, one case each: reset, edge cases (a cross product fed back-to-back, then again with
// random gaps), random back-to-back, random with gaps, latency (every cycle of every group, plus
// single pulses). Random vectors come from a splitmix64 generator seeded from PB_SEED (default
// 0x5EED0F10A7A11CE5); the seed is printed. The first mismatch of each group prints the inputs, got,
// expected and the cycle. The last line is "# tb_requant: P passed, F failed"; exit status 1 if F > 0.
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <utility>
#include <vector>

#include "Vpb_requant.h"
#include "verilated.h"

extern "C" {
#include "protobrain/requant.h"
}

namespace {

constexpr int LATENCY = 8;
constexpr long N_RANDOM = 4000000;  // per random group

// ---- PRNG: splitmix64, as tests/unit/test_requant.c ----

uint64_t rng_state;

uint64_t rng() {
  uint64_t z = (rng_state += UINT64_C(0x9E3779B97F4A7C15));
  z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
  return z ^ (z >> 31);
}

int32_t rng_range(int32_t lo, int32_t hi) {  // inclusive
  return lo + (int32_t)(rng() % (uint64_t)((int64_t)hi - lo + 1));
}

int32_t to_i32(int64_t v) { return v > INT32_MAX ? INT32_MAX : v < INT32_MIN ? INT32_MIN : (int32_t)v; }
int32_t wrap_add(int32_t x, int32_t y) { return (int32_t)((uint32_t)x + (uint32_t)y); }
int32_t wrap_sub(int32_t x, int32_t y) { return (int32_t)((uint32_t)x - (uint32_t)y); }

float f_of(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

uint32_t bits_of(float f) {
  uint32_t b;
  std::memcpy(&b, &f, sizeof b);
  return b;
}

// ---- vectors and check groups ----

struct Vec {
  int32_t acc, bias;
  uint32_t mult;
  int32_t zp, lo, hi;
};

struct Group {
  const char *name;
  long vectors = 0, fails = 0;
};

int8_t expected(const Vec &v) { return pb_requant(wrap_add(v.acc, v.bias), v.mult, v.zp, v.lo, v.hi); }

// ---- the clocked harness ----

struct Slot {  // what was sampled at the edge ending one cycle
  bool valid = false;
  Vec v{};
  int8_t want = 0;
  Group *group = nullptr;
};

class Bench {
 public:
  explicit Bench(VerilatedContext *ctx) : top_(new Vpb_requant{ctx}) {
    top_->clk_i = 0;
    top_->rst_ni = 1;
    top_->valid_i = 0;
    top_->eval();
  }
  ~Bench() { top_->final(); }

  Group latency{"latency"};
  Group reset{"reset"};

  // One cycle: drive (valid, v) with rst_ni = rst_n, clock edge, check the outputs of the new cycle.
  void cycle(bool valid, const Vec &v, Group *g, bool rst_n = true) {
    top_->rst_ni = rst_n;
    top_->valid_i = valid;
    top_->acc_i = (uint32_t)v.acc;
    top_->bias_i = (uint32_t)v.bias;
    top_->mult_i = v.mult;
    top_->zp_i = (uint8_t)v.zp;
    top_->lo_i = (uint8_t)v.lo;
    top_->hi_i = (uint8_t)v.hi;
    top_->eval();
    if (!rst_n) flush();  // asynchronous reset: the pipeline is empty at once
    Slot &s = hist_[cycle_ % HIST];
    s.valid = valid && rst_n;
    s.v = v;
    s.group = g;
    if (s.valid) {
      s.want = expected(v);
      g->vectors++;
    }
    top_->clk_i = 1;
    top_->eval();
    cycle_++;
    check();
    top_->clk_i = 0;
    top_->eval();
  }

  // Drive random data with valid_i low (it must be ignored).
  void idle(Group *g) { cycle(false, garbage(), g); }

  // Assert rst_ni between two edges: valid_o must drop before the next edge.
  void async_reset_now() {
    top_->rst_ni = 0;
    top_->eval();
    flush();
    if (top_->valid_o) fail_reset("valid_o still high right after rst_ni fell (asynchronous reset)");
  }

  void fail_reset(const char *what) {
    if (reset.fails++ == 0) std::fprintf(stderr, "FAIL reset: cycle %" PRIu64 ": %s\n", cycle_, what);
  }

  uint64_t now() const { return cycle_; }
  bool valid_o() const { return top_->valid_o; }

  static Vec garbage() {
    Vec v;
    v.acc = (int32_t)(uint32_t)rng();
    v.bias = (int32_t)(uint32_t)rng();
    v.mult = (uint32_t)rng();  // any pattern, even illegal ones: valid_i is low
    v.zp = (int8_t)rng();
    v.lo = (int8_t)rng();
    v.hi = (int8_t)rng();
    return v;
  }

 private:
  static constexpr unsigned HIST = 16;  // > LATENCY
  std::unique_ptr<Vpb_requant> top_;
  Slot hist_[HIST];
  uint64_t cycle_ = 0;  // cycles completed; the outputs now belong to cycle cycle_

  void flush() {
    for (Slot &s : hist_) s.valid = false;
  }

  void check() {
    const Slot &s = hist_[(cycle_ - LATENCY) % HIST];
    bool want_valid = cycle_ >= LATENCY && s.valid;
    if (top_->valid_o != want_valid) {
      if (latency.fails++ == 0)
        std::fprintf(stderr, "FAIL latency: cycle %" PRIu64 ": valid_o = %d, but valid_i was %d in cycle %" PRId64 "\n",
                     cycle_, top_->valid_o, (int)want_valid, (int64_t)cycle_ - LATENCY);
      return;
    }
    if (!want_valid) return;
    int8_t got = (int8_t)top_->y_o;
    if (got != s.want && s.group->fails++ == 0) {
      const Vec &v = s.v;
      std::fprintf(stderr,
                   "FAIL %s: cycle %" PRIu64 " (input in cycle %" PRIu64 "): acc %" PRId32 " (0x%08" PRIX32
                   "), bias %" PRId32 " (0x%08" PRIX32 "), a = %" PRId32 ", mult 0x%08" PRIX32
                   " = %a, zp %" PRId32 ", lo %" PRId32 ", hi %" PRId32 ": got %d, expected %d\n",
                   s.group->name, cycle_, cycle_ - LATENCY, v.acc, (uint32_t)v.acc, v.bias, (uint32_t)v.bias,
                   wrap_add(v.acc, v.bias), v.mult, (double)f_of(v.mult), v.zp, v.lo, v.hi, got, s.want);
    }
  }
};

// ---- edge cases: a cross product of interesting sums, biases, multipliers and clamps ----

std::vector<Vec> edge_vectors() {
  std::vector<int32_t> sums = {0, 1, 2, 3, 5, 6, 7, 10, 127, 128, 255, 256, 1000, 12345, 0x00FFFFFF};
  const int64_t p24 = INT64_C(1) << 24;
  for (int64_t v : {p24 - 1, p24, p24 + 1, p24 + 3, 2 * p24 + 2, INT64_C(3) << 19, INT64_C(5) << 19,
                    INT64_C(0x7FFFFF80), INT64_C(0x7FFFFFBF), INT64_C(0x7FFFFFC0), INT64_C(0x7FFFFFC1),
                    // f32() rounds these up (tie to even) to 3 * 2^24 and 3 * 2^29; times 2^-25 and 2^-30
                    // they are exact ties 1.5 that a truncating f32() would put below the tie
                    3 * p24 - 1, (3 * p24 << 5) - 32})
    sums.push_back((int32_t)v);
  for (size_t i = 0, n = sums.size(); i < n; i++)
    if (sums[i] != 0) sums.push_back(-sums[i]);
  for (int32_t v : {INT32_MIN, INT32_MAX, INT32_MIN + 1}) sums.push_back(v);

  // a = acc + bias: bias 0, and biases that make acc + bias wrap around for large |a|.
  const int32_t biases[] = {0, 1, -1, INT32_MIN, INT32_MAX, 0x5A5A5A5A, -0x40000000};

  const uint32_t mults[] = {
      0x00000000u,  // +0
      0x00000001u,  // smallest subnormal
      0x007FFFFFu,  // largest subnormal
      0x00800000u,  // smallest normal 2^-126
      0x00C00000u,  // 1.5 * 2^-126
      0x7F7FFFFFu,  // FLT_MAX
      0x3F800000u,  // 1.0
      0x3F000000u,  // 0.5: odd sums give exact .5 ties
      0x3E800000u,  // 0.25: sums 2 mod 4 give exact .5 ties
      0x3A800000u,  // 2^-10
      0x35800000u,  // 2^-20
      0x33800000u,  // 2^-24
      0x33000000u,  // 2^-25
      0x32800000u,  // 2^-26
      0x33C00000u,  // 1.5 * 2^-24
      0x34200000u,  // 2.5 * 2^-24
      0x30800000u,  // 2^-30
      0x30000000u,  // 2^-31
      0x2F800000u,  // 2^-32
      0x2FC00000u,  // 1.5 * 2^-32
      0x3DCCCCCDu,  // 0.1f (double rounding)
      0x3F333333u,  // 0.7f (double rounding)
      0x3F555556u,  // 0.8333334f (double rounding)
      0x3F7FFFFFu,  // 1 - 2^-24
      0x42800000u,  // 64
      0x44800000u,  // 1024
      0x71800000u,  // 2^100
      0x4F000000u,  // 2^31
  };

  struct Clamp {
    int32_t zp, lo, hi;
  };
  const Clamp clamps[] = {
      {0, -128, 127},   {-128, -128, 127}, {127, -128, 127}, {-3, -3, 127},  {-128, -128, -128},
      {127, 127, 127},  {0, 5, 5},         {100, -20, 20},   {-1, -128, -1}, {127, -128, 0},
  };

  std::vector<Vec> out;
  for (int32_t a : sums)
    for (int32_t b : biases)
      for (uint32_t m : mults)
        for (const Clamp &c : clamps) out.push_back(Vec{wrap_sub(a, b), b, m, c.zp, c.lo, c.hi});
  return out;
}

// ---- random vectors, as tests/unit/test_requant.c, plus a bias ----

int32_t random_sum() {
  int64_t s = (rng() & 1) ? -1 : 1;
  uint64_t kind = rng() % 5;
  int64_t a, d;
  switch (kind) {
    case 0: return (int32_t)(uint32_t)rng();  // any 32-bit pattern
    case 1: return (int32_t)(s * rng_range(0, 999));
    case 2:  // near +-2^k
      a = INT64_C(1) << rng_range(0, 31);
      d = rng_range(-3, 3);
      return to_i32(s * (a + d));
    case 3:  // any bit width 1..31
      d = 33 + (int64_t)(rng() % 31);
      a = (int64_t)(rng() >> d);
      return to_i32(s * a);
    default: return (int32_t)(s * rng_range(0, 1 << 20));
  }
}

// A positive finite multiplier bit pattern; `a` aims some products at k + 0.5.
uint32_t random_mult(int32_t a) {
  uint64_t kind = rng() % 5;
  uint32_t b;
  switch (kind) {
    case 0:  // any positive finite pattern
      b = (uint32_t)rng() & 0x7FFFFFFFu;
      return (b >> 23) == 0xFF ? b & 0x3FFFFFFFu : b;
    case 1:  // realistic: [2^-20, 1]
      if (rng() % 64 == 0) return 0x3F800000u;
      b = (uint32_t)rng_range(107, 126) << 23;
      return b | ((uint32_t)rng() & 0x7FFFFFu);
    case 2:  // power of two: exact ties
      return (uint32_t)rng_range(90, 140) << 23;
    case 3:  // subnormal or zero
      return (uint32_t)rng() & 0x7FFFFFu;
    default: {  // a few ulps around (k + 0.5) / |a|
      float mag = a == 0 ? 1.0f : std::fabs((float)a);
      float t = ((float)rng_range(0, 300) + 0.5f) / mag;
      int64_t ulps = rng_range(-3, 3);
      int64_t bb = (int64_t)bits_of(t) + ulps;
      return bb < 0 ? 0u : (uint32_t)bb;
    }
  }
}

Vec random_vec() {
  Vec v;
  int32_t a = random_sum();
  uint64_t bias_kind = rng() % 4;
  switch (bias_kind) {
    case 0: v.bias = 0; break;
    case 1: v.bias = rng_range(-100000, 100000); break;
    default: v.bias = (int32_t)(uint32_t)rng(); break;  // acc + bias usually wraps around
  }
  v.acc = wrap_sub(a, v.bias);
  v.mult = random_mult(a);
  v.zp = rng_range(-128, 127);
  v.lo = -128;
  v.hi = 127;
  uint64_t clamp_kind = rng() % 8;
  switch (clamp_kind) {
    case 0:
    case 1: break;
    case 2:
    case 3: v.lo = v.zp; break;  // ReLU
    case 4: v.lo = v.hi = rng_range(-128, 127); break;
    default:
      v.lo = rng_range(-128, 127);
      v.hi = rng_range(-128, 127);
      if (v.lo > v.hi) std::swap(v.lo, v.hi);
  }
  return v;
}

// Idle cycles before the next vector in a "with gaps" group: mostly none, sometimes a long run.
int random_gap() {
  uint64_t r = rng() % 16;
  if (r < 8) return 0;
  if (r < 14) return 1 + (int)(rng() % 3);
  return 4 + (int)(rng() % 7);
}

int passed = 0, failed = 0;

void report(const Group &g, const char *unit) {
  std::printf("tb_requant: %-20s %9ld %s, %ld failed\n", g.name, g.vectors, unit, g.fails);
  if (g.fails == 0)
    passed++;
  else
    failed++;
}

}  // namespace

int main(int argc, char **argv) {
  const char *env = std::getenv("PB_SEED");
  uint64_t seed = env ? std::strtoull(env, nullptr, 0) : UINT64_C(0x5EED0F10A7A11CE5);
  std::printf("tb_requant: seed 0x%016" PRIX64 "\n", seed);
  rng_state = seed;

  auto ctx = std::make_unique<VerilatedContext>();
  ctx->randReset(2);  // registers start random (with --x-initial unique): catches missing resets
  ctx->randSeed((int)(seed & 0x7FFFFFFF));
  ctx->commandArgs(argc, argv);
  Bench tb(ctx.get());

  Group edges{"edge cases"}, random_b2b{"random back-to-back"}, random_gaps{"random with gaps"};

  // Reset: valid_o low while rst_ni is low (valid_i high meanwhile) and until the first valid input.
  for (int i = 0; i < 3; i++) {
    tb.cycle(true, Bench::garbage(), &tb.reset, false);
    if (tb.valid_o()) tb.fail_reset("valid_o high during reset");
  }
  for (int i = 0; i < 6; i++) tb.idle(&tb.reset);

  // Single pulses: valid_o rises exactly LATENCY cycles later, for one cycle.
  for (int gap = 0; gap < 3; gap++) {
    uint64_t t_in = tb.now();
    tb.cycle(true, Vec{100, 0, 0x3E800000u, 3, -128, 127}, &edges);
    uint64_t seen = 0, highs = 0;
    for (int i = 0; i < LATENCY + 4; i++) {
      tb.idle(&edges);
      if (tb.valid_o()) {
        highs++;
        seen = tb.now();
      }
    }
    if (highs != 1 || seen != t_in + LATENCY) {
      if (tb.latency.fails++ == 0)
        std::fprintf(stderr, "FAIL latency: pulse in cycle %" PRIu64 ": valid_o high %" PRIu64
                     " time(s), last in cycle %" PRIu64 " (want once, cycle %" PRIu64 ")\n",
                     t_in, highs, seen, t_in + LATENCY);
    }
  }

  // Edge cases: back-to-back, then again with random gaps.
  std::vector<Vec> ev = edge_vectors();
  for (const Vec &v : ev) tb.cycle(true, v, &edges);
  for (const Vec &v : ev) {
    for (int g = random_gap(); g > 0; g--) tb.idle(&edges);
    tb.cycle(true, v, &edges);
  }
  for (int i = 0; i < LATENCY; i++) tb.idle(&edges);

  // Random, back-to-back: a new vector every cycle.
  for (long i = 0; i < N_RANDOM; i++) tb.cycle(true, random_vec(), &random_b2b);
  for (int i = 0; i < LATENCY; i++) tb.idle(&random_b2b);

  // Random with gaps in valid_i (random data on the inputs while valid_i is low).
  for (long i = 0; i < N_RANDOM; i++) {
    for (int g = random_gap(); g > 0; g--) tb.idle(&random_gaps);
    tb.cycle(true, random_vec(), &random_gaps);
  }
  for (int i = 0; i < LATENCY; i++) tb.idle(&random_gaps);

  // Reset with a full pipeline: valid_o drops at once and nothing in flight comes out afterwards.
  for (int i = 0; i < LATENCY; i++) tb.cycle(true, random_vec(), &tb.reset);
  tb.async_reset_now();
  tb.cycle(true, Bench::garbage(), &tb.reset, false);
  if (tb.valid_o()) tb.fail_reset("valid_o high while rst_ni low");
  for (int i = 0; i < LATENCY + 2; i++) tb.idle(&tb.reset);  // checks valid_o low on each cycle
  for (int i = 0; i < 8; i++) tb.cycle(true, random_vec(), &tb.reset);
  for (int i = 0; i < LATENCY; i++) tb.idle(&tb.reset);

  tb.latency.vectors = (long)tb.now();
  report(tb.reset, "vectors");
  report(edges, "vectors");
  report(random_b2b, "vectors");
  report(random_gaps, "vectors");
  report(tb.latency, "cycles");
  std::printf("# tb_requant: %d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
