/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pb_board_sim: the Verilated board top (fpga/rtl/pb_board.sv) behind a pseudo-terminal, so that
 * `protobrain run --backend uart --port <pty>` drives the simulated board exactly as it drives a
 * real one. Bytes from the host are serialized onto the board's uart_rx_i pin (8N1, CLKS_PER_BIT
 * cycles per bit), the uart_tx_o pin is deserialized into bytes for the host. The simulation
 * blocks in poll() whenever the board, both lines and both queues are idle.
 *
 * Line faults (seeded): flip one bit of a byte (host->board: any of its 10 bits on the line,
 * start and stop bits included; board->host: a data bit) or drop a byte, in either direction, at
 * a rate per byte or at given byte indices (0-based, counted per direction); --cut-at N kills
 * the link in both directions from host->board byte N on. docs/uart.md.
 */
#define _XOPEN_SOURCE 700
#define _DEFAULT_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "board_vl.h"

#define MAX_AT 64
#define QCAP (1u << 16)
#define OUT_CAP (1u << 20)
#define BATCH 256

typedef struct {
  double rate;
  uint64_t at[MAX_AT];
  unsigned n_at;
  uint64_t done; /* faults injected */
} fault_t;

typedef struct {
  const char *name;
  fault_t flip, drop;
  uint64_t bytes; /* bytes that entered this direction */
} dir_t;

static volatile sig_atomic_t stop_sig;
static void on_signal(int s) { stop_sig = s; }

static uint64_t rng_state = 1;
static double rnd(void) {
  rng_state ^= rng_state << 13, rng_state ^= rng_state >> 7, rng_state ^= rng_state << 17;
  return (double)(rng_state >> 11) * (1.0 / 9007199254740992.0);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int hits(fault_t *f, uint64_t idx) {
  for (unsigned i = 0; i < f->n_at; i++)
    if (f->at[i] == idx) return 1;
  return f->rate > 0 && rnd() < f->rate;
}

static int parse_list(const char *s, fault_t *f) {
  while (*s) {
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s || f->n_at == MAX_AT) return -1;
    f->at[f->n_at++] = v;
    s = end;
    if (*s == ',') s++;
    else if (*s) return -1;
  }
  return 0;
}

static int parse_rate(const char *s, double *r) {
  char *end;
  *r = strtod(s, &end);
  return (*end || end == s || !(*r >= 0 && *r <= 1)) ? -1 : 0;
}

static void usage(FILE *f) {
  fprintf(f,
          "usage: pb_board_sim [--link FILE] [--seed N] [faults] [--exit-on-hangup] [--trace FILE] [--quiet]\n"
          "\n"
          "Simulate the Protobrain board (fpga/rtl/pb_board.sv, Verilated) behind a pseudo-terminal and print\n"
          "its path; run `protobrain run PROG.pbin --backend uart --port PATH ...` against it.\n"
          "\n"
          "  --link FILE          also write the pseudo-terminal's path to FILE (atomically)\n"
          "  --seed N             seed of the fault injection (default 1)\n"
          "  --flip-h2b RATE      flip one line bit of a host->board byte with probability RATE\n"
          "  --drop-h2b RATE      drop a host->board byte with probability RATE\n"
          "  --flip-b2h RATE      flip one data bit of a board->host byte with probability RATE\n"
          "  --drop-b2h RATE      drop a board->host byte with probability RATE\n"
          "  --flip-h2b-at LIST   ... at the given byte indices (comma-separated, 0-based); likewise\n"
          "                       --drop-h2b-at, --flip-b2h-at, --drop-b2h-at\n"
          "  --cut-at N           from host->board byte N on, nothing passes in either direction\n"
          "  --exit-on-hangup     exit when the host closes the port (after it has sent something)\n"
          "  --trace FILE         write an FST waveform of the board\n"
          "  --quiet              do not print the statistics at exit\n"
          "Exits on SIGTERM, SIGINT or SIGHUP, printing cycles, bytes and faults to stderr.\n");
}

int main(int argc, char **argv) {
  const char *link = NULL, *trace = NULL;
  int exit_on_hangup = 0, quiet = 0;
  uint64_t cut_at = UINT64_MAX;
  dir_t h2b = {.name = "host->board"}, b2h = {.name = "board->host"};
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    int v = i + 1 < argc;
    fault_t *lf = NULL;
    double *rate = NULL;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage(stdout);
      return 0;
    } else if (!strcmp(a, "--link") && v) link = argv[++i];
    else if (!strcmp(a, "--trace") && v) trace = argv[++i];
    else if (!strcmp(a, "--seed") && v) rng_state = strtoull(argv[++i], NULL, 10) * 0x9e3779b97f4a7c15ull | 1u;
    else if (!strcmp(a, "--exit-on-hangup")) exit_on_hangup = 1;
    else if (!strcmp(a, "--quiet")) quiet = 1;
    else if (!strcmp(a, "--cut-at") && v) cut_at = strtoull(argv[++i], NULL, 10);
    else if (!strcmp(a, "--flip-h2b") && v) rate = &h2b.flip.rate;
    else if (!strcmp(a, "--drop-h2b") && v) rate = &h2b.drop.rate;
    else if (!strcmp(a, "--flip-b2h") && v) rate = &b2h.flip.rate;
    else if (!strcmp(a, "--drop-b2h") && v) rate = &b2h.drop.rate;
    else if (!strcmp(a, "--flip-h2b-at") && v) lf = &h2b.flip;
    else if (!strcmp(a, "--drop-h2b-at") && v) lf = &h2b.drop;
    else if (!strcmp(a, "--flip-b2h-at") && v) lf = &b2h.flip;
    else if (!strcmp(a, "--drop-b2h-at") && v) lf = &b2h.drop;
    else {
      fprintf(stderr, "pb_board_sim: unknown option or missing value: '%s'\n", a);
      usage(stderr);
      return 2;
    }
    if (rate && parse_rate(argv[++i], rate)) {
      fprintf(stderr, "pb_board_sim: %s wants a probability in [0, 1], got '%s'\n", a, argv[i]);
      return 2;
    }
    if (lf && parse_list(argv[++i], lf)) {
      fprintf(stderr, "pb_board_sim: %s wants up to %d comma-separated byte indices, got '%s'\n", a, MAX_AT, argv[i]);
      return 2;
    }
  }

  /* ---- the pseudo-terminal ---- */
  int master = posix_openpt(O_RDWR | O_NOCTTY);
  if (master < 0 || grantpt(master) || unlockpt(master)) {
    fprintf(stderr, "pb_board_sim: cannot create a pseudo-terminal: %s\n", strerror(errno));
    return 1;
  }
  const char *spath = ptsname(master);
  char path[256];
  snprintf(path, sizeof path, "%s", spath ? spath : "");
  /* the slave in raw mode from the start (no echo, no line editing); the simulator keeps it open
   * so that the master sees no hang-up between host sessions (with --exit-on-hangup until the
   * host has sent its first byte) */
  int slave = open(path, O_RDWR | O_NOCTTY);
  struct termios t;
  if (slave < 0 || tcgetattr(slave, &t)) {
    fprintf(stderr, "pb_board_sim: cannot open '%s': %s\n", path, strerror(errno));
    return 1;
  }
  cfmakeraw(&t);
  tcsetattr(slave, TCSANOW, &t);
  fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);

  pb_board_vl_t *b = pb_board_vl_new(trace);
  if (!b) {
    fprintf(stderr, "pb_board_sim: cannot create the board%s\n", trace ? " (trace file?)" : "");
    return 1;
  }
  const pb_board_vl_params_t *bp = pb_board_vl_params();
  const unsigned cpb = bp->clks_per_bit;
  if (link) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", link);
    FILE *f = fopen(tmp, "w");
    if (!f || fprintf(f, "%s\n", path) < 0 || fclose(f) || rename(tmp, link)) {
      fprintf(stderr, "pb_board_sim: cannot write '%s': %s\n", link, strerror(errno));
      return 1;
    }
  }
  printf("pb_board_sim: board (N=%u sp_rows=%u acc_rows=%u host_bytes=%u, %u clocks per bit) on %s\n", bp->n,
         bp->sp_rows, bp->acc_rows, bp->host_bytes, cpb, path);
  fflush(stdout);

  /* ---- queues and line state ---- */
  static uint16_t q[QCAP]; /* host->board bytes: byte | (line bit to flip + 1) << 8 */
  unsigned q_head = 0, q_len = 0;
  static uint8_t out[OUT_CAP];
  size_t out_len = 0;
  uint64_t out_lost = 0, framing_b2h = 0;
  struct { int active; unsigned frame, bit, cyc; } ser = {0, 0, 0, 0};
  struct { int active; unsigned t; uint8_t val; } des = {0, 0, 0};
  unsigned pins = 0, tail = 0;
  int connected = 0;
  uint64_t cycles = 0;
  double t0 = now_s(), busy_s = 0;
  const unsigned tail_cycles = 20 * cpb;

  while (!stop_sig) {
    int idle = !(pins & 2u) && q_len == 0 && !ser.active && !des.active && tail == 0;
    struct pollfd pfd = {.fd = master, .events = (short)((q_len + 4096 <= QCAP ? POLLIN : 0) | (out_len ? POLLOUT : 0))};
    int r = poll(&pfd, 1, idle ? (out_len ? 1000 : -1) : 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      fprintf(stderr, "pb_board_sim: poll: %s\n", strerror(errno));
      break;
    }
    if (pfd.revents & POLLIN) {
      uint8_t buf[4096];
      ssize_t n = read(master, buf, sizeof buf);
      if (n < 0 && errno != EAGAIN && errno != EINTR) { /* EIO: no one has the terminal open */
        if (exit_on_hangup && connected) break;
        struct timespec ts = {0, 10000000L};
        nanosleep(&ts, NULL);
      }
      for (ssize_t k = 0; k < n; k++) {
        uint64_t idx = h2b.bytes++;
        if (idx >= cut_at || hits(&h2b.drop, idx)) {
          h2b.drop.done += idx < cut_at;
          continue;
        }
        unsigned flip = 0;
        if (hits(&h2b.flip, idx)) {
          h2b.flip.done++;
          flip = 1 + (unsigned)(rnd() * 10.0);
        }
        q[(q_head + q_len++) % QCAP] = (uint16_t)(buf[k] | flip << 8);
      }
      if (n > 0 && !connected) {
        connected = 1;
        if (exit_on_hangup) {
          close(slave);
          slave = -1;
        }
      }
    } else if (pfd.revents & (POLLHUP | POLLERR)) {
      if (exit_on_hangup && connected) break;
      if (idle) {
        struct timespec ts = {0, 10000000L};
        nanosleep(&ts, NULL);
      }
    }
    if (out_len && (pfd.revents & POLLOUT)) {
      ssize_t w = write(master, out, out_len);
      if (w > 0) {
        memmove(out, out + w, out_len - (size_t)w);
        out_len -= (size_t)w;
      }
    }
    if (idle && q_len == 0) continue;

    /* ---- a batch of clock cycles ---- */
    double tb = now_s();
    for (int c = 0; c < BATCH; c++) {
      if (!ser.active && q_len) {
        uint16_t e = q[q_head];
        q_head = (q_head + 1) % QCAP;
        q_len--;
        ser.active = 1;
        ser.frame = (unsigned)(e & 0xffu) << 1 | 1u << 9; /* start 0, data LSB first, stop 1 */
        if (e >> 8) ser.frame ^= 1u << ((e >> 8) - 1);
        ser.bit = 0;
        ser.cyc = 0;
      }
      int rx = ser.active ? (int)((ser.frame >> ser.bit) & 1u) : 1;
      pins = pb_board_vl_step(b, rx);
      cycles++;
      if (ser.active && ++ser.cyc == cpb) {
        ser.cyc = 0;
        if (++ser.bit == 10) ser.active = 0;
      }
      int tx = (int)(pins & 1u);
      if (!des.active) {
        if (!tx) {
          des.active = 1;
          des.t = 0;
          des.val = 0;
        }
      } else {
        des.t++;
        if (des.t >= cpb / 2 + cpb && (des.t - cpb / 2) % cpb == 0) {
          unsigned k = (des.t - cpb / 2) / cpb; /* 1..8 data, 9 stop */
          if (k <= 8) des.val |= (uint8_t)(tx << (k - 1));
          else {
            des.active = 0;
            if (!tx) {
              framing_b2h++;
            } else {
              uint64_t idx = b2h.bytes++;
              uint8_t v = des.val;
              if (h2b.bytes > cut_at || hits(&b2h.drop, idx)) {
                b2h.drop.done += h2b.bytes <= cut_at;
              } else {
                if (hits(&b2h.flip, idx)) {
                  b2h.flip.done++;
                  v ^= (uint8_t)(1u << (unsigned)(rnd() * 8.0));
                }
                if (out_len < OUT_CAP) out[out_len++] = v;
                else out_lost++;
              }
            }
          }
        }
      }
      if (ser.active || des.active || !tx) tail = tail_cycles;
      else if (tail) tail--;
    }
    busy_s += now_s() - tb;
    if (out_len) { /* hand the bytes over right away */
      ssize_t w = write(master, out, out_len);
      if (w > 0) {
        memmove(out, out + w, out_len - (size_t)w);
        out_len -= (size_t)w;
      }
    }
  }

  double wall = now_s() - t0;
  if (!quiet) {
    fprintf(stderr,
            "pb_board_sim: %llu cycles in %.2f s wall, %.2f s simulating (%.3g cycles/s while simulating); "
            "host->board %llu bytes (%llu bit flips, %llu dropped), board->host %llu bytes (%llu bit flips, %llu "
            "dropped)%s; %.0f bytes/s over the link while simulating\n",
            (unsigned long long)cycles, wall, busy_s, busy_s > 0 ? (double)cycles / busy_s : 0.0,
            (unsigned long long)h2b.bytes, (unsigned long long)h2b.flip.done, (unsigned long long)h2b.drop.done,
            (unsigned long long)b2h.bytes, (unsigned long long)b2h.flip.done, (unsigned long long)b2h.drop.done,
            cut_at != UINT64_MAX ? " (link cut)" : "",
            busy_s > 0 ? (double)(h2b.bytes + b2h.bytes) / busy_s : 0.0);
    if (out_lost || framing_b2h)
      fprintf(stderr, "pb_board_sim: %llu board->host bytes lost (host not reading), %llu framing errors\n",
              (unsigned long long)out_lost, (unsigned long long)framing_b2h);
  }
  pb_board_vl_free(b);
  if (slave >= 0) close(slave);
  close(master);
  if (link) unlink(link);
  return 0;
}
