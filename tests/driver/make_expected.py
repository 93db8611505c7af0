# SPDX-License-Identifier: Apache-2.0
"""Inputs and onnxruntime's outputs for the library tests (tests/driver/test_api.c, test_alloc.c).

Usage: make_expected.py OUTDIR [IMAGES]
Writes raw little-endian files (no header), so that the C tests need nothing but the public API:
    x.f32          the first IMAGES (default 13) Fashion-MNIST test images, float32 (IMAGES x 784)
    cnn_q.i8       onnxruntime's int8 logits of models/cnn_w1.qdq.onnx (its final DequantizeLinear
                   dropped), IMAGES x 10
    cnn_f.f32      onnxruntime's float logits of the QDQ model, IMAGES x 10
    head.onnx      models/mlp_w0.25.qdq.onnx + a float Softmax and an ArgMax on its logits: a model
                   with host steps (as tests/onnx/check_host_steps.py)
    head_prob.f32  onnxruntime's Softmax output, IMAGES x 10
    head_cls.i64   onnxruntime's ArgMax output, IMAGES
onnxruntime runs with its default optimizations (its int8 kernels), as in tests/onnx/check_ort.py.
"""
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "onnx"))
from check_ort import int8_model  # noqa: E402


def session(path):
    return ort.InferenceSession(path, ort.SessionOptions(), providers=["CPUExecutionProvider"])


def main():
    out = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 13
    os.makedirs(out, exist_ok=True)
    x = np.ascontiguousarray(np.load(os.path.join(ROOT, "build", "data", "test_x.npy"))[:n])
    x.astype("<f4").tofile(os.path.join(out, "x.f32"))

    qdq = os.path.join(ROOT, "models", "cnn_w1.qdq.onnx")
    i8 = os.path.join(out, "cnn_w1.int8.onnx")
    int8_model(qdq, i8)
    q = session(i8).run(None, {"input": x})[0]
    f = session(qdq).run(None, {"input": x})[0]
    assert q.dtype == np.int8 and q.shape == (n, 10) and f.dtype == np.float32 and f.shape == (n, 10)
    q.tofile(os.path.join(out, "cnn_q.i8"))
    f.astype("<f4").tofile(os.path.join(out, "cnn_f.f32"))

    m = onnx.load(os.path.join(ROOT, "models", "mlp_w0.25.qdq.onnx"))
    g = m.graph
    logits = g.output[0].name
    g.node.append(helper.make_node("Softmax", [logits], ["prob"], axis=1))
    g.node.append(helper.make_node("ArgMax", [logits], ["cls"], axis=1, keepdims=0))
    del g.output[:]
    g.output.extend([helper.make_tensor_value_info("prob", TensorProto.FLOAT, None),
                     helper.make_tensor_value_info("cls", TensorProto.INT64, None)])
    head = os.path.join(out, "head.onnx")
    onnx.save(m, head)
    p, c = session(head).run(None, {"input": x})
    assert p.shape == (n, 10) and c.dtype == np.int64 and c.shape == (n,)
    p.astype("<f4").tofile(os.path.join(out, "head_prob.f32"))
    c.astype("<i8").tofile(os.path.join(out, "head_cls.i64"))
    print("make_expected: %d images; onnxruntime %s; cnn classes %s" % (n, ort.__version__, q.argmax(1).tolist()))


if __name__ == "__main__":
    main()
