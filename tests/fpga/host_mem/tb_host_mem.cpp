// SPDX-License-Identifier: Apache-2.0
// Test bench of the board's host-memory controller (fpga/rtl/pb_host_mem.sv with pb_host_ram.sv):
// directed single-requester cases with their exact wait states (docs/uart.md: a read of k words
// is accepted after k + 2 cycles and answered the next cycle, a write after k: one cycle picks
// the port, the RAM's inputs are registered), then seeded random
// traffic on all four ports at once (any address and length, the instruction port sometimes
// giving up a request), against a byte array updated in the order the controller accepts
// requests. Prints "# NAME: P passed, F failed".
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "Vtb_host_mem_top.h"
#include "verilated.h"

#ifndef TB_N
#define TB_N 4
#endif
static const unsigned HOST = 4096;

static int passed, failed, errors;
// a counted case
static void check(bool ok, const char *fmt, unsigned a = 0, unsigned b = 0, unsigned c = 0) {
  if (ok) {
    passed++;
    return;
  }
  failed++;
  fprintf(stderr, "FAIL: ");
  fprintf(stderr, fmt, a, b, c);
  fprintf(stderr, "\n");
}
// an error inside a phase: printed (the first few), counted by the phase's check
static void error(const char *fmt, unsigned a = 0, unsigned b = 0, unsigned c = 0) {
  if (errors++ < 8) {
    fprintf(stderr, "error: ");
    fprintf(stderr, fmt, a, b, c);
    fprintf(stderr, "\n");
  }
}

static uint64_t rng = 12345;
static unsigned rnd(unsigned n) {
  rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
  return (unsigned)((rng >> 33) % n);
}

// bytes <-> signals
template <typename T> static void put(T &s, const uint8_t *b, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; i++) v |= (uint64_t)b[i] << (8 * i);
  s = (T)v;
}
template <std::size_t W> static void put(VlWide<W> &s, const uint8_t *b, int n) {
  for (std::size_t w = 0; w < W; w++) s[w] = 0;
  for (int i = 0; i < n; i++) s[i / 4] |= (uint32_t)b[i] << (8 * (i % 4));
}
template <typename T> static void get(const T &s, uint8_t *b, int n) {
  for (int i = 0; i < n; i++) b[i] = (uint8_t)((uint64_t)s >> (8 * i));
}
template <std::size_t W> static void get(const VlWide<W> &s, uint8_t *b, int n) {
  for (int i = 0; i < n; i++) b[i] = (uint8_t)(s[i / 4] >> (8 * (i % 4)));
}

struct Req {
  bool v = false, we = false;
  unsigned addr = 0, len = 0, age = 0;
  uint8_t data[64];
};

static Vtb_host_mem_top *t;
static uint8_t mem[HOST];
static Req port[4];          // if, rd, wr, br
static bool exp_rsp[4];      // a response is due this cycle (accepted last cycle)
static uint8_t exp_data[4][64];
static unsigned exp_len[4];

static void drive() {
  t->if_req_valid_i = port[0].v;
  t->if_req_addr_i = port[0].addr;
  t->rd_req_valid_i = port[1].v;
  t->rd_req_addr_i = port[1].addr;
  t->rd_req_len_i = port[1].len;
  t->wr_req_valid_i = port[2].v;
  t->wr_req_addr_i = port[2].addr;
  t->wr_req_len_i = port[2].len;
  put(t->wr_req_data_i, port[2].data, TB_N);
  t->br_req_valid_i = port[3].v;
  t->br_req_we_i = port[3].we;
  t->br_req_addr_i = port[3].addr;
  t->br_req_wdata_i = port[3].data[0];
}

// One cycle: check responses due, note acceptances (applied to mem in the controller's order:
// at most one per cycle), then the clock edge. Returns the accepted port or -1.
static int cycle() {
  drive();
  t->clk_i = 0;
  t->eval();
  uint8_t got[64];
  bool rv[4] = {(bool)t->if_rsp_valid_o, (bool)t->rd_rsp_valid_o, false, (bool)t->br_rsp_valid_o};
  for (int p : {0, 1, 3}) {
    if (rv[p] != exp_rsp[p]) {
      error("port %u: response valid %u, expected %u", (unsigned)p, rv[p], exp_rsp[p]);
      continue;
    }
    if (!rv[p]) continue;
    if (p == 0) get(t->if_rsp_data_o, got, 16);
    else if (p == 1) get(t->rd_rsp_data_o, got, TB_N);
    else got[0] = t->br_rsp_data_o;
    // bytes beyond the length of a short read are not defined
    for (unsigned i = 0; i < exp_len[p]; i++)
      if (got[i] != exp_data[p][i]) {
        error("port %u: response byte %u is 0x%02x", (unsigned)p, i, got[i]);
        error("  expected 0x%02x", exp_data[p][i]);
        break;
      }
  }
  bool rdy[4] = {(bool)t->if_req_ready_o, (bool)t->rd_req_ready_o, (bool)t->wr_req_ready_o, (bool)t->br_req_ready_o};
  int acc = -1, nacc = 0;
  for (int p = 0; p < 4; p++) {
    exp_rsp[p] = false;
    if (rdy[p] && !port[p].v) error("port %u: ready without a request", (unsigned)p);
    if (rdy[p] && port[p].v) acc = p, nacc++;
  }
  if (nacc > 1) error("%u requests accepted in one cycle", (unsigned)nacc);
  if (acc >= 0) {
    Req &r = port[acc];
    if (r.we) {
      memcpy(mem + r.addr, r.data, r.len);
    } else {
      exp_rsp[acc] = true;
      memcpy(exp_data[acc], mem + r.addr, r.len);
      exp_len[acc] = r.len;
    }
    r.v = false;
  }
  t->clk_i = 1;
  t->eval();
  return acc;
}

static void new_req(int p) {
  Req &r = port[p];
  r.v = true;
  r.age = 0;
  switch (p) {
    case 0:
      r.we = false;
      r.len = 16;
      r.addr = rnd(4) ? 16 * rnd(HOST / 16) : rnd(HOST - 16 + 1);  // aligned, sometimes not
      break;
    case 1:
      r.we = false;
      r.len = 1 + rnd(TB_N);
      r.addr = rnd(HOST - r.len + 1);
      break;
    case 2:
      r.we = true;
      r.len = 1 + rnd(TB_N);
      r.addr = rnd(HOST - r.len + 1);
      for (unsigned i = 0; i < TB_N; i++) r.data[i] = (uint8_t)rnd(256);
      break;
    default:
      r.we = rnd(2);
      r.len = 1;
      r.addr = rnd(HOST);
      r.data[0] = (uint8_t)rnd(256);
  }
}

int main(int argc, char **argv) {
  Verilated::commandArgs(argc, argv);
  if (getenv("PB_SEED")) rng = strtoull(getenv("PB_SEED"), nullptr, 10) * 2654435761u + 1;
  t = new Vtb_host_mem_top;
  t->clk_i = 0;
  t->rst_ni = 1;
  t->eval();
  t->rst_ni = 0;
  t->eval();
  for (int i = 0; i < 3; i++) cycle();
  t->rst_ni = 1;
  // clear the memory through the bridge port (the RAM starts random)
  for (unsigned a = 0; a < HOST; a++) {
    port[3] = Req();
    port[3].v = port[3].we = true;
    port[3].addr = a;
    port[3].len = 1;
    port[3].data[0] = 0;
    while (cycle() != 3) {}
  }
  memset(mem, 0, sizeof mem);
  check(errors == 0, "clearing the memory through the bridge port");
  // ---- directed: one requester, exact waits ----
  int bad_wait = 0;
  for (int p = 0; p < 4; p++)
    for (unsigned k = 0; k < 40; k++) {
      new_req(p);
      if (p == 3) port[3].we = k % 2;
      if (k < 2 && p != 3) port[p].addr = k;  // aligned and odd start
      unsigned words = (port[p].addr % 2 + port[p].len + 1) / 2, w = 0;
      while (cycle() != p) w++;
      unsigned want = port[p].we ? words : words + 2;
      if (w != want) {
        if (!bad_wait) fprintf(stderr, "port %d: %u bytes at 0x%x waited %u cycles, expected %u\n", p, port[p].len,
                               port[p].addr, w, want);
        bad_wait++;
      }
      cycle();  // the response
    }
  check(bad_wait == 0 && errors == 0, "directed requests wait exactly k + 2 (reads) or k (writes) cycles for k words: %u wrong",
        (unsigned)bad_wait);
  // ---- random traffic on all ports ----
  unsigned accepted[4] = {0, 0, 0, 0}, abandoned = 0;
  int before = errors;
  for (int c = 0; c < 40000; c++) {
    for (int p = 0; p < 4; p++) {
      if (!port[p].v && rnd(3) == 0) new_req(p);
      else if (port[p].v) port[p].age++;
    }
    // the instruction port gives up a request now and then (the core stopped)
    if (port[0].v && port[0].age > 2 && rnd(50) == 0) {
      port[0].v = false;
      abandoned++;
    }
    int a = cycle();
    if (a >= 0) accepted[a]++;
  }
  for (int i = 0; i < 4; i++) cycle();
  check(errors == before, "random traffic: responses and memory as the model (%u errors, first ones above)",
        (unsigned)(errors - before));
  check(accepted[0] > 1000 && accepted[1] > 1000 && accepted[2] > 1000 && accepted[3] > 1000,
        "every port served (if %u, rd %u, wr %u)", accepted[0], accepted[1], accepted[2]);
  printf("random: %u fetches (%u abandoned), %u reads, %u writes, %u bridge accesses\n", accepted[0], abandoned,
         accepted[1], accepted[2], accepted[3]);
  // the whole memory, read back through the bridge port (compared by cycle() against mem)
  before = errors;
  for (unsigned a = 0; a < HOST; a++) {
    port[3] = Req();
    port[3].v = true;
    port[3].addr = a;
    port[3].len = 1;
    while (cycle() != 3) {}
    cycle();
  }
  check(errors == before, "the whole memory read back equals the model");
  t->final();
  delete t;
  printf("# host_mem: %d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
