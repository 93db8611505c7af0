/* SPDX-License-Identifier: Apache-2.0 */
/* The `uart` backend (backend_uart.h, docs/uart.md). */
#include "backend_uart.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "errfmt.h"
#include "protobrain/isa.h"
#include "protobrain/timing.h"

#define GAP 32u                            /* unchanged bytes worth sending to save a frame */
#define DEFAULT_MAX_CYCLES (1ull << 34)    /* watchdog: 24 minutes at 12 MHz */
#define PB_UART_FILL_CHUNK 4096u           /* bytes per FILL_MEM of the session start's clear */

typedef struct {
  pb_uart_link_t *link;
  uint8_t *board;      /* what the board's host memory holds */
  uint8_t *mark;       /* bytes to read back after a run */
  uint64_t max_cycles;
  int broken;          /* a transfer failed: the board's memory is no longer known */
  char broken_msg[512];
  uint64_t mem_written, mem_read, polls;
  uint32_t chunk;      /* data bytes per WRITE_MEM / READ_MEM: halved after a retransmission, regrown */
} ub_t;

/* On a noisy line a long frame is damaged more often: after a request that needed a
 * retransmission, use frames half as long (down to 16 bytes); after a clean one, 16 bytes longer. */
static void adapt_chunk(ub_t *u, uint64_t retries_before) {
  if (pb_uart_link_stats(u->link)->retries != retries_before) u->chunk = u->chunk > 32 ? u->chunk / 2 : 16;
  else u->chunk = u->chunk + 16 < PB_UART_MAX_DATA ? u->chunk + 16 : PB_UART_MAX_DATA;
}

static int broken(pb_backend_t *b, const char *err) {
  ub_t *u = b->impl;
  u->broken = 1;
  snprintf(u->broken_msg, sizeof u->broken_msg, "%s", err);
  return -1;
}

/* Send every byte where host and board differ, in runs of at most u->chunk bytes. */
static int sync_to_board(pb_backend_t *b, char *err, size_t errlen) {
  ub_t *u = b->impl;
  const uint8_t *h = b->host;
  uint32_t size = b->hw.host_bytes;
  for (uint32_t i = 0; i < size;) {
    if (h[i] == u->board[i]) {
      i++;
      continue;
    }
    uint32_t start = i, end = i + 1;
    for (uint32_t j = end; j < size && j - start < u->chunk && j - end < GAP; j++)
      if (h[j] != u->board[j]) end = j + 1;
    uint64_t r0 = pb_uart_link_stats(u->link)->retries;
    if (pb_uart_write_mem(u->link, start, h + start, end - start, err, errlen)) return -1;
    adapt_chunk(u, r0);
    memcpy(u->board + start, h + start, end - start);
    u->mem_written += end - start;
    i = end;
  }
  return 0;
}

static void mark_range(ub_t *u, uint32_t size, uint64_t lo, uint64_t hi) {
  if (lo >= size) return;
  if (hi > size) hi = size;
  if (hi > lo) memset(u->mark + lo, 1, (size_t)(hi - lo));
}

/* Mark what the slice [pc0, pc0 + len) can write in host memory: the rows of every STORE (the
 * host footprint of any other instruction that writes host memory). */
static void mark_writes(pb_backend_t *b, uint32_t prog_addr, uint32_t len) {
  ub_t *u = b->impl;
  uint32_t size = b->hw.host_bytes;
  for (uint64_t pc = 0; pc < len; pc++) {
    uint64_t a = (uint64_t)prog_addr + pc * PB_INSTR_BYTES;
    if (a + PB_INSTR_BYTES > size) break; /* the core stops there (PC_RANGE) */
    pb_word_t w;
    pb_instr_t in;
    memcpy(w.bytes, b->host + a, PB_INSTR_BYTES);
    if (pb_decode(&w, &in) != PB_ERR_NONE) continue; /* the core stops there; later words do not run */
    if (in.op == PB_OP_STORE) {
      uint64_t addr = (uint64_t)pb_instr_field(&in, PB_F_STORE_host_addr),
               rows = (uint64_t)pb_instr_field(&in, PB_F_STORE_rows),
               stride = (uint64_t)pb_instr_field(&in, PB_F_STORE_host_stride),
               cols = (uint64_t)pb_instr_field(&in, PB_F_STORE_cols);
      if (stride >= cols) {
        for (uint64_t r = 0; r < rows && addr + r * stride < size; r++)
          mark_range(u, size, addr + r * stride, addr + r * stride + cols);
        continue;
      }
    }
    pb_tm_range_t rd, wr;
    pb_timing_footprint(&b->hw, &in, &rd, &wr);
    if (wr.mem == PB_TM_HOST) mark_range(u, size, wr.lo, wr.hi);
  }
}

/* Read back the marked bytes into host and board (runs of at most u->chunk bytes). */
static int read_back(pb_backend_t *b, char *err, size_t errlen) {
  ub_t *u = b->impl;
  uint32_t size = b->hw.host_bytes;
  for (uint32_t i = 0; i < size;) {
    if (!u->mark[i]) {
      i++;
      continue;
    }
    uint32_t start = i, end = i + 1;
    for (uint32_t j = end; j < size && j - start < u->chunk && j - end < GAP; j++)
      if (u->mark[j]) end = j + 1;
    uint64_t r0 = pb_uart_link_stats(u->link)->retries;
    if (pb_uart_read_mem(u->link, start, u->board + start, end - start, err, errlen)) return -1;
    adapt_chunk(u, r0);
    memcpy(b->host + start, u->board + start, end - start);
    memset(u->mark + start, 0, end - start);
    u->mem_read += end - start;
    i = end;
  }
  return 0;
}

static void sleep_ms(unsigned ms) {
  struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static int ub_run(pb_backend_t *b, uint32_t prog_addr, uint32_t len, pb_run_status_t *st, char *err, size_t errlen) {
  ub_t *u = b->impl;
  const char *port = pb_uart_link_port(u->link);
  memset(st, 0, sizeof *st);
  if (u->broken) return pb_fail(err, errlen, "uart %s: an earlier transfer failed: %s", port, u->broken_msg);
  if (sync_to_board(b, err, errlen) || pb_uart_start(u->link, prog_addr, len, err, errlen)) return broken(b, err);
  /* poll the STATUS register alone (a 4-byte reply); every 16th poll reads the counters too, for
   * the watchdog; at the end, STATUS with every counter */
  uint32_t r[15];
  for (unsigned k = 0;; k++) {
    unsigned state;
    u->polls++;
    if (k % 16 == 15) {
      if (pb_uart_status(u->link, r, err, errlen)) return broken(b, err);
      uint64_t cycles = r[5] | (uint64_t)r[6] << 32;
      if (cycles > u->max_cycles) {
        char e2[256];
        if (pb_uart_reset(u->link, e2, sizeof e2)) snprintf(e2, sizeof e2, "reset failed too");
        else snprintf(e2, sizeof e2, "core reset");
        pb_fail(err, errlen, "uart %s: no HALT after %llu cycles (watchdog; %s)", port, (unsigned long long)cycles, e2);
        return broken(b, err);
      }
      state = r[0] & 3u;
    } else {
      if (pb_uart_read_regs(u->link, 0x04, 1, r, err, errlen)) return broken(b, err);
      state = r[0] & 3u;
    }
    if (state == 2 || state == 3) break;
    if (state == 0) {
      pb_fail(err, errlen, "uart %s: the core is idle after START (was it reset?)", port);
      return broken(b, err);
    }
    sleep_ms(k < 4 ? 0 : k < 9 ? 1u << (k - 4) : 20);
  }
  if (pb_uart_status(u->link, r, err, errlen)) return broken(b, err);
  st->done = (r[0] & 3u) == 2;
  st->err = (r[0] >> 4) & 15u;
  st->fault_pc = r[3];
  st->cnt.cycles = r[5] | (uint64_t)r[6] << 32;
  st->cnt.array_busy = r[7] | (uint64_t)r[8] << 32;
  st->cnt.instrs = r[9] | (uint64_t)r[10] << 32;
  st->cnt.dma_bytes = r[11] | (uint64_t)r[12] << 32;
  st->cnt.stalls = r[13] | (uint64_t)r[14] << 32;
  mark_writes(b, prog_addr, len);
  if (read_back(b, err, errlen)) return broken(b, err);
  return 0;
}

static void ub_close(pb_backend_t *b) {
  if (!b) return;
  ub_t *u = b->impl;
  if (u) {
    pb_uart_link_close(u->link);
    free(u->board);
    free(u->mark);
    free(u);
  }
  free(b->host);
  free(b);
}

int pb_backend_uart_stats(pb_backend_t *b, pb_uart_backend_stats_t *s) {
  memset(s, 0, sizeof *s);
  if (!b || strcmp(b->name, "uart") != 0) return -1;
  ub_t *u = b->impl;
  uint32_t c[4];
  char err[256];
  if (!u->broken && pb_uart_read_regs(u->link, PB_UART_REG_FRAMES_OK, 4, c, err, sizeof err) == 0) {
    s->board_ok = c[0];
    s->board_bad = c[1];
    s->board_uart_errors = c[2];
    s->board_dups = c[3];
    s->board_counters_valid = 1;
  }
  s->link = *pb_uart_link_stats(u->link);
  s->mem_written = u->mem_written;
  s->mem_read = u->mem_read;
  s->status_polls = u->polls;
  return 0;
}

int pb_backend_open_uart(const pb_hw_t *hw, const pb_backend_opts_t *opts, pb_backend_t **out, char *err,
                         size_t errlen) {
  *out = NULL;
  const char *port = opts ? opts->port : NULL;
  pb_uart_link_t *link;
  if (pb_uart_link_open(port, opts ? opts->baud : 0, opts ? opts->timeout_ms : 0, &link, err, errlen)) return -1;
  /* who is there: the board's identity and parameters */
  uint32_t id[5], p[6];
  if (pb_uart_read_regs(link, PB_UART_REG_BOARD_ID, 5, id, err, errlen)) goto fail;
  if (id[0] != PB_UART_BOARD_ID) {
    pb_fail(err, errlen, "uart %s: not a Protobrain board (BOARD_ID 0x%08x, expected 0x%08x)", port, id[0],
            PB_UART_BOARD_ID);
    goto fail;
  }
  if (id[1] != PB_UART_PROTO_VERSION || id[3] != PB_UART_MAX_DATA) {
    pb_fail(err, errlen, "uart %s: the board speaks protocol version %u (max data %u); this driver speaks version %u (%u)",
            port, id[1], id[3], PB_UART_PROTO_VERSION, PB_UART_MAX_DATA);
    goto fail;
  }
  /* HW_N, HW_SP_ROWS, HW_ACC_ROWS, HW_HOST_BYTES, ISA_VERSION, HW_RQ_LANES (0x40..0x54) */
  if (pb_uart_read_regs(link, 0x40, 6, p, err, errlen)) goto fail;
  if (p[4] != PB_ISA_VERSION) {
    pb_fail(err, errlen, "uart %s: the board implements ISA version %u; this driver and its programs use version %u", port,
            p[4], PB_ISA_VERSION);
    goto fail;
  }
  /* A board has fixed parameters: the backend reports them (b->hw), so that a program built for
   * others is refused by its caller, naming both (pb_backend_load, pb_load_*). Such a backend is
   * not prepared for runs. */
  pb_hw_t bhw = {p[0], p[1], p[2], p[3], p[5] == p[0] ? 0 : p[5]};
  pb_error_t he;
  if (pb_hw_check(&bhw, &he)) {
    pb_fail(err, errlen, "uart %s: the board reports impossible parameters: %s", port, he.msg);
    goto fail;
  }
  int match = pb_hw_equal(&bhw, hw);
  /* a core left running by an earlier session is stopped; the memory starts as zeros */
  uint32_t s[15];
  if (match) {
    if (pb_uart_status(link, s, err, errlen)) goto fail;
    if ((s[0] & 3u) == 1 && pb_uart_reset(link, err, errlen)) goto fail;
    /* in pieces, so that each request's reply follows within the timeout also on a slow board
     * (the simulated board runs at about 10^5-10^6 cycles/s, and FILL_MEM writes one byte per
     * host-memory access: the whole 128 KiB took seconds on a busy machine) */
    for (uint32_t a = 0; a < bhw.host_bytes; a += PB_UART_FILL_CHUNK) {
      uint32_t n = bhw.host_bytes - a < PB_UART_FILL_CHUNK ? bhw.host_bytes - a : PB_UART_FILL_CHUNK;
      if (pb_uart_fill_mem(link, a, n, 0, err, errlen)) goto fail;
    }
  }
  pb_backend_t *b = calloc(1, sizeof *b);
  ub_t *u = calloc(1, sizeof *u);
  uint8_t *host = calloc(bhw.host_bytes, 1), *board = calloc(bhw.host_bytes, 1), *mark = calloc(bhw.host_bytes, 1);
  if (!b || !u || !host || !board || !mark) {
    free(b), free(u), free(host), free(board), free(mark);
    pb_fail(err, errlen, "uart %s: out of memory", port);
    goto fail;
  }
  u->link = link;
  u->board = board;
  u->mark = mark;
  u->chunk = PB_UART_MAX_DATA;
  u->max_cycles = opts && opts->max_cycles ? opts->max_cycles : DEFAULT_MAX_CYCLES;
  if (!match) {
    u->broken = 1;
    snprintf(u->broken_msg, sizeof u->broken_msg, "the board's parameters differ from the program's");
  }
  b->name = "uart";
  b->hw = bhw;
  b->host = host;
  b->run = ub_run;
  b->close = ub_close;
  b->impl = u;
  *out = b;
  return 0;
fail:
  pb_uart_link_close(link);
  return -1;
}
