// SPDX-License-Identifier: Apache-2.0
// Verilator harness for pb_decode (combinational) against the C library.
// Build with -GN=<n> -GSP_ROWS=<s> -GACC_ROWS=<a> -GHOST_BYTES=<h> and the same values in
// -CFLAGS "-DPB_N=<n> -DPB_SP=<s> -DPB_ACC=<a> -DPB_HOST=<h>".
//
// For every instruction word (with a random program range prog_addr_i/prog_len_i) it compares:
//   - err_o against pb_model_check() (sim/refmodel.h: the reference model's checks, in order);
//   - unit_o against the ISA table's unit, for legal opcodes;
//   - for words the C side accepts: every field the instruction has against pb_decode()'s
//     fields, and the footprint (rd_mem/rd_lo/rd_hi, wr_mem/wr_lo/wr_hi) against
//     pb_timing_footprint() (memory codes compared always, [lo, hi) when the memory is not NONE).
// Groups (each counts one case): hand-checked words, fully random words, words with a valid opcode
// and random fields, words built with pb_encode() from fields at the legal boundaries.
// The first mismatch of a group prints the word, its disassembly, the program range, expected
// and got. Seed: env PB_SEED (default 1); words per random group: env PB_WORDS (default 70000).
//
// Built with -DPB_VIA_FETCH and the top tb_fetch_decode.sv, every word reaches the decoder through
// pb_fetch's queue (packed, shifted, unpacked at the head), with random request, response and pop
// timing and 0..3 random words queued before it: the same comparisons then check that the packed
// queue hands the decoder a word it treats exactly as the original (docs/architecture.md), and
// the harness also checks the queue's order, head PC and occupancy against its own count.
#ifdef PB_VIA_FETCH
#include "Vtb_fetch_decode.h"
typedef Vtb_fetch_decode Dut;
#define TB_NAME "tb_fetch_decode"
#else
#include "Vpb_decode.h"
typedef Vpb_decode Dut;
#define TB_NAME "tb_decode"
#endif
#include "verilated.h"

#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <string>

extern "C" {
#include "protobrain/isa.h"
#include "protobrain/timing.h"
#include "refmodel.h"
}

#if !defined(PB_N) || !defined(PB_SP) || !defined(PB_ACC) || !defined(PB_HOST)
#error "define PB_N, PB_SP, PB_ACC and PB_HOST (the -G values given to Verilator)"
#endif

static const uint64_t N = PB_N, SP = PB_SP, ACC = PB_ACC, HOST = PB_HOST;
static const pb_hw_t kHw = {(uint32_t)PB_N, (uint32_t)PB_SP, (uint32_t)PB_ACC, (uint32_t)PB_HOST, 0};

// ---- random numbers (xorshift64*, seeded) ----
static uint64_t rng_state;
static uint64_t rnd64() {
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 0x2545F4914F6CDD1Dull;
}
static uint32_t rnd() { return (uint32_t)(rnd64() >> 32); }
static uint64_t below(uint64_t n) { return n ? rnd64() % n : 0; }
static bool chance(unsigned pct) { return below(100) < pct; }
static uint64_t mask_w(unsigned w) { return w >= 64 ? ~0ull : ((1ull << w) - 1); }

// ---- one evaluation of the decoder ----
static Dut *dut;

struct Got {
  uint32_t op, err, unit, sp_col, cols, sp_addr, rows, host_stride, host_addr, acc_addr, acc_flag, pool,
      pool_stride, zp, lo, hi;
  uint32_t rd_mem, wr_mem;
  uint64_t rd_lo, rd_hi, wr_lo, wr_hi;
};

static void put_word(uint32_t *dst, const pb_word_t &w) {
  for (int i = 0; i < 4; i++) memcpy(&dst[i], w.bytes + 4 * i, 4);  // little-endian host, like the word
}

#ifdef PB_VIA_FETCH
// ---- the fetcher in front of the decoder ----
// The harness is the instruction memory: it accepts requests at random (ready 70%), answers them
// in order after random delays with the words it has to send, and pops the head at random (50%)
// while the head is a word queued before the one under test. Its own count of the queue
// (answered - popped) and of requests in flight is checked against the fetcher every cycle, every
// request's address (program address + 16 per word requested), and the head's identity: the
// fields the queue keeps unpacked ([31:8], [95:64]) equal those of the word the harness expects
// there (random in the words queued before the one under test).
static uint64_t fetch_failures, fetch_cycles;
static std::deque<std::pair<pb_word_t, bool>> to_send;   // (word, under test)
static std::deque<std::pair<pb_word_t, bool>> in_queue;  // the fetcher's entries
static unsigned in_flight;                                // requests accepted, not yet answered
static uint64_t popped;                                   // = the head's PC
static uint64_t fired;                                    // requests accepted since the start
static uint32_t prog_addr;                                // the fetcher's program address

static void fetch_fail(const char *what) {
  if (fetch_failures++ == 0) printf("FAIL fetcher: %s (cycle %" PRIu64 ")\n", what, fetch_cycles);
}

static void cycle(bool pop_allowed) {
  dut->clk_i = 0;
  dut->start_i = 0;
  dut->eval();
  if ((bool)dut->head_valid_o != !in_queue.empty()) fetch_fail("head_valid_o differs from the harness's count");
  if (dut->head_valid_o && dut->head_pc_o != (popped & 0xffffff)) fetch_fail("head_pc_o is not the number of pops");
  if (in_queue.size() + in_flight > 4) fetch_fail("more than 4 words queued or requested");
  if (dut->head_valid_o && !in_queue.empty()) {
    uint32_t exp[4], got[4];
    put_word(exp, in_queue.front().first);
    for (int i = 0; i < 4; i++) got[i] = dut->head_o[i];
    if ((exp[0] >> 8) != (got[0] >> 8) || exp[2] != got[2]) fetch_fail("the head is not the word expected there (fields [31:8], [95:64])");
  }
  if (dut->if_req_valid_o && dut->if_req_addr_o != (uint32_t)(prog_addr + 16u * fired))
    fetch_fail("a request's address is not the program address + 16 per word requested");
  bool ready = chance(70);
  bool rsp = in_flight > 0 && !to_send.empty() && chance(60);
  bool pop = pop_allowed && !in_queue.empty() && !in_queue.front().second && chance(50);
  dut->if_req_ready_i = ready;
  dut->if_rsp_valid_i = rsp;
  if (rsp) put_word(dut->if_rsp_data_i.data(), to_send.front().first);
  else for (int i = 0; i < 4; i++) dut->if_rsp_data_i[i] = rnd();   // garbage while not valid
  dut->pop_i = pop;
  dut->eval();
  bool fire = dut->if_req_valid_o && ready;
  dut->clk_i = 1;
  dut->eval();
  fetch_cycles++;
  if (fire) {
    in_flight++;
    fired++;
  }
  if (rsp) {
    in_flight--;
    in_queue.push_back(to_send.front());
    to_send.pop_front();
  }
  if (pop) {
    in_queue.pop_front();
    popped++;
  }
}

static void fetch_reset() {
  prog_addr = rnd() & ~15u;
  fired = 0;
  dut->fetch_prog_addr_i = prog_addr;
  dut->clk_i = 0;
  dut->rst_ni = 1;
  dut->eval();
  dut->rst_ni = 0;   // a falling reset edge first, then a start pulse
  dut->eval();
  dut->rst_ni = 1;
  dut->start_i = 1;
  dut->pop_i = 0;
  dut->if_req_ready_i = 0;
  dut->if_rsp_valid_i = 0;
  dut->eval();
  dut->clk_i = 1;
  dut->eval();
}

// Queue 0..3 random words and then w; run until w is the head (the word tested before it, at the
// head on entry, is popped on the way).
static void fetch_to_head(const pb_word_t &w) {
  if (!in_queue.empty()) in_queue.front().second = false;
  for (unsigned k = below(4); k > 0; k--) {
    pb_word_t f;
    for (int i = 0; i < 16; i++) f.bytes[i] = (uint8_t)rnd();
    to_send.push_back({f, false});
  }
  to_send.push_back({w, true});
  for (int guard = 0; !(dut->head_valid_o && !in_queue.empty() && in_queue.front().second); guard++) {
    if (guard > 10000) {
      fetch_fail("the word under test did not reach the head in 10000 cycles");
      fetch_reset();
      to_send.clear();
      in_queue.clear();
      in_flight = 0;
      popped = 0;
      to_send.push_back({w, true});
      guard = 0;
    }
    cycle(true);
  }
  dut->clk_i = 0;
  dut->eval();
}
#endif

static Got eval(const pb_word_t &w, uint32_t prog_addr, uint32_t prog_len) {
#ifdef PB_VIA_FETCH
  fetch_to_head(w);
#else
  put_word(dut->instr_i.data(), w);
#endif
  dut->prog_addr_i = prog_addr;
  dut->prog_len_i = prog_len;
  dut->eval();
  Got g;
  g.op = dut->op_o;
  g.err = dut->err_o;
  g.unit = dut->unit_o;
  g.sp_col = dut->sp_col_o;
  g.cols = dut->cols_o;
  g.sp_addr = dut->sp_addr_o;
  g.rows = dut->rows_o;
  g.host_stride = dut->host_stride_o;
  g.host_addr = dut->host_addr_o;
  g.acc_addr = dut->acc_addr_o;
  g.acc_flag = dut->acc_flag_o;
  g.pool = dut->pool_o;
  g.pool_stride = dut->pool_stride_o;
  g.zp = dut->zp_o;
  g.lo = dut->lo_o;
  g.hi = dut->hi_o;
  g.rd_mem = dut->rd_mem_o;
  g.rd_lo = dut->rd_lo_o;
  g.rd_hi = dut->rd_hi_o;
  g.wr_mem = dut->wr_mem_o;
  g.wr_lo = dut->wr_lo_o;
  g.wr_hi = dut->wr_hi_o;
  return g;
}

// RTL output of a C field (by name), masked to the field width.
static bool rtl_field(const Got &g, const char *name, uint64_t *v) {
  struct { const char *n; uint32_t Got::*m; } map[] = {
      {"sp_col", &Got::sp_col},   {"cols", &Got::cols},         {"sp_addr", &Got::sp_addr},
      {"rows", &Got::rows},       {"host_stride", &Got::host_stride}, {"host_addr", &Got::host_addr},
      {"acc_addr", &Got::acc_addr}, {"acc", &Got::acc_flag},    {"pool", &Got::pool},
      {"pool_stride", &Got::pool_stride}, {"zp", &Got::zp},     {"lo", &Got::lo},
      {"hi", &Got::hi},
  };
  for (auto &e : map)
    if (!strcmp(e.n, name)) {
      *v = g.*(e.m);
      return true;
    }
  return false;
}

// ---- groups and mismatch reporting ----
static int passed = 0, failed = 0;
static const char *group;
static long group_errors, group_words;
static long n_accepted, n_err[16];
static long n_prog_overlap, n_prog_touch;  // STOREs refused for overlapping PROG / accepted touching it

static void begin(const char *name) {
  group = name;
  group_errors = 0;
  group_words = 0;
  n_accepted = 0;
  n_prog_overlap = n_prog_touch = 0;
  memset(n_err, 0, sizeof n_err);
}
static void end() {
  std::string hist;
  for (int e = 0; e < 16; e++)
    if (n_err[e]) {
      char b[64];
      snprintf(b, sizeof b, " %s=%ld", pb_isa_error_name((unsigned)e), n_err[e]);
      hist += b;
    }
  if (n_prog_overlap || n_prog_touch) {
    char b[96];
    snprintf(b, sizeof b, "; STORE vs PROG: %ld overlapping, %ld touching", n_prog_overlap, n_prog_touch);
    hist += b;
  }
  if (group_errors == 0) {
    passed++;
    printf("ok   %s: %ld words (%s)\n", group, group_words, hist.c_str() + 1);
  } else {
    failed++;
    printf("FAIL %s: %ld of %ld words mismatch (%s)\n", group, group_errors, group_words, hist.c_str() + 1);
  }
}

static void mismatch(const pb_word_t &w, uint32_t pa, uint32_t pl, const char *what, uint64_t exp, uint64_t got) {
  if (group_errors++ > 0) return;  // print the first divergence only
  char dis[256];
  pb_isa_format_word(&w, dis, sizeof dis);
  char hex[33];
  for (int i = 0; i < 16; i++) snprintf(hex + 2 * i, 3, "%02x", w.bytes[15 - i]);
  printf("FAIL %s: word %ld: 0x%s  %s\n", group, group_words, hex, dis);
  printf("     prog_addr=0x%08x prog_len=%u (PROG = [0x%" PRIx64 ", 0x%" PRIx64 ")), hw n=%u sp=%u acc=%u host=%u\n",
         pa, pl, (uint64_t)pa, (uint64_t)pa + 16ull * pl, kHw.n, kHw.sp_rows, kHw.acc_rows, kHw.host_bytes);
  printf("     %s: expected %" PRIu64 " (0x%" PRIx64 "), got %" PRIu64 " (0x%" PRIx64 ")\n", what, exp, exp, got, got);
}

static const char *err_name(uint64_t e) { return pb_isa_error_name((unsigned)e); }

// The complete comparison of one word.
static void check(const pb_word_t &w, uint32_t pa, uint32_t pl) {
  Got g = eval(w, pa, pl);
  pb_hw_error_t exp_err = pb_model_check(&kHw, pa, pl, &w);
  n_err[exp_err & 15]++;
  unsigned op = w.bytes[0];
#ifdef PB_VIA_FETCH
  unsigned exp_op = op >= 16 ? 15 : op;   // the queue keeps a 4-bit opcode: 16 and above become 15 (illegal)
#else
  unsigned exp_op = op;
#endif
  if (g.op != exp_op) mismatch(w, pa, pl, "op_o", exp_op, g.op);
  if (g.err != (uint32_t)exp_err) {
    char what[96];
    snprintf(what, sizeof what, "err_o (expected %s, got %s)", err_name(exp_err), err_name(g.err));
    mismatch(w, pa, pl, what, exp_err, g.err);
  }
  const pb_instr_info_t *ii = pb_isa_by_opcode(op);
  if (op == PB_OP_STORE && (exp_err == PB_ERR_NONE || exp_err == PB_ERR_HOST_RANGE)) {
    pb_instr_t in;
    pb_decode(&w, &in);
    uint64_t ha = (uint64_t)pb_instr_field(&in, PB_F_STORE_host_addr);
    uint64_t end = ha + (uint64_t)(pb_instr_field(&in, PB_F_STORE_rows) - 1) *
                            (uint64_t)pb_instr_field(&in, PB_F_STORE_host_stride) +
                   (uint64_t)pb_instr_field(&in, PB_F_STORE_cols);
    uint64_t plo = pa, phi = plo + 16ull * pl;
    if (exp_err == PB_ERR_HOST_RANGE && end <= HOST) n_prog_overlap++;
    if (exp_err == PB_ERR_NONE && pl > 0 && (end == plo || ha == phi)) n_prog_touch++;
  }
  if (ii && g.unit != (uint32_t)ii->unit) mismatch(w, pa, pl, "unit_o", (uint64_t)ii->unit, g.unit);
  if (exp_err == PB_ERR_NONE) {
    n_accepted++;
    pb_instr_t in;
    if (pb_decode(&w, &in) != PB_ERR_NONE) {
      mismatch(w, pa, pl, "C: pb_decode refuses a word pb_model_check accepts", 0, 1);
      group_words++;
      return;
    }
    for (unsigned i = 0; i < ii->nfields; i++) {
      const pb_field_info_t *fi = ii->fields[i];
      uint64_t v;
      if (!rtl_field(g, fi->name, &v)) {
        mismatch(w, pa, pl, "harness: field without an RTL output", 0, 1);
        continue;
      }
      uint64_t e = (uint64_t)in.f[i] & mask_w(fi->width);
      if (v != e) {
        char what[64];
        snprintf(what, sizeof what, "field %s", fi->name);
        mismatch(w, pa, pl, what, e, v);
      }
    }
    pb_tm_range_t rd, wr;
    pb_timing_footprint(&kHw, &in, &rd, &wr);
    if (g.rd_mem != (uint32_t)rd.mem) mismatch(w, pa, pl, "rd_mem_o", rd.mem, g.rd_mem);
    else if (rd.mem != PB_TM_NONE) {
      if (g.rd_lo != rd.lo) mismatch(w, pa, pl, "rd_lo_o", rd.lo, g.rd_lo);
      if (g.rd_hi != rd.hi) mismatch(w, pa, pl, "rd_hi_o", rd.hi, g.rd_hi);
    }
    if (g.wr_mem != (uint32_t)wr.mem) mismatch(w, pa, pl, "wr_mem_o", wr.mem, g.wr_mem);
    else if (wr.mem != PB_TM_NONE) {
      if (g.wr_lo != wr.lo) mismatch(w, pa, pl, "wr_lo_o", wr.lo, g.wr_lo);
      if (g.wr_hi != wr.hi) mismatch(w, pa, pl, "wr_hi_o", wr.hi, g.wr_hi);
    }
  }
  group_words++;
}

// ---- instruction construction ----
struct Ins {
  pb_instr_t in;
  const pb_instr_info_t *ii;
  explicit Ins(pb_opcode_t op) {
    memset(&in, 0, sizeof in);
    in.op = op;
    ii = pb_isa_by_opcode(op);
  }
  // Set a field; a value outside the field's encodable range is replaced by a random legal one.
  void set(const char *f, int64_t v) {
    int i = pb_isa_field_index(ii, f);
    if (i < 0) {
      fprintf(stderr, "harness: %s has no field %s\n", ii->name, f);
      exit(2);
    }
    const pb_field_info_t *fi = ii->fields[i];
    int64_t lo = pb_field_min(fi), hi = pb_field_max(fi);
    if (v < lo || v > hi) v = lo + (int64_t)below((uint64_t)(hi - lo) + 1);
    in.f[i] = v;
  }
  int64_t get(const char *f) const { return in.f[pb_isa_field_index(ii, f)]; }
  pb_word_t word() const {
    pb_word_t w;
    char err[160];
    if (pb_encode(&in, &w, err, sizeof err) != 0) {
      fprintf(stderr, "harness: pb_encode: %s\n", err);
      exit(2);
    }
    return w;
  }
};

static int64_t pick(std::initializer_list<int64_t> l) {
  size_t k = (size_t)below(l.size());
  return *(l.begin() + k);
}

// A program range: usually a plausible one inside host memory, sometimes anything.
static void rand_prog(uint32_t *pa, uint32_t *pl) {
  switch (below(6)) {
  case 0: *pa = rnd(); *pl = rnd(); break;
  case 1: *pa = (uint32_t)(below(HOST) & ~15ull); *pl = 0; break;
  case 2: *pa = (uint32_t)((HOST - 16 * (1 + below(8))) & 0xffffffffu); *pl = (uint32_t)(1 + below(8)); break;
  case 3: *pa = rnd() & ~15u; *pl = (uint32_t)below(1u << 20); break;
  default: *pa = (uint32_t)(below(HOST) & ~15ull); *pl = (uint32_t)(1 + below(300)); break;
  }
}

// Rows near the limits: 0, 1, 2, limit-1, limit, limit+1, 65535, small or random.
static int64_t rows_near(uint64_t limit) {
  return pick({0, 1, 2, (int64_t)limit - 1, (int64_t)limit, (int64_t)limit + 1, 65535, (int64_t)(1 + below(16)),
               (int64_t)below(65536)});
}
// A base address such that base + extent lands at limit + {-1, 0, +1} (or other boundary values).
static int64_t base_for_end(uint64_t limit, int64_t extent, int64_t fmax) {
  switch (below(6)) {
  case 0: return (int64_t)limit - extent;
  case 1: return (int64_t)limit - extent + 1;
  case 2: return (int64_t)limit - extent - 1;
  case 3: return pick({0, 1, fmax, fmax - 1, (int64_t)limit, (int64_t)limit - 1});
  case 4: return (int64_t)below((uint64_t)fmax + 1);
  default: return (int64_t)below(limit + 2);
  }
}

static void random_reserved(pb_word_t *w, const pb_instr_info_t *ii) {
  pb_word_t m;
  pb_isa_reserved_mask(ii, &m);
  int k = 1 + (int)below(3);
  for (int t = 0; t < k; t++) {
    for (int tries = 0; tries < 64; tries++) {
      unsigned b = (unsigned)below(128);
      if (m.bytes[b >> 3] >> (b & 7) & 1) {
        w->bytes[b >> 3] |= (uint8_t)(1u << (b & 7));
        break;
      }
    }
  }
}

// LOAD and STORE (same layout)
static void edge_load_store(pb_opcode_t op) {
  uint32_t pa, pl;
  rand_prog(&pa, &pl);
  Ins x(op);
  bool near_prog = op == PB_OP_STORE && chance(35);  // a legal STORE next to the program range
  bool tight = near_prog || chance(50);  // legal cols/sp_col/rows: the word reaches the memory-range checks
  int64_t cols = tight ? pick({1, (int64_t)N, 1 + (int64_t)below(N)})
                       : pick({0, 1, 2, (int64_t)N - 1, (int64_t)N, (int64_t)N + 1, 255, (int64_t)below(N + 2)});
  x.set("cols", cols);
  cols = x.get("cols");
  if (tight)
    x.set("sp_col", pick({0, (int64_t)N - cols, (int64_t)below(N - cols + 1)}));
  else
    x.set("sp_col", pick({0, 1, (int64_t)N - cols, (int64_t)N - cols + 1, (int64_t)N - cols - 1, (int64_t)N, 255,
                          (int64_t)below(N + 1)}));
  int64_t rows = rows_near(SP);
  if (tight && (rows < 1 || rows > 65535)) rows = 1 + (int64_t)below(chance(50) ? 16 : 65535);
  if (near_prog) rows = 1 + (int64_t)below(SP < 16 ? SP : 16);
  x.set("rows", rows);
  rows = x.get("rows");
  x.set("sp_addr", near_prog ? (int64_t)below(SP - (uint64_t)rows + 1) : base_for_end(SP, rows, 65535));
  x.set("host_stride", pick({0, 1, cols, (int64_t)N, (int64_t)N + 1, (int64_t)below(4096), (int64_t)(mask_w(24)),
                             (int64_t)below(1 << 24)}));
  int64_t extent = (rows > 0 ? rows - 1 : 0) * x.get("host_stride") + cols;
  if (near_prog) {
    // touch the program range from either side: end == prog_lo (+1), or start == prog_hi (-1);
    // the program lies inside host memory with room for the STORE on both sides
    if ((uint64_t)extent * 2 + 256 >= HOST || chance(25)) {
      x.set("host_stride", 0);
      extent = cols;
    }
    if ((uint64_t)extent * 2 + 256 < HOST) {
      pl = (uint32_t)(1 + below(8));
      uint64_t room = HOST - 2 * (uint64_t)extent - 16ull * pl - 16;
      pa = (uint32_t)(((uint64_t)extent + 15 + below(room)) & ~15ull);
    }
    uint64_t plo = pa, phi = (uint64_t)pa + 16ull * pl;
    switch (below(4)) {
    case 0: x.set("host_addr", (int64_t)plo - extent); break;
    case 1: x.set("host_addr", (int64_t)plo - extent + 1); break;
    case 2: x.set("host_addr", (int64_t)phi); break;
    default: x.set("host_addr", (int64_t)phi - 1); break;
    }
  } else {
    x.set("host_addr", base_for_end(HOST, extent, 0xffffffffll));
  }
  pb_word_t w = x.word();
  if (chance(8)) random_reserved(&w, x.ii);
  check(w, pa, pl);
}

static void edge_load_acc() {
  uint32_t pa, pl;
  rand_prog(&pa, &pl);
  Ins x(PB_OP_LOAD_ACC);
  int64_t rows = rows_near(ACC);
  if (chance(50) && (rows < 1 || rows > 65535)) rows = 1 + (int64_t)below(chance(50) ? 16 : 65535);
  x.set("rows", rows);
  rows = x.get("rows");
  x.set("acc_addr", base_for_end(ACC, rows, 65535));
  x.set("host_stride", pick({0, 1, 4 * (int64_t)N, 4 * (int64_t)N - 1, (int64_t)below(4096), (int64_t)mask_w(24),
                             (int64_t)below(1 << 24)}));
  int64_t extent = (rows > 0 ? rows - 1 : 0) * x.get("host_stride") + 4 * (int64_t)N;
  x.set("host_addr", base_for_end(HOST, extent, 0xffffffffll));
  pb_word_t w = x.word();
  if (chance(8)) random_reserved(&w, x.ii);
  check(w, pa, pl);
}

static void edge_weights() {
  uint32_t pa, pl;
  rand_prog(&pa, &pl);
  Ins x(PB_OP_WEIGHTS);
  x.set("sp_addr", base_for_end(SP, (int64_t)N, 65535));
  pb_word_t w = x.word();
  if (chance(8)) random_reserved(&w, x.ii);
  check(w, pa, pl);
}

static void edge_matmul() {
  uint32_t pa, pl;
  rand_prog(&pa, &pl);
  Ins x(PB_OP_MATMUL);
  x.set("acc", (int64_t)below(2));
  int64_t rows = rows_near(chance(50) ? SP : ACC);
  if (chance(50) && (rows < 1 || rows > 65535)) rows = 1 + (int64_t)below(chance(50) ? 16 : 65535);
  x.set("rows", rows);
  rows = x.get("rows");
  x.set("sp_addr", base_for_end(SP, rows, 65535));
  x.set("acc_addr", base_for_end(ACC, rows, 65535));
  pb_word_t w = x.word();
  if (chance(8)) random_reserved(&w, x.ii);
  check(w, pa, pl);
}

static void edge_activate() {
  uint32_t pa, pl;
  rand_prog(&pa, &pl);
  Ins x(PB_OP_ACTIVATE);
  bool tight = chance(50);  // legal pool and rows: the word reaches the memory-range checks
  int64_t pool = tight ? pick({1, 2, 16, (int64_t)(1 + below(16))})
                       : pick({0, 1, 2, 15, 16, 17, 31, (int64_t)below(32), (int64_t)(1 + below(16))});
  x.set("pool", pool);
  int64_t rows = rows_near(chance(50) ? SP : ACC);
  if (tight && (rows < 1 || rows > 65535)) rows = 1 + (int64_t)below(chance(50) ? 16 : 65535);
  x.set("rows", rows);
  rows = x.get("rows");
  x.set("sp_addr", base_for_end(SP, rows, 65535));
  int64_t ps = pick({0, 1, 2, rows, (int64_t)(ACC / (pool > 1 ? pool - 1 : 1)), 65535, (int64_t)below(65536),
                     (int64_t)below(ACC + 1)});
  x.set("pool_stride", ps);
  ps = x.get("pool_stride");
  int64_t extent = (pool > 0 ? pool - 1 : 0) * ps + rows;
  x.set("acc_addr", base_for_end(ACC, extent, 65535));
  pb_word_t w = x.word();
  if (chance(8)) random_reserved(&w, x.ii);
  check(w, pa, pl);
}

static void edge_config() {
  uint32_t pa, pl;
  rand_prog(&pa, &pl);
  Ins x(PB_OP_CONFIG);
  int64_t lo = pick({-128, -127, -1, 0, 1, 126, 127, (int64_t)below(256) - 128});
  int64_t hi;
  switch (below(4)) {
  case 0: hi = lo; break;
  case 1: hi = lo - 1; break;  // lo > hi
  case 2: hi = lo + 1; break;
  default: hi = (int64_t)below(256) - 128; break;
  }
  if (hi < -128 || hi > 127) hi = lo;
  x.set("lo", lo);
  x.set("hi", hi);
  x.set("zp", (int64_t)below(256) - 128);
  x.set("host_addr", base_for_end(HOST, 8 * (int64_t)N, 0xffffffffll));
  pb_word_t w = x.word();
  if (chance(8)) random_reserved(&w, x.ii);
  check(w, pa, pl);
}

static void edge_ctl(pb_opcode_t op) {
  uint32_t pa, pl;
  rand_prog(&pa, &pl);
  Ins x(op);
  pb_word_t w = x.word();
  if (chance(30)) random_reserved(&w, x.ii);
  check(w, pa, pl);
}

// ---- groups ----
static pb_word_t word_of(uint64_t lo, uint64_t hi) {
  pb_word_t w;
  memcpy(w.bytes, &lo, 8);
  memcpy(w.bytes + 8, &hi, 8);
  return w;
}

// Words whose expected results are worked out by hand (also checks the C side).
static void g_hand() {
  begin("hand-checked words");
  struct Case {
    const char *what;
    pb_word_t w;
    uint32_t pa, pl;
    unsigned err;
  };
  // LOAD rows=1 cols=N sp_col=0 sp_addr=0 host_stride=0 host_addr=0x20
  Ins ld(PB_OP_LOAD);
  ld.set("rows", 1);
  ld.set("cols", (int64_t)N);
  ld.set("host_addr", 0x20);
  Ins ld0 = ld;
  ld0.set("rows", 0);
  Ins st(PB_OP_STORE);  // STORE 1 x N bytes at 0x100: program [0x100 + N, ...) touches from above
  st.set("rows", 1);
  st.set("cols", (int64_t)N);
  st.set("host_addr", 0x100);
  Ins sa(PB_OP_STORE_ACC);  // STORE_ACC 1 row x N lanes at 0x100: 4N bytes
  sa.set("rows", 1);
  sa.set("cols", (int64_t)N);
  sa.set("host_addr", 0x100);
  Ins sa0 = sa;
  sa0.set("cols", 0);
  Ins cf(PB_OP_CONFIG);  // lo = 1 > hi = 0
  cf.set("lo", 1);
  cf.set("hi", 0);
  Case cases[] = {
      {"opcode 0 is illegal", word_of(0, 0), 0, 1, PB_ERR_ILLEGAL_OPCODE},
      {"opcode 0x0b is illegal", word_of(0x0b, 0), 0, 1, PB_ERR_ILLEGAL_OPCODE},
      {"STORE_ACC with all fields 0 (rows = 0)", word_of(0x0a, 0), 0, 1, PB_ERR_FIELD_RANGE},
      {"STORE_ACC cols=0", sa0.word(), 0, 1, PB_ERR_FIELD_RANGE},
      {"STORE_ACC ending at the program start", sa.word(), 0x100 + 4 * (uint32_t)N, 4, PB_ERR_NONE},
      {"STORE_ACC overlapping the program's last word", sa.word(), 0x100 + 4 * (uint32_t)N - 16, 1, PB_ERR_HOST_RANGE},
      {"HALT", word_of(0x09, 0), 0, 1, PB_ERR_NONE},
      {"SYNC with bit 127 set", word_of(0x08, 1ull << 63), 0, 1, PB_ERR_RESERVED_BITS},
      {"LOAD 1 x N from 0x20", ld.word(), 0, 1, PB_ERR_NONE},
      {"LOAD rows=0", ld0.word(), 0, 1, PB_ERR_FIELD_RANGE},
      {"STORE ending at the program start", st.word(), 0x100 + (uint32_t)N, 4, PB_ERR_NONE},
      {"STORE overlapping the program's last byte", st.word(), 0x100 + (uint32_t)N - 16, 1, PB_ERR_HOST_RANGE},
      {"CONFIG lo > hi", cf.word(), 0, 1, PB_ERR_FIELD_RANGE},
  };
  for (auto &c : cases) {
    pb_hw_error_t e = pb_model_check(&kHw, c.pa, c.pl, &c.w);
    if ((unsigned)e != c.err) {
      char what[160];
      snprintf(what, sizeof what, "C pb_model_check on \"%s\" (expected %s, got %s)", c.what, err_name(c.err),
               err_name(e));
      mismatch(c.w, c.pa, c.pl, what, c.err, e);
    }
    Got g = eval(c.w, c.pa, c.pl);
    if (g.err != c.err) {
      char what[160];
      snprintf(what, sizeof what, "err_o on \"%s\" (expected %s, got %s)", c.what, err_name(c.err), err_name(g.err));
      mismatch(c.w, c.pa, c.pl, what, c.err, g.err);
    }
    check(c.w, c.pa, c.pl);
  }
  // The LOAD's footprint by hand: host [0x20, 0x20 + N), scratchpad rows [0, 1)
  Got g = eval(ld.word(), 0, 1);
  const struct { const char *what; uint64_t exp, got; } fp[] = {
      {"hand LOAD rd_mem_o (host)", 1, g.rd_mem}, {"hand LOAD rd_lo_o", 0x20, g.rd_lo},
      {"hand LOAD rd_hi_o", 0x20 + N, g.rd_hi},   {"hand LOAD wr_mem_o (scratchpad)", 2, g.wr_mem},
      {"hand LOAD wr_lo_o", 0, g.wr_lo},          {"hand LOAD wr_hi_o", 1, g.wr_hi},
  };
  for (auto &c : fp)
    if (c.exp != c.got) mismatch(ld.word(), 0, 1, c.what, c.exp, c.got);
  if (g.unit != 1) mismatch(ld.word(), 0, 1, "hand LOAD unit_o", 1, g.unit);
  end();
}

static void g_random_words(long n) {
  begin("fully random words");
  for (long i = 0; i < n; i++) {
    pb_word_t w = word_of(rnd64(), rnd64());
    uint32_t pa, pl;
    rand_prog(&pa, &pl);
    check(w, pa, pl);
  }
  end();
}

// A valid opcode and random fields: each field uniform over its width, small, or at its maximum;
// reserved bits clear in most words.
static void g_valid_opcode(long n) {
  begin("valid opcode, random fields");
  for (long i = 0; i < n; i++) {
    const pb_instr_info_t *ii = pb_isa_instr((unsigned)below(pb_isa_count()));
    Ins x(ii->op);
    for (unsigned f = 0; f < ii->nfields; f++) {
      const pb_field_info_t *fi = ii->fields[f];
      int64_t lo = pb_field_min(fi), hi = pb_field_max(fi);
      int64_t v;
      switch (below(4)) {
      case 0: v = lo + (int64_t)below((uint64_t)(hi - lo) + 1); break;
      case 1: v = (int64_t)below(N + 2); break;
      case 2: v = (int64_t)below(SP < 65536 ? SP + 2 : 65536); break;
      default: v = (int64_t)below(HOST + 2); break;
      }
      x.set(fi->name, v);
    }
    pb_word_t w = x.word();
    if (chance(10)) random_reserved(&w, x.ii);
    uint32_t pa, pl;
    rand_prog(&pa, &pl);
    check(w, pa, pl);
  }
  end();
}

static void g_edges(long n) {
  begin("boundary words (pb_encode)");
  for (long i = 0; i < n; i++) {
    switch (below(12)) {
    case 0: case 1: edge_load_store(PB_OP_LOAD); break;
    case 2: case 3: case 4: edge_load_store(PB_OP_STORE); break;
    case 5: edge_load_acc(); break;
    case 6: edge_weights(); break;
    case 7: edge_matmul(); break;
    case 8: case 9: edge_activate(); break;
    case 10: edge_config(); break;
    default: edge_ctl(chance(50) ? PB_OP_SYNC : PB_OP_HALT); break;
    }
  }
  end();
}

int main(int argc, char **argv) {
  Verilated::commandArgs(argc, argv);
  const char *s = getenv("PB_SEED");
  uint64_t seed = s ? strtoull(s, nullptr, 0) : 1;
  const char *nw = getenv("PB_WORDS");
  long words = nw ? strtol(nw, nullptr, 0) : 70000;
  rng_state = seed * 0x9E3779B97F4A7C15ull + 0x5eed;
  if (!rng_state) rng_state = 1;
  dut = new Dut;
#ifdef PB_VIA_FETCH
  fetch_reset();
#endif
  printf(TB_NAME ": N=%u SP_ROWS=%u ACC_ROWS=%u HOST_BYTES=%u, seed %" PRIu64 " (PB_SEED), %ld words per random group\n",
         kHw.n, kHw.sp_rows, kHw.acc_rows, kHw.host_bytes, seed, words);
  g_hand();
  g_random_words(words);
  g_valid_opcode(words);
  g_edges(words);
#ifdef PB_VIA_FETCH
  if (fetch_failures == 0) {
    passed++;
    printf("ok   fetcher: %" PRIu64 " words through the queue in %" PRIu64 " cycles, order, head PC and occupancy as counted\n",
           popped + in_queue.size(), fetch_cycles);
  } else {
    failed++;
    printf("FAIL fetcher: %" PRIu64 " failures in %" PRIu64 " cycles\n", fetch_failures, fetch_cycles);
  }
#endif
  delete dut;
  printf("# " TB_NAME "_n%u: %d passed, %d failed\n", kHw.n, passed, failed);
  return failed ? 1 : 0;
}
