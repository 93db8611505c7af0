/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of the program binary (.pbin) writer and validating reader.
 *
 * A hand-checkable program first (its exact file layout is asserted byte by
 * byte from docs/pbin.md, with offsets written here independently of
 * common/pbin.c), then a round trip, then one test per class of bad file
 * (each must be refused with a message naming the field and its offset),
 * then every truncation, every bit flip, and seeded random garbage.
 *
 * Usage: test_pbin [-v] [seed]     -v prints every rejection message.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "protobrain/isa.h"
#include "protobrain/pbin.h"

static int verbose;

/* ---- the layout, from docs/pbin.md ---- */
enum { H_VERSION = 4, H_HEADER_SIZE = 6, H_HW_N = 8, H_RES0 = 10, H_SP_ROWS = 12, H_ACC_ROWS = 16 };
enum { H_HOST_BYTES = 20, H_ISA = 24, H_COUNT = 28, H_TABLE = 32, H_FILE_SIZE = 36, H_CRC = 40, H_RES = 44 };
enum { S_TYPE = 0, S_FLAGS = 2, S_OFFSET = 4, S_SIZE = 8, S_HOST = 12 };
enum { T_NAME = 0, T_KIND = 32, T_DTYPE = 33, T_RANK = 34, T_FLAGS = 35, T_DIMS = 36, T_STRIDES = 52 };
enum { T_HOST = 68, T_SCALE = 72, T_ZP = 76, T_RES = 80 };
enum { R_NAME = 0, R_KIND = 32, R_ADDR = 36, R_SIZE = 40, R_RES = 44 };

/* The sample program's file: sections in writer order, offsets checked by test_layout(). */
enum { SEC_CODE = 0, SEC_DATA_A = 1, SEC_DATA_B = 2, SEC_TENSORS = 3, SEC_MEMPLAN = 4, NSEC = 5 };
enum { OFF_CODE = 0x90, OFF_DATA_A = 0xe0, OFF_DATA_B = 0x150, OFF_TENSORS = 0x180, OFF_MEMPLAN = 0x240 };
enum { FILE_BYTES = 0x330 };
#define ENTRY(i) (64u + 16u * (i)) /* section table entry i */
#define TREC(i) (OFF_TENSORS + 96u * (i))
#define RREC(i) (OFF_MEMPLAN + 48u * (i))

static uint32_t rd32(const uint8_t *b) {
  return (uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) | ((uint32_t)b[3] << 24);
}
static uint32_t rd16(const uint8_t *b) { return (uint32_t)b[0] | ((uint32_t)b[1] << 8); }

static void put(uint8_t *b, size_t off, unsigned width, uint32_t v) {
  for (unsigned k = 0; k < width; k++) b[off + k] = (uint8_t)(v >> (8 * k));
}

/* Recompute the CRC (over the file with the crc32 field read as 0). */
static void fix_crc(uint8_t *b, size_t len) {
  put(b, H_CRC, 4, 0);
  put(b, H_CRC, 4, pb_crc32(b, len));
}

/* Set one field and fix the CRC, so the check of that field is what fires. */
static void patch(uint8_t *b, size_t len, size_t off, unsigned width, uint32_t v) {
  put(b, off, width, v);
  fix_crc(b, len);
}

static void patch_bytes(uint8_t *b, size_t len, size_t off, const void *src, size_t n) {
  memcpy(b + off, src, n);
  fix_crc(b, len);
}

static uint8_t *dup_buf(const uint8_t *b, size_t len) {
  uint8_t *c = malloc(len ? len : 1);
  if (!c) abort();
  if (len) memcpy(c, b, len);
  return c;
}

static uint32_t f32_bits(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  return u;
}

/* ---- the sample program ---- */

static const pb_hw_t sample_hw = {16, 1024, 512, 0x10000, 0};

static void build_sample(pb_program_t *p) {
  memset(p, 0, sizeof *p);
  p->hw = sample_hw;
  p->code_addr = 0x100;
  p->code_len = 5; /* arbitrary words: the container does not decode code */
  p->code = malloc(5 * PB_INSTR_BYTES);
  if (!p->code) abort();
  for (unsigned i = 0; i < 5 * PB_INSTR_BYTES; i++) p->code[i] = (uint8_t)(i * 7 + 3);

  uint8_t a[100], b[37];
  for (unsigned i = 0; i < sizeof a; i++) a[i] = (uint8_t)(0xA0 ^ i);
  for (unsigned i = 0; i < sizeof b; i++) b[i] = (uint8_t)(0x5A + 3 * i);
  int rc = pb_program_add_data(p, 0x1000, a, sizeof a);
  rc |= pb_program_add_data(p, 0x2000, b, sizeof b);

  pb_tensor_t in = {.name = "input", .kind = PB_TENSOR_INPUT, .dtype = PB_DT_INT8, .rank = 2,
                    .flags = PB_TF_FLOAT_IO, .dims = {1, 784}, .strides = {784, 1}, .host_addr = 0x4000,
                    .scale = 0.0078125f, .zero_point = -1};
  pb_tensor_t out = {.name = "logits", .kind = PB_TENSOR_OUTPUT, .dtype = PB_DT_INT8, .rank = 2,
                     .flags = PB_TF_FLOAT_IO, .dims = {1, 10}, .strides = {16, 1}, .host_addr = 0x5000,
                     .scale = 0.25f, .zero_point = 3};
  rc |= pb_program_add_tensor(p, &in);
  rc |= pb_program_add_tensor(p, &out);

  const pb_region_t regs[] = {
      {"code", PB_REG_CODE, 0x100, 0x50},     {"const", PB_REG_CONST, 0x1000, 0x1025},
      {"io", PB_REG_IO, 0x4000, 0x1010},      {"act", PB_REG_ACT, 0x6000, 0x800},
      {"scratch", PB_REG_SCRATCH, 0x7000, 0},
  };
  for (unsigned i = 0; i < sizeof regs / sizeof regs[0]; i++) rc |= pb_program_add_region(p, &regs[i]);
  if (rc) abort();
}

/* The sample, serialized. */
static uint8_t *sample_file(size_t *len) {
  pb_program_t p;
  build_sample(&p);
  uint8_t *buf;
  pb_error_t err;
  if (pb_program_write(&p, &buf, len, &err)) {
    fprintf(stderr, "cannot write the sample: %s\n", err.msg);
    abort();
  }
  pb_program_free(&p);
  return buf;
}

static int program_is_zero(const pb_program_t *p) {
  pb_program_t z;
  memset(&z, 0, sizeof z);
  return memcmp(p, &z, sizeof z) == 0;
}

/* First difference between two programs, or NULL when equal. */
static const char *program_diff(const pb_program_t *a, const pb_program_t *b, char *why, size_t n) {
  if (memcmp(&a->hw, &b->hw, sizeof a->hw)) return "hw";
  if (a->code_addr != b->code_addr) return "code_addr";
  if (a->code_len != b->code_len) return "code_len";
  if (memcmp(a->code, b->code, (size_t)a->code_len * PB_INSTR_BYTES)) return "code bytes";
  if (a->n_data != b->n_data) return "n_data";
  for (uint32_t i = 0; i < a->n_data; i++) {
    snprintf(why, n, "data[%u]", i);
    if (a->data[i].host_addr != b->data[i].host_addr || a->data[i].size != b->data[i].size ||
        memcmp(a->data[i].bytes, b->data[i].bytes, a->data[i].size))
      return why;
  }
  if (a->n_tensors != b->n_tensors) return "n_tensors";
  for (uint32_t i = 0; i < a->n_tensors; i++) {
    const pb_tensor_t *x = &a->tensors[i], *y = &b->tensors[i];
    snprintf(why, n, "tensors[%u]", i);
    if (strcmp(x->name, y->name) || x->kind != y->kind || x->dtype != y->dtype || x->rank != y->rank ||
        x->flags != y->flags || memcmp(x->dims, y->dims, sizeof x->dims) ||
        memcmp(x->strides, y->strides, sizeof x->strides) || x->host_addr != y->host_addr ||
        f32_bits(x->scale) != f32_bits(y->scale) || x->zero_point != y->zero_point)
      return why;
  }
  if (a->n_regions != b->n_regions) return "n_regions";
  for (uint32_t i = 0; i < a->n_regions; i++) {
    const pb_region_t *x = &a->regions[i], *y = &b->regions[i];
    snprintf(why, n, "regions[%u]", i);
    if (strcmp(x->name, y->name) || x->kind != y->kind || x->addr != y->addr || x->size != y->size) return why;
  }
  return NULL;
}

/* pb_program_read must refuse the file, leave *p zeroed and name every wanted substring. */
static void expect_reject(const char *what, const uint8_t *buf, size_t len, const char *want1, const char *want2) {
  uint8_t *exact = dup_buf(buf, len); /* exactly len bytes, so ASan sees any over-read */
  pb_program_t p;
  pb_error_t err;
  memset(&p, 0xA5, sizeof p);
  int rc = pb_program_read(exact, len, &p, &err);
  int ok = rc == -1 && program_is_zero(&p) && strncmp(err.msg, "pbin: ", 6) == 0 && strstr(err.msg, want1) &&
           (!want2 || strstr(err.msg, want2));
  CHECK(ok, "%s: rc %d, message \"%s\"; expected -1, an empty program and \"%s\"%s%s%s", what, rc,
        rc ? err.msg : "", want1, want2 ? " and \"" : "", want2 ? want2 : "", want2 ? "\"" : "");
  if (rc == 0) pb_program_free(&p);
  if (verbose) printf("  %-34s %s\n", what, err.msg);
  free(exact);
}

/* Patch a 1/2/4-byte field of the sample (CRC fixed) and expect a rejection. */
static void reject_patched(const char *what, size_t off, unsigned width, uint32_t v, const char *want1,
                           const char *want2) {
  size_t len;
  uint8_t *b = sample_file(&len);
  patch(b, len, off, width, v);
  expect_reject(what, b, len, want1, want2);
  free(b);
}

static void reject_name(const char *what, size_t off, const char name[32], const char *want1, const char *want2) {
  size_t len;
  uint8_t *b = sample_file(&len);
  patch_bytes(b, len, off, name, 32);
  expect_reject(what, b, len, want1, want2);
  free(b);
}

/* ---- tests ---- */

static void test_helpers(void) {
  CHECK(pb_crc32((const uint8_t *)"123456789", 9) == 0xCBF43926u, "crc32 check value: got 0x%08x",
        (unsigned)pb_crc32((const uint8_t *)"123456789", 9));
  CHECK(pb_crc32((const uint8_t *)"", 0) == 0 && pb_crc32((const uint8_t *)"a", 1) == 0xE8B7BE43u,
        "crc32 of \"\" and \"a\"");

  CHECK(pb_dtype_size(PB_DT_INT8) == 1 && pb_dtype_size(PB_DT_UINT8) == 1 && pb_dtype_size(PB_DT_INT32) == 4 &&
            pb_dtype_size(PB_DT_FLOAT32) == 4 && pb_dtype_size(0) == 0 && pb_dtype_size(PB_DT_INT64) == 8 && pb_dtype_size(6) == 0,
        "pb_dtype_size");
  CHECK(!strcmp(pb_dtype_name(PB_DT_INT8), "i8") && !strcmp(pb_dtype_name(PB_DT_UINT8), "u8") &&
            !strcmp(pb_dtype_name(PB_DT_INT32), "i32") && !strcmp(pb_dtype_name(PB_DT_FLOAT32), "f32") &&
            pb_dtype_name(99) != NULL,
        "pb_dtype_name");

  /* 3x4 int8 rows of 16 bytes: last element at 2*16 + 3 = 35, so 36 bytes */
  pb_tensor_t t = {.name = "t", .kind = 1, .dtype = PB_DT_INT8, .rank = 2, .dims = {3, 4}, .strides = {16, 1}};
  CHECK_EQ_INT(pb_tensor_extent(&t), 36, "extent of 3x4 i8, row stride 16");
  CHECK_EQ_INT(pb_tensor_elems(&t), 12, "elems of 3x4");
  t.dtype = PB_DT_INT32;
  t.strides[0] = 16, t.strides[1] = 4;
  CHECK_EQ_INT(pb_tensor_extent(&t), 2 * 16 + 3 * 4 + 4, "extent of 3x4 i32");
  t.dims[1] = 0;
  CHECK(pb_tensor_extent(&t) == 0 && pb_tensor_elems(&t) == 0, "a zero dim spans nothing");
  t.dims[1] = 4;
  t.dtype = 9;
  CHECK_EQ_INT(pb_tensor_extent(&t), 0, "extent with an unknown dtype");
  t.dtype = PB_DT_INT8;
  t.rank = 0;
  CHECK(pb_tensor_extent(&t) == 0 && pb_tensor_elems(&t) == 0, "rank 0 spans nothing");
  t.rank = 9;
  CHECK(pb_tensor_extent(&t) == 0 && pb_tensor_elems(&t) == 0, "rank 9 spans nothing (no read past dims[3])");
  pb_tensor_t big = {.name = "big", .kind = 1, .dtype = PB_DT_INT32, .rank = 4};
  for (int d = 0; d < 4; d++) big.dims[d] = big.strides[d] = UINT32_MAX;
  CHECK(pb_tensor_extent(&big) == UINT64_MAX && pb_tensor_elems(&big) == UINT64_MAX,
        "extent and elems saturate instead of wrapping");
}

static void test_hw_check(void) {
  pb_error_t err;
  pb_hw_t hw = sample_hw;
  CHECK(pb_hw_check(&hw, &err) == 0, "sample hw accepted: %s", err.msg);
  hw.host_bytes = PB_HW_HOST_MAX;
  hw.n = 64;
  hw.sp_rows = hw.acc_rows = 65536;
  CHECK(pb_hw_check(&hw, &err) == 0, "largest hw accepted: %s", err.msg);
  hw = (pb_hw_t){1, 1, 1, 16, 0};
  CHECK(pb_hw_check(&hw, &err) == 0, "smallest hw accepted: %s", err.msg);
  struct {
    pb_hw_t hw;
    const char *msg;
  } bad[] = {
      {{0, 1024, 512, 0x10000, 0}, "hw.n = 0 out of range 1..64"},
      {{65, 1024, 512, 0x10000, 0}, "hw.n = 65 out of range 1..64"},
      {{16, 0, 512, 0x10000, 0}, "hw.sp_rows = 0 out of range 1..65536"},
      {{16, 1024, 65537, 0x10000, 0}, "hw.acc_rows = 65537 out of range 1..65536"},
      {{16, 1024, 512, 8, 0}, "hw.host_bytes = 8 out of range 16..2147483648"},
      {{16, 1024, 512, 0x80000001u, 0}, "hw.host_bytes = 2147483649 out of range 16..2147483648"},
      {{16, 1024, 512, 0x10000, 3}, "hw.rq_lanes = 3 is not 0 or a divisor of hw.n = 16"},
      {{16, 1024, 512, 0x10000, 32}, "hw.rq_lanes = 32 is not 0 or a divisor of hw.n = 16"},
  };
  for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    int rc = pb_hw_check(&bad[i].hw, &err);
    CHECK(rc == -1 && strcmp(err.msg, bad[i].msg) == 0, "pb_hw_check: got %d \"%s\", expected \"%s\"", rc, err.msg,
          bad[i].msg);
  }
}

/* The sample's file, byte by byte, as docs/pbin.md lays it out. */
static void test_layout(void) {
  size_t len;
  uint8_t *b = sample_file(&len);
  CHECK_EQ_INT(len, FILE_BYTES, "file size: 64 + 5*16 header and table, then 16-aligned payloads");
  CHECK(memcmp(b, "PBIN", 4) == 0, "magic");
  CHECK(rd16(b + H_VERSION) == PB_PBIN_VERSION && rd16(b + H_HEADER_SIZE) == 64, "format_version, header_size");
  CHECK(rd16(b + H_HW_N) == 16 && rd16(b + H_RES0) == 0 && rd32(b + H_SP_ROWS) == 1024 &&
            rd32(b + H_ACC_ROWS) == 512 && rd32(b + H_HOST_BYTES) == 0x10000,
        "hw fields");
  CHECK(rd32(b + H_ISA) == PB_ISA_VERSION && rd32(b + H_COUNT) == NSEC && rd32(b + H_TABLE) == 64 &&
            rd32(b + H_FILE_SIZE) == FILE_BYTES,
        "isa_version, section_count, section_table_offset, file_size");
  uint32_t crc = rd32(b + H_CRC);
  uint8_t *c = dup_buf(b, len);
  put(c, H_CRC, 4, 0);
  CHECK(crc == pb_crc32(c, len), "crc32 is the CRC of the file with the field as 0");
  free(c);
  int zero = 1;
  for (int k = H_RES; k < 64; k++) zero &= b[k] == 0;
  CHECK(zero, "header reserved bytes are 0");

  const struct {
    uint32_t type, off, size, host;
  } want[NSEC] = {
      {PB_SEC_CODE, OFF_CODE, 80, 0x100},      {PB_SEC_DATA, OFF_DATA_A, 100, 0x1000},
      {PB_SEC_DATA, OFF_DATA_B, 37, 0x2000},   {PB_SEC_TENSORS, OFF_TENSORS, 192, 0},
      {PB_SEC_MEMPLAN, OFF_MEMPLAN, 240, 0},
  };
  for (unsigned i = 0; i < NSEC; i++) {
    const uint8_t *e = b + ENTRY(i);
    CHECK(rd16(e + S_TYPE) == want[i].type && rd16(e + S_FLAGS) == 0 && rd32(e + S_OFFSET) == want[i].off &&
              rd32(e + S_SIZE) == want[i].size && rd32(e + S_HOST) == want[i].host,
          "section[%u]: type %u flags %u offset 0x%x size %u host 0x%x", i, rd16(e + S_TYPE), rd16(e + S_FLAGS),
          rd32(e + S_OFFSET), rd32(e + S_SIZE), rd32(e + S_HOST));
  }
  CHECK(b[OFF_CODE] == 3 && b[OFF_CODE + 79] == (uint8_t)(79 * 7 + 3), "code payload");
  zero = 1;
  for (unsigned k = OFF_DATA_A + 100; k < OFF_DATA_B; k++) zero &= b[k] == 0;
  CHECK(zero && b[OFF_DATA_A] == 0xA0, "DATA payload then zero padding to 16 bytes");

  const uint8_t *t = b + TREC(1);
  zero = 1;
  for (unsigned k = 6; k < 32; k++) zero &= t[T_NAME + k] == 0;
  for (unsigned k = 0; k < 16; k++) zero &= t[T_RES + k] == 0;
  CHECK(memcmp(t, "logits", 7) == 0 && zero, "tensors[1].name NUL-padded, reserved 0");
  CHECK(t[T_KIND] == PB_TENSOR_OUTPUT && t[T_DTYPE] == PB_DT_INT8 && t[T_RANK] == 2 && t[T_FLAGS] == PB_TF_FLOAT_IO,
        "tensors[1] kind, dtype, rank, flags");
  CHECK(rd32(t + T_DIMS) == 1 && rd32(t + T_DIMS + 4) == 10 && rd32(t + T_DIMS + 8) == 0 &&
            rd32(t + T_STRIDES) == 16 && rd32(t + T_STRIDES + 4) == 1 && rd32(t + T_STRIDES + 12) == 0,
        "tensors[1] dims and strides");
  CHECK(rd32(t + T_HOST) == 0x5000 && rd32(t + T_SCALE) == 0x3E800000u && rd32(t + T_ZP) == 3,
        "tensors[1] host_addr, scale bits (0.25f), zero_point");
  CHECK(rd32(b + TREC(0) + T_ZP) == 0xFFFFFFFFu, "zero_point -1 as two's complement");

  const uint8_t *r = b + RREC(1);
  CHECK(memcmp(r, "const", 6) == 0 && rd32(r + R_KIND) == PB_REG_CONST && rd32(r + R_ADDR) == 0x1000 &&
            rd32(r + R_SIZE) == 0x1025 && rd32(r + R_RES) == 0,
        "regions[1] record");
  free(b);
}

static void test_roundtrip(void) {
  pb_program_t p, q;
  build_sample(&p);
  uint8_t *b;
  size_t len;
  pb_error_t err;
  CHECK(pb_program_check(&p, &err) == 0, "sample passes pb_program_check: %s", err.msg);
  int rc = pb_program_write(&p, &b, &len, &err);
  CHECK(rc == 0, "write: %s", err.msg);
  if (rc) return;
  rc = pb_program_read(b, len, &q, &err);
  CHECK(rc == 0, "read back: %s", err.msg);
  if (rc == 0) {
    char why[64];
    const char *d = program_diff(&p, &q, why, sizeof why);
    CHECK(d == NULL, "round trip differs at %s", d ? d : "");
    uint8_t *b2;
    size_t len2;
    CHECK(pb_program_write(&q, &b2, &len2, &err) == 0 && len2 == len && memcmp(b, b2, len) == 0,
          "write(read(file)) is the same file");
    free(b2);
    pb_program_free(&q);
    CHECK(program_is_zero(&q), "pb_program_free leaves the program empty");
  }
  /* a NULL error pointer is allowed */
  CHECK(pb_program_read(b, len, &q, NULL) == 0, "read with err = NULL");
  pb_program_free(&q);
  free(b);

  /* garbage after the NUL of an in-memory name never reaches the file */
  memcpy(p.tensors[0].name, "input\0GARBAGE-GARBAGE", 21);
  rc = pb_program_write(&p, &b, &len, &err);
  int zero = rc == 0;
  for (unsigned k = 5; zero && k < 32; k++) zero &= b[TREC(0) + k] == 0;
  CHECK(zero, "names are written NUL-padded whatever follows the NUL in memory");
  if (rc == 0) free(b);

  /* the smallest program: one instruction, no data, tensors or regions */
  pb_program_t m = {.hw = {1, 1, 1, 16}, .code_addr = 0, .code_len = 1};
  uint8_t word[16] = {9};
  m.code = word;
  rc = pb_program_write(&m, &b, &len, &err);
  CHECK(rc == 0 && len == 96 && rd32(b + H_COUNT) == 1, "minimal program: 64 + 16 + 16 bytes (%s)", err.msg);
  if (rc == 0) {
    rc = pb_program_read(b, len, &q, &err);
    CHECK(rc == 0 && q.code_len == 1 && q.code[0] == 9 && q.n_data == 0 && q.n_tensors == 0 && q.n_regions == 0,
          "minimal program reads back: %s", err.msg);
    pb_program_free(&q);
    free(b);
  }
  pb_program_free(&p);
}

/* Every prefix of a valid file is refused as truncated. */
static void test_truncated(void) {
  size_t len;
  uint8_t *b = sample_file(&len);
  long first_bad = -1;
  char msg[sizeof(pb_error_t)] = "";
  for (size_t n = 0; n < len && first_bad < 0; n++) {
    uint8_t *t = dup_buf(b, n);
    pb_program_t p;
    pb_error_t err;
    int rc = pb_program_read(t, n, &p, &err);
    const char *want = n < 64 ? "the header needs 64" : "header.file_size at offset 36 says 816";
    if (rc != -1 || !strstr(err.msg, "file truncated") || !strstr(err.msg, want) || !program_is_zero(&p)) {
      first_bad = (long)n;
      snprintf(msg, sizeof msg, "%s", rc ? err.msg : "(accepted)");
    }
    if (rc == 0) pb_program_free(&p);
    free(t);
  }
  CHECK(first_bad < 0, "truncated to %ld bytes: \"%s\"", first_bad, msg);
  expect_reject("truncated header", b, 40, "file truncated: 40 bytes, the header needs 64", NULL);
  expect_reject("truncated file", b, 800, "file truncated: 800 bytes", "header.file_size at offset 36 says 816");
  free(b);
}

/* Every single-bit flip and every whole-byte flip is refused, and none crashes. */
static void test_flips(void) {
  size_t len;
  uint8_t *b = sample_file(&len);
  long bad_off = -1;
  unsigned bad_mask = 0, by_crc = 0, flips = 0;
  for (size_t off = 0; off < len && bad_off < 0; off++) {
    for (unsigned k = 0; k <= 8 && bad_off < 0; k++) {
      unsigned mask = k < 8 ? 1u << k : 0xFFu;
      b[off] ^= (uint8_t)mask;
      pb_program_t p;
      pb_error_t err;
      int rc = pb_program_read(b, len, &p, &err);
      flips++;
      if (rc != -1 || !program_is_zero(&p)) {
        bad_off = (long)off;
        bad_mask = mask;
      }
      by_crc += strstr(err.msg, "header.crc32") != NULL;
      if (rc == 0) pb_program_free(&p);
      b[off] ^= (uint8_t)mask;
    }
  }
  CHECK(bad_off < 0, "flipping byte %ld with 0x%02x was accepted", bad_off, bad_mask);
  CHECK(by_crc > flips * 9 / 10, "most flips (%u of %u) are reported as a CRC mismatch", by_crc, flips);
  if (verbose) printf("  %u flips rejected, %u of them by the CRC\n", flips, by_crc);
  free(b);
}

static void test_header(void) {
  size_t len;
  uint8_t *b = sample_file(&len);
  uint8_t *c = dup_buf(b, len);
  c[0] = 'X';
  expect_reject("wrong magic", c, len, "header.magic at offset 0", "expected \"PBIN\"");
  free(c);
  c = dup_buf(b, len);
  put(c, H_CRC, 4, 0x1234abcdu);
  expect_reject("wrong crc", c, len, "header.crc32 at offset 40: file says 0x1234abcd, contents give 0x",
                "(corrupted file)");
  free(c);
  /* trailing bytes: the file is longer than file_size says */
  c = calloc(1, len + 16);
  if (!c) abort();
  memcpy(c, b, len);
  expect_reject("trailing data", c, len + 16, "header.file_size at offset 36: says 816 bytes, the file has 832",
                "trailing data");
  free(c);
  free(b);

  reject_patched("format_version 7", H_VERSION, 2, 7, "header.format_version at offset 4: got 7, expected 1", NULL);
  reject_patched("format_version 0", H_VERSION, 2, 0, "header.format_version at offset 4: got 0", NULL);
  reject_patched("header_size 48", H_HEADER_SIZE, 2, 48, "header.header_size at offset 6: got 48, expected 64", NULL);
  reject_patched("file_size larger", H_FILE_SIZE, 4, FILE_BYTES + 16, "file truncated: 816 bytes",
                 "header.file_size at offset 36 says 832");
  reject_patched("file_size smaller", H_FILE_SIZE, 4, FILE_BYTES - 16, "header.file_size at offset 36: says 800",
                 NULL);
  reject_patched("hw.rq_lanes 3", H_RES0, 2, 3, "header.hw.rq_lanes at offset 10: 3 is not 0 or a divisor of hw.n = 16",
                 NULL);
  reject_patched("hw.rq_lanes 32", H_RES0, 2, 32, "header.hw.rq_lanes at offset 10: 32 is not 0 or a divisor", NULL);
  { /* hw.rq_lanes 4 (a divisor of n = 16) is read back, and written again as it was */
    size_t len4;
    uint8_t *b4 = sample_file(&len4);
    patch(b4, len4, H_RES0, 2, 4);
    pb_program_t p4;
    pb_error_t e4;
    int rc = pb_program_read(b4, len4, &p4, &e4);
    CHECK(rc == 0 && p4.hw.rq_lanes == 4, "hw.rq_lanes 4: rc %d (%s), rq_lanes %u", rc, rc ? e4.msg : "",
          rc ? 0 : p4.hw.rq_lanes);
    if (rc == 0) {
      uint8_t *w = NULL;
      size_t wl = 0;
      CHECK(pb_program_write(&p4, &w, &wl, &e4) == 0 && wl == len4 && !memcmp(w, b4, len4),
            "hw.rq_lanes 4: written back byte for byte");
      free(w);
      pb_program_free(&p4);
    }
    free(b4);
  }
  reject_patched("reserved byte 50", 50, 1, 0x80, "header.reserved at offset 50: byte 6 is 0x80, expected 0", NULL);
  reject_patched("isa_version 1", H_ISA, 4, 1, "header.isa_version at offset 24: got 1, expected 2", NULL);
  reject_patched("hw.n 0", H_HW_N, 2, 0, "header.hw.n at offset 8: 0 out of range 1..64", NULL);
  reject_patched("hw.n 65", H_HW_N, 2, 65, "header.hw.n at offset 8: 65 out of range 1..64", NULL);
  reject_patched("hw.sp_rows 0", H_SP_ROWS, 4, 0, "header.hw.sp_rows at offset 12: 0 out of range 1..65536", NULL);
  reject_patched("hw.acc_rows 65537", H_ACC_ROWS, 4, 65537, "header.hw.acc_rows at offset 16: 65537 out of range",
                 NULL);
  reject_patched("hw.host_bytes 8", H_HOST_BYTES, 4, 8, "header.hw.host_bytes at offset 20: 8 out of range 16..",
                 NULL);
  reject_patched("section_count 0", H_COUNT, 4, 0, "header.section_count at offset 28: 0", NULL);
  reject_patched("section_count 1000", H_COUNT, 4, 1000, "header.section_count at offset 28: 1000 entries",
                 "run past the end of the file (0x330 bytes)");
  reject_patched("section_count 2^32-1", H_COUNT, 4, UINT32_MAX, "header.section_count at offset 28", NULL);
  reject_patched("table inside header", H_TABLE, 4, 32, "header.section_table_offset at offset 32: 0x20 overlaps",
                 NULL);
  reject_patched("table past the end", H_TABLE, 4, 0x1000, "header.section_table_offset at offset 32: 0x1000",
                 "past the end");
  reject_patched("table misaligned", H_TABLE, 4, 0x44, "header.section_table_offset at offset 32",
                 "not a multiple of 16");
}

static void test_sections(void) {
  reject_patched("section offset beyond file", ENTRY(1) + S_OFFSET, 4, 0x1000,
                 "section[1].offset at offset 0x54: 0x1000 is past the end of the file (0x330 bytes)", NULL);
  reject_patched("section size beyond file", ENTRY(4) + S_SIZE, 4, 0x1000,
                 "section[4].size at offset 0x88: payload 0x240..0x1240 runs past the end of the file (0x330 bytes)",
                 NULL);
  reject_patched("section size 2^32-1", ENTRY(4) + S_SIZE, 4, UINT32_MAX, "section[4].size at offset 0x88",
                 "runs past the end");
  reject_patched("section offset misaligned", ENTRY(1) + S_OFFSET, 4, OFF_DATA_A + 4,
                 "section[1].offset at offset 0x54: 0xe4 is not a multiple of 16", NULL);
  reject_patched("section overlapping header", ENTRY(1) + S_OFFSET, 4, 0x20,
                 "section[1].offset at offset 0x54: payload 0x20..0x84 overlaps the header", NULL);
  reject_patched("section overlapping table", ENTRY(1) + S_OFFSET, 4, 0x80,
                 "section[1].offset at offset 0x54", "overlaps the section table (0x40..0x90)");
  reject_patched("sections overlapping", ENTRY(2) + S_OFFSET, 4, OFF_DATA_A + 16,
                 "section[2].offset at offset 0x64: payload 0xf0..0x115 overlaps section[1]'s payload 0xe0..0x144",
                 NULL);
  reject_patched("section flags bit 1", ENTRY(1) + S_FLAGS, 2, 2, "section[1].flags at offset 0x52", "unknown bits");
  reject_patched("code not a multiple of 16", ENTRY(0) + S_SIZE, 4, 72,
                 "section[0].size at offset 0x48: 0x48 is not a multiple of the instruction size (16 bytes)", NULL);
  reject_patched("empty code", ENTRY(0) + S_SIZE, 4, 0, "section[0].size at offset 0x48: 0", "must not be empty");
  reject_patched("empty data", ENTRY(2) + S_SIZE, 4, 0, "section[2].size at offset 0x68: 0", "must not be empty");
  reject_patched("tensors not a multiple of 96", ENTRY(3) + S_SIZE, 4, 100, "section[3].size at offset 0x78",
                 "tensor record size (96 bytes)");
  reject_patched("memplan not a multiple of 48", ENTRY(4) + S_SIZE, 4, 200, "section[4].size at offset 0x88",
                 "region record size (48 bytes)");
  reject_patched("no CODE section", ENTRY(0) + S_TYPE, 2, PB_SEC_DATA,
                 "section table at offset 0x40: no CODE section among its 5 entries", NULL);
  reject_patched("two CODE sections", ENTRY(1) + S_TYPE, 2, PB_SEC_CODE,
                 "section[1].type at offset 0x50: a second CODE section (the first is section[0])", NULL);
  reject_patched("two TENSORS sections", ENTRY(4) + S_TYPE, 2, PB_SEC_TENSORS,
                 "section[4].type at offset 0x80: a second TENSORS section", NULL);
  reject_patched("TENSORS with a host_addr", ENTRY(3) + S_HOST, 4, 0x100, "section[3].host_addr at offset 0x7c",
                 "expected 0");
  reject_patched("unknown type, not optional", ENTRY(4) + S_TYPE, 2, 0x77,
                 "section[4].type at offset 0x80: unknown type 119 and not marked OPTIONAL", NULL);
  reject_patched("type 0", ENTRY(4) + S_TYPE, 2, 0, "section[4].type at offset 0x80: unknown type 0", NULL);

  /* an unknown section marked OPTIONAL is skipped; the rest of the program is intact */
  size_t len;
  uint8_t *b = sample_file(&len);
  put(b, ENTRY(4) + S_TYPE, 2, 0x77);
  patch(b, len, ENTRY(4) + S_FLAGS, 2, PB_SECF_OPTIONAL);
  pb_program_t p, s;
  pb_error_t err;
  int rc = pb_program_read(b, len, &p, &err);
  build_sample(&s);
  CHECK(rc == 0 && p.n_regions == 0 && p.n_tensors == 2 && p.n_data == 2 && p.code_len == 5 &&
            memcmp(p.code, s.code, 80) == 0,
        "unknown OPTIONAL section skipped: rc %d \"%s\"", rc, err.msg);
  pb_program_free(&p);
  pb_program_free(&s);
  /* OPTIONAL on a known type changes nothing */
  patch(b, len, ENTRY(4) + S_TYPE, 2, PB_SEC_MEMPLAN);
  rc = pb_program_read(b, len, &p, &err);
  CHECK(rc == 0 && p.n_regions == 5, "known type with the OPTIONAL flag is read: \"%s\"", err.msg);
  pb_program_free(&p);
  free(b);
}

static void test_loaded_ranges(void) {
  reject_patched("DATA overlapping DATA", ENTRY(2) + S_HOST, 4, 0x1010,
                 "section[2].host_addr at offset 0x6c: DATA 0x1010..0x1035 overlaps section[1] (DATA) at 0x1000..0x1064",
                 NULL);
  reject_patched("DATA overlapping CODE", ENTRY(1) + S_HOST, 4, 0x140, "section[1].host_addr at offset 0x5c",
                 "overlaps section[0] (CODE) at 0x100..0x150");
  /* of two overlapping ranges, the one that starts later is named */
  reject_patched("CODE overlapping DATA", ENTRY(0) + S_HOST, 4, 0x1fc0, "section[2].host_addr at offset 0x6c",
                 "DATA 0x2000..0x2025 overlaps section[0] (CODE) at 0x1fc0..0x2010");
  reject_patched("DATA past host memory", ENTRY(2) + S_HOST, 4, 0xfff0,
                 "section[2].size at offset 0x68: DATA 0xfff0..0x10015 runs past host memory", NULL);
  reject_patched("DATA beyond host memory", ENTRY(2) + S_HOST, 4, 0x20000, "section[2].host_addr at offset 0x6c",
                 "runs past host memory (hw.host_bytes = 0x10000)");
  reject_patched("DATA at 2^32-16 (no 32-bit wrap)", ENTRY(2) + S_HOST, 4, 0xFFFFFFF0u,
                 "section[2].host_addr at offset 0x6c: DATA 0xfffffff0..0x100000015", NULL);
  reject_patched("CODE past host memory", ENTRY(0) + S_HOST, 4, 0xffc0, "section[0].size at offset 0x48",
                 "CODE 0xffc0..0x10010 runs past host memory");
}

static void test_tensors(void) {
  reject_patched("tensor dtype 9", TREC(1) + T_DTYPE, 1, 9, "tensors[1].dtype at offset 0x201: got 9", NULL);
  reject_patched("tensor dtype 0", TREC(0) + T_DTYPE, 1, 0, "tensors[0].dtype at offset 0x1a1: got 0", NULL);
  reject_patched("tensor kind 4", TREC(0) + T_KIND, 1, 4, "tensors[0].kind at offset 0x1a0: got 4", NULL);
  reject_patched("tensor rank 0", TREC(0) + T_RANK, 1, 0, "tensors[0].rank at offset 0x1a2: got 0, expected 1..4",
                 NULL);
  reject_patched("tensor rank 5", TREC(1) + T_RANK, 1, 5, "tensors[1].rank at offset 0x202: got 5", NULL);
  reject_patched("tensor flags 0x80", TREC(0) + T_FLAGS, 1, 0x80, "tensors[0].flags at offset 0x1a3", "unknown bits");
  reject_patched("tensor dim 0 below rank", TREC(0) + T_DIMS + 4, 4, 0, "tensors[0].dims[1] at offset 0x1a8: 0",
                 NULL);
  reject_patched("tensor dim beyond rank", TREC(0) + T_DIMS + 8, 4, 3,
                 "tensors[0].dims[2] at offset 0x1ac: got 3, expected 0 beyond rank 2", NULL);
  reject_patched("tensor stride beyond rank", TREC(1) + T_STRIDES + 12, 4, 1, "tensors[1].strides[3] at offset 0x220",
                 "expected 0 beyond rank 2");
  reject_patched("tensor extent beyond host", TREC(1) + T_HOST, 4, 0xfffc,
                 "tensors[1].host_addr at offset 0x224: tensor 0xfffc..0x10006 (10 bytes)", "runs past host memory (0x10000 bytes)");
  reject_patched("tensor dims too large", TREC(0) + T_DIMS, 4, 100, "tensors[0].host_addr at offset 0x1c4",
                 "runs past host memory");
  reject_patched("tensor scale +inf", TREC(0) + T_SCALE, 4, 0x7F800000u, "tensors[0].scale at offset 0x1c8",
                 "expected a finite value > 0");
  reject_patched("tensor scale NaN", TREC(0) + T_SCALE, 4, 0x7FC00000u, "tensors[0].scale at offset 0x1c8",
                 "bits 0x7fc00000");
  reject_patched("tensor scale 0", TREC(1) + T_SCALE, 4, 0, "tensors[1].scale at offset 0x228", NULL);
  reject_patched("tensor scale -0.5", TREC(1) + T_SCALE, 4, f32_bits(-0.5f), "tensors[1].scale at offset 0x228",
                 NULL);
  reject_patched("tensor zero_point 200 for i8", TREC(0) + T_ZP, 4, 200, "tensors[0].zero_point at offset 0x1cc",
                 "out of range -128..127");
  reject_patched("tensor reserved byte", TREC(1) + T_RES + 3, 1, 1,
                 "tensors[1].reserved at offset 0x233: byte 3 is 0x01, expected 0", NULL);

  /* extent overflowing 64 bits: rank 4, every dim and stride 2^32-1 */
  size_t len;
  uint8_t *b = sample_file(&len);
  put(b, TREC(0) + T_RANK, 1, 4);
  for (unsigned d = 0; d < 4; d++) {
    put(b, TREC(0) + T_DIMS + 4 * d, 4, UINT32_MAX);
    put(b, TREC(0) + T_STRIDES + 4 * d, 4, UINT32_MAX);
  }
  fix_crc(b, len);
  expect_reject("tensor extent overflowing 64 bits", b, len, "tensors[0].strides at offset 0x1b4",
                "overflows 64 bits");
  free(b);

  char name[32];
  memset(name, 0, sizeof name);
  strcpy(name, "input");
  reject_name("duplicate tensor name", TREC(1) + T_NAME, name,
              "tensors[1].name at offset 0x1e0: duplicate name \"input\" (also tensors[0])", NULL);
  memset(name, 'A', sizeof name);
  reject_name("tensor name not NUL-terminated", TREC(1) + T_NAME, name,
              "tensors[1].name at offset 0x1e0: not NUL-terminated", NULL);
  memset(name, 0, sizeof name);
  reject_name("empty tensor name", TREC(0) + T_NAME, name, "tensors[0].name at offset 0x180: empty name", NULL);
  memcpy(name, "input\0X", 7);
  reject_name("tensor name padding", TREC(0) + T_NAME, name,
              "tensors[0].name at offset 0x186: byte 6 after the terminating NUL is 0x58", NULL);
}

static void test_regions(void) {
  reject_patched("region kind 9", RREC(2) + R_KIND, 4, 9, "regions[2].kind at offset 0x2c0: got 9", NULL);
  reject_patched("region kind 0", RREC(0) + R_KIND, 4, 0, "regions[0].kind at offset 0x260: got 0", NULL);
  reject_patched("region past host memory", RREC(3) + R_SIZE, 4, 0xB000, "regions[3].size at offset 0x2f8",
                 "region 0x6000..0x11000 runs past host memory");
  reject_patched("region beyond host memory", RREC(3) + R_ADDR, 4, 0x80000000u, "regions[3].addr at offset 0x2f4",
                 NULL);
  reject_patched("region reserved", RREC(0) + R_RES, 4, 7, "regions[0].reserved at offset 0x26c", NULL);
  char name[32];
  memset(name, 'r', sizeof name);
  reject_name("region name not NUL-terminated", RREC(1) + R_NAME, name,
              "regions[1].name at offset 0x270: not NUL-terminated", NULL);
  memset(name, 0, sizeof name);
  reject_name("empty region name", RREC(1) + R_NAME, name, "regions[1].name at offset 0x270: empty name", NULL);
}

/* pb_program_check: the same rules on an in-memory program, with no offsets. */
static void expect_check_fails(const char *what, const pb_program_t *p, const char *want) {
  pb_error_t err;
  uint8_t *buf = (uint8_t *)&err; /* anything non-NULL: write must reset it */
  size_t len = 123;
  int rc = pb_program_check(p, &err);
  CHECK(rc == -1 && strncmp(err.msg, "pbin: ", 6) == 0 && strstr(err.msg, want) && !strstr(err.msg, "offset"),
        "%s: pb_program_check rc %d \"%s\", expected \"%s\" and no offset", what, rc, err.msg, want);
  if (verbose) printf("  %-34s %s\n", what, err.msg);
  rc = pb_program_write(p, &buf, &len, &err);
  CHECK(rc == -1 && buf == NULL && len == 0 && strstr(err.msg, want), "%s: pb_program_write refuses it", what);
}

static void test_program_check(void) {
  pb_program_t p;
  build_sample(&p);
  p.hw.n = 0;
  expect_check_fails("in-memory hw.n 0", &p, "pbin: hw.n = 0 out of range 1..64");
  p.hw = sample_hw;
  p.code_len = 0;
  expect_check_fails("in-memory code_len 0", &p, "code_len: 0");
  p.code_len = 5;
  p.code_addr = 0xfff0;
  expect_check_fails("in-memory code past host", &p, "code_len: CODE 0xfff0..0x10040 runs past host memory");
  p.code_addr = 0x1040;
  expect_check_fails("in-memory code over data", &p, "code_addr: CODE 0x1040..0x1090 overlaps data[0] at 0x1000..0x1064");
  p.code_addr = 0x100;
  uint8_t x[16] = {0};
  if (pb_program_add_data(&p, 0x1060, x, sizeof x)) abort();
  expect_check_fails("in-memory data overlap", &p, "data[2].host_addr: DATA 0x1060..0x1070 overlaps data[0]");
  p.data[2].host_addr = 0x3000;
  CHECK(pb_program_check(&p, NULL) == 0, "a third data block at 0x3000 is fine");
  p.data[2].size = 0;
  expect_check_fails("in-memory empty data", &p, "data[2].size: 0");
  p.data[2].size = 16;
  memset(p.tensors[1].name, 'x', 32);
  expect_check_fails("in-memory name not terminated", &p, "tensors[1].name: not NUL-terminated");
  strcpy(p.tensors[1].name, "input");
  expect_check_fails("in-memory duplicate name", &p, "tensors[1].name: duplicate name \"input\"");
  strcpy(p.tensors[1].name, "logits");
  p.tensors[1].scale = NAN;
  expect_check_fails("in-memory NaN scale", &p, "tensors[1].scale: got nan");
  p.tensors[1].scale = 0.25f;
  p.tensors[1].dtype = PB_DT_UINT8;
  p.tensors[1].zero_point = -1;
  expect_check_fails("in-memory u8 zero point", &p, "tensors[1].zero_point: -1 out of range 0..255 for u8");
  p.tensors[1].zero_point = 255;
  p.regions[4].kind = 6;
  expect_check_fails("in-memory region kind", &p, "regions[4].kind: got 6");
  p.regions[4].kind = PB_REG_SCRATCH;
  CHECK(pb_program_check(&p, NULL) == 0, "program valid again after the fixes");
  pb_program_free(&p);
  CHECK(pb_program_check(NULL, NULL) == -1, "pb_program_check(NULL) fails");
}

static void test_files(void) {
  char path[64], big[64];
  snprintf(path, sizeof path, "/tmp/test_pbin_%ld.pbin", (long)getpid());
  snprintf(big, sizeof big, "/tmp/test_pbin_big_%ld.pbin", (long)getpid());
  pb_program_t p, q;
  pb_error_t err;
  build_sample(&p);
  int rc = pb_program_save(&p, path, &err);
  CHECK(rc == 0, "save: %s", err.msg);
  rc = pb_program_load(path, &q, &err);
  CHECK(rc == 0, "load: %s", err.msg);
  if (rc == 0) {
    char why[64];
    const char *d = program_diff(&p, &q, why, sizeof why);
    CHECK(d == NULL, "save/load round trip differs at %s", d ? d : "");
    pb_program_free(&q);
  }
  /* corrupt one byte on disk: the message names the file and the CRC */
  FILE *f = fopen(path, "r+b");
  if (f) {
    fseek(f, 300, SEEK_SET);
    fputc(0x42, f);
    fclose(f);
  }
  rc = pb_program_load(path, &q, &err);
  CHECK(rc == -1 && strstr(err.msg, path) && strstr(err.msg, "header.crc32 at offset 40") && program_is_zero(&q),
        "corrupted file: \"%s\"", err.msg);
  remove(path);

  rc = pb_program_load("/nonexistent/x.pbin", &q, &err);
  CHECK(rc == -1 && !strcmp(err.msg, "pbin: cannot open '/nonexistent/x.pbin': No such file or directory"),
        "missing file: \"%s\"", err.msg);
  rc = pb_program_load("/tmp", &q, &err);
  CHECK(rc == -1 && strstr(err.msg, "'/tmp'") && strstr(err.msg, "Is a directory"), "directory: \"%s\"", err.msg);
  rc = pb_program_save(&p, "/nonexistent/x.pbin", &err);
  CHECK(rc == -1 && strstr(err.msg, "cannot create '/nonexistent/x.pbin': No such file or directory"),
        "save to a missing directory: \"%s\"", err.msg);

  /* larger than 1 GiB: refused from its size, without reading (a sparse file costs no disk) */
  f = fopen(big, "wb");
  int made = f && ftruncate(fileno(f), (off_t)PB_PBIN_MAX_FILE_BYTES + 1) == 0;
  if (f) fclose(f);
  if (made) {
    rc = pb_program_load(big, &q, &err);
    CHECK(rc == -1 && strstr(err.msg, "larger than the limit"), "file over 1 GiB: \"%s\"", err.msg);
  } else {
    printf("# note: cannot make a sparse 1 GiB file in /tmp; size limit test skipped\n");
  }
  remove(big);
  pb_program_free(&p);

  /* the empty file */
  f = fopen(path, "wb");
  if (f) fclose(f);
  rc = pb_program_load(path, &q, &err);
  CHECK(rc == -1 && strstr(err.msg, "file truncated: 0 bytes"), "empty file: \"%s\"", err.msg);
  remove(path);
}

/* ---- random garbage ---- */

static uint64_t rng_state;
static uint64_t rnd(void) { /* xorshift64* */
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 0x2545F4914F6CDD1DULL;
}

static void test_garbage(uint64_t seed) {
  printf("# test_pbin: random seed %llu (rerun: test_pbin %llu)\n", (unsigned long long)seed,
         (unsigned long long)seed);
  rng_state = seed ? seed : 1;
  size_t vlen;
  uint8_t *valid = sample_file(&vlen);
  /* mode 0: random bytes; 1: a valid file's prefix, then random bytes (both must be refused);
   * 2: a valid file with random bytes changed and the CRC fixed; 3: the same with the length
   * changed and file_size fixed (these reach the deep checks: accepted or refused, never a crash) */
  long bad[4] = {-1, -1, -1, -1};
  unsigned accepted[4] = {0};
  char msg[4][sizeof(pb_error_t)];
  for (int i = 0; i < 1000; i++) {
    int mode = i % 4;
    size_t len = mode == 2 ? vlen : (size_t)(rnd() % 2048);
    uint8_t *b = malloc(len ? len : 1);
    if (!b) abort();
    for (size_t k = 0; k < len; k++) b[k] = (uint8_t)rnd();
    if (mode == 1) {
      size_t keep = (size_t)(rnd() % (vlen + 1));
      memcpy(b, valid, keep < len ? keep : len);
    }
    if (mode >= 2) {
      memcpy(b, valid, vlen < len ? vlen : len);
      for (int m = 0, nm = 1 + (int)(rnd() % 4); m < nm && len > 64; m++) {
        size_t off = 4 + (size_t)(rnd() % (len - 4)); /* keep the magic; file_size and crc are fixed below */
        b[off] = (uint8_t)rnd();
      }
      if (len >= 64) {
        put(b, H_FILE_SIZE, 4, (uint32_t)len);
        fix_crc(b, len);
      }
    }
    pb_program_t p;
    pb_error_t err;
    int rc = pb_program_read(b, len, &p, &err);
    int ok;
    if (rc == 0) {
      accepted[mode]++;
      ok = mode >= 2 && pb_program_check(&p, NULL) == 0; /* anything accepted is a valid program */
      pb_program_free(&p);
    } else {
      ok = rc == -1 && program_is_zero(&p) && strncmp(err.msg, "pbin: ", 6) == 0;
    }
    if (!ok && bad[mode] < 0) {
      bad[mode] = i;
      snprintf(msg[mode], sizeof msg[mode], "%s", rc ? err.msg : "(accepted)");
    }
    free(b);
  }
  static const char *const what[4] = {"random bytes", "valid prefix + random bytes", "mutated, CRC fixed",
                                      "resized, file_size and CRC fixed"};
  for (int m = 0; m < 4; m++)
    CHECK(bad[m] < 0, "garbage (%s) buffer %ld: \"%s\"", what[m], bad[m], bad[m] < 0 ? "" : msg[m]);
  if (verbose)
    printf("  garbage accepted (valid programs): mutated %u of 250, resized %u of 250\n", accepted[2], accepted[3]);
  free(valid);
}

/*
 * Structured mutation: 1..8 random fields of the section table, the records
 * or the header rewritten with boundary values, file_size and CRC fixed, so
 * that every check behind the CRC is reached. Accepted files must be valid
 * programs that write back to a file the reader accepts again.
 */
static uint8_t *steps_file(size_t *len);

static void test_mutations(int n, int with_steps) {
  static const uint32_t vals[] = {0,          1,          2,          4,          15,         16,         17,
                                  48,         64,         96,         0x7f,       0x80,       0xff,       0x100,
                                  0x330,      0x340,      0xfff0,     0x10000,    0x7fffffff, 0x80000000u, 0xfffffff0u,
                                  0xffffffffu};
  size_t len;
  uint8_t *valid = with_steps ? steps_file(&len) : sample_file(&len);
  long bad = -1;
  unsigned acc = 0;
  char msg[sizeof(pb_error_t) + 64] = "";
  for (int i = 0; i < n && bad < 0; i++) {
    uint8_t *b = dup_buf(valid, len);
    for (int m = 0, nm = 1 + (int)(rnd() % 8); m < nm; m++) {
      size_t off = 4 + (size_t)(rnd() % (len - 4));
      unsigned width = (unsigned[]){1, 2, 4}[rnd() % 3];
      off &= ~(size_t)(width - 1);
      if (off + width > len || off < 4) continue;
      put(b, off, width, vals[rnd() % (sizeof vals / sizeof vals[0])]);
    }
    put(b, H_FILE_SIZE, 4, (uint32_t)len);
    fix_crc(b, len);
    pb_program_t p;
    pb_error_t err;
    int rc = pb_program_read(b, len, &p, &err);
    if (rc == 0) {
      acc++;
      uint8_t *w;
      size_t wlen;
      pb_program_t q;
      int ok = pb_program_write(&p, &w, &wlen, &err) == 0;
      if (ok) {
        ok = pb_program_read(w, wlen, &q, &err) == 0;
        if (ok) pb_program_free(&q);
        free(w);
      }
      if (!ok) {
        bad = i;
        snprintf(msg, sizeof msg, "accepted, but rewriting it fails: %s", err.msg);
      }
      pb_program_free(&p);
    } else if (rc != -1 || !program_is_zero(&p) || strncmp(err.msg, "pbin: ", 6) != 0) {
      bad = i;
      snprintf(msg, sizeof msg, "%s", err.msg);
    }
    free(b);
  }
  CHECK(bad < 0, "structured mutation %ld%s: %s", bad, with_steps ? " (steps sample)" : "", msg);
  if (verbose) printf("  %d structured mutations%s, %u accepted as valid programs\n", n, with_steps ? " of the steps sample" : "", acc);
  free(valid);
}

/* ---- STEPS and LAYERS (sections 5 and 6) ---- */

/* The sample plus an internal tensor, three steps (accelerator, host MAXPOOL, accelerator) and two layers. */
static void build_steps_sample(pb_program_t *p) {
  build_sample(p);
  pb_tensor_t mid = {.name = "pooled", .kind = PB_TENSOR_INTERNAL, .dtype = PB_DT_INT8, .rank = 4,
                     .dims = {1, 1, 14, 14}, .strides = {196, 196, 14, 1}, .host_addr = 0x6000, .scale = 1.0f};
  pb_tensor_t idx = {.name = "idx", .kind = PB_TENSOR_OUTPUT, .dtype = PB_DT_INT64, .rank = 2, .flags = PB_TF_BATCH,
                     .dims = {1, 1}, .strides = {8, 8}, .host_addr = 0x6800, .scale = 1.0f};
  int rc = pb_program_add_tensor(p, &mid) | pb_program_add_tensor(p, &idx);
  pb_step_t a = {.kind = PB_STEP_ACCEL, .pc = 0, .len = 2};
  pb_step_t h = {.kind = PB_STEP_HOST, .op = PB_HOP_MAXPOOL, .n_in = 1, .n_out = 1, .in = {0}, .out = {2},
                 .param = {2, 2, 2, 2, 0, 0, 0, 0}};
  pb_step_t b = {.kind = PB_STEP_ACCEL, .pc = 2, .len = 3};
  rc |= pb_program_add_step(p, &a) | pb_program_add_step(p, &h) | pb_program_add_step(p, &b);
  pb_layer_t l0 = {.name = "conv1", .op = "Conv+MaxPool", .where = PB_WHERE_ACCEL, .in_rank = 4, .out_rank = 4,
                   .step = 0, .pc = 0, .len = 2, .in_dims = {1, 1, 28, 28}, .out_dims = {1, 16, 14, 14},
                   .macs = 112896, .cycles = 0x123456789ull, .array_rows = 784, .weight_bytes = 384,
                   .out_bytes = 4096, .sp_rows = 900, .acc_rows = 400};
  pb_layer_t l1 = {.name = "pool", .op = "MaxPool", .where = PB_WHERE_HOST, .in_rank = 4, .out_rank = 4, .step = 1,
                   .in_dims = {1, 1, 28, 28}, .out_dims = {1, 1, 14, 14}};
  rc |= pb_program_add_layer(p, &l0) | pb_program_add_layer(p, &l1);
  if (rc) abort();
}

static uint8_t *steps_file(size_t *len) {
  pb_program_t p;
  build_steps_sample(&p);
  uint8_t *buf;
  pb_error_t err;
  if (pb_program_write(&p, &buf, len, &err)) {
    fprintf(stderr, "cannot write the steps sample: %s\n", err.msg);
    abort();
  }
  pb_program_free(&p);
  return buf;
}

/* Offset of the payload of the first section of `type` in a written file (0 if none). */
static uint32_t section_payload(const uint8_t *b, unsigned type, uint32_t *flags) {
  uint32_t n = rd32(b + H_COUNT), t = rd32(b + H_TABLE);
  for (uint32_t i = 0; i < n; i++)
    if (rd16(b + t + 16 * i + S_TYPE) == type) {
      if (flags) *flags = rd16(b + t + 16 * i + S_FLAGS);
      return rd32(b + t + 16 * i + S_OFFSET);
    }
  return 0;
}

static void reject_steps_patch(const char *what, unsigned type, size_t rec_off, unsigned width, uint32_t v,
                               const char *want) {
  size_t len;
  uint8_t *b = steps_file(&len);
  uint32_t off = section_payload(b, type, NULL);
  patch(b, len, off + rec_off, width, v);
  expect_reject(what, b, len, want, NULL);
  free(b);
}

static void test_steps_layers(void) {
  pb_program_t p, q;
  build_steps_sample(&p);
  uint8_t *buf;
  size_t len;
  pb_error_t err;
  CHECK(pb_program_write(&p, &buf, &len, &err) == 0, "write with steps: %s", err.msg);
  CHECK(pb_program_read(buf, len, &q, &err) == 0, "read with steps: %s", err.msg);
  char why[64];
  const char *d = program_diff(&p, &q, why, sizeof why);
  CHECK(!d, "steps round trip: %s differs", d ? d : "");
  int same = q.n_steps == p.n_steps && q.n_layers == p.n_layers;
  for (uint32_t i = 0; same && i < p.n_steps; i++) same = !memcmp(&p.steps[i], &q.steps[i], sizeof p.steps[i]);
  for (uint32_t i = 0; same && i < p.n_layers; i++) {
    const pb_layer_t *x = &p.layers[i], *y = &q.layers[i];
    same = !strcmp(x->name, y->name) && !strcmp(x->op, y->op) && x->where == y->where && x->in_rank == y->in_rank &&
           x->out_rank == y->out_rank && x->step == y->step && x->pc == y->pc && x->len == y->len &&
           !memcmp(x->in_dims, y->in_dims, sizeof x->in_dims) && !memcmp(x->out_dims, y->out_dims, sizeof x->out_dims) &&
           x->macs == y->macs && x->cycles == y->cycles && x->array_rows == y->array_rows &&
           x->weight_bytes == y->weight_bytes && x->out_bytes == y->out_bytes && x->sp_rows == y->sp_rows &&
           x->acc_rows == y->acc_rows;
  }
  CHECK(same, "steps and layers round trip");
  uint32_t fl_steps = 9, fl_layers = 9;
  uint32_t so = section_payload(buf, PB_SEC_STEPS, &fl_steps), lo = section_payload(buf, PB_SEC_LAYERS, &fl_layers);
  CHECK(so && lo && fl_steps == 0 && fl_layers == PB_SECF_OPTIONAL, "STEPS required, LAYERS optional (flags %u, %u)",
        fl_steps, fl_layers);
  /* byte layout of the host step: kind 2, op 4, n_in 1, n_out 1, pc 0, len 0, in[0] 0, out[0] 2, param[0] 2 */
  const uint8_t *h = buf + so + 64;
  CHECK(h[0] == 2 && h[1] == 4 && h[2] == 1 && h[3] == 1 && rd32(h + 4) == 0 && rd32(h + 8) == 0 &&
            rd16(h + 12) == 0 && rd16(h + 20) == 2 && rd32(h + 24) == 2,
        "step record layout");
  CHECK(rd32(buf + lo + 104) == 0x23456789u && rd32(buf + lo + 108) == 1 && !strcmp((const char *)buf + lo + 32,
                                                                                       "Conv+MaxPool"),
        "layer record layout (cycles u64 at +104, op at +32)");
  /* a reader that skips LAYERS: drop the OPTIONAL section's type to an unknown optional one, still readable */
  {
    uint8_t *c = dup_buf(buf, len);
    uint32_t n = rd32(c + H_COUNT), t = rd32(c + H_TABLE);
    for (uint32_t i = 0; i < n; i++)
      if (rd16(c + t + 16 * i) == PB_SEC_LAYERS) put(c, t + 16 * i, 2, 99);
    fix_crc(c, len);
    pb_program_t r;
    CHECK(pb_program_read(c, len, &r, &err) == 0 && r.n_layers == 0 && r.n_steps == 3,
          "an unknown OPTIONAL section in LAYERS' place is skipped");
    pb_program_free(&r);
    free(c);
  }
  free(buf);
  pb_program_free(&q);
  pb_program_free(&p);

  reject_steps_patch("step kind 3", PB_SEC_STEPS, 0, 1, 3, "steps[0].kind at offset");
  reject_steps_patch("accelerator step len 0", PB_SEC_STEPS, 8, 4, 0, "steps[0].len");
  reject_steps_patch("accelerator step past the code", PB_SEC_STEPS, 8, 4, 9, "run past the code (5 instructions)");
  reject_steps_patch("accelerator step with an op", PB_SEC_STEPS, 1, 1, 4, "steps[0].op");
  reject_steps_patch("unknown host op", PB_SEC_STEPS, 64 + 1, 1, 77, "unknown host operator 77");
  reject_steps_patch("host arity", PB_SEC_STEPS, 64 + 2, 1, 2, "MAXPOOL takes 1 inputs and 1 outputs, got 2 and 1");
  reject_steps_patch("host input index", PB_SEC_STEPS, 64 + 12, 2, 9, "steps[1].in[0]");
  reject_steps_patch("host unused slot", PB_SEC_STEPS, 64 + 14, 2, 1, "steps[1].in[1]");
  reject_steps_patch("host writes an input", PB_SEC_STEPS, 64 + 20, 2, 0, "is an input; a host step may not write it");
  reject_steps_patch("host step with a pc", PB_SEC_STEPS, 64 + 4, 4, 1, "steps[1].pc");
  reject_steps_patch("layer where 3", PB_SEC_LAYERS, 48, 1, 3, "layers[0].where");
  reject_steps_patch("layer in_rank 5", PB_SEC_LAYERS, 49, 1, 5, "layers[0].in_rank");
  reject_steps_patch("layer step 7", PB_SEC_LAYERS, 52, 4, 7, "layers[0].step");
  reject_steps_patch("layer past the code", PB_SEC_LAYERS, 60, 4, 99, "layers[0].len");
  reject_steps_patch("layer reserved", PB_SEC_LAYERS, 140, 1, 1, "layers[0].reserved");
  reject_steps_patch("layer op not terminated", PB_SEC_LAYERS, 44, 4, 0x41414141u, "layers[0].op");
  reject_steps_patch("layer dims beyond rank", PB_SEC_LAYERS, 49, 1, 3, "layers[0].in_dims[3]");
  reject_steps_patch("internal tensor kind 4", PB_SEC_TENSORS, 2 * 96 + 32, 1, 4, "tensors[2].kind");
  reject_steps_patch("tensor flags bit 2", PB_SEC_TENSORS, 3 * 96 + 35, 1, 6, "unknown bits 0x04");
  /* pb_program_check on the in-memory form */
  build_steps_sample(&p);
  p.steps[1].out[0] = 0;
  CHECK(pb_program_check(&p, &err) != 0 && strstr(err.msg, "steps[1].out[0]") && !strstr(err.msg, "offset"),
        "check: host step writes an input: %s", err.msg);
  pb_program_free(&p);
}

int main(int argc, char **argv) {
  check_init("test_pbin");
  uint64_t seed = 20240611;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "-v"))
      verbose = 1;
    else
      seed = strtoull(argv[i], NULL, 0);
  }
  test_helpers();
  test_hw_check();
  test_layout();
  test_roundtrip();
  test_truncated();
  test_flips();
  test_header();
  test_sections();
  test_loaded_ranges();
  test_tensors();
  test_regions();
  test_program_check();
  test_files();
  test_steps_layers();
  test_garbage(seed);
  test_mutations(20000, 0);
  test_mutations(20000, 1);
  return check_done();
}
