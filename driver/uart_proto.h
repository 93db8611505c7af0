/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The UART protocol between the driver and the board's bridge (fpga/rtl/pb_uart_bridge.sv),
 * docs/uart.md: frame encoding with byte stuffing, CRC-16/CCITT-FALSE, and an incremental
 * decoder that resynchronizes the way the bridge does. No I/O here (uart_link.c does it).
 *
 * A frame on the wire: SOF (0x7e), then the body SEQ CMD LEN_LO LEN_HI PAYLOAD[LEN] CRC_HI CRC_LO
 * with every body byte equal to 0x7e or 0x7d sent as 0x7d, byte ^ 0x20. The CRC covers SEQ..PAYLOAD.
 */
#ifndef PB_DRIVER_UART_PROTO_H
#define PB_DRIVER_UART_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define PB_UART_SOF 0x7eu
#define PB_UART_ESC 0x7du
#define PB_UART_PROTO_VERSION 1u
#define PB_UART_BOARD_ID 0x44524250u /* "PBRD" as little-endian bytes */
#define PB_UART_MAX_DATA 256u        /* WRITE_MEM / READ_MEM data per frame */
#define PB_UART_MAX_PAYLOAD (8u + PB_UART_MAX_DATA)
#define PB_UART_MAX_WIRE (1u + 2u * (6u + PB_UART_MAX_PAYLOAD)) /* longest stuffed frame */

/* Request commands; the ACK of a command carries CMD | 0x80, a NAK carries PB_UART_NAK. */
#define PB_UART_CMDS(X)                                                                        \
  X(WRITE_MEM, 0x01, "A=addr, data[1..256]: write host memory")                                \
  X(READ_MEM, 0x02, "A=addr, B=count (1..256): read host memory")                              \
  X(FILL_MEM, 0x03, "A=addr, B=count, V: set count bytes to V")                                \
  X(WRITE_REG, 0x04, "A=register (< 0x100), B=value: write a core register")                   \
  X(READ_REG, 0x05, "A=register, B=count (1..64): read count consecutive registers")          \
  X(START, 0x06, "A=program address, B=instructions: PROG_ADDR, PROG_LEN, CTRL.start")         \
  X(STATUS, 0x07, "no payload: registers 0x04..0x3c (STATUS, FAULT_PC, the counters)")         \
  X(RESET, 0x08, "no payload: hold the core in reset for 4 cycles (memory unchanged)")
enum {
#define PB_X(name, code, text) PB_UART_CMD_##name = code,
  PB_UART_CMDS(PB_X)
#undef PB_X
};
#define PB_UART_ACK_BIT 0x80u
#define PB_UART_NAK 0xffu

/* NAK reasons (first payload byte of a NAK; the second is the request's CMD). */
#define PB_UART_NAKS(X)                                                                        \
  X(CRC, 1, "the request's CRC was wrong")                                                     \
  X(TIMEOUT, 2, "the request stopped in the middle (inter-byte timeout)")                      \
  X(LENGTH, 3, "LEN does not fit the command")                                                 \
  X(COMMAND, 4, "unknown command")                                                             \
  X(RANGE, 5, "address or count out of range")                                                 \
  X(BUSY, 6, "the core is running")
enum {
#define PB_X(name, code, text) PB_UART_NAK_##name = code,
  PB_UART_NAKS(PB_X)
#undef PB_X
};
/* A NAK the sender answers by sending the same request again (the line damaged it). */
static inline int pb_uart_nak_transient(unsigned reason) {
  return reason == PB_UART_NAK_CRC || reason == PB_UART_NAK_TIMEOUT;
}

/* Board registers (above the core's, docs/uart.md). */
enum {
  PB_UART_REG_BOARD_ID = 0x100, PB_UART_REG_PROTO = 0x104, PB_UART_REG_CLKS_PER_BIT = 0x108,
  PB_UART_REG_MAX_DATA = 0x10c, PB_UART_REG_TIMEOUT = 0x110, PB_UART_REG_FRAMES_OK = 0x114,
  PB_UART_REG_FRAMES_BAD = 0x118, PB_UART_REG_UART_ERRORS = 0x11c, PB_UART_REG_DUPLICATES = 0x120
};

const char *pb_uart_cmd_name(unsigned cmd);    /* "WRITE_MEM"; "0x.." style name for unknown */
const char *pb_uart_nak_name(unsigned reason); /* "CRC" */
const char *pb_uart_nak_text(unsigned reason);

/* CRC-16/CCITT-FALSE: poly 0x1021, MSB first, no reflection, no final XOR. Start with 0xffff;
 * pb_crc16(0xffff, "123456789", 9) == 0x29b1. */
uint16_t pb_crc16(uint16_t crc, const uint8_t *p, size_t n);

/* Encode a frame into out (PB_UART_MAX_WIRE bytes suffice for len <= PB_UART_MAX_PAYLOAD);
 * returns the number of wire bytes. */
size_t pb_uart_encode(uint8_t seq, uint8_t cmd, const uint8_t *payload, uint16_t len, uint8_t *out);

/* Incremental decoder. */
typedef enum { PB_UART_DEC_OK = 0, PB_UART_DEC_CRC, PB_UART_DEC_TOO_LONG } pb_uart_dec_status_t;
typedef struct {
  int in_frame;      /* after a SOF */
  int esc;
  uint32_t idx;      /* body bytes so far */
  uint16_t crc;
  /* the frame (valid when pb_uart_dec_byte returned 1) */
  uint8_t seq, cmd;
  uint16_t len;
  uint16_t crc_field;
  uint8_t payload[PB_UART_MAX_PAYLOAD];
  pb_uart_dec_status_t status;
} pb_uart_dec_t;

void pb_uart_dec_reset(pb_uart_dec_t *d);
/* Feed one wire byte; returns 1 when it completed a frame (see d->status), else 0. A SOF always
 * starts a new frame (a partial one is dropped); bytes outside a frame are ignored. A frame
 * longer than PB_UART_MAX_PAYLOAD is read to its end (CRC included) and reported TOO_LONG. */
int pb_uart_dec_byte(pb_uart_dec_t *d, uint8_t b);
/* Inside a frame (bytes since a SOF, not yet complete)? */
static inline int pb_uart_dec_busy(const pb_uart_dec_t *d) { return d->in_frame; }

/* Little-endian helpers for payloads. */
static inline void pb_uart_put32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}
static inline uint32_t pb_uart_get32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

#endif
