/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ONNX import: models built here with the protobuf-c structs, packed, and
 * imported. First a hand-checkable MLP (shapes, attributes, dynamic batch),
 * then every error class (each message must name what failed), then IR
 * helpers, truncation at every length, and 300 random mutations (fixed,
 * printed seed) that must import or fail cleanly, never crash.
 */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "interp.h"
#include "ir.h"
#include "onnx.pb-c.h"
#include "onnx_import.h"

/* ---- model builder: everything malloc'd, freed with onnx__model_proto__free_unpacked ---- */

#define APPEND(arr, n, x)                                  \
  do {                                                     \
    (arr) = realloc((arr), ((n) + 1) * sizeof *(arr));     \
    (arr)[(n)++] = (x);                                    \
  } while (0)

enum { F32 = 1, U8 = 2, I8 = 3, I32 = 6, I64 = 7, DBL = 11 };
#define SYM (-1) /* a symbolic dim "N" */

static Onnx__ModelProto *model_new(int64_t opset) {
  Onnx__ModelProto *m = malloc(sizeof *m);
  onnx__model_proto__init(m);
  m->has_ir_version = 1;
  m->ir_version = 8;
  m->producer_name = strdup("test_onnx_import");
  Onnx__OperatorSetIdProto *o = malloc(sizeof *o);
  onnx__operator_set_id_proto__init(o);
  o->domain = strdup("");
  o->has_version = 1;
  o->version = opset;
  APPEND(m->opset_import, m->n_opset_import, o);
  m->graph = malloc(sizeof *m->graph);
  onnx__graph_proto__init(m->graph);
  m->graph->name = strdup("g");
  return m;
}

static Onnx__ValueInfoProto *value_info(const char *name, int elem, int rank, const int64_t *dims) {
  Onnx__ValueInfoProto *vi = malloc(sizeof *vi);
  onnx__value_info_proto__init(vi);
  vi->name = strdup(name);
  vi->type = malloc(sizeof *vi->type);
  onnx__type_proto__init(vi->type);
  vi->type->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
  vi->type->tensor_type = malloc(sizeof *vi->type->tensor_type);
  onnx__type_proto__tensor__init(vi->type->tensor_type);
  vi->type->tensor_type->has_elem_type = 1;
  vi->type->tensor_type->elem_type = elem;
  if (rank >= 0) {
    Onnx__TensorShapeProto *s = malloc(sizeof *s);
    onnx__tensor_shape_proto__init(s);
    for (int i = 0; i < rank; i++) {
      Onnx__TensorShapeProto__Dimension *d = malloc(sizeof *d);
      onnx__tensor_shape_proto__dimension__init(d);
      if (dims[i] == SYM) {
        d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
        d->dim_param = strdup("N");
      } else {
        d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
        d->dim_value = dims[i];
      }
      APPEND(s->dim, s->n_dim, d);
    }
    vi->type->tensor_type->shape = s;
  }
  return vi;
}

static void add_input(Onnx__ModelProto *m, const char *name, int elem, int rank, const int64_t *dims) {
  APPEND(m->graph->input, m->graph->n_input, value_info(name, elem, rank, dims));
}
static void add_output(Onnx__ModelProto *m, const char *name, int elem, int rank, const int64_t *dims) {
  APPEND(m->graph->output, m->graph->n_output, value_info(name, elem, rank, dims));
}

/* ins/outs: comma-separated names ("" entries allowed: "x,,max") */
static Onnx__NodeProto *add_node(Onnx__ModelProto *m, const char *op, const char *name, const char *ins,
                                 const char *outs) {
  Onnx__NodeProto *n = malloc(sizeof *n);
  onnx__node_proto__init(n);
  n->op_type = strdup(op);
  n->name = strdup(name);
  for (int pass = 0; pass < 2; pass++) {
    const char *s = pass ? outs : ins;
    while (s && *s) {
      const char *e = strchr(s, ',');
      size_t len = e ? (size_t)(e - s) : strlen(s);
      char *v = strndup(s, len);
      if (pass) APPEND(n->output, n->n_output, v);
      else APPEND(n->input, n->n_input, v);
      s = e ? e + 1 : s + len;
    }
  }
  APPEND(m->graph->node, m->graph->n_node, n);
  return n;
}

static Onnx__AttributeProto *new_attr(Onnx__NodeProto *n, const char *name, int type) {
  Onnx__AttributeProto *a = malloc(sizeof *a);
  onnx__attribute_proto__init(a);
  a->name = strdup(name);
  a->has_type = 1;
  a->type = type;
  APPEND(n->attribute, n->n_attribute, a);
  return a;
}
static void attr_i(Onnx__NodeProto *n, const char *name, int64_t v) {
  Onnx__AttributeProto *a = new_attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
  a->has_i = 1;
  a->i = v;
}
static void attr_f(Onnx__NodeProto *n, const char *name, float v) {
  Onnx__AttributeProto *a = new_attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
  a->has_f = 1;
  a->f = v;
}
static void attr_s(Onnx__NodeProto *n, const char *name, const char *v) {
  Onnx__AttributeProto *a = new_attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);
  a->has_s = 1;
  a->s.len = strlen(v);
  a->s.data = (uint8_t *)strdup(v);
}
static void attr_ints(Onnx__NodeProto *n, const char *name, int count, ...) {
  Onnx__AttributeProto *a = new_attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
  va_list ap;
  va_start(ap, count);
  for (int i = 0; i < count; i++) APPEND(a->ints, a->n_ints, (int64_t)va_arg(ap, int));
  va_end(ap);
}

static Onnx__TensorProto *tensor(const char *name, int elem, int rank, const int64_t *dims) {
  Onnx__TensorProto *t = malloc(sizeof *t);
  onnx__tensor_proto__init(t);
  t->name = strdup(name);
  t->has_data_type = 1;
  t->data_type = elem;
  for (int i = 0; i < rank; i++) APPEND(t->dims, t->n_dims, dims[i]);
  return t;
}
static int64_t numel(int rank, const int64_t *dims) {
  int64_t n = 1;
  for (int i = 0; i < rank; i++) n *= dims[i];
  return n;
}
/* float initializer through float_data (raw = 0) or raw_data (raw = 1) */
static Onnx__TensorProto *init_f32(Onnx__ModelProto *m, const char *name, int rank, const int64_t *dims,
                                   const float *v, int raw) {
  Onnx__TensorProto *t = tensor(name, F32, rank, dims);
  int64_t n = numel(rank, dims);
  if (raw) {
    t->has_raw_data = 1;
    t->raw_data.len = (size_t)n * 4;
    t->raw_data.data = malloc((size_t)n * 4);
    memcpy(t->raw_data.data, v, (size_t)n * 4);
  } else {
    for (int64_t i = 0; i < n; i++) APPEND(t->float_data, t->n_float_data, v[i]);
  }
  APPEND(m->graph->initializer, m->graph->n_initializer, t);
  return t;
}
static Onnx__TensorProto *init_i64(Onnx__ModelProto *m, const char *name, int n, const int64_t *v) {
  int64_t d[1] = {n};
  Onnx__TensorProto *t = tensor(name, I64, 1, d);
  for (int i = 0; i < n; i++) APPEND(t->int64_data, t->n_int64_data, v[i]);
  APPEND(m->graph->initializer, m->graph->n_initializer, t);
  return t;
}
/* int8/uint8/int32 initializer through int32_data; rank 0 when n == 0 */
static Onnx__TensorProto *init_i32data(Onnx__ModelProto *m, const char *name, int elem, int n, const int32_t *v) {
  int64_t d[1] = {n};
  Onnx__TensorProto *t = tensor(name, elem, n ? 1 : 0, d);
  for (int i = 0; i < (n ? n : 1); i++) APPEND(t->int32_data, t->n_int32_data, v[i]);
  APPEND(m->graph->initializer, m->graph->n_initializer, t);
  return t;
}

static uint8_t *pack(Onnx__ModelProto *m, size_t *len) {
  *len = onnx__model_proto__get_packed_size(m);
  uint8_t *buf = malloc(*len ? *len : 1);
  onnx__model_proto__pack(m, buf);
  return buf;
}

static char err[2048];

/* Pack, free the model, import. */
static int import(Onnx__ModelProto *m, int64_t batch, pb_graph_t **g) {
  size_t len;
  uint8_t *buf = pack(m, &len);
  onnx__model_proto__free_unpacked(m, NULL);
  int rc = pb_onnx_import(buf, len, "t.onnx", batch, g, err, sizeof err);
  free(buf);
  return rc;
}

/* Expect failure whose message contains every NULL-terminated string. */
static void expect_error(Onnx__ModelProto *m, int64_t batch, const char *what, ...) {
  pb_graph_t *g = NULL;
  int rc = import(m, batch, &g);
  CHECK(rc == -1 && g == NULL, "%s: import should fail (rc %d)", what, rc);
  pb_ir_free(g);
  va_list ap;
  va_start(ap, what);
  for (const char *s; (s = va_arg(ap, const char *));)
    CHECK(strstr(err, s) != NULL, "%s: message lacks \"%s\": %s", what, s, err);
  va_end(ap);
  printf("  %-28s -> %s\n", what, err);
}

static pb_graph_t *expect_ok(Onnx__ModelProto *m, int64_t batch, const char *what) {
  pb_graph_t *g = NULL;
  int rc = import(m, batch, &g);
  CHECK(rc == 0 && g, "%s: import failed: %s", what, err);
  return rc == 0 ? g : NULL;
}

/* ---- models ------------------------------------------------------------------------------- */

static const float W1[3 * 4] = {1, 0, 0, 1, 0, 1, 0, -1, 1, 1, 1, 1}; /* 3x4 (transB: out x in) */
static const float B1[3] = {0, -10, 0.5f};
static const float W2[3 * 2] = {1, 0, 0, 1, 1, 1}; /* 3x2 */

/* x[N,4] -> Gemm(transB, W1) -> Relu -> Gemm(W2, alpha 2) -> y[N,2] */
static Onnx__ModelProto *mlp(int raw) {
  Onnx__ModelProto *m = model_new(13);
  int64_t xd[2] = {SYM, 4}, yd[2] = {SYM, 2}, w1d[2] = {3, 4}, b1d[1] = {3}, w2d[2] = {3, 2};
  add_input(m, "x", F32, 2, xd);
  init_f32(m, "W1", 2, w1d, W1, raw);
  init_f32(m, "B1", 1, b1d, B1, !raw);
  init_f32(m, "W2", 2, w2d, W2, raw);
  Onnx__NodeProto *n = add_node(m, "Gemm", "fc1", "x,W1,B1", "h");
  attr_i(n, "transB", 1);
  add_node(m, "Relu", "relu1", "h", "r");
  n = add_node(m, "Gemm", "fc2", "r,W2", "y");
  attr_f(n, "alpha", 2.0f);
  add_output(m, "y", F32, 2, yd);
  return m;
}

static void test_mlp(void) {
  for (int raw = 0; raw < 2; raw++) {
    pb_graph_t *g = expect_ok(mlp(raw), 2, "mlp");
    if (!g) return;
    CHECK_EQ_INT(g->n_nodes, 3, "mlp nodes");
    CHECK_EQ_INT(g->n_inputs, 1, "mlp inputs");
    CHECK_EQ_INT(g->batch, 2, "mlp batch");
    const pb_value_t *x = &g->values[g->inputs[0]], *y = &g->values[g->outputs[0]];
    CHECK(x->rank == 2 && x->dims[0] == 2 && x->dims[1] == 4, "x shape");
    CHECK(y->rank == 2 && y->dims[0] == 2 && y->dims[1] == 2 && y->dtype == PB_IR_F32, "y shape");
    CHECK(g->nodes[0].op == PB_OP_GEMM && g->nodes[0].attr.trans_b == 1 && g->nodes[0].attr.alpha == 1.0f,
          "fc1 attributes");
    CHECK(g->nodes[2].attr.alpha == 2.0f && g->nodes[2].attr.beta == 1.0f && g->nodes[2].inputs[2] == -1,
          "fc2 attributes, no C");
    CHECK(g->nodes[1].op == PB_OP_RELU && strcmp(g->nodes[1].name, "relu1") == 0, "relu node");
    int w1 = pb_ir_find_value(g, "W1");
    CHECK(w1 >= 0 && pb_ir_is_const(g, w1) && memcmp(g->values[w1].data, W1, sizeof W1) == 0, "W1 data (raw=%d)", raw);
    int b1 = pb_ir_find_value(g, "B1");
    CHECK(b1 >= 0 && memcmp(g->values[b1].data, B1, sizeof B1) == 0, "B1 data");
    int h = pb_ir_find_value(g, "h");
    CHECK(h >= 0 && g->values[h].producer == 0 && g->values[h].n_consumers == 1 && g->values[h].consumers[0] == 1,
          "producer/consumers of h");
    CHECK(pb_ir_producer_op(g, g->outputs[0]) == PB_OP_GEMM, "producer op");

    /* by hand: x0 = [1,2,3,4] -> h = [5, 2-4-10, 10.5] -> r = [5,0,10.5] -> y = 2*[15.5, 10.5] */
    float in[8] = {1, 2, 3, 4, 0, 0, 0, 0}, out[4];
    const void *ins[1] = {in};
    void *outs[1] = {out};
    int rc = pb_interp_run(g, ins, outs, NULL, NULL, err, sizeof err);
    CHECK(rc == 0, "mlp run: %s", err);
    CHECK(out[0] == 31.0f && out[1] == 21.0f && out[2] == 1.0f && out[3] == 1.0f, "mlp by hand: %g %g %g %g", out[0],
          out[1], out[2], out[3]);

    if (raw == 0) {
      char *text = NULL;
      size_t tlen = 0;
      FILE *f = open_memstream(&text, &tlen);
      pb_ir_dump(g, f);
      fclose(f);
      CHECK(text && strstr(text, "Gemm 'fc1' transA=0 transB=1") && strstr(text, "input  x f32[2x4]") &&
                strstr(text, "output y f32[2x2]") && strstr(text, "W1 f32[3x4] const") && strstr(text, "batch 2"),
            "dump:\n%s", text ? text : "");
      printf("%s", text);
      free(text);
    }
    pb_ir_free(g);
  }
  /* batch 8 and the dynamic-batch error */
  pb_graph_t *g = expect_ok(mlp(0), 8, "mlp batch 8");
  if (g) CHECK(g->values[g->outputs[0]].dims[0] == 8, "batch 8 output");
  pb_ir_free(g);
  expect_error(mlp(0), 0, "dynamic batch", "t.onnx: input 'x' has a dynamic dimension 'N'; give --batch", NULL);
}

/* ---- error classes -------------------------------------------------------------------------- */

static uint32_t rng_state;
static uint32_t rnd(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 17;
  rng_state ^= rng_state << 5;
  return rng_state;
}

static void test_not_protobuf(void) {
  pb_graph_t *g = NULL;
  int rc = pb_onnx_import((const uint8_t *)"hello, world\n", 13, "x.onnx", 0, &g, err, sizeof err);
  CHECK(rc == -1 && strstr(err, "x.onnx") && strstr(err, "not a valid ONNX model"), "text file: %s", err);
  printf("  %-28s -> %s\n", "text", err);
  rc = pb_onnx_import((const uint8_t *)"", 0, "empty.onnx", 0, &g, err, sizeof err);
  CHECK(rc == -1 && strstr(err, "empty"), "empty file: %s", err);
  int bad = 0;
  for (int i = 0; i < 200; i++) {
    uint8_t buf[256];
    size_t len = 1 + rnd() % sizeof buf;
    for (size_t k = 0; k < len; k++) buf[k] = (uint8_t)rnd();
    rc = pb_onnx_import(buf, len, "random.onnx", 0, &g, err, sizeof err);
    if (rc != -1 || g || !strstr(err, "random.onnx: ")) {
      if (!bad++) CHECK(0, "random bytes %d: rc %d: %s", i, rc, err);
    }
    if (i == 0) printf("  %-28s -> %s\n", "random bytes", err);
  }
  CHECK(bad == 0, "random bytes: %d bad", bad);
  rc = pb_onnx_import_file("/nonexistent/m.onnx", 0, &g, err, sizeof err);
  CHECK(rc == -1 && strstr(err, "/nonexistent/m.onnx") && strstr(err, "cannot open"), "missing file: %s", err);
}

static void test_truncated(void) {
  size_t len;
  Onnx__ModelProto *m = mlp(1);
  uint8_t *buf = pack(m, &len);
  onnx__model_proto__free_unpacked(m, NULL);
  int bad = 0;
  pb_graph_t *g = NULL;
  for (size_t cut = 0; cut < len; cut++) {
    int rc = pb_onnx_import(buf, cut, "cut.onnx", 1, &g, err, sizeof err);
    if (rc != -1 || g || strncmp(err, "cut.onnx: ", 10) != 0) {
      if (!bad++) CHECK(0, "cut at %zu of %zu: rc %d: %s", cut, len, rc, err);
      pb_ir_free(g);
      g = NULL;
    }
    if (cut == len / 2) printf("  %-28s -> %s\n", "truncated model", err);
  }
  CHECK(bad == 0, "truncations at every length of %zu: %d imported or failed badly", len, bad);
  int rc = pb_onnx_import(buf, len, "whole.onnx", 1, &g, err, sizeof err);
  CHECK(rc == 0, "untruncated: %s", err);
  pb_ir_free(g);
  free(buf);
}

static Onnx__ModelProto *one_node(const char *op, int64_t opset) {
  Onnx__ModelProto *m = model_new(opset);
  int64_t d[2] = {2, 3};
  add_input(m, "x", F32, 2, d);
  add_node(m, op, "n0", "x", "y");
  add_output(m, "y", F32, 2, d);
  return m;
}

/* Conv: x[1,2,5,5], W[3,2,3,3] */
static Onnx__ModelProto *conv_model(void) {
  Onnx__ModelProto *m = model_new(13);
  int64_t xd[4] = {1, 2, 5, 5}, wd[4] = {3, 2, 3, 3};
  float w[54];
  for (int i = 0; i < 54; i++) w[i] = (float)(i % 7) - 3.0f;
  add_input(m, "x", F32, 4, xd);
  init_f32(m, "W", 4, wd, w, 1);
  add_output(m, "y", F32, -1, NULL);
  return m;
}

static void test_errors(void) {
  /* unsupported operator: the message lists every supported one */
  {
    Onnx__ModelProto *m = one_node("Tanh", 13);
    pb_graph_t *g = NULL;
    CHECK(import(m, 0, &g) == -1, "Tanh must fail");
    CHECK(strstr(err, "node 0 'n0' (Tanh)") && strstr(err, "operator Tanh is not supported"), "Tanh: %s", err);
    for (int op = 0; op < PB_OP_COUNT; op++)
      CHECK(strstr(err, pb_ir_op_name((pb_op_t)op)) != NULL, "Tanh message lacks %s", pb_ir_op_name((pb_op_t)op));
    CHECK(strstr(err, "Constant") != NULL, "Tanh message lacks Constant");
    printf("  %-28s -> %s\n", "unsupported operator", err);
  }
  {
    Onnx__ModelProto *m = one_node("QGemm", 13);
    free(m->graph->node[0]->domain);
    m->graph->node[0]->domain = strdup("com.microsoft");
    expect_error(m, 0, "foreign domain", "domain 'com.microsoft'", "QGemm", NULL);
  }
  /* unsupported attribute values */
  {
    Onnx__ModelProto *m = conv_model();
    Onnx__NodeProto *n = add_node(m, "Conv", "conv1", "x,W", "y");
    attr_i(n, "group", 2);
    expect_error(m, 0, "Conv group=2", "node 0 'conv1' (Conv)", "attribute 'group' = 2", NULL);
  }
  {
    Onnx__ModelProto *m = conv_model();
    Onnx__NodeProto *n = add_node(m, "Conv", "conv1", "x,W", "y");
    attr_ints(n, "dilations", 2, 2, 2);
    expect_error(m, 0, "Conv dilations", "attribute 'dilations' = [2, 2]", NULL);
  }
  {
    Onnx__ModelProto *m = conv_model();
    Onnx__NodeProto *n = add_node(m, "Conv", "conv1", "x,W", "y");
    attr_s(n, "auto_pad", "SAME_UPPER");
    expect_error(m, 0, "Conv auto_pad", "attribute 'auto_pad' = SAME_UPPER", NULL);
  }
  {
    Onnx__ModelProto *m = conv_model();
    Onnx__NodeProto *n = add_node(m, "Conv", "conv1", "x,W", "y");
    attr_ints(n, "pads", 2, 1, 1);
    expect_error(m, 0, "Conv pads length", "attribute 'pads' has 2 values", NULL);
  }
  {
    Onnx__ModelProto *m = conv_model();
    Onnx__NodeProto *n = add_node(m, "Conv", "conv1", "x,W", "y");
    attr_i(n, "strides", 2); /* INT instead of INTS */
    expect_error(m, 0, "attribute type", "attribute 'strides' has type INT; expected INTS", NULL);
  }
  {
    Onnx__ModelProto *m = conv_model();
    Onnx__NodeProto *n = add_node(m, "Conv", "conv1", "x,W", "y");
    attr_i(n, "fancy", 1);
    expect_error(m, 0, "unknown attribute", "attribute 'fancy' is not supported for Conv", "group", NULL);
  }
  {
    Onnx__ModelProto *m = conv_model();
    Onnx__NodeProto *n = add_node(m, "Conv", "conv1", "x,W", "y");
    attr_ints(n, "kernel_shape", 2, 2, 2);
    expect_error(m, 0, "kernel_shape vs W", "attribute 'kernel_shape' 2x2 does not match the weights", NULL);
  }
  {
    Onnx__ModelProto *m = conv_model();
    int64_t d[4] = {1, 2, 5, 5};
    m->graph->input[0]->type->tensor_type->shape->dim[1]->dim_value = 4;
    (void)d;
    add_node(m, "Conv", "conv1", "x,W", "y");
    expect_error(m, 0, "Conv channels", "channels differ", "C = 4", "C = 2", NULL);
  }
  {
    Onnx__ModelProto *m = model_new(13);
    int64_t xd[4] = {1, 1, 4, 4};
    add_input(m, "x", F32, 4, xd);
    Onnx__NodeProto *n = add_node(m, "MaxPool", "pool", "x", "y,idx");
    attr_ints(n, "kernel_shape", 2, 2, 2);
    add_output(m, "y", F32, -1, NULL);
    expect_error(m, 0, "MaxPool Indices", "output 1 'idx' (Indices) is not supported", NULL);
  }
  /* missing initializer / undefined input */
  {
    Onnx__ModelProto *m = model_new(13);
    int64_t xd[2] = {2, 3};
    add_input(m, "x", F32, 2, xd);
    add_node(m, "Gemm", "fc", "x,W", "y");
    add_output(m, "y", F32, -1, NULL);
    expect_error(m, 0, "missing initializer", "node 0 'fc' (Gemm)", "input 1 'W' is not defined", NULL);
  }
  /* inconsistent shapes: Gemm 2x3 by 4x5 */
  {
    Onnx__ModelProto *m = model_new(13);
    int64_t ad[2] = {2, 3}, bd[2] = {4, 5};
    float b[20] = {0};
    add_input(m, "a", F32, 2, ad);
    init_f32(m, "b", 2, bd, b, 0);
    add_node(m, "Gemm", "gemm", "a,b", "y");
    add_output(m, "y", F32, -1, NULL);
    expect_error(m, 0, "Gemm 2x3 by 4x5", "node 0 'gemm' (Gemm)", "'a' is 2x3 (K = 3", "'b' is 4x5 (K = 4", NULL);
  }
  {
    Onnx__ModelProto *m = model_new(13);
    int64_t ad[2] = {3, 4}, bd[2] = {5, 4};
    add_input(m, "a", F32, 2, ad);
    add_input(m, "b", F32, 2, bd);
    add_node(m, "Add", "add", "a,b", "y");
    add_output(m, "y", F32, -1, NULL);
    expect_error(m, 0, "Add broadcast", "cannot broadcast 'a' (3x4) with 'b' (5x4)", NULL);
  }
  /* declared output shape disagrees with inference */
  {
    Onnx__ModelProto *m = one_node("Relu", 13);
    m->graph->output[0]->type->tensor_type->shape->dim[1]->dim_value = 7;
    expect_error(m, 0, "declared output", "output 'y' is declared with shape [2x7] but inference gives [2x3]", NULL);
  }
  /* dynamic dims */
  {
    Onnx__ModelProto *m = model_new(13);
    int64_t xd[2] = {2, SYM};
    add_input(m, "x", F32, 2, xd);
    add_node(m, "Relu", "r", "x", "y");
    add_output(m, "y", F32, -1, NULL);
    expect_error(m, 4, "dynamic non-batch dim", "dynamic dimension 'N' at axis 1", NULL);
  }
  expect_error(one_node("Relu", 13), 4, "batch on a static model", "--batch 4 given", "fixed batch of 2", NULL);
  /* opsets */
  expect_error(one_node("Relu", 20), 0, "opset too new", "opset 20 is not supported", NULL);
  expect_error(one_node("Relu", 5), 0, "opset too old for Relu", "Relu at opset 5 is not supported", "from opset 6",
               NULL);
  {
    Onnx__ModelProto *m = one_node("Relu", 13);
    free(m->opset_import[0]->domain);
    m->opset_import[0]->domain = strdup("ai.onnx.ml");
    expect_error(m, 0, "no default opset", "imports no opset of the default ONNX domain", NULL);
  }
  /* initializers */
  {
    Onnx__ModelProto *m = conv_model();
    Onnx__TensorProto *t = m->graph->initializer[0];
    t->raw_data.len -= 4;
    add_node(m, "Conv", "c", "x,W", "y");
    expect_error(m, 0, "raw_data size", "initializer 'W': raw_data has 212 bytes but 54 FLOAT elements need 216", NULL);
  }
  {
    Onnx__ModelProto *m = mlp(0);
    m->graph->initializer[0]->n_float_data--;
    expect_error(m, 1, "float_data count", "initializer 'W1': float_data has 11 elements but the shape needs 12", NULL);
  }
  {
    Onnx__ModelProto *m = mlp(0);
    Onnx__TensorProto *t = m->graph->initializer[0];
    free(t->float_data);
    t->float_data = NULL;
    t->n_float_data = 0;
    expect_error(m, 1, "no data", "initializer 'W1' has no data", NULL);
  }
  {
    Onnx__ModelProto *m = mlp(0);
    Onnx__TensorProto *t = m->graph->initializer[0];
    t->has_data_location = 1;
    t->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    Onnx__StringStringEntryProto *e = malloc(sizeof *e);
    onnx__string_string_entry_proto__init(e);
    e->key = strdup("location");
    e->value = strdup("weights.bin");
    APPEND(t->external_data, t->n_external_data, e);
    expect_error(m, 1, "external data", "initializer 'W1' stores its data in an external file ('weights.bin')", NULL);
  }
  {
    /* a huge shape with little data is refused before anything is allocated (ASan would see an 8 GB malloc) */
    Onnx__ModelProto *m = mlp(0);
    m->graph->initializer[0]->dims[0] = INT32_MAX / 4;
    expect_error(m, 1, "huge initializer", "initializer 'W1': float_data has 12 elements but the shape needs 2147483644",
                 NULL);
  }
  {
    Onnx__ModelProto *m = mlp(0);
    m->graph->initializer[0]->dims[0] = (int64_t)1 << 40;
    expect_error(m, 1, "too large initializer", "initializer 'W1' is too large", NULL);
  }
  {
    Onnx__ModelProto *m = mlp(0);
    m->graph->initializer[0]->data_type = DBL;
    expect_error(m, 1, "double initializer", "initializer 'W1' has data type DOUBLE", NULL);
  }
  {
    Onnx__ModelProto *m = one_node("Relu", 13);
    int32_t v = 300;
    init_i32data(m, "q", I8, 0, &v);
    add_node(m, "Relu", "r2", "y", "z");
    add_node(m, "DequantizeLinear", "dq", "q,s", "w");
    expect_error(m, 0, "int8 out of range", "initializer 'q': int32_data[0] = 300 is out of range for INT8", NULL);
  }
  /* Reshape needs a constant shape */
  {
    Onnx__ModelProto *m = one_node("Relu", 13);
    int64_t sd[1] = {2};
    add_input(m, "shape", I64, 1, sd);
    add_node(m, "Reshape", "rs", "y,shape", "z");
    expect_error(m, 0, "Reshape runtime shape", "node 1 'rs' (Reshape)", "input 1 'shape'", "must be a constant", NULL);
  }
  {
    Onnx__ModelProto *m = one_node("Relu", 13);
    int64_t s[2] = {4, -1};
    init_i64(m, "shape", 2, s);
    add_node(m, "Reshape", "rs", "y,shape", "z");
    expect_error(m, 0, "Reshape 6 elements by 4", "cannot reshape 2x3 (6 elements) with a -1", NULL);
  }
  /* structure */
  {
    Onnx__ModelProto *m = one_node("Relu", 13);
    add_node(m, "Relu", "again", "x", "y");
    expect_error(m, 0, "output defined twice", "tensor 'y' is defined twice", NULL);
  }
  {
    Onnx__ModelProto *m = one_node("Relu", 13);
    free(m->graph->node[0]->input[0]);
    m->graph->node[0]->input[0] = strdup("z");
    add_node(m, "Relu", "back", "y", "z");
    expect_error(m, 0, "cycle", "cycle", NULL);
  }
  {
    Onnx__ModelProto *m = model_new(13);
    int64_t d[2] = {2, 3};
    add_input(m, "x", F32, 2, d);
    add_node(m, "Relu", "r", "x", "y");
    add_output(m, "nope", F32, 2, d);
    expect_error(m, 0, "undefined graph output", "graph output 'nope' is not produced", NULL);
  }
  {
    Onnx__ModelProto *m = one_node("Gemm", 13);
    expect_error(m, 0, "too few inputs", "node 0 'n0' (Gemm): has 1 inputs; Gemm takes 2 to 3", NULL);
  }
  {
    Onnx__ModelProto *m = one_node("Relu", 13);
    m->graph->input[0]->type->tensor_type->elem_type = DBL;
    expect_error(m, 0, "double input", "input 'x' has element type DOUBLE", NULL);
  }
  {
    Onnx__ModelProto *m = one_node("Relu", 13);
    m->has_ir_version = 0;
    expect_error(m, 0, "no ir_version", "not a valid ONNX model", "ir_version", NULL);
  }
  {
    Onnx__ModelProto *m = model_new(13);
    int64_t d[2] = {2, 3};
    add_input(m, "x", F32, 2, d);
    add_node(m, "QuantizeLinear", "q", "x,s", "y");
    float s = 0.5f;
    init_f32(m, "s", 0, d, &s, 0);
    add_node(m, "Softmax", "sm", "y", "z");
    add_output(m, "z", F32, -1, NULL);
    expect_error(m, 0, "dtype mismatch", "node 1 'sm' (Softmax)", "has dtype u8; expected f32", NULL);
  }
}

/* ---- accepted variants ------------------------------------------------------------------------ */

static void run1(pb_graph_t *g, const void *in, void *out, const char *what) {
  const void *ins[1] = {in};
  void *outs[1] = {out};
  CHECK(pb_interp_run(g, ins, outs, NULL, NULL, err, sizeof err) == 0, "%s: run: %s", what, err);
}

static void test_variants(void) {
  /* Clip at opset 6: attributes become constant inputs; opset 13: inputs; Constant nodes */
  {
    Onnx__ModelProto *m = one_node("Clip", 6);
    attr_f(m->graph->node[0], "min", -1.0f);
    attr_f(m->graph->node[0], "max", 2.5f);
    pb_graph_t *g = expect_ok(m, 0, "Clip opset 6");
    if (g) {
      CHECK(g->nodes[0].n_inputs == 3 && pb_ir_is_const(g, g->nodes[0].inputs[1]) &&
                pb_ir_is_const(g, g->nodes[0].inputs[2]),
            "Clip opset 6 inputs");
      float x[6] = {-3, -1, 0, 2, 2.5f, 9}, y[6];
      run1(g, x, y, "Clip 6");
      CHECK(y[0] == -1 && y[1] == -1 && y[2] == 0 && y[3] == 2 && y[4] == 2.5f && y[5] == 2.5f, "Clip 6 values");
    }
    pb_ir_free(g);
  }
  {
    Onnx__ModelProto *m = one_node("Clip", 13);
    free(m->graph->node[0]->input[0]);
    Onnx__NodeProto *n = m->graph->node[0];
    n->input[0] = strdup("x");
    APPEND(n->input, n->n_input, strdup(""));
    APPEND(n->input, n->n_input, strdup("hi"));
    Onnx__NodeProto *c = add_node(m, "Constant", "k", "", "hi");
    attr_f(c, "value_float", 1.5f);
    /* Constant after its user: the importer sorts nodes topologically */
    Onnx__NodeProto *tmp = m->graph->node[0];
    m->graph->node[0] = m->graph->node[1];
    m->graph->node[1] = tmp;
    pb_graph_t *g = expect_ok(m, 0, "Clip opset 13 max only");
    if (g) {
      CHECK(g->n_nodes == 1 && g->nodes[0].inputs[1] == -1 && pb_ir_is_const(g, g->nodes[0].inputs[2]),
            "Clip 13 inputs (min absent)");
      float x[6] = {-3, -1, 0, 2, 2.5f, 9}, y[6];
      run1(g, x, y, "Clip 13");
      CHECK(y[0] == -3 && y[3] == 1.5f && y[5] == 1.5f, "Clip 13 values");
    }
    pb_ir_free(g);
  }
  /* Softmax at opset 11 flattens the trailing dims; at 13 it is per axis */
  for (int opset = 11; opset <= 13; opset += 2) {
    Onnx__ModelProto *m = model_new(opset);
    int64_t d[3] = {1, 2, 2};
    add_input(m, "x", F32, 3, d);
    add_node(m, "Softmax", "sm", "x", "y");
    add_output(m, "y", F32, 3, d);
    pb_graph_t *g = expect_ok(m, 0, "Softmax");
    if (g) {
      float x[4] = {0, 0, 0, 0}, y[4];
      run1(g, x, y, "Softmax");
      float want = opset == 11 ? 0.25f : 0.5f;
      CHECK(fabsf(y[0] - want) < 1e-7f && fabsf(y[3] - want) < 1e-7f, "Softmax opset %d: %g", opset, y[0]);
      CHECK(g->nodes[0].attr.softmax_flat == (opset == 11) && g->nodes[0].attr.axis == (opset == 11 ? 1 : 2),
            "Softmax attrs opset %d", opset);
    }
    pb_ir_free(g);
  }
  /* initializer listed as a graph input (old exporters): a constant, not an input */
  {
    Onnx__ModelProto *m = mlp(0);
    int64_t wd[2] = {3, 4};
    add_input(m, "W1", F32, 2, wd);
    pb_graph_t *g = expect_ok(m, 1, "initializer as input");
    if (g) CHECK(g->n_inputs == 1 && pb_ir_is_const(g, pb_ir_find_value(g, "W1")), "W1 stays a constant");
    pb_ir_free(g);
  }
  /* QDQ chain keeps Q and DQ nodes; per-axis DQ of int8 weights; int32 bias DQ */
  {
    Onnx__ModelProto *m = model_new(13);
    int64_t xd[2] = {SYM, 4}, wd[2] = {3, 4};
    add_input(m, "x", F32, 2, xd);
    float s = 0.05f;
    int64_t sd0[1] = {0};
    init_f32(m, "xs", 0, sd0, &s, 0);
    int32_t zp = 3;
    init_i32data(m, "xz", I8, 0, &zp);
    int32_t wq[12] = {1, -2, 3, -4, 5, -6, 7, -8, 9, -10, 11, -12};
    Onnx__TensorProto *t = tensor("wq", I8, 2, wd);
    for (int i = 0; i < 12; i++) APPEND(t->int32_data, t->n_int32_data, wq[i]);
    APPEND(m->graph->initializer, m->graph->n_initializer, t);
    float ws[3] = {0.1f, 0.2f, 0.3f};
    int64_t d3[1] = {3};
    init_f32(m, "ws", 1, d3, ws, 1);
    int32_t wz[3] = {0, 0, 0};
    init_i32data(m, "wz", I8, 3, wz);
    add_node(m, "QuantizeLinear", "q", "x,xs,xz", "xq");
    add_node(m, "DequantizeLinear", "dq", "xq,xs,xz", "xd");
    Onnx__NodeProto *n = add_node(m, "DequantizeLinear", "dqw", "wq,ws,wz", "w");
    attr_i(n, "axis", 0);
    n = add_node(m, "Gemm", "fc", "xd,w", "y");
    attr_i(n, "transB", 1);
    add_output(m, "y", F32, -1, NULL);
    pb_graph_t *g = expect_ok(m, 2, "QDQ");
    if (g) {
      CHECK(g->n_nodes == 4, "QDQ nodes %d", g->n_nodes);
      int q = -1, dqw = -1;
      for (int i = 0; i < g->n_nodes; i++) {
        if (g->nodes[i].op == PB_OP_QUANTIZE) q = i;
        if (g->nodes[i].op == PB_OP_DEQUANTIZE && strcmp(g->nodes[i].name, "dqw") == 0) dqw = i;
      }
      CHECK(q >= 0 && g->values[g->nodes[q].outputs[0]].dtype == PB_IR_I8, "Q output i8");
      CHECK(dqw >= 0 && g->nodes[dqw].attr.axis == 0, "DQ axis");
      CHECK(pb_ir_producer_op(g, g->nodes[g->n_nodes - 1].inputs[1]) == PB_OP_DEQUANTIZE, "Gemm reads DQ");
      float x[8] = {1, 0.5f, -1, 2, 0, 0, 0, 0.04f}, y[6];
      run1(g, x, y, "QDQ");
      /* x quantized: round(x/0.05)+3 -> (q-3)*0.05 */
      float xd0[4] = {1.0f, 0.5f, -1.0f, 2.0f};
      float want0 = 0;
      for (int k = 0; k < 4; k++) want0 += xd0[k] * ((float)wq[k] * 0.1f);
      CHECK(fabsf(y[0] - want0) < 1e-5f, "QDQ y[0] %g vs %g", y[0], want0);
    }
    pb_ir_free(g);
  }
}

/* ---- IR helpers ------------------------------------------------------------------------------ */

static void test_ir_helpers(void) {
  /* x -> Identity -> Relu -> y ; bypass the Identity */
  Onnx__ModelProto *m = model_new(13);
  int64_t d[2] = {2, 3};
  add_input(m, "x", F32, 2, d);
  add_node(m, "Identity", "id", "x", "t");
  add_node(m, "Relu", "r", "t", "y");
  add_output(m, "y", F32, 2, d);
  pb_graph_t *g = expect_ok(m, 0, "identity");
  if (!g) return;
  int t = pb_ir_find_value(g, "t"), x = pb_ir_find_value(g, "x");
  CHECK(pb_ir_sole_consumer(g, t) == 1 && pb_ir_sole_consumer(g, pb_ir_find_value(g, "y")) == -1, "sole consumer");
  CHECK(pb_ir_replace_uses(g, t, x) == 1, "replace_uses count");
  pb_ir_remove_node(g, 0);
  CHECK(pb_ir_compact(g) == 0, "compact");
  CHECK(g->n_nodes == 1 && g->nodes[0].op == PB_OP_RELU && pb_ir_find_value(g, "t") < 0, "identity removed");
  CHECK(pb_ir_infer(g, err, sizeof err) == 0, "re-infer: %s", err);
  CHECK(pb_ir_check(g, err, sizeof err) == 0, "check: %s", err);
  float in[6] = {-1, 2, -3, 4, -5, 6}, out[6];
  run1(g, in, out, "after bypass");
  CHECK(out[0] == 0 && out[1] == 2 && out[5] == 6, "relu after bypass");

  /* add a node by hand: y2 = Add(y, y), a new graph output */
  int64_t dd[2] = {2, 3};
  int y = pb_ir_find_value(g, "y");
  char *nm = pb_ir_unique_name(g, "y");
  CHECK(nm && strcmp(nm, "y_1") == 0, "unique name %s", nm ? nm : "");
  int y2 = pb_ir_add_value(g, nm, PB_IR_F32, 2, dd, NULL, err, sizeof err);
  free(nm);
  int ins[2] = {y, y};
  int n = pb_ir_add_node(g, PB_OP_ADD, "double", ins, 2, &y2, 1, err, sizeof err);
  CHECK(n == 1 && pb_ir_infer_node(g, n, err, sizeof err) == 0, "add node: %s", err);
  pb_ir_add_graph_output(g, y2);
  pb_ir_update_uses(g);
  CHECK(g->values[y].n_consumers == 2, "y consumers");
  float out2[6];
  void *outs[2] = {out, out2};
  const void *inp[1] = {in};
  CHECK(pb_interp_run(g, inp, outs, NULL, NULL, err, sizeof err) == 0, "run 2 outputs: %s", err);
  CHECK(out2[1] == 4 && out2[5] == 12, "doubled");
  /* a node placed before its input's producer is fixed by toposort */
  pb_node_t tmp = g->nodes[0];
  g->nodes[0] = g->nodes[1];
  g->nodes[1] = tmp;
  CHECK(pb_ir_check(g, err, sizeof err) == -1 && strstr(err, "not defined before"), "check finds order: %s", err);
  CHECK(pb_ir_toposort(g, err, sizeof err) == 0 && g->nodes[0].op == PB_OP_RELU, "toposort");
  CHECK(pb_ir_check(g, err, sizeof err) == 0, "check after sort: %s", err);
  pb_ir_free(g);
}

/* ---- fuzz ------------------------------------------------------------------------------------- */

/* A small model using most operators: conv, pool, QDQ, flatten, gemm, softmax, argmax, transpose, reshape. */
static Onnx__ModelProto *fuzz_base(void) {
  Onnx__ModelProto *m = model_new(13);
  int64_t xd[4] = {SYM, 1, 6, 6}, wd[4] = {2, 1, 3, 3}, bd[1] = {2}, gd[2] = {10, 8};
  float w[18], b[2] = {0.1f, -0.2f}, gw[80];
  for (int i = 0; i < 18; i++) w[i] = (float)(i % 5) * 0.25f - 0.5f;
  for (int i = 0; i < 80; i++) gw[i] = (float)(i % 9) * 0.1f - 0.4f;
  add_input(m, "x", F32, 4, xd);
  init_f32(m, "w", 4, wd, w, 1);
  init_f32(m, "b", 1, bd, b, 0);
  init_f32(m, "gw", 2, gd, gw, 1);
  float s = 0.02f;
  init_f32(m, "s", 0, bd, &s, 0);
  int32_t z = -5;
  init_i32data(m, "z", I8, 0, &z);
  int64_t shp[2] = {-1, 8};
  init_i64(m, "shp", 2, shp);
  Onnx__NodeProto *n = add_node(m, "Conv", "conv", "x,w,b", "c");
  attr_ints(n, "pads", 4, 1, 1, 1, 1);
  attr_ints(n, "strides", 2, 1, 1);
  add_node(m, "Relu", "relu", "c", "r");
  n = add_node(m, "MaxPool", "pool", "r", "p");
  attr_ints(n, "kernel_shape", 2, 2, 2);
  attr_ints(n, "strides", 2, 3, 3);
  add_node(m, "QuantizeLinear", "q", "p,s,z", "pq");
  add_node(m, "DequantizeLinear", "dq", "pq,s,z", "pd");
  n = add_node(m, "Transpose", "tr", "pd", "pt");
  attr_ints(n, "perm", 4, 0, 2, 3, 1);
  add_node(m, "Reshape", "rs", "pt,shp", "f");
  n = add_node(m, "Gemm", "fc", "f,gw", "logits");
  attr_i(n, "transB", 1);
  add_node(m, "Softmax", "sm", "logits", "prob");
  n = add_node(m, "ArgMax", "am", "prob", "cls");
  attr_i(n, "axis", 1);
  add_output(m, "prob", F32, -1, NULL);
  add_output(m, "cls", I64, -1, NULL);
  return m;
}

/* Import one mutated model; if it imports and is small, run it. Counts the outcome. */
static void classify_mutant(const uint8_t *buf, size_t n, int it, int *ok, int *ran, int *failed, int *bad) {
  pb_graph_t *g = NULL;
  err[0] = 0;
  int rc = pb_onnx_import(buf, n, "mut.onnx", 2, &g, err, sizeof err);
  if (rc == 0 && g) {
    (*ok)++;
    size_t total = 0;
    for (int v = 0; v < g->n_values; v++) total += pb_ir_nbytes(&g->values[v]);
    if (total < (1u << 22) && g->n_inputs <= 4 && g->n_outputs <= 4) {
      void *ins[4] = {0}, *outs[4] = {0};
      for (int i = 0; i < g->n_inputs; i++) ins[i] = calloc(1, pb_ir_nbytes(&g->values[g->inputs[i]]) + 8);
      for (int i = 0; i < g->n_outputs; i++) outs[i] = malloc(pb_ir_nbytes(&g->values[g->outputs[i]]) + 8);
      if (pb_interp_run(g, (const void *const *)ins, outs, NULL, NULL, err, sizeof err) == 0) (*ran)++;
      for (int i = 0; i < 4; i++) free(ins[i]), free(outs[i]);
    }
  } else if (rc == -1 && !g && strncmp(err, "mut.onnx: ", 10) == 0 && strlen(err) > 12) {
    (*failed)++;
  } else {
    if (!(*bad)++) CHECK(0, "mutation %d: rc %d, message '%s'", it, rc, err);
  }
  pb_ir_free(g);
}

/* One random change to the model's structure (a value, a name, a type), keeping it a valid protobuf. */
static void mutate_struct(Onnx__ModelProto *m) {
  Onnx__GraphProto *g = m->graph;
  static const char *const ops[] = {"Relu", "Gemm", "MatMul", "Add", "Conv", "MaxPool", "AveragePool", "Flatten",
                                    "Reshape", "Transpose", "Softmax", "ArgMax", "QuantizeLinear", "DequantizeLinear",
                                    "Identity", "Clip", "GlobalAveragePool", "QLinearConv", "MatMulInteger", "Constant"};
  static const int dtypes[] = {F32, U8, I8, I32, I64, DBL, 0, 99};
  Onnx__NodeProto *nd = g->node[rnd() % g->n_node];
  switch (rnd() % 10) {
  case 0: /* an attribute int value */
    if (nd->n_attribute) {
      Onnx__AttributeProto *a = nd->attribute[rnd() % nd->n_attribute];
      if (a->n_ints) a->ints[rnd() % a->n_ints] = (int64_t)(rnd() % 12) - 3;
      else if (a->has_i) a->i = (int64_t)(rnd() % 12) - 3;
    }
    break;
  case 1: /* the operator */
    free(nd->op_type);
    nd->op_type = strdup(ops[rnd() % (sizeof ops / sizeof ops[0])]);
    break;
  case 2: /* an input name: another value's */
    if (nd->n_input) {
      Onnx__NodeProto *other = g->node[rnd() % g->n_node];
      size_t k = rnd() % nd->n_input;
      free(nd->input[k]);
      nd->input[k] = strdup(rnd() % 4 ? other->output[0] : "x");
    }
    break;
  case 3: { /* an initializer's dims */
    Onnx__TensorProto *t = g->initializer[rnd() % g->n_initializer];
    if (t->n_dims) t->dims[rnd() % t->n_dims] = (int64_t)(rnd() % 10) - 1;
    break;
  }
  case 4: { /* an initializer's type */
    Onnx__TensorProto *t = g->initializer[rnd() % g->n_initializer];
    t->data_type = dtypes[rnd() % (sizeof dtypes / sizeof dtypes[0])];
    break;
  }
  case 5: { /* the input's dims */
    Onnx__TensorShapeProto *sh = g->input[0]->type->tensor_type->shape;
    Onnx__TensorShapeProto__Dimension *d = sh->dim[rnd() % sh->n_dim];
    if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM) free(d->dim_param);
    d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
    d->dim_value = (int64_t)(rnd() % 9) - 1;
    break;
  }
  case 6: /* the opset */
    m->opset_import[0]->version = (int64_t)(rnd() % 24);
    break;
  case 7: /* drop the last input of a node */
    if (nd->n_input) {
      free(nd->input[nd->n_input - 1]);
      nd->n_input--;
    }
    break;
  case 8: /* an attribute's type */
    if (nd->n_attribute) nd->attribute[rnd() % nd->n_attribute]->type = (Onnx__AttributeProto__AttributeType)(rnd() % 9);
    break;
  case 9: /* the input's element type */
    g->input[0]->type->tensor_type->elem_type = dtypes[rnd() % (sizeof dtypes / sizeof dtypes[0])];
    break;
  }
}

static void test_fuzz(void) {
  uint32_t seed = 0x5eed1234u;
  rng_state = seed;
  printf("fuzz: 300 byte mutations and 300 structured mutations, seed 0x%08x\n", seed);
  size_t len;
  Onnx__ModelProto *m = fuzz_base();
  uint8_t *base = pack(m, &len);
  onnx__model_proto__free_unpacked(m, NULL);
  pb_graph_t *g = NULL;
  int rc = pb_onnx_import(base, len, "fuzz.onnx", 2, &g, err, sizeof err);
  CHECK(rc == 0, "fuzz base model: %s", err);
  if (g) {
    float x[72];
    for (int i = 0; i < 72; i++) x[i] = (float)(i % 11) * 0.3f - 1.0f;
    float prob[20];
    int64_t cls[2];
    const void *ins[1] = {x};
    void *outs[2] = {prob, cls};
    CHECK(pb_interp_run(g, ins, outs, NULL, NULL, err, sizeof err) == 0, "fuzz base run: %s", err);
    CHECK(cls[0] >= 0 && cls[0] < 10 && fabsf(prob[0] + prob[1] + prob[2] + prob[3] + prob[4] + prob[5] + prob[6] +
                                                  prob[7] + prob[8] + prob[9] - 1.0f) < 1e-5f,
          "fuzz base outputs");
  }
  pb_ir_free(g);
  int ok = 0, failed = 0, bad = 0, ran = 0;
  uint8_t *buf = malloc(len + 64);
  for (int it = 0; it < 300; it++) {
    memcpy(buf, base, len);
    size_t n = len;
    int muts = 1 + (int)(rnd() % 4);
    for (int k = 0; k < muts; k++) {
      size_t at = rnd() % n;
      switch (rnd() % 5) {
      case 0: buf[at] ^= (uint8_t)(1u << (rnd() % 8)); break; /* bit flip */
      case 1: buf[at] = (uint8_t)rnd(); break;                /* random byte */
      case 2: buf[at] = (uint8_t)(rnd() % 2 ? 0x00 : 0xff); break;
      case 3:                                                 /* delete a byte */
        memmove(buf + at, buf + at + 1, n - at - 1);
        n--;
        break;
      case 4: n = at + 1; break; /* truncate */
      }
      if (n == 0) n = 1;
    }
    classify_mutant(buf, n, it, &ok, &ran, &failed, &bad);
  }
  free(buf);
  printf("fuzz bytes: %d imported (%d ran), %d refused with a message, %d bad\n", ok, ran, failed, bad);
  CHECK(bad == 0 && ok + failed == 300, "fuzz bytes: %d bad", bad);

  /* structured: 300 models with 1-3 random changes of values, names and types */
  ok = failed = bad = ran = 0;
  for (int it = 0; it < 300; it++) {
    Onnx__ModelProto *mm = onnx__model_proto__unpack(NULL, len, base);
    int muts = 1 + (int)(rnd() % 3);
    for (int k = 0; k < muts; k++) mutate_struct(mm);
    size_t n;
    uint8_t *mb = pack(mm, &n);
    onnx__model_proto__free_unpacked(mm, NULL);
    classify_mutant(mb, n, it, &ok, &ran, &failed, &bad);
    if (it < 8) printf("  structured %d -> %s\n", it, ok + failed > it && err[0] ? err : "imported");
    free(mb);
  }
  free(base);
  printf("fuzz structure: %d imported (%d ran), %d refused with a message, %d bad\n", ok, ran, failed, bad);
  CHECK(bad == 0 && ok + failed == 300, "fuzz structure: %d bad", bad);
}

int main(void) {
  check_init("test_onnx_import");
  rng_state = 12345;
  printf("== hand-checkable MLP\n");
  test_mlp();
  printf("== not a protobuf\n");
  test_not_protobuf();
  printf("== truncated\n");
  test_truncated();
  printf("== error classes\n");
  test_errors();
  printf("== accepted variants\n");
  test_variants();
  printf("== IR helpers\n");
  test_ir_helpers();
  printf("== fuzz\n");
  test_fuzz();
  return check_done();
}
