# SPDX-License-Identifier: Apache-2.0
"""Static int8 quantization of the float models with onnxruntime (QDQ format).

    make models       # = train.py, quantize.py, evaluate.py (Makefile target by the lead)
    .venv/bin/python models/quantize.py                  # models/*.onnx -> models/*.qdq.onnx
    .venv/bin/python models/quantize.py --only cnn_w1    # one model
    .venv/bin/python models/quantize.py --show           # only print the graphs of existing QDQ models
    .venv/bin/python models/quantize.py --check          # re-quantize into a temporary directory and
                                                         # fail unless the bytes equal models/*.qdq.onnx

(`make models` runs models/train.py, this, then models/evaluate.py; see docs/models.md.)

Settings (DESIGN.md section 4):
    quantize_static(quant_format=QDQ, per_channel=True,
                    weight_type=QInt8 (symmetric, zero point 0, per output channel),
                    activation_type=QInt8 (asymmetric: ActivationSymmetric=False),
                    calibrate_method=MinMax, reduce_range=False)
    calibration: the first 500 TRAIN images (fmnist.calib_set()), pixel / 255.
No quant_pre_process: on these graphs it changes no node, only adds value_info
and eight unused opset imports; quantize_static runs ONNX shape inference itself.

Needs onnx >= 1.16 and ml_dtypes in the venv (onnxruntime.quantization imports
onnx.reference, TensorProto.INT4 and ml_dtypes; Debian's onnx 1.12 lacks them):
    .venv/bin/pip install onnx==1.23.2 ml_dtypes==0.5.4 numpy==<Debian's numpy>
"""
import argparse
import logging
import os
import sys
import tempfile

import numpy as np
import onnx
from onnx import numpy_helper
import onnxruntime as ort
from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat,
                                      QuantType, quantize_static)

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import fmnist  # noqa: E402

# As in train.py; repeated so that this script does not need torch.
NAMES = [f"{k}_w{w}" for k in ("mlp", "cnn") for w in ("0.25", "0.5", "1", "2")]


class CalibReader(CalibrationDataReader):
    """Feeds the calibration images in fixed batches of 100 (MinMax is order-independent)."""

    def __init__(self, x, batch=100):
        self.batches = [x[i:i + batch] for i in range(0, len(x), batch)]
        self.pos = 0

    def get_next(self):
        if self.pos >= len(self.batches):
            return None
        self.pos += 1
        return {"input": self.batches[self.pos - 1]}

    def rewind(self):
        self.pos = 0


def quantize(src, dst, calib):
    quantize_static(
        src, dst, CalibReader(calib),
        quant_format=QuantFormat.QDQ,
        per_channel=True,
        weight_type=QuantType.QInt8,
        activation_type=QuantType.QInt8,
        calibrate_method=CalibrationMethod.MinMax,
        reduce_range=False,
        extra_options={"ActivationSymmetric": False, "WeightSymmetric": True})


def _const(model):
    return {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}


def describe(path):
    """Print the QDQ graph: one line per node, with the scales and zero points."""
    m = onnx.load(path)
    init = _const(m)

    def qparams(node):
        s, z = init[node.input[1]], init[node.input[2]]
        if s.size == 1:
            return f"scale {float(s):.6g} zp {int(z)} ({z.dtype})"
        return f"per-channel x{s.size} scale [{s.min():.3g}..{s.max():.3g}] zp all {int(z.flat[0])} ({z.dtype})"

    print(f"{os.path.basename(path)}: ir_version {m.ir_version}, opset "
          f"{[(o.domain or 'ai.onnx', o.version) for o in m.opset_import]}")
    for n in m.graph.node:
        ins = [i for i in n.input]
        if n.op_type in ("QuantizeLinear", "DequantizeLinear"):
            src = ins[0]
            kind = f"initializer {init[src].dtype} {list(init[src].shape)}" if src in init else "tensor"
            print(f"  {n.op_type:<16} {src} ({kind}) -> {n.output[0]}: {qparams(n)}")
        else:
            print(f"  {n.op_type:<16} {', '.join(ins)} -> {', '.join(n.output)}")
    ops = [n.op_type for n in m.graph.node]
    print(f"  operators: {ops}")


def ort_optimized_ops(path):
    """Operators onnxruntime actually runs (default optimizations, CPU)."""
    with tempfile.TemporaryDirectory() as d:
        so = ort.SessionOptions()
        so.optimized_model_filepath = os.path.join(d, "opt.onnx")
        so.intra_op_num_threads = 1
        so.log_severity_level = 3  # no warning about NCHWc in the saved model
        ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
        m = onnx.load(so.optimized_model_filepath)
        return [n.op_type for n in m.graph.node]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", nargs="*", choices=NAMES)
    ap.add_argument("--dir", default=HERE, help="where the float models are (default models/)")
    ap.add_argument("--show", action="store_true", help="do not quantize, only describe")
    ap.add_argument("--check", action="store_true",
                    help="quantize into a temporary directory and compare with the committed QDQ models")
    args = ap.parse_args()
    logging.getLogger().setLevel(logging.ERROR)  # quantize_static nags about quant_pre_process

    print(f"quantize.py: onnxruntime {ort.__version__}, onnx {onnx.__version__}, numpy {np.__version__}")
    calib = fmnist.calib_set()
    if args.check:
        bad = 0
        with tempfile.TemporaryDirectory() as d:
            for name in args.only or NAMES:
                want = os.path.join(args.dir, f"{name}.qdq.onnx")
                got = os.path.join(d, f"{name}.qdq.onnx")
                quantize(os.path.join(args.dir, f"{name}.onnx"), got, calib)
                with open(want, "rb") as a, open(got, "rb") as b:
                    same = a.read() == b.read()
                bad += not same
                print(f"{name}.qdq.onnx: {'identical' if same else 'DIFFERS'}")
        sys.exit(1 if bad else 0)
    for name in args.only or NAMES:
        src = os.path.join(args.dir, f"{name}.onnx")
        dst = os.path.join(args.dir, f"{name}.qdq.onnx")
        if not args.show:
            quantize(src, dst, calib)
            print(f"{src} -> {dst} ({os.path.getsize(dst)} bytes)")
        describe(dst)
        print(f"  onnxruntime runs: {ort_optimized_ops(dst)}")


if __name__ == "__main__":
    main()
