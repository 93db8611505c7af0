#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# No allocation on the inference path: tests/driver/test_alloc.c counts every malloc/free of the
# process (build/libprotobrain.so, the Verilated model, libstdc++, glibc) around pb_run.
cd "$(dirname "$0")/../.."
source tests/lib/check.sh
source tests/driver/driver_lib.sh
T=$CHECK_TMP
prepare_programs "$T/d"
check_prog "test_alloc (shared library)" build/driver-tests/test_alloc "$T/d"
check_done test_alloc
