// SPDX-License-Identifier: Apache-2.0
// Verilator harness for the load unit rtl/pb_ld_unit.sv (LOAD, LOAD_ACC, CONFIG, ACTIVATE), standalone.
// Build with -GN=<n> and -CFLAGS -DPB_N=<n>; link build/libpbcore.a (pb_requant, the ISA tables).
//
// The harness plays pb_core around the unit: a start_i pulse with the decoded fields when the unit
// is idle (the fields the instruction does not have are pb_decode's bit slices or random; every
// field input is random in the other cycles), clear_i pulses at "program start", and models of
//   - the host read port: (a) zero wait states (request always ready, data exactly one cycle
//     later) or (b) random not-ready cycles and random extra response latency, in order; bytes
//     beyond the requested length and the data of cycles without a response are random;
//   - the scratchpad and accumulator write ports (every write recorded) and the accumulator read
//     port (data one cycle after the address, held until the next read).
// Expected results come from an independent C implementation of docs/isa.md written here
// (LOAD, LOAD_ACC, CONFIG with its multiplier check, ACTIVATE with max-pool and bias here and
// pb_requant() from the library), and the durations of docs/timing.md.
// Checked per instruction: host read requests (address, length, order, held while not ready),
// scratchpad writes (address, byte mask, data under the mask), accumulator writes and reads,
// ACTIVATE results (so the CONFIG contents: after a bad multiplier the bias and multiplier table
// is the rejected one, zp/lo/hi are the old ones; the core stops there, so this is never used), cfg_err_o,
// retire_o (once, at the last write), pc_o/cur_op_o, dma_bytes_o totals, busy_o (mode a: exactly
// the documented duration and every event in its documented cycle; mode b: the same writes in
// the same order as mode a, only later). Each check category is one counted case per mode.
// Build with -GRQ_LANES=<l> -CFLAGS -DPB_RQ_LANES=<l> for l requantizer lanes (default N): an ACTIVATE
// row then takes pool + N/l - 1 cycles (docs/timing.md).
// Env: PB_SEED (default 1), PB_INSTRS (random instructions per mode, default 2500).
#include "Vpb_ld_unit.h"

#include "tb_dma_common.h"

#include <deque>

static const int N = PB_N;
#ifndef PB_RQ_LANES
#define PB_RQ_LANES PB_N
#endif
static const int RQ_G = PB_N / PB_RQ_LANES;   // requantizer lane groups per row
static const int RQ_LAT = 8;                  // requantizer latency, input to output (docs/timing.md)
static const uint32_t ROWS16 = 65536;   // the unit's 16-bit on-chip addresses: any row is legal here
static const uint64_t HOST = 1ull << 31; // the largest host memory of docs/architecture.md

struct Instr {
  pb_instr_t in;
  uint32_t pc = 0;
  bool garbage = false;      // fields the instruction lacks are random (else pb_decode's bit slices)
  bool clear_before = false; // a clear_i pulse in an idle cycle before the issue
  int gap = 0;               // idle cycles before the issue
  uint64_t salt = 0;         // host content
  std::vector<std::pair<uint32_t, uint8_t>> preload;  // host bytes (overlay)
  uint64_t acc_fill_seed = 0; // ACTIVATE: refill the accumulator rows it reads first
  std::vector<std::pair<uint32_t, std::vector<int32_t>>> acc_fill;  // explicit rows (hand cases)
  int ready_pct = 100, lat_max = 0;  // mode (b) host port behaviour during this instruction
};

struct Fields {
  pb_opcode_t op;
  uint32_t sp_col = 0, cols = 0, sp_addr = 0, rows = 0, stride = 0, host_addr = 0, acc_addr = 0, pool = 0, ps = 0;
  int32_t zp = 0, lo = 0, hi = 0;
};
static int64_t fld(const pb_instr_t &in, const char *name) {
  const pb_instr_info_t *ii = pb_isa_by_opcode((unsigned)in.op);
  int i = pb_isa_field_index(ii, name);
  return i < 0 ? 0 : in.f[i];
}
static Fields fields_of(const pb_instr_t &in) {
  Fields f;
  f.op = in.op;
  f.sp_col = (uint32_t)fld(in, "sp_col");
  f.cols = (uint32_t)fld(in, "cols");
  f.sp_addr = (uint32_t)fld(in, "sp_addr");
  f.rows = (uint32_t)fld(in, "rows");
  f.stride = (uint32_t)fld(in, "host_stride");
  f.host_addr = (uint32_t)fld(in, "host_addr");
  f.acc_addr = (uint32_t)fld(in, "acc_addr");
  f.pool = (uint32_t)fld(in, "pool");
  f.ps = (uint32_t)fld(in, "pool_stride");
  f.zp = (int32_t)fld(in, "zp");
  f.lo = (int32_t)fld(in, "lo");
  f.hi = (int32_t)fld(in, "hi");
  return f;
}

// ---- the expected behaviour of one instruction (docs/isa.md, docs/timing.md) ----
struct Req { uint32_t addr, len; int64_t at; };           // at: cycle offset from s (mode a)
struct SpW { uint32_t addr; uint64_t mask; uint8_t d[PB_N]; int64_t at; uint64_t unchecked = 0; };  // unchecked: lanes with undefined data
struct AccW { uint32_t addr; int32_t d[PB_N]; int64_t at; };
struct AccR { uint32_t addr; int64_t at; };
struct Exp {
  std::vector<Req> reqs;
  std::vector<SpW> spw;
  std::vector<AccW> accw;
  std::vector<AccR> accr;
  bool retire = true, cfg_err = false;
  uint64_t dma = 0;
  int64_t dur = 0;
};

struct Cfg {
  int32_t bias[PB_N];
  uint32_t mult[PB_N];
  int32_t zp, lo, hi;
  void reset() {
    for (int c = 0; c < N; c++) bias[c] = 0, mult[c] = 0;
    zp = 0, lo = -128, hi = 127;
  }
};

static long g_act_lo, g_act_hi, g_act_mid;  // ACTIVATE output lanes: at lo, at hi, strictly between

static int32_t rnd_acc(Rng &g) {
  switch (g.below(8)) {
  case 0: {
    static const int32_t ex[] = {INT32_MIN, INT32_MAX, 0, -1, 1, INT32_MIN + 1, INT32_MAX - 1};
    return ex[g.below(7)];
  }
  case 1: case 2: case 3: return (int32_t)g.range(-4096, 4096);
  case 4: case 5: return (int32_t)g.range(-(1 << 20), 1 << 20);
  default: return (int32_t)g.u32();
  }
}

// Expected writes, reads and counters of `x` from the state at its issue (acc memory, CONFIG regs);
// updates the CONFIG model (the bias and multiplier table always; zp, lo, hi unless a multiplier is bad).
static Exp expect(const Instr &x, const HostMem &host, const std::vector<int32_t> &acc, Cfg *cfg) {
  Fields f = fields_of(x.in);
  Exp e;
  switch (f.op) {
  case PB_OP_LOAD:
    for (uint32_t r = 0; r < f.rows; r++) {
      uint32_t a = f.host_addr + r * f.stride;
      e.reqs.push_back({a, f.cols, (int64_t)r});
      SpW w{};
      w.addr = f.sp_addr + r;
      w.mask = ((1ull << f.cols) - 1) << f.sp_col;
      for (uint32_t c = 0; c < f.cols; c++) w.d[f.sp_col + c] = host.byte(a + c);
      w.at = r + 1;
      e.spw.push_back(w);
    }
    e.dma = (uint64_t)f.rows * f.cols;
    e.dur = f.rows + 1;
    break;
  case PB_OP_LOAD_ACC:
    for (uint32_t r = 0; r < f.rows; r++) {
      uint32_t a = f.host_addr + r * f.stride;
      for (uint32_t q = 0; q < 4; q++) e.reqs.push_back({a + q * N, (uint32_t)N, (int64_t)(4 * r + q)});
      AccW w{};
      w.addr = f.acc_addr + r;
      for (int c = 0; c < N; c++) {
        uint8_t b[4];
        for (int k = 0; k < 4; k++) b[k] = host.byte(a + 4 * c + k);
        w.d[c] = rd_i32(b);
      }
      w.at = 4 * r + 4;
      e.accw.push_back(w);
    }
    e.dma = (uint64_t)f.rows * 4 * N;
    e.dur = 4 * (int64_t)f.rows + 1;
    break;
  case PB_OP_CONFIG: {
    for (uint32_t b = 0; b < 8; b++) e.reqs.push_back({f.host_addr + b * N, (uint32_t)N, (int64_t)b});
    Cfg nc;
    bool ok = true;
    for (int c = 0; c < N; c++) {
      uint8_t b[8];
      for (int k = 0; k < 8; k++) b[k] = host.byte(f.host_addr + 8 * c + k);
      nc.bias[c] = rd_i32(b);
      nc.mult[c] = (uint32_t)rd_i32(b + 4);
      // docs/isa.md: sign bit set, infinite or NaN is CONFIG_VALUE (independent of pb_requant_mult_ok)
      bool sign = nc.mult[c] >> 31, expmax = ((nc.mult[c] >> 23) & 0xff) == 0xff;
      if (sign || expmax) ok = false;
    }
    nc.zp = f.zp, nc.lo = f.lo, nc.hi = f.hi;
    if (!ok) nc.zp = cfg->zp, nc.lo = cfg->lo, nc.hi = cfg->hi;
    *cfg = nc;
    e.retire = ok;
    e.cfg_err = !ok;
    e.dma = ok ? 8ull * N : 0;
    e.dur = 9;
    break;
  }
  case PB_OP_ACTIVATE:
    for (uint32_t r = 0; r < f.rows; r++) {
      int32_t v[PB_N];
      for (uint32_t i = 0; i < f.pool; i++) {
        uint32_t row = f.acc_addr + i * f.ps + r;
        e.accr.push_back({row, (int64_t)(r * (f.pool + RQ_G - 1) + i)});
        for (int c = 0; c < N; c++) {
          int32_t t = (int32_t)((uint32_t)acc[(size_t)row * N + c] + (uint32_t)cfg->bias[c]);  // wrapping
          if (i == 0 || t > v[c]) v[c] = t;
        }
      }
      SpW w{};
      w.addr = f.sp_addr + r;
      w.mask = N >= 64 ? ~0ull : (1ull << N) - 1;
      for (int c = 0; c < N; c++) {
        if (!pb_requant_mult_ok(cfg->mult[c])) {  // only after a rejected CONFIG (never in the core)
          w.unchecked |= 1ull << c;
          continue;
        }
        int8_t y = pb_requant(v[c], cfg->mult[c], cfg->zp, cfg->lo, cfg->hi);
        w.d[c] = (uint8_t)y;
        (y == cfg->lo ? g_act_lo : y == cfg->hi ? g_act_hi : g_act_mid)++;
      }
      w.at = (int64_t)(r + 1) * (f.pool + RQ_G - 1) + RQ_LAT;
      e.spw.push_back(w);
    }
    e.dur = (int64_t)f.rows * (f.pool + RQ_G - 1) + RQ_LAT + 1;
    break;
  default:
    break;
  }
  return e;
}

// ---- random legal instructions ----
static uint32_t rnd_rows(Rng &g) {
  uint64_t r = g.below(100);
  if (r < 20) return 1;
  if (r < 70) return (uint32_t)g.range(2, 8);
  if (r < 95) return (uint32_t)g.range(9, 64);
  return (uint32_t)g.range(65, 300);
}
static uint32_t rnd_base(Rng &g, uint64_t limit, uint64_t extent) {  // base + extent <= limit
  uint64_t top = limit - extent;
  switch (g.below(10)) {
  case 0: return (uint32_t)top;
  case 1: return (uint32_t)g.below(top < 256 ? top + 1 : 256);
  default: return (uint32_t)g.below(top + 1);
  }
}
static uint32_t rnd_stride(Rng &g, uint32_t rows, uint32_t bytes) {
  uint64_t lim = 0xffffff;
  if (rows > 1) lim = std::min<uint64_t>(lim, (HOST - bytes) / (rows - 1));
  uint64_t s;
  switch (g.below(10)) {
  case 0: s = 0; break;
  case 1: case 2: s = bytes; break;
  case 3: s = N; break;
  case 4: case 5: case 6: s = g.below(257); break;
  default: s = g.below(lim + 1); break;
  }
  return (uint32_t)std::min(s, lim);
}
static uint32_t rnd_mult(Rng &g, int scale) {
  switch (g.below(20)) {
  case 0: return 0;                                          // +0.0
  case 1: return 1 + (g.u32() & 0x7ffffe);                   // subnormal
  case 2: return 0x7f7fffff;                                 // largest finite
  case 3: return 0x3f800000;                                 // 1.0
  case 4: return (1u << 23) | (g.u32() & 0x7fffff);          // smallest exponent
  case 5: {
    uint32_t m;
    do m = g.u32() & 0x7fffffff; while ((m >> 23) == 0xff);
    return m;
  }
  default: return (uint32_t)(127 - scale + g.range(-2, 2)) << 23 | (g.u32() & 0x7fffff);
  }
}
static uint32_t bad_mult(Rng &g) {
  static const uint32_t v[] = {0x80000000u, 0xbf800000u, 0x7f800000u, 0xff800000u, 0x7fc00000u,
                               0x7f800001u, 0xffffffffu, 0x7fffffffu, 0xff7fffffu, 0x80000001u};
  if (g.chance(20)) return 0x80000000u | rnd_mult(g, 5);  // a negative legal-looking value
  return v[g.below(sizeof v / sizeof v[0])];
}

static void config_table(Rng &g, Instr &x, uint32_t host_addr, bool bad) {
  int scale = (int)g.range(0, 24);
  uint8_t tab[8 * PB_N];
  for (int c = 0; c < N; c++) {
    uint32_t bias;
    switch (g.below(10)) {
    case 0: {
      static const uint32_t ex[] = {0x7fffffffu, 0x80000000u, 0, 0xffffffffu};
      bias = ex[g.below(4)];
      break;
    }
    case 1: case 2: case 3: case 4: case 5: case 6: bias = (uint32_t)(int32_t)g.range(-4096, 4096); break;
    default: bias = g.u32(); break;
    }
    wr_i32(tab + 8 * c, bias);
    wr_i32(tab + 8 * c + 4, rnd_mult(g, scale));
  }
  if (bad) {
    int k = 1 + (int)g.below(N < 3 ? N : 3);
    for (int i = 0; i < k; i++) wr_i32(tab + 8 * g.below(N) + 4, bad_mult(g));
  }
  for (int i = 0; i < 8 * N; i++) x.preload.push_back({host_addr + (uint32_t)i, tab[i]});
}

static Instr gen(Rng &g, pb_opcode_t prev_op, uint64_t *salt) {
  Instr x;
  memset(&x.in, 0, sizeof x.in);
  pb_opcode_t op;
  if (prev_op == PB_OP_CONFIG && g.chance(70)) op = PB_OP_ACTIVATE;  // observe the commit
  else {
    uint64_t r = g.below(100);
    op = r < 30 ? PB_OP_LOAD : r < 50 ? PB_OP_LOAD_ACC : r < 65 ? PB_OP_CONFIG : PB_OP_ACTIVATE;
  }
  x.in.op = op;
  if (g.chance(10)) *salt = g.next();
  x.salt = *salt;
  switch (op) {
  case PB_OP_LOAD: {
    uint32_t cols = g.chance(30) ? N : g.chance(30) ? 1 : (uint32_t)g.range(1, N);
    uint32_t rows = rnd_rows(g);
    uint32_t stride = rnd_stride(g, rows, cols);
    set_field(&x.in, "cols", cols);
    set_field(&x.in, "sp_col", g.range(0, N - cols));
    set_field(&x.in, "rows", rows);
    set_field(&x.in, "sp_addr", rnd_base(g, ROWS16, rows));
    set_field(&x.in, "host_stride", stride);
    set_field(&x.in, "host_addr", rnd_base(g, HOST, (uint64_t)(rows - 1) * stride + cols));
    break;
  }
  case PB_OP_LOAD_ACC: {
    uint32_t rows = rnd_rows(g);
    uint32_t stride = g.chance(30) ? 4 * N : rnd_stride(g, rows, 4 * N);
    set_field(&x.in, "rows", rows);
    set_field(&x.in, "acc_addr", rnd_base(g, ROWS16, rows));
    set_field(&x.in, "host_stride", stride);
    set_field(&x.in, "host_addr", rnd_base(g, HOST, (uint64_t)(rows - 1) * stride + 4 * N));
    break;
  }
  case PB_OP_CONFIG: {
    int zp = (int)g.range(-128, 127), lo, hi;
    switch (g.below(5)) {
    case 0: lo = -128, hi = 127; break;
    case 1: lo = zp, hi = 127; break;  // ReLU
    case 2: lo = hi = (int)g.range(-128, 127); break;
    default:
      lo = (int)g.range(-128, 127), hi = (int)g.range(-128, 127);
      if (lo > hi) std::swap(lo, hi);
      break;
    }
    uint32_t ha = rnd_base(g, HOST, 8 * N);
    set_field(&x.in, "zp", zp);
    set_field(&x.in, "lo", lo);
    set_field(&x.in, "hi", hi);
    set_field(&x.in, "host_addr", ha);
    config_table(g, x, ha, g.chance(15));
    break;
  }
  default: {  // ACTIVATE
    uint64_t r = g.below(10);
    uint32_t pool = r < 3 ? 1 : r < 6 ? (uint32_t)g.range(2, 4) : r < 7 ? 16 : (uint32_t)g.range(1, 16);
    uint32_t rows = g.chance(5) ? (uint32_t)g.range(1, 2000 / pool) : (uint32_t)g.range(1, std::max(1u, 256 / pool));
    uint32_t ps;
    switch (g.below(8)) {
    case 0: ps = 0; break;
    case 1: ps = 1; break;
    case 2: case 3: case 4: ps = rows; break;
    default: ps = (uint32_t)g.below((ROWS16 - rows) / (pool > 1 ? pool - 1 : 1) + 1); break;
    }
    set_field(&x.in, "pool", pool);
    set_field(&x.in, "rows", rows);
    set_field(&x.in, "pool_stride", ps);
    set_field(&x.in, "acc_addr", rnd_base(g, ROWS16, (uint64_t)(pool - 1) * ps + rows));
    set_field(&x.in, "sp_addr", rnd_base(g, ROWS16, rows));
    if (g.chance(60)) x.acc_fill_seed = g.next() | 1;
    break;
  }
  }
  x.pc = g.u32();
  x.garbage = g.chance(50);
  x.clear_before = g.chance(2);
  uint64_t r = g.below(100);
  x.gap = r < 60 ? 0 : r < 85 ? 1 : (int)g.range(2, 5);
  static const int readies[] = {90, 60, 30}, lats[] = {0, 2, 6, 15};
  x.ready_pct = readies[g.below(3)];
  x.lat_max = lats[g.below(4)];
  return x;
}

// ---- the test bench ----
struct Event { int instr; char kind; uint32_t addr; uint64_t mask; std::string data; };

struct Active {
  const Instr *x = nullptr;
  int index = -1;
  Fields f;
  Exp e;
  int64_t issue = -1, first_busy = -1, last_busy = -1, busy_cycles = 0, last_write = -1;
  int64_t retire_at = -1, cfg_err_at = -1;
  bool busy_done = false;
  size_t nreq = 0, nspw = 0, naccw = 0, naccr = 0;
  int nretire = 0, ncfg_err = 0;
  uint64_t dma = 0;
};

struct Rsp { int64_t due; uint8_t d[PB_N]; };

class Tb {
 public:
  Vpb_ld_unit *dut;
  Checks ck;
  bool mode_b;
  Rng mem_rng, junk;
  HostMem host;
  std::vector<int32_t> acc;
  Cfg cfg;
  int64_t cyc = 0;
  std::deque<Rsp> q;
  int64_t last_due = -1;
  bool prev_pending = false;
  uint32_t prev_addr = 0, prev_len = 0;
  uint8_t acc_rdata[4 * PB_N];
  Active a;
  std::vector<Event> trace;
  const std::vector<Event> *ref_trace = nullptr;  // mode (b): mode (a)'s writes
  size_t ref_pos = 0;
  int c_req, c_sp, c_act, c_accw, c_accr, c_cfg, c_retire, c_dma, c_busy, c_outside, c_trace;
  long n_ops[16] = {}, n_bad_cfg = 0, n_act_after_cfg = 0, n_act_after_bad = 0, n_stall = 0;

  Tb(const char *prefix, bool b, uint64_t seed) : mode_b(b), mem_rng(seed ^ 0xb0b), junk(seed ^ 0x1234) {
    ck.prefix = prefix;
    ck.ctx_fn = [this]() { return where(); };
    c_req = ck.add("host read requests (address, length, order; held while not ready)");
    c_sp = ck.add("scratchpad writes by LOAD (address, byte mask, data)");
    c_act = ck.add("ACTIVATE results (max-pool + bias + pb_requant with the committed CONFIG)");
    c_accw = ck.add("accumulator writes by LOAD_ACC (address, data)");
    c_accr = ck.add("accumulator reads by ACTIVATE (addresses)");
    c_cfg = ck.add("CONFIG: cfg_err_o pulse for a bad multiplier, zp/lo/hi not committed");
    c_retire = ck.add("retire_o once at the last write; pc_o, cur_op_o while busy");
    c_dma = ck.add("dma_bytes_o totals");
    c_busy = ck.add(b ? "busy_o from the cycle after start to the last write, not shorter than in mode a"
                      : "busy_o duration and event cycles of docs/timing.md");
    c_outside = ck.add("no activity outside busy_o");
    if (b) c_trace = ck.add("the same writes in the same order as mode a");
    else c_trace = -1;
    dut = new Vpb_ld_unit;
    memset(acc_rdata, 0, sizeof acc_rdata);
  }
  ~Tb() {
    dut->final();
    delete dut;
  }

  void init_acc(uint64_t seed) {
    Rng g(seed ^ 0xacc);
    acc.assign((size_t)ROWS16 * N, 0);
    for (auto &v : acc) v = rnd_acc(g);
  }

  void drive_fields(const Instr *x) {
    if (!x) {  // pb_core drives the head's fields every cycle: anything
      dut->op_i = (uint8_t)junk.u32();
      dut->pc_i = junk.u32();
      dut->sp_col_i = (uint8_t)junk.u32();
      dut->cols_i = (uint8_t)junk.u32();
      dut->sp_addr_i = (uint16_t)junk.u32();
      dut->rows_i = (uint16_t)junk.u32();
      dut->host_stride_i = junk.u32() & 0xffffff;
      dut->host_addr_i = junk.u32();
      dut->acc_addr_i = (uint16_t)junk.u32();
      dut->pool_i = junk.u32() & 31;
      dut->pool_stride_i = (uint16_t)junk.u32();
      dut->zp_i = (uint8_t)junk.u32();
      dut->lo_i = (uint8_t)junk.u32();
      dut->hi_i = (uint8_t)junk.u32();
      return;
    }
    pb_word_t w;
    char err[160];
    if (pb_encode(&x->in, &w, err, sizeof err) != 0) {
      fprintf(stderr, "harness: %s\n", err);
      exit(2);
    }
    // pb_decode's bit slices (tests/rtl/decode checks them against the C decoder)
    uint32_t op = (uint32_t)pb_word_get(&w, 0, 8);
    uint32_t sp_col = (uint32_t)pb_word_get(&w, 8, 8), cols = (uint32_t)pb_word_get(&w, 16, 8);
    uint32_t sp_addr = (uint32_t)pb_word_get(&w, 32, 16), rows = (uint32_t)pb_word_get(&w, 48, 16);
    uint32_t stride = (uint32_t)pb_word_get(&w, 64, 24), ha = (uint32_t)pb_word_get(&w, 96, 32);
    uint32_t acc_addr = (uint32_t)pb_word_get(&w, op == PB_OP_LOAD_ACC ? 32 : 64, 16);
    uint32_t pool = (uint32_t)pb_word_get(&w, 8, 5), ps = (uint32_t)pb_word_get(&w, 80, 16);
    uint32_t zp = (uint32_t)pb_word_get(&w, 8, 8), lo = (uint32_t)pb_word_get(&w, 16, 8);
    uint32_t hi = (uint32_t)pb_word_get(&w, 24, 8);
    if (x->garbage) {  // replace every field the instruction does not have
      const pb_instr_info_t *ii = pb_isa_by_opcode(op);
      auto has = [&](const char *n) { return pb_isa_field_index(ii, n) >= 0; };
      if (!has("sp_col")) sp_col = junk.u32() & 0xff;
      if (!has("cols")) cols = junk.u32() & 0xff;
      if (!has("sp_addr")) sp_addr = junk.u32() & 0xffff;
      if (!has("rows")) rows = junk.u32() & 0xffff;
      if (!has("host_stride")) stride = junk.u32() & 0xffffff;
      if (!has("host_addr")) ha = junk.u32();
      if (!has("acc_addr")) acc_addr = junk.u32() & 0xffff;
      if (!has("pool")) pool = junk.u32() & 31;
      if (!has("pool_stride")) ps = junk.u32() & 0xffff;
      if (!has("zp")) zp = junk.u32() & 0xff;
      if (!has("lo")) lo = junk.u32() & 0xff;
      if (!has("hi")) hi = junk.u32() & 0xff;
    }
    dut->op_i = op;
    dut->pc_i = x->pc;
    dut->sp_col_i = sp_col;
    dut->cols_i = cols;
    dut->sp_addr_i = sp_addr;
    dut->rows_i = rows;
    dut->host_stride_i = stride;
    dut->host_addr_i = ha;
    dut->acc_addr_i = acc_addr;
    dut->pool_i = pool;
    dut->pool_stride_i = ps;
    dut->zp_i = zp;
    dut->lo_i = lo;
    dut->hi_i = hi;
  }

  std::string where() const {
    char b[512];
    snprintf(b, sizeof b, "instruction %d (pc 0x%08x) %s, issued in cycle %" PRId64 ", now cycle %" PRId64, a.index,
             a.x ? a.x->pc : 0, a.x ? disasm(a.x->in).c_str() : "(none)", a.issue, cyc);
    return b;
  }

  void record(char kind, uint32_t addr, uint64_t mask, const uint8_t *d, int n) {
    Event ev{a.index, kind, addr, mask, std::string((const char *)d, (size_t)n)};
    if (mode_b && ref_trace) {
      if (ref_pos >= ref_trace->size()) ck.fail(c_trace, "write %c@%u beyond mode a's %zu writes", kind, addr, ref_trace->size());
      else {
        const Event &r = (*ref_trace)[ref_pos];
        if (r.instr != ev.instr || r.kind != ev.kind || r.addr != ev.addr || r.mask != ev.mask || r.data != ev.data)
          ck.fail(c_trace, "write %zu: mode a had instr %d %c@%u mask 0x%" PRIx64 " data %s, mode b instr %d %c@%u mask 0x%" PRIx64 " data %s",
                  ref_pos, r.instr, r.kind, r.addr, r.mask, hex_bytes((const uint8_t *)r.data.data(), (int)r.data.size()).c_str(),
                  ev.instr, ev.kind, ev.addr, ev.mask, hex_bytes(d, n).c_str());
        else ck.ok(c_trace);
      }
      ref_pos++;
    }
    trace.push_back(ev);
  }

  // One clock cycle: drive inputs, evaluate, check the cycle's outputs, clock edge, memory effects.
  void cycle(const Instr *start, bool clear) {
    dut->start_i = start != nullptr;
    dut->clear_i = clear;
    drive_fields(start);
    int ready_pct = (mode_b && a.x) ? a.x->ready_pct : 100;
    dut->rd_req_ready_i = mode_b ? mem_rng.chance((unsigned)ready_pct) : 1;
    uint8_t rsp[PB_N];
    bool rsp_v = !q.empty() && q.front().due <= cyc;
    if (rsp_v) {
      memcpy(rsp, q.front().d, N);
      q.pop_front();
    } else {
      for (int i = 0; i < N; i++) rsp[i] = (uint8_t)junk.u32();
    }
    dut->rd_rsp_valid_i = rsp_v;
    set_bytes(dut->rd_rsp_data_i, rsp, N);
    set_bytes(dut->acc_rdata_i, acc_rdata, 4 * N);
    dut->clk_i = 0;
    dut->eval();

    // ---- this cycle's outputs ----
    bool busy = dut->busy_o;
    if (start) a.issue = cyc;
    if (busy) {
      if (!a.x || a.busy_done || start) ck.fail(c_busy, "busy_o high outside the instruction's busy period");
      else {
        if (a.first_busy < 0) a.first_busy = cyc;
        a.last_busy = cyc;
        a.busy_cycles++;
        ck.eq(c_retire, "pc_o", a.x->pc, dut->pc_o);
        ck.eq(c_retire, "cur_op_o", (uint64_t)a.f.op, dut->cur_op_o);
      }
    } else {
      ck.ok(c_outside);  // an idle cycle: every activity check below must stay quiet
      if (a.first_busy >= 0) a.busy_done = true;
    }
    int64_t s = a.issue + 1;  // the unit's first cycle
    bool valid = dut->rd_req_valid_o, ready = dut->rd_req_ready_i;
    uint32_t raddr = dut->rd_req_addr_o, rlen = dut->rd_req_len_o;
    if (prev_pending) {  // a request not accepted must stay, unchanged
      if (!valid) ck.fail(c_req, "rd_req_valid_o dropped before the request was accepted");
      else if (raddr != prev_addr || rlen != prev_len)
        ck.fail(c_req, "request changed while waiting: 0x%08x/%u became 0x%08x/%u", prev_addr, prev_len, raddr, rlen);
    }
    if (valid && !busy) ck.fail(c_outside, "rd_req_valid_o while not busy");
    if (valid && ready) {
      if (!a.x || a.nreq >= a.e.reqs.size())
        ck.fail(c_req, "unexpected request 0x%08x/%u (expected %zu)", raddr, rlen, a.x ? a.e.reqs.size() : 0);
      else {
        const Req &r = a.e.reqs[a.nreq];
        char what[96];
        snprintf(what, sizeof what, "request %zu address", a.nreq);
        ck.eq(c_req, what, r.addr, raddr);
        snprintf(what, sizeof what, "request %zu length", a.nreq);
        ck.eq(c_req, what, r.len, rlen);
        if (!mode_b) {
          snprintf(what, sizeof what, "cycle of request %zu", a.nreq);
          ck.eq(c_busy, what, s + r.at, cyc);
        }
      }
      a.nreq++;
      Rsp p;
      for (uint32_t i = 0; i < (uint32_t)N; i++) p.d[i] = i < rlen ? host.byte(raddr + i) : (uint8_t)junk.u32();
      int64_t due = cyc + 1 + (mode_b && a.x && a.x->lat_max ? (int64_t)mem_rng.below((uint64_t)a.x->lat_max + 1) : 0);
      if (due <= last_due) due = last_due + 1;  // in order
      last_due = due;
      p.due = due;
      q.push_back(p);
    }
    if (valid && !ready) n_stall++;
    prev_pending = valid && !ready;
    prev_addr = raddr;
    prev_len = rlen;

    bool sp_we = dut->sp_we_o;
    uint32_t sp_waddr = dut->sp_waddr_o;
    uint64_t sp_wmask = (uint64_t)dut->sp_wmask_o;
    uint8_t sp_wdata[PB_N];
    get_bytes(dut->sp_wdata_o, sp_wdata, N);
    if (sp_we) {
      int cat = a.x && a.f.op == PB_OP_ACTIVATE ? c_act : c_sp;
      if (!busy) ck.fail(c_outside, "sp_we_o while not busy");
      if (!a.x || a.nspw >= a.e.spw.size())
        ck.fail(cat, "unexpected scratchpad write row %u mask 0x%" PRIx64 " (expected %zu writes)", sp_waddr, sp_wmask,
                a.x ? a.e.spw.size() : 0);
      else {
        const SpW &w = a.e.spw[a.nspw];
        bool good = w.addr == sp_waddr && w.mask == sp_wmask;
        for (int c = 0; c < N; c++)
          if ((w.mask >> c & 1) && !(w.unchecked >> c & 1) && w.d[c] != sp_wdata[c]) good = false;
        if (!good) {
          uint8_t ed[PB_N], gd[PB_N];
          for (int c = 0; c < N; c++) {
            ed[c] = (w.mask >> c & 1) ? w.d[c] : 0;
            gd[c] = (sp_wmask >> c & 1) ? sp_wdata[c] : 0;
          }
          ck.fail(cat, "scratchpad write %zu: expected row %u mask 0x%" PRIx64 " data %s, got row %u mask 0x%" PRIx64
                       " data %s (bytes outside the mask shown as 00; lane 0 rightmost)",
                  a.nspw, w.addr, w.mask, hex_bytes(ed, N).c_str(), sp_waddr, sp_wmask, hex_bytes(gd, N).c_str());
        } else {
          ck.ok(cat);
        }
        if (!mode_b) {
          char what[64];
          snprintf(what, sizeof what, "cycle of scratchpad write %zu", a.nspw);
          ck.eq(c_busy, what, s + w.at, cyc);
        }
      }
      uint8_t md[PB_N];
      for (int c = 0; c < N; c++) md[c] = (sp_wmask >> c & 1) ? sp_wdata[c] : 0;
      record('S', sp_waddr, sp_wmask, md, N);
      a.nspw++;
      a.last_write = cyc;
    }

    bool acc_we = dut->acc_we_o;
    uint32_t acc_waddr = dut->acc_waddr_o;
    uint8_t acc_wd[4 * PB_N];
    get_bytes(dut->acc_wdata_o, acc_wd, 4 * N);
    if (acc_we) {
      if (!busy) ck.fail(c_outside, "acc_we_o while not busy");
      if (!a.x || a.naccw >= a.e.accw.size())
        ck.fail(c_accw, "unexpected accumulator write row %u", acc_waddr);
      else {
        const AccW &w = a.e.accw[a.naccw];
        uint8_t ed[4 * PB_N];
        for (int c = 0; c < N; c++) wr_i32(ed + 4 * c, (uint32_t)w.d[c]);
        if (w.addr != acc_waddr || memcmp(ed, acc_wd, 4 * N) != 0)
          ck.fail(c_accw, "accumulator write %zu: expected row %u data %s, got row %u data %s", a.naccw, w.addr,
                  hex_bytes(ed, 4 * N).c_str(), acc_waddr, hex_bytes(acc_wd, 4 * N).c_str());
        else ck.ok(c_accw);
        if (!mode_b) {
          char what[64];
          snprintf(what, sizeof what, "cycle of accumulator write %zu", a.naccw);
          ck.eq(c_busy, what, s + w.at, cyc);
        }
      }
      record('A', acc_waddr, 0, acc_wd, 4 * N);
      a.naccw++;
      a.last_write = cyc;
    }

    bool acc_re = dut->acc_re_o;
    uint32_t acc_raddr = dut->acc_raddr_o;
    if (acc_re) {
      if (!busy) ck.fail(c_outside, "acc_re_o while not busy");
      if (!a.x || a.naccr >= a.e.accr.size()) ck.fail(c_accr, "unexpected accumulator read row %u", acc_raddr);
      else {
        const AccR &r = a.e.accr[a.naccr];
        char what[64];
        snprintf(what, sizeof what, "accumulator read %zu row", a.naccr);
        ck.eq(c_accr, what, r.addr, acc_raddr);
        if (!mode_b) {
          snprintf(what, sizeof what, "cycle of accumulator read %zu", a.naccr);
          ck.eq(c_busy, what, s + r.at, cyc);
        }
      }
      a.naccr++;
    }

    if (dut->retire_o) {
      if (!busy) ck.fail(c_outside, "retire_o while not busy");
      a.nretire++;
      a.retire_at = cyc;
    }
    if (dut->cfg_err_o) {
      if (!busy) ck.fail(c_outside, "cfg_err_o while not busy");
      a.ncfg_err++;
      a.cfg_err_at = cyc;
    }
    if (dut->dma_bytes_o) {
      if (!busy) ck.fail(c_outside, "dma_bytes_o = %u while not busy", dut->dma_bytes_o);
      a.dma += dut->dma_bytes_o;
    }

    // ---- clock edge and the memories' side of it ----
    dut->clk_i = 1;
    dut->eval();
    if (acc_re) {  // registered read: old data when a write to the same row happens at this edge
      if (acc_raddr < ROWS16)
        for (int c = 0; c < N; c++) wr_i32(acc_rdata + 4 * c, (uint32_t)acc[(size_t)acc_raddr * N + c]);
    }
    if (acc_we && acc_waddr < ROWS16)
      for (int c = 0; c < N; c++) acc[(size_t)acc_waddr * N + c] = rd_i32(acc_wd + 4 * c);
    cyc++;
  }

  void finish() {  // checks at the end of the active instruction
    if (!a.x) return;
    const Exp &e = a.e;
    ck.eq(c_req, "number of host read requests", e.reqs.size(), a.nreq);
    if (!q.empty()) {
      ck.fail(c_busy, "%zu read responses still outstanding when busy_o fell", q.size());
      q.clear();
    }
    int spcat = a.f.op == PB_OP_ACTIVATE ? c_act : c_sp;
    ck.eq(spcat, "number of scratchpad writes", e.spw.size(), a.nspw);
    ck.eq(c_accw, "number of accumulator writes", e.accw.size(), a.naccw);
    ck.eq(c_accr, "number of accumulator reads", e.accr.size(), a.naccr);
    ck.eq(c_retire, "retire_o pulses", e.retire ? 1 : 0, (uint64_t)a.nretire);
    if (a.f.op == PB_OP_CONFIG) {
      ck.eq(c_cfg, "cfg_err_o pulses", e.cfg_err ? 1 : 0, (uint64_t)a.ncfg_err);
      if (e.cfg_err && a.ncfg_err == 1) ck.eq(c_cfg, "cfg_err_o cycle = last busy cycle", a.last_busy, a.cfg_err_at);
    } else if (a.ncfg_err) {
      ck.fail(c_cfg, "cfg_err_o pulsed %d times outside CONFIG", a.ncfg_err);
    }
    if (e.retire && a.nretire == 1) {
      ck.eq(c_retire, "retire_o cycle = last busy cycle", a.last_busy, a.retire_at);
      if (a.last_write >= 0) ck.eq(c_retire, "retire_o cycle = last write", a.last_write, a.retire_at);
    }
    ck.eq(c_dma, "dma_bytes_o total", e.dma, a.dma);
    ck.eq(c_busy, "first busy cycle = issue + 1", a.issue + 1, a.first_busy);
    ck.eq(c_busy, "busy_o contiguous", a.last_busy - a.first_busy + 1, a.busy_cycles);
    if (!mode_b) ck.eq(c_busy, "busy cycles (docs/timing.md)", e.dur, a.busy_cycles);
    else if (a.busy_cycles < e.dur) ck.eq(c_busy, "busy cycles at least the zero-wait duration", e.dur, a.busy_cycles);
    else ck.ok(c_busy);
    // the timing model in the library agrees with the durations written here
    ck.eq(c_busy, "pb_timing_duration() = docs/timing.md", e.dur, a.x ? (uint64_t)dur_lib(a.x->in) : 0);
  }

  static int64_t dur_lib(const pb_instr_t &in);

  void run(const std::vector<Instr> &prog, uint64_t seed) {
    g_act_lo = g_act_hi = g_act_mid = 0;
    init_acc(seed);
    cfg.reset();
    // reset (asynchronous), then a clear_i pulse: "program start"
    dut->rst_ni = 0;
    dut->clk_i = 0;
    dut->start_i = 0;
    dut->clear_i = 0;
    dut->eval();
    dut->clk_i = 1;
    dut->eval();
    dut->rst_ni = 1;
    cycle(nullptr, true);
    pb_opcode_t prev = (pb_opcode_t)0;
    bool prev_bad = false;
    for (size_t i = 0; i < prog.size(); i++) {
      const Instr &x = prog[i];
      if (x.clear_before) {
        cycle(nullptr, true);
        cfg.reset();
      }
      for (int k = 0; k < x.gap; k++) cycle(nullptr, false);
      // the instruction's memory state: host content, CONFIG table, accumulator rows
      host.salt = x.salt;
      host.overlay.clear();
      for (auto &p : x.preload) host.overlay[p.first] = p.second;
      Fields f = fields_of(x.in);
      if (x.acc_fill_seed) {
        Rng g(x.acc_fill_seed);
        for (uint32_t k = 0; k < f.pool; k++)
          for (uint32_t r = 0; r < f.rows; r++)
            for (int c = 0; c < N; c++) acc[(size_t)(f.acc_addr + k * f.ps + r) * N + c] = rnd_acc(g);
      }
      for (auto &row : x.acc_fill)
        for (int c = 0; c < N; c++) acc[(size_t)row.first * N + c] = row.second[c];
      a = Active();
      a.x = &x;
      a.index = (int)i;
      a.f = f;
      a.e = expect(x, host, acc, &cfg);
      n_ops[f.op & 15]++;
      if (f.op == PB_OP_CONFIG && a.e.cfg_err) n_bad_cfg++;
      if (f.op == PB_OP_ACTIVATE && prev == PB_OP_CONFIG) (prev_bad ? n_act_after_bad : n_act_after_cfg)++;
      prev = f.op;
      prev_bad = a.e.cfg_err;
      cycle(&x, false);
      int64_t limit = cyc + 50 * (a.e.dur + 10) + 1000;
      while (dut->busy_o && cyc < limit) cycle(nullptr, false);
      if (dut->busy_o) {
        ck.fail(c_busy, "busy_o still high after %" PRId64 " cycles: the rest of this run is skipped",
                50 * (a.e.dur + 10) + 1000);
        finish();
        return;
      }
      finish();
    }
    for (int k = 0; k < 4; k++) cycle(nullptr, false);  // nothing may follow the last instruction
  }
};

int64_t Tb::dur_lib(const pb_instr_t &in) {
  pb_hw_t hw = {(uint32_t)N, ROWS16, ROWS16, (uint32_t)HOST, (uint32_t)PB_RQ_LANES};
  return pb_timing_duration(&hw, &in);
}

// ---- hand-checkable cases (N >= 4), with literal expected writes ----
static std::vector<Instr> hand_program() {
  std::vector<Instr> p;
  auto mk = [&](pb_opcode_t op) {
    Instr x;
    memset(&x.in, 0, sizeof x.in);
    x.in.op = op;
    x.pc = (uint32_t)p.size();
    return x;
  };
  auto cfg_tab = [&](Instr &x, uint32_t ha, int32_t bias, uint32_t mult, int bad_col) {
    for (int c = 0; c < N; c++) {
      uint8_t b[8];
      wr_i32(b, (uint32_t)bias);
      wr_i32(b + 4, c == bad_col ? 0x80000000u : mult);
      for (int k = 0; k < 8; k++) x.preload.push_back({ha + 8 * (uint32_t)c + (uint32_t)k, b[k]});
    }
  };
  // 0: LOAD rows=2 cols=2 sp_col=1 sp_addr=5 host_stride=2 host_addr=0x100; host 0x100.. = 1 2 3 4
  Instr x = mk(PB_OP_LOAD);
  set_field(&x.in, "rows", 2), set_field(&x.in, "cols", 2), set_field(&x.in, "sp_col", 1);
  set_field(&x.in, "sp_addr", 5), set_field(&x.in, "host_stride", 2), set_field(&x.in, "host_addr", 0x100);
  for (uint32_t i = 0; i < 4; i++) x.preload.push_back({0x100 + i, (uint8_t)(i + 1)});
  p.push_back(x);
  // 1: CONFIG zp=0 lo=-128 hi=127, every column bias 10, mult 0.5
  x = mk(PB_OP_CONFIG);
  set_field(&x.in, "zp", 0), set_field(&x.in, "lo", -128), set_field(&x.in, "hi", 127);
  set_field(&x.in, "host_addr", 0x200);
  cfg_tab(x, 0x200, 10, 0x3f000000u, -1);
  p.push_back(x);
  // 2: ACTIVATE rows=1 pool=2 pool_stride=1 acc_addr=30 sp_addr=7; acc[30] = 20, acc[31] = 40
  //    -> max(20 + 10, 40 + 10) * 0.5 = 25 in every column
  x = mk(PB_OP_ACTIVATE);
  set_field(&x.in, "rows", 1), set_field(&x.in, "pool", 2), set_field(&x.in, "pool_stride", 1);
  set_field(&x.in, "acc_addr", 30), set_field(&x.in, "sp_addr", 7);
  x.acc_fill.push_back({30, std::vector<int32_t>(N, 20)});
  x.acc_fill.push_back({31, std::vector<int32_t>(N, 40)});
  p.push_back(x);
  // 3: CONFIG zp=5 with column 0's multiplier -0.0: cfg_err_o; zp, lo, hi not committed, the table is
  //    (bias 0, mult -0.0 in column 0 and 1.0 elsewhere)
  Instr bad = mk(PB_OP_CONFIG);
  set_field(&bad.in, "zp", 5), set_field(&bad.in, "lo", -128), set_field(&bad.in, "hi", 127);
  set_field(&bad.in, "host_addr", 0x300);
  cfg_tab(bad, 0x300, 0, 0x3f800000u, 0);
  p.push_back(bad);
  // 4: the same ACTIVATE: column 0: 0 (zp 0, -0.0 rounds to 0), others max(20, 40) * 1.0 = 40
  x = p[2];
  x.pc = 4;
  p.push_back(x);
  // 5: LOAD_ACC rows=1 acc_addr=3 host_addr=0x400: acc[3][c] = -5 - c
  x = mk(PB_OP_LOAD_ACC);
  set_field(&x.in, "rows", 1), set_field(&x.in, "acc_addr", 3), set_field(&x.in, "host_addr", 0x400);
  for (int c = 0; c < N; c++) {
    uint8_t b[4];
    wr_i32(b, (uint32_t)(-5 - c));
    for (int k = 0; k < 4; k++) x.preload.push_back({0x400 + 4 * (uint32_t)c + (uint32_t)k, b[k]});
  }
  p.push_back(x);
  // 6: CONFIG zp=-3 lo=-10 hi=100, bias 0, mult 1.0
  x = mk(PB_OP_CONFIG);
  set_field(&x.in, "zp", -3), set_field(&x.in, "lo", -10), set_field(&x.in, "hi", 100);
  set_field(&x.in, "host_addr", 0x500);
  cfg_tab(x, 0x500, 0, 0x3f800000u, -1);
  p.push_back(x);
  // 7: ACTIVATE rows=1 pool=1 acc_addr=3 sp_addr=8: max(-10, -3 + (-5 - c)) = -8, -9, -10, -10, ...
  x = mk(PB_OP_ACTIVATE);
  set_field(&x.in, "rows", 1), set_field(&x.in, "pool", 1), set_field(&x.in, "acc_addr", 3);
  set_field(&x.in, "sp_addr", 8);
  p.push_back(x);
  return p;
}

static void hand_literals(Tb &tb) {
  int cat = tb.ck.add("hand cases: literal writes");
  tb.ck.ctx_fn = nullptr;
  auto find = [&](int instr, char kind, int k) -> const Event * {
    for (auto &e : tb.trace)
      if (e.instr == instr && e.kind == kind && k-- == 0) return &e;
    return nullptr;
  };
  auto expect_sp = [&](int instr, int k, uint32_t row, uint64_t mask, const std::vector<int> &lanes) {
    const Event *e = find(instr, 'S', k);
    tb.ck.ctx = "hand case instruction " + std::to_string(instr);
    if (!e) {
      tb.ck.fail(cat, "scratchpad write %d missing", k);
      return;
    }
    tb.ck.eq(cat, "row", row, e->addr);
    tb.ck.eq(cat, "mask", mask, e->mask);
    for (int c = 0; c < N; c++)
      if (mask >> c & 1) tb.ck.eq(cat, "lane", (uint8_t)lanes[c], (uint8_t)e->data[c]);
  };
  std::vector<int> l(N, 0);
  l[1] = 1, l[2] = 2;
  expect_sp(0, 0, 5, 0x6, l);
  l[1] = 3, l[2] = 4;
  expect_sp(0, 1, 6, 0x6, l);
  uint64_t all = N >= 64 ? ~0ull : (1ull << N) - 1;
  expect_sp(2, 0, 7, all, std::vector<int>(N, 25));
  std::vector<int> l4(N, 40);
  l4[0] = 0;
  expect_sp(4, 0, 7, all, l4);
  const Event *e = find(5, 'A', 0);
  tb.ck.ctx = "hand case instruction 5";
  if (!e) tb.ck.fail(cat, "accumulator write missing");
  else {
    tb.ck.eq(cat, "acc row", 3, e->addr);
    for (int c = 0; c < N; c++) tb.ck.eq(cat, "acc lane", (uint32_t)(-5 - c), (uint32_t)rd_i32((const uint8_t *)e->data.data() + 4 * c));
  }
  for (int c = 0; c < N; c++) l[c] = std::max(-10, -8 - c);
  expect_sp(7, 0, 8, all, l);
}

int main(int argc, char **argv) {
  Verilated::commandArgs(argc, argv);
  Verilated::randReset(2);
  const char *s = getenv("PB_SEED");
  uint64_t seed = s ? strtoull(s, nullptr, 0) : 1;
  const char *ni = getenv("PB_INSTRS");
  long ninstr = ni ? strtol(ni, nullptr, 0) : 2500;
  printf("tb_ld: pb_ld_unit N=%d, seed %" PRIu64 " (PB_SEED), %ld random instructions per mode\n", N, seed, ninstr);
  int passed = 0, failed = 0;

  {  // hand-checkable cases, zero wait states
    std::vector<Instr> hp = hand_program();
    Tb tb("hand", false, seed);
    tb.run(hp, seed);
    hand_literals(tb);
    tb.ck.report(&passed, &failed);
  }

  Rng g(seed);
  std::vector<Instr> prog;
  uint64_t salt = g.next();
  pb_opcode_t prev = (pb_opcode_t)0;
  for (long i = 0; i < ninstr; i++) {
    prog.push_back(gen(g, prev, &salt));
    prev = prog.back().in.op;
  }

  std::vector<Event> trace_a;
  for (int m = 0; m < 2; m++) {
    Tb tb(m ? "mode b (random ready, latency)" : "mode a (zero wait states)", m == 1, seed);
    if (m) tb.ref_trace = &trace_a;
    tb.run(prog, seed);
    if (m) {
      tb.ck.ctx_fn = nullptr;
      tb.ck.ctx = "end of the program";
      tb.ck.eq(tb.c_trace, "number of writes (mode a vs mode b)", trace_a.size(), tb.trace.size());
    } else {
      trace_a = tb.trace;
    }
    printf("     %s: %" PRId64 " cycles; LOAD %ld, LOAD_ACC %ld, CONFIG %ld (%ld bad), ACTIVATE %ld (%ld right after a "
           "good CONFIG, %ld after a bad one; output lanes %ld at lo, %ld at hi, %ld between); %zu writes; %ld request "
           "cycles not ready\n",
           tb.ck.prefix.c_str(), tb.cyc, tb.n_ops[PB_OP_LOAD], tb.n_ops[PB_OP_LOAD_ACC], tb.n_ops[PB_OP_CONFIG],
           tb.n_bad_cfg, tb.n_ops[PB_OP_ACTIVATE], tb.n_act_after_cfg, tb.n_act_after_bad, g_act_lo, g_act_hi, g_act_mid,
           tb.trace.size(), tb.n_stall);
    tb.ck.report(&passed, &failed);
  }
  printf("# tb_ld_n%d: %d passed, %d failed\n", N, passed, failed);
  return failed ? 1 : 0;
}
