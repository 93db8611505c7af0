# SPDX-License-Identifier: Apache-2.0
"""Train the small Fashion-MNIST models and export them to ONNX.

    make models       # = train.py, quantize.py, evaluate.py (Makefile target by the lead)
    .venv/bin/python models/train.py                 # all 8 models -> models/*.onnx
    .venv/bin/python models/train.py --only cnn_w1   # one model
    .venv/bin/python models/train.py --out /tmp/m    # elsewhere (e.g. a reproducibility check)

(`make models` runs this, then models/quantize.py and models/evaluate.py;
see docs/models.md.)

Models (w = width multiplier, channel counts rounded to ints):
    mlp_wW: Flatten -> Linear(784, 128w) -> ReLU -> Linear(128w, 64w) -> ReLU -> Linear(64w, 10)
    cnn_wW: Conv(1, 16w, 3, pad 1) -> ReLU -> MaxPool(2) -> Conv(16w, 32w, 3, pad 1) -> ReLU
            -> MaxPool(2) -> Flatten -> Linear(32w*7*7, 10)
    W in {0.25, 0.5, 1, 2}.

Recipe: CPU, one thread, Adam lr 1e-3, batch 128, cross-entropy,
10 epochs for the MLPs and 3 for the CNNs.
Every model is seeded on its own (torch.manual_seed(SEED) right before it is
built, shuffling from a torch.Generator seeded with SEED), so training one
model alone gives the same weights as training all of them; deterministic
algorithms are on. ONNX: opset 13, input "input" [N,1,28,28] float32,
output "logits" [N,10], the batch axis dynamic and named "N".
"""
import argparse
import os
import random
import sys
import time

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fmnist  # noqa: E402

SEED = 20240601
EPOCHS = {"mlp": 10, "cnn": 3}  # the MLPs are cheap: more epochs cost seconds
BATCH = 128
LR = 1e-3
OPSET = 13
WIDTHS = ["0.25", "0.5", "1", "2"]
MLP_CH = {"0.25": (32, 16), "0.5": (64, 32), "1": (128, 64), "2": (256, 128)}
CNN_CH = {"0.25": (4, 8), "0.5": (8, 16), "1": (16, 32), "2": (32, 64)}
NAMES = [f"{kind}_w{w}" for kind in ("mlp", "cnn") for w in WIDTHS]
HERE = os.path.dirname(os.path.abspath(__file__))


def build(name):
    kind, w = name.split("_w")
    if kind == "mlp":
        h1, h2 = MLP_CH[w]
        return nn.Sequential(
            nn.Flatten(),
            nn.Linear(784, h1), nn.ReLU(),
            nn.Linear(h1, h2), nn.ReLU(),
            nn.Linear(h2, 10))
    if kind == "cnn":
        c1, c2 = CNN_CH[w]
        return nn.Sequential(
            nn.Conv2d(1, c1, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(c2 * 7 * 7, 10))
    raise ValueError(name)


def count_params(model):
    return sum(p.numel() for p in model.parameters())


def count_macs(name):
    """Multiply-accumulates of one image through the matmul layers (Gemm/Conv)."""
    kind, w = name.split("_w")
    if kind == "mlp":
        h1, h2 = MLP_CH[w]
        return 784 * h1 + h1 * h2 + h2 * 10
    c1, c2 = CNN_CH[w]
    return 28 * 28 * c1 * 9 + 14 * 14 * c2 * c1 * 9 + c2 * 7 * 7 * 10


def seed_all(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def evaluate(model, x, y):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), 1000):
            correct += (model(x[i:i + 1000]).argmax(1) == y[i:i + 1000]).sum().item()
    return correct / len(x)


def train_one(name, xtr, ytr, xte, yte, epochs):
    seed_all(SEED)
    model = build(name)
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    loss_fn = nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(SEED)
    n = len(xtr)
    t0 = time.time()
    for ep in range(epochs):
        model.train()
        perm = torch.randperm(n, generator=gen)
        total, seen = 0.0, 0
        for i in range(0, n, BATCH):
            idx = perm[i:i + BATCH]
            opt.zero_grad()
            loss = loss_fn(model(xtr[idx]), ytr[idx])
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
            seen += len(idx)
        acc = evaluate(model, xte, yte)
        print(f"  {name} epoch {ep + 1}/{epochs}: loss {total / seen:.4f} "
              f"test acc {acc * 100:.2f}%  ({time.time() - t0:.1f} s)", flush=True)
    return model, time.time() - t0, acc


def export(model, path):
    model.eval()
    dummy = torch.zeros(1, 1, 28, 28)
    torch.onnx.export(
        model, dummy, path,
        export_params=True, opset_version=OPSET, do_constant_folding=True,
        input_names=["input"], output_names=["logits"],
        dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}})


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", nargs="*", choices=NAMES, help="train only these models")
    ap.add_argument("--out", default=HERE, help="output directory (default: models/)")
    ap.add_argument("--epochs", type=int, default=None,
                    help="epochs for every model (default: 10 MLP, 3 CNN)")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads (default 1; the recorded results use 1)")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    os.makedirs(args.out, exist_ok=True)

    xtr, ytr = (torch.from_numpy(a) for a in fmnist.load("train"))
    xte, yte = (torch.from_numpy(a) for a in fmnist.load("test"))
    print(f"train.py: torch {torch.__version__}, {args.threads} thread(s), seed {SEED}, "
          f"epochs {args.epochs or EPOCHS}, batch {BATCH}, Adam lr {LR}", flush=True)

    rows = []
    t_all = time.time()
    for name in args.only or NAMES:
        m = build(name)
        print(f"{name}: {count_params(m)} parameters, {count_macs(name)} MACs/image", flush=True)
        epochs = args.epochs or EPOCHS[name.split("_w")[0]]
        model, secs, acc = train_one(name, xtr, ytr, xte, yte, epochs)
        path = os.path.join(args.out, f"{name}.onnx")
        export(model, path)
        rows.append((name, count_params(model), count_macs(name), secs, acc, os.path.getsize(path)))
        print(f"  -> {path} ({os.path.getsize(path)} bytes)", flush=True)

    print(f"\n{'model':<10} {'params':>8} {'MACs':>9} {'train s':>8} {'torch acc':>9} {'onnx bytes':>10}")
    for name, p, macs, secs, acc, size in rows:
        print(f"{name:<10} {p:>8} {macs:>9} {secs:>8.1f} {acc * 100:>8.2f}% {size:>10}")
    print(f"total training+export time {time.time() - t_all:.1f} s")


if __name__ == "__main__":
    main()
