/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The runner: executes a program on a backend for any number of samples.
 *
 * A program is compiled for a batch B (dims[0] of its tensors marked BATCH;
 * B = 1 semantics when none is). pb_runner_run takes n samples along the
 * first axis, runs ceil(n / B) chunks (the last one padded by repeating its
 * last sample; the padding's outputs are dropped), and for each chunk:
 * writes the inputs (float data is quantized as ONNX QuantizeLinear for
 * int8/uint8 tensors), runs the program's steps (accelerator slices on the
 * backend, host operators in host memory) and reads the outputs (dequantized
 * to float when asked). Everything is allocated by pb_runner_open; running
 * allocates nothing.
 */
#ifndef PB_DRIVER_RUNNER_H
#define PB_DRIVER_RUNNER_H

#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "protobrain/pbin.h"

typedef struct pb_runner pb_runner_t;

typedef struct {
  uint64_t chunks;       /* program runs */
  uint64_t samples;      /* real samples (padding excluded) */
  pb_counters_t cnt;     /* summed over every accelerator step of every run */
  uint64_t predicted;    /* timing-model cycles, summed the same way */
  uint64_t steps_accel, steps_host;
  double host_seconds;   /* wall time spent in host operators */
} pb_runner_stats_t;

/* One tensor's data for a run: n samples in row-major order, as dtype. */
typedef struct {
  const char *name;      /* tensor name; NULL: the program's only input (or output) */
  unsigned dtype;        /* PB_DT_*: the tensor's own dtype, or PB_DT_FLOAT32 for (de)quantization */
  void *data;            /* inputs: read; outputs: written */
} pb_runner_io_t;

/*
 * Prepare to run program p on backend b (already opened for p->hw; the
 * program is loaded here). Checks every step (host operators' tensors and
 * parameters, accelerator slices) and predicts each slice's cycles.
 */
int pb_runner_open(const pb_program_t *p, pb_backend_t *b, pb_runner_t **out, char *err, size_t errlen);
void pb_runner_close(pb_runner_t *r);

/* The compiled batch B (1 when no tensor is marked BATCH: one run per call, n must then be dims[0]). */
uint64_t pb_runner_batch(const pb_runner_t *r);
/* Predicted cycles of one run (all accelerator steps). */
uint64_t pb_runner_predicted(const pb_runner_t *r);
/* Elements per sample of tensor t (all its elements when it has no batch axis). */
uint64_t pb_runner_sample_elems(const pb_runner_t *r, const pb_tensor_t *t);

/* Called after every chunk with the real samples done so far and n (NULL: none). */
typedef void (*pb_runner_progress_fn)(void *user, uint64_t done, uint64_t total);
void pb_runner_set_progress(pb_runner_t *r, pb_runner_progress_fn fn, void *user);

#define PB_RUNNER_E_ACCEL (-2) /* pb_runner_run: the accelerator stopped with an error */

/*
 * Run n samples. in[i] names every input tensor of the program (n_in of
 * them); out[i] the outputs wanted. Accelerator errors are reported with the
 * step, PC and error name. Returns 0, PB_RUNNER_E_ACCEL when the accelerator
 * stopped with an error, or -1 (anything else: the backend failed, a
 * tensor is missing), each with err. Allocates nothing.
 */
int pb_runner_run(pb_runner_t *r, uint64_t n, const pb_runner_io_t *in, int n_in, const pb_runner_io_t *out,
                  int n_out, pb_runner_stats_t *st, char *err, size_t errlen);

#endif
