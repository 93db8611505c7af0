/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Disassembler: pb_program_t -> canonical assembly text (docs/asm.md).
 * The output re-assembles with pb_asm() to the same program, field for field
 * (so the same .pbin bytes): names that are not identifiers are written as
 * strings, and a memory plan that .code/.data/.buffer cannot reproduce is
 * written as .memplan and .region lines.
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

/* A name as the assembler reads it back: bare when it is an identifier, else a "string". */
static void emit_name(sb_t *b, const char *name, size_t max) {
  size_t n = strnlen(name, max);
  if (pb_asm_name_ok(name, max, 0)) {
    sb_printf(b, "%.*s", (int)n, name);
    return;
  }
  sb_printf(b, "\"");
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)name[i];
    if (c == '"' || c == '\\')
      sb_printf(b, "\\%c", c);
    else if (c < 0x20 || c >= 0x7f)
      sb_printf(b, "\\x%02x", c);
    else
      sb_printf(b, "%c", c);
  }
  sb_printf(b, "\"");
}

/* The name is NUL-terminated within its field and zero-padded (as pb_asm writes it). */
static int name_clean(const char *name, size_t max) {
  size_t n = strnlen(name, max);
  if (n == max) return 0;
  for (size_t i = n; i < max; i++)
    if (name[i]) return 0;
  return 1;
}

static int cmp_name(const void *x, const void *y) { return strncmp(*(char *const *)x, *(char *const *)y, PB_NAME_MAX); }

/*
 * 1 when the regions are exactly what pb_asm makes without .memplan: "code"
 * over the instructions, then one const region per data block (same address
 * and size), then the buffers; every data or buffer name a usable symbol,
 * all distinct. Then .data and .buffer reproduce them; else .region lines do.
 */
static int plan_is_implicit(const pb_program_t *p, size_t ndata, size_t nreg) {
  if (nreg < 1 + ndata) return 0;
  pb_region_t code;
  memset(&code, 0, sizeof code);
  snprintf(code.name, sizeof code.name, "code");
  code.kind = PB_REG_CODE;
  code.addr = p->code_addr;
  code.size = p->code_len * PB_INSTR_BYTES;
  if ((uint64_t)p->code_len * PB_INSTR_BYTES > UINT32_MAX || memcmp(&code, &p->regions[0], sizeof code)) return 0;
  for (size_t r = 1; r < nreg; r++) {
    const pb_region_t *rg = &p->regions[r];
    if (!name_clean(rg->name, PB_NAME_MAX) || !pb_asm_name_ok(rg->name, PB_NAME_MAX, 1)) return 0;
    if (!pb_asm_region_kind_name(rg->kind)) return 0;
    if (r <= ndata) {
      const pb_data_t *d = &p->data[r - 1];
      if (rg->kind != PB_REG_CONST || rg->addr != d->host_addr || rg->size != d->size) return 0;
    }
  }
  if (nreg < 3) return 1;
  const char **v = malloc((nreg - 1) * sizeof *v); /* distinct names: sort and compare neighbours */
  if (!v) return 0;
  for (size_t r = 1; r < nreg; r++) v[r - 1] = p->regions[r].name;
  qsort(v, nreg - 1, sizeof *v, cmp_name);
  int ok = 1;
  for (size_t i = 1; i < nreg - 1 && ok; i++) ok = strncmp(v[i - 1], v[i], PB_NAME_MAX) != 0;
  free(v);
  return ok;
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

/* D0xD1..; a zero dimension as (0), since 0x4 would read as a hex number. */
static void emit_dims(sb_t *b, const uint32_t *dims, unsigned rank) {
  for (unsigned d = 0; d < rank && d < PB_MAX_RANK; d++)
    sb_printf(b, dims[d] ? "%s%u" : "%s(%u)", d ? "x" : "", dims[d]);
}

static void emit_tensor(sb_t *b, const pb_tensor_t *t) {
  static const char *const kinds[] = {"?", "input", "output", "internal"};
  const char *dt = pb_asm_dtype_name(t->dtype);
  unsigned rank = t->rank > PB_MAX_RANK ? PB_MAX_RANK : t->rank;
  sb_printf(b, ".tensor %s ", t->kind <= PB_TENSOR_INTERNAL ? kinds[t->kind] : "?");
  emit_name(b, t->name, PB_NAME_MAX);
  sb_printf(b, " addr=0x%08x dtype=%s shape=", t->host_addr, dt ? dt : "?");
  emit_dims(b, t->dims, rank);
  sb_printf(b, " strides=");
  for (unsigned d = 0; d < rank; d++) sb_printf(b, "%s%u", d ? "," : "", t->strides[d]);
  sb_printf(b, " scale=%.9g zp=%d%s%s\n", (double)t->scale, t->zero_point, (t->flags & PB_TF_FLOAT_IO) ? " float" : "",
            (t->flags & PB_TF_BATCH) ? " batch" : "");
}

/* A tensor reference of a host step: its name (unique in a valid program), else its index. */
static void emit_tensor_ref(sb_t *b, const pb_program_t *p, uint16_t i) {
  if (i < p->n_tensors && p->tensors)
    emit_name(b, p->tensors[i].name, PB_NAME_MAX);
  else
    sb_printf(b, "%u", i);
}

static void emit_step(sb_t *b, const pb_program_t *p, const pb_step_t *s) {
  if (s->kind == PB_STEP_ACCEL) {
    sb_printf(b, ".step accel pc=%u len=%u\n", s->pc, s->len);
    return;
  }
  const char *op = pb_host_op_name(s->op);
  if (s->kind != PB_STEP_HOST || !op) {
    sb_printf(b, "; step kind %u op %u: not representable\n", s->kind, s->op);
    return;
  }
  sb_printf(b, ".step host op=%s in=", op);
  for (unsigned k = 0; k < s->n_in && k < PB_STEP_MAX_IN; k++) {
    if (k) sb_printf(b, ",");
    emit_tensor_ref(b, p, s->in[k]);
  }
  sb_printf(b, " out=");
  for (unsigned k = 0; k < s->n_out && k < PB_STEP_MAX_OUT; k++) {
    if (k) sb_printf(b, ",");
    emit_tensor_ref(b, p, s->out[k]);
  }
  unsigned np = PB_STEP_PARAMS;
  while (np && !s->param[np - 1]) np--;
  for (unsigned k = 0; k < np; k++) sb_printf(b, "%s%d", k ? "," : " param=", s->param[k]);
  sb_printf(b, "\n");
}

static void emit_layer(sb_t *b, const pb_layer_t *l) {
  sb_printf(b, ".layer ");
  emit_name(b, l->name, PB_NAME_MAX);
  sb_printf(b, " op=");
  emit_name(b, l->op, sizeof l->op);
  sb_printf(b, " where=%s step=%u pc=%u len=%u", l->where == PB_WHERE_HOST ? "host" : "accel", l->step, l->pc,
            l->len);
  if (l->in_rank) sb_printf(b, " in="), emit_dims(b, l->in_dims, l->in_rank);
  if (l->out_rank) sb_printf(b, " out="), emit_dims(b, l->out_dims, l->out_rank);
  sb_printf(b, " macs=%llu cycles=%llu array_rows=%llu weight_bytes=%u out_bytes=%u sp_rows=%u acc_rows=%u\n",
            (unsigned long long)l->macs, (unsigned long long)l->cycles, (unsigned long long)l->array_rows,
            l->weight_bytes, l->out_bytes, l->sp_rows, l->acc_rows);
}

char *pb_disasm(const pb_program_t *p) {
  sb_t b = {0};
  size_t nreg = p->regions ? p->n_regions : 0, ndata = p->data ? p->n_data : 0;
  uint32_t ntensors = p->tensors ? p->n_tensors : 0, nsteps = p->steps ? p->n_steps : 0;
  uint32_t nlayers = p->layers ? p->n_layers : 0;
  int implicit = plan_is_implicit(p, ndata, nreg);

  sb_printf(&b, "; Protobrain assembly (pb_disasm), ISA v%u: %u instructions, %u data blocks, %u tensors, %u regions",
            PB_ISA_VERSION, p->code_len, p->n_data, p->n_tensors, p->n_regions);
  if (nsteps || nlayers) sb_printf(&b, ", %u steps, %u layers", nsteps, nlayers);
  char hwt[128];
  sb_printf(&b, "\n.hw %s\n", pb_hw_format(&p->hw, hwt, sizeof hwt));
  sb_printf(&b, ".code 0x%08x\n", p->code_addr);

  /* data blocks take the names of their regions (implicit plan), else d0, d1, ... */
  for (size_t i = 0; i < ndata; i++) {
    const pb_data_t *d = &p->data[i];
    if (implicit)
      sb_printf(&b, ".data %s 0x%08x\n", p->regions[1 + i].name, d->host_addr);
    else
      sb_printf(&b, ".data d%zu 0x%08x\n", i, d->host_addr);
    emit_bytes(&b, d->bytes, d->size);
  }
  if (implicit) {
    for (size_t r = 1 + ndata; r < nreg; r++) {
      const pb_region_t *rg = &p->regions[r];
      sb_printf(&b, ".buffer %s 0x%08x %u %s\n", rg->name, rg->addr, rg->size, pb_asm_region_kind_name(rg->kind));
    }
  } else {
    sb_printf(&b, ".memplan\n");
    for (size_t r = 0; r < nreg; r++) {
      const pb_region_t *rg = &p->regions[r];
      const char *kind = pb_asm_region_kind_name(rg->kind);
      sb_printf(&b, ".region ");
      emit_name(&b, rg->name, PB_NAME_MAX);
      sb_printf(&b, " 0x%08x %u %s\n", rg->addr, rg->size, kind ? kind : "?");
    }
  }
  for (uint32_t i = 0; i < ntensors; i++) emit_tensor(&b, &p->tensors[i]);
  for (uint32_t i = 0; i < nsteps; i++) emit_step(&b, p, &p->steps[i]);
  for (uint32_t i = 0; i < nlayers; i++) emit_layer(&b, &p->layers[i]);
  for (uint32_t pc = 0; p->code && pc < p->code_len; pc++) {
    pb_word_t w;
    char line[160];
    memcpy(w.bytes, p->code + (size_t)pc * PB_INSTR_BYTES, PB_INSTR_BYTES);
    pb_disasm_word(&w, line, sizeof line);
    sb_printf(&b, "%-72s ; pc %u\n", line, pc);
  }
  if (b.oom) {
    free(b.s);
    return NULL;
  }
  return b.s;
}
