# SPDX-License-Identifier: Apache-2.0
"""Accuracy of the float and QDQ models on the 10k Fashion-MNIST test set, in onnxruntime.

    make models       # = train.py, quantize.py, evaluate.py (Makefile target by the lead)
    .venv/bin/python models/evaluate.py                 # table + models/models.json
    .venv/bin/python models/evaluate.py --only cnn_w1   # some models, no models.json
    .venv/bin/python models/evaluate.py --no-json       # table only

(`make models` runs models/train.py, models/quantize.py, then this; see docs/models.md.)

Columns:
    float      float model, onnxruntime (CPU, default optimizations, 1 thread)
    qdq        QDQ model, onnxruntime default optimizations: the int8 kernels
               (QLinearConv/QGemm) run; this is the reference the compiled
               program must match byte for byte
    qdq-noopt  QDQ model with graph optimizations off: runs in float
               (fake quantization), shown only for comparison (TOOLCHAIN.md)
    agree      test images where float and qdq predict the same class
Also checks that the QDQ models quantize the input as q = pixel - 128
(scale 1/255, zero point -128), so the int8 input can come straight from the
uint8 image. Writes models/models.json (sizes, sha256, parameters, MACs,
accuracies) for the tests and docs/models.md.
"""
import argparse
import hashlib
import json
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper
import onnxruntime as ort

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import fmnist  # noqa: E402

# Duplicated from train.py so this script does not need torch.
NAMES = [f"{k}_w{w}" for k in ("mlp", "cnn") for w in ("0.25", "0.5", "1", "2")]


def session(path, optimize=True):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.log_severity_level = 3
    if not optimize:
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def predict(path, x, optimize=True):
    s = session(path, optimize)
    return np.concatenate([s.run(["logits"], {"input": x[i:i + 1000]})[0]
                           for i in range(0, len(x), 1000)]).argmax(1)


def file_info(path):
    with open(path, "rb") as f:
        data = f.read()
    return {"file": os.path.basename(path), "bytes": len(data),
            "sha256": hashlib.sha256(data).hexdigest()}


def model_stats(path):
    """Parameters (initializer elements) and MACs per image of a float model."""
    m = onnx.load(path)
    init = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    params = int(sum(a.size for a in init.values()))
    macs, hw = 0, 28 * 28
    for n in m.graph.node:
        if n.op_type == "Conv":
            w = init[n.input[1]]
            macs += hw * w.size           # padding 1, stride 1: output H x W = input H x W
        elif n.op_type == "MaxPool":
            hw //= 4
        elif n.op_type == "Gemm":
            macs += init[n.input[1]].size
    return params, macs


def input_quant(path):
    """(scale, zero point) of the first QuantizeLinear (the image's quantization)."""
    m = onnx.load(path)
    init = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    q = next(n for n in m.graph.node if n.op_type == "QuantizeLinear")
    return init[q.input[1]], init[q.input[2]]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", nargs="*", choices=NAMES)
    ap.add_argument("--dir", default=HERE)
    ap.add_argument("--no-json", action="store_true")
    args = ap.parse_args()

    xu8, y = fmnist.load_u8("test")
    x = fmnist.to_float(xu8)
    print(f"evaluate.py: onnxruntime {ort.__version__}, onnx {onnx.__version__}, "
          f"{len(y)} test images")
    print(f"{'model':<10} {'params':>7} {'MACs':>8} {'float':>7} {'qdq':>7} {'qdq-noopt':>9} "
          f"{'agree':>7} {'float B':>8} {'qdq B':>7}  input q")
    manifest = {}
    for name in args.only or NAMES:
        fp = os.path.join(args.dir, f"{name}.onnx")
        qp = os.path.join(args.dir, f"{name}.qdq.onnx")
        pf = predict(fp, x)
        pq = predict(qp, x)
        pn = predict(qp, x, optimize=False)
        acc_f, acc_q, acc_n = (float((p == y).mean()) for p in (pf, pq, pn))
        agree = float((pf == pq).mean())
        params, macs = model_stats(fp)
        s, z = input_quant(qp)
        # ONNX QuantizeLinear: clamp(rne(f32(x / s)) + zp, -128, 127)
        q = np.clip(np.rint(x / s) + z.astype(np.int32), -128, 127).astype(np.int8)
        pix = bool(np.array_equal(q.reshape(len(x), -1), (xu8.astype(np.int16) - 128)
                                  .astype(np.int8).reshape(len(x), -1)))
        fi, qi = file_info(fp), file_info(qp)
        print(f"{name:<10} {params:>7} {macs:>8} {acc_f * 100:>6.2f}% {acc_q * 100:>6.2f}% "
              f"{acc_n * 100:>8.2f}% {agree * 100:>6.2f}% {fi['bytes']:>8} {qi['bytes']:>7}  "
              f"scale {float(s):.8g} zp {int(z)}{' = pixel-128' if pix else ' (NOT pixel-128)'}",
              flush=True)
        manifest[name] = {
            "params": params, "macs_per_image": macs,
            "float": dict(fi, test_accuracy=acc_f),
            "qdq": dict(qi, test_accuracy=acc_q, test_accuracy_no_opt=acc_n,
                        input_scale=float(s), input_zero_point=int(z),
                        input_is_pixel_minus_128=pix),
            "top1_agreement_float_vs_qdq": agree,
        }
    if not args.only and not args.no_json:
        out = os.path.join(args.dir, "models.json")
        doc = {"dataset": "Fashion-MNIST test set (10000 images), x = pixel/255",
               "onnxruntime": ort.__version__, "models": manifest}
        with open(out, "w") as f:
            json.dump(doc, f, indent=1, sort_keys=True)
            f.write("\n")
        print(f"wrote {out}")


if __name__ == "__main__":
    main()
