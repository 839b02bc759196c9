"""Tests of the infoplane package against a running service at $INFOPLANE_URL (skipped without).

tests/python_client_test.ts starts a service and runs these; by hand:
    INFOPLANE_URL=http://localhost:8000 python3 -m unittest discover -s clients/python/tests -v
"""

from __future__ import annotations

import collections
import os
import sys
import tempfile
import time
import unittest

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import infoplane  # noqa: E402

URL = os.environ.get("INFOPLANE_URL")

try:
    import torch
    from torch import nn

    HAVE_TORCH = True
except ImportError:  # pragma: no cover - depends on the machine
    HAVE_TORCH = False


def small_dump(m=96, steps=(0, 5), seed=0):
    """x, y and two tanh layers per checkpoint, through dump_arrays (the Keras/JAX path)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(m, 12)).astype(np.float32)
    y = rng.integers(0, 3, m)
    w1, w2 = rng.normal(size=(12, 8)), rng.normal(size=(8, 4))
    layers = {}
    for s in steps:
        h1 = np.tanh(x @ (w1 * (1 + s / 10)))
        layers[s] = {"dense1": h1, "dense2": np.tanh(h1 @ w2)}
    return infoplane.dump_arrays(x, y, layers)


def report(name, t0, polls):
    # On stderr, where unittest writes, so that it lands next to the test's name.
    sys.stderr.write(f"[{name}: {time.monotonic() - t0:.2f} s, {len(polls)} poll(s)] ")


@unittest.skipUnless(URL, "INFOPLANE_URL is not set: live tests skipped")
class LiveTest(unittest.TestCase):
    def setUp(self):
        self.client = infoplane.Client(URL, timeout=120)

    def test_sync_plain_arrays(self):
        polls = []
        t0 = time.monotonic()
        out = self.client.analyse(small_dump(), progress=polls.append)
        report("sync", t0, polls)
        self.assertEqual(polls, [], "a small dump should be answered 200 at once")
        self.assertEqual(out["status"], "done")
        self.assertEqual(out["m"], 96)
        self.assertEqual([c["step"] for c in out["checkpoints"]], [0, 5])
        self.assertEqual([l["name"] for l in out["checkpoints"][0]["layers"]], ["dense1", "dense2"])
        for layer in out["checkpoints"][1]["layers"]:
            self.assertTrue(np.isfinite(layer["nhsic_x"]) and np.isfinite(layer["nhsic_y"]))
        self.assertIn("summary", out)

    def test_forced_202_is_followed(self):
        dump = small_dump(seed=1)
        sync = self.client.analyse(dump, estimator={"batch_size": 32})
        polls = []
        t0 = time.monotonic()
        out = self.client.analyse(
            dump, estimator={"batch_size": 32}, queue=True, progress=polls.append
        )
        report("queued", t0, polls)
        self.assertGreaterEqual(len(polls), 1, "?async=true should answer 202 and be polled")
        self.assertEqual(out["status"], "done")
        self.assertNotEqual(out["id"], sync["id"])
        self.assertEqual(out["estimator"]["batch_size"], 32)
        self.assertEqual(out["checkpoints"], sync["checkpoints"])
        self.assertEqual(out["summary"], sync["summary"])

    def test_wait_false_get_wait_and_csv(self):
        first = self.client.analyse(small_dump(seed=2), queue=True, wait=False)
        self.assertIn(first["status"], ("queued", "running", "done"))
        done = self.client.wait(first)
        self.assertEqual(done["status"], "done")
        self.assertEqual(self.client.get(first["id"])["status"], "done")
        rows = self.client.csv(first["id"]).strip().splitlines()
        self.assertTrue(rows[0].startswith("step,layer_index,layer,"), rows[0])
        self.assertEqual(len(rows), 1 + 2 * 2)

    def test_npz_path_and_bytes(self):
        dump = small_dump(m=48, steps=(0,), seed=3)
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "dump.npz")
            infoplane.save_npz(path, dump)
            a = self.client.analyse(path)
        b = self.client.analyse(infoplane.to_npz(dump, compress=True))
        self.assertEqual(a["checkpoints"], b["checkpoints"])

    def test_errors_raise_api_error_with_field(self):
        dump = small_dump(seed=4)
        dump["5/dense2"] = dump["5/dense2"].copy()
        dump["5/dense2"][7, 1] = np.nan
        with self.assertRaises(infoplane.ApiError) as ctx:
            self.client.analyse(dump)
        e = ctx.exception
        self.assertEqual(e.status, 422)
        self.assertEqual(e.field, "5/dense2")
        self.assertTrue(e.title and e.detail, e)
        with self.assertRaises(infoplane.ApiError) as ctx:
            self.client.analyse(small_dump(seed=5), estimator={"kernel": "cosine"})
        self.assertEqual(ctx.exception.status, 422)
        self.assertEqual(ctx.exception.field, "estimator.kernel")
        with self.assertRaises(infoplane.ApiError) as ctx:
            self.client.get("no-such-analysis")
        self.assertEqual((ctx.exception.status, ctx.exception.field), (404, "id"))

    def test_train_with_uploaded_dataset(self):
        rng = np.random.default_rng(6)
        x = rng.random((300, 784), dtype=np.float32)
        y = rng.integers(0, 10, 300)
        request = {
            "model": {"preset": "mlp", "depth": 2},
            "methods": [{"name": "e2e"}],
            "tracking": {"probe_size": 64, "probe_batch": 32},
        }
        polls = []
        t0 = time.monotonic()
        out = self.client.train(request, dataset={"x": x, "y": y}, progress=polls.append)
        report("training", t0, polls)
        self.assertEqual(out["status"], "done")
        self.assertIsNotNone(out.get("result"))
        self.assertEqual(self.client.get_training(out["id"])["status"], "done")
        with self.assertRaises(infoplane.ApiError) as ctx:
            self.client.train({"dataset": {"name": "mnist"}, "seed": -1})
        self.assertEqual((ctx.exception.status, ctx.exception.field), (422, "seed"))

    @unittest.skipUnless(HAVE_TORCH, "torch is not installed: PyTorch recording test skipped")
    def test_torch_recorder_2048_samples_3_checkpoints(self):
        t0 = time.monotonic()
        torch.manual_seed(0)
        m, d, k = 2048, 784, 10
        g = torch.Generator().manual_seed(1)
        # MNIST-like: 10 class prototypes in [0,1]^784 plus noise.
        protos = torch.rand(k, d, generator=g)
        y = torch.randint(0, k, (m,), generator=g)
        x = (protos[y] + 0.5 * torch.randn(m, d, generator=g)).clamp(0, 1)
        model = nn.Sequential(
            collections.OrderedDict(
                [
                    ("fc1", nn.Linear(d, 128)), ("relu1", nn.ReLU()),
                    ("fc2", nn.Linear(128, 64)), ("relu2", nn.ReLU()),
                    ("fc3", nn.Linear(64, 32)), ("relu3", nn.ReLU()),
                    ("out", nn.Linear(32, k)),
                ]
            )
        )
        rec = infoplane.torch.Recorder(model, ["fc1", "fc2", "fc3", "out"])
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        checkpoints = (0, 20, 60)
        for step in range(checkpoints[-1] + 1):
            if step in checkpoints:
                rec.capture(x, y, step=step)
            if step == checkpoints[-1]:
                break
            i = (step * 128) % m
            loss = nn.functional.cross_entropy(model(x[i : i + 128]), y[i : i + 128])
            opt.zero_grad()
            loss.backward()
            opt.step()
        recorded = time.monotonic() - t0
        self.assertTrue(all((rec.arrays()[f"60/{n}"] >= 0).all() for n in ("fc1", "fc2", "fc3")))
        self.assertIn("ReLU 'relu2'", rec.sources["fc2"])

        polls = []
        t1 = time.monotonic()
        out = self.client.analyse(rec, progress=polls.append)
        sys.stderr.write(
            f"[torch: recorded 3 checkpoints in {recorded:.2f} s, analysed in "
            f"{time.monotonic() - t1:.2f} s with {len(polls)} poll(s)] "
        )
        self.assertEqual(out["status"], "done")
        self.assertEqual(out["m"], m)
        self.assertEqual(out["num_classes"], k)
        self.assertEqual([c["step"] for c in out["checkpoints"]], list(checkpoints))
        for cp in out["checkpoints"]:
            self.assertEqual([l["name"] for l in cp["layers"]], ["fc1", "fc2", "fc3", "out"])
        # Training a few steps makes the output layer carry more label information.
        first, last = out["checkpoints"][0]["layers"][-1], out["checkpoints"][-1]["layers"][-1]
        self.assertGreater(last["nhsic_y"], first["nhsic_y"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
