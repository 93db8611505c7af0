/* SPDX-License-Identifier: Apache-2.0 */
/* pb_fail(): the shared "write a message, return -1" helper. */
#include "errfmt.h"

#include <stdarg.h>
#include <stdio.h>

int pb_fail(char *err, size_t errlen, const char *fmt, ...) {
  if (err && errlen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
  }
  return -1;
}
