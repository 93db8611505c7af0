# SPDX-License-Identifier: Apache-2.0
"""The agility table: every width variant of the MLP and the CNN compiled for N=16 (batch 32),
run on 256 test images on the Verilated RTL (measured cycles) and on the C model (all 10,000
images: accuracy), with MACs per image and the ratio of cycles between neighbouring widths.

Usage: agility.py PROTOBRAIN OUTDIR
"""
import json
import os
import re
import subprocess
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        sys.exit("agility: %s failed:\n%s%s" % (" ".join(cmd), r.stdout, r.stderr))
    return r


def main():
    pb, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    info = json.load(open(os.path.join(ROOT, "models", "models.json")))
    x = np.load(os.path.join(ROOT, "build", "data", "test_x.npy"))
    y = np.load(os.path.join(ROOT, "build", "data", "test_y.npy")).astype(np.int64)
    xin, xs = os.path.join(out, "x.npy"), os.path.join(out, "x256.npy")
    np.save(xin, x)
    np.save(xs, np.ascontiguousarray(x[:256]))
    print("%-10s %10s %12s %12s %8s %9s %12s" % ("model", "MACs/img", "predicted", "measured", "ratio", "accuracy",
                                                 "vs previous"))
    for kind in ("mlp", "cnn"):
        prev = None
        for w in ("0.25", "0.5", "1", "2"):
            name = "%s_w%s" % (kind, w)
            prog = os.path.join(out, name + ".pbin")
            run([pb, "compile", os.path.join(ROOT, "models", name + ".qdq.onnx"), "-o", prog, "--array", "16",
                 "--batch", "32"])
            r = run([pb, "run", prog, "--backend", "verilator", "--input", xs, "--output",
                     os.path.join(out, "y.npy"), "--stats"])
            m = re.search(r"cycles: predicted (\d+), measured (\d+)", r.stderr)
            pred, meas = int(m.group(1)) / 256, int(m.group(2)) / 256
            run([pb, "run", prog, "--input", xin, "--output", os.path.join(out, "yall.npy")])
            acc = 100.0 * float((np.argmax(np.load(os.path.join(out, "yall.npy")), axis=1) == y).mean())
            macs = info["models"][name]["macs_per_image"]
            ratio = "" if prev is None else "x%.2f" % (meas / prev)
            print("%-10s %10s %12.1f %12.1f %8s %8.2f%% %12s" % (name, macs, pred, meas,
                                                                  "=" if pred == meas else "DIFF", acc, ratio))
            prev = meas


if __name__ == "__main__":
    main()
