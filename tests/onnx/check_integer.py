# SPDX-License-Identifier: Apache-2.0
"""MatMulInteger and ConvInteger programs against onnxruntime, byte for byte.

Random models (fixed seed) with the weights as initializers: int8 and uint8
activations and weights, per-tensor and per-column weight zero points
(uint8 weights above 127 need two int8 weight parts), K and output channels
that are not multiples of N and span several tiles, convolutions with
padding and stride. For each model: onnxruntime computes the int32 output
(a per-channel w_zero_point ConvInteger, which onnxruntime refuses: numpy,
by the definition);
`protobrain compile` for N = 4, 8, 16 and `protobrain run --backend ref`
must give the same bytes; for N = 4 and 16 (the Verilated builds) also
`--backend verilator --cosim` (the RTL in lock step with the C model, which
compares every write, every issue cycle and the counters).

Usage: check_integer.py PROTOBRAIN OUTDIR
Prints one line per check and ends with "# check_integer: P passed, F failed".
"""
import os
import subprocess
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

passed = failed = 0


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
        print("ok  ", what)
    else:
        failed += 1
        print("FAIL", what)


def np_type(t):
    return np.uint8 if t == TensorProto.UINT8 else np.int8


def model_matmul(rng, name, M, K, C, ta, tb, per_col):
    a_zp = rng.integers(0, 256) if ta == TensorProto.UINT8 else rng.integers(-128, 128)
    lo, hi = (0, 256) if tb == TensorProto.UINT8 else (-128, 128)
    B = rng.integers(lo, hi, size=(K, C)).astype(np_type(tb))
    b_zp = rng.integers(lo, hi, size=(C,) if per_col else ()).astype(np_type(tb))
    if tb == TensorProto.INT8:  # keep w - zp inside what the compiler splits (|w - zp| <= 381)
        b_zp = (b_zp // 4).astype(np.int8)
    inits = [numpy_helper.from_array(B, "B"), numpy_helper.from_array(np.array(a_zp, np_type(ta)), "a_zp"),
             numpy_helper.from_array(b_zp, "b_zp")]
    node = helper.make_node("MatMulInteger", ["A", "B", "a_zp", "b_zp"], ["Y"])
    g = helper.make_graph([node], name, [helper.make_tensor_value_info("A", ta, [M, K])],
                          [helper.make_tensor_value_info("Y", TensorProto.INT32, [M, C])], inits)
    x = rng.integers(0, 256 if ta == TensorProto.UINT8 else 128, size=(M, K))
    if ta == TensorProto.INT8:
        x = rng.integers(-128, 128, size=(M, K))
    return g, x.astype(np_type(ta))


def model_conv(rng, name, Cin, H, W, Cout, k, stride, pad, per_ch):
    x_zp = rng.integers(0, 256)
    Wt = rng.integers(0, 256, size=(Cout, Cin, k, k)).astype(np.uint8)
    w_zp = rng.integers(0, 256, size=(Cout,) if per_ch else ()).astype(np.uint8)
    inits = [numpy_helper.from_array(Wt, "W"), numpy_helper.from_array(np.array(x_zp, np.uint8), "x_zp"),
             numpy_helper.from_array(w_zp, "w_zp")]
    node = helper.make_node("ConvInteger", ["X", "W", "x_zp", "w_zp"], ["Y"], pads=[pad] * 4, strides=[stride] * 2)
    OH, OW = (H + 2 * pad - k) // stride + 1, (W + 2 * pad - k) // stride + 1
    g = helper.make_graph([node], name, [helper.make_tensor_value_info("X", TensorProto.UINT8, [1, Cin, H, W])],
                          [helper.make_tensor_value_info("Y", TensorProto.INT32, [1, Cout, OH, OW])], inits)
    return g, rng.integers(0, 256, size=(1, Cin, H, W)).astype(np.uint8)


def conv_ref(x, w, x_zp, w_zp, stride, pad):
    """ConvInteger by definition in int64 (onnxruntime's ConvInteger refuses per-channel w_zero_point)."""
    xs = np.pad(x.astype(np.int64) - int(x_zp), ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    ws = w.astype(np.int64) - w_zp.astype(np.int64).reshape(-1, 1, 1, 1)
    Cout, _, k, _ = w.shape
    OH, OW = (xs.shape[2] - k) // stride + 1, (xs.shape[3] - k) // stride + 1
    y = np.zeros((1, Cout, OH, OW), np.int64)
    for oy in range(OH):
        for ox in range(OW):
            patch = xs[0, :, oy * stride:oy * stride + k, ox * stride:ox * stride + k]
            y[0, :, oy, ox] = np.tensordot(ws, patch, axes=([1, 2, 3], [0, 1, 2]))
    return y.astype(np.int32)


def run(cmd, log):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    log.write("$ " + " ".join(cmd) + "\n" + r.stdout)
    return r.returncode == 0


def main():
    pb, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(0x1A7E6E5)
    U, S = TensorProto.UINT8, TensorProto.INT8
    cases = [
        model_matmul(rng, "mmi_u8u8_percol", 7, 19, 11, U, U, True),
        model_matmul(rng, "mmi_s8s8", 5, 40, 23, S, S, False),
        model_matmul(rng, "mmi_u8s8_percol", 3, 33, 17, U, S, True),
        model_matmul(rng, "mmi_s8u8", 9, 8, 4, S, U, False),
        model_conv(rng, "convi_pad1", 3, 9, 8, 6, 3, 1, 1, False),
        model_conv(rng, "convi_stride2", 5, 11, 11, 9, 3, 2, 0, False),
        model_conv(rng, "convi_1x1", 17, 4, 5, 20, 1, 1, 0, False),
        model_conv(rng, "convi_pad2_perchannel", 4, 7, 6, 10, 3, 1, 2, True),
    ]
    with open(os.path.join(out, "log.txt"), "w") as log:
        for g, x in cases:
            name = g.name
            m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
            m.ir_version = 8
            onnx.checker.check_model(m)
            path = os.path.join(out, name + ".onnx")
            onnx.save(m, path)
            inits = {t.name: numpy_helper.to_array(t) for t in g.initializer}
            if g.node[0].op_type == "ConvInteger" and inits["w_zp"].size > 1:
                attrs = {a.name: helper.get_attribute_value(a) for a in g.node[0].attribute}
                want = conv_ref(x, inits["W"], inits["x_zp"], inits["w_zp"], attrs["strides"][0], attrs["pads"][0])
                src = "numpy's"
            else:
                sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
                want = sess.run(None, {g.input[0].name: x})[0]
                src = "onnxruntime's"
            xin = os.path.join(out, name + ".in.npy")
            np.save(xin, x)
            for n in (4, 8, 16):
                prog = os.path.join(out, "%s.n%d.pbin" % (name, n))
                if not run([pb, "compile", path, "-o", prog, "--array", str(n)], log):
                    check(False, "%s N=%d: compile (log %s)" % (name, n, log.name))
                    continue
                backends = [("ref", [])]
                if n in (4, 16):
                    backends.append(("verilator", ["--cosim"]))
                for be, extra in backends:
                    y = os.path.join(out, "%s.n%d.%s.npy" % (name, n, be))
                    ok = run([pb, "run", prog, "--backend", be, *extra, "--input", xin, "--output", y], log)
                    got = np.load(y) if ok and os.path.exists(y) else None
                    same = got is not None and got.dtype == want.dtype and got.shape == want.shape and \
                        np.array_equal(got, want)
                    diff = "" if same or got is None or got.shape != want.shape else \
                        ", %d of %d values differ" % (int(np.sum(got != want)), want.size)
                    check(same, "%s N=%d %s%s: int32 %s equal to %s%s" %
                          (name, n, be, " --cosim" if extra else "", "x".join(map(str, want.shape)), src, diff))
    print("# check_integer: %d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
