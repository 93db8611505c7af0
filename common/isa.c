/* SPDX-License-Identifier: Apache-2.0 */
/* Table-driven encoder / decoder derived from include/protobrain/isa.h. */
#include "protobrain/isa.h"

#include <assert.h>
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static const pb_field_info_t field_table[PB_F_COUNT] = {
#define PB_X(ins, f, lsb, w, kind, text) {#f, PB_OP_##ins, lsb, w, (#kind)[0], text},
    PB_ISA_FIELDS(PB_X)
#undef PB_X
};

static const char *const unit_names[] = {
#define PB_X(name, code, text) [code] = #name,
    PB_ISA_UNITS(PB_X)
#undef PB_X
};

/* Built once from the tables: per-instruction field lists. */
static pb_instr_info_t instr_table[] = {
#define PB_X(name, op, unit, text) {#name, PB_OP_##name, PB_UNIT_##unit, text, 0, {0}},
    PB_ISA_INSTRS(PB_X)
#undef PB_X
};

#define NINSTRS (sizeof instr_table / sizeof instr_table[0])

/* field id -> slot index within its instruction */
static int field_slot[PB_F_COUNT];

/* Built exactly once, also when several threads load programs at the same time (pthread_once). */
static void build_once(void) {
  for (unsigned i = 0; i < NINSTRS; i++) {
    pb_instr_info_t *ii = &instr_table[i];
    for (int f = 0; f < PB_F_COUNT; f++) {
      if (field_table[f].op != ii->op) continue;
      assert(ii->nfields < 8);
      field_slot[f] = (int)ii->nfields;
      ii->fields[ii->nfields++] = &field_table[f];
    }
  }
}

static pthread_once_t build_flag = PTHREAD_ONCE_INIT;
static void build(void) { pthread_once(&build_flag, build_once); }

unsigned pb_isa_count(void) { return (unsigned)NINSTRS; }

const pb_instr_info_t *pb_isa_instr(unsigned i) {
  build();
  return i < NINSTRS ? &instr_table[i] : NULL;
}

const pb_instr_info_t *pb_isa_by_opcode(unsigned op) {
  build();
  for (unsigned i = 0; i < NINSTRS; i++)
    if ((unsigned)instr_table[i].op == op) return &instr_table[i];
  return NULL;
}

const pb_instr_info_t *pb_isa_by_name(const char *mnemonic) {
  build();
  for (unsigned i = 0; i < NINSTRS; i++) {
    const char *a = instr_table[i].name, *b = mnemonic;
    while (*a && *b && toupper((unsigned char)*a) == toupper((unsigned char)*b)) a++, b++;
    if (!*a && !*b) return &instr_table[i];
  }
  return NULL;
}

int pb_isa_field_index(const pb_instr_info_t *ii, const char *field) {
  for (unsigned i = 0; i < ii->nfields; i++)
    if (strcmp(ii->fields[i]->name, field) == 0) return (int)i;
  return -1;
}

const char *pb_isa_error_name(unsigned code) {
  switch (code) {
#define PB_X(name, c, text) \
  case c: return #name;
    PB_ISA_ERRORS(PB_X)
#undef PB_X
  default: return "UNKNOWN_ERROR";
  }
}

const char *pb_isa_error_text(unsigned code) {
  switch (code) {
#define PB_X(name, c, text) \
  case c: return text;
    PB_ISA_ERRORS(PB_X)
#undef PB_X
  default: return "unknown error code";
  }
}

const char *pb_isa_unit_name(pb_unit_t u) {
  return (unsigned)u < sizeof unit_names / sizeof unit_names[0] ? unit_names[u] : "?";
}

uint64_t pb_word_get(const pb_word_t *w, unsigned lsb, unsigned width) {
  uint64_t v = 0;
  for (unsigned i = 0; i < width; i++) {
    unsigned b = lsb + i;
    v |= (uint64_t)((w->bytes[b >> 3] >> (b & 7)) & 1u) << i;
  }
  return v;
}

void pb_word_set(pb_word_t *w, unsigned lsb, unsigned width, uint64_t v) {
  for (unsigned i = 0; i < width; i++) {
    unsigned b = lsb + i;
    uint8_t bit = (uint8_t)(1u << (b & 7));
    if ((v >> i) & 1u)
      w->bytes[b >> 3] |= bit;
    else
      w->bytes[b >> 3] &= (uint8_t)~bit;
  }
}

int64_t pb_field_min(const pb_field_info_t *fi) {
  return fi->kind == 'S' ? -((int64_t)1 << (fi->width - 1)) : 0;
}

int64_t pb_field_max(const pb_field_info_t *fi) {
  return fi->kind == 'S' ? ((int64_t)1 << (fi->width - 1)) - 1 : (int64_t)(((uint64_t)1 << fi->width) - 1);
}

int pb_encode(const pb_instr_t *in, pb_word_t *out, char *err, size_t errlen) {
  const pb_instr_info_t *ii = pb_isa_by_opcode((unsigned)in->op);
  memset(out, 0, sizeof *out);
  if (!ii) {
    if (errlen) snprintf(err, errlen, "unknown opcode 0x%02x", (unsigned)in->op);
    return -1;
  }
  pb_word_set(out, 0, 8, (uint64_t)ii->op);
  for (unsigned i = 0; i < ii->nfields; i++) {
    const pb_field_info_t *fi = ii->fields[i];
    int64_t v = in->f[i], lo = pb_field_min(fi), hi = pb_field_max(fi);
    if (v < lo || v > hi) {
      if (errlen)
        snprintf(err, errlen, "%s.%s = %lld out of range [%lld, %lld] (%u-bit %s field)", ii->name, fi->name,
                 (long long)v, (long long)lo, (long long)hi, fi->width, fi->kind == 'S' ? "signed" : "unsigned");
      return -1;
    }
    pb_word_set(out, fi->lsb, fi->width, (uint64_t)v);
  }
  return 0;
}

void pb_isa_reserved_mask(const pb_instr_info_t *ii, pb_word_t *mask) {
  memset(mask->bytes, 0xff, sizeof mask->bytes);
  pb_word_set(mask, 0, 8, 0);
  for (unsigned i = 0; i < ii->nfields; i++) pb_word_set(mask, ii->fields[i]->lsb, ii->fields[i]->width, 0);
}

pb_hw_error_t pb_decode(const pb_word_t *w, pb_instr_t *out) {
  memset(out, 0, sizeof *out);
  unsigned op = (unsigned)pb_word_get(w, 0, 8);
  const pb_instr_info_t *ii = pb_isa_by_opcode(op);
  if (!ii) return PB_ERR_ILLEGAL_OPCODE;
  out->op = ii->op;
  pb_word_t mask;
  pb_isa_reserved_mask(ii, &mask);
  for (unsigned b = 0; b < PB_INSTR_BYTES; b++)
    if (w->bytes[b] & mask.bytes[b]) return PB_ERR_RESERVED_BITS;
  for (unsigned i = 0; i < ii->nfields; i++) {
    const pb_field_info_t *fi = ii->fields[i];
    uint64_t raw = pb_word_get(w, fi->lsb, fi->width);
    int64_t v = (int64_t)raw;
    if (fi->kind == 'S' && (raw >> (fi->width - 1)) & 1u) v = (int64_t)raw - ((int64_t)1 << fi->width);
    out->f[i] = v;
  }
  return PB_ERR_NONE;
}

int64_t pb_instr_field(const pb_instr_t *in, pb_field_id_t id) {
  build();
  assert((unsigned)id < PB_F_COUNT);
  assert(field_table[id].op == in->op);
  return in->f[field_slot[id]];
}

pb_hw_error_t pb_isa_format_word(const pb_word_t *w, char *buf, size_t len) {
  pb_instr_t in;
  pb_hw_error_t rc = pb_decode(w, &in);
  if (!len) return rc;
  if (rc != PB_ERR_NONE) {
    char hex[2 * PB_INSTR_BYTES + 1];
    for (unsigned i = 0; i < PB_INSTR_BYTES; i++) /* most significant byte first */
      snprintf(hex + 2 * i, 3, "%02x", w->bytes[PB_INSTR_BYTES - 1 - i]);
    snprintf(buf, len, ".word 0x%s ; %s: %s", hex, pb_isa_error_name(rc), pb_isa_error_text(rc));
    return rc;
  }
  const pb_instr_info_t *ii = pb_isa_by_opcode((unsigned)in.op);
  size_t n = 0;
  int k = snprintf(buf, len, "%s", ii->name);
  for (unsigned i = 0; i < ii->nfields && k >= 0 && (n += (size_t)k) < len; i++) {
    const pb_field_info_t *fi = ii->fields[i];
    if (!strcmp(fi->name, "host_addr"))
      k = snprintf(buf + n, len - n, " %s=0x%08llx", fi->name, (unsigned long long)in.f[i]);
    else
      k = snprintf(buf + n, len - n, " %s=%lld", fi->name, (long long)in.f[i]);
  }
  return rc;
}
