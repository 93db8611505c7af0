/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ONNX import: a serialized ModelProto -> the compiler IR (ir.h), with every
 * shape inferred. Decoding uses only the protobuf-c bindings generated from
 * Debian's onnx.proto. What is supported, what is refused and why:
 * docs/compiler.md, "Import and IR".
 *
 * Errors: -1 and one message in err (errlen bytes, may be 0), starting with
 * the file name and naming what failed: the node (ONNX index, name, operator),
 * the attribute, the input, the tensor, the dims.
 */
#ifndef PROTOBRAIN_ONNX_IMPORT_H
#define PROTOBRAIN_ONNX_IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include "ir.h"

/* The default-domain opsets the importer accepts (older operator versions are refused per operator). */
#define PB_ONNX_OPSET_MAX 19

/*
 * Import a model from memory. filename is used in messages only (NULL:
 * "<buffer>"). batch > 0 replaces every dynamic (symbolic or unknown) input
 * dimension; a dynamic dimension other than axis 0, or any dynamic
 * dimension when batch is 0, is an error. Returns 0 and *out (free with
 * pb_ir_free), or -1 with err; *out is then NULL.
 */
int pb_onnx_import(const uint8_t *buf, size_t len, const char *filename, int64_t batch, pb_graph_t **out, char *err,
                   size_t errlen);

/* Read a file and import it (messages name the path). */
int pb_onnx_import_file(const char *path, int64_t batch, pb_graph_t **out, char *err, size_t errlen);

/*
 * Decode one serialized TensorProto (e.g. the ONNX test data's input_0.pb)
 * into a value outside any graph: name (possibly ""), dtype, shape and data
 * (always allocated, even for one element). Free with pb_ir_value_clear().
 * what names the tensor in messages (NULL: "tensor").
 */
int pb_onnx_tensor_decode(const uint8_t *buf, size_t len, const char *what, pb_value_t *out, char *err, size_t errlen);

/* Read a whole file into memory (malloc'd; NULL with err on failure; refuses files over 1 GiB). */
uint8_t *pb_onnx_read_file(const char *path, size_t *len, char *err, size_t errlen);

#endif
