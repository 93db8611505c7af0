/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the in-tree CLI needs of a libprotobrain context beyond the public API. Not installed
 * and not exported by build/libprotobrain.so (driver/libprotobrain.map); the CLI links the
 * library statically.
 */
#ifndef PB_DRIVER_PROTOBRAIN_INTERNAL_H
#define PB_DRIVER_PROTOBRAIN_INTERNAL_H

#include "backend.h"
#include "protobrain/protobrain.h"

/* The context's backend (NULL before a program is loaded, unless opened with opts->hw). */
pb_backend_t *pb_ctx_backend(pb_ctx_t *ctx);

#endif
