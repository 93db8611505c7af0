/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The compiler IR (ir.h): construction, queries, rewriting helpers, shape
 * inference of every operator, and the printer.
 */
#include "ir.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ---- operator and dtype tables ------------------------------------------ */

typedef struct {
  const char *name;
  int min_in, max_in, min_opset;
} op_info_t;

static const op_info_t OPS[PB_OP_COUNT] = {
#define PB_IR_OP_INFO(e, name, mi, ma, ops) {name, mi, ma, ops},
    PB_IR_OPS(PB_IR_OP_INFO)
#undef PB_IR_OP_INFO
};

const char *pb_ir_op_name(pb_op_t op) { return (unsigned)op < PB_OP_COUNT ? OPS[op].name : "?"; }
int pb_ir_op_min_inputs(pb_op_t op) { return (unsigned)op < PB_OP_COUNT ? OPS[op].min_in : 0; }
int pb_ir_op_max_inputs(pb_op_t op) { return (unsigned)op < PB_OP_COUNT ? OPS[op].max_in : 0; }
int pb_ir_op_min_opset(pb_op_t op) { return (unsigned)op < PB_OP_COUNT ? OPS[op].min_opset : 0; }

int pb_ir_op_from_name(const char *name) {
  if (!name) return -1;
  for (int i = 0; i < PB_OP_COUNT; i++)
    if (strcmp(OPS[i].name, name) == 0) return i;
  return -1;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

const char *pb_ir_op_list(void) {
  static char list[512];
  if (!list[0]) {
    const char *names[PB_OP_COUNT];
    for (int i = 0; i < PB_OP_COUNT; i++) names[i] = OPS[i].name;
    qsort(names, PB_OP_COUNT, sizeof names[0], cmp_str);
    size_t o = 0;
    for (int i = 0; i < PB_OP_COUNT; i++)
      o += (size_t)snprintf(list + o, sizeof list - o, "%s%s", i ? ", " : "", names[i]);
  }
  return list;
}

const char *pb_ir_dtype_name(int dtype) {
  switch (dtype) {
  case PB_IR_F32: return "f32";
  case PB_IR_U8: return "u8";
  case PB_IR_I8: return "i8";
  case PB_IR_I32: return "i32";
  case PB_IR_I64: return "i64";
  default: return "?";
  }
}

size_t pb_ir_dtype_size(int dtype) {
  switch (dtype) {
  case PB_IR_F32: return 4;
  case PB_IR_U8: return 1;
  case PB_IR_I8: return 1;
  case PB_IR_I32: return 4;
  case PB_IR_I64: return 8;
  default: return 0;
  }
}

int pb_ir_dtype_ok(int dtype) { return pb_ir_dtype_size(dtype) != 0; }

/* ---- values ---------------------------------------------------------------- */

int64_t pb_ir_numel(const pb_value_t *v) {
  int64_t n = 1;
  for (int i = 0; i < v->rank; i++) n *= v->dims[i];
  return n;
}

size_t pb_ir_nbytes(const pb_value_t *v) { return (size_t)pb_ir_numel(v) * pb_ir_dtype_size(v->dtype); }

char *pb_ir_shape_str(const pb_value_t *v, char *buf, size_t len) {
  if (!len) return buf;
  buf[0] = 0;
  if (v->rank == 0) {
    snprintf(buf, len, "scalar");
    return buf;
  }
  size_t o = 0;
  for (int i = 0; i < v->rank && o < len; i++)
    o += (size_t)snprintf(buf + o, len - o, "%s%lld", i ? "x" : "", (long long)v->dims[i]);
  return buf;
}

int pb_ir_shape_eq(const pb_value_t *a, const pb_value_t *b) {
  if (a->rank != b->rank) return 0;
  for (int i = 0; i < a->rank; i++)
    if (a->dims[i] != b->dims[i]) return 0;
  return 1;
}

double pb_ir_const_f64(const pb_value_t *v, int64_t i) {
  switch (v->dtype) {
  case PB_IR_F32: return ((const float *)v->data)[i];
  case PB_IR_U8: return ((const uint8_t *)v->data)[i];
  case PB_IR_I8: return ((const int8_t *)v->data)[i];
  case PB_IR_I32: return ((const int32_t *)v->data)[i];
  case PB_IR_I64: return (double)((const int64_t *)v->data)[i];
  }
  return 0;
}

int64_t pb_ir_const_i64(const pb_value_t *v, int64_t i) {
  if (v->dtype == PB_IR_I64) return ((const int64_t *)v->data)[i];
  if (v->dtype == PB_IR_F32) {
    float f = ((const float *)v->data)[i];
    if (!(f > -9.2e18f && f < 9.2e18f)) return 0;
    return (int64_t)f;
  }
  return (int64_t)pb_ir_const_f64(v, i);
}

void pb_ir_value_clear(pb_value_t *v) {
  free(v->name);
  free(v->data);
  free(v->consumers);
  memset(v, 0, sizeof *v);
}

/* ---- building ------------------------------------------------------------ */

static void set_err(char *err, size_t errlen, const char *fmt, ...) {
  if (!err || !errlen) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
}

pb_graph_t *pb_ir_new(void) {
  pb_graph_t *g = calloc(1, sizeof *g);
  if (!g) return NULL;
  g->name = calloc(1, 1);
  if (!g->name) {
    free(g);
    return NULL;
  }
  return g;
}

void pb_ir_free(pb_graph_t *g) {
  if (!g) return;
  for (int i = 0; i < g->n_values; i++) pb_ir_value_clear(&g->values[i]);
  for (int i = 0; i < g->n_nodes; i++) free(g->nodes[i].name);
  free(g->values);
  free(g->nodes);
  free(g->inputs);
  free(g->outputs);
  free(g->name);
  free(g);
}

int pb_ir_find_value(const pb_graph_t *g, const char *name) {
  if (!name) return -1;
  for (int i = 0; i < g->n_values; i++)
    if (strcmp(g->values[i].name, name) == 0) return i;
  return -1;
}

/* Checks dims and returns numel, or -1 with a message (what: the value's description). */
static int64_t check_dims(int rank, const int64_t *dims, const char *what, char *err, size_t errlen) {
  if (rank < 0 || rank > PB_IR_MAX_RANK) {
    set_err(err, errlen, "%s has rank %d; at most %d is supported", what, rank, PB_IR_MAX_RANK);
    return -1;
  }
  int64_t n = 1;
  for (int i = 0; i < rank; i++) {
    if (dims[i] < 1) {
      set_err(err, errlen, "%s has dimension %d = %lld; empty (zero-sized) or negative dimensions are not supported",
              what, i, (long long)dims[i]);
      return -1;
    }
    if (dims[i] > PB_IR_MAX_ELEMS || n > PB_IR_MAX_ELEMS / dims[i]) {
      set_err(err, errlen, "%s is too large (more than %lld elements)", what, (long long)PB_IR_MAX_ELEMS);
      return -1;
    }
    n *= dims[i];
  }
  return n;
}

int pb_ir_add_value(pb_graph_t *g, const char *name, pb_ir_dtype_t dtype, int rank, const int64_t *dims,
                    const void *data, char *err, size_t errlen) {
  if (!name || !name[0]) {
    set_err(err, errlen, "a tensor has an empty name");
    return -1;
  }
  if (pb_ir_find_value(g, name) >= 0) {
    set_err(err, errlen, "tensor '%s' is defined twice", name);
    return -1;
  }
  if (!pb_ir_dtype_ok(dtype)) {
    set_err(err, errlen, "tensor '%s' has unsupported dtype %d", name, (int)dtype);
    return -1;
  }
  char what[128];
  snprintf(what, sizeof what, "tensor '%.80s'", name);
  int64_t n = check_dims(rank, dims, what, err, errlen);
  if (n < 0) return -1;
  if (g->n_values == g->cap_values) {
    int cap = g->cap_values ? 2 * g->cap_values : 16;
    pb_value_t *nv = realloc(g->values, (size_t)cap * sizeof *nv);
    if (!nv) goto oom;
    g->values = nv;
    g->cap_values = cap;
  }
  pb_value_t v;
  memset(&v, 0, sizeof v);
  v.name = strdup(name);
  if (!v.name) goto oom;
  v.dtype = dtype;
  v.rank = rank;
  for (int i = 0; i < rank; i++) v.dims[i] = dims[i];
  v.producer = -1;
  if (data) {
    size_t bytes = (size_t)n * pb_ir_dtype_size(dtype);
    v.data = malloc(bytes);
    if (!v.data) {
      free(v.name);
      goto oom;
    }
    memcpy(v.data, data, bytes);
  }
  g->values[g->n_values] = v;
  return g->n_values++;
oom:
  set_err(err, errlen, "out of memory adding tensor '%s'", name);
  return -1;
}

char *pb_ir_unique_name(const pb_graph_t *g, const char *base) {
  size_t len = strlen(base) + 24;
  char *s = malloc(len);
  if (!s) return NULL;
  snprintf(s, len, "%s", base);
  for (long k = 1; pb_ir_find_value(g, s) >= 0; k++) snprintf(s, len, "%s_%ld", base, k);
  return s;
}

int pb_ir_add_node(pb_graph_t *g, pb_op_t op, const char *name, const int *inputs, int n_inputs,
                   const int *outputs, int n_outputs, char *err, size_t errlen) {
  if ((unsigned)op >= PB_OP_COUNT || n_inputs < 0 || n_inputs > PB_IR_MAX_IN || n_outputs < 1 ||
      n_outputs > PB_IR_MAX_OUT) {
    set_err(err, errlen, "bad node (op %d, %d inputs, %d outputs)", (int)op, n_inputs, n_outputs);
    return -1;
  }
  for (int i = 0; i < n_inputs; i++)
    if (inputs[i] < -1 || inputs[i] >= g->n_values) {
      set_err(err, errlen, "node '%s': input %d has bad value index %d", name ? name : "", i, inputs[i]);
      return -1;
    }
  for (int i = 0; i < n_outputs; i++) {
    if (outputs[i] < 0 || outputs[i] >= g->n_values) {
      set_err(err, errlen, "node '%s': output %d has bad value index %d", name ? name : "", i, outputs[i]);
      return -1;
    }
    if (g->values[outputs[i]].producer >= 0 || g->values[outputs[i]].data) {
      set_err(err, errlen, "tensor '%s' is produced twice", g->values[outputs[i]].name);
      return -1;
    }
  }
  if (g->n_nodes == g->cap_nodes) {
    int cap = g->cap_nodes ? 2 * g->cap_nodes : 16;
    pb_node_t *nn = realloc(g->nodes, (size_t)cap * sizeof *nn);
    if (!nn) goto oom;
    g->nodes = nn;
    g->cap_nodes = cap;
  }
  pb_node_t n;
  memset(&n, 0, sizeof n);
  n.op = op;
  n.name = strdup(name ? name : "");
  if (!n.name) goto oom;
  n.src_index = -1;
  n.n_inputs = n_inputs;
  n.n_outputs = n_outputs;
  for (int i = 0; i < PB_IR_MAX_IN; i++) n.inputs[i] = i < n_inputs ? inputs[i] : -1;
  for (int i = 0; i < PB_IR_MAX_OUT; i++) n.outputs[i] = i < n_outputs ? outputs[i] : -1;
  g->nodes[g->n_nodes] = n;
  for (int i = 0; i < n_outputs; i++) g->values[outputs[i]].producer = g->n_nodes;
  return g->n_nodes++;
oom:
  set_err(err, errlen, "out of memory adding node '%s'", name ? name : "");
  return -1;
}

static int append_int(int **arr, int *n, int x) {
  int *na = realloc(*arr, (size_t)(*n + 1) * sizeof *na);
  if (!na) return -1;
  na[*n] = x;
  *arr = na;
  (*n)++;
  return 0;
}

int pb_ir_add_graph_input(pb_graph_t *g, int value) { return append_int(&g->inputs, &g->n_inputs, value); }
int pb_ir_add_graph_output(pb_graph_t *g, int value) { return append_int(&g->outputs, &g->n_outputs, value); }

/* ---- queries and rewriting ------------------------------------------------- */

char *pb_ir_node_desc(const pb_graph_t *g, int node, char *buf, size_t len) {
  const pb_node_t *n = &g->nodes[node];
  if (n->src_index >= 0)
    snprintf(buf, len, "node %d '%.80s' (%s)", n->src_index, n->name, pb_ir_op_name(n->op));
  else
    snprintf(buf, len, "IR node %d '%.80s' (%s)", node, n->name, pb_ir_op_name(n->op));
  return buf;
}

int pb_ir_is_const(const pb_graph_t *g, int value) {
  return value >= 0 && value < g->n_values && g->values[value].data != NULL;
}

int pb_ir_is_graph_input(const pb_graph_t *g, int value) {
  for (int i = 0; i < g->n_inputs; i++)
    if (g->inputs[i] == value) return 1;
  return 0;
}

int pb_ir_is_graph_output(const pb_graph_t *g, int value) {
  for (int i = 0; i < g->n_outputs; i++)
    if (g->outputs[i] == value) return 1;
  return 0;
}

int pb_ir_producer_op(const pb_graph_t *g, int value) {
  if (value < 0 || value >= g->n_values) return -1;
  int p = g->values[value].producer;
  return p >= 0 ? (int)g->nodes[p].op : -1;
}

int pb_ir_sole_consumer(const pb_graph_t *g, int value) {
  if (value < 0 || value >= g->n_values || pb_ir_is_graph_output(g, value)) return -1;
  const pb_value_t *v = &g->values[value];
  return v->n_consumers == 1 ? v->consumers[0] : -1;
}

int pb_ir_update_uses(pb_graph_t *g) {
  for (int v = 0; v < g->n_values; v++) {
    g->values[v].producer = -1;
    g->values[v].n_consumers = 0;
  }
  int *count = calloc((size_t)g->n_values + 1, sizeof *count);
  if (!count) return -1;
  for (int i = 0; i < g->n_nodes; i++) {
    const pb_node_t *n = &g->nodes[i];
    if (n->dead) continue;
    for (int k = 0; k < n->n_inputs; k++)
      if (n->inputs[k] >= 0) count[n->inputs[k]]++;
    for (int k = 0; k < n->n_outputs; k++)
      if (n->outputs[k] >= 0) g->values[n->outputs[k]].producer = i;
  }
  for (int v = 0; v < g->n_values; v++) {
    pb_value_t *val = &g->values[v];
    free(val->consumers);
    val->consumers = NULL;
    if (count[v]) {
      val->consumers = malloc((size_t)count[v] * sizeof(int));
      if (!val->consumers) {
        free(count);
        return -1;
      }
    }
  }
  free(count);
  for (int i = 0; i < g->n_nodes; i++) {
    const pb_node_t *n = &g->nodes[i];
    if (n->dead) continue;
    for (int k = 0; k < n->n_inputs; k++) {
      int v = n->inputs[k];
      if (v >= 0) g->values[v].consumers[g->values[v].n_consumers++] = i;
    }
  }
  return 0;
}

int pb_ir_replace_uses(pb_graph_t *g, int from, int to) {
  int count = 0;
  for (int i = 0; i < g->n_nodes; i++) {
    pb_node_t *n = &g->nodes[i];
    if (n->dead) continue;
    for (int k = 0; k < n->n_inputs; k++)
      if (n->inputs[k] == from) {
        n->inputs[k] = to;
        count++;
      }
  }
  pb_ir_update_uses(g);
  return count;
}

void pb_ir_remove_node(pb_graph_t *g, int node) {
  pb_node_t *n = &g->nodes[node];
  n->dead = 1;
  for (int k = 0; k < n->n_outputs; k++)
    if (n->outputs[k] >= 0 && g->values[n->outputs[k]].producer == node) g->values[n->outputs[k]].producer = -1;
}

int pb_ir_compact(pb_graph_t *g) {
  if (pb_ir_update_uses(g)) return -1;
  int *vmap = malloc(((size_t)g->n_values + 1) * sizeof *vmap);
  if (!vmap) return -1;
  int nv = 0;
  for (int v = 0; v < g->n_values; v++) {
    pb_value_t *val = &g->values[v];
    int keep = val->producer >= 0 || val->n_consumers > 0 || pb_ir_is_graph_input(g, v) || pb_ir_is_graph_output(g, v);
    if (keep) {
      vmap[v] = nv;
      g->values[nv++] = *val;
    } else {
      vmap[v] = -1;
      pb_ir_value_clear(val);
    }
  }
  int nn = 0;
  for (int i = 0; i < g->n_nodes; i++) {
    pb_node_t n = g->nodes[i];
    if (n.dead) {
      free(n.name);
      continue;
    }
    for (int k = 0; k < n.n_inputs; k++)
      if (n.inputs[k] >= 0) n.inputs[k] = vmap[n.inputs[k]];
    for (int k = 0; k < n.n_outputs; k++)
      if (n.outputs[k] >= 0) n.outputs[k] = vmap[n.outputs[k]];
    g->nodes[nn++] = n;
  }
  g->n_values = nv;
  g->n_nodes = nn;
  for (int i = 0; i < g->n_inputs; i++) g->inputs[i] = vmap[g->inputs[i]];
  for (int i = 0; i < g->n_outputs; i++) g->outputs[i] = vmap[g->outputs[i]];
  free(vmap);
  return pb_ir_update_uses(g);
}

int pb_ir_toposort(pb_graph_t *g, char *err, size_t errlen) {
  int n = g->n_nodes;
  if (n == 0) return 0;
  if (pb_ir_update_uses(g)) {
    set_err(err, errlen, "out of memory sorting the graph");
    return -1;
  }
  /* ready[v]: the value is available (graph input, constant, or produced by a placed node) */
  char *ready = calloc((size_t)g->n_values + 1, 1);
  char *placed = calloc((size_t)n, 1);
  int *order = malloc((size_t)n * sizeof *order);
  pb_node_t *nodes = malloc((size_t)n * sizeof *nodes);
  if (!ready || !placed || !order || !nodes) {
    free(ready), free(placed), free(order), free(nodes);
    set_err(err, errlen, "out of memory sorting the graph");
    return -1;
  }
  for (int v = 0; v < g->n_values; v++) {
    /* a value no live node produces is available from the start (inputs, constants) */
    int p = g->values[v].producer;
    ready[v] = !(p >= 0 && p < n && !g->nodes[p].dead);
  }
  int done = 0, progress = 1;
  while (done < n && progress) {
    progress = 0;
    for (int i = 0; i < n; i++) {
      if (placed[i]) continue;
      const pb_node_t *nd = &g->nodes[i];
      int ok = 1;
      for (int k = 0; k < nd->n_inputs && ok; k++)
        if (nd->inputs[k] >= 0 && !ready[nd->inputs[k]]) ok = 0;
      if (!ok) continue;
      placed[i] = 1;
      order[done++] = i;
      progress = 1;
      for (int k = 0; k < nd->n_outputs; k++)
        if (nd->outputs[k] >= 0) ready[nd->outputs[k]] = 1;
      break; /* restart from the first node: keeps the original order where possible */
    }
  }
  if (done < n) {
    char d[160];
    for (int i = 0; i < n; i++)
      if (!placed[i]) {
        set_err(err, errlen, "%s is on a cycle or depends on one: the graph has a cycle",
                pb_ir_node_desc(g, i, d, sizeof d));
        break;
      }
    free(ready), free(placed), free(order), free(nodes);
    return -1;
  }
  for (int i = 0; i < n; i++) nodes[i] = g->nodes[order[i]];
  memcpy(g->nodes, nodes, (size_t)n * sizeof *nodes);
  free(ready), free(placed), free(order), free(nodes);
  return pb_ir_update_uses(g) ? (set_err(err, errlen, "out of memory"), -1) : 0;
}

int pb_ir_check(const pb_graph_t *g, char *err, size_t errlen) {
  char d[160];
  char *avail = calloc((size_t)g->n_values + 1, 1);
  if (!avail) {
    set_err(err, errlen, "out of memory");
    return -1;
  }
  int rc = -1;
  for (int v = 0; v < g->n_values; v++)
    if (g->values[v].data) avail[v] = 1;
  for (int i = 0; i < g->n_inputs; i++) {
    int v = g->inputs[i];
    if (v < 0 || v >= g->n_values) {
      set_err(err, errlen, "graph input %d has bad value index %d", i, v);
      goto out;
    }
    if (g->values[v].data) {
      set_err(err, errlen, "graph input '%s' is also a constant", g->values[v].name);
      goto out;
    }
    avail[v] = 1;
  }
  for (int i = 0; i < g->n_nodes; i++) {
    const pb_node_t *n = &g->nodes[i];
    if (n->dead) {
      set_err(err, errlen, "%s is dead; run pb_ir_compact", pb_ir_node_desc(g, i, d, sizeof d));
      goto out;
    }
    if ((unsigned)n->op >= PB_OP_COUNT || n->n_inputs < 0 || n->n_inputs > PB_IR_MAX_IN || n->n_outputs < 1 ||
        n->n_outputs > PB_IR_MAX_OUT) {
      set_err(err, errlen, "IR node %d is malformed", i);
      goto out;
    }
    for (int k = 0; k < n->n_inputs; k++) {
      int v = n->inputs[k];
      if (v < -1 || v >= g->n_values) {
        set_err(err, errlen, "%s: input %d has bad value index %d", pb_ir_node_desc(g, i, d, sizeof d), k, v);
        goto out;
      }
      if (v >= 0 && !avail[v]) {
        set_err(err, errlen, "%s: input %d '%s' is not defined before the node", pb_ir_node_desc(g, i, d, sizeof d),
                k, g->values[v].name);
        goto out;
      }
    }
    for (int k = 0; k < n->n_outputs; k++) {
      int v = n->outputs[k];
      if (v < 0 || v >= g->n_values) {
        set_err(err, errlen, "%s: output %d has bad value index %d", pb_ir_node_desc(g, i, d, sizeof d), k, v);
        goto out;
      }
      if (avail[v]) {
        set_err(err, errlen, "%s: output '%s' is already defined (by a graph input, constant or earlier node)",
                pb_ir_node_desc(g, i, d, sizeof d), g->values[v].name);
        goto out;
      }
      avail[v] = 1;
    }
  }
  for (int i = 0; i < g->n_outputs; i++) {
    int v = g->outputs[i];
    if (v < 0 || v >= g->n_values || !avail[v]) {
      set_err(err, errlen, "graph output %d ('%s') is not produced by any node, input or constant", i,
              v >= 0 && v < g->n_values ? g->values[v].name : "?");
      goto out;
    }
  }
  rc = 0;
out:
  free(avail);
  return rc;
}

/* ---- shape inference --------------------------------------------------------- */

typedef struct {
  pb_graph_t *g;
  int node;
  char *err;
  size_t errlen;
} ictx_t;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static int fail(const ictx_t *c, const char *fmt, ...) {
  if (!c->err || !c->errlen) return -1;
  char d[160];
  pb_ir_node_desc(c->g, c->node, d, sizeof d);
  int o = snprintf(c->err, c->errlen, "%s: ", d);
  if (o < 0 || (size_t)o >= c->errlen) return -1;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(c->err + o, c->errlen - (size_t)o, fmt, ap);
  va_end(ap);
  return -1;
}

static const pb_value_t *in_val(const ictx_t *c, int k) {
  const pb_node_t *n = &c->g->nodes[c->node];
  return k < n->n_inputs && n->inputs[k] >= 0 ? &c->g->values[n->inputs[k]] : NULL;
}

/* A short description of input k: "input 1 'W' (f32 3x3x3x3)". */
static const char *in_desc(const ictx_t *c, int k, char *buf, size_t len) {
  const pb_value_t *v = in_val(c, k);
  char s[96];
  if (!v) {
    snprintf(buf, len, "input %d (absent)", k);
    return buf;
  }
  snprintf(buf, len, "input %d '%.80s' (%s %s)", k, v->name, pb_ir_dtype_name(v->dtype), pb_ir_shape_str(v, s, sizeof s));
  return buf;
}

static int set_out(const ictx_t *c, int k, pb_ir_dtype_t dtype, int rank, const int64_t *dims) {
  pb_node_t *n = &c->g->nodes[c->node];
  pb_value_t *o = &c->g->values[n->outputs[k]];
  char what[160];
  snprintf(what, sizeof what, "output '%.80s'", o->name);
  char e[256];
  if (check_dims(rank, dims, what, e, sizeof e) < 0) return fail(c, "%s", e);
  if (o->data) return fail(c, "output '%s' is a constant", o->name);
  o->dtype = dtype;
  o->rank = rank;
  for (int i = 0; i < PB_IR_MAX_RANK; i++) o->dims[i] = i < rank ? dims[i] : 0;
  return 0;
}

static int copy_out(const ictx_t *c, const pb_value_t *from) { return set_out(c, 0, from->dtype, from->rank, from->dims); }

/* Requires input k present (unless optional) and of one of the dtypes in mask (bit = 1 << dtype). */
#define DT(x) (1u << (x))
#define DT_NUM (DT(PB_IR_F32) | DT(PB_IR_U8) | DT(PB_IR_I8) | DT(PB_IR_I32) | DT(PB_IR_I64))
#define DT_Q8 (DT(PB_IR_U8) | DT(PB_IR_I8))

static const char *mask_str(unsigned mask, char *buf, size_t len) {
  static const int all[] = {PB_IR_F32, PB_IR_U8, PB_IR_I8, PB_IR_I32, PB_IR_I64};
  size_t o = 0;
  buf[0] = 0;
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
    if (mask & DT(all[i]))
      o += (size_t)snprintf(buf + o, len > o ? len - o : 0, "%s%s", o ? " or " : "", pb_ir_dtype_name(all[i]));
  return buf;
}

static const pb_value_t *need(const ictx_t *c, int k, unsigned mask, const char *role, int *rc) {
  const pb_value_t *v = in_val(c, k);
  char b[200], m[64];
  if (!v) {
    *rc = fail(c, "required input %d (%s) is missing", k, role);
    return NULL;
  }
  if (!(mask & DT(v->dtype))) {
    *rc = fail(c, "%s%s%s%s has dtype %s; expected %s", in_desc(c, k, b, sizeof b), strcmp(role, "input") ? " (" : "",
               strcmp(role, "input") ? role : "", strcmp(role, "input") ? ")" : "", pb_ir_dtype_name(v->dtype),
               mask_str(mask, m, sizeof m));
    return NULL;
  }
  return v;
}

static int norm_axis(const ictx_t *c, int *axis, int rank, int allow_rank, const char *what) {
  int hi = allow_rank ? rank : rank - 1;
  if (*axis < -rank || *axis > hi)
    return fail(c, "attribute 'axis' = %d is out of range [%d, %d] for a %s of rank %d", *axis, -rank, hi, what, rank);
  if (*axis < 0) *axis += rank;
  return 0;
}

/* Multidirectional (numpy) broadcast of a and b into out. */
static int broadcast(const ictx_t *c, const pb_value_t *a, const pb_value_t *b, int *rank, int64_t *dims) {
  int r = a->rank > b->rank ? a->rank : b->rank;
  char sa[96], sb[96];
  for (int i = 0; i < r; i++) {
    int ia = i - (r - a->rank), ib = i - (r - b->rank);
    int64_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
    if (da != db && da != 1 && db != 1)
      return fail(c, "cannot broadcast '%s' (%s) with '%s' (%s): dim %d is %lld vs %lld", a->name,
                  pb_ir_shape_str(a, sa, sizeof sa), b->name, pb_ir_shape_str(b, sb, sizeof sb), i - r, (long long)da,
                  (long long)db);
    dims[i] = da == 1 ? db : da;
  }
  *rank = r;
  return 0;
}

/* numpy matmul shape rules: 1-D operands promoted, batch dims broadcast. */
static int matmul_shape(const ictx_t *c, const pb_value_t *a, const pb_value_t *b, int *rank, int64_t *dims) {
  char sa[96], sb[96];
  if (a->rank < 1 || b->rank < 1) return fail(c, "MatMul operands must have rank >= 1 ('%s' is %s, '%s' is %s)", a->name,
                                              pb_ir_shape_str(a, sa, sizeof sa), b->name, pb_ir_shape_str(b, sb, sizeof sb));
  int64_t ka = a->dims[a->rank - 1];
  int64_t kb = b->rank == 1 ? b->dims[0] : b->dims[b->rank - 2];
  if (ka != kb)
    return fail(c, "inner dimensions differ: A '%s' is %s (K = %lld) but B '%s' is %s (K = %lld)", a->name,
                pb_ir_shape_str(a, sa, sizeof sa), (long long)ka, b->name, pb_ir_shape_str(b, sb, sizeof sb),
                (long long)kb);
  int ba = a->rank > 2 ? a->rank - 2 : 0, bb = b->rank > 2 ? b->rank - 2 : 0;
  int br = ba > bb ? ba : bb;
  for (int i = 0; i < br; i++) {
    int ia = i - (br - ba), ib = i - (br - bb);
    int64_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
    if (da != db && da != 1 && db != 1)
      return fail(c, "batch dimensions do not broadcast: A '%s' is %s, B '%s' is %s", a->name,
                  pb_ir_shape_str(a, sa, sizeof sa), b->name, pb_ir_shape_str(b, sb, sizeof sb));
    dims[i] = da == 1 ? db : da;
  }
  int r = br;
  if (a->rank >= 2) dims[r++] = a->dims[a->rank - 2];
  if (b->rank >= 2) dims[r++] = b->dims[b->rank - 1];
  if (r > PB_IR_MAX_RANK) return fail(c, "result rank %d exceeds %d", r, PB_IR_MAX_RANK);
  *rank = r;
  return 0;
}

/* A per-tensor quantization parameter: exactly one element. */
static int want_scalar(const ictx_t *c, int k, const char *role) {
  const pb_value_t *v = in_val(c, k);
  char b[200];
  if (v && pb_ir_numel(v) != 1)
    return fail(c, "%s (%s) must have one element (per-tensor)", in_desc(c, k, b, sizeof b), role);
  return 0;
}

/* Per-tensor (one element) or per-channel (1-D of n elements). */
static int want_scalar_or_vec(const ictx_t *c, int k, int64_t n, const char *role, const char *chan) {
  const pb_value_t *v = in_val(c, k);
  char b[200];
  if (!v || pb_ir_numel(v) == 1) return 0;
  if (v->rank != 1 || v->dims[0] != n)
    return fail(c, "%s (%s) must have one element or %lld (one per %s)", in_desc(c, k, b, sizeof b), role,
                (long long)n, chan);
  return 0;
}

/* Same dtype as input `ref` (zero points match their tensor). */
static int want_same_dtype(const ictx_t *c, int k, int ref) {
  const pb_value_t *v = in_val(c, k), *r = in_val(c, ref);
  char b[200], b2[200];
  if (v && r && v->dtype != r->dtype)
    return fail(c, "%s must have the dtype of %s", in_desc(c, k, b, sizeof b), in_desc(c, ref, b2, sizeof b2));
  return 0;
}

/* Required inputs, checked in order. */
typedef struct {
  int k;
  unsigned mask;
  const char *role;
} req_t;

static int need_all(const ictx_t *c, const req_t *req, size_t n) {
  int rc = 0;
  for (size_t i = 0; i < n; i++)
    if (!need(c, req[i].k, req[i].mask, req[i].role, &rc)) return rc;
  return 0;
}

/* 2-D window output size; ceil_mode per ONNX/PyTorch (the last window must start inside the input or the begin pad). */
static int window_out(const ictx_t *c, int64_t in, int k, int s, int pb, int pe, int ceil_mode, const char *dim,
                      int64_t *out) {
  int64_t span = in + pb + pe - k;
  if (k < 1 || s < 1) return fail(c, "kernel %d and stride %d must be >= 1", k, s);
  if (span < 0)
    return fail(c, "kernel %s %d is larger than the padded input %s %lld (%lld + pads %d + %d)", dim, k, dim,
                (long long)(in + pb + pe), (long long)in, pb, pe);
  int64_t o = ceil_mode ? (span + s - 1) / s + 1 : span / s + 1;
  if (ceil_mode && (o - 1) * s >= in + pb) o--;
  *out = o;
  return 0;
}

static int infer_window(const ictx_t *c, const pb_value_t *x, int64_t out_c, const pb_attr_t *a, int pool, int64_t *dims) {
  int64_t oh, ow;
  if (window_out(c, x->dims[2], a->kernel[0], a->stride[0], a->pad[0], a->pad[2], a->ceil_mode, "height", &oh) ||
      window_out(c, x->dims[3], a->kernel[1], a->stride[1], a->pad[1], a->pad[3], a->ceil_mode, "width", &ow))
    return -1;
  for (int i = 0; pool && i < 4; i++)
    if (a->pad[i] >= a->kernel[i & 1])
      return fail(c, "pads %d,%d,%d,%d: a pad of %d is not smaller than the kernel %dx%d", a->pad[0], a->pad[1],
                  a->pad[2], a->pad[3], a->pad[i], a->kernel[0], a->kernel[1]);
  dims[0] = x->dims[0];
  dims[1] = out_c;
  dims[2] = oh;
  dims[3] = ow;
  return 0;
}

static int need_rank(const ictx_t *c, int k, int rank, const char *what) {
  const pb_value_t *v = in_val(c, k);
  char b[200];
  if (v && v->rank != rank) return fail(c, "%s must have rank %d (%s)", in_desc(c, k, b, sizeof b), rank, what);
  return 0;
}

/* Conv-like: x input index, w index, out channels from w, checks C and kernel. */
static int infer_conv_shape(const ictx_t *c, int xi, int wi, int64_t *dims) {
  pb_attr_t *a = &c->g->nodes[c->node].attr;
  const pb_value_t *x = in_val(c, xi), *w = in_val(c, wi);
  char bx[200], bw[200];
  if (need_rank(c, xi, 4, "N x C x H x W; only 2-D convolution is supported") ||
      need_rank(c, wi, 4, "M x C x kH x kW; only 2-D convolution is supported"))
    return -1;
  if (w->dims[1] != x->dims[1])
    return fail(c, "channels differ: %s has C = %lld but %s expects C = %lld (group = 1)", in_desc(c, xi, bx, sizeof bx),
                (long long)x->dims[1], in_desc(c, wi, bw, sizeof bw), (long long)w->dims[1]);
  for (int i = 0; i < 2; i++) {
    if (a->kernel[i] == 0) {
      if (w->dims[2 + i] > (1 << 20)) return fail(c, "kernel %lld is too large", (long long)w->dims[2 + i]);
      a->kernel[i] = (int)w->dims[2 + i];
    } else if (a->kernel[i] != w->dims[2 + i]) {
      return fail(c, "attribute 'kernel_shape' %dx%d does not match the weights %s", a->kernel[0], a->kernel[1],
                  in_desc(c, wi, bw, sizeof bw));
    }
  }
  a->ceil_mode = 0;
  return infer_window(c, x, w->dims[0], a, 0, dims);
}

static int infer_gemm(const ictx_t *c, pb_attr_t *at) {
  static const req_t req[] = {{0, DT(PB_IR_F32), "A"}, {1, DT(PB_IR_F32), "B"}};
  if (need_all(c, req, 2)) return -1;
  const pb_value_t *a = in_val(c, 0), *b = in_val(c, 1);
  char sa[96], sb[96], sc[96];
  if (a->rank != 2 || b->rank != 2)
    return fail(c, "A '%s' (%s) and B '%s' (%s) must be 2-D", a->name, pb_ir_shape_str(a, sa, sizeof sa), b->name,
                pb_ir_shape_str(b, sb, sizeof sb));
  int64_t m = at->trans_a ? a->dims[1] : a->dims[0], k = at->trans_a ? a->dims[0] : a->dims[1];
  int64_t kb = at->trans_b ? b->dims[1] : b->dims[0], n = at->trans_b ? b->dims[0] : b->dims[1];
  if (k != kb)
    return fail(c, "inner dimensions differ: A '%s' is %s (K = %lld with transA=%d) but B '%s' is %s (K = %lld with transB=%d)",
                a->name, pb_ir_shape_str(a, sa, sizeof sa), (long long)k, at->trans_a, b->name,
                pb_ir_shape_str(b, sb, sizeof sb), (long long)kb, at->trans_b);
  const pb_value_t *cv = in_val(c, 2);
  if (cv) {
    if (cv->dtype != PB_IR_F32) return fail(c, "C '%s' must be f32", cv->name);
    int ok = cv->rank <= 2;
    int64_t want[2] = {m, n};
    for (int i = 0; ok && i < cv->rank; i++) {
      int64_t d = cv->dims[i], t = want[2 - cv->rank + i];
      if (d != t && d != 1) ok = 0;
    }
    if (!ok)
      return fail(c, "C '%s' (%s) does not broadcast to the %lldx%lld result", cv->name,
                  pb_ir_shape_str(cv, sc, sizeof sc), (long long)m, (long long)n);
  }
  int64_t dims[2] = {m, n};
  return set_out(c, 0, PB_IR_F32, 2, dims);
}

static int infer_qlinearmatmul(const ictx_t *c) {
  static const req_t req[] = {{0, DT_Q8, "a"},       {1, DT(PB_IR_F32), "a_scale"}, {2, DT_Q8, "a_zero_point"},
                              {3, DT_Q8, "b"},       {4, DT(PB_IR_F32), "b_scale"}, {5, DT_Q8, "b_zero_point"},
                              {6, DT(PB_IR_F32), "y_scale"}, {7, DT_Q8, "y_zero_point"}};
  if (need_all(c, req, sizeof req / sizeof req[0])) return -1;
  const pb_value_t *a = in_val(c, 0), *b = in_val(c, 3);
  int rank;
  int64_t dims[PB_IR_MAX_RANK];
  if (matmul_shape(c, a, b, &rank, dims)) return -1;
  int64_t n = b->rank >= 2 ? b->dims[b->rank - 1] : 1;
  if (want_same_dtype(c, 2, 0) || want_same_dtype(c, 5, 3) || want_scalar(c, 1, "a_scale") ||
      want_scalar(c, 2, "a_zero_point") || want_scalar_or_vec(c, 4, n, "b_scale", "column of B") ||
      want_scalar_or_vec(c, 5, n, "b_zero_point", "column of B") || want_scalar(c, 6, "y_scale") ||
      want_scalar(c, 7, "y_zero_point"))
    return -1;
  return set_out(c, 0, in_val(c, 7)->dtype, rank, dims);
}

static int infer_matmulinteger(const ictx_t *c) {
  int rc = 0;
  const pb_value_t *a = need(c, 0, DT_Q8, "A", &rc);
  const pb_value_t *b = rc ? NULL : need(c, 1, DT_Q8, "B", &rc);
  if (!b) return rc;
  int rank;
  int64_t dims[PB_IR_MAX_RANK];
  if (matmul_shape(c, a, b, &rank, dims)) return -1;
  int64_t n = b->rank >= 2 ? b->dims[b->rank - 1] : 1;
  if (want_same_dtype(c, 2, 0) || want_same_dtype(c, 3, 1) || want_scalar(c, 2, "a_zero_point") ||
      want_scalar_or_vec(c, 3, n, "b_zero_point", "column of B"))
    return -1;
  return set_out(c, 0, PB_IR_I32, rank, dims);
}

static int infer_qlinearconv(const ictx_t *c) {
  static const req_t req[] = {{0, DT_Q8, "x"},       {1, DT(PB_IR_F32), "x_scale"}, {2, DT_Q8, "x_zero_point"},
                              {3, DT_Q8, "w"},       {4, DT(PB_IR_F32), "w_scale"}, {5, DT_Q8, "w_zero_point"},
                              {6, DT(PB_IR_F32), "y_scale"}, {7, DT_Q8, "y_zero_point"}};
  if (need_all(c, req, sizeof req / sizeof req[0])) return -1;
  const pb_value_t *w = in_val(c, 3), *bias = in_val(c, 8);
  if (bias && bias->dtype != PB_IR_I32) return fail(c, "bias B '%s' must be i32", bias->name);
  int64_t dims[4];
  if (infer_conv_shape(c, 0, 3, dims)) return -1;
  int64_t m = w->dims[0];
  if (want_same_dtype(c, 2, 0) || want_same_dtype(c, 5, 3) || want_scalar(c, 1, "x_scale") ||
      want_scalar(c, 2, "x_zero_point") || want_scalar_or_vec(c, 4, m, "w_scale", "output channel") ||
      want_scalar_or_vec(c, 5, m, "w_zero_point", "output channel") || want_scalar(c, 6, "y_scale") ||
      want_scalar(c, 7, "y_zero_point"))
    return -1;
  if (bias && (bias->rank != 1 || bias->dims[0] != m))
    return fail(c, "bias B '%s' must be 1-D with %lld elements (one per output channel)", bias->name, (long long)m);
  return set_out(c, 0, in_val(c, 7)->dtype, 4, dims);
}

static int infer_convinteger(const ictx_t *c) {
  static const req_t req[] = {{0, DT_Q8, "x"}, {1, DT_Q8, "w"}};
  if (need_all(c, req, 2)) return -1;
  int64_t dims[4];
  if (infer_conv_shape(c, 0, 1, dims)) return -1;
  int64_t m = in_val(c, 1)->dims[0];
  if (want_same_dtype(c, 2, 0) || want_same_dtype(c, 3, 1) || want_scalar(c, 2, "x_zero_point") ||
      want_scalar_or_vec(c, 3, m, "w_zero_point", "output channel"))
    return -1;
  return set_out(c, 0, PB_IR_I32, 4, dims);
}

/* QuantizeLinear (q = 1) / DequantizeLinear (q = 0). */
static int infer_qdq(const ictx_t *c, int q) {
  pb_attr_t *a = &c->g->nodes[c->node].attr;
  int rc = 0;
  const pb_value_t *x = need(c, 0, q ? DT(PB_IR_F32) : (DT_Q8 | DT(PB_IR_I32)), "x", &rc);
  const pb_value_t *s = rc ? NULL : need(c, 1, DT(PB_IR_F32), q ? "y_scale" : "x_scale", &rc);
  if (!s) return rc;
  const pb_value_t *zp = in_val(c, 2);
  char b[200];
  if (zp && !(q ? (DT_Q8 & DT(zp->dtype)) : zp->dtype == x->dtype))
    return fail(c, "%s: the zero point must be %s", in_desc(c, 2, b, sizeof b), q ? "u8 or i8" : "of x's dtype");
  if (pb_ir_numel(s) == 1) {
    if (zp && pb_ir_numel(zp) != 1)
      return fail(c, "%s must have one element like the scale", in_desc(c, 2, b, sizeof b));
  } else {
    if (norm_axis(c, &a->axis, x->rank, 0, "input")) return -1;
    int64_t n = x->dims[a->axis];
    if (s->rank != 1 || s->dims[0] != n)
      return fail(c, "%s must have one element (per-tensor) or %lld (per-axis along axis %d)",
                  in_desc(c, 1, b, sizeof b), (long long)n, a->axis);
    if (zp && !pb_ir_shape_eq(zp, s)) return fail(c, "%s must have the scale's shape", in_desc(c, 2, b, sizeof b));
  }
  if (a->axis < 0 && x->rank > 0 && a->axis >= -x->rank) a->axis += x->rank;
  if (!q) return set_out(c, 0, PB_IR_F32, x->rank, x->dims);
  return set_out(c, 0, zp ? zp->dtype : PB_IR_U8, x->rank, x->dims);
}

static int infer_reshape(const ictx_t *c, const pb_attr_t *a) {
  int rc = 0;
  const pb_value_t *x = need(c, 0, DT_NUM, "data", &rc), *s = rc ? NULL : need(c, 1, DT(PB_IR_I64), "shape", &rc);
  if (!s) return rc;
  char b[200], sx[96];
  if (!s->data)
    return fail(c, "%s must be a constant (an initializer or a Constant node): shapes are static in Protobrain",
                in_desc(c, 1, b, sizeof b));
  if (s->rank != 1 || s->dims[0] > PB_IR_MAX_RANK)
    return fail(c, "%s must be 1-D with at most %d elements", in_desc(c, 1, b, sizeof b), PB_IR_MAX_RANK);
  int r = (int)s->dims[0], neg = -1;
  int64_t dims[PB_IR_MAX_RANK], known = 1;
  for (int i = 0; i < r; i++) {
    int64_t d = ((const int64_t *)s->data)[i];
    if (d == 0 && !a->allowzero) {
      if (i >= x->rank) return fail(c, "shape[%d] = 0 copies a dimension that the input %s does not have", i,
                                    pb_ir_shape_str(x, sx, sizeof sx));
      d = x->dims[i];
    }
    if (d == -1) {
      if (neg >= 0) return fail(c, "shape has more than one -1");
      neg = i;
      dims[i] = 1;
      continue;
    }
    if (d < 1) return fail(c, "shape[%d] = %lld is not supported (empty tensors are not supported)", i, (long long)d);
    if (d > PB_IR_MAX_ELEMS || known > PB_IR_MAX_ELEMS / d) return fail(c, "shape is too large");
    dims[i] = d;
    known *= d;
  }
  int64_t n = pb_ir_numel(x);
  if (neg >= 0) {
    if (n % known) return fail(c, "cannot reshape %s (%lld elements) with a -1: %lld is not divisible by %lld",
                               pb_ir_shape_str(x, sx, sizeof sx), (long long)n, (long long)n, (long long)known);
    dims[neg] = n / known;
  } else if (known != n) {
    return fail(c, "cannot reshape %s (%lld elements) to %lld elements", pb_ir_shape_str(x, sx, sizeof sx),
                (long long)n, (long long)known);
  }
  return set_out(c, 0, x->dtype, r, dims);
}

int pb_ir_infer_node(pb_graph_t *g, int node, char *err, size_t errlen) {
  ictx_t c = {g, node, err, errlen};
  pb_node_t *nd = &g->nodes[node];
  pb_attr_t *a = &nd->attr;
  int rc = 0;
  if (nd->n_inputs < OPS[nd->op].min_in || nd->n_inputs > OPS[nd->op].max_in)
    return fail(&c, "has %d inputs; expected %d to %d", nd->n_inputs, OPS[nd->op].min_in, OPS[nd->op].max_in);
  if (nd->n_outputs != 1 || nd->outputs[0] < 0) return fail(&c, "must have exactly one output");
  for (int k = 0; k < nd->n_inputs; k++) {
    const pb_value_t *v = in_val(&c, k);
    if (v && (!pb_ir_dtype_ok(v->dtype) || v->rank < 0 || v->rank > PB_IR_MAX_RANK))
      return fail(&c, "input %d '%s' has no shape yet (not defined before the node?)", k, v->name);
  }
  const pb_value_t *x = in_val(&c, 0);
  char b[200], b2[200];
  int64_t dims[PB_IR_MAX_RANK];
  int rank;

  switch (nd->op) {
  case PB_OP_IDENTITY:
    if (!need(&c, 0, DT_NUM, "input", &rc)) return rc;
    return copy_out(&c, x);

  case PB_OP_GEMM: return infer_gemm(&c, a);

  case PB_OP_MATMUL: {
    const pb_value_t *A = need(&c, 0, DT(PB_IR_F32), "A", &rc), *B = rc ? NULL : need(&c, 1, DT(PB_IR_F32), "B", &rc);
    if (!B) return rc;
    if (matmul_shape(&c, A, B, &rank, dims)) return -1;
    return set_out(&c, 0, PB_IR_F32, rank, dims);
  }

  case PB_OP_ADD: {
    const pb_value_t *A = need(&c, 0, DT_NUM, "A", &rc), *B = rc ? NULL : need(&c, 1, DT_NUM, "B", &rc);
    if (!B) return rc;
    if (A->dtype != B->dtype) return fail(&c, "%s and %s have different dtypes", in_desc(&c, 0, b, sizeof b),
                                          in_desc(&c, 1, b2, sizeof b2));
    if (broadcast(&c, A, B, &rank, dims)) return -1;
    return set_out(&c, 0, A->dtype, rank, dims);
  }

  case PB_OP_RELU:
    if (!need(&c, 0, DT(PB_IR_F32) | DT(PB_IR_I8) | DT(PB_IR_I32) | DT(PB_IR_I64), "X", &rc)) return rc;
    return copy_out(&c, x);

  case PB_OP_CLIP:
    if (!need(&c, 0, DT_NUM, "input", &rc)) return rc;
    for (int k = 1; k < nd->n_inputs; k++) {
      const pb_value_t *v = in_val(&c, k);
      if (!v) continue;
      if (v->dtype != x->dtype || pb_ir_numel(v) != 1)
        return fail(&c, "%s must be a scalar of the input's dtype %s", in_desc(&c, k, b, sizeof b),
                    pb_ir_dtype_name(x->dtype));
    }
    return copy_out(&c, x);

  case PB_OP_CONV: {
    static const req_t req[] = {{0, DT(PB_IR_F32), "X"}, {1, DT(PB_IR_F32), "W"}};
    if (need_all(&c, req, 2)) return -1;
    if (infer_conv_shape(&c, 0, 1, dims)) return -1;
    const pb_value_t *bias = in_val(&c, 2);
    if (bias && (bias->dtype != PB_IR_F32 || bias->rank != 1 || bias->dims[0] != dims[1]))
      return fail(&c, "bias %s must be f32 with %lld elements (one per output channel)", in_desc(&c, 2, b, sizeof b),
                  (long long)dims[1]);
    return set_out(&c, 0, PB_IR_F32, 4, dims);
  }

  case PB_OP_MAXPOOL:
  case PB_OP_AVGPOOL: {
    unsigned mask = nd->op == PB_OP_MAXPOOL ? (DT(PB_IR_F32) | DT_Q8) : DT(PB_IR_F32);
    if (!need(&c, 0, mask, "X", &rc)) return rc;
    if (need_rank(&c, 0, 4, "N x C x H x W; only 2-D pooling is supported")) return -1;
    if (infer_window(&c, x, x->dims[1], a, 1, dims)) return -1;
    return set_out(&c, 0, x->dtype, 4, dims);
  }

  case PB_OP_GLOBALAVGPOOL:
    if (!need(&c, 0, DT(PB_IR_F32), "X", &rc)) return rc;
    if (x->rank < 3) return fail(&c, "%s must be N x C x spatial dims (rank >= 3)", in_desc(&c, 0, b, sizeof b));
    for (int i = 0; i < x->rank; i++) dims[i] = i < 2 ? x->dims[i] : 1;
    return set_out(&c, 0, PB_IR_F32, x->rank, dims);

  case PB_OP_FLATTEN: {
    if (!need(&c, 0, DT_NUM, "input", &rc)) return rc;
    if (norm_axis(&c, &a->axis, x->rank, 1, "Flatten input")) return -1;
    int64_t outer = 1, inner = 1;
    for (int i = 0; i < x->rank; i++) *(i < a->axis ? &outer : &inner) *= x->dims[i];
    dims[0] = outer;
    dims[1] = inner;
    return set_out(&c, 0, x->dtype, 2, dims);
  }

  case PB_OP_RESHAPE: return infer_reshape(&c, a);

  case PB_OP_TRANSPOSE: {
    if (!need(&c, 0, DT_NUM, "data", &rc)) return rc;
    if (a->n_perm == 0) {
      for (int i = 0; i < x->rank; i++) a->perm[i] = x->rank - 1 - i;
      a->n_perm = x->rank;
    }
    if (a->n_perm != x->rank) return fail(&c, "attribute 'perm' has %d entries but the input has rank %d", a->n_perm,
                                          x->rank);
    int seen[PB_IR_MAX_RANK] = {0};
    for (int i = 0; i < x->rank; i++) {
      if (a->perm[i] < 0 || a->perm[i] >= x->rank || seen[a->perm[i]]++)
        return fail(&c, "attribute 'perm' is not a permutation of 0..%d", x->rank - 1);
      dims[i] = x->dims[a->perm[i]];
    }
    return set_out(&c, 0, x->dtype, x->rank, dims);
  }

  case PB_OP_SOFTMAX:
    if (!need(&c, 0, DT(PB_IR_F32), "input", &rc)) return rc;
    if (x->rank < 1) return fail(&c, "input must have rank >= 1");
    if (norm_axis(&c, &a->axis, x->rank, 0, "Softmax input")) return -1;
    return copy_out(&c, x);

  case PB_OP_ARGMAX: {
    if (!need(&c, 0, DT_NUM, "data", &rc)) return rc;
    if (x->rank < 1) return fail(&c, "input must have rank >= 1");
    if (norm_axis(&c, &a->axis, x->rank, 0, "ArgMax input")) return -1;
    rank = 0;
    for (int i = 0; i < x->rank; i++) {
      if (i != a->axis) dims[rank++] = x->dims[i];
      else if (a->keepdims) dims[rank++] = 1;
    }
    return set_out(&c, 0, PB_IR_I64, rank, dims);
  }

  case PB_OP_QUANTIZE: return infer_qdq(&c, 1);
  case PB_OP_DEQUANTIZE: return infer_qdq(&c, 0);
  case PB_OP_QLINEARMATMUL: return infer_qlinearmatmul(&c);
  case PB_OP_QLINEARCONV: return infer_qlinearconv(&c);
  case PB_OP_MATMULINTEGER: return infer_matmulinteger(&c);
  case PB_OP_CONVINTEGER: return infer_convinteger(&c);
  case PB_OP_COUNT: break;
  }
  return fail(&c, "unknown operator %d", (int)nd->op);
}

int pb_ir_infer(pb_graph_t *g, char *err, size_t errlen) {
  if (pb_ir_check(g, err, errlen)) return -1;
  for (int i = 0; i < g->n_nodes; i++)
    if (pb_ir_infer_node(g, i, err, errlen)) return -1;
  return 0;
}

/* ---- printer --------------------------------------------------------------- */

static void print_attrs(const pb_node_t *n, FILE *f) {
  const pb_attr_t *a = &n->attr;
  switch (n->op) {
  case PB_OP_GEMM:
    fprintf(f, " transA=%d transB=%d alpha=%g beta=%g", a->trans_a, a->trans_b, a->alpha, a->beta);
    break;
  case PB_OP_CONV:
  case PB_OP_QLINEARCONV:
  case PB_OP_CONVINTEGER:
  case PB_OP_MAXPOOL:
  case PB_OP_AVGPOOL:
    fprintf(f, " kernel=%dx%d stride=%d,%d pads=%d,%d,%d,%d", a->kernel[0], a->kernel[1], a->stride[0], a->stride[1],
            a->pad[0], a->pad[1], a->pad[2], a->pad[3]);
    if (a->ceil_mode) fprintf(f, " ceil_mode=1");
    if (n->op == PB_OP_AVGPOOL) fprintf(f, " count_include_pad=%d", a->count_include_pad);
    break;
  case PB_OP_FLATTEN:
  case PB_OP_QUANTIZE:
  case PB_OP_DEQUANTIZE: fprintf(f, " axis=%d", a->axis); break;
  case PB_OP_SOFTMAX: fprintf(f, " axis=%d%s", a->axis, a->softmax_flat ? " (flattened, opset < 13)" : ""); break;
  case PB_OP_ARGMAX:
    fprintf(f, " axis=%d keepdims=%d select_last_index=%d", a->axis, a->keepdims, a->select_last_index);
    break;
  case PB_OP_TRANSPOSE:
    fprintf(f, " perm=");
    for (int i = 0; i < a->n_perm; i++) fprintf(f, "%s%d", i ? "," : "", a->perm[i]);
    break;
  case PB_OP_RESHAPE:
    if (a->allowzero) fprintf(f, " allowzero=1");
    break;
  default: break;
  }
}

static void print_value_ref(const pb_graph_t *g, int v, FILE *f) {
  char s[96];
  if (v < 0) {
    fprintf(f, "-");
    return;
  }
  const pb_value_t *val = &g->values[v];
  fprintf(f, "%s %s[%s]", val->name, pb_ir_dtype_name(val->dtype), pb_ir_shape_str(val, s, sizeof s));
  if (val->data) {
    if (pb_ir_numel(val) <= 4) {
      fprintf(f, "=");
      for (int64_t i = 0; i < pb_ir_numel(val); i++) fprintf(f, "%s%g", i ? "," : "", pb_ir_const_f64(val, i));
    } else {
      fprintf(f, " const");
    }
  }
}

void pb_ir_dump(const pb_graph_t *g, FILE *f) {
  char s[96];
  int n_const = 0;
  size_t const_bytes = 0;
  for (int v = 0; v < g->n_values; v++)
    if (g->values[v].data) {
      n_const++;
      const_bytes += pb_ir_nbytes(&g->values[v]);
    }
  fprintf(f, "graph '%s': opset %lld", g->name, (long long)g->opset);
  if (g->batch) fprintf(f, ", batch %lld", (long long)g->batch);
  fprintf(f, ", %d nodes, %d constants (%zu bytes)\n", g->n_nodes, n_const, const_bytes);
  for (int i = 0; i < g->n_inputs; i++) {
    const pb_value_t *v = &g->values[g->inputs[i]];
    fprintf(f, "  input  %s %s[%s]\n", v->name, pb_ir_dtype_name(v->dtype), pb_ir_shape_str(v, s, sizeof s));
  }
  for (int i = 0; i < g->n_nodes; i++) {
    const pb_node_t *n = &g->nodes[i];
    fprintf(f, "  %3d %s", i, pb_ir_op_name(n->op));
    if (n->name[0]) fprintf(f, " '%s'", n->name);
    if (n->dead) fprintf(f, " (dead)");
    print_attrs(n, f);
    fprintf(f, "\n       (");
    for (int k = 0; k < n->n_inputs; k++) {
      if (k) fprintf(f, ", ");
      print_value_ref(g, n->inputs[k], f);
    }
    fprintf(f, ") -> ");
    for (int k = 0; k < n->n_outputs; k++) {
      if (k) fprintf(f, ", ");
      print_value_ref(g, n->outputs[k], f);
    }
    fprintf(f, "\n");
  }
  for (int i = 0; i < g->n_outputs; i++) {
    const pb_value_t *v = &g->values[g->outputs[i]];
    fprintf(f, "  output %s %s[%s]\n", v->name, pb_ir_dtype_name(v->dtype), pb_ir_shape_str(v, s, sizeof s));
  }
}
