/* SPDX-License-Identifier: Apache-2.0 */
/* NumPy .npy files (format versions 1.0, 2.0, 3.0; C order): read and write. */
#ifndef PB_DRIVER_NPY_H
#define PB_DRIVER_NPY_H

#include <stddef.h>
#include <stdint.h>

#define PB_NPY_MAX_RANK 8

typedef struct {
  unsigned dtype; /* PB_DT_INT8, UINT8, INT32, INT64 or FLOAT32 (float64 files are rounded to float32) */
  unsigned rank;
  uint64_t dims[PB_NPY_MAX_RANK];
  uint64_t count; /* number of elements */
  void *data;     /* count elements of dtype, little-endian host order */
} pb_npy_t;

/* Parse a whole .npy image. 0, or -1 with a message naming what is wrong and where. */
int pb_npy_parse(const uint8_t *buf, size_t len, pb_npy_t *out, char *err, size_t errlen);
int pb_npy_read(const char *path, pb_npy_t *out, char *err, size_t errlen);
int pb_npy_write(const char *path, unsigned dtype, unsigned rank, const uint64_t *dims, const void *data, char *err,
                 size_t errlen);
void pb_npy_free(pb_npy_t *a);

#endif
