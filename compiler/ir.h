/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The compiler IR: a dataflow graph of named tensor values and operator
 * nodes, kept in topological order. ONNX import builds it (onnx_import.h),
 * the float reference interpreter runs it (interp.h), and the later passes
 * (quantization, lowering) rewrite it. docs/compiler.md describes it.
 *
 * - A value is a tensor: name, dtype, static shape (rank <= PB_IR_MAX_RANK,
 *   every dim >= 1), and, for constants (ONNX initializers and Constant
 *   nodes), its data. Every value has at most one producer node; graph
 *   inputs and constants have none.
 * - A node is one operator (pb_op_t) with value indices as inputs and
 *   outputs. An absent optional input is -1 (e.g. Gemm without C, Clip with
 *   max but no min). Attributes are parsed into pb_attr_t, resolved and
 *   normalized (axes >= 0, Transpose perm filled in, Conv kernel from W).
 * - Quantized graphs keep ONNX's form: QuantizeLinear / DequantizeLinear are
 *   nodes, their scales and zero points are (usually constant) input values.
 *   QLinearMatMul, QLinearConv, MatMulInteger and ConvInteger are nodes too.
 *
 * Indices are stable while nodes and values are only added; pb_ir_compact()
 * renumbers. Every function that can fail returns 0 / an index, or -1 with a
 * message in err (errlen bytes, may be 0).
 */
#ifndef PROTOBRAIN_IR_H
#define PROTOBRAIN_IR_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PB_IR_MAX_RANK 6
#define PB_IR_MAX_IN 9  /* QLinearConv */
#define PB_IR_MAX_OUT 2
#define PB_IR_MAX_ELEMS ((int64_t)INT32_MAX) /* largest tensor (elements) the IR accepts; dims fit an int */

/* Element types; the codes are ONNX's TensorProto.DataType. */
typedef enum {
  PB_IR_F32 = 1,
  PB_IR_U8 = 2,
  PB_IR_I8 = 3,
  PB_IR_I32 = 6,
  PB_IR_I64 = 7, /* shapes and indices (Reshape's shape, ArgMax's output) */
} pb_ir_dtype_t;

/*
 * The operators: X(ENUM, "OnnxName", min inputs, max inputs, min ONNX opset).
 * The minimum opset is the first default-domain opset whose version of the
 * operator has the semantics implemented here (older versions are refused).
 */
#define PB_IR_OPS(X)                                 \
  X(IDENTITY, "Identity", 1, 1, 1)                   \
  X(GEMM, "Gemm", 2, 3, 7)                           \
  X(MATMUL, "MatMul", 2, 2, 1)                       \
  X(ADD, "Add", 2, 2, 7)                             \
  X(RELU, "Relu", 1, 1, 6)                           \
  X(CLIP, "Clip", 1, 3, 6)                           \
  X(CONV, "Conv", 2, 3, 1)                           \
  X(MAXPOOL, "MaxPool", 1, 1, 1)                     \
  X(AVGPOOL, "AveragePool", 1, 1, 1)                 \
  X(GLOBALAVGPOOL, "GlobalAveragePool", 1, 1, 1)     \
  X(FLATTEN, "Flatten", 1, 1, 1)                     \
  X(RESHAPE, "Reshape", 2, 2, 5)                     \
  X(TRANSPOSE, "Transpose", 1, 1, 1)                 \
  X(SOFTMAX, "Softmax", 1, 1, 1)                     \
  X(ARGMAX, "ArgMax", 1, 1, 1)                       \
  X(QUANTIZE, "QuantizeLinear", 2, 3, 10)            \
  X(DEQUANTIZE, "DequantizeLinear", 2, 3, 10)        \
  X(QLINEARMATMUL, "QLinearMatMul", 8, 8, 10)        \
  X(QLINEARCONV, "QLinearConv", 8, 9, 10)            \
  X(MATMULINTEGER, "MatMulInteger", 2, 4, 10)        \
  X(CONVINTEGER, "ConvInteger", 2, 4, 10)

typedef enum {
#define PB_IR_OP_ENUM(e, name, mi, ma, ops) PB_OP_##e,
  PB_IR_OPS(PB_IR_OP_ENUM)
#undef PB_IR_OP_ENUM
  PB_OP_COUNT
} pb_op_t;

/*
 * Attributes, resolved by the importer (defaults filled in). Only the fields
 * of the node's operator are meaningful; the others are 0.
 */
typedef struct {
  /* Gemm: Y = alpha * A' * B' + beta * C, A' = transA ? A^T : A */
  int trans_a, trans_b;
  float alpha, beta;
  /*
   * Conv, QLinearConv, ConvInteger, MaxPool, AveragePool: 2-D windows over
   * N x C x H x W. kernel = {kh, kw} (from W for convolutions), stride =
   * {sh, sw}, pad = {top, left, bottom, right} (ONNX order: begins, ends).
   * Dilations are 1 and group is 1 (the importer refuses anything else).
   */
  int kernel[2], stride[2], pad[4];
  int ceil_mode;         /* MaxPool, AveragePool */
  int count_include_pad; /* AveragePool */
  /*
   * Flatten, Softmax, ArgMax, QuantizeLinear, DequantizeLinear: the ONNX
   * axis; inference normalizes it to 0 <= axis < rank (Flatten: <= rank).
   */
  int axis;
  int keepdims, select_last_index; /* ArgMax */
  int softmax_flat;                /* Softmax before opset 13: over the flattened dims axis..rank-1 */
  int perm[PB_IR_MAX_RANK];        /* Transpose: output dim i is input dim perm[i] */
  int n_perm;                      /* Transpose: 0 = reverse the dims (filled in by inference) */
  int allowzero;                   /* Reshape: 0 in shape means 0, not "copy" (only legal without zeros) */
} pb_attr_t;

typedef struct {
  char *name;
  pb_ir_dtype_t dtype;
  int rank;
  int64_t dims[PB_IR_MAX_RANK];
  void *data;    /* constant data, row-major in dtype (owned); NULL for run-time values */
  int producer;  /* node index, -1 for graph inputs and constants */
  int n_consumers;
  int *consumers; /* node indices, one entry per use (pb_ir_update_uses) */
} pb_value_t;

typedef struct {
  pb_op_t op;
  char *name;    /* the ONNX node name ("" when the file has none) */
  int src_index; /* position in the ONNX file's node list, -1 for nodes made by passes */
  int n_inputs, n_outputs;
  int inputs[PB_IR_MAX_IN]; /* value indices; -1 = absent optional input */
  int outputs[PB_IR_MAX_OUT];
  pb_attr_t attr;
  int dead; /* set by pb_ir_remove_node, removed by pb_ir_compact */
} pb_node_t;

typedef struct {
  char *name;      /* ONNX graph name */
  int64_t opset;   /* default-domain opset the model was imported with */
  int64_t batch;   /* the batch that replaced dynamic dims, 0 if none did */
  pb_value_t *values;
  int n_values, cap_values;
  pb_node_t *nodes; /* topological order */
  int n_nodes, cap_nodes;
  int *inputs;  /* run-time graph inputs (value indices), initializers excluded */
  int n_inputs;
  int *outputs; /* graph outputs (value indices) */
  int n_outputs;
} pb_graph_t;

/* ---- operators and dtypes ------------------------------------------------ */

const char *pb_ir_op_name(pb_op_t op);           /* "Gemm"; "?" if out of range */
int pb_ir_op_from_name(const char *onnx_name);   /* pb_op_t, or -1 */
int pb_ir_op_min_inputs(pb_op_t op);
int pb_ir_op_max_inputs(pb_op_t op);
int pb_ir_op_min_opset(pb_op_t op);
/* "Add, ArgMax, AveragePool, ..." (sorted, comma separated; static storage). */
const char *pb_ir_op_list(void);

const char *pb_ir_dtype_name(int dtype);         /* "f32" "u8" "i8" "i32" "i64"; "?" */
size_t pb_ir_dtype_size(int dtype);              /* 0 if unknown */
int pb_ir_dtype_ok(int dtype);                   /* 1 for the five pb_ir_dtype_t codes */

/* ---- values -------------------------------------------------------------- */

int64_t pb_ir_numel(const pb_value_t *v);        /* product of dims (1 for rank 0) */
size_t pb_ir_nbytes(const pb_value_t *v);
/* "1x3x28x28", "scalar" for rank 0; returns buf. */
char *pb_ir_shape_str(const pb_value_t *v, char *buf, size_t len);
int pb_ir_shape_eq(const pb_value_t *a, const pb_value_t *b);

/* Element i of a constant (any dtype) as double / as int64 (floats truncated). */
double pb_ir_const_f64(const pb_value_t *v, int64_t i);
int64_t pb_ir_const_i64(const pb_value_t *v, int64_t i);

/* Free a value's name, data and consumer list and zero it (for values outside a graph). */
void pb_ir_value_clear(pb_value_t *v);

/* ---- building ------------------------------------------------------------ */

pb_graph_t *pb_ir_new(void);
void pb_ir_free(pb_graph_t *g);

int pb_ir_find_value(const pb_graph_t *g, const char *name); /* index or -1 */
/*
 * Add a run-time value (data == NULL) or a constant (data copied,
 * numel * dtype size bytes). Names must be unique and non-empty. Dims must be
 * >= 1, rank <= PB_IR_MAX_RANK, numel <= PB_IR_MAX_ELEMS. Returns the index.
 */
int pb_ir_add_value(pb_graph_t *g, const char *name, pb_ir_dtype_t dtype, int rank, const int64_t *dims,
                    const void *data, char *err, size_t errlen);
/* A fresh name "<base>", "<base>_1", ... not used by any value (malloc'd; NULL on OOM). */
char *pb_ir_unique_name(const pb_graph_t *g, const char *base);
/*
 * Append a node (attributes zero; set g->nodes[i].attr afterwards). Sets
 * each output's producer; fails if an output already has one. Does not
 * infer shapes: call pb_ir_infer_node(). Returns the node index.
 */
int pb_ir_add_node(pb_graph_t *g, pb_op_t op, const char *name, const int *inputs, int n_inputs,
                   const int *outputs, int n_outputs, char *err, size_t errlen);
int pb_ir_add_graph_input(pb_graph_t *g, int value);
int pb_ir_add_graph_output(pb_graph_t *g, int value);

/* ---- queries and rewriting (for the passes) -------------------------------- */

/* "node 3 'conv1' (Conv)" (the ONNX position when the node came from the file). */
char *pb_ir_node_desc(const pb_graph_t *g, int node, char *buf, size_t len);
int pb_ir_is_const(const pb_graph_t *g, int value);
int pb_ir_is_graph_input(const pb_graph_t *g, int value);
int pb_ir_is_graph_output(const pb_graph_t *g, int value);
/* The producing node's op, or -1 (input, constant, absent). */
int pb_ir_producer_op(const pb_graph_t *g, int value);
/*
 * The one node that reads `value`, or -1 when several nodes (or one node
 * twice) read it or it is a graph output: the usual test before fusing the
 * producer into its consumer. Uses the consumer lists (pb_ir_update_uses).
 */
int pb_ir_sole_consumer(const pb_graph_t *g, int value);
/* Recompute every value's producer and consumer list from the nodes (dead nodes excluded). */
int pb_ir_update_uses(pb_graph_t *g);
/* Make every node input that reads `from` read `to` (graph outputs unchanged). Returns the count. */
int pb_ir_replace_uses(pb_graph_t *g, int from, int to);
/* Mark a node dead; its outputs lose their producer. pb_ir_compact() removes it. */
void pb_ir_remove_node(pb_graph_t *g, int node);
/*
 * Drop dead nodes and values that nothing uses (no producer, no consumer, not
 * a graph input or output), renumber, update uses. Indices change.
 */
int pb_ir_compact(pb_graph_t *g);
/* Reorder nodes topologically (stable: keeps the current order where it can). Fails on a cycle. */
int pb_ir_toposort(pb_graph_t *g, char *err, size_t errlen);
/*
 * Shape and type inference of one node from its inputs (which must already
 * have shapes): checks input dtypes, ranks and dims, normalizes attributes
 * (axes, perm), and sets each output's dtype and shape. Messages start with
 * pb_ir_node_desc().
 */
int pb_ir_infer_node(pb_graph_t *g, int node, char *err, size_t errlen);
/* Infer every node in order; also checks the structural invariants (pb_ir_check). */
int pb_ir_infer(pb_graph_t *g, char *err, size_t errlen);
/*
 * Structural invariants: indices in range, each value produced at most once,
 * every node input defined by a graph input, a constant or an earlier node,
 * graph outputs defined, no dead nodes.
 */
int pb_ir_check(const pb_graph_t *g, char *err, size_t errlen);

/* A readable listing: inputs, constants (count and bytes), nodes with attributes and shapes, outputs. */
void pb_ir_dump(const pb_graph_t *g, FILE *f);

#endif
