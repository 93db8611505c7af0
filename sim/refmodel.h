/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The bit-exact C reference model of the Protobrain accelerator.
 *
 * Slow by design and obvious: it executes one instruction at a time, exactly
 * as docs/isa.md defines it, on a modelled host memory, scratchpad,
 * accumulator, weight buffers and control registers. It defines the answer
 * that every other backend must reproduce byte for byte.
 */
#ifndef PB_SIM_REFMODEL_H
#define PB_SIM_REFMODEL_H

#include <stddef.h>
#include <stdint.h>

#include "protobrain/isa.h"
#include "protobrain/pbin.h"

typedef enum { PB_MEM_HOST = 0, PB_MEM_SP = 1, PB_MEM_ACC = 2 } pb_mem_t;

typedef enum { PB_STATE_IDLE = 0, PB_STATE_RUNNING = 1, PB_STATE_DONE = 2, PB_STATE_ERROR = 3 } pb_state_t;

/*
 * Performance counters, the same as the hardware's. Time comes from the
 * timing model (include/protobrain/timing.h), which the model runs beside
 * execution: `cycles` is final once the state is DONE or ERROR.
 */
typedef struct {
  uint64_t cycles;      /* total cycles from start to DONE/ERROR */
  uint64_t array_busy;  /* cycles the array does useful MACs (MATMUL rows) */
  uint64_t instrs;      /* instructions retired (including HALT) */
  uint64_t macs;        /* MATMUL rows * N * N */
  uint64_t dma_bytes;   /* bytes moved between host memory and the core (LOAD, LOAD_ACC, CONFIG, STORE) */
  uint64_t stall_cycles; /* host-memory wait states: always 0 in the model */
} pb_model_counters_t;

/* Called for every architectural write, in program order, before it lands. */
typedef void (*pb_write_hook_t)(void *ctx, uint32_t pc, pb_mem_t mem, uint32_t byte_addr, const uint8_t *data,
                                uint32_t len);

typedef struct pb_model pb_model_t;

/* Allocate a model for the given hardware; host memory, scratchpad and accumulator are zeroed. NULL on bad hw/OOM. */
pb_model_t *pb_model_new(const pb_hw_t *hw);
void pb_model_free(pb_model_t *m);

const pb_hw_t *pb_model_hw(const pb_model_t *m);

/* Direct (backdoor) access to the memories, for loading programs and tensors. */
uint8_t *pb_model_host(pb_model_t *m);   /* hw.host_bytes bytes */
int8_t *pb_model_sp(pb_model_t *m);      /* sp_rows * N bytes, row-major */
int32_t *pb_model_acc(pb_model_t *m);    /* acc_rows * N int32, row-major */

void pb_model_set_write_hook(pb_model_t *m, pb_write_hook_t hook, void *ctx);

/*
 * Start executing the program of `len` instructions at host address `addr`:
 * resets PC, status, counters, the weight buffers (to 0) and the CONFIG
 * registers (bias 0, multiplier 0, zp 0, lo -128, hi 127). Memories keep
 * their contents.
 */
void pb_model_start(pb_model_t *m, uint32_t addr, uint32_t len);

/* Execute one instruction. Returns the state after it. */
pb_state_t pb_model_step(pb_model_t *m);

/* Run until DONE or ERROR, or until max_instrs more instructions retired (0 = no limit). */
pb_state_t pb_model_run(pb_model_t *m, uint64_t max_instrs);

pb_state_t pb_model_state(const pb_model_t *m);
uint32_t pb_model_pc(const pb_model_t *m);          /* next instruction (index), or faulting PC */
pb_hw_error_t pb_model_error(const pb_model_t *m);  /* error code when state is ERROR */
const pb_model_counters_t *pb_model_counters(const pb_model_t *m);

/* Issue cycle of the last instruction executed (timing model), -1 before the first. */
int64_t pb_model_last_issue(const pb_model_t *m);

/*
 * The checks an instruction word faces before it issues (docs/isa.md, in order), for hardware hw
 * and a program at prog_addr of prog_len instructions: PB_ERR_NONE or the error. The data-dependent
 * CONFIG_VALUE check is not included (it needs host memory).
 */
pb_hw_error_t pb_model_check(const pb_hw_t *hw, uint32_t prog_addr, uint32_t prog_len, const pb_word_t *w);

/* Copy a program's CODE and DATA sections into host memory (checks hw match). 0 or -1 with err. */
int pb_model_load_program(pb_model_t *m, const pb_program_t *p, pb_error_t *err);

#endif
