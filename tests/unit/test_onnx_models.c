/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The models the project ships (models/NAME.onnx: float, opset 13, dynamic batch
 * "N"; models/NAME.qdq.onnx: onnxruntime static QDQ, per-channel int8): each is
 * imported with batch 1 and batch 8 and run by the reference interpreter on
 * random images (fixed, printed seed). Checks: shapes, finite outputs,
 * QDQ outputs on their quantization grid, and batch 8 agreeing with batch 1
 * sample by sample. Comparison with onnxruntime belongs to a later phase.
 * Without models (before `make models`) the test reports that and passes.
 */
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "interp.h"
#include "ir.h"
#include "onnx_import.h"

#define MODEL_DIR "models"

static char err[2048];
static uint32_t rng = 0xC0FFEEu;
static float urand(void) {
  rng ^= rng << 13;
  rng ^= rng >> 17;
  rng ^= rng << 5;
  return (float)(rng % 1000001) / 1000000.0f; /* [0, 1], like normalized pixels */
}

static int cmp_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), k = strlen(suffix);
  return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* The output's quantization step and zero point when a DequantizeLinear with constant per-tensor params makes it. */
static int output_grid(const pb_graph_t *g, int v, float *scale, float *zp) {
  int p = g->values[v].producer;
  if (p < 0 || g->nodes[p].op != PB_OP_DEQUANTIZE) return 0;
  const pb_node_t *n = &g->nodes[p];
  if (!pb_ir_is_const(g, n->inputs[1]) || pb_ir_numel(&g->values[n->inputs[1]]) != 1) return 0;
  *scale = ((const float *)g->values[n->inputs[1]].data)[0];
  *zp = n->inputs[2] >= 0 ? (float)pb_ir_const_f64(&g->values[n->inputs[2]], 0) : 0.0f;
  return 1;
}

static void test_model(const char *path) {
  int qdq = ends_with(path, ".qdq.onnx");
  pb_graph_t *g1 = NULL, *g8 = NULL;
  clock_t t0 = clock();
  int rc1 = pb_onnx_import_file(path, 1, &g1, err, sizeof err);
  CHECK(rc1 == 0, "%s batch 1: %s", path, err);
  int rc8 = pb_onnx_import_file(path, 8, &g8, err, sizeof err);
  CHECK(rc8 == 0, "%s batch 8: %s", path, err);
  if (rc1 || rc8) {
    pb_ir_free(g1), pb_ir_free(g8);
    return;
  }
  int counts[PB_OP_COUNT] = {0};
  for (int i = 0; i < g1->n_nodes; i++) counts[g1->nodes[i].op]++;
  char ops[256] = "";
  size_t o = 0;
  for (int k = 0; k < PB_OP_COUNT; k++)
    if (counts[k]) o += (size_t)snprintf(ops + o, sizeof ops - o, "%s%s x%d", o ? ", " : "", pb_ir_op_name((pb_op_t)k), counts[k]);
  printf("%s: %d nodes (%s)\n", path, g1->n_nodes, ops);

  CHECK(g1->n_inputs == 1 && g1->n_outputs == 1 && g8->n_inputs == 1 && g8->n_outputs == 1, "%s: one input, one output",
        path);
  const pb_value_t *x1 = &g1->values[g1->inputs[0]], *y1 = &g1->values[g1->outputs[0]];
  const pb_value_t *x8 = &g8->values[g8->inputs[0]], *y8 = &g8->values[g8->outputs[0]];
  CHECK(x1->dtype == PB_IR_F32 && x1->rank == 4 && x1->dims[0] == 1 && x1->dims[1] == 1 && x1->dims[2] == 28 &&
            x1->dims[3] == 28,
        "%s: input 1x1x28x28 f32", path);
  CHECK(y1->dtype == PB_IR_F32 && y1->rank == 2 && y1->dims[0] == 1 && y1->dims[1] == 10, "%s: output 1x10 f32", path);
  CHECK(x8->dims[0] == 8 && y8->dims[0] == 8 && y8->dims[1] == 10, "%s: batch 8 shapes", path);
  CHECK(g1->batch == 1 && g8->batch == 8, "%s: batch recorded", path);
  if (qdq) {
    int nq = counts[PB_OP_QUANTIZE], ndq = counts[PB_OP_DEQUANTIZE];
    CHECK(nq > 0 && ndq > nq, "%s: QDQ nodes kept (Q %d, DQ %d)", path, nq, ndq);
  }

  float scale = 0, zp = 0;
  int grid = output_grid(g8, g8->outputs[0], &scale, &zp);
  float *x = malloc(8 * 784 * sizeof *x), y8v[80], y1v[10];
  int finite_bad = 0, grid_bad = 0, batch_bad = 0;
  double max_batch_diff = 0;
  for (int run = 0; run < 3; run++) {
    for (int i = 0; i < 8 * 784; i++) x[i] = urand();
    const void *in8[1] = {x};
    void *out8[1] = {y8v};
    int rc = pb_interp_run(g8, in8, out8, NULL, NULL, err, sizeof err);
    CHECK(rc == 0, "%s: run batch 8: %s", path, err);
    if (rc) break;
    for (int i = 0; i < 80; i++) {
      if (!isfinite(y8v[i])) finite_bad++;
      if (grid) {
        float q = y8v[i] / scale + zp;
        if (fabsf(q - nearbyintf(q)) > 1e-3f || q < -128.5f || q > 127.5f) grid_bad++;
      }
    }
    for (int s = 0; s < 8; s++) {
      const void *in1[1] = {x + s * 784};
      void *out1[1] = {y1v};
      if (pb_interp_run(g1, in1, out1, NULL, NULL, err, sizeof err)) {
        CHECK(0, "%s: run batch 1: %s", path, err);
        break;
      }
      for (int k = 0; k < 10; k++) {
        double d = fabs((double)y1v[k] - y8v[s * 10 + k]);
        if (d > max_batch_diff) max_batch_diff = d;
        /* float sums may round differently per batch size; a QDQ output may move one step at a rounding tie */
        double tol = qdq ? 1.001 * scale : 1e-4 * (1.0 + fabs(y1v[k]));
        if (d > tol) batch_bad++;
      }
    }
  }
  CHECK(finite_bad == 0, "%s: %d non-finite outputs", path, finite_bad);
  if (grid) CHECK(grid_bad == 0, "%s: %d outputs off the quantization grid (scale %g, zp %g)", path, grid_bad, scale, zp);
  CHECK(batch_bad == 0, "%s: batch 8 differs from batch 1 in %d values (max %.3g)", path, batch_bad, max_batch_diff);
  printf("  batch 1 and 8 agree (max diff %.3g)%s; %.2f s\n", max_batch_diff, grid ? ", outputs on the DQ grid" : "",
         (double)(clock() - t0) / CLOCKS_PER_SEC);
  free(x);
  pb_ir_free(g1);
  pb_ir_free(g8);
}

int main(void) {
  check_init("test_onnx_models");
  printf("seed 0x%08x\n", rng);
  DIR *d = opendir(MODEL_DIR);
  char **names = NULL;
  size_t n = 0;
  struct dirent *de;
  while (d && (de = readdir(d))) {
    if (!ends_with(de->d_name, ".onnx")) continue;
    names = realloc(names, (n + 1) * sizeof *names);
    size_t len = strlen(MODEL_DIR) + strlen(de->d_name) + 2;
    names[n] = malloc(len);
    snprintf(names[n], len, "%s/%s", MODEL_DIR, de->d_name);
    n++;
  }
  if (d) closedir(d);
  if (n == 0) printf("no models in %s/ yet (run `make models`); nothing to check\n", MODEL_DIR);
  qsort(names, n, sizeof *names, cmp_names);
  for (size_t i = 0; i < n; i++) {
    test_model(names[i]);
    free(names[i]);
  }
  free(names);
  return check_done();
}
