// SPDX-License-Identifier: Apache-2.0
// Verilator harness for the store unit rtl/pb_st_unit.sv (STORE, STORE_ACC), standalone.
// Build with -GN=<n> and -CFLAGS -DPB_N=<n>; link build/libpbcore.a (the ISA tables).
//
// The harness plays pb_core around the unit: a start_i pulse with the decoded fields when the unit
// is idle (random field inputs in every other cycle), and models of
//   - the scratchpad and accumulator read ports: data one cycle after the address, held until the
//     next read (pb_sram);
//   - the host write port: (a) zero wait states (always ready) or (b) random not-ready cycles;
//     every accepted write (address, length, bytes 0..len-1) is recorded.
// Expected writes come from docs/isa.md's semantics written here:
//   STORE:     for r < rows, c < cols: host[host_addr + r*host_stride + c] = sp[sp_addr+r][sp_col+c];
//   STORE_ACC: for r < rows, c < cols: host[host_addr + r*host_stride + 4c..+3] = int32le(acc[acc_addr+r][c]),
//              as B = ceil(4*cols/N) writes per row (bytes jN.. of the row in write j, the last one shorter).
// Checked per instruction: host writes (address, length, data, order; a write not accepted stays
// unchanged), scratchpad/accumulator reads (one per row, in order, on the right port), retire_o
// (once, at the last write), pc_o, dma_bytes_o totals, busy_o (mode a: STORE rows + 1 cycles,
// reads in s..s+rows-1, writes in s+1..s+rows; STORE_ACC B*rows + 1 cycles, row r read in s+B*r,
// its writes in s+B*r+1..s+B*r+B, as docs/timing.md says; mode b: the same writes in the same order
// as mode a, only later). Each check category is one counted case per mode.
// Env: PB_SEED (default 1), PB_INSTRS (random instructions per mode, default 2500).
#include "Vpb_st_unit.h"

#include "tb_dma_common.h"

static const int N = PB_N;
static const uint32_t ROWS16 = 65536;
static const uint64_t HOST = 1ull << 31;

struct Instr {
  pb_instr_t in;
  uint32_t pc = 0;
  int gap = 0;
  uint64_t sp_fill_seed = 0;  // refill the scratchpad rows it reads first (0: keep)
  std::vector<std::pair<uint32_t, std::vector<uint8_t>>> sp_fill;  // explicit rows (hand cases)
  std::vector<std::pair<uint32_t, std::vector<uint32_t>>> acc_fill;  // explicit accumulator rows
  int ready_pct = 100;        // mode (b)
};

struct Fields {
  bool acc;  // STORE_ACC (sp_col unused; cols counts int32 lanes; sp_addr is acc_addr)
  uint32_t sp_col, cols, sp_addr, rows, stride, host_addr;
};
static Fields fields_of(const pb_instr_t &in) {
  if (in.op == PB_OP_STORE_ACC)
    return {true, 0, (uint32_t)pb_instr_field(&in, PB_F_STORE_ACC_cols), (uint32_t)pb_instr_field(&in, PB_F_STORE_ACC_acc_addr),
            (uint32_t)pb_instr_field(&in, PB_F_STORE_ACC_rows), (uint32_t)pb_instr_field(&in, PB_F_STORE_ACC_host_stride),
            (uint32_t)pb_instr_field(&in, PB_F_STORE_ACC_host_addr)};
  return {false, (uint32_t)pb_instr_field(&in, PB_F_STORE_sp_col), (uint32_t)pb_instr_field(&in, PB_F_STORE_cols),
          (uint32_t)pb_instr_field(&in, PB_F_STORE_sp_addr), (uint32_t)pb_instr_field(&in, PB_F_STORE_rows),
          (uint32_t)pb_instr_field(&in, PB_F_STORE_host_stride), (uint32_t)pb_instr_field(&in, PB_F_STORE_host_addr)};
}

struct HostW { uint32_t addr, len; uint8_t d[PB_N]; int64_t at; };
struct SpR { uint32_t addr; int64_t at; };  // a scratchpad row, or an accumulator row for STORE_ACC
struct Exp {
  std::vector<HostW> w;
  std::vector<SpR> r;
  uint64_t dma = 0;
  int64_t dur = 0;
};

static Exp expect(const Fields &f, const std::vector<uint8_t> &sp, const std::vector<uint32_t> &acc) {
  Exp e;
  if (f.acc) {
    uint32_t bytes = 4 * f.cols, B = (bytes + N - 1) / N;
    for (uint32_t r = 0; r < f.rows; r++) {
      e.r.push_back({f.sp_addr + r, (int64_t)B * r});
      for (uint32_t j = 0; j < B; j++) {
        HostW w{};
        w.addr = f.host_addr + r * f.stride + j * N;
        w.len = std::min<uint32_t>(N, bytes - j * N);
        for (uint32_t k = 0; k < w.len; k++) {
          uint32_t byte = j * N + k;  // byte of the row: lane byte / 4, little-endian
          w.d[k] = (uint8_t)(acc[(size_t)(f.sp_addr + r) * N + byte / 4] >> (8 * (byte % 4)));
        }
        w.at = (int64_t)B * r + j + 1;
        e.w.push_back(w);
      }
    }
    e.dma = (uint64_t)f.rows * bytes;
    e.dur = (int64_t)B * f.rows + 1;
    return e;
  }
  for (uint32_t r = 0; r < f.rows; r++) {
    e.r.push_back({f.sp_addr + r, (int64_t)r});
    HostW w{};
    w.addr = f.host_addr + r * f.stride;
    w.len = f.cols;
    for (uint32_t c = 0; c < f.cols; c++) w.d[c] = sp[(size_t)(f.sp_addr + r) * N + f.sp_col + c];
    w.at = r + 1;
    e.w.push_back(w);
  }
  e.dma = (uint64_t)f.rows * f.cols;
  e.dur = f.rows + 1;
  return e;
}

// ---- random legal STOREs ----
static uint32_t rnd_rows(Rng &g) {
  uint64_t r = g.below(100);
  if (r < 20) return 1;
  if (r < 70) return (uint32_t)g.range(2, 8);
  if (r < 95) return (uint32_t)g.range(9, 64);
  return (uint32_t)g.range(65, 300);
}
static uint32_t rnd_base(Rng &g, uint64_t limit, uint64_t extent) {
  uint64_t top = limit - extent;
  switch (g.below(10)) {
  case 0: return (uint32_t)top;
  case 1: return (uint32_t)g.below(top < 256 ? top + 1 : 256);
  default: return (uint32_t)g.below(top + 1);
  }
}
// The random context of an instruction: its PC, a refill of the rows it reads, the gap before it, the host port's
// readiness in mode b.
static Instr rnd_context(Rng &g, Instr &x) {
  x.pc = g.u32();
  if (g.chance(40)) x.sp_fill_seed = g.next() | 1;
  uint64_t r = g.below(100);
  x.gap = r < 60 ? 0 : r < 85 ? 1 : (int)g.range(2, 5);
  static const int readies[] = {90, 60, 30, 10};
  x.ready_pct = readies[g.below(4)];
  return x;
}

static Instr gen_store_acc(Rng &g) {
  Instr x;
  memset(&x.in, 0, sizeof x.in);
  x.in.op = PB_OP_STORE_ACC;
  uint32_t cols = g.chance(40) ? N : (uint32_t)g.range(1, N), rows = rnd_rows(g), bytes = 4 * cols;
  uint64_t lim = 0xffffff;
  if (rows > 1) lim = std::min<uint64_t>(lim, (HOST - bytes) / (rows - 1));
  uint64_t stride = g.chance(10) ? 0 : g.chance(50) ? bytes : g.below(lim + 1);
  stride = std::min(stride, lim);
  set_field(&x.in, "rows", rows);
  set_field(&x.in, "cols", cols);
  set_field(&x.in, "acc_addr", rnd_base(g, ROWS16, rows));
  set_field(&x.in, "host_stride", (int64_t)stride);
  set_field(&x.in, "host_addr", rnd_base(g, HOST, (uint64_t)(rows - 1) * stride + bytes));
  return rnd_context(g, x);
}

static Instr gen(Rng &g) {
  if (g.chance(30)) return gen_store_acc(g);
  Instr x;
  memset(&x.in, 0, sizeof x.in);
  x.in.op = PB_OP_STORE;
  uint32_t cols = g.chance(30) ? N : g.chance(30) ? 1 : (uint32_t)g.range(1, N);
  uint32_t rows = rnd_rows(g);
  uint64_t lim = 0xffffff;
  if (rows > 1) lim = std::min<uint64_t>(lim, (HOST - cols) / (rows - 1));
  uint64_t stride;
  switch (g.below(10)) {
  case 0: stride = 0; break;
  case 1: case 2: stride = cols; break;
  case 3: stride = N; break;
  case 4: case 5: case 6: stride = g.below(257); break;
  default: stride = g.below(lim + 1); break;
  }
  stride = std::min(stride, lim);
  set_field(&x.in, "cols", cols);
  set_field(&x.in, "sp_col", g.range(0, N - cols));
  set_field(&x.in, "rows", rows);
  set_field(&x.in, "sp_addr", rnd_base(g, ROWS16, rows));
  set_field(&x.in, "host_stride", (int64_t)stride);
  set_field(&x.in, "host_addr", rnd_base(g, HOST, (uint64_t)(rows - 1) * stride + cols));
  return rnd_context(g, x);
}

// ---- the test bench ----
struct Event { int instr; uint32_t addr, len; std::string data; };

struct Active {
  const Instr *x = nullptr;
  int index = -1;
  Fields f{};
  Exp e;
  int64_t issue = -1, first_busy = -1, last_busy = -1, busy_cycles = 0, last_write = -1, retire_at = -1;
  bool busy_done = false;
  size_t nw = 0, nr = 0;
  int nretire = 0;
  uint64_t dma = 0;
};

class Tb {
 public:
  Vpb_st_unit *dut;
  Checks ck;
  bool mode_b;
  Rng mem_rng, junk;
  std::vector<uint8_t> sp;
  std::vector<uint32_t> acc;
  uint8_t sp_rdata[PB_N], acc_rdata[4 * PB_N];
  int64_t cyc = 0;
  bool prev_pending = false;
  uint32_t prev_addr = 0, prev_len = 0;
  uint8_t prev_data[PB_N];
  Active a;
  std::vector<Event> trace;
  const std::vector<Event> *ref_trace = nullptr;
  size_t ref_pos = 0;
  long n_stall = 0;
  int c_wr, c_rd, c_retire, c_dma, c_busy, c_outside, c_trace;

  Tb(const char *prefix, bool b, uint64_t seed) : mode_b(b), mem_rng(seed ^ 0xb0b), junk(seed ^ 0x1234) {
    ck.prefix = prefix;
    ck.ctx_fn = [this]() { return where(); };
    c_wr = ck.add("host writes (address, length, data, order; held while not ready)");
    c_rd = ck.add("scratchpad/accumulator reads (one per row, in order, on the instruction's port)");
    c_retire = ck.add("retire_o once at the last write; pc_o while busy");
    c_dma = ck.add("dma_bytes_o totals");
    c_busy = ck.add(b ? "busy_o from the cycle after start to the last write, not shorter than in mode a"
                      : "busy_o duration and event cycles of docs/timing.md");
    c_outside = ck.add("no activity outside busy_o");
    c_trace = b ? ck.add("the same writes in the same order as mode a") : -1;
    dut = new Vpb_st_unit;
    memset(sp_rdata, 0, sizeof sp_rdata);
    memset(acc_rdata, 0, sizeof acc_rdata);
    memset(prev_data, 0, sizeof prev_data);
  }
  ~Tb() {
    dut->final();
    delete dut;
  }

  void drive_fields(const Instr *x) {
    if (!x) {
      dut->op_i = (uint8_t)junk.u32();
      dut->acc_addr_i = (uint16_t)junk.u32();
      dut->pc_i = junk.u32();
      dut->sp_col_i = (uint8_t)junk.u32();
      dut->cols_i = (uint8_t)junk.u32();
      dut->sp_addr_i = (uint16_t)junk.u32();
      dut->rows_i = (uint16_t)junk.u32();
      dut->host_stride_i = junk.u32() & 0xffffff;
      dut->host_addr_i = junk.u32();
      return;
    }
    Fields f = fields_of(x->in);
    dut->op_i = (uint8_t)x->in.op;
    dut->pc_i = x->pc;
    // the fields another instruction would have are junk: the unit must ignore them
    dut->sp_col_i = f.acc ? (uint8_t)junk.u32() : f.sp_col;
    dut->cols_i = f.cols;
    dut->sp_addr_i = f.acc ? (uint16_t)junk.u32() : f.sp_addr;
    dut->acc_addr_i = f.acc ? f.sp_addr : (uint16_t)junk.u32();
    dut->rows_i = f.rows;
    dut->host_stride_i = f.stride;
    dut->host_addr_i = f.host_addr;
  }

  // busy_acc_o must be busy_o && (the running instruction is a STORE_ACC)
  bool busy_acc_mismatch(bool busy) const {
    bool want = busy && a.x && a.f.acc;
    return (bool)dut->busy_acc_o != want;
  }

  std::string where() const {
    char b[512];
    snprintf(b, sizeof b, "instruction %d (pc 0x%08x) %s, issued in cycle %" PRId64 ", now cycle %" PRId64, a.index,
             a.x ? a.x->pc : 0, a.x ? disasm(a.x->in).c_str() : "(none)", a.issue, cyc);
    return b;
  }

  void cycle(const Instr *start) {
    dut->start_i = start != nullptr;
    drive_fields(start);
    int ready_pct = (mode_b && a.x) ? a.x->ready_pct : 100;
    dut->wr_req_ready_i = mode_b ? mem_rng.chance((unsigned)ready_pct) : 1;
    set_bytes(dut->sp_rdata_i, sp_rdata, N);
    set_bytes(dut->acc_rdata_i, acc_rdata, 4 * N);
    dut->clk_i = 0;
    dut->eval();

    bool busy = dut->busy_o;
    if (start) a.issue = cyc;
    if (busy) {
      if (!a.x || a.busy_done || start) ck.fail(c_busy, "busy_o high outside the instruction's busy period");
      else {
        if (a.first_busy < 0) a.first_busy = cyc;
        a.last_busy = cyc;
        a.busy_cycles++;
        ck.eq(c_retire, "pc_o", a.x->pc, dut->pc_o);
      }
    } else {
      ck.ok(c_outside);  // an idle cycle: every activity check below must stay quiet
      if (a.first_busy >= 0) a.busy_done = true;
    }
    int64_t s = a.issue + 1;

    bool sp_re = dut->sp_re_o, acc_re = dut->acc_re_o, re = sp_re || acc_re;
    uint32_t raddr = sp_re ? dut->sp_raddr_o : dut->acc_raddr_o;
    if (busy_acc_mismatch(busy)) ck.fail(c_busy, "busy_acc_o is not busy_o of a STORE_ACC");
    if (re) {
      if (!busy) ck.fail(c_outside, "sp_re_o/acc_re_o while not busy");
      if (sp_re && acc_re) ck.fail(c_rd, "both read ports at once");
      else if (a.x && (acc_re != a.f.acc)) ck.fail(c_rd, "read on the %s port", acc_re ? "accumulator" : "scratchpad");
      if (!a.x || a.nr >= a.e.r.size()) ck.fail(c_rd, "unexpected read of row %u", raddr);
      else {
        char what[64];
        snprintf(what, sizeof what, "scratchpad read %zu row", a.nr);
        ck.eq(c_rd, what, a.e.r[a.nr].addr, raddr);
        if (!mode_b) {
          snprintf(what, sizeof what, "cycle of scratchpad read %zu", a.nr);
          ck.eq(c_busy, what, s + a.e.r[a.nr].at, cyc);
        }
      }
      a.nr++;
    }

    bool valid = dut->wr_req_valid_o, ready = dut->wr_req_ready_i;
    uint32_t waddr = dut->wr_req_addr_o, wlen = dut->wr_req_len_o;
    uint8_t wd[PB_N];
    get_bytes(dut->wr_req_data_o, wd, N);
    if (prev_pending) {
      if (!valid) ck.fail(c_wr, "wr_req_valid_o dropped before the write was accepted");
      else if (waddr != prev_addr || wlen != prev_len || memcmp(wd, prev_data, std::min<uint32_t>(wlen, N)) != 0)
        ck.fail(c_wr, "write changed while waiting: 0x%08x/%u data %s became 0x%08x/%u data %s", prev_addr, prev_len,
                hex_bytes(prev_data, (int)std::min<uint32_t>(prev_len, N)).c_str(), waddr, wlen,
                hex_bytes(wd, (int)std::min<uint32_t>(wlen, N)).c_str());
    }
    if (valid && !busy) ck.fail(c_outside, "wr_req_valid_o while not busy");
    if (valid && ready) {
      uint32_t n = std::min<uint32_t>(wlen, N);
      if (!a.x || a.nw >= a.e.w.size())
        ck.fail(c_wr, "unexpected host write 0x%08x/%u", waddr, wlen);
      else {
        const HostW &w = a.e.w[a.nw];
        if (w.addr != waddr || w.len != wlen || memcmp(w.d, wd, n) != 0)
          ck.fail(c_wr, "host write %zu: expected 0x%08x/%u data %s, got 0x%08x/%u data %s (byte 0 rightmost)", a.nw,
                  w.addr, w.len, hex_bytes(w.d, (int)w.len).c_str(), waddr, wlen, hex_bytes(wd, (int)n).c_str());
        else ck.ok(c_wr);
        if (!mode_b) {
          char what[64];
          snprintf(what, sizeof what, "cycle of host write %zu", a.nw);
          ck.eq(c_busy, what, s + w.at, cyc);
        }
      }
      Event ev{a.index, waddr, wlen, std::string((const char *)wd, n)};
      if (mode_b && ref_trace) {
        if (ref_pos >= ref_trace->size()) ck.fail(c_trace, "write beyond mode a's %zu writes", ref_trace->size());
        else {
          const Event &r = (*ref_trace)[ref_pos];
          if (r.instr != ev.instr || r.addr != ev.addr || r.len != ev.len || r.data != ev.data)
            ck.fail(c_trace, "write %zu: mode a had instr %d 0x%08x/%u, mode b instr %d 0x%08x/%u (or other data)",
                    ref_pos, r.instr, r.addr, r.len, ev.instr, ev.addr, ev.len);
          else ck.ok(c_trace);
        }
        ref_pos++;
      }
      trace.push_back(ev);
      a.nw++;
      a.last_write = cyc;
    }
    if (valid && !ready) n_stall++;
    prev_pending = valid && !ready;
    prev_addr = waddr;
    prev_len = wlen;
    memcpy(prev_data, wd, N);

    if (dut->retire_o) {
      if (!busy) ck.fail(c_outside, "retire_o while not busy");
      a.nretire++;
      a.retire_at = cyc;
    }
    if (dut->dma_bytes_o) {
      if (!busy) ck.fail(c_outside, "dma_bytes_o = %u while not busy", dut->dma_bytes_o);
      a.dma += dut->dma_bytes_o;
    }

    dut->clk_i = 1;
    dut->eval();
    if (sp_re && raddr < ROWS16) memcpy(sp_rdata, &sp[(size_t)raddr * N], N);  // held until the next read
    if (acc_re && raddr < ROWS16)
      for (int c = 0; c < N; c++) wr_i32(&acc_rdata[4 * c], acc[(size_t)raddr * N + c]);
    cyc++;
  }

  void finish() {
    if (!a.x) return;
    const Exp &e = a.e;
    ck.eq(c_wr, "number of host writes", e.w.size(), a.nw);
    ck.eq(c_rd, "number of row reads", e.r.size(), a.nr);
    ck.eq(c_retire, "retire_o pulses", 1, (uint64_t)a.nretire);
    if (a.nretire == 1) {
      ck.eq(c_retire, "retire_o cycle = last busy cycle", a.last_busy, a.retire_at);
      ck.eq(c_retire, "retire_o cycle = last write", a.last_write, a.retire_at);
    }
    ck.eq(c_dma, "dma_bytes_o total", e.dma, a.dma);
    ck.eq(c_busy, "first busy cycle = issue + 1", a.issue + 1, a.first_busy);
    ck.eq(c_busy, "busy_o contiguous", a.last_busy - a.first_busy + 1, a.busy_cycles);
    if (!mode_b) ck.eq(c_busy, "busy cycles (docs/timing.md)", e.dur, a.busy_cycles);
    else if (a.busy_cycles < e.dur) ck.eq(c_busy, "busy cycles at least the zero-wait duration", e.dur, a.busy_cycles);
    else ck.ok(c_busy);
    pb_hw_t hw = {(uint32_t)N, ROWS16, ROWS16, (uint32_t)HOST, 0};
    ck.eq(c_busy, "pb_timing_duration() = docs/timing.md", e.dur, (uint64_t)pb_timing_duration(&hw, &a.x->in));
  }

  void run(const std::vector<Instr> &prog, uint64_t seed) {
    Rng g(seed ^ 0x5b);
    sp.assign((size_t)ROWS16 * N, 0);
    for (auto &b : sp) b = (uint8_t)g.u32();
    acc.assign((size_t)ROWS16 * N, 0);
    for (auto &v : acc) v = g.u32();
    dut->rst_ni = 0;
    dut->clk_i = 0;
    dut->start_i = 0;
    dut->eval();
    dut->clk_i = 1;
    dut->eval();
    dut->rst_ni = 1;
    cycle(nullptr);
    for (size_t i = 0; i < prog.size(); i++) {
      const Instr &x = prog[i];
      for (int k = 0; k < x.gap; k++) cycle(nullptr);
      Fields f = fields_of(x.in);
      if (x.sp_fill_seed) {
        Rng fg(x.sp_fill_seed);
        for (uint32_t r = 0; r < f.rows; r++)
          for (int c = 0; c < N; c++) {
            if (f.acc) acc[(size_t)(f.sp_addr + r) * N + c] = fg.u32();
            else sp[(size_t)(f.sp_addr + r) * N + c] = (uint8_t)fg.u32();
          }
      }
      for (auto &row : x.sp_fill) memcpy(&sp[(size_t)row.first * N], row.second.data(), N);
      for (auto &row : x.acc_fill) memcpy(&acc[(size_t)row.first * N], row.second.data(), 4 * N);
      a = Active();
      a.x = &x;
      a.index = (int)i;
      a.f = f;
      a.e = expect(f, sp, acc);
      cycle(&x);
      int64_t limit = cyc + 50 * (a.e.dur + 10) + 1000;
      while (dut->busy_o && cyc < limit) cycle(nullptr);
      if (dut->busy_o) {
        ck.fail(c_busy, "busy_o still high after %" PRId64 " cycles: the rest of this run is skipped",
                50 * (a.e.dur + 10) + 1000);
        finish();
        return;
      }
      finish();
    }
    for (int k = 0; k < 4; k++) cycle(nullptr);
  }
};

// ---- hand-checkable cases, with literal expected writes ----
static std::vector<Instr> hand_program() {
  std::vector<Instr> p;
  auto mk = [&](uint32_t rows, uint32_t cols, uint32_t sp_col, uint32_t sp_addr, uint32_t stride, uint32_t ha) {
    Instr x;
    memset(&x.in, 0, sizeof x.in);
    x.in.op = PB_OP_STORE;
    set_field(&x.in, "rows", rows), set_field(&x.in, "cols", cols), set_field(&x.in, "sp_col", sp_col);
    set_field(&x.in, "sp_addr", sp_addr), set_field(&x.in, "host_stride", stride), set_field(&x.in, "host_addr", ha);
    x.pc = (uint32_t)p.size();
    return x;
  };
  // sp[5] = 10 11 12 13 ..., sp[6] = 20 21 22 23 ...
  std::vector<uint8_t> r5(N), r6(N);
  for (int c = 0; c < N; c++) r5[c] = (uint8_t)(10 + c), r6[c] = (uint8_t)(20 + c);
  // 0: STORE rows=2 cols=2 sp_col=1 sp_addr=5 host_stride=3 host_addr=0x100 -> 0x100: 11 12, 0x103: 21 22
  Instr x = mk(2, 2, 1, 5, 3, 0x100);
  x.sp_fill.push_back({5, r5});
  x.sp_fill.push_back({6, r6});
  p.push_back(x);
  // 1: STORE rows=1 cols=N sp_col=0 sp_addr=6 host_addr=0x200 -> 20 21 22 ...
  p.push_back(mk(1, N, 0, 6, 0, 0x200));
  // 2: STORE rows=3 cols=1 sp_col=N-1 sp_addr=4 host_stride=0 host_addr=0x300: three writes to 0x300
  x = mk(3, 1, N - 1, 4, 0, 0x300);
  std::vector<uint8_t> r4(N, 0x44);
  x.sp_fill.push_back({4, r4});
  p.push_back(x);
  // 3: STORE_ACC rows=2 cols=N acc_addr=7 host_stride=0x1000 host_addr=0x400, acc[7][c] = 0x11223300 + c,
  //    acc[8][c] = -(c+1): row 7 -> 0x400 + j*N (j < 4), row 8 -> 0x1400 + j*N
  memset(&x.in, 0, sizeof x.in);
  x.in.op = PB_OP_STORE_ACC;
  set_field(&x.in, "rows", 2), set_field(&x.in, "acc_addr", 7), set_field(&x.in, "host_stride", 0x1000);
  set_field(&x.in, "cols", N);
  set_field(&x.in, "host_addr", 0x400);
  x.pc = (uint32_t)p.size();
  x.sp_fill.clear();
  std::vector<uint32_t> a7(N), a8(N);
  for (int c = 0; c < N; c++) a7[c] = 0x11223300u + (uint32_t)c, a8[c] = (uint32_t)-(c + 1);
  x.acc_fill.push_back({7, a7});
  x.acc_fill.push_back({8, a8});
  p.push_back(x);
  // 4: STORE_ACC rows=1 cols=1 acc_addr=8 host_addr=0x2000 -> one 4-byte write ff ff ff ff (lane 0 = -1)
  x.acc_fill.clear();
  set_field(&x.in, "rows", 1), set_field(&x.in, "cols", 1), set_field(&x.in, "acc_addr", 8);
  set_field(&x.in, "host_stride", 0), set_field(&x.in, "host_addr", 0x2000);
  x.pc = (uint32_t)p.size();
  p.push_back(x);
  return p;
}

static void hand_literals(Tb &tb) {
  int cat = tb.ck.add("hand cases: literal writes");
  tb.ck.ctx_fn = nullptr;
  // d: the first bytes of the write; len: its length (0: d.size())
  auto expect_w = [&](size_t k, uint32_t addr, const std::vector<uint8_t> &d, size_t len = 0) {
    tb.ck.ctx = "hand case write " + std::to_string(k);
    if (k >= tb.trace.size()) {
      tb.ck.fail(cat, "write missing");
      return;
    }
    const Event &e = tb.trace[k];
    tb.ck.eq(cat, "address", addr, e.addr);
    tb.ck.eq(cat, "length", len ? len : d.size(), e.len);
    for (size_t i = 0; i < d.size() && i < e.data.size(); i++) tb.ck.eq(cat, "byte", d[i], (uint8_t)e.data[i]);
  };
  expect_w(0, 0x100, {11, 12});
  expect_w(1, 0x103, {21, 22});
  std::vector<uint8_t> row6(N);
  for (int c = 0; c < N; c++) row6[c] = (uint8_t)(20 + c);
  expect_w(2, 0x200, row6);
  expect_w(3, 0x300, {0x44});                 // row 4, lane N-1
  expect_w(4, 0x300, {(uint8_t)(10 + N - 1)});  // row 5
  expect_w(5, 0x300, {(uint8_t)(20 + N - 1)});  // row 6
  // STORE_ACC: write j of a row starts with lane j*N/4, little-endian
  for (int j = 0; j < 4; j++) {
    expect_w(6 + j, 0x400 + j * N, {(uint8_t)(j * N / 4), 0x33, 0x22, 0x11}, N);
    uint8_t l = (uint8_t)(0x100 - (j * N / 4 + 1));  // -(lane + 1): low byte, then 0xff
    expect_w(10 + j, 0x1400 + j * N, {l, 0xff, 0xff, 0xff}, N);
  }
  expect_w(14, 0x2000, {0xff, 0xff, 0xff, 0xff});
  tb.ck.eq(cat, "number of writes", 15, tb.trace.size());
}

int main(int argc, char **argv) {
  Verilated::commandArgs(argc, argv);
  Verilated::randReset(2);
  const char *s = getenv("PB_SEED");
  uint64_t seed = s ? strtoull(s, nullptr, 0) : 1;
  const char *ni = getenv("PB_INSTRS");
  long ninstr = ni ? strtol(ni, nullptr, 0) : 2500;
  printf("tb_st: pb_st_unit N=%d, seed %" PRIu64 " (PB_SEED), %ld random instructions per mode\n", N, seed, ninstr);
  int passed = 0, failed = 0;
  {
    std::vector<Instr> hp = hand_program();
    Tb tb("hand", false, seed);
    tb.run(hp, seed);
    hand_literals(tb);
    tb.ck.report(&passed, &failed);
  }
  Rng g(seed);
  std::vector<Instr> prog;
  for (long i = 0; i < ninstr; i++) prog.push_back(gen(g));
  std::vector<Event> trace_a;
  for (int m = 0; m < 2; m++) {
    Tb tb(m ? "mode b (random ready)" : "mode a (zero wait states)", m == 1, seed);
    if (m) tb.ref_trace = &trace_a;
    tb.run(prog, seed);
    if (m) {
      tb.ck.ctx_fn = nullptr;
      tb.ck.ctx = "end of the program";
      tb.ck.eq(tb.c_trace, "number of writes (mode a vs mode b)", trace_a.size(), tb.trace.size());
    } else {
      trace_a = tb.trace;
    }
    printf("     %s: %" PRId64 " cycles; %zu STOREs and STORE_ACCs, %zu host writes, %ld write cycles not ready\n", tb.ck.prefix.c_str(),
           tb.cyc, prog.size(), tb.trace.size(), tb.n_stall);
    tb.ck.report(&passed, &failed);
  }
  printf("# tb_st_n%d: %d passed, %d failed\n", N, passed, failed);
  return failed ? 1 : 0;
}
