// SPDX-License-Identifier: Apache-2.0
// The virtual platform behind the `systemc` backend:
//
//   cpu (host) --+                 +--> mem     [0, host_bytes)          system memory
//                +--> bus (router) +
//   accel.dma ---+                 +--> accel.regs [0x80000000, +0x100)  registers
//   accel.irq ---------------------------> cpu.irq;   cpu.rst_n --> accel.rst_n
//
// The host thread performs the driver's backend operations for one run(): write the driver's
// host-memory image into mem (program, constants, inputs), check the accelerator's HW_* and
// ISA_VERSION registers, program PROG_ADDR/PROG_LEN, start through CTRL, wait for irq under a
// simulated-time watchdog, read STATUS, FAULT_PC and the counters, read mem back into the image.
#ifndef PB_SIM_SYSTEMC_PLATFORM_H
#define PB_SIM_SYSTEMC_PLATFORM_H

#include <string>

#include "pb_tlm.h"

namespace pbsc {

constexpr uint64_t kMemBase = 0x00000000u;
constexpr uint64_t kAccelBase = 0x80000000u;  // above any host memory (host_bytes <= 2^31)

struct run_result {
  bool ok = false;        // false: a platform failure (watchdog, bus error, register mismatch), see error
  std::string error;
  unsigned state = 0;     // STATUS[1:0]: 2 DONE, 3 ERROR
  unsigned err = 0;       // STATUS[7:4]
  uint32_t fault_pc = 0;
  uint64_t cycles = 0, array_busy = 0, instrs = 0, dma_bytes = 0, stalls = 0;
  sc_core::sc_time start, end;  // the start write took effect / irq rose
};

class host : public sc_core::sc_module {
 public:
  tlm_utils::simple_initiator_socket<host> bus;
  sc_core::sc_in<bool> irq;
  sc_core::sc_out<bool> rst_n;

  SC_HAS_PROCESS(host);
  host(sc_core::sc_module_name name, const pb_hw_t &hw, const sc_core::sc_time &period, uint64_t max_cycles);
  // From outside the simulation (between sc_start calls): one run, simulated to completion.
  run_result run(uint8_t *image, uint32_t prog_addr, uint32_t prog_len);

 private:
  void main_thread();
  void job(run_result &r);
  bool access(tlm::tlm_command cmd, uint64_t addr, uint8_t *data, uint32_t len, sc_core::sc_time &d);
  bool reg_write(uint32_t off, uint32_t v, sc_core::sc_time &d);
  bool reg_read(uint32_t off, uint32_t *v, sc_core::sc_time &d);
  bool reg_read64(uint32_t off, uint64_t *v, sc_core::sc_time &d);

  const pb_hw_t hw_;
  const sc_core::sc_time period_;
  const uint64_t max_cycles_;
  sc_core::sc_event go_;
  bool busy_ = false;
  uint8_t *image_ = nullptr;
  uint32_t prog_addr_ = 0, prog_len_ = 0;
  run_result res_;
};

class platform : public sc_core::sc_module {
 public:
  memory mem;
  router bus;
  host cpu;
  accel *acc = nullptr;  // owned
  sc_core::sc_signal<bool> irq, rst_n;

  // max_cycles: the watchdog, in clock cycles from the start write. Check ok() after construction.
  platform(sc_core::sc_module_name name, const pb_hw_t &hw, const std::string &model, const sc_core::sc_time &period,
           uint64_t max_cycles);
  ~platform() override;
  bool ok() const { return acc != nullptr; }
  const std::string &error() const { return error_; }
  run_result run(uint8_t *image, uint32_t prog_addr, uint32_t prog_len);

 private:
  std::string error_;
};

}  // namespace pbsc

#endif
