/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libprotobrain: run Protobrain programs (.pbin) from C. The one public header
 * of the driver library; it needs nothing else from Protobrain. docs/driver.md
 * has the full description and driver/examples/classify.c a complete program.
 *
 *   pb_ctx_t *ctx;
 *   if (pb_open("ref", NULL, &ctx) != PB_OK) { puts(pb_last_error(NULL)); ... }
 *   if (pb_load_file(ctx, "cnn.pbin") != PB_OK) { puts(pb_last_error(ctx)); ... }
 *   pb_set_input(ctx, NULL, PB_FLOAT32, image, sizeof image, 1);   (NULL: the only input)
 *   pb_run(ctx);
 *   float logits[10];
 *   pb_get_output(ctx, NULL, PB_FLOAT32, logits, sizeof logits);
 *   pb_close(ctx);
 *
 * Rules that hold for every function:
 *  - Every call that can fail returns a pb_status_t. On failure the context's
 *    message (pb_last_error(ctx)) says what failed and where: the function,
 *    the tensor, the file and field, expected vs got. A call that fails
 *    changes nothing else, unless its description says otherwise. Calls
 *    without a usable context (pb_open, or ctx == NULL) leave their message
 *    in pb_last_error(NULL), kept per thread.
 *  - Memory: pb_open, pb_load_file/pb_load_buffer and pb_reserve allocate
 *    everything; pb_set_input, pb_run, pb_get_output and every query
 *    allocate nothing (tests/driver/test_alloc.c counts). Exceptions, both
 *    debugging aids: lock-step co-simulation (cosim) and waveform tracing
 *    on the verilator backend; the systemc backend makes no such promise.
 *  - A context is used by one thread at a time; separate contexts are
 *    independent.
 *  - Samples: a compiled model has a batch B (pb_program_info_t.batch):
 *    its batched tensors' first axis. pb_set_input takes any number of
 *    samples n up to the context's reserve (B after loading; pb_reserve
 *    for more), and pb_run runs them in ceil(n / B) accelerator runs (the
 *    last one padded; the padding's outputs are dropped). A program with no
 *    batch axis takes exactly one sample, its whole input tensor.
 *  - Data: row-major, native little-endian. Float data given to an int8 or
 *    uint8 tensor is quantized as ONNX QuantizeLinear; such a tensor read
 *    as float is dequantized as ONNX DequantizeLinear, with the tensor's
 *    scale and zero point (bit-exact, docs/arithmetic.md).
 */
#ifndef PROTOBRAIN_PROTOBRAIN_H
#define PROTOBRAIN_PROTOBRAIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PROTOBRAIN_VERSION_MAJOR 0
#define PROTOBRAIN_VERSION_MINOR 1
#define PROTOBRAIN_VERSION_PATCH 0
#define PROTOBRAIN_VERSION "0.1.0"

/* The library's version string, e.g. "0.1.0" (compare with PROTOBRAIN_VERSION). */
const char *pb_version(void);

/* ---- status ---- */

typedef enum {
  PB_OK = 0,
  PB_E_ARG = 1,          /* a NULL pointer, a zero count, an unknown enum value, a bad option */
  PB_E_IO = 2,           /* a file could not be opened or read */
  PB_E_FORMAT = 3,       /* not a valid program: truncated, corrupt (CRC), a field out of range */
  PB_E_HW_MISMATCH = 4,  /* the program's hardware parameters differ from the backend's (both named) */
  PB_E_NOT_LOADED = 5,   /* the call needs a loaded program */
  PB_E_NAME = 6,         /* no tensor of that name (or NULL given while there are several) */
  PB_E_SHAPE = 7,        /* wrong number of samples or wrong buffer size */
  PB_E_DTYPE = 8,        /* data of a type the tensor cannot take or give */
  PB_E_STATE = 9,        /* out of order: pb_run before every input is set, an output before a run */
  PB_E_BACKEND = 10,     /* unknown backend, or the backend failed (simulation error, watchdog) */
  PB_E_ACCEL = 11,       /* the accelerator stopped with an error (code, PC and instruction named) */
  PB_E_NOMEM = 12        /* out of memory */
} pb_status_t;

/* A short constant description of a status ("wrong shape or size"); never NULL. */
const char *pb_status_str(pb_status_t status);

/* ---- element types (the values of the program format's dtypes) ---- */

typedef enum { PB_INT8 = 1, PB_UINT8 = 2, PB_INT32 = 3, PB_FLOAT32 = 4, PB_INT64 = 5 } pb_datatype_t;

/* "i8", "u8", "i32", "f32", "i64"; "?" for another value. */
const char *pb_datatype_name(pb_datatype_t dtype);
/* Bytes per element; 0 for an unknown value. */
size_t pb_datatype_size(pb_datatype_t dtype);

/* ---- contexts ---- */

typedef struct pb_ctx pb_ctx_t;

/* Hardware parameters (docs/architecture.md, "Parameters"). */
typedef struct {
  uint32_t n;          /* the array is n x n */
  uint32_t sp_rows;    /* scratchpad rows (n int8 each) */
  uint32_t acc_rows;   /* accumulator rows (n int32 each) */
  uint32_t host_bytes; /* host memory bytes */
  uint32_t rq_lanes;   /* requantizer lanes: 0 = n (one per column), else a divisor of n (an FPGA area option) */
} pb_hw_params_t;

/*
 * Options of pb_open. Initialize with PB_OPTIONS_INIT (which sets `size`):
 * fields are only ever added at the end, and the library reads only the
 * first `size` bytes, so a program built against an older header keeps
 * working. NULL options = PB_OPTIONS_INIT.
 */
typedef struct {
  size_t size;                /* sizeof(pb_options_t) of the caller's header */
  const pb_hw_params_t *hw;   /* NULL: the backend takes each program's parameters. Else the backend is
                                 built for these and a program for others is refused (PB_E_HW_MISMATCH) */
  int cosim;                  /* verilator: run the C model in lock step, stop at the first difference */
  const char *trace_path;     /* verilator: write an FST waveform here (NULL: none) */
  const char *model;          /* systemc: the accelerator in the platform, "ref" (NULL) or "rtl" */
  uint64_t max_cycles;        /* verilator, uart: watchdog per accelerator run (0: the backend's default) */
  const char *port;           /* uart: the serial port of the board, e.g. "/dev/ttyUSB1" (required for uart) */
  unsigned baud;              /* uart: baud rate (0: 3000000) */
  unsigned timeout_ms;        /* uart: reply timeout of one attempt (0: 1000); a request is sent at most 9 times */
} pb_options_t;

#define PB_OPTIONS_INIT {sizeof(pb_options_t), NULL, 0, NULL, NULL, 0, NULL, 0, 0}

/* The backends this library was built with, for messages: "ref, verilator, uart". */
const char *pb_backends(void);

/*
 * Create a context on backend `backend` ("ref": the C reference model;
 * "verilator": the Verilated RTL; "uart": a board behind opts->port,
 * docs/uart.md; "systemc" when linked in). With opts->hw
 * the backend is opened now; without, at each load with the program's
 * parameters. On failure *ctx is NULL and pb_last_error(NULL) says why
 * (PB_E_BACKEND: unknown name, listing the available ones;
 * PB_E_HW_MISMATCH: the verilator backend has no build for opts->hw).
 */
pb_status_t pb_open(const char *backend, const pb_options_t *opts, pb_ctx_t **ctx);

/* Free the context, its backend and its program. NULL is ignored. */
void pb_close(pb_ctx_t *ctx);

/*
 * The message of the most recent failed call on ctx ("" if none failed);
 * NULL: of the most recent failed call without a context, in this thread.
 * Valid until the next call on the same context (or thread).
 */
const char *pb_last_error(const pb_ctx_t *ctx);

/* ---- programs ---- */

/*
 * Load a program from a .pbin file or from a buffer holding one (copied;
 * the caller keeps its buffer). Every field is validated (PB_E_FORMAT names
 * the field and its byte offset); the program's hardware parameters must
 * be the backend's (PB_E_HW_MISMATCH names both sets). Replaces any
 * program loaded before; on failure the context has no program. Reserves
 * buffers for one batch of samples (see pb_reserve). Clears the inputs.
 */
pb_status_t pb_load_file(pb_ctx_t *ctx, const char *path);
pb_status_t pb_load_buffer(pb_ctx_t *ctx, const void *buf, size_t len);

/*
 * Allocate buffers for up to max_samples samples per pb_run (the compiled
 * batch after loading). PB_E_SHAPE for more than one sample with a program
 * that has no batch axis. Clears the inputs.
 */
pb_status_t pb_reserve(pb_ctx_t *ctx, uint64_t max_samples);

typedef struct {
  pb_hw_params_t hw;          /* what the program was built for */
  const char *backend;        /* the context's backend name */
  uint64_t batch;             /* compiled batch: samples per accelerator run (1 without a batch axis) */
  uint64_t max_samples;       /* the most samples pb_set_input takes (pb_reserve) */
  int n_inputs, n_outputs;
  uint32_t n_instrs;          /* instructions in the program's code */
  uint32_t accel_steps, host_steps; /* steps of one run: accelerator slices and host operators */
  uint64_t predicted_cycles;  /* timing-model cycles of one accelerator run (every slice) */
  uint64_t macs;              /* useful multiply-accumulates of one run (0 if the program has no layer table) */
} pb_program_info_t;

pb_status_t pb_get_info(pb_ctx_t *ctx, pb_program_info_t *info);

#define PB_MAX_DIMS 8

typedef struct {
  const char *name;           /* valid while the program is loaded */
  pb_datatype_t dtype;        /* the element type in the program */
  unsigned rank;
  uint64_t dims[PB_MAX_DIMS]; /* the program's shape: dims[0] is the compiled batch if `batched` */
  int batched;                /* 1: samples run along dims[0] */
  int is_float;               /* 1: a float tensor of the model (int8 inside): give / read PB_FLOAT32 */
  float scale;                /* quantization of an int8/uint8 tensor (1 and 0 for the others) */
  int32_t zero_point;
  uint64_t sample_elems;      /* elements of one sample (of the whole tensor if not batched) */
} pb_tensor_info_t;

/* Describe input or output `index` (0 .. n_inputs-1 / n_outputs-1, in the program's order). */
pb_status_t pb_input_info(pb_ctx_t *ctx, int index, pb_tensor_info_t *info);
pb_status_t pb_output_info(pb_ctx_t *ctx, int index, pb_tensor_info_t *info);

/* ---- running ---- */

/*
 * Set input `name` (NULL: the program's only input) to n samples of `dtype`
 * data: `bytes` must be exactly n x sample_elems x pb_datatype_size(dtype).
 * dtype is the tensor's own (copied) or PB_FLOAT32 for an int8/uint8 tensor
 * (quantized now). The data is copied; the input stays set for later runs.
 * PB_E_NAME, PB_E_DTYPE, PB_E_SHAPE (n = 0, n above the reserve, a wrong
 * byte count), each naming the tensor.
 */
pb_status_t pb_set_input(pb_ctx_t *ctx, const char *name, pb_datatype_t dtype, const void *data, size_t bytes,
                         uint64_t n);

/*
 * Run the samples set by pb_set_input (every input set, all with the same
 * n). PB_E_ACCEL when the accelerator stops with an error (its name, the PC
 * and the instruction in the message); PB_E_BACKEND when the backend
 * fails. Allocates nothing. A failed run also discards the results of the
 * previous one (pb_get_output and pb_get_perf then return PB_E_STATE): the
 * host memory it ran in no longer holds them.
 */
pb_status_t pb_run(pb_ctx_t *ctx);

/*
 * Read output `name` (NULL: the only output) of the last successful pb_run:
 * n samples (1 if not batched) as `dtype`, the tensor's own or PB_FLOAT32
 * for an int8/uint8 tensor (dequantized). `bytes` is the capacity of data:
 * at least n x sample_elems x pb_datatype_size(dtype).
 */
pb_status_t pb_get_output(pb_ctx_t *ctx, const char *name, pb_datatype_t dtype, void *data, size_t bytes);

/* Performance counters of the last successful pb_run, summed over its accelerator runs. */
typedef struct {
  uint64_t cycles;            /* accelerator cycles, start to HALT (measured by the backend) */
  uint64_t predicted_cycles;  /* what the timing model predicts for the same runs */
  uint64_t array_busy;        /* cycles the array did useful MACs */
  uint64_t instrs;            /* instructions retired */
  uint64_t dma_bytes;         /* bytes moved between host memory and the accelerator */
  uint64_t stalls;            /* host-memory wait states */
  uint64_t macs;              /* useful multiply-accumulates (the layer table's, times runs) */
  uint64_t samples;           /* samples given (padding excluded) */
  uint64_t runs;              /* accelerator program runs: ceil(samples / batch) */
  uint64_t accel_steps, host_steps; /* steps executed */
  double host_seconds;        /* processor time spent in host operators */
} pb_perf_t;

pb_status_t pb_get_perf(pb_ctx_t *ctx, pb_perf_t *perf);

/*
 * Call fn(user, samples_done, samples_total) after every accelerator run of
 * pb_run (NULL: no calls). The callback must not call the library on ctx.
 */
typedef void (*pb_progress_fn)(void *user, uint64_t done, uint64_t total);
pb_status_t pb_set_progress(pb_ctx_t *ctx, pb_progress_fn fn, void *user);

#ifdef __cplusplus
}
#endif

#endif
