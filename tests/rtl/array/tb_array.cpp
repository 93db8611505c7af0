// SPDX-License-Identifier: Apache-2.0
// Verilator harness for pb_array (build with -GN=<n> -GTAGW=<t> and -CFLAGS "-DPB_N=<n> -DPB_TAGW=<t>").
//
// Drives pb_array cycle by cycle and checks every cycle against a C model:
//   - the model keeps the weight state of every cycle (hist[t] = both buffers
//     as the PEs see them during cycle t; a write in cycle t shows in t+1), and
//     the row presented in cycle x must come out in cycle x + 2N - 1 with
//     y[c] = sum_k x[k] * hist[x + k + c].w[sel][k][c] (int32, wrapping) and
//     its tag, and out_valid_o must be low in every other cycle.
//   Using hist[x + k + c] (not hist[x]) checks the skew: a weight written while
//   the row is inside the array is seen exactly by the PEs that process the
//   row after the write.
// Each group of checks counts one case. Seed: env PB_SEED (default 1).
// Env PB_TRACE=<file.fst> writes a trace when the model was built with --trace-fst.
#include "Vpb_array.h"
#include "verilated.h"
#if VM_TRACE
#include "verilated_fst_c.h"
#endif

#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <vector>

#ifndef PB_N
#error "define PB_N (must equal the -GN given to Verilator)"
#endif
#ifndef PB_TAGW
#define PB_TAGW 32
#endif

static const int N = PB_N;
static const int L = 2 * PB_N - 1;  // latency contract
static const uint32_t TAG_MASK = (PB_TAGW >= 32) ? 0xffffffffu : ((1u << PB_TAGW) - 1u);

// ---- bit fields of the flat ports (8-bit fields at multiples of 8, 32-bit at multiples of 32:
// none straddles a 32-bit word) ----
template <typename T> static void put(T &sig, int lsb, int w, uint32_t v) {
  uint64_t m = (w >= 32 ? 0xffffffffull : ((1ull << w) - 1)) << lsb;
  sig = (T)(((uint64_t)sig & ~m) | (((uint64_t)v << lsb) & m));
}
template <std::size_t W> static void put(VlWide<W> &sig, int lsb, int w, uint32_t v) {
  uint32_t m = (w >= 32 ? 0xffffffffu : ((1u << w) - 1)) << (lsb % 32);
  sig[lsb / 32] = (sig[lsb / 32] & ~m) | ((v << (lsb % 32)) & m);
}
template <typename T> static uint32_t get(const T &sig, int lsb, int w) {
  return (uint32_t)(((uint64_t)sig >> lsb) & (w >= 32 ? 0xffffffffull : ((1ull << w) - 1)));
}
template <std::size_t W> static uint32_t get(const VlWide<W> &sig, int lsb, int w) {
  return (sig[lsb / 32] >> (lsb % 32)) & (w >= 32 ? 0xffffffffu : ((1u << w) - 1));
}

// ---- random numbers (xorshift64*, seeded) ----
static uint64_t rng_state;
static uint32_t rnd() {
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return (uint32_t)((rng_state * 0x2545F4914F6CDD1Dull) >> 32);
}
static int rnd_below(int n) { return (int)(rnd() % (uint32_t)n); }
static int8_t rnd_i8() {  // uniform, with the extremes over-represented
  int r = rnd_below(16);
  if (r == 0) return -128;
  if (r == 1) return 127;
  if (r == 2) return 0;
  return (int8_t)rnd();
}

// ---- one cycle of stimulus ----
struct Drive {
  bool rst = false;
  bool valid = false;
  int sel = 0;
  int8_t x[PB_N] = {};
  uint32_t tag = 0;
  bool we = false;
  int wsel = 0;
  int wk = 0;
  int8_t wrow[PB_N] = {};
  bool clear = false;
};

struct WState { int8_t w[2][PB_N][PB_N]; };  // [buffer][k][c]

struct Row {
  uint64_t cycle;  // presented
  long idx;        // running row number
  int sel;
  int8_t x[PB_N];
  uint32_t tag;
};

// ---- the bench ----
struct Tb {
  VerilatedContext *ctx = nullptr;
  Vpb_array *dut = nullptr;
#if VM_TRACE
  VerilatedFstC *trace = nullptr;
#endif
  uint64_t cycle = 0;
  long rows_in = 0;
  long rows_checked = 0;
  WState cur{};
  std::vector<WState> hist;  // hist[t]: weights during cycle t
  std::deque<Row> inflight;
  // results of the current group
  const char *group = "";
  long group_errors = 0;
  int32_t last_y[PB_N] = {};  // the most recent output row
  uint32_t last_tag = 0;

  void mismatch(const char *what, long row, int col, int64_t exp, int64_t got) {
    if (group_errors++ == 0) {
      printf("FAIL %s: cycle %" PRIu64 ", row %ld, %s", group, cycle, row, what);
      if (col >= 0) printf(" column %d", col);
      printf(": expected %" PRId64 " (0x%08" PRIx32 "), got %" PRId64 " (0x%08" PRIx32 ")\n",
             exp, (uint32_t)exp, got, (uint32_t)got);
    }
  }

  void dump() {
#if VM_TRACE
    if (trace) trace->dump(ctx->time());
#endif
    ctx->timeInc(1);
  }

  // Apply d for one cycle, check the outputs of this cycle, clock.
  void step(const Drive &d) {
    dut->rst_ni = d.rst ? 0 : 1;
    dut->in_valid_i = d.valid;
    dut->in_sel_i = d.sel;
    for (int k = 0; k < N; k++) put(dut->in_row_i, k * 8, 8, (uint8_t)d.x[k]);
    dut->in_tag_i = d.tag & TAG_MASK;
    dut->w_we_i = d.we;
    dut->w_sel_i = d.wsel;
    dut->w_k_i = d.wk;
    for (int c = 0; c < N; c++) put(dut->w_row_i, c * 8, 8, (uint8_t)d.wrow[c]);
    dut->w_clear_i = d.clear;
    dut->eval();

    if (d.rst) {  // asynchronous: everything in flight is gone, weights are 0
      inflight.clear();
      memset(&cur, 0, sizeof cur);
    }
    hist.push_back(cur);

    // outputs of this cycle
    bool exp_valid = !inflight.empty() && inflight.front().cycle + L == cycle;
    if ((bool)dut->out_valid_o != exp_valid) {
      mismatch("out_valid_o", exp_valid ? inflight.front().idx : -1, -1, exp_valid,
               dut->out_valid_o);
    }
    if (exp_valid) {
      const Row &r = inflight.front();
      for (int c = 0; c < N; c++) {
        uint32_t acc = 0;  // int32 wrapping
        for (int k = 0; k < N; k++) {
          acc += (uint32_t)((int32_t)r.x[k] * (int32_t)hist[r.cycle + k + c].w[r.sel][k][c]);
        }
        uint32_t got = get(dut->out_row_o, c * 32, 32);
        if (got != acc) mismatch("y", r.idx, c, (int32_t)acc, (int32_t)got);
        last_y[c] = (int32_t)got;
      }
      uint32_t got_tag = dut->out_tag_o;
      if (got_tag != r.tag) mismatch("tag", r.idx, -1, r.tag, got_tag);
      last_tag = got_tag;
      rows_checked++;
      inflight.pop_front();
    }

    if (d.valid) {
      Row r;
      r.cycle = cycle;
      r.idx = rows_in++;
      r.sel = d.sel;
      memcpy(r.x, d.x, sizeof r.x);
      r.tag = d.tag & TAG_MASK;
      inflight.push_back(r);
    }
    if (d.clear) {
      memset(&cur, 0, sizeof cur);
    } else if (d.we && d.wk < N) {
      for (int c = 0; c < N; c++) cur.w[d.wsel][d.wk][c] = d.wrow[c];
    }

    dut->clk_i = 1;
    dut->eval();
    dump();
    dut->clk_i = 0;
    dut->eval();
    dump();
    cycle++;
  }

  void idle(int n) {
    Drive d;
    for (int i = 0; i < n; i++) step(d);
  }
  void drain() {
    idle(L + 2);
    if (!inflight.empty()) mismatch("missing output row", inflight.front().idx, -1, 1, 0);
  }
};

// ---- stimulus helpers ----
static Drive row_drive(int sel) {
  Drive d;
  d.valid = true;
  d.sel = sel;
  for (int k = 0; k < N; k++) d.x[k] = rnd_i8();
  d.tag = rnd();
  return d;
}
static void add_write(Drive &d, int buf, int k, const int8_t *row) {
  d.we = true;
  d.wsel = buf;
  d.wk = k;
  memcpy(d.wrow, row, sizeof d.wrow);
}
static void load_buffer(Tb &tb, int buf, int8_t (*w)[PB_N]) {  // one row per cycle, no rows
  for (int k = 0; k < N; k++) {
    Drive d;
    add_write(d, buf, k, w[k]);
    tb.step(d);
  }
}
static void random_tile(int8_t (*w)[PB_N]) {
  for (int k = 0; k < N; k++)
    for (int c = 0; c < N; c++) w[k][c] = rnd_i8();
}

// ---- the groups ----
static int passed = 0, failed = 0;

static void begin(Tb &tb, const char *name) {
  tb.group = name;
  tb.group_errors = 0;
}
static void end(Tb &tb) {
  tb.drain();
  if (tb.group_errors == 0) {
    passed++;
    printf("ok   %s\n", tb.group);
  } else {
    failed++;
    printf("FAIL %s: %ld mismatches\n", tb.group, tb.group_errors);
  }
}
static void expect_lit(Tb &tb, const char *what, const int32_t *exp) {
  for (int c = 0; c < N; c++) {
    if (tb.last_y[c] != exp[c]) tb.mismatch(what, -1, c, exp[c], tb.last_y[c]);
  }
}

static void g_reset(Tb &tb) {
  begin(tb, "reset: no output without input");
  Drive r;
  r.rst = true;
  for (int i = 0; i < 3; i++) tb.step(r);
  tb.idle(2 * L + 3);
  end(tb);
}

// W = [[1,2],[3,4]] in the top-left corner (zeros elsewhere), x = [5,6,0,...] -> y = [23,34,0,...]
static void g_hand(Tb &tb) {
  begin(tb, "hand case: [5,6] x [[1,2],[3,4]] = [23,34]");
  Drive clr;
  clr.clear = true;
  tb.step(clr);
  int8_t w[PB_N][PB_N] = {};
  w[0][0] = 1;
  if (N >= 2) {
    w[0][1] = 2;
    w[1][0] = 3;
    w[1][1] = 4;
  }
  load_buffer(tb, 0, w);
  Drive d;
  d.valid = true;
  d.sel = 0;
  d.x[0] = 5;
  if (N >= 2) d.x[1] = 6;
  d.tag = 0x5a5a5a5a;
  tb.step(d);
  tb.drain();
  int32_t exp[PB_N] = {};
  exp[0] = N >= 2 ? 23 : 5;
  if (N >= 2) exp[1] = 34;
  expect_lit(tb, "hand y", exp);
  if (tb.last_tag != (0x5a5a5a5au & TAG_MASK)) tb.mismatch("hand tag", 0, -1, 0x5a5a5a5a & TAG_MASK, tb.last_tag);
  end(tb);
}

// buffer 0 all -128, buffer 1 all 127; rows of all -128 / all 127 on each
static void g_extremes(Tb &tb) {
  begin(tb, "extremes: -128*-128, -128*127, 127*127 summed over N");
  int8_t w[PB_N][PB_N];
  memset(w, 0x80, sizeof w);
  load_buffer(tb, 0, w);
  memset(w, 0x7f, sizeof w);
  load_buffer(tb, 1, w);
  const struct { int8_t x; int sel; int32_t each; } cases[] = {
      {-128, 0, 16384}, {127, 0, -16256}, {-128, 1, -16256}, {127, 1, 16129}};
  for (const auto &cs : cases) {
    Drive d;
    d.valid = true;
    d.sel = cs.sel;
    memset(d.x, (uint8_t)cs.x, sizeof d.x);
    d.tag = rnd();
    tb.step(d);
    tb.drain();
    int32_t exp[PB_N];
    for (int c = 0; c < N; c++) exp[c] = cs.each * N;  // |N * 16384| < 2^31 for N <= 64
    expect_lit(tb, "extreme y", exp);
  }
  // the same four back to back
  for (const auto &cs : cases) {
    Drive d;
    d.valid = true;
    d.sel = cs.sel;
    memset(d.x, (uint8_t)cs.x, sizeof d.x);
    d.tag = rnd();
    tb.step(d);
  }
  end(tb);
}

static void g_back_to_back(Tb &tb, int rows) {
  begin(tb, "random rows back to back, one buffer each half");
  int8_t w[PB_N][PB_N];
  random_tile(w);
  load_buffer(tb, 0, w);
  random_tile(w);
  load_buffer(tb, 1, w);
  for (int i = 0; i < rows; i++) tb.step(row_drive(i < rows / 2 ? 0 : 1));
  end(tb);
}

static void g_gaps(Tb &tb, int rows) {
  begin(tb, "random rows with random gaps and selects");
  for (int i = 0; i < rows; i++) {
    int r = rnd_below(8);
    int gap = r < 4 ? 0 : r < 6 ? 1 : r < 7 ? rnd_below(L + 1) : L + rnd_below(L);
    tb.idle(gap);
    tb.step(row_drive(rnd_below(2)));
  }
  end(tb);
}

static void g_alternate(Tb &tb, int rows) {
  begin(tb, "buffer switches mid-stream (rows in flight keep their buffer)");
  int sel = 0;
  for (int i = 0; i < rows;) {
    int run = 1 + rnd_below(4);
    for (int j = 0; j < run && i < rows; j++, i++) tb.step(row_drive(sel));
    sel ^= 1;
  }
  end(tb);
}

// Legal double buffering: stream on buffer b; once every row using !b has
// left the PEs, load the next tile into !b one row per cycle while rows on b
// keep streaming; switch to !b in the cycle after the last write.
static void g_pingpong(Tb &tb, int tiles) {
  begin(tb, "reload the idle buffer while the other streams, then switch");
  int8_t w[PB_N][PB_N];
  random_tile(w);
  load_buffer(tb, 0, w);
  int b = 0;
  for (int t = 0; t < tiles; t++) {
    // L cycles of rows (with a few gaps) on b: the last !b row drains meanwhile
    for (int i = 0; i < L; i++) {
      if (rnd_below(6) == 0) tb.step(Drive());
      else tb.step(row_drive(b));
    }
    random_tile(w);
    for (int k = 0; k < N; k++) {  // N writes into !b, rows on b in the same cycles
      Drive d = rnd_below(6) == 0 ? Drive() : row_drive(b);
      add_write(d, b ^ 1, k, w[k]);
      tb.step(d);
    }
    b ^= 1;
  }
  for (int i = 0; i < L; i++) tb.step(row_drive(b));
  end(tb);
}

// Out of the control's contract but defined by the RTL: writes into the buffer
// that rows in flight are using. Checks that PE(k,c) computes the row presented
// in cycle x exactly in cycle x + k + c.
static void g_skew_timing(Tb &tb, int cycles) {
  begin(tb, "skew timing: writes into the buffer in use (PE(k,c) at x+k+c)");
  for (int i = 0; i < cycles; i++) {
    Drive d = rnd_below(5) == 0 ? Drive() : row_drive(rnd_below(2));
    if (rnd_below(2)) {
      int8_t row[PB_N];
      for (int c = 0; c < N; c++) row[c] = rnd_i8();
      add_write(d, rnd_below(2), rnd_below(N), row);
    }
    tb.step(d);
  }
  end(tb);
}

static void g_clear(Tb &tb) {
  begin(tb, "w_clear mid-stream (and over a write in the same cycle)");
  int8_t w[PB_N][PB_N];
  random_tile(w);
  load_buffer(tb, 0, w);
  random_tile(w);
  load_buffer(tb, 1, w);
  for (int i = 0; i < 3 * L; i++) {
    Drive d = row_drive(rnd_below(2));
    if (i == L) {
      d.clear = true;
      add_write(d, 0, 0, w[0]);  // clear wins
    }
    tb.step(d);
  }
  tb.drain();
  // both buffers must now be zero except what the model says
  for (int i = 0; i < 4; i++) tb.step(row_drive(i & 1));
  tb.drain();
  int32_t zero[PB_N] = {};
  expect_lit(tb, "after clear y", zero);
  end(tb);
}

static void g_reset_mid(Tb &tb) {
  begin(tb, "reset with rows in flight: they never come out; weights 0");
  int8_t w[PB_N][PB_N];
  random_tile(w);
  load_buffer(tb, 1, w);
  for (int i = 0; i < L; i++) tb.step(row_drive(1));
  Drive r;
  r.rst = true;
  tb.step(r);
  tb.step(r);
  for (int i = 0; i < 3; i++) tb.step(row_drive(i & 1));
  tb.drain();
  int32_t zero[PB_N] = {};
  expect_lit(tb, "after reset y", zero);
  random_tile(w);
  load_buffer(tb, 0, w);
  for (int i = 0; i < L; i++) tb.step(row_drive(0));
  end(tb);
}

static void g_soak(Tb &tb, int cycles) {
  begin(tb, "soak: random rows, gaps, selects, writes (also to rows >= N), clears");
  int kmax = 1;  // 2^width of w_k_i: rows N..kmax-1 exist on the port but write nothing
  while (kmax < N) kmax *= 2;
  for (int i = 0; i < cycles; i++) {
    Drive d = rnd_below(4) == 0 ? Drive() : row_drive(rnd_below(2));
    int r = rnd_below(16);
    if (r < 6) {
      int8_t row[PB_N];
      for (int c = 0; c < N; c++) row[c] = rnd_i8();
      add_write(d, rnd_below(2), rnd_below(r == 0 ? kmax : N), row);
    }
    if (r == 6 && rnd_below(16) == 0) d.clear = true;
    tb.step(d);
  }
  end(tb);
}

int main(int argc, char **argv) {
  const char *s = getenv("PB_SEED");
  uint64_t seed = s && *s ? strtoull(s, nullptr, 0) : 1;
  rng_state = seed * 0x9E3779B97F4A7C15ull + 1;
  printf("# tb_array N=%d TAGW=%d latency %d seed %" PRIu64 " (env PB_SEED)\n", N, PB_TAGW, L, seed);

  Tb tb;
  tb.ctx = new VerilatedContext;
  tb.ctx->commandArgs(argc, argv);
  tb.ctx->randReset(2);                  // unreset registers start random
  tb.ctx->randSeed((int)(seed % 1000000007u) + 1);
  tb.dut = new Vpb_array{tb.ctx};
#if VM_TRACE
  const char *tf = getenv("PB_TRACE");
  if (tf && *tf) {
    tb.ctx->traceEverOn(true);
    tb.trace = new VerilatedFstC;
    tb.dut->trace(tb.trace, 99);
    tb.trace->open(tf);
  }
#endif
  tb.dut->clk_i = 0;
  tb.dut->rst_ni = 1;  // so that the first reset cycle is a falling edge of rst_ni
  tb.dut->eval();

  int rows = N <= 4 ? 400 : 200;
  g_reset(tb);
  g_hand(tb);
  g_extremes(tb);
  g_back_to_back(tb, rows);
  g_gaps(tb, rows);
  g_alternate(tb, rows);
  g_pingpong(tb, 8);
  g_skew_timing(tb, 2 * rows);
  g_clear(tb);
  g_reset_mid(tb);
  g_soak(tb, 3 * rows);

  printf("# %ld rows checked at latency %d over %" PRIu64 " cycles\n", tb.rows_checked, L, tb.cycle);
  printf("# tb_array: %d passed, %d failed\n", passed, failed);
#if VM_TRACE
  if (tb.trace) tb.trace->close();
#endif
  tb.dut->final();
  delete tb.dut;
  delete tb.ctx;
  return failed ? 1 : 0;
}
