// SPDX-License-Identifier: Apache-2.0
// docs/systemc.md's example: the Protobrain TLM module in a platform of your own. Runs a .pbin whose
// inputs are in its data (build/systemc/example PROG.pbin [ref|rtl]) and prints status, cycles,
// simulated time and the int8 output tensors.
#include <cstring>

#include "pb_tlm.h"
using namespace sc_core;
const uint64_t ACCEL = 0x80000000;  // where this platform maps the accelerator's registers

struct cpu : sc_module {  // the host: start the program through the registers, wait for the interrupt
  tlm_utils::simple_initiator_socket<cpu> bus{"bus"};
  sc_in<bool> irq{"irq"};
  uint32_t prog_addr = 0, prog_len = 0;
  SC_CTOR(cpu) { SC_THREAD(run); }
  uint32_t reg(uint32_t off, bool write = false, uint32_t v = 0) {  // one 32-bit register access
    tlm::tlm_generic_payload t;
    sc_time d = SC_ZERO_TIME;
    t.set_command(write ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND);
    t.set_address(ACCEL + off), t.set_data_ptr((unsigned char *)&v), t.set_data_length(4), t.set_streaming_width(4);
    bus->b_transport(t, d);
    sc_assert(t.is_response_ok());
    wait(d);
    return v;
  }
  void run() {
    reg(pbsc::REG_PROG_ADDR, true, prog_addr), reg(pbsc::REG_PROG_LEN, true, prog_len), reg(pbsc::REG_CTRL, true, 1);
    sc_time t0 = sc_time_stamp();
    wait(irq.posedge_event());
    sc_time t = sc_time_stamp() - t0;
    uint32_t st = reg(pbsc::REG_STATUS);
    printf("STATUS 0x%02x FAULT_PC %u CYCLES %u time %s\n", st, reg(pbsc::REG_FAULT_PC), reg(pbsc::REG_CYCLES),
           t.to_string().c_str());
    sc_stop();
  }
};

int sc_main(int argc, char **argv) {
  pb_program_t p;
  pb_error_t e;
  if (argc < 2 || pb_program_load(argv[1], &p, &e)) return fprintf(stderr, "usage: example PROG.pbin [ref|rtl]\n"), 2;
  pbsc::memory mem("mem", p.hw.host_bytes);  // system memory at 0, loaded through the back door
  memcpy(mem.data() + p.code_addr, p.code, p.code_len * 16);
  for (uint32_t i = 0; i < p.n_data; i++) memcpy(mem.data() + p.data[i].host_addr, p.data[i].bytes, p.data[i].size);
  std::string err;
  pbsc::accel *acc = pbsc::make_accel("protobrain", p.hw, argc > 2 ? argv[2] : "ref", sc_time(10, SC_NS), 0, &err);
  if (!acc) return fprintf(stderr, "%s\n", err.c_str()), 1;
  pbsc::router bus("bus");
  cpu host("cpu");
  host.prog_addr = p.code_addr, host.prog_len = p.code_len;
  sc_signal<bool> irq("irq"), rst_n("rst_n", true);
  host.bus(bus.in), acc->dma(bus.in);                              // two initiators
  bus.out(mem.socket), bus.map(0, 0, p.hw.host_bytes);            // DMA addresses are host addresses
  bus.out(acc->regs), bus.map(1, ACCEL, pbsc::REG_WINDOW);
  acc->irq(irq), host.irq(irq), acc->rst_n(rst_n);
  sc_start();
  for (uint32_t i = 0; i < p.n_tensors; i++) {  // int8 outputs, dense
    const pb_tensor_t &t = p.tensors[i];
    if (t.kind != PB_TENSOR_OUTPUT || t.dtype != PB_DT_INT8) continue;
    printf("%s:", t.name);
    for (uint32_t k = 0; k < t.dims[0] * t.strides[0]; k++) printf(" %d", (int8_t)mem.data()[t.host_addr + k]);
    printf("\n");
  }
  delete acc;
  pb_program_free(&p);
  return 0;
}
