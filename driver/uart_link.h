/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The serial link to a board's UART bridge (docs/uart.md): a termios port in raw mode, one
 * request at a time (stop and wait), every reply CRC-checked, retransmission of the same
 * request (same sequence number) after a damaged or missing reply or a NAK for a damaged
 * request, and a bounded number of attempts, then an error naming the port, the command and
 * the sequence number. Timeouts everywhere: no call blocks for longer than
 * (retries + 1) x the reply timeout.
 */
#ifndef PB_DRIVER_UART_LINK_H
#define PB_DRIVER_UART_LINK_H

#include <stddef.h>
#include <stdint.h>

#include "uart_proto.h"

typedef struct pb_uart_link pb_uart_link_t;

typedef struct {
  uint64_t requests;    /* transactions */
  uint64_t frames_sent; /* request frames sent, retransmissions included */
  uint64_t retries;     /* retransmissions */
  uint64_t naks;        /* NAKs for a damaged request (CRC, TIMEOUT) */
  uint64_t bad_replies; /* reply frames with a wrong CRC (or too long) */
  uint64_t timeouts;    /* no reply in time, or a reply that stopped in the middle */
  uint64_t stale;       /* valid frames ignored: replies to an earlier request */
  uint64_t tx_bytes, rx_bytes; /* wire bytes */
} pb_uart_link_stats_t;

#define PB_UART_DEFAULT_BAUD 3000000u
#define PB_UART_DEFAULT_TIMEOUT_MS 1000u /* for the first byte of a reply */
#define PB_UART_BYTE_TIMEOUT_MS 100u     /* between two bytes of a reply */
#define PB_UART_DEFAULT_RETRIES 8u

/* Open `port` (a tty: /dev/ttyUSB1, or a simulator's pseudo-terminal) at `baud` (0: default) in
 * raw mode. timeout_ms 0: default. 0, or -1 with err. */
int pb_uart_link_open(const char *port, unsigned baud, unsigned timeout_ms, pb_uart_link_t **out, char *err,
                      size_t errlen);
void pb_uart_link_close(pb_uart_link_t *l);
const char *pb_uart_link_port(const pb_uart_link_t *l);
const pb_uart_link_stats_t *pb_uart_link_stats(const pb_uart_link_t *l);
void pb_uart_link_set_retries(pb_uart_link_t *l, unsigned retries);

/*
 * One request: send CMD with `req` (req_len bytes), wait for its ACK, whose payload must be
 * exactly rep_len bytes (copied to rep). Retransmits as described above. Returns 0; -1 with err
 * (a NAK that a retransmission cannot cure, attempts exhausted, the port failed or closed).
 */
int pb_uart_call(pb_uart_link_t *l, unsigned cmd, const uint8_t *req, uint16_t req_len, uint8_t *rep,
                 uint16_t rep_len, char *err, size_t errlen);

/* The commands (docs/uart.md). */
int pb_uart_write_mem(pb_uart_link_t *l, uint32_t addr, const uint8_t *data, uint32_t n, char *err, size_t errlen);
int pb_uart_read_mem(pb_uart_link_t *l, uint32_t addr, uint8_t *data, uint32_t n, char *err, size_t errlen);
int pb_uart_fill_mem(pb_uart_link_t *l, uint32_t addr, uint32_t n, uint8_t value, char *err, size_t errlen);
int pb_uart_write_reg(pb_uart_link_t *l, uint32_t reg, uint32_t value, char *err, size_t errlen);
int pb_uart_read_regs(pb_uart_link_t *l, uint32_t reg, uint32_t count, uint32_t *values, char *err, size_t errlen);
int pb_uart_start(pb_uart_link_t *l, uint32_t prog_addr, uint32_t prog_len, char *err, size_t errlen);
/* STATUS: regs[0..14] = registers 0x04, 0x08, ..., 0x3c */
int pb_uart_status(pb_uart_link_t *l, uint32_t regs[15], char *err, size_t errlen);
int pb_uart_reset(pb_uart_link_t *l, char *err, size_t errlen);

/* Raw access for protocol tests: send bytes as they are; receive the next frame (any status).
 * pb_uart_link_recv returns 1 (a frame in *f), 0 (no frame within timeout_ms) or -1 (port error). */
int pb_uart_link_send_raw(pb_uart_link_t *l, const uint8_t *bytes, size_t n, char *err, size_t errlen);
int pb_uart_link_recv(pb_uart_link_t *l, unsigned timeout_ms, pb_uart_dec_t *f);
/* The sequence number the next request will carry. */
uint8_t pb_uart_link_seq(const pb_uart_link_t *l);

#endif
