#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The README's "Bring your own PyTorch model" walkthrough, run as written: every ```sh block between
# the byo-begin and byo-end markers, in order, with build/byo replaced by a temporary directory.
# Checked: every command succeeds; the QDQ model's outputs are bit-identical to onnxruntime's on all
# 10,000 test images; the RTL's equal the C model's; the example classifies from C.
cd "$(dirname "$0")/../.."
source tests/lib/check.sh
T=$CHECK_TMP
awk '/<!-- byo-begin/ {on = 1} /<!-- byo-end/ {on = 0} on && /^```sh$/ {code = 1; next} code && /^```$/ {code = 0; next} code' \
  README.md | sed "s|build/byo|$T/byo|g" > $T/byo.sh
check "the README has the walkthrough's commands" test "$(grep -c 'protobrain' $T/byo.sh)" -ge 6
check "every command of the walkthrough succeeds" bash -e -o pipefail $T/byo.sh
sed 's/^/    /' $CHECK_TMP/out | grep -v WARNING | tail -6
cp $CHECK_TMP/out $T/byo.out
check "QDQ: all 10000 outputs bit-identical to onnxruntime" grep -q '^tiny.qdq.onnx .* 10000/10000 outputs bit-identical' $T/byo.out
check "--calib: accuracy within a point of onnxruntime's float model" bash -c \
  "grep '^tiny.onnx ' $T/byo.out | awk '{a = \$3 + 0; b = \$7 + 0; ok = (a - b <= 1 && b - a <= 1)} END {exit !ok}'"
check "the RTL's outputs equal the C model's" grep -q "RTL output identical to the C model's" $T/byo.out
check "--stats: measured cycles equal the prediction" grep -qE 'cycles: predicted [0-9]+, measured [0-9]+ \(equal\)' $T/byo.out
check "the C example classifies image 0" grep -qE '^class [0-9] \(.*\); logits:' $T/byo.out
check_done test_byo
