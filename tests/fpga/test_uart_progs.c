/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Hand-checkable and error programs on the simulated board over the UART link, against the C
 * reference model (the independent source of the expected results): every N=4 assembly program
 * the C unit tests save (PB_PROG_DUMP, tests/run_tests.sh), retargeted to the board's memories
 * (N stays the board's; programs whose data lies beyond the board's host memory are skipped), runs through the `uart` backend
 * and the `ref` backend; the end state (HALT or error, error code, faulting PC, instructions
 * retired) and the driver's view of the whole host memory must be equal.
 *
 * The board's scratchpad and accumulator cannot be cleared from outside (the model's start as
 * zeros), so a program whose result depends on their initial contents has no single right
 * answer on hardware: each program also runs on the model with both memories filled with 0x5a,
 * and one whose end state or memory then differs is skipped (counted). Retargeting makes a few
 * such: an error test that read one row past a 32-row accumulator reads an unwritten row of the
 * board's 256.
 *
 * Usage: [PB_BOARD_N=N PB_BOARD_SP=ROWS PB_BOARD_ACC=ROWS PB_BOARD_HOST=BYTES PB_BOARD_RQ_LANES=L]
 *        test_uart_progs PORT PROG.pbs...
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asm.h"
#include "backend.h"
#include "backend_uart.h"
#include "check.h"
#include "protobrain/isa.h"
#include "protobrain/pbin.h"
#include "refmodel.h"

/* Run p on the model with the scratchpad and accumulator filled with 0x5a; 1 if the end state or
 * the host memory differs from the zero-initialized run (st0, host0). */
static int depends_on_sram(const pb_program_t *p, const pb_run_status_t *st0, const uint8_t *host0) {
  pb_model_t *m = pb_model_new(&p->hw);
  if (!m) return 1;
  uint8_t *h = pb_model_host(m);
  memcpy(h + p->code_addr, p->code, (size_t)p->code_len * PB_INSTR_BYTES);
  for (uint32_t i = 0; i < p->n_data; i++) memcpy(h + p->data[i].host_addr, p->data[i].bytes, p->data[i].size);
  memset(pb_model_sp(m), 0x5a, (size_t)p->hw.sp_rows * p->hw.n);
  memset(pb_model_acc(m), 0x5a, (size_t)p->hw.acc_rows * p->hw.n * 4);
  pb_model_start(m, p->code_addr, p->code_len);
  pb_state_t s = pb_model_run(m, 1u << 30);
  int differs = (s == PB_STATE_DONE) != st0->done || pb_model_pc(m) != st0->fault_pc ||
                (s != PB_STATE_DONE && pb_model_error(m) != st0->err) || memcmp(h, host0, p->hw.host_bytes) != 0;
  pb_model_free(m);
  return differs;
}

static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *s = malloc((size_t)n + 1);
  if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
    free(s);
    s = NULL;
  }
  if (s) s[n] = 0;
  fclose(f);
  return s;
}

static uint32_t env_u32(const char *name, uint32_t dflt) {
  const char *v = getenv(name);
  return v ? (uint32_t)strtoul(v, NULL, 0) : dflt;
}

int main(int argc, char **argv) {
  check_init("test_uart_progs");
  if (argc < 3) {
    fprintf(stderr, "usage: test_uart_progs PORT PROG.pbs...\n");
    return 2;
  }
  /* the board's parameters: PB_BOARD_N, _SP, _ACC, _HOST, _RQ_LANES (defaults: the simulated board
     of mk/uart.mk, N=4, 1024, 256, 131072 and 0 = N); programs for another N are skipped */
  const pb_hw_t board = {env_u32("PB_BOARD_N", 4), env_u32("PB_BOARD_SP", 1024), env_u32("PB_BOARD_ACC", 256),
                         env_u32("PB_BOARD_HOST", 131072), env_u32("PB_BOARD_RQ_LANES", 0)};
  char err[1024];
  pb_backend_opts_t o = {0};
  o.port = argv[1];
  pb_backend_t *u = NULL;
  if (pb_backend_open("uart", &board, &o, &u, err, sizeof err)) {
    CHECK(0, "open the uart backend: %s", err);
    return check_done();
  }
  int ran = 0, halted = 0, faulted = 0, skipped = 0, skipped_fit = 0, skipped_sram = 0;
  for (int i = 2; i < argc; i++) {
    const char *path = argv[i];
    char *src = slurp(path);
    if (!src) {
      CHECK(0, "%s: cannot read", path);
      continue;
    }
    pb_program_t p;
    int rc = pb_asm(src, path, &p, err, sizeof err);
    free(src);
    if (rc) {
      CHECK(0, "%s: %s", path, err);
      continue;
    }
    if (p.hw.n != board.n) {
      skipped++;
      pb_program_free(&p);
      continue;
    }
    p.hw = board;
    pb_error_t pe;
    if (pb_program_check(&p, &pe)) { /* its data does not fit the board's memory */
      skipped_fit++;
      pb_program_free(&p);
      continue;
    }
    pb_backend_t *r = NULL;
    pb_run_status_t sr, su;
    char e1[512] = "", e2[512] = "";
    memset(u->host, 0, board.host_bytes); /* every program starts from zeros, as in the model */
    int ok = pb_backend_open("ref", &board, NULL, &r, e1, sizeof e1) == 0 && pb_backend_load(r, &p, e1, sizeof e1) == 0 &&
             pb_backend_load(u, &p, e2, sizeof e2) == 0;
    if (ok) ok = r->run(r, p.code_addr, p.code_len, &sr, e1, sizeof e1) == 0;
    if (ok && depends_on_sram(&p, &sr, r->host)) {
      skipped_sram++;
      r->close(r);
      pb_program_free(&p);
      continue;
    }
    if (ok) ok = u->run(u, p.code_addr, p.code_len, &su, e2, sizeof e2) == 0;
    if (!ok) {
      CHECK(0, "%s: %s%s", path, e1, e2);
    } else {
      ran++;
      halted += sr.done;
      faulted += !sr.done;
      CHECK(sr.done == su.done && sr.err == su.err && sr.fault_pc == su.fault_pc && sr.cnt.instrs == su.cnt.instrs,
            "%s: ref %s %s at PC %u (%llu instructions), uart %s %s at PC %u (%llu)", path, sr.done ? "HALT" : "error",
            sr.done ? "" : pb_isa_error_name(sr.err), sr.fault_pc, (unsigned long long)sr.cnt.instrs,
            su.done ? "HALT" : "error", su.done ? "" : pb_isa_error_name(su.err), su.fault_pc,
            (unsigned long long)su.cnt.instrs);
      if (memcmp(r->host, u->host, board.host_bytes)) {
        uint32_t k = 0;
        while (r->host[k] == u->host[k]) k++;
        CHECK(0, "%s: host memory differs first at 0x%x: ref 0x%02x, uart 0x%02x", path, k, r->host[k], u->host[k]);
      } else {
        CHECK(1, "memory");
      }
    }
    if (r) r->close(r);
    pb_program_free(&p);
  }
  pb_uart_backend_stats_t s;
  pb_backend_uart_stats(u, &s);
  printf("%d programs on the board (%d ending in HALT, %d in an error), %d skipped (N != %u), %d skipped (data beyond "
         "the board's %u bytes), %d skipped (result depends on the initial scratchpad or accumulator); link: %llu "
         "requests, %llu retries; %llu bytes written, %llu read back\n",
         ran, halted, faulted, skipped, board.n, skipped_fit, board.host_bytes, skipped_sram, (unsigned long long)s.link.requests, (unsigned long long)s.link.retries,
         (unsigned long long)s.mem_written, (unsigned long long)s.mem_read);
  CHECK(ran > 0 && faulted > 0 && halted > 0, "programs of both kinds ran (%d, %d)", halted, faulted);
  u->close(u);
  return check_done();
}
