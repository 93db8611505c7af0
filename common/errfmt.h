/* SPDX-License-Identifier: Apache-2.0 */
/* Formatting an error message into a caller's buffer; returns -1 so callers can `return pb_fail(...)`. */
#ifndef PB_COMMON_ERRFMT_H
#define PB_COMMON_ERRFMT_H

#include <stddef.h>

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
int pb_fail(char *err, size_t errlen, const char *fmt, ...);

#endif
