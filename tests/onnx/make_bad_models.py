# SPDX-License-Identifier: Apache-2.0
"""Small ONNX models for the compiler's error tests (tests/cli/test_compile.sh).

Usage: make_bad_models.py OUTDIR   -- writes one .onnx per error class:
  unsupported_op.onnx      a Tanh node
  bad_attribute.onnx       Conv with group = 2
  missing_init.onnx        Gemm reading a weight that nothing defines
  bad_shapes.onnx          Gemm whose inner dimensions differ
  float_gemm.onnx          a float Gemm (needs --calib)
  int32_row_zp.onnx        MatMulInteger with a per-row a_zero_point (only per-tensor is supported)
  big_gemm.onnx            a QDQ Gemm 2048 x 2048 (too large for small memories)
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def save(graph, path, opset=13):
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 7
    onnx.save(m, path)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(7)
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)

    save(helper.make_graph([helper.make_node("Tanh", ["x"], ["y"], name="n0")], "g", [x], [y]),
         os.path.join(out, "unsupported_op.onnx"))

    xc = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 5, 5])
    w = numpy_helper.from_array(rng.standard_normal((4, 2, 3, 3)).astype(np.float32), "W")
    save(helper.make_graph([helper.make_node("Conv", ["x", "W"], ["y"], name="conv1", group=2)], "g", [xc], [y], [w]),
         os.path.join(out, "bad_attribute.onnx"))

    save(helper.make_graph([helper.make_node("Gemm", ["x", "W"], ["y"], name="fc")], "g", [x], [y]),
         os.path.join(out, "missing_init.onnx"))

    wb = numpy_helper.from_array(rng.standard_normal((5, 3)).astype(np.float32), "W")
    save(helper.make_graph([helper.make_node("Gemm", ["x", "W"], ["y"], name="fc")], "g", [x], [y], [wb]),
         os.path.join(out, "bad_shapes.onnx"))

    wf = numpy_helper.from_array(rng.standard_normal((4, 3)).astype(np.float32), "W")
    save(helper.make_graph([helper.make_node("Gemm", ["x", "W"], ["y"], name="fc")], "g", [x], [y], [wf]),
         os.path.join(out, "float_gemm.onnx"))

    a = helper.make_tensor_value_info("a", TensorProto.UINT8, [2, 3])
    yi = helper.make_tensor_value_info("y", TensorProto.INT32, None)
    bi = numpy_helper.from_array(rng.integers(0, 255, (3, 2)).astype(np.uint8), "B")
    azp = numpy_helper.from_array(np.array([3, 5], np.uint8), "a_zp")
    save(helper.make_graph([helper.make_node("MatMulInteger", ["a", "B", "a_zp"], ["y"], name="mmi")], "g", [a], [yi],
                           [bi, azp]), os.path.join(out, "int32_row_zp.onnx"))

    # a QDQ Gemm 2048 -> 2048: 4 MiB of weights
    k = 2048
    xb = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, k])
    inits = [numpy_helper.from_array(rng.integers(-127, 128, (k, k)).astype(np.int8), "Wq"),
             numpy_helper.from_array(np.full(k, 0.01, np.float32), "Ws"),
             numpy_helper.from_array(np.zeros(k, np.int8), "Wz"),
             numpy_helper.from_array(np.array(0.02, np.float32), "xs"),
             numpy_helper.from_array(np.array(0, np.int8), "xz"),
             numpy_helper.from_array(np.array(0.5, np.float32), "ys"),
             numpy_helper.from_array(np.array(0, np.int8), "yz")]
    nodes = [helper.make_node("QuantizeLinear", ["x", "xs", "xz"], ["xq"]),
             helper.make_node("DequantizeLinear", ["xq", "xs", "xz"], ["xd"]),
             helper.make_node("DequantizeLinear", ["Wq", "Ws", "Wz"], ["Wd"], axis=0),
             helper.make_node("Gemm", ["xd", "Wd"], ["g"], name="big", transB=1),
             helper.make_node("QuantizeLinear", ["g", "ys", "yz"], ["gq"]),
             helper.make_node("DequantizeLinear", ["gq", "ys", "yz"], ["y"])]
    save(helper.make_graph(nodes, "g", [xb], [y], inits), os.path.join(out, "big_gemm.onnx"))


if __name__ == "__main__":
    main()
