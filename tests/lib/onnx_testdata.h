/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the tests that read Debian's libonnx-testdata node tests. */
#ifndef PB_TEST_ONNX_TESTDATA_H
#define PB_TEST_ONNX_TESTDATA_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx.pb-c.h"
#include "onnx_import.h"

/* A whole file, malloc'd (NULL when it cannot be read). */
static inline uint8_t *td_read_all(const char *path, size_t *len) {
  char e[256];
  return pb_onnx_read_file(path, len, e, sizeof e);
}

/* Replace graph input `idx` by an initializer holding <setdir>/input_<idx>.pb. 0 or -1. */
static inline int td_freeze_input(Onnx__ModelProto *m, size_t idx, const char *setdir) {
  Onnx__GraphProto *g = m->graph;
  char path[4096];
  if ((size_t)snprintf(path, sizeof path, "%s/input_%zu.pb", setdir, idx) >= sizeof path) return -1;
  size_t len;
  uint8_t *buf = td_read_all(path, &len);
  if (!buf) return -1;
  Onnx__TensorProto *t = onnx__tensor_proto__unpack(NULL, len, buf);
  free(buf);
  if (!t) return -1;
  free(t->name);
  t->name = strdup(g->input[idx]->name);
  Onnx__TensorProto **ni = realloc(g->initializer, (g->n_initializer + 1) * sizeof *ni);
  if (!ni || !t->name) {
    onnx__tensor_proto__free_unpacked(t, NULL);
    return -1;
  }
  g->initializer = ni;
  g->initializer[g->n_initializer++] = t;
  return 0;
}

#endif
