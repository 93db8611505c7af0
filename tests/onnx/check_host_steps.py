# SPDX-License-Identifier: Apache-2.0
"""Host steps end to end: the QDQ mlp_w0.25 with a float Softmax and an ArgMax after its logits.

Usage: check_host_steps.py PROTOBRAIN OUTDIR
Compiles it (N = 8, batch 4), runs 10 test images (3 runs, the last padded) and compares with onnxruntime:
ArgMax indices equal, Softmax within 1e-6 (float summation order). Ends with "# check_host_steps: P passed, F failed".
"""
import os
import subprocess
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main():
    pb, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    m = onnx.load(os.path.join(ROOT, "models", "mlp_w0.25.qdq.onnx"))
    g = m.graph
    logits = g.output[0].name
    g.node.append(helper.make_node("Softmax", [logits], ["prob"], axis=1))
    g.node.append(helper.make_node("ArgMax", [logits], ["cls"], axis=1, keepdims=0))
    del g.output[:]
    g.output.extend([helper.make_tensor_value_info("prob", TensorProto.FLOAT, None),
                     helper.make_tensor_value_info("cls", TensorProto.INT64, None)])
    model = os.path.join(out, "head.onnx")
    onnx.save(m, model)
    x = np.load(os.path.join(ROOT, "build", "data", "test_x.npy"))[:10]
    xin = os.path.join(out, "x.npy")
    np.save(xin, x)
    passed = failed = 0

    def check(ok, what):
        nonlocal passed, failed
        passed, failed = passed + bool(ok), failed + (not ok)
        print(("ok   " if ok else "FAIL ") + what, flush=True)

    prog = os.path.join(out, "head.pbin")
    r = subprocess.run([pb, "compile", model, "-o", prog, "--array", "8", "--batch", "4"], capture_output=True, text=True)
    check(r.returncode == 0, "compile (QDQ MLP + Softmax + ArgMax): " + (r.stdout + r.stderr).strip())
    info = subprocess.run([pb, "info", prog], capture_output=True, text=True).stdout
    check("host SOFTMAX" in info and "host ARGMAX" in info and "host DEQUANTIZE" in info, "info lists the host steps")
    r = subprocess.run([pb, "run", prog, "--input", xin, "--output", "prob=" + os.path.join(out, "p.npy"),
                        "--output", "cls=" + os.path.join(out, "c.npy"), "--stats"], capture_output=True, text=True)
    check(r.returncode == 0 and "(equal)" in r.stderr, "run 10 samples in runs of 4: " + r.stderr.strip().split("\n")[-1])
    if r.returncode == 0:
        want_p, want_c = ort.InferenceSession(model, providers=["CPUExecutionProvider"]).run(None, {"input": x})
        got_p, got_c = np.load(os.path.join(out, "p.npy")), np.load(os.path.join(out, "c.npy"))
        check(got_c.dtype == np.int64 and got_c.shape == (10,) and (got_c == want_c).all(), "ArgMax equals onnxruntime")
        err = float(np.abs(got_p - want_p).max()) if got_p.shape == want_p.shape else 1e9
        check(err <= 1e-6, "Softmax within 1e-6 of onnxruntime (max error %.3g)" % err)
    print("# check_host_steps: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
