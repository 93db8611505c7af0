// SPDX-License-Identifier: Apache-2.0
// The `ref` accelerator: the C reference model (sim/refmodel.c) as a loosely-timed TLM target.
//
// On start the model's host image is mirrored from system memory through the dma socket (all of
// host_bytes, in 64 KiB reads), the model runs to HALT or error, and after the run's time,
// cycles x period from the timing model, the bytes the program wrote to host memory (recorded by
// the model's write hook, merged into ranges) are written back through the dma socket; then irq
// rises. Scratchpad and accumulator live in the model and persist between runs, as SRAMs do.
// Latency annotated by the memory on the mirror transfers is not added: the timing model assumes
// a zero-wait-state memory.
#include <algorithm>
#include <cstring>

#include "rtl_configs.h"

extern "C" {
#include "refmodel.h"
}

using namespace sc_core;

namespace pbsc {
namespace {

class accel_ref : public accel {
 public:
  SC_HAS_PROCESS(accel_ref);
  accel_ref(sc_module_name name, const pb_hw_t &hw, const sc_time &period, uint64_t dma_base, pb_model_t *m)
      : accel(name, hw, period, dma_base), m_(m) {
    pb_model_set_write_hook(m_, &accel_ref::hook, this);
    SC_THREAD(run_thread);
    SC_METHOD(drive_irq);
    sensitive << irq_ev_;
    SC_METHOD(on_reset);
    sensitive << rst_n.neg();
    dont_initialize();
  }
  ~accel_ref() override { pb_model_free(m_); }
  const char *model() const override { return "ref"; }

 private:
  struct span {
    uint32_t addr, len;
  };

  static void hook(void *ctx, uint32_t, pb_mem_t mem, uint32_t addr, const uint8_t *, uint32_t len) {
    accel_ref *a = static_cast<accel_ref *>(ctx);
    if (mem != PB_MEM_HOST || !len) return;
    if (!a->dirty_.empty() && a->dirty_.back().addr + a->dirty_.back().len == addr)
      a->dirty_.back().len += len;
    else
      a->dirty_.push_back({addr, len});
  }

  void reg_write(uint32_t off, uint32_t v, sc_time &delay) override {
    if (state_ == PB_STATE_RUNNING || !rst_n.read()) return;
    if (off == REG_PROG_ADDR) prog_addr_ = v;
    if (off == REG_PROG_LEN) prog_len_ = v;
    if (off == REG_CTRL && (v & 1u)) {
      // the run starts at the caller's local time (loosely timed: the write's annotated delay)
      state_ = PB_STATE_RUNNING;
      err_ = 0;
      fault_pc_ = 0;
      memset(&cnt_, 0, sizeof cnt_);
      t0_ = sc_time_stamp() + delay;
      start_ev_.notify(delay);
    }
  }

  uint32_t reg_read(uint32_t off, sc_time &delay) override {
    uint64_t cycles = cnt_.cycles;  // while running: the cycles elapsed (the other counters read 0)
    sc_time now = sc_time_stamp() + delay;
    if (state_ == PB_STATE_RUNNING) cycles = now > t0_ ? (now - t0_).value() / period_.value() : 0;
    switch (off) {
      case REG_STATUS: return (uint32_t)state_ | err_ << 4;
      case REG_PROG_ADDR: return prog_addr_;
      case REG_PROG_LEN: return prog_len_;
      case REG_FAULT_PC: return fault_pc_;
      case REG_CYCLES: return (uint32_t)cycles;
      case REG_CYCLES + 4: return (uint32_t)(cycles >> 32);
      case REG_ARRAY_BUSY: return (uint32_t)cnt_.array_busy;
      case REG_ARRAY_BUSY + 4: return (uint32_t)(cnt_.array_busy >> 32);
      case REG_INSTRS: return (uint32_t)cnt_.instrs;
      case REG_INSTRS + 4: return (uint32_t)(cnt_.instrs >> 32);
      case REG_DMA_BYTES: return (uint32_t)cnt_.dma_bytes;
      case REG_DMA_BYTES + 4: return (uint32_t)(cnt_.dma_bytes >> 32);
      case REG_HW_N: return hw_.n;
      case REG_HW_SP_ROWS: return hw_.sp_rows;
      case REG_HW_ACC_ROWS: return hw_.acc_rows;
      case REG_HW_HOST_BYTES: return hw_.host_bytes;
      case REG_ISA_VERSION: return PB_ISA_VERSION;
      default: return 0;  // STALLS (always 0: the model has no wait states) and unmapped offsets
    }
  }

  void run_thread() {
    for (;;) {
      wait(start_ev_);  // at t0_
      set_irq(false);
      aborted_ = false;
      run_once();
    }
  }

  void run_once() {
    uint8_t *host = pb_model_host(m_);
    sc_time d = SC_ZERO_TIME;  // memory latency of the mirror transfers: not part of the timing model
    bool ok = true;
    for (uint32_t a = 0; ok && a < hw_.host_bytes; a += kChunk)
      ok = dma_read(a, host + a, std::min<uint32_t>(kChunk, hw_.host_bytes - a), d);
    if (!ok) return finish(PB_STATE_ERROR, 0, 0);  // a bus error (take_bus_error() says which)
    dirty_.clear();
    pb_model_start(m_, prog_addr_, prog_len_);
    pb_state_t s = pb_model_run(m_, 0);  // programs have no branches: at most PROG_LEN instructions
    const pb_model_counters_t *c = pb_model_counters(m_);
    // the run takes the timing model's cycles
    wait(sc_time::from_value(c->cycles * period_.value()), abort_ev_);
    if (aborted_) return;
    std::sort(dirty_.begin(), dirty_.end(), [](const span &x, const span &y) { return x.addr < y.addr; });
    for (size_t i = 0; ok && i < dirty_.size();) {
      uint32_t lo = dirty_[i].addr, hi = lo + dirty_[i].len;
      for (i++; i < dirty_.size() && dirty_[i].addr <= hi; i++) hi = std::max(hi, dirty_[i].addr + dirty_[i].len);
      ok = dma_write(lo, host + lo, hi - lo, d);
    }
    cnt_ = *c;
    finish(ok ? s : PB_STATE_ERROR, ok ? (unsigned)pb_model_error(m_) : 0, pb_model_pc(m_));
  }

  void finish(pb_state_t s, unsigned err, uint32_t pc) {
    state_ = s;
    err_ = s == PB_STATE_ERROR ? err : 0;
    fault_pc_ = pc;
    set_irq(true);
  }

  // irq has one driver (drive_irq); the run thread and the reset method set the level through it
  void set_irq(bool v) {
    irq_level_ = v;
    irq_ev_.notify(SC_ZERO_TIME);
  }
  void drive_irq() { irq.write(irq_level_); }

  void on_reset() {
    aborted_ = true;
    abort_ev_.notify();
    start_ev_.cancel();
    state_ = PB_STATE_IDLE;
    err_ = 0;
    prog_addr_ = prog_len_ = fault_pc_ = 0;
    memset(&cnt_, 0, sizeof cnt_);
    set_irq(false);
  }

  static constexpr uint32_t kChunk = 64 * 1024;
  pb_model_t *m_;
  std::vector<span> dirty_;
  sc_event start_ev_, abort_ev_, irq_ev_;
  bool irq_level_ = false, aborted_ = false;
  pb_state_t state_ = PB_STATE_IDLE;
  unsigned err_ = 0;
  uint32_t prog_addr_ = 0, prog_len_ = 0, fault_pc_ = 0;
  pb_model_counters_t cnt_{};
  sc_time t0_;
};

}  // namespace

accel *make_accel_ref(sc_module_name name, const pb_hw_t &hw, const sc_time &period, uint64_t dma_base) {
  pb_model_t *m = pb_model_new(&hw);
  if (!m) return nullptr;
  return new accel_ref(name, hw, period, dma_base, m);
}

}  // namespace pbsc
