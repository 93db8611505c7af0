# SPDX-License-Identifier: Apache-2.0
"""Fashion-MNIST from Debian's dataset-fashion-mnist package (IDX files).

    make models       # = train.py, quantize.py, evaluate.py (Makefile target by the lead)
    make data         # = make_data.py --out build/data (Makefile target by the lead)
    .venv/bin/python models/fmnist.py          # prints shapes and checksums

    x = pixel / 255 as float32, shape N x 1 x 28 x 28 (no mean/std shift)
    y = label as int64, shape N

Files: /usr/share/datasets/fashion-mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz
(override the directory with the environment variable FMNIST_DIR).
Only numpy and the standard library are used, so the C side's tests can
share this loader without torch.
"""
import gzip
import hashlib
import os
import struct

import numpy as np

DATA_DIR = os.environ.get("FMNIST_DIR", "/usr/share/datasets/fashion-mnist")
FILES = {
    ("train", "images"): "train-images-idx3-ubyte.gz",
    ("train", "labels"): "train-labels-idx1-ubyte.gz",
    ("test", "images"): "t10k-images-idx3-ubyte.gz",
    ("test", "labels"): "t10k-labels-idx1-ubyte.gz",
}
COUNTS = {"train": 60000, "test": 10000}
CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
           "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

# Calibration subset for static quantization: the first CALIB_N train images.
CALIB_N = 500


def read_idx(path):
    """Read a (gzipped) IDX file of unsigned bytes; returns a uint8 ndarray."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise ValueError(f"{path}: not an IDX file (bad magic)")
    dtype_code, ndim = data[2], data[3]
    if dtype_code != 0x08:
        raise ValueError(f"{path}: IDX type 0x{dtype_code:02x}, expected 0x08 (uint8)")
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    off = 4 + 4 * ndim
    n = int(np.prod(dims))
    if len(data) - off != n:
        raise ValueError(f"{path}: {len(data) - off} data bytes, header says {n}")
    return np.frombuffer(data, dtype=np.uint8, offset=off).reshape(dims)


def load_u8(split):
    """Raw images (N x 28 x 28 uint8) and labels (N uint8) of 'train' or 'test'."""
    x = read_idx(os.path.join(DATA_DIR, FILES[(split, "images")]))
    y = read_idx(os.path.join(DATA_DIR, FILES[(split, "labels")]))
    if x.shape != (COUNTS[split], 28, 28) or y.shape != (COUNTS[split],):
        raise ValueError(f"{split}: unexpected shapes {x.shape} {y.shape}")
    return x, y


def to_float(x_u8):
    """uint8 N x 28 x 28 -> float32 N x 1 x 28 x 28 in [0, 1] (pixel / 255)."""
    return (x_u8.astype(np.float32) / np.float32(255.0))[:, None, :, :]


def load(split):
    """Float images (N x 1 x 28 x 28, pixel/255) and int64 labels of 'train' or 'test'."""
    x, y = load_u8(split)
    return to_float(x), y.astype(np.int64)


def calib_set():
    """The fixed calibration subset: the first CALIB_N train images (float)."""
    x, _ = load_u8("train")
    return to_float(x[:CALIB_N])


if __name__ == "__main__":
    for split in ("train", "test"):
        x, y = load(split)
        h = hashlib.sha256(x.tobytes()).hexdigest()[:16]
        print(f"{split}: x {x.shape} {x.dtype} [{x.min():.3f}, {x.max():.3f}] "
              f"y {y.shape} counts {np.bincount(y).tolist()} sha256(x)[:16]={h}")
