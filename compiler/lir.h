/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The lowered program (LIR): what the quantized graph becomes before it is
 * tiled for one hardware configuration. lower.c builds it from a QDQ /
 * QLinear IR graph (quantize.c first turns float graphs into that form);
 * codegen.c tiles, schedules and emits it; memplan.c places its buffers.
 * docs/compiler.md, "Lowering", describes every decision.
 *
 * - A buffer is a range of host memory: an activation (int8, NHWC with
 *   zero-point borders for convolution inputs), an input or output of the
 *   program, a float intermediate of the host operators, or a constant.
 * - A tensor is a typed view of a buffer with logical (ONNX) dims, dim 0 the
 *   batch, and a per-sample offset table (byte offset of every element of one
 *   sample, in logical row-major order). Flatten, Reshape and Transpose are
 *   new views of the same bytes; the matmul that reads a view permutes its
 *   weight rows to the physical order, so nothing is ever copied.
 * - A layer is a quantized matmul (Gemm, MatMul, Conv, with an optional fused
 *   max pool) run on the accelerator, or a host operator.
 */
#ifndef PROTOBRAIN_LIR_H
#define PROTOBRAIN_LIR_H

#include <stddef.h>
#include <stdint.h>

#include "protobrain/pbin.h"

#define LIR_MAX_RANK 4
#define LIR_POOL_MAX 16 /* PB_POOL_MAX of the ISA (isa.h and ir.h cannot meet in one file: both name PB_OP_MATMUL) */

typedef enum {
  LB_ACT = 1,   /* activation; shared with others by liveness unless pinned */
  LB_IO = 2,    /* program input or output (pinned) */
  LB_CONST = 3, /* constant bytes (host operator parameters), loaded as DATA */
} lir_buf_kind_t;

typedef struct {
  char name[PB_NAME_MAX];
  lir_buf_kind_t kind;
  uint64_t bytes;       /* for the compiled batch */
  int pinned;           /* never shares its memory (io, bordered activations) */
  int has_fill;         /* initial content: every byte `fill` (zero-point borders) */
  uint8_t fill;
  uint8_t *init;        /* LB_CONST: the bytes (owned) */
  int first, last;      /* live range in layer indices (-1: from the start; n_layers: to the end) */
  uint64_t addr;        /* placed by memplan */
} lir_buf_t;

typedef struct {
  char name[PB_NAME_MAX];
  int buf;              /* buffer index */
  uint64_t base;        /* byte offset of element 0 of sample 0 in the buffer */
  unsigned dtype;       /* PB_DT_* */
  float scale;          /* quantized tensors */
  int32_t zp;
  int rank;
  int64_t dims[LIR_MAX_RANK]; /* logical, dims[0] the batch */
  uint64_t bstride;     /* bytes between samples */
  int64_t *offs;        /* per-sample element byte offsets from base, logical order (owned) */
  int64_t per_sample;   /* elements per sample (prod dims[1..]) */
  /* NHWC description when the tensor is a 4-D activation (N,C,H,W) stored channels-last with borders */
  int nhwc;
  int64_t C, H, W, Hp, Wp;
  int bt, bl;           /* border rows above / columns left of pixel (0,0) */
  int zp_open;          /* int8 graph input whose zero point (border fill) is not known yet */
  int float_io;         /* io: the graph's tensor is float; the driver (de)quantizes with scale, zp */
} lir_tensor_t;

typedef enum { LL_MATMUL = 1, LL_HOST = 2 } lir_layer_kind_t;

/* A segment of the physical K vector: `len` bytes at `off` from a row's base address. */
typedef struct {
  int64_t off;
  int64_t len;
} lir_seg_t;

typedef struct {
  lir_layer_kind_t kind;
  char name[PB_NAME_MAX];
  char op[16];
  int in, out;          /* tensor indices (in: first input) */
  uint64_t macs;        /* useful MACs for the compiled batch */
  /* ---- LL_MATMUL ---- */
  int64_t K, Cout;      /* physical K (without replicas) */
  int reps;             /* K replicas (weights wider than int8 are split into reps int8 matrices) */
  int8_t *w;            /* [reps * K][Cout], physical row order (owned) */
  int32_t *bias;        /* [Cout]: bias - zp_x * sum_k w'[k][c], wrapping (owned) */
  float *mult;          /* [Cout] (owned) */
  int32_t zp, lo, hi;
  int nseg;
  lir_seg_t *seg;       /* physical K = concatenation (owned) */
  int64_t nb;           /* samples this layer processes (the batch, or 1 for one slice of a batched MatMul) */
  /* row geometry: output pixel (b, oy, ox) reads its K vector from in_addr + b*bstride + oy*ystep + ox*xstep */
  int64_t OH, OW;
  int64_t in_base, ystep, xstep; /* in_base relative to the input tensor's buffer */
  /* pooling (1x1 stride 1 when none): output pixel (py*psy + dy, px*psx + dx), dy < ph, dx < pw */
  int ph, pw, psy, psx;
  int64_t PH, PW;
  /* output pixel (b, py, px) channel c lands at out_base + b*obstride + py*oystep + px*oxstep + c */
  int64_t out_base, oystep, oxstep;
  int acc_may_wrap;     /* worst-case accumulator exceeds int32 (a warning was printed) */
  int32_t *bmat;        /* Gemm bias matrix [brows][Cout] (owned), or NULL: LOAD_ACC'ed before the first MATMUL */
  int64_t brows;        /* = output rows of the layer (nb * OH * OW) */
  int raw;              /* int32 output (MatMulInteger, ConvInteger): bias + sums leave by STORE_ACC, unrequantized;
                           out_base/oystep/oxstep in bytes of int32 elements, channel c at + 4c */
  /* ---- LL_HOST ---- */
  unsigned hop;         /* PB_HOP_* */
  int n_in, n_out;
  int ins[PB_STEP_MAX_IN], outs[PB_STEP_MAX_OUT];
  int32_t param[PB_STEP_PARAMS];
} lir_layer_t;

typedef struct {
  lir_buf_t *bufs;
  int n_bufs, cap_bufs;
  lir_tensor_t *tensors;
  int n_tensors, cap_tensors;
  lir_layer_t *layers;
  int n_layers, cap_layers;
  int *inputs, n_inputs;   /* program input tensors, graph input order */
  int *outputs, n_outputs; /* program output tensors, graph output order */
  int64_t batch;           /* compiled batch (dims[0] of every io tensor), 0 if none */
} lir_t;

void lir_free(lir_t *l);
int lir_add_buf(lir_t *l, const char *name, lir_buf_kind_t kind, uint64_t bytes);
/* A tensor of dims (dims[0] batch) over buffer buf; offs copied (per-sample elements) or row-major when NULL. */
int lir_add_tensor(lir_t *l, const char *name, int buf, uint64_t base, unsigned dtype, int rank, const int64_t *dims,
                   uint64_t bstride, const int64_t *offs);
int lir_add_layer(lir_t *l, lir_layer_kind_t kind, const char *name, const char *op);
/* Copy a name into a fixed field, keeping the tail when it is too long (names are unique by their ends). */
void lir_name(char dst[PB_NAME_MAX], const char *src);
/* Are the per-sample offsets of t affine in its logical dims? 1 and the PB_MAX_RANK byte strides (strides[0] = the
 * batch stride) when they are, else 0. */
int lir_affine_strides(const lir_tensor_t *t, uint32_t *strides);

#endif
