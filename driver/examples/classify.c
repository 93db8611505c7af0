/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Classify one Fashion-MNIST image with libprotobrain (docs/driver.md).
 *   classify PROG.pbin IMAGES.npy [INDEX] [BACKEND]
 * IMAGES.npy: float32 images, C order, e.g. build/data/test_x.npy (10000 x 1 x 28 x 28, pixel / 255)
 * from `.venv/bin/python models/make_data.py`. Prints the class and the logits.
 * Build: cc classify.c $(pkg-config --cflags --libs protobrain)
 */
#include <protobrain/protobrain.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *classes[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                  "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

/* Image `index` of a float32 .npy file (version 1 header) into x[0..elems). */
static int read_image(const char *path, long index, float *x, size_t elems) {
  unsigned char pre[10];
  char header[256];
  FILE *f = fopen(path, "rb");
  int ok = f && fread(pre, 1, 10, f) == 10 && !memcmp(pre, "\x93NUMPY\x01", 7);
  size_t hlen = ok ? (size_t)(pre[8] | pre[9] << 8) : 0;
  ok = ok && hlen < sizeof header && fread(header, 1, hlen, f) == hlen;
  if (ok) header[hlen] = 0;
  ok = ok && strstr(header, "'<f4'") && strstr(header, "'fortran_order': False");
  ok = ok && !fseek(f, index * (long)(elems * sizeof *x), SEEK_CUR) && fread(x, sizeof *x, elems, f) == elems;
  if (f) fclose(f);
  return ok ? 0 : -1;
}

int main(int argc, char **argv) {
  if (argc < 3) return fprintf(stderr, "usage: classify PROG.pbin IMAGES.npy [INDEX] [BACKEND]\n"), 2;
  pb_ctx_t *ctx;
  if (pb_open(argc > 4 ? argv[4] : "ref", NULL, &ctx) != PB_OK)
    return fprintf(stderr, "classify: %s\n", pb_last_error(NULL)), 1;
  pb_tensor_info_t in;
  float x[28 * 28], logits[10];
  int rc = 1;
  if (pb_load_file(ctx, argv[1]) != PB_OK || pb_input_info(ctx, 0, &in) != PB_OK) goto out;
  if (in.sample_elems != 28 * 28) {
    fprintf(stderr, "classify: the program wants %llu values per sample, not 28x28\n",
            (unsigned long long)in.sample_elems);
    goto out;
  }
  if (read_image(argv[2], argc > 3 ? atol(argv[3]) : 0, x, 28 * 28)) {
    fprintf(stderr, "classify: cannot read image %s of '%s' (float32 .npy)\n", argc > 3 ? argv[3] : "0", argv[2]);
    goto out;
  }
  if (pb_set_input(ctx, NULL, PB_FLOAT32, x, sizeof x, 1) != PB_OK || pb_run(ctx) != PB_OK ||
      pb_get_output(ctx, NULL, PB_FLOAT32, logits, sizeof logits) != PB_OK)
    goto out;
  int best = 0;
  for (int c = 1; c < 10; c++) best = logits[c] > logits[best] ? c : best;
  printf("class %d (%s); logits:", best, classes[best]);
  for (int c = 0; c < 10; c++) printf(" %.6g", logits[c]);
  printf("\n");
  rc = 0;
out:
  if (rc && pb_last_error(ctx)[0]) fprintf(stderr, "classify: %s\n", pb_last_error(ctx));
  pb_close(ctx);
  return rc;
}
