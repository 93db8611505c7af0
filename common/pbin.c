/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The program binary (.pbin): writer and validating reader (docs/pbin.md).
 *
 * Every integer is packed byte by byte, little-endian; no struct is ever
 * written or read whole. The reader checks every field before it trusts it,
 * uses 64-bit arithmetic for every range, never reads outside the buffer and
 * names the failing field and its byte offset in the message. Semantic rules
 * (ranges in host memory, tensor shapes, names) live in one function shared
 * by the reader and pb_program_check(), so the writer and the reader cannot
 * disagree about what a valid program is.
 */
#include "protobrain/pbin.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "protobrain/isa.h"

/* ---- byte offsets of every field (docs/pbin.md) ---- */

enum {
  H_MAGIC = 0,
  H_FORMAT_VERSION = 4,
  H_HEADER_SIZE = 6,
  H_HW_N = 8,
  H_RQ_LANES = 10,
  H_SP_ROWS = 12,
  H_ACC_ROWS = 16,
  H_HOST_BYTES = 20,
  H_ISA_VERSION = 24,
  H_SECTION_COUNT = 28,
  H_SECTION_TABLE = 32,
  H_FILE_SIZE = 36,
  H_CRC32 = 40,
  H_RESERVED = 44,
  H_RESERVED_BYTES = 20,
};

enum { S_TYPE = 0, S_FLAGS = 2, S_OFFSET = 4, S_SIZE = 8, S_HOST_ADDR = 12 };

enum {
  T_NAME = 0,
  T_KIND = 32,
  T_DTYPE = 33,
  T_RANK = 34,
  T_FLAGS = 35,
  T_DIMS = 36,
  T_STRIDES = 52,
  T_HOST_ADDR = 68,
  T_SCALE = 72,
  T_ZERO_POINT = 76,
  T_RESERVED = 80,
  T_RESERVED_BYTES = 16,
};

enum { R_NAME = 0, R_KIND = 32, R_ADDR = 36, R_SIZE = 40, R_RESERVED = 44 };

enum { P_KIND = 0, P_OP = 1, P_N_IN = 2, P_N_OUT = 3, P_PC = 4, P_LEN = 8, P_IN = 12, P_OUT = 20, P_PARAM = 24 };

enum {
  L_NAME = 0,
  L_OP = 32,
  L_WHERE = 48,
  L_IN_RANK = 49,
  L_OUT_RANK = 50,
  L_RESERVED0 = 51,
  L_STEP = 52,
  L_PC = 56,
  L_LEN = 60,
  L_IN_DIMS = 64,
  L_OUT_DIMS = 80,
  L_MACS = 96,
  L_CYCLES = 104,
  L_ARRAY_ROWS = 112,
  L_WEIGHT_BYTES = 120,
  L_OUT_BYTES = 124,
  L_SP_ROWS = 128,
  L_ACC_ROWS = 132,
  L_RESERVED = 136,
  L_RESERVED_BYTES = 8,
};

#define PAYLOAD_ALIGN 16u

/* ---- CRC-32 (IEEE 802.3, reflected 0xEDB88320), table built by the preprocessor ---- */

#define CRC_STEP(c) (((c) >> 1) ^ (((c)&1u) ? 0xEDB88320u : 0u))
#define CRC_BYTE(c) CRC_STEP(CRC_STEP(CRC_STEP(CRC_STEP(CRC_STEP(CRC_STEP(CRC_STEP(CRC_STEP(c))))))))
#define CRC_E4(n) CRC_BYTE((n) + 0u), CRC_BYTE((n) + 1u), CRC_BYTE((n) + 2u), CRC_BYTE((n) + 3u)
#define CRC_E16(n) CRC_E4((n) + 0u), CRC_E4((n) + 4u), CRC_E4((n) + 8u), CRC_E4((n) + 12u)
#define CRC_E64(n) CRC_E16((n) + 0u), CRC_E16((n) + 16u), CRC_E16((n) + 32u), CRC_E16((n) + 48u)

static const uint32_t crc_table[256] = {CRC_E64(0u), CRC_E64(64u), CRC_E64(128u), CRC_E64(192u)};

/* Running CRC on the inverted register (start with 0xFFFFFFFF, invert at the end). */
static uint32_t crc_update(uint32_t crc, const uint8_t *buf, size_t len) {
  for (size_t i = 0; i < len; i++) crc = crc_table[(crc ^ buf[i]) & 0xFFu] ^ (crc >> 8);
  return crc;
}

uint32_t pb_crc32(const uint8_t *buf, size_t len) {
  if (!buf) return 0;
  return ~crc_update(0xFFFFFFFFu, buf, len);
}

/* CRC of a whole file with its crc32 field read as 0 (len >= the header). */
static uint32_t file_crc(const uint8_t *buf, size_t len) {
  static const uint8_t zero[4] = {0, 0, 0, 0};
  uint32_t c = crc_update(0xFFFFFFFFu, buf, H_CRC32);
  c = crc_update(c, zero, 4);
  c = crc_update(c, buf + H_CRC32 + 4, len - (H_CRC32 + 4));
  return ~c;
}

/* ---- little-endian packing ---- */

static uint16_t rd16(const uint8_t *b) { return (uint16_t)(b[0] | (b[1] << 8)); }
static uint32_t rd32(const uint8_t *b) {
  return (uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) | ((uint32_t)b[3] << 24);
}
static void wr16(uint8_t *b, uint32_t v) {
  b[0] = (uint8_t)v;
  b[1] = (uint8_t)(v >> 8);
}
static void wr32(uint8_t *b, uint32_t v) {
  b[0] = (uint8_t)v;
  b[1] = (uint8_t)(v >> 8);
  b[2] = (uint8_t)(v >> 16);
  b[3] = (uint8_t)(v >> 24);
}
static uint64_t rd64(const uint8_t *b) { return (uint64_t)rd32(b) | ((uint64_t)rd32(b + 4) << 32); }
static void wr64(uint8_t *b, uint64_t v) {
  wr32(b, (uint32_t)v);
  wr32(b + 4, (uint32_t)(v >> 32));
}
static float bits_to_f32(uint32_t u) {
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}
static uint32_t f32_to_bits(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  return u;
}

static uint64_t align_up(uint64_t v) { return (v + PAYLOAD_ALIGN - 1) / PAYLOAD_ALIGN * PAYLOAD_ALIGN; }

/* ---- errors ---- */

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static int
fail(pb_error_t *err, const char *fmt, ...) {
  va_list ap;
  int n = snprintf(err->msg, sizeof err->msg, "pbin: ");
  va_start(ap, fmt);
  vsnprintf(err->msg + n, sizeof err->msg - (size_t)n, fmt, ap);
  va_end(ap);
  return -1;
}

/* Offsets inside the header are printed in decimal (they match the header
 * table of docs/pbin.md), every other offset in hex (as a hex dump shows it). */
typedef struct {
  char s[48];
} where_buf_t;

static const char *fmt_off(where_buf_t *w, uint64_t off) {
  if (off < PB_PBIN_HEADER_BYTES)
    snprintf(w->s, sizeof w->s, " at offset %u", (unsigned)off);
  else
    snprintf(w->s, sizeof w->s, " at offset 0x%llx", (unsigned long long)off);
  return w->s;
}

/*
 * Where the fields of a parsed program live in its file. The reader fills it;
 * pb_program_check() passes in_file = 0 and messages then carry no offsets
 * and name in-memory fields (code_addr, data[i]) instead of sections.
 */
typedef struct {
  int in_file;
  uint64_t table_off;       /* section table */
  uint32_t code_sec;        /* section index of CODE */
  const uint32_t *data_sec; /* section index of each data block */
  uint64_t tensors_off;     /* payload of TENSORS */
  uint64_t regions_off;     /* payload of MEMPLAN */
  uint64_t steps_off;       /* payload of STEPS */
  uint64_t layers_off;      /* payload of LAYERS */
} locator_t;

static const char *at(where_buf_t *w, const locator_t *L, uint64_t off) {
  if (!L->in_file) {
    w->s[0] = '\0';
    return w->s;
  }
  return fmt_off(w, off);
}

static const char *section_type_name(unsigned type) {
  switch (type) {
  case PB_SEC_CODE: return "CODE";
  case PB_SEC_DATA: return "DATA";
  case PB_SEC_TENSORS: return "TENSORS";
  case PB_SEC_MEMPLAN: return "MEMPLAN";
  case PB_SEC_STEPS: return "STEPS";
  case PB_SEC_LAYERS: return "LAYERS";
  default: return "unknown";
  }
}

/* ---- small helpers of the public API ---- */

unsigned pb_dtype_size(unsigned dtype) {
  switch (dtype) {
  case PB_DT_INT8:
  case PB_DT_UINT8: return 1;
  case PB_DT_INT32:
  case PB_DT_FLOAT32: return 4;
  case PB_DT_INT64: return 8;
  default: return 0;
  }
}

const char *pb_dtype_name(unsigned dtype) {
  switch (dtype) {
  case PB_DT_INT8: return "i8";
  case PB_DT_UINT8: return "u8";
  case PB_DT_INT32: return "i32";
  case PB_DT_FLOAT32: return "f32";
  case PB_DT_INT64: return "i64";
  default: return "?";
  }
}

static uint64_t sat_add(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }
static uint64_t sat_mul(uint64_t a, uint64_t b) { return (b != 0 && a > UINT64_MAX / b) ? UINT64_MAX : a * b; }

uint64_t pb_tensor_elems(const pb_tensor_t *t) {
  if (!t || t->rank < 1 || t->rank > PB_MAX_RANK) return 0;
  uint64_t n = 1;
  for (unsigned d = 0; d < t->rank; d++) n = sat_mul(n, t->dims[d]);
  return n;
}

uint64_t pb_tensor_extent(const pb_tensor_t *t) {
  if (!t || t->rank < 1 || t->rank > PB_MAX_RANK) return 0;
  unsigned es = pb_dtype_size(t->dtype);
  if (es == 0) return 0;
  uint64_t last = 0; /* byte offset of the last element from host_addr */
  for (unsigned d = 0; d < t->rank; d++) {
    if (t->dims[d] == 0) return 0;
    last = sat_add(last, (uint64_t)(t->dims[d] - 1) * t->strides[d]); /* < 2^64, cannot wrap */
  }
  return sat_add(last, es);
}

/* ---- hardware parameters ---- */

typedef struct {
  const char *name;
  uint32_t value, lo, hi;
  unsigned off; /* in the header */
} hw_field_t;

/* Index of the first out-of-range field, or -1; fills f[4]. */
static int hw_bad_field(const pb_hw_t *hw, hw_field_t f[4]) {
  f[0] = (hw_field_t){"hw.n", hw->n, 1, PB_HW_N_MAX, H_HW_N};
  f[1] = (hw_field_t){"hw.sp_rows", hw->sp_rows, 1, PB_HW_ROWS_MAX, H_SP_ROWS};
  f[2] = (hw_field_t){"hw.acc_rows", hw->acc_rows, 1, PB_HW_ROWS_MAX, H_ACC_ROWS};
  f[3] = (hw_field_t){"hw.host_bytes", hw->host_bytes, PB_HW_HOST_MIN, PB_HW_HOST_MAX, H_HOST_BYTES};
  for (int i = 0; i < 4; i++)
    if (f[i].value < f[i].lo || f[i].value > f[i].hi) return i;
  return -1;
}

/* 0 when rq_lanes is 0 or a divisor of n (n already valid); else an error message in msg. */
static int hw_bad_lanes(const pb_hw_t *hw, char *msg, size_t len) {
  if (hw->rq_lanes == 0 || (hw->rq_lanes <= hw->n && hw->n % hw->rq_lanes == 0)) return 0;
  snprintf(msg, len, "%u is not 0 or a divisor of hw.n = %u", hw->rq_lanes, hw->n);
  return -1;
}

char *pb_hw_format(const pb_hw_t *hw, char *buf, size_t len) {
  int o = snprintf(buf, len, "n=%u sp_rows=%u acc_rows=%u host_bytes=%u", hw->n, hw->sp_rows, hw->acc_rows,
                   hw->host_bytes);
  if (hw->rq_lanes && o >= 0 && (size_t)o < len) snprintf(buf + o, len - (size_t)o, " rq_lanes=%u", hw->rq_lanes);
  return buf;
}

int pb_hw_check(const pb_hw_t *hw, pb_error_t *err) {
  pb_error_t dummy;
  if (!err) err = &dummy;
  if (!hw) {
    snprintf(err->msg, sizeof err->msg, "hw: no hardware parameters");
    return -1;
  }
  hw_field_t f[4];
  int i = hw_bad_field(hw, f);
  if (i < 0) {
    char m[96];
    if (hw_bad_lanes(hw, m, sizeof m)) {
      snprintf(err->msg, sizeof err->msg, "hw.rq_lanes = %s", m);
      return -1;
    }
    err->msg[0] = '\0';
    return 0;
  }
  snprintf(err->msg, sizeof err->msg, "%s = %u out of range %u..%u", f[i].name, f[i].value, f[i].lo, f[i].hi);
  return -1;
}

/* ---- semantic rules, shared by the reader and pb_program_check() ---- */

/* A loaded range of host memory: the code (index -1) or a data block. */
typedef struct {
  uint64_t start, end;
  long idx;
} range_t;

static int cmp_range(const void *a, const void *b) {
  const range_t *x = a, *y = b;
  if (x->start != y->start) return x->start < y->start ? -1 : 1;
  return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* "section[3].host_addr at offset 0x7c" or "data[2].host_addr" / "code_addr". */
static void range_field(char *out, size_t n, const locator_t *L, long idx, int size_field) {
  where_buf_t w;
  if (L->in_file) {
    uint32_t sec = idx < 0 ? L->code_sec : L->data_sec[idx];
    uint64_t off = L->table_off + (uint64_t)sec * PB_PBIN_SECTION_BYTES + (size_field ? S_SIZE : S_HOST_ADDR);
    snprintf(out, n, "section[%u].%s%s", (unsigned)sec, size_field ? "size" : "host_addr", fmt_off(&w, off));
  } else if (idx < 0) {
    snprintf(out, n, "%s", size_field ? "code_len" : "code_addr");
  } else {
    snprintf(out, n, "data[%ld].%s", idx, size_field ? "size" : "host_addr");
  }
}

/* "section[0] (CODE)" or "code" / "data[1]": the other party of an overlap. */
static void range_owner(char *out, size_t n, const locator_t *L, long idx) {
  if (L->in_file)
    snprintf(out, n, "section[%u] (%s)", (unsigned)(idx < 0 ? L->code_sec : L->data_sec[idx]),
             idx < 0 ? "CODE" : "DATA");
  else if (idx < 0)
    snprintf(out, n, "the code");
  else
    snprintf(out, n, "data[%ld]", idx);
}

static int check_loaded_ranges(const pb_program_t *p, const locator_t *L, pb_error_t *err) {
  const uint64_t host = p->hw.host_bytes;
  char field[96], other[64];
  /* the instruction port fetches whole 16-byte words: code must be aligned */
  if (p->code_addr % PB_INSTR_BYTES != 0) {
    range_field(field, sizeof field, L, -1, 0);
    return fail(err, "%s: code address 0x%llx is not a multiple of %u", field, (unsigned long long)p->code_addr,
                PB_INSTR_BYTES);
  }
  /* each range inside host memory */
  for (long i = -1; i < (long)p->n_data; i++) {
    uint64_t start = i < 0 ? p->code_addr : p->data[i].host_addr;
    uint64_t size = i < 0 ? (uint64_t)p->code_len * PB_INSTR_BYTES : p->data[i].size;
    if (start + size > host) {
      range_field(field, sizeof field, L, i, start < host);
      return fail(err, "%s: %s 0x%llx..0x%llx runs past host memory (hw.host_bytes = 0x%llx)", field,
                  i < 0 ? "CODE" : "DATA", (unsigned long long)start, (unsigned long long)(start + size),
                  (unsigned long long)host);
    }
  }
  /* no two loaded ranges overlap: sort by start, sweep */
  size_t n = (size_t)p->n_data + 1;
  range_t *r = malloc(n * sizeof *r);
  if (!r) return fail(err, "out of memory checking %zu loaded ranges", n);
  for (long i = -1; i < (long)p->n_data; i++) {
    range_t *x = &r[i + 1];
    x->idx = i;
    x->start = i < 0 ? p->code_addr : p->data[i].host_addr;
    x->end = x->start + (i < 0 ? (uint64_t)p->code_len * PB_INSTR_BYTES : p->data[i].size);
  }
  qsort(r, n, sizeof *r, cmp_range);
  size_t owner = 0; /* range reaching furthest so far */
  for (size_t k = 1; k < n; k++) {
    if (r[k].start < r[owner].end) {
      range_t a = r[k], b = r[owner];
      free(r);
      range_field(field, sizeof field, L, a.idx, 0);
      range_owner(other, sizeof other, L, b.idx);
      return fail(err, "%s: %s 0x%llx..0x%llx overlaps %s at 0x%llx..0x%llx", field, a.idx < 0 ? "CODE" : "DATA",
                  (unsigned long long)a.start, (unsigned long long)a.end, other, (unsigned long long)b.start,
                  (unsigned long long)b.end);
    }
    if (r[k].end > r[owner].end) owner = k;
  }
  free(r);
  return 0;
}

/* Length of a NUL-terminated name in a 32-byte field, or -1 if not terminated. */
static int name_len(const char name[PB_NAME_MAX]) {
  const char *z = memchr(name, '\0', PB_NAME_MAX);
  return z ? (int)(z - name) : -1;
}

typedef struct {
  const char *name;
  uint32_t idx;
} name_ref_t;

static int cmp_name(const void *a, const void *b) {
  const name_ref_t *x = a, *y = b;
  int c = strcmp(x->name, y->name);
  if (c) return c;
  return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int check_tensor(const pb_program_t *p, uint32_t i, const locator_t *L, pb_error_t *err) {
  const pb_tensor_t *t = &p->tensors[i];
  const uint64_t rec = L->tensors_off + (uint64_t)i * PB_PBIN_TENSOR_BYTES;
  where_buf_t w;
  int nl = name_len(t->name);
  if (nl < 0) return fail(err, "tensors[%u].name%s: not NUL-terminated", i, at(&w, L, rec + T_NAME));
  if (nl == 0) return fail(err, "tensors[%u].name%s: empty name", i, at(&w, L, rec + T_NAME));
  if (t->kind != PB_TENSOR_INPUT && t->kind != PB_TENSOR_OUTPUT && t->kind != PB_TENSOR_INTERNAL)
    return fail(err, "tensors[%u].kind%s: got %u, expected 1 (input), 2 (output) or 3 (internal)", i,
                at(&w, L, rec + T_KIND), t->kind);
  if (pb_dtype_size(t->dtype) == 0)
    return fail(err, "tensors[%u].dtype%s: got %u, expected 1 (i8), 2 (u8), 3 (i32), 4 (f32) or 5 (i64)", i,
                at(&w, L, rec + T_DTYPE), t->dtype);
  if (t->rank < 1 || t->rank > PB_MAX_RANK)
    return fail(err, "tensors[%u].rank%s: got %u, expected 1..%u", i, at(&w, L, rec + T_RANK), t->rank,
                PB_MAX_RANK);
  if (t->flags & ~PB_TF_ALL)
    return fail(err,
                "tensors[%u].flags%s: got 0x%02x, unknown bits 0x%02x (only bit 0, FLOAT_IO, and bit 1, BATCH, are "
                "defined)",
                i, at(&w, L, rec + T_FLAGS), t->flags, t->flags & ~PB_TF_ALL);
  for (unsigned d = 0; d < PB_MAX_RANK; d++) {
    if (d < t->rank && t->dims[d] == 0)
      return fail(err, "tensors[%u].dims[%u]%s: 0, every dimension below rank %u must be >= 1", i, d,
                  at(&w, L, rec + T_DIMS + 4 * d), t->rank);
    if (d >= t->rank && t->dims[d] != 0)
      return fail(err, "tensors[%u].dims[%u]%s: got %u, expected 0 beyond rank %u", i, d,
                  at(&w, L, rec + T_DIMS + 4 * d), t->dims[d], t->rank);
    if (d >= t->rank && t->strides[d] != 0)
      return fail(err, "tensors[%u].strides[%u]%s: got %u, expected 0 beyond rank %u", i, d,
                  at(&w, L, rec + T_STRIDES + 4 * d), t->strides[d], t->rank);
  }
  if (!isfinite(t->scale) || !(t->scale > 0.0f))
    return fail(err, "tensors[%u].scale%s: got %g (bits 0x%08x), expected a finite value > 0", i,
                at(&w, L, rec + T_SCALE), (double)t->scale, (unsigned)f32_to_bits(t->scale));
  if (t->dtype == PB_DT_INT8 && (t->zero_point < -128 || t->zero_point > 127))
    return fail(err, "tensors[%u].zero_point%s: %d out of range -128..127 for i8", i, at(&w, L, rec + T_ZERO_POINT),
                (int)t->zero_point);
  if (t->dtype == PB_DT_UINT8 && (t->zero_point < 0 || t->zero_point > 255))
    return fail(err, "tensors[%u].zero_point%s: %d out of range 0..255 for u8", i, at(&w, L, rec + T_ZERO_POINT),
                (int)t->zero_point);
  uint64_t ext = pb_tensor_extent(t);
  if (ext > p->hw.host_bytes || t->host_addr > p->hw.host_bytes - ext) {
    if (ext == UINT64_MAX)
      return fail(err, "tensors[%u].strides%s: the extent overflows 64 bits (host memory is 0x%x bytes)", i,
                  at(&w, L, rec + T_STRIDES), p->hw.host_bytes);
    return fail(err, "tensors[%u].host_addr%s: tensor 0x%x..0x%llx (%llu bytes) runs past host memory (0x%x bytes)",
                i, at(&w, L, rec + T_HOST_ADDR), t->host_addr, (unsigned long long)(t->host_addr + ext),
                (unsigned long long)ext, p->hw.host_bytes);
  }
  return 0;
}

static int check_tensors(const pb_program_t *p, const locator_t *L, pb_error_t *err) {
  for (uint32_t i = 0; i < p->n_tensors; i++)
    if (check_tensor(p, i, L, err)) return -1;
  if (p->n_tensors < 2) return 0;
  name_ref_t *s = malloc((size_t)p->n_tensors * sizeof *s);
  if (!s) return fail(err, "out of memory checking %u tensor names", p->n_tensors);
  for (uint32_t i = 0; i < p->n_tensors; i++) s[i] = (name_ref_t){p->tensors[i].name, i};
  qsort(s, p->n_tensors, sizeof *s, cmp_name);
  /* report the duplicate that comes first in the file */
  uint32_t dup = UINT32_MAX, first = 0;
  for (uint32_t k = 1; k < p->n_tensors; k++) {
    if (strcmp(s[k - 1].name, s[k].name) == 0 && s[k].idx < dup) {
      /* s[k-1] may itself repeat an earlier name; walk back to the first of the run */
      uint32_t j = k - 1;
      while (j > 0 && strcmp(s[j - 1].name, s[k].name) == 0) j--;
      dup = s[k].idx;
      first = s[j].idx;
    }
  }
  free(s);
  if (dup == UINT32_MAX) return 0;
  where_buf_t w;
  return fail(err, "tensors[%u].name%s: duplicate name \"%s\" (also tensors[%u])", dup,
              at(&w, L, L->tensors_off + (uint64_t)dup * PB_PBIN_TENSOR_BYTES + T_NAME), p->tensors[dup].name,
              first);
}

static int check_regions(const pb_program_t *p, const locator_t *L, pb_error_t *err) {
  where_buf_t w;
  for (uint32_t i = 0; i < p->n_regions; i++) {
    const pb_region_t *r = &p->regions[i];
    const uint64_t rec = L->regions_off + (uint64_t)i * PB_PBIN_REGION_BYTES;
    int nl = name_len(r->name);
    if (nl < 0) return fail(err, "regions[%u].name%s: not NUL-terminated", i, at(&w, L, rec + R_NAME));
    if (nl == 0) return fail(err, "regions[%u].name%s: empty name", i, at(&w, L, rec + R_NAME));
    if (r->kind < PB_REG_CODE || r->kind > PB_REG_SCRATCH)
      return fail(err, "regions[%u].kind%s: got %u, expected 1..5 (code, const, io, act, scratch)", i,
                  at(&w, L, rec + R_KIND), r->kind);
    if ((uint64_t)r->addr + r->size > p->hw.host_bytes)
      return fail(err, "regions[%u].%s%s: region 0x%x..0x%llx runs past host memory (0x%x bytes)", i,
                  r->addr < p->hw.host_bytes ? "size" : "addr",
                  at(&w, L, rec + (r->addr < p->hw.host_bytes ? R_SIZE : R_ADDR)), r->addr,
                  (unsigned long long)r->addr + r->size, p->hw.host_bytes);
  }
  return 0;
}

const char *pb_host_op_name(unsigned op) {
  switch (op) {
#define PB_X(name, code, ni, no, text) \
  case code: return #name;
    PB_HOST_OPS(PB_X)
#undef PB_X
  default: return NULL;
  }
}

int pb_host_op_arity(unsigned op, unsigned *n_in, unsigned *n_out) {
  switch (op) {
#define PB_X(name, code, ni, no, text) \
  case code:                           \
    *n_in = ni;                        \
    *n_out = no;                       \
    return 0;
    PB_HOST_OPS(PB_X)
#undef PB_X
  default: return -1;
  }
}

static int check_steps(const pb_program_t *p, const locator_t *L, pb_error_t *err) {
  where_buf_t w;
  for (uint32_t i = 0; i < p->n_steps; i++) {
    const pb_step_t *s = &p->steps[i];
    const uint64_t rec = L->steps_off + (uint64_t)i * PB_PBIN_STEP_BYTES;
    if (s->kind == PB_STEP_ACCEL) {
      if (s->op || s->n_in || s->n_out)
        return fail(err, "steps[%u].op%s: an accelerator step has op, n_in and n_out 0 (got %u, %u, %u)", i,
                    at(&w, L, rec + P_OP), s->op, s->n_in, s->n_out);
      if (s->len == 0) return fail(err, "steps[%u].len%s: 0, an accelerator step runs at least one instruction", i,
                                   at(&w, L, rec + P_LEN));
      if ((uint64_t)s->pc + s->len > p->code_len)
        return fail(err, "steps[%u].len%s: instructions %u..%llu run past the code (%u instructions)", i,
                    at(&w, L, rec + (s->pc < p->code_len ? P_LEN : P_PC)), s->pc,
                    (unsigned long long)s->pc + s->len, p->code_len);
      for (unsigned k = 0; k < PB_STEP_MAX_IN; k++)
        if (s->in[k]) return fail(err, "steps[%u].in[%u]%s: got %u, expected 0 (unused)", i, k,
                                  at(&w, L, rec + P_IN + 2 * k), s->in[k]);
      for (unsigned k = 0; k < PB_STEP_MAX_OUT; k++)
        if (s->out[k]) return fail(err, "steps[%u].out[%u]%s: got %u, expected 0 (unused)", i, k,
                                   at(&w, L, rec + P_OUT + 2 * k), s->out[k]);
      for (unsigned k = 0; k < PB_STEP_PARAMS; k++)
        if (s->param[k]) return fail(err, "steps[%u].param[%u]%s: got %d, expected 0 (unused)", i, k,
                                     at(&w, L, rec + P_PARAM + 4 * k), (int)s->param[k]);
    } else if (s->kind == PB_STEP_HOST) {
      unsigned ni, no;
      if (pb_host_op_arity(s->op, &ni, &no))
        return fail(err, "steps[%u].op%s: unknown host operator %u", i, at(&w, L, rec + P_OP), s->op);
      if (s->n_in != ni || s->n_out != no)
        return fail(err, "steps[%u].n_in%s: %s takes %u inputs and %u outputs, got %u and %u", i,
                    at(&w, L, rec + P_N_IN), pb_host_op_name(s->op), ni, no, s->n_in, s->n_out);
      if (s->pc || s->len)
        return fail(err, "steps[%u].pc%s: a host step has pc and len 0 (got %u, %u)", i, at(&w, L, rec + P_PC), s->pc,
                    s->len);
      for (unsigned k = 0; k < PB_STEP_MAX_IN; k++) {
        if (k < ni && s->in[k] >= p->n_tensors)
          return fail(err, "steps[%u].in[%u]%s: tensor %u does not exist (%u tensors)", i, k,
                      at(&w, L, rec + P_IN + 2 * k), s->in[k], p->n_tensors);
        if (k >= ni && s->in[k])
          return fail(err, "steps[%u].in[%u]%s: got %u, expected 0 (unused)", i, k, at(&w, L, rec + P_IN + 2 * k),
                      s->in[k]);
      }
      for (unsigned k = 0; k < PB_STEP_MAX_OUT; k++) {
        if (k < no && s->out[k] >= p->n_tensors)
          return fail(err, "steps[%u].out[%u]%s: tensor %u does not exist (%u tensors)", i, k,
                      at(&w, L, rec + P_OUT + 2 * k), s->out[k], p->n_tensors);
        if (k < no && p->tensors[s->out[k]].kind == PB_TENSOR_INPUT)
          return fail(err, "steps[%u].out[%u]%s: tensor %u '%s' is an input; a host step may not write it", i, k,
                      at(&w, L, rec + P_OUT + 2 * k), s->out[k], p->tensors[s->out[k]].name);
        if (k >= no && s->out[k])
          return fail(err, "steps[%u].out[%u]%s: got %u, expected 0 (unused)", i, k, at(&w, L, rec + P_OUT + 2 * k),
                      s->out[k]);
      }
    } else {
      return fail(err, "steps[%u].kind%s: got %u, expected 1 (accelerator) or 2 (host)", i, at(&w, L, rec + P_KIND),
                  s->kind);
    }
  }
  return 0;
}

static int check_layers(const pb_program_t *p, const locator_t *L, pb_error_t *err) {
  where_buf_t w;
  for (uint32_t i = 0; i < p->n_layers; i++) {
    const pb_layer_t *l = &p->layers[i];
    const uint64_t rec = L->layers_off + (uint64_t)i * PB_PBIN_LAYER_BYTES;
    int nl = name_len(l->name);
    if (nl < 0) return fail(err, "layers[%u].name%s: not NUL-terminated", i, at(&w, L, rec + L_NAME));
    if (nl == 0) return fail(err, "layers[%u].name%s: empty name", i, at(&w, L, rec + L_NAME));
    const char *z = memchr(l->op, '\0', sizeof l->op);
    if (!z) return fail(err, "layers[%u].op%s: not NUL-terminated", i, at(&w, L, rec + L_OP));
    if (l->where != PB_WHERE_ACCEL && l->where != PB_WHERE_HOST)
      return fail(err, "layers[%u].where%s: got %u, expected 1 (accelerator) or 2 (host)", i,
                  at(&w, L, rec + L_WHERE), l->where);
    if (l->in_rank > PB_MAX_RANK || l->out_rank > PB_MAX_RANK)
      return fail(err, "layers[%u].%s%s: got %u, expected 0..%u", i, l->in_rank > PB_MAX_RANK ? "in_rank" : "out_rank",
                  at(&w, L, rec + (l->in_rank > PB_MAX_RANK ? L_IN_RANK : L_OUT_RANK)),
                  l->in_rank > PB_MAX_RANK ? l->in_rank : l->out_rank, PB_MAX_RANK);
    for (unsigned d = 0; d < PB_MAX_RANK; d++) {
      if (d >= l->in_rank && l->in_dims[d])
        return fail(err, "layers[%u].in_dims[%u]%s: got %u, expected 0 beyond rank %u", i, d,
                    at(&w, L, rec + L_IN_DIMS + 4 * d), l->in_dims[d], l->in_rank);
      if (d >= l->out_rank && l->out_dims[d])
        return fail(err, "layers[%u].out_dims[%u]%s: got %u, expected 0 beyond rank %u", i, d,
                    at(&w, L, rec + L_OUT_DIMS + 4 * d), l->out_dims[d], l->out_rank);
    }
    uint32_t nsteps = p->n_steps ? p->n_steps : 1;
    if (l->step >= nsteps)
      return fail(err, "layers[%u].step%s: %u, the program has %u step%s", i, at(&w, L, rec + L_STEP), l->step, nsteps,
                  nsteps == 1 ? "" : "s");
    if ((uint64_t)l->pc + l->len > p->code_len)
      return fail(err, "layers[%u].len%s: instructions %u..%llu run past the code (%u instructions)", i,
                  at(&w, L, rec + L_LEN), l->pc, (unsigned long long)l->pc + l->len, p->code_len);
  }
  return 0;
}

/* Every rule that does not depend on the file layout. hw must already be valid. */
static int check_semantics(const pb_program_t *p, const locator_t *L, pb_error_t *err) {
  if (check_loaded_ranges(p, L, err)) return -1;
  if (check_tensors(p, L, err)) return -1;
  if (check_regions(p, L, err)) return -1;
  if (check_steps(p, L, err)) return -1;
  return check_layers(p, L, err);
}

int pb_program_check(const pb_program_t *p, pb_error_t *err) {
  pb_error_t dummy;
  if (!err) err = &dummy;
  err->msg[0] = '\0';
  if (!p) return fail(err, "no program");
  hw_field_t f[4];
  int bad = hw_bad_field(&p->hw, f);
  if (bad >= 0)
    return fail(err, "%s = %u out of range %u..%u", f[bad].name, f[bad].value, f[bad].lo, f[bad].hi);
  char lm[96];
  if (hw_bad_lanes(&p->hw, lm, sizeof lm)) return fail(err, "hw.rq_lanes = %s", lm);
  if (p->code_len == 0) return fail(err, "code_len: 0, a program needs at least one instruction");
  if (!p->code) return fail(err, "code: NULL with code_len = %u", p->code_len);
  if (p->n_data && !p->data) return fail(err, "data: NULL with n_data = %u", p->n_data);
  for (uint32_t i = 0; i < p->n_data; i++) {
    if (p->data[i].size == 0) return fail(err, "data[%u].size: 0, a DATA block must not be empty", i);
    if (!p->data[i].bytes) return fail(err, "data[%u].bytes: NULL with size = %u", i, p->data[i].size);
  }
  if (p->n_tensors && !p->tensors) return fail(err, "tensors: NULL with n_tensors = %u", p->n_tensors);
  if (p->n_regions && !p->regions) return fail(err, "regions: NULL with n_regions = %u", p->n_regions);
  if (p->n_steps && !p->steps) return fail(err, "steps: NULL with n_steps = %u", p->n_steps);
  if (p->n_layers && !p->layers) return fail(err, "layers: NULL with n_layers = %u", p->n_layers);
  const locator_t L = {0};
  return check_semantics(p, &L, err);
}

/* ---- writer ---- */

/* Number of sections the writer emits: CODE, one DATA per block, TENSORS, MEMPLAN, STEPS, LAYERS if non-empty. */
static uint64_t section_count(const pb_program_t *p) {
  return 1u + (uint64_t)p->n_data + (p->n_tensors > 0) + (p->n_regions > 0) + (p->n_steps > 0) + (p->n_layers > 0);
}

/* NUL-padded name: only the characters up to the NUL are copied, the rest is 0. */
static void put_name(uint8_t *dst, const char *name) {
  size_t n = strlen(name); /* terminated: checked by pb_program_check */
  memcpy(dst, name, n);
  memset(dst + n, 0, PB_NAME_MAX - n);
}

int pb_program_write(const pb_program_t *p, uint8_t **buf, size_t *len, pb_error_t *err) {
  pb_error_t dummy;
  if (!err) err = &dummy;
  if (!buf || !len) return fail(err, "pb_program_write: no output buffer");
  *buf = NULL;
  *len = 0;
  if (pb_program_check(p, err)) return -1;

  const uint64_t nsec = section_count(p);
  const uint64_t code_bytes = (uint64_t)p->code_len * PB_INSTR_BYTES;
  const uint64_t tensor_bytes = (uint64_t)p->n_tensors * PB_PBIN_TENSOR_BYTES;
  const uint64_t region_bytes = (uint64_t)p->n_regions * PB_PBIN_REGION_BYTES;
  const uint64_t step_bytes = (uint64_t)p->n_steps * PB_PBIN_STEP_BYTES;
  const uint64_t layer_bytes = (uint64_t)p->n_layers * PB_PBIN_LAYER_BYTES;
  uint64_t size = align_up(PB_PBIN_HEADER_BYTES + nsec * PB_PBIN_SECTION_BYTES);
  size = align_up(size + code_bytes);
  for (uint32_t i = 0; i < p->n_data; i++) size = align_up(size + p->data[i].size);
  size = align_up(size + tensor_bytes);
  size = align_up(size + region_bytes);
  size = align_up(size + step_bytes);
  size = align_up(size + layer_bytes);
  if (size > PB_PBIN_MAX_FILE_BYTES)
    return fail(err, "program too large: %llu bytes, the limit is %u (1 GiB)", (unsigned long long)size,
                PB_PBIN_MAX_FILE_BYTES);

  uint8_t *b = calloc(1, (size_t)size);
  if (!b) return fail(err, "out of memory (%llu bytes for the file)", (unsigned long long)size);

  /* header */
  memcpy(b + H_MAGIC, PB_PBIN_MAGIC, 4);
  wr16(b + H_FORMAT_VERSION, PB_PBIN_VERSION);
  wr16(b + H_HEADER_SIZE, PB_PBIN_HEADER_BYTES);
  wr16(b + H_HW_N, p->hw.n);
  wr16(b + H_RQ_LANES, p->hw.rq_lanes);
  wr32(b + H_SP_ROWS, p->hw.sp_rows);
  wr32(b + H_ACC_ROWS, p->hw.acc_rows);
  wr32(b + H_HOST_BYTES, p->hw.host_bytes);
  wr32(b + H_ISA_VERSION, PB_ISA_VERSION);
  wr32(b + H_SECTION_COUNT, (uint32_t)nsec);
  wr32(b + H_SECTION_TABLE, PB_PBIN_HEADER_BYTES);
  wr32(b + H_FILE_SIZE, (uint32_t)size);

  /* sections: table entry + payload, payloads 16-byte aligned, in table order */
  uint8_t *e = b + PB_PBIN_HEADER_BYTES;
  uint64_t off = align_up(PB_PBIN_HEADER_BYTES + nsec * PB_PBIN_SECTION_BYTES);
#define ENTRY(type, sz, host)                        \
  do {                                               \
    wr16(e + S_TYPE, (type));                        \
    wr16(e + S_FLAGS, (type) == PB_SEC_LAYERS ? PB_SECF_OPTIONAL : 0); \
    wr32(e + S_OFFSET, (uint32_t)off);               \
    wr32(e + S_SIZE, (uint32_t)(sz));                \
    wr32(e + S_HOST_ADDR, (host));                   \
    e += PB_PBIN_SECTION_BYTES;                      \
  } while (0)

  ENTRY(PB_SEC_CODE, code_bytes, p->code_addr);
  memcpy(b + off, p->code, (size_t)code_bytes);
  off = align_up(off + code_bytes);
  for (uint32_t i = 0; i < p->n_data; i++) {
    ENTRY(PB_SEC_DATA, p->data[i].size, p->data[i].host_addr);
    memcpy(b + off, p->data[i].bytes, p->data[i].size);
    off = align_up(off + p->data[i].size);
  }
  if (p->n_tensors) {
    ENTRY(PB_SEC_TENSORS, tensor_bytes, 0);
    for (uint32_t i = 0; i < p->n_tensors; i++) {
      const pb_tensor_t *t = &p->tensors[i];
      uint8_t *r = b + off + (uint64_t)i * PB_PBIN_TENSOR_BYTES;
      put_name(r + T_NAME, t->name);
      r[T_KIND] = t->kind;
      r[T_DTYPE] = t->dtype;
      r[T_RANK] = t->rank;
      r[T_FLAGS] = t->flags;
      for (unsigned d = 0; d < PB_MAX_RANK; d++) {
        wr32(r + T_DIMS + 4 * d, t->dims[d]);
        wr32(r + T_STRIDES + 4 * d, t->strides[d]);
      }
      wr32(r + T_HOST_ADDR, t->host_addr);
      wr32(r + T_SCALE, f32_to_bits(t->scale));
      wr32(r + T_ZERO_POINT, (uint32_t)t->zero_point);
    }
    off = align_up(off + tensor_bytes);
  }
  if (p->n_regions) {
    ENTRY(PB_SEC_MEMPLAN, region_bytes, 0);
    for (uint32_t i = 0; i < p->n_regions; i++) {
      const pb_region_t *rg = &p->regions[i];
      uint8_t *r = b + off + (uint64_t)i * PB_PBIN_REGION_BYTES;
      put_name(r + R_NAME, rg->name);
      wr32(r + R_KIND, rg->kind);
      wr32(r + R_ADDR, rg->addr);
      wr32(r + R_SIZE, rg->size);
    }
    off = align_up(off + region_bytes);
  }
  if (p->n_steps) {
    ENTRY(PB_SEC_STEPS, step_bytes, 0);
    for (uint32_t i = 0; i < p->n_steps; i++) {
      const pb_step_t *st = &p->steps[i];
      uint8_t *r = b + off + (uint64_t)i * PB_PBIN_STEP_BYTES;
      r[P_KIND] = st->kind;
      r[P_OP] = st->op;
      r[P_N_IN] = st->n_in;
      r[P_N_OUT] = st->n_out;
      wr32(r + P_PC, st->pc);
      wr32(r + P_LEN, st->len);
      for (unsigned k = 0; k < PB_STEP_MAX_IN; k++) wr16(r + P_IN + 2 * k, st->in[k]);
      for (unsigned k = 0; k < PB_STEP_MAX_OUT; k++) wr16(r + P_OUT + 2 * k, st->out[k]);
      for (unsigned k = 0; k < PB_STEP_PARAMS; k++) wr32(r + P_PARAM + 4 * k, (uint32_t)st->param[k]);
    }
    off = align_up(off + step_bytes);
  }
  if (p->n_layers) {
    ENTRY(PB_SEC_LAYERS, layer_bytes, 0);
    for (uint32_t i = 0; i < p->n_layers; i++) {
      const pb_layer_t *l = &p->layers[i];
      uint8_t *r = b + off + (uint64_t)i * PB_PBIN_LAYER_BYTES;
      put_name(r + L_NAME, l->name);
      size_t ol = strlen(l->op); /* terminated: checked by pb_program_check */
      memcpy(r + L_OP, l->op, ol);
      r[L_WHERE] = l->where;
      r[L_IN_RANK] = l->in_rank;
      r[L_OUT_RANK] = l->out_rank;
      wr32(r + L_STEP, l->step);
      wr32(r + L_PC, l->pc);
      wr32(r + L_LEN, l->len);
      for (unsigned d = 0; d < PB_MAX_RANK; d++) {
        wr32(r + L_IN_DIMS + 4 * d, l->in_dims[d]);
        wr32(r + L_OUT_DIMS + 4 * d, l->out_dims[d]);
      }
      wr64(r + L_MACS, l->macs);
      wr64(r + L_CYCLES, l->cycles);
      wr64(r + L_ARRAY_ROWS, l->array_rows);
      wr32(r + L_WEIGHT_BYTES, l->weight_bytes);
      wr32(r + L_OUT_BYTES, l->out_bytes);
      wr32(r + L_SP_ROWS, l->sp_rows);
      wr32(r + L_ACC_ROWS, l->acc_rows);
    }
    off = align_up(off + layer_bytes);
  }
#undef ENTRY

  wr32(b + H_CRC32, pb_crc32(b, (size_t)size)); /* the field is still 0 */
  *buf = b;
  *len = (size_t)size;
  return 0;
}

/* ---- reader ---- */

typedef struct {
  uint16_t type, flags;
  uint32_t off, size, host;
  uint32_t idx;
} sec_t;

static int cmp_sec(const void *a, const void *b) {
  const sec_t *x = a, *y = b;
  if (x->off != y->off) return x->off < y->off ? -1 : 1;
  return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* A 32-byte NUL-padded name field: terminated, and zero after the terminator. */
static int read_name(const uint8_t *buf, uint64_t off, const char *what, uint32_t i, char out[PB_NAME_MAX],
                     pb_error_t *err) {
  where_buf_t w;
  const uint8_t *z = memchr(buf + off, 0, PB_NAME_MAX);
  if (!z) return fail(err, "%s[%u].name%s: not NUL-terminated", what, i, fmt_off(&w, off));
  for (size_t k = (size_t)(z - (buf + off)); k < PB_NAME_MAX; k++)
    if (buf[off + k])
      return fail(err, "%s[%u].name%s: byte %zu after the terminating NUL is 0x%02x, expected 0 (padding)", what, i,
                  fmt_off(&w, off + k), k, buf[off + k]);
  memcpy(out, buf + off, PB_NAME_MAX);
  return 0;
}

static int check_zero(const uint8_t *buf, uint64_t off, size_t n, const char *field, pb_error_t *err) {
  where_buf_t w;
  for (size_t k = 0; k < n; k++)
    if (buf[off + k]) return fail(err, "%s%s: byte %zu is 0x%02x, expected 0", field, fmt_off(&w, off + k), k, buf[off + k]);
  return 0;
}

/* Header: everything up to and including the section table bounds. */
static int read_header(const uint8_t *buf, size_t len, pb_program_t *p, pb_error_t *err) {
  where_buf_t w;
  if (len < PB_PBIN_HEADER_BYTES)
    return fail(err, "file truncated: %zu bytes, the header needs %u", len, PB_PBIN_HEADER_BYTES);
  if (memcmp(buf + H_MAGIC, PB_PBIN_MAGIC, 4) != 0) {
    char s[5];
    for (int k = 0; k < 4; k++) s[k] = (buf[k] >= 0x20 && buf[k] < 0x7f) ? (char)buf[k] : '.';
    s[4] = '\0';
    return fail(err, "header.magic at offset 0: got \"%s\" (%02x %02x %02x %02x), expected \"PBIN\" (not a .pbin file)",
                s, buf[0], buf[1], buf[2], buf[3]);
  }
  unsigned v = rd16(buf + H_FORMAT_VERSION);
  if (v != PB_PBIN_VERSION)
    return fail(err, "header.format_version%s: got %u, expected %u", fmt_off(&w, H_FORMAT_VERSION), v,
                PB_PBIN_VERSION);
  unsigned hs = rd16(buf + H_HEADER_SIZE);
  if (hs != PB_PBIN_HEADER_BYTES)
    return fail(err, "header.header_size%s: got %u, expected %u", fmt_off(&w, H_HEADER_SIZE), hs,
                PB_PBIN_HEADER_BYTES);
  uint32_t fs = rd32(buf + H_FILE_SIZE);
  if (fs > len)
    return fail(err, "file truncated: %zu bytes, header.file_size%s says %u", len, fmt_off(&w, H_FILE_SIZE), fs);
  if (fs < len)
    return fail(err, "header.file_size%s: says %u bytes, the file has %zu (trailing data)", fmt_off(&w, H_FILE_SIZE),
                fs, len);
  uint32_t stored = rd32(buf + H_CRC32), actual = file_crc(buf, len);
  if (stored != actual)
    return fail(err, "header.crc32%s: file says 0x%08x, contents give 0x%08x (corrupted file)", fmt_off(&w, H_CRC32),
                stored, actual);
  if (check_zero(buf, H_RESERVED, H_RESERVED_BYTES, "header.reserved", err)) return -1;

  p->hw.n = rd16(buf + H_HW_N);
  p->hw.sp_rows = rd32(buf + H_SP_ROWS);
  p->hw.acc_rows = rd32(buf + H_ACC_ROWS);
  p->hw.host_bytes = rd32(buf + H_HOST_BYTES);
  p->hw.rq_lanes = rd16(buf + H_RQ_LANES);
  hw_field_t f[4];
  int bad = hw_bad_field(&p->hw, f);
  if (bad >= 0)
    return fail(err, "header.%s%s: %u out of range %u..%u", f[bad].name, fmt_off(&w, f[bad].off), f[bad].value,
                f[bad].lo, f[bad].hi);
  char lm[96];
  if (hw_bad_lanes(&p->hw, lm, sizeof lm))
    return fail(err, "header.hw.rq_lanes%s: %s", fmt_off(&w, H_RQ_LANES), lm);
  uint32_t isa = rd32(buf + H_ISA_VERSION);
  if (isa != PB_ISA_VERSION)
    return fail(err, "header.isa_version%s: got %u, expected %u (the instruction encoding this reader implements)",
                fmt_off(&w, H_ISA_VERSION), isa, PB_ISA_VERSION);
  return 0;
}

/* Section table: every entry's own rules, then payloads pairwise disjoint. */
static int read_sections(const uint8_t *buf, size_t len, sec_t *s, uint32_t count, uint64_t toff,
                         uint32_t *code_sec, pb_error_t *err) {
  where_buf_t w;
  const uint64_t tend = toff + (uint64_t)count * PB_PBIN_SECTION_BYTES;
  long seen[7] = {-1, -1, -1, -1, -1, -1, -1}; /* first section of each known type */
  for (uint32_t i = 0; i < count; i++) {
    const uint64_t e = toff + (uint64_t)i * PB_PBIN_SECTION_BYTES;
    sec_t *x = &s[i];
    x->idx = i;
    x->type = rd16(buf + e + S_TYPE);
    x->flags = rd16(buf + e + S_FLAGS);
    x->off = rd32(buf + e + S_OFFSET);
    x->size = rd32(buf + e + S_SIZE);
    x->host = rd32(buf + e + S_HOST_ADDR);
    const uint64_t end = (uint64_t)x->off + x->size;
    if (x->flags & ~PB_SECF_OPTIONAL)
      return fail(err, "section[%u].flags%s: got 0x%04x, unknown bits 0x%04x (only bit 0, OPTIONAL, is defined)", i,
                  fmt_off(&w, e + S_FLAGS), x->flags, x->flags & ~PB_SECF_OPTIONAL);
    if (x->off > len)
      return fail(err, "section[%u].offset%s: 0x%x is past the end of the file (0x%zx bytes)", i,
                  fmt_off(&w, e + S_OFFSET), x->off, len);
    if (end > len)
      return fail(err, "section[%u].size%s: payload 0x%x..0x%llx runs past the end of the file (0x%zx bytes)", i,
                  fmt_off(&w, e + S_SIZE), x->off, (unsigned long long)end, len);
    if (x->off % PAYLOAD_ALIGN)
      return fail(err, "section[%u].offset%s: 0x%x is not a multiple of %u", i, fmt_off(&w, e + S_OFFSET), x->off,
                  PAYLOAD_ALIGN);
    if (x->size && x->off < PB_PBIN_HEADER_BYTES)
      return fail(err, "section[%u].offset%s: payload 0x%x..0x%llx overlaps the header (0x0..0x%x)", i,
                  fmt_off(&w, e + S_OFFSET), x->off, (unsigned long long)end, PB_PBIN_HEADER_BYTES);
    if (x->size && x->off < tend && end > toff)
      return fail(err, "section[%u].offset%s: payload 0x%x..0x%llx overlaps the section table (0x%llx..0x%llx)", i,
                  fmt_off(&w, e + S_OFFSET), x->off, (unsigned long long)end, (unsigned long long)toff,
                  (unsigned long long)tend);
    if (x->type < PB_SEC_CODE || x->type > PB_SEC_LAYERS) {
      if (!(x->flags & PB_SECF_OPTIONAL))
        return fail(err, "section[%u].type%s: unknown type %u and not marked OPTIONAL (flags bit 0)", i,
                    fmt_off(&w, e + S_TYPE), x->type);
      continue; /* skipped: its payload is only checked for bounds and overlap */
    }
    if (x->type != PB_SEC_DATA && seen[x->type] >= 0)
      return fail(err, "section[%u].type%s: a second %s section (the first is section[%ld])", i,
                  fmt_off(&w, e + S_TYPE), section_type_name(x->type), seen[x->type]);
    if (seen[x->type] < 0) seen[x->type] = i;
    const char *tn = section_type_name(x->type);
    unsigned unit = x->type == PB_SEC_CODE      ? PB_INSTR_BYTES
                    : x->type == PB_SEC_TENSORS ? PB_PBIN_TENSOR_BYTES
                    : x->type == PB_SEC_MEMPLAN ? PB_PBIN_REGION_BYTES
                    : x->type == PB_SEC_STEPS   ? PB_PBIN_STEP_BYTES
                    : x->type == PB_SEC_LAYERS  ? PB_PBIN_LAYER_BYTES
                                                : 1;
    if (x->size == 0)
      return fail(err, "section[%u].size%s: 0, a %s section must not be empty", i, fmt_off(&w, e + S_SIZE), tn);
    if (x->size % unit)
      return fail(err, "section[%u].size%s: 0x%x is not a multiple of the %s size (%u bytes)", i,
                  fmt_off(&w, e + S_SIZE), x->size,
                  x->type == PB_SEC_CODE      ? "instruction"
                  : x->type == PB_SEC_TENSORS ? "tensor record"
                  : x->type == PB_SEC_MEMPLAN ? "region record"
                  : x->type == PB_SEC_STEPS   ? "step record"
                                              : "layer record",
                  unit);
    if (x->type != PB_SEC_CODE && x->type != PB_SEC_DATA && x->host != 0)
      return fail(err, "section[%u].host_addr%s: got 0x%x, expected 0 (a %s section is not loaded)", i,
                  fmt_off(&w, e + S_HOST_ADDR), x->host, tn);
  }
  if (seen[PB_SEC_CODE] < 0)
    return fail(err, "section table%s: no CODE section among its %u entries", fmt_off(&w, toff), count);
  *code_sec = (uint32_t)seen[PB_SEC_CODE];

  /* payloads pairwise disjoint: sort by offset, sweep (empty payloads occupy nothing) */
  sec_t *o = malloc((size_t)count * sizeof *o);
  if (!o) return fail(err, "out of memory checking %u sections", count);
  uint32_t n = 0;
  for (uint32_t i = 0; i < count; i++)
    if (s[i].size) o[n++] = s[i];
  qsort(o, n, sizeof *o, cmp_sec);
  uint32_t owner = 0;
  for (uint32_t k = 1; k < n; k++) {
    if (o[k].off < (uint64_t)o[owner].off + o[owner].size) {
      sec_t a = o[k], b = o[owner];
      free(o);
      return fail(err, "section[%u].offset%s: payload 0x%x..0x%llx overlaps section[%u]'s payload 0x%x..0x%llx",
                  a.idx, fmt_off(&w, toff + (uint64_t)a.idx * PB_PBIN_SECTION_BYTES + S_OFFSET), a.off,
                  (unsigned long long)a.off + a.size, b.idx, b.off, (unsigned long long)b.off + b.size);
    }
    if ((uint64_t)o[k].off + o[k].size > (uint64_t)o[owner].off + o[owner].size) owner = k;
  }
  free(o);
  return 0;
}

static int read_tensors(const uint8_t *buf, const sec_t *x, pb_program_t *p, pb_error_t *err) {
  uint32_t n = x->size / PB_PBIN_TENSOR_BYTES;
  p->tensors = calloc(n, sizeof *p->tensors);
  if (!p->tensors) return fail(err, "out of memory (%u tensors)", n);
  p->n_tensors = n;
  for (uint32_t i = 0; i < n; i++) {
    const uint64_t rec = x->off + (uint64_t)i * PB_PBIN_TENSOR_BYTES;
    const uint8_t *r = buf + rec;
    pb_tensor_t *t = &p->tensors[i];
    if (read_name(buf, rec + T_NAME, "tensors", i, t->name, err)) return -1;
    t->kind = r[T_KIND];
    t->dtype = r[T_DTYPE];
    t->rank = r[T_RANK];
    t->flags = r[T_FLAGS];
    for (unsigned d = 0; d < PB_MAX_RANK; d++) {
      t->dims[d] = rd32(r + T_DIMS + 4 * d);
      t->strides[d] = rd32(r + T_STRIDES + 4 * d);
    }
    t->host_addr = rd32(r + T_HOST_ADDR);
    t->scale = bits_to_f32(rd32(r + T_SCALE));
    t->zero_point = (int32_t)rd32(r + T_ZERO_POINT);
    char field[48];
    snprintf(field, sizeof field, "tensors[%u].reserved", i);
    if (check_zero(buf, rec + T_RESERVED, T_RESERVED_BYTES, field, err)) return -1;
  }
  return 0;
}

static int read_regions(const uint8_t *buf, const sec_t *x, pb_program_t *p, pb_error_t *err) {
  uint32_t n = x->size / PB_PBIN_REGION_BYTES;
  p->regions = calloc(n, sizeof *p->regions);
  if (!p->regions) return fail(err, "out of memory (%u regions)", n);
  p->n_regions = n;
  for (uint32_t i = 0; i < n; i++) {
    const uint64_t rec = x->off + (uint64_t)i * PB_PBIN_REGION_BYTES;
    const uint8_t *r = buf + rec;
    pb_region_t *g = &p->regions[i];
    if (read_name(buf, rec + R_NAME, "regions", i, g->name, err)) return -1;
    g->kind = rd32(r + R_KIND);
    g->addr = rd32(r + R_ADDR);
    g->size = rd32(r + R_SIZE);
    char field[48];
    snprintf(field, sizeof field, "regions[%u].reserved", i);
    if (check_zero(buf, rec + R_RESERVED, 4, field, err)) return -1;
  }
  return 0;
}

static int read_steps(const uint8_t *buf, const sec_t *x, pb_program_t *p, pb_error_t *err) {
  uint32_t n = x->size / PB_PBIN_STEP_BYTES;
  p->steps = calloc(n, sizeof *p->steps);
  if (!p->steps) return fail(err, "out of memory (%u steps)", n);
  p->n_steps = n;
  for (uint32_t i = 0; i < n; i++) {
    const uint8_t *r = buf + x->off + (uint64_t)i * PB_PBIN_STEP_BYTES;
    pb_step_t *st = &p->steps[i];
    st->kind = r[P_KIND];
    st->op = r[P_OP];
    st->n_in = r[P_N_IN];
    st->n_out = r[P_N_OUT];
    st->pc = rd32(r + P_PC);
    st->len = rd32(r + P_LEN);
    for (unsigned k = 0; k < PB_STEP_MAX_IN; k++) st->in[k] = rd16(r + P_IN + 2 * k);
    for (unsigned k = 0; k < PB_STEP_MAX_OUT; k++) st->out[k] = rd16(r + P_OUT + 2 * k);
    for (unsigned k = 0; k < PB_STEP_PARAMS; k++) st->param[k] = (int32_t)rd32(r + P_PARAM + 4 * k);
  }
  return 0;
}

static int read_layers(const uint8_t *buf, const sec_t *x, pb_program_t *p, pb_error_t *err) {
  uint32_t n = x->size / PB_PBIN_LAYER_BYTES;
  p->layers = calloc(n, sizeof *p->layers);
  if (!p->layers) return fail(err, "out of memory (%u layers)", n);
  p->n_layers = n;
  for (uint32_t i = 0; i < n; i++) {
    const uint64_t rec = x->off + (uint64_t)i * PB_PBIN_LAYER_BYTES;
    const uint8_t *r = buf + rec;
    pb_layer_t *l = &p->layers[i];
    if (read_name(buf, rec + L_NAME, "layers", i, l->name, err)) return -1;
    where_buf_t w;
    const uint8_t *z = memchr(r + L_OP, 0, sizeof l->op);
    if (!z) return fail(err, "layers[%u].op%s: not NUL-terminated", i, fmt_off(&w, rec + L_OP));
    for (size_t k = (size_t)(z - (r + L_OP)); k < sizeof l->op; k++)
      if (r[L_OP + k])
        return fail(err, "layers[%u].op%s: byte %zu after the terminating NUL is 0x%02x, expected 0 (padding)", i,
                    fmt_off(&w, rec + L_OP + k), k, r[L_OP + k]);
    memcpy(l->op, r + L_OP, sizeof l->op);
    l->where = r[L_WHERE];
    l->in_rank = r[L_IN_RANK];
    l->out_rank = r[L_OUT_RANK];
    char field[48];
    snprintf(field, sizeof field, "layers[%u].reserved0", i);
    if (check_zero(buf, rec + L_RESERVED0, 1, field, err)) return -1;
    l->step = rd32(r + L_STEP);
    l->pc = rd32(r + L_PC);
    l->len = rd32(r + L_LEN);
    for (unsigned d = 0; d < PB_MAX_RANK; d++) {
      l->in_dims[d] = rd32(r + L_IN_DIMS + 4 * d);
      l->out_dims[d] = rd32(r + L_OUT_DIMS + 4 * d);
    }
    l->macs = rd64(r + L_MACS);
    l->cycles = rd64(r + L_CYCLES);
    l->array_rows = rd64(r + L_ARRAY_ROWS);
    l->weight_bytes = rd32(r + L_WEIGHT_BYTES);
    l->out_bytes = rd32(r + L_OUT_BYTES);
    l->sp_rows = rd32(r + L_SP_ROWS);
    l->acc_rows = rd32(r + L_ACC_ROWS);
    snprintf(field, sizeof field, "layers[%u].reserved", i);
    if (check_zero(buf, rec + L_RESERVED, L_RESERVED_BYTES, field, err)) return -1;
  }
  return 0;
}

static int read_program(const uint8_t *buf, size_t len, pb_program_t *p, pb_error_t *err) {
  where_buf_t w;
  if (len > PB_PBIN_MAX_FILE_BYTES)
    return fail(err, "file is %zu bytes, larger than the limit of %u (1 GiB)", len, PB_PBIN_MAX_FILE_BYTES);
  if (len && !buf) return fail(err, "pb_program_read: NULL buffer of %zu bytes", len);
  if (read_header(buf, len, p, err)) return -1;

  const uint32_t count = rd32(buf + H_SECTION_COUNT);
  const uint64_t toff = rd32(buf + H_SECTION_TABLE);
  const uint64_t tend = toff + (uint64_t)count * PB_PBIN_SECTION_BYTES;
  if (count == 0)
    return fail(err, "header.section_count%s: 0, a program needs at least a CODE section",
                fmt_off(&w, H_SECTION_COUNT));
  if (toff < PB_PBIN_HEADER_BYTES)
    return fail(err, "header.section_table_offset%s: 0x%llx overlaps the header (0x0..0x%x)",
                fmt_off(&w, H_SECTION_TABLE), (unsigned long long)toff, PB_PBIN_HEADER_BYTES);
  if (toff % PAYLOAD_ALIGN)
    return fail(err, "header.section_table_offset%s: 0x%llx is not a multiple of %u", fmt_off(&w, H_SECTION_TABLE),
                (unsigned long long)toff, PAYLOAD_ALIGN);
  if (toff > len)
    return fail(err, "header.section_table_offset%s: 0x%llx is past the end of the file (0x%zx bytes)",
                fmt_off(&w, H_SECTION_TABLE), (unsigned long long)toff, len);
  if (tend > len)
    return fail(err, "header.section_count%s: %u entries at 0x%llx..0x%llx run past the end of the file (0x%zx bytes)",
                fmt_off(&w, H_SECTION_COUNT), count, (unsigned long long)toff, (unsigned long long)tend, len);

  sec_t *s = malloc((size_t)count * sizeof *s);
  uint32_t *data_sec = NULL;
  int rc = -1;
  if (!s) return fail(err, "out of memory (%u sections)", count);
  uint32_t code_sec = 0;
  if (read_sections(buf, len, s, count, toff, &code_sec, err)) goto out;

  /* copy the payloads */
  uint32_t n_data = 0;
  for (uint32_t i = 0; i < count; i++) n_data += s[i].type == PB_SEC_DATA;
  if (n_data) {
    data_sec = malloc((size_t)n_data * sizeof *data_sec);
    p->data = calloc(n_data, sizeof *p->data);
    if (!data_sec || !p->data) {
      fail(err, "out of memory (%u DATA sections)", n_data);
      goto out;
    }
  }
  locator_t L = {1, toff, code_sec, data_sec, 0, 0, 0, 0};
  for (uint32_t i = 0; i < count; i++) {
    const sec_t *x = &s[i];
    switch (x->type) {
    case PB_SEC_CODE:
      p->code = malloc(x->size);
      if (!p->code) {
        fail(err, "out of memory (%u bytes of code)", x->size);
        goto out;
      }
      memcpy(p->code, buf + x->off, x->size);
      p->code_addr = x->host;
      p->code_len = x->size / PB_INSTR_BYTES;
      break;
    case PB_SEC_DATA: {
      pb_data_t *d = &p->data[p->n_data];
      d->bytes = malloc(x->size);
      if (!d->bytes) {
        fail(err, "out of memory (%u bytes of data)", x->size);
        goto out;
      }
      memcpy(d->bytes, buf + x->off, x->size);
      d->host_addr = x->host;
      d->size = x->size;
      data_sec[p->n_data++] = i;
      break;
    }
    case PB_SEC_TENSORS:
      L.tensors_off = x->off;
      if (read_tensors(buf, x, p, err)) goto out;
      break;
    case PB_SEC_MEMPLAN:
      L.regions_off = x->off;
      if (read_regions(buf, x, p, err)) goto out;
      break;
    case PB_SEC_STEPS:
      L.steps_off = x->off;
      if (read_steps(buf, x, p, err)) goto out;
      break;
    case PB_SEC_LAYERS:
      L.layers_off = x->off;
      if (read_layers(buf, x, p, err)) goto out;
      break;
    default: break; /* optional, unknown: skipped */
    }
  }
  rc = check_semantics(p, &L, err);
out:
  free(s);
  free(data_sec);
  return rc;
}

int pb_program_read(const uint8_t *buf, size_t len, pb_program_t *p, pb_error_t *err) {
  pb_error_t dummy;
  if (!err) err = &dummy;
  err->msg[0] = '\0';
  if (!p) return fail(err, "pb_program_read: no program to fill");
  memset(p, 0, sizeof *p);
  if (read_program(buf, len, p, err) == 0) return 0;
  pb_program_free(p);
  return -1;
}

/* ---- files ---- */

/* Put the path after "pbin: " so a reader message says which file it is about. */
static void prefix_path(pb_error_t *err, const char *path) {
  const char *tail = strncmp(err->msg, "pbin: ", 6) == 0 ? err->msg + 6 : err->msg;
  char tmp[sizeof err->msg];
  memcpy(tmp, tail, strlen(tail) + 1);
  int n = snprintf(err->msg, sizeof err->msg, "pbin: %s: ", path);
  if (n < 0 || (size_t)n >= sizeof err->msg - 1) return; /* path alone fills the message */
  size_t room = sizeof err->msg - 1 - (size_t)n, k = strlen(tmp);
  if (k > room) k = room;
  memcpy(err->msg + n, tmp, k);
  err->msg[(size_t)n + k] = '\0';
}

int pb_program_load(const char *path, pb_program_t *p, pb_error_t *err) {
  pb_error_t dummy;
  if (!err) err = &dummy;
  err->msg[0] = '\0';
  if (!p) return fail(err, "pb_program_load: no program to fill");
  memset(p, 0, sizeof *p);
  if (!path) return fail(err, "pb_program_load: no path");
  FILE *f = fopen(path, "rb");
  if (!f) return fail(err, "cannot open '%s': %s", path, strerror(errno));
  struct stat st;
  if (fstat(fileno(f), &st) != 0) {
    int e = errno;
    fclose(f);
    return fail(err, "cannot stat '%s': %s", path, strerror(e));
  }
  if (S_ISDIR(st.st_mode)) {
    fclose(f);
    return fail(err, "cannot read '%s': %s", path, strerror(EISDIR));
  }
  /* a regular file is read in one buffer of its size + 1 (to see EOF); a pipe grows by doubling */
  size_t len = 0, cap = 4096;
  if (S_ISREG(st.st_mode)) {
    if ((uint64_t)st.st_size > PB_PBIN_MAX_FILE_BYTES) {
      fclose(f);
      return fail(err, "'%s' is %llu bytes, larger than the limit of %u (1 GiB)", path,
                  (unsigned long long)st.st_size, PB_PBIN_MAX_FILE_BYTES);
    }
    cap = (size_t)st.st_size + 1;
  }
  uint8_t *buf = malloc(cap);
  if (!buf) {
    fclose(f);
    return fail(err, "out of memory reading '%s' (%zu bytes)", path, cap);
  }
  for (;;) {
    if (len == cap) { /* never hold more than the limit + 1 byte */
      if (cap > PB_PBIN_MAX_FILE_BYTES) {
        free(buf);
        fclose(f);
        return fail(err, "'%s' is larger than the limit of %u bytes (1 GiB)", path, PB_PBIN_MAX_FILE_BYTES);
      }
      size_t ncap = cap * 2 > (size_t)PB_PBIN_MAX_FILE_BYTES + 1 ? (size_t)PB_PBIN_MAX_FILE_BYTES + 1 : cap * 2;
      uint8_t *nb = realloc(buf, ncap);
      if (!nb) {
        free(buf);
        fclose(f);
        return fail(err, "out of memory reading '%s' (%zu bytes)", path, ncap);
      }
      buf = nb;
      cap = ncap;
    }
    size_t got = fread(buf + len, 1, cap - len, f);
    len += got;
    if (got == 0) break;
  }
  if (ferror(f)) {
    int e = errno;
    free(buf);
    fclose(f);
    return fail(err, "cannot read '%s': %s", path, strerror(e ? e : EIO));
  }
  fclose(f);
  int rc = pb_program_read(buf, len, p, err);
  free(buf);
  if (rc) prefix_path(err, path);
  return rc;
}

int pb_program_save(const pb_program_t *p, const char *path, pb_error_t *err) {
  pb_error_t dummy;
  if (!err) err = &dummy;
  if (!path) return fail(err, "pb_program_save: no path");
  uint8_t *buf;
  size_t len;
  if (pb_program_write(p, &buf, &len, err)) return -1;
  FILE *f = fopen(path, "wb");
  if (!f) {
    int e = errno;
    free(buf);
    return fail(err, "cannot create '%s': %s", path, strerror(e));
  }
  size_t put = fwrite(buf, 1, len, f);
  int e = put == len ? 0 : (errno ? errno : EIO);
  free(buf);
  if (fclose(f) != 0 && e == 0) e = errno ? errno : EIO;
  if (e) {
    remove(path); /* never leave half a program behind */
    return fail(err, "cannot write '%s': %s", path, strerror(e));
  }
  return 0;
}

/* ---- building and freeing ---- */

void pb_program_free(pb_program_t *p) {
  if (!p) return;
  free(p->code);
  for (uint32_t i = 0; i < p->n_data && p->data; i++) free(p->data[i].bytes);
  free(p->data);
  free(p->tensors);
  free(p->regions);
  free(p->steps);
  free(p->layers);
  memset(p, 0, sizeof *p);
}

int pb_program_add_data(pb_program_t *p, uint32_t host_addr, const void *bytes, uint32_t size) {
  if (!p || (size && !bytes) || p->n_data == UINT32_MAX) return -1;
  uint8_t *copy = malloc(size ? size : 1);
  if (!copy) return -1;
  if (size) memcpy(copy, bytes, size);
  pb_data_t *d = realloc(p->data, ((size_t)p->n_data + 1) * sizeof *d);
  if (!d) {
    free(copy);
    return -1;
  }
  p->data = d;
  d[p->n_data++] = (pb_data_t){host_addr, size, copy};
  return 0;
}

int pb_program_add_tensor(pb_program_t *p, const pb_tensor_t *t) {
  if (!p || !t || p->n_tensors == UINT32_MAX) return -1;
  pb_tensor_t *a = realloc(p->tensors, ((size_t)p->n_tensors + 1) * sizeof *a);
  if (!a) return -1;
  p->tensors = a;
  a[p->n_tensors++] = *t;
  return 0;
}

int pb_program_add_step(pb_program_t *p, const pb_step_t *s) {
  if (!p || !s || p->n_steps == UINT32_MAX) return -1;
  pb_step_t *a = realloc(p->steps, ((size_t)p->n_steps + 1) * sizeof *a);
  if (!a) return -1;
  p->steps = a;
  a[p->n_steps++] = *s;
  return 0;
}

int pb_program_add_layer(pb_program_t *p, const pb_layer_t *l) {
  if (!p || !l || p->n_layers == UINT32_MAX) return -1;
  pb_layer_t *a = realloc(p->layers, ((size_t)p->n_layers + 1) * sizeof *a);
  if (!a) return -1;
  p->layers = a;
  a[p->n_layers++] = *l;
  return 0;
}

int pb_program_add_region(pb_program_t *p, const pb_region_t *r) {
  if (!p || !r || p->n_regions == UINT32_MAX) return -1;
  pb_region_t *a = realloc(p->regions, ((size_t)p->n_regions + 1) * sizeof *a);
  if (!a) return -1;
  p->regions = a;
  a[p->n_regions++] = *r;
  return 0;
}
