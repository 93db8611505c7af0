/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ONNX backend node tests (Debian's libonnx-testdata) through the importer
 * and the reference interpreter.
 *
 * Selection is by operator: a test is selected when every node of its model
 * is an operator Protobrain imports (IR operators and Constant); the others
 * are listed as skipped with the first unsupported operator. Each selected
 * test is one case:
 * - If an independent reading of the model (classify() below) finds a
 *   feature Protobrain refuses (auto_pad SAME_*, dilations, group, a window
 *   that is not 2-D, a second output, a non-tensor input, an empty tensor),
 *   the import must fail with a message naming it ("rejected cleanly").
 * - Otherwise import must succeed and, for every test_data_set_*, the
 *   interpreter's outputs must equal the expected ones: integers exactly,
 *   floats within |got - want| <= 1e-6 + 1e-5 |want|.
 * Reshape needs a constant shape; the tests feed it as a graph input, so the
 * runner turns that input into an initializer holding the test's value
 * ("frozen").
 */
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "check.h"
#include "onnx_testdata.h"
#include "interp.h"
#include "ir.h"
#include "onnx.pb-c.h"
#include "onnx_import.h"

#define NODE_DIR "/usr/share/libonnx-testdata/data/node"
#define MAX_IO 16

static int cmp_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static const char *op_supported(const char *op) {
  if (!op) return "(none)";
  if (strcmp(op, "Constant") == 0 || pb_ir_op_from_name(op) >= 0) return NULL;
  return op;
}

static const Onnx__AttributeProto *attr(const Onnx__NodeProto *n, const char *name) {
  for (size_t i = 0; i < n->n_attribute; i++)
    if (n->attribute[i]->name && strcmp(n->attribute[i]->name, name) == 0) return n->attribute[i];
  return NULL;
}

/*
 * What Protobrain must refuse in this model, read independently of the
 * importer: returns the word the error message must contain (NULL if the
 * model should import) and a reason for the log.
 */
static const char *classify(const Onnx__ModelProto *m, char *why, size_t len) {
  const Onnx__GraphProto *g = m->graph;
  for (size_t i = 0; i < g->n_node; i++) {
    const Onnx__NodeProto *n = g->node[i];
    const Onnx__AttributeProto *a;
    if ((a = attr(n, "auto_pad")) && a->s.len &&
        !(a->s.len == 6 && memcmp(a->s.data, "NOTSET", 6) == 0) && !(a->s.len == 5 && memcmp(a->s.data, "VALID", 5) == 0)) {
      snprintf(why, len, "auto_pad %.*s unsupported", (int)a->s.len, (const char *)a->s.data);
      return "auto_pad";
    }
    if ((a = attr(n, "dilations")))
      for (size_t k = 0; k < a->n_ints; k++)
        if (a->ints[k] != 1) {
          snprintf(why, len, "dilations %lld unsupported", (long long)a->ints[k]);
          return "dilations";
        }
    if ((a = attr(n, "group")) && a->i != 1) {
      snprintf(why, len, "group %lld unsupported", (long long)a->i);
      return "group";
    }
    if ((a = attr(n, "kernel_shape")) && a->n_ints != 2) {
      snprintf(why, len, "%zu-D window unsupported", a->n_ints);
      return "kernel_shape";
    }
    for (size_t k = 1; k < n->n_output; k++)
      if (n->output[k] && n->output[k][0]) {
        static char out_name[128];
        snprintf(why, len, "%s output %zu '%s' unsupported", n->op_type, k, n->output[k]);
        snprintf(out_name, sizeof out_name, "'%s'", n->output[k]);
        return out_name;
      }
  }
  for (size_t i = 0; i < g->n_input; i++) {
    const Onnx__TypeProto *t = g->input[i]->type;
    if (!t || t->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE) {
      snprintf(why, len, "input '%s' is not a tensor", g->input[i]->name);
      return "not a tensor";
    }
    const Onnx__TensorShapeProto *s = t->tensor_type->shape;
    for (size_t k = 0; s && k < s->n_dim; k++)
      if (s->dim[k]->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE && s->dim[k]->dim_value == 0) {
        snprintf(why, len, "input '%s' is empty (a dimension is 0)", g->input[i]->name);
        return "empty";
      }
  }
  return NULL;
}

typedef struct {
  int selected, passed, rejected, failed, skipped, sets;
} stats_t;

static double max_abs_err, max_rel_err;

/* Compare one output; returns 0 when equal within tolerance, else prints the first divergence. */
static int compare(const char *test, const pb_value_t *got_v, const void *got, const pb_value_t *want) {
  char s1[96], s2[96];
  if (got_v->dtype != want->dtype || !pb_ir_shape_eq(got_v, want)) {
    printf("  %s: output '%s' is %s[%s], expected %s[%s]\n", test, got_v->name, pb_ir_dtype_name(got_v->dtype),
           pb_ir_shape_str(got_v, s1, sizeof s1), pb_ir_dtype_name(want->dtype), pb_ir_shape_str(want, s2, sizeof s2));
    return -1;
  }
  int64_t n = pb_ir_numel(want);
  if (want->dtype != PB_IR_F32) {
    if (memcmp(got, want->data, pb_ir_nbytes(want)) == 0) return 0;
    for (int64_t i = 0; i < n; i++) {
      int64_t a = (int64_t)pb_ir_const_i64(&(pb_value_t){.dtype = want->dtype, .data = (void *)(uintptr_t)got}, i);
      int64_t b = pb_ir_const_i64(want, i);
      if (a != b) {
        printf("  %s: output '%s' element %lld: got %lld, expected %lld\n", test, got_v->name, (long long)i,
               (long long)a, (long long)b);
        return -1;
      }
    }
    return 0;
  }
  const float *g = got, *w = want->data;
  for (int64_t i = 0; i < n; i++) {
    if (isnan(w[i]) && isnan(g[i])) continue;
    double d = fabs((double)g[i] - (double)w[i]);
    if (d > max_abs_err) max_abs_err = d;
    if (fabs((double)w[i]) >= 1e-3 && d / fabs((double)w[i]) > max_rel_err) max_rel_err = d / fabs((double)w[i]);
    if (!(d <= 1e-6 + 1e-5 * fabs((double)w[i]))) {
      printf("  %s: output '%s' element %lld: got %.9g, expected %.9g (error %.3g)\n", test, got_v->name, (long long)i,
             g[i], w[i], d);
      return -1;
    }
  }
  return 0;
}

/* Run every data set of a test; returns 0 when all match. */
static int run_sets(const char *test, const char *dir, const pb_graph_t *g, const size_t *input_file, stats_t *st) {
  int rc = 0, sets = 0;
  for (int set = 0; rc == 0; set++) {
    char sd[600], path[700];
    snprintf(sd, sizeof sd, "%s/test_data_set_%d", dir, set);
    struct stat sb;
    if (stat(sd, &sb) != 0) break;
    sets++;
    pb_value_t in[MAX_IO], want[MAX_IO];
    memset(in, 0, sizeof in), memset(want, 0, sizeof want);
    const void *inp[MAX_IO];
    void *outp[MAX_IO] = {0};
    char e[512];
    for (int i = 0; i < g->n_inputs && rc == 0; i++) {
      snprintf(path, sizeof path, "%s/input_%zu.pb", sd, input_file[i]);
      size_t len;
      uint8_t *buf = td_read_all(path, &len);
      if (!buf || pb_onnx_tensor_decode(buf, len, path, &in[i], e, sizeof e)) {
        printf("  %s: cannot load %s\n", test, path);
        rc = -1;
      } else if (in[i].dtype != g->values[g->inputs[i]].dtype || !pb_ir_shape_eq(&in[i], &g->values[g->inputs[i]])) {
        printf("  %s: %s does not match input '%s'\n", test, path, g->values[g->inputs[i]].name);
        rc = -1;
      }
      free(buf);
      inp[i] = in[i].data;
    }
    for (int i = 0; i < g->n_outputs && rc == 0; i++) {
      snprintf(path, sizeof path, "%s/output_%d.pb", sd, i);
      size_t len;
      uint8_t *buf = td_read_all(path, &len);
      if (!buf || pb_onnx_tensor_decode(buf, len, path, &want[i], e, sizeof e)) {
        printf("  %s: cannot load %s\n", test, path);
        rc = -1;
      }
      free(buf);
      outp[i] = calloc(1, pb_ir_nbytes(&g->values[g->outputs[i]]) + 1);
    }
    if (rc == 0 && pb_interp_run(g, inp, outp, NULL, NULL, e, sizeof e)) {
      printf("  %s: interpreter failed: %s\n", test, e);
      rc = -1;
    }
    for (int i = 0; i < g->n_outputs && rc == 0; i++)
      if (compare(test, &g->values[g->outputs[i]], outp[i], &want[i])) rc = -1;
    for (int i = 0; i < MAX_IO; i++) {
      pb_ir_value_clear(&in[i]);
      pb_ir_value_clear(&want[i]);
      free(outp[i]);
    }
  }
  st->sets += sets;
  if (sets == 0) {
    printf("  %s: no test_data_set_*\n", test);
    return -1;
  }
  return rc;
}

static void run_test(const char *name, stats_t *st) {
  char dir[512], path[600];
  snprintf(dir, sizeof dir, "%s/%s", NODE_DIR, name);
  snprintf(path, sizeof path, "%s/model.onnx", dir);
  size_t len;
  uint8_t *buf = td_read_all(path, &len);
  if (!buf) return;
  Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, len, buf);
  free(buf);
  if (!m || !m->graph) {
    printf("skipped %s: model.onnx does not parse\n", name);
    st->skipped++;
    if (m) onnx__model_proto__free_unpacked(m, NULL);
    return;
  }
  Onnx__GraphProto *gp = m->graph;
  for (size_t i = 0; i < gp->n_node; i++) {
    const char *bad = op_supported(gp->node[i]->op_type);
    if (!bad && gp->node[i]->domain && gp->node[i]->domain[0] && strcmp(gp->node[i]->domain, "ai.onnx") != 0)
      bad = gp->node[i]->domain;
    if (bad) {
      printf("skipped %s: operator %s unsupported\n", name, bad);
      st->skipped++;
      onnx__model_proto__free_unpacked(m, NULL);
      return;
    }
  }
  st->selected++;
  char why[256] = "";
  const char *keyword = classify(m, why, sizeof why);

  /* freeze Reshape shape inputs; remember which input file feeds each remaining graph input */
  size_t input_file[MAX_IO], n_in = 0, orig_inputs = gp->n_input;
  int frozen = 0, ok = 1;
  char *is_frozen = calloc(orig_inputs + 1, 1);
  for (size_t i = 0; !keyword && i < orig_inputs; i++)
    for (size_t k = 0; k < gp->n_node; k++)
      if (strcmp(gp->node[k]->op_type, "Reshape") == 0 && gp->node[k]->n_input > 1 &&
          strcmp(gp->node[k]->input[1], gp->input[i]->name) == 0 && !is_frozen[i]) {
        {
          char sd0[2048];
          if ((size_t)snprintf(sd0, sizeof sd0, "%s/test_data_set_0", dir) >= sizeof sd0 ||
              td_freeze_input(m, i, sd0))
            ok = 0;
        }
        is_frozen[i] = 1;
        frozen++;
      }
  /* drop frozen inputs from graph.input */
  size_t w = 0;
  for (size_t i = 0; i < orig_inputs; i++) {
    if (is_frozen[i]) {
      onnx__value_info_proto__free_unpacked(gp->input[i], NULL);
      continue;
    }
    if (n_in < MAX_IO) input_file[n_in++] = i;
    gp->input[w++] = gp->input[i];
  }
  gp->n_input = w;
  free(is_frozen);

  size_t plen = onnx__model_proto__get_packed_size(m);
  uint8_t *packed = malloc(plen ? plen : 1);
  onnx__model_proto__pack(m, packed);
  onnx__model_proto__free_unpacked(m, NULL);

  pb_graph_t *g = NULL;
  char e[1024];
  int rc = ok ? pb_onnx_import(packed, plen, name, 0, &g, e, sizeof e) : -1;
  free(packed);
  if (!ok) snprintf(e, sizeof e, "cannot freeze the Reshape shape input");

  if (keyword) {
    if (rc != 0) {
      int named = strstr(e, keyword) != NULL;
      printf("%s %s: %s; import refused: %s\n", named ? "rejected" : "FAILED", name, why, e);
      CHECK(named, "%s: the error does not name '%s': %s", name, keyword, e);
      if (named) st->rejected++;
      else st->failed++;
    } else {
      printf("FAILED %s: %s, but the import accepted it\n", name, why);
      CHECK(0, "%s: expected a refusal (%s)", name, why);
      st->failed++;
    }
  } else if (rc != 0) {
    printf("FAILED %s: import failed: %s\n", name, e);
    CHECK(0, "%s: import failed: %s", name, e);
    st->failed++;
  } else if (n_in != (size_t)g->n_inputs) {
    printf("FAILED %s: %zu input files for %d graph inputs\n", name, n_in, g->n_inputs);
    CHECK(0, "%s: input count", name);
    st->failed++;
  } else {
    double a0 = max_abs_err;
    max_abs_err = 0;
    int r = run_sets(name, dir, g, input_file, st);
    printf("%s %s%s (max abs error %.3g)\n", r ? "FAILED" : "passed", name, frozen ? " [Reshape shape frozen]" : "",
           max_abs_err);
    if (a0 > max_abs_err) max_abs_err = a0;
    CHECK(r == 0, "%s: outputs differ (see above)", name);
    if (r == 0) st->passed++;
    else st->failed++;
  }
  pb_ir_free(g);
}

int main(void) {
  check_init("test_onnx_conformance");
  clock_t t0 = clock();
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
  printf("\nONNX node tests: %zu found, %d selected (all operators supported), %d skipped (unsupported operators)\n", n,
         st.selected, st.skipped);
  printf("selected: %d passed numerically (%d data sets), %d rejected cleanly (unsupported attribute named), %d failed\n",
         st.passed, st.sets, st.rejected, st.failed);
  printf("max float error over passed tests: abs %.3g, rel %.3g (where |expected| >= 1e-3); %.1f s\n", max_abs_err, max_rel_err,
         (double)(clock() - t0) / CLOCKS_PER_SEC);
  CHECK(st.selected > 100, "only %d tests selected", st.selected);
  return check_done();
}
