/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The protobrain command's subcommands that live in their own files.
 * compile_cmd.c and info_cmd.c include the compiler's IR (ir.h), whose
 * operator enum shares names with the ISA's (PB_OP_MATMUL), so they cannot
 * be in main.c, which includes protobrain/isa.h.
 * Each returns the exit status: 0 ok, 1 error, 2 usage error.
 */
#ifndef PB_CLI_H
#define PB_CLI_H

#include <stdio.h>

int pb_cli_compile(int argc, char **argv);
int pb_cli_run(int argc, char **argv); /* run_cmd.c: a client of include/protobrain/protobrain.h */
void pb_cli_usage_run(FILE *f);
int pb_cli_info(int argc, char **argv);
void pb_cli_usage_compile(FILE *f);
void pb_cli_usage_info(FILE *f);

#endif
