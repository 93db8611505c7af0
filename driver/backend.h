/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Backends: one accelerator with its host memory, behind one interface.
 *   ref        the C reference model (counts cycles with the timing model)
 *   verilator  the Verilated RTL (a configuration built for the program's
 *              hardware parameters), optionally in lock step with the model
 *   systemc    the SystemC/TLM-2.0 virtual platform (sim/systemc), with the
 *              reference model or the Verilated RTL as the accelerator
 *   uart       a board (fpga/) behind a serial port, or the Verilated board top behind a
 *              pseudo-terminal (docs/uart.md); `host` is a shadow of the board's memory
 * The driver writes inputs and reads outputs directly in `host`, then calls
 * run() for each accelerator step of a program.
 */
#ifndef PB_DRIVER_BACKEND_H
#define PB_DRIVER_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "protobrain/pbin.h"

typedef struct {
  uint64_t cycles;     /* core cycles, start to DONE/ERROR */
  uint64_t array_busy; /* cycles the array does useful MACs */
  uint64_t instrs;     /* instructions retired */
  uint64_t dma_bytes;  /* bytes between host memory and the core */
  uint64_t stalls;     /* host-memory wait states */
} pb_counters_t;

typedef struct {
  int done;            /* 1: HALT; 0: stopped with an error */
  unsigned err;        /* PB_ERR_* when !done */
  uint32_t fault_pc;   /* PC of the HALT or of the faulting instruction */
  pb_counters_t cnt;
} pb_run_status_t;

typedef struct {
  int cosim;              /* verilator: lock-step co-simulation against the reference model */
  const char *model;      /* systemc: accelerator model inside the platform, "ref" or "rtl" (NULL: ref) */
  const char *trace_path; /* verilator: FST trace file, or NULL */
  uint64_t max_cycles;    /* watchdog (0: the backend's default) */
  const char *port;       /* uart: serial port, e.g. /dev/ttyUSB1 or a simulator's pseudo-terminal */
  unsigned baud;          /* uart: baud rate (0: 3000000) */
  unsigned timeout_ms;    /* uart: reply timeout per attempt (0: 1000 ms) */
} pb_backend_opts_t;

typedef struct pb_backend pb_backend_t;
struct pb_backend {
  const char *name;
  pb_hw_t hw;
  uint8_t *host; /* hw.host_bytes bytes of host memory, read and written by the driver between runs */
  /* Run the program slice [prog_addr, prog_addr + 16*len) to HALT or error. 0, or -1 with err when the
   * backend itself failed (co-simulation divergence, watchdog) -- an accelerator error is a status. */
  int (*run)(pb_backend_t *b, uint32_t prog_addr, uint32_t len, pb_run_status_t *st, char *err, size_t errlen);
  void (*close)(pb_backend_t *b);
  void *impl;
};

/* Names accepted by pb_backend_open, for messages: "ref, verilator". */
const char *pb_backend_names(void);

/* Open a backend by name for hardware `hw`. 0, or -1 with a message (unknown name, no RTL build for hw). */
int pb_backend_open(const char *name, const pb_hw_t *hw, const pb_backend_opts_t *opts, pb_backend_t **out,
                    char *err, size_t errlen);

/* Copy a program's CODE and DATA into the backend's host memory (hw must match). 0 or -1 with err. */
int pb_backend_load(pb_backend_t *b, const pb_program_t *p, char *err, size_t errlen);

#endif
