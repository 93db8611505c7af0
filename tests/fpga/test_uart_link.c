/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Protocol tests of the board's UART bridge (fpga/rtl/pb_uart_bridge.sv, docs/uart.md), through
 * the driver's link layer (driver/uart_link.c), against the simulated board on a pseudo-terminal
 * (build/fpga/pb_board_sim): identity and parameter registers, memory through the bridge at odd
 * and even addresses against a local copy, every NAK reason from hand-made frames, the
 * resynchronization rules (SOF inside a frame, inter-byte timeout, noise), duplicates (the
 * cached reply, not a second execution), BUSY while the core runs, RESET.
 *
 * Usage: test_uart_link PORT   (tests/fpga/test_uart_link.sh starts the simulator)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "asm.h"
#include "check.h"
#include "protobrain/isa.h"
#include "protobrain/pbin.h"
#include "uart_link.h"

#define HOST 131072u

static pb_uart_link_t *L;
static char err[1024];
static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t rnd32(void) {
  rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
  return (uint32_t)(rng >> 32);
}

static void sleep_ms(unsigned ms) {
  struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* Send a raw frame and wait for one reply frame (timeout 2 s). Returns 1 and fills *f, or 0. */
static int raw_call(const uint8_t *wire, size_t n, pb_uart_dec_t *f) {
  if (pb_uart_link_send_raw(L, wire, n, err, sizeof err)) return 0;
  return pb_uart_link_recv(L, 2000, f) == 1;
}

/* A frame from its parts with a CRC correct or not. */
static size_t mk(uint8_t *w, uint8_t seq, uint8_t cmd, const uint8_t *p, uint16_t len, int bad_crc) {
  size_t n = pb_uart_encode(seq, cmd, p, len, w);
  if (bad_crc) { /* flip a bit of the last CRC byte (never SOF/ESC: both stuffed forms differ) */
    if (w[n - 2] == PB_UART_ESC) w[n - 1] ^= 0x01;
    else w[n - 1] = (uint8_t)((w[n - 1] ^ 0x01) == PB_UART_SOF || (w[n - 1] ^ 0x01) == PB_UART_ESC ? w[n - 1] ^ 0x02
                                                                                                 : w[n - 1] ^ 0x01);
  }
  return n;
}

static int is_nak(const pb_uart_dec_t *f, unsigned reason, unsigned cmd) {
  return f->status == PB_UART_DEC_OK && f->cmd == PB_UART_NAK && f->len == 2 && f->payload[0] == reason &&
         f->payload[1] == cmd;
}

static uint32_t reg(uint32_t a) {
  uint32_t v = 0xdeadbeef;
  if (pb_uart_read_regs(L, a, 1, &v, err, sizeof err)) fprintf(stderr, "read reg 0x%x: %s\n", a, err);
  return v;
}

static void test_identity(void) {
  uint32_t r[9];
  CHECK(pb_uart_read_regs(L, PB_UART_REG_BOARD_ID, 9, r, err, sizeof err) == 0, "board registers: %s", err);
  CHECK(r[0] == PB_UART_BOARD_ID && r[1] == PB_UART_PROTO_VERSION && r[2] == 4 && r[3] == 256 && r[4] == 60000,
        "board id 0x%08x proto %u clks/bit %u max data %u timeout %u", r[0], r[1], r[2], r[3], r[4]);
  uint32_t p[5];
  CHECK(pb_uart_read_regs(L, 0x40, 5, p, err, sizeof err) == 0, "core parameter registers: %s", err);
  CHECK(p[0] == 4 && p[1] == 1024 && p[2] == 256 && p[3] == HOST && p[4] == PB_ISA_VERSION,
        "N %u sp_rows %u acc_rows %u host_bytes %u isa %u", p[0], p[1], p[2], p[3], p[4]);
  uint32_t s[15];
  CHECK(pb_uart_status(L, s, err, sizeof err) == 0 && s[1] == reg(0x08) && s[2] == reg(0x0c),
        "STATUS = registers 0x04..0x3c");
}

/* Memory through the bridge against a local copy: the whole memory, then random ranges. */
static uint8_t mirror[HOST], buf[PB_UART_MAX_DATA];
static void test_memory(void) {
  CHECK(pb_uart_fill_mem(L, 0, HOST, 0xa5, err, sizeof err) == 0, "FILL_MEM all: %s", err);
  memset(mirror, 0xa5, HOST);
  CHECK(pb_uart_fill_mem(L, 1001, 77, 0x3c, err, sizeof err) == 0, "FILL_MEM odd range: %s", err);
  memset(mirror + 1001, 0x3c, 77);
  CHECK(pb_uart_fill_mem(L, 5, 0, 0x11, err, sizeof err) == 0, "FILL_MEM of 0 bytes: %s", err);
  int bad = 0;
  for (int it = 0; it < 150 && !bad; it++) {
    uint32_t n = 1 + rnd32() % PB_UART_MAX_DATA, a = rnd32() % (HOST - n + 1);
    if (it == 0) a = 0, n = 256;
    if (it == 1) a = HOST - 3, n = 3; /* the last bytes */
    if (rnd32() % 2) {
      for (uint32_t i = 0; i < n; i++) buf[i] = (uint8_t)rnd32();
      if (pb_uart_write_mem(L, a, buf, n, err, sizeof err)) bad = 1;
      memcpy(mirror + a, buf, n);
    } else {
      if (pb_uart_read_mem(L, a, buf, n, err, sizeof err)) bad = 1;
      else if (memcmp(buf, mirror + a, n)) {
        for (uint32_t i = 0; i < n; i++)
          if (buf[i] != mirror[a + i]) {
            fprintf(stderr, "memory differs at 0x%x: got 0x%02x, expected 0x%02x\n", a + i, buf[i], mirror[a + i]);
            break;
          }
        bad = 2;
      }
    }
  }
  CHECK(!bad, "150 random writes and reads through the bridge match a local copy (%s)", bad == 1 ? err : "data");
  for (uint32_t a = 0; a < HOST && !bad; a += PB_UART_MAX_DATA * 16) /* spot check across the four SPRAMs */
    if (pb_uart_read_mem(L, a, buf, PB_UART_MAX_DATA, err, sizeof err) || memcmp(buf, mirror + a, PB_UART_MAX_DATA)) bad = 3;
  CHECK(!bad, "reads across the whole memory match");
}

static void test_naks(void) {
  uint8_t w[PB_UART_MAX_WIRE], p[PB_UART_MAX_PAYLOAD];
  pb_uart_dec_t f;
  uint8_t seq = 0x40;
  memset(p, 0, sizeof p);
  pb_uart_put32(p, 0x100);
  pb_uart_put32(p + 4, 8);
  /* a wrong CRC */
  size_t n = mk(w, seq, PB_UART_CMD_READ_MEM, p, 8, 1);
  CHECK(raw_call(w, n, &f) && is_nak(&f, PB_UART_NAK_CRC, PB_UART_CMD_READ_MEM) && f.seq == seq,
        "bad CRC: NAK CRC with the request's SEQ and CMD");
  /* LEN that does not fit the command */
  n = mk(w, ++seq, PB_UART_CMD_READ_MEM, p, 7, 0);
  CHECK(raw_call(w, n, &f) && is_nak(&f, PB_UART_NAK_LENGTH, PB_UART_CMD_READ_MEM), "READ_MEM with LEN 7: NAK LENGTH");
  n = mk(w, ++seq, PB_UART_CMD_STATUS, p, 1, 0);
  CHECK(raw_call(w, n, &f) && is_nak(&f, PB_UART_NAK_LENGTH, PB_UART_CMD_STATUS), "STATUS with a payload: NAK LENGTH");
  n = mk(w, ++seq, PB_UART_CMD_WRITE_MEM, p, 4, 0);
  CHECK(raw_call(w, n, &f) && is_nak(&f, PB_UART_NAK_LENGTH, PB_UART_CMD_WRITE_MEM), "WRITE_MEM without data: NAK LENGTH");
  n = mk(w, ++seq, PB_UART_CMD_WRITE_MEM, p, 4 + 257, 0);
  CHECK(raw_call(w, n, &f) && is_nak(&f, PB_UART_NAK_LENGTH, PB_UART_CMD_WRITE_MEM),
        "WRITE_MEM of 257 bytes (longer than the buffer): NAK LENGTH");
  n = mk(w, ++seq, PB_UART_CMD_WRITE_MEM, p, 4 + 257, 1);
  CHECK(raw_call(w, n, &f) && is_nak(&f, PB_UART_NAK_CRC, PB_UART_CMD_WRITE_MEM), "... with a bad CRC: NAK CRC");
  /* unknown command */
  n = mk(w, ++seq, 0x55, p, 0, 0);
  CHECK(raw_call(w, n, &f) && is_nak(&f, PB_UART_NAK_COMMAND, 0x55), "command 0x55: NAK COMMAND");
  /* ranges */
  struct { unsigned cmd; uint32_t a, b; uint16_t len; const char *what; } r[] = {
    {PB_UART_CMD_READ_MEM, HOST - 4, 8, 8, "READ_MEM past the end"},
    {PB_UART_CMD_READ_MEM, 0, 0, 8, "READ_MEM of 0 bytes"},
    {PB_UART_CMD_READ_MEM, 0, 257, 8, "READ_MEM of 257 bytes"},
    {PB_UART_CMD_READ_MEM, 0xfffffff0u, 32, 8, "READ_MEM wrapping around 2^32"},
    {PB_UART_CMD_FILL_MEM, HOST - 1, 2, 9, "FILL_MEM past the end"},
    {PB_UART_CMD_WRITE_REG, 0x100, 1, 8, "WRITE_REG of a board register"},
    {PB_UART_CMD_WRITE_REG, 0x09, 1, 8, "WRITE_REG unaligned"},
    {PB_UART_CMD_READ_REG, 0x00, 65, 8, "READ_REG of 65 registers"},
    {PB_UART_CMD_READ_REG, 0x1fc, 2, 8, "READ_REG past 0x1ff"},
  };
  for (size_t i = 0; i < sizeof r / sizeof r[0]; i++) {
    pb_uart_put32(p, r[i].a);
    pb_uart_put32(p + 4, r[i].b);
    n = mk(w, ++seq, (uint8_t)r[i].cmd, p, r[i].len, 0);
    CHECK(raw_call(w, n, &f) && is_nak(&f, PB_UART_NAK_RANGE, r[i].cmd), "%s: NAK RANGE", r[i].what);
  }
  pb_uart_put32(p, HOST - 4);
  memset(p + 4, 0x77, 5);
  n = mk(w, ++seq, PB_UART_CMD_WRITE_MEM, p, 9, 0);
  CHECK(raw_call(w, n, &f) && is_nak(&f, PB_UART_NAK_RANGE, PB_UART_CMD_WRITE_MEM), "WRITE_MEM past the end: NAK RANGE");
  CHECK(pb_uart_read_mem(L, HOST - 4, buf, 4, err, sizeof err) == 0 && !memcmp(buf, mirror + HOST - 4, 4),
        "a refused write changes nothing");
}

static void test_resync(void) {
  uint8_t w[PB_UART_MAX_WIRE], w2[PB_UART_MAX_WIRE], p[16];
  pb_uart_dec_t f;
  pb_uart_put32(p, 0x2000);
  pb_uart_put32(p + 4, 4);
  /* a frame cut short, then silence: NAK TIMEOUT after the bridge's inter-byte timeout */
  size_t n = mk(w, 0x61, PB_UART_CMD_READ_MEM, p, 8, 0);
  CHECK(pb_uart_link_send_raw(L, w, 7, err, sizeof err) == 0 && pb_uart_link_recv(L, 3000, &f) == 1 &&
            is_nak(&f, PB_UART_NAK_TIMEOUT, PB_UART_CMD_READ_MEM) && f.seq == 0x61,
        "a partial frame ends with NAK TIMEOUT");
  /* a frame cut short, then a whole frame at once: only the whole one is answered */
  size_t n2 = mk(w2, 0x62, PB_UART_CMD_READ_MEM, p, 8, 0);
  uint8_t both[2 * PB_UART_MAX_WIRE];
  memcpy(both, w, 9);
  memcpy(both + 9, w2, n2);
  int got = raw_call(both, 9 + n2, &f);
  CHECK(got && f.status == PB_UART_DEC_OK && f.seq == 0x62 && f.cmd == (PB_UART_CMD_READ_MEM | PB_UART_ACK_BIT) &&
            f.len == 4 && !memcmp(f.payload, mirror + 0x2000, 4),
        "SOF inside a frame: the partial frame is dropped, the new one answered");
  CHECK(pb_uart_link_recv(L, 300, &f) == 0, "... and nothing else is sent");
  /* noise outside frames (no SOF) is ignored */
  const uint8_t noise[] = {0x00, 0xff, 0x7d, 0x7d, 0x12, 0x80, 0x55};
  CHECK(pb_uart_link_send_raw(L, noise, sizeof noise, err, sizeof err) == 0 && pb_uart_link_recv(L, 300, &f) == 0,
        "noise gets no reply");
  CHECK(raw_call(w, n, &f) && f.status == PB_UART_DEC_OK && f.seq == 0x61 && f.len == 4, "a frame after noise is answered");
  (void)n;
}

/* A program of `count` MATMULs (about 200 cycles each with wait states) and HALT, at address 0x10000. */
static int load_long_program(unsigned count, uint32_t *len) {
  size_t cap = 256 + 64 * (size_t)count;
  char *src = malloc(cap);
  size_t o = (size_t)snprintf(src, cap, ".hw n=4 sp_rows=1024 acc_rows=256 host_bytes=131072\n.code 0x10000\n");
  for (unsigned i = 0; i < count; i++) o += (size_t)snprintf(src + o, cap - o, "MATMUL acc=0 sp_addr=0 rows=200 acc_addr=0\n");
  snprintf(src + o, cap - o, "HALT\n");
  pb_program_t pr;
  int rc = pb_asm(src, "long.pbs", &pr, err, sizeof err);
  free(src);
  if (rc) return -1;
  uint32_t bytes = pr.code_len * PB_INSTR_BYTES;
  for (uint32_t a = 0; a < bytes && rc == 0; a += PB_UART_MAX_DATA)
    rc = pb_uart_write_mem(L, pr.code_addr + a, pr.code + a, bytes - a < PB_UART_MAX_DATA ? bytes - a : PB_UART_MAX_DATA,
                           err, sizeof err);
  *len = pr.code_len;
  pb_program_free(&pr);
  return rc;
}

static unsigned state(void) { return reg(0x04) & 3u; }

static void test_duplicates_busy_reset(void) {
  uint8_t w[PB_UART_MAX_WIRE], p[PB_UART_MAX_PAYLOAD];
  pb_uart_dec_t f;
  uint32_t len = 0;
  CHECK(load_long_program(400, &len) == 0, "load a long program: %s", err);
  uint32_t dup0 = reg(PB_UART_REG_DUPLICATES);
  /* START; the same frame again while the program runs: the cached ACK (a second execution would
   * be refused with NAK BUSY, as a new START with another SEQ is) */
  pb_uart_put32(p, 0x10000);
  pb_uart_put32(p + 4, len);
  size_t n = mk(w, 0x70, PB_UART_CMD_START, p, 8, 0);
  CHECK(raw_call(w, n, &f) && f.status == PB_UART_DEC_OK && f.cmd == (PB_UART_CMD_START | PB_UART_ACK_BIT) && f.len == 0,
        "START: ACK");
  CHECK(raw_call(w, n, &f) && f.status == PB_UART_DEC_OK && f.seq == 0x70 &&
            f.cmd == (PB_UART_CMD_START | PB_UART_ACK_BIT),
        "the same START again (a retransmission): the cached ACK, not executed");
  size_t n2 = mk(w, 0x71, PB_UART_CMD_START, p, 8, 0);
  CHECK(raw_call(w, n2, &f) && is_nak(&f, PB_UART_NAK_BUSY, PB_UART_CMD_START), "a new START while running: NAK BUSY");
  CHECK(state() == 1, "the core runs");
  CHECK(pb_uart_read_mem(L, 0, buf, 4, err, sizeof err) != 0 && strstr(err, "BUSY"), "READ_MEM while running: %s", err);
  CHECK(pb_uart_fill_mem(L, 0, 4, 0, err, sizeof err) != 0 && strstr(err, "BUSY"), "FILL_MEM while running refused");
  CHECK(reg(PB_UART_REG_DUPLICATES) == dup0 + 1, "the board counted one duplicate");
  /* RESET stops the core; memory is kept */
  CHECK(pb_uart_reset(L, err, sizeof err) == 0, "RESET: %s", err);
  CHECK(state() == 0, "after RESET the core is idle");
  CHECK(pb_uart_read_mem(L, 0x2000, buf, 16, err, sizeof err) == 0 && !memcmp(buf, mirror + 0x2000, 16),
        "RESET keeps the memory");
  /* run it to the end; counters */
  CHECK(pb_uart_start(L, 0x10000, len, err, sizeof err) == 0, "START again: %s", err);
  unsigned st = 1;
  for (int i = 0; i < 500 && st == 1; i++) {
    sleep_ms(10);
    st = state();
  }
  uint32_t s[15];
  CHECK(st == 2 && pb_uart_status(L, s, err, sizeof err) == 0 && s[3] == len - 1 && s[9] == len,
        "the program ends with HALT at PC %u (state %u, fault_pc %u, instructions %u)", len - 1, st, s[3], s[9]);
  printf("long program: %u instructions, %u cycles, %u stall cycles on the board\n", len, s[5], s[13]);
  /* same SEQ, other content: not a duplicate, executed */
  uint8_t q[5] = {0, 0x30, 0, 0, 0x5a};
  n = mk(w, 0x72, PB_UART_CMD_WRITE_MEM, q, 5, 0);
  CHECK(raw_call(w, n, &f) && f.cmd == (PB_UART_CMD_WRITE_MEM | PB_UART_ACK_BIT), "WRITE_MEM seq 0x72");
  q[4] = 0xa5;
  n = mk(w, 0x72, PB_UART_CMD_WRITE_MEM, q, 5, 0);
  CHECK(raw_call(w, n, &f) && f.cmd == (PB_UART_CMD_WRITE_MEM | PB_UART_ACK_BIT), "WRITE_MEM seq 0x72, other data");
  CHECK(pb_uart_read_mem(L, 0x3000, buf, 1, err, sizeof err) == 0 && buf[0] == 0xa5,
        "same SEQ with another CRC is a new request (executed): 0x%02x", buf[0]);
  /* a damaged request does not enter the cache: the good copy with the same SEQ is executed */
  q[4] = 0x11;
  n = mk(w, 0x73, PB_UART_CMD_WRITE_MEM, q, 5, 1);
  CHECK(raw_call(w, n, &f) && is_nak(&f, PB_UART_NAK_CRC, PB_UART_CMD_WRITE_MEM), "damaged WRITE_MEM: NAK CRC");
  n = mk(w, 0x73, PB_UART_CMD_WRITE_MEM, q, 5, 0);
  CHECK(raw_call(w, n, &f) && f.cmd == (PB_UART_CMD_WRITE_MEM | PB_UART_ACK_BIT) &&
            pb_uart_read_mem(L, 0x3000, buf, 1, err, sizeof err) == 0 && buf[0] == 0x11,
        "its retransmission is executed");
}

int main(int argc, char **argv) {
  check_init("test_uart_link");
  if (argc != 2) {
    fprintf(stderr, "usage: test_uart_link PORT\n");
    return 2;
  }
  /* a 20 s reply timeout: on a busy machine the simulator can be 10x slower than usual, and a
     timeout there is not a line fault; the no-retransmission check below is about the line */
  if (pb_uart_link_open(argv[1], 0, 20000, &L, err, sizeof err)) {
    fprintf(stderr, "%s\n", err);
    CHECK(0, "open %s", argv[1]);
    return check_done();
  }
  test_identity();
  test_memory();
  test_naks();
  test_resync();
  test_duplicates_busy_reset();
  const pb_uart_link_stats_t *s = pb_uart_link_stats(L);
  printf("link: %llu requests, %llu retries, %llu bytes sent, %llu received\n", (unsigned long long)s->requests,
         (unsigned long long)s->retries, (unsigned long long)s->tx_bytes, (unsigned long long)s->rx_bytes);
  CHECK(s->retries == 0, "no retransmission on a clean line (%llu)", (unsigned long long)s->retries);
  pb_uart_link_close(L);
  return check_done();
}
