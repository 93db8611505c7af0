// SPDX-License-Identifier: Apache-2.0
// Verilator harness for pb_pe: directed checks, then random cycles against a C model of the PE.
//
// Model: in cycle t the PE sees w0/w1 as written up to cycle t-1; in cycle t+1
// a_valid_o = a_valid_i(t) and, if a_valid_i(t): a_o = a_i, a_sel_o = a_sel_i,
// psum_o = psum_i + a_i * w[a_sel_i] (int32 wrapping); otherwise a_o, a_sel_o
// and psum_o hold. w_clear_i zeroes both buffers and wins over w_we_i.
// Each group of checks counts one case. Seed: env PB_SEED (default 1).
#include "Vpb_pe.h"
#include "verilated.h"

#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

static uint64_t rng_state;
static uint32_t rnd() {
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return (uint32_t)((rng_state * 0x2545F4914F6CDD1Dull) >> 32);
}

struct In {
  bool rst = false;
  bool we = false, wsel = false, clear = false;
  int8_t wdata = 0;
  bool valid = false, sel = false;
  int8_t a = 0;
  uint32_t psum = 0;
};

struct Tb {
  VerilatedContext *ctx;
  Vpb_pe *dut;
  uint64_t cycle = 0;
  // model
  int8_t w[2] = {0, 0};
  bool valid_o = false, sel_o = false, known = false;  // known: a_o/psum_o loaded since reset
  int8_t a_o = 0;
  uint32_t psum_o = 0;
  const char *group = "";
  long errors = 0;

  void mismatch(const char *what, int64_t exp, int64_t got) {
    if (errors++ == 0)
      printf("FAIL %s: cycle %" PRIu64 ", %s: expected %" PRId64 ", got %" PRId64 "\n", group, cycle,
             what, exp, got);
  }

  void check() {
    if ((bool)dut->a_valid_o != valid_o) mismatch("a_valid_o", valid_o, dut->a_valid_o);
    if (known) {
      if ((int8_t)dut->a_o != a_o) mismatch("a_o", a_o, (int8_t)dut->a_o);
      if ((bool)dut->a_sel_o != sel_o) mismatch("a_sel_o", sel_o, dut->a_sel_o);
      if (dut->psum_o != psum_o) mismatch("psum_o", (int32_t)psum_o, (int32_t)dut->psum_o);
    }
  }

  void step(const In &in) {
    dut->rst_ni = !in.rst;
    dut->w_we_i = in.we;
    dut->w_sel_i = in.wsel;
    dut->w_data_i = (uint8_t)in.wdata;
    dut->w_clear_i = in.clear;
    dut->a_valid_i = in.valid;
    dut->a_sel_i = in.sel;
    dut->a_i = (uint8_t)in.a;
    dut->psum_i = in.psum;
    dut->eval();
    if (in.rst) {
      w[0] = w[1] = 0;
      valid_o = false;
      known = false;
    }
    check();  // outputs of this cycle
    // model: the clock edge at the end of this cycle
    if (!in.rst) {
      valid_o = in.valid;
      if (in.valid) {
        a_o = in.a;
        sel_o = in.sel;
        psum_o = in.psum + (uint32_t)((int32_t)in.a * (int32_t)w[in.sel]);
        known = true;
      }
      if (in.clear) w[0] = w[1] = 0;
      else if (in.we) w[in.wsel] = in.wdata;
    }
    dut->clk_i = 1;
    dut->eval();
    dut->clk_i = 0;
    dut->eval();
    cycle++;
  }
};

static int passed = 0, failed = 0;
static void begin(Tb &tb, const char *g) {
  tb.group = g;
  tb.errors = 0;
}
static void end(Tb &tb) {
  tb.step(In());  // outputs of the last input are checked in the next cycle
  if (tb.errors == 0) {
    passed++;
    printf("ok   %s\n", tb.group);
  } else {
    failed++;
    printf("FAIL %s: %ld mismatches\n", tb.group, tb.errors);
  }
}
static In mac(int8_t a, bool sel, uint32_t psum) {
  In i;
  i.valid = true;
  i.a = a;
  i.sel = sel;
  i.psum = psum;
  return i;
}
static In wr(bool sel, int8_t v) {
  In i;
  i.we = true;
  i.wsel = sel;
  i.wdata = v;
  return i;
}
// one MAC, then check the literal result in the next cycle
static void mac_lit(Tb &tb, int8_t a, bool sel, uint32_t psum, int32_t exp) {
  tb.step(mac(a, sel, psum));
  tb.dut->eval();
  if ((int32_t)tb.dut->psum_o != exp) tb.mismatch("psum_o literal", exp, (int32_t)tb.dut->psum_o);
}

int main(int argc, char **argv) {
  const char *s = getenv("PB_SEED");
  uint64_t seed = s && *s ? strtoull(s, nullptr, 0) : 1;
  rng_state = seed * 0x9E3779B97F4A7C15ull + 1;
  printf("# tb_pe seed %" PRIu64 " (env PB_SEED)\n", seed);

  Tb tb;
  tb.ctx = new VerilatedContext;
  tb.ctx->commandArgs(argc, argv);
  tb.ctx->randReset(2);
  tb.ctx->randSeed((int)(seed % 1000000007u) + 1);
  tb.dut = new Vpb_pe{tb.ctx};
  tb.dut->clk_i = 0;
  tb.dut->rst_ni = 1;
  tb.dut->eval();

  begin(tb, "reset: valid low, weights 0");
  In r;
  r.rst = true;
  tb.step(r);
  tb.step(r);
  tb.step(In());
  mac_lit(tb, 100, 0, 7, 7);
  mac_lit(tb, -100, 1, 9, 9);
  end(tb);

  begin(tb, "multiply-add with buffer 0 and 1");
  tb.step(wr(0, 3));
  tb.step(wr(1, -5));
  mac_lit(tb, 7, 0, 100, 121);
  mac_lit(tb, 7, 1, 100, 65);
  mac_lit(tb, -7, 1, (uint32_t)-100, -65);
  end(tb);

  begin(tb, "extremes and int32 wrap-around");
  tb.step(wr(0, -128));
  tb.step(wr(1, 127));
  mac_lit(tb, -128, 0, 0, 16384);
  mac_lit(tb, -128, 1, 0, -16256);
  mac_lit(tb, 127, 1, 0, 16129);
  mac_lit(tb, -128, 0, 0x7fffffffu, (int32_t)0x80003fffu);    // 2^31-1 + 16384 wraps
  mac_lit(tb, 127, 0, 0x80000000u, (int32_t)0x7fffc080u);     // -2^31 - 16256 wraps
  end(tb);

  begin(tb, "invalid cycles hold a_o/psum_o, a_valid_o follows");
  tb.step(mac(11, 1, 1000));
  for (int i = 0; i < 3; i++) {
    In i0 = mac(-1, 0, 5);
    i0.valid = false;
    tb.step(i0);
  }
  end(tb);

  begin(tb, "w_clear clears both buffers and wins over w_we");
  tb.step(wr(0, 9));
  tb.step(wr(1, 9));
  {
    In c = wr(1, 55);
    c.clear = true;
    tb.step(c);
  }
  mac_lit(tb, 13, 0, 1, 1);
  mac_lit(tb, 13, 1, 2, 2);
  end(tb);

  begin(tb, "a write shows in the next cycle, not in its own");
  tb.step(wr(1, 2));
  {
    In m = mac(10, 1, 0);  // uses the old w1 = 2 while w1 <= 6 is written
    m.we = true;
    m.wsel = 1;
    m.wdata = 6;
    tb.step(m);
    tb.dut->eval();
    if ((int32_t)tb.dut->psum_o != 20) tb.mismatch("psum_o (old weight)", 20, (int32_t)tb.dut->psum_o);
  }
  mac_lit(tb, 10, 1, 0, 60);
  end(tb);

  begin(tb, "random cycles against the model");
  for (int i = 0; i < 5000; i++) {
    In in;
    uint32_t r1 = rnd();
    in.valid = r1 & 1;
    in.sel = (r1 >> 1) & 1;
    in.we = ((r1 >> 2) & 3) == 0;
    in.wsel = (r1 >> 4) & 1;
    in.clear = ((r1 >> 5) & 63) == 0;
    in.rst = ((r1 >> 11) & 1023) == 0;
    in.a = (int8_t)rnd();
    in.wdata = (int8_t)rnd();
    in.psum = rnd();
    tb.step(in);
  }
  end(tb);

  printf("# tb_pe: %d passed, %d failed\n", passed, failed);
  tb.dut->final();
  delete tb.dut;
  delete tb.ctx;
  return failed ? 1 : 0;
}
