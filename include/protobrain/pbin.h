/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The program binary (.pbin): a self-contained Protobrain program.
 *
 * File layout (all integers little-endian), see docs/pbin.md:
 *
 *   offset  size  field
 *   0       4     magic "PBIN"
 *   4       2     format_version (PB_PBIN_VERSION)
 *   6       2     header_size (64)
 *   8       2     hw.n            array size N
 *   10      2     hw.rq_lanes     requantizer lanes: 0 = N (one per column), else a divisor of N
 *   12      4     hw.sp_rows      scratchpad rows (N int8 each)
 *   16      4     hw.acc_rows     accumulator rows (N int32 each)
 *   20      4     hw.host_bytes   host memory size in bytes
 *   24      4     isa_version (PB_ISA_VERSION)
 *   28      4     section_count
 *   32      4     section_table_offset
 *   36      4     file_size
 *   40      4     crc32 (IEEE, of the whole file with this field read as 0)
 *   44      20    reserved (0)
 *   then section_count entries of 16 bytes:
 *           2 type, 2 flags, 4 offset, 4 size, 4 host_addr
 *
 * Section types: CODE (exactly one; instruction words, loaded at host_addr),
 * DATA (constants, loaded at host_addr), TENSORS (input/output/internal
 * descriptors), MEMPLAN (named host memory regions), STEPS (the order of
 * accelerator slices and host operators; absent: one accelerator step over the
 * whole code), LAYERS (per-layer records for tools; OPTIONAL). Flag bit 0
 * marks a section a reader may skip when it does not know its type; unknown
 * types without it are refused.
 */
#ifndef PROTOBRAIN_PBIN_H
#define PROTOBRAIN_PBIN_H

#include <stddef.h>
#include <stdint.h>

#define PB_PBIN_MAGIC "PBIN"
#define PB_PBIN_VERSION 1u
#define PB_PBIN_HEADER_BYTES 64u
#define PB_PBIN_SECTION_BYTES 16u
#define PB_PBIN_TENSOR_BYTES 96u
#define PB_PBIN_REGION_BYTES 48u
#define PB_PBIN_STEP_BYTES 64u
#define PB_PBIN_LAYER_BYTES 144u
#define PB_NAME_MAX 32u /* names are NUL-padded to 32 bytes, at most 31 characters */
#define PB_MAX_RANK 4u
#define PB_PBIN_MAX_FILE_BYTES 0x40000000u /* 1 GiB: larger files are refused unread */

/* Hardware parameters: one set, carried by every program, refused on mismatch. */
typedef struct {
  uint32_t n;          /* array is N x N; 1..64 */
  uint32_t sp_rows;    /* scratchpad rows, 1..65536 */
  uint32_t acc_rows;   /* accumulator rows, 1..65536 */
  uint32_t host_bytes; /* host memory bytes, 16..2^31 */
  uint32_t rq_lanes;   /* requantizer lanes: 0 = n (the default, one per column); else a divisor of n.
                          Fewer lanes make ACTIVATE rows longer (docs/timing.md): an area option. */
} pb_hw_t;

/* The requantizer lanes of hw (rq_lanes, or n when it is 0). */
static inline uint32_t pb_hw_rq_lanes(const pb_hw_t *hw) { return hw->rq_lanes ? hw->rq_lanes : hw->n; }

/* "n=.. sp_rows=.. acc_rows=.. host_bytes=..[ rq_lanes=..]" (the .hw syntax); returns buf. */
char *pb_hw_format(const pb_hw_t *hw, char *buf, size_t len);

/* 1 when a and b describe the same hardware (rq_lanes 0 and n are the same). */
static inline int pb_hw_equal(const pb_hw_t *a, const pb_hw_t *b) {
  return a->n == b->n && a->sp_rows == b->sp_rows && a->acc_rows == b->acc_rows && a->host_bytes == b->host_bytes &&
         pb_hw_rq_lanes(a) == pb_hw_rq_lanes(b);
}

#define PB_HW_N_MAX 64u
#define PB_HW_ROWS_MAX 65536u
#define PB_HW_HOST_MIN 16u
#define PB_HW_HOST_MAX 0x80000000u

typedef enum {
  PB_SEC_CODE = 1,
  PB_SEC_DATA = 2,
  PB_SEC_TENSORS = 3,
  PB_SEC_MEMPLAN = 4,
  PB_SEC_STEPS = 5,  /* required when present: a reader that does not know it must refuse the program */
  PB_SEC_LAYERS = 6, /* informational: written with the OPTIONAL flag */
} pb_section_type_t;

#define PB_SECF_OPTIONAL 1u

typedef enum { PB_DT_INT8 = 1, PB_DT_UINT8 = 2, PB_DT_INT32 = 3, PB_DT_FLOAT32 = 4, PB_DT_INT64 = 5 } pb_dtype_t;

/* INTERNAL: an intermediate or constant tensor that host steps read or write (never set by the user). */
typedef enum { PB_TENSOR_INPUT = 1, PB_TENSOR_OUTPUT = 2, PB_TENSOR_INTERNAL = 3 } pb_tensor_kind_t;

/* Tensor flags */
#define PB_TF_FLOAT_IO 1u /* the graph's tensor is float: inputs are quantized, outputs dequantized */
#define PB_TF_BATCH 2u    /* dims[0] is the compiled batch: a runner may feed any number of samples in chunks */
#define PB_TF_ALL (PB_TF_FLOAT_IO | PB_TF_BATCH)

/*
 * A tensor descriptor. Element i (multi-index) lives at
 * host_addr + sum(idx[d] * strides[d]) in host memory, stored as `dtype`.
 * On disk (96 bytes): name[32], kind u8, dtype u8, rank u8, flags u8,
 * dims u32[4], strides u32[4], host_addr u32, scale f32, zero_point i32,
 * reserved[16] (0).
 */
typedef struct {
  char name[PB_NAME_MAX];
  uint8_t kind, dtype, rank, flags;
  uint32_t dims[PB_MAX_RANK];
  uint32_t strides[PB_MAX_RANK];
  uint32_t host_addr;
  float scale;
  int32_t zero_point;
} pb_tensor_t;

/* Memory-plan region kinds */
typedef enum { PB_REG_CODE = 1, PB_REG_CONST = 2, PB_REG_IO = 3, PB_REG_ACT = 4, PB_REG_SCRATCH = 5 } pb_region_kind_t;

/* A named host-memory region. On disk: name[32], kind u32, addr u32, size u32, reserved u32. */
typedef struct {
  char name[PB_NAME_MAX];
  uint32_t kind;
  uint32_t addr;
  uint32_t size;
} pb_region_t;

typedef struct {
  uint32_t host_addr;
  uint32_t size;
  uint8_t *bytes;
} pb_data_t;

/*
 * Host operators a program may run between or after accelerator slices
 * (driver/hostops.c implements them, bit-exact; docs/pbin.md gives each one's
 * inputs, outputs and parameters). X(NAME, CODE, inputs, outputs, "meaning")
 */
#define PB_HOST_OPS(X)                                                                                  \
  X(QUANTIZE, 1, 3, 1, "y = clamp(rne(f32(x / s)) + zp) (ONNX QuantizeLinear); in: x, scale, zero point") \
  X(DEQUANTIZE, 2, 3, 1, "y = f32((x - zp) * s) (ONNX DequantizeLinear); in: x, scale, zero point")       \
  X(CONVERT, 3, 1, 1, "int8 <-> uint8 with the zero point moved by 128 (y = x ^ 0x80)")                   \
  X(MAXPOOL, 4, 1, 1, "2-D max pooling, NCHW indices (any dtype, exact)")                                  \
  X(AVGPOOL, 5, 1, 1, "2-D average pooling in float (ONNX AveragePool)")                                   \
  X(GLOBALAVGPOOL, 6, 1, 1, "mean over every dim after the second, in float")                              \
  X(SOFTMAX, 7, 1, 1, "softmax along an axis (or the flattened trailing dims), float")                     \
  X(ARGMAX, 8, 1, 1, "index of the maximum along an axis (int32 or int64 output)")                         \
  X(ADD, 9, 2, 1, "element-wise sum with numpy broadcasting, float")                                       \
  X(COPY, 10, 1, 1, "copy elements in logical order (a layout change), same dtype")

typedef enum {
#define PB_X(name, code, ni, no, text) PB_HOP_##name = code,
  PB_HOST_OPS(PB_X)
#undef PB_X
} pb_host_op_t;

const char *pb_host_op_name(unsigned op); /* "MAXPOOL"; NULL if unknown */
int pb_host_op_arity(unsigned op, unsigned *n_in, unsigned *n_out); /* 0, or -1 if unknown */

typedef enum { PB_STEP_ACCEL = 1, PB_STEP_HOST = 2 } pb_step_kind_t;

#define PB_STEP_MAX_IN 4u
#define PB_STEP_MAX_OUT 2u
#define PB_STEP_PARAMS 10u

/*
 * One step of a program run. ACCEL: run instructions [pc, pc + len) (the
 * slice ends with HALT). HOST: run host operator `op` on the tensors
 * in[0..n_in) -> out[0..n_out) (indices into the tensor table) with
 * op-specific integer parameters. On disk (64 bytes): kind u8, op u8, n_in u8,
 * n_out u8, pc u32, len u32, in u16[4], out u16[2], param i32[10]; unused
 * slots 0.
 */
typedef struct {
  uint8_t kind, op, n_in, n_out;
  uint32_t pc, len;
  uint16_t in[PB_STEP_MAX_IN], out[PB_STEP_MAX_OUT];
  int32_t param[PB_STEP_PARAMS];
} pb_step_t;

typedef enum { PB_WHERE_ACCEL = 1, PB_WHERE_HOST = 2 } pb_where_t;

/*
 * A compiled layer, for tools (`protobrain info`): what it is, where it runs,
 * its instructions and its predicted cost for one run of the program (the
 * compiled batch). On disk (144 bytes): name[32], op[16], where u8, in_rank u8,
 * out_rank u8, reserved u8, step u32, pc u32, len u32, in_dims u32[4],
 * out_dims u32[4], macs u64, cycles u64, array_rows u64, weight_bytes u32,
 * out_bytes u32, sp_rows u32, acc_rows u32, reserved[8].
 */
typedef struct {
  char name[PB_NAME_MAX];
  char op[16];             /* NUL-terminated, e.g. "Conv+MaxPool" */
  uint8_t where;           /* PB_WHERE_* */
  uint8_t in_rank, out_rank;
  uint32_t step;           /* the step that runs it */
  uint32_t pc, len;        /* its instructions (accelerator layers; 0, 0 on the host) */
  uint32_t in_dims[PB_MAX_RANK], out_dims[PB_MAX_RANK];
  uint64_t macs;           /* useful multiply-accumulates per run */
  uint64_t cycles;         /* predicted accelerator cycles per run (timing model) */
  uint64_t array_rows;     /* MATMUL rows streamed: cycles the array does useful MACs */
  uint32_t weight_bytes;   /* constants (weights, requantization tables) in host memory */
  uint32_t out_bytes;      /* output activation buffer in host memory */
  uint32_t sp_rows, acc_rows; /* on-chip rows the layer uses */
} pb_layer_t;

/* A program in memory. Owns every pointer; free with pb_program_free(). */
typedef struct {
  pb_hw_t hw;
  uint32_t code_addr;  /* host address of instruction 0 */
  uint32_t code_len;   /* number of instructions */
  uint8_t *code;       /* code_len * 16 bytes */
  pb_data_t *data;
  uint32_t n_data;
  pb_tensor_t *tensors;
  uint32_t n_tensors;
  pb_region_t *regions;
  uint32_t n_regions;
  pb_step_t *steps;    /* none: one accelerator step over the whole code */
  uint32_t n_steps;
  pb_layer_t *layers;
  uint32_t n_layers;
} pb_program_t;

/* A reader error: message names the field and its byte offset in the file. */
typedef struct {
  char msg[320];
} pb_error_t;

/* Validate hardware parameters; 0 or -1 with message. */
int pb_hw_check(const pb_hw_t *hw, pb_error_t *err);

/* Serialize. Returns 0 and a malloc'd buffer in *buf (*len bytes), or -1 with err. */
int pb_program_write(const pb_program_t *p, uint8_t **buf, size_t *len, pb_error_t *err);
int pb_program_save(const pb_program_t *p, const char *path, pb_error_t *err);

/*
 * Parse and validate every field. Returns 0 and fills *p (caller frees with
 * pb_program_free), or -1 with err naming field and byte offset; *p is then empty.
 */
int pb_program_read(const uint8_t *buf, size_t len, pb_program_t *p, pb_error_t *err);
int pb_program_load(const char *path, pb_program_t *p, pb_error_t *err);

/* Check the in-memory program's consistency (same rules as the reader, without offsets). */
int pb_program_check(const pb_program_t *p, pb_error_t *err);

void pb_program_free(pb_program_t *p);

/* Helpers for building programs (all return 0 or -1 on allocation failure). */
int pb_program_add_data(pb_program_t *p, uint32_t host_addr, const void *bytes, uint32_t size);
int pb_program_add_tensor(pb_program_t *p, const pb_tensor_t *t);
int pb_program_add_region(pb_program_t *p, const pb_region_t *r);
int pb_program_add_step(pb_program_t *p, const pb_step_t *s);
int pb_program_add_layer(pb_program_t *p, const pb_layer_t *l);

/*
 * Number of bytes a tensor spans in host memory from host_addr:
 * sum((dims[d]-1) * strides[d]) + element size over d < rank. 0 if any dim
 * is 0 or rank/dtype is invalid; saturates at UINT64_MAX instead of wrapping.
 */
uint64_t pb_tensor_extent(const pb_tensor_t *t);
/* Product of dims[0..rank) (0 if rank is invalid; saturates at UINT64_MAX). */
uint64_t pb_tensor_elems(const pb_tensor_t *t);
unsigned pb_dtype_size(unsigned dtype);
const char *pb_dtype_name(unsigned dtype);

uint32_t pb_crc32(const uint8_t *buf, size_t len);

#endif
