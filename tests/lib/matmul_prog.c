/* SPDX-License-Identifier: Apache-2.0 */
/* Tiled matmul program builder (matmul_prog.h), emitted through the encoder. */
#include "matmul_prog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protobrain/isa.h"


typedef struct {
  uint8_t *code;
  uint32_t n, cap;
  int bad;
} em_t;

static void emit(em_t *e, pb_opcode_t op, const char *const *names, const int64_t *vals, int count) {
  const pb_instr_info_t *ii = pb_isa_by_opcode((unsigned)op);
  pb_instr_t in = {.op = op};
  for (int i = 0; i < count; i++) {
    int f = pb_isa_field_index(ii, names[i]);
    if (f < 0) e->bad = 1;
    else in.f[f] = vals[i];
  }
  pb_word_t w;
  char err[256];
  if (pb_encode(&in, &w, err, sizeof err)) {
    fprintf(stderr, "matmul_program: %s\n", err);
    e->bad = 1;
    return;
  }
  if (e->n == e->cap) {
    e->cap = e->cap ? 2 * e->cap : 256;
    e->code = realloc(e->code, (size_t)e->cap * PB_INSTR_BYTES);
  }
  memcpy(e->code + (size_t)e->n++ * PB_INSTR_BYTES, w.bytes, PB_INSTR_BYTES);
}

#define EMIT(e, OP, ...)                                                     \
  do {                                                                       \
    static const char *const nm_[] = {PB_NAMES_##OP};                        \
    const int64_t v_[] = {__VA_ARGS__};                                      \
    emit(e, PB_OP_##OP, nm_, v_, (int)(sizeof v_ / sizeof v_[0]));           \
  } while (0)
#define PB_NAMES_LOAD "sp_col", "cols", "sp_addr", "rows", "host_stride", "host_addr"
#define PB_NAMES_STORE "sp_col", "cols", "sp_addr", "rows", "host_stride", "host_addr"
#define PB_NAMES_WEIGHTS "sp_addr"
#define PB_NAMES_MATMUL "acc", "sp_addr", "rows", "acc_addr"
#define PB_NAMES_ACTIVATE "pool", "sp_addr", "rows", "acc_addr", "pool_stride"
#define PB_NAMES_CONFIG "zp", "lo", "hi", "host_addr"

int matmul_program(const pb_hw_t *hw, const mm_spec_t *s, pb_program_t *p) {
  const uint32_t n = hw->n, m = s->m, kt = s->k / n, ct = s->c / n, eighth = hw->host_bytes / 8;
  /* host memory in eighths: code, A, -, B, -, CONFIG tables, Y, - */
  const uint32_t A_ADDR = eighth, B_ADDR = 3 * eighth, CFG_ADDR = 5 * eighth, MM_Y_ADDR = mm_y_addr(hw);
  memset(p, 0, sizeof *p);
  if (s->k % n || s->c % n || (uint64_t)s->m * s->k > 2ull * eighth || (uint64_t)s->k * s->c > 2ull * eighth ||
      (uint64_t)s->m * s->c > eighth) {
    fprintf(stderr, "matmul_program: k and c must be multiples of N, and the matrices fit host memory\n");
    return -1;
  }
  /* scratchpad: A blocks (kt x m rows), weight tiles (kt*ct*N rows), two output buffers (2 x m rows) */
  const uint32_t sp_a = 0, sp_b = kt * m, sp_y = sp_b + kt * ct * n;
  if (sp_y + 2 * m > hw->sp_rows || 2 * m > hw->acc_rows) {
    fprintf(stderr, "matmul_program: %u x %u x %u does not fit the scratchpad/accumulator\n", m, s->k, s->c);
    return -1;
  }
  p->hw = *hw;
  /* constants: A, B tiles, CONFIG tables */
  uint8_t *bt = malloc((size_t)kt * ct * n * n);
  for (uint32_t j = 0; j < ct; j++)
    for (uint32_t t = 0; t < kt; t++)
      for (uint32_t r = 0; r < n; r++)
        for (uint32_t c = 0; c < n; c++)
          bt[(((size_t)j * kt + t) * n + r) * n + c] = (uint8_t)s->b[(size_t)(t * n + r) * s->c + j * n + c];
  uint8_t *cfg = malloc((size_t)s->c * PB_CFG_ENTRY_BYTES);
  for (uint32_t c = 0; c < s->c; c++) {
    memcpy(cfg + 8 * c, &s->bias[c], 4);
    memcpy(cfg + 8 * c + 4, &s->mult[c], 4);
  }
  pb_program_add_data(p, A_ADDR, s->a, m * s->k);
  pb_program_add_data(p, B_ADDR, bt, kt * ct * n * n);
  pb_program_add_data(p, CFG_ADDR, cfg, s->c * PB_CFG_ENTRY_BYTES);
  free(bt);
  free(cfg);
  pb_tensor_t y = {.name = "y", .kind = PB_TENSOR_OUTPUT, .dtype = PB_DT_INT8, .rank = 2, .dims = {m, s->c},
                   .strides = {s->c, 1}, .host_addr = MM_Y_ADDR, .scale = 1.0f};
  pb_program_add_tensor(p, &y);

  em_t e = {0};
  /* weight tiles of column tile j: kt*N rows, contiguous in host and in the scratchpad */
#define LOAD_B(j) EMIT(&e, LOAD, 0, n, sp_b + (j) * kt * n, kt * n, n, B_ADDR + (j) * kt * n * n)
#define LOAD_A(t) EMIT(&e, LOAD, 0, n, sp_a + (t) * m, m, s->k, A_ADDR + (t) * n)
  LOAD_B(0);
  for (uint32_t j = 0; j < ct; j++) {
    uint32_t acc = (j % 2) * m;
    for (uint32_t t = 0; t < kt; t++) {
      if (j == 0) LOAD_A(t);
      EMIT(&e, WEIGHTS, sp_b + (j * kt + t) * n);
      EMIT(&e, MATMUL, t > 0, sp_a + t * m, m, acc);
      if (t == 0 && j > 0) {
        /* the previous column tile's output, while this one computes */
        uint32_t pacc = ((j - 1) % 2) * m, py = sp_y + ((j - 1) % 2) * m;
        EMIT(&e, CONFIG, s->zp, s->lo, s->hi, CFG_ADDR + (j - 1) * n * PB_CFG_ENTRY_BYTES);
        EMIT(&e, ACTIVATE, 1, py, m, pacc, 0);
        EMIT(&e, STORE, 0, n, py, m, s->c, MM_Y_ADDR + (j - 1) * n);
      }
      if (t == 1 && j + 1 < ct) LOAD_B(j + 1);
    }
  }
  uint32_t j = ct - 1, pacc = (j % 2) * m, py = sp_y + (j % 2) * m;
  EMIT(&e, CONFIG, s->zp, s->lo, s->hi, CFG_ADDR + j * n * PB_CFG_ENTRY_BYTES);
  EMIT(&e, ACTIVATE, 1, py, m, pacc, 0);
  EMIT(&e, STORE, 0, n, py, m, s->c, MM_Y_ADDR + j * n);
  emit(&e, PB_OP_HALT, NULL, NULL, 0);
  if (e.bad) {
    free(e.code);
    pb_program_free(p);
    return -1;
  }
  p->code = e.code;
  p->code_len = e.n;
  p->code_addr = 0;
  pb_region_t rc = {.name = "code", .kind = PB_REG_CODE, .addr = 0, .size = e.n * PB_INSTR_BYTES};
  pb_program_add_region(p, &rc);
  pb_error_t err;
  if (pb_program_check(p, &err)) {
    fprintf(stderr, "matmul_program: %s\n", err.msg);
    pb_program_free(p);
    return -1;
  }
  return 0;
}
