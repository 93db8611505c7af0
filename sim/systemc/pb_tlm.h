// SPDX-License-Identifier: Apache-2.0
// The Protobrain accelerator as a SystemC/TLM-2.0 component, and the small parts a platform
// needs around it (memory, router). docs/systemc.md shows how to put it into your own platform.
//
//   accel (abstract): one of two interchangeable models behind the same sockets
//     regs  target socket      the register map of docs/architecture.md, 32-bit words at 0x00..0xff
//     dma   initiator socket   instruction fetch and DMA into system memory (address = dma_base + host address)
//     irq   sc_out<bool>       high while the core is DONE or ERROR (level; falls at the next start)
//     rst_n sc_in<bool>        active-low reset (hold it high; pulse it low to abort a run)
//   make_accel(..., "ref")  the C reference model, loosely timed: the run takes the timing model's cycles
//   make_accel(..., "rtl")  the Verilated RTL (verilator --sc) on its own clock, pins adapted to the sockets
#ifndef PB_SIM_SYSTEMC_PB_TLM_H
#define PB_SIM_SYSTEMC_PB_TLM_H

#include <cstdint>
#include <string>
#include <systemc>
#include <tlm>
#include <tlm_utils/multi_passthrough_initiator_socket.h>
#include <tlm_utils/multi_passthrough_target_socket.h>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>
#include <vector>

extern "C" {
#include "protobrain/pbin.h"
}

namespace pbsc {

// Register offsets (docs/architecture.md, "Register map").
enum : uint32_t {
  REG_CTRL = 0x00, REG_STATUS = 0x04, REG_PROG_ADDR = 0x08, REG_PROG_LEN = 0x0c, REG_FAULT_PC = 0x10,
  REG_CYCLES = 0x18, REG_ARRAY_BUSY = 0x20, REG_INSTRS = 0x28, REG_DMA_BYTES = 0x30, REG_STALLS = 0x38,
  REG_HW_N = 0x40, REG_HW_SP_ROWS = 0x44, REG_HW_ACC_ROWS = 0x48, REG_HW_HOST_BYTES = 0x4c,
  REG_ISA_VERSION = 0x50,
  REG_WINDOW = 0x100  // bytes of address space the register socket decodes
};

class accel : public sc_core::sc_module {
 public:
  tlm_utils::simple_target_socket<accel> regs;
  tlm_utils::simple_initiator_socket<accel> dma;
  sc_core::sc_out<bool> irq;
  sc_core::sc_in<bool> rst_n;

  const pb_hw_t &hw() const { return hw_; }
  const sc_core::sc_time &clock_period() const { return period_; }
  virtual const char *model() const = 0;  // "ref" or "rtl"
  // A DMA access that came back with an error response (a platform/model bug, not an accelerator
  // error: those are reported in STATUS). Empty when none; cleared by the call.
  std::string take_bus_error();

 protected:
  accel(sc_core::sc_module_name name, const pb_hw_t &hw, sc_core::sc_time period, uint64_t dma_base);
  // A checked register access: one aligned 32-bit word, offset < REG_WINDOW; *data is little-endian.
  virtual void reg_write(uint32_t offset, uint32_t value, sc_core::sc_time &delay) = 0;
  virtual uint32_t reg_read(uint32_t offset, sc_core::sc_time &delay) = 0;
  // Blocking DMA through the dma socket; false (and a recorded bus error) on an error response.
  bool dma_read(uint32_t addr, uint8_t *buf, uint32_t len, sc_core::sc_time &delay);
  bool dma_write(uint32_t addr, const uint8_t *buf, uint32_t len, sc_core::sc_time &delay);

  const pb_hw_t hw_;
  const sc_core::sc_time period_;
  const uint64_t dma_base_;

 private:
  void regs_b_transport(tlm::tlm_generic_payload &tr, sc_core::sc_time &delay);
  bool dma_transport(tlm::tlm_command cmd, uint32_t addr, uint8_t *buf, uint32_t len, sc_core::sc_time &delay);
  std::string bus_error_;
};

// Create an accelerator of `model` ("ref" or "rtl") for hardware `hw`. The rtl model exists only for
// the configurations Verilated into this binary (rtl_configs()). nullptr with *err on failure.
accel *make_accel(sc_core::sc_module_name name, const pb_hw_t &hw, const std::string &model,
                  const sc_core::sc_time &period, uint64_t dma_base, std::string *err);
// "sim4 (n=4 sp_rows=1024 acc_rows=512 host_bytes=1048576), sim16 (...)"
std::string rtl_configs();

// Zero-wait-state memory: b_transport (optionally with a fixed latency annotation) and transport_dbg.
class memory : public sc_core::sc_module {
 public:
  tlm_utils::simple_target_socket<memory> socket;
  memory(sc_core::sc_module_name name, uint64_t size, sc_core::sc_time latency = sc_core::SC_ZERO_TIME);
  uint8_t *data() { return bytes_.data(); }
  uint64_t size() const { return bytes_.size(); }

 private:
  void b_transport(tlm::tlm_generic_payload &tr, sc_core::sc_time &delay);
  unsigned int transport_dbg(tlm::tlm_generic_payload &tr);
  bool access(tlm::tlm_generic_payload &tr);
  std::vector<uint8_t> bytes_;
  sc_core::sc_time latency_;
};

// Address decoder: any number of initiators on `in`, targets on `out`; map(i, base, size) routes
// [base, base+size) to out[i] with the address made relative to base. Unmapped: address error.
class router : public sc_core::sc_module {
 public:
  tlm_utils::multi_passthrough_target_socket<router> in;
  tlm_utils::multi_passthrough_initiator_socket<router> out;
  explicit router(sc_core::sc_module_name name);
  void map(unsigned out_index, uint64_t base, uint64_t size);

 private:
  struct range {
    unsigned out;
    uint64_t base, size;
  };
  const range *decode(uint64_t addr, unsigned len) const;
  void b_transport(int id, tlm::tlm_generic_payload &tr, sc_core::sc_time &delay);
  unsigned int transport_dbg(int id, tlm::tlm_generic_payload &tr);
  std::vector<range> map_;
};

}  // namespace pbsc

#endif
