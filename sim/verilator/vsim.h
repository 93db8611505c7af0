/* SPDX-License-Identifier: Apache-2.0 */
/*
 * C interface to the Verilated core (a thin C++ shim, sim/verilator/vsim.cpp,
 * built once per hardware configuration). The shim owns a zero-wait-state host
 * memory model: requests are always accepted and read data returns one cycle
 * after the request, as the timing model assumes (docs/timing.md).
 */
#ifndef PB_SIM_VSIM_H
#define PB_SIM_VSIM_H

#include <stdint.h>

#include "protobrain/pbin.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PB_VSIM_MAX_N 64

/* What happened in one clock cycle (sampled before the rising edge). */
typedef struct {
  int irq;                 /* the core is DONE or ERROR (irq_o) */
  int issue;
  uint32_t issue_pc;
  unsigned retire;         /* bits: 0 LD, 1 WEIGHTS, 2 MATMUL, 3 ST, 4 SYNC/HALT */
  uint32_t retire_pc[5];
  int sp_we;               /* scratchpad row write (LD unit) */
  uint32_t sp_row, sp_pc;
  uint64_t sp_mask;        /* byte lanes */
  uint8_t sp_data[PB_VSIM_MAX_N];
  int acc_we;              /* accumulator row write */
  uint32_t acc_row, acc_pc;
  int32_t acc_data[PB_VSIM_MAX_N];
  int host_we;             /* host write (ST unit) */
  uint32_t host_addr, host_len, host_pc;
  uint8_t host_data[PB_VSIM_MAX_N];
} pb_vsim_cycle_t;

typedef struct pb_vsim pb_vsim_t;

/* One Verilated configuration. */
typedef struct {
  const char *name; /* e.g. "sim16" */
  pb_hw_t hw;
  /* trace_path: NULL for none, else an FST file written while running */
  pb_vsim_t *(*create)(const char *trace_path);
  void (*destroy)(pb_vsim_t *v);
  uint8_t *(*host)(pb_vsim_t *v);                       /* hw.host_bytes bytes */
  void (*reg_write)(pb_vsim_t *v, uint32_t addr, uint32_t value); /* takes one clock cycle */
  uint32_t (*reg_read)(pb_vsim_t *v, uint32_t addr);
  /* one clock cycle; returns 0, or -1 if the core drove a host access outside memory (an RTL bug) */
  int (*step)(pb_vsim_t *v, pb_vsim_cycle_t *ev);
  /* host-memory wait states for robustness tests: with probability num/256 a request port is not
   * ready in a cycle (seeded); 0 = the zero-wait-state memory of the timing model */
  void (*set_backpressure)(pb_vsim_t *v, unsigned num, uint64_t seed);
} pb_vsim_ops_t;

/* Register map (docs/architecture.md) */
enum {
  PB_REG_CTRL = 0x00, PB_REG_STATUS = 0x04, PB_REG_PROG_ADDR = 0x08, PB_REG_PROG_LEN = 0x0c,
  PB_REG_FAULT_PC = 0x10, PB_REG_CYCLES = 0x18, PB_REG_ARRAY_BUSY = 0x20, PB_REG_INSTRS = 0x28,
  PB_REG_DMA_BYTES = 0x30, PB_REG_STALLS = 0x38, PB_REG_HW_N = 0x40, PB_REG_HW_SP_ROWS = 0x44,
  PB_REG_HW_ACC_ROWS = 0x48, PB_REG_HW_HOST_BYTES = 0x4c, PB_REG_ISA_VERSION = 0x50, PB_REG_HW_RQ_LANES = 0x54
};

/* The configurations built into this binary (generated list), and a lookup by hardware parameters. */
extern const pb_vsim_ops_t *const pb_vsim_configs[];
const pb_vsim_ops_t *pb_vsim_find(const pb_hw_t *hw);

#ifdef __cplusplus
}
#endif

#endif
