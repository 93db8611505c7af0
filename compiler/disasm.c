/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Disassembler: pb_program_t -> canonical assembly text (docs/asm.md).
 * The output re-assembles with pb_asm() to the same program; names that the
 * assembler would refuse (foreign programs) are replaced by generated ones.
 */
#include "asm.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  char *s;
  size_t n, cap;
  int oom;
} sb_t;

static void sb_printf(sb_t *b, const char *fmt, ...) {
  if (b->oom) return;
  for (;;) {
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(b->s ? b->s + b->n : NULL, b->s ? b->cap - b->n : 0, fmt, ap);
    va_end(ap);
    if (k < 0) {
      b->oom = 1;
      return;
    }
    if (b->s && b->n + (size_t)k < b->cap) {
      b->n += (size_t)k;
      return;
    }
    size_t c = b->cap ? b->cap : 4096;
    while (c <= b->n + (size_t)k) c *= 2;
    char *q = realloc(b->s, c);
    if (!q) {
      b->oom = 1;
      return;
    }
    b->s = q;
    b->cap = c;
  }
}

int pb_disasm_word(const pb_word_t *w, char *buf, size_t len) { return (int)pb_isa_format_word(w, buf, len); }

/* ---- names ------------------------------------------------------------------ */

typedef char name_t[PB_NAME_MAX];

static int name_in(const name_t *v, size_t n, const char *name) {
  for (size_t i = 0; i < n; i++)
    if (!strcmp(v[i], name)) return 1;
  return 0;
}

static int region_name_is(const pb_region_t *r, const char *name) {
  return strlen(name) < PB_NAME_MAX && !strncmp(r->name, name, PB_NAME_MAX);
}

/* Is `name` taken by any region of p or already chosen? */
static int taken(const pb_program_t *p, const name_t *chosen, size_t n, const char *name) {
  if (name_in(chosen, n, name)) return 1;
  for (uint32_t i = 0; i < p->n_regions; i++)
    if (region_name_is(&p->regions[i], name)) return 1;
  return 0;
}

/* Choose the region's own name when usable and still free, else prefix<k>. */
static void choose(const pb_program_t *p, name_t *chosen, size_t n, const char *own, const char *prefix, unsigned k) {
  if (own && pb_asm_name_ok(own, PB_NAME_MAX, 1) && !name_in(chosen, n, own)) {
    memcpy(chosen[n], own, PB_NAME_MAX);
    chosen[n][PB_NAME_MAX - 1] = 0;
    return;
  }
  for (unsigned j = 0;; j++) {
    if (j == 0)
      snprintf(chosen[n], PB_NAME_MAX, "%s%u", prefix, k);
    else
      snprintf(chosen[n], PB_NAME_MAX, "%s%u_%u", prefix, k, j);
    if (!taken(p, chosen, n, chosen[n])) return;
  }
}

/* ---- program ---------------------------------------------------------------- */

static void emit_bytes(sb_t *b, const uint8_t *bytes, uint32_t size) {
  if (!bytes) size = 0;
  for (uint32_t i = 0; i < size; i++) {
    if (i % 16 == 0) sb_printf(b, "%s  .i8 ", i ? "\n" : "");
    sb_printf(b, "%s%d", i % 16 ? ", " : "", (int)(int8_t)bytes[i]);
  }
  if (size) sb_printf(b, "\n");
}

static void emit_tensor(sb_t *b, const pb_tensor_t *t, const char *name) {
  const char *dt = pb_asm_dtype_name(t->dtype);
  unsigned rank = t->rank > PB_MAX_RANK ? PB_MAX_RANK : t->rank;
  sb_printf(b, ".tensor %s %s addr=0x%08x dtype=%s shape=", t->kind == PB_TENSOR_OUTPUT ? "output" : "input", name,
            t->host_addr, dt ? dt : "?");
  for (unsigned d = 0; d < rank; d++) sb_printf(b, "%s%u", d ? "x" : "", t->dims[d]);
  sb_printf(b, " strides=");
  for (unsigned d = 0; d < rank; d++) sb_printf(b, "%s%u", d ? "," : "", t->strides[d]);
  sb_printf(b, " scale=%.9g zp=%d%s\n", (double)t->scale, t->zero_point, (t->flags & PB_TF_FLOAT_IO) ? " float" : "");
}

char *pb_disasm(const pb_program_t *p) {
  sb_t b = {0};
  size_t nreg = p->regions ? p->n_regions : 0, ndata = p->data ? p->n_data : 0;
  uint32_t ntensors = p->tensors ? p->n_tensors : 0;
  /* names chosen so far for data blocks and buffers, in output order */
  name_t *names = calloc(ndata + nreg + 1, sizeof(name_t));
  long *data_region = calloc(ndata + 1, sizeof(long)); /* region index named by data block i, or -1 */
  char *used = calloc(nreg + 1, 1);
  name_t *tnames = calloc(ntensors + 1u, sizeof(name_t));
  if (!names || !data_region || !used || !tnames) b.oom = 1;
  if (b.oom) goto out;

  sb_printf(&b, "; Protobrain assembly (pb_disasm), ISA v%u: %u instructions, %u data blocks, %u tensors, %u regions\n",
            PB_ISA_VERSION, p->code_len, p->n_data, p->n_tensors, p->n_regions);
  char hwt[128];
  sb_printf(&b, ".hw %s\n", pb_hw_format(&p->hw, hwt, sizeof hwt));
  sb_printf(&b, ".code 0x%08x\n", p->code_addr);

  /* the "code" region is recreated by .code */
  for (size_t r = 0; r < nreg; r++)
    if (p->regions[r].kind == PB_REG_CODE && region_name_is(&p->regions[r], "code")) used[r] = 1;

  size_t nn = 0;
  for (size_t i = 0; i < ndata; i++) {
    const pb_data_t *d = &p->data[i];
    data_region[i] = -1;
    for (size_t r = 0; r < nreg; r++) {
      const pb_region_t *rg = &p->regions[r];
      if (used[r] || rg->kind != PB_REG_CONST || rg->addr != d->host_addr || rg->size != d->size) continue;
      if (!pb_asm_name_ok(rg->name, PB_NAME_MAX, 1) || name_in(names, nn, rg->name)) continue;
      used[r] = 1;
      data_region[i] = (long)r;
      break;
    }
    choose(p, names, nn, data_region[i] >= 0 ? p->regions[data_region[i]].name : NULL, "d", (unsigned)i);
    nn++;
    sb_printf(&b, ".data %s 0x%08x\n", names[nn - 1], d->host_addr);
    emit_bytes(&b, d->bytes, d->size);
  }
  for (size_t r = 0; r < nreg; r++) {
    const pb_region_t *rg = &p->regions[r];
    if (used[r]) continue;
    const char *kind = pb_asm_region_kind_name(rg->kind);
    if (!kind) {
      sb_printf(&b, "; region %zu has unknown kind %u: not representable\n", r, rg->kind);
      continue;
    }
    choose(p, names, nn, rg->name, "r", (unsigned)r);
    nn++;
    sb_printf(&b, ".buffer %s 0x%08x %u %s\n", names[nn - 1], rg->addr, rg->size, kind);
  }

  for (uint32_t i = 0; i < ntensors; i++) {
    const pb_tensor_t *t = &p->tensors[i];
    if (pb_asm_name_ok(t->name, PB_NAME_MAX, 0) && !name_in(tnames, i, t->name)) {
      memcpy(tnames[i], t->name, PB_NAME_MAX);
      tnames[i][PB_NAME_MAX - 1] = 0;
    } else {
      for (unsigned j = 0;; j++) {
        if (j == 0)
          snprintf(tnames[i], PB_NAME_MAX, "t%u", i);
        else
          snprintf(tnames[i], PB_NAME_MAX, "t%u_%u", i, j);
        int clash = name_in(tnames, i, tnames[i]);
        for (uint32_t k = 0; k < ntensors && !clash; k++) clash = !strncmp(p->tensors[k].name, tnames[i], PB_NAME_MAX);
        if (!clash) break;
      }
    }
    emit_tensor(&b, t, tnames[i]);
  }
  for (uint32_t pc = 0; p->code && pc < p->code_len; pc++) {
    pb_word_t w;
    char line[160];
    memcpy(w.bytes, p->code + (size_t)pc * PB_INSTR_BYTES, PB_INSTR_BYTES);
    pb_disasm_word(&w, line, sizeof line);
    sb_printf(&b, "%-72s ; pc %u\n", line, pc);
  }

out:
  free(names);
  free(data_region);
  free(used);
  free(tnames);
  if (b.oom) {
    free(b.s);
    return NULL;
  }
  return b.s;
}
