/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ONNX import (onnx_import.h): ModelProto (protobuf-c) -> IR.
 *
 * Order of work: decode the protobuf; check the model header (IR version,
 * default-domain opset); initializers become constants; graph inputs become
 * run-time values with static shapes (dynamic dims resolved from `batch`);
 * Constant nodes become constants; every other node becomes an IR node with
 * its attributes parsed and checked; node inputs are resolved by name; the
 * nodes are sorted topologically and every shape is inferred
 * (pb_ir_infer_node); declared output types are checked against inference.
 */
#include "onnx_import.h"

#include <errno.h>
#include <float.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx.pb-c.h"

#define MAX_FILE_BYTES ((size_t)1 << 30)
#define ATTR_MAX 1048576 /* bound on kernel, stride and pad attributes */

typedef Onnx__NodeProto node_proto_t;
typedef Onnx__AttributeProto attr_proto_t;

typedef struct {
  const char *file;
  char *err;
  size_t errlen;
  int64_t opset, batch;
  pb_graph_t *g;
  int dynamic_seen; /* some input dim was dynamic (and replaced by batch) */
} imp_t;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static int ierr(const imp_t *im, const char *fmt, ...) {
  if (!im->err || !im->errlen) return -1;
  int o = snprintf(im->err, im->errlen, "%s: ", im->file);
  if (o < 0 || (size_t)o >= im->errlen) return -1;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(im->err + o, im->errlen - (size_t)o, fmt, ap);
  va_end(ap);
  return -1;
}

static const char *str_or_empty(const char *s) { return s ? s : ""; }

/* "node 3 'conv1' (Conv)" for an ONNX node. */
static const char *ndesc(const node_proto_t *n, int idx, char *buf, size_t len) {
  snprintf(buf, len, "node %d '%.80s' (%.60s)", idx, str_or_empty(n->name), str_or_empty(n->op_type));
  return buf;
}

static const char *onnx_dtype_name(int t) {
  static const char *names[] = {"UNDEFINED", "FLOAT",  "UINT8",  "INT8",      "UINT16",     "INT16",
                                "INT32",     "INT64",  "STRING", "BOOL",      "FLOAT16",    "DOUBLE",
                                "UINT32",    "UINT64", "COMPLEX64", "COMPLEX128", "BFLOAT16"};
  if (t >= 0 && t < (int)(sizeof names / sizeof names[0])) return names[t];
  return "unknown";
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

/* Supported operators, sorted, including Constant (handled by the importer). */
static const char *supported_list(void) {
  static char list[600];
  if (!list[0]) {
    const char *names[PB_OP_COUNT + 1];
    for (int i = 0; i < PB_OP_COUNT; i++) names[i] = pb_ir_op_name((pb_op_t)i);
    names[PB_OP_COUNT] = "Constant";
    qsort(names, PB_OP_COUNT + 1, sizeof names[0], cmp_str);
    size_t o = 0;
    for (int i = 0; i <= PB_OP_COUNT && o < sizeof list; i++)
      o += (size_t)snprintf(list + o, sizeof list - o, "%s%s", i ? ", " : "", names[i]);
  }
  return list;
}

/* ---- tensors ------------------------------------------------------------------ */

static int map_dtype(int onnx_type) { return pb_ir_dtype_ok(onnx_type) ? onnx_type : 0; }

/*
 * TensorProto -> dtype, shape and malloc'd data. what: "initializer 'w'".
 * Accepts raw_data (little-endian) or the typed fields; refuses external
 * data, segments, empty tensors and unsupported types.
 */
static int decode_tensor(const Onnx__TensorProto *t, const char *what, int *dtype, int *rank, int64_t *dims,
                         void **data, char *err, size_t errlen) {
  *data = NULL;
  if ((t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL) ||
      t->n_external_data > 0) {
    const char *loc = "?";
    for (size_t i = 0; i < t->n_external_data; i++)
      if (t->external_data[i] && t->external_data[i]->key && strcmp(t->external_data[i]->key, "location") == 0)
        loc = str_or_empty(t->external_data[i]->value);
    snprintf(err, errlen,
             "%s stores its data in an external file ('%.100s'); external data is not supported: save the model "
             "with every tensor inside it (onnx.save(model, path, save_as_external_data=False))",
             what, loc);
    return -1;
  }
  if (t->segment) {
    snprintf(err, errlen, "%s is segmented; segmented tensors are not supported", what);
    return -1;
  }
  int dt = t->has_data_type ? map_dtype(t->data_type) : 0;
  if (!dt) {
    snprintf(err, errlen, "%s has data type %s (%d); supported: FLOAT, UINT8, INT8, INT32, INT64", what,
             t->has_data_type ? onnx_dtype_name(t->data_type) : "missing", t->has_data_type ? (int)t->data_type : 0);
    return -1;
  }
  if (t->n_dims > PB_IR_MAX_RANK) {
    snprintf(err, errlen, "%s has rank %zu; at most %d is supported", what, t->n_dims, PB_IR_MAX_RANK);
    return -1;
  }
  int64_t n = 1;
  for (size_t i = 0; i < t->n_dims; i++) {
    int64_t d = t->dims[i];
    if (d < 1) {
      snprintf(err, errlen, "%s has dimension %zu = %lld; empty (zero-sized) or negative dimensions are not supported",
               what, i, (long long)d);
      return -1;
    }
    if (d > PB_IR_MAX_ELEMS || n > PB_IR_MAX_ELEMS / d) {
      snprintf(err, errlen, "%s is too large", what);
      return -1;
    }
    n *= d;
    dims[i] = d;
  }
  *rank = (int)t->n_dims;
  *dtype = dt;
  size_t esz = pb_ir_dtype_size(dt), bytes = (size_t)n * esz;
  /* where the values are, and how many there are: checked before anything is allocated */
  int raw = t->has_raw_data && t->raw_data.len > 0;
  const char *field = raw ? "raw_data" : dt == PB_IR_F32 ? "float_data" : dt == PB_IR_I64 ? "int64_data" : "int32_data";
  size_t have = raw ? t->raw_data.len / esz
                    : dt == PB_IR_F32 ? t->n_float_data : dt == PB_IR_I64 ? t->n_int64_data : t->n_int32_data;
  if (raw && t->raw_data.len != bytes) {
    snprintf(err, errlen, "%s: raw_data has %zu bytes but %lld %s elements need %zu", what, t->raw_data.len,
             (long long)n, onnx_dtype_name(dt), bytes);
    return -1;
  }
  if (have != (size_t)n) {
    const char *other = t->n_float_data ? "float_data" : t->n_int32_data ? "int32_data" : t->n_int64_data ? "int64_data"
                        : t->n_double_data ? "double_data" : t->n_uint64_data ? "uint64_data" : NULL;
    if (have == 0 && other)
      snprintf(err, errlen, "%s has data type %s, whose values belong in %s or raw_data, but its data is in %s", what,
               onnx_dtype_name(dt), field, other);
    else if (have == 0)
      snprintf(err, errlen, "%s has no data (neither raw_data nor %s; %lld elements expected)", what, field,
               (long long)n);
    else
      snprintf(err, errlen, "%s: %s has %zu elements but the shape needs %lld", what, field, have, (long long)n);
    return -1;
  }
  uint8_t *buf = malloc(bytes ? bytes : 1);
  if (!buf) {
    snprintf(err, errlen, "%s: out of memory (%zu bytes)", what, bytes);
    return -1;
  }
  if (raw) {
    memcpy(buf, t->raw_data.data, bytes); /* little-endian host */
  } else if (dt == PB_IR_F32) {
    memcpy(buf, t->float_data, bytes);
  } else if (dt == PB_IR_I64) {
    memcpy(buf, t->int64_data, bytes);
  } else {
    for (size_t i = 0; i < have; i++) {
      int32_t v = t->int32_data[i];
      int lo = dt == PB_IR_I8 ? -128 : 0, hi = dt == PB_IR_I8 ? 127 : 255;
      if (dt == PB_IR_I32) {
        ((int32_t *)buf)[i] = v;
      } else if (v < lo || v > hi) {
        snprintf(err, errlen, "%s: int32_data[%zu] = %d is out of range for %s", what, i, v, onnx_dtype_name(dt));
        free(buf);
        return -1;
      } else if (dt == PB_IR_I8) {
        ((int8_t *)buf)[i] = (int8_t)v;
      } else {
        buf[i] = (uint8_t)v;
      }
    }
  }
  *data = buf;
  return 0;
}

/* Decode a TensorProto and add it to the graph as a constant named `name`. */
static int add_const_tensor(imp_t *im, const Onnx__TensorProto *t, const char *name, const char *what) {
  int dtype, rank = 0;
  int64_t dims[PB_IR_MAX_RANK];
  void *data;
  char e[512];
  if (decode_tensor(t, what, &dtype, &rank, dims, &data, e, sizeof e)) return ierr(im, "%s", e);
  int v = pb_ir_add_value(im->g, name, (pb_ir_dtype_t)dtype, rank, dims, data, e, sizeof e);
  free(data);
  if (v < 0) return ierr(im, "%s: %s", what, e);
  return v;
}

int pb_onnx_tensor_decode(const uint8_t *buf, size_t len, const char *what, pb_value_t *out, char *err,
                          size_t errlen) {
  memset(out, 0, sizeof *out);
  if (!what) what = "tensor";
  Onnx__TensorProto *t = onnx__tensor_proto__unpack(NULL, len, buf);
  if (!t) {
    snprintf(err, errlen, "%s: not a TensorProto (protobuf parse of %zu bytes failed)", what, len);
    return -1;
  }
  int dtype, rank = 0, rc = -1;
  int64_t dims[PB_IR_MAX_RANK];
  void *data;
  if (decode_tensor(t, what, &dtype, &rank, dims, &data, err, errlen) == 0) {
    out->name = strdup(str_or_empty(t->name));
    if (!out->name) {
      free(data);
      snprintf(err, errlen, "%s: out of memory", what);
    } else {
      out->dtype = (pb_ir_dtype_t)dtype;
      out->rank = rank;
      memcpy(out->dims, dims, sizeof dims);
      out->data = data;
      out->producer = -1;
      rc = 0;
    }
  }
  onnx__tensor_proto__free_unpacked(t, NULL);
  return rc;
}

/* ---- attributes ----------------------------------------------------------------- */

typedef struct {
  imp_t *im;
  const node_proto_t *n;
  int idx;
} nctx_t;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static int nerr(const nctx_t *c, const char *fmt, ...) {
  char msg[640], d[200];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return ierr(c->im, "%s: %s", ndesc(c->n, c->idx, d, sizeof d), msg);
}

static const attr_proto_t *find_attr(const node_proto_t *n, const char *name) {
  for (size_t i = 0; i < n->n_attribute; i++)
    if (n->attribute[i] && n->attribute[i]->name && strcmp(n->attribute[i]->name, name) == 0) return n->attribute[i];
  return NULL;
}

/* The attribute's type; inferred from its content when the (required) type field is missing. */
static int attr_type(const attr_proto_t *a) {
  if (a->has_type && a->type != ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED) return (int)a->type;
  if (a->n_ints) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
  if (a->n_floats) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS;
  if (a->has_i) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
  if (a->has_f) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
  if (a->has_s) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING;
  if (a->t) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR;
  return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED;
}

static const char *attr_type_name(int t) {
  switch (t) {
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT: return "FLOAT";
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT: return "INT";
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING: return "STRING";
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR: return "TENSOR";
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS: return "FLOATS";
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS: return "INTS";
  default: return "another type";
  }
}

static int want_type(const nctx_t *c, const attr_proto_t *a, int type) {
  int t = attr_type(a);
  if (t != type)
    return nerr(c, "attribute '%s' has type %s; expected %s", a->name, attr_type_name(t), attr_type_name(type));
  return 0;
}

/* An INT attribute in [lo, hi], or def when absent. */
static int attr_int(const nctx_t *c, const char *name, int def, int lo, int hi, int *out) {
  const attr_proto_t *a = find_attr(c->n, name);
  *out = def;
  if (!a) return 0;
  if (want_type(c, a, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT)) return -1;
  if (a->i < lo || a->i > hi)
    return nerr(c, "attribute '%s' = %lld is out of range [%d, %d]", name, (long long)a->i, lo, hi);
  *out = (int)a->i;
  return 0;
}

static int attr_float(const nctx_t *c, const char *name, float def, float *out) {
  const attr_proto_t *a = find_attr(c->n, name);
  *out = def;
  if (!a) return 0;
  if (want_type(c, a, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT)) return -1;
  *out = a->f;
  return 0;
}

/* An INTS attribute with exactly `count` values (count < 0: up to -count), each in [lo, hi]. Returns the count. */
static int attr_ints(const nctx_t *c, const char *name, int count, int lo, int hi, int *out, const char *why) {
  const attr_proto_t *a = find_attr(c->n, name);
  if (!a) return 0;
  if (want_type(c, a, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS)) return -1;
  size_t n = a->n_ints;
  if ((count >= 0 && n != (size_t)count) || (count < 0 && n > (size_t)-count))
    return nerr(c, "attribute '%s' has %zu values; %s", name, n, why);
  for (size_t i = 0; i < n; i++) {
    if (a->ints[i] < lo || a->ints[i] > hi)
      return nerr(c, "attribute '%s'[%zu] = %lld is out of range [%d, %d]", name, i, (long long)a->ints[i], lo, hi);
    out[i] = (int)a->ints[i];
  }
  return (int)n;
}

/* Rejects attributes the operator does not define (known: NULL-terminated list). */
static int check_known_attrs(const nctx_t *c, const char *const *known) {
  for (size_t i = 0; i < c->n->n_attribute; i++) {
    const attr_proto_t *a = c->n->attribute[i];
    const char *name = a ? str_or_empty(a->name) : "";
    int ok = 0;
    for (size_t k = 0; known[k]; k++)
      if (strcmp(known[k], name) == 0) ok = 1;
    if (!ok) {
      char list[256] = "none";
      size_t o = 0;
      for (size_t k = 0; known[k]; k++) o += (size_t)snprintf(list + o, sizeof list - o, "%s%s", k ? ", " : "", known[k]);
      return nerr(c, "attribute '%.60s' is not supported for %s (known: %s)", name, str_or_empty(c->n->op_type), list);
    }
  }
  return 0;
}

/* Window attributes of Conv-like and pooling operators (2-D only). */
static int parse_window(const nctx_t *c, pb_attr_t *at, int pool) {
  const attr_proto_t *ap = find_attr(c->n, "auto_pad");
  int has_pads = find_attr(c->n, "pads") != NULL;
  if (ap) {
    if (want_type(c, ap, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING)) return -1;
    char v[32];
    snprintf(v, sizeof v, "%.*s", (int)(ap->s.len < 31 ? ap->s.len : 31), ap->s.data ? (const char *)ap->s.data : "");
    if (strcmp(v, "NOTSET") != 0 && strcmp(v, "VALID") != 0)
      return nerr(c, "attribute 'auto_pad' = %s is not supported (only NOTSET or VALID; export with explicit pads)", v);
    if (strcmp(v, "VALID") == 0 && has_pads) return nerr(c, "attribute 'auto_pad' = VALID cannot be combined with 'pads'");
  }
  const attr_proto_t *ks = find_attr(c->n, "kernel_shape");
  if (pool && !ks) return nerr(c, "attribute 'kernel_shape' is required");
  if (attr_ints(c, "kernel_shape", 2, 1, ATTR_MAX, at->kernel, "only 2-D windows (N x C x H x W) are supported") < 0)
    return -1;
  at->stride[0] = at->stride[1] = 1;
  if (attr_ints(c, "strides", 2, 1, ATTR_MAX, at->stride, "expected 2 (2-D)") < 0) return -1;
  if (attr_ints(c, "pads", 4, 0, ATTR_MAX, at->pad, "expected 4 (2-D: top, left, bottom, right)") < 0) return -1;
  int dil[2] = {1, 1};
  if (attr_ints(c, "dilations", 2, 1, ATTR_MAX, dil, "expected 2 (2-D)") < 0) return -1;
  if (dil[0] != 1 || dil[1] != 1)
    return nerr(c, "attribute 'dilations' = [%d, %d] is not supported (only 1)", dil[0], dil[1]);
  if (!pool) {
    int group;
    if (attr_int(c, "group", 1, INT32_MIN, INT32_MAX, &group)) return -1;
    if (group != 1)
      return nerr(c, "attribute 'group' = %d is not supported (only group = 1: no grouped or depthwise convolution)",
                  group);
  } else {
    if (attr_int(c, "ceil_mode", 0, 0, 1, &at->ceil_mode)) return -1;
  }
  return 0;
}

/* Parse and check the attributes of a (non-Constant) node. */
static int parse_attrs(const nctx_t *c, pb_op_t op, pb_attr_t *at) {
  static const char *const none[] = {NULL};
  static const char *const gemm[] = {"alpha", "beta", "transA", "transB", NULL};
  static const char *const conv[] = {"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides", NULL};
  static const char *const maxpool[] = {"auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order",
                                        "strides", NULL};
  static const char *const avgpool[] = {"auto_pad", "ceil_mode", "count_include_pad", "dilations", "kernel_shape",
                                        "pads", "strides", NULL};
  static const char *const axis[] = {"axis", NULL};
  static const char *const qaxis[] = {"axis", "saturate", NULL};
  static const char *const argmax[] = {"axis", "keepdims", "select_last_index", NULL};
  static const char *const perm[] = {"perm", NULL};
  static const char *const reshape[] = {"allowzero", NULL};
  static const char *const clip_old[] = {"min", "max", NULL};
  memset(at, 0, sizeof *at);
  int64_t opset = c->im->opset;
  switch (op) {
  case PB_OP_GEMM:
    if (check_known_attrs(c, gemm)) return -1;
    return attr_float(c, "alpha", 1.0f, &at->alpha) || attr_float(c, "beta", 1.0f, &at->beta) ||
                   attr_int(c, "transA", 0, 0, 1, &at->trans_a) || attr_int(c, "transB", 0, 0, 1, &at->trans_b)
               ? -1
               : 0;
  case PB_OP_CONV:
  case PB_OP_QLINEARCONV:
  case PB_OP_CONVINTEGER:
    if (check_known_attrs(c, conv)) return -1;
    return parse_window(c, at, 0);
  case PB_OP_MAXPOOL: {
    if (check_known_attrs(c, maxpool) || parse_window(c, at, 1)) return -1;
    int so;
    return attr_int(c, "storage_order", 0, 0, 1, &so);
  }
  case PB_OP_AVGPOOL:
    if (check_known_attrs(c, avgpool) || parse_window(c, at, 1)) return -1;
    return attr_int(c, "count_include_pad", 0, 0, 1, &at->count_include_pad);
  case PB_OP_FLATTEN:
    if (check_known_attrs(c, axis)) return -1;
    return attr_int(c, "axis", 1, -PB_IR_MAX_RANK, PB_IR_MAX_RANK, &at->axis);
  case PB_OP_SOFTMAX:
    if (check_known_attrs(c, axis)) return -1;
    at->softmax_flat = opset < 13;
    return attr_int(c, "axis", opset < 13 ? 1 : -1, -PB_IR_MAX_RANK, PB_IR_MAX_RANK, &at->axis);
  case PB_OP_ARGMAX:
    if (check_known_attrs(c, argmax)) return -1;
    return attr_int(c, "axis", 0, -PB_IR_MAX_RANK, PB_IR_MAX_RANK, &at->axis) ||
                   attr_int(c, "keepdims", 1, 0, 1, &at->keepdims) ||
                   attr_int(c, "select_last_index", 0, 0, 1, &at->select_last_index)
               ? -1
               : 0;
  case PB_OP_QUANTIZE: {
    if (check_known_attrs(c, qaxis)) return -1;
    int sat;
    return attr_int(c, "axis", 1, -PB_IR_MAX_RANK, PB_IR_MAX_RANK, &at->axis) ||
                   attr_int(c, "saturate", 1, 0, 1, &sat) /* float8 outputs only: no effect on int8/uint8 */
               ? -1
               : 0;
  }
  case PB_OP_DEQUANTIZE:
    if (check_known_attrs(c, axis)) return -1;
    return attr_int(c, "axis", 1, -PB_IR_MAX_RANK, PB_IR_MAX_RANK, &at->axis);
  case PB_OP_TRANSPOSE: {
    if (check_known_attrs(c, perm)) return -1;
    int n = attr_ints(c, "perm", -PB_IR_MAX_RANK, 0, PB_IR_MAX_RANK - 1, at->perm, "at most 6 are supported");
    if (n < 0) return -1;
    at->n_perm = n;
    return 0;
  }
  case PB_OP_RESHAPE:
    if (check_known_attrs(c, reshape)) return -1;
    return attr_int(c, "allowzero", 0, 0, 1, &at->allowzero);
  case PB_OP_CLIP:
    return check_known_attrs(c, opset < 11 ? clip_old : none);
  default: return check_known_attrs(c, none);
  }
}

/* Constant node -> constant value named after its output. */
static int import_constant(const nctx_t *c) {
  imp_t *im = c->im;
  const node_proto_t *n = c->n;
  if (n->n_output != 1 || !n->output[0] || !n->output[0][0]) return nerr(c, "a Constant node must have one output");
  if (n->n_attribute != 1 || !n->attribute[0]) return nerr(c, "a Constant node must have exactly one attribute");
  const attr_proto_t *a = n->attribute[0];
  const char *an = str_or_empty(a->name), *out = n->output[0];
  char what[200], e[512];
  snprintf(what, sizeof what, "Constant '%.80s'", out);
  int64_t dims[1];
  int v = -1;
  if (strcmp(an, "value") == 0) {
    if (want_type(c, a, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR) || !a->t)
      return a->t ? -1 : nerr(c, "attribute 'value' has no tensor");
    int dtype, rank = 0;
    int64_t d[PB_IR_MAX_RANK];
    void *data;
    if (decode_tensor(a->t, what, &dtype, &rank, d, &data, e, sizeof e)) return nerr(c, "attribute 'value': %s", e);
    v = pb_ir_add_value(im->g, out, (pb_ir_dtype_t)dtype, rank, d, data, e, sizeof e);
    free(data);
  } else if (strcmp(an, "value_float") == 0) {
    if (want_type(c, a, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT)) return -1;
    v = pb_ir_add_value(im->g, out, PB_IR_F32, 0, dims, &a->f, e, sizeof e);
  } else if (strcmp(an, "value_int") == 0) {
    if (want_type(c, a, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT)) return -1;
    v = pb_ir_add_value(im->g, out, PB_IR_I64, 0, dims, &a->i, e, sizeof e);
  } else if (strcmp(an, "value_floats") == 0 || strcmp(an, "value_ints") == 0) {
    int fl = an[6] == 'f';
    if (want_type(c, a, fl ? ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS : ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS))
      return -1;
    dims[0] = (int64_t)(fl ? a->n_floats : a->n_ints);
    v = pb_ir_add_value(im->g, out, fl ? PB_IR_F32 : PB_IR_I64, 1, dims, fl ? (const void *)a->floats : (const void *)a->ints,
                        e, sizeof e);
  } else {
    return nerr(c, "attribute '%.60s' is not supported (only value, value_float(s), value_int(s))", an);
  }
  if (v < 0) return nerr(c, "%s", e);
  return 0;
}

/* ---- graph inputs and outputs ------------------------------------------------------------------------------ */

static int is_initializer(const Onnx__GraphProto *gp, const char *name) {
  for (size_t i = 0; i < gp->n_initializer; i++)
    if (gp->initializer[i] && gp->initializer[i]->name && strcmp(gp->initializer[i]->name, name) == 0) return 1;
  return 0;
}

static const Onnx__TypeProto__Tensor *tensor_type(const imp_t *im, const Onnx__ValueInfoProto *vi, const char *role,
                                                  int *rc) {
  const char *name = str_or_empty(vi->name);
  const Onnx__TypeProto *tp = vi->type;
  *rc = 0;
  if (!tp) {
    *rc = ierr(im, "%s '%s' has no type", role, name);
    return NULL;
  }
  if (tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type) {
    const char *kind = tp->value_case == ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE   ? "a sequence"
                       : tp->value_case == ONNX__TYPE_PROTO__VALUE_MAP_TYPE      ? "a map"
                       : tp->value_case == ONNX__TYPE_PROTO__VALUE_OPTIONAL_TYPE ? "an optional"
                       : tp->value_case == ONNX__TYPE_PROTO__VALUE_SPARSE_TENSOR_TYPE ? "a sparse tensor"
                                                                                      : "of no type";
    *rc = ierr(im, "%s '%s' is not a tensor (it is %s); only dense tensors are supported", role, name, kind);
    return NULL;
  }
  return tp->tensor_type;
}

static int import_input(imp_t *im, const Onnx__ValueInfoProto *vi) {
  int rc;
  const char *name = str_or_empty(vi->name);
  const Onnx__TypeProto__Tensor *tt = tensor_type(im, vi, "input", &rc);
  if (!tt) return rc;
  int dt = tt->has_elem_type ? map_dtype(tt->elem_type) : 0;
  if (!dt)
    return ierr(im, "input '%s' has element type %s; supported: FLOAT, UINT8, INT8, INT32, INT64", name,
                tt->has_elem_type ? onnx_dtype_name(tt->elem_type) : "missing");
  if (!tt->shape) return ierr(im, "input '%s' has no shape; Protobrain needs static shapes", name);
  if (tt->shape->n_dim > PB_IR_MAX_RANK)
    return ierr(im, "input '%s' has rank %zu; at most %d is supported", name, tt->shape->n_dim, PB_IR_MAX_RANK);
  int64_t dims[PB_IR_MAX_RANK];
  for (size_t i = 0; i < tt->shape->n_dim; i++) {
    const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[i];
    int fixed = d && d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE && d->dim_value > 0;
    if (fixed) {
      dims[i] = d->dim_value;
      continue;
    }
    if (d && d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE && d->dim_value == 0)
      return ierr(im, "input '%s' has dimension %zu = 0; empty tensors are not supported", name, i);
    char sym[100];
    if (d && d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM && d->dim_param && d->dim_param[0])
      snprintf(sym, sizeof sym, "'%.80s'", d->dim_param);
    else
      snprintf(sym, sizeof sym, "(unknown) at axis %zu", i);
    if (im->batch <= 0) return ierr(im, "input '%s' has a dynamic dimension %s; give --batch", name, sym);
    if (i != 0)
      return ierr(im, "input '%s' has a dynamic dimension %s at axis %zu; only the batch dimension (axis 0) may be dynamic",
                  name, sym, i);
    dims[i] = im->batch;
    im->dynamic_seen = 1;
  }
  char e[320];
  int v = pb_ir_add_value(im->g, name, (pb_ir_dtype_t)dt, (int)tt->shape->n_dim, dims, NULL, e, sizeof e);
  if (v < 0) return ierr(im, "input '%s': %s", name, e);
  if (pb_ir_add_graph_input(im->g, v)) return ierr(im, "out of memory");
  return 0;
}

/* The model's declared output type must agree with inference (symbolic dims match anything). */
static int check_output(imp_t *im, const Onnx__ValueInfoProto *vi, int v) {
  const pb_value_t *val = &im->g->values[v];
  const Onnx__TypeProto *tp = vi->type;
  if (!tp) return 0;
  int rc;
  const Onnx__TypeProto__Tensor *tt = tensor_type(im, vi, "output", &rc);
  if (!tt) return rc;
  char s[96];
  if (tt->has_elem_type && tt->elem_type != 0 && tt->elem_type != (int32_t)val->dtype)
    return ierr(im, "output '%s' is declared %s but computes %s", val->name, onnx_dtype_name(tt->elem_type),
                onnx_dtype_name(val->dtype));
  if (!tt->shape) return 0;
  int bad = (int)tt->shape->n_dim != val->rank;
  for (size_t i = 0; !bad && i < tt->shape->n_dim; i++) {
    const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[i];
    if (d && d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE && d->dim_value > 0 &&
        d->dim_value != val->dims[i])
      bad = 1;
  }
  if (bad) {
    char decl[160];
    size_t o = 0;
    decl[0] = 0;
    for (size_t i = 0; i < tt->shape->n_dim && o < sizeof decl; i++) {
      const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[i];
      if (d && d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE)
        o += (size_t)snprintf(decl + o, sizeof decl - o, "%s%lld", i ? "x" : "", (long long)d->dim_value);
      else
        o += (size_t)snprintf(decl + o, sizeof decl - o, "%s?", i ? "x" : "");
    }
    return ierr(im, "output '%s' is declared with shape [%s] but inference gives [%s]", val->name,
                tt->shape->n_dim ? decl : "scalar", pb_ir_shape_str(val, s, sizeof s));
  }
  return 0;
}

/* ---- nodes ----------------------------------------------------------------------------- */

/* Number of inputs after dropping trailing empty names (absent optional inputs). */
static size_t used_inputs(const node_proto_t *n) {
  size_t k = n->n_input;
  while (k > 0 && (!n->input[k - 1] || !n->input[k - 1][0])) k--;
  return k;
}

/* Clip before opset 11: min/max attributes become constant inputs. */
static int clip_attr_inputs(const nctx_t *c, int *inputs, int *n_in) {
  static const char *const which[2] = {"min", "max"};
  for (int k = 0; k < 2; k++) {
    const attr_proto_t *a = find_attr(c->n, which[k]);
    if (!a) continue;
    float f;
    if (attr_float(c, which[k], 0, &f)) return -1;
    char base[160], e[320];
    snprintf(base, sizeof base, "%.100s_%s", c->n->output[0], which[k]);
    char *nm = pb_ir_unique_name(c->im->g, base);
    if (!nm) return nerr(c, "out of memory");
    int v = pb_ir_add_value(c->im->g, nm, PB_IR_F32, 0, NULL, &f, e, sizeof e);
    free(nm);
    if (v < 0) return nerr(c, "%s", e);
    inputs[1 + k] = v;
    *n_in = 2 + k;
  }
  return 0;
}

/* First pass over one node: check operator, opset, attributes, outputs; create the output value. */
static int declare_node(imp_t *im, const node_proto_t *n, int idx) {
  nctx_t c = {im, n, idx};
  const char *dom = str_or_empty(n->domain);
  if (dom[0] && strcmp(dom, "ai.onnx") != 0)
    return nerr(&c, "operator domain '%.60s' is not supported (only the default ONNX domain); supported operators: %s",
                dom, supported_list());
  if (!n->op_type || !n->op_type[0]) return nerr(&c, "the node has no op_type");
  if (strcmp(n->op_type, "Constant") == 0) return import_constant(&c);
  int op = pb_ir_op_from_name(n->op_type);
  if (op < 0) return nerr(&c, "operator %.60s is not supported; supported operators: %s", n->op_type, supported_list());
  if (im->opset < pb_ir_op_min_opset((pb_op_t)op))
    return nerr(&c, "%s at opset %lld is not supported (Protobrain implements %s from opset %d)", n->op_type,
                (long long)im->opset, n->op_type, pb_ir_op_min_opset((pb_op_t)op));
  if (n->n_output < 1 || !n->output[0] || !n->output[0][0]) return nerr(&c, "the node has no output");
  for (size_t k = 1; k < n->n_output; k++)
    if (n->output[k] && n->output[k][0]) {
      const char *role = op == PB_OP_MAXPOOL && k == 1 ? " (Indices)" : "";
      return nerr(&c, "output %zu '%.80s'%s is not supported (only the first output)", k, n->output[k], role);
    }
  pb_attr_t at;
  if (parse_attrs(&c, (pb_op_t)op, &at)) return -1;
  char e[320];
  int64_t dims[1] = {1};
  int v = pb_ir_add_value(im->g, n->output[0], PB_IR_F32, 0, dims, NULL, e, sizeof e);
  if (v < 0) return nerr(&c, "output: %s", e);
  return 0;
}

/* Second pass: resolve the inputs by name and add the IR node. */
static int build_node(imp_t *im, const node_proto_t *n, int idx) {
  nctx_t c = {im, n, idx};
  if (strcmp(n->op_type, "Constant") == 0) return 0;
  pb_op_t op = (pb_op_t)pb_ir_op_from_name(n->op_type);
  size_t n_in = used_inputs(n);
  int min_in = pb_ir_op_min_inputs(op), max_in = pb_ir_op_max_inputs(op);
  if (op == PB_OP_CLIP && im->opset < 11) max_in = 1;
  if ((int)n_in < min_in || n_in > (size_t)max_in) {
    if (min_in == max_in) return nerr(&c, "has %zu inputs; %s takes %d", n_in, n->op_type, min_in);
    return nerr(&c, "has %zu inputs; %s takes %d to %d", n_in, n->op_type, min_in, max_in);
  }
  int inputs[PB_IR_MAX_IN];
  int ni = (int)n_in;
  for (int k = 0; k < ni; k++) {
    const char *nm = n->input[k];
    if (!nm || !nm[0]) {
      inputs[k] = -1;
      continue;
    }
    inputs[k] = pb_ir_find_value(im->g, nm);
    if (inputs[k] < 0)
      return nerr(&c, "input %d '%.80s' is not defined: no graph input, initializer or node output has that name", k, nm);
  }
  pb_attr_t at;
  if (parse_attrs(&c, op, &at)) return -1;
  if (op == PB_OP_CLIP && im->opset < 11) {
    inputs[1] = inputs[2] = -1;
    if (clip_attr_inputs(&c, inputs, &ni)) return -1;
  }
  int out = pb_ir_find_value(im->g, n->output[0]);
  char e[320];
  int node = pb_ir_add_node(im->g, op, str_or_empty(n->name), inputs, ni, &out, 1, e, sizeof e);
  if (node < 0) return nerr(&c, "%s", e);
  im->g->nodes[node].attr = at;
  im->g->nodes[node].src_index = idx;
  return 0;
}

/* ---- model ------------------------------------------------------------------------------ */

static int import_model(imp_t *im, const Onnx__ModelProto *m) {
  if (!m->has_ir_version) return ierr(im, "not a valid ONNX model: the ModelProto has no ir_version");
  if (m->ir_version < 3)
    return ierr(im, "ONNX IR version %lld is too old (3 or newer is supported)", (long long)m->ir_version);
  if (!m->graph) return ierr(im, "not a valid ONNX model: the ModelProto has no graph");
  int found = 0;
  for (size_t i = 0; i < m->n_opset_import; i++) {
    const Onnx__OperatorSetIdProto *o = m->opset_import[i];
    if (!o) continue;
    const char *d = str_or_empty(o->domain);
    if (d[0] == 0 || strcmp(d, "ai.onnx") == 0) {
      found = 1;
      im->opset = o->has_version ? o->version : 0;
    }
  }
  if (!found) return ierr(im, "the model imports no opset of the default ONNX domain (opset_import)");
  if (im->opset < 1 || im->opset > PB_ONNX_OPSET_MAX)
    return ierr(im, "default-domain opset %lld is not supported (Protobrain supports opsets up to %d)",
                (long long)im->opset, PB_ONNX_OPSET_MAX);
  const Onnx__GraphProto *gp = m->graph;
  pb_graph_t *g = im->g;
  g->opset = im->opset;
  free(g->name);
  g->name = strdup(str_or_empty(gp->name));
  if (!g->name) return ierr(im, "out of memory");
  if (gp->n_sparse_initializer) return ierr(im, "sparse initializers are not supported");

  for (size_t i = 0; i < gp->n_initializer; i++) {
    const Onnx__TensorProto *t = gp->initializer[i];
    char what[160];
    snprintf(what, sizeof what, "initializer '%.100s'", t ? str_or_empty(t->name) : "");
    if (!t || !t->name || !t->name[0]) return ierr(im, "initializer %zu has no name", i);
    if (add_const_tensor(im, t, t->name, what) < 0) return -1;
  }
  for (size_t i = 0; i < gp->n_input; i++) {
    const Onnx__ValueInfoProto *vi = gp->input[i];
    if (!vi || !vi->name || !vi->name[0]) return ierr(im, "graph input %zu has no name", i);
    if (is_initializer(gp, vi->name)) continue;
    if (import_input(im, vi)) return -1;
  }
  if (im->batch > 0 && !im->dynamic_seen && g->n_inputs > 0) {
    const pb_value_t *v0 = &g->values[g->inputs[0]];
    if (v0->rank > 0 && v0->dims[0] != im->batch)
      return ierr(im, "--batch %lld given but the model has no dynamic dimension (input '%s' has a fixed batch of %lld)",
                  (long long)im->batch, v0->name, (long long)v0->dims[0]);
  }
  if (im->dynamic_seen) g->batch = im->batch;

  for (size_t i = 0; i < gp->n_node; i++) {
    if (!gp->node[i]) return ierr(im, "node %zu is empty", i);
    if (declare_node(im, gp->node[i], (int)i)) return -1;
  }
  for (size_t i = 0; i < gp->n_node; i++)
    if (build_node(im, gp->node[i], (int)i)) return -1;

  char e[640];
  if (pb_ir_toposort(g, e, sizeof e)) return ierr(im, "%s", e);
  for (int i = 0; i < g->n_nodes; i++)
    if (pb_ir_infer_node(g, i, e, sizeof e)) return ierr(im, "%s", e);

  if (gp->n_output == 0) return ierr(im, "the graph has no outputs");
  for (size_t i = 0; i < gp->n_output; i++) {
    const Onnx__ValueInfoProto *vi = gp->output[i];
    if (!vi || !vi->name || !vi->name[0]) return ierr(im, "graph output %zu has no name", i);
    int v = pb_ir_find_value(g, vi->name);
    if (v < 0) return ierr(im, "graph output '%.80s' is not produced by any node, input or initializer", vi->name);
    if (pb_ir_is_graph_output(g, v)) return ierr(im, "graph output '%.80s' is listed twice", vi->name);
    if (check_output(im, vi, v)) return -1;
    if (pb_ir_add_graph_output(g, v)) return ierr(im, "out of memory");
  }
  if (pb_ir_compact(g)) return ierr(im, "out of memory");
  if (pb_ir_check(g, e, sizeof e)) return ierr(im, "%s", e);
  return 0;
}

int pb_onnx_import(const uint8_t *buf, size_t len, const char *filename, int64_t batch, pb_graph_t **out, char *err,
                   size_t errlen) {
  imp_t im;
  memset(&im, 0, sizeof im);
  im.file = filename ? filename : "<buffer>";
  im.err = err;
  im.errlen = errlen;
  im.batch = batch;
  *out = NULL;
  if (err && errlen) err[0] = 0;
  if (batch < 0 || batch > PB_IR_MAX_ELEMS) return ierr(&im, "batch %lld is out of range", (long long)batch);
  if (!buf || len == 0) return ierr(&im, "not a valid ONNX model: the file is empty");
  if (len > MAX_FILE_BYTES) return ierr(&im, "the model is larger than 1 GiB; not supported");
  Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, len, buf);
  if (!m)
    return ierr(&im,
                "not a valid ONNX model: protobuf parse failed (protobuf-c could not decode a ModelProto from %zu "
                "bytes: the file is truncated, corrupted or not an ONNX protobuf)",
                len);
  im.g = pb_ir_new();
  int rc = im.g ? import_model(&im, m) : ierr(&im, "out of memory");
  onnx__model_proto__free_unpacked(m, NULL);
  if (rc) {
    pb_ir_free(im.g);
    return -1;
  }
  *out = im.g;
  return 0;
}

uint8_t *pb_onnx_read_file(const char *path, size_t *len, char *err, size_t errlen) {
  *len = 0;
  FILE *f = fopen(path, "rb");
  if (!f) {
    snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
    return NULL;
  }
  size_t cap = 1 << 16, n = 0;
  uint8_t *buf = malloc(cap);
  while (buf) {
    if (n == cap) {
      if (cap >= MAX_FILE_BYTES) {
        snprintf(err, errlen, "%s: larger than 1 GiB; not supported", path);
        free(buf);
        fclose(f);
        return NULL;
      }
      uint8_t *nb = realloc(buf, cap * 2);
      if (!nb) {
        free(buf);
        buf = NULL;
        break;
      }
      buf = nb;
      cap *= 2;
    }
    size_t r = fread(buf + n, 1, cap - n, f);
    n += r;
    if (r == 0) break;
  }
  if (!buf) {
    snprintf(err, errlen, "%s: out of memory", path);
    fclose(f);
    return NULL;
  }
  if (ferror(f)) {
    snprintf(err, errlen, "%s: read error: %s", path, strerror(errno));
    free(buf);
    fclose(f);
    return NULL;
  }
  fclose(f);
  *len = n;
  return buf;
}

int pb_onnx_import_file(const char *path, int64_t batch, pb_graph_t **out, char *err, size_t errlen) {
  size_t len;
  *out = NULL;
  uint8_t *buf = pb_onnx_read_file(path, &len, err, errlen);
  if (!buf) return -1;
  int rc = pb_onnx_import(buf, len, path, batch, out, err, errlen);
  free(buf);
  return rc;
}
