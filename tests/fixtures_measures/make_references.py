"""Independent float64 references for lib/measures (tests/measures_references_test.ts).

Run from the repository root:  /usr/bin/python3 tests/fixtures_measures/make_references.py
Writes tests/fixtures_measures/references.json. Everything is computed the naive way from the
definitions in docs/metrics.md, with NumPy only: explicit centring matrices, distances from the
vectors themselves (not from a Gram matrix), LU inverses, np.unique for the binned symbols and a
max-shifted logsumexp for the KDE bound. Nothing here shares code or tricks with the TypeScript.
"""
import json
import math
import os

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "references.json")
SIM = ["cka_linear", "cka_debiased", "nhsic", "cka_gaussian", "hsic"]


# ----------------------------------------------------------------------------------------------
# Kernels


def sq_dists(a):
    diff = a[:, None, :] - a[None, :, :]
    return np.sum(diff * diff, axis=2)


def median_upper(v, n):
    iu = np.triu_indices(n, k=1)
    return float(np.median(v[iu]))


def gaussian(a, sigma, distance):
    n, d = a.shape
    dist = sq_dists(a)
    if distance == "plain":
        dist = np.sqrt(dist)
    if sigma == "median":
        s2 = median_upper(dist, n)
        if not s2 > 0:
            s2 = 1.0
    else:
        s2 = sigma * sigma * d
    return np.exp(-dist / (2 * s2))


def kernel(a, cfg):
    if cfg["kernel"] == "linear":
        return a @ a.T
    return gaussian(a, cfg["sigma"], cfg["distance"])


def label_kernel(y1, cfg):
    if cfg["label_kernel"] == "linear":
        return y1 @ y1.T
    return gaussian(y1, cfg["sigma"], cfg["distance"])


def H(n):
    return np.eye(n) - np.ones((n, n)) / n


# ----------------------------------------------------------------------------------------------
# Measures


def nocco(k, eps, centring):
    n = k.shape[0]
    h = H(n)
    kc = {"right": k @ h, "both": h @ k @ h, "none": k}[centring]
    return kc @ np.linalg.inv(kc + eps * n * np.eye(n))


def hsic_b(k, l):
    n = k.shape[0]
    h = H(n)
    return float(np.trace(k @ h @ l @ h)) / (n - 1) ** 2


def cka(k, l):
    den = math.sqrt(hsic_b(k, k) * hsic_b(l, l))
    return hsic_b(k, l) / den if den > 0 else 0.0


def hsic_u(k, l):
    n = k.shape[0]
    kt = k.copy()
    lt = l.copy()
    np.fill_diagonal(kt, 0)
    np.fill_diagonal(lt, 0)
    one = np.ones(n)
    return float(
        np.trace(kt @ lt)
        + (one @ kt @ one) * (one @ lt @ one) / ((n - 1) * (n - 2))
        - 2.0 / (n - 2) * (one @ kt @ lt @ one)
    ) / (n * (n - 3))


def cka_debiased(k, l):
    den = hsic_u(k, k) * hsic_u(l, l)
    return hsic_u(k, l) / math.sqrt(den) if den > 0 else 0.0


def entropy_bits(ids):
    _, counts = np.unique(ids, return_counts=True)
    p = counts / counts.sum()
    return float(-np.sum(p * np.log2(p)))


def row_ids(a):
    _, inv = np.unique(a, axis=0, return_inverse=True)
    return inv.reshape(-1)


def mi_binning(x, t, labels, bins, lo, hi):
    w = (hi - lo) / bins
    if w > 0:
        b = np.floor((t - lo) / w)
        b = np.clip(b, 0, bins - 1).astype(np.int64)
    else:
        b = np.zeros(t.shape, dtype=np.int64)
    tid = row_ids(b)
    xid = row_ids(x)
    ht = entropy_bits(tid)
    joint_x = entropy_bits(xid * (tid.max() + 1) + tid)
    joint_y = entropy_bits(labels * (tid.max() + 1) + tid)
    return entropy_bits(xid) + ht - joint_x, entropy_bits(labels) + ht - joint_y


def kde_entropy_part(t, s2):
    """-mean_i log mean_j exp(-D_ij / (2 s2)), in nats (the KL upper bound less its constants)."""
    n = t.shape[0]
    e = -sq_dists(t) / (2 * s2)
    mx = e.max(axis=1, keepdims=True)
    lse = mx[:, 0] + np.log(np.sum(np.exp(e - mx), axis=1))
    return float(-np.mean(lse - math.log(n)))


def mi_kde(t, labels, s2):
    hx = kde_entropy_part(t, s2)
    cond = 0.0
    for c in np.unique(labels):
        idx = labels == c
        cond += idx.mean() * kde_entropy_part(t[idx], s2)
    return hx / math.log(2), (hx - cond) / math.log(2)


# ----------------------------------------------------------------------------------------------
# Cases


def batch_ranges(m, b):
    if b is None or b >= m:
        return [(0, m)]
    out = []
    for s in range(0, m, b):
        e = min(s + b, m)
        if e - s >= 4:
            out.append((s, e))
    return out


def sim_value(name, a, b, cfg):
    lin = {"kernel": "linear"}
    gau = {"kernel": "gaussian", "sigma": cfg["sigma"], "distance": cfg["distance"]}
    if name == "cka_linear":
        return cka(kernel(a, lin), kernel(b, lin))
    if name == "cka_debiased":
        return cka_debiased(kernel(a, lin), kernel(b, lin))
    if name == "cka_gaussian":
        return cka(kernel(a, gau), kernel(b, gau))
    if name == "hsic":
        return hsic_b(kernel(a, cfg), kernel(b, cfg))
    ra = nocco(kernel(a, cfg), cfg["eps"], cfg["centring"])
    rb = nocco(kernel(b, cfg), cfg["eps"], cfg["centring"])
    return float(np.trace(ra @ rb))


def compute(case):
    cfg = case["estimator"]
    x = np.array(case["x"], dtype=np.float64)
    labels = np.array(case["labels"], dtype=np.int64)
    c = case["num_classes"]
    cps = case["checkpoints"]
    names = list(cps[0]["layers"].keys())
    opts = case["measure_options"]
    ranges = batch_ranges(len(labels), cfg["batch_size"])
    # Binning range per layer over every checkpoint and sample.
    rng = {}
    for name in names:
        vals = np.concatenate([np.array(cp["layers"][name]).ravel() for cp in cps])
        rng[name] = (float(vals.min()), float(vals.max()))
    lin = {"kernel": "linear"}
    gau = {"kernel": "gaussian", "sigma": cfg["sigma"], "distance": cfg["distance"]}
    keys = ["nhsic", "cka_linear", "hsic", "cka_gaussian", "cka_debiased", "mi_binning", "mi_kde"]
    acc = [{n: {f"{k}_{s}": 0.0 for k in keys for s in "xy"} for n in names} for _ in cps]
    ref = {"nhsic_x_x": 0.0, "nhsic_y_y": 0.0}
    maps = [{s: np.zeros((len(names) + 1,) * 2) for s in SIM} for _ in cps]
    cmaps = {n: {s: np.zeros((len(cps),) * 2) for s in SIM} for n in names}
    for s, e in ranges:
        xb = x[s:e]
        lb = labels[s:e]
        y1 = np.eye(c)[lb]
        kx = kernel(xb, cfg)
        rx = nocco(kx, cfg["eps"], cfg["centring"])
        ry = nocco(label_kernel(y1, cfg), cfg["eps"], cfg["label_centring"])
        ref["nhsic_x_x"] += float(np.trace(rx @ rx))
        ref["nhsic_y_y"] += float(np.trace(ry @ ry))
        yy = y1 @ y1.T
        for ci, cp in enumerate(cps):
            reps = [xb] + [np.array(cp["layers"][n], dtype=np.float64)[s:e] for n in names]
            for li, n in enumerate(names):
                t = reps[li + 1]
                a = acc[ci][n]
                kt = kernel(t, cfg)
                rt = nocco(kt, cfg["eps"], cfg["centring"])
                a["nhsic_x"] += float(np.trace(rx @ rt))
                a["nhsic_y"] += float(np.trace(ry @ rt))
                a["cka_linear_x"] += cka(kernel(xb, lin), kernel(t, lin))
                a["cka_linear_y"] += cka(yy, kernel(t, lin))
                a["hsic_x"] += hsic_b(kx, kt)
                a["hsic_y"] += hsic_b(label_kernel(y1, cfg), kt)
                a["cka_gaussian_x"] += cka(kernel(xb, gau), kernel(t, gau))
                a["cka_gaussian_y"] += cka(yy, kernel(t, gau))
                a["cka_debiased_x"] += cka_debiased(kernel(xb, lin), kernel(t, lin))
                a["cka_debiased_y"] += cka_debiased(yy, kernel(t, lin))
                bx, by = mi_binning(xb, t, lb, opts["bins"], *rng[n])
                a["mi_binning_x"] += bx
                a["mi_binning_y"] += by
                kx_, ky_ = mi_kde(t, lb, opts["noise_variance"])
                a["mi_kde_x"] += kx_
                a["mi_kde_y"] += ky_
            for sname in SIM:
                for i in range(len(reps)):
                    for j in range(len(reps)):
                        maps[ci][sname][i, j] += sim_value(sname, reps[i], reps[j], cfg)
        if len(cps) > 1:
            for n in names:
                per = [np.array(cp["layers"][n], dtype=np.float64)[s:e] for cp in cps]
                for sname in SIM:
                    for i in range(len(cps)):
                        for j in range(len(cps)):
                            cmaps[n][sname][i, j] += sim_value(sname, per[i], per[j], cfg)
    b = len(ranges)
    return {
        "batches": b,
        "reference": {k: v / b for k, v in ref.items()},
        "layers": [{n: {k: v / b for k, v in acc[ci][n].items()} for n in names}
                   for ci in range(len(cps))],
        "binning_range": {n: list(rng[n]) for n in names},
        "similarity": [{s: (maps[ci][s] / b).tolist() for s in SIM} for ci in range(len(cps))],
        "checkpoint_similarity": {n: {s: (cmaps[n][s] / b).tolist() for s in SIM} for n in names}
        if len(cps) > 1 else {},
    }


def make_case(name, seed, m, d, c, steps, widths, estimator, measure_options, duplicates=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((m, d))
    for k in range(duplicates):  # exact duplicate inputs (I(X;T) must use them)
        x[m - 1 - k] = x[k]
    labels = np.arange(m) % c
    rng.shuffle(labels)
    # Class-dependent shift so the layers carry label information.
    centres = rng.standard_normal((c, d)) * 1.5
    x = x + centres[labels]
    x = x.astype(np.float32).astype(np.float64)  # values a float32 dump would hold
    checkpoints = []
    w = [rng.standard_normal((a, b)) / math.sqrt(a) for a, b in zip([d] + widths[:-1], widths)]
    for ci, step in enumerate(steps):
        h = x
        layers = {}
        for li, width in enumerate(widths):
            w[li] = w[li] + 0.3 * rng.standard_normal(w[li].shape) / math.sqrt(w[li].shape[0])
            h = h @ w[li]
            if li < len(widths) - 1:
                h = np.tanh(h) if li % 2 == 0 else np.maximum(h, 0)
            layers[["l1", "l2", "l3", "out"][li] if li < len(widths) - 1 else "out"] = (
                h.astype(np.float32).astype(np.float64).tolist())
        checkpoints.append({"step": step, "layers": layers})
    case = {
        "name": name,
        "estimator": estimator,
        "measure_options": measure_options,
        "x": x.tolist(),
        "labels": labels.tolist(),
        "num_classes": c,
        "checkpoints": checkpoints,
    }
    case["expected"] = compute(case)
    return case


BASE = {"kernel": "gaussian", "distance": "squared", "sigma": 5, "eps": 1e-5, "centring": "right",
        "label_kernel": "linear", "label_centring": "none", "batch_size": None}

cases = [
    make_case("gaussian-default", 1, 64, 10, 4, [0, 50, 200], [6, 3, 4], dict(BASE),
              {"bins": 3, "noise_variance": 0.01}, duplicates=3),
    make_case("median-plain-both-batched", 2, 72, 8, 3, [0, 1], [5, 3],
              dict(BASE, sigma="median", distance="plain", centring="both", eps=1e-3,
                   label_kernel="gaussian", label_centring="right", batch_size=32),
              {"bins": 30, "noise_variance": 0.001}),
    make_case("linear", 3, 48, 6, 3, [0], [4, 3], dict(BASE, kernel="linear"),
              {"bins": 4, "noise_variance": 0.1}),
]
with open(OUT, "w") as f:
    json.dump({"generator": "tests/fixtures_measures/make_references.py", "numpy": np.__version__,
               "similarity_measures": SIM, "cases": cases}, f, indent=2)
    f.write("\n")  # the layout deno fmt keeps
print(f"wrote {OUT}: {len(cases)} cases")
for cs in cases:
    first = cs["expected"]["layers"][0]
    print(cs["name"], {k: round(v, 4) for k, v in first[list(first)[0]].items()})
