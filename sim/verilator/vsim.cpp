// SPDX-License-Identifier: Apache-2.0
// Thin C++ glue between the Verilated pb_core and the C interface of vsim.h: clocking, the
// zero-wait-state host memory, FST tracing. Built once per configuration with
//   -DVSIM_TOP=Vpb_core_<cfg> -DVSIM_HDR='"Vpb_core_<cfg>.h"' -DVSIM_OPS=pb_vsim_<cfg>
//   -DVSIM_NAME='"<cfg>"' -DVSIM_N=.. -DVSIM_SP=.. -DVSIM_ACC=.. -DVSIM_HOST=.. [-DVSIM_RQ=..]
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <type_traits>

#include VSIM_HDR
#include "verilated.h"
#include "verilated_fst_c.h"
#include "vsim.h"

namespace {

// ---- bit packing between byte arrays and Verilator signal types ----
template <typename T>
typename std::enable_if<std::is_integral<T>::value>::type set_bytes(T &s, const uint8_t *b, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n && i < (int)sizeof(T); i++) v |= (uint64_t)b[i] << (8 * i);
  s = (T)v;
}
template <std::size_t W> void set_bytes(VlWide<W> &s, const uint8_t *b, int n) {
  for (std::size_t w = 0; w < W; w++) {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
      int k = (int)w * 4 + i;
      if (k < n) v |= (uint32_t)b[k] << (8 * i);
    }
    s[w] = v;
  }
}
template <typename T>
typename std::enable_if<std::is_integral<T>::value>::type get_bytes(const T &s, uint8_t *b, int n) {
  uint64_t v = (uint64_t)s;
  for (int i = 0; i < n; i++) b[i] = i < (int)sizeof(T) ? (uint8_t)(v >> (8 * i)) : 0;
}
template <std::size_t W> void get_bytes(const VlWide<W> &s, uint8_t *b, int n) {
  for (int k = 0; k < n; k++) b[k] = (uint8_t)(s[k / 4] >> (8 * (k % 4)));
}

struct Pending {
  bool v = false;
  uint32_t addr = 0, len = 0;
};

}  // namespace

struct pb_vsim {
  VerilatedContext *ctx;
  VSIM_TOP *top;
  VerilatedFstC *tfp;  // stays NULL in builds without tracing (VM_TRACE=0)
  uint64_t time;
  uint8_t *host;
  Pending pend_if, pend_rd;
  unsigned bp_num;
  uint64_t bp_state;
};

#ifndef VSIM_RQ
#define VSIM_RQ 0  // requantizer lanes: 0 = N (the core's default RQ_LANES)
#endif
static const pb_hw_t kHw = {VSIM_N, VSIM_SP, VSIM_ACC, VSIM_HOST, VSIM_RQ};

static void half(pb_vsim *v, int clk) {
  v->top->clk_i = clk;
  v->top->eval();
  if (v->tfp) v->tfp->dump(v->time);
  v->time++;
}

static int rnd_ready(pb_vsim *v) {
  if (!v->bp_num) return 1;
  v->bp_state ^= v->bp_state << 13, v->bp_state ^= v->bp_state >> 7, v->bp_state ^= v->bp_state << 17;
  return (unsigned)(v->bp_state >> 56) >= v->bp_num;
}

static int vs_step(pb_vsim *v, pb_vsim_cycle_t *ev) {
  VSIM_TOP *t = v->top;
  int rc = 0;
  uint8_t buf[PB_VSIM_MAX_N + 16];
  // responses to last cycle's requests (read at response time)
  t->if_rsp_valid_i = v->pend_if.v;
  if (v->pend_if.v) set_bytes(t->if_rsp_data_i, v->host + v->pend_if.addr, 16);
  t->rd_rsp_valid_i = v->pend_rd.v;
  if (v->pend_rd.v) {
    memset(buf, 0, sizeof buf);
    memcpy(buf, v->host + v->pend_rd.addr, v->pend_rd.len);
    set_bytes(t->rd_rsp_data_i, buf, VSIM_N);
  }
  t->if_req_ready_i = rnd_ready(v);
  t->rd_req_ready_i = rnd_ready(v);
  t->wr_req_ready_i = rnd_ready(v);
  half(v, 0);
  // sample requests and debug outputs
  v->pend_if.v = t->if_req_valid_o && t->if_req_ready_i;
  v->pend_if.addr = t->if_req_addr_o;
  if (v->pend_if.v && (uint64_t)v->pend_if.addr + 16 > VSIM_HOST) {
    fprintf(stderr, "vsim: instruction fetch at 0x%x outside host memory\n", v->pend_if.addr);
    v->pend_if.v = false;
    rc = -1;
  }
  v->pend_rd.v = t->rd_req_valid_o && t->rd_req_ready_i;
  v->pend_rd.addr = t->rd_req_addr_o;
  v->pend_rd.len = t->rd_req_len_o;
  if (v->pend_rd.v && ((uint64_t)v->pend_rd.addr + v->pend_rd.len > VSIM_HOST || v->pend_rd.len > VSIM_N)) {
    fprintf(stderr, "vsim: host read at 0x%x, %u bytes, outside host memory\n", v->pend_rd.addr, v->pend_rd.len);
    v->pend_rd.v = false;
    rc = -1;
  }
  bool wr = t->wr_req_valid_o && t->wr_req_ready_i;
  uint32_t waddr = t->wr_req_addr_o, wlen = t->wr_req_len_o;
  if (wr && ((uint64_t)waddr + wlen > VSIM_HOST || wlen > VSIM_N)) {
    fprintf(stderr, "vsim: host write at 0x%x, %u bytes, outside host memory\n", waddr, wlen);
    wr = false;
    rc = -1;
  }
  uint8_t wdata[PB_VSIM_MAX_N];
  if (wr) get_bytes(t->wr_req_data_o, wdata, VSIM_N);
  if (ev) {
    memset(ev, 0, sizeof *ev);
    ev->irq = t->irq_o;
    ev->issue = t->dbg_issue_o;
    ev->issue_pc = t->dbg_issue_pc_o;
    ev->retire = t->dbg_retire_o;
    uint8_t rp[20];
    get_bytes(t->dbg_retire_pc_o, rp, 20);
    for (int i = 0; i < 5; i++) memcpy(&ev->retire_pc[i], rp + 4 * i, 4);
    ev->sp_we = t->dbg_sp_we_o;
    if (ev->sp_we) {
      ev->sp_row = t->dbg_sp_waddr_o;
      ev->sp_mask = (uint64_t)t->dbg_sp_wmask_o;
      get_bytes(t->dbg_sp_wdata_o, ev->sp_data, VSIM_N);
      ev->sp_pc = t->dbg_ld_pc_o;
    }
    ev->acc_we = t->dbg_acc_we_o;
    if (ev->acc_we) {
      ev->acc_row = t->dbg_acc_waddr_o;
      ev->acc_pc = t->dbg_acc_wpc_o;
      get_bytes(t->dbg_acc_wdata_o, (uint8_t *)ev->acc_data, 4 * VSIM_N);
    }
    ev->host_we = wr;
    if (wr) {
      ev->host_addr = waddr;
      ev->host_len = wlen;
      ev->host_pc = t->dbg_st_pc_o;
      memcpy(ev->host_data, wdata, wlen);
    }
  }
  half(v, 1);
  if (wr) memcpy(v->host + waddr, wdata, wlen);
  return rc;
}

static pb_vsim *vs_create(const char *trace_path) {
  pb_vsim *v = (pb_vsim *)calloc(1, sizeof *v);
  if (!v) return nullptr;
  v->host = (uint8_t *)calloc(VSIM_HOST, 1);
  if (!v->host) {
    free(v);
    return nullptr;
  }
  v->ctx = new VerilatedContext;
  // registers start random (a missing reset shows up as a mismatch); PB_VSIM_RANDRESET=0|1 for all 0s / 1s
  const char *rr = getenv("PB_VSIM_RANDRESET");
  v->ctx->randReset(rr ? atoi(rr) : 2);
  if (getenv("PB_VSIM_SEED")) v->ctx->randSeed(atoi(getenv("PB_VSIM_SEED")));
  v->top = new VSIM_TOP(v->ctx);
  if (trace_path) {
#if VM_TRACE
    v->ctx->traceEverOn(true);
    v->tfp = new VerilatedFstC;
    v->top->trace(v->tfp, 99);
    v->tfp->open(trace_path);
#else
    fprintf(stderr, "vsim %s: built without tracing, %s not written\n", VSIM_NAME, trace_path);
#endif
  }
  // A falling reset edge before the first clock edge: every register with an asynchronous reset is
  // cleared before any clock edge could act on its random initial value (a random write enable
  // would otherwise corrupt the zero-initialized memories).
  v->top->reg_we_i = 0;
  v->top->clk_i = 0;
  v->top->rst_ni = 1;
  v->top->eval();
  v->top->rst_ni = 0;
  v->top->eval();
  for (int i = 0; i < 4; i++) {
    half(v, 0);
    half(v, 1);
  }
  v->top->rst_ni = 1;
  half(v, 0);
  half(v, 1);
  return v;
}

static void vs_destroy(pb_vsim *v) {
  if (!v) return;
  if (v->tfp) {
    v->tfp->close();
    delete v->tfp;
  }
  v->top->final();
  delete v->top;
  delete v->ctx;
  free(v->host);
  free(v);
}

static uint8_t *vs_host(pb_vsim *v) { return v->host; }

static void vs_reg_write(pb_vsim *v, uint32_t addr, uint32_t value) {
  v->top->reg_we_i = 1;
  v->top->reg_addr_i = addr;
  v->top->reg_wdata_i = value;
  vs_step(v, nullptr);
  v->top->reg_we_i = 0;
}

static uint32_t vs_reg_read(pb_vsim *v, uint32_t addr) {
  v->top->reg_addr_i = addr;
  v->top->eval();
  return v->top->reg_rdata_o;
}

static void vs_set_backpressure(pb_vsim *v, unsigned num, uint64_t seed) {
  v->bp_num = num > 255 ? 255 : num;
  v->bp_state = seed | 1;
}

extern "C" const pb_vsim_ops_t VSIM_OPS = {VSIM_NAME, kHw,        vs_create, vs_destroy,        vs_host,
                                           vs_reg_write, vs_reg_read, vs_step, vs_set_backpressure};
