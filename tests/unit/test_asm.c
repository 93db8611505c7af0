/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The assembler and disassembler: encodings by hand, every instruction of the
 * table, a realistic program, a program with host steps, layers, an explicit
 * memory plan and string names, and random programs round-tripped
 * (program -> text -> program, the same .pbin bytes), error messages with
 * line:col, and a fuzz loop of mutated sources (run under ASan + UBSan by the
 * suite).
 * Usage: test_asm [seed]   (default seed printed; rerun with it to reproduce)
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asm.h"
#include "check.h"

#define HW ".hw n=4 sp_rows=256 acc_rows=256 host_bytes=65536\n"

/* ---- helpers ------------------------------------------------------------------ */

static uint64_t rng_state;

static uint64_t rnd(void) { /* xorshift64* */
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 0x2545F4914F6CDD1DULL;
}

static uint32_t rnd_below(uint32_t n) { return n ? (uint32_t)(rnd() % n) : 0; }

/* First difference between two programs, or NULL when identical. */
static const char *prog_diff(const pb_program_t *a, const pb_program_t *b, char *buf, size_t len) {
  if (memcmp(&a->hw, &b->hw, sizeof a->hw)) return "hw";
  if (a->code_addr != b->code_addr) return "code_addr";
  if (a->code_len != b->code_len) return "code_len";
  for (uint32_t pc = 0; pc < a->code_len; pc++)
    if (memcmp(a->code + pc * 16, b->code + pc * 16, 16)) {
      snprintf(buf, len, "code word at pc %u", pc);
      return buf;
    }
  if (a->n_data != b->n_data) return "n_data";
  for (uint32_t i = 0; i < a->n_data; i++)
    if (a->data[i].host_addr != b->data[i].host_addr || a->data[i].size != b->data[i].size ||
        memcmp(a->data[i].bytes, b->data[i].bytes, a->data[i].size)) {
      snprintf(buf, len, "data[%u]", i);
      return buf;
    }
  if (a->n_tensors != b->n_tensors) return "n_tensors";
  for (uint32_t i = 0; i < a->n_tensors; i++)
    if (memcmp(&a->tensors[i], &b->tensors[i], sizeof(pb_tensor_t))) {
      snprintf(buf, len, "tensors[%u] (%s)", i, a->tensors[i].name);
      return buf;
    }
  if (a->n_regions != b->n_regions) return "n_regions";
  for (uint32_t i = 0; i < a->n_regions; i++)
    if (memcmp(&a->regions[i], &b->regions[i], sizeof(pb_region_t))) {
      snprintf(buf, len, "regions[%u] (%s)", i, a->regions[i].name);
      return buf;
    }
  if (a->n_steps != b->n_steps) return "n_steps";
  for (uint32_t i = 0; i < a->n_steps; i++)
    if (memcmp(&a->steps[i], &b->steps[i], sizeof(pb_step_t))) {
      snprintf(buf, len, "steps[%u]", i);
      return buf;
    }
  if (a->n_layers != b->n_layers) return "n_layers";
  for (uint32_t i = 0; i < a->n_layers; i++)
    if (memcmp(&a->layers[i], &b->layers[i], sizeof(pb_layer_t))) {
      snprintf(buf, len, "layers[%u] (%s)", i, a->layers[i].name);
      return buf;
    }
  return NULL;
}

/* The .pbin bytes of two programs are identical and read back as b (NULL), else what differs. */
static const char *bytes_diff(const pb_program_t *a, const pb_program_t *b, char *buf, size_t len) {
  uint8_t *x = NULL, *y = NULL;
  size_t nx = 0, ny = 0;
  pb_error_t e;
  const char *why = NULL;
  if (pb_program_write(a, &x, &nx, &e) || pb_program_write(b, &y, &ny, &e)) {
    snprintf(buf, len, "pb_program_write: %.60s", e.msg);
    why = buf;
  } else if (nx != ny) {
    snprintf(buf, len, ".pbin sizes %zu and %zu", nx, ny);
    why = buf;
  } else {
    for (size_t i = 0; i < nx && !why; i++)
      if (x[i] != y[i]) snprintf(buf, len, ".pbin byte %zu: 0x%02x vs 0x%02x", i, x[i], y[i]), why = buf;
  }
  pb_program_t r; /* the reader accepts the bytes and gives the program back */
  if (!why && pb_program_read(y, ny, &r, &e)) {
    snprintf(buf, len, "pb_program_read: %.60s", e.msg);
    why = buf;
  } else if (!why) {
    char d[64];
    const char *rd = prog_diff(b, &r, d, sizeof d);
    if (rd) snprintf(buf, len, "read back: %s differs", rd), why = buf;
    pb_program_free(&r);
  }
  free(x);
  free(y);
  return why;
}

static int prog_empty(const pb_program_t *p) {
  static const pb_program_t zero;
  return !memcmp(p, &zero, sizeof zero);
}

/*
 * P -> text -> P2 -> text2: P2 must equal P (every field, and the same .pbin
 * bytes) and text2 must equal text. Returns 0, or -1 with a reason in why.
 */
static int round_trip(const pb_program_t *p, char *why, size_t len) {
  char err[512], d[128];
  char *t1 = pb_disasm(p);
  if (!t1) return snprintf(why, len, "pb_disasm returned NULL"), -1;
  pb_program_t q;
  if (pb_asm(t1, "disasm", &q, err, sizeof err)) {
    snprintf(why, len, "re-assembly failed: %s\n--- text ---\n%s", err, t1);
    free(t1);
    return -1;
  }
  int rc = 0;
  const char *diff = prog_diff(p, &q, d, sizeof d);
  if (!diff) diff = bytes_diff(p, &q, d, sizeof d);
  char *t2 = pb_disasm(&q);
  if (diff)
    rc = -1, snprintf(why, len, "re-assembled program differs in %s\n--- text ---\n%s", diff, t1);
  else if (!t2 || strcmp(t1, t2))
    rc = -1, snprintf(why, len, "second disassembly differs\n--- first ---\n%s", t1);
  free(t1);
  free(t2);
  pb_program_free(&q);
  return rc;
}

static int assemble(const char *src, pb_program_t *p, const char *what) {
  char err[512];
  if (pb_asm(src, "t.s", p, err, sizeof err)) {
    CHECK(0, "%s: assembly failed: %s", what, err);
    return -1;
  }
  return 0;
}

/* Assembly must fail with a message starting "t.s:<where>: error:" and containing every keyword. */
static void expect_err(const char *src, const char *where, const char *kw1, const char *kw2) {
  char err[512], prefix[64];
  pb_program_t p;
  memset(&p, 0x5a, sizeof p);
  int rc = pb_asm(src, "t.s", &p, err, sizeof err);
  snprintf(prefix, sizeof prefix, "t.s:%s: error: ", where);
  CHECK(rc == -1 && !strncmp(err, prefix, strlen(prefix)) && strstr(err, kw1) && (!kw2 || strstr(err, kw2)),
        "expected \"%s...%s...%s\", got rc=%d \"%s\"\n  source: %s", prefix, kw1, kw2 ? kw2 : "", rc,
        rc ? err : "(none)", src);
  CHECK(rc == 0 || prog_empty(&p), "program left empty after the error (%s)", where);
  if (rc == 0) pb_program_free(&p);
}

/* ---- 1. encodings by hand ------------------------------------------------------- */

static void expect_word(const char *line, const uint8_t want[16]) {
  char src[512];
  snprintf(src, sizeof src, HW "%s\n", line);
  pb_program_t p;
  if (assemble(src, &p, line)) return;
  int ok = p.code_len == 1 && !memcmp(p.code, want, 16);
  CHECK(ok, "%s: bytes differ from the hand encoding", line);
  if (!ok && p.code_len) {
    for (int i = 0; i < 16; i++) fprintf(stderr, " %02x/%02x", p.code[i], want[i]);
    fprintf(stderr, "  (got/want)\n");
  }
  pb_program_free(&p);
}

static void test_hand_encodings(void) {
  /*
   * From the layout in isa.h: byte 0 opcode; LOAD/STORE: byte 1 sp_col, byte 2 cols,
   * bytes 4-5 sp_addr, 6-7 rows, 8-10 host_stride, 12-15 host_addr (little-endian).
   */
  static const uint8_t load[16] = {0x01, 1, 2, 0, 3, 0, 4, 0, 5, 0, 0, 0, 0x00, 0x10, 0x00, 0x00};
  expect_word("LOAD sp_col=1 cols=2 sp_addr=3 rows=4 host_stride=5 host_addr=0x1000", load);
  /* fields in any order, mnemonic in any case, same word */
  expect_word("load host_addr=0x1000 rows=4 cols=2 host_stride=5 sp_addr=3 sp_col=1", load);
  static const uint8_t store[16] = {0x06, 0xff, 0x10, 0, 0xcd, 0xab, 0x01, 0x00,
                                    0x56, 0x34, 0x12, 0, 0x78, 0x56, 0x34, 0x12};
  expect_word("STORE sp_col=255 cols=16 sp_addr=0xabcd rows=1 host_stride=0x123456 host_addr=0x12345678", store);
  /* LOAD_ACC: bytes 4-5 acc_addr, 6-7 rows, 8-10 host_stride, 12-15 host_addr */
  static const uint8_t load_acc[16] = {0x02, 0, 0, 0, 7, 0, 1, 0, 0xff, 0xff, 0xff, 0, 0, 1, 0, 0};
  expect_word("LOAD_ACC acc_addr=7 rows=1 host_stride=0xffffff host_addr=256", load_acc);
  /* WEIGHTS: bytes 4-5 sp_addr */
  static const uint8_t weights[16] = {0x03, 0, 0, 0, 0xff, 0xff};
  expect_word("WEIGHTS sp_addr=65535", weights);
  /* MATMUL: bit 8 acc, bytes 4-5 sp_addr, 6-7 rows, 8-9 acc_addr */
  static const uint8_t matmul[16] = {0x04, 0x01, 0, 0, 0x34, 0x12, 0x78, 0x56, 0xbc, 0x9a};
  expect_word("MATMUL acc=1 sp_addr=0x1234 rows=0x5678 acc_addr=0x9abc", matmul);
  /* ACTIVATE: bits 12:8 pool, bytes 4-5 sp_addr, 6-7 rows, 8-9 acc_addr, 10-11 pool_stride */
  static const uint8_t activate[16] = {0x05, 0x10, 0, 0, 1, 0, 2, 0, 3, 0, 0x22, 0x11};
  expect_word("ACTIVATE pool=16 sp_addr=1 rows=2 acc_addr=3 pool_stride=0x1122", activate);
  /* CONFIG: byte 1 zp, byte 2 lo, byte 3 hi (signed), bytes 12-15 host_addr */
  static const uint8_t config[16] = {0x07, 0xff, 0x80, 0x7f, 0, 0, 0, 0, 0, 0, 0, 0, 0xef, 0xbe, 0xad, 0xde};
  expect_word("CONFIG zp=-1 lo=-128 hi=127 host_addr=0xdeadbeef", config);
  static const uint8_t sync[16] = {0x08}, halt[16] = {0x09};
  expect_word("SYNC", sync);
  expect_word("HALT", halt);
  /* expressions, symbols, sizeof and a forward reference in a field */
  static const uint8_t expr[16] = {0x01, 0, 4, 0, 6, 0, 3, 0, 0x10, 0, 0, 0, 0x08, 0x20, 0, 0};
  char src[1024];
  snprintf(src, sizeof src,
           HW
           ".equ R, 3\n"
           "LOAD sp_col=0 cols=sizeof(B) sp_addr=2*R rows=R host_stride=(R+1)*4 host_addr=B+2*-(-4)\n"
           ".data B 0x2000\n .i8 1,2,3,4\n");
  pb_program_t p;
  if (!assemble(src, &p, "expressions")) {
    CHECK(p.code_len == 1 && !memcmp(p.code, expr, 16), "expressions, sizeof and forward reference encode");
    pb_program_free(&p);
  }
  /* .word: 32 hex digits, the last two are byte 0 */
  static const uint8_t word[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
  expect_word(".word 0x0f0e0d0c0b0a09080706050403020100", word);
  expect_word(".word 0x0f0e0d0c_0b0a0908_07060504_03020100", word);
}

/* ---- 2. every instruction of the table --------------------------------------------- */

static void test_every_instruction(void) {
  for (unsigned i = 0; i < pb_isa_count(); i++) {
    const pb_instr_info_t *ii = pb_isa_instr(i);
    for (int variant = 0; variant < 3; variant++) { /* min, max, a middle value per field */
      char src[512], line[256], dis[256];
      int n = snprintf(line, sizeof line, "%s", ii->name);
      int64_t want[8];
      for (unsigned f = 0; f < ii->nfields; f++) {
        const pb_field_info_t *fi = ii->fields[f];
        int64_t lo = pb_field_min(fi), hi = pb_field_max(fi);
        want[f] = variant == 0 ? lo : variant == 1 ? hi : lo + (hi - lo) / 3;
        n += snprintf(line + n, sizeof line - (size_t)n, " %s=%lld", fi->name, (long long)want[f]);
      }
      snprintf(src, sizeof src, ".hw n=16 sp_rows=65536 acc_rows=65536 host_bytes=0x80000000\n%s\n", line);
      pb_program_t p;
      if (assemble(src, &p, line)) continue;
      pb_word_t w;
      memcpy(w.bytes, p.code, 16);
      pb_instr_t in;
      int ok = pb_decode(&w, &in) == PB_ERR_NONE && in.op == ii->op;
      for (unsigned f = 0; ok && f < ii->nfields; f++) ok = in.f[f] == want[f];
      CHECK(ok, "%s: decodes to the assembled field values", line);
      int rc = pb_disasm_word(&w, dis, sizeof dis);
      CHECK(rc == 0 && !strncmp(dis, ii->name, strlen(ii->name)), "%s: disassembles as \"%s\"", line, dis);
      char why[4096];
      CHECK(round_trip(&p, why, sizeof why) == 0, "%s: round trip: %s", line, why);
      pb_program_free(&p);
    }
  }
  /* the canonical line of one instruction */
  char dis[256];
  pb_word_t w = {{0x01, 1, 2, 0, 3, 0, 4, 0, 5, 0, 0, 0, 0x00, 0x10, 0x00, 0x00}};
  pb_disasm_word(&w, dis, sizeof dis);
  CHECK(!strcmp(dis, "LOAD sp_col=1 cols=2 sp_addr=3 rows=4 host_stride=5 host_addr=0x00001000"),
        "canonical LOAD line: \"%s\"", dis);
  /* illegal words print as .word with the decode error */
  pb_word_t bad = {{0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80}};
  int rc = pb_disasm_word(&bad, dis, sizeof dis);
  CHECK(rc == PB_ERR_ILLEGAL_OPCODE && !strncmp(dis, ".word 0x800000000000000000000000000000ff ;", 42) &&
            strstr(dis, "ILLEGAL_OPCODE"),
        "illegal opcode: rc %d \"%s\"", rc, dis);
  pb_word_t rsv = {{0x09, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80}};
  rc = pb_disasm_word(&rsv, dis, sizeof dis);
  CHECK(rc == PB_ERR_RESERVED_BITS && !strncmp(dis, ".word 0x80000000000000000000000000000009", 40) &&
            strstr(dis, "RESERVED_BITS"),
        "reserved bit: rc %d \"%s\"", rc, dis);
  char tiny[8];
  rc = pb_disasm_word(&w, tiny, sizeof tiny);
  CHECK(rc == 0 && !strcmp(tiny, "LOAD sp"), "output truncated to the buffer: \"%s\"", tiny);
  /* .word programs (illegal opcodes, reserved bits) round-trip through .word */
  pb_program_t p;
  if (!assemble(HW ".word 0x000000000000000000000000000000ff\n"
                   ".word 0x80000000000000000000000000000009\n"
                   ".word 0x00000000000000000000000000000009\n",
                &p, ".word program")) {
    char why[4096];
    CHECK(p.code_len == 3 && p.code[0] == 0xff && p.code[31] == 0x80 && p.code[32] == 0x09, ".word bytes");
    CHECK(round_trip(&p, why, sizeof why) == 0, ".word program round trip: %s", why);
    char *t = pb_disasm(&p);
    CHECK(t && strstr(t, "\nHALT") && strstr(t, ".word 0x80000000000000000000000000000009"),
          "a legal .word disassembles as its instruction, an illegal one as .word:\n%s", t ? t : "");
    free(t);
    pb_program_free(&p);
  }
}

/* ---- 3. a realistic program with every directive ------------------------------------- */

static const char *const realistic =
    "; a 2x4 by 4x2 layer, every directive\n"
    "# hash comments too\n"
    ".equ ROWS, 2                 ; named constant\n"
    ".hw n=4 sp_rows=256 acc_rows=256 host_bytes=65536\n"
    ".equ K, ROWS*2\n"
    ".code 0x100\n"
    ".data A 0x1000               ; the input\n"
    "  .i8  1, -2, 3, 0x7f, 0b101, 255, -128, 0\n"
    ".data W 0x1010\n"
    "  .u8 5, 6, 7, 8\n"
    "  .zero 12\n"
    "  .fill K, -3\n"
    ".data CFG 0x1100\n"
    "  .i32 100, -7, 0xffffffff, -2147483648\n"
    "  .f32 0.25, 1.5e-3, -0.0, 1\n"
    "  .f32bits 0x3e800000\n"
    ".buffer OUT 0x2000 16 io\n"
    ".buffer TMP OUT+sizeof(OUT), 64     ; default kind act\n"
    ".buffer SCR 0x3000 0x100 scratch\n"
    ".tensor input x addr=A dtype=i8 shape=2x4 strides=4,1 scale=0.5 zp=3 float\n"
    ".tensor output y addr=OUT dtype=i8 shape=ROWS x 2 strides=4,1 scale=1 zp=0\n"
    ".tensor output z addr=TMP dtype=f32 shape=(ROWS)x2x2 scale=0.125 zp=-1\n"
    ".tensor output w addr=SCR dtype=u8 shape=3 zp=128\n"
    "LOAD sp_col=0 cols=4 sp_addr=0 rows=ROWS host_stride=4 host_addr=A\n"
    "LOAD sp_col=0, cols=4, sp_addr=4, rows=4, host_stride=4, host_addr=W   ; commas allowed\n"
    "WEIGHTS sp_addr=4\n"
    "MATMUL acc=0 sp_addr=0 rows=ROWS acc_addr=0\n"
    "LOAD_ACC acc_addr=2 rows=1 host_stride=0 host_addr=CFG\n"
    "CONFIG zp=0 lo=-128 hi=127 host_addr=CFG\n"
    "ACTIVATE pool=1 sp_addr=8 rows=ROWS acc_addr=0 pool_stride=0\n"
    "sync\n"
    "STORE sp_col=0 cols=2 sp_addr=8 rows=ROWS host_stride=4 host_addr=OUT\n"
    ".word 0x000000000000000000000000000000ff   ; an illegal opcode, on purpose\n"
    "HALT\n";

/* .hw rq_lanes (requantizer lanes, optional): read, written into the header, disassembled back */
static void test_rq_lanes(void) {
  pb_program_t p;
  if (assemble(".hw n=4 sp_rows=256 acc_rows=256 host_bytes=65536 rq_lanes=1\nHALT\n", &p, "rq_lanes")) return;
  CHECK(p.hw.rq_lanes == 1 && pb_hw_rq_lanes(&p.hw) == 1, "rq_lanes 1: got %u", p.hw.rq_lanes);
  char why[4096];
  CHECK(round_trip(&p, why, sizeof why) == 0, "rq_lanes round trip: %s", why);
  char *t = pb_disasm(&p);
  CHECK(t && strstr(t, ".hw n=4 sp_rows=256 acc_rows=256 host_bytes=65536 rq_lanes=1\n"), "disassembled .hw line");
  free(t);
  pb_program_t q;
  if (!assemble(".hw n=4 sp_rows=256 acc_rows=256 host_bytes=65536 rq_lanes=4\nHALT\n", &q, "rq_lanes 4")) {
    CHECK(pb_hw_equal(&p.hw, &q.hw) == 0 && q.hw.rq_lanes == 4, "rq_lanes 4 differs from 1");
    pb_hw_t d = q.hw;
    d.rq_lanes = 0;
    CHECK(pb_hw_equal(&d, &q.hw), "rq_lanes 0 (N) and 4 (= N) are the same hardware");
    pb_program_free(&q);
  }
  pb_program_free(&p);
}

static void test_realistic(void) {
  pb_program_t p;
  if (assemble(realistic, &p, "realistic")) return;
  CHECK(p.hw.n == 4 && p.hw.sp_rows == 256 && p.hw.acc_rows == 256 && p.hw.host_bytes == 65536, "hw");
  CHECK(p.code_addr == 0x100 && p.code_len == 11, "code at 0x100, 11 words (got 0x%x, %u)", p.code_addr, p.code_len);
  CHECK(p.n_data == 3, "3 data blocks");
  if (p.n_data == 3) {
    static const uint8_t a[8] = {1, 0xfe, 3, 0x7f, 5, 0xff, 0x80, 0};
    CHECK(p.data[0].host_addr == 0x1000 && p.data[0].size == 8 && !memcmp(p.data[0].bytes, a, 8), "A bytes");
    static const uint8_t w[20] = {5, 6, 7, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xfd, 0xfd, 0xfd, 0xfd};
    CHECK(p.data[1].host_addr == 0x1010 && p.data[1].size == 20 && !memcmp(p.data[1].bytes, w, 20), "W bytes");
    static const uint8_t cfg[36] = {100,  0,    0,    0,    0xf9, 0xff, 0xff, 0xff, 0xff, 0xff,
                                    0xff, 0xff, 0,    0,    0,    0x80, 0x00, 0x00, 0x80, 0x3e, /* 0.25 */
                                    0xa6, 0x9b, 0xc4, 0x3a, /* 1.5e-3 rounded to nearest: 0x3ac49ba6 */
                                    0x00, 0x00, 0x00, 0x80, /* -0.0 */
                                    0x00, 0x00, 0x80, 0x3f, /* 1 */
                                    0x00, 0x00, 0x80, 0x3e};
    CHECK(p.data[2].size == 36 && !memcmp(p.data[2].bytes, cfg, 36), "CFG bytes (.i32, .f32, .f32bits)");
  }
  CHECK(p.n_regions == 7, "regions: code, 3 data, 3 buffers (got %u)", p.n_regions);
  if (p.n_regions == 7) {
    const char *names[7] = {"code", "A", "W", "CFG", "OUT", "TMP", "SCR"};
    const uint32_t kinds[7] = {PB_REG_CODE, PB_REG_CONST, PB_REG_CONST,  PB_REG_CONST,
                               PB_REG_IO,   PB_REG_ACT,   PB_REG_SCRATCH};
    const uint32_t addr[7] = {0x100, 0x1000, 0x1010, 0x1100, 0x2000, 0x2010, 0x3000};
    const uint32_t size[7] = {11 * 16, 8, 20, 36, 16, 64, 256};
    for (int i = 0; i < 7; i++)
      CHECK(!strcmp(p.regions[i].name, names[i]) && p.regions[i].kind == kinds[i] && p.regions[i].addr == addr[i] &&
                p.regions[i].size == size[i],
            "region %d: %s kind %u 0x%x+%u", i, p.regions[i].name, p.regions[i].kind, p.regions[i].addr,
            p.regions[i].size);
  }
  CHECK(p.n_tensors == 4, "4 tensors");
  if (p.n_tensors == 4) {
    const pb_tensor_t *x = &p.tensors[0], *y = &p.tensors[1], *z = &p.tensors[2], *w = &p.tensors[3];
    CHECK(!strcmp(x->name, "x") && x->kind == PB_TENSOR_INPUT && x->dtype == PB_DT_INT8 && x->rank == 2 &&
              x->dims[0] == 2 && x->dims[1] == 4 && x->strides[0] == 4 && x->strides[1] == 1 &&
              x->host_addr == 0x1000 && x->scale == 0.5f && x->zero_point == 3 && x->flags == PB_TF_FLOAT_IO,
          "tensor x");
    CHECK(y->kind == PB_TENSOR_OUTPUT && y->rank == 2 && y->dims[0] == 2 && y->dims[1] == 2 && y->flags == 0 &&
              y->host_addr == 0x2000 && y->scale == 1.0f,
          "tensor y (shape with spaces around x)");
    CHECK(z->dtype == PB_DT_FLOAT32 && z->rank == 3 && z->dims[0] == 2 && z->strides[0] == 16 && z->strides[1] == 8 &&
              z->strides[2] == 4 && z->zero_point == -1 && z->host_addr == 0x2010,
          "tensor z: default strides dense row-major for f32");
    CHECK(w->dtype == PB_DT_UINT8 && w->rank == 1 && w->dims[0] == 3 && w->strides[0] == 1 && w->scale == 1.0f &&
              w->zero_point == 128,
          "tensor w: defaults");
  }
  char why[8192];
  CHECK(round_trip(&p, why, sizeof why) == 0, "realistic round trip: %s", why);
  /* CRLF and a missing final newline give the same program */
  size_t n = strlen(realistic);
  char *crlf = malloc(2 * n + 1), *d = crlf;
  for (const char *s = realistic; *s; s++) {
    if (*s == '\n') *d++ = '\r';
    *d++ = *s;
  }
  d[-2] = 0; /* drop the final CRLF */
  pb_program_t q;
  char dbuf[64];
  if (!assemble(crlf, &q, "CRLF without final newline")) {
    const char *diff = prog_diff(&p, &q, dbuf, sizeof dbuf);
    CHECK(!diff, "CRLF, no final newline: same program (differs in %s)", diff ? diff : "");
    pb_program_free(&q);
  }
  free(crlf);
  char *text = pb_disasm(&p);
  CHECK(text && strstr(text, ".data A 0x00001000\n  .i8 1, -2, 3, 127, 5, -1, -128, 0\n") &&
            strstr(text, ".buffer TMP 0x00002010 64 act\n") &&
            strstr(text, ".tensor input x addr=0x00001000 dtype=i8 shape=2x4 strides=4,1 scale=0.5 zp=3 float\n") &&
            strstr(text, ".tensor output z addr=0x00002010 dtype=f32 shape=2x2x2 strides=16,8,4 scale=0.125 zp=-1\n") &&
            strstr(text, "\nSYNC ") && strstr(text, "host_addr=0x00001010"),
        "canonical text:\n%s", text ? text : "(null)");
  free(text);
  pb_program_free(&p);
}

/* ---- 3b. host steps, layers, an explicit memory plan, string names --------------------- */

static const char *const with_steps =
    "; a layer on the accelerator, then Dequantize, Softmax and ArgMax on the host\n"
    ".hw n=4 sp_rows=256 acc_rows=256 host_bytes=65536\n"
    ".code 0x100\n"
    ".data W 0x1000\n"
    "  .i8 1, 2, 3, 4\n"
    ".data SC 0x1010\n"
    "  .f32 0.25\n"
    ".data ZP 0x1014\n"
    "  .i32 -1\n"
    ".memplan                            ; the regions are exactly the .region lines\n"
    ".region code 0x100 3*16 code\n"
    ".region \"w:/fc/Gemm\" W sizeof(W) const\n"
    ".region \"a;b#c \\\"q\\\" \\\\ \\x01\" 0x2000 64   # ; and # inside a string do not start a comment\n"
    ".region io, 0x3000, 8, io\n"
    ".tensor input x addr=0x3000 dtype=i8 shape=2x4 float batch\n"
    ".tensor internal \"acc:/fc/out\" addr=0x2000 dtype=i8 shape=2x2 scale=0.5 zp=-1\n"
    ".tensor internal scale addr=SC dtype=f32 shape=1\n"
    ".tensor internal zp addr=ZP dtype=i32 shape=1\n"
    ".tensor internal f addr=0x2010 dtype=f32 shape=2x2\n"
    ".tensor output prob addr=0x2020 dtype=f32 shape=2x2 batch\n"
    ".step accel pc=0 len=3\n"
    ".step host op=DEQUANTIZE in=\"acc:/fc/out\",scale,zp out=f param=-1\n"
    ".step host op=softmax in=f out=prob param=1\n"
    ".step host out=cls in=4 op=ARGMAX param=1, 0, 0   ; a forward reference and an index\n"
    ".tensor output cls addr=0x2030 dtype=i64 shape=2 batch\n"
    ".layer \"/fc/Gemm\" op=Gemm where=accel step=0 pc=0 len=3 in=2x4 out=2x2 macs=16 cycles=42 array_rows=2 "
    "weight_bytes=4 out_bytes=4 sp_rows=6 acc_rows=2\n"
    ".layer \"fc+pool\" op=\"Conv+MaxPool\" where=host step=3 macs=18446744073709551615 cycles=0x10 in=2x2 out=2\n"
    ".layer \"fc+pool\" op=\"\" where=host step=3 array_rows=2*3+1\n"
    "LOAD sp_col=0 cols=4 sp_addr=0 rows=2 host_stride=4 host_addr=0x3000\n"
    "WEIGHTS sp_addr=0\n"
    "HALT\n";

static void test_with_steps(void) {
  pb_program_t p;
  if (assemble(with_steps, &p, "with_steps")) return;
  CHECK(p.code_len == 3 && p.n_data == 3 && p.n_tensors == 7 && p.n_steps == 4 && p.n_layers == 3,
        "counts: %u instructions, %u data, %u tensors, %u steps, %u layers", p.code_len, p.n_data, p.n_tensors,
        p.n_steps, p.n_layers);
  CHECK(p.n_regions == 4, "with .memplan the regions are the 4 .region lines (got %u)", p.n_regions);
  if (p.n_regions == 4) {
    static const char odd[] = "a;b#c \"q\" \\ \x01";
    const pb_region_t *r = p.regions;
    CHECK(!strcmp(r[0].name, "code") && r[0].kind == PB_REG_CODE && r[0].addr == 0x100 && r[0].size == 48, "region 0");
    CHECK(!strcmp(r[1].name, "w:/fc/Gemm") && r[1].kind == PB_REG_CONST && r[1].addr == 0x1000 && r[1].size == 4,
          "region 1: a string name, sizeof");
    CHECK(!strcmp(r[2].name, odd) && r[2].kind == PB_REG_ACT && r[2].addr == 0x2000 && r[2].size == 64,
          "region 2: escapes, ';' and '#' in a string, default kind act (name \"%s\")", r[2].name);
    CHECK(!strcmp(r[3].name, "io") && r[3].kind == PB_REG_IO && r[3].addr == 0x3000 && r[3].size == 8,
          "region 3: commas between operands");
  }
  if (p.n_tensors == 7) {
    const pb_tensor_t *t = p.tensors;
    CHECK(t[0].kind == PB_TENSOR_INPUT && t[0].flags == (PB_TF_FLOAT_IO | PB_TF_BATCH), "x: float batch");
    CHECK(t[1].kind == PB_TENSOR_INTERNAL && !strcmp(t[1].name, "acc:/fc/out") && t[1].zero_point == -1,
          "internal tensor with a string name");
    CHECK(t[6].kind == PB_TENSOR_OUTPUT && t[6].dtype == PB_DT_INT64 && t[6].strides[0] == 8 &&
              t[6].flags == PB_TF_BATCH,
          "cls: i64, default stride 8, batch");
  }
  if (p.n_steps == 4) {
    const pb_step_t *s = p.steps;
    CHECK(s[0].kind == PB_STEP_ACCEL && s[0].pc == 0 && s[0].len == 3 && !s[0].op && !s[0].n_in, "step 0: accel");
    CHECK(s[1].kind == PB_STEP_HOST && s[1].op == PB_HOP_DEQUANTIZE && s[1].n_in == 3 && s[1].n_out == 1 &&
              s[1].in[0] == 1 && s[1].in[1] == 2 && s[1].in[2] == 3 && s[1].in[3] == 0 && s[1].out[0] == 4 &&
              s[1].param[0] == -1 && s[1].param[1] == 0 && s[1].pc == 0 && s[1].len == 0,
          "step 1: DEQUANTIZE by names");
    CHECK(s[2].op == PB_HOP_SOFTMAX && s[2].in[0] == 4 && s[2].out[0] == 5 && s[2].param[0] == 1,
          "step 2: softmax (operator names in any case)");
    CHECK(s[3].op == PB_HOP_ARGMAX && s[3].in[0] == 4 && s[3].out[0] == 6 && s[3].param[0] == 1 && !s[3].param[1],
          "step 3: ARGMAX, input by index, output a forward reference");
  }
  if (p.n_layers == 3) {
    const pb_layer_t *l = p.layers;
    CHECK(!strcmp(l[0].name, "/fc/Gemm") && !strcmp(l[0].op, "Gemm") && l[0].where == PB_WHERE_ACCEL &&
              l[0].len == 3 && l[0].in_rank == 2 && l[0].in_dims[1] == 4 && l[0].out_rank == 2 && l[0].macs == 16 &&
              l[0].cycles == 42 && l[0].array_rows == 2 && l[0].weight_bytes == 4 && l[0].out_bytes == 4 &&
              l[0].sp_rows == 6 && l[0].acc_rows == 2,
          "layer 0: every attribute");
    CHECK(!strcmp(l[1].name, "fc+pool") && !strcmp(l[1].op, "Conv+MaxPool") && l[1].where == PB_WHERE_HOST &&
              l[1].step == 3 && l[1].macs == UINT64_MAX && l[1].cycles == 16 && l[1].out_rank == 1 &&
              l[1].out_dims[0] == 2 && l[1].pc == 0 && l[1].len == 0 && l[1].sp_rows == 0,
          "layer 1: a 64-bit literal, defaults 0");
    CHECK(!strcmp(l[2].name, l[1].name) && l[2].op[0] == 0 && l[2].array_rows == 7 && l[2].in_rank == 0,
          "layer 2: same name as layer 1 (allowed), empty op, an expression");
  }
  char why[8192];
  CHECK(round_trip(&p, why, sizeof why) == 0, "with_steps round trip: %s", why);
  char *text = pb_disasm(&p);
  CHECK(text && strstr(text, ", 4 steps, 3 layers\n") &&
            strstr(text, "\n.memplan\n.region code 0x00000100 48 code\n") &&
            strstr(text, "\n.region \"a;b#c \\\"q\\\" \\\\ \\x01\" 0x00002000 64 act\n") &&
            strstr(text, "\n.tensor internal \"acc:/fc/out\" addr=0x00002000 dtype=i8 shape=2x2 strides=2,1 "
                         "scale=0.5 zp=-1\n") &&
            strstr(text, " dtype=i64 shape=2 strides=8 scale=1 zp=0 batch\n") &&
            strstr(text, "\n.step accel pc=0 len=3\n.step host op=DEQUANTIZE in=\"acc:/fc/out\",scale,zp out=f "
                         "param=-1\n.step host op=SOFTMAX in=f out=prob param=1\n"
                         ".step host op=ARGMAX in=f out=cls param=1\n") &&
            strstr(text, "\n.layer \"fc+pool\" op=\"Conv+MaxPool\" where=host step=3 pc=0 len=0 in=2x2 out=2 "
                         "macs=18446744073709551615 cycles=16 array_rows=0 weight_bytes=0 out_bytes=0 sp_rows=0 "
                         "acc_rows=0\n") &&
            strstr(text, "\n.layer \"fc+pool\" op=\"\" where=host"),
        "canonical text:\n%s", text ? text : "(null)");
  free(text);
  pb_program_free(&p);
}

/* Every host operator of the table, with its arity; a wrong count is refused naming it. */
static void test_every_host_op(void) {
  static const struct {
    const char *name;
    unsigned code, n_in, n_out;
  } ops[] = {
#define PB_X(name, code, ni, no, text) {#name, code, ni, no},
      PB_HOST_OPS(PB_X)
#undef PB_X
  };
  for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
    char src[1024], ins[64] = "", outs[64] = "";
    for (unsigned k = 0; k < ops[i].n_in; k++)
      snprintf(ins + strlen(ins), sizeof ins - strlen(ins), "%sa%u", k ? "," : "", k);
    for (unsigned k = 0; k < ops[i].n_out; k++)
      snprintf(outs + strlen(outs), sizeof outs - strlen(outs), "%sy%u", k ? "," : "", k);
    snprintf(src, sizeof src,
             HW ".tensor input a0 addr=0 dtype=f32 shape=4\n.tensor input a1 addr=0 dtype=f32 shape=4\n"
                ".tensor internal a2 addr=0 dtype=f32 shape=4\n.tensor output y0 addr=16 dtype=f32 shape=4\n"
                ".tensor output y1 addr=32 dtype=f32 shape=4\n"
                ".step host op=%s in=%s out=%s param=1,2,3,4,5,6,7,8,9,-10\nHALT\n",
             ops[i].name, ins, outs);
    pb_program_t p;
    if (assemble(src, &p, ops[i].name)) continue;
    CHECK(p.n_steps == 1 && p.steps[0].op == ops[i].code && p.steps[0].n_in == ops[i].n_in &&
              p.steps[0].n_out == ops[i].n_out && p.steps[0].param[9] == -10,
          "%s: op %u, %u inputs, %u outputs", ops[i].name, ops[i].code, ops[i].n_in, ops[i].n_out);
    char why[4096];
    CHECK(round_trip(&p, why, sizeof why) == 0, "%s round trip: %s", ops[i].name, why);
    pb_program_free(&p);
    /* one input too many */
    char want[64];
    snprintf(want, sizeof want, "%s takes %u input", ops[i].name, ops[i].n_in);
    snprintf(src, sizeof src,
             HW ".tensor input a0 addr=0 dtype=f32 shape=4\n.tensor output y0 addr=16 dtype=f32 shape=4\n"
                ".step host op=%s in=a0,a0,a0,a0 out=y0\nHALT\n",
             ops[i].name);
    char where[32];
    snprintf(where, sizeof where, "4:%d", (int)(strlen(".step host op= in=") + strlen(ops[i].name) + 1));
    expect_err(src, where, want, "got 4");
  }
}

/* ---- 4. random programs -------------------------------------------------------------- */

static void rnd_name(char *out, int first_upper) {
  static const char first[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_";
  static const char rest[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_0123456789.";
  unsigned len = 1 + rnd_below(rnd_below(4) ? 8 : PB_NAME_MAX - 1);
  out[0] = first_upper ? first[rnd_below(26)] : first[rnd_below(sizeof first - 1)];
  for (unsigned i = 1; i < len; i++) out[i] = rest[rnd_below(sizeof rest - 1)];
  out[len] = 0;
}

static int name_used(const pb_program_t *p, const char *name) {
  for (uint32_t i = 0; i < p->n_regions; i++)
    if (!strcmp(p->regions[i].name, name)) return 1;
  return 0;
}

static void unique_region_name(const pb_program_t *p, char *out) {
  do rnd_name(out, 0);
  while (!pb_asm_name_ok(out, PB_NAME_MAX, 1) || name_used(p, out));
}

static float rnd_scale(void) {
  for (;;) {
    uint32_t u = (uint32_t)rnd() & 0x7fffffffu; /* positive */
    float f;
    memcpy(&f, &u, 4);
    if (isfinite(f) && f > 0.0f) return f;
  }
}

/* A random valid program in the canonical shape pb_asm produces (regions: code, data, buffers). */
static void random_program(pb_program_t *p) {
  memset(p, 0, sizeof *p);
  p->hw.n = 1 + rnd_below(64);
  p->hw.sp_rows = 1 + rnd_below(65536);
  p->hw.acc_rows = 1 + rnd_below(65536);
  p->hw.host_bytes = 0x10000u + rnd_below(0x100000);
  p->code_addr = rnd_below(64) * 16;
  p->code_len = 1 + rnd_below(40);
  p->code = malloc((size_t)p->code_len * 16);
  for (uint32_t pc = 0; pc < p->code_len; pc++) {
    pb_word_t w;
    if (rnd_below(8) == 0) { /* random bits: mostly illegal */
      for (int i = 0; i < 16; i++) w.bytes[i] = (uint8_t)rnd();
    } else {
      const pb_instr_info_t *ii = pb_isa_instr(rnd_below(pb_isa_count()));
      pb_instr_t in = {.op = ii->op};
      for (unsigned f = 0; f < ii->nfields; f++) {
        int64_t lo = pb_field_min(ii->fields[f]), hi = pb_field_max(ii->fields[f]);
        uint64_t span = (uint64_t)(hi - lo) + 1;
        in.f[f] = rnd_below(3) == 0 ? (rnd_below(2) ? lo : hi) : lo + (int64_t)(rnd() % span);
      }
      char err[200];
      if (pb_encode(&in, &w, err, sizeof err)) CHECK(0, "random encode: %s", err);
    }
    memcpy(p->code + pc * 16, w.bytes, 16);
  }
  pb_region_t r = {.kind = PB_REG_CODE, .addr = p->code_addr, .size = p->code_len * 16};
  snprintf(r.name, sizeof r.name, "code");
  pb_program_add_region(p, &r);
  uint32_t at = p->code_addr + p->code_len * 16 + rnd_below(64);
  unsigned ndata = rnd_below(5);
  for (unsigned i = 0; i < ndata; i++) {
    uint32_t size = 1 + rnd_below(rnd_below(4) ? 40 : 600);
    uint8_t *b = malloc(size);
    for (uint32_t k = 0; k < size; k++) b[k] = (uint8_t)rnd();
    pb_program_add_data(p, at, b, size);
    free(b);
    pb_region_t d = {.kind = PB_REG_CONST, .addr = at, .size = size};
    unique_region_name(p, d.name);
    pb_program_add_region(p, &d);
    at += size + rnd_below(3) * 16;
  }
  unsigned nbuf = rnd_below(4);
  for (unsigned i = 0; i < nbuf; i++) {
    static const uint32_t kinds[3] = {PB_REG_IO, PB_REG_ACT, PB_REG_SCRATCH};
    pb_region_t b = {.kind = kinds[rnd_below(3)], .addr = rnd_below(p->hw.host_bytes / 2), .size = rnd_below(4096)};
    unique_region_name(p, b.name);
    pb_program_add_region(p, &b);
  }
  unsigned nt = rnd_below(4);
  for (unsigned i = 0; i < nt; i++) {
    pb_tensor_t t;
    memset(&t, 0, sizeof t);
    for (;;) {
      rnd_name(t.name, 0);
      int dup = !pb_asm_name_ok(t.name, PB_NAME_MAX, 0);
      for (uint32_t k = 0; k < p->n_tensors; k++) dup |= !strcmp(p->tensors[k].name, t.name);
      if (!dup) break;
    }
    t.kind = (uint8_t)(1 + rnd_below(2));
    t.dtype = (uint8_t)(1 + rnd_below(4));
    t.rank = (uint8_t)(1 + rnd_below(PB_MAX_RANK));
    t.flags = (uint8_t)rnd_below(2);
    for (unsigned d = 0; d < t.rank; d++) {
      t.dims[d] = 1 + rnd_below(5);
      t.strides[d] = rnd_below(64);
    }
    t.scale = rnd_scale();
    t.zero_point = t.dtype == PB_DT_INT8    ? (int32_t)rnd_below(256) - 128
                   : t.dtype == PB_DT_UINT8 ? (int32_t)rnd_below(256)
                                            : (int32_t)(uint32_t)rnd();
    t.host_addr = rnd_below(p->hw.host_bytes - (uint32_t)pb_tensor_extent(&t));
    pb_program_add_tensor(p, &t);
  }
}

static void test_random(uint64_t seed) {
  rng_state = seed;
  int fails = 0, checked = 0;
  for (int iter = 0; iter < 300; iter++) {
    pb_program_t p;
    random_program(&p);
    pb_error_t e;
    if (pb_program_check(&p, &e)) {
      CHECK(0, "random program %d is invalid (generator bug): %s", iter, e.msg);
      pb_program_free(&p);
      continue;
    }
    char why[1 << 16];
    if (round_trip(&p, why, sizeof why)) {
      if (fails++ < 3) CHECK(0, "random program %d (seed 0x%llx): %s", iter, (unsigned long long)seed, why);
    }
    checked++;
    pb_program_free(&p);
  }
  CHECK(fails == 0 && checked == 300, "random round trips: %d of %d failed (seed 0x%llx)", fails, checked,
        (unsigned long long)seed);
}

/* ---- 4b. random programs with everything a compiled program has ---------------------------- */

/* A name of 1..size-1 arbitrary bytes (never NUL), zero-padded. */
static void rnd_any_name(char *out, size_t size) {
  memset(out, 0, size);
  size_t len = 1 + rnd_below((uint32_t)size - 1);
  for (size_t i = 0; i < len; i++) out[i] = (char)(1 + rnd_below(255));
}

static int tensor_name_used(const pb_program_t *p, const char *name) {
  for (uint32_t i = 0; i < p->n_tensors; i++)
    if (!strcmp(p->tensors[i].name, name)) return 1;
  return 0;
}

/*
 * Add to a random_program(): internal, i64 and batch tensors, names that are
 * not identifiers, a memory plan in any order (or none), steps and layers.
 */
static void random_extras(pb_program_t *p) {
  unsigned nt = rnd_below(5);
  for (unsigned i = 0; i < nt; i++) {
    pb_tensor_t t;
    memset(&t, 0, sizeof t);
    do
      rnd_below(2) ? rnd_any_name(t.name, sizeof t.name) : rnd_name(t.name, 0);
    while (tensor_name_used(p, t.name));
    t.kind = (uint8_t)(1 + rnd_below(3));
    t.dtype = (uint8_t)(1 + rnd_below(5));
    t.rank = (uint8_t)(1 + rnd_below(PB_MAX_RANK));
    t.flags = (uint8_t)rnd_below(4);
    for (unsigned d = 0; d < t.rank; d++) {
      t.dims[d] = 1 + rnd_below(5);
      t.strides[d] = rnd_below(64);
    }
    t.scale = rnd_scale();
    t.zero_point = t.dtype == PB_DT_INT8    ? (int32_t)rnd_below(256) - 128
                   : t.dtype == PB_DT_UINT8 ? (int32_t)rnd_below(256)
                                            : (int32_t)(uint32_t)rnd();
    t.host_addr = rnd_below(p->hw.host_bytes - (uint32_t)pb_tensor_extent(&t));
    pb_program_add_tensor(p, &t);
  }
  switch (rnd_below(5)) { /* the memory plan: as pb_asm makes it, or not */
  case 0: break;
  case 1: /* a name that is not an identifier */
    rnd_any_name(p->regions[rnd_below(p->n_regions)].name, PB_NAME_MAX);
    break;
  case 2: /* any order */
    for (uint32_t i = p->n_regions; i > 1; i--) {
      uint32_t j = rnd_below(i);
      pb_region_t r = p->regions[i - 1];
      p->regions[i - 1] = p->regions[j];
      p->regions[j] = r;
    }
    break;
  case 3: /* two regions of the same name */
    if (p->n_regions > 1) memcpy(p->regions[p->n_regions - 1].name, p->regions[0].name, PB_NAME_MAX);
    break;
  default: /* none at all */
    p->n_regions = 0;
  }
  unsigned nsteps = rnd_below(3) ? rnd_below(7) : 0;
  for (unsigned i = 0; i < nsteps; i++) {
    pb_step_t s;
    memset(&s, 0, sizeof s);
    uint32_t writable = p->n_tensors; /* a tensor a host step may write */
    for (uint32_t k = 0; k < p->n_tensors && writable == p->n_tensors; k++)
      if (p->tensors[(k + i) % p->n_tensors].kind != PB_TENSOR_INPUT) writable = (k + i) % p->n_tensors;
    if (rnd_below(3) == 0 || writable == p->n_tensors) {
      s.kind = PB_STEP_ACCEL;
      s.pc = rnd_below(p->code_len);
      s.len = 1 + rnd_below(p->code_len - s.pc);
    } else {
      unsigned ni, no;
      s.kind = PB_STEP_HOST;
      s.op = (uint8_t)(1 + rnd_below(PB_HOP_COPY));
      pb_host_op_arity(s.op, &ni, &no);
      s.n_in = (uint8_t)ni;
      s.n_out = (uint8_t)no;
      for (unsigned k = 0; k < ni; k++) s.in[k] = (uint16_t)rnd_below(p->n_tensors);
      for (unsigned k = 0; k < no; k++) s.out[k] = (uint16_t)writable;
      unsigned np = rnd_below(PB_STEP_PARAMS + 1);
      for (unsigned k = 0; k < np; k++)
        s.param[k] = rnd_below(2) ? (int32_t)rnd_below(5) - 1 : (int32_t)(uint32_t)rnd();
    }
    pb_program_add_step(p, &s);
  }
  unsigned nl = rnd_below(5);
  for (unsigned i = 0; i < nl; i++) {
    pb_layer_t l;
    memset(&l, 0, sizeof l);
    rnd_below(2) ? rnd_any_name(l.name, sizeof l.name) : rnd_name(l.name, 0);
    if (rnd_below(4)) rnd_any_name(l.op, sizeof l.op); /* else empty */
    l.where = (uint8_t)(1 + rnd_below(2));
    l.step = rnd_below(nsteps ? nsteps : 1);
    l.pc = rnd_below(p->code_len + 1);
    l.len = rnd_below(p->code_len - l.pc + 1);
    l.in_rank = (uint8_t)rnd_below(PB_MAX_RANK + 1);
    l.out_rank = (uint8_t)rnd_below(PB_MAX_RANK + 1);
    for (unsigned d = 0; d < l.in_rank; d++) l.in_dims[d] = (uint32_t)rnd();
    for (unsigned d = 0; d < l.out_rank; d++) l.out_dims[d] = rnd_below(3) ? rnd_below(100) : (uint32_t)rnd();
    l.macs = rnd();
    l.cycles = rnd_below(2) ? rnd() : rnd_below(1000);
    l.array_rows = rnd() >> rnd_below(64);
    l.weight_bytes = (uint32_t)rnd();
    l.out_bytes = rnd_below(4096);
    l.sp_rows = (uint32_t)rnd();
    l.acc_rows = rnd_below(2) ? 0 : UINT32_MAX;
    pb_program_add_layer(p, &l);
  }
}

static void test_random_full(uint64_t seed) {
  rng_state = seed ^ 0x7f4a7c159e3779b9ULL;
  int fails = 0, checked = 0;
  for (int iter = 0; iter < 300; iter++) {
    pb_program_t p;
    random_program(&p);
    random_extras(&p);
    pb_error_t e;
    if (pb_program_check(&p, &e)) {
      CHECK(0, "random program %d with steps is invalid (generator bug): %s", iter, e.msg);
      pb_program_free(&p);
      continue;
    }
    char why[1 << 16];
    if (round_trip(&p, why, sizeof why)) {
      if (fails++ < 3) CHECK(0, "random program %d with steps (seed 0x%llx): %s", iter, (unsigned long long)seed, why);
    }
    checked++;
    pb_program_free(&p);
  }
  CHECK(fails == 0 && checked == 300,
        "random programs with steps, layers, odd names and memory plans: %d of %d round trips failed (seed 0x%llx)",
        fails, checked, (unsigned long long)seed);
}

/* ---- 5. errors -------------------------------------------------------------------------- */

static void test_errors(void) {
  expect_err(HW "FOO x=1\nHALT\n", "2:1", "unknown mnemonic 'FOO'", NULL);
  expect_err(HW "LOAD sp_col=0 colz=2 sp_addr=0 rows=1 host_stride=0 host_addr=0\n", "2:15", "unknown field 'colz'",
             "sp_col cols sp_addr rows host_stride host_addr");
  expect_err(HW "MATMUL acc=0 sp_addr=0 rows=1\n", "2:1", "missing field 'acc_addr'", "acc sp_addr rows acc_addr");
  expect_err(HW "SYNC\nWEIGHTS sp_addr=0 sp_addr=1\n", "3:19", "duplicate field 'sp_addr'", NULL);
  expect_err(HW "  LOAD sp_col=0 cols=1 sp_addr=0 rows=70000 host_stride=0 host_addr=0\n", "2:34", "rows = 70000",
             "out of range [0, 65535]");
  expect_err(HW "CONFIG zp=0 lo=-129 hi=0 host_addr=0\n", "2:13", "lo = -129", "[-128, 127]");
  expect_err(HW "MATMUL acc=2 sp_addr=0 rows=1 acc_addr=0\n", "2:8", "acc = 2", "[0, 1]");
  expect_err(HW "ACTIVATE pool=1 sp_addr=12z rows=1 acc_addr=0 pool_stride=0\n", "2:25", "bad number '12z'", NULL);
  expect_err(HW "WEIGHTS sp_addr=0xg\n", "2:17", "bad number '0xg'", NULL);
  expect_err(HW "WEIGHTS sp_addr=NOPE+1\n", "2:17", "undefined symbol 'NOPE'", NULL);
  expect_err(HW "WEIGHTS sp_addr 3\n", "2:17", "missing '='", "sp_addr");
  expect_err(HW "WEIGHTS sp_addr=\n", "2:17", "missing value", NULL);
  expect_err(HW "WEIGHTS sp_addr=(1+2\n", "2:21", "missing ')'", NULL);
  expect_err(HW "WEIGHTS sp_addr=0x7fffffffffffffff+1\n", "2:35", "overflow", NULL);
  expect_err(HW "WEIGHTS sp_addr=99999999999999999999\n", "2:17", "64-bit", NULL);
  expect_err(HW "HALT now=1\n", "2:6", "unknown field 'now' for HALT", "none");
  expect_err(HW "HALT\nHALT 5\n", "3:6", "expected field=value", NULL);
  expect_err("HALT\n", "1:1", ".hw", NULL);
  expect_err(".equ X, 1\n.data A 0\n", "2:1", ".hw", NULL);
  expect_err(HW ".i8 1\nHALT\n", "2:1", "outside a .data block", NULL);
  expect_err(HW ".data A 0x100\n .i8 1\nHALT\n .i8 2\n", "5:2", "outside a .data block", NULL);
  expect_err(HW ".word 0x1234\n", "2:7", ".word", "32 hex digits");
  expect_err(HW ".word 0x000000000000000000000000000000ff00\n", "2:7", "32 hex digits", "got 34");
  expect_err(HW ".word 0x0000000000000000000000000000000z\n", "2:40", "hex digit", NULL);
  expect_err("", "1:1", "missing .hw", NULL);
  expect_err("; nothing but a comment\n", "2:1", "missing .hw", NULL);
  expect_err(HW, "2:1", "no instructions", NULL);
  expect_err(HW HW "HALT\n", "2:1", "duplicate .hw", "line 1");
  expect_err(".hw n=4 sp_rows=256 acc_rows=256\nHALT\n", "1:1", "missing parameter 'host_bytes'", NULL);
  expect_err(".hw n=0 sp_rows=256 acc_rows=256 host_bytes=65536\nHALT\n", "1:1", "hw.n", NULL);
  expect_err(".hw n=4 sp_rows=256 acc_rows=256 host_bytes=65536 rq_lanes=3\nHALT\n", "1:1",
             "hw.rq_lanes = 3 is not 0 or a divisor of hw.n = 4", NULL);
  expect_err(".hw n=4 sp_rows=256 acc_rows=256 host_bytes=65536 lanes=1\nHALT\n", "1:51", "unknown .hw parameter 'lanes'",
             NULL);
  expect_err(HW ".code 0 junk\nHALT\n", "2:9", "trailing garbage", NULL);
  expect_err(HW "HALT\n.code 0x100\n", "3:1", ".code", "before the first instruction");
  expect_err(HW ".foo 1\n", "2:1", "unknown directive '.foo'", NULL);
  expect_err(HW "@\n", "2:1", "unexpected character '@'", NULL);
  expect_err(HW ".equ X, A\n.data A 0x100\n .i8 1\nHALT\n", "2:9", "used before its definition", NULL);
  expect_err(HW ".equ X, 1\n.equ X, 2\nHALT\n", "3:6", "duplicate symbol 'X'", "line 2");
  expect_err(HW ".data A 0x100\n .i8 300\nHALT\n", "3:6", "300 out of range", NULL);
  expect_err(HW ".data A 0x100\n .i8 1 2\nHALT\n", "3:8", "expected ','", NULL);
  expect_err(HW ".data A 0x100\n .f32 1.5x\nHALT\n", "3:7", "bad number '1.5x'", NULL);
  expect_err(HW ".data A 0x100\nHALT\n", "2:7", "empty", NULL);
  expect_err(HW ".data A 0x100\n .i8 1,2\n.data B 0x101\n .i8 3\nHALT\n", "4:7", "overlaps .data block 'A'", NULL);
  expect_err(HW ".data A 0xfffe\n .i8 1,2,3\nHALT\n", "3:10", "beyond host memory", NULL);
  expect_err(HW ".data code 0x100\n", "2:7", "reserved", NULL);
  expect_err(HW ".buffer B 0x100 16 rom\nHALT\n", "2:20", "unknown region kind 'rom'", NULL);
  expect_err(HW ".tensor input x addr=0 dtype=i8\nHALT\n", "2:15", "missing attribute 'shape'", NULL);
  expect_err(HW ".tensor input x addr=0 dtype=i7 shape=1\nHALT\n", "2:30", "unknown dtype 'i7'", NULL);
  expect_err(HW ".tensor input x addr=0 dtype=i8 shape=2x2 strides=1\nHALT\n", "2:51", "1 strides for a rank-2", NULL);
  expect_err(HW ".tensor input x addr=0 dtype=i8 shape=1x1x1x1x1\nHALT\n", "2:47", "more than 4", NULL);
  expect_err(HW ".tensor input x addr=0 dtype=i8 shape=1 colour=red\nHALT\n", "2:41", "unknown tensor attribute", NULL);
  expect_err(HW ".tensor input x addr=0 dtype=i8 shape=1\n.tensor output x addr=0 dtype=i8 shape=1\nHALT\n", "3:16",
             "duplicate tensor name 'x'", NULL);
  /* pb_program_check's message, pointed at the line that defined the item */
  expect_err(HW ".tensor input x addr=0 dtype=i8 shape=4 zp=200\nHALT\n", "2:15", "zero_point", NULL);
  expect_err(HW ".tensor input x addr=0 dtype=i8 shape=4 scale=0\nHALT\n", "2:15", "scale", NULL);
  expect_err(HW ".code 0x100\n.data A 0x100\n .i8 1\nHALT\n", "3:7", "overlaps", NULL);
}

/* Errors of .tensor's new words, .memplan, .region, .step and .layer. */
static void test_errors_steps(void) {
#define TT HW ".tensor input x addr=0 dtype=f32 shape=4\n.tensor output y addr=16 dtype=f32 shape=4\n"
  /* .tensor */
  expect_err(HW ".tensor inner x addr=0 dtype=i8 shape=1\nHALT\n", "2:9", "unknown tensor kind 'inner'", "internal");
  expect_err(HW ".tensor internal x addr=0 dtype=i65 shape=1\nHALT\n", "2:33", "unknown dtype 'i65'", "i64");
  expect_err(HW ".tensor internal \"a\\x00\" addr=0 dtype=i8 shape=1\nHALT\n", "2:20", "NUL byte", NULL);
  expect_err(HW ".tensor internal \"0123456789abcdef0123456789abcdef\" addr=0 dtype=i8 shape=1\nHALT\n", "2:18",
             "tensor name is too long", "31 bytes");
  expect_err(HW ".tensor internal \"\" addr=0 dtype=i8 shape=1\nHALT\n", "2:18", "empty tensor name", NULL);
  expect_err(HW ".tensor internal sizeof addr=0 dtype=i8 shape=1\nHALT\n", "2:18", "reserved", "\"sizeof\"");
  expect_err(HW ".tensor internal x addr=0 dtype=i8 shape=1 batch batch\nHALT\n", "2:50",
             "duplicate tensor attribute 'batch'", NULL);
  expect_err(HW ".tensor output \"x y addr=0 dtype=i8 shape=1\nHALT\n", "2:16", "unterminated string", NULL);
  expect_err(HW ".tensor output \"x\\ty\" addr=0 dtype=i8 shape=1\nHALT\n", "2:18", "bad escape", "\\xHH");
  /* .memplan, .region */
  expect_err(HW ".region r 0 16 act\nHALT\n", "2:1", ".region needs .memplan", NULL);
  expect_err(HW ".memplan\n.memplan\nHALT\n", "3:1", "duplicate .memplan", "line 2");
  expect_err(HW ".memplan all\nHALT\n", "2:10", "trailing garbage", NULL);
  expect_err(HW ".memplan\n.region r 0xfff0 0x20 io\nHALT\n", "3:9", "ends beyond host memory", NULL);
  expect_err(HW ".memplan\n.region r 0 16 rom\nHALT\n", "3:16", "unknown region kind 'rom'", NULL);
  expect_err(HW ".memplan\n.region \"r\" 0 16 io io\nHALT\n", "3:21", "trailing garbage", NULL);
  expect_err(HW ".memplan\n.region r 0\nHALT\n", "3:12", "missing value", NULL);
  /* .step accel */
  expect_err(TT ".step run pc=0\nHALT\n", "4:7", "unknown step kind 'run'", "accel or host");
  expect_err(TT ".step accel pc=0\nHALT\n", "4:7", "missing attribute 'len'", NULL);
  expect_err(TT ".step accel pc=0 len=0\nHALT\n", "4:22", "len 0", NULL);
  expect_err(TT ".step accel pc=1 len=1\nHALT\n", "4:16", "[1, 2) run past the code", "1 instructions");
  expect_err(TT ".step accel pc=0 len=2\nHALT\n", "4:22", "[0, 2) run past the code", NULL);
  expect_err(TT ".step accel pc=0 len=1 op=SOFTMAX\nHALT\n", "4:24", "unknown accel step attribute 'op'", "pc len");
  expect_err(TT ".step accel pc=0 pc=0 len=1\nHALT\n", "4:18", "duplicate accel step attribute 'pc'", NULL);
  expect_err(TT ".step accel pc=-1 len=1\nHALT\n", "4:16", "pc -1 out of range", NULL);
  /* .step host */
  expect_err(TT ".step host op=FROB in=x out=y\nHALT\n", "4:15", "unknown host operator 'FROB'", "SOFTMAX ARGMAX");
  expect_err(TT ".step host op=SOFTMAX in=x,x out=y\nHALT\n", "4:26", "SOFTMAX takes 1 input, got 2", NULL);
  expect_err(TT ".step host op=ADD in=x out=y\nHALT\n", "4:22", "ADD takes 2 inputs, got 1", NULL);
  expect_err(TT ".step host op=SOFTMAX in=x out=y,y\nHALT\n", "4:32", "SOFTMAX takes 1 output, got 2", NULL);
  expect_err(TT ".step host op=SOFTMAX in=x out=y,y,y\nHALT\n", "4:36", "more than 2 outputs", NULL);
  expect_err(TT ".step host op=QUANTIZE in=x,x,x,x,x out=y\nHALT\n", "4:35", "more than 4 inputs", NULL);
  expect_err(TT ".step host op=SOFTMAX in=z out=y\nHALT\n", "4:26", "no tensor named 'z'", NULL);
  expect_err(TT ".step host op=SOFTMAX in=\"y \" out=y\nHALT\n", "4:26", "no tensor named 'y '", NULL);
  expect_err(TT ".step host op=SOFTMAX in=7 out=y\nHALT\n", "4:26", "tensor index 7 out of range", "2 tensors");
  expect_err(TT ".step host op=SOFTMAX in=y out=x\nHALT\n", "4:32", "tensor 'x' is an input", "may not write");
  expect_err(TT ".step host op=SOFTMAX in=y out=0\nHALT\n", "4:32", "tensor 'x' is an input", NULL);
  expect_err(TT ".step host op=SOFTMAX out=y\nHALT\n", "4:7", "missing attribute 'in'", "op, in and out");
  expect_err(TT ".step host op=SOFTMAX in=x in=x out=y\nHALT\n", "4:28", "duplicate host step attribute 'in'", NULL);
  expect_err(TT ".step host op=SOFTMAX in=x out=y pc=0\nHALT\n", "4:34", "unknown host step attribute 'pc'",
             "op in out param");
  expect_err(TT ".step host op=SOFTMAX in=x out=y param=1,2,3,4,5,6,7,8,9,10,11\nHALT\n", "4:61",
             "more than 10 parameters", NULL);
  expect_err(TT ".step host op=SOFTMAX in=x out=y param=0x80000000\nHALT\n", "4:40", "param 2147483648 out of range",
             NULL);
  expect_err(TT ".step host op=SOFTMAX in=x out=y param=1,\nHALT\n", "4:42", "missing value", NULL);
  expect_err(TT ".step host op=SOFTMAX in=x out y\nHALT\n", "4:32", "missing '=' after 'out'", NULL);
  /* .layer */
  expect_err(TT ".layer L where=accel\nHALT\n", "4:8", "missing attribute 'op'", "op and where");
  expect_err(TT ".layer L op=Gemm\nHALT\n", "4:8", "missing attribute 'where'", NULL);
  expect_err(TT ".layer L op=Gemm where=gpu\nHALT\n", "4:24", "unknown where 'gpu'", NULL);
  expect_err(TT ".layer L op=Gemm where=accel step=1\nHALT\n", "4:35", "step 1, but the steps are 0..0",
             "without .step");
  expect_err(TT ".step accel pc=0 len=1\n.step accel pc=0 len=1\n.layer L op=Gemm where=accel step=2\nHALT\n", "6:35",
             "step 2, but the steps are 0..1", NULL);
  expect_err(TT ".layer L op=Gemm where=accel pc=0 len=5\nHALT\n", "4:39", "[0, 5) run past the code", NULL);
  expect_err(TT ".layer L op=Gemm where=accel pc=3\nHALT\n", "4:33", "[3, 3) run past the code", NULL);
  expect_err(TT ".layer L op=\"ThisOpIsTooLong!\" where=host\nHALT\n", "4:13", "layer op is too long", "15 bytes");
  expect_err(TT ".layer L op=Conv+Relu where=host\nHALT\n", "4:17", "expected attribute, got '+Relu'", NULL);
  expect_err(TT ".layer L op=Gemm where=host in=1x2x3x4x5\nHALT\n", "4:40", "more than 4 dimensions", NULL);
  expect_err(TT ".layer L op=Gemm where=host macs=18446744073709551616\nHALT\n", "4:34", "macs",
             "does not fit in 64 bits");
  expect_err(TT ".layer L op=Gemm where=host cycles=-1\nHALT\n", "4:36", "cycles -1 out of range", NULL);
  expect_err(TT ".layer L op=Gemm where=host sp_rows=0x100000000\nHALT\n", "4:37", "sp_rows 4294967296 out of range",
             NULL);
  expect_err(TT ".layer L op=Gemm where=host flops=3\nHALT\n", "4:29", "unknown layer attribute 'flops'", "macs");
  expect_err(TT ".layer \"\" op=Gemm where=host\nHALT\n", "4:8", "empty layer name", NULL);
  expect_err(TT ".layer sizeof op=Gemm where=host\nHALT\n", "4:8", "reserved", NULL);
  expect_err(".layer L op=Gemm where=host\n" HW "HALT\n", "1:1", ".layer before the .hw directive", NULL);
#undef TT
}

static void test_line_endings(void) {
  pb_program_t p;
  const char *crlf = ".hw n=4 sp_rows=256 acc_rows=256 host_bytes=65536\r\n.data A 0x100\r\n .i8 1, 2\r\nHALT\r\n";
  if (!assemble(crlf, &p, "CRLF")) {
    CHECK(p.code_len == 1 && p.n_data == 1 && p.data[0].size == 2, "CRLF input assembles");
    pb_program_free(&p);
  }
  if (!assemble(HW "SYNC\nHALT", &p, "no final newline")) {
    CHECK(p.code_len == 2 && p.code[16] == 0x09, "no final newline: last instruction kept");
    pb_program_free(&p);
  }
  if (!assemble(HW "HALT ; the end", &p, "comment without newline")) pb_program_free(&p);
  CHECK(1, "comment at end of input");
  expect_err(HW "HALT\r\nFOO\r\n", "3:1", "unknown mnemonic 'FOO'", NULL);
  expect_err(HW "WEIGHTS sp_addr=1+", "2:19", "missing value", NULL);
  /* errlen 0 and a tiny buffer are safe */
  pb_program_t q;
  CHECK(pb_asm("", NULL, &q, NULL, 0) == -1 && prog_empty(&q), "errlen 0");
  char tiny[12];
  CHECK(pb_asm("", NULL, &q, tiny, sizeof tiny) == -1 && !strcmp(tiny, "<input>:1:1"), "tiny err buffer: \"%s\"", tiny);
}

/* ---- 6. fuzz: mutated sources never crash ---------------------------------------------------- */

static void test_fuzz(uint64_t seed, const char *what, const char *source) {
  rng_state = seed ^ 0x9e3779b97f4a7c15ULL;
  static const char interesting[] = "=,()-+*x0123456789.;#\r\n \t_aAzZ\"\\";
  size_t n = strlen(source);
  char *buf = malloc(n + 64);
  int bad = 0, ok = 0, rt_fail = 0;
  for (int iter = 0; iter < 2000; iter++) {
    memcpy(buf, source, n + 1);
    size_t len = n;
    unsigned muts = 1 + rnd_below(4);
    for (unsigned m = 0; m < muts; m++) {
      size_t at = rnd_below((uint32_t)len + 1);
      char c = rnd_below(2) ? interesting[rnd_below(sizeof interesting - 1)] : (char)(1 + rnd_below(255));
      switch (rnd_below(3)) {
      case 0: /* flip */
        if (at < len) buf[at] = c;
        break;
      case 1: /* delete */
        if (at < len) memmove(buf + at, buf + at + 1, len - at), len--;
        break;
      default: /* insert */
        if (len + 1 < n + 64) memmove(buf + at + 1, buf + at, len - at + 1), buf[at] = c, len++;
      }
    }
    char err[512];
    pb_program_t p;
    int rc = pb_asm(buf, "fuzz", &p, err, rnd_below(8) ? sizeof err : 24);
    if (rc == 0) {
      ok++;
      char why[8192];
      if (round_trip(&p, why, sizeof why) && rt_fail++ < 3) CHECK(0, "fuzz %s %d: assembled but: %s", what, iter, why);
      pb_program_free(&p);
    } else if (rc != -1 || !strstr(err, "error:") || !prog_empty(&p)) {
      if (bad++ < 3) CHECK(0, "fuzz %s %d: rc %d, message \"%s\"", what, iter, rc, err);
    }
  }
  free(buf);
  CHECK(bad == 0 && rt_fail == 0, "2000 mutated %s sources: %d assembled (and round-tripped), %d bad results", what,
        ok, bad + rt_fail);
  printf("# test_asm: fuzz %s: %d of 2000 mutations still assembled\n", what, ok);
}

int main(int argc, char **argv) {
  check_init("test_asm");
  uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 0) : 0x5eed0a5aULL;
  if (!seed) seed = 1;
  printf("# test_asm: seed 0x%llx\n", (unsigned long long)seed);
  test_hand_encodings();
  test_every_instruction();
  test_realistic();
  test_with_steps();
  test_every_host_op();
  test_rq_lanes();
  test_random(seed);
  test_random_full(seed);
  test_errors();
  test_errors_steps();
  test_line_endings();
  test_fuzz(seed, "realistic", realistic);
  test_fuzz(seed, "with_steps", with_steps);
  return check_done();
}
