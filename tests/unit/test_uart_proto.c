/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of the UART protocol's codec (driver/uart_proto.c, docs/uart.md): the CRC against values
 * computed independently, frames encoded byte by byte as docs/uart.md specifies them, the
 * decoder's resynchronization rules, then seeded random round trips and every single-bit error.
 *
 * Expected CRC values: 0x29b1 is the published check value of CRC-16/CCITT-FALSE ("123456789");
 * the others were computed with Python's binascii.crc_hqx(data, 0xffff) (an independent
 * implementation of the same CRC); 0xe1f0 for the byte 0x00 also by hand:
 *   crc = 0xffff ^ (0x00 << 8) = 0xffff; eight steps crc = crc << 1, ^ 0x1021 when the bit
 *   shifted out was 1: 0xefdf, 0xcf9f, 0x8f1f, 0x0e1f, then plain shifts 0x1c3e, 0x387c, 0x70f8,
 *   0xe1f0.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "uart_proto.h"

static uint64_t rng = 0x2545f4914f6cdd1dull;
static uint32_t rnd32(void) {
  rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
  return (uint32_t)(rng >> 32);
}

static void test_crc(void) {
  CHECK_EQ_INT(pb_crc16(0xffff, (const uint8_t *)"123456789", 9), 0x29b1, "CRC of \"123456789\" (check value)");
  CHECK_EQ_INT(pb_crc16(0xffff, NULL, 0), 0xffff, "CRC of nothing");
  uint8_t z = 0, a = 'A';
  CHECK_EQ_INT(pb_crc16(0xffff, &z, 1), 0xe1f0, "CRC of 0x00 (by hand)");
  CHECK_EQ_INT(pb_crc16(0xffff, &a, 1), 0xb915, "CRC of 'A'");
  /* incremental = at once */
  CHECK_EQ_INT(pb_crc16(pb_crc16(0xffff, (const uint8_t *)"1234", 4), (const uint8_t *)"56789", 5), 0x29b1,
               "CRC in two pieces");
  /* the message followed by its CRC, high byte first, leaves 0: what the bridge checks */
  uint8_t m[11] = {'1', '2', '3', '4', '5', '6', '7', '8', '9', 0x29, 0xb1};
  CHECK_EQ_INT(pb_crc16(0xffff, m, 11), 0, "residue of a message with its CRC appended");
}

static int frame_is(const uint8_t *got, size_t n, const uint8_t *want, size_t wn, const char *what) {
  int ok = n == wn && !memcmp(got, want, n);
  CHECK(ok, "%s: wrong wire bytes", what);
  if (!ok) {
    fprintf(stderr, "  got ");
    for (size_t i = 0; i < n; i++) fprintf(stderr, " %02x", got[i]);
    fprintf(stderr, "\n  want");
    for (size_t i = 0; i < wn; i++) fprintf(stderr, " %02x", want[i]);
    fprintf(stderr, "\n");
  }
  return ok;
}

static void test_encode(void) {
  uint8_t w[PB_UART_MAX_WIRE];
  /* READ_MEM seq 0x12, addr 0x1000, 16 bytes: body 12 02 08 00 | 00 10 00 00 10 00 00 00, CRC 0x7367 */
  uint8_t p[8];
  pb_uart_put32(p, 0x1000);
  pb_uart_put32(p + 4, 16);
  size_t n = pb_uart_encode(0x12, PB_UART_CMD_READ_MEM, p, 8, w);
  const uint8_t want1[] = {0x7e, 0x12, 0x02, 0x08, 0x00, 0x00, 0x10, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x73, 0x67};
  frame_is(w, n, want1, sizeof want1, "READ_MEM frame");
  /* STATUS seq 0x07: CRC 0x507d, its low byte is ESC and goes out as 7d 5d */
  n = pb_uart_encode(0x07, PB_UART_CMD_STATUS, NULL, 0, w);
  const uint8_t want2[] = {0x7e, 0x07, 0x07, 0x00, 0x00, 0x50, 0x7d, 0x5d};
  frame_is(w, n, want2, sizeof want2, "STATUS frame with an escaped CRC byte");
  /* STATUS seq 0x8e: CRC 0x7e32, its high byte is SOF and goes out as 7d 5e */
  n = pb_uart_encode(0x8e, PB_UART_CMD_STATUS, NULL, 0, w);
  const uint8_t want3[] = {0x7e, 0x8e, 0x07, 0x00, 0x00, 0x7d, 0x5e, 0x32};
  frame_is(w, n, want3, sizeof want3, "STATUS frame with an escaped CRC byte (SOF)");
  /* WRITE_MEM seq 0x7e, addr 0x2000, data 7e: SEQ and data escaped, CRC 0x56bd over the raw bytes */
  uint8_t q[5];
  pb_uart_put32(q, 0x2000);
  q[4] = 0x7e;
  n = pb_uart_encode(0x7e, PB_UART_CMD_WRITE_MEM, q, 5, w);
  const uint8_t want4[] = {0x7e, 0x7d, 0x5e, 0x01, 0x05, 0x00, 0x00, 0x20, 0x00, 0x00, 0x7d, 0x5e, 0x56, 0xbd};
  frame_is(w, n, want4, sizeof want4, "WRITE_MEM frame with escaped SEQ and data");
  /* the longest frame fits the bound */
  uint8_t big[PB_UART_MAX_PAYLOAD];
  memset(big, 0x7e, sizeof big);
  n = pb_uart_encode(0x7e, 0x7e, big, (uint16_t)sizeof big, w);
  /* SOF + escaped SEQ, CMD (2 + 2) + LEN 08 01 (2) + 264 escaped bytes + CRC (2..4) */
  CHECK(n >= 537 && n <= 539 && n <= PB_UART_MAX_WIRE, "all-SOF longest frame: %zu wire bytes (bound %u)", n,
        PB_UART_MAX_WIRE);
}

/* feed bytes; return the number of frames completed, the last one in *d */
static int feed(pb_uart_dec_t *d, const uint8_t *b, size_t n) {
  int frames = 0;
  for (size_t i = 0; i < n; i++) frames += pb_uart_dec_byte(d, b[i]);
  return frames;
}

static void test_decode(void) {
  pb_uart_dec_t d;
  uint8_t w[PB_UART_MAX_WIRE], w2[PB_UART_MAX_WIRE];
  uint8_t q[5] = {0x00, 0x20, 0x00, 0x00, 0x7e};
  size_t n = pb_uart_encode(0x7e, PB_UART_CMD_WRITE_MEM, q, 5, w);
  pb_uart_dec_reset(&d);
  CHECK(feed(&d, w, n) == 1 && d.status == PB_UART_DEC_OK && d.seq == 0x7e && d.cmd == 1 && d.len == 5 &&
            !memcmp(d.payload, q, 5) && d.crc_field == 0x56bd,
        "decode the escaped WRITE_MEM frame");
  /* noise before a frame is ignored; a SOF inside a frame starts it again */
  pb_uart_dec_reset(&d);
  const uint8_t noise[] = {0x00, 0x55, 0x7d, 0xff};
  CHECK(feed(&d, noise, sizeof noise) == 0 && !pb_uart_dec_busy(&d), "bytes outside a frame are ignored");
  CHECK(feed(&d, w, 6) == 0 && pb_uart_dec_busy(&d), "a partial frame is pending");
  CHECK(feed(&d, w, n) == 1 && d.status == PB_UART_DEC_OK && d.len == 5, "SOF restarts: the whole frame after it decodes");
  /* a frame split anywhere decodes the same */
  for (size_t cut = 0; cut <= n; cut++) {
    pb_uart_dec_reset(&d);
    int f = feed(&d, w, cut);
    f += feed(&d, w + cut, n - cut);
    if (f != 1 || d.status != PB_UART_DEC_OK || d.len != 5) {
      CHECK(0, "frame split at %zu", cut);
      break;
    }
    if (cut == n) CHECK(1, "frames split at every byte");
  }
  /* a damaged data byte: CRC error */
  memcpy(w2, w, n);
  w2[8] ^= 0x04;
  pb_uart_dec_reset(&d);
  CHECK(feed(&d, w2, n) == 1 && d.status == PB_UART_DEC_CRC, "a flipped bit gives a CRC error");
  /* LEN above the maximum: the frame is read to its end and reported too long */
  static uint8_t big[PB_UART_MAX_PAYLOAD + 10];
  static uint8_t wb[2 * (PB_UART_MAX_PAYLOAD + 20)];
  memset(big, 0x11, sizeof big);
  uint8_t hdr[4] = {1, PB_UART_CMD_WRITE_MEM, (uint8_t)sizeof big, (uint8_t)(sizeof big >> 8)};
  uint16_t crc = pb_crc16(pb_crc16(0xffff, hdr, 4), big, sizeof big);
  size_t k = 0;
  wb[k++] = 0x7e;
  memcpy(wb + k, hdr, 4), k += 4;
  memcpy(wb + k, big, sizeof big), k += sizeof big;
  wb[k++] = (uint8_t)(crc >> 8);
  wb[k++] = (uint8_t)crc;
  pb_uart_dec_reset(&d);
  CHECK(feed(&d, wb, k) == 1 && d.status == PB_UART_DEC_TOO_LONG, "a frame longer than the maximum is refused");
  /* two frames back to back */
  size_t n2 = pb_uart_encode(9, PB_UART_CMD_STATUS, NULL, 0, w2);
  uint8_t both[2 * PB_UART_MAX_WIRE];
  memcpy(both, w, n);
  memcpy(both + n, w2, n2);
  pb_uart_dec_reset(&d);
  CHECK(feed(&d, both, n + n2) == 2 && d.status == PB_UART_DEC_OK && d.seq == 9 && d.cmd == PB_UART_CMD_STATUS,
        "two frames back to back");
}

/* Random frames round-trip; no single-bit error of the wire bytes yields a different frame with a good CRC. */
static void test_random(void) {
  static uint8_t p[PB_UART_MAX_PAYLOAD], w[PB_UART_MAX_WIRE], e[PB_UART_MAX_WIRE];
  pb_uart_dec_t d;
  int rt_bad = 0, undetected = 0;
  long flips = 0;
  for (int it = 0; it < 300; it++) {
    uint16_t len = (uint16_t)(rnd32() % (it < 200 ? 24 : PB_UART_MAX_PAYLOAD + 1));
    for (unsigned i = 0; i < len; i++) p[i] = (uint8_t)(rnd32() % 4 == 0 ? 0x7d + rnd32() % 2 : rnd32());
    uint8_t seq = (uint8_t)rnd32(), cmd = (uint8_t)rnd32();
    size_t n = pb_uart_encode(seq, cmd, p, len, w);
    pb_uart_dec_reset(&d);
    if (feed(&d, w, n) != 1 || d.status != PB_UART_DEC_OK || d.seq != seq || d.cmd != cmd || d.len != len ||
        memcmp(d.payload, p, len))
      rt_bad++;
    if (it >= 200 && it % 10) continue; /* every bit of 210 frames */
    for (size_t i = 0; i < n; i++)
      for (int bit = 0; bit < 8; bit++) {
        memcpy(e, w, n);
        e[i] ^= (uint8_t)(1u << bit);
        pb_uart_dec_reset(&d);
        int f = feed(&d, e, n);
        flips++;
        if (f && d.status == PB_UART_DEC_OK &&
            (d.seq != seq || d.cmd != cmd || d.len != len || memcmp(d.payload, p, len)))
          undetected++;
      }
  }
  CHECK(rt_bad == 0, "random round trips: %d of 300 failed", rt_bad);
  CHECK(undetected == 0, "%d of %ld single-bit errors gave a different frame with a good CRC", undetected, flips);
  printf("random: 300 round trips, %ld single-bit errors, %d undetected\n", flips, undetected);
}

static void test_names(void) {
  CHECK(!strcmp(pb_uart_cmd_name(PB_UART_CMD_START), "START"), "command name");
  CHECK(!strcmp(pb_uart_nak_name(PB_UART_NAK_BUSY), "BUSY"), "NAK name");
  CHECK(pb_uart_nak_transient(PB_UART_NAK_CRC) && pb_uart_nak_transient(PB_UART_NAK_TIMEOUT) &&
            !pb_uart_nak_transient(PB_UART_NAK_RANGE) && !pb_uart_nak_transient(PB_UART_NAK_BUSY),
        "transient NAKs are CRC and TIMEOUT only");
}

int main(void) {
  check_init("test_uart_proto");
  test_crc();
  test_encode();
  test_decode();
  test_random();
  test_names();
  return check_done();
}
