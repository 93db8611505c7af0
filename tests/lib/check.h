/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Minimal test framework. Each CHECK is one counted case; a failure prints
 * file:line and a message. A test program ends with `return check_done();`,
 * which prints "# <prog>: P passed, F failed" for tests/run_tests.sh to sum.
 */
#ifndef PB_TEST_CHECK_H
#define PB_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_passed, check_failed;
static const char *check_prog = "test";

#define CHECK(cond, ...)                                         \
  do {                                                           \
    if (cond) {                                                  \
      check_passed++;                                            \
    } else {                                                     \
      check_failed++;                                            \
      fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);     \
      fprintf(stderr, __VA_ARGS__);                              \
      fprintf(stderr, "\n");                                     \
    }                                                            \
  } while (0)

#define CHECK_EQ_INT(got, want, what)                                                              \
  CHECK((long long)(got) == (long long)(want), "%s: got %lld, expected %lld", what, (long long)(got), \
        (long long)(want))

/* Silent bulk check: counts one case for a whole loop; the first failure is printed by the caller. */
static inline void check_init(const char *prog) { check_prog = prog; }

/*
 * With PB_PROG_DUMP=DIR set, save an assembly program a test runs as DIR/<prog>_<what>.pbs,
 * so that the RTL co-simulation test (tests/rtl/test_cosim_progs.c) runs the same programs.
 */
static inline void check_dump_src(const char *what, const char *src) {
  const char *dir = getenv("PB_PROG_DUMP");
  if (!dir) return;
  char path[512];
  int o = snprintf(path, sizeof path, "%s/%s_", dir, check_prog);
  for (const char *c = what; *c && o < (int)sizeof path - 8; c++)
    path[o++] = (char)(((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9')) ? *c : '_');
  snprintf(path + o, sizeof path - (size_t)o, ".pbs");
  FILE *f = fopen(path, "w");
  if (f) {
    fputs(src, f);
    fclose(f);
  }
}

static inline int check_done(void) {
  printf("# %s: %d passed, %d failed\n", check_prog, check_passed, check_failed);
  return check_failed ? 1 : 0;
}

#endif
