/* SPDX-License-Identifier: Apache-2.0 */
/* Random program generator (randprog.h). */
#include "randprog.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protobrain/isa.h"

/* The data layout in 128 KiB; a host memory below 128 KiB (64 KiB at least) gets it at half the
 * addresses and sizes (every span below fits 0x1000 bytes). `hw` is in scope where these are used. */
#define LAY(a) ((a) >> (hw->host_bytes < 0x20000u ? 1 : 0))
#define D_ADDR LAY(0x10000u) /* random data: LOAD and LOAD_ACC sources */
#define D_SIZE LAY(0x2000u)
#define CFG_ADDR LAY(0x18000u) /* CONFIG tables */
#define CFG_TABLES 6
#define BAD_CFG_ADDR LAY(0x1f000u)
#define OUT_ADDR LAY(0x1c000u) /* STORE destinations */
#define OUT_SIZE LAY(0x2000u)

typedef struct {
  uint64_t s;
} rng_t;

static uint64_t next(rng_t *r) {
  r->s += 0x9e3779b97f4a7c15ull;
  uint64_t z = r->s;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
static uint32_t below(rng_t *r, uint32_t n) { return n ? (uint32_t)(next(r) % n) : 0; }
static uint32_t range(rng_t *r, uint32_t lo, uint32_t hi) { return lo + below(r, hi - lo + 1); } /* inclusive */

typedef struct {
  char *s;
  size_t n, cap;
} sb_t;

static void out(sb_t *b, const char *fmt, ...) {
  va_list ap;
  for (;;) {
    va_start(ap, fmt);
    int k = vsnprintf(b->s + b->n, b->cap - b->n, fmt, ap);
    va_end(ap);
    if ((size_t)k < b->cap - b->n) {
      b->n += (size_t)k;
      return;
    }
    b->cap = 2 * b->cap + (size_t)k + 64;
    b->s = realloc(b->s, b->cap);
  }
}

static uint32_t mult_bits(rng_t *r) {
  uint32_t k = below(r, 16);
  if (k == 0) return 0;                                     /* +0.0 */
  if (k == 1) return range(r, 1, 0x7fffff);                 /* subnormal */
  if (k == 2) return (range(r, 127, 254) << 23) | below(r, 1u << 23); /* huge: saturates */
  /* realistic: 2^-e * (1 + f), e in 0..20 */
  return ((127 - range(r, 0, 20)) << 23) | below(r, 1u << 23);
}

static void emit_data(sb_t *b, const pb_hw_t *hw, uint64_t data_seed, int bad_cfg) {
  rng_t r = {data_seed * 0x2545f4914f6cdd1dull + 7};
  out(b, ".data D 0x%x\n", D_ADDR);
  for (uint32_t i = 0; i < D_SIZE; i += 32) {
    out(b, " .i8");
    for (int j = 0; j < 32; j++) out(b, "%s %d", j ? "," : "", (int)(int8_t)next(&r));
    out(b, "\n");
  }
  out(b, ".data CFG 0x%x\n", CFG_ADDR);
  for (int t = 0; t < CFG_TABLES; t++)
    for (uint32_t c = 0; c < hw->n; c++) out(b, " .i32 %d\n .f32bits 0x%08x\n", (int)range(&r, 0, 1 << 21) - (1 << 20), mult_bits(&r));
  if (bad_cfg) {
    out(b, ".data BADCFG 0x%x\n", BAD_CFG_ADDR);
    uint32_t badc = below(&r, hw->n);
    static const uint32_t bad[] = {0xbf800000u, 0x80000000u, 0x7f800000u, 0x7fc00001u, 0xff800000u, 0x80000001u};
    for (uint32_t c = 0; c < hw->n; c++)
      out(b, " .i32 0\n .f32bits 0x%08x\n", c == badc ? bad[below(&r, 6)] : 0x3f800000u);
  }
  out(b, ".buffer OUT 0x%x %u io\n", OUT_ADDR, OUT_SIZE);
}

/* Pools that make dependencies likely. */
static uint32_t sp_pool(const pb_hw_t *hw) { return hw->sp_rows < 160 ? hw->sp_rows : 160; }
static uint32_t acc_pool(const pb_hw_t *hw) { return hw->acc_rows < 80 ? hw->acc_rows : 80; }

static void emit_valid(sb_t *b, rng_t *r, const pb_hw_t *hw) {
  uint32_t n = hw->n, k = below(r, 100);
  uint32_t spp = sp_pool(hw), accp = acc_pool(hw);
  if (k < 20) { /* LOAD */
    uint32_t rows = range(r, 1, spp < 48 ? spp : 48), cols = range(r, 1, n), col = below(r, n - cols + 1);
    uint32_t spa = below(r, spp - rows + 1), stride = below(r, 3 * n + 1);
    int from_out = below(r, 4) == 0; /* read what a STORE may have written */
    uint32_t base = from_out ? OUT_ADDR : D_ADDR, size = from_out ? OUT_SIZE : D_SIZE;
    uint32_t span = (rows - 1) * stride + cols;
    uint32_t ha = base + below(r, size - span + 1);
    out(b, "LOAD sp_col=%u cols=%u sp_addr=%u rows=%u host_stride=%u host_addr=0x%x\n", col, cols, spa, rows, stride, ha);
  } else if (k < 25) { /* LOAD_ACC */
    uint32_t rows = range(r, 1, accp < 12 ? accp : 12), stride = below(r, 8 * n + 1);
    uint32_t span = (rows - 1) * stride + 4 * n, ha = D_ADDR + below(r, D_SIZE - span + 1);
    out(b, "LOAD_ACC acc_addr=%u rows=%u host_stride=%u host_addr=0x%x\n", below(r, accp - rows + 1), rows, stride, ha);
  } else if (k < 37) { /* WEIGHTS */
    out(b, "WEIGHTS sp_addr=%u\n", below(r, spp - n + 1));
  } else if (k < 62) { /* MATMUL */
    uint32_t rows = range(r, 1, accp < 40 ? accp : 40);
    out(b, "MATMUL acc=%u sp_addr=%u rows=%u acc_addr=%u\n", below(r, 2), below(r, spp - rows + 1), rows,
        below(r, accp - rows + 1));
  } else if (k < 77) { /* ACTIVATE */
    uint32_t pool = below(r, 3) ? 1 : range(r, 1, below(r, 8) ? 4 : 16);
    uint32_t rows = range(r, 1, 24), ps = pool > 1 ? below(r, 2 * rows + 1) : below(r, 3);
    while ((pool - 1) * ps + rows > accp) {
      if (ps) ps /= 2;
      else if (pool > 1) pool--;
      else rows = accp;
    }
    out(b, "ACTIVATE pool=%u sp_addr=%u rows=%u acc_addr=%u pool_stride=%u\n", pool, below(r, spp - rows + 1), rows,
        below(r, accp - ((pool - 1) * ps + rows) + 1), ps);
  } else if (k < 84) { /* STORE */
    uint32_t rows = range(r, 1, 32), cols = range(r, 1, n), col = below(r, n - cols + 1), stride = below(r, 3 * n + 1);
    uint32_t span = (rows - 1) * stride + cols, ha = OUT_ADDR + below(r, OUT_SIZE - span + 1);
    out(b, "STORE sp_col=%u cols=%u sp_addr=%u rows=%u host_stride=%u host_addr=0x%x\n", col, cols,
        below(r, spp - rows + 1), rows, stride, ha);
  } else if (k < 90) { /* STORE_ACC: raw sums to host */
    uint32_t rows = range(r, 1, accp < 8 ? accp : 8), stride = below(r, 8 * n + 1), cols = below(r, 2) ? n : range(r, 1, n);
    uint32_t span = (rows - 1) * stride + 4 * cols, ha = OUT_ADDR + below(r, OUT_SIZE - span + 1);
    out(b, "STORE_ACC cols=%u acc_addr=%u rows=%u host_stride=%u host_addr=0x%x\n", cols, below(r, accp - rows + 1),
        rows, stride, ha);
  } else if (k < 96) { /* CONFIG */
    int32_t zp = (int32_t)below(r, 256) - 128, lo = below(r, 2) ? zp : (int32_t)below(r, 256) - 128;
    int32_t hi = (int32_t)range(r, (uint32_t)(lo + 128), 255) - 128;
    out(b, "CONFIG zp=%d lo=%d hi=%d host_addr=0x%x\n", zp, lo, hi, CFG_ADDR + below(r, CFG_TABLES) * 8 * n);
  } else {
    out(b, "SYNC\n");
  }
}

static void word_line(sb_t *b, const pb_word_t *w) {
  out(b, ".word 0x");
  for (int i = 15; i >= 0; i--) out(b, "%02x", w->bytes[i]);
  out(b, "\n");
}

static void emit_fault(sb_t *b, rng_t *r, const pb_hw_t *hw, int fault, uint32_t code_bytes) {
  uint32_t n = hw->n, k;
  switch (fault) {
  case RP_ILLEGAL_OPCODE: {
    pb_word_t w;
    for (int i = 0; i < 16; i++) w.bytes[i] = (uint8_t)next(r);
    uint32_t op = below(r, 2) ? 0 : range(r, 0x0b, 0xff);
    w.bytes[0] = (uint8_t)op;
    word_line(b, &w);
    break;
  }
  case RP_RESERVED_BITS: {
    const pb_instr_info_t *ii = pb_isa_instr(below(r, pb_isa_count()));
    pb_instr_t in = {.op = ii->op};
    pb_word_t w, mask;
    char err[128];
    pb_encode(&in, &w, err, sizeof err); /* all fields 0: encodable */
    pb_isa_reserved_mask(ii, &mask);
    unsigned bit;
    do bit = range(r, 8, 127);
    while (!pb_word_get(&mask, bit, 1));
    pb_word_set(&w, bit, 1, 1);
    word_line(b, &w);
    break;
  }
  case RP_FIELD_RANGE:
    switch (below(r, 7)) {
    case 6:
      if (below(r, 2)) out(b, "STORE_ACC cols=1 acc_addr=0 rows=0 host_stride=0 host_addr=0x%x\n", OUT_ADDR);
      else out(b, "STORE_ACC cols=%u acc_addr=0 rows=1 host_stride=0 host_addr=0x%x\n", below(r, 2) ? 0 : n + 1, OUT_ADDR);
      break;
    case 0: out(b, "LOAD sp_col=0 cols=%u sp_addr=0 rows=1 host_stride=0 host_addr=0x%x\n", n + 1 + below(r, 10), D_ADDR); break;
    case 1: out(b, "STORE sp_col=%u cols=2 sp_addr=0 rows=1 host_stride=0 host_addr=0x%x\n", n - 1, OUT_ADDR); break;
    case 2: out(b, "MATMUL acc=1 sp_addr=0 rows=0 acc_addr=0\n"); break;
    case 3: out(b, "ACTIVATE pool=%u sp_addr=0 rows=1 acc_addr=0 pool_stride=0\n", below(r, 2) ? 0 : 17 + below(r, 15)); break;
    case 4: out(b, "CONFIG zp=0 lo=5 hi=%d host_addr=0x%x\n", (int)below(r, 5), CFG_ADDR); break;
    default: out(b, "LOAD_ACC acc_addr=0 rows=0 host_stride=0 host_addr=0x%x\n", D_ADDR); break;
    }
    break;
  case RP_SP_RANGE:
    if (below(r, 2)) out(b, "WEIGHTS sp_addr=%u\n", hw->sp_rows - n + 1 + below(r, 100));
    else out(b, "LOAD sp_col=0 cols=1 sp_addr=%u rows=2 host_stride=1 host_addr=0x%x\n", hw->sp_rows - 1, D_ADDR);
    break;
  case RP_ACC_RANGE:
    k = below(r, 3);
    if (k == 0) out(b, "MATMUL acc=0 sp_addr=0 rows=3 acc_addr=%u\n", hw->acc_rows - 2);
    else if (k == 1) out(b, "STORE_ACC cols=1 acc_addr=%u rows=2 host_stride=0 host_addr=0x%x\n", hw->acc_rows - 1, OUT_ADDR);
    else out(b, "ACTIVATE pool=2 sp_addr=0 rows=1 acc_addr=0 pool_stride=%u\n", hw->acc_rows);
    break;
  case RP_HOST_RANGE:
    switch (below(r, 4)) {
    case 3: out(b, "STORE_ACC cols=%u acc_addr=0 rows=1 host_stride=0 host_addr=0x%x\n", n, hw->host_bytes - 4 * n + 1 + below(r, 4 * n)); break;
    case 0: out(b, "LOAD sp_col=0 cols=%u sp_addr=0 rows=1 host_stride=0 host_addr=0x%x\n", n, hw->host_bytes - n + 1); break;
    case 1: out(b, "LOAD_ACC acc_addr=0 rows=2 host_stride=0xffffff host_addr=0x%x\n", D_ADDR); break;
    default: out(b, "CONFIG zp=0 lo=-128 hi=127 host_addr=0x%x\n", hw->host_bytes - 8 * n + 1 + below(r, 8)); break;
    }
    break;
  case RP_STORE_OVER_CODE:
    if (below(r, 2)) out(b, "STORE sp_col=0 cols=1 sp_addr=0 rows=1 host_stride=0 host_addr=0x%x\n", below(r, code_bytes));
    else out(b, "STORE_ACC cols=1 acc_addr=0 rows=1 host_stride=0 host_addr=0x%x\n", below(r, code_bytes));
    break;
  case RP_CONFIG_VALUE:
    out(b, "CONFIG zp=0 lo=-128 hi=127 host_addr=0x%x\n", BAD_CFG_ADDR);
    break;
  default:
    break;
  }
}

char *randprog(const pb_hw_t *hw, uint64_t seed, uint64_t data_seed, int len, int fault) {
  if (hw->host_bytes < 0x10000u) { /* the data layout (LAY) needs 64 KiB */
    fprintf(stderr, "randprog: host memory of %u bytes, the data layout needs 65536 at least\n",
            (unsigned)hw->host_bytes);
    abort();
  }
  sb_t b = {malloc(1 << 16), 0, 1 << 16};
  if (!b.s) abort();
  b.s[0] = 0;
  rng_t r = {seed};
  out(&b, "; randprog seed 0x%llx data seed 0x%llx fault %d\n", (unsigned long long)seed,
      (unsigned long long)data_seed, fault);
  char hwt[128];
  out(&b, ".hw %s\n", pb_hw_format(hw, hwt, sizeof hwt));
  emit_data(&b, hw, data_seed, fault == RP_CONFIG_VALUE);
  for (int i = 0; i < len; i++) emit_valid(&b, &r, hw);
  uint32_t code_bytes = (uint32_t)(len + 5) * 16; /* prefix, fault, 3 more, HALT */
  if (fault != RP_VALID && fault != RP_NO_HALT) {
    emit_fault(&b, &r, hw, fault, code_bytes);
    for (int i = 0; i < 3; i++) emit_valid(&b, &r, hw); /* must not execute */
  }
  if (fault != RP_NO_HALT) out(&b, "HALT\n");
  return b.s;
}
