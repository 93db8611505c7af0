/* SPDX-License-Identifier: Apache-2.0 */
/* The lowered program (lir.h): containers. */
#include "lir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void lir_name(char dst[PB_NAME_MAX], const char *src) {
  size_t n = strlen(src);
  if (n >= PB_NAME_MAX) src += n - (PB_NAME_MAX - 1), n = PB_NAME_MAX - 1;
  memset(dst, 0, PB_NAME_MAX);
  memcpy(dst, src, n);
}

static int grow(void **arr, int *cap, int n, size_t elem) {
  if (n < *cap) return 0;
  int nc = *cap ? 2 * *cap : 16;
  void *a = realloc(*arr, (size_t)nc * elem);
  if (!a) return -1;
  memset((char *)a + (size_t)*cap * elem, 0, (size_t)(nc - *cap) * elem);
  *arr = a;
  *cap = nc;
  return 0;
}

void lir_free(lir_t *l) {
  if (!l) return;
  for (int i = 0; i < l->n_bufs; i++) free(l->bufs[i].init);
  for (int i = 0; i < l->n_tensors; i++) free(l->tensors[i].offs);
  for (int i = 0; i < l->n_layers; i++) {
    lir_layer_t *y = &l->layers[i];
    free(y->w);
    free(y->bias);
    free(y->bmat);
    free(y->mult);
    free(y->seg);
  }
  free(l->bufs);
  free(l->tensors);
  free(l->layers);
  free(l->inputs);
  free(l->outputs);
  memset(l, 0, sizeof *l);
}

int lir_add_buf(lir_t *l, const char *name, lir_buf_kind_t kind, uint64_t bytes) {
  if (grow((void **)&l->bufs, &l->cap_bufs, l->n_bufs, sizeof *l->bufs)) return -1;
  lir_buf_t *b = &l->bufs[l->n_bufs];
  memset(b, 0, sizeof *b);
  lir_name(b->name, name);
  b->kind = kind;
  b->bytes = bytes;
  b->pinned = kind != LB_ACT;
  b->first = b->last = -2; /* unused until a layer or io touches it */
  return l->n_bufs++;
}

int lir_add_tensor(lir_t *l, const char *name, int buf, uint64_t base, unsigned dtype, int rank, const int64_t *dims,
                   uint64_t bstride, const int64_t *offs) {
  if (rank < 1 || rank > LIR_MAX_RANK) return -1;
  if (grow((void **)&l->tensors, &l->cap_tensors, l->n_tensors, sizeof *l->tensors)) return -1;
  lir_tensor_t *t = &l->tensors[l->n_tensors];
  memset(t, 0, sizeof *t);
  lir_name(t->name, name);
  t->buf = buf;
  t->base = base;
  t->dtype = dtype;
  t->scale = 1.0f;
  t->rank = rank;
  int64_t ps = 1;
  for (int d = 0; d < rank; d++) {
    t->dims[d] = dims[d];
    if (d) ps *= dims[d];
  }
  t->per_sample = ps;
  t->bstride = bstride;
  t->offs = malloc((size_t)ps * sizeof *t->offs);
  if (!t->offs) return -1;
  unsigned es = pb_dtype_size(dtype);
  for (int64_t i = 0; i < ps; i++) t->offs[i] = offs ? offs[i] : i * (int64_t)es;
  return l->n_tensors++;
}

int lir_add_layer(lir_t *l, lir_layer_kind_t kind, const char *name, const char *op) {
  if (grow((void **)&l->layers, &l->cap_layers, l->n_layers, sizeof *l->layers)) return -1;
  lir_layer_t *y = &l->layers[l->n_layers];
  memset(y, 0, sizeof *y);
  y->kind = kind;
  lir_name(y->name, name);
  snprintf(y->op, sizeof y->op, "%s", op);
  y->in = y->out = -1;
  y->reps = 1;
  y->ph = y->pw = y->psy = y->psx = 1;
  return l->n_layers++;
}

int lir_affine_strides(const lir_tensor_t *t, uint32_t *strides) {
  int64_t st[LIR_MAX_RANK] = {0}, idx = 1;
  memset(strides, 0, PB_MAX_RANK * sizeof *strides);
  if (t->bstride > UINT32_MAX) return 0;
  strides[0] = (uint32_t)t->bstride;
  for (int d = t->rank - 1; d >= 1; d--) {
    st[d] = t->dims[d] > 1 ? t->offs[idx] - t->offs[0] : 0;
    if (st[d] < 0 || st[d] > UINT32_MAX) return 0;
    strides[d] = (uint32_t)st[d];
    idx *= t->dims[d];
  }
  for (int64_t e = 0; e < t->per_sample; e++) {
    int64_t r = e, off = t->offs[0];
    for (int d = t->rank - 1; d >= 1; d--) {
      off += (r % t->dims[d]) * st[d];
      r /= t->dims[d];
    }
    if (off != t->offs[e]) return 0;
  }
  return 1;
}
