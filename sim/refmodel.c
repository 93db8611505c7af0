/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The bit-exact C reference model: one instruction at a time, as docs/isa.md
 * defines it. Every check happens before any write of the instruction, so a
 * faulting instruction changes nothing.
 */
#include "refmodel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protobrain/requant.h"
#include "protobrain/timing.h"

struct pb_model {
  pb_hw_t hw;
  uint8_t *host;
  int8_t *sp;   /* sp_rows x N */
  int32_t *acc; /* acc_rows x N */
  int8_t *w;    /* weights of the most recent WEIGHTS: N x N, w[k*N + c] */
  /* CONFIG registers */
  int32_t *bias;
  uint32_t *mult;
  int32_t zp, lo, hi;
  /* control */
  uint32_t prog_addr, prog_len, pc;
  pb_state_t state;
  pb_hw_error_t err;
  pb_model_counters_t cnt;
  pb_write_hook_t hook;
  void *hook_ctx;
  pb_timing_t tm;
  int64_t last_issue;
};

pb_model_t *pb_model_new(const pb_hw_t *hw) {
  pb_error_t e;
  if (pb_hw_check(hw, &e) != 0) return NULL;
  pb_model_t *m = calloc(1, sizeof *m);
  if (!m) return NULL;
  m->hw = *hw;
  size_t n = hw->n;
  m->host = calloc(hw->host_bytes, 1);
  m->sp = calloc((size_t)hw->sp_rows * n, 1);
  m->acc = calloc((size_t)hw->acc_rows * n, sizeof(int32_t));
  m->w = calloc(n * n, 1);
  m->bias = calloc(n, sizeof(int32_t));
  m->mult = calloc(n, sizeof(uint32_t));
  if (!m->host || !m->sp || !m->acc || !m->w || !m->bias || !m->mult) {
    pb_model_free(m);
    return NULL;
  }
  m->lo = -128;
  m->hi = 127;
  return m;
}

void pb_model_free(pb_model_t *m) {
  if (!m) return;
  free(m->host);
  free(m->sp);
  free(m->acc);
  free(m->w);
  free(m->bias);
  free(m->mult);
  free(m);
}

const pb_hw_t *pb_model_hw(const pb_model_t *m) { return &m->hw; }
uint8_t *pb_model_host(pb_model_t *m) { return m->host; }
int8_t *pb_model_sp(pb_model_t *m) { return m->sp; }
int32_t *pb_model_acc(pb_model_t *m) { return m->acc; }
pb_state_t pb_model_state(const pb_model_t *m) { return m->state; }
uint32_t pb_model_pc(const pb_model_t *m) { return m->pc; }
pb_hw_error_t pb_model_error(const pb_model_t *m) { return m->err; }
int64_t pb_model_last_issue(const pb_model_t *m) { return m->last_issue; }
const pb_model_counters_t *pb_model_counters(const pb_model_t *m) { return &m->cnt; }

void pb_model_set_write_hook(pb_model_t *m, pb_write_hook_t hook, void *ctx) {
  m->hook = hook;
  m->hook_ctx = ctx;
}

void pb_model_start(pb_model_t *m, uint32_t addr, uint32_t len) {
  size_t n = m->hw.n;
  m->prog_addr = addr;
  m->prog_len = len;
  m->pc = 0;
  m->state = PB_STATE_RUNNING;
  m->err = PB_ERR_NONE;
  memset(&m->cnt, 0, sizeof m->cnt);
  memset(m->w, 0, n * n);
  memset(m->bias, 0, n * sizeof *m->bias);
  memset(m->mult, 0, n * sizeof *m->mult);
  m->zp = 0;
  m->lo = -128;
  m->hi = 127;
  pb_timing_init(&m->tm, &m->hw);
  m->last_issue = -1;
}

int pb_model_load_program(pb_model_t *m, const pb_program_t *p, pb_error_t *err) {
  const pb_hw_t *a = &m->hw, *b = &p->hw;
  if (!pb_hw_equal(a, b)) {
    char ha[128], hb[128];
    pb_hw_format(b, hb, sizeof hb);
    pb_hw_format(a, ha, sizeof ha);
    snprintf(err->msg, sizeof err->msg, "program built for hardware %s, backend has %s", hb, ha);
    return -1;
  }
  if (pb_program_check(p, err) != 0) return -1;
  memcpy(m->host + p->code_addr, p->code, (size_t)p->code_len * PB_INSTR_BYTES);
  for (uint32_t i = 0; i < p->n_data; i++) memcpy(m->host + p->data[i].host_addr, p->data[i].bytes, p->data[i].size);
  return 0;
}

/* ---- helpers ---------------------------------------------------------------- */

static void write_event(pb_model_t *m, pb_mem_t mem, uint32_t addr, const void *data, uint32_t len) {
  if (m->hook) m->hook(m->hook_ctx, m->pc, mem, addr, (const uint8_t *)data, len);
}

static pb_state_t stop(pb_model_t *m, pb_state_t st, pb_hw_error_t e, int64_t cycles) {
  m->err = e;
  m->state = st;
  m->cnt.cycles = (uint64_t)cycles;
  m->cnt.array_busy = m->tm.array_rows;
  return m->state;
}

/* End (exclusive) of a 2-D host access: addr + (rows-1)*stride + bytes, in 64 bits. */
static uint64_t host_end(uint64_t addr, uint64_t rows, uint64_t stride, uint64_t bytes) {
  return addr + (rows - 1) * stride + bytes;
}

static int overlaps_program(const pb_model_t *m, uint64_t lo, uint64_t hi) {
  uint64_t plo = m->prog_addr, phi = plo + (uint64_t)m->prog_len * PB_INSTR_BYTES;
  return lo < phi && plo < hi;
}

static int32_t rd_i32(const uint8_t *p) {
  uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
  return (int32_t)v;
}

#define F(id) pb_instr_field(&in, PB_F_##id)

/*
 * Validate an instruction against the hardware: the checks of docs/isa.md in
 * their order (field ranges, scratchpad, accumulator, host). Returns the error.
 */
static pb_hw_error_t validate(const pb_model_t *m, const pb_instr_t *ip) {
  const pb_instr_t in = *ip;
  const uint64_t n = m->hw.n, sp = m->hw.sp_rows, acc = m->hw.acc_rows, host = m->hw.host_bytes;
  switch (in.op) {
  case PB_OP_LOAD:
  case PB_OP_STORE: {
    int is_load = in.op == PB_OP_LOAD;
    uint64_t col = (uint64_t)(is_load ? F(LOAD_sp_col) : F(STORE_sp_col));
    uint64_t cols = (uint64_t)(is_load ? F(LOAD_cols) : F(STORE_cols));
    uint64_t rows = (uint64_t)(is_load ? F(LOAD_rows) : F(STORE_rows));
    uint64_t spa = (uint64_t)(is_load ? F(LOAD_sp_addr) : F(STORE_sp_addr));
    uint64_t ha = (uint64_t)(is_load ? F(LOAD_host_addr) : F(STORE_host_addr));
    uint64_t hs = (uint64_t)(is_load ? F(LOAD_host_stride) : F(STORE_host_stride));
    if (rows == 0 || cols == 0 || cols > n || col + cols > n) return PB_ERR_FIELD_RANGE;
    if (spa + rows > sp) return PB_ERR_SP_RANGE;
    uint64_t end = host_end(ha, rows, hs, cols);
    if (end > host) return PB_ERR_HOST_RANGE;
    if (!is_load && overlaps_program(m, ha, end)) return PB_ERR_HOST_RANGE;
    return PB_ERR_NONE;
  }
  case PB_OP_LOAD_ACC: {
    uint64_t rows = (uint64_t)F(LOAD_ACC_rows);
    if (rows == 0) return PB_ERR_FIELD_RANGE;
    if ((uint64_t)F(LOAD_ACC_acc_addr) + rows > acc) return PB_ERR_ACC_RANGE;
    if (host_end((uint64_t)F(LOAD_ACC_host_addr), rows, (uint64_t)F(LOAD_ACC_host_stride), 4 * n) > host)
      return PB_ERR_HOST_RANGE;
    return PB_ERR_NONE;
  }
  case PB_OP_STORE_ACC: {
    uint64_t rows = (uint64_t)F(STORE_ACC_rows), cols = (uint64_t)F(STORE_ACC_cols), ha = (uint64_t)F(STORE_ACC_host_addr);
    if (rows == 0 || cols == 0 || cols > n) return PB_ERR_FIELD_RANGE;
    if ((uint64_t)F(STORE_ACC_acc_addr) + rows > acc) return PB_ERR_ACC_RANGE;
    uint64_t end = host_end(ha, rows, (uint64_t)F(STORE_ACC_host_stride), 4 * cols);
    if (end > host || overlaps_program(m, ha, end)) return PB_ERR_HOST_RANGE;
    return PB_ERR_NONE;
  }
  case PB_OP_WEIGHTS:
    if ((uint64_t)F(WEIGHTS_sp_addr) + n > sp) return PB_ERR_SP_RANGE;
    return PB_ERR_NONE;
  case PB_OP_MATMUL: {
    uint64_t rows = (uint64_t)F(MATMUL_rows);
    if (rows == 0) return PB_ERR_FIELD_RANGE;
    if ((uint64_t)F(MATMUL_sp_addr) + rows > sp) return PB_ERR_SP_RANGE;
    if ((uint64_t)F(MATMUL_acc_addr) + rows > acc) return PB_ERR_ACC_RANGE;
    return PB_ERR_NONE;
  }
  case PB_OP_ACTIVATE: {
    uint64_t rows = (uint64_t)F(ACTIVATE_rows), pool = (uint64_t)F(ACTIVATE_pool);
    if (rows == 0 || pool == 0 || pool > PB_POOL_MAX) return PB_ERR_FIELD_RANGE;
    if ((uint64_t)F(ACTIVATE_sp_addr) + rows > sp) return PB_ERR_SP_RANGE;
    if ((uint64_t)F(ACTIVATE_acc_addr) + (pool - 1) * (uint64_t)F(ACTIVATE_pool_stride) + rows > acc)
      return PB_ERR_ACC_RANGE;
    return PB_ERR_NONE;
  }
  case PB_OP_CONFIG:
    if (F(CONFIG_lo) > F(CONFIG_hi)) return PB_ERR_FIELD_RANGE;
    if ((uint64_t)F(CONFIG_host_addr) + n * PB_CFG_ENTRY_BYTES > host) return PB_ERR_HOST_RANGE;
    return PB_ERR_NONE;
  case PB_OP_SYNC:
  case PB_OP_HALT:
    return PB_ERR_NONE;
  }
  return PB_ERR_ILLEGAL_OPCODE;
}

pb_hw_error_t pb_model_check(const pb_hw_t *hw, uint32_t prog_addr, uint32_t prog_len, const pb_word_t *w) {
  pb_model_t m;
  memset(&m, 0, sizeof m);
  m.hw = *hw;
  m.prog_addr = prog_addr;
  m.prog_len = prog_len;
  pb_instr_t in;
  pb_hw_error_t e = pb_decode(w, &in);
  return e != PB_ERR_NONE ? e : validate(&m, &in);
}

/* ---- execution ---------------------------------------------------------------- */

static void exec_load(pb_model_t *m, const pb_instr_t *ip) {
  const pb_instr_t in = *ip;
  uint32_t n = m->hw.n, col = (uint32_t)F(LOAD_sp_col), cols = (uint32_t)F(LOAD_cols);
  for (uint32_t r = 0; r < (uint32_t)F(LOAD_rows); r++) {
    const uint8_t *src = m->host + (uint64_t)F(LOAD_host_addr) + (uint64_t)r * (uint64_t)F(LOAD_host_stride);
    uint32_t row = (uint32_t)F(LOAD_sp_addr) + r;
    write_event(m, PB_MEM_SP, row * n + col, src, cols);
    memcpy(m->sp + (size_t)row * n + col, src, cols);
    m->cnt.dma_bytes += cols;
  }
}

static void exec_store(pb_model_t *m, const pb_instr_t *ip) {
  const pb_instr_t in = *ip;
  uint32_t n = m->hw.n, col = (uint32_t)F(STORE_sp_col), cols = (uint32_t)F(STORE_cols);
  for (uint32_t r = 0; r < (uint32_t)F(STORE_rows); r++) {
    uint64_t dst = (uint64_t)F(STORE_host_addr) + (uint64_t)r * (uint64_t)F(STORE_host_stride);
    const int8_t *src = m->sp + ((size_t)F(STORE_sp_addr) + r) * n + col;
    write_event(m, PB_MEM_HOST, (uint32_t)dst, src, cols);
    memcpy(m->host + dst, src, cols);
    m->cnt.dma_bytes += cols;
  }
}

static void exec_load_acc(pb_model_t *m, const pb_instr_t *ip) {
  const pb_instr_t in = *ip;
  uint32_t n = m->hw.n;
  int32_t row_buf[PB_HW_N_MAX];
  for (uint32_t r = 0; r < (uint32_t)F(LOAD_ACC_rows); r++) {
    const uint8_t *src = m->host + (uint64_t)F(LOAD_ACC_host_addr) + (uint64_t)r * (uint64_t)F(LOAD_ACC_host_stride);
    uint32_t row = (uint32_t)F(LOAD_ACC_acc_addr) + r;
    for (uint32_t c = 0; c < n; c++) row_buf[c] = rd_i32(src + 4 * c);
    write_event(m, PB_MEM_ACC, row * n * 4, row_buf, n * 4);
    memcpy(m->acc + (size_t)row * n, row_buf, n * sizeof(int32_t));
    m->cnt.dma_bytes += 4 * n;
  }
}

static void exec_store_acc(pb_model_t *m, const pb_instr_t *ip) {
  const pb_instr_t in = *ip;
  uint32_t n = m->hw.n, bytes = 4 * (uint32_t)F(STORE_ACC_cols);
  for (uint32_t r = 0; r < (uint32_t)F(STORE_ACC_rows); r++) {
    uint64_t dst = (uint64_t)F(STORE_ACC_host_addr) + (uint64_t)r * (uint64_t)F(STORE_ACC_host_stride);
    const int32_t *src = m->acc + ((size_t)F(STORE_ACC_acc_addr) + r) * n;
    uint8_t row_buf[4 * PB_HW_N_MAX];
    for (uint32_t c = 0; c < bytes / 4; c++) {
      uint32_t v = (uint32_t)src[c];
      for (int k = 0; k < 4; k++) row_buf[4 * c + (uint32_t)k] = (uint8_t)(v >> (8 * k));
    }
    /* reported as the hardware moves it: N-byte host writes, the last one shorter (co-simulation compares writes) */
    for (uint32_t o = 0; o < bytes; o += n)
      write_event(m, PB_MEM_HOST, (uint32_t)(dst + o), row_buf + o, bytes - o < n ? bytes - o : n);
    memcpy(m->host + dst, row_buf, bytes);
    m->cnt.dma_bytes += bytes;
  }
}

static void exec_weights(pb_model_t *m, const pb_instr_t *ip) {
  const pb_instr_t in = *ip;
  uint32_t n = m->hw.n;
  memcpy(m->w, m->sp + (size_t)F(WEIGHTS_sp_addr) * n, (size_t)n * n);
}

static void exec_matmul(pb_model_t *m, const pb_instr_t *ip) {
  const pb_instr_t in = *ip;
  uint32_t n = m->hw.n;
  int32_t out[PB_HW_N_MAX];
  for (uint32_t r = 0; r < (uint32_t)F(MATMUL_rows); r++) {
    const int8_t *x = m->sp + ((size_t)F(MATMUL_sp_addr) + r) * n;
    int32_t *a = m->acc + ((size_t)F(MATMUL_acc_addr) + r) * n;
    for (uint32_t c = 0; c < n; c++) {
      /* int32 two's-complement wrap, done in uint32 to keep it defined */
      uint32_t s = F(MATMUL_acc) ? (uint32_t)a[c] : 0u;
      for (uint32_t k = 0; k < n; k++) s += (uint32_t)((int32_t)x[k] * (int32_t)m->w[k * n + c]);
      out[c] = (int32_t)s;
    }
    write_event(m, PB_MEM_ACC, (uint32_t)((F(MATMUL_acc_addr) + r) * n * 4), out, n * 4);
    memcpy(a, out, n * sizeof(int32_t));
    m->cnt.macs += (uint64_t)n * n;
  }
}

static void exec_activate(pb_model_t *m, const pb_instr_t *ip) {
  const pb_instr_t in = *ip;
  uint32_t n = m->hw.n;
  int8_t out[PB_HW_N_MAX];
  uint32_t pool = (uint32_t)F(ACTIVATE_pool), stride = (uint32_t)F(ACTIVATE_pool_stride);
  for (uint32_t r = 0; r < (uint32_t)F(ACTIVATE_rows); r++) {
    uint32_t row = (uint32_t)F(ACTIVATE_sp_addr) + r;
    for (uint32_t c = 0; c < n; c++) {
      int32_t v = INT32_MIN;
      for (uint32_t i = 0; i < pool; i++) {
        const int32_t *a = m->acc + ((size_t)F(ACTIVATE_acc_addr) + (size_t)i * stride + r) * n;
        int32_t t = (int32_t)((uint32_t)a[c] + (uint32_t)m->bias[c]); /* int32 wrapping add */
        if (i == 0 || t > v) v = t;
      }
      out[c] = pb_requant(v, m->mult[c], m->zp, m->lo, m->hi);
    }
    write_event(m, PB_MEM_SP, row * n, out, n);
    memcpy(m->sp + (size_t)row * n, out, n);
  }
}

static pb_hw_error_t exec_config(pb_model_t *m, const pb_instr_t *ip) {
  const pb_instr_t in = *ip;
  uint32_t n = m->hw.n;
  const uint8_t *src = m->host + (uint64_t)F(CONFIG_host_addr);
  for (uint32_t c = 0; c < n; c++)
    if (!pb_requant_mult_ok((uint32_t)rd_i32(src + PB_CFG_ENTRY_BYTES * c + 4))) return PB_ERR_CONFIG_VALUE;
  for (uint32_t c = 0; c < n; c++) {
    m->bias[c] = rd_i32(src + PB_CFG_ENTRY_BYTES * c);
    m->mult[c] = (uint32_t)rd_i32(src + PB_CFG_ENTRY_BYTES * c + 4);
  }
  m->zp = (int32_t)F(CONFIG_zp);
  m->lo = (int32_t)F(CONFIG_lo);
  m->hi = (int32_t)F(CONFIG_hi);
  m->cnt.dma_bytes += (uint64_t)n * PB_CFG_ENTRY_BYTES;
  return PB_ERR_NONE;
}

pb_state_t pb_model_step(pb_model_t *m) {
  if (m->state != PB_STATE_RUNNING) return m->state;
  uint64_t addr = (uint64_t)m->prog_addr + (uint64_t)m->pc * PB_INSTR_BYTES;
  if (m->pc >= m->prog_len || addr + PB_INSTR_BYTES > m->hw.host_bytes)
    return stop(m, PB_STATE_ERROR, PB_ERR_PC_RANGE, pb_timing_fault_at_head(&m->tm, 0));
  pb_word_t w;
  memcpy(w.bytes, m->host + addr, PB_INSTR_BYTES);
  pb_instr_t in;
  pb_hw_error_t e = pb_decode(&w, &in);
  if (e == PB_ERR_NONE) e = validate(m, &in);
  if (e != PB_ERR_NONE) return stop(m, PB_STATE_ERROR, e, pb_timing_fault_at_head(&m->tm, 1));
  m->last_issue = pb_timing_issue(&m->tm, &in);
  switch (in.op) {
  case PB_OP_LOAD: exec_load(m, &in); break;
  case PB_OP_LOAD_ACC: exec_load_acc(m, &in); break;
  case PB_OP_WEIGHTS: exec_weights(m, &in); break;
  case PB_OP_MATMUL: exec_matmul(m, &in); break;
  case PB_OP_ACTIVATE: exec_activate(m, &in); break;
  case PB_OP_STORE: exec_store(m, &in); break;
  case PB_OP_STORE_ACC: exec_store_acc(m, &in); break;
  case PB_OP_CONFIG:
    e = exec_config(m, &in);
    if (e != PB_ERR_NONE) return stop(m, PB_STATE_ERROR, e, pb_timing_fault_config(&m->tm));
    break;
  case PB_OP_SYNC: break;
  case PB_OP_HALT:
    m->cnt.instrs++;
    return stop(m, PB_STATE_DONE, PB_ERR_NONE, m->last_issue + 1);
  }
  m->cnt.instrs++;
  m->pc++;
  return m->state;
}

pb_state_t pb_model_run(pb_model_t *m, uint64_t max_instrs) {
  for (uint64_t i = 0; m->state == PB_STATE_RUNNING && (max_instrs == 0 || i < max_instrs); i++) pb_model_step(m);
  return m->state;
}
