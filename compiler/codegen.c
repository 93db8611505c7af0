/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Code generation (codegen.h). Host memory, low to high:
 *   constants (per matmul layer: weight tiles, then CONFIG tables; host-operator constants)
 *   buffers   (pinned: io and bordered activations; others share by liveness)
 *   code      (last, so that no address depends on the code size)
 * Every layer uses the whole scratchpad and accumulator while it runs (its
 * on-chip plan is local); layers talk through host memory, and the hardware
 * interlocks make consecutive layers overlap safely.
 */
#include "codegen.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protobrain/isa.h"
#include "protobrain/timing.h"

#define ALIGN 16u

typedef struct {
  const pb_hw_t *hw;
  lir_t *l;
  uint8_t *code;
  uint32_t n, cap;
  char *err;
  size_t errlen;
  int layer;
  FILE *log;
  int bad;
} cg_t;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static int fail(cg_t *c, const char *fmt, ...) {
  if (c->bad) return -1;
  c->bad = 1;
  if (!c->errlen) return -1;
  int o = 0;
  if (c->layer >= 0) o = snprintf(c->err, c->errlen, "layer '%s' (%s): ", c->l->layers[c->layer].name,
                                  c->l->layers[c->layer].op);
  if (o < 0 || (size_t)o >= c->errlen) return -1;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(c->err + o, c->errlen - (size_t)o, fmt, ap);
  va_end(ap);
  return -1;
}

static uint64_t up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }
static int64_t cdiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

/* ---- emission ---- */

static void put(cg_t *c, pb_opcode_t op, const int64_t *f, int nf) {
  if (c->bad) return;
  pb_instr_t in = {.op = op};
  for (int i = 0; i < nf; i++) in.f[i] = f[i];
  pb_word_t w;
  char e[200];
  if (pb_encode(&in, &w, e, sizeof e)) {
    fail(c, "internal: %s", e);
    return;
  }
  if (c->n == c->cap) {
    uint32_t nc = c->cap ? 2 * c->cap : 1024;
    uint8_t *p = realloc(c->code, (size_t)nc * PB_INSTR_BYTES);
    if (!p) {
      fail(c, "out of memory (%u instructions)", nc);
      return;
    }
    c->code = p;
    c->cap = nc;
  }
  memcpy(c->code + (size_t)c->n++ * PB_INSTR_BYTES, w.bytes, PB_INSTR_BYTES);
}

/* The fields are passed in ISA table order (include/protobrain/isa.h). */
static void e_load(cg_t *c, int64_t sp_col, int64_t cols, int64_t sp, int64_t rows, int64_t stride, int64_t addr) {
  const pb_hw_t *h = c->hw;
  if (rows < 1 || cols < 1 || sp_col + cols > h->n || sp + rows > h->sp_rows || addr < 0 ||
      (uint64_t)addr + (uint64_t)(rows - 1) * (uint64_t)stride + (uint64_t)cols > h->host_bytes || stride > 0xFFFFFF) {
    fail(c, "internal: LOAD out of range (sp %lld+%lld col %lld+%lld host 0x%llx stride %lld)", (long long)sp,
         (long long)rows, (long long)sp_col, (long long)cols, (long long)addr, (long long)stride);
    return;
  }
  int64_t f[] = {sp_col, cols, sp, rows, rows > 1 ? stride : 0, addr};
  put(c, PB_OP_LOAD, f, 6);
}
static void e_store(cg_t *c, int64_t sp_col, int64_t cols, int64_t sp, int64_t rows, int64_t stride, int64_t addr) {
  const pb_hw_t *h = c->hw;
  if (rows < 1 || cols < 1 || sp_col + cols > h->n || sp + rows > h->sp_rows || addr < 0 ||
      (uint64_t)addr + (uint64_t)(rows - 1) * (uint64_t)stride + (uint64_t)cols > h->host_bytes || stride > 0xFFFFFF) {
    fail(c, "internal: STORE out of range");
    return;
  }
  int64_t f[] = {sp_col, cols, sp, rows, rows > 1 ? stride : 0, addr};
  put(c, PB_OP_STORE, f, 6);
}
static void e_weights(cg_t *c, int64_t sp) {
  if (sp + c->hw->n > c->hw->sp_rows) {
    fail(c, "internal: WEIGHTS out of range");
    return;
  }
  int64_t f[] = {sp};
  put(c, PB_OP_WEIGHTS, f, 1);
}
static void e_matmul(cg_t *c, int acc, int64_t sp, int64_t rows, int64_t acc_addr) {
  if (rows < 1 || sp + rows > c->hw->sp_rows || acc_addr + rows > c->hw->acc_rows) {
    fail(c, "internal: MATMUL out of range");
    return;
  }
  int64_t f[] = {acc, sp, rows, acc_addr};
  put(c, PB_OP_MATMUL, f, 4);
}
static void e_activate(cg_t *c, int64_t pool, int64_t sp, int64_t rows, int64_t acc_addr, int64_t pool_stride) {
  if (rows < 1 || pool < 1 || pool > PB_POOL_MAX || sp + rows > c->hw->sp_rows ||
      acc_addr + (pool - 1) * pool_stride + rows > c->hw->acc_rows) {
    fail(c, "internal: ACTIVATE out of range");
    return;
  }
  int64_t f[] = {pool, sp, rows, acc_addr, pool > 1 ? pool_stride : 0};
  put(c, PB_OP_ACTIVATE, f, 5);
}
static void e_config(cg_t *c, int64_t zp, int64_t lo, int64_t hi, int64_t addr) {
  int64_t f[] = {zp, lo, hi, addr};
  put(c, PB_OP_CONFIG, f, 4);
}
static void e_halt(cg_t *c) { put(c, PB_OP_HALT, NULL, 0); }
static void e_load_acc(cg_t *c, int64_t acc_addr, int64_t rows, int64_t stride, int64_t addr) {
  const pb_hw_t *h = c->hw;
  if (rows < 1 || acc_addr + rows > h->acc_rows || addr < 0 || stride > 0xFFFFFF ||
      (uint64_t)addr + (uint64_t)(rows - 1) * (uint64_t)stride + 4u * h->n > h->host_bytes) {
    fail(c, "internal: LOAD_ACC out of range");
    return;
  }
  int64_t f[] = {acc_addr, rows, stride, addr};
  put(c, PB_OP_LOAD_ACC, f, 4);
}
static void e_store_acc(cg_t *c, int64_t cols, int64_t acc_addr, int64_t rows, int64_t stride, int64_t addr) {
  const pb_hw_t *h = c->hw;
  if (rows < 1 || cols < 1 || cols > h->n || acc_addr + rows > h->acc_rows || addr < 0 || stride > 0xFFFFFF ||
      (uint64_t)addr + (uint64_t)(rows - 1) * (uint64_t)stride + 4u * (uint64_t)cols > h->host_bytes) {
    fail(c, "internal: STORE_ACC out of range");
    return;
  }
  int64_t f[] = {cols, acc_addr, rows, rows > 1 ? stride : 0, addr};
  put(c, PB_OP_STORE_ACC, f, 5);
}

/* ---- tiling of one matmul layer ---- */

typedef struct {
  int kt, col, cols;
  int64_t off; /* from the row's base address */
} piece_t;

typedef struct {
  int64_t KT, CT, m;           /* K tiles (replicas included), column tiles, pool members */
  int npieces;
  piece_t *pieces;
  int resident;                /* all weight tiles stay in the scratchpad */
  int64_t Pc;                  /* pooled pixels per chunk */
  int64_t KG;                  /* K tiles gathered at a time (KT: all) */
  int slots;                   /* im2col buffers: 2 = the next gather overlaps the current compute */
  int64_t acc_blocks;          /* accumulator blocks of m*Pc rows */
  int64_t sp_x, sp_w, sp_y;    /* scratchpad regions */
  int64_t sp_used, acc_used;
  uint64_t w_addr, cfg_addr;   /* host: tiles [CT][KT][N][N], CONFIG tables [CT][N] (raw layers: int32 bias [CT][N]),
                                  then a bias matrix's int32 rows [brows][CT*N] (layers with one) */
  uint64_t w_bytes, cfg_bytes;
} mm_plan_t;

static void plan_free(mm_plan_t *p) { free(p->pieces); }

static int plan_pieces(cg_t *c, const lir_layer_t *L, mm_plan_t *p) {
  int64_t N = c->hw->n, Kp = L->reps * L->K;
  p->KT = cdiv(Kp, N);
  p->CT = cdiv(L->Cout, N);
  p->m = (int64_t)L->ph * L->pw;
  /* pieces: each segment of each replica, split at tile boundaries */
  int64_t cap = 0;
  for (int s = 0; s < L->nseg; s++) cap += cdiv(L->seg[s].len, N) + 1;
  cap *= L->reps;
  p->pieces = malloc((size_t)cap * sizeof *p->pieces);
  if (!p->pieces) return fail(c, "out of memory");
  int64_t pos = 0;
  for (int r = 0; r < L->reps; r++)
    for (int s = 0; s < L->nseg; s++) {
      int64_t off = L->seg[s].off, len = L->seg[s].len;
      while (len > 0) {
        int64_t col = pos % N, n = N - col < len ? N - col : len;
        p->pieces[p->npieces++] = (piece_t){(int)(pos / N), (int)col, (int)n, off};
        pos += n, off += n, len -= n;
      }
    }
  return 0;
}

/*
 * The loop nest of a layer. Pixels run in chunks of Pc pooled pixels (m members each). Two forms:
 *   A (KG = KT): every K tile of the chunk's im2col rows stays in the scratchpad; column tiles run one after
 *     another into two accumulator blocks (one computes while the other is requantized and stored).
 *   B (KG < KT): K runs in groups of KG tiles, gathered one group at a time; every column tile has its own
 *     accumulator block (CT blocks) and accumulates over the groups; all are requantized at the end.
 * A gather unit is one (chunk, group). With two X slots the gathers of the next unit are interleaved with
 * the current unit's MATMULs (double buffering); with one they run between units. Weights stay resident in
 * the scratchpad when they fit, else they stream through two tile buffers.
 * plan_try() sizes one combination (form, resident, slots) with the largest chunk that fits; the code
 * generator emits every feasible combination, runs the timing model on it and keeps the fastest.
 */
static int plan_try(const cg_t *c, const lir_layer_t *L, mm_plan_t *p, int form, int res, int slots) {
  const pb_hw_t *h = c->hw;
  int64_t N = h->n, SP = h->sp_rows, ACC = h->acc_rows, m = p->m, KT = p->KT, CT = p->CT;
  int64_t P_total = L->nb * L->PH * L->PW;
  int64_t wres = KT * CT * N, lim_rows = 65535 / m;
  int64_t W = res ? wres : 2 * N;
  if (W >= SP) return -1;
  int64_t pc, kg;
  if (form == 0) { /* A */
    pc = (SP - W) / (slots * KT * m + 2);
    if (pc > ACC / ((CT > 1 ? 2 : 1) * m)) pc = ACC / ((CT > 1 ? 2 : 1) * m);
    kg = KT;
  } else { /* B */
    if (KT < 2) return -1;
    pc = ACC / (CT * m);
    if (pc > (SP - W) / (slots * m + 2)) pc = (SP - W) / (slots * m + 2);
    kg = 0;
  }
  if (pc > lim_rows) pc = lim_rows;
  if (pc > P_total) pc = P_total;
  if (pc < 1) return -1;
  int64_t nch = cdiv(P_total, pc);
  pc = cdiv(P_total, nch); /* even chunks */
  if (form == 1) {
    kg = (SP - W - 2 * pc) / (slots * m * pc);
    if (kg >= KT) kg = KT - 1; /* form B proper: a full K is form A */
    if (kg < 1) return -1;
  }
  if (slots == 2 && nch * cdiv(KT, kg) < 2) return -1; /* one gather unit: nothing to overlap */
  p->resident = res;
  p->slots = slots;
  p->Pc = pc;
  p->KG = kg;
  p->acc_blocks = kg == KT ? (CT > 1 ? 2 : 1) : CT;
  p->sp_x = 0;
  p->sp_y = slots * p->KG * m * p->Pc;
  p->sp_w = p->sp_y + 2 * p->Pc;
  p->sp_used = p->sp_w + (p->resident ? wres : 2 * N);
  p->acc_used = p->acc_blocks * m * p->Pc;
  return 0;
}

/* Feasibility: some combination fits, or an error with the shortfall. Leaves a feasible plan in p. */
static int plan_chunks(cg_t *c, const lir_layer_t *L, mm_plan_t *p) {
  for (int form = 0; form < 2; form++)
    for (int res = 1; res >= 0; res--)
      for (int slots = 1; slots <= 2; slots++)
        if (plan_try(c, L, p, form, res, slots) == 0) return 0;
  int64_t N = c->hw->n, m = p->m, CT = p->CT, SP = c->hw->sp_rows, ACC = c->hw->acc_rows;
  int64_t need_sp = m + 2 + 2 * N, need_acc = 2 * m < CT * m ? 2 * m : CT * m;
  if (need_sp > SP)
    return fail(c, "needs at least %lld scratchpad rows (%lld pool members + 2 output rows + 2 weight tiles of %lld "
                   "rows); the configuration has %lld: short by %lld rows",
                (long long)need_sp, (long long)m, (long long)N, (long long)SP, (long long)(need_sp - SP));
  return fail(c, "needs at least %lld accumulator rows; the configuration has %lld: short by %lld rows",
              (long long)need_acc, (long long)ACC, (long long)(need_acc - ACC));
}

/* The weight tiles and CONFIG tables of a layer, for N (host bytes). */
static int layer_consts(cg_t *c, const lir_layer_t *L, const mm_plan_t *p, uint8_t **wbytes, uint8_t **cfg) {
  int64_t N = c->hw->n, Kp = L->reps * L->K, M = L->Cout;
  *wbytes = calloc((size_t)(p->CT * p->KT * N * N), 1);
  *cfg = calloc((size_t)(p->CT * N * PB_CFG_ENTRY_BYTES + (L->bmat ? L->brows * p->CT * N * 4 : 0)), 1);
  if (!*wbytes || !*cfg) return fail(c, "out of memory");
  if (L->bmat) { /* bias matrix rows, padded to CT*N lanes (LOAD_ACC reads N lanes per row) */
    uint8_t *bm = *cfg + p->CT * N * PB_CFG_ENTRY_BYTES;
    for (int64_t r = 0; r < L->brows; r++)
      for (int64_t m = 0; m < M; m++)
        for (int k = 0; k < 4; k++)
          bm[(r * p->CT * N + m) * 4 + k] = (uint8_t)((uint32_t)L->bmat[r * M + m] >> (8 * k));
  }
  if (L->raw) { /* LOAD_ACC rows: bias[c] as int32, N per column tile */
    for (int64_t m = 0; m < M; m++)
      for (int k = 0; k < 4; k++) (*cfg)[4 * m + k] = (uint8_t)((uint32_t)L->bias[m] >> (8 * k));
  }
  for (int64_t ct = 0; ct < p->CT; ct++)
    for (int64_t kt = 0; kt < p->KT; kt++)
      for (int64_t k = 0; k < N; k++) {
        int64_t kk = kt * N + k;
        if (kk >= Kp) break;
        uint8_t *row = *wbytes + ((ct * p->KT + kt) * N + k) * N;
        for (int64_t j = 0; j < N && ct * N + j < M; j++) row[j] = (uint8_t)L->w[kk * M + ct * N + j];
      }
  for (int64_t m = 0; m < M && !L->raw; m++) {
    uint8_t *e = *cfg + m * PB_CFG_ENTRY_BYTES;
    uint32_t b = (uint32_t)L->bias[m], f;
    memcpy(&f, &L->mult[m], 4);
    for (int k = 0; k < 4; k++) e[k] = (uint8_t)(b >> (8 * k)), e[4 + k] = (uint8_t)(f >> (8 * k));
  }
  return 0;
}

/* Host address of the K vector of pooled pixel p, member 0, and of its output. */
typedef struct {
  int64_t in_addr, in_bstride, out_addr, out_bstride;
} geo_t;

static void px_addr(const lir_layer_t *L, const geo_t *g, int64_t p, int64_t *a, int64_t *o) {
  int64_t per = L->PH * L->PW, b = p / per, py = (p / L->PW) % L->PH, px = p % L->PW;
  *a = g->in_addr + b * g->in_bstride + py * L->psy * L->ystep + px * L->psx * L->xstep;
  *o = g->out_addr + b * g->out_bstride + py * L->oystep + px * L->oxstep;
}

/* Runs: maximal sequences of pixels [p0, p1) whose addresses step by one stride (0 <= stride < 2^24). */
typedef struct {
  int64_t r0, n, addr, stride;
} run_t;

static int make_runs(const lir_layer_t *L, const geo_t *g, int64_t p0, int64_t p1, int out, run_t *runs) {
  int nr = 0;
  for (int64_t p = p0; p < p1; p++) {
    int64_t a, o;
    px_addr(L, g, p, &a, &o);
    int64_t x = out ? o : a;
    if (nr) {
      run_t *r = &runs[nr - 1];
      int64_t d = x - (r->addr + (r->n - 1) * r->stride);
      if (r->n == 1 && d >= 0 && d <= 0xFFFFFF) {
        r->stride = d, r->n++;
        continue;
      }
      if (r->n > 1 && d == r->stride && r->n < 65535) {
        r->n++;
        continue;
      }
    }
    runs[nr++] = (run_t){p - p0, 1, x, 0};
  }
  return nr;
}

/* LOAD the weight tile t (index ct*KT + kt) into streaming buffer b. */
static void load_wtile(cg_t *c, const mm_plan_t *p, int64_t t, int64_t b) {
  int64_t N = c->hw->n;
  e_load(c, 0, N, p->sp_w + b * N, N, N, (int64_t)p->w_addr + t * N * N);
}

static int64_t acc_block(const mm_plan_t *p, int64_t ct) {
  return (p->acc_blocks == p->CT ? ct : ct % p->acc_blocks) * p->m * p->Pc;
}

static void tail(cg_t *c, const lir_layer_t *L, const mm_plan_t *p, const geo_t *g, int64_t ct, int64_t p0, int64_t np,
                 run_t *runs) {
  int64_t N = c->hw->n;
  int64_t acc = acc_block(p, ct), y = p->sp_y + (ct % 2) * p->Pc;
  if (L->raw) { /* int32 sums straight to host: lanes of this column tile, 4 bytes each */
    int64_t lanes = L->Cout - ct * N < N ? L->Cout - ct * N : N;
    int nr = make_runs(L, g, p0, p0 + np, 1, runs);
    for (int r = 0; r < nr; r++)
      e_store_acc(c, lanes, acc + runs[r].r0, runs[r].n, runs[r].stride, runs[r].addr + ct * N * 4);
    return;
  }
  e_config(c, L->zp, L->lo, L->hi, (int64_t)p->cfg_addr + ct * N * PB_CFG_ENTRY_BYTES);
  e_activate(c, p->m, y, np, acc, np);
  int64_t cols = L->Cout - ct * N < N ? L->Cout - ct * N : N;
  int nr = make_runs(L, g, p0, p0 + np, 1, runs);
  for (int r = 0; r < nr; r++) e_store(c, 0, cols, y + runs[r].r0, runs[r].n, runs[r].stride, runs[r].addr + ct * N);
}

typedef struct {
  int64_t col, cols, sp, rows, stride, addr;
} ld_t;

/* The gather LOADs of unit (chunk p0/np, K tiles k0..k1) into X slot `xbase`: appended to *v. */
static int gather_unit(cg_t *c, const lir_layer_t *L, const mm_plan_t *p, const geo_t *g, int64_t p0, int64_t np,
                       int64_t k0, int64_t k1, int64_t xbase, run_t *runs, ld_t **v, int64_t *n, int64_t *cap) {
  int64_t mc = np * p->m;
  int nr = make_runs(L, g, p0, p0 + np, 0, runs);
  for (int r = 0; r < nr; r++)
    for (int dy = 0; dy < L->ph; dy++)
      for (int dx = 0; dx < L->pw; dx++) {
        int64_t j = (int64_t)dy * L->pw + dx, base = runs[r].addr + dy * L->ystep + dx * L->xstep;
        for (int q = 0; q < p->npieces; q++) {
          const piece_t *pc = &p->pieces[q];
          if (pc->kt < k0 || pc->kt >= k1) continue;
          if (*n == *cap) {
            int64_t nc = *cap ? 2 * *cap : 256;
            ld_t *nv = realloc(*v, (size_t)nc * sizeof *nv);
            if (!nv) return fail(c, "out of memory");
            *v = nv, *cap = nc;
          }
          (*v)[(*n)++] = (ld_t){pc->col, pc->cols, xbase + (pc->kt - k0) * mc + j * np + runs[r].r0, runs[r].n,
                                runs[r].stride, base + pc->off};
        }
      }
  return 0;
}

static void emit_loads(cg_t *c, const ld_t *v, int64_t from, int64_t to) {
  for (int64_t i = from; i < to; i++) e_load(c, v[i].col, v[i].cols, v[i].sp, v[i].rows, v[i].stride, v[i].addr);
}

static void emit_layer(cg_t *c, const lir_layer_t *L, const mm_plan_t *p, const geo_t *g) {
  int64_t N = c->hw->n, P_total = L->nb * L->PH * L->PW, KT = p->KT, CT = p->CT, KG = p->KG;
  int64_t ngroups = cdiv(KT, KG), nsteps = KT * CT, xslot = KG * p->m * p->Pc;
  int64_t nchunks = cdiv(P_total, p->Pc), total = nsteps * nchunks, nunits = nchunks * ngroups;
  run_t *runs = malloc((size_t)(p->Pc + 1) * sizeof *runs);
  int64_t *seq = malloc((size_t)nsteps * sizeof *seq); /* weight tile of each step of a chunk */
  ld_t *cur = NULL, *nxt = NULL;
  int64_t ncur = 0, ccur = 0, nnxt = 0, cnxt = 0;
  if (!runs || !seq) {
    fail(c, "out of memory");
    goto done;
  }
  int64_t s = 0;
  for (int64_t gi = 0; gi < ngroups; gi++)
    for (int64_t ct = 0; ct < CT; ct++)
      for (int64_t kt = gi * KG; kt < KT && kt < (gi + 1) * KG; kt++) seq[s++] = ct * KT + kt;
  if (p->resident) {
    for (int64_t ct = 0; ct < CT; ct++) { /* all tiles of ct: KT*N contiguous rows */
      int64_t rows = KT * N, done = 0;
      while (done < rows) {
        int64_t r = rows - done > 65535 / N * N ? 65535 / N * N : rows - done;
        e_load(c, 0, N, p->sp_w + ct * KT * N + done, r, N, (int64_t)p->w_addr + (ct * KT * N + done) * N);
        done += r;
      }
    }
  } else {
    load_wtile(c, p, seq[0], 0);
  }
  s = 0;
  for (int64_t u = 0; u < nunits && !c->bad; u++) {
    int64_t ch = u / ngroups, gi = u % ngroups;
    int64_t p0 = ch * p->Pc, np = P_total - p0 < p->Pc ? P_total - p0 : p->Pc, mc = np * p->m;
    int64_t k0 = gi * KG, k1 = k0 + KG < KT ? k0 + KG : KT, xbase = p->sp_x + (p->slots == 2 ? (u % 2) * xslot : 0);
    /* this unit's gathers: emitted now with one slot (or for unit 0), else already interleaved */
    if (p->slots == 1 || u == 0) {
      ncur = 0;
      if (gather_unit(c, L, p, g, p0, np, k0, k1, xbase, runs, &cur, &ncur, &ccur)) break;
      emit_loads(c, cur, 0, ncur);
    }
    /* the next unit's gathers, spread over this unit's steps */
    nnxt = 0;
    if (p->slots == 2 && u + 1 < nunits) {
      int64_t ch2 = (u + 1) / ngroups, g2 = (u + 1) % ngroups, q0 = ch2 * p->Pc;
      int64_t nq = P_total - q0 < p->Pc ? P_total - q0 : p->Pc, j0 = g2 * KG, j1 = j0 + KG < KT ? j0 + KG : KT;
      if (gather_unit(c, L, p, g, q0, nq, j0, j1, p->sp_x + ((u + 1) % 2) * xslot, runs, &nxt, &nnxt, &cnxt)) break;
    }
    int64_t usteps = CT * (k1 - k0), done = 0, i = 0;
    for (int64_t ct = 0; ct < CT; ct++)
      for (int64_t kt = k0; kt < k1; kt++, s++, i++) {
        if (p->resident)
          e_weights(c, p->sp_w + (ct * KT + kt) * N);
        else
          e_weights(c, p->sp_w + (s % 2) * N);
        if (!p->resident && s + 1 < total) load_wtile(c, p, seq[(s + 1) % nsteps], (s + 1) % 2);
        if (L->raw && kt == 0) /* raw sums: the bias goes into the accumulator first, one row repeated */
          e_load_acc(c, acc_block(p, ct), mc, 0, (int64_t)p->cfg_addr + ct * N * 4);
        if (L->bmat && kt == 0) /* a bias matrix: the rows of these output rows go into the accumulator first */
          e_load_acc(c, acc_block(p, ct), mc, CT * N * 4,
                     (int64_t)p->cfg_addr + CT * N * PB_CFG_ENTRY_BYTES + (p0 * CT * N + ct * N) * 4);
        e_matmul(c, kt > 0 || L->raw || L->bmat, xbase + (kt - k0) * mc, mc, acc_block(p, ct));
        int64_t upto = nnxt * (i + 1) / usteps;
        emit_loads(c, nxt, done, upto);
        done = upto;
        if (ngroups == 1 && kt == 0 && ct > 0) tail(c, L, p, g, ct - 1, p0, np, runs);
      }
    emit_loads(c, nxt, done, nnxt);
    if (gi == ngroups - 1) {
      if (ngroups == 1)
        tail(c, L, p, g, CT - 1, p0, np, runs);
      else
        for (int64_t ct = 0; ct < CT; ct++) tail(c, L, p, g, ct, p0, np, runs);
    }
  }
done:
  free(runs);
  free(seq);
  free(cur);
  free(nxt);
}

/* Cycles of a layer emitted alone from an idle core (timing model), or -1. */
static int64_t trial_cycles(cg_t *c, const lir_layer_t *L, const mm_plan_t *p, const geo_t *g) {
  cg_t t = {.hw = c->hw, .l = c->l, .layer = c->layer};
  char e[256];
  t.err = e, t.errlen = sizeof e;
  emit_layer(&t, L, p, g);
  e_halt(&t);
  int64_t total = -1;
  if (!t.bad) {
    pb_timing_t tm;
    pb_timing_init(&tm, c->hw);
    for (uint32_t pc = 0; pc < t.n; pc++) {
      pb_word_t w;
      pb_instr_t in;
      memcpy(w.bytes, t.code + (size_t)pc * PB_INSTR_BYTES, PB_INSTR_BYTES);
      if (pb_decode(&w, &in) != PB_ERR_NONE) break;
      total = pb_timing_issue(&tm, &in) + 1;
    }
  }
  free(t.code);
  return total;
}

/* Choose the fastest feasible plan for the layer (timing model), ties to fewer instructions' plan order. */
static void choose_plan(cg_t *c, const lir_layer_t *L, mm_plan_t *p, const geo_t *g) {
  mm_plan_t best = *p, q = *p;
  int64_t best_cycles = -1;
  for (int form = 0; form < 2; form++)
    for (int res = 1; res >= 0; res--)
      for (int slots = 1; slots <= 2; slots++) {
        if (plan_try(c, L, &q, form, res, slots)) continue;
        int64_t cy = trial_cycles(c, L, &q, g);
        if (cy > 0 && (best_cycles < 0 || cy < best_cycles)) best_cycles = cy, best = q;
      }
  *p = best;
}

/* ---- memory plan ---- */

static void liveness(lir_t *l) {
  for (int i = 0; i < l->n_bufs; i++) {
    lir_buf_t *b = &l->bufs[i];
    b->first = b->last = -2;
  }
#define TOUCH(t, i)                                           \
  do {                                                        \
    lir_buf_t *b_ = &l->bufs[l->tensors[(t)].buf];            \
    if (b_->first == -2 || (i) < b_->first) b_->first = (i);  \
    if ((i) > b_->last) b_->last = (i);                       \
  } while (0)
  for (int i = 0; i < l->n_layers; i++) {
    const lir_layer_t *y = &l->layers[i];
    if (y->kind == LL_MATMUL) {
      TOUCH(y->in, i);
      TOUCH(y->out, i);
    } else {
      for (int k = 0; k < y->n_in; k++) TOUCH(y->ins[k], i);
      for (int k = 0; k < y->n_out; k++) TOUCH(y->outs[k], i);
    }
  }
  for (int i = 0; i < l->n_inputs; i++) TOUCH(l->inputs[i], -1);
  for (int i = 0; i < l->n_outputs; i++) TOUCH(l->outputs[i], l->n_layers);
#undef TOUCH
  for (int i = 0; i < l->n_bufs; i++) {
    lir_buf_t *b = &l->bufs[i];
    if (b->pinned || b->kind != LB_ACT) b->first = -1, b->last = l->n_layers;
  }
}

typedef struct {
  int idx;
  uint64_t bytes;
} ord_t;
static int ord_cmp(const void *a, const void *b) {
  const ord_t *x = a, *y = b;
  if (x->bytes != y->bytes) return x->bytes > y->bytes ? -1 : 1;
  return x->idx - y->idx;
}

/* Place every used buffer from `base`; returns the end address. Activations share memory when their lives do not overlap. */
static uint64_t place_buffers(lir_t *l, uint64_t base, uint64_t *act_bytes, uint64_t *io_bytes) {
  ord_t *o = malloc((size_t)(l->n_bufs + 1) * sizeof *o);
  int n = 0;
  uint64_t end = base;
  *act_bytes = *io_bytes = 0;
  /* pinned first, each its own range */
  for (int i = 0; i < l->n_bufs; i++) {
    lir_buf_t *b = &l->bufs[i];
    if (b->kind == LB_CONST || b->bytes == 0 || b->first == -2) continue;
    if (b->pinned) {
      b->addr = end;
      end = up(end + b->bytes, ALIGN);
      if (b->kind == LB_IO) *io_bytes += b->bytes;
      else *act_bytes += b->bytes;
    } else if (o) {
      o[n++] = (ord_t){i, b->bytes};
    }
  }
  if (!o) return UINT64_MAX;
  qsort(o, (size_t)n, sizeof *o, ord_cmp);
  uint64_t shared_base = end, shared_end = end;
  for (int k = 0; k < n; k++) {
    lir_buf_t *b = &l->bufs[o[k].idx];
    uint64_t at = shared_base;
    for (int again = 1; again;) { /* lowest address not overlapping a placed buffer that is alive at the same time */
      again = 0;
      for (int j = 0; j < k; j++) {
        lir_buf_t *x = &l->bufs[o[j].idx];
        if (x->last < b->first || b->last < x->first) continue;
        if (at < x->addr + up(x->bytes, ALIGN) && x->addr < at + b->bytes) {
          at = x->addr + up(x->bytes, ALIGN);
          again = 1;
        }
      }
    }
    b->addr = at;
    if (at + up(b->bytes, ALIGN) > shared_end) shared_end = at + up(b->bytes, ALIGN);
  }
  *act_bytes += shared_end - shared_base;
  free(o);
  return shared_end;
}

/* ---- descriptors ---- */

typedef struct {
  int *pbt; /* lir tensor -> pbin tensor index, -1 */
} tmap_t;

static int add_descriptor(cg_t *c, pb_program_t *P, tmap_t *tm, int t, unsigned kind, unsigned flags) {
  lir_t *l = c->l;
  if (tm->pbt[t] >= 0) return tm->pbt[t];
  const lir_tensor_t *T = &l->tensors[t];
  const lir_buf_t *B = &l->bufs[T->buf];
  pb_tensor_t d;
  memset(&d, 0, sizeof d);
  /* unique name: keep the tail, add "~k" on a clash */
  char name[PB_NAME_MAX];
  lir_name(name, T->name);
  for (int k = 1;; k++) {
    int clash = 0;
    for (uint32_t i = 0; i < P->n_tensors && !clash; i++) clash = !strcmp(P->tensors[i].name, name);
    if (!clash) break;
    char suf[16], tmp[96];
    snprintf(suf, sizeof suf, "~%d", k);
    size_t sl = strlen(suf), nl = strlen(T->name);
    const char *src = T->name;
    if (nl + sl >= PB_NAME_MAX) src += nl + sl - (PB_NAME_MAX - 1);
    snprintf(tmp, sizeof tmp, "%s%s", src, suf);
    lir_name(name, tmp);
  }
  memcpy(d.name, name, PB_NAME_MAX);
  d.kind = (uint8_t)kind;
  d.dtype = (uint8_t)T->dtype;
  d.flags = (uint8_t)flags;
  if (B->kind == LB_CONST) {
    d.rank = 1;
    d.dims[0] = (uint32_t)T->dims[0];
    d.strides[0] = pb_dtype_size(T->dtype);
    d.host_addr = (uint32_t)(B->addr + T->base);
  } else {
    d.rank = (uint8_t)T->rank;
    for (int k = 0; k < T->rank; k++) d.dims[k] = (uint32_t)T->dims[k];
    if (!lir_affine_strides(T, d.strides))
      return fail(c, "tensor '%s' is not laid out with one stride per dimension; a host operator or an output "
                     "cannot address it",
                  T->name);
    d.host_addr = (uint32_t)(B->addr + T->base + (uint64_t)T->offs[0]);
  }
  d.scale = T->scale > 0 ? T->scale : 1.0f;
  d.zero_point = T->zp;
  if (T->dtype == PB_DT_UINT8 && (d.zero_point < 0 || d.zero_point > 255)) d.zero_point = 0;
  if (T->dtype != PB_DT_INT8 && T->dtype != PB_DT_UINT8) d.zero_point = 0, d.scale = 1.0f;
  if (pb_program_add_tensor(P, &d)) return fail(c, "out of memory");
  return tm->pbt[t] = (int)P->n_tensors - 1;
}

/* ---- prediction ---- */

/* Issue cycles of the instructions [pc0, pc1) run as one accelerator step from cycle 0. */
static int predict(cg_t *c, const uint8_t *code, uint32_t pc0, uint32_t pc1, int64_t *issue) {
  pb_timing_t tm;
  pb_timing_init(&tm, c->hw);
  for (uint32_t pc = pc0; pc < pc1; pc++) {
    pb_word_t w;
    memcpy(w.bytes, code + (size_t)pc * PB_INSTR_BYTES, PB_INSTR_BYTES);
    pb_instr_t in;
    if (pb_decode(&w, &in) != PB_ERR_NONE) return fail(c, "internal: undecodable instruction at pc %u", pc);
    issue[pc - pc0] = pb_timing_issue(&tm, &in);
  }
  return 0;
}

/* ---- the program ---- */

int pb_codegen(lir_t *l, const pb_hw_t *hw, pb_program_t *P, FILE *log, char *err, size_t errlen) {
  cg_t c = {.hw = hw, .l = l, .err = err, .errlen = errlen, .layer = -1, .log = log};
  memset(P, 0, sizeof *P);
  P->hw = *hw;
  pb_error_t pe;
  if (pb_hw_check(hw, &pe)) return fail(&c, "%s", pe.msg);
  int nl = l->n_layers;
  mm_plan_t *plans = calloc((size_t)nl + 1, sizeof *plans);
  uint32_t *lpc0 = calloc((size_t)nl + 1, sizeof *lpc0), *lpc1 = calloc((size_t)nl + 1, sizeof *lpc1);
  int *lstep = calloc((size_t)nl + 1, sizeof *lstep);
  tmap_t tm = {calloc((size_t)l->n_tensors + 1, sizeof(int))};
  int64_t *issue = NULL;
  uint8_t **wb = calloc((size_t)nl + 1, sizeof *wb), **cb = calloc((size_t)nl + 1, sizeof *cb);
  if (!plans || !lpc0 || !lpc1 || !lstep || !tm.pbt || !wb || !cb) {
    fail(&c, "out of memory");
    goto out;
  }
  for (int i = 0; i < l->n_tensors; i++) tm.pbt[i] = -1;

  /* 1. tiling plans and constants (host addresses from 0) */
  uint64_t addr = 0, const_bytes = 0;
  for (int i = 0; i < nl && !c.bad; i++) {
    lir_layer_t *L = &l->layers[i];
    if (L->kind != LL_MATMUL) continue;
    c.layer = i;
    if (plan_pieces(&c, L, &plans[i]) || plan_chunks(&c, L, &plans[i]) || layer_consts(&c, L, &plans[i], &wb[i], &cb[i]))
      goto out;
    mm_plan_t *p = &plans[i];
    p->w_bytes = (uint64_t)(p->CT * p->KT) * hw->n * hw->n;
    p->cfg_bytes = (uint64_t)p->CT * hw->n * PB_CFG_ENTRY_BYTES + (L->bmat ? (uint64_t)(L->brows * p->CT) * hw->n * 4 : 0);
    p->w_addr = addr;
    p->cfg_addr = addr + up(p->w_bytes, ALIGN);
    addr = up(p->cfg_addr + p->cfg_bytes, ALIGN);
  }
  c.layer = -1;
  for (int i = 0; i < l->n_bufs; i++) {
    lir_buf_t *b = &l->bufs[i];
    if (b->kind != LB_CONST) continue;
    b->addr = addr;
    addr = up(addr + b->bytes, ALIGN);
  }
  const_bytes = addr;

  /* 2. buffers */
  liveness(l);
  uint64_t act_bytes, io_bytes;
  uint64_t code_addr = place_buffers(l, addr, &act_bytes, &io_bytes);
  if (code_addr == UINT64_MAX) {
    fail(&c, "out of memory");
    goto out;
  }
  code_addr = up(code_addr, ALIGN);
  if (code_addr + PB_INSTR_BYTES > hw->host_bytes) {
    fail(&c,
         "the program needs more than %llu bytes of host memory before its code (constants %llu, activations %llu, "
         "inputs and outputs %llu); the configuration has %u: short by more than %llu bytes (give a larger "
         "--host-bytes, or a smaller --batch)",
         (unsigned long long)code_addr, (unsigned long long)const_bytes, (unsigned long long)act_bytes,
         (unsigned long long)io_bytes, hw->host_bytes,
         (unsigned long long)(code_addr + PB_INSTR_BYTES - hw->host_bytes));
    goto out;
  }

  /* 3. code: accelerator slices between host steps */
  int64_t slice_start = -1;
  for (int i = 0; i < nl && !c.bad; i++) {
    lir_layer_t *L = &l->layers[i];
    c.layer = i;
    if (L->kind == LL_MATMUL) {
      if (slice_start < 0) slice_start = c.n;
      lstep[i] = (int)P->n_steps;
      lpc0[i] = c.n;
      const lir_tensor_t *X = &l->tensors[L->in], *Y = &l->tensors[L->out];
      geo_t g = {(int64_t)(l->bufs[X->buf].addr + (uint64_t)L->in_base), (int64_t)X->bstride,
                 (int64_t)(l->bufs[Y->buf].addr + (uint64_t)L->out_base), (int64_t)Y->bstride};
      choose_plan(&c, L, &plans[i], &g);
      if (log) {
        mm_plan_t *p = &plans[i];
        fprintf(log,
                "layer %-24s %-14s K=%lld (x%d) C=%lld: %lld K tiles (in groups of %lld) x %lld column tiles, pool "
                "%lldx%d, %lld pixels in chunks of %lld, %d im2col buffer%s, weights %s, scratchpad %lld/%u rows, "
                "accumulator %lld/%u rows\n",
                L->name, L->op, (long long)L->K, L->reps, (long long)L->Cout, (long long)p->KT, (long long)p->KG,
                (long long)p->CT, (long long)L->ph, L->pw, (long long)(L->nb * L->PH * L->PW), (long long)p->Pc,
                p->slots, p->slots == 1 ? "" : "s", p->resident ? "resident" : "streamed", (long long)p->sp_used,
                hw->sp_rows, (long long)p->acc_used, hw->acc_rows);
      }
      emit_layer(&c, L, &plans[i], &g);
      lpc1[i] = c.n;
    } else {
      if (slice_start >= 0) {
        e_halt(&c);
        pb_step_t st = {.kind = PB_STEP_ACCEL, .pc = (uint32_t)slice_start, .len = c.n - (uint32_t)slice_start};
        if (pb_program_add_step(P, &st)) fail(&c, "out of memory");
        slice_start = -1;
      }
      pb_step_t st = {.kind = PB_STEP_HOST, .op = (uint8_t)L->hop, .n_in = (uint8_t)L->n_in, .n_out = (uint8_t)L->n_out};
      for (int k = 0; k < L->n_in; k++) {
        int d = add_descriptor(&c, P, &tm, L->ins[k], PB_TENSOR_INTERNAL, 0);
        if (d < 0) goto out;
        st.in[k] = (uint16_t)d;
      }
      for (int k = 0; k < L->n_out; k++) {
        int d = add_descriptor(&c, P, &tm, L->outs[k], PB_TENSOR_INTERNAL, 0);
        if (d < 0) goto out;
        st.out[k] = (uint16_t)d;
      }
      memcpy(st.param, L->param, sizeof st.param);
      lstep[i] = (int)P->n_steps;
      if (pb_program_add_step(P, &st)) fail(&c, "out of memory");
    }
  }
  c.layer = -1;
  if (c.bad) goto out;
  if (slice_start >= 0 || c.n == 0) {
    e_halt(&c);
    if (P->n_steps && slice_start >= 0) {
      pb_step_t st = {.kind = PB_STEP_ACCEL, .pc = (uint32_t)slice_start, .len = c.n - (uint32_t)slice_start};
      if (pb_program_add_step(P, &st)) fail(&c, "out of memory");
    }
  }
  if (c.bad) goto out;
  uint64_t code_bytes = (uint64_t)c.n * PB_INSTR_BYTES;
  uint64_t need = code_addr + code_bytes;
  if (need > hw->host_bytes) {
    fail(&c,
         "the program needs %llu bytes of host memory (constants %llu, activations %llu, inputs and outputs %llu, "
         "code %llu in %u instructions); the configuration has %u: short by %llu bytes (give --host-bytes %llu or "
         "more, or a smaller --batch)",
         (unsigned long long)need, (unsigned long long)const_bytes, (unsigned long long)act_bytes,
         (unsigned long long)io_bytes, (unsigned long long)code_bytes, c.n, hw->host_bytes,
         (unsigned long long)(need - hw->host_bytes), (unsigned long long)up(need, 4096));
    goto out;
  }
  P->code = c.code, P->code_len = c.n, P->code_addr = (uint32_t)code_addr;
  c.code = NULL;

  /* 4. data: constants, host-operator constants, border fills */
  for (int i = 0; i < nl; i++) {
    if (l->layers[i].kind != LL_MATMUL) continue;
    mm_plan_t *p = &plans[i];
    if (pb_program_add_data(P, (uint32_t)p->w_addr, wb[i], (uint32_t)p->w_bytes) ||
        pb_program_add_data(P, (uint32_t)p->cfg_addr, cb[i], (uint32_t)p->cfg_bytes)) {
      fail(&c, "out of memory");
      goto out;
    }
  }
  for (int i = 0; i < l->n_bufs; i++) {
    lir_buf_t *b = &l->bufs[i];
    if (b->kind == LB_CONST && b->bytes) {
      if (pb_program_add_data(P, (uint32_t)b->addr, b->init, (uint32_t)b->bytes)) {
        fail(&c, "out of memory");
        goto out;
      }
    } else if (b->has_fill && b->bytes && b->first != -2) {
      uint8_t *f = malloc(b->bytes);
      if (!f || pb_program_add_data(P, (uint32_t)b->addr, (memset(f, b->fill, b->bytes), f), (uint32_t)b->bytes)) {
        free(f);
        fail(&c, "out of memory");
        goto out;
      }
      free(f);
    }
  }

  /* 5. io descriptors: dims[0] is a batch axis only when every input and output has it */
  int batch = l->batch > 0;
  for (int i = 0; i < l->n_inputs && batch; i++) batch = l->tensors[l->inputs[i]].dims[0] == l->batch;
  for (int i = 0; i < l->n_outputs && batch; i++) batch = l->tensors[l->outputs[i]].dims[0] == l->batch;
  for (int i = 0; i < l->n_inputs; i++) {
    const lir_tensor_t *T = &l->tensors[l->inputs[i]];
    unsigned flags = (batch ? PB_TF_BATCH : 0) | (T->float_io ? PB_TF_FLOAT_IO : 0);
    if (tm.pbt[l->inputs[i]] >= 0) { /* also read by a host step: make it an input */
      P->tensors[tm.pbt[l->inputs[i]]].kind = PB_TENSOR_INPUT;
      P->tensors[tm.pbt[l->inputs[i]]].flags |= (uint8_t)flags;
      continue;
    }
    if (add_descriptor(&c, P, &tm, l->inputs[i], PB_TENSOR_INPUT, flags) < 0) goto out;
  }
  for (int i = 0; i < l->n_outputs; i++) {
    const lir_tensor_t *T = &l->tensors[l->outputs[i]];
    unsigned flags = (batch ? PB_TF_BATCH : 0) | (T->float_io ? PB_TF_FLOAT_IO : 0);
    if (tm.pbt[l->outputs[i]] >= 0) {
      P->tensors[tm.pbt[l->outputs[i]]].kind = PB_TENSOR_OUTPUT;
      P->tensors[tm.pbt[l->outputs[i]]].flags |= (uint8_t)flags;
      continue;
    }
    if (add_descriptor(&c, P, &tm, l->outputs[i], PB_TENSOR_OUTPUT, flags) < 0) goto out;
  }

  /* 6. memory plan regions */
  {
    pb_region_t r;
    memset(&r, 0, sizeof r);
    lir_name(r.name, "code");
    r.kind = PB_REG_CODE, r.addr = (uint32_t)code_addr, r.size = (uint32_t)code_bytes;
    if (pb_program_add_region(P, &r)) goto oom;
    for (int i = 0; i < nl; i++) {
      if (l->layers[i].kind != LL_MATMUL) continue;
      size_t bl = strlen(l->layers[i].name), room = PB_NAME_MAX - 3;
      memset(&r, 0, sizeof r);
      snprintf(r.name, sizeof r.name, "w:%s", l->layers[i].name + (bl > room ? bl - room : 0));
      r.kind = PB_REG_CONST, r.addr = (uint32_t)plans[i].w_addr;
      r.size = (uint32_t)(plans[i].cfg_addr + plans[i].cfg_bytes - plans[i].w_addr);
      if (pb_program_add_region(P, &r)) goto oom;
    }
    for (int i = 0; i < l->n_bufs; i++) {
      lir_buf_t *b = &l->bufs[i];
      if (!b->bytes || (b->first == -2 && b->kind != LB_CONST)) continue;
      const char *pre = b->kind == LB_IO ? "io:" : b->kind == LB_CONST ? "const:" : "act:";
      size_t room = PB_NAME_MAX - 1 - strlen(pre), bl = strlen(b->name);
      memset(&r, 0, sizeof r);
      snprintf(r.name, sizeof r.name, "%s%s", pre, b->name + (bl > room ? bl - room : 0));
      r.kind = b->kind == LB_IO ? PB_REG_IO : b->kind == LB_CONST ? PB_REG_CONST : PB_REG_ACT;
      r.addr = (uint32_t)b->addr, r.size = (uint32_t)b->bytes;
      if (pb_program_add_region(P, &r)) goto oom;
    }
  }

  /* 7. prediction and layer records */
  issue = malloc(((size_t)P->code_len + 1) * sizeof *issue);
  if (!issue) goto oom;
  {
    uint32_t nsteps = P->n_steps ? P->n_steps : 1;
    for (uint32_t s = 0; s < nsteps; s++) {
      pb_step_t whole = {.kind = PB_STEP_ACCEL, .pc = 0, .len = P->code_len};
      const pb_step_t *st = P->n_steps ? &P->steps[s] : &whole;
      if (st->kind != PB_STEP_ACCEL) continue;
      if (predict(&c, P->code, st->pc, st->pc + st->len, issue + st->pc)) goto out;
      /* layers of this step: cycles from the first instruction of each to the next (the first from 0) */
      int64_t total = issue[st->pc + st->len - 1] + 1;
      int64_t start = 0;
      for (int i = 0; i < nl; i++) {
        if (l->layers[i].kind != LL_MATMUL || (uint32_t)lstep[i] != (P->n_steps ? s : 0u)) continue;
        int nx = -1;
        for (int k = i + 1; k < nl && nx < 0; k++)
          if (l->layers[k].kind == LL_MATMUL && lstep[k] == lstep[i]) nx = k;
        int64_t end = nx >= 0 ? issue[lpc0[nx]] : total;
        pb_layer_t rec;
        memset(&rec, 0, sizeof rec);
        lir_name(rec.name, l->layers[i].name);
        snprintf(rec.op, sizeof rec.op, "%s", l->layers[i].op);
        rec.where = PB_WHERE_ACCEL;
        rec.step = (uint32_t)lstep[i];
        rec.pc = lpc0[i], rec.len = lpc1[i] - lpc0[i];
        const lir_tensor_t *X = &l->tensors[l->layers[i].in], *Y = &l->tensors[l->layers[i].out];
        rec.in_rank = (uint8_t)X->rank, rec.out_rank = (uint8_t)Y->rank;
        for (int d = 0; d < X->rank; d++) rec.in_dims[d] = (uint32_t)X->dims[d];
        for (int d = 0; d < Y->rank; d++) rec.out_dims[d] = (uint32_t)Y->dims[d];
        rec.macs = l->layers[i].macs;
        rec.cycles = (uint64_t)(end - start);
        for (uint32_t pc = lpc0[i]; pc < lpc1[i]; pc++)
          if (P->code[(size_t)pc * PB_INSTR_BYTES] == PB_OP_MATMUL) {
            pb_word_t w;
            pb_instr_t in;
            memcpy(w.bytes, P->code + (size_t)pc * PB_INSTR_BYTES, PB_INSTR_BYTES);
            pb_decode(&w, &in);
            rec.array_rows += (uint64_t)pb_instr_field(&in, PB_F_MATMUL_rows);
          }
        rec.weight_bytes = (uint32_t)(plans[i].w_bytes + plans[i].cfg_bytes);
        rec.out_bytes = (uint32_t)l->bufs[Y->buf].bytes;
        rec.sp_rows = (uint32_t)plans[i].sp_used, rec.acc_rows = (uint32_t)plans[i].acc_used;
        if (pb_program_add_layer(P, &rec)) goto oom;
        start = end;
      }
    }
    /* host layers, in order: insert at their place */
    pb_layer_t *all = calloc((size_t)nl + 1, sizeof *all);
    if (!all) goto oom;
    uint32_t k = 0, acc_i = 0;
    for (int i = 0; i < nl; i++) {
      if (l->layers[i].kind == LL_MATMUL) {
        all[k++] = P->layers[acc_i++];
        continue;
      }
      pb_layer_t *rec = &all[k++];
      lir_name(rec->name, l->layers[i].name);
      snprintf(rec->op, sizeof rec->op, "%s", l->layers[i].op);
      rec->where = PB_WHERE_HOST;
      rec->step = (uint32_t)lstep[i];
      const lir_tensor_t *X = &l->tensors[l->layers[i].in], *Y = &l->tensors[l->layers[i].out];
      int xr = X->rank, yr = Y->rank;
      if (l->bufs[X->buf].kind == LB_CONST) xr = 1;
      rec->in_rank = (uint8_t)xr, rec->out_rank = (uint8_t)yr;
      for (int d = 0; d < xr; d++) rec->in_dims[d] = (uint32_t)X->dims[d];
      for (int d = 0; d < yr; d++) rec->out_dims[d] = (uint32_t)Y->dims[d];
      rec->out_bytes = (uint32_t)l->bufs[Y->buf].bytes;
    }
    free(P->layers);
    P->layers = all;
    P->n_layers = k;
  }
  if (pb_program_check(P, &pe)) {
    fail(&c, "internal: %s", pe.msg);
    goto out;
  }
  free(issue);
  for (int i = 0; i < nl; i++) plan_free(&plans[i]), free(wb[i]), free(cb[i]);
  free(plans), free(lpc0), free(lpc1), free(lstep), free(tm.pbt), free(wb), free(cb);
  return 0;
oom:
  fail(&c, "out of memory");
out:
  free(issue);
  free(c.code);
  if (plans)
    for (int i = 0; i < nl; i++) plan_free(&plans[i]);
  if (wb)
    for (int i = 0; i < nl; i++) free(wb[i]);
  if (cb)
    for (int i = 0; i < nl; i++) free(cb[i]);
  free(plans), free(lpc0), free(lpc1), free(lstep), free(tm.pbt), free(wb), free(cb);
  pb_program_free(P);
  return -1;
}
