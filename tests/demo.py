# SPDX-License-Identifier: Apache-2.0
"""`make demo`: Fashion-MNIST end to end.

For the committed QDQ CNN and MLP (models/*.qdq.onnx): compile for N=16, run the
whole 10,000-image test set on the C reference model and the first RTL_IMAGES
images on the Verilated RTL in lock step with the model (--cosim: every write
and every issue cycle compared), and compare every int8 output byte with
onnxruntime's int8 kernels. Prints a table: accuracy (float and int8 in
onnxruntime, Protobrain C model, Protobrain RTL), agreement with onnxruntime's
output (the QDQ graph's dequantized logits, compared bit for bit: equal floats
mean equal int8 bytes before the final DequantizeLinear), RTL-vs-model
mismatches, cycles per image measured and predicted, images/s at 100 MHz.

(onnxruntime itself is not consistent with a variant of the graph whose final
DequantizeLinear is removed: there its fused int8 Gemm rounds one of 100,000
cnn_w1 logits differently. The reference here is the shipped QDQ model.)

Usage: demo.py PROTOBRAIN OUTDIR [--rtl-images N]
"""
import argparse
import os
import re
import subprocess
import sys
import time

import numpy as np
import onnxruntime as ort

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = [("cnn_w1", 32), ("mlp_w1", 64)]  # (model, compiled batch)


def run(cmd):
    t0 = time.time()
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("demo: command failed (exit %d): %s\n%s%s" % (r.returncode, " ".join(cmd), r.stdout, r.stderr))
    return r, time.time() - t0


def stats(stderr):
    m = re.search(r"cycles: predicted (\d+), measured (\d+)", stderr)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("protobrain")
    ap.add_argument("outdir")
    ap.add_argument("--rtl-images", type=int, default=1000)
    a = ap.parse_args()
    os.makedirs(a.outdir, exist_ok=True)
    x = np.load(os.path.join(ROOT, "build", "data", "test_x.npy"))
    y = np.load(os.path.join(ROOT, "build", "data", "test_y.npy")).astype(np.int64)
    n_all, n_rtl = len(x), min(a.rtl_images, len(x))
    xin, xin_rtl = os.path.join(a.outdir, "x.npy"), os.path.join(a.outdir, "x_rtl.npy")
    np.save(xin, x)
    np.save(xin_rtl, np.ascontiguousarray(x[:n_rtl]))
    so = ort.SessionOptions()  # default optimizations: onnxruntime's int8 kernels
    rows, ok = [], True
    for name, batch in MODELS:
        qdq = os.path.join(ROOT, "models", name + ".qdq.onnx")
        flt = os.path.join(ROOT, "models", name + ".onnx")
        prog = os.path.join(a.outdir, name + "_n16.pbin")
        print("== %s: compile for N=16, batch %d" % (name, batch), flush=True)
        r, _ = run([a.protobrain, "compile", qdq, "-o", prog, "--array", "16", "--batch", str(batch)])
        print("   " + r.stdout.strip().splitlines()[-1] if r.stdout.strip() else "   " + r.stderr.strip().splitlines()[-1])
        print("== %s: onnxruntime float and QDQ int8 models on %d images" % (name, n_all), flush=True)
        f_out = ort.InferenceSession(flt, so, providers=["CPUExecutionProvider"]).run(None, {"input": x})[0]
        q_out = ort.InferenceSession(qdq, so, providers=["CPUExecutionProvider"]).run(None, {"input": x})[0]
        print("== %s: Protobrain C reference model on %d images" % (name, n_all), flush=True)
        yref = os.path.join(a.outdir, name + "_ref.npy")
        r, t_ref = run([a.protobrain, "run", prog, "--backend", "ref", "--input", xin, "--output", yref, "--stats"])
        pred_ref, meas_ref = stats(r.stderr)
        got = np.load(yref)
        print("== %s: Verilated RTL in lock step with the model on %d images" % (name, n_rtl), flush=True)
        yrtl = os.path.join(a.outdir, name + "_rtl.npy")
        r, t_rtl = run([a.protobrain, "run", prog, "--backend", "verilator", "--cosim", "--input", xin_rtl,
                        "--output", yrtl, "--stats"])
        pred_rtl, meas_rtl = stats(r.stderr)
        got_rtl = np.load(yrtl)
        same = lambda p, q: p.view(np.uint32) == q.view(np.uint32)  # noqa: E731  (bit for bit)
        same_ort = int(same(got, q_out).all(axis=1).sum())
        bytes_ort = int(same(got, q_out).sum())
        rtl_mismatch = int((~same(got_rtl, got[:n_rtl])).sum())
        acc = lambda out, n: 100.0 * float((np.argmax(out[:n], axis=1) == y[:n]).mean())  # noqa: E731
        per_img = meas_ref / n_all if n_all else 0
        rows.append((name, acc(f_out, n_all), acc(q_out, n_all), acc(got, n_all), acc(got_rtl, n_rtl), bytes_ort,
                     got.size, same_ort, rtl_mismatch, got_rtl.size, meas_rtl / n_rtl, pred_rtl / n_rtl,
                     per_img, t_ref, t_rtl))
        ok = ok and bytes_ort == got.size and rtl_mismatch == 0 and meas_rtl == pred_rtl and meas_ref == pred_ref
    print()
    print("Fashion-MNIST test set, N=16 (sim16); C model on all %d images, RTL (lock step) on the first %d" %
          (n_all, n_rtl))
    print("%-8s %9s %9s %9s %9s %22s %14s %20s %12s" % ("model", "float ORT", "int8 ORT", "C model", "RTL",
                                                         "outputs equal to ORT", "RTL vs model", "cycles/img meas/pred",
                                                         "img/s@100MHz"))
    for (name, af, aq, am, ar, be, bt, _, mm, mt, cm, cp, cpi, t_ref, t_rtl) in rows:
        print("%-8s %8.2f%% %8.2f%% %8.2f%% %8.2f%% %10d/%-11d %6d differ %12.1f/%-8.1f %12.0f" %
              (name, af, aq, am, ar, be, bt, mm, cm, cp, 100e6 / cpi if cpi else 0))
    for (name, *_, t_ref, t_rtl) in rows:
        print("  %s: C model %.1f s for %d images, RTL lock step %.1f s for %d images" % (name, t_ref, n_all, t_rtl,
                                                                                         n_rtl))
    print("demo: %s" % ("every output equals onnxruntime's bit for bit; RTL identical to the model; measured cycles "
                        "equal the prediction" if ok else "MISMATCH (see the table)"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
