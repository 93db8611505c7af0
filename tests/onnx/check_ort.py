# SPDX-License-Identifier: Apache-2.0
"""Compiled programs against onnxruntime, byte for byte.

For each QDQ model (onnxruntime quantize_static, per-channel int8) and each
array size N = 4, 8, 16: `protobrain compile`, `protobrain run` on the first
IMAGES test images (backend ref), and onnxruntime (default optimizations:
its int8 kernels QGemm / QLinearConv / NhwcMaxPool) on the same images.
Checked per model and N:
  - the program's int8 logits (--raw) equal onnxruntime's int8 logits (the
    graph's last QuantizeLinear output, exposed by dropping the final
    DequantizeLinear) on every image, byte for byte;
  - the dequantized float logits equal onnxruntime's float output bit for bit;
  - the three N give identical bytes.
Then float models compiled with --calib (the 500 calibration images) must
keep top-1 accuracy within 1 percentage point of the float model in
onnxruntime, on FLOAT_IMAGES test images.

Usage: check_ort.py PROTOBRAIN OUTDIR [--images N] [--float-images N]
Prints one line per check ("ok ..." / "FAIL ...") and ends with
"# check_ort: P passed, F failed".
"""
import argparse
import os
import subprocess
import sys
import time

import numpy as np
import onnx
import onnxruntime as ort

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODELS = os.path.join(ROOT, "models")
DATA = os.path.join(ROOT, "build", "data")

# (model, batch per N): N=4 keeps the batch small (unrolled code must fit 1 MiB of host memory)
QDQ = [("mlp_w1", {4: 16, 8: 32, 16: 64}), ("cnn_w1", {4: 4, 8: 16, 16: 32}),
       ("mlp_w0.5", {4: 16, 8: 32, 16: 64}), ("cnn_w0.5", {4: 8, 8: 16, 16: 32})]
FLOAT = [("mlp_w1", 100), ("cnn_w1", 100)]

passed = failed = 0


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
        print("ok   " + what, flush=True)
    else:
        failed += 1
        print("FAIL " + what, flush=True)


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        print("  command failed (exit %d): %s\n%s%s" % (r.returncode, " ".join(cmd), r.stdout, r.stderr))
    return r


def int8_model(path, out_path):
    """The QDQ model with its final DequantizeLinear removed: the graph output is the int8 logits."""
    m = onnx.load(path)
    g = m.graph
    out = g.output[0]
    dq = [n for n in g.node if out.name in n.output][0]
    assert dq.op_type == "DequantizeLinear"
    g.node.remove(dq)
    q_name = dq.input[0]
    del g.output[:]
    g.output.append(onnx.helper.make_tensor_value_info(q_name, onnx.TensorProto.INT8, None))
    onnx.save(m, out_path)
    return q_name


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("protobrain")
    ap.add_argument("outdir")
    ap.add_argument("--images", type=int, default=256)
    ap.add_argument("--float-images", type=int, default=2000)
    a = ap.parse_args()
    os.makedirs(a.outdir, exist_ok=True)
    x_all = np.load(os.path.join(DATA, "test_x.npy"))
    y_all = np.load(os.path.join(DATA, "test_y.npy"))
    x = np.ascontiguousarray(x_all[:a.images])
    xin = os.path.join(a.outdir, "x.npy")
    np.save(xin, x)
    so = ort.SessionOptions()  # default: all graph optimizations (onnxruntime's int8 kernels)

    for name, batches in QDQ:
        t0 = time.time()
        path = os.path.join(MODELS, name + ".qdq.onnx")
        i8path = os.path.join(a.outdir, name + ".int8.onnx")
        int8_model(path, i8path)
        want_q = ort.InferenceSession(i8path, so, providers=["CPUExecutionProvider"]).run(None, {"input": x})[0]
        want_f = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"]).run(None, {"input": x})[0]
        got_by_n = {}
        for n, b in sorted(batches.items()):
            prog = os.path.join(a.outdir, "%s_n%d.pbin" % (name, n))
            r = run([a.protobrain, "compile", path, "-o", prog, "--array", str(n), "--batch", str(b)])
            if r.returncode:
                check(False, "%s N=%d compiles" % (name, n))
                continue
            yq, yf = os.path.join(a.outdir, "q.npy"), os.path.join(a.outdir, "f.npy")
            r1 = run([a.protobrain, "run", prog, "--input", xin, "--output", yq, "--raw"])
            r2 = run([a.protobrain, "run", prog, "--input", xin, "--output", yf])
            if r1.returncode or r2.returncode:
                check(False, "%s N=%d runs" % (name, n))
                continue
            gq, gf = np.load(yq), np.load(yf)
            same = gq.dtype == np.int8 and gq.shape == want_q.shape and np.array_equal(gq, want_q)
            diff = 0 if gq.shape != want_q.shape else int((gq != want_q).sum())
            check(same, "%s N=%d batch %d: int8 logits of %d images byte-identical to onnxruntime (%d of %d bytes differ)"
                  % (name, n, b, len(x), diff, want_q.size))
            check(gf.dtype == np.float32 and gf.shape == want_f.shape and gf.tobytes() == want_f.tobytes(),
                  "%s N=%d: dequantized float logits bit-identical to onnxruntime" % (name, n))
            got_by_n[n] = gq.tobytes()
        vals = list(got_by_n.values())
        check(len(vals) == 3 and all(v == vals[0] for v in vals),
              "%s: N=4, 8, 16 give identical bytes (%.1f s)" % (name, time.time() - t0))

    nf = a.float_images
    xf = np.ascontiguousarray(x_all[:nf])
    xfin = os.path.join(a.outdir, "xf.npy")
    np.save(xfin, xf)
    calib = os.path.join(DATA, "calib_x.npy")
    for name, b in FLOAT:
        t0 = time.time()
        path = os.path.join(MODELS, name + ".onnx")
        prog = os.path.join(a.outdir, name + "_float.pbin")
        r = run([a.protobrain, "compile", path, "-o", prog, "--array", "16", "--batch", str(b), "--calib", calib])
        if r.returncode:
            check(False, "%s --calib compiles" % name)
            continue
        out = os.path.join(a.outdir, "ff.npy")
        if run([a.protobrain, "run", prog, "--input", xfin, "--output", out]).returncode:
            check(False, "%s --calib runs" % name)
            continue
        ref = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"]).run(None, {"input": xf})[0]
        acc_f = float((ref.argmax(1) == y_all[:nf]).mean()) * 100
        acc_q = float((np.load(out).argmax(1) == y_all[:nf]).mean()) * 100
        check(abs(acc_q - acc_f) <= 1.0, "%s compiled with --calib: top-1 %.2f%% vs float %.2f%% on %d test images "
              "(difference %+.2f points, limit 1; %.1f s)" % (name, acc_q, acc_f, nf, acc_q - acc_f, time.time() - t0))
    print("# check_ort: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
