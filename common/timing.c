/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The timing model of docs/timing.md. Every rule here has a counterpart in
 * the RTL (rtl/pb_core.sv); change both together.
 *
 * Conventions: cycle 0 is the first cycle after `start`. An instruction
 * "issues" in cycle I (leaves the queue); its unit starts in s = I + 1.
 * busy_end is the unit's last busy cycle: its last memory write happens at the
 * clock edge that ends it, so an instruction that depends on it may issue in
 * busy_end + 1 and read the value from busy_end + 2 on. All waits are
 * "cycle > threshold", so the issue cycle is a maximum of thresholds.
 */
#include "protobrain/timing.h"

#include <string.h>

#define F(id) pb_instr_field(in, PB_F_##id)
#define MAX(a, b) ((a) > (b) ? (a) : (b))

void pb_timing_init(pb_timing_t *t, const pb_hw_t *hw) {
  memset(t, 0, sizeof *t);
  t->hw = *hw;
  t->prev_issue = -1;
  t->prev_req = -1;
  for (int i = 0; i < PB_TM_FETCH_DEPTH; i++) t->issue_hist[i] = -1;
  for (int u = 0; u < 4; u++) t->busy_end[u] = -1;
  t->serialize_end = -1;
  t->drain_end = -1;
  t->buf_end[0] = t->buf_end[1] = -1;
}

static int overlap(const pb_tm_range_t *a, const pb_tm_range_t *b) {
  return a->mem != PB_TM_NONE && a->mem == b->mem && a->lo < b->hi && b->lo < a->hi;
}

static pb_tm_range_t range(pb_tm_mem_t mem, uint64_t lo, uint64_t hi) {
  pb_tm_range_t r = {mem, lo, hi};
  return r;
}

/* Host byte range of a 2-D access (bounding box). */
static pb_tm_range_t host2d(uint64_t addr, uint64_t rows, uint64_t stride, uint64_t bytes) {
  return range(PB_TM_HOST, addr, addr + (rows - 1) * stride + bytes);
}

/* Footprint (read and write ranges) of an instruction. */
void pb_timing_footprint(const pb_hw_t *hw, const pb_instr_t *in, pb_tm_range_t *rd, pb_tm_range_t *wr) {
  uint64_t n = hw->n;
  *rd = range(PB_TM_NONE, 0, 0);
  *wr = range(PB_TM_NONE, 0, 0);
  switch (in->op) {
  case PB_OP_LOAD:
    *rd = host2d((uint64_t)F(LOAD_host_addr), (uint64_t)F(LOAD_rows), (uint64_t)F(LOAD_host_stride),
                 (uint64_t)F(LOAD_cols));
    *wr = range(PB_TM_SP, (uint64_t)F(LOAD_sp_addr), (uint64_t)(F(LOAD_sp_addr) + F(LOAD_rows)));
    break;
  case PB_OP_LOAD_ACC:
    *rd = host2d((uint64_t)F(LOAD_ACC_host_addr), (uint64_t)F(LOAD_ACC_rows), (uint64_t)F(LOAD_ACC_host_stride),
                 4 * n);
    *wr = range(PB_TM_ACC, (uint64_t)F(LOAD_ACC_acc_addr), (uint64_t)(F(LOAD_ACC_acc_addr) + F(LOAD_ACC_rows)));
    break;
  case PB_OP_CONFIG:
    *rd = range(PB_TM_HOST, (uint64_t)F(CONFIG_host_addr), (uint64_t)F(CONFIG_host_addr) + 8 * n);
    break; /* the CONFIG registers are touched by the LD unit only */
  case PB_OP_ACTIVATE:
    *rd = range(PB_TM_ACC, (uint64_t)F(ACTIVATE_acc_addr),
                (uint64_t)(F(ACTIVATE_acc_addr) + (F(ACTIVATE_pool) - 1) * F(ACTIVATE_pool_stride) +
                           F(ACTIVATE_rows)));
    *wr = range(PB_TM_SP, (uint64_t)F(ACTIVATE_sp_addr), (uint64_t)(F(ACTIVATE_sp_addr) + F(ACTIVATE_rows)));
    break;
  case PB_OP_WEIGHTS:
    *rd = range(PB_TM_SP, (uint64_t)F(WEIGHTS_sp_addr), (uint64_t)F(WEIGHTS_sp_addr) + n);
    break;
  case PB_OP_MATMUL:
    *rd = range(PB_TM_SP, (uint64_t)F(MATMUL_sp_addr), (uint64_t)(F(MATMUL_sp_addr) + F(MATMUL_rows)));
    *wr = range(PB_TM_ACC, (uint64_t)F(MATMUL_acc_addr), (uint64_t)(F(MATMUL_acc_addr) + F(MATMUL_rows)));
    break;
  case PB_OP_STORE:
    *rd = range(PB_TM_SP, (uint64_t)F(STORE_sp_addr), (uint64_t)(F(STORE_sp_addr) + F(STORE_rows)));
    *wr = host2d((uint64_t)F(STORE_host_addr), (uint64_t)F(STORE_rows), (uint64_t)F(STORE_host_stride),
                 (uint64_t)F(STORE_cols));
    break;
  case PB_OP_STORE_ACC:
    *rd = range(PB_TM_ACC, (uint64_t)F(STORE_ACC_acc_addr), (uint64_t)(F(STORE_ACC_acc_addr) + F(STORE_ACC_rows)));
    *wr = host2d((uint64_t)F(STORE_ACC_host_addr), (uint64_t)F(STORE_ACC_rows), (uint64_t)F(STORE_ACC_host_stride),
                 4 * (uint64_t)F(STORE_ACC_cols));
    break;
  case PB_OP_SYNC:
  case PB_OP_HALT:
    break;
  }
}

int64_t pb_timing_duration(const pb_hw_t *hw, const pb_instr_t *in) {
  int64_t n = hw->n;
  switch (in->op) {
  case PB_OP_LOAD: return F(LOAD_rows) + 1;          /* requests s..s+R-1, writes s+1..s+R */
  case PB_OP_LOAD_ACC: return 4 * F(LOAD_ACC_rows) + 1; /* 4 beats of N bytes per row */
  case PB_OP_CONFIG: return 8 + 1;                   /* 8 beats of N bytes: N x 8 bytes */
  case PB_OP_ACTIVATE: /* a row: pool reads, then N/lanes - 1 more cycles through the requantizer lanes */
    return F(ACTIVATE_rows) * (F(ACTIVATE_pool) + pb_tm_rq_groups(hw) - 1) + PB_TM_RQ_LATENCY + 1;
  case PB_OP_WEIGHTS: return n;                      /* scratchpad reads s..s+N-1 */
  case PB_OP_MATMUL: return F(MATMUL_rows);          /* scratchpad reads s..s+R-1 (feeding) */
  case PB_OP_STORE: return F(STORE_rows) + 1;        /* reads s..s+R-1, host writes s+1..s+R */
  case PB_OP_STORE_ACC: /* B = ceil(4*cols / N) beats per row: row r read in s+B*r, beats s+1 .. s+B*rows */
    return F(STORE_ACC_rows) * ((4 * F(STORE_ACC_cols) + n - 1) / n) + 1;
  case PB_OP_SYNC:
  case PB_OP_HALT: return 0;
  }
  return 0;
}

/* Earliest cycle at which `in` may issue, from everything already issued. */
static int64_t earliest(const pb_timing_t *t, const pb_instr_t *in, pb_unit_t unit) {
  /* fetch: request r_i = max(r_{i-1} + 1, I_{i-DEPTH} + 1); at the head two cycles later */
  int64_t req = MAX(t->prev_req + 1, t->issue_hist[t->index % PB_TM_FETCH_DEPTH] + 1);
  int64_t c = MAX(t->prev_issue + 1, req + 2);
  c = MAX(c, t->serialize_end + 1);
  if (unit == PB_UNIT_CTL) { /* SYNC, HALT: every unit idle, the array drained */
    for (int u = 1; u < 4; u++) c = MAX(c, t->busy_end[u] + 1);
    return MAX(c, t->drain_end + 1);
  }
  c = MAX(c, t->busy_end[unit] + 1);
  pb_tm_range_t rd, wr;
  pb_timing_footprint(&t->hw, in, &rd, &wr);
  for (int u = 1; u < 4; u++) {
    if (u == (int)unit) continue;
    const pb_tm_range_t *vr = &t->rd[u], *vw = &t->wr[u];
    if (overlap(&wr, vr) || overlap(&wr, vw) || overlap(&rd, vw)) c = MAX(c, t->busy_end[u] + 1);
  }
  if (unit != PB_UNIT_EX && (overlap(&wr, &t->acc_box) || overlap(&rd, &t->acc_box)))
    c = MAX(c, t->drain_end + 1); /* MATMUL results still on their way to the accumulator */
  if (in->op == PB_OP_LOAD_ACC) c = MAX(c, MAX(t->busy_end[PB_UNIT_EX], t->drain_end) + 1); /* shares the write port */
  if (in->op == PB_OP_MATMUL && t->ld_is_load_acc) c = MAX(c, t->busy_end[PB_UNIT_LD] + 1);
  if (in->op == PB_OP_WEIGHTS) c = MAX(c, t->buf_end[!t->wsel] + 1); /* the shadow buffer must be out of use */
  /* ACTIVATE and STORE_ACC share one accumulator read port: each waits for the other to finish */
  if (in->op == PB_OP_STORE_ACC && t->ld_is_activate) c = MAX(c, t->busy_end[PB_UNIT_LD] + 1);
  if (in->op == PB_OP_ACTIVATE && t->st_is_store_acc) c = MAX(c, t->busy_end[PB_UNIT_ST] + 1);
  return c;
}

int64_t pb_timing_issue(pb_timing_t *t, const pb_instr_t *in) {
  const pb_instr_info_t *ii = pb_isa_by_opcode((unsigned)in->op);
  pb_unit_t unit = ii ? ii->unit : PB_UNIT_CTL;
  int64_t req = MAX(t->prev_req + 1, t->issue_hist[t->index % PB_TM_FETCH_DEPTH] + 1);
  int64_t c = earliest(t, in, unit);
  int64_t s = c + 1, n = t->hw.n;
  if (unit != PB_UNIT_CTL) {
    int64_t d = pb_timing_duration(&t->hw, in);
    pb_tm_range_t rd, wr;
    pb_timing_footprint(&t->hw, in, &rd, &wr);
    t->busy_end[unit] = s + d - 1;
    t->rd[unit] = rd;
    t->wr[unit] = unit == PB_UNIT_EX ? range(PB_TM_NONE, 0, 0) : wr; /* EX writes are tracked by acc_box */
    if (unit == PB_UNIT_LD) t->ld_is_load_acc = in->op == PB_OP_LOAD_ACC;
    if (unit == PB_UNIT_LD) t->ld_is_activate = in->op == PB_OP_ACTIVATE;
    if (unit == PB_UNIT_ST) t->st_is_store_acc = in->op == PB_OP_STORE_ACC;
    if (in->op == PB_OP_CONFIG) t->serialize_end = t->busy_end[PB_UNIT_LD];
    if (in->op == PB_OP_WEIGHTS) t->wpending = 1;
    if (in->op == PB_OP_MATMUL) {
      int64_t rows = F(MATMUL_rows);
      if (t->wpending) t->wsel ^= 1, t->wpending = 0;
      /* row r: scratchpad read in s+r, enters the array in x = s+r+1, leaves in x+2N-1, written at its end + 1 */
      int64_t last_x = s + rows;
      t->buf_end[t->wsel] = last_x + 2 * n - 2;
      if (c > t->drain_end) t->acc_box = wr; /* the array was empty: a new box */
      else {
        if (wr.lo < t->acc_box.lo) t->acc_box.lo = wr.lo;
        if (wr.hi > t->acc_box.hi) t->acc_box.hi = wr.hi;
      }
      t->drain_end = last_x + pb_tm_array_latency((uint32_t)n) + 1;
      t->array_rows += (uint64_t)rows;
    }
  }
  t->issue_hist[t->index % PB_TM_FETCH_DEPTH] = c;
  t->index++;
  t->prev_issue = c;
  t->prev_req = req;
  return c;
}

/* Cycle at which every unit is idle and the array drained, not before `from`. */
static int64_t idle_from(const pb_timing_t *t, int64_t from) {
  int64_t c = from;
  for (int u = 1; u < 4; u++) c = MAX(c, t->busy_end[u] + 1);
  return MAX(c, t->drain_end + 1);
}

int64_t pb_timing_fault_at_head(const pb_timing_t *t, int fetched) {
  /* a fetched instruction is seen at the head two cycles after its request; a fetch past the end
   * of the program is known as soon as the queue is empty after the previous issue */
  int64_t seen = t->prev_issue + 1;
  if (fetched) seen = MAX(seen, MAX(t->prev_req + 1, t->issue_hist[t->index % PB_TM_FETCH_DEPTH] + 1) + 2);
  return idle_from(t, seen) + 1;
}

int64_t pb_timing_fault_config(const pb_timing_t *t) {
  /* the LD unit flags the bad multiplier at its last cycle; the core stops once all is idle */
  return idle_from(t, t->busy_end[PB_UNIT_LD] + 1) + 1;
}
