/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Every error class of the reference model: the right code, the faulting PC,
 * instructions before it completed, and nothing at or after it changed state
 * (compared with the same program where the faulting instruction is a HALT).
 * Runs under ASan + UBSan too, so an out-of-bounds write would be caught.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asm.h"
#include "check.h"
#include "refmodel.h"

#define HW ".hw n=4 sp_rows=64 acc_rows=32 host_bytes=4096\n"
/* A prologue of 3 good instructions that write host memory, scratchpad and accumulator. */
#define PROLOGUE                                                                                  \
  ".data A 0x800\n .i8 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16\n"                   \
  ".data CFG 0x900\n .i32 0\n .f32 1.0\n .i32 0\n .f32 1.0\n .i32 0\n .f32 1.0\n .i32 0\n .f32 1.0\n" \
  ".data ACC 0xa00\n .i32 1, 2, 3, 4\n"                                                           \
  ".buffer OUT 0xc00 64 io\n"                                                                     \
  "LOAD sp_col=0 cols=4 sp_addr=0 rows=4 host_stride=4 host_addr=A\n"                            \
  "LOAD_ACC acc_addr=0 rows=1 host_stride=0 host_addr=ACC\n"                                      \
  "STORE sp_col=0 cols=4 sp_addr=0 rows=1 host_stride=0 host_addr=OUT\n"

typedef struct {
  uint32_t max_pc; /* highest PC that wrote anything */
  int wrote;
} hook_t;

static void on_write(void *ctx, uint32_t pc, pb_mem_t mem, uint32_t addr, const uint8_t *d, uint32_t len) {
  hook_t *h = ctx;
  (void)mem, (void)addr, (void)d, (void)len;
  if (!h->wrote || pc > h->max_pc) h->max_pc = pc;
  h->wrote = 1;
}

static pb_model_t *run(const char *src, pb_program_t *p, hook_t *h, const char *what) {
  char err[512];
  check_dump_src(what, src);
  if (pb_asm(src, what, p, err, sizeof err)) {
    CHECK(0, "%s: assembly failed: %s", what, err);
    return NULL;
  }
  pb_model_t *m = pb_model_new(&p->hw);
  pb_error_t e;
  if (!m || pb_model_load_program(m, p, &e)) {
    CHECK(0, "%s: load failed", what);
    pb_model_free(m);
    pb_program_free(p);
    return NULL;
  }
  if (h) pb_model_set_write_hook(m, on_write, h);
  pb_model_start(m, p->code_addr, p->code_len);
  pb_model_run(m, 1000);
  return m;
}

/*
 * The program data + PROLOGUE + bad + HALT must stop with `code` at PC 3, and leave
 * the state of data + PROLOGUE + HALT + HALT.
 */
static void expect_error_data(const char *data, const char *bad, pb_hw_error_t code, const char *what) {
  char src[4096], ref[4096];
  snprintf(src, sizeof src, HW "%s" PROLOGUE "%s\nHALT\n", data, bad);
  snprintf(ref, sizeof ref, HW "%s" PROLOGUE "HALT\nHALT\n", data);
  pb_program_t p, q;
  hook_t h = {0, 0};
  pb_model_t *m = run(src, &p, &h, what);
  if (!m) return;
  char refname[160];
  snprintf(refname, sizeof refname, "%s (reference)", what);
  pb_model_t *r = run(ref, &q, NULL, refname);
  if (!r) {
    pb_model_free(m);
    pb_program_free(&p);
    return;
  }
  CHECK(pb_model_state(m) == PB_STATE_ERROR && pb_model_error(m) == code && pb_model_pc(m) == 3,
        "%s: got state %d error %s at pc %u; expected %s at pc 3", what, pb_model_state(m),
        pb_isa_error_name(pb_model_error(m)), pb_model_pc(m), pb_isa_error_name(code));
  CHECK(h.wrote && h.max_pc == 2, "%s: last write by pc %u, expected 2 (the prologue's STORE)", what, h.max_pc);
  CHECK_EQ_INT(pb_model_counters(m)->instrs, 3, what);
  const pb_hw_t *hw = pb_model_hw(m);
  /* Same memories as the reference run, except the code itself (the faulting word vs HALT). */
  uint8_t *hm = pb_model_host(m), *hr = pb_model_host(r);
  size_t code_end = (size_t)p.code_len * 16;
  CHECK(memcmp(hm + code_end, hr + code_end, hw->host_bytes - code_end) == 0, "%s: host memory changed", what);
  CHECK(memcmp(pb_model_sp(m), pb_model_sp(r), (size_t)hw->sp_rows * hw->n) == 0, "%s: scratchpad changed", what);
  CHECK(memcmp(pb_model_acc(m), pb_model_acc(r), (size_t)hw->acc_rows * hw->n * 4) == 0, "%s: accumulator changed",
        what);
  pb_model_free(m);
  pb_model_free(r);
  pb_program_free(&p);
  pb_program_free(&q);
}

static void expect_error(const char *bad, pb_hw_error_t code, const char *what) {
  expect_error_data("", bad, code, what);
}

/* A `.word` line for opcode `op` with one extra bit set (bit < 0: none). */
static const char *word_line(unsigned op, int bit, char *buf, size_t len) {
  pb_word_t w;
  memset(&w, 0, sizeof w);
  pb_word_set(&w, 0, 8, op);
  if (bit >= 0) pb_word_set(&w, (unsigned)bit, 1, 1);
  int o = snprintf(buf, len, ".word 0x");
  for (int b = 15; b >= 0; b--) o += snprintf(buf + o, len - (size_t)o, "%02x", w.bytes[b]);
  return buf;
}

static void test_illegal_and_reserved(void) {
  char b[128];
  expect_error(word_line(0x00, -1, b, sizeof b), PB_ERR_ILLEGAL_OPCODE, "opcode 0x00");
  expect_error(word_line(0x0b, -1, b, sizeof b), PB_ERR_ILLEGAL_OPCODE, "opcode 0x0b (one past STORE_ACC)");
  expect_error(word_line(PB_OP_STORE_ACC, 8, b, sizeof b), PB_ERR_RESERVED_BITS, "STORE_ACC with bit 8");
  expect_error(word_line(0xff, -1, b, sizeof b), PB_ERR_ILLEGAL_OPCODE, "opcode 0xff");
  expect_error(word_line(PB_OP_HALT, 127, b, sizeof b), PB_ERR_RESERVED_BITS, "HALT with bit 127");
  expect_error(word_line(PB_OP_SYNC, 8, b, sizeof b), PB_ERR_RESERVED_BITS, "SYNC with bit 8");
  expect_error(word_line(PB_OP_MATMUL, 9, b, sizeof b), PB_ERR_RESERVED_BITS, "MATMUL with bit 9");
  expect_error(word_line(PB_OP_LOAD, 90, b, sizeof b), PB_ERR_RESERVED_BITS, "LOAD with bit 90");
}

static void test_field_range(void) {
  expect_error("LOAD sp_col=0 cols=4 sp_addr=0 rows=0 host_stride=4 host_addr=A", PB_ERR_FIELD_RANGE, "LOAD rows=0");
  expect_error("LOAD sp_col=0 cols=0 sp_addr=0 rows=1 host_stride=4 host_addr=A", PB_ERR_FIELD_RANGE, "LOAD cols=0");
  expect_error("LOAD sp_col=0 cols=5 sp_addr=0 rows=1 host_stride=4 host_addr=A", PB_ERR_FIELD_RANGE, "LOAD cols>N");
  expect_error("LOAD sp_col=3 cols=2 sp_addr=0 rows=1 host_stride=4 host_addr=A", PB_ERR_FIELD_RANGE,
               "LOAD sp_col+cols>N");
  expect_error("STORE sp_col=4 cols=1 sp_addr=0 rows=1 host_stride=4 host_addr=OUT", PB_ERR_FIELD_RANGE,
               "STORE sp_col=N");
  expect_error("MATMUL acc=0 sp_addr=0 rows=0 acc_addr=0", PB_ERR_FIELD_RANGE, "MATMUL rows=0");
  expect_error("ACTIVATE pool=1 sp_addr=0 rows=0 acc_addr=0 pool_stride=0", PB_ERR_FIELD_RANGE, "ACTIVATE rows=0");
  expect_error("ACTIVATE pool=0 sp_addr=0 rows=1 acc_addr=0 pool_stride=0", PB_ERR_FIELD_RANGE, "ACTIVATE pool=0");
  expect_error("ACTIVATE pool=17 sp_addr=0 rows=1 acc_addr=0 pool_stride=0", PB_ERR_FIELD_RANGE, "ACTIVATE pool=17");
  expect_error("LOAD_ACC acc_addr=0 rows=0 host_stride=0 host_addr=ACC", PB_ERR_FIELD_RANGE, "LOAD_ACC rows=0");
  expect_error("STORE_ACC cols=4 acc_addr=0 rows=0 host_stride=0 host_addr=OUT", PB_ERR_FIELD_RANGE, "STORE_ACC rows=0");
  expect_error("STORE_ACC cols=0 acc_addr=0 rows=1 host_stride=0 host_addr=OUT", PB_ERR_FIELD_RANGE, "STORE_ACC cols=0");
  expect_error("STORE_ACC cols=5 acc_addr=0 rows=1 host_stride=0 host_addr=OUT", PB_ERR_FIELD_RANGE, "STORE_ACC cols>N");
  expect_error("CONFIG zp=0 lo=5 hi=4 host_addr=CFG", PB_ERR_FIELD_RANGE, "CONFIG lo>hi");
  /* a FIELD_RANGE takes precedence over a range error in the same instruction */
  expect_error("LOAD sp_col=0 cols=0 sp_addr=100 rows=1 host_stride=4 host_addr=5000", PB_ERR_FIELD_RANGE,
               "FIELD before SP and HOST");
}

static void test_sp_acc_range(void) {
  expect_error("LOAD sp_col=0 cols=4 sp_addr=62 rows=3 host_stride=4 host_addr=A", PB_ERR_SP_RANGE, "LOAD sp end");
  expect_error("WEIGHTS sp_addr=61", PB_ERR_SP_RANGE, "WEIGHTS sp_addr+N > SP");
  expect_error("MATMUL acc=1 sp_addr=63 rows=2 acc_addr=0", PB_ERR_SP_RANGE, "MATMUL sp end");
  expect_error("ACTIVATE pool=1 sp_addr=64 rows=1 acc_addr=0 pool_stride=0", PB_ERR_SP_RANGE, "ACTIVATE sp end");
  expect_error("STORE sp_col=0 cols=1 sp_addr=65535 rows=1 host_stride=0 host_addr=OUT", PB_ERR_SP_RANGE,
               "STORE sp_addr=65535");
  expect_error("MATMUL acc=1 sp_addr=0 rows=2 acc_addr=31", PB_ERR_ACC_RANGE, "MATMUL acc end");
  expect_error("ACTIVATE pool=1 sp_addr=0 rows=33 acc_addr=0 pool_stride=0", PB_ERR_ACC_RANGE, "ACTIVATE acc end");
  expect_error("LOAD_ACC acc_addr=32 rows=1 host_stride=0 host_addr=ACC", PB_ERR_ACC_RANGE, "LOAD_ACC acc end");
  expect_error("STORE_ACC cols=4 acc_addr=31 rows=2 host_stride=0 host_addr=OUT", PB_ERR_ACC_RANGE, "STORE_ACC acc end");
  expect_error("ACTIVATE pool=4 sp_addr=0 rows=2 acc_addr=0 pool_stride=11", PB_ERR_ACC_RANGE,
               "ACTIVATE pooled rows end: 0 + 3*11 + 2 > 32");
  expect_error("MATMUL acc=1 sp_addr=64 rows=1 acc_addr=32", PB_ERR_SP_RANGE, "SP before ACC");
}

static void test_host_range(void) {
  expect_error("LOAD sp_col=0 cols=2 sp_addr=0 rows=1 host_stride=0 host_addr=4095", PB_ERR_HOST_RANGE,
               "LOAD last byte + 1");
  expect_error("LOAD sp_col=0 cols=1 sp_addr=0 rows=64 host_stride=66 host_addr=0", PB_ERR_HOST_RANGE,
               "LOAD strided end");
  expect_error("LOAD sp_col=0 cols=1 sp_addr=0 rows=1 host_stride=0 host_addr=0xffffffff", PB_ERR_HOST_RANGE,
               "LOAD host_addr 2^32-1");
  expect_error("LOAD sp_col=0 cols=4 sp_addr=0 rows=60 host_stride=0xffffff host_addr=0xfffffff0", PB_ERR_HOST_RANGE,
               "LOAD 64-bit end");
  expect_error("STORE sp_col=0 cols=4 sp_addr=0 rows=2 host_stride=2048 host_addr=0xc00", PB_ERR_HOST_RANGE,
               "STORE strided end");
  expect_error("STORE sp_col=0 cols=4 sp_addr=0 rows=1 host_stride=0 host_addr=0x10", PB_ERR_HOST_RANGE,
               "STORE over the program");
  expect_error("STORE sp_col=0 cols=4 sp_addr=0 rows=1 host_stride=0 host_addr=0x4c", PB_ERR_HOST_RANGE,
               "STORE touching the program's last byte");
  expect_error("LOAD_ACC acc_addr=0 rows=1 host_stride=0 host_addr=4081", PB_ERR_HOST_RANGE,
               "LOAD_ACC 16 bytes past 4080");
  expect_error("CONFIG zp=0 lo=-128 hi=127 host_addr=4065", PB_ERR_HOST_RANGE, "CONFIG 32 bytes past 4064");
  expect_error("STORE_ACC cols=4 acc_addr=0 rows=1 host_stride=0 host_addr=4081", PB_ERR_HOST_RANGE,
               "STORE_ACC 16 bytes past 4080");
  expect_error("STORE_ACC cols=1 acc_addr=0 rows=1 host_stride=0 host_addr=4093", PB_ERR_HOST_RANGE,
               "STORE_ACC cols=1: 4 bytes past 4092");
  expect_error("STORE_ACC cols=4 acc_addr=0 rows=2 host_stride=2048 host_addr=0xc00", PB_ERR_HOST_RANGE,
               "STORE_ACC strided end");
  expect_error("STORE_ACC cols=4 acc_addr=0 rows=1 host_stride=0 host_addr=0x40", PB_ERR_HOST_RANGE,
               "STORE_ACC touching the program's last word");
}

static void test_config_value(void) {
  struct {
    uint32_t bits;
    const char *what;
  } bad[] = {{0xbf800000u, "-1.0"}, {0x80000000u, "-0.0"}, {0x7f800000u, "+inf"}, {0x7fc00000u, "NaN"},
             {0xff800000u, "-inf"}};
  for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char src[4096], what[64];
    snprintf(what, sizeof what, "CONFIG multiplier %s", bad[i].what);
    snprintf(src, sizeof src,
             ".data BADCFG 0xb00\n .i32 0\n .f32 1.0\n .i32 0\n .f32 1.0\n .i32 7\n .f32bits 0x%08x\n .i32 0\n .f32 1.0\n",
             bad[i].bits);
    expect_error_data(src, "CONFIG zp=0 lo=-128 hi=127 host_addr=BADCFG", PB_ERR_CONFIG_VALUE, what);
  }
}

static void test_pc_range(void) {
  pb_program_t p;
  pb_model_t *m = run(HW PROLOGUE, &p, NULL, "no HALT");
  if (!m) return;
  CHECK(pb_model_state(m) == PB_STATE_ERROR && pb_model_error(m) == PB_ERR_PC_RANGE && pb_model_pc(m) == 3,
        "no HALT: got error %s at pc %u, expected PC_RANGE at pc 3", pb_isa_error_name(pb_model_error(m)),
        pb_model_pc(m));
  pb_model_free(m);
  pb_program_free(&p);
}

static void test_good_edges(void) {
  /* The largest legal ranges run without error. */
  pb_program_t p;
  pb_model_t *m = run(HW PROLOGUE
                      "LOAD sp_col=3 cols=1 sp_addr=63 rows=1 host_stride=0 host_addr=4095\n"
                      "WEIGHTS sp_addr=60\n"
                      "MATMUL acc=1 sp_addr=0 rows=32 acc_addr=0\n"
                      "STORE sp_col=0 cols=4 sp_addr=0 rows=1 host_stride=0 host_addr=4092\n"
                      "CONFIG zp=0 lo=0 hi=0 host_addr=4064\n"
                      "ACTIVATE pool=16 sp_addr=62 rows=2 acc_addr=0 pool_stride=2\n"
                      "HALT\n",
                      &p, NULL, "edges");
  if (!m) return;
  CHECK(pb_model_state(m) == PB_STATE_DONE, "legal edge ranges: error %s at pc %u",
        pb_isa_error_name(pb_model_error(m)), pb_model_pc(m));
  pb_model_free(m);
  pb_program_free(&p);
}

static void test_hw_mismatch(void) {
  char err[512];
  pb_program_t p;
  if (pb_asm(HW "HALT\n", "hw", &p, err, sizeof err)) {
    CHECK(0, "hw: %s", err);
    return;
  }
  pb_hw_t other = p.hw;
  other.n = 8;
  pb_model_t *m = pb_model_new(&other);
  pb_error_t e;
  CHECK(m && pb_model_load_program(m, &p, &e) == -1 && strstr(e.msg, "n=4") && strstr(e.msg, "n=8"),
        "a program for n=4 refused by an n=8 model with both named: '%s'", m ? e.msg : "no model");
  pb_model_free(m);
  pb_hw_t bad = {0, 16, 16, 4096, 0};
  CHECK(pb_model_new(&bad) == NULL, "a model with n=0 is refused");
  pb_program_free(&p);
}

int main(void) {
  check_init("test_model_errors");
  test_illegal_and_reserved();
  test_field_range();
  test_sp_acc_range();
  test_host_range();
  test_config_value();
  test_pc_range();
  test_good_edges();
  test_hw_mismatch();
  return check_done();
}
