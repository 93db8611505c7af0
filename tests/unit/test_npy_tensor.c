/* SPDX-License-Identifier: Apache-2.0 */
/*
 * .npy reading/writing (round trip, malformed files never crash) and tensor
 * placement with ONNX QuantizeLinear / DequantizeLinear arithmetic, checked
 * against hand-computed values.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "npy.h"
#include "tensor_io.h"

static void test_npy_round_trip(void) {
  char path[] = "/tmp/pb_test_npy_XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0, "mkstemp");
  if (fd < 0) return;
  close(fd);
  char err[256];
  uint64_t dims[3] = {2, 3, 4};
  float data[24];
  for (int i = 0; i < 24; i++) data[i] = (float)i * 0.5f - 3.0f;
  CHECK(pb_npy_write(path, PB_DT_FLOAT32, 3, dims, data, err, sizeof err) == 0, "write: %s", err);
  pb_npy_t a;
  CHECK(pb_npy_read(path, &a, err, sizeof err) == 0, "read: %s", err);
  CHECK(a.dtype == PB_DT_FLOAT32 && a.rank == 3 && a.dims[0] == 2 && a.dims[2] == 4 && a.count == 24 &&
            memcmp(a.data, data, sizeof data) == 0,
        "float32 round trip");
  pb_npy_free(&a);
  int8_t b[5] = {-128, -1, 0, 1, 127};
  uint64_t d1[1] = {5};
  CHECK(pb_npy_write(path, PB_DT_INT8, 1, d1, b, err, sizeof err) == 0 && pb_npy_read(path, &a, err, sizeof err) == 0 &&
            a.rank == 1 && a.count == 5 && memcmp(a.data, b, 5) == 0,
        "int8 rank-1 round trip");
  pb_npy_free(&a);
  /* header of a file written by numpy 1.24: np.save(f, np.zeros((2,), dtype=np.float64)) */
  const char hdr[] = "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }";
  uint8_t buf[128 + 16] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
  size_t hl = 118;
  buf[8] = (uint8_t)hl;
  memset(buf + 10, ' ', hl);
  memcpy(buf + 10, hdr, strlen(hdr));
  buf[10 + hl - 1] = '\n';
  double dv[2] = {0.1, -2.5};
  memcpy(buf + 128, dv, 16);
  CHECK(pb_npy_parse(buf, sizeof buf, &a, err, sizeof err) == 0 && a.dtype == PB_DT_FLOAT32 &&
            ((float *)a.data)[0] == 0.1f && ((float *)a.data)[1] == -2.5f,
        "float64 converted to float32: %s", err);
  pb_npy_free(&a);
  /* malformed files */
  CHECK(pb_npy_parse(buf, 100, &a, err, sizeof err) == -1 && strstr(err, "past the end"), "truncated header: '%s'", err);
  CHECK(pb_npy_parse(buf, 128 + 8, &a, err, sizeof err) == -1 && strstr(err, "truncated"), "truncated data: '%s'", err);
  buf[6] = 9;
  CHECK(pb_npy_parse(buf, sizeof buf, &a, err, sizeof err) == -1 && strstr(err, "version"), "bad version: '%s'", err);
  buf[6] = 1;
  memcpy(buf + 10 + 10, "'>f8'", 5);
  CHECK(pb_npy_parse(buf, sizeof buf, &a, err, sizeof err) == -1 && strstr(err, "not supported"),
        "big-endian refused: '%s'", err);
  remove(path);
}

static uint64_t rs = 0x6e7975ull;
static uint32_t rnd(void) {
  rs ^= rs << 13, rs ^= rs >> 7, rs ^= rs << 17;
  return (uint32_t)(rs >> 16);
}

static void test_npy_fuzz(void) {
  /* mutate a valid file 20000 times: parse must return 0 or -1, never crash or read out of bounds */
  char path[] = "/tmp/pb_test_npyf_XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) return;
  close(fd);
  char err[256];
  uint64_t dims[2] = {3, 5};
  int8_t d[15] = {0};
  pb_npy_write(path, PB_DT_INT8, 2, dims, d, err, sizeof err);
  FILE *f = fopen(path, "rb");
  uint8_t good[256];
  size_t len = f ? fread(good, 1, sizeof good, f) : 0;
  if (f) fclose(f);
  remove(path);
  int accepted = 0, ok = len > 0;
  for (int i = 0; i < 20000 && ok; i++) {
    uint8_t m[256];
    memcpy(m, good, len);
    size_t l = len;
    int nmut = 1 + (int)(rnd() % 4);
    for (int k = 0; k < nmut; k++) {
      switch (rnd() % 3) {
      case 0: m[rnd() % l] = (uint8_t)rnd(); break;
      case 1: l = 1 + rnd() % l; break;
      default: m[10 + rnd() % 70] = "0123456789(),' :{}<>|fiu"[rnd() % 24]; break;
      }
    }
    uint8_t *heap = malloc(l); /* exact-size heap copy so ASan sees any over-read */
    memcpy(heap, m, l);
    pb_npy_t a;
    int rc = pb_npy_parse(heap, l, &a, err, sizeof err);
    if (rc == 0) {
      accepted++;
      pb_npy_free(&a);
    } else if (rc != -1 || !err[0]) {
      ok = 0;
    }
    free(heap);
  }
  CHECK(ok, "20000 mutated .npy files parsed or refused with a message (%d accepted)", accepted);
}

static void test_quantize(void) {
  /* ONNX QuantizeLinear: rne(x / s) + zp, saturate. Hand values: */
  CHECK_EQ_INT(pb_quantize(2.5f, 1.0f, 0, PB_DT_INT8), 2, "2.5 -> 2 (half to even)");
  CHECK_EQ_INT(pb_quantize(3.5f, 1.0f, 0, PB_DT_INT8), 4, "3.5 -> 4");
  CHECK_EQ_INT(pb_quantize(-2.5f, 1.0f, 0, PB_DT_INT8), -2, "-2.5 -> -2");
  CHECK_EQ_INT(pb_quantize(1.0f, 0.25f, 3, PB_DT_INT8), 7, "1.0 / 0.25 + 3 = 7");
  CHECK_EQ_INT(pb_quantize(1000.f, 1.0f, 0, PB_DT_INT8), 127, "saturate high");
  CHECK_EQ_INT(pb_quantize(-1000.f, 1.0f, 0, PB_DT_INT8), -128, "saturate low");
  CHECK_EQ_INT(pb_quantize(-1.0f, 1.0f, 0, PB_DT_UINT8), 0, "uint8 saturates at 0");
  CHECK_EQ_INT(pb_quantize(300.f, 1.0f, 10, PB_DT_UINT8), 255, "uint8 saturates at 255");
  CHECK_EQ_INT(pb_quantize(INFINITY, 0.1f, 0, PB_DT_INT8), 127, "+inf saturates");
  CHECK_EQ_INT(pb_quantize(NAN, 0.1f, 5, PB_DT_INT8), 5, "NaN gives zp");
  CHECK(pb_dequantize(7, 0.25f, 3) == 1.0f, "dequantize (7 - 3) * 0.25 = 1");
  CHECK(pb_dequantize(-128, 0.5f, 0) == -64.0f, "dequantize -128 * 0.5");
}

static void test_tensor_put_get(void) {
  /* a 2x3 int8 tensor stored with a row stride of 8 at address 16 */
  pb_tensor_t t = {.name = "x", .kind = PB_TENSOR_INPUT, .dtype = PB_DT_INT8, .rank = 2, .dims = {2, 3},
                   .strides = {8, 1}, .host_addr = 16, .scale = 0.5f, .zero_point = -1};
  uint8_t host[64];
  memset(host, 0xee, sizeof host);
  float x[6] = {0.0f, 0.5f, 1.0f, -0.5f, 63.0f, 100.0f};
  char err[256];
  CHECK(pb_tensor_put(&t, host, sizeof host, x, PB_DT_FLOAT32, err, sizeof err) == 0, "put float: %s", err);
  /* q = rne(x / 0.5) - 1: 0->-1, 0.5->0, 1->1, -0.5->-2, 63->125, 100->199 saturates to 127 */
  int8_t want[6] = {-1, 0, 1, -2, 125, 127};
  int ok = 1;
  for (int i = 0; i < 6; i++) ok &= (int8_t)host[16 + (i / 3) * 8 + i % 3] == want[i];
  CHECK(ok, "quantized values at strided addresses");
  CHECK(host[19] == 0xee && host[15] == 0xee && host[27] == 0xee, "bytes between rows untouched");
  float back[6];
  CHECK(pb_tensor_get(&t, host, sizeof host, back, PB_DT_FLOAT32, err, sizeof err) == 0 && back[0] == 0.0f &&
            back[3] == -0.5f && back[5] == 64.0f,
        "dequantized: (q - zp) * s");
  int8_t raw[6];
  CHECK(pb_tensor_get(&t, host, sizeof host, raw, PB_DT_INT8, err, sizeof err) == 0 && memcmp(raw, want, 6) == 0,
        "raw int8 read back");
  int32_t wrong[6] = {0};
  CHECK(pb_tensor_put(&t, host, sizeof host, wrong, PB_DT_INT32, err, sizeof err) == -1 && strstr(err, "i32"),
        "int32 data for an int8 tensor refused: '%s'", err);
  t.host_addr = 60;
  CHECK(pb_tensor_put(&t, host, sizeof host, x, PB_DT_FLOAT32, err, sizeof err) == -1 && strstr(err, "beyond"),
        "tensor beyond host memory refused: '%s'", err);
}

int main(void) {
  check_init("test_npy_tensor");
  test_npy_round_trip();
  test_npy_fuzz();
  test_quantize();
  test_tensor_put_get();
  return check_done();
}
