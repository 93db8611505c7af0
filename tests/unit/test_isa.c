/* SPDX-License-Identifier: Apache-2.0 */
/* The table-driven encoder/decoder: bit positions by hand, range rejection, reserved bits. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "protobrain/isa.h"

static void test_tables(void) {
  CHECK_EQ_INT(pb_isa_count(), 10, "instruction count (LOAD..STORE_ACC)");
  const char *names[] = {"LOAD", "LOAD_ACC", "WEIGHTS", "MATMUL", "ACTIVATE", "STORE", "CONFIG", "SYNC", "HALT",
                         "STORE_ACC"};
  for (unsigned i = 0; i < 10; i++) {
    const pb_instr_info_t *ii = pb_isa_by_name(names[i]);
    CHECK(ii && pb_isa_by_opcode((unsigned)ii->op) == ii, "%s found by name and opcode", names[i]);
  }
  CHECK(pb_isa_by_name("load_acc") != NULL, "mnemonics are case-insensitive");
  CHECK(pb_isa_by_name("LOADX") == NULL && pb_isa_by_name("LOA") == NULL, "no prefix matches");
  CHECK(pb_isa_by_opcode(0) == NULL, "opcode 0 is illegal");
  /* fields never overlap each other or the opcode, never straddle bit 64, fit in 128 bits */
  for (unsigned i = 0; i < pb_isa_count(); i++) {
    const pb_instr_info_t *ii = pb_isa_instr(i);
    unsigned char used[128] = {0};
    for (int b = 0; b < 8; b++) used[b] = 1;
    int ok = 1;
    for (unsigned f = 0; f < ii->nfields; f++) {
      const pb_field_info_t *fi = ii->fields[f];
      if (fi->lsb + fi->width > 128 || (fi->lsb < 64 && fi->lsb + fi->width > 64) || fi->width == 0) ok = 0;
      for (unsigned b = fi->lsb; b < fi->lsb + fi->width && b < 128; b++) ok &= !used[b]++;
    }
    CHECK(ok, "%s: fields are disjoint, within 128 bits and do not straddle bit 64", ii->name);
  }
  CHECK(!strcmp(pb_isa_error_name(PB_ERR_HOST_RANGE), "HOST_RANGE") && PB_ERR_HOST_RANGE == 6, "error names");
}

static void test_hand_encoding(void) {
  /* LOAD sp_col=1 cols=2 sp_addr=0x0304 rows=0x0506 host_stride=0x070809 host_addr=0x0a0b0c0d, by the layout:
   * byte 0 op 0x01, byte 1 sp_col, byte 2 cols, byte 3 reserved, bytes 4-5 sp_addr, 6-7 rows,
   * bytes 8-10 host_stride, byte 11 reserved, bytes 12-15 host_addr. */
  const pb_instr_info_t *ii = pb_isa_by_name("LOAD");
  pb_instr_t in = {.op = PB_OP_LOAD};
  int64_t v[] = {1, 2, 0x0304, 0x0506, 0x070809, 0x0a0b0c0d};
  const char *order[] = {"sp_col", "cols", "sp_addr", "rows", "host_stride", "host_addr"};
  for (int i = 0; i < 6; i++) in.f[pb_isa_field_index(ii, order[i])] = v[i];
  pb_word_t w;
  char err[256];
  CHECK(pb_encode(&in, &w, err, sizeof err) == 0, "encode LOAD: %s", err);
  const uint8_t want[16] = {0x01, 1, 2, 0, 0x04, 0x03, 0x06, 0x05, 0x09, 0x08, 0x07, 0, 0x0d, 0x0c, 0x0b, 0x0a};
  CHECK(memcmp(w.bytes, want, 16) == 0, "LOAD bytes match the hand layout");
  pb_instr_t back;
  CHECK(pb_decode(&w, &back) == PB_ERR_NONE && memcmp(back.f, in.f, sizeof in.f) == 0, "decode(encode(LOAD))");
  CHECK_EQ_INT(pb_instr_field(&back, PB_F_LOAD_host_addr), 0x0a0b0c0d, "pb_instr_field LOAD.host_addr");

  /* CONFIG zp=-1 lo=-128 hi=127 host_addr=0x100: byte1 0xff, byte2 0x80, byte3 0x7f, bytes 12.. 00 01 00 00 */
  ii = pb_isa_by_name("CONFIG");
  pb_instr_t c = {.op = PB_OP_CONFIG};
  c.f[pb_isa_field_index(ii, "zp")] = -1;
  c.f[pb_isa_field_index(ii, "lo")] = -128;
  c.f[pb_isa_field_index(ii, "hi")] = 127;
  c.f[pb_isa_field_index(ii, "host_addr")] = 0x100;
  CHECK(pb_encode(&c, &w, err, sizeof err) == 0, "encode CONFIG: %s", err);
  const uint8_t wc[16] = {0x07, 0xff, 0x80, 0x7f, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x01, 0, 0};
  CHECK(memcmp(w.bytes, wc, 16) == 0, "CONFIG bytes match the hand layout (signed fields)");
  CHECK(pb_decode(&w, &back) == PB_ERR_NONE && back.f[pb_isa_field_index(ii, "zp")] == -1 &&
            back.f[pb_isa_field_index(ii, "lo")] == -128,
        "signed fields sign-extend on decode");

  /* MATMUL acc flag is bit 8 */
  pb_instr_t mm = {.op = PB_OP_MATMUL};
  mm.f[pb_isa_field_index(pb_isa_by_name("MATMUL"), "acc")] = 1;
  mm.f[pb_isa_field_index(pb_isa_by_name("MATMUL"), "rows")] = 1;
  CHECK(pb_encode(&mm, &w, err, sizeof err) == 0 && w.bytes[0] == 0x04 && w.bytes[1] == 0x01 && w.bytes[6] == 1,
        "MATMUL acc flag at bit 8, rows at bit 48");
}

static void test_ranges(void) {
  char err[256];
  pb_word_t w;
  const pb_instr_info_t *ii = pb_isa_by_name("LOAD");
  pb_instr_t in = {.op = PB_OP_LOAD};
  in.f[pb_isa_field_index(ii, "rows")] = 65536;
  CHECK(pb_encode(&in, &w, err, sizeof err) == -1 && strstr(err, "LOAD.rows") && strstr(err, "65535"),
        "rows=65536 rejected naming the field and range: '%s'", err);
  in.f[pb_isa_field_index(ii, "rows")] = -1;
  CHECK(pb_encode(&in, &w, err, sizeof err) == -1, "negative unsigned field rejected");
  in.f[pb_isa_field_index(ii, "rows")] = 1;
  in.f[pb_isa_field_index(ii, "host_stride")] = 1 << 24;
  CHECK(pb_encode(&in, &w, err, sizeof err) == -1 && strstr(err, "host_stride"), "24-bit stride overflow rejected");
  ii = pb_isa_by_name("CONFIG");
  pb_instr_t c = {.op = PB_OP_CONFIG};
  c.f[pb_isa_field_index(ii, "zp")] = 128;
  CHECK(pb_encode(&c, &w, err, sizeof err) == -1 && strstr(err, "[-128, 127]"), "signed zp=128 rejected: '%s'", err);
  c.f[pb_isa_field_index(ii, "zp")] = -129;
  CHECK(pb_encode(&c, &w, err, sizeof err) == -1, "signed zp=-129 rejected");
  pb_instr_t mm = {.op = PB_OP_MATMUL};
  mm.f[pb_isa_field_index(pb_isa_by_name("MATMUL"), "acc")] = 2;
  CHECK(pb_encode(&mm, &w, err, sizeof err) == -1, "flag=2 rejected");
  pb_instr_t bad = {.op = (pb_opcode_t)0x42};
  CHECK(pb_encode(&bad, &w, err, sizeof err) == -1 && strstr(err, "0x42"), "unknown opcode rejected");
}

static void test_reserved(void) {
  /* every bit outside the fields and opcode makes decode fail with RESERVED_BITS; every field bit does not */
  for (unsigned i = 0; i < pb_isa_count(); i++) {
    const pb_instr_info_t *ii = pb_isa_instr(i);
    pb_word_t mask;
    pb_isa_reserved_mask(ii, &mask);
    int ok = 1;
    for (unsigned b = 8; b < 128; b++) {
      pb_word_t w;
      pb_instr_t out;
      memset(&w, 0, sizeof w);
      pb_word_set(&w, 0, 8, (uint64_t)ii->op);
      pb_word_set(&w, b, 1, 1);
      int reserved = (int)pb_word_get(&mask, b, 1);
      pb_hw_error_t e = pb_decode(&w, &out);
      if ((e == PB_ERR_RESERVED_BITS) != reserved) ok = 0;
    }
    CHECK(ok, "%s: exactly the unclaimed bits are reserved", ii->name);
  }
  pb_word_t z;
  pb_instr_t out;
  memset(&z, 0, sizeof z);
  CHECK(pb_decode(&z, &out) == PB_ERR_ILLEGAL_OPCODE, "an all-zero word is ILLEGAL_OPCODE");
}

int main(void) {
  check_init("test_isa");
  test_tables();
  test_hand_encoding();
  test_ranges();
  test_reserved();
  return check_done();
}
