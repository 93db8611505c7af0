// SPDX-License-Identifier: Apache-2.0
// The virtual platform of the `systemc` backend: memory, router, accelerator and the host thread.
#include "platform.h"

#include <algorithm>
#include <cstdio>

extern "C" {
#include "protobrain/isa.h"
}

using namespace sc_core;

namespace pbsc {

// ---- host ----

host::host(sc_module_name name, const pb_hw_t &hw, const sc_time &period, uint64_t max_cycles)
    : sc_module(name), bus("bus"), irq("irq"), rst_n("rst_n"), hw_(hw), period_(period), max_cycles_(max_cycles) {
  SC_THREAD(main_thread);
}

run_result host::run(uint8_t *image, uint32_t prog_addr, uint32_t prog_len) {
  image_ = image;
  prog_addr_ = prog_addr;
  prog_len_ = prog_len;
  res_ = run_result();
  busy_ = true;
  go_.notify(SC_ZERO_TIME);
  sc_start();  // until the host thread pauses the simulation
  if (busy_) {
    busy_ = false;
    res_.ok = false;
    res_.error = "the simulation stopped before the run completed";
  }
  return res_;
}

void host::main_thread() {
  rst_n.write(true);
  for (;;) {
    wait(go_);
    job(res_);
    busy_ = false;
    sc_pause();
  }
}

bool host::access(tlm::tlm_command cmd, uint64_t addr, uint8_t *data, uint32_t len, sc_time &d) {
  tlm::tlm_generic_payload tr;
  tr.set_command(cmd);
  tr.set_address(addr);
  tr.set_data_ptr(data);
  tr.set_data_length(len);
  tr.set_streaming_width(len);
  tr.set_byte_enable_ptr(nullptr);
  tr.set_dmi_allowed(false);
  tr.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  bus->b_transport(tr, d);
  if (tr.is_response_error()) {
    char m[160];
    snprintf(m, sizeof m, "host %s of %u bytes at 0x%llx: %s", cmd == tlm::TLM_READ_COMMAND ? "read" : "write", len,
             (unsigned long long)addr, tr.get_response_string().c_str());
    res_.error = m;
    return false;
  }
  return true;
}

bool host::reg_write(uint32_t off, uint32_t v, sc_time &d) {
  uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
  return access(tlm::TLM_WRITE_COMMAND, kAccelBase + off, b, 4, d);
}

bool host::reg_read(uint32_t off, uint32_t *v, sc_time &d) {
  uint8_t b[4];
  if (!access(tlm::TLM_READ_COMMAND, kAccelBase + off, b, 4, d)) return false;
  *v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
  return true;
}

bool host::reg_read64(uint32_t off, uint64_t *v, sc_time &d) {
  uint32_t lo, hi;
  if (!reg_read(off, &lo, d) || !reg_read(off + 4, &hi, d)) return false;
  *v = (uint64_t)hi << 32 | lo;
  return true;
}

void host::job(run_result &r) {
  const uint32_t chunk = 64 * 1024;
  sc_time d = SC_ZERO_TIME;
  // 1. the driver's image -> system memory (program, constants, inputs)
  for (uint32_t a = 0; a < hw_.host_bytes; a += chunk)
    if (!access(tlm::TLM_WRITE_COMMAND, kMemBase + a, image_ + a, std::min(chunk, hw_.host_bytes - a), d)) return;
  // 2. the accelerator is the one the program was built for
  const uint32_t want[5] = {hw_.n, hw_.sp_rows, hw_.acc_rows, hw_.host_bytes, PB_ISA_VERSION};
  const char *what[5] = {"HW_N", "HW_SP_ROWS", "HW_ACC_ROWS", "HW_HOST_BYTES", "ISA_VERSION"};
  for (int i = 0; i < 5; i++) {
    uint32_t v;
    if (!reg_read(i < 4 ? REG_HW_N + 4u * i : (uint32_t)REG_ISA_VERSION, &v, d)) return;
    if (v != want[i]) {
      char m[128];
      snprintf(m, sizeof m, "the accelerator's %s register reads %u, the program needs %u", what[i], v, want[i]);
      r.error = m;
      return;
    }
  }
  // 3. program and start
  if (!reg_write(REG_PROG_ADDR, prog_addr_, d) || !reg_write(REG_PROG_LEN, prog_len_, d) || !reg_write(REG_CTRL, 1, d))
    return;
  wait(d);  // loosely timed: catch up with the local time of the accesses
  d = SC_ZERO_TIME;
  r.start = sc_time_stamp();
  // 4. the interrupt, or the watchdog
  const uint64_t max_ps = ~0ull - sc_time_stamp().value();  // a watchdog beyond the end of time is none
  const sc_time limit =
      sc_time::from_value(max_cycles_ > max_ps / period_.value() ? max_ps : period_.value() * max_cycles_);
  wait(limit, irq.posedge_event());
  if (!irq.read()) {
    char m[200];
    snprintf(m, sizeof m,
             "watchdog: no interrupt within %llu cycles (%s simulated) of the start; the accelerator was reset",
             (unsigned long long)max_cycles_, limit.to_string().c_str());
    r.error = m;
    rst_n.write(false);
    wait(4 * period_);
    rst_n.write(true);
    wait(2 * period_);
    return;
  }
  r.end = sc_time_stamp();
  // 5. status and counters
  uint32_t status;
  if (!reg_read(REG_STATUS, &status, d) || !reg_read(REG_FAULT_PC, &r.fault_pc, d) ||
      !reg_read64(REG_CYCLES, &r.cycles, d) || !reg_read64(REG_ARRAY_BUSY, &r.array_busy, d) ||
      !reg_read64(REG_INSTRS, &r.instrs, d) || !reg_read64(REG_DMA_BYTES, &r.dma_bytes, d) ||
      !reg_read64(REG_STALLS, &r.stalls, d))
    return;
  r.state = status & 3u;
  r.err = (status >> 4) & 15u;
  // 6. system memory -> the driver's image (outputs)
  for (uint32_t a = 0; a < hw_.host_bytes; a += chunk)
    if (!access(tlm::TLM_READ_COMMAND, kMemBase + a, image_ + a, std::min(chunk, hw_.host_bytes - a), d)) return;
  wait(d);
  r.ok = true;
}

// ---- platform ----

platform::platform(sc_module_name name, const pb_hw_t &hw, const std::string &model, const sc_time &period,
                   uint64_t max_cycles)
    : sc_module(name), mem("mem", hw.host_bytes), bus("bus"), cpu("cpu", hw, period, max_cycles), irq("irq"),
      rst_n("rst_n", true) {
  acc = make_accel("accel", hw, model, period, 0, &error_);
  if (!acc) return;
  cpu.bus.bind(bus.in);
  acc->dma.bind(bus.in);
  bus.out.bind(mem.socket);
  bus.out.bind(acc->regs);
  bus.map(0, kMemBase, hw.host_bytes);
  bus.map(1, kAccelBase, REG_WINDOW);
  acc->irq(irq);
  acc->rst_n(rst_n);
  cpu.irq(irq);
  cpu.rst_n(rst_n);
}

platform::~platform() { delete acc; }

run_result platform::run(uint8_t *image, uint32_t prog_addr, uint32_t prog_len) {
  run_result r = cpu.run(image, prog_addr, prog_len);
  std::string be = acc->take_bus_error();
  if (!be.empty()) {
    r.ok = false;
    r.error = be;
  }
  if (r.ok && r.end - r.start != sc_time::from_value(acc->clock_period().value() * r.cycles)) {
    r.ok = false;
    r.error = "simulated time " + (r.end - r.start).to_string() + " is not CYCLES x the clock period (" +
              std::to_string(r.cycles) + " x " + acc->clock_period().to_string() + ")";
  }
  return r;
}

}  // namespace pbsc
