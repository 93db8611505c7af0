#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The public API (tests/driver/test_api.c): error paths with their status and message, and results
# against a hand calculation and onnxruntime, on ref and verilator; through build/libprotobrain.a
# and again with the model and driver under ASan + UBSan.
cd "$(dirname "$0")/../.."
source tests/lib/check.sh
source tests/driver/driver_lib.sh
T=$CHECK_TMP
prepare_programs "$T/d"
check_prog "test_api (static library)" build/driver-tests/test_api "$T/d"
check_prog "test_api (ASan + UBSan)" build/san/driver-tests/test_api "$T/d"
check_done test_api
