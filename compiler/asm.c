/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Assembler: Protobrain assembly text -> pb_program_t (syntax: docs/asm.md).
 *
 * Two passes over the same line parser. Pass 1 only collects symbols (.equ,
 * .data and .buffer names, block sizes) and never reports. Pass 2 builds the
 * program and stops at the first error, so errors come out in source order.
 * "Layout" expressions (addresses, sizes, counts, .equ, .hw, .code) may only
 * use symbols defined above them, so both passes compute the same layout;
 * "value" expressions (instruction fields, tensor attributes, data values)
 * may use any symbol of the file, with its pass-1 value.
 *
 * Every scan stays inside the current line [line, end): end is the first
 * ';', '#', '\n' or NUL, so no read ever passes the terminating NUL.
 */
#include "asm.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 64 /* expression nesting */
#define MAX_TOKEN 64 /* longest token quoted or copied */

enum { SYM_EQU, SYM_DATA, SYM_BUFFER };

typedef struct {
  char name[PB_NAME_MAX];
  int kind;
  int64_t value; /* .equ value, or the block's host address */
  int64_t size;  /* bytes of a .data / .buffer block */
  int closed;    /* a .data block is complete */
  int line, col; /* where it is defined */
} sym_t;

typedef struct {
  int line, col;
} loc_t;

typedef struct {
  sym_t *v;
  size_t n, cap;
} symtab_t;

typedef struct { /* a .tensor seen in pass 1, for references by name from .step */
  char name[PB_NAME_MAX];
  uint8_t kind;
} tname_t;

typedef struct {
  const char *file, *src;
  const char *line, *p, *end; /* current line, cursor, end of its code part */
  int lineno;
  int pass;   /* 1: collect symbols silently, 2: build and report */
  int layout; /* evaluating a layout expression */
  int shape;  /* parsing a shape: 'x' separates numbers */
  int depth;
  int failed;
  char *err;
  size_t errlen;
  symtab_t cur, pre; /* symbols of this pass so far; all symbols of pass 1 */

  int have_hw, hw_line;
  pb_hw_t hw;
  int have_code, code_line;
  uint32_t code_addr;
  size_t ninstr;
  uint8_t *code;
  size_t code_cap;

  long blk; /* index in cur of the open .data block, -1 if none */
  uint8_t *bytes;
  size_t bytes_cap;

  pb_region_t *dreg, *breg; /* regions of .data blocks, of .buffers (pass 2) */
  size_t ndreg, dreg_cap, nbreg, breg_cap;
  loc_t *dloc, *bloc, *tloc; /* where each data block, buffer, tensor was defined (pass 2) */
  size_t dloc_cap, bloc_cap, tloc_cap;
  loc_t code_loc; /* the .code directive, else the first instruction */

  int memplan_line; /* the .memplan directive of this pass, 0 if none */
  size_t nsteps;    /* .step lines of this pass */
  pb_region_t *xreg; /* .region records (pass 2) */
  size_t nxreg, xreg_cap;
  loc_t *rloc, *sloc, *lloc; /* where each .region, .step, .layer was (pass 2) */
  size_t rloc_cap, sloc_cap, lloc_cap;

  /* learnt in pass 1, used by pass 2 */
  size_t pre_ninstr, pre_nsteps; /* instruction and step counts of the file */
  int pre_memplan;               /* the file has a .memplan: regions come only from .region */
  tname_t *tn;                   /* every .tensor's name and kind, in order */
  size_t ntn, tn_cap;

  pb_program_t *prog;
} asm_t;

/* ---- small helpers --------------------------------------------------------- */

const char *pb_asm_dtype_name(unsigned dtype) {
  switch (dtype) {
  case PB_DT_INT8: return "i8";
  case PB_DT_UINT8: return "u8";
  case PB_DT_INT32: return "i32";
  case PB_DT_FLOAT32: return "f32";
  case PB_DT_INT64: return "i64";
  default: return NULL;
  }
}

const char *pb_asm_region_kind_name(unsigned kind) {
  switch (kind) {
  case PB_REG_CODE: return "code";
  case PB_REG_CONST: return "const";
  case PB_REG_IO: return "io";
  case PB_REG_ACT: return "act";
  case PB_REG_SCRATCH: return "scratch";
  default: return NULL;
  }
}

static int is_ws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }
static int is_ident_start(char c) { return isalpha((unsigned char)c) || c == '_'; }
static int is_ident_char(char c) { return isalnum((unsigned char)c) || c == '_' || c == '.'; }

int pb_asm_name_ok(const char *name, size_t max, int is_symbol) {
  size_t n = 0;
  while (n < max && name[n]) n++;
  if (n == 0 || n >= PB_NAME_MAX || !is_ident_start(name[0])) return 0;
  for (size_t i = 1; i < n; i++)
    if (!is_ident_char(name[i])) return 0;
  if (n == 6 && memcmp(name, "sizeof", 6) == 0) return 0;
  if (is_symbol && n == 4 && memcmp(name, "code", 4) == 0) return 0;
  return 1;
}

static int grow(void **buf, size_t *cap, size_t need, size_t elem) {
  if (need <= *cap) return 0;
  size_t c = *cap ? *cap : 16;
  while (c < need) {
    if (c > ((size_t)-1 / 2) / elem) return -1;
    c *= 2;
  }
  void *q = realloc(*buf, c * elem);
  if (!q) return -1;
  *buf = q;
  *cap = c;
  return 0;
}

/* Record the first error (pass 2 only; pass 1 stays silent). Returns -1. */
static int vfail_at(asm_t *a, int lineno, int col, const char *fmt, va_list ap) {
  if (a->failed) return -1;
  a->failed = 1;
  if (a->pass != 2 || !a->errlen) return -1;
  int n = snprintf(a->err, a->errlen, "%s:%d:%d: error: ", a->file, lineno, col);
  if (n >= 0 && (size_t)n < a->errlen) vsnprintf(a->err + n, a->errlen - (size_t)n, fmt, ap);
  return -1;
}

/* Error at `at`, a pointer into the current line (NULL: column 1). */
static int fail(asm_t *a, const char *at, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vfail_at(a, a->lineno, at ? (int)(at - a->line) + 1 : 1, fmt, ap);
  va_end(ap);
  return -1;
}

/* Error at an earlier place. */
static int fail_loc(asm_t *a, loc_t l, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vfail_at(a, l.line, l.col, fmt, ap);
  va_end(ap);
  return -1;
}

static loc_t loc_of(const asm_t *a, const char *at) {
  loc_t l = {a->lineno, (int)(at - a->line) + 1};
  return l;
}

/* Remember where item i was defined (pass 2). */
static int note_loc(loc_t **v, size_t *cap, size_t i, loc_t l) {
  if (grow((void **)v, cap, i + 1, sizeof(loc_t))) return -1;
  (*v)[i] = l;
  return 0;
}

static int oom(asm_t *a) { return fail(a, a->p, "out of memory"); }

static void skip_ws(asm_t *a) {
  while (a->p < a->end && is_ws(*a->p)) a->p++;
}

static int at_end(asm_t *a) {
  skip_ws(a);
  return a->p >= a->end;
}

/* Length of the token at s (up to whitespace, ',' or the end), for messages. */
static int tok_len(const asm_t *a, const char *s) {
  const char *q = s;
  while (q < a->end && !is_ws(*q) && *q != ',') q++;
  int n = (int)(q - s);
  return n > MAX_TOKEN ? MAX_TOKEN : n;
}

static int expect_end(asm_t *a, const char *what) {
  if (at_end(a)) return 0;
  return fail(a, a->p, "unexpected '%.*s' after %s (trailing garbage)", tok_len(a, a->p), a->p, what);
}

/* Scan an identifier; returns its length (0: none) and leaves the cursor after it. */
static size_t scan_ident(asm_t *a) {
  const char *s = a->p;
  if (s >= a->end || !is_ident_start(*s)) return 0;
  while (a->p < a->end && is_ident_char(*a->p)) a->p++;
  return (size_t)(a->p - s);
}

/* Scan an identifier into buf (bufsize bytes incl. NUL); longer ones are an error. */
static int parse_word(asm_t *a, char *buf, size_t bufsize, const char *what) {
  skip_ws(a);
  const char *s = a->p;
  size_t n = scan_ident(a);
  if (!n) {
    if (s >= a->end) return fail(a, s, "missing %s", what);
    return fail(a, s, "expected %s, got '%.*s'", what, tok_len(a, s), s);
  }
  if (n >= bufsize)
    return fail(a, s, "%s '%.*s' is too long (at most %zu characters)", what, (int)(n > MAX_TOKEN ? MAX_TOKEN : n), s,
                bufsize - 1);
  memcpy(buf, s, n);
  buf[n] = 0;
  return 0;
}

/* Optional ',' between operands. */
static void skip_comma(asm_t *a) {
  skip_ws(a);
  if (a->p < a->end && *a->p == ',') a->p++;
}

/* ---- symbols --------------------------------------------------------------- */

static long sym_find(const symtab_t *t, const char *name, size_t n) {
  for (size_t i = 0; i < t->n; i++)
    if (strlen(t->v[i].name) == n && memcmp(t->v[i].name, name, n) == 0) return (long)i;
  return -1;
}

static long sym_define(asm_t *a, const char *at, const char *name, int kind, int64_t value, int64_t size) {
  long i = sym_find(&a->cur, name, strlen(name));
  if (i >= 0) return fail(a, at, "duplicate symbol '%s' (first defined at line %d)", name, a->cur.v[i].line), -1;
  if (grow((void **)&a->cur.v, &a->cur.cap, a->cur.n + 1, sizeof(sym_t))) return oom(a), -1;
  sym_t *s = &a->cur.v[a->cur.n];
  memset(s, 0, sizeof *s);
  snprintf(s->name, sizeof s->name, "%s", name);
  s->kind = kind;
  s->value = value;
  s->size = size;
  s->closed = kind != SYM_DATA;
  s->line = a->lineno;
  s->col = (int)(at - a->line) + 1;
  return (long)a->cur.n++;
}

/* Value of symbol name[0..n) (want_size: its block size, for sizeof). */
static int sym_value(asm_t *a, const char *at, const char *name, size_t n, int want_size, int64_t *v) {
  const sym_t *s = NULL;
  int nn = (int)(n > MAX_TOKEN ? MAX_TOKEN : n);
  if (a->pass == 2 && !a->layout) {
    long i = sym_find(&a->pre, name, n);
    if (i >= 0) s = &a->pre.v[i];
  } else {
    long i = sym_find(&a->cur, name, n);
    if (i >= 0) s = &a->cur.v[i];
    if (!s && a->pass == 1 && !a->layout) { /* forward reference: known in pass 2 */
      *v = 0;
      return 0;
    }
    if (!s && a->pass == 2 && sym_find(&a->pre, name, n) >= 0)
      return fail(a, at,
                  "symbol '%.*s' is used before its definition (forward references are allowed only in "
                  "instruction fields, tensor attributes and data values)",
                  nn, name);
  }
  if (!s) return fail(a, at, "undefined symbol '%.*s'", nn, name);
  if (!want_size) {
    *v = s->value;
    return 0;
  }
  if (s->kind == SYM_EQU)
    return fail(a, at, "sizeof(%.*s): '%.*s' is an .equ, not a .data or .buffer block", nn, name, nn, name);
  if (!s->closed && a->layout) return fail(a, at, "sizeof(%.*s) used inside its own .data block", nn, name);
  *v = s->size;
  return 0;
}

/* ---- expressions ------------------------------------------------------------ */

static int digit_val(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static int parse_number(asm_t *a, int64_t *v) {
  const char *s = a->p, *q = s;
  unsigned base = 10;
  if (q + 1 < a->end && q[0] == '0' && (q[1] == 'x' || q[1] == 'X'))
    base = 16, q += 2;
  else if (q + 1 < a->end && q[0] == '0' && (q[1] == 'b' || q[1] == 'B'))
    base = 2, q += 2;
  uint64_t x = 0;
  int nd = 0, big = 0;
  for (; q < a->end; q++) {
    int d = digit_val(*q);
    if (d < 0 || (unsigned)d >= base) break;
    if (x > (UINT64_MAX - (unsigned)d) / base)
      big = 1;
    else
      x = x * base + (unsigned)d;
    nd++;
  }
  int shape_sep = a->shape && q < a->end && *q == 'x';
  if (!nd || (q < a->end && is_ident_char(*q) && !shape_sep)) {
    while (q < a->end && is_ident_char(*q)) q++;
    int n = (int)(q - s);
    return fail(a, s, "bad number '%.*s'", n > MAX_TOKEN ? MAX_TOKEN : n, s);
  }
  if (big || x > (uint64_t)INT64_MAX)
    return fail(a, s, "number '%.*s' does not fit in 64-bit signed arithmetic",
                (int)(q - s) > MAX_TOKEN ? MAX_TOKEN : (int)(q - s), s);
  a->p = q;
  *v = (int64_t)x;
  return 0;
}

static int parse_expr(asm_t *a, int64_t *v);

static int parse_primary(asm_t *a, int64_t *v) {
  skip_ws(a);
  const char *s = a->p;
  if (s >= a->end) return fail(a, s, "missing value (expected a number, symbol or '(')");
  if (*s == '(') {
    a->p++;
    if (parse_expr(a, v)) return -1;
    skip_ws(a);
    if (a->p >= a->end || *a->p != ')')
      return fail(a, a->p, "missing ')' (opened at column %d)", (int)(s - a->line) + 1);
    a->p++;
    return 0;
  }
  if (isdigit((unsigned char)*s)) return parse_number(a, v);
  size_t n = scan_ident(a);
  if (!n) return fail(a, s, "expected a number, symbol or '(', got '%.*s'", tok_len(a, s), s);
  if (n == 6 && memcmp(s, "sizeof", 6) == 0) {
    skip_ws(a);
    if (a->p >= a->end || *a->p != '(') return fail(a, a->p, "expected '(' after sizeof");
    a->p++;
    skip_ws(a);
    const char *ns = a->p;
    size_t nn = scan_ident(a);
    if (!nn) return fail(a, ns, "sizeof needs the name of a .data or .buffer block");
    skip_ws(a);
    if (a->p >= a->end || *a->p != ')')
      return fail(a, a->p, "missing ')' after sizeof(%.*s", (int)(nn > MAX_TOKEN ? MAX_TOKEN : nn), ns);
    a->p++;
    return sym_value(a, ns, ns, nn, 1, v);
  }
  return sym_value(a, s, s, n, 0, v);
}

static int parse_unary(asm_t *a, int64_t *v) {
  skip_ws(a);
  if (a->p < a->end && (*a->p == '-' || *a->p == '+')) {
    const char *s = a->p;
    int neg = *a->p == '-';
    a->p++;
    if (++a->depth > MAX_DEPTH) return fail(a, s, "expression too deeply nested");
    int rc = parse_unary(a, v);
    a->depth--;
    if (rc) return -1;
    if (neg) {
      if (*v == INT64_MIN) return fail(a, s, "arithmetic overflow in expression");
      *v = -*v;
    }
    return 0;
  }
  if (++a->depth > MAX_DEPTH) return fail(a, a->p, "expression too deeply nested");
  int rc = parse_primary(a, v);
  a->depth--;
  return rc;
}

static int parse_term(asm_t *a, int64_t *v) {
  if (parse_unary(a, v)) return -1;
  for (;;) {
    skip_ws(a);
    if (a->p >= a->end || *a->p != '*') return 0;
    const char *op = a->p++;
    int64_t r;
    if (parse_unary(a, &r)) return -1;
    if (__builtin_mul_overflow(*v, r, v)) return fail(a, op, "arithmetic overflow in expression");
  }
}

static int parse_expr(asm_t *a, int64_t *v) {
  if (parse_term(a, v)) return -1;
  for (;;) {
    skip_ws(a);
    if (a->p >= a->end || (*a->p != '+' && *a->p != '-')) return 0;
    const char *op = a->p++;
    int64_t r;
    if (parse_term(a, &r)) return -1;
    int o = *op == '+' ? __builtin_add_overflow(*v, r, v) : __builtin_sub_overflow(*v, r, v);
    if (o) return fail(a, op, "arithmetic overflow in expression");
  }
}

/* Layout expression in [lo, hi]: only symbols defined above. */
static int layout_expr(asm_t *a, int64_t lo, int64_t hi, const char *what, int64_t *v) {
  skip_ws(a);
  const char *s = a->p;
  a->layout = 1;
  int rc = parse_expr(a, v);
  a->layout = 0;
  if (rc) return -1;
  if (*v < lo || *v > hi)
    return fail(a, s, "%s %lld out of range [%lld, %lld]", what, (long long)*v, (long long)lo, (long long)hi);
  return 0;
}

/* Value expression in [lo, hi] (range checked in pass 2 only: pass 1 may not know forward symbols). */
static int value_expr(asm_t *a, int64_t lo, int64_t hi, const char *what, int64_t *v) {
  skip_ws(a);
  const char *s = a->p;
  if (parse_expr(a, v)) return -1;
  if (a->pass == 2 && (*v < lo || *v > hi))
    return fail(a, s, "%s %lld out of range [%lld, %lld]", what, (long long)*v, (long long)lo, (long long)hi);
  return 0;
}

/* A float token (strtof syntax) ending at whitespace, ',' or the end of the line. */
static int parse_float(asm_t *a, const char *what, float *out) {
  skip_ws(a);
  const char *s = a->p, *q = s;
  while (q < a->end && !is_ws(*q) && *q != ',') q++;
  size_t n = (size_t)(q - s);
  if (!n) return fail(a, s, "missing %s", what);
  char buf[MAX_TOKEN + 1];
  if (n > MAX_TOKEN) return fail(a, s, "bad number '%.*s...' (too long)", 16, s);
  memcpy(buf, s, n);
  buf[n] = 0;
  char *e;
  errno = 0;
  float f = strtof(buf, &e);
  if (e != buf + n || e == buf) return fail(a, s, "bad number '%s' (expected a float for %s)", buf, what);
  if (errno == ERANGE && isinf(f)) return fail(a, s, "float '%s' overflows binary32", buf);
  a->p = q;
  *out = f;
  return 0;
}

/* ---- names, keys, shapes --------------------------------------------------- */

/*
 * A name: an identifier, or a string "..." for any other name (any bytes but
 * NUL; escapes \" \\ \xHH). At most bufsize-1 bytes; empty only when
 * allow_empty. *quoted tells which form it was.
 */
static int parse_name(asm_t *a, char *buf, size_t bufsize, const char *what, int allow_empty, int *quoted) {
  skip_ws(a);
  const char *s = a->p;
  *quoted = s < a->end && *s == '"';
  if (!*quoted) return parse_word(a, buf, bufsize, what);
  size_t n = 0;
  const char *q = s + 1;
  for (;;) {
    if (q >= a->end) return fail(a, s, "unterminated string (the %s needs a closing '\"')", what);
    char c = *q;
    if (c == '"') break;
    if (c == '\\') {
      char e = q + 1 < a->end ? q[1] : 0;
      if (e == '"' || e == '\\') {
        c = e;
        q += 2;
      } else if (e == 'x' && q + 3 < a->end && digit_val(q[2]) >= 0 && digit_val(q[3]) >= 0) {
        c = (char)(digit_val(q[2]) << 4 | digit_val(q[3]));
        if (!c) return fail(a, q, "a %s cannot contain a NUL byte (\\x00)", what);
        q += 4;
      } else {
        return fail(a, q, "bad escape in string (escapes: \\\" \\\\ \\xHH with two hex digits)");
      }
    } else {
      q++;
    }
    if (n + 1 >= bufsize) return fail(a, s, "%s is too long (at most %zu bytes)", what, bufsize - 1);
    buf[n++] = c;
  }
  buf[n] = 0;
  a->p = q + 1;
  if (!n && !allow_empty) return fail(a, s, "empty %s", what);
  return 0;
}

/* The name of a tensor, region or layer: a string, or an identifier other than "sizeof". */
static int parse_item_name(asm_t *a, char *buf, size_t bufsize, const char *what) {
  skip_ws(a);
  const char *s = a->p;
  int quoted;
  if (parse_name(a, buf, bufsize, what, 0, &quoted)) return -1;
  if (!quoted && !pb_asm_name_ok(buf, bufsize, 0))
    return fail(a, s, "'%s' is reserved and cannot be a %s (write \"%s\" to use it)", buf, what, buf);
  return 0;
}

/*
 * `key=` with key one of keys[0..n): returns its index with the cursor after
 * '=', or -1. at[k] remembers where key k was; a repeated key is an error.
 */
static int parse_key(asm_t *a, const char *const *keys, unsigned n, const char **at, const char *what) {
  skip_ws(a);
  const char *s = a->p;
  char word[MAX_TOKEN + 1];
  if (parse_word(a, word, sizeof word, "attribute")) return -1;
  int k = -1;
  for (unsigned i = 0; i < n; i++)
    if (!strcmp(word, keys[i])) k = (int)i;
  if (k < 0) {
    char list[256];
    size_t len = 0;
    list[0] = 0;
    for (unsigned i = 0; i < n && len < sizeof list; i++) {
      int w = snprintf(list + len, sizeof list - len, "%s%s", i ? " " : "", keys[i]);
      if (w < 0) break;
      len += (size_t)w;
    }
    return fail(a, s, "unknown %s attribute '%s' (attributes: %s)", what, word, list);
  }
  if (at[k])
    return fail(a, s, "duplicate %s attribute '%s' (first at column %d)", what, word, (int)(at[k] - a->line) + 1);
  at[k] = s;
  skip_ws(a);
  if (a->p >= a->end || *a->p != '=') return fail(a, a->p, "missing '=' after '%s'", word);
  a->p++;
  skip_ws(a);
  return k;
}

/* D0xD1x..: 1 to 4 value expressions in [0, 2^32-1] separated by 'x'. */
static int parse_dims(asm_t *a, uint32_t dims[PB_MAX_RANK], uint8_t *rank) {
  for (;;) {
    skip_ws(a);
    const char *ds = a->p;
    if (*rank == PB_MAX_RANK) return fail(a, ds, "shape has more than %u dimensions", PB_MAX_RANK);
    a->shape = 1;
    int64_t v;
    int rc = value_expr(a, 0, UINT32_MAX, "shape dimension", &v);
    a->shape = 0;
    if (rc) return -1;
    dims[(*rank)++] = (uint32_t)v;
    skip_ws(a);
    if (a->p >= a->end || *a->p != 'x') return 0;
    a->p++;
  }
}

/* A 64-bit unsigned value: a literal up to 2^64-1 (the whole token), else an expression in [0, 2^63-1]. */
static int parse_u64(asm_t *a, const char *what, uint64_t *out) {
  skip_ws(a);
  const char *s = a->p, *q = s;
  unsigned base = 10;
  if (q + 1 < a->end && q[0] == '0' && (q[1] == 'x' || q[1] == 'X'))
    base = 16, q += 2;
  else if (q + 1 < a->end && q[0] == '0' && (q[1] == 'b' || q[1] == 'B'))
    base = 2, q += 2;
  uint64_t x = 0;
  int nd = 0, big = 0;
  for (; q < a->end; q++, nd++) {
    int d = digit_val(*q);
    if (d < 0 || (unsigned)d >= base) break;
    if (x > (UINT64_MAX - (unsigned)d) / base) big = 1;
    x = x * base + (unsigned)d;
  }
  if (nd && (q >= a->end || is_ws(*q))) { /* a plain literal */
    int n = (int)(q - s) > MAX_TOKEN ? MAX_TOKEN : (int)(q - s);
    if (big) return fail(a, s, "%s '%.*s' does not fit in 64 bits", what, n, s);
    a->p = q;
    *out = x;
    return 0;
  }
  int64_t v;
  if (value_expr(a, 0, INT64_MAX, what, &v)) return -1;
  *out = (uint64_t)v;
  return 0;
}

/* `io`, `act`, `scratch`, `const` or `code`. */
static int parse_region_kind(asm_t *a, uint32_t *kind) {
  skip_ws(a);
  const char *ks = a->p;
  char k[MAX_TOKEN + 1];
  if (parse_word(a, k, sizeof k, "region kind")) return -1;
  *kind = 0;
  for (unsigned c = 1; c <= PB_REG_SCRATCH; c++)
    if (!strcmp(k, pb_asm_region_kind_name(c))) *kind = c;
  if (!*kind) return fail(a, ks, "unknown region kind '%s' (kinds: io act scratch const code)", k);
  return 0;
}

/* ---- output --------------------------------------------------------------- */

static int hw_needed(asm_t *a, const char *at, const char *what) {
  if (a->have_hw) return 0;
  return fail(a, at, "%s before the .hw directive (.hw is required first)", what);
}

static int close_block(asm_t *a) {
  if (a->blk < 0) return 0;
  sym_t *s = &a->cur.v[a->blk];
  a->blk = -1;
  s->closed = 1;
  loc_t l = {s->line, s->col};
  if (!s->size) return fail_loc(a, l, ".data block '%s' is empty (a block needs at least one byte)", s->name);
  if (a->pass != 2) return 0;
  uint64_t lo = (uint64_t)s->value, hi = lo + (uint64_t)s->size;
  for (size_t i = 0; i < a->ndreg; i++)
    if (lo < (uint64_t)a->dreg[i].addr + a->dreg[i].size && a->dreg[i].addr < hi)
      return fail_loc(a, l, ".data block '%s' [0x%llx, 0x%llx) overlaps .data block '%s' (line %d)", s->name,
                      (unsigned long long)lo, (unsigned long long)hi, a->dreg[i].name, a->dloc[i].line);
  if (pb_program_add_data(a->prog, (uint32_t)s->value, a->bytes, (uint32_t)s->size)) return oom(a);
  if (note_loc(&a->dloc, &a->dloc_cap, a->ndreg, l)) return oom(a);
  if (grow((void **)&a->dreg, &a->dreg_cap, a->ndreg + 1, sizeof(pb_region_t))) return oom(a);
  pb_region_t *r = &a->dreg[a->ndreg++];
  memset(r, 0, sizeof *r);
  snprintf(r->name, sizeof r->name, "%s", s->name);
  r->kind = PB_REG_CONST;
  r->addr = (uint32_t)s->value;
  r->size = (uint32_t)s->size;
  return 0;
}

/* Append n bytes to the open block: src, or n copies of fill when src is NULL. */
static int emit(asm_t *a, const char *at, const void *src, size_t n, uint8_t fill) {
  sym_t *s = &a->cur.v[a->blk];
  if ((uint64_t)s->value + (uint64_t)s->size + n > a->hw.host_bytes)
    return fail(a, at, ".data block '%s' at 0x%llx grows beyond host memory (%u bytes)", s->name,
                (unsigned long long)s->value, a->hw.host_bytes);
  if (a->pass == 2) {
    if (grow((void **)&a->bytes, &a->bytes_cap, (size_t)s->size + n, 1)) return oom(a);
    if (src)
      memcpy(a->bytes + s->size, src, n);
    else
      memset(a->bytes + s->size, fill, n);
  }
  s->size += (int64_t)n;
  return 0;
}

static int emit_word(asm_t *a, const char *at, const pb_word_t *w) {
  if ((uint64_t)a->code_addr + (a->ninstr + 1) * (uint64_t)PB_INSTR_BYTES > a->hw.host_bytes)
    return fail(a, at, "code at 0x%x grows beyond host memory (%u bytes)", a->code_addr, a->hw.host_bytes);
  if (!a->ninstr && !a->have_code) a->code_loc = loc_of(a, at);
  if (a->pass == 2) {
    if (grow((void **)&a->code, &a->code_cap, (a->ninstr + 1) * PB_INSTR_BYTES, 1)) return oom(a);
    memcpy(a->code + a->ninstr * PB_INSTR_BYTES, w->bytes, PB_INSTR_BYTES);
  }
  a->ninstr++;
  return 0;
}

/* ---- directives ------------------------------------------------------------ */

static int d_hw(asm_t *a, const char *at) {
  /* rq_lanes is optional (0: one requantizer lane per column) */
  static const char *const keys[] = {"n", "sp_rows", "acc_rows", "host_bytes", "rq_lanes"};
  if (a->have_hw) return fail(a, at, "duplicate .hw (first at line %d)", a->hw_line);
  uint32_t val[5] = {0};
  int seen[5] = {0};
  while (!at_end(a)) {
    const char *ks = a->p;
    char key[MAX_TOKEN + 1];
    if (parse_word(a, key, sizeof key, ".hw parameter")) return -1;
    int k = -1;
    for (int i = 0; i < 5; i++)
      if (!strcmp(key, keys[i])) k = i;
    if (k < 0)
      return fail(a, ks, "unknown .hw parameter '%s' (parameters: n sp_rows acc_rows host_bytes [rq_lanes])", key);
    if (seen[k]) return fail(a, ks, "duplicate .hw parameter '%s'", key);
    skip_ws(a);
    if (a->p >= a->end || *a->p != '=') return fail(a, a->p, "missing '=' after '%s'", key);
    a->p++;
    int64_t v;
    if (layout_expr(a, 0, UINT32_MAX, key, &v)) return -1;
    seen[k] = 1;
    val[k] = (uint32_t)v;
    skip_comma(a);
  }
  for (int i = 0; i < 4; i++)
    if (!seen[i])
      return fail(a, at, ".hw: missing parameter '%s' (parameters: n sp_rows acc_rows host_bytes)", keys[i]);
  pb_hw_t hw = {val[0], val[1], val[2], val[3], val[4]};
  pb_error_t e;
  if (pb_hw_check(&hw, &e)) return fail(a, at, ".hw: %s", e.msg);
  a->hw = hw;
  a->have_hw = 1;
  a->hw_line = a->lineno;
  return 0;
}

static int d_equ(asm_t *a, const char *at) {
  (void)at;
  char name[PB_NAME_MAX];
  skip_ws(a);
  const char *ns = a->p;
  if (parse_word(a, name, sizeof name, "symbol name")) return -1;
  if (!strcmp(name, "sizeof")) return fail(a, ns, "'sizeof' is reserved");
  skip_comma(a);
  int64_t v;
  if (layout_expr(a, INT64_MIN, INT64_MAX, ".equ value", &v) || expect_end(a, ".equ")) return -1;
  return sym_define(a, ns, name, SYM_EQU, v, 0) < 0 ? -1 : 0;
}

static int d_code(asm_t *a, const char *at) {
  if (a->have_code) return fail(a, at, "duplicate .code (first at line %d)", a->code_line);
  if (a->ninstr) return fail(a, at, ".code must come before the first instruction");
  int64_t v;
  if (layout_expr(a, 0, UINT32_MAX, ".code address", &v) || expect_end(a, ".code")) return -1;
  a->have_code = 1;
  a->code_line = a->lineno;
  a->code_loc = loc_of(a, at);
  a->code_addr = (uint32_t)v;
  return 0;
}

static int block_name(asm_t *a, char *name, const char *what) {
  skip_ws(a);
  const char *ns = a->p;
  if (parse_word(a, name, PB_NAME_MAX, what)) return -1;
  if (!pb_asm_name_ok(name, PB_NAME_MAX, 1)) return fail(a, ns, "'%s' is reserved and cannot name a block", name);
  return 0;
}

static int d_data(asm_t *a, const char *at) {
  (void)at;
  char name[PB_NAME_MAX];
  const char *ns = (skip_ws(a), a->p);
  int64_t addr;
  if (block_name(a, name, ".data block name")) return -1;
  skip_comma(a);
  if (layout_expr(a, 0, UINT32_MAX, ".data address", &addr) || expect_end(a, ".data")) return -1;
  long i = sym_define(a, ns, name, SYM_DATA, addr, 0);
  if (i < 0) return -1;
  a->blk = i;
  return 0;
}

static int d_buffer(asm_t *a, const char *at) {
  (void)at;
  char name[PB_NAME_MAX];
  const char *ns = (skip_ws(a), a->p);
  int64_t addr, size;
  if (block_name(a, name, ".buffer name")) return -1;
  skip_comma(a);
  if (layout_expr(a, 0, UINT32_MAX, ".buffer address", &addr)) return -1;
  skip_comma(a);
  if (layout_expr(a, 0, UINT32_MAX, ".buffer size", &size)) return -1;
  skip_comma(a);
  uint32_t kind = PB_REG_ACT;
  if (!at_end(a) && (parse_region_kind(a, &kind) || expect_end(a, ".buffer"))) return -1;
  if ((uint64_t)addr + (uint64_t)size > a->hw.host_bytes)
    return fail(a, ns, ".buffer '%s' [0x%llx, 0x%llx) ends beyond host memory (%u bytes)", name,
                (unsigned long long)addr, (unsigned long long)(addr + size), a->hw.host_bytes);
  if (sym_define(a, ns, name, SYM_BUFFER, addr, size) < 0) return -1;
  if (a->pass != 2) return 0;
  if (note_loc(&a->bloc, &a->bloc_cap, a->nbreg, loc_of(a, ns))) return oom(a);
  if (grow((void **)&a->breg, &a->breg_cap, a->nbreg + 1, sizeof(pb_region_t))) return oom(a);
  pb_region_t *r = &a->breg[a->nbreg++];
  memset(r, 0, sizeof *r);
  snprintf(r->name, sizeof r->name, "%s", name);
  r->kind = kind;
  r->addr = (uint32_t)addr;
  r->size = (uint32_t)size;
  return 0;
}

/* .i8/.u8 (bytes), .i32 and .f32bits (4 bytes): comma-separated value expressions. */
static int data_ints(asm_t *a, const char *dir, unsigned width) {
  int64_t lo = width == 1 ? -128 : INT32_MIN, hi = width == 1 ? 255 : UINT32_MAX;
  for (;;) {
    skip_ws(a);
    const char *s = a->p;
    int64_t v;
    if (value_expr(a, lo, hi, dir, &v)) return -1;
    uint8_t b[4];
    for (unsigned i = 0; i < width; i++) b[i] = (uint8_t)((uint64_t)v >> (8 * i));
    if (emit(a, s, b, width, 0)) return -1;
    if (at_end(a)) return 0;
    if (*a->p != ',') return fail(a, a->p, "expected ',' between %s values, got '%.*s'", dir, tok_len(a, a->p), a->p);
    a->p++;
  }
}

static int d_i8(asm_t *a, const char *at) {
  (void)at;
  return data_ints(a, ".i8", 1);
}
static int d_i32(asm_t *a, const char *at) {
  (void)at;
  return data_ints(a, ".i32", 4);
}
static int d_f32bits(asm_t *a, const char *at) {
  (void)at;
  return data_ints(a, ".f32bits", 4);
}

static int d_f32(asm_t *a, const char *at) {
  (void)at;
  for (;;) {
    skip_ws(a);
    const char *s = a->p;
    float f;
    if (parse_float(a, ".f32 value", &f)) return -1;
    uint32_t u;
    memcpy(&u, &f, 4);
    uint8_t b[4] = {(uint8_t)u, (uint8_t)(u >> 8), (uint8_t)(u >> 16), (uint8_t)(u >> 24)};
    if (emit(a, s, b, 4, 0)) return -1;
    if (at_end(a)) return 0;
    if (*a->p != ',') return fail(a, a->p, "expected ',' between .f32 values, got '%.*s'", tok_len(a, a->p), a->p);
    a->p++;
  }
}

static int d_zero(asm_t *a, const char *at) {
  (void)at;
  int64_t n;
  skip_ws(a);
  const char *s = a->p;
  if (layout_expr(a, 0, UINT32_MAX, ".zero count", &n) || expect_end(a, ".zero")) return -1;
  return emit(a, s, NULL, (size_t)n, 0);
}

static int d_fill(asm_t *a, const char *at) {
  (void)at;
  int64_t n, v;
  skip_ws(a);
  const char *s = a->p;
  if (layout_expr(a, 0, UINT32_MAX, ".fill count", &n)) return -1;
  skip_ws(a);
  if (a->p >= a->end || *a->p != ',') return fail(a, a->p, "expected ',' after the .fill count");
  a->p++;
  if (value_expr(a, -128, 255, ".fill value", &v) || expect_end(a, ".fill")) return -1;
  return emit(a, s, NULL, (size_t)n, (uint8_t)v);
}

static int d_word(asm_t *a, const char *at) {
  skip_ws(a);
  const char *s = a->p, *q = s;
  if (!(q + 1 < a->end && q[0] == '0' && (q[1] == 'x' || q[1] == 'X')))
    return fail(a, s, ".word needs one 128-bit word as 0x followed by 32 hex digits");
  q += 2;
  char hex[2 * PB_INSTR_BYTES];
  size_t nd = 0;
  for (; q < a->end && (digit_val(*q) >= 0 || *q == '_'); q++) {
    if (*q == '_') continue;
    if (nd < sizeof hex) hex[nd] = *q;
    nd++;
  }
  if (q < a->end && !is_ws(*q)) return fail(a, q, "bad hex digit '%c' in .word", *q);
  if (nd != sizeof hex)
    return fail(a, s, ".word needs exactly 32 hex digits (one 128-bit instruction word), got %zu", nd);
  a->p = q;
  if (expect_end(a, ".word")) return -1;
  pb_word_t w;
  for (unsigned i = 0; i < PB_INSTR_BYTES; i++) /* the last two digits are byte 0 */
    w.bytes[i] = (uint8_t)(digit_val(hex[sizeof hex - 2 - 2 * i]) << 4 | digit_val(hex[sizeof hex - 1 - 2 * i]));
  return emit_word(a, at, &w);
}

/* ---- .tensor --------------------------------------------------------------- */

static int d_tensor(asm_t *a, const char *at) {
  (void)at;
  static const char *const keys = "addr dtype shape strides scale zp float batch";
  pb_tensor_t t;
  memset(&t, 0, sizeof t);
  t.scale = 1.0f;
  char word[MAX_TOKEN + 1];
  skip_ws(a);
  const char *ks = a->p;
  if (parse_word(a, word, sizeof word, "tensor kind (input, output or internal)")) return -1;
  if (!strcmp(word, "input"))
    t.kind = PB_TENSOR_INPUT;
  else if (!strcmp(word, "output"))
    t.kind = PB_TENSOR_OUTPUT;
  else if (!strcmp(word, "internal"))
    t.kind = PB_TENSOR_INTERNAL;
  else
    return fail(a, ks, "unknown tensor kind '%s' (expected input, output or internal)", word);
  skip_ws(a);
  const char *ns = a->p;
  if (parse_item_name(a, t.name, sizeof t.name, "tensor name")) return -1;
  if (a->pass == 1) { /* for .step's references by name, forward ones included */
    if (grow((void **)&a->tn, &a->tn_cap, a->ntn + 1, sizeof(tname_t))) return oom(a);
    memcpy(a->tn[a->ntn].name, t.name, PB_NAME_MAX);
    a->tn[a->ntn++].kind = t.kind;
  }

  int seen_addr = 0, seen_dtype = 0, seen_shape = 0, seen_strides = 0, seen_scale = 0, seen_zp = 0, seen_float = 0,
      seen_batch = 0;
  int64_t strides[PB_MAX_RANK];
  unsigned nstrides = 0;
  const char *strides_at = NULL;
  while (!at_end(a)) {
    const char *s = a->p;
    if (parse_word(a, word, sizeof word, "tensor attribute")) return -1;
    int *seen = !strcmp(word, "addr")      ? &seen_addr
                : !strcmp(word, "dtype")   ? &seen_dtype
                : !strcmp(word, "shape")   ? &seen_shape
                : !strcmp(word, "strides") ? &seen_strides
                : !strcmp(word, "scale")   ? &seen_scale
                : !strcmp(word, "zp")      ? &seen_zp
                : !strcmp(word, "float")   ? &seen_float
                : !strcmp(word, "batch")   ? &seen_batch
                                           : NULL;
    if (!seen) return fail(a, s, "unknown tensor attribute '%s' (attributes: %s)", word, keys);
    if (*seen) return fail(a, s, "duplicate tensor attribute '%s'", word);
    *seen = 1;
    if (seen == &seen_float || seen == &seen_batch) {
      t.flags |= seen == &seen_float ? PB_TF_FLOAT_IO : PB_TF_BATCH;
      continue;
    }
    skip_ws(a);
    if (a->p >= a->end || *a->p != '=') return fail(a, a->p, "missing '=' after '%s'", word);
    a->p++;
    int64_t v;
    if (seen == &seen_addr) {
      if (value_expr(a, 0, UINT32_MAX, "tensor addr", &v)) return -1;
      t.host_addr = (uint32_t)v;
    } else if (seen == &seen_dtype) {
      skip_ws(a);
      const char *ds = a->p;
      if (parse_word(a, word, sizeof word, "dtype")) return -1;
      for (unsigned d = PB_DT_INT8; d <= PB_DT_INT64; d++)
        if (!strcmp(word, pb_asm_dtype_name(d))) t.dtype = (uint8_t)d;
      if (!t.dtype) return fail(a, ds, "unknown dtype '%s' (dtypes: i8 u8 i32 f32 i64)", word);
    } else if (seen == &seen_shape) {
      if (parse_dims(a, t.dims, &t.rank)) return -1;
    } else if (seen == &seen_strides) {
      strides_at = a->p;
      for (;;) {
        skip_ws(a);
        if (nstrides == PB_MAX_RANK) return fail(a, a->p, "more than %u strides", PB_MAX_RANK);
        if (value_expr(a, 0, UINT32_MAX, "stride", &strides[nstrides])) return -1;
        nstrides++;
        skip_ws(a);
        if (a->p >= a->end || *a->p != ',') break;
        a->p++;
      }
    } else if (seen == &seen_scale) {
      if (parse_float(a, "scale", &t.scale)) return -1;
    } else {
      if (value_expr(a, INT32_MIN, INT32_MAX, "zp", &v)) return -1;
      t.zero_point = (int32_t)v;
    }
  }
  if (!seen_addr || !seen_dtype || !seen_shape)
    return fail(a, ns, "tensor '%s': missing attribute '%s' (addr, dtype and shape are required)", t.name,
                !seen_addr    ? "addr"
                : !seen_dtype ? "dtype"
                              : "shape");
  if (seen_strides) {
    if (nstrides != t.rank)
      return fail(a, strides_at, "tensor '%s': %u strides for a rank-%u shape", t.name, nstrides, (unsigned)t.rank);
    for (unsigned d = 0; d < t.rank; d++) t.strides[d] = (uint32_t)strides[d];
  } else { /* dense row-major */
    uint64_t st = pb_dtype_size(t.dtype);
    for (unsigned d = t.rank; d-- > 0;) {
      if (st > UINT32_MAX) return fail(a, ns, "tensor '%s': default strides overflow 32 bits", t.name);
      t.strides[d] = (uint32_t)st;
      st *= t.dims[d];
    }
  }
  if (a->pass != 2) return 0;
  for (uint32_t i = 0; i < a->prog->n_tensors; i++)
    if (!strcmp(a->prog->tensors[i].name, t.name)) return fail(a, ns, "duplicate tensor name '%s'", t.name);
  if (note_loc(&a->tloc, &a->tloc_cap, a->prog->n_tensors, loc_of(a, ns))) return oom(a);
  if (pb_program_add_tensor(a->prog, &t)) return oom(a);
  return 0;
}

/* ---- .memplan and .region ----------------------------------------------------- */

static int d_memplan(asm_t *a, const char *at) {
  if (a->memplan_line) return fail(a, at, "duplicate .memplan (first at line %d)", a->memplan_line);
  if (expect_end(a, ".memplan")) return -1;
  a->memplan_line = a->lineno;
  return 0;
}

static int d_region(asm_t *a, const char *at) {
  if (a->pass == 2 && !a->pre_memplan)
    return fail(a, at,
                ".region needs .memplan in the file (then the memory plan is exactly the .region lines; without "
                "it .code, .data and .buffer make it)");
  pb_region_t r;
  memset(&r, 0, sizeof r);
  skip_ws(a);
  const char *ns = a->p;
  int64_t addr, size;
  if (parse_item_name(a, r.name, sizeof r.name, "region name")) return -1;
  skip_comma(a);
  if (value_expr(a, 0, UINT32_MAX, ".region address", &addr)) return -1;
  skip_comma(a);
  if (value_expr(a, 0, UINT32_MAX, ".region size", &size)) return -1;
  skip_comma(a);
  r.kind = PB_REG_ACT;
  if (!at_end(a) && (parse_region_kind(a, &r.kind) || expect_end(a, ".region"))) return -1;
  if (a->pass != 2) return 0;
  if ((uint64_t)addr + (uint64_t)size > a->hw.host_bytes)
    return fail(a, ns, ".region '%s' [0x%llx, 0x%llx) ends beyond host memory (%u bytes)", r.name,
                (unsigned long long)addr, (unsigned long long)(addr + size), a->hw.host_bytes);
  r.addr = (uint32_t)addr;
  r.size = (uint32_t)size;
  if (note_loc(&a->rloc, &a->rloc_cap, a->nxreg, loc_of(a, ns))) return oom(a);
  if (grow((void **)&a->xreg, &a->xreg_cap, a->nxreg + 1, sizeof(pb_region_t))) return oom(a);
  a->xreg[a->nxreg++] = r;
  return 0;
}

/* ---- .step ----------------------------------------------------------------------- */

static const struct {
  const char *name;
  unsigned code, n_in, n_out;
} host_ops[] = {
#define PB_X(name, code, ni, no, text) {#name, code, ni, no},
    PB_HOST_OPS(PB_X)
#undef PB_X
};
#define N_HOST_OPS (sizeof host_ops / sizeof host_ops[0])

/*
 * A tensor of the file by name (identifier or string; forward references
 * allowed) or by index (a number). An output may not be an input tensor.
 */
static int parse_tensor_ref(asm_t *a, uint16_t *idx, int is_output) {
  skip_ws(a);
  const char *s = a->p;
  *idx = 0;
  if (s < a->end && isdigit((unsigned char)*s)) {
    int64_t v;
    if (parse_number(a, &v)) return -1;
    if (a->pass != 2) return 0;
    if ((uint64_t)v >= a->ntn || v > UINT16_MAX)
      return fail(a, s, "tensor index %lld out of range (the file has %zu tensors; a step can name 0..65535)",
                  (long long)v, a->ntn);
    *idx = (uint16_t)v;
  } else {
    char name[PB_NAME_MAX];
    int quoted;
    if (parse_name(a, name, sizeof name, "tensor name", 0, &quoted)) return -1;
    if (a->pass != 2) return 0;
    size_t i = 0;
    while (i < a->ntn && strcmp(a->tn[i].name, name)) i++;
    if (i == a->ntn) return fail(a, s, "no tensor named '%s' (a .tensor must define it)", name);
    if (i > UINT16_MAX) return fail(a, s, "tensor '%s' is number %zu; a step can name only tensors 0..65535", name, i);
    *idx = (uint16_t)i;
  }
  if (is_output && a->tn[*idx].kind == PB_TENSOR_INPUT)
    return fail(a, s, "tensor '%s' is an input; a host step may not write it", a->tn[*idx].name);
  return 0;
}

/* in=T,T,.. or out=T,..: at most max references. */
static int parse_tensor_list(asm_t *a, uint16_t *v, unsigned max, unsigned *n, int is_output) {
  for (;;) {
    skip_ws(a);
    if (*n == max) return fail(a, a->p, "more than %u %s (the most a step has)", max, is_output ? "outputs" : "inputs");
    if (parse_tensor_ref(a, &v[*n], is_output)) return -1;
    ++*n;
    skip_ws(a);
    if (a->p >= a->end || *a->p != ',') return 0;
    a->p++;
  }
}

static int step_accel(asm_t *a, pb_step_t *st, const char *ks) {
  static const char *const keys[] = {"pc", "len"};
  const char *kat[2] = {0}, *vat[2] = {0};
  int64_t v[2] = {0, 0};
  while (!at_end(a)) {
    int k = parse_key(a, keys, 2, kat, "accel step");
    if (k < 0) return -1;
    vat[k] = a->p;
    if (value_expr(a, 0, UINT32_MAX, keys[k], &v[k])) return -1;
  }
  for (int k = 0; k < 2; k++)
    if (!kat[k]) return fail(a, ks, "accel step: missing attribute '%s' (pc and len are required)", keys[k]);
  st->kind = PB_STEP_ACCEL;
  st->pc = (uint32_t)v[0];
  st->len = (uint32_t)v[1];
  if (a->pass != 2) return 0;
  if (!st->len) return fail(a, vat[1], "accel step: len 0, an accelerator step runs at least one instruction");
  if ((uint64_t)st->pc + st->len > a->pre_ninstr)
    return fail(a, vat[st->pc < a->pre_ninstr],
                "accel step: instructions [%u, %llu) run past the code (%zu instructions)", st->pc,
                (unsigned long long)st->pc + st->len, a->pre_ninstr);
  return 0;
}

static int step_host(asm_t *a, pb_step_t *st, const char *ks) {
  static const char *const keys[] = {"op", "in", "out", "param"};
  const char *kat[4] = {0}, *vat[4] = {0};
  unsigned nin = 0, nout = 0, nparam = 0, op = 0;
  while (!at_end(a)) {
    int k = parse_key(a, keys, 4, kat, "host step");
    if (k < 0) return -1;
    vat[k] = a->p;
    if (k == 0) {
      char name[MAX_TOKEN + 1];
      if (parse_word(a, name, sizeof name, "host operator")) return -1;
      for (size_t i = 0; i < N_HOST_OPS && !op; i++) {
        size_t j = 0;
        while (name[j] && toupper((unsigned char)name[j]) == host_ops[i].name[j]) j++;
        if (!name[j] && !host_ops[i].name[j]) op = host_ops[i].code;
      }
      if (!op) {
        char list[256];
        size_t len = 0;
        for (size_t i = 0; i < N_HOST_OPS && len < sizeof list; i++) {
          int w = snprintf(list + len, sizeof list - len, "%s%s", i ? " " : "", host_ops[i].name);
          if (w < 0) break;
          len += (size_t)w;
        }
        return fail(a, vat[0], "unknown host operator '%s' (operators: %s)", name, list);
      }
    } else if (k == 1) {
      if (parse_tensor_list(a, st->in, PB_STEP_MAX_IN, &nin, 0)) return -1;
    } else if (k == 2) {
      if (parse_tensor_list(a, st->out, PB_STEP_MAX_OUT, &nout, 1)) return -1;
    } else {
      for (;;) {
        skip_ws(a);
        if (nparam == PB_STEP_PARAMS) return fail(a, a->p, "more than %u parameters", PB_STEP_PARAMS);
        int64_t v;
        if (value_expr(a, INT32_MIN, INT32_MAX, "param", &v)) return -1;
        st->param[nparam++] = (int32_t)v;
        skip_ws(a);
        if (a->p >= a->end || *a->p != ',') break;
        a->p++;
      }
    }
  }
  for (int k = 0; k < 3; k++)
    if (!kat[k]) return fail(a, ks, "host step: missing attribute '%s' (op, in and out are required)", keys[k]);
  unsigned ni = 0, no = 0;
  pb_host_op_arity(op, &ni, &no);
  if (nin != ni)
    return fail(a, vat[1], "%s takes %u input%s, got %u", pb_host_op_name(op), ni, ni == 1 ? "" : "s", nin);
  if (nout != no)
    return fail(a, vat[2], "%s takes %u output%s, got %u", pb_host_op_name(op), no, no == 1 ? "" : "s", nout);
  st->kind = PB_STEP_HOST;
  st->op = (uint8_t)op;
  st->n_in = (uint8_t)nin;
  st->n_out = (uint8_t)nout;
  return 0;
}

static int d_step(asm_t *a, const char *at) {
  a->nsteps++;
  pb_step_t st;
  memset(&st, 0, sizeof st);
  char word[MAX_TOKEN + 1];
  skip_ws(a);
  const char *ks = a->p;
  if (parse_word(a, word, sizeof word, "step kind (accel or host)")) return -1;
  int rc;
  if (!strcmp(word, "accel"))
    rc = step_accel(a, &st, ks);
  else if (!strcmp(word, "host"))
    rc = step_host(a, &st, ks);
  else
    return fail(a, ks, "unknown step kind '%s' (expected accel or host)", word);
  if (rc || a->pass != 2) return rc;
  if (note_loc(&a->sloc, &a->sloc_cap, a->prog->n_steps, loc_of(a, at))) return oom(a);
  if (pb_program_add_step(a->prog, &st)) return oom(a);
  return 0;
}

/* ---- .layer ---------------------------------------------------------------------- */

enum { LK_OP, LK_WHERE, LK_STEP, LK_PC, LK_LEN, LK_IN, LK_OUT, LK_MACS, LK_CYCLES, LK_ARRAY_ROWS, LK_WEIGHT_BYTES,
       LK_OUT_BYTES, LK_SP_ROWS, LK_ACC_ROWS, LK_N };

static int d_layer(asm_t *a, const char *at) {
  (void)at;
  static const char *const keys[LK_N] = {"op",         "where",        "step",      "pc",      "len",
                                         "in",         "out",          "macs",      "cycles",  "array_rows",
                                         "weight_bytes", "out_bytes", "sp_rows", "acc_rows"};
  pb_layer_t l;
  memset(&l, 0, sizeof l);
  skip_ws(a);
  const char *ns = a->p;
  if (parse_item_name(a, l.name, sizeof l.name, "layer name")) return -1;
  const char *kat[LK_N] = {0}, *vat[LK_N] = {0};
  while (!at_end(a)) {
    int k = parse_key(a, keys, LK_N, kat, "layer");
    if (k < 0) return -1;
    vat[k] = a->p;
    int64_t v = 0;
    int quoted;
    switch (k) {
    case LK_OP:
      if (parse_name(a, l.op, sizeof l.op, "layer op", 1, &quoted)) return -1;
      break;
    case LK_WHERE: {
      char w[MAX_TOKEN + 1];
      if (parse_word(a, w, sizeof w, "where (accel or host)")) return -1;
      if (!strcmp(w, "accel"))
        l.where = PB_WHERE_ACCEL;
      else if (!strcmp(w, "host"))
        l.where = PB_WHERE_HOST;
      else
        return fail(a, vat[k], "unknown where '%s' (expected accel or host)", w);
      break;
    }
    case LK_IN:
      if (parse_dims(a, l.in_dims, &l.in_rank)) return -1;
      break;
    case LK_OUT:
      if (parse_dims(a, l.out_dims, &l.out_rank)) return -1;
      break;
    case LK_MACS:
      if (parse_u64(a, "macs", &l.macs)) return -1;
      break;
    case LK_CYCLES:
      if (parse_u64(a, "cycles", &l.cycles)) return -1;
      break;
    case LK_ARRAY_ROWS:
      if (parse_u64(a, "array_rows", &l.array_rows)) return -1;
      break;
    default: { /* 32-bit fields */
      if (value_expr(a, 0, UINT32_MAX, keys[k], &v)) return -1;
      uint32_t *f = k == LK_STEP           ? &l.step
                    : k == LK_PC           ? &l.pc
                    : k == LK_LEN          ? &l.len
                    : k == LK_WEIGHT_BYTES ? &l.weight_bytes
                    : k == LK_OUT_BYTES    ? &l.out_bytes
                    : k == LK_SP_ROWS      ? &l.sp_rows
                                           : &l.acc_rows;
      *f = (uint32_t)v;
    }
    }
  }
  if (!kat[LK_OP] || !kat[LK_WHERE])
    return fail(a, ns, "layer '%s': missing attribute '%s' (op and where are required)", l.name,
                !kat[LK_OP] ? "op" : "where");
  if (a->pass != 2) return 0;
  size_t nsteps = a->pre_nsteps ? a->pre_nsteps : 1;
  if (l.step >= nsteps)
    return fail(a, vat[LK_STEP], "layer '%s': step %u, but the steps are 0..%zu%s", l.name, l.step, nsteps - 1,
                a->pre_nsteps ? "" : " (a file without .step is one step)");
  if ((uint64_t)l.pc + l.len > a->pre_ninstr)
    return fail(a, vat[l.pc < a->pre_ninstr || !kat[LK_PC] ? LK_LEN : LK_PC],
                "layer '%s': instructions [%u, %llu) run past the code (%zu instructions)", l.name, l.pc,
                (unsigned long long)l.pc + l.len, a->pre_ninstr);
  if (note_loc(&a->lloc, &a->lloc_cap, a->prog->n_layers, loc_of(a, ns))) return oom(a);
  if (pb_program_add_layer(a->prog, &l)) return oom(a);
  return 0;
}

/* ---- instructions ------------------------------------------------------------ */

static void list_fields(const pb_instr_info_t *ii, char *buf, size_t len) {
  size_t n = 0;
  buf[0] = 0;
  for (unsigned i = 0; i < ii->nfields && n < len; i++) {
    int k = snprintf(buf + n, len - n, "%s%s", i ? " " : "", ii->fields[i]->name);
    if (k < 0) break;
    n += (size_t)k;
  }
  if (!ii->nfields) snprintf(buf, len, "none");
}

static int instruction(asm_t *a, const char *ms, size_t mlen) {
  char mn[MAX_TOKEN + 1];
  if (mlen > MAX_TOKEN) return fail(a, ms, "unknown mnemonic '%.*s...'", 16, ms);
  memcpy(mn, ms, mlen);
  mn[mlen] = 0;
  const pb_instr_info_t *ii = pb_isa_by_name(mn);
  if (!ii) return fail(a, ms, "unknown mnemonic '%s'", mn);
  if (hw_needed(a, ms, "instruction")) return -1;
  char fields[256];
  list_fields(ii, fields, sizeof fields);
  pb_instr_t in;
  memset(&in, 0, sizeof in);
  in.op = ii->op;
  const char *at[8] = {0};
  while (!at_end(a)) {
    const char *s = a->p;
    char name[MAX_TOKEN + 1];
    size_t n = scan_ident(a);
    if (!n) return fail(a, s, "expected field=value, got '%.*s'", tok_len(a, s), s);
    if (n > MAX_TOKEN) return fail(a, s, "unknown field '%.*s...' for %s (fields: %s)", 16, s, ii->name, fields);
    memcpy(name, s, n);
    name[n] = 0;
    int k = pb_isa_field_index(ii, name);
    if (k < 0) return fail(a, s, "unknown field '%s' for %s (fields: %s)", name, ii->name, fields);
    if (at[k]) return fail(a, s, "duplicate field '%s' (first at column %d)", name, (int)(at[k] - a->line) + 1);
    at[k] = s;
    skip_ws(a);
    if (a->p >= a->end || *a->p != '=') return fail(a, a->p, "missing '=' after field '%s'", name);
    a->p++;
    if (value_expr(a, INT64_MIN, INT64_MAX, name, &in.f[k])) return -1;
    skip_comma(a);
  }
  for (unsigned k = 0; k < ii->nfields; k++)
    if (!at[k]) return fail(a, ms, "%s: missing field '%s' (fields: %s)", ii->name, ii->fields[k]->name, fields);
  pb_word_t w;
  char msg[200];
  if (pb_encode(&in, &w, msg, sizeof msg)) {
    if (a->pass != 2) {
      memset(&w, 0, sizeof w); /* forward symbols read as 0 in pass 1: only the count matters */
    } else {
      const char *where = ms;
      for (unsigned k = 0; k < ii->nfields; k++)
        if (in.f[k] < pb_field_min(ii->fields[k]) || in.f[k] > pb_field_max(ii->fields[k])) {
          where = at[k];
          break;
        }
      return fail(a, where, "%s", msg);
    }
  }
  return emit_word(a, ms, &w);
}

/* ---- lines and passes -------------------------------------------------------- */

enum { F_HW = 1, F_DATA = 2, F_CODE = 4 };

static const struct {
  const char *name;
  int (*fn)(asm_t *, const char *);
  unsigned flags;
} directives[] = {
    {".hw", d_hw, 0},
    {".equ", d_equ, 0},
    {".code", d_code, F_HW},
    {".data", d_data, F_HW},
    {".buffer", d_buffer, F_HW},
    {".tensor", d_tensor, F_HW},
    {".memplan", d_memplan, F_HW},
    {".region", d_region, F_HW},
    {".step", d_step, F_HW},
    {".layer", d_layer, F_HW},
    {".word", d_word, F_HW | F_CODE},
    {".i8", d_i8, F_DATA},
    {".u8", d_i8, F_DATA},
    {".i32", d_i32, F_DATA},
    {".f32", d_f32, F_DATA},
    {".f32bits", d_f32bits, F_DATA},
    {".zero", d_zero, F_DATA},
    {".fill", d_fill, F_DATA},
};

static int directive(asm_t *a) {
  const char *s = a->p;
  a->p++;
  while (a->p < a->end && is_ident_char(*a->p)) a->p++;
  size_t n = (size_t)(a->p - s);
  for (size_t i = 0; i < sizeof directives / sizeof directives[0]; i++) {
    const char *d = directives[i].name;
    if (strlen(d) != n) continue;
    size_t j = 0;
    while (j < n && tolower((unsigned char)s[j]) == d[j]) j++;
    if (j < n) continue;
    unsigned fl = directives[i].flags;
    if (fl & F_DATA) {
      if (a->blk < 0) return fail(a, s, "'%s' outside a .data block (data must follow a .data directive)", d);
    } else if (close_block(a)) {
      return -1;
    }
    if ((fl & F_HW) && hw_needed(a, s, d)) return -1;
    return directives[i].fn(a, s);
  }
  int k = n > MAX_TOKEN ? MAX_TOKEN : (int)n;
  return fail(a, s, "unknown directive '%.*s'", k, s);
}

static int line(asm_t *a) {
  skip_ws(a);
  if (a->p >= a->end) return 0;
  const char *s = a->p;
  if (*s == '.') return directive(a);
  size_t n = scan_ident(a);
  if (!n) {
    if (isprint((unsigned char)*s))
      return fail(a, s, "unexpected character '%c' (expected a directive or an instruction)", *s);
    return fail(a, s, "unexpected byte 0x%02x (expected a directive or an instruction)", (unsigned char)*s);
  }
  if (close_block(a)) return -1;
  return instruction(a, s, n);
}

static int run_pass(asm_t *a) {
  const char *s = a->src;
  a->lineno = 0;
  for (;;) {
    a->lineno++;
    const char *eol = s;
    while (*eol && *eol != '\n') eol++;
    const char *end = s;
    while (end < eol && *end != ';' && *end != '#') {
      if (*end++ != '"') continue;
      while (end < eol && *end != '"') end += *end == '\\' && end + 1 < eol ? 2 : 1; /* a string may hold ; and # */
      if (end < eol) end++;
    }
    a->line = a->p = s;
    a->end = end;
    a->depth = 0;
    a->layout = a->shape = 0;
    if (line(a)) {
      if (a->pass == 2) return -1;
      a->failed = 0; /* pass 1 carries on: pass 2 reports */
    }
    if (!*eol) break;
    s = eol + 1;
  }
  a->p = a->end; /* end-of-file errors point past the last line */
  if (close_block(a)) return -1;
  if (!a->have_hw) return fail(a, a->line, "missing .hw directive (required, before any instruction or data)");
  if (!a->ninstr) return fail(a, a->line, "no instructions (a program needs at least one)");
  return 0;
}

static void free_state(asm_t *a) {
  free(a->cur.v);
  free(a->pre.v);
  free(a->code);
  free(a->bytes);
  free(a->dreg);
  free(a->breg);
  free(a->dloc);
  free(a->bloc);
  free(a->tloc);
  free(a->xreg);
  free(a->rloc);
  free(a->sloc);
  free(a->lloc);
  free(a->tn);
}

static void reset_pass(asm_t *a, int pass) {
  a->pass = pass;
  a->failed = 0;
  a->have_hw = a->have_code = 0;
  a->hw_line = a->code_line = 0;
  memset(&a->hw, 0, sizeof a->hw);
  a->code_addr = 0;
  a->ninstr = 0;
  a->blk = -1;
  a->memplan_line = 0;
  a->nsteps = 0;
}

static int finish(asm_t *a) {
  pb_program_t *p = a->prog;
  p->hw = a->hw;
  p->code_addr = a->code_addr;
  p->code_len = (uint32_t)a->ninstr;
  p->code = a->code;
  a->code = NULL;
  if (a->pre_memplan) { /* exactly the .region lines */
    for (size_t i = 0; i < a->nxreg; i++)
      if (pb_program_add_region(p, &a->xreg[i])) return oom(a);
  } else { /* code, then one per .data block, then one per .buffer */
    pb_region_t code;
    memset(&code, 0, sizeof code);
    snprintf(code.name, sizeof code.name, "code");
    code.kind = PB_REG_CODE;
    code.addr = a->code_addr;
    code.size = (uint32_t)(a->ninstr * PB_INSTR_BYTES);
    if (pb_program_add_region(p, &code)) return oom(a);
    for (size_t i = 0; i < a->ndreg; i++)
      if (pb_program_add_region(p, &a->dreg[i])) return oom(a);
    for (size_t i = 0; i < a->nbreg; i++)
      if (pb_program_add_region(p, &a->breg[i])) return oom(a);
  }
  pb_error_t e;
  if (!pb_program_check(p, &e)) return 0;
  /* point at the line that defined the item the message names, else line 0 */
  loc_t l = {0, 0};
  unsigned long i = 0;
  const char *m = e.msg;
  if (!strncmp(m, "pbin: ", 6)) m += 6;
  if (!strncmp(m, "data[", 5) && (i = strtoul(m + 5, NULL, 10)) < a->ndreg)
    l = a->dloc[i];
  else if (!strncmp(m, "tensors[", 8) && (i = strtoul(m + 8, NULL, 10)) < p->n_tensors)
    l = a->tloc[i];
  else if (!strncmp(m, "regions[", 8) && (i = strtoul(m + 8, NULL, 10)) < p->n_regions)
    l = a->pre_memplan ? a->rloc[i] : i == 0 ? a->code_loc : i <= a->ndreg ? a->dloc[i - 1] : a->bloc[i - 1 - a->ndreg];
  else if (!strncmp(m, "steps[", 6) && (i = strtoul(m + 6, NULL, 10)) < p->n_steps)
    l = a->sloc[i];
  else if (!strncmp(m, "layers[", 7) && (i = strtoul(m + 7, NULL, 10)) < p->n_layers)
    l = a->lloc[i];
  else if (!strncmp(m, "code", 4))
    l = a->code_loc;
  return fail_loc(a, l, "%s", e.msg);
}

int pb_asm(const char *src, const char *filename, pb_program_t *out, char *err, size_t errlen) {
  asm_t a;
  memset(&a, 0, sizeof a);
  memset(out, 0, sizeof *out);
  if (errlen) err[0] = 0;
  a.file = filename ? filename : "<input>";
  a.src = src ? src : "";
  a.err = err;
  a.errlen = errlen;
  a.prog = out;

  reset_pass(&a, 1);
  run_pass(&a);
  a.pre = a.cur;
  memset(&a.cur, 0, sizeof a.cur);
  a.pre_ninstr = a.ninstr;
  a.pre_nsteps = a.nsteps;
  a.pre_memplan = a.memplan_line != 0;

  reset_pass(&a, 2);
  int rc = run_pass(&a);
  if (!rc) rc = finish(&a);
  free_state(&a);
  if (rc) {
    pb_program_free(out);
    memset(out, 0, sizeof *out);
    if (errlen && !err[0]) snprintf(err, errlen, "%s:0:0: error: assembly failed", a.file);
    return -1;
  }
  return 0;
}
