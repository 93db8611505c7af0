/* SPDX-License-Identifier: Apache-2.0 */
/* The serial link to the board's UART bridge (uart_link.h, docs/uart.md). */
#define _DEFAULT_SOURCE /* cfmakeraw, B3000000, TIOCGSERIAL, TIOCEXCL */
#include "uart_link.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <linux/serial.h>
#endif

#include "errfmt.h"

struct pb_uart_link {
  int fd;
  char *port;
  unsigned baud, timeout_ms, retries;
  uint8_t seq;
  pb_uart_dec_t dec;
  uint8_t rx[4096];
  size_t rx_pos, rx_len;
  pb_uart_link_stats_t st;
  uint8_t wire[PB_UART_MAX_WIRE];
};

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static speed_t baud_code(unsigned baud) {
  static const struct {
    unsigned baud;
    speed_t code;
  } t[] = {
    {9600, B9600},     {19200, B19200},     {38400, B38400},     {57600, B57600},     {115200, B115200},
    {230400, B230400}, {460800, B460800},   {500000, B500000},   {576000, B576000},   {921600, B921600},
    {1000000, B1000000}, {1152000, B1152000}, {1500000, B1500000}, {2000000, B2000000}, {2500000, B2500000},
    {3000000, B3000000}, {3500000, B3500000}, {4000000, B4000000},
  };
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
    if (t[i].baud == baud) return t[i].code;
  return 0;
}

int pb_uart_link_open(const char *port, unsigned baud, unsigned timeout_ms, pb_uart_link_t **out, char *err,
                      size_t errlen) {
  *out = NULL;
  if (!port || !*port) return pb_fail(err, errlen, "uart: no serial port given (--port /dev/ttyUSB1)");
  if (!baud) baud = PB_UART_DEFAULT_BAUD;
  speed_t code = baud_code(baud);
  if (!code)
    return pb_fail(err, errlen,
                   "uart %s: unsupported baud rate %u (one of 9600, 19200, 38400, 57600, 115200, 230400, 460800, "
                   "500000, 576000, 921600, 1000000, 1152000, 1500000, 2000000, 2500000, 3000000, 3500000, 4000000)",
                   port, baud);
  int fd = open(port, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return pb_fail(err, errlen, "uart %s: cannot open: %s", port, strerror(errno));
  struct termios t;
  if (!isatty(fd) || tcgetattr(fd, &t) != 0) {
    int e = errno;
    close(fd);
    return pb_fail(err, errlen, "uart %s: not a serial port (%s)", port, strerror(e));
  }
  cfmakeraw(&t);
  t.c_cflag |= CLOCAL | CREAD;
  t.c_cflag &= ~(tcflag_t)(CSTOPB | PARENB | CRTSCTS);
  t.c_iflag &= ~(tcflag_t)(IXON | IXOFF | IXANY);
  t.c_cc[VMIN] = 0;
  t.c_cc[VTIME] = 0;
  if (cfsetispeed(&t, code) != 0 || cfsetospeed(&t, code) != 0 || tcsetattr(fd, TCSANOW, &t) != 0) {
    int e = errno;
    close(fd);
    return pb_fail(err, errlen, "uart %s: cannot set raw mode at %u baud: %s", port, baud, strerror(e));
  }
  (void)ioctl(fd, TIOCEXCL); /* one driver per port */
#if defined(__linux__) && defined(TIOCGSERIAL) && defined(ASYNC_LOW_LATENCY)
  /* USB serial adapters (FTDI) hold short replies for their latency timer (16 ms) unless asked
   * not to; pseudo-terminals do not support the request, which is fine. */
  struct serial_struct ss;
  if (ioctl(fd, TIOCGSERIAL, &ss) == 0) {
    ss.flags |= ASYNC_LOW_LATENCY;
    (void)ioctl(fd, TIOCSSERIAL, &ss);
  }
#endif
  (void)tcflush(fd, TCIOFLUSH);
  pb_uart_link_t *l = calloc(1, sizeof *l);
  char *p = strdup(port);
  if (!l || !p) {
    free(l);
    free(p);
    close(fd);
    return pb_fail(err, errlen, "uart %s: out of memory", port);
  }
  l->fd = fd;
  l->port = p;
  l->baud = baud;
  l->timeout_ms = timeout_ms ? timeout_ms : PB_UART_DEFAULT_TIMEOUT_MS;
  l->retries = PB_UART_DEFAULT_RETRIES;
  /* a fresh sequence per session: a request of an earlier session is never taken for a retransmission */
  l->seq = (uint8_t)((unsigned)getpid() * 31u + (unsigned)now_ms());
  pb_uart_dec_reset(&l->dec);
  *out = l;
  return 0;
}

void pb_uart_link_close(pb_uart_link_t *l) {
  if (!l) return;
  close(l->fd);
  free(l->port);
  free(l);
}

const char *pb_uart_link_port(const pb_uart_link_t *l) { return l->port; }
const pb_uart_link_stats_t *pb_uart_link_stats(const pb_uart_link_t *l) { return &l->st; }
void pb_uart_link_set_retries(pb_uart_link_t *l, unsigned retries) { l->retries = retries; }
uint8_t pb_uart_link_seq(const pb_uart_link_t *l) { return l->seq; }

/* Write all bytes within the timeout. 0, or -1 with errno set (ETIMEDOUT when the port does not drain). */
static int write_all(pb_uart_link_t *l, const uint8_t *b, size_t n) {
  int64_t deadline = now_ms() + l->timeout_ms;
  while (n) {
    ssize_t w = write(l->fd, b, n);
    if (w > 0) {
      b += w;
      n -= (size_t)w;
      l->st.tx_bytes += (uint64_t)w;
      continue;
    }
    if (w < 0 && errno != EAGAIN && errno != EINTR) return -1;
    int64_t left = deadline - now_ms();
    if (left <= 0) {
      errno = ETIMEDOUT;
      return -1;
    }
    struct pollfd pfd = {.fd = l->fd, .events = POLLOUT};
    int r = poll(&pfd, 1, (int)left);
    if (r < 0 && errno != EINTR) return -1;
    if (r > 0 && (pfd.revents & (POLLERR | POLLHUP | POLLNVAL))) {
      errno = EIO;
      return -1;
    }
  }
  return 0;
}

int pb_uart_link_send_raw(pb_uart_link_t *l, const uint8_t *bytes, size_t n, char *err, size_t errlen) {
  if (write_all(l, bytes, n)) return pb_fail(err, errlen, "uart %s: cannot write: %s", l->port, strerror(errno));
  return 0;
}

typedef enum { W_FRAME, W_TIMEOUT, W_PARTIAL, W_IOERR } wait_t;

/* Wait for the next complete frame (in l->dec): until `deadline` for its first byte, then at most
 * PB_UART_BYTE_TIMEOUT_MS between bytes. */
static wait_t wait_frame(pb_uart_link_t *l, int64_t deadline) {
  for (;;) {
    while (l->rx_pos < l->rx_len) {
      if (pb_uart_dec_byte(&l->dec, l->rx[l->rx_pos++])) return W_FRAME;
    }
    int64_t now = now_ms();
    int partial = pb_uart_dec_busy(&l->dec);
    int64_t left = partial ? PB_UART_BYTE_TIMEOUT_MS : deadline - now;
    if (left <= 0) return W_TIMEOUT;
    struct pollfd pfd = {.fd = l->fd, .events = POLLIN};
    int r = poll(&pfd, 1, (int)left);
    if (r < 0) {
      if (errno == EINTR) continue;
      return W_IOERR;
    }
    if (r == 0) {
      if (partial) {
        pb_uart_dec_reset(&l->dec);
        return W_PARTIAL;
      }
      return W_TIMEOUT;
    }
    if (pfd.revents & POLLIN) {
      ssize_t n = read(l->fd, l->rx, sizeof l->rx);
      if (n > 0) {
        l->rx_pos = 0;
        l->rx_len = (size_t)n;
        l->st.rx_bytes += (uint64_t)n;
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (n == 0) errno = EIO;
      return W_IOERR;
    }
    if (pfd.revents & (POLLERR | POLLHUP | POLLNVAL)) {
      errno = EIO;
      return W_IOERR;
    }
  }
}

int pb_uart_link_recv(pb_uart_link_t *l, unsigned timeout_ms, pb_uart_dec_t *f) {
  wait_t w = wait_frame(l, now_ms() + timeout_ms);
  if (w == W_IOERR) return -1;
  if (w != W_FRAME) return 0;
  *f = l->dec;
  return 1;
}

int pb_uart_call(pb_uart_link_t *l, unsigned cmd, const uint8_t *req, uint16_t req_len, uint8_t *rep,
                 uint16_t rep_len, char *err, size_t errlen) {
  const char *name = pb_uart_cmd_name(cmd);
  uint8_t seq = l->seq++;
  size_t n = pb_uart_encode(seq, (uint8_t)cmd, req, req_len, l->wire);
  char last[160] = "nothing sent";
  l->st.requests++;
  for (unsigned attempt = 0; attempt <= l->retries; attempt++) {
    if (attempt) l->st.retries++;
    l->st.frames_sent++;
    if (write_all(l, l->wire, n))
      return pb_fail(err, errlen, "uart %s: cannot send %s (seq 0x%02x): %s", l->port, name, seq, strerror(errno));
    /* the reply must start within the timeout, plus the frames' time on the wire at the baud rate */
    int64_t deadline = now_ms() + l->timeout_ms + (int64_t)(20000ull * (n + 2u * rep_len + 16u) / l->baud);
    for (;;) {
      wait_t w = wait_frame(l, deadline);
      if (w == W_IOERR)
        return pb_fail(err, errlen, "uart %s: the port failed or closed while waiting for the reply to %s (seq 0x%02x): %s",
                       l->port, name, seq, strerror(errno));
      if (w == W_TIMEOUT || w == W_PARTIAL) {
        l->st.timeouts++;
        if (w == W_TIMEOUT) snprintf(last, sizeof last, "no reply within %u ms", l->timeout_ms);
        else snprintf(last, sizeof last, "the reply stopped in the middle (no byte for %u ms)", PB_UART_BYTE_TIMEOUT_MS);
        break; /* send again */
      }
      const pb_uart_dec_t *f = &l->dec;
      if (f->status != PB_UART_DEC_OK) {
        l->st.bad_replies++;
        snprintf(last, sizeof last, "a reply with a %s", f->status == PB_UART_DEC_CRC ? "wrong CRC" : "length too long");
        break; /* it may have been ours: send again (a duplicate is answered from the board's cache) */
      }
      if (f->cmd == PB_UART_NAK && f->len == 2 && pb_uart_nak_transient(f->payload[0])) {
        l->st.naks++;
        snprintf(last, sizeof last, "NAK %s (%s)", pb_uart_nak_name(f->payload[0]), pb_uart_nak_text(f->payload[0]));
        break; /* the board saw a damaged request (ours, or noise): send again */
      }
      if (f->seq != seq) {
        l->st.stale++;
        continue; /* a late reply to an earlier request */
      }
      if (f->cmd == PB_UART_NAK && f->len == 2)
        return pb_fail(err, errlen, "uart %s: the board refused %s (seq 0x%02x): NAK %s (%s)", l->port, name, seq,
                       pb_uart_nak_name(f->payload[0]), pb_uart_nak_text(f->payload[0]));
      if (f->cmd != (uint8_t)(cmd | PB_UART_ACK_BIT) || f->len != rep_len)
        return pb_fail(err, errlen,
                       "uart %s: malformed reply to %s (seq 0x%02x): CMD 0x%02x with %u payload bytes, expected 0x%02x "
                       "with %u",
                       l->port, name, seq, f->cmd, f->len, cmd | PB_UART_ACK_BIT, rep_len);
      if (rep_len) memcpy(rep, f->payload, rep_len);
      return 0;
    }
  }
  return pb_fail(err, errlen, "uart %s: no valid reply to %s (seq 0x%02x) after %u attempts (last: %s)", l->port, name,
                 seq, l->retries + 1, last);
}

/* ---- commands ---- */

int pb_uart_write_mem(pb_uart_link_t *l, uint32_t addr, const uint8_t *data, uint32_t n, char *err, size_t errlen) {
  uint8_t p[4 + PB_UART_MAX_DATA];
  if (n == 0 || n > PB_UART_MAX_DATA) return pb_fail(err, errlen, "uart: WRITE_MEM of %u bytes (1..%u)", n, PB_UART_MAX_DATA);
  pb_uart_put32(p, addr);
  memcpy(p + 4, data, n);
  return pb_uart_call(l, PB_UART_CMD_WRITE_MEM, p, (uint16_t)(4 + n), NULL, 0, err, errlen);
}

int pb_uart_read_mem(pb_uart_link_t *l, uint32_t addr, uint8_t *data, uint32_t n, char *err, size_t errlen) {
  uint8_t p[8];
  if (n == 0 || n > PB_UART_MAX_DATA) return pb_fail(err, errlen, "uart: READ_MEM of %u bytes (1..%u)", n, PB_UART_MAX_DATA);
  pb_uart_put32(p, addr);
  pb_uart_put32(p + 4, n);
  return pb_uart_call(l, PB_UART_CMD_READ_MEM, p, 8, data, (uint16_t)n, err, errlen);
}

int pb_uart_fill_mem(pb_uart_link_t *l, uint32_t addr, uint32_t n, uint8_t value, char *err, size_t errlen) {
  uint8_t p[9];
  pb_uart_put32(p, addr);
  pb_uart_put32(p + 4, n);
  p[8] = value;
  return pb_uart_call(l, PB_UART_CMD_FILL_MEM, p, 9, NULL, 0, err, errlen);
}

int pb_uart_write_reg(pb_uart_link_t *l, uint32_t reg, uint32_t value, char *err, size_t errlen) {
  uint8_t p[8];
  pb_uart_put32(p, reg);
  pb_uart_put32(p + 4, value);
  return pb_uart_call(l, PB_UART_CMD_WRITE_REG, p, 8, NULL, 0, err, errlen);
}

int pb_uart_read_regs(pb_uart_link_t *l, uint32_t reg, uint32_t count, uint32_t *values, char *err, size_t errlen) {
  uint8_t p[8], r[256];
  if (count == 0 || count > 64) return pb_fail(err, errlen, "uart: READ_REG of %u registers (1..64)", count);
  pb_uart_put32(p, reg);
  pb_uart_put32(p + 4, count);
  if (pb_uart_call(l, PB_UART_CMD_READ_REG, p, 8, r, (uint16_t)(4 * count), err, errlen)) return -1;
  for (uint32_t i = 0; i < count; i++) values[i] = pb_uart_get32(r + 4 * i);
  return 0;
}

int pb_uart_start(pb_uart_link_t *l, uint32_t prog_addr, uint32_t prog_len, char *err, size_t errlen) {
  uint8_t p[8];
  pb_uart_put32(p, prog_addr);
  pb_uart_put32(p + 4, prog_len);
  return pb_uart_call(l, PB_UART_CMD_START, p, 8, NULL, 0, err, errlen);
}

int pb_uart_status(pb_uart_link_t *l, uint32_t regs[15], char *err, size_t errlen) {
  uint8_t r[60];
  if (pb_uart_call(l, PB_UART_CMD_STATUS, NULL, 0, r, 60, err, errlen)) return -1;
  for (int i = 0; i < 15; i++) regs[i] = pb_uart_get32(r + 4 * i);
  return 0;
}

int pb_uart_reset(pb_uart_link_t *l, char *err, size_t errlen) {
  return pb_uart_call(l, PB_UART_CMD_RESET, NULL, 0, NULL, 0, err, errlen);
}
