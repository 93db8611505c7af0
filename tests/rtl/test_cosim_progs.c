/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The foundation's hand-checkable programs (saved by the C unit tests under
 * PB_PROG_DUMP, default build/progs) in lock-step co-simulation: each runs on
 * the Verilated configuration with its N (its .hw line is replaced by the
 * configuration's; programs for an N without an RTL build are skipped and
 * listed), and each is run twice with different scratchpad data would be
 * meaningless here, so instead every program's counters are compared with a
 * second run of the same program (determinism).
 */
#include <dirent.h>

#include "cosim_util.h"

int main(void) {
  check_init("test_cosim_progs");
  const char *dir = getenv("PB_PROG_DUMP") ? getenv("PB_PROG_DUMP") : "build/progs";
  DIR *d = opendir(dir);
  if (!d) {
    CHECK(0, "no program directory %s (run the C unit tests with PB_PROG_DUMP=%s first)", dir, dir);
    return check_done();
  }
  int ran = 0, ok = 0, skipped = 0, errors = 0, too_big = 0;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    size_t l = strlen(de->d_name);
    if (l < 5 || strcmp(de->d_name + l - 4, ".pbs") != 0) continue;
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
    FILE *f = fopen(path, "r");
    if (!f) continue;
    static char src[1 << 22];
    size_t n = fread(src, 1, sizeof src - 1, f);
    fclose(f);
    src[n] = 0;
    char *hw = strstr(src, ".hw ");
    unsigned nn = 0;
    if (!hw || sscanf(hw, ".hw n=%u", &nn) != 1) continue;
    const pb_vsim_ops_t *ops = NULL;
    for (int i = 0; pb_vsim_configs[i]; i++)
      if (pb_vsim_configs[i]->hw.n == nn) ops = pb_vsim_configs[i];
    if (!ops) {
      skipped++;
      continue;
    }
    char *body = strchr(hw, '\n');
    body = body ? body + 1 : hw + strlen(hw);
    /* everything before .hw (comments) is dropped; the configuration's .hw replaces it. A program
     * written for a larger host memory than this configuration's whose data or code lies beyond
     * it cannot run here: skipped and listed (the assembler says so); any other assembly error,
     * and this one for a program written for at most this memory, is a failure below. */
    unsigned prog_host = 0;
    const char *hb = strstr(hw, "host_bytes=");
    const char *eol = strchr(hw, '\n');
    if (hb && (!eol || hb < eol)) prog_host = (unsigned)strtoul(hb + strlen("host_bytes="), NULL, 0);
    if (prog_host > ops->hw.host_bytes) {
      char hwl[160], aerr[512];
      cfg_hw_line(ops, hwl, sizeof hwl);
      size_t len = strlen(hwl) + strlen(body) + 1;
      char *full = malloc(len);
      snprintf(full, len, "%s%s", hwl, body);
      pb_program_t tp;
      int arc = pb_asm(full, de->d_name, &tp, aerr, sizeof aerr);
      free(full);
      if (arc == 0) {
        pb_program_free(&tp);
      } else if (strstr(aerr, "beyond host memory")) {
        too_big++;
        printf("test_cosim_progs: %s does not fit %s's host memory (%u bytes), skipped: %s\n", de->d_name, ops->name,
               ops->hw.host_bytes, aerr);
        continue;
      }
    }
    pb_cosim_result_t r1, r2;
    int rc1 = cosim_body(ops, body, de->d_name, &r1, NULL, NULL, NULL);
    int rc2 = rc1 ? -1 : cosim_body(ops, body, de->d_name, &r2, NULL, NULL, NULL);
    ran++;
    if (rc1 || rc2) {
      CHECK(0, "%s on %s: co-simulation diverged or failed", de->d_name, ops->name);
    } else if (r1.cycles != r2.cycles || r1.instrs != r2.instrs) {
      CHECK(0, "%s on %s: two runs differ in counters", de->d_name, ops->name);
    } else {
      ok++;
      if (r1.state == PB_STATE_ERROR) errors++;
    }
  }
  closedir(d);
  CHECK(ran > 0 && ok == ran, "%d of %d hand-checkable programs identical in RTL and model", ok, ran);
  printf("test_cosim_progs: %d programs from %s run in lock step, %d identical (%d of them end in an accelerator "
         "error, identical code and PC), %d skipped (N without an RTL build), %d skipped (beyond the configuration's "
         "host memory)\n", ran, dir, ok, errors, skipped, too_big);
  return check_done();
}
