/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Lowering of a quantized IR graph to the LIR (lower.h). One pass over the
 * nodes in topological order; every IR value gets a lowered form:
 *   VK_GIN  a float graph input (or a view of one) not yet placed
 *   VK_Q    an int8 tensor in host memory (uint8 graph values are shifted by 128)
 *   VK_DQ   the float dequantization of a VK_Q tensor, with the DQ's scale and zero point
 *   VK_F    a tensor of the host operators (float, or int64 indices)
 *   VK_PEND a float value that only a later QuantizeLinear can lower (the output of a Conv, Relu, ...)
 * Constants (weights, biases, scales) are read from the graph where a pattern needs them.
 */
#include "lower.h"

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef enum { VK_NONE = 0, VK_GIN, VK_Q, VK_DQ, VK_F, VK_PEND } vkind_t;

typedef struct {
  vkind_t k;
  int t;         /* lir tensor (VK_Q, VK_DQ, VK_F) */
  float s;       /* VK_DQ: scale */
  int32_t zp;    /* VK_DQ: zero point in the int8 domain */
  int gin;       /* VK_GIN: graph input position */
  int64_t *map;  /* VK_GIN: per-sample element -> graph input element (NULL: identity) */
  int border;    /* pixels of zero-point border this value's buffer needs (convolution pads) */
} vinfo_t;

typedef struct {
  const pb_graph_t *g;
  lir_t *l;
  vinfo_t *v;
  int *tprod;    /* per lir tensor: the layer that writes it, -1 (grown by ensure_tprod) */
  int tprod_cap;
  int *gin_t;    /* per graph input: its program tensor, -1 */
  FILE *warn;
  char *err;
  size_t errlen;
  int node;      /* current node, for messages */
} lctx_t;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static int fail(lctx_t *c, const char *fmt, ...) {
  if (!c->errlen) return -1;
  int o = 0;
  if (c->node >= 0) {
    char d[200];
    o = snprintf(c->err, c->errlen, "%s: ", pb_ir_node_desc(c->g, c->node, d, sizeof d));
    if (o < 0 || (size_t)o >= c->errlen) return -1;
  }
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(c->err + o, c->errlen - (size_t)o, fmt, ap);
  va_end(ap);
  return -1;
}

static const pb_value_t *V(const lctx_t *c, int v) { return &c->g->values[v]; }

/* Grow tprod to cover every tensor; new entries -1. 0 or -1 (out of memory). */
static int ensure_tprod(lctx_t *c) {
  int n = c->l->n_tensors + 1;
  if (n <= c->tprod_cap) return 0;
  int cap = n * 2;
  int *p = realloc(c->tprod, (size_t)cap * sizeof *p);
  if (!p) return -1;
  for (int i = c->tprod_cap; i < cap; i++) p[i] = -1;
  c->tprod = p;
  c->tprod_cap = cap;
  return 0;
}

static int pair_cmp(const void *a, const void *b) {
  const int64_t *x = a, *y = b;
  return x[0] < y[0] ? -1 : x[0] > y[0];
}
static const pb_node_t *N(const lctx_t *c, int n) { return &c->g->nodes[n]; }

/* ---- constants ---- */

static int is_const(const lctx_t *c, int v) { return v >= 0 && c->g->values[v].data != NULL; }

/* A per-tensor (one element) constant scale > 0 and finite. */
static int scalar_scale(lctx_t *c, int v, const char *what, float *s) {
  if (!is_const(c, v)) return fail(c, "%s '%s' must be a constant (an initializer)", what, v >= 0 ? V(c, v)->name : "?");
  if (pb_ir_numel(V(c, v)) != 1)
    return fail(c, "%s '%s' has %lld elements; only a per-tensor (one element) value is supported here", what,
                V(c, v)->name, (long long)pb_ir_numel(V(c, v)));
  *s = (float)pb_ir_const_f64(V(c, v), 0);
  if (!isfinite(*s) || !(*s > 0)) return fail(c, "%s '%s' = %g must be finite and > 0", what, V(c, v)->name, (double)*s);
  return 0;
}

/* Zero point (absent: 0) in the int8 domain: uint8 values move by -128. */
static int scalar_zp(lctx_t *c, int v, const char *what, int dtype_of_data, int32_t *zp) {
  if (v < 0) {
    *zp = dtype_of_data == PB_IR_U8 ? -128 : 0;
    return 0;
  }
  if (!is_const(c, v)) return fail(c, "%s '%s' must be a constant (an initializer)", what, V(c, v)->name);
  if (pb_ir_numel(V(c, v)) != 1)
    return fail(c, "%s '%s' has %lld elements; only a per-tensor (one element) value is supported here", what,
                V(c, v)->name, (long long)pb_ir_numel(V(c, v)));
  int64_t z = pb_ir_const_i64(V(c, v), 0);
  *zp = (int32_t)(V(c, v)->dtype == PB_IR_U8 ? z - 128 : z);
  return 0;
}

static int32_t q8(float x, float s, int32_t zp) { /* ONNX QuantizeLinear to int8 */
  volatile float d = x / s;
  float r = nearbyintf(d);
  if (isnan(r)) return -128;
  if (r > 1e6f) r = 1e6f;
  if (r < -1e6f) r = -1e6f;
  int32_t q = (int32_t)r + zp;
  return q < -128 ? -128 : q > 127 ? 127 : q;
}

/* ---- tensors ---- */

static uint64_t numel_rank(int rank, const int64_t *dims) {
  uint64_t n = 1;
  for (int d = 0; d < rank; d++) n *= (uint64_t)dims[d];
  return n;
}

/* A buffer name: the value's name without onnxruntime's "_QuantizeLinear_Output" suffix. */
static const char *buf_name(const char *name, char *tmp, size_t len) {
  static const char *suffix[] = {"_QuantizeLinear_Output", "_DequantizeLinear_Output"};
  size_t n = strlen(name);
  for (int i = 0; i < 2; i++) {
    size_t k = strlen(suffix[i]);
    if (n > k && !strcmp(name + n - k, suffix[i])) {
      snprintf(tmp, len, "%.*s", (int)(n - k), name);
      return tmp;
    }
  }
  return name;
}

/* A new activation tensor of dtype for IR value v: 4-D values are NHWC with the border v needs. */
static int new_act(lctx_t *c, int v, const char *name, unsigned dtype, lir_buf_kind_t kind) {
  char bn[256];
  const char *bname = buf_name(name, bn, sizeof bn);
  const pb_value_t *x = V(c, v);
  if (x->rank < 1 || x->rank > LIR_MAX_RANK)
    return fail(c, "value '%s' has rank %d; the accelerator's tensors have rank 1..%d", x->name, x->rank, LIR_MAX_RANK);
  int border = c->v[v].border;
  unsigned es = pb_dtype_size(dtype);
  if (x->rank == 4 && (dtype == PB_DT_INT8 || dtype == PB_DT_INT32)) {
    /* int8 activations: NHWC, zero-point border for convolutions; int32 raw sums: NHWC as the accelerator writes them */
    int64_t C = x->dims[1], H = x->dims[2], W = x->dims[3], Hp = H + 2 * border, Wp = W + 2 * border;
    uint64_t bstride = (uint64_t)(Hp * Wp * C) * es;
    int b = lir_add_buf(c->l, bname, kind, bstride * (uint64_t)x->dims[0]);
    if (b < 0) return fail(c, "out of memory");
    int64_t *offs = malloc((size_t)(C * H * W) * sizeof *offs);
    if (!offs) return fail(c, "out of memory");
    for (int64_t ch = 0; ch < C; ch++)
      for (int64_t h = 0; h < H; h++)
        for (int64_t w = 0; w < W; w++)
          offs[(ch * H + h) * W + w] = (((h + border) * Wp + (w + border)) * C + ch) * (int64_t)es;
    int t = lir_add_tensor(c->l, name, b, 0, dtype, 4, x->dims, bstride, offs);
    free(offs);
    if (t < 0) return fail(c, "out of memory");
    lir_tensor_t *T = &c->l->tensors[t];
    T->nhwc = 1;
    T->C = C, T->H = H, T->W = W, T->Hp = Hp, T->Wp = Wp, T->bt = T->bl = border;
    if (border) {
      c->l->bufs[b].pinned = 1; /* its border is written once, at load: nobody else may use the bytes */
    }
    return t;
  }
  uint64_t bstride = numel_rank(x->rank - 1, x->dims + 1) * es;
  int b = lir_add_buf(c->l, bname, kind, bstride * (uint64_t)x->dims[0]);
  if (b < 0) return fail(c, "out of memory");
  int t = lir_add_tensor(c->l, name, b, 0, dtype, x->rank, x->dims, bstride, NULL);
  if (t < 0) return fail(c, "out of memory");
  if ((x->rank == 2 || x->rank == 1) && dtype == PB_DT_INT8) { /* [B, F]: an NHWC tensor with H = W = 1 */
    lir_tensor_t *T = &c->l->tensors[t];
    T->nhwc = x->rank == 2;
    T->C = x->rank == 2 ? x->dims[1] : 1, T->H = T->W = T->Hp = T->Wp = 1;
  }
  return t;
}

/* Set the border fill of an int8 activation's buffer (its zero point). */
static void set_fill(lctx_t *c, int t, int32_t zp) {
  lir_tensor_t *T = &c->l->tensors[t];
  T->zp = zp;
  if (T->nhwc && (T->bt || T->bl)) {
    lir_buf_t *b = &c->l->bufs[T->buf];
    b->has_fill = 1;
    b->fill = (uint8_t)(int8_t)zp;
  }
}

/* A view of tensor t with new logical dims; map[e] = element of t for element e (NULL: same linear order). */
static int view_tensor(lctx_t *c, int t, const char *name, int rank, const int64_t *dims, const int64_t *map) {
  if (rank < 1 || rank > LIR_MAX_RANK)
    return fail(c, "value '%s' has rank %d; tensors in host memory have rank 1..%d", name, rank, LIR_MAX_RANK);
  lir_tensor_t T = c->l->tensors[t]; /* copy: the array may move */
  int64_t ps = (int64_t)numel_rank(rank - 1, dims + 1);
  int64_t *offs = malloc((size_t)ps * sizeof *offs);
  if (!offs) return fail(c, "out of memory");
  for (int64_t e = 0; e < ps; e++) offs[e] = T.offs[map ? map[e] : e];
  int n = lir_add_tensor(c->l, name, T.buf, T.base, T.dtype, rank, dims, T.bstride, offs);
  free(offs);
  if (n < 0) return fail(c, "out of memory");
  lir_tensor_t *R = &c->l->tensors[n];
  R->scale = T.scale;
  R->zp = T.zp;
  if (rank == 4 && T.nhwc && T.rank == 4 && !map && dims[1] == T.dims[1] && dims[2] == T.dims[2]) {
    R->nhwc = 1, R->C = T.C, R->H = T.H, R->W = T.W, R->Hp = T.Hp, R->Wp = T.Wp, R->bt = T.bt, R->bl = T.bl;
  }
  if (rank == 2 && T.nhwc && T.rank == 2) R->nhwc = 1, R->C = T.C, R->H = R->W = R->Hp = R->Wp = 1;
  if (ensure_tprod(c)) return fail(c, "out of memory");
  return n;
}

static int grow_tprod(lctx_t *c) { return ensure_tprod(c) == 0; }

/* Mark the layer that writes tensor t (-1: written before the program runs). */
static void set_prod(lctx_t *c, int t, int layer) {
  if (ensure_tprod(c) == 0) c->tprod[t] = layer;
}

/* A constant tensor (host operator parameter) of n elements. */
static int const_tensor(lctx_t *c, const char *name, unsigned dtype, int64_t n, const void *data) {
  unsigned es = pb_dtype_size(dtype);
  int b = lir_add_buf(c->l, name, LB_CONST, (uint64_t)n * es);
  if (b < 0) return fail(c, "out of memory");
  c->l->bufs[b].init = malloc((size_t)n * es);
  if (!c->l->bufs[b].init) return fail(c, "out of memory");
  memcpy(c->l->bufs[b].init, data, (size_t)n * es);
  int64_t dims[2] = {n, 0};
  int t = lir_add_tensor(c->l, name, b, 0, dtype, 1, dims, 0, NULL);
  if (t < 0) return fail(c, "out of memory");
  /* dims[0] is the element count here, not a batch: the per-sample table has one entry; fix it up */
  lir_tensor_t *T = &c->l->tensors[t];
  free(T->offs);
  T->offs = malloc(sizeof *T->offs);
  if (!T->offs) return fail(c, "out of memory");
  T->offs[0] = 0;
  T->per_sample = 1;
  T->bstride = es;
  set_prod(c, t, -1);
  return t;
}

/* ---- host layers ---- */

static int host_layer(lctx_t *c, unsigned hop, const char *op, const char *name, const int *ins, int n_in,
                      const int *outs, int n_out, const int32_t *param) {
  int y = lir_add_layer(c->l, LL_HOST, name, op);
  if (y < 0) return fail(c, "out of memory");
  lir_layer_t *L = &c->l->layers[y];
  L->hop = hop;
  L->n_in = n_in;
  L->n_out = n_out;
  for (int i = 0; i < n_in; i++) L->ins[i] = ins[i];
  for (int i = 0; i < n_out; i++) L->outs[i] = outs[i];
  if (param) memcpy(L->param, param, sizeof L->param);
  L->in = n_in ? ins[0] : -1;
  L->out = n_out ? outs[0] : -1;
  for (int i = 0; i < n_out; i++) set_prod(c, outs[i], y);
  return y;
}

/* Host (de)quantization of tensor t with per-tensor parameters. */
static int host_qdq(lctx_t *c, int dequant, int t_in, int t_out, float s, int32_t zp, const char *name) {
  char nm[96];
  snprintf(nm, sizeof nm, "%s_scale", name);
  int ts = const_tensor(c, nm, PB_DT_FLOAT32, 1, &s);
  snprintf(nm, sizeof nm, "%s_zp", name);
  int tz = ts < 0 ? -1 : const_tensor(c, nm, PB_DT_INT32, 1, &zp);
  if (ts < 0 || tz < 0) return -1;
  int ins[3] = {t_in, ts, tz};
  int32_t param[PB_STEP_PARAMS] = {-1};
  return host_layer(c, dequant ? PB_HOP_DEQUANTIZE : PB_HOP_QUANTIZE, dequant ? "Dequantize" : "Quantize", name, ins,
                    3, &t_out, 1, param);
}

/* The float program input for graph input position gi. */
static int float_input(lctx_t *c, int gi) {
  if (c->gin_t[gi] >= 0) {
    if (c->l->tensors[c->gin_t[gi]].dtype == PB_DT_FLOAT32) return c->gin_t[gi];
    return fail(c, "graph input '%s' is used both quantized and as float; Protobrain gives each input one form",
                V(c, c->g->inputs[gi])->name);
  }
  int v = c->g->inputs[gi];
  int t = new_act(c, v, V(c, v)->name, PB_DT_FLOAT32, LB_IO);
  if (t < 0) return -1;
  set_prod(c, t, -1);
  c->gin_t[gi] = t;
  return t;
}

/* Materialize IR value v as a float (or other host) tensor. */
static int as_float(lctx_t *c, int v) {
  vinfo_t *x = &c->v[v];
  switch (x->k) {
  case VK_F: return x->t;
  case VK_DQ: {
    int t = new_act(c, v, V(c, v)->name, PB_DT_FLOAT32, LB_ACT);
    if (t < 0 || !grow_tprod(c)) return -1;
    if (host_qdq(c, 1, x->t, t, x->s, x->zp, V(c, v)->name) < 0) return -1;
    x->k = VK_F; /* later float readers reuse it */
    x->t = t;
    return t;
  }
  case VK_GIN: {
    int t = float_input(c, x->gin);
    if (t < 0) return -1;
    if (!x->map) {
      x->k = VK_F, x->t = t;
      return t;
    }
    int r = view_tensor(c, t, V(c, v)->name, V(c, v)->rank, V(c, v)->dims, x->map);
    if (r < 0) return -1;
    set_prod(c, r, -1);
    x->k = VK_F, x->t = r;
    return r;
  }
  case VK_PEND:
    return fail(c, "input '%s' is a float value with no QuantizeLinear after it; the accelerator computes only "
                   "quantized matmuls (quantize the model, or compile the float model with --calib)",
                V(c, v)->name);
  default: return fail(c, "input '%s' (%s) cannot be used as a float tensor here", V(c, v)->name,
                       pb_ir_dtype_name(V(c, v)->dtype));
  }
}

/* ---- views ---- */

/* map[e] for Flatten/Reshape/Identity (same order) or Transpose (permutation), per sample; batch dim kept. */
/* Does this view move the batch axis (a different dims[0], or a Transpose with perm[0] != 0)? */
static int view_is_whole(const lctx_t *c, int node) {
  const pb_node_t *n = N(c, node);
  const pb_value_t *X = V(c, n->inputs[0]), *Y = V(c, n->outputs[0]);
  return X->rank < 1 || Y->rank < 1 || X->dims[0] != Y->dims[0] || (n->op == PB_OP_TRANSPOSE && n->attr.perm[0] != 0);
}

/* A whole-tensor map (every element of Y -> element of X) for a view that moves the batch axis; NULL: same order. */
static int whole_map(lctx_t *c, int node, int64_t **map_out) {
  const pb_node_t *n = N(c, node);
  const pb_value_t *X = V(c, n->inputs[0]), *Y = V(c, n->outputs[0]);
  *map_out = NULL;
  if (n->op != PB_OP_TRANSPOSE) return 0;
  int64_t total = pb_ir_numel(Y);
  int64_t *map = malloc((size_t)total * sizeof *map);
  if (!map) return fail(c, "out of memory");
  int64_t xs[PB_IR_MAX_RANK], st = 1;
  for (int d = X->rank - 1; d >= 0; d--) xs[d] = st, st *= X->dims[d];
  for (int64_t e = 0; e < total; e++) {
    int64_t r = e, src = 0;
    for (int d = Y->rank - 1; d >= 0; d--) {
      src += (r % Y->dims[d]) * xs[n->attr.perm[d]];
      r /= Y->dims[d];
    }
    map[e] = src;
  }
  *map_out = map;
  return 0;
}

/*
 * A view of tensor t that moves the batch axis: element e of the new dims (all of them, batch included)
 * is element map[e] of t. The result must still be one byte stride per sample of its own dims[0].
 */
static int view_tensor_whole(lctx_t *c, int t, const char *name, int rank, const int64_t *dims, const int64_t *map) {
  if (rank < 1 || rank > LIR_MAX_RANK)
    return fail(c, "value '%s' has rank %d; tensors in host memory have rank 1..%d", name, rank, LIR_MAX_RANK);
  lir_tensor_t T = c->l->tensors[t];
  int64_t total = (int64_t)numel_rank(rank, dims), ps = total / dims[0];
  if (total < 1 || ps < 1) return fail(c, "empty view '%s'", name);
  int64_t *off = malloc((size_t)total * sizeof *off);
  if (!off) return fail(c, "out of memory");
  for (int64_t e = 0; e < total; e++) {
    int64_t i = map ? map[e] : e;
    off[e] = (i / T.per_sample) * (int64_t)T.bstride + T.offs[i % T.per_sample];
  }
  int64_t bstride = dims[0] > 1 ? off[ps] - off[0] : 0;
  int ok = bstride >= 0;
  for (int64_t e = 0; e < total && ok; e++) ok = off[e] == (e / ps) * bstride + off[e % ps];
  if (!ok) {
    free(off);
    return fail(c, "'%s' reorders the batch axis in a way one stride per sample cannot describe; not supported", name);
  }
  int n = lir_add_tensor(c->l, name, T.buf, T.base, T.dtype, rank, dims, (uint64_t)bstride, off);
  free(off);
  if (n < 0) return fail(c, "out of memory");
  c->l->tensors[n].scale = T.scale;
  c->l->tensors[n].zp = T.zp;
  if (ensure_tprod(c)) return fail(c, "out of memory");
  return n;
}

static int view_map(lctx_t *c, int node, int64_t **map_out) {
  const pb_node_t *n = N(c, node);
  const pb_value_t *X = V(c, n->inputs[0]), *Y = V(c, n->outputs[0]);
  *map_out = NULL;
  if (n->op != PB_OP_TRANSPOSE) return 0;
  int64_t ps = (int64_t)numel_rank(Y->rank - 1, Y->dims + 1);
  int64_t *map = malloc((size_t)ps * sizeof *map);
  if (!map) return fail(c, "out of memory");
  int64_t xs[PB_IR_MAX_RANK], s = 1;
  for (int d = X->rank - 1; d >= 0; d--) xs[d] = s, s *= X->dims[d];
  for (int64_t e = 0; e < ps; e++) {
    int64_t r = e, src = 0;
    for (int d = Y->rank - 1; d >= 1; d--) {
      int64_t i = r % Y->dims[d];
      r /= Y->dims[d];
      src += i * xs[n->attr.perm[d]];
    }
    map[e] = src;
  }
  *map_out = map;
  return 0;
}

static int lower_view(lctx_t *c, int node) {
  const pb_node_t *n = N(c, node);
  int x = n->inputs[0], y = n->outputs[0];
  int64_t *map;
  vinfo_t *X = &c->v[x], *Y = &c->v[y];
  if (X->k == VK_NONE || X->k == VK_PEND) {
    if (X->k == VK_PEND) return fail(c, "input '%s' is a float value that is not quantized; put a QuantizeLinear "
                                        "before this %s, or compile the float model with --calib",
                                     V(c, x)->name, pb_ir_op_name(n->op));
    return fail(c, "input '%s' is a constant; constant folding of %s is not supported", V(c, x)->name,
                pb_ir_op_name(n->op));
  }
  if (view_is_whole(c, node)) { /* the batch axis moves: a view of the whole tensor */
    if (X->k == VK_GIN && as_float(c, x) < 0) return -1;
    if (whole_map(c, node, &map)) return -1;
    int t = view_tensor_whole(c, X->t, V(c, y)->name, V(c, y)->rank, V(c, y)->dims, map);
    free(map);
    if (t < 0) return -1;
    set_prod(c, t, c->tprod[X->t]);
    *Y = *X;
    Y->map = NULL;
    Y->t = t;
    return 0;
  }
  if (view_map(c, node, &map)) return -1;
  if (X->k == VK_GIN) { /* compose with the input's own map */
    int64_t ps = (int64_t)numel_rank(V(c, y)->rank - 1, V(c, y)->dims + 1);
    int64_t *m = malloc((size_t)ps * sizeof *m);
    if (!m) {
      free(map);
      return fail(c, "out of memory");
    }
    for (int64_t e = 0; e < ps; e++) {
      int64_t i = map ? map[e] : e;
      m[e] = X->map ? X->map[i] : i;
    }
    free(map);
    Y->k = VK_GIN, Y->gin = X->gin, Y->map = m;
    return 0;
  }
  int t = view_tensor(c, X->t, V(c, y)->name, V(c, y)->rank, V(c, y)->dims, map);
  free(map);
  if (t < 0) return -1;
  if (ensure_tprod(c)) return fail(c, "out of memory");
  set_prod(c, t, c->tprod[X->t]);
  *Y = *X;
  Y->map = NULL;
  Y->t = t;
  return 0;
}

/* ---- matmul layers ---- */

typedef struct {
  int64_t K, M;      /* logical K (input features / patch), output channels */
  int32_t *w;        /* [K][M] centered weights (w - zp_w), logical K order */
  float *sw;         /* [M] weight scales */
  int32_t *bias;     /* [M] int32 bias (scale s_x * s_w) */
  int32_t *bmat;     /* Gemm with a [R, M] bias matrix: [R][M] int32 (bias stays 0), else NULL */
  int64_t brows;
} mm_w_t;

static void mm_w_free(mm_w_t *m) {
  free(m->w);
  free(m->sw);
  free(m->bias);
  free(m->bmat);
  memset(m, 0, sizeof *m);
}

/*
 * Read quantized weights: value wv is DQ(int const) (QDQ) or, with qlinear, the int const itself with
 * scale sv and zero point zv. Weight element (k, m) of the [K][M] matrix is at wq[k*ks + m*ms]; the
 * per-channel parameters run along the output channel m (axis `axis` of the weight tensor).
 */
static int read_weights(lctx_t *c, int wv, int sv, int zv, int axis, int64_t K, int64_t M, int64_t ks, int64_t ms,
                        mm_w_t *out) {
  const pb_value_t *W = V(c, wv);
  if (!is_const(c, wv)) return fail(c, "weights '%s' must be a constant (an initializer)", W->name);
  if (W->dtype != PB_IR_I8 && W->dtype != PB_IR_U8)
    return fail(c, "weights '%s' are %s; quantized weights are int8 or uint8", W->name, pb_ir_dtype_name(W->dtype));
  if (sv >= 0 && !is_const(c, sv)) return fail(c, "weight scale '%s' must be a constant", V(c, sv)->name);
  int64_t ns = sv >= 0 ? pb_ir_numel(V(c, sv)) : 1, nz = zv >= 0 ? pb_ir_numel(V(c, zv)) : 1; /* no scale: 1 */
  if (zv >= 0 && !is_const(c, zv)) return fail(c, "weight zero point '%s' must be a constant", V(c, zv)->name);
  if ((ns != 1 && ns != M) || (nz != 1 && nz != M))
    return fail(c, "weight %s '%s' has %lld elements; expected 1 or %lld (one per output channel)",
                ns != 1 && ns != M ? "scale" : "zero point", V(c, ns != 1 && ns != M ? sv : zv)->name,
                (long long)(ns != 1 && ns != M ? ns : nz), (long long)M);
  if (ns == M && M > 1 && axis < 0) return fail(c, "per-channel weight scales along the wrong axis");
  out->K = K, out->M = M;
  out->w = malloc((size_t)(K * M) * sizeof *out->w);
  out->sw = malloc((size_t)M * sizeof *out->sw);
  out->bias = calloc((size_t)M, sizeof *out->bias);
  if (!out->w || !out->sw || !out->bias) return fail(c, "out of memory");
  for (int64_t m = 0; m < M; m++) {
    out->sw[m] = sv >= 0 ? (float)pb_ir_const_f64(V(c, sv), ns == 1 ? 0 : m) : 1.0f;
    if (!isfinite(out->sw[m]) || !(out->sw[m] > 0))
      return fail(c, "weight scale '%s'[%lld] = %g must be finite and > 0", V(c, sv)->name, (long long)m,
                  (double)out->sw[m]);
    int64_t z = zv >= 0 ? pb_ir_const_i64(V(c, zv), nz == 1 ? 0 : m) : 0;
    for (int64_t k = 0; k < K; k++) out->w[k * M + m] = (int32_t)(pb_ir_const_i64(W, k * ks + m * ms) - z);
  }
  return 0;
}

/* The weight DQ node behind value v (a DequantizeLinear of a constant), or -1. */
static int weight_dq(const lctx_t *c, int v) {
  int p = v >= 0 ? c->g->values[v].producer : -1;
  if (p < 0 || c->g->nodes[p].op != PB_OP_DEQUANTIZE) return -1;
  return is_const(c, c->g->nodes[p].inputs[0]) ? p : -1;
}

/* Bias for output channel m: int32 with scale f32(s_x * s_w[m]). */
static int read_bias(lctx_t *c, int bv, float sx, mm_w_t *mw) {
  if (bv < 0) return 0;
  int dq = weight_dq(c, bv);
  const pb_value_t *B = V(c, bv);
  if (dq >= 0) {
    int bq = N(c, dq)->inputs[0], bs = N(c, dq)->inputs[1], bz = N(c, dq)->n_inputs > 2 ? N(c, dq)->inputs[2] : -1;
    const pb_value_t *Q = V(c, bq);
    if (Q->dtype == PB_IR_I32 && Q->rank == 2 && Q->dims[1] == mw->M && Q->dims[0] > 1 && N(c, dq)->attr.axis == 1) {
      /* a Gemm bias matrix, one row per output row, scales per column: the accumulator starts from it */
      int64_t R = Q->dims[0], ns = pb_ir_numel(V(c, bs));
      mw->bmat = malloc((size_t)(R * mw->M) * sizeof *mw->bmat);
      if (!mw->bmat) return fail(c, "out of memory");
      mw->brows = R;
      for (int64_t m = 0; m < mw->M; m++) {
        volatile float want = sx * mw->sw[m];
        float s = (float)pb_ir_const_f64(V(c, bs), ns == 1 ? 0 : m);
        if (s != want)
          return fail(c, "bias matrix '%s': the scale of column %lld is %g, not s_x * s_w = %g", Q->name, (long long)m,
                      (double)s, (double)want);
        for (int64_t r = 0; r < R; r++) {
          int64_t z = bz >= 0 ? pb_ir_const_i64(V(c, bz), pb_ir_numel(V(c, bz)) == 1 ? 0 : m) : 0;
          mw->bmat[r * mw->M + m] = (int32_t)(pb_ir_const_i64(Q, r * mw->M + m) - z);
        }
      }
      return 0;
    }
    if (V(c, bq)->dtype != PB_IR_I32 || pb_ir_numel(V(c, bq)) != mw->M)
      return fail(c, "bias '%s' must be int32 with %lld elements (got %s with %lld)", V(c, bq)->name,
                  (long long)mw->M, pb_ir_dtype_name(V(c, bq)->dtype), (long long)pb_ir_numel(V(c, bq)));
    int64_t ns = pb_ir_numel(V(c, bs));
    for (int64_t m = 0; m < mw->M; m++) {
      volatile float want = sx * mw->sw[m];
      float s = (float)pb_ir_const_f64(V(c, bs), ns == 1 ? 0 : m);
      int64_t z = bz >= 0 ? pb_ir_const_i64(V(c, bz), pb_ir_numel(V(c, bz)) == 1 ? 0 : m) : 0;
      int64_t b = pb_ir_const_i64(V(c, bq), m) - z;
      if (s == want) {
        mw->bias[m] = (int32_t)b;
      } else { /* rescale: what a float bias of that value would quantize to */
        volatile float f = (float)b * s;
        volatile float q = f / want;
        double r = nearbyint((double)q);
        mw->bias[m] = r > INT32_MAX ? INT32_MAX : r < INT32_MIN ? INT32_MIN : (int32_t)r;
      }
    }
    return 0;
  }
  if (is_const(c, bv) && B->dtype == PB_IR_F32 && pb_ir_numel(B) == mw->M) {
    for (int64_t m = 0; m < mw->M; m++) { /* onnxruntime's quantizer: round(b / f32(s_x * s_w)) */
      volatile float bs = sx * mw->sw[m];
      volatile float q = ((const float *)B->data)[m] / bs;
      double r = nearbyint((double)q);
      mw->bias[m] = r > INT32_MAX ? INT32_MAX : r < INT32_MIN ? INT32_MIN : (int32_t)r;
    }
    return 0;
  }
  if (is_const(c, bv) && B->dtype == PB_IR_I32 && pb_ir_numel(B) == mw->M) {
    for (int64_t m = 0; m < mw->M; m++) mw->bias[m] = ((const int32_t *)B->data)[m];
    return 0;
  }
  return fail(c, "bias '%s' must be a constant of %lld elements (DequantizeLinear of int32, or float)", B->name,
              (long long)mw->M);
}

/*
 * Emit the matmul layer: input tensor tx (int8, zero point zx, scale sx), weights mw (logical K order),
 * output tensor ty (scale sy, zero point zy, clamp lo..hi).
 */
typedef struct {
  const char *op;
  int conv;                       /* 1: tx is NHWC, K order (ky, kx, c) */
  int kh, kw, sh, sw, pt, pl;     /* conv */
  int64_t OH, OW;                 /* output pixels per sample (matmul: S x 1) */
  int64_t nb;                     /* samples */
  int64_t in_off, out_off;        /* byte offsets of the slice (batched MatMul) */
} mm_geom_t;

static int emit_matmul(lctx_t *c, const char *name, const mm_geom_t *G, int tx, float sx, int32_t zx, mm_w_t *mw,
                       int ty, float sy, int32_t zy, int32_t lo, int32_t hi, int raw) {
  lir_tensor_t *X = &c->l->tensors[tx];
  int64_t K = mw->K, M = mw->M;
  if (K < 1 || M < 1) return fail(c, "empty matmul (K = %lld, M = %lld)", (long long)K, (long long)M);
  /* physical K order and segments */
  int64_t *perm = malloc((size_t)K * sizeof *perm); /* physical position -> logical k */
  lir_seg_t *seg = malloc((size_t)K * sizeof *seg);
  int nseg = 0;
  if (!perm || !seg) {
    free(perm), free(seg);
    return fail(c, "out of memory");
  }
  int64_t in_base, ystep = 0, xstep = 0;
  if (G->conv) {
    if (!X->nhwc || X->rank != 4) {
      free(perm), free(seg);
      return fail(c, "the convolution input '%s' must be an activation in NHWC layout (not a reshaped view)", X->name);
    }
    int64_t C = X->C, Wp = X->Wp;
    if (X->bt < G->pt || X->bl < G->pl || (G->OH - 1) * G->sh - G->pt + G->kh > X->H + 2 * X->bt ||
        (G->OW - 1) * G->sw - G->pl + G->kw > X->W + 2 * X->bl) {
      free(perm), free(seg);
      return fail(c, "internal: the border of '%s' (%d) is smaller than the padding", X->name, X->bt);
    }
    for (int64_t p = 0; p < K; p++) perm[p] = p; /* weights were read in (ky, kx, c) order */
    for (int ky = 0; ky < G->kh; ky++) seg[nseg++] = (lir_seg_t){(int64_t)ky * Wp * C, (int64_t)G->kw * C};
    in_base = X->base + ((int64_t)(X->bt - G->pt) * Wp + (X->bl - G->pl)) * C;
    ystep = (int64_t)G->sh * Wp * C;
    xstep = (int64_t)G->sw * C;
  } else {
    /* rows: (b, s): the K features of row s are at offs[s*K + k] = offs[k] + s*ystep */
    int64_t S = G->OH;
    if (S > 1) ystep = X->offs[K] - X->offs[0];
    for (int64_t s = 0; s < S; s++)
      for (int64_t k = 0; k < K; k++)
        if (X->offs[s * K + k] != X->offs[k] + s * ystep) {
          free(perm), free(seg);
          return fail(c, "the rows of '%s' are not evenly spaced in memory; not supported", X->name);
        }
    /* sort logical k by offset (stable) */
    for (int64_t k = 0; k < K; k++) perm[k] = k;
    int sorted = 1;
    for (int64_t k = 1; k < K && sorted; k++) sorted = X->offs[k] > X->offs[k - 1];
    if (!sorted) { /* insertion sort by offset is O(K^2) worst case: use qsort on pairs */
      int64_t(*pr)[2] = malloc((size_t)K * sizeof *pr);
      if (!pr) {
        free(perm), free(seg);
        return fail(c, "out of memory");
      }
      for (int64_t k = 0; k < K; k++) pr[k][0] = X->offs[k], pr[k][1] = k;
      qsort(pr, (size_t)K, sizeof *pr, pair_cmp);
      for (int64_t k = 0; k < K; k++) perm[k] = pr[k][1];
      free(pr);
    }
    int64_t o0 = X->offs[perm[0]];
    for (int64_t p = 0; p < K; p++) {
      int64_t o = X->offs[perm[p]] - o0;
      if (p > 0 && o == seg[nseg - 1].off + seg[nseg - 1].len) seg[nseg - 1].len++;
      else if (p > 0 && o < seg[nseg - 1].off + seg[nseg - 1].len) {
        free(perm), free(seg);
        return fail(c, "'%s' reads an element twice (a broadcast view); not supported", X->name);
      } else seg[nseg++] = (lir_seg_t){o, 1};
    }
    in_base = X->base + o0;
  }
  /* centered weights in physical order; split into int8 replicas when wider than int8 */
  int32_t wmin = 0, wmax = 0;
  for (int64_t i = 0; i < K * M; i++) wmin = mw->w[i] < wmin ? mw->w[i] : wmin, wmax = mw->w[i] > wmax ? mw->w[i] : wmax;
  int reps = 1;
  if (wmin < -128 || wmax > 127) reps = (wmin < -256 || wmax > 254) ? 3 : 2;
  if (wmin < -384 || wmax > 381) {
    free(perm), free(seg);
    return fail(c, "centered weights reach %d..%d; more than 3 int8 parts are not supported", wmin, wmax);
  }
  int y = lir_add_layer(c->l, LL_MATMUL, name, G->op);
  if (y < 0) {
    free(perm), free(seg);
    return fail(c, "out of memory");
  }
  lir_layer_t *L = &c->l->layers[y];
  L->in = tx, L->out = ty;
  L->K = K, L->Cout = M, L->reps = reps;
  L->w = malloc((size_t)(reps * K * M));
  L->bias = malloc((size_t)M * sizeof *L->bias);
  L->mult = malloc((size_t)M * sizeof *L->mult);
  L->seg = seg, L->nseg = nseg;
  if (!L->w || !L->bias || !L->mult) {
    free(perm);
    return fail(c, "out of memory");
  }
  double maxdev = (double)(127 - zx > zx + 128 ? 127 - zx : zx + 128);
  for (int64_t m = 0; m < M; m++) {
    int64_t sumw = 0;
    double bound = fabs((double)mw->bias[m]);
    for (int64_t p = 0; p < K; p++) {
      int32_t v = mw->w[perm[p] * M + m];
      sumw += v;
      bound += fabs((double)v) * maxdev;
      for (int r = 0; r < reps; r++) { /* v = sum of parts, each clamped to int8 */
        int32_t part = r == reps - 1 ? v : (v < -128 ? -128 : v > 127 ? 127 : v);
        L->w[((int64_t)r * K + p) * M + m] = (int8_t)part;
        v -= part;
      }
    }
    L->bias[m] = (int32_t)(uint32_t)((uint64_t)(int64_t)mw->bias[m] - (uint64_t)((int64_t)zx * sumw));
    volatile float sxw = sx * mw->sw[m];
    volatile float mm = sxw / sy;
    L->mult[m] = mm;
    if (bound > 2147483647.0 && !L->acc_may_wrap) {
      L->acc_may_wrap = 1;
      if (c->warn) {
        char d[200];
        fprintf(c->warn,
                "warning: %s: the worst-case accumulator of output channel %lld reaches %.0f, beyond int32; it wraps "
                "as in onnxruntime\n",
                pb_ir_node_desc(c->g, c->node, d, sizeof d), (long long)m, bound);
      }
    }
  }
  free(perm);
  L->zp = zy, L->lo = lo, L->hi = hi;
  L->nb = G->nb;
  L->OH = G->OH, L->OW = G->OW;
  L->in_base = in_base + G->in_off;
  L->ystep = ystep, L->xstep = xstep;
  L->PH = G->OH, L->PW = G->OW;
  lir_tensor_t *Y = &c->l->tensors[ty];
  L->raw = raw;
  if (mw->bmat) { /* the bias matrix: one row per output row of the layer */
    if (mw->brows != G->nb * G->OH * G->OW) {
      return fail(c, "the bias matrix has %lld rows but the layer has %lld output rows (compile with --batch %lld)",
                  (long long)mw->brows, (long long)(G->nb * G->OH * G->OW), (long long)mw->brows);
    }
    L->bmat = mw->bmat, L->brows = mw->brows;
    mw->bmat = NULL;
  }
  if (Y->nhwc && Y->rank == 4) {
    int64_t es = raw ? 4 : 1; /* int32 or int8 elements */
    L->out_base = Y->base + ((int64_t)Y->bt * Y->Wp + Y->bl) * Y->C * es;
    L->oystep = Y->Wp * Y->C * es;
    L->oxstep = Y->C * es;
  } else {
    L->out_base = Y->base + Y->offs[0];
    L->oystep = G->OH > 1 ? Y->offs[M] - Y->offs[0] : 0;
    L->oxstep = 0;
  }
  L->out_base += G->out_off;
  L->macs = (uint64_t)G->nb * (uint64_t)(G->OH * G->OW) * (uint64_t)K * (uint64_t)M;
  set_prod(c, ty, y);
  (void)sy;
  return y;
}


/* Clamp bounds in the int8 domain from float bounds lo_f..hi_f through quantization (s, zp). */
static void clamp_bounds(float lo_f, float hi_f, float s, int32_t zp, int32_t *lo, int32_t *hi) {
  *lo = lo_f == -INFINITY ? -128 : q8(lo_f, s, zp);
  *hi = hi_f == INFINITY ? 127 : q8(hi_f, s, zp);
}

/* QLinearMatMul / QLinearConv, or the QDQ pattern at a QuantizeLinear: lower one matmul. */
static int lower_matmul_node(lctx_t *c, int mmnode, int xq, float sx, int32_t zx, int wv, int ws, int wz, int bv,
                             int yv, float sy, int32_t zy, float lo_f, float hi_f, int qlinear, int raw) {
  const pb_node_t *n = N(c, mmnode);
  const pb_value_t *W = V(c, wv), *Yv = V(c, yv);
  vinfo_t *XI = &c->v[xq];
  if (XI->k != VK_Q && XI->k != VK_DQ)
    return fail(c, "input '%s' must be a quantized activation (DequantizeLinear of a QuantizeLinear output, or an "
                   "int8/uint8 tensor)",
                V(c, xq)->name);
  int tx = XI->t;
  mm_w_t mw = {0};
  mm_geom_t G = {.op = pb_ir_op_name(n->op), .OH = 1, .OW = 1, .nb = V(c, xq)->dims[0]};
  int rc = -1, nslices = 1;
  int64_t wslice = 0;
  if (n->op == PB_OP_CONV || n->op == PB_OP_QLINEARCONV || n->op == PB_OP_CONVINTEGER) {
    const pb_attr_t *a = &n->attr;
    int64_t M = W->dims[0], C = W->dims[1];
    G.conv = 1, G.op = "Conv", G.kh = a->kernel[0], G.kw = a->kernel[1], G.sh = a->stride[0], G.sw = a->stride[1];
    G.pt = a->pad[0], G.pl = a->pad[1];
    G.OH = Yv->dims[2], G.OW = Yv->dims[3];
    /* logical k = (ky*kw + kx)*C + ci reads W[m][ci][ky][kx] */
    int64_t K = (int64_t)G.kh * G.kw * C;
    mm_w_t tmp = {0};
    if (read_weights(c, wv, ws, wz, 0, K, M, 1, K, &tmp)) {
      mm_w_free(&tmp);
      goto out;
    }
    mw.K = K, mw.M = M, mw.sw = tmp.sw, mw.bias = tmp.bias;
    mw.w = malloc((size_t)(K * M) * sizeof *mw.w);
    if (!mw.w) {
      free(tmp.w);
      fail(c, "out of memory");
      goto out;
    }
    /* tmp.w[k*M + m] holds W flat index m*K + k with K in (ci, ky, kx) order: reorder to (ky, kx, ci) */
    for (int64_t m = 0; m < M; m++)
      for (int64_t ci = 0; ci < C; ci++)
        for (int ky = 0; ky < G.kh; ky++)
          for (int kx = 0; kx < G.kw; kx++)
            mw.w[(((int64_t)ky * G.kw + kx) * C + ci) * M + m] = tmp.w[((ci * G.kh + ky) * G.kw + kx) * M + m];
    free(tmp.w);
  } else if (n->op == PB_OP_GEMM) {
    const pb_attr_t *a = &n->attr;
    if (a->trans_a) { /* A is [K, M]: read it through a transposed view (each row gathered element by element) */
      const pb_value_t *A = V(c, xq);
      int64_t Kd = A->dims[0], Md = A->dims[1], dims[2] = {Md, Kd};
      int64_t *map = malloc((size_t)(Kd * Md) * sizeof *map);
      if (!map) {
        fail(c, "out of memory");
        goto out;
      }
      for (int64_t m = 0; m < Md; m++)
        for (int64_t k = 0; k < Kd; k++) map[m * Kd + k] = k * Md + m;
      char nm[160];
      snprintf(nm, sizeof nm, "%s^T", A->name);
      tx = view_tensor_whole(c, tx, nm, 2, dims, map);
      free(map);
      if (tx < 0) goto out;
      G.nb = Md;
    }
    if (a->alpha != 1.0f || (bv >= 0 && a->beta != 1.0f)) {
      fail(c, "attribute '%s' = %g is not supported in a quantized Gemm (only 1; the float quantizer folds it)",
           a->alpha != 1.0f ? "alpha" : "beta", (double)(a->alpha != 1.0f ? a->alpha : a->beta));
      goto out;
    }
    int64_t K = a->trans_b ? W->dims[1] : W->dims[0], M = a->trans_b ? W->dims[0] : W->dims[1];
    if (read_weights(c, wv, ws, wz, a->trans_b ? 0 : 1, K, M, a->trans_b ? 1 : M, a->trans_b ? K : 1, &mw)) goto out;
    G.op = "Gemm";
  } else { /* MatMul, QLinearMatMul: A [B, K] or [B, S, K]; weights [K, M] or [B, K, M] */
    const pb_value_t *A = V(c, xq);
    if (A->rank < 2 || A->rank > 3 || W->rank < 2 || W->rank > 3 || (W->rank == 3 && A->rank != 3)) {
      fail(c, "MatMul of '%s' (rank %d) and '%s' (rank %d) is not supported: the accelerator multiplies rank-2 or "
              "rank-3 activations by constant rank-2 (or per-batch rank-3) weights",
           A->name, A->rank, W->name, W->rank);
      goto out;
    }
    int64_t K = W->dims[W->rank - 2], M = W->dims[W->rank - 1];
    if (W->rank == 3) {
      if (W->dims[0] != A->dims[0]) {
        fail(c, "batched weights '%s' have %lld slices but '%s' has %lld", W->name, (long long)W->dims[0], A->name,
             (long long)A->dims[0]);
        goto out;
      }
      nslices = (int)W->dims[0];
      wslice = K * M;
    }
    if (A->rank == 3) G.OH = A->dims[1];
    if (nslices > 1) G.nb = 1;
    G.op = "MatMul";
    (void)K, (void)M;
  }
  /* output tensor: int8, or int32 raw sums */
  int ty = new_act(c, yv, V(c, yv)->name, raw ? PB_DT_INT32 : PB_DT_INT8, LB_ACT);
  if (ty < 0 || !grow_tprod(c)) goto out;
  c->l->tensors[ty].scale = sy;
  if (!raw) set_fill(c, ty, zy);
  int32_t lo, hi;
  clamp_bounds(lo_f, hi_f, sy, zy, &lo, &hi);
  if (lo > hi) lo = hi;
  const char *name = n->name && n->name[0] ? n->name : V(c, yv)->name;
  if (nslices == 1 && !(n->op == PB_OP_MATMUL || n->op == PB_OP_QLINEARMATMUL || n->op == PB_OP_MATMULINTEGER)) {
    if (read_bias(c, bv, sx, &mw)) goto out;
    rc = emit_matmul(c, name, &G, tx, sx, zx, &mw, ty, sy, zy, lo, hi, raw) < 0 ? -1 : 0;
  } else {
    int64_t K = W->dims[W->rank - 2], M = W->dims[W->rank - 1];
    for (int s = 0; s < nslices; s++) {
      mm_w_t sm = {0};
      if (read_weights(c, wv, ws, wz, 1, K, M, M, 1, &sm)) {
        mm_w_free(&sm);
        goto out;
      }
      if (nslices > 1) /* slice s: weights W[s] */
        for (int64_t k = 0; k < K; k++)
          for (int64_t m = 0; m < M; m++) {
            int64_t z = wz >= 0 ? pb_ir_const_i64(V(c, wz), pb_ir_numel(V(c, wz)) == 1 ? 0 : m) : 0;
            sm.w[k * M + m] = (int32_t)(pb_ir_const_i64(W, s * wslice + k * M + m) - z);
          }
      if (read_bias(c, bv, sx, &sm)) {
        mm_w_free(&sm);
        goto out;
      }
      mm_geom_t Gs = G;
      if (nslices > 1) {
        Gs.in_off = (int64_t)s * (int64_t)c->l->tensors[tx].bstride;
        Gs.out_off = (int64_t)s * (int64_t)c->l->tensors[ty].bstride;
      }
      char nm[96];
      if (nslices > 1) snprintf(nm, sizeof nm, "%s[%d]", name, s);
      int y = emit_matmul(c, nslices > 1 ? nm : name, &Gs, tx, sx, zx, &sm, ty, sy, zy, lo, hi, raw);
      mm_w_free(&sm);
      if (y < 0) goto out;
    }
    rc = 0;
    goto done;
  }
  if (rc) goto out;
done:
  c->v[yv].k = raw ? VK_F : VK_Q; /* int32 sums: a host tensor (an output, or a host operator's input) */
  c->v[yv].t = ty;
  (void)qlinear;
  mm_w_free(&mw);
  return 0;
out:
  mm_w_free(&mw);
  return -1;
}

/*
 * Q([Relu|Clip]+(DQ(q))): requantization with a clamp, on the accelerator as a matmul by the identity
 * (acc = x - zx, y = clamp(zy + rne(f32(f32(acc) * f32(sx / sy))), lo, hi)). A 4-D NHWC tensor runs as
 * pixels x C channels (a C x C identity); anything else element by element (K = 1, one output column).
 */
static int lower_identity(lctx_t *c, int at, int xv, int yv, float sy, int32_t zy, float lo_f, float hi_f) {
  vinfo_t *X = &c->v[xv];
  lir_tensor_t *T = &c->l->tensors[X->t];
  int saved = c->node;
  c->node = at;
  mm_w_t mw = {0};
  mm_geom_t G = {.op = "Requant", .OH = 1, .OW = 1, .nb = T->dims[0]};
  int nhwc = T->nhwc && T->rank == 4;
  int64_t C = nhwc ? T->C : 1;
  if (!nhwc) {
    G.OH = T->per_sample;
    if (G.OH > 1) {
      int64_t st = T->offs[1] - T->offs[0];
      for (int64_t e = 0; e < G.OH; e++)
        if (T->offs[e] != T->offs[0] + e * st || st < 0) {
          int r = fail(c, "input '%s' is not evenly laid out; a Relu/Clip of it is not supported", T->name);
          c->node = saved;
          return r;
        }
    }
  } else {
    G.conv = 1, G.kh = G.kw = G.sh = G.sw = 1, G.OH = T->H, G.OW = T->W;
  }
  mw.K = C, mw.M = C;
  mw.w = calloc((size_t)(C * C), sizeof *mw.w);
  mw.sw = malloc((size_t)C * sizeof *mw.sw);
  mw.bias = calloc((size_t)C, sizeof *mw.bias);
  if (!mw.w || !mw.sw || !mw.bias) {
    mm_w_free(&mw);
    c->node = saved;
    return fail(c, "out of memory");
  }
  for (int64_t k = 0; k < C; k++) mw.w[k * C + k] = 1, mw.sw[k] = 1.0f;
  int save_b = c->v[yv].border;
  int ty = -1;
  if (!nhwc && V(c, yv)->rank == 4) c->v[yv].border = 0;
  ty = new_act(c, yv, V(c, yv)->name, PB_DT_INT8, LB_ACT);
  c->v[yv].border = save_b;
  if (ty < 0 || !grow_tprod(c)) {
    mm_w_free(&mw);
    c->node = saved;
    return -1;
  }
  if (!nhwc) c->l->tensors[ty].nhwc = 0;
  c->l->tensors[ty].scale = sy;
  set_fill(c, ty, zy);
  int32_t lo, hi;
  clamp_bounds(lo_f, hi_f, sy, zy, &lo, &hi);
  if (lo > hi) lo = hi;
  const char *name = N(c, at)->name && N(c, at)->name[0] ? N(c, at)->name : V(c, yv)->name;
  int y = emit_matmul(c, name, &G, X->t, X->s, X->zp, &mw, ty, sy, zy, lo, hi, 0);
  mm_w_free(&mw);
  c->node = saved;
  if (y < 0) return -1;
  c->l->layers[y].macs = 0; /* bookkeeping, not the network's arithmetic */
  c->v[yv].k = VK_Q, c->v[yv].t = ty;
  return 0;
}

/* The QDQ matmul at QuantizeLinear qnode whose input chain ends in Conv/Gemm/MatMul node mm. */
static int lower_qdq_matmul(lctx_t *c, int mm, int yv, float sy, int32_t zy, float lo_f, float hi_f) {
  const pb_node_t *n = N(c, mm);
  int saved = c->node;
  c->node = mm;
  int x = n->inputs[0], w = n->inputs[1], b = n->n_inputs > 2 ? n->inputs[2] : -1;
  if (c->v[x].k != VK_DQ) {
    int r = c->v[x].k == VK_PEND || c->v[x].k == VK_F || c->v[x].k == VK_GIN
                ? fail(c, "input '%s' is float: a quantized %s needs DequantizeLinear(QuantizeLinear(x)) on its input "
                          "(compile float models with --calib)",
                       V(c, x)->name, pb_ir_op_name(n->op))
                : fail(c, "input '%s' is not a quantized activation", V(c, x)->name);
    c->node = saved;
    return r;
  }
  int dq = weight_dq(c, w);
  if (dq < 0) {
    int r = fail(c, "weights '%s' must be DequantizeLinear of an int8/uint8 initializer%s", V(c, w)->name,
                 is_const(c, w) ? " (they are float: compile with --calib to quantize the model)" : "");
    c->node = saved;
    return r;
  }
  const pb_node_t *d = N(c, dq);
  int wq = d->inputs[0], ws = d->inputs[1], wz = d->n_inputs > 2 ? d->inputs[2] : -1;
  /* the per-channel axis must be the output channel */
  int64_t ns = pb_ir_numel(V(c, ws));
  if (ns > 1) {
    int want = (n->op == PB_OP_CONV || (n->op == PB_OP_GEMM && n->attr.trans_b)) ? 0 : V(c, wq)->rank - 1;
    if (d->attr.axis != want) {
      int r = fail(c, "weights '%s' are quantized per channel along axis %d; the accelerator needs the output "
                      "channel axis (%d)",
                   V(c, wq)->name, d->attr.axis, want);
      c->node = saved;
      return r;
    }
  }
  int rc = lower_matmul_node(c, mm, x, c->v[x].s, c->v[x].zp, wq, ws, wz, b, yv, sy, zy, lo_f, hi_f, 0, 0);
  c->node = saved;
  return rc;
}

/* Is the pool fusable into the matmul layer y? */
static int pool_fusable(const lctx_t *c, int y, const pb_attr_t *a, const pb_value_t *out) {
  const lir_layer_t *L = &c->l->layers[y];
  if (L->kind != LL_MATMUL || L->ph * L->pw != 1 || L->acc_may_wrap) return 0;
  if (a->pad[0] || a->pad[1] || a->pad[2] || a->pad[3]) return 0;
  if ((int64_t)a->kernel[0] * a->kernel[1] > LIR_POOL_MAX) return 0;
  int64_t PH = out->dims[2], PW = out->dims[3];
  if ((PH - 1) * a->stride[0] + a->kernel[0] > L->OH || (PW - 1) * a->stride[1] + a->kernel[1] > L->OW) return 0;
  /* the layer's other layers (batched slices) share the output: only single layers */
  for (int i = 0; i < c->l->n_layers; i++)
    if (i != y && c->l->layers[i].out == L->out) return 0;
  return 1;
}

/* Q(MaxPool(DQ(q))): fused pooling or a host max pool. */
static int lower_qdq_maxpool(lctx_t *c, int mp, int yv, float sy, int32_t zy) {
  const pb_node_t *n = N(c, mp);
  int x = n->inputs[0];
  vinfo_t *X = &c->v[x];
  int saved = c->node;
  c->node = mp;
  if (X->k != VK_DQ) {
    int r = fail(c, "input '%s' must be DequantizeLinear of a quantized tensor", V(c, x)->name);
    c->node = saved;
    return r;
  }
  int same = X->s == sy && X->zp == zy;
  if (ensure_tprod(c)) return fail(c, "out of memory");
  int t = X->t, y = c->tprod[t];
  /* fusable: q is the output of a matmul read only by this DQ -> MaxPool chain */
  int qv = -1;
  int dqn = V(c, x)->producer;
  if (dqn >= 0) qv = N(c, dqn)->inputs[0];
  int sole = qv >= 0 && pb_ir_sole_consumer(c->g, qv) == dqn && pb_ir_sole_consumer(c->g, x) == mp &&
             c->v[qv].t == t;
  if (same && sole && y >= 0 && pool_fusable(c, y, &n->attr, V(c, yv))) {
    lir_layer_t *L = &c->l->layers[y];
    int ty = new_act(c, yv, V(c, yv)->name, PB_DT_INT8, LB_ACT);
    if (ty < 0 || !grow_tprod(c)) {
      c->node = saved;
      return -1;
    }
    L = &c->l->layers[y];
    c->l->tensors[ty].scale = sy;
    set_fill(c, ty, zy);
    lir_tensor_t *Y = &c->l->tensors[ty];
    c->l->bufs[c->l->tensors[L->out].buf].bytes = 0; /* the unpooled tensor is never materialized */
    c->l->bufs[c->l->tensors[L->out].buf].pinned = 0;
    c->l->bufs[c->l->tensors[L->out].buf].has_fill = 0;
    L->out = ty;
    L->ph = n->attr.kernel[0], L->pw = n->attr.kernel[1], L->psy = n->attr.stride[0], L->psx = n->attr.stride[1];
    L->PH = Y->dims[2], L->PW = Y->dims[3];
    L->out_base = Y->base + ((int64_t)Y->bt * Y->Wp + Y->bl) * Y->C;
    L->oystep = Y->Wp * Y->C;
    L->oxstep = Y->C;
    const char *fused = !strcmp(L->op, "Conv") ? "Conv+MaxPool" : !strcmp(L->op, "Gemm") ? "Gemm+MaxPool" : "MatMul+MaxPool";
    snprintf(L->op, sizeof L->op, "%s", fused);
    set_prod(c, ty, y);
    c->v[yv].k = VK_Q, c->v[yv].t = ty;
    c->node = saved;
    return 0;
  }
  /* host max pool on the int8 codes (exact: dequantization is monotone), then requantize if the scales differ */
  int ty = new_act(c, yv, V(c, yv)->name, PB_DT_INT8, LB_ACT);
  if (ty < 0 || !grow_tprod(c)) {
    c->node = saved;
    return -1;
  }
  c->l->tensors[ty].scale = X->s;
  set_fill(c, ty, X->zp);
  const pb_attr_t *a = &n->attr;
  int32_t param[PB_STEP_PARAMS] = {a->kernel[0], a->kernel[1], a->stride[0], a->stride[1],
                                   a->pad[0],    a->pad[1],    a->pad[2],    a->pad[3]};
  const char *name = n->name && n->name[0] ? n->name : V(c, yv)->name;
  if (host_layer(c, PB_HOP_MAXPOOL, "MaxPool", name, &t, 1, &ty, 1, param) < 0) {
    c->node = saved;
    return -1;
  }
  c->v[yv].k = VK_Q, c->v[yv].t = ty;
  c->node = saved;
  if (!same) { /* requantize on the host: DQ then Q (the float QDQ semantics) */
    int tf = new_act(c, yv, V(c, yv)->name, PB_DT_FLOAT32, LB_ACT);
    int tq = tf < 0 ? -1 : new_act(c, yv, V(c, yv)->name, PB_DT_INT8, LB_ACT);
    if (tq < 0 || !grow_tprod(c)) return -1;
    c->l->tensors[tq].scale = sy;
    set_fill(c, tq, zy);
    if (host_qdq(c, 1, ty, tf, X->s, X->zp, name) < 0 || host_qdq(c, 0, tf, tq, sy, zy, name) < 0) return -1;
    c->v[yv].t = tq;
  }
  return 0;
}

static int lower_quantize(lctx_t *c, int node) {
  const pb_node_t *n = N(c, node);
  int x = n->inputs[0], yv = n->outputs[0];
  const pb_value_t *Yv = V(c, yv);
  if (Yv->dtype != PB_IR_I8 && Yv->dtype != PB_IR_U8)
    return fail(c, "output '%s' is %s; only int8 and uint8 quantization is supported", Yv->name,
                pb_ir_dtype_name(Yv->dtype));
  float sy;
  int32_t zy;
  int per_axis = pb_ir_numel(V(c, n->inputs[1])) > 1;
  if (per_axis) { /* per-axis QuantizeLinear: a host operator */
    int xf = as_float(c, x);
    if (xf < 0) return -1;
    int64_t ns = pb_ir_numel(V(c, n->inputs[1]));
    float *s = malloc((size_t)ns * sizeof *s);
    int32_t *z = malloc((size_t)ns * sizeof *z);
    if (!s || !z) {
      free(s), free(z);
      return fail(c, "out of memory");
    }
    for (int64_t i = 0; i < ns; i++) {
      s[i] = (float)pb_ir_const_f64(V(c, n->inputs[1]), i);
      z[i] = n->n_inputs > 2 && n->inputs[2] >= 0 ? (int32_t)pb_ir_const_i64(V(c, n->inputs[2]), i) : 0;
      if (Yv->dtype == PB_IR_U8) z[i] -= 128;
      if (!isfinite(s[i]) || !(s[i] > 0)) {
        double bad = s[i];
        free(s), free(z);
        return fail(c, "y_scale[%lld] = %g must be finite and > 0", (long long)i, bad);
      }
    }
    char nm[96];
    snprintf(nm, sizeof nm, "%s_scale", Yv->name);
    int ts = const_tensor(c, nm, PB_DT_FLOAT32, ns, s);
    snprintf(nm, sizeof nm, "%s_zp", Yv->name);
    int tz = ts < 0 ? -1 : const_tensor(c, nm, PB_DT_INT32, ns, z);
    free(s), free(z);
    int ty = tz < 0 ? -1 : new_act(c, yv, Yv->name, PB_DT_INT8, LB_ACT);
    if (ty < 0 || !grow_tprod(c)) return -1;
    int ins[3] = {xf, ts, tz};
    int32_t param[PB_STEP_PARAMS] = {n->attr.axis};
    if (host_layer(c, PB_HOP_QUANTIZE, "Quantize", Yv->name, ins, 3, &ty, 1, param) < 0) return -1;
    c->v[yv].k = VK_Q, c->v[yv].t = ty;
    return 0;
  }
  if (scalar_scale(c, n->inputs[1], "y_scale", &sy)) return -1;
  if (scalar_zp(c, n->n_inputs > 2 ? n->inputs[2] : -1, "y_zero_point", Yv->dtype, &zy)) return -1;
  vinfo_t *X = &c->v[x];
  switch (X->k) {
  case VK_GIN: { /* the program input, quantized by the driver */
    int gi = X->gin;
    if (c->gin_t[gi] >= 0)
      return fail(c, "graph input '%s' is quantized more than once; Protobrain gives each input one form",
                  V(c, c->g->inputs[gi])->name);
    int ty = new_act(c, yv, Yv->name, PB_DT_INT8, LB_IO);
    if (ty < 0 || !grow_tprod(c)) return -1;
    c->l->tensors[ty].scale = sy;
    set_fill(c, ty, zy);
    set_prod(c, ty, -1);
    /* the input descriptor: the graph input's elements at the Q tensor's offsets */
    int gv = c->g->inputs[gi];
    const pb_value_t *GI = V(c, gv);
    int64_t ps = (int64_t)numel_rank(GI->rank - 1, GI->dims + 1);
    int64_t *offs = malloc((size_t)ps * sizeof *offs);
    if (!offs) return fail(c, "out of memory");
    for (int64_t e = 0; e < ps; e++) offs[e] = -1;
    const lir_tensor_t *T = &c->l->tensors[ty];
    for (int64_t e = 0; e < T->per_sample; e++) offs[X->map ? X->map[e] : e] = T->offs[e];
    for (int64_t e = 0; e < ps; e++)
      if (offs[e] < 0) {
        free(offs);
        return fail(c, "graph input '%s' is not read whole by its QuantizeLinear", GI->name);
      }
    int ti = lir_add_tensor(c->l, GI->name, T->buf, T->base, PB_DT_INT8, GI->rank, GI->dims, T->bstride, offs);
    free(offs);
    if (ti < 0 || !grow_tprod(c)) return fail(c, "out of memory");
    set_prod(c, ti, -1);
    c->l->tensors[ti].scale = sy;
    c->l->tensors[ti].zp = zy;
    c->l->tensors[ti].float_io = 1;
    c->gin_t[gi] = ti;
    c->v[yv].k = VK_Q, c->v[yv].t = ty;
    return 0;
  }
  case VK_DQ:
    if (X->s == sy && X->zp == zy) { /* Q(DQ(q)) with the same parameters: q itself */
      c->v[yv].k = VK_Q, c->v[yv].t = X->t;
      return 0;
    }
    if (as_float(c, x) < 0) return -1; /* requantize on the host: DQ, then Q below */
    /* fall through */
  case VK_F: {
    int ty = new_act(c, yv, Yv->name, PB_DT_INT8, LB_ACT);
    if (ty < 0 || !grow_tprod(c)) return -1;
    c->l->tensors[ty].scale = sy;
    set_fill(c, ty, zy);
    if (host_qdq(c, 0, c->v[x].t, ty, sy, zy, Yv->name) < 0) return -1;
    c->v[yv].k = VK_Q, c->v[yv].t = ty;
    return 0;
  }
  case VK_PEND: {
    /* walk back: [Relu|Clip]* then Conv/Gemm/MatMul, or MaxPool */
    float lo_f = -INFINITY, hi_f = INFINITY;
    int v = x, prev = node;
    for (;; prev = V(c, v)->producer, v = N(c, prev)->inputs[0]) {
      int p = V(c, v)->producer;
      if (p < 0) return fail(c, "input '%s' has no producer", V(c, v)->name);
      const pb_node_t *pn = N(c, p);
      if (pb_ir_sole_consumer(c->g, v) != prev) {
        c->node = p;
        return fail(c, "output '%s' is used by other nodes too; the accelerator cannot materialize a float value",
                    V(c, v)->name);
      }
      if (pn->op == PB_OP_RELU) {
        if (lo_f < 0) lo_f = 0;
      } else if (pn->op == PB_OP_CLIP) {
        int mn = pn->n_inputs > 1 ? pn->inputs[1] : -1, mx = pn->n_inputs > 2 ? pn->inputs[2] : -1;
        if ((mn >= 0 && !is_const(c, mn)) || (mx >= 0 && !is_const(c, mx))) {
          c->node = p;
          return fail(c, "Clip bounds must be constants");
        }
        if (mn >= 0 && (float)pb_ir_const_f64(V(c, mn), 0) > lo_f) lo_f = (float)pb_ir_const_f64(V(c, mn), 0);
        if (mx >= 0 && (float)pb_ir_const_f64(V(c, mx), 0) < hi_f) hi_f = (float)pb_ir_const_f64(V(c, mx), 0);
      } else if (pn->op == PB_OP_CONV || pn->op == PB_OP_GEMM || pn->op == PB_OP_MATMUL) {
        return lower_qdq_matmul(c, p, yv, sy, zy, lo_f, hi_f);
      } else if (pn->op == PB_OP_MAXPOOL && lo_f == -INFINITY && hi_f == INFINITY) {
        return lower_qdq_maxpool(c, p, yv, sy, zy);
      } else {
        c->node = p;
        return fail(c, "%s before a QuantizeLinear is not supported on the accelerator", pb_ir_op_name(pn->op));
      }
      int src = pn->inputs[0];
      if (c->v[src].k == VK_DQ) return lower_identity(c, p, src, yv, sy, zy, lo_f, hi_f);
      if (c->v[src].k != VK_PEND)
        return fail(c, "input '%s': a Relu or Clip of a %s value is not supported", V(c, src)->name,
                    c->v[src].k == VK_F ? "float host" : "quantized");
    }
  }
  default: return fail(c, "input '%s' cannot be quantized here", V(c, x)->name);
  }
}

/* Host operator on float inputs. */
static int lower_host_float(lctx_t *c, int node) {
  const pb_node_t *n = N(c, node);
  int yv = n->outputs[0];
  int ins[PB_STEP_MAX_IN], nin = 0;
  int32_t param[PB_STEP_PARAMS] = {0};
  unsigned hop = 0;
  const pb_attr_t *a = &n->attr;
  switch (n->op) {
  case PB_OP_SOFTMAX: hop = PB_HOP_SOFTMAX, param[0] = a->axis, param[1] = a->softmax_flat; break;
  case PB_OP_ARGMAX: hop = PB_HOP_ARGMAX, param[0] = a->axis, param[1] = a->keepdims, param[2] = a->select_last_index; break;
  case PB_OP_AVGPOOL:
    hop = PB_HOP_AVGPOOL;
    param[0] = a->kernel[0], param[1] = a->kernel[1], param[2] = a->stride[0], param[3] = a->stride[1];
    param[4] = a->pad[0], param[5] = a->pad[1], param[6] = a->pad[2], param[7] = a->pad[3];
    param[8] = a->ceil_mode, param[9] = a->count_include_pad;
    break;
  case PB_OP_MAXPOOL:
    hop = PB_HOP_MAXPOOL;
    param[0] = a->kernel[0], param[1] = a->kernel[1], param[2] = a->stride[0], param[3] = a->stride[1];
    param[4] = a->pad[0], param[5] = a->pad[1], param[6] = a->pad[2], param[7] = a->pad[3];
    break;
  case PB_OP_GLOBALAVGPOOL: hop = PB_HOP_GLOBALAVGPOOL; break;
  case PB_OP_ADD: hop = PB_HOP_ADD; break;
  default: return fail(c, "internal: no host operator");
  }
  int n_in = n->op == PB_OP_ADD ? 2 : 1;
  unsigned out_dt = PB_DT_FLOAT32;
  for (int i = 0; i < n_in; i++) {
    int v = n->inputs[i];
    if (n->op == PB_OP_ARGMAX && c->v[v].k == VK_DQ) { /* argmax of dequantized = argmax of the codes */
      ins[nin++] = c->v[v].t;
      continue;
    }
    if (n->op == PB_OP_MAXPOOL && c->v[v].k == VK_Q) { /* int8 max pool */
      ins[nin++] = c->v[v].t;
      out_dt = PB_DT_INT8;
      continue;
    }
    if (c->v[v].k == VK_Q && n->op == PB_OP_ARGMAX) {
      ins[nin++] = c->v[v].t;
      continue;
    }
    if (V(c, v)->dtype != PB_IR_F32)
      return fail(c, "input '%s' is %s; host %s supports float here", V(c, v)->name, pb_ir_dtype_name(V(c, v)->dtype),
                  pb_ir_op_name(n->op));
    int t = as_float(c, v);
    if (t < 0) return -1;
    ins[nin++] = t;
  }
  if (n->op == PB_OP_ARGMAX) out_dt = PB_DT_INT64;
  int ty = new_act(c, yv, V(c, yv)->name, out_dt, LB_ACT);
  if (ty < 0 || !grow_tprod(c)) return -1;
  if (out_dt == PB_DT_INT8) {
    c->l->tensors[ty].scale = c->l->tensors[ins[0]].scale;
    set_fill(c, ty, c->l->tensors[ins[0]].zp);
  }
  const char *name = n->name && n->name[0] ? n->name : V(c, yv)->name;
  if (host_layer(c, hop, pb_ir_op_name(n->op), name, ins, nin, &ty, 1, param) < 0) return -1;
  c->v[yv].k = out_dt == PB_DT_INT8 ? VK_Q : VK_F;
  c->v[yv].t = ty;
  return 0;
}

static int lower_outputs(lctx_t *c) {
  lir_t *l = c->l;
  if (ensure_tprod(c)) return fail(c, "out of memory");
  l->outputs = malloc((size_t)(c->g->n_outputs + 1) * sizeof *l->outputs);
  if (!l->outputs) return fail(c, "out of memory");
  for (int i = 0; i < c->g->n_outputs; i++) {
    int v = c->g->outputs[i];
    const pb_value_t *O = V(c, v);
    vinfo_t *X = &c->v[v];
    int t = -1;
    c->node = O->producer;
    if (X->k == VK_DQ || X->k == VK_Q || X->k == VK_F) {
      int src = X->t;
      lir_tensor_t S = l->tensors[src];
      uint32_t strides[LIR_MAX_RANK];
      int copy = !lir_affine_strides(&S, strides);
      if (X->k == VK_Q && O->dtype == PB_IR_U8) copy = 1; /* uint8: converted by the host */
      if (copy) {
        unsigned dt = X->k == VK_Q && O->dtype == PB_IR_U8 ? PB_DT_UINT8 : S.dtype;
        int save = c->v[v].border;
        c->v[v].border = 0;
        t = new_act(c, v, O->name, dt, LB_IO);
        c->v[v].border = save;
        if (t < 0 || !grow_tprod(c)) return -1;
        l->tensors[t].nhwc = 0;
        unsigned hop = dt == PB_DT_UINT8 ? PB_HOP_CONVERT : PB_HOP_COPY;
        if (host_layer(c, hop, dt == PB_DT_UINT8 ? "Convert" : "Copy", O->name, &src, 1, &t, 1, NULL) < 0) return -1;
        l->tensors[t].scale = S.scale;
        l->tensors[t].zp = dt == PB_DT_UINT8 ? S.zp + 128 : S.zp;
      } else if (X->k != VK_DQ && c->tprod[src] >= 0 && c->l->layers[c->tprod[src]].kind == LL_HOST) {
        t = src; /* written by a host step: the same descriptor, under the graph's name */
        lir_name(l->tensors[t].name, O->name);
        l->bufs[l->tensors[t].buf].pinned = 1;
        if (l->bufs[l->tensors[t].buf].kind == LB_ACT) l->bufs[l->tensors[t].buf].kind = LB_IO;
      } else {
        t = view_tensor(c, src, O->name, O->rank, O->dims, NULL);
        if (t < 0) return -1;
        l->bufs[l->tensors[t].buf].pinned = 1;
        if (l->bufs[l->tensors[t].buf].kind == LB_ACT) l->bufs[l->tensors[t].buf].kind = LB_IO;
      }
      if (X->k == VK_DQ) {
        l->tensors[t].scale = X->s;
        l->tensors[t].zp = X->zp;
        l->tensors[t].dtype = PB_DT_INT8;
        l->tensors[t].float_io = 1;
      }
    } else if (X->k == VK_GIN) { /* a graph input, maybe reshaped: a host copy */
      int src = as_float(c, v);
      if (src < 0) return -1;
      c->node = O->producer;
      t = new_act(c, v, O->name, l->tensors[src].dtype, LB_IO);
      if (t < 0 || !grow_tprod(c)) return -1;
      l->tensors[t].nhwc = 0;
      if (host_layer(c, PB_HOP_COPY, "Copy", O->name, &src, 1, &t, 1, NULL) < 0) return -1;
    } else {
      return fail(c, "graph output '%s' is a float value that is not quantized (a %s output); quantize the model or "
                     "compile the float model with --calib",
                  O->name, O->producer >= 0 ? pb_ir_op_name(N(c, O->producer)->op) : "?");
    }
    l->outputs[l->n_outputs++] = t;
  }
  c->node = -1;
  return 0;
}

/* Per-value border: the largest padding of a convolution that reads it. */
static void borders(lctx_t *c) {
  for (int i = 0; i < c->g->n_nodes; i++) {
    const pb_node_t *n = N(c, i);
    if (n->op != PB_OP_CONV && n->op != PB_OP_QLINEARCONV && n->op != PB_OP_CONVINTEGER) continue;
    int x = n->inputs[0];
    int p = V(c, x)->producer;
    if (n->op == PB_OP_CONV && p >= 0 && N(c, p)->op == PB_OP_DEQUANTIZE) x = N(c, p)->inputs[0];
    int b = 0;
    for (int k = 0; k < 4; k++) b = n->attr.pad[k] > b ? n->attr.pad[k] : b;
    if (b > c->v[x].border) c->v[x].border = b;
  }
}

static int lower_inputs(lctx_t *c) {
  lir_t *l = c->l;
  for (int i = 0; i < c->g->n_inputs; i++) {
    int v = c->g->inputs[i];
    const pb_value_t *X = V(c, v);
    c->node = -1;
    if (X->dtype == PB_IR_F32) {
      c->v[v].k = VK_GIN, c->v[v].gin = i;
      continue;
    }
    if (X->dtype != PB_IR_I8 && X->dtype != PB_IR_U8)
      return fail(c, "graph input '%s' is %s; inputs are float, int8 or uint8", X->name, pb_ir_dtype_name(X->dtype));
    if (X->dtype == PB_IR_I8) {
      int t = new_act(c, v, X->name, PB_DT_INT8, LB_IO);
      if (t < 0 || !grow_tprod(c)) return -1;
      set_prod(c, t, -1);
      l->tensors[t].zp_open = 1;
      c->gin_t[i] = t;
      c->v[v].k = VK_Q, c->v[v].t = t;
    } else { /* uint8: a plain u8 input, converted to int8 (x - 128) by the host */
      int save = c->v[v].border;
      c->v[v].border = 0;
      int tu = new_act(c, v, X->name, PB_DT_UINT8, LB_IO);
      c->v[v].border = save;
      if (tu < 0 || !grow_tprod(c)) return -1;
      l->tensors[tu].nhwc = 0;
      set_prod(c, tu, -1);
      char nm[96];
      snprintf(nm, sizeof nm, "%s_i8", X->name);
      int t = new_act(c, v, nm, PB_DT_INT8, LB_ACT);
      if (t < 0 || !grow_tprod(c)) return -1;
      l->tensors[t].zp_open = 1; /* borders: filled when the zero point is known */
      if (host_layer(c, PB_HOP_CONVERT, "Convert", nm, &tu, 1, &t, 1, NULL) < 0) return -1;
      c->gin_t[i] = tu;
      c->v[v].k = VK_Q, c->v[v].t = t;
    }
  }
  return 0;
}

/* Int8 graph inputs learn their zero point from the first DequantizeLinear or QLinear op reading them. */
static void note_zp(lctx_t *c, int t, int32_t zp) {
  lir_tensor_t *T = &c->l->tensors[t];
  if (T->zp_open) {
    set_fill(c, t, zp);
    T->zp_open = 0;
  }
}

int pb_lower(const pb_graph_t *g, lir_t *out, FILE *warn, char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  lctx_t c = {.g = g, .l = out, .warn = warn, .err = err, .errlen = errlen, .node = -1};
  c.v = calloc((size_t)g->n_values + 1, sizeof *c.v);
  c.gin_t = malloc((size_t)(g->n_inputs + 1) * sizeof *c.gin_t);
  c.tprod = NULL;
  out->inputs = malloc((size_t)(g->n_inputs + 1) * sizeof *out->inputs);
  int rc = -1;
  if (!c.v || !c.gin_t || !out->inputs) {
    fail(&c, "out of memory");
    goto done;
  }
  for (int i = 0; i < g->n_inputs; i++) c.gin_t[i] = -1;
  out->batch = g->n_inputs && V(&c, g->inputs[0])->rank ? V(&c, g->inputs[0])->dims[0] : 0;
  borders(&c);
  if (lower_inputs(&c)) goto done;
  for (int i = 0; i < g->n_nodes; i++) {
    const pb_node_t *n = N(&c, i);
    c.node = i;
    int r = 0;
    switch (n->op) {
    case PB_OP_IDENTITY:
    case PB_OP_FLATTEN:
    case PB_OP_RESHAPE:
    case PB_OP_TRANSPOSE: r = lower_view(&c, i); break;
    case PB_OP_DEQUANTIZE: {
      int x = n->inputs[0];
      if (is_const(&c, x)) break; /* weights and biases: read by the matmul pattern */
      vinfo_t *X = &c.v[x];
      if (X->k != VK_Q) {
        r = fail(&c, "input '%s' is not a quantized tensor", V(&c, x)->name);
        break;
      }
      if (pb_ir_numel(V(&c, n->inputs[1])) > 1) { /* per-axis: a host operator */
        const pb_value_t *S = V(&c, n->inputs[1]);
        int64_t ns = pb_ir_numel(S);
        float *s = malloc((size_t)ns * sizeof *s);
        int32_t *z = malloc((size_t)ns * sizeof *z);
        if (!s || !z) {
          free(s), free(z);
          r = fail(&c, "out of memory");
          break;
        }
        for (int64_t k = 0; k < ns; k++) {
          s[k] = (float)pb_ir_const_f64(S, k);
          z[k] = n->n_inputs > 2 && n->inputs[2] >= 0 ? (int32_t)pb_ir_const_i64(V(&c, n->inputs[2]), k) : 0;
          if (V(&c, x)->dtype == PB_IR_U8) z[k] -= 128;
        }
        char nm[96];
        snprintf(nm, sizeof nm, "%s_scale", V(&c, n->outputs[0])->name);
        int ts = const_tensor(&c, nm, PB_DT_FLOAT32, ns, s);
        snprintf(nm, sizeof nm, "%s_zp", V(&c, n->outputs[0])->name);
        int tz = ts < 0 ? -1 : const_tensor(&c, nm, PB_DT_INT32, ns, z);
        free(s), free(z);
        int ty = tz < 0 ? -1 : new_act(&c, n->outputs[0], V(&c, n->outputs[0])->name, PB_DT_FLOAT32, LB_ACT);
        if (ty < 0 || !grow_tprod(&c)) {
          r = -1;
          break;
        }
        int ins[3] = {X->t, ts, tz};
        int32_t param[PB_STEP_PARAMS] = {n->attr.axis};
        r = host_layer(&c, PB_HOP_DEQUANTIZE, "Dequantize", V(&c, n->outputs[0])->name, ins, 3, &ty, 1, param) < 0;
        c.v[n->outputs[0]].k = VK_F, c.v[n->outputs[0]].t = ty;
        if (r) r = -1;
        break;
      }
      float s;
      int32_t zp;
      if (scalar_scale(&c, n->inputs[1], "x_scale", &s) ||
          scalar_zp(&c, n->n_inputs > 2 ? n->inputs[2] : -1, "x_zero_point", V(&c, x)->dtype, &zp)) {
        r = -1;
        break;
      }
      note_zp(&c, X->t, zp);
      vinfo_t *Y = &c.v[n->outputs[0]];
      Y->k = VK_DQ, Y->t = X->t, Y->s = s, Y->zp = zp;
      break;
    }
    case PB_OP_QUANTIZE: r = lower_quantize(&c, i); break;
    case PB_OP_RELU:
    case PB_OP_CLIP:
      if (c.v[n->inputs[0]].k == VK_Q && V(&c, n->inputs[0])->dtype == PB_IR_I8) { /* integer clamp: exact */
        vinfo_t *X = &c.v[n->inputs[0]];
        vinfo_t keep = *X;
        float lo = n->op == PB_OP_RELU ? 0.0f : -INFINITY, hi = INFINITY;
        if (n->op == PB_OP_CLIP) {
          int mn = n->n_inputs > 1 ? n->inputs[1] : -1, mx = n->n_inputs > 2 ? n->inputs[2] : -1;
          if ((mn >= 0 && !is_const(&c, mn)) || (mx >= 0 && !is_const(&c, mx))) {
            r = fail(&c, "Clip bounds must be constants");
            break;
          }
          if (mn >= 0) lo = (float)pb_ir_const_f64(V(&c, mn), 0);
          if (mx >= 0) hi = (float)pb_ir_const_f64(V(&c, mx), 0);
        }
        X->k = VK_DQ, X->s = 1.0f, X->zp = 0;
        r = lower_identity(&c, i, n->inputs[0], n->outputs[0], 1.0f, 0, lo, hi);
        *X = keep;
        break;
      }
      /* fall through */
    case PB_OP_CONV:
    case PB_OP_GEMM:
    case PB_OP_MATMUL: c.v[n->outputs[0]].k = VK_PEND; break;
    case PB_OP_MAXPOOL: {
      vinfo_t *X = &c.v[n->inputs[0]];
      int q = pb_ir_sole_consumer(g, n->outputs[0]);
      if (X->k == VK_Q || X->k == VK_F) {
        r = lower_host_float(&c, i);
      } else if (X->k == VK_DQ && (q < 0 || N(&c, q)->op != PB_OP_QUANTIZE)) {
        /* max pool on the int8 codes, dequantized by whoever reads it (exact: dequantization is monotone) */
        vinfo_t dq = *X;
        X->k = VK_Q;
        r = lower_host_float(&c, i);
        *X = dq;
        if (!r) {
          vinfo_t *Y = &c.v[n->outputs[0]];
          Y->k = VK_DQ, Y->s = dq.s, Y->zp = dq.zp;
        }
      } else {
        c.v[n->outputs[0]].k = VK_PEND;
      }
      break;
    }
    case PB_OP_SOFTMAX:
    case PB_OP_ARGMAX:
    case PB_OP_AVGPOOL:
    case PB_OP_GLOBALAVGPOOL:
    case PB_OP_ADD: r = lower_host_float(&c, i); break;
    case PB_OP_QLINEARMATMUL:
    case PB_OP_QLINEARCONV: {
      int conv = n->op == PB_OP_QLINEARCONV;
      int x = n->inputs[0], w = n->inputs[3], ws = n->inputs[4], wz = n->inputs[5];
      int b = conv && n->n_inputs > 8 ? n->inputs[8] : -1;
      float sx, sy;
      int32_t zx, zy;
      if (c.v[x].k != VK_Q) {
        r = fail(&c, "input '%s' must be a quantized tensor", V(&c, x)->name);
        break;
      }
      if (scalar_scale(&c, n->inputs[1], "x_scale", &sx) ||
          scalar_zp(&c, n->inputs[2], "x_zero_point", V(&c, x)->dtype, &zx) ||
          scalar_scale(&c, n->inputs[6], "y_scale", &sy) ||
          scalar_zp(&c, n->inputs[7], "y_zero_point", V(&c, n->outputs[0])->dtype, &zy)) {
        r = -1;
        break;
      }
      note_zp(&c, c.v[x].t, zx);
      r = lower_matmul_node(&c, i, x, sx, zx, w, ws, wz, b, n->outputs[0], sy, zy, -INFINITY, INFINITY, 1, 0);
      break;
    }
    case PB_OP_MATMULINTEGER:
    case PB_OP_CONVINTEGER: { /* int32 sums (x - zx)(w - zw), written out raw by STORE_ACC */
      int x = n->inputs[0], w = n->inputs[1];
      int xz = n->n_inputs > 2 ? n->inputs[2] : -1, wz = n->n_inputs > 3 ? n->inputs[3] : -1;
      int32_t zx;
      if (c.v[x].k != VK_Q) {
        r = fail(&c, "input '%s' must be an int8 or uint8 tensor", V(&c, x)->name);
        break;
      }
      if (scalar_zp(&c, xz, n->op == PB_OP_CONVINTEGER ? "x_zero_point" : "a_zero_point", V(&c, x)->dtype, &zx)) {
        r = -1;
        break;
      }
      note_zp(&c, c.v[x].t, zx);
      r = lower_matmul_node(&c, i, x, 1.0f, zx, w, -1, wz, -1, n->outputs[0], 1.0f, 0, -INFINITY, INFINITY, 1, 1);
      break;
    }
    default: r = fail(&c, "operator %s is not supported by the lowering", pb_ir_op_name(n->op)); break;
    }
    if (r) goto done;
  }
  c.node = -1;
  for (int i = 0; i < g->n_inputs; i++) {
    if (c.gin_t[i] < 0) { /* an unused input still gets a (float) descriptor */
      if (float_input(&c, i) < 0) goto done;
    }
    out->inputs[out->n_inputs++] = c.gin_t[i];
  }
  if (lower_outputs(&c)) goto done;
  rc = 0;
done:
  if (c.v)
    for (int i = 0; i < g->n_values; i++) free(c.v[i].map);
  free(c.v);
  free(c.gin_t);
  free(c.tprod);
  return rc;
}
