#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# One test case: the generated files are current (make check-generated).
if make --no-print-directory check-generated; then
  echo "# check-generated: 1 passed, 0 failed"
else
  echo "# check-generated: 0 passed, 1 failed"
  exit 1
fi
