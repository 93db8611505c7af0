/* SPDX-License-Identifier: Apache-2.0 */
/* The UART protocol's frame codec and CRC (uart_proto.h, docs/uart.md). */
#include "uart_proto.h"

#include <stdio.h>
#include <string.h>

const char *pb_uart_cmd_name(unsigned cmd) {
  switch (cmd) {
#define PB_X(name, code, text) \
  case code: return #name;
    PB_UART_CMDS(PB_X)
#undef PB_X
  default: return "UNKNOWN";
  }
}

const char *pb_uart_nak_name(unsigned reason) {
  switch (reason) {
#define PB_X(name, code, text) \
  case code: return #name;
    PB_UART_NAKS(PB_X)
#undef PB_X
  default: return "UNKNOWN";
  }
}

const char *pb_uart_nak_text(unsigned reason) {
  switch (reason) {
#define PB_X(name, code, text) \
  case code: return text;
    PB_UART_NAKS(PB_X)
#undef PB_X
  default: return "unknown reason";
  }
}

uint16_t pb_crc16(uint16_t crc, const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    crc ^= (uint16_t)(p[i] << 8);
    for (int k = 0; k < 8; k++) crc = (crc & 0x8000u) ? (uint16_t)((crc << 1) ^ 0x1021u) : (uint16_t)(crc << 1);
  }
  return crc;
}

static size_t put_stuffed(uint8_t *out, size_t o, uint8_t b) {
  if (b == PB_UART_SOF || b == PB_UART_ESC) {
    out[o++] = PB_UART_ESC;
    out[o++] = b ^ 0x20u;
  } else {
    out[o++] = b;
  }
  return o;
}

size_t pb_uart_encode(uint8_t seq, uint8_t cmd, const uint8_t *payload, uint16_t len, uint8_t *out) {
  uint8_t hdr[4] = {seq, cmd, (uint8_t)len, (uint8_t)(len >> 8)};
  uint16_t crc = pb_crc16(0xffffu, hdr, 4);
  if (len) crc = pb_crc16(crc, payload, len);
  size_t o = 0;
  out[o++] = PB_UART_SOF;
  for (int i = 0; i < 4; i++) o = put_stuffed(out, o, hdr[i]);
  for (uint32_t i = 0; i < len; i++) o = put_stuffed(out, o, payload[i]);
  o = put_stuffed(out, o, (uint8_t)(crc >> 8));
  o = put_stuffed(out, o, (uint8_t)crc);
  return o;
}

void pb_uart_dec_reset(pb_uart_dec_t *d) {
  d->in_frame = 0;
  d->esc = 0;
  d->idx = 0;
  d->crc = 0xffffu;
}

int pb_uart_dec_byte(pb_uart_dec_t *d, uint8_t raw) {
  if (raw == PB_UART_SOF) {
    pb_uart_dec_reset(d);
    d->in_frame = 1;
    d->seq = d->cmd = 0;
    d->len = 0;
    return 0;
  }
  if (!d->in_frame) return 0;
  if (raw == PB_UART_ESC && !d->esc) {
    d->esc = 1;
    return 0;
  }
  uint8_t b = d->esc ? (uint8_t)(raw ^ 0x20u) : raw;
  d->esc = 0;
  d->crc = pb_crc16(d->crc, &b, 1);
  uint32_t k = d->idx++;
  if (k == 0) d->seq = b;
  else if (k == 1) d->cmd = b;
  else if (k == 2) d->len = b;
  else if (k == 3) d->len |= (uint16_t)(b << 8);
  else if (k - 4 < d->len) {
    if (k - 4 < PB_UART_MAX_PAYLOAD) d->payload[k - 4] = b;
  } else if (k - 4 == d->len) {
    d->crc_field = (uint16_t)(b << 8);
  } else {
    d->crc_field |= b;
    d->in_frame = 0;
    d->status = d->crc != 0 ? PB_UART_DEC_CRC : d->len > PB_UART_MAX_PAYLOAD ? PB_UART_DEC_TOO_LONG : PB_UART_DEC_OK;
    return 1;
  }
  return 0;
}
