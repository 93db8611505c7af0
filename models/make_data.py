# SPDX-License-Identifier: Apache-2.0
"""Write the Fashion-MNIST arrays the demo and tests read, from Debian's files.

    make data         # = make_data.py --out build/data (Makefile target by the lead)
    .venv/bin/python models/make_data.py              # -> build/data/
    .venv/bin/python models/make_data.py --out DIR

Writes (NumPy .npy, version 1.0 header, little-endian, C order):
    test_x.npy   float32 (10000, 1, 28, 28)  pixel / 255      (31,360,128 bytes)
    test_y.npy   uint8   (10000,)            labels 0..9
    calib_x.npy  float32 (500, 1, 28, 28)    the first 500 TRAIN images, pixel / 255
                                             (the same subset models/quantize.py calibrates on)
Nothing derived from the dataset is committed: build/ is git-ignored and these
files are made from /usr/share/datasets/fashion-mnist in about two seconds.
"""
import argparse
import hashlib
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import fmnist  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(HERE, "..", "build", "data"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    xte, yte = fmnist.load_u8("test")
    arrays = {
        "test_x.npy": fmnist.to_float(xte),
        "test_y.npy": yte.astype(np.uint8),
        "calib_x.npy": fmnist.calib_set(),
    }
    for fname, a in arrays.items():
        path = os.path.join(args.out, fname)
        np.save(path, np.ascontiguousarray(a))
        with open(path, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        print(f"{os.path.normpath(path)}: {a.dtype} {a.shape} {os.path.getsize(path)} bytes "
              f"sha256 {digest[:16]}")


if __name__ == "__main__":
    main()
