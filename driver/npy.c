/* SPDX-License-Identifier: Apache-2.0 */
/* NumPy .npy reader/writer: strict header parsing, every length checked. */
#include "npy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errfmt.h"

#include "protobrain/pbin.h"

void pb_npy_free(pb_npy_t *a) {
  free(a->data);
  memset(a, 0, sizeof *a);
}

/* Find `'key':` in the header dict and return a pointer just past the colon and spaces. */
static const char *dict_value(const char *h, const char *key) {
  char pat[32];
  snprintf(pat, sizeof pat, "'%s'", key);
  const char *p = strstr(h, pat);
  if (!p) return NULL;
  p += strlen(pat);
  while (*p == ' ') p++;
  if (*p != ':') return NULL;
  p++;
  while (*p == ' ') p++;
  return p;
}

int pb_npy_parse(const uint8_t *buf, size_t len, pb_npy_t *out, char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  if (len < 10 || memcmp(buf, "\x93NUMPY", 6) != 0)
    return pb_fail(err, errlen, "not a .npy file (bad magic at offset 0)");
  unsigned major = buf[6];
  size_t hlen, hoff;
  if (major == 1) {
    hlen = (size_t)buf[8] | (size_t)buf[9] << 8;
    hoff = 10;
  } else if (major == 2 || major == 3) {
    if (len < 12) return pb_fail(err, errlen, ".npy header truncated at offset %zu", len);
    hlen = (size_t)buf[8] | (size_t)buf[9] << 8 | (size_t)buf[10] << 16 | (size_t)buf[11] << 24;
    hoff = 12;
  } else {
    return pb_fail(err, errlen, ".npy format version %u.%u at offset 6 not supported (1, 2 or 3)", major, buf[7]);
  }
  if (hlen > len - hoff || hlen > 65536)
    return pb_fail(err, errlen, ".npy header length %zu at offset 8 runs past the end of the file (%zu bytes)", hlen, len);
  char *h = malloc(hlen + 1);
  if (!h) return pb_fail(err, errlen, "out of memory");
  memcpy(h, buf + hoff, hlen);
  h[hlen] = 0;
  if (strlen(h) != hlen) {
    free(h);
    return pb_fail(err, errlen, ".npy header contains a NUL byte");
  }
  int rc = -1;
  const char *d = dict_value(h, "descr"), *fo = dict_value(h, "fortran_order"), *sh = dict_value(h, "shape");
  if (!d || !fo || !sh) {
    pb_fail(err, errlen, ".npy header lacks %s", !d ? "'descr'" : !fo ? "'fortran_order'" : "'shape'");
    goto out;
  }
  unsigned esize = 0, dtype = 0, f64 = 0;
  if (!strncmp(d, "'|i1'", 5) || !strncmp(d, "'i1'", 4))
    dtype = PB_DT_INT8, esize = 1;
  else if (!strncmp(d, "'|u1'", 5) || !strncmp(d, "'u1'", 4))
    dtype = PB_DT_UINT8, esize = 1;
  else if (!strncmp(d, "'<i4'", 5))
    dtype = PB_DT_INT32, esize = 4;
  else if (!strncmp(d, "'<i8'", 5))
    dtype = PB_DT_INT64, esize = 8;
  else if (!strncmp(d, "'<f4'", 5))
    dtype = PB_DT_FLOAT32, esize = 4;
  else if (!strncmp(d, "'<f8'", 5))
    dtype = PB_DT_FLOAT32, esize = 8, f64 = 1;
  else {
    pb_fail(err, errlen, ".npy dtype %.12s not supported (int8, uint8, int32, int64, float32, float64; little-endian)", d);
    goto out;
  }
  if (strncmp(fo, "False", 5) != 0) {
    pb_fail(err, errlen, ".npy fortran_order arrays are not supported (save with numpy.ascontiguousarray)");
    goto out;
  }
  if (*sh != '(') {
    pb_fail(err, errlen, ".npy shape is not a tuple");
    goto out;
  }
  sh++;
  uint64_t count = 1;
  for (;;) {
    while (*sh == ' ') sh++;
    if (*sh == ')') break;
    if (out->rank == PB_NPY_MAX_RANK) {
      pb_fail(err, errlen, ".npy rank above %d not supported", PB_NPY_MAX_RANK);
      goto out;
    }
    char *end;
    errno = 0;
    unsigned long long v = strtoull(sh, &end, 10);
    if (end == sh || errno || v > (1ull << 40)) {
      pb_fail(err, errlen, ".npy shape entry %u is not a valid dimension", out->rank);
      goto out;
    }
    out->dims[out->rank++] = v;
    if (v && count > (1ull << 40) / v) {
      pb_fail(err, errlen, ".npy shape too large");
      goto out;
    }
    count *= v;
    sh = end;
    while (*sh == ' ') sh++;
    if (*sh == ',') sh++;
    else if (*sh != ')') {
      pb_fail(err, errlen, ".npy shape is malformed");
      goto out;
    }
  }
  size_t doff = hoff + hlen;
  if (count > (len - doff) / esize) {
    pb_fail(err, errlen, ".npy data truncated: shape needs %llu bytes at offset %zu, file has %zu",
         (unsigned long long)(count * esize), doff, len - doff);
    goto out;
  }
  unsigned osize = f64 ? 4 : esize;
  out->data = malloc(count ? count * osize : 1);
  if (!out->data) {
    pb_fail(err, errlen, "out of memory for %llu elements", (unsigned long long)count);
    goto out;
  }
  if (f64) {
    float *o = out->data;
    for (uint64_t i = 0; i < count; i++) {
      double v;
      memcpy(&v, buf + doff + 8 * i, 8);
      o[i] = (float)v;
    }
  } else {
    memcpy(out->data, buf + doff, count * esize);
  }
  out->dtype = dtype;
  out->count = count;
  rc = 0;
out:
  free(h);
  if (rc) pb_npy_free(out);
  return rc;
}

int pb_npy_read(const char *path, pb_npy_t *out, char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  FILE *f = fopen(path, "rb");
  if (!f) return pb_fail(err, errlen, "cannot open '%s': %s", path, strerror(errno));
  if (fseek(f, 0, SEEK_END) != 0) {
    fclose(f);
    return pb_fail(err, errlen, "cannot seek '%s': %s", path, strerror(errno));
  }
  long sz = ftell(f);
  if (sz < 0 || sz > (1l << 31)) {
    fclose(f);
    return pb_fail(err, errlen, "'%s': size %ld not supported", path, sz);
  }
  rewind(f);
  uint8_t *buf = malloc((size_t)sz + 1);
  if (!buf) {
    fclose(f);
    return pb_fail(err, errlen, "out of memory reading '%s'", path);
  }
  size_t got = fread(buf, 1, (size_t)sz, f);
  fclose(f);
  if (got != (size_t)sz) {
    free(buf);
    return pb_fail(err, errlen, "short read on '%s'", path);
  }
  char inner[256];
  int rc = pb_npy_parse(buf, (size_t)sz, out, inner, sizeof inner);
  free(buf);
  if (rc) return pb_fail(err, errlen, "%s: %s", path, inner);
  return 0;
}

int pb_npy_write(const char *path, unsigned dtype, unsigned rank, const uint64_t *dims, const void *data, char *err,
                 size_t errlen) {
  const char *descr = dtype == PB_DT_INT8 ? "|i1" : dtype == PB_DT_UINT8 ? "|u1" : dtype == PB_DT_INT32 ? "<i4"
                      : dtype == PB_DT_FLOAT32 ? "<f4" : dtype == PB_DT_INT64 ? "<i8" : NULL;
  if (!descr) return pb_fail(err, errlen, "npy: unsupported dtype %u", dtype);
  char shape[256] = "(";
  uint64_t count = 1;
  for (unsigned i = 0; i < rank; i++) {
    size_t l = strlen(shape);
    snprintf(shape + l, sizeof shape - l, "%llu%s", (unsigned long long)dims[i], rank == 1 ? "," : i + 1 < rank ? ", " : "");
    count *= dims[i];
  }
  strcat(shape, ")");
  char hdr[512];
  int n = snprintf(hdr, sizeof hdr, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, shape);
  size_t total = 10 + (size_t)n + 1;
  size_t pad = (64 - total % 64) % 64;
  FILE *f = fopen(path, "wb");
  if (!f) return pb_fail(err, errlen, "cannot create '%s': %s", path, strerror(errno));
  uint8_t pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 0, 0};
  size_t hl = (size_t)n + pad + 1;
  pre[8] = (uint8_t)(hl & 0xff);
  pre[9] = (uint8_t)(hl >> 8);
  int ok = fwrite(pre, 1, 10, f) == 10 && fwrite(hdr, 1, (size_t)n, f) == (size_t)n;
  for (size_t i = 0; ok && i < pad; i++) ok = fputc(' ', f) != EOF;
  ok = ok && fputc('\n', f) != EOF;
  size_t bytes = count * pb_dtype_size(dtype);
  ok = ok && fwrite(data, 1, bytes, f) == bytes;
  if (fclose(f) != 0) ok = 0;
  if (!ok) return pb_fail(err, errlen, "cannot write '%s': %s", path, strerror(errno));
  return 0;
}
