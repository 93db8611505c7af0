# SPDX-License-Identifier: Apache-2.0
"""Never a crash: compile (and, when that succeeds, run) mutated models with the ASan+UBSan CLI.

Each mutant is a shipped model (QDQ or float, with --calib) with 1..3 random mutations: an initializer
element set to an edge value (0, NaN, 1e30, int extremes), an attribute changed, a node input rewired,
a node dropped; compiled for a random N (3, 4, 8, 16) and batch (1, 2, 5). Every run must end with an
exit status (0, or 1 with a message), never a signal or a sanitizer report.
Usage: fuzz_compile.py PROTOBRAIN OUTDIR SEED COUNT. Ends with "# fuzz_compile: P passed, F failed".
"""
import os
import random
import subprocess
import sys

import numpy as np
import onnx
from onnx import numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SRCS = ["mlp_w0.25.qdq.onnx", "cnn_w0.25.qdq.onnx", "mlp_w0.25.onnx", "cnn_w0.25.onnx"]


def bad(r):
    return r.returncode < 0 or r.returncode >= 128 or "Sanitizer" in r.stderr or "runtime error" in r.stderr


def mutate(g):
    r = random.random()
    if r < 0.3 and g.initializer:
        t = random.choice(g.initializer)
        a = numpy_helper.to_array(t).copy()
        if a.size:
            flat = a.reshape(-1)
            i = random.randrange(a.size)
            if a.dtype == np.float32:
                flat[i] = random.choice([0.0, -1.0, 1e30, -1e-30, float("nan"), 3.0])
            elif a.dtype == np.int8:
                flat[i] = random.choice([-128, 127, 0, 5])
            elif a.dtype == np.int32:
                flat[i] = random.choice([2**31 - 1, -2**31, 0, 7])
        t.CopyFrom(numpy_helper.from_array(a, t.name))
    elif r < 0.6:
        n = random.choice(list(g.node))
        if n.attribute:
            at = random.choice(list(n.attribute))
            if at.type == onnx.AttributeProto.INTS and at.ints:
                at.ints[random.randrange(len(at.ints))] = random.choice([0, 1, 2, 3, 5, -1])
            elif at.type == onnx.AttributeProto.INT:
                at.i = random.choice([0, 1, 2, -1, 3])
            elif at.type == onnx.AttributeProto.FLOAT:
                at.f = random.choice([0.0, 2.0, -1.0])
    elif r < 0.8:
        n = random.choice(list(g.node))
        names = [v for nn in g.node for v in nn.output] + [i.name for i in g.initializer]
        if n.input:
            n.input[random.randrange(len(n.input))] = random.choice(names)
    elif len(g.node) > 2:
        g.node.remove(random.choice(list(g.node)))


def main():
    pb, out, seed, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    os.makedirs(out, exist_ok=True)
    random.seed(seed)
    print("# fuzz_compile: seed %d, %d mutants" % (seed, count))
    x = os.path.join(out, "x.npy")
    np.save(x, np.load(os.path.join(ROOT, "build", "data", "test_x.npy"))[:3])
    calib = os.path.join(ROOT, "build", "data", "calib_x.npy")
    passed = failed = compiled = 0
    for it in range(count):
        src = random.choice(SRCS)
        m = onnx.load(os.path.join(ROOT, "models", src))
        for _ in range(random.randint(1, 3)):
            mutate(m.graph)
        path = os.path.join(out, "m%d.onnx" % it)
        onnx.save(m, path)
        prog = os.path.join(out, "m.pbin")
        args = [pb, "compile", path, "-o", prog, "--array", random.choice(["3", "4", "8", "16"]),
                "--batch", random.choice(["1", "2", "5"])]
        if "qdq" not in src:
            args += ["--calib", calib]
        r = subprocess.run(args, capture_output=True, text=True)
        ok = not bad(r)
        if ok and r.returncode == 0:
            compiled += 1
            r = subprocess.run([pb, "run", prog, "--input", x], capture_output=True, text=True)
            ok = not bad(r)
        if ok:
            passed += 1
            os.remove(path)
        else:
            failed += 1
            print("FAIL mutant %d (kept as %s): exit %d\n%s" % (it, path, r.returncode, r.stderr[-3000:]))
    print("%d of %d mutants compiled (and ran); the others were refused with a message" % (compiled, count))
    print("# fuzz_compile: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
