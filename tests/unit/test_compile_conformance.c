/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ONNX backend node tests (Debian's libonnx-testdata) through the COMPILER
 * and the C reference model: import, (quantize,) lower, tile, emit, run with
 * the runner on backend "ref", for N = 4, 8 and 16.
 *
 * Selection: every node test whose operators the importer supports (the same
 * set test_onnx_conformance selects), minus the models the importer refuses
 * (auto_pad SAME, dilations, 1-D/3-D windows, ...: that test checks those).
 * Every graph input but the first is frozen into an initializer holding the
 * test's value (weights, biases, scales, zero points, shapes and clip bounds
 * are compile-time constants for the accelerator); Add keeps both inputs.
 *
 * - Quantized tests (QuantizeLinear, DequantizeLinear, QLinearMatMul,
 *   QLinearConv, MatMulInteger, ConvInteger): outputs must equal the expected
 *   ones exactly.
 * - Float tests: compiled with calibration on the test input itself, so every
 *   activation is quantized (MinMax, as onnxruntime); outputs must be within
 *   a bound derived from the scales, per output element:
 *     e <= L * s_in / 2 + s_out / 2 + 1e-6 + 1e-5 |want|
 *   with s_in the input's scale, s_out the output's (0 for a float host
 *   output), and L the operator's Lipschitz constant in the max norm: 1 for
 *   Relu, Clip, MaxPool, AveragePool, GlobalAveragePool, Flatten, Reshape,
 *   Transpose, Identity; 2 for Add (each input contributes s/2, and s_in is
 *   the larger scale); 1/2 for Softmax (sum_j |dy_i/dx_j| = 2 y_i (1 - y_i)).
 *   Gemm, MatMul, Conv (K products per output, weights quantized per channel
 *   with s_w = max|w_c| / 127):
 *     e <= K (W s_in / 2 + X s_w / 2 + s_in s_w / 4) + s_in s_w / 2 + s_out / 2 + slack
 *   where W = max |alpha w|, X = max |x|, s_w the largest weight scale (the
 *   rounding of x, of w, their product, and of the bias). ArgMax must pick an
 *   index whose input value is within s_in of the maximum.
 * - For every test: N = 4, 8, 16 give identical bytes, and the predicted
 *   cycles equal the model's measured cycles.
 * Tests the compiler refuses are counted as "not compiled" with the reason
 * in the log (build/logs/tests/test_compile_conformance.log); an unexpected
 * refusal is a failure.
 */
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "onnx_testdata.h"
#include "compile.h"
#include "ir.h"
#include "onnx.pb-c.h"
#include "onnx_import.h"
#include "runner.h"
#include "verilator/vsim.h"

/* Unit tests are linked without the Verilated cores. */
const pb_vsim_ops_t *const pb_vsim_configs[] = {NULL};
const pb_vsim_ops_t *pb_vsim_find(const pb_hw_t *hw) {
  (void)hw;
  return NULL;
}

#define NODE_DIR "/usr/share/libonnx-testdata/data/node"

static int cmp_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static const Onnx__AttributeProto *attr(const Onnx__NodeProto *n, const char *name) {
  for (size_t i = 0; i < n->n_attribute; i++)
    if (n->attribute[i]->name && strcmp(n->attribute[i]->name, name) == 0) return n->attribute[i];
  return NULL;
}

/* Features the importer refuses (checked by test_onnx_conformance): NULL when none. */
static const char *refused(const Onnx__ModelProto *m) {
  const Onnx__GraphProto *g = m->graph;
  for (size_t i = 0; i < g->n_node; i++) {
    const Onnx__NodeProto *n = g->node[i];
    const Onnx__AttributeProto *a;
    if ((a = attr(n, "auto_pad")) && a->s.len && !(a->s.len == 6 && !memcmp(a->s.data, "NOTSET", 6)) &&
        !(a->s.len == 5 && !memcmp(a->s.data, "VALID", 5)))
      return "auto_pad SAME_*";
    if ((a = attr(n, "dilations")))
      for (size_t k = 0; k < a->n_ints; k++)
        if (a->ints[k] != 1) return "dilations";
    if ((a = attr(n, "group")) && a->i != 1) return "group";
    if ((a = attr(n, "kernel_shape")) && a->n_ints != 2) return "not a 2-D window";
    for (size_t k = 1; k < n->n_output; k++)
      if (n->output[k] && n->output[k][0]) return "a second output";
  }
  for (size_t i = 0; i < g->n_input; i++) {
    const Onnx__TypeProto *t = g->input[i]->type;
    if (!t || t->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE) return "a non-tensor input";
    const Onnx__TensorShapeProto *s = t->tensor_type->shape;
    for (size_t k = 0; s && k < s->n_dim; k++)
      if (s->dim[k]->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE && s->dim[k]->dim_value == 0)
        return "an empty input";
  }
  return NULL;
}

typedef struct {
  int quant_pass, float_pass, failed, not_compiled, skipped_ops, refused_import, sets;
  double worst_ratio; /* largest error / bound over the float tests */
} stats_t;

static const char *quant_ops[] = {"QuantizeLinear", "DequantizeLinear", "QLinearMatMul", "QLinearConv", "MatMulInteger",
                                  "ConvInteger"};

static int is_quant_op(const char *op) {
  for (size_t i = 0; i < sizeof quant_ops / sizeof *quant_ops; i++)
    if (!strcmp(op, quant_ops[i])) return 1;
  return 0;
}

/* The float bound's operator-dependent part, per output element: L * s_in / 2 or the matmul formula. */
typedef struct {
  const char *op;
  double L;
  int matmul;
  double K, W, X, sw; /* matmul */
  int argmax;
} bound_t;

static double mm_bound(const bound_t *b, double s_in) {
  return b->K * (b->W * s_in / 2 + b->X * b->sw / 2 + s_in * b->sw / 4) + s_in * b->sw / 2;
}

/* Fill b from the (frozen) model: the main operator and, for matmuls, K, max|w|, max|x|, the weight scale. */
static int bound_of(const pb_graph_t *g, const pb_value_t *x0, const float *xdata, bound_t *b) {
  memset(b, 0, sizeof *b);
  int main_node = -1;
  for (int i = 0; i < g->n_nodes; i++)
    if (g->nodes[i].op != PB_OP_IDENTITY || main_node < 0) main_node = i;
  if (main_node < 0) return -1;
  const pb_node_t *n = &g->nodes[main_node];
  b->op = pb_ir_op_name(n->op);
  b->L = 1;
  switch (n->op) {
  case PB_OP_ADD: b->L = 2; break;
  case PB_OP_SOFTMAX: b->L = 0.5; break;
  case PB_OP_ARGMAX: b->argmax = 1; break;
  case PB_OP_GEMM:
  case PB_OP_MATMUL:
  case PB_OP_CONV: {
    const pb_value_t *W = &g->values[n->inputs[1]];
    if (!W->data) return -1;
    b->matmul = 1;
    float alpha = n->op == PB_OP_GEMM ? n->attr.alpha : 1.0f;
    int64_t nw = pb_ir_numel(W);
    for (int64_t i = 0; i < nw; i++) b->W = fmax(b->W, fabs((double)alpha * ((const float *)W->data)[i]));
    if (n->op == PB_OP_CONV) b->K = (double)(W->dims[1] * W->dims[2] * W->dims[3]);
    else if (n->op == PB_OP_GEMM) b->K = (double)(n->attr.trans_b ? W->dims[1] : W->dims[0]);
    else b->K = (double)W->dims[W->rank - 2];
    b->sw = b->W / 127.0;
    int64_t nx = pb_ir_numel(x0);
    for (int64_t i = 0; i < nx; i++) b->X = fmax(b->X, fabs(xdata[i]));
    break;
  }
  default: break;
  }
  return 0;
}

static void run_test(const char *name, stats_t *st) {
  char dir[512], path[700];
  snprintf(dir, sizeof dir, "%s/%s", NODE_DIR, name);
  snprintf(path, sizeof path, "%s/model.onnx", dir);
  size_t len;
  uint8_t *buf = td_read_all(path, &len);
  if (!buf) return;
  Onnx__ModelProto *m0 = onnx__model_proto__unpack(NULL, len, buf);
  if (!m0 || !m0->graph) {
    free(buf);
    if (m0) onnx__model_proto__free_unpacked(m0, NULL);
    return;
  }
  Onnx__GraphProto *gp = m0->graph;
  int quant = 0, add = 0;
  for (size_t i = 0; i < gp->n_node; i++) {
    const char *op = gp->node[i]->op_type;
    int ok = op && (!strcmp(op, "Constant") || pb_ir_op_from_name(op) >= 0);
    if (ok && gp->node[i]->domain && gp->node[i]->domain[0] && strcmp(gp->node[i]->domain, "ai.onnx")) ok = 0;
    if (!ok) {
      st->skipped_ops++;
      onnx__model_proto__free_unpacked(m0, NULL);
      free(buf);
      return;
    }
    quant |= is_quant_op(op);
    add |= !strcmp(op, "Add");
  }
  const char *why = refused(m0);
  onnx__model_proto__free_unpacked(m0, NULL);
  if (why) {
    printf("import-refused %s: %s (checked by test_onnx_conformance)\n", name, why);
    st->refused_import++;
    free(buf);
    return;
  }
  for (int set = 0;; set++) {
    char sd[600];
    snprintf(sd, sizeof sd, "%s/test_data_set_%d", dir, set);
    struct stat sb;
    if (stat(sd, &sb) != 0) break;
    st->sets++;
    Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, len, buf);
    gp = m->graph;
    size_t keep = add ? 2 : 1, orig = gp->n_input;
    int ok = 1;
    for (size_t i = keep; i < orig; i++)
      if (td_freeze_input(m, i, sd)) ok = 0;
    for (size_t i = keep; i < orig; i++) onnx__value_info_proto__free_unpacked(gp->input[i], NULL);
    if (gp->n_input > keep) gp->n_input = keep;
    size_t plen = onnx__model_proto__get_packed_size(m);
    uint8_t *packed = malloc(plen ? plen : 1);
    onnx__model_proto__pack(m, packed);
    onnx__model_proto__free_unpacked(m, NULL);
    char e[1024] = "";
    pb_graph_t *g = NULL;
    if (!ok || pb_onnx_import(packed, plen, name, 0, &g, e, sizeof e)) {
      printf("FAILED %s: import after freezing: %s\n", name, e);
      CHECK(0, "%s: import after freezing: %s", name, e);
      st->failed++;
      free(packed);
      pb_ir_free(g);
      break;
    }
    /* inputs and expected outputs */
    pb_value_t in[2], want;
    memset(in, 0, sizeof in), memset(&want, 0, sizeof want);
    int nin = g->n_inputs, bad = nin < 1 || nin > 2 || g->n_outputs != 1;
    for (int i = 0; i < nin && !bad; i++) {
      snprintf(path, sizeof path, "%s/input_%d.pb", sd, i);
      size_t l;
      uint8_t *b = td_read_all(path, &l);
      bad = !b || pb_onnx_tensor_decode(b, l, path, &in[i], e, sizeof e);
      free(b);
    }
    snprintf(path, sizeof path, "%s/output_0.pb", sd);
    size_t l;
    uint8_t *b = bad ? NULL : td_read_all(path, &l);
    if (!bad) bad = !b || pb_onnx_tensor_decode(b, l, path, &want, e, sizeof e);
    free(b);
    if (bad) {
      printf("not-compiled %s: %d inputs / %d outputs after freezing, or unreadable data\n", name, nin, g->n_outputs);
      st->not_compiled++;
      goto next;
    }
    if (in[0].dtype != PB_IR_F32) quant = 1; /* integer data (a uint8 MaxPool, say): exact */
    /* compile for N = 4, 8, 16 and run */
    uint8_t *first = NULL;
    size_t out_bytes = 0;
    int test_ok = 1, compiled = 1;
    double worst = 0;
    float s_in = 0, s_out = 0;
    bound_t bd;
    if (!quant && bound_of(g, &g->values[g->inputs[0]], in[0].data, &bd)) bd.L = 1, bd.matmul = 0, bd.op = "?";
    static const unsigned ns[3] = {4, 8, 16};
    for (int k = 0; k < 3 && test_ok && compiled; k++) {
      pb_graph_t *gk = NULL;
      pb_onnx_import(packed, plen, name, 0, &gk, e, sizeof e);
      pb_compile_opts_t o;
      memset(&o, 0, sizeof o);
      pb_hw_preset(ns[k], &o.hw);
      pb_calib_t cal = {NULL, in[0].rank ? in[0].dims[0] : 1};
      if (!quant && in[0].dtype == PB_IR_F32 && nin == 1) {
        cal.data = in[0].data;
        o.calib = &cal;
      }
      pb_program_t p;
      if (pb_compile_graph(gk, &o, &p, e, sizeof e)) {
        printf("not-compiled %s: %s\n", name, e);
        compiled = 0;
        pb_ir_free(gk);
        break;
      }
      pb_ir_free(gk);
      pb_backend_t *be = NULL;
      pb_runner_t *r = NULL;
      if (pb_backend_open("ref", &p.hw, NULL, &be, e, sizeof e) || pb_runner_open(&p, be, &r, e, sizeof e)) {
        printf("FAILED %s N=%u: %s\n", name, ns[k], e);
        test_ok = 0;
      } else {
        const pb_tensor_t *ti[2] = {NULL, NULL}, *to = NULL;
        int ni = 0;
        for (uint32_t i = 0; i < p.n_tensors; i++) {
          if (p.tensors[i].kind == PB_TENSOR_INPUT && ni < 2) ti[ni++] = &p.tensors[i];
          if (p.tensors[i].kind == PB_TENSOR_OUTPUT) to = &p.tensors[i];
        }
        pb_runner_io_t rin[2], rout;
        for (int i = 0; i < ni; i++) {
          /* match by name: the program keeps the graph's input names */
          int which = 0;
          for (int j = 0; j < nin; j++)
            if (!strcmp(g->values[g->inputs[j]].name, ti[i]->name)) which = j;
          unsigned dt = in[which].dtype == PB_IR_F32 ? PB_DT_FLOAT32 : in[which].dtype == PB_IR_U8 ? PB_DT_UINT8 : PB_DT_INT8;
          rin[i] = (pb_runner_io_t){ti[i]->name, dt, in[which].data};
          if (ti[i]->flags & PB_TF_FLOAT_IO) s_in = s_in > ti[i]->scale ? s_in : ti[i]->scale;
        }
        unsigned odt = want.dtype == PB_IR_F32 ? PB_DT_FLOAT32 : want.dtype == PB_IR_U8 ? PB_DT_UINT8
                       : want.dtype == PB_IR_I8 ? PB_DT_INT8 : want.dtype == PB_IR_I32 ? PB_DT_INT32 : PB_DT_INT64;
        out_bytes = pb_ir_nbytes(&want);
        void *got = calloc(1, out_bytes + 8);
        rout = (pb_runner_io_t){to ? to->name : NULL, odt, got};
        s_out = to && (to->flags & PB_TF_FLOAT_IO) ? to->scale : 0;
        pb_runner_stats_t rs;
        if (!to || ni != nin || pb_tensor_elems(to) * pb_dtype_size(odt) != out_bytes) {
          printf("FAILED %s N=%u: the program's tensors do not match the test's\n", name, ns[k]);
          test_ok = 0;
        } else if (pb_runner_run(r, pb_runner_batch(r), rin, ni, &rout, 1, &rs, e, sizeof e)) {
          printf("FAILED %s N=%u: run: %s\n", name, ns[k], e);
          test_ok = 0;
        } else {
          CHECK(rs.predicted == rs.cnt.cycles, "%s N=%u: predicted %llu, measured %llu cycles", name, ns[k],
                (unsigned long long)rs.predicted, (unsigned long long)rs.cnt.cycles);
          if (quant) {
            if (memcmp(got, want.data, out_bytes)) {
              printf("FAILED %s N=%u: output differs from the expected bytes\n", name, ns[k]);
              test_ok = 0;
            }
          } else if (bd.argmax) {
            const float *xs = in[0].data;
            const int64_t *gi = got, *wi = want.data;
            int64_t n = pb_ir_numel(&want);
            /* the chosen index must hold a value within s_in of the maximum (the expected index's value) */
            const pb_node_t *an = &g->nodes[g->n_nodes - 1];
            const pb_value_t *X = &g->values[an->inputs[0]];
            int axis = an->attr.axis;
            int64_t inner = 1;
            for (int d = axis + 1; d < X->rank; d++) inner *= X->dims[d];
            int64_t alen = X->dims[axis];
            for (int64_t i = 0; i < n && test_ok; i++) {
              int64_t outer = i / inner, inr = i % inner, base = outer * alen * inner + inr;
              double vg = xs[base + gi[i] * inner], vw = xs[base + wi[i] * inner];
              if (gi[i] < 0 || gi[i] >= alen || vg < vw - s_in) {
                printf("FAILED %s N=%u: argmax %lld picks %lld (value %g), expected %lld (value %g), scale %g\n", name,
                       ns[k], (long long)i, (long long)gi[i], vg, (long long)wi[i], vw, (double)s_in);
                test_ok = 0;
              }
            }
          } else {
            const float *gf = got, *wf = want.data;
            int64_t n = pb_ir_numel(&want);
            double opb = bd.matmul ? mm_bound(&bd, s_in) : bd.L * s_in / 2;
            for (int64_t i = 0; i < n && test_ok; i++) {
              double err = fabs((double)gf[i] - wf[i]);
              double lim = opb + s_out / 2 + 1e-6 + 1e-5 * fabs((double)wf[i]);
              if (err / lim > worst) worst = err / lim;
              if (!(err <= lim)) {
                printf("FAILED %s N=%u: element %lld: got %.9g, expected %.9g, error %.3g > bound %.3g (s_in %g, "
                       "s_out %g)\n",
                       name, ns[k], (long long)i, gf[i], wf[i], err, lim, (double)s_in, (double)s_out);
                test_ok = 0;
              }
            }
          }
          if (test_ok) {
            if (!first) first = got, got = NULL;
            else if (memcmp(first, got, out_bytes)) {
              printf("FAILED %s N=%u: bytes differ from N=4\n", name, ns[k]);
              test_ok = 0;
            }
          }
        }
        free(got);
      }
      pb_runner_close(r);
      if (be) be->close(be);
      pb_program_free(&p);
    }
    free(first);
    if (!compiled) {
      st->not_compiled++;
    } else if (test_ok) {
      if (quant) {
        st->quant_pass++;
        printf("passed %s (set %d): exact for N = 4, 8, 16\n", name, set);
      } else {
        st->float_pass++;
        if (worst > st->worst_ratio) st->worst_ratio = worst;
        printf("passed %s (set %d): through quantization, %s, worst error %.2f of the bound (s_in %g, s_out %g)\n",
               name, set, bd.op, worst, (double)s_in, (double)s_out);
      }
    } else {
      st->failed++;
    }
    CHECK(!compiled || test_ok, "%s: see above", name);
  next:
    for (int i = 0; i < 2; i++) pb_ir_value_clear(&in[i]);
    pb_ir_value_clear(&want);
    pb_ir_free(g);
    free(packed);
  }
  free(buf);
}

int main(void) {
  check_init("test_compile_conformance");
  DIR *d = opendir(NODE_DIR);
  if (!d) {
    CHECK(0, "%s not found: install libonnx-testdata (make deps)", NODE_DIR);
    return check_done();
  }
  char **names = NULL;
  size_t n = 0, cap = 0;
  struct dirent *de;
  while ((de = readdir(d))) {
    if (strncmp(de->d_name, "test_", 5) != 0) continue;
    if (n == cap) {
      cap = cap ? 2 * cap : 256;
      names = realloc(names, cap * sizeof *names);
    }
    names[n++] = strdup(de->d_name);
  }
  closedir(d);
  qsort(names, n, sizeof *names, cmp_names);
  stats_t st = {0};
  for (size_t i = 0; i < n; i++) {
    run_test(names[i], &st);
    free(names[i]);
  }
  free(names);
  printf("\nONNX node tests through the compiler and the reference model (N = 4, 8, 16): %zu found, %d skipped "
         "(operator unsupported), %d refused at import (see test_onnx_conformance)\n",
         n, st.skipped_ops, st.refused_import);
  printf("data sets: %d; quantized tests passed exactly: %d; float tests passed through quantization: %d (worst "
         "error %.2f of its bound); not compiled (reason logged): %d; failed: %d\n",
         st.sets, st.quant_pass, st.float_pass, st.worst_ratio, st.not_compiled, st.failed);
  CHECK(st.quant_pass >= 1 && st.float_pass >= 1, "nothing passed");
  return check_done();
}
