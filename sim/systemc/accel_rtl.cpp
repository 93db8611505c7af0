// SPDX-License-Identifier: Apache-2.0
// The `rtl` accelerator: the Verilated pb_core (verilator --sc) on its own sc_clock, with an adapter
// between its pins and the TLM sockets. Built once per configuration (mk/systemc.mk) with
//   -DSC_TOP=Vpb_core_sc_<cfg> -DSC_HDR='"Vpb_core_sc_<cfg>.h"' -DSC_CFG=pbsc_rtl_<cfg> -DSC_NAME='"<cfg>"'
//   -DSC_N=.. -DSC_SP=.. -DSC_ACC=.. -DSC_HOST=..
//
// Timing (docs/systemc.md): the adapter is a zero-wait-state memory, as docs/timing.md assumes.
// Every request the core makes in a cycle is accepted (ready is always high) and turned, at the
// rising edge that ends the cycle, into one b_transport on the dma socket: the write first, then the
// instruction fetch and the read, whose data the core sees in the next cycle. A register write
// drives the register port from a falling edge to the next rising edge (one cycle); a register
// read drives the address and samples the combinational read data. So the core runs exactly as
// under sim/verilator/vsim.cpp, and the time from the rising edge that takes the start write to
// the rising edge after which irq is high is CYCLES x the clock period.
#include <cstdlib>
#include <cstring>
#include <type_traits>
#include <utility>

#include SC_HDR
#include "rtl_configs.h"

namespace pbsc {
namespace {

using sc_core::sc_time;

// ---- bytes <-> the C++ types Verilator gives the ports (bool, uint32_t, uint64_t, sc_bv<W>) ----
template <typename T>
typename std::enable_if<std::is_integral<T>::value>::type get_bytes(const T &v, uint8_t *b, int n) {
  for (int i = 0; i < n; i++) b[i] = i < (int)sizeof(T) ? (uint8_t)((uint64_t)v >> (8 * i)) : 0;
}
template <int W> void get_bytes(const sc_dt::sc_bv<W> &v, uint8_t *b, int n) {
  for (int i = 0; i < n; i++) b[i] = i < W / 8 ? (uint8_t)(v.get_word(i / 4) >> (8 * (i % 4))) : 0;
}
template <typename T>
typename std::enable_if<std::is_integral<T>::value>::type set_bytes(T &v, const uint8_t *b, int n) {
  uint64_t x = 0;
  for (int i = 0; i < n && i < (int)sizeof(T); i++) x |= (uint64_t)b[i] << (8 * i);
  v = (T)x;
}
template <int W> void set_bytes(sc_dt::sc_bv<W> &v, const uint8_t *b, int n) {
  for (int w = 0; w < (W + 31) / 32; w++) {
    sc_dt::sc_digit d = 0;
    for (int i = 0; i < 4; i++)
      if (4 * w + i < n) d |= (sc_dt::sc_digit)b[4 * w + i] << (8 * i);
    v.set_word(w, d);
  }
}

// The signal type of a port of the Verilated model.
#define PIN_T(port) typename std::remove_reference<decltype(std::declval<SC_TOP &>().port)>::type::data_type

// Ports of pb_core: X(port) for every output and input the adapter drives or reads (clk_i, rst_ni, the
// register write pins and the ready pins are declared separately).
#define PB_CORE_PINS(X)                                                                              \
  X(reg_rdata_o) X(irq_o) X(if_req_valid_o) X(if_req_addr_o) X(if_rsp_valid_i) X(if_rsp_data_i)       \
  X(rd_req_valid_o) X(rd_req_addr_o) X(rd_req_len_o) X(rd_rsp_valid_i) X(rd_rsp_data_i)               \
  X(wr_req_valid_o) X(wr_req_addr_o) X(wr_req_len_o) X(wr_req_data_o) X(dbg_issue_o) X(dbg_issue_pc_o) \
  X(dbg_retire_o) X(dbg_retire_pc_o) X(dbg_sp_we_o) X(dbg_sp_waddr_o) X(dbg_sp_wmask_o)                \
  X(dbg_sp_wdata_o) X(dbg_acc_we_o) X(dbg_acc_waddr_o) X(dbg_acc_wdata_o) X(dbg_acc_wpc_o)             \
  X(dbg_ld_pc_o) X(dbg_st_pc_o)

const pb_hw_t kHw = {SC_N, SC_SP, SC_ACC, SC_HOST, 0};  // rq_lanes 0: the core's default, N

class accel_rtl : public accel {
 public:
  SC_HAS_PROCESS(accel_rtl);
  accel_rtl(sc_core::sc_module_name name, const sc_time &period, uint64_t dma_base)
      : accel(name, kHw, period, dma_base),
        clk_("clk", period, 0.5, period, true),  // first rising edge at one period, after the reset fell
        rst_ni_("rst_ni", true),                 // falls in the first delta: the core's asynchronous reset
        reg_we_("reg_we", false), reg_addr_("reg_addr", 0), reg_wdata_("reg_wdata", 0) {
    // The model gets a Verilator context of its own: a --sc model takes the thread's current context at
    // construction and again for its initial values (first evaluation), and that one may belong to
    // another simulation that is deleted before this one. Registers start random, as in sim/verilator
    // (a missing reset shows up as a mismatch); PB_VSIM_RANDRESET=0|1 for all zeros / all ones.
    vctx_ = new VerilatedContext;  // becomes the thread's context
    const char *rr = getenv("PB_VSIM_RANDRESET");
    vctx_->randReset(rr ? atoi(rr) : 2);
    if (getenv("PB_VSIM_SEED")) vctx_->randSeed(atoi(getenv("PB_VSIM_SEED")));
    core_ = new SC_TOP("core");
    core_->clk_i(clk_);
    core_->rst_ni(rst_ni_);
    core_->reg_we_i(reg_we_);
    core_->reg_addr_i(reg_addr_);
    core_->reg_wdata_i(reg_wdata_);
#define BIND_PIN(p) core_->p(p##_);
    PB_CORE_PINS(BIND_PIN)
#undef BIND_PIN
    core_->if_req_ready_i(if_req_ready_i_);
    core_->rd_req_ready_i(rd_req_ready_i_);
    core_->wr_req_ready_i(wr_req_ready_i_);
    SC_THREAD(power_on_reset);
    SC_METHOD(drive_rst);
    sensitive << rst_n << por_ev_;
    SC_METHOD(drive_irq);
    sensitive << irq_o_;
    SC_THREAD(bus_thread);
  }
  ~accel_rtl() override {
    delete core_;
    if (Verilated::threadContextp() == vctx_) Verilated::threadContextp(nullptr);
    delete vctx_;
  }
  const char *model() const override { return "rtl"; }
  // the first evaluation (initial values) follows: it must see this model's context
  void start_of_simulation() override { Verilated::threadContextp(vctx_); }

 private:
  void power_on_reset() {
    for (int i = 0; i < 4; i++) wait(clk_.posedge_event());
    wait(clk_.negedge_event());
    por_done_ = true;
    por_ev_.notify();
  }
  void drive_rst() { rst_ni_.write(por_done_ && rst_n.read()); }
  void drive_irq() { irq.write(irq_o_.read()); }

  // Register accesses: the caller is a thread; it waits until the write has been clocked in.
  void sync(sc_time &delay) {
    if (delay > sc_core::SC_ZERO_TIME) wait(delay);
    delay = sc_core::SC_ZERO_TIME;
    while (!por_done_) wait(por_ev_);
    wait(clk_.negedge_event());
  }
  void reg_write(uint32_t off, uint32_t v, sc_time &delay) override {
    sync(delay);
    reg_addr_.write(off);
    reg_wdata_.write(v);
    reg_we_.write(true);
    wait(clk_.posedge_event());  // the edge that takes the write (a start: cycle 0 follows it)
    reg_we_.write(false);
  }
  uint32_t reg_read(uint32_t off, sc_time &delay) override {
    sync(delay);
    reg_addr_.write(off);
    wait(sc_core::SC_ZERO_TIME);  // the address reaches the core
    wait(sc_core::SC_ZERO_TIME);  // the core's combinational read data settles
    return reg_rdata_o_.read();
  }

  // The host-memory side of the core: at each rising edge, the requests of the cycle it ends.
  void bus_thread() {
    uint8_t buf[64 + 16];
    for (;;) {
      wait(clk_.posedge_event());
      if (!rst_ni_.read()) {
        if_rsp_valid_i_.write(false);
        rd_rsp_valid_i_.write(false);
        continue;
      }
      sc_time d = sc_core::SC_ZERO_TIME;  // a zero-wait-state memory: annotated latency is not modelled
      if (wr_req_valid_o_.read()) {
        uint32_t len = wr_req_len_o_.read();
        get_bytes(wr_req_data_o_.read(), buf, SC_N);
        if (len > SC_N) len = SC_N;  // never: the RTL writes at most N bytes
        dma_write(wr_req_addr_o_.read(), buf, len, d);
      }
      bool f = if_req_valid_o_.read();
      if (f) {
        if (!dma_read(if_req_addr_o_.read(), buf, 16, d)) memset(buf, 0, 16);
        PIN_T(if_rsp_data_i) v;
        set_bytes(v, buf, 16);
        if_rsp_data_i_.write(v);
      }
      if_rsp_valid_i_.write(f);
      bool r = rd_req_valid_o_.read();
      if (r) {
        uint32_t len = rd_req_len_o_.read();
        memset(buf, 0, sizeof buf);
        if (len > SC_N) len = SC_N;
        if (!dma_read(rd_req_addr_o_.read(), buf, len, d)) memset(buf, 0, sizeof buf);
        PIN_T(rd_rsp_data_i) v;
        set_bytes(v, buf, SC_N);
        rd_rsp_data_i_.write(v);
      }
      rd_rsp_valid_i_.write(r);
    }
  }

  VerilatedContext *vctx_ = nullptr;
  SC_TOP *core_ = nullptr;
  sc_core::sc_clock clk_;
  sc_core::sc_signal<bool> rst_ni_;
  // the register port may be driven by any initiator's thread
  sc_core::sc_signal<bool, sc_core::SC_MANY_WRITERS> reg_we_;
  sc_core::sc_signal<uint32_t, sc_core::SC_MANY_WRITERS> reg_addr_, reg_wdata_;
#define DECL_PIN(p) sc_core::sc_signal<PIN_T(p)> p##_{#p};
  PB_CORE_PINS(DECL_PIN)
#undef DECL_PIN
  // a zero-wait-state memory: every request is accepted in the cycle it is made
  sc_core::sc_signal<bool> if_req_ready_i_{"if_req_ready_i", true}, rd_req_ready_i_{"rd_req_ready_i", true},
      wr_req_ready_i_{"wr_req_ready_i", true};
  bool por_done_ = false;
  sc_core::sc_event por_ev_;
};

accel *create(sc_core::sc_module_name name, const sc_time &period, uint64_t dma_base) {
  return new accel_rtl(name, period, dma_base);
}

}  // namespace

extern const rtl_config SC_CFG;
const rtl_config SC_CFG = {SC_NAME, kHw, create};

}  // namespace pbsc
