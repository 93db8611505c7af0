/* SPDX-License-Identifier: Apache-2.0 */
/*
 * protobrain: the command-line tool, the one place that joins compiler and driver.
 *   protobrain asm PROG.pbs -o PROG.pbin
 *   protobrain disasm PROG.pbin [-o PROG.pbs]
 *   protobrain run PROG.pbin --backend ref --input IN.npy --output OUT.npy   (run_cmd.c)
 *   protobrain compile MODEL.onnx -o PROG.pbin     (compile_cmd.c)
 *   protobrain info PROG.pbin | MODEL.onnx         (info_cmd.c)
 * Exit status: 0 success, 1 failure (bad input file, accelerator error), 2 usage error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asm.h"
#include "cli.h"
#include "protobrain/isa.h"
#include "protobrain/pbin.h"

static const char *prog_name = "protobrain";

static void usage_main(FILE *f) {
  fprintf(f,
          "usage: protobrain <command> [options]\n"
          "\n"
          "commands:\n"
          "  compile  compile an ONNX model into a program binary (.pbin)\n"
          "  info     describe a program (layers, predicted cycles, memory plan) or an ONNX model\n"
          "  asm      assemble a text program (.pbs) into a program binary (.pbin)\n"
          "  disasm   print a program binary as assembly text\n"
          "  run      run a program on a backend with .npy tensors in and out\n"
          "  help     show this help, or `protobrain help <command>`\n"
          "\n"
          "Every command takes --help. Exit status: 0 ok, 1 error, 2 usage error.\n");
}

static void usage_asm(FILE *f) {
  fprintf(f,
          "usage: protobrain asm PROG.pbs -o PROG.pbin\n"
          "\n"
          "Assemble Protobrain assembly (docs/asm.md) into a program binary (docs/pbin.md).\n"
          "Errors are reported as FILE:LINE:COL: error: message.\n"
          "\n"
          "  -o, --output FILE   the .pbin to write (required)\n");
}

static void usage_disasm(FILE *f) {
  fprintf(f,
          "usage: protobrain disasm PROG.pbin [-o PROG.pbs]\n"
          "\n"
          "Print a program binary as assembly that `protobrain asm` turns back into the same program.\n"
          "\n"
          "  -o, --output FILE   write the text to FILE instead of standard output\n");
}

/* ---- small utilities ---- */

static int read_file(const char *path, char **out, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "%s: cannot open '%s': %s\n", prog_name, path, strerror(errno));
    return -1;
  }
  size_t cap = 4096, n = 0;
  char *buf = malloc(cap + 1);
  for (;;) {
    if (!buf) break;
    size_t got = fread(buf + n, 1, cap - n, f);
    n += got;
    if (n < cap) break;
    char *nb = realloc(buf, 2 * cap + 1);
    if (!nb) {
      free(buf);
      buf = NULL;
      break;
    }
    buf = nb;
    cap *= 2;
  }
  int bad = ferror(f);
  fclose(f);
  if (!buf || bad) {
    free(buf);
    fprintf(stderr, "%s: cannot read '%s'\n", prog_name, path);
    return -1;
  }
  buf[n] = 0;
  *out = buf;
  *len = n;
  return 0;
}

static int is_help(const char *a) { return !strcmp(a, "--help") || !strcmp(a, "-h"); }

/* ---- asm ---- */

static int cmd_asm(int argc, char **argv) {
  const char *in = NULL, *out = NULL;
  for (int i = 1; i < argc; i++) {
    if (is_help(argv[i])) {
      usage_asm(stdout);
      return 0;
    } else if ((!strcmp(argv[i], "-o") || !strcmp(argv[i], "--output")) && i + 1 < argc) {
      out = argv[++i];
    } else if (argv[i][0] == '-') {
      fprintf(stderr, "protobrain asm: unknown option '%s'\n", argv[i]);
      usage_asm(stderr);
      return 2;
    } else if (!in) {
      in = argv[i];
    } else {
      fprintf(stderr, "protobrain asm: more than one input file\n");
      return 2;
    }
  }
  if (!in || !out) {
    usage_asm(stderr);
    return 2;
  }
  char *src;
  size_t len;
  if (read_file(in, &src, &len)) return 1;
  if (strlen(src) != len) {
    fprintf(stderr, "%s: '%s' contains a NUL byte; not assembly text\n", prog_name, in);
    free(src);
    return 1;
  }
  pb_program_t p;
  char err[512];
  int rc = pb_asm(src, in, &p, err, sizeof err);
  free(src);
  if (rc) {
    fprintf(stderr, "%s\n", err);
    return 1;
  }
  pb_error_t e;
  rc = pb_program_save(&p, out, &e);
  if (rc) fprintf(stderr, "%s: %s\n", prog_name, e.msg);
  pb_program_free(&p);
  return rc ? 1 : 0;
}

/* ---- disasm ---- */

static int cmd_disasm(int argc, char **argv) {
  const char *in = NULL, *out = NULL;
  for (int i = 1; i < argc; i++) {
    if (is_help(argv[i])) {
      usage_disasm(stdout);
      return 0;
    } else if ((!strcmp(argv[i], "-o") || !strcmp(argv[i], "--output")) && i + 1 < argc) {
      out = argv[++i];
    } else if (argv[i][0] == '-') {
      fprintf(stderr, "protobrain disasm: unknown option '%s'\n", argv[i]);
      usage_disasm(stderr);
      return 2;
    } else if (!in) {
      in = argv[i];
    } else {
      fprintf(stderr, "protobrain disasm: more than one input file\n");
      return 2;
    }
  }
  if (!in) {
    usage_disasm(stderr);
    return 2;
  }
  pb_program_t p;
  pb_error_t e;
  if (pb_program_load(in, &p, &e)) {
    fprintf(stderr, "%s: %s: %s\n", prog_name, in, e.msg);
    return 1;
  }
  char *text = pb_disasm(&p);
  pb_program_free(&p);
  if (!text) {
    fprintf(stderr, "%s: out of memory\n", prog_name);
    return 1;
  }
  FILE *f = out ? fopen(out, "w") : stdout;
  if (!f) {
    fprintf(stderr, "%s: cannot create '%s': %s\n", prog_name, out, strerror(errno));
    free(text);
    return 1;
  }
  int ok = fputs(text, f) >= 0;
  if (out && fclose(f) != 0) ok = 0;
  free(text);
  if (!ok) {
    fprintf(stderr, "%s: cannot write '%s'\n", prog_name, out ? out : "standard output");
    return 1;
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage_main(stderr);
    return 2;
  }
  const char *cmd = argv[1];
  if (is_help(cmd) || !strcmp(cmd, "help")) {
    if (argc > 2 && !strcmp(argv[2], "asm")) usage_asm(stdout);
    else if (argc > 2 && !strcmp(argv[2], "disasm")) usage_disasm(stdout);
    else if (argc > 2 && !strcmp(argv[2], "run")) pb_cli_usage_run(stdout);
    else if (argc > 2 && !strcmp(argv[2], "compile")) pb_cli_usage_compile(stdout);
    else if (argc > 2 && !strcmp(argv[2], "info")) pb_cli_usage_info(stdout);
    else usage_main(stdout);
    return 0;
  }
  if (!strcmp(cmd, "asm")) return cmd_asm(argc - 1, argv + 1);
  if (!strcmp(cmd, "disasm")) return cmd_disasm(argc - 1, argv + 1);
  if (!strcmp(cmd, "run")) return pb_cli_run(argc - 1, argv + 1);
  if (!strcmp(cmd, "compile")) return pb_cli_compile(argc - 1, argv + 1);
  if (!strcmp(cmd, "info")) return pb_cli_info(argc - 1, argv + 1);
  fprintf(stderr, "protobrain: unknown command '%s'\n", cmd);
  usage_main(stderr);
  return 2;
}
