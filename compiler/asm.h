/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Protobrain assembly: text <-> pb_program_t. The syntax is documented in
 * docs/asm.md. Mnemonics and field names come only from the ISA tables
 * (include/protobrain/isa.h); nothing here names an instruction.
 *
 * Round trip: for every program P that pb_asm() produces or
 * pb_program_read() accepts, pb_asm(pb_disasm(P)) yields a program with
 * identical hw, code, data, tensors, regions, steps and layers (so the same
 * .pbin bytes), and whose pb_disasm() text is identical.
 */
#ifndef PROTOBRAIN_ASM_H
#define PROTOBRAIN_ASM_H

#include <stddef.h>
#include <stdint.h>

#include "protobrain/isa.h"
#include "protobrain/pbin.h"

/*
 * Assemble NUL-terminated source text. filename is used in messages only
 * (NULL: "<input>"). Returns 0 and fills *out (free with pb_program_free), or
 * -1 with the first error as "FILE:LINE:COL: error: message" in err (errlen
 * bytes, may be 0); *out is then empty (all zero).
 */
int pb_asm(const char *src, const char *filename, pb_program_t *out, char *err, size_t errlen);

/* Canonical, re-assemblable text of a program (malloc'd, caller frees); NULL on OOM. */
char *pb_disasm(const pb_program_t *p);

/*
 * One instruction as a line of assembly (no newline), e.g. for traces.
 * Returns pb_decode's code (PB_ERR_NONE on success). An undecodable word
 * prints as `.word 0x<32 hex digits>` (the little-endian 128-bit value)
 * followed by a comment naming the decode error. Output is truncated to len.
 */
int pb_disasm_word(const pb_word_t *w, char *buf, size_t len);

/* ---- shared by asm.c and disasm.c ---------------------------------------- */

/* Spellings used in assembly; NULL when the code is unknown. */
const char *pb_asm_dtype_name(unsigned dtype);      /* "i8" "u8" "i32" "f32" "i64" */
const char *pb_asm_region_kind_name(unsigned kind); /* "code" "const" "io" "act" "scratch" */

/*
 * 1 when `name` (at most max bytes are read) is an identifier the assembler
 * accepts as a block, buffer, tensor, region or layer name:
 * [A-Za-z_][A-Za-z0-9_.]*, at most PB_NAME_MAX-1 characters, not "sizeof";
 * for blocks and buffers (is_symbol != 0) also not "code", the name of the
 * code region. Other tensor, region and layer names are written as strings.
 */
int pb_asm_name_ok(const char *name, size_t max, int is_symbol);

#endif
